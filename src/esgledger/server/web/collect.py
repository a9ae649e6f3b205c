"""The data-collection pages: a data owner's tasks (template, upload with row-level problems,
evidence), the review queue (flags, last year side by side, accept, return, approve) and the
ESG office's campaigns (create from the catalogue, progress, owners, overdue reminders).

Each route calls the service the API's twin calls (``esgledger.collection.service``); a form
that fails re-renders its page with the domain's reason (422 or 409), one that succeeds
redirects (303) back with a notice named in the query string (``?done=<key>``).
"""

from __future__ import annotations

import io
import urllib.parse
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from esgledger.access import Principal
from esgledger.access.policy import allowed
from esgledger.collection import service
from esgledger.errors import ConflictError, EsgledgerError, InputError, Issue
from esgledger.server.deps import PAGES_TAG, PageAllowed, WorkspaceDep
from esgledger.server.web.pages import PageContext, page_lang, render

__all__ = [
    "CampaignFormPage",
    "CampaignPage",
    "CampaignsPage",
    "ReviewListPage",
    "ReviewPage",
    "TaskPage",
    "TasksPage",
    "router",
]

router = APIRouter(tags=[PAGES_TAG], include_in_schema=False)

_MAX_ID = 2**31 - 1
Id = Annotated[int, Path(ge=1, le=_MAX_ID)]
PageNo = Annotated[int, Query(ge=1, le=100_000)]
#: Rows per page of a list.
PAGE_SIZE = 50
#: The largest upload a form reads [bytes] (the importer's own limits still apply).
UPLOAD_MAX_BYTES = 64 << 20

#: The notices a redirect may name (``?done=``): anything else is ignored.
NOTICES = frozenset(
    {"uploaded", "evidence", "started", "accepted", "returned", "approved", "assigned", "created"}
)

Submitter = Annotated[Principal, PageAllowed("task:submit")]
TaskReader = Annotated[Principal, PageAllowed("task:read")]
Reviewer = Annotated[Principal, PageAllowed("task:review")]
Approver = Annotated[Principal, PageAllowed("task:approve")]
CampaignReader = Annotated[Principal, PageAllowed("campaign:read")]
CampaignCreator = Annotated[Principal, PageAllowed("campaign:create")]
Assigner = Annotated[Principal, PageAllowed("task:assign")]
EvidenceReader = Annotated[Principal, PageAllowed("evidence:read")]
EvidenceWriter = Annotated[Principal, PageAllowed("evidence:write")]


def _notice(done: str | None) -> str | None:
    return done if done in NOTICES else None


def _message(error: EsgledgerError, lang: str) -> str:
    """The domain's reason in ``lang`` (its Chinese text when it carries one)."""
    zh = getattr(error, "zh", None)
    if lang == "zh-CN" and zh:
        return str(zh)
    if isinstance(error, InputError):
        return error.summary
    return str(error.args[0]) if error.args else type(error).__name__


def _issue_dicts(issues: tuple[Issue, ...] | list[Issue]) -> tuple[dict[str, Any], ...]:
    return tuple(
        {
            "file": i.file,
            "row": i.row,
            "column": i.column,
            "value": i.value,
            "problem": i.problem,
            "fix": i.fix,
        }
        for i in issues
    )


def _may(principal: Principal, action: str) -> bool:
    """Whether the role may take ``action`` at all (the scope is the service's business)."""
    return allowed(principal, action) is True


def _task_page(principal: Principal, task: dict[str, Any], **fields: Any) -> TaskPage:
    return TaskPage(
        task=task,
        can_submit=_may(principal, "task:submit"),
        can_attach=_may(principal, "evidence:write"),
        **fields,
    )


def _back(url: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{url}?done={done}", status_code=303)


# ---- my tasks ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TasksPage(PageContext):
    """The tasks within the user's scope, by due date (``list_tasks`` dicts, one page of
    them); ``page_no`` (1-based) and whether a next page exists."""

    tasks: tuple[dict[str, Any], ...]
    page_no: int
    has_next: bool


@router.get("/tasks")
def tasks_page(
    request: Request, workspace: WorkspaceDep, principal: Submitter, page: PageNo = 1
) -> Response:
    found = sorted(service.list_tasks(workspace, principal), key=lambda t: (t["due_date"], t["id"]))
    start = (page - 1) * PAGE_SIZE
    context = TasksPage(
        tasks=tuple(found[start : start + PAGE_SIZE]),
        page_no=page,
        has_next=len(found) > start + PAGE_SIZE,
    )
    return render(request, "collect/tasks.html", context, alternate="/api/v1/tasks")


@dataclass(frozen=True, slots=True)
class TaskPage(PageContext):
    """One task (``get_task``: its status, items, history, flags, evidence); ``notice``: the
    string key suffix of the outcome to announce (``tasks.done.<notice>``); ``error``: the
    domain's reason a form was refused; ``issues``: the row-level problems of a rejected
    upload; ``preview``: its rows (``upload_preview``) or ``None``; ``file_name``: the
    rejected file's name; ``can_submit`` and ``can_attach``: whether the user's role may
    submit files and attach evidence (the forms show only then)."""

    task: dict[str, Any]
    can_submit: bool
    can_attach: bool
    notice: str | None = None
    error: str | None = None
    issues: tuple[dict[str, Any], ...] = ()
    preview: dict[str, Any] | None = None
    file_name: str | None = None


@router.get("/tasks/{task_id}")
def task_page(
    request: Request,
    task_id: Id,
    workspace: WorkspaceDep,
    principal: TaskReader,
    done: str | None = None,
) -> Response:
    task = service.get_task(workspace, principal, task_id)
    return render(
        request,
        "collect/task.html",
        _task_page(principal, task, notice=_notice(done)),
        alternate=f"/api/v1/tasks/{task_id}",
    )


@router.get("/tasks/{task_id}/template")
def task_template(
    request: Request, task_id: Id, workspace: WorkspaceDep, principal: TaskReader
) -> Response:
    """The task's pre-filled XLSX template in the page's language."""
    data, name = service.template_download(workspace, principal, task_id, lang=page_lang(request))
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/tasks/{task_id}/upload")
def task_upload(
    request: Request,
    task_id: Id,
    workspace: WorkspaceDep,
    principal: Submitter,
    file: Annotated[UploadFile, File()],
) -> Response:
    """Submit the uploaded file to the task; a rejected file re-renders the task with its
    problems and its rows (422), nothing stored."""
    data = file.file.read(UPLOAD_MAX_BYTES + 1)
    name = file.filename or ""
    lang = page_lang(request)
    try:
        service.submit_upload(workspace, principal, task_id, name, io.BytesIO(data))
    except InputError as error:
        preview = service.upload_preview(workspace, principal, task_id, name, data, error.issues)
        context = _task_page(
            principal,
            service.get_task(workspace, principal, task_id),
            error=_message(error, lang),
            issues=_issue_dicts(error.issues),
            preview=preview,
            file_name=name,
        )
        return render(request, "collect/task.html", context, status_code=422)
    except ConflictError as error:
        context = _task_page(
            principal, service.get_task(workspace, principal, task_id), error=_message(error, lang)
        )
        return render(request, "collect/task.html", context, status_code=409)
    return _back(f"/tasks/{task_id}", "uploaded")


@router.post("/tasks/{task_id}/evidence")
def task_evidence(
    request: Request,
    task_id: Id,
    workspace: WorkspaceDep,
    principal: EvidenceWriter,
    file: Annotated[UploadFile, File()],
) -> Response:
    """Attach an evidence file; a refused one re-renders the task with the reason (422)."""
    data = file.file.read(service.evidence_max_bytes() + 1)
    try:
        service.attach_evidence(workspace, principal, task_id, file.filename or "", data)
    except InputError as error:
        context = _task_page(
            principal,
            service.get_task(workspace, principal, task_id),
            error=_message(error, page_lang(request)),
            issues=_issue_dicts(error.issues),
        )
        return render(request, "collect/task.html", context, status_code=422)
    return _back(f"/tasks/{task_id}", "evidence")


@router.get("/tasks/{task_id}/evidence/{evidence_id}")
def task_evidence_file(
    task_id: Id, evidence_id: Id, workspace: WorkspaceDep, principal: EvidenceReader
) -> Response:
    """One evidence file, always as a download (as the API gives it)."""
    data, content_type, name = service.read_evidence(workspace, principal, task_id, evidence_id)
    quoted = urllib.parse.quote(name)
    return Response(
        data,
        media_type=content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quoted}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
        },
    )


# ---- review ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReviewListPage(PageContext):
    """The submitted and in-review tasks within the reviewer's scope (``list_tasks`` dicts),
    oldest due first."""

    tasks: tuple[dict[str, Any], ...]


@router.get("/review")
def review_list(request: Request, workspace: WorkspaceDep, principal: Reviewer) -> Response:
    found = [
        t
        for t in service.list_tasks(workspace, principal)
        if t["status"] in ("submitted", "in_review")
    ]
    found.sort(key=lambda t: (t["due_date"], t["id"]))
    return render(
        request,
        "collect/review_list.html",
        ReviewListPage(tasks=tuple(found)),
        alternate="/api/v1/tasks?status=submitted",
    )


@dataclass(frozen=True, slots=True)
class ReviewPage(PageContext):
    """One submission under review: ``review`` is ``year_on_year`` (``task``: ``get_task``;
    ``year``; ``comparison``: per site, activity and unit the quantity against last year's);
    ``accepted``: the ids of the flags accepted for the current submission; ``can_approve``:
    whether the user's role may approve (the button shows only then); ``notice`` and
    ``error`` as on the task page."""

    review: dict[str, Any]
    accepted: tuple[str, ...]
    can_approve: bool
    notice: str | None = None
    error: str | None = None


def _review_page(
    request: Request,
    workspace: Any,
    principal: Principal,
    task_id: int,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    review = service.year_on_year(workspace, principal, task_id)
    task = review["task"]
    accepted = tuple(
        str(a["flag_id"]) for a in task["acceptances"] if a["batch_id"] == task["batch_id"]
    )
    context = ReviewPage(
        review=review,
        accepted=accepted,
        can_approve=_may(principal, "task:approve"),
        notice=notice,
        error=error,
    )
    return render(
        request,
        "collect/review.html",
        context,
        status_code=status_code,
        alternate=f"/api/v1/tasks/{task_id}",
    )


@router.get("/review/{task_id}")
def review_page(
    request: Request,
    task_id: Id,
    workspace: WorkspaceDep,
    principal: Reviewer,
    done: str | None = None,
) -> Response:
    return _review_page(request, workspace, principal, task_id, notice=_notice(done))


def _refused(
    request: Request, workspace: Any, principal: Principal, task_id: int, error: EsgledgerError
) -> Response:
    code = 409 if isinstance(error, ConflictError) else 422
    message = _message(error, page_lang(request))
    return _review_page(request, workspace, principal, task_id, error=message, status_code=code)


@router.post("/review/{task_id}/start")
def review_start(
    request: Request, task_id: Id, workspace: WorkspaceDep, principal: Reviewer
) -> Response:
    try:
        service.start_review(workspace, principal, task_id)
    except (ConflictError, InputError) as error:
        return _refused(request, workspace, principal, task_id, error)
    return _back(f"/review/{task_id}", "started")


@router.post("/review/{task_id}/flags/{flag_id}")
def review_accept(
    request: Request,
    task_id: Id,
    flag_id: Annotated[str, Path(max_length=200)],
    workspace: WorkspaceDep,
    principal: Reviewer,
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        service.accept_flag(workspace, principal, task_id, flag_id, comment)
    except (ConflictError, InputError) as error:
        return _refused(request, workspace, principal, task_id, error)
    return _back(f"/review/{task_id}", "accepted")


@router.post("/review/{task_id}/return")
def review_return(
    request: Request,
    task_id: Id,
    workspace: WorkspaceDep,
    principal: Reviewer,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        service.return_task(workspace, principal, task_id, reason)
    except (ConflictError, InputError) as error:
        return _refused(request, workspace, principal, task_id, error)
    return _back(f"/review/{task_id}", "returned")


@router.post("/review/{task_id}/approve")
def review_approve(
    request: Request, task_id: Id, workspace: WorkspaceDep, principal: Approver
) -> Response:
    try:
        service.approve(workspace, principal, task_id)
    except (ConflictError, InputError) as error:
        return _refused(request, workspace, principal, task_id, error)
    return _back(f"/review/{task_id}", "approved")


# ---- campaigns ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CampaignsPage(PageContext):
    """The campaigns with tasks in the user's scope (``campaigns_with_progress``: each with
    its task counts by status and its overdue count); ``can_create``: whether to offer a new
    one."""

    campaigns: tuple[dict[str, Any], ...]
    can_create: bool


@router.get("/campaigns")
def campaigns_page(
    request: Request, workspace: WorkspaceDep, principal: CampaignReader
) -> Response:
    context = CampaignsPage(
        campaigns=tuple(service.campaigns_with_progress(workspace, principal)),
        can_create=allowed(principal, "campaign:create") is True,
    )
    return render(request, "collect/campaigns.html", context, alternate="/api/v1/campaigns")


@dataclass(frozen=True, slots=True)
class CampaignFormPage(PageContext):
    """The new-campaign form: ``choices`` (``campaign_choices``: activity types, metrics,
    entities, reporting year), the values entered so far (``values``: field -> text or list
    of codes) and, after a refused attempt, the reason and its issues."""

    choices: dict[str, Any]
    values: dict[str, Any]
    error: str | None = None
    issues: tuple[dict[str, Any], ...] = ()


@router.get("/campaigns/new")
def campaign_form(
    request: Request, workspace: WorkspaceDep, principal: CampaignCreator
) -> Response:
    choices = service.campaign_choices(workspace, principal)
    values: dict[str, Any] = {
        "name": "",
        "reporting_year": str(choices["reporting_year"]),
        "due_date": "",
        "activities": [],
        "metrics": [],
        "entities": [],
        "instructions_en": "",
        "instructions_zh": "",
    }
    return render(request, "collect/campaign_new.html", CampaignFormPage(choices, values))


@router.post("/campaigns/new")
def campaign_create(
    request: Request,
    workspace: WorkspaceDep,
    principal: CampaignCreator,
    name: Annotated[str, Form(max_length=200)] = "",
    reporting_year: Annotated[str, Form(max_length=10)] = "",
    due_date: Annotated[str, Form(max_length=20)] = "",
    activities: Annotated[list[str] | None, Form()] = None,
    metrics: Annotated[list[str] | None, Form()] = None,
    entities: Annotated[list[str] | None, Form()] = None,
    instructions_en: Annotated[str, Form(max_length=10_000)] = "",
    instructions_zh: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    from pydantic import ValidationError

    values: dict[str, Any] = {
        "name": name,
        "reporting_year": reporting_year,
        "due_date": due_date,
        "activities": list(activities or []),
        "metrics": list(metrics or []),
        "entities": list(entities or []),
        "instructions_en": instructions_en,
        "instructions_zh": instructions_zh,
    }
    lang = page_lang(request)
    try:
        spec = service.CampaignSpec.model_validate(
            {k: v for k, v in values.items() if k not in ("reporting_year", "due_date")}
            | {"reporting_year": reporting_year or None, "due_date": due_date or None}
        )
        created = service.create_campaign(workspace, principal, spec)
    except ValidationError as error:
        issues = tuple(
            {
                "file": "",
                "row": None,
                "column": ".".join(str(p) for p in e["loc"]),
                "value": None if isinstance(e.get("input"), dict) else e.get("input"),
                "problem": e["msg"],
                "fix": "",
            }
            for e in error.errors(include_url=False)
        )
        choices = service.campaign_choices(workspace, principal)
        context = CampaignFormPage(choices, values, "", issues)
        return render(request, "collect/campaign_new.html", context, status_code=422)
    except InputError as error:
        choices = service.campaign_choices(workspace, principal)
        context = CampaignFormPage(
            choices, values, _message(error, lang), _issue_dicts(error.issues)
        )
        return render(request, "collect/campaign_new.html", context, status_code=422)
    return _back(f"/campaigns/{created['id']}", "created")


@dataclass(frozen=True, slots=True)
class CampaignPage(PageContext):
    """One campaign's progress (``campaign_overview``: status counts per entity and item
    group and per item, the tasks, the overdue ones with their days late, the eligible owners
    per task when the user may assign); ``chart``: the ECharts option of the status counts
    per entity; ``notice`` and ``error`` as on the task page."""

    overview: dict[str, Any]
    chart: dict[str, Any]
    notice: str | None = None
    error: str | None = None


_STATUS_COLOURS = {
    "open": "#64748b",
    "submitted": "#8a4b00",
    "in_review": "#1d4ed8",
    "returned": "#b42318",
    "approved": "#166534",
}


def _progress_chart(overview: dict[str, Any], lang: str) -> dict[str, Any]:
    """A stacked bar per entity: its tasks by status."""
    from esgledger.collection import tasks as machine
    from esgledger.i18n import ui

    rows = overview["by_entity_item"]
    entities = [f"{r['entity']} · {ui('campaigns.group.' + r['item_group'], lang)}" for r in rows]
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {},
        "xAxis": {"type": "value", "minInterval": 1},
        "yAxis": {"type": "category", "data": entities},
        "series": [
            {
                "name": machine.status_name(status, lang),
                "type": "bar",
                "stack": "tasks",
                "color": _STATUS_COLOURS[status],
                "data": [r["counts"][status] for r in rows],
            }
            for status in machine.STATUSES
        ],
    }


def _campaign_page(
    request: Request,
    workspace: Any,
    principal: Principal,
    campaign_id: int,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    overview = service.campaign_overview(workspace, principal, campaign_id)
    context = CampaignPage(
        overview=overview,
        chart=_progress_chart(overview, page_lang(request)),
        notice=notice,
        error=error,
    )
    return render(
        request,
        "collect/campaign.html",
        context,
        status_code=status_code,
        alternate=f"/api/v1/campaigns/{campaign_id}/progress",
    )


@router.get("/campaigns/{campaign_id}")
def campaign_page(
    request: Request,
    campaign_id: Id,
    workspace: WorkspaceDep,
    principal: CampaignReader,
    done: str | None = None,
) -> Response:
    return _campaign_page(request, workspace, principal, campaign_id, notice=_notice(done))


@router.post("/campaigns/{campaign_id}/tasks/{task_id}/owner")
def campaign_assign(
    request: Request,
    campaign_id: Id,
    task_id: Id,
    workspace: WorkspaceDep,
    principal: Assigner,
    owner: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    try:
        service.assign_owner(workspace, principal, task_id, owner)
    except (InputError, ConflictError) as error:
        message = _message(error, page_lang(request))
        return _campaign_page(
            request, workspace, principal, campaign_id, error=message, status_code=422
        )
    return _back(f"/campaigns/{campaign_id}", "assigned")
