"""A minimal carbon-inclusion programme written straight into a workspace (shared fixture).

Until the ledger repository lands, tests that need a programme write what the storage
contract (``/work/inclusion-design.md``, ``store/models_inclusion.py``) says is there:

* a settlement lines file ``lake/inclusion/settlements/<id>.parquet`` (:data:`LINES_SCHEMA`)
  and its ``inclusion_settlements`` row (``seq``, ``lines_path`` relative to the workspace);
* ledger transactions as raw ``inclusion_transactions`` and ``inclusion_transfers`` rows
  (hashes are stand-ins, not the real chain: ``esgledger inclusion verify`` would refuse
  them; ``inclusion_balances`` is not written).

Hand-worked amounts (Shenzhen methodology 2021.1, mg = floor(distance_m x g/km)): a 12 km
metro ride = 12 000 m x 46.7 = 560 400 mg (560.4 g); a 6 km electric-bus ride = 6 000 m x
26.9 = 161 400 mg (161.4 g).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from esgledger.store import Workspace

__all__ = [
    "BUS_6KM_MG",
    "LINES_SCHEMA",
    "METRO_12KM_MG",
    "line",
    "lines_table",
    "post",
    "write_programme",
    "write_settlement",
]

METRO_12KM_MG = 560_400
BUS_6KM_MG = 161_400

#: Columns of a settlement lines file (inclusion-design.md, "Settlement").
LINES_SCHEMA = pa.schema(
    [
        ("operator", pa.string()),
        ("trip_id", pa.string()),
        ("account", pa.string()),
        ("mode", pa.string()),
        ("trip_date", pa.date32()),
        ("status", pa.string()),
        ("reason_code", pa.string()),
        ("reason", pa.string()),
        ("distance_m", pa.int64()),
        ("distance_rule", pa.string()),
        ("methodology", pa.string()),
        ("methodology_version", pa.string()),
        ("factor_id", pa.string()),
        ("factor_value", pa.string()),
        ("basis", pa.string()),
        ("reduction_mg", pa.int64()),
        ("points", pa.int64()),
        ("settlement_id", pa.string()),
        ("tx_id", pa.string()),
    ]
)

_FACTORS = {"metro": "46.7", "bus_electric": "26.9"}


def line(
    trip_id: str,
    account: str,
    *,
    mode: str = "metro",
    trip_date: dt.date = dt.date(2024, 3, 1),
    distance_m: int = 12_000,
    status: str = "settled",
    reason_code: str = "",
    operator: str = "sz-metro",
    settlement_id: str = "s1",
) -> dict[str, Any]:
    """One settlement line under shenzhen-transit 2021.1; a settled line's reduction is
    floor(distance_m x factor) [mg] and its points floor(mg / 1000) (1 g per point)."""
    factor = _FACTORS[mode]
    mg = int(Decimal(distance_m) * Decimal(factor)) if status == "settled" else 0
    return {
        "operator": operator,
        "trip_id": trip_id,
        "account": account,
        "mode": mode,
        "trip_date": trip_date,
        "status": status,
        "reason_code": reason_code or None,
        "reason": reason_code or None,
        "distance_m": distance_m,
        "distance_rule": "given",
        "methodology": "shenzhen-transit",
        "methodology_version": "2021.1",
        "factor_id": f"shenzhen-transit/2021.1/{mode}",
        "factor_value": factor,
        "basis": "pkm",
        "reduction_mg": mg,
        "points": mg // 1000,
        "settlement_id": settlement_id,
        "tx_id": f"tx-{settlement_id}" if status == "settled" else None,
    }


def lines_table(rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Lines as an Arrow table of :data:`LINES_SCHEMA`."""
    return pa.Table.from_pylist([dict(r) for r in rows], schema=LINES_SCHEMA)


def _hash(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def write_settlement(
    ws: Workspace, settlement_id: str, rows: Sequence[Mapping[str, Any]], *, seq: int
) -> Path:
    """Write a lines file and its ``inclusion_settlements`` row; the file's path."""
    from esgledger.store.models_inclusion import InclusionSettlement

    relative = Path("lake") / "inclusion" / "settlements" / f"{settlement_id}.parquet"
    path = ws.root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    table = lines_table(rows)
    pq.write_table(table, path)
    now = dt.datetime(2025, 1, 2, 8, 0, tzinfo=dt.UTC)
    statuses = table.column("status").to_pylist()
    with ws.session() as session:
        session.add(
            InclusionSettlement(
                id=settlement_id,
                seq=seq,
                through=max(table.column("trip_date").to_pylist()),
                as_of=now,
                created_at=now,
                created_by="test",
                lines_path=relative.as_posix(),
                sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                trips_settled=statuses.count("settled"),
                trips_refused=statuses.count("refused"),
                trips_pending=statuses.count("pending"),
                reduction_mg=sum(table.column("reduction_mg").to_pylist()),
                points=sum(table.column("points").to_pylist()),
                summary={},
            )
        )
    return path


def post(
    ws: Workspace,
    seq: int,
    kind: str,
    day: dt.date,
    transfers: Sequence[tuple[str, str, str, int]],
) -> None:
    """Insert one ledger transaction with its ``(debit, credit, asset, amount)`` transfers
    as raw rows (stand-in hashes)."""
    from esgledger.store.models_inclusion import InclusionTransaction, InclusionTransfer

    with ws.session() as session:
        session.add(
            InclusionTransaction(
                seq=seq,
                id=f"tx-{seq}",
                kind=kind,
                day=day,
                created_at=dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC),
                meta={},
                transfer_count=len(transfers),
                merkle_root=_hash("root", seq),
                prev_hash=_hash("prev", seq),
                hash=_hash("hash", seq),
            )
        )
        session.flush()
        for idx, (debit, credit, asset, amount) in enumerate(transfers):
            session.add(
                InclusionTransfer(
                    tx_seq=seq, idx=idx, debit=debit, credit=credit, asset=asset, amount=amount
                )
            )


def write_programme(ws: Workspace, year: int = 2024) -> None:
    """A small programme of ``year``: three accounts, two settlements.

    Settlement 1 (seq 1): p_a two 12 km metro rides (March), p_b one 6 km electric-bus ride
    (April), p_c one refused ride (``cap.daily_trips``), p_d one pending ride.
    Settlement 2 (seq 2): p_c's second metro ride settled (May); p_a's second ride clawed back
    (``clawback.duplicate``), so p_a keeps one ride.

    Current figures: 3 participants (p_a, p_b, p_c), 3 settled trips, 2 refused, 1 pending;
    avoided 560 400 x 2 + 161 400 = 1 282 200 mg (metro 1 120 800, bus_electric 161 400);
    March 560 400, April 161 400, May 560 400. Ledger: 1 841 points issued (1 120 + 161 +
    560), 560 clawed back, 350 redeemed (300 at a merchant, 50 by neutralisation), 100
    donated; 50 000 mg retired.
    """
    march, april, may = dt.date(year, 3, 4), dt.date(year, 4, 9), dt.date(year, 5, 20)
    first = [
        line("t1", "p_a", trip_date=march, settlement_id="s1"),
        line("t2", "p_a", trip_date=march, settlement_id="s1"),
        line("t3", "p_b", mode="bus_electric", distance_m=6_000, trip_date=april),
        line("t4", "p_c", trip_date=april, status="refused", reason_code="cap.daily_trips"),
        line("t5", "p_d", trip_date=april, status="pending", reason_code="consent.missing"),
    ]
    second = [
        line("t6", "p_c", trip_date=may, settlement_id="s2"),
        line(
            "t2",
            "p_a",
            trip_date=march,
            status="refused",
            reason_code="clawback.duplicate",
            settlement_id="s2",
        ),
    ]
    write_settlement(ws, "s1", first, seq=1)
    write_settlement(ws, "s2", second, seq=2)
    post(
        ws,
        1,
        "issuance",
        dt.date(year, 4, 11),
        [
            ("pool", "user:p_a", "pt", 1120),
            ("pool", "user:p_b", "pt", 161),
            ("reductions:shenzhen-transit", "user:p_a", "mg", 1_120_800),
            ("reductions:shenzhen-transit", "user:p_b", "mg", 161_400),
        ],
    )
    post(
        ws,
        2,
        "issuance",
        dt.date(year, 5, 22),
        [
            ("pool", "user:p_c", "pt", 560),
            ("reductions:shenzhen-transit", "user:p_c", "mg", 560_400),
        ],
    )
    post(
        ws,
        3,
        "clawback",
        dt.date(year, 5, 22),
        [
            ("user:p_a", "pool", "pt", 560),
            ("user:p_a", "reductions:shenzhen-transit", "mg", 560_400),
        ],
    )
    post(ws, 4, "redemption", dt.date(year, 6, 1), [("user:p_a", "merchant:coffee", "pt", 300)])
    post(ws, 5, "donation", dt.date(year, 6, 2), [("user:p_b", "charity:trees", "pt", 100)])
    post(
        ws,
        6,
        "neutralisation",
        dt.date(year, 6, 3),
        [("user:p_c", "cancelled:expo", "pt", 50), ("user:p_c", "cancelled:expo", "mg", 50_000)],
    )
