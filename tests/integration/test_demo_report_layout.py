"""The demo group's report, laid out in English and Chinese, looks right on every page.

Issue 10 found the English PDF cut tables (the history table's Source column, the Scope 3 and
Total columns of the emissions by entity and by site), a table caption alone at a page foot
and site codes split over two lines. The demo's report document is laid out by WeasyPrint in
both languages and checked twice:

* from WeasyPrint's layout tree (:func:`esgledger.report.layout.layout_problems`): no text off
  the page or outside the text area, no table wider than the text area, no heading or
  caption stranded at a page foot;
* from the PDF itself, independently, with poppler (``pdftotext -bbox-layout``): every word
  lies inside the page box.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from esgledger.demo.run import DEMO_STEPS, build_demo
from esgledger.report.builder import build_document
from esgledger.report.document import ReportDocument
from esgledger.report.pdf import PdfResult, html_to_pdf
from esgledger.report.render import render_html
from esgledger.store import Workspace

pytestmark = pytest.mark.slow
LANGS = ("en", "zh-CN")
WITHOUT_REPORT = [step for step in DEMO_STEPS if not step[0].startswith("writing the ESG report")]
XHTML = "{http://www.w3.org/1999/xhtml}"


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> ReportDocument:
    root = tmp_path_factory.mktemp("layout") / "demo"
    build_demo(root, progress=False, steps=WITHOUT_REPORT)
    with Workspace.open(root) as workspace:
        return build_document(workspace)


@pytest.fixture(scope="module")
def editions(document: ReportDocument) -> dict[str, PdfResult]:
    return {lang: html_to_pdf(render_html(document, lang)) for lang in LANGS}


@pytest.mark.parametrize("lang", LANGS)
def test_no_page_has_a_layout_problem(editions: dict[str, PdfResult], lang: str) -> None:
    problems = editions[lang].layout
    assert problems == (), "\n".join(map(str, problems))


@pytest.mark.parametrize("lang", LANGS)
def test_the_demo_report_has_its_wide_tables_and_the_macc(
    document: ReportDocument, editions: dict[str, PdfResult], lang: str
) -> None:
    """The checks above ran on the tables and chart that broke: they are in the report."""
    tables = {table.id for table in document.tables()}
    assert {"emissions-history", "emissions-by-entity", "emissions-by-site"} <= tables
    assert "macc" in {figure.chart_id for figure in document.figures()}
    assert editions[lang].anchor_pages["emissions-by-site"] >= 1


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
@pytest.mark.parametrize("lang", LANGS)
def test_every_word_of_the_pdf_lies_inside_its_page(
    editions: dict[str, PdfResult], lang: str, tmp_path: Path
) -> None:
    pdf = tmp_path / f"report.{lang}.pdf"
    pdf.write_bytes(editions[lang].pdf)
    xml = subprocess.run(
        ["pdftotext", "-bbox-layout", "-enc", "UTF-8", str(pdf), "-"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    root = ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", xml))
    outside = []
    pages = list(root.iter(f"{XHTML}page"))
    assert len(pages) == editions[lang].page_count
    for number, page in enumerate(pages, start=1):
        width, height = float(page.get("width", 0)), float(page.get("height", 0))
        for word in page.iter(f"{XHTML}word"):
            x0, x1 = float(word.get("xMin", 0)), float(word.get("xMax", 0))
            y0, y1 = float(word.get("yMin", 0)), float(word.get("yMax", 0))
            if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
                outside.append((number, word.text, x0, x1))
    assert outside == []
