"""Layer 4: CUSUM drift on daily baseline residuals (ISO 50006 EnB residuals; Page 1954).

第四层：基于日基线残差的 CUSUM 漂移检测。

Two baselines per site, each fitted over the whole period with Huber-weighted least squares
(robust to the drift it looks for, which then shows as a run of positive residuals):

* cooling [kWh/day] on IT energy [kWh/day] and the day's cooling degree-hours of the wet
  bulb over five balance points (the 10/30/50/70/90 % quantiles of the site's hourly wet
  bulb; ``base.EXCESS_COLUMNS``): a change-point model in the manner of ASHRAE Guideline 14's
  inverse models, flat when it is cold (free cooling) and bending as it warms; without
  weather, on IT energy alone (with a finding);
* UPS losses (input − output) [kWh/day] on UPS output and its square (the loss curve of a
  UPS: no-load, proportional and I²R terms).

The residuals ``r`` (centred on their median) are scaled by σ̂ = 1.4826 · MAD(Δr) / √2, a
scale taken from day-to-day changes so that a level shift does not inflate it; the upper
tabular CUSUM ``S_t = max(0, S_{t−1} + r_t/σ̂ − k)`` alerts when ``S > h`` (Montgomery,
*Introduction to Statistical Quality Control*, 7th ed., §9.1.2). An alert spans the drift as
the CUSUM estimates it — from the day after ``S`` was last 0 to the day ``S`` peaks (after the
peak the excess has stopped growing the sum) — and records the day ``S`` crossed ``h`` as
``detected_utc``; its impact is Σ r over that window [kWh].
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd

from esgledger.energy.detectors.base import EXCESS_COLUMNS, AnomalySettings, Detection, runs
from esgledger.energy.findings import Finding
from esgledger.i18n import Text
from esgledger.reasons import reason

__all__ = ["cusum", "cusum_detections", "huber_fit"]

_HUBER_C = 1.345
_MAD_TO_SD = 1.4826
#: A refit leaves out at most this share of the days (beyond it the baseline would be fitted
#: on too narrow a range of weather to mean anything).
_MAX_EXCLUDED = 0.5


def huber_fit(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], *, iterations: int = 20
) -> npt.NDArray[np.float64]:
    """Coefficients of ``y ≈ x @ β`` by iteratively reweighted least squares with Huber
    weights (tuning constant 1.345 σ, scale from the MAD of the residuals)."""
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    for _ in range(iterations):
        r = y - x @ beta
        scale = _MAD_TO_SD * float(np.median(np.abs(r - np.median(r))))
        if not scale > 0:
            break
        u = np.abs(r) / (_HUBER_C * scale)
        w = np.where(u <= 1, 1.0, 1.0 / np.maximum(u, 1e-12))
        sw = np.sqrt(w)
        beta = np.linalg.lstsq(x * sw[:, None], y * sw, rcond=None)[0]
    return np.asarray(beta, dtype=np.float64)


def cusum(z: npt.NDArray[np.float64], k: float) -> npt.NDArray[np.float64]:
    """The upper tabular CUSUM of standardised values ``z`` with reference value ``k``."""
    s = np.zeros(len(z))
    level = 0.0
    for i, value in enumerate(z):
        level = max(0.0, level + float(value) - k)
        s[i] = level
    return s


def _design(frame: pd.DataFrame, model: str) -> tuple[npt.NDArray[np.float64], list[str]] | None:
    if model == "cooling":
        it = frame["e_it_kwh"].to_numpy(dtype="float64")
        columns = [np.ones(len(frame)), it]
        names = ["1", "e_it_kwh"]
        excess = frame[list(EXCESS_COLUMNS)].to_numpy(dtype="float64")
        if not np.isnan(excess).any():
            for i, name in enumerate(EXCESS_COLUMNS):
                columns.append(excess[:, i])
                names.append(name)
        return np.column_stack(columns), names
    out = frame["ups_out_kwh"].to_numpy(dtype="float64")
    return np.column_stack([np.ones(len(frame)), out, out**2]), ["1", "ups_out_kwh", "ups_out²"]


def _fit_passes(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], settings: AnomalySettings
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], float, npt.NDArray[np.float64]] | None:
    """``(β, r, σ̂, S)``: the baseline refitted ``cusum_passes`` times, each without the days
    of the previous pass's excursions above ``h``; None when the residuals have no spread."""
    keep = np.ones(len(y), dtype=bool)
    result = None
    for _ in range(settings.cusum_passes):
        if keep.sum() < max(x.shape[1] + 2, settings.cusum_min_days // 2):
            break
        beta = huber_fit(x[keep], y[keep])
        r = y - x @ beta
        r = r - float(np.median(r[keep]))
        diffs = np.diff(r[keep])
        sigma = _MAD_TO_SD * float(np.median(np.abs(diffs - np.median(diffs)))) / math.sqrt(2)
        if not sigma > 0:
            return result
        z = np.clip(r / sigma, -settings.cusum_clip, settings.cusum_clip)
        s = cusum(z, settings.cusum_k)
        result = (beta, r, sigma, s)
        alarmed = np.zeros(len(y), dtype=bool)
        for start, end in runs(s > 0):
            if s[start:end].max() > settings.cusum_h:
                alarmed[start:end] = True
        if np.array_equal(keep, ~alarmed) or alarmed.mean() > _MAX_EXCLUDED:
            break
        keep = ~alarmed
    return result


_MODELS = {
    "cooling": ("cooling_kwh", ("cooling_kwh", "e_it_kwh"), "cooling", "cooling_drift"),
    "ups": ("ups_loss_kwh", ("ups_loss_kwh", "ups_out_kwh"), "ups", "ups_loss_drift"),
}


def cusum_detections(
    daily: pd.DataFrame, settings: AnomalySettings
) -> tuple[list[Detection], list[Finding]]:
    """Upward drifts of cooling energy and UPS losses against their baselines, per site."""
    found: list[Detection] = []
    findings: list[Finding] = []
    for site, frame in daily.groupby("site", sort=True):
        frame = frame.sort_values("day").reset_index(drop=True)
        for model, (target, needed, subsystem, kind) in _MODELS.items():
            if model == "cooling" and frame["wet_bulb_c"].isna().all():
                findings.append(
                    Finding(
                        code="energy.anomaly.no_weather",
                        text=Text(
                            f"{site}: cooling baseline on IT energy alone (no wet bulb)",
                            f"{site}：制冷基线仅以 IT 能耗为自变量（无湿球温度）",
                        ),
                        data={"site": site},
                        severity="info",
                    )
                )
                rows = frame[frame[list(needed)].notna().all(axis=1)].reset_index(drop=True)
            else:
                wanted = [*needed, "wet_bulb_c"] if model == "cooling" else list(needed)
                rows = frame[frame[wanted].notna().all(axis=1)].reset_index(drop=True)
            if frame[needed[0]].isna().all():
                continue  # the site does not meter this subsystem
            if len(rows) < settings.cusum_min_days:
                findings.append(
                    Finding(
                        code="energy.anomaly.too_few_days",
                        text=Text(
                            f"{site}: CUSUM of {model} skipped — {len(rows)} complete days, "
                            f"{settings.cusum_min_days} needed",
                            f"{site}：跳过 {model} 的 CUSUM——完整天数 {len(rows)}，"
                            f"至少需要 {settings.cusum_min_days}",
                        ),
                        data={"site": site, "layer": "cusum", "model": model},
                        severity="info",
                    )
                )
                continue
            design = _design(rows, model)
            if design is None:
                continue
            x, names = design
            y = rows[target].to_numpy(dtype="float64")
            fitted = _fit_passes(x, y, settings)
            if fitted is None:
                findings.append(
                    Finding(
                        code="energy.anomaly.no_residual_scale",
                        text=Text(
                            f"{site}: CUSUM of {model} skipped — residuals have no spread",
                            f"{site}：跳过 {model} 的 CUSUM——残差无离散度",
                        ),
                        data={"site": site, "model": model},
                        severity="info",
                    )
                )
                continue
            beta, r, sigma, s = fitted
            for start, end in runs(s > 0):
                peak = float(s[start:end].max())
                if peak <= settings.cusum_h:
                    continue
                crossed = start + int(np.flatnonzero(s[start:end] > settings.cusum_h)[0])
                end = start + int(np.argmax(s[start:end])) + 1  # the drift ends at the peak
                energy = float(r[start:end].sum())
                begin = pd.Timestamp(rows["start_utc"].iloc[start]).to_pydatetime()
                found.append(
                    Detection(
                        site=str(site),
                        meter=None,
                        subsystem=subsystem,
                        layer="cusum",
                        kind=kind,
                        start_utc=begin,
                        end_utc=pd.Timestamp(rows["end_utc"].iloc[end - 1]).to_pydatetime(),
                        score=peak / settings.cusum_h,
                        energy_kwh=energy,
                        reason=reason(
                            f"energy.anomaly.{kind}",
                            site=site,
                            start=rows["day"].iloc[start].date().isoformat(),
                            detected=rows["day"].iloc[crossed].date().isoformat(),
                            s=peak,
                            h=settings.cusum_h,
                        ),
                        detected_utc=pd.Timestamp(rows["end_utc"].iloc[crossed]).to_pydatetime(),
                        data={
                            "days": end - start,
                            "sigma_kwh": sigma,
                            "k": settings.cusum_k,
                            "h": settings.cusum_h,
                            "model": dict(zip(names, (float(b) for b in beta), strict=True)),
                        },
                    )
                )
    return found, findings
