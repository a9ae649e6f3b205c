"""HTML rendering: escaping, anchors, content-index links, self-containment, determinism."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest

from esgledger.report import sample
from esgledger.report.document import (
    Callout,
    ContentIndexEntry,
    Figure,
    Markdown,
    MetricRow,
    MetricTable,
    Placeholder,
    ReportDocument,
    ReportError,
    Section,
    Text,
)
from esgledger.report.render import inline_svg, render_html, render_markdown

SVG = (
    b'<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "x" "y">\n'
    b'<svg xmlns="http://www.w3.org/2000/svg"><metadata>m</metadata><defs>'
    b'<clipPath id="p1"><rect/></clipPath></defs><g clip-path="url(#p1)"><text>CHART-TEXT</text>'
    b'</g><use href="#p1"/></svg>'
)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.append(str(values["id"]))
        if tag == "a" and values.get("href"):
            self.hrefs.append(str(values["href"]))
        if tag in ("img", "link", "iframe") or values.get("src"):
            self.srcs.append(f"{tag}:{values.get('src') or values.get('href')}")
        if tag == "script":
            self.scripts += 1


def _doc(**kwargs: object) -> ReportDocument:
    narrative = Markdown(
        'Hello <script>alert("x")</script> **bold** [link](javascript:alert(1)) ![img](http://x/y.png)',
        "你好 <b>粗</b> **加粗**",
    )
    table = MetricTable(
        "ghg",
        Text("GHG <emissions>", "温室气体"),
        (MetricRow("A1.2", Text("Scope 1 & 2", "范围一及二"), 1234567.0, "t CO2e", 1000000.0),),
    )
    figure = Figure("by-scope", Text("By scope", "按范围"), {"en": SVG, "zh-CN": SVG})
    fields: dict[str, object] = {
        "title": Text("ESG Report", "环境、社会及管治报告"),
        "company": Text("A & B Ltd", "甲乙有限公司"),
        "reporting_year": 2024,
        "generated_at": dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC),
        "sections": (
            Section(
                "climate",
                Text("Climate", "气候"),
                blocks=(narrative, table, figure, Callout(Text("Note <x>", "注意"))),
                children=(Section("climate-targets", Text("Targets", "目标")),),
            ),
        ),
        "content_index": (
            ContentIndexEntry(
                "A1.2", Text("GHG", "温室气体"), "disclosed", section_id="climate-targets"
            ),
            ContentIndexEntry(
                "A1.3", Text("Waste", "废弃物"), "explained", explanation=Text("n/m", "不重大")
            ),
        ),
    }
    fields.update(kwargs)
    return ReportDocument(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_html_is_self_contained_and_links_resolve(lang: str) -> None:
    html = render_html(_doc(), lang)
    parsed = _Collector()
    parsed.feed(html)
    assert parsed.scripts == 0
    assert parsed.srcs == []
    assert "<img" not in html  # a Markdown image becomes a plain link: nothing to fetch
    assert len(parsed.ids) == len(set(parsed.ids)), "duplicate ids"
    internal = [h[1:] for h in parsed.hrefs if h.startswith("#")]
    assert set(internal) <= set(parsed.ids)
    assert {"climate", "climate-targets", "content-index", "toc", "ghg", "by-scope"} <= set(
        parsed.ids
    )
    assert f'<html lang="{lang}">' in html
    assert "<style>" in html
    assert "@page" in html


def test_user_text_is_escaped_and_markdown_rendered() -> None:
    html = render_html(_doc(), "en")
    assert "<script>" not in html
    assert "&lt;script&gt;alert" in html
    assert "<strong>bold</strong>" in html
    assert 'href="javascript:' not in html
    assert "<img" not in html
    assert "GHG &lt;emissions&gt;" in html
    assert "A &amp; B Ltd" in html
    assert "Note &lt;x&gt;" in html
    zh = render_html(_doc(), "zh-CN")
    assert "&lt;b&gt;粗&lt;/b&gt;" in zh
    assert "<strong>加粗</strong>" in zh


def test_render_markdown_escapes_raw_html() -> None:
    assert str(render_markdown("<i>x</i>")) == "<p>&lt;i&gt;x&lt;/i&gt;</p>\n"


def test_content_index_links_each_item_to_its_section_and_page() -> None:
    html = render_html(_doc(), "en")
    row = re.search(r'<tr data-code="A1.2">.*?</tr>', html, re.S)
    assert row is not None
    assert '<a href="#climate-targets">1.1 Targets</a>' in row.group(0)
    assert '<a class="page-ref" href="#climate-targets"></a>' in row.group(0)
    assert "target-counter(attr(href url), page)" in html
    explained = re.search(r'<tr data-code="A1.3">.*?</tr>', html, re.S)
    assert explained is not None
    assert "Explained: n/m" in explained.group(0)
    zh = render_html(_doc(), "zh-CN")
    assert "已解释：不重大" in zh


def test_metric_values_yoy_and_language() -> None:
    en = render_html(_doc(), "en")
    assert ">1,234,567<" in en
    assert ">1,000,000<" in en
    assert ">+23.5<" in en
    zh = render_html(_doc(), "zh-CN")
    assert "范围一及二" in zh
    assert "Scope 1 &amp; 2" not in zh
    assert "目录" in zh
    assert "Contents" not in zh


def test_svg_is_inlined_without_prologue_and_with_prefixed_ids() -> None:
    markup = str(inline_svg(SVG, "by-scope"))
    assert markup.startswith("<svg")
    assert "<?xml" not in markup
    assert "DOCTYPE" not in markup
    assert "<metadata>" not in markup
    assert 'id="by-scope-p1"' in markup
    assert "url(#by-scope-p1)" in markup
    assert 'href="#by-scope-p1"' in markup
    assert "CHART-TEXT" in render_html(_doc(), "en")


def test_draft_banner_lists_reasons() -> None:
    box = Placeholder("board", Text("Board statement", "董事会声明"), Text("Write it", "请撰写"))
    doc = _doc(
        sections=(Section("board", Text("Board", "董事会"), blocks=(box,)),),
        content_index=(ContentIndexEntry("A1.1", Text("x", "x"), "missing"),),
    )
    en = render_html(doc, "en")
    assert 'class="draft-banner"' in en
    assert "Placeholder not supplied: Board statement" in en
    assert "Mandatory content-index item missing: A1.1" in en
    assert "[To be supplied]" in en
    assert "Write it" in en
    assert 'content: "DRAFT"' in en
    zh = render_html(doc, "zh-CN")
    assert "[待提供]" in zh
    assert "请撰写" in zh
    assert 'content: "草稿"' in zh
    final = render_html(_doc(), "en")
    assert 'class="draft-banner"' not in final
    assert 'content: "DRAFT"' not in final


def test_rendering_is_deterministic_and_carries_generated_at() -> None:
    doc = sample.sample_document(chapters=2)
    first = render_html(doc, "zh-CN")
    assert first == render_html(doc, "zh-CN")
    assert '<meta name="dcterms.created" content="2025-03-01T09:30:00+00:00">' in first


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ReportError, match=r"unknown report language 'de'"):
        render_html(_doc(), "de")


def test_a_text_cell_prints_in_the_edition_language_and_exports_per_language() -> None:
    from esgledger.report.document import Column, DataTable, format_number
    from esgledger.report.render import export_rows

    table = DataTable(
        "bodies",
        Text("Governance bodies", "治理架构"),
        (Column("name", Text("Body", "机构")), Column("members", Text("Members", "成员"))),
        ((Text("Board of Directors", "董事会"), 11),),
    )
    doc = ReportDocument(
        title=Text("Report", "报告"),
        company=Text("Co", "公司"),
        reporting_year=2024,
        generated_at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
        sections=(Section("gov", Text("Governance", "管治"), blocks=(table,)),),
    )
    assert "董事会" in render_html(doc, "zh-CN")
    assert "董事会" not in render_html(doc, "en")
    assert "Board of Directors" in render_html(doc, "en")
    assert export_rows(table, "zh-CN")[1] == [["董事会", 11]]
    assert export_rows(table, "en")[1] == [["Board of Directors", 11]]
    with pytest.raises(ReportError, match="a text cell has no single value"):
        format_number(Text("a", "甲"))
