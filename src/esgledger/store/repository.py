"""Reading and writing the workspace's tables: the persistence API of the importers.

An importer validates a whole file first, then writes it in ONE transaction together with
its :class:`~esgledger.store.models.ImportBatch` row, so that an import lands whole or not at
all::

    with workspace.session() as session:
        batch = register_batch(
            session, kind="entities", file_name=path.name, content_hash=digest, row_count=n
        )
        save_entities(session, records, batch)
    # committed here; any exception inside the block rolls everything back

Records are plain dicts keyed by the table's column names (see ``esgledger.store.models``),
without ``batch_id``, which the ``save_*`` functions set to the batch that wrote the row.
Unknown keys are refused (``TypeError``) rather than dropped, so no input column is lost
silently. Writes of entities, sites, activity types and exchange rates are upserts keyed by the
primary key: a row already present is replaced by the new values, a new row is inserted, and
rows absent from the file are kept. A user factor set is replaced whole
(:func:`save_factor_set`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from esgledger.errors import WorkspaceError
from esgledger.store.models import (
    ActivityType,
    Base,
    Entity,
    Factor,
    FactorSet,
    FxRate,
    ImportBatch,
    Site,
)

__all__ = [
    "batch_id_for",
    "find_batch",
    "load_activity_types",
    "load_batches",
    "load_entities",
    "load_factor_sets",
    "load_factors",
    "load_fx_rates",
    "load_sites",
    "register_batch",
    "registered_batch_ids",
    "save_activity_types",
    "save_entities",
    "save_factor_set",
    "save_fx_rates",
    "save_sites",
]

#: Spellings of the key column used by the import files, accepted for the model's name.
_ALIASES: dict[type[Base], dict[str, str]] = {
    Entity: {"entity": "code"},
    Site: {"site": "code"},
}


def batch_id_for(kind: str, content_hash: str) -> str:
    """The id of the batch that imports the bytes with sha256 ``content_hash`` as ``kind``:
    ``"b-"`` and the first 12 hex digits of sha256(``kind`` + ``":"`` + ``content_hash``)."""
    digest = hashlib.sha256(f"{kind}:{content_hash}".encode()).hexdigest()
    return f"b-{digest[:12]}"


def find_batch(session: Session, kind: str, content_hash: str) -> ImportBatch | None:
    """The accepted batch of ``kind`` whose file had the sha256 ``content_hash``, if any."""
    return session.scalars(
        sa.select(ImportBatch).where(
            ImportBatch.kind == kind, ImportBatch.content_hash == content_hash
        )
    ).one_or_none()


def register_batch(
    session: Session,
    *,
    kind: str,
    file_name: str,
    content_hash: str,
    row_count: int,
    lake_path: str | None = None,
    summary: Mapping[str, object] | None = None,
    status: str = "approved",
    imported_by: str | None = None,
    task_id: int | None = None,
) -> ImportBatch:
    """Add the registry row of an import batch and flush it (so rows can refer to it).

    Parameters
    ----------
    kind
        What the file holds: ``entities``, ``sites``, ``activity-types``, ``activities``,
        ``factors``, ``fx``.
    file_name
        The imported file's name, as the user gave it.
    content_hash
        sha256 of the file's bytes, 64 hex digits.
    row_count
        Number of data rows accepted.
    lake_path
        For activity batches, the Parquet file's path relative to the lake.
    summary
        Anything worth keeping about the import (JSON-serialisable).
    status, imported_by, task_id
        The batch's status (one of ``BATCH_STATUSES``: ``approved`` enters calculations,
        ``submitted`` awaits review), who imported it and the collection task it answers.

    Raises
    ------
    WorkspaceError
        If a batch of the same ``kind`` and ``content_hash`` is already registered (the
        database enforces this; check :func:`find_batch` first to make a re-import a no-op).
    """
    batch = ImportBatch(
        id=batch_id_for(kind, content_hash),
        kind=kind,
        file_name=file_name,
        content_hash=content_hash,
        row_count=row_count,
        lake_path=lake_path,
        imported_at=datetime.now(UTC),
        summary=None if summary is None else dict(summary),
        status=status,
        imported_by=imported_by,
        task_id=task_id,
    )
    session.add(batch)
    try:
        session.flush()
    except IntegrityError as exc:
        raise WorkspaceError(
            f"{file_name} (sha256 {content_hash}) is already imported: it is batch "
            f"{batch.id} of kind {kind!r}"
        ) from exc
    return batch


def _table(model: type[Base]) -> sa.Table:
    table = model.__table__
    if not isinstance(table, sa.Table):  # pragma: no cover - every model maps a Table
        raise TypeError(f"{model.__name__} does not map a table")
    return table


def _rows(
    model: type[Base], records: Iterable[Mapping[str, Any]], fixed: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Check ``records`` against ``model``'s columns and complete them with ``fixed`` values
    (which the records may not give) and None for absent optional columns."""
    table = _table(model)
    columns = {column.name for column in table.columns} - fixed.keys()
    required = {column.name for column in table.columns if not column.nullable} & columns
    aliases = _ALIASES.get(model, {})
    rows: list[dict[str, Any]] = []
    for number, record in enumerate(records, start=1):
        row: dict[str, Any] = {}
        for key, value in record.items():
            name = aliases.get(key, key)
            if name not in columns:
                raise TypeError(
                    f"record {number} for table {table.name!r} has the unknown key {key!r}; "
                    f"known keys: {', '.join(sorted(columns))}"
                )
            if name in row:
                raise TypeError(f"record {number} for table {table.name!r} gives {name!r} twice")
            row[name] = value
        missing = required - row.keys()
        if missing:
            raise TypeError(
                f"record {number} for table {table.name!r} lacks {', '.join(sorted(missing))}"
            )
        for name in columns - row.keys():
            row[name] = None
        row.update(fixed)
        rows.append(row)
    return rows


def _upsert(session: Session, model: type[Base], rows: Sequence[dict[str, Any]]) -> int:
    """Insert ``rows``, replacing rows with the same primary key, in the session's
    transaction."""
    if not rows:
        return 0
    table = _table(model)
    keys = [column.name for column in table.primary_key.columns]
    dialect = session.get_bind().dialect.name
    statement: postgresql.Insert | sqlite.Insert
    if dialect == "postgresql":
        statement = postgresql.insert(table)
    elif dialect == "sqlite":
        statement = sqlite.insert(table)
    else:  # pragma: no cover - Workspace refuses other databases
        raise WorkspaceError(f"esgledger does not support {dialect} databases")
    updates = {
        column.name: statement.excluded[column.name]
        for column in table.columns
        if column.name not in keys
    }
    session.execute(statement.on_conflict_do_update(index_elements=keys, set_=updates), rows)
    return len(rows)


def _insert_new(
    session: Session, model: type[Base], rows: Sequence[dict[str, Any]], refusal: str
) -> int:
    """Insert ``rows`` that must not exist yet (a register: never an update), in a savepoint
    of the session's transaction; a key already stored raises ``WorkspaceError(refusal)``."""
    if not rows:
        return 0
    try:
        with session.begin_nested():
            session.execute(sa.insert(_table(model)), rows)
    except IntegrityError as exc:
        raise WorkspaceError(refusal) from exc
    return len(rows)


def _parents_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Order entity rows so that each parent in the file comes before its children.

    PostgreSQL checks the parent foreign key at commit (it is deferred) and SQLite too
    (``DEFERRABLE INITIALLY DEFERRED``); the order keeps the insert valid row by row as well.
    A cycle keeps its rows in file order (validation reports cycles, not the store).
    """
    by_code = {row["code"]: row for row in rows}
    ordered: list[dict[str, Any]] = []
    done: set[str] = set()
    visiting: set[str] = set()

    def visit(code: str) -> None:
        if code in done or code in visiting:
            return
        visiting.add(code)
        parent = by_code[code]["parent"]
        if parent in by_code:
            visit(parent)
        visiting.discard(code)
        done.add(code)
        ordered.append(by_code[code])

    for code in by_code:
        visit(code)
    return ordered


def save_entities(
    session: Session, records: Iterable[Mapping[str, Any]], batch: ImportBatch
) -> int:
    """Upsert entities by ``code`` (also accepted as ``entity``); return the number written.

    Keys: ``code``, ``name``, ``parent`` (code or None), ``ownership_pct`` [%],
    ``operational_control``, ``financial_control`` (bool), ``country`` (ISO 3166-1
    alpha-2), ``name_zh``. A ``parent`` may be any entity in the database or in ``records``.
    """
    return _upsert(session, Entity, _parents_first(_rows(Entity, records, {"batch_id": batch.id})))


def save_sites(session: Session, records: Iterable[Mapping[str, Any]], batch: ImportBatch) -> int:
    """Upsert sites by ``code`` (also accepted as ``site``); return the number written.

    Keys: ``code``, ``entity`` (an entity code), ``name``, ``country``, ``region``, ``type``,
    ``name_zh``.
    """
    return _upsert(session, Site, _rows(Site, records, {"batch_id": batch.id}))


def save_activity_types(
    session: Session, records: Iterable[Mapping[str, Any]], batch: ImportBatch
) -> int:
    """Upsert user activity types by ``activity``; return the number written.

    Keys: ``activity``, ``name``, ``name_zh``, ``dimension``, ``scope``, ``scope3_category``.
    """
    return _upsert(session, ActivityType, _rows(ActivityType, records, {"batch_id": batch.id}))


def save_fx_rates(
    session: Session, records: Iterable[Mapping[str, Any]], batch: ImportBatch
) -> int:
    """Upsert exchange rates by (``year``, ``currency``); return the number written.

    Keys: ``year``, ``currency`` (ISO 4217), ``per_usd`` [currency/USD, annual average],
    ``source``.
    """
    return _upsert(session, FxRate, _rows(FxRate, records, {"batch_id": batch.id}))


def save_factor_set(
    session: Session,
    *,
    set_id: str,
    name: str,
    precedence: int,
    factors: Iterable[Mapping[str, Any]],
    batch: ImportBatch,
) -> int:
    """Create the user factor set ``set_id``, or replace it whole; return the factor count.

    The set's factors become exactly ``factors``: factors of an earlier import of the set
    that are not in ``factors`` are deleted. Each record has the columns of
    ``esgledger/schema/factor_columns.csv`` as the ``factors`` table keeps them (see
    :class:`~esgledger.store.models.Factor`), without ``factor_set``. ``factor_id`` is unique
    across all user sets.

    Parameters
    ----------
    set_id
        Identifier of the set.
    name
        Human-readable name of the set.
    precedence
        Higher wins at equal tier and vintage; user sets are 100 and above.
    factors
        The factor records.
    batch
        The import batch writing the set; its ``content_hash`` becomes the set's.
    """
    rows = _rows(Factor, factors, {"factor_set": set_id})
    _upsert(
        session,
        FactorSet,
        [
            {
                "id": set_id,
                "name": name,
                "precedence": precedence,
                "content_hash": batch.content_hash,
                "batch_id": batch.id,
                "created_at": datetime.now(UTC),
            }
        ],
    )
    session.execute(sa.delete(Factor).where(Factor.factor_set == set_id))
    if rows:
        session.execute(sa.insert(_table(Factor)), rows)
    return len(rows)


def _load(
    session: Session, model: type[Base], where: sa.ColumnElement[bool] | None = None
) -> list[dict[str, Any]]:
    table = _table(model)
    statement = sa.select(table).order_by(*table.primary_key.columns)
    if where is not None:
        statement = statement.where(where)
    return [dict(row) for row in session.execute(statement).mappings()]


def load_entities(session: Session) -> list[dict[str, Any]]:
    """All entities as dicts keyed by column name, ordered by ``code``."""
    return _load(session, Entity)


def load_sites(session: Session) -> list[dict[str, Any]]:
    """All sites as dicts keyed by column name, ordered by ``code``."""
    return _load(session, Site)


def load_activity_types(session: Session) -> list[dict[str, Any]]:
    """All user activity types as dicts keyed by column name, ordered by ``activity``."""
    return _load(session, ActivityType)


def load_fx_rates(session: Session) -> list[dict[str, Any]]:
    """All user exchange rates as dicts keyed by column name, ordered by year, currency."""
    return _load(session, FxRate)


def load_factor_sets(session: Session) -> list[dict[str, Any]]:
    """All user factor sets as dicts keyed by column name, ordered by ``id``."""
    return _load(session, FactorSet)


def load_factors(session: Session, factor_set: str | None = None) -> list[dict[str, Any]]:
    """User factors as dicts keyed by column name, ordered by ``factor_id``: those of
    ``factor_set``, or of every set."""
    where = None if factor_set is None else Factor.factor_set == factor_set
    return _load(session, Factor, where)


def registered_batch_ids(session: Session) -> frozenset[str]:
    """The ids of every registered import batch."""
    return frozenset(session.scalars(sa.select(ImportBatch.id)))


def load_batches(session: Session) -> list[ImportBatch]:
    """The registry of accepted import batches, oldest first."""
    return list(
        session.scalars(sa.select(ImportBatch).order_by(ImportBatch.imported_at, ImportBatch.id))
    )


# ---- inventory runs ----------------------------------------------------------------------


def save_run(session: Session, record: Mapping[str, Any]) -> None:
    """Register an inventory run (see :class:`~esgledger.store.models.Run`).

    Keys: ``id``, ``created_at`` (aware datetime), ``reporting_year``, ``gwp_set``,
    ``consolidation``, ``input_hash``, ``manifest`` and ``totals`` (JSON-serialisable dicts;
    totals in t CO2e). A run id is never reused: saving an existing id raises
    :class:`~esgledger.errors.WorkspaceError`.
    """
    from esgledger.store.models import Run

    if session.get(Run, record["id"]) is not None:
        raise WorkspaceError(f"a run with id {record['id']!r} is already registered")
    session.execute(sa.insert(_table(Run)), [_rows(Run, [record], {})[0]])


def load_runs(session: Session) -> list[dict[str, Any]]:
    """Every registered run as a dict keyed by column name, oldest first (ties by id)."""
    from esgledger.store.models import Run

    table = _table(Run)
    statement = sa.select(table).order_by(table.c.created_at, table.c.id)
    return [dict(row) for row in session.execute(statement).mappings()]


def load_run(session: Session, run_id: str | None = None) -> dict[str, Any] | None:
    """The run ``run_id``, or the latest run when ``run_id`` is None; None if there is none."""
    from esgledger.store.models import Run

    table = _table(Run)
    statement = sa.select(table)
    if run_id is None:
        statement = statement.order_by(table.c.created_at.desc(), table.c.id.desc()).limit(1)
    else:
        statement = statement.where(table.c.id == run_id)
    row = session.execute(statement).mappings().first()
    return dict(row) if row is not None else None


def find_run_id(session: Session, run_id: str | None = None) -> str | None:
    """The id of run ``run_id`` if registered, or of the latest run when ``run_id`` is None
    (None if there is none): :func:`load_run` without reading the manifest."""
    from esgledger.store.models import Run

    table = _table(Run)
    statement = sa.select(table.c.id)
    if run_id is None:
        statement = statement.order_by(table.c.created_at.desc(), table.c.id.desc()).limit(1)
    else:
        statement = statement.where(table.c.id == run_id)
    found: str | None = session.execute(statement).scalar()
    return found


__all__ += ["find_run_id", "load_run", "load_runs", "save_run"]


# ---- base year ---------------------------------------------------------------------------


def save_base_year_entry(session: Session, record: Mapping[str, Any]) -> int:
    """Append an entry to the base-year history (see
    :class:`~esgledger.store.models.BaseYearEntry`) and return its id.

    Keys: ``created_at`` (aware datetime), ``kind`` (``set``, ``recalculated`` or
    ``assessed``), ``base_year``, ``run_id`` (a registered run), ``parent_id`` (or None),
    ``threshold`` [fraction], ``totals`` [t CO2e], ``changes``, ``result``, ``note``.
    Ids count up from 1 in the order entries are written. Entries are never changed or
    deleted.
    """
    from esgledger.store.models import BaseYearEntry

    table = _table(BaseYearEntry)
    last = session.execute(sa.select(sa.func.max(table.c.id))).scalar_one_or_none()
    entry_id = int(last or 0) + 1
    session.execute(sa.insert(table), [_rows(BaseYearEntry, [record], {"id": entry_id})[0]])
    return entry_id


def load_base_year_entries(session: Session) -> list[dict[str, Any]]:
    """The base-year history as dicts keyed by column name, oldest first."""
    from esgledger.store.models import BaseYearEntry

    return _load(session, BaseYearEntry)


__all__ += ["load_base_year_entries", "save_base_year_entry"]
