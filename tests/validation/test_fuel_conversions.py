"""Fuel rows in litres, kg, t, m3, Nm3, GJ or kWh resolve to the Chinese default factor for a
Chinese site, through explicit, recorded conversions (rule 11 of
docs/methodology/factor-resolution.md; docs/methodology/fuel-conversions.md).

References
----------
* GB/T 32150-2015 Annex B Table B.1 and the NDRC enterprise accounting guidelines (2013),
  as keyed in ``esgledger/data/sources/fuel_properties.csv`` with a confidence mark per row
  (standards-and-data.md §4.5 for diesel and natural gas [S/M]; worked example §5.5:
  1 t diesel = 42.652 GJ x 20.20 kgC/GJ x 0.98 x 44/12 = 3.0959 t CO2; natural gas
  21.65 t CO2 / 10^4 Nm3).
* Densities: implied by UK DESNZ 2024 (v1.1) per-tonne and per-litre factors of the same
  fuel (standards-and-data.md §4.3 [V]); checked here against the shipped DESNZ table and
  against the Chinese specification ranges (GB 19147-2016 diesel 810-845 kg/m3, GB 17930-2016
  petrol 720-775 kg/m3 at 20 °C [M]).
* CH4 and N2O: IPCC 2006 Vol. 2 ch. 2 Table 2.4 (commercial/institutional: diesel 10 / 0.6
  kg/TJ, natural gas 5 / 0.1) and ch. 3 Table 3.2.2 (road: diesel 3.9 / 3.9 kg/TJ) [M].
* Gas reference conditions: ideal gas at 101.325 kPa, V/T constant: 1 m3 at 20 °C =
  273.15 / 293.15 Nm3 (GB/T 19205 gives 20 °C, 101.325 kPa as China's natural-gas reference).
"""

from __future__ import annotations

import csv
from importlib import resources

import pytest

from esgledger import fuels
from esgledger.factors import FactorLibrary, resolve
from esgledger.factors.resolve import resolve_many
from esgledger.regions import chain
from esgledger.taxonomy import Taxonomy

TAXONOMY = Taxonomy.shipped()
LIBRARY = FactorLibrary.shipped()
#: Published to 4 decimals (3.0959 t CO2/t): half a unit of the last digit.
DIESEL_T_CO2_PER_T = 3.0959
#: Published to 2 decimals (21.65 t CO2/10^4 Nm3): half a unit of the last digit.
GAS_T_CO2_PER_1E4_NM3 = 21.65


def _co2_t(activity: str, region: str, quantity: float, unit: str, **kw: str) -> float:
    result = resolve(
        LIBRARY, activity_type=TAXONOMY.get(activity), region_chain=chain(region), year=2024,
        unit=unit, **kw,
    )  # fmt: skip
    assert result.factor["factor_set"] == "cn-defaults", result.reason
    assert result.tier == "country"
    assert result.unit_conversion is not None
    return quantity * result.unit_conversion * float(result.factor["co2_kg"]) / 1000


def _density(fuel: str) -> float:
    prop = fuels.property_for(fuel, "density", chain("CN"))
    assert prop is not None
    return prop.value  # [t / m3]


@pytest.mark.parametrize("activity", ["stationary.diesel", "mobile.diesel"])
@pytest.mark.parametrize(
    ("quantity", "unit", "tonnes"),
    [
        (1.0, "t", 1.0),
        (1000.0, "kg", 1.0),
        (1.0, "吨", 1.0),
        # 1 t of diesel is 42.652 GJ (Table B.1 NCV): in GJ, TJ and kWh (1 kWh = 3.6 MJ).
        (42.652, "GJ", 1.0),
        (0.042652, "TJ", 1.0),
        (42_652 / 3.6, "kWh", 1.0),
    ],
)
def test_diesel_in_mass_and_energy_is_worked_example_5_5(
    activity: str, quantity: float, unit: str, tonnes: float
) -> None:
    assert _co2_t(activity, "CN-GD", quantity, unit) == pytest.approx(
        DIESEL_T_CO2_PER_T * tonnes, abs=0.00005
    )


@pytest.mark.parametrize("activity", ["stationary.diesel", "mobile.diesel"])
@pytest.mark.parametrize("unit", ["L", "升", "litre"])
def test_diesel_in_litres_goes_through_the_density(activity: str, unit: str) -> None:
    # 1,000 L x 0.83368 t/m3 = 0.83368 t; x 3.0959 t CO2/t (§5.5) = 2.5810 t CO2. The
    # tolerance is §5.5's rounding (0.00005 t per t) scaled by the 0.83368 t.
    expected = DIESEL_T_CO2_PER_T * 1000 * _density("diesel") / 1000
    assert _co2_t(activity, "CN-SH", 1000.0, unit) == pytest.approx(expected, abs=0.00005)
    assert expected == pytest.approx(2.5810, abs=0.0001)


@pytest.mark.parametrize("activity", ["stationary.natural_gas", "mobile.cng"])
@pytest.mark.parametrize(
    ("quantity", "unit"),
    [
        (10_000.0, "Nm3"),
        (1.0, "万标准立方米"),
        (10_000.0, "标准立方米"),
        # A plain m3 is read at the default 0 °C, 101.325 kPa: the same gas as Nm3.
        (10_000.0, "m3"),
        (10_000.0, "立方米"),
        (1.0, "万立方米"),
        # 389.31 GJ per 10^4 Nm3 (Table B.1 NCV) in GJ and kWh.
        (389.31, "GJ"),
        (389_310 / 3.6, "kWh"),
    ],
)
def test_natural_gas_in_every_unit_is_the_published_21_65(
    activity: str, quantity: float, unit: str
) -> None:
    assert _co2_t(activity, "CN-GD", quantity, unit) == pytest.approx(
        GAS_T_CO2_PER_1E4_NM3, abs=0.005
    )


def test_a_plain_m3_at_20_c_is_less_gas() -> None:
    # 10^4 m3 at 20 °C, 101.325 kPa = 10^4 x 273.15 / 293.15 Nm3 = 9,317.76 Nm3 (ideal gas);
    # 21.65 t x 0.931776 = 20.173 t CO2 (tolerance: the 0.005 t of the published 21.65, scaled).
    t = _co2_t("stationary.natural_gas", "CN", 10_000.0, "立方米", gas_volume_reference="20C")
    assert t == pytest.approx(GAS_T_CO2_PER_1E4_NM3 * 273.15 / 293.15, abs=0.005)
    assert t == pytest.approx(20.173, abs=0.005)


@pytest.mark.parametrize(
    ("activity", "unit", "quantity", "ncv", "carbon", "oxidation"),
    [
        # GB/T 32150-2015 Table B.1 (as keyed, confidence marks in fuel_properties.csv)
        ("mobile.petrol", "t", 1.0, 43.070, 18.90, 0.98),
        ("stationary.fuel_oil", "t", 1.0, 41.816, 21.10, 0.98),
        ("stationary.lpg", "t", 1.0, 50.179, 17.20, 0.98),
        ("mobile.lpg", "kg", 1000.0, 50.179, 17.20, 0.98),
        ("stationary.coal", "t", 1.0, 19.570, 26.18, 0.93),
    ],
)
def test_the_other_fuels_follow_the_fuel_combustion_formula(
    activity: str, unit: str, quantity: float, ncv: float, carbon: float, oxidation: float
) -> None:
    # GB/T 32150-2015: E = AD x NCV x CC x OF x 44/12 [C on M/S parameters]; exact up to
    # float arithmetic.
    expected = ncv * carbon * oxidation * 44 / 12 / 1000  # [t CO2 / t]
    assert _co2_t(activity, "CN", quantity, unit) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("activity", "fuel", "unit"),
    [
        ("mobile.petrol", "petrol", "L"),
        ("stationary.fuel_oil", "fuel_oil", "L"),
        ("stationary.lpg", "lpg", "L"),
        ("mobile.lpg", "lpg", "升"),
    ],
)
def test_litres_of_the_other_liquid_fuels(activity: str, fuel: str, unit: str) -> None:
    per_tonne = _co2_t(activity, "CN", 1.0, "t")
    assert _co2_t(activity, "CN", 1000.0, unit) == pytest.approx(
        per_tonne * _density(fuel), rel=1e-12
    )


def test_coal_in_energy_units() -> None:
    # 19.570 GJ = 1 t of bituminous coal (Table B.1 NCV), in GJ and kWh.
    per_tonne = _co2_t("stationary.coal", "CN", 1.0, "t")
    assert _co2_t("stationary.coal", "CN", 19.570, "GJ") == pytest.approx(per_tonne, rel=1e-12)
    assert _co2_t("stationary.coal", "CN", 19_570 / 3.6, "kWh") == pytest.approx(
        per_tonne, rel=1e-12
    )


def _desnz(factor_id: str) -> float:
    text = resources.files("esgledger.data.factors").joinpath("desnz-2024.csv").read_text("utf-8")
    for row in csv.DictReader(text.splitlines()):
        if row["factor_id"].startswith(factor_id):
            return float(row["co2e_kg"])
    raise AssertionError(factor_id)


@pytest.mark.parametrize(
    ("fuel", "per_tonne", "per_litre"),
    [
        ("diesel", "desnz-2024:1_101_1011_15:", "desnz-2024:1_101_1011_8:"),
        ("petrol", "desnz-2024:1_101_1017_15:", "desnz-2024:1_101_1017_8:"),
        ("fuel_oil", "desnz-2024:1_101_1013_15:", "desnz-2024:1_101_1013_8:"),
        ("lpg", "desnz-2024:1_100_1003_15:", "desnz-2024:1_100_1003_8:"),
    ],
)
def test_densities_are_the_ones_desnz_2024_implies(
    fuel: str, per_tonne: str, per_litre: str
) -> None:
    # DESNZ 2024 (v1.1) publishes the same fuel per tonne and per litre: their ratio is the
    # density it used [L/t]. The keyed density has 5 significant figures: rel 1e-4.
    implied = _desnz(per_litre) / _desnz(per_tonne) * 1000  # [t / m3]
    assert _density(fuel) == pytest.approx(implied, rel=1e-4)


@pytest.mark.parametrize("fuel", ["diesel", "petrol"])
def test_densities_lie_in_the_chinese_specification_ranges(fuel: str) -> None:
    # GB 19147-2016 / GB 17930-2016 density at 20 °C [M]: the shipped density fits a
    # Chinese fuel (it is not taken from them: they are ranges, not defaults).
    low, high = (
        next(
            p.value
            for p in fuels.properties()
            if (p.fuel, p.property, p.region) == (fuel, bound, "CN")
        )
        for bound in ("density_min", "density_max")
    )
    assert low <= _density(fuel) <= high


def test_scope_1_is_not_co2_only_and_each_gas_names_its_source() -> None:
    # IPCC 2006 Vol. 2 ch. 2 Table 2.4 (stationary) and ch. 3 Table 3.2.2 (road) [M], scaled
    # by the Chinese NCV: 1 TJ of diesel -> 10 kg CH4, 0.6 kg N2O stationary; 3.9 / 3.9 road.
    for activity, ch4, n2o in (
        ("stationary.diesel", 10, 0.6),
        ("mobile.diesel", 3.9, 3.9),
        ("stationary.natural_gas", 5, 0.1),
    ):
        result = resolve(
            LIBRARY, activity_type=TAXONOMY.get(activity), region_chain=chain("CN"),
            year=2024, unit="TJ",
        )  # fmt: skip
        assert (result.factor["ch4_kg"], result.factor["n2o_kg"]) == (ch4, n2o)
        assert str(result.factor["source"]).startswith("CO2: GB/T 32150-2015")
        assert "CH4 and N2O: IPCC 2006" in str(result.factor["source"])
    # Per litre: 1 L x 0.83368 kg/L x 42.652 GJ/t = 0.035558 GJ = 3.5558e-5 TJ.
    litre = resolve(
        LIBRARY, activity_type=TAXONOMY.get("mobile.diesel"), region_chain=chain("CN"),
        year=2024, unit="L",
    )  # fmt: skip
    assert litre.unit_conversion is not None
    ch4_per_litre = litre.unit_conversion * float(litre.factor["ch4_kg"])
    assert ch4_per_litre == pytest.approx(3.9 * 0.83368e-3 * 42.652e-3, rel=1e-12)


def test_4000_m3_and_4000_nm3_are_priced_by_the_same_country() -> None:
    # Before: with proxies configured, the Nm3 row took the China default and the 立方米 row
    # a UK proxy (DESNZ per m3), because a plain m3 is a volume and the China factor is per
    # standard volume. Now both reach the China factor; the m3 row records its reference.
    keys = [
        {"activity": "stationary.natural_gas", "region": "CN-GD", "unit": unit}
        for unit in ("立方米", "Nm3", "m3", "标准立方米")
    ]
    table = resolve_many(LIBRARY, keys, year=2024, proxies={"CN": ("GB",)}).to_pylist()
    assert {r["factor_region"] for r in table} == {"CN"}
    assert {r["tier"] for r in table} == {"country"}
    plain = {r["unit"]: r for r in table}
    assert "0 °C, 101.325 kPa" in plain["立方米"]["conversion_path"]
    assert "gas_volume_reference" in plain["立方米"]["conversion_path"]
    assert plain["Nm3"]["conversion_path"] is None
    assert plain["立方米"]["unit_conversion"] == plain["Nm3"]["unit_conversion"]
    at_20 = resolve_many(LIBRARY, keys[:1], year=2024, gas_volume_reference="20C").to_pylist()
    assert at_20[0]["unit_conversion"] == pytest.approx(1e-4 * 273.15 / 293.15, rel=1e-12)


def test_a_bad_gas_reference_is_refused() -> None:
    with pytest.raises(ValueError, match=r"gas volume reference '25C' is not one of 0C, 15C"):
        fuels.parse_gas_reference("25C")
    assert fuels.parse_gas_reference("20 °C") == "20C"


def test_an_explicit_factor_in_another_dimension_converts_too() -> None:
    # Rule 1 + rule 11: a row in litres naming the per-TJ China factor: 1 L x 0.83368 kg/L x
    # 42.652 GJ/t = 3.5558e-5 TJ (exact up to float arithmetic).
    result = resolve(
        LIBRARY, activity_type=TAXONOMY.get("stationary.diesel"), region_chain=chain("CN"),
        year=2024, unit="L", factor_id="cn-defaults:stationary.diesel:tj",
    )  # fmt: skip
    assert result.tier == "explicit"
    assert result.unit_conversion == pytest.approx(0.83368e-3 * 42.652e-3, rel=1e-12)
    assert result.conversion_path is not None
    assert "net calorific value 42.652 GJ/t" in result.reason


def test_cubic_metres_of_lpg_are_ambiguous_and_do_not_convert() -> None:
    # A litre of LPG is the liquid (0.52975 kg); a cubic metre may be the vapour (about 250
    # times less): no density is applied to it, so no factor is guessed.
    assert fuels.convert("lpg", "L", "tonne", chain("CN")) is not None
    assert fuels.convert("lpg", "m3", "tonne", chain("CN")) is None
    assert fuels.convert("lpg", "立方米", "TJ", chain("CN")) is None
