"""China default fuel and heat parameters (shipped set ``cn-defaults``, region CN).

References: GB/T 32150-2015 / GB/T 32151 series and the industry GHG accounting guidelines, as
given in standards-and-data.md §4.5 (parameters [S/M], heat [S]): diesel NCV 42.652 GJ/t,
20.20 tC/TJ, oxidation 98 % -> 3.0959 t CO2/t; natural gas 389.31 GJ/10^4 Nm3, 15.32 tC/TJ
(15.3 in GB/T 32151 per a public repo), 99 % -> 21.65 t CO2/10^4 Nm3; purchased heat
0.11 t CO2/GJ. Worked example §5.5: 1 t diesel = 42.652 GJ x 20.20 kgC/GJ x 0.98 x 44/12 =
3.0959 t CO2.
"""

from __future__ import annotations

import pytest
from _sources_common import assert_tables_equal, check_vocabulary

from esgledger import fuels
from esgledger.factors import FactorLibrary, resolve
from esgledger.factors.sources import defaults
from esgledger.factors.sources._common import read_shipped_set, shipped_set_meta
from esgledger.regions import chain
from esgledger.taxonomy import Taxonomy

TAXONOMY = Taxonomy.shipped()
LIBRARY = FactorLibrary.shipped()


def _tonnes_co2(activity: str, region: str, quantity: float, unit: str) -> float:
    result = resolve(
        LIBRARY, activity_type=TAXONOMY.get(activity), region_chain=chain(region), year=2024,
        unit=unit,
    )  # fmt: skip
    assert result.factor["factor_set"] == "cn-defaults"
    assert result.tier == "country"
    assert result.unit_conversion is not None
    return quantity * result.unit_conversion * float(result.factor["co2_kg"]) / 1000


@pytest.mark.parametrize("activity", ["stationary.diesel", "mobile.diesel"])
def test_worked_example_5_5_one_tonne_of_diesel(activity: str) -> None:
    # 3.0959 t CO2 is published to 4 decimals: tolerance half a unit of the last digit,
    # 0.00005 t (the unrounded product is 3.095910 t).
    assert _tonnes_co2(activity, "CN-GD", 1.0, "t") == pytest.approx(3.0959, abs=0.00005)
    # 1,000 kg is the same tonne.
    assert _tonnes_co2(activity, "CN", 1000.0, "kg") == pytest.approx(3.0959, abs=0.00005)


@pytest.mark.parametrize("activity", ["stationary.natural_gas", "mobile.cng"])
def test_natural_gas_per_10_000_nm3(activity: str) -> None:
    # 21.65 t CO2 per 10^4 Nm3 is published to 2 decimals: tolerance 0.005 t.
    assert _tonnes_co2(activity, "CN-BJ", 10_000.0, "Nm3") == pytest.approx(21.65, abs=0.005)
    assert _tonnes_co2(activity, "CN", 1.0, "万标准立方米") == pytest.approx(21.65, abs=0.005)


def test_the_15_3_variant_would_not_reproduce_the_published_21_65() -> None:
    # Why 15.32 tC/TJ is used: 389.31 x 15.3 x 0.99 x 44/12 = 21,622 kg, which rounds to 21.62,
    # not the published 21.65. The variant is kept in the keyed table, marked unused.
    (variant,) = [
        p
        for p in fuels.properties()
        if (p.fuel, p.property, p.used) == ("natural_gas", "carbon_content", False)
    ]
    assert (variant.region, variant.value) == ("CN", 15.3)
    tonnes = 389.31 * variant.value * 0.99 * 44 / 12 / 1000
    assert round(tonnes, 2) == 21.62


def test_purchased_heat_and_steam() -> None:
    # 0.11 t CO2/GJ, given to 2 decimals; the shipped value is exactly 110 kg/GJ.
    assert _tonnes_co2("heat", "CN-SH", 1.0, "GJ") == pytest.approx(0.11, rel=1e-12)
    assert _tonnes_co2("steam", "CN", 1000.0, "MJ") == pytest.approx(0.11, rel=1e-12)


def test_co2_from_china_ch4_n2o_from_ipcc_with_the_computation_shown() -> None:
    rows = read_shipped_set(defaults.CN_SET_ID).to_pylist()
    assert all((r["co2e_kg"], r["region"]) == (None, "CN") for r in rows)
    fuel_rows = [r for r in rows if r["activity"] not in ("heat", "steam")]
    # Scope 1 of a Chinese site is not CO2-only: every fuel row has CH4 and N2O, and its
    # source says which gas came from which document.
    assert all(r["ch4_kg"] is not None and r["n2o_kg"] is not None for r in fuel_rows)
    assert all(
        str(r["source"]).startswith("CO2: GB/T 32150-2015")
        and "CH4 and N2O: IPCC 2006" in str(r["source"])
        for r in fuel_rows
    )
    heat = [r for r in rows if r["activity"] in ("heat", "steam")]
    assert all((r["ch4_kg"], r["n2o_kg"]) == (None, None) for r in heat)
    diesel = next(r for r in rows if r["factor_id"] == "cn-defaults:stationary.diesel:t")
    assert str(diesel["description"]).startswith(
        "diesel 柴油, stationary.diesel, per tonne: NCV 42.652 GJ/t x 20.2 tC/TJ x 98 % "
        "oxidation x 44/12 = 3095.9 kg CO2 (published: 3.0959 t CO2/t [C]); CH4 10 and N2O "
        "0.6 kg/TJ from IPCC 2006 Vol. 2 ch. 2 Table 2.4"
    )
    assert {r["method"] for r in heat} == {"location"}
    assert {r["method"] for r in fuel_rows} == {"fuel"}


def test_every_value_keeps_its_confidence_mark() -> None:
    keyed = defaults.cn_keyed_rows()
    assert {r["confidence"] for r in keyed} <= {"S", "M", "S/M"}
    assert all(r["citation"].strip() for r in keyed)
    cn = [p for p in fuels.properties() if p.region == "CN"]
    assert {p.confidence for p in cn} <= {"S", "M", "S/M"}
    assert all(p.source and p.table and p.edition for p in cn)
    rows = read_shipped_set(defaults.CN_SET_ID).to_pylist()
    assert all(str(r["description"]).endswith("]") for r in rows)
    assert "[S/M]" in shipped_set_meta(defaults.CN_SET_ID)["notes"]


def test_litres_resolve_to_the_chinese_factor_through_a_recorded_density() -> None:
    # Before rule 11 a Chinese row in litres found no factor (per tonne and per TJ could not
    # take litres). Now the density converts it, and the resolution says how.
    result = resolve(
        LIBRARY, activity_type=TAXONOMY.get("stationary.diesel"), region_chain=chain("CN"),
        year=2024, unit="L",
    )  # fmt: skip
    assert result.factor_id == "cn-defaults:stationary.diesel:t"
    assert result.tier == "country"
    assert result.conversion_path is not None
    assert "density 0.83368 t/m3" in result.conversion_path
    assert "density 0.83368 t/m3" in result.reason


def test_shipped_table_matches_a_fresh_conversion() -> None:
    assert_tables_equal(defaults.convert_cn_defaults(), read_shipped_set(defaults.CN_SET_ID))


def test_vocabulary() -> None:
    check_vocabulary(read_shipped_set(defaults.CN_SET_ID))
