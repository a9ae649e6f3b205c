"""The reports pages: the written reports with their downloads, generating a report as a job
(progress polled by htmx), and the HKEX content index with each item's status.

Routes (action): ``GET /reports`` (``inventory:read``), ``POST /reports/generate``
(``report:run``), ``GET /reports/jobs/{id}`` (``inventory:read``; the outcome block of a
report job), ``GET /reports/files/{year}/{name}`` (``inventory:read``; only files the report
service lists), ``GET /reports/content-index`` (``inventory:read``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from esgledger.access import Principal
from esgledger.errors import InputError, WorkspaceError
from esgledger.i18n import Text
from esgledger.jobs import service as jobs
from esgledger.report import service
from esgledger.server.deps import PAGES_TAG, PageAllowed, WorkspaceDep
from esgledger.server.web.pages import PageContext, page_lang, render

__all__ = ["ContentIndexPage", "ReportJobOutcome", "ReportsPage", "router"]

router = APIRouter(tags=[PAGES_TAG], include_in_schema=False)

Reader = Annotated[Principal, PageAllowed("inventory:read")]


@dataclass(frozen=True, slots=True)
class FileRow:
    """One written file: ``path`` (``<year>/<name>``), ``name``, ``lang``, ``format``,
    ``table`` (the table's id of an export, else None), ``size`` [bytes], ``modified`` (UTC,
    ISO 8601), ``href`` (its download) and ``id`` (the link's element id)."""

    path: str
    name: str
    lang: str
    format: str
    table: str | None
    size: int
    modified: str
    href: str
    id: str


@dataclass(frozen=True, slots=True)
class TableExports:
    """The exports of one report table: its id and its files (XLSX and CSV per language)."""

    table: str
    files: tuple[FileRow, ...]


@dataclass(frozen=True, slots=True)
class ReportYear:
    """What one reporting year's folder holds: the report ``editions`` (PDF and HTML per
    language) and the ``tables`` exports."""

    year: int
    editions: tuple[FileRow, ...]
    tables: tuple[TableExports, ...]


@dataclass(frozen=True, slots=True)
class ReportsPage(PageContext):
    """The reports page: ``years`` (the written reports, newest first), ``may_generate``
    (the user may start a report job), the ``languages`` and ``formats`` to choose, the
    report ``job`` just started (the API's JobView, when ``?job=`` names one), the report
    editions it wrote (``job_files``, once done), how many table exports it wrote
    (``job_tables``), and ``problem`` (why a generation was refused, in the user's
    language; None when not)."""

    years: tuple[ReportYear, ...]
    may_generate: bool
    languages: tuple[str, ...]
    formats: tuple[str, ...]
    job: dict[str, Any] | None
    job_files: tuple[FileRow, ...]
    job_tables: int
    problem: str | None


@dataclass(frozen=True, slots=True)
class ReportJobOutcome(PageContext):
    """A report job (the API's JobView) and, once done, the report editions it wrote
    (``files``) and how many table exports (``tables``)."""

    job: dict[str, Any]
    files: tuple[FileRow, ...]
    tables: int


def _row(f: service.ReportFile, prefix: str = "report") -> FileRow:
    ident = (
        f"{prefix}-{f.year}-{f.lang}-{f.format}"
        if f.kind == "report"
        else f"{prefix}-{f.year}-{f.table}-{f.lang}-{f.format}"
    )
    return FileRow(
        path=f.path,
        name=f.name,
        lang=f.lang,
        format=f.format,
        table=f.table,
        size=f.size,
        modified=f.modified,
        href=f"/reports/files/{f.path}",
        id=ident,
    )


def _years(files: list[service.ReportFile]) -> tuple[ReportYear, ...]:
    years: list[ReportYear] = []
    for year in sorted({f.year for f in files}, reverse=True):
        mine = [f for f in files if f.year == year]
        tables: dict[str, list[FileRow]] = {}
        for f in mine:
            if f.kind == "table" and f.table is not None:
                tables.setdefault(f.table, []).append(_row(f))
        years.append(
            ReportYear(
                year=year,
                editions=tuple(_row(f) for f in mine if f.kind == "report"),
                tables=tuple(TableExports(t, tuple(rows)) for t, rows in tables.items()),
            )
        )
    return tuple(years)


def _new_files(found: dict[str, Any]) -> tuple[tuple[FileRow, ...], int]:
    files: list[service.ReportFile] = found["files"]
    editions = tuple(_row(f, "new") for f in files if f.kind == "report")
    return editions, len(files) - len(editions)


def _page(
    request: Request,
    overview: dict[str, Any],
    job: dict[str, Any] | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    job_files, job_tables = _new_files(job) if job is not None else ((), 0)
    page = ReportsPage(
        years=_years(overview["files"]),
        may_generate=overview["may_generate"],
        languages=tuple(overview["languages"]),
        formats=tuple(overview["formats"]),
        job=None if job is None else job["job"],
        job_files=job_files,
        job_tables=job_tables,
        problem=problem,
    )
    return render(request, "reports/index.html", page, status_code=status_code)


@router.get("/reports")
def reports(
    request: Request, workspace: WorkspaceDep, principal: Reader, job: int | None = None
) -> Response:
    """The written reports; with ``?job=`` the progress of that report job too."""
    overview = service.overview(workspace, principal)
    started = service.job_outputs(workspace, principal, job) if job is not None else None
    return _page(request, overview, started)


@router.post("/reports/generate")
def generate(
    request: Request,
    workspace: WorkspaceDep,
    principal: Annotated[Principal, PageAllowed("report:run")],
    langs: Annotated[list[str] | None, Form(max_length=10)] = None,
    formats: Annotated[list[str] | None, Form(max_length=10)] = None,
) -> Response:
    """Start a report job (the API's ``report`` kind); its progress shows on ``/reports``."""
    params: dict[str, Any] = {"langs": langs or [], "formats": formats or []}
    try:
        job = jobs.submit(workspace, principal, "report", params)
    except (InputError, WorkspaceError) as exc:
        zh = page_lang(request) == "zh-CN"
        detail = getattr(exc, "zh", None) if zh else None
        overview = service.overview(workspace, principal)
        return _page(request, overview, problem=detail or str(exc), status_code=422)
    return RedirectResponse(f"/reports?job={job['id']}", status_code=303)


@router.get("/reports/jobs/{job_id}")
def job_outcome(
    request: Request, job_id: int, workspace: WorkspaceDep, principal: Reader
) -> Response:
    """A report job's outcome: polled by htmx until the job ends, then its new files."""
    found = service.job_outputs(workspace, principal, job_id)
    files, tables = _new_files(found)
    page = ReportJobOutcome(job=found["job"], files=files, tables=tables)
    return render(
        request,
        "reports/job.html",
        page,
        block="outcome",
        alternate=f"/api/v1/jobs/{job_id}",
    )


@router.get("/reports/files/{path:path}")
def download(path: str, workspace: WorkspaceDep, principal: Reader) -> Response:
    """One written file — only one the report service lists (else 404)."""
    target, entry = service.output_file(workspace, principal, path)
    return FileResponse(
        target,
        media_type=service.CONTENT_TYPES[entry.format],
        headers={"Content-Disposition": service.content_disposition(entry.name)},
    )


@dataclass(frozen=True, slots=True)
class IndexRow:
    """One item of the content index: ``code``, ``title``, ``part`` (B, C, D),
    ``requirement``, ``status`` (disclosed, explained, missing), ``section`` (where it is
    reported: its title, or None), ``explanation`` (English, from the report inputs or the
    index: why not disclosed, or what it lacks), ``data`` (emissions, metric, narrative) and
    ``href`` (the data behind it, or None for a narrative)."""

    code: str
    title: Text
    part: str
    requirement: str
    status: str
    section: Text | None
    explanation: str | None
    data: str
    href: str | None


@dataclass(frozen=True, slots=True)
class ContentIndexPage(PageContext):
    """The HKEX content index of run ``run_id`` (reporting ``year``, issuer ``tier``):
    ``counts`` (status -> items), ``complete`` (nothing required missing) and ``items``."""

    run_id: str
    year: int
    tier: str
    counts: dict[str, int]
    complete: bool
    items: tuple[IndexRow, ...]


#: The inventory figure behind an emissions item (``inventory.service.FIGURES``).
_FIGURE_OF = {
    "D.metrics.scope1": "scope1",
    "D.metrics.scope2": "scope2_location",
    "D.metrics.scope3": "scope3",
}


def _data_href(item: service.ContentIndexItem) -> str | None:
    if item.data == "emissions":
        figure = _FIGURE_OF.get(item.code)
        return "/inventory" if figure is None else f"/inventory/breakdown?figure={figure}&by=entity"
    if item.data == "metric":
        return f"/reports/content-index/{item.code}"
    return None


@router.get("/reports/content-index")
def content_index(request: Request, workspace: WorkspaceDep, principal: Reader) -> Response:
    """The HKEX ESG Reporting Code content index of the latest run, as the report has it."""
    view = service.content_index_view(workspace, principal)
    page = ContentIndexPage(
        run_id=view.run_id,
        year=view.year,
        tier=view.tier,
        counts=dict(view.counts),
        complete=view.complete,
        items=tuple(
            IndexRow(
                code=i.code,
                title=Text(i.title_en, i.title_zh),
                part=i.part,
                requirement=i.requirement,
                status=i.status,
                section=(
                    None
                    if i.section_title_en is None
                    else Text(i.section_title_en, i.section_title_zh or i.section_title_en)
                ),
                explanation=i.explanation,
                data=i.data,
                href=_data_href(i),
            )
            for i in view.items
        ),
    )
    return render(request, "reports/content_index.html", page)


@dataclass(frozen=True, slots=True)
class ValueRow:
    """One stored metric value: ``metric``, ``entity``, period, ``value`` (None for text)
    in ``unit``, ``text`` and ``breakdown`` (``key=value; ...``)."""

    metric: str
    entity: str
    period_start: str
    period_end: str
    value: float | None
    unit: str | None
    text: str | None
    breakdown: str | None


@dataclass(frozen=True, slots=True)
class ItemValuesPage(PageContext):
    """The data behind one content-index item: ``code``, ``title``, ``status``, ``year``,
    ``derived`` (its numbers are derived from the inventory) and its stored ``values``."""

    code: str
    title: Text
    status: str
    year: int
    derived: bool
    values: tuple[ValueRow, ...]


@router.get("/reports/content-index/{code}")
def item_values(
    request: Request, code: str, workspace: WorkspaceDep, principal: Reader
) -> Response:
    """The metric values that disclose one content-index item."""
    found = service.item_values(workspace, principal, code)
    item: service.ContentIndexItem = found["item"]
    page = ItemValuesPage(
        code=item.code,
        title=Text(item.title_en, item.title_zh),
        status=item.status,
        year=found["year"],
        derived="derived" in item.disclosed_by,
        values=tuple(
            ValueRow(
                metric=v["metric"],
                entity=v["entity"],
                period_start=v["period_start"],
                period_end=v["period_end"],
                value=None if v["value"] is None else float(v["value"]),
                unit=v["unit"],
                text=v["text"],
                breakdown=v["breakdown"],
            )
            for v in found["values"]
        ),
    )
    return render(request, "reports/item.html", page)
