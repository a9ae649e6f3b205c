"""Sign in, sign out and the language switch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from esgledger.access import Principal, users
from esgledger.errors import AuthenticationError, InputError
from esgledger.i18n import LANGS
from esgledger.server.api.session import set_session_cookie
from esgledger.server.deps import (
    PAGES_TAG,
    SESSION_COOKIE,
    PageAllowed,
    SettingsDep,
    WorkspaceDep,
    client_address,
)
from esgledger.server.web.errors import safe_next
from esgledger.server.web.pages import LANG_COOKIE, PageContext, render

__all__ = ["SignInPage", "router"]

router = APIRouter(tags=[PAGES_TAG], include_in_schema=False)


@dataclass(frozen=True, slots=True)
class SignInPage(PageContext):
    """The sign-in form: where to go after signing in, the username typed so far, and the
    string key of the error to show (``None`` before a failed attempt)."""

    next: str
    username: str
    error_key: str | None


@router.get("/sign-in")
def sign_in_form(request: Request, next: str = "/") -> Response:
    return render(request, "sign_in.html", SignInPage(safe_next(next), "", None))


@router.post("/sign-in")
def sign_in(
    request: Request,
    workspace: WorkspaceDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    target = safe_next(next)
    address = client_address(request) or "-"
    if not request.app.state.sign_in_limiter.hit(address):
        page = SignInPage(target, username, "signin.too_many")
        return render(request, "sign_in.html", page, status_code=429)
    if not username or not password:
        return render(
            request, "sign_in.html", SignInPage(target, username, "signin.missing"), status_code=400
        )
    try:
        principal = users.authenticate(
            workspace,
            username,
            password,
            address=address,
            max_failures=settings.sign_in_max_failures,
            lockout=timedelta(minutes=settings.sign_in_lockout_minutes),
        )
    except (AuthenticationError, InputError):
        page = SignInPage(target, username, "signin.failed")
        return render(request, "sign_in.html", page, status_code=401)
    signed = users.start_session(
        workspace, principal, lifetime=timedelta(hours=settings.session_hours)
    )
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, signed, settings)
    return response


@router.post("/sign-out")
def sign_out(
    request: Request,
    workspace: WorkspaceDep,
    principal: Annotated[Principal, PageAllowed("session:self")],
) -> Response:
    users.end_session(workspace, principal, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/language/{lang}")
def choose_language(lang: str, next: str = "/") -> Response:
    """Keep ``lang`` (``en`` or ``zh-CN``) for a year and go back to ``next``."""
    response = RedirectResponse(safe_next(next), status_code=303)
    if lang in LANGS:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="lax", path="/"
        )
    return response
