"""``esgledger demo``: the main job on the embedded default, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from typer.testing import CliRunner

from esgledger.cli import app
from esgledger.demo.data import DEMO_YEAR
from esgledger.demo.run import DEMO_MARKER, DEMO_STEPS, DemoSummary, build_demo
from esgledger.errors import WorkspaceError
from esgledger.ingest.importers import KINDS
from esgledger.store import Workspace
from esgledger.store.repository import load_batches, load_entities, load_sites

if TYPE_CHECKING:
    from _backends import DbBackend

DEMO = Path(__file__).parents[2] / "src" / "esgledger" / "demo"
#: The demo's steps without the report (about 13 s of PDF work): the report is checked once,
#: in test_the_demo_command, and in depth by tests/integration/test_cli_report.py.
WITHOUT_REPORT = [step for step in DEMO_STEPS if not step[0].startswith("writing the ESG report")]
#: The import kinds of the data centres' telemetry step, in order.
TELEMETRY_KINDS = ("meters", "readings", "weather")


def _step(message: str) -> Any:
    return next(step for step in DEMO_STEPS if step[0] == message)


def _data_rows(name: str) -> int:
    return len((DEMO / name).read_text(encoding="utf-8").strip().splitlines()) - 1


def test_the_demo_imports_every_file_and_resolves_factors(
    db_backend: DbBackend, tmp_path: Path
) -> None:
    summary = build_demo(
        tmp_path / "demo",
        progress=False,
        database_url=db_backend.database_url,
        schema=db_backend.schema,
        steps=WITHOUT_REPORT,
    )
    kinds = [result.kind for result in summary.imports]
    assert kinds == [
        "entities",
        "sites",
        "factors",
        "activities",
        "activities",
        "activities",
        "instruments",
        "emissions-history",
        "targets",
        "measures",
        "credits",
        "retirements",
        "metrics",
        "metric-values",
        # the data centres' telemetry, once esgledger imports all three kinds
        *(TELEMETRY_KINDS if set(TELEMETRY_KINDS) <= set(KINDS) else ()),
        # the carbon-inclusion programme's month of trips (demo/inclusion.py)
        "trips",
    ]
    assert all(result.created for result in summary.imports)
    files = {result.file_name for result in summary.imports}
    # The three activity files are written the way business units send them.
    assert {
        f"activities-energy-{DEMO_YEAR}.csv",
        f"activities-value-chain-{DEMO_YEAR}.xlsx",
    } < files
    assert f"activities-travel-{DEMO_YEAR}-gb18030.csv" in files

    with Workspace.open(tmp_path / "demo") as ws, ws.session() as session:
        assert len(load_entities(session)) == _data_rows("entities.csv")
        assert len(load_sites(session)) == _data_rows("sites.csv")
        every = load_batches(session)
        # the demo's imports, and the one submission of its collection campaign (task, status)
        batches = [b for b in every if b.task_id is None]
        submitted = [b for b in every if b.task_id is not None]
        assert len(batches) == len(summary.imports)
        assert [b.status for b in submitted] == ["submitted"]
        assert {b.status for b in batches} == {"approved"}
        lake_files = [ws.lake / b.lake_path for b in batches if b.lake_path is not None]
    # three activity files (and the readings and the weather of the telemetry, and the trips)
    assert len(lake_files) == (5 if set(TELEMETRY_KINDS) <= set(KINDS) else 3) + 1
    assert all(path.exists() for path in lake_files)

    by_key = {(r.activity, r.region, r.unit): r for r in summary.resolutions}
    # Guangdong data centres report MWh: the MEE/NBS 2023 provincial factor, one year older
    # than the 2024 reporting year (Announcement 2025 No. 47 is the latest published).
    guangdong = by_key[("electricity", "CN-GD", "MWh")]
    assert (guangdong.factor_id, guangdong.tier, guangdong.vintage_gap) == (
        "cn-mee:location:CN-GD:2023",
        "subnational",
        -1,
    )
    # The Hong Kong office buys from a supplier with its own factor (the demo's factor file).
    assert by_key[("electricity", "HK", "kWh")].factor_id == "demo-hk-power-2024"
    assert by_key[("electricity", "HK", "kWh")].tier == "supplier"
    # Refrigerants resolve to the IPCC GWP of the default set.
    assert by_key[("refrigerant.R-410A", "CN-GD", "kg")].factor_id == "ipcc-gwp:AR6:R-410A"
    # Nothing is silently resolved: every unresolved combination says why.
    assert all(r.problem for r in summary.unresolved)
    assert all(r.factor_id is None for r in summary.unresolved)
    # Units as Chinese ledgers keep them, priced by the national defaults: diesel in 吨,
    # natural gas in Nm3 (factor per 10^4 Nm3), heat in GJ; fleet petrol by GB/T 32150-2015.
    assert by_key[("stationary.diesel", "CN-GD", "吨")].factor_id == (
        "cn-defaults:stationary.diesel:t"
    )
    assert by_key[("stationary.natural_gas", "CN-GD", "Nm3")].factor_id == (
        "cn-defaults:stationary.natural_gas:1e4nm3"
    )
    assert by_key[("heat", "CN-BJ", "GJ")].factor_id == "cn-defaults:heat:gj"
    assert by_key[("mobile.petrol", "CN-GD", "t")].factor_id == "cn-defaults:mobile.petrol:t"
    # No Chinese travel factor exists: DESNZ stands in as a flagged proxy.
    air = by_key[("travel.air.short_haul.economy", "CN", "pkm")]
    assert (air.tier, str(air.factor_id).startswith("desnz-2024:")) == ("proxy", True)

    # The inventory is calculated end to end and every row is priced.
    assert summary.inventory is not None
    assert summary.excluded == []
    assert summary.inventory["counts"]["excluded"] == 0
    _assert_profile(summary.inventory)
    _assert_green_power(summary)
    _assert_targets(summary)


# The demo is SYNTHETIC. Its data are shaped so that its inventory resembles the published
# 2021 profile of the reference company (the 2021 ESG report of a large Chinese internet
# group; figures as DESIGN.md gives them): scope 1 ≈ 0.02 Mt, scope 2 (location-based) ≈
# 2.35 Mt, scope 3 ≈ 2.74 Mt, total ≈ 5.1 Mt CO2e, scope 3 dominated by capital goods, leased
# data-centre electricity and business travel. The ±15 % band is the "resembles" of the
# issue: the profile figures are rounded and the demo uses other years' factors, proxies and
# invented activity data, so only the shape and the order of magnitude are meant to match.
PROFILE_T = {"scope1": 0.02e6, "scope2_location": 2.35e6, "scope3": 2.74e6, "total": 5.1e6}
PROFILE_TOLERANCE = 0.15


def _assert_profile(inventory: dict[str, Any]) -> None:
    totals = inventory["totals"]
    for key, expected in PROFILE_T.items():
        assert totals[key] == pytest.approx(expected, rel=PROFILE_TOLERANCE), key
    categories = inventory["scope3_by_category"]
    top3 = sorted(categories, key=lambda k: -categories[k])[:3]
    # Capital goods, upstream leased assets (leased data-centre electricity), business travel.
    assert top3 == ["2", "8", "6"]


def _assert_green_power(summary: DemoSummary) -> None:
    assert summary.inventory is not None
    assert summary.market is not None
    shares = summary.inventory["renewable_share"]["by_site"]
    # Chongqing: 60,000 MWh of green-power trade GECs cover the data centre fully, the rest
    # is surplus and not carried over.
    assert shares["DC-CQ"] == 1.0
    assert summary.market.allocation.surplus_mwh["CQ-GPT-001"] > 0
    assert summary.inventory["by_site"]["DC-CQ"]["scope2_market"] == 0.0
    # Jiangsu: the 13 MW rooftop PV is on-site generation, consumed, not allocated.
    assert 0.0 < shares["DC-JS"] < 1.0
    assert "JS-PV-ROOF" in summary.market.allocation.excluded
    # A GEC batch not yet cancelled is excluded, with the reason.
    assert summary.market.allocation.excluded["GRP-GEC-PENDING"] == (
        "not retired (cancelled) in the registry"
    )
    # The solar PPA exceeds the site's annual load, but matches far less hour by hour.
    assert summary.ppa is not None
    assert summary.ppa.supply_mwh > summary.ppa.load_mwh
    assert summary.ppa.volumetric == 1.0
    assert summary.ppa.hourly < 0.6
    assert shares[summary.ppa.site] == 1.0
    totals = summary.inventory["totals"]
    assert totals["scope2_market"] == pytest.approx(summary.market.scope2_market_t)


def _assert_targets(summary: DemoSummary) -> None:
    """The demo's targets are modelled on the reference company's (synthetic history for
    2021-2023, the 2024 run): S1+2 −70 % and S3 −30 % absolute by 2030 from 2021."""
    status = summary.targets
    assert status is not None
    by_id = {state.target.id: state for state in status.targets}
    assert sorted(by_id) == ["NZ-2050", "RE-2030", "S12-2030", "S3-2030"]
    s12 = by_id["S12-2030"]
    assert s12.base is not None
    # 2021 (synthetic, shaped like the reference company): 19,000 t + 2,352,000 t market.
    assert (s12.base.t_co2e, s12.base.scope2_method) == (2_371_000.0, "market")
    assert s12.base.source == "published: synthetic demo figure (not a published value)"
    assert s12.progress is not None
    assert [y.year for y in s12.progress.years] == [2021, 2022, 2023, 2024]
    assert s12.actual_sources[2024] == f"run {summary.run_id}, scope 2 market"
    # 2,371,000 × (1 − 0.7 / 9 × 3) on the 2024 pathway; the 2024 run is far above it.
    assert s12.progress.years[-1].pathway == pytest.approx(2_371_000 * (1 - 0.7 / 9 * 3))
    assert s12.progress.status == "off_track"
    ambition = next(c for c in status.checks if c.rule == "ambition" and c.target_id == "S12-2030")
    assert ambition.passed
    assert not [c for c in status.checks if c.status.value == "fail"]
    # The plan of S12-2030 over the run's scope 1 and 2 lines reaches its 2030 target.
    plan = summary.plan
    assert plan is not None
    assert plan.target is not None
    assert plan.target.id == "S12-2030"
    assert plan.gap is not None
    assert plan.gap.target_t_co2e == pytest.approx(2_371_000 * 0.3)
    assert plan.gap.met
    # Every measure's selector matches some of the demo's line items.
    assert all(w > 0 for w in plan.macc["abatement_t_co2e_per_yr"].to_pylist())


def test_the_demo_is_deterministic_and_rebuilt_on_every_run(tmp_path: Path) -> None:
    first = build_demo(tmp_path / "demo", progress=False, steps=WITHOUT_REPORT)
    second = build_demo(tmp_path / "demo", progress=False, steps=WITHOUT_REPORT)
    assert [r.batch_id for r in first.imports] == [r.batch_id for r in second.imports]
    assert (tmp_path / "demo" / DEMO_MARKER).exists()
    assert first.inventory is not None
    assert second.inventory is not None
    assert first.inventory["totals"] == second.inventory["totals"]
    assert first.run_id is not None
    assert second.run_id is not None
    assert first.run_id.split("-")[1] == second.run_id.split("-")[1]  # same input hash
    _assert_docs_show(first.inventory)
    _assert_docs_show_targets(first)


DOCS = Path(__file__).parents[2] / "docs" / "demo.md"


def _assert_docs_show(inventory: dict[str, Any]) -> None:
    """docs/demo.md shows what the demo prints with the default seed and year."""
    text = DOCS.read_text(encoding="utf-8")
    totals = inventory["totals"]
    for label, key in (
        ("Scope 1", "scope1"),
        ("Scope 2, location-based", "scope2_location"),
        ("Scope 2, market-based", "scope2_market"),
        ("Scope 3", "scope3"),
        ("Total (1 + 2 location + 3)", "total"),
    ):
        assert f"| {label} | {totals[key]:,.0f} |" in text, label


def _assert_docs_show_targets(summary: DemoSummary) -> None:
    """docs/demo.md shows the 2024 progress of S12-2030 and the plan's margin as printed."""
    text = DOCS.read_text(encoding="utf-8")
    assert summary.targets is not None
    s12 = next(s for s in summary.targets.targets if s.target.id == "S12-2030")
    assert s12.progress is not None
    latest = s12.progress.years[-1]
    assert f"| S12-2030 | 2,371,000 → 711,300 t | {latest.actual:,.0f} t | " in text
    assert f"{latest.pathway:,.0f} t | off track |" in text
    assert summary.plan is not None
    assert summary.plan.gap is not None
    assert f"({-summary.plan.gap.gap_t_co2e:,.0f} t to" in text


def test_the_demo_never_overwrites_a_folder_it_did_not_create(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.docx").write_text("do not delete", encoding="utf-8")
    with pytest.raises(WorkspaceError, match="is not a demo workspace; refusing to overwrite it"):
        build_demo(precious, progress=False)
    assert (precious / "thesis.docx").exists()


def test_the_demo_command(tmp_path: Path) -> None:
    # Not a terminal (CliRunner, like `esgledger demo | less`): a summary, not the 2,310 lines
    # of a factor table folded word by word into 80 columns (issue 10).
    result = CliRunner().invoke(app, ["demo", "--workspace", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "entities.csv (entities, 10)" in result.stdout
    assert "activity/region/unit combinations resolve to a factor (tier: " in result.stdout
    assert "esgledger factors resolve" in result.stdout
    assert "Data-centre telemetry: " in result.stdout
    assert "8 injected faults" in result.stdout
    assert len(result.stdout.splitlines()) < 130
    assert "│ commutin │" not in result.stdout
    for text in (
        "Scope 1",
        "Scope 2 (location-based)",
        "Scope 2 (market-based)",
        "Scope 3 by category",
        "Top scope 3 categories: capital goods, upstream leased assets, business travel.",
        "hour-by-hour matching",
        "Every activity row resolved to a factor; nothing is excluded.",
        "The demo data are synthetic",
        "Targets in 2024 (synthetic demo targets)",
        "S12-2030",
        "off track",
        "Plan: Residual gap in 2030:",
        "ESG report written in",
        "Final: every mandatory HKEX item is disclosed or explained",
    ):
        assert text in result.stdout, text
    # The report: both languages, HTML and PDF, in WS/reports/<year>/, with the inventory's
    # scope totals printed exactly as `esgledger inventory --format json` gives them (whole
    # tonnes with thousands separators).
    folder = tmp_path / "demo" / "reports" / str(DEMO_YEAR)
    for lang in ("en", "zh-CN"):
        for suffix in ("html", "pdf"):
            assert (folder / f"esg-report-{DEMO_YEAR}.{lang}.{suffix}").is_file()
    inventory = CliRunner().invoke(app, ["inventory", str(tmp_path / "demo"), "--format", "json"])
    totals = json.loads(inventory.stdout)["totals"]
    html = (folder / f"esg-report-{DEMO_YEAR}.zh-CN.html").read_text(encoding="utf-8")
    for key in ("scope1", "scope2_location", "scope2_market", "scope3"):
        assert f"{totals[key]:,.0f}" in html, key


def test_piped_demo_output_summarises_the_factor_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shape of the piped output, without building the demo: 60 resolved combinations
    with long factor ids and sources become one line; an unresolved one is named."""
    import esgledger.demo.run
    from esgledger.demo.run import ResolvedCombination
    from esgledger.ingest import ImportResult

    source = "UK DESNZ / Defra, Greenhouse gas reporting: conversion factors 2024 (flat file)"
    combos = [
        ResolvedCombination(
            f"travel.activity_{i}", "CN", "pkm", None, 10, f"desnz-2024:{i:04d}", "proxy", 0, source
        )
        for i in range(60)
    ]
    combos.append(
        ResolvedCombination("water.supply", "CN-GD", "m3", None, 3, None, None, None, None, "x")
    )
    imports = [ImportResult("entities", "b-1", "entities.csv", 10, True, "ok")]
    fake = DemoSummary(tmp_path, DEMO_YEAR, imports=imports, resolutions=combos)
    monkeypatch.setattr(esgledger.demo.run, "build_demo", lambda *a, **k: fake)
    result = CliRunner().invoke(app, ["demo", "--workspace", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"Imported 1 files, 10 rows, into {tmp_path} (reporting year {DEMO_YEAR}): "
        "entities.csv (entities, 10).",
        "60 of 61 activity/region/unit combinations resolve to a factor (tier: 60 proxy). The "
        "data are synthetic.",
        "  no factor: water.supply in CN-GD [m3], 3 rows: x",
        f"Details: `esgledger factors resolve {tmp_path} --activity A --region R --unit U` "
        f"shows the factor of one combination and why; `esgledger explain {tmp_path} "
        "RECORD_ID` traces one row.",
    ]


def test_rows_without_a_factor_are_counted_with_their_reason_never_silently(
    tmp_path: Path,
) -> None:
    from _inventory_support import activity, new_workspace
    from esgledger.demo.run import _calculate

    ws = new_workspace(
        tmp_path / "ws",
        activities=[
            activity("electricity", 10, "MWh", region="CN-GD"),
            activity("water.supply", 5, "m3", region="CN-GD"),  # no factor, no proxies
        ],
    )
    with ws:
        run, excluded = _calculate(ws)
    assert [e.lines for e in excluded] == [1]
    assert excluded[0].reason.startswith("no factor for activity water.supply")
    assert run.manifest["counts"]["excluded"] == 1


def test_the_demo_runs_its_steps_in_order_and_takes_added_ones(tmp_path: Path) -> None:

    seen: list[str] = []

    def added(ws: Workspace, summary: DemoSummary, files: Any) -> None:
        seen.append(summary.run_id or "")
        summary.extras["report"] = files.targets.name

    messages: list[str] = []
    summary = build_demo(
        tmp_path / "demo",
        progress=False,
        steps=[_step("calculating the inventory"), ("an added step", added)],
        on_step=messages.append,
    )
    assert [m for m in messages if m in ("calculating the inventory", "an added step")] == [
        "calculating the inventory",
        "an added step",
    ]
    assert seen == [summary.run_id]
    assert summary.extras == {"report": "targets.csv"}
    assert summary.targets is None  # only the steps given ran
