"""The carbon-inclusion ledger as values (/work/inclusion-design.md "Ledger";
STYLE-platform.md "The carbon-inclusion ledger"): balanced construction, builders, the
greedy pairing into transfers, RFC 6962 Merkle hashing and proofs, statement proofs and
``verify()``, with a hypothesis state machine over every kind of transaction."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from ledger_text import one, parse
from memory_ledger import MemoryLedger

from esgledger.errors import EsgledgerError, LedgerError
from esgledger.inclusion import ledger as lg
from esgledger.inclusion.ledger import Posting, Transaction, Transfer

D1 = date(2026, 3, 1)
D2 = date(2026, 3, 2)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- construction ---------------------------------------------------------------------------


class TestConstruction:
    def test_hand_worked_issuance_parses_to_its_transfers(self) -> None:
        tx = one(
            """
2026-03-01 issuance iss-1
  pool -> user:p_a  560 pt
  reductions:shenzhen-transit -> user:p_a 560400 mg
"""
        )
        assert tx.transfers() == (
            Transfer(0, "pool", "user:p_a", "pt", 560),
            Transfer(1, "reductions:shenzhen-transit", "user:p_a", "mg", 560400),
        )
        assert tx.deltas() == {
            ("pool", "pt"): -560,
            ("user:p_a", "pt"): 560,
            ("reductions:shenzhen-transit", "mg"): -560400,
            ("user:p_a", "mg"): 560400,
        }

    def test_unbalanced_postings_are_refused_naming_the_asset(self) -> None:
        with pytest.raises(LedgerError) as caught:
            one(
                """
2026-03-02 redemption r-1
  user:p_a  -60 pt
  merchant:m1  59 pt
"""
            )
        assert caught.value.transaction == "r-1"
        assert caught.value.asset == "pt"
        assert "sum to -1" in str(caught.value)

    def test_each_asset_balances_on_its_own(self) -> None:
        with pytest.raises(LedgerError, match="pt postings sum to -5"):
            Transaction(
                "x",
                "redemption",
                D1,
                (
                    Posting("user:a", "pt", -5),
                    Posting("merchant:m", "mg", 5),
                ),
            )

    @pytest.mark.parametrize("amount", [1.0, True, "5", None])
    def test_amounts_are_ints_never_floats_or_bools(self, amount: object) -> None:
        with pytest.raises(LedgerError, match="integers"):
            Posting("user:a", "pt", amount)  # type: ignore[arg-type]

    def test_zero_postings_and_empty_transactions_are_refused(self) -> None:
        with pytest.raises(LedgerError, match="moves nothing"):
            Posting("user:a", "pt", 0)
        with pytest.raises(LedgerError, match="no postings"):
            Transaction("x", "redemption", D1, ())

    def test_unknown_asset_is_refused(self) -> None:
        with pytest.raises(LedgerError, match="unknown asset") as caught:
            Posting("user:a", "kg", 5)
        assert caught.value.asset == "kg"

    @pytest.mark.parametrize(
        "account",
        [
            "user",
            "user:",
            "bank:x",
            "pool:x",
            "expired:x",
            "user:a|b",
            "user:a:b",
            "user:-a",
            "User:a",
            " user:a",
            "user:" + "a" * 65,
        ],
    )
    def test_malformed_accounts_are_refused(self, account: str) -> None:
        with pytest.raises(LedgerError, match="malformed ledger account"):
            Posting(account, "pt", 1)

    @pytest.mark.parametrize(
        "account",
        [
            "pool",
            "expired",
            "user:p_a",
            "merchant:m.1",
            "charity:c-1",
            "project:P1",
            "cancelled:expo-2026",
            "reductions:shenzhen-transit",
        ],
    )
    def test_the_grammar_accepts_every_kind_of_account(self, account: str) -> None:
        assert Posting(account, "pt", 1).account == account

    def test_one_account_on_both_sides_of_an_asset_is_refused(self) -> None:
        with pytest.raises(LedgerError, match="both debits and credits"):
            one(
                """
2026-03-01 redemption x
  user:a -5 pt
  user:a 5 pt
"""
            )

    def test_meta_refuses_floats_and_is_canonical(self) -> None:
        with pytest.raises(LedgerError, match="float"):
            lg.redemption("r", D1, "a", 1, "merchant:m", meta={"price": 1.5})
        tx = lg.redemption("r", D1, "a", 1, "merchant:m", meta={"b": [1, {"z": "碳"}], "a": None})
        assert tx.header() == (
            '{"day":"2026-03-01","id":"r","kind":"redemption",'
            '"meta":{"a":null,"b":[1,{"z":"碳"}]},"transfer_count":1}'
        )

    def test_ledger_error_sits_in_the_error_tree(self) -> None:
        error = LedgerError("short", "r-2", "user:a", "pt", 40)
        assert isinstance(error, EsgledgerError)
        assert isinstance(error, ValueError)
        assert (error.transaction, error.account, error.asset, error.shortfall) == (
            "r-2",
            "user:a",
            "pt",
            40,
        )


class TestPairing:
    def test_a_source_then_its_destinations_gives_one_transfer_each(self) -> None:
        tx = one(
            """
2026-03-01 issuance i
  pool -10 pt
  user:a 4 pt
  user:b 6 pt
"""
        )
        assert tx.transfers() == (
            Transfer(0, "pool", "user:a", "pt", 4),
            Transfer(1, "pool", "user:b", "pt", 6),
        )

    def test_greedy_fifo_splits_a_posting_across_open_ones(self) -> None:
        tx = one(
            """
2026-03-01 clawback c
  user:a -3 pt
  user:b -5 pt
  pool 4 pt
  expired 4 pt
"""
        )
        assert tx.transfers() == (
            Transfer(0, "user:a", "pool", "pt", 3),
            Transfer(1, "user:b", "pool", "pt", 1),
            Transfer(2, "user:b", "expired", "pt", 4),
        )

    def test_of_transfers_gives_back_exactly_the_transfers(self) -> None:
        moves = [
            ("user:a", "merchant:m", "pt", 3),
            ("pool", "user:b", "pt", 9),
            ("user:c", "merchant:m", "pt", 2),
        ]
        tx = Transaction.of_transfers("t", "redemption", D1, moves)
        assert [(t.debit, t.credit, t.asset, t.amount) for t in tx.transfers()] == moves


class TestBuilders:
    def test_issuance_pairs_each_line_with_its_methodology(self) -> None:
        tx = lg.issuance(
            "iss-1",
            D1,
            [("a", 5, 100, "transit"), ("b", 0, 200, "cycling"), ("c", 7, 300, "transit")],
            {"settlement": "s-1"},
        )
        assert tx.kind == "issuance"
        assert {(t.debit, t.credit, t.asset, t.amount) for t in tx.transfers()} == {
            ("pool", "user:a", "pt", 5),
            ("pool", "user:c", "pt", 7),
            ("reductions:transit", "user:a", "mg", 100),
            ("reductions:transit", "user:c", "mg", 300),
            ("reductions:cycling", "user:b", "mg", 200),
        }
        assert len(tx.transfers()) == 5  # the zero points of b are skipped

    def test_issuance_chunks_cap_the_accounts_per_transaction(self) -> None:
        lines = [(f"p{i // 2}", 1, 10, m) for i, m in enumerate(["transit", "cycling"] * 5)]
        txs = list(lg.issuance_chunks("s-1", D1, lines, {"settlement": "s-1"}, accounts=2))
        assert [tx.id for tx in txs] == ["s-1-00001", "s-1-00002", "s-1-00003"]
        assert [tx.meta for tx in txs][2] == {"settlement": "s-1", "chunk": 3}
        credited = [{t.credit for t in tx.transfers()} for tx in txs]
        assert credited == [{"user:p0", "user:p1"}, {"user:p2", "user:p3"}, {"user:p4"}]
        assert sum(len(tx.transfers()) for tx in txs) == 20
        assert lg.ISSUANCE_CHUNK_ACCOUNTS == 2048

    def test_issuance_refuses_negative_lines(self) -> None:
        with pytest.raises(LedgerError, match="negative"):
            lg.issuance("i", D1, [("a", -1, 0, "transit")])

    def test_redemption_pays_the_counterparty_and_retires_grams(self) -> None:
        tx = lg.redemption("r", D1, "a", 60, "cancelled:expo", 5000)
        assert [(t.debit, t.credit, t.asset, t.amount) for t in tx.transfers()] == [
            ("user:a", "cancelled:expo", "pt", 60),
            ("user:a", "cancelled:expo", "mg", 5000),
        ]
        with pytest.raises(LedgerError, match="cancelled"):
            lg.redemption("r", D1, "a", 60, "merchant:m", 5000)

    def test_donation_neutralisation_expiry_clawback_aggregation(self) -> None:
        moves = {
            "donation": lg.donation("d", D1, "a", 10, "charity:c"),
            "neutralisation": lg.neutralisation("n", D1, "a", 10, 900, "cancelled:e"),
            "expiry": lg.expiry("e", D1, [("a", 3), ("b", 4)]),
            "clawback": lg.clawback("c", D1, [("a", 1, 10, "transit")]),
            "aggregation": lg.aggregation("g", D1, "P1", [("a", 10), ("b", 20)]),
        }
        got = {
            kind: [(t.debit, t.credit, t.asset, t.amount) for t in tx.transfers()]
            for kind, tx in moves.items()
        }
        assert {kind: tx.kind for kind, tx in moves.items()} == {k: k for k in moves}
        assert got == {
            "donation": [("user:a", "charity:c", "pt", 10)],
            "neutralisation": [
                ("user:a", "cancelled:e", "pt", 10),
                ("user:a", "cancelled:e", "mg", 900),
            ],
            "expiry": [("user:a", "expired", "pt", 3), ("user:b", "expired", "pt", 4)],
            "clawback": [("user:a", "pool", "pt", 1), ("user:a", "reductions:transit", "mg", 10)],
            "aggregation": [("user:a", "project:P1", "mg", 10), ("user:b", "project:P1", "mg", 20)],
        }
        with pytest.raises(LedgerError, match="charity"):
            lg.donation("d", D1, "a", 10, "merchant:m")


# --- hashes and proofs ----------------------------------------------------------------------


def rfc6962_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 section 2.1 MTH over leaf hashes: split at the largest power of two < n."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + rfc6962_root(leaves[:k]) + rfc6962_root(leaves[k:])).digest()


class TestMerkle:
    a = sha(b"\x00a")
    b = sha(b"\x00b")
    c = sha(b"\x00c")

    def node(self, left: str, right: str) -> str:
        return sha(b"\x01" + bytes.fromhex(left) + bytes.fromhex(right))

    def test_leaves_and_nodes_are_domain_separated(self) -> None:
        assert lg.leaf_hash("a") == self.a
        assert lg.node_hash(self.a, self.b) == self.node(self.a, self.b)
        assert lg.merkle_root([]) == sha(b"")

    def test_one_leaf_is_its_own_root_with_an_empty_proof(self) -> None:
        assert lg.merkle_root([self.a]) == self.a
        assert lg.merkle_proof([self.a], 0) == ()
        assert lg.verify_proof(self.a, (), self.a)

    def test_two_leaves(self) -> None:
        root = self.node(self.a, self.b)
        assert lg.merkle_root([self.a, self.b]) == root
        assert lg.merkle_proof([self.a, self.b], 0) == (("R", self.b),)
        assert lg.merkle_proof([self.a, self.b], 1) == (("L", self.a),)
        assert lg.verify_proof(self.b, (("L", self.a),), root)
        assert not lg.verify_proof(self.b, (("R", self.a),), root)

    def test_three_leaves_promote_the_odd_one(self) -> None:
        root = self.node(self.node(self.a, self.b), self.c)
        leaves = [self.a, self.b, self.c]
        assert lg.merkle_root(leaves) == root
        assert lg.merkle_proof(leaves, 2) == (("L", self.node(self.a, self.b)),)
        assert lg.merkle_proof(leaves, 0) == (("R", self.b), ("R", self.c))
        for index, leaf in enumerate(leaves):
            assert lg.verify_proof(leaf, lg.merkle_proof(leaves, index), root)
        # duplication (CVE-2012-2459) would make [a, b, c] and [a, b, c, c] share a root
        assert lg.merkle_root([*leaves, self.c]) != root

    @given(st.integers(min_value=1, max_value=40), st.data())
    def test_equals_rfc6962_and_every_proof_verifies(self, n: int, data: st.DataObject) -> None:
        leaves = [lg.leaf_hash(str(i)) for i in range(n)]
        root = lg.merkle_root(leaves)
        assert root == rfc6962_root([bytes.fromhex(h) for h in leaves]).hex()
        index = data.draw(st.integers(0, n - 1))
        proof = lg.merkle_proof(leaves, index)
        assert lg.verify_proof(leaves[index], proof, root)
        other = lg.leaf_hash("not in the tree")
        assert not lg.verify_proof(other, proof, root)

    def test_transaction_hash_by_hand(self) -> None:
        tx = lg.redemption("r-1", D2, "p_a", 60, "merchant:m1")
        leaf = sha(b"\x00" + b"r-1|0|user:p_a|merchant:m1|pt|60")
        assert tx.root() == leaf
        header = '{"day":"2026-03-02","id":"r-1","kind":"redemption","meta":{},"transfer_count":1}'
        assert tx.hash(lg.GENESIS) == sha((lg.GENESIS + header + leaf).encode())
        assert lg.day_chain_hash(lg.GENESIS, D2, leaf) == sha(
            (lg.GENESIS + "2026-03-02" + leaf).encode()
        )


def _sample() -> MemoryLedger:
    ledger = MemoryLedger()
    for tx in parse(
        """
2026-03-01 issuance iss-1 {"lines_sha256": "ab"}
  pool -> user:p_a 560 pt
  pool -> user:p_b 40 pt
  reductions:shenzhen-transit -> user:p_a 560400 mg
2026-03-01 redemption r-1
  user:p_a -> merchant:m1 60 pt
2026-03-02 expiry e-1
  user:p_b -> expired 40 pt
"""
    ):
        ledger.post(tx)
    return ledger


class TestProofsAndVerify:
    def test_statement_proof_checks_and_survives_json(self) -> None:
        ledger = _sample()
        row, transfers = ledger.txs[0]
        hashes = [r.hash for r, _ in ledger.txs if r.day == row.day]
        proof = lg.statement_proof(row, transfers, 2, hashes, ledger.days[0])
        assert proof.check()
        again = lg.StatementProof.from_dict(proof.as_dict())
        assert again == proof
        assert again.check()

    @pytest.mark.parametrize(
        "field", ["transfer", "meta", "prev_hash", "tx_path", "day_root", "prev_chain"]
    )
    def test_statement_proof_fails_when_anything_changes(self, field: str) -> None:
        ledger = _sample()
        row, transfers = ledger.txs[0]
        proof = lg.statement_proof(
            row, transfers, 0, [row.hash, ledger.txs[1][0].hash], ledger.days[0]
        )
        data = proof.as_dict()
        changed = {
            "transfer": {**data["transfer"], "amount": 561},
            "meta": {"lines_sha256": "cd"},
            "prev_hash": "1" * 64,
            "tx_path": [["L", data["tx_path"][0][1]]],
            "day_root": "2" * 64,
            "prev_chain": "3" * 64,
        }[field]
        assert not lg.StatementProof.from_dict({**data, field: changed}).check()

    def test_a_clean_ledger_verifies(self) -> None:
        report = _sample().verify()
        assert report.ok
        assert report.issues == ()
        assert report.first is None

    def test_a_changed_amount_is_named_at_its_transaction_first(self) -> None:
        ledger = _sample()
        ledger.tamper_amount(2, 0, 61)
        report = ledger.verify()
        assert not report.ok
        assert report.first is not None
        assert (report.first.code, report.first.tx_seq) == ("tx-root", 2)
        assert any(i.code == "balance" and i.account == "user:p_a" for i in report.issues)
        assert report.first.text_zh == "交易默克尔根不符"

    def test_a_broken_link_and_a_wrong_counter_are_named(self) -> None:
        ledger = _sample()
        row, transfers = ledger.txs[1]
        ledger.txs[1] = (dataclasses.replace(row, prev_hash="f" * 64), transfers)
        ledger.counters[("merchant:m1", "pt")] = 59
        report = ledger.verify()
        codes = [(i.code, i.tx_seq, i.account) for i in report.issues]
        assert ("tx-link", 2, None) in codes
        assert ("tx-hash", 2, None) in codes
        assert ("balance", None, "merchant:m1") in codes
        assert report.first is not None
        assert report.first.code == "tx-link"

    def test_day_rows_are_checked(self) -> None:
        ledger = _sample()
        ledger.days[1] = lg.DayRow(
            D2, 1, "0" * 64, ledger.days[1].prev_chain, ledger.days[1].chain_hash
        )
        codes = {i.code for i in ledger.verify().issues}
        assert {"day-root", "day-chain"} <= codes
        ledger = _sample()
        ledger.days.pop()
        assert [i.code for i in ledger.verify().issues] == ["day-missing"]

    def test_the_issuance_lines_hook_runs_on_issuance_only(self) -> None:
        ledger = _sample()
        seen: list[str] = []

        def lines_check(tx: lg.TxRow, transfers: object) -> list[lg.LedgerIssue]:
            seen.append(tx.id)
            if tx.meta.get("lines_sha256") != "ab":
                return []
            return [lg.LedgerIssue("issuance-lines", "lines file differs", tx.seq, tx.day)]

        report = lg.verify(
            ledger.txs, ledger.days, ledger.derived, ledger.stored, lines_check=lines_check
        )
        assert seen == ["iss-1"]
        assert report.first is not None
        assert report.first.code == "issuance-lines"
        assert lg.check_issuance_lines(ledger.txs, lines_check)[0].tx_seq == 1

    def test_negative_non_source_balances_are_named(self) -> None:
        issues = lg.check_negative_balances(
            [("pool", "pt", -5), ("user:a", "pt", -1), ("reductions:x", "mg", -3)]
        )
        assert [(i.code, i.account) for i in issues] == [("negative", "user:a")]


# --- the state machine ----------------------------------------------------------------------

USERS = ("p0", "p1", "p2", "p3")
METHODS = ("transit", "cycling")


class LedgerMachine(RuleBasedStateMachine):
    """Issue, redeem, donate, neutralise, expire, claw back and aggregate in any order; after
    every step the ledger balances per asset, the counters equal the balances derived from the
    transfers and ``verify()`` is ok. Overdrafts are refused and change nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.ledger = MemoryLedger()
        self.number = 0
        self.day = D1

    def _id(self, kind: str) -> str:
        self.number += 1
        return f"{kind}-{self.number}"

    def _held(self, user: str, asset: str) -> int:
        return self.ledger.counters.get((f"user:{user}", asset), 0)

    def _post(self, tx: Transaction) -> None:
        before = dict(self.ledger.counters), len(self.ledger.txs)
        short = [
            -(self.ledger.counters.get(key, 0) + delta)
            for key, delta in tx.deltas().items()
            if key[0].startswith("user:") and self.ledger.counters.get(key, 0) + delta < 0
        ]
        if not short:
            self.ledger.post(tx)
            return
        with pytest.raises(LedgerError) as caught:
            self.ledger.post(tx)
        assert caught.value.shortfall == short[0]
        assert (dict(self.ledger.counters), len(self.ledger.txs)) == before

    @rule(next_day=st.booleans())
    def advance(self, next_day: bool) -> None:
        if next_day:
            self.day = date.fromordinal(self.day.toordinal() + 1)

    @rule(
        lines=st.lists(
            st.tuples(
                st.sampled_from(USERS),
                st.integers(0, 500),
                st.integers(0, 10**9),
                st.sampled_from(METHODS),
            ),
            min_size=1,
            max_size=5,
        ).filter(lambda lines: any(p or m for _, p, m, _ in lines))
    )
    def issue(self, lines: list[tuple[str, int, int, str]]) -> None:
        self._post(lg.issuance(self._id("iss"), self.day, lines, {"lines_sha256": "x"}))

    @rule(user=st.sampled_from(USERS), points=st.integers(1, 600))
    def redeem(self, user: str, points: int) -> None:
        self._post(lg.redemption(self._id("red"), self.day, user, points, "merchant:m1"))

    @rule(user=st.sampled_from(USERS), points=st.integers(1, 600))
    def donate(self, user: str, points: int) -> None:
        self._post(lg.donation(self._id("don"), self.day, user, points, "charity:c1"))

    @rule(user=st.sampled_from(USERS), points=st.integers(1, 100), mg=st.integers(1, 10**9))
    def neutralise(self, user: str, points: int, mg: int) -> None:
        self._post(lg.neutralisation(self._id("neu"), self.day, user, points, mg, "cancelled:e"))

    @rule(user=st.sampled_from(USERS))
    def expire(self, user: str) -> None:
        held = self._held(user, "pt")
        if held:
            self._post(lg.expiry(self._id("exp"), self.day, [(user, held)]))

    @rule(user=st.sampled_from(USERS), method=st.sampled_from(METHODS), share=st.integers(1, 3))
    def claw_back(self, user: str, method: str, share: int) -> None:
        points, mg = self._held(user, "pt") // share, self._held(user, "mg") // share
        if points or mg:
            self._post(lg.clawback(self._id("clw"), self.day, [(user, points, mg, method)]))

    @rule(users=st.sets(st.sampled_from(USERS), min_size=1))
    def aggregate(self, users: set[str]) -> None:
        lines = [(u, self._held(u, "mg")) for u in sorted(users) if self._held(u, "mg")]
        if lines:
            self._post(lg.aggregation(self._id("agg"), self.day, "P1", lines))

    @invariant()
    def balances_per_asset(self) -> None:
        for asset in lg.ASSETS:
            assert sum(v for (_, s), v in self.ledger.counters.items() if s == asset) == 0

    @invariant()
    def counters_equal_derived_balances(self) -> None:
        derived = {(a, s): v for a, s, v in self.ledger.derived()}
        stored = {k: v for k, v in self.ledger.counters.items() if v or k in derived}
        assert derived == stored

    @invariant()
    def verifies(self) -> None:
        report = self.ledger.verify()
        assert report.ok, report.issues


LedgerMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=25)
TestLedgerMachine = LedgerMachine.TestCase
