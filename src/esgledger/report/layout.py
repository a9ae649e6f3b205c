"""Check a laid-out PDF the way a reader looks at it: nothing off the page, nothing cut.

检查排版结果：文字不超出页面，表格不超出版心，标题不孤悬页底。

:func:`layout_problems` walks WeasyPrint's layout tree (``Document.pages[i]._page_box``; the
boxes carry their position and size in CSS pixels, 1 px = 1/96 in) and reports, per page:

``off-page``
    a piece of text that lies (partly) outside the page box;
``outside-text-area``
    a piece of body text (not the running header or footer, not a list marker) that lies
    outside the text area, the page box minus its margins;
``table-too-wide``
    a table whose border box is wider than the text area or sticks out of it;
``outside-cell``
    text that overflows its table cell into the next one (a column too narrow for a word
    that may not wrap);
``stranded-heading``
    a heading (``h1``-``h6``) or a table caption that is the last thing on a page while the
    document goes on: its content starts on the next page.

The checks use the boxes, not the PDF's text, so they do not depend on how a PDF reader
groups glyphs into words. :func:`esgledger.report.pdf.html_to_pdf` runs them on every PDF.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any, Literal

__all__ = ["TOLERANCE_PX", "LayoutProblem", "ProblemKind", "layout_problems"]

ProblemKind = Literal[
    "off-page", "outside-text-area", "table-too-wide", "outside-cell", "stranded-heading"
]

TOLERANCE_PX = 0.5
"""Slack [CSS px, 1/96 in ≈ 0.26 mm] for rounding in the layout engine: a box may end this
far beyond an edge before it counts as outside (well under one glyph's width)."""

_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


@dataclass(frozen=True, slots=True)
class LayoutProblem:
    """One thing a reader would see as broken on a page of the PDF.

    ``page`` is 1-based; ``text`` is the text involved (shortened); ``detail`` says by how
    much and against which edge [mm].
    """

    page: int
    kind: ProblemKind
    text: str
    detail: str

    def __str__(self) -> str:
        return f"page {self.page}: {self.kind}: {self.text!r} ({self.detail})"


def _mm(px: float) -> str:
    return f"{px * 25.4 / 96:.1f} mm"


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _box_text(box: Any) -> str:
    from weasyprint.formatting_structure import boxes

    return "".join(b.text for b in box.descendants() if isinstance(b, boxes.TextBox))


@dataclass(frozen=True, slots=True)
class _Context:
    in_margin: bool = False
    in_marker: bool = False
    cell: Any = None
    block_tag: str | None = None
    """``h1``-``h6`` or ``caption`` when inside one (nearest enclosing block element)."""
    block_element: Any = None


def _walk(box: Any, context: _Context) -> Iterator[tuple[Any, _Context]]:
    """Every box under ``box`` (document order) with what encloses it."""
    from weasyprint.formatting_structure import boxes

    if isinstance(box, boxes.MarginBox):
        context = _Context(in_margin=True)
    elif str(box.element_tag or "").endswith("::marker") or box.is_outside_marker:
        context = replace(context, in_marker=True)
    elif isinstance(box, boxes.TableCellBox):
        context = replace(context, cell=box)
    if isinstance(box, boxes.TableCaptionBox):
        context = replace(context, block_tag="caption", block_element=box.element)
    elif isinstance(box, boxes.BlockLevelBox) and box.element is not context.block_element:
        tag = box.element_tag if box.element_tag in _HEADINGS else None
        context = replace(context, block_tag=tag, block_element=box.element)
    yield box, context
    if isinstance(box, boxes.ParentBox):
        for child in box.all_children():
            yield from _walk(child, context)


def _page_problems(number: int, page_box: Any, last_page: bool) -> list[LayoutProblem]:
    from weasyprint.formatting_structure import boxes

    problems: list[LayoutProblem] = []
    page_width = page_box.margin_width()
    page_height = page_box.margin_height()
    left = page_box.content_box_x()
    right = left + page_box.width
    tol = TOLERANCE_PX
    last_content: tuple[str | None, str] | None = None
    for box, ctx in _walk(page_box, _Context()):
        if isinstance(box, boxes.TextBox) and box.text.strip():
            x0, x1 = box.position_x, box.position_x + box.width
            y0, y1 = box.position_y, box.position_y + box.height
            if x0 < -tol or y0 < -tol or x1 > page_width + tol or y1 > page_height + tol:
                problems.append(
                    LayoutProblem(
                        number,
                        "off-page",
                        _short(box.text),
                        f"spans x {_mm(x0)} to {_mm(x1)} of a {_mm(page_width)} page",
                    )
                )
            elif not ctx.in_margin and not ctx.in_marker and (x0 < left - tol or x1 > right + tol):
                problems.append(
                    LayoutProblem(
                        number,
                        "outside-text-area",
                        _short(box.text),
                        f"spans x {_mm(x0)} to {_mm(x1)}; the text area is "
                        f"{_mm(left)} to {_mm(right)}",
                    )
                )
            if ctx.cell is not None:
                cell_x0 = ctx.cell.border_box_x()
                cell_x1 = cell_x0 + ctx.cell.border_width()
                if x0 < cell_x0 - tol or x1 > cell_x1 + tol:
                    problems.append(
                        LayoutProblem(
                            number,
                            "outside-cell",
                            _short(box.text),
                            f"{_mm(max(x1 - cell_x1, cell_x0 - x0))} beyond its table cell",
                        )
                    )
        if isinstance(box, boxes.TableBox) and not ctx.in_margin:
            x0 = box.border_box_x()
            x1 = x0 + box.border_width()
            if x0 < left - tol or x1 > right + tol:
                problems.append(
                    LayoutProblem(
                        number,
                        "table-too-wide",
                        _short(_box_text(box), 40),
                        f"{_mm(box.border_width())} wide from {_mm(x0)}; the text area is "
                        f"{_mm(page_box.width)} wide from {_mm(left)}",
                    )
                )
        if ctx.in_margin:
            continue
        if isinstance(box, boxes.LineBox) and _box_text(box).strip():
            last_content = (ctx.block_tag, _box_text(box))
        elif isinstance(box, boxes.ReplacedBox):
            last_content = (None, "")
    if not last_page and last_content is not None and last_content[0] is not None:
        kind = "table caption" if last_content[0] == "caption" else f"heading <{last_content[0]}>"
        problems.append(
            LayoutProblem(
                number,
                "stranded-heading",
                _short(last_content[1]),
                f"{kind} at the foot of the page, its content on the next",
            )
        )
    return problems


def layout_problems(document: Any) -> list[LayoutProblem]:
    """What a reader would see as broken in a laid-out WeasyPrint ``Document``.

    Parameters
    ----------
    document
        The result of ``weasyprint.HTML(...).render()``.

    Returns
    -------
    list of LayoutProblem
        In page order; empty when every page is clean.
    """
    pages = document.pages
    problems: list[LayoutProblem] = []
    for number, page in enumerate(pages, start=1):
        problems += _page_problems(number, page._page_box, number == len(pages))
    return problems
