"""Rebuild the shipped EPA Hub 2025 and USEEIO v1.3.0 factor tables from /work/shared/data.

Usage: ``.venv/bin/python tools/build_epa.py [SHARED_DATA_DIR]``
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from esgledger.factors.sources._common import write_set
from esgledger.factors.sources.epa_hub import convert_epa_hub, epa_hub_meta
from esgledger.factors.sources.useeio import convert_useeio, useeio_meta

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "esgledger" / "data" / "factors"


def main() -> None:
    default = os.environ.get("ESGLEDGER_SHARED_DATA", str(ROOT.parent / "shared" / "data"))
    shared = Path(sys.argv[1] if len(sys.argv) > 1 else default)
    hub = shared / "factors" / "us-epa-ghg-emission-factors-hub-2025.xlsx"
    sc = shared / "supply-chain" / "SupplyChainGHGEmissionFactors_v1.3.0_NAICS_CO2e_USD2022.csv"
    print(write_set(convert_epa_hub(hub), epa_hub_meta(hub), OUT))
    print(write_set(convert_useeio(sc), useeio_meta(sc), OUT))


if __name__ == "__main__":
    main()
