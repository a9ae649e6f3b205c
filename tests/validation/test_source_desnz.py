"""UK DESNZ / Defra GHG conversion factors 2024, flat file v1.1 (shipped set ``desnz-2024``).

Spot values: standards-and-data.md §4.3 (verified excerpts of the flat file) and the
official workbook itself; AR5 GWP-100 from the openclimatedata CSV (IPCC AR5 WG1 Table 8.7)."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import openpyxl
import pytest
from _sources_common import REPO, assert_tables_equal, check_vocabulary, shared_file

from esgledger.factors.sources import desnz
from esgledger.factors.sources._common import read_shipped_set

XLSX = "factors/uk-desnz-ghg-conversion-factors-2024-flat-v1.1.xlsx"
GWP = "gwp/globalwarmingpotentials-0.13.2.csv"


@cache
def _by_id() -> dict[str, dict[str, object]]:
    rows = read_shipped_set(desnz.SET_ID).to_pylist()
    return {str(r["factor_id"]): r for r in rows}


def _countries() -> dict[str, str]:
    text = (REPO / "src" / "esgledger" / "data" / "country_codes.csv").read_text("utf-8")
    return {row["name"]: row["alpha2"] for row in csv.DictReader(text.splitlines())}


def test_rows_with_a_factor_match_the_official_count() -> None:
    # PROVENANCE.md: 8,740 factor rows, 1,711 with a blank factor cell → 7,029 with a factor.
    book = openpyxl.load_workbook(shared_file(XLSX), read_only=True)
    rows = list(book[desnz.SHEET].iter_rows(min_row=desnz.HEADER_ROW + 1, values_only=True))
    book.close()
    data = [r for r in rows if r[0] is not None]
    assert len(data) == 8740
    with_factor = sum(1 for r in data if r[9] is not None)
    result = desnz.convert_desnz(
        shared_file(XLSX), desnz.read_gwp_csv(shared_file(GWP)), _countries()
    )
    assert result.rows_with_factor == with_factor == 8740 - 1711
    shipped_ids = {i for r in _by_id().values() for i in str(r["source_row"]).split(";")}
    assert len(shipped_ids) + sum(result.unmapped_by_level1.values()) == with_factor


def test_uk_electricity_gas_masses_reproduce_the_published_gas_co2e() -> None:
    # §4.3: 7_400_4000_5_1 = 0.20705 kg CO2e/kWh; CO2 0.20493, CH4 0.00090, N2O 0.00122 as
    # CO2e of each gas (AR5). mass × AR5 GWP must give them back to 1e-9 relative (float only).
    gwp = desnz.read_gwp_csv(shared_file(GWP))
    row = _by_id()["desnz-2024:7_400_4000_5:electricity"]
    assert (row["region"], row["method"], row["gwp_basis"], row["unit"]) == (
        "GB",
        "location",
        "AR5",
        "kWh",
    )
    assert row["co2e_kg"] == 0.20705
    assert float(row["co2_kg"]) * gwp["CO2"] == pytest.approx(0.20493, rel=1e-9)  # type: ignore[arg-type]
    assert float(row["ch4_kg"]) * gwp["CH4"] == pytest.approx(0.00090, rel=1e-9)  # type: ignore[arg-type]
    assert float(row["n2o_kg"]) * gwp["N2O"] == pytest.approx(0.00122, rel=1e-9)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("factor_id", "activity", "method", "unit", "value"),
    [
        ("13_402_4000_5:electricity", "electricity", "td_losses", "kWh", 0.01830),
        ("15_917_4000_5:electricity", "electricity", "wtt", "kWh", 0.04590),
        ("1_100_1004_6:stationary.natural_gas", "stationary.natural_gas", "fuel", "kWh", 0.18290),
        ("1_100_1004_7:stationary.natural_gas", "stationary.natural_gas", "fuel", "kWh", 0.20264),
        (
            "1_100_1004_1:stationary.natural_gas",
            "stationary.natural_gas",
            "fuel",
            "meter**3",
            2.04542,
        ),
        ("1_101_1011_8:stationary.diesel", "stationary.diesel", "fuel", "litre", 2.51279),
        ("1_101_1011_8:mobile.diesel", "mobile.diesel", "fuel", "litre", 2.51279),
        ("10_401_4003_5:heat", "heat", "location", "kWh", 0.17965),
        ("3_201_2156_3:refrigerant.R410A", "refrigerant.R410A", "gwp", "kg", 1924.0),
        ("3_200_2024_3:refrigerant.HFC-134a", "refrigerant.HFC-134a", "gwp", "kg", 1300.0),
        (
            "21_316_3171_11:travel.air.long_haul.economy",
            "travel.air.long_haul.economy",
            "distance",
            "passenger * km",
            0.11812,
        ),
        (
            "21_316_3170_11:travel.air.long_haul.economy:with_rf",
            "travel.air.long_haul.economy",
            "distance_rf",
            "passenger * km",
            0.20011,
        ),
        (
            "21_316_3179_11:travel.air.international.average",
            "travel.air.international.average",
            "distance",
            "passenger * km",
            0.10377,
        ),
        ("27_320_3235_14:freight.sea", "freight.sea", "distance", "tonne * km", 0.01612),
        ("27_315_3151_14:freight.rail", "freight.rail", "distance", "tonne * km", 0.02779),
        (
            "32_603_9999_12:commuting.homeworking",
            "commuting.homeworking",
            "average",
            "FTE * hour",
            0.33378,
        ),
    ],
)
def test_section_4_3_spot_values(
    factor_id: str, activity: str, method: str, unit: str, value: float
) -> None:
    # standards-and-data.md §4.3, verified excerpts of the flat file v1.1; exact (same digits).
    row = _by_id()[f"desnz-2024:{factor_id}"]
    assert (row["activity"], row["method"], row["unit"], row["co2e_kg"]) == (
        activity,
        method,
        unit,
        value,
    )


@pytest.mark.parametrize(
    ("stem", "region", "value"), [("29_600_4009_13", "CN", 53.5), ("29_600_4019_13", "HK", 51.5)]
)
def test_hotel_stays_use_the_country_code(stem: str, region: str, value: float) -> None:
    row = _by_id()[f"desnz-2024:{stem}:travel.hotel"]
    assert (row["region"], row["unit"], row["co2e_kg"]) == (region, "room_night", value)


def test_net_cv_basis_is_kept_in_the_description() -> None:
    row = _by_id()["desnz-2024:1_100_1004_7:stationary.natural_gas"]
    assert str(row["description"]).endswith("(kWh (Net CV))")


def test_every_desnz_uom_has_a_parsing_unit() -> None:
    from esgledger.units import parse_unit

    for uom in (
        "kWh (Net CV)",
        "cubic metres",
        "million litres",
        "tonne.km",
        "passenger.km",
        "Room per night",
        "per FTE Working Hour",
        "miles",
        "GJ",
    ):
        parse_unit(desnz.unit_expression(uom))


def test_shipped_table_matches_a_fresh_conversion() -> None:
    result = desnz.convert_desnz(
        shared_file(XLSX), desnz.read_gwp_csv(shared_file(GWP)), _countries()
    )
    assert_tables_equal(result.table, read_shipped_set(desnz.SET_ID))


def test_vocabulary() -> None:
    check_vocabulary(read_shipped_set(desnz.SET_ID))


def test_gwp_csv_without_n2o_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "gwp.csv"
    path.write_text("# comment\nSpecies,AR5GWP100\nCH4,28\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"^gwp\.csv: no AR5GWP100 value for CH4 or N2O$"):
        desnz.read_gwp_csv(path)
