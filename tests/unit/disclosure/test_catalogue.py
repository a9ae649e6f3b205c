"""The metric catalogue: shipped file, status rules, company metric files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import esgledger.disclosure as disclosure
from esgledger.disclosure.catalogue import DERIVATIONS, load_catalogue, unit_dimension_ok
from esgledger.errors import InputError

EXAMPLE = Path(disclosure.__file__).parent / "examples" / "company_metrics.csv"
HEADER = "code,title_en,title_zh,type,unit,unit_label_en,unit_label_zh,parent\n"


def write(tmp_path: Path, body: str, name: str = "metrics.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_public_api_is_explicit() -> None:
    assert sorted(disclosure.__all__) == sorted(
        name for name in disclosure.__all__ if hasattr(disclosure, name)
    )
    assert "load_catalogue" in disclosure.__all__


def test_shipped_catalogue_loads_with_every_unit_parsable() -> None:
    catalogue = load_catalogue()
    assert len(catalogue) > 100
    for item in catalogue:
        assert unit_dimension_ok(item.unit), item.code
        assert item.type in ("number", "text", "table")
        assert item.derived_from in ("", *DERIVATIONS)
    assert not unit_dimension_ok("furlongs per fortnight of gold")


def test_every_maps_to_target_exists_and_derivations_are_used() -> None:
    catalogue = load_catalogue()
    for item in catalogue:
        for target in item.maps_to:
            assert target in catalogue, (item.code, target)
    used = {item.derived_from for item in catalogue if item.derived_from}
    assert used == set(DERIVATIONS)


def test_a12_maps_to_gri_and_ifrs_s2() -> None:
    catalogue = load_catalogue()
    a12 = catalogue["A1.2"]
    assert {"GRI 305-1", "GRI 305-2", "S2.29a.scope1", "D.metrics.scope1"} <= set(a12.maps_to)
    assert a12.is_derived
    assert catalogue.derived_by("ghg.scope1") == [
        catalogue["D.metrics.scope1"],
        catalogue["S2.29a.scope1"],
        catalogue["GRI 305-1"],
    ]


@pytest.mark.parametrize(
    ("code", "year", "tier", "expected"),
    [
        ("A1.3", 2024, "main_board", "comply_or_explain"),
        ("MDR.board_oversight", 2024, "gem", "mandatory"),
        ("D.metrics.scope1", 2024, "largecap", "not_applicable"),
        ("D.metrics.scope1", 2025, "gem", "mandatory"),
        ("D.metrics.scope3", 2025, "main_board", "comply_or_explain"),
        ("D.metrics.scope3", 2025, "largecap", "comply_or_explain"),
        ("D.metrics.scope3", 2026, "largecap", "mandatory"),
        ("D.metrics.scope3", 2026, "main_board", "comply_or_explain"),
        ("D.metrics.scope3", 2026, "gem", "voluntary"),
        ("D.metrics.industry", 2026, "largecap", "voluntary"),
    ],
)
def test_status_rules(code: str, year: int, tier: str, expected: str) -> None:
    assert load_catalogue()[code].status_for(year, tier) == expected  # type: ignore[arg-type]


def test_unknown_tier_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown issuer tier 'h_shares'"):
        load_catalogue()["A1.1"].status_for(2025, "h_shares")  # type: ignore[arg-type]


def test_example_company_metrics_load_as_voluntary_children() -> None:
    catalogue = load_catalogue(EXAMPLE)
    donations = catalogue["CO.charity.donations_raised"]
    assert donations.user
    assert donations.framework == "company"
    assert donations.status_for(2026, "largecap") == "voluntary"
    assert donations.section == "soc.community"
    assert donations in catalogue.children("B8.2")
    with EXAMPLE.open(encoding="utf-8") as handle:
        assert len(catalogue) == len(load_catalogue()) + len(list(csv.DictReader(handle)))


def test_chinese_headers_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "zh.csv"
    path.write_text(
        "指标代码,英文名称,中文名称,类型,单位\n"
        "CO.volunteer_hours,Volunteer hours,志愿服务时数,number,hour\n",
        encoding="utf-8",
    )
    assert load_catalogue(path)["CO.volunteer_hours"].unit == "hour"


def test_bad_company_rows_are_rejected_with_row_column_and_fix(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "A1.2,Shadow,影子,number,tonne,,,\n"
        "CO.a,Thing,Thing,number,bananas,,,\n"
        "CO.b,Count,计数,number,,,,\n"
        "CO.c,Orphan,孤儿,text,,,,Z9.9\n"
        "CO.c,Again,再次,chart,,,,\n",
    )
    with pytest.raises(InputError, match=r"metrics\.csv was rejected: 7 problem") as caught:
        load_catalogue(path)
    issues = {(i.row, i.column): i for i in caught.value.issues}
    assert "already an item of the shipped catalogue" in issues[(2, "code")].problem
    assert issues[(3, "title_zh")].problem == "the Chinese title has no Chinese characters"
    assert issues[(3, "unit")].fix.startswith("use a unit such as t, kg")
    assert "needs a label" in issues[(4, "unit_label_en")].problem
    assert issues[(5, "parent")].fix == "use a code such as B8.2"
    assert "appears twice (also in row 5)" in issues[(6, "code")].problem
    assert "metrics.csv, row 6, column 'type': unknown type" in str(caught.value)


def test_unknown_column_in_company_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("code,title_en,title_zh,type,derived_from\nCO.x,X,某,number,ghg.scope1\n")
    with pytest.raises(InputError, match="header is not right"):
        load_catalogue(path)


def test_as_arrow_round_trips_codes() -> None:
    catalogue = load_catalogue()
    table = catalogue.as_arrow()
    assert table.num_rows == len(catalogue)
    codes = table.column("code").to_pylist()
    assert codes.index("A2.1") < codes.index("D.governance")
