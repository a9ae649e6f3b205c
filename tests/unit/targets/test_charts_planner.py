"""Planner charts: the SVG keeps bilingual text as text, one bar per measure, one wedge per
measure, the same input gives the same bytes; the MACC's text stays in the figure and its
legends off the bars (measured with matplotlib's renderer)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend

from _chart_layout import drawn_texts, figure_problems, inside
from esgledger import plotting
from esgledger.targets.charts import macc_chart, macc_figure, scenario_chart
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


def demo_measures() -> list[Measure]:
    """The demo group's eight measures (src/esgledger/demo): two save money, the widest
    is 900,000 t and the narrowest 1,300 t (0.06 % of the curve), names up to 53 characters."""

    def m(id: str, name: str, name_zh: str, lever: Lever, cost: float, t: float) -> Measure:
        return Measure(id, name, name_zh, lever, cost, "CNY", t, 2025)

    return [
        m("PUE", "PUE improvement at the large data centres", "大型数据中心 PUE 提升",
          Lever.EFFICIENCY, -180.0, 160_000.0),
        m("FREE-COOLING", "Free cooling in the northern and Guizhou data centres",
          "北方及贵州数据中心自然冷却", Lever.EFFICIENCY, -90.0, 55_000.0),
        m("PPA", "Wind and solar power purchase agreements", "风电和光伏购电协议",
          Lever.PPA, 25.0, 650_000.0),
        m("GEC", "Green electricity certificates for the remaining load",
          "剩余用电的绿色电力证书", Lever.GREEN_POWER, 35.0, 900_000.0),
        m("PV", "On-site solar at data centres and the campus", "数据中心及园区分布式光伏",
          Lever.ONSITE_PV, 40.0, 25_000.0),
        m("SUPPLIERS", "Supplier engagement on hardware and services",
          "硬件及服务供应商减排合作", Lever.SUPPLIER_ENGAGEMENT, 60.0, 420_000.0),
        m("MATERIALS", "Low-carbon steel and concrete in new data centres",
          "新建数据中心使用低碳钢材和混凝土", Lever.LOW_CARBON_MATERIALS, 150.0, 60_000.0),
        m("FLEET", "Fleet electrification", "车队电动化", Lever.ELECTRIFICATION, 220.0, 1_300.0),
    ]  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
@pytest.mark.parametrize("measure_set", [measures, demo_measures], ids=["three", "demo"])
def test_macc_text_stays_in_the_figure_and_the_legends_off_the_bars(
    lang: str, measure_set: Callable[[], list[Measure]]
) -> None:
    if lang == "zh-CN" and plotting.cjk_font() is None:
        pytest.skip("no CJK font installed (fonts-noto-cjk)")
    with plotting.chart_style(lang):
        fig = macc_figure(macc(measure_set()), lang)
        # Every text inside the figure (nothing cut when saved), tick labels apart, the
        # legends off the plot.
        assert figure_problems(fig) == []
        renderer = FigureCanvasAgg(fig).get_renderer()
        fig.draw(renderer)
        [ax] = fig.axes
        frame = fig.bbox
        plot = ax.get_window_extent(renderer)
        bars = [p for p in ax.patches if str(p.get_gid()).startswith("macc-bar-")]
        labels = [t for t in ax.texts if str(t.get_gid()).startswith("macc-label-")]
        legends = list(fig.findobj(Legend))
        assert len(bars) == len(labels) == len(measure_set())
        assert len(legends) == 2  # the lever colours and the numbered key
        assert {text.get_text() for text in drawn_texts(fig)} >= {
            name if lang == "en" else name_zh
            for name, name_zh in ((m.name, m.name_zh) for m in measure_set())
            if len(name) < 40  # longer names wrap
        }
        # The legends cover no bar and no number; numbers cover no bar and no other number.
        bar_boxes = [bar.get_window_extent(renderer) for bar in bars]
        label_boxes = [label.get_window_extent(renderer) for label in labels]
        for legend in legends:
            box = legend.get_window_extent(renderer)
            assert not any(box.overlaps(b) for b in bar_boxes + label_boxes), legend.get_gid()
            assert not box.overlaps(plot), legend.get_gid()
        for k, box in enumerate(label_boxes):
            assert not any(box.overlaps(b) for b in bar_boxes), labels[k].get_text()
            assert not any(box.overlaps(b) for b in label_boxes[:k]), labels[k].get_text()
            # inside the plot, so under the title and above the axis labels
            assert inside(box, plot), labels[k].get_text()
        # Not squashed: the plot keeps at least 40 % of the figure's height, at most 3:1.
        assert plot.height >= 0.4 * frame.height, (plot.bounds, frame.bounds)
        assert plot.width / plot.height <= 3.0, plot.bounds


def test_a_thin_macc_bar_is_drawn_with_an_edge_of_its_own_colour() -> None:
    """The demo's fleet measure is 0.06 % of the curve, less than a pixel: a white edge
    would hide it, so it is outlined in its own colour."""
    with plotting.chart_style("en"):
        fig = macc_figure(macc(demo_measures()))
    [ax] = fig.axes
    bars = {str(p.get_gid()): p for p in ax.patches}
    fleet, gec = bars["macc-bar-FLEET"], bars["macc-bar-GEC"]
    assert tuple(fleet.get_edgecolor()) == tuple(fleet.get_facecolor())
    assert tuple(gec.get_edgecolor()) == (1.0, 1.0, 1.0, 1.0)


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


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_scenario_text_stays_in_the_figure_and_its_legend_off_the_plot(
    lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if lang == "zh-CN" and plotting.cjk_font() is None:
        pytest.skip("no CJK font installed (fonts-noto-cjk)")
    from esgledger.targets import charts

    saved: list[Figure] = []
    real_save = charts.save_figure

    def spy(fig: Figure, *args: Any, **kwargs: Any) -> bytes:
        saved.append(fig)
        return real_save(fig, *args, **kwargs)

    monkeypatch.setattr(charts, "save_figure", spy)
    table = scenario(2_385_737.0, demo_measures(), range(2024, 2031))
    scenario_chart(table, target_pathway={2024: 1_800_000.0, 2030: 711_300.0}, lang=lang)
    [fig] = saved
    with plotting.chart_style(lang):
        assert figure_problems(fig) == []
