"""Bilingual charts of the data-centre KPIs: PUE trend, load heat-map, load-factor waterfall.

数据中心能效图表（中英双语）：PUE 月度趋势、负荷热力图（时 × 日）、CLF/PLF/OLF 瀑布图。

Pure functions over plain values, drawn with :mod:`esgledger.plotting` (no ``pyplot``; SVG
keeps its text; the same data gives the same bytes). Each returns the rendered bytes and
writes ``target`` when given.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np

from esgledger.energy.kpi import SiteKpis
from esgledger.i18n import Text
from esgledger.plotting import chart_style, new_figure, save_figure

__all__ = ["load_heatmap", "pue_trend", "waterfall"]

_PUE_TREND = Text("PUE by month", "PUE 月度趋势")
_MONTH = Text("Month", "月份")
_HEAT = Text("IT load by hour of day (kW)", "IT 负荷（kW，按日内小时）")
_HOUR = Text("Hour of day", "小时")
_DAY = Text("Day", "日期")
_WATERFALL = Text("PUE = 1 + CLF + PLF + OLF", "PUE = 1 + CLF + PLF + OLF")
_BARS = {
    "it": Text("IT (1.00)", "IT（1.00）"),
    "clf": Text("Cooling (CLF)", "制冷（CLF）"),
    "plf": Text("Power losses (PLF)", "配电损耗（PLF）"),
    "olf": Text("Other (OLF)", "其他（OLF）"),
    "rest": Text("Unattributed", "未归属"),
    "pue": Text("PUE", "PUE"),
}


def pue_trend(
    months: Sequence[date],
    pue: Sequence[float | None],
    target: str | Path | None = None,
    *,
    lang: str = "en",
    fmt: Literal["svg", "png"] | None = None,
) -> bytes:
    """A line of monthly PUE (a month without a PUE is a gap in the line)."""
    values = np.array([np.nan if v is None else v for v in pue], dtype=float)
    with chart_style(lang):
        fig = new_figure(8.0, 3.5)
        ax = fig.add_subplot()
        ax.plot(range(len(months)), values, marker="o")
        ax.set_xticks(range(len(months)), [f"{m:%Y-%m}" for m in months], rotation=45)
        ax.axhline(1.0, color="grey", linewidth=0.8, linestyle=":")
        ax.set_title(_PUE_TREND.get(lang))
        ax.set_xlabel(_MONTH.get(lang))
        ax.set_ylabel("PUE")
        return save_figure(fig, target, fmt)


def load_heatmap(
    days: Sequence[date],
    kw: np.ndarray,
    target: str | Path | None = None,
    *,
    lang: str = "en",
    fmt: Literal["svg", "png"] | None = None,
) -> bytes:
    """Heat-map of load [kW] with days as rows and the 24 hours of the day as columns
    (``kw`` shape ``(len(days), 24)``; NaN where unknown)."""
    if kw.shape != (len(days), 24):
        raise ValueError(f"kw has shape {kw.shape}, expected ({len(days)}, 24)")
    with chart_style(lang):
        fig = new_figure(8.0, 5.0)
        ax = fig.add_subplot()
        image = ax.imshow(kw, aspect="auto", interpolation="nearest", cmap="viridis")
        ax.set_xlabel(_HOUR.get(lang))
        ax.set_ylabel(_DAY.get(lang))
        step = max(1, len(days) // 12)
        ax.set_yticks(range(0, len(days), step), [f"{d:%m-%d}" for d in days[::step]])
        ax.set_xticks(range(0, 24, 3))
        ax.set_title(_HEAT.get(lang))
        fig.colorbar(image, ax=ax, label="kW")
        return save_figure(fig, target, fmt)


def waterfall(
    kpis: SiteKpis,
    target: str | Path | None = None,
    *,
    lang: str = "en",
    fmt: Literal["svg", "png"] | None = None,
) -> bytes:
    """Waterfall from IT (1.00) through CLF, PLF, OLF (and the unattributed remainder when
    there is one) to PUE. A missing factor is drawn as an empty step labelled ``n/a``."""
    steps: list[tuple[str, float | None]] = [
        ("clf", kpis.clf),
        ("plf", kpis.plf),
        ("olf", kpis.olf),
    ]
    if kpis.unattributed_kwh and kpis.e_it_kwh:
        steps.append(("rest", kpis.unattributed_kwh / kpis.e_it_kwh))
    with chart_style(lang):
        fig = new_figure(7.0, 4.0)
        ax = fig.add_subplot()
        labels = [_BARS["it"].get(lang)]
        ax.bar(0, 1.0, color="#4c72b0")
        level = 1.0
        for i, (key, value) in enumerate(steps, start=1):
            labels.append(_BARS[key].get(lang))
            if value is None:
                ax.text(i, level, "n/a", ha="center", va="bottom")
                continue
            ax.bar(i, value, bottom=level, color="#dd8452")
            ax.text(i, level + value, f"{value:.2f}", ha="center", va="bottom")
            level += value
        labels.append(_BARS["pue"].get(lang))
        if kpis.pue is not None:
            ax.bar(len(steps) + 1, kpis.pue, color="#55a868")
            ax.text(len(steps) + 1, kpis.pue, f"{kpis.pue:.2f}", ha="center", va="bottom")
        ax.set_xticks(range(len(labels)), labels, rotation=20)
        ax.set_title(_WATERFALL.get(lang))
        return save_figure(fig, target, fmt)
