"""``esgledger users add|list|disable|enable|set-role|set-password WS`` and ``esgledger serve
WS``: accounts of the group platform, and the server over the workspace.

The CLI acts as :meth:`esgledger.access.Principal.local` (an administrator named
``local:<os user>`` in the audit trail). Passwords come from standard input
(``--password-stdin``), never from an argument a process list would show.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from esgledger.access.policy import ROLES
from esgledger.cli._app import app, exit_code
from esgledger.cli._commands_workspace import _stderr, _stdout
from esgledger.errors import EsgledgerError

users_app = typer.Typer(
    help="Accounts of the group platform: roles scoped to the organisation tree.",
    no_args_is_help=True,
)
app.add_typer(users_app, name="users")

WorkspaceArg = Annotated[Path, typer.Argument(help="Workspace folder.")]
UsernameArg = Annotated[str, typer.Argument(help="Username (letters, digits, . _ @ -).")]
RoleOpt = Annotated[str, typer.Option("--role", help=f"One of: {', '.join(ROLES)}.")]
ScopeOpt = Annotated[
    str | None,
    typer.Option(
        "--scope",
        help="Entity code: the role applies to it and everything under it (default: the "
        "whole group).",
    ),
]


def _fail(error: EsgledgerError) -> typer.Exit:
    """One line on stderr; the exit code of :data:`esgledger.cli._app.EXIT_CODES` (a bad
    username, role, scope or password is rejected input: 2)."""
    _stderr().print(f"error: {error}", markup=False)
    return typer.Exit(exit_code(error))


def _password_from_stdin() -> str:
    text = sys.stdin.read(4096)
    password = text.rstrip("\r\n")
    if not password:
        raise typer.BadParameter("no password on standard input", param_hint="--password-stdin")
    return password


@users_app.command("add")
def add(
    workspace: WorkspaceArg,
    username: UsernameArg,
    role: RoleOpt,
    scope: ScopeOpt = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    display_name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
    oidc_issuer: Annotated[
        str | None,
        typer.Option("--oidc-issuer", help="Identity provider (issuer URL) of an OIDC sign-in."),
    ] = None,
    oidc_subject: Annotated[
        str | None,
        typer.Option("--oidc-subject", help="The account's subject (sub) at that provider."),
    ] = None,
) -> None:
    """Add an account (a password from standard input, an OIDC identity, or both)."""
    from esgledger.access import Principal, users
    from esgledger.store import Workspace

    if (oidc_issuer is None) != (oidc_subject is None):
        raise typer.BadParameter(
            "give both --oidc-issuer and --oidc-subject, or neither", param_hint="--oidc-subject"
        )
    password = _password_from_stdin() if password_stdin else None
    try:
        with Workspace.open(workspace) as ws:
            user = users.add_account(
                ws,
                Principal.local(),
                username,
                role=role,
                scope=scope,
                password=password,
                display_name=display_name,
                oidc_issuer=oidc_issuer,
                oidc_subject=oidc_subject,
            )
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    where = user["scope"] or "the whole group"
    _stdout().print(f"added {user['username']}: {user['role']} of {where}", markup=False)


@users_app.command("list")
def list_(
    workspace: WorkspaceArg,
    json_: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """The accounts with their roles and scopes."""
    from esgledger.access import Principal, users
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            rows = users.list_users(ws, Principal.local())
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    out = _stdout()
    if json_:
        out.print(json.dumps(rows, ensure_ascii=False, indent=2), markup=False)
        return
    for row in rows:
        state = "disabled" if row["disabled"] else "active"
        out.print(
            f"{row['username']}\t{row['role']}\t{row['scope'] or '(group)'}\t{state}",
            markup=False,
        )


@users_app.command("disable")
def disable(workspace: WorkspaceArg, username: UsernameArg) -> None:
    """Disable an account (its sessions end, its tokens stop working; nothing is deleted)."""
    from esgledger.access import Principal, users
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            users.disable_user(ws, Principal.local(), username)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    _stdout().print(f"disabled {username}", markup=False)


@users_app.command("enable")
def enable(workspace: WorkspaceArg, username: UsernameArg) -> None:
    """Enable an account again (and lift a sign-in lock-out)."""
    from esgledger.access import Principal, users
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            users.enable_user(ws, Principal.local(), username)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    _stdout().print(f"enabled {username}", markup=False)


@users_app.command("set-role")
def set_role(
    workspace: WorkspaceArg, username: UsernameArg, role: RoleOpt, scope: ScopeOpt = None
) -> None:
    """Set an account's role and scope."""
    from esgledger.access import Principal, users
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            user = users.set_role(ws, Principal.local(), username, role, scope)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    where = user["scope"] or "the whole group"
    _stdout().print(f"{username}: {user['role']} of {where}", markup=False)


@users_app.command("set-password")
def set_password(workspace: WorkspaceArg, username: UsernameArg) -> None:
    """Set an account's password, read from standard input."""
    from esgledger.access import Principal, users
    from esgledger.store import Workspace

    password = _password_from_stdin()
    try:
        with Workspace.open(workspace) as ws:
            users.set_password(ws, Principal.local(), username, password)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    _stdout().print(f"password of {username} set", markup=False)


@app.command()
def serve(
    workspace: WorkspaceArg,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port.")] = 8000,
    workers: Annotated[
        int | None, typer.Option("--workers", min=0, max=64, help="Job worker threads.")
    ] = None,
) -> None:
    """Run the group platform's server (web pages, REST API under /api/v1) over the workspace.

    The CLI does not import the server (faces never import each other): Uvicorn loads
    ``esgledger.server.run:from_environment``, which reads the workspace and the settings
    from ``ESGLEDGER_SERVE_WORKSPACE`` and ``ESGLEDGER_SERVER_*``.
    """
    import os

    import uvicorn

    from esgledger.store import Workspace

    try:
        Workspace.open(workspace).close()  # a clear one-line error before Uvicorn starts
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    os.environ["ESGLEDGER_SERVE_WORKSPACE"] = str(workspace.resolve())
    if workers is not None:
        os.environ["ESGLEDGER_SERVER_WORKERS"] = str(workers)
    _stdout().print(
        f"esgledger serving {workspace} on http://{host}:{port} — open it in a browser "
        f"to sign in (API: /api/v1, OpenAPI: /openapi.json); Ctrl-C stops it",
        markup=False,
    )
    uvicorn.run(
        "esgledger.server.run:from_environment",
        factory=True,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=30,
    )
