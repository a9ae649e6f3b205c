"""Load test of ``esgledger serve``: the dashboard's read endpoints against a static baseline.

Run from the repository root::

    .venv/bin/python benchmarks/bench_server.py                  # 30 s of reads
    .venv/bin/python benchmarks/bench_server.py --with-import    # then again during an import

What it does
------------
1. Builds the demo group's workspace once (``esgledger demo -w benchmarks/.data/server-demo``,
   which git ignores; ``--rebuild`` to redo it) and copies it to a temporary folder for the
   run, so the cached one stays as built (``esgledger upgrade`` brings the copy to the
   code's migration). ``--workspace DIR`` takes another workspace (copied too). Adds an
   ``esg_office`` account of the whole group with ``esgledger users add WS bench --role
   esg_office --password-stdin`` and makes it an API token.
2. Starts ``esgledger serve`` (Uvicorn, one process, the default job workers) on 127.0.0.1
   and a free port, waits for ``/readyz``, and requests every endpoint once (the first
   request of an endpoint is not what a dashboard waits for).
3. Load: locust (``locust.env.Environment`` with a ``LocalRunner``, ``FastHttpUser``s with no
   wait) in a child process; each request takes the next endpoint of a round robin over the
   read endpoints and the baseline ``/healthz`` (which does nothing), all with the token.
   The run stops after ``--seconds`` or ``--max-requests`` requests, whichever comes first.

   The read endpoints are those of this list the server has (its ``/openapi.json``):
   ``/api/v1/inventory``, ``/api/v1/runs``, ``/api/v1/session``, ``/api/v1/jobs``,
   ``/api/v1/campaigns`` and the progress of the first campaign (one is created, for
   electricity and diesel from every entity, when the workspace has none),
   ``/api/v1/batches``.
4. ``--with-import``: the same load again while a 100,000-row activity file (the demo's
   energy rows repeated, each with its own record id and meter) is imported into the same
   workspace — uploaded to ``POST /api/v1/imports`` (an import job in the server's worker
   pool) when the server has it, else ``esgledger import`` in a separate process.

It prints a Markdown table per phase: requests, failures, requests/s, p50 / p95 / max [ms],
and each endpoint's requests/s and p95 relative to the baseline of the same phase; and checks
the issue's target: the read endpoints together serve at least 200 requests/s with every read
endpoint's p95 under 200 ms (exit status 1 when missed; ``--no-target`` to only measure).
Options: ``--seconds`` (default 30), ``--max-requests`` (default 1,000,000), ``--users``
(concurrent clients, default 16), ``--import-rows``, ``--json FILE``, ``--workspace``,
``--rebuild``, and ``--src DIR``: serve the esgledger sources of another tree (the
workspace is prepared with this checkout's), for a before/after comparison of a server
change, e.g. ``git archive <commit> src | tar -x -C /tmp/before``.

Timings never belong in the test suite (``tests/integration/server/test_load_smoke.py`` runs this
script for a few seconds and checks only that no request failed); results are recorded in
``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _serve

HERE = Path(__file__).resolve().parent
WORKSPACE = HERE / ".data" / "server-demo"
BASELINE = "/healthz"
READS = (
    "/api/v1/inventory",
    "/api/v1/runs",
    "/api/v1/session",
    "/api/v1/jobs",
    "/api/v1/campaigns",
    "/api/v1/campaigns/{campaign_id}/progress",
    "/api/v1/batches",
)
TARGET_RPS = 200.0
TARGET_P95_MS = 200.0
USER = "bench"
PASSWORD = "bench-password-not-secret-1"
ENERGY_FILE = "inputs/activities-energy-2024.csv"


def child_env(src: Path | None = None) -> dict[str, str]:
    """The environment of a child: ``src`` (default this checkout's) first on the path (the
    API token's requests need no plain-http cookies)."""
    return _serve.child_env(src, plain_http=False)


def esgledger(*args: str, stdin: str | None = None) -> None:
    """``python -m esgledger ARGS`` in a child process; stop on failure."""
    _serve.esgledger(*args, stdin=stdin, env=child_env())


def prepare(source: Path, rebuild: bool, work: Path) -> Path:
    """A copy of the workspace to measure, with the bench account."""
    env = child_env()
    root = _serve.copy_workspace(_serve.cached_demo(source, WORKSPACE, rebuild, env), work, env)
    esgledger("users", "add", str(root), USER, "--role", "esg_office", "--password-stdin",
              stdin=PASSWORD + "\n")  # fmt: skip
    return root


def child_token(root: Path) -> str:
    """An API token of the bench account (in a child process: this one imports no
    esgledger)."""
    code = (
        "import sys\n"
        "from esgledger.access import users\n"
        "from esgledger.store import Workspace\n"
        "with Workspace.open(sys.argv[1]) as ws:\n"
        "    me = users.authenticate(ws, sys.argv[2], sys.stdin.read().strip())\n"
        "    print(users.create_token(ws, me, 'bench', days=1).token)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(root), USER],
        input=PASSWORD,
        capture_output=True,
        text=True,
        env=child_env(),
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"token failed:\n{done.stderr[-2000:]}")
    return done.stdout.strip().splitlines()[-1]


def server(root: Path, log: Path, src: Path | None) -> contextlib.AbstractContextManager[str]:
    """``esgledger serve`` on 127.0.0.1 and a free port (the sources ``src``, default this
    checkout's), ready; stopped (SIGINT) after."""
    return _serve.serve(root, log, child_env(src))


def endpoints(base: str, token: str) -> list[str]:
    """The read endpoints of :data:`READS` the server has, each requested once (warm-up)."""
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    paths = set(httpx.get(f"{base}/openapi.json", timeout=30).json()["paths"])
    found = []
    for path in READS:
        if path not in paths:
            continue
        if "{campaign_id}" in path:
            campaigns = httpx.get(f"{base}/api/v1/campaigns", headers=headers, timeout=60).json()
            if not campaigns:
                campaigns = [open_campaign(base, headers)]
            path = path.format(campaign_id=campaigns[0]["id"])
        response = httpx.get(f"{base}{path}", headers=headers, timeout=60)
        if response.status_code != 200:
            raise SystemExit(f"GET {path}: {response.status_code} {response.text[:500]}")
        found.append(path)
    return found


def open_campaign(base: str, headers: dict[str, str]) -> dict[str, Any]:
    """A campaign asking every entity for its electricity and diesel (when the workspace has
    none, so that the progress endpoint has tasks to count)."""
    import httpx

    inventory = httpx.get(f"{base}/api/v1/inventory", headers=headers, timeout=60).json()
    year = inventory["run"]["reporting_year"]
    spec = {
        "name": "Benchmark campaign",
        "reporting_year": year,
        "due_date": f"{year + 1}-03-31",
        "activities": ["electricity", "stationary.diesel"],
        "entities": sorted(inventory["by_entity"]),
    }
    response = httpx.post(f"{base}/api/v1/campaigns", headers=headers, json=spec, timeout=300)
    if response.status_code != 201:
        raise SystemExit(f"POST /api/v1/campaigns: {response.status_code} {response.text[:500]}")
    created: dict[str, Any] = response.json()
    return created


def import_file(root: Path, rows: int, out: Path) -> Path:
    """``rows`` activity rows: the workspace's demo energy rows over and over, each with its
    own record id and meter (so none repeats another's key and period)."""
    source = root / ENERGY_FILE
    if not source.exists():
        raise SystemExit(f"--with-import needs the demo's {ENERGY_FILE} in the workspace")
    with source.open(encoding="utf-8", newline="") as handle:
        template = list(csv.DictReader(handle))
    columns = [*template[0].keys(), "meter"]
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for i, row in zip(range(rows), itertools.cycle(template), strict=False):
            writer.writerow(row | {"record_id": f"BENCH-{i:07d}", "meter": f"BENCH-M{i:07d}"})
    return out


def start_import(base: str, token: str, root: Path, file: Path) -> Any:
    """Start the import; return something :func:`import_finished` can poll."""
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    paths = httpx.get(f"{base}/openapi.json", timeout=30).json()["paths"]
    if "/api/v1/imports" in paths:
        with file.open("rb") as handle:
            response = httpx.post(
                f"{base}/api/v1/imports",
                headers=headers,
                files={"file": (file.name, handle, "text/csv")},
                data={"kind": "activities"},
                timeout=300,
            )
        if response.status_code != 202:
            raise SystemExit(f"POST /api/v1/imports: {response.status_code} {response.text}")
        return ("job", f"{base}/api/v1/jobs/{response.json()['id']}", headers)
    command = [sys.executable, "-m", "esgledger", "import", str(root), str(file)]
    command += ["--kind", "activities"]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=child_env()
    )
    return ("process", process, None)


def import_finished(handle: Any) -> tuple[bool, str | None]:
    """(finished, error)."""
    import httpx

    how, what, headers = handle
    if how == "process":
        code = what.poll()
        if code is None:
            return False, None
        return True, None if code == 0 else what.stderr.read().decode()[-1000:]
    job = httpx.get(what, headers=headers, timeout=30).json()
    if job["status"] in ("queued", "running"):
        return False, None
    return True, None if job["status"] == "succeeded" else json.dumps(job)[:1000]


def run_load(base: str, token: str, paths: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """The locust child's results (see :func:`load`)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child-load", base]
    command += ["--seconds", str(args.seconds), "--max-requests", str(args.max_requests)]
    command += ["--users", str(args.users), "--paths", *paths]
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=child_env()
    )
    out, _ = process.communicate(token)
    if process.returncode != 0:
        raise SystemExit("the load generator failed")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def load(base: str, token: str, paths: list[str], seconds: float, users: int, cap: int) -> Any:
    """In the child: ``users`` locust users requesting ``paths`` and the baseline round
    robin, for ``seconds`` or ``cap`` requests. Per endpoint: requests, failures, requests/s,
    p50/p95/max [ms] and the first failure messages."""
    from gevent import monkey

    monkey.patch_all()
    import gevent
    from locust import FastHttpUser, constant, task
    from locust.env import Environment
    from locust.exception import StopUser

    order = itertools.cycle([BASELINE, *paths])
    headers = {"Authorization": f"Bearer {token}"}
    sent = itertools.count(1)

    class Reader(FastHttpUser):
        host = base
        wait_time = constant(0)

        @task
        def read(self) -> None:
            if next(sent) > cap:  # at most ``cap`` requests, however many users
                raise StopUser
            path = next(order)
            self.client.get(path, headers=headers, name=path)

    env = Environment(user_classes=[Reader])
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=users)
    started = time.monotonic()
    while time.monotonic() - started < seconds and env.stats.total.num_requests < cap:
        gevent.sleep(0.02)
    runner.quit()
    elapsed = time.monotonic() - started
    out: dict[str, Any] = {"seconds": elapsed, "users": users, "endpoints": {}}
    for path in [BASELINE, *paths]:
        entry = env.stats.get(path, "GET")
        out["endpoints"][path] = {
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "rps": entry.num_requests / elapsed,
            "p50_ms": entry.get_response_time_percentile(0.5),
            "p95_ms": entry.get_response_time_percentile(0.95),
            "max_ms": entry.max_response_time,
        }
    out["errors"] = [
        f"{e.method} {e.name}: {e.error} ({e.occurrences}x)" for e in env.stats.errors.values()
    ][:20]
    return out


def phase(
    name: str, base: str, token: str, paths: list[str], args: argparse.Namespace, root: Path
) -> dict[str, Any]:
    importing = None
    if name == "reads + import":
        file = import_file(root, args.import_rows, Path(args.work) / "bench-import.csv")
        started = time.monotonic()
        importing = start_import(base, token, root, file)
    result = run_load(base, token, paths, args)
    result["phase"] = name
    if importing is not None:
        while True:
            finished, error = import_finished(importing)
            if finished:
                break
            time.sleep(0.5)
        result["import"] = {
            "rows": args.import_rows,
            "via": "POST /api/v1/imports" if importing[0] == "job" else "esgledger import",
            "seconds": time.monotonic() - started,
            "error": error,
        }
    return result


def table(result: dict[str, Any]) -> str:
    rows = result["endpoints"]
    base = rows[BASELINE]
    lines = [
        f"### {result['phase']}: {result['seconds']:.1f} s, {result['users']} users "
        f"(load average after: {result['load_average_after']:.1f})",
        "",
        "| endpoint | requests | failures | req/s | p50 ms | p95 ms | max ms "
        "| req/s ÷ baseline | p95 × baseline |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for path, row in rows.items():
        label = f"{path} (baseline)" if path == BASELINE else path
        rps_ratio = row["rps"] / base["rps"] if base["rps"] else float("nan")
        p95_ratio = row["p95_ms"] / base["p95_ms"] if base["p95_ms"] else float("nan")
        lines.append(
            f"| {label} | {row['requests']:,} | {row['failures']:,} | {row['rps']:,.1f} "
            f"| {row['p50_ms']:.0f} | {row['p95_ms']:.0f} | {row['max_ms']:.0f} "
            f"| {rps_ratio:.2f} | {p95_ratio:.2f} |"
        )
    reads = {p: r for p, r in rows.items() if p != BASELINE}
    lines.append("")
    lines.append(
        f"read endpoints together: {sum(r['rps'] for r in reads.values()):,.1f} req/s, "
        f"worst p95 {max((r['p95_ms'] for r in reads.values()), default=0):.0f} ms"
    )
    if "import" in result:
        done = result["import"]
        lines.append(
            f"import of {done['rows']:,} rows via {done['via']}: {done['seconds']:.1f} s"
            + (f", FAILED: {done['error']}" if done["error"] else ", succeeded")
        )
    for error in result["errors"]:
        lines.append(f"error: {error}")
    return "\n".join(lines)


def target_missed(result: dict[str, Any]) -> list[str]:
    reads = {p: r for p, r in result["endpoints"].items() if p != BASELINE}
    missed = []
    total = sum(r["rps"] for r in reads.values())
    if total < TARGET_RPS:
        missed.append(f"{result['phase']}: reads {total:.0f} req/s < {TARGET_RPS:.0f}")
    missed += [
        f"{result['phase']}: {p} p95 {r['p95_ms']:.0f} ms >= {TARGET_P95_MS:.0f}"
        for p, r in reads.items()
        if r["p95_ms"] >= TARGET_P95_MS
    ]
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, default=WORKSPACE)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the demo workspace")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--with-import", action="store_true")
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--no-target", action="store_true", help="measure only")
    parser.add_argument("--json", type=Path, help="write the results as JSON")
    parser.add_argument("--src", type=Path, help="serve the esgledger sources of DIR")
    parser.add_argument("--child-load", help=argparse.SUPPRESS)
    parser.add_argument("--paths", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_load:
        token = sys.stdin.read().strip()
        result = load(
            args.child_load, token, args.paths, args.seconds, args.users, args.max_requests
        )
        print(json.dumps(result))
        return 0
    with tempfile.TemporaryDirectory(prefix="esgledger-bench-server-") as work:
        args.work = work
        root = prepare(args.workspace.resolve(), args.rebuild, Path(work))
        token = child_token(root)
        results = []
        with server(root, Path(work) / "server.log", args.src) as base:
            paths = endpoints(base, token)
            load1, load5, _ = os.getloadavg()
            print(
                f"{platform.node()}: {os.cpu_count()} CPUs, load average {load1:.1f} / "
                f"{load5:.1f} (1 / 5 min), Python {platform.python_version()}; "
                f"server {base}, endpoints {', '.join(paths)}",
                flush=True,
            )
            phases = ["reads"] + (["reads + import"] if args.with_import else [])
            for name in phases:
                result = phase(name, base, token, paths, args, root)
                result["load_average_after"] = os.getloadavg()[0]
                print(table(result) + "\n", flush=True)
                results.append(result)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    failed = [r for r in results if any(e["failures"] for e in r["endpoints"].values())]
    failed += [r for r in results if r.get("import", {}).get("error")]
    if failed:
        print("FAILED: some requests or the import failed", file=sys.stderr)
        return 1
    missed = [] if args.no_target else [m for r in results for m in target_missed(r)]
    for line in missed:
        print(f"target missed: {line}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
