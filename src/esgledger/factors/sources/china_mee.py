"""China electricity CO2 factors of the Ministry of Ecology and Environment (MEE) and the
National Bureau of Statistics (NBS), data years 2021-2023, plus labelled policy values.

Sources (standards-and-data.md §4.5; domain-modules.md §2.2):

* 2023 provincial averages of 30 provinces: MEE/NBS Announcement 2025 No. 47, Table 3, as
  compiled in CodeCarbon's JSON (MIT notice kept) [V];
* national, grid-region and selected provincial values 2021-2023, the national factor
  excluding market-traded non-fossil electricity, the national fossil-power factor, the
  carbon-market (ETS) reporting value and the life-cycle carbon-footprint factor: keyed in
  ``esgledger/data/sources/cn_mee_keyed.csv`` with a confidence mark ([V]/[S]/[M]) and a
  citation per row.

All MEE/NBS average factors are CO2 only [kg CO2 / kWh], location-based averages over all
generation accounting for inter-provincial transfers. Method ``fossil_only`` is not yet a
method of the taxonomy; it labels the national fossil-power factor for reference.
"""

from __future__ import annotations

import csv
import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa

from esgledger.factors.sources._common import tidy_table

__all__ = ["SET_ID", "china_meta", "convert_china", "keyed_rows"]

SET_ID = "cn-mee"
LICENCE = (
    "Official announcement of PRC state organs (PRC Copyright Law Art. 5); 2023 provincial "
    "values via the CodeCarbon JSON compilation, MIT licence"
)
ATTRIBUTION = (
    "MEE and NBS of China, electricity CO2 emission factors 2021 (Announcement 2024 No. 12), "
    "2022 (announcement of 20 Dec 2024), 2023 (Announcement 2025 No. 47). 2023 provincial JSON "
    "compilation: Copyright (c) 2019 Mila, BCG Gamma, CometML, Haverford College; "
    "(c) 2023 Code Carbon NGO (MIT)."
)
SOURCE_2023 = "MEE and NBS of China, Announcement 2025 No. 47, Table 3 (provincial averages 2023)"
_G_PER_KG = 1000.0  # [g / kg], definition of the SI prefix

_LABELS = {
    "national": "national average electricity CO2 factor",
    "grid": "regional grid average electricity CO2 factor",
    "province": "provincial average electricity CO2 factor",
    "national_excl_market_nonfossil": (
        "national factor excluding market-traded non-fossil electricity (residual-mix proxy)"
    ),
    "national_fossil": "national fossil-power CO2 factor (fossil generation only)",
    "ets_reporting": "carbon-market (ETS) reporting value for purchased electricity (policy value)",
    "footprint": "electricity carbon-footprint factor, life-cycle CO2e (Scope 3 cat. 3 proxy)",
}


def keyed_rows() -> list[dict[str, str]]:
    """The keyed-in table ``cn_mee_keyed.csv`` as dicts (one per value, with citation)."""
    text = resources.files("esgledger.data.sources").joinpath("cn_mee_keyed.csv").read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def _record(**values: Any) -> dict[str, Any]:
    return {
        "factor_set": SET_ID,
        "activity": "electricity",
        "unit": "kWh",
        "licence": LICENCE,
        "attribution": ATTRIBUTION,
        **values,
    }


def convert_china(json_path: Path) -> pa.Table:
    """Build the China factor table from the 2023 provincial JSON and the keyed table.

    Parameters
    ----------
    json_path
        ``china-mee-nbs-provincial-grid-co2-factors-2023.json`` (values in [g CO2 / kWh]).

    Returns
    -------
    pyarrow.Table
        Tidy factor table; ``co2_kg`` [kg CO2 / kWh] for average and policy factors,
        ``co2e_kg`` [kg CO2e / kWh] for the life-cycle footprint factors.
    """
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    rows: list[dict[str, Any]] = []
    for code, entry in sorted(doc["data"].items()):
        year = int(entry["year"])
        rows.append(
            _record(
                factor_id=f"{SET_ID}:location:{code}:{year}",
                region=code,
                year=year,
                co2_kg=float(entry["emission_factor"]) / _G_PER_KG,
                method="location",
                source=SOURCE_2023,
                edition=str(doc["metadata"]["announcement"]),
                source_row=f"Table 3, {entry['description']}",
                description=f"{entry['description']}: provincial average electricity CO2 "
                "factor, CO2 only [V]",
            )
        )
    for rec in keyed_rows():
        co2e = rec["co2e_kg"].strip()
        co2 = rec["co2_kg"].strip()
        year = int(rec["year"])
        rows.append(
            _record(
                factor_id=f"{SET_ID}:{rec['method']}:{rec['region']}:{year}",
                region=rec["region"],
                year=year,
                co2_kg=float(co2) if co2 else None,
                co2e_kg=float(co2e) if co2e else None,
                gwp_basis=None,
                scope3_category=3 if rec["method"] == "lifecycle" else None,
                method=rec["method"],
                source=rec["citation"],
                edition=str(year),
                source_row=f"cn_mee_keyed.csv {rec['key']} {rec['region']} {year}",
                description=f"{_LABELS[rec['key']]} [{rec['confidence']}]",
            )
        )
    return tidy_table(rows)


def china_meta(json_path: Path) -> dict[str, Any]:
    """Set metadata for :func:`write_set`."""
    return {
        "id": SET_ID,
        "source": "MEE and NBS of China, electricity CO2 emission factors 2021-2023",
        "edition": "2021 (2024 No. 12), 2022 (20 Dec 2024), 2023 (2025 No. 47)",
        "licence": LICENCE,
        "attribution": ATTRIBUTION,
        "official_file": json_path.name,
        "sha256": hashlib.sha256(json_path.read_bytes()).hexdigest(),
        "notes": (
            "2023 provincial values from the official file [V]; other values keyed in "
            "data/sources/cn_mee_keyed.csv with confidence marks; 'fossil_only' is not a "
            "taxonomy method yet; 'market_reporting' values are ETS policy values."
        ),
    }
