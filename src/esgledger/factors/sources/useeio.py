"""US EPA Supply Chain GHG Emission Factors v1.3.0 by NAICS-6 (USEEIO v2.2) → ``useeio-1.3.0``.

One ``spend.naics.<code>`` factor per NAICS-6 commodity in kg CO2e (AR5 GWP100) per 2022 USD:
the purchaser-price value ("Supply Chain Emission Factors with Margins") as
``useeio-1.3.0:<naics>`` and the producer-price value ("... without Margins") as
``useeio-1.3.0:<naics>:producer``. ``year`` is 2022, the GHG data year. The by-gas file is not
shipped: its "HFCs and PFCs, unspecified" rows are CO2e and 15 other gases have no column in
the factor schema.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path
from typing import Any

import pyarrow as pa

from esgledger.errors import InputError, Issue
from esgledger.factors.sources._common import tidy_table

__all__ = ["SET_ID", "convert_useeio", "useeio_meta"]

SET_ID = "useeio-1.3.0"
SOURCE = "U.S. EPA, Supply Chain Greenhouse Gas Emission Factors v1.3 by NAICS-6 (USEEIO v2.2)"
EDITION = "1.3.0"
YEAR = 2022
LICENCE = "Public domain (U.S. Government work, 17 U.S.C. 105)"
ATTRIBUTION = (
    "Ingwersen, W. (2024), Supply Chain Greenhouse Gas Emission Factors v1.3 by NAICS-6, "
    "U.S. EPA, DOI 10.23719/1531143"
)
_WITH = "Supply Chain Emission Factors with Margins"
_WITHOUT = "Supply Chain Emission Factors without Margins"


def convert_useeio(path: Path) -> pa.Table:
    """Convert ``SupplyChainGHGEmissionFactors_v1.3.0_NAICS_CO2e_USD2022.csv``.

    Values are [kg CO2e / USD (2022)], AR5 GWP100, scope 3 category 1.

    Raises
    ------
    InputError
        If a NAICS code is not six digits or a factor is not a number.
    """
    rows: list[dict[str, Any]] = []
    issues: list[Issue] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for line, rec in enumerate(csv.DictReader(handle), start=2):
            code = rec["2017 NAICS Code"].strip()
            if not (len(code) == 6 and code.isdigit()):
                issues.append(
                    Issue(
                        file=path.name,
                        row=line,
                        column="2017 NAICS Code",
                        value=code,
                        problem="not a six-digit NAICS code",
                        fix="use EPA's v1.3.0 NAICS CO2e file unchanged",
                    )
                )
                continue
            for column, basis, suffix in (
                (_WITH, "purchaser", ""),
                (_WITHOUT, "producer", ":producer"),
            ):
                try:
                    value = float(rec[column])
                except ValueError:
                    issues.append(
                        Issue(
                            file=path.name,
                            row=line,
                            column=column,
                            value=rec[column],
                            problem="not a number",
                            fix="use EPA's v1.3.0 NAICS CO2e file unchanged",
                        )
                    )
                    continue
                rows.append(
                    {
                        "factor_id": f"{SET_ID}:{code}{suffix}",
                        "factor_set": SET_ID,
                        "activity": f"spend.naics.{code}",
                        "region": "US",
                        "year": YEAR,
                        "unit": "USD",
                        "co2e_kg": value,
                        "gwp_basis": "AR5",
                        "scope3_category": 1,
                        "method": "spend",
                        "currency": "USD",
                        "price_year": 2022,
                        "price_basis": basis,
                        "source": SOURCE,
                        "edition": EDITION,
                        "licence": LICENCE,
                        "attribution": ATTRIBUTION,
                        "source_row": f"NAICS {code}, column '{column}'",
                        "description": rec["2017 NAICS Title"].strip(),
                    }
                )
    if issues:
        raise InputError(f"{path.name}: {len(issues)} bad rows", issues)
    return tidy_table(rows)


def useeio_meta(path: Path) -> dict[str, Any]:
    """Meta record of the set, with the sha256 of the official file."""
    return {
        "id": SET_ID,
        "name": "US EPA Supply Chain GHG Emission Factors v1.3.0 (NAICS-6)",
        "publisher": "U.S. EPA Office of Research and Development",
        "source": SOURCE,
        "edition": EDITION,
        "year": YEAR,
        "licence": LICENCE,
        "attribution": ATTRIBUTION,
        "official_file": path.name,
        "official_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "converter": "esgledger.factors.sources.useeio",
        "notes": (
            "kg CO2e (AR5 GWP100) per 2022 USD; GHG data year 2022; purchaser price (with "
            "margins) and producer price (without margins, id suffix ':producer'). By-gas file "
            "not shipped (schema has no columns for 15 of its 18 gases)."
        ),
    }
