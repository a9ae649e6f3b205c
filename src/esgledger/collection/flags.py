"""Review flags of a submitted batch of activity rows: what a reviewer should look at first.

审核提示：对提交的活动数据逐项比对上年、可比站点、月份完整性、期间重叠与单位。

:func:`compute_flags` takes the submitted rows, the approved history of the same entities and
sites (last year's rows, and this year's already approved ones) and, optionally, rows of the
same activities at other sites with a sites table, and returns a :class:`Review`: flags a
reviewer accepts with a comment or answers by returning the task, and notes that say where a
check could not run. It is pure: no workspace, no database; the collection service reads the
rows and stores the acceptances (which refer to :attr:`Flag.id`).

The checks (``docs/platform/review-flags.md``; thresholds, severities and the bilingual texts
are rows of ``collection/flag_rules.csv``, thresholds configurable under ``[review]``):

``review.change_vs_last_year``
    Per entity, site, activity and common unit: the submitted quantity of the months the
    submission covers (plus this year's approved rows of those months) against last year's
    *same months*. Each row is spread over the calendar months of its period in proportion
    to its days, so an annual row of last year compares with a quarterly submission pro
    rata, and monthly data keep their seasonality. Only months that have data in both years
    are compared (named in the flag). Flagged when ``|current / previous - 1|`` is strictly
    beyond ``change_threshold`` (default 0.3); ``review.change_from_zero`` when last year's
    months hold 0. A key with no history in those months gets the note ``review.no_history``.
``review.unit_surprise``
    Per submitted row (not a correction): its quantity per day against last year's quantity
    per calendar day of the same months. A ratio within ``unit_tolerance`` decades (default
    0.5: 316 to 3,162) of 1,000 or 1/1,000 is a value in the wrong unit (kWh typed as MWh);
    the flag suggests the unit 1,000 times smaller or larger. A key with a unit surprise gets
    no change flag (the surprise explains the change).
``review.peer_outlier``
    Per submitted entity, site, activity and common unit: the annualised quantity (sum over
    the rows' days × 365) against the annualised quantities of the comparable sites (same
    activity, same site type and country; if fewer than ``peer_min_sites`` such sites, same
    type in any country), the sites of this submission left out. Robust method: the modified
    z-score of Iglewicz and Hoaglin, ``0.6745 (x - median) / MAD``, on ``log10`` of the
    values (site sizes spread over orders of magnitude); MAD 0 falls back to
    ``1.253314 × mean absolute deviation``. Flagged beyond ``peer_z_threshold`` (default 3.5).
    Fewer than ``peer_min_sites`` (default 5) comparable sites: the note
    ``review.peers_too_few``; all peers equal: ``review.peers_no_spread``.
``review.gap``
    Per entity, site and activity of scope 1 or 2 (metered or billed, one figure per period)
    that has monthly data (a row of 25 to 35 days, submitted or approved, this year or last):
    months of the expected period (default the reporting year) that no row of the submission
    or of the approved history touches.
``review.overlap``
    Submitted rows that share a day with another row (submitted or approved) of the same
    entity, site, activity, supplier and meter: :mod:`esgledger.overlaps`, the one rule of
    the import and the engine (scope 1 and 2 types, no corrections), run as the import runs it.

Quantities are compared after converting each unit to one common unit per dimension with
:mod:`esgledger.units` (the first unit of ``schema/common_units.csv`` of that dimension:
kWh, L, Nm3, kg, ...; a currency to its currency code); rows of different dimensions (diesel
in L and in kg) are compared only with rows of their own. Every comparison runs in DuckDB
over Arrow (one scan per check, no Python loop over rows); only per-key aggregates and the
flagged rows come back to Python, where numbers are rounded to 12 significant digits
before any threshold is applied, so the result is the same whatever DuckDB's thread count.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from typing import Any, TypeAlias

import duckdb
import pyarrow as pa

from esgledger.errors import InputError, UnitError, UnknownActivityError, WorkspaceError
from esgledger.ingest.activities import LAKE_SCHEMA
from esgledger.inventory._duckdb import connect
from esgledger.overlaps import (
    DUPLICATE_COLUMNS,
    OVERLAP_SCOPES,
    candidates_sql,
    hot_months_sql,
    overlap_sql,
)
from esgledger.taxonomy import Taxonomy
from esgledger.units import conversion_factor, currency_of, parse_unit

__all__ = [
    "CHECKS",
    "REQUIRED_COLUMNS",
    "SEVERITIES",
    "Flag",
    "FlagText",
    "Review",
    "ReviewSettings",
    "Rule",
    "compute_flags",
    "flag_id",
    "review_settings",
    "rules",
]

#: Columns the submitted, history and comparable rows must have (others of the lake's
#: ``LAKE_SCHEMA`` are used when present: meter, supplier, correction, row_number ...).
REQUIRED_COLUMNS: tuple[str, ...] = (
    "entity",
    "activity",
    "quantity",
    "unit",
    "period_start",
    "period_end",
)
#: The columns read from the rows.
_COLUMNS: tuple[str, ...] = (
    "batch_id",
    "row_number",
    "record_id",
    "entity",
    "site",
    "meter",
    "period_start",
    "period_end",
    "activity",
    "quantity",
    "unit",
    "region",
    "supplier",
    "scope3_category",
    "factor",
    "correction",
)
#: Severities, most severe first; ``note`` marks a check that could not run.
SEVERITIES: tuple[str, ...] = ("high", "medium", "low", "note")
#: The checks :func:`compute_flags` can run (``Review.checks`` names those that ran).
CHECKS: tuple[str, ...] = ("change", "unit", "peers", "gaps", "overlaps")
#: A unit surprise is a ratio near 10 ** this many decades (1,000).
_UNIT_DECADES = 3
#: A row of this many days (first, last) is a monthly row: bills run 25 to 35 days.
_MONTHLY_DAYS = (25, 35)
#: Significant digits kept of every computed number (see the module docstring).
_DIGITS = 12
#: Comparable sites listed by name in a peer flag's data (all are counted).
_PEERS_LISTED = 50
#: The modified z-score's constants (Iglewicz and Hoaglin 1993; 1.253314 = sqrt(pi / 2)).
_Z_MAD = 0.6745
_Z_MEANAD = 1.253314

# -- rules and settings --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of ``collection/flag_rules.csv``: a flag or note code, its threshold (with the
    ``[review]`` setting that overrides it) and severity, its bilingual text template with
    ``{placeholders}``, and the rationale of the threshold."""

    code: str
    kind: str
    setting: str | None
    threshold: float | None
    unit: str
    severity: str
    text_en: str
    text_zh: str
    rationale: str
    rationale_zh: str


@cache
def rules() -> dict[str, Rule]:
    """The rules table, code → :class:`Rule`, in the file's order (the order of flags)."""
    raw = resources.files("esgledger.collection").joinpath("flag_rules.csv").read_text("utf-8")
    out: dict[str, Rule] = {}
    for row in csv.DictReader(io.StringIO(raw)):
        out[row["code"]] = Rule(
            code=row["code"],
            kind=row["kind"],
            setting=row["setting"] or None,
            threshold=float(row["threshold"]) if row["threshold"] else None,
            unit=row["unit"],
            severity=row["severity"],
            text_en=row["text_en"],
            text_zh=row["text_zh"],
            rationale=row["rationale"],
            rationale_zh=row["rationale_zh"],
        )
    return out


def _default(setting: str) -> float:
    for rule in rules().values():
        if rule.setting == setting and rule.threshold is not None:
            return rule.threshold
    raise LookupError(f"no threshold for setting {setting!r} in flag_rules.csv")


@dataclass(frozen=True, slots=True)
class ReviewSettings:
    """The thresholds of the checks; defaults from ``flag_rules.csv``, overridden per
    workspace under ``[review]`` (:func:`review_settings`).

    Attributes
    ----------
    change_threshold
        Largest change against last year's same months not flagged, as a fraction (0.3).
    peer_z_threshold
        Largest modified z-score (absolute) against comparable sites not flagged (3.5).
    peer_min_sites
        Fewest comparable sites for a comparison (5).
    unit_tolerance
        Half-width, in decades (log10), of the band around 1,000× and 1/1,000× that makes
        a unit surprise (0.5).
    """

    change_threshold: float = field(default_factory=lambda: _default("change_threshold"))
    peer_z_threshold: float = field(default_factory=lambda: _default("peer_z_threshold"))
    peer_min_sites: int = field(default_factory=lambda: int(_default("peer_min_sites")))
    unit_tolerance: float = field(default_factory=lambda: _default("unit_tolerance"))

    def as_dict(self) -> dict[str, float | int]:
        return {
            "change_threshold": self.change_threshold,
            "peer_z_threshold": self.peer_z_threshold,
            "peer_min_sites": self.peer_min_sites,
            "unit_tolerance": self.unit_tolerance,
        }


#: ``[review]`` settings: name → (lowest allowed, highest allowed, whole number).
_LIMITS: dict[str, tuple[float, float, bool]] = {
    "change_threshold": (0.0, 100.0, False),
    "peer_z_threshold": (0.5, 100.0, False),
    "peer_min_sites": (2, 10_000, True),
    "unit_tolerance": (0.05, 1.0, False),
}


def review_settings(config: Mapping[str, Any]) -> ReviewSettings:
    """The review thresholds of a workspace from its parsed ``esgledger.toml``::

        [review]
        change_threshold = 0.25   # flag changes beyond ±25 % against last year
        peer_min_sites = 8

    Missing settings keep their defaults (``flag_rules.csv``).

    Raises
    ------
    WorkspaceError
        If ``[review]`` is not a table, names an unknown setting, or a value is not a
        number in its range (change_threshold above 0, peer_z_threshold 0.5 to 100,
        peer_min_sites a whole number 2 to 10,000, unit_tolerance 0.05 to 1).
    """
    section = config.get("review", {})
    if not isinstance(section, Mapping):
        raise WorkspaceError("esgledger.toml: [review] must be a table")
    values: dict[str, Any] = {}
    for key, value in section.items():
        if key not in _LIMITS:
            known = ", ".join(sorted(_LIMITS))
            raise WorkspaceError(
                f"esgledger.toml: [review] has no setting {key!r}; the settings are {known}"
            )
        low, high, whole = _LIMITS[key]
        number_ok = isinstance(value, int | float) and not isinstance(value, bool)
        if whole:
            number_ok = isinstance(value, int) and not isinstance(value, bool)
        if not number_ok or not math.isfinite(value) or not (low <= value <= high):
            kind = "a whole number" if whole else "a number"
            bounds = f"above {low:g}" if low == 0 else f"from {low:g}"
            raise WorkspaceError(
                f"esgledger.toml: [review] {key} must be {kind} {bounds} to {high:g} "
                f"(value: {value!r})"
            )
        if key == "change_threshold" and value == 0:
            raise WorkspaceError(
                "esgledger.toml: [review] change_threshold must be above 0 (value: 0)"
            )
        values[key] = int(value) if whole else float(value)
    return ReviewSettings(**values)


# -- flags ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FlagText:
    """A flag's explanation in English and Simplified Chinese."""

    en: str
    zh: str

    def get(self, lang: str) -> str:
        """The text in ``lang`` (``"zh-CN"``/``"zh"`` Chinese, anything else English)."""
        return self.zh if lang.lower().startswith("zh") else self.en

    def as_dict(self) -> dict[str, str]:
        return {"en": self.en, "zh-CN": self.zh}


@dataclass(frozen=True, slots=True)
class Flag:
    """One review flag (or note) of a submission.

    Attributes
    ----------
    id
        ``rf-`` + 24 hex digits of the sha256 of the code and the key fields
        (:func:`flag_id`): stable across recomputation and across a resubmission that still
        raises the same flag for the same rows, so an acceptance can refer to it.
    code
        ``review.change_vs_last_year`` ... (a row of ``flag_rules.csv``).
    severity
        One of :data:`SEVERITIES`; ``note`` for a check that could not run.
    entity, site, activity
        What the flag is about (``site`` None for entity-level rows).
    period
        First and last day the flag is about.
    data
        JSON-native numbers that reproduce the flag (values, thresholds, months, rows).
    text
        The explanation, from the rule's templates filled with ``data``.
    """

    id: str
    code: str
    severity: str
    entity: str
    site: str | None
    activity: str
    period: tuple[date, date]
    data: Mapping[str, Any]
    text: FlagText

    @property
    def is_note(self) -> bool:
        return self.severity == "note"

    def as_dict(self) -> dict[str, Any]:
        """JSON-native: the fields, ``period`` as ``{"start", "end"}`` ISO dates, ``text`` as
        ``{"en", "zh-CN"}``."""
        return {
            "id": self.id,
            "code": self.code,
            "severity": self.severity,
            "entity": self.entity,
            "site": self.site,
            "activity": self.activity,
            "period": {"start": self.period[0].isoformat(), "end": self.period[1].isoformat()},
            "data": dict(self.data),
            "text": self.text.as_dict(),
        }


@dataclass(frozen=True, slots=True)
class Review:
    """The flags and notes of one submission, each in a fixed order (rule order of
    ``flag_rules.csv``, then entity, site, activity, period, id)."""

    flags: tuple[Flag, ...]
    notes: tuple[Flag, ...]
    reporting_year: int | None
    settings: ReviewSettings
    checks: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-native: ``flags``, ``notes``, ``counts`` (per code), ``reporting_year``,
        ``settings`` and ``checks`` (the checks that ran)."""
        counts: dict[str, int] = {}
        for flag in (*self.flags, *self.notes):
            counts[flag.code] = counts.get(flag.code, 0) + 1
        return {
            "reporting_year": self.reporting_year,
            "checks": list(self.checks),
            "settings": self.settings.as_dict(),
            "counts": counts,
            "flags": [f.as_dict() for f in self.flags],
            "notes": [f.as_dict() for f in self.notes],
        }


def flag_id(code: str, entity: str, site: str | None, activity: str, key: Mapping[str, Any]) -> str:
    """The stable id of a flag: ``rf-`` + the first 24 hex digits of the sha256 of the
    canonical JSON of code, entity, site, activity and ``key`` (the fields that identify
    what is flagged, never the numbers: a resubmission with a corrected value that still
    deserves the flag keeps its id)."""
    canonical = json.dumps(
        {"code": code, "entity": entity, "site": site, "activity": activity, "key": key},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return "rf-" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:24]


#: A text field: the same in both languages, or (English, Chinese).
Field: TypeAlias = str | tuple[str, str]


def _fill(template: str, fields: Mapping[str, Field], lang: int) -> str:
    return template.format_map(
        {k: (v[lang] if isinstance(v, tuple) else v) for k, v in fields.items()}
    )


def _make(
    code: str,
    entity: str,
    site: str | None,
    activity: str,
    period: tuple[date, date],
    key: Mapping[str, Any],
    data: Mapping[str, Any],
    fields: Mapping[str, Field],
) -> Flag:
    rule = rules()[code]
    where: Field = (
        (f"{site} ({entity})", f"{site}（{entity}）")
        if site
        else (f"{entity} (entity level)", f"{entity}（主体层面）")
    )
    filled = {
        "where": where,
        "entity": entity,
        "site": site or "",
        "activity": activity,
        "start": period[0].isoformat(),
        "end": period[1].isoformat(),
        **fields,
    }
    return Flag(
        id=flag_id(code, entity, site, activity, key),
        code=code,
        severity=rule.severity,
        entity=entity,
        site=site,
        activity=activity,
        period=period,
        data=data,
        text=FlagText(_fill(rule.text_en, filled, 0), _fill(rule.text_zh, filled, 1)),
    )


# -- formatting ----------------------------------------------------------------------------


def _r(value: float) -> float:
    """``value`` to :data:`_DIGITS` significant digits (see the module docstring)."""
    return float(f"{value:.{_DIGITS}g}")


def _num(value: float) -> str:
    """A number as a reader reads it: thousands separators, a few significant digits."""
    size = abs(value)
    if size == 0:
        return "0"
    if size >= 100:
        return f"{value:,.0f}"
    if size >= 1:
        return f"{value:,.2f}"
    return f"{value:.3g}"


def _pct(fraction: float, *, sign: bool = True) -> str:
    return f"{fraction * 100:+.1f} %" if sign else f"{fraction * 100:g} %"


def _month(index: int) -> str:
    """``2026-03`` from a month index ``12 * year + month - 1``."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _month_days(index: int) -> tuple[date, date]:
    year, month = index // 12, index % 12 + 1
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return first, date.fromordinal(following.toordinal() - 1)


def _months_text(indexes: Sequence[int]) -> str:
    """``2026-01..2026-03, 2026-05``: runs of consecutive months."""
    runs: list[tuple[int, int]] = []
    for index in indexes:
        if runs and runs[-1][1] == index - 1:
            runs[-1] = (runs[-1][0], index)
        else:
            runs.append((index, index))
    return ", ".join(_month(a) if a == b else f"{_month(a)}..{_month(b)}" for a, b in runs)


# -- inputs --------------------------------------------------------------------------------

#: Rows as an Arrow table or as dicts, one per row.
Rows: TypeAlias = pa.Table | Iterable[Mapping[str, Any]]


def _table(rows: Rows | None, what: str) -> pa.Table:
    """``rows`` as an Arrow table of :data:`_COLUMNS` with the lake's types, plus ``_pos``
    (0-based position)."""
    schema = pa.schema([LAKE_SCHEMA.field(name) for name in _COLUMNS])
    if rows is None:
        table = schema.empty_table()
    elif isinstance(rows, pa.Table):
        table = rows
    else:
        listed = list(rows)
        names = list(dict.fromkeys(k for r in listed for k in r))  # every row's keys
        table = (
            pa.Table.from_pydict({k: [r.get(k) for r in listed] for k in names})
            if listed
            else schema.empty_table()
        )
    if table.num_rows:
        missing = [c for c in REQUIRED_COLUMNS if c not in table.column_names]
        if missing:
            raise InputError(f"the {what} rows lack the column(s) {', '.join(missing)}")
    columns = []
    for spec in schema:
        if spec.name in table.column_names:
            column = table.column(spec.name)
            if column.type != spec.type:
                try:
                    column = column.cast(spec.type)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                    raise InputError(
                        f"the {what} rows' column {spec.name} is not of type {spec.type}: {exc}"
                    ) from exc
            columns.append(column)
        else:
            columns.append(pa.nulls(table.num_rows, spec.type))
    positions = pa.array(range(table.num_rows), pa.int64())
    return pa.Table.from_arrays([*columns, positions], names=[*_COLUMNS, "_pos"])


def _sites_table(sites: pa.Table | Iterable[Mapping[str, Any]] | None) -> pa.Table:
    schema = pa.schema([("site", pa.string()), ("type", pa.string()), ("country", pa.string())])
    if sites is None:
        return schema.empty_table()
    if isinstance(sites, pa.Table):
        table = sites
    else:
        listed = [{k: r.get(k) for k in ("site", "type", "country")} for r in sites]
        table = pa.Table.from_pylist(listed, schema=schema) if listed else schema.empty_table()
    missing = [c for c in schema.names if c not in table.column_names]
    if missing:
        raise InputError(f"the sites table lacks the column(s) {', '.join(missing)}")
    return pa.Table.from_arrays(
        [table.column(c).cast(pa.string()) for c in schema.names], names=schema.names
    )


@cache
def _common_units() -> tuple[tuple[str, str], ...]:
    """(unit, dimension) of ``schema/common_units.csv``, in order."""
    raw = resources.files("esgledger.schema").joinpath("common_units.csv").read_text("utf-8")
    return tuple((r["unit"], r["dimension"]) for r in csv.DictReader(io.StringIO(raw)))


def _common_unit(unit: str) -> tuple[str, float]:
    """The common unit of ``unit``'s dimension and the factor into it.

    Raises
    ------
    UnitError
        If ``unit`` cannot be read.
    """
    parsed = parse_unit(unit)
    currency = currency_of(unit)
    if currency is not None:
        return currency, conversion_factor(unit, currency)
    for common, dimension in _common_units():
        if dimension != "[currency]" and parse_unit(common).dimensionality == parsed.dimensionality:
            return common, conversion_factor(unit, common)
    return unit, 1.0


def _suggested_unit(unit: str, too_large: bool) -> str | None:
    """A common unit 1,000 times smaller (``too_large``) or larger than ``unit``."""
    want = 1000.0 if too_large else 0.001
    for common, dimension in _common_units():
        if dimension == "[currency]":
            continue
        try:
            factor = conversion_factor(unit, common)
        except UnitError:
            continue
        if math.isclose(factor, want, rel_tol=1e-9):
            return common
    return None


# -- the computation -----------------------------------------------------------------------


def compute_flags(
    submission: Rows,
    history: Rows | None = None,
    *,
    comparables: Rows | None = None,
    sites: pa.Table | Iterable[Mapping[str, Any]] | None = None,
    reporting_year: int | None = None,
    expected: tuple[date, date] | None = None,
    settings: ReviewSettings | None = None,
    taxonomy: Taxonomy | None = None,
) -> Review:
    """The review flags and notes of a submission.

    Parameters
    ----------
    submission
        The submitted rows: an Arrow table or dicts with the activity lake's columns
        (``LAKE_SCHEMA`` of :mod:`esgledger.ingest.activities`; :data:`REQUIRED_COLUMNS` at
        least). ``row_number`` names a row in the texts (else its 1-based position).
    history
        Approved rows of the same entities and sites: last year's (for the change, the unit
        check and gaps) and this year's (counted with the submission in the months it
        covers, for gaps and overlaps). Rows of other keys and years are ignored.
    comparables
        Rows of the same activities at other sites (any entity), for the peer check; None
        skips the check (it is then missing from :attr:`Review.checks`).
    sites
        ``site``, ``type``, ``country`` of the submitted and comparable sites (the
        workspace's sites table); needed by the peer check.
    reporting_year
        The year under review; default the latest year of the submission's period starts.
    expected
        First and last day whose months must be covered (gaps); default the reporting year.
    settings
        Thresholds; default :class:`ReviewSettings` (``flag_rules.csv``).
    taxonomy
        Scopes of the activities (gaps and overlaps consider scope 1 and 2 types only);
        default the shipped taxonomy (pass the workspace's for its own types).

    Raises
    ------
    InputError
        If rows lack a required column or a column has the wrong type.
    """
    settings = settings or ReviewSettings()
    sub = _table(submission, "submitted")
    hist = _table(history, "history")
    peer = _table(comparables, "comparable") if comparables is not None else None
    checks = tuple(c for c in CHECKS if c != "peers" or peer is not None)
    if not sub.num_rows:
        return Review((), (), reporting_year, settings, checks)
    con = connect()
    try:
        return _Computation(
            con, sub, hist, peer, _sites_table(sites), settings, taxonomy or Taxonomy.shipped()
        ).run(reporting_year, expected, checks)
    finally:
        con.close()


def _ordered(found: Iterable[Flag]) -> tuple[Flag, ...]:
    """Flags in their fixed order (rule order of ``flag_rules.csv``, entity, site, activity,
    period, id, row), each id unique: equal rows flagged alike (two identical rows that
    overlap) have equal key fields, so the second and later get the id of ``id#2``,
    ``id#3`` ... (in row order; still stable when the same rows are submitted again)."""
    order = {code: i for i, code in enumerate(rules())}

    def sort_key(f: Flag) -> tuple[Any, ...]:
        return (
            order[f.code], f.entity, f.site or "", f.activity, f.period, f.id,
            int(f.data.get("row") or 0),
        )  # fmt: skip

    out: list[Flag] = []
    seen: dict[str, int] = {}
    for flag in sorted(found, key=sort_key):
        n = seen[flag.id] = seen.get(flag.id, 0) + 1
        if n > 1:
            digest = hashlib.sha256(f"{flag.id}#{n}".encode()).hexdigest()[:24]
            flag = dataclasses.replace(flag, id="rf-" + digest)
        out.append(flag)
    return tuple(out)


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _mi(column: str) -> str:
    """SQL: the month index ``12 * year + month - 1`` of a date column."""
    return f"(12 * year({column}) + month({column}) - 1)"


_MONTH_START = "make_date(CAST(mi // 12 AS INTEGER), CAST(mi % 12 + 1 AS INTEGER), 1)"


class _Computation:
    """One run of :func:`compute_flags` over one DuckDB connection."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        sub: pa.Table,
        hist: pa.Table,
        peer: pa.Table | None,
        sites: pa.Table,
        settings: ReviewSettings,
        taxonomy: Taxonomy,
    ):
        self.con = con
        self.sub = sub
        self.hist = hist
        self.peer = peer
        self.sites = sites
        self.settings = settings
        self.taxonomy = taxonomy
        self.flags: list[Flag] = []
        self.notes: list[Flag] = []
        self.unknown: dict[str, str] = {}
        self.year = 0

    def run(
        self, year: int | None, expected: tuple[date, date] | None, checks: tuple[str, ...]
    ) -> Review:
        con = self.con
        con.register("sub_in", self.sub)
        con.register("hist_in", self.hist)
        if year is None:
            (found,) = con.execute("SELECT max(year(period_start)) FROM sub_in").fetchall()
            year = int(found[0]) if found[0] is not None else None
        if year is None:
            return Review((), (), None, self.settings, checks)
        self.year = year
        self._units()
        self._base()
        self._unit_notes()
        self._rows()
        self._change_and_units()
        window = expected or (date(year, 1, 1), date(year, 12, 31))
        self._gaps(window)
        self._overlaps()
        if self.peer is not None:
            self._peers()
        return Review(_ordered(self.flags), _ordered(self.notes), year, self.settings, checks)

    def _add(self, flag: Flag) -> None:
        (self.notes if flag.is_note else self.flags).append(flag)

    # -- preparation ---------------------------------------------------------------------

    def _base(self) -> None:
        """``base``: the submitted rows (origin 1) and the history rows (origin 0) of the
        submitted keys (entity, site, activity) in the reporting year and the one before,
        with the common unit and the quantity in it (``qc``; NULL for a unit that cannot be
        read), days, first and last month index, and the row number (``row``)."""
        y = self.year
        self.con.execute(
            "CREATE TEMP TABLE skeys AS SELECT DISTINCT entity, coalesce(site, '') AS sk, "
            "activity FROM sub_in"
        )
        valid = (
            "quantity IS NOT NULL AND isfinite(quantity) AND period_start IS NOT NULL "
            "AND period_end >= period_start AND entity IS NOT NULL AND activity IS NOT NULL "
            "AND unit IS NOT NULL"
        )
        self.con.execute(
            f"""
            CREATE TEMP TABLE base AS
            SELECT b.* EXCLUDE (correction), coalesce(b.correction, false) AS correction,
                coalesce(b.site, '') AS sk, coalesce(b.row_number, b._pos + 1) AS row,
                u.common, b.quantity * u.factor AS qc,
                datediff('day', b.period_start, b.period_end) + 1 AS days,
                {_mi("b.period_start")} AS mi0, {_mi("b.period_end")} AS mi1
            FROM (
                SELECT 1 AS origin, * FROM sub_in WHERE {valid}
                UNION ALL
                SELECT 0 AS origin, h.* FROM hist_in h
                SEMI JOIN skeys k ON k.entity = h.entity AND k.sk = coalesce(h.site, '')
                    AND k.activity = h.activity
                WHERE {valid} AND h.period_end >= DATE '{y - 1}-01-01'
                    AND h.period_start <= DATE '{y}-12-31'
            ) b
            LEFT JOIN units u ON u.unit = b.unit
            """
        )

    def _units(self) -> None:
        """``units``: each distinct unit's common unit and factor; a note per key for rows
        whose unit cannot be read."""
        sources = [
            "SELECT DISTINCT unit FROM sub_in WHERE unit IS NOT NULL",
            "SELECT DISTINCT unit FROM hist_in WHERE unit IS NOT NULL",
        ]
        if self.peer is not None:
            self.con.register("peer_in", self.peer)
            sources.append("SELECT DISTINCT unit FROM peer_in WHERE unit IS NOT NULL")
        distinct = sorted(str(r[0]) for r in self.con.execute(" UNION ".join(sources)).fetchall())
        names, commons, factors = [], [], []
        unknown: dict[str, str] = {}
        for unit in distinct:
            try:
                common, factor = _common_unit(unit)
            except UnitError as exc:
                unknown[unit] = str(exc)
                continue
            names.append(unit)
            commons.append(common)
            factors.append(factor)
        self.con.register(
            "units",
            pa.table(
                {
                    "unit": pa.array(names, pa.string()),
                    "common": pa.array(commons, pa.string()),
                    "factor": pa.array(factors, pa.float64()),
                }
            ),
        )
        self.unknown = unknown

    def _unit_notes(self) -> None:
        """A note per submitted key and unit that cannot be read."""
        unknown = self.unknown
        if not unknown:
            return
        for entity, site, activity, unit, n, start, end in self.con.execute(
            """
            SELECT entity, site, activity, unit, count(*), min(period_start), max(period_end)
            FROM base WHERE origin = 1 AND common IS NULL GROUP BY ALL ORDER BY ALL
            """
        ).fetchall():
            self._add(
                _make(
                    "review.unit_unknown",
                    entity,
                    site,
                    activity,
                    (start, end),
                    {"unit": unit},
                    {"unit": unit, "rows": int(n), "problem": unknown[unit]},
                    {
                        "rows": str(n),
                        "row_unit": unit,
                        "problem": (
                            unknown[unit],
                            "无法识别该单位；运行 `esgledger units` 可查看可用的单位",
                        ),
                    },
                )
            )

    def _rows(self) -> None:
        """``r``: rows with their quantity in the common unit (``qc``) and days; ``m``: the
        rows spread over calendar months (index ``mi``) in proportion to their days."""
        con = self.con
        con.execute(
            """
            CREATE TEMP VIEW r AS
            SELECT origin, _pos, entity, site, sk, activity, meter, supplier, unit, quantity,
                common, qc, period_start, period_end, correction, row, days, mi0, mi1
            FROM base WHERE common IS NOT NULL
            """
        )
        con.execute(
            f"""
            CREATE TEMP TABLE m AS
            SELECT origin, entity, sk, activity, common, correction, mi,
                sum(qc * (datediff('day', greatest(period_start, ms), least(period_end, me)) + 1)
                    / days) AS q
            FROM (
                SELECT *, {_MONTH_START} AS ms, last_day(ms) AS me
                FROM (SELECT origin, entity, sk, activity, common, correction, qc,
                        period_start, period_end, days, unnest(range(mi0, mi1 + 1)) AS mi
                      FROM r)
            )
            GROUP BY ALL
            """
        )
        y = self.year
        con.execute(
            f"""
            CREATE TEMP TABLE prev AS
            SELECT entity, sk, activity, common, mi + 12 AS mi, sum(q) AS q
            FROM m WHERE origin = 0 AND mi // 12 = {y - 1} GROUP BY ALL
            """
        )

    # -- change against last year and unit surprises ---------------------------------------

    def _change_and_units(self) -> None:
        surprised = self._unit_surprises()
        y = self.year
        rows = self.con.execute(
            f"""
            WITH sm AS (SELECT DISTINCT entity, sk, activity, common, mi FROM m
                        WHERE origin = 1 AND mi // 12 = {y}),
            cur AS (SELECT m.entity, m.sk, m.activity, m.common, m.mi, sum(m.q) AS q
                    FROM m SEMI JOIN sm USING (entity, sk, activity, common, mi)
                    GROUP BY ALL)
            SELECT c.entity, c.sk, c.activity, c.common,
                list(c.mi ORDER BY c.mi) FILTER (WHERE p.q IS NOT NULL) AS months,
                sum(c.q) FILTER (WHERE p.q IS NOT NULL) AS cur_q,
                sum(p.q) AS prev_q,
                list(c.mi ORDER BY c.mi) AS submitted
            FROM cur c LEFT JOIN prev p USING (entity, sk, activity, common, mi)
            GROUP BY ALL ORDER BY c.entity, c.sk, c.activity, c.common
            """
        ).fetchall()
        threshold = self.settings.change_threshold
        for entity, sk, activity, common, months, cur_q, prev_q, submitted in rows:
            site = sk or None
            key = {"unit": common, "year": y}
            if not months:
                first, last = _month_days(submitted[0])[0], _month_days(submitted[-1])[1]
                self._add(
                    _make(
                        "review.no_history",
                        entity,
                        site,
                        activity,
                        (first, last),
                        key,
                        {"year": y, "previous_year": y - 1, "unit": common,
                         "months": [_month(i) for i in submitted]},
                        {"previous_year": str(y - 1), "months": _months_text(submitted)},
                    )
                )  # fmt: skip
                continue
            if (entity, sk, activity, common) in surprised:
                continue
            current, previous = _r(float(cur_q)), _r(float(prev_q))
            period = (_month_days(months[0])[0], _month_days(months[-1])[1])
            data: dict[str, Any] = {
                "year": y,
                "previous_year": y - 1,
                "months": [_month(i) for i in months],
                "unit": common,
                "current": current,
                "previous": previous,
                "threshold": threshold,
            }
            fields: dict[str, Field] = {
                "months": _months_text(months),
                "previous_year": str(y - 1),
                "unit": common,
                "current": _num(current),
                "previous": _num(previous),
                "threshold": _pct(threshold, sign=False),
            }
            if previous == 0:
                if current != 0:
                    self._add(
                        _make(
                            "review.change_from_zero",
                            entity, site, activity, period, key,
                            {**data, "change": None}, fields,
                        )
                    )  # fmt: skip
                continue
            change = _r(current / previous - 1)
            if abs(change) > threshold:
                self._add(
                    _make(
                        "review.change_vs_last_year",
                        entity, site, activity, period, key,
                        {**data, "change": change}, {**fields, "change": _pct(change)},
                    )
                )  # fmt: skip

    def _unit_surprises(self) -> set[tuple[str, str, str, str]]:
        """Flag submitted rows whose quantity per day is about 1,000× or 1/1,000 of last
        year's per calendar day in the same months; the keys flagged."""
        tolerance = self.settings.unit_tolerance
        y = self.year
        rows = self.con.execute(
            f"""
            WITH rm AS (
                SELECT _pos, entity, sk, activity, common, mi
                FROM (SELECT *, unnest(range(mi0, mi1 + 1)) AS mi FROM r
                      WHERE origin = 1 AND NOT correction AND qc > 0)
            ),
            ref AS (
                SELECT rm._pos, sum(p.q) AS ref_q,
                    sum(day(last_day(make_date(CAST((p.mi - 12) // 12 AS INTEGER),
                        CAST(p.mi % 12 + 1 AS INTEGER), 1)))) AS ref_days,
                    list(p.mi - 12 ORDER BY p.mi) AS months
                FROM rm JOIN prev p USING (entity, sk, activity, common, mi)
                GROUP BY rm._pos HAVING sum(p.q) > 0
            )
            SELECT r.entity, r.sk, r.activity, r.common, r.row, r.meter, r.supplier,
                r.period_start, r.period_end, r.quantity, r.unit, r.qc, r.days,
                ref.ref_q, ref.ref_days, ref.months
            FROM r JOIN ref ON r.origin = 1 AND r._pos = ref._pos
            WHERE abs(abs(log10((r.qc / r.days) / (ref.ref_q / ref.ref_days)))
                - {_UNIT_DECADES}) <= {tolerance} + 0.01
            ORDER BY r.entity, r.sk, r.activity, r.row, r.period_start
            """
        ).fetchall()
        surprised: set[tuple[str, str, str, str]] = set()
        for (
            entity, sk, activity, common, row, meter, supplier, start, end, quantity, unit,
            qc, days, ref_q, ref_days, months,
        ) in rows:  # fmt: skip
            reference = _r(float(ref_q) / float(ref_days) * int(days))
            value = _r(float(qc))
            ratio = _r(value / reference)
            decades = math.log10(ratio)
            if abs(abs(decades) - _UNIT_DECADES) > tolerance:
                continue
            too_large = decades > 0
            suggested = _suggested_unit(str(unit), too_large)
            site = sk or None
            surprised.add((entity, sk, activity, common))
            self._add(
                _make(
                    "review.unit_surprise",
                    entity,
                    site,
                    activity,
                    (start, end),
                    {"meter": meter, "supplier": supplier, "start": start.isoformat(),
                     "end": end.isoformat(), "unit": unit},
                    {
                        "row": int(row),
                        "meter": meter,
                        "supplier": supplier,
                        "quantity": _r(float(quantity)),
                        "row_unit": unit,
                        "unit": common,
                        "value": value,
                        "reference": reference,
                        "reference_months": [_month(i) for i in months],
                        "ratio": ratio,
                        "tolerance_decades": tolerance,
                        "suggested_unit": suggested,
                    },
                    {
                        "row": str(row),
                        "quantity": _num(float(quantity)),
                        "row_unit": str(unit),
                        "unit": common,
                        "reference": _num(reference),
                        "previous_year": str(y - 1),
                        "ratio_text": ("1,000 times", "1,000 倍")
                        if too_large
                        else ("1/1,000 of", "千分之一"),
                        "suggested_unit": suggested
                        or (
                            ("a unit 1,000 times smaller", "小 1,000 倍的单位")
                            if too_large
                            else ("a unit 1,000 times larger", "大 1,000 倍的单位")
                        ),
                    },
                )
            )  # fmt: skip
        return surprised

    # -- gaps ----------------------------------------------------------------------------

    def _metered(self) -> list[str]:
        """The submitted activities of scope 1 and 2 (:data:`OVERLAP_SCOPES`)."""
        out = []
        for (activity,) in self.con.execute(
            "SELECT DISTINCT activity FROM base WHERE origin = 1 ORDER BY 1"
        ).fetchall():
            try:
                scope = self.taxonomy.get(str(activity)).scope
            except UnknownActivityError:
                continue
            if scope in OVERLAP_SCOPES:
                out.append(str(activity))
        return out

    def _gaps(self, window: tuple[date, date]) -> None:
        metered = self._metered()
        if not metered:
            return
        lo = window[0].year * 12 + window[0].month - 1
        hi = window[1].year * 12 + window[1].month - 1
        wanted = ", ".join(_sql_text(a) for a in metered)
        rows = self.con.execute(
            f"""
            WITH k AS (SELECT entity, sk, activity FROM r
                       WHERE NOT correction AND activity IN ({wanted})
                       GROUP BY ALL
                       HAVING bool_or(origin = 1)
                           AND bool_or(days BETWEEN {_MONTHLY_DAYS[0]} AND {_MONTHLY_DAYS[1]})),
            cov AS (SELECT DISTINCT entity, sk, activity, mi FROM m
                    WHERE NOT correction AND mi BETWEEN {lo} AND {hi}
                        AND activity IN ({wanted})),
            e AS (SELECT entity, sk, activity, unnest(range({lo}, {hi + 1})) AS mi FROM k)
            SELECT entity, sk, activity, list(mi ORDER BY mi) AS missing
            FROM e ANTI JOIN cov USING (entity, sk, activity, mi)
            GROUP BY ALL ORDER BY ALL
            """
        ).fetchall()
        for entity, sk, activity, missing in rows:
            months = [_month(i) for i in missing]
            self._add(
                _make(
                    "review.gap",
                    entity,
                    sk or None,
                    activity,
                    (_month_days(missing[0])[0], _month_days(missing[-1])[1]),
                    {"missing": months},
                    {"year": self.year, "missing": months,
                     "expected": {"start": window[0].isoformat(), "end": window[1].isoformat()}},
                    {"missing": _months_text(missing), "count": str(len(missing))},
                )
            )  # fmt: skip

    # -- overlaps ------------------------------------------------------------------------

    def _overlaps(self) -> None:
        """Submitted rows overlapping another submitted or approved row: the import's rule,
        :mod:`esgledger.overlaps`, over the submitted rows and the history rows of their keys
        that fall within the submission's first and last day (no other row can share a
        day with a submitted row)."""
        metered = self._metered()
        if not metered:
            return
        con = self.con
        wanted = ", ".join(_sql_text(a) for a in metered)
        columns = ", ".join(DUPLICATE_COLUMNS)
        con.execute(
            f"""
            CREATE TEMP VIEW ov_all AS
            SELECT {columns},
                {{'origin': origin, 'batch_id': batch_id, 'row_number': row,
                  'record_id': record_id, 'period_start': period_start,
                  'period_end': period_end}} AS ref,
                origin AS _origin, _pos AS _row
            FROM base, (SELECT min(period_start) AS lo, max(period_end) AS hi FROM base
                        WHERE origin = 1) span
            WHERE activity IN ({wanted}) AND NOT correction
                AND period_end >= span.lo AND period_start <= span.hi
            """
        )
        con.execute(f"CREATE TEMP TABLE ov_hot AS {hot_months_sql('ov_all')}")
        ((hot,),) = con.execute("SELECT count(*) FROM ov_hot").fetchall()
        if not hot:
            return
        candidates = f"({candidates_sql('ov_all', 'ov_hot')})"
        rows = con.execute(
            f"""
            SELECT entity, site, activity, meter, supplier, period_start, period_end,
                ref.row_number, overlap_with, duplicate_of IS NOT NULL
            FROM ({overlap_sql(candidates, order=("_origin", "_row"))})
            WHERE _origin = 1 AND overlapping
            ORDER BY entity, site, activity, ref.row_number
            """
        ).fetchall()
        for entity, site, activity, meter, supplier, start, end, row, other, dup in rows:
            own = int(other["origin"]) == 1
            batch = other["batch_id"]
            record = other["record_id"]
            if own:
                named: Field = (
                    f"row {other['row_number']} of this submission",
                    f"本次提交第 {other['row_number']} 行",
                )
            else:
                named = (
                    f"row {other['row_number']} of approved batch {batch or '-'}"
                    + (f" (record id {record})" if record else ""),
                    f"已审批批次 {batch or '-'} 第 {other['row_number']} 行"
                    + (f"（记录编号 {record}）" if record else ""),
                )
            self._add(
                _make(
                    "review.overlap",
                    entity,
                    site,
                    activity,
                    (start, end),
                    {"meter": meter, "supplier": supplier, "start": start.isoformat(),
                     "end": end.isoformat()},
                    {
                        "row": int(row),
                        "meter": meter,
                        "supplier": supplier,
                        "duplicate": bool(dup),
                        "other": {
                            "in": "submission" if own else "history",
                            "batch_id": batch,
                            "row_number": int(other["row_number"]),
                            "record_id": record,
                            "period_start": other["period_start"].isoformat(),
                            "period_end": other["period_end"].isoformat(),
                        },
                    },
                    {
                        "row": str(row),
                        "other": named,
                        "other_start": other["period_start"].isoformat(),
                        "other_end": other["period_end"].isoformat(),
                        "duplicate_text": ("; the two rows are exact duplicates", "；两行完全相同")
                        if dup
                        else "",
                    },
                )
            )  # fmt: skip

    # -- comparable sites ----------------------------------------------------------------

    def _peers(self) -> None:
        con = self.con
        con.register("sites_in", self.sites)
        con.execute(
            """
            CREATE TEMP TABLE tested AS
            SELECT entity, site, activity, common, sum(qc) AS q,
                sum(days) FILTER (WHERE NOT correction) AS d,
                min(period_start) AS first, max(period_end) AS last
            FROM r WHERE origin = 1 AND site IS NOT NULL GROUP BY ALL
            """
        )
        con.execute(
            """
            CREATE TEMP TABLE pv AS
            SELECT p.site, p.activity, p.common, s.type, s.country,
                log10(sum(p.qc) / sum(p.days) FILTER (WHERE NOT p.correction) * 365) AS lv
            FROM (SELECT x.* EXCLUDE (correction), u.common, x.quantity * u.factor AS qc,
                      datediff('day', x.period_start, x.period_end) + 1 AS days,
                      coalesce(x.correction, false) AS correction
                  FROM peer_in x JOIN units u ON u.unit = x.unit
                  WHERE x.site IS NOT NULL AND x.quantity IS NOT NULL AND isfinite(x.quantity)
                      AND x.period_end >= x.period_start) p
            JOIN (SELECT DISTINCT site, type, country FROM sites_in) s ON s.site = p.site
            SEMI JOIN (SELECT DISTINCT activity, common FROM tested) t
                ON t.activity = p.activity AND t.common = p.common
            ANTI JOIN (SELECT DISTINCT site, activity FROM tested) o
                ON o.site = p.site AND o.activity = p.activity
            GROUP BY ALL
            HAVING sum(p.days) FILTER (WHERE NOT p.correction) > 0
                AND sum(p.qc) / sum(p.days) FILTER (WHERE NOT p.correction) > 0
            """
        )
        for level, by in (
            ("g1", "activity, common, type, country"),
            ("g2", "activity, common, type"),
        ):
            con.execute(
                f"""
                CREATE TEMP TABLE {level} AS
                WITH g AS (SELECT {by}, count(*) AS n, median(lv) AS med,
                               list(site ORDER BY site)[1:{_PEERS_LISTED}] AS sites
                           FROM pv GROUP BY {by}),
                d AS (SELECT {by}, median(abs(pv.lv - g.med)) AS mad,
                          avg(abs(pv.lv - g.med)) AS meanad
                      FROM pv JOIN g USING ({by}) GROUP BY {by})
                SELECT * FROM g JOIN d USING ({by})
                """
            )
        rows = con.execute(
            """
            SELECT t.entity, t.site, t.activity, t.common, t.q, t.d, t.first, t.last,
                s.type, s.country,
                g1.n, g1.med, g1.mad, g1.meanad, g1.sites,
                g2.n, g2.med, g2.mad, g2.meanad, g2.sites
            FROM tested t
            LEFT JOIN (SELECT site, min(type) AS type, min(country) AS country
                       FROM sites_in GROUP BY site) s ON s.site = t.site
            LEFT JOIN g1 ON g1.activity = t.activity AND g1.common = t.common
                AND g1.type = s.type AND g1.country = s.country
            LEFT JOIN g2 ON g2.activity = t.activity AND g2.common = t.common
                AND g2.type = s.type
            ORDER BY t.entity, t.site, t.activity, t.common
            """
        ).fetchall()
        for row in rows:
            self._peer_row(row)

    def _peer_row(self, row: tuple[Any, ...]) -> None:
        entity, site, activity, common, q, d, first, last, stype, country = row[:10]
        g1, g2 = row[10:15], row[15:20]
        period = (first, last)
        key = {"unit": common, "year": self.year}
        if stype is None:
            self._add(
                _make("review.site_unknown", entity, site, activity, period, key,
                      {"unit": common}, {})
            )  # fmt: skip
            return
        minimum = self.settings.peer_min_sites
        group, scope = (g1, {"type": stype, "country": country})
        if (g1[0] or 0) < minimum:
            group, scope = (g2, {"type": stype, "country": None})
        label: Field = (
            (f"same type {stype}, country {country}", f"同类型 {stype}、同国家 {country}")
            if scope["country"]
            else (f"same type {stype}, any country", f"同类型 {stype}、不限国家")
        )
        n = int(group[0] or 0)
        if not d or q is None or q <= 0:
            return  # nothing to compare: no days, or no positive quantity
        value = _r(float(q) / float(d) * 365)
        if n < minimum:
            self._add(
                _make("review.peers_too_few", entity, site, activity, period, key,
                      {"unit": common, "peers": n, "threshold": minimum, "peer_group": scope},
                      {"peers": str(n), "threshold": str(minimum), "peer_group": label})
            )  # fmt: skip
            return
        med, mad, meanad, listed = _r(float(group[1])), float(group[2]), float(group[3]), group[4]
        median = _r(10**med)
        base = {
            "unit": common,
            "value": value,
            "median": median,
            "peers": n,
            "peer_group": scope,
            "peer_sites": list(listed),
        }
        if mad > 0:
            scale = _r(mad / _Z_MAD)
        elif meanad > 0:
            scale = _r(_Z_MEANAD * meanad)
        else:
            self._add(
                _make("review.peers_no_spread", entity, site, activity, period, key, base,
                      {"peers": str(n), "peer_group": label, "median": _num(median),
                       "value": _num(value), "unit": common})
            )  # fmt: skip
            return
        z = _r((math.log10(value) - med) / scale)
        threshold = self.settings.peer_z_threshold
        if abs(z) <= threshold:
            return
        low = _r(10 ** (med - threshold * scale))
        high = _r(10 ** (med + threshold * scale))
        self._add(
            _make(
                "review.peer_outlier", entity, site, activity, period, key,
                {**base, "log10_median": med, "log10_scale": scale, "z": z,
                 "threshold": threshold, "low": low, "high": high,
                 "method": "modified z-score on log10 (Iglewicz-Hoaglin)"},
                {"value": _num(value), "unit": common, "low": _num(low), "high": _num(high),
                 "peers": str(n), "peer_group": label, "median": _num(median),
                 "z": f"{z:+.2f}", "threshold": f"{threshold:g}"},
            )
        )  # fmt: skip
