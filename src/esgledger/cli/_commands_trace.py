"""Traceability and base-year commands: ``esgledger diff`` and ``esgledger base-year``.

``diff WS RUN_A RUN_B`` shows what changed between two runs and why (options, input batches,
factor sets, the change of emissions by scope, category and cause, the top lines);
``base-year set|show|recalculate WS`` keeps the base-year inventory and recalculates it for
structural changes under a significance threshold (GHG Protocol Corporate Standard ch. 5).
Errors go to stderr as ``error: ...`` with exit status 1 (2 for a rejected changes file).
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

from esgledger.cli._app import EXIT_REJECTED, app
from esgledger.cli._commands_workspace import _fail, _stderr, _stdout
from esgledger.errors import EsgledgerError, InputError


class OutputFormat(StrEnum):
    """Output of the trace commands."""

    table = "table"
    json = "json"


class UnitLevel(StrEnum):
    """What the ``unit`` of a change names."""

    entity = "entity"
    site = "site"


WorkspaceArgument = Annotated[Path, typer.Argument(help="Workspace folder.")]
FormatOption = Annotated[OutputFormat, typer.Option("--format", help="table (Rich) or json.")]


def _t(value: float) -> str:
    return f"{value:,.3f}"


def _signed(value: float) -> str:
    return f"{value:+,.3f}"


def _json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


# ---- diff --------------------------------------------------------------------------------


def _diff_tables(data: dict[str, Any]) -> list[Table]:
    from esgledger.inventory.diff import CAUSE_LABELS
    from esgledger.inventory.runs import SCOPE3_CATEGORY_NAMES

    tables: list[Table] = []
    changes = Table(title="What changed 变更内容", box=box.SIMPLE_HEAD, pad_edge=False)
    changes.add_column("", no_wrap=True)
    changes.add_column("A")
    changes.add_column("B")
    for name, values in data["options"].items():
        changes.add_row(f"option {name}", str(values["a"]), str(values["b"]))
    for batch in data["inputs"]["batches_added"]:
        label = "batch added 新增批次"
        text = f"{batch['id']} {batch['file_name']} ({batch['row_count']})"
        if batch.get("supersedes"):
            label = "batch superseding 更正批次"
            text += f", supersedes {', '.join(batch['supersedes'])}"
        if batch.get("status") == "submitted":
            text += ", submitted (preview)"
        changes.add_row(label, "", escape(text))
    removed_labels = {
        "withdrawn": "batch withdrawn 撤回批次",
        "superseded": "batch superseded 被取代批次",
        "submitted": "batch not approved 未审批批次",
    }
    for batch in data["inputs"]["batches_removed"]:
        why = ""
        if batch.get("cause") == "superseded":
            why = f"superseded by {batch.get('superseded_by')}"
        elif batch.get("cause") == "withdrawn":
            why = "withdrawn"
        if batch.get("reason"):
            why += f" by {batch.get('changed_by')}: {batch['reason']}"
        changes.add_row(
            removed_labels.get(str(batch.get("cause")), "batch removed 删除批次"),
            escape(f"{batch['id']} {batch['file_name']} ({batch['row_count']})"),
            escape(why),
        )
    for name in data["inputs"]["reference_data_changed"]:
        changes.add_row(f"{name} changed", "", "")
    for entry in data["factor_sets"]:
        a, b = entry["a"] or {}, entry["b"] or {}
        label = f"factor set {entry['id']} {entry['change']}"
        if entry["fields"]:
            label += f" ({', '.join(entry['fields'])})"
        changes.add_row(label, str(a.get("edition", "")), str(b.get("edition", "")))
    if changes.row_count:
        tables.append(changes)

    totals = Table(title="Emissions (t CO2e) 排放量", box=box.SIMPLE_HEAD, pad_edge=False)
    totals.add_column("", no_wrap=True)
    for name in ("A", "B", "Δ"):
        totals.add_column(name, justify="right", no_wrap=True)
    labels = {
        "scope1": "Scope 1 范围一",
        "scope2_location": "Scope 2 (location-based) 范围二",
        "scope3": "Scope 3 范围三",
        "total": "Total 合计",
    }
    for key, values in data["totals"].items():
        if key.startswith("3."):
            name, name_zh = SCOPE3_CATEGORY_NAMES[key[2:]]
            label = f"  {key[2:]}. {name} {name_zh}"
        else:
            label = labels[key]
        totals.add_row(label, _t(values["a"]), _t(values["b"]), _signed(values["delta"]))
    tables.append(totals)

    causes = Table(title="Change by cause (t CO2e) 变化原因", box=box.SIMPLE_HEAD, pad_edge=False)
    causes.add_column("cause", no_wrap=True)
    causes.add_column("scope", no_wrap=True)
    causes.add_column("Δ t CO2e", justify="right", no_wrap=True)
    for row in data["by_scope_cause"]:
        name, name_zh = CAUSE_LABELS[row["cause"]]
        scope = f"{row['scope']}" + (
            f".{row['scope3_category']}" if row["scope3_category"] is not None else ""
        )
        causes.add_row(f"{name} {name_zh}", scope, _signed(row["delta_t"]))
    for cause, value in data["by_cause"].items():
        name, name_zh = CAUSE_LABELS[cause]
        causes.add_row(f"all: {name} {name_zh}", "all", _signed(value), style="bold")
    tables.append(causes)

    if data["top"]:
        top = Table(title="Top contributors 主要贡献明细", box=box.SIMPLE_HEAD, pad_edge=False)
        for name in ("line", "record", "entity", "activity", "A", "B", "Δ", "cause"):
            top.add_column(
                name, justify="right" if name in ("A", "B", "Δ") else "left", overflow="fold"
            )
        for row in data["top"]:
            line = f"{row['batch_id']}:{row['row_number']}"
            if row["line_kind"] != "activity":
                line += f" {row['line_kind']}"
            top.add_row(
                line,
                str(row["record_id"] or ""),
                str(row["entity"]),
                str(row["activity"]),
                _t(row["a_t"]),
                _t(row["b_t"]),
                _signed(row["delta_t"]),
                ", ".join(row["causes"]),
            )
        tables.append(top)
    return tables


@app.command()
def diff(
    workspace: WorkspaceArgument,
    run_a: Annotated[str, typer.Argument(help="The earlier run id.")],
    run_b: Annotated[str, typer.Argument(help="The later run id.")],
    top: Annotated[int, typer.Option(min=0, help="How many top lines to list.")] = 10,
    format_: FormatOption = OutputFormat.table,
) -> None:
    """Show what changed between two runs and why (options, inputs, factors, lines)."""
    from esgledger.inventory import load_run
    from esgledger.inventory.diff import diff_runs
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            first = load_run(ws, run_a)
            second = load_run(ws, run_b)
        data = diff_runs(first, second, top=top).to_dict()
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    if format_ is OutputFormat.json:
        _json(data)
        return
    out = _stdout()
    out.print(f"diff {data['run_a']} → {data['run_b']}", markup=False)
    for table in _diff_tables(data):
        out.print(table)
    lines = data["lines"]
    out.print(
        f"lines: {lines['matched']} matched ({lines['changed']} changed), "
        f"{lines['added']} added, {lines['removed']} removed",
        markup=False,
    )


# ---- base year ---------------------------------------------------------------------------

base_year_app = typer.Typer(
    name="base-year",
    help="Keep the base-year inventory and recalculate it for structural changes "
    "(GHG Protocol Corporate Standard ch. 5). 基准年。",
    no_args_is_help=True,
)
app.add_typer(base_year_app, name="base-year")

ThresholdOption = Annotated[
    float | None,
    typer.Option(
        min=0.0,
        max=1.0,
        help="Significance threshold as a fraction of base-year emissions (0.05 = 5 %).",
    ),
]


def _base_year_data(base: Any) -> dict[str, Any]:
    return {
        "unit": "t CO2e",
        "base_year": base.base_year,
        "run_id": base.run_id,
        "threshold": base.threshold,
        "recalculated": base.recalculated,
        "totals": base.totals,
        "pending": [c.to_dict() for c in base.pending],
    }


def _print_base_year(data: dict[str, Any]) -> None:
    out = _stdout()
    totals = data["totals"]
    table = Table(
        title=f"Base year {data['base_year']} 基准年 (t CO2e)", box=box.SIMPLE_HEAD, pad_edge=False
    )
    table.add_column("", no_wrap=True)
    table.add_column("t CO2e", justify="right", no_wrap=True)
    for key, label in (
        ("scope1", "Scope 1 范围一"),
        ("scope2_location", "Scope 2 (location-based) 范围二"),
        ("scope3", "Scope 3 范围三"),
    ):
        if key in totals:
            table.add_row(label, _t(float(totals[key])))
    table.add_row("Total 合计", _t(float(totals["total"])), end_section=True)
    for level, label in (("by_entity", "entity"), ("by_site", "site")):
        for code, value in (totals.get(level) or {}).items():
            table.add_row(f"  {label} {code}", _t(float(value)))
    out.print(table)
    status = "recalculated 已重新计算" if data["recalculated"] else "as calculated 原始计算"
    out.print(
        f"run {data['run_id']}, {status}, significance threshold {data['threshold'] * 100:g} %",
        markup=False,
    )
    for change in data["pending"]:
        out.print(
            f"pending (below the threshold, counted again next time): {change['kind']} "
            f"{change['unit']} {change['base_year_t_co2e']}",
            markup=False,
        )


@base_year_app.command("set")
def base_year_set(
    workspace: WorkspaceArgument,
    run: Annotated[
        str | None, typer.Option("--run", help="Run id (default: the latest run).")
    ] = None,
    threshold: ThresholdOption = None,
    note: Annotated[str | None, typer.Option(help="Why this base year.")] = None,
    format_: FormatOption = OutputFormat.table,
) -> None:
    """Designate a run as the base-year inventory (its reporting year is the base year)."""
    from esgledger.access import Principal
    from esgledger.inventory.base_year import DEFAULT_THRESHOLD, set_base_year
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            base = set_base_year(
                ws,
                run,
                threshold=DEFAULT_THRESHOLD if threshold is None else threshold,
                note=note,
                principal=Principal.local(),
            )
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    data = _base_year_data(base)
    if format_ is OutputFormat.json:
        _json(data)
    else:
        _print_base_year(data)


@base_year_app.command("show")
def base_year_show(
    workspace: WorkspaceArgument,
    history: Annotated[
        bool, typer.Option("--history", help="Also list every entry of the history.")
    ] = False,
    format_: FormatOption = OutputFormat.table,
) -> None:
    """Show the base-year inventory (as designated or last recalculated)."""
    from esgledger.inventory.base_year import base_year_history, current_base_year
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            data = _base_year_data(current_base_year(ws))
            entries = base_year_history(ws) if history else []
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    if history:
        data["history"] = [
            {
                "id": e["id"],
                "created_at": e["created_at"],
                "kind": e["kind"],
                "run_id": e["run_id"],
                "parent_id": e["parent_id"],
                "total": (e["totals"] or {}).get("total"),
                "note": e["note"],
            }
            for e in entries
        ]
    if format_ is OutputFormat.json:
        _json(data)
        return
    _print_base_year(data)
    for entry in data.get("history", []):
        _stdout().print(
            f"#{entry['id']} {entry['created_at']:%Y-%m-%d %H:%M} {entry['kind']}: "
            f"{_t(float(entry['total']))} t CO2e"
            + (f" ({entry['note']})" if entry["note"] else ""),
            markup=False,
        )


@base_year_app.command("recalculate")
def base_year_recalculate(
    workspace: WorkspaceArgument,
    changes: Annotated[
        Path,
        typer.Option(
            "--changes",
            help="CSV of changes: kind, unit (entity or site), base_year_t_co2e, "
            "effective_date, note[, existed_in_base_year].",
        ),
    ],
    level: Annotated[
        UnitLevel, typer.Option(help="What the changes' unit column names.")
    ] = UnitLevel.entity,
    threshold: ThresholdOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Assess only; store nothing.")] = False,
    note: Annotated[str | None, typer.Option(help="Note stored with the entry.")] = None,
    format_: FormatOption = OutputFormat.table,
) -> None:
    """Assess changes against the base year and recalculate it when they are significant."""
    from esgledger.access import Principal
    from esgledger.inventory.base_year import read_changes, record_recalculation
    from esgledger.store import Workspace

    try:
        parsed = read_changes(changes)
        with Workspace.open(workspace) as ws:
            result = record_recalculation(
                ws,
                parsed,
                level=level.value,
                threshold=threshold,
                save=not dry_run,
                note=note,
                principal=Principal.local(),
            )
    except InputError as exc:
        _stderr().print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_REJECTED) from exc
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    data = result.to_dict()
    data["stored"] = not dry_run
    if format_ is OutputFormat.json:
        _json(data)
        return
    out = _stdout()
    table = Table(
        title="Base-year recalculation 基准年重新计算 (t CO2e)", box=box.SIMPLE_HEAD, pad_edge=False
    )
    for name in ("change", "unit", "Δ t CO2e", "share", "applied", "reason"):
        table.add_column(name, justify="right" if name in ("Δ t CO2e", "share") else "left")
    for item in data["assessments"]:
        table.add_row(
            item["kind"],
            item["unit"],
            _signed(item["adjustment_t_co2e"]),
            f"{item['share'] * 100:.2f} %",
            "yes 是" if item["applied"] else "no 否",
            item["reason"],
        )
    out.print(table)
    out.print(data["reason"], markup=False)
    out.print(data["reason_zh"], markup=False)
    if dry_run:
        out.print("dry run: nothing stored", markup=False)
