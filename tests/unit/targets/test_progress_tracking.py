"""Progress: gap to the linear pathway, trend projection, status, warnings."""

from __future__ import annotations

from typing import Any

import pytest

from _targets_support import make_target
from esgledger.errors import InputError
from esgledger.inventory.base_year import StructuralChange, recalculate
from esgledger.targets.model import Target
from esgledger.targets.progress import progress, recalculation_warnings


def make(**overrides: Any) -> Target:
    return make_target(**{"base_emissions_t_co2e": 1000.0, **overrides})


def test_gap_is_actual_minus_the_linear_pathway() -> None:
    # Pathway: 1000 − 50 t a year. 2022 on the pathway is 900 t.
    result = progress(make(), {2020: 1000.0, 2022: 930.0})
    years = {row.year: row for row in result.years}
    assert years[2022].pathway == pytest.approx(900.0)
    assert years[2022].gap == pytest.approx(30.0)
    assert result.unit == "t CO2e"
    assert result.target_value == pytest.approx(500.0)


def test_one_actual_year_projects_the_base_to_latest_line() -> None:
    # (2020, 1000) → (2022, 900): −50 t/yr, reaches 500 t in 2030: on track, gap 0.
    result = progress(make(), {2022: 900.0})
    assert result.fit_years == (2020, 2022)
    assert result.trend_per_year == pytest.approx(-50.0)
    assert result.projected_value == pytest.approx(500.0)
    assert result.projected_gap == pytest.approx(0.0, abs=1e-9)
    assert result.status == "on_track"
    assert result.on_track


def test_least_squares_over_the_last_three_actual_years() -> None:
    # 2021..2024 = 990, 960, 940, 930: fit over 2022-2024 (slope −15, mean 943.33 at 2023)
    # → 2030: 943.33 − 15 × 7 = 838.33; target 500 → off track, projected gap 338.33.
    actuals = {2020: 1000.0, 2021: 990.0, 2022: 960.0, 2023: 940.0, 2024: 930.0}
    result = progress(make(), actuals)
    assert result.fit_years == (2022, 2023, 2024)
    assert result.trend_per_year == pytest.approx(-15.0)
    assert result.projected_value == pytest.approx(838.3333333)
    assert result.projected_gap == pytest.approx(338.3333333)
    assert result.status == "off_track"
    assert "2024: 930 t CO2e vs pathway 800 (gap +130)" in result.reason
    assert "off track" in result.reason
    assert "偏离计划" in result.reason_zh
    two = progress(make(), actuals, window=2)
    assert two.fit_years == (2023, 2024)
    assert two.trend_per_year == pytest.approx(-10.0)
    with pytest.raises(InputError, match="window must be 2 or 3 actual years, got 5"):
        progress(make(), actuals, window=5)


def test_the_target_year_value_is_used_once_reached() -> None:
    result = progress(make(target_year=2022, reduction=0.1), {2021: 950.0, 2022: 905.0})
    assert result.projected_value == pytest.approx(905.0)
    assert result.status == "off_track"


def test_insufficient_data_and_base_from_actuals() -> None:
    target = make(base_emissions_t_co2e=None)
    result = progress(target, {2020: 800.0})
    assert result.status == "insufficient_data"
    assert result.base_value == pytest.approx(800.0)
    assert "no actual value after the base year 2020" in result.reason
    with pytest.raises(InputError, match="no base-year emissions"):
        progress(target, {2021: 800.0})


def test_coverage_applies_to_actuals_and_base() -> None:
    result = progress(make(coverage=0.5), {2022: 1000.0})
    assert result.base_value == pytest.approx(500.0)
    assert result.years[0].actual == pytest.approx(500.0)


def test_intensity_progress_divides_by_the_denominator() -> None:
    target = make(
        kind="intensity", denominator="revenue", denominator_unit="CNY million",
        base_denominator=100.0, reduction=0.5,
    )  # fmt: skip
    # Base 1000 t / 100 = 10 t per CNY million; 2022: 1100 t / 200 = 5.5 → ahead.
    result = progress(target, {2022: 1100.0}, denominators={2022: 200.0})
    assert result.unit == "t CO2e per CNY million"
    assert result.years[0].actual == pytest.approx(5.5)
    assert result.years[0].pathway == pytest.approx(9.0)
    assert result.status == "on_track"
    with pytest.raises(InputError, match=r"give the revenue \[CNY million\] of years \[2023\]"):
        progress(target, {2022: 1100.0, 2023: 1000.0}, denominators={2022: 200.0})


def test_renewable_target_follows_re_progress() -> None:
    target = make(
        kind="renewable_electricity", scopes="2", reduction=None, target_share=1.0,
        base_emissions_t_co2e=None, base_year=2021,
    )  # fmt: skip
    result = progress(target, {2021: 0.1, 2024: 0.4})
    assert result.re is not None
    assert result.re.required_per_year == pytest.approx(0.1)
    assert result.status == "on_track"
    assert result.unit == "fraction"
    assert result.years[-1].pathway == pytest.approx(0.4)
    behind = progress(target, {2021: 0.1, 2024: 0.2})
    assert behind.status == "off_track"
    assert behind.years[-1].gap == pytest.approx(0.2)  # pathway 0.4 − actual 0.2


def test_renewable_reason_says_what_holds_in_each_case() -> None:
    """A reached target read "0 percentage points a year still needed" (issue 10)."""
    target = make(
        kind="renewable_electricity", scopes="2", reduction=None, target_share=0.8,
        base_emissions_t_co2e=None, base_year=2021, target_year=2030,
    )  # fmt: skip
    reached = progress(target, {2021: 0.5, 2024: 0.85})
    assert reached.reason == (
        "renewable share 85.0% in 2024, already at or above the target of 80% for 2030: on track"
    )
    assert reached.reason_zh.startswith(
        "2024 年可再生电力占比 85.0%，已达到或超过 2030 年 80% 的目标："
    )
    running = progress(target, {2021: 0.2, 2024: 0.5})
    assert running.reason == (
        "renewable share 50.0% in 2024, 5 percentage points a year still needed to reach 80% "
        "in 2030: on track"
    )
    late = progress(target, {2021: 0.2, 2030: 0.7})
    assert late.reason == (
        "renewable share 70.0% in 2030, 10 percentage points short of the target of 80% for "
        "2030: off track"
    )
    assert "尚差 10 个百分点" in late.reason_zh


def test_recalculation_warning_from_a_significant_recalculation() -> None:
    base = {"A": 500.0, "B": 500.0}
    result = recalculate(base, [StructuralChange("acquisition", "C", 80.0)])
    assert result.triggered
    (warning,) = recalculation_warnings(make(), result)
    assert warning.code == "base_year_recalculation"
    assert "add up to 8.0% of base-year emissions (threshold 5%, cumulative)" in warning.message
    assert "acquisition of C adds 80 t" in warning.message
    assert "重新计算基准年" in warning.message_zh


def test_no_recalculation_warning_below_the_threshold_and_from_assessments() -> None:
    base = {"A": 500.0, "B": 500.0}
    small = recalculate(base, [StructuralChange("acquisition", "C", 30.0)])
    assert recalculation_warnings(make(), small) == []
    # The same assessments, cumulative against a 2 % threshold: 3 % → warning.
    warned = recalculation_warnings(make(), small.assessments, threshold=0.02)
    assert [w.code for w in warned] == ["base_year_recalculation"]
    organic = recalculate(base, [StructuralChange("organic", "A", 200.0)])
    assert recalculation_warnings(make(), organic.assessments, threshold=0.01) == []


def test_scope3_share_warning_without_a_scope3_target() -> None:
    totals = {"scope1": 100.0, "scope2_location": 300.0, "scope2_market": 200.0, "scope3": 250.0}
    # S3 = 250 / (100 + 200 + 250) = 45.5 % with market-based scope 2.
    (warning,) = recalculation_warnings(make(), [], totals=totals)
    assert warning.code == "scope3_target_missing"
    assert "scope 3 is now 45.5% of scopes 1+2+3 (scope 2 market-based)" in warning.message
    s3_target = make(id="s3", scopes="3")
    assert recalculation_warnings(make(), [], totals=totals, targets=[s3_target]) == []
    low = {"scope1": 100.0, "scope2_location": 300.0, "scope3": 250.0}  # 38.5 % location
    assert recalculation_warnings(make(), [], totals=low) == []
