"""The worked annual KPI example of the reference (domain-modules.md §1.1, "Worked example
(annual)") through the real imports: a meters file, monthly counter readings for 2024 (a
register read on the first of each month), a user factor set with the example's grid factor
0.5703 kg/kWh for the site, and 4,000 MWh of GECs retired for the site in the instrument
register.

Tolerances as in ``test_kpi_worked_example.py``: half a unit of the last digit the reference
prints. The registers are the annual figures × month/12, so the year's sums carry float
rounding only (rel 1e-9 on the energies).

The shipped China MEE factors do not hold 0.5703 as a location-based value (2023: 0.5306
location; 0.5703 is MEE's carbon-market reporting value, ``cn-mee:market_reporting:CN:2023``),
so the example's factor is imported as a site-specific user factor, which the resolver
prefers for the site. CUE: with 500 MWh of the 13,400 from on-site PV at zero emissions,
ISO/IEC 30134-8 gives 12,900 × 0.5703 / 10,000; the reference's 0.764 is its
single-grid-source form, checked in ``test_kpi_worked_example.py``.
"""

from __future__ import annotations

import pytest

from _energy_kpi import MWH, worked_example
from esgledger.energy.kpi_service import kpis
from esgledger.energy.periods import parse_period


@pytest.fixture
def ws(sqlite_workspace):
    return worked_example(sqlite_workspace)


def test_worked_example_through_the_import(ws):
    [k] = kpis(ws, site="DC1", period=parse_period("2024"))
    assert k.e_it_kwh == pytest.approx(10_000 * MWH, rel=1e-9)
    assert k.e_dc_kwh == pytest.approx(13_400 * MWH, rel=1e-9)
    assert k.pue == pytest.approx(1.34, abs=0.005)
    assert k.dcie * 100 == pytest.approx(74.6, abs=0.05)
    assert k.ppue["cooling"] == pytest.approx(1.25, abs=0.005)
    assert k.clf == pytest.approx(0.25, abs=0.005)
    assert k.plf == pytest.approx(0.08, abs=0.005)
    assert k.olf == pytest.approx(0.01, abs=0.005)
    assert k.ref == pytest.approx(0.336, abs=0.0005)
    assert k.erf == pytest.approx(0.075, abs=0.0005)
    assert k.ere == pytest.approx(1.24, abs=0.005)
    assert k.wue_l_per_kwh == pytest.approx(2.5, abs=0.05)
    assert k.cue_kg_per_kwh == pytest.approx(12_900 * 0.5703 / 10_000, rel=1e-9)
    assert k.provenance["grid_factor"]["factor_id"] == "example:dc1:grid:2024"
    assert k.provenance["renewables"]["instruments"] == ["GEC-1"]
    assert k.pue_level == 2
    assert k.pue_category == "PUE_L2,YM"  # a year, read monthly
    assert k.quality.scores["pue"] == pytest.approx(1.0)
