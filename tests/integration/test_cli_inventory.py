"""``esgledger calculate``, ``inventory``, ``explain``, ``uncertainty`` and ``quality``: the CLI
contract of the inventory."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from importlib import resources
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from _inventory_support import activity, entity, import_rows, new_workspace
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
    # Five rows, and the JV's electricity once more in scope 3 category 15 at its 50 % equity
    # share (outside operational control; Scope 3 Standard Table 5.4): 175.821 t.
    assert next(line for line in lines if "15. Investments" in line).split()[-1] == "175.821"
    assert lines[-1] == (f"run {registered['id']}: 6 line item(s), GWP AR5, operational control")
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
    # Only market-based scope 2's warnings: no instrument, and no US residual mix.
    assert result.stderr.splitlines() == [
        "warning: no contractual instruments are registered: market-based scope 2 prices all "
        "purchased electricity with supplier-specific factors, else the residual mix, else the "
        "grid average (flagged); it is computed, not copied from location-based",
        "warning: 2 sites priced their remainder at the grid average: no residual mix ((no "
        "site: GRP), (no site: JV)); disclose it (grid_average_no_residual_mix)",
    ]


def test_calculate_fails_with_the_keys_that_have_no_factor(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    new_workspace(root, activities=[activity("purchased_goods.steel", 5, "t")]).close()
    result = runner.invoke(app, ["calculate", str(root)])
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: 1 activity key(s) have no emission factor (1 row(s)); nothing was calculated"
    )
    # The message names the command-line fixes, not the Python keyword.
    assert "allow_unresolved=True" not in result.stderr
    for fix in (
        "esgledger import WS FILE --kind factors",
        "esgledger calculate WS --proxy CN=GB",
        '[factors] proxies = { CN = ["GB"] }',
        "esgledger factors resolve WS --activity purchased_goods.steel --region CN --unit 't' "
        "--proxy CN=GB",
        "esgledger calculate WS --allow-unresolved",
    ):
        assert fix in result.stderr
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


def test_calculate_uses_proxy_regions_only_when_told(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    new_workspace(
        # kerosene: no China or global factor (diesel in L resolves to the China default)
        root,
        activities=[activity("stationary.kerosene", 1_000, "L", region="CN-GD")],
    ).close()
    refused = runner.invoke(app, ["calculate", str(root)])
    assert refused.exit_code == 1
    assert refused.stderr.startswith("error: 1 activity key(s) have no emission factor")
    result = runner.invoke(app, ["calculate", str(root), "--proxy", "CN=GB", "--no-category-3"])
    assert result.exit_code == 0, result.output
    with Workspace.open(root) as ws:
        run = load_run(ws)
    assert run.manifest["options"]["proxies"] == {"CN": ["GB"]}
    (line,) = run.line_items().to_pylist()
    assert line["tier"] == "proxy"
    assert line["factor_set"] == "desnz-2024"
    assert line["region"] == "CN-GD"
    bad = runner.invoke(app, ["calculate", str(root), "--proxy", "CN"])
    assert bad.exit_code == 2
    assert "proxy option 'CN' is not of the form REGION=PROXY[,PROXY...], e.g. CN=GB,US" in (
        " ".join(bad.stderr.replace("│", " ").split())
    )


def test_calculate_takes_the_price_basis_of_spend_factors(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    new_workspace(
        root, activities=[activity("spend.naics.334111", 1_000, "USD", region="US")]
    ).close()
    co2e = {}
    for basis in ("purchaser", "producer"):
        result = runner.invoke(app, ["calculate", str(root), "--price-basis", basis])
        assert result.exit_code == 0, result.output
        with Workspace.open(root) as ws:
            run = load_run(ws)
        assert run.manifest["options"]["price_basis"] == basis
        (line,) = run.line_items().to_pylist()
        co2e[basis] = line["co2e_kg"]
        assert (
            line["factor_id"]
            == {
                "purchaser": "useeio-1.3.0:334111",
                "producer": "useeio-1.3.0:334111:producer",
            }[basis]
        )
    # USEEIO v1.3, NAICS 334111: 0.058 (with margins) and 0.030 (without) kg CO2e per 2022
    # USD; the same amount, exchange rate and price-year adjustment apply to both.
    assert co2e["producer"] / co2e["purchaser"] == pytest.approx(0.030 / 0.058, rel=1e-12)
    bad = runner.invoke(app, ["calculate", str(root), "--price-basis", "basic"])
    assert bad.exit_code == 2


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
    assert "Scope 2 (market-based) 范围二（基于市场）" in table.stdout
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
    assert len(rows) == 6  # five rows and the JV's category 15 line
    assert rows[-1]["line_kind"] == "investment"
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


def test_inventory_json_holds_the_contract_of_the_issue(ws_path: Path) -> None:
    assert runner.invoke(app, ["calculate", str(ws_path), "--gwp", "AR5"]).exit_code == 0
    result = runner.invoke(app, ["inventory", str(ws_path), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"unit", "totals", "scope3_by_category", "by_entity", "by_site", "data_quality"} <= set(
        data
    )
    assert data["unit"] == "t CO2e"
    totals = data["totals"]
    assert {"scope1", "scope2_location", "scope3", "biogenic_co2"} <= set(totals)
    # EPA Hub 2025 Table 1 (AR5): diesel 10,000 US gal -> 102,426.8 kg CO2e; wood and wood
    # residuals 100 mmBtu: CH4 7.2 g and N2O 3.6 g per mmBtu -> 0.72 kg x 28 + 0.36 kg x 265.
    assert totals["scope1"] == pytest.approx(102.4268 + (0.72 * 28 + 0.36 * 265) / 1000, abs=1e-6)
    # EPA Hub 2025 Table 6, US average: 1,000 MWh -> 351,642.5 kg CO2e (AR5); the JV is
    # outside operational control.
    assert totals["scope2_location"] == pytest.approx(351.6425, abs=5e-4)
    assert totals["biogenic_co2"] == pytest.approx(9.38, abs=5e-4)  # 93.80 kg CO2/mmBtu
    assert list(data["scope3_by_category"]) == [str(n) for n in range(1, 16)]
    assert data["scope3_by_category"]["6"] == pytest.approx(1.1812, abs=1e-9)  # DESNZ 2024
    # The JV's 50 % equity share of its scope 2 is category 15 (Scope 3 Standard Table 5.4).
    assert data["scope3_by_category"]["15"] == pytest.approx(351.6425 / 2, abs=5e-4)
    assert totals["scope3"] == pytest.approx(sum(data["scope3_by_category"].values()), abs=1e-9)
    assert set(data["by_entity"]) == {"GRP", "JV"}
    assert data["by_entity"]["JV"]["scope2_location"] == 0.0
    assert data["by_entity"]["JV"]["total"] == data["scope3_by_category"]["15"]
    assert data["by_entity"]["JV"]["total_gross"] == pytest.approx(351.6425, abs=5e-4)
    assert list(data["by_site"]) == ["(no site)"]
    assert data["by_site"]["(no site)"]["scope1"] == totals["scope1"]
    assert data["data_quality"]
    assert data["run"]["gwp_set"] == "AR5"
    assert data["run"]["run_id"].startswith("r-")
    # Issue 4: scope2_market beside scope2_location, per site, entity and group. No
    # instrument and no US residual mix: the remainder is priced at the grid average (the
    # same EPA factor as location-based), flagged and said in the warnings.
    assert totals["scope2_market"] == pytest.approx(351.6425, abs=5e-4)
    assert data["by_site"]["(no site)"]["scope2_market"] == totals["scope2_market"]
    assert data["by_entity"]["GRP"]["scope2_market"] == totals["scope2_market"]
    assert data["by_entity"]["JV"]["scope2_market"] == 0.0
    assert data["renewable_share"]["group"] == 0.0
    assert any("grid_average_no_residual_mix" in w for w in data["warnings"])
    assert any(w.startswith("no contractual instruments") for w in data["warnings"])


# ---- explain ------------------------------------------------------------------------------


@pytest.fixture
def diesel_ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    new_workspace(
        root,
        entities=[entity("GRP", country="US"), entity("JV", parent="GRP", ownership_pct=50)],
        activities=[
            activity("stationary.diesel", 100, "gal", region="US", record_id="D"),
            activity("electricity", 1, "MWh", region="US", record_id="E"),
        ],
    ).close()
    return root


def test_explain_shows_the_steps_of_a_record(diesel_ws: Path) -> None:
    assert runner.invoke(app, ["calculate", str(diesel_ws), "--gwp", "AR5"]).exit_code == 0
    result = runner.invoke(app, ["explain", str(diesel_ws), "D"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Run r-")
    assert lines[0].endswith(
        "(reporting year 2024, GWP set AR5, consolidation operational control)"
    )
    assert "    record: D" in lines
    assert "    quantity: 100 gal" in lines
    assert "  Emission factor: epa-hub-2025:t1:distillate_fuel_oil_no_2:gallon" in lines
    # EPA Hub 2025 Table 1: 10.21 kg CO2, 0.41 g CH4, 0.08 g N2O per US gallon; AR5 GWPs
    # 28 and 265 (IPCC AR5 WG1 Table 8.7).
    assert "    CO2: 1,021 kg × 1 = 1,021 kg CO2e" in lines
    assert "    CH4: 0.041 kg × 28 = 1.148 kg CO2e" in lines
    assert "    N2O: 0.008 kg × 265 = 2.12 kg CO2e" in lines
    assert (
        "  CO2e (gross, 100 % of the entity): 1,024.268 kg CO2e (sum of the gases weighted by GWP)"
        in lines
    )
    assert lines[-1] == "  CO2e consolidated: 1,024.268 kg × 1 = 1,024.268 kg CO2e (1.024268 t)"


def test_explain_speaks_chinese(diesel_ws: Path) -> None:
    assert runner.invoke(app, ["calculate", str(diesel_ws), "--gwp", "AR5"]).exit_code == 0
    result = runner.invoke(app, ["explain", str(diesel_ws), "D", "--lang", "zh-CN"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].endswith("(报告年度 2024, GWP 取值 AR5, 合并方法 运营控制法)")
    assert "  CO2当量（全额，实体100%）: 1,024.268 kg CO2e (各气体按GWP加权求和)" in lines
    assert lines[-1] == "  合并后CO2当量: 1,024.268 kg × 1 = 1,024.268 kg CO2e (1.024268 t)"
    bad = runner.invoke(app, ["explain", str(diesel_ws), "D", "--lang", "fr"])
    assert bad.exit_code == 2
    assert "'fr' is not one of 'en', 'zh-CN'" in bad.stderr


def test_explain_as_json(diesel_ws: Path) -> None:
    assert runner.invoke(app, ["calculate", str(diesel_ws), "--gwp", "AR5"]).exit_code == 0
    result = runner.invoke(app, ["explain", str(diesel_ws), "E", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["key"] == "E"
    assert data["gwp_set"] == "AR5"
    assert data["row_number"] == 3
    assert data["activity_row"]["period_start"] == "2024-01-01"
    (line,) = data["lines"]
    assert line["line"]["factor_id"] == "epa-hub-2025:t6:us_average"
    assert line["gwp_values"] == {"CO2": 1.0, "CH4": 28.0, "N2O": 265.0}
    assert line["to_factor_unit"] == pytest.approx(1.0)  # the US-average factor is per MWh
    # EPA Hub 2025 Table 6: 1 MWh US average -> 351.6425 kg CO2e (AR5).
    assert data["co2e_kg_consolidated"] == pytest.approx(351.6425, abs=5e-4)


def test_explain_names_the_choices_of_an_ambiguous_record(diesel_ws: Path) -> None:
    with Workspace.open(diesel_ws) as ws:
        import_rows(
            ws, "activities", [activity("electricity", 2, "MWh", region="US", entity_code="JV",
                                        record_id="E")]
        )  # fmt: skip
    assert runner.invoke(app, ["calculate", str(diesel_ws)]).exit_code == 0
    with Workspace.open(diesel_ws) as ws:
        run = load_run(ws)
    first, second = sorted(run.manifest["batch_files"].items())
    result = runner.invoke(app, ["explain", str(diesel_ws), "E"])
    assert result.exit_code == 2
    rows = {batch: (3 if name == first[1] else 2) for batch, name in (first, second)}
    entities = {3: "GRP", 2: "JV"}
    choices = "; ".join(
        f"{batch}:{row} (entity {entities[row]}, {name} row {row})"
        for batch, name in sorted(run.manifest["batch_files"].items(), key=lambda kv: kv[0])
        for row in [rows[batch]]
    )
    assert result.stderr.splitlines()[0] == (
        "error: record id 'E' is used by 2 activity rows of different entities; name one as "
        f"BATCH:ROW or ENTITY:RECORD_ID: {choices}"
    )
    chosen = runner.invoke(app, ["explain", str(diesel_ws), "JV:E", "--format", "json"])
    assert chosen.exit_code == 0, chosen.output
    assert json.loads(chosen.stdout)["lines"][0]["line"]["quantity"] == 2


def test_explain_without_such_a_record(diesel_ws: Path) -> None:
    assert runner.invoke(app, ["calculate", str(diesel_ws)]).exit_code == 0
    with Workspace.open(diesel_ws) as ws:
        run = load_run(ws)
    missing = runner.invoke(app, ["explain", str(diesel_ws), "nope"])
    assert missing.exit_code == 1
    # One line: no stray ", column 'record_id': no such record" under it (issue 10).
    assert missing.stderr == (
        f"error: run {run.run_id} has no line with record id 'nope' (give a record id, "
        "BATCH:ROW such as b-0123456789ab:2, or ENTITY:RECORD_ID)\n"
    )


# ---- uncertainty --------------------------------------------------------------------------


def _shipped_sha256(name: str) -> str:
    return hashlib.sha256(
        resources.files("esgledger.schema").joinpath(name).read_bytes()
    ).hexdigest()


def test_uncertainty_json_is_seeded_and_says_what_reproduces_it(ws_path: Path) -> None:
    assert runner.invoke(app, ["calculate", str(ws_path), "--gwp", "AR5"]).exit_code == 0
    args = ["uncertainty", str(ws_path), "--iterations", "2000", "--seed", "7", "--format", "json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["iterations"] == 2000
    assert data["seed"] == 7
    assert data["by"] == ["scope"]
    assert data["rules"]["sha256"] == _shipped_sha256("data_quality_rules.csv")
    assert data["uncertainty_defaults"]["sha256"] == _shipped_sha256("uncertainty_defaults.csv")
    inventory = json.loads(
        runner.invoke(app, ["inventory", str(ws_path), "--format", "json"]).stdout
    )
    assert data["run_id"] == inventory["run"]["run_id"]
    by_scope = {row["scope"]: row for row in data["groups"]}
    assert set(by_scope) == {1, 2, 3}
    for scope, key in ((1, "scope1"), (2, "scope2_location"), (3, "scope3")):
        row = by_scope[scope]
        assert row["co2e_t"] == pytest.approx(inventory["totals"][key], rel=1e-12)
        assert row["p2_5_t"] < row["co2e_t"] < row["p97_5_t"]
        assert row["iterations"] == 2000
    assert data["total"]["co2e_t"] == pytest.approx(inventory["totals"]["total"], rel=1e-12)
    # No shipped factor here gives an uncertainty: every line is on a data-quality default.
    assert data["total"]["default_uncertainty_share"] == 1.0
    assert runner.invoke(app, args).stdout == result.stdout  # same seed, same numbers
    other = json.loads(runner.invoke(app, [*args[:-4], "--seed", "8", "--format", "json"]).stdout)
    assert other["total"]["mean_t"] != data["total"]["mean_t"]


def test_uncertainty_table_by_category_in_both_languages(ws_path: Path) -> None:
    assert runner.invoke(app, ["calculate", str(ws_path), "--gwp", "AR5"]).exit_code == 0
    args = ["uncertainty", str(ws_path), "--iterations", "500", "--by", "scope3_category"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].endswith("(t CO2e; 500 iterations, seed 0)")
    header = lines[2].split()
    assert header[:4] == ["group", "t", "CO2e", "mean"]

    def row(label: str) -> list[str]:
        return next(line for line in lines if line.lstrip().startswith(label)).split()

    assert row("Scope 1")[2] == "102.542"
    assert row("Scope 2")[2] == "351.642"
    assert row("6. Business travel")[3] == "1.181"
    assert row("6. Business travel")[-2:] == ["100.0", "%"]
    assert row("15. Investments")[2] == "175.821"  # the JV's 50 % of its scope 2
    assert row("Total")[1] == "631.187"
    assert lines[-1].startswith("rules data_quality_rules.csv sha256 ")
    zh = runner.invoke(app, [*args, "--lang", "zh-CN"])
    assert zh.exit_code == 0, zh.output
    assert "（吨CO2当量；500 次模拟，随机种子 0）" in zh.stdout
    assert "6. 商务差旅" in zh.stdout
    assert "合计" in zh.stdout


def test_uncertainty_by_entity_and_bad_options(ws_path: Path) -> None:
    assert (
        runner.invoke(app, ["calculate", str(ws_path), "--consolidation", "equity"]).exit_code == 0
    )
    result = runner.invoke(
        app, ["uncertainty", str(ws_path), "--by", "entity", "--iterations", "100", "--format",
              "json"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert [row["entity"] for row in json.loads(result.stdout)["groups"]] == ["GRP", "JV"]
    few = runner.invoke(app, ["uncertainty", str(ws_path), "--iterations", "1"])
    assert few.exit_code == 2
    assert "greater than or equal to 2" in few.stderr


# ---- data quality -------------------------------------------------------------------------


def test_quality_json_scores_and_completeness(ws_path: Path) -> None:
    assert runner.invoke(app, ["calculate", str(ws_path), "--gwp", "AR5"]).exit_code == 0
    result = runner.invoke(app, ["quality", str(ws_path), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["rules"]["sha256"] == _shipped_sha256("data_quality_rules.csv")
    # docs/methodology/data-quality.md, rule table: EPA fuel and location factors of the
    # row's country, one year from the reporting year, shipped -> 1 on every indicator.
    assert data["by_scope"]["1"]["scores"] == dict.fromkeys(
        ("technology", "temporal", "geography", "completeness", "reliability", "overall"), 1.0
    )
    # DESNZ air travel: method distance -> technology 2 (rule 60) and reliability 2 (rule
    # 50); same vintage, same region, shipped -> 1; overall (2+1+1+1+2)/5 = 1.4.
    travel = data["scope3_by_category"]["6"]
    assert travel["scores"]["technology"] == 2.0
    assert travel["scores"]["reliability"] == 2.0
    assert travel["scores"]["overall"] == pytest.approx(1.4, rel=1e-12)
    assert travel["status"] == "reported"
    assert data["scope3_by_category"]["1"]["status"] == "not reported"
    completeness = data["scope3_completeness"]
    assert [row["category"] for row in completeness] == [str(n) for n in range(1, 16)]
    reported = [row["category"] for row in completeness if row["status"] == "reported"]
    assert reported == ["6", "15"]  # business travel; the JV in investments
    assert completeness[5]["name_zh"] == "商务差旅"


def test_quality_table_in_both_languages(ws_path: Path) -> None:
    assert runner.invoke(app, ["calculate", str(ws_path), "--gwp", "AR5"]).exit_code == 0
    result = runner.invoke(app, ["quality", str(ws_path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    travel = next(line for line in lines if "6. Business travel" in line).split()
    assert travel[3:] == ["1.181", "1", "2.00", "1.00", "1.00", "1.00", "2.00", "1.40", "0.0",
                          "%", "reported"]  # fmt: skip
    assert next(line for line in lines if "2. Capital goods" in line).split()[-2:] == [
        "not",
        "reported",
    ]
    assert lines[-2] == (
        "scope 3 categories reported: 2 of 15; not reported: 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, "
        "12, 13, 14"
    )
    zh = runner.invoke(app, ["quality", str(ws_path), "--lang", "zh-CN"])
    assert zh.exit_code == 0, zh.output
    assert (
        "已报告的范围三类别：2/15；未报告：1、2、3、4、5、7、8、9、10、11、12、13、14" in zh.stdout
    )
    assert "6. 商务差旅" in zh.stdout
    assert "已报告" in zh.stdout


def test_quality_without_a_run(ws_path: Path) -> None:
    result = runner.invoke(app, ["quality", str(ws_path)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: workspace {ws_path} has no inventory run yet; run `esgledger calculate WS` first\n"
    )
