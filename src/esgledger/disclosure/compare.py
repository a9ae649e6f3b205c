"""Year-on-year change and intensity metrics.

同比变化与强度指标。

Formulas (the report prints both the absolute and the relative change)::

    absolute change  = current - prior                         [unit of the metric]
    relative change  = (current - prior) / |prior| x 100      [%]
    intensity        = value / denominator                     [unit / unit of denominator]

A relative change is not defined when the prior value is 0 (``percent`` is ``None`` and
``note`` says why); a change is not computed at all when either year is missing (``note``
says which). Values of a metric in different units are never compared (``note`` says so);
convert them first (:func:`esgledger.disclosure.values.validate_values` already converts typed
values into the catalogue unit).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pyarrow as pa

__all__ = ["Change", "compare_years", "intensity", "yoy", "yoy_intensity"]


@dataclass(frozen=True, slots=True)
class Change:
    """The change of one metric (and breakdown) between two years.

    Attributes
    ----------
    absolute
        ``current - prior`` [unit]; ``None`` when a year is missing.
    percent
        ``(current - prior) / |prior| x 100`` [%]; ``None`` when a year is missing or the
        prior value is 0.
    note
        Why a figure is missing ("" when both are there).
    """

    metric: str
    breakdown: str
    entity: str | None
    unit: str
    current: float | None
    prior: float | None
    absolute: float | None
    percent: float | None
    note: str = ""


def yoy(
    current: float | None,
    prior: float | None,
    *,
    metric: str = "",
    breakdown: str = "",
    entity: str | None = None,
    unit: str = "",
) -> Change:
    """Year-on-year change of one value.

    >>> yoy(90.0, 120.0).percent
    -25.0
    >>> yoy(5.0, None).note
    'no value for the prior year'
    """

    def change(absolute: float | None, percent: float | None, note: str = "") -> Change:
        return Change(metric, breakdown, entity, unit, current, prior, absolute, percent, note)

    if current is None or prior is None:
        which = "current" if current is None else "prior"
        if current is None and prior is None:
            which = "current and prior"
        return change(None, None, f"no value for the {which} year")
    absolute = current - prior
    if prior == 0:
        return change(absolute, None, "the prior value is 0: no relative change")
    return change(absolute, absolute / abs(prior) * 100)


def intensity(value: float | None, denominator: float | None) -> float | None:
    """``value / denominator``; ``None`` when either is missing or the denominator is 0.

    >>> intensity(1500.0, 3.0)
    500.0
    """
    if value is None or denominator is None or denominator == 0:
        return None
    return value / denominator


def yoy_intensity(
    current: float | None,
    current_denominator: float | None,
    prior: float | None,
    prior_denominator: float | None,
    *,
    metric: str = "",
    breakdown: str = "",
    entity: str | None = None,
    unit: str = "",
) -> Change:
    """Year-on-year change of an intensity (e.g. t CO2e per million CNY of revenue), each
    year's value divided by that year's own denominator.

    >>> round(yoy_intensity(4000.0, 500.0, 4000.0, 400.0).percent, 6)
    -20.0
    """
    now = intensity(current, current_denominator)
    before = intensity(prior, prior_denominator)
    change = yoy(now, before, metric=metric, breakdown=breakdown, entity=entity, unit=unit)
    missing = [
        year
        for year, value, denominator in (
            ("current", current, current_denominator),
            ("prior", prior, prior_denominator),
        )
        if value is not None and not denominator
    ]
    if missing:
        note = f"no (or a zero) denominator for the {' and '.join(missing)} year"
        return replace(change, note=note)
    return change


def _year_of(row: Mapping[str, Any]) -> int | None:
    start, end = row.get("period_start"), row.get("period_end")
    if (
        isinstance(start, dt.date)
        and isinstance(end, dt.date)
        and start.year == end.year
        and (start.month, start.day, end.month, end.day) == (1, 1, 12, 31)
    ):
        return start.year
    return None


def compare_years(
    values: pa.Table | Sequence[Mapping[str, Any]],
    current_year: int,
    prior_year: int | None = None,
    *,
    metrics: Sequence[str] | None = None,
) -> list[Change]:
    """Year-on-year changes of every (metric, entity, breakdown) with a whole-year value in
    either year.

    Parameters
    ----------
    values
        Rows with ``metric``, ``entity`` (optional), ``period_start``, ``period_end``,
        ``breakdown``, ``value`` and ``unit``: typed values
        (:data:`~esgledger.disclosure.values.VALUE_SCHEMA`), derived values
        (:meth:`~esgledger.disclosure.derived.Derived.table`) of both years, or both
        concatenated. Rows for part of a year and text rows are ignored.
    current_year, prior_year
        The years compared; ``prior_year`` defaults to ``current_year - 1``.
    metrics
        Only these metric codes (default: all).
    """
    prior_year = current_year - 1 if prior_year is None else prior_year
    rows = values.to_pylist() if isinstance(values, pa.Table) else [dict(r) for r in values]
    found: dict[tuple[str, str | None, str], dict[int, tuple[float, str]]] = {}
    for row in rows:
        if row.get("value") is None or (metrics is not None and row["metric"] not in metrics):
            continue
        year = _year_of(row)
        if year not in (current_year, prior_year):
            continue
        key = (str(row["metric"]), row.get("entity"), str(row.get("breakdown") or ""))
        found.setdefault(key, {})[year] = (float(row["value"]), str(row.get("unit") or ""))
    out: list[Change] = []
    for (metric, entity, breakdown), years in sorted(
        found.items(), key=lambda kv: (kv[0][0], str(kv[0][1]), kv[0][2])
    ):
        now, before = years.get(current_year), years.get(prior_year)
        unit = (now or before or (0.0, ""))[1]
        if now is not None and before is not None and now[1] != before[1]:
            out.append(
                Change(
                    metric,
                    breakdown,
                    entity,
                    unit,
                    now[0],
                    before[0],
                    None,
                    None,
                    f"units differ ({before[1]!r} in {prior_year}, {now[1]!r} in {current_year}): "
                    "convert before comparing",
                )
            )
            continue
        out.append(
            yoy(
                None if now is None else now[0],
                None if before is None else before[0],
                metric=metric,
                breakdown=breakdown,
                entity=entity,
                unit=unit,
            )
        )
    return out
