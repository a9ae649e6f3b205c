"""ASHRAE Guideline 14-2014 goodness-of-fit statistics and their pass/fail verdict.

Conventions, fixed here and written into every JSON output as ``conventions``:

- residual = measured − predicted, so a positive NMBE means the model *under*-predicts;
- NMBE = 100 · Σ(yᵢ − ŷᵢ) / ((n − p) · ȳ) %;
- CV(RMSE) = 100 · √(Σ(yᵢ − ŷᵢ)² / (n − p)) / ȳ %;
- degrees of freedom n − p, with p the number of model parameters *including change points
  or balance points* (a 3P change-point model has p = 3);
- R² = 1 − SS_res / SS_tot (not adjusted).

A statistic that cannot be computed (ȳ = 0, n ≤ p, SS_tot = 0) is ``None`` with a finding,
never clamped. The acceptance thresholds are rows of ``schema/energy_g14_thresholds.csv``
with their clause and a confidence mark (V verified against a quoted passage, R reported by a
secondary source, A our assumption).
"""

from __future__ import annotations

import csv
import functools
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

import numpy as np

from esgledger.energy.findings import Finding
from esgledger.errors import InputError
from esgledger.i18n import Text

__all__ = [
    "CONVENTIONS",
    "G14Check",
    "G14Metrics",
    "G14Threshold",
    "G14Verdict",
    "g14_metrics",
    "g14_thresholds",
    "g14_verdict",
]

#: The sign and degrees-of-freedom conventions, as every JSON output records them.
CONVENTIONS: Mapping[str, str] = {
    "residual": "measured - predicted",
    "nmbe": "100 * sum(measured - predicted) / ((n - p) * mean(measured))",
    "cv_rmse": "100 * sqrt(sum((measured - predicted)^2) / (n - p)) / mean(measured)",
    "degrees_of_freedom": "n - p (p counts change points and balance points)",
    "r_squared": "1 - SS_res / SS_tot (unadjusted)",
}

Granularity = Literal["hourly", "daily", "monthly"]
Application = Literal["calibrated_simulation", "regression_baseline"]
THRESHOLDS_FILE = "energy_g14_thresholds.csv"


@dataclass(frozen=True)
class G14Metrics:
    """ASHRAE Guideline 14-2014 statistics of a model against measured data.

    ``cv_rmse_pct`` and ``nmbe_pct`` in percent of the mean measured value; NMBE sign is
    measured − predicted (positive: the model under-predicts); both divide by n − p.
    ``rmse`` and ``mean_measured`` in ``unit`` per data point (e.g. kWh per day).
    """

    n: int
    p: int
    granularity: Granularity
    unit: str
    mean_measured: float | None
    rmse: float | None
    cv_rmse_pct: float | None
    nmbe_pct: float | None
    r_squared: float | None
    findings: tuple[Finding, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict, with the ``conventions``."""
        return {
            "n": self.n,
            "p": self.p,
            "granularity": self.granularity,
            "unit": self.unit,
            "mean_measured": self.mean_measured,
            "rmse": self.rmse,
            "cv_rmse_pct": self.cv_rmse_pct,
            "nmbe_pct": self.nmbe_pct,
            "r_squared": self.r_squared,
            "findings": [f.to_json() for f in self.findings],
            "conventions": dict(CONVENTIONS),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> G14Metrics:
        """The metrics :meth:`to_json` wrote."""
        return cls(
            n=int(raw["n"]),
            p=int(raw["p"]),
            granularity=raw["granularity"],
            unit=str(raw["unit"]),
            mean_measured=_opt(raw["mean_measured"]),
            rmse=_opt(raw["rmse"]),
            cv_rmse_pct=_opt(raw["cv_rmse_pct"]),
            nmbe_pct=_opt(raw["nmbe_pct"]),
            r_squared=_opt(raw["r_squared"]),
            findings=tuple(Finding.from_json(f) for f in raw.get("findings", ())),
        )


def _opt(value: Any) -> float | None:
    return None if value is None else float(value)


def g14_metrics(
    measured: Sequence[float] | np.ndarray,
    predicted: Sequence[float] | np.ndarray,
    p: int,
    *,
    granularity: Granularity,
    unit: str = "kWh",
) -> G14Metrics:
    """CV(RMSE), NMBE and R² of ``predicted`` against ``measured`` for a model of ``p``
    parameters (conventions in the module docstring). Pairs with a missing value on either
    side are left out, and ``n`` counts the pairs used."""
    y = np.asarray(measured, dtype=float)
    yhat = np.asarray(predicted, dtype=float)
    if y.shape != yhat.shape:
        raise InputError(f"measured has {y.size} values, predicted {yhat.size}")
    if p < 0:
        raise InputError(f"p must be 0 or more, got {p}")
    keep = np.isfinite(y) & np.isfinite(yhat)
    y, yhat = y[keep], yhat[keep]
    n = int(y.size)
    findings: list[Finding] = []
    mean = float(y.mean()) if n else None
    dof = n - p
    residual = y - yhat
    rmse: float | None = None
    cv: float | None = None
    nmbe: float | None = None
    r2: float | None = None
    if dof <= 0:
        findings.append(
            Finding(
                code="energy.g14.no_degrees_of_freedom",
                text=Text(
                    f"CV(RMSE) and NMBE cannot be computed: {n} points for {p} parameters "
                    "(n − p must be positive).",
                    f"无法计算CV(RMSE)和NMBE：{n}个数据点、{p}个参数（n − p须为正）。",
                ),
                data={"n": n, "p": p},
                severity="error",
            )
        )
    else:
        rmse = math.sqrt(float(np.sum(residual**2)) / dof)
        if mean is None or mean == 0.0:
            findings.append(
                Finding(
                    code="energy.g14.zero_mean",
                    text=Text(
                        "CV(RMSE) and NMBE cannot be computed: the mean measured value is 0.",
                        "无法计算CV(RMSE)和NMBE：实测值均值为0。",
                    ),
                    data={"n": n, "mean_measured": mean},
                    severity="error",
                )
            )
        else:
            cv = 100.0 * rmse / mean
            nmbe = 100.0 * float(np.sum(residual)) / (dof * mean)
    if n:
        ss_tot = float(np.sum((y - y.mean()) ** 2))
        if ss_tot > 0.0:
            r2 = 1.0 - float(np.sum(residual**2)) / ss_tot
        else:
            findings.append(
                Finding(
                    code="energy.g14.constant_measured",
                    text=Text(
                        "R² cannot be computed: every measured value is the same.",
                        "无法计算R²：所有实测值均相同。",
                    ),
                    data={"n": n, "value": mean},
                    severity="info",
                )
            )
    return G14Metrics(
        n=n,
        p=p,
        granularity=granularity,
        unit=unit,
        mean_measured=mean,
        rmse=rmse,
        cv_rmse_pct=cv,
        nmbe_pct=nmbe,
        r_squared=r2,
        findings=tuple(findings),
    )


@dataclass(frozen=True)
class G14Threshold:
    """One row of ``schema/energy_g14_thresholds.csv``."""

    code: str
    application: Application
    granularity: str
    post_months_min: int | None
    post_months_max: int | None
    cv_rmse_max_pct: float | None
    nmbe_max_abs_pct: float | None
    fsu_max_pct: float | None
    fsu_confidence_pct: float | None
    source: str
    clause: str
    confidence: str


def _num(text: str) -> float | None:
    return float(text) if text.strip() else None


def _int(text: str) -> int | None:
    return int(text) if text.strip() else None


@functools.cache
def g14_thresholds() -> tuple[G14Threshold, ...]:
    """The shipped acceptance thresholds."""
    raw = resources.files("esgledger.schema").joinpath(THRESHOLDS_FILE).read_text("utf-8")
    return tuple(
        G14Threshold(
            code=row["code"],
            application=row["application"],  # type: ignore[arg-type]
            granularity=row["granularity"],
            post_months_min=_int(row["post_months_min"]),
            post_months_max=_int(row["post_months_max"]),
            cv_rmse_max_pct=_num(row["cv_rmse_max_pct"]),
            nmbe_max_abs_pct=_num(row["nmbe_max_abs_pct"]),
            fsu_max_pct=_num(row["fsu_max_pct"]),
            fsu_confidence_pct=_num(row["fsu_confidence_pct"]),
            source=row["source"],
            clause=row["clause"],
            confidence=row["confidence"],
        )
        for row in csv.DictReader(io.StringIO(raw))
    )


@dataclass(frozen=True)
class G14Check:
    """One statistic against its limit; ``passed`` is None when the statistic is None."""

    statistic: str
    value: float | None
    limit: float
    passed: bool | None

    def to_json(self) -> dict[str, Any]:
        return {
            "statistic": self.statistic,
            "value": self.value,
            "limit": self.limit,
            "passed": self.passed,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> G14Check:
        return cls(raw["statistic"], _opt(raw["value"]), float(raw["limit"]), raw["passed"])


@dataclass(frozen=True)
class G14Verdict:
    """Pass/fail of a :class:`G14Metrics` against one threshold row. ``passed`` is None when
    a statistic it needs could not be computed or no threshold applies."""

    application: Application
    threshold_code: str | None
    source: str
    clause: str
    confidence: str
    checks: tuple[G14Check, ...]
    passed: bool | None
    findings: tuple[Finding, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "application": self.application,
            "threshold_code": self.threshold_code,
            "source": self.source,
            "clause": self.clause,
            "confidence": self.confidence,
            "checks": [c.to_json() for c in self.checks],
            "passed": self.passed,
            "findings": [f.to_json() for f in self.findings],
            "conventions": dict(CONVENTIONS),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> G14Verdict:
        return cls(
            application=raw["application"],
            threshold_code=raw["threshold_code"],
            source=raw["source"],
            clause=raw["clause"],
            confidence=raw["confidence"],
            checks=tuple(G14Check.from_json(c) for c in raw["checks"]),
            passed=raw["passed"],
            findings=tuple(Finding.from_json(f) for f in raw.get("findings", ())),
        )


def _pick(
    application: Application, granularity: str, post_months: int | None
) -> G14Threshold | None:
    for row in g14_thresholds():
        if row.application != application:
            continue
        if application == "calibrated_simulation":
            if row.granularity == granularity:
                return row
            continue
        months = 0 if post_months is None else post_months
        low = row.post_months_min if row.post_months_min is not None else 0
        if months >= low and (row.post_months_max is None or months <= row.post_months_max):
            return row
    return None


def g14_verdict(
    metrics: G14Metrics,
    *,
    application: Application = "regression_baseline",
    post_retrofit_months: int | None = None,
) -> G14Verdict:
    """Pass/fail of ``metrics`` against the Guideline 14 threshold for ``application``.

    ``regression_baseline``: the CV(RMSE) limit by months of post-retrofit data (20 % below
    12 months, 25 % for 12 to 60, 30 % beyond; [R]); ``None`` months takes the strictest tier
    and says so in a finding. ``calibrated_simulation``: NMBE and CV(RMSE) limits for monthly
    or hourly data ([V]); daily data has no limit there, so the verdict is None.
    """
    findings: list[Finding] = []
    if application == "regression_baseline" and post_retrofit_months is None:
        findings.append(
            Finding(
                code="energy.g14.post_months_assumed",
                text=Text(
                    "Months of post-retrofit data not given: the strictest tier (under 12 "
                    "months, CV(RMSE) ≤ 20 %) applies.",
                    "未给出改造后数据月数：采用最严格档（少于12个月，CV(RMSE) ≤ 20%）。",
                ),
                data={"post_retrofit_months": None},
                severity="info",
            )
        )
    row = _pick(application, metrics.granularity, post_retrofit_months)
    if row is None:
        findings.append(
            Finding(
                code="energy.g14.no_threshold",
                text=Text(
                    f"Guideline 14 sets no {application} limit for {metrics.granularity} data.",
                    f"ASHRAE Guideline 14未对{metrics.granularity}数据规定{application}限值。",
                ),
                data={"application": application, "granularity": metrics.granularity},
                severity="info",
            )
        )
        return G14Verdict(application, None, "", "", "", (), None, tuple(findings))
    checks: list[G14Check] = []
    if row.cv_rmse_max_pct is not None:
        cv = metrics.cv_rmse_pct
        checks.append(
            G14Check(
                "cv_rmse_pct",
                cv,
                row.cv_rmse_max_pct,
                None if cv is None else cv <= row.cv_rmse_max_pct,
            )
        )
    if row.nmbe_max_abs_pct is not None:
        nmbe = metrics.nmbe_pct
        checks.append(
            G14Check(
                "nmbe_abs_pct",
                nmbe,
                row.nmbe_max_abs_pct,
                None if nmbe is None else abs(nmbe) <= row.nmbe_max_abs_pct,
            )
        )
    results = [c.passed for c in checks]
    passed: bool | None
    if any(r is False for r in results):
        passed = False
    elif any(r is None for r in results):
        passed = None
    else:
        passed = True
    return G14Verdict(
        application=application,
        threshold_code=row.code,
        source=row.source,
        clause=row.clause,
        confidence=row.confidence,
        checks=tuple(checks),
        passed=passed,
        findings=tuple(findings),
    )
