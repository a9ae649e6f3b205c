"""Targets: reduction targets, SBTi checks, temperature scores and progress.

减排目标：目标模型、SBTi 校验、温度评分与进展跟踪。

* :mod:`esgledger.targets.model` — :class:`Target`, :class:`ScopeSelection`, the linear
  target, annual reduction rate and pathway, :func:`covered_emissions`;
* :mod:`esgledger.targets.sbti` — one pure function per SBTi criterion and
  :func:`check_target_set`;
* :mod:`esgledger.targets.temperature` — the CDP-WWF temperature score;
* :mod:`esgledger.targets.progress` — actual vs pathway, projection, warnings;
* :mod:`esgledger.targets.actuals` — each year's inventory (latest run, else published);
* :mod:`esgledger.targets.planner` — abatement measures, scenario, MACC, residual gap;
* :mod:`esgledger.targets.offsets` — credit register, retirements, claims check;
* :mod:`esgledger.targets.service` — all of it on a workspace (CLI, demo, report).

See ``docs/methodology/targets.md`` and ``docs/methodology/planner-and-offsets.md``.
"""

from __future__ import annotations

from esgledger.targets.actuals import YearInventory, history_inventories, yearly_inventories
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
from esgledger.targets.offsets import (
    Claim,
    ClaimBoundary,
    ClaimKind,
    ClaimResult,
    ClaimRules,
    Credit,
    CreditKind,
    EmissionTotals,
    Permanence,
    Purpose,
    Register,
    Retirement,
    claims_check,
    credits_from_rows,
    retirements_from_rows,
)
from esgledger.targets.planner import (
    Lever,
    LineSelector,
    Measure,
    ResidualGap,
    addressed_baseline_t,
    cap_measures,
    macc,
    measures_from_rows,
    residual_gap,
    scenario,
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
    "Claim",
    "ClaimBoundary",
    "ClaimKind",
    "ClaimResult",
    "ClaimRules",
    "CompanyScore",
    "CoveredEmissions",
    "Credit",
    "CreditKind",
    "EmissionTotals",
    "Horizon",
    "Lever",
    "LineSelector",
    "Measure",
    "Permanence",
    "ProgressYear",
    "Purpose",
    "Register",
    "ResidualGap",
    "Retirement",
    "Scope2Method",
    "ScopeSelection",
    "Target",
    "TargetKind",
    "TargetProgress",
    "TargetScore",
    "TargetWarning",
    "YearInventory",
    "addressed_baseline_t",
    "annual_reduction_rate",
    "cap_measures",
    "check_target_set",
    "claims_check",
    "company_score",
    "covered_emissions",
    "credits_from_rows",
    "history_inventories",
    "load_criteria",
    "macc",
    "measures_from_rows",
    "parse_target",
    "pathway",
    "progress",
    "recalculation_warnings",
    "residual_gap",
    "retirements_from_rows",
    "scenario",
    "target_emissions",
    "target_score",
    "yearly_inventories",
]
