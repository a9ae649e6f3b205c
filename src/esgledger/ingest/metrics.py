"""Importers of disclosure data: company metric definitions and typed metric values.

披露数据导入：公司自定义指标定义和填报的指标数值。

==================  =====================================  ====================================
kind                columns                                stored in
==================  =====================================  ====================================
``metrics``         ``schema/metric_columns.csv``          ``metric_definitions`` (JSON by code)
``metric-values``   ``schema/metric_value_columns.csv``    ``metric_values``
==================  =====================================  ====================================

* **metrics**: the file is validated by the catalogue loader's rules
  (:func:`esgledger.disclosure.load_catalogue`): a code that is already a shipped item or
  appears twice, an unknown type or unit, an empty or non-Chinese Chinese title, a count
  without a label, an unknown parent. Each row is stored as its definition (the canonical
  columns as text) and replaces a stored definition of the same code.
* **metric-values**: validated by :func:`esgledger.disclosure.validate_values` against
  :func:`workspace_catalogue` (shipped items and the workspace's company metrics), the
  workspace's entities and its reporting year plus the :data:`EARLIER_YEARS` years before it
  (comparatives: HKEX KPI B2.1 asks for fatalities in each of the past three years including
  the reporting year). Values are converted into the catalogue unit and stored with their
  evidence reference; a row with the same metric, entity, period start and breakdown as a
  stored one replaces it. Metrics derived from the inventory (A1.2, A2.1 …) are refused.

Both import the whole file or nothing (one :class:`~esgledger.errors.InputError` naming
file, row, column, value, problem and fix) and do nothing when the same bytes are imported
again as the same kind (:mod:`esgledger.ingest.batches`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from esgledger.disclosure import Catalogue, load_catalogue, validate_values, value_columns
from esgledger.disclosure.catalogue import _columns, _item, metric_columns
from esgledger.errors import InputError, Issue
from esgledger.ingest import ImportResult
from esgledger.ingest.batches import already_imported, commit_batch, file_sha256
from esgledger.ingest.readers import read_table
from esgledger.ingest.values_guard import guard_text

if TYPE_CHECKING:
    from esgledger.store import Workspace

__all__ = [
    "DEFINITION_COLUMNS",
    "EARLIER_YEARS",
    "import_metric_values",
    "import_metrics",
    "workspace_catalogue",
]

#: Years before the reporting year whose values a metric-value file may carry [years]:
#: two, so that HKEX KPI B2.1 (fatalities in each of the past three years including the
#: reporting year) and year-on-year comparisons can be filled in.
EARLIER_YEARS = 2

#: The columns of a stored company metric definition (``schema/metric_columns.csv``).
DEFINITION_COLUMNS: tuple[str, ...] = tuple(metric_columns())


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _stored_definitions(workspace: Workspace) -> list[dict[str, Any]]:
    from esgledger.store.repository_targets import load_metric_definitions

    with workspace.session() as session:
        return load_metric_definitions(session)


def workspace_catalogue(workspace: Workspace) -> Catalogue:
    """The shipped catalogue followed by the workspace's company metrics (in code order).

    Parameters
    ----------
    workspace
        The open workspace; its company metrics come from ``esgledger import WS FILE --kind
        metrics``.

    Returns
    -------
    Catalogue
        What the report builder and the metric-value importer validate against.
    """
    shipped = load_catalogue()
    sections = {item.code: item.section for item in shipped}  # a parent's section is the default
    users = [
        _item(dict(stored["definition"]), user=True, sections=sections)
        for stored in _stored_definitions(workspace)
    ]
    return Catalogue([*shipped, *users])


def _no_data_rows(file: str, what: str) -> InputError:
    """The error for a file with a header but no rows (``what``: one row's content)."""
    return InputError(
        f"{file} was rejected: the file has no data rows",
        [
            Issue(
                file,
                None,
                None,
                None,
                "the file has no data rows",
                f"fill in one {what} a row below the header row",
            )
        ],
    )


def import_metrics(
    workspace: Workspace, path: Path | str, *, progress: bool = False
) -> ImportResult:
    """Import company metric definitions (``schema/metric_columns.csv``), whole or not at all.

    Parameters
    ----------
    workspace
        The open workspace.
    path
        CSV (UTF-8 or GB18030), XLSX or Parquet; English or Chinese headers.
    progress
        Accepted for the importer protocol; the files are small.

    Raises
    ------
    InputError
        Row by row, by the rules of :func:`esgledger.disclosure.load_catalogue`; nothing is
        stored then.
    """
    from esgledger.store.repository import batch_id_for
    from esgledger.store.repository_targets import save_metric_definitions

    path = Path(path)
    kind = "metrics"
    digest = file_sha256(path)
    done = already_imported(workspace, kind, path, digest)
    if done is not None:
        return done
    required = _columns("metric_columns.csv")[1]
    raw = guard_text(read_table(path, columns=metric_columns(), required=required))
    if raw.num_rows == 0:
        raise _no_data_rows(raw.file, "metric")
    catalogue = load_catalogue(path)  # raises InputError with the row-level issues
    records: list[dict[str, Any]] = []
    for _line, row in raw.rows():
        definition = {column: _cell(row.get(column)) for column in DEFINITION_COLUMNS}
        item = catalogue[definition["code"]]
        records.append({"code": item.code, "definition": definition})
    n = len(records)
    batch_id = batch_id_for(kind, digest)
    return commit_batch(
        workspace,
        kind,
        path,
        digest,
        rows=n,
        write=lambda session, batch: save_metric_definitions(session, records, batch),
        message=(
            f"Imported {_plural(n, 'company metric definition')} from {raw.file} as batch "
            f"{batch_id}."
        ),
    )


def _entity_codes(workspace: Workspace) -> list[str]:
    from esgledger.store.repository import load_entities

    with workspace.session() as session:
        return [str(entity["code"]) for entity in load_entities(session)]


def _start_clashes(table: Any, file: str) -> list[Issue]:
    """Rows that the store would take for one (same metric, entity, period start and
    breakdown, but a different period end)."""
    seen: dict[tuple[str, str, object, str], Mapping[str, Any]] = {}
    issues: list[Issue] = []
    for row in table.to_pylist():
        key = (row["metric"], row["entity"], row["period_start"], row["breakdown"])
        first = seen.get(key)
        if first is None:
            seen[key] = row
            continue
        issues.append(
            Issue(
                file,
                row["row"],
                "period_end",
                str(row["period_end"]),
                f"row {first['row']} has the same metric, entity, start and breakdown but ends "
                f"on {first['period_end']}",
                "give one period per metric, entity and start date",
            )
        )
    return issues


def import_metric_values(
    workspace: Workspace, path: Path | str, *, progress: bool = False
) -> ImportResult:
    """Import typed metric values (``schema/metric_value_columns.csv``), whole or not at all.

    Parameters
    ----------
    workspace
        The open workspace: its entities, reporting year (and the :data:`EARLIER_YEARS`
        before it) and company metrics are what values may refer to.
    path
        CSV (UTF-8 or GB18030), XLSX or Parquet; English or Chinese headers.
    progress
        Accepted for the importer protocol; the files are small.

    Raises
    ------
    InputError
        Listing every problem found by :func:`esgledger.disclosure.validate_values`; nothing
        is stored then.
    """
    from esgledger.store.repository import batch_id_for
    from esgledger.store.repository_targets import save_metric_values

    path = Path(path)
    kind = "metric-values"
    digest = file_sha256(path)
    done = already_imported(workspace, kind, path, digest)
    if done is not None:
        return done
    required = _columns("metric_value_columns.csv")[1]
    raw = guard_text(read_table(path, columns=value_columns(), required=required))
    if raw.num_rows == 0:
        raise _no_data_rows(raw.file, "value")
    year = workspace.reporting_year
    table = validate_values(
        raw.table,
        workspace_catalogue(workspace),
        entities=_entity_codes(workspace),
        reporting_year=year,
        earlier_years=EARLIER_YEARS,
        file=raw.file,
        first_row=raw.first_row,
    )
    clashes = _start_clashes(table, raw.file)
    if clashes:
        raise InputError(
            f"{raw.file} was rejected: {_plural(len(clashes), 'problem')}; nothing was imported",
            clashes,
        )
    keep = (
        "metric",
        "entity",
        "period_start",
        "period_end",
        "value",
        "text",
        "unit",
        "breakdown",
        "evidence",
        "notes",
    )
    records = [{key: row[key] for key in keep} for row in table.to_pylist()]
    n = len(records)
    years = sorted({row["period_start"].year for row in records})
    batch_id = batch_id_for(kind, digest)
    return commit_batch(
        workspace,
        kind,
        path,
        digest,
        rows=n,
        write=lambda session, batch: save_metric_values(session, records, batch),
        message=(
            f"Imported {_plural(n, 'metric value')} ({', '.join(map(str, years))}) from "
            f"{raw.file} as batch {batch_id}."
        ),
        summary={"years": years, "metrics": len({row["metric"] for row in records})},
    )
