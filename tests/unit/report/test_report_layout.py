"""Page layout of the PDF: nothing off the page, no table wider than the text area, no heading
stranded at a page foot, codes never split inside a part.

The checker (:mod:`esgledger.report.layout`) reads WeasyPrint's layout tree; it is first
checked on hand-made pages (it must find what is broken), then the report's own stylesheet is
checked on tables shaped like the demo report's widest ones: the emissions history with its
Source column, the emissions by site with five t CO2e columns, and KPI tables with long
catalogue codes and units, in English and Chinese.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest

from esgledger.i18n import ui
from esgledger.report.document import (
    Column,
    DataTable,
    MetricRow,
    MetricTable,
    ReportDocument,
    Section,
    Text,
)
from esgledger.report.layout import LayoutProblem, layout_problems
from esgledger.report.pdf import html_to_pdf
from esgledger.report.render import identifier, render_html, unit_html

pytestmark = pytest.mark.slow  # WeasyPrint lays out every page (about a second a page)

LANGS = ("en", "zh-CN")
PAGE = "<style>@page { size: A4; margin: 20mm 16mm } body { margin: 0 }</style>"


def _layout(html: str) -> Any:
    from weasyprint import HTML

    return HTML(string=html).render()


def _kinds(problems: list[LayoutProblem]) -> set[str]:
    return {problem.kind for problem in problems}


# ---- the checker --------------------------------------------------------------------------


def test_the_checker_finds_a_table_wider_than_the_text_area_and_text_off_the_page() -> None:
    cells = "".join(f"<td>Scope&nbsp;2&nbsp;(location-based)&nbsp;{n}</td>" for n in range(6))
    problems = layout_problems(_layout(f"{PAGE}<table><tr>{cells}</tr></table>"))
    assert {"table-too-wide", "off-page"} <= _kinds(problems)
    off = next(p for p in problems if p.kind == "off-page")
    assert off.page == 1
    assert "Scope" in off.text
    assert "page" in str(off)


def test_the_checker_finds_text_that_overflows_its_cell() -> None:
    html = (
        f"{PAGE}<table style='table-layout: fixed; width: 60mm'><tr>"
        "<td style='white-space: nowrap'>US-PPA-SOLAR-CONTRACT-0001</td><td>b</td></tr></table>"
    )
    assert "outside-cell" in _kinds(layout_problems(_layout(html)))


def test_the_checker_passes_a_clean_page_and_ignores_list_markers_and_page_margins() -> None:
    html = (
        f"{PAGE}<style>@page {{ @bottom-right {{ content: counter(page) }} }}</style>"
        "<ol>" + "".join(f"<li>item {n}</li>" for n in range(12)) + "</ol>"
        "<table><tr><td>DC-CQ</td><td>1,623</td></tr></table>"
    )
    assert layout_problems(_layout(html)) == []


@pytest.mark.parametrize(("keep", "stranded"), [("auto", True), ("avoid", False)])
def test_the_checker_finds_a_heading_stranded_at_the_foot_of_a_page(
    keep: str, stranded: bool
) -> None:
    # A filler leaves room for the heading but not for the block after it.
    html = (
        f"{PAGE}<style>h2 {{ break-after: {keep}; margin: 0; font-size: 12pt }}</style>"
        "<div style='height: 245mm'></div><h2>Data tables</h2>"
        "<div style='height: 40mm'>content</div>"
    )
    problems = layout_problems(_layout(html))
    assert (problems != []) is stranded
    if stranded:
        [problem] = problems
        assert (problem.kind, problem.page, problem.text) == (
            "stranded-heading",
            1,
            "Data tables",
        )


# ---- the report's stylesheet --------------------------------------------------------------

SITES = ("(no site)", "DC-CQ", "DC-GD", "HQ-SZ", "OF-LDN", "US-PPA-SOLAR", "GRP-GEC-WIND")


def _t(key: str) -> Text:
    return Text(ui(key, "en"), ui(key, "zh-CN"))


def _wide_tables_document() -> ReportDocument:
    """Tables shaped like the demo report's widest: history with its source, emissions by
    site, KPIs with long codes and units (the figures are synthetic)."""
    t = "t CO2e"
    history = DataTable(
        "emissions-history",
        Text("Emissions by year and their source", "按年份排放及来源"),
        (
            Column("year", _t("chart.year")),
            Column("s1", _t("chart.scope1"), unit=t, decimals=0),
            Column("s2l", _t("b.scope2_location"), unit=t, decimals=0),
            Column("s2m", _t("b.scope2_market"), unit=t, decimals=0),
            Column("s3", _t("chart.scope3"), unit=t, decimals=0),
            Column("source", _t("metric.source")),
        ),
        tuple(
            (str(year), 19_000 + year, 2_349_000.0, 2_352_000.0, 2_743_000.0, source)
            for year, source in (
                (2021, "published: synthetic demo figure (not a published value)"),
                (2022, "published: synthetic demo figure (not a published value)"),
                (2024, "run r-6fcb580ee022-20261207T043016Z"),
            )
        ),
    )
    by_site = DataTable(
        "emissions-by-site",
        Text("Emissions by site", "按站点排放"),
        (
            Column("code", _t("b.site")),
            Column("s1", _t("chart.scope1"), unit=t, decimals=0),
            Column("s2l", _t("b.scope2_location"), unit=t, decimals=0),
            Column("s2m", _t("b.scope2_market"), unit=t, decimals=0),
            Column("s3", _t("chart.scope3"), unit=t, decimals=0),
            Column("total", _t("b.total"), unit=t, decimals=0),
        ),
        tuple((site, 1_623.0, 397_064.0, 392_146.0, 2_467_243.0, 3_258_076.0) for site in SITES),
    )
    kpis = MetricTable(
        "kpis",
        Text("Key performance indicators", "关键绩效指标"),
        tuple(
            MetricRow(
                code,
                Text("Direct (Scope 1) and energy indirect (Scope 2) emissions intensity"),
                3.66,
                unit,
                3.60,
                "run r-6fcb580ee022-20261207T043016Z",
            )
            for code, unit in (
                ("CO.data_security.incidents", "incidents"),
                ("CO.charity.donations_raised", "CNY"),
                ("D.metrics.internal_carbon_price", "t CO2e / million CNY"),
                ("A1.2", "t CO2e / employee"),
            )
        ),
    )
    section = Section(
        "tables", Text("Data tables", "数据表"), blocks=(history, by_site, kpis), number="1"
    )
    return ReportDocument(
        title=Text("Layout", "版式"),
        company=Text("Demo", "示例"),
        reporting_year=2024,
        generated_at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
        sections=(section,),
    )


@pytest.fixture(scope="module")
def laid_out() -> dict[str, Any]:
    doc = _wide_tables_document()
    return {lang: _layout(render_html(doc, lang)) for lang in LANGS}


@pytest.mark.parametrize("lang", LANGS)
def test_wide_tables_fit_the_text_area(laid_out: dict[str, Any], lang: str) -> None:
    problems = layout_problems(laid_out[lang])
    assert problems == [], "\n".join(map(str, problems))


def _cells(document: Any) -> Iterator[tuple[str, list[str]]]:
    """(text of the cell, its lines) for every table cell of every page."""
    from weasyprint.formatting_structure import boxes

    for page in document.pages:
        for box in page._page_box.descendants():
            if isinstance(box, boxes.TableCellBox):
                lines = [
                    "".join(t.text for t in line.descendants() if isinstance(t, boxes.TextBox))
                    for line in box.descendants()
                    if isinstance(line, boxes.LineBox)
                ]
                # <wbr> is a zero-width space in WeasyPrint's text
                lines = [line.replace("\u200b", "") for line in lines if line.strip()]
                yield "".join(lines), lines


@pytest.mark.parametrize("lang", LANGS)
def test_codes_never_wrap_inside_a_part(laid_out: dict[str, Any], lang: str) -> None:
    cells = dict(_cells(laid_out[lang]))
    for site in SITES:
        assert cells[site] == [site], (site, cells[site])  # one line: DC-CQ never DC- / CQ
    for code in ("CO.data_security.incidents", "D.metrics.internal_carbon_price"):
        lines = cells[code]
        # A long code may wrap, but only after a "." or "_" (never CO.data_secu / rity).
        assert all(re.search(r"[._]$", line) for line in lines[:-1]), lines
    for unit in ("t CO2e / million CNY", "t CO2e / employee"):
        lines = next(
            lines
            for text, lines in _cells(laid_out[lang])
            if re.sub(r"\s", "", text) == re.sub(r"\s", "", unit)
        )
        assert all(line.strip().endswith("/") for line in lines[:-1]), lines  # never t / CO2e


def test_identifier_and_unit_markup() -> None:
    assert identifier("DC-CQ") == '<span class="nw">DC-CQ</span>'
    assert identifier("CO.data_security.incidents") == (
        '<span class="nw">CO.</span><wbr><span class="nw">data_</span><wbr>'
        '<span class="nw">security.</span><wbr><span class="nw">incidents</span>'
    )
    assert identifier("<b>&") == '<span class="nw">&lt;b&gt;&amp;</span>'
    assert unit_html("t CO2e / employee") == (
        '<span class="nw">t CO2e</span> /<wbr> <span class="nw">employee</span>'
    )


def test_html_to_pdf_reports_the_layout_problems() -> None:
    cells = "".join(f"<td>Scope&nbsp;2&nbsp;(location-based)&nbsp;{n}</td>" for n in range(6))
    result = html_to_pdf(f"<html><body>{PAGE}<table><tr>{cells}</tr></table></body></html>")
    assert "table-too-wide" in {problem.kind for problem in result.layout}
