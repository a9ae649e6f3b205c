"""The inventory pages: runs and a calculation started as a job, a figure's breakdown, its
line items, one row's explanation, the comparison of two runs, data quality and
uncertainty — over :mod:`esgledger.inventory.service` (the same views as the API and CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from esgledger.access import Principal
from esgledger.access.policy import allowed
from esgledger.contract import jsonable
from esgledger.errors import InputError
from esgledger.i18n import ui
from esgledger.inventory import service
from esgledger.inventory.service import BREAKDOWN_DIMENSIONS, LineFilter
from esgledger.jobs import service as jobs
from esgledger.server.deps import PAGES_TAG, PageAllowed, WorkspaceDep
from esgledger.server.web.pages import PageContext, page_lang, render

__all__ = [
    "BreakdownPage",
    "DiffPage",
    "ExplainPage",
    "LinesPage",
    "QualityPage",
    "RunsPage",
    "UncertaintyPage",
    "router",
]

router = APIRouter(tags=[PAGES_TAG], include_in_schema=False)

Reader = Annotated[Principal, PageAllowed("inventory:read")]
Calculator = Annotated[Principal, PageAllowed("calculate:run")]
Text200 = Annotated[str | None, Query(max_length=200)]

#: The GWP sets and consolidation approaches the calculate form offers.
GWP_CHOICES: tuple[str, ...] = ("AR6", "AR5", "AR4")
CONSOLIDATION_CHOICES: tuple[str, ...] = ("operational", "financial", "equity")


@dataclass(frozen=True, slots=True)
class RunsPage(PageContext):
    """The runs and the calculate form.

    ``runs``: :func:`~esgledger.inventory.service.runs_view`, newest first; ``job``: the
    calculation job just started (``JobView``) or None; ``may_calculate``: whether the user
    may start one; ``problems``: why the last form was refused (empty if it was not);
    ``gwp_choices``/``consolidation_choices``: the form's options."""

    runs: tuple[dict[str, Any], ...]
    job: dict[str, Any] | None
    may_calculate: bool
    problems: tuple[dict[str, Any], ...] = ()
    gwp_choices: tuple[str, ...] = GWP_CHOICES
    consolidation_choices: tuple[str, ...] = CONSOLIDATION_CHOICES


@dataclass(frozen=True, slots=True)
class BreakdownPage(PageContext):
    """A figure broken down: ``view`` is
    :func:`~esgledger.inventory.service.breakdown_view`; ``dimensions`` the tabs; ``run``
    the run asked for ('' = the latest); ``chart`` its ECharts bar option, each bar a link
    to its line items."""

    view: dict[str, Any]
    dimensions: tuple[str, ...]
    run: str
    chart: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LinesPage(PageContext):
    """A page of line items (:func:`~esgledger.inventory.service.lines_view`); ``run`` the
    run asked for ('' = the latest)."""

    view: dict[str, Any]
    run: str


@dataclass(frozen=True, slots=True)
class ExplainPage(PageContext):
    """One activity row explained (:func:`~esgledger.inventory.service.explain_view`)."""

    explanation: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DiffPage(PageContext):
    """Two runs compared: ``diff`` is :func:`~esgledger.inventory.service.diff_view` (None
    until two runs are chosen); ``runs`` the runs to choose from; ``a``/``b`` the chosen ids."""

    diff: dict[str, Any] | None
    runs: tuple[dict[str, Any], ...]
    a: str
    b: str


@dataclass(frozen=True, slots=True)
class QualityPage(PageContext):
    """Data quality of the latest run: ``quality`` is the ``data_quality`` of
    :func:`~esgledger.inventory.service.inventory_view`, ``completeness`` its
    ``scope3_completeness``, ``run_id`` the run."""

    quality: dict[str, Any]
    completeness: dict[str, Any]
    run_id: str


@dataclass(frozen=True, slots=True)
class UncertaintyPage(PageContext):
    """Factor uncertainty (:func:`~esgledger.inventory.service.uncertainty_view`) grouped
    ``by`` scope, scope 3 category or entity."""

    view: dict[str, Any]
    by: str


def _filters(
    figure: str, category: str | None, entity: str | None, site: str | None, activity: str | None
) -> LineFilter:
    return LineFilter(
        figure=figure,
        category=category or None,
        entity=entity or None,
        site=site or None,
        activity=activity or None,
    )


def _runs_page(
    request: Request,
    workspace: WorkspaceDep,
    principal: Principal,
    job: dict[str, Any] | None,
    problems: tuple[dict[str, Any], ...] = (),
    status_code: int = 200,
) -> Response:
    runs = tuple(reversed(service.runs_view(workspace, principal)))
    page = RunsPage(
        runs=runs,
        job=job,
        may_calculate=allowed(principal, "calculate:run") is True,
        problems=problems,
    )
    return render(
        request,
        "inventory/runs.html",
        page,
        block="runs",
        alternate="/api/v1/runs",
        status_code=status_code,
    )


@router.get("/inventory")
def runs(
    request: Request,
    workspace: WorkspaceDep,
    principal: Reader,
    job: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    """The runs, newest first, and (with ``job``) the calculation just started; to htmx, the
    runs block (polled while that job runs, so the new run appears when it is done)."""
    view = None if job is None else dict(jobs.get(workspace, principal, job))
    return _runs_page(request, workspace, principal, view)


@router.post("/inventory/calculate")
def calculate(
    request: Request,
    workspace: WorkspaceDep,
    principal: Calculator,
    gwp: Annotated[str, Form(max_length=10)] = "AR6",
    consolidation: Annotated[str, Form(max_length=20)] = "operational",
    include_submitted: Annotated[str | None, Form(max_length=10)] = None,
) -> Response:
    """Start a calculation job and come back to the runs with its progress."""
    params: dict[str, Any] = {"gwp": gwp, "consolidation": consolidation}
    if include_submitted:
        params["include"] = ["submitted"]
    try:
        job = jobs.submit(workspace, principal, "calculate", params)
    except InputError as exc:
        problems = tuple(jsonable(issue) for issue in exc.issues)
        return _runs_page(request, workspace, principal, None, problems, status_code=422)
    return RedirectResponse(f"/inventory?job={job['id']}", status_code=303)


@router.get("/inventory/breakdown")
def breakdown(
    request: Request,
    workspace: WorkspaceDep,
    principal: Reader,
    figure: Annotated[str, Query(max_length=40)] = "total",
    by: Annotated[str, Query(max_length=20)] = "entity",
    category: Annotated[str | None, Query(max_length=10)] = None,
    entity: Text200 = None,
    site: Text200 = None,
    activity: Text200 = None,
    run: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """A figure broken down by entity, site, activity or category."""
    filters = _filters(figure, category, entity, site, activity)
    view = service.breakdown_view(workspace, principal, filters, by, run or None)
    page = BreakdownPage(
        view=view,
        dimensions=BREAKDOWN_DIMENSIONS,
        run=run or "",
        chart=_breakdown_chart(view, run or "", page_lang(request)),
    )
    return render(request, "inventory/breakdown.html", page)


def _lines_url(params: dict[str, str]) -> str:
    return "/inventory/lines?" + urlencode({k: v for k, v in params.items() if v})


def _label(by: str, key: str, lang: str) -> str:
    if by != "category":
        return key
    head, _, tail = key.partition(".")
    if tail:
        return ui("dash.category_short", lang, number=tail)
    return ui(f"inv.scope.{head}", lang)


def _breakdown_chart(view: dict[str, Any], run: str, lang: str) -> dict[str, Any]:
    rows = [r for r in view["rows"] if r["lines"] is not None][:20]
    if not rows:
        return {}
    names = [_label(view["by"], r["key"], lang) for r in rows]
    links = {
        name: _lines_url({**view["filters"], view["by"]: r["key"], "run": run})
        for name, r in zip(names, rows, strict=True)
    }
    return {
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 10, "right": 40, "top": 10, "bottom": 10, "containLabel": True},
        "xAxis": {"type": "value"},
        "yAxis": {"type": "category", "data": names[::-1]},
        "series": [{"type": "bar", "data": [round(r["co2e_t"], 1) for r in rows][::-1]}],
        "esgledgerLinks": links,
    }


@router.get("/inventory/lines")
def lines(
    request: Request,
    workspace: WorkspaceDep,
    principal: Reader,
    figure: Annotated[str, Query(max_length=40)] = "total",
    category: Annotated[str | None, Query(max_length=10)] = None,
    entity: Text200 = None,
    site: Text200 = None,
    activity: Text200 = None,
    sort: Annotated[str, Query(max_length=20)] = "emissions",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    run: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """The line items of a figure, 50 a page, largest first."""
    filters = _filters(figure, category, entity, site, activity)
    view = service.lines_view(
        workspace, principal, filters, page=page, sort=sort, run_id=run or None
    )
    return render(request, "inventory/lines.html", LinesPage(view=view, run=run or ""))


@router.get("/inventory/lines/{key}/explain")
def explain(
    request: Request,
    key: str,
    workspace: WorkspaceDep,
    principal: Reader,
    run: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """How one activity row's figures came to be."""
    explanation = service.explain_view(workspace, principal, key, run or None)
    return render(request, "inventory/explain.html", ExplainPage(explanation=explanation))


@router.get("/inventory/diff")
def diff(
    request: Request,
    workspace: WorkspaceDep,
    principal: Reader,
    a: Annotated[str | None, Query(max_length=100)] = None,
    b: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """Two runs compared (choose them with the form)."""
    runs = tuple(reversed(service.runs_view(workspace, principal)))
    found = service.diff_view(workspace, principal, a, b) if a and b else None
    page = DiffPage(diff=found, runs=runs, a=a or "", b=b or "")
    return render(request, "inventory/diff.html", page)


@router.get("/inventory/quality")
def quality(request: Request, workspace: WorkspaceDep, principal: Reader) -> Response:
    """Data-quality scores and the scope 3 completeness of the latest run."""
    view = service.inventory_view(workspace, principal)
    page = QualityPage(
        quality=dict(view["data_quality"]),
        completeness=dict(view["scope3_completeness"]),
        run_id=str(view["run"]["run_id"]),
    )
    return render(request, "inventory/quality.html", page, alternate="/api/v1/inventory")


@router.get("/inventory/uncertainty")
def uncertainty(
    request: Request,
    workspace: WorkspaceDep,
    principal: Reader,
    by: Annotated[str, Query(max_length=20)] = "scope",
) -> Response:
    """Factor uncertainty of the latest run by Monte Carlo."""
    view = service.uncertainty_view(workspace, principal, by)
    return render(request, "inventory/uncertainty.html", UncertaintyPage(view=view, by=by))
