"""The Target model: validation, scope selections, linear arithmetic, covered emissions."""

from __future__ import annotations

import csv
from importlib import resources
from typing import Any

import pydantic
import pytest

import esgledger.targets as targets_pkg
from _targets_support import make_target
from esgledger.errors import InputError
from esgledger.targets.model import (
    Scope2Method,
    ScopeSelection,
    Target,
    TargetKind,
    annual_reduction_rate,
    base_value,
    covered_emissions,
    denominator_unit_expression,
    parse_target,
    pathway,
    target_emissions,
)


def make(**overrides: Any) -> Target:
    return make_target(
        **{"id": "t1", "name": "Scope 1+2", "base_year": 2021, "reduction": 0.7, **overrides}
    )


@pytest.mark.parametrize(
    ("text", "scopes", "categories", "label"),
    [
        ("1+2", (1, 2), None, "1+2"),
        ("3", (3,), None, "3"),
        ("1+2+3", (1, 2, 3), None, "1+2+3"),
        (" 2 + 1 ", (1, 2), None, "1+2"),
        ("3:1,2,6", (3,), (1, 2, 6), "3:1,2,6"),
        ("3: 6, 1", (3,), (1, 6), "3:1,6"),
    ],
)
def test_scope_selection_parses_text(
    text: str, scopes: tuple[int, ...], categories: tuple[int, ...] | None, label: str
) -> None:
    sel = ScopeSelection.parse(text)
    assert sel.scopes == scopes
    assert sel.scope3_categories == categories
    assert sel.label == label
    assert sel.scope2_method is Scope2Method.MARKET


def test_scope_selection_categories_and_category_kind() -> None:
    assert ScopeSelection.parse("1+2").category == "s1s2"
    assert ScopeSelection.parse("3").category == "s3"
    assert ScopeSelection.parse("1+3").category == "s1s2s3"
    assert ScopeSelection.parse("3").categories() == tuple(range(1, 16))
    assert ScopeSelection.parse("1+2").categories() == ()


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("4", "cannot read the scope selection '4'"),
        ("1+2:1", "scope 3 categories were given but scope 3 is not selected"),
        ("3:0,16", r"scope 3 categories must be 1-15, got \[0, 16\]"),
        ("", "cannot read the scope selection"),
    ],
)
def test_scope_selection_rejects_bad_text(text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ScopeSelection.parse(text)


def test_target_is_frozen_and_round_trips_through_json() -> None:
    target = make(scopes="3:1,2", ambition="WB2C")
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        target.reduction = 0.5  # type: ignore[misc]
    again = Target.model_validate(target.model_dump(mode="json"))
    assert again == target
    assert again.scopes.scope3_categories == (1, 2)


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"target_year": 2021}, "target_year 2021 must be after base_year 2021"),
        ({"reduction": 70}, r"must be a fraction in \(0, 1\] \(0.70 for 70 %\), got 70"),
        ({"reduction": None}, "an absolute target needs reduction"),
        ({"coverage": 0}, r"must be a fraction in \(0, 1\]"),
        ({"base_year": 1980}, "must be a year between 1990 and 2100, got 1980"),
        ({"submission_year": 2019}, "submission_year 2019 is before base_year 2021"),
        ({"base_emissions_t_co2e": -1}, "must be a finite number >= 0, got -1"),
        ({"target_share": 1.0}, "target_share is for renewable_electricity targets"),
        ({"denominator": "revenue"}, "are for intensity targets only"),
        ({"kind": "intensity"}, "an intensity target needs denominator"),
        (
            {"kind": "renewable_electricity", "reduction": None},
            "a renewable_electricity target needs target_share",
        ),
        (
            {"kind": "renewable_electricity", "target_share": 1.0},
            "has target_share, not reduction: remove reduction",
        ),
        (
            {
                "kind": "intensity",
                "denominator": "revenue",
                "denominator_unit": "bananas",
                "base_denominator": 10,
            },
            "unknown denominator unit 'bananas'",
        ),
        ({"id": ""}, "must not be empty"),
        ({"colour": "green"}, "Extra inputs are not permitted"),
    ],
)
def test_target_validation_messages(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=match):
        make(**overrides)


def test_parse_target_gives_input_error_with_issues() -> None:
    row = {
        "id": "bad",
        "name": "Bad",
        "kind": "absolute",
        "scopes": "1+2",
        "base_year": "2021",
        "target_year": "2030",
        "reduction": "70",
        "coverage": "",
    }
    with pytest.raises(InputError, match="target bad was rejected: 1 issue") as info:
        parse_target(row, file="targets.csv", row=2)
    (issue,) = info.value.issues
    assert (issue.file, issue.row, issue.column, issue.value) == (
        "targets.csv",
        2,
        "reduction",
        "70",
    )
    assert "0.70 for 70 %" in issue.problem


def test_parse_target_reads_a_flat_file_row() -> None:
    target = parse_target(
        {
            "id": "s12",
            "name": "S1+2",
            "name_zh": "",
            "kind": "absolute",
            "scopes": "1+2",
            "scope2_method": "location",
            "base_year": "2021",
            "target_year": "2030",
            "reduction": "0.7",
        }
    )
    assert target.scopes.scope2_method is Scope2Method.LOCATION
    assert target.name_zh is None


def test_target_columns_schema_names_every_field() -> None:
    text = resources.files("esgledger.schema").joinpath("target_columns.csv").read_text("utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    columns = {r["column"] for r in rows}
    assert columns - {"scope2_method"} == set(Target.model_fields)
    assert all(r["header_zh"] and r["description"] and r["description_zh"] for r in rows)
    assert {r["column"] for r in rows if r["required"] == "yes"} == {
        "id", "name", "kind", "scopes", "base_year", "target_year",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("unit", "expression"),
    [
        ("CNY million", "1000000 * CNY"),
        ("million USD", "1000000 * USD"),
        ("employee", "employee"),
        ("员工", "employee"),
        ("万元", "10000 * CNY"),
        ("MWh", "MWh"),
    ],
)
def test_denominator_units(unit: str, expression: str) -> None:
    assert denominator_unit_expression(unit) == expression


def test_linear_target_rate_and_pathway() -> None:
    target = make(base_emissions_t_co2e=1000.0, reduction=0.45, base_year=2020)
    assert target_emissions(target) == pytest.approx(550.0)
    assert annual_reduction_rate(target) == pytest.approx(0.045)
    path = pathway(target)
    assert list(path) == list(range(2020, 2031))
    assert path[2020] == pytest.approx(1000.0)
    assert path[2025] == pytest.approx(775.0)  # 1000 × (1 − 0.045 × 5): straight line
    assert path[2030] == pytest.approx(550.0)


def test_coverage_scales_the_base_and_an_explicit_base_wins() -> None:
    target = make(base_emissions_t_co2e=1000.0, coverage=0.9, reduction=0.5)
    assert base_value(target) == pytest.approx(900.0)
    assert target_emissions(target) == pytest.approx(450.0)
    assert target_emissions(target, 2000.0) == pytest.approx(900.0)


def test_intensity_target_divides_by_the_base_denominator() -> None:
    target = make(
        kind="intensity",
        denominator="revenue",
        denominator_unit="CNY million",
        base_denominator=500.0,
        reduction=0.6,
        base_emissions_t_co2e=2000.0,
    )
    assert base_value(target) == pytest.approx(4.0)  # t CO2e per CNY million
    assert target_emissions(target) == pytest.approx(1.6)


def test_missing_base_and_re_target_arithmetic_are_refused() -> None:
    with pytest.raises(InputError, match="no base-year emissions; give base_emissions_t_co2e"):
        target_emissions(make())
    re_target = make(kind="renewable_electricity", reduction=None, target_share=1.0, scopes="2")
    assert re_target.kind is TargetKind.RENEWABLE_ELECTRICITY
    with pytest.raises(InputError, match="renewable_electricity target: it has no reduction"):
        annual_reduction_rate(re_target)


TOTALS = {
    "scope1": 100.0,
    "scope2_location": 400.0,
    "scope2_market": 250.0,
    "scope3": 1000.0,
    "total": 1500.0,
}
CATEGORIES = {str(c): 0.0 for c in range(1, 16)} | {"1": 600.0, "2": 300.0, "6": 100.0}


def test_covered_emissions_uses_market_based_scope2_by_default() -> None:
    got = covered_emissions(TOTALS, "1+2")
    assert got.t_co2e == pytest.approx(350.0)
    assert got.scope2_method is Scope2Method.MARKET
    assert not got.fallback
    assert got.note == ""


def test_covered_emissions_location_when_asked_or_when_market_is_absent() -> None:
    asked = covered_emissions(TOTALS, ScopeSelection.parse("2", scope2_method="location"))
    assert asked.t_co2e == pytest.approx(400.0)
    assert not asked.fallback
    without = {k: v for k, v in TOTALS.items() if k != "scope2_market"}
    got = covered_emissions(without, "1+2")
    assert got.t_co2e == pytest.approx(500.0)
    assert got.scope2_method is Scope2Method.LOCATION
    assert got.fallback
    assert "location-based scope 2 was used" in got.note
    assert "位置法" in got.note_zh


def test_covered_emissions_by_scope3_category() -> None:
    got = covered_emissions(TOTALS, "3:1,6", CATEGORIES)
    assert got.t_co2e == pytest.approx(700.0)
    assert got.by_scope == {"scope3": 700.0}
    assert covered_emissions(TOTALS, "1+2+3").t_co2e == pytest.approx(1350.0)
    with pytest.raises(InputError, match="names scope 3 categories: give scope3_by_category"):
        covered_emissions(TOTALS, "3:1")
    with pytest.raises(InputError, match="the inventory totals have no 'scope1'"):
        covered_emissions({"scope3": 1.0}, "1")


def test_public_api_names_exist_once() -> None:
    names = targets_pkg.__all__
    assert len(set(names)) == len(names)
    for name in names:
        assert getattr(targets_pkg, name) is not None
