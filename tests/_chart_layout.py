"""What a reader would see as broken in a matplotlib figure, measured with its renderer.

Shared by the chart tests (MACC, report charts): every drawn text inside the figure, tick
labels of an axis apart from each other, legends outside the plot area.
"""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.text import Text
from matplotlib.transforms import Bbox

SLACK_PX = 0.5
"""Rounding slack [display px] before a box counts as outside or overlapping."""


def inside(box: Bbox, outer: Bbox, slack_px: float = SLACK_PX) -> bool:
    """``box`` lies within ``outer`` [display px], give or take rounding."""
    return (
        box.x0 >= outer.x0 - slack_px
        and box.x1 <= outer.x1 + slack_px
        and box.y0 >= outer.y0 - slack_px
        and box.y1 <= outer.y1 + slack_px
    )


def apart(a: Bbox, b: Bbox, slack_px: float = SLACK_PX) -> bool:
    """The boxes do not overlap by more than the rounding slack."""
    return (
        a.x1 <= b.x0 + slack_px
        or b.x1 <= a.x0 + slack_px
        or a.y1 <= b.y0 + slack_px
        or b.y1 <= a.y0 + slack_px
    )


def off_view_tick_labels(ax: Axes) -> set[Text]:
    """Tick labels that matplotlib keeps but does not draw (their tick is outside the view)."""
    hidden: set[Text] = set()
    for axis in (ax.xaxis, ax.yaxis):
        low, high = sorted(axis.get_view_interval())
        eps = 1e-9 * abs(high - low)
        for tick in axis.get_major_ticks() + axis.get_minor_ticks():
            if not low - eps <= tick.get_loc() <= high + eps:
                hidden |= {tick.label1, tick.label2}
    return hidden


def drawn_texts(fig: Figure) -> list[Text]:
    """The visible, non-empty texts of ``fig`` that are drawn."""
    hidden: set[Text] = set()
    for ax in fig.axes:
        hidden |= off_view_tick_labels(ax)
    return [
        t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip() and t not in hidden
    ]


def figure_problems(fig: Figure) -> list[str]:
    """Lay ``fig`` out and draw it (Agg); list what is broken (empty when nothing is)."""
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    frame = fig.bbox
    problems = [
        f"text {t.get_text()!r} outside the figure: {t.get_window_extent(renderer).bounds}"
        for t in drawn_texts(fig)
        if not inside(t.get_window_extent(renderer), frame)
    ]
    for ax in fig.axes:
        hidden = off_view_tick_labels(ax)
        for axis in (ax.xaxis, ax.yaxis):
            labels = [
                t
                for t in axis.get_ticklabels()
                if t.get_visible() and t.get_text().strip() and t not in hidden
            ]
            boxes = [t.get_window_extent(renderer) for t in labels]
            for k in range(1, len(boxes)):
                if not apart(boxes[k - 1], boxes[k]):
                    problems.append(
                        f"tick labels {labels[k - 1].get_text()!r} and "
                        f"{labels[k].get_text()!r} overlap"
                    )
        plot = ax.get_window_extent(renderer)
        for legend in fig.findobj(Legend):
            if not apart(legend.get_window_extent(renderer), plot):
                problems.append(f"a legend ({legend.get_gid()}) lies on the plot area")
    return problems
