"""``service.settle`` end to end on both backends: import, bulk consent, settle, ledger.

/work/issue15.md "Validation and scale": the settlement's issuance transactions (at most
``ISSUANCE_CHUNK`` accounts each) are built one at a time while they are posted; the
hand-worked amount (Shenzhen 2021.1) is a 12 km metro ride = 560 400 mg = 560 points.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa

from esgledger.access.principal import Principal
from esgledger.inclusion import accounts, service
from esgledger.ingest.importers import import_file
from esgledger.store import Workspace
from esgledger.store import repository_inclusion as repo
from esgledger.store.models_inclusion import InclusionAccount

ME = Principal.local()


def _trips_csv(folder: Path, cards: int) -> Path:
    path = folder / "trips.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["trip_id", "account", "operator", "mode", "start_time", "end_time", "distance_km"]
        )
        for i in range(cards):
            writer.writerow(
                [f"T{i}", f"card-{i}", "SZMTR", "metro", "2026-03-02T08:00:00+08:00",
                 "2026-03-02T08:30:00+08:00", "12"]
            )  # fmt: skip
    return path


def test_settle_posts_one_issuance_per_chunk_of_accounts(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "ISSUANCE_CHUNK", 2)
    service.use(workspace, ME, "shenzhen-transit")
    import_file(workspace, "trips", _trips_csv(tmp_path, 5))
    with workspace.write_lock() as session:
        names = sorted(session.scalars(sa.select(InclusionAccount.pseudonym)))
        # four of five accounts opt in (bulk); the fifth stays pending
        granted = accounts.grant_many(
            session, names[:4], "transit", datetime.fromisoformat("2026-03-01T00:00+08:00"), "t"
        )
    assert granted == 4
    result = service.settle(
        workspace, ME, as_of=datetime.fromisoformat("2026-03-06T12:00:00+08:00")
    )
    assert (result.settled, result.pending, result.refused) == (4, 1, 0)
    assert result.reduction_mg == 4 * 560_400
    assert result.points == 4 * 560
    assert result.transactions == 2  # 4 accounts, 2 per transaction
    with workspace.session() as session:
        for name in names[:4]:
            assert repo.balances(session, f"user:{name}") == {"pt": 560, "mg": 560_400}
        assert repo.balances(session, f"user:{names[4]}") == {}
        txs = [row for row, _transfers in repo.transactions_in_order(session)]
        assert [tx.id for tx in txs] == [
            f"iss-{result.settlement_id}-00000",
            f"iss-{result.settlement_id}-00001",
        ]
    assert service.verify(workspace, ME).first is None


def test_issuance_groups_cross_batches_in_order() -> None:
    sums = pa.table(
        {
            "tx_id": ["a", "a", "a", "b", "c", "c"],
            "account": ["p1", "p2", "p3", "p4", "p5", "p6"],
            "methodology": ["m"] * 6,
            "points": pa.array([1, 2, 3, 4, 5, 6], pa.int64()),
            "mg": pa.array([10, 20, 30, 40, 50, 60], pa.int64()),
        }
    )
    for batch in (1, 2, 4, 100):
        groups = list(service._issuance_groups(sums, batch=batch))
        assert [g[0] for g in groups] == ["a", "b", "c"]
        assert groups[0][1] == [("p1", 1, 10, "m"), ("p2", 2, 20, "m"), ("p3", 3, 30, "m")]
        assert groups[2][1] == [("p5", 5, 50, "m"), ("p6", 6, 60, "m")]
    assert list(service._issuance_groups(sums.slice(0, 0))) == []


def test_a_ledger_refusal_while_building_leaves_no_settlement(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from esgledger.errors import LedgerError
    from esgledger.inclusion import ledger

    service.use(workspace, ME, "shenzhen-transit")
    import_file(workspace, "trips", _trips_csv(tmp_path, 3))
    with workspace.write_lock() as session:
        names = sorted(session.scalars(sa.select(InclusionAccount.pseudonym)))
        accounts.grant_many(
            session, names, "transit", datetime.fromisoformat("2026-03-01T00:00+08:00"), "t"
        )

    def refuse(*_args: object, **_kwargs: object) -> ledger.Transaction:
        raise LedgerError("refused for the test")

    monkeypatch.setattr(ledger, "issuance", refuse)
    with pytest.raises(LedgerError, match="refused for the test"):
        service.settle(workspace, ME, as_of=datetime.fromisoformat("2026-03-06T12:00+08:00"))
    assert service.settlement_files(workspace) == []
    assert not list((workspace.root / service.SETTLEMENTS_DIR).glob("*.parquet"))
    with workspace.session() as session:
        assert list(repo.transactions_in_order(session)) == []
