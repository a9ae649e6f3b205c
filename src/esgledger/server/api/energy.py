"""The energy platform's API (``docs/energy/``): metered sites and what their telemetry holds."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel

from esgledger.access import Principal
from esgledger.energy import service
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


@router.get("/sites", responses=problem_responses(401, 403), response_model=list[SiteTelemetryOut])
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
