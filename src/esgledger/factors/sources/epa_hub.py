"""US EPA GHG Emission Factors Hub (January 2025) → tidy factor table ``epa-hub-2025``.

The Hub is one sheet with tables in blocks. Tables are located by their titles ("Table 1" in
column B), rows by their labels in column C. Gas masses are shipped as masses: CO2 [kg],
CH4 and N2O [g → kg]; Table 6 is in lb per MWh (converted with pint), Table 9 in t CO2e (AR5)
per short ton. ``year`` is 2025: the Hub 2025 is meant for reporting in 2025 (its electricity
factors are eGRID2023 data). Fuels without a taxonomy key are left out (see
:data:`STATIONARY_FUELS`). On-road CH4/N2O (Tables 3-5, per vehicle-mile by model year) are not
shipped; Table 2 mobile factors are fuel-based CO2 only.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pyarrow as pa

from esgledger.errors import InputError, Issue
from esgledger.factors.sources._common import tidy_table
from esgledger.units import conversion_factor

__all__ = ["SET_ID", "STATIONARY_FUELS", "convert_epa_hub", "epa_hub_meta"]

SET_ID = "epa-hub-2025"
SOURCE = "U.S. EPA, GHG Emission Factors Hub (January 2025)"
EDITION = "2025"
YEAR = 2025
LICENCE = "Public domain (U.S. Government work, 17 U.S.C. 105)"
ATTRIBUTION = "U.S. EPA, GHG Emission Factors Hub (January 2025)"

#: Table 1 fuel label → taxonomy key. Other Table 1 fuels have no taxonomy key yet.
STATIONARY_FUELS: dict[str, str] = {
    "Bituminous": "stationary.coal",
    "Natural Gas": "stationary.natural_gas",
    "Distillate Fuel Oil No. 2": "stationary.diesel",
    "Residual Fuel Oil No. 6": "stationary.fuel_oil",
    "Liquefied Petroleum Gases (LPG)": "stationary.lpg",
    "Kerosene": "stationary.kerosene",
    "Wood and Wood Residuals": "stationary.wood_pellets",
}
#: Table 2 fuel label → taxonomy key.
MOBILE_FUELS: dict[str, str] = {
    "Diesel Fuel": "mobile.diesel",
    "Motor Gasoline": "mobile.petrol",
    "Kerosene-Type Jet Fuel": "mobile.jet_fuel",
    "Compressed Natural Gas (CNG)": "mobile.cng",
    "Liquefied Petroleum Gases (LPG)": "mobile.lpg",
}
#: Table 8 (short ton-mile rows) label → taxonomy key.
FREIGHT: dict[str, str] = {
    "Medium- and Heavy-Duty TruckC": "freight.road",
    "Rail": "freight.rail",
    "Waterborne Craft": "freight.sea",
    "Aircraft": "freight.air",
}
#: Table 10 label → (taxonomy key, unit).
TRAVEL: dict[str, tuple[str, str]] = {
    "Passenger Car A": ("travel.car", "vehicle * mile"),
    "Intercity Rail - National Average C": ("travel.rail", "passenger * mile"),
    "Bus": ("travel.bus", "passenger * mile"),
    "Air Travel - Short Haul (< 300 miles)": ("travel.air.short_haul.average", "passenger * mile"),
    "Air Travel - Medium Haul (>= 300 miles, < 2300 miles)": (
        "travel.air.medium_haul.average",
        "passenger * mile",
    ),
    "Air Travel - Long Haul (>= 2300 miles)": ("travel.air.long_haul.average", "passenger * mile"),
}
#: Table 9 column header → treatment suffix.
TREATMENTS: dict[str, str] = {
    "RecycledA": "recycled",
    "LandfilledB": "landfilled",
    "CombustedC": "combusted",
    "CompostedD": "composted",
    "Anaerobically Digested (Dry Digestate with Curing)": "anaerobically_digested_dry",
    "Anaerobically Digested (Wet Digestate with Curing)": "anaerobically_digested_wet",
}
_G_PER_KG = 1000.0  # [g / kg], SI prefix
_UNITS = {"short ton": "short_ton", "scf": "scf", "gallon": "gallon"}

Grid = list[list[Any]]


def snake(text: str) -> str:
    """``"Food Waste (non-meat)"`` → ``"food_waste_non_meat"``."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _clean(value: Any) -> str:
    return " ".join(str(value).replace("\xa0", " ").split()) if value is not None else ""


def _load(path: Path) -> Grid:
    import warnings

    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # openpyxl: header/footer, extensions
        book = openpyxl.load_workbook(path, data_only=True, read_only=True)
        grid = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
        book.close()
    return grid


def _cell(grid: Grid, row: int, col: str) -> Any:
    """1-based sheet row, column letter."""
    index = ord(col) - ord("A")
    line = grid[row - 1]
    return line[index] if index < len(line) else None


def _find_table(grid: Grid, path: Path, number: int) -> int:
    for row in range(1, len(grid) + 1):
        if _clean(_cell(grid, row, "B")) == f"Table {number}":
            return row
    raise InputError(
        f"{path.name}: Table {number} not found",
        [
            Issue(
                file=path.name,
                row=None,
                column="B",
                value=None,
                problem=f"no cell 'Table {number}' in column B",
                fix="use the EPA GHG Emission Factors Hub 2025 workbook",
            )
        ],
    )


def _number(grid: Grid, path: Path, row: int, col: str) -> float:
    value = _cell(grid, row, col)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise InputError(
        f"{path.name}: expected a number",
        [
            Issue(
                file=path.name,
                row=row,
                column=col,
                value=value,
                problem="not a number",
                fix="use the EPA GHG Emission Factors Hub 2025 workbook",
            )
        ],
    )


def _base(table: int, row: int, label: str, slug: str) -> dict[str, Any]:
    return {
        "factor_id": f"{SET_ID}:{slug}",
        "factor_set": SET_ID,
        "region": "US",
        "year": YEAR,
        "source": SOURCE,
        "edition": EDITION,
        "licence": LICENCE,
        "attribution": ATTRIBUTION,
        "source_row": f"Table {table}, row {row}: {label}",
        "description": label,
    }


def _table1(grid: Grid, path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    start = _find_table(grid, path, 1)
    unit = ""
    biomass = False
    for row in range(start + 1, len(grid) + 1):
        label = _clean(_cell(grid, row, "C"))
        if label == "Source:":
            break
        per_unit = _clean(_cell(grid, row, "H"))
        if per_unit.startswith("kg CO2 per "):
            unit = _UNITS[per_unit.removeprefix("kg CO2 per ")]
            continue
        if label and _cell(grid, row, "E") is None:
            biomass = label.startswith("Biomass")
            continue
        key = STATIONARY_FUELS.get(label)
        if key is None:
            continue
        for denominator, cols in ((unit, "HIJ"), ("mmBtu", "EFG")):
            co2 = _number(grid, path, row, cols[0])
            rec = _base(1, row, label, f"t1:{snake(label)}:{snake(denominator)}")
            rec.update(
                activity=key,
                unit=denominator,
                ch4_kg=_number(grid, path, row, cols[1]) / _G_PER_KG,
                n2o_kg=_number(grid, path, row, cols[2]) / _G_PER_KG,
                method="fuel",
            )
            rec["biogenic_co2_kg" if biomass else "co2_kg"] = co2
            rows.append(rec)
    return rows


def _table2(grid: Grid, path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    start = _find_table(grid, path, 2)
    for row in range(start + 1, len(grid) + 1):
        label = _clean(_cell(grid, row, "C"))
        if label == "Source:":
            break
        key = MOBILE_FUELS.get(label)
        if key is None:
            continue
        unit = _UNITS[_clean(_cell(grid, row, "E"))]
        rec = _base(2, row, label, f"t2:{snake(label)}")
        rec.update(activity=key, unit=unit, co2_kg=_number(grid, path, row, "D"), method="fuel")
        rows.append(rec)
    return rows


def _table6(grid: Grid, path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    start = _find_table(grid, path, 6)
    lb = conversion_factor("lb", "kg")
    header: int | None = None
    for row in range(start + 1, len(grid) + 1):
        acronym = _clean(_cell(grid, row, "C"))
        if acronym.startswith("Source"):
            break
        if _clean(_cell(grid, row, "E")) == "(lb CO2 / MWh)":
            header = row
            continue
        if not isinstance(_cell(grid, row, "E"), (int, float)):
            continue
        if header is None:  # pragma: no cover - layout guard
            break
        region = "US" if acronym == "US Average" else f"US-EGRID-{acronym}"
        label = f"{acronym} ({_clean(_cell(grid, row, 'D'))})"
        rec = _base(6, row, label, f"t6:{snake(acronym)}")
        rec.update(
            activity="electricity",
            region=region,
            unit="MWh",
            co2_kg=_number(grid, path, row, "E") * lb,
            ch4_kg=_number(grid, path, row, "F") * lb,
            n2o_kg=_number(grid, path, row, "G") * lb,
            method="location",
        )
        rows.append(rec)
    return rows


def _table7(grid: Grid, path: Path) -> list[dict[str, Any]]:
    start = _find_table(grid, path, 7)
    for row in range(start + 1, len(grid) + 1):
        if _clean(_cell(grid, row, "C")) == "Steam and Heat" and isinstance(
            _cell(grid, row, "D"), (int, float)
        ):
            rows = []
            for key in ("steam", "heat"):
                rec = _base(7, row, "Steam and Heat", f"t7:{key}")
                rec.update(
                    activity=key,
                    unit="mmBtu",
                    co2_kg=_number(grid, path, row, "D"),
                    ch4_kg=_number(grid, path, row, "E") / _G_PER_KG,
                    n2o_kg=_number(grid, path, row, "F") / _G_PER_KG,
                    method="average",
                )
                rows.append(rec)
            return rows
    raise InputError(
        f"{path.name}: Table 7 has no 'Steam and Heat' row",
        [
            Issue(
                file=path.name,
                row=start,
                column="C",
                value=None,
                problem="no 'Steam and Heat' row with a number in column D below Table 7",
                fix="use the EPA GHG Emission Factors Hub 2025 workbook",
            )
        ],
    )


def _per_distance(
    grid: Grid, path: Path, table: int, mapping: dict[str, tuple[str, str]], category: int
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    start = _find_table(grid, path, table)
    for row in range(start + 1, len(grid) + 1):
        label = _clean(_cell(grid, row, "C"))
        if label.startswith("Source"):
            break
        hit = mapping.get(label)
        if hit is None:
            continue
        key, unit = hit
        rec = _base(table, row, label, f"t{table}:{snake(label)}")
        rec.update(
            activity=key,
            unit=unit,
            co2_kg=_number(grid, path, row, "D"),
            ch4_kg=_number(grid, path, row, "E") / _G_PER_KG,
            n2o_kg=_number(grid, path, row, "F") / _G_PER_KG,
            method="distance",
            scope3_category=category,
        )
        rows.append(rec)
    return rows


def _table9(grid: Grid, path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    start = _find_table(grid, path, 9)
    tonne = conversion_factor("tonne", "kg")
    columns: dict[str, str] = {}
    for row in range(start + 1, len(grid) + 1):
        label = _clean(_cell(grid, row, "C"))
        if label.startswith("Source"):
            break
        if label == "Material":
            for col in "DEFGHI":
                columns[col] = TREATMENTS[_clean(_cell(grid, row, col))]
            continue
        if not columns or not label:
            continue
        for col, treatment in columns.items():
            if _clean(_cell(grid, row, col)) == "NA":
                continue
            rec = _base(9, row, label, f"t9:{snake(label)}:{treatment}")
            rec.update(
                activity=f"waste.{snake(label)}.{treatment}",
                unit="short_ton",
                co2e_kg=_number(grid, path, row, col) * tonne,
                gwp_basis="AR5",
                method="waste",
                scope3_category=5,
            )
            rows.append(rec)
    return rows


def convert_epa_hub(path: Path) -> pa.Table:
    """Convert the EPA GHG Emission Factors Hub 2025 workbook into a tidy factor table.

    Tables 1, 2, 6, 7, 8 (short ton-mile rows), 9 and 10 (car, intercity rail national
    average, bus, air by haul) are converted; Tables 3-5 and 11-12 are not factors shipped here.

    Raises
    ------
    InputError
        If a table title is missing or a factor cell is not a number.
    """
    grid = _load(path)
    freight = {label: (key, "short_ton * mile") for label, key in FREIGHT.items()}
    rows = [
        *_table1(grid, path),
        *_table2(grid, path),
        *_table6(grid, path),
        *_table7(grid, path),
        *_per_distance(grid, path, 8, freight, 4),
        *_table9(grid, path),
        *_per_distance(grid, path, 10, TRAVEL, 6),
    ]
    return tidy_table(rows)


def epa_hub_meta(path: Path) -> dict[str, Any]:
    """Meta record of the set, with the sha256 of the official workbook."""
    return {
        "id": SET_ID,
        "name": "US EPA GHG Emission Factors Hub 2025",
        "publisher": "U.S. EPA, Center for Corporate Climate Leadership",
        "source": SOURCE,
        "edition": EDITION,
        "year": YEAR,
        "licence": LICENCE,
        "attribution": ATTRIBUTION,
        "official_file": path.name,
        "official_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "converter": "esgledger.factors.sources.epa_hub",
        "notes": (
            "year = 2025: the Hub 2025 is meant for reporting in 2025; Table 6 is eGRID2023 "
            "data (total output rates, lb/MWh converted to kg). eGRID grid gross loss: 4.2 % "
            "(US average, Table 6) - not shipped as a factor. Table 1 fuels without a taxonomy "
            "key are left out. Mobile (Table 2) is fuel-based CO2 only; on-road CH4/N2O are "
            "per vehicle-mile in Tables 3-5 and not shipped. Table 9 is t CO2e (AR5) per short "
            "ton, excluding avoided emissions. Wood and Wood Residuals are mapped to "
            "stationary.wood_pellets with CO2 as biogenic."
        ),
    }
