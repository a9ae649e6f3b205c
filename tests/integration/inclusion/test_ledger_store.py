"""The carbon-inclusion ledger in the database (/work/inclusion-design.md "Ledger";
STYLE-platform.md "The carbon-inclusion ledger": the balance invariant lives in the value
object, the database and ``verify()``), on SQLite and PostgreSQL: posting, readers, the
append-only triggers and CHECKs of migration 0012 against raw SQL, overdrafts, concurrent
redemptions of the same points, and tampering found by ``verify``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from esgledger.errors import LedgerError
from esgledger.inclusion import ledger as lg
from esgledger.store import Workspace
from esgledger.store import repository_inclusion as repo

D1 = date(2026, 3, 1)
D2 = date(2026, 3, 2)
AT = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


Line = tuple[str, int, int, str]


def _issue(ws: Workspace, lines: list[Line], tx_id: str = "iss-1") -> None:
    with ws.write_lock() as session:
        repo.post(
            session, lg.issuance(tx_id, D1, lines, {"lines_sha256": "ab" * 32}), created_at=AT
        )


def _sql(ws: Workspace, statement: str, **params: Any) -> None:
    with ws.write_lock() as session:
        session.execute(sa.text(statement), params)


class TestPostAndRead:
    def test_post_reads_back_and_verifies(self, workspace: Workspace) -> None:
        _issue(workspace, [("p_a", 560, 560400, "shenzhen-transit"), ("p_b", 40, 0, "x")])
        with workspace.write_lock() as session:
            stored = repo.post(session, lg.redemption("r-1", D2, "p_a", 60, "merchant:m1"))
            assert (stored.seq, stored.kind, stored.transfer_count) == (2, "redemption", 1)
        with workspace.session() as session:
            assert repo.balances(session, "user:p_a") == {"pt": 500, "mg": 560400}
            assert repo.balances(session, "pool") == {"pt": -600}
            assert repo.balances(session, "reductions:shenzhen-transit") == {"mg": -560400}
            moves = repo.transfers_of(session, "user:p_a")
            assert [(m["tx_id"], m["kind"], m["debit"], m["amount"]) for m in moves] == [
                ("iss-1", "issuance", "pool", 560),
                ("iss-1", "issuance", "reductions:shenzhen-transit", 560400),
                ("r-1", "redemption", "user:p_a", 60),
            ]
            days = repo.day_rows(session)
            assert [(d.day, d.tx_count) for d in days] == [(D1, 1), (D2, 1)]
            assert days[1].prev_chain == days[0].chain_hash
            txs = list(repo.transactions_in_order(session, chunk=1))
            assert [tx.id for tx, _ in txs] == ["iss-1", "r-1"]
            assert txs[1][0].prev_hash == txs[0][0].hash
            assert txs[0][0].prev_hash == lg.GENESIS
            report = repo.verify_ledger(session)
            assert report.ok, report.issues
            proof = repo.proof(session, "iss-1", 2)
            assert proof.check()
            assert proof.transfer.amount == 560400

    def test_post_many_keeps_one_day_root_over_many_transactions(
        self, workspace: Workspace
    ) -> None:
        txs = [
            lg.issuance(f"iss-{n}", D1, [(f"p{n}-{i}", 1, 10, "transit") for i in range(50)])
            for n in range(5)
        ]
        with workspace.write_lock() as session:
            rows = repo.post_many(session, iter(txs), created_at=AT)
        assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
        with workspace.session() as session:
            (day,) = repo.day_rows(session)
            assert day.tx_count == 5
            assert day.root == lg.day_root([r.hash for r in rows])
            assert repo.verify_ledger(session, chunk=120).ok
            assert repo.proof(session, "iss-3", 77).check()

    def test_a_posted_id_and_a_day_going_back_are_refused(self, workspace: Workspace) -> None:
        _issue(workspace, [("p_a", 10, 0, "x")])
        with pytest.raises(LedgerError, match="already") as caught, workspace.write_lock() as s:
            repo.post(s, lg.redemption("iss-1", D2, "p_a", 1, "merchant:m"))
        assert caught.value.transaction == "iss-1"
        with workspace.write_lock() as session:
            repo.post(session, lg.redemption("r-1", D2, "p_a", 1, "merchant:m"))
        with pytest.raises(LedgerError, match="only go forward"), workspace.write_lock() as s:
            repo.post(s, lg.redemption("r-0", D1, "p_a", 1, "merchant:m"))

    def test_an_overdraft_names_account_asset_and_shortfall_and_writes_nothing(
        self, workspace: Workspace
    ) -> None:
        _issue(workspace, [("p_a", 100, 5000, "x")])
        with pytest.raises(LedgerError) as caught, workspace.write_lock() as session:
            repo.post(session, lg.neutralisation("n-1", D2, "p_a", 50, 7000, "cancelled:expo"))
        error = caught.value
        assert (error.transaction, error.account, error.asset, error.shortfall) == (
            "n-1",
            "user:p_a",
            "mg",
            2000,
        )
        with pytest.raises(LedgerError) as caught, workspace.write_lock() as session:
            repo.post(session, lg.redemption("r-9", D2, "p_nobody", 5, "merchant:m"))
        assert (caught.value.account, caught.value.shortfall) == ("user:p_nobody", 5)
        with workspace.session() as session:
            assert repo.balances(session, "user:p_a") == {"pt": 100, "mg": 5000}
            assert repo.balances(session, "cancelled:expo") == {}
            assert repo.verify_ledger(session).ok


class TestTheDatabaseRefuses:
    """Raw SQL, not through the repository: the database itself guards the ledger."""

    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE inclusion_transfers SET amount = amount + 1",
            "DELETE FROM inclusion_transfers",
            "UPDATE inclusion_transactions SET kind = 'expiry'",
            "DELETE FROM inclusion_transactions",
        ],
    )
    def test_update_and_delete_of_the_ledger(self, workspace: Workspace, statement: str) -> None:
        _issue(workspace, [("p_a", 10, 10, "x")])
        with pytest.raises(DBAPIError, match="append-only"):
            _sql(workspace, statement)
        with workspace.session() as session:
            assert repo.verify_ledger(session).ok

    @pytest.mark.parametrize("table", ["inclusion_transfers", "inclusion_transactions"])
    def test_truncate_on_postgresql(self, workspace: Workspace, table: str) -> None:
        with workspace.session() as session:
            if session.get_bind().dialect.name != "postgresql":
                pytest.skip("SQLite has no TRUNCATE")
        _issue(workspace, [("p_a", 10, 10, "x")])
        with pytest.raises(DBAPIError, match="append-only"):
            _sql(workspace, f"TRUNCATE {table} CASCADE")

    @pytest.mark.parametrize(
        ("debit", "credit", "amount"),
        [
            ("pool", "user:p_a", 0),
            ("pool", "user:p_a", -5),
            ("user:p_a", "user:p_a", 5),
            ("pool", None, 5),
            (None, "user:p_a", 5),
        ],
        ids=["zero", "negative", "same-account", "no-credit", "no-debit"],
    )
    def test_malformed_transfers(
        self, workspace: Workspace, debit: str | None, credit: str | None, amount: int
    ) -> None:
        _issue(workspace, [("p_a", 10, 10, "x")])
        with pytest.raises(IntegrityError):
            _sql(
                workspace,
                "INSERT INTO inclusion_transfers (tx_seq, idx, debit, credit, asset, amount) "
                "VALUES (1, 99, :debit, :credit, 'pt', :amount)",
                debit=debit,
                credit=credit,
                amount=amount,
            )

    def test_overdraft_by_raw_sql(self, workspace: Workspace) -> None:
        _issue(workspace, [("p_a", 10, 10, "x")])
        with pytest.raises(IntegrityError, match="no_overdraft"):
            _sql(
                workspace,
                "UPDATE inclusion_balances SET balance = balance - 11 "
                "WHERE account = 'user:p_a' AND asset = 'pt'",
            )
        with pytest.raises(IntegrityError, match="no_overdraft"):
            _sql(
                workspace,
                "INSERT INTO inclusion_balances (account, asset, balance, may_go_negative) "
                "VALUES ('user:p_z', 'pt', -1, :no)",
                no=False,
            )
        _sql(  # a source may go negative
            workspace,
            "UPDATE inclusion_balances SET balance = balance - 1 WHERE account = 'pool'",
        )


class TestConcurrentRedemptions:
    def test_two_redemptions_of_the_same_points_one_wins(self, workspace: Workspace) -> None:
        _issue(workspace, [("p_a", 100, 0, "x")])
        barrier = threading.Barrier(2)
        outcomes: dict[str, object] = {}

        def redeem(name: str) -> None:
            ws = Workspace.open(workspace.root)
            try:
                barrier.wait(timeout=30)
                with ws.write_lock() as session:
                    repo.post(session, lg.redemption(name, D2, "p_a", 70, "merchant:m1"))
                outcomes[name] = "ok"
            except LedgerError as error:
                outcomes[name] = error
            finally:
                ws.close()

        threads = [threading.Thread(target=redeem, args=(n,)) for n in ("r-a", "r-b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert sorted(map(str, outcomes)) == ["r-a", "r-b"]
        won = [n for n, o in outcomes.items() if o == "ok"]
        lost = [o for o in outcomes.values() if isinstance(o, LedgerError)]
        assert len(won) == 1
        assert len(lost) == 1
        assert (lost[0].account, lost[0].asset, lost[0].shortfall) == ("user:p_a", "pt", 40)
        with workspace.session() as session:
            assert repo.balances(session, "user:p_a") == {"pt": 30}
            assert repo.verify_ledger(session).ok


def _drop_trigger(session: Any, table: str) -> None:
    """What a DBA with the owner's rights could do: drop the append-only trigger."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text(f"DROP TRIGGER {table}_append_only ON {table}"))
    else:
        session.execute(sa.text(f"DROP TRIGGER {table}_no_update"))


TAMPERS: dict[str, Callable[[Any], None]] = {
    "amount": lambda s: s.execute(
        sa.text("UPDATE inclusion_transfers SET amount = 61 WHERE tx_seq = 2 AND idx = 0")
    ),
    "meta": lambda s: s.execute(
        sa.text("UPDATE inclusion_transactions SET meta = :m WHERE seq = 2"),
        {"m": '{"item": "free lunch"}'},
    ),
}


class TestTampering:
    @pytest.mark.parametrize("what", sorted(TAMPERS))
    def test_verify_names_the_changed_transaction_first(
        self, workspace: Workspace, what: str
    ) -> None:
        _issue(workspace, [("p_a", 560, 1000, "x")])
        with workspace.write_lock() as session:
            repo.post(
                session, lg.redemption("r-1", D2, "p_a", 60, "merchant:m1", meta={"item": "c"})
            )
            repo.post(session, lg.donation("d-1", D2, "p_a", 5, "charity:c1"))
        table = "inclusion_transfers" if what == "amount" else "inclusion_transactions"
        with workspace.write_lock() as session:
            _drop_trigger(session, table)
            TAMPERS[what](session)
        with workspace.session() as session:
            report = repo.verify_ledger(session)
        assert not report.ok
        assert report.first is not None
        assert report.first.tx_seq == 2
        assert report.first.code == ("tx-root" if what == "amount" else "tx-hash")
        assert "r-1" in report.first.text
        if what == "amount":
            assert any(i.code == "balance" and i.account == "merchant:m1" for i in report.issues)
