"""OIDC sign-in: ``GET /api/v1/oidc/login`` sends the browser to the identity provider,
``GET /api/v1/oidc/callback`` takes it back and starts the same cookie session as
``POST /api/v1/session``. Both answer 404 when the server has no OIDC settings."""

from __future__ import annotations

import html
import secrets
from datetime import timedelta

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from esgledger.access import users
from esgledger.errors import AuthenticationError, NotFoundError, TooManyRequestsError
from esgledger.server.api.session import set_session_cookie
from esgledger.server.deps import SettingsDep, WorkspaceDep, client_address
from esgledger.server.oidc import PENDING_SECONDS, OidcClient
from esgledger.server.problems import problem_responses

router = APIRouter(prefix="/api/v1/oidc", tags=["oidc"])

#: Binds a sign-in to the browser that started it (SameSite=Lax: the provider's redirect back
#: is a cross-site navigation, which a Strict cookie would miss).
STATE_COOKIE = "esgledger_oidc"


def _client(request: Request) -> OidcClient:
    client: OidcClient | None = request.app.state.oidc
    if client is None:
        raise NotFoundError("this server has no OIDC sign-in (ESGLEDGER_SERVER_OIDC_ISSUER)")
    return client


def _local_path(value: str) -> str:
    """Only a path of this server may follow a sign-in (no open redirect)."""
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


@router.get(
    "/login",
    operation_id="oidc-login",
    status_code=302,
    response_class=RedirectResponse,
    responses=problem_responses(404),
)
async def login(
    request: Request,
    settings: SettingsDep,
    next: str = Query("/", max_length=500, description="path to return to when signed in"),
) -> Response:
    """Redirect to the identity provider (state, nonce and PKCE)."""
    client = _client(request)
    redirect_uri = settings.oidc_redirect_url or str(request.url_for("oidc-callback"))
    url, state = await client.start(redirect_uri, _local_path(next))
    response = RedirectResponse(url, status_code=302)
    response.set_cookie(
        STATE_COOKIE,
        state,
        max_age=PENDING_SECONDS,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/api/v1/oidc",
    )
    return response


@router.get(
    "/callback",
    name="oidc-callback",
    operation_id="oidc-callback",
    response_class=HTMLResponse,
    responses=problem_responses(404, 429),
)
async def callback(
    request: Request,
    workspace: WorkspaceDep,
    settings: SettingsDep,
    code: str | None = Query(None, max_length=4000),
    state: str | None = Query(None, max_length=200),
    error: str | None = Query(None, max_length=200),
) -> Response:
    """The provider's answer: verify it, sign the linked account in (a cookie session)."""
    client = _client(request)
    address = client_address(request) or "-"
    if not request.app.state.sign_in_limiter.hit(address):
        raise TooManyRequestsError("too many sign-in attempts from this address; wait a minute")
    bound = request.cookies.get(STATE_COOKIE, "")
    if error is not None:
        raise AuthenticationError("the identity provider did not sign you in")
    if not code or not state or not secrets.compare_digest(bound.encode(), state.encode()):
        raise AuthenticationError("this sign-in did not start in this browser; sign in again")
    pending = client.take(state)
    claims = await client.finish(pending, code)
    principal = await run_in_threadpool(
        users.authenticate_oidc, workspace, str(claims["iss"]), str(claims["sub"]), address=address
    )
    signed = await run_in_threadpool(
        users.start_session, workspace, principal, lifetime=timedelta(hours=settings.session_hours)
    )
    target = html.escape(pending.next_path, quote=True)
    response = HTMLResponse(
        '<!doctype html><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="0;url={target}">'
        f'<title>Signed in · 已登录</title><a href="{target}">Continue · 继续</a>'
    )
    set_session_cookie(response, signed, settings)
    response.delete_cookie(STATE_COOKIE, path="/api/v1/oidc")
    return response
