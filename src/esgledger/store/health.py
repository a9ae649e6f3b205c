"""Readiness of a workspace's store: the database answers, at the code's revision."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from esgledger.store.workspace import Workspace, head_revision

__all__ = ["readiness"]


def readiness(workspace: Workspace) -> dict[str, Any]:
    """``{"ready": bool, "database": "ok" | reason, "revision": ...}`` (no secrets)."""
    try:
        with workspace.engine.connect() as connection:
            revision = connection.execute(
                sa.text("SELECT version_num FROM alembic_version")
            ).scalar_one_or_none()
    except sa.exc.SQLAlchemyError:
        return {"ready": False, "database": "unreachable", "revision": None}
    head = head_revision()
    return {
        "ready": revision == head,
        "database": "ok" if revision == head else f"at {revision}, the code needs {head}",
        "revision": revision,
    }
