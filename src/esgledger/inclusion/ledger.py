"""The carbon-inclusion ledger as values: postings, transactions, transfers, hashes, proofs
and the invariants ``verify()`` checks (pure: no SQL, no I/O).

碳普惠账本：分录、交易、转账、哈希链、默克尔证明与校验。

Two assets: ``pt`` (points, the incentive currency) and ``mg`` (milligrams of CO2 reduced).
Amounts are Python ``int`` — never floats, never rounded (beancount's rule, stricter).

Accounts
--------
``user:<pseudonym>``, ``merchant:<id>``, ``charity:<id>``, ``project:<id>``,
``cancelled:<id>`` (grams retired, e.g. an event's neutralisation), ``reductions:<methodology>``
(the source of grams; may go negative), ``pool`` (the source of points; may go negative) and
``expired`` (points that lapsed). An id is 1-64 characters of ``A-Z a-z 0-9 . _ -``, starting
with a letter or digit, so it never holds ``|`` or ``:`` (the separators of hashed lines).

Postings and transfers
----------------------
A :class:`Transaction` is written as signed :class:`Posting` s (beancount's shape): for each
asset they sum to zero, or building it raises :class:`~esgledger.errors.LedgerError`. It is
stored as :class:`Transfer` s (Formance's and TigerBeetle's shape): a positive amount of one
asset moved from a ``debit`` account (its balance falls) to a different ``credit`` account
(its balance rises). :meth:`Transaction.transfers` pairs the postings **greedily, in posting
order, per asset**: each posting is matched against the oldest still-open postings of the
opposite sign of the same asset (a FIFO queue per asset and sign), a transfer is emitted per
match for the smaller of the two open amounts, and transfers are numbered ``0, 1, …`` in the
order they are emitted. So postings written as pairs ``(d, -a), (c, +a)`` give back exactly the
transfers ``d → c: a`` (:meth:`Transaction.of_transfers`), and a source posting followed by its
destinations gives one transfer per destination (the builders write them so). An account
debited and credited in the same asset of one transaction is refused (it would need a transfer
to itself, which the database's CHECK refuses too).

Hashes (all SHA-256, hex)
-------------------------
* leaf of a transfer: ``sha256(0x00 ‖ utf8("tx_id|idx|debit|credit|asset|amount"))``;
* inner node: ``sha256(0x01 ‖ left ‖ right)`` over the 32-byte digests — RFC 6962's domain
  separation, so a leaf can never pass for a node;
* Merkle root: adjacent nodes paired level by level, an odd last node **promoted** unchanged to
  the next level (never duplicated: duplication lets two lists share a root, CVE-2012-2459).
  This equals RFC 6962's ``MTH`` (split at the largest power of two below ``n``); the root of
  no leaves is ``sha256("")``;
* transaction hash: ``sha256(utf8(prev_hash ‖ header ‖ root))`` where ``header`` is the JSON
  of ``{"day", "id", "kind", "meta", "transfer_count"}`` with sorted keys, no spaces, UTF-8
  (not ASCII-escaped); ``prev_hash`` is the previous transaction's hash, :data:`GENESIS` first;
* day root: the Merkle root (leaf prefix 0x00) over the day's transaction hashes in ``seq``
  order (each hash's ASCII hex is the leaf's content); day chain:
  ``sha256(utf8(prev_chain ‖ "YYYY-MM-DD" ‖ root))``, :data:`GENESIS` before the first day.

Invariants
----------
Each ``check_*`` returns a list of :class:`LedgerIssue`; :func:`verify` runs them all over
row streams (one pass over the transactions in ``seq`` order, holding one transaction's
transfers at a time) and names the first issue.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from esgledger.errors import LedgerError

__all__ = [
    "ASSETS",
    "GENESIS",
    "ISSUANCE_CHUNK_ACCOUNTS",
    "ISSUE_TITLES_ZH",
    "KINDS",
    "DayRow",
    "LedgerIssue",
    "Posting",
    "StatementProof",
    "Transaction",
    "Transfer",
    "TxRow",
    "VerifyReport",
    "aggregation",
    "check_balances",
    "check_days",
    "check_issuance_lines",
    "check_negative_balances",
    "check_transactions",
    "clawback",
    "day_chain_hash",
    "day_root",
    "derive_balances",
    "donation",
    "expiry",
    "header_json",
    "is_source_account",
    "issuance",
    "issuance_chunks",
    "leaf_hash",
    "merkle_proof",
    "merkle_root",
    "neutralisation",
    "node_hash",
    "redemption",
    "statement_proof",
    "transfer_line",
    "transfers_root",
    "tx_hash",
    "validate_account",
    "verify",
    "verify_proof",
]

#: The assets: points and milligrams of CO2 reduced.
ASSETS = ("pt", "mg")
#: The ``prev_hash`` of the first transaction and the ``prev_chain`` of the first day.
GENESIS = "0" * 64
#: The kinds the named builders write.
KINDS = (
    "issuance",
    "issuance_chunks",
    "redemption",
    "donation",
    "neutralisation",
    "expiry",
    "clawback",
    "aggregation",
)
#: Accounts credited by one issuance transaction at most (design "Ledger": a statement proof
#: then reads one small transaction).
ISSUANCE_CHUNK_ACCOUNTS = 2048
#: Largest amount a stored transfer or counter holds (a signed 64-bit BIGINT).
MAX_AMOUNT = 2**63 - 1

_ID = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
_ACCOUNT = re.compile(
    rf"(?:(?:user|merchant|charity|project|cancelled|reductions):{_ID}|pool|expired)"
)
_TX_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,79}")
_KIND = re.compile(r"[a-z][a-z_]{0,19}")
_PSEUDONYM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
_LEAF = b"\x00"
_NODE = b"\x01"


def validate_account(account: str, *, transaction: str | None = None) -> str:
    """``account`` if it follows the account grammar (module docstring), else LedgerError."""
    if not isinstance(account, str) or _ACCOUNT.fullmatch(account) is None:
        raise LedgerError(
            f"malformed ledger account {account!r}: expected pool, expired or "
            "user|merchant|charity|project|cancelled|reductions:<id> "
            "(账户名格式错误)",
            transaction=transaction,
            account=str(account),
        )
    return account


def is_source_account(account: str) -> bool:
    """True for the accounts whose balance may go negative: ``pool`` and ``reductions:*``."""
    return account == "pool" or account.startswith("reductions:")


def _check_amount(value: object, *, transaction: str | None, account: str | None) -> int:
    if type(value) is int and -MAX_AMOUNT <= value <= MAX_AMOUNT:
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise LedgerError(
            f"ledger amounts are integers, not {type(value).__name__} ({value!r}) (金额必须为整数)",
            transaction=transaction,
            account=account,
        )
    if abs(value) > MAX_AMOUNT:
        raise LedgerError(
            f"ledger amount {value} exceeds the 64-bit range (金额超出范围)",
            transaction=transaction,
            account=account,
        )
    return value


@dataclass(frozen=True, slots=True)
class Posting:
    """A signed amount of one asset on one account (positive: the balance rises)."""

    account: str
    asset: str
    amount: int

    def __post_init__(self) -> None:
        validate_account(self.account)
        if self.asset not in ASSETS:
            raise LedgerError(
                f"unknown asset {self.asset!r}: expected pt or mg (未知资产)",
                account=self.account,
                asset=str(self.asset),
            )
        _check_amount(self.amount, transaction=None, account=self.account)
        if self.amount == 0:
            raise LedgerError(
                f"a posting of 0 {self.asset} on {self.account} moves nothing (零金额分录)",
                account=self.account,
                asset=self.asset,
            )


class Transfer(NamedTuple):
    """A positive ``amount`` of ``asset`` moved from ``debit`` to ``credit`` (number ``idx``
    within its transaction). Immutable (a named tuple: millions are made per settlement)."""

    idx: int
    debit: str
    credit: str
    asset: str
    amount: int


def _canonical_meta(meta: Mapping[str, Any], transaction: str) -> dict[str, Any]:
    def walk(value: object, where: str) -> None:
        if value is None or isinstance(value, (str, bool, int)):
            return
        if isinstance(value, float):
            raise LedgerError(
                f"transaction meta {where} is a float ({value!r}); store integers or text "
                "(元数据不得含浮点数)",
                transaction=transaction,
            )
        if isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise LedgerError(
                        f"transaction meta keys are text, not {key!r}", transaction=transaction
                    )
                walk(item, f"{where}.{key}")
            return
        if isinstance(value, (list, tuple)):
            for number, item in enumerate(value):
                walk(item, f"{where}[{number}]")
            return
        raise LedgerError(
            f"transaction meta {where} is a {type(value).__name__}; store JSON values",
            transaction=transaction,
        )

    walk(meta, "meta")
    loaded: dict[str, Any] = json.loads(_json(dict(meta)))
    return loaded


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Transaction:
    """A balanced ledger transaction (postings per asset sum to zero; see the module docstring).

    ``meta`` is JSON (text, integers, booleans, null, lists, objects — no floats) and is kept
    as its canonical JSON round trip, so it hashes the same once read back from the database.
    """

    id: str
    kind: str
    day: date
    postings: tuple[Posting, ...]
    meta: Mapping[str, Any] = field(default_factory=dict)
    _transfers: tuple[Transfer, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or _TX_ID.fullmatch(self.id) is None:
            raise LedgerError(
                f"malformed transaction id {self.id!r}: 1-80 of A-Z a-z 0-9 . _ : - "
                "(交易编号格式错误)",
                transaction=str(self.id),
            )
        if not isinstance(self.kind, str) or _KIND.fullmatch(self.kind) is None:
            raise LedgerError(f"malformed transaction kind {self.kind!r}", transaction=self.id)
        if not isinstance(self.day, date) or type(self.day) is not date:
            raise LedgerError(
                f"a transaction's day is a date, not {self.day!r}", transaction=self.id
            )
        postings = tuple(self.postings)
        if not postings:
            raise LedgerError(
                f"transaction {self.id} has no postings (交易没有分录)", transaction=self.id
            )
        for posting in postings:
            if not isinstance(posting, Posting):
                raise LedgerError(
                    f"transaction {self.id}: {posting!r} is not a Posting", transaction=self.id
                )
        totals: dict[str, int] = {}
        for posting in postings:
            totals[posting.asset] = totals.get(posting.asset, 0) + posting.amount
        for asset, total in totals.items():
            if total != 0:
                raise LedgerError(
                    f"transaction {self.id} does not balance: its {asset} postings sum to "
                    f"{total} (交易不平衡)",
                    transaction=self.id,
                    asset=asset,
                )
        object.__setattr__(self, "postings", postings)
        object.__setattr__(self, "meta", _canonical_meta(self.meta, self.id))
        object.__setattr__(self, "_transfers", _pair(self.id, postings))

    @classmethod
    def of_transfers(
        cls,
        id: str,
        kind: str,
        day: date,
        transfers: Iterable[tuple[str, str, str, int]],
        meta: Mapping[str, Any] | None = None,
    ) -> Transaction:
        """The transaction whose :meth:`transfers` are exactly ``(debit, credit, asset,
        amount)`` in this order (each written as the posting pair ``-amount``, ``+amount``)."""
        postings: list[Posting] = []
        for debit, credit, asset, amount in transfers:
            _check_amount(amount, transaction=id, account=debit)
            if amount <= 0:
                raise LedgerError(
                    f"transaction {id}: a transfer moves a positive amount, not {amount}",
                    transaction=id,
                    account=debit,
                    asset=asset,
                )
            postings += [Posting(debit, asset, -amount), Posting(credit, asset, amount)]
        return cls(id, kind, day, tuple(postings), dict(meta or {}))

    def transfers(self) -> tuple[Transfer, ...]:
        """The postings paired into transfers (greedy FIFO per asset; module docstring)."""
        return self._transfers

    def leaf_hashes(self) -> list[str]:
        """The Merkle leaves of the transfers, in ``idx`` order."""
        return [leaf_hash(transfer_line(self.id, t)) for t in self._transfers]

    def root(self) -> str:
        """The Merkle root of the transfers."""
        return transfers_root(self.id, self._transfers)

    def header(self) -> str:
        """The canonical header JSON that the transaction hash covers."""
        return header_json(self.id, self.kind, self.day, self.meta, len(self._transfers))

    def hash(self, prev_hash: str, root: str | None = None) -> str:
        """The chained hash after ``prev_hash`` (``root`` if already computed)."""
        return tx_hash(prev_hash, self.header(), self.root() if root is None else root)

    def deltas(self) -> dict[tuple[str, str], int]:
        """Net change per ``(account, asset)``."""
        out: dict[tuple[str, str], int] = {}
        for posting in self.postings:
            key = (posting.account, posting.asset)
            out[key] = out.get(key, 0) + posting.amount
        return out


def _pair(tx_id: str, postings: tuple[Posting, ...]) -> tuple[Transfer, ...]:
    # Per asset one FIFO queue of open amounts: all of one sign, since a posting first
    # consumes the open postings of the other sign and only its remainder stays open.
    signs: dict[tuple[str, str], bool] = {}
    queues: dict[str, tuple[list[bool], deque[list[Any]]]] = {}
    out: list[Transfer] = []
    for posting in postings:
        account, asset, amount = posting.account, posting.asset, posting.amount
        credit = amount > 0
        seen = signs.setdefault((account, asset), credit)
        if seen is not credit:
            raise LedgerError(
                f"transaction {tx_id} both debits and credits {account} in {asset}; net the "
                "postings (同一账户同一资产不可既借又贷)",
                transaction=tx_id,
                account=account,
                asset=asset,
            )
        queue = queues.get(asset)
        if queue is None:
            queue = queues[asset] = ([credit], deque())
        state, open_ = queue
        left = amount if credit else -amount
        if state[0] is not credit:
            while left and open_:
                head = open_[0]
                moved = left if left < head[1] else head[1]
                if credit:
                    out.append(Transfer(len(out), head[0], account, asset, moved))
                else:
                    out.append(Transfer(len(out), account, head[0], asset, moved))
                left -= moved
                head[1] -= moved
                if not head[1]:
                    open_.popleft()
        if left:
            state[0] = credit
            open_.append([account, left])
    return tuple(out)


# --- builders -------------------------------------------------------------------------------


def _user(pseudonym: str, tx_id: str) -> str:
    if not isinstance(pseudonym, str) or _PSEUDONYM.fullmatch(pseudonym) is None:
        raise LedgerError(
            f"malformed pseudonym {pseudonym!r} (假名格式错误)",
            transaction=tx_id,
            account=f"user:{pseudonym}",
        )
    return f"user:{pseudonym}"


def _non_negative(value: object, what: str, tx_id: str, account: str) -> int:
    amount = _check_amount(value, transaction=tx_id, account=account)
    if amount < 0:
        raise LedgerError(
            f"transaction {tx_id}: {what} of {account} is negative ({amount}) (金额为负)",
            transaction=tx_id,
            account=account,
        )
    return amount


def _from_sources(
    tx_id: str,
    moves: Sequence[tuple[str, str, str, int]],
) -> tuple[Posting, ...]:
    """Postings for ``(debit, credit, asset, amount)`` moves grouped so that greedy pairing
    gives one transfer per move: per asset and debit account (first-appearance order), the
    debit's total, then its credits in order. Zero amounts are skipped."""
    groups: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for debit, credit, asset, amount in moves:
        if amount:
            groups.setdefault((asset, debit), []).append((credit, amount))
    postings: list[Posting] = []
    for (asset, debit), credits in groups.items():
        postings.append(Posting(debit, asset, -sum(a for _, a in credits)))
        postings += [Posting(credit, asset, amount) for credit, amount in credits]
    if not postings:
        raise LedgerError(f"transaction {tx_id} moves nothing (交易无任何金额)", transaction=tx_id)
    return tuple(postings)


def issuance(
    id: str,
    day: date,
    lines: Sequence[tuple[str, int, int, str]],
    meta: Mapping[str, Any] | None = None,
) -> Transaction:
    """Points and grams issued to users: each line ``(pseudonym, points, mg, methodology)``
    moves ``points`` from ``pool`` and ``mg`` from ``reductions:<methodology>`` to
    ``user:<pseudonym>`` (zero amounts are skipped; a negative one raises)."""
    moves: list[tuple[str, str, str, int]] = []
    for pseudonym, points, mg, methodology in lines:
        user = _user(pseudonym, id)
        source = validate_account(f"reductions:{methodology}", transaction=id)
        moves.append(("pool", user, "pt", _non_negative(points, "points", id, user)))
        moves.append((source, user, "mg", _non_negative(mg, "mg", id, user)))
    return Transaction(id, "issuance", day, _from_sources(id, moves), dict(meta or {}))


def issuance_chunks(
    id_prefix: str,
    day: date,
    lines: Iterable[tuple[str, int, int, str]],
    meta: Mapping[str, Any] | None = None,
    *,
    accounts: int = ISSUANCE_CHUNK_ACCOUNTS,
) -> Iterator[Transaction]:
    """:func:`issuance` transactions of at most ``accounts`` users each, ids
    ``<id_prefix>-00001``, ``-00002``…, each with ``meta`` plus ``{"chunk": n}``. Lines of one
    user stay in one transaction when they are consecutive (sort the lines by user)."""
    chunk: list[tuple[str, int, int, str]] = []
    users: set[str] = set()
    number = 0
    for line in lines:
        if line[0] not in users and len(users) == accounts:
            number += 1
            yield issuance(
                f"{id_prefix}-{number:05d}", day, chunk, {**(meta or {}), "chunk": number}
            )
            chunk, users = [], set()
        chunk.append(line)
        users.add(line[0])
    if chunk:
        number += 1
        yield issuance(f"{id_prefix}-{number:05d}", day, chunk, {**(meta or {}), "chunk": number})


def redemption(
    id: str,
    day: date,
    user: str,
    points: int,
    counterparty: str,
    mg: int = 0,
    *,
    retired_to: str | None = None,
    kind: str = "redemption",
    meta: Mapping[str, Any] | None = None,
) -> Transaction:
    """``points`` paid by ``user:<user>`` to ``counterparty`` (an account: ``merchant:…``,
    ``charity:…``, ``cancelled:…``); ``mg`` grams retired from the user to ``retired_to``
    (default: ``counterparty`` when it is a ``cancelled:`` account — neutralisation)."""
    account = _user(user, id)
    validate_account(counterparty, transaction=id)
    moves = [(account, counterparty, "pt", _non_negative(points, "points", id, account))]
    grams = _non_negative(mg, "mg", id, account)
    if grams:
        target = retired_to or counterparty
        validate_account(target, transaction=id)
        if not target.startswith("cancelled:"):
            raise LedgerError(
                f"transaction {id}: retired grams go to a cancelled:<id> account, not "
                f"{target} (核销减排量须转入 cancelled 账户)",
                transaction=id,
                account=target,
                asset="mg",
            )
        moves.append((account, target, "mg", grams))
    return Transaction(id, kind, day, _from_sources(id, moves), dict(meta or {}))


def donation(
    id: str,
    day: date,
    user: str,
    points: int,
    charity: str,
    meta: Mapping[str, Any] | None = None,
) -> Transaction:
    """``points`` given by ``user:<user>`` to the account ``charity`` (``charity:<id>``)."""
    if not charity.startswith("charity:"):
        raise LedgerError(
            f"transaction {id}: a donation goes to a charity:<id> account, not {charity!r}",
            transaction=id,
            account=charity,
        )
    return redemption(id, day, user, points, charity, kind="donation", meta=meta)


def neutralisation(
    id: str,
    day: date,
    user: str,
    points: int,
    mg: int,
    cancelled: str,
    meta: Mapping[str, Any] | None = None,
) -> Transaction:
    """``points`` spent and ``mg`` grams retired by ``user:<user>`` into the account
    ``cancelled`` (``cancelled:<event>``): the grams can never be claimed again."""
    if not cancelled.startswith("cancelled:"):
        raise LedgerError(
            f"transaction {id}: neutralisation retires into a cancelled:<id> account, not "
            f"{cancelled!r}",
            transaction=id,
            account=cancelled,
        )
    return redemption(id, day, user, points, cancelled, mg, kind="neutralisation", meta=meta)


def expiry(
    id: str,
    day: date,
    lines: Sequence[tuple[str, int]],
    meta: Mapping[str, Any] | None = None,
) -> Transaction:
    """Points that lapsed: each line ``(pseudonym, points)`` moves them to ``expired``."""
    moves = [
        (account, "expired", "pt", _non_negative(points, "points", id, account))
        for pseudonym, points in lines
        for account in (_user(pseudonym, id),)
    ]
    return Transaction(id, "expiry", day, _from_sources_by_credit(id, moves), dict(meta or {}))


def clawback(
    id: str,
    day: date,
    lines: Sequence[tuple[str, int, int, str]],
    meta: Mapping[str, Any] | None = None,
) -> Transaction:
    """Issuance taken back (fraud, a corrected settlement): each line ``(pseudonym, points,
    mg, methodology)`` moves points back to ``pool`` and grams to ``reductions:<methodology>``."""
    moves: list[tuple[str, str, str, int]] = []
    for pseudonym, points, mg, methodology in lines:
        user = _user(pseudonym, id)
        source = validate_account(f"reductions:{methodology}", transaction=id)
        moves.append((user, "pool", "pt", _non_negative(points, "points", id, user)))
        moves.append((user, source, "mg", _non_negative(mg, "mg", id, user)))
    return Transaction(id, "clawback", day, _from_sources_by_credit(id, moves), dict(meta or {}))


def aggregation(
    id: str,
    day: date,
    project: str,
    lines: Sequence[tuple[str, int]],
    meta: Mapping[str, Any] | None = None,
) -> Transaction:
    """Grams aggregated into a registry project: each line ``(pseudonym, mg)`` moves them
    from ``user:<pseudonym>`` to ``project:<project>``."""
    target = validate_account(f"project:{project}", transaction=id)
    moves = [
        (account, target, "mg", _non_negative(mg, "mg", id, account))
        for pseudonym, mg in lines
        for account in (_user(pseudonym, id),)
    ]
    return Transaction(id, "aggregation", day, _from_sources_by_credit(id, moves), dict(meta or {}))


def _from_sources_by_credit(
    tx_id: str, moves: Sequence[tuple[str, str, str, int]]
) -> tuple[Posting, ...]:
    """Like :func:`_from_sources` for many debits into few credits: the debits in order, then
    per asset and credit account its total (greedy pairing gives one transfer per move)."""
    groups: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for debit, credit, asset, amount in moves:
        if amount:
            groups.setdefault((asset, credit), []).append((debit, amount))
    postings: list[Posting] = []
    for (asset, credit), debits in groups.items():
        postings += [Posting(debit, asset, -amount) for debit, amount in debits]
        postings.append(Posting(credit, asset, sum(a for _, a in debits)))
    if not postings:
        raise LedgerError(f"transaction {tx_id} moves nothing (交易无任何金额)", transaction=tx_id)
    return tuple(postings)


# --- hashes and proofs ----------------------------------------------------------------------


def transfer_line(tx_id: str, transfer: Transfer) -> str:
    """The canonical line a transfer's leaf hashes: ``tx_id|idx|debit|credit|asset|amount``."""
    t = transfer
    return f"{tx_id}|{t.idx}|{t.debit}|{t.credit}|{t.asset}|{t.amount}"


def leaf_hash(content: str) -> str:
    """``sha256(0x00 ‖ utf8(content))`` (RFC 6962 leaf)."""
    return hashlib.sha256(_LEAF + content.encode("utf-8")).hexdigest()


def node_hash(left: str, right: str) -> str:
    """``sha256(0x01 ‖ left ‖ right)`` over the raw digests (RFC 6962 node)."""
    return hashlib.sha256(_NODE + bytes.fromhex(left) + bytes.fromhex(right)).hexdigest()


def merkle_root(leaves: Sequence[str]) -> str:
    """The Merkle root of leaf hashes (odd node promoted; ``sha256("")`` for none)."""
    return _root_of_digests([bytes.fromhex(h) for h in leaves])


def transfers_root(tx_id: str, transfers: Iterable[Transfer]) -> str:
    """The Merkle root of a transaction's transfers (their leaves computed as bytes: the hot
    path of posting and verifying a settlement)."""
    sha = hashlib.sha256
    return _root_of_digests(
        [
            sha(f"\x00{tx_id}|{t[0]}|{t[1]}|{t[2]}|{t[3]}|{t[4]}".encode()).digest()
            for t in transfers
        ]
    )


def _root_of_digests(level: list[bytes]) -> str:
    sha = hashlib.sha256
    if not level:
        return sha(b"").hexdigest()
    while len(level) > 1:
        nxt = [sha(_NODE + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0].hex()


def merkle_proof(leaves: Sequence[str], index: int) -> tuple[tuple[str, str], ...]:
    """The audit path of leaf ``index``: ``(side, sibling hash)`` from the leaf up, ``side``
    ``"L"`` when the sibling sits on the left. A promoted node adds no step."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf {index} of {len(leaves)}")
    path: list[tuple[str, str]] = []
    level = list(leaves)
    while len(level) > 1:
        sibling = index ^ 1
        if sibling < len(level):
            path.append(("L" if sibling < index else "R", level[sibling]))
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
        index //= 2
    return tuple(path)


def verify_proof(leaf: str, proof: Iterable[tuple[str, str]], root: str) -> bool:
    """True when folding ``proof`` onto the leaf hash ``leaf`` gives ``root``."""
    current = leaf
    for side, sibling in proof:
        if side == "L":
            current = node_hash(sibling, current)
        elif side == "R":
            current = node_hash(current, sibling)
        else:
            return False
    return current == root


def header_json(id: str, kind: str, day: date, meta: Mapping[str, Any], transfer_count: int) -> str:
    """The canonical header: JSON, sorted keys, no spaces, not ASCII-escaped."""
    return _json(
        {
            "day": day.isoformat(),
            "id": id,
            "kind": kind,
            "meta": dict(meta),
            "transfer_count": transfer_count,
        }
    )


def tx_hash(prev_hash: str, header: str, root: str) -> str:
    """``sha256(utf8(prev_hash ‖ header ‖ root))``."""
    return hashlib.sha256((prev_hash + header + root).encode("utf-8")).hexdigest()


def day_chain_hash(prev_chain: str, day: date, root: str) -> str:
    """``sha256(utf8(prev_chain ‖ YYYY-MM-DD ‖ root))``."""
    return hashlib.sha256((prev_chain + day.isoformat() + root).encode("utf-8")).hexdigest()


def _day_leaves(tx_hashes: Iterable[str]) -> list[str]:
    return [leaf_hash(h) for h in tx_hashes]


def day_root(tx_hashes: Iterable[str]) -> str:
    """The Merkle root of a day's transaction hashes (in ``seq`` order)."""
    return merkle_root(_day_leaves(tx_hashes))


# --- stored rows, proofs, invariants --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TxRow:
    """A stored transaction header (``inclusion_transactions``)."""

    seq: int
    id: str
    kind: str
    day: date
    meta: Mapping[str, Any]
    transfer_count: int
    merkle_root: str
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class DayRow:
    """A stored ledger day (``inclusion_days``)."""

    day: date
    tx_count: int
    root: str
    prev_chain: str
    chain_hash: str


@dataclass(frozen=True, slots=True)
class StatementProof:
    """Everything needed to show that one transfer of a user's statement is in the ledger:
    the transfer, its path to the transaction root, the transaction header and previous hash
    (giving the transaction hash), the path to the day root, and the day chain link.
    :meth:`check` recomputes all of it from these fields only."""

    tx_id: str
    transfer: Transfer
    transfer_path: tuple[tuple[str, str], ...]
    kind: str
    day: date
    meta: Mapping[str, Any]
    transfer_count: int
    prev_hash: str
    tx_hash: str
    tx_path: tuple[tuple[str, str], ...]
    day_root: str
    prev_chain: str
    chain_hash: str

    def check(self) -> bool:
        """True when every link recomputes."""
        leaf = leaf_hash(transfer_line(self.tx_id, self.transfer))
        root = leaf
        for side, sibling in self.transfer_path:
            root = node_hash(sibling, root) if side == "L" else node_hash(root, sibling)
        header = header_json(self.tx_id, self.kind, self.day, self.meta, self.transfer_count)
        if tx_hash(self.prev_hash, header, root) != self.tx_hash:
            return False
        if not verify_proof(leaf_hash(self.tx_hash), self.tx_path, self.day_root):
            return False
        return day_chain_hash(self.prev_chain, self.day, self.day_root) == self.chain_hash

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (what a user's statement export carries)."""
        t = self.transfer
        return {
            "tx_id": self.tx_id,
            "transfer": {
                "idx": t.idx,
                "debit": t.debit,
                "credit": t.credit,
                "asset": t.asset,
                "amount": t.amount,
            },
            "transfer_path": [list(step) for step in self.transfer_path],
            "kind": self.kind,
            "day": self.day.isoformat(),
            "meta": dict(self.meta),
            "transfer_count": self.transfer_count,
            "prev_hash": self.prev_hash,
            "tx_hash": self.tx_hash,
            "tx_path": [list(step) for step in self.tx_path],
            "day_root": self.day_root,
            "prev_chain": self.prev_chain,
            "chain_hash": self.chain_hash,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StatementProof:
        """The proof of :meth:`as_dict`."""
        t = data["transfer"]
        return cls(
            tx_id=data["tx_id"],
            transfer=Transfer(t["idx"], t["debit"], t["credit"], t["asset"], t["amount"]),
            transfer_path=tuple((s, h) for s, h in data["transfer_path"]),
            kind=data["kind"],
            day=date.fromisoformat(data["day"]),
            meta=dict(data["meta"]),
            transfer_count=data["transfer_count"],
            prev_hash=data["prev_hash"],
            tx_hash=data["tx_hash"],
            tx_path=tuple((s, h) for s, h in data["tx_path"]),
            day_root=data["day_root"],
            prev_chain=data["prev_chain"],
            chain_hash=data["chain_hash"],
        )


def statement_proof(
    tx: TxRow,
    transfers: Sequence[Transfer],
    idx: int,
    day_tx_hashes: Sequence[str],
    day: DayRow,
) -> StatementProof:
    """The proof of transfer ``idx`` of ``tx`` (its transfers, its day's transaction hashes
    in ``seq`` order, its day row)."""
    leaves = [leaf_hash(transfer_line(tx.id, t)) for t in transfers]
    position = list(day_tx_hashes).index(tx.hash)
    return StatementProof(
        tx_id=tx.id,
        transfer=transfers[idx],
        transfer_path=merkle_proof(leaves, idx),
        kind=tx.kind,
        day=tx.day,
        meta=dict(tx.meta),
        transfer_count=tx.transfer_count,
        prev_hash=tx.prev_hash,
        tx_hash=tx.hash,
        tx_path=merkle_proof(_day_leaves(day_tx_hashes), position),
        day_root=day.root,
        prev_chain=day.prev_chain,
        chain_hash=day.chain_hash,
    )


#: Chinese titles of the issue codes (the English text is the issue's ``text``).
ISSUE_TITLES_ZH: dict[str, str] = {
    "tx-link": "交易链断裂",
    "tx-seq": "交易序号不连续",
    "tx-root": "交易默克尔根不符",
    "tx-hash": "交易哈希不符",
    "tx-transfers": "交易转账记录异常",
    "tx-day-order": "交易日期倒序",
    "issuance-lines": "发放明细文件不符",
    "day-root": "日根不符",
    "day-chain": "日链断裂",
    "day-missing": "缺少账本日记录",
    "day-extra": "多余的账本日记录",
    "balance": "余额与转账记录不符",
    "negative": "非来源账户余额为负",
}


@dataclass(frozen=True, slots=True)
class LedgerIssue:
    """One broken invariant: a code (:data:`ISSUE_TITLES_ZH`), an English text, and where."""

    code: str
    text: str
    tx_seq: int | None = None
    day: date | None = None
    account: str | None = None

    @property
    def text_zh(self) -> str:
        """The Chinese title of the issue's code."""
        return ISSUE_TITLES_ZH.get(self.code, self.code)


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What :func:`verify` found: ``ok`` when nothing, else every issue and the first."""

    ok: bool
    issues: tuple[LedgerIssue, ...]
    first: LedgerIssue | None


#: ``(stored transaction, its transfers in idx order)``.
TxWithTransfers = tuple[TxRow, Sequence[Transfer]]
#: A callback checking an issuance transaction against the lines file its meta names.
LinesCheck = Callable[[TxRow, Sequence[Transfer]], Iterable[LedgerIssue]]


class _ChainChecker:
    """Feeds on transactions in ``seq`` order; collects issues and the days' tx hashes."""

    def __init__(self, lines_check: LinesCheck | None = None) -> None:
        self.issues: list[LedgerIssue] = []
        self.prev_hash = GENESIS
        self.prev_seq = 0
        self.prev_day: date | None = None
        self.lines_check = lines_check

    def feed(self, tx: TxRow, transfers: Sequence[Transfer]) -> None:
        add = self.issues.append
        if tx.seq != self.prev_seq + 1:
            add(
                LedgerIssue(
                    "tx-seq",
                    f"transaction {tx.id} has seq {tx.seq} after {self.prev_seq}",
                    tx.seq,
                    tx.day,
                )
            )
        if tx.prev_hash != self.prev_hash:
            add(
                LedgerIssue(
                    "tx-link",
                    f"transaction {tx.id} (seq {tx.seq}) does not link to "
                    "the hash of the transaction before it",
                    tx.seq,
                    tx.day,
                )
            )
        if self.prev_day is not None and tx.day < self.prev_day:
            add(
                LedgerIssue(
                    "tx-day-order",
                    f"transaction {tx.id} (seq {tx.seq}) is dated {tx.day}, before {self.prev_day}",
                    tx.seq,
                    tx.day,
                )
            )
        shape = _transfer_shape(tx, transfers)
        if shape:
            add(LedgerIssue("tx-transfers", shape, tx.seq, tx.day))
        root = transfers_root(tx.id, transfers)
        if root != tx.merkle_root:
            add(
                LedgerIssue(
                    "tx-root",
                    f"transaction {tx.id} (seq {tx.seq}): its transfers "
                    "do not give its stored Merkle root (a transfer was changed, added "
                    "or removed)",
                    tx.seq,
                    tx.day,
                )
            )
        header = header_json(tx.id, tx.kind, tx.day, tx.meta, tx.transfer_count)
        if tx_hash(tx.prev_hash, header, root) != tx.hash:
            add(
                LedgerIssue(
                    "tx-hash",
                    f"transaction {tx.id} (seq {tx.seq}): its header and "
                    "transfers do not give its stored hash",
                    tx.seq,
                    tx.day,
                )
            )
        if self.lines_check is not None and tx.kind == "issuance":
            self.issues.extend(self.lines_check(tx, transfers))
        self.prev_hash = tx.hash
        self.prev_seq = tx.seq
        self.prev_day = tx.day


def _transfer_shape(tx: TxRow, transfers: Sequence[Transfer]) -> str:
    if len(transfers) != tx.transfer_count:
        return (
            f"transaction {tx.id} (seq {tx.seq}) has {len(transfers)} transfers, its "
            f"header says {tx.transfer_count}"
        )
    for number, t in enumerate(transfers):
        if t.idx != number:
            return f"transaction {tx.id}: transfer numbers are not 0..{len(transfers) - 1}"
        if (
            isinstance(t.amount, bool)
            or not isinstance(t.amount, int)
            or t.amount <= 0
            or t.debit == t.credit
            or t.asset not in ASSETS
        ):
            return f"transaction {tx.id}: transfer {t.idx} is malformed"
    return ""


class _DayChecker:
    """Feeds on transactions in ``seq`` order and on the stored day rows in day order."""

    def __init__(self, days: Iterable[DayRow]) -> None:
        self.issues: list[LedgerIssue] = []
        self._days: Iterator[DayRow] = iter(days)
        self._current: date | None = None
        self._hashes: list[str] = []
        self._prev_chain = GENESIS

    def feed(self, tx: TxRow) -> None:
        if tx.day != self._current:
            self._close()
            self._current = tx.day
        self._hashes.append(tx.hash)

    def _close(self) -> None:
        if self._current is None:
            return
        day = self._current
        stored = next(self._days, None)
        while stored is not None and stored.day < day:
            self.issues.append(
                LedgerIssue(
                    "day-extra",
                    f"day {stored.day} has a stored root but no transactions",
                    day=stored.day,
                )
            )
            stored = next(self._days, None)
        if stored is None or stored.day != day:
            self.issues.append(
                LedgerIssue(
                    "day-missing", f"day {day} has transactions but no stored root", day=day
                )
            )
            if stored is not None:
                self._days = _prepend(stored, self._days)
            self._prev_chain = day_chain_hash(self._prev_chain, day, day_root(self._hashes))
        else:
            root = day_root(self._hashes)
            if stored.tx_count != len(self._hashes) or stored.root != root:
                self.issues.append(
                    LedgerIssue(
                        "day-root",
                        f"day {day}: its transactions' hashes do not give its stored root",
                        day=day,
                    )
                )
            if stored.prev_chain != self._prev_chain:
                self.issues.append(
                    LedgerIssue(
                        "day-chain",
                        f"day {day} does not link to the chain of the day before it",
                        day=day,
                    )
                )
            if day_chain_hash(stored.prev_chain, day, stored.root) != stored.chain_hash:
                self.issues.append(
                    LedgerIssue(
                        "day-chain", f"day {day}: its chain hash does not recompute", day=day
                    )
                )
            self._prev_chain = stored.chain_hash
        self._hashes = []

    def finish(self) -> None:
        self._close()
        self._current = None
        for stored in self._days:
            self.issues.append(
                LedgerIssue(
                    "day-extra",
                    f"day {stored.day} has a stored root but no transactions",
                    day=stored.day,
                )
            )


def _prepend(first: DayRow, rest: Iterator[DayRow]) -> Iterator[DayRow]:
    yield first
    yield from rest


def check_transactions(
    transactions: Iterable[TxWithTransfers], *, lines_check: LinesCheck | None = None
) -> list[LedgerIssue]:
    """Transaction chain links, ``seq`` order, days never going back, transfer shape, Merkle
    roots and hashes recomputed from the transfers, and ``lines_check`` on issuance."""
    checker = _ChainChecker(lines_check)
    for tx, transfers in transactions:
        checker.feed(tx, transfers)
    return checker.issues


def check_days(transactions: Iterable[TxRow], days: Iterable[DayRow]) -> list[LedgerIssue]:
    """Each day's root recomputed from its transactions' hashes, and the day chain."""
    checker = _DayChecker(days)
    for tx in transactions:
        checker.feed(tx)
    checker.finish()
    return checker.issues


def check_issuance_lines(
    transactions: Iterable[TxWithTransfers], lines_check: LinesCheck
) -> list[LedgerIssue]:
    """The service's check of each issuance against the lines file its meta names."""
    issues: list[LedgerIssue] = []
    for tx, transfers in transactions:
        if tx.kind == "issuance":
            issues.extend(lines_check(tx, transfers))
    return issues


def derive_balances(
    transfers: Iterable[Transfer],
) -> list[tuple[str, str, int]]:
    """Balances recomputed from transfers, sorted by ``(account, asset)`` (in memory: for
    tests and small ledgers; the store derives them in SQL for large ones)."""
    out: dict[tuple[str, str], int] = {}
    for t in transfers:
        out[(t.debit, t.asset)] = out.get((t.debit, t.asset), 0) - t.amount
        out[(t.credit, t.asset)] = out.get((t.credit, t.asset), 0) + t.amount
    return sorted((a, s, v) for (a, s), v in out.items())


def check_balances(
    derived: Iterable[tuple[str, str, int]], stored: Iterable[tuple[str, str, int]]
) -> list[LedgerIssue]:
    """Stored counters against balances derived from the transfers. Both streams are sorted
    by ``(account, asset)`` in code-point order; they are merged, never held. A stored zero
    without transfers is fine; per asset, the derived balances must sum to zero."""
    issues: list[LedgerIssue] = []
    totals: dict[str, int] = dict.fromkeys(ASSETS, 0)
    d_iter, s_iter = iter(derived), iter(stored)
    d, s = next(d_iter, None), next(s_iter, None)
    while d is not None or s is not None:
        if s is None or (d is not None and d[:2] < s[:2]):
            assert d is not None
            totals[d[1]] = totals.get(d[1], 0) + d[2]
            if d[2] != 0:
                issues.append(
                    LedgerIssue(
                        "balance",
                        f"{d[0]} has {d[2]} {d[1]} by its transfers but no stored balance",
                        account=d[0],
                    )
                )
            d = next(d_iter, None)
        elif d is None or s[:2] < d[:2]:
            if s[2] != 0:
                issues.append(
                    LedgerIssue(
                        "balance",
                        f"{s[0]} has a stored balance of {s[2]} {s[1]} but no transfers",
                        account=s[0],
                    )
                )
            s = next(s_iter, None)
        else:
            totals[d[1]] = totals.get(d[1], 0) + d[2]
            if d[2] != s[2]:
                issues.append(
                    LedgerIssue(
                        "balance",
                        f"{d[0]}: stored balance {s[2]} {d[1]}, its transfers give {d[2]}",
                        account=d[0],
                    )
                )
            d, s = next(d_iter, None), next(s_iter, None)
    for asset, total in totals.items():
        if total != 0:
            issues.append(LedgerIssue("balance", f"the {asset} balances sum to {total}, not 0"))
    return issues


def check_negative_balances(
    derived: Iterable[tuple[str, str, int]],
    may_go_negative: Callable[[str], bool] = is_source_account,
) -> list[LedgerIssue]:
    """No account other than a source (``pool``, ``reductions:*``) ends negative."""
    return [
        LedgerIssue("negative", f"{account} holds {balance} {asset}", account=account)
        for account, asset, balance in derived
        if balance < 0 and not may_go_negative(account)
    ]


def verify(
    transactions: Iterable[TxWithTransfers],
    days: Iterable[DayRow],
    derived_balances: Callable[[], Iterable[tuple[str, str, int]]],
    stored_balances: Callable[[], Iterable[tuple[str, str, int]]],
    *,
    lines_check: LinesCheck | None = None,
    may_go_negative: Callable[[str], bool] = is_source_account,
) -> VerifyReport:
    """Run every check in one pass over ``transactions`` (``seq`` order) and ``days`` (day
    order), then once over the balances (callables giving sorted streams). ``first`` is the
    first issue in ledger order: the transaction chain first (lowest ``seq``), then the days,
    then the balances."""
    chain = _ChainChecker(lines_check)
    daily = _DayChecker(days)
    for tx, transfers in transactions:
        chain.feed(tx, transfers)
        daily.feed(tx)
    daily.finish()
    negative: list[LedgerIssue] = []

    def watched() -> Iterator[tuple[str, str, int]]:
        for row in derived_balances():
            negative.extend(check_negative_balances([row], may_go_negative))
            yield row

    balance_issues = check_balances(watched(), stored_balances())
    issues = [*chain.issues, *daily.issues, *balance_issues, *negative]
    return VerifyReport(not issues, tuple(issues), issues[0] if issues else None)
