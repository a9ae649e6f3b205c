"""Report charts: valid SVG, vector only, labels as text in both languages, deterministic;
text inside the figure, tick labels apart and legends off the plot (matplotlib's renderer)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import numpy as np
import pytest
from matplotlib.figure import Figure

from _chart_layout import figure_problems
from esgledger import plotting
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


# ---- layout, measured with matplotlib's renderer -----------------------------------------

#: The demo report's data (2024 inventory of the synthetic group): scope 3 categories up to
#: 1.15 Mt, where "1,000,000" and "1,200,000" ran into each other on the x axis; one
#: intensity series whose legend sat on its line.
DEMO_CASES = {
    "scope": lambda lang: charts.emissions_by_scope(
        (2021, 2022, 2023, 2024),
        [19_000, 19_800, 20_500, 21_073],
        [2_352_000, 2_368_000, 2_366_000, 2_364_664],
        [2_743_000, 2_651_000, 2_560_000, 2_468_107],
        lang=lang,
    ),
    "scope3": lambda lang: charts.scope3_by_category(
        {1: 152_236, 2: 1_151_811, 3: 170, 4: 475, 5: 599, 6: 329_646, 7: 28_929, 8: 804_242},
        lang=lang,
    ),
    "re": lambda lang: charts.re_share((2024,), [13.7], lang=lang),
    "cfe": lambda lang: charts.cfe_heatmap(np.linspace(0.0, 1.0, 288).reshape(12, 24), lang=lang),
    "target": lambda lang: charts.target_pathway(
        (2021, 2030),
        (2_385_737.0, 715_721.0),
        (2021, 2022, 2023, 2024),
        [2_385_737.0, 2_402_000.0, 2_398_000.0, 2_385_737.0],
        lang=lang,
    ),
    "intensity": lambda lang: charts.intensity_trend(
        (2023, 2024), {"Scope 1 and 2": [3.9, 3.66]}, "t CO2e / million CNY", lang=lang
    ),
}


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
@pytest.mark.parametrize("name", sorted(DEMO_CASES))
def test_chart_text_stays_in_the_figure_apart_and_off_the_plot(
    name: str, lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every text inside the figure, tick labels apart, legends beside the plot (not on the
    data), for the figure each chart function saves."""
    saved: list[Figure] = []
    real_save = charts.save_figure

    def spy(fig: Figure, *args: Any, **kwargs: Any) -> bytes:
        saved.append(fig)
        return real_save(fig, *args, **kwargs)

    monkeypatch.setattr(charts, "save_figure", spy)
    DEMO_CASES[name](lang)
    [fig] = saved
    with plotting.chart_style(lang):
        assert figure_problems(fig) == []
