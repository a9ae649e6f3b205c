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
==========================  ===================================  ===========================
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from esgledger.ingest import ImportResult
from esgledger.ingest.batches import already_imported, commit_batch, file_sha256
from esgledger.ingest.readers import RawTable, read_table
from esgledger.ingest.reference import ColumnSpec, _as_text, _Checker, _plural

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from esgledger.store import Workspace
    from esgledger.store.models import ImportBatch

__all__ = ["column_specs", "import_emissions_history", "typed_records"]

_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d")
_DATE_FIX = "write the date as YYYY-MM-DD (e.g. 2024-01-31) or YYYY/MM/DD"


@cache
def column_specs(schema_file: str) -> tuple[ColumnSpec, ...]:
    """The columns declared in ``esgledger/schema/<schema_file>``."""
    text = resources.files("esgledger.schema").joinpath(schema_file).read_text("utf-8")
    return tuple(
        ColumnSpec(
            column=row["column"],
            header_zh=row["header_zh"],
            type=row["type"],
            required=row["required"].strip().lower() == "yes",
            description=row["description"],
            description_zh=row.get("description_zh") or "",
            aliases=tuple(a.strip() for a in (row.get("aliases") or "").split(";") if a.strip()),
        )
        for row in csv.DictReader(text.splitlines())
    )


def _read(path: Path, specs: Sequence[ColumnSpec]) -> RawTable:
    columns = {
        s.column: [a for a in (s.header_zh, *s.aliases) if a and a != s.column] for s in specs
    }
    return read_table(path, columns=columns, required=[s.column for s in specs if s.required])


def _date(check: _Checker, row: int, record: Mapping[str, Any], column: str, required: bool) -> Any:
    value = record.get(column)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _as_text(value)
    if text is None:
        if required:
            check.add(row, column, None, "a value is required", f"fill in {column}: {_DATE_FIX}")
        return None
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    check.add(row, column, text, "not a date", _DATE_FIX)
    return None


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
                parsed[name] = _date(check, row, record, name, required)
            else:
                parsed[name] = check.text(row, record, name, required=required)
        out.append((row, parsed))
    return out


def _import(
    workspace: Workspace,
    path: Path | str,
    *,
    kind: str,
    schema_file: str,
    validate: Callable[[RawTable, _Checker, list[tuple[int, dict[str, Any]]]], list[Any]],
    write: Callable[[Session, ImportBatch, list[Any]], object],
    noun: str,
) -> ImportResult:
    """Hash, skip a re-import, read, validate the whole file, then write it in one
    transaction."""
    from esgledger.store.repository import batch_id_for

    path = Path(path)
    digest = file_sha256(path)
    done = already_imported(workspace, kind, path, digest)
    if done is not None:
        return done
    specs = column_specs(schema_file)
    table = _read(path, specs)
    check = _Checker(table)
    check.require_rows()
    records = validate(table, check, typed_records(table, specs, check))
    check.raise_if_any()
    n = len(records)
    batch_id = batch_id_for(kind, digest)
    return commit_batch(
        workspace,
        kind,
        path,
        digest,
        rows=n,
        write=lambda session, batch: write(session, batch, records),
        message=f"Imported {_plural(n, noun)} from {table.file} as batch {batch_id}.",
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
        schema_file="history_columns.csv",
        validate=validate,
        write=lambda session, batch, records: save_emissions_history(session, records, batch),
        noun="published figure",
    )
