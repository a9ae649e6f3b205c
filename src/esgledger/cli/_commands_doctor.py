"""``esgledger doctor WS [--repair]``: registry rows and lake files that do not match.

One line per finding on stdout (``problem: …`` or, with ``--repair``, ``repaired: …``), then a
summary line. Exit status: 0 when the workspace is healthy or every finding was repaired, 2
when problems remain (found without ``--repair``, or not repairable: the line says what to
do), 1 on any other error. What is checked and repaired: :mod:`esgledger.store.doctor`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from esgledger.cli._app import EXIT_REJECTED, app
from esgledger.cli._commands_workspace import _fail, _stdout
from esgledger.errors import EsgledgerError


@app.command()
def doctor(
    workspace: Annotated[Path, typer.Argument(help="Workspace folder.")],
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Remove what stopped imports and calculations left behind, and unregister "
            "batches and runs whose files are gone (never a file a row names).",
        ),
    ] = False,
) -> None:
    """Check that the database registry and the lake agree; repair with --repair."""
    from esgledger.store import Workspace
    from esgledger.store.doctor import examine

    try:
        with Workspace.open(workspace) as ws:
            findings = examine(ws, repair=repair)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    out = _stdout()
    for finding in findings:
        out.print(finding.line(), markup=False, soft_wrap=True)
    left = [f for f in findings if not f.repaired]
    if not findings:
        out.print(f"{workspace}: healthy, registry and lake agree", markup=False)
        return
    if not left:
        out.print(f"{workspace}: {len(findings)} problem(s) repaired", markup=False)
        return
    hint = "" if repair else f"; run `esgledger doctor {workspace} --repair`"
    out.print(f"{workspace}: {len(left)} problem(s) left{hint}", markup=False, soft_wrap=True)
    raise typer.Exit(EXIT_REJECTED)
