"""Green-power commands: ``esgledger green instruments | re | cfe``.

绿色电力命令：工具清单及质量检查、可再生电力比例、逐时 24/7 无碳电力匹配。

* ``instruments WS`` lists the register with the verdict of the Scope 2 Quality Criteria and
  RE100 checks for the reporting year, and the reason of every failure (``--lang zh-CN``);
* ``re WS [--run ID]`` shows RE % per site, entity or group of an inventory run (the latest
  by default): the purchased electricity of the run's line items inside its consolidation
  boundary, allocated exactly as the run's market-based scope 2
  (:func:`esgledger.inventory.market.market_based`), so the RE % is the run's
  ``renewable_share``; also the surplus and the excluded instruments, and the progress toward
  a target year; ``--save`` stores the allocations of the run's year (replacing earlier
  ones), where the database refuses any double allocation;
* ``cfe WS --load FILE --supply FILE`` matches hourly load and clean supply (CSV or Parquet,
  columns ``site``, ``hour`` and ``load_mwh`` / ``load_kwh`` or ``clean_mwh`` /
  ``clean_kwh``) with an optional grid CFE share (a number or a file with ``hour`` and
  ``grid_cfe``), prints volumetric, hourly and 24/7 CFE per site, and writes the per-site
  table (``--out``) and the month × hour heat-map (``--heatmap out.png|svg``).

Errors go to stderr as ``error: ...`` with exit status 1; rejected input files exit 2.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.table import Table

from esgledger.cli._app import EXIT_REJECTED, Lang, app
from esgledger.cli._commands_workspace import _fail, _stderr, _stdout
from esgledger.errors import EsgledgerError, InputError, Issue

if TYPE_CHECKING:
    import pyarrow as pa

    from esgledger.store import Workspace

green_app = typer.Typer(
    name="green",
    help="Green power: instruments and their quality checks, RE %, hourly 24/7 CFE.",
    no_args_is_help=True,
)
app.add_typer(green_app, name="green")

WorkspaceArgument = Annotated[Path, typer.Argument(help="Workspace folder.")]
YearOption = Annotated[
    int | None, typer.Option(help="Year of the consumption (default: the reporting year).")
]


class Level(StrEnum):
    """Where RE % is summed."""

    site = "site"
    entity = "entity"
    group = "group"


def _pct(value: float) -> str:
    return "-" if value != value else f"{value * 100:.1f} %"


def _register(ws: Workspace) -> tuple[list[Any], dict[str, str | None], dict[str, str], set[str]]:
    """Instruments, entity → parent, site → country, and the group's codes."""
    from esgledger.renewables.instruments import Instrument
    from esgledger.store.repository import load_entities, load_sites
    from esgledger.store.repository_renewables import load_instruments

    with ws.session() as session:
        rows = load_instruments(session)
        entities = load_entities(session)
        sites = load_sites(session)
    instruments = [Instrument.from_record(r) for r in rows]
    parents = {e["code"]: e["parent"] for e in entities}
    countries = {s["code"]: s["country"] for s in sites}
    return instruments, parents, countries, set(parents) | set(countries)


@green_app.command("instruments")
def green_instruments(
    workspace: WorkspaceArgument,
    year: YearOption = None,
    lang: Annotated[Lang, typer.Option(help="Language of the reasons.")] = Lang.en,
) -> None:
    """List the instrument register with its quality checks for the year."""
    from esgledger.renewables.instruments import instrument_types
    from esgledger.renewables.quality import assess
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            reporting_year = year if year is not None else ws.reporting_year
            instruments, _parents, countries, claimants = _register(ws)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    out = _stdout()
    if not instruments:
        out.print(
            "No instruments registered. Import some with "
            "`esgledger import WS --kind instruments FILE`.",
            markup=False,
        )
        return
    verdicts = assess(
        instruments, reporting_year=reporting_year, claimants=claimants, site_countries=countries
    )
    zh = lang is Lang.zh_cn
    table = Table(
        title=(f"环境权益工具 {reporting_year}" if zh else f"Instruments {reporting_year}"),
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    headers = (
        ("工具", "类型", "技术", "国家", "生产年份", "兆瓦时", "受益方", "范围二", "RE100", "原因")
        if zh
        else (
            "instrument",
            "type",
            "technology",
            "country",
            "vintage",
            "MWh",
            "retired for",
            "scope 2",
            "RE100",
            "reasons",
        )
    )
    for header in headers:
        table.add_column(header, justify="right" if header in ("MWh", "兆瓦时") else "left")
    types = instrument_types()
    for v in verdicts:
        i = v.instrument
        table.add_row(
            i.instrument,
            types[i.type].name_zh if zh else i.type,
            i.technology,
            i.country,
            f"{i.period_start.isoformat()}..{i.period_end.isoformat()}",
            f"{i.mwh:,.3f}",
            i.retired_for or "-",
            "✓" if v.valid_scope2 else "✗",
            "✓" if v.valid_re100 else "✗",
            v.reasons("zh" if zh else "en") or "-",
        )
    out.print(table)
    valid = sum(v.instrument.mwh for v in verdicts if v.valid_scope2)
    total = sum(v.instrument.mwh for v in verdicts)
    out.print(
        f"{sum(v.valid_scope2 for v in verdicts)} of {len(verdicts)} instruments "
        f"({valid:,.3f} of {total:,.3f} MWh) pass the Scope 2 Quality Criteria.",
        markup=False,
    )


@green_app.command("re")
def green_re(
    workspace: WorkspaceArgument,
    run: Annotated[
        str | None, typer.Option("--run", help="Run id (default: the latest run).")
    ] = None,
    level: Annotated[Level, typer.Option(help="Sum RE % per site, entity or group.")] = Level.site,
    target_year: Annotated[
        int | None, typer.Option(help="Year of the 100 % target, to show the progress.")
    ] = None,
    all_renewable: Annotated[
        bool,
        typer.Option(
            "--all-renewable", help="Count every renewable instrument, not only RE100-valid ones."
        ),
    ] = False,
    save: Annotated[
        bool, typer.Option(help="Store the year's allocations (replacing earlier ones).")
    ] = False,
) -> None:
    """RE % of electricity (annual matching) of an inventory run: the same consumption,
    boundary and allocation as the run's market-based scope 2."""
    from esgledger.access import Principal
    from esgledger.inventory import load_run
    from esgledger.inventory.market import market_based
    from esgledger.renewables.allocation import re_progress, re_share
    from esgledger.renewables.service import store_allocations
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            found = load_run(ws, run)
            # The run's own market-based result (not written again): the purchased
            # electricity inside the run's consolidation boundary, allocated as in the run.
            market = market_based(ws, found, write=False)
            reporting_year = market.year
            consumption = list(market.consumption)
            parents = dict(market.parents)
            result = market.allocation
            if save:
                store_allocations(
                    ws, Principal.local(), reporting_year, result, run_id=found.run_id
                )
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    out = _stdout()
    if not consumption:
        out.print(
            f"Run {found.run_id} has no purchased electricity in {reporting_year}: import "
            "activity rows of activity 'electricity' and calculate again.",
            markup=False,
        )
        raise typer.Exit(1)
    shares = re_share(
        consumption,
        result,
        level=level.value,
        parents=parents,
        re100=not all_renewable,
        year=reporting_year,
    )
    table = Table(
        title=f"Renewable electricity {reporting_year} (annual matching), run {found.run_id}",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for header in ("", "total MWh", "purchased MWh", "on-site MWh", "instruments MWh", "RE %"):
        table.add_column(header or level.value, justify="left" if not header else "right")
    for s in shares:
        table.add_row(
            s.code,
            f"{s.total_mwh:,.3f}",
            f"{s.purchased_mwh:,.3f}",
            f"{s.onsite_mwh:,.3f}",
            f"{s.allocated_renewable_mwh:,.3f}",
            _pct(s.re_share),
        )
    out.print(table)
    surplus = {k: v for k, v in result.surplus_mwh.items() if v > 0}
    for instrument, mwh in sorted(surplus.items()):
        out.print(f"surplus: {instrument} {mwh:,.3f} MWh (not carried over)", markup=False)
    for instrument, reason in sorted(result.excluded.items()):
        out.print(f"excluded: {instrument}: {reason}", markup=False)
    if target_year is not None:
        (group,) = re_share(
            consumption, result, level="group", re100=not all_renewable, year=reporting_year
        )
        p = re_progress({reporting_year: group.re_share}, target_year=target_year)
        out.print(
            f"Group RE % {_pct(p.latest_share)} in {p.latest_year}; target 100 % by "
            f"{p.target_year}: {p.required_per_year * 100:.1f} percentage points a year "
            "still needed.",
            markup=False,
        )
    if save:
        out.print(
            f"Saved {len(result.allocations)} allocations for {reporting_year}.", markup=False
        )


def _read(path: Path) -> pa.Table:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if path.suffix.lower() in (".parquet", ".pq"):
        return pq.read_table(path)
    return pacsv.read_csv(path)


def _reject(path: Path, problem: str, fix: str) -> InputError:
    return InputError(
        f"{path.name} was rejected: {problem}", [Issue(path.name, None, None, None, problem, fix)]
    )


def _hourly(path: Path, stem: str) -> pa.Table:
    """A load or supply file with its value column in MWh as ``<stem>_mwh``."""
    import pyarrow.compute as pc

    try:
        table = _read(path)
    except (OSError, ValueError) as exc:
        raise _reject(path, f"cannot read the file: {exc}", "give a CSV or Parquet file") from exc
    names = set(table.column_names)
    wanted = f"site, hour and {stem}_mwh or {stem}_kwh"
    if not {"site", "hour"} <= names or not names & {f"{stem}_mwh", f"{stem}_kwh"}:
        raise _reject(path, f"the file needs the columns {wanted}", f"name the columns {wanted}")
    if f"{stem}_mwh" in names:
        values = table.column(f"{stem}_mwh").cast("double")
    else:
        values = pc.divide(table.column(f"{stem}_kwh").cast("double"), 1000.0)
    hour = table.column("hour")
    if not str(hour.type).startswith("timestamp"):
        try:
            hour = hour.cast("timestamp[s]")
        except (ValueError, NotImplementedError) as exc:
            raise _reject(
                path, "the hour column is not a date-time", "write hours as 2024-01-31 13:00:00"
            ) from exc
    import pyarrow as pa

    return pa.table(
        {"site": table.column("site").cast("string"), "hour": hour, f"{stem}_mwh": values}
    )


@green_app.command("cfe")
def green_cfe(
    workspace: WorkspaceArgument,
    load: Annotated[Path, typer.Option(help="Hourly load: site, hour, load_mwh or load_kwh.")],
    supply: Annotated[
        Path, typer.Option(help="Hourly clean supply: site, hour, clean_mwh or clean_kwh.")
    ],
    grid_cfe: Annotated[
        str | None,
        typer.Option(
            help="Carbon-free share of the grid: a number 0-1, or a file with hour, grid_cfe."
        ),
    ] = None,
    heatmap: Annotated[
        Path | None, typer.Option(help="Write the month × hour heat-map (.png or .svg).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write the per-site table (.csv or .parquet).")
    ] = None,
) -> None:
    """Hourly 24/7 CFE: matched = min(load, clean supply) per hour, surplus not carried over."""
    import numpy as np

    from esgledger.renewables import cfe as cfe_module
    from esgledger.store import Workspace
    from esgledger.store.repository import load_sites

    err = _stderr()
    try:
        with Workspace.open(workspace) as ws, ws.session() as session:
            known = {s["code"] for s in load_sites(session)}
        load_table = _hourly(load, "load")
        supply_table = _hourly(supply, "clean")
        unknown = sorted(set(load_table.column("site").to_pylist()) - known)
        if unknown:
            raise _reject(
                load,
                f"unknown site {unknown[0]!r}: it is not imported",
                "import the site first (--kind sites), or correct the site code",
            )
        sites, hours, load_m = cfe_module.matrix_from_table(load_table, "load_mwh")
        _, _, clean_m = cfe_module.matrix_from_table(
            supply_table, "clean_mwh", sites=sites, hours=hours
        )
        grid: Any = None
        if grid_cfe is not None:
            grid = _grid_share(grid_cfe, hours)
        result = cfe_module.cfe(load_m, clean_m, grid)
    except InputError as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(EXIT_REJECTED) from exc
    except ValueError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(1) from exc
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    summary = result.summary()
    table = Table(title="Hourly 24/7 CFE", box=box.SIMPLE_HEAD, pad_edge=False)
    for header in (
        "site",
        "load MWh",
        "clean MWh",
        "matched MWh",
        "excess MWh",
        "annual RE %",
        "hourly match %",
        "24/7 CFE %",
    ):
        table.add_column(header, justify="left" if header == "site" else "right")
    for n, site in enumerate(sites):
        table.add_row(
            site,
            f"{summary.load_mwh[n]:,.3f}",
            f"{summary.clean_mwh[n]:,.3f}",
            f"{summary.matched_mwh[n]:,.3f}",
            f"{summary.excess_mwh[n]:,.3f}",
            _pct(float(summary.volumetric_match[n])),
            _pct(float(summary.hourly_match[n])),
            _pct(float(summary.cfe_score[n])),
        )
    console = _stdout()
    console.print(table)
    console.print(
        f"Portfolio (load-weighted): hourly match {_pct(summary.portfolio_hourly_match)}, "
        f"24/7 CFE {_pct(summary.portfolio_cfe_score)}"
        + ("" if grid_cfe is not None else " (no grid CFE share given)"),
        markup=False,
    )
    if out is not None:
        _write_table(cfe_module.summary_table(sites, summary), out)
        console.print(f"Wrote {out}", markup=False)
    if heatmap is not None:
        matrix = cfe_module.heatmap(hours, result.cfe_mwh, result.load_mwh)
        try:
            cfe_module.plot_heatmap(matrix, heatmap)
        except ValueError as exc:
            err.print(f"error: {exc}", markup=False)
            raise typer.Exit(1) from exc
        filled = int(np.isfinite(matrix).sum())
        console.print(f"Wrote {heatmap} ({filled} of 288 month × hour cells)", markup=False)


def _grid_share(text: str, hours: Any) -> Any:
    """A share 0-1, or a file of hourly shares aligned on ``hours``."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        return float(text)
    except ValueError:
        pass
    path = Path(text)
    table = _read(path)
    if not {"hour", "grid_cfe"} <= set(table.column_names):
        raise _reject(path, "the file needs the columns hour and grid_cfe", "name them so")
    stamps = table.column("hour")
    if stamps.type != hours.type:
        stamps = stamps.cast(hours.type)
    index = pc.index_in(hours, value_set=stamps)
    if index.null_count:
        raise _reject(
            path, "the grid CFE file lacks hours of the load", "give a share for every hour"
        )
    shares = table.column("grid_cfe").cast("double").to_numpy()
    return np.asarray(shares)[np.asarray(pa.array(index).to_numpy(zero_copy_only=False))]


def _write_table(table: pa.Table, path: Path) -> None:
    """Parquet as it is; CSV with text a spreadsheet would read as a formula neutralised
    (:mod:`esgledger.safe_output`)."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from esgledger.safe_output import neutralise_arrow

    if path.suffix.lower() in (".parquet", ".pq"):
        pq.write_table(table, path)
    else:
        pacsv.write_csv(neutralise_arrow(table), path)
