"""Long jobs: submit (202 + ``Location``), follow (percent, stage, status, result, error),
list and cancel; an upload of a file to import becomes an import job."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Path, Query, Response, UploadFile, status
from pydantic import BaseModel, Field

from esgledger.access import Principal
from esgledger.jobs import service
from esgledger.jobs.service import MAX_JOB_ID, JobView
from esgledger.server.deps import Allowed, SettingsDep, WorkspaceDep
from esgledger.server.problems import problem_responses

router = APIRouter(prefix="/api/v1", tags=["jobs"])

Reader = Annotated[Principal, Allowed("job:read")]
Submitter = Annotated[Principal, Allowed("job:submit")]
Canceller = Annotated[Principal, Allowed("job:cancel")]
Importer = Annotated[Principal, Allowed("import:run")]
JobId = Annotated[int, Path(ge=1, le=MAX_JOB_ID, description="the job's id")]


class JobIn(BaseModel):
    kind: Literal["import", "calculate", "report"] = Field(
        description="calculate, report, or import (of a file already uploaded: params.file)"
    )
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="calculate: the options of `esgledger calculate` (gwp, consolidation, "
        "strict, strict_tier, max_vintage_gap, allow_unresolved, category_3, proxy, "
        "price_basis, category_3_proxies); report: run_id, langs, formats",
    )


def _located(response: Response, job: JobView) -> JobView:
    response.headers["Location"] = f"/api/v1/jobs/{job['id']}"
    return job


@router.post(
    "/jobs",
    operation_id="jobs-submit",
    response_model=JobView,
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(403, 422),
)
def submit(body: JobIn, principal: Submitter, workspace: WorkspaceDep, response: Response) -> Any:
    """Queue a job; follow it at the ``Location`` it answers with."""
    return _located(response, service.submit(workspace, principal, body.kind, body.params))


@router.post(
    "/imports",
    operation_id="jobs-import",
    response_model=JobView,
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(403, 413, 422),
)
def submit_import(
    principal: Importer,
    workspace: WorkspaceDep,
    settings: SettingsDep,
    response: Response,
    file: Annotated[UploadFile, File(description="CSV (UTF-8 or GB18030), XLSX or Parquet")],
    kind: Annotated[str, Form(max_length=40, description="what the file holds, e.g. activities")],
    sheet: Annotated[str | None, Form(max_length=200)] = None,
) -> Any:
    """Upload a file (kept in the workspace) and queue its import: whole or not at all."""
    job = service.submit_import(
        workspace,
        principal,
        kind,
        file.filename or "upload.csv",
        file.file,
        sheet=sheet,
        max_bytes=settings.max_upload_bytes,
    )
    return _located(response, job)


@router.get(
    "/jobs",
    operation_id="jobs-list",
    response_model=list[JobView],
    responses=problem_responses(403, 422),
)
def list_jobs(
    principal: Reader,
    workspace: WorkspaceDep,
    status_: Annotated[str | None, Query(alias="status", max_length=20)] = None,
    kind: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """The jobs the principal may see, newest first."""
    return service.list_jobs(workspace, principal, status=status_, kind=kind, limit=limit)


@router.get(
    "/jobs/{job_id}",
    operation_id="jobs-get",
    response_model=JobView,
    responses=problem_responses(403, 404),
)
def get(job_id: JobId, principal: Reader, workspace: WorkspaceDep) -> Any:
    """One job: status, stage and percent while it runs; result or error when it ends."""
    return service.get(workspace, principal, job_id)


@router.delete(
    "/jobs/{job_id}",
    operation_id="jobs-cancel",
    response_model=JobView,
    responses=problem_responses(403, 404, 409),
)
def cancel(job_id: JobId, principal: Canceller, workspace: WorkspaceDep) -> Any:
    """Cancel a job: a queued one at once, a running one at its next stage."""
    return service.cancel(workspace, principal, job_id)
