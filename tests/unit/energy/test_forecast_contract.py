"""The forecast contract, for every model: arguments are checked before any fitting, fit +
predict equals forecast, no backtest window sees data after its cutoff, runs repeat exactly,
and a model that fails on a series is reported for that series, never replaced."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from _energy_forecast import hourly_series
from esgledger.energy.forecast import (
    FREQUENCIES,
    AutoETSModel,
    ForecastArgumentError,
    Frequency,
    IrregularSeriesError,
    MSTLModel,
    SeasonalNaiveModel,
    ShortHistoryError,
    backtest,
    fit,
    forecast,
)
from esgledger.errors import EsgledgerError

MODELS = [MSTLModel(), AutoETSModel(), SeasonalNaiveModel()]
IDS = [m.alias for m in MODELS]


class SpyModel:
    """A model that records being built: argument errors must come before any build."""

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self.built = 0

    def build(self, freq: Frequency) -> Any:
        self.built += 1
        return SeasonalNaiveModel(alias=self.alias).build(freq)

    def min_history(self, freq: Frequency) -> int:
        return SeasonalNaiveModel().min_history(freq)

    def describe(self, freq: Frequency) -> dict[str, Any]:
        return {"method": "spy"}


@pytest.fixture(scope="module")
def series() -> pd.DataFrame:
    return hourly_series(("m1", "m2"), weeks=5)


# -- arguments ---------------------------------------------------------------------------------


@pytest.mark.parametrize("level", [0, 100, -5, 150, 95.5, True])
def test_level_outside_0_100_is_refused_before_fitting(series: pd.DataFrame, level: Any) -> None:
    spy = SpyModel("Spy")
    with pytest.raises(ForecastArgumentError):
        forecast(series, [spy], h=4, level=level)
    assert spy.built == 0


def test_repeated_aliases_are_refused_before_fitting(series: pd.DataFrame) -> None:
    one, two = SpyModel("Same"), SpyModel("Same")
    with pytest.raises(ForecastArgumentError, match="unique"):
        forecast(series, [one, two], h=4)
    assert one.built == two.built == 0


def test_alias_of_the_benchmark_cannot_be_taken(series: pd.DataFrame) -> None:
    with pytest.raises(ForecastArgumentError, match="SeasonalNaive"):
        forecast(series, [SpyModel("SeasonalNaive")], h=4)


def test_too_short_for_the_windows_is_refused_before_fitting(series: pd.DataFrame) -> None:
    spy = SpyModel("Spy")
    # 5 weeks = 840 points; seasonal naive needs 169, so 30 windows of 24 h (719 more) fail.
    with pytest.raises(ShortHistoryError) as caught:
        backtest(series, [spy], h=24, n_windows=30)
    assert spy.built == 0
    assert caught.value.have == 840
    assert caught.value.need == 169 + 24 + 29 * 24
    assert isinstance(caught.value, EsgledgerError)
    assert isinstance(caught.value, ValueError)


def test_enough_history_for_exactly_the_windows_is_accepted(series: pd.DataFrame) -> None:
    # 27 windows need 169 + 24 + 26·24 = 817 ≤ 840 points; 28 need 841.
    backtest(series[series["series_id"] == "m1"], [SeasonalNaiveModel()], h=24, n_windows=27)
    with pytest.raises(ShortHistoryError) as caught:
        backtest(series, [SeasonalNaiveModel()], h=24, n_windows=28)
    assert caught.value.need == 841


def test_mstl_needs_two_weekly_cycles() -> None:
    short = hourly_series(("m1",), weeks=2)  # 336 points < 2·168 + 1
    with pytest.raises(ShortHistoryError, match="MSTL"):
        forecast(short, [MSTLModel()], h=4)


def test_a_gap_is_refused_not_filled(series: pd.DataFrame) -> None:
    holed = series.drop(index=[10])
    with pytest.raises(IrregularSeriesError, match="m1"):
        forecast(holed, [SeasonalNaiveModel()], h=4)
    missing = series.copy()
    missing.loc[20, "energy_kwh"] = np.nan
    with pytest.raises(IrregularSeriesError, match="missing"):
        forecast(missing, [SeasonalNaiveModel()], h=4)


def test_one_unit_named_value_column_is_required(series: pd.DataFrame) -> None:
    with pytest.raises(ForecastArgumentError, match="exactly one value column"):
        forecast(series.assign(extra=1.0), [SeasonalNaiveModel()], h=4)


def test_an_unsupported_step_is_refused() -> None:
    odd = hourly_series(("m1",), weeks=5)
    odd["ts"] = pd.date_range("2024-01-01", periods=len(odd), freq="30min")
    with pytest.raises(IrregularSeriesError, match="unsupported step"):
        forecast(odd, [SeasonalNaiveModel()], h=4)


# -- the contract, per model ------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_fit_then_predict_equals_forecast(series: pd.DataFrame, model: Any) -> None:
    one_shot = forecast(series, [model], h=36).table.to_pandas()
    fitted = fit(series, [model]).predict(36).to_pandas()
    columns = [model.alias, f"{model.alias}-lo-95", f"{model.alias}-hi-95"]
    pd.testing.assert_frame_equal(
        one_shot[["series_id", "ts", *columns]].reset_index(drop=True),
        fitted[["series_id", "ts", *columns]].reset_index(drop=True),
        check_dtype=False,
    )


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_columns_and_band_order(series: pd.DataFrame, model: Any) -> None:
    result = forecast(series, [model], h=24, level=80)
    frame = result.table.to_pandas()
    alias = model.alias
    assert list(frame.columns[:2]) == ["series_id", "ts"]
    assert {alias, f"{alias}-lo-80", f"{alias}-hi-80"} <= set(frame.columns)
    assert (frame[f"{alias}-lo-80"] <= frame[alias]).all()
    assert (frame[alias] <= frame[f"{alias}-hi-80"]).all()
    # 24 steps per series, starting one hour after each series' last timestamp.
    assert frame.groupby("series_id").size().to_dict() == {"m1": 24, "m2": 24}
    last = series.groupby("series_id")["ts"].max()
    first = frame.groupby("series_id")["ts"].min()
    assert (first - last == pd.Timedelta(hours=1)).all()


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_no_window_sees_data_after_its_cutoff(series: pd.DataFrame, model: Any) -> None:
    h, n_windows = 24, 3
    base = backtest(series, [model], h=h, n_windows=n_windows)
    points = base.points.to_pandas()
    first_cutoff = points.loc[points["window"] == 0, "cutoff"].iloc[0]
    # Perturb everything after the first window's cutoff.
    after = series.copy()
    late = after["ts"] > first_cutoff
    after.loc[late, "energy_kwh"] = after.loc[late, "energy_kwh"] * 3.0 + 500.0
    moved = backtest(after, [model], h=h, n_windows=n_windows).points.to_pandas()
    w0 = points[points["window"] == 0][model.alias].to_numpy()
    w0_moved = moved[moved["window"] == 0][model.alias].to_numpy()
    np.testing.assert_array_equal(w0, w0_moved)
    # The check can fail: perturbing up to the cutoff does move the first window.
    before = series.copy()
    early = (before["ts"] <= first_cutoff) & (before["ts"] > first_cutoff - pd.Timedelta("14D"))
    before.loc[early, "energy_kwh"] = before.loc[early, "energy_kwh"] + 50.0
    shifted = backtest(before, [model], h=h, n_windows=n_windows).points.to_pandas()
    assert not np.allclose(w0, shifted[shifted["window"] == 0][model.alias].to_numpy())


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_runs_repeat_exactly(series: pd.DataFrame, model: Any) -> None:
    one = forecast(series, [model], h=12).table
    two = forecast(series, [model], h=12).table
    assert one.equals(two)


def test_backtest_cutoffs_are_step_apart_and_windows_follow_them(series: pd.DataFrame) -> None:
    result = backtest(series, [SeasonalNaiveModel()], h=24, n_windows=3, step=12)
    pts = result.points.to_pandas()
    m1 = pts[pts["series_id"] == "m1"]
    cutoffs = sorted(m1["cutoff"].unique())
    assert np.diff(cutoffs).tolist() == [np.timedelta64(12, "h")] * 2
    # The last window ends at the last timestamp of the series.
    assert m1["ts"].max() == series.loc[series["series_id"] == "m1", "ts"].max()
    for cutoff, window in m1.groupby("cutoff"):
        assert window["ts"].min() == cutoff + pd.Timedelta(hours=1)
        assert len(window) == 24


# -- failures ---------------------------------------------------------------------------------


def test_a_failed_model_is_reported_for_its_series_only() -> None:
    data = hourly_series(("ok", "bad"), weeks=4)
    data.loc[(data["series_id"] == "bad") & (data.index % 50 == 0), "energy_kwh"] = 0.0
    mult = AutoETSModel(model="MMN", alias="ETSmult")  # multiplicative: refuses zeros
    result = forecast(data, [mult], h=6)
    frame = result.table.to_pandas()
    assert frame.loc[frame["series_id"] == "bad", "ETSmult"].isna().all()
    assert frame.loc[frame["series_id"] == "bad", "ETSmult-hi-95"].isna().all()
    assert frame.loc[frame["series_id"] == "ok", "ETSmult"].notna().all()
    # The benchmark still ran for both, under its own name.
    assert frame["SeasonalNaive"].notna().all()
    assert [f.code for f in result.findings] == ["energy.forecast.model_failed"]
    assert result.findings[0].data["series_id"] == "bad"
    assert result.findings[0].data["model"] == "ETSmult"
    assert result.findings[0].text.zh


def test_seasonal_naive_is_always_added(series: pd.DataFrame) -> None:
    result = forecast(series, [MSTLModel()], h=4)
    assert result.models == ("MSTL", "SeasonalNaive")


def test_frequencies_give_the_documented_seasons() -> None:
    assert FREQUENCIES["hour"].seasons == (24, 168)
    assert FREQUENCIES["15min"].seasons == (96, 672)
    assert FREQUENCIES["day"].seasons == (7,)
    daily = hourly_series(("m1",), weeks=20)
    daily = daily.iloc[:120].assign(ts=pd.date_range("2024-01-01", periods=120, freq="D"))
    result = forecast(pa.Table.from_pandas(daily), [MSTLModel()], h=7)
    assert result.grain == "day"
    assert result.parameters["MSTL"]["season_length"] == [7]
    assert result.parameters["SeasonalNaive"]["season_length"] == 7
