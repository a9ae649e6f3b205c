"""A job's page: its status and progress (polled by htmx while it runs), what it made."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from esgledger.access import Principal
from esgledger.jobs import service as jobs
from esgledger.server.deps import PAGES_TAG, PageAllowed, WorkspaceDep
from esgledger.server.web.pages import PageContext, render

__all__ = ["JobPage", "router"]

router = APIRouter(tags=[PAGES_TAG], include_in_schema=False)


@dataclass(frozen=True, slots=True)
class JobPage(PageContext):
    """One job as the API gives it (``esgledger.jobs.service.JobView``)."""

    job: dict[str, Any]


@router.get("/jobs/{job_id}")
def job_page(
    request: Request,
    job_id: int,
    workspace: WorkspaceDep,
    principal: Annotated[Principal, PageAllowed("job:read")],
) -> Response:
    """The job; to htmx's poll, only its progress block."""
    view = jobs.get(workspace, principal, job_id)
    return render(
        request,
        "jobs/job.html",
        JobPage(job=dict(view)),
        block="progress",
        alternate=f"/api/v1/jobs/{job_id}",
    )
