"""Benchmark of the energy telemetry: import and roll up a year of 15-minute readings.

Run from the repository root::

    .venv/bin/python benchmarks/energy_telemetry.py                      # 3,000 meters × 366 days
    .venv/bin/python benchmarks/energy_telemetry.py --meters 300 --days 30   # a quick run

What it does
------------
1. Generates (in a child process, into a temporary folder outside the repository, removed at
   the end unless ``--keep``) a synthetic meter tree — ``--meters`` meters over ``--sites``
   data-centre sites in China (Asia/Shanghai), per site an incomer, UPS inputs and outputs,
   PDU outputs, cooling and other loads; half of the meters cumulative ``counter`` registers
   in kWh, half ``interval`` meters (kWh, and a tenth in kW, average power) — and ``--days``
   days of 15-minute readings from 2024-01-01 (local time) written with numpy/pyarrow, in
   row groups of ``--group-meters`` meters, as ``--files`` Parquet files (the meters split
   evenly; ``timestamp`` a UTC instant, ``TIMESTAMP WITH TIME ZONE``; ``value`` DOUBLE).
   A full run (3,000 meters × 366 days) is 105,408,000 readings.
2. Measures, each job in a fresh child process (wall and CPU time of the job inside the
   child — CPU time is the steadier measure on a shared machine; peak
   resident memory ``VmHWM`` of the child read from ``/proc/self/status`` at its end, and
   ``ru_maxrss`` from ``os.wait4``; DuckDB runs in-process, so its memory is included):

   ``baseline``
       DuckDB (same ``connect()`` as the core: memory limit and spill folder) reads all the
       readings files and writes a plain ``GROUP BY meter, hour`` (sum, count) to Parquet:
       the floor any import-and-rollup of these files pays.
   ``import``
       ``import_file(ws, "readings", file)`` of every file into a workspace that holds the
       organisation and the meter tree (imported with ``import_file(ws, "meters", ...)``
       beforehand, not timed): hash, check, duplicate and conflict checks, lake file, batch.
   ``refresh``
       ``esgledger.energy.rollups.refresh(ws)``: intervals (counter differences, rollover
       and reset handling, gap, stuck, spike and skew flags), the 15-minute bins and the
       hour, day and month rollups written to ``lake/telemetry/derived/``.
   ``kpi``
       ``esgledger.energy.kpi_service.kpis(ws, period=2024)``: the ISO/IEC 30134 KPIs of
       every site over the year from the built rollups (the issue's target: under 10 s).

3. Prints a Markdown table (seconds, readings/s, peak MiB, time and memory relative to the
   baseline) and checks the target of issue 14: import and roll up 100 M readings in under
   120 s with peak memory under 2 GiB (the sum of the import and refresh times; the higher
   of their peaks). Exit status 1 when missed (only judged at 100 M readings or more).

DuckDB's memory limit is ``ESGLEDGER_DUCKDB_MEMORY`` (default 512MB; the core's
``connect()``); ``--duckdb-memory`` sets it for every job. Timings never belong in the test
suite; results are recorded in ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _machine import commit, machine

HERE = Path(__file__).resolve().parent
YEAR = 2024
TARGET_SECONDS = 120.0
TARGET_MIB = 2048.0
TARGET_READINGS = 100_000_000
TARGET_KPI_SECONDS = 10.0
STEP_S = 900
ROLES = ("incomer", "ups_input", "ups_output", "pdu_output", "cooling", "other")


# ---- the synthetic data (child) -------------------------------------------------------------


def meter_rows(meters: int, sites: int) -> list[dict[str, Any]]:
    """The meter tree: per site an incomer (the root), then UPS inputs under it, UPS outputs
    under those, PDU outputs under the UPS outputs, cooling and other under the incomer.
    Even-numbered meters are counters in kWh; odd ones interval meters, every fifth of them
    in kW (average power)."""
    rows: list[dict[str, Any]] = []
    per_site = [meters // sites + (1 if s < meters % sites else 0) for s in range(sites)]
    number = 0
    for s, count in enumerate(per_site):
        site = f"DC{s:02d}"
        ids = [f"M{number + i:05d}" for i in range(count)]
        for i, code in enumerate(ids):
            if i == 0:
                role, parent = "incomer", None
            elif i < 3:
                role, parent = "ups_input", ids[0]
            elif i < 5:
                role, parent = "ups_output", ids[i - 2]
            elif i % 10 == 5:
                role, parent = "cooling", ids[0]
            elif i % 10 == 6:
                role, parent = "other", ids[0]
            else:
                role, parent = "pdu_output", ids[3 + i % 2] if count > 4 else ids[0]
            counter = (number + i) % 2 == 0
            power = not counter and (number + i) % 10 == 1
            rows.append(
                {
                    "meter": code,
                    "site": site,
                    "parent": parent or "",
                    "role": role,
                    "unit": "kW" if power else "kWh",
                    "kind": "counter" if counter else "interval",
                    "multiplier": 1,
                }
            )
        number += count
    return rows


def generate(args: dict[str, Any]) -> dict[str, Any]:
    """Write the meters CSV and the readings Parquet files; return their paths and sizes."""
    import csv

    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(args["folder"])
    rows = meter_rows(args["meters"], args["sites"])
    meters_csv = folder / "meters.csv"
    with meters_csv.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    rng = np.random.default_rng(args["seed"])
    steps = args["days"] * 96
    # local midnight 2024-01-01 in Asia/Shanghai (UTC+8), the first reading closes 00:15
    first = dt.datetime(YEAR, 1, 1, 0, 15) - dt.timedelta(hours=8)
    start_us = int((first - dt.datetime(1970, 1, 1)).total_seconds()) * 1_000_000
    stamps = start_us + np.arange(steps, dtype=np.int64) * STEP_S * 1_000_000
    hour_of_day = ((np.arange(steps) + 1) % 96) / 4.0
    daily = 1.0 + 0.15 * np.sin((hour_of_day - 8.0) / 24.0 * 2 * np.pi)
    schema = pa.schema(
        [
            ("meter", pa.string()),
            ("timestamp", pa.timestamp("us", tz="UTC")),
            ("value", pa.float64()),
        ]
    )
    n_files = max(1, min(args["files"], len(rows)))
    bounds = np.linspace(0, len(rows), n_files + 1).astype(int)
    files = []
    group = max(1, args["group_meters"])
    for f in range(n_files):
        path = folder / f"readings-{f + 1:02d}.parquet"
        chosen = rows[bounds[f] : bounds[f + 1]]
        with pq.ParquetWriter(path, schema, compression="zstd") as writer:
            for g in range(0, len(chosen), group):
                block = chosen[g : g + group]
                values = []
                for row in block:
                    load = rng.uniform(5.0, 60.0)  # kWh per 15 minutes
                    series = load * daily * rng.normal(1.0, 0.02, steps)
                    if row["kind"] == "counter":
                        series = rng.uniform(1e4, 1e6) + np.cumsum(series)
                    elif row["unit"] == "kW":
                        series = series * 4.0
                    values.append(series)
                n = len(block)
                table = pa.table(
                    {
                        "meter": pa.array(np.repeat([r["meter"] for r in block], steps)),
                        "timestamp": pa.array(np.tile(stamps, n), pa.timestamp("us", tz="UTC")),
                        "value": pa.array(np.concatenate(values)),
                    },
                    schema=schema,
                )
                writer.write_table(table, row_group_size=1_000_000)
        files.append(str(path))
    return {
        "meters_csv": str(meters_csv),
        "files": files,
        "readings": steps * len(rows),
        "mib": round(sum(Path(p).stat().st_size for p in files) / 2**20, 1),
        "counters": sum(1 for r in rows if r["kind"] == "counter"),
        "power": sum(1 for r in rows if r["unit"] == "kW"),
    }


def new_workspace(root: Path, sites: int, meters_csv: str) -> None:
    """A 2024 workspace with one entity, ``sites`` data centres in CN-TJ and the meter tree,
    all imported through the real importers."""
    import csv

    from esgledger.ingest.importers import import_file
    from esgledger.store import Workspace

    inputs = root.parent / f"{root.name}-inputs"
    inputs.mkdir(parents=True, exist_ok=True)

    def write(name: str, rows: list[dict[str, Any]]) -> Path:
        path = inputs / name
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return path

    entities = [
        {
            "entity": "DCO",
            "name": "Data centres",
            "parent": "",
            "ownership_pct": 100,
            "operational_control": "true",
            "financial_control": "true",
            "country": "CN",
        }
    ]
    site_rows = [
        {
            "site": f"DC{s:02d}",
            "entity": "DCO",
            "name": f"Data centre {s}",
            "country": "CN",
            "region": "CN-TJ",
            "type": "data_centre",
        }
        for s in range(sites)
    ]
    with Workspace.init(root, year=YEAR, name="energy benchmark") as ws:
        import_file(ws, "entities", write("entities.csv", entities))
        import_file(ws, "sites", write("sites.csv", site_rows))
        import_file(ws, "meters", Path(meters_csv))


def peak_mib() -> float:
    """This process's peak resident memory (``VmHWM``) [MiB]."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(job: str, args: dict[str, Any]) -> dict[str, Any]:
    """Run one job in this (child) process; return what to report."""
    if job == "generate":
        started = time.perf_counter()
        out = generate(args)
        out["seconds"] = time.perf_counter() - started
        return out
    if job == "workspace":
        new_workspace(Path(args["ws"]), args["sites"], args["meters_csv"])
        return {"seconds": 0.0}
    if job == "baseline":
        from esgledger.inventory._duckdb import connect

        listed = ", ".join("'" + p.replace("'", "''") + "'" for p in args["files"])
        con = connect()
        try:
            started = time.perf_counter()
            cpu = time.process_time()
            con.execute(
                "COPY (SELECT meter, time_bucket(INTERVAL 1 HOUR, timestamp) AS hour, "
                "sum(value) AS value, count(*) AS readings "
                f"FROM read_parquet([{listed}]) GROUP BY ALL) "
                f"TO '{args['out']}' (FORMAT parquet, COMPRESSION zstd)"
            )
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu
        finally:
            con.close()
        return {"seconds": seconds, "cpu_seconds": cpu, "peak_mib_self": peak_mib()}
    from esgledger.store import Workspace

    with Workspace.open(args["ws"]) as ws:
        if job == "import":
            from esgledger.ingest.importers import import_file

            each = []
            started = time.perf_counter()
            cpu = time.process_time()
            for file in args["files"]:
                t0 = time.perf_counter()
                result = import_file(ws, "readings", Path(file))
                each.append({"seconds": time.perf_counter() - t0, "rows": result.rows})
            seconds = time.perf_counter() - started
            return {
                "seconds": seconds,
                "cpu_seconds": time.process_time() - cpu,
                "rows": sum(e["rows"] for e in each),
                "files": each,
                "peak_mib_self": peak_mib(),
            }
        if job == "refresh":
            import duckdb

            from esgledger.energy import rollups

            started = time.perf_counter()
            cpu = time.process_time()
            derived = rollups.refresh(ws)
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu
            counts = {}
            con = duckdb.connect()
            try:
                for name in ("flags", *[f"rollup_{g}" for g in rollups.GRAINS]):
                    row = con.execute(f"SELECT count(*) FROM {derived.scan(name)}").fetchone()
                    counts[name] = int(row[0]) if row else 0
            finally:
                con.close()
            return {
                "seconds": seconds,
                "cpu_seconds": cpu,
                "rows": counts,
                "peak_mib_self": peak_mib(),
            }
        if job == "kpi":
            from esgledger.energy.kpi_service import kpis
            from esgledger.energy.periods import parse_period

            started = time.perf_counter()
            cpu = time.process_time()
            results = kpis(ws, period=parse_period(str(YEAR)))
            seconds = time.perf_counter() - started
            return {
                "seconds": seconds,
                "cpu_seconds": time.process_time() - cpu,
                "sites": len(results),
                "with_pue": sum(1 for r in results if r.pue is not None),
                "peak_mib_self": peak_mib(),
            }
    raise SystemExit(f"unknown job {job}")


def run_child(job: str, args: dict[str, Any], env_extra: dict[str, str]) -> dict[str, Any]:
    """Run ``job`` in a fresh Python process; add its wall time and peak RSS [MiB]."""
    env = dict(os.environ)
    env.update(env_extra)
    env["PYTHONPATH"] = str(HERE.parent / "src") + os.pathsep + env.get("PYTHONPATH", "")
    command = [sys.executable, str(Path(__file__).resolve()), "--child", job, json.dumps(args)]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, env=env)
    output = process.stdout.read() if process.stdout is not None else b""
    _, status, usage = os.wait4(process.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"job {job} failed with exit code {code}")
    report: dict[str, Any] = json.loads(output.decode().strip().splitlines()[-1])
    report["process_seconds"] = wall
    report["peak_mib"] = usage.ru_maxrss / 1024  # Linux reports KiB
    report["process_cpu_seconds"] = usage.ru_utime + usage.ru_stime
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--meters", type=int, default=3000, help="meters (default 3,000)")
    parser.add_argument("--sites", type=int, default=30, help="data-centre sites (default 30)")
    parser.add_argument("--days", type=int, default=366, help="days of readings (default 366)")
    parser.add_argument("--files", type=int, default=6, help="readings files (default 6)")
    parser.add_argument("--group-meters", type=int, default=50, help="meters per row group")
    parser.add_argument("--seed", type=int, default=2024, help="generator seed")
    parser.add_argument("--duckdb-memory", help="ESGLEDGER_DUCKDB_MEMORY for every job")
    parser.add_argument("--scratch", type=Path, help="folder for the temporary data")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--skip-baseline", action="store_true", help="no baseline job")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    options = parser.parse_args()

    if options.child:
        print(json.dumps(child(options.child[0], json.loads(options.child[1]))))
        return 0

    env: dict[str, str] = {}
    if options.duckdb_memory:
        env["ESGLEDGER_DUCKDB_MEMORY"] = options.duckdb_memory
    scratch = Path(tempfile.mkdtemp(prefix="esgledger-energy-bench-", dir=options.scratch))
    results: dict[str, Any] = {
        "machine": machine(),
        "commit": commit(),
        "meters": options.meters,
        "sites": options.sites,
        "days": options.days,
        "duckdb_memory": os.environ.get("ESGLEDGER_DUCKDB_MEMORY", "")
        if not options.duckdb_memory
        else options.duckdb_memory,
    }
    try:
        data = scratch / "data"
        data.mkdir()
        gen = run_child(
            "generate",
            {
                "folder": str(data),
                "meters": options.meters,
                "sites": options.sites,
                "days": options.days,
                "files": options.files,
                "group_meters": options.group_meters,
                "seed": options.seed,
            },
            env,
        )
        results["generate"] = gen
        readings = int(gen["readings"])
        print(
            f"generated {readings:,} readings of {options.meters:,} meters "
            f"({gen['counters']:,} counters, {gen['power']:,} in kW) over {options.sites} "
            f"sites and {options.days} days: {len(gen['files'])} Parquet files, "
            f"{gen['mib']} MiB, in {gen['seconds']:.1f} s",
            flush=True,
        )
        if not options.skip_baseline:
            results["baseline"] = run_child(
                "baseline",
                {"files": gen["files"], "out": str(scratch / "baseline.parquet")},
                env,
            )
            print(f"baseline: {results['baseline']['seconds']:.1f} s", flush=True)
        ws = scratch / "ws"
        run_child(
            "workspace",
            {"ws": str(ws), "sites": options.sites, "meters_csv": gen["meters_csv"]},
            env,
        )
        results["import"] = run_child("import", {"ws": str(ws), "files": gen["files"]}, env)
        print(f"import: {results['import']['seconds']:.1f} s", flush=True)
        if results["import"]["rows"] != readings:
            raise SystemExit(f"not every reading was imported: {results['import']}")
        results["refresh"] = run_child("refresh", {"ws": str(ws)}, env)
        print(f"refresh: {results['refresh']['seconds']:.1f} s", flush=True)
        results["kpi"] = run_child("kpi", {"ws": str(ws)}, env)
        print(
            f"kpi: {results['kpi']['seconds']:.1f} s for {results['kpi']['sites']} sites "
            f"({results['kpi']['with_pue']} with a PUE)",
            flush=True,
        )
    finally:
        if options.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)

    info = results["machine"]
    print(
        f"\n{info['date']} · commit {results['commit']} · {info['cpus']} CPUs ({info['cpu']}) · "
        f"{info['memory_gib']} GiB · load {info['load_average']} · Python {info['python']} · "
        f"DuckDB {info['duckdb']} · pyarrow {info['pyarrow']} · "
        f"ESGLEDGER_DUCKDB_MEMORY={results['duckdb_memory'] or '(default 512MB)'}"
    )
    print(
        f"{readings:,} readings, {options.meters:,} meters, {options.sites} sites, "
        f"{options.days} days; {len(gen['files'])} files, {gen['mib']} MiB Parquet (zstd)\n"
    )
    base = results.get("baseline")
    print(
        "| job | seconds | CPU s | readings/s | peak MiB | time × baseline | CPU × baseline "
        "| memory × baseline |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for job in ("baseline", "import", "refresh"):
        if job not in results:
            continue
        r = results[job]
        ratio_t = f"{r['seconds'] / base['seconds']:.2f}" if base else "–"
        ratio_c = f"{r['cpu_seconds'] / base['cpu_seconds']:.2f}" if base else "–"
        ratio_m = f"{r['peak_mib'] / base['peak_mib']:.2f}" if base else "–"
        print(
            f"| {job} | {r['seconds']:.1f} | {r['cpu_seconds']:.1f} | "
            f"{readings / r['seconds']:,.0f} | {r['peak_mib']:,.0f} | {ratio_t} | {ratio_c} | "
            f"{ratio_m} |"
        )
    total = results["import"]["seconds"] + results["refresh"]["seconds"]
    peak = max(results["import"]["peak_mib"], results["refresh"]["peak_mib"])
    results["total"] = {"seconds": total, "peak_mib": peak}
    print(f"\nrollup rows: {results['refresh']['rows']}")
    print(f"import files: {[round(f['seconds'], 1) for f in results['import']['files']]} s")
    kpi_ok = results["kpi"]["seconds"] < TARGET_KPI_SECONDS
    ok = total < TARGET_SECONDS and peak < TARGET_MIB and kpi_ok
    judged = readings >= TARGET_READINGS
    print(
        f"import + refresh: {total:.1f} s, peak {peak:,.0f} MiB; target (100 M readings < "
        f"{TARGET_SECONDS:.0f} s and < {TARGET_MIB:.0f} MiB): "
        + (("met" if ok else "NOT met") if judged else "not judged below 100 M readings")
    )
    print(
        f"KPIs of {results['kpi']['sites']} sites over the year: "
        f"{results['kpi']['seconds']:.1f} s (CPU {results['kpi']['cpu_seconds']:.1f} s); "
        f"target < {TARGET_KPI_SECONDS:.0f} s: " + ("met" if kpi_ok else "NOT met")
    )
    if options.json:
        options.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 1 if judged and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
