"""Backtest error metrics on series whose errors are known by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from esgledger.energy.forecast import SeasonalNaiveModel, backtest


def _weekly(n_weeks: int, last_day_shift: float, zero_at: int | None = None) -> pd.DataFrame:
    """A daily series repeating one week exactly, with the last ``h`` = 7 days raised by
    ``last_day_shift``: seasonal naive then misses each of them by exactly that shift."""
    week = np.array([10.0, 12.0, 11.0, 13.0, 9.0, 5.0, 4.0])
    y = np.tile(week, n_weeks)
    y[-7:] += last_day_shift
    if zero_at is not None:
        y[zero_at] = 0.0
    return pd.DataFrame(
        {
            "series_id": "s",
            "ts": pd.date_range("2024-01-01", periods=len(y), freq="D"),
            "energy_kwh": y,
        }
    )


def test_mae_mape_and_cv_rmse_of_seasonal_naive_by_hand() -> None:
    # Actuals of the window: week + 2; forecasts: week. Errors are all 2 kWh.
    result = backtest(_weekly(6, 2.0), [SeasonalNaiveModel()], h=7, n_windows=1)
    row = result.errors.to_pylist()[0]
    actual = np.array([12.0, 14.0, 13.0, 15.0, 11.0, 7.0, 6.0])
    assert row["mae"] == pytest.approx(2.0)
    assert row["mape_pct"] == pytest.approx(100 * np.mean(2.0 / actual))
    assert row["cv_rmse_pct"] == pytest.approx(100 * 2.0 / actual.mean())
    assert row["skill_mae"] == pytest.approx(0.0)  # the benchmark against itself
    assert row["points"] == 7
    assert row["cutoff"] == pd.Timestamp("2024-02-04")  # day 35, the last fitted


def test_mape_is_none_with_a_note_when_an_actual_is_zero() -> None:
    data = _weekly(6, 2.0, zero_at=-3)
    result = backtest(data, [SeasonalNaiveModel()], h=7, n_windows=1)
    row = result.errors.to_pylist()[0]
    assert row["mape_pct"] is None
    assert row["mae"] is not None
    codes = {f.code for f in result.findings}
    assert "energy.forecast.mape_zero_actual" in codes


def test_skill_compares_with_seasonal_naive_of_the_same_window() -> None:
    rng = np.random.default_rng(3)
    data = _weekly(12, 0.0)
    data["energy_kwh"] += rng.normal(0, 0.5, len(data))
    result = backtest(data, None, h=7, n_windows=2)
    errors = result.errors.to_pandas()
    for _, window in errors.groupby("cutoff"):
        base = window.set_index("model").loc["SeasonalNaive", "mae"]
        for _, row in window.iterrows():
            assert row["skill_mae"] == pytest.approx(1 - row["mae"] / base)
    summary = result.summary.to_pandas()
    assert set(summary["windows"]) == {2}
    assert summary["cutoff"].isna().all()
    assert set(summary["model"]) == {"MSTL", "AutoETS", "SeasonalNaive"}
