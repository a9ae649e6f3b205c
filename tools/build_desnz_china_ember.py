"""Build the shipped DESNZ 2024, China MEE/NBS and Ember factor sets, the ISO country-code
table and the country rows of regions.csv from the official files in ../shared/data.

Run: ``.venv/bin/python tools/build_desnz_china_ember.py`` (needs pycountry and openpyxl, the
``dev`` extra). The package itself never reads ../shared.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pycountry

from esgledger.factors.sources import china_mee, desnz, ember
from esgledger.factors.sources._common import write_set

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ESGLEDGER_SHARED_DATA", REPO.parent / "shared" / "data"))
DATA = REPO / "src" / "esgledger" / "data"
OUT = DATA / "factors"

DESNZ_FILE = SHARED / "factors" / "uk-desnz-ghg-conversion-factors-2024-flat-v1.1.xlsx"
GWP_FILE = SHARED / "gwp" / "globalwarmingpotentials-0.13.2.csv"
CHINA_FILE = SHARED / "grid" / "china-mee-nbs-provincial-grid-co2-factors-2023.json"
EMBER_FILE = SHARED / "grid" / "ember-yearly-electricity-country-overview-2000-2024.csv"

# Ember codes that are not ISO 3166-1 (Kosovo uses the user-assigned XKX / XK).
_EXTRA = [("XK", "XKX", "Kosovo")]


def build_country_codes() -> None:
    rows = sorted(
        [(c.alpha_2, c.alpha_3, getattr(c, "common_name", c.name)) for c in pycountry.countries]
        + _EXTRA
    )
    with (DATA / "country_codes.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["alpha2", "alpha3", "name"])
        writer.writerows(rows)


def append_country_regions() -> int:
    """Append every ISO country missing from regions.csv (append only; columns unchanged)."""
    path = DATA / "regions.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        known = {row["code"] for row in csv.DictReader(handle)}
    codes = sorted(
        [(c.alpha_2, getattr(c, "common_name", c.name)) for c in pycountry.countries]
        + [(a2, name) for a2, _, name in _EXTRA]
    )
    new = [(code, name) for code, name in codes if code not in known]
    with path.open("a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        for code, name in new:
            writer.writerow([code, name, "", "country", "GLOBAL", code, ""])
    return len(new)


def main() -> None:
    build_country_codes()
    added = append_country_regions()
    print(f"regions.csv: {added} country rows appended")
    names = {
        row["name"]: row["alpha2"]
        for row in csv.DictReader((DATA / "country_codes.csv").read_text("utf-8").splitlines())
    }
    result = desnz.convert_desnz(DESNZ_FILE, desnz.read_gwp_csv(GWP_FILE), names)
    print(write_set(result.table, desnz.desnz_meta(DESNZ_FILE, result), OUT))
    print(write_set(china_mee.convert_china(CHINA_FILE), china_mee.china_meta(CHINA_FILE), OUT))
    print(write_set(ember.convert_ember(EMBER_FILE), ember.ember_meta(EMBER_FILE), OUT))


if __name__ == "__main__":
    main()
