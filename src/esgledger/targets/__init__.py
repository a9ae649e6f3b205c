"""Targets: reduction targets, SBTi checks, temperature scores and progress.

减排目标：目标模型、SBTi 校验、温度评分与进展跟踪。

* :mod:`esgledger.targets.model` — :class:`Target`, :class:`ScopeSelection`, the linear
  target, annual reduction rate and pathway, :func:`covered_emissions`;
* :mod:`esgledger.targets.sbti` — one pure function per SBTi criterion and
  :func:`check_target_set`;
* :mod:`esgledger.targets.temperature` — the CDP-WWF temperature score;
* :mod:`esgledger.targets.progress` — actual vs pathway, projection, warnings.

The planner and the offsets register live in :mod:`esgledger.targets.planner` and
:mod:`esgledger.targets.offsets`. See ``docs/methodology/targets.md``.
"""

from __future__ import annotations

from esgledger.targets.model import (
    Ambition,
    CoveredEmissions,
    Horizon,
    Scope2Method,
    ScopeSelection,
    Target,
    TargetKind,
    annual_reduction_rate,
    covered_emissions,
    parse_target,
    pathway,
    target_emissions,
)
from esgledger.targets.progress import (
    ProgressYear,
    TargetProgress,
    TargetWarning,
    progress,
    recalculation_warnings,
)
from esgledger.targets.sbti import (
    DEFAULT_CRITERIA_VERSION,
    CheckResult,
    CheckStatus,
    check_target_set,
    load_criteria,
)
from esgledger.targets.temperature import (
    CompanyScore,
    TargetScore,
    company_score,
    target_score,
)

__all__ = [
    "DEFAULT_CRITERIA_VERSION",
    "Ambition",
    "CheckResult",
    "CheckStatus",
    "CompanyScore",
    "CoveredEmissions",
    "Horizon",
    "ProgressYear",
    "Scope2Method",
    "ScopeSelection",
    "Target",
    "TargetKind",
    "TargetProgress",
    "TargetScore",
    "TargetWarning",
    "annual_reduction_rate",
    "check_target_set",
    "company_score",
    "covered_emissions",
    "load_criteria",
    "parse_target",
    "pathway",
    "progress",
    "recalculation_warnings",
    "target_emissions",
    "target_score",
]
