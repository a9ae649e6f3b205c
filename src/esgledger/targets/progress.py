"""Progress toward a target: actual vs the linear pathway, trend projection, warnings.

目标进展：实际排放与线性路径对比、趋势预测、"按计划/偏离计划"判断及预警。

For each year with an actual value, the **gap** is ``actual − pathway`` (positive = above
the pathway) [t CO2e, or t CO2e per denominator unit for intensity targets]. The
**projection** to the target year is a least-squares line through the last ``window`` (≤ 3)
actual years after the base year; with a single actual year, the line from the base year to
it. The target is **on track** when the projected value at the target year is at or below
the target value; the **projected gap** is projected − target.

Absolute targets compare the selection's emissions × coverage (the covered share is assumed
constant). Intensity targets divide by the denominator series. Renewable-electricity targets
follow :func:`esgledger.renewables.allocation.re_progress` (share points; gap = pathway −
actual, positive = short of the pathway).

:func:`recalculation_warnings` turns base-year significance assessments
(:mod:`esgledger.inventory.base_year`, 5 % cumulative by default, the SBTi trigger) and a
scope 3 share that reached 40 % without a scope 3 target into warnings on the target.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from esgledger.errors import InputError
from esgledger.inventory.base_year import DEFAULT_THRESHOLD, ChangeAssessment, Recalculation
from esgledger.renewables.allocation import ReProgress, re_progress
from esgledger.targets.model import Target, TargetKind, base_value, pathway, target_emissions
from esgledger.targets.sbti import DEFAULT_CRITERIA_VERSION, load_criteria, scope3_share

__all__ = [
    "DEFAULT_WINDOW",
    "ProgressYear",
    "TargetProgress",
    "TargetWarning",
    "progress",
    "recalculation_warnings",
]

#: Actual years the trend is fitted over (at most).
DEFAULT_WINDOW = 3
_ON_TRACK, _OFF_TRACK, _NO_DATA = "on_track", "off_track", "insufficient_data"
_STATUS_ZH = {_ON_TRACK: "按计划", _OFF_TRACK: "偏离计划", _NO_DATA: "数据不足"}


@dataclass(frozen=True, slots=True)
class ProgressYear:
    """One year: ``actual``, ``pathway`` and ``gap`` in the progress unit."""

    year: int
    actual: float
    pathway: float
    gap: float


@dataclass(frozen=True, slots=True)
class TargetProgress:
    """Progress of one target.

    Attributes
    ----------
    target_id, kind
        The target.
    unit
        Unit of every value: ``t CO2e``, ``t CO2e per <denominator unit>`` or ``fraction``.
    base_value, target_value
        Values in the base and target years.
    years
        Each year with an actual value from the base year on.
    trend_per_year
        Slope of the projection [unit / year] (None without data).
    fit_years
        Years the projection was fitted on (the base year first when it is the base-to-latest
        line).
    projected_value, projected_gap
        Projected value at the target year and its gap to the target value.
    status
        ``on_track``, ``off_track`` or ``insufficient_data``.
    reason, reason_zh
        The verdict in one sentence.
    re
        :class:`~esgledger.renewables.allocation.ReProgress` of a renewable target.
    """

    target_id: str
    kind: TargetKind
    unit: str
    base_year: int
    target_year: int
    base_value: float
    target_value: float
    years: tuple[ProgressYear, ...]
    trend_per_year: float | None
    fit_years: tuple[int, ...]
    projected_value: float | None
    projected_gap: float | None
    status: str
    reason: str
    reason_zh: str
    re: ReProgress | None = None

    @property
    def on_track(self) -> bool:
        return self.status == _ON_TRACK

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        return data


def _fit(points: Sequence[tuple[int, float]]) -> tuple[float, float]:
    """Least-squares line (slope, mean x, mean y → value at x) as (slope, intercept)."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    slope = sum((x - mx) * (y - my) for x, y in points) / sxx
    return slope, my - slope * mx


def _series(
    target: Target,
    actuals: Mapping[int, float],
    denominators: Mapping[int, float] | None,
) -> dict[int, float]:
    years = sorted(y for y in actuals if y >= target.base_year)
    if target.kind is TargetKind.INTENSITY:
        given = denominators or {}
        missing = [y for y in years if not given.get(y)]
        if missing:
            raise InputError(
                f"target {target.id} is an intensity target: give the {target.denominator} "
                f"[{target.denominator_unit}] of years {missing} (denominators, > 0)"
            )
        return {y: actuals[y] * target.coverage / given[y] for y in years}
    return {y: actuals[y] * target.coverage for y in years}


def _re_progress(target: Target, shares: Mapping[int, float]) -> TargetProgress:
    share_target = target.target_share or 1.0
    known = {y: float(v) for y, v in shares.items() if y >= target.base_year}
    if not known:
        raise InputError(
            f"target {target.id}: give renewable shares (fractions 0-1) of years from "
            f"{target.base_year} on"
        )
    result = re_progress(known, target_year=target.target_year, target_share=share_target)
    start = known.get(target.base_year, known[min(known)])
    span = target.target_year - target.base_year

    def path(year: int) -> float:
        step = min(max(year - target.base_year, 0), span)
        return start + (share_target - start) * step / span

    rows = tuple(ProgressYear(y, v, path(y), path(y) - v) for y, v in sorted(known.items()))
    projected = None
    if result.achieved_per_year is not None:
        left = max(target.target_year - result.latest_year, 0)
        projected = min(1.0, result.latest_share + result.achieved_per_year * left)
    status = _ON_TRACK if result.on_track else _OFF_TRACK
    # Each case in its own words: a reached target needs no more points a year, and after the
    # target year nothing is "needed a year" any more (issue 10).
    if result.gap <= 1e-12:
        need = f"already at or above the target of {share_target:.0%} for {target.target_year}"
        need_zh = f"已达到或超过 {target.target_year} 年 {share_target:.0%} 的目标"
    elif result.latest_year >= target.target_year:
        need = (
            f"{result.gap * 100:.3g} percentage points short of the target of "
            f"{share_target:.0%} for {target.target_year}"
        )
        need_zh = (
            f"距 {target.target_year} 年 {share_target:.0%} 的目标尚差 "
            f"{result.gap * 100:.3g} 个百分点"
        )
    else:
        need = (
            f"{result.required_per_year * 100:.3g} percentage points a year still needed "
            f"to reach {share_target:.0%} in {target.target_year}"
        )
        need_zh = (
            f"须每年提高 {result.required_per_year * 100:.3g} 个百分点以在 "
            f"{target.target_year} 年达到 {share_target:.0%}"
        )
    return TargetProgress(
        target.id, target.kind, "fraction", target.base_year, target.target_year, start,
        share_target, rows, result.achieved_per_year, tuple(sorted(known)), projected,
        None if projected is None else share_target - projected, status,
        f"renewable share {result.latest_share:.1%} in {result.latest_year}, {need}: "
        f"{status.replace('_', ' ')}",
        f"{result.latest_year} 年可再生电力占比 {result.latest_share:.1%}，{need_zh}："
        f"{_STATUS_ZH[status]}",
        result,
    )  # fmt: skip


def progress(
    target: Target,
    actuals: Mapping[int, float],
    *,
    base: float | None = None,
    denominators: Mapping[int, float] | None = None,
    window: int = DEFAULT_WINDOW,
) -> TargetProgress:
    """Progress of ``target`` given its actual values by year.

    Parameters
    ----------
    actuals
        Year → the selection's emissions [t CO2e] (market-based scope 2 when the target says
        so; see :func:`esgledger.targets.model.covered_emissions`), or year → renewable
        share [fraction] for a renewable-electricity target.
    base
        [t CO2e] The selection's base-year emissions; default the target's
        ``base_emissions_t_co2e``, else ``actuals[base_year]``.
    denominators
        Year → denominator value [target.denominator_unit] (intensity targets).
    window
        Number of latest actual years the trend is fitted on (2 or 3).

    Raises
    ------
    InputError
        Without base-year emissions, with a missing denominator, or a bad window.
    """
    if not 2 <= window <= DEFAULT_WINDOW:
        raise InputError(f"window must be 2 or 3 actual years, got {window}")
    if target.kind is TargetKind.RENEWABLE_ELECTRICITY:
        return _re_progress(target, actuals)
    if base is None and target.base_emissions_t_co2e is None:
        base = actuals.get(target.base_year)
    start = base_value(target, base)
    goal = target_emissions(target, base)
    path = pathway(target, base)
    series = _series(target, actuals, denominators)
    unit = "t CO2e"
    if target.kind is TargetKind.INTENSITY:
        unit = f"t CO2e per {target.denominator_unit}"

    def on_path(year: int) -> float:
        return path.get(year, goal)

    rows = tuple(ProgressYear(y, v, on_path(y), v - on_path(y)) for y, v in series.items())
    later = [(y, v) for y, v in series.items() if y > target.base_year]
    if not later:
        return TargetProgress(
            target.id, target.kind, unit, target.base_year, target.target_year, start, goal,
            rows, None, (), None, None, _NO_DATA,
            f"no actual value after the base year {target.base_year}: no trend yet",
            f"基准年 {target.base_year} 之后尚无实际数据，无法判断趋势",
        )  # fmt: skip
    points = [(target.base_year, start), later[0]] if len(later) == 1 else later[-window:]
    slope, intercept = _fit(points)
    projected = slope * target.target_year + intercept
    if target.target_year in series:
        projected = series[target.target_year]
    gap = projected - goal
    on_track = gap <= 1e-9 * max(abs(goal), 1.0)
    status = _ON_TRACK if on_track else _OFF_TRACK
    latest_year, latest = later[-1]
    n_latest, n_path = _num(latest), _num(on_path(latest_year))
    n_gap_now = _num(latest - on_path(latest_year), signed=True)
    n_slope, n_projected = _num(slope, signed=True), _num(projected)
    n_goal, n_gap = _num(goal), _num(gap, signed=True)
    return TargetProgress(
        target.id, target.kind, unit, target.base_year, target.target_year, start, goal, rows,
        slope, tuple(x for x, _ in points), projected, gap, status,
        f"{latest_year}: {n_latest} {unit} vs pathway {n_path} (gap {n_gap_now}); trend "
        f"{n_slope} a year over {points[0][0]}-{points[-1][0]} projects {n_projected} in "
        f"{target.target_year} against the target {n_goal} (projected gap {n_gap}): "
        f"{status.replace('_', ' ')}",
        f"{latest_year} 年：{n_latest} {unit}，路径值 {n_path}（差距 {n_gap_now}）；按 "
        f"{points[0][0]}-{points[-1][0]} 年趋势（每年 {n_slope}）预计 {target.target_year} 年为 "
        f"{n_projected}，目标 {n_goal}（预计差距 {n_gap}）：{_STATUS_ZH[status]}",
    )  # fmt: skip


def _num(value: float, *, signed: bool = False) -> str:
    """A figure for a message: whole units from 100 up (t CO2e), two decimals from 1, four
    significant digits below (intensities) — never an exponent for tonnes."""
    sign = "+" if signed else ""
    if abs(value) >= 100:
        return f"{value:{sign},.0f}"
    if abs(value) >= 1:
        return f"{value:{sign},.2f}"
    return f"{value:{sign}.4g}"


@dataclass(frozen=True, slots=True)
class TargetWarning:
    """A warning attached to a target (``code``: ``base_year_recalculation`` or
    ``scope3_target_missing``)."""

    code: str
    target_id: str
    message: str
    message_zh: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def recalculation_warnings(
    target: Target,
    assessments: Recalculation | Sequence[ChangeAssessment],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    totals: Mapping[str, Any] | None = None,
    targets: Sequence[Target] = (),
    criteria_version: str = DEFAULT_CRITERIA_VERSION,
) -> list[TargetWarning]:
    """Warnings on ``target`` from base-year significance and the scope 3 share.

    Parameters
    ----------
    assessments
        A :class:`~esgledger.inventory.base_year.Recalculation` (its own threshold and
        verdict are used), or the :class:`~esgledger.inventory.base_year.ChangeAssessment`
        items of one: the shares of the qualifying changes add up (cumulative) and are
        compared with ``threshold``.
    threshold
        [fraction] Significance threshold when only assessments are given (default 5 %,
        the SBTi trigger).
    totals
        [t CO2e] The latest inventory summary's ``totals``: when scope 3 is 40 % or more of
        scopes 1+2+3 and neither ``target`` nor ``targets`` covers scope 3, a warning.
    targets
        The other targets of the set.
    """
    warnings: list[TargetWarning] = []
    if isinstance(assessments, Recalculation):
        share, limit = assessments.cumulative_share, assessments.threshold
        triggered, items = assessments.triggered, assessments.assessments
    else:
        items = tuple(assessments)
        share, limit = sum(a.share for a in items if a.qualifies), threshold
        triggered = any(a.qualifies for a in items) and share >= limit
    if triggered:
        reasons = "; ".join(a.reason for a in items if a.qualifies)
        reasons_zh = "；".join(a.reason_zh for a in items if a.qualifies)
        warnings.append(
            TargetWarning(
                "base_year_recalculation",
                target.id,
                f"target {target.id}: changes since the base year {target.base_year} add up to "
                f"{share:.1%} of base-year emissions (threshold {limit:.0%}, cumulative): "
                f"recalculate the base year and the target, and have it revalidated ({reasons})",
                f"目标 {target.id}：自基准年 {target.base_year} 以来的变化累计占基准年排放的 "
                f"{share:.1%}（阈值 {limit:.0%}，累计）：请重新计算基准年和目标并重新提交验证"
                f"（{reasons_zh}）",
            )
        )
    if totals is not None:
        trigger = load_criteria(criteria_version)["scope3_trigger_share"]
        s3_share, method = scope3_share(totals)
        covered = any(
            3 in t.scopes.scopes and t.kind is not TargetKind.RENEWABLE_ELECTRICITY
            for t in (target, *targets)
        )
        if s3_share >= trigger and not covered:
            warnings.append(
                TargetWarning(
                    "scope3_target_missing",
                    target.id,
                    f"scope 3 is now {s3_share:.1%} of scopes 1+2+3 (scope 2 {method.value}-"
                    f"based), at or above {trigger:.0%}, and no target covers scope 3: set a "
                    "near-term scope 3 target (SBTi recalculation trigger)",
                    f"范围三现占范围一二三合计的 {s3_share:.1%}，达到或超过 {trigger:.0%}，"
                    "但没有覆盖范围三的目标：请设定近期范围三目标（SBTi 重新计算触发条件）",
                )
            )
    return warnings
