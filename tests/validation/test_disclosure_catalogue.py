"""The shipped metric catalogue against the reference text of the HKEX ESG Reporting Code.

Sources
-------
* HKEX *Environmental, Social and Governance Reporting Code* (Main Board Listing Rules
  Appendix C2; the 2020 "ESG Reporting Guide" text for Part C), as recorded in the project's
  ``standards-and-data.md`` §2.1–2.3: the KPI list of §2.2 (English wording from memory [M];
  the full Chinese KPI list verified [V] against the Traditional-Chinese text kept in the
  public repository ``13692924021/weizheng``, file ``assess.js``), the unit of KPI A2.1
  ("kWh in '000s", 以千個千瓦時計算) and the Part D phase-in table of §2.3 (HKEX consultation
  conclusions of 19 April 2024, via secondary summaries [S]).

No tolerance: the checks are exact (codes, units, statuses, characters).
"""

from __future__ import annotations

import pytest

from esgledger.disclosure.catalogue import load_catalogue
from esgledger.units import conversion_factor

#: Every ID of the table in standards-and-data.md §2.2 (Part C, 2020 text); "A1 General" is
#: the catalogue's "A1".
SECTION_2_2_CODES = (
    "A1",
    "A1.1",
    "A1.2",
    "A1.3",
    "A1.4",
    "A1.5",
    "A1.6",
    "A2",
    "A2.1",
    "A2.2",
    "A2.3",
    "A2.4",
    "A2.5",
    "A3",
    "A3.1",
    "A4",
    "A4.1",
    "B1",
    "B1.1",
    "B1.2",
    "B2",
    "B2.1",
    "B2.2",
    "B2.3",
    "B3",
    "B3.1",
    "B3.2",
    "B4",
    "B4.1",
    "B4.2",
    "B5",
    "B5.1",
    "B5.2",
    "B5.3",
    "B5.4",
    "B6",
    "B6.1",
    "B6.2",
    "B6.3",
    "B6.4",
    "B6.5",
    "B7",
    "B7.1",
    "B7.2",
    "B7.3",
    "B8",
    "B8.1",
    "B8.2",
)

#: KPI texts in the Traditional-Chinese Code wording (weizheng ``assess.js``), verbatim.
TRADITIONAL = {
    "A1.2": "直接（範圍1）及能源間接（範圍2）溫室氣體排放量（以噸計算）及（如適用）密度"
    "（如以每產量單位、每項設施計算）。",
    "A2.1": "按類型劃分的直接及╱或間接能源（如電、氣或油）總耗量（以千個千瓦時計算）及密度"
    "（如以每產量單位、每項設施計算）。",
    "B2.1": "過去三年（包括匯報年度）每年因工作亡故的人數及比率。",
    "B5.2": "描述有關聘用供應商的慣例，向其執行有關慣例的供應商數目、"
    "以及有關慣例的執行及監察方法。",
    "B7.1": "於匯報期內對發行人或其僱員提出並已審結的貪污訴訟案件的數目及訴訟結果。",
}
#: Traditional -> Simplified for the characters of those texts (standard correspondences).
T2S = str.maketrans(
    "範圍間溫氣體噸計適產單項設類劃╱電總個時過匯報數關應慣執監於內對發僱員並審結貪訴訟",
    "范围间温气体吨计适产单项设类划/电总个时过汇报数关应惯执监于内对发雇员并审结贪诉讼",
)


def test_every_kpi_of_section_2_2_is_in_the_catalogue_as_comply_or_explain() -> None:
    catalogue = load_catalogue()
    for code in SECTION_2_2_CODES:
        item = catalogue[code]
        assert (item.framework, item.part) == ("HKEX_C2", "C"), code
        assert item.status_for(2025, "main_board") == "comply_or_explain", code
        assert item.mark_zh == "V", code
    part_c = {i.code for i in catalogue.framework("HKEX_C2") if i.part == "C"}
    assert part_c - set(SECTION_2_2_CODES) == {"A1.1.air"}  # our split of A1.1, nothing else


def test_a21_is_in_thousands_of_kwh() -> None:
    a21 = load_catalogue()["A2.1"]
    assert a21.unit_label_en == "'000 kWh"
    assert a21.unit_label_zh == "千个千瓦时"
    assert conversion_factor(a21.unit, "kWh") == 1000.0


@pytest.mark.parametrize("code", sorted(TRADITIONAL))
def test_verified_chinese_wording(code: str) -> None:
    item = load_catalogue()[code]
    prefix = f"关键绩效指标 {code} "
    assert item.title_zh.startswith(prefix)
    assert item.title_zh[len(prefix) :] == TRADITIONAL[code].translate(T2S).rstrip("。")


def test_part_b_is_mandatory_for_every_issuer() -> None:
    catalogue = load_catalogue()
    part_b = [i for i in catalogue.framework("HKEX_C2") if i.part == "B"]
    assert {i.code for i in part_b} >= {"MDR.board_oversight", "MDR.reporting_boundary"}
    for item in part_b:
        for tier in ("main_board", "largecap", "gem"):
            assert item.status_for(2024, tier) == "mandatory"  # type: ignore[arg-type]


def test_part_d_phase_in_rows_of_section_2_3() -> None:
    """Scope 1 & 2 mandatory for all issuers from FY2025; the rest comply-or-explain for
    Main Board issuers, LargeCap mandatory from FY2026, voluntary for GEM; nothing before
    2025. Industry-based metrics are encouraged only."""
    catalogue = load_catalogue()
    part_d = [i for i in catalogue.framework("HKEX_C2") if i.part == "D"]
    pillars = {i.section for i in part_d}
    assert pillars == {
        "climate.governance",
        "climate.strategy",
        "climate.risk_management",
        "climate.metrics",
        "climate.targets",
    }
    for needed in (
        "D.strategy.resilience",
        "D.strategy.transition_plan",
        "D.metrics.scope3",
        "D.metrics.internal_carbon_price",
        "D.metrics.remuneration",
        "D.targets",
    ):
        assert needed in catalogue
    for item in part_d:
        assert item.status_for(2024, "largecap") == "not_applicable"
        table = {
            (year, tier): item.status_for(year, tier)  # type: ignore[arg-type]
            for year in (2025, 2026)
            for tier in ("main_board", "largecap", "gem")
        }
        if item.code in ("D.metrics.scope1", "D.metrics.scope2"):
            assert set(table.values()) == {"mandatory"}, item.code
        elif item.code == "D.metrics.industry":
            assert set(table.values()) == {"voluntary"}
        else:
            assert table == {
                (2025, "main_board"): "comply_or_explain",
                (2025, "largecap"): "comply_or_explain",
                (2025, "gem"): "voluntary",
                (2026, "main_board"): "comply_or_explain",
                (2026, "largecap"): "mandatory",
                (2026, "gem"): "voluntary",
            }, item.code


def test_ifrs_s2_cross_industry_metrics_29a_to_g_map_to_part_d() -> None:
    catalogue = load_catalogue()
    for letter in "bcdefg":
        item = catalogue[f"S2.29{letter}"]
        (target,) = item.maps_to
        assert catalogue[target].part == "D"
        assert item.code in catalogue[target].maps_to
    for scope in ("scope1", "scope2", "scope3"):
        assert (
            catalogue[f"S2.29a.{scope}"].derived_from
            == catalogue[f"D.metrics.{scope}"].derived_from
        )


def test_gri_305_1_to_7_and_the_other_gri_topics() -> None:
    catalogue = load_catalogue()
    codes = {i.code for i in catalogue.framework("GRI")}
    assert {f"GRI 305-{n}" for n in range(1, 8)} <= codes
    assert {f"GRI 302-{n}" for n in range(1, 6)} <= codes
    assert {f"GRI 303-{n}" for n in range(1, 6)} <= codes
    assert {f"GRI 306-{n}" for n in range(1, 6)} <= codes
    assert catalogue["GRI 305-2"].derived_from == "ghg.scope2"  # location and market
