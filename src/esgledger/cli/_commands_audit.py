"""``esgledger audit verify|log WS``: the hash-chained audit trail (:mod:`esgledger.audit`).

``verify`` recomputes the chain: exit 0 and the count and head hash when it is intact, exit 1
naming the first broken link (its ``seq`` and what is wrong). ``log`` prints the events,
filtered by time, user, object or action, as a table, CSV (for an assurance provider) or JSON.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from esgledger.cli._app import EXIT_ERROR, app
from esgledger.cli._commands_workspace import _fail, _stdout
from esgledger.errors import EsgledgerError

audit_app = typer.Typer(
    name="audit",
    help="Verify and read the append-only, hash-chained audit trail.",
    no_args_is_help=True,
)
app.add_typer(audit_app, name="audit")

WorkspaceArgument = Annotated[Path, typer.Argument(help="Workspace folder.")]


class LogFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


@audit_app.command("verify")
def audit_verify(workspace: WorkspaceArgument) -> None:
    """Recompute the chain; exit 1 naming the first broken link."""
    from esgledger.audit import verify
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            report = verify(ws)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    if report.intact:
        _stdout().print(
            f"audit trail intact: {report.count} event(s), head {report.head}", markup=False
        )
        return
    typer.echo(
        f"audit trail broken at seq {report.broken_seq}: {report.problem} "
        f"({report.count} event(s) before it verified, last good hash {report.head})",
        err=True,
    )
    raise typer.Exit(EXIT_ERROR)


@audit_app.command("log")
def audit_log(
    workspace: WorkspaceArgument,
    since: Annotated[
        str | None,
        typer.Option(help="Only events at or after this UTC date or time (ISO 8601)."),
    ] = None,
    user: Annotated[str | None, typer.Option(help="Only events of this actor.")] = None,
    object_: Annotated[
        str | None,
        typer.Option("--object", help="Only events about this object: ID or TYPE:ID."),
    ] = None,
    action: Annotated[
        str | None, typer.Option(help="Only actions starting with this (e.g. import.).")
    ] = None,
    format_: Annotated[LogFormat, typer.Option("--format", help="table, csv or json.")] = (
        LogFormat.table
    ),
) -> None:
    """The audit events, oldest first."""
    from esgledger.audit import events, write_csv
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            found = events(ws, since=since, user=user, object_id=object_, action=action)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    if format_ is LogFormat.csv:
        write_csv(found, sys.stdout)
        return
    if format_ is LogFormat.json:
        sys.stdout.write(
            json.dumps([e.as_dict() for e in found], indent=2, ensure_ascii=False) + "\n"
        )
        return
    table = Table(title="Audit trail 审计日志", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("seq", "at (UTC)", "actor", "role", "action", "object", "detail"):
        table.add_column(name, no_wrap=name != "detail")
    for e in found:
        detail = "" if e.detail is None else json.dumps(e.detail, ensure_ascii=False)
        table.add_row(
            str(e.seq),
            e.at[:19],
            escape(e.actor),
            escape(e.role or ""),
            escape(e.action),
            escape(f"{e.object_type}:{e.object_id or ''}"),
            escape(detail[:200]),
        )
    _stdout().print(table)
