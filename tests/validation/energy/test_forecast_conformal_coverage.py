"""Split-conformal prediction intervals hold their level on held-out data with known noise.

The check (Vovk, Gammerman & Shafer, *Algorithmic Learning in a Random World*, 2005, and
Shafer & Vovk, "A tutorial on conformal prediction", JMLR 9 (2008) 371–421, §2–4; Lei et al.,
"Distribution-free predictive inference for regression", JASA 113 (2018), Theorem 2.2): when
the ``n`` calibration scores and the score of a new point are exchangeable, the band whose
half-width is the ``⌈(n + 1)(1 − α)⌉``-th smallest score covers the new point with probability
at least ``1 − α`` and below ``1 − α + 1/(n + 1)``; when ``(n + 1)(1 − α)`` is a whole number,
exactly ``1 − α`` (continuous scores, no ties).

Set-up that makes the scores exchangeable exactly: ``S`` hourly series, each a level, a daily
and a weekly sine and i.i.d. Gaussian noise ``σ = 2 kWh``; the model is seasonal naive with a
weekly season (it removes both sines exactly), so the error of a forecast ``j ≤ 168`` steps
ahead is ``ε(t) − ε(t − 168)``. The backtest has 3 windows of ``h = 13`` steps, so ``n = 39``
scores per series (one horizon bucket) and every calibration error and held-out error uses
distinct ``ε``: they are i.i.d. ``N(0, 2σ²)``. With ``n + 1 = 40``, ``(n + 1)·0.95 = 38`` and
``(n + 1)·0.80 = 32`` are whole numbers, so each held-out point is covered with probability
exactly 0.95 (0.80).

One held-out point per series (the step ``1 + s mod 13`` after the series' end, drawn from
the same generator and never shown to the code): the ``S`` outcomes are independent
Bernoulli(p), so the share covered has the binomial standard error ``sqrt(p(1 − p)/S)``.
Tolerance: 3 standard errors (a correct method fails this with probability ≈ 0.3 %; the run
is seeded, so it passes or fails the same way every time). With ``S = 1,000``: 95 % ± 2.1
points, 80 % ± 3.8 points. The models' own 95 % bands of MSTL and AutoETS covered 83–84 % in
the project's backtests, well outside such a tolerance.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from esgledger.energy.forecast import SeasonalNaiveModel, backtest, forecast

SERIES = 1000
SIGMA = 2.0  # kWh
LENGTH = 216  # hours shown to the code: 169 for seasonal naive + 3 windows of 13
H = 13
WINDOWS = 3


def _data(seed: int = 20261207) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    t = np.arange(LENGTH + H)
    ts = pd.date_range("2024-01-01", periods=len(t), freq="h")
    shown, held = [], []
    for s in range(SERIES):
        y = (
            rng.uniform(50.0, 500.0)
            + 10.0 * np.sin(2 * np.pi * (t + rng.integers(24)) / 24)
            + 4.0 * np.sin(2 * np.pi * t / 168)
            + rng.normal(0.0, SIGMA, len(t))
        )
        sid = f"s{s:04d}"
        shown.append(pd.DataFrame({"series_id": sid, "ts": ts[:LENGTH], "energy_kwh": y[:LENGTH]}))
        step = 1 + s % H
        held.append({"series_id": sid, "ts": ts[LENGTH + step - 1], "actual": y[LENGTH + step - 1]})
    return pd.concat(shown, ignore_index=True), pd.DataFrame(held)


@pytest.fixture(scope="module")
def calibrated() -> tuple[pd.DataFrame, pd.DataFrame, object]:
    shown, held = _data()
    model = [SeasonalNaiveModel()]
    bt = backtest(shown, model, h=H, n_windows=WINDOWS, coverage_levels=(80, 95))
    return shown, held, bt


@pytest.mark.parametrize("level", [95, 80])
def test_conformal_band_covers_its_level_on_held_out_points(
    calibrated: tuple[pd.DataFrame, pd.DataFrame, object], level: int
) -> None:
    shown, held, bt = calibrated
    result = forecast(shown, [SeasonalNaiveModel()], h=H, level=level, calibration=bt)  # type: ignore[arg-type]
    assert result.intervals == "conformal"
    assert result.findings == ()
    table = result.table.to_pandas().merge(held, on=["series_id", "ts"])
    assert len(table) == SERIES
    lo = table[f"SeasonalNaive-lo-{level}"]
    hi = table[f"SeasonalNaive-hi-{level}"]
    covered = float(((table["actual"] >= lo) & (table["actual"] <= hi)).mean())
    p = level / 100
    se = math.sqrt(p * (1 - p) / SERIES)
    assert abs(covered - p) <= 3 * se, (covered, p, se)
    # The band is the conformal one, from n = 39 scores: ⌈40·p⌉-th smallest |error|.
    calibration = bt.calibration.to_pandas()  # type: ignore[attr-defined]
    assert set(calibration["scores"]) == {H * WINDOWS}
    # With the noise known, each series' half-width q has a true coverage F(q) = P(|e| ≤ q) =
    # erf(q / 2σ) for e ~ N(0, 2σ²); over calibrations F(q) ~ Beta(38, 2) (Beta(32, 8) at 80 %)
    # of mean exactly p, standard deviation 0.034 (0.063), so the mean over 1,000 series is p
    # within 3 × 0.034 / √1000 = 0.0033 (0.0060).
    half = ((hi - lo) / 2).to_numpy()
    true_coverage = np.array([math.erf(q / (2 * SIGMA)) for q in half])
    beta_sd = {95: math.sqrt(38 * 2 / (40**2 * 41)), 80: math.sqrt(32 * 8 / (40**2 * 41))}[level]
    assert abs(true_coverage.mean() - p) <= 3 * beta_sd / math.sqrt(SERIES)


def test_backtest_reports_the_coverage_of_both_kinds_of_band(
    calibrated: tuple[pd.DataFrame, pd.DataFrame, object],
) -> None:
    _, _, bt = calibrated
    cov = bt.coverage.to_pandas()  # type: ignore[attr-defined]
    overall = cov[cov["series_id"].isna()].set_index(["interval", "level"])
    # Model bands: every window (3 × 13 points per series); conformal: windows 1 and 2, each
    # calibrated on the windows before it. Window 1 has 13 errors: enough for 80 % (the 12th
    # smallest) but not for 95 % (19 needed), so its 95 % band is empty and not counted;
    # window 2 has 26 (95 %: the 26th, the largest).
    assert overall.loc[("model", 95), "points"] == SERIES * H * WINDOWS
    assert overall.loc[("conformal", 80), "points"] == SERIES * H * (WINDOWS - 1)
    assert overall.loc[("conformal", 95), "points"] == SERIES * H
    assert overall.loc[("conformal", 95), "windows"] == WINDOWS - 1
    for level in (80, 95):
        share = overall.loc[("conformal", level), "coverage"]
        assert share >= level / 100 - 0.03
