"""Metric values typed in by the company: validation into one normalised Arrow table.

指标数值：公司填报数值的校验与规范化。

A metric-value file has the columns of ``schema/metric_value_columns.csv``: ``metric``,
``entity``, a period (``year``, or ``period_start`` and ``period_end``), ``value`` (number and
table metrics) or ``text`` (text metrics), ``unit``, ``breakdown``, ``evidence``, ``notes``.
:func:`validate_values` checks every row and raises one :class:`~esgledger.errors.InputError`
listing every problem (nothing is accepted from a file with any problem):

* the metric is not in the catalogue, or is computed (``A1.2 is computed from the inventory;
  remove the row``);
* the unit does not fit the metric's dimension; otherwise the value is converted into the
  catalogue unit with :func:`esgledger.units.conversion_factor` (``kWh`` into ``'000 kWh``);
  amounts keep their currency (no exchange rate is ever applied here);
* text for a number metric, a number for a text metric;
* an unknown entity (the caller passes the known entity codes);
* no period, a period ending before it starts, or one outside the reporting year (or the
  earlier years the caller allows for comparisons);
* a malformed breakdown, and two rows for the same metric, entity, period and breakdown.

Breakdown grammar: ``key=value`` pairs separated by ``;`` (``gender=female; region=CN;
age=<30``); keys are lower-case words (``[a-z][a-z0-9_]*``), values any text without ``;``
or ``=``; each key at most once. The canonical form sorts the keys: ``age=<30;gender=female``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import pyarrow as pa

from esgledger.disclosure.catalogue import Catalogue, CatalogueItem, _columns
from esgledger.errors import InputError, Issue, UnitError, close_matches
from esgledger.units import conversion_factor, parse_unit

__all__ = [
    "VALUE_SCHEMA",
    "format_breakdown",
    "parse_breakdown",
    "validate_values",
    "value_columns",
]

#: The normalised value table. ``value`` is in ``unit``, the catalogue unit (with the
#: currency of the row for ``[currency]`` metrics); ``value_as_given``/``unit_as_given`` keep
#: what the file said; ``row`` is the row number a person sees.
VALUE_SCHEMA = pa.schema(
    [
        pa.field("row", pa.int64()),
        pa.field("metric", pa.string(), nullable=False),
        pa.field("entity", pa.string(), nullable=False),
        pa.field("period_start", pa.date32(), nullable=False),
        pa.field("period_end", pa.date32(), nullable=False),
        pa.field("value", pa.float64()),
        pa.field("unit", pa.string()),
        pa.field("text", pa.string()),
        pa.field("breakdown", pa.string()),
        pa.field("value_as_given", pa.float64()),
        pa.field("unit_as_given", pa.string()),
        pa.field("evidence", pa.string()),
        pa.field("notes", pa.string()),
    ]
)

_MAX_ISSUES = 1000
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_PERCENT = {"%", "percent", "pct", "百分比"}


def value_columns() -> dict[str, tuple[str, ...]]:
    """Columns of a metric-value file with their accepted spellings, from
    ``schema/metric_value_columns.csv`` (for :func:`esgledger.ingest.readers.read_table`)."""
    return _columns("metric_value_columns.csv")[0]


def parse_breakdown(text: str | None) -> dict[str, str]:
    """Parse ``"gender=female; region=CN"`` into ``{"gender": "female", "region": "CN"}``.

    Raises
    ------
    ValueError
        Saying which pair is wrong and how to write it.
    """
    out: dict[str, str] = {}
    if text is None or not str(text).strip():
        return out
    for part in str(text).split(";"):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not value or "=" in value:
            raise ValueError(f"{part!r} is not key=value")
        if not _KEY.match(key):
            raise ValueError(f"key {key!r} is not a lower-case word (letters, digits, _)")
        if key in out:
            raise ValueError(f"key {key!r} appears twice")
        out[key] = value
    return out


def format_breakdown(breakdown: Mapping[str, str]) -> str:
    """The canonical text of a breakdown: keys sorted, ``;`` without blanks."""
    return ";".join(f"{k}={breakdown[k]}" for k in sorted(breakdown))


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(_text(value))


def _number(value: Any) -> float:
    """The one number grammar of every import (:mod:`esgledger.ingest.values_guard`)."""
    from esgledger.ingest.values_guard import parse_number

    return parse_number(value)


def _whole(text: str) -> int:
    """A year written by the number grammar (``2025``, ``2025.0``); ValueError otherwise."""
    number = _number(text)
    if not number.is_integer():
        raise ValueError("not a whole number")
    return int(number)


def _whole_or_none(text: str) -> int | None:
    try:
        return _whole(text)
    except ValueError:
        return None


def _bound_problem(value: float, unit: str) -> str | None:
    """Why a value in the catalogue unit is outside the bounds of its dimension
    (``schema/value_bounds.csv``), or None."""
    from esgledger.ingest.values_guard import bound_problem

    return bound_problem(value, "quantity", unit or None)


def _currency_in(unit: str) -> str | None:
    try:
        dims = dict(parse_unit(unit).dimensionality)
    except UnitError:
        return None
    codes = [d[len("[currency_") : -1] for d in dims if d.startswith("[currency_")]
    return codes[0] if len(codes) == 1 else None


def _convert(item: CatalogueItem, value: float, unit: str) -> tuple[float, str] | tuple[None, str]:
    """``(value in the catalogue unit, that unit)``, or ``(None, problem)``."""
    target = item.unit
    if not target:
        labels = {item.unit_label_en, item.unit_label_zh} - {""}
        allowed = labels | (_PERCENT if "%" in labels else set())
        if not unit or unit in allowed:
            return value, ""
        shown = ", ".join(sorted(labels)) or "nothing"
        return None, f"the metric has no unit (it is counted in {shown})"
    if not unit:
        return None, "the unit is empty"
    try:
        parse_unit(unit)
    except UnitError as exc:  # an ambiguous spelling ("ton") says why and what to write
        return None, "unknown unit" if str(exc).startswith("unknown unit") else str(exc)
    if "[currency]" in target:
        code = _currency_in(unit)
        if code is None:
            return None, f"the unit is not an amount of one currency ({target})"
        target = target.replace("[currency]", code)
    try:
        return value * conversion_factor(unit, target), target
    except UnitError:
        return None, f"the unit does not have the dimension of {item.unit_label_en or target}"


def _unit_fix(item: CatalogueItem) -> str:
    if not item.unit:
        label = item.unit_label_en
        return f"leave the unit empty{f' or write {label}' if label else ''} for {item.code}"
    if "[currency]" in item.unit:
        wanted = item.unit.replace("[currency]", "a currency (CNY, HKD, USD, 万元 ...)")
        return f"give {item.code} in {wanted}"
    return f"give {item.code} in {item.label('en')} or a unit of the same dimension"


def _derived_message(item: CatalogueItem) -> str:
    origin = "the targets" if item.derived_from == "targets" else "the inventory"
    return f"{item.code} is computed from {origin}; remove the row"


def validate_values(
    data: pa.Table | Sequence[Mapping[str, Any]],
    catalogue: Catalogue,
    *,
    entities: Collection[str],
    reporting_year: int,
    earlier_years: int = 0,
    file: str = "metric values",
    first_row: int = 2,
) -> pa.Table:
    """Validate metric values and return them normalised (:data:`VALUE_SCHEMA`).

    Parameters
    ----------
    data
        Rows with the canonical columns of ``schema/metric_value_columns.csv`` (an Arrow
        table, e.g. ``read_table(...).table``, or a list of dicts). Cells may be strings.
    catalogue
        The catalogue, with the company's own metrics (:func:`load_catalogue`).
    entities
        Known entity codes.
    reporting_year
        Calendar year of the report [year].
    earlier_years
        How many years before ``reporting_year`` are also accepted (comparatives for
        year-on-year change); 0 accepts the reporting year only.
    file, first_row
        Name shown in issues and the row number of the first data row (2 for CSV/XLSX).

    Raises
    ------
    InputError
        Listing every problem (up to 1,000; all counted); no row is returned then.
    """
    rows = data.to_pylist() if isinstance(data, pa.Table) else [dict(r) for r in data]
    known_entities = set(entities)
    years = range(reporting_year - earlier_years, reporting_year + 1)
    issues: list[Issue] = []
    total = 0
    out: list[dict[str, Any]] = []
    seen: dict[tuple[str, str, dt.date, dt.date, str], int] = {}

    def bad(line: int, column: str, value: Any, problem: str, fix: str) -> None:
        nonlocal total
        total += 1
        if len(issues) < _MAX_ISSUES:
            issues.append(Issue(file, line, column, _text(value) or None, problem, fix))

    for index, row in enumerate(rows):
        line = index + first_row
        count = total
        code = _text(row.get("metric"))
        item = catalogue.get(code)
        if item is None:
            close = close_matches(code, [i.code for i in catalogue], n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            bad(line, "metric", code, "unknown metric", hint + "use a code of the catalogue")
        elif item.is_derived:
            bad(
                line,
                "metric",
                code,
                _derived_message(item),
                f"remove the row: the report takes {code} from the "
                + ("targets" if item.derived_from == "targets" else "inventory run"),
            )
        entity = _text(row.get("entity"))
        if entity not in known_entities:
            close = close_matches(entity, sorted(known_entities), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            bad(
                line,
                "entity",
                entity,
                "unknown entity",
                hint + "use an entity code of entities.csv",
            )
        # period
        start = end = None
        year_text = _text(row.get("year"))
        has_dates = bool(_text(row.get("period_start")) or _text(row.get("period_end")))
        try:
            if has_dates:
                start, end = _date(row.get("period_start")), _date(row.get("period_end"))
            elif year_text:
                year = _whole(year_text)
                start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
        except (TypeError, ValueError):
            column = "period_start" if has_dates else "year"
            bad(line, column, row.get(column), "not a date or year", "write 2025 or 2025-01-31")
        if start is None and not (has_dates or year_text):
            bad(line, "year", None, "no period", "give year, or period_start and period_end")
        if start is not None and end is not None:
            if end < start:
                bad(line, "period_end", end, "the period ends before it starts", "swap the dates")
            elif start.year != end.year or start.year not in years:
                allowed = (
                    str(reporting_year) if earlier_years == 0 else f"{years[0]}-{reporting_year}"
                )
                bad(
                    line,
                    "year" if not has_dates else "period_start",
                    year_text or start,
                    f"the period is outside the reporting year {reporting_year}",
                    f"give values for {allowed} only, one calendar year or part of it per row",
                )
            elif year_text and has_dates and _whole_or_none(year_text) != start.year:
                bad(line, "year", year_text, "year and dates disagree", "keep one of them")
        # breakdown
        breakdown = ""
        try:
            breakdown = format_breakdown(parse_breakdown(row.get("breakdown")))
        except ValueError as exc:
            bad(line, "breakdown", row.get("breakdown"), str(exc), "write key=value; key=value")
        # value / text / unit
        value_cell, text = row.get("value"), _text(row.get("text"))
        given_unit = _text(row.get("unit"))
        number: float | None = None
        if value_cell is not None and _text(value_cell):
            try:
                number = _number(value_cell)
            except (TypeError, ValueError) as exc:
                bad(
                    line,
                    "value",
                    value_cell,
                    str(exc) or "not a number",
                    "write the figure as 1234.5, without thousands separators or units; "
                    "put words in the text column",
                )
        converted: float | None = None
        unit_out = ""
        if item is not None and not item.is_derived:
            has_value = value_cell is not None and bool(_text(value_cell))
            if item.type == "text":
                if has_value:
                    bad(line, "value", value_cell, f"{code} is a text metric", "put it in text")
                elif not text:
                    bad(line, "text", None, "the text is empty", f"write the {code} disclosure")
            elif item.type == "number":
                if text and not has_value:
                    bad(
                        line,
                        "text",
                        text,
                        f"text for a number metric ({code})",
                        "give the figure in value and comments in notes",
                    )
                elif text:
                    bad(line, "text", text, f"{code} is a number metric", "move text to notes")
                elif not has_value:
                    bad(line, "value", None, "the value is empty", f"give the figure of {code}")
            elif not has_value and not text:
                bad(line, "value", None, "neither value nor text", "give one of them")
            elif has_value and text:
                bad(line, "text", text, "both value and text", "one cell per row; use two rows")
            if number is not None and number < 0 and not item.may_be_negative:
                bad(
                    line,
                    "value",
                    value_cell,
                    f"{code} cannot be negative",
                    "give the figure as zero or more; a metric that may fall below zero is "
                    "a company metric with may_be_negative = yes",
                )
                number = None
            if number is not None:
                result, unit_or_problem = _convert(item, number, given_unit)
                if result is None:
                    bad(
                        line,
                        "unit",
                        given_unit,
                        unit_or_problem,
                        _unit_fix(item),
                    )
                else:
                    converted, unit_out = result, unit_or_problem
                    out_of_bounds = _bound_problem(converted, unit_out)
                    if out_of_bounds is not None:
                        bad(
                            line,
                            "value",
                            value_cell,
                            out_of_bounds,
                            "check the figure and its unit (a slip of the decimal point?)",
                        )
        if start is not None and end is not None and total == count:
            key = (code, entity, start, end, breakdown)
            if key in seen:
                bad(
                    line,
                    "metric",
                    code,
                    f"duplicate of row {seen[key]} (same metric, entity, period and breakdown)",
                    "keep one row, or tell them apart with a breakdown",
                )
            else:
                seen[key] = line
        if total == count:
            out.append(
                {
                    "row": line,
                    "metric": code,
                    "entity": entity,
                    "period_start": start,
                    "period_end": end,
                    "value": converted,
                    "unit": unit_out,
                    "text": text or None,
                    "breakdown": breakdown,
                    "value_as_given": number,
                    "unit_as_given": given_unit,
                    "evidence": _text(row.get("evidence")) or None,
                    "notes": _text(row.get("notes")) or None,
                }
            )
    if issues:
        raise InputError(
            f"{file} was rejected: {total} problem(s); nothing was imported", issues, total
        )
    return pa.Table.from_pylist(out, schema=VALUE_SCHEMA)
