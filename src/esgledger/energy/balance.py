"""Balance checks of a site's meter tree over a period, and the quality score of its KPIs (pure).

计量平衡校验（子表合计与父表、UPS 效率、PUE ≥ 1、各角色数据覆盖率）及指标数据质量评分。

:func:`check_balance` takes the totals of one site's meters over a period
(:class:`MeterTotal`) and returns a :class:`BalanceReport`:

* children vs parent: the sum of a meter's electrical children within ``tolerance`` (default
  3 %, domain-modules.md §1.2: CT accuracy plus unmetered losses, 2–5 %) of the parent's
  supply (the parent plus on-site RE and generator meters connected under it);
  more than the parent is an error, less a warning (an unmetered load);
* UPS efficiency ``ups_output / ups_input`` within the bounds of its load fraction
  (``ups_efficiency_bounds.csv``, data with source and confidence mark); without the UPS
  rating the ``any`` envelope applies;
* PUE ≥ 1: a better-than-perfect PUE is refused as a metering fault (The Green Grid);
* coverage of each role (the energy-weighted share of expected intervals read) at least
  ``min_coverage``.

The quality score of a KPI (:meth:`BalanceReport.quality`) is the lowest coverage of the roles
it reads, times ``(1 − 0.5)`` for each failed error check and ``(1 − 0.2)`` for each failed
warning check touching one of those roles (``docs/energy/kpis.md``, "Quality score").
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from esgledger.energy.findings import Finding
from esgledger.energy.kpi import KPI_NAMES, KPI_ROLES, KpiQuality, boundary_energy
from esgledger.energy.roles import IT_ROLE_BY_CATEGORY, top_meters
from esgledger.i18n import Text

__all__ = [
    "DEFAULT_MIN_COVERAGE",
    "DEFAULT_TOLERANCE",
    "PENALTY",
    "BalanceReport",
    "MeterTotal",
    "UpsBound",
    "check_balance",
    "role_totals",
    "ups_bounds",
]

#: Relative tolerance of children vs parent (domain-modules.md §1.2: 2–5 %).
DEFAULT_TOLERANCE = 0.03
#: Least share of expected intervals read for a role to count as covered.
DEFAULT_MIN_COVERAGE = 0.95
#: Score factor lost per failed check touching a KPI's roles, by severity.
PENALTY: Mapping[str, float] = {"error": 0.5, "warning": 0.2, "info": 0.0}

# Roles that are not electrical children of their parent (a different commodity or a
# source feeding the boundary), left out of the children-vs-parent sum.
_NOT_DOWNSTREAM = frozenset({"water", "fuel", "heat_export", "onsite_re"})
# Children that feed their parent's board rather than draw from it.
_SUPPLIES = frozenset({"onsite_re", "fuel"})


@dataclass(frozen=True)
class MeterTotal:
    """One meter's total over the period: quantity in its canonical unit (kWh, or L for
    water), ``coverage`` 0..1 of its expected intervals (None = unknown)."""

    meter: str
    role: str
    parent: str | None
    quantity: float | None
    coverage: float | None = 1.0


@dataclass(frozen=True)
class UpsBound:
    """Efficiency bounds of a static UPS in one load band (``ups_efficiency_bounds.csv``)."""

    band: str
    load_from: float | None
    load_to: float | None
    min_efficiency: float
    max_efficiency: float
    confidence: str
    source: str


@cache
def ups_bounds() -> tuple[UpsBound, ...]:
    """The shipped UPS efficiency bounds."""
    text = resources.files("esgledger.energy").joinpath("ups_efficiency_bounds.csv")
    rows = list(csv.DictReader(text.read_text("utf-8").splitlines()))
    return tuple(
        UpsBound(
            band=r["band"],
            load_from=float(r["load_from"]) if r["load_from"] else None,
            load_to=float(r["load_to"]) if r["load_to"] else None,
            min_efficiency=float(r["min_efficiency"]),
            max_efficiency=float(r["max_efficiency"]),
            confidence=r["confidence"],
            source=r["source"],
        )
        for r in rows
    )


def _bound_for(load: float | None, bounds: Sequence[UpsBound]) -> UpsBound:
    if load is not None:
        for b in bounds:
            if (
                b.load_from is not None
                and b.load_to is not None
                and b.load_from <= load < b.load_to
            ):
                return b
    for b in bounds:
        if b.band == "any":
            return b
    return bounds[0]


@dataclass(frozen=True)
class BalanceReport:
    """Checks of one site over one period: failed checks as findings, coverage per role."""

    findings: tuple[Finding, ...]
    coverage: Mapping[str, float | None]
    checks_run: int

    def quality(self, role_energy: Mapping[str, float] | None = None) -> KpiQuality:
        """The score 0..1 of each KPI (see the module docstring) and the failed checks."""
        scores: dict[str, float | None] = {}
        it_roles = set(IT_ROLE_BY_CATEGORY.values())
        for kpi in KPI_NAMES:
            roles = set(KPI_ROLES[kpi]) | it_roles
            present = [r for r in roles if r in self.coverage]
            if not any(r in it_roles for r in present):
                scores[kpi] = None
                continue
            covs = [self.coverage[r] for r in present]
            score = min((c for c in covs if c is not None), default=0.0)
            for f in self.findings:
                touched = set(f.data.get("roles", ()))
                if touched & roles:
                    score *= 1.0 - PENALTY[f.severity]
            scores[kpi] = round(score, 4)
        return KpiQuality(scores=scores, findings=self.findings)


def _text(en: str, zh: str) -> Text:
    return Text(en, zh)


def role_totals(meters: Sequence[MeterTotal]) -> dict[str, float]:
    """Energy per role [kWh; water L]: the sum of the top-most meters of each role (a meter
    below another meter of its own role is a sub-meter and not added again). A role whose
    top-most meters have an unknown quantity is left out (not metered for the period)."""
    totals: dict[str, float] = {}
    for role, tops in top_meters(meters).items():
        quantities = [m.quantity for m in tops]
        if all(q is not None for q in quantities):
            totals[role] = sum(q for q in quantities if q is not None)
    return totals


def check_balance(
    meters: Sequence[MeterTotal],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    min_coverage: float = DEFAULT_MIN_COVERAGE,
    hours: float | None = None,
    ups_rated_kw: Mapping[str, float] | None = None,
    bounds: Sequence[UpsBound] | None = None,
) -> BalanceReport:
    """Run the balance checks on one site's meter totals over one period.

    ``hours`` (the period's length) and ``ups_rated_kw`` (rating per ``ups_output`` meter)
    give a UPS's load fraction; without them the ``any`` band of ``bounds`` (default: the
    shipped :func:`ups_bounds`) applies.
    """
    bounds = tuple(bounds) if bounds is not None else ups_bounds()
    findings: list[Finding] = []
    checks = 0
    by_id = {m.meter: m for m in meters}
    children: dict[str, list[MeterTotal]] = defaultdict(list)
    for m in meters:
        if m.parent and m.parent in by_id:
            children[m.parent].append(m)

    for parent_id, all_kids in sorted(children.items()):
        parent = by_id[parent_id]
        kids = [k for k in all_kids if k.role not in _NOT_DOWNSTREAM]
        # on-site generation and fuel-fed generation connected under a board add to its supply
        sources = [k for k in all_kids if k.role in _SUPPLIES]
        if parent.role in ("ups_input", "water") or not kids or parent.quantity is None:
            continue
        if any(k.quantity is None for k in (*kids, *sources)):
            continue
        supply = parent.quantity + sum(k.quantity or 0.0 for k in sources)
        if supply <= 0:
            continue
        checks += 1
        total = sum(k.quantity or 0.0 for k in kids)
        gap = (total - supply) / supply
        if abs(gap) > tolerance:
            over = gap > 0
            roles = sorted({parent.role, *(k.role for k in kids)})
            findings.append(
                Finding(
                    code="energy.balance.children_exceed_parent"
                    if over
                    else "energy.balance.children_below_parent",
                    text=_text(
                        f"Meters under {parent.meter} sum to {total:,.0f} kWh, {gap:+.1%} "
                        f"against the parent's supply {supply:,.0f} kWh (tolerance "
                        f"±{tolerance:.0%})"
                        + (
                            ": more than the parent is a metering fault."
                            if over
                            else ": an unmetered load or a missing child meter."
                        ),
                        f"{parent.meter} 下级电表合计 {total:,.0f} kWh，与上级供电 "
                        f"{supply:,.0f} kWh 相差 {gap:+.1%}（容差 ±{tolerance:.0%}）"
                        + ("：超过上级，属计量故障。" if over else "：存在未计量负荷或缺少子表。"),
                    ),
                    data={
                        "parent": parent.meter,
                        "children": sorted(k.meter for k in kids),
                        "parent_kwh": parent.quantity,
                        "supply_kwh": supply,
                        "children_kwh": total,
                        "gap": gap,
                        "tolerance": tolerance,
                        "roles": roles,
                    },
                    severity="error" if over else "warning",
                )
            )

    totals = role_totals(meters)
    ups_pairs: list[tuple[str, float, float]] = []
    for m in meters:
        up = by_id.get(m.parent) if m.parent else None
        paired = m.role == "ups_output" and up is not None and up.role == "ups_input"
        if paired and up is not None and m.quantity is not None and up.quantity:
            ups_pairs.append((m.meter, up.quantity, m.quantity))
    if not ups_pairs and "ups_input" in totals and "ups_output" in totals and totals["ups_input"]:
        ups_pairs.append(("(site)", totals["ups_input"], totals["ups_output"]))
    for meter, ups_in, ups_out in ups_pairs:
        checks += 1
        efficiency = ups_out / ups_in
        rated = (ups_rated_kw or {}).get(meter)
        load = ups_out / hours / rated if rated and hours else None
        bound = _bound_for(load, bounds)
        if not bound.min_efficiency <= efficiency <= bound.max_efficiency:
            findings.append(
                Finding(
                    code="energy.balance.ups_efficiency",
                    text=_text(
                        f"UPS {meter}: efficiency {efficiency:.1%} outside "
                        f"{bound.min_efficiency:.1%}–{bound.max_efficiency:.1%} for load band "
                        f"'{bound.band}' {bound.confidence}.",
                        f"UPS {meter}：效率 {efficiency:.1%}，超出负载区间“{bound.band}”的 "
                        f"{bound.min_efficiency:.1%}–{bound.max_efficiency:.1%} "
                        f"{bound.confidence}。",
                    ),
                    data={
                        "meter": meter,
                        "efficiency": efficiency,
                        "load_fraction": load,
                        "band": bound.band,
                        "min": bound.min_efficiency,
                        "max": bound.max_efficiency,
                        "roles": ["ups_input", "ups_output"],
                    },
                    severity="error" if efficiency > 1 else "warning",
                )
            )

    e_it, level, e_dc = boundary_energy(totals)
    if e_it is not None and e_dc is not None and e_it > 0:
        checks += 1
        pue = e_dc / e_it
        if pue < 1.0:
            it_role = IT_ROLE_BY_CATEGORY[level] if level else "it"
            findings.append(
                Finding(
                    code="energy.balance.pue_below_one",
                    text=_text(
                        f"PUE {pue:.3f} < 1 (better than perfect): the boundary meters read less "
                        f"than the IT meters ({it_role}); a metering fault.",
                        f"PUE {pue:.3f} < 1（优于完美）：边界电表读数小于 IT 电表（{it_role}），"
                        "属计量故障。",
                    ),
                    data={
                        "pue": pue,
                        "e_dc_kwh": e_dc,
                        "e_it_kwh": e_it,
                        "roles": ["incomer", "non_dc", "fuel", "onsite_re", it_role],
                    },
                    severity="error",
                )
            )

    coverage = _role_coverage(meters)
    for role, cov in sorted(coverage.items()):
        checks += 1
        if cov is None or cov < min_coverage:
            findings.append(
                Finding(
                    code="energy.balance.low_coverage",
                    text=_text(
                        f"Role {role}: "
                        + ("coverage unknown" if cov is None else f"{cov:.1%} of intervals read")
                        + f" (at least {min_coverage:.0%} expected).",
                        f"角色 {role}："
                        + ("覆盖率未知" if cov is None else f"已读取 {cov:.1%} 的时段")
                        + f"（要求至少 {min_coverage:.0%}）。",
                    ),
                    data={"role": role, "coverage": cov, "min": min_coverage, "roles": [role]},
                    severity="warning",
                )
            )
    return BalanceReport(findings=tuple(findings), coverage=coverage, checks_run=checks)


def _role_coverage(meters: Sequence[MeterTotal]) -> dict[str, float | None]:
    """Energy-weighted coverage per role (equal weights where quantities are unknown)."""
    grouped: dict[str, list[MeterTotal]] = defaultdict(list)
    for m in meters:
        grouped[m.role].append(m)
    out: dict[str, float | None] = {}
    for role, ms in grouped.items():
        if any(m.coverage is None for m in ms):
            out[role] = None
            continue
        weights = [abs(m.quantity) if m.quantity else 0.0 for m in ms]
        total = sum(weights)
        if total == 0:
            out[role] = sum(m.coverage or 0.0 for m in ms) / len(ms)
        else:
            out[role] = (
                sum(w * (m.coverage or 0.0) for w, m in zip(weights, ms, strict=True)) / total
            )
    return out


def summary(report: BalanceReport) -> dict[str, Any]:
    """JSON-native summary of a report."""
    return {
        "checks_run": report.checks_run,
        "coverage": dict(report.coverage),
        "findings": [f.to_json() for f in report.findings],
    }
