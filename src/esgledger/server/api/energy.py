"""The energy platform's API (``docs/energy/``): metered sites, what their telemetry holds,
and the reduction proposals of a site (listed with ``energy:read``, adopted into the
transition plan with ``energy:plan``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from esgledger.access import Principal
from esgledger.energy import proposals, service, views
from esgledger.server.deps import Allowed, WorkspaceDep
from esgledger.server.problems import problem_responses

router = APIRouter(prefix="/api/v1/energy", tags=["energy"])

Reader = Annotated[Principal, Allowed("energy:read")]
Planner = Annotated[Principal, Allowed(proposals.PLAN_ACTION)]


SitePeriod = Annotated[
    str | None,
    Query(
        description="2024, 2024-03, 2024-03-05 or 2024-01-01:2024-06-30; default the "
        "twelve months up to the site's latest month with data"
    ),
]


class SiteTelemetryOut(BaseModel):
    """One metered site (:func:`esgledger.energy.service.sites_view`)."""

    site: str
    meters: int
    roles: list[str]
    timezone: str
    first_month: str | None
    last_month: str | None
    coverage: float | None
    flagged_intervals: int


@router.get(
    "/sites",
    operation_id="energy-sites",
    responses=problem_responses(401, 403),
    response_model=list[SiteTelemetryOut],
)
def sites(ws: WorkspaceDep, principal: Reader) -> list[SiteTelemetryOut]:
    """The metered sites the caller may see: meters, roles, time zone, months covered, mean
    monthly coverage (0-1) and flagged intervals."""
    return [
        SiteTelemetryOut(
            site=v.site,
            meters=v.meters,
            roles=list(v.roles),
            timezone=v.timezone,
            first_month=v.first_month,
            last_month=v.last_month,
            coverage=v.coverage,
            flagged_intervals=v.flagged_intervals,
        )
        for v in service.sites_view(ws, principal)
    ]


class RollupRowOut(BaseModel):
    """One bin of a meter's rollup (:func:`esgledger.energy.rollups.rollup`): energy in kWh
    (water in L, see ``unit``), local wall time of the bin, coverage 0-1."""

    site: str
    meter: str
    role: str
    unit: str
    period_start_utc: datetime
    period_local: datetime
    quantity: float | None
    expected_intervals: int
    intervals: int
    flagged: int
    estimated: bool
    coverage: float | None


class SiteRollupOut(BaseModel):
    """The rollup of one site over a period (the data of the page ``/energy/sites/{site}``):
    the period as read (``None`` when the site has no readings yet) and its bins."""

    site: str
    grain: str
    period: str | None
    period_start: date | None
    period_end: date | None
    rows: list[RollupRowOut]


@router.get(
    "/sites/{site}/rollup",
    operation_id="energy-site_rollup",
    responses=problem_responses(403, 404, 422),
    response_model=SiteRollupOut,
)
def site_rollup(
    ws: WorkspaceDep,
    principal: Reader,
    site: str,
    grain: Annotated[str, Query(description="15min, hour, day or month")] = "month",
    period: SitePeriod = None,
) -> SiteRollupOut:
    """The ``grain`` rollup of one metered site in the caller's scope (a site out of scope is
    not found) over a period of local dates."""
    chosen, rows = views.site_rollup(ws, principal, site, grain, period)
    return SiteRollupOut(
        site=site,
        grain=grain,
        period=None if chosen is None else chosen.label,
        period_start=None if chosen is None else chosen.start,
        period_end=None if chosen is None else chosen.end,
        rows=[RollupRowOut(**row) for row in rows],
    )


@router.get(
    "/sites/{site}/kpis",
    operation_id="energy-site_kpis",
    responses=problem_responses(403, 404, 422),
)
def site_kpis(
    ws: WorkspaceDep,
    principal: Reader,
    site: str,
    period: SitePeriod = None,
) -> dict[str, Any]:
    """The KPIs of one metered site in the caller's scope (the keys of ``esgledger energy
    kpi --format json``: ``pue``, ``pue_category``, ``dcie``, ``ppue``, ``clf``, ``plf``,
    ``olf``, ``wue_l_per_kwh``, ``cue_kg_per_kwh``, ``ref``, ``erf``, ``ere``, ``e_it_kwh``,
    ``e_dc_kwh``, ``quality``, ``provenance``, ``findings``)."""
    return views.site_kpis(ws, principal, site, period).to_json()


# ---- reduction proposals ----------------------------------------------------------------------

_PERIOD = "baseline period: 2024, 2024-03 or 2024-01-01:2024-06-30 (default the reporting year)"
_LEVER = "lever key: free_cooling, air_economiser, setpoint, ups_eco, heat_reuse, pv, green_power"
Price = Annotated[
    float, Query(ge=0, allow_inf_nan=False, description="grid electricity price [currency/kWh]")
]
Currency = Annotated[str, Query(min_length=3, max_length=3, description="ISO 4217 code")]


@router.get(
    "/sites/{site}/proposals",
    operation_id="energy-site_proposals",
    responses=problem_responses(403, 404, 422),
)
def site_proposals(
    ws: WorkspaceDep,
    principal: Reader,
    site: str,
    price_per_kwh: Price,
    currency: Currency = "CNY",
    period: Annotated[str | None, Query(max_length=40, description=_PERIOD)] = None,
    capex: Annotated[
        list[str] | None,
        Query(
            max_length=20,
            description="lever=amount[:lifetime_yr] in the currency (repeatable); a lever "
            "without one gets the documented default (CNY only)",
        ),
    ] = None,
    double_conversion: Annotated[
        bool, Query(description="the site's tier requires double-conversion UPS (no eco-mode)")
    ] = False,
    exclude: Annotated[
        list[str] | None, Query(max_length=20, description=f"{_LEVER} to rule out")
    ] = None,
    pv_kwp: Annotated[float | None, Query(gt=0, allow_inf_nan=False)] = None,
    latitude: Annotated[float | None, Query(ge=-90, le=90)] = None,
    longitude: Annotated[float | None, Query(ge=-180, le=180)] = None,
    green_mwh: Annotated[float | None, Query(gt=0, allow_inf_nan=False)] = None,
) -> dict[str, Any]:
    """The levers of one metered site in the caller's scope, ranked by market-based t CO2e
    avoided per year and payback (the keys of ``esgledger energy proposals --format json``:
    ``proposals``, ``refused``, ``advisory``, ``not_additive``). Advisory only."""
    options = proposals.ProposalOptions.from_texts(
        price_per_kwh,
        currency=currency,
        period=period,
        capex=capex,
        double_conversion=double_conversion,
        exclude=exclude,
        pv_kwp=pv_kwp,
        latitude=latitude,
        longitude=longitude,
        green_mwh=green_mwh,
    )
    return proposals.site_proposals_view(ws, principal, site, options).to_json()


class CapexIn(BaseModel):
    """What a lever costs, in the body's currency."""

    amount: float = Field(ge=0, allow_inf_nan=False, description="[currency] investment")
    lifetime_yr: int = Field(10, ge=1, le=100, description="[yr] economic life")


class AdoptIn(BaseModel):
    """The options the proposal was listed with (as the list route's query) and when the
    measure starts."""

    start_year: int = Field(ge=1990, le=2100, description="first year of effect")
    ramp_years: int = Field(0, ge=0, le=50, description="years to full effect")
    price_per_kwh: float = Field(ge=0, allow_inf_nan=False, description="[currency/kWh]")
    currency: str = Field("CNY", min_length=3, max_length=3, description="ISO 4217 code")
    period: str | None = Field(None, max_length=40, description=_PERIOD)
    capex: dict[str, CapexIn] = Field(default_factory=dict, max_length=20)
    double_conversion: bool = False
    pv_kwp: float | None = Field(None, gt=0, allow_inf_nan=False)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    green_mwh: float | None = Field(None, gt=0, allow_inf_nan=False)


class AdoptionOut(BaseModel):
    """Measure id → ``added``, ``updated`` or ``unchanged``."""

    measures: dict[str, str]


@router.post(
    "/sites/{site}/proposals/{proposal_id}/adopt",
    operation_id="energy-adopt_proposal",
    responses=problem_responses(403, 404, 422),
    response_model=AdoptionOut,
)
def adopt_proposal(
    ws: WorkspaceDep, principal: Planner, site: str, proposal_id: str, body: AdoptIn
) -> Any:
    """Store one proposal of a metered site as an abatement measure of the transition plan
    (``esgledger energy adopt``): recomputed with the body's options, idempotent by id, one
    ``energy.adopt`` audit event when the measure is new or changed."""
    currency = body.currency.upper()
    options = proposals.ProposalOptions(
        price_per_kwh=body.price_per_kwh,
        currency=currency,
        period=body.period,
        capex={
            k: proposals.Capex(v.amount, currency, v.lifetime_yr) for k, v in body.capex.items()
        },
        double_conversion=body.double_conversion,
        pv_kwp=body.pv_kwp,
        latitude=body.latitude,
        longitude=body.longitude,
        green_mwh=body.green_mwh,
    )
    return proposals.adopt_site_proposals(
        ws,
        principal,
        site,
        [proposal_id],
        options,
        start_year=body.start_year,
        ramp_years=body.ramp_years,
    ).to_json()
