"""Importers of ambition data: published emissions of earlier years, targets, abatement
measures, carbon credits and their retirements.

目标与减排数据导入：历史排放、目标、减排措施、碳信用及其注销。

Each kind's columns are declared in ``esgledger/schema/<kind>_columns.csv`` (English names,
the Chinese headers or an alias). Every importer reads the whole file, parses each cell by its
declared type, hands complete records to the domain's validators (``esgledger.targets``), and
either stores the whole file in one transaction or raises one
:class:`~esgledger.errors.InputError` whose issues name the file, row, column, value, problem
and fix. Importing the same bytes again is a no-op.

==========================  ===================================  ===========================
kind                        columns                              stored in
==========================  ===================================  ===========================
``emissions-history``       ``schema/history_columns.csv``       ``emissions_history``
``targets``                 ``schema/target_columns.csv``        ``targets`` (revisions)
``measures``                ``schema/measure_columns.csv``       ``measures``
``credits``                 ``schema/credit_columns.csv``        ``credits``
``retirements``             ``schema/retirement_columns.csv``    ``credit_retirements``
==========================  ===================================  ===========================

The schema files declare the headers (English, Chinese, aliases) and the required columns;
the cells of targets are parsed by type here and validated by
:func:`esgledger.targets.model.parse_target`, those of measures, credits and retirements by
the domain's row parsers (:func:`~esgledger.targets.planner.measures_from_rows`,
:func:`~esgledger.targets.offsets.credits_from_rows`,
:func:`~esgledger.targets.offsets.retirements_from_rows`). Every domain error becomes a
row-level issue of the one :class:`~esgledger.errors.InputError`.

* **targets**: a row whose id is stored with the same definition changes nothing; with a
  different definition it becomes the target's next revision (reason
  ``"imported from <file>"``; the schema has no reason column).
* **measures**: replaced by id.
* **credits**: a block is registered once. A row identical to the stored credit of its id is
  skipped; a different credit under a stored id, or serials overlapping a stored block, is
  refused (:class:`~esgledger.targets.offsets.Register`).
* **retirements**: checked with the stored register: refused beyond a credit's remaining
  volume, for an unknown credit, for serials already retired, or for a reference stored with
  other content (a row identical to a stored retirement is the same registry statement and
  is skipped). The database's CHECK ``retired_t <= volume_t`` backs this up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from esgledger.errors import InputError, Issue
from esgledger.ingest import ImportResult
from esgledger.ingest.batches import already_imported, batch_ids, commit_batch, file_sha256
from esgledger.ingest.readers import RawTable, read_table
from esgledger.ingest.reference import ColumnSpec, _as_text, _Checker, _plural, column_specs
from esgledger.ingest.values_guard import guard_text

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from esgledger.store import Workspace
    from esgledger.store.models import ImportBatch

__all__ = [
    "credit_definition",
    "import_credits",
    "import_emissions_history",
    "import_measures",
    "import_retirements",
    "import_targets",
    "measure_definition",
    "retirement_definition",
    "typed_records",
]


def _read(path: Path, specs: Sequence[ColumnSpec]) -> RawTable:
    columns = {
        s.column: [a for a in (s.header_zh, *s.aliases) if a and a != s.column] for s in specs
    }
    required = [s.column for s in specs if s.required]
    return guard_text(read_table(path, columns=columns, required=required))


def typed_records(
    table: RawTable, specs: Sequence[ColumnSpec], check: _Checker
) -> list[tuple[int, dict[str, Any]]]:
    """Each row as ``(row number, record)`` with every declared column parsed by its type
    (``string``, ``integer`` — a year when the column is named ``*year`` or ``vintage`` —,
    ``decimal``, ``boolean``, ``date``); a cell that does not parse
    is recorded on ``check`` and given as None."""
    out: list[tuple[int, dict[str, Any]]] = []
    for row, record in table.rows():
        parsed: dict[str, Any] = {}
        for spec in specs:
            name, required = spec.column, spec.required
            if spec.type == "integer" and (name.endswith("year") or name == "vintage"):
                parsed[name] = check.year(row, record, name, required=required)
            elif spec.type == "integer":
                parsed[name] = check.integer(
                    row, record, name, required=required, low=0, high=10**12, example="15"
                )
            elif spec.type == "decimal":
                parsed[name] = check.number(row, record, name, required=required)
            elif spec.type == "boolean":
                parsed[name] = check.boolean(row, record, name, required=required)
            elif spec.type == "date":
                parsed[name] = check.date(row, record, name, required=required)
            else:
                parsed[name] = check.text(row, record, name, required=required)
        out.append((row, parsed))
    return out


def _cell_text(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return _as_text(value)


def text_records(table: RawTable) -> list[tuple[int, dict[str, Any]]]:
    """Each row as ``(row number, record)`` with every cell as stripped text (None when
    empty); dates as ``YYYY-MM-DD`` and whole floats (Parquet, XLSX) without ``.0``."""
    return [(row, {k: _cell_text(v) for k, v in record.items()}) for row, record in table.rows()]


def _domain_issues(
    error: InputError, file: str, rows: Sequence[tuple[int, dict[str, Any]]]
) -> list[Issue]:
    """The issues of a domain row parser (which numbers rows 2, 3, ... in the order given)
    with the file's name and its real row numbers."""
    out = []
    for issue in error.issues:
        row = issue.row
        if row is not None and 0 <= row - 2 < len(rows):
            row = rows[row - 2][0]
        fix = issue.fix or f"correct {issue.column or 'the row'} and import the file again"
        out.append(replace(issue, file=file, row=row, fix=fix))
    return out


def _import(
    workspace: Workspace,
    path: Path | str,
    *,
    kind: str,
    validate: Callable[[RawTable, _Checker, list[tuple[int, dict[str, Any]]]], list[Any]],
    write: Callable[[Session, ImportBatch, list[Any]], object],
    noun: str,
    typed: bool = True,
    describe: Callable[[list[Any]], str] | None = None,
    load: Callable[[], None] | None = None,
) -> ImportResult:
    """Hash, skip a re-import, read, validate the whole file, then write it in one
    transaction.

    ``typed=False`` hands ``validate`` the cells as text (None when empty) instead of parsing
    them by their declared type (for the domain row parsers, which parse text themselves);
    ``describe`` adds a sentence about the records to the message. ``load`` reads the stored
    state ``validate`` checks against: called before validating, and again under the
    workspace's write lock when other batches were committed meanwhile, when the file is
    validated once more (:func:`~esgledger.ingest.batches.commit_batch`).
    """
    from esgledger.store.repository import batch_id_for

    path = Path(path)
    digest = file_sha256(path)
    done = already_imported(workspace, kind, path, digest)
    if done is not None:
        return done
    specs = column_specs(kind)
    table = _read(path, specs)
    seen = batch_ids(workspace)

    def validated() -> list[Any]:
        if load is not None:
            load()
        check = _Checker(table)
        check.require_rows()
        rows = typed_records(table, specs, check) if typed else text_records(table)
        records = validate(table, check, rows)
        check.raise_if_any()
        return records

    records = validated()

    def recheck() -> Callable[[Session, ImportBatch], object]:
        again = validated()  # against what other imports stored meanwhile
        return lambda session, batch: write(session, batch, again)

    n = len(records)
    batch_id = batch_id_for(kind, digest)
    said = "" if describe is None else describe(records)
    extra = f" {said}" if said else ""
    return commit_batch(
        workspace,
        kind,
        path,
        digest,
        rows=n,
        write=lambda session, batch: write(session, batch, records),
        message=f"Imported {_plural(n, noun)} from {table.file} as batch {batch_id}.{extra}",
        seen=seen,
        recheck=recheck if load is not None else None,
    )


# --- emissions history --------------------------------------------------------------------


def import_emissions_history(
    workspace: Workspace, path: Path | str, *, progress: bool = False
) -> ImportResult:
    """Import published totals of years without an inventory run, whole or not at all.

    Columns (``schema/history_columns.csv``): ``year``, ``scope`` (``1``, ``2_location``,
    ``2_market``, ``3``), ``category`` (scope 3 category 1-15, empty for the scope total),
    ``t_co2e`` [t CO2e], ``source``. A row with the same year, scope and category as a stored
    one replaces it. Progress toward a target uses these figures only for years without a run.
    """
    from esgledger.store.repository_targets import HISTORY_SCOPES, save_emissions_history

    def validate(
        table: RawTable, check: _Checker, rows: list[tuple[int, dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        seen: dict[tuple[int, str, int], int] = {}
        out: list[dict[str, Any]] = []
        for row, r in rows:
            scope = r["scope"]
            if scope is not None and scope not in HISTORY_SCOPES:
                check.add(
                    row,
                    "scope",
                    scope,
                    "unknown scope",
                    f"use one of {', '.join(HISTORY_SCOPES)} (2 alone is ambiguous: say "
                    "location- or market-based)",
                )
                scope = None
            category = r["category"] or 0
            if r["category"] is not None:
                if not 1 <= category <= 15:
                    check.add(row, "category", category, "not a scope 3 category", "use 1-15")
                elif scope not in (None, "3"):
                    check.add(
                        row,
                        "category",
                        category,
                        f"a category belongs to scope 3, not scope {scope}",
                        "leave category empty for scopes 1 and 2",
                    )
            t = r["t_co2e"]
            if t is not None and t < 0:
                check.add(row, "t_co2e", t, "emissions cannot be negative", "give the figure")
            if r["year"] is None or scope is None or t is None or t < 0 or r["source"] is None:
                continue
            key = (r["year"], scope, category)
            if key in seen:
                check.add(
                    row,
                    "year",
                    r["year"],
                    f"year {key[0]}, scope {scope}, category {category or '-'} is given twice "
                    f"(first in row {seen[key]})",
                    "keep one row per year, scope and category",
                )
                continue
            seen[key] = row
            out.append(
                {
                    "year": r["year"],
                    "scope": scope,
                    "category": category,
                    "t_co2e": t,
                    "source": r["source"],
                }
            )
        return out

    return _import(
        workspace,
        path,
        kind="emissions-history",
        validate=validate,
        write=lambda session, batch, records: save_emissions_history(session, records, batch),
        noun="published figure",
    )


# --- targets --------------------------------------------------------------------------------


def import_targets(
    workspace: Workspace, path: Path | str, *, progress: bool = False
) -> ImportResult:
    """Import targets (``schema/target_columns.csv``), whole or not at all.

    Each row is validated by :func:`esgledger.targets.model.parse_target`. A target id that
    is stored with the same definition changes nothing; with a different definition the row
    becomes the target's next revision (reason ``"imported from <file>"``), so a target's
    history is never overwritten.
    """
    from esgledger.store.repository_targets import load_targets, save_target
    from esgledger.targets.model import Target, parse_target

    with workspace.session() as session:
        current = {t["id"]: t["definition"] for t in load_targets(session, withdrawn=True)}
    changes: dict[str, str] = {}
    file_name = Path(path).name

    def validate(
        table: RawTable, check: _Checker, rows: list[tuple[int, dict[str, Any]]]
    ) -> list[Target]:
        out: list[Target] = []
        seen: dict[str, int] = {}
        for row, record in rows:
            if any(i.row == row for i in check.issues):
                continue  # a cell did not parse: reported already
            try:
                target = parse_target(
                    {k: v for k, v in record.items() if v is not None}, file=table.file, row=row
                )
            except InputError as error:
                check.issues.extend(
                    replace(
                        i,
                        fix=i.fix
                        or f"correct {i.column or 'the row'} (see schema/target_columns.csv)",
                    )
                    for i in error.issues
                )
                continue
            if target.id in seen:
                check.add(
                    row,
                    "id",
                    target.id,
                    f"target {target.id} is given twice (first in row {seen[target.id]})",
                    "keep one row per target id; a changed target keeps its id",
                )
                continue
            seen[target.id] = row
            definition = target.model_dump(mode="json")
            stored = current.get(target.id)
            if stored is None:
                changes[target.id] = "new"
            elif stored != definition:
                changes[target.id] = "revised"
            out.append(target)
        return out

    def write(session: Session, batch: ImportBatch, targets: list[Target]) -> None:
        for target in targets:
            save_target(
                session,
                target.id,
                target.model_dump(mode="json"),
                reason=f"imported from {file_name}",
                batch=batch,
            )

    def describe(targets: list[Target]) -> str:
        new = sorted(k for k, v in changes.items() if v == "new")
        revised = sorted(k for k, v in changes.items() if v == "revised")
        same = len(targets) - len(new) - len(revised)
        parts = []
        if new:
            parts.append(f"new: {', '.join(new)}")
        if revised:
            parts.append(f"new revision of: {', '.join(revised)}")
        if same:
            parts.append(f"{_plural(same, 'target')} unchanged")
        return "Targets " + "; ".join(parts) + "." if parts else ""

    return _import(
        workspace,
        path,
        kind="targets",
        validate=validate,
        write=write,
        noun="target",
        describe=describe,
    )


# --- measures -------------------------------------------------------------------------------


def measure_definition(measure: Any) -> dict[str, str]:
    """A :class:`~esgledger.targets.planner.Measure` as the text row of its schema columns
    (stored as the measure's definition; read back with ``measures_from_rows``)."""
    return {
        "id": measure.id,
        "name": measure.name,
        "name_zh": measure.name_zh,
        "lever": str(measure.lever),
        "cost_per_t": repr(float(measure.cost_per_t)),
        "currency": measure.currency,
        "reduction_t_co2e_per_yr": repr(float(measure.reduction_t_co2e_per_yr)),
        "start_year": str(measure.start_year),
        "ramp_years": str(measure.ramp_years),
        "acts_on": str(measure.acts_on),
        "notes": measure.notes,
    }


def import_measures(
    workspace: Workspace, path: Path | str, *, progress: bool = False
) -> ImportResult:
    """Import abatement measures (``schema/measure_columns.csv``), whole or not at all;
    a stored measure with the same id is replaced. Rows are validated by
    :func:`esgledger.targets.planner.measures_from_rows`."""
    from esgledger.store.repository_targets import save_measures
    from esgledger.targets.planner import Measure, measures_from_rows

    def validate(
        table: RawTable, check: _Checker, rows: list[tuple[int, dict[str, Any]]]
    ) -> list[Measure]:
        try:
            return measures_from_rows([r for _, r in rows], file=table.file)
        except InputError as error:
            check.issues.extend(_domain_issues(error, table.file, rows))
            return []

    return _import(
        workspace,
        path,
        kind="measures",
        validate=validate,
        write=lambda session, batch, measures: save_measures(
            session,
            [{"id": m.id, "definition": measure_definition(m)} for m in measures],
            batch,
        ),
        noun="measure",
        typed=False,
    )


# --- credits and retirements ----------------------------------------------------------------


def credit_definition(credit: Any) -> dict[str, str]:
    """A :class:`~esgledger.targets.offsets.Credit` as the text row of its schema columns."""
    return {
        "id": credit.id,
        "registry": credit.registry,
        "serial_block": credit.serial_block or "",
        "serial_start": "" if credit.serial_start is None else str(credit.serial_start),
        "serial_end": "" if credit.serial_end is None else str(credit.serial_end),
        "project": credit.project,
        "project_type": credit.project_type,
        "kind": str(credit.kind),
        "permanence": "" if credit.permanence is None else str(credit.permanence),
        "standard": credit.standard,
        "vintage": str(credit.vintage),
        "volume_t_co2e": repr(float(credit.volume_t_co2e)),
        "notes": credit.notes,
    }


def retirement_definition(retirement: Any) -> dict[str, str]:
    """A :class:`~esgledger.targets.offsets.Retirement` as the text row of its schema
    columns."""
    return {
        "credit": retirement.credit,
        "volume_t_co2e": repr(float(retirement.volume_t_co2e)),
        "retired_on": retirement.retired_on.isoformat(),
        "claim_year": str(retirement.claim_year),
        "beneficiary": retirement.beneficiary,
        "purpose": str(retirement.purpose),
        "reference": retirement.reference,
        "serial_start": "" if retirement.serial_start is None else str(retirement.serial_start),
        "serial_end": "" if retirement.serial_end is None else str(retirement.serial_end),
        "notes": retirement.notes,
    }


def stored_register(session: Session) -> Any:
    """The :class:`~esgledger.targets.offsets.Register` of the stored credits and
    retirements."""
    from esgledger.store.repository_targets import load_credits, load_retirements
    from esgledger.targets.offsets import Register, credits_from_rows, retirements_from_rows

    credits = credits_from_rows([c["definition"] for c in load_credits(session)], "credits")
    retirements = retirements_from_rows(
        [r["definition"] for r in load_retirements(session)], "retirements"
    )
    return Register(tuple(credits), tuple(retirements))


def _register_issues(
    error: InputError,
    file: str,
    rows_by_key: Mapping[str, int],
    rows_by_credit: Mapping[str, int] | None = None,
) -> list[Issue]:
    """Register issues (named ``credit 'X'`` / ``retirement 'R'``) on the file's rows; an
    issue on a credit (over-retirement) goes on the file's last retirement of it."""
    out = []
    for issue in error.issues:
        kind, _, key = (issue.file or "").partition(" ")
        key = key.strip("'\"")
        row = rows_by_key.get(key) or rows_by_key.get(issue.value or "")
        if row is None and kind == "credit" and rows_by_credit is not None:
            row = rows_by_credit.get(key)
        out.append(replace(issue, file=file, row=row))
    return out


def import_credits(
    workspace: Workspace, path: Path | str, *, progress: bool = False
) -> ImportResult:
    """Register blocks of carbon credits (``schema/credit_columns.csv``), whole or not at all.

    A block is registered once: a row identical to the stored credit of its id is skipped,
    a different credit under a stored id is refused, and serials may not overlap another
    block (checked with the stored register, :class:`~esgledger.targets.offsets.Register`).
    """
    from esgledger.store.repository_targets import save_credits
    from esgledger.targets.offsets import Credit, Register, credits_from_rows

    state: dict[str, Any] = {}
    skipped: list[str] = []

    def load() -> None:
        with workspace.session() as session:
            state["register"] = stored_register(session)
        skipped.clear()

    def validate(
        table: RawTable, check: _Checker, rows: list[tuple[int, dict[str, Any]]]
    ) -> list[Credit]:
        register = state["register"]
        stored = {c.id: c for c in register.credits}
        try:
            credits = credits_from_rows([r for _, r in rows], file=table.file)
        except InputError as error:
            check.issues.extend(_domain_issues(error, table.file, rows))
            return []
        by_id = {c.id: row for (row, _), c in zip(rows, credits, strict=True)}
        new: list[Credit] = []
        for (row, _), credit in zip(rows, credits, strict=True):
            old = stored.get(credit.id)
            if old is None:
                new.append(credit)
            elif old == credit:
                skipped.append(credit.id)
            else:
                check.add(
                    row,
                    "id",
                    credit.id,
                    f"credit {credit.id} is registered already with another definition: a "
                    "credit block is registered once",
                    "give a new block its own id (a registered block cannot be changed)",
                )
        try:
            Register((*register.credits, *new), register.retirements)
        except InputError as error:
            check.issues.extend(_register_issues(error, table.file, by_id))
        return new

    def record(credit: Credit) -> dict[str, Any]:
        serial = (
            f"{credit.serial_block or ''}:{credit.serial_start}"
            if credit.serial_start is not None
            else None  # no serials: the unique (registry, serial) key does not apply
        )
        return {
            "id": credit.id,
            "registry_name": credit.registry,
            "serial_start": serial,
            "serial_end": None if credit.serial_end is None else str(credit.serial_end),
            "volume_t": credit.volume_t_co2e,
            "vintage": credit.vintage,
            "kind": str(credit.kind),
            "definition": credit_definition(credit),
        }

    def describe(_credits: list[Credit]) -> str:
        if not skipped:
            return ""
        return f"Already registered, skipped: {', '.join(sorted(skipped))}."

    return _import(
        workspace,
        path,
        kind="credits",
        validate=validate,
        write=lambda session, batch, credits: save_credits(
            session, [record(c) for c in credits], batch
        ),
        noun="credit block",
        typed=False,
        describe=describe,
        load=load,
    )


def import_retirements(
    workspace: Workspace, path: Path | str, *, progress: bool = False
) -> ImportResult:
    """Record retirements of credits (``schema/retirement_columns.csv``), whole or not at all.

    Checked with the stored register: refused beyond a credit's remaining volume, for an
    unknown credit, for serials retired already, or for a reference stored with other
    content; a row identical to a stored retirement is the same registry statement and is
    skipped. The database refuses an over-retirement too (CHECK ``retired_t <= volume_t``).
    """
    from esgledger.store.repository_targets import save_retirements
    from esgledger.targets.offsets import Register, Retirement, retirements_from_rows

    state: dict[str, Any] = {}
    skipped: list[str] = []

    def load() -> None:
        with workspace.session() as session:
            state["register"] = stored_register(session)
        skipped.clear()

    def validate(
        table: RawTable, check: _Checker, rows: list[tuple[int, dict[str, Any]]]
    ) -> list[Retirement]:
        register: Register = state["register"]
        stored = {r.reference: r for r in register.retirements}
        try:
            retirements = retirements_from_rows([r for _, r in rows], file=table.file)
        except InputError as error:
            check.issues.extend(_domain_issues(error, table.file, rows))
            return []
        by_ref = {r.reference: row for (row, _), r in zip(rows, retirements, strict=True)}
        new: list[Retirement] = []
        for (row, _), retirement in zip(rows, retirements, strict=True):
            old = stored.get(retirement.reference)
            if old is None:
                new.append(retirement)
            elif old == retirement:
                skipped.append(retirement.reference)
            else:
                check.add(
                    row,
                    "reference",
                    retirement.reference,
                    f"retirement {retirement.reference} is recorded already with other "
                    "content: a retirement is recorded once",
                    "correct the reference, or leave the recorded retirement as it is",
                )
        try:
            Register(register.credits, (*register.retirements, *new))
        except InputError as error:
            by_credit = {r.credit: by_ref[r.reference] for r in new}
            check.issues.extend(_register_issues(error, table.file, by_ref, by_credit))
        return new

    def describe(_retirements: list[Retirement]) -> str:
        if not skipped:
            return ""
        return f"Already recorded, skipped: {', '.join(sorted(skipped))}."

    return _import(
        workspace,
        path,
        kind="retirements",
        validate=validate,
        write=lambda session, batch, retirements: save_retirements(
            session,
            [
                {
                    "id": r.reference,
                    "credit": r.credit,
                    "volume_t": r.volume_t_co2e,
                    "retired_on": r.retired_on,
                    "claim_year": r.claim_year,
                    "purpose": str(r.purpose),
                    "definition": retirement_definition(r),
                }
                for r in retirements
            ],
            batch,
        ),
        noun="retirement",
        typed=False,
        describe=describe,
        load=load,
    )
