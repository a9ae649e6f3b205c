"""Planner charts: the marginal abatement cost curve and the scenario pathway.

规划图表：边际减排成本曲线与情景减排路径。

Both are drawn with the shared setup of :mod:`esgledger.plotting` (no GUI backend, house
colours, a CJK font for ``zh-CN``) and written as SVG (text kept as ``<text>``, same input →
same bytes) or PNG. Every bar of the MACC and every wedge of the pathway carries an SVG id
(``macc-bar-<measure id>``, ``wedge-<measure id>``) so a report or a test can find it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Literal

import pyarrow as pa
from matplotlib.axes import Axes
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from esgledger.plotting import HOUSE_COLOURS, chart_style, new_figure, save_figure
from esgledger.targets.planner import ABATED_PREFIX, LEVER_NAMES, Lever

__all__ = ["draw_macc", "draw_scenario", "macc_chart", "scenario_chart"]

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


def draw_macc(ax: Axes, table: pa.Table, lang: str = "en") -> None:
    """Draw a MACC table (:func:`esgledger.targets.planner.macc`) on ``ax``: one bar per
    measure, width = abatement [t CO2e / yr], height = cost [currency / t CO2e], from the
    cheapest on the left; bars coloured by lever, labelled with the measure names."""
    text = _TEXT[lang]
    rows = table.to_pylist()
    currency = rows[0]["currency"] if rows else ""
    levers_seen: list[Lever] = []
    top = max((abs(r["cost_per_t"]) for r in rows), default=1.0) or 1.0
    for row in rows:
        lever = _lever(row["lever"])
        if lever not in levers_seen:
            levers_seen.append(lever)
        [bar] = ax.bar(
            row["cumulative_start_t_co2e_per_yr"],
            row["cost_per_t"],
            width=row["abatement_t_co2e_per_yr"],
            align="edge",
            color=_LEVER_COLOURS[lever],
            edgecolor="white",
            linewidth=0.8,
        )
        bar.set_gid(f"macc-bar-{row['id']}")
        label = row["name_zh"] if lang == "zh-CN" else row["name"]
        centre = row["cumulative_start_t_co2e_per_yr"] + row["abatement_t_co2e_per_yr"] / 2
        height = row["cost_per_t"]
        offset = 0.02 * top
        ax.text(
            centre,
            height + offset if height >= 0 else height - offset,
            label,
            rotation=90,
            ha="center",
            va="bottom" if height >= 0 else "top",
            fontsize=7,
            gid=f"macc-label-{row['id']}",
        )
    ax.axhline(0.0, color=HOUSE_COLOURS["ink"], linewidth=0.8)
    ax.set_title(text["macc_title"])
    ax.set_xlabel(text["macc_x"])
    ax.set_ylabel(text["macc_y"].format(currency=currency))
    ax.xaxis.set_major_formatter(_THOUSANDS)
    ax.yaxis.set_major_formatter(_THOUSANDS)
    ax.margins(x=0.01, y=0.25)
    names = [LEVER_NAMES[lev][1 if lang == "zh-CN" else 0] for lev in levers_seen]
    handles = [Patch(color=_LEVER_COLOURS[lev]) for lev in levers_seen]
    if handles:
        ax.legend(handles, names, loc="upper left")


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
    width_in: float = 9.0,
    height_in: float = 5.0,
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
        Figure size [inch].

    Returns
    -------
    bytes
        The file (deterministic for SVG).
    """
    with chart_style(lang):
        fig = new_figure(width_in, height_in)
        draw_macc(fig.add_subplot(), table, lang)
        return save_figure(fig, target, fmt)


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
