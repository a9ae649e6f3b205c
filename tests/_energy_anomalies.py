"""A small synthetic data centre for the anomaly tests: hourly meters with a daily and weekly
load shape, weather-driven cooling, noise, and faults injected on known dates.

Every number is built here from stated formulas, so a test can say what a fault must do:

* IT load ``it = 1000 · (1 + 0.08 sin(2π h/24) − 0.04·weekend) · (1 + N(0, 0.01))`` [kWh/h];
* wet bulb ``wb = 12 − 10 cos(2π d/365) + 3 sin(2π h/24) + N(0, 1)`` [°C];
* cooling ``= it · (0.18 + 0.012 · max(wb − 8, 0)) · drift`` [kWh/h];
* UPS: output = it, input = output / η, ``η = 0.955 − loss`` [-];
* incomer = UPS input + cooling + other (40 kWh/h).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

SITE = "DC-T"


@dataclass(frozen=True)
class Fault:
    meter: str
    kind: str  # stuck, gap, spike, chiller_drift, ups_efficiency_loss
    start: pd.Timestamp
    end: pd.Timestamp


def synthetic_site(
    *, seed: int = 7, days: int = 240, faults: tuple[Fault, ...] = (), site: str = SITE
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(hourly, weather)`` tables for one site (UTC+8 local time), faults applied."""
    rng = np.random.default_rng(seed)
    ts = pd.date_range("2024-01-01", periods=days * 24, freq="h")  # UTC
    local = ts + pd.Timedelta(hours=8)
    hour = local.hour.to_numpy()
    doy = local.dayofyear.to_numpy()
    weekend = (local.dayofweek.to_numpy() >= 5).astype(float)
    n = len(ts)
    it = 1000 * (1 + 0.08 * np.sin(2 * np.pi * hour / 24) - 0.04 * weekend)
    it = it * (1 + rng.normal(0, 0.01, n))
    wb = 12 - 10 * np.cos(2 * np.pi * doy / 365) + 3 * np.sin(2 * np.pi * hour / 24)
    wb = wb + rng.normal(0, 1, n)
    drift = np.ones(n)
    loss = np.zeros(n)
    for f in faults:
        inside = (ts >= f.start) & (ts < f.end)
        ramp = np.clip((ts - f.start) / (f.end - f.start), 0, 1)
        if f.kind == "chiller_drift":
            drift = np.where(inside, 1 + 0.25 * ramp, drift)
        if f.kind == "ups_efficiency_loss":
            loss = np.where(inside, 0.03, loss)
    cooling = it * (0.18 + 0.012 * np.maximum(wb - 8, 0)) * drift
    cooling = cooling * (1 + rng.normal(0, 0.02, n))
    eta = 0.955 - loss + rng.normal(0, 0.001, n)
    ups_out = it
    ups_in = ups_out / eta
    other = 40 + rng.normal(0, 0.5, n)
    incomer = ups_in + cooling + other
    series = {
        "INC": ("incomer", incomer),
        "UPS-IN": ("ups_input", ups_in),
        "UPS-OUT": ("ups_output", ups_out),
        "CHILLER": ("cooling", cooling),
        "OTHER": ("other", other),
    }
    frames = []
    for meter, (role, values) in series.items():
        values = values.copy()
        coverage = np.ones(n)
        for f in faults:
            if f.meter != meter:
                continue
            inside = (ts >= f.start) & (ts < f.end)
            if f.kind == "stuck":
                values[inside] = 0.0  # a stuck counter reads no consumption
            if f.kind == "gap":
                values[inside] = np.nan
                coverage[inside] = 0.0
            if f.kind == "spike":
                values[inside] = values[inside] * 4
        frames.append(
            pd.DataFrame(
                {
                    "site": site,
                    "meter": meter,
                    "role": role,
                    "ts_utc": ts,
                    "ts_local": local,
                    "energy_kwh": values,
                    "coverage": coverage,
                }
            )
        )
    hourly = pd.concat(frames, ignore_index=True)
    weather = pd.DataFrame({"site": site, "ts_local": local, "wet_bulb_c": wb})
    return hourly, weather
