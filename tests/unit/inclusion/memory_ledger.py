"""An in-memory ledger store for the pure tests: chains transactions and days with the
functions of :mod:`esgledger.inclusion.ledger` exactly as the SQL repository does, keeps
balance counters and refuses overdrafts of non-source accounts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from esgledger.errors import LedgerError
from esgledger.inclusion import ledger as lg


@dataclass
class MemoryLedger:
    txs: list[tuple[lg.TxRow, tuple[lg.Transfer, ...]]] = field(default_factory=list)
    days: list[lg.DayRow] = field(default_factory=list)
    counters: dict[tuple[str, str], int] = field(default_factory=dict)

    def post(self, tx: lg.Transaction) -> lg.TxRow:
        deltas = tx.deltas()
        for (account, asset), delta in deltas.items():
            after = self.counters.get((account, asset), 0) + delta
            if after < 0 and not lg.is_source_account(account):
                raise LedgerError("overdraft", tx.id, account, asset, -after)
        prev = self.txs[-1][0].hash if self.txs else lg.GENESIS
        root = tx.root()
        row = lg.TxRow(
            len(self.txs) + 1,
            tx.id,
            tx.kind,
            tx.day,
            tx.meta,
            len(tx.transfers()),
            root,
            prev,
            tx.hash(prev, root),
        )
        self.txs.append((row, tx.transfers()))
        for key, delta in deltas.items():
            self.counters[key] = self.counters.get(key, 0) + delta
        self._day(tx.day)
        return row

    def _day(self, day: date) -> None:
        hashes = [row.hash for row, _ in self.txs if row.day == day]
        if self.days and self.days[-1].day == day:
            self.days.pop()
        prev_chain = self.days[-1].chain_hash if self.days else lg.GENESIS
        root = lg.day_root(hashes)
        self.days.append(
            lg.DayRow(day, len(hashes), root, prev_chain, lg.day_chain_hash(prev_chain, day, root))
        )

    def derived(self) -> list[tuple[str, str, int]]:
        return lg.derive_balances(t for _, transfers in self.txs for t in transfers)

    def stored(self) -> list[tuple[str, str, int]]:
        return sorted((a, s, v) for (a, s), v in self.counters.items())

    def verify(self) -> lg.VerifyReport:
        return lg.verify(self.txs, self.days, self.derived, self.stored)

    def tamper_amount(self, seq: int, idx: int, amount: int) -> None:
        row, transfers = self.txs[seq - 1]
        changed = list(transfers)
        changed[idx] = changed[idx]._replace(amount=amount)
        self.txs[seq - 1] = (row, tuple(changed))
