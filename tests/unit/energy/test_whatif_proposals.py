"""Proposals: ranking by market-based t CO2e/yr then payback, constraints, economics, and
the planner measure a proposal becomes (hand-worked on the §1.1 split)."""

from __future__ import annotations

import json

import pytest

from _energy_whatif import FACTOR, PRICES, baseline
from esgledger.energy.proposals import (
    Capex,
    Constraints,
    ProposalOptions,
    annualised,
    extra_levers,
    parse_capex,
    propose,
    to_measure,
)
from esgledger.energy.whatif import CoolingCut, GreenPower, HeatReuse, UpsEcoMode
from esgledger.errors import InputError
from esgledger.targets.planner import Lever, macc

LEVERS = [
    UpsEcoMode(),
    CoolingCut(share=0.4),
    GreenPower(mwh_per_yr=500.0, premium_per_mwh=20.0),
    HeatReuse(),
]


def test_proposals_rank_by_market_based_reduction_then_payback() -> None:
    capex = {
        "cooling_cut": Capex(1_000_000.0, "CNY", 5),
        "ups_eco": Capex(50_000.0, "CNY", 10),
    }
    result = propose(baseline(), LEVERS, location=FACTOR, market=None, prices=PRICES, capex=capex)
    order = [p.lever for p in result.proposals]
    # cooling cut 1,000 MWh → 570.3 t; UPS eco (600 × (1 − 0.1919)) MWh ≈ 484.8 MWh → 276.5 t;
    # green power 500 MWh → 285.2 t (market only); heat reuse 0 t.
    assert order == ["cooling_cut", "green_power", "ups_eco", "heat_reuse"]
    assert [p.rank for p in result.proposals] == [1, 2, 3, 4]
    cut = result.proposals[0]
    assert cut.id == "energy.DC1.cooling_cut"
    assert cut.saved_t_co2e == pytest.approx(570.3, rel=1e-9)
    # 1,000 MWh × 0.8 CNY/kWh = 800,000 CNY/yr; payback 1,000,000 / 800,000 = 1.25 yr.
    assert cut.saved_cost == pytest.approx(800_000.0, rel=1e-9)
    assert cut.payback_yr == pytest.approx(1.25, rel=1e-9)
    # cost per t = (annualised capex − saving) / t.
    expected = (annualised(1_000_000.0, 5, 0.06) - 800_000.0) / 570.3
    assert cut.cost_per_t == pytest.approx(expected, rel=1e-9)
    green = result.proposals[1]
    assert green.payback_yr is None
    assert green.cost_per_t is None
    assert any(n.code == "energy.whatif.no_capex" for n in green.notes)
    heat = result.proposals[3]
    assert any(n.code == "energy.whatif.no_reduction" for n in heat.notes)
    data = json.loads(json.dumps(result.to_json(), allow_nan=False))
    assert data["advisory"]["en"].startswith("Advisory only")


def test_equal_reductions_rank_by_shorter_payback() -> None:
    # Both save 500 MWh: cooling 2,500 × 0.2; UPS losses 800 × 1.0 × 0.625 at η_eco = 1.
    cut = CoolingCut(share=0.2)
    ups = UpsEcoMode(ups_share_of_losses=1.0, eco_mode_efficiency=1.0, eco_hours_share=0.625)
    result = propose(
        baseline(), [cut, ups], location=FACTOR, market=None, prices=PRICES,
        capex={"cooling_cut": Capex(9e6, "CNY", 10), "ups_eco": Capex(1e5, "CNY", 10)},
    )  # fmt: skip
    first, second = result.proposals
    assert first.saved_t_co2e == pytest.approx(second.saved_t_co2e, rel=1e-9)
    assert [p.lever for p in result.proposals] == ["ups_eco", "cooling_cut"]
    assert first.payback_yr == pytest.approx(1e5 / 400_000.0, rel=1e-9)


def test_constraints_refuse_eco_mode_where_the_tier_needs_double_conversion() -> None:
    result = propose(
        baseline(),
        LEVERS,
        location=FACTOR,
        market=None,
        prices=PRICES,
        constraints=Constraints(requires_double_conversion=True, excluded_levers=("heat_reuse",)),
    )
    assert [p.lever for p in result.proposals] == ["cooling_cut", "green_power"]
    refused = {r.lever: r.reason for r in result.refused}
    assert set(refused) == {"ups_eco", "heat_reuse"}
    assert "double-conversion" in refused["ups_eco"].en
    assert "双变换" in refused["ups_eco"].zh


def test_capex_in_another_currency_is_refused() -> None:
    with pytest.raises(InputError, match="one currency"):
        propose(
            baseline(), [CoolingCut()], location=FACTOR, market=None, prices=PRICES,
            capex={"cooling_cut": Capex(1.0, "USD", 5)},
        )  # fmt: skip


def test_a_proposal_becomes_a_scope_2_site_measure_the_macc_takes() -> None:
    result = propose(
        baseline(), [CoolingCut(), HeatReuse()], location=FACTOR, market=None, prices=PRICES,
        capex={"cooling_cut": Capex(1_000_000.0, "CNY", 5), "heat_reuse": Capex(1.0, "CNY", 5)},
    )  # fmt: skip
    cut = result.get("energy.DC1.cooling_cut")
    measure = to_measure(cut, start_year=2026, ramp_years=2)
    assert measure.lever is Lever.EFFICIENCY
    assert str(measure.acts_on) == "scope=2; site=DC1"
    assert measure.reduction_t_co2e_per_yr == pytest.approx(570.3, rel=1e-9)
    assert (measure.name, measure.name_zh) == (
        "Cooling energy cut (optimised control) at DC1",
        "DC1 制冷能耗削减（优化控制）",
    )
    assert "test-grid" in measure.notes
    table = macc([measure])
    assert table["id"].to_pylist() == ["energy.DC1.cooling_cut"]
    with pytest.raises(InputError, match="avoids no market-based emissions"):
        to_measure(result.get("energy.DC1.heat_reuse"), start_year=2026)
    with pytest.raises(InputError, match="no proposal"):
        result.get("energy.DC1.nothing")


def test_annualised_capex_is_the_capital_recovery_annuity() -> None:
    # 1,000 over 10 yr at 6 %: 1,000 × 0.06 / (1 − 1.06^−10) = 135.868 (annuity tables).
    assert annualised(1000.0, 10, 0.06) == pytest.approx(135.868, abs=1e-3)
    assert annualised(1000.0, 4, 0.0) == 250.0


def test_adoptable_is_exactly_what_to_measure_accepts() -> None:
    capex = {"cooling_cut": Capex(1_000_000.0, "CNY", 5)}
    result = propose(baseline(), LEVERS, location=FACTOR, market=None, prices=PRICES, capex=capex)
    by_lever = {p.lever: p for p in result.proposals}
    # cooling cut: a reduction and a cost per tonne; UPS eco: no capex given, so no cost per
    # tonne; heat reuse: no reduction
    assert [k for k, p in by_lever.items() if p.adoptable] == ["cooling_cut"]
    for proposal in result.proposals:
        if proposal.adoptable:
            to_measure(proposal, start_year=2026)
        else:
            with pytest.raises(InputError):
                to_measure(proposal, start_year=2026)


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["free_cooling=2e6:15"], {"free_cooling": (2_000_000.0, 15)}),
        (["ups_eco=50000"], {"ups_eco": (50_000.0, 10)}),  # the documented default life
        ([" setpoint = 300000:5"], {"setpoint": (300_000.0, 5)}),
    ],
)
def test_capex_texts_read_as_lever_amount_and_life(
    texts: list[str], expected: dict[str, tuple[float, int]]
) -> None:
    parsed = parse_capex(texts, "cny")
    assert {k: (c.capex, c.lifetime_yr) for k, c in parsed.items()} == expected
    assert {c.currency for c in parsed.values()} == {"CNY"}


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("free_cooling", "is not lever=amount"),
        ("=5", "is not lever=amount"),
        ("free_cooling=lots", "is not lever=amount"),
        ("free_cooling=1e6:0", "at least 1 year"),
        ("free_cooling=-5", "finite amount"),
        ("free_cooling=nan", "finite amount"),
    ],
)
def test_bad_capex_texts_are_refused_naming_the_text(text: str, match: str) -> None:
    with pytest.raises(InputError, match=match):
        parse_capex([text], "CNY")


def test_pv_needs_its_position_and_the_sized_levers_are_added_on_request() -> None:
    assert extra_levers(ProposalOptions(price_per_kwh=0.8)) == []
    with pytest.raises(InputError, match="latitude and longitude"):
        extra_levers(ProposalOptions(price_per_kwh=0.8, pv_kwp=500.0, latitude=22.5))
    levers = extra_levers(
        ProposalOptions(
            price_per_kwh=0.8, pv_kwp=500.0, latitude=22.5, longitude=114.1, green_mwh=1000.0
        )
    )
    assert [lever.key for lever in levers] == ["pv", "green_power"]
