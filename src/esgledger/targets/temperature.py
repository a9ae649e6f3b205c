"""Temperature score of a target set (CDP-WWF Temperature Rating Methodology v1).

目标组合的温度评分（CDP-WWF 温度评级方法 v1，SBTi 金融工具的回归参数）。

The method of the SBTi finance tool (``sbti-finance-tool`` 1.3.1, MIT; standards reference
§3.5):

1. annual reduction rate ``ARR = reduction / (target_year − base_year)`` (linear) [fraction
   per year];
2. coverage: an S1+S2 target covering less than 95 % of S1+S2 emissions, or an S3 target
   covering less than 67 % of S3, has its ARR scaled by its coverage;
3. time frame from the **reference year** (the year the score is computed for):
   ``target_year − reference_year`` ≤ 4 years "short" (regression ``slope5``), ≤ 15 "mid"
   (``slope15``), ≤ 30 "long" (``slope30``);
4. ``T = max(param × ARR[%] + intercept, floor)`` with the regression row of the target's
   variable (model 4: ``Emissions|Kyoto Gases`` for absolute targets,
   ``INT.emKyoto_gdp`` for revenue or output intensity targets) and time frame, shipped in
   ``data/sbti/regression_parameters.csv``. The floor is 0.0 °C in the tool's code (its
   comment plans 1.3 °C once the method paper is updated: pass ``floor_c=PLANNED_FLOOR_C``);
5. a scope category without a valid target in the time frame scores the fallback 3.2 °C;
6. company S1+S2+S3: when S3 is less than 40 % of S1+S2+S3, the S1+S2 score; else the
   emissions-weighted mean of the S1+S2 and S3 scores.

Every score records the regression row (or the fallback) that produced it.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from esgledger.errors import InputError
from esgledger.targets.model import Target, TargetKind, annual_reduction_rate

__all__ = [
    "ABSOLUTE_VARIABLE",
    "DEFAULT_FLOOR_C",
    "FALLBACK_C",
    "INTENSITY_VARIABLE",
    "PLANNED_FLOOR_C",
    "S1S2_COVERAGE_MIN",
    "S3_COVERAGE_MIN",
    "S3_WEIGHT_TRIGGER",
    "SLOPES",
    "CompanyScore",
    "RegressionRow",
    "TargetScore",
    "company_score",
    "load_regression",
    "score_category",
    "target_score",
    "time_frame",
]

#: [°C] Floor of a score in the finance tool's code (``TemperatureScoreConfig``) [V].
DEFAULT_FLOOR_C = 0.0
#: [°C] Floor planned "once the method paper has been updated" (comment in the tool) [V].
PLANNED_FLOOR_C = 1.3
#: [°C] Score of a scope category without a valid target (tool default ``fallback_score``) [V].
FALLBACK_C = 3.2
#: [fraction] Coverage below which an S1+S2 target's ambition is scaled by its coverage [S].
S1S2_COVERAGE_MIN = 0.95
#: [fraction] Coverage below which an S3 target's ambition is scaled by its coverage [S].
S3_COVERAGE_MIN = 0.67
#: [fraction] S3 share of S1+S2+S3 from which the company score weights in S3 [V].
S3_WEIGHT_TRIGGER = 0.40
#: Time frame → regression slope column.
SLOPES: dict[str, str] = {"short": "slope5", "mid": "slope15", "long": "slope30"}
#: SR15 variable of absolute targets.
ABSOLUTE_VARIABLE = "Emissions|Kyoto Gases"
#: SR15 variable of revenue and product (output) intensity targets.
INTENSITY_VARIABLE = "INT.emKyoto_gdp"
_INTENSITY_DENOMINATORS = {"revenue", "output", "product", "production"}
_FRAMES = (("short", 4), ("mid", 15), ("long", 30))


@dataclass(frozen=True, slots=True)
class RegressionRow:
    """One row of ``regression_parameters.csv``: ``T = param × ARR[%] + intercept``.

    ``param`` [°C per (% per year)], ``intercept`` [°C].
    """

    model: int
    variable: str
    slope: str
    param: float
    intercept: float
    source: str
    mark: str


@lru_cache(maxsize=4)
def load_regression(model: int = 4) -> tuple[RegressionRow, ...]:
    """The shipped regression rows of ``model``.

    Raises
    ------
    InputError
        If no row of that model is shipped.
    """
    text = resources.files("esgledger.data.sbti").joinpath("regression_parameters.csv")
    rows = [
        RegressionRow(
            int(r["model"]), r["variable"], r["slope"], float(r["param"]),
            float(r["intercept"]), r["source"], r["mark"],
        )
        for r in csv.DictReader(text.read_text("utf-8").splitlines())
    ]  # fmt: skip
    chosen = tuple(r for r in rows if r.model == model)
    if not chosen:
        models = sorted({r.model for r in rows})
        raise InputError(f"no regression parameters for model {model}: shipped models {models}")
    return chosen


def time_frame(target_year: int, reference_year: int) -> str | None:
    """``short`` (≤ 4 years after the reference year), ``mid`` (≤ 15), ``long`` (≤ 30), or
    None for a target year before the reference year or more than 30 years after it."""
    years = target_year - reference_year
    if years < 0:
        return None
    return next((name for name, limit in _FRAMES if years <= limit), None)


@dataclass(frozen=True, slots=True)
class TargetScore:
    """The temperature score of one scope category (``s1s2`` or ``s3``).

    Attributes
    ----------
    scope_category
        ``s1s2`` or ``s3``.
    score_c
        [°C] The score.
    target_id
        Target that produced it (None for the fallback).
    time_frame
        ``short``, ``mid`` or ``long`` (None for the fallback without a target).
    arr
        [fraction / year] Annual reduction rate used (after coverage scaling).
    coverage
        [fraction] Coverage of the category's emissions; ``scaled`` whether ARR was scaled.
    regression
        The regression row used; None when the fallback applied.
    fallback, floored
        Whether the fallback score or the floor applied.
    reason, reason_zh
        One sentence on how the score was obtained.
    """

    scope_category: str
    score_c: float
    target_id: str | None
    time_frame: str | None
    arr: float | None
    coverage: float | None
    scaled: bool
    regression: RegressionRow | None
    fallback: bool
    floored: bool
    reason: str
    reason_zh: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _variable(target: Target) -> str | None:
    if target.kind is TargetKind.ABSOLUTE:
        return ABSOLUTE_VARIABLE
    if target.kind is TargetKind.INTENSITY and (
        (target.denominator or "").strip().lower() in _INTENSITY_DENOMINATORS
    ):
        return INTENSITY_VARIABLE
    return None


def _fallback(category: str, why: str, why_zh: str, fallback_c: float) -> TargetScore:
    return TargetScore(
        category, fallback_c, None, None, None, None, False, None, True, False,
        f"{why}: fallback score {fallback_c} °C (CDP-WWF method)",
        f"{why_zh}：采用默认评分 {fallback_c} °C（CDP-WWF 方法）",
    )  # fmt: skip


def _coverage(target: Target, category: str, scope3_by_category: Mapping[str, Any] | None) -> float:
    coverage = target.coverage
    named = target.scopes.scope3_categories
    if category == "s3" and named is not None and scope3_by_category:
        whole = sum(float(v or 0.0) for v in scope3_by_category.values())
        part = sum(float(scope3_by_category.get(str(c)) or 0.0) for c in named)
        coverage *= part / whole if whole > 0 else 0.0
    return coverage


def target_score(
    target: Target,
    scope_category: str,
    reference_year: int,
    *,
    floor_c: float = DEFAULT_FLOOR_C,
    fallback_c: float = FALLBACK_C,
    model: int = 4,
    scope3_by_category: Mapping[str, Any] | None = None,
) -> TargetScore:
    """Score one target for one scope category (``s1s2`` or ``s3``).

    Parameters
    ----------
    reference_year
        The year the score is computed for; it fixes the time frame.
    floor_c, fallback_c
        [°C] Floor of the regression score and the score without a valid target.
    scope3_by_category
        [t CO2e] When given, an S3 target naming categories covers their share of S3.
    """
    if scope_category not in ("s1s2", "s3"):
        raise InputError(f"scope_category must be 's1s2' or 's3', got {scope_category!r}")
    frame = time_frame(target.target_year, reference_year)
    variable = _variable(target)
    if frame is None or variable is None:
        why = (
            f"target {target.id} ends {target.target_year}, outside 0-30 years of {reference_year}"
            if frame is None
            else f"target {target.id} ({target.kind.value}, {target.denominator}) maps to no "
            "regression variable"
        )
        why_zh = (
            f"目标 {target.id} 的目标年 {target.target_year} 不在 {reference_year} 年后 0-30 年内"
            if frame is None
            else f"目标 {target.id}（{target.kind.value}）无对应回归变量"
        )
        return _fallback(scope_category, why, why_zh, fallback_c)
    row = next(
        (r for r in load_regression(model) if r.variable == variable and r.slope == SLOPES[frame]),
        None,
    )
    if row is None:
        return _fallback(
            scope_category,
            f"no shipped regression row for {variable}, {SLOPES[frame]} (target {target.id})",
            f"未附带 {variable}、{SLOPES[frame]} 的回归参数（目标 {target.id}）",
            fallback_c,
        )
    arr = annual_reduction_rate(target)
    coverage = _coverage(target, scope_category, scope3_by_category)
    minimum = S1S2_COVERAGE_MIN if scope_category == "s1s2" else S3_COVERAGE_MIN
    scaled = coverage < minimum
    if scaled:
        arr *= coverage
    raw = row.param * arr * 100.0 + row.intercept
    score = max(raw, floor_c)
    scaled_text = f", scaled by coverage {coverage:.3g}" if scaled else ""
    scaled_zh = f"，按覆盖率 {coverage:.3g} 折算" if scaled else ""
    return TargetScore(
        scope_category, score, target.id, frame, arr, coverage, scaled, row, False,
        raw < floor_c,
        f"target {target.id}: {row.param} × {arr * 100:.4g} %/yr + {row.intercept} = "
        f"{raw:.4g} °C (model {row.model}, {row.variable}, {row.slope}, {frame} time frame "
        f"from {reference_year}{scaled_text}; floor {floor_c} °C)",
        f"目标 {target.id}：{row.param} × {arr * 100:.4g} %/年 + {row.intercept} = "
        f"{raw:.4g} °C（模型 {row.model}，{row.variable}，{row.slope}，自 {reference_year} 年"
        f"起算的{_FRAME_ZH[frame]}{scaled_zh}；下限 {floor_c} °C）",
    )  # fmt: skip


_FRAME_ZH = {"short": "短期", "mid": "中期", "long": "长期"}


def _in_category(target: Target, category: str) -> bool:
    if target.kind is TargetKind.RENEWABLE_ELECTRICITY:
        return False
    scopes = set(target.scopes.scopes)
    return bool(scopes & {1, 2}) if category == "s1s2" else 3 in scopes


def score_category(
    targets: Sequence[Target],
    scope_category: str,
    reference_year: int,
    *,
    frame: str | None = "mid",
    floor_c: float = DEFAULT_FLOOR_C,
    fallback_c: float = FALLBACK_C,
    model: int = 4,
    scope3_by_category: Mapping[str, Any] | None = None,
) -> TargetScore:
    """The score of a scope category: of its target in ``frame`` (``short``, ``mid``,
    ``long``; None = any), or the fallback.

    When several targets qualify, the one covering most of the category wins, then the one
    with the lowest score (the finance tool keeps one target per company, category and time
    frame).
    """
    scores = [
        target_score(
            t, scope_category, reference_year, floor_c=floor_c, fallback_c=fallback_c,
            model=model, scope3_by_category=scope3_by_category,
        )
        for t in targets
        if _in_category(t, scope_category)
    ]  # fmt: skip
    valid = [s for s in scores if not s.fallback and (frame is None or s.time_frame == frame)]
    if not valid:
        label = "S1+S2" if scope_category == "s1s2" else "S3"
        where = f" in the {frame} time frame" if frame else ""
        where_zh = f"（{_FRAME_ZH[frame]}）" if frame else ""
        return _fallback(
            scope_category,
            f"no valid {label} target{where} from {reference_year}",
            f"自 {reference_year} 年起无有效的{label}目标{where_zh}",
            fallback_c,
        )
    return min(valid, key=lambda s: (-(s.coverage or 0.0), s.score_c))


@dataclass(frozen=True, slots=True)
class CompanyScore:
    """The company's temperature scores.

    ``s1s2`` and ``s3`` the category scores; ``s1s2s3_c`` [°C] the combined score;
    ``s3_share`` [fraction] S3 / (S1+S2+S3); ``method`` ``s1s2_only`` (S3 < 40 %) or
    ``emissions_weighted``.
    """

    reference_year: int
    time_frame: str | None
    s1s2: TargetScore
    s3: TargetScore
    s1s2s3_c: float
    s3_share: float
    method: str
    reason: str
    reason_zh: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def company_score(
    targets: Sequence[Target],
    s1s2_t_co2e: float,
    s3_t_co2e: float,
    reference_year: int,
    *,
    frame: str | None = "mid",
    floor_c: float = DEFAULT_FLOOR_C,
    fallback_c: float = FALLBACK_C,
    model: int = 4,
    scope3_by_category: Mapping[str, Any] | None = None,
) -> CompanyScore:
    """S1+S2, S3 and combined temperature scores of a target set.

    Parameters
    ----------
    s1s2_t_co2e, s3_t_co2e
        [t CO2e] The company's S1+S2 and S3 emissions (weights of the combined score).
    reference_year
        The year the score is computed for: the time frame of each target is counted from
        it (a 2030 target is "mid" for reference years 2015-2025).
    frame
        Time frame scored (default ``mid``, the finance tool's headline); None = any.
    """
    if s1s2_t_co2e < 0 or s3_t_co2e < 0 or s1s2_t_co2e + s3_t_co2e <= 0:
        raise InputError(
            "S1+S2 and S3 emissions must be >= 0 and not both 0, got "
            f"{s1s2_t_co2e} and {s3_t_co2e} t CO2e"
        )
    options: dict[str, Any] = {
        "frame": frame, "floor_c": floor_c, "fallback_c": fallback_c, "model": model,
        "scope3_by_category": scope3_by_category,
    }  # fmt: skip
    s12 = score_category(targets, "s1s2", reference_year, **options)
    s3 = score_category(targets, "s3", reference_year, **options)
    share = s3_t_co2e / (s1s2_t_co2e + s3_t_co2e)
    if share < S3_WEIGHT_TRIGGER:
        combined, method = s12.score_c, "s1s2_only"
        reason = f"S3 is {share:.1%} of S1+S2+S3 (< 40 %): the S1+S2 score counts"
        reason_zh = f"范围三占范围一二三的 {share:.1%}（< 40%）：采用范围一二评分"
    else:
        combined = (s12.score_c * s1s2_t_co2e + s3.score_c * s3_t_co2e) / (s1s2_t_co2e + s3_t_co2e)
        method = "emissions_weighted"
        reason = (
            f"S3 is {share:.1%} of S1+S2+S3 (>= 40 %): ({s12.score_c:.4g} × {s1s2_t_co2e:,.0f} + "
            f"{s3.score_c:.4g} × {s3_t_co2e:,.0f}) / {s1s2_t_co2e + s3_t_co2e:,.0f} = "
            f"{combined:.4g} °C"
        )
        reason_zh = f"范围三占范围一二三的 {share:.1%}（≥ 40%）：按排放量加权 = {combined:.4g} °C"
    return CompanyScore(reference_year, frame, s12, s3, combined, share, method, reason, reason_zh)
