"""SBTi checks and temperature scores on the reference company's 2021 inventory and targets.

Sources and what is (not) verified
----------------------------------
* Inventory 2021 [S]: scope 1 19,000 t, scope 2 2,349,000 t, scope 3 2,743,000 t CO2e (total
  5,111,000 t), from the company's carbon-neutrality roadmap (24 Feb 2022) as reported by the
  press; ``shared/reference/standards-and-data.md`` §6. Whether scope 2 is location- or
  market-based is not stated: the totals below carry no ``scope2_market`` and the code falls
  back to location-based scope 2 and says so.
* Targets [S]: SBTi-validated near-term targets, base year 2021: −70 % absolute scope 1+2 and
  −30 % absolute scope 3 by 2030 (reference §3.6). The submission year is not in the
  reference, so the 5-10 year horizon rule is not assessed here (it is unit-tested).
* Criteria [S]: SBTi Corporate Near-Term Criteria v5.2 (March 2024): 4.2 %/yr linear for
  scope 1+2 (1.5 °C), 2.5 %/yr for scope 3 (well-below 2 °C), scope 3 target required from a
  40 % share (reference §3.1, §3.3).
* Temperature score [V parameters, C arithmetic]: CDP-WWF Temperature Rating Methodology v1
  as coded in ``sbti-finance-tool`` 1.3.1 (MIT), model 4, ``Emissions|Kyoto Gases``
  regression rows from its ``regression_model_summary.xlsx`` (reference §3.5); the worked
  figures 0.268 / 1.656 / 1.013 °C are reference §5.7 [C].

Reference year of the temperature score: the time frame is counted from the year the score
is computed for; a 2030 target is "mid" (5-15 years, regression ``slope15``) for reference
years 2015-2025. §5.7 uses the mid time frame; 2024 is used here, and the test shows that 2026
(4 years before 2030) would put the targets in the "short" frame (``slope5``).

Tolerances: target emissions are products of whole tonnes and exact fractions: relative
1e-12 (floating point only). ARRs and the scope 3 share are published rounded to two decimals
of a percent and one decimal of a percent: compared after the same rounding. Temperature
scores are published to three decimals: absolute 5e-4 (half a unit of the last published
digit).
"""

from __future__ import annotations

import pytest

from esgledger.targets.model import Target, annual_reduction_rate, pathway, target_emissions
from esgledger.targets.sbti import CheckStatus, check_ambition, check_target_set, scope3_share
from esgledger.targets.temperature import FALLBACK_C, company_score, time_frame

S1, S2, S3 = 19_000.0, 2_349_000.0, 2_743_000.0
TOTALS = {"scope1": S1, "scope2_location": S2, "scope3": S3, "total": S1 + S2 + S3}

S12_TARGET = Target(
    id="s12", name="Scope 1+2 -70 %", name_zh="范围一二减排70%", kind="absolute", scopes="1+2",
    base_year=2021, target_year=2030, reduction=0.70, ambition="1.5C",
)  # fmt: skip
S3_TARGET = Target(
    id="s3", name="Scope 3 -30 %", name_zh="范围三减排30%", kind="absolute", scopes="3",
    base_year=2021, target_year=2030, reduction=0.30, ambition="WB2C",
)  # fmt: skip


def test_scope12_target_and_rate() -> None:
    assert target_emissions(S12_TARGET, S1 + S2) == pytest.approx(710_400.0, rel=1e-12)
    rate = annual_reduction_rate(S12_TARGET)
    assert round(rate * 100, 2) == 7.78
    result = check_ambition(S12_TARGET)
    assert result.passed
    assert "linear annual reduction 7.78 %/yr" in result.message
    # The 1.5 °C floor (4.2 %/yr × 9 years = 37.8 %) allows up to 1,472,896 t.
    floor = Target(
        id="floor", name="floor", kind="absolute", scopes="1+2", base_year=2021,
        target_year=2030, reduction=0.042 * 9,
    )  # fmt: skip
    assert target_emissions(floor, S1 + S2) == pytest.approx(1_472_896.0, rel=1e-12)


def test_scope3_target_and_rate() -> None:
    assert target_emissions(S3_TARGET, S3) == pytest.approx(1_920_100.0, rel=1e-12)
    assert round(annual_reduction_rate(S3_TARGET) * 100, 2) == 3.33
    assert check_ambition(S3_TARGET).passed
    floor = Target(
        id="floor", name="floor", kind="absolute", scopes="3", base_year=2021,
        target_year=2030, reduction=0.025 * 9,
    )  # fmt: skip
    assert target_emissions(floor, S3) == pytest.approx(2_125_825.0, rel=1e-12)


def test_linear_not_compounded() -> None:
    """Reference §3.3: 4.2 % a year over nine years is 37.8 % linear, 32.0 % compounded; a
    32.0 % target therefore fails the 1.5 °C minimum."""
    linear = Target(
        id="lin", name="linear", kind="absolute", scopes="1+2", base_year=2021,
        target_year=2030, reduction=round(0.042 * 9, 10),
    )  # fmt: skip
    assert linear.reduction == pytest.approx(0.378)
    assert check_ambition(linear).passed
    compounded = round(1 - (1 - 0.042) ** 9, 3)
    assert compounded == 0.320
    short = linear.model_copy(update={"id": "cmp", "reduction": compounded})
    assert not check_ambition(short).passed
    # The linear pathway reaches exactly 62.2 % of the base in 2030, in equal steps.
    path = pathway(linear, 100.0)
    steps = {round(path[y] - path[y + 1], 9) for y in range(2021, 2030)}
    assert steps == {4.2}


def test_scope3_share_requires_a_scope3_target() -> None:
    share, method = scope3_share(TOTALS)
    assert round(share * 100, 1) == 53.7
    assert method.value == "location"
    results = check_target_set([S12_TARGET, S3_TARGET], TOTALS)
    by_rule = {(r.target_id, r.rule): r for r in results}
    required = by_rule[(None, "scope3_target_required")]
    assert required.passed
    assert "scope 3 is 53.7 % of scopes 1+2+3 (scope 2 location-based)" in required.message
    without = {r.rule: r for r in check_target_set([S12_TARGET], TOTALS)}
    assert not without["scope3_target_required"].passed
    assert "is required, but there is none" in without["scope3_target_required"].message
    # Every rule that can be assessed passes; only the horizon lacks a submission year.
    assessed = [r for r in results if r.status is not CheckStatus.NOT_ASSESSED]
    assert all(r.passed for r in assessed)
    assert {r.rule for r in results if r.status is CheckStatus.NOT_ASSESSED} == {
        "near_term_horizon"
    }


def test_temperature_scores_mid_time_frame() -> None:
    assert time_frame(2030, 2024) == "mid"
    result = company_score([S12_TARGET, S3_TARGET], S1 + S2, S3, 2024)
    assert result.s1s2.score_c == pytest.approx(0.268, abs=5e-4)
    assert result.s3.score_c == pytest.approx(1.656, abs=5e-4)
    assert result.s1s2s3_c == pytest.approx(1.013, abs=5e-4)
    assert result.method == "emissions_weighted"
    for score in (result.s1s2, result.s3):
        assert score.regression is not None
        assert (score.regression.model, score.regression.slope) == (4, "slope15")
        assert score.regression.variable == "Emissions|Kyoto Gases"
    # The planned 1.3 °C floor would lift the S1+S2 score only.
    floored = company_score([S12_TARGET, S3_TARGET], S1 + S2, S3, 2024, floor_c=1.3)
    assert floored.s1s2.score_c == 1.3
    assert floored.s3.score_c == pytest.approx(result.s3.score_c)
    # From 2026 the 2030 targets are "short" (slope5) and no longer score in the mid frame.
    assert time_frame(2030, 2026) == "short"
    assert company_score([S12_TARGET, S3_TARGET], S1 + S2, S3, 2026).s1s2.fallback


def test_no_target_scores_the_fallback() -> None:
    result = company_score([], S1 + S2, S3, 2024)
    assert result.s1s2s3_c == FALLBACK_C == 3.2
    assert result.s1s2.fallback
    assert result.s3.fallback
