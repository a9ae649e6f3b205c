"""Layer 4: CUSUM drift on baseline residuals (ISO 50006 EnB residuals; Page 1954).

第四层：基于基线残差的 CUSUM 漂移检测。

Two baselines per site, fitted on hourly data with Huber-weighted least squares:

* cooling [kWh/h] = a + b · Q + Σ_k c_k · Q · max(T_wb − τ_k, 0), Q the heat load (UPS input
  — IT energy plus power-chain losses — where metered, else IT energy), with change points
  τ_k every ``cusum_knot_step`` K from the 2 % to the 98 % quantile of the site's hourly wet
  bulb [°C] (dense enough to follow the steep step from free to mechanical cooling): cooling
  follows
    the IT heat, and the plant's energy per unit heat rises once free cooling ends (the
  change-point form of ASHRAE Guideline 14's inverse models, with several segments);
  without weather, a + b · E_IT (with a finding);
* UPS losses (input − output) [kWh/h] = a + b · E_out + c · E_out² (the loss curve of a
  UPS: no-load, proportional and I²R terms).

The residuals of each complete local day (≥ 23 known hours) are summed [kWh/day] and centred
on their median; the upper tabular CUSUM ``S_t = max(0, S_{t−1} + min(r_t/σ̂, clip) − k)``
alerts when ``S > h`` (Montgomery, *Introduction to Statistical Quality Control*, 7th ed.,
§9.1.2); σ̂ and the refits: :class:`~esgledger.energy.detectors.base.AnomalySettings`. An alert
spans the drift as the CUSUM estimates it — from the day after ``S`` was last 0 to the day
``S`` peaks (after the peak the excess has stopped growing the sum) — and records the day
``S`` crossed ``h`` as ``detected_utc``; its impact is Σ r over that window [kWh].
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd

from esgledger.energy.detectors.base import (
    AnomalySettings,
    Detection,
    check_hourly,
    runs,
    top_meter_rows,
)
from esgledger.energy.findings import Finding
from esgledger.energy.roles import it_role as best_it_role
from esgledger.i18n import Text
from esgledger.reasons import reason

__all__ = ["cusum", "cusum_detections", "huber_fit", "site_hours"]

_HUBER_C = 1.345
_MAD_TO_SD = 1.4826
#: A refit leaves out at most this share of the days (beyond it the baseline would be fitted
#: on too narrow a range of weather to mean anything).
_MAX_EXCLUDED = 0.5
_MIN_DAY_HOURS = 23
_ZH = {"cooling": "制冷能耗", "ups": "UPS 损耗"}


def huber_fit(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], *, iterations: int = 20
) -> npt.NDArray[np.float64]:
    """Coefficients of ``y ≈ x @ β`` by iteratively reweighted least squares with Huber
    weights (tuning constant 1.345 σ, scale from the MAD of the residuals), on columns scaled
    to unit maximum (the normal equations stay well conditioned), stopping when β settles."""
    scale = np.max(np.abs(x), axis=0)
    scale[scale == 0] = 1.0
    xs = x / scale
    w = np.ones(len(y))
    beta = np.zeros(x.shape[1])
    for _ in range(iterations + 1):
        xw = xs * w[:, None]
        new = np.linalg.lstsq(xw.T @ xs, xw.T @ y, rcond=None)[0]
        settled = np.allclose(new, beta, rtol=1e-6, atol=1e-9)
        beta = new
        if settled:
            break
        r = y - xs @ beta
        spread = _MAD_TO_SD * float(np.median(np.abs(r - np.median(r))))
        if not spread > 0:
            break
        u = np.abs(r) / (_HUBER_C * spread)
        w = np.where(u <= 1, 1.0, 1.0 / np.maximum(u, 1e-12))
    return np.asarray(beta / scale, dtype=np.float64)


def cusum(z: npt.NDArray[np.float64], k: float) -> npt.NDArray[np.float64]:
    """The upper tabular CUSUM of standardised values ``z`` with reference value ``k``."""
    s = np.zeros(len(z))
    level = 0.0
    for i, value in enumerate(z):
        level = max(0.0, level + float(value) - k)
        s[i] = level
    return s


def _role_hours(frame: pd.DataFrame, roles: tuple[str, ...]) -> pd.Series:
    part = frame[frame["role"].isin(roles)]
    if part.empty:
        return pd.Series(np.nan, index=pd.Index(frame["ts_utc"].unique()))
    grouped = part.groupby("ts_utc")["energy_kwh"]
    total = grouped.sum(min_count=1)
    total[grouped.count() < grouped.size()] = np.nan
    return total


def site_hours(hourly: pd.DataFrame, weather: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    """Per site, one row per hour: ``ts_utc, ts_local, day, it_kwh`` (the best IT category
    metered), ``cooling_kwh, ups_in_kwh, ups_out_kwh`` (NaN when a meter of the role is
    unknown that hour or none is metered) and ``wet_bulb_c`` (NaN without weather); each
    role Σ over its topmost meters (:func:`~esgledger.energy.detectors.base.top_meter_rows`)."""
    every = check_hourly(hourly)
    tops = top_meter_rows(every)
    out: dict[str, pd.DataFrame] = {}
    for site, hours in every.groupby("site", sort=True):
        part = tops[tops["site"] == site]
        times = hours.drop_duplicates("ts_utc").set_index("ts_utc")["ts_local"].sort_index()
        table = pd.DataFrame({"ts_local": times})
        present = set(part["role"])
        it_role = best_it_role(present)
        roles = {
            "it_kwh": (it_role,) if it_role else (),
            "cooling_kwh": ("cooling",),
            "ups_in_kwh": ("ups_input",),
            "ups_out_kwh": ("ups_output",),
        }
        for column, chosen in roles.items():
            table[column] = _role_hours(part, chosen).reindex(table.index) if chosen else np.nan
        table["day"] = table["ts_local"].dt.normalize()
        table["wet_bulb_c"] = np.nan
        if weather is not None and not weather.empty:
            w = weather[weather["site"] == site]
            wet = w.assign(ts_local=pd.to_datetime(w["ts_local"])).groupby("ts_local")
            table["wet_bulb_c"] = table["ts_local"].map(wet["wet_bulb_c"].mean())
        out[str(site)] = table.rename_axis("ts_utc").reset_index()
    return out


@dataclass(frozen=True)
class _Model:
    name: str
    subsystem: str
    kind: str
    needed: tuple[str, ...]


_MODELS = (
    _Model("cooling", "cooling", "cooling_drift", ("cooling_kwh", "it_kwh")),
    _Model("ups", "ups", "ups_loss_drift", ("ups_in_kwh", "ups_out_kwh")),
)


def _design(
    rows: pd.DataFrame, model: _Model, knot_step: float, weather: bool
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], list[str]]:
    ones = np.ones(len(rows))
    if model.name == "cooling":
        # the heat to remove: what enters the UPS (IT plus power-chain losses) where metered
        heat_column = "ups_in_kwh" if rows["ups_in_kwh"].notna().all() else "it_kwh"
        it = rows[heat_column].to_numpy(dtype="float64")
        columns, names = [ones, it], ["1", heat_column]
        if weather:
            wet = rows["wet_bulb_c"].to_numpy(dtype="float64")
            low, high = np.quantile(wet, [0.02, 0.98])
            for tau in np.arange(low, high, knot_step):
                columns.append(it * np.maximum(wet - tau, 0.0))
                names.append(f"{heat_column}·max(wet_bulb_c − {tau:.2f}, 0)")
        y = rows["cooling_kwh"].to_numpy(dtype="float64")
        return np.column_stack(columns), y, names
    out = rows["ups_out_kwh"].to_numpy(dtype="float64")
    y = rows["ups_in_kwh"].to_numpy(dtype="float64") - out
    return np.column_stack([ones, out, out**2]), y, ["1", "ups_out_kwh", "ups_out_kwh²"]


@dataclass(frozen=True)
class _Fit:
    beta: npt.NDArray[np.float64]
    names: list[str]
    days: pd.DatetimeIndex
    residual: npt.NDArray[np.float64]  # per complete day [kWh]
    sigma: float
    s: npt.NDArray[np.float64]


def _fit(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    day: npt.NDArray[np.datetime64],
    names: list[str],
    settings: AnomalySettings,
) -> _Fit | None:
    """The baseline refitted ``cusum_passes`` times, each without the days of the previous
    pass's excursions above ``h``; None when the residuals have no spread."""
    days, day_index = np.unique(day, return_inverse=True)
    keep_day = np.ones(len(days), dtype=bool)
    actual = np.bincount(day_index, weights=y, minlength=len(days))
    result = None
    for _ in range(settings.cusum_passes):
        hours = keep_day[day_index]
        beta = huber_fit(x[hours], y[hours])
        daily = np.bincount(day_index, weights=y - x @ beta, minlength=len(days))
        r: npt.NDArray[np.float64] = daily.astype(np.float64) - float(np.median(daily[keep_day]))
        spread = _MAD_TO_SD * float(np.median(np.abs(r[keep_day] - np.median(r[keep_day]))))
        sigma = max(spread, settings.cusum_floor * float(np.mean(actual[keep_day])))
        if not sigma > 0:
            return result
        z = np.clip(r / sigma, -settings.cusum_clip, settings.cusum_clip)
        s = cusum(z, settings.cusum_k)
        result = _Fit(beta, names, pd.DatetimeIndex(days), r, sigma, s)
        alarmed = np.zeros(len(days), dtype=bool)
        for start, end in runs(s > 0):
            if s[start:end].max() > settings.cusum_h:
                alarmed[start:end] = True
        if np.array_equal(keep_day, ~alarmed) or alarmed.mean() > _MAX_EXCLUDED:
            break
        keep_day = ~alarmed
    return result


def _ts(value: object) -> datetime:
    return pd.Timestamp(value).to_pydatetime()  # type: ignore[arg-type]


def _finding(code: str, site: str, en: str, zh: str, **data: object) -> Finding:
    return Finding(code=code, text=Text(en, zh), data={"site": site, **data}, severity="info")


def cusum_detections(
    hourly: pd.DataFrame, settings: AnomalySettings, weather: pd.DataFrame | None = None
) -> tuple[list[Detection], list[Finding]]:
    """Upward drifts of cooling energy and UPS losses against their baselines, per site."""
    found: list[Detection] = []
    findings: list[Finding] = []
    for site, table in site_hours(hourly, weather).items():
        bounds = table.groupby("day")["ts_utc"].agg(["min", "max", "size"])
        for model in _MODELS:
            if table[list(model.needed)].isna().all().any():
                continue  # the site does not meter this subsystem
            has_weather = bool(model.name == "cooling" and table["wet_bulb_c"].notna().any())
            if model.name == "cooling" and not has_weather:
                findings.append(
                    _finding(
                        "energy.anomaly.no_weather",
                        site,
                        f"{site}: cooling baseline on IT energy alone (no wet bulb)",
                        f"{site}：制冷基线仅以 IT 能耗为自变量（无湿球温度）",
                    )
                )
            wanted = [*model.needed, "wet_bulb_c"] if has_weather else list(model.needed)
            rows = table[table[wanted].notna().all(axis=1)]
            known = rows.groupby("day").size()
            complete = known[known >= _MIN_DAY_HOURS].index
            rows = rows[rows["day"].isin(complete)].reset_index(drop=True)
            if len(complete) < settings.cusum_min_days:
                findings.append(
                    _finding(
                        "energy.anomaly.too_few_days",
                        site,
                        f"{site}: CUSUM of {model.name} skipped — {len(complete)} complete "
                        f"days, {settings.cusum_min_days} needed",
                        f"{site}：跳过{_ZH[model.name]}的 CUSUM——完整天数 {len(complete)}，"
                        f"至少需要 {settings.cusum_min_days}",
                        layer="cusum",
                        model=model.name,
                    )
                )
                continue
            x, y, names = _design(rows, model, settings.cusum_knot_step, has_weather)
            fit = _fit(x, y, rows["day"].to_numpy(), names, settings)
            if fit is None:
                findings.append(
                    _finding(
                        "energy.anomaly.no_residual_scale",
                        site,
                        f"{site}: CUSUM of {model.name} skipped — residuals have no spread",
                        f"{site}：跳过{_ZH[model.name]}的 CUSUM——残差无离散度",
                        model=model.name,
                    )
                )
                continue
            found += _excursions(site, model, fit, bounds, settings)
    return found, findings


def _excursions(
    site: str, model: _Model, fit: _Fit, bounds: pd.DataFrame, settings: AnomalySettings
) -> list[Detection]:
    found: list[Detection] = []
    s = fit.s
    for start, stop in runs(s > 0):
        peak = float(s[start:stop].max())
        if peak <= settings.cusum_h:
            continue
        crossed = start + int(np.flatnonzero(s[start:stop] > settings.cusum_h)[0])
        end = start + int(np.argmax(s[start:stop])) + 1  # the drift ends at the peak
        first, last, alarm = fit.days[start], fit.days[end - 1], fit.days[crossed]
        end_utc = _ts(bounds.at[last, "max"]) + timedelta(hours=1)
        found.append(
            Detection(
                site=site,
                meter=None,
                subsystem=model.subsystem,
                layer="cusum",
                kind=model.kind,
                start_utc=_ts(bounds.at[first, "min"]),
                end_utc=end_utc,
                score=peak / settings.cusum_h,
                energy_kwh=float(fit.residual[start:end].sum()),
                reason=reason(
                    f"energy.anomaly.{model.kind}",
                    site=site,
                    start=first.date().isoformat(),
                    detected=alarm.date().isoformat(),
                    s=peak,
                    h=settings.cusum_h,
                ),
                detected_utc=_ts(bounds.at[alarm, "max"]) + timedelta(hours=1),
                data={
                    "days": end - start,
                    "sigma_kwh_per_day": fit.sigma,
                    "k": settings.cusum_k,
                    "h": settings.cusum_h,
                    "model": dict(zip(fit.names, (float(b) for b in fit.beta), strict=True)),
                },
            )
        )
    return found
