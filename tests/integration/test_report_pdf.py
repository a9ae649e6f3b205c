"""The bilingual PDF report, checked the way a reader would see it.

A sample document (synthetic figures, built in the test) is written in English and Simplified
Chinese, HTML and PDF. The PDFs are then inspected with poppler (``pdffonts``, ``pdftotext``,
``pdftoppm``): the CJK font is embedded, the Chinese text round-trips, no character is drawn as
a .notdef box (tofu), every content-index entry resolves to a page (in Python from WeasyPrint's
layout, and as printed by CSS ``target-counter``), each chart is on its page with its text and
colours, and the key figures appear exactly as the document gives them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from esgledger.i18n import ui
from esgledger.report import fonts, sample
from esgledger.report.document import ReportDocument, Section, Text
from esgledger.report.pdf import MissingGlyphError, PdfResult, html_to_pdf, unresolved_entries
from esgledger.report.render import render_html, write_report

POPPLER = ("pdftoppm", "pdffonts", "pdftotext")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        any(shutil.which(tool) is None for tool in POPPLER),
        reason="poppler-utils (pdftoppm, pdffonts, pdftotext) is not installed; "
        "run 'bash tools/install-system-packages.sh'",
    ),
]
LANGS = ("en", "zh-CN")


@dataclass
class Edition:
    lang: str
    pdf_path: Path
    result: PdfResult
    text: str
    layout: str


@pytest.fixture(scope="module")
def doc() -> ReportDocument:
    return sample.sample_document(chapters=3)


@pytest.fixture(scope="module")
def written(doc: ReportDocument, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_report(doc, tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def editions(doc: ReportDocument, written: list[Path]) -> dict[str, Edition]:
    result: dict[str, Edition] = {}
    for lang in LANGS:
        pdf_path = next(p for p in written if p.name.endswith(f".{lang}.pdf"))
        rendered = html_to_pdf(render_html(doc, lang))
        text = _run("pdftotext", "-enc", "UTF-8", str(pdf_path), "-")
        layout = _run("pdftotext", "-layout", "-enc", "UTF-8", str(pdf_path), "-")
        result[lang] = Edition(lang, pdf_path, rendered, text, layout)
    return result


def _run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, check=True, text=True).stdout


def _squash(text: str) -> str:
    """Text without whitespace: pdftotext breaks lines and may space CJK runs."""
    return re.sub(r"\s+", "", text)


def test_writes_every_edition_and_export(doc: ReportDocument, written: list[Path]) -> None:
    names = {p.name for p in written}
    for lang in LANGS:
        assert f"esg-report-2024.{lang}.html" in names
        assert f"esg-report-2024.{lang}.pdf" in names
        for table in doc.tables():
            assert f"{table.id}.{lang}.csv" in names
            assert f"{table.id}.{lang}.xlsx" in names
    assert all(p.is_file() and p.stat().st_size > 0 for p in written)
    csv_zh = next(p for p in written if p.name == "ghg-emissions.zh-CN.csv")
    assert csv_zh.read_text(encoding="utf-8-sig").splitlines()[0].startswith("代码,指标,数值")


def test_same_document_same_pdf_bytes(doc: ReportDocument, editions: dict[str, Edition]) -> None:
    # No clock, no random identifier: a second rendering gives the same file.
    assert editions["zh-CN"].pdf_path.read_bytes() == editions["zh-CN"].result.pdf


def test_cjk_font_is_embedded_in_the_chinese_edition(editions: dict[str, Edition]) -> None:
    table = _run("pdffonts", str(editions["zh-CN"].pdf_path)).splitlines()[2:]
    family = fonts.find_cjk_font().family.replace(" ", "-")
    rows = [line.split() for line in table if line.strip()]
    cjk = [row for row in rows if family in row[0]]
    assert cjk, f"{family} is not in the PDF's fonts: {table}"
    # columns from the right: object ID (2 fields), uni, sub, emb
    assert all(row[-5] == "yes" for row in rows), "every font must be embedded"
    assert all(row[-3] == "yes" for row in rows), "every font needs a ToUnicode map"
    assert not any("Type 3" in line for line in table)


def test_chinese_text_round_trips(doc: ReportDocument, editions: dict[str, Edition]) -> None:
    text = _squash(editions["zh-CN"].text)
    expected = [doc.title.get("zh-CN"), doc.company.get("zh-CN"), "目录", "内容索引"]
    expected += [section.title.get("zh-CN") for section in doc.walk()]
    expected += [entry.title.get("zh-CN") for entry in doc.content_index]
    missing = [item for item in expected if _squash(item) not in text]
    assert missing == []
    assert "Contents" not in editions["zh-CN"].text


def test_no_character_is_drawn_as_tofu(editions: dict[str, Edition]) -> None:
    for edition in editions.values():
        # WeasyPrint reports every .notdef glyph it draws; html_to_pdf raised on any (strict).
        assert edition.result.notdef == ()
        assert not any(".notdef" in message for message in edition.result.messages)
    # Every character the Chinese PDF carries exists in the fonts the report uses.
    latin = fonts.CjkFont("DejaVu Sans", Path(_run("fc-match", "-f", "%{file}", "DejaVu Sans")))
    assert fonts.missing_glyphs(editions["zh-CN"].text, [fonts.find_cjk_font(), latin]) == set()


def test_tofu_is_caught_not_printed() -> None:
    # The negative control of the check above: a private-use character no font has.
    with pytest.raises(MissingGlyphError, match=r"U\+E000.*fonts-noto-cjk"):
        html_to_pdf("<p>范围一 \ue000</p>")
    lenient = html_to_pdf("<p>范围一 \ue000</p>", strict=False)
    assert lenient.notdef == ("\ue000",)


def test_every_content_index_entry_resolves_to_a_page(
    doc: ReportDocument, editions: dict[str, Edition]
) -> None:
    for edition in editions.values():
        pages = edition.result.anchor_pages
        assert unresolved_entries(doc, pages) == []
        for entry in doc.content_index:
            if entry.section_id is None:
                continue
            page = pages[entry.section_id]
            assert 1 <= page <= edition.result.page_count
            # The page printed by CSS target-counter in the index matches WeasyPrint's layout.
            line = next(
                (
                    line
                    for line in edition.layout.splitlines()
                    if line.strip().startswith(entry.code + " ")
                ),
                None,
            )
            assert line is not None, f"{entry.code} not in the printed content index"
            assert line.split()[-1] == str(page), (edition.lang, entry.code, line)


def test_an_entry_whose_section_is_on_no_page_is_reported(doc: ReportDocument) -> None:
    pages = {section.id: 1 for section in doc.walk() if section.id != "climate-metrics"}
    assert unresolved_entries(doc, pages) == ["A1.2"]


CHART_TITLES = {
    "emissions-by-scope": "chart.emissions_by_scope",
    "scope3-categories": "chart.scope3_by_category",
    "re-share": "chart.re_share",
    "cfe-heatmap": "chart.cfe_heatmap",
    "target-pathway": "chart.target_pathway",
}


def test_each_chart_is_on_its_page(doc: ReportDocument, editions: dict[str, Edition]) -> None:
    from PIL import Image

    for edition in editions.values():
        folder = edition.pdf_path.parent / f"png-{edition.lang}"
        folder.mkdir()
        subprocess.run(
            ["pdftoppm", "-r", "40", "-png", str(edition.pdf_path), str(folder / "p")], check=True
        )
        pngs = sorted(folder.glob("p-*.png"))
        assert len(pngs) == edition.result.page_count
        for number, figure in enumerate(doc.figures(), start=1):
            label = ui("doc.figure", edition.lang)
            caption = _squash(f"{label} {number} {figure.caption.get(edition.lang)}")
            page = edition.result.anchor_pages[figure.chart_id]
            page_text = _squash(
                _run("pdftotext", "-f", str(page), "-l", str(page), str(edition.pdf_path), "-")
            )
            assert caption in page_text, (edition.lang, caption, page)
            # The chart's title exists only inside its SVG: found on the page = SVG drawn there.
            title = ui(CHART_TITLES.get(figure.chart_id, "chart.intensity"), edition.lang)
            assert _squash(title) in page_text, (edition.lang, figure.chart_id, page)
            hsv = np.asarray(Image.open(pngs[page - 1]).convert("HSV"))
            coloured = int(((hsv[..., 1] > 80) & (hsv[..., 2] > 60)).sum())
            assert coloured > 100, (edition.lang, figure.chart_id, page, coloured)
    cover = Image.open(sorted((editions["en"].pdf_path.parent / "png-en").glob("*.png"))[0])
    assert cover.convert("L").getextrema()[0] < 100  # the cover is not blank


def test_key_figures_appear_exactly(editions: dict[str, Edition]) -> None:
    for edition in editions.values():
        tokens = set(edition.text.split())
        for name, printed in sample.SAMPLE_FIGURES.items():
            assert printed in tokens, (edition.lang, name, printed)


def test_a_section_with_no_content_still_gets_a_page(tmp_path: Path) -> None:
    doc = sample.sample_document(chapters=0)
    empty = Section("empty", Text("Empty", "空"))
    doc = type(doc)(
        title=doc.title,
        company=doc.company,
        reporting_year=doc.reporting_year,
        generated_at=doc.generated_at,
        sections=(*doc.sections, empty),
    )
    result = html_to_pdf(render_html(doc, "zh-CN"))
    assert result.anchor_pages["empty"] == result.page_count
