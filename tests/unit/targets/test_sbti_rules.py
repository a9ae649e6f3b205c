"""SBTi rules: each rule passes a compliant target and fails one built to break it, with the
message asserted (thresholds of criteria set sbti-2024, data/sbti/criteria.csv)."""

from __future__ import annotations

from typing import Any

import pytest

from _targets_support import make_target
from esgledger.errors import InputError
from esgledger.targets.model import Target
from esgledger.targets.sbti import (
    CheckStatus,
    check_ambition,
    check_base_year,
    check_coverage_scope3,
    check_coverage_scope12,
    check_long_term_coverage_scope3,
    check_long_term_coverage_scope12,
    check_long_term_reduction,
    check_long_term_year,
    check_near_term_horizon,
    check_neutralisation,
    check_re_alternative,
    check_scope3_target_required,
    check_target_set,
    load_criteria,
    scope3_share,
)


def make(**overrides: Any) -> Target:
    return make_target(**{"base_year": 2021, "submission_year": 2022, **overrides})


# S1 100, S2 market 300 (location 400), S3 600: S3 is 60 % of the total (market-based).
TOTALS = {"scope1": 100.0, "scope2_location": 400.0, "scope2_market": 300.0, "scope3": 600.0}
CATEGORIES = {str(c): 0.0 for c in range(1, 16)} | {"1": 300.0, "2": 200.0, "6": 100.0}


def test_criteria_are_versioned_data() -> None:
    criteria = load_criteria()
    assert criteria.version == "sbti-2024"
    assert criteria["min_annual_reduction_1p5c"] == 0.042
    assert criteria["coverage_scope3"] == 0.67
    assert "[M]" in criteria.source("re_share_2030")
    with pytest.raises(InputError, match="unknown SBTi criteria version 'v9': choose one of"):
        load_criteria("v9")


def test_near_term_horizon() -> None:
    assert check_near_term_horizon(make()).passed
    result = check_near_term_horizon(make(target_year=2035))
    assert result.status is CheckStatus.FAIL
    assert result.message.startswith("FAIL — target t: target year 2035 is 13 years after")
    assert "must cover 5-10 years from submission (target year 2027-2032)" in result.message
    assert "criteria set sbti-2024" in result.message
    assert "未通过" in result.message_zh
    assert check_near_term_horizon(make(target_year=2026)).status is CheckStatus.FAIL
    unknown = check_near_term_horizon(make(submission_year=None))
    assert unknown.status is CheckStatus.NOT_ASSESSED
    assert "give submission_year" in unknown.message
    assert check_near_term_horizon(make(submission_year=None), submission_year=2024).passed


def test_base_year() -> None:
    assert check_base_year(make(base_year=2015, submission_year=2020, target_year=2025)).passed
    result = check_base_year(make(base_year=2014, submission_year=2020, target_year=2025))
    assert not result.passed
    assert "base year 2014; it must be 2015 or later" in result.message
    assert result.value == 2014
    assert result.threshold == 2015


def test_ambition_scope12_needs_4_2_percent_a_year_linear() -> None:
    # 37.8 % over nine years is exactly 4.2 %/yr linear (compounding would need only 32.0 %).
    assert check_ambition(make(reduction=0.378)).passed
    result = check_ambition(make(reduction=0.32))
    assert not result.passed
    assert result.value == pytest.approx(0.32 / 9)
    assert "linear annual reduction 3.56 %/yr (32 % over 2021-2030)" in result.message
    assert "the 1.5 °C minimum is 4.2 %/yr, i.e. at least 37.8 % by the target year" in (
        result.message
    )
    assert "线性，非复合" in result.message_zh


def test_ambition_scope3_needs_2_5_percent_unless_it_claims_1_5c() -> None:
    assert check_ambition(make(scopes="3", reduction=0.225)).passed
    result = check_ambition(make(scopes="3", reduction=0.18))
    assert not result.passed
    assert "the well-below 2 °C minimum is 2.5 %/yr" in result.message
    claimed = check_ambition(make(scopes="3", reduction=0.3, ambition="1.5C"))
    assert not claimed.passed
    assert "the 1.5 °C minimum is 4.2 %/yr" in claimed.message
    combined = check_ambition(make(scopes="1+2+3", reduction=0.3))
    assert not combined.passed  # a combined target is held to 1.5 °C


def test_ambition_of_an_intensity_target_is_not_assessed() -> None:
    target = make(
        kind="intensity", denominator="revenue", denominator_unit="CNY million",
        base_denominator=100.0,
    )  # fmt: skip
    result = check_ambition(target)
    assert result.status is CheckStatus.NOT_ASSESSED
    assert "only absolute-contraction ambition is checked" in result.message


def test_scope3_share_uses_market_based_scope2() -> None:
    share, method = scope3_share(TOTALS)
    assert share == pytest.approx(0.6)
    assert method.value == "market"


def test_scope3_target_required() -> None:
    s12 = make()
    result = check_scope3_target_required([s12], TOTALS)
    assert not result.passed
    assert result.message.startswith("FAIL — scope 3 is 60 % of scopes 1+2+3 (scope 2 market")
    assert (
        "scope 3 is 60 % of scopes 1+2+3 (scope 2 market-based), at or above the 40 % "
        "threshold: a near-term scope 3 target is required, but there is none"
    ) in result.message
    assert (
        "范围三占范围一二三合计的 60 %（范围二采用市场法），达到 40 % 的门槛："
        "须设定近期范围三目标，但当前未设定"
    ) in result.message_zh
    with_s3 = check_scope3_target_required([s12, make(id="s3", scopes="3")], TOTALS)
    assert with_s3.passed
    assert "threshold: a near-term scope 3 target is required, and there is one" in (
        with_s3.message
    )


def test_scope3_target_not_required_reads_as_a_pass() -> None:
    """Below 40 % the pass said "a near-term scope 3 target is not required at 40 % or more"
    (and "占比达到 40 % 时无须设定"), the opposite of the rule (issue 10)."""
    small = {"scope1": 100.0, "scope2_location": 300.0, "scope3": 100.0}
    result = check_scope3_target_required([make()], small)
    assert result.passed
    assert result.message.startswith(
        "PASS — scope 3 is 20 % of scopes 1+2+3 (scope 2 location-based), below the 40 % "
        "threshold: a near-term scope 3 target is not required ("
    )
    assert result.message_zh.startswith(
        "通过——范围三占范围一二三合计的 20 %（范围二采用位置法），低于 40 % 的门槛："
        "无须设定近期范围三目标（"
    )
    assert "40 % or more" not in result.message
    assert "达到 40 %" not in result.message_zh


def test_coverage_scope12() -> None:
    assert check_coverage_scope12([make()], TOTALS).passed
    # Scope 1 only (100 of 400 t market-based): 25 %.
    result = check_coverage_scope12([make(scopes="1")], TOTALS)
    assert not result.passed
    assert result.value == pytest.approx(0.25)
    assert "near-term targets cover 25 % of scope 1+2 (scope 2 market-based)" in result.message
    # Two targets on the same scopes do not add up: the higher coverage counts.
    two = [make(coverage=0.6), make(id="t2", coverage=0.6)]
    assert check_coverage_scope12(two, TOTALS).value == pytest.approx(0.6)
    # A renewable-electricity target covers scope 2.
    re_target = make(
        id="re", kind="renewable_electricity", scopes="2", reduction=None, target_share=1.0
    )
    assert check_coverage_scope12([make(scopes="1"), re_target], TOTALS).passed


def test_coverage_scope3_by_category() -> None:
    # Categories 1 and 2 = 500 of 600 t: 83 %.
    assert check_coverage_scope3([make(scopes="3:1,2")], TOTALS, CATEGORIES).passed
    result = check_coverage_scope3([make(scopes="3:2,6")], TOTALS, CATEGORIES)
    assert not result.passed
    assert result.value == pytest.approx(0.5)
    assert "near-term targets cover 50 % of scope 3; at least 67 % is required" in result.message
    with pytest.raises(InputError, match="name scope 3 categories: give scope3_by_category"):
        check_coverage_scope3([make(scopes="3:1")], TOTALS)
    assert not check_coverage_scope3([make(scopes="3", coverage=0.6)], TOTALS).passed


def test_long_term_reduction_and_year() -> None:
    net_zero = make(horizon="net_zero", target_year=2050, reduction=0.9)
    assert check_long_term_reduction(net_zero).passed
    assert check_long_term_year(net_zero).passed
    low = check_long_term_reduction(make(horizon="net_zero", target_year=2050, reduction=0.8))
    assert not low.passed
    assert "long-term reduction 80 % by 2050; net-zero needs at least 90 %" in low.message
    late = check_long_term_year(make(horizon="long_term", target_year=2055, reduction=0.9))
    assert not late.passed
    assert "long-term target year 2055; it must be 2050 at the latest" in late.message


def test_long_term_coverage() -> None:
    long_s12 = make(horizon="net_zero", target_year=2050, reduction=0.9, coverage=0.9)
    result = check_long_term_coverage_scope12([long_s12], TOTALS)
    assert not result.passed
    assert "long-term targets cover 90 % of scope 1+2" in result.message
    assert "at least 95 % is required" in result.message
    long_s3 = make(id="l3", horizon="net_zero", scopes="3:1,2", target_year=2050, reduction=0.9)
    s3 = check_long_term_coverage_scope3([long_s12, long_s3], TOTALS, CATEGORIES)
    assert not s3.passed  # 500 of 600 t = 83 % < 90 %
    assert "long-term targets cover 83.3 % of scope 3; at least 90 % is required" in s3.message
    # A near-term target does not count for long-term coverage.
    assert check_long_term_coverage_scope12([make()], TOTALS).value == 0.0


def test_neutralisation_of_the_residual() -> None:
    target = make(horizon="net_zero", target_year=2050, reduction=0.9)
    assert check_neutralisation(target, 1000.0, 100.0).passed
    result = check_neutralisation(target, 1000.0, 60.0)
    assert not result.passed
    assert result.threshold == pytest.approx(100.0)
    assert "planned permanent removals 60 t CO2e against residual emissions 100 t CO2e" in (
        result.message
    )
    assert check_neutralisation(target, 1000.0, None).status is CheckStatus.NOT_ASSESSED


def test_renewable_electricity_alternative() -> None:
    def re_target(year: int, share: float) -> Target:
        return make(
            kind="renewable_electricity", scopes="2", reduction=None, target_share=share,
            target_year=year, submission_year=None,
        )  # fmt: skip

    assert check_re_alternative(re_target(2025, 0.8)).passed
    assert check_re_alternative(re_target(2030, 1.0)).passed
    result = check_re_alternative(re_target(2030, 0.9))
    assert not result.passed
    assert "renewable electricity 90 % by 2030; the scope 2 alternative needs 80 % by 2025" in (
        result.message
    )
    assert not check_re_alternative(re_target(2025, 0.7)).passed
    assert not check_re_alternative(re_target(2032, 1.0)).passed


def test_check_target_set_runs_the_applicable_rules() -> None:
    near = [make(id="s12", reduction=0.5), make(id="s3", scopes="3", reduction=0.3)]
    net_zero = make(id="nz", scopes="1+2+3", horizon="net_zero", target_year=2050, reduction=0.9)
    results = check_target_set(
        [*near, net_zero], TOTALS, CATEGORIES, planned_removals_t={"nz": 100.0}
    )
    rules = [(r.target_id, r.rule) for r in results]
    assert rules == [
        ("s12", "base_year"), ("s12", "near_term_horizon"), ("s12", "ambition"),
        ("s3", "base_year"), ("s3", "near_term_horizon"), ("s3", "ambition"),
        ("nz", "base_year"), ("nz", "long_term_reduction"), ("nz", "long_term_year"),
        ("nz", "neutralisation"),
        (None, "scope3_target_required"), (None, "coverage_scope12"), (None, "coverage_scope3"),
        (None, "long_term_coverage_scope12"), (None, "long_term_coverage_scope3"),
    ]  # fmt: skip
    assert all(r.passed for r in results), [r.message for r in results if not r.passed]
    # The net-zero base is the inventory's S1+S2 (market) + S3 = 1000 t: residual 100 t.
    neutral = next(r for r in results if r.rule == "neutralisation")
    assert neutral.threshold == pytest.approx(100.0)
    assert results[0].to_dict()["passed"] is True
