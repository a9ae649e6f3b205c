"""The report document: plain, immutable data that the renderer turns into HTML and PDF.

报告文档模型：渲染器据此生成 HTML 与 PDF 的纯数据结构。

A :class:`ReportDocument` holds everything a report shows, in both languages, and nothing
else: no database handle, no clock (``generated_at`` is passed in, so the same document
always renders to the same bytes). Language-independent data (figures, units, codes, SVG per
language) sits once; text a reader reads is a :class:`Text` with an English and a Simplified
Chinese form. Code fills the document (the report builder reads a workspace); the renderer
only reads it.

Structure::

    ReportDocument
      sections: Section (id, number, title, blocks, children: Section ...)
        blocks: Markdown | MetricTable | DataTable | Figure | Callout | Placeholder
                | MethodologyAppendix
      content_index: ContentIndexEntry (HKEX ESG Reporting Code item -> section)

Section ids are the HTML anchors (``[a-z0-9][a-z0-9-]*``); the content index links to them
and the PDF step proves that each link lands on a page.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeAlias, get_args

from esgledger import i18n as strings
from esgledger.errors import EsgledgerError
from esgledger.i18n import LANGS, Lang, Text

__all__ = [
    "ANCHOR_PATTERN",
    "LANGS",
    "Block",
    "Callout",
    "Column",
    "ContentIndexEntry",
    "DataQualityRow",
    "DataTable",
    "FactorSource",
    "Figure",
    "Lang",
    "Markdown",
    "MethodologyAppendix",
    "MetricRow",
    "MetricTable",
    "Placeholder",
    "ReportDocument",
    "ReportError",
    "Section",
    "Status",
    "Text",
    "cell_in",
    "format_number",
    "yoy_pct",
]

Status: TypeAlias = Literal["disclosed", "explained", "missing"]
STATUSES: tuple[Status, ...] = get_args(Status)

ANCHOR_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")
"""What a section id, table id or chart id may look like (it becomes an HTML anchor)."""

Cell: TypeAlias = "str | int | float | Text | None"


class ReportError(EsgledgerError, ValueError):
    """A report document is inconsistent (duplicate id, dangling link, missing language)."""


def _check_lang(lang: str) -> Lang:
    if lang not in LANGS:
        raise ReportError(f"unknown report language {lang!r}; use one of {', '.join(LANGS)}")
    return lang


def _check_anchor(kind: str, value: str) -> None:
    if not ANCHOR_PATTERN.fullmatch(value):
        raise ReportError(
            f"{kind} {value!r} cannot be an anchor; use lower-case letters, digits and '-' "
            "(for example 'climate-metrics')"
        )


def cell_in(value: Cell, lang: str) -> str | int | float | None:
    """A table cell in ``lang``: a :class:`Text` cell gives its text in that language (a
    governance body's name in the Chinese edition is Chinese); other cells are as given."""
    return value.get(lang) if isinstance(value, Text) else value


def format_number(value: Cell, decimals: int | None = None) -> str:
    """How a figure is printed: strings verbatim, numbers with thousands separators.

    Parameters
    ----------
    value
        A number, or a string shown exactly as given (pass the inventory JSON's text to be
        sure the report prints the same digits), or ``None`` (printed as ``""``).
    decimals
        Digits after the point; ``None`` keeps integers whole and prints other floats with
        Python's shortest round-trip form.

    Examples
    --------
    >>> format_number(4817824.0, 0), format_number(1234.5), format_number("12.30")
    ('4,817,824', '1,234.5', '12.30')
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, Text):
        raise ReportError(f"a text cell has no single value: use cell_in(value, lang): {value!r}")
    if isinstance(value, bool):
        raise ReportError(f"a report figure must be a number or text, not {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ReportError(f"a report figure must be finite, not {value!r}")
    if decimals is not None:
        return f"{value:,.{decimals}f}"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,}"


def yoy_pct(value: Cell, prior: Cell) -> float | None:
    """Year-on-year change [%] = (value - prior) / |prior| x 100; ``None`` when either is not
    a number or the prior is zero."""
    if isinstance(value, bool) or isinstance(prior, bool):
        return None
    if not isinstance(value, int | float) or not isinstance(prior, int | float) or prior == 0:
        return None
    return (float(value) - float(prior)) / abs(float(prior)) * 100.0


@dataclass(frozen=True, slots=True)
class Markdown:
    """User-supplied narrative, Markdown (CommonMark) per language.

    Raw HTML inside the Markdown is shown as text, never interpreted.
    """

    en: str
    zh: str

    def get(self, lang: str) -> str:
        """The narrative in ``lang``."""
        return self.en if _check_lang(lang) == "en" else self.zh


@dataclass(frozen=True, slots=True)
class MetricRow:
    """One reported metric: a value with its unit, the prior year and where it comes from.

    ``value`` and ``prior`` are numbers or text shown verbatim (see :func:`format_number`);
    ``unit`` is a label that reads the same in both languages (``t CO2e``) or a :class:`Text`
    (``people`` / ``人``); ``source`` names the run or import the figure comes from
    (``run 20240101-ab12`` / ``盘查运行 20240101-ab12``).
    ``yoy`` overrides the computed year-on-year change [%] when given.
    """

    code: str
    label: Text
    value: Cell
    unit: str | Text = ""
    prior: Cell = None
    source: str | Text = ""
    footnotes: tuple[Text, ...] = ()
    decimals: int | None = None
    yoy: float | None = None

    @property
    def yoy_pct(self) -> float | None:
        """Year-on-year change [%] (given or computed from ``value`` and ``prior``)."""
        return self.yoy if self.yoy is not None else yoy_pct(self.value, self.prior)


@dataclass(frozen=True, slots=True)
class MetricTable:
    """A table of metrics (code, label, value, unit, prior year, YoY %, source, notes).

    ``id`` is the table's anchor and the stem of its CSV/XLSX export.
    """

    id: str
    caption: Text
    rows: tuple[MetricRow, ...]

    def __post_init__(self) -> None:
        _check_anchor("metric table id", self.id)


@dataclass(frozen=True, slots=True)
class Column:
    """A column of a :class:`DataTable`: key, heading per language, unit (a label or a
    :class:`Text`), decimals."""

    key: str
    label: Text
    unit: str | Text = ""
    decimals: int | None = None


@dataclass(frozen=True, slots=True)
class DataTable:
    """A generic table; each row has one cell per column. Exported as ``<id>.csv/.xlsx``."""

    id: str
    caption: Text
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    footnotes: tuple[Text, ...] = ()

    def __post_init__(self) -> None:
        _check_anchor("data table id", self.id)
        for number, row in enumerate(self.rows, start=1):
            if len(row) != len(self.columns):
                raise ReportError(
                    f"data table {self.id!r}: row {number} has {len(row)} cells but the table "
                    f"has {len(self.columns)} columns; give one cell per column (None if empty)"
                )


@dataclass(frozen=True, slots=True)
class Figure:
    """A chart: its id (anchor), caption, and the SVG drawn for each language.

    ``svg`` maps ``"en"`` and ``"zh-CN"`` to SVG bytes (see :mod:`esgledger.report.charts`);
    the same bytes are inlined in the HTML and drawn in the PDF.
    """

    chart_id: str
    caption: Text
    svg: Mapping[str, bytes]

    def __post_init__(self) -> None:
        _check_anchor("chart id", self.chart_id)
        missing = [lang for lang in LANGS if lang not in self.svg]
        if missing:
            raise ReportError(
                f"figure {self.chart_id!r} has no SVG for {', '.join(missing)}; draw the chart "
                "once per language (esgledger.report.charts functions take lang=)"
            )


@dataclass(frozen=True, slots=True)
class Callout:
    """A boxed note (``kind`` ``"note"``) or warning (``"warning"``)."""

    text: Text
    kind: Literal["note", "warning"] = "note"


@dataclass(frozen=True, slots=True)
class Placeholder:
    """Text the user must supply (the board statement, for example).

    While ``content`` is ``None`` the report shows ``instruction`` in a clearly marked box and
    the document counts as a draft (:attr:`ReportDocument.draft_reasons`).
    """

    key: str
    label: Text
    instruction: Text
    content: Markdown | None = None


@dataclass(frozen=True, slots=True)
class FactorSource:
    """An emission-factor source used by the inventory, with what its licence requires.

    A publication's title is cited as published (a string); a source the report names
    itself (emissions reported by others) is a :class:`Text`."""

    name: str | Text
    edition: str
    licence: str
    attribution: str | Text = ""
    url: str = ""


@dataclass(frozen=True, slots=True)
class DataQualityRow:
    """A data-quality score of one scope or category (Scope 3 Standard ch. 7 indicators)."""

    label: Text
    score: Cell
    note: Text = field(default_factory=lambda: Text(""))


@dataclass(frozen=True, slots=True)
class MethodologyAppendix:
    """The methodology appendix: boundary, consolidation, GWP set, factor sources, data quality,
    changes since last year and base-year recalculations (GHG Protocol Corporate Standard
    ch. 3 and 5; HKEX ESG Reporting Code, reporting principles)."""

    boundary: Text
    consolidation: Text
    gwp_set: Text
    factor_sources: tuple[FactorSource, ...]
    data_quality: tuple[DataQualityRow, ...] = ()
    changes: tuple[Text, ...] = ()
    recalculations: tuple[Text, ...] = ()


Block: TypeAlias = (
    Markdown | MetricTable | DataTable | Figure | Callout | Placeholder | MethodologyAppendix
)


@dataclass(frozen=True, slots=True)
class Section:
    """A chapter or sub-chapter. ``number`` ``None`` = numbered by position (1, 1.2, ...)."""

    id: str
    title: Text
    blocks: tuple[Block, ...] = ()
    children: tuple[Section, ...] = ()
    number: str | None = None

    def __post_init__(self) -> None:
        _check_anchor("section id", self.id)


@dataclass(frozen=True, slots=True)
class ContentIndexEntry:
    """One item of the HKEX ESG Reporting Code content index.

    ``disclosed`` needs ``section_id`` (where it is reported); ``explained`` needs
    ``explanation`` (why not, comply-or-explain); ``missing`` needs neither and, when
    ``mandatory``, makes the report a draft.
    """

    code: str
    title: Text
    status: Status
    section_id: str | None = None
    explanation: Text | None = None
    mandatory: bool = True

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ReportError(
                f"content-index item {self.code}: unknown status {self.status!r}; "
                f"use one of {', '.join(STATUSES)}"
            )
        if self.status == "disclosed" and not self.section_id:
            raise ReportError(
                f"content-index item {self.code} is 'disclosed' but names no section; "
                "give section_id of the section that reports it"
            )
        if self.status == "explained" and self.explanation is None:
            raise ReportError(
                f"content-index item {self.code} is 'explained' but has no explanation; "
                "give explanation= (why it is not disclosed)"
            )


@dataclass(frozen=True, slots=True)
class ReportDocument:
    """A whole report, both languages.

    Parameters
    ----------
    title, company
        Report title and company name per language.
    reporting_year
        The financial/reporting year the report covers.
    generated_at
        When the figures were produced; printed in the report and the PDF metadata. Pass it
        in (never taken from the clock here), so rendering is deterministic.
    sections
        The chapters, in order.
    content_index
        HKEX ESG Reporting Code items (Main Board Appendix C2) with status and section.
    draft
        Reasons, given by the builder, why the report is a draft (on top of those the
        document finds itself: unfilled placeholders, missing mandatory items).
    metadata
        Language-independent facts printed nowhere but kept with the document (run ids,
        workspace name, code version).
    preview
        The batch statuses besides ``approved`` that the reported run included (a preview
        run, ``calculate --include submitted``); non-empty = every edition carries the
        PREVIEW banner on its cover and a PREVIEW mark on every printed page.
    """

    title: Text
    company: Text
    reporting_year: int
    generated_at: dt.datetime
    sections: tuple[Section, ...]
    content_index: tuple[ContentIndexEntry, ...] = ()
    draft: tuple[Text, ...] = ()
    metadata: Mapping[str, str] = field(default_factory=dict)
    preview: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for section in self.walk():
            anchors = [section.id] + [
                block.id if isinstance(block, MetricTable | DataTable) else block.chart_id
                for block in section.blocks
                if isinstance(block, MetricTable | DataTable | Figure)
            ]
            for anchor in anchors:
                if anchor in seen or anchor in _RESERVED_ANCHORS:
                    raise ReportError(
                        f"id {anchor!r} is used twice in the report (or is reserved: "
                        f"{', '.join(sorted(_RESERVED_ANCHORS))}); every section, table and "
                        "figure needs its own id"
                    )
                seen.add(anchor)
        section_ids = {section.id for section in self.walk()}
        codes: set[str] = set()
        for entry in self.content_index:
            if entry.code in codes:
                raise ReportError(f"content-index item {entry.code} is listed twice")
            codes.add(entry.code)
            if entry.section_id is not None and entry.section_id not in section_ids:
                raise ReportError(
                    f"content-index item {entry.code} points at section {entry.section_id!r}, "
                    "which is not in the report; use one of the section ids"
                )

    def walk(self) -> Iterator[Section]:
        """Every section, depth first, in reading order."""

        def visit(sections: tuple[Section, ...]) -> Iterator[Section]:
            for section in sections:
                yield section
                yield from visit(section.children)

        return visit(self.sections)

    def numbers(self) -> dict[str, str]:
        """Section id -> the number printed before its title (given, or by position)."""
        result: dict[str, str] = {}

        def visit(sections: tuple[Section, ...], prefix: str) -> None:
            for position, section in enumerate(sections, start=1):
                number = section.number or f"{prefix}{position}"
                result[section.id] = number
                visit(section.children, f"{number}.")

        visit(self.sections, "")
        return result

    def tables(self) -> Iterator[MetricTable | DataTable]:
        """Every metric and data table, in reading order (what :func:`write_report` exports)."""
        for section in self.walk():
            for block in section.blocks:
                if isinstance(block, MetricTable | DataTable):
                    yield block

    def figures(self) -> Iterator[Figure]:
        """Every figure, in reading order."""
        for section in self.walk():
            for block in section.blocks:
                if isinstance(block, Figure):
                    yield block

    @property
    def draft_reasons(self) -> tuple[Text, ...]:
        """Why the report is a draft: the builder's reasons, each placeholder still to be
        supplied, each mandatory content-index item missing. Empty = final."""
        reasons = list(self.draft)
        for section in self.walk():
            for block in section.blocks:
                if isinstance(block, Placeholder) and block.content is None:
                    reasons.append(strings.text("doc.placeholder_reason", label=block.label))
        for entry in self.content_index:
            if entry.status == "missing" and entry.mandatory:
                reasons.append(strings.text("doc.missing_reason", code=Text.same(entry.code)))
        return tuple(reasons)

    @property
    def is_draft(self) -> bool:
        """Whether :attr:`draft_reasons` is non-empty."""
        return bool(self.draft_reasons)


_RESERVED_ANCHORS = frozenset({"toc", "content-index", "cover", "draft", "preview"})
