"""The inventory engine: one line item per activity row, each traceable to its factor.

Workspaces are filled through the real importers (``_inventory_support``). Expected values are
worked by hand from the factor values the test names and the IPCC GWP-100 values (AR4 CH4 25,
N2O 298; AR5 28, 265; AR6 27.9, 273), never read back from the engine. The only tolerance is
float rounding (``REL``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from _inventory_support import activity, entity, import_rows, new_workspace, site, user_factor
from esgledger.errors import (
    FactorNotFoundError,
    FxRateMissingError,
    InputError,
    PriceIndexMissingError,
    StrictFallbackError,
    WorkspaceError,
)
from esgledger.inventory import LINE_ITEM_COLUMNS, calculate, list_runs
from esgledger.store import Workspace

REL = 1e-12  # float rounding of a few multiplications


def _lines(ws: Workspace, **options: Any) -> list[dict[str, Any]]:
    """The activity rows' own lines (not the derived scope 3 category 3 lines)."""
    lines = calculate(ws, **options).line_items().to_pylist()
    return [line for line in lines if line["line_kind"] == "activity"]


def test_one_line_per_row_in_file_order_with_every_column(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        activities=[
            activity("electricity", 100, "kWh", region="CN-GD", record_id="A"),
            activity("stationary.diesel", 10, "gal", region="US", record_id="B"),
            activity("electricity", 200, "kWh", region="CN-GD", record_id="C"),
        ],
    )
    run = calculate(ws)
    table = run.line_items()
    assert tuple(table.column_names) == LINE_ITEM_COLUMNS
    lines = table.to_pylist()
    assert [line["record_id"] for line in lines] == ["A", "B", "C"]
    assert [line["row_number"] for line in lines] == [2, 3, 4]  # CSV: header is row 1
    assert {line["run_id"] for line in lines} == {run.run_id}
    assert lines[0]["factor_id"] == "cn-mee:location:CN-GD:2023"
    assert lines[0]["co2_kg"] == pytest.approx(100 * 0.4419, rel=REL)
    assert lines[2]["co2e_kg"] == pytest.approx(200 * 0.4419, rel=REL)
    assert lines[0]["scope"] == 2
    assert lines[0]["scope3_category"] is None
    assert lines[0]["tier"] == "subnational"
    assert lines[0]["vintage_gap"] == -1  # 2023 factor for 2024
    assert "CN-GD provincial location-based factor 2023" in lines[0]["reason"]


def test_the_region_comes_from_the_row_then_the_site_then_the_entity(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        entities=[entity("GRP", country="CN")],
        sites=[
            site("DC-GD", region="CN-GD"),
            site("DC-BJ", region="CN-BJ"),
            site("OFF-US", country="US"),
        ],
        activities=[
            activity("electricity", 1, "kWh", site="DC-GD", region="CN-SH"),
            activity("electricity", 1, "kWh", site="DC-BJ"),
            activity("electricity", 1, "MWh", site="OFF-US"),
            activity("electricity", 1, "kWh"),
        ],
    )
    lines = _lines(ws)
    assert [(line["region"], line["region_from"]) for line in lines] == [
        ("CN-SH", "row"),
        ("CN-BJ", "site"),
        ("US", "site"),  # the site importer stores the country as a site's default region
        ("CN", "entity country"),
    ]
    assert [line["factor_id"] for line in lines[:3]] == [
        "cn-mee:location:CN-SH:2023",
        "cn-mee:location:CN-BJ:2023",
        "epa-hub-2025:t6:us_average",
    ]


@pytest.mark.parametrize(
    ("gwp_set", "ch4", "n2o"), [("AR4", 25, 298), ("AR5", 28, 265), ("AR6", 27.9, 273)]
)
def test_per_gas_factors_are_weighted_by_the_runs_gwp_set(
    tmp_path: Path, gwp_set: str, ch4: float, n2o: float
) -> None:
    # EPA Hub 2025 Table 1, diesel: 10.21 kg CO2, 0.41 g CH4, 0.08 g N2O per US gallon.
    ws = new_workspace(
        tmp_path / "ws", activities=[activity("stationary.diesel", 1000, "gal", region="US")]
    )
    (line,) = _lines(ws, gwp_set=gwp_set)
    assert line["co2_kg"] == pytest.approx(10_210, rel=REL)
    assert line["ch4_kg"] == pytest.approx(0.41, rel=REL)
    assert line["n2o_kg"] == pytest.approx(0.08, rel=REL)
    assert line["co2e_kg"] == pytest.approx(10_210 + 0.41 * ch4 + 0.08 * n2o, rel=REL)
    assert line["co2e_from"] == "gases"
    assert line["gwp_set"] == gwp_set
    assert line["gwp_basis_mismatch"] is False


def test_a_published_co2e_under_the_runs_set_is_used_as_published(tmp_path: Path) -> None:
    # DESNZ 2024 UK electricity: 0.20705 kg CO2e/kWh under AR5, and per gas
    # 0.20493 CO2 + 0.00090 CO2e of CH4 + 0.00122 CO2e of N2O.
    ws = new_workspace(
        tmp_path / "ws", activities=[activity("electricity", 1000, "kWh", region="GB")]
    )
    (ar5,) = _lines(ws, gwp_set="AR5")
    assert ar5["co2e_kg"] == pytest.approx(207.05, rel=REL)
    assert ar5["co2e_from"] == "published"
    (ar6,) = _lines(ws, gwp_set="AR6")
    assert ar6["co2e_from"] == "gases"
    expected = 204.93 + 0.9 / 28 * 27.9 + 1.22 / 265 * 273
    assert ar6["co2e_kg"] == pytest.approx(expected, rel=1e-9)


def test_a_co2e_only_factor_under_another_set_is_flagged_not_reweighted(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        factors=[user_factor("u-paper", "purchased_goods.paper", "kg", 1.5, gwp_basis="AR5")],
        activities=[activity("purchased_goods.paper", 100, "kg")],
    )
    run = calculate(ws, gwp_set="AR6")
    (line,) = run.line_items().to_pylist()
    assert line["co2e_kg"] == pytest.approx(150, rel=REL)
    assert line["gwp_basis_mismatch"] is True
    assert line["co2e_from"] == "published"
    assert run.manifest["warnings"] == [
        "1 line(s) use factors published only as CO2e under AR5, not the run's GWP set: their "
        "published CO2e is used as it is (it cannot be re-weighted); see gwp_basis_mismatch"
    ]
    (same,) = _lines(ws, gwp_set="AR5")
    assert same["gwp_basis_mismatch"] is False


def test_spend_is_converted_at_the_reporting_years_rate_and_deflated_to_the_price_year(
    tmp_path: Path,
) -> None:
    # 100 万元 = 1,000,000 CNY; at 7.2 CNY/USD (a user rate for 2024) = 138,888.89 USD of
    # 2024; in 2022 USD × CPI-U 2022 / CPI-U 2024 = 292.655 / 313.689 (BLS CUUR0000SA0 annual
    # averages); USEEIO v1.3 NAICS 334111 (purchaser price, 2022 USD): 0.058 kg CO2e/USD.
    ws = new_workspace(
        tmp_path / "ws",
        fx=[{"year": 2024, "currency": "CNY", "per_usd": 7.2, "source": "treasury"}],
        activities=[activity("spend.naics.334111", 100, "万元", region="US")],
    )
    run = calculate(ws, gwp_set="AR5")
    (line,) = run.line_items().to_pylist()
    deflator = 292.655 / 313.689
    assert line["fx_rate"] == pytest.approx(1 / 7.2, rel=REL)
    assert line["deflator"] == pytest.approx(deflator, rel=REL)
    assert line["quantity_in_factor_unit"] == pytest.approx(1_000_000 / 7.2 * deflator, rel=REL)
    assert line["factor_unit"] == "USD"
    assert line["co2e_kg"] == pytest.approx(1_000_000 / 7.2 * deflator * 0.058, rel=REL)
    assert line["price_year_gap"] == -2
    assert line["scope"] == 3
    assert line["scope3_category"] == 1
    assert run.manifest["warnings"] == []
    (used,) = run.manifest["deflators"]["used"]
    assert used == {
        "currency": "USD",
        "country": "US",
        "series": "CUUR0000SA0",
        "reporting_year": 2024,
        "price_year": 2022,
        "price_index_reporting_year": 313.689,
        "price_index_price_year": 292.655,
        "deflator": pytest.approx(deflator, rel=REL),
    }
    assert "CPI-U" in run.manifest["deflators"]["sources"]["US"]["source"]


def test_a_spend_factor_in_a_currency_without_a_price_index_stops_the_run(
    tmp_path: Path,
) -> None:
    types = [{"activity": "services_spend", "name": "Services, spend-based",
              "dimension": "[currency]", "scope": 3, "scope3_category": 1}]  # fmt: skip
    ws = new_workspace(
        tmp_path / "ws",
        activity_types=types,
        factors=[
            user_factor("u-services", "services_spend", "CNY", 0.1, currency="CNY", price_year=2022)
        ],
        activities=[activity("services_spend", 1000, "CNY")],
    )
    with pytest.raises(PriceIndexMissingError) as caught:
        calculate(ws)
    assert str(caught.value) == (
        "spend factor u-services is in CNY of price year 2022 and the reporting year is 2024: "
        "no price index for country 'CN'; shipped: US. esgledger ships price indexes for US; "
        "use a spend factor of the reporting year's prices or in a currency with an index"
    )
    assert (caught.value.country, caught.value.year) == ("CN", 2022)
    assert list_runs(ws) == []


def test_price_basis_picks_purchaser_price_factors_unless_asked_otherwise(
    tmp_path: Path,
) -> None:
    # USEEIO v1.3 NAICS 334111: 0.058 (with margins, purchaser) and 0.030 (without margins,
    # producer) kg CO2e per 2022 USD.
    ws = new_workspace(
        tmp_path / "ws", activities=[activity("spend.naics.334111", 1000, "USD", region="US")]
    )
    purchaser = calculate(ws)
    (line,) = purchaser.line_items().to_pylist()
    assert line["factor_id"] == "useeio-1.3.0:334111"
    assert "purchaser price, as requested (price_basis=purchaser)" in line["reason"]
    assert purchaser.manifest["options"]["price_basis"] == "purchaser"
    producer = calculate(ws, price_basis="producer")
    (other,) = producer.line_items().to_pylist()
    assert other["factor_id"] == "useeio-1.3.0:334111:producer"
    assert other["co2e_kg"] == pytest.approx(line["co2e_kg"] / 0.058 * 0.030, rel=REL)
    assert producer.manifest["options"]["price_basis"] == "producer"
    assert producer.manifest["input_hash"] != purchaser.manifest["input_hash"]
    with pytest.raises(InputError, match=r"^Unknown price basis 'basic': choose one of "):
        calculate(ws, price_basis="basic")


def test_proxies_come_from_the_workspace_or_the_call_and_are_recorded(tmp_path: Path) -> None:
    # Kerosene has no factor in China or globally (diesel in litres now resolves to the China
    # default through its density: rule 11); GB's DESNZ per-litre factor is used as a flagged
    # proxy. The GB row resolves to the same factor directly.
    rows = [
        activity("stationary.kerosene", 100, "L", region="CN-GD", record_id="CN"),
        activity("stationary.kerosene", 100, "L", region="GB", record_id="GB"),
    ]
    ws = new_workspace(tmp_path / "ws", activities=rows)
    with pytest.raises(FactorNotFoundError):
        calculate(ws, category_3=False)
    cn, gb = _lines(ws, proxies={"CN": ["GB"]}, category_3=False)
    assert (cn["tier"], cn["factor_region"], cn["region"]) == ("proxy", "GB", "CN-GD")
    assert (gb["tier"], gb["factor_region"]) == ("country", "GB")
    assert cn["factor_id"] == gb["factor_id"]
    assert cn["co2e_kg"] == pytest.approx(gb["co2e_kg"], rel=REL)
    assert "used as a proxy (proxies CN → GB)" in cn["reason"]

    root = ws.root
    ws.close()
    config = root / "esgledger.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + '\n[factors]\nproxies = { CN = ["GB"] }\n',
        encoding="utf-8",
    )
    with Workspace.open(root) as configured:
        run = calculate(configured, category_3=False)
        assert run.manifest["options"]["proxies"] == {"CN": ["GB"]}
        assert run.line_items().column("tier").to_pylist() == ["proxy", "country"]
        none = calculate(configured, category_3=False, proxies={}, allow_unresolved=True)
        assert none.manifest["options"]["proxies"] == {}
        assert none.line_items().column("excluded").to_pylist() == [True, False]
        with pytest.raises(InputError, match=r"^Invalid proxies: CN cannot be its own proxy"):
            calculate(configured, proxies={"CN": ["CN"]})


def test_lines_carry_the_factor_region_and_the_sources_uncertainty(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        factors=[user_factor("u-paper", "purchased_goods.paper", "kg", 1.5, uncertainty_pct=12.5)],
        activities=[
            activity("purchased_goods.paper", 100, "kg"),
            activity("electricity", 1, "kWh", region="CN-XZ"),
        ],
    )
    paper, power = _lines(ws, gwp_set="AR5")
    assert (paper["factor_region"], paper["uncertainty_pct"]) == ("GLOBAL", 12.5)
    # no provincial factor for Tibet: the Southwest grid region's
    assert (power["region"], power["factor_region"]) == ("CN-XZ", "CN-GRID-SOUTHWEST")
    assert power["uncertainty_pct"] is None


def test_a_missing_exchange_rate_stops_the_run(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws", activities=[activity("spend.naics.334111", 1000, "TWD", region="US")]
    )
    with pytest.raises(FxRateMissingError, match=r"^No exchange rate for TWD in 2024 \(the table"):
        calculate(ws)
    assert list_runs(ws) == []


def test_keys_without_a_factor_stop_the_run_and_are_all_listed(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        activities=[
            activity("electricity", 1, "kWh", region="CN-GD"),
            activity("purchased_goods.steel", 5, "t"),
            activity("purchased_goods.steel", 6, "t"),
            activity("purchased_goods.glass", 1, "kg"),
        ],
    )
    with pytest.raises(FactorNotFoundError) as caught:
        calculate(ws)
    assert not isinstance(caught.value, StrictFallbackError)
    message = str(caught.value)
    assert message.startswith(
        "2 activity key(s) have no emission factor (3 row(s)); nothing was calculated "
        "(no row is ever counted as zero):\n"
        "  - activity purchased_goods.steel, region CN, unit t, 2 row(s): "
    )
    assert "\n  - activity purchased_goods.glass, region CN, unit kg, 1 row(s): " in message
    assert caught.value.activity == "purchased_goods.steel"
    assert len(caught.value.tried) == 2
    assert list_runs(ws) == []
    assert not (ws.lake / "runs").exists() or not any((ws.lake / "runs").iterdir())


def test_the_unresolved_error_names_the_command_line_fixes(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws", activities=[activity("stationary.kerosene", 1_000, "L", region="CN-GD")]
    )
    with pytest.raises(FactorNotFoundError) as caught:
        calculate(ws)
    message = str(caught.value)
    assert "allow_unresolved=True" not in message  # Python syntax is not a CLI fix
    assert message.splitlines()[-5:] == [
        "Fix, one of:",
        "  - add factors: esgledger import WS FILE --kind factors (template: esgledger "
        "template factors --out factors.xlsx);",
        "  - let another region's factors stand in, flagged as tier proxy: esgledger calculate "
        'WS --proxy CN=GB, or in esgledger.toml [factors] proxies = { CN = ["GB"] } (preview: '
        "esgledger factors resolve WS --activity stationary.kerosene --region CN-GD --unit 'L' "
        "--proxy CN=GB);",
        "  - record the rows as excluded lines (never as zero): esgledger calculate WS "
        "--allow-unresolved;",
        "  - or correct the rows (activity, region, unit).",
    ]


def test_allow_unresolved_records_excluded_lines_with_the_reason(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        activities=[
            activity("electricity", 10, "kWh", region="CN-GD"),
            activity("purchased_goods.steel", 5, "t"),
        ],
    )
    run = calculate(ws, allow_unresolved=True)
    good, bad = run.line_items().to_pylist()
    assert good["excluded"] is False
    assert bad["excluded"] is True
    assert bad["co2e_kg"] is None
    assert bad["factor_id"] is None
    assert bad["reason"].startswith("no factor for activity purchased_goods.steel")
    assert run.manifest["counts"]["excluded"] == 1
    assert run.manifest["warnings"][0].startswith(
        "1 row(s) of 1 activity key(s) have no emission factor and are excluded lines "
        "(allow_unresolved): activity purchased_goods.steel, region CN, unit t: no factor"
    )
    assert run.totals["totals"]["scope2_location"] == pytest.approx(10 * 0.4419 / 1000, rel=REL)


def test_strict_refuses_fallbacks_but_not_the_ipcc_gwp_of_a_gas(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        activities=[
            activity("electricity", 1, "kWh", region="CN-GD"),
            activity("refrigerant.R-410A", 2, "kg"),
        ],
    )
    lines = _lines(ws, strict="subnational")
    assert [line["tier"] for line in lines] == ["subnational", "global"]

    us = new_workspace(tmp_path / "us", activities=[activity("electricity", 1, "MWh", region="US")])
    with pytest.raises(StrictFallbackError) as caught:
        calculate(us, strict="subnational")
    assert str(caught.value).startswith(
        "1 activity key(s) were refused by strict (1 row(s)); nothing was calculated"
    )
    assert "  - activity electricity, region US, unit MWh, 1 row(s): strict: " in str(caught.value)


def test_scope_3_category_comes_from_the_row_else_the_activity_type(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        activities=[
            activity("spend.naics.334111", 10, "USD", region="US"),
            activity("spend.naics.334111", 10, "USD", region="US", scope3_category=2),
            activity("stationary.diesel", 1, "gal", region="US"),
        ],
    )
    lines = _lines(ws)
    assert [(line["scope"], line["scope3_category"]) for line in lines] == [
        (3, 1),
        (3, 2),
        (1, None),
    ]


def test_consolidation_shares_scale_the_consolidated_co2e(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        entities=[
            entity("GRP"),
            entity("JV", parent="GRP", ownership_pct=40, operational_control="false"),
        ],
        activities=[
            activity("electricity", 1000, "kWh", region="CN-GD", entity_code="GRP"),
            activity("electricity", 1000, "kWh", region="CN-GD", entity_code="JV"),
        ],
    )
    equity = _lines(ws, consolidation="equity")
    assert [line["consolidation_share"] for line in equity] == [1.0, 0.4]
    assert equity[1]["co2e_kg"] == pytest.approx(441.9, rel=REL)
    assert equity[1]["co2e_kg_consolidated"] == pytest.approx(441.9 * 0.4, rel=REL)
    operational = _lines(ws, consolidation="operational_control")
    assert [line["co2e_kg_consolidated"] for line in operational][1] == 0.0


def test_an_equity_investment_outside_the_control_boundary_is_scope_3_category_15(
    tmp_path: Path,
) -> None:
    """GHG Protocol Scope 3 Standard (2011), Table 5.4, category 15 (investments), minimum
    boundary for equity investments: the investee's scope 1 and 2 emissions times the
    reporter's equity share. A 40 % joint venture without operational control reports 0 %
    in scopes 1 and 2 under operational control; its share belongs in category 15 (and
    under the equity share approach in scopes 1 and 2, never in both)."""
    ws = new_workspace(
        tmp_path / "ws",
        entities=[
            entity("GRP"),
            entity("JV", parent="GRP", ownership_pct=40, operational_control="false"),
        ],
        activities=[
            activity("electricity", 1000, "kWh", region="CN-GD", entity_code="GRP"),
            activity("electricity", 1000, "kWh", region="CN-GD", entity_code="JV"),
            activity("stationary.diesel", 2, "t", region="CN-GD", entity_code="JV"),
        ],
    )
    run = calculate(ws, consolidation="operational_control")
    lines = run.line_items().to_pylist()
    jv = [line for line in lines if line["entity"] == "JV" and line["line_kind"] == "activity"]
    investment = [line for line in lines if line["line_kind"] == "investment"]
    assert [(line["scope"], line["scope3_category"]) for line in investment] == [(3, 15)] * 2
    assert [line["consolidation_share"] for line in investment] == [0.4, 0.4]
    gross = sum(line["co2e_kg"] for line in jv)
    assert gross > 441.9  # the electricity (441.9 kg, MEE CN-GD 2023) and the diesel
    assert run.totals["scope3_by_category"]["15"] == pytest.approx(0.4 * gross / 1000, rel=REL)
    assert sum(line["co2e_kg_consolidated"] for line in jv) == 0.0
    assert run.manifest["counts"]["category_15_lines"] == 2
    assert run.manifest["category_15_investments"]["JV"]["equity_share"] == 0.4

    equity = calculate(ws, consolidation="equity_share")
    assert equity.totals["scope3_by_category"]["15"] == 0.0
    assert not [
        line for line in equity.line_items().to_pylist() if line["line_kind"] == "investment"
    ]
    assert equity.totals["totals"]["scope1"] + equity.totals["totals"]["scope2_location"] == (
        pytest.approx(
            run.totals["totals"]["scope1"]
            + run.totals["totals"]["scope2_location"]
            + run.totals["scope3_by_category"]["15"],
            rel=1e-9,
        )
    )


def test_biogenic_co2_is_carried_and_kept_out_of_the_scopes(tmp_path: Path) -> None:
    # EPA Hub 2025 Table 1, wood and wood residuals: 93.8 kg biogenic CO2, 7.2 g CH4 and
    # 3.6 g N2O per mmBtu.
    ws = new_workspace(
        tmp_path / "ws",
        activities=[activity("stationary.wood_pellets", 100, "mmBtu", region="US")],
    )
    run = calculate(ws, gwp_set="AR5")
    (line,) = run.line_items().to_pylist()
    assert line["biogenic_co2_kg"] == pytest.approx(9380, rel=REL)
    assert line["co2_kg"] is None
    assert line["co2e_kg"] == pytest.approx(0.72 * 28 + 0.36 * 265, rel=REL)
    assert run.totals["totals"]["biogenic_co2"] == pytest.approx(9.38, rel=REL)
    assert run.totals["totals"]["scope1"] == pytest.approx((0.72 * 28 + 0.36 * 265) / 1000)


def test_process_gases_fill_their_gas_column(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        activities=[
            activity("process.CH4", 2, "t"),
            activity("process.N2O", 3, "kg"),
            activity("refrigerant.R-410A", 1, "kg"),
        ],
    )
    ch4, n2o, r410a = _lines(ws, gwp_set="AR5")
    assert (ch4["ch4_kg"], ch4["co2e_kg"]) == (2000.0, 2000.0 * 28)
    assert (n2o["n2o_kg"], n2o["co2e_kg"]) == (3.0, 3.0 * 265)
    assert r410a["ch4_kg"] is None
    assert r410a["factor_id"] == "ipcc-gwp:AR5:R-410A"


def test_bad_options_and_empty_workspaces_are_refused(tmp_path: Path) -> None:
    ws = new_workspace(tmp_path / "ws")
    with pytest.raises(WorkspaceError, match="has no approved activity data to calculate"):
        calculate(ws)
    with pytest.raises(InputError, match=r"^Unknown GWP set 'SAR': choose one of AR4, AR5, AR6\."):
        calculate(ws, gwp_set="SAR")


def test_the_line_items_file_is_parquet_in_the_lake(tmp_path: Path) -> None:
    ws = new_workspace(tmp_path / "ws", activities=[activity("electricity", 1, "kWh")])
    run = calculate(ws)
    assert run.line_items_path == ws.lake / "runs" / run.run_id / "line_items.parquet"
    assert pq.read_metadata(run.line_items_path).num_rows == 1


def test_reported_emissions_are_taken_as_reported_with_a_warning(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        activities=[activity("supplier.emissions", 5, "t", supplier="ACME", scope3_category=2)],
    )
    run = calculate(ws, gwp_set="AR6")
    (line,) = run.line_items().to_pylist()
    assert line["co2e_kg"] == 5000.0
    assert line["co2e_from"] == "reported"
    assert line["gwp_basis_mismatch"] is False
    assert line["scope3_category"] == 2
    assert run.manifest["warnings"] == [
        "1 line(s) are emissions reported by others (suppliers, lessees, investees ...), taken "
        "in CO2e as reported: the GWP set behind them is the reporter's, not necessarily the "
        "run's"
    ]


def test_category_3_lines_are_derived_from_scope_1_and_2_rows(tmp_path: Path) -> None:
    # DESNZ 2024 (AR5): UK electricity T&D losses 0.01830, WTT generation 0.04590, WTT T&D
    # 0.00397 kg CO2e/kWh; diesel (average biofuel blend) WTT per litre. No WTT factor exists
    # for China, so the CN-GD row has no category 3 line and the run says so.
    ws = new_workspace(
        tmp_path / "ws",
        activities=[
            activity("electricity", 1000, "kWh", region="GB", record_id="E"),
            activity("stationary.diesel", 100, "L", region="GB", record_id="D"),
            activity("electricity", 10, "kWh", region="CN-GD", record_id="C"),
            activity("refrigerant.R-410A", 1, "kg", region="GB", record_id="R"),
        ],
    )
    run = calculate(ws, gwp_set="AR5")
    lines = run.line_items().to_pylist()
    assert [(line["record_id"], line["line_kind"]) for line in lines] == [
        ("E", "activity"),
        ("E", "wtt"),
        ("E", "td_losses"),
        ("E", "wtt_td_losses"),
        ("D", "activity"),
        ("D", "wtt"),
        ("C", "activity"),
        ("R", "activity"),
    ]
    derived = [line for line in lines if line["line_kind"] != "activity"]
    assert {(line["scope"], line["scope3_category"]) for line in derived} == {(3, 3)}
    assert [line["co2e_kg"] for line in derived[:3]] == pytest.approx([45.9, 18.3, 3.97], rel=REL)
    assert derived[1]["factor_id"] == "desnz-2024:13_402_4000_5:electricity"
    assert derived[3]["factor_set"] == "desnz-2024"
    assert run.manifest["counts"]["category_3_lines"] == 4
    assert run.totals["scope3_by_category"]["3"] == pytest.approx(
        sum(line["co2e_kg"] for line in derived) / 1000, rel=REL
    )
    # The engine's last warning; market-based scope 2's warnings follow it.
    assert (
        "scope 3 category 3 is incomplete: 1 scope 1 or 2 row(s) have no well-to-tank or "
        "T&D-loss factor for their region (electricity in CN-GD (1)); add factors with method "
        "wtt, td_losses or wtt_td_losses to include them"
    ) in run.manifest["warnings"]
    without = calculate(ws, gwp_set="AR5", category_3=False)
    assert [line["line_kind"] for line in without.line_items().to_pylist()] == ["activity"] * 4
    assert without.manifest["options"]["category_3"] is False
    assert without.totals["scope3_by_category"]["3"] == 0


def test_money_is_converted_into_a_non_usd_factor_currency(tmp_path: Path) -> None:
    # A user spend factor per CNY (2024 prices); rows in USD and in 万元. With 7.2 CNY/USD:
    # 1,000 USD = 7,200 CNY; 1 万元 = 10,000 CNY.
    ws = new_workspace(
        tmp_path / "ws",
        fx=[{"year": 2024, "currency": "CNY", "per_usd": 7.2, "source": "treasury"}],
        activity_types=[
            {
                "activity": "services_spend",
                "name": "Services, spend-based",
                "dimension": "[currency]",
                "scope": 3,
                "scope3_category": 1,
            }
        ],
        factors=[
            user_factor("u-services", "services_spend", "CNY", 0.1, currency="CNY", price_year=2024)
        ],
        activities=[
            activity("services_spend", 1000, "USD"),
            activity("services_spend", 1, "万元"),
        ],
    )
    usd, wan = _lines(ws, gwp_set="AR5")
    assert usd["fx_rate"] == pytest.approx(7.2, rel=REL)
    assert usd["quantity_in_factor_unit"] == pytest.approx(7200, rel=REL)
    assert usd["co2e_kg"] == pytest.approx(720, rel=REL)
    assert wan["fx_rate"] == 1.0
    assert wan["quantity_in_factor_unit"] == pytest.approx(10_000, rel=REL)
    assert usd["price_year_gap"] == wan["price_year_gap"] == 0


def test_corrections_subtract_and_several_batches_add_up(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        activities=[activity("electricity", 1000, "kWh", region="CN-GD", record_id="A")],
    )
    import_rows(
        ws,
        "activities",
        [
            activity(
                "electricity", -200, "kWh", region="CN-GD", record_id="A-fix", correction="true"
            )
        ],
    )
    run = calculate(ws)
    lines = run.line_items().to_pylist()
    assert sorted(line["quantity"] for line in lines) == [-200.0, 1000.0]
    assert {line["correction"] for line in lines} == {True, False}
    assert run.totals["totals"]["scope2_location"] == pytest.approx(0.8 * 0.4419, rel=REL)
    assert len(run.manifest["inputs"]["activity_batches"]) == 2


# ---- double counting guard -----------------------------------------------------------------


def test_double_counting_is_flagged_never_dropped(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        entities=[entity("GRP"), entity("SUB", parent="GRP")],
        sites=[site("DC-GD", region="CN-GD"), site("DC-SH", region="CN-SH")],
        activities=[
            # 1. spend and supplier-reported emissions of ACME, same entity and year
            activity("spend.naics.334111", 1000, "USD", region="US", supplier="ACME",
                     record_id="S1"),
            activity("supplier.emissions", 2, "t", supplier="ACME", record_id="S2"),
            # another supplier's spend, and ACME's of an earlier quarter than its own
            # report, or of another entity: not flagged
            activity("spend.naics.334111", 1000, "USD", region="US", supplier="OTHER",
                     record_id="S3"),
            activity("supplier.emissions", 1, "t", supplier="ACME", entity_code="SUB",
                     period_start="2024-07-01", period_end="2024-12-31", record_id="S4"),
            activity("spend.naics.334111", 1000, "USD", region="US", supplier="ACME",
                     entity_code="SUB", period_start="2024-01-01", period_end="2024-03-31",
                     record_id="S5"),
            # 2. the same site's electricity as scope 2 and as leased-asset electricity
            activity("electricity", 10, "MWh", site="DC-GD", record_id="E1",
                     period_start="2024-01-01", period_end="2024-06-30"),
            activity("leased.electricity", 5, "MWh", site="DC-GD", record_id="E2",
                     period_start="2024-06-01", period_end="2024-06-30"),
            activity("electricity", 10, "MWh", site="DC-SH", record_id="E3"),
            # 3. diesel burnt in scope 1 and bought as refinery-product spend
            activity("stationary.diesel", 1, "t", record_id="F1"),
            activity("spend.naics.324110", 500, "USD", region="US", record_id="F2"),
        ],
    )  # fmt: skip
    run = calculate(ws, gwp_set="AR5", category_3=False)
    lines = {line["record_id"]: line for line in run.line_items().to_pylist()}
    flagged = {record for record, line in lines.items() if line["double_count_suspect"]}
    assert flagged == {"S1", "S2", "E1", "E2", "F1", "F2"}
    assert all(line["co2e_kg"] is not None and not line["excluded"] for line in lines.values())
    assert run.manifest["counts"]["lines"] == 10
    warnings = [w for w in run.manifest["warnings"] if w.startswith("double counting")]
    assert warnings == [
        "double counting suspected (supplier_spend_and_supplier_data): 1 spend-based row(s) "
        "and 1 supplier-reported or average-data row(s) share supplier, entity and "
        "overlapping periods (supplier ACME of GRP, 2024-01-01..2024-12-31); both are kept as "
        "they are: check that the spend excludes what the supplier or average data covers; "
        "see double_count_suspect",
        "double counting suspected (site_electricity_and_leased_electricity): 1 purchased "
        "electricity (scope 2) row(s) and 1 leased-asset electricity (scope 3 category 8) "
        "row(s) share site, entity and overlapping periods (site DC-GD of GRP, "
        "2024-01-01..2024-06-30; site DC-GD of GRP, 2024-06-01..2024-06-30); both are kept as "
        "they are: electricity of a site is scope 2 or category 8, not both; see "
        "double_count_suspect",
        "double counting suspected (petroleum_fuel_and_fuel_spend): 1 petroleum fuel (scope 1) "
        "row(s) and 1 petroleum-refinery spend (NAICS 324110) row(s) share entity and "
        "overlapping periods (GRP, 2024-01-01..2024-12-31); both are kept as they are: fuel "
        "burnt in scope 1 belongs in category 3, not in category 1 as spend; see "
        "double_count_suspect",
    ]
    assert [d["rule"] for d in run.manifest["double_counting"]] == [
        "supplier_spend_and_supplier_data",
        "site_electricity_and_leased_electricity",
        "petroleum_fuel_and_fuel_spend",
    ]


def test_no_double_counting_rule_applies_without_both_kinds_of_rows(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        activities=[
            activity("spend.naics.334111", 1000, "USD", region="US", supplier="ACME"),
            activity("stationary.natural_gas", 10, "GJ", region="US"),
        ],
    )
    run = calculate(ws)
    assert run.line_items().column("double_count_suspect").to_pylist() == [False, False]
    assert run.manifest["double_counting"] == []


def test_supplier_and_site_factors_apply_only_to_their_rows(tmp_path: Path) -> None:
    # Keys keep supplier and site only where such factors exist; rows of other suppliers
    # and sites share one key and get the general factor.
    ws = new_workspace(
        tmp_path / "ws",
        sites=[site("DC-GD", region="CN-GD"), site("DC-SZ", region="CN-GD")],
        factors=[
            user_factor("u-steel", "purchased_goods.steel", "kg", 2.0),
            user_factor("u-steel-acme", "purchased_goods.steel", "kg", 1.5, supplier="ACME",
                        method="supplier"),
            user_factor("u-grid-dc", "electricity", "kWh", 0.1, site="DC-GD", region="CN",
                        method="location"),
        ],
        activities=[
            activity("purchased_goods.steel", 10, "kg", supplier="ACME"),
            activity("purchased_goods.steel", 10, "kg", supplier="OTHER"),
            activity("purchased_goods.steel", 10, "kg", supplier="THIRD"),
            activity("electricity", 100, "kWh", site="DC-GD"),
            activity("electricity", 100, "kWh", site="DC-SZ"),
            activity("travel.rail", 100, "pkm", region="GB", supplier="RAILCO"),
        ],
    )  # fmt: skip
    run = calculate(ws, gwp_set="AR5", category_3=False)
    lines = run.line_items().to_pylist()
    assert [
        (line["supplier"], line["site"], line["factor_id"], line["tier"]) for line in lines
    ] == [
        ("ACME", None, "u-steel-acme", "supplier"),
        ("OTHER", None, "u-steel", "global"),
        ("THIRD", None, "u-steel", "global"),
        (None, "DC-GD", "u-grid-dc", "site"),
        (None, "DC-SZ", "cn-mee:location:CN-GD:2023", "subnational"),
        ("RAILCO", None, lines[5]["factor_id"], "country"),
    ]
    assert [line["co2e_kg"] for line in lines[:4]] == pytest.approx([15.0, 20.0, 20.0, 10.0])
    # steel: two keys (ACME, any other supplier); electricity: two (DC-GD, any other site);
    # rail: one (no supplier-specific rail factor)
    assert run.manifest["counts"]["keys"] == 5


def test_proxies_price_category_3_only_when_the_workspace_opts_in(tmp_path: Path) -> None:
    # No well-to-tank or T&D-loss factor exists for China. With proxies CN → GB the primary
    # line may use a GB factor, but by default the UK upstream factors never price Chinese
    # grid electricity: category 3 uses proxies only when the run or workspace opts in.
    rows = [
        activity("electricity", 1000, "MWh", region="CN-GD", record_id="CN"),
        activity("electricity", 1000, "MWh", region="GB", record_id="GB"),
    ]
    ws = new_workspace(tmp_path / "ws", activities=rows)

    def derived(run: Any) -> dict[tuple[str, str], dict[str, Any]]:
        return {
            (line["record_id"], line["line_kind"]): line
            for line in run.line_items().to_pylist()
            if line["line_kind"] != "activity"
        }

    default = calculate(ws, proxies={"CN": ["GB"]})
    assert default.manifest["options"]["category_3_proxies"] is False
    assert sorted(derived(default)) == [
        ("GB", "td_losses"),
        ("GB", "wtt"),
        ("GB", "wtt_td_losses"),
    ]
    assert any(
        "electricity in CN-GD (1)" in w and w.startswith("scope 3 category 3 is incomplete")
        for w in default.manifest["warnings"]
    )
    opted = calculate(ws, proxies={"CN": ["GB"]}, category_3_proxies=True)
    assert opted.manifest["options"]["category_3_proxies"] is True
    lines = derived(opted)
    assert len(lines) == 6
    for kind in ("wtt", "td_losses", "wtt_td_losses"):
        cn, gb = lines["CN", kind], lines["GB", kind]
        assert (cn["tier"], cn["factor_region"]) == ("proxy", "GB")
        assert cn["factor_id"] == gb["factor_id"]
        assert cn["co2e_kg"] == pytest.approx(gb["co2e_kg"], rel=REL)
    assert opted.manifest["input_hash"] != default.manifest["input_hash"]

    root = ws.root
    ws.close()
    config = root / "esgledger.toml"
    base = config.read_text(encoding="utf-8")
    config.write_text(
        base + '\n[factors]\nproxies = { CN = ["GB"] }\ncategory_3_proxies = true\n',
        encoding="utf-8",
    )
    with Workspace.open(root) as configured:
        assert configured.category_3_proxies is True
        run = calculate(configured)
        assert run.manifest["options"]["category_3_proxies"] is True
        assert len(derived(run)) == 6
        assert len(derived(calculate(configured, category_3_proxies=False))) == 3
    config.write_text(base + '\n[factors]\ncategory_3_proxies = "yes"\n', encoding="utf-8")
    wanted = r"\[factors\] category_3_proxies must be true or false \(value: 'yes'\)"
    with Workspace.open(root) as wrong, pytest.raises(WorkspaceError, match=wanted):
        calculate(wrong)
