"""The energy platform's API (``docs/energy/``): metered sites and what their telemetry holds."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from esgledger.access import Principal
from esgledger.energy import service, views
from esgledger.server.deps import Allowed, WorkspaceDep
from esgledger.server.problems import problem_responses

router = APIRouter(prefix="/api/v1/energy", tags=["energy"])

Reader = Annotated[Principal, Allowed("energy:read")]


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
    period: Annotated[
        str | None,
        Query(
            description="2024, 2024-03, 2024-03-05 or 2024-01-01:2024-06-30; default the "
            "twelve months up to the site's latest month with data"
        ),
    ] = None,
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
    period: Annotated[
        str | None,
        Query(
            description="2024, 2024-03, 2024-03-05 or 2024-01-01:2024-06-30; default the "
            "twelve months up to the site's latest month with data"
        ),
    ] = None,
) -> dict[str, Any]:
    """The KPIs of one metered site in the caller's scope (the keys of ``esgledger energy
    kpi --format json``: ``pue``, ``pue_category``, ``dcie``, ``ppue``, ``clf``, ``plf``,
    ``olf``, ``wue_l_per_kwh``, ``cue_kg_per_kwh``, ``ref``, ``erf``, ``ere``, ``e_it_kwh``,
    ``e_dc_kwh``, ``quality``, ``provenance``, ``findings``)."""
    return views.site_kpis(ws, principal, site, period).to_json()
