"""U.S. EPA, GHG Emission Factors Hub (January 2025 edition, workbook
``us-epa-ghg-emission-factors-hub-2025.xlsx``, sheet "Emission Factors Hub"): the shipped
``epa-hub-2025`` set against the official workbook.

Spot values are read by eye from the workbook (cells named in each test) and compared
exactly: the converter only copies numbers, divides g by 1000 and multiplies lb by pint's
0.45359237 kg/lb, so the only tolerance is float rounding (1e-12 relative).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from _sources_common import assert_tables_equal, check_vocabulary, shared_file

from esgledger.errors import InputError
from esgledger.factors.sources import epa_hub
from esgledger.factors.sources._common import read_shipped_set, shipped_set_meta

HUB = "factors/us-epa-ghg-emission-factors-hub-2025.xlsx"
REL = 1e-12  # float rounding of g→kg and lb→kg only


def _shipped() -> dict[str, dict[str, Any]]:
    return {r["factor_id"]: r for r in read_shipped_set(epa_hub.SET_ID).to_pylist()}


def test_row_counts_per_table() -> None:
    # Table 1: 7 fuels mapped onto the taxonomy x (per physical unit, per mmBtu);
    # Table 2: 5 mapped fuels (Tables 6 and 9 are counted from the workbook below);
    # Table 7: steam and heat; Table 8: 4 short ton-mile modes; Table 10: 6 mapped modes.
    counts = Counter(r["source_row"].split(",")[0] for r in _shipped().values())
    assert counts["Table 1"] == 14
    assert counts["Table 2"] == 5
    assert counts["Table 7"] == 2
    assert counts["Table 8"] == 4
    assert counts["Table 10"] == 6


def _sheet_rows() -> list[tuple[Any, ...]]:
    """Every row of the Hub's sheet; the workbook is closed before returning (a read-only
    workbook keeps its file open until closed, which pytest reports as an unraisable warning)."""
    book = openpyxl.load_workbook(shared_file(HUB), data_only=True, read_only=True)
    try:
        return list(book.worksheets[0].iter_rows(values_only=True))
    finally:
        book.close()


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_table6_and_table9_counts_match_the_workbook() -> None:
    rows = _sheet_rows()
    # Table 6: eGRID subregion rows are those between the header (row 338) and "Source",
    # with a numeric CO2 rate in column E.
    start = next(i for i, r in enumerate(rows) if r[1] == "Table 6")
    egrid = 0
    for r in rows[start + 1 :]:
        if isinstance(r[2], str) and r[2].startswith("Source"):
            break
        egrid += isinstance(r[4], (int, float))
    # Table 9: every non-"NA" cell of D:I between the "Material" header and "Source".
    start = next(i for i, r in enumerate(rows) if r[1] == "Table 9")
    head = next(i for i in range(start, len(rows)) if rows[i][2] == "Material")
    cells = 0
    for r in rows[head + 1 :]:
        if isinstance(r[2], str) and r[2].startswith("Source"):
            break
        cells += sum(1 for v in r[3:9] if v is not None and v != "NA")
    counts = Counter(r["source_row"].split(",")[0] for r in _shipped().values())
    assert (counts["Table 6"], counts["Table 9"]) == (egrid, cells)
    assert egrid == 28  # 27 eGRID2023 subregions (rows 339-365) + US average (row 366)


def test_diesel_table1_per_gallon() -> None:
    # Table 1, row 55, Distillate Fuel Oil No. 2: 10.21 kg CO2, 0.41 g CH4, 0.08 g N2O per gallon.
    row = _shipped()["epa-hub-2025:t1:distillate_fuel_oil_no_2:gallon"]
    assert (row["activity"], row["unit"], row["region"], row["year"]) == (
        "stationary.diesel", "gallon", "US", 2025
    )  # fmt: skip
    assert row["co2_kg"] == pytest.approx(10.21, rel=REL)
    assert row["ch4_kg"] == pytest.approx(0.41e-3, rel=REL)
    assert row["n2o_kg"] == pytest.approx(0.08e-3, rel=REL)
    assert row["source_row"] == "Table 1, row 55: Distillate Fuel Oil No. 2"


def test_diesel_table1_per_mmbtu() -> None:
    # Table 1, row 55: 73.96 kg CO2, 3 g CH4, 0.6 g N2O per mmBtu.
    row = _shipped()["epa-hub-2025:t1:distillate_fuel_oil_no_2:mmbtu"]
    assert (row["unit"], row["co2_kg"]) == ("mmBtu", pytest.approx(73.96, rel=REL))
    assert row["ch4_kg"] == pytest.approx(3e-3, rel=REL)
    assert row["n2o_kg"] == pytest.approx(0.6e-3, rel=REL)


def test_natural_gas_per_scf_and_mobile_diesel() -> None:
    # Table 1, row 38: natural gas 0.05444 kg CO2 per scf; Table 2, row 107: diesel fuel
    # 10.21 kg CO2 per gallon.
    shipped = _shipped()
    gas = shipped["epa-hub-2025:t1:natural_gas:scf"]
    assert (gas["activity"], gas["co2_kg"]) == ("stationary.natural_gas", 0.05444)
    mobile = shipped["epa-hub-2025:t2:diesel_fuel"]
    assert (mobile["activity"], mobile["unit"], mobile["co2_kg"]) == (
        "mobile.diesel",
        "gallon",
        10.21,
    )
    assert mobile["ch4_kg"] is None
    assert mobile["n2o_kg"] is None


def test_wood_co2_is_biogenic() -> None:
    # Table 1, row 35: Wood and Wood Residuals, 1640 kg CO2 per short ton (biomass: outside scopes).
    row = _shipped()["epa-hub-2025:t1:wood_and_wood_residuals:short_ton"]
    assert (row["co2_kg"], row["biogenic_co2_kg"]) == (None, 1640.0)
    assert row["ch4_kg"] == pytest.approx(0.126, rel=REL)


def test_us_average_electricity() -> None:
    # Table 6, row 366, US Average (eGRID2023 total output): 771.523 lb CO2/MWh,
    # x 0.45359237 kg/lb (exact, international pound) = 349.9568...; 0.057 lb CH4, 0.008 lb N2O.
    row = _shipped()["epa-hub-2025:t6:us_average"]
    assert (row["region"], row["unit"], row["method"]) == ("US", "MWh", "location")
    assert row["co2_kg"] == pytest.approx(771.523 * 0.45359237, rel=REL)
    assert row["co2_kg"] == pytest.approx(349.957, abs=5e-4)
    assert row["ch4_kg"] == pytest.approx(0.057 * 0.45359237, rel=REL)
    camx = _shipped()["epa-hub-2025:t6:camx"]
    assert (camx["region"], camx["co2_kg"]) == (
        "US-EGRID-CAMX",
        pytest.approx(436.655 * 0.45359237, rel=REL),
    )


def test_waste_and_travel() -> None:
    # Table 9, row 477, Mixed MSW: landfilled 0.58, combusted 0.43 t CO2e per short ton (AR5).
    shipped = _shipped()
    msw = shipped["epa-hub-2025:t9:mixed_msw:landfilled"]
    assert (msw["activity"], msw["unit"], msw["gwp_basis"]) == (
        "waste.mixed_msw.landfilled", "short_ton", "AR5"
    )  # fmt: skip
    assert msw["co2e_kg"] == pytest.approx(580.0, rel=REL)
    assert "epa-hub-2025:t9:mixed_msw:recycled" not in shipped  # "NA" in the workbook
    # Table 10, row 513: air short haul (< 300 miles) 0.207 kg CO2, 0.0064 g CH4, 0.0066 g N2O
    # per passenger-mile.
    air = next(r for r in shipped.values() if r["activity"] == "travel.air.short_haul.average")
    assert (air["unit"], air["co2_kg"], air["scope3_category"]) == ("passenger * mile", 0.207, 6)
    assert air["ch4_kg"] == pytest.approx(0.0064e-3, rel=REL)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_workbook_gwps_are_ar5() -> None:
    # standards-and-data.md §5.3: AR5 GWP100 CH4 28, N2O 265. The Hub's own table (rows 7-9)
    # states the GWPs behind its CO2e factors; they must be the AR5 values for gwp_basis="AR5".
    rows = _sheet_rows()[7:9]
    assert [(r[2], r[3]) for r in rows] == [("CH4", 28), ("N2O", 265)]


def test_shipped_table_matches_a_fresh_conversion() -> None:
    fresh = epa_hub.convert_epa_hub(shared_file(HUB))
    assert_tables_equal(fresh, read_shipped_set(epa_hub.SET_ID))


def test_meta_hash_is_the_official_file() -> None:
    meta = shipped_set_meta(epa_hub.SET_ID)
    # sha256 from /work/shared/data/PROVENANCE.md
    assert (
        meta["official_sha256"]
        == "db9085f182e50c7fd9106a902986434fb41ef0426afc953acb40f61a495e8a76"
    )
    assert meta["rows"] == read_shipped_set(epa_hub.SET_ID).num_rows


def test_vocabulary() -> None:
    check_vocabulary(read_shipped_set(epa_hub.SET_ID))


def test_missing_table_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "hub.xlsx"
    book = openpyxl.Workbook()
    book.active["B2"] = "Table 2"
    book.save(path)
    with pytest.raises(InputError, match=r"^hub\.xlsx: Table 1 not found") as info:
        epa_hub.convert_epa_hub(path)
    issue = info.value.issues[0]
    assert (issue.file, issue.column, issue.problem) == (
        "hub.xlsx",
        "B",
        "no cell 'Table 1' in column B",
    )
