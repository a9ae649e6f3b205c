"""Data-collection campaigns and their tasks (``esgledger.collection.service``): create and
read campaigns and their progress, download a task's template, submit a file, review,
return, approve, reopen, accept review flags, attach and read evidence."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Path, Query, Response, UploadFile, status
from pydantic import BaseModel, Field

from esgledger.access import Principal
from esgledger.collection import service
from esgledger.collection.service import CampaignSpec, Text
from esgledger.server.deps import Allowed, WorkspaceDep
from esgledger.server.problems import problem_responses

router = APIRouter(prefix="/api/v1", tags=["campaigns"])
tasks_router = APIRouter(prefix="/api/v1", tags=["tasks"])

CampaignCreator = Annotated[Principal, Allowed("campaign:create")]
CampaignReader = Annotated[Principal, Allowed("campaign:read")]
TaskReader = Annotated[Principal, Allowed("task:read")]
Submitter = Annotated[Principal, Allowed("task:submit")]
Reviewer = Annotated[Principal, Allowed("task:review")]
Approver = Annotated[Principal, Allowed("task:approve")]
Reopener = Annotated[Principal, Allowed("task:reopen")]
Assigner = Annotated[Principal, Allowed("task:assign")]
EvidenceReader = Annotated[Principal, Allowed("evidence:read")]
EvidenceWriter = Annotated[Principal, Allowed("evidence:write")]

#: Ids are database integers: bounded, so a huge one is a 422, never a driver overflow.
_MAX_ID = 2**31 - 1
Version = Annotated[
    int | None,
    Query(
        ge=1,
        le=_MAX_ID,
        description="the task's version the client saw; refused (409) if it changed",
    ),
]
CampaignId = Annotated[int, Path(ge=1, le=_MAX_ID)]
TaskId = Annotated[int, Path(ge=1, le=_MAX_ID)]
EvidenceId = Annotated[int, Path(ge=1, le=_MAX_ID)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Reason(BaseModel):
    reason: Text = Field(min_length=1, max_length=2000)


class Comment(BaseModel):
    comment: Text = Field(min_length=1, max_length=2000)


class Owner(BaseModel):
    owner: Text = Field(min_length=1, max_length=100)


# ---- campaigns ---------------------------------------------------------------------------


@router.post(
    "/campaigns",
    operation_id="campaigns-create",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(403, 422),
)
def create_campaign(
    body: CampaignSpec, principal: CampaignCreator, workspace: WorkspaceDep
) -> dict[str, Any]:
    """Create a campaign and one task per (entity or site, item group)."""
    return service.create_campaign(workspace, principal, body)


@router.get("/campaigns", operation_id="campaigns-list", responses=problem_responses(403))
def list_campaigns(principal: CampaignReader, workspace: WorkspaceDep) -> list[dict[str, Any]]:
    """The campaigns with tasks within the principal's scope."""
    return service.list_campaigns(workspace, principal)


@router.get(
    "/campaigns/{campaign_id}",
    operation_id="campaigns-get",
    responses=problem_responses(403, 404),
)
def get_campaign(
    campaign_id: CampaignId, principal: CampaignReader, workspace: WorkspaceDep
) -> dict[str, Any]:
    """One campaign with the tasks within the principal's scope."""
    return service.get_campaign(workspace, principal, campaign_id)


@router.get(
    "/campaigns/{campaign_id}/progress",
    operation_id="campaigns-progress",
    responses=problem_responses(403, 404),
)
def progress(
    campaign_id: CampaignId, principal: CampaignReader, workspace: WorkspaceDep
) -> dict[str, Any]:
    """Status counts per entity and item group, overdue tasks, share of last year's emissions
    approved."""
    return service.progress(workspace, principal, campaign_id)


# ---- tasks -------------------------------------------------------------------------------


@tasks_router.get("/tasks", operation_id="tasks-list", responses=problem_responses(403, 422))
def list_tasks(
    principal: TaskReader,
    workspace: WorkspaceDep,
    campaign: Annotated[int | None, Query(ge=1, le=_MAX_ID, description="campaign id")] = None,
    task_status: Annotated[str | None, Query(alias="status", max_length=20)] = None,
    owner: Annotated[str | None, Query(max_length=100)] = None,
) -> list[dict[str, Any]]:
    """The tasks within the principal's scope."""
    return service.list_tasks(workspace, principal, campaign, status=task_status, owner=owner)


@tasks_router.get(
    "/tasks/{task_id}", operation_id="tasks-get", responses=problem_responses(403, 404)
)
def get_task(task_id: TaskId, principal: TaskReader, workspace: WorkspaceDep) -> dict[str, Any]:
    """One task with its history, review flags, acceptances and evidence."""
    return service.get_task(workspace, principal, task_id)


@tasks_router.get(
    "/tasks/{task_id}/template",
    operation_id="tasks-template",
    responses={
        200: {"content": {XLSX: {}}, "description": "the task's XLSX template"},
        **problem_responses(403, 404),
    },
    response_class=Response,
)
def template(
    task_id: TaskId,
    principal: TaskReader,
    workspace: WorkspaceDep,
    lang: Annotated[str, Query(pattern="^(en|zh-CN)$")] = "en",
) -> Response:
    """The task's bilingual XLSX template, pre-filled with its entity, sites and last year's
    rows."""
    data, name = service.template_download(workspace, principal, task_id, lang=lang)
    return Response(
        data, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@tasks_router.post(
    "/tasks/{task_id}/submission",
    operation_id="tasks-submit",
    responses=problem_responses(403, 404, 409, 413, 422),
)
def submit(
    task_id: TaskId,
    principal: Submitter,
    workspace: WorkspaceDep,
    file: Annotated[UploadFile, File(description="XLSX, CSV or Parquet")],
    version: Version = None,
) -> dict[str, Any]:
    """Submit a file: checked whole like an import; a rejected file (422, row-level issues)
    changes nothing."""
    return service.submit_upload(
        workspace, principal, task_id, file.filename or "", file.file, expected_version=version
    )


@tasks_router.post(
    "/tasks/{task_id}/start-review",
    operation_id="tasks-start_review",
    responses=problem_responses(403, 404, 409),
)
def start_review(
    task_id: TaskId, principal: Reviewer, workspace: WorkspaceDep, version: Version = None
) -> dict[str, Any]:
    """submitted → in review."""
    return service.start_review(workspace, principal, task_id, expected_version=version)


@tasks_router.post(
    "/tasks/{task_id}/return",
    operation_id="tasks-return",
    responses=problem_responses(403, 404, 409, 422),
)
def return_task(
    task_id: TaskId,
    body: Reason,
    principal: Reviewer,
    workspace: WorkspaceDep,
    version: Version = None,
) -> dict[str, Any]:
    """in review → returned to the owner, with a reason."""
    return service.return_task(workspace, principal, task_id, body.reason, expected_version=version)


@tasks_router.post(
    "/tasks/{task_id}/approve",
    operation_id="tasks-approve",
    responses=problem_responses(403, 404, 409),
)
def approve(
    task_id: TaskId, principal: Approver, workspace: WorkspaceDep, version: Version = None
) -> dict[str, Any]:
    """in review → approved; the task's batch enters calculations."""
    return service.approve(workspace, principal, task_id, expected_version=version)


@tasks_router.post(
    "/tasks/{task_id}/reopen",
    operation_id="tasks-reopen",
    responses=problem_responses(403, 404, 409, 422),
)
def reopen(
    task_id: TaskId,
    body: Reason,
    principal: Reopener,
    workspace: WorkspaceDep,
    version: Version = None,
) -> dict[str, Any]:
    """approved → in review again (ESG office), with a reason."""
    return service.reopen(workspace, principal, task_id, body.reason, expected_version=version)


@tasks_router.post(
    "/tasks/{task_id}/flags/{flag_id}/acceptance",
    operation_id="tasks-accept_flag",
    responses=problem_responses(403, 404, 409, 422),
)
def accept_flag(
    task_id: TaskId,
    flag_id: Annotated[str, Path(max_length=200)],
    body: Comment,
    principal: Reviewer,
    workspace: WorkspaceDep,
) -> dict[str, Any]:
    """Accept one review flag of the current submission, with a comment."""
    return service.accept_flag(workspace, principal, task_id, flag_id, body.comment)


@tasks_router.put(
    "/tasks/{task_id}/owner",
    operation_id="tasks-assign",
    responses=problem_responses(403, 404, 422),
)
def assign(
    task_id: TaskId, body: Owner, principal: Assigner, workspace: WorkspaceDep
) -> dict[str, Any]:
    """Make a data owner whose scope covers the task's entity its owner."""
    return service.assign_owner(workspace, principal, task_id, body.owner)


@tasks_router.post(
    "/tasks/{task_id}/evidence",
    operation_id="tasks-attach_evidence",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(403, 404, 413, 422),
)
def attach_evidence(
    task_id: TaskId,
    principal: EvidenceWriter,
    workspace: WorkspaceDep,
    file: Annotated[UploadFile, File(description="pdf, png, jpeg, xlsx or csv")],
) -> dict[str, Any]:
    """Attach an evidence file (checked by type and size, stored by content hash)."""
    data = file.file.read(service.evidence_max_bytes() + 1)
    return service.attach_evidence(workspace, principal, task_id, file.filename or "", data)


@tasks_router.get(
    "/tasks/{task_id}/evidence",
    operation_id="tasks-list_evidence",
    responses=problem_responses(403, 404),
)
def list_evidence(
    task_id: TaskId, principal: EvidenceReader, workspace: WorkspaceDep
) -> list[dict[str, Any]]:
    """The task's evidence files."""
    return service.list_evidence(workspace, principal, task_id)


@tasks_router.get(
    "/tasks/{task_id}/evidence/{evidence_id}",
    operation_id="tasks-get_evidence",
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "the file"},
        **problem_responses(403, 404, 409),
    },
    response_class=Response,
)
def get_evidence(
    task_id: TaskId, evidence_id: EvidenceId, principal: EvidenceReader, workspace: WorkspaceDep
) -> Response:
    """One evidence file, always as a download (never rendered inline)."""
    data, content_type, name = service.read_evidence(workspace, principal, task_id, evidence_id)
    return Response(
        data,
        media_type=content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
        },
    )
