"""The forecast chart: a series' recent history, one model's forecast and its prediction band.

预测图：序列近期历史、一个模型的预测值及其预测区间。

Drawn with :mod:`esgledger.plotting` (house style, CJK font for ``zh-CN``, deterministic SVG).
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

import pandas as pd
import pyarrow as pa

from esgledger.energy.forecast import ForecastArgumentError, ForecastResult
from esgledger.i18n import Text
from esgledger.plotting import HOUSE_COLOURS, chart_style, new_figure, save_figure

__all__ = ["forecast_chart"]

_UNITS: dict[str, Text] = {
    "energy_kwh": Text("Energy [kWh]", "能耗 [kWh]"),
    "pue": Text("PUE [–]", "PUE [–]"),
}
_HISTORY = Text("History", "历史")
_FORECAST = Text("Forecast", "预测")
_BAND = Text("{level} % prediction interval ({kind})", "{level}% 预测区间（{kind}）")
_KINDS = {
    "model": Text("model's own", "模型自身"),
    "conformal": Text("split conformal", "分裂保形"),
}
_TITLE = Text("Forecast of {series} ({model})", "{series} 的预测（{model}）")
_TIME = Text("Time", "时间")


def forecast_chart(
    history: pa.Table,
    result: ForecastResult,
    series_id: str,
    *,
    model: str | None = None,
    lang: str = "en",
    tail: int | None = None,
    target: str | Path | IO[bytes] | None = None,
) -> bytes:
    """History, forecast and its band for one series, as SVG bytes (also written to
    ``target``; PNG when ``target`` ends ``.png``).

    ``history`` is the series table the forecast was made from; ``model`` defaults to the
    first model of the result; ``tail`` keeps the last points of the history (default: four
    horizons).
    """
    model = model or result.models[0]
    if model not in result.models:
        raise ForecastArgumentError(f"model {model!r} is not in the forecast")
    past = history.to_pandas()
    past = past[past["series_id"].astype(str) == series_id].sort_values("ts")
    ahead = result.table.to_pandas()
    ahead = ahead[ahead["series_id"].astype(str) == series_id].sort_values("ts")
    if past.empty and ahead.empty:
        raise ForecastArgumentError(f"no series {series_id!r} in the history or the forecast")
    past = past.tail(tail or 4 * result.h)
    lo, hi = f"{model}-lo-{result.level}", f"{model}-hi-{result.level}"
    unit = _UNITS.get(result.value_column, Text(result.value_column, result.value_column))
    with chart_style(lang):
        fig = new_figure(8.0, 4.0)
        ax = fig.add_subplot()
        ax.plot(
            pd.to_datetime(past["ts"]),
            past[result.value_column],
            color=HOUSE_COLOURS["neutral"],
            linewidth=1.0,
            label=_HISTORY.get(lang),
        )
        ax.fill_between(
            pd.to_datetime(ahead["ts"]),
            ahead[lo].astype(float),
            ahead[hi].astype(float),
            color=HOUSE_COLOURS["secondary"],
            alpha=0.25,
            linewidth=0,
            label=_BAND.get(lang).format(
                level=result.level, kind=_KINDS[result.intervals].get(lang)
            ),
        )
        ax.plot(
            pd.to_datetime(ahead["ts"]),
            ahead[model].astype(float),
            color=HOUSE_COLOURS["primary"],
            linewidth=1.4,
            label=f"{_FORECAST.get(lang)} ({model})",
        )
        ax.set_title(_TITLE.get(lang).format(series=series_id, model=model))
        ax.set_xlabel(_TIME.get(lang))
        ax.set_ylabel(unit.get(lang))
        ax.legend(loc="upper left")
        fig.autofmt_xdate()
        return save_figure(fig, target)
