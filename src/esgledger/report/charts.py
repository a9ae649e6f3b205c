"""The report's charts: data in, SVG bytes out, labelled in English or Simplified Chinese.

报告图表：输入数据，输出 SVG（英文或简体中文标注）。

Each function is pure: it draws with the shared house style
(:func:`esgledger.plotting.chart_style`, :func:`esgledger.plotting.save_figure`), keeps text as
``<text>`` (searchable in the HTML and in the PDF) and returns the same bytes for the same
data. The report embeds the returned SVG unchanged in both the HTML and the PDF edition.
Labels come from the strings table (``esgledger.i18n``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from matplotlib.axis import Axis
from matplotlib.ticker import MaxNLocator, StrMethodFormatter
from numpy.typing import ArrayLike

from esgledger.errors import EsgledgerError
from esgledger.i18n import ui
from esgledger.plotting import HOUSE_COLOURS, chart_style, new_figure, save_figure

__all__ = [
    "ChartDataError",
    "ChartFn",
    "cfe_heatmap",
    "emissions_by_scope",
    "inclusion_by_month",
    "intensity_trend",
    "re_share",
    "scope3_by_category",
    "target_pathway",
]


ChartFn = Callable[[str], bytes]
"""A chart drawn for one language: ``lang -> SVG bytes``."""


class ChartDataError(EsgledgerError, ValueError):
    """Chart data do not fit together (lengths differ, wrong shape, unknown category)."""


def _same_length(name: str, years: Sequence[int], values: Sequence[float]) -> None:
    if len(values) != len(years):
        raise ChartDataError(
            f"{name}: {len(values)} values for {len(years)} years; give one value per year"
        )


def _thousands(axis: Axis) -> None:
    """Tick labels as whole numbers with thousands separators (no "1e6" offset)."""
    axis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))


def _year_labels(years: Sequence[int]) -> list[str]:
    return [str(int(year)) for year in years]


def emissions_by_scope(
    years: Sequence[int],
    scope1_t: Sequence[float],
    scope2_t: Sequence[float],
    scope3_t: Sequence[float] | None = None,
    *,
    lang: str = "en",
) -> bytes:
    """Stacked bars of scope 1, 2 (and 3) emissions [t CO2e] per year.

    Scope 2 is whichever method the caller passes (the report says which in the caption).
    """
    series = [("chart.scope1", scope1_t), ("chart.scope2", scope2_t)]
    if scope3_t is not None:
        series.append(("chart.scope3", scope3_t))
    for key, values in series:
        _same_length(ui(key, "en"), years, values)
    with chart_style(lang, strict=lang == "zh-CN"):
        fig = new_figure(7.0, 3.6)
        axes = fig.add_subplot()
        positions = np.arange(len(years))
        bottom = np.zeros(len(years))
        for key, values in series:
            heights = np.asarray(values, dtype=float)
            axes.bar(positions, heights, bottom=bottom, label=ui(key, lang), width=0.6)
            bottom += heights
        axes.set_xticks(positions, _year_labels(years))
        axes.set_xlabel(ui("chart.year", lang))
        axes.set_ylabel(ui("chart.t_co2e", lang))
        _thousands(axes.yaxis)
        axes.set_title(ui("chart.emissions_by_scope", lang))
        axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
        return save_figure(fig, fmt="svg")


def scope3_by_category(emissions_t: Mapping[int, float], *, lang: str = "en") -> bytes:
    """Horizontal bars of scope 3 emissions [t CO2e] by category (1-15, GHG Protocol Scope 3
    Standard Table 5.1), largest at the top; categories absent from the mapping are not drawn."""
    unknown = sorted(set(emissions_t) - set(range(1, 16)))
    if unknown:
        raise ChartDataError(
            f"scope 3 categories {unknown} do not exist; use 1-15 (Scope 3 Standard Table 5.1)"
        )
    ordered = sorted(emissions_t.items(), key=lambda item: (item[1], -item[0]))
    with chart_style(lang, strict=lang == "zh-CN"):
        fig = new_figure(7.0, 0.9 + 0.3 * max(len(ordered), 1))
        axes = fig.add_subplot()
        positions = np.arange(len(ordered))
        axes.barh(
            positions,
            [value for _, value in ordered],
            color=HOUSE_COLOURS["primary"],
            height=0.6,
        )
        axes.set_yticks(positions, [ui(f"scope3.{category}", lang) for category, _ in ordered])
        axes.grid(axis="x")
        axes.grid(axis="y", visible=False)
        axes.set_xlabel(ui("chart.t_co2e", lang))
        _thousands(axes.xaxis)
        # Few enough ticks that "1,000,000" and "1,200,000" never run into each other.
        axes.xaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
        axes.set_title(ui("chart.scope3_by_category", lang))
        return save_figure(fig, fmt="svg")


def inclusion_by_month(
    months: Sequence[str], by_mode_t: Mapping[str, Sequence[float]], *, lang: str = "en"
) -> bytes:
    """Stacked bars of a carbon-inclusion programme's avoided emissions [t CO2] per month
    (``YYYY-MM``), one series per mode (keys are the legend labels, already in ``lang``).

    Avoided emissions of other people, outside scopes 1-3: drawn apart from the inventory's
    charts, in t CO2 (not t CO2e) and without thousands separators (programmes can be small).
    """
    for label, values in by_mode_t.items():
        if len(values) != len(months):
            raise ChartDataError(
                f"{label}: {len(values)} values for {len(months)} months; give one per month"
            )
    with chart_style(lang, strict=lang == "zh-CN"):
        fig = new_figure(7.0, 3.4)
        axes = fig.add_subplot()
        positions = np.arange(len(months))
        bottom = np.zeros(len(months))
        for label, values in by_mode_t.items():
            heights = np.asarray(values, dtype=float)
            axes.bar(positions, heights, bottom=bottom, label=label, width=0.6)
            bottom += heights
        axes.set_xticks(positions, list(months))
        if len(months) > 6:  # twelve "2026-01" labels side by side would touch
            axes.tick_params(axis="x", labelrotation=45)
        axes.set_xlabel(ui("chart.month", lang))
        axes.set_ylabel(ui("chart.t_co2", lang))
        axes.set_title(ui("chart.incl_by_month", lang))
        if len(by_mode_t) > 1:
            axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
        return save_figure(fig, fmt="svg")


def re_share(years: Sequence[int], share_pct: Sequence[float], *, lang: str = "en") -> bytes:
    """Renewable share of electricity consumption [%] per year (bars, 0-100 %)."""
    _same_length("RE share", years, share_pct)
    with chart_style(lang, strict=lang == "zh-CN"):
        fig = new_figure(7.0, 3.2)
        axes = fig.add_subplot()
        positions = np.arange(len(years))
        bars = axes.bar(positions, share_pct, color=HOUSE_COLOURS["secondary"], width=0.6)
        axes.bar_label(bars, labels=[f"{value:.1f}" for value in share_pct], padding=2)
        axes.set_xticks(positions, _year_labels(years))
        axes.set_ylim(0, 105)
        axes.set_xlabel(ui("chart.year", lang))
        axes.set_ylabel(ui("chart.percent", lang))
        axes.set_title(ui("chart.re_share", lang))
        return save_figure(fig, fmt="svg")


def cfe_heatmap(matrix: ArrayLike, *, lang: str = "en") -> bytes:
    """Hourly carbon-free-electricity share, month (rows) x hour of day (columns).

    Parameters
    ----------
    matrix
        12 x 24 CFE shares [fraction], as :func:`esgledger.renewables.cfe.heatmap` returns
        them (NaN where there is no load); drawn as per cent.
    """
    grid = np.asarray(matrix, dtype=float)
    if grid.shape != (12, 24):
        raise ChartDataError(
            f"the CFE heat-map needs 12 months x 24 hours, got shape {grid.shape}; "
            "use esgledger.renewables.cfe.heatmap"
        )
    with chart_style(lang, strict=lang == "zh-CN"):
        fig = new_figure(7.0, 3.4)
        axes = fig.add_subplot()
        # pcolormesh, not imshow: cells stay vector rectangles (imshow embeds a bitmap).
        image = axes.pcolormesh(
            np.arange(25) - 0.5,
            np.arange(13) - 0.5,
            np.ma.masked_invalid(grid * 100.0),
            cmap="YlGn",
            vmin=0.0,
            vmax=100.0,
        )
        axes.invert_yaxis()
        axes.set_xticks(range(0, 24, 2))
        axes.set_yticks(range(12), [ui(f"month.{month}", lang) for month in range(1, 13)])
        axes.grid(visible=False)
        axes.set_xlabel(ui("chart.hour", lang))
        axes.set_ylabel(ui("chart.month", lang))
        axes.set_title(ui("chart.cfe_heatmap", lang))
        colorbar = fig.colorbar(image, ax=axes, label=ui("chart.cfe_percent", lang))
        if colorbar.solids is not None:
            colorbar.solids.set_rasterized(False)  # keep the colour bar vector as well
        return save_figure(fig, fmt="svg")


def target_pathway(
    target_years: Sequence[int],
    target_t: Sequence[float],
    actual_years: Sequence[int],
    actual_t: Sequence[float],
    *,
    lang: str = "en",
) -> bytes:
    """Target pathway [t CO2e] (line) against actual emissions [t CO2e] (markers)."""
    _same_length("target pathway", target_years, target_t)
    _same_length("actual emissions", actual_years, actual_t)
    with chart_style(lang, strict=lang == "zh-CN"):
        fig = new_figure(7.0, 3.4)
        axes = fig.add_subplot()
        axes.plot(
            list(target_years),
            list(target_t),
            color=HOUSE_COLOURS["primary"],
            linestyle="--",
            label=ui("chart.target", lang),
        )
        axes.plot(
            list(actual_years),
            list(actual_t),
            color=HOUSE_COLOURS["ink"],
            marker="o",
            label=ui("chart.actual", lang),
        )
        axes.set_ylim(bottom=0)
        axes.set_xlabel(ui("chart.year", lang))
        axes.set_ylabel(ui("chart.t_co2e", lang))
        _thousands(axes.yaxis)
        axes.set_title(ui("chart.target_pathway", lang))
        axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))  # beside the plot, off the data
        return save_figure(fig, fmt="svg")


def intensity_trend(
    years: Sequence[int],
    series: Mapping[str, Sequence[float]],
    unit: str,
    *,
    lang: str = "en",
) -> bytes:
    """Emission intensities over years, one line per series.

    Parameters
    ----------
    series
        Legend label (already in ``lang``) -> values per year, e.g. ``{"per revenue": ...}``.
    unit
        The y-axis unit, e.g. ``"t CO2e / HKD million"``.
    """
    for name, values in series.items():
        _same_length(name, years, values)
    with chart_style(lang, strict=lang == "zh-CN"):
        fig = new_figure(7.0, 3.2)
        axes = fig.add_subplot()
        for name, values in series.items():
            axes.plot(list(years), list(values), marker="o", label=name)
        axes.set_xticks(list(years), _year_labels(years))
        axes.set_ylim(bottom=0)
        axes.set_xlabel(ui("chart.year", lang))
        axes.set_ylabel(unit)
        axes.set_title(ui("chart.intensity", lang))
        if series:
            axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))  # beside the plot
        return save_figure(fig, fmt="svg")
