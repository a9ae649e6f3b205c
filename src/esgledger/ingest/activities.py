"""Importing activity data: validate a whole file in DuckDB, then store it once in the lake.

活动数据导入：整批校验，校验通过后以不可变 Parquet 批次写入数据湖。

An activity file (CSV in UTF-8 or GB18030, XLSX, or Parquet) is either accepted whole or
rejected whole with a row-level report (:class:`~esgledger.errors.InputError`: file, row,
column, value, what is wrong, how to fix it). Nothing is written on rejection.

Input columns
-------------
Declared once in ``esgledger/schema/activity_columns.csv`` (:data:`ACTIVITY_COLUMNS`): the
English name, the Chinese template header, type, whether required, description. Header names
match case-insensitively; the Chinese header (``主体``, ``数量`` ...) and the English name with
blanks for underscores (``period start``) are accepted too.

How validation works (and why it is fast)
-----------------------------------------
Every check runs over the whole table in DuckDB, never row by row in Python:

1. The file becomes a DuckDB view: Parquet is scanned in place by ``read_parquet`` (never
   materialised in Python); CSV and XLSX are streamed by
   :func:`esgledger.ingest.readers.stage_table` as text columns into a temporary Parquet file,
   scanned the same way (memory does not grow with the file).
2. A *typed* view parses every column with ``TRY_CAST``/``try_strptime``; a value that does not
   parse becomes NULL beside its raw text, so a failed parse is a cheap predicate.
3. One scan collects the distinct values of the vocabulary columns (entity and site, activity
   and unit, region, scope 3 category per activity, explicit factor per activity and unit)
   with their row counts. Those few distinct values are checked in Python, once each, against
   the workspace (entities, sites), the taxonomy, the unit registry, the region table, the GWP
   tables and the factor library.
4. One scan counts the rows failing each row-level rule (missing values, numbers and dates that
   do not parse, periods outside the reporting year, negative quantities on rows that are not
   corrections ...); one aggregate finds duplicate record ids; one join finds record ids
   already in the lake.
5. Only when something failed are the offending rows fetched, at most :data:`ISSUE_CAP` per
   rule, to build the issues; ``InputError.total`` counts them all.

Rules
-----
* ``entity`` must exist in the workspace; ``site``, when given, must exist and belong to the
  row's entity.
* ``activity`` must be a key of the taxonomy (:class:`esgledger.taxonomy.Taxonomy`); the gas of a
  ``refrigerant.*`` or ``process.*`` key must be in the GWP tables
  (:func:`esgledger.gwp.canonical_gas`).
* ``unit`` must be known to the unit registry and fit the activity's dimension
  (:func:`esgledger.units.fits_dimension`).
* ``region``, when given, must be a region code (:func:`esgledger.regions.is_known`); it is
  stored upper-case.
* ``scope3_category``, when given, must be a whole number 1-15 on a scope 3 activity.
* ``factor``, when given, must be a factor id of the workspace's library whose unit fits the
  activity's dimension and can be converted from the row's unit (two currencies always can,
  through an exchange rate).
* ``quantity`` must be a number of the one grammar of :mod:`esgledger.ingest.values_guard`
  (no thousands separators, ``inf`` or hexadecimal), finite, within the bounds of its unit's
  dimension in ``schema/value_bounds.csv`` (``1e27 MWh`` is refused), and not negative unless
  ``correction`` is true; the unit's own scale must be usable (``inf kWh`` is refused).
* Text is stored in Unicode NFC; no cell may hold a NUL character, no code (every text column
  but ``notes``) a control or invisible character (zero-width, bidi controls ...).
* ``period_start`` and ``period_end`` are dates (``YYYY-MM-DD``, ``YYYY/MM/DD``, or an ISO
  date-time at midnight, as Excel dates arrive) within the workspace's reporting year, the end
  not before the start.
* ``correction`` is true or false (``true/false``, ``yes/no``, ``1/0``, ``是/否``; empty = false).
* ``record_id``, when given, is unique within the file **and** not already in the lake for the
  same entity. The second rule stops the same data being counted twice when a file is
  re-exported with a small change (different bytes, so not caught by the content hash); a row
  that corrects an earlier one gets its own record id and ``correction = true``.
* Overlaps (:mod:`esgledger.overlaps`, ``docs/methodology/overlaps.md``): among rows of
  scope 1 and 2 activity types that are not corrections, a row equal to another row of the
  file or of the lake in every column that changes the emissions (record id and notes aside)
  is an **exact duplicate** and is refused. A row whose period overlaps another row of the
  same entity, site, activity, supplier and meter (in the file or in the lake) is accepted
  with a **warning** that names both rows (``ImportResult.warnings``, the batch summary's
  ``overlaps``), or refused when the workspace says ``[import] overlaps = "reject"``. One
  window over the file's rows and the lake rows of the same keys (a sort, no self-join).
  Checked once the file passed every other rule (rows with bad dates, units or codes cannot
  be compared).

The lake
--------
An accepted file is written once, zstd-compressed, to ``lake/activities/<batch_id>.parquet``
(``ImportBatch.lake_path`` is ``activities/<batch_id>.parquet``, relative to the lake) with the
columns of :data:`LAKE_SCHEMA`, in the file's row order:

================  =========  ===============================================================
column            type       meaning
================  =========  ===============================================================
batch_id          string     the import batch (``b-`` + 12 hex digits)
row_number        int64      the row a person sees (CSV/XLSX: header is row 1; Parquet:
                             1-based data row)
record_id         string     the user's id of the row, or null
entity            string     entity code
site              string     site code, or null
meter             string     meter id, or null (batches imported before the column existed
                             lack it; readers use ``union_by_name``)
period_start      date32     first day of the period
period_end        date32     last day of the period, inclusive
activity          string     activity key as given (``refrigerant.R-410A``)
quantity          float64    amount in ``unit`` [unit]
unit              string     the unit as the user wrote it (``度``, ``万元``, ``tkm``); parse
                             with :func:`esgledger.units.parse_unit` per distinct value
region            string     region code override (upper-case), or null
supplier          string     supplier name or code, or null
scope3_category   int32      scope 3 category override 1-15, or null
factor            string     explicit factor id, or null
correction        bool       true on a correction row
notes             string     free text, or null
================  =========  ===============================================================

The file is written and flushed under a temporary name (``.<batch_id>.<pid>.<random>.tmp``)
first; then, holding the workspace's write lock, the importer re-checks the lake rules if other
batches were committed meanwhile, renames the file to its final name and commits the batch,
removing the file if the commit fails. A process killed in between leaves a file no batch
names, never a batch without its file; ``esgledger doctor`` removes such leftovers. The batch
summary (JSON, in ``import_batches.summary``) records the entities it reports for
(``entities``), the row count per activity and the total
quantity per (activity, unit) for the auditor.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from esgledger.errors import (
    FactorNotFoundError,
    InputError,
    Issue,
    UnitError,
    UnknownActivityError,
    UnknownGasError,
    WorkspaceError,
    close_matches,
)
from esgledger.ingest import ImportResult
from esgledger.ingest.batches import (
    already_imported,
    commit_lake_batch,
    current_context,
    file_sha256,
)
from esgledger.ingest.readers import (
    canonical_names,
    check_size,
    detect_format,
    parquet_damage,
    stage_table,
)
from esgledger.ingest.values_guard import (
    INVISIBLE_PROBLEM,
    INVISIBLE_RE2,
    NUL_PROBLEM,
    TEXT_FIX_INVISIBLE,
    TEXT_FIX_NUL,
    is_code_column,
    number_sql,
    quantity_limit,
    unit_scale_problem,
)

if TYPE_CHECKING:
    from esgledger.store import Workspace
    from esgledger.taxonomy import ActivityType, Taxonomy

__all__ = [
    "ACTIVITY_COLUMNS",
    "ISSUE_CAP",
    "KIND",
    "LAKE_DIR",
    "LAKE_SCHEMA",
    "ColumnSpec",
    "import_activities",
]

#: The import kind of activity files.
KIND = "activities"
#: Folder of the activity batches inside the workspace lake.
LAKE_DIR = "activities"
#: At most this many issues are kept in a rejection report (``InputError.total`` counts all).
ISSUE_CAP = 1000
#: Files at least this large get a progress bar when ``progress=True`` [bytes].
PROGRESS_MIN_BYTES = 1 << 20
#: Overlapping rows listed in a batch's summary (all are counted).
_SUMMARY_OVERLAPS = 100
#: Memory DuckDB may use before it spills to disk during an import.
DUCKDB_MEMORY_LIMIT = "1GB"

#: The Parquet schema of an activity batch in the lake (see the module docstring).
LAKE_SCHEMA = pa.schema(
    [
        ("batch_id", pa.string()),
        ("row_number", pa.int64()),
        ("record_id", pa.string()),
        ("entity", pa.string()),
        ("site", pa.string()),
        ("meter", pa.string()),
        ("period_start", pa.date32()),
        ("period_end", pa.date32()),
        ("activity", pa.string()),
        ("quantity", pa.float64()),
        ("unit", pa.string()),
        ("region", pa.string()),
        ("supplier", pa.string()),
        ("scope3_category", pa.int32()),
        ("factor", pa.string()),
        ("correction", pa.bool_()),
        ("notes", pa.string()),
    ]
)

_PANDAS_INDEX = re.compile(r"__index_level_\d+__")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S")
_TRUE = ("true", "t", "yes", "y", "1", "是", "真")
_FALSE = ("false", "f", "no", "n", "0", "否", "假")
#: Families whose suffix is a gas of the GWP tables, with an example member.
_GAS_FAMILIES = {"refrigerant.*": "refrigerant.R-410A", "process.*": "process.SF6"}
#: Units tried, in order, to give an example unit for an activity's dimension.
_EXAMPLE_UNITS = (
    "kWh", "L", "t", "kg", "Nm3", "m3", "GJ", "tkm", "pkm", "vkm", "room_night",
    "FTE_hour", "CNY", "USD", "item",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One column of the activity import (a row of ``schema/activity_columns.csv``)."""

    name: str
    header_zh: str
    type: str
    required: bool
    description: str


@cache
def _columns() -> tuple[ColumnSpec, ...]:
    text = resources.files("esgledger.schema").joinpath("activity_columns.csv").read_text("utf-8")
    return tuple(
        ColumnSpec(
            name=row["column"],
            header_zh=row["header_zh"],
            type=row["type"],
            required=row["required"] == "yes",
            description=row["description"],
        )
        for row in csv.DictReader(text.splitlines())
    )


#: The columns of an activity file, in template order.
ACTIVITY_COLUMNS: tuple[ColumnSpec, ...] = _columns()
_SPEC = {spec.name: spec for spec in ACTIVITY_COLUMNS}
_ORDER = {spec.name: index for index, spec in enumerate(ACTIVITY_COLUMNS)}
_REQUIRED = tuple(spec.name for spec in ACTIVITY_COLUMNS if spec.required)


def _header_aliases() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for spec in ACTIVITY_COLUMNS:
        aliases = [spec.header_zh]
        if "_" in spec.name:
            aliases.append(spec.name.replace("_", " "))
        out[spec.name] = aliases
    return out


# ---- small helpers ----------------------------------------------------------------------


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (plural or word + 's')}"


def _close(value: str, candidates: Sequence[str]) -> str:
    matches = close_matches(value, list(candidates), n=3, cutoff=0.6)
    if not matches:
        lowered = {c.lower(): c for c in candidates}
        if value.lower() in lowered:
            matches = [lowered[value.lower()]]
    return f"did you mean {', '.join(repr(m) for m in matches)}? " if matches else ""


def _file_issue(name: str, problem: str, fix: str) -> InputError:
    return InputError(
        f"{name} was rejected: {problem}", [Issue(name, None, None, None, problem, fix)]
    )


class _Progress:
    """A Rich progress bar over the phases of an import (read, validate, write), or nothing."""

    PHASES = ("reading", "validating", "writing")

    def __init__(self, enabled: bool, file_name: str) -> None:
        self._progress: Any = None
        self._task: Any = None
        if enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total} phases"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._name = file_name

    def __enter__(self) -> _Progress:
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task(
                f"{self._name}: {self.PHASES[0]}", total=len(self.PHASES)
            )
        return self

    def phase(self, index: int) -> None:
        """Mark the phases before ``index`` done and show phase ``index`` as running."""
        if self._progress is not None:
            self._progress.update(
                self._task,
                completed=index,
                description=f"{self._name}: {self.PHASES[min(index, len(self.PHASES) - 1)]}",
            )

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=len(self.PHASES))
            self._progress.stop()


# ---- reading ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Source:
    """The file as the DuckDB view ``src``: canonical column names plus ``__row``."""

    name: str
    format: str
    encoding: str | None
    rows: int
    types: dict[str, str]  # canonical column -> DuckDB type of the source column


def _open_parquet(con: duckdb.DuckDBPyConnection, path: Path) -> _Source:
    name = path.name
    if path.stat().st_size == 0:
        raise _file_issue(name, "the file is empty", "export the data with its header row")
    check_size(path, "parquet")
    try:
        metadata = pq.read_metadata(path)
        schema = metadata.schema.to_arrow_schema()
    except (pa.ArrowInvalid, OSError) as exc:
        raise parquet_damage(name, exc) from exc
    # pandas writes a non-default index as ``__index_level_0__``: bookkeeping, not data.
    header = [n for n in schema.names if not _PANDAS_INDEX.fullmatch(n)]
    canonical = canonical_names(path, header, _header_aliases(), _REQUIRED)
    if metadata.num_rows == 0:
        raise _file_issue(name, "the file has no data rows", "add the activity rows")
    select = ", ".join(
        f"{_ident(raw)} AS {_ident(canon)}" for raw, canon in zip(header, canonical, strict=True)
    )
    try:
        con.execute(
            f"CREATE VIEW src AS SELECT file_row_number + 1 AS __row, {select} "
            f"FROM read_parquet({_sql_string(str(path))}, file_row_number = true)"
        )
        types = _types(con)
    except duckdb.Error as exc:
        raise parquet_damage(name, exc) from exc
    return _Source(name, "parquet", None, int(metadata.num_rows), types)


def _open_text(con: duckdb.DuckDBPyConnection, path: Path) -> _Source:
    # Streamed into a Parquet file in the connection's temporary folder (removed with it),
    # so memory does not grow with the file (issue 11, defect 16).
    folder = con.execute("SELECT current_setting('temp_directory')").fetchone()
    assert folder is not None
    raw = stage_table(path, str(folder[0]), columns=_header_aliases(), required=_REQUIRED)
    if raw.num_rows == 0:
        raise _file_issue(raw.file, "the file has no data rows", "add the activity rows")
    columns = ", ".join(_ident(name) for name in raw.columns)
    con.execute(
        f"CREATE VIEW src AS SELECT file_row_number + {raw.first_row} AS __row, {columns} "
        f"FROM read_parquet({_sql_string(str(raw.parquet))}, file_row_number = true)"
    )
    return _Source(raw.file, raw.format, raw.encoding, raw.num_rows, _types(con))


def _types(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    rows = con.execute("DESCRIBE src").fetchall()
    return {str(row[0]): str(row[1]).upper() for row in rows if row[0] != "__row"}


# ---- the typed view -----------------------------------------------------------------------

_NUMERIC_TYPES = (
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
    "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL",
)  # fmt: skip


def _is_numeric(type_: str) -> bool:
    return type_ in _NUMERIC_TYPES or type_.startswith("DECIMAL")


def _raw(column: str, types: Mapping[str, str], *, nfc: bool = False) -> str:
    """SQL: the trimmed text of a source column, NULL when empty or absent; with ``nfc``, in
    Unicode normal form C (the form every importer stores text in)."""
    if column not in types:
        return "CAST(NULL AS VARCHAR)"
    text = f"CAST(src.{_ident(column)} AS VARCHAR)"
    return f"nullif(trim({f'nfc_normalize({text})' if nfc else text}), '')"


def _date_sql(column: str, types: Mapping[str, str]) -> str:
    type_ = types.get(column)
    if type_ is None:
        return "CAST(NULL AS DATE)"
    ref = f"src.{_ident(column)}"
    if type_ == "DATE":
        return ref
    if type_ in ("TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S"):
        return f"CASE WHEN {ref} = date_trunc('day', {ref}) THEN CAST({ref} AS DATE) END"
    formats = "[" + ", ".join(_sql_string(f) for f in _DATE_FORMATS) + "]"
    parsed = f"try_strptime({_raw(column, types)}, {formats})"
    return f"CASE WHEN {parsed} = date_trunc('day', {parsed}) THEN CAST({parsed} AS DATE) END"


def _double_sql(column: str, types: Mapping[str, str]) -> str:
    type_ = types.get(column)
    if type_ is None:
        return "CAST(NULL AS DOUBLE)"
    if _is_numeric(type_):
        return f"CAST(src.{_ident(column)} AS DOUBLE)"
    # The one number grammar of every import (esgledger.ingest.values_guard).
    return number_sql(_raw(column, types))


#: SQL: why the raw text of ``quantity`` is not a number (the grammar refused it).
_NOT_A_NUMBER_SQL = (
    "CASE WHEN lower(ltrim(quantity__raw, '+-')) IN ('inf', 'infinity', 'nan') "
    "THEN 'not a finite number' "
    "WHEN contains(quantity__raw, ',') THEN 'not a number: it contains a comma' "
    "WHEN contains(quantity__raw, '_') THEN 'not a number: it contains an underscore' "
    "WHEN regexp_full_match(quantity__raw, '[+-]?0[xXbBoO].*') "
    "THEN 'not a number: hexadecimal, binary and octal numbers are not accepted' "
    "ELSE 'not a number' END"
)


def _bool_sql(column: str, types: Mapping[str, str]) -> str:
    """SQL: the boolean, FALSE when empty, NULL when not a boolean."""
    type_ = types.get(column)
    if type_ is None:
        return "FALSE"
    ref = f"src.{_ident(column)}"
    if type_ == "BOOLEAN":
        return f"coalesce({ref}, FALSE)"
    if _is_numeric(type_):
        return (
            f"CASE WHEN {ref} IS NULL THEN FALSE WHEN {ref} = 1 THEN TRUE "
            f"WHEN {ref} = 0 THEN FALSE END"
        )
    text = f"lower({_raw(column, types)})"
    true = ", ".join(_sql_string(t) for t in _TRUE)
    false = ", ".join(_sql_string(f) for f in _FALSE)
    return (
        f"CASE WHEN {text} IS NULL THEN FALSE WHEN {text} IN ({true}) THEN TRUE "
        f"WHEN {text} IN ({false}) THEN FALSE END"
    )


_TEXT_COLUMNS = (
    "record_id", "entity", "site", "meter", "activity", "unit", "supplier", "factor", "notes",
)  # fmt: skip


def _create_typed_view(con: duckdb.DuckDBPyConnection, types: Mapping[str, str]) -> None:
    """The view ``typed``: one row per file row with canonical typed columns, and beside each
    parsed column its raw text as ``<column>__raw`` (for issues)."""
    parts = ["src.__row AS row_number"]
    for column in _TEXT_COLUMNS:
        parts.append(f"{_raw(column, types, nfc=True)} AS {column}")
    parts.append(f"upper({_raw('region', types, nfc=True)}) AS region")
    parts.append(f"{_date_sql('period_start', types)} AS period_start")
    parts.append(f"{_date_sql('period_end', types)} AS period_end")
    parts.append(f"{_double_sql('quantity', types)} AS quantity")
    category = _double_sql("scope3_category", types)
    parts.append(
        f"CASE WHEN {category} BETWEEN 1 AND 15 AND {category} = floor({category}) "
        f"THEN CAST({category} AS INTEGER) END AS scope3_category"
    )
    parts.append(f"{_bool_sql('correction', types)} AS correction")
    for spec in ACTIVITY_COLUMNS:
        parts.append(f"{_raw(spec.name, types)} AS {spec.name}__raw")
    con.execute(f"CREATE VIEW typed AS SELECT {', '.join(parts)} FROM src")


# ---- rules --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _RowRule:
    """A rule checked by a predicate over the ``typed`` view."""

    column: str
    predicate: str
    problem: str  # SQL expression
    fix: str


def _literal(text: str) -> str:
    return _sql_string(text)


def _row_rules(year: int) -> list[_RowRule]:
    first, last = date(year, 1, 1).isoformat(), date(year, 12, 31).isoformat()
    rules: list[_RowRule] = []
    for spec in ACTIVITY_COLUMNS:
        if spec.required:
            rules.append(
                _RowRule(
                    spec.name,
                    f"{spec.name}__raw IS NULL",
                    _literal("the value is missing"),
                    f"fill in {spec.name}: {spec.description}",
                )
            )
    date_fix = "write the date as YYYY-MM-DD (e.g. 2024-01-31) or YYYY/MM/DD"
    for column in ("period_start", "period_end"):
        rules.append(
            _RowRule(
                column,
                f"{column}__raw IS NOT NULL AND {column} IS NULL",
                _literal("not a date"),
                date_fix,
            )
        )
        rules.append(
            _RowRule(
                column,
                f"{column} NOT BETWEEN DATE '{first}' AND DATE '{last}'",
                _literal(f"the date is outside the reporting year {year}"),
                f"import only activity from {first} to {last}; a period spanning two years "
                "is split into one row per year",
            )
        )
    rules.append(
        _RowRule(
            "period_end",
            "period_end < period_start",
            "'the period ends before it starts (period_start ' "
            "|| strftime(period_start, '%Y-%m-%d') || ')'",
            "swap period_start and period_end, or correct the dates",
        )
    )
    rules.append(
        _RowRule(
            "quantity",
            "quantity__raw IS NOT NULL AND quantity IS NULL",
            _NOT_A_NUMBER_SQL,
            "write a plain number such as 1234.5: no thousands separators, units or text",
        )
    )
    rules.append(
        _RowRule(
            "quantity",
            "NOT isfinite(quantity)",
            _literal("not a finite number"),
            "write the amount as a plain number such as 1234.5",
        )
    )
    rules.append(
        _RowRule(
            "quantity",
            "quantity < 0 AND correction = FALSE",
            _literal("a negative quantity is only allowed on a correction row"),
            "give the amount as a positive number, or set correction to true if this row "
            "corrects an earlier one",
        )
    )
    # Text: NUL nowhere, control and invisible characters in no code (values_guard).
    for column in (*_TEXT_COLUMNS, "region"):
        nul = f"regexp_matches({column}__raw, '\\x00')"
        rules.append(_RowRule(column, nul, _literal(NUL_PROBLEM), TEXT_FIX_NUL))
        if is_code_column(column):
            rules.append(
                _RowRule(
                    column,
                    f"regexp_matches({column}__raw, {_literal(INVISIBLE_RE2)}) AND NOT {nul}",
                    _literal(INVISIBLE_PROBLEM),
                    TEXT_FIX_INVISIBLE,
                )
            )
    rules.append(
        _RowRule(
            "scope3_category",
            "scope3_category__raw IS NOT NULL AND scope3_category IS NULL",
            _literal("not a scope 3 category"),
            "write a whole number from 1 to 15 (GHG Protocol Scope 3 Standard categories), "
            "or leave it empty to use the activity's default",
        )
    )
    rules.append(
        _RowRule(
            "correction",
            "correction IS NULL",
            _literal("not true or false"),
            "write true or false (是/否), or leave it empty for false",
        )
    )
    return rules


@dataclass(frozen=True, slots=True)
class _Verdict:
    """A problem with one distinct combination of values (e.g. an unknown unit)."""

    key: tuple[Any, ...]
    column: str
    problem: str
    fix: str
    rows: int


@dataclass(frozen=True, slots=True)
class _ValueRule:
    """A rule checked once per distinct combination of the ``keys`` columns."""

    name: str
    keys: tuple[str, ...]
    check: Callable[[list[tuple[tuple[Any, ...], int]]], list[_Verdict]]


class _Context:
    """What the value rules check against, loaded lazily from the workspace."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._taxonomy: Taxonomy | None = None
        self._library: Any = None
        self._org: tuple[set[str], dict[str, str]] | None = None
        self._types: dict[str, ActivityType | UnknownActivityError] = {}

    @property
    def taxonomy(self) -> Taxonomy:
        if self._taxonomy is None:
            from esgledger.taxonomy import Taxonomy

            self._taxonomy = Taxonomy.for_workspace(self.workspace)
        return self._taxonomy

    def activity_type(self, key: str) -> ActivityType | UnknownActivityError:
        if key not in self._types:
            try:
                self._types[key] = self.taxonomy.get(key)
            except UnknownActivityError as exc:
                self._types[key] = exc
        return self._types[key]

    def known(self, key: str) -> ActivityType | None:
        found = self.activity_type(key)
        return None if isinstance(found, UnknownActivityError) else found

    @property
    def organisation(self) -> tuple[set[str], dict[str, str]]:
        """Entity codes, and the entity of each site code."""
        if self._org is None:
            from esgledger.store.repository import load_entities, load_sites

            with self.workspace.session() as session:
                entities = {str(e["code"]) for e in load_entities(session)}
                sites = {str(s["code"]): str(s["entity"]) for s in load_sites(session)}
            self._org = (entities, sites)
        return self._org

    @property
    def library(self) -> Any:
        if self._library is None:
            from esgledger.factors.library import FactorLibrary

            self._library = FactorLibrary.for_workspace(self.workspace)
        return self._library


def _unit_problem(unit: str) -> str | None:
    from esgledger.units import parse_unit

    try:
        parse_unit(unit)
    except UnitError as exc:
        # An ambiguous spelling ("ton", "mwh") says why and what to write instead.
        return "unknown unit" if str(exc).startswith("unknown unit") else str(exc)
    return None


def _example_unit(dimension: str) -> str | None:
    from esgledger.units import fits_dimension

    for unit in _EXAMPLE_UNITS:
        try:
            if fits_dimension(unit, dimension):
                return unit
        except UnitError:
            continue
    return None


def _check_organisation(ctx: _Context, groups: list[tuple[tuple[Any, ...], int]]) -> list[_Verdict]:
    entities, sites = ctx.organisation
    out: list[_Verdict] = []
    for (entity, site), rows in groups:
        if entity is None:
            continue
        if entity not in entities:
            out.append(
                _Verdict(
                    (entity, site),
                    "entity",
                    "unknown entity",
                    _close(entity, sorted(entities))
                    + "import the entity first (esgledger import WS --kind entities FILE) "
                    "or correct the code",
                    rows,
                )
            )
            continue
        if site is None:
            continue
        owner = sites.get(site)
        if owner is None:
            out.append(
                _Verdict(
                    (entity, site),
                    "site",
                    "unknown site",
                    _close(site, sorted(sites))
                    + "import the site first (esgledger import WS --kind sites FILE), correct "
                    "the code, or leave site empty",
                    rows,
                )
            )
        elif owner != entity:
            out.append(
                _Verdict(
                    (entity, site),
                    "site",
                    f"site {site!r} belongs to entity {owner!r}, not {entity!r}",
                    "correct the entity or the site of the row",
                    rows,
                )
            )
    return out


def _check_activity_unit(
    ctx: _Context, groups: list[tuple[tuple[Any, ...], int]]
) -> list[_Verdict]:
    from esgledger.units import fits_dimension

    out: list[_Verdict] = []
    for (activity, unit), rows in groups:
        if activity is not None:
            found = ctx.activity_type(activity)
            if isinstance(found, UnknownActivityError):
                out.append(
                    _Verdict(
                        (activity, unit),
                        "activity",
                        str(found),
                        "use a key that `esgledger activities` lists, or import your own "
                        "type first (esgledger import WS --kind activity-types FILE)",
                        rows,
                    )
                )
                continue
            if found.family in _GAS_FAMILIES and found.suffix is not None:
                from esgledger.gwp import canonical_gas

                try:
                    canonical_gas(found.suffix)
                except UnknownGasError as exc:
                    out.append(
                        _Verdict(
                            (activity, unit),
                            "activity",
                            str(exc),
                            f"write the gas after {found.family[:-1]!r}, e.g. "
                            f"{_GAS_FAMILIES[found.family]}",
                            rows,
                        )
                    )
        if unit is None:
            continue
        problem = _unit_problem(unit) or unit_scale_problem(unit)
        if problem is not None:
            out.append(
                _Verdict(
                    (activity, unit),
                    "unit",
                    problem,
                    "write a unit such as kWh, MWh, L, m3, Nm3, t, kg, tkm, pkm, room_night, "
                    "CNY or 万元 (`esgledger units` lists them all)",
                    rows,
                )
            )
            continue
        activity_type = ctx.known(activity) if activity is not None else None
        if activity_type is None:
            continue
        if not fits_dimension(unit, activity_type.dimension):
            example = _example_unit(activity_type.dimension)
            hint = f", e.g. {example}" if example else ""
            out.append(
                _Verdict(
                    (activity, unit),
                    "unit",
                    f"the unit does not fit activity {activity!r}, which needs "
                    f"{activity_type.dimension}",
                    f"give the quantity in a unit of {activity_type.dimension}{hint}",
                    rows,
                )
            )
    return out


def _check_region(_ctx: _Context, groups: list[tuple[tuple[Any, ...], int]]) -> list[_Verdict]:
    from esgledger.regions import all_regions, is_known

    out: list[_Verdict] = []
    for (region,), rows in groups:
        if region is not None and not is_known(region):
            out.append(
                _Verdict(
                    (region,),
                    "region",
                    "unknown region code",
                    _close(region, sorted(all_regions()))
                    + "use a code of esgledger's region table (CN, CN-GD, CN-GRID-SOUTH, HK, US, "
                    "US-EGRID-CAMX, GLOBAL ...) or leave region empty to use the site's",
                    rows,
                )
            )
    return out


def _check_scope3(ctx: _Context, groups: list[tuple[tuple[Any, ...], int]]) -> list[_Verdict]:
    out: list[_Verdict] = []
    for (activity, category), rows in groups:
        if category is None or activity is None:
            continue
        activity_type = ctx.known(activity)
        if activity_type is not None and activity_type.scope != 3:
            out.append(
                _Verdict(
                    (activity, category),
                    "scope3_category",
                    f"activity {activity!r} is scope {activity_type.scope}; a scope 3 category "
                    "only applies to scope 3 activities",
                    "leave scope3_category empty on this row",
                    rows,
                )
            )
    return out


def _check_factor(ctx: _Context, groups: list[tuple[tuple[Any, ...], int]]) -> list[_Verdict]:
    from esgledger.units import currency_of, fits_dimension, parse_unit

    out: list[_Verdict] = []
    for (factor_id, activity, unit), rows in groups:
        if factor_id is None:
            continue
        key = (factor_id, activity, unit)
        try:
            factor = ctx.library.get(factor_id)
        except FactorNotFoundError as exc:
            out.append(
                _Verdict(
                    key,
                    "factor",
                    str(exc),
                    "use a factor id of the library, or leave factor empty to let esgledger choose",
                    rows,
                )
            )
            continue
        activity_type = ctx.known(activity) if activity is not None else None
        if activity_type is None or unit is None or _unit_problem(unit) is not None:
            continue  # reported on the activity or unit column
        factor_unit = str(factor["unit"])
        try:
            fits = fits_dimension(factor_unit, activity_type.dimension)
            money = currency_of(unit) is not None and currency_of(factor_unit) is not None
            convertible = money or (
                parse_unit(unit).dimensionality == parse_unit(factor_unit).dimensionality
            )
        except UnitError:
            fits = convertible = False
        if not fits:
            problem = (
                f"factor {factor_id!r} is per {factor_unit}, which does not fit activity "
                f"{activity!r} ({activity_type.dimension})"
            )
        elif not convertible:
            problem = (
                f"factor {factor_id!r} is per {factor_unit}; unit {unit!r} cannot be "
                "converted to it"
            )
        else:
            continue
        out.append(
            _Verdict(
                key,
                "factor",
                problem,
                "choose a factor of the activity's dimension, or leave factor empty",
                rows,
            )
        )
    return out


def _value_rules(ctx: _Context) -> list[_ValueRule]:
    return [
        _ValueRule("organisation", ("entity", "site"), lambda g: _check_organisation(ctx, g)),
        _ValueRule("activity_unit", ("activity", "unit"), lambda g: _check_activity_unit(ctx, g)),
        _ValueRule("region", ("region",), lambda g: _check_region(ctx, g)),
        _ValueRule("scope3", ("activity", "scope3_category"), lambda g: _check_scope3(ctx, g)),
        _ValueRule("factor", ("factor", "activity", "unit"), lambda g: _check_factor(ctx, g)),
    ]


# ---- validation ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Findings:
    issues: list[Issue]
    total: int

    def add(self, issues: list[Issue], count: int) -> None:
        self.issues.extend(issues)
        self.total += count


@dataclass(frozen=True, slots=True)
class _Stats:
    period_start: date | None
    period_end: date | None
    by_activity_unit: list[tuple[str, str, int, float]]
    overlaps: _Overlaps | None = None
    #: The file's activities that the overlap rule compares (scope 1 and 2 types).
    overlap_activities: tuple[str, ...] = ()


def _distinct_groups(
    con: duckdb.DuckDBPyConnection, rules: Sequence[_ValueRule]
) -> tuple[dict[str, list[tuple[tuple[Any, ...], int]]], list[tuple[str, str, int, float]]]:
    """One scan: the distinct key combinations of every value rule with their row counts,
    and rows and total quantity per (activity, unit)."""
    columns: list[str] = []
    for rule in rules:
        for column in rule.keys:
            if column not in columns:
                columns.append(column)
    sets = ", ".join("(" + ", ".join(rule.keys) + ")" for rule in rules)
    rows = con.execute(
        f"SELECT GROUPING({', '.join(columns)}) AS g, {', '.join(columns)}, "
        f"count(*) AS n, sum(quantity) AS quantity_sum "
        f"FROM typed GROUP BY GROUPING SETS ({sets})"
    ).fetchall()
    masks: dict[int, list[_ValueRule]] = {}
    for rule in rules:
        mask = sum(
            1 << (len(columns) - 1 - index)
            for index, column in enumerate(columns)
            if column not in rule.keys
        )
        masks.setdefault(mask, []).append(rule)
    groups: dict[str, list[tuple[tuple[Any, ...], int]]] = {rule.name: [] for rule in rules}
    totals: list[tuple[str, str, int, float]] = []
    position = {column: index + 1 for index, column in enumerate(columns)}
    for row in rows:
        n = int(row[-2])
        for rule in masks.get(int(row[0]), []):
            key = tuple(row[position[column]] for column in rule.keys)
            groups[rule.name].append((key, n))
            if rule.keys == ("activity", "unit") and None not in key:
                totals.append((key[0], key[1], n, float(row[-1] or 0.0)))
    totals.sort()
    return groups, totals


def _fetch_value_issues(
    con: duckdb.DuckDBPyConnection, name: str, rule: _ValueRule, verdicts: list[_Verdict]
) -> list[Issue]:
    keys = list(rule.keys)
    arrays: dict[str, pa.Array] = {}
    for index, key in enumerate(keys):
        type_ = pa.int32() if key == "scope3_category" else pa.string()
        arrays[f"k_{key}"] = pa.array([v.key[index] for v in verdicts], type=type_)
    arrays["v_column"] = pa.array([v.column for v in verdicts], type=pa.string())
    arrays["v_problem"] = pa.array([v.problem for v in verdicts], type=pa.string())
    arrays["v_fix"] = pa.array([v.fix for v in verdicts], type=pa.string())
    con.register("verdicts", pa.table(arrays))
    try:
        join = " AND ".join(f"t.{key} IS NOT DISTINCT FROM v.k_{key}" for key in keys)
        raw = (
            "CASE v.v_column "
            + " ".join(
                f"WHEN {_sql_string(spec.name)} THEN t.{spec.name}__raw"
                for spec in ACTIVITY_COLUMNS
            )
            + " END"
        )
        rows = con.execute(
            f"SELECT t.row_number, v.v_column, {raw}, v.v_problem, v.v_fix "
            f"FROM typed t JOIN verdicts v ON {join} ORDER BY t.row_number LIMIT {ISSUE_CAP}"
        ).fetchall()
    finally:
        con.unregister("verdicts")
    return [Issue(name, int(r[0]), r[1], r[2], r[3], r[4]) for r in rows]


def _quantity_bounds(
    con: duckdb.DuckDBPyConnection, groups: list[tuple[tuple[Any, ...], int]]
) -> list[_RowRule]:
    """The rule bounding each row's quantity by its unit's dimension
    (``schema/value_bounds.csv``, :func:`esgledger.ingest.values_guard.quantity_limit`),
    checked through a small table of the file's distinct units."""
    limits: dict[str, tuple[float, float, str]] = {}
    for (_activity, unit), _rows in groups:
        if unit is not None and unit not in limits and _unit_problem(unit) is None:
            found = quantity_limit(unit)
            if found is not None:
                limits[unit] = found
    if not limits:
        return []
    con.register(
        "quantity_bounds",
        pa.table(
            {
                "unit": pa.array(list(limits), pa.string()),
                "lo": pa.array([v[0] for v in limits.values()], pa.float64()),
                "hi": pa.array([v[1] for v in limits.values()], pa.float64()),
                "problem": pa.array([v[2] for v in limits.values()], pa.string()),
            }
        ),
    )
    bound = "(SELECT {0} FROM quantity_bounds b WHERE b.unit = typed.unit)"
    return [
        _RowRule(
            "quantity",
            f"isfinite(quantity) AND quantity NOT BETWEEN {bound.format('lo')} "
            f"AND {bound.format('hi')}",
            bound.format("problem"),
            "check the quantity and its unit (a slip of the decimal point, or MWh for kWh?)",
        )
    ]


def _check_rows(
    con: duckdb.DuckDBPyConnection,
    name: str,
    year: int,
    findings: _Findings,
    extra: Sequence[_RowRule] = (),
) -> tuple[date | None, date | None]:
    rules = [*_row_rules(year), *extra]
    counts = ", ".join(f"count(*) FILTER (WHERE {rule.predicate})" for rule in rules)
    result = con.execute(
        f"SELECT {counts}, min(period_start), max(period_end) FROM typed"
    ).fetchone()
    if result is None:  # pragma: no cover - an aggregate without GROUP BY returns one row
        raise WorkspaceError("DuckDB returned no row for an aggregate")
    for index, rule in enumerate(rules):
        count = int(result[index])
        if count == 0:
            continue
        rows = con.execute(
            f"SELECT row_number, {rule.column}__raw, {rule.problem} FROM typed "
            f"WHERE {rule.predicate} ORDER BY row_number LIMIT {ISSUE_CAP}"
        ).fetchall()
        findings.add(
            [Issue(name, int(r[0]), rule.column, r[1], r[2], rule.fix) for r in rows],
            count,
        )
    return result[-2], result[-1]


def _check_record_ids(
    con: duckdb.DuckDBPyConnection,
    name: str,
    has_record_id: bool,
    lake_files: Sequence[Path],
    findings: _Findings,
) -> None:
    if not has_record_id:
        return
    con.execute(
        "CREATE TEMP TABLE duplicate_ids AS SELECT record_id, min(row_number) AS first_row, "
        "count(*) AS n FROM typed WHERE record_id IS NOT NULL GROUP BY record_id HAVING n > 1"
    )
    result = con.execute("SELECT coalesce(sum(n - 1), 0) FROM duplicate_ids").fetchone()
    count = int(result[0]) if result else 0
    if count:
        rows = con.execute(
            "SELECT t.row_number, t.record_id__raw, d.first_row FROM typed t "
            "JOIN duplicate_ids d USING (record_id) WHERE t.row_number > d.first_row "
            f"ORDER BY t.row_number LIMIT {ISSUE_CAP}"
        ).fetchall()
        findings.add(
            [
                Issue(
                    name,
                    int(r[0]),
                    "record_id",
                    r[1],
                    f"the record id is used more than once in the file (first in row {r[2]})",
                    "give every row its own record id, or remove the repeated row",
                )
                for r in rows
            ],
            count,
        )
    if not lake_files:
        return
    files = "[" + ", ".join(_sql_string(str(p)) for p in lake_files) + "]"
    con.execute(
        "CREATE TEMP VIEW lake_ids AS SELECT entity, record_id, batch_id, row_number "
        f"FROM read_parquet({files}, union_by_name = true) WHERE record_id IS NOT NULL"
    )
    match = "FROM typed t JOIN lake_ids l ON t.entity = l.entity AND t.record_id = l.record_id"
    result = con.execute(f"SELECT count(*) {match}").fetchone()
    count = int(result[0]) if result else 0
    if count:
        rows = con.execute(
            f"SELECT t.row_number, t.record_id__raw, t.entity, l.batch_id, l.row_number {match} "
            f"ORDER BY t.row_number LIMIT {ISSUE_CAP}"
        ).fetchall()
        findings.add(
            [
                Issue(
                    name,
                    int(r[0]),
                    "record_id",
                    r[1],
                    f"entity {r[2]!r} already has this record id in batch {r[3]} (row {r[4]}); "
                    "importing it again would count it twice",
                    "remove rows that were imported before; a row that corrects one gets a new "
                    "record id and correction = true",
                )
                for r in rows
            ],
            count,
        )


def _lake_batches(workspace: Workspace) -> list[tuple[str, str, Path]]:
    """The live activity batches in import order: (batch id, file name, lake file).

    Live: submitted or approved (:data:`~esgledger.ingest.batches.LIVE_STATUSES`); withdrawn
    and superseded batches, and the batch the running import corrects
    (:attr:`~esgledger.ingest.batches.ImportContext.replaces`), hold no rows a new file could
    count twice."""
    from esgledger.ingest.batches import LIVE_STATUSES
    from esgledger.store.repository import load_batches

    replaces = current_context().replaces
    with workspace.session() as session:
        batches = [
            b
            for b in load_batches(session)
            if b.kind == KIND and b.lake_path and b.status in LIVE_STATUSES and b.id not in replaces
        ]
    out = [(str(b.id), str(b.file_name), workspace.lake / str(b.lake_path)) for b in batches]
    missing = [f for _, _, f in out if not f.is_file()]
    if missing:
        raise WorkspaceError(
            f"the lake file {missing[0]} of an imported activity batch is missing; restore it "
            f"from a backup, or run `esgledger doctor {workspace.root} --repair` to unregister "
            "the batch so that its file can be imported again"
        )
    return out


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    found = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(found[0]) if found else 0


def _overlap_activities(ctx: _Context, groups: list[tuple[tuple[Any, ...], int]]) -> list[str]:
    """The file's activities whose rows are compared for overlaps (scope 1 and 2 types)."""
    from esgledger.overlaps import OVERLAP_SCOPES

    out: set[str] = set()
    for (activity, _unit), _n in groups:
        found = ctx.known(str(activity)) if activity is not None else None
        if found is not None and found.scope in OVERLAP_SCOPES:
            out.add(str(activity))
    return sorted(out)


@dataclass(frozen=True, slots=True)
class _Overlaps:
    """Rows of the file that overlap other rows (accepted under the ``warn`` rule)."""

    issues: list[Issue]
    total: int
    rule: str


def _row_ref(ref: Mapping[str, Any] | None, files: Mapping[str, str]) -> str:
    """``row 7 of this file (record id E-7)`` or ``row 4 of batch b-… (jan.csv, record id
    E-1)``."""
    if ref is None:  # pragma: no cover - the SQL gives a ref with every hit
        return "another row"
    record = f"record id {ref['record_id']}" if ref.get("record_id") else ""
    batch = ref.get("batch_id")
    if batch is None:
        return f"row {ref['row_number']} of this file" + (f" ({record})" if record else "")
    where = ", ".join(part for part in (files.get(str(batch), ""), record) if part)
    return f"row {ref['row_number']} of batch {batch}" + (f" ({where})" if where else "")


def _check_overlaps(
    con: duckdb.DuckDBPyConnection,
    name: str,
    activities: Sequence[str],
    batches: Sequence[tuple[str, str, Path]],
    rule: str,
    findings: _Findings,
) -> _Overlaps:
    """Exact duplicates (refused) and overlapping periods (refused under ``reject``, else
    returned as warnings) of the file's scope 1 and 2 rows, against each other and the lake
    (:func:`esgledger.overlaps.overlap_sql`)."""
    from esgledger.overlaps import (
        DUPLICATE_COLUMNS,
        candidates_sql,
        hot_months_sql,
        overlap_sql,
    )

    none = _Overlaps([], 0, rule)
    if not activities:
        return none
    wanted = ", ".join(_sql_string(a) for a in activities)
    columns = ", ".join(DUPLICATE_COLUMNS)
    con.execute(
        f"CREATE TEMP VIEW ov_new AS SELECT {columns}, "
        "{'batch_id': CAST(NULL AS VARCHAR), 'row_number': CAST(row_number AS BIGINT), "
        "'record_id': record_id} AS ref, 1 AS _origin, -1 AS _seq, row_number AS _row "
        f"FROM typed WHERE activity IN ({wanted}) AND NOT correction"
    )
    union = "SELECT * FROM ov_new"
    if batches:
        files = "[" + ", ".join(_sql_string(str(f)) for _, _, f in batches) + "]"
        lake = f"read_parquet({files}, union_by_name = true)"
        names = {str(r[0]) for r in con.execute(f"DESCRIBE SELECT * FROM {lake}").fetchall()}
        meter = "l.meter" if "meter" in names else "CAST(NULL AS VARCHAR)"
        con.register(
            "ov_batches",
            pa.table(
                {
                    "batch_id": pa.array([b for b, _, _ in batches], pa.string()),
                    "seq": pa.array(range(len(batches)), pa.int64()),
                }
            ),
        )
        picked = ", ".join(
            f"{meter} AS meter" if c == "meter" else f"l.{c}" for c in DUPLICATE_COLUMNS
        )
        con.execute(
            f"""
            CREATE TEMP VIEW ov_lake AS
            SELECT {picked},
                {{'batch_id': l.batch_id, 'row_number': l.row_number,
                  'record_id': l.record_id}} AS ref,
                0 AS _origin, b.seq AS _seq, l.row_number AS _row
            FROM {lake} l
            JOIN ov_batches b ON b.batch_id = l.batch_id
            SEMI JOIN (SELECT DISTINCT entity, site, activity FROM ov_new) k
                ON k.entity = l.entity AND k.site IS NOT DISTINCT FROM l.site
                AND k.activity = l.activity
            WHERE l.activity IN ({wanted}) AND l.correction IS NOT TRUE
            """
        )
        union += " UNION ALL SELECT * FROM ov_lake"
    con.execute(f"CREATE TEMP VIEW ov_all AS {union}")
    con.execute(f"CREATE TEMP TABLE ov_hot AS {hot_months_sql('ov_all')}")
    if not _count(con, "ov_hot"):
        return none
    candidates = candidates_sql("ov_all", "ov_hot")
    con.execute(
        "CREATE TEMP TABLE ov_hits AS SELECT _row, ref, overlapping, overlap_with, duplicate_of, "
        f"entity, site, activity, supplier, meter, period_start, period_end FROM "
        f"({overlap_sql(f'({candidates})', order=('_origin', '_seq', '_row'))}) "
        "WHERE _origin = 1 AND (overlapping OR duplicate_of IS NOT NULL)"
    )
    counts = con.execute(
        "SELECT count(*) FILTER (WHERE duplicate_of IS NOT NULL), "
        "count(*) FILTER (WHERE duplicate_of IS NULL) FROM ov_hits"
    ).fetchone()
    duplicates, overlaps = (int(counts[0]), int(counts[1])) if counts else (0, 0)
    if not duplicates and not overlaps:
        return none
    files_of = {b: f for b, f, _ in batches}
    if duplicates:
        rows = con.execute(
            "SELECT _row, duplicate_of FROM ov_hits WHERE duplicate_of IS NOT NULL "
            f"ORDER BY _row LIMIT {ISSUE_CAP}"
        ).fetchall()
        findings.add(
            [
                Issue(
                    name,
                    int(r[0]),
                    "quantity",
                    None,
                    f"exact duplicate of {_row_ref(r[1], files_of)}: same entity, site, meter, "
                    "activity, supplier, period, quantity, unit, region and factor; it would be "
                    "counted twice",
                    "remove the row; if it is really separate consumption, give each row its "
                    "meter id",
                )
                for r in rows
            ],
            duplicates,
        )
    if not overlaps:
        return none
    rows = con.execute(
        "SELECT _row, overlap_with, entity, site, activity, supplier, meter, period_start, "
        f"period_end FROM ov_hits WHERE duplicate_of IS NULL ORDER BY _row LIMIT {ISSUE_CAP}"
    ).fetchall()
    issues = [
        Issue(
            name,
            int(r[0]),
            "period_start",
            f"{r[7]}..{r[8]}",
            f"the period overlaps {_row_ref(r[1], files_of)}, of the same entity {r[2]}, site "
            f"{r[3] or '(none)'}, activity {r[4]}, supplier {r[5] or '(none)'} and meter "
            f"{r[6] or '(none)'}: the same consumption may be counted twice",
            "if it is the same consumption, remove this row (or adjust the earlier one with a "
            "row of correction = true); if it is other consumption, tell the rows apart by "
            "their meter or supplier",
        )
        for r in rows
    ]
    if rule == "reject":
        findings.add(
            [
                Issue(
                    i.file,
                    i.row,
                    i.column,
                    i.value,
                    i.problem + ' ([import] overlaps = "reject")',
                    i.fix,
                )
                for i in issues
            ],
            overlaps,
        )
        return none
    return _Overlaps(issues, overlaps, rule)


def _validate(con: duckdb.DuckDBPyConnection, workspace: Workspace, source: _Source) -> _Stats:
    """Run every rule; raise :class:`InputError` with all issues, or return the stats (with
    the overlaps accepted under the workspace's ``warn`` rule)."""
    name = source.name
    ctx = _Context(workspace)
    rules = _value_rules(ctx)
    findings = _Findings([], 0)
    _create_typed_view(con, source.types)

    groups, totals = _distinct_groups(con, rules)
    for rule in rules:
        verdicts = rule.check(groups[rule.name])
        if verdicts:
            findings.add(
                _fetch_value_issues(con, name, rule, verdicts), sum(v.rows for v in verdicts)
            )
    bounded = _quantity_bounds(con, groups["activity_unit"])
    first, last = _check_rows(con, name, workspace.reporting_year, findings, bounded)
    batches = _lake_batches(workspace)
    _check_record_ids(con, name, "record_id" in source.types, [f for _, _, f in batches], findings)
    # Rows can be compared only once their values are valid (dates, units, codes): the
    # overlap and duplicate rule runs on files that passed every other rule.
    overlaps = (
        _check_overlaps(
            con,
            name,
            _overlap_activities(ctx, groups["activity_unit"]),
            batches,
            workspace.overlap_rule,
            findings,
        )
        if not findings.total
        else None
    )

    _raise_findings(name, findings)
    activities = tuple(_overlap_activities(ctx, groups["activity_unit"]))
    return _Stats(first, last, totals, overlaps, activities)


def _check_lake(
    con: duckdb.DuckDBPyConnection,
    workspace: Workspace,
    source: _Source,
    activities: Sequence[str],
    findings: _Findings,
) -> _Overlaps | None:
    """The rules of :func:`_validate` that compare the file with the lake (record ids already
    imported, exact duplicates, overlaps), for :func:`_recheck_lake`."""
    name = source.name
    batches = _lake_batches(workspace)
    _check_record_ids(con, name, "record_id" in source.types, [f for _, _, f in batches], findings)
    # Rows can be compared only once their values are valid (dates, units, codes): the
    # overlap and duplicate rule runs on files that passed every other rule.
    if findings.total:
        return None
    return _check_overlaps(con, name, activities, batches, workspace.overlap_rule, findings)


_LAKE_TEMP_TABLES = ("duplicate_ids", "ov_hot", "ov_hits")
_LAKE_TEMP_VIEWS = ("ov_all", "ov_lake", "ov_new", "lake_ids")


def _recheck_lake(
    con: duckdb.DuckDBPyConnection, workspace: Workspace, source: _Source, stats: _Stats
) -> _Overlaps | None:
    """:func:`_check_lake` again, against the lake as it is now (under the write lock)."""
    for view in _LAKE_TEMP_VIEWS:
        con.execute(f"DROP VIEW IF EXISTS {view}")
    for table in _LAKE_TEMP_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {table}")
    with contextlib.suppress(duckdb.Error):
        con.unregister("ov_batches")
    findings = _Findings([], 0)
    overlaps = _check_lake(con, workspace, source, stats.overlap_activities, findings)
    _raise_findings(source.name, findings)
    return overlaps


def _raise_findings(name: str, findings: _Findings) -> None:
    if not findings.total:
        return
    findings.issues.sort(
        key=lambda i: (i.row if i.row is not None else 0, _ORDER.get(i.column or "", 99))
    )
    raise InputError(
        f"{name} was rejected: {_plural(findings.total, 'issue')} found; nothing was imported",
        findings.issues[:ISSUE_CAP],
        total=findings.total,
    )


# ---- writing ------------------------------------------------------------------------------


def _lake_select(batch_id: str) -> str:
    return (
        f"SELECT {_sql_string(batch_id)} AS batch_id, row_number, record_id, entity, site, "
        "meter, period_start, period_end, activity, quantity, unit, region, supplier, "
        "scope3_category, factor, correction, notes FROM typed"
    )


def _summary(source: _Source, stats: _Stats) -> dict[str, object]:
    by_activity: dict[str, int] = {}
    for activity, _unit, rows, _quantity in stats.by_activity_unit:
        by_activity[activity] = by_activity.get(activity, 0) + rows
    out: dict[str, object] = {
        "rows": source.rows,
        "format": source.format,
        "encoding": source.encoding,
        "period_start": None if stats.period_start is None else stats.period_start.isoformat(),
        "period_end": None if stats.period_end is None else stats.period_end.isoformat(),
        "rows_by_activity": dict(sorted(by_activity.items())),
        "quantity_by_activity_unit": [
            {"activity": activity, "unit": unit, "rows": rows, "quantity": quantity}
            for activity, unit, rows, quantity in stats.by_activity_unit
        ],
    }
    if stats.overlaps is not None and stats.overlaps.total:
        out["overlaps"] = {
            "rows": stats.overlaps.total,
            "rule": stats.overlaps.rule,
            "listed": [
                {"row": i.row, "value": i.value, "problem": i.problem}
                for i in stats.overlaps.issues[:_SUMMARY_OVERLAPS]
            ],
        }
    return out


@contextlib.contextmanager
def _duckdb() -> Iterator[duckdb.DuckDBPyConnection]:
    with tempfile.TemporaryDirectory(prefix="esgledger-duckdb-") as spill:
        con = duckdb.connect(
            config={
                "memory_limit": DUCKDB_MEMORY_LIMIT,
                "temp_directory": spill,
            }
        )
        try:
            con.execute("SET enable_progress_bar = false")
            yield con
        finally:
            con.close()


def import_activities(
    workspace: Workspace, path: Path | str, *, progress: bool = False
) -> ImportResult:
    """Validate an activity file and store it as one immutable batch in the lake.

    Parameters
    ----------
    workspace
        The open workspace (its entities, sites, activity types and factor sets are what the
        rows are checked against; its reporting year bounds the periods).
    path
        A CSV (UTF-8 or GB18030), XLSX or Parquet file with the columns of
        :data:`ACTIVITY_COLUMNS`.
    progress
        Show a progress bar on stderr for files of :data:`PROGRESS_MIN_BYTES` or more.

    Returns
    -------
    ImportResult
        ``created`` is False when the same bytes were imported before (nothing changed).

    Raises
    ------
    InputError
        If the file is unreadable, empty or has any invalid row; ``issues`` lists them by row
        (at most :data:`ISSUE_CAP`; ``total`` counts all). Nothing is written.
    WorkspaceError
        If the batch cannot be registered or its lake file cannot be put in place (nothing is
        left behind).
    """
    path = Path(path)
    fmt = detect_format(path)
    if not path.is_file():
        raise _file_issue(path.name, f"the file {path} does not exist", "check the path")
    digest = file_sha256(path)
    done = already_imported(workspace, KIND, path, digest)
    if done is not None:
        return done

    from esgledger.store.repository import batch_id_for

    batch_id = batch_id_for(KIND, digest)
    from esgledger.ingest.batches import batch_ids

    seen = batch_ids(workspace)
    show = progress and path.stat().st_size >= PROGRESS_MIN_BYTES
    with _Progress(show, path.name) as bar, _duckdb() as con, _damage(path, fmt):
        source = _open_parquet(con, path) if fmt == "parquet" else _open_text(con, path)
        bar.phase(1)
        stats = _validate(con, workspace, source)
        bar.phase(2)
        return _store(con, workspace, path, digest, batch_id, source, stats, seen)


@contextlib.contextmanager
def _damage(path: Path, fmt: str) -> Iterator[None]:
    """Turn DuckDB's errors about a damaged Parquet file (found while scanning its pages,
    after its footer read fine) into a rejection of the file. Errors of our own SQL
    (binder, parser, catalog) are bugs and pass through."""
    try:
        yield
    except (duckdb.BinderException, duckdb.ParserException, duckdb.CatalogException):
        raise
    except duckdb.Error as exc:
        if fmt != "parquet":
            raise
        raise parquet_damage(path.name, exc) from exc


def _store(
    con: duckdb.DuckDBPyConnection,
    workspace: Workspace,
    path: Path,
    digest: str,
    batch_id: str,
    source: _Source,
    stats: _Stats,
    seen: frozenset[str],
) -> ImportResult:
    """Write and flush the lake file under a temporary name, then, under the workspace's
    write lock, re-check the lake if other batches came in meanwhile, rename the file to its
    final name and commit the batch (:func:`~esgledger.ingest.batches.commit_lake_batch`); leave
    nothing behind when any step fails."""
    checked = {"overlaps": stats.overlaps}
    # The entities the batch reports for: what scopes a data owner's view of the registry.
    entities = [
        str(r[0])
        for r in con.execute(
            "SELECT DISTINCT entity FROM typed WHERE entity IS NOT NULL ORDER BY 1"
        ).fetchall()
    ]

    def recheck() -> Callable[[Any, Any], None]:
        overlaps = checked["overlaps"] = _recheck_lake(con, workspace, source, stats)
        summary = {
            **_summary(source, dataclasses.replace(stats, overlaps=overlaps)),
            "entities": entities,
        }
        return lambda _session, batch: setattr(batch, "summary", summary)

    result = commit_lake_batch(
        workspace,
        KIND,
        path,
        digest,
        lake_dir=LAKE_DIR,
        batch_id=batch_id,
        write_file=lambda temporary: con.execute(
            f"COPY ({_lake_select(batch_id)}) TO {_sql_string(str(temporary))} "
            "(FORMAT parquet, COMPRESSION zstd)"
        ),
        rows=source.rows,
        message="",
        summary={**_summary(source, stats), "entities": entities},
        seen=seen,
        recheck=recheck,
    )
    if not result.created:
        return result
    overlaps = checked["overlaps"]
    activities = len({activity for activity, *_ in stats.by_activity_unit})
    message = (
        f"Imported {_plural(source.rows, 'activity row')} from {source.name} as batch "
        f"{batch_id} ({_plural(activities, 'activity', 'activities')}, "
        f"{stats.period_start} to {stats.period_end})."
    )
    if overlaps is not None and overlaps.total:
        message += (
            f" Warning: {_plural(overlaps.total, 'row')} "
            f"{'overlaps' if overlaps.total == 1 else 'overlap'} other activity rows of "
            "the same entity, site, activity, supplier and meter; they were imported and will "
            'be counted (listed below; [import] overlaps = "reject" refuses such files).'
        )
        return dataclasses.replace(
            result,
            message=message,
            warnings=tuple(overlaps.issues),
            warning_total=overlaps.total,
        )
    return dataclasses.replace(result, message=message)
