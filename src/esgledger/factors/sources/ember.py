"""Country electricity intensities from Ember, Yearly Electricity Data (2025), CC BY 4.0.

Ember's ``emissions_intensity_gco2_per_kwh`` is a life-cycle intensity (upstream, supply
chain and combustion, all gases, 100-year CO2e) of electricity generated, production-based,
imports excluded. Ember does not state the GWP set, so ``gwp_basis`` stays empty and the
method is ``lifecycle``. These are country fallbacks, not official national factors.
"""

from __future__ import annotations

import csv
import hashlib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa

from esgledger.errors import InputError, Issue
from esgledger.factors.sources._common import tidy_table

__all__ = ["SET_ID", "alpha3_to_alpha2", "convert_ember", "ember_meta"]

SET_ID = "ember-2025"
SOURCE = "Ember, Yearly Electricity Data (country overview, data-API refresh of 21 May 2025)"
LICENCE = "CC BY 4.0"
ATTRIBUTION = "Source: Ember, Yearly Electricity Data (2025), CC BY 4.0"
_G_PER_KG = 1000.0  # [g / kg], definition of the SI prefix


@cache
def alpha3_to_alpha2() -> dict[str, str]:
    """ISO 3166-1 alpha-3 → alpha-2, from the shipped ``data/country_codes.csv``."""
    text = resources.files("esgledger.data").joinpath("country_codes.csv").read_text("utf-8")
    return {row["alpha3"]: row["alpha2"] for row in csv.DictReader(text.splitlines())}


def convert_ember(path: Path) -> pa.Table:
    """Convert Ember's ``api_country_overview_yearly.csv`` into a tidy factor table.

    One ``electricity`` factor per country and year with an intensity; aggregates (empty
    ``country_code``) are skipped. ``co2e_kg`` [kg CO2e / kWh] = intensity [g CO2e / kWh] / 1000.

    Raises
    ------
    InputError
        If a country code is not an ISO 3166-1 alpha-3 code known to ``country_codes.csv``
        or the intensity is not a number.
    """
    codes = alpha3_to_alpha2()
    rows: list[dict[str, Any]] = []
    issues: list[Issue] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for line, rec in enumerate(csv.DictReader(handle), start=2):
            alpha3 = rec["country_code"].strip()
            value = rec["emissions_intensity_gco2_per_kwh"].strip()
            if not alpha3 or not value:
                continue
            alpha2 = codes.get(alpha3)
            if alpha2 is None:
                issues.append(
                    Issue(
                        file=path.name,
                        row=line,
                        column="country_code",
                        value=alpha3,
                        problem="not an ISO 3166-1 alpha-3 code in country_codes.csv",
                        fix="add the country to esgledger/data/country_codes.csv",
                    )
                )
                continue
            try:
                grams = float(value)
            except ValueError:
                issues.append(
                    Issue(
                        file=path.name,
                        row=line,
                        column="emissions_intensity_gco2_per_kwh",
                        value=value,
                        problem="not a number",
                        fix="give the intensity in gCO2e/kWh as a number",
                    )
                )
                continue
            year = int(rec["year"])
            rows.append(
                {
                    "factor_id": f"{SET_ID}:{alpha2}:{year}",
                    "factor_set": SET_ID,
                    "activity": "electricity",
                    "region": alpha2,
                    "year": year,
                    "unit": "kWh",
                    "co2e_kg": grams / _G_PER_KG,
                    "method": "lifecycle",
                    "source": SOURCE,
                    "edition": "2025",
                    "licence": LICENCE,
                    "attribution": ATTRIBUTION,
                    "source_row": f"{alpha3} {year}",
                    "description": (
                        f"{rec['country_or_region']}: life-cycle, all gases, Ember method "
                        "(generation-based, imports excluded); GWP set not stated by Ember"
                    ),
                }
            )
    if issues:
        raise InputError(f"{path.name}: {len(issues)} row(s) rejected", issues)
    return tidy_table(rows)


def ember_meta(path: Path) -> dict[str, Any]:
    """Set metadata for :func:`write_set` (sha256 of the official file included)."""
    return {
        "id": SET_ID,
        "source": SOURCE,
        "edition": "2025 (data years 2000-2024)",
        "licence": LICENCE,
        "attribution": ATTRIBUTION,
        "official_file": path.name,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "notes": "Aggregates without country_code skipped; gwp_basis empty (not stated by Ember).",
    }
