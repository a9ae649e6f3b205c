"""Market-based scope 2 with certificates and the residual mix, against worked examples.

Sources
-------
* GHG Protocol Scope 2 Guidance (2015), ch. 6 (market-based method, Table 6.3 hierarchy) and
  Table 7.1 (Quality Criteria), as summarised in ``standards-and-data.md`` §1.6:
  ``MBM = Σ_i min(kWh_covered_i, remaining) × EF_i + (kWh_total − Σ kWh_covered) × EF_residual``.
* ``standards-and-data.md`` §5.6 [C]: 60 million kWh of green power at one data centre ×
  0.5810 t/MWh = **34,860 t CO2** — the market-based reduction the purchase brings when the
  remainder factor is the MEE ETS reporting factor 0.5810 t/MWh.
* ``domain-modules.md`` §2.5, "Worked day" [A numbers; computed]: a 260 MWh solar PPA
  against 240 MWh of flat load is a 108 % volumetric match, claimed as 100 % RE with
  market-based scope 2 = 0; location-based at 0.5703 t/MWh is 136.9 t.
* MEE/NBS residual-mix proxy 2023 (national average excluding market-traded non-fossil
  electricity) 0.6096 kg CO2/kWh, Announcement 2025 No. 47 [S], shipped as
  ``cn-mee:residual_mix:CN:2023`` (``standards-and-data.md`` §4.5).

Expected values below are hand arithmetic on these published inputs; the tolerance is 1e-9
relative (floating-point sums of exact decimal inputs), far below the last published digit.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import pyarrow.compute as pc
import pytest

from esgledger.factors.sources._common import read_shipped_set
from esgledger.renewables.allocation import (
    Consumption,
    FactorChoice,
    RemainderFactors,
    allocate,
    market_based,
    re_share,
)
from esgledger.renewables.instruments import Instrument
from esgledger.renewables.quality import assess

YEAR = 2023
PARENTS: dict[str, str | None] = {"GRP": None, "CLOUD": "GRP"}
CLAIMANTS = ("GRP", "CLOUD", "DC-CQ")


def _dc(mwh: float) -> Consumption:
    return Consumption("DC-CQ", "CLOUD", "CN", "CN-CQ", date(2023, 1, 1), date(2023, 12, 31), mwh)


def _gec(mwh: float) -> Instrument:
    return Instrument(
        instrument="GEC-CQ-2023",
        type="green_power_trade",
        technology="wind",
        country="CN",
        region="CN-NM",
        period_start=date(2023, 1, 1),
        period_end=date(2023, 12, 31),
        mwh=mwh,
        commissioned=date(2021, 12, 1),
        retired_on=date(2024, 1, 20),
        retired_for="DC-CQ",
        registry_id="GEC-2023-CQ",
    )


def _shipped_kg_per_mwh(factor_id: str) -> float:
    table = read_shipped_set("cn-mee")
    row = table.filter(pc.equal(table.column("factor_id"), factor_id))
    assert row.num_rows == 1
    assert row.column("unit")[0].as_py() == "kWh"
    return float(row.column("co2_kg")[0].as_py()) * 1000.0  # kg/kWh → kg/MWh


def test_shipped_residual_mix_is_the_published_value() -> None:
    # MEE/NBS Announcement 2025 No. 47: 0.6096 kg CO2/kWh (standards-and-data.md §4.5).
    assert _shipped_kg_per_mwh("cn-mee:residual_mix:CN:2023") == pytest.approx(609.6, rel=1e-12)


def test_60_gwh_green_power_covers_its_mwh_and_the_rest_takes_the_residual_mix() -> None:
    residual = _shipped_kg_per_mwh("cn-mee:residual_mix:CN:2023")
    consumption = [_dc(75_000.0)]
    verdicts = assess([_gec(60_000.0)], reporting_year=YEAR, claimants=CLAIMANTS)
    result = allocate(consumption, verdicts, parents=PARENTS)
    factors = {
        "DC-CQ": RemainderFactors(
            residual_mix=FactorChoice(residual, "cn-mee:residual_mix:CN:2023")
        )
    }
    (line,) = market_based(consumption, result.allocations, factors, year=YEAR)
    assert line.covered_mwh == 60_000.0
    assert line.covered_co2e_kg == 0.0  # wind certificates convey 0 t/MWh
    assert line.remainder_mwh == 15_000.0
    assert line.remainder_method == "residual_mix"
    # 15,000 MWh × 0.6096 t/MWh = 9,144 t CO2.
    assert line.co2e_kg / 1000.0 == pytest.approx(9_144.0, rel=1e-9)
    assert line.data_quality_flag is None
    (share,) = re_share(consumption, result)
    assert share.re_share == pytest.approx(0.8, rel=1e-12)


def test_a_fully_covered_data_centre_has_zero_market_based_emissions() -> None:
    """The issue's Chongqing data centre: 60 GWh bought, 60 GWh consumed → RE 100 %, 0 t."""
    consumption = [_dc(60_000.0)]
    verdicts = assess([_gec(60_000.0)], reporting_year=YEAR, claimants=CLAIMANTS)
    result = allocate(consumption, verdicts, parents=PARENTS)
    (line,) = market_based(consumption, result.allocations, {}, year=YEAR)
    assert (line.covered_mwh, line.remainder_mwh, line.co2e_kg) == (60_000.0, 0.0, 0.0)
    (share,) = re_share(consumption, result)
    assert share.re_share == 1.0


def test_the_reduction_is_34860_t_at_the_0_5810_reporting_factor() -> None:
    """standards-and-data.md §5.6: 60,000 MWh × 0.5810 t/MWh = 34,860 t CO2."""
    ets = RemainderFactors(residual_mix=FactorChoice(581.0, "mee-ets-reporting-0.5810"))
    consumption = [_dc(75_000.0)]
    verdicts = assess([_gec(60_000.0)], reporting_year=YEAR, claimants=CLAIMANTS)
    with_gec = market_based(
        consumption, allocate(consumption, verdicts, parents=PARENTS).allocations, {"DC-CQ": ets}
    )
    without = market_based(consumption, [], {"DC-CQ": ets})
    reduction_t = (without[0].co2e_kg - with_gec[0].co2e_kg) / 1000.0
    assert reduction_t == pytest.approx(34_860.0, rel=1e-9)


def test_a_failed_certificate_changes_nothing() -> None:
    """Quality Criteria (Table 7.1): an unretired certificate cannot reduce the market-based
    figure, which then equals the residual mix on all consumption."""

    residual = _shipped_kg_per_mwh("cn-mee:residual_mix:CN:2023")
    consumption = [_dc(75_000.0)]
    bad = dataclasses.replace(_gec(60_000.0), retired_on=None)
    result = allocate(
        consumption, assess([bad], reporting_year=YEAR, claimants=CLAIMANTS), parents=PARENTS
    )
    factors = {"DC-CQ": RemainderFactors(residual_mix=FactorChoice(residual, "rm"))}
    (line,) = market_based(consumption, result.allocations, factors)
    assert line.co2e_kg / 1000.0 == pytest.approx(75_000.0 * 0.6096, rel=1e-9)
    assert result.excluded == {"GEC-CQ-2023": "not retired (cancelled) in the registry"}


def test_worked_day_volumetric_match_caps_at_consumption() -> None:
    """domain-modules.md §2.5: 260 MWh of solar PPA against 240 MWh of load (108 %) is
    claimed as 100 % RE, market-based = 0; the 20 MWh surplus is not carried over;
    location-based at 0.5703 t/MWh = 136.9 t (240 × 0.5703 = 136.872)."""
    day = date(2023, 6, 1)
    load = Consumption("DC-CQ", "CLOUD", "CN", "CN-CQ", day, day, 240.0)
    ppa = Instrument(
        "PPA-SOLAR",
        "green_power_trade",
        "solar",
        "CN",
        "CN",
        day,
        day,
        260.0,
        commissioned=date(2022, 1, 1),
        retired_on=date(2023, 7, 1),
        retired_for="DC-CQ",
    )
    verdicts = assess([ppa], reporting_year=YEAR, claimants=CLAIMANTS)
    result = allocate([load], verdicts, parents=PARENTS)
    assert result.surplus_mwh == {"PPA-SOLAR": 20.0}
    (line,) = market_based([load], result.allocations, {})
    assert line.co2e_kg == 0.0
    (share,) = re_share([load], result)
    assert share.re_share == 1.0
    location = market_based(
        [load], [], {"DC-CQ": RemainderFactors(grid_average=FactorChoice(570.3, "ets-0.5703"))}
    )
    assert location[0].co2e_kg / 1000.0 == pytest.approx(136.872, rel=1e-9)
    assert round(location[0].co2e_kg / 1000.0, 1) == 136.9
