"""Energy baselines and measurement & verification (M&V).

- :class:`BaselineData` holds daily or hourly energy (kWh per row) with the outdoor dry-bulb
  temperature (°C) and optionally the IT energy (kWh per row), and judges its own
  sufficiency when built (rules: ``schema/energy_sufficiency_rules.csv``).
- :func:`fit_baseline` fits one of :data:`METHODS`: ASHRAE Guideline 14 inverse change-point
  models (3P heating, 3P cooling, 4P, 5P on outdoor temperature), CalTRACK 2.0 daily
  (HDD/CDD balance-point grid search, candidate qualification, selection by adjusted R²),
  and a data-centre model of energy on IT energy plus cooling degree-hours above a change
  point. Plain numpy/scipy: the CalTRACK reference implementation (``opendsm``, formerly
  ``eemeter``) pulls in fdasrsf, scikit-fda, nlopt and qpsolvers, too heavy for one
  least-squares grid search.
- :func:`avoided_energy` compares a reporting period with the baseline's prediction and gives
  the fractional savings uncertainty of ASHRAE Guideline 14-2014 Annex B.

Statistics follow :mod:`esgledger.energy.g14` (residual = measured − predicted; n − p).
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import resources
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import scipy  # type: ignore[import-untyped]
from scipy import stats

from esgledger import __version__
from esgledger.energy.findings import Finding
from esgledger.energy.g14 import (
    CONVENTIONS,
    G14Metrics,
    G14Verdict,
    g14_metrics,
    g14_thresholds,
    g14_verdict,
)
from esgledger.energy.periods import Period
from esgledger.errors import InputError, InsufficientDataError
from esgledger.i18n import Text

__all__ = [
    "METHODS",
    "AvoidedEnergy",
    "BaselineData",
    "FittedBaseline",
    "Parameter",
    "SavingsUncertainty",
    "SufficiencyRule",
    "avoided_energy",
    "data_from_tables",
    "fit_baseline",
    "sufficiency_rules",
]

Method = Literal[
    "g14_3p_heating", "g14_3p_cooling", "g14_4p", "g14_5p", "caltrack_daily", "dc_it_cdh"
]
#: Every method :func:`fit_baseline` knows.
METHODS: tuple[str, ...] = (
    "g14_3p_heating",
    "g14_3p_cooling",
    "g14_4p",
    "g14_5p",
    "caltrack_daily",
    "dc_it_cdh",
)
Granularity = Literal["daily", "hourly"]
RULES_FILE = "energy_sufficiency_rules.csv"
#: Empirical factor of the Guideline 14 Annex B savings-uncertainty formula (Reddy & Claridge).
FSU_FACTOR = 1.26
_HOURS = {"daily": 24.0, "hourly": 1.0}
_GRID = 200  # candidate change points per search dimension (refined once around the best)


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class SufficiencyRule:
    """One row of ``schema/energy_sufficiency_rules.csv``."""

    code: str
    kind: str
    applies_to: tuple[str, ...]
    threshold: float
    unit: str
    severity: Literal["info", "warning", "error"]
    source: str
    clause: str
    confidence: str
    criterion: Text


@functools.cache
def sufficiency_rules() -> Mapping[str, SufficiencyRule]:
    """The shipped sufficiency and qualification rules, by code."""
    raw = resources.files("esgledger.schema").joinpath(RULES_FILE).read_text("utf-8")
    return {
        row["code"]: SufficiencyRule(
            code=row["code"],
            kind=row["kind"],
            applies_to=tuple(row["applies_to"].split("|")),
            threshold=float(row["threshold"]),
            unit=row["unit"],
            severity=row["severity"],  # type: ignore[arg-type]
            source=row["source"],
            clause=row["clause"],
            confidence=row["confidence"],
            criterion=Text(row["criterion"], row["criterion_zh"]),
        )
        for row in csv.DictReader(io.StringIO(raw))
    }


def _rule(code: str) -> SufficiencyRule:
    return sufficiency_rules()[code]


def _finding(code: str, en: str, zh: str, data: Mapping[str, Any]) -> Finding:
    rule = _rule(code)
    return Finding(
        code=code,
        text=Text(en, zh),
        data={
            **data,
            "threshold": rule.threshold,
            "unit": rule.unit,
            "clause": rule.clause,
            "source": rule.source,
            "confidence": rule.confidence,
        },
        severity=rule.severity,
    )


# --------------------------------------------------------------------------- data


def _floats(values: Sequence[float | None] | np.ndarray | None, n: int, name: str) -> np.ndarray:
    if values is None:
        return np.full(n, np.nan)
    out = np.array([np.nan if v is None else float(v) for v in values], dtype=float)
    if out.size != n:
        raise InputError(f"{name} has {out.size} values for {n} timestamps")
    return out


@dataclass(frozen=True)
class BaselineData:
    """Energy per row (kWh) with outdoor temperature (°C) and optional IT energy (kWh per
    row), daily or hourly, in the site's local time. Missing values are NaN. ``findings``
    are the sufficiency rules it failed; ``sufficient`` is False when any is an error."""

    granularity: Granularity
    starts: tuple[datetime, ...]
    energy_kwh: tuple[float, ...]
    temperature_c: tuple[float, ...]
    it_kwh: tuple[float, ...] | None
    hourly_temperature_c: tuple[tuple[float, ...], ...] | None
    period_days: int
    findings: tuple[Finding, ...] = ()

    @property
    def sufficient(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def arrays(self) -> dict[str, np.ndarray]:
        """``energy_kwh``, ``temperature_c``, ``it_kwh`` (NaN when absent) as arrays."""
        n = len(self.starts)
        return {
            "energy_kwh": np.asarray(self.energy_kwh, dtype=float),
            "temperature_c": np.asarray(self.temperature_c, dtype=float),
            "it_kwh": np.asarray(self.it_kwh, dtype=float) if self.it_kwh else np.full(n, np.nan),
        }

    def valid(self, *, need_it: bool = False) -> np.ndarray:
        """Rows with energy and temperature (and IT energy when ``need_it``)."""
        a = self.arrays()
        mask = np.isfinite(a["energy_kwh"]) & np.isfinite(a["temperature_c"])
        if need_it:
            mask &= np.isfinite(a["it_kwh"])
        return np.asarray(mask, dtype=bool)

    @classmethod
    def from_readings(
        cls,
        starts: Sequence[datetime],
        energy_kwh: Sequence[float | None] | np.ndarray,
        temperature_c: Sequence[float | None] | np.ndarray,
        *,
        granularity: Granularity = "daily",
        it_kwh: Sequence[float | None] | np.ndarray | None = None,
        energy_coverage: Sequence[float | None] | np.ndarray | None = None,
        temperature_coverage: Sequence[float | None] | np.ndarray | None = None,
        hourly_temperature_c: Sequence[Sequence[float]] | None = None,
        period_days: int | None = None,
    ) -> BaselineData:
        """Build the data and judge it against the sufficiency rules.

        ``starts`` are the local starts of each day or hour. ``energy_coverage`` and
        ``temperature_coverage`` (0..1, e.g. the rollup's ``coverage``) drop a daily row
        read for less than half its intervals (CalTRACK 2.0 §2.2.2.1, §2.2.2.3). Zero
        energy counts as missing (§2.2.1.4). ``hourly_temperature_c`` (24 values per daily
        row) feeds the cooling degree-hours of ``dc_it_cdh``. ``period_days`` is the length
        of the baseline period asked for (defaults to the span of ``starts``).
        """
        if granularity not in _HOURS:
            raise InputError(f"granularity must be daily or hourly, got {granularity!r}")
        n = len(starts)
        energy = _floats(energy_kwh, n, "energy_kwh")
        temp = _floats(temperature_c, n, "temperature_c")
        it = None if it_kwh is None else _floats(it_kwh, n, "it_kwh")
        findings: list[Finding] = []
        if granularity == "daily" and energy_coverage is not None:
            cov = _floats(energy_coverage, n, "energy_coverage")
            low = np.isfinite(energy) & (np.nan_to_num(cov, nan=0.0) < 0.5)
            if low.any():
                findings.append(
                    _finding(
                        "energy.sufficiency.partial_day",
                        f"{int(low.sum())} day(s) read for less than half their intervals count "
                        "as missing.",
                        f"{int(low.sum())}天的读数不足一半区间，视为缺失。",
                        {"days": int(low.sum())},
                    )
                )
                energy[low] = np.nan
        if granularity == "daily" and temperature_coverage is not None:
            tcov = _floats(temperature_coverage, n, "temperature_coverage")
            low = np.isfinite(temp) & (np.nan_to_num(tcov, nan=0.0) < 0.5)
            if low.any():
                findings.append(
                    _finding(
                        "energy.sufficiency.partial_temperature_day",
                        f"{int(low.sum())} day(s) with temperature for less than half their hours "
                        "count as missing.",
                        f"{int(low.sum())}天的温度数据不足一半小时，视为缺失。",
                        {"days": int(low.sum())},
                    )
                )
                temp[low] = np.nan
        zero = energy == 0.0
        if zero.any():
            findings.append(
                _finding(
                    "energy.sufficiency.zero_values",
                    f"{int(zero.sum())} row(s) of exactly 0 kWh count as missing.",
                    f"{int(zero.sum())}行能耗恰为0 kWh，视为缺失。",
                    {"rows": int(zero.sum())},
                )
            )
            energy[zero] = np.nan
        negative = energy < 0.0
        if negative.any():
            findings.append(
                _finding(
                    "energy.sufficiency.negative_values",
                    f"{int(negative.sum())} row(s) of negative consumption: check for generation "
                    "behind the meter.",
                    f"{int(negative.sum())}行能耗为负：请检查表后是否有发电。",
                    {"rows": int(negative.sum()), "min_kwh": float(np.nanmin(energy))},
                )
            )
        finite = energy[np.isfinite(energy)]
        if finite.size >= 4:
            q1, median, q3 = np.percentile(finite, [25, 50, 75])
            limit = median + _rule("energy.sufficiency.extreme_values").threshold * (q3 - q1)
            extreme = int(np.sum(finite > limit)) if q3 > q1 else 0
            if extreme:
                findings.append(
                    _finding(
                        "energy.sufficiency.extreme_values",
                        f"{extreme} row(s) more than three interquartile ranges above the median "
                        f"({limit:,.1f} kWh): review them.",
                        f"{extreme}行高于中位数三个四分位距以上（{limit:,.1f} kWh）：请复核。",
                        {"rows": extreme, "limit_kwh": float(limit)},
                    )
                )
        span = (max(starts) - min(starts)).days + 1 if n else 0
        days = span if period_days is None else period_days
        need = _rule("energy.sufficiency.too_few_days").threshold
        if days < need:
            findings.append(
                _finding(
                    "energy.sufficiency.too_few_days",
                    f"The baseline period has {days} days; at least {need:.0f} are needed.",
                    f"基线期为{days}天；至少需要{need:.0f}天。",
                    {"days": days},
                )
            )
        elif days > _rule("energy.sufficiency.too_many_days").threshold:
            findings.append(
                _finding(
                    "energy.sufficiency.too_many_days",
                    f"The baseline period has {days} days, more than the 365 CalTRACK fits.",
                    f"基线期为{days}天，多于CalTRACK所用的365天。",
                    {"days": days},
                )
            )
        mask = np.isfinite(energy) & np.isfinite(temp)
        expected = days * (24 if granularity == "hourly" else 1)
        coverage = float(mask.sum()) / expected if expected else 0.0
        min_cov = _rule("energy.sufficiency.low_coverage").threshold
        if coverage < min_cov:
            findings.append(
                _finding(
                    "energy.sufficiency.low_coverage",
                    f"Only {coverage:.1%} of the baseline period has both energy and temperature; "
                    f"at least {min_cov:.0%} is needed.",
                    f"基线期仅{coverage:.1%}的时段同时具有能耗和温度；至少需要{min_cov:.0%}。",
                    {"coverage": round(coverage, 6), "rows": int(mask.sum()), "expected": expected},
                )
            )
        if mask.any():
            width = float(np.max(temp[mask]) - np.min(temp[mask]))
            min_width = _rule("energy.sufficiency.narrow_temperature_range").threshold
            if width < min_width:
                findings.append(
                    _finding(
                        "energy.sufficiency.narrow_temperature_range",
                        f"Outdoor temperature spans only {width:.1f} °C in the baseline.",
                        f"基线期室外温度跨度仅{width:.1f} °C。",
                        {"width_c": round(width, 3)},
                    )
                )
        hourly = None
        if hourly_temperature_c is not None:
            if len(hourly_temperature_c) != n:
                raise InputError(f"hourly_temperature_c has {len(hourly_temperature_c)} rows")
            hourly = tuple(tuple(float(v) for v in row) for row in hourly_temperature_c)
        return cls(
            granularity=granularity,
            starts=tuple(starts),
            energy_kwh=tuple(float(v) for v in energy),
            temperature_c=tuple(float(v) for v in temp),
            it_kwh=None if it is None else tuple(float(v) for v in it),
            hourly_temperature_c=hourly,
            period_days=days,
            findings=tuple(findings),
        )


def _by_day(rows: list[dict[str, Any]], column: str) -> dict[date, list[dict[str, Any]]]:
    out: dict[date, list[dict[str, Any]]] = {}
    for row in rows:
        stamp = row[column]
        if stamp is None:
            continue
        out.setdefault(stamp.date() if isinstance(stamp, datetime) else stamp, []).append(row)
    return out


def _daily_sum(table: pa.Table, days: list[date], what: str) -> tuple[np.ndarray, np.ndarray]:
    """Daily kWh summed over the table's meters, and the day's coverage (the lowest of its
    meters; a meter without a row that day counts 0)."""
    rows = table.to_pylist()
    units = {row["unit"] for row in rows}
    if units - {"kWh"}:
        raise InputError(f"{what} must be energy in kWh; found units {sorted(units)}")
    meters = sorted({row["meter"] for row in rows})
    grouped = _by_day(rows, "period_local")
    energy = np.full(len(days), np.nan)
    coverage = np.zeros(len(days))
    for i, day in enumerate(days):
        found = grouped.get(day, [])
        if not found or set(meters) - {row["meter"] for row in found}:
            continue  # a meter without a row that day: coverage 0, energy missing
        coverage[i] = min(float(row["coverage"] or 0.0) for row in found)
        values = [row["quantity"] for row in found]
        if all(v is not None for v in values):
            energy[i] = float(sum(values))
    return energy, coverage


def data_from_tables(
    energy: pa.Table,
    weather: pa.Table,
    *,
    period: Period,
    it: pa.Table | None = None,
) -> BaselineData:
    """Daily :class:`BaselineData` from a daily rollup (``energy``: the rows of the meters
    that make up the load, summed per local day), hourly ``weather`` (``ts_local``,
    ``dry_bulb_c``) and optionally the daily rollup of the IT meters (``it``).

    A day's energy is missing when one of its meters has no row or no quantity; its coverage
    is the lowest of its meters' (the rule of ``energy.sufficiency.partial_day`` then drops a
    day read for less than half). A day's temperature is the mean of its hourly readings; its
    coverage is readings / 24.
    """
    days = [period.start + timedelta(days=i) for i in range(period.days)]
    kwh, coverage = _daily_sum(energy, days, "the baseline meters")
    it_kwh = None
    if it is not None:
        it_kwh, it_cov = _daily_sum(it, days, "the IT meters")
        it_kwh[it_cov < 0.5] = np.nan
    by_day = _by_day(weather.to_pylist(), "ts_local")
    temp = np.full(len(days), np.nan)
    temp_cov = np.zeros(len(days))
    hourly: list[tuple[float, ...]] = []
    for i, day in enumerate(days):
        values = [
            float(row["dry_bulb_c"]) for row in by_day.get(day, []) if row["dry_bulb_c"] is not None
        ]
        hourly.append(tuple(values))
        if values:
            temp[i] = float(np.mean(values))
            temp_cov[i] = min(len(values) / 24.0, 1.0)
    return BaselineData.from_readings(
        [datetime(d.year, d.month, d.day) for d in days],
        kwh,
        temp,
        granularity="daily",
        it_kwh=it_kwh,
        energy_coverage=coverage,
        temperature_coverage=temp_cov,
        hourly_temperature_c=hourly,
        period_days=period.days,
    )


# --------------------------------------------------------------------------- models


@dataclass(frozen=True)
class Parameter:
    """A fitted parameter in its unit."""

    value: float
    unit: str


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ beta
    return beta, float(resid @ resid)


def _p_values(x: np.ndarray, y: np.ndarray, beta: np.ndarray, sse: float) -> np.ndarray:
    n, k = x.shape
    dof = n - k
    if dof <= 0:
        return np.full(k, np.nan)
    sigma2 = sse / dof
    try:
        cov = sigma2 * np.linalg.inv(x.T @ x)
    except np.linalg.LinAlgError:
        return np.full(k, np.nan)
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(se > 0, beta / se, np.inf)
    return np.asarray(2.0 * stats.t.sf(np.abs(t), dof), dtype=float)


def _hourly_matrix(data: BaselineData) -> np.ndarray | None:
    """The daily rows' hourly temperatures as a rows × hours array, NaN-padded."""
    if data.granularity != "daily" or data.hourly_temperature_c is None:
        return None
    width = max((len(r) for r in data.hourly_temperature_c), default=0) or 1
    out = np.full((len(data.hourly_temperature_c), width), np.nan)
    for i, row in enumerate(data.hourly_temperature_c):
        out[i, : len(row)] = row
    return out


def _cdh(
    data: BaselineData, cp: float, hourly: np.ndarray | None = None
) -> tuple[np.ndarray, bool]:
    """Cooling degree-hours (°C·h) above ``cp`` per row; True when approximated from the
    row's mean temperature. A day's hourly list may be short (hours without a reading): its
    mean degree-hour is scaled to 24 hours (CalTRACK 2.0 §3.5.1.3 fills missing values with
    the mean of the others)."""
    temp = np.asarray(data.temperature_c, dtype=float)
    if data.granularity == "hourly":
        return np.maximum(temp - cp, 0.0), False
    matrix = hourly if hourly is not None else _hourly_matrix(data)
    if matrix is not None:
        excess = np.maximum(matrix - cp, 0.0)  # NaN stays NaN
        counts = np.sum(np.isfinite(matrix), axis=1)
        sums = np.nansum(excess, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(counts > 0, 24.0 * sums / np.maximum(counts, 1), np.nan)
        return np.asarray(out, dtype=float), False
    return 24.0 * np.maximum(temp - cp, 0.0), True


def _design(method: str, params: Mapping[str, float], data: BaselineData) -> np.ndarray:
    """Predicted kWh per row of ``data`` (NaN where an input is missing)."""
    a = data.arrays()
    t = a["temperature_c"]
    if method == "g14_3p_cooling":
        return params["base_kwh"] + params["cooling_slope_kwh_per_degc"] * np.maximum(
            t - params["change_point_c"], 0.0
        )
    if method == "g14_3p_heating":
        return params["base_kwh"] + params["heating_slope_kwh_per_degc"] * np.maximum(
            params["change_point_c"] - t, 0.0
        )
    if method == "g14_4p":
        d = t - params["change_point_c"]
        return (
            params["base_kwh"]
            + params["left_slope_kwh_per_degc"] * np.minimum(d, 0.0)
            + params["right_slope_kwh_per_degc"] * np.maximum(d, 0.0)
        )
    if method == "g14_5p":
        return (
            params["base_kwh"]
            + params["heating_slope_kwh_per_degc"]
            * np.maximum(params["heating_change_point_c"] - t, 0.0)
            + params["cooling_slope_kwh_per_degc"]
            * np.maximum(t - params["cooling_change_point_c"], 0.0)
        )
    if method == "caltrack_daily":
        out = np.full(t.shape, params["intercept_kwh_per_day"])
        if "beta_hdd_kwh_per_degc_day" in params:
            out = out + params["beta_hdd_kwh_per_degc_day"] * np.maximum(
                params["heating_balance_point_c"] - t, 0.0
            )
        if "beta_cdd_kwh_per_degc_day" in params:
            out = out + params["beta_cdd_kwh_per_degc_day"] * np.maximum(
                t - params["cooling_balance_point_c"], 0.0
            )
        return np.asarray(out, dtype=float)
    if method == "dc_it_cdh":
        cdh, _ = _cdh(data, params["change_point_c"])
        hours = _HOURS[data.granularity]
        return (
            params["base_kw"] * hours
            + params["it_coefficient"] * a["it_kwh"]
            + params["cooling_kwh_per_degc_hour"] * cdh
        )
    raise InputError(f"unknown baseline method {method!r}; use one of {', '.join(METHODS)}")


def _grid(t: np.ndarray) -> np.ndarray:
    low, high = np.percentile(t, [5, 95])
    return np.linspace(low, high, _GRID) if high > low else np.array([low])


def _refine(best: float, grid: np.ndarray) -> np.ndarray:
    step = float(grid[1] - grid[0]) if grid.size > 1 else 0.0
    return np.linspace(best - step, best + step, 41) if step else grid


def _search1(
    t: np.ndarray, y: np.ndarray, columns: Callable[[float], np.ndarray]
) -> tuple[float, np.ndarray, float]:
    """Best single change point (least squared residuals): ``columns(cp)`` gives the design
    matrix. A grid over the 5th..95th percentile of ``t``, then a finer grid around the
    best point."""

    def best_of(values: np.ndarray) -> tuple[float, np.ndarray, float]:
        fits = [(float(cp), *_ols(columns(float(cp)), y)) for cp in values]
        return min(fits, key=lambda fit: fit[2])

    grid = _grid(t)
    coarse = best_of(grid)
    fine = best_of(_refine(coarse[0], grid))
    return fine if fine[2] <= coarse[2] else coarse


def _fit_change_point(method: str, data: BaselineData, mask: np.ndarray) -> dict[str, float]:
    a = data.arrays()
    t, y = a["temperature_c"][mask], a["energy_kwh"][mask]
    one = np.ones_like(t)
    if method == "g14_3p_cooling":
        cp, beta, _ = _search1(t, y, lambda c: np.column_stack([one, np.maximum(t - c, 0.0)]))
        return {"base_kwh": beta[0], "cooling_slope_kwh_per_degc": beta[1], "change_point_c": cp}
    if method == "g14_3p_heating":
        cp, beta, _ = _search1(t, y, lambda c: np.column_stack([one, np.maximum(c - t, 0.0)]))
        return {"base_kwh": beta[0], "heating_slope_kwh_per_degc": beta[1], "change_point_c": cp}
    if method == "g14_4p":
        cp, beta, _ = _search1(
            t, y, lambda c: np.column_stack([one, np.minimum(t - c, 0.0), np.maximum(t - c, 0.0)])
        )
        return {
            "base_kwh": beta[0],
            "left_slope_kwh_per_degc": beta[1],
            "right_slope_kwh_per_degc": beta[2],
            "change_point_c": cp,
        }
    # g14_5p: two change points, heating ≤ cooling
    grid = _grid(t)[::4]
    best: tuple[float, float, np.ndarray, float] | None = None

    def fit(h: float, c: float) -> None:
        nonlocal best
        x = np.column_stack([one, np.maximum(h - t, 0.0), np.maximum(t - c, 0.0)])
        beta, sse = _ols(x, y)
        if best is None or sse < best[3]:
            best = (h, c, beta, sse)

    for i, h in enumerate(grid):
        for c in grid[i:]:
            fit(float(h), float(c))
    step = float(grid[1] - grid[0]) if grid.size > 1 else 0.0
    if best is not None and step:
        h0, c0 = best[0], best[1]
        for h in np.linspace(h0 - step, h0 + step, 17):
            for c in np.linspace(c0 - step, c0 + step, 17):
                if h <= c:
                    fit(float(h), float(c))
    if best is None:  # pragma: no cover - the grid always has one point
        raise InputError("no change point candidates")
    h, c, beta, _ = best
    return {
        "base_kwh": beta[0],
        "heating_slope_kwh_per_degc": beta[1],
        "cooling_slope_kwh_per_degc": beta[2],
        "heating_change_point_c": h,
        "cooling_change_point_c": c,
    }


def _f_to_c(f: float) -> float:
    return (f - 32.0) / 1.8


def _fit_caltrack(data: BaselineData, mask: np.ndarray) -> tuple[dict[str, float], dict[str, Any]]:
    """CalTRACK 2.0 daily: §3.2 balance points, §3.4 candidates, qualification, selection."""
    a = data.arrays()
    t, y = a["temperature_c"][mask], a["energy_kwh"][mask]
    n = y.size
    one = np.ones(n)
    lo = _rule("energy.caltrack.balance_point_min").threshold
    hi = _rule("energy.caltrack.balance_point_max").threshold
    step = _rule("energy.caltrack.balance_point_step").threshold
    min_days = _rule("energy.caltrack.min_nonzero_degree_days").threshold
    min_total = _rule("energy.caltrack.min_total_degree_days").threshold / 1.8  # °F·d → °C·d
    max_p = _rule("energy.caltrack.max_p_value").threshold
    points = [_f_to_c(f) for f in np.arange(lo, hi + step / 2, step)]
    ss_tot = float(np.sum((y - y.mean()) ** 2))

    def degree_days(kind: str, bp: float) -> np.ndarray | None:
        dd = np.maximum(bp - t, 0.0) if kind == "hdd" else np.maximum(t - bp, 0.0)
        if np.count_nonzero(dd) < min_days or float(dd.sum()) < min_total:
            return None
        return np.asarray(dd, dtype=float)

    hdd = {bp: degree_days("hdd", bp) for bp in points}
    cdd = {bp: degree_days("cdd", bp) for bp in points}
    mean = float(y.mean())
    best: dict[str, Any] = {
        "type": "intercept_only",
        "adj_r2": 0.0,
        "params": {"intercept_kwh_per_day": mean},
        "p": 1,
    }
    counts = {"intercept_only": 1 if mean > 0 else 0, "hdd_only": 0, "cdd_only": 0, "hdd_cdd": 0}
    tried = {"intercept_only": 1, "hdd_only": 0, "cdd_only": 0, "hdd_cdd": 0}
    if mean <= 0:
        best = {"type": None, "adj_r2": -math.inf, "params": {}, "p": 1}

    def consider(
        kind: str, columns: list[np.ndarray], names: list[str], extra: dict[str, float]
    ) -> None:
        nonlocal best
        tried[kind] += 1
        x = np.column_stack([one, *columns])
        beta, sse = _ols(x, y)
        if not np.all(beta > 0):  # §3.4.3.2: μ > 0, β_H > 0, β_C > 0
            return
        pv = _p_values(x, y, beta, sse)
        if not np.all(pv[1:] < max_p):
            return
        c = len(columns)
        if n - c - 1 <= 0 or ss_tot <= 0:
            return
        adj = 1.0 - (sse / (n - c - 1)) / (ss_tot / (n - 1))  # §3.4.3.3
        counts[kind] += 1
        if adj > best["adj_r2"]:
            params = {"intercept_kwh_per_day": float(beta[0])}
            params.update({name: float(b) for name, b in zip(names, beta[1:], strict=True)})
            params.update(extra)
            best = {"type": kind, "adj_r2": adj, "params": params, "p": 1 + 2 * c}

    for bp, h in hdd.items():
        if h is not None:
            consider(
                "hdd_only", [h], ["beta_hdd_kwh_per_degc_day"], {"heating_balance_point_c": bp}
            )
    for bp, cd in cdd.items():
        if cd is not None:
            consider(
                "cdd_only", [cd], ["beta_cdd_kwh_per_degc_day"], {"cooling_balance_point_c": bp}
            )
    for hbp, h in hdd.items():
        if h is None:
            continue
        for cbp, cd in cdd.items():
            if cd is None or cbp < hbp:  # §3.2.2.1
                continue
            consider(
                "hdd_cdd",
                [h, cd],
                ["beta_hdd_kwh_per_degc_day", "beta_cdd_kwh_per_degc_day"],
                {"heating_balance_point_c": hbp, "cooling_balance_point_c": cbp},
            )
    if best["type"] is None:
        raise InsufficientDataError(
            "no CalTRACK candidate model qualifies (mean usage is not positive)", ()
        )
    selection = {
        "model_type": best["type"],
        "adj_r_squared": best["adj_r2"],
        "p": best["p"],
        "candidates_tried": tried,
        "candidates_qualified": counts,
    }
    return best["params"], selection


def _fit_dc(data: BaselineData, mask: np.ndarray) -> tuple[dict[str, float], bool]:
    a = data.arrays()
    y, it = a["energy_kwh"][mask], a["it_kwh"][mask]
    hours = _HOURS[data.granularity]
    one = np.full(y.size, hours)
    t = a["temperature_c"][mask]
    matrix = _hourly_matrix(data)
    approx = data.granularity == "daily" and matrix is None

    def columns(cp: float) -> np.ndarray:
        cdh, _ = _cdh(data, cp, matrix)
        return np.column_stack([one, it, cdh[mask]])

    cp, beta, _ = _search1(t, y, columns)
    return {
        "base_kw": float(beta[0]),
        "it_coefficient": float(beta[1]),
        "cooling_kwh_per_degc_hour": float(beta[2]),
        "change_point_c": cp,
    }, approx


_UNITS = {
    "base_kwh": "kWh per {row}",
    "cooling_slope_kwh_per_degc": "kWh per {row} per °C",
    "heating_slope_kwh_per_degc": "kWh per {row} per °C",
    "left_slope_kwh_per_degc": "kWh per {row} per °C",
    "right_slope_kwh_per_degc": "kWh per {row} per °C",
    "change_point_c": "°C",
    "heating_change_point_c": "°C",
    "cooling_change_point_c": "°C",
    "intercept_kwh_per_day": "kWh/day",
    "beta_hdd_kwh_per_degc_day": "kWh per °C·day",
    "beta_cdd_kwh_per_degc_day": "kWh per °C·day",
    "heating_balance_point_c": "°C",
    "cooling_balance_point_c": "°C",
    "base_kw": "kW",
    "it_coefficient": "kWh per kWh of IT energy",
    "cooling_kwh_per_degc_hour": "kWh per °C·h",
}
#: Slopes a physical model never has negative (the 4P slopes may take either sign).
_NON_NEGATIVE = frozenset(
    {
        "heating_slope_kwh_per_degc",
        "cooling_slope_kwh_per_degc",
        "it_coefficient",
        "cooling_kwh_per_degc_hour",
    }
)
_P = {"g14_3p_heating": 3, "g14_3p_cooling": 3, "g14_4p": 4, "g14_5p": 5, "dc_it_cdh": 4}


def _versions() -> dict[str, str]:
    return {"esgledger": __version__, "numpy": np.__version__, "scipy": scipy.__version__}


@dataclass(frozen=True)
class FittedBaseline:
    """A fitted baseline: ``method``, ``parameters`` (value and unit), its Guideline 14
    ``metrics`` and ``verdict``, the data ``findings``, the ``settings`` and the
    ``versions`` that produced it. Round-trips through :meth:`to_json` / :meth:`from_json`.
    """

    method: str
    granularity: Granularity
    parameters: Mapping[str, Parameter]
    metrics: G14Metrics
    verdict: G14Verdict
    findings: tuple[Finding, ...]
    settings: Mapping[str, Any]
    versions: Mapping[str, str]
    baseline_start: str
    baseline_end: str
    temperature_range_c: tuple[float, float]
    residual_lag1_autocorrelation: float | None
    sufficient: bool = True
    extra: Mapping[str, Any] = field(default_factory=dict)

    def values(self) -> dict[str, float]:
        return {name: p.value for name, p in self.parameters.items()}

    def predict(self, data: BaselineData) -> np.ndarray:
        """Predicted kWh per row of ``data`` (NaN where an input is missing)."""
        if data.granularity != self.granularity:
            raise InputError(f"the baseline is {self.granularity}; the data is {data.granularity}")
        if self.method == "dc_it_cdh" and data.it_kwh is None:
            raise InputError("the dc_it_cdh baseline needs IT energy in the data")
        return _design(self.method, self.values(), data)

    def to_json(self) -> str:
        """JSON text (never a pickle) holding everything :meth:`from_json` needs."""
        return json.dumps(
            {
                "kind": "esgledger.energy.baseline",
                "method": self.method,
                "granularity": self.granularity,
                "parameters": {
                    k: {"value": p.value, "unit": p.unit} for k, p in self.parameters.items()
                },
                "metrics": self.metrics.to_json(),
                "verdict": self.verdict.to_json(),
                "findings": [f.to_json() for f in self.findings],
                "settings": dict(self.settings),
                "versions": dict(self.versions),
                "baseline_start": self.baseline_start,
                "baseline_end": self.baseline_end,
                "temperature_range_c": list(self.temperature_range_c),
                "residual_lag1_autocorrelation": self.residual_lag1_autocorrelation,
                "sufficient": self.sufficient,
                "extra": dict(self.extra),
                "conventions": dict(CONVENTIONS),
            },
            ensure_ascii=False,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> FittedBaseline:
        """The baseline :meth:`to_json` wrote."""
        raw = json.loads(text)
        if raw.get("kind") != "esgledger.energy.baseline":
            raise InputError("not an esgledger energy baseline (kind is missing or wrong)")
        low, high = raw["temperature_range_c"]
        rho = raw["residual_lag1_autocorrelation"]
        return cls(
            method=raw["method"],
            granularity=raw["granularity"],
            parameters={
                k: Parameter(float(v["value"]), str(v["unit"]))
                for k, v in raw["parameters"].items()
            },
            metrics=G14Metrics.from_json(raw["metrics"]),
            verdict=G14Verdict.from_json(raw["verdict"]),
            findings=tuple(Finding.from_json(f) for f in raw["findings"]),
            settings=raw["settings"],
            versions=raw["versions"],
            baseline_start=raw["baseline_start"],
            baseline_end=raw["baseline_end"],
            temperature_range_c=(float(low), float(high)),
            residual_lag1_autocorrelation=None if rho is None else float(rho),
            sufficient=bool(raw["sufficient"]),
            extra=raw.get("extra", {}),
        )


def _lag1(residual: np.ndarray) -> float | None:
    if residual.size < 3:
        return None
    r = residual - residual.mean()
    denom = float(r @ r)
    if denom == 0.0:
        return None
    return float(r[1:] @ r[:-1]) / denom


def fit_baseline(
    data: BaselineData,
    method: str = "caltrack_daily",
    *,
    allow_insufficient: bool = False,
    post_retrofit_months: int | None = None,
) -> FittedBaseline:
    """Fit ``method`` (one of :data:`METHODS`) to ``data``.

    Raises :class:`~esgledger.errors.InsufficientDataError` carrying the failed sufficiency
    rules, unless ``allow_insufficient``; the findings then travel with the result.
    ``post_retrofit_months`` picks the Guideline 14 CV(RMSE) tier of the verdict.
    """
    if method not in METHODS:
        raise InputError(f"unknown baseline method {method!r}; use one of {', '.join(METHODS)}")
    if method == "caltrack_daily" and data.granularity != "daily":
        raise InputError("caltrack_daily needs daily data")
    need_it = method == "dc_it_cdh"
    if need_it and data.it_kwh is None:
        raise InputError("dc_it_cdh needs IT energy (it_kwh) in the baseline data")
    findings = list(data.findings)
    mask = data.valid(need_it=need_it)
    if need_it and data.hourly_temperature_c is not None:
        mask &= np.array([len(hours) > 0 for hours in data.hourly_temperature_c], dtype=bool)
    p_expected = 5 if method == "caltrack_daily" else _P[method]
    if int(mask.sum()) <= p_expected:
        findings.append(
            _finding(
                "energy.sufficiency.too_few_points",
                f"{int(mask.sum())} usable rows for a model of up to {p_expected} parameters.",
                f"可用数据{int(mask.sum())}行，模型参数最多{p_expected}个。",
                {"rows": int(mask.sum()), "p": p_expected},
            )
        )
    errors_found = [f for f in findings if f.severity == "error"]
    if errors_found and not allow_insufficient:
        raise InsufficientDataError(
            "baseline data insufficient: " + "; ".join(f.text.en for f in errors_found),
            tuple(findings),
        )
    if int(mask.sum()) <= p_expected:
        raise InsufficientDataError(
            f"cannot fit {method} to {int(mask.sum())} rows", tuple(findings)
        )
    settings: dict[str, Any] = {"grid_points": _GRID, "temperature_grid": "5th..95th percentile"}
    extra: dict[str, Any] = {}
    if method == "caltrack_daily":
        values, selection = _fit_caltrack(data, mask)
        p = int(selection["p"])
        extra["selection"] = selection
        settings = {
            code: _rule(code).threshold
            for code in sufficiency_rules()
            if code.startswith("energy.caltrack.")
        }
    elif method == "dc_it_cdh":
        values, approx = _fit_dc(data, mask)
        p = _P[method]
        if approx:
            findings.append(
                Finding(
                    code="energy.baseline.cdh_from_daily_mean",
                    text=Text(
                        "Cooling degree-hours approximated from daily mean temperatures (24 × "
                        "max(T̄ − change point, 0)); hourly temperatures give a better fit.",
                        "冷却度时由日均温度近似（24 × max(T̄ − 拐点, 0)）；使用逐时温度拟合更好。",
                    ),
                    data={"rows": int(mask.sum())},
                    severity="info",
                )
            )
    else:
        values = _fit_change_point(method, data, mask)
        p = _P[method]
    negative = sorted(k for k in _NON_NEGATIVE if k in values and values[k] < 0)
    if negative:
        findings.append(
            Finding(
                code="energy.baseline.negative_slope",
                text=Text(
                    f"Fitted {', '.join(negative)} negative: the model contradicts the physics "
                    "it stands for (heating or cooling energy falling with demand).",
                    f"拟合得到的{', '.join(negative)}为负：与模型所代表的物理规律相悖"
                    "（采暖或制冷能耗随需求增加而下降）。",
                ),
                data={k: float(values[k]) for k in negative},
                severity="warning",
            )
        )
    a = data.arrays()
    predicted = _design(method, values, data)
    row = "day" if data.granularity == "daily" else "hour"
    parameters = {k: Parameter(float(v), _UNITS[k].format(row=row)) for k, v in values.items()}
    metrics = g14_metrics(
        a["energy_kwh"][mask],
        predicted[mask],
        p,
        granularity=data.granularity,
        unit=f"kWh/{row}",
    )
    verdict = g14_verdict(metrics, post_retrofit_months=post_retrofit_months)
    temp = a["temperature_c"][mask]
    starts = [s for s, keep in zip(data.starts, mask, strict=True) if keep]
    return FittedBaseline(
        method=method,
        granularity=data.granularity,
        parameters=parameters,
        metrics=metrics,
        verdict=verdict,
        findings=tuple(findings),
        settings=settings,
        versions=_versions(),
        baseline_start=min(starts).isoformat(),
        baseline_end=max(starts).isoformat(),
        temperature_range_c=(float(temp.min()), float(temp.max())),
        residual_lag1_autocorrelation=_lag1(a["energy_kwh"][mask] - predicted[mask]),
        sufficient=not errors_found,
        extra=extra,
    )


# --------------------------------------------------------------------------- savings


@dataclass(frozen=True)
class SavingsUncertainty:
    """Uncertainty of the avoided energy at one confidence level (ASHRAE Guideline 14-2014
    Annex B): ``plus_minus_kwh`` absolute, ``fractional`` of the avoided energy."""

    confidence_pct: float
    t_statistic: float
    plus_minus_kwh: float
    fractional: float | None


@dataclass(frozen=True)
class AvoidedEnergy:
    """Avoided energy of a reporting period against a baseline (CalTRACK 2.0 §1.4.5, §3.6.1):
    ``avoided_kwh`` = adjusted baseline − reporting consumption, over the ``m`` rows that have
    both (a row missing energy or an input is masked, §3.5)."""

    method: str
    adjusted_baseline_kwh: float
    reporting_kwh: float
    avoided_kwh: float
    savings_fraction: float | None
    m: int
    n: int
    n_effective: float
    autocorrelation: float | None
    uncertainty: tuple[SavingsUncertainty, ...]
    findings: tuple[Finding, ...]
    formula: str

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "adjusted_baseline_kwh": self.adjusted_baseline_kwh,
            "reporting_kwh": self.reporting_kwh,
            "avoided_kwh": self.avoided_kwh,
            "savings_fraction": self.savings_fraction,
            "m": self.m,
            "n": self.n,
            "n_effective": self.n_effective,
            "autocorrelation": self.autocorrelation,
            "uncertainty": [
                {
                    "confidence_pct": u.confidence_pct,
                    "t_statistic": u.t_statistic,
                    "plus_minus_kwh": u.plus_minus_kwh,
                    "fractional": u.fractional,
                }
                for u in self.uncertainty
            ],
            "findings": [f.to_json() for f in self.findings],
            "formula": self.formula,
            "conventions": dict(CONVENTIONS),
        }


#: Sufficiency rules about the baseline period's length and spread, not about reporting data.
_BASELINE_ONLY = frozenset(
    {
        "energy.sufficiency.too_few_days",
        "energy.sufficiency.too_many_days",
        "energy.sufficiency.narrow_temperature_range",
    }
)

FSU_FORMULA = (
    "ASHRAE Guideline 14-2014 Annex B: ΔE = t · 1.26 · CV · E_baseline · "
    "sqrt((n/n′)·(1 + 2/n′)·(1/m)); fractional = ΔE / E_avoided; "
    "n′ = n·(1 − ρ)/(1 + ρ) with ρ the lag-1 autocorrelation of baseline residuals "
    "(n′ = n when ρ ≤ 0); t two-sided with n − p degrees of freedom"
)


def avoided_energy(
    baseline: FittedBaseline,
    reporting: BaselineData,
    *,
    confidence_pct: Sequence[float] = (68.0, 90.0),
) -> AvoidedEnergy:
    """Avoided energy of ``reporting`` against ``baseline`` and its uncertainty.

    Autocorrelation: the baseline residuals' lag-1 autocorrelation ρ reduces the number of
    independent points to n′ = n(1 − ρ)/(1 + ρ) (Guideline 14 Annex B); a negative ρ is not
    used to inflate n. The 1.26 factor is the Annex's empirical correction, derived for
    monthly data and applied here to any granularity (a stated simplification).
    """
    findings: list[Finding] = []
    predicted = baseline.predict(reporting)
    # The reporting data's own findings (zero, negative, extreme, partial days, coverage)
    # travel with the result as warnings; the baseline-length rules do not apply to it.
    findings += [
        dataclasses.replace(f, severity="warning")
        for f in reporting.findings
        if f.code not in _BASELINE_ONLY
    ]
    measured = np.asarray(reporting.energy_kwh, dtype=float)
    mask = np.isfinite(predicted) & np.isfinite(measured)
    m = int(mask.sum())
    if m == 0:
        raise InsufficientDataError("no reporting rows with both energy and inputs", ())
    e_base = float(predicted[mask].sum())
    e_rep = float(measured[mask].sum())
    avoided = e_base - e_rep
    fraction = avoided / e_base if e_base else None
    n = baseline.metrics.n
    p = baseline.metrics.p
    rho = baseline.residual_lag1_autocorrelation
    n_eff = n * (1.0 - rho) / (1.0 + rho) if rho is not None and rho > 0 else float(n)
    cv = baseline.metrics.cv_rmse_pct
    temp = np.asarray(reporting.temperature_c, dtype=float)[mask]
    low, high = baseline.temperature_range_c
    outside = int(np.sum((temp < low) | (temp > high)))
    if outside:
        findings.append(
            Finding(
                code="energy.baseline.extrapolated",
                text=Text(
                    f"{outside} reporting row(s) lie outside the baseline's temperature range "
                    f"({low:.1f} to {high:.1f} °C): the baseline is extrapolated there.",
                    f"报告期有{outside}行超出基线温度范围（{low:.1f}至{high:.1f} °C），"
                    "基线在此为外推。",
                ),
                data={"rows": outside, "low_c": low, "high_c": high},
                severity="warning",
            )
        )
    uncertainty: list[SavingsUncertainty] = []
    if cv is None or n - p <= 0 or n_eff <= 0:
        findings.append(
            Finding(
                code="energy.baseline.no_uncertainty",
                text=Text(
                    "The savings uncertainty cannot be computed: the baseline has no CV(RMSE).",
                    "无法计算节能量不确定度：基线没有CV(RMSE)。",
                ),
                data={"n": n, "p": p},
                severity="warning",
            )
        )
    else:
        root = math.sqrt((n / n_eff) * (1.0 + 2.0 / n_eff) * (1.0 / m))
        for level in confidence_pct:
            t = float(stats.t.ppf(0.5 + level / 200.0, n - p))
            plus_minus = t * FSU_FACTOR * (cv / 100.0) * e_base * root
            fractional = plus_minus / abs(avoided) if avoided else None
            uncertainty.append(SavingsUncertainty(level, t, plus_minus, fractional))
        limits = [r for r in g14_thresholds() if r.fsu_max_pct is not None]
        if limits:
            limit = limits[0]
            max_pct = limit.fsu_max_pct or 0.0
            at = [u for u in uncertainty if u.confidence_pct == limit.fsu_confidence_pct]
            if at and (at[0].fractional is None or at[0].fractional * 100 > max_pct):
                findings.append(
                    Finding(
                        code="energy.baseline.savings_uncertain",
                        text=Text(
                            f"The savings uncertainty exceeds {limit.fsu_max_pct:.0f} % of the "
                            f"savings at {limit.fsu_confidence_pct:.0f} % confidence "
                            "(Guideline 14).",
                            f"在{limit.fsu_confidence_pct:.0f}%置信度下，节能量不确定度超过节能量的"
                            f"{limit.fsu_max_pct:.0f}%（ASHRAE Guideline 14）。",
                        ),
                        data={
                            "fractional": at[0].fractional,
                            "limit_pct": limit.fsu_max_pct,
                            "confidence": limit.confidence,
                        },
                        severity="warning",
                    )
                )
    return AvoidedEnergy(
        method=baseline.method,
        adjusted_baseline_kwh=e_base,
        reporting_kwh=e_rep,
        avoided_kwh=avoided,
        savings_fraction=fraction,
        m=m,
        n=n,
        n_effective=n_eff,
        autocorrelation=rho,
        uncertainty=tuple(uncertainty),
        findings=tuple(findings),
        formula=FSU_FORMULA,
    )
