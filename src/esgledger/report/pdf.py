"""HTML to PDF with WeasyPrint: A4, running header and footer, page of every anchor.

用 WeasyPrint 将 HTML 转为 PDF：A4 版式、页眉页脚与页码，并计算每个锚点所在页码。

The stylesheet (``static/report.css``) sets the page: A4, the report title in the running
header, "page / pages" in the footer, and the content index's page column through CSS
``target-counter``. :func:`html_to_pdf` also reads the page of every anchor from WeasyPrint's
laid-out document (``Document.pages[i].anchors``), so code can prove that each content-index
entry lands on a page (:func:`unresolved_entries`) without parsing the PDF, and checks every
page's layout (:func:`esgledger.report.layout.layout_problems`: text off the page, a table
wider than the text area, a heading stranded at the foot of a page), reported in
:attr:`PdfResult.layout` and as a warning.

Nothing is fetched: the URL fetcher refuses every URL (the report HTML is self-contained).
WeasyPrint's own logger is kept quiet; its messages are collected in
:attr:`PdfResult.messages`, and those that matter (errors, missing fonts or glyphs, failed
resources) are passed on as warnings of the ``esgledger.report`` logger.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn

from esgledger.errors import EsgledgerError
from esgledger.report.document import ReportDocument, ReportError
from esgledger.report.fonts import INSTALL_HINT
from esgledger.report.layout import LayoutProblem, layout_problems

__all__ = ["MissingGlyphError", "PdfResult", "html_to_pdf", "unresolved_entries"]

_LOG = logging.getLogger("esgledger.report")
_MATTERS = ("font", "glyph", "fail", "error", "unable", "cannot", "could not")
# Known noise: CSS of inline SVG style attributes read by the HTML cascade (the SVG renderer
# reads them itself), and the fontTools fallback notice (the install script fixes it).
_NOISE = ("unknown property", "Using fontTools instead of HarfBuzz-Subset")
# What WeasyPrint logs when no font has a glyph (it then draws .notdef, a "tofu" box).
_NOTDEF = re.compile(r"\.notdef glyph rendered .*\(U\+([0-9A-F]{4,6})\)")


class MissingGlyphError(EsgledgerError, RuntimeError):
    """No installed font can draw some characters of the report: the PDF would show empty
    boxes (.notdef glyphs, "tofu") in their place."""

    def __init__(self, characters: tuple[str, ...]):
        self.characters = characters
        shown = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in characters[:20])
        super().__init__(
            f"no installed font can draw {len(characters)} character(s) of the report: "
            f"{shown}. Fix: {INSTALL_HINT}, or remove the characters from the text"
        )


@dataclass(frozen=True, slots=True)
class PdfResult:
    """A rendered PDF: its bytes, the 1-based page of each anchor, the page count, and what
    WeasyPrint logged while rendering."""

    pdf: bytes
    anchor_pages: Mapping[str, int]
    page_count: int
    messages: tuple[str, ...] = ()
    notdef: tuple[str, ...] = ()
    """Characters drawn as .notdef (no font had them); empty unless ``strict=False``."""
    layout: tuple[LayoutProblem, ...] = ()
    """What a reader would see as broken on the pages (text off the page, a table wider
    than the text area, a stranded heading); empty when every page is clean."""


def _refuse(url: str, *args: Any, **kwargs: Any) -> NoReturn:
    raise ReportError(
        f"the report tried to load {url!r}; reports are self-contained and fetch nothing "
        "(inline the resource in the document instead)"
    )


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _quiet_weasyprint() -> Iterator[_Collect]:
    loggers = [logging.getLogger("weasyprint"), logging.getLogger("weasyprint.progress")]
    saved = [(lg.level, lg.propagate, list(lg.handlers)) for lg in loggers]
    collect = _Collect()
    for lg in loggers:
        lg.handlers = [collect]
        lg.propagate = False
        lg.setLevel(logging.WARNING)
    try:
        yield collect
    finally:
        for lg, (level, propagate, handlers) in zip(loggers, saved, strict=True):
            lg.handlers = handlers
            lg.propagate = propagate
            lg.setLevel(level)


def html_to_pdf(html: str, *, base_url: str | None = None, strict: bool = True) -> PdfResult:
    """Lay out ``html`` with WeasyPrint and write a PDF.

    Parameters
    ----------
    html
        A self-contained report page (:func:`esgledger.report.render.render_html`).
    base_url
        Base for relative links (none are fetched; links stay links).
    strict
        Raise :class:`MissingGlyphError` when a character had no glyph in any font (the
        default); ``False`` returns the PDF with those characters in :attr:`PdfResult.notdef`.

    Returns
    -------
    PdfResult
        PDF bytes and ``{anchor: page}`` [1-based page number] for every element id.

    Raises
    ------
    MissingGlyphError
        ``strict`` and WeasyPrint drew a .notdef glyph (tofu) for some character.
    ReportError
        The HTML refers to an external resource (nothing is fetched).
    """
    from weasyprint import HTML

    with _quiet_weasyprint() as collect:
        document = HTML(string=html, base_url=base_url, url_fetcher=_refuse).render()
        anchor_pages: dict[str, int] = {}
        for number, page in enumerate(document.pages, start=1):
            for anchor in page.anchors:
                anchor_pages.setdefault(anchor, number)
        layout = tuple(layout_problems(document))
        pdf = document.write_pdf()
    messages = tuple(record.getMessage() for record in collect.records)
    notdef: list[str] = []
    for record in collect.records:
        text = record.getMessage()
        found = _NOTDEF.search(text)
        if found:
            character = chr(int(found.group(1), 16))
            if character not in notdef:
                notdef.append(character)
            continue
        if any(noise in text for noise in _NOISE):
            continue
        if record.levelno >= logging.ERROR or any(word in text.lower() for word in _MATTERS):
            _LOG.warning("WeasyPrint: %s", text)
    if layout:
        _LOG.warning(
            "the PDF has %d layout problem(s), e.g. %s",
            len(layout),
            "; ".join(map(str, layout[:3])),
        )
    if notdef and strict:
        raise MissingGlyphError(tuple(notdef))
    if pdf is None:  # pragma: no cover - write_pdf() without target always returns bytes
        raise ReportError("WeasyPrint returned no PDF")
    return PdfResult(
        pdf=bytes(pdf),
        anchor_pages=anchor_pages,
        page_count=len(document.pages),
        messages=messages,
        notdef=tuple(notdef),
        layout=layout,
    )


def unresolved_entries(doc: ReportDocument, anchor_pages: Mapping[str, int]) -> list[str]:
    """Codes of content-index entries whose section is on no page (empty = all resolve)."""
    return [
        entry.code
        for entry in doc.content_index
        if entry.section_id is not None and entry.section_id not in anchor_pages
    ]
