"""Rule 11 of docs/methodology/factor-resolution.md: the explicit, flagged fallbacks of a
workspace profile — business travel, freight and spend of a Chinese group resolve without
proxies, each with its tier (``default`` or ``proxy``) and a reason that says so.

Published values checked (UK DESNZ, Greenhouse gas reporting: conversion factors 2024, flat
file v1.1, verified in shared/reference/standards-and-data.md §4.3 [V]): long-haul economy
flight without RF 0.11812 kg CO2e/passenger.km (ID 21_316_3171_11_1), hotel stay China 53.5
kg CO2e/room-night (29_600_4009_13_1), container ship 0.01612 and freight train 0.02779 kg
CO2e/tonne.km (27_320_3235_14_1, 27_315_3151_14_1). Tolerance: 1e-9 relative (the shipped
table carries the published digits; only float rounding remains).
"""

from __future__ import annotations

import re

import pytest

from esgledger.errors import FactorNotFoundError, StrictFallbackError
from esgledger.factors import FactorLibrary, resolve, resolve_many
from esgledger.factors.profiles import get as profile
from esgledger.factors.resolve import Fallback, Resolution, parse_fallbacks
from esgledger.inventory.quality import load_rules, region_match
from esgledger.regions import chain
from esgledger.taxonomy import Taxonomy

TAXONOMY = Taxonomy.shipped()
LIBRARY = FactorLibrary.shipped()
CN = profile("CN").fallbacks
REL = 1e-9


def _resolve(activity: str, region: str, unit: str, fallbacks: tuple[Fallback, ...] = CN):
    return resolve(
        LIBRARY,
        activity_type=TAXONOMY.get(activity),
        region_chain=chain(region),
        year=2024,
        unit=unit,
        fallbacks=fallbacks,
    )


@pytest.mark.parametrize(
    ("activity", "region", "unit", "factor_id", "value"),
    [
        # flights from Shanghai (DESNZ bands by distance, not by the country of departure)
        (
            "travel.air.long_haul.economy",
            "CN-SH",
            "passenger * km",
            "desnz-2024:21_316_3171_11:travel.air.long_haul.economy",
            0.11812,
        ),
        (
            "travel.air.short_haul.economy",
            "CN-SH",
            "passenger * km",
            "desnz-2024:21_316_3165_11:travel.air.short_haul.economy",
            0.10794,
        ),
        ("travel.rail", "CN-GD", "pkm", "desnz-2024:25_315_3147_11:travel.rail", 0.03546),
        (
            "travel.rail.high_speed",
            "CN-SH",
            "passenger * km",
            "desnz-2024:25_315_3147_11:travel.rail",
            0.03546,
        ),
        ("travel.taxi", "CN-GD", "vehicle * km", "desnz-2024:25_313_3141_4:travel.taxi", 0.20805),
        ("travel.bus", "CN-GD", "passenger * km", "desnz-2024:25_314_3145_11:travel.bus", 0.10846),
        ("freight.sea", "CN-SH", "tonne * km", "desnz-2024:27_320_3235_14:freight.sea", 0.01612),
        ("freight.rail", "CN", "tonne * km", "desnz-2024:27_315_3151_14:freight.rail", 0.02779),
        ("freight.road", "CN-GD", "tonne * km", "desnz-2024:27_304_3140_14:freight.road", 0.09752),
    ],
)
def test_china_travel_and_freight_take_the_desnz_default(
    activity: str, region: str, unit: str, factor_id: str, value: float
) -> None:
    result = _resolve(activity, region, unit)
    assert result.factor_id == factor_id
    assert result.tier == "default"
    assert result.factor["co2e_kg"] == pytest.approx(value, rel=REL)
    assert result.unit_conversion == pytest.approx(1.0)
    assert "used as the workspace profile's default for " in result.reason
    assert (
        "(fallback → GB, set desnz-2024: DESNZ factors used as an explicit global default for "
        "China) for reporting year 2024: same vintage"
    ) in result.reason
    assert "DESNZ factors used as an explicit global default for China" in result.reason
    assert result.reason.startswith(f"no factor for {' > '.join(chain(region))}; GB national")
    # Without the profile the same row has no factor: a UK factor never applies by itself.
    with pytest.raises(FactorNotFoundError):
        _resolve(activity, region, unit, fallbacks=())


def test_the_reason_names_the_pattern_that_matched_the_row() -> None:
    flight = _resolve("travel.air.long_haul.economy", "CN-SH", "passenger * km")
    assert "profile's default for travel.air.* (fallback" in flight.reason
    hsr = _resolve("travel.rail.high_speed", "CN-SH", "passenger * km")
    assert "profile's default for travel.rail.high_speed (fallback" in hsr.reason


def test_ten_thousand_pkm_long_haul_from_shanghai_is_the_desnz_worked_value() -> None:
    # standards-and-data.md §5.4 [C on V]: 10,000 pkm long-haul economy, without RF: 1,181.2 kg
    result = _resolve("travel.air.long_haul.economy", "CN-SH", "passenger * km")
    assert 10_000 * result.unit_conversion * result.factor["co2e_kg"] == pytest.approx(1181.2)


def test_hotel_nights_in_china_use_the_desnz_china_factor_at_country_tier() -> None:
    result = _resolve("travel.hotel", "CN", "room_night")
    assert result.factor_id == "desnz-2024:29_600_4009_13:travel.hotel"
    assert result.tier == "country"  # DESNZ publishes a factor for China itself: no fallback
    assert result.factor["co2e_kg"] == pytest.approx(53.5, rel=REL)


def test_a_us_flight_uses_the_epa_hub_and_the_default_only_where_epa_has_none() -> None:
    epa = _resolve("travel.air.medium_haul.average", "US", "passenger * mile")
    assert (epa.factor_id, epa.tier) == (
        "epa-hub-2025:t10:air_travel_medium_haul_300_miles_2300_miles",
        "country",
    )
    assert epa.factor["co2_kg"] == pytest.approx(0.129, rel=REL)  # EPA Hub 2025 Table 10
    # EPA publishes no cabin classes: the profile's default fills that gap, flagged.
    business = _resolve("travel.air.long_haul.business", "US", "passenger * km")
    assert business.tier == "default"
    assert business.factor["factor_set"] == "desnz-2024"


def test_cny_spend_takes_the_us_eeio_factor_as_a_flagged_geographic_proxy() -> None:
    result = _resolve("spend.naics.541511", "CN-GD", "CNY")
    assert result.factor_id == "useeio-1.3.0:541511"  # purchaser price (rule 10)
    assert result.tier == "proxy"
    assert (result.currency, result.price_year) == ("USD", 2022)
    assert "used as the workspace profile's geographic proxy for spend.*" in result.reason
    assert "US EEIO factors used as a geographic proxy for spend in CNY" in result.reason
    with pytest.raises(FactorNotFoundError):
        _resolve("spend.naics.541511", "CN-GD", "CNY", fallbacks=())


def test_a_fallback_never_beats_a_factor_of_the_rows_own_chain() -> None:
    # CN-GD electricity has MEE/NBS factors: an electricity fallback to GB is never used.
    fallbacks = parse_fallbacks([{"activities": ["electricity"], "regions": ["GB"]}])
    result = _resolve("electricity", "CN-GD", "kWh", fallbacks=fallbacks)
    assert (result.tier, result.factor["factor_set"]) == ("subnational", "cn-mee")


def test_a_fallback_is_limited_to_its_sets_and_says_when_nothing_qualifies() -> None:
    fallbacks = parse_fallbacks(
        [{"activities": ["travel.rail"], "regions": ["GB"], "sets": ["epa-hub-2025"]}]
    )
    with pytest.raises(FactorNotFoundError) as caught:
        _resolve("travel.rail", "CN", "passenger * km", fallbacks=fallbacks)
    assert "no factor for the workspace profile's default for travel.rail either" in str(
        caught.value
    )
    assert any("not of set epa-hub-2025" in entry for entry in caught.value.tried)


def test_the_default_tier_ranks_between_global_and_proxy_for_strictness() -> None:
    def rail_in_china(strict: str) -> Resolution:
        return resolve(
            LIBRARY,
            activity_type=TAXONOMY.get("travel.rail"),
            region_chain=chain("CN"),
            year=2024,
            unit="passenger * km",
            fallbacks=CN,
            strict=strict,
        )

    with pytest.raises(StrictFallbackError, match=r"tier default"):
        rail_in_china("global")
    assert rail_in_china("default").tier == "default"


def test_the_profile_fallback_comes_before_the_proxy_regions() -> None:
    result = resolve(
        LIBRARY,
        activity_type=TAXONOMY.get("travel.bus"),
        region_chain=chain("CN-GD"),
        year=2024,
        unit="passenger * km",
        fallbacks=parse_fallbacks([{"activities": ["travel.bus"], "regions": ["US"]}]),
        proxies={"CN": ("GB",)},
    )
    assert (result.tier, result.factor["factor_set"]) == ("default", "epa-hub-2025")


def test_resolve_many_carries_the_fallback_tier_and_region() -> None:
    table = resolve_many(
        LIBRARY,
        [
            {"activity": "travel.air.long_haul.economy", "region": "CN-SH", "unit": "pkm"},
            {"activity": "spend.naics.541511", "region": "CN-GD", "unit": "CNY"},
        ],
        year=2024,
        fallbacks=[f.as_dict() for f in CN],
    ).to_pylist()
    assert [(r["tier"], r["factor_region"], r["error"]) for r in table] == [
        ("proxy", "US", None),
        ("default", "GB", None),
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"activities": [], "regions": ["GB"]}, "fallback 1: no activities"),
        ({"activities": ["travel.*x"], "regions": ["GB"]}, "is not an activity key or a family"),
        ({"activities": ["travel.rail"], "regions": []}, "fallback 1: no regions"),
        ({"activities": ["travel.rail"], "regions": ["GLOBAL"]}, "GLOBAL cannot be a fallback"),
        ({"activities": ["travel.rail"], "regions": ["XX"]}, "region 'XX' is not a region code"),
        ({"activities": ["travel.rail"], "regions": ["GB"], "tier": "global"}, "tier 'global'"),
        ({"activities": ["travel.rail"], "regions": ["GB"], "proxy": 1}, "unknown key(s) proxy"),
    ],
)
def test_parse_fallbacks_refuses_malformed_entries(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_fallbacks([raw])


def test_a_default_line_is_scored_as_a_different_area_and_a_proxy_line_as_poor() -> None:
    rules = {
        r.region_match: r.score
        for r in load_rules().for_indicator("geography", "set")
        if r.region_match in (("default",), ("other",))
    }
    assert region_match("CN-SH", "GB", "default", "distance") == "default"
    assert region_match("CN-GD", "US", "proxy", "spend") == "other"
    # GHG Protocol Scope 3 Standard Table 7.6: "different area" is fair (3); esgledger scores
    # a user-chosen proxy one step lower (4).
    assert rules == {("default",): 3, ("other",): 4}
