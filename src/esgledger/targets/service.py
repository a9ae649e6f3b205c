"""Targets in the workspace: status, plan and claims from what is stored.

工作区中的目标：根据已存储数据给出目标状态、减排规划与声明核查。

Thin orchestration over the pure functions of :mod:`esgledger.targets` for the CLI
(``esgledger targets``, ``plan``, ``offsets``), the demo and the report:

* :func:`target_status` — the current targets with their base-year emissions, the SBTi
  checks, the temperature score, progress per target and warnings;
* :func:`plan` — the abatement measures on a run's line items: scenario to the target
  year, MACC and the residual gap against the chosen target's pathway;
* :func:`claims` — a carbon-neutral or net-zero claim of one year checked against that
  year's inventory, the base year and the credit register;
* :func:`add_target`, :func:`stored_targets`, :func:`stored_measures`,
  :func:`credit_register` — reading and writing what the importers store.

Every result has ``as_dict()`` (JSON-serialisable, units in the keys or a ``unit`` field) and
names its sources: ``run <id>`` for a year with an inventory run, ``published: …`` for a year
taken from imported published figures (:func:`esgledger.targets.actuals.yearly_inventories`).
The method is described in ``docs/methodology/targets.md`` ("In the workspace / CLI").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from esgledger import audit
from esgledger.access.principal import Principal
from esgledger.contract import jsonable
from esgledger.errors import InputError, WorkspaceError
from esgledger.reasons import Reason, reason, templates
from esgledger.targets.actuals import YearInventory, yearly_inventories
from esgledger.targets.model import (
    Horizon,
    Target,
    TargetKind,
    covered_emissions,
    denominator_unit_expression,
    parse_target,
    pathway,
)
from esgledger.targets.offsets import (
    Claim,
    ClaimBoundary,
    ClaimKind,
    ClaimResult,
    EmissionTotals,
    Register,
    claims_check,
)
from esgledger.targets.planner import Measure, ResidualGap, macc, measures_from_rows, scenario
from esgledger.targets.progress import TargetProgress, TargetWarning, progress
from esgledger.targets.progress import recalculation_warnings as _recalculation_warnings
from esgledger.targets.sbti import CheckResult, check_target_set
from esgledger.targets.temperature import CompanyScore, company_score

if TYPE_CHECKING:
    from esgledger.inventory.base_year import ChangeAssessment
    from esgledger.inventory.runs import Run
    from esgledger.store import Workspace

__all__ = [
    "BaseEmissions",
    "ClaimsOutcome",
    "CreditRegisterView",
    "PlanResult",
    "StoredTarget",
    "TargetState",
    "TargetStatus",
    "add_target",
    "claims",
    "credit_register",
    "jsonable",
    "plan",
    "plan_view",
    "rule_label",
    "status_view",
    "stored_measures",
    "stored_targets",
    "target_status",
]

_LINE_COLUMNS = (
    "scope",
    "scope3_category",
    "activity",
    "entity",
    "site",
    "co2e_kg_consolidated",
    "excluded",
)


# ---- stored targets and measures ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredTarget:
    """One stored revision of a target (``created_at`` in UTC)."""

    target: Target
    revision: int
    status: str
    created_at: datetime
    reason: str | None
    batch_id: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.target.id,
            "revision": self.revision,
            "status": self.status,
            "created_at": _utc(self.created_at).isoformat(),
            "reason": self.reason,
            "batch_id": self.batch_id,
            "definition": self.target.model_dump(mode="json"),
        }


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def stored_targets(workspace: Workspace, *, history: bool = False) -> list[StoredTarget]:
    """The current revision of each active target (every revision with ``history``)."""
    from esgledger.store.repository_targets import load_targets

    with workspace.session() as session:
        rows = load_targets(session, history=history, withdrawn=history)
    return [
        StoredTarget(
            Target.model_validate(row["definition"]),
            int(row["revision"]),
            str(row["status"]),
            row["created_at"],
            row["reason"],
            row["batch_id"],
        )
        for row in rows
    ]


def add_target(
    workspace: Workspace,
    data: Mapping[str, Any],
    *,
    reason: str | None = None,
    principal: Principal | None = None,
) -> tuple[StoredTarget, bool]:
    """Validate ``data`` (a flat target record, as a row of a targets file) and store it as
    the target's next revision when it differs from the current one, under the workspace's
    write lock, with the audit event ``target.add`` of ``principal`` (None:
    :meth:`Principal.local`) when a revision was written.

    Returns the stored revision and whether a new revision was written.

    Raises
    ------
    InputError
        One issue per bad field (:func:`esgledger.targets.model.parse_target`).
    """
    from esgledger.store.repository_targets import save_target

    target = parse_target(data, file="command line")
    definition = target.model_dump(mode="json")
    with workspace.write_lock() as session:
        revision, created = save_target(session, target.id, definition, reason=reason)
        if created:
            audit.record(
                session,
                principal if principal is not None else Principal.local(),
                "target.add",
                "target",
                target.id,
                after=audit.digest(definition),
                detail={"revision": revision, "reason": reason},
            )
    stored = next(
        s
        for s in stored_targets(workspace, history=True)
        if (s.target.id, s.revision)
        == (
            target.id,
            revision,
        )
    )
    return stored, created


def stored_measures(workspace: Workspace) -> list[Measure]:
    """The abatement measures of the workspace (``esgledger import --kind measures``)."""
    from esgledger.store.repository_targets import load_measures

    with workspace.session() as session:
        rows = load_measures(session)
    return measures_from_rows([row["definition"] for row in rows], file="stored measures")


# ---- status ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BaseEmissions:
    """Base-year emissions of a target's scope selection [t CO2e].

    ``source``: ``target definition`` (its ``base_emissions_t_co2e``), ``run <id>`` or
    ``published: …``; ``scope2_method`` the scope 2 method used (``market`` when the base
    year has it, else ``location``); ``note``/``note_zh`` why there is no value, or the
    location-based fallback.
    """

    t_co2e: float | None
    source: str
    scope2_method: str | None = None
    note: str = ""
    note_zh: str = ""

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = jsonable(self)
        data["unit"] = "t CO2e"
        return data


@dataclass(frozen=True, slots=True)
class TargetState:
    """One target with its base, progress and warnings.

    ``actual_sources``: year → where its actual value comes from; ``progress_note`` says why
    progress is not assessed when ``progress`` is None.
    """

    stored: StoredTarget
    base: BaseEmissions | None
    progress: TargetProgress | None
    progress_note: str
    actual_sources: dict[int, str]
    warnings: tuple[TargetWarning, ...]

    @property
    def target(self) -> Target:
        return self.stored.target

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.stored.as_dict(),
            "base": None if self.base is None else self.base.as_dict(),
            "progress": None if self.progress is None else jsonable(self.progress.to_dict()),
            "progress_note": self.progress_note,
            "actual_sources": {str(y): s for y, s in self.actual_sources.items()},
            "warnings": [w.to_dict() for w in self.warnings],
        }


@dataclass(frozen=True, slots=True)
class TargetStatus:
    """The target set of the workspace: each target, the SBTi checks, the temperature score.

    ``checks_basis``: the base-year inventory the checks read (``""`` when none; then
    ``checks_note`` says why); ``checks_basis_zh`` and ``checks_note_zh`` say the same in
    Simplified Chinese; ``temperature_basis``: the inventory that weights the
    temperature score; ``inventories``: year → source of every inventory available.
    """

    targets: tuple[TargetState, ...]
    checks: tuple[CheckResult, ...]
    checks_basis: str
    checks_note: str
    temperature: CompanyScore | None
    temperature_basis: str
    temperature_note: str
    reference_year: int
    submission_year: int | None
    inventories: dict[int, str] = field(default_factory=dict)
    checks_basis_zh: str = ""
    checks_note_zh: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference_year": self.reference_year,
            "submission_year": self.submission_year,
            "inventories": {str(y): s for y, s in self.inventories.items()},
            "targets": [t.as_dict() for t in self.targets],
            "checks": [jsonable(c.to_dict()) for c in self.checks],
            "checks_basis": self.checks_basis,
            "checks_basis_zh": self.checks_basis_zh,
            "checks_note": self.checks_note,
            "checks_note_zh": self.checks_note_zh,
            "temperature": None if self.temperature is None else jsonable(self.temperature),
            "temperature_unit": "°C",
            "temperature_basis": self.temperature_basis,
            "temperature_note": self.temperature_note,
        }


def base_emissions(
    target: Target, inventories: Mapping[int, YearInventory]
) -> BaseEmissions | None:
    """Base-year emissions of ``target``'s selection: its own ``base_emissions_t_co2e``, else
    the base year's inventory (market-based scope 2 when present, and said so); None for a
    renewable-electricity target."""
    if target.kind is TargetKind.RENEWABLE_ELECTRICITY:
        return None
    if target.base_emissions_t_co2e is not None:
        return BaseEmissions(target.base_emissions_t_co2e, "target definition")
    inventory = inventories.get(target.base_year)
    if inventory is None:
        return BaseEmissions(
            None,
            "",
            note=(
                f"no inventory for the base year {target.base_year}: import its published "
                "figures (`esgledger import WS FILE --kind emissions-history`) or give the "
                "target's base_emissions_t_co2e"
            ),
            note_zh=(
                f"没有基准年 {target.base_year} 的排放清单：请导入已公布数据"
                "（emissions-history）或填写目标的基准年排放"
            ),
        )
    try:
        covered = covered_emissions(
            inventory.totals, target.scopes, inventory.scope3_by_category or None
        )
    except InputError as exc:
        return BaseEmissions(None, inventory.source, note=exc.summary)
    method = None if covered.scope2_method is None else covered.scope2_method.value
    return BaseEmissions(covered.t_co2e, inventory.source, method, covered.note, covered.note_zh)


def _actuals(
    target: Target, inventories: Mapping[int, YearInventory]
) -> tuple[dict[int, float], dict[int, str]]:
    values: dict[int, float] = {}
    sources: dict[int, str] = {}
    for year, inventory in inventories.items():
        if year < target.base_year:
            continue
        try:
            covered = covered_emissions(
                inventory.totals, target.scopes, inventory.scope3_by_category or None
            )
        except InputError:
            continue  # a year without the selection's scopes is no actual value
        values[year] = covered.t_co2e
        method = "" if covered.scope2_method is None else f", scope 2 {covered.scope2_method}"
        sources[year] = inventory.source + method
    return values, sources


def _denominators(workspace: Workspace, target: Target) -> tuple[dict[int, float], str]:
    """Year → the intensity denominator [target.denominator_unit] from the typed metric
    values (metric code = the target's ``denominator``, e.g. ``revenue`` or ``employees``),
    at the group's root entity, total rows only (no breakdown); and a note on what was used.
    """
    from esgledger.errors import UnitError
    from esgledger.store.repository import load_entities
    from esgledger.store.repository_targets import load_metric_values
    from esgledger.units import conversion_factor, normalize_unit

    code = target.denominator or ""
    with workspace.session() as session:
        roots = {e["code"] for e in load_entities(session) if e["parent"] is None}
        rows = [
            r
            for r in load_metric_values(session)
            if r["metric"] == code
            and r["entity"] in roots
            and not r["breakdown"]
            and r["value"] is not None
        ]
    if not rows:
        return {}, (
            f"no metric values of {code!r} at the group's root entity: import them "
            "(--kind metric-values) to track this intensity target"
        )
    unit = denominator_unit_expression(target.denominator_unit or "")
    values: dict[int, float] = {}
    for r in rows:
        try:
            factor = conversion_factor(normalize_unit(str(r["unit"] or "")), unit)
        except UnitError as exc:
            raise InputError(
                f"metric value {code} {r['period_start']} is in {r['unit']!r}, which does not "
                f"convert into the target's denominator unit {target.denominator_unit!r}: {exc}"
            ) from exc
        year = r["period_start"].year
        values[year] = values.get(year, 0.0) + float(r["value"]) * factor
    return values, f"denominators: metric values of {code!r} ({', '.join(map(str, values))})"


def _market_ratios(run: Run) -> dict[str | None, float] | None:
    """Site → market-based / location-based scope 2 of the run [dimensionless]; ``None``
    when the run has no market-based scope 2. ``None`` as a key stands for lines without a
    site (the summary's ``(no site)``)."""
    from esgledger.inventory.runs import summary as inventory_summary

    data = inventory_summary(run)
    if "scope2_market" not in data.get("totals", {}):
        return None
    ratios: dict[str | None, float] = {}
    for site, entry in dict(data.get("by_site", {})).items():
        location = float(entry.get("scope2_location", 0.0) or 0.0)
        if location > 0:
            key = None if site.startswith("(no site") else site
            ratios[key] = float(entry.get("scope2_market", 0.0) or 0.0) / location
    return ratios


def _market_based_lines(lines: pa.Table, ratios: Mapping[str | None, float]) -> pa.Table:
    """``lines`` with each scope 2 line's ``co2e_kg_consolidated`` scaled by its site's
    market-based / location-based ratio (GHG Protocol Scope 2 Guidance ch. 6: market-based
    scope 2 prices each site's consumption with its contractual instruments and residual
    mix), so the planner's measures act on the scope 2 the target counts. The site totals then
    equal the run's market-based scope 2 by site."""
    sites = lines.column("site").to_pylist()
    scopes = lines.column("scope").to_pylist()
    factor = pa.array(
        [
            ratios.get(site, 1.0) if scope == 2 else 1.0
            for site, scope in zip(sites, scopes, strict=True)
        ],
        pa.float64(),
    )
    index = lines.schema.get_field_index("co2e_kg_consolidated")
    scaled = pc.multiply(lines.column(index).cast(pa.float64()), factor)
    return lines.set_column(index, "co2e_kg_consolidated", scaled)


def _renewable_shares(
    workspace: Workspace, inventories: Mapping[int, YearInventory]
) -> dict[int, float]:
    """[fraction] The group's renewable share of each year with a run (annual matching)."""
    from esgledger.inventory.runs import load_run

    shares: dict[int, float] = {}
    for year, inventory in inventories.items():
        if inventory.run_id is None:
            continue
        run = load_run(workspace, inventory.run_id)
        section = dict(run.manifest.get("market_based") or {})
        share = dict(section.get("renewable_share") or {}).get("group")
        if share is not None:
            shares[year] = float(share)
    return shares


@dataclass(frozen=True, slots=True)
class _BaseYearState:
    year: int
    threshold: float
    assessments: tuple[ChangeAssessment, ...]
    created_at: datetime | None


def _base_year_state(workspace: Workspace) -> _BaseYearState | None:
    """The workspace's base year and the assessments of its latest recalculation check
    (GHG Protocol Corporate Standard ch. 5; :mod:`esgledger.inventory.base_year`)."""
    from esgledger.inventory.base_year import (
        ChangeAssessment,
        StructuralChange,
        base_year_history,
    )

    state: _BaseYearState | None = None
    for entry in base_year_history(workspace):
        if entry["kind"] == "set":
            state = _BaseYearState(int(entry["base_year"]), float(entry["threshold"]), (), None)
            continue
        result = entry.get("result") or {}
        if entry["kind"] not in ("assessed", "recalculated") or not result:
            continue
        items = []
        for a in result.get("assessments", []):
            effective = a.get("effective_date")
            change = StructuralChange(
                kind=str(a["kind"]),
                unit=str(a["unit"]),
                base_year_t_co2e=a.get("base_year_t_co2e"),
                effective_date=date.fromisoformat(effective) if effective else None,
                note=a.get("note"),
                existed_in_base_year=bool(a.get("existed_in_base_year", True)),
            )
            items.append(
                ChangeAssessment(
                    change,
                    bool(a["qualifies"]),
                    float(a["adjustment_t_co2e"]),
                    float(a["share"]),
                    bool(a["applied"]),
                    str(a["reason"]),
                    str(a["reason_zh"]),
                )
            )
        state = _BaseYearState(
            int(entry["base_year"]), float(entry["threshold"]), tuple(items), entry["created_at"]
        )
    return state


def _warnings(
    stored: StoredTarget,
    targets: Sequence[Target],
    base_year: _BaseYearState | None,
    latest: YearInventory | None,
) -> tuple[TargetWarning, ...]:
    target = stored.target
    assessments: tuple[ChangeAssessment, ...] = ()
    threshold = 0.05
    if base_year is not None and base_year.year == target.base_year:
        threshold = base_year.threshold
        # A target revised after the recalculation check has taken it into account.
        if base_year.created_at is None or _utc(stored.created_at) <= _utc(base_year.created_at):
            assessments = base_year.assessments
    others = [t for t in targets if t.id != target.id]
    return tuple(
        _recalculation_warnings(
            target,
            assessments,
            threshold=threshold,
            totals=None if latest is None else latest.totals,
            targets=others,
        )
    )


def _set_base_year(targets: Sequence[Target]) -> int | None:
    years = Counter(t.base_year for t in targets if t.kind is not TargetKind.RENEWABLE_ELECTRICITY)
    if not years:
        return None
    most = max(years.values())
    return min(y for y, n in years.items() if n == most)


def target_status(
    workspace: Workspace, *, submission_year: int | None = None, reference_year: int | None = None
) -> TargetStatus:
    """Status of the workspace's current targets.

    Parameters
    ----------
    submission_year
        Year of submission to the SBTi for the near-term horizon rule (default: each
        target's own ``submission_year``).
    reference_year
        Year of the temperature score (default: the latest inventory's year, else the
        workspace's reporting year).

    Notes
    -----
    Base emissions: a target's own ``base_emissions_t_co2e``, else its base year's inventory
    (:func:`esgledger.targets.actuals.yearly_inventories`: the latest run of the year, else
    the published figures) over its scope selection, market-based scope 2 when present.
    The SBTi checks read the inventory of the base year most targets share; the temperature
    score is weighted by the latest inventory (S1+S2 with market-based scope 2 when present).
    Progress of a renewable-electricity target reads each run's group renewable share;
    intensity targets divide by the typed metric values of their denominator (``revenue``,
    ``employees`` …) at the group's root entity.
    Warnings: base-year recalculation (the workspace's base year, when it is the target's)
    and a scope 3 share of 40 % or more without a scope 3 target.
    """
    rows = stored_targets(workspace)
    targets = [s.target for s in rows]
    inventories = yearly_inventories(workspace)
    latest = inventories[max(inventories)] if inventories else None
    ref_year = reference_year or (latest.year if latest else workspace.reporting_year)
    base_year = _base_year_state(workspace)
    shares: dict[int, float] | None = None
    states: list[TargetState] = []
    for stored in rows:
        target = stored.target
        base = base_emissions(target, inventories)
        result: TargetProgress | None = None
        note = ""
        sources: dict[int, str] = {}
        if target.kind is TargetKind.RENEWABLE_ELECTRICITY:
            shares = _renewable_shares(workspace, inventories) if shares is None else shares
            known = {y: v for y, v in shares.items() if y >= target.base_year}
            sources = {y: inventories[y].source for y in known}
            if known:
                result = progress(target, known)
            else:
                note = "no inventory run with a renewable share since the base year"
        elif target.kind is TargetKind.INTENSITY:
            denominators, note = _denominators(workspace, target)
            actuals, sources = _actuals(target, inventories)
            actuals = {y: v for y, v in actuals.items() if y in denominators}
            if denominators and base is not None and base.t_co2e is not None:
                actuals.setdefault(target.base_year, base.t_co2e)
                denominators.setdefault(target.base_year, float(target.base_denominator or 0))
                result = progress(target, actuals, base=base.t_co2e, denominators=denominators)
            elif base is not None and base.t_co2e is None:
                note = base.note
        elif base is None or base.t_co2e is None:
            note = "" if base is None else base.note
        else:
            actuals, sources = _actuals(target, inventories)
            actuals.setdefault(target.base_year, base.t_co2e)
            result = progress(target, actuals, base=base.t_co2e)
        states.append(
            TargetState(
                stored, base, result, note, sources, _warnings(stored, targets, base_year, latest)
            )
        )

    checks: list[CheckResult] = []
    basis: Reason | None = None
    why_not: Reason | None = None
    by = _set_base_year(targets)
    if not targets:
        why_not = reason("sbti.no_targets")
    elif by is None:
        why_not = reason("sbti.only_re")
    elif by not in inventories:
        why_not = reason("sbti.no_base_inventory", year=by)
    else:
        inventory = inventories[by]
        try:
            checks = check_target_set(
                targets, inventory.totals, inventory.scope3_by_category or None, submission_year
            )
            basis = reason("sbti.basis", year=by, source=inventory.source_text())
        except InputError as exc:
            why_not = reason("sbti.not_checked", why=exc.summary)

    temperature: CompanyScore | None = None
    temperature_basis = temperature_note = ""
    if latest is None:
        temperature_note = "no inventory: the temperature score needs S1+S2 and S3 emissions"
    else:
        totals = latest.totals
        scope2 = totals.get("scope2_market", totals.get("scope2_location", 0.0))
        s12 = float(totals.get("scope1", 0.0)) + float(scope2 or 0.0)
        try:
            temperature = company_score(
                targets,
                s12,
                float(totals.get("scope3", 0.0)),
                ref_year,
                scope3_by_category=latest.scope3_by_category or None,
            )
            method = "market" if totals.get("scope2_market") is not None else "location"
            temperature_basis = f"{latest.year}: {latest.source} (scope 2 {method}-based)"
        except InputError as exc:
            temperature_note = exc.summary
    return TargetStatus(
        tuple(states),
        tuple(checks),
        "" if basis is None else basis.en,
        "" if why_not is None else why_not.en,
        temperature,
        temperature_basis,
        temperature_note,
        ref_year,
        submission_year,
        {y: i.source for y, i in inventories.items()},
        checks_basis_zh="" if basis is None else basis.zh,
        checks_note_zh="" if why_not is None else why_not.zh,
    )


# ---- plan -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanResult:
    """The measures on a run's line items.

    Attributes
    ----------
    run_id, run_year
        The run whose line items are the business-as-usual baseline (constant unless a
        growth rate is given).
    target
        The target the scenario is compared with (None: every line, no gap).
    scenario
        :func:`esgledger.targets.planner.scenario` over the target's scope selection [t CO2e].
    macc
        :func:`esgledger.targets.planner.macc` over all the run's lines.
    gap
        :class:`~esgledger.targets.planner.ResidualGap` against the target's pathway.
    target_pathway
        Year → the target's linear pathway [t CO2e].
    base
        Base emissions of the target.
    notes
        What the figures rest on and what was left out (English).
    notes_zh
        The same notes in Simplified Chinese (one :class:`esgledger.reasons.Reason` each).
    """

    run_id: str
    run_year: int
    measures: tuple[Measure, ...]
    target: Target | None
    scenario: pa.Table
    macc: pa.Table
    gap: ResidualGap | None
    target_pathway: dict[int, float]
    base: BaseEmissions | None
    growth_rate: float
    notes: tuple[str, ...]
    notes_zh: tuple[str, ...] = ()

    @property
    def currency(self) -> str:
        return self.measures[0].currency if self.measures else ""

    def as_dict(self) -> dict[str, Any]:
        gap = None
        if self.gap is not None:
            gap = {
                "target_year": self.gap.target_year,
                "remaining_t_co2e": self.gap.remaining_t_co2e,
                "target_t_co2e": self.gap.target_t_co2e,
                "gap_t_co2e": self.gap.gap_t_co2e,
                "met": self.gap.met,
                "by_year": self.gap.by_year.to_pylist(),
            }
        data: dict[str, Any] = jsonable(
            {
                "source": f"run {self.run_id}",
                "run_id": self.run_id,
                "run_year": self.run_year,
                "unit": "t CO2e",
                "currency": self.currency,
                "growth_rate": self.growth_rate,
                "target": None if self.target is None else self.target.model_dump(mode="json"),
                "base": None if self.base is None else self.base.as_dict(),
                "target_pathway_t_co2e": {str(y): v for y, v in self.target_pathway.items()},
                "measures": [_measure_dict(m) for m in self.measures],
                "scenario": self.scenario.to_pylist(),
                "macc": self.macc.to_pylist(),
                "residual_gap": gap,
                "notes": list(self.notes),
                "notes_zh": list(self.notes_zh),
            }
        )
        return data


def _measure_dict(measure: Measure) -> dict[str, Any]:
    from esgledger.ingest.ambition import measure_definition

    data: dict[str, Any] = measure_definition(measure)
    data["cost_per_t"] = measure.cost_per_t
    data["reduction_t_co2e_per_yr"] = measure.reduction_t_co2e_per_yr
    data["start_year"] = measure.start_year
    data["ramp_years"] = measure.ramp_years
    return data


def _select_lines(lines: pa.Table, target: Target) -> pa.Table:
    """The lines of ``target``'s scope selection."""
    scopes = pa.array(list(target.scopes.scopes), lines["scope"].type)
    mask = pc.is_in(lines["scope"], value_set=scopes)
    if target.scopes.scope3_categories is not None:
        categories = pa.array(list(target.scopes.scope3_categories), lines["scope3_category"].type)
        in_categories = pc.fill_null(
            pc.is_in(lines["scope3_category"], value_set=categories), False
        )
        mask = pc.and_(mask, pc.or_(pc.not_equal(lines["scope"], 3), in_categories))
    return lines.filter(mask)


def _grouped_lines(path: Path) -> pa.Table:
    """The run's line items summed by (scope, category, activity, entity, site) in DuckDB:
    one row per group, never the lines themselves (issue 11, docs/hardening/memory.md).
    ``co2e_kg_consolidated`` [kg CO2e] is the exact decimal sum (to 1 µg) of the group's
    lines that are not excluded; the planner groups by the same keys."""
    from esgledger.inventory._duckdb import connect

    keys = ", ".join(c for c in _LINE_COLUMNS if c not in ("co2e_kg_consolidated", "excluded"))
    source = "'" + str(path).replace("'", "''") + "'"
    with connect() as con:
        return con.sql(
            f"""
            SELECT {keys}, CAST(coalesce(sum(CAST(co2e_kg_consolidated AS DECIMAL(38, 9))), 0)
                AS DOUBLE) AS co2e_kg_consolidated
            FROM read_parquet({source})
            WHERE NOT coalesce(excluded, false)
            GROUP BY ALL
            ORDER BY ALL
            """
        ).to_arrow_table()


def _default_target(targets: Sequence[Target]) -> Target | None:
    emissions = [t for t in targets if t.kind is TargetKind.ABSOLUTE]
    near = [t for t in emissions if t.horizon is Horizon.NEAR_TERM]
    for pool in (
        [t for t in near if {1, 2} & set(t.scopes.scopes)],
        near,
        emissions,
    ):
        if pool:
            return sorted(pool, key=lambda t: t.id)[0]
    return None


def plan(
    workspace: Workspace,
    *,
    run_id: str | None = None,
    target_id: str | None = None,
    years: Iterable[int] | None = None,
    growth_rate: float = 0.0,
) -> PlanResult:
    """Scenario, MACC and residual gap of the stored measures on a run's line items.

    Parameters
    ----------
    run_id
        The baseline run (default: the latest); its line items are the business-as-usual
        emissions of its reporting year [t CO2e], growing by ``growth_rate`` [1 / yr].
    target_id
        The target to plan for (default: the first near-term absolute target covering
        scope 1 or 2, by id). The scenario covers its scope selection's lines only; its
        pathway (from its base emissions, :func:`base_emissions`) gives the residual gap.
    years
        Scenario years (default: the run's year to the target's year; without a target,
        six years on).

    Raises
    ------
    InputError
        No measures, an unknown target id, or a target that is not an absolute one.
    WorkspaceError
        No run.
    """
    from esgledger.inventory.runs import load_run

    measures = stored_measures(workspace)
    if not measures:
        raise InputError(
            "the workspace has no abatement measures: import them with "
            "`esgledger import WS FILE --kind measures`"
        )
    run = load_run(workspace, run_id)
    run_year = int(run.manifest["reporting_year"])
    lines = _grouped_lines(run.line_items_path)
    targets = [s.target for s in stored_targets(workspace)]
    target: Target | None
    if target_id is not None:
        target = next((t for t in targets if t.id == target_id), None)
        if target is None:
            known = ", ".join(t.id for t in targets) or "none"
            raise InputError(f"no target {target_id!r} in the workspace (targets: {known})")
        if target.kind is not TargetKind.ABSOLUTE:
            raise InputError(
                f"target {target_id} is a {target.kind.value} target: the planner compares "
                "absolute emissions; choose an absolute target"
            )
    else:
        target = _default_target(targets)
    growth = (
        reason("plan.constant")
        if growth_rate == 0
        else reason("plan.growing", rate=f"{growth_rate:.1%}")
    )
    notes: list[Reason] = [reason("plan.bau", run=run.run_id, year=run_year, growth=growth)]
    if target is not None and 2 in target.scopes.scopes:
        market = _market_ratios(run) if target.scopes.scope2_method == "market" else None
        if market is not None:
            lines = _market_based_lines(lines, market)
            notes.append(reason("plan.scope2_market"))
        elif target.scopes.scope2_method == "market":
            notes.append(reason("plan.scope2_location_no_market"))
        else:
            notes.append(reason("plan.scope2_location"))
    selected = lines if target is None else _select_lines(lines, target)
    if years is None:
        last = target.target_year if target is not None else run_year + 6
        years = range(run_year, max(last, run_year) + 1)
    table = scenario(selected, measures, years, growth_rate=growth_rate, base_year=run_year)
    curve = macc(measures, lines)
    gap: ResidualGap | None = None
    path: dict[int, float] = {}
    base: BaseEmissions | None = None
    if target is not None:
        base = base_emissions(target, yearly_inventories(workspace))
        if base is None or base.t_co2e is None:
            notes.append(reason("plan.no_gap", why="" if base is None else base.note))
        else:
            path = pathway(target, base.t_co2e)
            from esgledger.targets.planner import residual_gap

            try:
                gap = residual_gap(table, path)
            except InputError as exc:
                notes.append(reason("plan.no_gap", why=exc.summary))
    return PlanResult(
        run.run_id,
        run_year,
        tuple(measures),
        target,
        table,
        curve,
        gap,
        path,
        base,
        growth_rate,
        tuple(n.en for n in notes),
        tuple(n.zh for n in notes),
    )


# ---- offsets --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreditRegisterView:
    """The stored credit register with the tonnes retired and left per credit."""

    register: Register

    def as_dict(self) -> dict[str, Any]:
        from esgledger.ingest.ambition import credit_definition, retirement_definition

        credits = []
        for credit in self.register.credits:
            data: dict[str, Any] = credit_definition(credit)
            data["vintage"] = credit.vintage
            data["volume_t_co2e"] = credit.volume_t_co2e
            data["retired_t_co2e"] = self.register.retired_t(credit.id)
            data["available_t_co2e"] = self.register.available_t(credit.id)
            credits.append(data)
        retirements = []
        for r in self.register.retirements:
            item: dict[str, Any] = retirement_definition(r)
            item["volume_t_co2e"] = r.volume_t_co2e
            item["claim_year"] = r.claim_year
            retirements.append(item)
        return {"unit": "t CO2e", "credits": credits, "retirements": retirements}


def credit_register(workspace: Workspace) -> CreditRegisterView:
    """The stored credits and retirements, checked as one register."""
    from esgledger.ingest.ambition import stored_register

    with workspace.session() as session:
        register: Register = stored_register(session)
    return CreditRegisterView(register)


@dataclass(frozen=True, slots=True)
class ClaimsOutcome:
    """A claim's verdict (:class:`~esgledger.targets.offsets.ClaimResult`) with the sources
    of the claim year's and the base year's inventories."""

    result: ClaimResult
    inventory_source: str
    base_year: int
    base_source: str

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = jsonable(self.result)
        data["total_t"] = self.result.total_t
        data["unit"] = "t CO2e"
        data["inventory_source"] = self.inventory_source
        data["base_year"] = self.base_year
        data["base_source"] = self.base_source
        return data


def _totals(inventory: YearInventory) -> EmissionTotals:
    t = inventory.totals
    location = t.get("scope2_location", t.get("scope2_market"))
    if location is None:
        raise InputError(
            f"the {inventory.year} inventory ({inventory.source}) has no scope 2 figure; "
            "import scope 2 (2_location) of that year"
        )
    market = t.get("scope2_market")
    return EmissionTotals(
        year=inventory.year,
        scope1_t=float(t.get("scope1", 0.0)),
        scope2_location_t=float(location),
        scope3_t=float(t.get("scope3", 0.0)),
        scope2_market_t=None if market is None else float(market),
    )


def _claim_base_year(workspace: Workspace) -> int:
    from esgledger.inventory.base_year import current_base_year

    try:
        return current_base_year(workspace).base_year
    except WorkspaceError:
        pass
    years = [s.target.base_year for s in stored_targets(workspace)]
    if not years:
        raise InputError(
            "no base year to measure reductions from: give --base-year, designate one "
            "(`esgledger base-year set WS`) or store a target"
        )
    return min(years)


def claims(
    workspace: Workspace,
    year: int,
    kind: ClaimKind | str = ClaimKind.CARBON_NEUTRAL,
    boundary: ClaimBoundary | str = ClaimBoundary.OPERATIONS,
    *,
    base_year: int | None = None,
    beneficiary: str | None = None,
) -> ClaimsOutcome:
    """Check a carbon-neutral or net-zero claim for ``year``
    (:func:`esgledger.targets.offsets.claims_check`).

    Parameters
    ----------
    year
        The claim year; its inventory is the latest run of the year, else published figures.
    kind, boundary
        ``carbon_neutral`` or ``net_zero``; ``operations`` (scopes 1+2) or
        ``operations_and_supply_chain`` (scopes 1-3).
    base_year
        Year reductions are measured from (default: the workspace's base year, else the
        earliest base year of the stored targets).
    beneficiary
        Count only retirements made for this beneficiary.

    Raises
    ------
    InputError
        No inventory for the claim year or the base year, or a bad kind or boundary.
    """
    claim = Claim(kind, year, boundary, beneficiary)  # type: ignore[arg-type]
    inventories = yearly_inventories(workspace)
    by = base_year if base_year is not None else _claim_base_year(workspace)
    for needed, what in ((year, "claim year"), (by, "base year")):
        if needed not in inventories:
            raise InputError(
                f"no inventory for the {what} {needed}: calculate it (`esgledger calculate WS`) "
                "or import its published figures (--kind emissions-history)"
            )
    with workspace.session() as session:
        from esgledger.ingest.ambition import stored_register

        register: Register = stored_register(session)
    result = claims_check(claim, _totals(inventories[year]), _totals(inventories[by]), register)
    return ClaimsOutcome(result, inventories[year].source, by, inventories[by].source)


# ---- views for the pages (JSON-native, cached where the work is heavy) ----------------------


def rule_label(rule: str) -> dict[str, str]:
    """An SBTi rule's name: ``{"en": rule id, "zh-CN": its Chinese name}`` (as ``esgledger
    targets check`` prints it in each language)."""
    code = f"sbti.rule.{rule}"
    zh = reason(code).zh if code in templates() else rule
    return {"en": rule, "zh-CN": zh}


def _scoped(workspace: Workspace, principal: Principal) -> bool:
    from esgledger.access.policy import require
    from esgledger.access.scope import visible_entities

    require(principal, "inventory:read")
    return visible_entities(workspace, principal, "inventory:read") is not None


def status_view(workspace: Workspace, principal: Principal) -> dict[str, Any]:
    """:meth:`TargetStatus.as_dict` of :func:`target_status`, each check with its
    ``rule_label`` (:func:`rule_label`), and ``scoped``. Targets are the group's: a principal
    scoped to part of the organisation sees the targets, the SBTi checks and the temperature
    score, but not the group's emissions (each target's ``base`` and ``progress`` are None,
    ``inventories`` empty)."""
    scoped = _scoped(workspace, principal)
    data = target_status(workspace).as_dict()
    data["scoped"] = scoped
    for check in data["checks"]:
        check["rule_label"] = rule_label(str(check["rule"]))
    if scoped:
        data["inventories"] = {}
        for state in data["targets"]:
            state["base"] = None
            state["progress"] = None
            state["actual_sources"] = {}
    return data


#: Plans built (about a second on the demo): workspace folder, run id, target id and the
#: registered import batches (new measures or targets: a new key) → the plan's dict.
_PLANS: dict[tuple[str, str, str | None, frozenset[str]], dict[str, Any]] = {}
_PLANS_KEPT = 8


def plan_view(
    workspace: Workspace,
    principal: Principal,
    *,
    run_id: str | None = None,
    target_id: str | None = None,
) -> dict[str, Any]:
    """:meth:`PlanResult.as_dict` of :func:`plan` (no growth) with ``"scoped": False``, kept
    per run, target and state of the imports, since the pages ask for it on every visit.
    The plan is the group's emissions: a principal scoped to part of the organisation gets
    ``{"scoped": True}`` alone.

    Raises
    ------
    InputError
        No measures, an unknown target id, or a target that is not an absolute one.
    WorkspaceError
        No run.
    """
    from esgledger.inventory.runs import load_run
    from esgledger.store.repository import registered_batch_ids

    if _scoped(workspace, principal):
        return {"scoped": True}
    run = load_run(workspace, run_id)
    with workspace.session() as session:
        batches = registered_batch_ids(session)
    key = (str(workspace.root), run.run_id, target_id, batches)
    cached = _PLANS.get(key)
    if cached is None:
        cached = {
            **plan(workspace, run_id=run.run_id, target_id=target_id).as_dict(),
            "scoped": False,
        }
        while len(_PLANS) >= _PLANS_KEPT:
            del _PLANS[next(iter(_PLANS))]
        _PLANS[key] = cached
    return cached
