"""Sign-in (cookie session), the signed-in account, and personal API tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from esgledger.access import Principal, users
from esgledger.errors import TooManyRequestsError
from esgledger.server.deps import (
    SESSION_COOKIE,
    Allowed,
    SettingsDep,
    WorkspaceDep,
    client_address,
)
from esgledger.server.problems import problem_responses
from esgledger.server.settings import ServerSettings

router = APIRouter(prefix="/api/v1", tags=["session"])


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1024)


class SessionOut(BaseModel):
    username: str
    role: str
    scope: str | None
    csrf_token: str | None = Field(
        None, description="send it as X-CSRF-Token with every cookie request that changes data"
    )


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    days: int = Field(90, ge=1, le=366)


class TokenOut(BaseModel):
    id: str
    name: str
    token: str = Field(description="shown this once; keep it secret")
    expires_at: str


class TokenListed(BaseModel):
    id: str
    name: str
    created_at: str
    expires_at: str
    revoked: bool


SessionPrincipal = Annotated[Principal, Allowed("session:self")]


def set_session_cookie(response: Response, signed: users.SignIn, settings: ServerSettings) -> None:
    """The session cookie: HttpOnly, Secure (unless turned off), SameSite=Strict."""
    response.set_cookie(
        SESSION_COOKIE,
        signed.cookie,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        secure=settings.cookie_secure,
        samesite="strict",
        path="/",
    )


@router.post(
    "/session",
    operation_id="session-sign_in",
    response_model=SessionOut,
    responses=problem_responses(422, 429),
)
def sign_in(
    credentials: Credentials,
    request: Request,
    response: Response,
    workspace: WorkspaceDep,
    settings: SettingsDep,
) -> Any:
    """Sign in with username and password; sets the HttpOnly session cookie."""
    address = client_address(request) or "-"
    if not request.app.state.sign_in_limiter.hit(address):
        raise TooManyRequestsError("too many sign-in attempts from this address; wait a minute")
    principal = users.authenticate(
        workspace,
        credentials.username,
        credentials.password,
        address=address,
        max_failures=settings.sign_in_max_failures,
        lockout=timedelta(minutes=settings.sign_in_lockout_minutes),
    )
    signed = users.start_session(
        workspace, principal, lifetime=timedelta(hours=settings.session_hours)
    )
    set_session_cookie(response, signed, settings)
    return SessionOut(
        username=principal.username,
        role=principal.role,
        scope=principal.scope_entity,
        csrf_token=signed.csrf_token,
    )


@router.get(
    "/session", operation_id="session-get", response_model=SessionOut, responses=problem_responses()
)
def me(request: Request, principal: SessionPrincipal) -> Any:
    """The signed-in account (with the session's CSRF token when signed in by cookie, so a
    reloaded page can find it again; never for a bearer token)."""
    return SessionOut(
        username=principal.username,
        role=principal.role,
        scope=principal.scope_entity,
        csrf_token=getattr(request.state, "csrf_token", None),
    )


@router.delete(
    "/session",
    operation_id="session-sign_out",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(403),
)
def sign_out(
    request: Request, response: Response, principal: SessionPrincipal, workspace: WorkspaceDep
) -> Response:
    """End the browser session."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        users.end_session(workspace, principal, cookie)
    out = Response(status_code=status.HTTP_204_NO_CONTENT)
    out.delete_cookie(SESSION_COOKIE, path="/")
    return out


@router.post(
    "/tokens",
    operation_id="session-create_token",
    response_model=TokenOut,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(403, 422),
)
def create_token(body: TokenIn, principal: SessionPrincipal, workspace: WorkspaceDep) -> Any:
    """A personal API token for scripts (``Authorization: Bearer TOKEN``), shown once."""
    made = users.create_token(workspace, principal, body.name, days=body.days)
    return TokenOut(
        id=made.id, name=made.name, token=made.token, expires_at=made.expires_at.isoformat()
    )


@router.get(
    "/tokens",
    operation_id="session-list_tokens",
    response_model=list[TokenListed],
    responses=problem_responses(),
)
def list_tokens(principal: SessionPrincipal, workspace: WorkspaceDep) -> Any:
    """The signed-in account's tokens (never their secrets)."""
    return users.list_tokens(workspace, principal)


@router.delete(
    "/tokens/{token_id}",
    operation_id="session-revoke_token",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(403, 404),
)
def revoke_token(token_id: str, principal: SessionPrincipal, workspace: WorkspaceDep) -> Response:
    """Revoke a token at once."""
    users.revoke_token(workspace, principal, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
