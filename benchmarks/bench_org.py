"""Benchmark of the organisation checks: deep chains, long cycles and the run manifest.

Run from the repository root::

    .venv/bin/python benchmarks/bench_org.py                       # 1k, 5k and 50k entities
    .venv/bin/python benchmarks/bench_org.py --sizes 1000 5000 --repeat 3

What it does
------------
Each job runs in a fresh child process on a fresh SQLite workspace; the child writes its
entity file (not timed) and times the import only, the parent reads the child's peak resident
memory from ``os.wait4`` (``ru_maxrss``). For each size N:

``flat``
    The baseline: N entities directly under one root (depth 2), accepted. Every row is
    parsed and checked once; any import of N entities pays this.
``chain``
    A chain N entities deep (E0 the root, E1 under it, …): refused at level
    ``MAX_DEPTH + 1`` (the issue: 5,000 took 542 s, 50,000 did not finish).
``cycle``
    N entities in one loop (the issue: 3,000 took 126 s to reject).
``deep-tree``
    N entities in chains of ``MAX_DEPTH`` levels under one root, accepted: the deepest
    structure allowed.

The table gives wall and CPU seconds of the import (CPU time is the steadier measure on a
shared machine), peak MiB and the CPU time relative to ``flat`` of the same N: a ratio
that stays flat as N grows means the checks are linear in the number of entities (a cubic
check multiplies it by 100 from 1k to 10k). Then ``manifest`` jobs: ``--manifest-entities``
entities in chains of 10 and of ``MAX_DEPTH`` levels, one activity row, ``calculate``; the
manifest's bytes must not grow with the depth (the issue: 108 MB on a 5,000-deep chain).

Timings never belong in the test suite; results are recorded in ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SHAPES = ("flat", "chain", "cycle", "deep-tree")
HEADER = ["entity", "name", "parent", "ownership_pct", "operational_control",
          "financial_control", "country"]  # fmt: skip


def parents(shape: str, n: int, depth: int) -> list[tuple[str, str]]:
    """(entity, parent) rows of ``shape`` with ``n`` entities; ``depth`` for deep trees."""
    if shape == "flat":
        return [("E0", "")] + [(f"E{i}", "E0") for i in range(1, n)]
    if shape == "chain":
        return [(f"E{i}", f"E{i - 1}" if i else "") for i in range(n)]
    if shape == "cycle":
        return [(f"E{i}", f"E{(i - 1) % n}") for i in range(n)]
    rows = [("E0", "")]
    per_chain = depth - 1
    for k in range(n - 1):
        chain, level = divmod(k, per_chain)
        rows.append((f"C{chain}L{level}", "E0" if level == 0 else f"C{chain}L{level - 1}"))
    return rows


def job(shape: str, n: int, depth: int) -> dict[str, Any]:
    from esgledger.errors import InputError
    from esgledger.ingest.importers import import_file
    from esgledger.store import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        file = folder / "entities.csv"
        with file.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADER)
            for code, parent in parents(shape, n, depth):
                writer.writerow([code, code, parent, 90, "true", "true", "CN"])
        ws = Workspace.init(folder / "ws", year=2024)
        outcome = "accepted"
        start, cpu = time.perf_counter(), time.process_time()
        try:
            import_file(ws, "entities", file)
        except InputError as exc:
            outcome = "refused: " + exc.issues[0].problem[:60]
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        manifest_bytes = None
        if shape == "manifest":
            from esgledger.inventory import calculate

            data = folder / "activities.csv"
            data.write_text(
                "record_id,entity,period_start,period_end,activity,quantity,unit,region\n"
                "R1,E0,2024-01-01,2024-12-31,electricity,1000,kWh,CN-GD\n",
                encoding="utf-8",
            )
            import_file(ws, "activities", data)
            start, cpu = time.perf_counter(), time.process_time()
            run = calculate(ws, gwp_set="AR5", consolidation="equity")
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            manifest = ws.lake / "runs" / run.run_id / "manifest.json"
            manifest_bytes = manifest.stat().st_size
        ws.close()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "outcome": outcome,
        "manifest_bytes": manifest_bytes,
    }


def run_child(shape: str, n: int, depth: int) -> dict[str, Any]:
    """Run one job in a fresh Python process; add its peak RSS [MiB]."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(HERE.parent / "src") + os.pathsep + env.get("PYTHONPATH", "")
    command = [sys.executable, str(Path(__file__).resolve()), "--child", shape, str(n)]
    command += ["--depth", str(depth)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, env=env)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"job {shape} {n} failed")
    report: dict[str, Any] = json.loads(output.decode().strip().splitlines()[-1])
    report["peak_mib"] = usage.ru_maxrss / 1024
    return report


def median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    runs.sort(key=lambda r: r["cpu_seconds"])
    best = dict(runs[len(runs) // 2])
    best["peak_mib"] = max(r["peak_mib"] for r in runs)
    return best


def main() -> int:
    from esgledger.boundary import MAX_DEPTH

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="*", default=[1_000, 5_000, 50_000], help="none: manifest only"
    )
    parser.add_argument("--manifest-entities", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs per job (median reported)")
    parser.add_argument("--json", type=Path, help="write the results as JSON")
    parser.add_argument("--depth", type=int, default=MAX_DEPTH, help=argparse.SUPPRESS)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        shape, n = args.child
        if shape == "manifest":
            print(json.dumps(job("manifest", int(n), args.depth)))
            return 0
        print(json.dumps(job(shape, int(n), args.depth)))
        return 0
    results: list[dict[str, Any]] = []
    print(f"\nEntity import by shape (MAX_DEPTH = {MAX_DEPTH})\n")
    print(
        "| shape | entities | wall s | CPU s | CPU µs/entity | peak MiB | CPU vs flat | outcome |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for n in args.sizes:
        base = None
        for shape in SHAPES:
            r = median([run_child(shape, n, MAX_DEPTH) for _ in range(args.repeat)])
            base = base or r["cpu_seconds"]
            results.append({"shape": shape, "entities": n, **r})
            print(
                f"| {shape} | {n:,} | {r['seconds']:.2f} | {r['cpu_seconds']:.2f} | "
                f"{1e6 * r['cpu_seconds'] / n:.0f} | {r['peak_mib']:,.0f} | "
                f"{r['cpu_seconds'] / base:.2f} | {r['outcome']} |",
                flush=True,
            )
    n = args.manifest_entities
    print(f"\nRun manifest of {n:,} entities by depth (calculate, one activity row)\n")
    print("| depth | wall s | CPU s | peak MiB | manifest bytes | bytes/entity |")
    print("|---:|---:|---:|---:|---:|---:|")
    for depth in (10, MAX_DEPTH):
        r = median([run_child("manifest", n, depth) for _ in range(args.repeat)])
        results.append({"shape": "manifest", "entities": n, "depth": depth, **r})
        size = r["manifest_bytes"]
        print(
            f"| {depth} | {r['seconds']:.2f} | {r['cpu_seconds']:.2f} | {r['peak_mib']:,.0f} | "
            f"{size:,} | {size / n:.0f} |",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
