"""Region codes and the fallback chain used by factor resolution."""

from __future__ import annotations

import pytest

from esgledger import regions


def test_chinese_province_falls_back_through_its_grid_region_to_country_and_global() -> None:
    assert regions.chain("CN-GD") == ("CN-GD", "CN-GRID-SOUTH", "CN", "GLOBAL")
    assert regions.chain("cn-sc") == ("CN-SC", "CN-GRID-SOUTHWEST", "CN", "GLOBAL")


def test_hong_kong_is_its_own_market_not_a_chinese_province() -> None:
    assert regions.chain("HK") == ("HK", "GLOBAL")


def test_every_region_reaches_global_and_has_a_known_kind() -> None:
    for code, region in regions.all_regions().items():
        assert regions.chain(code)[-1] == "GLOBAL"
        assert region.kind in regions.KINDS


@pytest.mark.parametrize(
    ("province", "grid"),
    # MEE/NBS regional grid division used for the 2021-2023 factors
    # (standards-and-data.md §4.5; the seven regions and their members).
    [("CN-BJ", "CN-GRID-NORTH"), ("CN-LN", "CN-GRID-NORTHEAST"), ("CN-JS", "CN-GRID-EAST"),
     ("CN-HB", "CN-GRID-CENTRAL"), ("CN-XJ", "CN-GRID-NORTHWEST"), ("CN-CQ", "CN-GRID-SOUTHWEST"),
     ("CN-YN", "CN-GRID-SOUTH")],
)  # fmt: skip
def test_provinces_sit_in_their_regional_grid(province: str, grid: str) -> None:
    assert regions.get(province).parent == grid


def test_all_31_mainland_provinces_are_present() -> None:
    provinces = [r for r in regions.all_regions().values() if r.kind == "province"]
    assert len([p for p in provinces if p.country == "CN"]) == 31


def test_unknown_region_is_a_key_error_naming_it() -> None:
    with pytest.raises(KeyError, match="unknown region code 'CN-XX'"):
        regions.get("CN-XX")
    assert not regions.is_known("CN-XX")
