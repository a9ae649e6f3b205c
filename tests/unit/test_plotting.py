"""The shared chart setup: languages, the CJK font, deterministic SVG with text kept as text."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib as mpl
import pytest

from esgledger import plotting
from esgledger.errors import EsgledgerError
from esgledger.plotting import (
    CjkFontMissingError,
    CjkFontMissingWarning,
    UnknownFormatError,
    UnknownLangError,
    chart_style,
    new_figure,
    save_figure,
)

SVG_NS = "{http://www.w3.org/2000/svg}"


def _draw(lang: str, title: str) -> bytes:
    with chart_style(lang):
        fig = new_figure(4, 3)
        ax = fig.add_subplot()
        ax.bar([0, 1], [1.0, 2.0])
        ax.set_title(title)
        return save_figure(fig, fmt="svg")


def _texts(svg: bytes) -> list[str]:
    root = ET.fromstring(svg)
    return ["".join(t.itertext()) for t in root.iter(f"{SVG_NS}text")]


def test_svg_keeps_text_as_text_and_drops_the_date() -> None:
    svg = _draw("en", "Abatement")
    assert "Abatement" in _texts(svg)
    assert b"<dc:date>" not in svg


def test_same_figure_gives_same_bytes() -> None:
    assert _draw("en", "Same") == _draw("en", "Same")


def test_chinese_title_is_text_in_a_cjk_font() -> None:
    font = plotting.cjk_font()
    if font is None:
        pytest.skip("no CJK font installed on this machine")
    svg = _draw("zh-CN", "减排成本曲线")
    assert "减排成本曲线" in _texts(svg)
    assert font.encode() in svg


def test_style_is_restored_after_the_block() -> None:
    before = mpl.rcParams["svg.fonttype"]
    with chart_style("en"):
        assert mpl.rcParams["svg.fonttype"] == "none"
    assert mpl.rcParams["svg.fonttype"] == before


def test_unknown_lang_is_refused() -> None:
    with (
        pytest.raises(UnknownLangError, match="unknown chart language 'fr'; use one of en, zh-CN"),
        chart_style("fr"),
    ):
        pass


def test_missing_cjk_font_warns_with_the_package_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(plotting, "cjk_font", lambda: None)
    with (
        pytest.warns(CjkFontMissingWarning, match="fonts-noto-cjk"),
        chart_style("zh-CN") as font,
    ):
        assert font is None


def test_missing_cjk_font_is_an_error_when_strict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plotting, "cjk_font", lambda: None)
    with (
        pytest.raises(CjkFontMissingError, match="install a CJK font such as 'Noto Sans CJK SC'"),
        chart_style("zh-CN", strict=True),
    ):
        pass
    assert issubclass(CjkFontMissingError, EsgledgerError)


def test_png_is_written_to_a_path_and_returned(tmp_path: Path) -> None:
    with chart_style("en"):
        fig = new_figure(2, 2)
        fig.add_subplot().plot([0, 1], [0, 1])
        target = tmp_path / "chart.png"
        data = save_figure(fig, target)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert target.read_bytes() == data
    assert b"matplotlib version" not in data


def test_binary_file_target_and_unknown_format() -> None:
    with chart_style("en"):
        fig = new_figure(2, 2)
        buffer = io.BytesIO()
        data = save_figure(fig, buffer, fmt="svg")
        assert buffer.getvalue() == data
        with pytest.raises(
            UnknownFormatError, match="unknown chart format 'pdf'; use 'svg' or 'png'"
        ):
            save_figure(fig, Path("chart.pdf"))
