"""Data-centre energy commands: ``esgledger energy ...``.

数据中心能源命令。

The group :data:`energy_app` holds the commands of the energy platform (``docs/energy/``):
``rollup`` here (build the interval and rollup tables of the imported readings and say what
they hold); the KPI, baseline, forecast, anomaly and what-if commands live in their own
``_commands_energy_<area>.py`` modules, each a ``register(energy_app)``.

Errors go to stderr as ``error: ...`` with exit status 1; rejected input exits 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from esgledger.cli import (
    _commands_energy_anomalies,
    _commands_energy_baseline,
    _commands_energy_forecast,
    _commands_energy_kpi,
    _commands_energy_whatif,
)
from esgledger.cli._app import app
from esgledger.cli._commands_workspace import _fail, _stdout
from esgledger.errors import EsgledgerError

energy_app = typer.Typer(
    name="energy",
    help="Data-centre energy: meter rollups, ISO/IEC 30134 KPIs, baselines, forecasts, "
    "anomalies, what-if and proposals.",
    no_args_is_help=True,
)
app.add_typer(energy_app, name="energy")

WorkspaceArgument = Annotated[Path, typer.Argument(help="Workspace folder.")]

for _area in (
    _commands_energy_kpi,
    _commands_energy_baseline,
    _commands_energy_forecast,
    _commands_energy_anomalies,
    _commands_energy_whatif,
):
    _area.register(energy_app)


@energy_app.command("rollup")
def rollup_command(
    workspace: WorkspaceArgument,
    force: Annotated[
        bool, typer.Option("--force", help="Rebuild even when nothing changed.")
    ] = False,
) -> None:
    """Build the interval and 15-minute/hourly/daily/monthly rollup tables of the imported
    readings (rebuilt automatically when readings or meters change) and show per site what
    they hold: meters, readings' span, coverage and flagged intervals."""
    from esgledger.energy import rollups
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            rollups.refresh(ws, force=force)
            monthly = rollups.rollup(ws, "month")
            flagged = rollups.flags(ws)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    out = _stdout()
    if monthly.num_rows == 0:
        out.print(
            "No readings. Import a meter tree (esgledger import WS --kind meters FILE) and "
            "readings (--kind readings).",
            markup=False,
        )
        return
    rows = monthly.group_by("site").aggregate(
        [
            ("meter", "count_distinct"),
            ("period_local", "min"),
            ("period_local", "max"),
            ("coverage", "mean"),
        ]
    )
    flag_counts: dict[str, int] = {}
    for record in flagged.group_by("site").aggregate([("flag", "count")]).to_pylist():
        flag_counts[str(record["site"])] = int(record["flag_count"])
    table = Table(title="Telemetry rollups", box=box.SIMPLE_HEAD, pad_edge=False)
    for header in ("site", "meters", "first month", "last month", "coverage", "flagged"):
        table.add_column(header)
    for record in sorted(rows.to_pylist(), key=lambda r: str(r["site"])):
        table.add_row(
            str(record["site"]),
            str(record["meter_count_distinct"]),
            f"{record['period_local_min']:%Y-%m}",
            f"{record['period_local_max']:%Y-%m}",
            f"{record['coverage_mean'] * 100:.1f} %",
            str(flag_counts.get(str(record["site"]), 0)),
        )
    out.print(table)
