"""Planner: measures, ramp-up, selectors, caps, sequential interaction, scenario, gap, MACC.

Every expected figure is worked by hand in the comment next to it."""

from __future__ import annotations

import pyarrow as pa
import pytest

from esgledger.errors import InputError
from esgledger.targets.planner import (
    Lever,
    LineSelector,
    Measure,
    addressed_baseline_t,
    cap_measures,
    macc,
    measure_effect,
    measures_from_rows,
    residual_gap,
    scenario,
)


def measure(
    id: str,
    cost: float,
    reduction: float,
    *,
    start: int = 2025,
    ramp: int = 0,
    acts_on: str = "",
    lever: Lever = Lever.EFFICIENCY,
    currency: str = "CNY",
) -> Measure:
    return Measure(
        id=id,
        name=f"Measure {id}",
        name_zh=f"措施{id}",
        lever=lever,
        cost_per_t=cost,
        currency=currency,
        reduction_t_co2e_per_yr=reduction,
        start_year=start,
        ramp_years=ramp,
        acts_on=LineSelector.parse(acts_on),
    )


def lines() -> pa.Table:
    """Base-year line items with the engine's column names and types.

    scope 2 electricity at DC1 1,000 t; scope 2 electricity at DC2 500 t; scope 1 diesel at
    DC1 200 t; scope 3 category 1 purchased goods 2,000 t; one excluded line (no factor).
    """
    return pa.table(
        {
            "scope": pa.array([2, 2, 1, 3, 2], pa.int8()),
            "scope3_category": pa.array([None, None, None, 1, None], pa.int8()),
            "activity": ["electricity.grid", "electricity.grid", "fuel.diesel", "spend.it", "x"],
            "entity": ["HK", "HK", "HK", "HK", "HK"],
            "site": ["DC1", "DC2", "DC1", None, "DC1"],
            "co2e_kg_consolidated": pa.array([1e6, 5e5, 2e5, 2e6, None], pa.float64()),
            "excluded": [False, False, False, False, True],
        }
    )


def test_linear_ramp_up() -> None:
    # 1,000 t/yr from 2025 over 4 years: 1/4, 2/4, 3/4, 4/4 of the potential.
    m = measure("PUE", -50.0, 1000.0, start=2025, ramp=4)
    assert [measure_effect(m, y) for y in range(2024, 2030)] == [
        0.0,
        250.0,
        500.0,
        750.0,
        1000.0,
        1000.0,
    ]
    assert measure_effect(measure("PV", 10.0, 80.0, ramp=0), 2025) == 80.0


def test_selector_picks_lines_at_a_dot_boundary() -> None:
    table = lines()
    assert addressed_baseline_t(LineSelector.parse("activity=electricity"), table) == 1500.0
    assert addressed_baseline_t(LineSelector.parse("activity=electric"), table) == 0.0
    assert addressed_baseline_t(LineSelector.parse("scope=2; site=DC1"), table) == 1000.0
    assert addressed_baseline_t(LineSelector.parse("category=1"), table) == 2000.0
    # Every line but the excluded one: 1,000 + 500 + 200 + 2,000.
    assert addressed_baseline_t(LineSelector(), table) == 3700.0


def test_selector_round_trips_and_refuses_nonsense() -> None:
    text = "scope=3; category=1,4; entity=HK"
    assert str(LineSelector.parse(text)) == text
    with pytest.raises(InputError, match="is not key=value with a key of scope, category"):
        LineSelector.parse("plant=DC1")
    with pytest.raises(InputError, match="outside 1-15"):
        LineSelector(scope3_categories=(16,))
    with pytest.raises(InputError, match="but only scopes \\[2\\], so it picks nothing"):
        LineSelector(scopes=(2,), scope3_categories=(1,))


def test_measure_capped_at_the_emissions_it_addresses() -> None:
    # Diesel lines hold 200 t; a 500 t/yr fleet measure is capped at 200 t/yr.
    fleet = measure("EV", 80.0, 500.0, acts_on="scope=1", lever=Lever.ELECTRIFICATION)
    pv = measure("PV", 10.0, 100.0, acts_on="scope=2; site=DC1", lever=Lever.ONSITE_PV)
    capped, kept = cap_measures([fleet, pv], lines())
    assert capped.capped
    assert capped.measure.reduction_t_co2e_per_yr == 200.0
    assert (capped.potential_t, capped.addressed_t) == (500.0, 200.0)
    assert "potential 500.0 t CO2e/yr exceeds the 200.0 t CO2e" in capped.message
    assert "capped at 200.0 t CO2e/yr" in capped.message
    assert "已按 200.0 吨/年封顶" in capped.message_zh
    assert not kept.capped
    assert kept.measure is pv
    assert kept.message == ""


def test_two_measures_on_the_same_lines_apply_sequentially_in_macc_order() -> None:
    # Efficiency (-20 /t) takes 300 t of the 1,500 t of scope 2; green power (+50 /t) wants
    # 1,400 t but only 1,200 t remain. Remaining: 1,500 - 300 - 1,200 = 0 scope 2, plus
    # 200 t scope 1 and 2,000 t scope 3 = 2,200 t.
    eff = measure("EFF", -20.0, 300.0, acts_on="scope=2")
    gp = measure("GP", 50.0, 1400.0, acts_on="scope=2", lever=Lever.GREEN_POWER)
    table = scenario(lines(), [gp, eff], [2025])
    row = table.to_pylist()[0]
    assert row["abated_t_co2e.EFF"] == 300.0
    assert row["abated_t_co2e.GP"] == pytest.approx(1200.0, abs=1e-9)
    assert row["bau_t_co2e"] == 3700.0
    assert row["remaining_t_co2e"] == pytest.approx(2200.0, abs=1e-9)
    # The columns follow MACC order, cheapest first, whatever order the caller gave.
    assert table.column_names[4:] == ["abated_t_co2e.EFF", "abated_t_co2e.GP"]


def test_scenario_never_abates_more_than_the_pool_holds() -> None:
    # One pool of 1,000 t: 700 + 700 wanted, 1,000 abated, nothing left.
    table = scenario(1000.0, [measure("A", 1.0, 700.0), measure("B", 2.0, 700.0)], [2025])
    row = table.to_pylist()[0]
    assert row["abated_t_co2e.A"] == 700.0
    assert row["abated_t_co2e.B"] == pytest.approx(300.0, abs=1e-9)
    assert row["remaining_t_co2e"] == pytest.approx(0.0, abs=1e-9)


def test_scenario_growth_and_ramp() -> None:
    # BAU 1,000 t in 2024 growing 10 %/yr: 1,000, 1,100, 1,210. A 400 t measure from 2025
    # ramping over 2 years: 0, 200, 400. Remaining: 1,000, 900, 810.
    table = scenario(
        1000.0, [measure("A", 5.0, 400.0, start=2025, ramp=2)], range(2024, 2027), growth_rate=0.1
    )
    assert table["bau_t_co2e"].to_pylist() == pytest.approx([1000.0, 1100.0, 1210.0])
    assert table["abated_t_co2e.A"].to_pylist() == [0.0, 200.0, 400.0]
    assert table["remaining_t_co2e"].to_pylist() == pytest.approx([1000.0, 900.0, 810.0])


def test_scenario_with_a_baseline_year_by_year() -> None:
    table = scenario({2025: 800.0, 2026: 900.0}, [measure("A", 5.0, 100.0)], [2025, 2026])
    assert table["remaining_t_co2e"].to_pylist() == [700.0, 800.0]
    with pytest.raises(InputError, match=r"no emissions for years \[2027\]"):
        scenario({2025: 800.0}, [], [2025, 2027])
    with pytest.raises(InputError, match="already holds its growth"):
        scenario({2025: 800.0}, [], [2025], growth_rate=0.02)


def test_residual_gap_at_each_year_and_the_target_year() -> None:
    # 1,000 t flat, 300 t abated from 2025: 700 t remain. Target 900 t in 2025 (met by 200 t),
    # 500 t in 2030 (gap 200 t).
    table = scenario(1000.0, [measure("A", 5.0, 300.0)], range(2025, 2031))
    gap = residual_gap(table, {2025: 900.0, 2030: 500.0})
    assert gap.target_year == 2030
    assert gap.gap_t_co2e == 200.0
    assert not gap.met
    assert gap.by_year["gap_t_co2e"].to_pylist() == [-200.0, 200.0]
    with pytest.raises(InputError, match="the target year is 2035; run the scenario through"):
        residual_gap(table, {2035: 0.0})


def test_macc_ordering_widths_and_cumulative_abatement() -> None:
    # Costs 50, -20, 10 CNY/t and widths 100, 200, 300 t/yr: order -20, 10, 50;
    # cumulative ends 200, 500, 600; annual cost -4,000, 3,000, 5,000 CNY/yr.
    table = macc([measure("C", 50.0, 100.0), measure("A", -20.0, 200.0), measure("B", 10.0, 300.0)])
    assert table["id"].to_pylist() == ["A", "B", "C"]
    assert table["rank"].to_pylist() == [1, 2, 3]
    assert table["cumulative_start_t_co2e_per_yr"].to_pylist() == [0.0, 200.0, 500.0]
    assert table["cumulative_end_t_co2e_per_yr"].to_pylist() == [200.0, 500.0, 600.0]
    assert table["annual_cost"].to_pylist() == [-4000.0, 3000.0, 5000.0]


def test_macc_with_lines_shrinks_the_dearer_overlapping_measure() -> None:
    # As in the sequential test: EFF 300 t, GP 1,200 of its 1,400 t (capped).
    eff = measure("EFF", -20.0, 300.0, acts_on="scope=2")
    gp = measure("GP", 50.0, 1400.0, acts_on="scope=2")
    table = macc([gp, eff], lines())
    assert table["abatement_t_co2e_per_yr"].to_pylist() == pytest.approx([300.0, 1200.0])
    assert table["capped"].to_pylist() == [False, True]
    assert table["cumulative_end_t_co2e_per_yr"].to_pylist() == pytest.approx([300.0, 1500.0])


def test_macc_refuses_mixed_currencies_and_duplicate_ids() -> None:
    with pytest.raises(InputError, match="costed in CNY, USD; a MACC needs one currency"):
        macc([measure("A", 1.0, 1.0), measure("B", 1.0, 1.0, currency="USD")])
    with pytest.raises(InputError, match=r"measure ids \['A'\] are used more than once"):
        macc([measure("A", 1.0, 1.0), measure("A", 2.0, 1.0)])


def test_invalid_measure_lists_every_problem() -> None:
    with pytest.raises(InputError, match="measure 'X' is not valid") as info:
        measure("X", 1.0, -5.0, ramp=-1, currency="yuan")
    columns = {issue.column for issue in info.value.issues}
    assert columns == {"reduction_t_co2e_per_yr", "ramp_years", "currency"}


def test_measures_from_rows_reads_the_schema_columns_and_reports_rows() -> None:
    good = {
        "id": "PUE",
        "name": "PUE",
        "lever": "efficiency",
        "cost_per_t": "-30",
        "currency": "cny",
        "reduction_t_co2e_per_yr": "1200",
        "start_year": "2025",
        "ramp_years": "3",
        "acts_on": "scope=2; site=DC1",
    }
    [m] = measures_from_rows([good])
    assert (m.currency, m.ramp_years, m.acts_on.sites, m.name_zh) == ("CNY", 3, ("DC1",), "PUE")
    bad = dict(good, id="PUE", start_year="2025.5")
    with pytest.raises(InputError, match=r"measures\.csv: 2 problem") as info:
        measures_from_rows([good, bad, dict(good)], file="measures.csv")
    problems = [(i.row, i.column, i.problem) for i in info.value.issues]
    assert problems == [
        (3, "start_year", "not a whole number"),
        (4, "id", "id already used on row 2"),
    ]
