"""Factor resolution, rule by rule (docs/methodology/factor-resolution.md), on small
hand-made libraries, then on the shipped library."""

from __future__ import annotations

import dataclasses
import importlib
import re
from typing import Any

import pyarrow as pa
import pytest

from esgledger.errors import FactorNotFoundError, StrictFallbackError, UnitError
from esgledger.factors import FactorLibrary, Resolution, Strictness, resolve, resolve_many
from esgledger.regions import chain
from esgledger.taxonomy import ActivityType, Taxonomy

resolve_module = importlib.import_module("esgledger.factors.resolve")
TAXONOMY = Taxonomy.shipped()
ELECTRICITY = TAXONOMY.get("electricity")
DIESEL = TAXONOMY.get("stationary.diesel")
R410A = TAXONOMY.get("refrigerant.R-410A")
SPEND = TAXONOMY.get("spend.naics.334111")
ADD_FACTOR = (
    "add a factor for activity {} in region {} or above: esgledger import WS --kind factors FILE"
)


def factor(factor_id: str, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "factor_id": factor_id,
        "factor_set": "base",
        "activity": "electricity",
        "region": "CN",
        "year": 2024,
        "unit": "kWh",
        "co2_kg": 0.5,
        "method": "location",
        "source": "Test",
    }
    row.update(fields)
    return row


def library(*rows: dict[str, Any], user_precedence: int = 100) -> FactorLibrary:
    """Rows of set ``base`` are shipped (precedence 0); rows of set ``user`` are a user set."""
    sets = [
        {"id": "base", "precedence": 0, "shipped": True},
        {"id": "user", "precedence": user_precedence, "shipped": False},
    ]
    return FactorLibrary.from_rows(rows, sets)


def run(
    lib: FactorLibrary,
    activity_type: ActivityType = ELECTRICITY,
    region: str = "CN-GD",
    unit: str = "kWh",
    year: int = 2024,
    **kwargs: Any,
) -> Resolution:
    return resolve(
        lib, activity_type=activity_type, region_chain=chain(region), year=year, unit=unit, **kwargs
    )


# ---- rule 1: explicit factor -------------------------------------------------------------


def test_an_explicit_factor_wins_over_a_better_tier() -> None:
    lib = library(factor("gd", region="CN-GD"), factor("cn:2021", year=2021))
    result = run(lib, factor_id="cn:2021")
    assert (result.factor_id, result.tier, result.vintage_gap) == ("cn:2021", "explicit", -3)
    assert result.reason == (
        "factor cn:2021 named on the row: CN national location-based factor 2021 (base) for "
        "reporting year 2024: 3 years older; an explicit factor is used as named, without "
        "fallback or strictness checks"
    )


def test_an_explicit_factor_is_not_subject_to_strictness() -> None:
    lib = library(factor("cn", year=2010))
    strict = Strictness(max_tier="supplier", max_vintage_gap=0)
    assert run(lib, factor_id="cn", strict=strict).factor_id == "cn"


def test_an_explicit_factor_must_exist() -> None:
    lib = library(factor("cn:2023", year=2023))
    with pytest.raises(FactorNotFoundError) as info:
        run(lib, factor_id="cn:2024")
    assert str(info.value) == (
        "no factor with id 'cn:2024'; did you mean cn:2023? "
        "(`esgledger factors search TEXT` finds factors)"
    )
    assert (info.value.activity, info.value.region, info.value.year) == (
        "electricity",
        "CN-GD",
        2024,
    )


def test_an_explicit_factor_must_fit_the_activity() -> None:
    lib = library(factor("diesel", activity="stationary.diesel", unit="litre"))
    with pytest.raises(UnitError) as info:
        run(lib, factor_id="diesel")
    assert str(info.value) == (
        "factor diesel is per 'litre', which does not fit activity electricity (dimension [energy])"
    )
    assert (info.value.unit, info.value.expected) == ("litre", "[energy]")


def test_an_explicit_factor_must_be_convertible_from_the_row_unit() -> None:
    # Kerosene has a shipped density but no net calorific value
    # (esgledger/data/sources/fuel_properties.csv), so a per-kWh factor named on a row in
    # litres cannot be reached (rule 1 + rule 11).
    kerosene = TAXONOMY.get("stationary.kerosene")
    lib = library(factor("kero:kwh", activity="stationary.kerosene", unit="kWh", region="GB"))
    with pytest.raises(
        UnitError,
        match=r"^factor kero:kwh is per 'kWh', which cannot be converted from the row's "
        r"unit 'L'$",
    ):
        run(lib, kerosene, region="GB", unit="L", factor_id="kero:kwh")


def test_an_explicit_factor_of_another_dimension_converts_through_the_fuel_density() -> None:
    # Diesel has a density (rule 11): an explicit per-tonne factor applies to litres, and the
    # conversion is the density [t/m3] / 1000 L per m3 (0.83368 / 1000 t per L, the DESNZ
    # 2024-implied density of fuel_properties.csv), exact to float rounding.
    lib = library(factor("diesel:t", activity="stationary.diesel", unit="tonne", region="GB"))
    result = run(lib, DIESEL, region="GB", unit="L", factor_id="diesel:t")
    assert result.factor_id == "diesel:t"
    assert result.unit_conversion == pytest.approx(0.83368e-3, rel=1e-12)


# ---- rule 2: candidates by activity, unit dimension and method ---------------------------


def test_the_row_unit_must_fit_the_activity() -> None:
    with pytest.raises(
        UnitError, match=r"^unit 't' does not fit activity electricity \(dimension \[energy\]\)$"
    ):
        run(library(factor("cn")), unit="t")


def test_a_factor_in_another_unit_of_the_same_dimension_applies_with_a_conversion() -> None:
    lib = library(factor("cn:mwh", unit="MWh", co2_kg=500.0))
    result = run(lib, unit="kWh")
    assert result.factor_id == "cn:mwh"
    assert result.unit_conversion == pytest.approx(0.001, rel=1e-15)  # 1 kWh = 0.001 MWh
    assert run(lib, unit="GWh").unit_conversion == pytest.approx(1000.0, rel=1e-15)


def test_a_factor_of_another_dimension_is_refused_and_listed() -> None:
    lib = library(
        factor("d:litre", activity="stationary.diesel", unit="litre", region="GB"),
        factor("d:tonne", activity="stationary.diesel", unit="tonne", region="GB"),
    )
    result = run(lib, DIESEL, region="GB", unit="kg")
    assert result.factor_id == "d:tonne"
    assert result.unit_conversion == pytest.approx(0.001, rel=1e-15)
    # Diesel has a density (rule 11), so the litre factor is a candidate that loses on the
    # conversion it would need; a factor no property can reach is refused.
    assert result.considered == (
        "d:litre: per litre: needs more fuel-conversion steps than d:tonne (rule 11)",
    )


def test_factors_of_other_activities_never_apply() -> None:
    lib = library(factor("heat", activity="heat"))
    with pytest.raises(FactorNotFoundError, match=r"^no factor for activity electricity with"):
        run(lib)


def test_factors_are_looked_up_under_the_factor_activity() -> None:
    leased = TAXONOMY.get("leased.electricity")
    result = run(library(factor("cn")), leased)
    assert result.factor_id == "cn"


def test_the_factor_activity_is_named_when_nothing_is_found() -> None:
    leased = TAXONOMY.get("leased.electricity")
    with pytest.raises(FactorNotFoundError) as info:
        run(library(factor("gb", region="GB")), leased)
    assert str(info.value) == (
        "no factor for activity leased.electricity (factors filed under electricity) with "
        "unit 'kWh' in CN-GD or above (CN-GD > CN-GRID-SOUTH > CN > GLOBAL); 1 factor(s) for "
        "regions outside CN-GD > CN-GRID-SOUTH > CN > GLOBAL (GB); "
        + ADD_FACTOR.format("electricity", "CN-GD")
    )


def test_a_money_row_matches_a_factor_in_any_currency() -> None:
    lib = library(
        factor(
            "naics:334111",
            activity="spend.naics.334111",
            region="GLOBAL",
            unit="USD",
            currency="USD",
            price_year=2022,
            method="spend",
            co2_kg=None,
            co2e_kg=0.058,
            year=2022,
        )
    )
    result = run(lib, SPEND, region="CN", unit="万元")
    assert (result.factor_id, result.tier, result.vintage_gap) == ("naics:334111", "global", -2)
    assert (result.unit_conversion, result.currency, result.price_year) == (None, "USD", 2022)


def test_the_currency_of_a_money_factor_defaults_to_its_unit() -> None:
    lib = library(
        factor("eur", activity="spend.naics.334111", unit="EUR", method="spend", region="GLOBAL")
    )
    result = run(lib, SPEND, region="CN", unit="CNY")
    assert (result.currency, result.price_year) == ("EUR", None)


def test_only_requested_methods_qualify() -> None:
    lib = library(
        factor("cn:location", method="location"),
        factor("cn:residual", method="residual_mix"),
    )
    assert run(lib, methods=("residual_mix",)).factor_id == "cn:residual"
    assert run(lib, methods=("location",)).factor_id == "cn:location"


def test_an_earlier_method_wins_at_equal_tier_even_with_an_older_vintage() -> None:
    lib = library(
        factor("cn:supplier-tariff", method="supplier", year=2022),
        factor("cn:residual", method="residual_mix", year=2024),
    )
    result = run(lib, methods=("supplier", "residual_mix"))
    assert result.factor_id == "cn:supplier-tariff"
    assert result.considered == (
        "cn:residual: method residual_mix ranks after supplier in the requested order",
    )


def test_tier_comes_before_method_order() -> None:
    lib = library(
        factor("cn:location", method="location"),
        factor("gd:lifecycle", region="CN-GD", method="lifecycle"),
    )
    assert run(lib, methods=("location", "lifecycle")).factor_id == "gd:lifecycle"


def test_without_methods_market_and_add_on_methods_are_not_used() -> None:
    lib = library(
        factor("cn:residual", method="residual_mix"),
        factor("cn:td", method="td_losses"),
    )
    with pytest.raises(FactorNotFoundError) as info:
        run(lib)
    assert str(info.value) == (
        "no factor for activity electricity with unit 'kWh' in CN-GD or above "
        "(CN-GD > CN-GRID-SOUTH > CN > GLOBAL); 1 refused: method residual_mix is used only "
        "when requested (methods=...); 1 refused: method td_losses is used only when "
        "requested (methods=...); " + ADD_FACTOR.format("electricity", "CN-GD")
    )


def test_without_methods_life_cycle_factors_come_last_at_equal_tier() -> None:
    lib = library(
        factor("cn:lifecycle", method="lifecycle", year=2024),
        factor("cn:location", method="location", year=2021),
    )
    result = run(lib)
    assert result.factor_id == "cn:location"
    assert result.considered == (
        "cn:lifecycle: method lifecycle ranks after location (life-cycle factors come last)",
    )


def test_an_empty_method_list_is_a_mistake() -> None:
    with pytest.raises(ValueError, match="methods is empty"):
        run(library(factor("cn")), methods=())


# ---- rule 3: tiers -----------------------------------------------------------------------


def test_tiers_best_first() -> None:
    rows = [
        factor("global", region="GLOBAL"),
        factor("country", region="CN"),
        factor("grid", region="CN-GRID-SOUTH"),
        factor("province", region="CN-GD"),
        factor("site", region="CN-GD", site="SZ-DC1"),
        factor("supplier", region="CN", supplier="CSG"),
    ]
    lib = library(*rows)
    seen = []
    while rows:
        result = run(library(*rows), supplier="CSG", site="SZ-DC1")
        seen.append((result.factor_id, result.tier))
        rows = [r for r in rows if r["factor_id"] != result.factor_id]
    assert seen == [
        ("supplier", "supplier"),
        ("site", "site"),
        ("province", "subnational"),
        ("grid", "subnational"),
        ("country", "country"),
        ("global", "global"),
    ]
    assert run(lib).factor_id == "province"  # no supplier or site on the row


def test_factors_of_another_supplier_or_site_never_apply() -> None:
    lib = library(
        factor("other-supplier", supplier="Other Power"),
        factor("other-site", site="BJ-DC2"),
    )
    with pytest.raises(FactorNotFoundError) as info:
        run(lib, supplier="CSG", site="SZ-DC1")
    assert str(info.value) == (
        "no factor for activity electricity with unit 'kWh' in CN-GD or above "
        "(CN-GD > CN-GRID-SOUTH > CN > GLOBAL); 1 refused: specific to supplier "
        "'Other Power'; 1 refused: specific to site 'BJ-DC2'; "
        + ADD_FACTOR.format("electricity", "CN-GD")
    )
    assert info.value.tried == (
        "other-supplier: specific to supplier 'Other Power'",
        "other-site: specific to site 'BJ-DC2'",
    )


def test_a_supplier_factor_wins_and_says_so() -> None:
    lib = library(
        factor("gd", region="CN-GD"),
        factor("csg:2024", region="CN-GD", supplier="CSG", method="supplier"),
    )
    result = run(lib, supplier="CSG")
    assert (result.factor_id, result.tier) == ("csg:2024", "supplier")
    assert result.reason == (
        "supplier-specific supplier factor 2024 of 'CSG' (base) for reporting year 2024: "
        "same vintage"
    )
    assert result.considered == ("gd: tier subnational is below supplier",)


def test_a_row_supplier_without_its_own_factor_is_mentioned() -> None:
    result = run(library(factor("cn")), supplier="CSG")
    assert result.reason == (
        "CN national location-based factor 2024 (base) for reporting year 2024: same vintage; "
        "no factor specific to supplier 'CSG'; no qualifying factor for CN-GD, CN-GRID-SOUTH"
    )


def test_the_nearer_region_wins_within_the_subnational_tier_before_vintage() -> None:
    lib = library(
        factor("grid:2024", region="CN-GRID-SOUTH", year=2024),
        factor("gd:2022", region="CN-GD", year=2022),
    )
    result = run(lib)
    assert (result.factor_id, result.vintage_gap) == ("gd:2022", -2)
    assert result.considered == (
        "grid:2024: region CN-GRID-SOUTH is farther up the region chain than CN-GD",
    )


def test_regions_outside_the_chain_never_apply() -> None:
    lib = library(factor("gx", region="CN-GX"), factor("us", region="US"), factor("cn"))
    result = run(lib)
    assert result.factor_id == "cn"
    assert result.considered == (
        "2 factor(s) for regions outside CN-GD > CN-GRID-SOUTH > CN > GLOBAL (CN-GX, US)",
    )


# ---- rule 4: vintage ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("years", "chosen", "gap", "phrase"),
    [
        ((2022, 2024, 2025), 2024, 0, "same vintage"),
        ((2021, 2023, 2025), 2023, -1, "latest earlier vintage, 1 year older"),
        ((2020,), 2020, -4, "latest earlier vintage, 4 years older"),
        (
            (2026, 2025),
            2025,
            1,
            "no vintage up to the reporting year, earliest later one, 1 year newer",
        ),
    ],
)
def test_vintage(years: tuple[int, ...], chosen: int, gap: int, phrase: str) -> None:
    lib = library(*(factor(f"cn:{y}", year=y) for y in years))
    result = run(lib)
    assert (result.factor_id, result.vintage_gap) == (f"cn:{chosen}", gap)
    assert result.reason == (
        f"CN national location-based factor {chosen} (base) for reporting year 2024: {phrase}; "
        "no qualifying factor for CN-GD, CN-GRID-SOUTH"
    )


def test_a_better_vintage_beats_a_higher_precedence() -> None:
    lib = library(factor("base:2024"), factor("user:2022", factor_set="user", year=2022))
    assert run(lib).factor_id == "base:2024"


# ---- rule 5: precedence, then factor id --------------------------------------------------


def test_a_user_set_wins_over_a_shipped_set_at_equal_tier_and_vintage() -> None:
    lib = library(factor("base:cn"), factor("user:cn", factor_set="user", co2_kg=0.4))
    result = run(lib)
    assert result.factor_id == "user:cn"
    assert result.reason == (
        "CN national location-based factor 2024 (user) for reporting year 2024: same vintage; "
        "no qualifying factor for CN-GD, CN-GRID-SOUTH; set user (precedence 100) takes "
        "precedence over base (0)"
    )
    assert result.considered == ("base:cn: set base has precedence 0, below user (100)",)


def test_a_full_tie_is_broken_by_factor_id_and_the_reason_says_so() -> None:
    lib = library(factor("cn:b", unit="MWh"), factor("cn:a"), factor("cn:c"))
    result = run(lib, region="CN")
    assert result.factor_id == "cn:a"
    assert result.reason == (
        "CN national location-based factor 2024 (base) for reporting year 2024: same vintage; "
        "tied on tier, method, region, vintage and precedence with cn:b, cn:c; chosen by "
        "factor_id order"
    )
    assert result.considered == (
        "cn:b: tied with cn:a, which comes first in factor_id order (+1 alike)",
    )


# ---- rule 6: refrigerants and process gases ----------------------------------------------


def test_a_refrigerant_resolves_to_the_ipcc_gwp_of_the_run() -> None:
    # R-410A = 50 % HFC-32 + 50 % HFC-125 by mass. IPCC AR6 WGI Table 7.SM.7: HFC-32 771,
    # HFC-125 3740 -> 2255.5; AR5 WGI Table 8.A.1: 677 and 3170 -> 1923.5 (published as 1,924
    # by EPA Hub 2025 Table 12 and DESNZ 2024). Exact: the halves of integers.
    result = run(library(), R410A, region="CN", unit="t")
    assert (result.factor_id, result.tier, result.gwp_set) == (
        "ipcc-gwp:AR6:R-410A",
        "global",
        "AR6",
    )
    f = result.factor
    assert (f["co2e_kg"], f["unit"], f["method"], f["gwp_basis"]) == (2255.5, "kg", "gwp", "AR6")
    assert f["source"].startswith("IPCC Sixth Assessment Report (2021), WGI Chapter 7")
    assert result.unit_conversion == 1000.0
    assert result.reason == (
        "IPCC AR6 GWP-100 of R-410A, 2255.5 kg CO2e per kg (esgledger.gwp) for reporting year "
        "2024: refrigerant and process gases use the GWP of the run's GWP set (rule 6)"
    )
    ar5 = run(library(), R410A, region="CN", unit="kg", gwp_set="AR5")
    assert (ar5.factor_id, ar5.factor["co2e_kg"]) == ("ipcc-gwp:AR5:R-410A", 1923.5)


def test_a_process_gas_resolves_to_its_gwp() -> None:
    result = run(library(), TAXONOMY.get("process.CO2"), region="CN", unit="kg")
    assert (result.factor_id, result.factor["co2e_kg"]) == ("ipcc-gwp:AR6:CO2", 1.0)


def test_a_user_refrigerant_factor_at_a_better_tier_wins() -> None:
    lib = library(
        factor(
            "user:r410a:cn",
            factor_set="user",
            activity="refrigerant.R-410A",
            unit="kg",
            co2_kg=None,
            co2e_kg=2000.0,
            method="gwp",
        )
    )
    result = run(lib, R410A, region="CN", unit="kg")
    assert (result.factor_id, result.tier) == ("user:r410a:cn", "country")


def test_a_user_refrigerant_factor_at_the_global_tier_loses_to_the_gwp() -> None:
    lib = library(
        factor(
            "user:r410a",
            factor_set="user",
            activity="refrigerant.R-410A",
            region="GLOBAL",
            unit="kg",
            co2e_kg=1924.0,
            method="gwp",
        )
    )
    result = run(lib, R410A, region="CN", unit="kg")
    assert result.factor_id == "ipcc-gwp:AR6:R-410A"
    assert result.considered == (
        "user:r410a: a global-tier user factor; at the global tier the IPCC GWP of the run's "
        "GWP set applies (rule 6)",
    )


def test_shipped_refrigerant_factors_are_not_used() -> None:
    lib = library(factor("base:r410a:cn", activity="refrigerant.R-410A", unit="kg", co2e_kg=1924.0))
    result = run(lib, R410A, region="CN", unit="kg")
    assert result.factor_id == "ipcc-gwp:AR6:R-410A"
    assert result.considered == (
        "base:r410a:cn: a shipped factor; refrigerant and process gases use the IPCC GWP (rule 6)",
    )


def test_an_unknown_gas_has_no_factor() -> None:
    with pytest.raises(FactorNotFoundError) as info:
        run(library(), TAXONOMY.get("refrigerant.R-999X"), region="CN", unit="kg")
    message = str(info.value)
    assert message.startswith(
        "no factor for activity refrigerant.R-999X with unit 'kg' in CN or above "
        "(CN > GLOBAL); Unknown gas or refrigerant 'R-999X'"
    )
    assert message.endswith("; " + ADD_FACTOR.format("refrigerant.R-999X", "CN"))


def test_a_gwp_factor_must_be_requested_when_methods_are_given() -> None:
    with pytest.raises(FactorNotFoundError) as info:
        run(library(), R410A, region="CN", unit="kg", methods=("location",))
    assert str(info.value) == (
        "no factor for activity refrigerant.R-410A with unit 'kg' and method location in CN "
        "or above (CN > GLOBAL); the IPCC GWP factor (method gwp) was not requested "
        "(location); " + ADD_FACTOR.format("refrigerant.R-410A", "CN")
    )


def test_an_explicit_gwp_factor_id() -> None:
    result = run(library(), R410A, region="CN", unit="kg", factor_id="ipcc-gwp:AR5:R410A")
    assert (result.factor_id, result.tier, result.factor["co2e_kg"]) == (
        "ipcc-gwp:AR5:R-410A",
        "explicit",
        1923.5,
    )


# ---- rule 7: the resolution --------------------------------------------------------------


def test_a_resolution_is_frozen() -> None:
    result = run(library(factor("cn")))
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.tier = "global"  # type: ignore[misc]


def test_considered_groups_the_losers_by_why() -> None:
    lib = library(
        factor("gd:2023", region="CN-GD", year=2023),
        factor("gd:2022", region="CN-GD", year=2022),
        factor("gd:2021", region="CN-GD", year=2021),
        factor("cn:2024"),
        factor("cn:residual", method="residual_mix"),
    )
    assert run(lib).considered == (
        "gd:2022: vintage 2022 loses to 2023 (rule 4) (+1 alike)",
        "cn:2024: tier country is below subnational",
        "cn:residual: method residual_mix is used only when requested (methods=...)",
    )


# ---- rule 8: strictness and nothing found ------------------------------------------------


def test_strict_tier_refuses_a_coarser_factor() -> None:
    lib = library(factor("cn:2023", year=2023))
    with pytest.raises(StrictFallbackError) as info:
        run(lib, strict="subnational")
    assert str(info.value) == (
        "strict: electricity in CN-GD for 2024 resolves to cn:2023 (tier country, vintage gap "
        "-1), but only tier subnational or better is allowed (CN national location-based "
        "factor 2023 (base) for reporting year 2024: latest earlier vintage, 1 year older; no "
        "qualifying factor for CN-GD, CN-GRID-SOUTH)"
    )
    assert isinstance(info.value, FactorNotFoundError)
    assert run(lib, strict="country").factor_id == "cn:2023"


def test_strict_vintage_gap_refuses_an_old_factor() -> None:
    lib = library(factor("gd:2021", region="CN-GD", year=2021))
    strict = Strictness(max_tier="subnational", max_vintage_gap=2)
    with pytest.raises(
        StrictFallbackError,
        match=r"\(tier subnational, vintage gap -3\), but only tier subnational or better, "
        r"vintage gap at most 2 years is allowed",
    ):
        run(lib, strict=strict)
    assert run(lib, year=2023, strict=strict).factor_id == "gd:2021"


def test_strictness_is_checked() -> None:
    with pytest.raises(
        ValueError,
        match=r"^unknown tier 'province'; tiers are explicit, supplier, site, subnational, "
        r"country, global, default, proxy$",
    ):
        Strictness(max_tier="province")
    with pytest.raises(ValueError, match="max_vintage_gap must be 0 or more"):
        Strictness(max_vintage_gap=-1)


def test_nothing_found_names_the_activity_the_chain_and_what_to_add() -> None:
    with pytest.raises(FactorNotFoundError) as info:
        run(library(), region="CN-XZ")
    assert str(info.value) == (
        "no factor for activity electricity with unit 'kWh' in CN-XZ or above "
        "(CN-XZ > CN-GRID-SOUTHWEST > CN > GLOBAL); " + ADD_FACTOR.format("electricity", "CN-XZ")
    )
    assert (info.value.activity, info.value.region, info.value.year) == (
        "electricity",
        "CN-XZ",
        2024,
    )


# ---- the shipped library -----------------------------------------------------------------

SHIPPED = FactorLibrary.shipped()


def test_shipped_guangdong_2024_is_the_2023_provincial_factor() -> None:
    # MEE/NBS Announcement 2025 No. 47 (2023 data) is the latest published provincial table.
    result = run(SHIPPED, region="CN-GD", unit="MWh")
    assert (result.factor_id, result.tier, result.vintage_gap) == (
        "cn-mee:location:CN-GD:2023",
        "subnational",
        -1,
    )
    assert result.unit_conversion == 1000.0
    assert result.reason == (
        "CN-GD provincial location-based factor 2023 (cn-mee) for reporting year 2024: latest "
        "earlier vintage, 1 year older"
    )


def test_shipped_tibet_falls_back_to_the_southwest_grid_not_the_national_value() -> None:
    # MEE/NBS publish no provincial factor for Tibet (CN-XZ); its parent in regions.csv is the
    # Southwest regional grid, a subnational tier, which beats the national value (rule 3).
    result = run(SHIPPED, region="CN-XZ")
    assert (result.factor_id, result.tier, result.vintage_gap) == (
        "cn-mee:location:CN-GRID-SOUTHWEST:2023",
        "subnational",
        -1,
    )
    assert result.reason.endswith("; no qualifying factor for CN-XZ")
    assert "cn-mee:location:CN:2023: tier country is below subnational" in result.considered[1]


def test_shipped_egrid_subregion() -> None:
    # EPA Hub 2025 Table 6 (eGRID2023) is filed as vintage 2025, so 2024 takes a later one.
    result = run(SHIPPED, region="US-EGRID-CAMX")
    assert (result.factor_id, result.tier, result.vintage_gap) == (
        "epa-hub-2025:t6:camx",
        "subnational",
        1,
    )
    assert result.factor["unit"] == "MWh"
    assert result.unit_conversion == pytest.approx(0.001, rel=1e-15)


def test_shipped_country_with_only_ember_is_life_cycle_and_not_location() -> None:
    result = run(SHIPPED, region="FR")
    assert (result.factor_id, result.tier, result.factor["method"]) == (
        "ember-2025:FR:2024",
        "country",
        "lifecycle",
    )
    assert result.reason == (
        "FR national life-cycle factor 2024 (ember-2025) for reporting year 2024: same vintage"
    )
    with pytest.raises(FactorNotFoundError) as info:
        run(SHIPPED, region="FR", methods=("location",))
    assert str(info.value).startswith(
        "no factor for activity electricity with unit 'kWh' and method location in FR or above "
        "(FR > GLOBAL); 25 refused: method lifecycle not requested (requested: location); "
    )


def test_shipped_uk_location_factor_beats_ember_life_cycle() -> None:
    result = run(SHIPPED, region="GB")
    assert (result.factor["factor_set"], result.factor["method"]) == ("desnz-2024", "location")


def test_a_user_factor_beats_the_shipped_one_at_the_same_tier() -> None:
    user = SHIPPED.with_user_sets(
        [{"id": "acme", "name": "ACME", "precedence": 100}],
        [factor("acme:gd:2023", factor_set="acme", region="CN-GD", year=2023, co2_kg=0.42)],
    )
    result = run(user)
    assert (result.factor_id, result.tier, result.vintage_gap) == (
        "acme:gd:2023",
        "subnational",
        -1,
    )
    assert result.reason.endswith("; set acme (precedence 100) takes precedence over cn-mee (0)")
    assert result.considered[0] == (
        "cn-mee:location:CN-GD:2023: set cn-mee has precedence 0, below acme (100)"
    )


def test_a_supplier_factor_wins_over_the_shipped_provincial_one() -> None:
    user = SHIPPED.with_user_sets(
        [{"id": "acme", "name": "ACME", "precedence": 100}],
        [factor("acme:csg", factor_set="acme", supplier="CSG", method="supplier", year=2022)],
    )
    result = run(user, supplier="CSG", methods=("supplier", "location"))
    assert (result.factor_id, result.tier, result.vintage_gap) == ("acme:csg", "supplier", -2)


def test_shipped_strict_errors() -> None:
    with pytest.raises(
        StrictFallbackError,
        match=r"^strict: electricity in CN-GD for 2024 resolves to cn-mee:location:CN-GD:2023 "
        r"\(tier subnational, vintage gap -1\), but only tier subnational or better, vintage "
        r"gap at most 0 years is allowed",
    ):
        run(SHIPPED, strict=Strictness(max_tier="subnational", max_vintage_gap=0))
    with pytest.raises(StrictFallbackError, match=r"\(tier country, vintage gap 0\), but only"):
        run(SHIPPED, region="FR", strict="subnational")


def test_shipped_spend_factor_in_another_currency() -> None:
    # USEEIO v1.3 publishes a purchaser-price ("with margins") and a producer-price
    # ("without margins") factor per NAICS code, otherwise tied: rule 10 picks the
    # purchaser-price one by default (spend is what the company paid) and says so.
    result = run(SHIPPED, SPEND, region="US", unit="CNY")
    assert (result.factor_id, result.currency, result.price_year) == (
        "useeio-1.3.0:334111",
        "USD",
        2022,
    )
    assert result.factor["price_basis"] == "purchaser"
    assert result.reason == (
        "US national spend-based factor 2022 (useeio-1.3.0) for reporting year 2024: latest "
        "earlier vintage, 2 years older; purchaser price, as requested (price_basis=purchaser)"
    )
    assert "chosen by factor_id order" not in result.reason
    assert result.considered[0] == (
        "useeio-1.3.0:334111:producer: price basis producer ranks after purchaser (rule 10)"
    )


def test_price_basis_chooses_between_purchaser_and_producer_price_factors() -> None:
    producer = run(SHIPPED, SPEND, region="US", unit="USD", price_basis="producer")
    assert producer.factor_id == "useeio-1.3.0:334111:producer"
    assert producer.reason.endswith("; producer price, as requested (price_basis=producer)")
    with pytest.raises(ValueError, match=r"^unknown price basis 'basic'; price bases are "):
        run(SHIPPED, SPEND, region="US", unit="USD", price_basis="basic")


def test_price_basis_ranks_after_tier_and_method_and_is_said_when_not_met() -> None:
    # Only a producer-price factor and one without a basis: the one without a basis ranks
    # first for purchaser-price spend; a lone producer-price factor is used and said so.
    spend = {"activity": "spend.naics.334111", "unit": "USD", "currency": "USD",
             "price_year": 2024, "method": "spend", "co2_kg": None, "co2e_kg": 0.1}  # fmt: skip
    both = library(
        factor("us:producer", region="US", price_basis="producer", **spend),
        factor("us:none", region="US", **spend),
        factor("cn:purchaser", region="CN", price_basis="purchaser", **spend),
    )
    result = run(both, SPEND, region="US", unit="USD")
    assert result.factor_id == "us:none"
    assert result.reason.endswith(
        "; the factor does not say its price basis (purchaser price requested)"
    )
    alone = library(factor("us:producer", region="US", price_basis="producer", **spend))
    result = run(alone, SPEND, region="US", unit="USD")
    assert result.reason.endswith(
        "; producer price: no purchaser-price factor qualifies at this tier and method "
        "(price_basis=purchaser)"
    )
    # a non-money row is not concerned
    assert "price" not in run(library(factor("cn")), region="CN").reason


# ---- resolve_many ------------------------------------------------------------------------


def test_resolve_many_resolves_each_distinct_key_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = resolve_module.resolve

    def counting(*args: Any, **kwargs: Any) -> Resolution:
        calls.append(kwargs["activity_type"].activity)
        return original(*args, **kwargs)

    monkeypatch.setattr(resolve_module, "resolve", counting)
    keys = pa.table(
        {
            "activity": ["electricity"] * 1000 + ["refrigerant.R-410A"],
            "region": ["CN-GD"] * 1000 + ["CN"],
            "unit": ["MWh"] * 1000 + ["kg"],
            "quantity": [1.0] * 1001,
        }
    )
    out = resolve_many(SHIPPED, keys, year=2024)
    assert sorted(calls) == ["electricity", "refrigerant.R-410A"]
    assert out.num_rows == 2
    first = out.to_pylist()[0]
    assert first["activity"] == "electricity"
    assert (first["factor_id"], first["tier"], first["vintage_gap"], first["error"]) == (
        "cn-mee:location:CN-GD:2023",
        "subnational",
        -1,
        None,
    )
    assert (first["unit_conversion"], first["factor_unit"], first["co2_kg"]) == (
        1000.0,
        "kWh",
        SHIPPED.get("cn-mee:location:CN-GD:2023")["co2_kg"],
    )
    second = out.to_pylist()[1]
    assert (second["factor_id"], second["co2e_kg"], second["gwp_basis"]) == (
        "ipcc-gwp:AR6:R-410A",
        2255.5,
        "AR6",
    )


def test_resolve_many_reports_errors_per_key_and_keeps_key_columns() -> None:
    keys = [
        {"activity": "electricity", "region": "ZZ", "unit": "kWh", "year": 2024},
        {"activity": "no.such", "region": "CN", "unit": "kWh", "year": 2024},
        {"activity": "electricity", "region": "FR", "unit": "kWh", "year": 2023},
        {"activity": "electricity", "region": None, "unit": "kWh", "year": 2024},
    ]
    out = resolve_many(SHIPPED, keys, methods=("location",))
    assert out.column_names[:7] == [
        "activity",
        "region",
        "unit",
        "supplier",
        "site",
        "factor",
        "year",
    ]
    rows = {(r["activity"], r["region"]): r for r in out.to_pylist()}
    assert rows[("electricity", "ZZ")]["error"] == (
        "unknown region code 'ZZ' (see esgledger/data/regions.csv)"
    )
    assert rows[("no.such", "CN")]["error"].startswith("unknown activity 'no.such'")
    assert rows[("electricity", "FR")]["error"].startswith(
        "no factor for activity electricity with unit 'kWh' and method location in FR"
    )
    assert rows[("electricity", None)]["error"] == (
        "no region for activity electricity: give the row a region, or its site or entity one"
    )
    assert all(r["factor_id"] is None for r in rows.values())
    assert {key: r["error_kind"] for key, r in rows.items()} == {
        ("electricity", "ZZ"): "region",
        ("no.such", "CN"): "activity",
        ("electricity", "FR"): "not_found",
        ("electricity", None): "region",
    }


def test_resolve_many_says_what_kind_of_error_each_key_has() -> None:
    keys = [
        {"activity": "electricity", "region": "US", "unit": "kWh"},
        {"activity": "electricity", "region": "CN-GD", "unit": "kg"},
        {"activity": "refrigerant.R-9999", "region": "CN", "unit": "kg"},
        {"activity": "electricity", "region": "CN-GD", "unit": "kWh"},
    ]
    out = resolve_many(SHIPPED, keys, year=2024, strict="subnational")
    kinds = {(r["activity"], r["region"], r["unit"]): r["error_kind"] for r in out.to_pylist()}
    assert kinds == {
        ("electricity", "US", "kWh"): "strict",
        ("electricity", "CN-GD", "kg"): "unit",
        ("refrigerant.R-9999", "CN", "kg"): "gas",
        ("electricity", "CN-GD", "kWh"): None,
    }
    assert set(kinds.values()) - {None} <= set(resolve_module.ERROR_KINDS)


def test_resolve_many_carries_the_factors_uncertainty_and_price_basis() -> None:
    lib = library(factor("cn", uncertainty_pct=7.5))
    (row,) = resolve_many(lib, [{"activity": "electricity", "region": "CN", "unit": "kWh"}],
                          year=2024).to_pylist()  # fmt: skip
    assert (row["uncertainty_pct"], row["price_basis"], row["error_kind"]) == (7.5, None, None)
    (spend,) = resolve_many(
        SHIPPED, [{"activity": "spend.naics.334111", "region": "US", "unit": "USD"}], year=2024,
        price_basis="producer",
    ).to_pylist()  # fmt: skip
    assert (spend["factor_id"], spend["price_basis"]) == (
        "useeio-1.3.0:334111:producer",
        "producer",
    )


def test_resolve_many_passes_explicit_factor_supplier_and_site() -> None:
    lib = library(
        factor("cn"),
        factor("csg", supplier="CSG"),
        factor("dc1", site="DC1"),
    )
    keys = [
        {"activity": "electricity", "region": "CN", "unit": "kWh", "supplier": "CSG"},
        {"activity": "electricity", "region": "CN", "unit": "kWh", "site": "DC1"},
        {"activity": "electricity", "region": "CN", "unit": "kWh", "factor": "cn"},
    ]
    out = resolve_many(lib, keys, year=2024)
    assert [(r["factor_id"], r["tier"]) for r in out.to_pylist()] == [
        ("cn", "explicit"),
        ("dc1", "site"),
        ("csg", "supplier"),
    ]


def test_resolve_many_needs_a_year() -> None:
    with pytest.raises(ValueError, match="pass year="):
        resolve_many(SHIPPED, [{"activity": "electricity", "region": "CN", "unit": "kWh"}])


def test_resolve_many_fills_a_missing_year_and_accepts_no_keys() -> None:
    keys = pa.table(
        {
            "activity": ["electricity", "electricity"],
            "region": ["CN", "CN"],
            "unit": ["kWh", "kWh"],
            "year": [2021, None],
        }
    )
    out = resolve_many(SHIPPED, keys, year=2022)
    assert out.select(["year", "factor_id", "vintage_gap"]).to_pylist() == [
        {"year": 2021, "factor_id": "cn-mee:location:CN:2021", "vintage_gap": 0},
        {"year": 2022, "factor_id": "cn-mee:location:CN:2022", "vintage_gap": 0},
    ]
    empty = resolve_many(SHIPPED, [])
    assert (empty.num_rows, empty.column_names[-2:]) == (0, ["error", "error_kind"])


def test_reported_emissions_resolve_to_the_identity_factor() -> None:
    # Rule 7: a supplier's reported CO2e is the emission itself, 1 kg CO2e per kg; a row in
    # tonnes converts by 1000.
    supplier_emissions = Taxonomy.shipped().get("supplier.emissions")
    resolution = resolve(
        FactorLibrary.shipped(),
        activity_type=supplier_emissions,
        region_chain=chain("CN"),
        year=2024,
        unit="t",
    )
    assert resolution.factor_id == "reported_emissions:supplier.emissions"
    assert resolution.factor["co2e_kg"] == 1.0
    assert resolution.factor["method"] == "reported"
    assert resolution.factor["gwp_basis"] is None
    assert resolution.unit_conversion == 1000.0
    assert resolution.tier == "global"


# ---- rule 9: proxy regions ---------------------------------------------------------------

CN_FUELS = [
    factor(
        "gb:diesel",
        activity="stationary.diesel",
        region="GB",
        unit="L",
        co2_kg=2.5,
        method="fuel",
    ),
    factor(
        "us:diesel",
        activity="stationary.diesel",
        region="US",
        unit="L",
        co2_kg=2.7,
        method="fuel",
        year=2025,
    ),
]


def test_without_proxies_another_region_never_applies() -> None:
    with pytest.raises(FactorNotFoundError) as info:
        run(library(*CN_FUELS), DIESEL, unit="L")
    assert str(info.value) == (
        "no factor for activity stationary.diesel with unit 'L' in CN-GD or above "
        "(CN-GD > CN-GRID-SOUTH > CN > GLOBAL); 2 factor(s) for regions outside "
        "CN-GD > CN-GRID-SOUTH > CN > GLOBAL (GB, US); "
        + ADD_FACTOR.format("stationary.diesel", "CN-GD")
    )


def test_the_reason_is_given_in_chinese_from_the_same_message() -> None:
    """Issue 10, section 4: explain --lang zh-CN printed English reasons. The resolver builds
    one message (esgledger.reasons) and renders it in both languages."""
    proxy = run(library(*CN_FUELS), DIESEL, unit="L", proxies={"CN": ("GB", "US")})
    assert proxy.reason_zh == (
        "CN-GD > CN-GRID-SOUTH > CN > GLOBAL 没有排放因子；以GB 全国基于燃料的排放因子 2024（base）"
        "作为代用（代用地区 CN → GB、US），报告年度 2024：年份相同"
    )
    lib = library(
        factor("gd", region="CN-GD", year=2022),
        factor("hk", region="HK", supplier="HK Power Co", year=2024),
    )
    older = run(lib)
    assert older.reason == (
        "CN-GD provincial location-based factor 2022 (base) for reporting year 2024: latest "
        "earlier vintage, 2 years older"
    )
    assert older.reason_zh == (
        "CN-GD 省级基于位置的排放因子 2022（base），报告年度 2024：采用最近的较早年份，早 2 年"
    )
    supplier = run(lib, region="HK", supplier="HK Power Co")
    assert supplier.reason_zh.startswith("供应商 'HK Power Co' 的基于位置的特定排放因子 2024")
    missed = run(lib, supplier="Other Co")
    assert missed.reason_zh.endswith("；没有供应商 'Other Co' 的特定排放因子")


def test_a_proxy_is_used_only_when_nothing_in_the_chain_qualifies() -> None:
    lib = library(*CN_FUELS)
    result = run(lib, DIESEL, unit="L", proxies={"CN": ("GB", "US")})
    assert (result.factor_id, result.tier, result.vintage_gap) == ("gb:diesel", "proxy", 0)
    assert result.reason == (
        "no factor for CN-GD > CN-GRID-SOUTH > CN > GLOBAL; GB national fuel-based factor 2024 "
        "(base) used as a proxy (proxies CN → GB, US) for reporting year 2024: same vintage"
    )
    assert result.considered == (
        "us:diesel: proxy region US comes after GB (proxies CN → GB, US)",
        "2 factor(s) for regions outside CN-GD > CN-GRID-SOUTH > CN > GLOBAL (GB, US)",
    )
    # A factor anywhere in the chain (here GLOBAL, the worst in-chain tier) beats any proxy.
    with_global = library(
        *CN_FUELS,
        factor("world", activity="stationary.diesel", region="GLOBAL", unit="L", method="fuel"),
    )
    result = run(with_global, DIESEL, unit="L", proxies={"CN": ("GB",)})
    assert (result.factor_id, result.tier) == ("world", "global")


def test_proxies_are_tried_in_order_and_the_reason_says_which_were_empty() -> None:
    lib = library(*CN_FUELS)
    result = run(lib, DIESEL, unit="L", proxies={"cn": ["FR", "us", "GB"]})
    assert (result.factor_id, result.tier, result.vintage_gap) == ("us:diesel", "proxy", 1)
    assert result.reason == (
        "no factor for CN-GD > CN-GRID-SOUTH > CN > GLOBAL; US national fuel-based factor 2025 "
        "(base) used as a proxy (proxies CN → FR, US, GB; nothing qualifies in FR) for "
        "reporting year 2024: no vintage up to the reporting year, earliest later one, "
        "1 year newer"
    )


def test_the_nearest_proxy_key_in_the_chain_wins_then_the_wildcard() -> None:
    lib = library(*CN_FUELS)
    proxies = {"CN": ("US",), "CN-GD": ("GB",), "*": ("US",)}
    assert run(lib, DIESEL, unit="L", proxies=proxies).factor_id == "gb:diesel"
    assert run(lib, DIESEL, region="CN-BJ", unit="L", proxies=proxies).factor_id == "us:diesel"
    result = run(lib, DIESEL, region="FR", unit="L", proxies={"*": ("GB",)})
    assert result.reason.startswith(
        "no factor for FR > GLOBAL; GB national fuel-based factor 2024 (base) used as a proxy "
        "(proxies * → GB) for"
    )
    # A key that is not in the row's chain, and no wildcard: no proxy.
    with pytest.raises(FactorNotFoundError):
        run(lib, DIESEL, region="FR", unit="L", proxies={"CN": ("GB",)})


def test_proxy_factors_must_qualify_like_any_other() -> None:
    # Unit dimension, method and exact region are checked; a GB subregion or a supplier
    # factor filed under GB is not a GB proxy.
    lib = library(
        factor("gb:t", activity="stationary.diesel", region="GB", unit="t", method="fuel"),
        factor("gb:wtt", activity="stationary.diesel", region="GB", unit="L", method="wtt"),
        factor(
            "gb:acme",
            activity="stationary.diesel",
            region="GB",
            unit="L",
            method="fuel",
            supplier="ACME",
        ),
        factor("us:ca", activity="stationary.diesel", region="US-CA", unit="L", method="fuel"),
    )
    with pytest.raises(FactorNotFoundError) as info:
        run(lib, DIESEL, unit="L", proxies={"CN": ("GB", "US")})
    assert str(info.value) == (
        "no factor for activity stationary.diesel with unit 'L' in CN-GD or above "
        "(CN-GD > CN-GRID-SOUTH > CN > GLOBAL); no factor in the proxy regions either "
        "(proxies CN → GB, US); 1 refused: specific to supplier 'ACME'; 1 refused: proxy GB: "
        "per t, which cannot be converted from the row's L; 1 refused: proxy GB: method wtt "
        "is used only when requested (methods=...); 3 factor(s) for regions outside "
        "CN-GD > CN-GRID-SOUTH > CN > GLOBAL (GB, US-CA); "
        + ADD_FACTOR.format("stationary.diesel", "CN-GD")
    )


def test_within_a_proxy_region_the_usual_ranking_applies() -> None:
    lib = library(
        *CN_FUELS,
        factor(
            "gb:diesel:2022",
            activity="stationary.diesel",
            region="GB",
            unit="L",
            method="fuel",
            year=2022,
        ),
        factor(
            "gb:user",
            factor_set="user",
            activity="stationary.diesel",
            region="GB",
            unit="L",
            method="fuel",
        ),
    )
    result = run(lib, DIESEL, unit="L", proxies={"CN": ("GB",)})
    assert result.factor_id == "gb:user"
    assert result.considered[:2] == (
        "gb:diesel: set base has precedence 0, below user (100)",
        "gb:diesel:2022: vintage 2022 loses to 2024 (rule 4)",
    )


def test_strictness_treats_a_proxy_as_the_worst_tier() -> None:
    lib = library(*CN_FUELS)
    assert run(lib, DIESEL, unit="L", proxies={"CN": "GB"}, strict=Strictness()).tier == "proxy"
    assert run(lib, DIESEL, unit="L", proxies={"CN": "GB"}, strict="proxy").tier == "proxy"
    with pytest.raises(StrictFallbackError) as info:
        run(lib, DIESEL, unit="L", proxies={"CN": "GB"}, strict="global")
    assert str(info.value) == (
        "strict: stationary.diesel in CN-GD for 2024 resolves to gb:diesel (tier proxy, "
        "vintage gap 0), but only tier global or better is allowed (no factor for "
        "CN-GD > CN-GRID-SOUTH > CN > GLOBAL; GB national fuel-based factor 2024 (base) used as "
        "a proxy (proxies CN → GB) for reporting year 2024: same vintage)"
    )


def test_an_explicit_factor_is_never_a_proxy() -> None:
    result = run(library(*CN_FUELS), DIESEL, unit="L", factor_id="us:diesel", proxies={"CN": "GB"})
    assert (result.factor_id, result.tier) == ("us:diesel", "explicit")


@pytest.mark.parametrize(
    ("proxies", "message"),
    [
        (
            {"ZZ": ("GB",)},
            "proxy key 'ZZ' is not a region code (esgledger/data/regions.csv) or '*'",
        ),
        (
            {"CN": ("XX",)},
            "proxy region 'XX' for CN is not a region code (esgledger/data/regions.csv)",
        ),
        ({"CN": ()}, "no proxy regions for CN"),
        ({"CN": ("GB", "gb")}, "proxy regions for CN repeat GB"),
        ({"CN": ("CN",)}, "CN cannot be its own proxy"),
        ({"GLOBAL": ("GB",)}, "GLOBAL cannot be a proxy key: use '*' for rows of any region"),
        (
            {"CN": ("GLOBAL",)},
            "GLOBAL cannot be a proxy region (for CN): global factors already apply to every row",
        ),
        ({"CN": ("GB",), "cn": ("US",)}, "proxy key CN is given twice"),
    ],
)
def test_a_bad_proxy_configuration_is_refused(
    proxies: dict[str, tuple[str, ...]], message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        resolve_module.parse_proxies(proxies)
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        run(library(*CN_FUELS), DIESEL, unit="L", proxies=proxies)


def test_proxies_from_command_line_options() -> None:
    parse = resolve_module.proxies_from_options
    assert parse(["CN=GB,US", " * = gb "]) == {"CN": ("GB", "US"), "*": ("GB",)}
    assert parse([]) == {}
    for bad in ("CN", "CN=", "=GB", "CN=,"):
        message = f"proxy option {bad!r} is not of the form REGION=PROXY[,PROXY...], e.g. CN=GB,US"
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            parse([bad])
    with pytest.raises(ValueError, match=r"^proxy key CN is given twice$"):
        parse(["CN=GB", "cn=US"])


def test_resolve_many_passes_proxies_and_reports_the_factor_region() -> None:
    keys = [
        {"activity": "stationary.diesel", "region": "CN-GD", "unit": "L"},
        {"activity": "stationary.diesel", "region": "US", "unit": "L"},
    ]
    out = resolve_many(library(*CN_FUELS), keys, year=2024, proxies={"CN": ("GB",)})
    assert out.select(["region", "factor_id", "factor_region", "tier"]).to_pylist() == [
        {"region": "CN-GD", "factor_id": "gb:diesel", "factor_region": "GB", "tier": "proxy"},
        {"region": "US", "factor_id": "us:diesel", "factor_region": "US", "tier": "country"},
    ]
    with pytest.raises(ValueError, match=r"^no proxy regions for CN$"):
        resolve_many(library(*CN_FUELS), keys, year=2024, proxies={"CN": ()})
