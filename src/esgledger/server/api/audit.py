"""The hash-chained audit trail: read, export as CSV, verify (auditors and administrators)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel

from esgledger.access import Principal
from esgledger.audit import service
from esgledger.server.deps import Allowed, WorkspaceDep
from esgledger.server.problems import problem_responses

router = APIRouter(prefix="/api/v1", tags=["audit"])

Reader = Annotated[Principal, Allowed("audit:read")]
Since = Annotated[
    str | None, Query(max_length=40, description="UTC date or time (ISO 8601), inclusive")
]
User = Annotated[str | None, Query(max_length=100, description="actor")]
Object = Annotated[str | None, Query(max_length=200, description="object id, or type:id")]
Action = Annotated[str | None, Query(max_length=100, description="action prefix, e.g. import.")]


class EventOut(BaseModel):
    seq: int
    at: str
    actor: str
    role: str | None
    address: str | None
    action: str
    object_type: str
    object_id: str | None
    before_digest: str | None
    after_digest: str | None
    detail: dict[str, Any] | None
    prev_hash: str
    hash: str


class VerifyOut(BaseModel):
    intact: bool
    count: int
    head: str
    broken_seq: int | None
    problem: str | None


@router.get(
    "/audit",
    operation_id="audit-list",
    response_model=list[EventOut],
    responses=problem_responses(403, 422),
)
def list_events(
    principal: Reader,
    workspace: WorkspaceDep,
    since: Since = None,
    user: User = None,
    object: Object = None,
    action: Action = None,
    after_seq: Annotated[int | None, Query(ge=0, le=2**62, description="page on")] = None,
    limit: Annotated[int | None, Query(ge=1, le=service.MAX_EVENTS)] = None,
) -> Any:
    """The events in chain order, filtered."""
    return service.log(
        workspace,
        principal,
        since=since,
        user=user,
        object_id=object,
        action=action,
        after_seq=after_seq,
        limit=limit,
    )


@router.get(
    "/audit.csv",
    operation_id="audit-csv",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}}, "description": "the events as CSV"},
        **problem_responses(403, 422),
    },
)
def export_csv(
    principal: Reader,
    workspace: WorkspaceDep,
    since: Since = None,
    user: User = None,
    object: Object = None,
    action: Action = None,
) -> Response:
    """The events as CSV for an assurance provider (every hashed field and the hash)."""
    text = service.export_csv(
        workspace, principal, since=since, user=user, object_id=object, action=action
    )
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )


@router.get(
    "/audit/verify",
    operation_id="audit-verify",
    response_model=VerifyOut,
    responses=problem_responses(403),
)
def verify(principal: Reader, workspace: WorkspaceDep) -> Any:
    """Recompute the chain and name the first broken link, if any."""
    return service.check(workspace, principal)
