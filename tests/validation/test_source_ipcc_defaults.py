"""IPCC 2006 default fuel factors (shipped set ``ipcc-2006``, region GLOBAL).

References: 2006 IPCC Guidelines for National Greenhouse Gas Inventories, Vol. 2 (Energy),
ch. 1 Table 1.2 (default net calorific values, TJ/Gg) and Table 1.4 (default CO2 emission
factors, kg/TJ), ch. 2 Tables 2.2 and 2.4 (CH4 and N2O defaults, kg/TJ), as given in
standards-and-data.md §4.4, where every value is marked [M] (medium confidence, not re-verified
against the PDF); worked example §5.5: 1,000 t diesel = 43.0 TJ x 74,100 kg/TJ = 3,186.3 t CO2.
"""

from __future__ import annotations

import pytest
from _sources_common import assert_tables_equal, check_vocabulary

from esgledger.factors import FactorLibrary, resolve
from esgledger.factors.sources import defaults
from esgledger.factors.sources._common import read_shipped_set, shipped_set_meta
from esgledger.regions import chain
from esgledger.taxonomy import Taxonomy

TAXONOMY = Taxonomy.shipped()
LIBRARY = FactorLibrary.shipped()


def _shipped() -> dict[str, dict[str, object]]:
    return {str(r["factor_id"]): r for r in read_shipped_set(defaults.IPCC_SET_ID).to_pylist()}


# §4.4 table: fuel -> (NCV [TJ/Gg], CO2 [kg/TJ]); the activities each fuel is filed under.
SECTION_4_4 = {
    "stationary.diesel": (43.0, 74_100),
    "mobile.diesel": (43.0, 74_100),
    "mobile.petrol": (44.3, 69_300),
    "stationary.lpg": (47.3, 63_100),
    "mobile.lpg": (47.3, 63_100),
    "mobile.jet_fuel": (44.1, 71_500),
    "stationary.fuel_oil": (40.4, 77_400),
    "stationary.coal": (25.8, 94_600),
}
# Hand arithmetic NCV x EF / 1000 [kg CO2 / t], e.g. 43.0 x 74.1 = 3,186.3 (§5.5).
PER_TONNE = {
    "stationary.diesel": 3186.3,
    "mobile.diesel": 3186.3,
    "mobile.petrol": 3069.99,
    "stationary.lpg": 2984.63,
    "mobile.lpg": 2984.63,
    "mobile.jet_fuel": 3153.15,
    "stationary.fuel_oil": 3126.96,
    "stationary.coal": 2440.68,
}


@pytest.mark.parametrize("activity", sorted(SECTION_4_4))
def test_per_tj_and_per_tonne_co2_equal_the_section_4_4_values(activity: str) -> None:
    # The values are exact decimals; products are compared to 1e-12 relative (float only).
    shipped = _shipped()
    per_tj = shipped[f"ipcc-2006:{activity}:tj"]
    per_t = shipped[f"ipcc-2006:{activity}:t"]
    assert (per_tj["unit"], per_tj["region"], per_tj["method"]) == ("TJ", "GLOBAL", "fuel")
    assert per_tj["co2_kg"] == SECTION_4_4[activity][1]
    assert per_t["unit"] == "tonne"
    assert per_t["co2_kg"] == pytest.approx(PER_TONNE[activity], rel=1e-12)
    assert per_tj["co2e_kg"] is None
    assert per_tj["gwp_basis"] is None


def test_worked_example_5_5_diesel_through_resolve() -> None:
    # 1,000 t diesel in a country without a national set (India): the GLOBAL IPCC factor.
    # Expected 3,186.3 t CO2 exactly (43.0 x 74,100 has no rounding); tolerance 1e-12 relative
    # for float arithmetic only.
    diesel = TAXONOMY.get("stationary.diesel")
    result = resolve(LIBRARY, activity_type=diesel, region_chain=chain("IN"), year=2024, unit="t")
    assert (result.factor_id, result.tier) == ("ipcc-2006:stationary.diesel:t", "global")
    assert result.unit_conversion is not None
    tonnes_co2 = 1000 * result.unit_conversion * float(result.factor["co2_kg"]) / 1000
    assert tonnes_co2 == pytest.approx(3186.3, rel=1e-12)
    # The same through energy: 43.0 TJ.
    by_energy = resolve(
        LIBRARY, activity_type=diesel, region_chain=chain("IN"), year=2024, unit="TJ"
    )
    assert by_energy.unit_conversion is not None
    energy_co2 = 43.0 * by_energy.unit_conversion * float(by_energy.factor["co2_kg"]) / 1000
    assert energy_co2 == pytest.approx(3186.3, rel=1e-12)
    assert result.reason == (
        "GLOBAL global fuel-based factor 2006 (ipcc-2006) for reporting year 2024: latest "
        "earlier vintage, 18 years older; no qualifying factor for IN"
    )


def test_stationary_ch4_n2o_are_table_2_4_commercial_institutional_where_given() -> None:
    # §4.4: commercial/institutional diesel 10 kg CH4/TJ, 0.6 kg N2O/TJ; per tonne x 0.043 TJ.
    shipped = _shipped()
    tj = shipped["ipcc-2006:stationary.diesel:tj"]
    assert (tj["ch4_kg"], tj["n2o_kg"]) == (10, 0.6)
    t = shipped["ipcc-2006:stationary.diesel:t"]
    assert t["ch4_kg"] == pytest.approx(0.43, rel=1e-12)
    assert t["n2o_kg"] == pytest.approx(0.0258, rel=1e-12)


@pytest.mark.parametrize(
    ("activity", "ch4", "n2o", "table"),
    [
        ("stationary.fuel_oil", 10, 0.6, "Table 2.4 (commercial/institutional)"),
        ("stationary.lpg", 5, 0.1, "Table 2.4 (commercial/institutional)"),
        ("stationary.coal", 10, 1.5, "Table 2.4 (commercial/institutional)"),
        ("mobile.diesel", 3.9, 3.9, "Table 3.2.2 (road transport)"),
        ("mobile.petrol", 25, 8.0, "Table 3.2.2 (road transport)"),
        ("mobile.lpg", 62, 0.2, "Table 3.2.2 (road transport)"),
        ("mobile.jet_fuel", 0.5, 2, "Table 3.6.5 (civil aviation)"),
    ],
)
def test_ch4_n2o_of_the_other_fuels_are_the_ipcc_sector_defaults(
    activity: str, ch4: float, n2o: float, table: str
) -> None:
    # IPCC 2006 Vol. 2 ch. 2 Table 2.4 and ch. 3 Tables 3.2.2 / 3.6.5 [M: keyed from the
    # engineer's knowledge of the tables]: kg/TJ, and per tonne x the Table 1.2 NCV.
    shipped = _shipped()
    per_tj = shipped[f"ipcc-2006:{activity}:tj"]
    assert (per_tj["ch4_kg"], per_tj["n2o_kg"]) == (ch4, n2o)
    per_t = shipped[f"ipcc-2006:{activity}:t"]
    tj_per_t = float(per_t["co2_kg"]) / float(per_tj["co2_kg"])
    assert per_t["ch4_kg"] == pytest.approx(ch4 * tj_per_t, rel=1e-12)
    assert per_t["n2o_kg"] == pytest.approx(n2o * tj_per_t, rel=1e-12)
    assert table in str(per_tj["description"])


def test_only_the_fuels_of_the_reference_are_shipped_and_nothing_per_litre() -> None:
    rows = read_shipped_set(defaults.IPCC_SET_ID).to_pylist()
    assert {r["activity"] for r in rows} == set(SECTION_4_4)
    assert {r["unit"] for r in rows} == {"TJ", "tonne"}
    assert len(rows) == 2 * len(SECTION_4_4)


def test_every_value_keeps_its_confidence_mark() -> None:
    keyed = defaults.ipcc_keyed_rows()
    assert {r["confidence"] for r in keyed} == {"M"}
    assert all(r["citation"].strip() and r["table"].strip() for r in keyed)
    assert all(str(r["description"]).endswith("[M]") for r in _shipped().values())
    assert "[M]" in shipped_set_meta(defaults.IPCC_SET_ID)["notes"]


def test_keyed_table_is_section_4_4() -> None:
    keyed = {
        (r["fuel"], r["parameter"], r["sector"]): float(r["value"])
        for r in defaults.ipcc_keyed_rows()
    }
    assert keyed[("gas_diesel_oil", "ncv", "")] == 43.0
    assert keyed[("other_bituminous_coal", "co2", "")] == 94_600
    assert keyed[("oil", "ch4", "energy_industries")] == 3
    assert keyed[("coal", "n2o", "energy_industries")] == 1.5
    assert keyed[("natural_gas", "ch4", "commercial_institutional")] == 5
    assert keyed[("gas_diesel_oil", "ch4", "road")] == 3.9
    # 6 NCV + 6 CO2 + 6 energy-industry + 10 commercial + 10 mobile (road, aviation) values
    assert len(keyed) == 38


def test_shipped_table_matches_a_fresh_conversion() -> None:
    assert_tables_equal(defaults.convert_ipcc_2006(), read_shipped_set(defaults.IPCC_SET_ID))


def test_vocabulary() -> None:
    check_vocabulary(read_shipped_set(defaults.IPCC_SET_ID))
