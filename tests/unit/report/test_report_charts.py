"""Report charts: valid SVG, vector only, labels as text in both languages, deterministic."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from esgledger.report import charts

NS = "{http://www.w3.org/2000/svg}"
YEARS = (2022, 2023, 2024)


def _texts(svg: bytes) -> str:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    assert root.find(f".//{NS}image") is None, "charts must be vector, not embedded bitmaps"
    return " ".join("".join(node.itertext()) for node in root.iter(f"{NS}text"))


CASES = {
    "scope": lambda lang: charts.emissions_by_scope(
        YEARS, [1, 2, 3], [4, 5, 6], [7, 8, 9], lang=lang
    ),
    "scope3": lambda lang: charts.scope3_by_category(
        {1: 500.0, 6: 20.0, 11: 1_200_000.0}, lang=lang
    ),
    "re": lambda lang: charts.re_share(YEARS, [10.0, 20.0, 41.7], lang=lang),
    "cfe": lambda lang: charts.cfe_heatmap(np.full((12, 24), 0.5), lang=lang),
    "target": lambda lang: charts.target_pathway(
        (2020, 2030), (100.0, 58.0), YEARS, [90.0, 85.0, 80.0], lang=lang
    ),
    "intensity": lambda lang: charts.intensity_trend(
        YEARS, {"per revenue": [1.0, 0.9, 0.8]}, "t / HKD m", lang=lang
    ),
}
TITLES = {
    "scope": ("Greenhouse gas emissions by scope", "按范围划分的温室气体排放"),
    "scope3": ("Scope 3 emissions by category", "按类别划分的范围三排放"),
    "re": ("Share of renewable electricity", "可再生电力占比"),
    "cfe": ("Hourly carbon-free electricity (%)", "逐时无碳电力占比（%）"),
    "target": ("Target pathway and actual emissions", "目标路径与实际排放"),
    "intensity": ("Emission intensity", "排放强度"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_chart_titles_in_each_language(name: str) -> None:
    en, zh = TITLES[name]
    assert en in _texts(CASES[name]("en"))
    zh_text = _texts(CASES[name]("zh-CN"))
    assert zh in zh_text
    assert en not in zh_text


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_data_same_bytes(name: str) -> None:
    assert CASES[name]("en") == CASES[name]("en")


def test_chart_labels_carry_the_data() -> None:
    scope = _texts(CASES["scope"]("zh-CN"))
    assert {"范围一", "范围二", "范围三", "2024"} <= set(scope.split())
    scope3 = _texts(CASES["scope3"]("en"))
    assert "11 Use of sold products" in scope3
    assert "6 Business travel" in scope3
    assert "1,200,000" in scope3 or "1,000,000" in scope3  # thousands separators, no 1e6
    assert "1e6" not in scope3
    assert "41.7" in _texts(CASES["re"]("en"))
    cfe = _texts(CASES["cfe"]("zh-CN"))
    assert "1月" in cfe
    assert "12月" in cfe


def test_bad_data_is_refused_with_the_fix() -> None:
    with pytest.raises(
        charts.ChartDataError, match=r"2 values for 3 years; give one value per year"
    ):
        charts.emissions_by_scope(YEARS, [1, 2], [1, 2, 3])
    with pytest.raises(charts.ChartDataError, match=r"categories \[16\] do not exist; use 1-15"):
        charts.scope3_by_category({16: 1.0})
    with pytest.raises(charts.ChartDataError, match=r"12 months x 24 hours, got shape \(24, 12\)"):
        charts.cfe_heatmap(np.zeros((24, 12)))
