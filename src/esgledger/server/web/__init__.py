"""The pages of ``esgledger serve``: server-rendered HTML (Jinja2) with htmx for partial
updates and ECharts for charts, over the same services as the JSON API.

Add a page area by writing ``web/<area>.py`` with a ``router`` (``APIRouter(tags=[PAGES_TAG])``)
and appending it to :data:`ROUTERS` here; its templates go to ``templates/<area>/`` and its
words to ``esgledger/i18n/strings/web_<area>.csv``.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from esgledger.server.web import (
    admin,
    audit,
    collect,
    energy,
    errors,
    factors,
    green,
    home,
    inclusion,
    inventory,
    jobs,
    reports,
    session,
    targets,
)
from esgledger.server.web.static import StaticAssets

__all__ = ["ROUTERS", "install_web"]

ROUTERS: list[APIRouter] = [
    session.router,
    home.router,
    inventory.router,
    jobs.router,
    collect.router,
    reports.router,
    audit.router,
    admin.router,
    factors.router,
    green.router,
    targets.router,
    energy.router,
    inclusion.router,
]


def install_web(app: FastAPI) -> None:
    """Mount the static files and the page routers, and render page errors as pages."""
    app.mount("/static", StaticAssets(), name="static")
    app.state.page_errors = errors.error_page
    for router in ROUTERS:
        app.include_router(router)
