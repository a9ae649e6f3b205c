"""Split-conformal bands: the rank rule, the horizon buckets, the sequential calibration in the
backtest (no window's band sees a later actual), the coverage table, and the refusals."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from _energy_forecast import hourly_series
from esgledger.energy.forecast import (
    CONFORMAL_MIN_SCORES,
    AutoETSModel,
    ForecastArgumentError,
    SeasonalNaiveModel,
    backtest,
    conformal_buckets,
    conformal_needed,
    forecast,
)

SN = [SeasonalNaiveModel()]


@pytest.fixture(scope="module")
def series() -> pd.DataFrame:
    return hourly_series(("m1", "m2"), weeks=5)


@pytest.mark.parametrize(("level", "need"), [(95, 19), (80, 4), (99, 99), (50, 1), (90, 9)])
def test_fewest_scores_for_a_finite_quantile(level: int, need: int) -> None:
    assert conformal_needed(level) == need
    # ⌈(n + 1)·L/100⌉ ≤ n holds at n = need and fails at need − 1.
    assert math.ceil((need + 1) * level / 100) <= need
    assert need == 1 or math.ceil(need * level / 100) > need - 1


@pytest.mark.parametrize(
    ("h", "windows", "buckets"),
    [
        (48, 3, ((1, 16), (17, 32), (33, 48))),
        (13, 3, ((1, 13),)),
        (100, 1, ((1, 50), (51, 100))),
        (1, 1, ((1, 1),)),
        (24, 100, tuple((k, k) for k in range(1, 25))),
    ],
)
def test_horizon_buckets(h: int, windows: int, buckets: tuple[tuple[int, int], ...]) -> None:
    got = conformal_buckets(h, windows)
    assert got == buckets
    assert got[0][0] == 1
    assert got[-1][1] == h
    if len(got) > 1:
        assert all(windows * (last - first + 1) >= CONFORMAL_MIN_SCORES for first, last in got)


def test_band_is_the_rank_rule_over_the_backtest_errors(series: pd.DataFrame) -> None:
    bt = backtest(series, SN, h=24, n_windows=4)
    result = forecast(series, SN, h=24, level=90, calibration=bt)
    assert result.intervals == "conformal"
    assert "conformal" in result.parameters["SeasonalNaive"]["intervals"]
    table = result.table.to_pandas()
    points = bt.points.to_pandas()
    # 4 windows × 24 steps = 96 errors per series: two buckets of 12 steps, 48 errors each;
    # 90 %: the ⌈49 · 0.9⌉ = 45th smallest.
    for sid in ("m1", "m2"):
        mine = points[points["series_id"] == sid]
        errors = (mine["energy_kwh"] - mine["SeasonalNaive"]).abs().to_numpy()
        ahead = table[table["series_id"] == sid].reset_index(drop=True)
        for first, last in ((1, 12), (13, 24)):
            inside = mine["step"].between(first, last).to_numpy()
            q = np.sort(errors[inside])[44]
            rows = ahead.iloc[first - 1 : last]
            np.testing.assert_allclose(rows["SeasonalNaive-hi-90"] - rows["SeasonalNaive"], q)
            np.testing.assert_allclose(rows["SeasonalNaive"] - rows["SeasonalNaive-lo-90"], q)
    cal = bt.calibration.to_pandas()
    assert set(cal["scores"]) == {48}
    assert set(cal["level"]) == {80, 95}


def test_coverage_table_counts_the_points_inside(series: pd.DataFrame) -> None:
    bt = backtest(series, SN, h=24, n_windows=3, level=90)
    assert bt.levels == (80, 90, 95)
    points = bt.points.to_pandas()
    cov = bt.coverage.to_pandas()
    y = points["energy_kwh"]
    for kind, lo, hi in (
        ("model", "SeasonalNaive-lo-90", "SeasonalNaive-hi-90"),
        ("conformal", "SeasonalNaive-conformal-lo-90", "SeasonalNaive-conformal-hi-90"),
    ):
        has = points[lo].notna()
        inside = has & (y >= points[lo]) & (y <= points[hi])
        row = cov[(cov["series_id"].isna()) & (cov["interval"] == kind) & (cov["level"] == 90)]
        assert int(row["points"].iloc[0]) == int(has.sum())
        assert int(row["covered"].iloc[0]) == int(inside.sum())
        per_series = cov[
            cov["series_id"].notna() & (cov["interval"] == kind) & (cov["level"] == 90)
        ]
        assert int(per_series["covered"].sum()) == int(inside.sum())
    # Window 0 has nothing to calibrate on; windows 1 and 2 have 24 and 48 errors.
    assert points.loc[points["window"] == 0, "SeasonalNaive-conformal-lo-90"].isna().all()
    assert points.loc[points["window"] > 0, "SeasonalNaive-conformal-lo-90"].notna().all()


def test_no_conformal_band_sees_an_actual_after_its_cutoff(series: pd.DataFrame) -> None:
    base = backtest(series, SN, h=24, n_windows=3).points.to_pandas()
    cutoff = base.loc[base["window"] == 1, "cutoff"].iloc[0]
    moved = series.copy()
    late = moved["ts"] > cutoff
    moved.loc[late, "energy_kwh"] = moved.loc[late, "energy_kwh"] * 3.0 + 500.0
    after = backtest(moved, SN, h=24, n_windows=3).points.to_pandas()
    columns = ["SeasonalNaive-conformal-lo-95", "SeasonalNaive-conformal-hi-95"]
    w1 = base["window"] == 1
    np.testing.assert_array_equal(base.loc[w1, columns], after.loc[w1, columns])
    # ... while window 2, calibrated on window 1's (moved) actuals, does change.
    w2 = base["window"] == 2
    assert not np.allclose(base.loc[w2, columns], after.loc[w2, columns])


def test_too_few_errors_leave_the_band_empty_and_say_so(series: pd.DataFrame) -> None:
    bt = backtest(series, SN, h=24, n_windows=3)  # 72 errors: 99 % needs 99
    result = forecast(series, SN, h=24, level=99, calibration=bt)
    table = result.table.to_pandas()
    assert table["SeasonalNaive"].notna().all()
    assert table["SeasonalNaive-lo-99"].isna().all()
    assert table["SeasonalNaive-hi-99"].isna().all()
    codes = {f.code for f in result.findings}
    assert codes == {"energy.forecast.conformal_unavailable"}
    assert {f.data["series_id"] for f in result.findings} == {"m1", "m2"}
    assert result.findings[0].data["need"] == 99
    assert result.findings[0].text.zh


def test_a_calibration_that_does_not_fit_is_refused(series: pd.DataFrame) -> None:
    bt = backtest(series, SN, h=12, n_windows=2)
    with pytest.raises(ForecastArgumentError, match="fewer than h"):
        forecast(series, SN, h=24, calibration=bt)
    with pytest.raises(ForecastArgumentError, match="no backtest of model"):
        forecast(series, [AutoETSModel(), *SN], h=12, calibration=bt)
    with pytest.raises(ForecastArgumentError, match="pue"):
        forecast(series.rename(columns={"energy_kwh": "pue"}), SN, h=12, calibration=bt)
    with pytest.raises(ForecastArgumentError, match="no backtest of series"):
        forecast(hourly_series(("m1", "m9"), weeks=5), SN, h=12, calibration=bt)
    with pytest.raises(ForecastArgumentError, match="BacktestResult"):
        forecast(series, SN, h=12, calibration="bt")  # type: ignore[arg-type]


def test_a_floor_raises_forecasts_and_bounds_to_it_and_keeps_every_band_around_outcomes() -> None:
    """A meter that is off half the day (a chiller in winter): its values are 0 or about 40,
    so symmetric bands reach below 0. With ``floor=0`` nothing is below 0, every bound that
    was above 0 is unchanged, and a band that held an outcome (≥ 0) still holds it."""
    base = hourly_series(("chiller",), weeks=5, noise=8.0)
    hours = pd.to_datetime(base["ts"]).dt.hour
    base["energy_kwh"] = np.where(hours < 12, 0.0, base["energy_kwh"] - 60.0).clip(min=0.0)
    bt = backtest(base, SN, h=24, n_windows=2)
    plain = forecast(base, SN, h=24, calibration=bt).table.to_pandas()
    floored = forecast(base, SN, h=24, calibration=bt, floor=0.0).table.to_pandas()
    columns = ["SeasonalNaive", "SeasonalNaive-lo-95", "SeasonalNaive-hi-95"]
    assert (plain[columns].to_numpy() < 0).any()  # the case the floor is for
    assert (floored[columns].to_numpy() >= 0).all()
    np.testing.assert_array_equal(floored[columns].to_numpy(), plain[columns].clip(lower=0.0))
    for outcome in (0.0, 5.0):  # any outcome a band held, it still holds
        held = (plain["SeasonalNaive-lo-95"] <= outcome) & (outcome <= plain["SeasonalNaive-hi-95"])
        still = (floored["SeasonalNaive-lo-95"] <= outcome) & (
            outcome <= floored["SeasonalNaive-hi-95"]
        )
        assert (still | ~held).all()
