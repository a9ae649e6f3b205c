"""Benchmark of hourly 24/7 CFE matching: esgledger against a straightforward pandas version.

Run from the repository root::

    .venv/bin/python benchmarks/bench_cfe.py --sites 1000

What it does
------------
1. Each job runs in a fresh child process, which generates the same synthetic year
   deterministically (numpy ``default_rng(--seed)``): ``--sites`` sites × 8,760 hours of load
   (a flat base of 0.5-20 MW with a day/night swing), clean supply (a clear-day solar shape
   scaled per site to 20-150 % of its annual load, plus noise-like wind on a third of the
   sites) and one hourly grid CFE share (seasonal and daily shape, 15-60 %). Generation is not
   timed; the child times its job only, and the parent reads the child's peak resident memory
   from ``os.wait4`` (``ru_maxrss``).

   ``esgledger``
       :func:`esgledger.renewables.cfe.cfe_summary` on the sites × hours matrices.
   ``esgledger-arrow``
       The same from long Arrow tables (``site``, ``hour``, value): two
       :func:`~esgledger.renewables.cfe.matrix_from_table` calls, then ``cfe_summary`` — what
       ``esgledger green cfe`` does with a load file and a supply file.
   ``pandas``
       The baseline: one long DataFrame (site code, hour timestamp, load, clean, grid — the
       same long shape as the Arrow tables), the hourly formulas
       as column operations (``min(axis=1)``, subtraction, product) and a ``groupby("site")``
       sum — how one would write it in pandas without thinking about speed.

2. Checks that the three give the same per-site totals (relative 1e-9) — two independent
   implementations agreeing, as PyPSA cross-checks its solvers — and prints a Markdown table:
   seconds, peak MiB, and each job's time relative to pandas. The target: 1,000 sites under
   10 s. Exit status 1 when missed or when the results disagree.

Timings never belong in the test suite; results are recorded in ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
HOURS = 8760
TARGET_SECONDS = 10.0
JOBS = ("esgledger", "esgledger-arrow", "pandas")


def synthetic_year(sites: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(load_mwh, clean_mwh) as sites × hours and grid_cfe as hours; deterministic."""
    rng = np.random.default_rng(seed)
    hour = np.arange(HOURS)
    hour_of_day = hour % 24
    day = hour // 24
    base = rng.uniform(0.5, 20.0, sites)[:, None]
    swing = 1.0 + 0.15 * np.sin((hour_of_day - 8) / 24 * 2 * np.pi)
    load = base * swing[None, :]
    season = 1.0 + 0.3 * np.sin((day - 80) / 365 * 2 * np.pi)
    solar_shape = np.clip(np.sin((hour_of_day - 6) / 12 * np.pi), 0.0, None) * season
    solar_shape /= solar_shape.sum()
    ratio = rng.uniform(0.2, 1.5, sites)[:, None]
    clean = ratio * load.sum(axis=1, keepdims=True) * solar_shape[None, :]
    windy = rng.random(sites) < 1 / 3
    wind = rng.gamma(1.5, 1.0, (int(windy.sum()), HOURS)) * base[windy] * 0.3
    clean[windy] += wind
    grid = (
        0.375
        + 0.15 * np.sin((day - 170) / 365 * 2 * np.pi)
        + 0.075 * np.sin((hour_of_day - 12) / 24 * 2 * np.pi)
    )
    return load, clean, grid


def _totals(load: Any, matched: Any, residual: Any, grid_clean: Any) -> list[list[float]]:
    return [list(map(float, a)) for a in (load, matched, residual, grid_clean)]


def job(name: str, sites: int, seed: int) -> dict[str, Any]:
    """Run one job in this process; return its timing and per-site totals."""
    load, clean, grid = synthetic_year(sites, seed)
    if name == "esgledger":
        from esgledger.renewables.cfe import cfe_summary

        started = time.perf_counter()
        s = cfe_summary(load, clean, grid)
        seconds = time.perf_counter() - started
        totals = _totals(s.load_mwh, s.matched_mwh, s.residual_mwh, s.grid_clean_mwh)
    elif name == "esgledger-arrow":
        import pyarrow as pa

        from esgledger.renewables.cfe import cfe_summary, matrix_from_table

        names = np.array([f"S{i:05d}" for i in range(sites)])
        stamps = np.datetime64("2024-01-01T00", "h") + np.arange(HOURS)
        site_col = pa.array(np.repeat(names, HOURS))
        hour_col = pa.array(np.tile(stamps, sites).astype("datetime64[s]"))
        load_table = pa.table({"site": site_col, "hour": hour_col, "load_mwh": load.ravel()})
        clean_table = pa.table({"site": site_col, "hour": hour_col, "clean_mwh": clean.ravel()})
        del load, clean
        started = time.perf_counter()
        labels, hours, load_m = matrix_from_table(load_table, "load_mwh")
        _, _, clean_m = matrix_from_table(clean_table, "clean_mwh", sites=labels, hours=hours)
        s = cfe_summary(load_m, clean_m, grid)
        seconds = time.perf_counter() - started
        totals = _totals(s.load_mwh, s.matched_mwh, s.residual_mwh, s.grid_clean_mwh)
    elif name == "pandas":
        import pandas as pd

        names = np.array([f"S{i:05d}" for i in range(sites)])
        stamps = np.datetime64("2024-01-01T00", "h") + np.arange(HOURS)
        frame = pd.DataFrame(
            {
                "site": np.repeat(names, HOURS),
                "hour": np.tile(stamps, sites).astype("datetime64[s]"),
                "load_mwh": load.ravel(),
                "clean_mwh": clean.ravel(),
                "grid_cfe": np.tile(grid, sites),
            }
        )
        del load, clean
        started = time.perf_counter()
        frame["matched_mwh"] = frame[["load_mwh", "clean_mwh"]].min(axis=1)
        frame["residual_mwh"] = frame["load_mwh"] - frame["matched_mwh"]
        frame["grid_clean_mwh"] = frame["residual_mwh"] * frame["grid_cfe"]
        sums = frame.groupby("site")[
            ["load_mwh", "matched_mwh", "residual_mwh", "grid_clean_mwh"]
        ].sum()
        seconds = time.perf_counter() - started
        totals = _totals(*(sums[c].to_numpy() for c in sums.columns))
    else:
        raise SystemExit(f"unknown job {name!r}")
    return {"seconds": seconds, "totals": totals}


def run_child(name: str, sites: int, seed: int) -> dict[str, Any]:
    """Run ``name`` in a fresh Python process; add its peak RSS [MiB]."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(HERE.parent / "src") + os.pathsep + env.get("PYTHONPATH", "")
    command = [sys.executable, str(Path(__file__).resolve()), "--child", name]
    command += ["--sites", str(sites), "--seed", str(seed)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, env=env)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"job {name} failed")
    report: dict[str, Any] = json.loads(output.decode().strip().splitlines()[-1])
    report["peak_mib"] = usage.ru_maxrss / 1024
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--repeat", type=int, default=1, help="runs per job (median reported)")
    parser.add_argument("--json", type=Path, help="write the results as JSON")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(job(args.child, args.sites, args.seed)))
        return 0
    results: dict[str, dict[str, Any]] = {}
    for name in JOBS:
        runs = [run_child(name, args.sites, args.seed) for _ in range(args.repeat)]
        runs.sort(key=lambda r: r["seconds"])
        best = runs[len(runs) // 2]
        best["peak_mib"] = max(r["peak_mib"] for r in runs)
        results[name] = best
    reference = np.array(results["pandas"]["totals"])
    agree = all(
        np.allclose(np.array(r["totals"]), reference, rtol=1e-9, atol=0) for r in results.values()
    )
    cells = args.sites * HOURS
    print(f"\nHourly CFE, {args.sites:,} sites × {HOURS:,} hours = {cells:,} site-hours\n")
    print("| job | seconds | site-hours/s | peak MiB | time vs pandas |")
    print("|---|---:|---:|---:|---:|")
    base = results["pandas"]["seconds"]
    for name, r in results.items():
        print(
            f"| {name} | {r['seconds']:.3f} | {cells / r['seconds']:,.0f} | "
            f"{r['peak_mib']:,.0f} | {r['seconds'] / base:.3f} |"
        )
    print(f"\nresults agree (per-site totals, rtol 1e-9): {agree}")
    arrow = results["esgledger-arrow"]["seconds"]
    met = arrow < TARGET_SECONDS
    print(f"target {args.sites:,} sites from tables under {TARGET_SECONDS:g} s: {met}")
    if args.json:
        for r in results.values():
            r.pop("totals")
        args.json.write_text(json.dumps(results, indent=2))
    return 0 if met and agree else 1


if __name__ == "__main__":
    raise SystemExit(main())
