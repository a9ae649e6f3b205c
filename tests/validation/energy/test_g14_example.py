"""The Guideline 14 example of the reference: six monthly points, p = 2 → CV(RMSE) 3.4 %,
NMBE 0.48 %, which passes.

Source: ``shared/reference/domain-modules.md`` §1.4 (the numbers are marked [A, computed]: the
reference gives the results, not the six points). ASHRAE Guideline 14-2014 defines the
statistics (CV(RMSE) and NMBE with n − p degrees of freedom) and the calibrated-simulation
limits for monthly data (NMBE ±5 %, CV(RMSE) 15 %).

We therefore publish the six points ourselves, built so that a hand calculation gives the
reference's numbers. A two-parameter model, ŷ = 150 + 2·HDD (kWh thousands per month), with
monthly heating degree-days HDD = 80, 65, 50, 35, 30, 37.6:

    ŷ = 310, 280, 250, 220, 210, 225.2            Σŷ = 1495.2
    y = 321, 271, 257, 215, 213, 223.0            Σy = 1500, ȳ = 250
    r = y − ŷ = 11, −9, 7, −5, 3, −2.2            Σr = 4.8
    r² = 121, 81, 49, 25, 9, 4.84                  Σr² = 289.84
    n − p = 6 − 2 = 4
    NMBE     = 100 · 4.8 / (4 · 250)               = 0.48 %  (exactly)
    CV(RMSE) = 100 · √(289.84 / 4) / 250
             = 100 · √72.46 / 250 = 100 · 8.51234 / 250 = 3.405 %  → 3.4 % as published

Tolerances: NMBE is exact (1e-9); CV(RMSE) is compared with the hand value 3.405 to 1e-3 and
with the published, rounded 3.4 % to half its last digit (0.05).
"""

from __future__ import annotations

import pytest

from esgledger.energy.g14 import CONVENTIONS, g14_metrics, g14_verdict

HDD = [80.0, 65.0, 50.0, 35.0, 30.0, 37.6]
MEASURED = [321.0, 271.0, 257.0, 215.0, 213.0, 223.0]


def _predicted() -> list[float]:
    return [150.0 + 2.0 * hdd for hdd in HDD]


def test_the_six_points_give_the_reference_statistics() -> None:
    metrics = g14_metrics(MEASURED, _predicted(), 2, granularity="monthly", unit="MWh/month")
    assert metrics.n == 6
    assert metrics.mean_measured == pytest.approx(250.0)
    assert metrics.nmbe_pct == pytest.approx(0.48, abs=1e-9)
    assert metrics.cv_rmse_pct == pytest.approx(3.405, abs=1e-3)
    assert metrics.cv_rmse_pct == pytest.approx(3.4, abs=0.05)
    assert metrics.findings == ()


def test_the_example_passes_the_monthly_calibration_limits() -> None:
    metrics = g14_metrics(MEASURED, _predicted(), 2, granularity="monthly")
    verdict = g14_verdict(metrics, application="calibrated_simulation")
    assert verdict.threshold_code == "g14.calibrated.monthly"
    assert verdict.passed is True
    limits = {check.statistic: check.limit for check in verdict.checks}
    assert limits == {"cv_rmse_pct": 15.0, "nmbe_abs_pct": 5.0}


def test_the_sign_convention_is_measured_minus_predicted() -> None:
    # Swapping measured and predicted flips the sign of the bias (and changes ȳ).
    metrics = g14_metrics(_predicted(), MEASURED, 2, granularity="monthly")
    assert metrics.nmbe_pct is not None
    assert metrics.nmbe_pct < 0
    assert metrics.to_json()["conventions"] == dict(CONVENTIONS)


def test_dividing_by_n_minus_1_would_not_give_the_published_numbers() -> None:
    # The degrees-of-freedom convention matters: with n − 1 = 5 the NMBE is 0.384 %, which
    # the reference's 0.48 % rules out.
    metrics = g14_metrics(MEASURED, _predicted(), 1, granularity="monthly")
    assert metrics.nmbe_pct == pytest.approx(0.384, abs=1e-9)
