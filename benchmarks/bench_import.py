"""Benchmark of the activity import: wall time and peak memory, as ratios to a baseline.

Run from the repository root::

    .venv/bin/python benchmarks/bench_import.py --rows 10000000

What it does
------------
1. Generates (once; cached in ``benchmarks/.data/``) a synthetic activity Parquet file of
   ``--rows`` rows with a deterministic generator (DuckDB's ``hash`` of the row index and
   ``--seed``): 20 entities, 200 sites, 20 activity/unit pairs over all three scopes, monthly
   periods in 2024, suppliers, notes, regions, a few correction rows and one meter id per
   row (generator version 2; see the generator for why) — and a
   ``--reject-rows`` file (default 1,000,000 rows) identical in shape with ONE bad unit.
2. Runs each job in a fresh child process and reads the child's peak resident memory from
   ``os.wait4`` (``ru_maxrss``); the child times its own job (after its imports):

   ``baseline-copy``
       DuckDB reading the Parquet file and writing it again as zstd Parquet: the floor any
       import that stores the rows must pay.
   ``baseline-pandas``
       ``pandas.read_parquet`` of the file (``--pandas``; a common but heavier way to load it).
   ``import``
       ``esgledger.ingest.importers.import_file(ws, "activities", file)`` into a fresh
       workspace with the synthetic organisation: hash, validate, write the lake, register.
   ``import-csv``
       The same import from a UTF-8 CSV of ``--reject-rows`` valid rows (read by
       ``esgledger.ingest.readers`` into Arrow strings, then validated in DuckDB).
   ``reject``
       The import of the Parquet file with one bad row; checks that the rejection names that
       row.

3. Prints a Markdown table — seconds, rows/s, peak MiB, and the ratios to the copy baseline
   (time per row, and peak memory) — and checks the targets: the import of the big file under
   60 s and 2 GiB. Exit status 1 when a target is missed.

Timings never belong in the test suite; this script is the place for them. Results are
recorded in ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _machine import machine

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
GENERATOR_VERSION = 2
YEAR = 2024
ENTITIES = 20
SITES = 200
TARGET_SECONDS = 60.0
TARGET_MIB = 2048.0

#: (activity, unit) pairs the generator draws from; every one is valid in the taxonomy.
PAIRS: tuple[tuple[str, str], ...] = (
    ("electricity", "kWh"),
    ("electricity", "MWh"),
    ("stationary.natural_gas", "Nm3"),
    ("stationary.diesel", "L"),
    ("mobile.petrol", "L"),
    ("refrigerant.R-410A", "kg"),
    ("refrigerant.R-134a", "kg"),
    ("heat", "GJ"),
    ("travel.air.long_haul.economy", "pkm"),
    ("travel.rail", "pkm"),
    ("travel.hotel", "room_night"),
    ("commuting.car", "vkm"),
    ("freight.road", "tkm"),
    ("waste.mixed_commercial.landfill", "t"),
    ("water.supply", "m3"),
    ("spend.naics.334111", "CNY"),
    ("spend.naics.541511", "USD"),
    ("leased.electricity", "kWh"),
    ("purchased_goods.steel", "t"),
    ("supplier.emissions", "t"),
)


# ---- data ---------------------------------------------------------------------------------


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def generate(path: Path, rows: int, seed: int, bad_row: int | None = None) -> None:
    """Write the synthetic activity file (``bad_row``: 1-based data row given unit 'kWhh')."""
    import duckdb

    activities = _sql_list([a for a, _ in PAIRS])
    units = _sql_list([u for _, u in PAIRS])
    bad = f"WHEN i = {bad_row - 1} THEN 'kWhh' " if bad_row is not None else "WHEN FALSE THEN NULL "
    h = f"hash(i, {seed}"  # deterministic pseudo-random integers per row
    tmp = path.with_suffix(".tmp")
    con = duckdb.connect()
    con.execute(
        f"""
        COPY (
          WITH r AS (
            SELECT i,
                   CAST({h}, 1) % {SITES} AS INTEGER) AS s,
                   CAST({h}, 2) % {len(PAIRS)} AS INTEGER) + 1 AS p,
                   CAST({h}, 3) % 12 AS INTEGER) + 1 AS m,
                   CAST({h}, 4) % 1000 AS INTEGER) AS u
            FROM range({rows}) t(i)
          )
          SELECT
            'R-' || lpad(CAST(i AS VARCHAR), 10, '0') AS record_id,
            'E' || lpad(CAST(s % {ENTITIES} AS VARCHAR), 2, '0') AS entity,
            CASE WHEN u < 900 THEN 'S' || lpad(CAST(s AS VARCHAR), 3, '0') END AS site,
            make_date({YEAR}, m, 1) AS period_start,
            last_day(make_date({YEAR}, m, 1)) AS period_end,
            {activities}[p] AS activity,
            CASE WHEN u < 2 THEN -1 ELSE 1 END
              * round(CAST({h}, 5) % 10000000 AS DOUBLE) / 100, 2) AS quantity,
            CASE {bad}ELSE {units}[p] END AS unit,
            CASE WHEN {activities}[p] = 'travel.hotel' THEN ['CN', 'HK', 'US', 'GB'][1 + u % 4]
                 WHEN u % 20 = 0 THEN 'CN-GD' END AS region,
            CASE WHEN u % 3 = 0 THEN 'SUP-' || CAST({h}, 6) % 500 AS VARCHAR) END AS supplier,
            CASE WHEN {activities}[p] LIKE 'spend.%' AND u % 10 = 0 THEN 2 END
              AS scope3_category,
            CAST(NULL AS VARCHAR) AS factor,
            u < 2 AS correction,
            CASE WHEN u % 10 = 0 THEN 'note ' || CAST({h}, 7) % 10000 AS VARCHAR) END AS notes,
            -- every row its own meter: the rows are independent draws, and without meters the
            -- same site, activity and month would repeat hundreds of times, which the overlap
            -- rule (docs/methodology/overlaps.md) rightly flags and refuses as duplicates
            'M-' || lpad(CAST(i AS VARCHAR), 10, '0') AS meter
          FROM r
        ) TO '{tmp}' (FORMAT parquet, COMPRESSION zstd)
        """
    )
    con.close()
    tmp.replace(path)


def data_file(rows: int, seed: int, bad_row: int | None = None) -> Path:
    DATA.mkdir(parents=True, exist_ok=True)
    suffix = f"-bad{bad_row}" if bad_row is not None else ""
    path = DATA / f"activities-v{GENERATOR_VERSION}-s{seed}-{rows}{suffix}.parquet"
    if not path.exists():
        started = time.perf_counter()
        print(f"generating {path.name} ...", file=sys.stderr, flush=True)
        generate(path, rows, seed, bad_row)
        print(f"  done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return path


def csv_file(rows: int, seed: int) -> Path:
    """The valid synthetic file of ``rows`` rows as UTF-8 CSV (cached)."""
    import duckdb

    path = DATA / f"activities-v{GENERATOR_VERSION}-s{seed}-{rows}.csv"
    if not path.exists():
        source = data_file(rows, seed)
        tmp = path.with_suffix(".tmp")
        duckdb.connect().execute(
            f"COPY (SELECT * FROM read_parquet('{source}')) TO '{tmp}' (FORMAT csv, HEADER)"
        )
        tmp.replace(path)
    return path


def new_workspace(root: Path) -> Path:
    """A fresh 2024 workspace with the synthetic organisation: one group whose root E00 owns
    E01-E19 fully, and sites S000-S199 in CN-GD (``bench_calculate.py`` uses it too: the engine
    consolidates a tree)."""
    sys.path.insert(0, str(HERE.parent / "src"))
    from esgledger.store import Workspace
    from esgledger.store.repository import register_batch, save_entities, save_sites

    with Workspace.init(root, year=YEAR, name="benchmark") as ws, ws.session() as session:
        batch = register_batch(
            session, kind="entities", file_name="org", content_hash="0" * 64, row_count=ENTITIES
        )
        save_entities(
            session,
            [
                {
                    "code": f"E{e:02d}",
                    "name": f"Entity {e}",
                    "parent": None if e == 0 else "E00",
                    "ownership_pct": 100.0,
                    "operational_control": True,
                    "financial_control": True,
                    "country": "CN",
                }
                for e in range(ENTITIES)
            ],
            batch,
        )
        save_sites(
            session,
            [
                {
                    "code": f"S{s:03d}",
                    "entity": f"E{s % ENTITIES:02d}",
                    "name": f"Site {s}",
                    "country": "CN",
                    "region": "CN-GD",
                    "type": "office",
                }
                for s in range(SITES)
            ],
            batch,
        )
    return root


# ---- child jobs ---------------------------------------------------------------------------


def child(job: str, args: dict[str, Any]) -> dict[str, Any]:
    """Run one job in this (child) process; return what to report."""
    if job == "baseline-copy":
        import duckdb

        con = duckdb.connect()
        started = time.perf_counter()
        con.execute(
            f"COPY (SELECT * FROM read_parquet('{args['file']}')) TO '{args['out']}' "
            "(FORMAT parquet, COMPRESSION zstd)"
        )
        return {"seconds": time.perf_counter() - started}
    if job == "baseline-pandas":
        import pandas as pd

        started = time.perf_counter()
        frame = pd.read_parquet(args["file"])
        return {"seconds": time.perf_counter() - started, "rows": len(frame)}
    from esgledger.errors import InputError
    from esgledger.ingest.importers import import_file
    from esgledger.store import Workspace

    with Workspace.open(args["ws"]) as ws:
        started = time.perf_counter()
        try:
            result = import_file(ws, "activities", Path(args["file"]))
        except InputError as exc:
            seconds = time.perf_counter() - started
            return {
                "seconds": seconds,
                "rejected": True,
                "total": exc.total,
                "rows_named": [issue.row for issue in exc.issues],
                "first_issue": str(exc.issues[0]) if exc.issues else None,
            }
        return {
            "seconds": time.perf_counter() - started,
            "rejected": False,
            "rows": result.rows,
            "message": result.message,
        }


def run_child(job: str, args: dict[str, Any]) -> dict[str, Any]:
    """Run ``job`` in a fresh Python process; add its wall time and peak RSS [MiB]."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(HERE.parent / "src") + os.pathsep + env.get("PYTHONPATH", "")
    command = [sys.executable, str(Path(__file__).resolve()), "--child", job, json.dumps(args)]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, env=env)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"job {job} failed with exit code {process.returncode}")
    report: dict[str, Any] = json.loads(output.decode().strip().splitlines()[-1])
    report["process_seconds"] = wall
    report["peak_mib"] = usage.ru_maxrss / 1024  # Linux reports KiB
    return report


# ---- main ---------------------------------------------------------------------------------


def median_run(job: str, args: dict[str, Any], repeat: int, fresh_ws: bool) -> dict[str, Any]:
    runs = []
    for _ in range(repeat):
        if fresh_ws:
            shutil.rmtree(args["ws"], ignore_errors=True)
            new_workspace(Path(args["ws"]))
        runs.append(run_child(job, args))
    runs.sort(key=lambda r: r["seconds"])
    best = runs[len(runs) // 2]
    best["peak_mib"] = max(r["peak_mib"] for r in runs)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows of the big file")
    parser.add_argument(
        "--reject-rows", type=int, default=1_000_000, help="rows of the file with one bad row"
    )
    parser.add_argument("--seed", type=int, default=2024, help="generator seed")
    parser.add_argument("--repeat", type=int, default=1, help="runs per job (median reported)")
    parser.add_argument("--pandas", action="store_true", help="also time pandas.read_parquet")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    options = parser.parse_args()

    if options.child:
        print(json.dumps(child(options.child[0], json.loads(options.child[1]))))
        return 0

    big = data_file(options.rows, options.seed)
    bad_row = max(1, (options.reject_rows * 2) // 3)
    small = data_file(options.reject_rows, options.seed, bad_row=bad_row)
    results: dict[str, Any] = {"machine": machine(), "rows": options.rows}
    with tempfile.TemporaryDirectory(dir=DATA, prefix="run-") as scratch:
        work = Path(scratch)
        results["baseline-copy"] = median_run(
            "baseline-copy",
            {"file": str(big), "out": str(work / "copy.parquet")},
            options.repeat,
            fresh_ws=False,
        )
        if options.pandas:
            results["baseline-pandas"] = median_run(
                "baseline-pandas", {"file": str(big)}, options.repeat, fresh_ws=False
            )
        results["import"] = median_run(
            "import", {"ws": str(work / "ws"), "file": str(big)}, options.repeat, fresh_ws=True
        )
        csv_path = csv_file(options.reject_rows, options.seed)
        results["import-csv"] = median_run(
            "import",
            {"ws": str(work / "ws"), "file": str(csv_path)},
            options.repeat,
            fresh_ws=True,
        )
        results["reject"] = median_run(
            "reject", {"ws": str(work / "ws"), "file": str(small)}, options.repeat, fresh_ws=True
        )
    results["files"] = {
        "big": {"name": big.name, "mib": round(big.stat().st_size / 2**20, 1)},
        "reject": {"name": small.name, "rows": options.reject_rows, "bad_row": bad_row},
    }

    base = results["baseline-copy"]
    imp = results["import"]
    rej = results["reject"]
    if imp["rejected"] or imp["rows"] != options.rows:
        raise SystemExit(f"the synthetic file was not imported whole: {imp}")
    if results["import-csv"]["rejected"]:
        raise SystemExit(f"the synthetic CSV file was rejected: {results['import-csv']}")
    if not rej["rejected"] or rej["total"] != 1 or rej["rows_named"] != [bad_row]:
        raise SystemExit(f"the bad file was not rejected at row {bad_row} only: {rej}")

    info = results["machine"]
    print(
        f"\n{info['date']} · {info['cpus']} CPUs ({info['cpu']}) · {info['memory_gib']} GiB · "
        f"Python {info['python']} · DuckDB {info['duckdb']} · pyarrow {info['pyarrow']}"
    )
    print(
        f"file: {options.rows:,} rows, {results['files']['big']['mib']} MiB Parquet (zstd); "
        f"runs per job: {options.repeat}\n"
    )
    print("| job | rows | seconds | rows/s | peak MiB | time/row × copy | memory × copy |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    jobs = [("baseline-copy", options.rows), ("baseline-pandas", options.rows)]
    jobs += [("import", options.rows), ("import-csv", options.reject_rows)]
    jobs += [("reject", options.reject_rows)]
    for job, rows in jobs:
        if job not in results:
            continue
        r = results[job]
        print(
            f"| {job} | {rows:,} | {r['seconds']:.2f} | {rows / r['seconds']:,.0f} | "
            f"{r['peak_mib']:,.0f} | "
            f"{(r['seconds'] / rows) / (base['seconds'] / options.rows):.2f} | "
            f"{r['peak_mib'] / base['peak_mib']:.2f} |"
        )
    print(f"\nreject: {rej['first_issue']}")
    ok_time = imp["seconds"] < TARGET_SECONDS
    ok_memory = imp["peak_mib"] < TARGET_MIB
    print(
        f"target (import {options.rows:,} rows < {TARGET_SECONDS:.0f} s and < "
        f"{TARGET_MIB:.0f} MiB): {'met' if ok_time and ok_memory else 'NOT met'} "
        f"({imp['seconds']:.1f} s, {imp['peak_mib']:,.0f} MiB)"
    )
    if options.json:
        options.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0 if ok_time and ok_memory else 1


if __name__ == "__main__":
    sys.exit(main())
