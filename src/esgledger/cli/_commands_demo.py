"""``esgledger demo``: build the demo workspace, calculate its inventory and show it.

On a terminal the imports and the factor chosen for every kind of activity are shown as
tables; when the output is not a terminal (a pipe, a file, a CI log) those two become a few
summary lines that name the commands giving the details, and the remaining tables are printed
wide enough not to wrap (issue 10: piped, the factor table ran to 2,310 lines).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from esgledger.cli._app import app
from esgledger.cli._app import console as cli_console
from esgledger.demo.data import DEMO_SEED, DEMO_YEAR

if TYPE_CHECKING:
    from esgledger.demo.run import DemoSummary


@app.command()
def demo(
    workspace: Annotated[
        Path, typer.Option("--workspace", "-w", help="Folder of the demo workspace.")
    ] = Path("esgledger-demo"),
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data generator.")] = DEMO_SEED,
    year: Annotated[int, typer.Option(help="Reporting year of the demo.")] = DEMO_YEAR,
) -> None:
    """Build the synthetic demo group's workspace (rebuilt on every run), calculate its
    inventory and summarise it."""
    from esgledger.demo.run import build_demo

    console = Console() if Console().is_terminal else cli_console()
    summary = build_demo(
        workspace,
        seed=seed,
        year=year,
        progress=console.is_terminal,
        on_step=lambda message: console.print(f"[dim]·[/dim] {message}"),
    )
    if console.is_terminal:
        _print_resolution_tables(console, summary)
    else:
        _print_resolution_summary(console, summary)
    if summary.inventory is not None:
        _print_inventory(console, summary)
    if summary.targets is not None:
        _print_targets(console, summary)
    if summary.report is not None:
        _print_report(console, summary)
    if "telemetry" in summary.extras:
        _print_telemetry(console, summary)
    if "inclusion" in summary.extras:
        _print_inclusion(console, summary)
    if summary.accounts:
        _print_accounts(console, summary)


def _print_resolution_summary(console: Console, summary: DemoSummary) -> None:
    """The imports and the factor resolution in a few lines, with the commands for details."""
    rows = sum(r.rows for r in summary.imports)
    files = ", ".join(f"{r.file_name} ({r.kind}, {r.rows:,})" for r in summary.imports)
    console.print(
        f"Imported {len(summary.imports)} files, {rows:,} rows, into {summary.workspace} "
        f"(reporting year {summary.year}): {files}.",
        markup=False,
    )
    resolved = len(summary.resolutions) - len(summary.unresolved)
    tiers: dict[str, int] = {}
    for r in summary.resolutions:
        if r.factor_id is not None:
            tiers[r.tier or "?"] = tiers.get(r.tier or "?", 0) + 1
    by_tier = ", ".join(f"{n} {tier}" for tier, n in sorted(tiers.items(), key=lambda kv: -kv[1]))
    console.print(
        f"{resolved} of {len(summary.resolutions)} activity/region/unit combinations resolve "
        "to a factor" + (f" (tier: {by_tier})" if by_tier else "") + ". The data are synthetic.",
        markup=False,
    )
    for r in summary.unresolved:
        console.print(
            f"  no factor: {r.activity} in {r.region} [{r.unit}], {r.rows} rows: {r.problem}",
            markup=False,
        )
    console.print(
        f"Details: `esgledger factors resolve {summary.workspace} --activity A --region R "
        "--unit U` shows the factor of one combination and why; `esgledger explain "
        f"{summary.workspace} RECORD_ID` traces one row.",
        markup=False,
    )


def _print_resolution_tables(console: Console, summary: DemoSummary) -> None:
    """The imports and the factor chosen for each kind of activity, as tables (terminal)."""
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


def _t(value: float) -> str:
    return f"{value:,.0f}"


def _print_inventory(console: Console, summary: DemoSummary) -> None:
    """The inventory of the demo run: scopes, scope 3 by category, market-based scope 2,
    renewable share, the PPA's hourly matching, and anything excluded."""
    from esgledger.inventory.runs import SCOPE3_CATEGORY_NAMES

    inventory = summary.inventory
    assert inventory is not None
    totals = inventory["totals"]
    table = Table(title=f"Inventory {summary.year} (run {summary.run_id}), t CO2e")
    table.add_column("")
    table.add_column("t CO2e", justify="right")
    table.add_column("share", justify="right")
    total = float(totals["total"]) or 1.0
    for key, label in (
        ("scope1", "Scope 1"),
        ("scope2_location", "Scope 2 (location-based)"),
        ("scope3", "Scope 3"),
        ("total", "Total (scope 1 + 2 location + 3)"),
    ):
        table.add_row(label, _t(totals[key]), f"{float(totals[key]) / total:.1%}")
    table.add_row("Scope 2 (market-based)", _t(totals["scope2_market"]), "")
    table.add_row("Biogenic CO2 (outside the scopes)", _t(totals["biogenic_co2"]), "")
    console.print(table)

    categories = Table(title="Scope 3 by category, largest first")
    for column in ("category", "name", "t CO2e", "share of scope 3"):
        categories.add_column(column, justify="right" if column != "name" else "left")
    scope3 = float(totals["scope3"]) or 1.0
    ranked = sorted(
        ((k, float(v)) for k, v in inventory["scope3_by_category"].items() if v),
        key=lambda kv: -kv[1],
    )
    for key, value in ranked:
        en, zh = SCOPE3_CATEGORY_NAMES[key]
        categories.add_row(key, f"{en} {zh}", _t(value), f"{value / scope3:.1%}")
    console.print(categories)
    top = ", ".join(SCOPE3_CATEGORY_NAMES[k][0].lower() for k, _ in ranked[:3])
    console.print(f"Top scope 3 categories: {top}.")

    market = summary.market
    if market is not None:
        share = inventory["renewable_share"]["group"]
        console.print(
            f"Market-based scope 2: {_t(market.scope2_market_t)} t CO2e "
            f"(location-based {_t(totals['scope2_location'])} t); group renewable share "
            f"{0.0 if share is None else share:.1%} of electricity (annual matching)."
        )
        for site in ("DC-CQ", "DC-JS", "HQ-SZ", "DC-US"):
            site_share = inventory["renewable_share"]["by_site"].get(site)
            if site_share is not None:
                console.print(f"  RE % {site}: {site_share:.1%}")
        for instrument, reason in sorted(market.allocation.excluded.items()):
            console.print(f"  not allocated: {instrument}: {reason}", markup=False)
        for instrument, mwh in sorted(market.allocation.surplus_mwh.items()):
            if mwh > 0:
                console.print(f"  surplus: {instrument} {mwh:,.0f} MWh (not carried over)")
    if summary.ppa is not None:
        p = summary.ppa
        console.print(
            f"Solar PPA at {p.site}: {p.supply_mwh:,.0f} MWh for a load of {p.load_mwh:,.0f} "
            f"MWh: annual matching {p.volumetric:.1%}, hour-by-hour matching {p.hourly:.1%} "
            "(24/7 CFE without grid credit)."
        )
    if summary.excluded:
        lines = sum(e.lines for e in summary.excluded)
        console.print(
            f"[red]{lines} activity rows have no factor and are excluded from the totals:[/red]"
        )
        for e in summary.excluded:
            console.print(f"  {e.lines} rows: {e.reason}", markup=False)
    else:
        console.print("Every activity row resolved to a factor; nothing is excluded.")
    for warning in inventory.get("warnings", []):
        console.print(f"warning: {warning}", markup=False)
    proxied = float(inventory["data_quality"]["by_tier"].get("proxy", {}).get("co2e_t") or 0.0)
    if proxied:
        console.print(
            f"{_t(proxied)} t CO2e ({proxied / total:.1%}) use factors of another region as "
            "flagged proxies (tier proxy): see esgledger.toml [factors] proxies.",
            markup=False,
        )
    console.print(
        "The demo data are synthetic, shaped to resemble the published 2021 profile of the "
        "reference company (about 0.02 / 2.35 / 2.74 Mt CO2e in scopes 1 / 2 / 3)."
    )


def _print_targets(console: Console, summary: DemoSummary) -> None:
    """Target progress (on/off track, gap) and the plan's residual gap."""
    from esgledger.cli._commands_targets import _residual_sentence

    status = summary.targets
    assert status is not None
    table = Table(title=f"Targets in {summary.year} (synthetic demo targets)")
    for column in ("target", "base → target", "actual", "pathway", "gap", "status"):
        table.add_column(column, justify="left" if column in ("target", "status") else "right")
    for state in status.targets:
        t, p = state.target, state.progress
        if p is None:
            table.add_row(t.id, "", "", "", "", f"not tracked: {state.progress_note}")
            continue
        latest = p.years[-1]
        if p.unit == "fraction":
            cells = (
                f"{t.base_year} → {t.target_year}: {p.target_value:.0%} RE",
                f"{latest.actual:.1%}",
                f"{latest.pathway:.1%}",
                f"{latest.gap * 100:+.1f} pp",
            )
        else:
            cells = (
                f"{t.base_year} {_t(p.base_value)} → {t.target_year} {_t(p.target_value)} t",
                f"{_t(latest.actual)} t",
                f"{_t(latest.pathway)} t",
                f"{latest.gap:+,.0f} t",
            )
        status_text = p.status.replace("_", " ")
        table.add_row(f"{t.id} ({latest.year})", *cells, status_text)
    console.print(table)
    for state in status.targets:
        for warning in state.warnings:
            console.print(f"warning: {warning.message}", markup=False)
    failed = [c.rule for c in status.checks if c.status.value == "fail"]
    passed = sum(c.passed for c in status.checks)
    console.print(
        f"SBTi checks: {passed} pass, {len(failed)} fail"
        + (f" ({', '.join(failed)})" if failed else "")
        + f", {len(status.checks) - passed - len(failed)} not assessed "
        "(`esgledger targets check`). A positive gap is behind the pathway.",
        markup=False,
    )
    if status.temperature is not None:
        console.print(
            f"Temperature score: {status.temperature.s1s2s3_c:.2f} °C "
            f"({status.temperature.time_frame} term, {status.reference_year}).",
            markup=False,
        )
    if summary.plan is not None:
        console.print("Plan: " + _residual_sentence(summary.plan, False), markup=False)
        console.print(
            "See `esgledger targets progress`, `esgledger plan` and `esgledger offsets claim` "
            "for the details.",
            markup=False,
        )


def _print_inclusion(console: Console, summary: DemoSummary) -> None:
    """What the carbon-inclusion programme of the demo did."""
    demo = summary.extras["inclusion"]
    settled = demo.settlement
    console.print(
        f"Carbon inclusion (碳普惠, avoided emissions outside scopes 1-3): {demo.trips:,} trips "
        f"of {demo.accounts:,} accounts ({demo.consented:,} consented); "
        f"{settled.settled:,} settled, {settled.refused:,} refused, {settled.pending:,} pending; "
        f"{settled.reduction_mg / 1e9:,.3f} t CO2 avoided, {settled.points:,} points issued; "
        f"{demo.redemptions} redemptions.",
        markup=False,
    )
    if settled.reasons:
        console.print(
            "  Refused or pending: "
            + ", ".join(f"{code} {count:,}" for code, count in settled.reasons.items()),
            markup=False,
        )
    for fraud in demo.frauds:
        console.print(
            f"  Planted: {fraud.pattern} ({fraud.account}, {len(fraud.trips)} trip(s))",
            markup=False,
        )
    if demo.project is not None:
        serials = demo.project["serials"]
        console.print(
            f"  Registry project {demo.project['project']}: {demo.project['reduction_t']:,.3f} t"
            + (f", serials {serials['first']} – {serials['last']}" if serials["first"] else ""),
            markup=False,
        )
    console.print(
        "  Ledger: " + ("intact (esgledger inclusion verify)" if demo.verified else "NOT intact"),
        markup=False,
    )


def _print_telemetry(console: Console, summary: DemoSummary) -> None:
    """What the data-centre telemetry step wrote and imported."""
    step = summary.extras["telemetry"]
    done = (
        f"imported ({', '.join(step.imported)})"
        if step.imported
        else "written, not imported: this esgledger has no import kind "
        + ", ".join(step.not_imported)
    )
    console.print(
        f"Data-centre telemetry: {step.meters} meters, {step.readings:,} readings, "
        f"{step.weather_hours:,} weather hours, {step.faults} injected faults, {done}; files "
        f"and the faults' ground truth (injected-faults.csv) in {step.folder}.",
        markup=False,
    )


def _print_accounts(console: Console, summary: DemoSummary) -> None:
    """The demo accounts and their passwords: shown this once, stored only as hashes."""
    console.print(
        f"Sign in to `esgledger serve {summary.workspace}` (http://127.0.0.1:8000, API under "
        "/api/v1) with one of these accounts; the passwords are shown only now:",
        markup=False,
    )
    for account in summary.accounts:
        where = account.scope or "whole group"
        console.print(
            f"  {account.username:<15} {account.role:<11} {where:<12} {account.password}",
            markup=False,
        )
    campaign = summary.campaign
    if campaign is not None:
        statuses: dict[str, int] = {}
        for task in campaign.get("tasks", []):
            statuses[task["status"]] = statuses.get(task["status"], 0) + 1
        counts = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
        console.print(
            f"Campaign in progress: {campaign['name']} (id {campaign['id']}): {counts}; "
            f"`esgledger campaigns progress {summary.workspace} {campaign['id']}` shows it.",
            markup=False,
        )


def _print_report(console: Console, summary: DemoSummary) -> None:
    """Where the ESG report went, its pages, whether it is final, and how long it took."""
    report = summary.report
    assert report is not None
    editions = [p for p in report.paths if p.name.startswith("esg-report-")]
    console.print(f"ESG report written in {report.timings['total']:.1f} s:", markup=False)
    for path in editions:
        pages = report.page_counts.get(path.name.split(".")[-2]) if path.suffix == ".pdf" else None
        console.print(f"  {path}" + (f" ({pages} pages)" if pages else ""), markup=False)
    console.print(
        f"  + {len(report.paths) - len(editions)} table exports (CSV and XLSX) beside them",
        markup=False,
    )
    if report.draft:
        console.print(
            f"DRAFT: {len(report.missing)} mandatory or comply-or-explain item(s) missing: "
            + ", ".join(report.missing),
            markup=False,
        )
    else:
        console.print(
            "Final: every mandatory HKEX item is disclosed or explained (see the content index).",
            markup=False,
        )
