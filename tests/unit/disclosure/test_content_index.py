"""The HKEX content index."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

import esgledger.disclosure as disclosure
from esgledger.disclosure.catalogue import Catalogue, load_catalogue
from esgledger.disclosure.content_index import MAPPED_FRAMEWORKS, ContentIndex, content_index

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


# ---- one status per item across frameworks (issue 10, section 4 "Consistency") -----------

_RANK = {"not_applicable": 0, "missing": 1, "explained": 2, "disclosed": 3}


def _mapped_pairs(catalogue: Catalogue) -> list[tuple[str, str]]:
    frameworks = ("HKEX_C2", *MAPPED_FRAMEWORKS)
    codes = {item.code for item in catalogue if item.framework in frameworks}
    return [
        (item.code, target)
        for item in catalogue
        if item.code in codes
        for target in item.maps_to
        if target in codes
    ]


def _assert_indexes_agree(catalogue: Catalogue, index: ContentIndex) -> None:
    """For every mapped pair: two items of IFRS S2, SASB or GRI have the same status; an
    item of those frameworks is never worse than an HKEX item it is mapped with (an item
    the HKEX index says is disclosed is disclosed in every framework it maps to). Pairs of
    two HKEX items are not compared: the Code asks for each of them separately."""
    pairs = _mapped_pairs(catalogue)
    assert len(pairs) > 100  # the shipped mappings, not an empty loop
    for a, b in pairs:
        ea, eb = index.get(a), index.get(b)
        assert ea is not None, a
        assert eb is not None, b
        hkex_a, hkex_b = ea.framework == "HKEX_C2", eb.framework == "HKEX_C2"
        if hkex_a and hkex_b:
            continue
        if not hkex_a and not hkex_b:
            assert ea.status == eb.status, (a, ea.status, b, eb.status)
            continue
        hkex, other = (ea, eb) if hkex_a else (eb, ea)
        assert _RANK[other.status] >= _RANK[hkex.status] or hkex.status == "not_applicable", (
            hkex.code,
            hkex.status,
            other.code,
            other.status,
        )


def test_every_item_of_ifrs_s2_sasb_and_gri_has_one_entry(catalogue: Catalogue) -> None:
    index = content_index(catalogue, fiscal_year=2025)
    expected = [item.code for item in catalogue if item.framework in MAPPED_FRAMEWORKS]
    assert [e.code for e in index.frameworks] == expected
    assert {e.status for e in index.frameworks} == {"missing"}


@pytest.mark.parametrize("seed", range(12))
def test_the_indexes_agree_for_every_mapped_pair(catalogue: Catalogue, seed: int) -> None:
    """Random draws of the evidence (typed values, derived values, narratives in one or
    both languages, explanations) on every item of every framework, fiscal 2024 (Part D
    not yet effective) and 2025."""
    rng = random.Random(seed)
    items = list(catalogue)
    values = [
        {"metric": i.code, "value": 1.0} for i in items if i.type != "text" and rng.random() < 0.3
    ]
    derived = [{"metric": i.code, "value": 2.0} for i in items if rng.random() < 0.15]
    narratives: dict[str, dict[str, bool]] = {}
    for section in sorted({i.section for i in items}):
        draw = rng.random()
        if draw < 0.4:
            narratives[section] = {"en": True, "zh-CN": True}
        elif draw < 0.55:
            narratives[section] = {"en": True}
    explanations = {i.code: "not material" for i in items if rng.random() < 0.1}
    for year in (2024, 2025):
        index = content_index(
            catalogue,
            fiscal_year=year,
            tier=rng.choice(["main_board", "largecap", "gem"]),
            values=values,
            derived=derived,
            narratives=narratives,
            explanations=explanations,
        )
        _assert_indexes_agree(catalogue, index)


def test_gri_items_follow_the_hkex_kpis_they_map_to(catalogue: Catalogue) -> None:
    """The cases of the issue: GRI 305-7, 306-3, 303-3 and 305-5 were 'Missing' although
    A1.1, A1.3 and A1.4, A2.2 and A1.5 were disclosed."""
    index = content_index(
        catalogue,
        fiscal_year=2024,
        values=[
            {"metric": "A1.1.air", "value": 3.0},
            {"metric": "A1.3", "value": 12.0},
            {"metric": "A1.4", "value": 340.0},
        ],
        derived=[{"metric": "A2.2", "value": 1.0e6}],
        narratives={"env.emissions": {"en": True, "zh-CN": True}},
    )
    for gri, hkex in (
        ("GRI 305-7", "A1.1"),
        ("GRI 306-3", "A1.3"),
        ("GRI 303-3", "A2.2"),
        ("GRI 305-5", "A1.5"),
    ):
        gri_entry, hkex_entry = index.get(gri), index.get(hkex)
        assert hkex_entry is not None, hkex
        assert hkex_entry.status == "disclosed", hkex
        assert gri_entry is not None, gri
        assert gri_entry.status == "disclosed", gri
        assert hkex in gri_entry.disclosed_by, (gri, gri_entry.disclosed_by)


def test_part_d_disclosed_before_it_is_effective_agrees_with_ifrs_s2(
    catalogue: Catalogue,
) -> None:
    """Fiscal 2024: Part D is not yet effective, but a governance narrative in both languages
    discloses D.governance (early adoption), exactly as it discloses IFRS S2 paragraph 6."""
    index = content_index(
        catalogue,
        fiscal_year=2024,
        narratives={"climate.governance": {"en": True, "zh-CN": True}},
    )
    governance, s26 = index.get("D.governance"), index.get("S2.6")
    assert governance is not None
    assert s26 is not None
    assert (governance.requirement, governance.status) == ("not_applicable", "disclosed")
    assert s26.status == "disclosed"
    # Without the narrative: not applicable in the HKEX index, not disclosed under IFRS S2.
    bare = content_index(catalogue, fiscal_year=2024)
    assert bare.get("D.governance").status == "not_applicable"  # type: ignore[union-attr]
    assert bare.get("S2.6").status == "missing"  # type: ignore[union-attr]
    assert "D.governance" not in [e.code for e in bare.missing]


def test_an_explained_hkex_item_is_explained_in_the_frameworks_mapped_to_it(
    catalogue: Catalogue,
) -> None:
    index = content_index(
        catalogue, fiscal_year=2025, explanations={"A1.3": "No hazardous waste is produced."}
    )
    gri = index.get("GRI 306-3")
    assert gri is not None
    assert (gri.status, gri.explanation) == ("explained", "No hazardous waste is produced.")
