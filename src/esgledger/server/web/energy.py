"""The energy pages (``energy:read``): the metered sites a user may see, and one site's
monthly energy by role, IT load profile, coverage and flags, and meter tree; its reduction
proposals, which a user with ``energy:plan`` may adopt into the transition plan.

Each route calls one domain service (:func:`esgledger.energy.service.sites_view`,
:func:`esgledger.energy.views.site_view`) and shapes its answer into charts and tables; a
site out of the user's scope is answered as not found, a period that cannot be read as the
422 error page.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from esgledger.access import Principal
from esgledger.access.policy import allowed
from esgledger.energy import proposals, service, views
from esgledger.energy.roles import ROLES, role_label
from esgledger.energy.whatif import LEVERS
from esgledger.errors import InputError
from esgledger.i18n import Lang, Text, ui
from esgledger.server.deps import PAGES_TAG, PageAllowed, WorkspaceDep
from esgledger.server.web.pages import PageContext, page_lang, render

__all__ = [
    "EnergyAlertsPage",
    "EnergyIndexPage",
    "EnergyProposalsPage",
    "EnergySitePage",
    "ProposalRow",
    "RefusedRow",
    "load_class",
    "router",
]

router = APIRouter(tags=[PAGES_TAG], include_in_schema=False)

Reader = Annotated[Principal, PageAllowed("energy:read")]
Planner = Annotated[Principal, PageAllowed(proposals.PLAN_ACTION)]

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


# ---- reduction proposals ----------------------------------------------------------------------

Outcome = Literal["added", "updated", "unchanged"]
_OUTCOMES: tuple[Outcome, ...] = ("added", "updated", "unchanged")


@dataclass(frozen=True, slots=True)
class ProposalRow:
    """One ranked proposal (:class:`esgledger.energy.proposals.Proposal`): market- and
    location-based t CO2e avoided per year, saving [currency/yr], capex [currency] and its
    life [yr], simple payback [yr] and cost per tonne [currency / t CO2e] (``None``: not
    computed, the reason among ``notes``); ``adoptable``: it can become a planner measure
    (it avoids emissions and has a cost per tonne)."""

    id: str
    rank: int
    lever: str
    name: Text
    saved_t_co2e_market: float
    saved_t_co2e_location: float
    saved_cost: float
    currency: str
    capex: float | None
    lifetime_yr: int | None
    payback_yr: float | None
    cost_per_t: float | None
    notes: tuple[Text, ...]
    adoptable: bool


@dataclass(frozen=True, slots=True)
class RefusedRow:
    """A lever not proposed: its name and why."""

    lever: str
    name: Text
    reason: Text


@dataclass(frozen=True, slots=True)
class EnergyProposalsPage(PageContext):
    """``/energy/sites/{site}/proposals``: the options as asked (price text, currency,
    double-conversion, the period text of the request or ``None`` for the reporting year),
    whether the proposals were computed (a price was given), the ranked rows and refused
    levers, the advisory and not-additive notes, the domain's reason when they cannot be
    computed (``error``), whether the user may adopt (``energy:plan``), the default first
    year of a measure, and the outcome of an adoption just made (id and outcome). The site
    page loads its ``proposals`` block with htmx; opened directly it is a page."""

    site: str
    period_query: str | None
    price_text: str
    currency: str
    double_conversion: bool
    computed: bool
    rows: tuple[ProposalRow, ...]
    refused: tuple[RefusedRow, ...]
    advisory: Text
    not_additive: Text
    error: str | None
    can_plan: bool
    start_year: int
    adopted: str | None
    outcome: Outcome | None


def _proposal_rows(found: proposals.ProposalSet) -> tuple[ProposalRow, ...]:
    return tuple(
        ProposalRow(
            id=p.id,
            rank=p.rank,
            lever=p.lever,
            name=p.name,
            saved_t_co2e_market=p.saved_t_co2e,
            saved_t_co2e_location=p.saved_t_co2e_location,
            saved_cost=p.saved_cost,
            currency=p.currency,
            capex=None if p.capex is None else p.capex.capex,
            lifetime_yr=None if p.capex is None else p.capex.lifetime_yr,
            payback_yr=p.payback_yr,
            cost_per_t=p.cost_per_t,
            notes=tuple(n.text for n in p.notes),
            adoptable=p.adoptable,
        )
        for p in found.proposals
    )


def _refused_rows(found: proposals.ProposalSet) -> tuple[RefusedRow, ...]:
    return tuple(
        RefusedRow(lever=r.lever, name=LEVERS[r.lever].name, reason=r.reason) for r in found.refused
    )


def _options_query(
    price_per_kwh: float, currency: str, period: str | None, double_conversion: bool
) -> dict[str, str]:
    """The proposals' options as query parameters (of the page and of the API's list route);
    an empty period and ``double_conversion=false`` are left out."""
    return (
        {"price_per_kwh": f"{price_per_kwh:g}", "currency": currency.upper()}
        | ({"period": period} if period else {})
        | ({"double_conversion": "true"} if double_conversion else {})
    )


def _proposals_page(
    request: Request,
    workspace: Any,
    principal: Principal,
    site: str,
    *,
    period: str | None,
    price_per_kwh: float | None,
    currency: str,
    double_conversion: bool,
    adopted: str | None = None,
    outcome: str | None = None,
    error: str | None = None,
) -> Response:
    """The proposals page (or block) of ``site``; computed when a price is given. A reason
    the domain gives for not computing them (no weather, no IT meter, a bad option) is shown
    in the block: 422 for a page, 200 for htmx, which swaps only successful answers."""
    found: proposals.ProposalSet | None = None
    service.require_site(workspace, principal, site)
    if price_per_kwh is not None and error is None:
        options = proposals.ProposalOptions(
            price_per_kwh=price_per_kwh,
            currency=currency.upper(),
            period=period,
            double_conversion=double_conversion,
        )
        try:
            found = proposals.site_proposals_view(workspace, principal, site, options)
        except InputError as exc:
            error = str(exc)
    # the notice of an adoption names a proposal the page lists, with a known outcome
    notice = (
        found is not None and outcome in _OUTCOMES and any(p.id == adopted for p in found.proposals)
    )
    context = EnergyProposalsPage(
        site=site,
        period_query=period,
        price_text="" if price_per_kwh is None else f"{price_per_kwh:g}",
        currency=currency.upper(),
        double_conversion=double_conversion,
        computed=found is not None,
        rows=() if found is None else _proposal_rows(found),
        refused=() if found is None else _refused_rows(found),
        advisory=proposals.ADVISORY,
        not_additive=proposals.NOT_ADDITIVE,
        error=error,
        can_plan=allowed(principal, proposals.PLAN_ACTION) is True,
        start_year=workspace.reporting_year + 1,
        adopted=adopted if notice else None,
        outcome=outcome if notice else None,  # type: ignore[arg-type]
    )
    partial = request.headers.get("hx-request") == "true"
    alternate = None
    if price_per_kwh is not None:
        query = urlencode(_options_query(price_per_kwh, currency, period, double_conversion))
        alternate = f"/api/v1/energy/sites/{quote(site, safe='')}/proposals?{query}"
    return render(
        request,
        "energy/proposals.html",
        context,
        block="proposals",
        status_code=422 if error is not None and not partial else 200,
        alternate=alternate,
    )


PriceQuery = Annotated[float | None, Query(ge=0, allow_inf_nan=False)]
CurrencyText = Annotated[str, Query(min_length=3, max_length=3)]
PeriodText = Annotated[str | None, Query(max_length=40)]


@router.get("/energy/sites/{site}/proposals")
def energy_proposals(
    request: Request,
    workspace: WorkspaceDep,
    principal: Reader,
    site: str,
    price_per_kwh: PriceQuery = None,
    currency: CurrencyText = "CNY",
    period: PeriodText = None,
    double_conversion: bool = False,
    adopted: Annotated[str | None, Query(max_length=200)] = None,
    outcome: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    return _proposals_page(
        request,
        workspace,
        principal,
        site,
        period=period or None,
        price_per_kwh=price_per_kwh,
        currency=currency,
        double_conversion=double_conversion,
        adopted=adopted,
        outcome=outcome,
    )


@router.post("/energy/sites/{site}/proposals/{proposal_id}/adopt")
def energy_adopt(
    request: Request,
    workspace: WorkspaceDep,
    principal: Planner,
    site: str,
    proposal_id: Annotated[str, Path(max_length=200)],
    start_year: Annotated[int, Form(ge=1990, le=2100)],
    price_per_kwh: Annotated[float, Form(ge=0, allow_inf_nan=False)],
    currency: Annotated[str, Form(min_length=3, max_length=3)] = "CNY",
    period: Annotated[str, Form(max_length=40)] = "",
    ramp_years: Annotated[int, Form(ge=0, le=50)] = 0,
    double_conversion: Annotated[bool, Form()] = False,
) -> Response:
    options = proposals.ProposalOptions(
        price_per_kwh=price_per_kwh,
        currency=currency.upper(),
        period=period or None,
        double_conversion=double_conversion,
    )
    try:
        done = proposals.adopt_site_proposals(
            workspace,
            principal,
            site,
            [proposal_id],
            options,
            start_year=start_year,
            ramp_years=ramp_years,
        )
    except InputError as exc:
        return _proposals_page(
            request,
            workspace,
            principal,
            site,
            period=period or None,
            price_per_kwh=price_per_kwh,
            currency=currency,
            double_conversion=double_conversion,
            error=str(exc),
        )
    params = _options_query(price_per_kwh, currency, period, double_conversion) | {
        "adopted": proposal_id,
        "outcome": done.outcome[proposal_id],
    }
    return RedirectResponse(
        f"/energy/sites/{quote(site, safe='')}/proposals?{urlencode(params)}", status_code=303
    )
