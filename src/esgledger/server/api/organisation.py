"""The organisation tree: entities and their sites, as the principal's scope lets it see."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel

from esgledger.access import Principal
from esgledger.access.scope import organisation_view
from esgledger.server.deps import Allowed, WorkspaceDep
from esgledger.server.problems import problem_responses

router = APIRouter(prefix="/api/v1", tags=["organisation"])

Reader = Annotated[Principal, Allowed("entity:read")]


class SiteOut(BaseModel):
    code: str
    name: str
    name_zh: str | None
    country: str
    region: str | None
    type: str


class EntityOut(BaseModel):
    code: str
    name: str
    name_zh: str | None
    parent: str | None
    country: str
    ownership_pct: float
    sites: list[SiteOut]


@router.get(
    "/entities",
    operation_id="organisation-entities",
    response_model=list[EntityOut],
    responses=problem_responses(403),
)
def entities(principal: Reader, workspace: WorkspaceDep) -> list[dict[str, object]]:
    """The entities in the principal's scope (all of them for a group-wide role), each with
    its sites."""
    return organisation_view(workspace, principal)
