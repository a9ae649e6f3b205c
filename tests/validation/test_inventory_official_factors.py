"""The inventory engine against published factor arithmetic: EPA Hub 2025 and DESNZ 2024.

Every case is fed through the real import (CSV files written here, ``import_file``) and the
engine (``calculate``), with the SHIPPED factor sets, so it checks resolution (which factor a
row gets), unit conversion, gas weighting and aggregation together.

Sources
-------
* U.S. EPA, *GHG Emission Factors Hub*, January 2025 edition (workbook
  ``ghg-emission-factors-hub-2025.xlsx``): Table 1 (stationary combustion), row "Distillate
  Fuel Oil No. 2": 10.21 kg CO2, 0.41 g CH4, 0.08 g N2O per gallon; Table 6 (electricity,
  eGRID2023, total output), "U.S. average": 771.523 lb CO2, 0.057 lb CH4, 0.008 lb N2O per
  MWh. GWP-100 AR5 (IPCC AR5 WG1 Table 8.A.1): CH4 28, N2O 265.
* UK DESNZ / Defra, *Greenhouse gas reporting: conversion factors 2024*, flat file v1.1
  (18 Oct 2024): ID 7_400_4000_5_1 "UK electricity" (scope 2) 0.20705 kg CO2e/kWh (AR5);
  ID 13_402_4000_5_1 "T&D - UK electricity" (scope 3) 0.01830 kg CO2e/kWh; IDs
  15_917_4000_5_1 and 15_918_4000_5_1, WTT of UK electricity generation 0.04590 and of its
  T&D 0.00397 kg CO2e/kWh.

Tolerances: the published factors are used as published, so the only error is float
rounding of a few multiplications (``REL = 1e-12``), except where the reference result is
itself rounded (stated at the assertion).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from _inventory_support import activity, entity, new_workspace
from esgledger.inventory import calculate, summary

REL = 1e-12
LB_KG = 0.45359237  # kg per avoirdupois pound (exact, by definition)


def test_epa_hub_2025_table_1_diesel_stationary_10000_gallons(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        entities=[entity("US-CO", country="US")],
        activities=[activity("stationary.diesel", 10_000, "gal", entity_code="US-CO")],
    )
    run = calculate(ws, gwp_set="AR5")
    (line,) = run.line_items().to_pylist()
    assert line["factor_id"] == "epa-hub-2025:t1:distillate_fuel_oil_no_2:gallon"
    assert line["region"] == "US"
    assert line["co2_kg"] == pytest.approx(102_100.0, rel=REL)
    assert line["ch4_kg"] == pytest.approx(4.1, rel=REL)
    assert line["n2o_kg"] == pytest.approx(0.8, rel=REL)
    # 102,100 + 4.1 x 28 + 0.8 x 265 = 102,426.8 kg CO2e (AR5)
    assert line["co2e_kg"] == pytest.approx(102_426.8, rel=REL)
    assert summary(run)["totals"]["scope1"] == pytest.approx(102.4268, rel=REL)


def test_epa_hub_2025_table_6_us_average_electricity_1000_mwh(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        entities=[entity("US-CO", country="US")],
        activities=[activity("electricity", 1_000, "MWh", entity_code="US-CO")],
    )
    run = calculate(ws, gwp_set="AR5")
    (line,) = run.line_items().to_pylist()
    assert line["factor_id"] == "epa-hub-2025:t6:us_average"
    assert line["scope"] == 2
    # 771.523 lb/MWh x 1,000 MWh x 0.45359237 kg/lb = 349,956.946... kg, published rounded
    # to 349,956.95 kg (so the second check allows half a cent of a kg).
    assert line["co2_kg"] == pytest.approx(771.523 * 1_000 * LB_KG, rel=REL)
    assert line["co2_kg"] == pytest.approx(349_956.95, abs=0.005)
    assert line["ch4_kg"] == pytest.approx(0.057 * 1_000 * LB_KG, rel=REL)
    assert line["n2o_kg"] == pytest.approx(0.008 * 1_000 * LB_KG, rel=REL)
    # standards-and-data.md 5.3: CO2e AR5 351,642.5 kg (rounded to 0.1 kg).
    assert line["co2e_kg"] == pytest.approx(351_642.5, abs=0.05)
    assert summary(run)["totals"]["scope2_location"] == pytest.approx(
        line["co2e_kg"] / 1000, rel=REL
    )


def test_desnz_2024_uk_electricity_1000000_kwh_scope_2(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        entities=[entity("UK-CO", country="GB")],
        activities=[activity("electricity", 1_000_000, "kWh", entity_code="UK-CO")],
    )
    run = calculate(ws, gwp_set="AR5")
    (line,) = [x for x in run.line_items().to_pylist() if x["line_kind"] == "activity"]
    assert line["factor_id"] == "desnz-2024:7_400_4000_5:electricity"
    assert line["co2e_kg"] == pytest.approx(207_050.0, rel=REL)  # 0.20705 x 1,000,000
    assert line["co2_kg"] == pytest.approx(204_930.0, rel=REL)  # 0.20493 x 1,000,000
    assert summary(run)["totals"]["scope2_location"] == pytest.approx(207.05, rel=REL)


def test_desnz_2024_uk_electricity_scope_3_category_3(tmp_path: Path) -> None:
    # Derived from the scope 2 row: T&D losses 0.01830 (ID 13_402_4000_5_1), WTT of
    # generation 0.04590 (15_917_4000_5_1) and WTT of T&D 0.00397 (15_918_4000_5_1)
    # kg CO2e/kWh: 18,300 + 45,900 + 3,970 kg CO2e.
    ws = new_workspace(
        tmp_path / "ws",
        entities=[entity("UK-CO", country="GB")],
        activities=[activity("electricity", 1_000_000, "kWh", entity_code="UK-CO")],
    )
    run = calculate(ws, gwp_set="AR5")
    by_kind = {line["line_kind"]: line for line in run.line_items().to_pylist()}
    assert by_kind["td_losses"]["co2e_kg"] == pytest.approx(18_300.0, rel=REL)
    assert by_kind["wtt"]["co2e_kg"] == pytest.approx(45_900.0, rel=REL)
    assert by_kind["wtt_td_losses"]["co2e_kg"] == pytest.approx(3_970.0, rel=REL)
    assert {by_kind[k]["scope3_category"] for k in ("td_losses", "wtt", "wtt_td_losses")} == {3}
    assert summary(run)["scope3_by_category"]["3"] == pytest.approx(68.17, rel=REL)
    assert summary(run)["totals"]["scope2_location"] == pytest.approx(207.05, rel=REL)
