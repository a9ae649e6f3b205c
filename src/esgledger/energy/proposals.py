"""Reduction proposals: the what-if levers ranked by t CO2e/yr and payback, advisory only.

减排建议：按年减排量（吨二氧化碳当量）与静态回收期对各项措施排序，仅供参考，绝不自动执行。

:func:`propose` runs every lever (:mod:`esgledger.energy.whatif`) on a site's baseline year,
refuses the ones a constraint forbids (the ASHRAE envelope is enforced by the levers
themselves; redundancy: UPS eco-mode is refused at a site whose tier requires double
conversion), and ranks the rest by market-based t CO2e avoided per year (ties: shorter
simple payback first). A proposal never acts on anything: :func:`adopt` only turns chosen
proposals into abatement measures of :mod:`esgledger.targets.planner`, so the transition plan
and the MACC include them (stored as ``esgledger import --kind measures`` stores measures, in
one write-locked transaction with an ``energy.adopt`` audit event, idempotent by id).

Economics (``docs/energy/whatif.md``): simple payback [yr] = capex / annual saving; the
planner's ``cost_per_t`` [currency / t CO2e] = (annualised capex + opex − annual saving) /
t CO2e avoided per year, annualised with the capital-recovery factor
``r / (1 − (1 + r)^−n)`` (``capex / n`` at ``r = 0``).
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from esgledger import audit
from esgledger.access.policy import require
from esgledger.access.principal import Principal
from esgledger.energy import service
from esgledger.energy.findings import Finding
from esgledger.energy.grid import SiteGridFactor, site_grid_factor
from esgledger.energy.meters import load_meters
from esgledger.energy.periods import Period, parse_period
from esgledger.energy.rollups import rollup
from esgledger.energy.whatif import (
    LEVERS,
    BaselineYear,
    GreenPower,
    GridFactor,
    Lever,
    OnsitePv,
    Prices,
    WhatIf,
    baseline_from_rollups,
    simulate,
)
from esgledger.errors import FactorNotFoundError, InputError, Issue, NotFoundError, quoted, shown
from esgledger.i18n import Text
from esgledger.ingest.ambition import measure_definition
from esgledger.store.repository_targets import load_measures, save_measures
from esgledger.targets.planner import LineSelector, Measure

if TYPE_CHECKING:
    from esgledger.store import Workspace

__all__ = [
    "ADVISORY",
    "DEFAULT_CAPEX_CNY",
    "DEFAULT_LEVERS",
    "NOT_ADDITIVE",
    "Adoption",
    "Capex",
    "Constraints",
    "Proposal",
    "ProposalOptions",
    "ProposalSet",
    "Refusal",
    "adopt",
    "adopt_site_proposals",
    "annualised",
    "default_capex",
    "extra_levers",
    "parse_capex",
    "proposals_for_sites",
    "propose",
    "rank_proposals",
    "site_baseline",
    "site_grid_factors",
    "site_period",
    "site_proposals",
    "site_proposals_view",
    "to_measure",
]

#: The sentence every proposal carries.
ADVISORY = Text(
    "Advisory only: esgledger never operates plant; engineers verify locally and decide.",
    "仅供参考：esgledger 不操作任何设备；由工程师现场核实并决策。",
)

#: Why the proposals' savings are not to be added up.
NOT_ADDITIVE = Text(
    "Each lever is simulated alone against the baseline: savings of levers acting on the same "
    "energy (e.g. the two economisers) overlap and do not add up.",
    "每项措施均相对基准单独模拟：作用于同一部分能耗的措施（如两种自然冷却）节省量相互重叠，不可简单相加。",
)

#: The access action for adopting proposals (``access/roles.csv``: admin, esg_office).
PLAN_ACTION = "energy:plan"


@dataclass(frozen=True, slots=True)
class Capex:
    """What a lever costs.

    Attributes
    ----------
    capex
        [currency] investment.
    currency
        ISO 4217 code (the electricity price's currency).
    lifetime_yr
        [yr] economic life for annualising the capex.
    opex_per_yr
        [currency / yr] added running cost (0 by default).
    """

    capex: float
    currency: str
    lifetime_yr: int
    opex_per_yr: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.capex) and self.capex >= 0):
            raise InputError(f"capex {self.capex} is not a finite amount ≥ 0")
        if self.lifetime_yr < 1:
            raise InputError(f"lifetime {self.lifetime_yr} yr: give at least 1 year")


@dataclass(frozen=True, slots=True)
class Constraints:
    """What a proposal must respect.

    Attributes
    ----------
    requires_double_conversion
        The site's tier (redundancy design) requires the UPS in double conversion: UPS
        eco-mode is refused.
    excluded_levers
        Lever keys the operator rules out.
    """

    requires_double_conversion: bool = False
    excluded_levers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Proposal:
    """One ranked proposal (advisory).

    ``saved_t_co2e`` [t CO2e / yr] market-based (the ranking figure), ``saved_t_co2e_location``
    location-based; ``saved_cost`` [currency / yr]; ``payback_yr`` None when the lever saves
    no money or has no capex given; ``cost_per_t`` [currency / t CO2e] None without capex or
    without a reduction.
    """

    id: str
    rank: int
    site: str
    lever: str
    planner_lever: str
    whatif: WhatIf
    saved_t_co2e: float
    saved_t_co2e_location: float
    saved_cost: float
    currency: str
    capex: Capex | None
    payback_yr: float | None
    cost_per_t: float | None
    notes: tuple[Finding, ...] = ()

    @property
    def name(self) -> Text:
        return Text(f"{self.whatif.name.en} at {self.site}", f"{self.site} {self.whatif.name.zh}")

    @property
    def adoptable(self) -> bool:
        """Whether :func:`to_measure` accepts it: it avoids market-based emissions and has a
        cost per tonne."""
        return self.saved_t_co2e > 0 and self.cost_per_t is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rank": self.rank,
            "site": self.site,
            "lever": self.lever,
            "planner_lever": self.planner_lever,
            "name": {"en": self.name.en, "zh-CN": self.name.zh},
            "saved_t_co2e_market": self.saved_t_co2e,
            "saved_t_co2e_location": self.saved_t_co2e_location,
            "saved_cost": self.saved_cost,
            "currency": self.currency,
            "capex": None if self.capex is None else self.capex.capex,
            "lifetime_yr": None if self.capex is None else self.capex.lifetime_yr,
            "payback_yr": self.payback_yr,
            "cost_per_t": self.cost_per_t,
            "advisory": {"en": ADVISORY.en, "zh-CN": ADVISORY.zh},
            "notes": [n.to_json() for n in self.notes],
            "whatif": self.whatif.to_json(),
        }


@dataclass(frozen=True, slots=True)
class Refusal:
    """A lever not proposed, and why."""

    site: str
    lever: str
    reason: Text

    def to_json(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "lever": self.lever,
            "reason": {"en": self.reason.en, "zh-CN": self.reason.zh},
        }


@dataclass(frozen=True, slots=True)
class ProposalSet:
    """Ranked proposals (rank 1 first) and the refused levers."""

    proposals: tuple[Proposal, ...]
    refused: tuple[Refusal, ...] = ()

    def get(self, proposal_id: str) -> Proposal:
        for p in self.proposals:
            if p.id == proposal_id:
                return p
        known = ", ".join(p.id for p in self.proposals) or "none"
        raise InputError(
            f"no proposal {proposal_id!r}",
            [Issue("proposals", None, "id", proposal_id, "unknown proposal", f"use: {known}")],
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "proposals": [p.to_json() for p in self.proposals],
            "refused": [r.to_json() for r in self.refused],
            "advisory": {"en": ADVISORY.en, "zh-CN": ADVISORY.zh},
            "not_additive": {"en": NOT_ADDITIVE.en, "zh-CN": NOT_ADDITIVE.zh},
        }


def annualised(capex: float, lifetime_yr: int, discount_rate: float) -> float:
    """[currency / yr] capex × capital-recovery factor ``r / (1 − (1 + r)^−n)``.

    >>> round(annualised(1000.0, 10, 0.0), 6)
    100.0
    >>> round(annualised(1000.0, 10, 0.06), 2)
    135.87
    """
    if discount_rate == 0.0:
        return capex / lifetime_yr
    r = discount_rate
    return capex * r / (1.0 - (1.0 + r) ** -lifetime_yr)


def proposal_id(site: str, lever: str) -> str:
    """The stable id of a proposal (and of the measure it becomes): ``energy.<site>.<lever>``."""
    return f"energy.{site}.{lever}"


def _refusal(base: BaselineYear, lever: Lever, constraints: Constraints) -> Refusal | None:
    if lever.key in constraints.excluded_levers:
        return Refusal(
            base.site,
            lever.key,
            Text("Ruled out by the operator.", "运营方已排除此项措施。"),
        )
    if lever.key == "ups_eco" and constraints.requires_double_conversion:
        return Refusal(
            base.site,
            lever.key,
            Text(
                "The site's tier requires double-conversion UPS: eco-mode is not proposed.",
                "该站点等级要求 UPS 双变换运行：不建议采用经济运行模式。",
            ),
        )
    return None


def propose(
    base: BaselineYear,
    levers: Sequence[Lever],
    *,
    location: GridFactor,
    market: GridFactor | None,
    prices: Prices,
    capex: Mapping[str, Capex] | None = None,
    constraints: Constraints | None = None,
    discount_rate: float = 0.06,
    green_mwh: float = 0.0,
) -> ProposalSet:
    """Run each lever on ``base``, refuse what the constraints forbid, rank the rest.

    Parameters
    ----------
    levers
        Levers with their parameters (one per key).
    capex
        Lever key → :class:`Capex` in the currency of ``prices``; a lever without one has no
        payback and no ``cost_per_t`` (noted).
    discount_rate
        [1 / yr] for annualising capex (0.06 [A]).

    Ranking: market-based t CO2e avoided per year, descending; ties by shorter payback
    (none last), then lever key. Advisory only.
    """
    constraints = constraints or Constraints()
    capex = capex or {}
    if not (math.isfinite(discount_rate) and 0.0 <= discount_rate < 1.0):
        raise InputError(f"discount rate {discount_rate} is not in 0..1")
    keys = [lever.key for lever in levers]
    if len(set(keys)) != len(keys):
        raise InputError(f"levers {keys} name a lever twice; give one of each")
    refused: list[Refusal] = []
    drafts: list[Proposal] = []
    for lever in levers:
        refusal = _refusal(base, lever, constraints)
        if refusal is not None:
            refused.append(refusal)
            continue
        result = simulate(
            base, lever, location=location, market=market, prices=prices, green_mwh=green_mwh
        )
        drafts.append(_draft(result, lever, capex.get(lever.key), prices, discount_rate))
    ranked = rank_proposals(drafts)
    return ProposalSet(ranked, tuple(refused))


def rank_proposals(proposals: Sequence[Proposal]) -> tuple[Proposal, ...]:
    """``proposals`` ranked (``rank`` 1 first): market-based t CO2e avoided per year,
    descending; ties by shorter simple payback (none last), then id."""
    ordered = sorted(
        proposals,
        key=lambda p: (
            -round(p.saved_t_co2e, 9),
            math.inf if p.payback_yr is None else p.payback_yr,
            p.id,
        ),
    )
    return tuple(replace(p, rank=i) for i, p in enumerate(ordered, start=1))


def _draft(
    result: WhatIf, lever: Lever, cost: Capex | None, prices: Prices, rate: float
) -> Proposal:
    notes: list[Finding] = []
    saved_t, saved_cost = result.saved_t_market, result.saved_cost
    payback: float | None = None
    per_t: float | None = None
    if cost is None:
        notes.append(
            Finding(
                "energy.whatif.no_capex",
                Text(
                    "No capex given: no payback or cost per tonne.",
                    "未提供投资额：不计算回收期与单位减排成本。",
                ),
            )
        )
    elif cost.currency != prices.currency:
        raise InputError(
            f"the capex of {lever.key} is in {cost.currency} but the electricity price in "
            f"{prices.currency}; give both in one currency"
        )
    else:
        net = saved_cost - cost.opex_per_yr
        if net > 0:
            payback = cost.capex / net
        else:
            notes.append(
                Finding(
                    "energy.whatif.no_payback",
                    Text(
                        "The lever saves no money: it never pays back.",
                        "该措施不节省费用：无法回收投资。",
                    ),
                    {"saved_cost": saved_cost, "opex_per_yr": cost.opex_per_yr},
                )
            )
        if saved_t > 0:
            yearly = annualised(cost.capex, cost.lifetime_yr, rate) + cost.opex_per_yr
            per_t = (yearly - saved_cost) / saved_t
    if saved_t <= 0:
        notes.append(
            Finding(
                "energy.whatif.no_reduction",
                Text(
                    "No market-based reduction of the site's emissions.",
                    "站点基于市场的排放没有减少。",
                ),
                {"saved_t_co2e_location": result.saved_t_location},
            )
        )
    return Proposal(
        id=proposal_id(result.site, lever.key),
        rank=0,
        site=result.site,
        lever=lever.key,
        planner_lever=lever.planner_lever,
        whatif=result,
        saved_t_co2e=saved_t,
        saved_t_co2e_location=result.saved_t_location,
        saved_cost=saved_cost,
        currency=prices.currency,
        capex=cost,
        payback_yr=payback,
        cost_per_t=per_t,
        notes=tuple(notes),
    )


# ---- adoption into the planner --------------------------------------------------------------


def to_measure(proposal: Proposal, *, start_year: int, ramp_years: int = 0) -> Measure:
    """The planner measure of a proposal: scope 2 lines of its site, its market-based
    reduction and its cost per tonne.

    Raises
    ------
    InputError
        The proposal avoids no emissions, or has no cost per tonne (no capex given).
    """
    if proposal.saved_t_co2e <= 0:
        raise InputError(
            f"proposal {proposal.id} avoids no market-based emissions; it cannot become an "
            "abatement measure"
        )
    if proposal.cost_per_t is None:
        raise InputError(
            f"proposal {proposal.id} has no cost per tonne (no capex given); give its capex"
        )
    w = proposal.whatif
    notes = (
        f"energy what-if {proposal.lever} ({w.method}); baseline {w.hours} h; "
        f"location factor {w.location.factor_id} ({w.location.source}, {w.location.vintage}); "
        f"market factor {w.market.factor_id} ({w.market.method}); "
        f"params {dict(w.params)}"
    )
    return Measure(
        id=proposal.id,
        name=proposal.name.en,
        name_zh=proposal.name.zh,
        lever=proposal.planner_lever,  # type: ignore[arg-type]
        cost_per_t=float(proposal.cost_per_t),
        currency=proposal.currency,
        reduction_t_co2e_per_yr=float(proposal.saved_t_co2e),
        start_year=start_year,
        ramp_years=ramp_years,
        acts_on=LineSelector(scopes=(2,), sites=(proposal.site,)),
        notes=notes,
    )


@dataclass(frozen=True, slots=True)
class Adoption:
    """What :func:`adopt` did: measure id → ``added``, ``updated`` or ``unchanged``."""

    outcome: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"measures": dict(self.outcome)}


def adopt(
    workspace: Workspace,
    proposal_ids: Sequence[str],
    principal: Principal | None,
    *,
    proposals: ProposalSet,
    start_year: int,
    ramp_years: int = 0,
) -> Adoption:
    """Store the chosen proposals as abatement measures (``targets.planner``), all or none.

    The measures are stored as ``import --kind measures`` stores them (replaced by id) in one
    transaction under the workspace's write lock, each new or changed one with an audit
    event ``energy.adopt``; adopting the same proposals again changes nothing.

    Raises
    ------
    AccessDeniedError
        ``principal`` may not plan (``energy:plan``).
    InputError
        No ids, an unknown id, or a proposal that cannot become a measure.
    """
    who = principal if principal is not None else Principal.local()
    require(who, PLAN_ACTION)
    if not proposal_ids:
        raise InputError("no proposal chosen; give at least one proposal id")
    chosen = [proposals.get(i) for i in dict.fromkeys(proposal_ids)]
    measures = [to_measure(p, start_year=start_year, ramp_years=ramp_years) for p in chosen]
    outcome: dict[str, str] = {}
    with workspace.write_lock() as session:
        wanted = {m.id for m in measures}
        stored = {
            row["id"]: row["definition"] for row in load_measures(session) if row["id"] in wanted
        }
        changed = []
        for m in measures:
            definition = measure_definition(m)
            before = stored.get(m.id)
            if before == definition:
                outcome[m.id] = "unchanged"
                continue
            outcome[m.id] = "added" if before is None else "updated"
            changed.append((m, definition, before))
        if changed:
            save_measures(session, [{"id": m.id, "definition": d} for m, d, _ in changed], None)
        for m, definition, before in changed:
            audit.record(
                session,
                who,
                "energy.adopt",
                "measure",
                m.id,
                before=None if before is None else audit.digest(before),
                after=audit.digest(definition),
                detail={
                    "reduction_t_co2e_per_yr": m.reduction_t_co2e_per_yr,
                    "cost_per_t": m.cost_per_t,
                    "currency": m.currency,
                    "start_year": m.start_year,
                },
            )
    return Adoption(outcome)


# ---- the workspace's grid factors -----------------------------------------------------------


def _grid_factor(found: SiteGridFactor) -> GridFactor:
    return GridFactor(
        kg_co2e_per_kwh=found.kg_co2e_per_kwh,
        factor_id=found.factor_id,
        source=found.source,
        vintage=found.vintage,
        method=found.method,
    )


def site_grid_factors(
    workspace: Workspace, site: str, year: int
) -> tuple[GridFactor, GridFactor | None]:
    """The location-based grid factor of ``site``'s region for ``year`` from the workspace's
    factor library, and the residual-mix factor when the library has one (else None: the
    what-if then uses the location factor for market-based figures and says so)."""
    location = _grid_factor(site_grid_factor(workspace, site, year, method="location"))
    try:
        residual = site_grid_factor(workspace, site, year, method="residual_mix")
    except FactorNotFoundError:
        return location, None
    return location, _grid_factor(residual)


# ---- the workspace's site year --------------------------------------------------------------

#: Default capex of each lever [CNY] and economic life [yr]: order-of-magnitude assumptions
#: [A] for a ~1 MW IT hall, to be replaced by quotes (``--capex lever=amount``). PV is per kWp.
DEFAULT_CAPEX_CNY: Mapping[str, tuple[float, int]] = {
    "free_cooling": (2_000_000.0, 15),
    "air_economiser": (4_000_000.0, 15),
    "setpoint": (300_000.0, 5),
    "ups_eco": (20_000.0, 10),
    "heat_reuse": (6_000_000.0, 20),
    "cooling_cut": (1_000_000.0, 5),
    "green_power": (0.0, 1),
}
#: [CNY / kWp] installed rooftop PV [A].
PV_CAPEX_CNY_PER_KWP = 3_500.0
PV_LIFETIME_YR = 25

#: The levers proposed by default (PV and green power need their size; the cooling cut is a
#: claimed figure, not a physical model, so it is run on request only).
DEFAULT_LEVERS = ("free_cooling", "air_economiser", "setpoint", "ups_eco", "heat_reuse")


def default_capex(levers: Sequence[Lever], currency: str) -> dict[str, Capex]:
    """The :data:`DEFAULT_CAPEX_CNY` assumptions for ``levers`` (CNY only: in another
    currency there is no default and the caller must give the capex)."""
    if currency != "CNY":
        return {}
    out: dict[str, Capex] = {}
    for lever in levers:
        if lever.key == "pv":
            kwp = float(getattr(lever, "capacity_kwp", 0.0))
            out["pv"] = Capex(kwp * PV_CAPEX_CNY_PER_KWP, "CNY", PV_LIFETIME_YR)
        elif lever.key in DEFAULT_CAPEX_CNY:
            amount, life = DEFAULT_CAPEX_CNY[lever.key]
            out[lever.key] = Capex(amount, "CNY", life)
    return out


def _hourly_weather(workspace: Workspace, site: str, period: Period) -> Any:
    """``energy.weather.hourly(ws, site, period)`` of the demo helper, imported when used:
    it lands on main separately (issue 14); until then there is no weather (None), and the
    levers that need it say so."""
    try:
        weather = importlib.import_module("esgledger.energy.weather")
    except ModuleNotFoundError:
        return None
    return weather.hourly(workspace, site, period)


def site_period(workspace: Workspace, period: str | None) -> Period:
    """The core's ``Period`` of ``period`` text (``2024``, ``2024-03``, ``2024-01-01:2024-06-30``);
    None = the workspace's reporting year."""
    text = period if period is not None else str(workspace.reporting_year)
    return parse_period(text)


def site_baseline(workspace: Workspace, site: str, period: str | None = None) -> BaselineYear:
    """The site's baseline year from the workspace: hourly rollups by role
    (``energy.rollups.rollup(ws, "hour", sites=[site], period=...)``) and the hourly weather
    (``energy.weather.hourly(ws, site, period)``) with the site's meter tree, see
    :func:`~esgledger.energy.whatif.baseline_from_rollups`; ``period`` as
    :func:`site_period`."""
    span = site_period(workspace, period)
    hourly = rollup(workspace, "hour", sites=[site], period=span)
    return baseline_from_rollups(
        hourly,
        _hourly_weather(workspace, site, span),
        site=site,
        meters=load_meters(workspace, site=site),
    )


def site_proposals(
    workspace: Workspace,
    site: str,
    period: str | None = None,
    *,
    prices: Prices,
    levers: Sequence[Lever] | None = None,
    capex: Mapping[str, Capex] | None = None,
    constraints: Constraints | None = None,
) -> ProposalSet:
    """:func:`propose` on the site's metered period with the library grid factors of the
    period's last year (default levers :data:`DEFAULT_LEVERS`; capex :func:`default_capex`
    unless given)."""
    chosen = list(levers) if levers is not None else [LEVERS[k]() for k in DEFAULT_LEVERS]
    span = site_period(workspace, period)
    location, market = site_grid_factors(workspace, site, span.end.year)
    return propose(
        site_baseline(workspace, site, period),
        chosen,
        location=location,
        market=market,
        prices=prices,
        capex={**default_capex(chosen, prices.currency), **(capex or {})},
        constraints=constraints,
    )


# ---- one entry for every face ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProposalOptions:
    """What the caller sets for a set of proposals: the options of ``esgledger energy
    proposals|adopt``, of ``GET /api/v1/energy/sites/{site}/proposals`` and of the adopt
    route's body.

    Attributes
    ----------
    price_per_kwh
        [currency / kWh] grid electricity price.
    currency
        ISO 4217 code of the price and the capex.
    period
        Baseline period text (``2024``, ``2024-03``, ``2024-01-01:2024-06-30``); None = the
        workspace's reporting year.
    capex
        Lever key → :class:`Capex` (in ``currency``); levers not named get
        :func:`default_capex`.
    double_conversion
        The site's tier requires double-conversion UPS (eco-mode refused).
    exclude
        Lever keys ruled out by the operator.
    pv_kwp
        [kWp] rooftop PV to assess (needs ``latitude`` and ``longitude`` [degrees]).
    green_mwh
        [MWh / yr] green power to assess.
    """

    price_per_kwh: float
    currency: str = "CNY"
    period: str | None = None
    capex: Mapping[str, Capex] = field(default_factory=dict)
    double_conversion: bool = False
    exclude: tuple[str, ...] = ()
    pv_kwp: float | None = None
    latitude: float | None = None
    longitude: float | None = None
    green_mwh: float | None = None

    @classmethod
    def from_texts(
        cls,
        price_per_kwh: float,
        *,
        currency: str = "CNY",
        period: str | None = None,
        capex: Sequence[str] | None = None,
        double_conversion: bool = False,
        exclude: Sequence[str] | None = None,
        pv_kwp: float | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
        green_mwh: float | None = None,
    ) -> ProposalOptions:
        """The options as the CLI and the API's list route take them: the currency in any
        case (stored upper-case), capex as ``lever=amount[:lifetime_yr]`` texts
        (:func:`parse_capex`, which raises :class:`InputError` for a malformed one).

        >>> ProposalOptions.from_texts(0.8, currency="cny", capex=["pv=1e6"]).capex["pv"].currency
        'CNY'
        """
        return cls(
            price_per_kwh=price_per_kwh,
            currency=currency.upper(),
            period=period,
            capex=parse_capex(capex, currency),
            double_conversion=double_conversion,
            exclude=tuple(exclude or ()),
            pv_kwp=pv_kwp,
            latitude=latitude,
            longitude=longitude,
            green_mwh=green_mwh,
        )

    @property
    def prices(self) -> Prices:
        return Prices(self.price_per_kwh, self.currency.upper())


def parse_capex(values: Sequence[str] | None, currency: str) -> dict[str, Capex]:
    """``lever=amount[:lifetime_yr]`` texts (the CLI's ``--capex``, the API's ``capex``
    query parameter) as :class:`Capex` in ``currency`` (lifetime 10 yr when not given).

    >>> parse_capex(["free_cooling=2e6:15"], "CNY")["free_cooling"].lifetime_yr
    15
    """
    out: dict[str, Capex] = {}
    for item in values or ():
        key, sep, rest = item.partition("=")
        amount, _, life = rest.partition(":")
        wrong = f"capex {quoted(item)} is not lever=amount[:lifetime_yr] (e.g. free_cooling=2e6:15)"
        if not sep or not key.strip():
            raise InputError(wrong)
        try:
            number, years = float(amount), int(life or "10")
        except ValueError:
            raise InputError(wrong) from None
        out[key.strip()] = Capex(number, currency.upper(), years)  # checks amount and life
    return out


def extra_levers(options: ProposalOptions) -> list[Lever]:
    """The levers that need their size: rooftop PV (``pv_kwp`` at ``latitude``,
    ``longitude``) and green power (``green_mwh``), when asked for."""
    extra: list[Lever] = []
    if options.pv_kwp is not None:
        if options.latitude is None or options.longitude is None:
            raise InputError("PV (pv_kwp) needs the latitude and longitude of the site")
        extra.append(
            OnsitePv(
                capacity_kwp=options.pv_kwp,
                latitude=options.latitude,
                longitude=options.longitude,
            )
        )
    if options.green_mwh is not None:
        extra.append(GreenPower(mwh_per_yr=options.green_mwh))
    return extra


def proposals_for_sites(
    workspace: Workspace, sites: Sequence[str], options: ProposalOptions
) -> ProposalSet:
    """:func:`site_proposals` for each of ``sites`` with ``options`` (the default levers and
    those :func:`extra_levers` asks for), ranked together (no scope check: the CLI acts as
    the local administrator; the API and pages go through :func:`site_proposals_view`)."""
    prices = options.prices
    constraints = Constraints(
        requires_double_conversion=options.double_conversion,
        excluded_levers=tuple(options.exclude),
    )
    extra = extra_levers(options)
    found: list[Proposal] = []
    refused: list[Refusal] = []
    for site in sites:
        levers = [LEVERS[k]() for k in DEFAULT_LEVERS] + extra
        one = site_proposals(
            workspace,
            site,
            options.period,
            prices=prices,
            levers=levers,
            capex=options.capex,
            constraints=constraints,
        )
        found += one.proposals
        refused += one.refused
    return ProposalSet(rank_proposals(found), tuple(refused))


def site_proposals_view(
    workspace: Workspace, principal: Principal, site: str, options: ProposalOptions
) -> ProposalSet:
    """The ranked proposals of one metered site in ``principal``'s scope (``energy:read``).

    Raises
    ------
    NotFoundError
        A site without meters or out of scope (the same answer).
    InputError
        Options or data that do not allow a what-if (the issue names the column).
    """
    service.require_site(workspace, principal, site)
    return proposals_for_sites(workspace, [site], options)


def adopt_site_proposals(
    workspace: Workspace,
    principal: Principal,
    site: str,
    proposal_ids: Sequence[str],
    options: ProposalOptions,
    *,
    start_year: int,
    ramp_years: int = 0,
) -> Adoption:
    """Recompute the proposals of ``site`` with ``options`` and :func:`adopt` the chosen
    ones (``energy:plan``; the site in scope).

    Raises
    ------
    AccessDeniedError
        ``principal`` may not plan.
    NotFoundError
        The site is not a metered site in scope, or it has no proposal of that id with these
        options.
    InputError
        As :func:`adopt`.
    """
    require(principal, PLAN_ACTION)
    service.require_site(workspace, principal, site)
    found = proposals_for_sites(workspace, [site], options)
    known = {p.id for p in found.proposals}
    for chosen in proposal_ids:
        if chosen not in known:
            raise NotFoundError(
                f"no proposal {shown(chosen)} at site {shown(site)} "
                f"(proposed: {', '.join(sorted(known)) or 'none'})"
            )
    return adopt(
        workspace,
        proposal_ids,
        principal,
        proposals=found,
        start_year=start_year,
        ramp_years=ramp_years,
    )
