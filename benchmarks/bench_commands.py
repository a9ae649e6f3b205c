"""Benchmark of the CLI commands as users run them: wall time and peak memory per command.

Run from the repository root::

    .venv/bin/python benchmarks/bench_commands.py                      # 10 M rows
    .venv/bin/python benchmarks/bench_commands.py --rows 50000000      # one size (repeatable)

What it does
------------
1. **Workspace.** For each size, the synthetic activity file of ``bench_calculate.py``
   (same generator, ``--profile`` and ``--seed``; cached in ``benchmarks/.data/``) is imported
   with ``esgledger import WS FILE --kind activities`` into a fresh workspace with the
   synthetic organisation of ``bench_import.py`` (cached too, as
   ``benchmarks/.data/commands-<profile>-s<seed>-<rows>/``; ``--rebuild`` redoes it).
2. **Jobs**, each ``python -m esgledger ...`` in a fresh child process, stdout to
   ``/dev/null``; wall time measured around the process, peak resident memory
   (``ru_maxrss``) from ``os.wait4``:

   ``baseline-scan``
       A plain DuckDB scan of the workspace's activity Parquet file (one aggregate over every
       row) in a fresh Python process that imports esgledger's CLI first: the floor of
       memory and start-up cost of any command that reads the lake.
   ``calculate``
       ``esgledger calculate WS`` (a new run each time).
   ``inventory-json``
       ``esgledger inventory WS --format json`` of the latest run.
   ``quality``
       ``esgledger quality WS``.
   ``report``
       ``esgledger report WS --out DIR`` (both languages, HTML and PDF, table exports).
3. Prints a Markdown table: seconds, peak MiB, time and memory relative to
   ``baseline-scan``, and checks the goal of issue 11: every command under 1 GiB peak
   (exit status 1 when missed).

``--src DIR`` measures the esgledger sources of another checkout (e.g. the commit before a
change, extracted with ``git archive``) with this interpreter, for before/after comparisons.
Timings never belong in the test suite; results are recorded in ``docs/performance.md``.
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_calculate import GENERATOR_VERSION, PROFILES, code_version, data_file  # noqa: E402
from bench_import import DATA, machine, new_workspace  # noqa: E402

#: Goal of issue 11: every command's peak resident memory [MiB].
GOAL_MIB = 1024.0
#: The commands measured, as ``esgledger`` arguments after the workspace ({ws}, {out}).
COMMANDS: dict[str, list[str]] = {
    "calculate": ["calculate", "{ws}"],
    "inventory-json": ["inventory", "{ws}", "--format", "json"],
    "quality": ["quality", "{ws}"],
    "report": ["report", "{ws}", "--out", "{out}"],
}
JOBS = ("baseline-scan", *COMMANDS)

_SCAN = """
import sys
import esgledger.cli  # what every command pays before it starts
import duckdb
con = duckdb.connect()
print(con.execute(
    "SELECT count(*), sum(quantity), count(DISTINCT site) FROM read_parquet(?)", [sys.argv[1]]
).fetchall())
"""


def _env(src: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(src) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("COLUMNS", "200")
    return env


def run_process(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``command``; its wall time [s] and peak RSS [MiB] (``ru_maxrss`` of ``os.wait4``)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            err.seek(0)
            tail = err.read().decode("utf-8", "replace")[-2000:]
            raise SystemExit(f"{' '.join(command)} failed with exit code {code}:\n{tail}")
    return {"seconds": seconds, "peak_mib": usage.ru_maxrss / 1024}  # Linux: KiB


def workspace(rows: int, options: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    """The cached workspace of ``rows`` imported rows (built when missing or ``--rebuild``)."""
    source = data_file(rows, options.seed, options.profile)
    ws = DATA / f"commands-v{GENERATOR_VERSION}-{options.profile}-s{options.seed}-{rows}"
    info = ws / "bench-import.json"
    if options.rebuild or not info.is_file():
        shutil.rmtree(ws, ignore_errors=True)
        new_workspace(ws)
        print(f"importing {source.name} ...", file=sys.stderr, flush=True)
        imported = run_process(
            [sys.executable, "-m", "esgledger", "import", str(ws), str(source),
             "--kind", "activities"],
            _env(options.src),
        )  # fmt: skip
        info.write_text(json.dumps(imported), encoding="utf-8")
    return ws, json.loads(info.read_text(encoding="utf-8"))


def _lake_file(ws: Path) -> Path:
    files = sorted(p for p in (ws / "lake").rglob("*.parquet") if "runs" not in p.parts)
    if not files:
        raise SystemExit(f"no activity file in {ws / 'lake'}")
    return files[0]


def bench_size(rows: int, options: argparse.Namespace) -> dict[str, Any]:
    ws, imported = workspace(rows, options)
    env = _env(options.src)
    result: dict[str, Any] = {"rows": rows, "import": imported}
    with tempfile.TemporaryDirectory(dir=DATA, prefix="report-") as out:
        for job in JOBS:
            if job == "baseline-scan":
                command = [sys.executable, "-c", _SCAN, str(_lake_file(ws))]
            else:
                args = [a.format(ws=ws, out=out) for a in COMMANDS[job]]
                command = [sys.executable, "-m", "esgledger", *args]
            runs = []
            for _ in range(options.repeat):
                print(f"{rows:,} rows: {job} ...", file=sys.stderr, flush=True)
                runs.append(run_process(command, env))
            runs.sort(key=lambda r: r["seconds"])
            result[job] = {
                "seconds": runs[len(runs) // 2]["seconds"],
                "peak_mib": max(r["peak_mib"] for r in runs),
                "all_seconds": [round(r["seconds"], 3) for r in runs],
            }
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument(
        "--rows", type=int, action="append", help="rows of one size (repeatable; default 10 M)"
    )
    parser.add_argument("--seed", type=int, default=2024, help="generator seed")
    parser.add_argument("--profile", choices=PROFILES, default="realistic")
    parser.add_argument("--repeat", type=int, default=1, help="runs per job (median time)")
    parser.add_argument("--rebuild", action="store_true", help="import the workspace again")
    parser.add_argument(
        "--src",
        type=Path,
        default=HERE.parent / "src",
        help="esgledger sources to measure (default: this checkout's src/)",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    options = parser.parse_args()
    options.src = options.src.resolve()

    sizes = options.rows or [10_000_000]
    default_src = options.src == (HERE.parent / "src").resolve()
    code = code_version() if default_src else f"sources of {options.src}"
    results: dict[str, Any] = {"machine": machine(), "code": code, "sizes": []}
    DATA.mkdir(parents=True, exist_ok=True)
    for rows in sizes:
        results["sizes"].append(bench_size(rows, options))

    info = results["machine"]
    print(
        f"\n{info['date']} · {info['cpus']} CPUs ({info['cpu']}) · {info['memory_gib']} GiB · "
        f"Python {info['python']} · DuckDB {info['duckdb']} · pyarrow {info['pyarrow']}"
    )
    print(f"code: {code}; profile {options.profile}, seed {options.seed}; "
          f"runs per job: {options.repeat}\n")  # fmt: skip
    print("| rows | job | seconds | peak MiB | time × scan | memory × scan |")
    print("|---:|---|---:|---:|---:|---:|")
    ok = True
    for size in results["sizes"]:
        rows = size["rows"]
        base = size["baseline-scan"]
        for job in JOBS:
            r = size[job]
            print(
                f"| {rows:,} | {job} | {r['seconds']:.2f} | {r['peak_mib']:,.0f} | "
                f"{r['seconds'] / base['seconds']:.2f} | {r['peak_mib'] / base['peak_mib']:.2f} |"
            )
        imported = size["import"]
        print(
            f"| {rows:,} | (import, once) | {imported['seconds']:.2f} | "
            f"{imported['peak_mib']:,.0f} | | |"
        )
    print()
    for size in results["sizes"]:
        worst = max(COMMANDS, key=lambda job: size[job]["peak_mib"])
        peak = size[worst]["peak_mib"]
        met = peak < GOAL_MIB
        ok &= met
        print(
            f"* {size['rows']:,} rows: highest peak {peak:,.0f} MiB ({worst}); goal < "
            f"{GOAL_MIB:,.0f} MiB per command: {'met' if met else 'NOT met'}"
        )
    if options.json:
        options.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
