"""The pure KPI engine: categories, notation, None with a finding, balance checks, packs."""

from __future__ import annotations

import pytest

from esgledger.energy.balance import MeterTotal, check_balance, role_totals
from esgledger.energy.kpi import (
    FactorRef,
    RenewableClaim,
    compute_kpis,
    fuel_to_kwh,
    green_grid_notation,
)
from esgledger.energy.packs import dcem, evaluate_packs, gb_40879_grade, pack_rows
from esgledger.energy.periods import parse_period
from esgledger.errors import InputError

BASE = {"incomer": 1300.0, "ups_input": 1080.0, "ups_output": 1000.0, "cooling": 200.0}


def codes(findings):
    return {f.code for f in findings}


# --- kpi -----------------------------------------------------------------------------------


def test_best_it_role_sets_the_category():
    assert compute_kpis(BASE).pue_level == 1
    assert compute_kpis({**BASE, "pdu_output": 980.0}).pue_level == 2
    k = compute_kpis({**BASE, "pdu_output": 980.0, "it_input": 950.0})
    assert k.pue_level == 3
    assert k.e_it_kwh == 950.0
    assert k.provenance["it_role"] == "it_input"


@pytest.mark.parametrize(
    ("period", "seconds", "expected"),
    [
        ("2024", 900, "PUE_L2,YC"),
        ("2024", 300, "PUE_L2,YC"),
        ("2024-03", 3600, "PUE_L2,MD"),
        ("2024-03-01:2024-03-07", 86400 * 7, "PUE_L2,WW"),
        ("2024", None, "PUE_L2,Y--"),
    ],
)
def test_green_grid_notation(period, seconds, expected):
    assert green_grid_notation(2, parse_period(period), seconds) == expected


def test_no_it_meter_gives_none_with_finding():
    k = compute_kpis({"incomer": 100.0, "cooling": 20.0})
    assert k.pue is None
    assert k.clf is None
    assert k.pue_category is None
    assert "energy.kpi.no_it_meter" in codes(k.findings)


def test_no_incomer_gives_none_with_finding():
    k = compute_kpis({"ups_output": 100.0})
    assert k.pue is None
    assert k.erf is None
    assert "energy.kpi.no_incomer" in codes(k.findings)


def test_pue_below_one_is_refused_not_clamped():
    k = compute_kpis({"incomer": 900.0, "ups_output": 1000.0, "cooling": 10.0})
    assert k.pue is None
    assert k.dcie is None
    assert k.clf is None
    assert k.ere is None
    [f] = [f for f in k.findings if f.code == "energy.kpi.pue_below_one"]
    assert f.severity == "error"
    assert f.data["pue"] == pytest.approx(0.9)
    assert f.text.en
    assert f.text.zh


def test_mixed_use_and_fuel_enter_e_dc():
    role = {"incomer": 1500.0, "non_dc": 300.0, "fuel": fuel_to_kwh("diesel", 10.0, "L"),
            "ups_output": 1000.0}  # fmt: skip
    k = compute_kpis(role)
    assert k.e_dc_kwh == pytest.approx(1200.0 + 99.0)


def test_fuel_conversion_factors():
    assert fuel_to_kwh("natural_gas", 2.0, "m3") == pytest.approx(21.0)
    with pytest.raises(InputError):
        fuel_to_kwh("coal", 1.0, "kg")


def test_cue_needs_a_fuel_factor_when_fuel_is_metered():
    role = {"incomer": 1000.0, "fuel": 99.0, "ups_output": 800.0}
    k = compute_kpis(role, grid_factor=FactorRef(0.5))
    assert k.cue_kg_per_kwh is None
    assert "energy.kpi.no_fuel_factor" in codes(k.findings)
    k = compute_kpis(role, grid_factor=FactorRef(0.5), fuel_factor=FactorRef(0.27))
    assert k.cue_kg_per_kwh == pytest.approx((1000 * 0.5 + 99 * 0.27) / 800)


def test_market_cue():
    k = compute_kpis(BASE, grid_factor=FactorRef(0.5), market_grid_co2e_kg=130.0)
    assert k.cue_market_kg_per_kwh == pytest.approx(0.13)
    assert k.cue_kg_per_kwh == pytest.approx(0.65)


def test_ref_above_one_reported():
    k = compute_kpis(BASE, renewables=RenewableClaim(certificates_kwh=2000.0))
    assert k.ref == 1.0
    assert "energy.kpi.ref_above_one" in codes(k.findings)


def test_unattributed_remainder_found():
    k = compute_kpis({**BASE, "other": 0.0})  # 1300 − 1000 − 200 − 80 − 0 = 20 kWh (1.5 %)
    assert k.unattributed_kwh == pytest.approx(20.0)
    assert "energy.kpi.unattributed" not in codes(k.findings)
    k = compute_kpis({**BASE, "incomer": 1400.0, "other": 0.0})
    assert "energy.kpi.unattributed" in codes(k.findings)


def test_json_keys():
    js = compute_kpis(BASE).to_json()
    keys = "pue pue_category dcie ppue clf plf olf wue_l_per_kwh cue_kg_per_kwh ref erf ere"
    for key in [*keys.split(), "e_it_kwh", "e_dc_kwh", "quality"]:
        assert key in js


# --- balance -------------------------------------------------------------------------------


def tree(incomer=1300.0, ups_in=1080.0, ups_out=1000.0, cooling=200.0, other=20.0, cov=1.0):
    return [
        MeterTotal("INC", "incomer", None, incomer, cov),
        MeterTotal("UPSI", "ups_input", "INC", ups_in),
        MeterTotal("UPSO", "ups_output", "UPSI", ups_out),
        MeterTotal("CH", "cooling", "INC", cooling),
        MeterTotal("LT", "other", "INC", other),
    ]


def test_balanced_tree_passes():
    report = check_balance(tree())
    assert report.findings == ()
    scores = report.quality().scores
    assert scores["pue"] == 1.0
    assert scores["wue"] == 1.0


def test_children_exceed_parent_is_an_error():
    report = check_balance(tree(incomer=1200.0))  # children 1300 vs 1200: +8.3 %
    [f] = [f for f in report.findings if f.code == "energy.balance.children_exceed_parent"]
    assert f.severity == "error"
    assert f.data["gap"] == pytest.approx(100 / 1200)
    assert report.quality().scores["pue"] == pytest.approx(0.5)


def test_children_below_parent_within_tolerance():
    assert check_balance(tree(incomer=1330.0)).findings == ()  # −2.3 % of 1330
    report = check_balance(tree(incomer=1330.0), tolerance=0.02)
    assert "energy.balance.children_below_parent" in codes(report.findings)


def test_ups_efficiency_bounds():
    assert check_balance(tree(ups_in=1080.0, ups_out=1000.0, incomer=1300.0)).findings == ()
    report = check_balance(tree(ups_in=1400.0, incomer=1620.0))  # 71 % efficient
    assert "energy.balance.ups_efficiency" in codes(report.findings)
    # 90 % at 5 % load is inside the light band; at 60 % load it is still in bounds (≥ 88 %)
    report = check_balance(
        tree(ups_in=1111.0, incomer=1331.0), hours=100.0, ups_rated_kw={"UPSO": 200.0}
    )
    assert report.findings == ()
    report = check_balance(
        tree(ups_in=1176.0, incomer=1396.0), hours=10.0, ups_rated_kw={"UPSO": 200.0}
    )  # 85 % efficiency at 50 % load: below the band's 88 %
    [f] = [f for f in report.findings if f.code == "energy.balance.ups_efficiency"]
    assert f.data["band"] == "high"


def test_pue_below_one_check():
    meters = [
        MeterTotal("INC", "incomer", None, 900.0),
        MeterTotal("IT", "ups_output", None, 1000.0),
    ]
    assert "energy.balance.pue_below_one" in codes(check_balance(meters).findings)


def test_low_coverage_lowers_the_score():
    report = check_balance(tree(cov=0.8))
    assert "energy.balance.low_coverage" in codes(report.findings)
    assert report.quality().scores["pue"] == pytest.approx(0.8 * 0.8)
    assert report.quality().scores["clf"] == pytest.approx(1.0)


def test_role_totals_skip_nested_meters_of_the_same_role():
    meters = [
        MeterTotal("INC", "incomer", None, 100.0),
        MeterTotal("CH", "cooling", "INC", 30.0),
        MeterTotal("CH1", "cooling", "CH", 20.0),
        MeterTotal("CH2", "cooling", "CH", 10.0),
    ]
    assert role_totals(meters) == {"incomer": 100.0, "cooling": 30.0}


# --- packs ---------------------------------------------------------------------------------


def test_pack_rows_have_marks_and_sources():
    rows = pack_rows()
    assert {r.pack for r in rows} == {"eu_2024_1364", "gb_40879_2021", "etsi_dcem"}
    assert all(r.confidence in ("[V]", "[R]", "[A]") and r.source for r in rows)
    assert all(r.confidence == "[R]" for r in rows if r.pack == "gb_40879_2021")


@pytest.mark.parametrize(
    ("pue", "grade"), [(1.15, 1), (1.20, 1), (1.25, 2), (1.30, 2), (1.45, 3), (1.51, None)]
)
def test_gb_grades(pue, grade):
    out = gb_40879_grade(pue)
    assert out["grade"] == grade
    assert out["limit_met"] is (grade is not None)


def test_eu_applicability_and_missing():
    k = compute_kpis(BASE)
    eu = evaluate_packs(k, it_power_kw=499.0)["eu_2024_1364"]
    assert eu["applies"] is False
    assert set(eu["missing"]) == {"wue", "ref"}
    assert evaluate_packs(k, it_power_kw=500.0)["eu_2024_1364"]["applies"] is True
    assert evaluate_packs(k)["eu_2024_1364"]["applies"] is None


def test_dcem_by_hand():
    # E_DC 13,400 MWh, E_IT 10,000, E_ren 4,500, reuse 1,000 (worked example)
    role = {"incomer": 12_900e3, "onsite_re": 500e3, "pdu_output": 10_000e3,
            "heat_export": 1_000e3}  # fmt: skip
    k = compute_kpis(role, renewables=RenewableClaim(500e3, 4_000e3))
    out = dcem(k)
    # KPI_REUSE = min(1000, 10000)/13400; DC_P = 1.34 (1 − 0.8·4500/13400)(1 − 0.5·1000/13400)
    dcp = 1.34 * (1 - 0.8 * 4500 / 13400) * (1 - 0.5 * 1000 / 13400)
    assert out["dc_p"] == pytest.approx(dcp)  # 0.9276…
    assert out["dc_p_class"] == "B"  # 0.70 ≤ DC_P < 1.00
    assert out["dc_g"] == "L"  # 5 GWh ≤ 13.4 GWh < 25 GWh
    assert out["kpi_dcem"] == "L,B"
    assert dcem(k, built_before_2005=True)["dc_p_class"] == "A"  # < 1.00


def test_kpi_not_computed_has_no_score():
    report = check_balance(tree())
    k = compute_kpis(role_totals(tree()), quality=report.quality())
    assert k.quality.scores["pue"] == 1.0
    assert k.wue_l_per_kwh is None
    assert k.quality.scores["wue"] is None


def test_onsite_generation_under_a_board_adds_to_its_supply():
    meters = [*tree(incomer=1250.0), MeterTotal("PV", "onsite_re", "INC", 50.0)]
    assert check_balance(meters).findings == ()  # 1300 drawn = 1250 grid + 50 PV
