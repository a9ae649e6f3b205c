"""G14 statistics: None with a finding where they cannot be computed; thresholds as data."""

from __future__ import annotations

import pytest

from esgledger.energy.g14 import G14Metrics, g14_metrics, g14_thresholds, g14_verdict


def test_zero_mean_gives_none_and_a_finding_not_a_clamp() -> None:
    metrics = g14_metrics([1.0, -1.0, 2.0, -2.0], [0.5, -0.5, 1.0, -1.0], 1, granularity="daily")
    assert metrics.cv_rmse_pct is None
    assert metrics.nmbe_pct is None
    assert metrics.rmse is not None
    assert [f.code for f in metrics.findings] == ["energy.g14.zero_mean"]


def test_no_degrees_of_freedom_gives_none_and_a_finding() -> None:
    metrics = g14_metrics([10.0, 12.0, 11.0], [10.0, 12.5, 10.5], 3, granularity="monthly")
    assert (metrics.cv_rmse_pct, metrics.nmbe_pct, metrics.rmse) == (None, None, None)
    assert metrics.findings[0].code == "energy.g14.no_degrees_of_freedom"
    assert metrics.findings[0].data == {"n": 3, "p": 3}
    verdict = g14_verdict(metrics, application="calibrated_simulation")
    assert verdict.passed is None


def test_missing_pairs_are_left_out_of_n() -> None:
    nan = float("nan")
    metrics = g14_metrics([10.0, nan, 12.0, 14.0], [10.0, 11.0, nan, 13.0], 1, granularity="daily")
    assert metrics.n == 2
    # residuals 0 and 1, n − p = 1, ȳ = 12: CV = 100·√1/12, NMBE = 100·1/12
    assert metrics.cv_rmse_pct == pytest.approx(100 / 12)
    assert metrics.nmbe_pct == pytest.approx(100 / 12)


def _metrics(cv: float, nmbe: float = 0.0, granularity: str = "daily") -> G14Metrics:
    return G14Metrics(6, 2, granularity, "kWh", 100.0, cv, cv, nmbe, 0.9)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("months", "code", "limit"),
    [
        (None, "g14.regression.lt12", 20.0),
        (6, "g14.regression.lt12", 20.0),
        (12, "g14.regression.12to60", 25.0),
        (60, "g14.regression.12to60", 25.0),
        (61, "g14.regression.gt60", 30.0),
    ],
)
def test_regression_tiers_by_post_retrofit_months(
    months: int | None, code: str, limit: float
) -> None:
    verdict = g14_verdict(_metrics(limit - 0.1), post_retrofit_months=months)
    assert (verdict.threshold_code, verdict.passed) == (code, True)
    assert g14_verdict(_metrics(limit + 0.1), post_retrofit_months=months).passed is False
    assert verdict.confidence == "R"
    if months is None:
        assert [f.code for f in verdict.findings] == ["energy.g14.post_months_assumed"]


def test_calibrated_hourly_limits_and_daily_has_none() -> None:
    hourly = g14_verdict(_metrics(29.0, 10.5, "hourly"), application="calibrated_simulation")
    assert hourly.threshold_code == "g14.calibrated.hourly"
    assert [c.passed for c in hourly.checks] == [True, False]
    assert hourly.passed is False
    daily = g14_verdict(_metrics(5.0), application="calibrated_simulation")
    assert daily.passed is None
    assert [f.code for f in daily.findings] == ["energy.g14.no_threshold"]


def test_every_threshold_row_carries_source_clause_and_confidence() -> None:
    rows = g14_thresholds()
    assert {r.code for r in rows} >= {"g14.calibrated.monthly", "g14.regression.gt60"}
    for row in rows:
        assert row.source.startswith("ASHRAE Guideline 14-2014")
        assert row.clause
        assert row.confidence in {"V", "R", "A"}
