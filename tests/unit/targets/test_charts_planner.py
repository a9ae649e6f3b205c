"""Planner charts: the SVG keeps bilingual text as text, one bar per measure, one wedge per
measure, the same input gives the same bytes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pyarrow as pa
import pytest

from esgledger import plotting
from esgledger.targets.charts import macc_chart, scenario_chart
from esgledger.targets.planner import Lever, Measure, macc, scenario

SVG = "{http://www.w3.org/2000/svg}"


def measures() -> list[Measure]:
    def m(id: str, name: str, name_zh: str, lever: Lever, cost: float, t: float) -> Measure:
        return Measure(id, name, name_zh, lever, cost, "CNY", t, 2025, ramp_years=2)

    return [
        m("PUE", "PUE improvement", "PUE 提升", Lever.EFFICIENCY, -40.0, 300.0),
        m("GEC", "Green certificates", "绿证采购", Lever.GREEN_POWER, 25.0, 500.0),
        m("EV", "Fleet electrification", "车队电动化", Lever.ELECTRIFICATION, 150.0, 100.0),
    ]


def texts(svg: bytes) -> list[str]:
    root = ET.fromstring(svg)
    return ["".join(t.itertext()).strip() for t in root.iter(f"{SVG}text")]


def ids(svg: bytes, prefix: str) -> list[str]:
    root = ET.fromstring(svg)
    return [e.get("id", "") for e in root.iter() if e.get("id", "").startswith(prefix)]


@pytest.fixture
def cjk() -> None:
    if plotting.cjk_font() is None:
        pytest.skip("no CJK font installed (fonts-noto-cjk)")


def test_macc_svg_in_english_has_one_bar_per_measure_and_its_labels() -> None:
    svg = macc_chart(macc(measures()), lang="en")
    assert ids(svg, "macc-bar-") == ["macc-bar-PUE", "macc-bar-GEC", "macc-bar-EV"]
    found = texts(svg)
    for label in (
        "Marginal abatement cost curve",
        "Abatement [t CO2e/yr]",
        "Cost [CNY/t CO2e]",
        "PUE improvement",
        "Green certificates",
        "Fleet electrification",
        "Energy efficiency",
    ):
        assert label in found


@pytest.mark.usefixtures("cjk")
def test_macc_svg_in_chinese_keeps_chinese_text() -> None:
    svg = macc_chart(macc(measures()), lang="zh-CN")
    assert len(ids(svg, "macc-bar-")) == 3
    found = texts(svg)
    for label in (
        "边际减排成本曲线",
        "减排量 [吨二氧化碳当量/年]",
        "PUE 提升",
        "绿证采购",
        "车队电动化",
        "能效提升",
    ):
        assert label in found
    assert "Marginal abatement cost curve" not in found


def test_macc_svg_is_deterministic_and_png_is_written(tmp_path: Path) -> None:
    table = macc(measures())
    assert macc_chart(table) == macc_chart(table)
    data = macc_chart(table, tmp_path / "macc.png")
    assert data.startswith(b"\x89PNG")
    assert (tmp_path / "macc.png").read_bytes() == data


def test_scenario_svg_has_a_wedge_per_measure_and_the_target_line() -> None:
    table = scenario(2000.0, measures(), range(2024, 2031))
    svg = scenario_chart(table, target_pathway={2024: 2000.0, 2030: 1000.0})
    assert ids(svg, "wedge-") == ["wedge-remaining", "wedge-PUE", "wedge-GEC", "wedge-EV"]
    assert ids(svg, "line-") == ["line-bau", "line-target"]
    found = texts(svg)
    for label in (
        "Emissions pathway and abatement",
        "Business as usual",
        "Target pathway",
        "Remaining emissions",
        "PUE improvement",
        "2030",
    ):
        assert label in found


@pytest.mark.usefixtures("cjk")
def test_scenario_svg_in_chinese() -> None:
    table = scenario(2000.0, measures(), range(2024, 2031))
    found = texts(scenario_chart(table, lang="zh-CN"))
    for label in ("排放路径与减排", "剩余排放", "照常发展情景", "绿证采购", "年份"):
        assert label in found


def test_scenario_without_target_has_no_target_line() -> None:
    table = scenario(
        pa.table(
            {
                "scope": pa.array([1], pa.int8()),
                "scope3_category": pa.array([None], pa.int8()),
                "activity": ["fuel.diesel"],
                "entity": ["E"],
                "site": ["S"],
                "co2e_t": [100.0],
            }
        ),
        [],
        [2025, 2026],
    )
    svg = scenario_chart(table)
    assert ids(svg, "line-") == ["line-bau"]
