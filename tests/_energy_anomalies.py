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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
        "INC": ("incomer", None, incomer),
        "UPS-IN": ("ups_input", "INC", ups_in),
        "UPS-OUT": ("ups_output", "UPS-IN", ups_out),
        "CHILLER": ("cooling", "INC", cooling),
        "OTHER": ("other", "INC", other),
    }
    frames = []
    for meter, (role, parent, values) in series.items():
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
                    "parent": parent,
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


#: Sub-meters added by :func:`with_sub_meters`: (meter, role, parent, share of the parent).
SUB_METERS: tuple[tuple[str, str, str, float], ...] = (
    ("INC-HALL", "incomer", "INC", 0.9),
    ("UPS-IN-A", "ups_input", "UPS-IN", 0.5),
    ("UPS-OUT-A", "ups_output", "UPS-OUT", 0.5),
    ("CHILLER-1", "cooling", "CHILLER", 0.6),
    ("OTHER-LTG", "other", "OTHER", 0.7),
)


def with_sub_meters(hourly: pd.DataFrame) -> pd.DataFrame:
    """``hourly`` of :func:`synthetic_site` with a sub-meter of the same role under the
    incomer, the UPS input and output, the chiller and the other-loads meter (each reading a
    share of its parent, :data:`SUB_METERS`): a site aggregate that adds them counts that
    energy twice."""
    parts = [hourly]
    for meter, role, parent, share in SUB_METERS:
        part = hourly[hourly["meter"] == parent].copy()
        part["meter"], part["role"], part["parent"] = meter, role, parent
        part["energy_kwh"] = part["energy_kwh"] * share
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


# --------------------------------------------------------------------------- demo telemetry

#: kWh per unit of an energy reading (kW: a 15-minute mean power, 0.25 h).
_KWH_PER = {"kWh": 1.0, "MWh": 1000.0, "Wh": 0.001, "kW": 0.25, "MW": 250.0}
_STEP = pd.Timedelta(minutes=15)


def hourly_from_telemetry(telemetry: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(hourly, weather)`` tables of the anomaly layers from a demo ``Telemetry`` — a
    stand-in for the core's import and hourly rollup, written from the readings contract:

    * a counter's interval is the step between consecutive readings (plus ``rollover`` when
      it steps back and has one); an interval meter's is its value (kW × 0.25 h);
    * times in the multiplier and the unit's kWh, at the interval's start (readings mark the
      end);
    * a step over more than 15 minutes (after a gap) is unknown, never spread;
    * an hour is known when its four intervals are; ``coverage`` = known intervals / 4;
      missing hours between a meter's first and last reading are rows with coverage 0.
    Only energy meters (units in :data:`_KWH_PER`) are kept.
    """
    meters = telemetry.meters.to_pandas()
    meters = meters[meters["unit"].isin(list(_KWH_PER))]
    readings = telemetry.readings.to_pandas()
    readings = readings[readings["meter"].isin(meters["meter"])]
    readings["ts"] = readings["timestamp"].dt.tz_convert("UTC").dt.tz_localize(None)
    readings = readings.sort_values(["meter", "ts"], kind="stable")
    info = meters.set_index("meter")
    frame = readings.join(info[["site", "role", "unit", "kind", "multiplier", "rollover",
                                "timezone"]], on="meter")  # fmt: skip
    previous_ts = frame.groupby("meter")["ts"].shift()
    previous_value = frame.groupby("meter")["value"].shift()
    step = frame["value"] - previous_value
    back = (step < 0) & frame["rollover"].notna()
    step = step.where(~back, step + frame["rollover"])
    step = step.where(step >= 0)
    counter = frame["kind"] == "counter"
    raw = np.where(counter, step, frame["value"])
    contiguous = (frame["ts"] - previous_ts) == _STEP
    raw = np.where(counter & ~contiguous, np.nan, raw)
    frame["kwh"] = raw * frame["multiplier"] * frame["unit"].map(_KWH_PER)
    frame["hour"] = (frame["ts"] - _STEP).dt.floor("h")
    frame = frame[~(counter & previous_ts.isna())]  # a counter's first reading opens it
    grouped = frame.groupby(["meter", "hour"])
    hourly = pd.DataFrame(
        {"energy_kwh": grouped["kwh"].sum(min_count=1), "known": grouped["kwh"].count()}
    ).reset_index()
    parts = []
    for meter, part in hourly.groupby("meter"):
        hours = pd.date_range(part["hour"].min(), part["hour"].max(), freq="h")
        part = part.set_index("hour").reindex(hours)
        part["meter"] = meter
        parts.append(part.rename_axis("ts_utc").reset_index())
    hourly = pd.concat(parts, ignore_index=True)
    hourly["known"] = hourly["known"].fillna(0)
    hourly["coverage"] = hourly["known"] / 4
    hourly.loc[hourly["known"] < 4, "energy_kwh"] = np.nan
    hourly = hourly.join(info[["site", "role", "parent", "timezone"]], on="meter")
    hourly["parent"] = hourly["parent"].where(hourly["parent"].astype(bool), None)
    local = []
    for zone, part in hourly.groupby("timezone"):
        shifted = part["ts_utc"].dt.tz_localize("UTC").dt.tz_convert(zone).dt.tz_localize(None)
        local.append(shifted)
    hourly["ts_local"] = pd.concat(local)
    weather = telemetry.weather.to_pandas()[["site", "ts_local", "wet_bulb_c"]]
    columns = ["site", "meter", "role", "parent", "ts_utc", "ts_local", "energy_kwh", "coverage"]
    return hourly[columns], weather


# --------------------------------------------------------------------------- evaluation

#: The alert kinds aimed at each fault kind of the demo (their precision is measured).
TARGET_KINDS: dict[str, tuple[str, ...]] = {
    "stuck_meter": ("stuck",),
    "data_gap": ("gap",),
    "chiller_drift": ("cooling_drift",),
    "ups_efficiency_loss": ("ups_loss_drift", "ups_efficiency_low"),
}
_PHYSICAL = ("chiller_drift", "ups_efficiency_loss")
_SUBSYSTEM = {"cooling": "cooling", "ups_input": "ups", "ups_output": "ups"}


def _ancestors(meters: pd.DataFrame, meter: str) -> set[str]:
    parent = dict(zip(meters["meter"], meters["parent"], strict=True))
    found: set[str] = set()
    current = parent.get(meter) or ""
    while current and current not in found:
        found.add(current)
        current = parent.get(current) or ""
    return found


def matches(alert: Any, fault: Any, meters: pd.DataFrame) -> bool:
    """Whether ``alert`` found ``fault`` (``docs/energy/anomalies.md``, "Evaluation"): the
    same site, windows that overlap, and the same place — the fault's meter; for a
    site-level alert, the fault meter's subsystem (cooling, UPS) or the whole facility; for a
    physical fault (its extra energy flows upstream), also a meter upstream of it."""
    if alert.site != fault.site:
        return False
    if not (alert.start_utc < fault.end and fault.start < alert.end_utc):
        return False
    if alert.meter is not None:
        if alert.meter == fault.meter:
            return True
        return fault.kind in _PHYSICAL and alert.meter in _ancestors(meters, fault.meter)
    role = str(meters.set_index("meter").at[fault.meter, "role"])
    return alert.subsystem in ("facility", _SUBSYSTEM.get(role, role))


@dataclass(frozen=True)
class Evaluation:
    """Recall, precision and detection delay per fault kind, and precision per layer."""

    by_kind: dict[str, dict[str, Any]]
    by_layer: dict[str, dict[str, Any]]


def evaluate(alerts: Sequence[Any], faults: Sequence[Any], meters: pd.DataFrame) -> Evaluation:
    """Recall per fault kind = faults matched by at least one alert (any layer) / faults;
    precision per fault kind = alerts of its target kinds (:data:`TARGET_KINDS`) that match a
    fault of that kind / alerts of those kinds; delay = first ``detected_utc`` of a matching
    alert − fault start [days]; precision per layer = alerts the layer saw that match any
    fault / alerts it saw."""
    by_kind: dict[str, dict[str, Any]] = {}
    for kind, targets in TARGET_KINDS.items():
        of_kind = [f for f in faults if f.kind == kind]
        delays = []
        for fault in of_kind:
            hits = [a for a in alerts if matches(a, fault, meters)]
            if hits:
                first = min(a.detected_utc or a.end_utc for a in hits)
                delays.append((first - fault.start).total_seconds() / 86400)
        aimed = [a for a in alerts if set(a.kinds) & set(targets)]
        right = [a for a in aimed if any(matches(a, f, meters) for f in of_kind)]
        by_kind[kind] = {
            "faults": len(of_kind),
            "found": len(delays),
            "recall": len(delays) / len(of_kind) if of_kind else None,
            "alerts": len(aimed),
            "true_alerts": len(right),
            "precision": len(right) / len(aimed) if aimed else None,
            "max_delay_days": max(delays) if delays else None,
        }
    by_layer: dict[str, dict[str, Any]] = {}
    for layer in ("rule", "residual", "isolation_forest", "cusum"):
        seen = [a for a in alerts if layer in a.layers]
        right = [a for a in seen if any(matches(a, f, meters) for f in faults)]
        by_layer[layer] = {
            "alerts": len(seen),
            "true_alerts": len(right),
            "precision": len(right) / len(seen) if seen else None,
        }
    return Evaluation(by_kind, by_layer)
