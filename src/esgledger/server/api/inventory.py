"""The calculated inventory (the same contract as ``esgledger inventory --format json``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from esgledger.access import Principal
from esgledger.inventory import service
from esgledger.inventory.service import InventoryView
from esgledger.server.deps import Allowed, WorkspaceDep
from esgledger.server.problems import problem_responses

router = APIRouter(prefix="/api/v1", tags=["inventory"])

Reader = Annotated[Principal, Allowed("inventory:read")]


@router.get(
    "/inventory",
    operation_id="inventory-get",
    responses=problem_responses(403, 404),
)
def inventory(
    principal: Reader,
    workspace: WorkspaceDep,
    run: str | None = Query(None, max_length=100, description="run id; default the latest"),
) -> InventoryView:
    """The inventory of a run as the principal may see it (scoped principals: their
    entities only)."""
    return service.inventory_view(workspace, principal, run)


@router.get("/runs", operation_id="inventory-runs", responses=problem_responses(403))
def runs(principal: Reader, workspace: WorkspaceDep) -> list[dict[str, Any]]:
    """The registered runs, oldest first."""
    return service.runs_view(workspace, principal)
