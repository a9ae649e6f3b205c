"""Dependencies of every route, named once: the workspace, the acting principal, and
``Allowed(action)`` which checks the role matrix before the route runs."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from esgledger.access import Principal
from esgledger.access.policy import grant, require
from esgledger.access.users import principal_for_session, principal_for_token
from esgledger.errors import AccessDeniedError, AuthenticationError
from esgledger.server.settings import ServerSettings
from esgledger.store import Workspace

__all__ = [
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "Allowed",
    "PageAllowed",
    "PagePrincipalDep",
    "PrincipalDep",
    "SettingsDep",
    "SignInRequiredError",
    "WorkspaceDep",
    "api_routes",
    "client_address",
    "page_routes",
    "route_actions",
]

SESSION_COOKIE = "esgledger_session"
CSRF_HEADER = "X-CSRF-Token"
#: The hidden form field that carries the CSRF token of a page's form (no JavaScript needed).
CSRF_FIELD = "csrf_token"
#: The tag of every page router; page routes stay out of the OpenAPI document and of
#: :func:`api_routes`.
PAGES_TAG = "pages"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: Every action a route declared through :func:`Allowed` (a test checks each is in roles.csv).
DECLARED_ACTIONS: set[str] = set()

#: The dependency :func:`Allowed` made for each action, so the action of a route can be read
#: back from its dependencies (:func:`route_actions`; the role-matrix test walks them).
_ACTION_OF: dict[Callable[..., Any], str] = {}


async def _workspace(request: Request) -> Workspace:
    workspace: Workspace = request.app.state.workspace
    return workspace


async def _settings(request: Request) -> ServerSettings:
    settings: ServerSettings = request.app.state.settings
    return settings


WorkspaceDep = Annotated[Workspace, Depends(_workspace)]
SettingsDep = Annotated[ServerSettings, Depends(_settings)]


def client_address(request: Request) -> str | None:
    return request.client.host if request.client is not None else None


def _principal(request: Request, workspace: WorkspaceDep) -> Principal:
    """The signed-in principal: a bearer token, else the session cookie (whose unsafe
    requests must carry the session's CSRF token in ``X-CSRF-Token``)."""
    address = client_address(request)
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("the Authorization header must be 'Bearer TOKEN'")
        return principal_for_token(workspace, token.strip(), address=address)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise AuthenticationError(
            "sign in with POST /api/v1/session or send 'Authorization: Bearer TOKEN'"
        )
    principal, csrf = principal_for_session(workspace, cookie, address=address)
    request.state.csrf_token = csrf  # GET /api/v1/session gives it back to a reloaded page
    sent = request.headers.get(CSRF_HEADER, "")
    if request.method not in _SAFE_METHODS and not secrets.compare_digest(
        sent.encode("utf-8"), csrf.encode("utf-8")
    ):
        raise AccessDeniedError(
            f"a signed-in browser request that changes something must send the session's "
            f"CSRF token in the {CSRF_HEADER} header"
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(_principal)]


class SignInRequiredError(AuthenticationError):
    """A page was asked for without a valid session: the page face answers with a redirect
    to the sign-in page (``next`` = the page), never with a problem document."""


async def _page_principal(request: Request, workspace: WorkspaceDep) -> Principal:
    """The principal of a page request: the session cookie only (pages never take bearer
    tokens). An unsafe request must carry the session's CSRF token in the ``csrf_token``
    form field or, from htmx, in ``X-CSRF-Token``."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise SignInRequiredError("sign in to see this page")
    try:
        principal, csrf = principal_for_session(workspace, cookie, address=client_address(request))
    except AuthenticationError as exc:
        raise SignInRequiredError("your session has ended; sign in again") from exc
    request.state.csrf_token = csrf
    request.state.principal = principal
    if request.method not in _SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER)
        if sent is None:
            content_type = request.headers.get("content-type", "")
            if content_type.startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")
            ):
                form = await request.form()
                field = form.get(CSRF_FIELD)
                sent = field if isinstance(field, str) else None
        if not sent or not secrets.compare_digest(sent.encode("utf-8"), csrf.encode("utf-8")):
            raise AccessDeniedError(
                "this form has expired or did not come from esgledger; reload the page and "
                "try again"
            )
    return principal


PagePrincipalDep = Annotated[Principal, Depends(_page_principal)]


def PageAllowed(action: str) -> Any:  # noqa: N802 - reads as a marker in route signatures
    """:func:`Allowed` for pages: the signed-in page user (a redirect to sign-in without a
    session), once its role may do ``action``. Use as
    ``Annotated[Principal, PageAllowed("inventory:read")]``."""
    grant("admin", action)
    DECLARED_ACTIONS.add(action)

    async def check(principal: PagePrincipalDep) -> Principal:
        require(principal, action)
        return principal

    check.__name__ = f"page_allowed_{action.replace(':', '_')}"
    dependency: Callable[..., Awaitable[Principal]] = check
    _ACTION_OF[dependency] = action
    return Depends(dependency)


def Allowed(action: str) -> Any:  # noqa: N802 - reads as a marker in route signatures
    """``Depends`` on the principal once its role may do ``action`` at all (the service
    checks the entity scope). Use as ``Annotated[Principal, Allowed("inventory:read")]``."""
    grant("admin", action)  # fails at import for an action missing from roles.csv
    DECLARED_ACTIONS.add(action)

    async def check(principal: PrincipalDep) -> Principal:
        require(principal, action)
        return principal

    check.__name__ = f"allowed_{action.replace(':', '_')}"
    dependency: Callable[..., Awaitable[Principal]] = check
    _ACTION_OF[dependency] = action
    return Depends(dependency)


def route_actions(route: Any) -> frozenset[str]:
    """The actions ``route`` (an ``APIRoute`` or an item of :func:`api_routes`) declared
    through :func:`Allowed`; empty for a public route (sign-in, health)."""
    found: set[str] = set()
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        if dependant.call is not None and dependant.call in _ACTION_OF:
            found.add(_ACTION_OF[dependant.call])
        stack.extend(dependant.dependencies)
    return frozenset(found)


def api_routes(app: FastAPI) -> list[RouteContext]:
    """Every API route of ``app`` with its full path (routers included in routers too):
    ``.path``, ``.methods``, ``.operation_id``, ``.dependant``, ``.original_route``."""
    return [
        context
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        and PAGES_TAG not in context.original_route.tags
    ]


def page_routes(app: FastAPI) -> list[RouteContext]:
    """Every route of the pages (``esgledger.server.web``, routers tagged :data:`PAGES_TAG`)."""
    return [
        context
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute) and PAGES_TAG in context.original_route.tags
    ]
