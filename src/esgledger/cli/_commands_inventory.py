"""Inventory commands: ``esgledger calculate`` and ``esgledger inventory``.

``calculate`` runs the engine over a workspace's activity data and prints the inventory
(scope 1, scope 2 location-based, scope 3 by category, biogenic CO2; t CO2e) and the run id;
``inventory`` shows a run again (the latest by default) as a table or JSON, or exports its line
items (one per activity row) as CSV or Parquet. Errors go to stderr as ``error: ...`` with
exit status 1; run warnings go to stderr as ``warning: ...``.
"""

from __future__ import annotations

import io
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from esgledger.cli._app import app
from esgledger.cli._commands_workspace import _fail, _stderr, _stdout
from esgledger.errors import EsgledgerError


class GwpChoice(StrEnum):
    """IPCC GWP-100 set."""

    AR4 = "AR4"
    AR5 = "AR5"
    AR6 = "AR6"


class ConsolidationChoice(StrEnum):
    """Consolidation approach (GHG Protocol Corporate Standard ch. 3)."""

    equity = "equity"
    operational = "operational"
    financial = "financial"


class TierChoice(StrEnum):
    """The least specific factor tier ``--strict`` accepts."""

    supplier = "supplier"
    site = "site"
    subnational = "subnational"
    country = "country"
    global_ = "global"


class InventoryFormat(StrEnum):
    """Output of ``esgledger inventory``."""

    table = "table"
    json = "json"
    csv = "csv"
    parquet = "parquet"


WorkspaceArgument = Annotated[Path, typer.Argument(help="Workspace folder.")]


def _t(value: float) -> str:
    return f"{value:,.3f}"


def inventory_table(data: dict[str, Any]) -> Table:
    """The inventory of a :func:`esgledger.inventory.summary` as a Rich table [t CO2e]."""
    from esgledger.inventory.runs import SCOPE3_CATEGORY_NAMES

    totals = data["totals"]
    table = Table(
        title=f"GHG inventory {data['run']['reporting_year']} (t CO2e)",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("", no_wrap=True)
    table.add_column("t CO2e", justify="right", no_wrap=True)
    table.add_row("Scope 1 范围一", _t(totals["scope1"]))
    table.add_row("Scope 2 (location-based) 范围二（基于位置）", _t(totals["scope2_location"]))
    table.add_row("Scope 3 范围三", _t(totals["scope3"]))
    for key, (name, name_zh) in SCOPE3_CATEGORY_NAMES.items():
        value = data["scope3_by_category"][key]
        table.add_row(f"  {key}. {name} {name_zh}", _t(value) if value else "-")
    table.add_row("Total (scopes 1, 2 location, 3) 合计", _t(totals["total"]), end_section=True)
    table.add_row(
        "Biogenic CO2, outside the scopes 生物源CO2（范围外）", _t(totals["biogenic_co2"])
    )
    return table


def _print_run(data: dict[str, Any]) -> None:
    out = _stdout()
    out.print(inventory_table(data))
    manifest = data["run"]
    counts = manifest["counts"]
    out.print(
        f"run {manifest['run_id']}: {counts['lines']} line item(s), GWP {manifest['gwp_set']}, "
        f"{manifest['consolidation'].replace('_', ' ')}"
        + (f", {counts['excluded']} excluded" if counts["excluded"] else ""),
        markup=False,
    )
    err = _stderr()
    for warning in manifest["warnings"]:
        err.print(f"warning: {warning}", markup=False)


@app.command()
def calculate(
    workspace: WorkspaceArgument,
    gwp: Annotated[GwpChoice, typer.Option(help="IPCC GWP-100 set.")] = GwpChoice.AR6,
    consolidation: Annotated[
        ConsolidationChoice,
        typer.Option(
            help="Consolidation approach: equity share, operational or financial control."
        ),
    ] = ConsolidationChoice.operational,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Fail instead of falling back to a factor less specific than --strict-tier "
            "(or older than --max-vintage-gap).",
        ),
    ] = False,
    strict_tier: Annotated[
        TierChoice, typer.Option(help="With --strict: the least specific tier accepted.")
    ] = TierChoice.country,
    max_vintage_gap: Annotated[
        int | None,
        typer.Option(min=0, help="With --strict: the largest vintage gap accepted [years]."),
    ] = None,
    allow_unresolved: Annotated[
        bool,
        typer.Option(
            "--allow-unresolved",
            help="Record rows without a factor as excluded line items instead of failing.",
        ),
    ] = False,
    category_3: Annotated[
        bool,
        typer.Option(
            "--category-3/--no-category-3",
            help="Derive scope 3 category 3 (well-to-tank, T&D losses) from scope 1 and 2 rows.",
        ),
    ] = True,
) -> None:
    """Calculate the GHG inventory (scope 1, 2 location-based, 3) and register the run."""
    from esgledger.factors.resolve import Strictness
    from esgledger.inventory import calculate as run_calculation
    from esgledger.inventory import summary
    from esgledger.store import Workspace

    strictness = (
        Strictness(max_tier=strict_tier.value, max_vintage_gap=max_vintage_gap) if strict else None
    )
    try:
        with Workspace.open(workspace) as ws:
            run = run_calculation(
                ws,
                gwp_set=gwp.value,
                consolidation=consolidation.value,
                strict=strictness,
                allow_unresolved=allow_unresolved,
                category_3=category_3,
            )
            data = summary(run)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    _print_run(data)


@app.command()
def inventory(
    workspace: WorkspaceArgument,
    run: Annotated[
        str | None, typer.Option("--run", help="Run id (default: the latest run).")
    ] = None,
    format_: Annotated[
        InventoryFormat,
        typer.Option(
            "--format",
            help="table or json: the inventory; csv or parquet: its line items (one per "
            "activity row).",
        ),
    ] = InventoryFormat.table,
    out: Annotated[
        Path | None,
        typer.Option(help="Write to this file instead of the terminal (required for parquet)."),
    ] = None,
) -> None:
    """Show a run's inventory, or export its line items."""
    from esgledger.inventory import load_run, summary
    from esgledger.store import Workspace

    if format_ is InventoryFormat.parquet and out is None:
        _stderr().print("error: --format parquet needs --out FILE", markup=False)
        raise typer.Exit(1)
    try:
        with Workspace.open(workspace) as ws:
            found = load_run(ws, run)
        data = summary(found) if format_ in (InventoryFormat.table, InventoryFormat.json) else {}
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    if format_ is InventoryFormat.table:
        if out is not None:
            console = _file_console(out)
            console.print(inventory_table(data))
        else:
            _print_run(data)
        return
    if format_ is InventoryFormat.json:
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        if out is not None:
            out.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return
    if format_ is InventoryFormat.parquet and out is not None:  # out is required above
        _export_sorted(found.line_items_path, out)
        return
    _write_csv(found.line_items_path, out)


def _file_console(path: Path) -> Any:
    from rich.console import Console

    return Console(file=path.open("w", encoding="utf-8"), width=120, highlight=False)


def _export_sorted(source: Path, out: Path) -> None:
    """The line items in their canonical order, as Parquet (DuckDB sorts, spilling to disk
    when needed)."""
    import duckdb

    from esgledger.inventory.engine import line_order_sql

    def literal(path: Path) -> str:
        return "'" + str(path).replace("'", "''") + "'"

    con = duckdb.connect()
    try:
        con.execute(
            f"COPY (SELECT * FROM read_parquet({literal(source)}) ORDER BY {line_order_sql()}) "
            f"TO {literal(out)} (FORMAT parquet, COMPRESSION zstd)"
        )
    finally:
        con.close()


def _write_csv(source: Path, out: Path | None) -> None:
    """Stream the line items to CSV in their canonical order, batch by batch."""
    import tempfile

    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory() as folder:
        ordered = Path(folder) / "ordered.parquet"
        _export_sorted(source, ordered)
        _write_csv_batches(pq.ParquetFile(ordered), out)


def _write_csv_batches(parquet: Any, out: Path | None) -> None:
    import pyarrow.csv as pacsv

    target: Any = out.open("wb") if out is not None else None
    try:
        header = True
        for batch in parquet.iter_batches(batch_size=65_536):
            buffer = io.BytesIO()
            pacsv.write_csv(batch, buffer, pacsv.WriteOptions(include_header=header))
            header = False
            if target is not None:
                target.write(buffer.getvalue())
            else:
                sys.stdout.write(buffer.getvalue().decode("utf-8"))
        if header:  # no rows: still write the header
            buffer = io.BytesIO()
            pacsv.write_csv(parquet.schema_arrow.empty_table(), buffer)
            if target is not None:
                target.write(buffer.getvalue())
            else:
                sys.stdout.write(buffer.getvalue().decode("utf-8"))
    finally:
        if target is not None:
            target.close()


@app.command()
def explain(
    workspace: WorkspaceArgument,
    record: Annotated[
        str,
        typer.Argument(help="The row's record_id, or <batch_id>:<row_number>."),
    ],
    run: Annotated[
        str | None, typer.Option("--run", help="Run id (default: the latest run).")
    ] = None,
) -> None:
    """Show how one activity row's emissions came to be, line by line."""
    from esgledger.inventory import load_run
    from esgledger.inventory.explain import explain_line, find_lines
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            found = load_run(ws, run)
        lines = find_lines(found, record)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    out = _stdout()
    out.print(f"run {found.run_id}", markup=False)
    for number, line in enumerate(lines, start=1):
        out.print(f"line {number} of {len(lines)} ({line['line_kind']})", markup=False)
        for label, text in explain_line(line):
            out.print(f"  {label:<13} {text}", markup=False)
