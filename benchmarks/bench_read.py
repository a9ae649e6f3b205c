"""Benchmark of reading CSV and XLSX imports: peak memory of the CLI as users run it.

Run from the repository root::

    .venv/bin/python benchmarks/bench_read.py --csv-rows 1000000 4000000 --xlsx-rows 200000

Each job is ``python -m esgledger import WS FILE --kind activities`` in a fresh child process
(into a fresh workspace with the synthetic organisation of ``bench_import.py``); its wall time
and peak resident memory (``ru_maxrss`` from ``os.wait4``) are reported with the ratio to the
baseline of the same run, ``baseline-copy`` (DuckDB reads the Parquet form of the largest CSV
file and writes it again: the floor of storing the rows). The files come from the generator of
``bench_import.py`` (cached in ``benchmarks/.data/``); the XLSX file is written from the
Parquet file with openpyxl (dates as date cells, quantities as numbers).

``--compare SRC`` also runs every import with another source tree first on ``PYTHONPATH``
(e.g. a checkout of the previous version's ``src``), to measure a change in the same run.

Streaming (issue 11, defect 16) shows as a peak that does not grow with the number of rows.
Timings never belong in the test suite; results are recorded in ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_import import DATA, csv_file, data_file, machine, new_workspace  # noqa: E402


def xlsx_file(rows: int, seed: int) -> Path:
    """The valid synthetic file of ``rows`` rows as an XLSX workbook (cached)."""
    import pyarrow.parquet as pq
    from openpyxl import Workbook

    path = DATA / f"activities-s{seed}-{rows}.xlsx"
    if path.exists():
        return path
    source = pq.ParquetFile(data_file(rows, seed))
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Activities")
    sheet.append(source.schema_arrow.names)
    for batch in source.iter_batches(batch_size=65_536):
        for record in batch.to_pylist():
            sheet.append(list(record.values()))
    tmp = path.with_suffix(".tmp.xlsx")
    book.save(tmp)
    tmp.replace(path)
    return path


def run(command: list[str], src: Path | None) -> dict[str, Any]:
    """Run ``command``; its wall time, exit code and peak RSS [MiB]."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src) + os.pathsep + env.get("PYTHONPATH", "")
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    assert process.stdout is not None
    output = process.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    return {
        "seconds": time.perf_counter() - started,
        "exit": os.waitstatus_to_exitcode(status),
        "peak_mib": usage.ru_maxrss / 1024,
        "output": output.strip().splitlines()[-1:] if output.strip() else [],
    }


def baseline(parquet: Path, out: Path) -> dict[str, Any]:
    code = (
        "import duckdb; duckdb.connect().execute("
        f"\"COPY (SELECT * FROM read_parquet('{parquet}')) TO '{out}' "
        '(FORMAT parquet, COMPRESSION zstd)")'
    )
    return run([sys.executable, "-c", code], None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--csv-rows", type=int, nargs="*", default=[1_000_000, 4_000_000])
    parser.add_argument("--xlsx-rows", type=int, nargs="*", default=[200_000])
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--compare", type=Path, help="another src tree to run the imports with")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    options = parser.parse_args()

    files = [("csv", n, csv_file(n, options.seed)) for n in options.csv_rows]
    files += [("xlsx", n, xlsx_file(n, options.seed)) for n in options.xlsx_rows]
    trees: list[tuple[str, Path | None]] = [("this tree", HERE.parent / "src")]
    if options.compare is not None:
        trees.insert(0, (f"compare ({options.compare})", options.compare.resolve()))
    results: dict[str, Any] = {"machine": machine(), "jobs": []}
    with tempfile.TemporaryDirectory(dir=DATA, prefix="read-") as scratch:
        work = Path(scratch)
        largest = max(options.csv_rows or [1])
        base = baseline(data_file(largest, options.seed), work / "copy.parquet")
        results["baseline"] = {"rows": largest, **base}
        for fmt, rows, path in files:
            for label, src in trees:
                ws = work / "ws"
                if ws.exists():
                    import shutil

                    shutil.rmtree(ws)
                new_workspace(ws)
                command = [sys.executable, "-m", "esgledger", "import", str(ws), str(path)]
                command += ["--kind", "activities"]
                job = run(command, src)
                job.update(
                    {"format": fmt, "rows": rows, "tree": label, "mib": path.stat().st_size / 2**20}
                )
                results["jobs"].append(job)
                print(f"{fmt} {rows:,} [{label}]: {job}", file=sys.stderr, flush=True)

    info = results["machine"]
    print(
        f"\n{info['date']} · {info['cpus']} CPUs ({info['cpu']}) · {info['memory_gib']} GiB · "
        f"Python {info['python']} · DuckDB {info['duckdb']} · pyarrow {info['pyarrow']}\n"
    )
    print("| job | file MiB | rows | exit | seconds | peak MiB | time × copy | memory × copy |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    b = results["baseline"]
    print(
        f"| baseline-copy (DuckDB Parquet → Parquet) | | {b['rows']:,} | {b['exit']} | "
        f"{b['seconds']:.1f} | {b['peak_mib']:,.0f} | 1.00 | 1.00 |"
    )
    for job in results["jobs"]:
        per_row = (job["seconds"] / job["rows"]) / (b["seconds"] / b["rows"])
        print(
            f"| import {job['format'].upper()} [{job['tree']}] | {job['mib']:,.0f} | "
            f"{job['rows']:,} | {job['exit']} | {job['seconds']:.1f} | {job['peak_mib']:,.0f} | "
            f"{per_row:.2f} | {job['peak_mib'] / b['peak_mib']:.2f} |"
        )
    if options.json:
        options.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0 if all(job["exit"] == 0 for job in results["jobs"]) else 1


if __name__ == "__main__":
    sys.exit(main())
