"""The worked annual KPI example of the reference (domain-modules.md §1.1, "Worked example
(annual)"; its inputs follow ISO/IEC 30134-2:2016 PUE, -3 REF, -6 ERF, -8 CUE, -9 WUE and
The Green Grid load factors), through the pure engine.

Inputs (MWh): E_IT 10,000 (metered at the PDU outputs: category 2); cooling 2,500; UPS losses
600; PDU/transformer losses 200; lighting and other 100 → E_DC 13,400. Grid factor
0.5703 kg/kWh; 4,000 MWh of GECs retired; 500 MWh on-site PV; 1,000 MWh heat exported;
25,000 m³ of make-up water.

Tolerances: the reference prints three significant digits (PUE 1.34, DCiE 74.6 %, CUE 0.764,
REF 0.336, ERF 0.075, ERE 1.24, WUE 2.5), so each value is compared to half a unit of its
last printed digit. The inputs are exact, so PUE and the load factors are compared to 1e-12.

The reference's CUE 0.764 is ``CEF × PUE``, the single-grid-source form of ISO/IEC 30134-8:
all 13,400 MWh from the grid. With 500 MWh of the 13,400 from on-site PV at zero emissions
the same standard gives 12,900 × 0.5703 / 10,000 = 0.7357; both are tested, each with the
meter set it belongs to.
"""

from __future__ import annotations

import pytest

from esgledger.energy.kpi import FactorRef, RenewableClaim, compute_kpis
from esgledger.energy.periods import parse_period

MWH = 1000.0  # kWh
EF = FactorRef(0.5703, factor_id="test:grid:0.5703", source="worked example", vintage="2023")

# The meter set: PDU outputs are E_IT (category 2); UPS input = IT + PDU losses + UPS losses.
WITH_PV = {
    "incomer": 12_900 * MWH,
    "onsite_re": 500 * MWH,
    "ups_input": 10_800 * MWH,
    "ups_output": 10_200 * MWH,
    "pdu_output": 10_000 * MWH,
    "cooling": 2_500 * MWH,
    "other": 100 * MWH,
    "heat_export": 1_000 * MWH,
    "water": 25_000 * 1000.0,  # litres
}
# The single-grid-source reading of the same site (no on-site generation).
GRID_ONLY = {**{k: v for k, v in WITH_PV.items() if k != "onsite_re"}, "incomer": 13_400 * MWH}


def _half_digit(printed: str) -> float:
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return 0.5 * 10.0**-decimals


@pytest.fixture
def kpis():
    return compute_kpis(
        WITH_PV,
        site="DC1",
        period=parse_period("2024"),
        interval_seconds=900,
        grid_factor=EF,
        renewables=RenewableClaim(onsite_retained_kwh=500 * MWH, certificates_kwh=4_000 * MWH),
    )


def test_energy_boundaries(kpis):
    assert kpis.e_it_kwh == 10_000 * MWH
    assert kpis.e_dc_kwh == pytest.approx(13_400 * MWH, abs=1e-6)
    assert kpis.unattributed_kwh == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(
    ("field", "printed"),
    [
        ("pue", "1.34"),
        ("clf", "0.25"),
        ("plf", "0.08"),
        ("olf", "0.01"),
        ("ref", "0.336"),
        ("erf", "0.075"),
        ("ere", "1.24"),
        ("wue_l_per_kwh", "2.5"),
    ],
)
def test_printed_values(kpis, field, printed):
    assert getattr(kpis, field) == pytest.approx(float(printed), abs=_half_digit(printed))


def test_dcie_and_ppue(kpis):
    assert kpis.dcie * 100 == pytest.approx(74.6, abs=0.05)
    assert kpis.ppue["cooling"] == pytest.approx(1.25, abs=1e-12)


def test_load_factors_add_up_to_pue(kpis):
    assert 1 + kpis.clf + kpis.plf + kpis.olf == pytest.approx(kpis.pue, abs=1e-12)


def test_category_and_notation(kpis):
    assert kpis.pue_level == 2
    assert kpis.pue_category == "PUE_L2,YC"


def test_cue_single_grid_source():
    kpis = compute_kpis(GRID_ONLY, period=parse_period("2024"), grid_factor=EF)
    assert kpis.pue == pytest.approx(1.34, abs=1e-12)
    assert kpis.cue_kg_per_kwh == pytest.approx(0.764, abs=0.0005)
    assert kpis.provenance["grid_factor"]["factor_id"] == "test:grid:0.5703"


def test_cue_with_onsite_pv_at_zero_emissions(kpis):
    assert kpis.cue_kg_per_kwh == pytest.approx(12_900 * 0.5703 / 10_000, rel=1e-12)


def test_sold_onsite_attributes_do_not_count():
    kpis = compute_kpis(
        WITH_PV,
        grid_factor=EF,
        renewables=RenewableClaim(onsite_retained_kwh=0.0, certificates_kwh=4_000 * MWH),
    )
    assert kpis.ref == pytest.approx(4_000 / 13_400, rel=1e-12)
