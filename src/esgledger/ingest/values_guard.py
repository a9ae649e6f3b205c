"""The one guard of every number an import accepts: grammar, finiteness and bounds.

数值校验：统一的数字语法、有限性与取值范围（按单位换算后比较）。

Every importer parses the numbers of a file through this module (the activity import applies
the same grammar and bounds in DuckDB, see :func:`number_sql` and :func:`quantity_limit`), so
a value no calculation can handle never reaches the workspace (``docs/hardening/values.md``).

Grammar
-------
One grammar for a number written in a file (:data:`NUMBER_PATTERN`)::

    [+-]? ( digits [ . digits? ] | . digits ) ( [eE] [+-]? digits )?

with ASCII digits ``0-9`` (full-width digits are folded to ASCII first by NFKC). Refused:
thousands separators (``1,000``, ``1_000``, ``1 000``, ``1'000``), hexadecimal and other
prefixes (``0x10``), ``inf``, ``nan``, ``Infinity``, digits of other scripts, and anything
else. A leading ``+`` is accepted: it cannot be misread and spreadsheets write it. Spreadsheet
and Parquet cells that are already numbers skip the grammar but not the checks below.

Bounds
------
A number must be finite and lie within the bounds of its *measure* in ``schema/value_bounds.csv``
(columns ``measure, dimension, unit, min, max, columns, rationale``):

* ``quantity`` — an activity's quantity or a metric value, per dimension, stated in a
  reference unit (``kWh`` for energy, ``kg`` for mass ...): the value is converted from the
  row's unit to the reference unit before it is compared (``1e27 MWh`` is ``1e30 kWh``);
* ``factor`` — kg CO2e per reference unit of the factor's dimension; CH4 and N2O masses are
  compared after multiplying them by the largest GWP-100 of their gas in any shipped GWP set;
* named measures (``fx_rate``, ``t_co2e``, ``mwh`` ...) whose ``columns`` list the file
  columns they apply to, whatever the import kind;
* ``any`` — the generic ceiling ``|x| <= 1e15`` of every other number
  (:data:`GENERIC_CEILING`), and of a quantity whose dimension has no row.

A unit's own scale must be finite and within ``1e-15 .. 1e15`` of its reference unit
(``inf kWh``, ``1e308 kWh`` are refused as units).

Why the engine's decimals always hold
-------------------------------------
The aggregation sums CO2e per line as ``DECIMAL(38, 9)``: at most 29 digits before the point,
so every sum must stay below ``1e29`` kg. For each dimension of ``value_bounds.csv`` the
largest accepted quantity times the largest accepted factor is at most
:data:`LINE_CEILING_KG` = ``1e18`` kg CO2e (checked by :func:`line_ceiling_by_dimension` and a
test), e.g. energy ``1e14 kWh x 10 kg/kWh = 1e15``, mass ``1e13 kg x 1e5 kg/kg = 1e18``,
items ``1e11 x 1e7 = 1e18``. Unit conversion does not change that product (both sides are
converted to the same reference unit) and the consolidation share is at most 1. So such a
line is at most ``1e18`` kg, and a run of fewer than ``1e10`` lines (the benchmark's largest
lake is 5e7 rows) sums to less than ``1e28`` kg, an order of magnitude inside
``DECIMAL(38, 9)``.

Two products also depend on data chosen at calculation time: a fuel converted across
dimensions by its shipped properties (litres to tonnes by density, tonnes to TJ by NCV), and
spend (``1e15`` units x a ratio of two exchange rates of ``1e-3 .. 1e6`` per USD x a price
index ratio x ``1e2`` kg per unit). Their extremes can pass ``1e18``; the engine therefore
refuses, with a one-line message naming the batch and row, any line whose CO2e is not finite
or above :data:`LINE_CEILING_KG` (``esgledger.inventory.runs.check_line_ceiling``) instead of
failing in the cast. Every accepted line, hence every sum, fits.
"""

from __future__ import annotations

import csv
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from esgledger.ingest.readers import RawTable

__all__ = [
    "DECIMAL_LIMIT_KG",
    "GENERIC_CEILING",
    "LINE_CEILING_KG",
    "NUMBER_PATTERN",
    "TEMPERATURE_RANGE_C",
    "Bound",
    "NumberError",
    "bound_for",
    "bound_problem",
    "bounds",
    "check_number",
    "guard_text",
    "is_code_column",
    "line_ceiling_by_dimension",
    "measure_of_column",
    "number_fix",
    "number_sql",
    "parse_number",
    "quantity_limit",
    "text_problem",
    "unit_scale_problem",
]

#: The grammar of a number written in a file (ASCII digits; see the module docstring).
NUMBER_PATTERN = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_NUMBER = re.compile(NUMBER_PATTERN)
#: The generic ceiling of every number [its unit, or the reference unit of its dimension].
GENERIC_CEILING = 1e15
#: [°C] accepted air temperatures (recorded extremes on Earth: −89.2 °C and 56.7 °C); the
#: weather import and its template use it.
TEMPERATURE_RANGE_C = (-90.0, 60.0)
#: The largest CO2e of one line any accepted quantity and factor can give [kg].
LINE_CEILING_KG = 1e18
#: Every DECIMAL(38, 9) value is below this [kg].
DECIMAL_LIMIT_KG = 1e29
#: A unit's scale relative to its reference unit must lie within these [1].
_UNIT_SCALE = (1e-15, 1e15)

_SEPARATORS = {",": "a comma", "_": "an underscore", "'": "an apostrophe", " ": "a blank"}
_NUMBER_FIX = "write a plain number such as 1234.5 or 1.2e6: no thousands separators, units or text"


class NumberError(ValueError):
    """A cell that is not an acceptable number; ``str()`` says why in a few words."""


def parse_number(value: Any) -> float:
    """The number of a cell: text by :data:`NUMBER_PATTERN`, numbers as they are.

    Raises
    ------
    NumberError
        For text outside the grammar, booleans, and NaN or infinite values.
    """
    if isinstance(value, bool):
        raise NumberError("not a number (a true/false value)")
    if isinstance(value, int):
        number = float(value) if abs(value) < 10**300 else math.inf
    elif isinstance(value, float):
        number = value
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip()
        if not _NUMBER.fullmatch(text):
            raise NumberError(_why_not(text))
        number = float(text)
    if not math.isfinite(number):
        raise NumberError("not a finite number")
    return number


def _why_not(text: str) -> str:
    lowered = text.lower().lstrip("+-")
    if lowered in ("inf", "infinity", "nan", "-nan"):
        return "not a finite number"
    for mark, name in _SEPARATORS.items():
        if mark in text and _NUMBER.fullmatch(text.replace(mark, "")):
            return f"not a number: it contains {name}"
    if re.fullmatch(r"[+-]?0[xXbBoO][0-9a-fA-F_]+", text):
        return "not a number: hexadecimal, binary and octal numbers are not accepted"
    return "not a number"


# ---- bounds -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bound:
    """One row of ``schema/value_bounds.csv``."""

    measure: str
    dimension: str  # pint dimension ("[energy]"), "[currency]", or "" for a plain number
    unit: str  # reference unit of min and max ("" = the value's own unit)
    min: float
    max: float
    columns: tuple[str, ...]
    rationale: str

    def describe(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.min:g}{unit} .. {self.max:g}{unit}"


@cache
def bounds() -> tuple[Bound, ...]:
    """Every bound of ``schema/value_bounds.csv``."""
    text = resources.files("esgledger.schema").joinpath("value_bounds.csv").read_text("utf-8")
    return tuple(
        Bound(
            measure=row["measure"],
            dimension=row["dimension"],
            unit=row["unit"],
            min=float(row["min"]),
            max=float(row["max"]),
            columns=tuple(c for c in row["columns"].split(";") if c),
            rationale=row["rationale"],
        )
        for row in csv.DictReader(text.splitlines())
    )


@cache
def _generic() -> Bound:
    return next(b for b in bounds() if b.measure == "any")


@cache
def measure_of_column(column: str) -> str:
    """The measure whose ``columns`` name ``column``, else ``"any"``."""
    return next((b.measure for b in bounds() if column in b.columns), "any")


@lru_cache(maxsize=4096)
def _dimension_bound(measure: str, unit: str) -> tuple[Bound, float] | None:
    """The bound of ``measure`` for the dimension of ``unit`` and the factor turning a
    magnitude in ``unit`` into one in the bound's reference unit; None when no row fits or
    the unit does not parse."""
    from esgledger.errors import UnitError
    from esgledger.units import conversion_factor, currency_of, fits_dimension, parse_unit

    try:
        parse_unit(unit)
        for bound in bounds():
            if bound.measure != measure or not bound.dimension:
                continue
            if bound.dimension == "[currency]":
                code = currency_of(unit)
                if code is not None:
                    return bound, conversion_factor(unit, code)
                continue
            if fits_dimension(unit, bound.dimension):
                return bound, conversion_factor(unit, bound.unit)
    except UnitError:
        return None
    return None


def bound_for(measure: str, unit: str | None = None) -> tuple[Bound, float]:
    """The bound a value of ``measure`` (in ``unit``) is checked against, with the factor
    that turns the value into the bound's unit (1 for plain numbers)."""
    if unit:
        found = _dimension_bound(measure, unit)
        if found is not None:
            return found
    for bound in bounds():
        if bound.measure == measure and not bound.dimension:
            return bound, 1.0
    return _generic(), 1.0


def unit_scale_problem(unit: str) -> str | None:
    """Why a unit's own scale is unusable (``inf kWh``, ``1e308 kWh``), or None."""
    from esgledger.errors import UnitError
    from esgledger.units import conversion_factor, currency_of, parse_unit

    try:
        quantity = parse_unit(unit)
    except UnitError:
        return None  # the unit check says so
    magnitude = float(quantity.magnitude)
    found = _dimension_bound("quantity", unit)
    if found is not None:
        scale = found[1]
    else:
        code = currency_of(unit)
        try:
            scale = conversion_factor(unit, code) if code else magnitude
        except UnitError:  # pragma: no cover - same dimension by construction
            scale = magnitude
    low, high = _UNIT_SCALE
    if not math.isfinite(magnitude) or not math.isfinite(scale) or not low <= scale <= high:
        return "the unit's scale is not a usable number (beyond 1e15 times its base unit)"
    return None


def _gas_weight(column: str) -> float:
    """The largest GWP-100 of the gas of a factor column in any shipped set (1 for CO2)."""
    from esgledger.gwp import GWP_SETS, gwp

    gas = {"ch4_kg": "CH4", "n2o_kg": "N2O"}.get(column)
    if gas is None:
        return 1.0
    return max(gwp(gas, s) for s in GWP_SETS)


def bound_problem(
    value: float, measure: str, unit: str | None = None, *, column: str = ""
) -> str | None:
    """Why ``value`` (finite) is outside its bound, in one short sentence, or None.

    ``measure`` is a measure of ``value_bounds.csv`` (``quantity``, ``factor``, ``fx_rate``
    ...); ``unit`` the value's unit, which picks the row by dimension and converts the value
    to its reference unit; ``column`` a factor's gas column (``ch4_kg``) to weigh by GWP.
    """
    bound, scale = bound_for(measure, unit)
    weight = _gas_weight(column) if measure == "factor" else 1.0
    # A factor is per unit: per kWh is 1,000 times less than per MWh.
    converted = (value / scale if measure == "factor" else value * scale) * weight
    # A sign (a negative factor, a zero rate) is the importer's own rule, with its own
    # message: the lower bound only refuses a positive value too small to be meant.
    above_min = converted >= bound.min or converted <= 0 <= bound.min
    if math.isfinite(converted) and converted <= bound.max and above_min:
        return None
    if bound.measure == "factor":
        per = f" kg CO2e per {bound.unit or 'currency unit'}"
        shown = f"{converted:.3g}{per}"
        limits = f"{bound.min:g} .. {bound.max:g}{per}"
    else:
        shown = f"{converted:.3g}" + (f" {bound.unit}" if bound.unit else "")
        limits = bound.describe()
    what = f"{measure} of {bound.dimension}" if bound.dimension else bound.measure
    if bound.measure == "any":
        what = "a number"
    return f"{shown} is outside the bounds of {what}: {limits} (value_bounds.csv)"


def check_number(
    value: Any, measure: str = "any", unit: str | None = None, *, column: str = ""
) -> tuple[float | None, str | None]:
    """``(number, None)`` or ``(None, problem)``: grammar, finiteness and bounds in one call."""
    try:
        number = parse_number(value)
    except NumberError as exc:
        return None, str(exc)
    problem = bound_problem(number, measure, unit, column=column)
    return (None, problem) if problem else (number, None)


def number_fix(problem: str) -> str:
    """What to do about a problem of :func:`check_number`."""
    if problem.startswith("not a"):
        return _NUMBER_FIX
    return "check the number and its unit (a slip of the decimal point or of kWh for MWh?)"


# ---- the same rules in DuckDB (activities) -----------------------------------------------


def number_sql(raw: str) -> str:
    """SQL: ``raw`` (a trimmed VARCHAR expression) as DOUBLE when it follows the grammar,
    else NULL (infinite values stay infinite: a separate rule names them)."""
    grammar = f"regexp_full_match({raw}, '{NUMBER_PATTERN}')"
    return f"CASE WHEN {grammar} THEN TRY_CAST({raw} AS DOUBLE) END"


def quantity_limit(unit: str) -> tuple[float, float, str] | None:
    """``(low, high, problem)``: the bounds of an activity quantity in ``unit`` itself (the
    reference bounds divided by the unit's scale), with the sentence naming them; None when
    the unit does not parse or its scale is unusable."""
    from esgledger.errors import UnitError
    from esgledger.units import parse_unit

    try:
        parse_unit(unit)
    except UnitError:
        return None  # the unit check says so
    if unit_scale_problem(unit) is not None:
        return None
    bound, scale = bound_for("quantity", unit)
    if not scale > 0 or not math.isfinite(scale):
        return None
    what = f"a quantity of {bound.dimension}" if bound.dimension else "a number"
    same = "" if scale == 1.0 else f" = {bound.describe()}"
    problem = (
        f"outside the bounds of {what}: {bound.min / scale:.3g} .. {bound.max / scale:.3g} "
        f"{unit}{same} (value_bounds.csv)"
    )
    return bound.min / scale, bound.max / scale, problem


def line_ceiling_by_dimension() -> dict[str, float]:
    """The largest quantity x factor each dimension allows [kg CO2e] (the proof above)."""
    out: dict[str, float] = {}
    for quantity in bounds():
        if quantity.measure != "quantity":
            continue
        for factor in bounds():
            if factor.measure == "factor" and factor.dimension == quantity.dimension:
                out[quantity.dimension] = max(abs(quantity.min), abs(quantity.max)) * factor.max
    return out


# ---- text: NUL, control and invisible characters, NFC ----------------------------------

#: Columns of free text (names, descriptions, notes, sources): only NUL is refused there.
#: Every other text column is a code or a key (entity, site, record_id, activity, unit,
#: region, factor, supplier, currency ...), where control and invisible characters are
#: refused too: ``DC\u200b-TJ`` must not pass for ``DC-TJ``.
FREE_TEXT_COLUMNS: frozenset[str] = frozenset(
    {
        "name", "name_zh", "description", "notes", "source", "edition", "licence",
        "attribution", "title_en", "title_zh", "unit_label_en", "unit_label_zh", "text",
        "evidence", "project", "registry", "beneficiary", "purpose", "reference",
        "generator", "project_type", "standard", "denominator", "source_row",
    }
)  # fmt: skip
#: Characters refused in codes (RE2 syntax, shared by pyarrow and DuckDB): controls (Cc,
#: tab and line breaks included), format characters (Cf: zero-width space, joiners, bidi
#: controls, soft hyphen, BOM), private use (Co), line and paragraph separators (Zl, Zp), and
#: blanks that are letters or marks by category (Hangul fillers, the Braille blank, the
#: combining grapheme joiner, variation selectors).
INVISIBLE_RE2 = (
    r"[\p{Cc}\p{Cf}\p{Co}\p{Zl}\p{Zp}"
    r"\x{034F}\x{115F}\x{1160}\x{3164}\x{FFA0}\x{2800}\x{FE00}-\x{FE0F}]"
)
_INVISIBLE_EXTRA = frozenset("\u034f\u115f\u1160\u3164\uffa0\u2800") | frozenset(
    chr(c) for c in range(0xFE00, 0xFE10)
)
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
NUL_PROBLEM = "the text contains a NUL character (U+0000)"
INVISIBLE_PROBLEM = "a code may not contain control or invisible characters"
TEXT_FIX_NUL = "remove the NUL characters (a damaged export?) and save the file again"
TEXT_FIX_INVISIBLE = (
    "retype the code: it holds characters that look like nothing (zero-width, bidi or "
    "control characters) and would make a look-alike of another code"
)


def is_invisible(char: str) -> bool:
    """Whether ``char`` is refused in a code (see :data:`INVISIBLE_RE2`)."""
    return unicodedata.category(char) in _REFUSED_CATEGORIES or char in _INVISIBLE_EXTRA


def text_problem(text: str, *, code: bool) -> str | None:
    """Why ``text`` is refused (NUL anywhere; invisible characters in a code), or None."""
    if "\x00" in text:
        return NUL_PROBLEM
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        return "the text contains an unpaired surrogate (not valid Unicode)"
    if code and any(is_invisible(c) for c in text):
        return INVISIBLE_PROBLEM
    return None


@cache
def _declared_columns() -> frozenset[str]:
    """Every column of every import kind (``schema/*_columns.csv``)."""
    folder = resources.files("esgledger.schema")
    names: set[str] = set()
    for entry in folder.iterdir():
        if entry.name.endswith("_columns.csv"):
            names.update(
                row["column"] for row in csv.DictReader(entry.read_text("utf-8").splitlines())
            )
    return frozenset(names)


def is_code_column(column: str) -> bool:
    """Whether ``column`` holds codes or keys: a declared column of an import kind that is not
    free text (a column no kind declares is ignored by the importers: only NUL is refused)."""
    return column in _declared_columns() and column not in FREE_TEXT_COLUMNS


def guard_text(raw: RawTable) -> RawTable:
    """The table of a read file with every text cell in Unicode NFC, or :class:`InputError`
    naming each cell with a NUL character, or with a control or invisible character in a
    code column (vectorised with pyarrow; at most 1,000 issues listed, all counted)."""
    import dataclasses

    import pyarrow as pa
    import pyarrow.compute as pc

    from esgledger.errors import InputError, Issue

    issues: list[Issue] = []
    total = 0
    columns = []
    for name in raw.table.column_names:
        column = raw.table.column(name)
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            columns.append(column)
            continue
        code = is_code_column(name)
        pattern = INVISIBLE_RE2 if code else r"\x00"
        bad = pc.fill_null(pc.match_substring_regex(column, pattern), False)
        hits = pc.indices_nonzero(bad).to_pylist() if pc.any(bad).as_py() else []
        total += len(hits)
        for index in hits[: max(0, 1000 - len(issues))]:
            value = column[index].as_py()
            problem = text_problem(value, code=code) or INVISIBLE_PROBLEM
            fix = TEXT_FIX_NUL if problem == NUL_PROBLEM else TEXT_FIX_INVISIBLE
            issues.append(Issue(raw.file, index + raw.first_row, name, value, problem, fix))
        if not pc.all(pc.fill_null(pc.string_is_ascii(column), True)).as_py():
            column = pc.utf8_normalize(column, "NFC")
        columns.append(column)
    if issues:
        issues.sort(key=lambda i: (i.row or 0, i.column or ""))
        raise InputError(
            f"{raw.file} was rejected: {total} cell(s) with NUL, control or invisible "
            "characters; nothing was imported",
            issues,
            total,
        )
    return dataclasses.replace(
        raw, table=pa.Table.from_arrays(columns, names=raw.table.column_names)
    )
