"""The report document model: validation, numbering, draft reasons, number formatting."""

from __future__ import annotations

import datetime as dt

import pytest

from esgledger.i18n import UnknownLanguageError
from esgledger.report.document import (
    Column,
    ContentIndexEntry,
    DataTable,
    Figure,
    Markdown,
    MetricRow,
    MetricTable,
    Placeholder,
    ReportDocument,
    ReportError,
    Section,
    Text,
    format_number,
    yoy_pct,
)

WHEN = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


def _doc(*sections: Section, index: tuple[ContentIndexEntry, ...] = ()) -> ReportDocument:
    return ReportDocument(
        title=Text("Report", "报告"),
        company=Text("Co", "公司"),
        reporting_year=2024,
        generated_at=WHEN,
        sections=sections,
        content_index=index,
    )


def test_text_falls_back_to_english_only_when_chinese_is_empty() -> None:
    assert Text("Scope 1", "范围一").get("zh-CN") == "范围一"
    assert Text("GRI 305").get("zh-CN") == "GRI 305"
    with pytest.raises(UnknownLanguageError, match=r"unknown language 'fr'; use one of en, zh-CN"):
        Text("x", "y").get("fr")


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (4817824.0, None, "4,817,824"),
        (4817824, None, "4,817,824"),
        (1234.5, None, "1,234.5"),
        (1234.5, 2, "1,234.50"),
        (-0.25, None, "-0.25"),
        ("2,468,107", None, "2,468,107"),
        (None, None, ""),
    ],
)
def test_format_number(value: float | str | None, decimals: int | None, expected: str) -> None:
    assert format_number(value, decimals) == expected


def test_format_number_refuses_nan_and_bool() -> None:
    with pytest.raises(ReportError, match="must be finite"):
        format_number(float("nan"))
    with pytest.raises(ReportError, match="must be a number or text"):
        format_number(True)


def test_yoy_is_change_over_the_absolute_prior() -> None:
    assert yoy_pct(110.0, 100.0) == pytest.approx(10.0)
    assert yoy_pct(-90.0, -100.0) == pytest.approx(10.0)
    assert yoy_pct(1.0, 0.0) is None
    assert yoy_pct("1", 2.0) is None
    row = MetricRow("A1.2", Text("x", "x"), 90.0, "t", prior=100.0)
    assert row.yoy_pct == pytest.approx(-10.0)
    assert MetricRow("A1.2", Text("x", "x"), "90", yoy=-10.0).yoy_pct == -10.0


def test_sections_are_numbered_by_position_unless_given() -> None:
    doc = _doc(
        Section("a", Text("A", "甲"), children=(Section("a-1", Text("A1", "甲1")),)),
        Section("b", Text("B", "乙"), number="B", children=(Section("b-1", Text("B1", "乙1")),)),
    )
    assert doc.numbers() == {"a": "1", "a-1": "1.1", "b": "B", "b-1": "B.1"}
    assert [s.id for s in doc.walk()] == ["a", "a-1", "b", "b-1"]


def test_ids_must_be_anchors_and_unique() -> None:
    with pytest.raises(ReportError, match=r"section id 'Climate Metrics' cannot be an anchor"):
        Section("Climate Metrics", Text("x", "x"))
    table = MetricTable("a", Text("t", "t"), ())
    with pytest.raises(ReportError, match=r"id 'a' is used twice"):
        _doc(Section("a", Text("A", "甲"), blocks=(table,)))
    with pytest.raises(ReportError, match=r"id 'toc' is used twice in the report \(or is reserved"):
        _doc(Section("toc", Text("A", "甲")))


def test_data_table_rows_must_match_columns() -> None:
    with pytest.raises(ReportError, match=r"row 2 has 1 cells but the table has 2 columns"):
        DataTable(
            "t",
            Text("t", "t"),
            (Column("a", Text("a", "a")), Column("b", Text("b", "b"))),
            ((1, 2), (3,)),
        )


def test_figure_needs_svg_for_both_languages() -> None:
    with pytest.raises(ReportError, match=r"figure 'f' has no SVG for zh-CN"):
        Figure("f", Text("c", "c"), {"en": b"<svg/>"})


def test_content_index_entries_are_checked() -> None:
    with pytest.raises(ReportError, match=r"A1.1 is 'disclosed' but names no section"):
        ContentIndexEntry("A1.1", Text("x", "x"), "disclosed")
    with pytest.raises(ReportError, match=r"A1.1 is 'explained' but has no explanation"):
        ContentIndexEntry("A1.1", Text("x", "x"), "explained")
    with pytest.raises(ReportError, match=r"unknown status 'done'"):
        ContentIndexEntry("A1.1", Text("x", "x"), "done")  # type: ignore[arg-type]
    entry = ContentIndexEntry("A1.1", Text("x", "x"), "disclosed", section_id="nowhere")
    with pytest.raises(ReportError, match=r"points at section 'nowhere', which is not in the"):
        _doc(Section("a", Text("A", "甲")), index=(entry,))
    twice = ContentIndexEntry("A1.1", Text("x", "x"), "missing")
    with pytest.raises(ReportError, match=r"A1.1 is listed twice"):
        _doc(Section("a", Text("A", "甲")), index=(twice, twice))


def test_draft_reasons_collect_placeholders_and_missing_mandatory_items() -> None:
    open_box = Placeholder("board", Text("Board statement", "董事会声明"), Text("i", "i"))
    filled = Placeholder("ceo", Text("CEO", "CEO"), Text("i", "i"), Markdown("Hi", "你好"))
    index = (
        ContentIndexEntry("A1.1", Text("x", "x"), "missing"),
        ContentIndexEntry("A3.1", Text("x", "x"), "missing", mandatory=False),
    )
    doc = _doc(Section("a", Text("A", "甲"), blocks=(open_box, filled)), index=index)
    reasons = doc.draft_reasons
    assert [r.en for r in reasons] == [
        "Placeholder not supplied: Board statement",
        "Mandatory content-index item missing: A1.1",
    ]
    assert [r.get("zh-CN") for r in reasons] == [
        "未提供占位内容：董事会声明",
        "强制披露项缺失：A1.1",
    ]
    assert doc.is_draft
    assert not _doc(Section("a", Text("A", "甲"), blocks=(filled,))).is_draft


def test_tables_and_figures_in_reading_order() -> None:
    t1 = MetricTable("t1", Text("t", "t"), ())
    t2 = DataTable("t2", Text("t", "t"), (), ())
    fig = Figure("f1", Text("c", "c"), {"en": b"", "zh-CN": b""})
    doc = _doc(
        Section(
            "a", Text("A", "甲"), blocks=(t1,), children=(Section("b", Text("B", "乙"), (fig, t2)),)
        )
    )
    assert [t.id for t in doc.tables()] == ["t1", "t2"]
    assert [f.chart_id for f in doc.figures()] == ["f1"]


def test_public_api_names_exist() -> None:
    import esgledger.report as report

    assert sorted(report.__all__) == sorted(set(report.__all__))
    for name in report.__all__:
        assert hasattr(report, name), name
