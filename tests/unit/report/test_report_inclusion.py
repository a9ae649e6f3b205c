"""The carbon-inclusion section of the ESG report (碳普惠项目) and its INCL. metrics.

Avoided emissions of programme participants are reported separately from scopes 1-3 (GHG
Protocol Corporate Standard) and never netted against the inventory: the section says so in
both languages, the INCL. metrics feed no scope total, and the section is absent from a
workspace without a programme. The fixture is tests/_inclusion_support.py (hand-worked: a
12 km Shenzhen metro ride = 560.4 g, a 6 km electric-bus ride = 161.4 g).
"""

from __future__ import annotations

import datetime as dt

import pytest

from _inclusion_support import write_programme
from _inventory_support import activity, entity, import_rows, site
from esgledger.inventory.engine import calculate
from esgledger.report.builder import build_document
from esgledger.report.document import Callout, DataTable, Figure, MetricTable, ReportDocument
from esgledger.report.render import render_html
from esgledger.store import Workspace

STAMP = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
SECTION = "env-inclusion"


def _calculate(ws: Workspace) -> None:
    import_rows(ws, "entities", [entity("GRP")])
    import_rows(ws, "sites", [site("SZ")])
    import_rows(ws, "activities", [activity("electricity", 8_000_000, "kWh", site="SZ")])
    calculate(ws)


@pytest.fixture
def plain(sqlite_workspace: Workspace) -> Workspace:
    _calculate(sqlite_workspace)
    return sqlite_workspace


@pytest.fixture
def programme(sqlite_workspace: Workspace) -> Workspace:
    write_programme(sqlite_workspace, 2024)
    _calculate(sqlite_workspace)
    return sqlite_workspace


def _section(doc: ReportDocument, section_id: str = SECTION):  # type: ignore[no-untyped-def]
    def walk(sections):  # type: ignore[no-untyped-def]
        for s in sections:
            yield s
            yield from walk(s.children)

    return next((s for s in walk(doc.sections) if s.id == section_id), None)


def test_no_programme_no_section_and_no_incl_values(plain: Workspace) -> None:
    doc = build_document(plain, generated_at=STAMP)
    assert _section(doc) is None
    html = render_html(doc, "en")
    assert "Carbon inclusion programme" not in html
    assert "碳普惠项目" not in render_html(doc, "zh-CN")


def test_the_section_in_english_and_chinese(programme: Workspace) -> None:
    doc = build_document(programme, generated_at=STAMP)
    section = _section(doc)
    assert section is not None
    assert section.title.en == "Carbon inclusion programme"
    assert section.title.zh == "碳普惠项目"
    first = section.blocks[0]
    assert isinstance(first, Callout)
    assert "outside scopes 1-3" in first.text.en
    assert "not netted against the inventory" in first.text.en
    assert "不属于范围1至3" in first.text.zh
    assert "不抵扣盘查排放量" in first.text.zh
    ids = {b.id for b in section.blocks if isinstance(b, (DataTable, MetricTable))}
    assert {
        "env-inclusion-kpis",
        "inclusion-by-month",
        "inclusion-flows",
        "inclusion-refusals",
        "inclusion-methodologies",
    } <= ids
    assert any(isinstance(b, Figure) and b.chart_id == "inclusion-chart" for b in section.blocks)
    html_en, html_zh = render_html(doc, "en"), render_html(doc, "zh-CN")
    english = ("Carbon inclusion programme", "outside scopes 1-3", "46.7 g CO2 per passenger-km")
    for text in english:
        assert text in html_en
    for text in ("碳普惠项目", "不属于范围1至3", "地铁", "电动公交"):
        assert text in html_zh


def test_the_incl_metrics_have_the_hand_worked_figures(programme: Workspace) -> None:
    doc = build_document(programme, generated_at=STAMP)
    section = _section(doc)
    kpis = next(b for b in section.blocks if isinstance(b, MetricTable))
    values = {(row.code, row.label.en): row.value for row in kpis.rows}
    by_code: dict[str, list[float]] = {}
    for (code, _), value in values.items():
        by_code.setdefault(code, []).append(float(value))  # type: ignore[arg-type]
    assert by_code["INCL.participants"] == [3.0]
    assert by_code["INCL.trips"] == [6.0, 3.0, 2.0, 1.0]  # total, settled, refused, pending
    # 2 x 560 400 mg + 161 400 mg = 1 282 200 mg = 0.0012822 t; then by mode, by month
    assert by_code["INCL.avoided"] == pytest.approx(
        [0.0012822, 0.0001614, 0.0011208, 0.0005604, 0.0001614, 0.0005604], abs=1e-12
    )
    assert by_code["INCL.points.issued"] == [1841.0]
    assert by_code["INCL.points.redeemed"] == [350.0]
    month = next(t for t in doc.tables() if t.id == "inclusion-by-month")
    assert isinstance(month, DataTable)
    assert [row[0] for row in month.rows[:-1]] == ["2024-03", "2024-04", "2024-05"]
    assert month.rows[-1][-1] == pytest.approx(0.0012822, abs=1e-12)
    assert month.columns[-1].decimals == 6  # three significant digits of 161 400 mg


def test_the_programme_changes_no_scope_total(plain: Workspace, tmp_path) -> None:  # type: ignore[no-untyped-def]
    before = build_document(plain, generated_at=STAMP)
    write_programme(plain, 2024)
    after = build_document(plain, generated_at=STAMP)
    assert _section(after) is not None

    def scope_rows(doc: ReportDocument) -> dict[tuple[str, str], object]:
        return {
            (row.code, row.label.en): row.value
            for table in doc.tables()
            if isinstance(table, MetricTable) and table.id != "env-inclusion-kpis"
            for row in table.rows
        }

    assert scope_rows(before) == scope_rows(after)
    assert not [code for code, _ in scope_rows(after) if code.startswith("INCL.")]


def test_the_methodology_table_names_factor_basis_and_count(programme: Workspace) -> None:
    doc = build_document(programme, generated_at=STAMP)
    table = next(t for t in doc.tables() if t.id == "inclusion-methodologies")
    assert isinstance(table, DataTable)
    # (methodology name, version, authority, mode, factor, confidence, trips): the name, the
    # version and the mode identify the factor (its id is <methodology>/<version>/<mode>).
    rows = {getattr(row[3], "en", row[3]): row for row in table.rows}
    metro = rows["Metro"] if "Metro" in rows else rows["metro"]
    assert getattr(metro[0], "zh", "") == "深圳市低碳公共出行碳普惠方法学（试行）"
    assert metro[1] == "2021.1"
    assert metro[4].en == "46.7 g CO2 per passenger-km"  # type: ignore[union-attr]
    assert metro[4].zh == "46.7 克二氧化碳/人公里"  # type: ignore[union-attr]
    assert metro[6] == 2  # t1 and t6 (t2 was clawed back)
    bus = next(row for key, row in rows.items() if "bus" in str(key).lower())
    assert bus[6] == 1


def test_a_programme_without_settled_trips_in_the_year_has_no_section(
    plain: Workspace,
) -> None:
    write_programme(plain, 2023)  # last year's programme: nothing settled in 2024
    doc = build_document(plain, generated_at=STAMP)
    assert _section(doc) is None


def test_a_missing_lines_file_is_said_in_the_section(programme: Workspace) -> None:
    (programme.root / "lake" / "inclusion" / "settlements" / "s1.parquet").unlink()
    doc = build_document(programme, generated_at=STAMP)
    section = _section(doc)
    assert section is not None
    texts = [b.text.en for b in section.blocks if isinstance(b, Callout)]
    assert any("s1.parquet" in text and text.startswith("Not shown") for text in texts)


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_section_lays_out_in_the_pdf(programme: Workspace, lang: str) -> None:
    """report/layout.py's checks on the pages of the section: nothing off the page, no
    table wider than the text area, no text out of its cell."""
    from esgledger.report.pdf import html_to_pdf

    doc = build_document(programme, generated_at=STAMP)
    result = html_to_pdf(render_html(doc, lang))
    first = result.anchor_pages[SECTION]
    after = min(
        (page for anchor, page in result.anchor_pages.items() if anchor == "climate"),
        default=result.page_count,
    )
    problems = [
        p for p in result.layout if first <= p.page <= after and p.kind != "stranded-heading"
    ]
    assert problems == []


def test_the_monthly_chart_is_svg_text_in_both_languages() -> None:
    from esgledger.report import charts

    series = {"metro": [0.00056, 0.0, 0.00056], "electric bus": [0.0, 0.000161, 0.0]}
    svg = charts.inclusion_by_month(["2024-03", "2024-04", "2024-05"], series, lang="en")
    assert b"<svg" in svg
    assert b"2024-04" in svg
    zh = charts.inclusion_by_month(["2024-03"], {"地铁": [0.00056]}, lang="zh-CN")
    assert "月份".encode() in zh
    with pytest.raises(charts.ChartDataError, match="metro: 1 values for 2 months"):
        charts.inclusion_by_month(["2024-03", "2024-04"], {"metro": [1.0]}, lang="en")
