"""Reading and writing the green-power register (instruments and allocations).

绿色电力登记表的读写。

Same conventions as :mod:`esgledger.store.repository`: records are dicts keyed by column name,
writes happen inside the caller's session (one transaction). The database refuses double
counting (see :mod:`esgledger.store.models_renewables`); these functions turn its refusal into
a :class:`~esgledger.errors.WorkspaceError` that says what was refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from esgledger.errors import WorkspaceError
from esgledger.store.models import ImportBatch
from esgledger.store.models_renewables import Instrument, InstrumentAllocation
from esgledger.store.repository import _insert_new

__all__ = [
    "clear_allocations",
    "load_allocations",
    "load_instruments",
    "save_allocations",
    "save_instruments",
]


def _table(model: type[Instrument] | type[InstrumentAllocation]) -> sa.Table:
    table = model.__table__
    if not isinstance(table, sa.Table):  # pragma: no cover - every model maps a Table
        raise TypeError(f"{model.__name__} does not map a table")
    return table


_INSTRUMENT_COLUMNS = frozenset(c.name for c in _table(Instrument).columns) - {
    "batch_id",
    "allocated_mwh",
}
#: [MWh] a remainder below this after giving allocations back is rounding: it becomes 0.
_ROUNDING_MWH = 1e-9


def save_instruments(
    session: Session, records: Iterable[Mapping[str, Any]], batch: ImportBatch
) -> int:
    """Insert new instruments (never replace one: an instrument id is registered once).

    Raises
    ------
    TypeError
        If a record has an unknown key or lacks a required one.
    WorkspaceError
        If an instrument id, or a type and registry id, is already stored.
    """
    rows: list[dict[str, Any]] = []
    for number, record in enumerate(records, start=1):
        unknown = set(record) - _INSTRUMENT_COLUMNS
        if unknown:
            raise TypeError(
                f"instrument record {number} has unknown keys: {', '.join(sorted(unknown))}"
            )
        row = {name: record.get(name) for name in _INSTRUMENT_COLUMNS}
        if row["attributes_sold"] is None:
            row["attributes_sold"] = False
        row["allocated_mwh"] = 0.0
        row["batch_id"] = batch.id
        rows.append(row)
    return _insert_new(
        session,
        Instrument,
        rows,
        "the instruments cannot be stored: an instrument id, or a type and registry id, "
        "is already registered",
    )


def load_instruments(session: Session) -> list[dict[str, Any]]:
    """Every instrument as a dict keyed by column name, ordered by ``instrument``."""
    table = _table(Instrument)
    statement = sa.select(table).order_by(table.c.instrument)
    return [dict(row) for row in session.execute(statement).mappings()]


def save_allocations(session: Session, records: Sequence[Mapping[str, Any]]) -> int:
    """Store allocations and raise each instrument's ``allocated_mwh`` by the same MWh, in
    the session's transaction.

    Each record has ``instrument``, ``site``, ``entity``, ``period_start``, ``period_end``
    (dates), ``mwh`` [MWh, > 0] and ``rule`` (``site``, ``entity`` or ``group``).

    Raises
    ------
    WorkspaceError
        If an instrument would be allocated beyond its volume, an instrument is unknown, or
        the same instrument, site and period is allocated twice. The database refuses each
        (CHECK, foreign key, primary key), so nothing of the call is written.
    """
    now = datetime.now(UTC)
    table = _table(InstrumentAllocation)
    instruments = _table(Instrument)
    try:
        with session.begin_nested():
            for record in records:
                mwh = float(record["mwh"])
                updated = session.execute(
                    sa.update(instruments)
                    .where(instruments.c.instrument == record["instrument"])
                    .values(allocated_mwh=instruments.c.allocated_mwh + mwh)
                )
                if updated.rowcount != 1:  # type: ignore[attr-defined]
                    raise WorkspaceError(
                        f"cannot allocate unknown instrument {record['instrument']!r}"
                    )
                session.execute(
                    sa.insert(table),
                    [
                        {
                            "instrument": record["instrument"],
                            "site": record["site"],
                            "entity": record["entity"],
                            "period_start": record["period_start"],
                            "period_end": record["period_end"],
                            "mwh": mwh,
                            "rule": record["rule"],
                            "created_at": now,
                        }
                    ],
                )
    except IntegrityError as exc:
        raise WorkspaceError(_refusal(exc)) from exc
    return len(records)


def _refusal(exc: IntegrityError) -> str:
    text = str(exc.orig).lower()
    if "allocated_within_volume" in text:
        return (
            "the allocation was refused: an instrument would be allocated beyond its volume "
            "(double counting, GHG Protocol Scope 2 Guidance Table 7.1)"
        )
    if "unique" in text or "duplicate" in text or "pk_instrument_allocations" in text:
        return (
            "the allocation was refused: the same instrument is already allocated to that "
            "site and period"
        )
    return f"the allocation was refused by the database: {exc.orig}"


def load_allocations(session: Session, year: int | None = None) -> list[dict[str, Any]]:
    """Allocations as dicts keyed by column name (those starting in ``year``, or all),
    ordered by instrument, site and period."""
    table = _table(InstrumentAllocation)
    statement = sa.select(table).order_by(table.c.instrument, table.c.site, table.c.period_start)
    if year is not None:
        statement = statement.where(
            table.c.period_start >= date(year, 1, 1), table.c.period_start <= date(year, 12, 31)
        )
    return [dict(row) for row in session.execute(statement).mappings()]


def clear_allocations(session: Session, year: int) -> int:
    """Remove the allocations of consumption periods starting in ``year`` and give their
    MWh back to the instruments; return the number removed."""
    rows = load_allocations(session, year)
    instruments = _table(Instrument)
    allocations = _table(InstrumentAllocation)
    for row in rows:
        session.execute(
            sa.update(instruments)
            .where(instruments.c.instrument == row["instrument"])
            .values(
                allocated_mwh=sa.case(
                    (instruments.c.allocated_mwh - row["mwh"] < _ROUNDING_MWH, 0.0),
                    else_=instruments.c.allocated_mwh - row["mwh"],
                )
            )
        )
        session.execute(
            sa.delete(allocations).where(
                allocations.c.instrument == row["instrument"],
                allocations.c.site == row["site"],
                allocations.c.period_start == row["period_start"],
            )
        )
    return len(rows)
