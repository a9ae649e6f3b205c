"""``esgledger batches list|show|withdraw|supersede WS …``: the registry of import batches and
its corrections without deletion (:mod:`esgledger.batches.service`).

The commands act as :meth:`esgledger.access.Principal.local` (the operating-system user, an
administrator of the whole group) and are thin over the service the API uses too. A refused
correction (already withdrawn, a kind that cannot be corrected, a rejected corrected file)
exits 2; other errors 1.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from esgledger.cli._app import EXIT_ERROR, EXIT_REJECTED, app
from esgledger.cli._commands_workspace import _stderr, _stdout
from esgledger.errors import (
    ConflictError,
    EsgledgerError,
    InputError,
    NotFoundError,
    WorkspaceBusyError,
)

batches_app = typer.Typer(
    name="batches",
    help="List import batches; withdraw or supersede one (nothing is deleted).",
    no_args_is_help=True,
)
app.add_typer(batches_app, name="batches")

WorkspaceArgument = Annotated[Path, typer.Argument(help="Workspace folder.")]
BatchArgument = Annotated[str, typer.Argument(help="Batch id (b-…), as `batches list` shows.")]
ReasonOption = Annotated[
    str, typer.Option("--reason", help="Why (required; at most 1000 characters).")
]


class ViewFormat(StrEnum):
    table = "table"
    json = "json"


class StatusChoice(StrEnum):
    submitted = "submitted"
    approved = "approved"
    withdrawn = "withdrawn"
    superseded = "superseded"


def _fail(exc: EsgledgerError) -> typer.Exit:
    _stderr().print(f"error: {exc}", markup=False)
    refused = (InputError, ConflictError, NotFoundError, WorkspaceBusyError)
    return typer.Exit(EXIT_REJECTED if isinstance(exc, refused) else EXIT_ERROR)


def _json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def _status(view: dict[str, Any]) -> str:
    status = str(view["status"])
    if view.get("superseded_by"):
        status += f" → {view['superseded_by']}"
    return status


@batches_app.command("list")
def batches_list(
    workspace: WorkspaceArgument,
    kind: Annotated[str | None, typer.Option(help="Only batches of this import kind.")] = None,
    status: Annotated[StatusChoice | None, typer.Option(help="Only batches of this status.")] = (
        None
    ),
    format_: Annotated[ViewFormat, typer.Option("--format", help="table or json.")] = (
        ViewFormat.table
    ),
) -> None:
    """The registered import batches, oldest first, with their status."""
    from esgledger.access import Principal
    from esgledger.batches import list_batches
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            views = list_batches(
                ws, Principal.local(), kind=kind, status=None if status is None else status.value
            )
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    if format_ is ViewFormat.json:
        _json(views)
        return
    table = Table(title="Import batches 导入批次", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("batch", "kind", "file", "rows", "imported", "by", "status"):
        table.add_column(name, no_wrap=name != "file")
    for v in views:
        table.add_row(
            v["id"],
            v["kind"],
            escape(str(v["file_name"])),
            str(v["row_count"]),
            str(v["imported_at"])[:19],
            escape(str(v["imported_by"] or "")),
            escape(_status(v)),
        )
    _stdout().print(table)


@batches_app.command("show")
def batches_show(
    workspace: WorkspaceArgument,
    batch: BatchArgument,
    format_: Annotated[ViewFormat, typer.Option("--format", help="table or json.")] = (
        ViewFormat.table
    ),
) -> None:
    """One batch: file, hash, rows, who imported it, its status and who changed it, why."""
    from esgledger.access import Principal
    from esgledger.batches import show
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            view = show(ws, Principal.local(), batch)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    if format_ is ViewFormat.json:
        _json(view)
        return
    out = _stdout()
    for key in (
        "id", "kind", "file_name", "content_hash", "row_count", "lake_path",
        "lake_file_present", "imported_at", "imported_by", "task_id", "entities",
        "period_start", "period_end", "status", "superseded_by", "supersedes",
        "status_changed_at", "status_changed_by", "status_reason",
    ):  # fmt: skip
        value = view.get(key)
        if value is None or value == []:
            continue
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        out.print(f"{key}: {value}", markup=False)


@batches_app.command("withdraw")
def batches_withdraw(
    workspace: WorkspaceArgument, batch: BatchArgument, reason: ReasonOption
) -> None:
    """Withdraw a batch: later calculations leave it out; its file and row stay."""
    from esgledger.access import Principal
    from esgledger.batches import withdraw
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            view = withdraw(ws, Principal.local(), batch, reason)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    _stdout().print(
        f"Withdrew batch {view['id']} ({view['file_name']}, {view['row_count']} rows) by "
        f"{view['status_changed_by']}; its lake file stays. Recalculate "
        "(`esgledger calculate`) to leave it out of the inventory.",
        markup=False,
    )


@batches_app.command("supersede")
def batches_supersede(
    workspace: WorkspaceArgument,
    batch: BatchArgument,
    file: Annotated[Path, typer.Argument(help="The corrected file (CSV, XLSX or Parquet).")],
    reason: ReasonOption,
    sheet: Annotated[
        str | None, typer.Option("--sheet", help="For a workbook: the sheet to import.")
    ] = None,
) -> None:
    """Import a corrected file whole and mark the batch superseded by it, in one step."""
    from esgledger.access import Principal
    from esgledger.batches import supersede
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            result = supersede(ws, Principal.local(), batch, file, reason, sheet=sheet)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    _stdout().print(result["message"], markup=False)
    for warning in result["warnings"]:
        _stderr().print(f"warning: row {warning['row']}: {warning['problem']}", markup=False)
