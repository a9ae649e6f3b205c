"""Import batches and their corrections without deletion (``docs/platform/corrections.md``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, UploadFile
from pydantic import BaseModel, Field

from esgledger.access import Principal
from esgledger.batches import service
from esgledger.server.deps import Allowed, SettingsDep, WorkspaceDep
from esgledger.server.problems import problem_responses

router = APIRouter(prefix="/api/v1", tags=["batches"])

Reader = Annotated[Principal, Allowed("batch:read")]
Withdrawer = Annotated[Principal, Allowed("batch:withdraw")]
Superseder = Annotated[Principal, Allowed("batch:supersede")]
BatchId = Annotated[str, Path(max_length=40, description="batch id, b- and 12 hex digits")]
Reason = Field(min_length=1, max_length=service.REASON_CHARS, description="why (required)")


class BatchOut(BaseModel):
    """One import batch (:func:`esgledger.batches.service.batch_view`)."""

    id: str
    kind: str
    file_name: str
    content_hash: str
    row_count: int
    lake_path: str | None
    status: str
    imported_at: str
    imported_by: str | None
    task_id: int | None
    superseded_by: str | None
    supersedes: list[str]
    status_changed_at: str | None
    status_changed_by: str | None
    status_reason: str | None
    entities: list[str] | None
    period_start: str | None
    period_end: str | None
    correctable: bool
    lake_file_present: bool | None = None
    summary: dict[str, Any] | None = None


class WarningOut(BaseModel):
    row: int | None
    column: str | None
    value: str | None
    problem: str


class SupersedeOut(BaseModel):
    old: BatchOut
    new: BatchOut
    message: str
    warnings: list[WarningOut]


class WithdrawIn(BaseModel):
    reason: str = Reason


@router.get(
    "/batches",
    operation_id="batches-list",
    response_model=list[BatchOut],
    responses=problem_responses(403, 422),
)
def list_batches(
    principal: Reader,
    workspace: WorkspaceDep,
    kind: str | None = Query(None, max_length=40, description="only batches of this kind"),
    status: str | None = Query(None, max_length=20, description="only batches of this status"),
) -> Any:
    """The registered batches the principal may see, oldest first."""
    return service.list_batches(workspace, principal, kind=kind, status=status)


@router.get(
    "/batches/{batch_id}",
    operation_id="batches-show",
    response_model=BatchOut,
    responses=problem_responses(403, 404),
)
def show(batch_id: BatchId, principal: Reader, workspace: WorkspaceDep) -> Any:
    """One batch with its summary."""
    return service.show(workspace, principal, batch_id)


@router.post(
    "/batches/{batch_id}/withdraw",
    operation_id="batches-withdraw",
    response_model=BatchOut,
    responses=problem_responses(403, 404, 409, 422),
)
def withdraw(
    batch_id: BatchId, body: WithdrawIn, principal: Withdrawer, workspace: WorkspaceDep
) -> Any:
    """Withdraw an activity batch: later calculations leave it out; nothing is deleted."""
    return service.withdraw(workspace, principal, batch_id, body.reason)


@router.post(
    "/batches/{batch_id}/supersede",
    operation_id="batches-supersede",
    response_model=SupersedeOut,
    responses=problem_responses(403, 404, 409, 413, 422),
)
def supersede(
    batch_id: BatchId,
    principal: Superseder,
    workspace: WorkspaceDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="the corrected file: CSV, XLSX or Parquet")],
    reason: Annotated[str, Form(min_length=1, max_length=service.REASON_CHARS)],
    sheet: Annotated[str | None, Form(max_length=200)] = None,
) -> Any:
    """Import a corrected file whole and mark the batch superseded by it, in one step."""
    return service.supersede_upload(
        workspace,
        principal,
        batch_id,
        file.filename or "upload.csv",
        file.file,
        reason,
        sheet=sheet,
        max_bytes=settings.max_upload_bytes,
    )
