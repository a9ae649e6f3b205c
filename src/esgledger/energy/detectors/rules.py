"""Layer 1: rule checks — the core's ingestion flags, gaps and stuck series seen in the hourly
table, and physically impossible site values (reference ``domain-modules.md`` §1.2).

第一层：规则检查——核心模块的数据质量标记、小时表中的缺测与卡滞，以及物理上不可能的站点数值。

* Flags (``gap, stuck, negative, spike, skew``; ``reset`` and ``rollover`` are handled events)
  become alerts, intervals of one meter and kind at most ``rule_join_hours`` apart joined.
* Hourly: a run of hours read below ``gap_min_coverage`` between a meter's first and last
  reading is a gap; a varying meter repeating one hourly value ``stuck_hours`` hours is stuck
  (a run of zeros only on a meter that is almost never 0: a stuck counter reads 0, but so
  does a chiller switched off in free cooling).
* Daily: PUE < 1 (facility energy below IT energy — The Green Grid's "better than perfect"
  PUE is a metering fault), UPS efficiency > 1, or below ``ups_efficiency_min``.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from esgledger.energy.detectors.base import AnomalySettings, Detection, HourlyMatrix, runs
from esgledger.energy.detectors.residual import SeasonalResiduals
from esgledger.reasons import reason

__all__ = ["flag_detections", "hourly_rule_detections", "physical_detections"]

#: A meter whose hourly value repeats more often than this is one that does not vary (a
#: constant load, an unused feeder): a repeated value there is not a stuck register.
_STEADY_SHARE = 0.2
#: A meter that reads 0 in more than this share of its hours has loads that switch off; a run
#: of zeros there is not a stuck counter (a stuck counter of a running load reads 0 too).
_ZERO_SHARE = 0.05


def _py(value: object) -> datetime:
    return pd.Timestamp(value).to_pydatetime()  # type: ignore[arg-type]


def _impact(
    res: SeasonalResiduals | None, column: int | None, start: datetime, end: datetime
) -> float | None:
    if res is None or column is None:
        return None
    hours = res.matrix.hours
    first = int(hours.searchsorted(pd.Timestamp(start).floor("h")))
    last = int(hours.searchsorted(pd.Timestamp(end), side="left"))
    return res.window_sum(column, first, max(last, first + 1))


def flag_detections(
    flags: pd.DataFrame,
    matrix: HourlyMatrix,
    settings: AnomalySettings,
    residuals: SeasonalResiduals | None = None,
) -> list[Detection]:
    """The core's flags (``site, meter, start_utc, end_utc, flag, detail``) as detections.
    The impact of a gap is None (nothing was measured); of the others, Σ layer-2 residual
    over the window when ``residuals`` are given."""
    column = {m: j for j, m in enumerate(matrix.meters)}
    role = dict(zip(matrix.meters, matrix.roles, strict=True))
    part = flags[flags["flag"].isin(settings.rule_flags)].copy()
    if part.empty:
        return []
    part["start_utc"] = pd.to_datetime(part["start_utc"])
    part["end_utc"] = pd.to_datetime(part["end_utc"])
    join = pd.Timedelta(hours=settings.rule_join_hours)
    found: list[Detection] = []
    for (site, meter, flag), group in part.groupby(["site", "meter", "flag"], sort=True):
        group = group.sort_values("start_utc")
        windows: list[tuple[pd.Timestamp, pd.Timestamp, int]] = []
        for start, end in zip(group["start_utc"], group["end_utc"], strict=True):
            if windows and start - windows[-1][1] <= join:
                first, last, count = windows[-1]
                windows[-1] = (first, max(last, end), count + 1)
            else:
                windows.append((start, end, 1))
        for start, end, count in windows:
            begin, finish = _py(start), _py(end)
            hours = (finish - begin).total_seconds() / 3600
            where = column.get(str(meter))
            energy = None if flag == "gap" else _impact(residuals, where, begin, finish)
            found.append(
                Detection(
                    site=str(site),
                    meter=str(meter),
                    subsystem=role.get(str(meter), "unknown"),
                    layer="rule",
                    kind=str(flag),
                    start_utc=begin,
                    end_utc=finish,
                    score=1.0,
                    energy_kwh=energy,
                    reason=reason(f"energy.anomaly.{flag}", meter=meter, hours=hours),
                    data={"flagged_intervals": count, "source": "ingestion flags"},
                )
            )
    return found


def hourly_rule_detections(
    matrix: HourlyMatrix,
    settings: AnomalySettings,
    residuals: SeasonalResiduals | None = None,
) -> list[Detection]:
    """Gaps and stuck series seen in the hourly table itself (a core without flags, or hours
    missing altogether)."""
    found: list[Detection] = []
    values, coverage = matrix.values, matrix.coverage
    for j, meter in enumerate(matrix.meters):
        site, role = matrix.sites[j], matrix.roles[j]
        read = np.flatnonzero(~np.isnan(values[:, j]))
        if read.size == 0:
            continue
        lo, hi = int(read[0]), int(read[-1]) + 1
        missing = np.zeros(len(matrix.hours), dtype=bool)
        missing[lo:hi] = np.isnan(values[lo:hi, j]) | (
            coverage[lo:hi, j] < settings.gap_min_coverage
        )
        for start, end in runs(missing):
            found.append(
                Detection(
                    site=site,
                    meter=meter,
                    subsystem=role,
                    layer="rule",
                    kind="gap",
                    start_utc=matrix.hour(start),
                    end_utc=matrix.hour(end),
                    score=1.0,
                    energy_kwh=None,
                    reason=reason("energy.anomaly.gap", meter=meter, hours=end - start),
                    detected_utc=matrix.hour(start + 1),
                    data={"source": "hourly coverage", "hours": end - start},
                )
            )
        series = values[:, j]
        same = np.zeros(len(series), dtype=bool)
        same[1:] = series[1:] == series[:-1]
        known_pairs = int((~np.isnan(series[1:]) & ~np.isnan(series[:-1])).sum())
        if known_pairs == 0 or same.sum() / known_pairs > _STEADY_SHARE:
            continue
        zero_share = float((series[~np.isnan(series)] == 0).mean())
        for start, end in runs(same):
            first = start - 1  # the hour whose value starts repeating
            if end - first < settings.stuck_hours:
                continue
            if series[first] == 0 and zero_share > _ZERO_SHARE:
                continue  # a load that is often off (a chiller in free cooling) reads 0
            found.append(
                Detection(
                    site=site,
                    meter=meter,
                    subsystem=role,
                    layer="rule",
                    kind="stuck",
                    start_utc=matrix.hour(first),
                    end_utc=matrix.hour(end),
                    score=(end - first) / settings.stuck_hours,
                    energy_kwh=residuals.window_sum(j, first, end) if residuals else None,
                    reason=reason("energy.anomaly.stuck", meter=meter, hours=end - first),
                    detected_utc=matrix.hour(first + settings.stuck_hours),
                    data={
                        "source": "hourly values",
                        "hours": end - first,
                        "value_kwh": float(series[first]),
                    },
                )
            )
    return found


def physical_detections(daily: pd.DataFrame, settings: AnomalySettings) -> list[Detection]:
    """Days with PUE < 1, UPS efficiency > 1 or below ``ups_efficiency_min``, consecutive
    days joined. The energy impact is None: these are metering faults, not energy used."""
    found: list[Detection] = []
    # kind, subsystem, column, whether the bad side is above, bound
    checks = (
        ("pue_below_one", "facility", "pue", False, 1.0),
        ("ups_efficiency_above_one", "ups", "ups_efficiency", True, 1.0),
        ("ups_efficiency_low", "ups", "ups_efficiency", False, settings.ups_efficiency_min),
    )
    for site, frame in daily.groupby("site", sort=True):
        frame = frame.sort_values("day").reset_index(drop=True)
        for kind, subsystem, column, above, bound in checks:
            series = frame[column]
            values = series.to_numpy(dtype="float64")
            with np.errstate(invalid="ignore"):
                mask = values > bound if above else values < bound
            for start, end in runs(mask):
                part = values[start:end]
                worst = float(part.max() if above else part.min())
                found.append(
                    Detection(
                        site=str(site),
                        meter=None,
                        subsystem=subsystem,
                        layer="rule",
                        kind=kind,
                        start_utc=_py(frame["start_utc"].iloc[start]),
                        end_utc=_py(frame["end_utc"].iloc[end - 1]),
                        score=1.0,
                        energy_kwh=None,
                        reason=reason(
                            f"energy.anomaly.{kind}",
                            site=site,
                            days=end - start,
                            value=worst,
                            bound=settings.ups_efficiency_min,
                        ),
                        data={"days": end - start, column: worst},
                    )
                )
    return found
