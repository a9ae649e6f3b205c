"""Liveness and readiness (no credentials; nothing about the data)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from esgledger.server.deps import WorkspaceDep
from esgledger.store.health import readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="health-live")
def live() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


class Readiness(BaseModel):
    """``esgledger.store.health.readiness``: the database answers at the code's revision."""

    ready: bool
    database: str = Field(description="ok, or why not")
    revision: str | None


@router.get(
    "/readyz",
    operation_id="health-ready",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "not ready"}},
)
def ready(workspace: WorkspaceDep) -> Any:
    """The database answers and is at the code's migration revision."""
    report = readiness(workspace)
    return JSONResponse(report, status_code=200 if report["ready"] else 503)
