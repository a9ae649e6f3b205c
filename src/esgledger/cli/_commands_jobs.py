"""Job commands: ``esgledger jobs list|show|cancel|work WS``.

作业命令：列出、查看、取消作业，以及在前台运行工作池。

Thin over :mod:`esgledger.jobs.service` (as :class:`~esgledger.access.Principal.local`, the
workspace's administrator) and :class:`esgledger.jobs.worker.WorkerPool`. ``work`` runs a
pool in the foreground until Ctrl-C or SIGTERM, for jobs submitted while no server runs, or
to run the work in a process apart from the server.
"""

from __future__ import annotations

import json
import signal
import threading
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from esgledger.cli._app import app
from esgledger.cli._commands_workspace import _fail, _stderr, _stdout
from esgledger.errors import EsgledgerError

jobs_app = typer.Typer(
    name="jobs",
    help="Long jobs (imports, calculations, reports): list, show, cancel, run a worker pool.",
    no_args_is_help=True,
)
app.add_typer(jobs_app, name="jobs")

WorkspaceArgument = Annotated[Path, typer.Argument(help="Workspace folder.")]


class JobsFormat(StrEnum):
    """Output of ``jobs list`` and ``jobs show``."""

    table = "table"
    json = "json"


def _json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _line(job: dict[str, Any]) -> str:
    return (
        f"job {job['id']} {job['kind']}: {job['status']}"
        + (f", {job['stage']}" if job["stage"] else "")
        + f", {job['percent']} %"
    )


@jobs_app.command("list")
def list_(
    workspace: WorkspaceArgument,
    status: Annotated[str | None, typer.Option(help="Only jobs with this status.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only jobs of this kind.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 50,
    format_: Annotated[JobsFormat, typer.Option("--format")] = JobsFormat.table,
) -> None:
    """List jobs, newest first."""
    from esgledger.access import Principal
    from esgledger.jobs import service
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            jobs = service.list_jobs(ws, Principal.local(), status=status, kind=kind, limit=limit)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    if format_ is JobsFormat.json:
        _json(jobs)
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("id", "kind", "status", "stage", "%", "submitted by", "created", "outcome"):
        table.add_column(column, no_wrap=column != "outcome")
    for job in jobs:
        outcome = job["error"] or ""
        if job["result"]:
            outcome = ", ".join(
                f"{k} {job['result'][k]}" for k in ("run_id", "batch_id") if k in job["result"]
            )
        table.add_row(
            str(job["id"]),
            job["kind"],
            job["status"],
            job["stage"] or "",
            str(job["percent"]),
            job["submitted_by"],
            (job["created_at"] or "")[:19],
            outcome,
        )
    _stdout().print(table)


@jobs_app.command()
def show(
    workspace: WorkspaceArgument,
    job_id: Annotated[int, typer.Argument(help="Job id.")],
    format_: Annotated[JobsFormat, typer.Option("--format")] = JobsFormat.table,
) -> None:
    """Show one job: status, stage, percent, result or error."""
    from esgledger.access import Principal
    from esgledger.jobs import service
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            job = service.get(ws, Principal.local(), job_id)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    if format_ is JobsFormat.json:
        _json(job)
        return
    out = _stdout()
    out.print(_line(dict(job)), markup=False)
    out.print(f"submitted by {job['submitted_by']} at {job['created_at']}", markup=False)
    if job["attempts"] > 1:
        out.print(f"attempts: {job['attempts']}", markup=False)
    if job["result"]:
        out.print("result: " + json.dumps(job["result"], ensure_ascii=False), markup=False)
    if job["error"]:
        out.print(f"error: {job['error']}", markup=False)
    for issue in job["issues"] or []:
        out.print(
            "  "
            + ", ".join(f"{k} {issue[k]}" for k in ("file", "row", "column") if issue.get(k))
            + f": {issue['problem']}"
            + (f" (value: {issue['value']})" if issue.get("value") is not None else "")
            + (f". Fix: {issue['fix']}" if issue.get("fix") else ""),
            markup=False,
        )


@jobs_app.command()
def cancel(
    workspace: WorkspaceArgument,
    job_id: Annotated[int, typer.Argument(help="Job id.")],
) -> None:
    """Cancel a job: a queued one at once, a running one at its next stage."""
    from esgledger.access import Principal
    from esgledger.jobs import service
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            job = service.cancel(ws, Principal.local(), job_id)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    if job["status"] == "cancelled":
        _stdout().print(f"job {job_id} cancelled", markup=False)
    else:
        _stdout().print(
            f"job {job_id} is running: it stops at its next stage (cancel requested)",
            markup=False,
        )


@jobs_app.command()
def work(
    workspace: WorkspaceArgument,
    workers: Annotated[int, typer.Option(min=1, max=32, help="Worker threads.")] = 2,
    stop_timeout: Annotated[
        float, typer.Option(min=0, help="Seconds to let running jobs finish on Ctrl-C/SIGTERM.")
    ] = 30.0,
) -> None:
    """Run a worker pool in the foreground until Ctrl-C or SIGTERM."""
    from esgledger.jobs.worker import WorkerPool
    from esgledger.store import Workspace

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        with Workspace.open(workspace) as ws:
            pool = WorkerPool(ws, workers)
            pool.start()
            for job in pool.recovered:
                _stderr().print(
                    f"recovered job {job['id']}: {job['status']} (attempts {job['attempts']})",
                    markup=False,
                )
            _stderr().print(f"working with {workers} worker(s); Ctrl-C to stop", markup=False)
            try:
                while not stop.wait(0.5):
                    pass
            except KeyboardInterrupt:
                pass
            pool.stop(stop_timeout)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
