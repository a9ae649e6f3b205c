"""The energy pages (``energy:read``): the metered sites a user may see, and one site's
monthly energy by role, IT load profile, coverage and flags, and meter tree.

Each route calls one domain service (:func:`esgledger.energy.service.sites_view`,
:func:`esgledger.energy.views.site_view`) and shapes its answer into charts and tables; a
site out of the user's scope is answered as not found, a period that cannot be read as the
422 error page.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from esgledger.access import Principal
from esgledger.energy import service, views
from esgledger.energy.roles import ROLES, role_label
from esgledger.i18n import Lang, Text, ui
from esgledger.server.deps import PAGES_TAG, PageAllowed, WorkspaceDep
from esgledger.server.web.pages import PageContext, page_lang, render

__all__ = ["EnergyAlertsPage", "EnergyIndexPage", "EnergySitePage", "load_class", "router"]

router = APIRouter(tags=[PAGES_TAG], include_in_schema=False)

Reader = Annotated[Principal, PageAllowed("energy:read")]

#: Roles stacked in the monthly chart: disjoint end uses (the IT role of the profile is added
#: in front); the incomer is drawn as a line over them.
_STACKED = ("cooling", "other", "non_dc")
_LOAD_CLASSES = 5


@dataclass(frozen=True, slots=True)
class SiteRow:
    """One metered site of the list: code, meters, role names, time zone, first and last
    month of data (``YYYY-MM``), mean monthly coverage [per cent] and flagged intervals."""

    site: str
    meters: int
    roles: tuple[Text, ...]
    timezone: str
    first_month: str | None
    last_month: str | None
    coverage_pct: float | None
    flagged_intervals: int


@dataclass(frozen=True, slots=True)
class EnergyIndexPage(PageContext):
    """``/energy``: the metered sites the user may see."""

    sites: tuple[SiteRow, ...]


@dataclass(frozen=True, slots=True)
class LoadCell:
    """One cell of the load table: mean IT energy in the hour [kWh] and its class
    (``load-0`` … ``load-4``; ``""`` without data)."""

    kwh: float | None
    css: str


@dataclass(frozen=True, slots=True)
class LoadRow:
    """One local month of the load table: 24 cells (hours of the day)."""

    month: str
    cells: tuple[LoadCell, ...]


@dataclass(frozen=True, slots=True)
class EnergySitePage(PageContext):
    """``/energy/sites/{site}``: the site's view (:class:`esgledger.energy.views.
    SiteEnergyView`), the role names, the period links (previous/next year label or
    ``None``), the monthly chart option, the IT load chart option (days × hours) and its
    table (months × hours, mean kWh per hour) with the bounds of its five classes [kWh,
    lowest to highest hourly energy in six steps], and the CLF/PLF/OLF waterfall option
    (``None`` when a load factor is not computed)."""

    view: views.SiteEnergyView
    role_names: dict[str, Text]
    period_text: str
    previous_period: str | None
    next_period: str | None
    monthly_chart: dict[str, Any]
    load_chart: dict[str, Any]
    load_rows: tuple[LoadRow, ...]
    load_bounds: tuple[float, ...]
    waterfall: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class EnergyAlertsPage(PageContext):
    """``/energy/sites/{site}/alerts``: the site's anomaly alerts over the period (``None``
    without readings), and the period text of the request (``None``: the default). The site
    page loads its ``alerts`` block with htmx; opened directly it is a page."""

    site: str
    period_query: str | None
    alerts: views.AlertsView | None


def load_class(value: float | None, low: float, high: float) -> str:
    """The class of an hourly energy ``value`` on the scale ``low`` … ``high`` (``load-0`` …
    ``load-4``, five equal steps; ``load-2`` when the load is flat; ``""`` without data)."""
    if value is None:
        return ""
    if high <= low:
        return "load-2"
    step = int((value - low) / (high - low) * _LOAD_CLASSES)
    return f"load-{min(_LOAD_CLASSES - 1, max(0, step))}"


def _pct(value: float | None) -> float | None:
    return None if value is None else 100.0 * value


@router.get("/energy")
def energy_index(request: Request, workspace: WorkspaceDep, principal: Reader) -> Response:
    rows = tuple(
        SiteRow(
            site=v.site,
            meters=v.meters,
            roles=tuple(role_label(r) for r in v.roles),
            timezone=v.timezone,
            first_month=v.first_month,
            last_month=v.last_month,
            coverage_pct=_pct(v.coverage),
            flagged_intervals=v.flagged_intervals,
        )
        for v in service.sites_view(workspace, principal)
    )
    return render(
        request, "energy/index.html", EnergyIndexPage(rows), alternate="/api/v1/energy/sites"
    )


def _stacked(view: views.SiteEnergyView) -> tuple[str, ...]:
    first = (view.it_role,) if view.it_role else ()
    return tuple(r for r in (*first, *_STACKED) if r in view.roles)


def _monthly_chart(view: views.SiteEnergyView, lang: Lang) -> dict[str, Any]:
    """ECharts option: stacked bars of the disjoint end uses per month [MWh], the incomer
    as a line."""
    months = [m.month for m in view.months]

    def mwh(role: str) -> list[float | None]:
        out = []
        for m in view.months:
            value = m.by_role.get(role)
            out.append(None if value is None else round(value / 1000.0, 3))
        return out

    series: list[dict[str, Any]] = [
        {"name": role_label(r).get(lang), "type": "bar", "stack": "energy", "data": mwh(r)}
        for r in _stacked(view)
    ]
    if "incomer" in view.roles:
        series.append(
            {"name": role_label("incomer").get(lang), "type": "line", "data": mwh("incomer")}
        )
    return {
        "aria": {"enabled": True},
        "tooltip": {"trigger": "axis"},
        "legend": {"type": "scroll", "bottom": 0},
        "grid": {"left": 56, "right": 16, "top": 32, "bottom": 72},
        "xAxis": {"type": "category", "data": months},
        "yAxis": {"type": "value", "name": "MWh"},
        "series": series,
    }


def _load_chart(
    view: views.SiteEnergyView, bounds: tuple[float, ...], lang: Lang
) -> dict[str, Any]:
    """ECharts option: the hourly IT energy as squares, day × hour, one series per class
    (the common build of ECharts has no heat-map series)."""
    days = [d.day.isoformat() for d in view.profile]
    classes: list[list[list[float | int]]] = [[] for _ in range(_LOAD_CLASSES)]
    for x, day in enumerate(view.profile):
        for hour, value in enumerate(day.hours):
            css = load_class(value, bounds[0], bounds[-1])
            if value is not None and css:
                classes[int(css[-1])].append([x, hour, round(value, 2)])
    colours = ("#dbeafe", "#93c5fd", "#3b82f6", "#1d4ed8", "#1e3a8a")

    return {
        "aria": {"enabled": True},
        "tooltip": {"trigger": "item"},
        "legend": {"bottom": 0},
        "grid": {"left": 48, "right": 16, "top": 24, "bottom": 64},
        "xAxis": {"type": "category", "data": days, "name": ui("energy.load.day", lang)},
        "yAxis": {
            "type": "value",
            "min": 0,
            "max": 23,
            "interval": 3,
            "name": ui("energy.load.hour", lang),
        },
        "series": [
            {
                "name": f"{bounds[i]:,.1f}–{bounds[i + 1]:,.1f} kWh",
                "type": "scatter",
                "symbol": "rect",
                "symbolSize": [4, 8],
                "itemStyle": {"color": colours[i]},
                "data": classes[i],
            }
            for i in range(_LOAD_CLASSES)
        ],
    }


def _load_table(view: views.SiteEnergyView, low: float, high: float) -> tuple[LoadRow, ...]:
    """Mean IT energy per hour of the day, by local month, with its class."""
    sums: dict[str, list[list[float]]] = defaultdict(lambda: [[] for _ in range(24)])
    for day in view.profile:
        month = f"{day.day:%Y-%m}"
        for hour, value in enumerate(day.hours):
            if value is not None:
                sums[month][hour].append(value)
    rows = []
    for month in sorted(sums):
        cells = []
        for values in sums[month]:
            mean = sum(values) / len(values) if values else None
            cells.append(LoadCell(mean, load_class(mean, low, high)))
        rows.append(LoadRow(month, tuple(cells)))
    return tuple(rows)


def _waterfall(kpis: views.KpiPanel | None, lang: Lang) -> dict[str, Any] | None:
    """ECharts option: PUE built up from 1 (IT) by CLF, PLF, OLF and the unattributed
    remainder (a stacked bar over an invisible base)."""
    if kpis is None or kpis.pue is None or None in (kpis.clf, kpis.plf, kpis.olf):
        return None
    steps = [
        (ui("energy.kpi.step.it", lang), 1.0),
        ("CLF", kpis.clf or 0.0),
        ("PLF", kpis.plf or 0.0),
        ("OLF", kpis.olf or 0.0),
    ]
    if kpis.unattributed_ratio is not None:
        steps.append((ui("energy.kpi.step.unattributed", lang), kpis.unattributed_ratio))
    base, bases, values = 0.0, [], []
    for _name, value in steps:
        bases.append(round(base if value >= 0 else base + value, 4))
        values.append(round(abs(value), 4))
        base += value
    names = [name for name, _value in steps] + ["PUE"]
    return {
        "aria": {"enabled": True},
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": {"left": 48, "right": 16, "top": 24, "bottom": 48},
        "xAxis": {"type": "category", "data": names},
        "yAxis": {"type": "value", "min": 0},
        "series": [
            {
                "name": ui("energy.kpi.waterfall.base", lang),
                "type": "bar",
                "stack": "pue",
                "silent": True,
                "itemStyle": {"color": "transparent"},
                "tooltip": {"show": False},
                "data": [*bases, 0],
            },
            {
                "name": ui("energy.kpi.waterfall.series", lang),
                "type": "bar",
                "stack": "pue",
                "label": {"show": True, "position": "top"},
                "data": [*values, round(kpis.pue, 4)],
            },
        ],
    }


def _neighbours(view: views.SiteEnergyView) -> tuple[str | None, str | None]:
    """Links to the previous and next calendar year when the period is a year."""
    if view.period.kind != "Y":
        return None, None
    year = view.period.start.year
    return f"{year - 1:04d}", f"{year + 1:04d}"


@router.get("/energy/sites/{site}")
def energy_site(
    request: Request,
    workspace: WorkspaceDep,
    principal: Reader,
    site: str,
    period: str | None = None,
) -> Response:
    lang = page_lang(request)
    view = views.site_view(workspace, principal, site, period)
    known = [v for day in view.profile for v in day.hours if v is not None]
    low, high = (min(known), max(known)) if known else (0.0, 0.0)
    bounds = tuple(low + (high - low) * i / _LOAD_CLASSES for i in range(_LOAD_CLASSES + 1))
    previous, following = _neighbours(view)
    context = EnergySitePage(
        view=view,
        role_names={r: role_label(r) for r in ROLES},
        period_text=view.period.label,
        previous_period=previous,
        next_period=following,
        monthly_chart=_monthly_chart(view, lang),
        load_chart=_load_chart(view, bounds, lang),
        load_rows=_load_table(view, low, high),
        load_bounds=bounds,
        waterfall=_waterfall(view.kpis, lang),
    )
    query = urlencode({"grain": "month", "period": view.period.label})
    return render(
        request,
        "energy/site.html",
        context,
        alternate=f"/api/v1/energy/sites/{quote(site, safe='')}/rollup?{query}",
    )


@router.get("/energy/sites/{site}/alerts")
def energy_alerts(
    request: Request,
    workspace: WorkspaceDep,
    principal: Reader,
    site: str,
    period: str | None = None,
) -> Response:
    found = views.site_alerts(workspace, principal, site, period)
    context = EnergyAlertsPage(site=site, period_query=period, alerts=found)
    return render(request, "energy/alerts.html", context, block="alerts")
