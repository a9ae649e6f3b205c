"""The energy platform as a principal may see it (faces call these; ``energy:read``).

按权限范围提供能源平台数据（供命令行、接口和网页调用）。

A data owner or viewer scoped to an entity sees the metered sites of its entities only
(:func:`esgledger.access.scope.visible_entities`); a site outside the scope is answered as
not found, so scope cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from esgledger.access import policy
from esgledger.access.scope import visible_entities, visible_sites
from esgledger.energy import rollups
from esgledger.energy.meters import data_centre_sites, load_meters
from esgledger.errors import NotFoundError, shown

if TYPE_CHECKING:
    from esgledger.access import Principal
    from esgledger.store import Workspace

__all__ = ["SiteTelemetry", "metered_sites", "require_site", "sites_view"]


def metered_sites(workspace: Workspace, principal: Principal) -> list[str]:
    """The sites with meters that ``principal`` may see (``energy:read``), sorted."""
    policy.require(principal, "energy:read")
    visible = visible_sites(workspace, visible_entities(workspace, principal, "energy:read"))
    return [s for s in data_centre_sites(workspace) if visible is None or s in visible]


def require_site(workspace: Workspace, principal: Principal, site: str) -> str:
    """``site`` when it has meters and lies in ``principal``'s scope.

    Raises
    ------
    NotFoundError
        Otherwise (the same answer for both, so scope cannot be probed).
    """
    if site not in metered_sites(workspace, principal):
        raise NotFoundError(f"no metered site {shown(site)}")
    return site


@dataclass(frozen=True, slots=True)
class SiteTelemetry:
    """What the telemetry of one site holds."""

    site: str
    meters: int
    roles: tuple[str, ...]
    timezone: str
    first_month: str | None
    last_month: str | None
    coverage: float | None
    flagged_intervals: int


def sites_view(workspace: Workspace, principal: Principal) -> list[SiteTelemetry]:
    """Per visible metered site: meters, roles, time zone, months covered, mean monthly
    coverage [0-1] and the number of flagged intervals."""
    sites = metered_sites(workspace, principal)
    if not sites:
        return []
    monthly = rollups.rollup(workspace, "month", sites=sites).to_pylist()
    flagged = rollups.flags(workspace, sites=sites).column("site").to_pylist()
    meters = load_meters(workspace)
    views = []
    for site in sites:
        own = [m for m in meters if m.site == site]
        months = [r for r in monthly if r["site"] == site]
        stamps = sorted(r["period_local"] for r in months)
        coverage = [float(r["coverage"]) for r in months if r["coverage"] is not None]
        views.append(
            SiteTelemetry(
                site=site,
                meters=len(own),
                roles=tuple(sorted({m.role for m in own})),
                timezone=own[0].timezone if own else "",
                first_month=f"{stamps[0]:%Y-%m}" if stamps else None,
                last_month=f"{stamps[-1]:%Y-%m}" if stamps else None,
                coverage=sum(coverage) / len(coverage) if coverage else None,
                flagged_intervals=sum(1 for s in flagged if s == site),
            )
        )
    return views
