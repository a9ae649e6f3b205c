"""The ESG report engine: a document model, bilingual HTML and PDF, report charts.

ESG 报告引擎：文档模型、中英双语 HTML 与 PDF、报告图表。

A builder fills a :class:`ReportDocument` (plain data, both languages); :func:`render_html`
turns it into one self-contained HTML page per language and :func:`write_report` writes the
HTML and PDF editions (WeasyPrint, CJK fonts via fontconfig) with CSV/XLSX exports of every
table. See ``docs/methodology/report.md``.
"""

from __future__ import annotations

from esgledger.report.document import (
    LANGS,
    Callout,
    Column,
    ContentIndexEntry,
    DataQualityRow,
    DataTable,
    FactorSource,
    Figure,
    Markdown,
    MethodologyAppendix,
    MetricRow,
    MetricTable,
    Placeholder,
    ReportDocument,
    ReportError,
    Section,
    Text,
    format_number,
)
from esgledger.report.fonts import CjkFontNotFoundError, find_cjk_font
from esgledger.report.pdf import PdfResult, html_to_pdf, unresolved_entries
from esgledger.report.render import render_html, write_report

__all__ = [
    "LANGS",
    "Callout",
    "CjkFontNotFoundError",
    "Column",
    "ContentIndexEntry",
    "DataQualityRow",
    "DataTable",
    "FactorSource",
    "Figure",
    "Markdown",
    "MethodologyAppendix",
    "MetricRow",
    "MetricTable",
    "PdfResult",
    "Placeholder",
    "ReportDocument",
    "ReportError",
    "Section",
    "Text",
    "find_cjk_font",
    "format_number",
    "html_to_pdf",
    "render_html",
    "unresolved_entries",
    "write_report",
]
