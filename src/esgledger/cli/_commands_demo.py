"""``esgledger demo``: build the demo workspace and show what it holds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from esgledger.cli._app import app
from esgledger.demo.data import DEMO_SEED, DEMO_YEAR


@app.command()
def demo(
    workspace: Annotated[
        Path, typer.Option("--workspace", "-w", help="Folder of the demo workspace.")
    ] = Path("esgledger-demo"),
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data generator.")] = DEMO_SEED,
    year: Annotated[int, typer.Option(help="Reporting year of the demo.")] = DEMO_YEAR,
) -> None:
    """Build the synthetic demo group's workspace (rebuilt on every run) and summarise it."""
    from esgledger.demo.run import build_demo

    console = Console()
    summary = build_demo(
        workspace,
        seed=seed,
        year=year,
        progress=console.is_terminal,
        on_step=lambda message: console.print(f"[dim]·[/dim] {message}"),
    )

    imports = Table(title=f"Imported into {summary.workspace} (reporting year {summary.year})")
    for column in ("kind", "file", "rows", "batch"):
        imports.add_column(column, justify="right" if column == "rows" else "left")
    for result in summary.imports:
        imports.add_row(result.kind, result.file_name, f"{result.rows:,}", result.batch_id)
    console.print(imports)

    factors = Table(title="Factor resolution for each kind of activity")
    for column in ("activity", "region", "unit", "rows", "factor", "tier", "gap", "source"):
        factors.add_column(column, overflow="fold")
    for r in summary.resolutions:
        factors.add_row(
            r.activity,
            r.region,
            r.unit,
            str(r.rows),
            r.factor_id or f"[red]none: {r.problem}[/red]",
            r.tier or "",
            "" if r.vintage_gap is None else str(r.vintage_gap),
            r.source or "",
        )
    console.print(factors)
    resolved = len(summary.resolutions) - len(summary.unresolved)
    console.print(
        f"{resolved} of {len(summary.resolutions)} activity/region/unit combinations resolve "
        "to a factor. The data are synthetic."
    )
