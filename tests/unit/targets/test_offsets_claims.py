"""Claims check: reductions and green power first, credits for the residual only, net zero
with permanent removals only. Figures are chosen so each share can be checked by hand."""

from __future__ import annotations

from datetime import date

import pytest

from esgledger.errors import InputError
from esgledger.targets.offsets import (
    Claim,
    ClaimBoundary,
    ClaimKind,
    ClaimRules,
    Credit,
    CreditKind,
    EmissionTotals,
    Permanence,
    Purpose,
    Register,
    Retirement,
    claims_check,
)

AVOID = Credit("AV", "Verra", "Cookstoves", "cookstoves", CreditKind.AVOIDANCE, "VCS", 2023, 5000.0)
FOREST = Credit(
    "FO",
    "Verra",
    "Forest",
    "forestry",
    CreditKind.REMOVAL,
    "VCS",
    2024,
    5000.0,
    permanence=Permanence.TEMPORARY,
)
DACCS = Credit(
    "DA",
    "Puro",
    "DAC plant",
    "DACCS",
    CreditKind.REMOVAL,
    "Puro",
    2049,
    5000.0,
    permanence=Permanence.PERMANENT,
)
OLD = Credit("OLD", "Verra", "Hydro", "hydro", CreditKind.AVOIDANCE, "CDM", 2018, 5000.0)


def retire(
    credit: str, volume: float, ref: str, year: int = 2025, purpose: Purpose = Purpose.NEUTRALITY
) -> Retirement:
    return Retirement(credit, volume, date(year + 1, 2, 1), year, "HK", purpose, ref)


def register(*retirements: Retirement) -> Register:
    return Register((AVOID, FOREST, DACCS, OLD), retirements)


# Operations: base year 2021 scope 1 100 t + scope 2 900 t = 1,000 t. In 2025 the same
# location-based emissions, but market-based scope 2 is 100 t: green power 800 t, residual
# (market-based) 100 + 100 = 200 t.
BASE_OPS = EmissionTotals(2021, scope1_t=100.0, scope2_location_t=900.0)
OPS_2025 = EmissionTotals(2025, scope1_t=100.0, scope2_location_t=900.0, scope2_market_t=100.0)
NEUTRAL_2025 = Claim(ClaimKind.CARBON_NEUTRAL, 2025)


def test_neutrality_claim_resting_80_percent_on_green_power() -> None:
    reg = register(retire("AV", 150.0, "R1"), retire("FO", 50.0, "R2"))
    result = claims_check(NEUTRAL_2025, OPS_2025, BASE_OPS, reg)
    assert result.passed
    assert (result.reductions_t, result.green_power_t, result.residual_t) == (0.0, 800.0, 200.0)
    assert (result.avoidance_t, result.removal_t, result.uncovered_t) == (150.0, 50.0, 0.0)
    # Of the 1,000 t claim: 800 green power, 150 avoidance, 50 removal.
    assert result.shares == {
        "reductions": 0.0,
        "green_power": 0.8,
        "avoidance": 0.15,
        "removal": 0.05,
        "uncovered": 0.0,
    }
    assert result.reasons[0].message == "carbon neutral claim for 2025 (operations): passes"
    assert result.reasons[0].message_zh == "2025 年碳中和声明（运营）：通过"


def test_credits_beyond_the_residual_are_flagged_not_counted() -> None:
    # 300 t retired, 200 t residual: the removal fills first (50 t), avoidance 150 of 250 t.
    reg = register(retire("AV", 250.0, "R1"), retire("FO", 50.0, "R2"))
    result = claims_check(NEUTRAL_2025, OPS_2025, BASE_OPS, reg)
    assert result.passed
    assert (result.removal_t, result.avoidance_t, result.excess_t) == (50.0, 150.0, 100.0)
    use = {u.reference: u for u in result.uses}["R1"]
    assert (use.counted_t, use.excess_t) == (150.0, 100.0)
    assert use.why == "100.0 t beyond the residual: flagged, not counted"
    excess = {r.code: r for r in result.reasons}["excess_credits"]
    assert "100.0 t of credits retired beyond the residual" in excess.message
    assert sum(result.shares.values()) == pytest.approx(1.0)


def test_old_vintage_does_not_count_and_the_claim_fails() -> None:
    # 2018 vintage for a 2025 claim: 7 years > 5 (default, an assumption).
    result = claims_check(NEUTRAL_2025, OPS_2025, BASE_OPS, register(retire("OLD", 200.0, "R1")))
    assert not result.passed
    assert result.uncovered_t == 200.0
    assert result.shares["uncovered"] == pytest.approx(0.2)
    [use] = result.uses
    assert use.ineligible_t == 200.0
    assert use.why.startswith("vintage 2018 is 7 years before the claim year, more than 5")
    # A looser vintage rule lets it count.
    loose = claims_check(
        NEUTRAL_2025,
        OPS_2025,
        BASE_OPS,
        register(retire("OLD", 200.0, "R1")),
        rules=ClaimRules(max_vintage_age_years=10),
    )
    assert loose.passed


def test_neutrality_resting_on_credits_alone_fails_reduction_first() -> None:
    flat = EmissionTotals(2025, scope1_t=100.0, scope2_location_t=900.0)
    result = claims_check(NEUTRAL_2025, flat, BASE_OPS, register(retire("AV", 1000.0, "R1")))
    assert not result.passed
    [failure] = result.failures()[1:]
    assert failure.code == "reduction_first"
    assert "the claim rests on credits alone" in failure.message
    assert "声明完全依赖碳信用" in failure.message_zh


def test_retirements_for_another_purpose_or_year_do_not_count() -> None:
    reg = register(
        retire("AV", 200.0, "R1", purpose=Purpose.OTHER), retire("AV", 200.0, "R2", 2024)
    )
    result = claims_check(NEUTRAL_2025, OPS_2025, BASE_OPS, reg)
    assert not result.passed
    assert [u.reference for u in result.uses] == ["R1"]
    assert result.uses[0].why == "retired for purpose other, not neutrality"


# Net zero: base year 2021 scopes 1+2+3 = 1,000 + 4,000 + 5,000 = 10,000 t. In 2050 scope 1
# 100 t, scope 2 500 t location-based and 0 market-based, scope 3 700 t: residual 800 t
# (8 % of the base year), reductions 10,000 - 1,300 = 8,700 t, green power 500 t.
BASE_ALL = EmissionTotals(2021, scope1_t=1000.0, scope2_location_t=4000.0, scope3_t=5000.0)
ALL_2050 = EmissionTotals(2050, 100.0, 500.0, scope3_t=700.0, scope2_market_t=0.0)
NET_ZERO_2050 = Claim(ClaimKind.NET_ZERO, 2050, ClaimBoundary.OPERATIONS_AND_SUPPLY_CHAIN)


def test_net_zero_with_permanent_removals_passes() -> None:
    reg = register(retire("DA", 800.0, "N1", 2050, Purpose.NET_ZERO))
    result = claims_check(NET_ZERO_2050, ALL_2050, BASE_ALL, reg)
    assert result.passed
    assert result.shares == {
        "reductions": 0.87,
        "green_power": 0.05,
        "avoidance": 0.0,
        "removal": 0.08,
        "uncovered": 0.0,
    }


def test_net_zero_refused_when_it_uses_avoidance_credits() -> None:
    avoid = Credit("AV50", "Verra", "Wind", "wind", CreditKind.AVOIDANCE, "VCS", 2049, 800.0)
    reg = Register((avoid,), (retire("AV50", 800.0, "N1", 2050, Purpose.NET_ZERO),))
    result = claims_check(NET_ZERO_2050, ALL_2050, BASE_ALL, reg)
    assert not result.passed
    codes = {r.code for r in result.failures()}
    assert codes == {"verdict", "residual_covered", "net_zero_avoidance"}
    assert result.avoidance_t == 0.0
    assert result.uses[0].why.startswith("avoidance credits do not neutralise residual")
    reason = {r.code: r for r in result.reasons}["net_zero_avoidance"]
    assert reason.message == (
        "800.0 t of avoidance credits were retired for net zero; they do not neutralise "
        "residual emissions, only permanent removals do"
    )


def test_avoidance_credits_beside_enough_removals_read_as_a_pass() -> None:
    """The passing reason read like the failing one (issue 10): it now says why it passes."""
    avoid = Credit("AV50", "Verra", "Wind", "wind", CreditKind.AVOIDANCE, "VCS", 2049, 100.0)
    removal = register(retire("DA", 800.0, "N1", 2050, Purpose.NET_ZERO)).credits
    reg = Register(
        (*removal, avoid),
        (
            retire("DA", 800.0, "N1", 2050, Purpose.NET_ZERO),
            retire("AV50", 100.0, "N2", 2050, Purpose.NET_ZERO),
        ),
    )
    result = claims_check(NET_ZERO_2050, ALL_2050, BASE_ALL, reg)
    reason = {r.code: r for r in result.reasons}["net_zero_avoidance"]
    assert reason.passed
    assert reason.message.endswith(
        "only permanent removals do; the residual is covered by permanent removals without them"
    )
    assert reason.message_zh.endswith("；剩余排放已由永久性碳移除中和")


def test_net_zero_refused_when_the_residual_is_above_10_percent() -> None:
    # Residual 1,500 t = 15 % of 10,000 t, fully covered by permanent removals: still no.
    high = EmissionTotals(2050, 300.0, 500.0, scope3_t=1200.0, scope2_market_t=0.0)
    reg = register(retire("DA", 1500.0, "N1", 2050, Purpose.NET_ZERO))
    result = claims_check(NET_ZERO_2050, high, BASE_ALL, reg)
    assert not result.passed
    [failure] = result.failures()[1:]
    assert failure.code == "net_zero_residual"
    assert failure.message.startswith(
        "residual 1,500.0 t is 15.0 % of base-year 2021 emissions (10,000.0 t); net zero allows "
        "at most 10.0 %"
    )


def test_net_zero_needs_scope_3_and_permanent_removals() -> None:
    ops_only = Claim(ClaimKind.NET_ZERO, 2050, ClaimBoundary.OPERATIONS)
    reg = register(retire("DA", 100.0, "N1", 2050, Purpose.NET_ZERO))
    result = claims_check(ops_only, ALL_2050, BASE_ALL, reg)
    assert {r.code for r in result.failures()} == {"verdict", "net_zero_boundary"}
    temp = Credit(
        "FO50",
        "Verra",
        "Forest",
        "forestry",
        CreditKind.REMOVAL,
        "VCS",
        2050,
        800.0,
        permanence=Permanence.TEMPORARY,
    )
    reg = Register((temp,), (retire("FO50", 800.0, "N2", 2050, Purpose.NET_ZERO),))
    result = claims_check(NET_ZERO_2050, ALL_2050, BASE_ALL, reg)
    assert not result.passed
    assert result.uses[0].why.startswith("temporary removals (e.g. forestry) do not neutralise")


def test_totals_of_the_wrong_year_are_refused() -> None:
    with pytest.raises(InputError, match="inventory totals are for 2021 but the claim is for 2025"):
        claims_check(NEUTRAL_2025, BASE_OPS, BASE_OPS, register())


def test_avoidance_credits_retired_for_neutrality_are_not_blamed_on_a_net_zero_claim() -> None:
    avoid = Credit("AV50", "Verra", "Wind", "wind", CreditKind.AVOIDANCE, "VCS", 2049, 800.0)
    reg = Register((avoid,), (retire("AV50", 800.0, "N1", 2050, Purpose.NEUTRALITY),))
    result = claims_check(NET_ZERO_2050, ALL_2050, BASE_ALL, reg)
    assert "net_zero_avoidance" not in {r.code for r in result.reasons}
    assert result.uses[0].why == "retired for purpose neutrality, not net_zero"
