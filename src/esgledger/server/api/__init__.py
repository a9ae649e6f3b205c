"""The JSON API under ``/api/v1``: one router per area, mounted by ``create_app``.

Add a router by importing its module here and appending it to :data:`ROUTERS`.
"""

from __future__ import annotations

from fastapi import APIRouter

from esgledger.server.api import (
    audit,
    batches,
    campaigns,
    energy,
    health,
    inclusion,
    inventory,
    jobs,
    oidc,
    organisation,
    session,
    users,
)

__all__ = ["ROUTERS"]

ROUTERS: list[APIRouter] = [
    health.router,
    session.router,
    oidc.router,
    users.router,
    inventory.router,
    organisation.router,
    jobs.router,
    campaigns.router,
    campaigns.tasks_router,
    batches.router,
    audit.router,
    energy.router,
    inclusion.router,
]
