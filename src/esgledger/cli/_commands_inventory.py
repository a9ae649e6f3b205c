"""Inventory commands: ``calculate``, ``inventory``, ``explain``, ``uncertainty``, ``quality``.

``calculate`` runs the engine over a workspace's activity data and prints the inventory
(scope 1, scope 2 location-based and market-based, scope 3 by category, biogenic CO2;
t CO2e; the group's RE %) and the run id;
``inventory`` shows a run again (the latest by default) as a table or JSON, or exports its line
items (one per activity row) as CSV or Parquet; ``explain`` shows how one activity row's
figures came to be (:func:`esgledger.inventory.explain.explain`); ``uncertainty`` propagates
factor uncertainty to the totals by seeded Monte Carlo
(:func:`esgledger.inventory.uncertainty.monte_carlo`); ``quality`` shows the data-quality
scores per scope and scope 3 category and the scope 3 completeness view
(:mod:`esgledger.inventory.quality`). The views for people take ``--lang en|zh-CN``.

Errors go to stderr as ``error: ...`` with exit status 1 (2 for an ambiguous record id, whose
choices are listed, and for invalid options); run warnings go to stderr as ``warning: ...``.
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

from esgledger.cli._app import EXIT_REJECTED, Lang, app
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
    default = "default"


class PriceBasis(StrEnum):
    """Price basis of spend factors where a source publishes both."""

    purchaser = "purchaser"
    producer = "producer"


class IncludeChoice(StrEnum):
    """Batch statuses ``calculate --include`` adds to the approved ones."""

    submitted = "submitted"


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
    preview = (
        " — PREVIEW, includes unapproved data / 预览，含未审批数据"
        if data["run"].get("preview")
        else ""
    )
    table = Table(
        title=f"GHG inventory {data['run']['reporting_year']} (t CO2e){preview}",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("", no_wrap=True)
    table.add_column("t CO2e", justify="right", no_wrap=True)
    table.add_row("Scope 1 范围一", _t(totals["scope1"]))
    table.add_row("Scope 2 (location-based) 范围二（基于位置）", _t(totals["scope2_location"]))
    if "scope2_market" in totals:
        table.add_row("Scope 2 (market-based) 范围二（基于市场）", _t(totals["scope2_market"]))
    table.add_row("Scope 3 范围三", _t(totals["scope3"]))
    for key, (name, name_zh) in SCOPE3_CATEGORY_NAMES.items():
        value = data["scope3_by_category"][key]
        table.add_row(f"  {key}. {name} {name_zh}", _t(value) if value else "-")
    table.add_row("Total (scopes 1, 2 location, 3) 合计", _t(totals["total"]), end_section=True)
    table.add_row(
        "Biogenic CO2, outside the scopes 生物源CO2（范围外）", _t(totals["biogenic_co2"])
    )
    group_re = (data.get("renewable_share") or {}).get("group")
    if group_re is not None:
        table.add_row(
            "Renewable electricity 可再生电力比例 (RE %, annual matching)",
            f"{group_re * 100:.1f} %",
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
    if manifest.get("preview"):
        err.print(
            "PREVIEW — includes unapproved data / 预览——含未审批数据: this run includes "
            f"{', '.join(manifest.get('included_statuses', []))} batches",
            markup=False,
        )
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
    proxy: Annotated[
        list[str] | None,
        typer.Option(
            "--proxy",
            help="Proxy regions for rows whose own region chain has no factor, tried in order "
            "and flagged as tier proxy: REGION=PROXY[,PROXY...], e.g. CN=GB,US or *=GB "
            "(repeatable; default: the workspace's [factors] proxies).",
        ),
    ] = None,
    price_basis: Annotated[
        PriceBasis,
        typer.Option(
            help="Spend factors at purchaser prices (what the company paid) or producer prices, "
            "where a source publishes both."
        ),
    ] = PriceBasis.purchaser,
    category_3_proxies: Annotated[
        bool | None,
        typer.Option(
            "--category-3-proxies/--no-category-3-proxies",
            help="Let proxy regions price the derived category 3 lines (well-to-tank, T&D "
            "losses) too (default: the workspace's [factors] category_3_proxies, else no).",
        ),
    ] = None,
    include: Annotated[
        list[IncludeChoice] | None,
        typer.Option(
            "--include",
            help="Also include batches of this status (submitted): a preview run, marked as "
            "such in its manifest and in any report made from it. By default only approved "
            "batches enter a calculation.",
        ),
    ] = None,
) -> None:
    """Calculate the GHG inventory (scope 1, 2 location- and market-based, 3) and register
    the run."""
    from esgledger.access import Principal
    from esgledger.inventory import calculate as run_calculation
    from esgledger.inventory import summary
    from esgledger.inventory.options import calculation_options
    from esgledger.store import Workspace

    try:
        options = calculation_options(
            gwp=gwp.value,
            consolidation=consolidation.value,
            strict=strict,
            strict_tier=strict_tier.value,
            max_vintage_gap=max_vintage_gap,
            allow_unresolved=allow_unresolved,
            category_3=category_3,
            proxy=proxy,
            price_basis=price_basis.value,
            category_3_proxies=category_3_proxies,
            include=[choice.value for choice in include or ()],
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--proxy") from exc
    try:
        with Workspace.open(workspace) as ws:
            run = run_calculation(ws, **options, principal=Principal.local())
            data = summary(run)
    except EsgledgerError as exc:
        from esgledger.inventory.runs import LineCeilingError

        if isinstance(exc, LineCeilingError):  # a refused input, not a failure: exit 2
            _stderr().print(f"error: {exc}", markup=False)
            raise typer.Exit(EXIT_REJECTED) from exc
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
    from esgledger.access import Principal
    from esgledger.contract import dumps
    from esgledger.inventory import load_run
    from esgledger.inventory.service import inventory_view
    from esgledger.store import Workspace

    if format_ is InventoryFormat.parquet and out is None:
        _stderr().print("error: --format parquet needs --out FILE", markup=False)
        raise typer.Exit(1)
    try:
        with Workspace.open(workspace) as ws:
            found = load_run(ws, run)
            summarised = format_ in (InventoryFormat.table, InventoryFormat.json)
            # the same contract as GET /api/v1/inventory (the CLI acts as the local admin)
            data: dict[str, Any] = (
                dict(inventory_view(ws, Principal.local(), found.run_id)) if summarised else {}
            )
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
        text = dumps(data)
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
    from esgledger.inventory._duckdb import connect
    from esgledger.inventory.engine import line_order_sql

    def literal(path: Path) -> str:
        return "'" + str(path).replace("'", "''") + "'"

    con = connect(ordered=True)
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
    """Text a spreadsheet would read as a formula is neutralised (:mod:`esgledger.safe_output`);
    numeric columns are written as they are."""
    import pyarrow.csv as pacsv

    from esgledger.safe_output import neutralise_arrow

    target: Any = out.open("wb") if out is not None else None
    try:
        header = True
        for batch in parquet.iter_batches(batch_size=65_536):
            buffer = io.BytesIO()
            pacsv.write_csv(
                neutralise_arrow(batch), buffer, pacsv.WriteOptions(include_header=header)
            )
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


class ExplainFormat(StrEnum):
    """Output of ``esgledger explain``."""

    text = "text"
    json = "json"


class ViewFormat(StrEnum):
    """Output of ``esgledger uncertainty`` and ``esgledger quality``."""

    table = "table"
    json = "json"


class UncertaintyBy(StrEnum):
    """Grouping of ``esgledger uncertainty``."""

    scope = "scope"
    scope3_category = "scope3_category"
    entity = "entity"


RunOption = Annotated[str | None, typer.Option("--run", help="Run id (default: the latest run).")]
LangOption = Annotated[Lang, typer.Option("--lang", help="Language: en or zh-CN.")]


def _words(lang: Lang, en: str, zh: str) -> str:
    return zh if lang is Lang.zh_cn else en


def _wide_stdout() -> Any:
    """stdout for wide tables: the terminal's width, or at least 200 columns when the output
    is not a terminal, so that they are not squeezed (Rich tables take only the width they
    need)."""
    from esgledger.cli._app import console

    return console()


def _write_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


@app.command()
def explain(
    workspace: WorkspaceArgument,
    record: Annotated[
        str,
        typer.Argument(help="The row's record_id, <batch_id>:<row_number> or ENTITY:RECORD_ID."),
    ],
    run: RunOption = None,
    lang: LangOption = Lang.en,
    format_: Annotated[
        ExplainFormat, typer.Option("--format", help="text (for people) or json.")
    ] = ExplainFormat.text,
) -> None:
    """Show how one activity row's emissions came to be: row → factor → conversion → gases →
    CO2e → consolidation."""
    from esgledger.inventory import load_run
    from esgledger.inventory.explain import AmbiguousRecordError
    from esgledger.inventory.explain import explain as explain_record
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            found = load_run(ws, run)
        explanation = explain_record(found, record)
    except AmbiguousRecordError as exc:
        _stderr().print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_REJECTED) from exc
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    if format_ is ExplainFormat.json:
        _write_json(explanation.to_dict())
        return
    sys.stdout.write(explanation.to_text(lang.value))


# ---- uncertainty --------------------------------------------------------------------------


def _group_label(by: UncertaintyBy, row: dict[str, Any], lang: Lang) -> str:
    from esgledger.inventory.runs import SCOPE3_CATEGORY_NAMES

    if by is UncertaintyBy.entity:
        return str(row["entity"])
    scope = row["scope"]
    if by is UncertaintyBy.scope3_category and scope == 3 and row["scope3_category"] is not None:
        key = str(int(row["scope3_category"]))
        name, name_zh = SCOPE3_CATEGORY_NAMES[key]
        return f"  {key}. {_words(lang, name, name_zh)}"
    return _words(lang, f"Scope {scope}", f"范围{'一二三'[int(scope) - 1]}")


def _pct(value: Any) -> str:
    return "-" if value is None else f"{float(value) * 100:.1f} %"


def uncertainty_data(
    line_items: Path,
    factors: Any,
    *,
    run_id: str,
    by: UncertaintyBy,
    iterations: int,
    seed: int,
) -> dict[str, Any]:
    """The Monte Carlo result of a run as JSON-ready data
    (:func:`esgledger.inventory.uncertainty.uncertainty_summary`)."""
    from esgledger.inventory.uncertainty import uncertainty_summary

    group_by: tuple[str, ...] = {
        UncertaintyBy.scope: ("scope",),
        UncertaintyBy.scope3_category: ("scope", "scope3_category"),
        UncertaintyBy.entity: ("entity",),
    }[by]
    return uncertainty_summary(
        line_items, factors, run_id=run_id, by=group_by, iterations=iterations, seed=seed
    )


def uncertainty_table(data: dict[str, Any], by: UncertaintyBy, lang: Lang) -> Table:
    """The groups and total of :func:`uncertainty_data` as a Rich table [t CO2e]."""

    def w(en: str, zh: str) -> str:
        return _words(lang, en, zh)

    table = Table(
        title=w(
            f"Uncertainty of run {data['run_id']} (t CO2e; {data['iterations']:,} iterations, "
            f"seed {data['seed']})",
            f"运行 {data['run_id']} 的不确定性（吨CO2当量；{data['iterations']:,} 次模拟，"
            f"随机种子 {data['seed']}）",
        ),
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column(w("group", "分组"), no_wrap=True)
    for en, zh in (
        ("t CO2e", "吨CO2当量"),
        ("mean", "均值"),
        ("median", "中位数"),
        ("95 % low", "95%下限"),
        ("95 % high", "95%上限"),
        ("-/+ %", "-/+ %"),
        ("on defaults", "采用缺省不确定性"),
    ):
        table.add_column(w(en, zh), justify="right", no_wrap=True)

    def add(label: str, row: dict[str, Any], *, end_section: bool = False) -> None:
        low, high = row["u95_low_pct"], row["u95_high_pct"]
        spread = "-" if low is None else f"-{low:.1f} / +{high:.1f}"
        table.add_row(
            label,
            _t(row["co2e_t"]),
            _t(row["mean_t"]),
            _t(row["median_t"]),
            _t(row["p2_5_t"]),
            _t(row["p97_5_t"]),
            spread,
            _pct(row["default_uncertainty_share"]),
            end_section=end_section,
        )

    groups = data["groups"]
    for number, row in enumerate(groups, start=1):
        add(_group_label(by, row, lang), row, end_section=number == len(groups))
    if data["total"] is not None:
        add(w("Total", "合计"), data["total"])
    return table


@app.command()
def uncertainty(
    workspace: WorkspaceArgument,
    run: RunOption = None,
    iterations: Annotated[int, typer.Option(min=2, help="Monte Carlo iterations.")] = 10_000,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the random generator.")] = 0,
    by: Annotated[
        UncertaintyBy,
        typer.Option(help="Group by scope, by scope 3 category (and scopes 1, 2) or entity."),
    ] = UncertaintyBy.scope,
    lang: LangOption = Lang.en,
    format_: Annotated[ViewFormat, typer.Option("--format", help="table or json.")] = (
        ViewFormat.table
    ),
) -> None:
    """Propagate emission-factor uncertainty to the totals by Monte Carlo (seeded)."""
    from esgledger.factors.library import FactorLibrary
    from esgledger.inventory import load_run
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            found = load_run(ws, run)
            factors = FactorLibrary.for_workspace(ws).as_arrow()
        data = uncertainty_data(
            found.line_items_path,
            factors,
            run_id=found.run_id,
            by=by,
            iterations=iterations,
            seed=seed,
        )
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    if format_ is ViewFormat.json:
        _write_json(data)
        return
    out = _wide_stdout()
    out.print(uncertainty_table(data, by, lang))
    out.print(
        _words(
            lang,
            "Factor uncertainty only (activity data taken as exact); lines sharing a factor "
            "share its draw. Where a source gives no uncertainty, a default from the line's "
            "data-quality scores is used (pedigree approach).",
            "仅计因子不确定性（活动数据视为精确）；使用同一因子的明细共用一次抽样。来源未给出"
            "不确定性时，按明细的数据质量评分取缺省值（谱系矩阵法）。",
        ),
        markup=False,
    )
    out.print(
        f"rules {data['rules']['source']} sha256 {data['rules']['sha256']}; "
        f"{data['uncertainty_defaults']['source']} sha256 "
        f"{data['uncertainty_defaults']['sha256']}",
        markup=False,
    )


# ---- data quality -------------------------------------------------------------------------


def quality_data(line_items: Path, factors: Any, *, run_id: str) -> dict[str, Any]:
    """Data-quality summary of a run (:func:`esgledger.inventory.quality.data_quality_summary`)
    with the scope 3 completeness view, JSON-ready."""
    from esgledger.inventory.quality import data_quality_summary, scope3_completeness

    # Scored inside one DuckDB plan over the Parquet file: the lines are never materialised.
    return {
        "run_id": run_id,
        **data_quality_summary(line_items, factors=factors),
        "scope3_completeness": scope3_completeness(line_items).to_pylist(),
    }


#: Column heads of the indicators (Scope 3 Standard Table 7.6), short.
_SHORT_INDICATORS: dict[str, tuple[str, str]] = {
    "technology": ("technology", "技术"),
    "temporal": ("time", "时间"),
    "geography": ("geography", "地理"),
    "completeness": ("completeness", "完整性"),
    "reliability": ("reliability", "可靠性"),
}


def _score(value: Any) -> str:
    return "-" if value is None else f"{float(value):.2f}"


def quality_table(data: dict[str, Any], lang: Lang) -> Table:
    """Per scope and scope 3 category: t CO2e, lines, the five indicator scores and the
    overall score (1 very good … 4 poor, emission-weighted), the primary-data share and the
    category's status."""
    from esgledger.inventory.quality import INDICATORS

    def w(en: str, zh: str) -> str:
        return _words(lang, en, zh)

    table = Table(
        title=w(
            f"Data quality of run {data['run_id']} (1 very good … 4 poor, emission-weighted)",
            f"运行 {data['run_id']} 的数据质量（1 很好 … 4 差，按排放量加权）",
        ),
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("", no_wrap=True)
    table.add_column(w("t CO2e", "吨CO2当量"), justify="right", no_wrap=True)
    table.add_column(w("lines", "明细数"), justify="right")
    for name in INDICATORS:
        en, zh = _SHORT_INDICATORS[name]
        table.add_column(w(en, zh), justify="right", no_wrap=True)
    table.add_column(w("overall", "综合"), justify="right")
    table.add_column(w("primary", "一手数据"), justify="right", no_wrap=True)
    table.add_column(w("status", "状态"), no_wrap=True)

    def add(label: str, entry: dict[str, Any], status: str = "", **kw: Any) -> None:
        scores = entry["scores"]
        table.add_row(
            label,
            _t(entry["co2e_t"]),
            f"{entry['lines']:,}",
            *(_score(scores[name]) for name in INDICATORS),
            _score(scores["overall"]),
            _pct(entry["primary_data_share"]),
            status,
            **kw,
        )

    scope_names = {
        "1": ("Scope 1", "范围一"),
        "2": ("Scope 2", "范围二"),
        "3": ("Scope 3", "范围三"),
    }
    for key, entry in data["by_scope"].items():
        add(w(*scope_names.get(key, (f"Scope {key}", f"范围{key}"))), entry)
        if key == "3":
            for category, item in data["scope3_by_category"].items():
                reported = item["status"] == "reported"
                add(
                    f"  {category}. {w(item['name'], item['name_zh'])}",
                    item,
                    w("reported", "已报告") if reported else w("not reported", "未报告"),
                )
    add(w("Overall", "总体"), data["overall"], end_section=False)
    return table


@app.command()
def quality(
    workspace: WorkspaceArgument,
    run: RunOption = None,
    lang: LangOption = Lang.en,
    format_: Annotated[ViewFormat, typer.Option("--format", help="table or json.")] = (
        ViewFormat.table
    ),
) -> None:
    """Data-quality scores per scope and scope 3 category, and which scope 3 categories have
    data (GHG Protocol Scope 3 Standard ch. 7 and 11)."""
    from esgledger.factors.library import FactorLibrary
    from esgledger.inventory import load_run
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            found = load_run(ws, run)
            factors = FactorLibrary.for_workspace(ws).as_arrow()
        data = quality_data(found.line_items_path, factors, run_id=found.run_id)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    if format_ is ViewFormat.json:
        _write_json(data)
        return
    out = _wide_stdout()
    out.print(quality_table(data, lang))
    missing = [row["category"] for row in data["scope3_completeness"] if row["lines"] == 0]
    reported = 15 - len(missing)
    out.print(
        _words(
            lang,
            f"scope 3 categories reported: {reported} of 15"
            + (f"; not reported: {', '.join(missing)}" if missing else ""),
            f"已报告的范围三类别：{reported}/15"
            + (f"；未报告：{'、'.join(missing)}" if missing else ""),
        ),
        markup=False,
    )
    out.print(f"rules {data['rules']['source']} sha256 {data['rules']['sha256']}", markup=False)
