"""Accounts (administrators; auditors may read)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from esgledger.access import Principal, users
from esgledger.server.deps import Allowed, WorkspaceDep
from esgledger.server.problems import problem_responses

router = APIRouter(prefix="/api/v1", tags=["users"])


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str | None
    role: str
    scope: str | None
    disabled: bool
    created_at: str | None
    oidc: bool


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    role: str = Field(max_length=20)
    scope: str | None = Field(None, max_length=100)
    password: str | None = Field(None, min_length=1, max_length=1024)
    display_name: str | None = Field(None, max_length=200)
    oidc_issuer: str | None = Field(
        None, max_length=300, description="link an identity provider's account: its issuer"
    )
    oidc_subject: str | None = Field(None, max_length=300, description="... and its subject")


class RoleIn(BaseModel):
    role: str = Field(max_length=20)
    scope: str | None = Field(None, max_length=100)


Reader = Annotated[Principal, Allowed("user:read")]
Writer = Annotated[Principal, Allowed("user:write")]


@router.get(
    "/users",
    operation_id="users-list",
    response_model=list[UserOut],
    responses=problem_responses(403),
)
def list_users(principal: Reader, workspace: WorkspaceDep) -> Any:
    """Every account with its role and scope."""
    return users.list_users(workspace, principal)


@router.post(
    "/users",
    operation_id="users-add",
    response_model=UserOut,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(403, 409, 422),
)
def add_user(body: UserIn, principal: Writer, workspace: WorkspaceDep) -> Any:
    """Add an account."""
    return users.add_account(
        workspace,
        principal,
        body.username,
        role=body.role,
        scope=body.scope,
        password=body.password,
        display_name=body.display_name,
        oidc_issuer=body.oidc_issuer,
        oidc_subject=body.oidc_subject,
    )


@router.put(
    "/users/{username}/role",
    operation_id="users-set_role",
    response_model=UserOut,
    responses=problem_responses(403, 404, 422),
)
def set_role(username: str, body: RoleIn, principal: Writer, workspace: WorkspaceDep) -> Any:
    """Set an account's role and scope."""
    return users.set_role(workspace, principal, username, body.role, body.scope)


@router.post(
    "/users/{username}/disable",
    operation_id="users-disable",
    response_model=UserOut,
    responses=problem_responses(403, 404),
)
def disable(username: str, principal: Writer, workspace: WorkspaceDep) -> Any:
    """Disable an account: its sessions end and its tokens stop working."""
    return users.disable_user(workspace, principal, username)


@router.post(
    "/users/{username}/enable",
    operation_id="users-enable",
    response_model=UserOut,
    responses=problem_responses(403, 404),
)
def enable(username: str, principal: Writer, workspace: WorkspaceDep) -> Any:
    """Enable an account again (and lift a sign-in lock-out)."""
    return users.enable_user(workspace, principal, username)
