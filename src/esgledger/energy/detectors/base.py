"""What every anomaly layer shares: the settings, a raw detection, the hourly input table and
the daily site features built from it.

异常检测各层共用：参数、单条检测结果、小时输入表及由其构建的站点日特征。

The layers are pure functions over pandas tables in two shapes:

*hourly* — one row per meter and hour: ``site, meter, role, parent`` (the parent meter's id,
None for a boundary meter), ``ts_utc`` (hour start, naive UTC),
``ts_local`` (hour start, naive local wall time at the site), ``energy_kwh`` [kWh] (NaN when
unknown: a gap, a negative counter step) and ``coverage`` (0..1, share of the hour's intervals
that were read). :func:`check_hourly` checks it. Per-meter layers use every meter; site
aggregates use only the topmost meters of each role (:func:`top_meter_rows`,
:func:`esgledger.energy.roles.top_meters`), so a sub-meter below a meter of its own role is not
counted twice.

*daily features* — one row per site and local day (:func:`daily_features`): ``site, day,
start_utc, end_utc, e_dc_kwh, e_it_kwh, cooling_kwh, ups_in_kwh, ups_out_kwh, pue,
ppue_cooling, ups_efficiency, ups_loss_kwh, wet_bulb_c``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from esgledger.energy.roles import it_role as best_it_role
from esgledger.energy.roles import top_meters
from esgledger.errors import InputError, Issue
from esgledger.reasons import Reason

__all__ = [
    "DAILY_COLUMNS",
    "HOURLY_COLUMNS",
    "LAYERS",
    "AnomalySettings",
    "Detection",
    "HourlyMatrix",
    "check_hourly",
    "daily_features",
    "runs",
    "top_meter_rows",
]

#: The layers, in the order they run (and the order a merged alert lists them).
LAYERS: tuple[str, ...] = ("rule", "residual", "isolation_forest", "cusum")
HOURLY_COLUMNS: tuple[str, ...] = (
    "site", "meter", "role", "parent", "ts_utc", "ts_local", "energy_kwh", "coverage",
)  # fmt: skip
DAILY_COLUMNS: tuple[str, ...] = (
    "site", "day", "start_utc", "end_utc", "e_dc_kwh", "e_it_kwh", "cooling_kwh", "ups_in_kwh",
    "ups_out_kwh", "pue", "ppue_cooling", "ups_efficiency", "ups_loss_kwh", "wet_bulb_c",
)  # fmt: skip
#: Where E_IT is read, best first (measurement category 3, 2, 1: ISO/IEC 30134-2 §6.2).
_MIN_DAY_HOURS = 23


@dataclass(frozen=True, slots=True)
class AnomalySettings:
    """The parameters of the four layers (``docs/energy/anomalies.md``).

    Layer 1, rules
        ``rule_flags``: the ingestion flags of the core that become alerts (``reset`` and
        ``rollover`` are handled events, not faults); ``rule_join_hours``: flagged intervals of
        one meter and kind at most this many hours apart form one alert; ``stuck_hours``: an
        hourly series of a varying meter repeating one value this many hours is stuck;
        ``gap_min_coverage``: an hour read below this share is part of a gap;
        ``ups_efficiency_min``: the lowest plausible daily UPS efficiency (output / input)
        [-] (a double-conversion UPS above 20 % load stays above about 0.90; 0.80 leaves room
        for light load); PUE below 1 and UPS efficiency above 1 are always impossible.
    Layer 2, forecast residual
        Runs on meters of ``residual_roles``: the power chain and the loads that follow the
        week, not the weather. Cooling, incomers (which carry the cooling), offices (non-DC:
        air conditioning), heat export and on-site generation follow the weather, which an
        hour-of-week profile cannot forecast (on the demo telemetry they gave thousands of
        false alerts); layers 3 and 4 model them. Weeks are counted on the site's wall clock
        (168 h ± a DST change).
        The expected value of an hour is the median of the same hour of the week in the
        ``residual_weeks`` most recent previous weeks whose hour was inside its P99 interval
        (looking back at most twice as many weeks; a seasonal-naive profile, robust to one odd
        week, that does not learn a fault as normal unless it lasts that long).
        An hour is outside the P99 interval when its robust z-score (0.6745·(r − median(r)) /
        MAD(r), Iglewicz & Hoaglin 1993) exceeds ``residual_p99_z`` (2.576, the two-sided
        99 % normal quantile); hours outside it in one direction at most
        ``residual_join_hours`` apart form a run, and a run is an alert when it has at least
        ``residual_min_hours`` hours outside the interval and one beyond ``residual_z`` (3.5,
        the reference's threshold) — both, because noise puts a meter outside the interval for
        an hour now and then — or when one hour is beyond ``residual_extreme_z`` (10: a spike).
    Layer 3, IsolationForest
        Over daily site features; ``if_contamination`` is the share of days expected to be
        anomalous; ``if_estimators`` trees; ``seed`` fixes the forest; at least ``if_min_days``
        complete days are needed.
    Layer 4, CUSUM
        One-sided upper tabular CUSUM (Page 1954; Montgomery, *Introduction to Statistical
        Quality Control*, §9.1) of the daily sums of hourly baseline residuals, standardised
        by σ̂ = max(1.4826 · MAD(r), ``cusum_floor`` · mean daily value) — the floor keeps a
        deviation below metering accuracy (class 1 meters: ±1 %, IEC 62053-21) from counting
        — each day's value clipped at ``cusum_clip`` σ̂ (a one-day outlier is the other
        layers' business); reference value ``cusum_k`` and decision interval ``cusum_h`` in
        units of σ̂; ``cusum_min_days`` complete days needed. The baseline is refitted
        ``cusum_passes`` times, each time without the days of the previous pass's alerts, so
        that a drift does not bend the baseline towards itself; the cooling baseline may bend
        every ``cusum_knot_step`` K of wet bulb.
    """

    rule_flags: tuple[str, ...] = ("gap", "stuck", "negative", "spike", "skew")
    rule_join_hours: float = 1.0
    stuck_hours: int = 6
    gap_min_coverage: float = 0.5
    ups_efficiency_min: float = 0.80
    residual_roles: tuple[str, ...] = (
        "ups_input", "ups_output", "pdu_output", "it_input", "other",
    )  # fmt: skip
    residual_weeks: int = 4
    residual_p99_z: float = 2.576
    residual_z: float = 3.5
    residual_min_hours: int = 3
    residual_extreme_z: float = 10.0
    residual_join_hours: int = 6
    if_contamination: float = 0.01
    if_estimators: int = 100
    if_min_days: int = 60
    seed: int = 20240101
    cusum_k: float = 0.5
    cusum_h: float = 8.0
    cusum_clip: float = 4.0
    cusum_floor: float = 0.01
    cusum_knot_step: float = 2.0
    cusum_passes: int = 3
    cusum_min_days: int = 60

    def __post_init__(self) -> None:
        checks = [
            ("rule_join_hours", self.rule_join_hours >= 0),
            ("stuck_hours", self.stuck_hours >= 2),
            ("gap_min_coverage", 0 < self.gap_min_coverage <= 1),
            ("ups_efficiency_min", 0 < self.ups_efficiency_min < 1),
            ("residual_weeks", self.residual_weeks >= 1),
            ("residual_p99_z", self.residual_p99_z > 0),
            ("residual_z", self.residual_z >= self.residual_p99_z),
            ("residual_min_hours", self.residual_min_hours >= 1),
            ("residual_extreme_z", self.residual_extreme_z >= self.residual_z),
            ("residual_join_hours", self.residual_join_hours >= 0),
            ("if_contamination", 0 < self.if_contamination <= 0.5),
            ("if_estimators", self.if_estimators >= 1),
            ("if_min_days", self.if_min_days >= 2),
            ("cusum_k", self.cusum_k >= 0),
            ("cusum_h", self.cusum_h > 0),
            ("cusum_clip", self.cusum_clip > self.cusum_k),
            ("cusum_passes", self.cusum_passes >= 1),
            ("cusum_floor", 0 <= self.cusum_floor < 1),
            ("cusum_knot_step", self.cusum_knot_step > 0),
            ("cusum_min_days", self.cusum_min_days >= 2),
        ]
        bad = [name for name, ok in checks if not ok]
        if bad:
            raise ValueError(f"anomaly settings out of range: {', '.join(bad)}")

    def to_json(self) -> dict[str, Any]:
        """The settings as JSON-native values (recorded with every report)."""
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in ((n, getattr(self, n)) for n in self.__dataclass_fields__)
        }


@dataclass(frozen=True, slots=True)
class Detection:
    """What one layer saw, before impact pricing and merging.

    ``start_utc``/``end_utc`` bound the window (end exclusive, naive UTC). ``energy_kwh`` is
    Σ (measured − expected) over the window [kWh] — positive: energy used beyond what was
    expected; negative: energy not metered or saved — or None when it cannot be computed (a
    gap has no measurement; a PUE below 1 is a metering fault). ``score`` is the layer's
    statistic divided by its threshold (≥ 1 alerts). ``subsystem`` is the meter's role, or
    ``cooling``/``ups``/``facility`` for site-level layers. ``detected_utc`` is when the
    layer could first have raised it (CUSUM: the day the sum crossed ``h``).
    """

    site: str
    meter: str | None
    subsystem: str
    layer: str
    kind: str
    start_utc: datetime
    end_utc: datetime
    score: float
    energy_kwh: float | None
    reason: Reason
    detected_utc: datetime | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


def check_hourly(hourly: pd.DataFrame) -> pd.DataFrame:
    """``hourly`` with its columns checked and typed (see the module docstring).

    Raises
    ------
    InputError
        When a column is missing.
    """
    missing = [c for c in HOURLY_COLUMNS if c not in hourly.columns]
    if missing:
        problem = f"the hourly table has no column {', '.join(missing)}"
        raise InputError(problem, [Issue("hourly", None, c, None, problem) for c in missing])
    out = hourly.loc[:, list(HOURLY_COLUMNS)].copy()
    out["ts_utc"] = pd.to_datetime(out["ts_utc"])
    out["ts_local"] = pd.to_datetime(out["ts_local"])
    out["energy_kwh"] = out["energy_kwh"].astype("float64")
    out["coverage"] = out["coverage"].astype("float64")
    out["parent"] = out["parent"].astype(object).where(out["parent"].notna(), None)
    return out.sort_values(["site", "meter", "ts_utc"], kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class HourlyMatrix:
    """An hourly table as one matrix: ``values[t, j]`` [kWh] is meter ``meters[j]`` in the hour
    starting ``hours[t]`` (naive UTC); NaN where the hour is missing or unknown, and
    ``coverage[t, j]`` 0 where the row is missing."""

    hours: pd.DatetimeIndex
    sites: tuple[str, ...]
    meters: tuple[str, ...]
    roles: tuple[str, ...]
    values: npt.NDArray[np.float64]
    coverage: npt.NDArray[np.float64]
    #: UTC offset of the site's wall clock [h] at each hour and meter (DST moves it).
    offset_h: npt.NDArray[np.int64]

    @classmethod
    def from_hourly(cls, hourly: pd.DataFrame) -> HourlyMatrix:
        frame = check_hourly(hourly)
        keys = frame[["site", "meter", "role"]].drop_duplicates(subset=["site", "meter"])
        if frame.empty:
            hours = pd.DatetimeIndex([])
        else:
            hours = pd.date_range(frame["ts_utc"].min(), frame["ts_utc"].max(), freq="h")
        columns = pd.MultiIndex.from_frame(keys[["site", "meter"]])
        values = frame.pivot_table(
            index="ts_utc", columns=["site", "meter"], values="energy_kwh", aggfunc="sum",
            dropna=False,
        )  # fmt: skip
        values = values.reindex(index=hours, columns=columns)
        known = frame.assign(known=frame["energy_kwh"].notna())
        has_value = known.pivot_table(
            index="ts_utc", columns=["site", "meter"], values="known", aggfunc="all"
        ).reindex(index=hours, columns=columns)
        coverage = frame.pivot_table(
            index="ts_utc", columns=["site", "meter"], values="coverage", aggfunc="sum"
        ).reindex(index=hours, columns=columns)
        shift = frame.assign(
            offset=(frame["ts_local"] - frame["ts_utc"]).dt.total_seconds() / 3600
        ).pivot_table(index="ts_utc", columns=["site", "meter"], values="offset", aggfunc="first")
        shift = shift.reindex(index=hours, columns=columns).ffill().bfill().fillna(0.0)
        matrix = values.to_numpy(dtype="float64", na_value=np.nan)
        matrix[~(has_value == True).to_numpy(dtype=bool)] = np.nan  # noqa: E712 (NaN → False)
        return cls(
            hours=hours,
            sites=tuple(str(s) for s in keys["site"]),
            meters=tuple(str(m) for m in keys["meter"]),
            roles=tuple(str(r) for r in keys["role"]),
            values=matrix,
            coverage=coverage.fillna(0.0).to_numpy(dtype="float64"),
            offset_h=np.rint(shift.to_numpy(dtype="float64")).astype(np.int64),
        )

    def hour(self, index: int) -> datetime:
        """The start of hour ``index`` as a naive UTC datetime (``len(hours)`` is the end)."""
        if index >= len(self.hours):
            return (self.hours[-1] + pd.Timedelta(hours=1)).to_pydatetime()
        return self.hours[index].to_pydatetime()


def runs(mask: npt.NDArray[np.bool_], *, join: int = 0) -> list[tuple[int, int]]:
    """The runs of True in ``mask`` as ``(first, last + 1)`` index pairs; runs separated by at
    most ``join`` False entries are joined."""
    if not mask.any():
        return []
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    pairs = [(int(a), int(b)) for a, b in zip(edges[0::2], edges[1::2], strict=True)]
    joined: list[tuple[int, int]] = [pairs[0]]
    for start, end in pairs[1:]:
        if start - joined[-1][1] <= join:
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((start, end))
    return joined


@dataclass(frozen=True, slots=True)
class _TreeRow:
    meter: str
    role: str
    parent: str | None


def top_meter_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``frame`` (an hourly table) whose meter carries its role's energy at its
    site: no ancestor of the same role among the site's meters in ``frame``
    (:func:`esgledger.energy.roles.top_meters`). Summing these rows per role gives the role's
    energy without counting a sub-meter again; a meter whose parent is not in ``frame`` is
    taken as the top of its chain."""
    keys = frame[["site", "meter", "role", "parent"]].drop_duplicates(subset=["site", "meter"])
    keep: set[tuple[str, str]] = set()
    for site, part in keys.groupby("site", sort=False):
        tree = [
            _TreeRow(str(m), str(r), None if p is None or p != p else str(p))
            for m, r, p in part[["meter", "role", "parent"]].itertuples(index=False)
        ]
        for tops in top_meters(tree).values():
            keep.update((str(site), t.meter) for t in tops)
    pairs = pd.MultiIndex.from_arrays([frame["site"].astype(str), frame["meter"].astype(str)])
    return frame[pairs.isin(list(keep))]


def _role_sum(frame: pd.DataFrame, roles: tuple[str, ...]) -> pd.Series:
    """Daily Σ energy of the meters of ``roles``; NaN on a day where any of them is not
    fully known (a partial sum is never passed off as the total)."""
    part = frame[frame["role"].isin(roles)]
    if part.empty:
        return pd.Series(dtype="float64")
    grouped = part.groupby(["site", "day"])
    total = grouped["energy_kwh"].sum(min_count=1)
    known = grouped["energy_kwh"].count()
    rows = grouped["energy_kwh"].size()
    total[known < rows] = np.nan
    return total


def daily_features(hourly: pd.DataFrame, weather: pd.DataFrame | None = None) -> pd.DataFrame:
    """The site KPIs of each local day from an hourly table (:data:`DAILY_COLUMNS`).

    ``e_dc_kwh`` = Σ incomer − Σ non_dc; ``e_it_kwh`` = Σ of the best IT category the site
    meters (it_input, else pdu_output, else ups_output); ``pue`` = e_dc / e_it;
    ``ppue_cooling`` = (e_it + cooling) / e_it; ``ups_efficiency`` = Σ ups_output / Σ
    ups_input; ``ups_loss_kwh`` = input − output — each Σ over the topmost meters of the role
    (:func:`top_meter_rows`); ``wet_bulb_c`` the day's mean wet bulb
    [°C] from ``weather`` (``site, ts_local, wet_bulb_c``), NaN without it. A day with an
    hour missing on any meter of a term, or with fewer than 23 hours (the partial first and
    last local days), has that term NaN.
    """
    every = check_hourly(hourly)
    every["day"] = every["ts_local"].dt.normalize()
    index = pd.MultiIndex.from_frame(every[["site", "day"]].drop_duplicates())
    out = pd.DataFrame(index=index)
    bounds = every.groupby(["site", "day"])["ts_utc"].agg(["min", "max"])
    out["start_utc"] = bounds["min"]
    out["end_utc"] = bounds["max"] + pd.Timedelta(hours=1)
    frame = top_meter_rows(every)
    incomer = _role_sum(frame, ("incomer",)).reindex(index)
    non_dc = _role_sum(frame, ("non_dc",)).reindex(index)
    has_non_dc = frame[frame["role"] == "non_dc"].groupby("site").size()
    non_dc_site = out.index.get_level_values("site").isin(has_non_dc.index)
    out["e_dc_kwh"] = incomer - np.where(non_dc_site, non_dc, 0.0)
    it = pd.Series(np.nan, index=index)
    for site, roles in frame.groupby("site")["role"]:
        present = set(roles)
        it_role = best_it_role(present)
        if it_role is not None:
            values = _role_sum(frame[frame["site"] == site], (it_role,)).reindex(index)
            it = it.where(it.notna(), values)
    out["e_it_kwh"] = it
    out["cooling_kwh"] = _role_sum(frame, ("cooling",)).reindex(index)
    out["ups_in_kwh"] = _role_sum(frame, ("ups_input",)).reindex(index)
    out["ups_out_kwh"] = _role_sum(frame, ("ups_output",)).reindex(index)
    with np.errstate(divide="ignore", invalid="ignore"):
        it_pos = out["e_it_kwh"].where(out["e_it_kwh"] > 0)
        out["pue"] = out["e_dc_kwh"] / it_pos
        out["ppue_cooling"] = (out["e_it_kwh"] + out["cooling_kwh"]) / it_pos
        out["ups_efficiency"] = out["ups_out_kwh"] / out["ups_in_kwh"].where(out["ups_in_kwh"] > 0)
    out["ups_loss_kwh"] = out["ups_in_kwh"] - out["ups_out_kwh"]
    # a local day with fewer hours than a DST day (23) is the partial first or last day
    partial = every.groupby(["site", "day"])["ts_utc"].nunique().reindex(index) < _MIN_DAY_HOURS
    terms = ["e_dc_kwh", "e_it_kwh", "cooling_kwh", "ups_in_kwh", "ups_out_kwh", "pue",
             "ppue_cooling", "ups_efficiency", "ups_loss_kwh"]  # fmt: skip
    out.loc[partial.to_numpy(dtype=bool), terms] = np.nan
    out["wet_bulb_c"] = np.nan
    if weather is not None and not weather.empty:
        w = weather.loc[:, ["site", "ts_local", "wet_bulb_c"]].copy()
        w["day"] = pd.to_datetime(w["ts_local"]).dt.normalize()
        wet = w.groupby(["site", "day"])["wet_bulb_c"].mean()
        out["wet_bulb_c"] = wet.reindex(index)
    return out.reset_index().loc[:, list(DAILY_COLUMNS)]
