"""Metrics derived from an inventory run (hand-built line items, hand-checked figures)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from _line_item_builder import line, table
from esgledger.disclosure.catalogue import Catalogue, load_catalogue
from esgledger.disclosure.derived import Derived, derive, energy_type
from esgledger.disclosure.values import validate_values


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def summary(**totals: float) -> dict[str, Any]:
    base = {
        "scope1": 1000.0,
        "scope2_location": 3000.0,
        "scope2_market": 2000.0,
        "scope3": 6000.0,
        "total": 10000.0,
        "biogenic_co2": 0.0,
    }
    base.update(totals)
    categories = {str(n): 0.0 for n in range(1, 16)}
    categories.update({"1": 5000.0, "6": 1000.0})
    return {
        "unit": "t CO2e",
        "totals": base,
        "scope3_by_category": categories,
        "scope3_completeness": {
            n: {"status": "reported" if n in ("1", "6", "7") else "not reported"}
            for n in categories
        },
        "renewable_share": {"group": 0.4},
        "run": {
            "run_id": "r-0123456789ab-20260101T000000Z",
            "reporting_year": 2025,
            "gwp_set": "AR6",
            "consolidation": "operational_control",
            "factor_sets_used": {"cn-mee": 3, "cn-defaults": 2},
        },
    }


def lines() -> pa.Table:
    return table(
        [
            # 2,000 MWh of electricity, half of it in a 50 % joint venture: 1,500 MWh
            line(1000.0, quantity=1_000_000.0, unit="kWh"),
            line(1000.0, quantity=1_000.0, unit="MWh", consolidation_share=0.5, entity="JV"),
            # 10 t diesel with a China default factor: NCV 42.652 GJ/t -> 426.52 GJ
            line(
                31_000.0,
                activity="stationary.diesel",
                scope=1,
                quantity=10.0,
                unit="t",
                factor_set="cn-defaults",
                co2_kg=30_959.1,
                ch4_kg=1.2,
                n2o_kg=0.25,
            ),
            # 20,000 Nm3 natural gas with a China default factor: 2 x 389.31 GJ
            line(
                43_300.0,
                activity="stationary.natural_gas",
                scope=1,
                quantity=20_000.0,
                unit="Nm3",
                factor_set="cn-defaults",
                co2_kg=43_300.0,
            ),
            # 1,000 L of diesel: 0.83368 t (shipped density) x 42.652 GJ/t -> 35.558 GJ
            line(2_700.0, activity="mobile.diesel", scope=1, quantity=1_000.0, unit="L"),
            # 500 kg of wood pellets: no NCV shipped -> listed, not guessed
            line(0.0, activity="stationary.wood_pellets", scope=1, quantity=500.0, unit="kg"),
            # 360 GJ of heat = 100 MWh
            line(50_000.0, activity="heat", quantity=360.0, unit="GJ"),
            line(500.0, activity="refrigerant.R-410A", scope=1, quantity=0.25, unit="kg"),
            line(
                10.0,
                activity="water.supply",
                scope=3,
                scope3_category=1,
                quantity=8000.0,
                unit="m3",
            ),
            line(5.0, activity="leased.electricity", scope=3, scope3_category=8, quantity=9e9),
        ]
    )


def typed(catalogue: Catalogue, entities: dict[str, tuple[float, float]]) -> pa.Table:
    rows = []
    for entity, (revenue, employees) in entities.items():
        rows.append(
            {"metric": "revenue", "entity": entity, "year": 2025, "value": revenue, "unit": "CNY"}
        )
        rows.append({"metric": "employees", "entity": entity, "year": 2025, "value": employees})
    return validate_values(rows, catalogue, entities=set(entities), reporting_year=2025)


@pytest.fixture(scope="module")
def derived(catalogue: Catalogue) -> Derived:
    values = typed(catalogue, {"GRP": (500e6, 2000.0)})
    targets = [
        {"id": "SBTi-2030", "name": "Scope 1+2 -42 % by 2030", "reduction": 0.42},
        {"id": "RE-2030", "name": "100 % renewable electricity", "target_share": 1.0},
    ]
    return derive(summary(), lines(), catalogue, values=values, targets=targets)


def value(derived: Derived, code: str, breakdown: str = "") -> float:
    found = derived.get(code, breakdown)
    assert found is not None, (code, breakdown)
    assert found.value is not None
    return found.value


def test_scope_totals_fan_out_to_every_framework(derived: Derived) -> None:
    for code in ("D.metrics.scope1", "S2.29a.scope1", "GRI 305-1"):
        assert value(derived, code) == 1000.0
    assert value(derived, "D.metrics.scope2", "method=location") == 3000.0
    assert value(derived, "GRI 305-2", "method=market") == 2000.0
    assert value(derived, "S2.29a.scope3") == 6000.0
    categories = [v.breakdown for v in derived.for_metric("D.metrics.scope3") if v.breakdown]
    assert categories == ["category=1", "category=6", "category=7"]  # reported ones, 7 at 0 t


def test_a12_with_intensities(derived: Derived) -> None:
    assert value(derived, "A1.2", "scope=1") == 1000.0
    assert value(derived, "A1.2", "method=location;scope=1+2") == 4000.0
    assert value(derived, "A1.2", "method=market;scope=1+2") == 3000.0
    # 4,000 t / 500 million CNY = 8 t per million CNY; 4,000 t / 2,000 employees = 2 t
    per_revenue = derived.get("A1.2", "method=location;per=revenue;scope=1+2")
    assert per_revenue is not None
    assert per_revenue.value == pytest.approx(8.0, rel=1e-12)
    assert per_revenue.unit_label == "t CO2e / million CNY"
    assert value(derived, "A1.2", "method=location;per=employee;scope=1+2") == 2.0
    assert value(derived, "GRI 305-4", "method=location;per=employee;scope=1+2+3") == 5.0


def test_every_value_names_its_run_and_sum(derived: Derived) -> None:
    scope1 = derived.get("A1.2", "scope=1")
    assert scope1 is not None
    assert scope1.source["run_id"] == "r-0123456789ab-20260101T000000Z"
    assert scope1.source["factor_sets"] == ["cn-defaults", "cn-mee"]
    assert scope1.source["gwp_set"] == "AR6"
    assert scope1.source["what"] == "totals.scope1"
    row = derived.table().to_pylist()[0]
    assert json.loads(row["source"])["run_id"] == "r-0123456789ab-20260101T000000Z"


def test_energy_by_type_in_thousands_of_kwh(derived: Derived) -> None:
    # electricity 1,000 MWh + 0.5 x 1,000 MWh; diesel (426.52 GJ + 1,000 L x 0.83368 kg/L
    # x 42.652 GJ/t) / 3.6 (GB/T 32150-2015 Table B.1 NCV, the DESNZ-implied density of
    # fuel_properties.csv); gas 778.62 GJ / 3.6
    litres_gj = 1000 * 0.83368 / 1000 * 42.652
    assert value(derived, "A2.1", "type=electricity") == pytest.approx(1500.0, rel=1e-12)
    assert value(derived, "A2.1", "type=diesel") == pytest.approx(
        (426.52 + litres_gj) / 3.6, rel=1e-12
    )
    assert value(derived, "A2.1", "type=natural_gas") == pytest.approx(778.62 / 3.6, rel=1e-12)
    assert value(derived, "A2.1", "type=heat") == pytest.approx(100.0, rel=1e-12)
    total = 1500.0 + 100.0 + (426.52 + litres_gj + 778.62) / 3.6
    assert value(derived, "A2.1") == pytest.approx(total, rel=1e-12)
    item = derived.get("A2.1", "type=electricity")
    assert item is not None
    assert (item.unit, item.unit_label) == ("1000 kWh", "'000 kWh")
    assert value(derived, "GRI 302-1", "type=heat") == pytest.approx(360.0, rel=1e-12)
    assert value(derived, "TC-SI-130a.1.energy") == pytest.approx(total * 3.6, rel=1e-12)
    assert value(derived, "TC-SI-130a.1.grid") == pytest.approx(100 * 1500.0 / total, rel=1e-12)
    ncv = derived.get("A2.1", "type=diesel")
    assert ncv is not None
    assert ncv.source["ncv"][0]["ncv_unit"] in ("GJ/t", "GJ/(10000 Nm3)")


def test_litres_convert_and_what_cannot_is_listed_not_guessed(derived: Derived) -> None:
    # Litres of diesel convert through the shipped density (they were listed as not
    # convertible before); wood pellets have no shipped NCV and are listed.
    (missing,) = derived.not_convertible
    assert (missing.activity, missing.unit, missing.quantity, missing.lines) == (
        "stationary.wood_pellets",
        "kg",
        500.0,
        1,
    )
    assert "no density or net calorific value" in missing.reason
    assert any("stationary.wood_pellets in kg" in n.reason for n in derived.not_computed)
    diesel = derived.get("A2.1", "type=diesel")
    assert diesel is not None
    litres = [r for r in diesel.source["ncv"] if r["unit"] == "L"]
    assert "density 0.83368 t/m3" in litres[0]["conversion"]


def test_gases_water_re_share_and_targets(derived: Derived) -> None:
    assert value(derived, "A1.1", "gas=CO2;scope=1") == pytest.approx(74.2591, rel=1e-12)
    assert value(derived, "A1.1", "gas=CH4;scope=1") == pytest.approx(0.0012, rel=1e-12)
    refrigerants = derived.get("A1.1", "gas=refrigerants;scope=1")
    assert refrigerants is not None
    assert (refrigerants.value, refrigerants.unit_label) == (0.5, "t CO2e")
    assert value(derived, "A2.2") == 8000.0
    assert value(derived, "GRI 303-5") == pytest.approx(8.0, rel=1e-12)  # megalitres
    assert value(derived, "TC-IM-130a.1.renewable") == pytest.approx(40.0, rel=1e-12)
    target = derived.get("D.targets", "target=SBTi-2030")
    assert target is not None
    assert target.value == pytest.approx(42.0, rel=1e-12)
    assert target.text == "Scope 1+2 -42 % by 2030"
    assert target.source["target"]["reduction"] == 0.42
    renewable = derived.get("S2.33", "target=RE-2030")
    assert renewable is not None
    assert renewable.value == 100.0


def test_missing_denominators_and_market_are_said(catalogue: Catalogue) -> None:
    result = derive(summary(scope2_market=None), lines(), catalogue)  # type: ignore[arg-type]
    reasons = [(n.derivation, n.reason) for n in result.not_computed]
    assert ("ghg.scope2", "the run has no market-based scope 2") in reasons
    assert (
        "ghg.scope1_2",
        "intensity per revenue: no typed values given (metric 'revenue')",
    ) in reasons
    assert ("targets", "no targets given") in reasons
    assert result.get("A1.2", "method=market;scope=2") is None


def test_several_entities_need_the_group_named(catalogue: Catalogue) -> None:
    values = typed(catalogue, {"GRP": (500e6, 2000.0), "HK1": (100e6, 300.0)})
    result = derive(summary(), lines(), catalogue, values=values)
    assert any("name the group entity" in n.reason for n in result.not_computed)
    named = derive(summary(), lines(), catalogue, values=values, entity="HK1")
    assert value(named, "A1.2", "method=location;per=employee;scope=1+2") == pytest.approx(
        4000.0 / 300.0, rel=1e-12
    )


def test_parquet_path_gives_the_same_values(catalogue: Catalogue, tmp_path: Path) -> None:
    path = tmp_path / "line_items.parquet"
    pq.write_table(lines(), path)
    from_file = derive(summary(), path, catalogue)
    from_table = derive(summary(), lines(), catalogue)
    assert from_file.values == from_table.values


@pytest.mark.parametrize(
    ("activity", "expected"),
    [
        ("electricity", "electricity"),
        ("mobile.cng", "natural_gas"),
        ("stationary.coal", "coal"),
        ("leased.electricity", None),
        ("refrigerant.R-32", None),
    ],
)
def test_energy_type(activity: str, expected: str | None) -> None:
    assert energy_type(activity) == expected


def test_cubic_metres_of_gas_count_at_the_runs_reference_conditions(catalogue: Catalogue) -> None:
    # 10,000 立方米 of natural gas at a Chinese site, read at the run's gas_volume_reference
    # (20 °C, 101.325 kPa: 10^4 x 273.15/293.15 Nm3) x 389.31 GJ/10^4 Nm3 (GB/T 32150-2015
    # Table B.1) / 3.6 GJ/MWh; by default (0 °C) the same reading is 10^4 Nm3.
    gas = table(
        [
            line(
                21_000.0,
                activity="stationary.natural_gas",
                scope=1,
                quantity=10_000.0,
                unit="立方米",
            )
        ]
    )
    at_20 = summary()
    at_20["run"]["options"] = {"gas_volume_reference": "20C"}
    for run, expected in (
        (at_20, 389.31 * 273.15 / 293.15 / 3.6),
        (summary(), 389.31 / 3.6),
    ):
        derived = derive(run, gas, catalogue)
        assert value(derived, "A2.1", "type=natural_gas") == pytest.approx(expected, rel=1e-12)
        assert derived.not_convertible == ()


def test_carbon_inclusion_metrics_stay_out_of_every_scope_total(catalogue: Catalogue) -> None:
    """INCL. items come from the programme's results (avoided emissions of other people,
    reported separately from scopes 1-3, GHG Protocol Corporate Standard); giving them
    changes no ghg.* value, and nothing inclusion.* is derived without a programme."""
    import datetime as dt

    import pyarrow as pa

    from esgledger.inclusion.results import results_from

    settled = [
        {"operator": "sz", "trip_id": str(n), "account": f"p_{n % 2}", "mode": mode,
         "trip_date": dt.date(2025, month, 1), "status": "settled", "reason_code": None,
         "reduction_mg": mg, "methodology": "shenzhen-transit", "methodology_version": "2021.1",
         "factor_id": f"shenzhen-transit/2021.1/{mode}", "factor_value": "46.7", "basis": "pkm"}
        for n, (mode, month, mg) in enumerate(
            [("metro", 1, 560_400), ("metro", 2, 560_400), ("bus_electric", 2, 161_400)]
        )
    ]  # fmt: skip
    results = results_from(
        pa.Table.from_pylist(settled),
        [("issuance", "pt", "pool", "user", 1281), ("redemption", "pt", "user", "merchant", 9)],
        period_start=dt.date(2025, 1, 1),
        period_end=dt.date(2025, 12, 31),
    )
    plain = derive(summary(), lines(), catalogue)
    with_programme = derive(summary(), lines(), catalogue, inclusion=results)
    assert not [v for v in plain.values if v.derivation.startswith("inclusion.")]
    assert [v for v in with_programme.values if not v.derivation.startswith("inclusion.")] == list(
        plain.values
    )
    assert value(with_programme, "INCL.participants") == 2
    assert value(with_programme, "INCL.trips") == 3
    assert value(with_programme, "INCL.trips", "status=settled") == 3
    # 2 x 560.4 g + 161.4 g = 1 282.2 g = 0.0012822 t
    assert value(with_programme, "INCL.avoided") == pytest.approx(0.0012822, abs=1e-12)
    assert value(with_programme, "INCL.avoided", "mode=metro") == pytest.approx(0.0011208)
    assert value(with_programme, "INCL.avoided", "month=2025-02") == pytest.approx(0.0007218)
    assert with_programme.get("INCL.avoided").unit_label == "t CO2"  # type: ignore[union-attr]
    assert value(with_programme, "INCL.points.issued") == 1281
    assert value(with_programme, "INCL.points.redeemed") == 9
    assert plain.not_computed == with_programme.not_computed
