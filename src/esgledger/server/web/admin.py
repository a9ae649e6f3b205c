"""The administration pages: accounts with their role, scope, status and last sign-in; add
an account, change its role and scope, disable or enable it, set a new password; the role
matrix for reference. Every change goes through :mod:`esgledger.access.users` (which checks
the rules — one active group administrator at least — and records the audit events); a
refusal is shown on the page in the user's language.

Routes (action): ``GET /admin/users`` and ``GET /admin/users/{username}`` (``user:read``);
``POST /admin/users``, ``POST /admin/users/{username}/role``,
``POST /admin/users/{username}/status``, ``POST /admin/users/{username}/password``
(``user:write``). API twin: ``/api/v1/users``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from esgledger.access import Principal, users
from esgledger.errors import ConflictError, InputError, NotFoundError
from esgledger.server.deps import PAGES_TAG, PageAllowed, WorkspaceDep
from esgledger.server.web.pages import PageContext, page_lang, render

__all__ = ["AdminUserPage", "AdminUsersPage", "router"]

router = APIRouter(tags=[PAGES_TAG], include_in_schema=False)

Reader = Annotated[Principal, PageAllowed("user:read")]
Writer = Annotated[Principal, PageAllowed("user:write")]

#: What a page says after a change (``?done=``): one of these.
DONE = ("added", "role", "disabled", "enabled", "password")


@dataclass(frozen=True, slots=True)
class UserRow:
    """One account: ``username``, ``display_name``, ``role``, ``scope`` (entity code; None =
    the whole group), ``disabled``, ``created_at`` and ``last_sign_in`` (UTC, ISO 8601, or
    None), ``oidc`` (linked to an identity provider) and ``href`` (its page)."""

    username: str
    display_name: str | None
    role: str
    scope: str | None
    disabled: bool
    created_at: str | None
    last_sign_in: str | None
    oidc: bool
    href: str


@dataclass(frozen=True, slots=True)
class EntityChoice:
    """An entity a scope may name: its ``code`` and ``name``."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class MatrixRow:
    """One action of ``roles.csv``: its ``action``, ``description`` (English, as the matrix
    has it) and ``grants`` (all, scope or -, one per role in the order of ``roles``)."""

    action: str
    description: str
    grants: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AdminUsersPage(PageContext):
    """The accounts page: ``users``, the ``roles`` and ``entities`` to choose from, the role
    ``matrix``, ``may_write`` (the user may change accounts), ``done`` and ``done_user`` (the
    change just made, from :data:`DONE`), ``problem`` (a refused change, in the user's
    language, with the domain's English text in ``problem_detail``) and ``form`` (the add
    form's values to show again after a refusal; never the password)."""

    users: tuple[UserRow, ...]
    roles: tuple[str, ...]
    entities: tuple[EntityChoice, ...]
    matrix: tuple[MatrixRow, ...]
    may_write: bool
    done: str | None
    done_user: str | None
    problem: str | None
    problem_detail: str | None
    form: dict[str, str]


@dataclass(frozen=True, slots=True)
class AdminUserPage(PageContext):
    """One account's page: the ``user``, the ``roles`` and ``entities`` to choose from,
    ``may_write``, ``done`` (the change just made) and ``problem``/``problem_detail`` (a
    refused change)."""

    user: UserRow
    roles: tuple[str, ...]
    entities: tuple[EntityChoice, ...]
    may_write: bool
    done: str | None
    problem: str | None
    problem_detail: str | None


def _user_row(user: dict[str, Any]) -> UserRow:
    return UserRow(
        username=str(user["username"]),
        display_name=user.get("display_name"),
        role=str(user["role"]),
        scope=user.get("scope"),
        disabled=bool(user["disabled"]),
        created_at=user.get("created_at"),
        last_sign_in=user.get("last_sign_in"),
        oidc=bool(user.get("oidc")),
        href=f"/admin/users/{quote(str(user['username']), safe='')}",
    )


def _entities(found: dict[str, Any]) -> tuple[EntityChoice, ...]:
    return tuple(EntityChoice(str(e["code"]), str(e["name"])) for e in found["entities"])


def _refusal(request: Request, exc: Exception) -> tuple[str, str | None]:
    """The kind of refusal (a string key's last part) and its detail: the domain's own
    Chinese text on a Chinese page when it has one, else its English text."""
    kind = (
        "conflict"
        if isinstance(exc, ConflictError)
        else "not_found"
        if isinstance(exc, NotFoundError)
        else "input"
    )
    own_zh = getattr(exc, "zh", None)
    if page_lang(request) == "zh-CN" and own_zh:
        return kind, str(own_zh)
    return kind, str(exc)


def _list_page(
    request: Request,
    found: dict[str, Any],
    *,
    done: str | None = None,
    done_user: str | None = None,
    problem: tuple[str, str | None] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    page = AdminUsersPage(
        users=tuple(_user_row(u) for u in found["users"]),
        roles=tuple(found["roles"]),
        entities=_entities(found),
        matrix=tuple(
            MatrixRow(str(r["action"]), str(r["description"]), tuple(r["grants"]))
            for r in found["matrix"]
        ),
        may_write=bool(found["may_write"]),
        done=done if done in DONE else None,
        done_user=done_user if done in DONE else None,
        problem=None if problem is None else problem[0],
        problem_detail=None if problem is None else problem[1],
        form=form or {"username": "", "display_name": "", "role": "viewer", "scope": ""},
    )
    return render(
        request, "admin/users.html", page, status_code=status_code, alternate="/api/v1/users"
    )


@router.get("/admin/users")
def user_list(
    request: Request,
    workspace: WorkspaceDep,
    principal: Reader,
    done: str | None = None,
    user: str | None = None,
) -> Response:
    """Every account, the add form and the role matrix."""
    return _list_page(request, users.directory(workspace, principal), done=done, done_user=user)


Text200 = Annotated[str, Form(max_length=200)]


@router.post("/admin/users")
def add_user(
    request: Request,
    workspace: WorkspaceDep,
    principal: Writer,
    username: Annotated[str, Form(max_length=100)] = "",
    display_name: Text200 = "",
    role: Annotated[str, Form(max_length=20)] = "",
    scope: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Add an account; a refusal re-renders the form with the problem (422)."""
    name = username.strip()
    try:
        users.add_account(
            workspace,
            principal,
            name,
            role=role,
            scope=scope or None,
            password=password or None,
            display_name=display_name.strip() or None,
        )
    except (InputError, ConflictError) as exc:
        form = {"username": name, "display_name": display_name, "role": role, "scope": scope}
        return _list_page(
            request,
            users.directory(workspace, principal),
            problem=_refusal(request, exc),
            form=form,
            status_code=422,
        )
    query = urlencode({"done": "added", "user": name})
    return RedirectResponse(f"/admin/users?{query}", status_code=303)


def _user_page(
    request: Request,
    found: dict[str, Any],
    *,
    done: str | None = None,
    problem: tuple[str, str | None] | None = None,
    status_code: int = 200,
) -> Response:
    page = AdminUserPage(
        user=_user_row(found["user"]),
        roles=tuple(found["roles"]),
        entities=_entities(found),
        may_write=bool(found["may_write"]),
        done=done if done in DONE else None,
        problem=None if problem is None else problem[0],
        problem_detail=None if problem is None else problem[1],
    )
    return render(
        request, "admin/user.html", page, status_code=status_code, alternate="/api/v1/users"
    )


@router.get("/admin/users/{username}")
def user_page(
    request: Request,
    username: str,
    workspace: WorkspaceDep,
    principal: Reader,
    done: str | None = None,
) -> Response:
    """One account and the forms that change it."""
    return _user_page(request, users.account(workspace, principal, username), done=done)


def _changed(
    request: Request,
    workspace: WorkspaceDep,
    principal: Principal,
    username: str,
    done: str,
    change: Any,
) -> Response:
    try:
        change()
    except (InputError, ConflictError) as exc:
        return _user_page(
            request,
            users.account(workspace, principal, username),
            problem=_refusal(request, exc),
            status_code=422 if isinstance(exc, InputError) else 409,
        )
    return RedirectResponse(f"/admin/users/{quote(username, safe='')}?done={done}", status_code=303)


@router.post("/admin/users/{username}/role")
def set_role(
    request: Request,
    username: str,
    workspace: WorkspaceDep,
    principal: Writer,
    role: Annotated[str, Form(max_length=20)] = "",
    scope: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Set the account's role and scope."""
    return _changed(
        request,
        workspace,
        principal,
        username,
        "role",
        lambda: users.set_role(workspace, principal, username, role, scope or None),
    )


@router.post("/admin/users/{username}/status")
def set_status(
    request: Request,
    username: str,
    workspace: WorkspaceDep,
    principal: Writer,
    disabled: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Disable (``disabled=1``) or enable (``disabled=0``) the account."""
    if disabled == "1":
        return _changed(
            request,
            workspace,
            principal,
            username,
            "disabled",
            lambda: users.disable_user(workspace, principal, username),
        )
    return _changed(
        request,
        workspace,
        principal,
        username,
        "enabled",
        lambda: users.enable_user(workspace, principal, username),
    )


@router.post("/admin/users/{username}/password")
def set_password(
    request: Request,
    username: str,
    workspace: WorkspaceDep,
    principal: Writer,
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Set a new password (the account's browser sessions end)."""
    return _changed(
        request,
        workspace,
        principal,
        username,
        "password",
        lambda: users.set_password(workspace, principal, username, password),
    )
