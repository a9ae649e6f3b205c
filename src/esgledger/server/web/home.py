"""The home page: the dashboard of the reporting year for the signed-in user's scope
(:func:`esgledger.dashboard.service.dashboard_view`). Every figure links to its breakdown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from esgledger.access import Principal
from esgledger.dashboard.service import dashboard_view
from esgledger.i18n import ui
from esgledger.server.deps import PAGES_TAG, PageAllowed, WorkspaceDep
from esgledger.server.web.pages import PageContext, page_lang, render

__all__ = ["HomePage", "router"]

router = APIRouter(tags=[PAGES_TAG], include_in_schema=False)


@dataclass(frozen=True, slots=True)
class HomePage(PageContext):
    """The dashboard.

    ``view``: :func:`~esgledger.dashboard.service.dashboard_view` (figures in t CO2e);
    ``trend``: the ECharts option of the history line chart (empty without history);
    ``categories``: the ECharts option of the scope 3 bar chart, each bar a link to its
    breakdown."""

    view: dict[str, Any]
    trend: dict[str, Any]
    categories: dict[str, Any]


def _trend(view: dict[str, Any], lang: str) -> dict[str, Any]:
    history = view["history"]
    if not history:
        return {}
    years = [str(h["year"]) for h in history]
    series = [
        {
            "type": "line",
            "name": ui(f"dash.{key}", lang),
            "data": [None if h[key] is None else round(float(h[key]), 1) for h in history],
        }
        for key in ("total", "scope1", "scope2_location", "scope2_market", "scope3")
    ]
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"type": "scroll", "bottom": 0},
        "grid": {"left": 80, "right": 20, "top": 30, "bottom": 50},
        "xAxis": {"type": "category", "data": years},
        "yAxis": {"type": "value", "name": "t CO2e"},
        "series": series,
    }


def _categories(view: dict[str, Any], lang: str) -> dict[str, Any]:
    rows = [c for c in view["scope3_by_category"] if c["co2e_t"]]
    if not rows:
        return {}
    names = [ui("dash.category_short", lang, number=c["category"]) for c in rows]
    links = {
        name: f"/inventory/breakdown?figure=scope3&category=3.{c['category']}&by=entity"
        for name, c in zip(names, rows, strict=True)
    }
    return {
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 60, "right": 20, "top": 30, "bottom": 30},
        "xAxis": {"type": "category", "data": names},
        "yAxis": {"type": "value", "name": "t CO2e"},
        "series": [
            {
                "type": "bar",
                "name": ui("dash.scope3", lang),
                "data": [round(float(c["co2e_t"]), 1) for c in rows],
            }
        ],
        "esgledgerLinks": links,
    }


@router.get("/")
def home(
    request: Request,
    workspace: WorkspaceDep,
    principal: Annotated[Principal, PageAllowed("inventory:read")],
) -> Response:
    """The dashboard of the latest run, within the user's scope."""
    view = dashboard_view(workspace, principal)
    lang = page_lang(request)
    page = HomePage(view=view, trend=_trend(view, lang), categories=_categories(view, lang))
    return render(request, "home.html", page, alternate="/api/v1/inventory")
