"""Reading and writing the carbon-inclusion ledger (the only SQL of the ledger).

碳普惠账本的读写。

Writes happen in the caller's session, which holds :meth:`Workspace.write_lock`
(``BEGIN IMMEDIATE`` on SQLite, an advisory lock on PostgreSQL), so the next ``seq``, the
previous hash and the balances read here cannot change under the writer. :func:`post` and
:func:`post_many` insert each transaction's header (next ``seq``, ``prev_hash`` = the last
transaction's hash, the computed Merkle root and hash) and its transfers with executemany,
upsert the balance counters in bulk (``INSERT … ON CONFLICT (account, asset) DO UPDATE SET
balance = balance + excluded.balance``: SQLite ≥ 3.24 and PostgreSQL) and upsert the day rows
(each day's root recomputed from its transactions' hashes), all in one savepoint of the
caller's transaction: either everything of the call is written or nothing.

The database has the last word on an overdraft: ``CHECK (may_go_negative OR balance >= 0)``
on ``inclusion_balances``. Its ``IntegrityError`` becomes a
:class:`~esgledger.errors.LedgerError` naming the transaction, the account, the asset and the
shortfall, found by re-reading the balances as they were before the refused statement (the
statement runs in a savepoint of its own, rolled back first).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from esgledger.errors import LedgerError
from esgledger.inclusion.ledger import (
    GENESIS,
    DayRow,
    LinesCheck,
    StatementProof,
    Transaction,
    Transfer,
    TxRow,
    VerifyReport,
    day_chain_hash,
    day_root,
    is_source_account,
    statement_proof,
    transfers_root,
    tx_hash,
    verify,
)
from esgledger.store.models_inclusion import (
    InclusionBalance,
    InclusionDay,
    InclusionTransaction,
    InclusionTransfer,
)

__all__ = [
    "balances",
    "balances_of",
    "day_rows",
    "derived_balances",
    "expirable_points",
    "post",
    "post_many",
    "proof",
    "stored_balances",
    "transactions_in_order",
    "transfers_of",
    "verify_ledger",
]


def _table(model: Any) -> sa.Table:
    table = model.__table__
    assert isinstance(table, sa.Table)
    return table


_TX = _table(InclusionTransaction)
_TRANSFERS = _table(InclusionTransfer)
_BALANCES = _table(InclusionBalance)
_DAYS = _table(InclusionDay)


def _marks(session: Session, count: int) -> str:
    style = session.get_bind().dialect.paramstyle
    mark = "?" if style == "qmark" else "%s"
    return ", ".join([mark] * count)


def _insert_transfers_sql(session: Session) -> str:
    return (
        "INSERT INTO inclusion_transfers (tx_seq, idx, debit, credit, asset, amount) "
        f"VALUES ({_marks(session, 6)})"
    )


def _upsert_balances_sql(session: Session) -> str:
    return (
        "INSERT INTO inclusion_balances (account, asset, balance, may_go_negative) "
        f"VALUES ({_marks(session, 4)}) ON CONFLICT (account, asset) DO UPDATE SET "
        "balance = inclusion_balances.balance + excluded.balance"
    )


def _last(session: Session) -> tuple[int, str, date | None]:
    row = session.execute(
        sa.select(_TX.c.seq, _TX.c.hash, _TX.c.day).order_by(_TX.c.seq.desc()).limit(1)
    ).first()
    if row is None:
        return 0, GENESIS, None
    return int(row.seq), str(row.hash), row.day


def post(
    session: Session,
    tx: Transaction,
    *,
    created_at: datetime | None = None,
    may_go_negative: frozenset[str] | None = None,
) -> InclusionTransaction:
    """Append ``tx`` to the ledger in the session's transaction and return its stored row.

    ``may_go_negative`` names the accounts whose counter may go below zero when it is created
    (default: the source accounts, ``pool`` and ``reductions:*``).

    Raises
    ------
    LedgerError
        If the transaction id is already posted, its day is before the last transaction's, or
        an account would be overdrawn (``shortfall`` says by how much). Nothing is written.
    """
    rows = post_many(session, [tx], created_at=created_at, may_go_negative=may_go_negative)
    stored = session.get(InclusionTransaction, rows[0].seq)
    assert stored is not None
    return stored


def post_many(
    session: Session,
    txs: Iterable[Transaction],
    *,
    created_at: datetime | None = None,
    may_go_negative: frozenset[str] | None = None,
) -> list[TxRow]:
    """Append ``txs`` in order (e.g. the issuance transactions of a settlement) in one
    savepoint of the session's transaction; return their stored headers.

    Streams: each transaction's transfers and counters are written when it comes (one
    executemany each), so ``txs`` may be a generator over millions of lines.

    Raises
    ------
    LedgerError
        As :func:`post`; nothing of the call is written.
    """
    now = created_at or datetime.now(UTC)
    seq, prev, last_day = _last(session)
    insert_transfers = _insert_transfers_sql(session)
    upsert_balances = _upsert_balances_sql(session)
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        # The ledger's indexes outgrow SQLite's default 2 MB page cache after some 100 000
        # transfers; a settlement's millions post several times faster with 256 MB. It
        # lasts as long as the pooled connection and changes no data.
        connection.exec_driver_sql("PRAGMA cache_size = -262144")
    stored: list[TxRow] = []
    touched: list[date] = []
    try:
        with session.begin_nested():
            # the savepoint is emitted when the session hands out its connection inside it
            connection = session.connection()
            for tx in txs:
                if last_day is not None and tx.day < last_day:
                    raise LedgerError(
                        f"transaction {tx.id} is dated {tx.day}, before the ledger's last day "
                        f"{last_day}: ledger days only go forward (账本日期不可倒退)",
                        transaction=tx.id,
                    )
                seq += 1
                transfers = tx.transfers()
                root = transfers_root(tx.id, transfers)
                digest = tx_hash(prev, tx.header(), root)
                row = TxRow(
                    seq, tx.id, tx.kind, tx.day, tx.meta, len(transfers), root, prev, digest
                )
                _insert_header(session, row, now)
                connection.exec_driver_sql(
                    insert_transfers,
                    # a Transfer is the tuple (idx, debit, credit, asset, amount)
                    [(seq, *t) for t in transfers],
                )
                _move_balances(session, tx, upsert_balances, may_go_negative)
                stored.append(row)
                prev, last_day = digest, tx.day
                if not touched or touched[-1] != tx.day:
                    touched.append(tx.day)
            for day in touched:
                _upsert_day(session, day)
    except IntegrityError as exc:
        raise LedgerError(
            f"the ledger refused the transactions: {exc.orig} (账本拒绝写入)"
        ) from exc
    return stored


def _insert_header(session: Session, row: TxRow, now: datetime) -> None:
    try:
        with session.begin_nested():
            session.execute(
                sa.insert(_TX),
                [
                    {
                        "seq": row.seq,
                        "id": row.id,
                        "kind": row.kind,
                        "day": row.day,
                        "created_at": now,
                        "meta": dict(row.meta),
                        "transfer_count": row.transfer_count,
                        "merkle_root": row.merkle_root,
                        "prev_hash": row.prev_hash,
                        "hash": row.hash,
                    }
                ],
            )
    except IntegrityError as exc:
        raise LedgerError(
            f"transaction {row.id} cannot be posted: its id is already in the ledger, or "
            "another writer appended first (交易编号已存在)",
            transaction=row.id,
        ) from exc


def _move_balances(
    session: Session, tx: Transaction, sql: str, may_go_negative: frozenset[str] | None
) -> None:
    def may(account: str) -> bool:
        if may_go_negative is None:
            return is_source_account(account)
        return account in may_go_negative

    deltas = tx.deltas()
    connection = session.connection()
    # A CHECK is evaluated on the row an INSERT proposes, before ON CONFLICT turns it into an
    # update (SQLite and PostgreSQL alike), so a debit of a guarded account cannot go through
    # the upsert: its row is created at 0 if missing, then lowered by an UPDATE.
    plain = [
        (account, asset, delta, may(account))
        for (account, asset), delta in deltas.items()
        if delta >= 0 or may(account)
    ]
    risky = [
        (account, asset, delta)
        for (account, asset), delta in deltas.items()
        if delta < 0 and not may(account)
    ]
    if plain:
        connection.exec_driver_sql(sql, plain)
    if not risky:
        return
    marks = _marks(session, 4)
    connection.exec_driver_sql(
        "INSERT INTO inclusion_balances (account, asset, balance, may_go_negative) "
        f"VALUES ({marks}) ON CONFLICT (account, asset) DO NOTHING",
        [(account, asset, 0, False) for account, asset, _ in risky],
    )
    mark = _marks(session, 1)
    try:
        with session.begin_nested():
            session.connection().exec_driver_sql(
                f"UPDATE inclusion_balances SET balance = balance + {mark} "
                f"WHERE account = {mark} AND asset = {mark}",
                [(delta, account, asset) for account, asset, delta in risky],
            )
    except IntegrityError as exc:
        if "no_overdraft" not in str(exc.orig):
            raise
        raise _overdraft(session, tx, deltas, may) from exc


def _overdraft(
    session: Session,
    tx: Transaction,
    deltas: Mapping[tuple[str, str], int],
    may: Any,
) -> LedgerError:
    """The refused transaction's overdraft, from the balances before its statement (the
    savepoint was rolled back; the write lock keeps them as they were)."""
    debited = [(a, s) for (a, s), d in deltas.items() if d < 0]
    query = sa.select(
        _BALANCES.c.account, _BALANCES.c.asset, _BALANCES.c.balance, _BALANCES.c.may_go_negative
    ).where(_BALANCES.c.account.in_(sorted({a for a, _ in debited})))
    found = {
        (r.account, r.asset): (int(r.balance), bool(r.may_go_negative))
        for r in session.execute(query.with_for_update())
    }
    for account, asset in debited:
        balance, flag = found.get((account, asset), (0, may(account)))
        after = balance + deltas[(account, asset)]
        if after < 0 and not flag:
            return LedgerError(
                f"transaction {tx.id} would overdraw {account}: it holds {balance} {asset}, "
                f"the transaction takes {-deltas[(account, asset)]}, {-after} {asset} short "
                "(余额不足)",
                transaction=tx.id,
                account=account,
                asset=asset,
                shortfall=-after,
            )
    return LedgerError(  # pragma: no cover - the CHECK refused, so one account fell short
        f"transaction {tx.id} was refused as an overdraft (余额不足)", transaction=tx.id
    )


def _upsert_day(session: Session, day: date) -> None:
    hashes = list(
        session.execute(sa.select(_TX.c.hash).where(_TX.c.day == day).order_by(_TX.c.seq)).scalars()
    )
    previous = session.execute(
        sa.select(_DAYS.c.chain_hash).where(_DAYS.c.day < day).order_by(_DAYS.c.day.desc()).limit(1)
    ).scalar()
    prev_chain = str(previous) if previous is not None else GENESIS
    root = day_root(hashes)
    values = {
        "day": day,
        "tx_count": len(hashes),
        "root": root,
        "prev_chain": prev_chain,
        "chain_hash": day_chain_hash(prev_chain, day, root),
    }
    dialect = session.get_bind().dialect.name
    maker = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = maker(_DAYS).values(values)
    statement = statement.on_conflict_do_update(
        index_elements=[_DAYS.c.day],
        set_={k: statement.excluded[k] for k in ("tx_count", "root", "prev_chain", "chain_hash")},
    )
    session.execute(statement)


# --- readers --------------------------------------------------------------------------------


def balances(session: Session, account: str) -> dict[str, int]:
    """The stored balance of ``account`` per asset (assets it never held are absent)."""
    rows = session.execute(
        sa.select(_BALANCES.c.asset, _BALANCES.c.balance).where(_BALANCES.c.account == account)
    )
    return {str(r.asset): int(r.balance) for r in rows}


def transfers_of(session: Session, account: str) -> list[dict[str, Any]]:
    """Every transfer debiting or crediting ``account``, with its transaction's header fields
    (``seq``, ``tx_id``, ``kind``, ``day``, ``created_at``, ``meta``), in ledger order."""
    t, x = _TRANSFERS, _TX
    query = (
        sa.select(
            x.c.seq,
            x.c.id.label("tx_id"),
            x.c.kind,
            x.c.day,
            x.c.created_at,
            x.c.meta,
            t.c.idx,
            t.c.debit,
            t.c.credit,
            t.c.asset,
            t.c.amount,
        )
        .join(x, x.c.seq == t.c.tx_seq)
        .where(sa.or_(t.c.debit == account, t.c.credit == account))
        .order_by(t.c.tx_seq, t.c.idx)
    )
    return [dict(row) for row in session.execute(query).mappings()]


def _tx_row(row: Any) -> TxRow:
    return TxRow(
        int(row.seq),
        str(row.id),
        str(row.kind),
        row.day,
        dict(row.meta),
        int(row.transfer_count),
        str(row.merkle_root),
        str(row.prev_hash),
        str(row.hash),
    )


_TX_COLUMNS = (
    _TX.c.seq,
    _TX.c.id,
    _TX.c.kind,
    _TX.c.day,
    _TX.c.meta,
    _TX.c.transfer_count,
    _TX.c.merkle_root,
    _TX.c.prev_hash,
    _TX.c.hash,
)


def transactions_in_order(
    session: Session, chunk: int = 50_000
) -> Iterator[tuple[TxRow, tuple[Transfer, ...]]]:
    """Every transaction with its transfers, in ``seq`` order, read page by page: a page
    holds headers until their transfers reach ``chunk`` (at least one header), so memory
    holds about ``chunk`` transfers whatever the ledger's size."""
    after = 0
    while True:
        headers: list[TxRow] = []
        total = 0
        result = session.execute(
            sa.select(*_TX_COLUMNS).where(_TX.c.seq > after).order_by(_TX.c.seq).limit(256)
        )
        for row in result:
            header = _tx_row(row)
            if headers and total + header.transfer_count > chunk:
                break
            headers.append(header)
            total += header.transfer_count
        result.close()
        if not headers:
            return
        first, last = headers[0].seq, headers[-1].seq
        rows = session.execute(
            sa.select(
                _TRANSFERS.c.tx_seq,
                _TRANSFERS.c.idx,
                _TRANSFERS.c.debit,
                _TRANSFERS.c.credit,
                _TRANSFERS.c.asset,
                _TRANSFERS.c.amount,
            )
            .where(_TRANSFERS.c.tx_seq.between(first, last))
            .order_by(_TRANSFERS.c.tx_seq, _TRANSFERS.c.idx)
        ).all()
        grouped = {
            seq: tuple(Transfer(r[1], r[2], r[3], r[4], int(r[5])) for r in group)
            for seq, group in itertools.groupby(rows, key=lambda r: int(r[0]))
        }
        del rows
        for header in headers:
            yield header, grouped.pop(header.seq, ())
        after = last


def day_rows(session: Session) -> list[DayRow]:
    """Every ledger day row, in day order."""
    rows = session.execute(sa.select(_DAYS).order_by(_DAYS.c.day))
    return [
        DayRow(r.day, int(r.tx_count), str(r.root), str(r.prev_chain), str(r.chain_hash))
        for r in rows
    ]


def _binary(session: Session, column: Any) -> Any:
    """``column`` ordered by code point (PostgreSQL's ``"C"`` collation; SQLite's BINARY)."""
    if session.get_bind().dialect.name == "postgresql":
        return column.collate("C")
    return column


def derived_balances(session: Session, chunk: int = 10_000) -> Iterator[tuple[str, str, int]]:
    """Balances recomputed from the transfers (credits minus debits), sorted by account and
    asset in code-point order, streamed."""
    t = _TRANSFERS
    moves = sa.union_all(
        sa.select(t.c.credit.label("account"), t.c.asset, t.c.amount.label("amount")),
        sa.select(t.c.debit.label("account"), t.c.asset, (-t.c.amount).label("amount")),
    ).subquery()
    query = (
        sa.select(moves.c.account, moves.c.asset, sa.func.sum(moves.c.amount))
        .group_by(moves.c.account, moves.c.asset)
        .order_by(_binary(session, moves.c.account), _binary(session, moves.c.asset))
    )
    for row in session.execute(query.execution_options(yield_per=chunk)):
        yield str(row[0]), str(row[1]), int(row[2])


def stored_balances(session: Session, chunk: int = 10_000) -> Iterator[tuple[str, str, int]]:
    """The stored counters, sorted like :func:`derived_balances`, streamed."""
    b = _BALANCES
    query = sa.select(b.c.account, b.c.asset, b.c.balance).order_by(
        _binary(session, b.c.account), _binary(session, b.c.asset)
    )
    for row in session.execute(query.execution_options(yield_per=chunk)):
        yield str(row[0]), str(row[1]), int(row[2])


def verify_ledger(
    session: Session, *, chunk: int = 50_000, lines_check: LinesCheck | None = None
) -> VerifyReport:
    """:func:`esgledger.inclusion.ledger.verify` over the stored ledger (streamed).

    Accounts whose stored counter is flagged ``may_go_negative`` are the sources."""
    sources = set(
        session.execute(
            sa.select(_BALANCES.c.account).where(_BALANCES.c.may_go_negative).distinct()
        ).scalars()
    )
    return verify(
        transactions_in_order(session, chunk),
        day_rows(session),
        lambda: derived_balances(session),
        lambda: stored_balances(session),
        lines_check=lines_check,
        may_go_negative=lambda account: account in sources or is_source_account(account),
    )


def proof(session: Session, tx_id: str, idx: int) -> StatementProof:
    """The :class:`StatementProof` of transfer ``idx`` of transaction ``tx_id``.

    Raises
    ------
    LedgerError
        If the transaction or the transfer is not in the ledger.
    """
    row = session.execute(sa.select(*_TX_COLUMNS).where(_TX.c.id == tx_id)).first()
    if row is None:
        raise LedgerError(f"no ledger transaction {tx_id!r} (交易不存在)", transaction=tx_id)
    header = _tx_row(row)
    transfers: Sequence[Transfer] = tuple(
        Transfer(r.idx, r.debit, r.credit, r.asset, int(r.amount))
        for r in session.execute(
            sa.select(_TRANSFERS)
            .where(_TRANSFERS.c.tx_seq == header.seq)
            .order_by(_TRANSFERS.c.idx)
        )
    )
    if not 0 <= idx < len(transfers):
        raise LedgerError(f"transaction {tx_id} has no transfer {idx}", transaction=tx_id)
    hashes = list(
        session.execute(
            sa.select(_TX.c.hash).where(_TX.c.day == header.day).order_by(_TX.c.seq)
        ).scalars()
    )
    stored = session.execute(sa.select(_DAYS).where(_DAYS.c.day == header.day)).one()
    day = DayRow(
        stored.day,
        int(stored.tx_count),
        str(stored.root),
        str(stored.prev_chain),
        str(stored.chain_hash),
    )
    return statement_proof(header, transfers, idx, hashes, day)


def balances_of(session: Session, accounts: Sequence[str], asset: str) -> dict[str, int]:
    """The stored balance in ``asset`` of each of ``accounts`` that has one (read in chunks,
    so millions of accounts do not make one huge statement)."""
    found: dict[str, int] = {}
    for start in range(0, len(accounts), 5_000):
        chunk = list(accounts[start : start + 5_000])
        rows = session.execute(
            sa.select(_BALANCES.c.account, _BALANCES.c.balance).where(
                _BALANCES.c.asset == asset, _BALANCES.c.account.in_(chunk)
            )
        )
        found.update({str(r.account): int(r.balance) for r in rows})
    return found


def expirable_points(session: Session, issued_on_or_before: date) -> list[tuple[str, int]]:
    """Points to expire per user, first in, first out: the points credited to the user by
    issuance transactions of a day on or before ``issued_on_or_before``, minus every point the
    user has given since the start (redemptions, donations, clawbacks, earlier expiries),
    when positive. Users in account order; pseudonyms without the ``user:`` prefix."""
    t, x = _TRANSFERS, _TX
    credited = (
        sa.select(t.c.credit.label("account"), sa.func.sum(t.c.amount).label("points"))
        .join(x, x.c.seq == t.c.tx_seq)
        .where(
            t.c.asset == "pt",
            x.c.kind == "issuance",
            x.c.day <= issued_on_or_before,
            t.c.credit.like("user:%"),
        )
        .group_by(t.c.credit)
        .subquery()
    )
    given = (
        sa.select(t.c.debit.label("account"), sa.func.sum(t.c.amount).label("points"))
        .where(t.c.asset == "pt", t.c.debit.like("user:%"))
        .group_by(t.c.debit)
        .subquery()
    )
    rows = session.execute(
        sa.select(
            credited.c.account,
            (credited.c.points - sa.func.coalesce(given.c.points, 0)).label("due"),
        )
        .outerjoin(given, given.c.account == credited.c.account)
        .order_by(credited.c.account)
    )
    return [(str(r.account).removeprefix("user:"), int(r.due)) for r in rows if int(r.due) > 0]
