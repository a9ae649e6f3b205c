"""UK Government GHG conversion factors for company reporting 2024 (DESNZ / Defra), flat file
v1.1, sheet ``Factors by Category``.

DESNZ publishes each factor as up to four rows sharing an ID stem (the ID without its last
segment): the total ("kg CO2e") and the CO2e of each gas ("kg CO2e of CO2 / CH4 / N2O per
unit"), all under IPCC AR5 GWP-100. One factor record is built per stem: ``co2e_kg`` is the
total and the gas masses are the gas CO2e divided by the AR5 GWP of the gas, so CO2e can be
recomputed under AR6 (DESNZ 2024 methodology paper §2; standards-and-data.md §4.3).

Mapping onto the taxonomy (``schema/activity_types.csv``) follows the meaning of the DESNZ
levels; rows whose meaning has no taxonomy key are left out and counted in the set's notes.
DESNZ fuel factors are not split by use, so a liquid fuel also used in vehicles (diesel, LPG)
is shipped both as ``stationary.*`` and ``mobile.*`` with the same values.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from esgledger.errors import InputError, Issue
from esgledger.factors.sources._common import tidy_table

__all__ = [
    "SET_ID",
    "DesnzResult",
    "convert_desnz",
    "desnz_meta",
    "read_gwp_csv",
    "unit_expression",
]

SET_ID = "desnz-2024"
SHEET = "Factors by Category"
HEADER_ROW = 6  # sheet row of the column headers
SOURCE = "UK DESNZ / Defra, Greenhouse gas reporting: conversion factors 2024 (flat file v1.1)"
LICENCE = "Open Government Licence v3.0"
ATTRIBUTION = "Contains public sector information licensed under the Open Government Licence v3.0."

_GAS_OF_UNIT = {
    "kg CO2e": "total",
    "kg CO2e of CO2 per unit": "CO2",
    "kg CO2e of CH4 per unit": "CH4",
    "kg CO2e of N2O per unit": "N2O",
}

# DESNZ UOM → pint expression understood by esgledger.units.parse_unit.
_UNITS = {
    "kWh": "kWh",
    "kWh (Net CV)": "kWh",
    "kWh (Gross CV)": "kWh",
    "litres": "litre",
    "tonnes": "tonne",
    "kg": "kg",
    "cubic metres": "meter**3",
    "million litres": "megalitre",
    "GJ": "GJ",
    "passenger.km": "passenger * km",
    "tonne.km": "tonne * km",
    "km": "vehicle * km",
    "miles": "vehicle * mile",
    "Room per night": "room_night",
    "per FTE Working Hour": "FTE * hour",
}

_FUELS: dict[str, tuple[str, ...]] = {
    "Natural gas": ("stationary.natural_gas",),
    "Diesel (average biofuel blend)": ("stationary.diesel", "mobile.diesel"),
    "Petrol (average biofuel blend)": ("mobile.petrol",),
    "LPG": ("stationary.lpg", "mobile.lpg"),
    "Fuel oil": ("stationary.fuel_oil",),
    "Burning oil": ("stationary.kerosene",),
    "Coal (industrial)": ("stationary.coal",),
    "CNG": ("mobile.cng",),
    "Aviation turbine fuel": ("mobile.jet_fuel",),
    "Wood pellets": ("stationary.wood_pellets",),
}

_HAULS = {
    "Domestic, to/from UK": "domestic",
    "Short-haul, to/from UK": "short_haul",
    "Long-haul, to/from UK": "long_haul",
    "International, to/from non-UK": "international",
}
_CLASSES = {
    "Average passenger": "average",
    "Economy class": "economy",
    "Premium economy class": "premium_economy",
    "Business class": "business",
    "First class": "first",
}

# DESNZ hotel country labels whose ISO 3166 short name differs.
_HOTEL_COUNTRIES = {
    "UK": "GB",
    "Hong Kong, China": "HK",
    "Korea": "KR",
    "Russian Federation": "RU",
    "Turkey": "TR",
    "Vietnam": "VN",
}


@dataclass(frozen=True, slots=True)
class _Target:
    activity: str
    method: str
    scope3_category: int | None
    suffix: str = ""
    region: str = "GB"


@dataclass(slots=True)
class DesnzResult:
    """Converted table plus the counts the set's notes report."""

    table: pa.Table
    groups: int
    unmapped_by_level1: dict[str, int] = field(default_factory=dict)
    rows_with_factor: int = 0


def unit_expression(uom: str) -> str:
    """The pint expression for a DESNZ UOM (``"kWh (Net CV)"`` → ``"kWh"``).

    Raises
    ------
    KeyError
        If the UOM is not one DESNZ 2024 uses.
    """
    return _UNITS[uom]


def read_gwp_csv(path: Path, column: str = "AR5GWP100") -> dict[str, float]:
    """GWP-100 of CH4 and N2O [kg CO2e / kg] from the openclimatedata ``globalwarmingpotentials``
    CSV (CO2 = 1 by definition of CO2e; IPCC AR5 WG1 Table 8.7 / 8.SM.16)."""
    with path.open(encoding="utf-8", newline="") as handle:
        lines = [line for line in handle if not line.startswith("#")]
    out = {"CO2": 1.0}
    for rec in csv.DictReader(lines):
        if rec["Species"] in ("CH4", "N2O"):
            out[rec["Species"]] = float(rec[column])
    if set(out) != {"CO2", "CH4", "N2O"}:
        raise ValueError(f"{path.name}: no {column} value for CH4 or N2O")
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _targets(
    level: tuple[str, str, str, str, str], uom: str, countries: Mapping[str, str]
) -> list[_Target]:
    l1, l2, l3, l4, col = level
    if l1 == "UK electricity" and l2 == "Electricity generated":
        return [_Target("electricity", "location", None)]
    if l1 == "Transmission and distribution":
        if l2 == "T&D- UK electricity":
            return [_Target("electricity", "td_losses", 3)]
        if l2 == "Distribution - district heat & steam":
            return [_Target("heat", "td_losses", 3), _Target("steam", "td_losses", 3)]
    if l1 == "WTT- UK electricity":
        method = "wtt" if l2.endswith("(generation)") else "wtt_td_losses"
        return [_Target("electricity", method, 3)]
    if l1 == "Heat and steam" and l3 == "District heat and steam":
        return [_Target("heat", "location", None), _Target("steam", "location", None)]
    if l1 == "WTT- heat and steam":
        if l3 == "District heat and steam":
            return [_Target("heat", "wtt", 3), _Target("steam", "wtt", 3)]
        if l2 == "WTT- district heat & steam distribution":
            return [_Target("heat", "wtt_td_losses", 3), _Target("steam", "wtt_td_losses", 3)]
    if l1 in ("Fuels", "WTT- fuels", "Bioenergy", "WTT- bioenergy") and l3 in _FUELS:
        wtt = l1.startswith("WTT")
        return [_Target(act, "wtt" if wtt else "fuel", 3 if wtt else None) for act in _FUELS[l3]]
    if l1 == "Refrigerant & other" and col == "Emissions including only Kyoto products":
        return [_Target(f"refrigerant.{l3.strip().replace(' ', '_')}", "gwp", None)]
    if l1 == "Business travel- air" and l2 == "Flights" and l3 in _HAULS and l4 in _CLASSES:
        activity = f"travel.air.{_HAULS[l3]}.{_CLASSES[l4]}"
        if col == "Without RF":
            return [_Target(activity, "distance", 6)]
        if col == "With RF":
            return [_Target(activity, "distance_rf", 6, ":with_rf")]
    if l1 == "Hotel stay" and l3 in countries:
        return [_Target("travel.hotel", "average", 6, region=countries[l3])]
    if l1 == "Business travel- land":
        pairs = {
            ("Taxis", "Regular taxi"): ("travel.taxi",),
            ("Bus", "Average local bus"): ("travel.bus", "commuting.bus"),
            ("Rail", "National rail"): ("travel.rail", "commuting.rail"),
            ("Motorbike", "Average"): ("commuting.motorbike",),
        }
        acts = pairs.get((l2, l3), ())
        if l2 == "Cars (by size)" and l3 == "Average car" and col == "Unknown":
            acts = ("travel.car", "commuting.car")
        return [_Target(a, "distance", 6 if a.startswith("travel.") else 7) for a in acts]
    if l1 == "Freighting goods" and uom == "tonne.km":
        if l2 == "HGV (all diesel)" and l3 == "All HGVs" and col == "Average laden":
            return [_Target("freight.road", "distance", 4)]
        if l2 == "Rail" and l3 == "Freight train":
            return [_Target("freight.rail", "distance", 4)]
        if l2 == "Cargo ship" and l3 == "Container ship" and l4 == "Average":
            return [_Target("freight.sea", "distance", 4)]
        if l2 == "Freight flights" and l3 == "International, to/from non-UK":
            if col == "Without RF":
                return [_Target("freight.air", "distance", 4)]
            if col == "With RF":
                return [_Target("freight.air", "distance_rf", 4, ":with_rf")]
    if l1 == "Waste disposal" and col:
        return [_Target(f"waste.{_slug(l3)}.{_slug(col)}", "waste", 5)]
    if l1 == "Water supply":
        return [_Target("water.supply", "average", 1)]
    if l1 == "Water treatment":
        return [_Target("water.treatment", "average", 5)]
    if l1 == "Homeworking" and l2.startswith("Homeworking"):
        return [_Target("commuting.homeworking", "average", 7)]
    return []


def _read_sheet(path: Path) -> list[tuple[int, tuple[Any, ...]]]:
    import openpyxl  # optional at run time: only the build and the tests convert

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook[SHEET]
        out: list[tuple[int, tuple[Any, ...]]] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number <= HEADER_ROW:
                continue
            if values[1] == "END":
                break
            if values[0] is None:
                continue
            out.append((number, tuple(values[:10])))
        return out
    finally:
        workbook.close()


def convert_desnz(
    path: Path, gwp_ar5: Mapping[str, float], countries: Mapping[str, str]
) -> DesnzResult:
    """Convert the DESNZ 2024 flat file into a tidy factor table.

    Parameters
    ----------
    path
        ``ghg-conversion-factors-2024-FlatFormat_v1_1.xlsx``.
    gwp_ar5
        AR5 GWP-100 [kg CO2e / kg] of ``CO2``, ``CH4`` and ``N2O`` (see :func:`read_gwp_csv`).
    countries
        Country name → ISO 3166-1 alpha-2, for the hotel rows (DESNZ labels such as
        ``"UK"`` are translated first).

    Raises
    ------
    InputError
        If a row's GHG/Unit or UOM is not one the 2024 file uses, or a factor is not a number.
    """
    issues: list[Issue] = []
    groups: dict[str, dict[str, Any]] = {}
    with_factor = 0
    for number, values in _read_sheet(path):
        rid, scope, l1, l2, l3, l4, col, uom, ghg, value = values
        if value is None:
            continue
        with_factor += 1
        gas = _GAS_OF_UNIT.get(str(ghg))
        stem = str(rid).rsplit("_", 1)[0]
        group = groups.setdefault(
            stem,
            {
                "levels": tuple("" if v is None else str(v).strip() for v in (l1, l2, l3, l4, col)),
                "scope": scope,
                "uom": str(uom),
                "ids": [],
                "gases": {},
                "energy": gas is None,
            },
        )
        group["ids"].append(str(rid))
        if gas is None:
            continue
        if not isinstance(value, int | float):
            issues.append(
                Issue(path.name, number, "GHG Conversion Factor 2024", str(value), "not a number")
            )
            continue
        group["gases"][gas] = float(value)
    lookup = {**countries, **_HOTEL_COUNTRIES}
    rows: list[dict[str, Any]] = []
    unmapped: Counter[str] = Counter()
    for stem, group in groups.items():
        l1 = group["levels"][0]
        gases = group["gases"]
        targets = (
            [] if group["energy"] or not gases else _targets(group["levels"], group["uom"], lookup)
        )
        if not targets:
            unmapped[l1] += len(group["ids"])
            continue
        if group["uom"] not in _UNITS:
            issues.append(Issue(path.name, None, "UOM", group["uom"], "unit not known"))
            continue
        label = " / ".join(v for v in group["levels"] if v)
        cv = f" ({group['uom']})" if "CV" in group["uom"] else ""
        for target in targets:
            rows.append(
                {
                    "factor_id": f"{SET_ID}:{stem}:{target.activity}{target.suffix}",
                    "factor_set": SET_ID,
                    "activity": target.activity,
                    "region": target.region,
                    "year": 2024,
                    "unit": _UNITS[group["uom"]],
                    "co2e_kg": gases.get("total"),
                    "co2_kg": _mass(gases, "CO2", gwp_ar5),
                    "ch4_kg": _mass(gases, "CH4", gwp_ar5),
                    "n2o_kg": _mass(gases, "N2O", gwp_ar5),
                    "gwp_basis": "AR5",
                    "scope3_category": target.scope3_category,
                    "method": target.method,
                    "source": SOURCE,
                    "edition": "2024 v1.1",
                    "licence": LICENCE,
                    "attribution": ATTRIBUTION,
                    "source_row": ";".join(sorted(group["ids"])),
                    "description": f"{group['scope']}: {label}{cv}",
                }
            )
    if issues:
        raise InputError(f"{path.name}: {len(issues)} problem(s) in sheet {SHEET!r}", issues)
    return DesnzResult(
        table=tidy_table(rows),
        groups=len(groups),
        unmapped_by_level1=dict(sorted(unmapped.items())),
        rows_with_factor=with_factor,
    )


def _mass(gases: Mapping[str, float], gas: str, gwp: Mapping[str, float]) -> float | None:
    """Gas mass [kg / unit] = gas CO2e [kg CO2e / unit] / GWP [kg CO2e / kg]."""
    value = gases.get(gas)
    return None if value is None else value / gwp[gas]


def desnz_meta(path: Path, result: DesnzResult) -> dict[str, Any]:
    """Set metadata for :func:`write_set`."""
    unmapped = ", ".join(f"{k}: {v}" for k, v in result.unmapped_by_level1.items())
    return {
        "id": SET_ID,
        "source": SOURCE,
        "edition": "2024, version 1.1 (18 Oct 2024)",
        "licence": LICENCE,
        "attribution": ATTRIBUTION,
        "official_file": path.name,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "gwp_basis": "AR5 (gas masses = DESNZ gas CO2e / AR5 GWP-100)",
        "notes": (
            f"{result.rows_with_factor} sheet rows with a factor in {result.groups} ID groups; "
            f"{sum(result.unmapped_by_level1.values())} rows not mapped, by Level 1: {unmapped}. "
            "Liquid fuels shipped as both stationary.* and mobile.* (DESNZ does not split by use). "
            "Net and gross CV kWh factors both use unit kWh; the CV basis is in description."
        ),
    }
