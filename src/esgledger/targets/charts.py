"""Planner charts: the marginal abatement cost curve and the scenario pathway.

规划图表：边际减排成本曲线与情景减排路径。

Both are drawn with the shared setup of :mod:`esgledger.plotting` (no GUI backend, house
colours, a CJK font for ``zh-CN``) and written as SVG (text kept as ``<text>``, same input →
same bytes) or PNG. Every bar of the MACC and every wedge of the pathway carries an SVG id
(``macc-bar-<measure id>``, ``wedge-<measure id>``) so a report or a test can find it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Literal

import pyarrow as pa
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.legend_handler import HandlerBase
from matplotlib.offsetbox import DrawingArea, OffsetBox
from matplotlib.patches import Patch, Rectangle
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter
from matplotlib.transforms import Bbox

from esgledger.plotting import HOUSE_COLOURS, chart_style, new_figure, save_figure
from esgledger.targets.planner import ABATED_PREFIX, LEVER_NAMES, Lever

__all__ = [
    "draw_macc",
    "draw_scenario",
    "macc_chart",
    "macc_figure",
    "scenario_chart",
    "separate_labels",
]

_Format = Literal["svg", "png"]
_Target = str | Path | IO[bytes] | None

_LEVER_COLOURS: Mapping[Lever, str] = {
    Lever.EFFICIENCY: HOUSE_COLOURS["primary"],
    Lever.GREEN_POWER: HOUSE_COLOURS["secondary"],
    Lever.PPA: "#5fa8d3",
    Lever.ONSITE_PV: HOUSE_COLOURS["accent"],
    Lever.ELECTRIFICATION: "#3aa69b",
    Lever.SUPPLIER_ENGAGEMENT: HOUSE_COLOURS["removal"],
    Lever.LOW_CARBON_MATERIALS: "#8c6d3f",
    Lever.OTHER: HOUSE_COLOURS["neutral"],
}

_WEDGE_COLOURS = (
    "#1b6e53",
    "#2f7fb8",
    "#e0a526",
    "#6c4a9e",
    "#3aa69b",
    "#8c6d3f",
    "#d96fa6",
    "#5b7083",
    "#9bbf3a",
    "#5fa8d3",
)

_TEXT: Mapping[str, Mapping[str, str]] = {
    "en": {
        "macc_title": "Marginal abatement cost curve",
        "macc_x": "Abatement [t CO2e/yr]",
        "macc_y": "Cost [{currency}/t CO2e]",
        "scenario_title": "Emissions pathway and abatement",
        "year": "Year",
        "emissions": "Emissions [t CO2e]",
        "bau": "Business as usual",
        "remaining": "Remaining emissions",
        "target": "Target pathway",
    },
    "zh-CN": {
        "macc_title": "边际减排成本曲线",
        "macc_x": "减排量 [吨二氧化碳当量/年]",
        "macc_y": "减排成本 [{currency}/吨二氧化碳当量]",
        "scenario_title": "排放路径与减排",
        "year": "年份",
        "emissions": "排放量 [吨二氧化碳当量]",
        "bau": "照常发展情景",
        "remaining": "剩余排放",
        "target": "目标路径",
    },
}

_THOUSANDS = FuncFormatter(lambda value, _pos: f"{value:,.0f}")


def _lever(value: str) -> Lever:
    try:
        return Lever(value)
    except ValueError:
        return Lever.OTHER


_KEY_WRAP = {"en": 46, "zh-CN": 44}
"""Width [columns; a CJK character counts two] at which a measure's name wraps in the key."""


def _wrap(text: str, width: int) -> str:
    """``text`` on lines of at most ``width`` columns: Latin text breaks between words, CJK
    text (two columns a character) between characters."""
    lines: list[str] = []
    line = ""
    for token in re.findall(
        r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]|[^\s\u2e80-\u9fff]+|\s+", text
    ):
        candidate = line + token
        if line and _columns(candidate.rstrip()) > width:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line = candidate
    if line.strip():
        lines.append(line.rstrip())
    return "\n".join(lines)


def _columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class _NumberKey(Rectangle):
    """A legend handle: the measure's number in a square of its lever's colour."""

    def __init__(self, number: int, colour: str):
        super().__init__((0.0, 0.0), 1.0, 1.0, facecolor=colour, edgecolor="none")
        self.number = number


class _NumberKeyHandler(HandlerBase):
    def legend_artist(
        self, legend: Legend, orig_handle: Artist, fontsize: float, handlebox: OffsetBox
    ) -> Artist:
        if not isinstance(orig_handle, _NumberKey) or not isinstance(handlebox, DrawingArea):
            raise TypeError("the MACC key draws only its own number handles")
        size = min(handlebox.width, handlebox.height + 4.0)
        x0 = handlebox.xdescent + (handlebox.width - size) / 2
        y0 = -handlebox.ydescent + (handlebox.height - size) / 2
        square = Rectangle(
            (x0, y0), size, size, facecolor=orig_handle.get_facecolor(), edgecolor="none"
        )
        label = Text(
            x0 + size / 2,
            y0 + size / 2,
            str(orig_handle.number),
            ha="center",
            va="center_baseline",
            color="white",
            fontsize=fontsize * 0.85,
            fontweight="bold",
        )
        handlebox.add_artist(square)
        handlebox.add_artist(label)
        return square


_THIN = 0.005
"""A MACC bar narrower than this fraction of the whole curve is drawn with an edge of its
own colour (0.6 pt) so that it shows."""

_LABEL_PT = 7.5
"""Font size [pt] of the measure numbers on the bars."""


def draw_macc(ax: Axes, table: pa.Table, lang: str = "en") -> None:
    """Draw a MACC table (:func:`esgledger.targets.planner.macc`) on ``ax``: one bar per
    measure, width = abatement [t CO2e / yr], height = cost [currency / t CO2e], from the
    cheapest on the left; bars coloured by lever.

    Each bar carries its rank (1 = cheapest) at its end, on the side away from the taller
    neighbour, so no number sits on a bar; a key below the plot gives each number's measure
    name (wrapped) and the lever colours sit to the right of the plot, outside the bars. Run
    :func:`separate_labels` after the figure's layout to lift numbers that would touch.
    """
    text = _TEXT[lang]
    rows = table.to_pylist()
    currency = rows[0]["currency"] if rows else ""
    levers_seen: list[Lever] = []
    keys: list[_NumberKey] = []
    names: list[str] = []
    total = max((r["cumulative_end_t_co2e_per_yr"] for r in rows), default=0.0) or 1.0
    for row in rows:
        lever = _lever(row["lever"])
        if lever not in levers_seen:
            levers_seen.append(lever)
        start = row["cumulative_start_t_co2e_per_yr"]
        width = row["abatement_t_co2e_per_yr"]
        height = row["cost_per_t"]
        [bar] = ax.bar(
            start,
            height,
            width=width,
            align="edge",
            color=_LEVER_COLOURS[lever],
            # A white edge separates bars; a bar narrower than 0.5 % of the curve (under a
            # point wide) gets an edge of its own colour instead, so it stays visible.
            edgecolor="white" if width >= _THIN * total else _LEVER_COLOURS[lever],
            linewidth=0.6,
        )
        bar.set_gid(f"macc-bar-{row['id']}")
        # Sorted by cost: above the axis the next bar is taller, so the number ends at the
        # bar's right edge; below it the previous bar reaches lower, so it starts at the left.
        above = height >= 0
        ax.annotate(
            str(row["rank"]),
            xy=(start + width if above else start, height),
            xytext=(-1.0 if above else 1.0, 2.0 if above else -2.0),
            textcoords="offset points",
            ha="right" if above else "left",
            va="bottom" if above else "top",
            fontsize=_LABEL_PT,
            fontweight="bold",
            color=HOUSE_COLOURS["ink"],
            gid=f"macc-label-{row['id']}",
        )
        keys.append(_NumberKey(int(row["rank"]), _LEVER_COLOURS[lever]))
        names.append(_wrap(row["name_zh"] if lang == "zh-CN" else row["name"], _KEY_WRAP[lang]))
    ax.axhline(0.0, color=HOUSE_COLOURS["ink"], linewidth=0.8)
    ax.set_title(text["macc_title"])
    ax.set_xlabel(text["macc_x"])
    ax.set_ylabel(text["macc_y"].format(currency=currency))
    ax.xaxis.set_major_formatter(_THOUSANDS)
    ax.yaxis.set_major_formatter(_THOUSANDS)
    ax.set_xlim(0.0, total * 1.01)
    ax.margins(y=0.12)
    lever_names = [LEVER_NAMES[lev][1 if lang == "zh-CN" else 0] for lev in levers_seen]
    handles = [Patch(color=_LEVER_COLOURS[lev]) for lev in levers_seen]
    if handles:
        legend = ax.legend(
            handles, lever_names, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0
        )
        legend.set_gid("macc-levers")
    if keys:
        key = ax.figure.legend(
            keys,
            names,
            loc="outside lower center",
            ncols=2 if len(keys) > 3 else 1,
            handler_map={_NumberKey: _NumberKeyHandler()},
            handlelength=1.2,
            handleheight=1.2,
            columnspacing=1.5,
            alignment="left",
        )
        key.set_gid("macc-key")


def separate_labels(fig: Figure, ax: Axes) -> None:
    """Lift (or lower) the numbers of narrow neighbouring MACC bars so that none touches
    another, then widen the y-range until every number lies inside the plot (under the title).

    Works on the laid-out figure (constrained layout, Agg renderer), so positions are those
    that will be saved."""
    labels = [t for t in ax.texts if str(t.get_gid() or "").startswith("macc-label-")]
    if not labels:
        return
    canvas = FigureCanvasAgg(fig)
    for _ in range(4):
        fig.draw_without_rendering()
        renderer = canvas.get_renderer()  # type: ignore[no-untyped-call]
        placed: list[Bbox] = []
        moved = False
        for label in labels:
            box = label.get_window_extent(renderer).expanded(1.0, 1.0)
            for other in placed:
                if box.overlaps(other):
                    above = label.get_verticalalignment() == "bottom"
                    shift = (other.y1 - box.y0 if above else other.y0 - box.y1) * 72.0 / fig.dpi
                    x, y = label.get_position()  # offset [points]
                    label.set_position((x, y + shift + (1.0 if above else -1.0)))
                    box = label.get_window_extent(renderer).expanded(1.0, 1.0)
                    moved = True
            placed.append(box)
        plot = ax.get_window_extent(renderer)
        top = max(b.y1 for b in placed)
        bottom = min(b.y0 for b in placed)
        y0, y1 = ax.get_ylim()
        per_px = (y1 - y0) / plot.height
        if top > plot.y1 or bottom < plot.y0:
            ax.set_ylim(
                y0 - max(0.0, plot.y0 - bottom + 4.0) * per_px,
                y1 + max(0.0, top - plot.y1 + 4.0) * per_px,
            )
            moved = True
        if not moved:
            return


def _measures_of(table: pa.Table) -> tuple[list[str], dict[str, list[str]]]:
    metadata = table.schema.metadata or {}
    ids = [c.removeprefix(ABATED_PREFIX) for c in table.column_names if c.startswith(ABATED_PREFIX)]
    raw = metadata.get(b"esgledger.names")
    names: dict[str, list[str]] = json.loads(raw) if raw else {}
    return ids, names


def draw_scenario(
    ax: Axes,
    table: pa.Table,
    target_pathway: Mapping[int, float] | None = None,
    lang: str = "en",
) -> None:
    """Draw a scenario (:func:`esgledger.targets.planner.scenario`) on ``ax``: remaining
    emissions at the bottom, each measure's abatement as a wedge stacked on top up to
    business as usual, and the target pathway as a dashed line [t CO2e]."""
    text = _TEXT[lang]
    years = table["year"].to_pylist()
    ids, names = _measures_of(table)
    layers = [table["remaining_t_co2e"].to_pylist()]
    layers += [table[ABATED_PREFIX + i].to_pylist() for i in ids]
    labels = [text["remaining"]]
    labels += [names.get(i, [i, i])[1 if lang == "zh-CN" else 0] for i in ids]
    colours = [HOUSE_COLOURS["neutral"]]
    colours += [_WEDGE_COLOURS[k % len(_WEDGE_COLOURS)] for k in range(len(ids))]
    polys = ax.stackplot(years, *layers, labels=labels, colors=colours, alpha=0.9)
    polys[0].set_gid("wedge-remaining")
    for poly, measure_id in zip(polys[1:], ids, strict=True):
        poly.set_gid(f"wedge-{measure_id}")
    ax.plot(
        years,
        table["bau_t_co2e"].to_pylist(),
        color=HOUSE_COLOURS["ink"],
        linewidth=1.2,
        label=text["bau"],
        gid="line-bau",
    )
    if target_pathway:
        ty = sorted(target_pathway)
        ax.plot(
            ty,
            [target_pathway[y] for y in ty],
            color=HOUSE_COLOURS["negative"],
            linestyle="--",
            linewidth=1.4,
            label=text["target"],
            gid="line-target",
        )
    ax.set_title(text["scenario_title"])
    ax.set_xlabel(text["year"])
    ax.set_ylabel(text["emissions"])
    ax.yaxis.set_major_formatter(_THOUSANDS)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:.0f}"))
    if len(years) > 1:
        ax.set_xlim(min(years), max(years))
    ax.set_ylim(bottom=0.0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))


def macc_chart(
    table: pa.Table,
    target: _Target = None,
    *,
    fmt: _Format | None = None,
    lang: str = "en",
    width_in: float = 8.0,
    height_in: float | None = None,
) -> bytes:
    """The MACC as an SVG or PNG file.

    Parameters
    ----------
    table
        Result of :func:`esgledger.targets.planner.macc`.
    target
        Path or binary file to write to, or ``None``.
    fmt
        ``"svg"`` or ``"png"``; default from the path's suffix, else SVG.
    lang
        ``"en"`` or ``"zh-CN"``.
    width_in, height_in
        Figure size [inch]; the default height fits the key (:func:`macc_figure`).

    Returns
    -------
    bytes
        The file (deterministic for SVG).
    """
    with chart_style(lang):
        return save_figure(macc_figure(table, lang, width_in, height_in), target, fmt)


def macc_figure(
    table: pa.Table, lang: str = "en", width_in: float = 8.0, height_in: float | None = None
) -> Figure:
    """The laid-out MACC figure (:func:`draw_macc`, then :func:`separate_labels`), for
    :func:`macc_chart` or to inspect; call inside :func:`esgledger.plotting.chart_style`.

    The default height [inch] gives the plot about 3.4 in and adds a line of the key below
    it for every two lines of measure names."""
    if height_in is None:
        key_lines = sum(
            max(len(_wrap(str(name), _KEY_WRAP[lang]).splitlines()), 1)
            for name in table.column("name_zh" if lang == "zh-CN" else "name").to_pylist()
        )
        height_in = 4.2 + 0.17 * (key_lines + 1) / (2 if table.num_rows > 3 else 1)
    fig = new_figure(width_in, height_in)
    ax = fig.add_subplot()
    draw_macc(ax, table, lang)
    separate_labels(fig, ax)
    return fig


def scenario_chart(
    table: pa.Table,
    target: _Target = None,
    *,
    target_pathway: Mapping[int, float] | None = None,
    fmt: _Format | None = None,
    lang: str = "en",
    width_in: float = 9.0,
    height_in: float = 5.0,
) -> bytes:
    """The scenario pathway (stacked abatement wedges, target line) as an SVG or PNG file.

    Parameters
    ----------
    table
        Result of :func:`esgledger.targets.planner.scenario`.
    target
        Path or binary file to write to, or ``None``.
    target_pathway
        Year → target emissions [t CO2e], drawn as a dashed line.
    fmt, lang, width_in, height_in
        As for :func:`macc_chart`.
    """
    with chart_style(lang):
        fig = new_figure(width_in, height_in)
        draw_scenario(fig.add_subplot(), table, target_pathway, lang)
        return save_figure(fig, target, fmt)
