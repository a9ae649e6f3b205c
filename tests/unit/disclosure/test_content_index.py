"""The HKEX content index."""

from __future__ import annotations

from pathlib import Path

import pytest

import esgledger.disclosure as disclosure
from esgledger.disclosure.catalogue import Catalogue, load_catalogue
from esgledger.disclosure.content_index import content_index

EXAMPLE = Path(disclosure.__file__).parent / "examples" / "company_metrics.csv"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(EXAMPLE)


def everything(catalogue: Catalogue) -> tuple[list[dict[str, object]], dict[str, dict[str, bool]]]:
    values = [
        {"metric": item.code, "value": 1.0, "text": None}
        for item in catalogue.framework("HKEX_C2")
        if item.type != "text"
    ]
    sections = {item.section for item in catalogue}
    narratives = {section: {"en": True, "zh-CN": True} for section in sections}
    return values, narratives


def test_a_full_report_is_complete(catalogue: Catalogue) -> None:
    values, narratives = everything(catalogue)
    index = content_index(catalogue, fiscal_year=2025, values=values, narratives=narratives)
    assert index.complete
    assert index.missing == []
    assert len(index.entries) == len(catalogue.framework("HKEX_C2"))
    assert {e.status for e in index.entries} == {"disclosed"}


def test_before_2025_part_d_is_not_applicable(catalogue: Catalogue) -> None:
    index = content_index(catalogue, fiscal_year=2024)
    scope1 = index.get("D.metrics.scope1")
    assert scope1 is not None
    assert (scope1.requirement, scope1.status) == ("not_applicable", "not_applicable")
    assert "D.metrics.scope1" not in [e.code for e in index.missing]


def test_missing_explained_and_derived(catalogue: Catalogue) -> None:
    values, narratives = everything(catalogue)
    values = [v for v in values if v["metric"] not in ("A1.3", "D.metrics.scope1", "B8.2")]
    derived = [{"metric": "A1.2", "value": 4000.0}]
    index = content_index(
        catalogue,
        fiscal_year=2025,
        tier="largecap",
        values=[*values, {"metric": "CO.charity.donations_raised", "value": 3e6}],
        derived=derived,
        narratives=narratives,
        explanations={"A1.3": "The group produces no hazardous waste.", "D.metrics.scope1": "n/a"},
    )
    a13 = index.get("A1.3")
    assert a13 is not None
    assert (a13.status, a13.explanation) == ("explained", "The group produces no hazardous waste.")
    scope1 = index.get("D.metrics.scope1")
    assert scope1 is not None
    assert scope1.status == "missing"
    assert scope1.note == "mandatory: an explanation is not enough, disclose it"
    b82 = index.get("B8.2")
    assert b82 is not None
    assert (b82.status, b82.disclosed_by) == ("disclosed", ("CO.charity.donations_raised",))
    a12 = index.get("A1.2")
    assert a12 is not None
    assert a12.disclosed_by == ("value", "derived")
    assert [e.code for e in index.missing] == ["D.metrics.scope1"]
    assert not index.complete


def test_narrative_must_exist_in_every_language(catalogue: Catalogue) -> None:
    index = content_index(
        catalogue, fiscal_year=2025, narratives={"soc.anticorruption": {"en": True}}
    )
    b72 = index.get("B7.2")
    assert b72 is not None
    assert b72.status == "missing"
    assert b72.note == "narrative of section soc.anticorruption missing in zh-CN"
    english_only = content_index(
        catalogue,
        fiscal_year=2025,
        narratives={"soc.anticorruption": {"en": True}},
        languages=("en",),
    )
    entry = english_only.get("B7.2")
    assert entry is not None
    assert entry.disclosed_by == ("narrative",)


def test_a_kpi_does_not_disclose_its_general_disclosure(catalogue: Catalogue) -> None:
    index = content_index(catalogue, fiscal_year=2025, values=[{"metric": "A1.3", "value": 1.0}])
    a1 = index.get("A1")
    assert a1 is not None
    assert a1.status == "missing"
    air = content_index(catalogue, fiscal_year=2025, values=[{"metric": "A1.1.air", "value": 2.0}])
    a11 = air.get("A1.1")
    assert a11 is not None
    assert a11.disclosed_by == ("A1.1.air",)


def test_voluntary_items_never_make_a_draft(catalogue: Catalogue) -> None:
    values, narratives = everything(catalogue)
    values = [v for v in values if v["metric"] != "D.metrics.industry"]
    index = content_index(
        catalogue, fiscal_year=2026, tier="largecap", values=values, narratives=narratives
    )
    industry = index.get("D.metrics.industry")
    assert industry is not None
    assert (industry.requirement, industry.status) == ("voluntary", "missing")
    assert index.complete


def test_a_kpi_disclosed_without_the_breakdowns_it_asks_for_says_which(
    catalogue: Catalogue,
) -> None:
    # HKEX ESG Reporting Code KPI B1.1: "Total workforce by gender, employment type (for
    # example, full- or part-time), age group and geographical region" (standards-and-data.md
    # 2.2); B5.1: "Number of suppliers by geographical region".
    values = [
        {"metric": "B1.1", "value": 60.0, "breakdown": "gender=female"},
        {"metric": "B1.1", "value": 40.0, "breakdown": "gender=male"},
        {"metric": "B5.1", "value": 9.0, "breakdown": "region=CN"},
    ]
    index = content_index(catalogue, fiscal_year=2025, values=values)
    b11, b51 = index.get("B1.1"), index.get("B5.1")
    assert b11 is not None
    assert b51 is not None
    assert b11.status == "disclosed"
    assert b11.missing_breakdowns == ("type", "age", "region")
    assert b11.note == "disclosed without the breakdown by type, age, region that B1.1 asks for"
    assert (b51.status, b51.missing_breakdowns, b51.note) == ("disclosed", (), "")
