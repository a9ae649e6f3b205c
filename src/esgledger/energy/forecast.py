"""Forecasts of meter energy and PUE with statsforecast, and their backtests.

电表能耗与 PUE 的预测（statsforecast）及其回测。

The workspace adapters :func:`forecast_meters` and :func:`forecast_pue` read the telemetry
rollups (:func:`esgledger.energy.rollups.rollup`) through :func:`meter_series` and
:func:`daily_pue_series`; everything else here is pure.

One long table goes in: ``series_id``, ``ts`` (a regular grid per series: 15 minutes, one
hour or one day) and one value column named with its unit (``energy_kwh``, ``pue``, ...).
:func:`forecast` returns the next ``h`` steps with one column per model (its ``alias``) and
``<alias>-lo-<level>`` / ``<alias>-hi-<level>``; :func:`backtest` forecasts from earlier cutoffs
(rolling origin, refitted at each cutoff) and scores each window against what happened: MAE,
MAPE, CV(RMSE) and the MAE skill against seasonal naive, which is always among the models,
and the coverage of the bands. Given a backtest (``calibration=``), :func:`forecast`'s bands
are split-conformal: ``ŷ ± q``, ``q`` the ``⌈(n + 1)·level/100⌉``-th smallest absolute
backtest error of the series, model and horizon bucket; without one they are the models' own.

Models are small frozen objects with an ``alias`` (:class:`MSTLModel`, :class:`AutoETSModel`,
:class:`SeasonalNaiveModel`); their season lengths follow from the data frequency
(:data:`FREQUENCIES`). A model that fails on a series leaves that series' columns empty and
adds a :class:`~esgledger.energy.findings.Finding` (``energy.forecast.model_failed``); nothing
is put in its place under the same name. ``docs/energy/forecasts.md`` gives the formulas.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
from statsforecast import StatsForecast
from statsforecast.models import MSTL, AutoETS, SeasonalNaive

from esgledger.energy.findings import Finding
from esgledger.energy.meters import load_meters
from esgledger.energy.roles import IT_ROLES, top_meters
from esgledger.energy.roles import it_role as best_it_role
from esgledger.energy.rollups import rollup
from esgledger.errors import InputError, InsufficientDataError
from esgledger.i18n import Text

if TYPE_CHECKING:
    from esgledger.store import Workspace

__all__ = [
    "CONFORMAL_MIN_SCORES",
    "COVERAGE_LEVELS",
    "DEFAULT_HISTORY",
    "FREQUENCIES",
    "IT_ROLES_BY_PREFERENCE",
    "STL_JUMPS",
    "AutoETSModel",
    "BacktestResult",
    "FittedForecast",
    "ForecastArgumentError",
    "ForecastModel",
    "ForecastResult",
    "Frequency",
    "IrregularSeriesError",
    "MSTLModel",
    "PueMeter",
    "SeasonalNaiveModel",
    "ShortHistoryError",
    "WorkspaceForecast",
    "backtest",
    "conformal_buckets",
    "conformal_needed",
    "daily_pue_series",
    "default_models",
    "drop_short",
    "fit",
    "forecast",
    "forecast_meters",
    "forecast_pue",
    "frequency_of",
    "meter_series",
    "parse_span",
    "required_history",
    "span_steps",
]

Grain = Literal["15min", "hour", "day"]


class ForecastArgumentError(InputError):
    """An argument of :func:`forecast` or :func:`backtest` is wrong (checked before any work)."""


class ShortHistoryError(ForecastArgumentError, InsufficientDataError):
    """A series is too short for the models or the backtest windows asked for."""

    def __init__(self, series_id: str, have: int, need: int, why: str) -> None:
        self.series_id = series_id
        self.have = have
        self.need = need
        super().__init__(
            f"series {series_id!r} has {have} points; {need} are needed ({why}). "
            "Fix: give a longer history, a shorter horizon or fewer backtest windows"
        )


class IrregularSeriesError(ForecastArgumentError):
    """A series has missing values, duplicate or unevenly spaced timestamps."""

    def __init__(self, series_id: str, problem: str) -> None:
        self.series_id = series_id
        self.problem = problem
        super().__init__(
            f"series {series_id!r}: {problem}. Fix: forecast from a gap-free stretch "
            "(the workspace adapters keep the latest complete stretch and say so)"
        )


@dataclass(frozen=True, slots=True)
class Frequency:
    """A data frequency: its step, and the season lengths that follow from it.

    ``seasons`` are the MSTL season lengths (daily and weekly cycles in steps);
    ``ets_season`` the single season AutoETS uses (statsforecast's ETS handles at most 24,
    so 15-minute data get their daily cycle only through MSTL) and ``ets_model`` the forms
    AutoETS chooses among by default (:class:`AutoETSModel`).
    """

    grain: Grain
    step: pd.Timedelta
    pandas_freq: str
    seasons: tuple[int, ...]
    ets_season: int
    ets_model: str

    @property
    def naive_season(self) -> int:
        """The seasonal-naive season: the longest cycle the benchmark repeats (one week)."""
        return max(self.seasons)


FREQUENCIES: Mapping[Grain, Frequency] = {
    "15min": Frequency("15min", pd.Timedelta(minutes=15), "15min", (96, 672), 1, "ZNA"),
    "hour": Frequency("hour", pd.Timedelta(hours=1), "h", (24, 168), 24, "ZNA"),
    "day": Frequency("day", pd.Timedelta(days=1), "D", (7,), 7, "ZZZ"),
}
"""The frequencies forecasts accept, by grain: 15 minutes ``[96, 672]``, hourly
``[24, 168]``, daily ``[7]`` (daily and weekly cycles)."""


class ForecastModel(Protocol):
    """What a model object offers: its ``alias``, the statsforecast model for a frequency,
    the shortest history it fits on, and its parameters for provenance."""

    @property
    def alias(self) -> str: ...

    def build(self, freq: Frequency) -> Any: ...

    def min_history(self, freq: Frequency) -> int: ...

    def describe(self, freq: Frequency) -> dict[str, Any]: ...


#: STL's LOESS "jumps" (smoothers evaluated every ``jump`` points, linear in between): R's
#: ``stl`` defaults (``ceiling(window / 10)``) for the daily season's trend (47 → 5) and
#: low-pass (25 → 3) windows, used for every season; statsmodels' default of 1 costs 2–3×
#: the time for forecasts that differ by less than 0.01 % on hourly meter data.
STL_JUMPS: Mapping[str, int] = {"trend_jump": 5, "low_pass_jump": 3}


@dataclass(frozen=True, slots=True)
class MSTLModel:
    """MSTL: the series less its daily and weekly cycles (STL, one season at a time) is
    forecast by AutoETS without season (``trend_model``, default ``AZN``: additive error,
    no, additive or damped trend chosen by AICc); the seasons are repeated.

    ``season_lengths`` ``None`` takes them from the frequency (:data:`FREQUENCIES`); the STL
    fits use :data:`STL_JUMPS`. ``AZN`` rather than statsforecast's default ``ZZN`` (which
    also tries the three multiplicative-error forms) costs a third less CPU for the same
    backtest MAE on the benchmark's meters (``docs/energy/forecasts.md``).
    """

    season_lengths: tuple[int, ...] | None = None
    alias: str = "MSTL"
    trend_model: str = "AZN"

    def seasons(self, freq: Frequency) -> tuple[int, ...]:
        return self.season_lengths or freq.seasons

    def build(self, freq: Frequency) -> Any:
        return MSTL(
            season_length=list(self.seasons(freq)),
            trend_forecaster=AutoETS(model=self.trend_model),
            stl_kwargs=dict(STL_JUMPS),
            alias=self.alias,
        )

    def min_history(self, freq: Frequency) -> int:
        # STL needs two full cycles of the longest season.
        return 2 * max(self.seasons(freq)) + 1

    def describe(self, freq: Frequency) -> dict[str, Any]:
        return {
            "method": "statsforecast.MSTL",
            "season_length": list(self.seasons(freq)),
            "stl_kwargs": dict(STL_JUMPS),
            "trend_forecaster": f"AutoETS(model={self.trend_model!r})",
            "intervals": "model-based (trend forecaster)",
        }


@dataclass(frozen=True, slots=True)
class AutoETSModel:
    """AutoETS: exponential smoothing, the form chosen by AICc among those ``model`` allows.

    ``model`` is statsforecast's three-letter code (error, trend, season; ``Z`` = chosen).
    ``None`` takes :attr:`Frequency.ets_model`: ``ZNA`` for 15-minute and hourly data (error
    chosen, no trend, additive daily season: the trend over a 48-hour horizon is left to
    MSTL, and the trended seasonal forms cost 5–10× the time on a 24-step season) and
    ``ZZZ`` for daily data. ``season_length`` ``None`` takes :attr:`Frequency.ets_season`.
    """

    model: str | None = None
    season_length: int | None = None
    alias: str = "AutoETS"

    def season(self, freq: Frequency) -> int:
        return self.season_length or freq.ets_season

    def form(self, freq: Frequency) -> str:
        model = self.model or freq.ets_model
        return model if self.season(freq) > 1 else model[:2] + "N"

    def build(self, freq: Frequency) -> Any:
        return AutoETS(season_length=self.season(freq), model=self.form(freq), alias=self.alias)

    def min_history(self, freq: Frequency) -> int:
        return 2 * self.season(freq) + 2

    def describe(self, freq: Frequency) -> dict[str, Any]:
        return {
            "method": "statsforecast.AutoETS",
            "model": self.form(freq),
            "season_length": self.season(freq),
            "selection": "AICc",
            "intervals": "model-based (normal errors)",
        }


@dataclass(frozen=True, slots=True)
class SeasonalNaiveModel:
    """Seasonal naive, the benchmark: each step repeats the value one season (a week) ago."""

    season_length: int | None = None
    alias: str = "SeasonalNaive"

    def season(self, freq: Frequency) -> int:
        return self.season_length or freq.naive_season

    def build(self, freq: Frequency) -> Any:
        return SeasonalNaive(season_length=self.season(freq), alias=self.alias)

    def min_history(self, freq: Frequency) -> int:
        return self.season(freq) + 1

    def describe(self, freq: Frequency) -> dict[str, Any]:
        return {
            "method": "statsforecast.SeasonalNaive",
            "season_length": self.season(freq),
            "intervals": "model-based (residual standard deviation)",
        }


def default_models() -> tuple[ForecastModel, ...]:
    """MSTL, AutoETS and the seasonal-naive benchmark, with their default aliases."""
    return (MSTLModel(), AutoETSModel(), SeasonalNaiveModel())


@dataclass(frozen=True)
class ForecastResult:
    """Forecasts: ``table`` has ``series_id``, ``ts``, and per model ``<alias>``,
    ``<alias>-lo-<level>``, ``<alias>-hi-<level>`` (in the unit of ``value_column``; null where
    the model failed for the series, with a finding in ``findings``). ``intervals`` says what
    the bands are: the models' own (``model``) or split-conformal from a backtest
    (``conformal``)."""

    table: pa.Table
    value_column: str
    grain: Grain
    h: int
    level: int
    models: tuple[str, ...]
    parameters: Mapping[str, Mapping[str, Any]]
    findings: tuple[Finding, ...] = ()
    intervals: Literal["model", "conformal"] = "model"

    def to_json(self) -> dict[str, Any]:
        frame = self.table.to_pandas()
        frame["ts"] = frame["ts"].map(lambda value: value.isoformat())
        rows = [
            {key: _json_value(value) for key, value in row.items()}
            for row in frame.to_dict(orient="records")
        ]
        return {
            "value_column": self.value_column,
            "grain": self.grain,
            "h": self.h,
            "level": self.level,
            "intervals": self.intervals,
            "models": list(self.models),
            "parameters": {key: dict(value) for key, value in self.parameters.items()},
            "rows": rows,
            "findings": [finding.to_json() for finding in self.findings],
        }


@dataclass(frozen=True)
class BacktestResult:
    """Backtest of rolling-origin forecasts.

    ``errors`` has one row per ``series_id``, ``model`` and ``cutoff`` (the last timestamp a
    window's fit saw), with ``points``, ``mae``, ``mape_pct``, ``cv_rmse_pct`` and
    ``skill_mae`` (``1 − MAE / MAE(seasonal naive)`` of the same window); ``summary`` the same
    over all windows of a series (``cutoff`` null, ``windows`` the count); ``points`` the
    actuals and forecasts of every window, with ``step`` (1 … h) and the sequential conformal
    bands ``<alias>-conformal-lo-<L>`` / ``-hi-``. MAE is in the unit of ``value_column``.

    ``coverage`` has, per ``series_id`` (null: all series), ``model``, ``interval``
    (``model``: the model's own band, every window; ``conformal``: split-conformal, windows
    1 … n−1 each calibrated on the earlier ones) and ``level`` [%]: the ``points`` with a band,
    how many were ``covered`` (inside, bounds included) and the ``coverage`` share.
    ``calibration`` has the conformal half-widths [unit of ``value_column``] from every window
    per series, model, level and horizon bucket (``first_step`` … ``last_step``, ``scores``
    errors; null when too few), which :func:`forecast` applies with ``calibration=``.
    """

    points: pa.Table
    errors: pa.Table
    summary: pa.Table
    value_column: str
    grain: Grain
    h: int
    n_windows: int
    step: int
    benchmark: str
    levels: tuple[int, ...]
    coverage: pa.Table
    calibration: pa.Table
    findings: tuple[Finding, ...] = ()

    def to_json(self) -> dict[str, Any]:
        def rows(table: pa.Table) -> list[dict[str, Any]]:
            out = []
            for row in table.to_pylist():
                out.append({key: _json_value(value) for key, value in row.items()})
            return out

        return {
            "value_column": self.value_column,
            "grain": self.grain,
            "h": self.h,
            "n_windows": self.n_windows,
            "step": self.step,
            "benchmark": self.benchmark,
            "levels": list(self.levels),
            "errors": rows(self.errors),
            "summary": rows(self.summary),
            "coverage": rows(self.coverage),
            "calibration": rows(self.calibration),
            "findings": [finding.to_json() for finding in self.findings],
        }


def _json_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float | np.floating):
        number = float(value)
        return None if math.isnan(number) else number
    if isinstance(value, np.integer):
        return int(value)
    return value


# ---------------------------------------------------------------------------------------------
# Argument checks


@dataclass(frozen=True)
class _Prepared:
    frame: pd.DataFrame  # unique_id, ds, y (sorted)
    value_column: str
    freq: Frequency
    lengths: Mapping[str, int]


def _as_frame(series: pa.Table | pd.DataFrame) -> pd.DataFrame:
    if isinstance(series, pa.Table):
        return pd.DataFrame(series.to_pandas())
    if isinstance(series, pd.DataFrame):
        return pd.DataFrame(series.copy())
    raise ForecastArgumentError(
        f"series must be a pyarrow Table or a pandas DataFrame, not {type(series).__name__}"
    )


def frequency_of(ts: pd.Series) -> Frequency:
    """The :class:`Frequency` of one series' sorted timestamps (all steps equal)."""
    steps = pd.Series(pd.to_datetime(ts)).diff().dropna().unique()
    if len(steps) != 1:
        raise ForecastArgumentError(
            "timestamps are not evenly spaced; forecasts need one step of 15 minutes, "
            "one hour or one day"
        )
    for freq in FREQUENCIES.values():
        if steps[0] == freq.step:
            return freq
    raise ForecastArgumentError(f"unsupported step {steps[0]}; use 15 minutes, one hour or one day")


def _prepare(series: pa.Table | pd.DataFrame) -> _Prepared:
    frame = _as_frame(series)
    missing = [name for name in ("series_id", "ts") if name not in frame.columns]
    if missing:
        raise ForecastArgumentError(f"series table lacks column(s) {', '.join(missing)}")
    values = [name for name in frame.columns if name not in ("series_id", "ts")]
    if len(values) != 1:
        raise ForecastArgumentError(
            "series table needs exactly one value column besides series_id and ts, named "
            f"with its unit (energy_kwh, pue, ...); found {values or 'none'}"
        )
    value_column = str(values[0])
    if value_column in ("unique_id", "ds", "y", "cutoff", "model"):
        raise ForecastArgumentError(f"value column may not be called {value_column!r}")
    if frame.empty:
        raise ForecastArgumentError("series table is empty")
    frame = frame.rename(columns={"series_id": "unique_id", "ts": "ds", value_column: "y"})
    frame["unique_id"] = frame["unique_id"].astype(str)
    frame["ds"] = pd.to_datetime(frame["ds"])
    if frame["ds"].dt.tz is not None:
        raise ForecastArgumentError("ts must be naive (UTC or local wall time), not zoned")
    frame["y"] = pd.to_numeric(frame["y"], errors="coerce").astype(float)
    frame = frame.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
    freq: Frequency | None = None
    lengths: dict[str, int] = {}
    for sid, group in frame.groupby("unique_id", sort=True):
        key = str(sid)
        if group["ds"].duplicated().any():
            raise IrregularSeriesError(key, "duplicate timestamps")
        if not np.isfinite(group["y"].to_numpy()).all():
            raise IrregularSeriesError(key, "missing or non-finite values")
        if len(group) < 2:
            raise ShortHistoryError(key, len(group), 2, "a step needs two points")
        try:
            this = frequency_of(group["ds"])
        except ForecastArgumentError as exc:
            raise IrregularSeriesError(key, str(exc)) from None
        if freq is not None and this.grain != freq.grain:
            raise IrregularSeriesError(key, f"step {this.grain} differs from {freq.grain}")
        freq = this
        lengths[key] = len(group)
    if freq is None:  # pragma: no cover - frame is not empty
        raise ForecastArgumentError("series table is empty")
    return _Prepared(frame, value_column, freq, lengths)


def _check_models(models: Sequence[ForecastModel]) -> tuple[ForecastModel, ...]:
    models = tuple(models)
    if not models:
        raise ForecastArgumentError("give at least one model")
    aliases = [model.alias for model in models]
    duplicates = sorted({alias for alias in aliases if aliases.count(alias) > 1})
    if duplicates:
        raise ForecastArgumentError(f"model aliases must be unique; repeated: {duplicates}")
    for alias in aliases:
        if not alias or "-lo-" in alias or "-hi-" in alias or alias in ("series_id", "ts"):
            raise ForecastArgumentError(f"model alias {alias!r} is not allowed")
    if not any(isinstance(model, SeasonalNaiveModel) for model in models):
        if "SeasonalNaive" in aliases:
            raise ForecastArgumentError(
                "alias 'SeasonalNaive' is taken by another model; the benchmark needs it"
            )
        models = (*models, SeasonalNaiveModel())
    return models


def _check_level(level: float) -> int:
    if isinstance(level, bool) or not isinstance(level, int | float):
        raise ForecastArgumentError(f"level must be a number, not {level!r}")
    if not 0 < level < 100:
        raise ForecastArgumentError(f"level must be strictly between 0 and 100, not {level}")
    if level != int(level):
        raise ForecastArgumentError(f"level must be a whole percent, not {level}")
    return int(level)


def _check_positive(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ForecastArgumentError(f"{name} must be a whole number ≥ 1, not {value!r}")
    return value


def _need(models: Sequence[ForecastModel], freq: Frequency) -> tuple[int, str]:
    need, who = 0, ""
    for model in models:
        if model.min_history(freq) > need:
            need, who = model.min_history(freq), model.alias
    return need, f"{who} fits on at least {need} points at {freq.grain} steps"


# ---------------------------------------------------------------------------------------------
# Forecasting


def _failed(series_id: str, alias: str, error: BaseException | str) -> Finding:
    message = str(error).splitlines()[0][:300] if str(error) else type(error).__name__
    return Finding(
        code="energy.forecast.model_failed",
        text=Text(
            f"Model {alias} failed on series {series_id}: {message}. Its columns are left "
            "empty for this series.",
            f"模型 {alias} 在序列 {series_id} 上失败：{message}。该序列的此模型列留空。",
        ),
        data={"series_id": series_id, "model": alias, "error": message},
        severity="warning",
    )


def _columns(alias: str, levels: Sequence[int]) -> list[str]:
    bands = [f"{alias}-{side}-{level}" for level in levels for side in ("lo", "hi")]
    return [alias, *bands]


def _statsforecast(
    data: pd.DataFrame,
    models: Sequence[ForecastModel],
    freq: Frequency,
    h: int,
    levels: Sequence[int],
    n_jobs: int,
) -> pd.DataFrame:
    engine = StatsForecast(
        models=[model.build(freq) for model in models], freq=freq.pandas_freq, n_jobs=n_jobs
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.DataFrame(engine.forecast(h=h, df=data, level=list(levels)))


def _run_one_model(
    frame: pd.DataFrame,
    model: ForecastModel,
    freq: Frequency,
    h: int,
    levels: Sequence[int],
    n_jobs: int,
) -> tuple[pd.DataFrame | None, list[Finding]]:
    """One model over every series; on error, series by series, so the failure is named."""
    try:
        parts = [_statsforecast(frame, [model], freq, h, levels, n_jobs)]
        findings: list[Finding] = []
    except Exception:
        parts, findings = [], []
        for sid, group in frame.groupby("unique_id", sort=True):
            try:
                parts.append(_statsforecast(group, [model], freq, h, levels, 1))
            except Exception as exc:
                findings.append(_failed(str(sid), model.alias, exc))
    if not parts:
        return None, findings
    out = pd.concat(parts, ignore_index=True)
    return out[["unique_id", "ds", *_columns(model.alias, levels)]], findings


def _forecast_frame(
    prepared: _Prepared,
    models: Sequence[ForecastModel],
    h: int,
    levels: Sequence[int],
    n_jobs: int,
) -> tuple[pd.DataFrame, list[Finding]]:
    """Every model in one statsforecast run (one pool of workers); when that raises, model by
    model and then series by series, so each failure is named. A forecast that is not finite
    counts as a failure too: its columns are emptied, never passed on as numbers."""
    freq = prepared.freq
    # The horizon grid of every series, whether or not any model succeeds on it.
    last = prepared.frame.groupby("unique_id", sort=True)["ds"].max()
    grid = pd.DataFrame(
        [(sid, end + freq.step * (step + 1)) for sid, end in last.items() for step in range(h)],
        columns=["unique_id", "ds"],
    )
    findings: list[Finding] = []
    try:
        out = _statsforecast(prepared.frame, models, freq, h, levels, n_jobs)
        grid = grid.merge(out, on=["unique_id", "ds"], how="left")
    except Exception:
        for model in models:
            one, failed = _run_one_model(prepared.frame, model, freq, h, levels, n_jobs)
            findings += failed
            if one is None:
                for column in _columns(model.alias, levels):
                    grid[column] = np.nan
            else:
                grid = grid.merge(one, on=["unique_id", "ds"], how="left")
    for model in models:
        columns = _columns(model.alias, levels)
        bad = grid.groupby("unique_id", sort=True)[model.alias].apply(
            lambda values: bool(np.isfinite(values.to_numpy(dtype=float)).all())
        )
        already = {f.data["series_id"] for f in findings if f.data["model"] == model.alias}
        for sid in bad[~bad].index:
            if str(sid) not in already:
                findings.append(_failed(str(sid), model.alias, "non-finite forecast"))
            grid.loc[grid["unique_id"] == sid, columns] = np.nan
    return grid, findings


def _to_table(frame: pd.DataFrame) -> pa.Table:
    frame = frame.rename(columns={"unique_id": "series_id", "ds": "ts"})
    frame = frame.sort_values(["series_id", "ts"], kind="stable").reset_index(drop=True)
    return pa.Table.from_pandas(frame, preserve_index=False)


def forecast(
    series: pa.Table | pd.DataFrame,
    models: Sequence[ForecastModel] | None = None,
    h: int = 48,
    level: float = 95,
    *,
    n_jobs: int = 1,
    calibration: BacktestResult | None = None,
    floor: float | None = None,
) -> ForecastResult:
    """Forecast every series ``h`` steps past its last timestamp.

    Parameters
    ----------
    series
        Long table ``series_id``, ``ts`` (naive timestamps on a regular 15-minute, hourly or
        daily grid, no gaps) and one value column named with its unit.
    models
        Model objects (default :func:`default_models`); seasonal naive is added when absent.
    h
        Horizon [steps of the series' grain].
    level
        Prediction-interval level [%], strictly between 0 and 100.
    n_jobs
        Worker processes statsforecast uses across series.
    calibration
        A :func:`backtest` of the same series and models (same grain and value column, a
        horizon ≥ ``h``): the bands are then split-conformal, ``ŷ ± q``, ``q`` the
        ``⌈(n + 1)·level/100⌉``-th smallest of the ``n`` absolute backtest errors of the
        series, model and horizon bucket (:func:`conformal_buckets`); a band with too few
        errors is left empty with an ``energy.forecast.conformal_unavailable`` finding.
        Without it the bands are the models' own (``intervals="model"``).
    floor
        A value no outcome can fall below (0 for metered energy, water and PUE, which are
        never negative): forecasts and band bounds below it are raised to it. A band keeps
        its coverage (an outcome inside ``[lo, hi]`` and ≥ ``floor`` is inside
        ``[max(lo, floor), max(hi, floor)]``) and a forecast only gets closer to any such
        outcome.

    Raises
    ------
    ForecastArgumentError, ShortHistoryError, IrregularSeriesError
        Before any fitting: repeated aliases, a level outside (0, 100), a bad horizon, an
        irregular or too short series, a calibration that does not fit.
    """
    models = _check_models(default_models() if models is None else models)
    lvl = _check_level(level)
    h = _check_positive("h", h)
    n_jobs = _check_positive("n_jobs", n_jobs)
    prepared = _prepare(series)
    need, why = _need(models, prepared.freq)
    for sid, length in prepared.lengths.items():
        if length < need:
            raise ShortHistoryError(sid, length, need, why)
    aliases = [model.alias for model in models]
    if calibration is not None:
        _check_calibration(calibration, prepared, aliases, h)
    frame, findings = _forecast_frame(prepared, models, h, (lvl,), n_jobs)
    parameters = {model.alias: model.describe(prepared.freq) for model in models}
    if calibration is not None:
        frame, more = _apply_conformal(frame, calibration, aliases, lvl)
        findings += more
        for alias in aliases:
            parameters[alias] = {
                **parameters[alias],
                "intervals": (
                    f"split conformal: |error| quantile of {calibration.n_windows} backtest "
                    f"window(s) of {calibration.h} steps, per series and horizon bucket"
                ),
            }
    if floor is not None:
        bounds = tuple(f"{a}-{side}-" for a in aliases for side in ("lo", "hi"))
        columns = [str(c) for c in frame.columns if c in aliases or str(c).startswith(bounds)]
        frame[columns] = frame[columns].clip(lower=float(floor))
        for alias in aliases:
            parameters[alias] = {**parameters[alias], "floor": float(floor)}
    return ForecastResult(
        table=_to_table(frame),
        value_column=prepared.value_column,
        grain=prepared.freq.grain,
        h=h,
        level=lvl,
        models=tuple(aliases),
        parameters=parameters,
        findings=tuple(findings),
        intervals="model" if calibration is None else "conformal",
    )


def _check_calibration(
    calibration: BacktestResult, prepared: _Prepared, aliases: Sequence[str], h: int
) -> None:
    if not isinstance(calibration, BacktestResult):
        raise ForecastArgumentError("calibration must be the BacktestResult of backtest()")
    if calibration.value_column != prepared.value_column:
        raise ForecastArgumentError(
            f"calibration is of {calibration.value_column!r}, the series of "
            f"{prepared.value_column!r}"
        )
    if calibration.grain != prepared.freq.grain:
        raise ForecastArgumentError(
            f"calibration is at {calibration.grain} steps, the series at {prepared.freq.grain}"
        )
    if calibration.h < h:
        raise ForecastArgumentError(
            f"calibration covers {calibration.h} steps ahead, fewer than h = {h}; backtest with "
            "the forecast's horizon"
        )
    columns = set(calibration.points.column_names)
    missing = [alias for alias in aliases if alias not in columns]
    if missing:
        raise ForecastArgumentError(f"calibration has no backtest of model(s) {missing}")
    tested = set(calibration.points.column("series_id").to_pylist())
    absent = sorted(set(prepared.lengths) - tested)
    if absent:
        raise ForecastArgumentError(f"calibration has no backtest of series {absent[:5]}")


def _apply_conformal(
    frame: pd.DataFrame, calibration: BacktestResult, aliases: Sequence[str], level: int
) -> tuple[pd.DataFrame, list[Finding]]:
    """``frame``'s ``<alias>-lo/hi-<level>`` replaced by ``ŷ ∓ q``, ``q`` from every window of
    ``calibration``."""
    pts = calibration.points.select(["series_id", calibration.value_column, "step", *aliases])
    cal = pts.to_pandas().rename(columns={"series_id": "unique_id", calibration.value_column: "y"})
    table = _conformal_table(cal, aliases, calibration.h, (level,), calibration.n_windows)
    buckets = conformal_buckets(calibration.h, calibration.n_windows)
    frame = frame.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
    frame["step"] = frame.groupby("unique_id", sort=False).cumcount() + 1
    findings: list[Finding] = []
    for alias in aliases:
        half = _conformal_half_widths(frame, table, alias, level, buckets)
        centre = frame[alias].to_numpy(dtype=float)
        frame[f"{alias}-lo-{level}"] = centre - half
        frame[f"{alias}-hi-{level}"] = centre + half
        lacking = np.isfinite(centre) & ~np.isfinite(half)
        for sid in pd.unique(frame.loc[lacking, "unique_id"]):
            counts = table.loc[(table["unique_id"] == sid) & (table["model"] == alias), "scores"]
            scores = int(counts.min()) if len(counts) else 0
            findings.append(_conformal_unavailable(str(sid), alias, level, scores))
    return frame.drop(columns=["step"]), findings


@dataclass(frozen=True)
class FittedForecast:
    """Models fitted on a series table (in memory only: statsforecast's fitted state is not
    JSON and is never pickled here; refit from the data instead)."""

    _engine: Any = field(repr=False)
    value_column: str
    grain: Grain
    models: tuple[str, ...]

    def predict(self, h: int, level: float = 95) -> pa.Table:
        """The next ``h`` steps, with the columns :func:`forecast` gives."""
        h = _check_positive("h", h)
        lvl = _check_level(level)
        out = pd.DataFrame(self._engine.predict(h=h, level=[lvl]))
        return _to_table(out)


def fit(
    series: pa.Table | pd.DataFrame, models: Sequence[ForecastModel] | None = None
) -> FittedForecast:
    """Fit the models on every series (same checks as :func:`forecast`); a model that fails
    raises here: use :func:`forecast` for per-series failure reports."""
    models = _check_models(default_models() if models is None else models)
    prepared = _prepare(series)
    need, why = _need(models, prepared.freq)
    for sid, length in prepared.lengths.items():
        if length < need:
            raise ShortHistoryError(sid, length, need, why)
    engine = StatsForecast(
        models=[model.build(prepared.freq) for model in models],
        freq=prepared.freq.pandas_freq,
        n_jobs=1,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        engine.fit(prepared.frame)
    return FittedForecast(
        engine, prepared.value_column, prepared.freq.grain, tuple(m.alias for m in models)
    )


# ---------------------------------------------------------------------------------------------
# Backtesting


def _note(code: str, en: str, zh: str, data: Mapping[str, Any]) -> Finding:
    return Finding(code=code, text=Text(en, zh), data=dict(data), severity="info")


def _scores(
    actual: np.ndarray, predicted: np.ndarray
) -> tuple[float | None, float | None, float | None, str | None]:
    """MAE, MAPE [%], CV(RMSE) [%] and the reason a score is missing (or None)."""
    if not np.isfinite(predicted).all():
        return None, None, None, "model_failed"
    error = actual - predicted
    mae = float(np.mean(np.abs(error)))
    rmse = float(np.sqrt(np.mean(error**2)))
    mean = float(np.mean(actual))
    note = None
    if np.any(actual == 0):
        mape = None
        note = "mape_zero_actual"
    else:
        mape = float(100.0 * np.mean(np.abs(error / actual)))
    if mean == 0:
        cv = None
        note = note or "cv_rmse_zero_mean"
    else:
        cv = 100.0 * rmse / mean
    return mae, mape, cv, note


# ---------------------------------------------------------------------------------------------
# Split-conformal prediction intervals

#: The fewest calibration scores a horizon bucket is given when the horizon is split (see
#: :func:`conformal_buckets`): with 40, the 95 % half-width is the 39th smallest of 40
#: absolute errors, the 80 % one the 33rd.
CONFORMAL_MIN_SCORES = 40

#: The levels [%] whose empirical coverage :func:`backtest` reports by default.
COVERAGE_LEVELS: tuple[int, ...] = (80, 95)


def conformal_needed(level: int) -> int:
    """The fewest calibration scores ``n`` for which the split-conformal quantile of ``level``
    [%] is finite: ``⌈(n + 1)·level/100⌉ ≤ n`` ⇔ ``n ≥ level / (100 − level)`` (19 for 95 %,
    4 for 80 %, 99 for 99 %)."""
    return -(-level // (100 - level))


def conformal_buckets(
    h: int, windows: int, min_scores: int = CONFORMAL_MIN_SCORES
) -> tuple[tuple[int, int], ...]:
    """The horizon steps ``1 … h`` split into consecutive buckets ``(first, last)`` of
    (nearly) equal width: as many as leave each bucket ``windows × width ≥ min_scores``
    calibration scores per series, at least one (then it holds all ``windows × h``), at most
    ``h`` (one per step)."""
    count = max(1, min(h, (windows * h) // min_scores))
    while count > 1 and windows * (h // count) < min_scores:
        count -= 1
    parts = np.array_split(np.arange(1, h + 1), count)
    return tuple((int(part[0]), int(part[-1])) for part in parts)


def _bucket_index(buckets: Sequence[tuple[int, int]], h: int) -> np.ndarray:
    index = np.full(h + 1, -1, dtype=np.int64)
    for b, (first, last) in enumerate(buckets):
        index[first : last + 1] = b
    return index


def _conformal_table(
    pts: pd.DataFrame,
    aliases: Sequence[str],
    h: int,
    levels: Sequence[int],
    windows: int,
) -> pd.DataFrame:
    """Split-conformal half-widths per series, model, horizon bucket and level from the
    backtest points ``pts`` (``unique_id``, ``y``, ``step`` 1…h, a column per alias).

    The score of a point is ``|y − ŷ|``; the half-width of level ``L`` over a bucket's ``n``
    finite scores is the ``⌈(n + 1)·L/100⌉``-th smallest (NaN when that exceeds ``n``)."""
    buckets = conformal_buckets(h, windows)
    bucket = _bucket_index(buckets, h)[pts["step"].to_numpy(dtype=np.int64)]
    actual = pts["y"].to_numpy(dtype=float)
    rows: list[dict[str, Any]] = []
    for alias in aliases:
        scores = pd.DataFrame(
            {
                "unique_id": pts["unique_id"].to_numpy(),
                "bucket": bucket,
                "score": np.abs(actual - pts[alias].to_numpy(dtype=float)),
            }
        )
        scores = scores[np.isfinite(scores["score"].to_numpy())]
        for (sid, b), group in scores.groupby(["unique_id", "bucket"], sort=True):
            ranked = np.sort(group["score"].to_numpy())
            n = len(ranked)
            first, last = buckets[int(b)]
            for level in levels:
                rank = -(-(n + 1) * level // 100)
                rows.append(
                    {
                        "unique_id": str(sid),
                        "model": alias,
                        "level": int(level),
                        "bucket": int(b),
                        "first_step": first,
                        "last_step": last,
                        "scores": n,
                        "half_width": float(ranked[rank - 1]) if rank <= n else np.nan,
                    }
                )
    columns = ["unique_id", "model", "level", "bucket", "first_step", "last_step", "scores"]
    return pd.DataFrame(rows, columns=[*columns, "half_width"])


def _conformal_half_widths(
    frame: pd.DataFrame,
    table: pd.DataFrame,
    alias: str,
    level: int,
    buckets: Sequence[tuple[int, int]],
) -> np.ndarray:
    """The half-width of every row of ``frame`` (``unique_id``, ``step``) for ``alias`` and
    ``level`` from a :func:`_conformal_table` (NaN where it has none)."""
    h = buckets[-1][1]
    steps = frame["step"].to_numpy(dtype=np.int64)
    bucket = _bucket_index(buckets, h)[np.clip(steps, 0, h)]
    chosen = table[(table["model"] == alias) & (table["level"] == level)]
    lookup = chosen.set_index(["unique_id", "bucket"])["half_width"]
    keys = pd.MultiIndex.from_arrays([frame["unique_id"].astype(str).to_numpy(), bucket])
    return lookup.reindex(keys).to_numpy(dtype=float)


def _conformal_unavailable(sid: str, alias: str, level: int, scores: int) -> Finding:
    need = conformal_needed(level)
    return Finding(
        code="energy.forecast.conformal_unavailable",
        text=Text(
            f"No {level} % conformal band for {alias} on {sid}: {scores} calibration "
            f"error(s) in a horizon bucket, {need} needed. The band is left empty; backtest "
            "with more windows.",
            f"{sid} 上 {alias} 无 {level}% 保形区间：某预测步区间只有 {scores} 个校准误差，"
            f"需要 {need} 个。区间留空；请增加回测窗口。",
        ),
        data={"series_id": sid, "model": alias, "level": level, "scores": scores, "need": need},
        severity="warning",
    )


def backtest(
    series: pa.Table | pd.DataFrame,
    models: Sequence[ForecastModel] | None = None,
    h: int = 48,
    n_windows: int = 3,
    step: int | None = None,
    *,
    level: float = 95,
    coverage_levels: Sequence[float] = COVERAGE_LEVELS,
    n_jobs: int = 1,
) -> BacktestResult:
    """Rolling-origin backtest: ``n_windows`` forecasts of ``h`` steps, the last ending at the
    last timestamp of each series, the cutoffs ``step`` steps apart (default ``h``).

    Window ``k`` (0 = earliest) of a series of ``n`` points is fitted on its first
    ``n − h − (n_windows − 1 − k)·step`` points only (the models are refitted at each cutoff)
    and scored on the next ``h``. See :class:`BacktestResult` for the tables.

    The bands of ``level`` and ``coverage_levels`` [%] are scored too: the models' own, over
    every window, and the split-conformal ones, window ``k ≥ 1`` calibrated on the errors of
    windows ``0 … k − 1`` known at its cutoff (so no window's band sees a later actual). The
    result's ``calibration`` (from every window) gives :func:`forecast` its conformal bands.

    Raises
    ------
    ForecastArgumentError, ShortHistoryError, IrregularSeriesError
        Before any fitting, as :func:`forecast`; a series too short for the earliest window.
    """
    models = _check_models(default_models() if models is None else models)
    lvl = _check_level(level)
    levels = tuple(sorted({lvl, *(_check_level(v) for v in coverage_levels)}))
    h = _check_positive("h", h)
    n_windows = _check_positive("n_windows", n_windows)
    step = h if step is None else _check_positive("step", step)
    n_jobs = _check_positive("n_jobs", n_jobs)
    prepared = _prepare(series)
    need, why = _need(models, prepared.freq)
    span = h + (n_windows - 1) * step
    for sid, count in prepared.lengths.items():
        if count - span < need:
            raise ShortHistoryError(
                sid, count, need + span, f"{why}, plus {span} for {n_windows} window(s)"
            )
    benchmark = next(m.alias for m in models if isinstance(m, SeasonalNaiveModel))
    frame = prepared.frame
    position = frame.groupby("unique_id", sort=True).cumcount()
    length = frame["unique_id"].map(prepared.lengths)
    findings: list[Finding] = []
    points: list[pd.DataFrame] = []
    for k in range(n_windows):
        train_end = length - span + k * step  # points in the fit, per row's series
        train = frame[position < train_end]
        test = frame[(position >= train_end) & (position < train_end + h)]
        cutoffs = train.groupby("unique_id")["ds"].max().rename("cutoff")
        sub = _Prepared(
            train.reset_index(drop=True),
            prepared.value_column,
            prepared.freq,
            {str(sid): int(n) for sid, n in train.groupby("unique_id").size().items()},
        )
        out, failed = _forecast_frame(sub, models, h, levels, n_jobs)
        for finding in failed:
            data = {**finding.data, "window": k}
            findings.append(Finding(finding.code, finding.text, data, finding.severity))
        window = test.merge(out, on=["unique_id", "ds"], how="left").merge(
            cutoffs, left_on="unique_id", right_index=True
        )
        window["window"] = k
        points.append(window)
    pts = pd.concat(points, ignore_index=True)
    pts["step"] = pts.groupby(["unique_id", "window"], sort=False).cumcount() + 1
    aliases = [m.alias for m in models]
    errors, summary = _error_tables(pts, models, benchmark, findings)
    pts = _sequential_conformal(pts, aliases, h, levels, n_windows)
    coverage = _coverage_table(pts, aliases, levels, n_windows)
    calibration = _conformal_table(pts, aliases, h, levels, n_windows)
    pts = pts.rename(columns={"unique_id": "series_id", "ds": "ts", "y": prepared.value_column})
    return BacktestResult(
        points=pa.Table.from_pandas(pts, preserve_index=False),
        errors=errors,
        summary=summary,
        value_column=prepared.value_column,
        grain=prepared.freq.grain,
        h=h,
        n_windows=n_windows,
        step=step,
        benchmark=benchmark,
        levels=levels,
        coverage=coverage,
        calibration=_calibration_arrow(calibration),
        findings=tuple(findings),
    )


def _conformal_columns(alias: str, level: int) -> tuple[str, str]:
    return f"{alias}-conformal-lo-{level}", f"{alias}-conformal-hi-{level}"


def _sequential_conformal(
    pts: pd.DataFrame, aliases: Sequence[str], h: int, levels: Sequence[int], n_windows: int
) -> pd.DataFrame:
    """``pts`` with the conformal band of every window ``k ≥ 1`` (``<alias>-conformal-lo-<L>``
    / ``-hi-``), calibrated on the points of windows ``< k`` whose actual is known at window
    ``k``'s cutoff (window 0 has none: NaN)."""
    pts = pts.copy()
    for alias in aliases:
        for level in levels:
            for column in _conformal_columns(alias, level):
                pts[column] = np.nan
    for k in range(1, n_windows):
        target = (pts["window"] == k).to_numpy()
        rows = pts[target]
        cut = rows.groupby("unique_id", sort=False)["cutoff"].first()
        before = pts[(pts["window"] < k).to_numpy()]
        before = before[before["ds"].to_numpy() <= before["unique_id"].map(cut).to_numpy()]
        table = _conformal_table(before, aliases, h, levels, k)
        buckets = conformal_buckets(h, k)
        for alias in aliases:
            centre = rows[alias].to_numpy(dtype=float)
            for level in levels:
                half = _conformal_half_widths(rows, table, alias, level, buckets)
                lo, hi = _conformal_columns(alias, level)
                pts.loc[target, lo] = centre - half
                pts.loc[target, hi] = centre + half
    return pts


def _coverage_table(
    pts: pd.DataFrame, aliases: Sequence[str], levels: Sequence[int], n_windows: int
) -> pa.Table:
    """The share of actuals inside each band, per series and over all series (``series_id``
    null), per model, interval kind (``model`` / ``conformal``) and level."""
    actual = pts["y"].to_numpy(dtype=float)
    rows: list[dict[str, Any]] = []
    for alias in aliases:
        for level in levels:
            kinds = {
                "model": (f"{alias}-lo-{level}", f"{alias}-hi-{level}", n_windows),
                "conformal": (*_conformal_columns(alias, level), n_windows - 1),
            }
            for kind, (lo_col, hi_col, windows) in kinds.items():
                lo = pts[lo_col].to_numpy(dtype=float)
                hi = pts[hi_col].to_numpy(dtype=float)
                has = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(actual)
                inside = has & (actual >= lo) & (actual <= hi)
                counts = (
                    pd.DataFrame({"unique_id": pts["unique_id"], "has": has, "inside": inside})
                    .groupby("unique_id", sort=True)[["has", "inside"]]
                    .sum()
                )
                groups: list[tuple[str | None, int, int]] = [
                    (str(sid), int(row.has), int(row.inside)) for sid, row in counts.iterrows()
                ]
                groups.append((None, int(has.sum()), int(inside.sum())))
                for sid, points, covered in groups:
                    rows.append(
                        {
                            "series_id": sid,
                            "model": alias,
                            "interval": kind,
                            "level": level,
                            "windows": windows,
                            "points": points,
                            "covered": covered,
                            "coverage": covered / points if points else None,
                        }
                    )
    schema = pa.schema(
        [
            ("series_id", pa.string()),
            ("model", pa.string()),
            ("interval", pa.string()),
            ("level", pa.int64()),
            ("windows", pa.int64()),
            ("points", pa.int64()),
            ("covered", pa.int64()),
            ("coverage", pa.float64()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def _calibration_arrow(table: pd.DataFrame) -> pa.Table:
    frame = table.drop(columns=["bucket"]).rename(columns={"unique_id": "series_id"})
    schema = pa.schema(
        [
            ("series_id", pa.string()),
            ("model", pa.string()),
            ("level", pa.int64()),
            ("first_step", pa.int64()),
            ("last_step", pa.int64()),
            ("scores", pa.int64()),
            ("half_width", pa.float64()),
        ]
    )
    return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)


_NOTES = {
    "mape_zero_actual": (
        "MAPE of {model} on {series} is not defined: an actual value is 0.",
        "{series} 上 {model} 的 MAPE 无定义：存在实际值为 0。",
    ),
    "cv_rmse_zero_mean": (
        "CV(RMSE) of {model} on {series} is not defined: the mean actual value is 0.",
        "{series} 上 {model} 的 CV(RMSE) 无定义：实际值均值为 0。",
    ),
    "skill_zero_benchmark": (
        "Skill of {model} on {series} is not defined: seasonal naive has MAE 0 or failed.",
        "{series} 上 {model} 的技巧分无定义：季节朴素基准的 MAE 为 0 或失败。",
    ),
}


def _error_tables(
    pts: pd.DataFrame,
    models: Sequence[ForecastModel],
    benchmark: str,
    findings: list[Finding],
) -> tuple[pa.Table, pa.Table]:
    rows: list[dict[str, Any]] = []
    noted: set[tuple[str, str, str]] = set()

    def note(code: str, sid: str, alias: str, cutoff: Any) -> None:
        if code == "model_failed" or (code, sid, alias) in noted:
            return
        noted.add((code, sid, alias))
        en, zh = _NOTES[code]
        findings.append(
            _note(
                f"energy.forecast.{code}",
                en.format(model=alias, series=sid),
                zh.format(model=alias, series=sid),
                {"series_id": sid, "model": alias, "cutoff": _json_value(cutoff)},
            )
        )

    def score(group: pd.DataFrame, sid: str, cutoff: Any, windows: int) -> None:
        actual = group["y"].to_numpy(dtype=float)
        base_mae, *_ = _scores(actual, group[benchmark].to_numpy(dtype=float))
        for model in models:
            mae, mape, cv, why = _scores(actual, group[model.alias].to_numpy(dtype=float))
            if why:
                note(why, sid, model.alias, cutoff)
            skill = None
            if mae is not None and base_mae:
                skill = 1.0 - mae / base_mae
            elif mae is not None:
                note("skill_zero_benchmark", sid, model.alias, cutoff)
            rows.append(
                {
                    "series_id": sid,
                    "model": model.alias,
                    "cutoff": cutoff,
                    "windows": windows,
                    "points": len(actual),
                    "mae": mae,
                    "mape_pct": mape,
                    "cv_rmse_pct": cv,
                    "skill_mae": skill,
                }
            )

    for (sid, cutoff), group in pts.groupby(["unique_id", "cutoff"], sort=True):
        score(group, str(sid), cutoff, 1)
    errors = pd.DataFrame(rows)
    rows = []
    for sid, group in pts.groupby("unique_id", sort=True):
        score(group, str(sid), None, int(group["window"].nunique()))
    summary = pd.DataFrame(rows)
    schema = pa.schema(
        [
            ("series_id", pa.string()),
            ("model", pa.string()),
            ("cutoff", pa.timestamp("us")),
            ("windows", pa.int64()),
            ("points", pa.int64()),
            ("mae", pa.float64()),
            ("mape_pct", pa.float64()),
            ("cv_rmse_pct", pa.float64()),
            ("skill_mae", pa.float64()),
        ]
    )
    summary["cutoff"] = pd.NaT
    return (
        pa.Table.from_pandas(errors, schema=schema, preserve_index=False),
        pa.Table.from_pandas(summary, schema=schema, preserve_index=False),
    )


# ---------------------------------------------------------------------------------------------
# From rollups to series (pure; the workspace adapters in ``forecast_workspace`` call these)

#: Default history fitted on, per grain [steps]: 14 days of 15-minute data, 8 weeks of hourly
#: data (8 weekly cycles for MSTL), two years of daily data.
DEFAULT_HISTORY: Mapping[Grain, int] = {"15min": 14 * 96, "hour": 8 * 168, "day": 730}

#: IT energy roles, most downstream first (alias of :data:`esgledger.energy.roles.IT_ROLES`).
IT_ROLES_BY_PREFERENCE: tuple[str, ...] = IT_ROLES

_SPAN_UNITS = {"min": "min", "h": "h", "d": "D", "w": "W"}


def parse_span(text: str) -> pd.Timedelta:
    """``"48h"``, ``"7d"``, ``"2w"``, ``"90min"`` as a duration."""
    raw = text.strip().lower()
    for suffix in ("min", "h", "d", "w"):
        number = raw[: -len(suffix)]
        if raw.endswith(suffix) and number.isdigit() and int(number) > 0:
            return pd.Timedelta(int(number), unit=_SPAN_UNITS[suffix])  # type: ignore[arg-type]
    raise ForecastArgumentError(
        f"cannot read the span {text!r}; write a whole number and a unit: 90min, 48h, 7d, 2w"
    )


def span_steps(span: str | pd.Timedelta, grain: Grain) -> int:
    """A span as a whole number of steps of ``grain`` (refused when it does not divide)."""
    delta = parse_span(span) if isinstance(span, str) else span
    step = FREQUENCIES[grain].step
    steps, rest = divmod(delta, step)
    if rest or steps < 1:
        raise ForecastArgumentError(f"{delta} is not a whole number of {grain} steps")
    return int(steps)


def _latest_complete_stretch(
    frame: pd.DataFrame, freq: Frequency, history: int, sid: str, what: Text
) -> tuple[pd.DataFrame, list[Finding]]:
    """The last ``history`` points after the latest incomplete or missing period."""
    frame = frame.sort_values("ts").reset_index(drop=True)
    findings: list[Finding] = []
    bad = ~frame["complete"].to_numpy(dtype=bool)
    steps = frame["ts"].diff().to_numpy()
    breaks = np.flatnonzero(
        bad | (steps[:] != np.timedelta64(freq.step)) & (np.arange(len(frame)) > 0)
    )
    start = 0
    if len(breaks):
        last = int(breaks[-1])
        start = last + 1 if bad[last] else last
        findings.append(
            Finding(
                code="energy.forecast.history_cut",
                text=Text(
                    f"{what.en} {sid}: history starts after the latest missing or incomplete "
                    f"period ({frame['ts'].iloc[last]}); earlier data are not used.",
                    f"{what.zh} {sid}：历史数据从最近一次缺失或不完整时段"
                    f"（{frame['ts'].iloc[last]}）之后开始，之前的数据未使用。",
                ),
                data={"series_id": sid, "break_at": str(frame["ts"].iloc[last])},
                severity="info",
            )
        )
    kept = frame.iloc[start:]
    if len(kept) > history:
        kept = kept.iloc[len(kept) - history :]
    return kept, findings


def meter_series(
    rollup: pa.Table, grain: Grain, *, history: int | None = None
) -> tuple[pa.Table, tuple[Finding, ...]]:
    """Series of meter energy from an ``energy.rollups.rollup`` table of one ``grain``.

    ``series_id`` is the meter; ``ts`` is ``period_start_utc`` (UTC, naive) for 15-minute and
    hourly grains, ``period_local`` (the site's local calendar day) for days; the value is
    ``energy_kwh``. Only ``kWh`` meters are taken (water meters get a finding). A period is
    complete when its quantity is known and its coverage is 1; each series is cut to the
    ``history`` points (default :data:`DEFAULT_HISTORY`) after its latest incomplete or
    missing period, with an ``energy.forecast.history_cut`` finding; nothing is filled.
    """
    if grain not in FREQUENCIES:
        raise ForecastArgumentError(f"grain must be one of {', '.join(FREQUENCIES)}")
    freq = FREQUENCIES[grain]
    history = DEFAULT_HISTORY[grain] if history is None else _check_positive("history", history)
    frame = rollup.to_pandas()
    findings: list[Finding] = []
    skipped = sorted(frame.loc[frame["unit"] != "kWh", "meter"].astype(str).unique())
    if skipped:
        findings.append(
            Finding(
                code="energy.forecast.not_energy",
                text=Text(
                    f"Meters not in kWh are not forecast here: {', '.join(skipped)}.",
                    f"非 kWh 计量表不在此预测：{', '.join(skipped)}。",
                ),
                data={"meters": skipped},
                severity="info",
            )
        )
    frame = frame[frame["unit"] == "kWh"]
    time_column = "period_local" if grain == "day" else "period_start_utc"
    frame = pd.DataFrame(
        {
            "series_id": frame["meter"].astype(str),
            "ts": pd.to_datetime(frame[time_column]),
            "energy_kwh": frame["quantity"].astype(float),
            "complete": frame["quantity"].notna() & (frame["coverage"].astype(float) >= 1.0),
        }
    )
    parts: list[pd.DataFrame] = []
    what = Text("Meter", "计量表")
    for sid, group in frame.groupby("series_id", sort=True):
        kept, cut = _latest_complete_stretch(group, freq, history, str(sid), what)
        findings += cut
        if len(kept):
            parts.append(kept[["series_id", "ts", "energy_kwh"]])
    out = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(
            {"series_id": [], "ts": pd.Series([], dtype="datetime64[us]"), "energy_kwh": []}
        )
    )
    return pa.Table.from_pandas(out, preserve_index=False), tuple(findings)


class PueMeter(Protocol):
    """What :func:`daily_pue_series` reads of a meter of the tree: its id, site, role and
    parent's id (:class:`esgledger.energy.meters.Meter` has them)."""

    @property
    def meter(self) -> str: ...
    @property
    def site(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def parent(self) -> str | None: ...


def daily_pue_series(
    rollup_day: pa.Table, meters: Sequence[PueMeter], *, history: int | None = None
) -> tuple[pa.Table, tuple[Finding, ...]]:
    """Daily PUE per site from a daily ``rollup`` table and the sites' meter trees:
    ``pue`` = E_DC / E_IT, where E_DC is the kWh of the top ``incomer`` meters and E_IT the kWh
    of the top meters of the most downstream IT role the site reads (``it_input``, else
    ``pdu_output``, else ``ups_output``; the PUE category 3, 2 or 1 of ISO/IEC 30134-2).

    Only the **top** meters of a role are summed (:func:`esgledger.energy.roles.top_meters`:
    those with no ancestor of the same role), so a sub-meter under a meter of its own role
    (an ``it_input`` meter under an ``it_input`` meter) is not counted twice — as
    ``energy.kpi`` and ``energy.balance`` sum them.

    This is the simple ratio for a forecastable daily series: on-site generation, non-DC
    loads behind the incomer and the measurement-category rules are the KPI module's
    (``energy.kpi``), which owns the PUE of record. A day counts only when every top meter of
    those roles has a complete day (quantity known, coverage 1) and E_IT > 0; the series is
    cut after the latest day that is not (``energy.forecast.history_cut``). ``series_id`` is
    the site, ``ts`` the local calendar day.

    Raises
    ------
    ForecastArgumentError
        When a meter of the rollup is not in ``meters`` (the tree must be the rollup's).
    """
    history = DEFAULT_HISTORY["day"] if history is None else _check_positive("history", history)
    frame = rollup_day.to_pandas()
    known = {m.meter for m in meters}
    stray = sorted(set(frame["meter"].astype(str)) - known)
    if stray:
        raise ForecastArgumentError(
            f"meter(s) {', '.join(stray)} of the daily rollup are not in the meter tree given; "
            "pass the meters of the same workspace (energy.meters.load_meters)"
        )
    freq = FREQUENCIES["day"]
    findings: list[Finding] = []
    parts: list[pd.DataFrame] = []
    what = Text("Site PUE", "站点 PUE")
    for site, rows in frame.groupby("site", sort=True):
        sid = str(site)
        tops = top_meters([m for m in meters if m.site == sid])
        roles = set(rows["role"])
        it_role = best_it_role(roles)
        if "incomer" not in roles or it_role is None:
            findings.append(
                Finding(
                    code="energy.forecast.pue_unmetered",
                    text=Text(
                        f"Site {sid}: no daily PUE without incomer and IT meters.",
                        f"站点 {sid}：缺少进线或 IT 计量表，无法计算日 PUE。",
                    ),
                    data={"site": sid, "roles": sorted(roles)},
                )
            )
            continue
        counted = {role: [m.meter for m in tops.get(role, [])] for role in ("incomer", it_role)}
        nested = sorted(
            set(rows.loc[rows["role"].isin(counted), "meter"].astype(str))
            - {m for ids in counted.values() for m in ids}
        )
        if nested:
            findings.append(
                Finding(
                    code="energy.forecast.pue_sub_meters",
                    text=Text(
                        f"Site {sid}: sub-meters below a meter of their own role are not added "
                        f"again to the daily PUE: {', '.join(nested)}.",
                        f"站点 {sid}：位于同角色上级表之下的子表不重复计入日 PUE："
                        f"{', '.join(nested)}。",
                    ),
                    data={"site": sid, "meters": nested},
                    severity="info",
                )
            )
        rows = rows[rows["meter"].isin(counted["incomer"] + counted[it_role])]
        expected = {role: len(ids) for role, ids in counted.items()}
        rows = rows.assign(
            day=pd.to_datetime(rows["period_local"]).dt.normalize(),
            ok=rows["quantity"].notna() & (rows["coverage"].astype(float) >= 1.0),
        )
        days = []
        for day, one in rows.groupby("day", sort=True):
            e_dc = one.loc[one["role"] == "incomer", "quantity"].sum()
            e_it = one.loc[one["role"] == it_role, "quantity"].sum()
            counts = one.groupby("role")["meter"].nunique()
            complete = bool(
                one["ok"].all() and all(counts.get(r, 0) == n for r, n in expected.items())
            )
            complete = complete and e_it > 0
            days.append((day, float(e_dc / e_it) if complete else np.nan, complete))
        table = pd.DataFrame(days, columns=["ts", "pue", "complete"])
        table["series_id"] = sid
        kept, cut = _latest_complete_stretch(table, freq, history, sid, what)
        findings += cut
        if len(kept):
            parts.append(kept[["series_id", "ts", "pue"]])
    out = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame({"series_id": [], "ts": pd.Series([], dtype="datetime64[us]"), "pue": []})
    )
    return pa.Table.from_pandas(out, preserve_index=False), tuple(findings)


def required_history(
    models: Sequence[ForecastModel] | None,
    grain: Grain,
    *,
    h: int = 1,
    n_windows: int = 0,
    step: int | None = None,
) -> int:
    """The fewest points a series needs for ``models`` at ``grain`` (plus ``n_windows``
    backtest windows of ``h`` steps, ``step`` apart), as :func:`forecast` and :func:`backtest`
    check it."""
    checked = _check_models(default_models() if models is None else models)
    need, _ = _need(checked, FREQUENCIES[grain])
    if n_windows:
        need += h + (n_windows - 1) * (h if step is None else step)
    return need


def drop_short(series: pa.Table, need: int, what: Text) -> tuple[pa.Table, tuple[Finding, ...]]:
    """``series`` without the series shorter than ``need`` points, each named in an
    ``energy.forecast.short_history`` finding (the workspace adapters forecast the rest)."""
    frame = series.to_pandas()
    counts = frame.groupby("series_id").size()
    short = counts[counts < need]
    findings = tuple(
        Finding(
            code="energy.forecast.short_history",
            text=Text(
                f"{what.en} {sid}: {int(n)} complete points, {need} needed; not forecast.",
                f"{what.zh} {sid}：完整数据点 {int(n)} 个，需要 {need} 个；未预测。",
            ),
            data={"series_id": str(sid), "points": int(n), "need": need},
        )
        for sid, n in short.items()
    )
    kept = frame[~frame["series_id"].isin(short.index)]
    return pa.Table.from_pandas(kept, preserve_index=False), findings


# ---------------------------------------------------------------------------------------------
# Workspace adapters


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
    tested = None
    if backtest_windows:
        tested = backtest(series, models, h, backtest_windows, level=level, n_jobs=n_jobs)
        found += tested.findings
    # metered quantities and PUE are never negative
    result = forecast(series, models, h, level, n_jobs=n_jobs, calibration=tested, floor=0.0)
    found += result.findings
    if tested is None:
        found += (
            Finding(
                code="energy.forecast.bands_model_based",
                text=Text(
                    "The prediction bands are the models' own: in backtests the nominal 95 % "
                    "bands of MSTL and AutoETS held only 83-84 % of the outcomes. Backtest "
                    "(at least one window) for split-conformal bands that hold their level.",
                    "预测区间为模型自身区间：回测中 MSTL 与 AutoETS 的名义 95% 区间仅覆盖 "
                    "83-84% 的实际值。进行回测（至少一个窗口）可得到保持覆盖率的分裂保形区间。",
                ),
                data={"intervals": "model"},
                severity="info",
            ),
        )
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
    backtests with that many windows of ``h`` steps and makes the bands split-conformal,
    calibrated on that backtest (else they are the models' own, with an
    ``energy.forecast.bands_model_based`` finding).
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
    series, findings = daily_pue_series(table, load_meters(ws, site=site), history=history)
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
