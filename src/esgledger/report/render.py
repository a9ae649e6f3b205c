"""Render a :class:`~esgledger.report.document.ReportDocument` to HTML, PDF and table exports.

把报告文档渲染为 HTML、PDF 及数据表导出文件（CSV/XLSX）。

:func:`render_html` gives one self-contained HTML file per language: the stylesheet and every
chart (SVG) inline, no network reference, a table of contents and the HKEX content index with
links to its sections. :func:`write_report` writes the HTML and PDF editions and a CSV and an
XLSX file of every table next to them. Words come from the strings table (``esgledger.i18n``)
(:func:`esgledger.i18n.ui`); narratives are CommonMark rendered with markdown-it-py
with raw HTML and images disabled (shown as text), so user text cannot inject markup or make
the PDF engine fetch anything.
"""

from __future__ import annotations

import functools
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from markdown_it import MarkdownIt
from markupsafe import Markup

from esgledger.i18n import ui
from esgledger.report import fonts
from esgledger.report.document import (
    LANGS,
    Callout,
    Cell,
    DataTable,
    Figure,
    Markdown,
    MethodologyAppendix,
    MetricRow,
    MetricTable,
    Placeholder,
    ReportDocument,
    ReportError,
    Text,
    _check_lang,
    cell_in,
    format_number,
)
from esgledger.safe_output import set_xlsx_cell, write_csv_rows

if TYPE_CHECKING:
    from esgledger.report.pdf import PdfResult

__all__ = [
    "FORMATS",
    "IDENTIFIER_COLUMNS",
    "WrittenReport",
    "export_number",
    "export_rows",
    "identifier",
    "inline_svg",
    "page_title",
    "render_html",
    "render_markdown",
    "report_stem",
    "unit_html",
    "write_report",
    "write_report_detailed",
]

FORMATS: tuple[str, ...] = ("html", "pdf")


@functools.cache
def _markdown() -> MarkdownIt:
    # "html": False escapes raw HTML; images are off so nothing is ever fetched.
    return MarkdownIt("commonmark", {"html": False}).disable("image")


def render_markdown(text: str) -> Markup:
    """A narrative (CommonMark) as safe HTML: raw HTML is escaped, images and unsafe link
    schemes (``javascript:``) are not rendered as such."""
    return Markup(_markdown().render(text))


_XML_PROLOGUE = re.compile(rb"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<metadata>.*?</metadata>", re.S)
_ID = re.compile(r'\bid="([^"]+)"')


def inline_svg(svg: bytes, prefix: str) -> Markup:
    """SVG bytes ready to sit inside HTML: XML prologue, doctype and metadata dropped, every
    ``id`` (and each reference to it) prefixed with ``prefix`` so that several charts on one
    page never share an id."""
    text = _XML_PROLOGUE.sub(b"", svg).decode("utf-8").strip()
    ids = set(_ID.findall(text))
    if ids:
        pattern = re.compile(
            r'(\bid="|url\(#|href="#)(' + "|".join(re.escape(i) for i in sorted(ids)) + r')(["\)])'
        )
        text = pattern.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}{m.group(3)}", text)
    return Markup(text)  # our own chart code made it, not user input


#: Decimals of a year-on-year change [%] as printed and exported.
YOY_DECIMALS = 1


IDENTIFIER_COLUMNS: frozenset[str] = frozenset({"code", "id", "site", "instrument", "entity"})
"""Keys of :class:`~esgledger.report.document.Column` whose text cells are codes (site,
entity, measure, instrument, catalogue item): printed with :func:`identifier`, so a code is
never split inside a part (``DC-CQ`` stays whole)."""

#: Codes up to this many characters never wrap; longer ones may wrap after "." or "_".
_SHORT_CODE = 16
_CODE_PARTS = re.compile(r"(?<=[._])(?=.)")


def identifier(code: str) -> Markup:
    """A code as HTML that never wraps inside a part: ``DC-CQ`` and ``B1.1`` stay on one line;
    a long catalogue code (``CO.data_security.incidents``) may wrap only after a "." or "_"
    (``<wbr>`` between ``white-space: nowrap`` parts), never between two letters."""
    if len(code) <= _SHORT_CODE:
        return Markup('<span class="nw">{}</span>').format(code)
    parts = _CODE_PARTS.split(code)
    return Markup("<wbr>").join(Markup('<span class="nw">{}</span>').format(p) for p in parts)


def unit_html(unit: str) -> Markup:
    """A unit as HTML that wraps only around a "/" (``t CO2e / employee`` may break after
    the slash; ``t CO2e`` never becomes ``t`` over ``CO2e``)."""
    parts = [part.strip() for part in unit.split("/")]
    return Markup(" /<wbr> ").join(Markup('<span class="nw">{}</span>').format(p) for p in parts)


def _percent(value: float | None, lang: str) -> str:
    return ui("doc.not_available", lang) if value is None else f"{value:+.{YOY_DECIMALS}f}"


def _kind(block: object) -> str:
    kinds: tuple[tuple[type, str], ...] = (
        (Markdown, "markdown"),
        (MetricTable, "metrics"),
        (DataTable, "data"),
        (Figure, "figure"),
        (Callout, "callout"),
        (Placeholder, "placeholder"),
        (MethodologyAppendix, "methodology"),
    )
    for cls, name in kinds:
        if isinstance(block, cls):
            return name
    raise ReportError(f"unknown report block {type(block).__name__}")


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("esgledger.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


@functools.cache
def _css() -> str:
    return (
        resources.files("esgledger.report")
        .joinpath("static", "report.css")
        .read_text(encoding="utf-8")
    )


def _metric_notes(table: MetricTable) -> tuple[list[Text], dict[int, list[int]]]:
    notes: list[Text] = []
    numbers: dict[int, list[int]] = {}
    for position, row in enumerate(table.rows):
        for note in row.footnotes:
            notes.append(note)
            numbers.setdefault(position, []).append(len(notes))
    return notes, numbers


def render_html(doc: ReportDocument, lang: str) -> str:
    """The report in ``lang`` (``"en"`` or ``"zh-CN"``) as one self-contained HTML page.

    The same document and language always give the same text (no clock, no randomness).

    Raises
    ------
    ReportError
        ``lang`` is not a report language.
    CjkFontNotFoundError
        No CJK font is installed (the font stack names it).
    """
    lang = _check_lang(lang)
    numbers = doc.numbers()
    table_numbers = {table.id: str(n) for n, table in enumerate(doc.tables(), start=1)}
    figure_numbers = {fig.chart_id: str(n) for n, fig in enumerate(doc.figures(), start=1)}
    notes_cache: dict[str, tuple[list[Text], dict[int, list[int]]]] = {}

    def notes_of(table: MetricTable) -> tuple[list[Text], dict[int, list[int]]]:
        if table.id not in notes_cache:
            notes_cache[table.id] = _metric_notes(table)
        return notes_cache[table.id]

    def row_note_numbers(table: MetricTable, row: MetricRow) -> list[int]:
        return notes_of(table)[1].get(table.rows.index(row), [])

    context: dict[str, Any] = {
        "doc": doc,
        "lang": lang,
        "css": Markup(_css()),
        "font_stack": Markup(fonts.css_font_stack(lang)),
        "created": doc.generated_at.isoformat(timespec="seconds"),
        "page_title": page_title(doc, lang),
        "draft_reasons": doc.draft_reasons,
        "numbers": numbers,
        "titles": {section.id: section.title for section in doc.walk()},
        "table_numbers": table_numbers,
        "figure_numbers": figure_numbers,
        "t": lambda key, **fields: ui(key, lang, **fields),
        "number": lambda value, decimals=None: format_number(cell_in(value, lang), decimals),
        "text": lambda value: "" if value is None else str(cell_in(value, lang)),
        "percent": lambda value: _percent(value, lang),
        "markdown": render_markdown,
        "identifier": identifier,
        "unit": unit_html,
        "identifier_columns": IDENTIFIER_COLUMNS,
        "svg": lambda fig: inline_svg(fig.svg[lang], fig.chart_id),
        "kind_of": _kind,
        "metric_notes": lambda table: notes_of(table)[0],
        "row_note_numbers": row_note_numbers,
    }
    return _environment().get_template("report.html.j2").render(context)


def page_title(doc: ReportDocument, lang: str) -> str:
    """The HTML/PDF document title: the report's title, with the reporting year added only
    when the title does not already name it (never "2024 ... Report 2024")."""
    title = doc.title.get(lang)
    year = str(doc.reporting_year)
    return title if year in title else f"{title} {year}"


def report_stem(doc: ReportDocument) -> str:
    """The file-name stem of the report files: ``esg-report-<year>``."""
    return f"esg-report-{doc.reporting_year}"


def export_number(value: Cell, decimals: int | None) -> Cell | Decimal:
    """A figure as exported: at the precision the report prints it, as an exact decimal.

    A float becomes a :class:`~decimal.Decimal` rounded (half-even, on the float's exact
    binary value, as the printed figure) to ``decimals`` places, or to 10 significant digits
    when the table states none, so an export never carries float noise
    (``2467243.1755227405``). Integers, text and ``None`` pass unchanged.

    >>> export_number(2467243.1755227405, 0), export_number(0.1 + 0.2, None)
    (Decimal('2467243'), Decimal('0.3'))
    """
    if isinstance(value, bool) or not isinstance(value, float):
        return value
    if not math.isfinite(value):
        raise ReportError(f"a report figure must be finite, not {value!r}")
    if decimals is None:
        exact = Decimal(f"{value:.10g}")
        return exact.quantize(Decimal(1)) if exact == exact.to_integral_value() else exact
    return Decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)


def export_rows(
    table: MetricTable | DataTable, lang: str
) -> tuple[list[str], list[list[Cell | Decimal]]]:
    """Header and rows of a table as exported: numbers stay numbers, at the precision the
    report prints them (:func:`export_number`), units in the header."""
    if isinstance(table, MetricTable):
        header = [
            ui(key, lang)
            for key in (
                "metric.code",
                "metric.label",
                "metric.value",
                "metric.unit",
                "metric.prior",
                "metric.yoy",
                "metric.source",
                "metric.notes",
            )
        ]
        rows: list[list[Cell | Decimal]] = [
            [
                row.code,
                row.label.get(lang),
                export_number(row.value, row.decimals),
                cell_in(row.unit, lang),
                export_number(row.prior, row.decimals),
                export_number(row.yoy_pct, YOY_DECIMALS),
                cell_in(row.source, lang),
                " ".join(note.get(lang) for note in row.footnotes),
            ]
            for row in table.rows
        ]
        return header, rows
    header = [
        column.label.get(lang) + (f" ({cell_in(column.unit, lang)})" if column.unit else "")
        for column in table.columns
    ]
    return header, [
        [
            export_number(cell_in(cell, lang), column.decimals)
            for cell, column in zip(row, table.columns, strict=True)
        ]
        for row in table.rows
    ]


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Cell | Decimal]]) -> None:
    """A table as CSV; text that a spreadsheet would read as a formula is neutralised
    (:mod:`esgledger.safe_output`), numbers stay numbers."""
    buffer = io.StringIO()
    write_csv_rows(buffer, [header, *rows])
    path.write_text(buffer.getvalue(), encoding="utf-8-sig")  # BOM: Excel shows Chinese


def _write_xlsx(
    path: Path,
    title: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Cell | Decimal]],
    doc: ReportDocument,
) -> None:
    """An XLSX sheet of a table: figures are numbers with a number format showing the
    precision the report prints (``#,##0``, ``#,##0.00``), never noisy floats; text is a
    string cell, never a formula, neutralised as in the CSV (:mod:`esgledger.safe_output`)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    for column, label in enumerate(header, start=1):
        set_xlsx_cell(sheet, 1, column, label)
    for number, row in enumerate(rows, start=2):
        for column, value in enumerate(row, start=1):
            cell = set_xlsx_cell(sheet, number, column, _xlsx_value(value))
            if isinstance(value, Decimal):
                places = max(0, -int(value.as_tuple().exponent))
                cell.number_format = "#,##0" + ("." + "0" * places if places else "")
            elif isinstance(value, int) and not isinstance(value, bool):
                cell.number_format = "#,##0"
    stamp = doc.generated_at.replace(tzinfo=None)
    book.properties.creator = "esgledger"
    book.properties.created = stamp
    book.properties.modified = stamp
    book.save(path)


def _xlsx_value(value: Cell | Decimal) -> str | int | float | None:
    """A cell as openpyxl stores it: an exact decimal as the float nearest to it (XLSX keeps
    IEEE doubles; the number format shows the stated precision)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Text):
        raise ReportError(f"a text cell has no single value: use cell_in(value, lang): {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class WrittenReport:
    """What :func:`write_report_detailed` wrote: the paths, each PDF edition's layout
    (:class:`~esgledger.report.pdf.PdfResult`: anchor pages, page count) and the seconds each
    step took (``html.<lang>``, ``pdf.<lang>``, ``exports``)."""

    paths: list[Path]
    pdfs: dict[str, PdfResult]
    timings: dict[str, float]


def write_report(
    doc: ReportDocument,
    out_dir: str | Path,
    langs: Sequence[str] = LANGS,
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """Write the report and its table exports into ``out_dir``; return the written paths.

    Files: ``esg-report-<year>.<lang>.html`` / ``.pdf`` per language and format, and
    ``<table id>.<lang>.csv`` / ``.xlsx`` for every metric and data table. Each PDF is checked:
    every content-index entry that names a section must land on a page.

    Raises
    ------
    ReportError
        An unknown language or format, or a content-index link that resolves to no page.
    """
    return write_report_detailed(doc, out_dir, langs=langs, formats=formats).paths


def write_report_detailed(
    doc: ReportDocument,
    out_dir: str | Path,
    langs: Sequence[str] = LANGS,
    formats: Sequence[str] = FORMATS,
) -> WrittenReport:
    """As :func:`write_report`, also returning each PDF's layout and the step timings [s]."""
    import time

    for lang in langs:
        _check_lang(lang)
    unknown = [fmt for fmt in formats if fmt not in FORMATS]
    if unknown:
        raise ReportError(f"unknown report format(s) {unknown}; use html and/or pdf")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    pdfs: dict[str, PdfResult] = {}
    timings: dict[str, float] = {"exports": 0.0}
    stem = report_stem(doc)
    for lang in langs:
        start = time.perf_counter()
        html = render_html(doc, lang)
        if "html" in formats:
            path = out / f"{stem}.{lang}.html"
            path.write_text(html, encoding="utf-8")
            written.append(path)
        timings[f"html.{lang}"] = time.perf_counter() - start
        if "pdf" in formats:
            from esgledger.report.pdf import html_to_pdf, unresolved_entries

            start = time.perf_counter()
            result = html_to_pdf(html)
            dangling = unresolved_entries(doc, result.anchor_pages)
            if dangling:
                raise ReportError(
                    f"content-index items {', '.join(dangling)} link to sections that are on "
                    "no page of the PDF; check their section ids"
                )
            path = out / f"{stem}.{lang}.pdf"
            path.write_bytes(result.pdf)
            written.append(path)
            pdfs[lang] = result
            timings[f"pdf.{lang}"] = time.perf_counter() - start
        start = time.perf_counter()
        for table in doc.tables():
            header, rows = export_rows(table, lang)
            csv_path = out / f"{table.id}.{lang}.csv"
            _write_csv(csv_path, header, rows)
            xlsx_path = out / f"{table.id}.{lang}.xlsx"
            _write_xlsx(xlsx_path, table.id, header, rows, doc)
            written += [csv_path, xlsx_path]
        timings["exports"] += time.perf_counter() - start
    return WrittenReport(written, pdfs, timings)
