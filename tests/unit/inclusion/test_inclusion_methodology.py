"""Methodologies as data (esgledger.inclusion.methodology).

Factors: reference ``domain-modules.md`` §3.1 (Shenzhen per 深圳市低碳公共出行碳普惠方法学（试行）
as reported by citysz.net 2022-09-23; Wuhan 武碳江湖 per China Daily 2025-05-23) and §3.2
(Guangzhou average method, Huang Ying et al. 2017).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from esgledger import regions
from esgledger.errors import InputError, NotFoundError
from esgledger.inclusion import methodology as m


def test_the_shipped_factors_are_the_published_ones() -> None:
    sz = m.get("shenzhen-transit")
    assert sz.modes["metro"].value_g == Decimal("46.7")
    assert sz.modes["metro"].basis == "pkm"
    assert sz.modes["metro"].confidence == "V"
    assert sz.modes["bus_electric"].value_g == Decimal("26.9")
    wh = m.get("wuhan-transit")
    assert (wh.modes["bus"].basis, wh.modes["bus"].value_g) == ("trip", Decimal("212.5"))
    assert wh.modes["metro"].value_g == Decimal("78.4")
    assert wh.modes["bike_share"].value_g == Decimal("93.3")
    assert wh.modes["bike_share"].scenario == "cycling"
    gz = m.get("guangzhou-metro-average")
    assert (gz.modes["metro"].basis, gz.modes["metro"].value_g) == ("trip", Decimal("515.5"))
    assert gz.baseline == "average"


def test_the_metro_discrepancy_is_noted_and_the_lower_value_kept() -> None:
    sz = m.get("shenzhen-transit")
    assert "46.8" in sz.modes["metro"].note
    assert "46.8" in sz.note


def test_factor_ids_name_methodology_version_and_mode() -> None:
    sz = m.get("shenzhen-transit")
    assert sz.modes["metro"].factor_id == "shenzhen-transit/2021.1/metro"
    assert sz.modes["bus_electric"].fallback_factor_id == (
        "shenzhen-transit/2021.1/bus_electric/per_trip"
    )
    assert sz.modes["metro"].fallback_factor_id is None


def test_unknown_filing_metadata_stays_empty() -> None:
    for meth in m.registry():
        assert meth.filing_number == ""
        assert meth.filing_date is None
    assert m.get("wuhan-transit").authority.en == ""
    assert m.get("shenzhen-transit").authority.zh == "深圳市生态环境局"


def test_regions_are_known_codes_and_rules_are_parameters() -> None:
    for meth in m.registry():
        assert regions.is_known(meth.region)
        assert meth.timezone == "Asia/Shanghai"
        assert meth.rules.confidence == "A"
        assert set(meth.rules.max_speed_kmh) == set(meth.modes)
        assert meth.rules.od_retention_days == 90
    assert m.get("shenzhen-transit").region == "CN-GD"
    assert m.get("wuhan-transit").region == "CN-HB"
    assert m.get("wuhan-transit").city.zh == "武汉"


def test_resolve_id_takes_any_case_and_a_unique_prefix() -> None:
    assert m.resolve_id("Shenzhen") == "shenzhen-transit"
    assert m.resolve_id("WUHAN-TRANSIT") == "wuhan-transit"
    assert m.resolve_id(" guangzhou ") == "guangzhou-metro-average"


def test_resolve_id_refuses_an_unknown_id_listing_the_ids() -> None:
    with pytest.raises(
        InputError, match="guangzhou-metro-average, shenzhen-transit, wuhan-transit"
    ):
        m.resolve_id("beijing")


def test_resolve_id_refuses_an_empty_text() -> None:
    with pytest.raises(InputError, match="is not a methodology"):
        m.resolve_id("")


def test_get_picks_the_version_effective_on_a_day() -> None:
    assert m.get("shenzhen", dt.date(2026, 1, 1)).version == "2021.1"
    assert m.get("shenzhen", dt.date(2021, 12, 17)).version == "2021.1"


def test_get_before_any_version_is_a_clear_error() -> None:
    with pytest.raises(
        NotFoundError,
        match=r"no version of shenzhen-transit is effective on 2021-12-16 "
        r"\(2021.1: 2021-12-17 to open\)",
    ):
        m.get("shenzhen", dt.date(2021, 12, 16))


def test_versions_are_oldest_first() -> None:
    found = m.versions("wuhan")
    assert [v.id for v in found] == ["wuhan-transit"]


def test_registry_is_read_once() -> None:
    assert m.registry() is m.registry()


# -- average method (Huang Ying et al. 2017, reference domain-modules.md §3.2) -----------------


def test_average_baseline_hand_worked() -> None:
    # car 600 pkm at 180 g/pkm, bus 300 pkm at 60, metro 100 pkm at 40:
    # EF_BL = (600*180 + 300*60 + 100*40) / 1000 = (108000 + 18000 + 4000) / 1000 = 130
    # RF_bus = 130 - 60 = 70; RF_metro = 130 - 40 = 90; car (180 >= 130) reduces nothing
    result = m.average_baseline(
        [("car", 600, "180"), ("bus", 300, "60"), ("metro", "100", Decimal(40))]
    )
    assert result.ef_bl_g_per_pkm == Decimal(130)
    assert result.total_pkm == Decimal(1000)
    assert dict(result.rf_g_per_pkm) == {"bus": Decimal(70), "metro": Decimal(90)}


def test_average_baseline_keeps_decimal_exactness() -> None:
    # (1*0.1 + 2*0.2) / 3 = 0.5/3 = 0.1666... ; RF of the 0.1 mode = 0.0666...
    result = m.average_baseline(
        [m.ModeShare("a", Decimal(1), Decimal("0.1")), m.ModeShare("b", Decimal(2), Decimal("0.2"))]
    )
    assert result.ef_bl_g_per_pkm == Decimal("0.5") / Decimal(3)
    assert list(result.rf_g_per_pkm) == ["a"]


@pytest.mark.parametrize(
    ("rows", "match"),
    [
        ([], "no mode rows"),
        ([("car", 0, 100), ("bus", 0, 50)], "sum to zero"),
        ([("car", -5, 100)], "must be a number ≥ 0"),
        ([("car", 5, -100)], "must be a number ≥ 0"),
        ([("car", 5.0, 100)], "not decimal numbers"),
        ([("car", "x", 100)], "not decimal numbers"),
        ([("car", 5, 100), ("car", 6, 100)], "repeated"),
    ],
)
def test_average_baseline_refuses_bad_rows(
    rows: list[tuple[str, object, object]], match: str
) -> None:
    with pytest.raises(InputError, match=match):
        m.average_baseline(rows)  # type: ignore[arg-type]
