"""Forecasts of a workspace's meters and daily PUE, read from the telemetry rollups.

工作区计量表与日 PUE 的预测（基于遥测汇总数据）。

:func:`forecast_meters` and :func:`forecast_pue` read :func:`esgledger.energy.rollups.rollup`,
turn it into series with :func:`~esgledger.energy.forecast.meter_series` /
:func:`~esgledger.energy.forecast.daily_pue_series` (latest complete stretch, nothing
filled), leave out series too short for the models (a finding each), then forecast and,
when asked, backtest. The pure work lives in :mod:`esgledger.energy.forecast`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from esgledger.energy.findings import Finding
from esgledger.energy.forecast import (
    BacktestResult,
    ForecastModel,
    ForecastResult,
    Grain,
    backtest,
    daily_pue_series,
    drop_short,
    forecast,
    meter_series,
    required_history,
)
from esgledger.energy.rollups import rollup
from esgledger.i18n import Text

if TYPE_CHECKING:
    from esgledger.store import Workspace

__all__ = ["WorkspaceForecast", "forecast_meters", "forecast_pue"]


@dataclass(frozen=True)
class WorkspaceForecast:
    """What a workspace forecast produced: the ``series`` it was fitted on, the
    ``forecast`` (``None`` when no series was long enough), the ``backtest`` when asked, and
    every finding (series cut or left out, failed models, undefined errors)."""

    series: pa.Table
    forecast: ForecastResult | None
    backtest: BacktestResult | None
    findings: tuple[Finding, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "forecast": self.forecast.to_json() if self.forecast else None,
            "backtest": self.backtest.to_json() if self.backtest else None,
            "findings": [finding.to_json() for finding in self.findings],
        }


def _run(
    series: pa.Table,
    findings: tuple[Finding, ...],
    grain: Grain,
    what: Text,
    *,
    models: Sequence[ForecastModel] | None,
    h: int,
    level: float,
    backtest_windows: int,
    n_jobs: int,
) -> WorkspaceForecast:
    need = required_history(models, grain, h=h, n_windows=backtest_windows)
    series, short = drop_short(series, need, what)
    found = findings + short
    if series.num_rows == 0:
        return WorkspaceForecast(series, None, None, found)
    result = forecast(series, models, h, level, n_jobs=n_jobs)
    tested = None
    if backtest_windows:
        tested = backtest(series, models, h, backtest_windows, level=level, n_jobs=n_jobs)
    found += result.findings + (tested.findings if tested else ())
    return WorkspaceForecast(series, result, tested, found)


def forecast_meters(
    ws: Workspace,
    *,
    site: str | None = None,
    meters: Sequence[str] | None = None,
    grain: Grain = "hour",
    h: int = 48,
    history: int | None = None,
    models: Sequence[ForecastModel] | None = None,
    level: float = 95,
    backtest_windows: int = 0,
    n_jobs: int = 2,
) -> WorkspaceForecast:
    """Forecast the energy [kWh] of each meter ``h`` steps of ``grain`` ahead.

    ``history`` is the number of latest complete steps fitted on (default
    :data:`~esgledger.energy.forecast.DEFAULT_HISTORY`); ``backtest_windows`` > 0 also
    backtests with that many windows of ``h`` steps.
    """
    table = rollup(
        ws, grain, sites=[site] if site else None, meters=list(meters) if meters else None
    )
    series, findings = meter_series(table, grain, history=history)
    return _run(
        series,
        findings,
        grain,
        Text("Meter", "计量表"),
        models=models,
        h=h,
        level=level,
        backtest_windows=backtest_windows,
        n_jobs=n_jobs,
    )


def forecast_pue(
    ws: Workspace,
    site: str,
    *,
    h: int = 14,
    history: int | None = None,
    models: Sequence[ForecastModel] | None = None,
    level: float = 95,
    backtest_windows: int = 0,
    n_jobs: int = 1,
) -> WorkspaceForecast:
    """Forecast the daily PUE of ``site`` ``h`` days ahead (the ratio of
    :func:`~esgledger.energy.forecast.daily_pue_series`: incomer kWh / IT kWh per local day;
    the PUE of record is ``energy.kpi``'s)."""
    table = rollup(ws, "day", sites=[site])
    series, findings = daily_pue_series(table, history=history)
    return _run(
        series,
        findings,
        "day",
        Text("Site PUE", "站点 PUE"),
        models=models,
        h=h,
        level=level,
        backtest_windows=backtest_windows,
        n_jobs=n_jobs,
    )
