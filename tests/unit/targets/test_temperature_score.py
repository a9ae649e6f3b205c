"""Temperature score: time frames, regression rows, floor, fallback, coverage, aggregation.

Hand-checkable figures use the shipped model-4 rows (data/sbti/regression_parameters.csv).
"""

from __future__ import annotations

import pytest

from _targets_support import make_target as make
from esgledger.errors import InputError
from esgledger.targets.temperature import (
    FALLBACK_C,
    PLANNED_FLOOR_C,
    company_score,
    load_regression,
    score_category,
    target_score,
    time_frame,
)


@pytest.mark.parametrize(
    ("target_year", "reference_year", "frame"),
    [
        (2028, 2024, "short"),
        (2029, 2024, "mid"),
        (2039, 2024, "mid"),
        (2040, 2024, "long"),
        (2054, 2024, "long"),
        (2055, 2024, None),
        (2023, 2024, None),
        (2024, 2024, "short"),
    ],
)
def test_time_frame_buckets(target_year: int, reference_year: int, frame: str | None) -> None:
    assert time_frame(target_year, reference_year) == frame


def test_regression_rows_are_shipped_data() -> None:
    rows = {(r.variable, r.slope): r for r in load_regression(4)}
    assert rows[("Emissions|Kyoto Gases", "slope15")].param == -0.312329
    assert rows[("INT.emKyoto_gdp", "slope15")].intercept == 4.107377
    assert len(rows) == 7
    with pytest.raises(
        InputError, match=r"no regression parameters for model 3: shipped models \[4\]"
    ):
        load_regression(3)


def test_score_uses_the_row_of_its_time_frame_and_records_it() -> None:
    # ARR 5 %/yr; short time frame (2030 − 2027 = 3 years): slope5.
    short = target_score(make(), "s1s2", 2027)
    assert short.score_c == pytest.approx(-0.212692 * 5 + 2.574303)
    assert short.regression is not None
    assert (short.regression.slope, short.time_frame) == ("slope5", "short")
    assert "model 4, Emissions|Kyoto Gases, slope5, short time frame from 2027" in short.reason
    long = target_score(make(target_year=2045, reduction=0.75), "s1s2", 2024)
    assert long.regression is not None
    assert long.regression.slope == "slope30"
    assert long.score_c == pytest.approx(-0.483331 * 3 + 2.841338)


def test_floor_applies_to_very_ambitious_targets() -> None:
    # ARR 10 %/yr, mid: −0.312329 × 10 + 2.697261 = −0.426 → floored.
    target = make(reduction=1.0)
    default = target_score(target, "s1s2", 2022)
    assert default.score_c == 0.0
    assert default.floored
    planned = target_score(target, "s1s2", 2022, floor_c=PLANNED_FLOOR_C)
    assert planned.score_c == pytest.approx(1.3)


def test_coverage_below_the_threshold_scales_the_ambition() -> None:
    full = target_score(make(coverage=0.95), "s1s2", 2022)
    assert not full.scaled
    partial = target_score(make(coverage=0.5), "s1s2", 2022)
    assert partial.scaled
    assert partial.arr == pytest.approx(0.025)
    assert partial.score_c == pytest.approx(-0.312329 * 2.5 + 2.697261)
    s3 = target_score(make(scopes="3", coverage=0.7), "s3", 2022)
    assert not s3.scaled  # the S3 threshold is 67 %
    categories = {str(c): 0.0 for c in range(1, 16)} | {"1": 60.0, "6": 40.0}
    by_category = target_score(make(scopes="3:6"), "s3", 2022, scope3_by_category=categories)
    assert by_category.coverage == pytest.approx(0.4)
    assert by_category.scaled


def test_fallbacks() -> None:
    no_target = score_category([], "s1s2", 2024)
    assert no_target.fallback
    assert no_target.score_c == FALLBACK_C
    assert no_target.regression is None
    assert "no valid S1+S2 target in the mid time frame from 2024: fallback score 3.2" in (
        no_target.reason
    )
    expired = target_score(make(target_year=2022), "s1s2", 2024)
    assert expired.fallback
    assert "outside 0-30 years of 2024" in expired.reason
    per_employee = make(
        kind="intensity", denominator="employees", denominator_unit="employee",
        base_denominator=100.0,
    )  # fmt: skip
    assert target_score(per_employee, "s1s2", 2022).fallback
    # Revenue intensity maps to INT.emKyoto_gdp, shipped for slope15 only.
    per_revenue = make(
        kind="intensity", denominator="revenue", denominator_unit="CNY million",
        base_denominator=100.0,
    )  # fmt: skip
    mid = target_score(per_revenue, "s1s2", 2022)
    assert mid.score_c == pytest.approx(-0.533878 * 5 + 4.107377)
    short = target_score(per_revenue, "s1s2", 2028)
    assert short.fallback
    assert "no shipped regression row for INT.emKyoto_gdp, slope5" in short.reason
    with pytest.raises(InputError, match="scope_category must be 's1s2' or 's3'"):
        target_score(make(), "s2", 2022)


def test_a_short_target_does_not_score_in_the_mid_frame() -> None:
    result = score_category([make(target_year=2026)], "s1s2", 2024)
    assert result.fallback
    assert score_category([make(target_year=2026)], "s1s2", 2024, frame="short").target_id == "t"


def test_company_score_s3_below_40_percent_uses_s1s2() -> None:
    result = company_score([make()], 700.0, 300.0, 2022)
    assert result.method == "s1s2_only"
    assert result.s1s2s3_c == pytest.approx(result.s1s2.score_c)
    assert result.s3.fallback


def test_company_score_weights_by_emissions_from_40_percent() -> None:
    result = company_score([make()], 600.0, 400.0, 2022)
    assert result.method == "emissions_weighted"
    expected = (result.s1s2.score_c * 600 + FALLBACK_C * 400) / 1000
    assert result.s1s2s3_c == pytest.approx(expected)
    with pytest.raises(InputError, match="must be >= 0 and not both 0"):
        company_score([make()], 0.0, 0.0, 2022)


def test_a_combined_target_scores_both_categories() -> None:
    result = company_score([make(scopes="1+2+3")], 500.0, 500.0, 2022)
    assert result.s1s2.target_id == result.s3.target_id == "t"
    assert result.s1s2.score_c == pytest.approx(result.s3.score_c)
