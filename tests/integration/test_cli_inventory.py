"""``esgledger calculate`` and ``esgledger inventory``: the CLI contract of the inventory."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from _inventory_support import activity, entity, new_workspace
from esgledger.cli import app
from esgledger.inventory import list_runs, load_run, summary
from esgledger.store import Workspace

runner = CliRunner()


@pytest.fixture
def ws_path(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    new_workspace(
        root,
        entities=[
            entity("GRP", country="US"),
            entity("JV", parent="GRP", ownership_pct=50, operational_control="false"),
        ],
        activities=[
            activity("stationary.diesel", 10_000, "gal", region="US"),
            activity("electricity", 1_000, "MWh", region="US"),
            activity("travel.air.long_haul.economy", 10_000, "pkm", region="GB"),
            activity("stationary.wood_pellets", 100, "mmBtu", region="US"),
            activity("electricity", 1_000, "MWh", region="US", entity_code="JV"),
        ],
    ).close()
    return root


def test_calculate_prints_the_inventory_and_the_run_id(ws_path: Path) -> None:
    result = runner.invoke(app, ["calculate", str(ws_path), "--gwp", "AR5"])
    assert result.exit_code == 0, result.output
    with Workspace.open(ws_path) as ws:
        (registered,) = list_runs(ws)
    lines = result.stdout.splitlines()
    # EPA Hub 2025: diesel 10,000 gal -> 102,426.8 kg CO2e (AR5); US-average electricity
    # 1,000 MWh -> 351,642.5 kg CO2e (AR5); the JV is outside operational control.
    assert any(line.split()[:3] == ["Scope", "1", "范围一"] and "102.542" in line for line in lines)
    scope2 = next(line for line in lines if line.lstrip().startswith("Scope 2"))
    assert scope2.split()[-1] == "351.642"
    business_travel = next(line for line in lines if "6. Business travel" in line)
    assert business_travel.split()[-1] == "1.181"  # DESNZ 0.11812 kg/pkm
    assert next(line for line in lines if "Biogenic" in line).split()[-1] == "9.380"
    assert lines[-1] == (f"run {registered['id']}: 5 line item(s), GWP AR5, operational control")
    # No well-to-tank or T&D factor exists for the US: category 3 is incomplete, and says so.
    assert result.stderr.startswith("warning: scope 3 category 3 is incomplete: 4 scope 1 or")


def test_calculate_takes_the_consolidation_approach(ws_path: Path) -> None:
    result = runner.invoke(
        app, ["calculate", str(ws_path), "--consolidation", "equity", "--no-category-3"]
    )
    assert result.exit_code == 0, result.output
    with Workspace.open(ws_path) as ws:
        run = load_run(ws)
    assert run.manifest["consolidation"] == "equity_share"
    assert run.manifest["gwp_set"] == "AR6"
    assert run.manifest["consolidation_shares"]["JV"]["share"] == 0.5
    assert run.manifest["options"]["category_3"] is False
    assert "equity share" in result.stdout.splitlines()[-1]
    assert result.stderr == ""


def test_calculate_fails_with_the_keys_that_have_no_factor(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    new_workspace(root, activities=[activity("purchased_goods.steel", 5, "t")]).close()
    result = runner.invoke(app, ["calculate", str(root)])
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: 1 activity key(s) have no emission factor (1 row(s)); nothing was calculated"
    )
    allowed = runner.invoke(app, ["calculate", str(root), "--allow-unresolved"])
    assert allowed.exit_code == 0, allowed.output
    assert "1 excluded" in allowed.stdout.splitlines()[-1]
    assert allowed.stderr.startswith("warning: 1 row(s) of 1 activity key(s) have no emission")


def test_calculate_strict_refuses_fallbacks(ws_path: Path) -> None:
    result = runner.invoke(
        app, ["calculate", str(ws_path), "--strict", "--strict-tier", "subnational"]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert "were refused by strict" in result.stderr
    with Workspace.open(ws_path) as ws:
        assert list_runs(ws) == []
    # The default strict tier (country) accepts the national EPA and DESNZ factors.
    assert runner.invoke(app, ["calculate", str(ws_path), "--strict"]).exit_code == 0


def test_inventory_without_a_run_says_what_to_do(ws_path: Path) -> None:
    result = runner.invoke(app, ["inventory", str(ws_path)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: workspace {ws_path} has no inventory run yet; run `esgledger calculate WS` first\n"
    )


def test_inventory_json_is_the_summary_of_the_latest_or_a_named_run(ws_path: Path) -> None:
    assert runner.invoke(app, ["calculate", str(ws_path), "--gwp", "AR4"]).exit_code == 0
    assert runner.invoke(app, ["calculate", str(ws_path), "--gwp", "AR5"]).exit_code == 0
    with Workspace.open(ws_path) as ws:
        first, second = (load_run(ws, r["id"]) for r in list_runs(ws))
    latest = runner.invoke(app, ["inventory", str(ws_path), "--format", "json"])
    assert latest.exit_code == 0, latest.output
    data = json.loads(latest.stdout)
    assert data == summary(second)
    assert data["unit"] == "t CO2e"
    assert set(data["totals"]) >= {"scope1", "scope2_location", "scope3", "biogenic_co2"}
    assert list(data["scope3_by_category"]) == [str(n) for n in range(1, 16)]
    named = runner.invoke(
        app, ["inventory", str(ws_path), "--run", first.run_id, "--format", "json"]
    )
    assert json.loads(named.stdout)["run"]["gwp_set"] == "AR4"


def test_inventory_table_and_json_to_a_file(ws_path: Path, tmp_path: Path) -> None:
    assert runner.invoke(app, ["calculate", str(ws_path)]).exit_code == 0
    table = runner.invoke(app, ["inventory", str(ws_path)])
    assert table.exit_code == 0
    assert "Scope 2 (location-based)" in table.stdout
    out = tmp_path / "inventory.json"
    result = runner.invoke(app, ["inventory", str(ws_path), "--format", "json", "--out", str(out)])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert json.loads(out.read_text(encoding="utf-8"))["unit"] == "t CO2e"


def test_inventory_exports_the_line_items_as_csv_and_parquet(ws_path: Path, tmp_path: Path) -> None:
    assert runner.invoke(app, ["calculate", str(ws_path)]).exit_code == 0
    with Workspace.open(ws_path) as ws:
        run = load_run(ws)
    printed = runner.invoke(app, ["inventory", str(ws_path), "--format", "csv"])
    assert printed.exit_code == 0, printed.output
    rows = list(csv.DictReader(io.StringIO(printed.stdout)))
    assert len(rows) == 5
    assert rows[0]["factor_id"] == "epa-hub-2025:t1:distillate_fuel_oil_no_2:gallon"
    assert float(rows[0]["co2_kg"]) == pytest.approx(102_100, rel=1e-12)

    out = tmp_path / "lines.csv"
    assert (
        runner.invoke(
            app, ["inventory", str(ws_path), "--format", "csv", "--out", str(out)]
        ).exit_code
        == 0
    )
    assert out.read_text(encoding="utf-8") == printed.stdout

    parquet = tmp_path / "lines.parquet"
    result = runner.invoke(
        app, ["inventory", str(ws_path), "--format", "parquet", "--out", str(parquet)]
    )
    assert result.exit_code == 0
    assert pq.read_table(parquet).to_pylist() == run.line_items().to_pylist()
    missing = runner.invoke(app, ["inventory", str(ws_path), "--format", "parquet"])
    assert missing.exit_code == 1
    assert missing.stderr == "error: --format parquet needs --out FILE\n"


def test_explain_shows_the_steps_of_a_record(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    new_workspace(
        root, activities=[activity("stationary.diesel", 100, "gal", region="US", record_id="D")]
    ).close()
    assert runner.invoke(app, ["calculate", str(root), "--gwp", "AR5"]).exit_code == 0
    result = runner.invoke(app, ["explain", str(root), "D"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("run r-")
    assert lines[1] == "line 1 of 1 (activity)"
    assert lines[-1] == "  consolidated  1,024.268 x share 1 = 1,024.268 kg CO2e"
    missing = runner.invoke(app, ["explain", str(root), "nope"])
    assert missing.exit_code == 1
    assert missing.stderr.startswith("error: run r-")
