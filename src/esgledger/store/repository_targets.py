"""Reading and writing targets, measures, credits, retirements, published history and metrics.

目标、减排措施、碳信用、注销、历史排放与指标数据的读写。

Same conventions as :mod:`esgledger.store.repository`: records are dicts keyed by column name
and every write happens inside the caller's session (one transaction, so an import lands whole
or not at all). The domain validates definitions (``esgledger.targets``,
``esgledger.disclosure``) before they reach these functions; the database adds what only it
can guarantee — a target's history is never overwritten and a credit is never retired beyond
its volume (see :mod:`esgledger.store.models_targets`).
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
from esgledger.store.models_targets import (
    Credit,
    CreditRetirement,
    EmissionsHistory,
    Measure,
    MetricDefinition,
    MetricValue,
    TargetRevision,
)
from esgledger.store.repository import _insert_new, _rows, _table, _upsert

__all__ = [
    "HISTORY_SCOPES",
    "load_credits",
    "load_emissions_history",
    "load_measures",
    "load_metric_definitions",
    "load_metric_values",
    "load_retirements",
    "load_targets",
    "save_credits",
    "save_emissions_history",
    "save_measures",
    "save_metric_definitions",
    "save_metric_values",
    "save_retirements",
    "save_target",
]

#: Scopes of ``emissions_history`` rows.
HISTORY_SCOPES = ("1", "2_location", "2_market", "3")

TARGET_STATUSES = ("active", "withdrawn")


# --- targets --------------------------------------------------------------------------------


def save_target(
    session: Session,
    target_id: str,
    definition: Mapping[str, Any],
    *,
    reason: str | None = None,
    status: str = "active",
    batch: ImportBatch | None = None,
    now: datetime | None = None,
) -> tuple[int, bool]:
    """Store ``definition`` as the next revision of target ``target_id``.

    Returns ``(revision, created)``: when the current revision already has the same
    definition and status nothing is written and ``created`` is False, so importing the same
    targets twice keeps one revision.
    """
    if status not in TARGET_STATUSES:
        raise ValueError(f"target status must be one of {', '.join(TARGET_STATUSES)}: {status!r}")
    table = _table(TargetRevision)
    current = (
        session.execute(
            sa.select(table)
            .where(table.c.id == target_id)
            .order_by(table.c.revision.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    if (
        current is not None
        and current["definition"] == dict(definition)
        and current["status"] == status
    ):
        return int(current["revision"]), False
    revision = 1 if current is None else int(current["revision"]) + 1
    session.execute(
        sa.insert(table),
        [
            {
                "id": target_id,
                "revision": revision,
                "created_at": now or datetime.now(UTC),
                "status": status,
                "definition": dict(definition),
                "reason": reason,
                "batch_id": None if batch is None else batch.id,
            }
        ],
    )
    return revision, True


def load_targets(
    session: Session, *, history: bool = False, withdrawn: bool = False
) -> list[dict[str, Any]]:
    """Targets as dicts (``id``, ``revision``, ``created_at``, ``status``, ``definition``,
    ``reason``, ``batch_id``), ordered by id and revision.

    By default only the current (highest) revision of each target, and only active ones;
    ``history=True`` gives every revision, ``withdrawn=True`` keeps withdrawn targets.
    """
    table = _table(TargetRevision)
    rows = [
        dict(row)
        for row in session.execute(
            sa.select(table).order_by(table.c.id, table.c.revision)
        ).mappings()
    ]
    if not history:
        latest: dict[str, dict[str, Any]] = {}
        for row in rows:
            latest[row["id"]] = row
        rows = list(latest.values())
    if not withdrawn:
        rows = [row for row in rows if row["status"] == "active"]
    return rows


# --- measures -------------------------------------------------------------------------------


def save_measures(
    session: Session, records: Iterable[Mapping[str, Any]], batch: ImportBatch | None
) -> int:
    """Insert or replace measures by ``id`` (records: ``id`` and ``definition``)."""
    rows = _rows(Measure, records, {"batch_id": None if batch is None else batch.id})
    return _upsert(session, Measure, rows)


def load_measures(session: Session) -> list[dict[str, Any]]:
    """Every measure (``id``, ``definition``, ``batch_id``), ordered by id."""
    table = _table(Measure)
    statement = sa.select(table).order_by(table.c.id)
    return [dict(row) for row in session.execute(statement).mappings()]


# --- credits and retirements ----------------------------------------------------------------


def save_credits(
    session: Session, records: Iterable[Mapping[str, Any]], batch: ImportBatch | None
) -> int:
    """Register new credit blocks (never replace one: a block is registered once).

    Records have ``id``, ``registry_name``, ``serial_start``, ``serial_end``, ``volume_t``,
    ``vintage``, ``kind`` and ``definition``.

    Raises
    ------
    WorkspaceError
        If a credit id, or a registry and first serial number, is already registered.
    """
    rows = _rows(
        Credit, records, {"retired_t": 0.0, "batch_id": None if batch is None else batch.id}
    )
    return _insert_new(
        session,
        Credit,
        rows,
        "the credits cannot be stored: a credit id, or a registry and first serial number, "
        "is already registered (a credit block is registered once)",
    )


def load_credits(session: Session) -> list[dict[str, Any]]:
    """Every credit block with ``retired_t`` so far, ordered by id."""
    table = _table(Credit)
    statement = sa.select(table).order_by(table.c.id)
    return [dict(row) for row in session.execute(statement).mappings()]


def save_retirements(
    session: Session,
    records: Sequence[Mapping[str, Any]],
    batch: ImportBatch | None,
    *,
    now: datetime | None = None,
) -> int:
    """Store retirements and raise each credit's ``retired_t`` by the same tonnes.

    Records have ``id`` (the registry's retirement reference), ``credit``, ``volume_t``
    [t CO2e, > 0], ``retired_on`` (date), ``claim_year``, ``purpose`` and ``definition``.

    Raises
    ------
    WorkspaceError
        If a credit would be retired beyond its volume (a credit is retired once), a credit
        is unknown, or a retirement reference is stored already. The database refuses each
        (CHECK, foreign key, primary key), so nothing of the call is written.
    """
    created = now or datetime.now(UTC)
    credits = _table(Credit)
    table = _table(CreditRetirement)
    try:
        with session.begin_nested():
            for record in records:
                volume = float(record["volume_t"])
                updated = session.execute(
                    sa.update(credits)
                    .where(credits.c.id == record["credit"])
                    .values(retired_t=credits.c.retired_t + volume)
                )
                if updated.rowcount != 1:  # type: ignore[attr-defined]
                    raise WorkspaceError(
                        f"retirement {record['id']!r} names the unknown credit "
                        f"{record['credit']!r}; import the credit block first"
                    )
                row = _rows(
                    CreditRetirement,
                    [record],
                    {"created_at": created, "batch_id": None if batch is None else batch.id},
                )
                session.execute(sa.insert(table), row)
    except IntegrityError as exc:
        text = str(exc.orig).lower()
        if "retired_within_volume" in text:
            message = (
                "the retirements were refused: a credit block would be retired beyond its "
                "volume (a credit can be retired only once)"
            )
        elif "unique" in text or "duplicate" in text or "pk_credit_retirements" in text:
            message = "the retirements were refused: a retirement reference is stored already"
        else:
            message = f"the retirements were refused by the database: {exc.orig}"
        raise WorkspaceError(message) from exc
    return len(records)


def load_retirements(session: Session, claim_year: int | None = None) -> list[dict[str, Any]]:
    """Retirements (of one claim year, or all), ordered by claim year and id."""
    table = _table(CreditRetirement)
    statement = sa.select(table).order_by(table.c.claim_year, table.c.id)
    if claim_year is not None:
        statement = statement.where(table.c.claim_year == claim_year)
    return [dict(row) for row in session.execute(statement).mappings()]


# --- published history ----------------------------------------------------------------------


def save_emissions_history(
    session: Session, records: Iterable[Mapping[str, Any]], batch: ImportBatch | None
) -> int:
    """Insert or replace published totals by (year, scope, category)."""
    rows = _rows(EmissionsHistory, records, {"batch_id": None if batch is None else batch.id})
    for row in rows:
        if row["scope"] not in HISTORY_SCOPES:
            raise ValueError(
                f"history scope must be one of {', '.join(HISTORY_SCOPES)}: {row['scope']!r}"
            )
    return _upsert(session, EmissionsHistory, rows)


def load_emissions_history(session: Session) -> list[dict[str, Any]]:
    """Every published total, ordered by year, scope and category."""
    table = _table(EmissionsHistory)
    statement = sa.select(table).order_by(table.c.year, table.c.scope, table.c.category)
    return [dict(row) for row in session.execute(statement).mappings()]


# --- metrics --------------------------------------------------------------------------------


def save_metric_definitions(
    session: Session, records: Iterable[Mapping[str, Any]], batch: ImportBatch | None
) -> int:
    """Insert or replace company metric definitions by ``code``."""
    rows = _rows(MetricDefinition, records, {"batch_id": None if batch is None else batch.id})
    return _upsert(session, MetricDefinition, rows)


def load_metric_definitions(session: Session) -> list[dict[str, Any]]:
    """Every company metric definition, ordered by code."""
    table = _table(MetricDefinition)
    statement = sa.select(table).order_by(table.c.code)
    return [dict(row) for row in session.execute(statement).mappings()]


def save_metric_values(
    session: Session, records: Iterable[Mapping[str, Any]], batch: ImportBatch | None
) -> int:
    """Insert or replace metric values by (metric, entity, period_start, breakdown)."""
    rows = _rows(MetricValue, records, {"batch_id": None if batch is None else batch.id})
    for row in rows:
        if row["breakdown"] is None:
            row["breakdown"] = ""
    return _upsert(session, MetricValue, rows)


def load_metric_values(session: Session, year: int | None = None) -> list[dict[str, Any]]:
    """Metric values (of periods starting in ``year``, or all), ordered by metric, entity,
    period and breakdown."""
    table = _table(MetricValue)
    statement = sa.select(table).order_by(
        table.c.metric, table.c.entity, table.c.period_start, table.c.breakdown
    )
    if year is not None:
        statement = statement.where(
            table.c.period_start >= date(year, 1, 1), table.c.period_start <= date(year, 12, 31)
        )
    return [dict(row) for row in session.execute(statement).mappings()]
