"""Layer 2: forecast-residual intervals on each meter's hourly series.

第二层：各计量表小时序列的预测残差区间检测。

The forecast of an hour is the median of the same hour of the week in the previous
``residual_weeks`` weeks — a seasonal-naive forecast made robust by the median, using only
the past. The residual ``r = y − ŷ`` [kWh] is scaled by its robust z-score
``M = 0.6745 · (r − median(r)) / MAD(r)`` (Iglewicz & Hoaglin, *How to Detect and Handle
Outliers*, ASQC 1993, §3.3: |M| > 3.5 marks an outlier), median and MAD taken over the
meter's residuals at the same hour of the day (UTC), since a load busy by day and idle by night
has a different spread at each. The P99 interval of an hour is
``ŷ + median(r) ± 2.576 · 1.4826 · MAD(r)``, i.e. |M| > 2.576. Reference
``domain-modules.md`` §1.4, anomaly layer 2.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from esgledger.energy.detectors.base import AnomalySettings, Detection, HourlyMatrix, runs
from esgledger.energy.findings import Finding
from esgledger.i18n import Text
from esgledger.reasons import reason

__all__ = ["SeasonalResiduals", "residual_detections", "seasonal_residuals"]

_WEEK_HOURS = 168
#: MAD → standard deviation of a normal distribution (1 / Φ⁻¹(0.75)).
_MAD_TO_SD = 1.4826
_Z_FACTOR = 0.6745


@dataclass(frozen=True)
class SeasonalResiduals:
    """The forecast, residual [kWh] and robust z of every hour of an :class:`HourlyMatrix`
    (NaN where unknown); ``median``/``mad`` [kWh] per hour of the day (UTC) and meter, 24 ×
    meters (``mad`` 0 or NaN: no z at that hour)."""

    matrix: HourlyMatrix
    expected: npt.NDArray[np.float64]
    residual: npt.NDArray[np.float64]
    z: npt.NDArray[np.float64]
    median: npt.NDArray[np.float64]
    mad: npt.NDArray[np.float64]

    def window_sum(self, column: int, start: int, end: int) -> float | None:
        """Σ residual [kWh] of meter ``column`` over hours ``start``..``end - 1``; None when no
        hour of the window has one."""
        part = self.residual[start:end, column]
        known = part[~np.isnan(part)]
        return float(known.sum()) if known.size else None


def _nanmedian(stack: npt.NDArray[np.float64], axis: int) -> npt.NDArray[np.float64]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices give NaN, as meant
        return np.asarray(np.nanmedian(stack, axis=axis), dtype=np.float64)


def _profile(
    values: npt.NDArray[np.float64],
    usable: npt.NDArray[np.bool_],
    offset_h: npt.NDArray[np.int64],
    rows: slice,
    weeks: int,
) -> npt.NDArray[np.float64]:
    """The forecast of the hours ``rows``: per meter, the median of the ``weeks`` most recent
    usable values at the same local wall-clock hour of the week (a week back is 168 h, ± the
    change of the site's UTC offset across a DST switch) among the ``2 · weeks`` previous
    weeks (at least two, or one when ``weeks`` is 1); when fewer are usable, of the most
    recent values whatever they were."""
    start, stop = rows.start, rows.stop
    depth = 2 * weeks
    t = np.arange(start, stop)[:, None]
    lagged = np.full((depth, stop - start, values.shape[1]), np.nan)
    clean = np.zeros_like(lagged, dtype=bool)
    for k in range(1, depth + 1):
        back = t - k * _WEEK_HOURS
        inside = back >= 0
        back = np.clip(back, 0, None)
        source = back + (
            offset_h[t[:, 0]]
            - np.take_along_axis(
                offset_h, np.broadcast_to(back, (stop - start, values.shape[1])), axis=0
            )
        )
        inside = inside & (source >= 0) & (source < t)
        source = np.clip(source, 0, len(values) - 1)
        taken = np.take_along_axis(values, source, axis=0)
        ok = np.take_along_axis(usable, source, axis=0)
        lagged[k - 1] = np.where(inside, taken, np.nan)
        clean[k - 1] = inside & ok
    clean &= ~np.isnan(lagged)
    # keep the `weeks` most recent clean values: rank clean lags by recency
    rank = np.cumsum(clean, axis=0)
    chosen = np.where(clean & (rank <= weeks), lagged, np.nan)
    need = min(2, weeks)
    expected = _nanmedian(chosen, axis=0)
    enough = clean.sum(axis=0) >= need
    raw = _nanmedian(lagged[:weeks], axis=0)
    raw_known = (~np.isnan(lagged[:weeks])).sum(axis=0) >= need
    return np.where(enough, expected, np.where(raw_known, raw, np.nan))


def _robust_z(
    residual: npt.NDArray[np.float64], hour_of_day: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Robust z of every residual against the residuals of the same meter at the same hour of
    the day (a load busy by day and idle by night has a different spread at each), with the
    median and MAD per hour of the day and meter (24 × meters)."""
    median = np.full((24, residual.shape[1]), np.nan)
    mad = np.full((24, residual.shape[1]), np.nan)
    for hour in range(24):
        rows = hour_of_day == hour
        if rows.any():
            median[hour] = _nanmedian(residual[rows], axis=0)
            mad[hour] = _nanmedian(np.abs(residual[rows] - median[hour]), axis=0)
    centre, spread = median[hour_of_day], mad[hour_of_day]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = _Z_FACTOR * (residual - centre) / np.where(spread > 0, spread, np.nan)
    return z, median, mad


def seasonal_residuals(matrix: HourlyMatrix, settings: AnomalySettings) -> SeasonalResiduals:
    """The hour-of-week forecast of every hour and its residual (see
    :class:`~esgledger.energy.detectors.base.AnomalySettings`, layer 2).

    Two passes: the first forecasts from the plain previous weeks and gives each meter's
    residual scale (median, MAD); the second goes week by week, leaving out of the history
    the hours the second pass has already found outside their P99 interval."""
    values = matrix.values
    hours = values.shape[0]
    weeks = settings.residual_weeks
    hour_of_day = np.asarray(matrix.hours.hour, dtype=np.int64)
    everything = np.ones(values.shape, dtype=bool)
    first = values - _profile(values, everything, matrix.offset_h, slice(0, hours), weeks)
    _, median, mad = _robust_z(first, hour_of_day)
    usable = np.ones(values.shape, dtype=bool)
    expected = np.full(values.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(mad > 0, mad, np.nan) / _Z_FACTOR
        for begin in range(0, hours, _WEEK_HOURS):
            rows = slice(begin, min(begin + _WEEK_HOURS, hours))
            expected[rows] = _profile(values, usable, matrix.offset_h, rows, weeks)
            hod = hour_of_day[rows]
            z = (values[rows] - expected[rows] - median[hod]) / scale[hod]
            usable[rows] = ~(np.abs(z) > settings.residual_p99_z)
    residual = values - expected
    z, median, mad = _robust_z(residual, hour_of_day)
    return SeasonalResiduals(matrix, expected, residual, z, median, mad)


def residual_detections(
    res: SeasonalResiduals, settings: AnomalySettings
) -> tuple[list[Detection], list[Finding]]:
    """Runs of hours outside the P99 interval (at least ``residual_min_hours`` of them and one
    beyond ``residual_z``, or one beyond ``residual_extreme_z``) as detections, one per
    meter, run and direction."""
    matrix = res.matrix
    found: list[Detection] = []
    findings: list[Finding] = []
    for j, meter in enumerate(matrix.meters):
        site, role = matrix.sites[j], matrix.roles[j]
        if role not in settings.residual_roles:
            continue
        if not (np.nanmax(res.mad[:, j], initial=0.0) > 0):
            findings.append(
                Finding(
                    code="energy.anomaly.no_residual_scale",
                    text=Text(
                        f"{meter}: layer 2 skipped — its residuals have no spread (MAD 0 or "
                        "too little history), so no robust z-score",
                        f"{meter}：跳过第二层——残差无离散度（MAD 为 0 或历史数据不足），"
                        "无法计算稳健 z 分数",
                    ),
                    data={"site": site, "meter": meter},
                    severity="info",
                )
            )
            continue
        z = res.z[:, j]
        sd = _MAD_TO_SD * float(np.nanmedian(res.mad[:, j]))
        for sign, kind in ((1.0, "residual_high"), (-1.0, "residual_low")):
            signed = np.nan_to_num(sign * z, nan=0.0)
            outside = signed > settings.residual_p99_z
            for start, end in runs(outside, join=settings.residual_join_hours):
                peak = float(signed[start:end].max())
                count = int(outside[start:end].sum())
                sustained = count >= settings.residual_min_hours and peak > settings.residual_z
                if not (sustained or peak > settings.residual_extreme_z):
                    continue
                energy = res.window_sum(j, start, end)
                found.append(
                    Detection(
                        site=site,
                        meter=meter,
                        subsystem=role,
                        layer="residual",
                        kind=kind,
                        start_utc=matrix.hour(start),
                        end_utc=matrix.hour(end),
                        score=peak / settings.residual_z,
                        energy_kwh=energy,
                        reason=reason(
                            f"energy.anomaly.{kind}",
                            meter=meter,
                            hours=count,
                            z=peak,
                            band=settings.residual_p99_z * sd,
                        ),
                        data={
                            "hours_outside": count,
                            "max_robust_z": peak,
                            "p99_half_width_kwh": settings.residual_p99_z * sd,
                            "forecast": f"median of the same hour in the {settings.residual_weeks}"
                            " most recent normal previous weeks",
                        },
                    )
                )
    return found, findings


def _plain(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
