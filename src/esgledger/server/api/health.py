"""Liveness and readiness (no credentials; nothing about the data)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from esgledger.server.deps import WorkspaceDep
from esgledger.store.health import readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="health-live")
def live() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/readyz", operation_id="health-ready", responses={503: {"description": "not ready"}})
def ready(workspace: WorkspaceDep) -> Any:
    """The database answers and is at the code's migration revision."""
    report = readiness(workspace)
    return JSONResponse(report, status_code=200 if report["ready"] else 503)
