"""Rebuild the shipped default fuel factor sets and the price-index (deflator) table.

Usage::

    .venv/bin/python tools/build_defaults_deflators.py [--cpi-db FILE] [--only factors|deflators]

Writes

* ``src/esgledger/data/factors/ipcc-2006.csv`` (+ ``.meta.json``): IPCC 2006 default fuel
  factors, region GLOBAL, from the keyed table ``data/sources/ipcc_2006_keyed.csv``;
* ``src/esgledger/data/factors/cn-defaults.csv`` (+ ``.meta.json``): China default fuel and heat
  parameters, region CN, from ``data/sources/cn_defaults_keyed.csv``
  (both conversions live in :mod:`esgledger.factors.sources.defaults`);
* ``src/esgledger/data/deflators/us-cpi-u.csv`` (+ ``.meta.json``): U.S. BLS CPI-U annual
  averages (series CUUR0000SA0, period M13) for the complete years 2000 onwards.

The BLS data are taken from the SQLite file ``cpi/cpi.db`` that the PyPI package ``cpi`` ships
inside its wheel: ``pip download --no-deps cpi==<version>`` into a temporary folder, unless
``--cpi-db`` names a file (e.g. the installed package's). The package is never imported (its
import checks the age of its data and may try to download). ``cpi`` is NOT a runtime dependency
of esgledger; it is in the ``dev`` extra only for the validation test.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sqlite3
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from esgledger.factors.sources import defaults
from esgledger.factors.sources._common import write_set

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "src" / "esgledger" / "data"
CPI_VERSION = "2.1.0"
SERIES = "CUUR0000SA0"
FIRST_YEAR = 2000


def fetch_cpi_db(workdir: Path, version: str = CPI_VERSION) -> Path:
    """``cpi/cpi.db`` extracted from the ``cpi`` wheel downloaded from PyPI."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            f"cpi=={version}",
            "-d",
            str(workdir),
        ],
        check=True,
    )
    (wheel,) = workdir.glob("cpi-*.whl")
    target = workdir / "cpi.db"
    with zipfile.ZipFile(wheel) as archive:
        target.write_bytes(archive.read("cpi/cpi.db"))
    return target


def read_annual_averages(db: Path) -> tuple[list[dict[str, object]], str]:
    """The M13 (annual average) rows of CUUR0000SA0 from FIRST_YEAR, complete years only, and
    the latest month in the file (``YYYY-MM``)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        monthly = con.execute(
            "SELECT year, count(*) FROM indexes WHERE series = ? AND period LIKE 'M%' "
            "AND period <> 'M13' GROUP BY year",
            (SERIES,),
        ).fetchall()
        annual = con.execute(
            "SELECT year, value FROM indexes WHERE series = ? AND period = 'M13' AND year >= ? "
            "ORDER BY year",
            (SERIES, FIRST_YEAR),
        ).fetchall()
        latest_year, latest_period = con.execute(
            "SELECT year, period FROM indexes WHERE series = ? AND period <> 'M13' "
            "ORDER BY year DESC, period DESC LIMIT 1",
            (SERIES,),
        ).fetchone()
    months = dict(monthly)
    rows: list[dict[str, object]] = [
        {
            "year": int(year),
            "country": "US",
            "price_index": float(value),
            "series": SERIES,
            "months": int(months[year]),
        }
        for year, value in annual
    ]
    years = [int(r["year"]) for r in rows]  # type: ignore[call-overload]
    if years != list(range(FIRST_YEAR, FIRST_YEAR + len(years))):
        raise SystemExit(f"annual averages are not contiguous from {FIRST_YEAR}: {years}")
    return rows, f"{latest_year}-{str(latest_period)[1:]}"


def write_deflators(db: Path, source_note: str) -> Path:
    rows, latest = read_annual_averages(db)
    out = DATA / "deflators"
    path = out / "us-cpi-u.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(
            handle, ["year", "country", "price_index", "series", "months"], lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(rows)
    short = [r["year"] for r in rows if r["months"] != 12]
    meta = {
        "id": "us-cpi-u",
        "name": "U.S. CPI-U, annual averages (price index for deflating USD spend)",
        "source": (
            "U.S. Bureau of Labor Statistics (BLS), Consumer Price Index for All Urban "
            "Consumers (CPI-U), U.S. city average, all items, not seasonally adjusted, series "
            "CUUR0000SA0, annual average (period M13), 1982-84=100"
        ),
        "licence": "U.S. Government work (BLS): public domain in the United States",
        "attribution": (
            "Source: U.S. Bureau of Labor Statistics, CPI-U series CUUR0000SA0, annual averages; "
            f"via the BLS data shipped in the Python package cpi {CPI_VERSION} (MIT, Ben Welsh)"
        ),
        "package": f"cpi {CPI_VERSION} (PyPI), file cpi/cpi.db ({source_note})",
        "official_sha256": hashlib.sha256(db.read_bytes()).hexdigest(),
        "latest_month_in_file": latest,
        "converter": "tools/build_defaults_deflators.py",
        "years": [rows[0]["year"], rows[-1]["year"]],
        "complete_years_only": (
            f"The file reaches {latest}; only years with a BLS annual average (M13) are shipped."
        ),
        "short_years": (
            f"{', '.join(map(str, short))}: BLS annual average of fewer than 12 months; the "
            "BLS data have no October 2025 index (not collected during the 2025 federal "
            "funding lapse)"
            if short
            else ""
        ),
        "price_year_of_spend_factors": (
            "EPA Supply Chain GHG Emission Factors v1.3.0: kg CO2e per 2022 USD, purchaser "
            "price (standards-and-data.md §4.1, dataset unit 'kg CO2e/2022 USD, purchaser "
            "price'); §1.7: spend-based = spend x EEIO factor 'with inflation adjustment between "
            "the EEIO price year and the activity year'"
        ),
        "rows": len(rows),
    }
    (out / "us-cpi-u.meta.json").write_text(
        json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return path


def write_factor_sets() -> None:
    out = DATA / "factors"
    print(write_set(defaults.convert_ipcc_2006(), defaults.ipcc_2006_meta(), out))
    print(write_set(defaults.convert_cn_defaults(), defaults.cn_defaults_meta(), out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpi-db", type=Path, help="cpi.db of the cpi package (else download)")
    parser.add_argument("--only", choices=("factors", "deflators"))
    args = parser.parse_args()
    if args.only != "deflators":
        write_factor_sets()
    if args.only != "factors":
        if args.cpi_db is not None:
            print(write_deflators(args.cpi_db, f"given as {args.cpi_db.name}"))
        else:
            with tempfile.TemporaryDirectory() as tmp:
                db = fetch_cpi_db(Path(tmp))
                print(write_deflators(db, f"extracted from the {CPI_VERSION} wheel"))


if __name__ == "__main__":
    main()
