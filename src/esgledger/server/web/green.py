"""The green power page: instruments with their quality verdicts, their allocation to the
sites, RE % by site and the 24/7 CFE heat-map (``inventory:read``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from esgledger.access import Principal
from esgledger.i18n import Text, ui
from esgledger.renewables import service as green
from esgledger.server.deps import PAGES_TAG, PageAllowed, WorkspaceDep
from esgledger.server.web.pages import PageContext, page_lang, render

__all__ = ["GreenPage", "heat_class", "router"]

router = APIRouter(tags=[PAGES_TAG], include_in_schema=False)


@dataclass(frozen=True, slots=True)
class Failure:
    """A failed quality criterion: its key, whether it excludes the instrument from
    market-based scope 2 (``scope2``) or only from RE100 (``re100``), the clause, and why."""

    criterion: str
    scope: str
    source: str
    reason: Text


@dataclass(frozen=True, slots=True)
class InstrumentRow:
    """One instrument of the register: id, type and its name, technology, country, period
    (ISO dates), MWh, who it is retired for, the two verdicts and the failures."""

    instrument: str
    type: str
    type_name: Text
    technology: str
    country: str
    period_start: str
    period_end: str
    mwh: float
    retired_for: str | None
    valid_scope2: bool
    valid_re100: bool
    failures: tuple[Failure, ...]


@dataclass(frozen=True, slots=True)
class AllocationRow:
    """MWh of one instrument allocated to one site-period, and the pool it came from."""

    instrument: str
    site: str
    entity: str
    period_start: str
    period_end: str
    mwh: float
    pool: str
    re100: bool


@dataclass(frozen=True, slots=True)
class SiteShare:
    """RE % of one site (annual matching): electricity total, purchased, on-site, allocated
    renewable [MWh] and the share [per cent, None without electricity]."""

    code: str
    total_mwh: float
    purchased_mwh: float
    onsite_mwh: float
    allocated_mwh: float
    re_pct: float | None


@dataclass(frozen=True, slots=True)
class HeatCell:
    """One cell of the heat-map: CFE share [per cent, None without load] and its class
    (``heat-0`` … ``heat-4``, ``""`` without load)."""

    pct: float | None
    css: str


@dataclass(frozen=True, slots=True)
class CfeBlock:
    """The 24/7 CFE of the hourly files: sites, the portfolio scores [per cent] and the
    heat-map, 12 rows (months) of 24 cells (hours of the day)."""

    sites: tuple[str, ...]
    cfe_pct: float | None
    hourly_pct: float | None
    volumetric_pct: float | None
    grid_cfe: float | None
    rows: tuple[tuple[HeatCell, ...], ...]


@dataclass(frozen=True, slots=True)
class GreenPage(PageContext):
    """``/green-power`` for run ``run_id`` of reporting year ``year``: the instruments, the
    allocations, the surplus (instrument, MWh) and the excluded (instrument, reason in
    English), RE % by site with its chart option, the group's RE % (None for a scoped
    reader), the CFE block (None when no hourly files are configured) or the reason it
    could not be read (``cfe_error``, English)."""

    run_id: str
    year: int
    scoped: bool
    instruments: tuple[InstrumentRow, ...]
    allocations: tuple[AllocationRow, ...]
    surplus: tuple[tuple[str, float], ...]
    excluded: tuple[tuple[str, str], ...]
    sites: tuple[SiteShare, ...]
    re_group_pct: float | None
    chart: dict[str, Any]
    cfe: CfeBlock | None
    cfe_error: str | None


def heat_class(share: float | None) -> str:
    """The heat-map class of a CFE share [fraction]: ``heat-0`` below 20 % … ``heat-4`` from
    80 %; ``""`` without load."""
    if share is None:
        return ""
    return f"heat-{min(4, max(0, int(share * 5)))}"


def _pct(value: float | None) -> float | None:
    return None if value is None else 100.0 * value


def _chart(sites: tuple[SiteShare, ...], lang: str) -> dict[str, Any]:
    """ECharts bar option: RE % per site."""
    return {
        "aria": {"enabled": True},
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 48, "right": 16, "top": 32, "bottom": 64},
        "xAxis": {
            "type": "category",
            "data": [s.code for s in sites],
            "axisLabel": {"rotate": 45},
        },
        "yAxis": {"type": "value", "max": 100, "name": "%"},
        "series": [
            {
                "name": ui("green.re.series", lang),
                "type": "bar",
                "data": [None if s.re_pct is None else round(s.re_pct, 1) for s in sites],
            }
        ],
    }


def _cfe(data: dict[str, Any] | None) -> tuple[CfeBlock | None, str | None]:
    if data is None:
        return None, None
    if "error" in data:
        return None, str(data["error"])
    rows = tuple(
        tuple(HeatCell(_pct(v), heat_class(v)) for v in month) for month in data["heatmap"]
    )
    return (
        CfeBlock(
            sites=tuple(data["sites"]),
            cfe_pct=_pct(data["cfe_score"]),
            hourly_pct=_pct(data["hourly_match"]),
            volumetric_pct=_pct(data["volumetric"]),
            grid_cfe=data["grid_cfe"],
            rows=rows,
        ),
        None,
    )


@router.get("/green-power")
def green_power(
    request: Request,
    workspace: WorkspaceDep,
    principal: Annotated[Principal, PageAllowed("inventory:read")],
    run: str | None = None,
) -> Response:
    data = green.green_power_view(workspace, principal, run)
    sites = tuple(
        SiteShare(
            code=s["code"],
            total_mwh=s["total_mwh"],
            purchased_mwh=s["purchased_mwh"],
            onsite_mwh=s["onsite_mwh"],
            allocated_mwh=s["allocated_renewable_mwh"],
            re_pct=_pct(s["re_share"]),
        )
        for s in data["re_by_site"]
    )
    cfe, cfe_error = _cfe(data["cfe"])
    context = GreenPage(
        run_id=data["run_id"],
        year=int(data["year"]),
        scoped=bool(data["scoped"]),
        instruments=tuple(
            InstrumentRow(
                instrument=i["instrument"],
                type=i["type"],
                type_name=Text(i["type_name"]["en"], i["type_name"]["zh-CN"]),
                technology=i["technology"],
                country=i["country"],
                period_start=i["period_start"],
                period_end=i["period_end"],
                mwh=i["mwh"],
                retired_for=i["retired_for"],
                valid_scope2=i["valid_scope2"],
                valid_re100=i["valid_re100"],
                failures=tuple(
                    Failure(
                        f["criterion"],
                        f["scope"],
                        f["source"],
                        Text(f["reason"]["en"], f["reason"]["zh-CN"]),
                    )
                    for f in i["failures"]
                ),
            )
            for i in data["instruments"]
        ),
        allocations=tuple(
            AllocationRow(
                a["instrument"],
                a["site"],
                a["entity"],
                a["period_start"],
                a["period_end"],
                a["mwh"],
                a["pool"],
                a["re100"],
            )
            for a in data["allocations"]
        ),
        surplus=tuple(data["surplus_mwh"].items()),
        excluded=tuple(data["excluded"].items()),
        sites=sites,
        re_group_pct=_pct(data["re_share_group"]),
        chart=_chart(sites, page_lang(request)),
        cfe=cfe,
        cfe_error=cfe_error,
    )
    return render(request, "green/green.html", context)
