"""``explain(run, key) -> Explanation``: one activity row, from the imported file to the
consolidated CO2e, in English and Chinese; ambiguous record ids list the choices."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _inventory_support import activity, entity, import_rows, new_workspace, site, user_factor
from esgledger.errors import InputError
from esgledger.inventory import calculate
from esgledger.inventory.explain import AmbiguousRecordError, Explanation, explain
from esgledger.inventory.runs import Run


@pytest.fixture
def run(tmp_path: Path) -> Run:
    """A group with a 60 % equity joint venture; a data centre in Guangdong billed in 万千瓦时
    with a user factor of 0.5 kg CO2e/kWh (AR5); diesel in the US (EPA Hub 2025); the record
    id E-1 used by both entities (allowed: record ids are unique per entity)."""
    ws = new_workspace(
        tmp_path / "ws",
        entities=[
            entity("GRP"),
            entity("JV", parent="GRP", ownership_pct=60, operational_control="false"),
        ],
        sites=[site("DC-GD", "JV", region="CN-GD")],
        factors=[user_factor("TEST-GD", "electricity", "kWh", 0.5, region="CN-GD")],
        activities=[
            activity(
                "electricity", 1.2, "万千瓦时", entity_code="JV", site="DC-GD", record_id="E-1"
            ),
            activity("stationary.diesel", 100, "gal", region="US", record_id="D-1"),
        ],
    )
    import_rows(ws, "activities", [activity("stationary.diesel", 1, "gal", region="US",
                                             record_id="E-1")])  # fmt: skip
    calculated = calculate(ws, gwp_set="AR5", consolidation="equity", category_3=False)
    ws.close()
    return calculated


def _only(explanation: Explanation) -> dict[str, object]:
    (item,) = explanation.lines
    return item.line


def test_the_explanation_follows_the_row_from_file_to_consolidated_co2e(run: Run) -> None:
    found = explain(run, "JV:E-1")
    assert found.file_name == run.manifest["batch_files"][found.batch_id]
    assert found.file_name is not None
    assert found.file_name.startswith("activities-")
    assert found.file_name.endswith(".csv")
    assert found.row_number == 2  # header is row 1
    assert found.activity_row is not None
    assert found.activity_row["quantity"] == 1.2
    assert found.activity_row["unit"] == "万千瓦时"
    (item,) = found.lines
    line = item.line
    assert line["factor_id"] == "TEST-GD"
    # 1.2 万千瓦时 = 1.2 x 10,000 kWh = 12,000 kWh; x 0.5 kg/kWh = 6,000 kg CO2e; the JV is
    # held 60 %: 3,600 kg CO2e consolidated.
    assert item.to_factor_unit == pytest.approx(10_000, rel=1e-12)
    assert line["quantity_in_factor_unit"] == pytest.approx(12_000, rel=1e-12)
    assert line["co2e_kg"] == pytest.approx(6_000, rel=1e-12)
    assert line["co2e_kg_consolidated"] == pytest.approx(3_600, rel=1e-12)
    assert found.co2e_kg_consolidated == pytest.approx(3_600, rel=1e-12)
    assert item.consolidation_reason == "60 % equity via GRP > JV"
    assert item.vintage == 2024
    text = found.to_text()
    assert "1.2 万千瓦时 × 10,000 kWh/万千瓦时 = 12,000 kWh" in text
    assert "Consolidation share: 60 % — 60 % equity via GRP > JV" in text
    assert "CO2e consolidated: 6,000 kg × 0.6 = 3,600 kg CO2e (3.6 t)" in text
    assert "vintage: 2024 (years from the reporting year: +0)" in text
    assert f"file {found.file_name}, row 2 (batch {found.batch_id})" in text


def test_gases_are_weighted_by_the_runs_gwp_set(run: Run) -> None:
    found = explain(run, "D-1")
    line = _only(found)
    # EPA GHG Emission Factors Hub 2025, Table 1, distillate fuel oil No. 2: 10.21 kg CO2,
    # 0.41 g CH4 and 0.08 g N2O per US gallon; 100 gal under AR5 (CH4 28, N2O 265):
    # 1,021 + 0.041 x 28 + 0.008 x 265 = 1,024.268 kg CO2e.
    assert line["co2e_kg"] == pytest.approx(1_024.268, rel=1e-12)
    text = found.to_text()
    assert "CH4: 0.041 kg × 28 = 1.148 kg CO2e" in text
    assert "N2O: 0.008 kg × 265 = 2.12 kg CO2e" in text
    assert "Gases × GWP (AR5):" in text
    assert "edition: 2025" in text


def test_the_text_is_bilingual(run: Run) -> None:
    zh = explain(run, "D-1").to_text("zh-CN")
    assert "排放因子: epa-hub-2025:t1:distillate_fuel_oil_no_2:gallon" in zh
    assert "合并方法 股权比例法" in zh
    assert "分气体 × GWP (AR5):" in zh
    with pytest.raises(InputError, match=r"^Unknown language 'fr': choose en or zh-CN\.$"):
        explain(run, "D-1").to_text("fr")


def test_an_ambiguous_record_id_lists_the_choices(run: Run) -> None:
    with pytest.raises(AmbiguousRecordError) as caught:
        explain(run, "E-1")
    choices = caught.value.choices
    assert sorted(c["entity"] for c in choices) == ["GRP", "JV"]
    assert str(caught.value).startswith(
        "record id 'E-1' is used by 2 activity rows of different entities; name one as "
        "BATCH:ROW or ENTITY:RECORD_ID: "
    )
    for choice in choices:
        by_row = explain(run, f"{choice['batch_id']}:{choice['row_number']}")
        assert _only(by_row)["entity"] == choice["entity"]
    assert _only(explain(run, "GRP:E-1"))["activity"] == "stationary.diesel"


def test_unknown_keys_are_refused(run: Run) -> None:
    with pytest.raises(InputError, match=f"^run {run.run_id} has no line with record id 'nope'"):
        explain(run, "nope")
    with pytest.raises(
        InputError, match=f"^run {run.run_id} has no line for row 99 of batch b-000000000000$"
    ):
        explain(run, "b-000000000000:99")


def test_the_explanation_is_json_ready(run: Run) -> None:
    data = json.loads(json.dumps(explain(run, "JV:E-1").to_dict()))
    assert data["lines"][0]["line"]["period_start"] == "2024-01-01"
    assert data["co2e_kg_consolidated"] == pytest.approx(3_600, rel=1e-12)


def test_derived_category_3_lines_are_explained_after_the_activity_line(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        entities=[entity("GRP", country="GB")],
        activities=[activity("electricity", 1000, "kWh", record_id="E-1")],
    )
    found = explain(calculate(ws, gwp_set="AR5"), "E-1")
    kinds = [item.line["line_kind"] for item in found.lines]
    assert kinds == ["activity", "wtt", "td_losses", "wtt_td_losses"]
    assert "scope 3 category 3, T&D losses" in found.to_text()


def test_a_spend_line_shows_the_exchange_rate_and_the_price_year_gap(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        fx=[{"year": 2024, "currency": "CNY", "per_usd": 7.2, "source": "treasury"}],
        activities=[activity("spend.naics.334111", 100, "万元", region="US", record_id="S-1")],
    )
    text = explain(calculate(ws, gwp_set="AR5"), "S-1").to_text()
    # 100 万元 = 1,000,000 CNY; at 7.2 CNY/USD (the user's 2024 rate) = 138,888.888889 USD
    # of 2024; USEEIO v1.3 factors are in 2022 prices: × CPI-U 2022 / 2024 = 292.655 /
    # 313.689 = 0.932946 (BLS CUUR0000SA0 annual averages) = 129,575.878586 USD of 2022.
    assert "100 万元 × 1,295.758786 USD/万元 = 129,575.878586 USD" in text
    assert "exchange rate of the reporting year: 0.138889 USD/CNY" in text
    assert "price year gap [years]: -2" in text
    assert "(price index of the price year / reporting year): 0.932946" in text
    assert "not deflated" not in text
