"""Benchmark of the bilingual ESG report: the whole report against its HTML alone.

Run from the repository root::

    .venv/bin/python benchmarks/bench_report.py

What it does
------------
1. Builds the demo group's workspace once (``esgledger.demo.run.build_demo`` without its report
   step, in ``benchmarks/.data/report-demo``, which git ignores): imports, inventory, green
   power, targets and plan. Not timed.
2. Each job runs in a fresh child process on that workspace; the child times its job only,
   the parent reads the child's peak resident memory from ``os.wait4`` (``ru_maxrss``).

   ``baseline-html``
       :func:`esgledger.report.builder.build_document` and
       :func:`esgledger.report.render.render_html` in English and Chinese: gathering the
       run's facts, the charts and the layout — everything but the PDF engine and the
       exports. The floor of any report of this content.
   ``report``
       :func:`esgledger.report.builder.build_report`: both languages, HTML and PDF
       (WeasyPrint, CJK font subsetting), page numbers of every anchor, CSV and XLSX exports
       of every table — what ``esgledger report WS`` and the last step of ``esgledger demo``
       do.

3. Prints a Markdown table (seconds, peak MiB, time relative to ``baseline-html``, pages) and
   checks the issue's target: the full bilingual demo report under 30 s (exit status 1 when
   missed).

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
WORKSPACE = HERE / ".data" / "report-demo"
TARGET_SECONDS = 30.0
JOBS = ("baseline-html", "report")


def prepare(root: Path, rebuild: bool) -> None:
    """The demo workspace without its report step (built once, reused)."""
    from esgledger.demo.run import DEMO_STEPS, build_demo

    if root.exists() and not rebuild:
        return
    steps = [step for step in DEMO_STEPS if not step[0].startswith("writing the ESG report")]
    root.parent.mkdir(parents=True, exist_ok=True)
    build_demo(root, progress=False, steps=steps)


def job(name: str, root: Path) -> dict[str, Any]:
    from esgledger.report.builder import build_document, build_report
    from esgledger.report.render import render_html
    from esgledger.store import Workspace

    with Workspace.open(root) as ws, tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        if name == "baseline-html":
            doc = build_document(ws)
            sizes = [len(render_html(doc, lang)) for lang in ("en", "zh-CN")]
            seconds = time.perf_counter() - start
            return {"seconds": seconds, "html_chars": sizes, "pages": {}}
        result = build_report(ws, Path(out))
        seconds = time.perf_counter() - start
        return {
            "seconds": seconds,
            "pages": dict(result.page_counts),
            "files": len(result.paths),
            "draft": result.draft,
            "timings": dict(result.timings),
        }


def run_child(name: str, root: Path) -> dict[str, Any]:
    """Run ``name`` in a fresh Python process; add its peak RSS [MiB]."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(HERE.parent / "src") + os.pathsep + env.get("PYTHONPATH", "")
    command = [sys.executable, str(Path(__file__).resolve()), "--child", name]
    command += ["--workspace", str(root)]
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
    parser.add_argument("--workspace", type=Path, default=WORKSPACE)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the demo workspace")
    parser.add_argument("--repeat", type=int, default=1, help="runs per job (median reported)")
    parser.add_argument("--json", type=Path, help="write the results as JSON")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(job(args.child, args.workspace)))
        return 0
    if args.rebuild and args.workspace.exists():
        shutil.rmtree(args.workspace)
    prepare(args.workspace, args.rebuild)
    results: dict[str, dict[str, Any]] = {}
    for name in JOBS:
        runs = [run_child(name, args.workspace) for _ in range(args.repeat)]
        runs.sort(key=lambda r: r["seconds"])
        best = runs[len(runs) // 2]
        best["peak_mib"] = max(r["peak_mib"] for r in runs)
        results[name] = best
    base = results["baseline-html"]["seconds"]
    print("\nBilingual ESG report of the demo group (English and Chinese)\n")
    print("| job | seconds | peak MiB | time vs baseline-html | PDF pages (en + zh-CN) |")
    print("|---|---:|---:|---:|---|")
    for name, r in results.items():
        pages = r["pages"]
        shown = f"{pages.get('en', '')} + {pages.get('zh-CN', '')}" if pages else ""
        print(
            f"| {name} | {r['seconds']:.2f} | {r['peak_mib']:,.0f} | "
            f"{r['seconds'] / base:.2f} | {shown} |"
        )
    report = results["report"]
    steps = ", ".join(f"{k} {v:.2f} s" for k, v in report["timings"].items())
    print(f"\nreport steps: {steps}")
    met = report["seconds"] < TARGET_SECONDS
    print(f"target: the full bilingual report under {TARGET_SECONDS:g} s: {met}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
