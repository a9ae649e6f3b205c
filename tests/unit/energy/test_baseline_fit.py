"""Baseline fits recover the parameters of synthetic data; sufficiency; JSON round trip.

Synthetic data: a year of daily mean temperatures from about 3 to 27 °C (seasonal cycle plus
3 °C noise, ``tests/_energy_baseline.py``) and energy of known parameters plus Gaussian noise
of 10 kWh/day (1 % of the 1,000 kWh/day base). Tolerances: change points within 0.5 °C
(the grid is refined to ~0.01 °C; the rest is noise), slopes within 3 %, bases within 1 %;
with 365 points and 1 % noise the standard errors are a fraction of these.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from scipy import stats

from _energy_baseline import daily, days, noise, temperatures
from esgledger.energy.baseline import (
    METHODS,
    BaselineData,
    FittedBaseline,
    avoided_energy,
    fit_baseline,
    sufficiency_rules,
)
from esgledger.errors import InputError, InsufficientDataError

T = temperatures()
#: IT energy (kWh/day): growing from 20 to 28 MWh/day over the year, plus 500 kWh/day noise.
IT = (
    20_000.0
    + 8_000.0 * np.arange(T.size) / T.size
    + np.random.default_rng(3).normal(0, 500, T.size)
)

TRUTH: dict[str, tuple[np.ndarray, dict[str, float]]] = {
    "g14_3p_cooling": (
        1000 + 50 * np.maximum(T - 18, 0),
        {"base_kwh": 1000, "cooling_slope_kwh_per_degc": 50, "change_point_c": 18},
    ),
    "g14_3p_heating": (
        1000 + 40 * np.maximum(12 - T, 0),
        {"base_kwh": 1000, "heating_slope_kwh_per_degc": 40, "change_point_c": 12},
    ),
    "g14_4p": (
        1000 + 10 * np.minimum(T - 15, 0) + 60 * np.maximum(T - 15, 0),
        {
            "base_kwh": 1000,
            "left_slope_kwh_per_degc": 10,
            "right_slope_kwh_per_degc": 60,
            "change_point_c": 15,
        },
    ),
    "g14_5p": (
        1000 + 40 * np.maximum(10 - T, 0) + 50 * np.maximum(T - 20, 0),
        {
            "base_kwh": 1000,
            "heating_slope_kwh_per_degc": 40,
            "cooling_slope_kwh_per_degc": 50,
            "heating_change_point_c": 10,
            "cooling_change_point_c": 20,
        },
    ),
    # CalTRACK balance points lie on a 1 °F grid: 50 °F = 10 °C and 68 °F = 20 °C are on it.
    "caltrack_daily": (
        1000 + 40 * np.maximum(10 - T, 0) + 50 * np.maximum(T - 20, 0),
        {
            "intercept_kwh_per_day": 1000,
            "beta_hdd_kwh_per_degc_day": 40,
            "beta_cdd_kwh_per_degc_day": 50,
            "heating_balance_point_c": 10,
            "cooling_balance_point_c": 20,
        },
    ),
    # Data centre: 50 kW of fixed load, 1.1 kWh per kWh of IT, 80 kWh per °C·h above 16 °C
    # (degree-hours from the daily mean: 24·max(T − 16, 0)).
    "dc_it_cdh": (
        24 * 50 + 1.1 * IT + 80 * 24 * np.maximum(T - 16, 0),
        {
            "base_kw": 50,
            "it_coefficient": 1.1,
            "cooling_kwh_per_degc_hour": 80,
            "change_point_c": 16,
        },
    ),
}


def _data(method: str) -> BaselineData:
    energy, _ = TRUTH[method]
    return daily(energy + noise(), T, it_kwh=IT)


def _close(name: str, got: float, want: float) -> None:
    if name.endswith("_c"):
        assert got == pytest.approx(want, abs=0.5), name
    elif name.startswith(("base", "intercept")):
        assert got == pytest.approx(want, rel=0.01), name
    else:
        assert got == pytest.approx(want, rel=0.03), name


@pytest.mark.parametrize("method", METHODS)
def test_fit_recovers_the_known_parameters(method: str) -> None:
    fitted = fit_baseline(_data(method), method)
    _, truth = TRUTH[method]
    assert set(fitted.parameters) == set(truth)
    for name, want in truth.items():
        _close(name, fitted.parameters[name].value, want)
    assert fitted.metrics.cv_rmse_pct is not None
    assert fitted.metrics.cv_rmse_pct < 3.0
    assert fitted.verdict.passed is True
    assert fitted.versions["numpy"] == np.__version__


@pytest.mark.parametrize("method", METHODS)
def test_json_round_trip(method: str) -> None:
    data = _data(method)
    fitted = fit_baseline(data, method)
    text = fitted.to_json()
    raw = json.loads(text)
    assert raw["conventions"]["residual"] == "measured - predicted"
    back = FittedBaseline.from_json(text)
    assert back == fitted
    np.testing.assert_array_equal(back.predict(data), fitted.predict(data))


def test_from_json_refuses_other_documents() -> None:
    with pytest.raises(InputError):
        FittedBaseline.from_json(json.dumps({"kind": "something else"}))


def test_caltrack_selects_intercept_only_for_flat_usage() -> None:
    fitted = fit_baseline(daily(1000 + noise(), T), "caltrack_daily")
    assert fitted.extra["selection"]["model_type"] == "intercept_only"
    assert set(fitted.parameters) == {"intercept_kwh_per_day"}
    assert fitted.metrics.p == 1


def test_caltrack_selects_cdd_only_for_cooling_only_usage() -> None:
    fitted = fit_baseline(daily(1000 + 30 * np.maximum(T - 20, 0) + noise(), T), "caltrack_daily")
    assert fitted.extra["selection"]["model_type"] == "cdd_only"
    assert fitted.parameters["cooling_balance_point_c"].value == pytest.approx(20, abs=1.0)
    assert fitted.metrics.p == 3  # intercept, slope, balance point


def test_caltrack_settings_are_the_rule_rows() -> None:
    fitted = fit_baseline(_data("caltrack_daily"), "caltrack_daily")
    rules = sufficiency_rules()
    assert fitted.settings["energy.caltrack.balance_point_min"] == 30
    assert (
        fitted.settings["energy.caltrack.max_p_value"]
        == rules["energy.caltrack.max_p_value"].threshold
    )


def _codes(data: BaselineData) -> list[str]:
    return [f.code for f in data.findings]


def test_a_short_baseline_is_insufficient_and_refused() -> None:
    data = BaselineData.from_readings(days(200), 1000 + noise(200), T[:200])
    assert "energy.sufficiency.too_few_days" in _codes(data)
    assert not data.sufficient
    with pytest.raises(InsufficientDataError) as caught:
        fit_baseline(data, "g14_3p_cooling")
    assert any(f.code == "energy.sufficiency.too_few_days" for f in caught.value.findings)
    fitted = fit_baseline(data, "g14_3p_cooling", allow_insufficient=True)
    assert fitted.sufficient is False
    assert "energy.sufficiency.too_few_days" in [f.code for f in fitted.findings]


def test_coverage_below_90_percent_is_insufficient() -> None:
    energy = 1000 + noise()
    energy[:40] = np.nan  # 325 of 365 days: 89.0 %
    data = daily(energy, T)
    finding = next(f for f in data.findings if f.code == "energy.sufficiency.low_coverage")
    assert finding.data["rows"] == 325
    assert finding.data["clause"].startswith("2.2.1.2")
    energy[:36] = 1000.0  # 361 days: enough
    assert "energy.sufficiency.low_coverage" not in _codes(daily(energy, T))


def test_zero_and_half_read_days_count_as_missing() -> None:
    energy = 1000 + noise()
    energy[5] = 0.0
    coverage = np.ones(T.size)
    coverage[6] = 0.4
    data = daily(energy, T, energy_coverage=coverage)
    assert {"energy.sufficiency.zero_values", "energy.sufficiency.partial_day"} <= set(_codes(data))
    assert np.isnan(data.energy_kwh[5])
    assert np.isnan(data.energy_kwh[6])


def test_negative_and_extreme_values_are_flagged() -> None:
    energy = 1000 + noise()
    energy[3] = -5.0
    energy[4] = 5000.0
    codes = _codes(daily(energy, T))
    assert "energy.sufficiency.negative_values" in codes
    assert "energy.sufficiency.extreme_values" in codes


def test_unknown_method_and_missing_it_are_input_errors() -> None:
    data = daily(1000 + noise(), T)
    with pytest.raises(InputError):
        fit_baseline(data, "prophet")
    with pytest.raises(InputError):
        fit_baseline(data, "dc_it_cdh")


def test_every_rule_row_has_a_clause_and_confidence() -> None:
    for rule in sufficiency_rules().values():
        assert rule.clause
        assert rule.confidence in {"V", "R", "A"}
        assert rule.criterion.en
        assert rule.criterion.zh


def test_avoided_energy_of_a_known_ten_percent_cut() -> None:
    energy, _ = TRUTH["g14_3p_cooling"]
    fitted = fit_baseline(daily(energy + noise(), T), "g14_3p_cooling")
    reporting = daily(0.9 * energy + noise(seed=99), T)
    result = avoided_energy(fitted, reporting)
    true_avoided = 0.1 * float(energy.sum())
    at68, at90 = result.uncertainty
    assert (at68.confidence_pct, at90.confidence_pct) == (68.0, 90.0)
    assert at90.plus_minus_kwh > at68.plus_minus_kwh
    # The estimate lies within a few of its 90 % bands of the truth.
    assert abs(result.avoided_kwh - true_avoided) < 3 * at90.plus_minus_kwh
    assert result.savings_fraction == pytest.approx(0.1, abs=0.005)
    assert result.m == 365


def test_uncertainty_follows_the_g14_annex_b_formula() -> None:
    energy, _ = TRUTH["g14_3p_cooling"]
    fitted = fit_baseline(daily(energy + noise(), T), "g14_3p_cooling")
    reporting = daily(0.9 * energy + noise(seed=5), T)
    result = avoided_energy(fitted, reporting)
    n, p, m = fitted.metrics.n, fitted.metrics.p, result.m
    rho: Any = fitted.residual_lag1_autocorrelation
    n_eff = n * (1 - rho) / (1 + rho) if rho > 0 else n
    cv = fitted.metrics.cv_rmse_pct / 100  # type: ignore[operator]
    e_base = result.adjusted_baseline_kwh
    for u in result.uncertainty:
        t = stats.t.ppf(0.5 + u.confidence_pct / 200, n - p)
        want = t * 1.26 * cv * e_base * np.sqrt((n / n_eff) * (1 + 2 / n_eff) / m)
        assert u.plus_minus_kwh == pytest.approx(want, rel=1e-12)
        assert u.fractional == pytest.approx(want / result.avoided_kwh, rel=1e-12)


def test_reporting_outside_the_baseline_temperatures_is_flagged() -> None:
    energy, _ = TRUTH["g14_3p_cooling"]
    fitted = fit_baseline(daily(energy + noise(), T), "g14_3p_cooling")
    hot = T + 15.0
    result = avoided_energy(fitted, daily(1000 + 50 * np.maximum(hot - 18, 0), hot))
    assert "energy.baseline.extrapolated" in [f.code for f in result.findings]


def test_reporting_findings_travel_as_warnings_without_the_length_rules() -> None:
    energy, _ = TRUTH["g14_3p_cooling"]
    fitted = fit_baseline(daily(energy + noise(), T), "g14_3p_cooling")
    month = energy[:31].copy()
    month[3] = 0.0
    result = avoided_energy(fitted, daily(month, T[:31]))
    codes = {f.code: f.severity for f in result.findings}
    assert codes["energy.sufficiency.zero_values"] == "warning"
    assert "energy.sufficiency.too_few_days" not in codes
    assert result.m == 30


def test_hourly_data_centre_fit() -> None:
    """A year of hours: 50 kW base, k = 1.2, 3 kWh per °C·h above 20 °C, 5 kWh noise."""
    rng = np.random.default_rng(21)
    hours = 24 * 365
    hour = np.arange(hours)
    temp = np.repeat(T, 24) + 5.0 * np.sin(2 * np.pi * (hour % 24 - 9) / 24)
    it = 1000.0 + 200.0 * np.sin(2 * np.pi * hour / (24 * 7)) + rng.normal(0, 20, hours)
    energy = 50.0 + 1.2 * it + 3.0 * np.maximum(temp - 20.0, 0.0) + rng.normal(0, 5, hours)
    starts = [days(1)[0] + timedelta(hours=int(h)) for h in hour]
    data = BaselineData.from_readings(starts, energy, temp, granularity="hourly", it_kwh=it)
    assert data.sufficient
    fitted = fit_baseline(data, "dc_it_cdh")
    values = fitted.values()
    assert values["base_kw"] == pytest.approx(50.0, rel=0.05)
    assert values["it_coefficient"] == pytest.approx(1.2, rel=0.01)
    assert values["cooling_kwh_per_degc_hour"] == pytest.approx(3.0, rel=0.03)
    assert values["change_point_c"] == pytest.approx(20.0, abs=0.5)
    assert fitted.parameters["base_kw"].unit == "kW"
    assert FittedBaseline.from_json(fitted.to_json()) == fitted


def test_a_negative_slope_is_flagged_not_hidden() -> None:
    # Energy falling above 18 °C: a 3P cooling fit finds a negative slope and says so.
    fitted = fit_baseline(daily(1000 - 20 * np.maximum(T - 18, 0) + noise(), T), "g14_3p_cooling")
    assert fitted.parameters["cooling_slope_kwh_per_degc"].value < 0
    finding = next(f for f in fitted.findings if f.code == "energy.baseline.negative_slope")
    assert "cooling_slope_kwh_per_degc" in finding.data


def test_caltrack_never_selects_a_negative_parameter() -> None:
    # Usage falling with warmth above 20 °C: every CDD candidate has β_C < 0 and is
    # disqualified (CalTRACK 2.0 §3.4.3.2); what is selected has only positive parameters.
    fitted = fit_baseline(daily(1000 - 30 * np.maximum(T - 20, 0) + noise(), T), "caltrack_daily")
    selection = fitted.extra["selection"]
    assert selection["model_type"] in {"hdd_only", "intercept_only"}
    assert selection["candidates_qualified"]["cdd_only"] == 0
    assert all(p.value > 0 for p in fitted.parameters.values())


def test_caltrack_degree_day_minimum_leaves_out_extreme_balance_points() -> None:
    # Temperatures between about −6 and 36 °C: a 90 °F (32.2 °C) cooling balance point has
    # fewer than 10 days above it, so no CDD candidate there is tried.
    fitted = fit_baseline(_data("caltrack_daily"), "caltrack_daily")
    tried = fitted.extra["selection"]["candidates_tried"]
    days_above = int(np.sum(T > (90 - 32) / 1.8))
    assert days_above < 10
    assert tried["cdd_only"] < 61  # 30..90 °F in 1 °F steps is 61 points
