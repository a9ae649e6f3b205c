"""Unit tests of the what-if levers: limits, monotonicity, invariants (PUE ≥ 1), refusals.

The baseline is the §1.1 split spread evenly (``tests/_energy_whatif.py``), so expected
figures are worked by hand in the comments.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pytest

from _energy_whatif import FACTOR, PRICES, baseline, hourly_table
from esgledger.energy.whatif import (
    LEVERS,
    AirSideEconomiser,
    EnvelopeError,
    GreenPower,
    GridFactor,
    HeatReuse,
    OnsitePv,
    SetpointRaise,
    UpsEcoMode,
    WaterSideEconomiser,
    baseline_from_table,
    dew_point_c,
    lever_from_params,
    simulate,
    wet_bulb_stull_c,
)
from esgledger.errors import InputError


def run(lever, **kwargs):  # type: ignore[no-untyped-def]
    return simulate(baseline(**kwargs), lever, location=FACTOR, prices=PRICES)


def test_no_free_cooling_above_the_partial_threshold() -> None:
    # 18.5 °C wet bulb is the partial limit of the default plant: nothing changes at or above.
    result = run(WaterSideEconomiser(), wet_bulb_c=18.5)
    assert result.scenario.free_cooling_full_h == 0
    assert result.scenario.free_cooling_partial_h == 0
    assert result.scenario.cooling_mwh == pytest.approx(result.baseline.cooling_mwh)
    assert result.saved_t_location == pytest.approx(0.0, abs=1e-9)


def test_water_side_saving_grows_as_the_weather_cools_and_pue_stays_above_one() -> None:
    saved = [run(WaterSideEconomiser(), wet_bulb_c=t).saved_t_location for t in (20, 17, 14, 5)]
    assert saved == sorted(saved)
    assert saved[0] == pytest.approx(0.0, abs=1e-9)
    assert saved[-1] > saved[-2] > 0
    # All chiller energy gone and no aux spend: PUE = 1 + (2,500 × 0.4 + 800 + 100) / 10,000.
    full = run(WaterSideEconomiser(chiller_share=1.0, aux_fraction=0.0), wet_bulb_c=0)
    assert full.scenario.pue == pytest.approx(1.09, rel=1e-9)
    assert full.scenario.pue >= 1.0


def test_water_side_warmer_chilled_water_gives_more_free_cooling_hours() -> None:
    wet = np.linspace(-5, 30, 8760)
    hours = [
        run(WaterSideEconomiser(chws_c=s, chwr_c=s + 6), wet_bulb_c=wet).scenario
        for s in (10.0, 14.0, 18.0)
    ]
    full = [k.free_cooling_full_h for k in hours]
    assert full == sorted(full)
    assert full[0] < full[-1]


def test_water_side_without_wet_bulb_estimates_it_from_humidity_and_says_so() -> None:
    result = run(WaterSideEconomiser(), wet_bulb_c=None, dry_bulb_c=10.0, rh_pct=50.0)
    assert [n.code for n in result.notes if "wet_bulb" in n.code] == [
        "energy.whatif.wet_bulb_estimated"
    ]
    with pytest.raises(InputError, match="neither wet bulb"):
        run(WaterSideEconomiser(), wet_bulb_c=None, rh_pct=None)


def test_stull_wet_bulb_matches_the_paper_example_and_dew_point_is_below_dry_bulb() -> None:
    # Stull (2011), J. Appl. Meteor. Climatol. 50, 2267: T = 20 °C, RH = 50 % → Tw = 13.7 °C
    # (the paper's worked example; formula error within ±0.3 K there).
    assert wet_bulb_stull_c(np.array([20.0]), np.array([50.0]))[0] == pytest.approx(13.7, abs=0.1)
    # Magnus: at 100 % RH the dew point equals the dry bulb.
    assert dew_point_c(np.array([25.0]), np.array([100.0]))[0] == pytest.approx(25.0, abs=1e-9)
    assert dew_point_c(np.array([25.0]), np.array([50.0]))[0] < 25.0


def test_air_side_economiser_needs_cool_and_dry_enough_air() -> None:
    lever = AirSideEconomiser(supply_air_c=24, fan_approach_k=1.5)
    cool_dry = run(lever, dry_bulb_c=15.0, rh_pct=50.0)  # dew point ≈ 4.6 °C: inside
    assert cool_dry.scenario.free_cooling_full_h == 8760
    # 70 % of cooling removed: PUE = 1 + (750 + 800 + 100) / 10,000 = 1.165.
    assert cool_dry.scenario.pue == pytest.approx(1.165, rel=1e-9)
    too_warm = run(lever, dry_bulb_c=22.6, rh_pct=30.0)  # above 24 − 1.5 = 22.5 °C
    assert too_warm.scenario.free_cooling_full_h == 0
    too_humid = run(lever, dry_bulb_c=15.0, rh_pct=90.0)
    assert too_humid.scenario.free_cooling_full_h == 0
    too_dry = run(lever, dry_bulb_c=-10.0, rh_pct=20.0)  # dew point ≈ −28 °C
    assert too_dry.scenario.free_cooling_full_h == 0


def test_setpoints_outside_the_ashrae_envelope_are_refused() -> None:
    with pytest.raises(EnvelopeError, match=r"outside the ASHRAE TC 9\.9 recommended envelope"):
        SetpointRaise(supply_air_to_c=28.0)
    with pytest.raises(EnvelopeError, match="18-27"):
        lever_from_params("setpoint", {"supply_air_from_c": "17"})
    with pytest.raises(EnvelopeError):
        AirSideEconomiser(supply_air_c=30.0)
    SetpointRaise(supply_air_from_c=18.0, supply_air_to_c=27.0)  # the edges are inside


def test_raising_the_setpoint_saves_chiller_energy_monotonically_until_the_fan_penalty() -> None:
    cooling = [
        run(SetpointRaise(supply_air_to_c=t, fan_penalty_per_k=0.0), wet_bulb_c=15.0).scenario
        for t in (20.0, 22.0, 24.0, 26.0)
    ]
    mwh = [k.cooling_mwh for k in cooling]
    assert mwh[0] == pytest.approx(2500.0)
    assert mwh == sorted(mwh, reverse=True)
    # The server-fan penalty raises IT energy above the threshold: +1 %/K × (27 − 25) K.
    hot = run(SetpointRaise(supply_air_to_c=27.0), wet_bulb_c=15.0)
    assert hot.scenario.e_it_mwh == pytest.approx(10_000 * 1.02, rel=1e-9)
    no_fan = run(SetpointRaise(supply_air_to_c=27.0, fan_penalty_per_k=0.0), wet_bulb_c=15.0)
    assert hot.scenario.e_dc_mwh > no_fan.scenario.e_dc_mwh


def test_setpoint_chiller_energy_follows_the_carnot_lift_ratio() -> None:
    # wb 15 °C: T_cond = 15 + 4 + 3 = 22 °C. CHWS 12 → 16 °C: T_evap 10 → 14 °C.
    # Ratio = (8 / 287.15) / (12 / 283.15); chiller 60 % of 2,500 MWh.
    lever = SetpointRaise(supply_air_from_c=20, supply_air_to_c=24, min_lift_k=1.0)
    result = run(lever, wet_bulb_c=15.0)
    ratio = (8 / 287.15) / (12 / 283.15)
    assert result.scenario.cooling_mwh == pytest.approx(1000 + 1500 * ratio, rel=1e-9)


def test_ups_eco_mode_scales_the_ups_losses_by_the_efficiency_ratio() -> None:
    # UPS losses 600 of 800 MWh; ratio (1/0.99 − 1) / (1/0.95 − 1) = 0.19191...
    result = run(UpsEcoMode(ups_share_of_losses=0.75))
    ratio = (1 / 0.99 - 1) / (1 / 0.95 - 1)
    assert result.scenario.power_losses_mwh == pytest.approx(200 + 600 * ratio, rel=1e-9)
    same = run(UpsEcoMode(eco_mode_efficiency=0.95))
    assert same.scenario.power_losses_mwh == pytest.approx(800.0)


def test_heat_reuse_raises_erf_and_lowers_ere_but_not_the_site_emissions() -> None:
    result = run(HeatReuse(reuse_share_of_it=0.1, heat_price_per_kwh=0.2))
    assert result.scenario.erf == pytest.approx(1000 / 13_400, rel=1e-9)
    assert result.scenario.ere == pytest.approx(12_400 / 10_000, rel=1e-9)
    assert result.saved_t_location == 0.0
    assert result.saved_t_market == 0.0
    assert result.saved_cost == pytest.approx(1_000_000 * 0.2, rel=1e-9)


def test_green_power_changes_market_based_and_ref_only_and_cannot_exceed_the_grid() -> None:
    result = run(GreenPower(mwh_per_yr=4000.0, premium_per_mwh=10.0))
    assert result.saved_t_location == 0.0
    assert result.saved_t_market == pytest.approx(4000 * 0.5703, rel=1e-9)
    assert result.scenario.ref == pytest.approx(4000 / 13_400, rel=1e-9)
    assert result.saved_cost == pytest.approx(-40_000.0)
    with pytest.raises(InputError, match="exceeds the grid import"):
        run(GreenPower(mwh_per_yr=14_000.0))


def test_market_factor_is_used_when_given_and_noted_when_not() -> None:
    market = GridFactor(0.6, "rm", "residual mix", 2024, "residual_mix")
    result = simulate(
        baseline(), GreenPower(mwh_per_yr=1000.0), location=FACTOR, market=market, prices=PRICES
    )
    assert result.baseline.co2e_t_market == pytest.approx(13_400 * 0.6, rel=1e-9)
    assert not any(n.code == "energy.whatif.market_is_location" for n in result.notes)
    plain = run(GreenPower(mwh_per_yr=1000.0))
    assert any(n.code == "energy.whatif.market_is_location" for n in plain.notes)


def test_onsite_pv_is_self_consumed_up_to_the_load_and_ref_needs_retained_attributes() -> None:
    # A small load (1/100 of §1.1) and a large array: daytime PV exceeds the load.
    small = baseline_from_table(hourly_table(scale=0.01), site="DC1", water_l=None)
    kept = OnsitePv(capacity_kwp=500, latitude=22.5, longitude=114.1)
    result = simulate(small, kept, location=FACTOR, prices=PRICES)
    k = result.scenario
    generation = next(n for n in result.notes if n.code == "energy.whatif.pv_clear_sky")
    assert k.onsite_self_mwh + k.onsite_export_mwh == pytest.approx(
        generation.data["generation_mwh"], rel=1e-9
    )
    assert k.onsite_export_mwh > 0  # the surplus is exported ...
    assert k.onsite_self_mwh <= k.e_dc_mwh
    assert k.ref == pytest.approx(k.onsite_self_mwh / k.e_dc_mwh, rel=1e-9)  # ... not in REF
    assert k.grid_import_mwh == pytest.approx(k.e_dc_mwh - k.onsite_self_mwh, rel=1e-9)
    assert k.wue_l_per_kwh is None
    sold = OnsitePv(capacity_kwp=500, latitude=22.5, longitude=114.1, retain_attributes=False)
    unkept = simulate(small, sold, location=FACTOR, prices=PRICES)
    assert unkept.scenario.ref == 0.0
    assert unkept.saved_t_location == pytest.approx(result.saved_t_location, rel=1e-9)


def test_every_lever_keeps_pue_at_or_above_one_and_round_trips_to_json() -> None:
    import json

    params = {
        "pv": {"capacity_kwp": "100", "latitude": "31.2", "longitude": "121.5"},
        "green_power": {"mwh_per_yr": "100"},
    }
    for key in LEVERS:
        result = run(lever_from_params(key, params.get(key, {})), wet_bulb_c=12.0)
        assert result.scenario.pue >= 1.0, key
        data = json.loads(json.dumps(result.to_json(), allow_nan=False))
        assert data["lever"] == key
        assert data["factors"]["location"]["factor_id"] == "test-grid"


def test_lever_parameters_are_parsed_and_bad_ones_refused() -> None:
    lever = lever_from_params("free_cooling", {"chws_c": "16", "chwr_c": "22"})
    assert isinstance(lever, WaterSideEconomiser)
    assert lever.full_below_wet_bulb_c == 10.5
    pv = lever_from_params(
        "pv", {"capacity_kwp": "10", "latitude": "1", "longitude": "2", "retain_attributes": "no"}
    )
    assert isinstance(pv, OnsitePv)
    assert pv.retain_attributes is False
    with pytest.raises(InputError, match="unknown lever"):
        lever_from_params("magic", {})
    with pytest.raises(InputError, match="has no parameter"):
        lever_from_params("ups_eco", {"speed": "1"})
    with pytest.raises(InputError, match="not a number"):
        lever_from_params("ups_eco", {"eco_mode_efficiency": "high"})
    with pytest.raises(InputError, match="between 0 and 1"):
        lever_from_params("cooling_cut", {"share": "1.5"})
    with pytest.raises(InputError, match="CHW return must be above"):
        WaterSideEconomiser(chws_c=20, chwr_c=18)


def test_every_declared_parameter_rule_is_checked_on_every_lever() -> None:
    """Each lever declares its parameters' rules once (``whatif._param``); the base class
    checks them all: a value that is not a finite number is refused for every ruled
    parameter of every lever, naming it."""
    valid = {"pv": {"capacity_kwp": 10.0, "latitude": 22.5, "longitude": 114.1},
             "green_power": {"mwh_per_yr": 100.0}}  # fmt: skip
    ruled = 0
    for key, cls in LEVERS.items():
        base = valid.get(key, {})
        cls(**base)  # the defaults (and the required values) pass
        for spec in dataclasses.fields(cls):  # type: ignore[arg-type]
            if "rule" not in spec.metadata:
                continue
            ruled += 1
            with pytest.raises(InputError) as refused:
                cls(**{**base, spec.name: float("nan")})
            assert refused.value.issues[0].column == spec.name
    assert ruled == 25  # the 25 single-parameter checks the levers made before the merge
    with pytest.raises(InputError, match="efficiency must be in"):
        UpsEcoMode(eco_mode_efficiency=0.0)
    with pytest.raises(InputError, match="> 0"):
        SetpointRaise(min_lift_k=0.0)
    with pytest.raises(InputError, match="latitude and longitude"):
        OnsitePv(capacity_kwp=10.0)


def test_baseline_refuses_gaps_and_notes_a_partial_year() -> None:
    table = hourly_table(hours=24)
    cooling = pa.array([None] + [1.0] * 23, pa.float64())
    holed = table.set_column(table.schema.get_field_index("cooling_kwh"), "cooling_kwh", cooling)
    with pytest.raises(InputError, match="1 of 24 hours have no cooling_kwh"):
        baseline_from_table(holed, site="DC1")
    with pytest.raises(InputError, match="lacks it_kwh"):
        baseline_from_table(table.drop_columns(["it_kwh"]), site="DC1")
    result = simulate(
        baseline_from_table(table, site="DC1"), UpsEcoMode(), location=FACTOR, prices=PRICES
    )
    codes = [n.code for n in result.notes]
    assert "energy.whatif.partial_year" in codes
    assert "energy.whatif.no_water" in codes


def test_free_cooling_hours_per_month_for_the_heat_map() -> None:
    # 2024 (leap year, 8,784 h): January at 5 °C wb (full), February at 15 °C (partial), the
    # rest at 25 °C (none).
    jan, feb = 31 * 24, 29 * 24
    wet = [5.0] * jan + [15.0] * feb + [25.0] * (8784 - jan - feb)
    result = run(WaterSideEconomiser(), wet_bulb_c=wet, hours=8784)
    months = {m["month"]: m for m in result.free_cooling_by_month}
    assert len(months) == 12
    assert (months["2024-01"]["full_h"], months["2024-01"]["partial_h"]) == (jan, 0)
    assert (months["2024-02"]["full_h"], months["2024-02"]["partial_h"]) == (0, feb)
    assert months["2024-03"]["full_h"] + months["2024-03"]["partial_h"] == 0
    assert {m["clock"] for m in months.values()} == {"UTC"}
    assert run(UpsEcoMode()).free_cooling_by_month == ()
