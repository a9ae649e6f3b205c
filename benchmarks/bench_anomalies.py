"""Benchmark of anomaly scoring, and the fault-detection table of ``docs/energy/anomalies.md``.

Run from the repository root::

    PYTHONPATH=src:tests .venv/bin/python benchmarks/bench_anomalies.py --meters 100
    PYTHONPATH=src:tests .venv/bin/python benchmarks/bench_anomalies.py --evaluate

``--meters N`` (default 100): ``N / 5`` synthetic sites of five hourly meters each (incomer,
UPS input and output, cooling, other; ``tests/_energy_anomalies.py``), one year, with a
weather series. Each job runs in a fresh child process; the parent reads the child's peak
resident memory from ``os.wait4``. Jobs:

``baseline``
    The floor of any scoring: the long hourly table pivoted to an hours × meters matrix
    (``HourlyMatrix.from_hourly``) and a per-meter median of every hour of the week.
``anomalies``
    :func:`esgledger.energy.detectors.alerts.analyse` with all four layers.

The target (issue 14, Performance): 100 meters scored in well under 60 s. Exit status 1 when
missed. Timings never belong in the test suite; results go to ``docs/performance.md``.

``--evaluate``: the demo telemetry (seed ``--seed``, default the demo's), its stand-in hourly
rollup, all layers, and the recall / precision / delay table per fault kind and per layer as
Markdown (the numbers of ``docs/energy/anomalies.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

TARGET_S = 60.0


def _synthetic(meters: int) -> tuple[object, object]:
    import pandas as pd

    from _energy_anomalies import synthetic_site

    hourly, weather = [], []
    for number in range(max(1, meters // 5)):
        h, w = synthetic_site(seed=number, days=366, site=f"DC-{number:03d}")
        hourly.append(h)
        weather.append(w)
    return pd.concat(hourly, ignore_index=True), pd.concat(weather, ignore_index=True)


def _child(job: str, meters: int) -> None:
    import numpy as np

    from esgledger.energy.detectors.alerts import analyse
    from esgledger.energy.detectors.base import HourlyMatrix

    hourly, weather = _synthetic(meters)
    cpu0 = _cpu()
    start = time.perf_counter()
    if job == "baseline":
        matrix = HourlyMatrix.from_hourly(hourly)  # type: ignore[arg-type]
        week = np.arange(len(matrix.hours)) % 168
        for hour in range(168):
            np.nanmedian(matrix.values[week == hour], axis=0)
        alerts = 0
    else:
        alerts = len(analyse(hourly, weather=weather).alerts)  # type: ignore[arg-type]
    seconds = time.perf_counter() - start
    cpu = _cpu() - cpu0
    print(json.dumps({"job": job, "seconds": seconds, "cpu_seconds": cpu, "alerts": alerts}))


def _cpu() -> float:
    """User + system CPU seconds of this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _run(job: str, meters: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", job, "--meters", str(meters)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    out = process.stdout.read() if process.stdout else ""  # one short line: no pipe stall
    _, _, usage = os.wait4(process.pid, 0)
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    result["peak_mib"] = usage.ru_maxrss / 1024
    return result


def _evaluate(seed: int) -> None:
    from _energy_anomalies import evaluate, hourly_from_telemetry
    from esgledger.demo.telemetry import generate_telemetry
    from esgledger.energy.detectors.alerts import analyse

    telemetry = generate_telemetry(seed, 2024)
    hourly, weather = hourly_from_telemetry(telemetry)
    start = time.perf_counter()
    report = analyse(hourly, weather=weather)
    seconds = time.perf_counter() - start
    result = evaluate(report.alerts, telemetry.faults, telemetry.meters.to_pandas())
    print(f"seed {seed}: {hourly['meter'].nunique()} energy meters, {len(report.alerts)} alerts, "
          f"{seconds:.1f} s\n")  # fmt: skip
    print("| fault kind | faults | found | recall | alerts aimed | true | precision | "
          "max delay [days] |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for kind, row in result.by_kind.items():
        precision = "—" if row["precision"] is None else f"{row['precision']:.2f}"
        delay = "—" if row["max_delay_days"] is None else f"{row['max_delay_days']:.1f}"
        print(f"| {kind} | {row['faults']} | {row['found']} | {row['recall']:.2f} | "
              f"{row['alerts']} | {row['true_alerts']} | {precision} | {delay} |")  # fmt: skip
    print("\n| layer | alerts | matching a fault | precision |\n|---|---|---|---|")
    for layer, row in result.by_layer.items():
        precision = "—" if row["precision"] is None else f"{row['precision']:.2f}"
        print(f"| {layer} | {row['alerts']} | {row['true_alerts']} | {precision} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=100)
    parser.add_argument("--child", choices=("baseline", "anomalies"))
    parser.add_argument("--evaluate", action="store_true")
    parser.add_argument("--seed", type=int, default=20211231)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.meters)
        return 0
    if args.evaluate:
        _evaluate(args.seed)
        return 0
    rows = [_run(job, args.meters) for job in ("baseline", "anomalies")]
    base = rows[0]["seconds"]
    base_cpu = rows[0]["cpu_seconds"]
    print(f"{args.meters} meters × 8,784 hours; /proc/loadavg after: "
          f"{Path('/proc/loadavg').read_text(encoding='ascii').strip()}\n")  # fmt: skip
    print("| job | seconds | × baseline | CPU s | × baseline (CPU) | peak MiB | alerts |\n"
          "|---|---|---|---|---|---|---|")  # fmt: skip
    for row in rows:
        print(f"| {row['job']} | {row['seconds']:.2f} | {row['seconds'] / base:.1f} | "
              f"{row['cpu_seconds']:.2f} | {row['cpu_seconds'] / base_cpu:.1f} | "
              f"{row.get('peak_mib', float('nan')):.0f} | {int(row['alerts'])} |")  # fmt: skip
    return 0 if rows[1]["seconds"] < TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
