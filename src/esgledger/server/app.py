"""``create_app(workspace, settings)``: the ASGI application of ``esgledger serve``.

Nothing connects or reads settings at import: the factory opens the workspace (or takes an
open one), installs the problem handlers and middleware, and mounts the routers of
``esgledger.server.api``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from esgledger import __version__
from esgledger.server.api import ROUTERS
from esgledger.server.middleware import RateLimiter, RequestMiddleware
from esgledger.server.oidc import OidcClient
from esgledger.server.problems import install_handlers, problem_media_types
from esgledger.server.settings import ServerSettings
from esgledger.server.web import install_web
from esgledger.store import Workspace

__all__ = ["API_PREFIX", "create_app"]

API_PREFIX = "/api/v1"

#: Called with the app when it starts and (reversed) when it stops; e.g. the job worker pool.
StartupHook = Callable[[FastAPI], Any]


def create_app(
    workspace: Workspace | Path | str,
    settings: ServerSettings | None = None,
    *,
    on_start: tuple[StartupHook, ...] = (),
    on_stop: tuple[StartupHook, ...] = (),
) -> FastAPI:
    """The application over ``workspace`` (a path is opened now and closed at shutdown)."""
    settings = settings or ServerSettings()
    owned = not isinstance(workspace, Workspace)
    ws = Workspace.open(workspace) if not isinstance(workspace, Workspace) else workspace

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for hook in on_start:
            hook(app)
        try:
            yield
        finally:
            for hook in reversed(on_stop):
                hook(app)
            if owned:
                ws.close()

    app = FastAPI(
        title="esgledger",
        version=__version__,
        summary="ESG data and carbon-management platform: the group API",
        openapi_url="/openapi.json",
        docs_url=None,  # Swagger UI needs a CDN the CSP (and an offline server) refuses
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.workspace = ws
    app.state.settings = settings
    app.state.sign_in_limiter = RateLimiter(settings.sign_in_rate_per_minute)
    app.state.oidc = (
        OidcClient(
            settings.oidc_issuer or "",
            settings.oidc_client_id or "",
            settings.oidc_client_secret,
        )
        if settings.oidc_enabled
        else None
    )
    install_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    install_web(app)
    app.add_middleware(RequestMiddleware, max_body=settings.max_upload_bytes)
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problem_media_types(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
