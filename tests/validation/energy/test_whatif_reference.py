"""What-if validation against the worked examples of the reference.

Source: ``shared/reference/domain-modules.md``, Module 1 (data-centre energy intelligence):
§1.1 "Worked example (annual)" [A: numbers, arithmetic checked], §1.5 "Worked example" [A],
§1.6 item 1 "Water-side economiser" example [A]. The reference marks all three [A] (its own
arithmetic on the stated inputs), so each expected figure below is re-derived by hand from
the stated inputs in the comments, never copied from the code's output.

Tolerances: the reference prints results rounded to 2-3 significant decimals, so a printed
figure is compared at half a unit of its last printed digit (e.g. PUE 1.24 at ±0.005); the
exact hand-worked value (e.g. 12,400 / 10,000) is compared at 1e-9 relative (float sums of
8,760 equal hourly values).
"""

from __future__ import annotations

import numpy as np
import pytest

from _energy_whatif import FACTOR, PRICES, baseline, hourly_table
from esgledger.energy.whatif import (
    CoolingCut,
    GreenPower,
    WaterSideEconomiser,
    baseline_from_table,
    simulate,
)


def test_section_1_6_water_side_thresholds_full_below_12_5_partial_to_18_5() -> None:
    """§1.6 item 1 [A]: CHWS 18 °C, CHWR 24 °C, tower approach 4 K, HX approach 1.5 K → full
    free cooling below 12.5 °C wet bulb (18 − 4 − 1.5), partial between 12.5 and 18.5 °C
    (24 − 4 − 1.5). Exact: the thresholds are sums of the stated values."""
    lever = WaterSideEconomiser(chws_c=18, chwr_c=24, tower_approach_k=4, hx_approach_k=1.5)
    assert lever.full_below_wet_bulb_c == 12.5
    assert lever.partial_below_wet_bulb_c == 18.5
    wet_bulb = np.array([5.0, 12.5, 12.6, 15.5, 18.4, 18.5, 25.0])
    f = lever.fraction(wet_bulb)
    # 15.5 °C: leaving water 21 °C pre-cools the 24 °C return by 3 of the 6 K → half.
    assert f.tolist()[:2] == [1.0, 1.0]
    assert 0.0 < f[2] < 1.0
    assert 0.0 < f[4] < 1.0
    assert f[3] == pytest.approx(0.5, rel=1e-12)
    assert f.tolist()[5:] == [0.0, 0.0]


def test_section_1_6_free_cooling_hours_of_a_year_follow_the_thresholds() -> None:
    """3,000 h at 10 °C wb (full), 2,000 h at 15 °C (partial), 3,760 h at 20 °C (none)."""
    wet = [10.0] * 3000 + [15.0] * 2000 + [20.0] * 3760
    result = simulate(
        baseline(wet_bulb_c=wet),
        WaterSideEconomiser(chiller_share=0.6, aux_fraction=0.0),
        location=FACTOR,
        prices=PRICES,
    )
    assert result.scenario.free_cooling_full_h == 3000
    assert result.scenario.free_cooling_partial_h == 2000
    # Chiller 60 % of 2,500 MWh spread evenly: avoided = 0.6 × 2,500 × (3,000 × 1 + 2,000 ×
    # (24 − 15 − 5.5) / 6) / 8,760 MWh.
    hourly = 2500.0 / 8760
    avoided = 0.6 * hourly * (3000 + 2000 * (24 - 15 - 5.5) / 6)
    assert result.scenario.cooling_mwh == pytest.approx(2500.0 - avoided, rel=1e-9)


def test_section_1_5_forty_percent_cooling_cut_moves_pue_1_34_to_1_24() -> None:
    """§1.5 [A]: a 40 % cooling cut (2,500 → 1,500 MWh) in the §1.1 example moves PUE from
    1.34 to 1.24, a 29 % cut in overhead. Hand: (10,000 + 1,500 + 800 + 100) / 10,000 = 1.24;
    overhead (0.34 − 0.24) / 0.34 = 0.294."""
    result = simulate(baseline(), CoolingCut(share=0.4), location=FACTOR, prices=PRICES)
    assert result.baseline.pue == pytest.approx(13_400 / 10_000, rel=1e-9)
    assert result.scenario.cooling_mwh == pytest.approx(1500.0, rel=1e-9)
    assert result.scenario.pue == pytest.approx(12_400 / 10_000, rel=1e-9)
    assert round(result.scenario.pue, 2) == 1.24  # as printed
    overhead_cut = (result.baseline.pue - result.scenario.pue) / (result.baseline.pue - 1)
    assert overhead_cut == pytest.approx(0.29, abs=0.005)
    # 1,000 MWh less grid electricity at 0.5703 kg/kWh = 570.3 t CO2e.
    assert result.saved_t_location == pytest.approx(570.3, rel=1e-9)


def test_section_1_1_baseline_kpis_cue_ref_erf_ere_wue() -> None:
    """§1.1 [A]: grid EF 0.5703 → CUE 1.34 × 0.5703 = 0.764; 4,000 MWh GECs + 500 MWh
    on-site PV → REF 4,500 / 13,400 = 0.336; 1,000 MWh heat exported → ERF 1,000 / 13,400 =
    0.075, ERE (13,400 − 1,000) / 10,000 = 1.24; 25,000 m³ water → WUE 2.5 L/kWh."""
    table = hourly_table()
    table = table.append_column("onsite_re_kwh", [np.full(8760, 500_000.0 / 8760)])
    base = baseline_from_table(table, site="DC1", water_l=25_000_000.0, heat_export_kwh=1_000_000.0)
    # Green power as a lever on top of the §1.1 baseline: REF 0.336 in the scenario.
    result = simulate(base, GreenPower(mwh_per_yr=4000.0), location=FACTOR, prices=PRICES)
    k = result.scenario
    # CUE counts the grid import; the PV is self-consumed, so CUE = 12,900 × 0.5703 / 10,000
    # (the reference's 0.764 assumes the whole 13,400 MWh from the grid, as its formula
    # "CUE = CEF × PUE with a single grid source" says).
    assert k.cue_kg_per_kwh == pytest.approx(12_900 * 0.5703 / 10_000, rel=1e-9)
    whole_grid = simulate(baseline(), CoolingCut(share=0.0), location=FACTOR, prices=PRICES)
    assert round(whole_grid.baseline.cue_kg_per_kwh, 3) == 0.764
    assert round(k.ref, 3) == 0.336
    assert round(k.erf, 3) == 0.075
    assert round(k.ere, 2) == 1.24
    assert k.wue_l_per_kwh == pytest.approx(2.5, rel=1e-9)
