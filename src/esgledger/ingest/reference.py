"""Importers of reference data: entities, sites, user activity types, user factor sets and
exchange rates.

参考数据导入：主体、站点、自定义活动类型、自定义排放因子集、汇率。

Each importer reads one CSV / XLSX / Parquet file (header names in English or in the Chinese
of our templates, see the ``esgledger/schema/*_columns.csv`` files), checks **every** row and
then either writes the whole file in one transaction or rejects it with an
:class:`~esgledger.errors.InputError` whose issues name the file, row, column, value, problem
and fix. Importing the same bytes again is a no-op that returns the earlier batch.

================  ======================  ==============================================
kind              importer                columns (schema file)
================  ======================  ==============================================
entities          :func:`import_entities`  ``entity_columns.csv``
sites             :func:`import_sites`     ``site_columns.csv``
activity-types    :func:`import_activity_types`  ``activity_type_columns.csv``
factors           :func:`import_factors`   ``factor_import_columns.csv``
fx                :func:`import_fx`        ``fx_columns.csv``
================  ======================  ==============================================

Entities, sites, activity types and exchange rates are upserts: a row whose key is already
stored replaces it, rows absent from the file stay. A factor file becomes **one user factor
set**, ``user-<slug of the file name>`` (``factors-2024.csv`` → ``user-factors-2024``), with
precedence :data:`USER_SET_PRECEDENCE` (100; shipped sets are 0, so a user factor wins at
equal tier and vintage). Importing a changed file of the same name replaces that set whole.
A caller that wants another set id or a higher precedence passes ``set_id=`` and
``precedence=`` to :func:`import_factors` (the CLI does not expose them yet).

Values are read the way an analyst types them: surrounding blanks and full-width characters
(``１００``, ``ＣＮ``) are normalised; booleans accept true/false, yes/no, y/n, 1/0 and 是/否;
percentages accept a trailing ``%``; codes of countries, regions, currencies and GWP sets are
case-insensitive and stored in their canonical case. Anything else that is not clearly what
was meant is rejected with a suggestion rather than guessed.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from esgledger.errors import InputError, Issue, close_matches
from esgledger.ingest import ImportResult
from esgledger.ingest.batches import already_imported, batch_ids, commit_batch, file_sha256
from esgledger.ingest.readers import RawTable, read_table
from esgledger.ingest.values_guard import (
    check_number,
    guard_text,
    measure_of_column,
    number_fix,
    unit_scale_problem,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from esgledger.store import Workspace
    from esgledger.store.models import ImportBatch
    from esgledger.taxonomy import ActivityType, Taxonomy

__all__ = [
    "FACTOR_METHODS",
    "PRICE_BASES",
    "USER_SET_PRECEDENCE",
    "ColumnSpec",
    "SiteType",
    "column_specs",
    "factor_set_id_for",
    "import_activity_types",
    "import_entities",
    "import_factors",
    "import_fx",
    "import_sites",
    "site_types",
]

#: Precedence of a user factor set unless the caller asks for another one (shipped sets: 0).
USER_SET_PRECEDENCE = 100

#: What a factor represents (``method`` column of ``schema/factor_columns.csv``).
FACTOR_METHODS: tuple[str, ...] = (
    "location",
    "residual_mix",
    "market_reporting",
    "supplier",
    "spend",
    "distance",
    "fuel",
    "waste",
    "average",
    "reported",
    "lifecycle",
    "td_losses",
    "wtt",
)

#: Price bases of spend factors.
PRICE_BASES: tuple[str, ...] = ("purchaser", "producer")

#: The schema file of each kind of input file.
_SCHEMA_FILES: dict[str, str] = {
    "activities": "activity_columns.csv",
    "entities": "entity_columns.csv",
    "sites": "site_columns.csv",
    "activity-types": "activity_type_columns.csv",
    "factors": "factor_import_columns.csv",
    "fx": "fx_columns.csv",
    "instruments": "instrument_columns.csv",
    "emissions-history": "history_columns.csv",
    "targets": "target_columns.csv",
    "measures": "measure_columns.csv",
    "credits": "credit_columns.csv",
    "retirements": "retirement_columns.csv",
    "metrics": "metric_columns.csv",
    "metric-values": "metric_value_columns.csv",
    "meters": "meter_columns.csv",
    "readings": "reading_columns.csv",
    "weather": "weather_columns.csv",
    "trips": "trip_columns.csv",
}

_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S")
_DATE_FIX = "write the date as YYYY-MM-DD (e.g. 2024-01-31) or YYYY/MM/DD"

# Lengths of the database columns (store/models.py).
_CODE_LENGTH = 100
_NAME_LENGTH = 300
_ACTIVITY_LENGTH = 120
_FACTOR_ID_LENGTH = 200
_SET_ID_LENGTH = 80
_SOURCE_LENGTH = 300
_SHORT_TEXT_LENGTH = 200

_TRUE = frozenset({"true", "t", "yes", "y", "1", "是", "对"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "否", "不"})
#: A whole number: the number grammar of ``values_guard`` without a fraction or exponent.
_INTEGER = re.compile(r"^[+-]?[0-9]+(\.0*)?$")
_FACTOR_ACTIVITY_KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[A-Za-z0-9_][A-Za-z0-9_.\-]*)*$")
_CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
_GAS_COLUMNS = ("co2_kg", "ch4_kg", "n2o_kg")
_YEARS = (1900, 2200)


# ---- schema as data ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One column of an input file, as its schema CSV declares it.

    Attributes
    ----------
    column
        Canonical (English) name.
    header_zh
        The Chinese header of the templates, accepted in place of ``column``.
    type
        ``string``, ``integer``, ``decimal``, ``boolean`` or ``date``.
    required
        Whether the column must be present and every row must give a value.
    description, description_zh
        What to write in it, in English and Chinese (``description_zh`` may be empty).
    aliases
        Other header spellings accepted for the column.
    """

    column: str
    header_zh: str
    type: str
    required: bool
    description: str
    description_zh: str = ""
    aliases: tuple[str, ...] = ()


@cache
def column_specs(kind: str) -> tuple[ColumnSpec, ...]:
    """The columns of an input file of ``kind`` (an import kind: ``activities``, ``entities``,
    ``sites``, ``activity-types``, ``factors``, ``fx``, ``instruments``, ``emissions-history``,
    ``targets``, ``measures``, ``credits``, ``retirements``, ``metrics``, ``metric-values``,
    ``weather``, ``trips``),
    read from its ``esgledger/schema`` CSV.

    Raises
    ------
    KeyError
        For an unknown kind.
    """
    try:
        name = _SCHEMA_FILES[kind]
    except KeyError:
        raise KeyError(
            f"unknown kind of input file {kind!r}; kinds: {', '.join(_SCHEMA_FILES)}"
        ) from None
    folder = resources.files("esgledger.schema")
    rows = list(csv.DictReader(folder.joinpath(name).read_text("utf-8").splitlines()))
    return tuple(
        ColumnSpec(
            column=row["column"],
            header_zh=row.get("header_zh") or "",
            type=row["type"],
            required=row["required"].strip().lower() == "yes",
            description=row.get("description") or "",
            description_zh=row.get("description_zh") or "",
            aliases=tuple(a.strip() for a in (row.get("aliases") or "").split(";") if a.strip()),
        )
        for row in rows
    )


def _header_map(kind: str) -> tuple[dict[str, list[str]], list[str]]:
    specs = column_specs(kind)
    columns = {
        s.column: [a for a in (s.header_zh, *s.aliases) if a and a != s.column] for s in specs
    }
    return columns, [s.column for s in specs if s.required]


@dataclass(frozen=True, slots=True)
class SiteType:
    """A kind of site (``esgledger/schema/site_types.csv``)."""

    type: str
    name: str
    name_zh: str
    aliases: tuple[str, ...]
    description: str


@cache
def site_types() -> tuple[SiteType, ...]:
    """The site types esgledger knows, in the order of ``site_types.csv``."""
    text = resources.files("esgledger.schema").joinpath("site_types.csv").read_text("utf-8")
    return tuple(
        SiteType(
            type=row["type"],
            name=row["name"],
            name_zh=row["name_zh"],
            aliases=tuple(a.strip() for a in row["aliases"].split(";") if a.strip()),
            description=row["description"],
        )
        for row in csv.DictReader(text.splitlines())
    )


@cache
def _site_type_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for site_type in site_types():
        for spelling in (site_type.type, site_type.name, site_type.name_zh, *site_type.aliases):
            lookup[_fold(spelling)] = site_type.type
    return lookup


@cache
def _countries() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code → English name (``data/country_codes.csv``)."""
    text = resources.files("esgledger.data").joinpath("country_codes.csv").read_text("utf-8")
    return {row["alpha2"]: row["name"] for row in csv.DictReader(text.splitlines())}


@cache
def _country_names() -> dict[str, str]:
    """Folded names, alpha-3 codes and Chinese names of countries → alpha-2 code."""
    from esgledger.regions import all_regions

    text = resources.files("esgledger.data").joinpath("country_codes.csv").read_text("utf-8")
    out: dict[str, str] = {}
    for row in csv.DictReader(text.splitlines()):
        out[_fold(row["alpha3"])] = row["alpha2"]
        out[_fold(row["name"])] = row["alpha2"]
    for region in all_regions().values():
        if region.kind == "country" and region.country:
            out.setdefault(_fold(region.name), region.country)
            out.setdefault(_fold(region.name_zh), region.country)
    for alias, code in (("中国", "CN"), ("china", "CN"), ("香港", "HK"), ("澳门", "MO")):
        out.setdefault(_fold(alias), code)
    out.update({"uk": "GB", "england": "GB", "usa": "US", "美国": "US", "英国": "GB"})
    return out


# ---- reading values ---------------------------------------------------------------------


def _fold(text: str) -> str:
    """Lower-case, NFKC-normalised, blanks, ``-`` and ``_`` collapsed: for lookups."""
    text = unicodedata.normalize("NFKC", text).strip().lower()
    return re.sub(r"[\s_\-]+", " ", text)


def _as_text(value: Any) -> str | None:
    """A cell as trimmed text (``None`` when empty); Parquet values are turned into text."""
    if value is None:
        return None
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    else:
        text = str(value)
    text = text.replace("\u3000", " ").replace("\xa0", " ").strip()
    return text or None


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


def _close(value: str, candidates: Iterable[str], n: int = 1) -> list[str]:
    """Close matches of ``value`` among ``candidates`` (case-insensitive), original spelling."""
    by_upper: dict[str, str] = {}
    for candidate in candidates:
        by_upper.setdefault(candidate.upper(), candidate)
    found = close_matches(value.upper(), list(by_upper), n=n, cutoff=0.6)
    return [by_upper[f] for f in found]


def _did_you_mean(value: str, candidates: Iterable[str]) -> str:
    close = _close(value, candidates)
    return f"did you mean {close[0]!r}? " if close else ""


class _Checker:
    """Collects the issues of one file and parses cell values with row-level reporting."""

    def __init__(self, table: RawTable) -> None:
        self.table = table
        self.file = table.file
        self.issues: list[Issue] = []

    # -- recording ---------------------------------------------------------------------

    def add(
        self, row: int | None, column: str | None, value: Any, problem: str, fix: str = ""
    ) -> None:
        text = None if value is None else str(value)
        self.issues.append(Issue(self.file, row, column, text, problem, fix))

    def flagged(self, row: int, column: str) -> bool:
        """Whether an issue was already recorded for this cell."""
        return any(i.row == row and i.column == column for i in self.issues)

    def raise_if_any(self) -> None:
        if not self.issues:
            return
        issues = sorted(self.issues, key=lambda i: (i.row is None, i.row or 0))
        rows = {i.row for i in issues if i.row is not None}
        if len(issues) == 1 and not rows:
            summary = f"{self.file} was rejected: {issues[0].problem}"
        else:
            summary = f"{self.file} was rejected: {_plural(len(issues), 'problem')}"
            if rows:
                summary += f" in {_plural(len(rows), 'row')}"
        raise InputError(summary, issues)

    def cell(
        self,
        row: int,
        record: Mapping[str, Any],
        column: str,
        *,
        required: bool,
        fix: str | None = None,
    ) -> str | None:
        """The cell's text, or None when it is empty; an empty required cell is an issue
        (``fix`` says what to write, default "fill in <column>")."""
        value = _as_text(record.get(column))
        if value is None and required:
            self.add(row, column, None, "a value is required", fix or f"fill in {column}")
        return value

    def require_rows(self) -> None:
        if self.table.num_rows == 0:
            self.add(
                None,
                None,
                None,
                "the file has no data rows",
                "fill in at least one row below the header row",
            )
            self.raise_if_any()

    # -- parsing -----------------------------------------------------------------------

    def text(
        self,
        row: int,
        record: Mapping[str, Any],
        column: str,
        *,
        required: bool = False,
        max_length: int = _NAME_LENGTH,
    ) -> str | None:
        value = self.cell(row, record, column, required=required)
        if value is None:
            return None
        if len(value) > max_length:
            self.add(
                row,
                column,
                value,
                f"longer than {max_length} characters",
                f"shorten it to at most {max_length} characters",
            )
            return None
        return value

    def code(
        self,
        row: int,
        record: Mapping[str, Any],
        column: str,
        *,
        required: bool = False,
        max_length: int = _CODE_LENGTH,
    ) -> str | None:
        """A code or key: NFKC-normalised (full-width letters become ASCII), no blanks."""
        value = self.cell(row, record, column, required=required)
        if value is None:
            return None
        normal = unicodedata.normalize("NFKC", value).strip()
        if re.search(r"\s", normal):
            self.add(
                row,
                column,
                value,
                "a code may not contain blanks",
                "join the words with - or _ (e.g. DC-TJ)",
            )
            return None
        if len(normal) > max_length:
            self.add(
                row,
                column,
                value,
                f"longer than {max_length} characters",
                f"use a code of at most {max_length} characters",
            )
            return None
        return normal

    def boolean(
        self, row: int, record: Mapping[str, Any], column: str, *, required: bool = True
    ) -> bool | None:
        value = self.cell(
            row, record, column, required=required, fix="write true or false (or 是/否)"
        )
        if value is None:
            return None
        folded = unicodedata.normalize("NFKC", value).strip().lower()
        if folded in _TRUE:
            return True
        if folded in _FALSE:
            return False
        self.add(
            row,
            column,
            value,
            "not a yes/no value",
            "write true or false (also accepted: yes/no, y/n, 1/0, 是/否)",
        )
        return None

    def number(
        self,
        row: int,
        record: Mapping[str, Any],
        column: str,
        *,
        required: bool = False,
        percent: bool = False,
        measure: str | None = None,
        unit: str | None = None,
    ) -> float | None:
        """A decimal number by the one grammar of :mod:`esgledger.ingest.values_guard`,
        finite and within the bounds of its ``measure`` (default: the measure naming
        ``column`` in ``schema/value_bounds.csv``, else the generic ceiling) in ``unit``;
        with ``percent``, a trailing ``%`` is accepted and dropped."""
        value = self.cell(row, record, column, required=required)
        if value is None:
            return None
        raw: Any = record.get(column)
        if isinstance(raw, str) or percent:
            raw = unicodedata.normalize("NFKC", value).strip()
            if percent and raw.endswith("%"):
                raw = raw[:-1].rstrip()
        number, problem = check_number(
            raw, measure or measure_of_column(column), unit, column=column
        )
        if problem is not None:
            if "comma" in problem:
                fix = "write the number with a decimal point and no thousands separators (1234.5)"
            elif problem.startswith("not a"):
                fix = f"write a number such as {'55 or 55%' if percent else '12.5'}"
            else:
                fix = number_fix(problem)
            self.add(row, column, value, problem, fix)
            return None
        return number

    def integer(
        self,
        row: int,
        record: Mapping[str, Any],
        column: str,
        *,
        required: bool = False,
        low: int,
        high: int,
        example: str,
        prefixes: Sequence[str] = (),
    ) -> int | None:
        """A whole number in ``low..high``; ``prefixes`` are words that may precede it
        (``"scope"`` in ``"Scope 3"``)."""
        value = self.cell(row, record, column, required=required)
        if value is None:
            return None
        text = unicodedata.normalize("NFKC", value).strip()
        for prefix in prefixes:
            if text.lower().startswith(prefix):
                text = text[len(prefix) :].strip()
                break
        if not _INTEGER.match(text):
            self.add(
                row, column, value, "not a whole number", f"write a whole number such as {example}"
            )
            return None
        number = int(float(text))
        if not low <= number <= high:
            self.add(
                row,
                column,
                value,
                f"must be between {low} and {high}",
                f"write a whole number from {low} to {high}, such as {example}",
            )
            return None
        return number

    def year(
        self, row: int, record: Mapping[str, Any], column: str, *, required: bool = True
    ) -> int | None:
        return self.integer(
            row, record, column, required=required, low=_YEARS[0], high=_YEARS[1], example="2024"
        )

    def date(
        self, row: int, record: Mapping[str, Any], column: str, *, required: bool = False
    ) -> dt.date | None:
        """A calendar date (``YYYY-MM-DD`` or ``YYYY/MM/DD``, or a spreadsheet date without a
        time of day)."""
        value = record.get(column)
        if isinstance(value, dt.datetime):
            if value.time() != dt.datetime.min.time():
                self.add(row, column, value, "not a date: it has a time of day", _DATE_FIX)
                return None
            return value.date()
        if isinstance(value, dt.date):
            return value
        text = self.cell(
            row, record, column, required=required, fix=f"fill in {column}: {_DATE_FIX}"
        )
        if text is None:
            return None
        normal = unicodedata.normalize("NFKC", text).strip()
        for fmt in _DATE_FORMATS:
            try:
                parsed = dt.datetime.strptime(normal, fmt)
            except ValueError:
                continue
            if parsed.time() == dt.datetime.min.time():
                return parsed.date()
        self.add(row, column, text, "not a date", _DATE_FIX)
        return None

    def country(self, row: int, record: Mapping[str, Any], column: str = "country") -> str | None:
        value = self.cell(
            row, record, column, required=True, fix="write the ISO 3166-1 code, e.g. CN"
        )
        if value is None:
            return None
        code = unicodedata.normalize("NFKC", value).strip().upper()
        if code in _countries():
            return code
        named = _country_names().get(_fold(value))
        if named is not None:
            fix = f"use the two-letter ISO 3166-1 code {named!r} ({_countries()[named]})"
        else:
            fix = _did_you_mean(code, _countries()) + (
                "use the two-letter ISO 3166-1 code, e.g. CN, HK, SG, US"
            )
        self.add(row, column, value, "unknown country code", fix)
        return None


def _dedupe(
    checker: _Checker,
    row: int,
    column: str,
    key: str,
    seen: dict[str, tuple[int, str]],
    what: str,
) -> bool:
    """Record ``key`` of ``row``; report it if the file already had it (also when only the
    letter case differs). True when the key is new."""
    folded = key.upper()
    if folded in seen:
        first_row, first = seen[folded]
        if first == key:
            problem = (
                f"{what} {key!r} appears more than once in the file (first in row {first_row})"
            )
        else:
            problem = (
                f"{what} {key!r} differs from {first!r} of row {first_row} only in letter case"
            )
        checker.add(row, column, key, problem, f"keep one row per {what}")
        return False
    seen[folded] = (row, key)
    return True


def _folded(keys: Iterable[str]) -> dict[str, list[str]]:
    """Keys by their upper case: what :func:`_case_clash` compares a row's key with (one
    look-up a row instead of a scan of every stored key)."""
    folded: dict[str, list[str]] = {}
    for key in keys:
        folded.setdefault(key.upper(), []).append(key)
    return folded


def _case_clash(
    checker: _Checker, row: int, column: str, key: str, stored: Iterable[str], what: str
) -> bool:
    """Report a key that matches an already imported one except in letter case."""
    for other in stored:
        if other != key and other.upper() == key.upper():
            checker.add(
                row,
                column,
                key,
                f"{what} {key!r} differs from the already imported {what} {other!r} only in "
                "letter case",
                f"use {other!r} to update it (codes are case-sensitive)",
            )
            return True
    return False


_Validated = tuple[int, str, "Callable[[Session, ImportBatch], object]"]


def _run(
    workspace: Workspace,
    kind: str,
    path: Path | str,
    validate: Callable[[RawTable, str], _Validated],
    summary: Mapping[str, object] | None = None,
) -> ImportResult:
    """The three steps of every import (see :mod:`esgledger.ingest.batches`): a re-import of
    the same bytes is a no-op; ``validate(table, batch_id)`` raises :class:`InputError` or
    returns the row count, the success message and the write function."""
    from esgledger.store.repository import batch_id_for

    path = Path(path)
    digest = file_sha256(path)
    done = already_imported(workspace, kind, path, digest)
    if done is not None:
        return done
    seen = batch_ids(workspace)  # what the checks below see of the other batches
    columns, required = _header_map(kind)
    table = guard_text(read_table(path, columns=columns, required=required))
    rows, message, write = validate(table, batch_id_for(kind, digest))
    return commit_batch(
        workspace,
        kind,
        path,
        digest,
        rows=rows,
        write=write,
        message=message,
        summary=summary,
        seen=seen,
        # Other batches came in while we checked: check against what is stored now.
        recheck=lambda: validate(table, batch_id_for(kind, digest))[2],
    )


# ---- entities ---------------------------------------------------------------------------


def import_entities(
    workspace: Workspace, path: Path | str, *, progress: bool = False
) -> ImportResult:
    """Import the group structure: one row per legal entity or business group.

    Columns (``esgledger/schema/entity_columns.csv``): ``entity``, ``name``, ``parent``,
    ``ownership_pct`` [%, 0-100, ``55`` or ``55%``], ``operational_control``,
    ``financial_control`` (true/false), ``country`` (ISO 3166-1 alpha-2), optional
    ``name_zh``. A parent may be in the file or already imported. The structure that results
    (stored entities overlaid by the file) must be one tree under one root with no cycles
    (GHG Protocol Corporate Standard ch. 3; checked with
    :func:`esgledger.boundary.validate_structure`).

    Parameters
    ----------
    workspace
        The open workspace.
    path
        The CSV, XLSX or Parquet file.
    progress
        Accepted for the common importer signature; reference files are small and no
        progress is shown.

    Returns
    -------
    ImportResult
        ``created`` is False when the same bytes were imported before (nothing changes).

    Raises
    ------
    InputError
        If the file cannot be read or any row is wrong; nothing is written.
    """
    from esgledger.store.repository import load_entities, save_entities

    def validate(table: RawTable, batch_id: str) -> _Validated:
        with workspace.session() as session:
            stored = {e["code"]: e for e in load_entities(session)}
        records = _validate_entities(table, stored)
        n = len(records)
        message = (
            f"Imported {_plural(n, 'entity', 'entities')} from {table.file} as batch {batch_id}."
        )
        return n, message, lambda s, b: save_entities(s, records, b)

    return _run(workspace, "entities", path, validate)


def _validate_entities(
    table: RawTable, stored: Mapping[str, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    check = _Checker(table)
    check.require_rows()
    records: list[dict[str, Any]] = []
    rows_of: dict[str, int] = {}
    seen: dict[str, tuple[int, str]] = {}
    raw_pct: dict[int, float] = {}
    stored_folded = _folded(stored)
    for row, record in table.rows():
        code = check.code(row, record, "entity", required=True)
        name = check.text(row, record, "name", required=True)
        name_zh = check.text(row, record, "name_zh")
        parent = check.code(row, record, "parent")
        pct = check.number(row, record, "ownership_pct", required=True, percent=True)
        if pct is not None:
            if not 0.0 <= pct <= 100.0:
                check.add(
                    row,
                    "ownership_pct",
                    record.get("ownership_pct"),
                    "must be between 0 and 100 %",
                    "write the parent's equity share in per cent, e.g. 55 or 55% for 55 %",
                )
                pct = None
            else:
                raw_pct[row] = pct
        operational = check.boolean(row, record, "operational_control")
        financial = check.boolean(row, record, "financial_control")
        country = check.country(row, record)
        if code is None:
            continue
        if not _dedupe(check, row, "entity", code, seen, "entity"):
            continue
        _case_clash(check, row, "entity", code, stored_folded.get(code.upper(), ()), "entity")
        if parent is not None and parent == code:
            check.add(
                row,
                "parent",
                parent,
                "an entity cannot be its own parent",
                "leave parent empty for the group's root entity",
            )
        rows_of[code] = row
        records.append(
            {
                "code": code,
                "name": name,
                "name_zh": name_zh,
                "parent": parent,
                "ownership_pct": pct,
                "operational_control": operational,
                "financial_control": financial,
                "country": country,
            }
        )
    # Fractions typed (or formatted in Excel) instead of percentages.
    values = list(raw_pct.values())
    if values and all(v <= 1.0 for v in values) and any(0.0 < v < 1.0 for v in values):
        check.add(
            None,
            "ownership_pct",
            None,
            "every ownership_pct is between 0 and 1: these look like fractions, but the column "
            "is in per cent (0.55 would mean 0.55 %)",
            "write percentages, e.g. 55 or 55% for 55 %; in Excel format the column as a "
            "number, not as a percentage",
        )
    _check_structure(check, records, rows_of, stored)
    check.raise_if_any()
    return records


#: Unknown parents of one file for which a close entity code is suggested.
_SUGGESTED_PARENTS = 5


def _check_structure(
    check: _Checker,
    records: Sequence[Mapping[str, Any]],
    rows_of: Mapping[str, int],
    stored: Mapping[str, Mapping[str, Any]],
) -> None:
    """Unknown parents, cycles and several roots in the stored structure overlaid by the
    file; then :func:`esgledger.boundary.validate_structure` on the result. Time linear in
    the number of entities (:func:`esgledger.boundary.analyse_structure`); a chain deeper than
    :data:`esgledger.boundary.MAX_DEPTH` levels is refused on the row of the first entity
    beyond the limit."""
    from esgledger.boundary import (
        MAX_DEPTH,
        analyse_structure,
        cycle_text,
        depth_problem,
        quoted_list,
        validate_structure,
    )

    merged: dict[str, dict[str, Any]] = {code: dict(e) for code, e in stored.items()}
    for record in records:
        merged[record["code"]] = dict(record)
    unknown = 0
    for record in records:
        parent = record["parent"]
        if parent is None or parent in merged:
            continue
        row = rows_of[record["code"]]
        # A suggestion compares with every entity: only for the first few unknown parents,
        # so a file of unknown parents stays linear.
        fix = _did_you_mean(parent, merged) if unknown < _SUGGESTED_PARENTS else ""
        unknown += 1
        check.add(
            row,
            "parent",
            parent,
            f"unknown parent entity {parent!r}: it is neither in this file nor already imported",
            fix + "add the parent to this file or import it first",
        )
    # Cycles and depth: one pass over the merged structure (linear in its size).
    parents = {code: e["parent"] for code, e in merged.items()}
    shape = analyse_structure(parents)
    for cycle in shape.cycles:
        if len(cycle) == 1:
            continue  # an entity that is its own parent is reported by its row
        in_file = [c for c in cycle if c in rows_of]
        if not in_file:
            continue  # a stored cycle the file does not touch: the generic check names it
        first = min(in_file, key=lambda c: rows_of[c])
        start = cycle.index(first)
        loop = cycle_text([*cycle[start:], *cycle[:start]], " → ")
        check.add(
            rows_of[first],
            "parent",
            merged[first]["parent"],
            f"the parent chain loops: {loop}",
            "break the loop: the group's root entity has no parent",
        )
    for code in shape.too_deep:
        check.add(
            rows_of.get(code),
            "parent",
            merged[code]["parent"],
            depth_problem(parents, code, shape.root_of[code]),
            "a group rarely has more than 20 levels: check the parent column (at most "
            f"{MAX_DEPTH} levels, the root being level 1)",
        )
    roots = list(shape.roots)
    if len(roots) > 1:
        listed = quoted_list(roots)
        already = [r for r in roots if r not in rows_of]
        for code in roots:
            if code in rows_of:
                fix = (
                    f"give it a parent ({already[0]!r} is the root already imported)"
                    if already
                    else "give every entity except the group's root a parent"
                )
                check.add(
                    rows_of[code],
                    "parent",
                    None,
                    f"more than one root entity (entities without a parent): {listed}",
                    fix,
                )
    if check.issues:
        return  # the issues found say it better than the generic check would
    for problem in validate_structure(merged.values()):
        check.add(None, None, None, problem, "correct the group structure")


# ---- sites ------------------------------------------------------------------------------


def import_sites(workspace: Workspace, path: Path | str, *, progress: bool = False) -> ImportResult:
    """Import sites: data centres, offices, warehouses … each belonging to one entity.

    Columns (``esgledger/schema/site_columns.csv``): ``site``, ``entity`` (already
    imported), ``name``, ``country`` (ISO 3166-1 alpha-2), ``region`` (a region code of
    ``regions.csv`` inside that country; empty = the country), ``type``
    (``esgledger/schema/site_types.csv``; English key, English or Chinese name), optional
    ``name_zh``.

    Parameters and return value as :func:`import_entities`.

    Raises
    ------
    InputError
        If the file cannot be read or any row is wrong; nothing is written.
    """
    from esgledger.store.repository import load_entities, load_sites, save_sites

    def validate(table: RawTable, batch_id: str) -> _Validated:
        with workspace.session() as session:
            entities = [e["code"] for e in load_entities(session)]
            stored_sites = [s["code"] for s in load_sites(session)]
        records = _validate_sites(table, entities, stored_sites)
        n = len(records)
        message = f"Imported {_plural(n, 'site')} from {table.file} as batch {batch_id}."
        return n, message, lambda s, b: save_sites(s, records, b)

    return _run(workspace, "sites", path, validate)


def _region_fix(value: str, country: str | None) -> str:
    from esgledger.regions import all_regions, is_known

    regions = all_regions()
    folded = _fold(value)
    if country is not None and is_known(f"{country}-{value}"):
        return f"did you mean {f'{country}-{value}'.upper()!r}? "
    for region in regions.values():
        names = {_fold(region.name), _fold(region.name_zh)}
        names |= {n.removesuffix("省").removesuffix("市") for n in names}
        if folded in names or folded.removesuffix("省").removesuffix("市") in names:
            return f"did you mean {region.code!r} ({region.name})? "
    return _did_you_mean(value, regions)


def _validate_sites(
    table: RawTable, entities: Sequence[str], stored_sites: Sequence[str]
) -> list[dict[str, Any]]:
    from esgledger.regions import all_regions

    regions = all_regions()
    check = _Checker(table)
    check.require_rows()
    known_entities = set(entities)
    folded_sites = _folded(stored_sites)
    records: list[dict[str, Any]] = []
    seen: dict[str, tuple[int, str]] = {}
    type_names = ", ".join(t.type for t in site_types())
    for row, record in table.rows():
        code = check.code(row, record, "site", required=True)
        entity = check.code(row, record, "entity", required=True)
        name = check.text(row, record, "name", required=True)
        name_zh = check.text(row, record, "name_zh")
        country = check.country(row, record)
        region_text = check.code(row, record, "region", max_length=60)
        site_type_text = check.text(row, record, "type", required=True, max_length=40)
        if entity is not None and entity not in known_entities:
            case = [e for e in entities if e.upper() == entity.upper()]
            fix = (
                f"use {case[0]!r} (codes are case-sensitive)"
                if case
                else _did_you_mean(entity, entities)
                + "import the entity first (esgledger import WS --kind entities FILE)"
            )
            check.add(row, "entity", entity, f"unknown entity {entity!r}: it is not imported", fix)
        region: str | None = None
        if region_text is not None:
            found = regions.get(region_text.upper())
            if found is None:
                check.add(
                    row,
                    "region",
                    region_text,
                    "unknown region code",
                    _region_fix(region_text, country)
                    + "use a code of esgledger's regions table (CN-GD, US-EGRID-CAMX, HK …), "
                    "or leave it empty for the whole country",
                )
            elif country is not None and found.country != country:
                where = (
                    "is not a place within one country"
                    if found.country is None
                    else f"is in {found.country}"
                )
                local = regions.get(f"{country}-{region_text}".upper())
                check.add(
                    row,
                    "region",
                    region_text,
                    f"region {found.code} ({found.name}) {where}, not in the site's country "
                    f"{country}",
                    (f"did you mean {local.code!r} ({local.name})? " if local else "")
                    + "correct the country or the region",
                )
            else:
                region = found.code
        elif country is not None:
            region = country
        site_type: str | None = None
        if site_type_text is not None:
            site_type = _site_type_lookup().get(_fold(site_type_text))
            if site_type is None:
                check.add(
                    row,
                    "type",
                    site_type_text,
                    "unknown site type",
                    _did_you_mean(site_type_text, [t.type for t in site_types()])
                    + f"use one of: {type_names}",
                )
        if code is None:
            continue
        if not _dedupe(check, row, "site", code, seen, "site"):
            continue
        _case_clash(check, row, "site", code, folded_sites.get(code.upper(), ()), "site")
        records.append(
            {
                "code": code,
                "entity": entity,
                "name": name,
                "name_zh": name_zh,
                "country": country,
                "region": region,
                "type": site_type,
            }
        )
    check.raise_if_any()
    return records


# ---- activity types ---------------------------------------------------------------------


def import_activity_types(
    workspace: Workspace, path: Path | str, *, progress: bool = False
) -> ImportResult:
    """Import user activity types that extend the shipped taxonomy.

    Columns (``esgledger/schema/activity_type_columns.csv``): ``activity``, ``name``,
    ``dimension``, ``scope`` (1, 2 or 3; ``Scope 3`` is accepted), ``scope3_category`` (1-15,
    required for scope 3 only), optional ``name_zh``, ``factor_activity``, ``description``.
    A key may not be a shipped key nor fall under a shipped family (``refrigerant.*``): those
    need no import.

    Parameters and return value as :func:`import_entities`.

    Raises
    ------
    InputError
        If the file cannot be read or any row is wrong; nothing is written.
    """
    from esgledger.store.repository import save_activity_types

    def validate(table: RawTable, batch_id: str) -> _Validated:
        records = _validate_activity_types(table)
        n = len(records)
        message = f"Imported {_plural(n, 'activity type')} from {table.file} as batch {batch_id}."
        return n, message, lambda s, b: save_activity_types(s, records, b)

    return _run(workspace, "activity-types", path, validate)


_DIMENSION_HELP = (
    "write a dimension in brackets ([energy], [mass], [volume], [currency], [mass] * [length]) "
    "or a unit such as kWh; join alternatives with |"
)


def _is_dimension_name(word: str) -> bool:
    """Whether ``[word]`` is a pint dimension (``mass`` → ``[mass]``)."""
    from esgledger.errors import UnitError
    from esgledger.units import fits_dimension

    try:
        fits_dimension("kWh", f"[{word}]")
    except UnitError:
        return False
    return True


def _bracketed(dimension: str) -> str | None:
    """``dimension`` with its bare dimension names put in brackets (``"mass | energy"`` →
    ``"[mass] | [energy]"``), or None when it has none. Without brackets pint reads such a
    word as a unit, sometimes a real one: ``mass`` is the milliarcsecond."""
    changed = False

    def wrap(match: re.Match[str]) -> str:
        nonlocal changed
        word = match.group(0)
        if _is_dimension_name(word):
            changed = True
            return f"[{word}]"
        return word

    out = re.sub(r"(?<!\[)\b[a-z_]+\b(?!\])", wrap, dimension)
    return out if changed else None


def _validate_activity_types(table: RawTable) -> list[dict[str, Any]]:
    from esgledger.taxonomy import Taxonomy, validate_activity_type

    shipped = Taxonomy.shipped()
    check = _Checker(table)
    check.require_rows()
    records: list[dict[str, Any]] = []
    seen: dict[str, tuple[int, str]] = {}
    for row, record in table.rows():
        key = check.code(row, record, "activity", required=True, max_length=_ACTIVITY_LENGTH)
        name = check.text(row, record, "name", required=True)
        name_zh = check.text(row, record, "name_zh")
        dimension = check.text(row, record, "dimension", required=True, max_length=200)
        scope = check.integer(
            row, record, "scope", required=True, low=1, high=3, example="3",
            prefixes=("scope", "范围"),
        )  # fmt: skip
        category = check.integer(
            row, record, "scope3_category", low=1, high=15, example="6",
            prefixes=("category", "cat.", "cat", "类别"),
        )  # fmt: skip
        factor_activity = check.code(row, record, "factor_activity", max_length=_ACTIVITY_LENGTH)
        description = check.text(row, record, "description", max_length=2000)
        if factor_activity is not None and not _FACTOR_ACTIVITY_KEY.match(factor_activity):
            check.add(
                row,
                "factor_activity",
                factor_activity,
                "not a valid activity key",
                "lower-case words joined by dots, e.g. electricity; not a family (.*)",
            )
        if key is not None:
            clash = _shipped_clash(shipped, key)
            if clash is not None:
                check.add(row, "activity", key, *clash)
        if dimension is not None:
            bracketed = _bracketed(dimension)
            if bracketed is not None:
                check.add(
                    row,
                    "dimension",
                    dimension,
                    "dimensions are written in brackets (without them pint reads a unit)",
                    f"write {bracketed!r}",
                )
        if key is not None and dimension is not None and scope is not None:
            candidate = {
                "activity": key,
                "dimension": dimension,
                "scope": scope,
                "scope3_category": category,
            }
            for column, problem in validate_activity_type(candidate):
                if check.flagged(row, column):
                    continue
                fix = {
                    "activity": "e.g. purchased_goods.steel, or a family such as materials.*",
                    "scope3_category": (
                        "give the category (1-15) for scope 3, leave it empty for scopes 1 and 2"
                    ),
                    "dimension": _DIMENSION_HELP,
                }.get(column, "")
                value = {"activity": key, "dimension": dimension}.get(
                    column, _as_text(record.get(column))
                )
                check.add(row, column, value, problem, fix)
        if key is None or not _dedupe(check, row, "activity", key, seen, "activity type"):
            continue
        out: dict[str, Any] = {
            "activity": key,
            "name": name,
            "name_zh": name_zh,
            "dimension": dimension,
            "scope": scope,
            "scope3_category": category,
        }
        out["factor_activity"] = factor_activity
        out["description"] = description
        records.append(out)
    check.raise_if_any()
    return records


def _shipped_clash(shipped: Taxonomy, key: str) -> tuple[str, str] | None:
    """``(problem, fix)`` when ``key`` is a shipped key or falls under a shipped family."""
    from esgledger.errors import UnknownActivityError

    declared = {t.activity: t for t in shipped}
    if key in declared:
        return (
            f"{key!r} is a shipped activity type",
            "use it as it is (it needs no import), or choose a key of your own",
        )
    if key.endswith(".*"):
        return None
    family = shipped.family_of(key)
    if family is None:
        return None
    try:
        shipped.get(key)
    except UnknownActivityError:
        return (
            f"{key!r} falls under the shipped family {family.activity!r} but is not a valid "
            "member of it",
            f"choose a key outside {family.activity!r}",
        )
    return (
        f"{key!r} is already a member of the shipped family {family.activity!r}",
        "use it in activity files as it is (it needs no import), or choose a key outside "
        f"{family.activity!r}",
    )


# ---- factors ----------------------------------------------------------------------------


def factor_set_id_for(path: Path | str) -> str:
    """The id of the user factor set a file becomes: ``user-`` and the slug of its name
    without the ending (lower-case; runs of other characters than letters, digits and ``_``
    become ``-``; at most 80 characters in all). ``因子 2024.csv`` → ``user-因子-2024``."""
    stem = unicodedata.normalize("NFKC", Path(path).stem).lower()
    slug = re.sub(r"[^\w]+", "-", stem).strip("-_")[: _SET_ID_LENGTH - len("user-")]
    return f"user-{slug.strip('-') or 'factors'}"


def import_factors(
    workspace: Workspace,
    path: Path | str,
    *,
    progress: bool = False,
    set_id: str | None = None,
    precedence: int = USER_SET_PRECEDENCE,
) -> ImportResult:
    """Import a file of user emission factors as one user factor set.

    Columns (``esgledger/schema/factor_import_columns.csv``): ``factor`` (id), ``activity``,
    ``region``, ``year``, ``unit`` (the denominator), ``co2e_kg`` and/or ``co2_kg``,
    ``ch4_kg``, ``n2o_kg`` [kg per one ``unit``; gas masses, not CO2e], ``gwp_basis``
    (AR4, AR5 or AR6; required with ``co2e_kg``), ``source``; optional ``supplier``,
    ``site``, ``scope3_category``, ``method``, ``currency``, ``price_year``, ``price_basis``,
    ``biogenic_co2_kg``, ``uncertainty_pct``, ``edition``, ``licence``, ``attribution``,
    ``description``. Each factor's ``source_row`` is set to ``"<file> row <n>"``.

    Parameters
    ----------
    workspace, path, progress
        As :func:`import_entities`.
    set_id
        The set to create or replace; default :func:`factor_set_id_for` ``(path)``. It must
        start with ``user-``.
    precedence
        Higher wins at equal tier and vintage; user sets are 100 and above.

    Raises
    ------
    InputError
        If the file cannot be read or any row is wrong; nothing is written.
    ValueError
        If ``set_id`` or ``precedence`` are not allowed.
    """
    from esgledger.store.repository import (
        load_factors,
        load_sites,
        save_factor_set,
    )
    from esgledger.taxonomy import Taxonomy

    target = set_id if set_id is not None else factor_set_id_for(path)
    if not target.startswith("user-") or len(target) > _SET_ID_LENGTH:
        raise ValueError(
            "a user factor set id starts with 'user-' and has at most 80 characters "
            f"(value: {target!r})"
        )
    if isinstance(precedence, bool) or not isinstance(precedence, int) or precedence < 100:
        raise ValueError(f"a user factor set has precedence 100 or more (value: {precedence!r})")

    def validate(table: RawTable, batch_id: str) -> _Validated:
        taxonomy = Taxonomy.for_workspace(workspace)
        with workspace.session() as session:
            sites = [s["code"] for s in load_sites(session)]
            others = {
                f["factor_id"]: f["factor_set"]
                for f in load_factors(session)
                if f["factor_set"] != target
            }
            earlier = len(load_factors(session, target))
        records = _validate_factors(table, taxonomy, sites, others)
        n = len(records)
        message = (
            f"Imported {_plural(n, 'factor')} from {table.file} into user factor set {target} "
            f"(precedence {precedence}) as batch {batch_id}."
        )
        if earlier:
            message += (
                f" They replace the set's {_plural(earlier, 'factor')} of its earlier import."
            )
        name = f"User factors from {table.file}"
        return (
            n,
            message,
            lambda s, b: save_factor_set(
                s, set_id=target, name=name, precedence=precedence, factors=records, batch=b
            ),
        )

    return _run(
        workspace,
        "factors",
        path,
        validate,
        summary={"factor_set": target, "precedence": precedence},
    )


def _factor_type(check: _Checker, row: int, taxonomy: Taxonomy, key: str) -> ActivityType | None:
    """The activity type a factor filed under ``key`` serves, or None (issue recorded)."""
    from esgledger.errors import UnknownActivityError

    if key.endswith(".*"):
        check.add(
            row,
            "activity",
            key,
            f"{key!r} is a family, not an activity",
            f"give the member, e.g. {key[:-1]}<suffix>",
        )
        return None
    try:
        found = taxonomy.get(key)
    except UnknownActivityError as exc:
        users = [t for t in taxonomy if not t.is_family and t.factor_activity == key]
        if users:
            return users[0]
        if taxonomy.family_of(key) is not None:
            check.add(row, "activity", key, str(exc), "correct the part after the family's prefix")
            return None
        keys = [t.activity for t in taxonomy] + [t.factor_activity for t in taxonomy]
        check.add(
            row,
            "activity",
            key,
            "unknown activity",
            _did_you_mean(key, keys)
            + "use a key of the taxonomy (`esgledger activities` lists them), or import an "
            "activity type for it first (--kind activity-types)",
        )
        return None
    if found.factor_activity != key:
        check.add(
            row,
            "activity",
            key,
            f"activity {key!r} takes its factors from {found.factor_activity!r}, so a factor "
            f"filed under {key!r} would never be used",
            f"file the factor under {found.factor_activity!r}",
        )
        return None
    return found


def _unit_examples(dimension: str) -> str:
    text = resources.files("esgledger.schema").joinpath("common_units.csv").read_text("utf-8")
    wanted = {part.strip() for part in dimension.split("|")}
    units = [r["unit"] for r in csv.DictReader(text.splitlines()) if r["dimension"] in wanted]
    return ", ".join(units[:6])


def _validate_factors(
    table: RawTable,
    taxonomy: Taxonomy,
    sites: Sequence[str],
    other_sets: Mapping[str, str],
) -> list[dict[str, Any]]:
    from esgledger.errors import UnitError
    from esgledger.factors.library import conflicting_ids
    from esgledger.factors.sources._common import shipped_set_ids
    from esgledger.gwp import GWP_SETS
    from esgledger.regions import all_regions
    from esgledger.units import CURRENCIES, currency_of, fits_dimension, parse_unit

    regions = all_regions()
    shipped_prefixes = tuple(f"{s}:" for s in shipped_set_ids())
    check = _Checker(table)
    check.require_rows()
    records: list[dict[str, Any]] = []
    seen: dict[str, tuple[int, str]] = {}
    keys: dict[tuple[Any, ...], int] = {}
    for row, record in table.rows():
        factor_id = check.code(row, record, "factor", required=True, max_length=_FACTOR_ID_LENGTH)
        activity = check.code(row, record, "activity", required=True, max_length=_ACTIVITY_LENGTH)
        region_text = check.code(row, record, "region", required=True, max_length=60)
        year = check.year(row, record, "year")
        unit = check.text(row, record, "unit", required=True, max_length=60)
        amounts: dict[str, float | None] = {}
        for column in ("co2e_kg", *_GAS_COLUMNS, "biogenic_co2_kg"):
            amount = check.number(row, record, column, measure="factor", unit=unit)
            if amount is not None and amount < 0:
                check.add(
                    row,
                    column,
                    record.get(column),
                    "an emission factor cannot be negative",
                    "give the emissions per unit as a positive number (removals and offsets "
                    "are not factors)",
                )
                amount = None
            amounts[column] = amount
        gwp_text = check.code(row, record, "gwp_basis", max_length=10)
        source = check.text(row, record, "source", required=True, max_length=_SOURCE_LENGTH)
        supplier = check.text(row, record, "supplier", max_length=_SHORT_TEXT_LENGTH)
        site = check.code(row, record, "site")
        category = check.integer(
            row, record, "scope3_category", low=1, high=15, example="1",
            prefixes=("category", "cat.", "cat", "类别"),
        )  # fmt: skip
        method = check.code(row, record, "method", max_length=40)
        currency_text = check.code(row, record, "currency", max_length=3 + 10)
        price_year = check.year(row, record, "price_year", required=False)
        price_basis = check.code(row, record, "price_basis", max_length=20)
        uncertainty = check.number(row, record, "uncertainty_pct", percent=True)
        edition = check.text(row, record, "edition", max_length=100)
        licence = check.text(row, record, "licence", max_length=_SHORT_TEXT_LENGTH)
        attribution = check.text(row, record, "attribution", max_length=4000)
        description = check.text(row, record, "description", max_length=4000)

        if factor_id is not None:
            reserved = next((p for p in shipped_prefixes if factor_id.startswith(p)), None)
            if reserved is not None or conflicting_ids([factor_id]):
                what = (
                    f"ids starting with {reserved!r} belong to the shipped set {reserved[:-1]}"
                    if reserved
                    else "the id of a shipped factor"
                )
                check.add(
                    row,
                    "factor",
                    factor_id,
                    f"{what}: a user factor needs an id of its own",
                    "choose another id; your factor wins over the shipped one through its "
                    "set's precedence, not by reusing its id",
                )
            elif factor_id in other_sets:
                check.add(
                    row,
                    "factor",
                    factor_id,
                    f"the id is already used by user factor set {other_sets[factor_id]!r}",
                    "choose another id (factor ids are unique across all factor sets)",
                )
        activity_type = None
        if activity is not None:
            activity_type = _factor_type(check, row, taxonomy, activity)
        region: str | None = None
        if region_text is not None:
            found = regions.get(region_text.upper())
            if found is None:
                check.add(
                    row,
                    "region",
                    region_text,
                    "unknown region code",
                    _region_fix(region_text, None)
                    + "use GLOBAL, a country (CN), a province (CN-GD), CN-GRID-* or US-EGRID-*",
                )
            else:
                region = found.code
        unit_currency: str | None = None
        if unit is not None:
            try:
                parse_unit(unit)
            except UnitError as exc:
                check.add(
                    row, "unit", unit, str(exc), "use a unit such as kWh, L, t, tkm, pkm or USD"
                )
            else:
                unit_currency = currency_of(unit)
                scale_problem = unit_scale_problem(unit)
                if scale_problem is not None:
                    check.add(row, "unit", unit, scale_problem, "use a unit such as kWh, t or USD")
                elif activity_type is not None and not fits_dimension(
                    unit, activity_type.dimension
                ):
                    examples = _unit_examples(activity_type.dimension)
                    check.add(
                        row,
                        "unit",
                        unit,
                        f"the unit does not fit activity {activity_type.activity!r}, which is "
                        f"measured in {activity_type.dimension}",
                        "use a unit of that dimension" + (f", e.g. {examples}" if examples else ""),
                    )
        if all(amounts[c] is None for c in ("co2e_kg", *_GAS_COLUMNS)) and not any(
            check.flagged(row, c) for c in ("co2e_kg", *_GAS_COLUMNS)
        ):
            check.add(
                row,
                "co2e_kg",
                None,
                "the factor has no value: neither co2e_kg nor any of co2_kg, ch4_kg, n2o_kg",
                "give co2e_kg with its gwp_basis, or the gas masses co2_kg, ch4_kg, n2o_kg",
            )
        gwp_basis: str | None = None
        if gwp_text is not None:
            gwp_basis = gwp_text.upper()
            if gwp_basis not in GWP_SETS:
                check.add(
                    row,
                    "gwp_basis",
                    gwp_text,
                    "unknown GWP set",
                    f"write one of {', '.join(GWP_SETS)} (the IPCC report whose GWP-100 values "
                    "the source used)",
                )
                gwp_basis = None
        elif amounts["co2e_kg"] is not None:
            check.add(
                row,
                "gwp_basis",
                None,
                "gwp_basis is required when co2e_kg is given",
                f"write the GWP set the source used for its CO2e: {', '.join(GWP_SETS)}",
            )
        if site is not None and site not in sites:
            check.add(
                row,
                "site",
                site,
                f"unknown site {site!r}: it is not imported",
                _did_you_mean(site, sites) + "import the site first (--kind sites)",
            )
        if category is not None and activity_type is not None and activity_type.scope != 3:
            check.add(
                row,
                "scope3_category",
                record.get("scope3_category"),
                f"activity {activity_type.activity!r} is scope {activity_type.scope}: a scope 3 "
                "category does not apply",
                "leave scope3_category empty",
            )
        if method is not None:
            if method.lower() in FACTOR_METHODS:
                method = method.lower()
            else:
                check.add(
                    row,
                    "method",
                    method,
                    "unknown method",
                    _did_you_mean(method, FACTOR_METHODS)
                    + f"use one of: {', '.join(FACTOR_METHODS)}",
                )
        currency: str | None = None
        if currency_text is not None:
            currency = currency_text.upper()
            if currency not in CURRENCIES:
                check.add(
                    row,
                    "currency",
                    currency_text,
                    "not a currency esgledger knows",
                    _did_you_mean(currency, CURRENCIES) + f"use one of: {', '.join(CURRENCIES)}",
                )
                currency = None
            elif unit is not None and unit_currency is None and not check.flagged(row, "unit"):
                check.add(
                    row,
                    "currency",
                    currency_text,
                    "currency is only for spend factors, whose unit is a currency",
                    f"leave currency empty, or make the unit {currency}",
                )
            elif unit_currency is not None and currency != unit_currency:
                check.add(
                    row,
                    "currency",
                    currency_text,
                    f"the unit {unit!r} is in {unit_currency}, not {currency}",
                    f"make currency {unit_currency} or leave it empty",
                )
        if unit_currency is not None:
            currency = unit_currency
            if price_year is None and not check.flagged(row, "price_year"):
                check.add(
                    row,
                    "price_year",
                    None,
                    "a spend factor (its unit is a currency) needs its price year",
                    "write the year whose prices the factor is expressed in, e.g. 2022",
                )
        if price_basis is not None:
            if price_basis.lower() not in PRICE_BASES:
                check.add(
                    row,
                    "price_basis",
                    price_basis,
                    "unknown price basis",
                    "write purchaser or producer",
                )
            price_basis = price_basis.lower()
        for column, value in (("price_year", price_year), ("price_basis", price_basis)):
            if (
                value is not None
                and unit is not None
                and unit_currency is None
                and not check.flagged(row, "unit")
                and not check.flagged(row, column)
            ):
                check.add(
                    row,
                    column,
                    record.get(column),
                    f"{column} is only for spend factors, whose unit is a currency",
                    f"leave {column} empty",
                )
        if uncertainty is not None and uncertainty < 0:
            check.add(
                row,
                "uncertainty_pct",
                record.get("uncertainty_pct"),
                "an uncertainty cannot be negative",
                "give the half-width of the 95 % interval in per cent, e.g. 10",
            )
        if factor_id is None or not _dedupe(check, row, "factor", factor_id, seen, "factor"):
            continue
        key = (activity, region, year, unit, supplier, site, category, method, price_basis)
        if None not in (activity, region, year, unit):
            if key in keys:
                check.add(
                    row,
                    "factor",
                    factor_id,
                    f"same activity, region, year, unit, supplier, site, scope 3 category and "
                    f"method as row {keys[key]}: factor resolution could not choose between them",
                    "remove one, or tell them apart by supplier, site or method",
                )
            else:
                keys[key] = row
        records.append(
            {
                "factor_id": factor_id,
                "activity": activity,
                "region": region,
                "year": year,
                "unit": unit,
                **amounts,
                "gwp_basis": gwp_basis,
                "supplier": supplier,
                "site": site,
                "scope3_category": category,
                "method": method,
                "currency": currency,
                "price_year": price_year,
                "price_basis": price_basis,
                "uncertainty_pct": uncertainty,
                "source": source,
                "edition": edition,
                "licence": licence,
                "attribution": attribution,
                "source_row": f"{table.file} row {row}",
                "description": description,
            }
        )
    check.raise_if_any()
    return records


# ---- exchange rates ---------------------------------------------------------------------


def import_fx(workspace: Workspace, path: Path | str, *, progress: bool = False) -> ImportResult:
    """Import annual-average exchange rates, laid over the shipped ECB table.

    Columns (``esgledger/schema/fx_columns.csv``): ``year``, ``currency`` (ISO 4217, one of
    :data:`esgledger.units.CURRENCIES`), ``per_usd`` [currency units per USD, > 0; 1 for USD],
    optional ``source``. A rate that differs from the shipped ECB annual average of the same
    year by more than a factor of 2 is rejected as a likely slip (an inverted rate, USD per
    unit instead of units per USD, is named as such).

    Parameters and return value as :func:`import_entities`.

    Raises
    ------
    InputError
        If the file cannot be read or any row is wrong; nothing is written.
    """
    from esgledger.store.repository import save_fx_rates

    def validate(table: RawTable, batch_id: str) -> _Validated:
        records = _validate_fx(table)
        n = len(records)
        message = f"Imported {_plural(n, 'exchange rate')} from {table.file} as batch {batch_id}."
        return n, message, lambda s, b: save_fx_rates(s, records, b)

    return _run(workspace, "fx", path, validate)


def _validate_fx(table: RawTable) -> list[dict[str, Any]]:
    from esgledger.errors import FxRateMissingError
    from esgledger.fx import FxTable
    from esgledger.units import CURRENCIES, currency_of

    shipped = FxTable.shipped()
    check = _Checker(table)
    check.require_rows()
    records: list[dict[str, Any]] = []
    seen: dict[tuple[int, str], int] = {}
    for row, record in table.rows():
        year = check.year(row, record, "year")
        currency_text = check.text(row, record, "currency", required=True, max_length=20)
        per_usd = check.number(row, record, "per_usd", required=True)
        source = check.text(row, record, "source", max_length=_SOURCE_LENGTH)
        currency: str | None = None
        if currency_text is not None:
            code = unicodedata.normalize("NFKC", currency_text).strip().upper()
            if code in CURRENCIES:
                currency = code
            else:
                try:
                    meant = currency_of(currency_text)
                except ValueError:
                    meant = None
                fix = (
                    f"use the ISO 4217 code {meant!r}"
                    if meant is not None and _CURRENCY_CODE.match(meant)
                    else _did_you_mean(code, CURRENCIES) + f"use one of: {', '.join(CURRENCIES)}"
                )
                check.add(
                    row, "currency", currency_text, "not a currency code esgledger knows", fix
                )
        if per_usd is not None and per_usd <= 0:
            check.add(
                row,
                "per_usd",
                record.get("per_usd"),
                "must be greater than 0",
                "write the units of the currency per one US dollar, e.g. 7.2 for CNY",
            )
            per_usd = None
        if currency == "USD" and per_usd is not None and per_usd != 1.0:
            check.add(
                row,
                "per_usd",
                record.get("per_usd"),
                "USD per USD is always 1",
                "write 1, or leave the USD row out",
            )
            per_usd = None
        if currency is not None and currency != "USD" and per_usd is not None and year:
            try:
                reference = shipped.rate(currency, year).per_usd
            except FxRateMissingError:
                reference = None
            if reference is not None and not 0.5 <= per_usd / reference <= 2.0:
                inverted = 0.5 <= per_usd * reference <= 2.0
                problem = (
                    f"looks inverted: {per_usd:g} is about USD per {currency}, but per_usd is "
                    f"{currency} per USD (ECB annual average {year}: {reference:.4g})"
                    if inverted
                    else f"differs from the ECB annual average of {year} ({reference:.4g} "
                    f"{currency} per USD) by more than a factor of 2"
                )
                check.add(
                    row,
                    "per_usd",
                    record.get("per_usd"),
                    problem,
                    f"write the number of {currency} one US dollar buys",
                )
        if year is None or currency is None:
            continue
        if (year, currency) in seen:
            check.add(
                row,
                "currency",
                currency_text,
                f"the {currency} rate of {year} appears more than once in the file (first in "
                f"row {seen[year, currency]})",
                "keep one row per year and currency",
            )
            continue
        seen[year, currency] = row
        records.append({"year": year, "currency": currency, "per_usd": per_usd, "source": source})
    check.raise_if_any()
    return records
