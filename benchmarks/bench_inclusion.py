"""Benchmark of the carbon-inclusion settlement (碳普惠结算): import, validate, settle and post
10 million trips.

Run from the repository root::

    .venv/bin/python benchmarks/bench_inclusion.py                    # 10 M trips, 5 M accounts
    .venv/bin/python benchmarks/bench_inclusion.py --trips 200000     # a quick run

What it does
------------
1. Generates (in a child process, into a temporary folder outside the repository, removed at
   the end unless ``--keep``) two local days (Monday 2 and Tuesday 3 March 2026,
   Asia/Shanghai) of a large metro and electric-bus system: ``--trips`` trips (default
   10,000,000: about a day of a large metro system, twice over) of ``--accounts`` transit
   cards (default half the trips: 40 % of the cards ride once, 30 % twice, 20 % three times,
   10 % four times — a morning and an evening ride on either day, so one card's rides never
   overlap). 70 % metro (operator ``SZMTR``, 46.7 g/pkm), 30 % electric bus (``SZBUS``,
   26.9 g/pkm); metro rides log-normal around 9 km at 32 km/h plus 3–8 minutes in
   stations, bus rides around 4 km at 15 km/h. The distance is given for 85 % of the metro
   and 80 % of the bus rides; the other metro rides give only their origin and destination
   stations (the demo GTFS network, ``src/esgledger/demo/transit_gtfs``, gives their
   distance), the other bus rides nothing (the methodology's per-trip fallback). Some rides
   are short (under the 500 m minimum: refused). One Parquet file per local day (the raw
   card ids, ISO instants with zone), as an operator would send them.
2. Builds a workspace (Shenzhen methodology ``shenzhen-transit``, the demo network), not
   timed; then measures, each job in a fresh child process (wall and CPU time of the job
   inside the child — CPU time is the steadier measure on a shared machine; peak resident
   memory ``VmHWM`` of the child, and ``ru_maxrss`` from ``os.wait4``; DuckDB runs
   in-process, so its memory is included):

   ``import``
       ``import_file(ws, "trips", file)`` of both files (the CLI's ``esgledger import WS
       --kind trips FILE``): every row validated, duplicates and conflicts checked, account
       ids pseudonymised (HMAC), lake files written, accounts created.
   ``consent``
       ``accounts.grant_many``: 90 % of the accounts opt in to ``transit`` (one bulk
       operation; the rest stay pending within the claim days). Reported, not part of the
       settlement.
   ``baseline``
       Plain DuckDB (the core's ``connect()``) over the same trips lake files: per account
       the sum of ``floor(distance_m × factor)`` written to Parquet — the floor any
       settlement of these trips pays.
   ``settle``
       ``esgledger.inclusion.service.settle(ws, principal, as_of=2026-03-06 12:00+08:00)``
       (after the T+2 lag): the rules' input (open trips, consent, held accounts, network
       distances), the anomaly score (IsolationForest), the integrity rules and the
       methodology (``settle.compute``), the settlement lines Parquet, and the issuance
       transactions (≤ 2,048 accounts each) posted to the hash-chained ledger with the
       balance counters, in one database transaction.
   ``verify`` (``--verify``)
       ``service.verify``: every ledger check recomputed from the stored transfers.
   ``api``
       ``esgledger serve`` of a fresh workspace on 127.0.0.1 and a free port
       (``benchmarks/_serve.py``); ``--api-requests`` POSTs of ``--api-trips`` trips each
       (default 20 × 10,000) to ``/api/v1/inclusion/trips`` with an ``esg_office`` API
       token, one after the other, stopping after ``--api-seconds``; trips/s.

3. Prints a Markdown table (seconds, trips/s, peak MiB, time and memory relative to the
   baseline) and checks the target of issue 15 ("Validation and scale"): **settlement of
   10 M trips — validation, rules, settlement and ledger postings — in under 2 minutes
   with peak memory under 2 GiB**, where the settlement is **import + settle** (the import
   validates every row; settle applies the rules, writes the lines and posts the ledger);
   the time is the sum of both jobs, the memory the higher of their peaks; and the API
   accepts ≥ 5,000 trips/s. Exit status 1 when missed (the settlement target is judged at
   10 M trips or more; the API target always when the API job runs).

``--profile`` runs ``settle`` under ``cProfile`` too (a separate child; its time is not the
one reported) and prints its most expensive functions. Timings never belong in the test
suite; results are recorded in ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _serve
from _machine import commit, machine

HERE = Path(__file__).resolve().parent
GTFS = HERE.parent / "src" / "esgledger" / "demo" / "transit_gtfs"
METHODOLOGY = "shenzhen-transit"
FACTORS_G_PER_KM = {"metro": "46.7", "bus_electric": "26.9"}
FIRST_DAY = "2026-03-02"  # Monday, local (Asia/Shanghai, UTC+8)
AS_OF = "2026-03-06T12:00:00+08:00"  # after the T+2 lag of both days
TARGET_SECONDS = 120.0
TARGET_MIB = 2048.0
TARGET_TRIPS = 10_000_000
TARGET_API_TRIPS_S = 5000.0
USER = "bench"
PASSWORD = "bench-password-not-secret-1"


# ---- the synthetic trips (child) ------------------------------------------------------------


def trips_table(trips: int, accounts: int, seed: int, prefix: str = "") -> Any:
    """``trips`` rides of ``accounts`` cards over two local days (module docstring), as an
    Arrow table with the ``trips`` import columns and a ``day`` column (0 or 1)."""
    import datetime as dt

    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = np.random.default_rng(seed)
    # rides per card: 1, 2, 3 or 4 by the card's number (40 / 30 / 20 / 10 %)
    pattern = np.array([1, 1, 1, 1, 2, 2, 2, 3, 3, 4], dtype=np.int64)
    per_card = pattern[np.arange(accounts) % 10]
    card = np.repeat(np.arange(accounts, dtype=np.int64), per_card)
    first = np.cumsum(per_card) - per_card
    slot = np.arange(len(card), dtype=np.int64) - np.repeat(first, per_card)
    if len(card) < trips:  # more trips than the pattern gives: more rounds of the same cards
        extra = rng.integers(0, accounts, trips - len(card))
        card = np.concatenate([card, extra])
        slot = np.concatenate([slot, np.full(len(extra), 4, dtype=np.int64)])
    keep = np.sort(rng.permutation(len(card))[:trips])
    card, slot = card[keep], slot[keep]
    n = len(card)
    # a card's rides: slot 0/1 morning of day (card % 2) / the other day, 2/3 evening
    day = (slot + card) % 2
    evening = (slot // 2) % 2 == 1
    hour = np.where(
        evening,
        np.clip(rng.normal(18.25, 1.0, n), 16.0, 22.5),
        np.where(
            rng.random(n) < 0.2,
            rng.uniform(10.0, 14.0, n),
            np.clip(rng.normal(8.25, 0.75, n), 5.5, 11.0),
        ),
    )
    if (slot >= 4).any():  # the extra rounds: late evening, after every other ride
        hour = np.where(slot >= 4, rng.uniform(22.75, 23.5, n), hour)
    metro = rng.random(n) < 0.7
    km = np.where(
        metro,
        np.clip(np.exp(rng.normal(np.log(9.0), 0.55, n)), 0.3, 60.0),
        np.clip(np.exp(rng.normal(np.log(4.0), 0.5, n)), 0.3, 25.0),
    )
    km = np.round(km, 3)
    given = np.where(metro, rng.random(n) < 0.85, rng.random(n) < 0.80)
    # rides without a distance: metro between two stations of the network, bus nothing
    stations = np.array(
        [f"M1-0{i}" for i in (1, 2, 3, 5, 6, 7, 8)]
        + ["CENTRAL"]
        + [f"M2-0{i}" for i in (1, 2, 3, 5, 6, 7, 8)]
    )
    o = rng.integers(0, len(stations), n)
    d = (o + rng.integers(1, len(stations), n)) % len(stations)
    by_network = metro & ~given
    ride_km = np.where(by_network, 12.0, km)  # the network's rides are at most ~12 km
    minutes = np.where(metro, ride_km / 32.0 * 60 + rng.uniform(3, 8, n), km / 15.0 * 60 + 2)
    local0 = dt.datetime.fromisoformat(FIRST_DAY) - dt.timedelta(hours=8)  # UTC of midnight
    start_s = int((local0 - dt.datetime(1970, 1, 1)).total_seconds())
    start_us = (start_s + day * 86_400 + (hour * 3600).astype(np.int64)) * 1_000_000
    end_us = start_us + (minutes * 60).astype(np.int64) * 1_000_000

    def labels(text: str, numbers: Any, width: int) -> pa.Array:
        digits = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width, "0")
        return pc.binary_join_element_wise(text, digits, "")

    def pick(mask: Any, yes: str, no: str) -> pa.Array:
        return pa.DictionaryArray.from_arrays(
            pa.array(np.where(mask, 0, 1).astype(np.int32)), pa.array([yes, no])
        ).cast(pa.string())

    stamp = pa.timestamp("us", tz="UTC")
    return pa.table(
        {
            "trip_id": labels(f"{prefix}T", np.arange(n), 9),
            "account": labels(f"{prefix}card-", card, 9),
            "operator": pick(metro, "SZMTR", "SZBUS"),
            "mode": pick(metro, "metro", "bus_electric"),
            "start_time": pa.array(start_us, pa.int64()).cast(stamp),
            "end_time": pa.array(end_us, pa.int64()).cast(stamp),
            "origin": pa.array(stations[o], pa.string(), mask=~by_network),
            "destination": pa.array(stations[d], pa.string(), mask=~by_network),
            "distance_km": pa.array(km, pa.float64(), mask=~given),
            "channel": pick(rng.random(n) < 0.7, "qr", "card"),
            "day": pa.array(day, pa.int8()),
        }
    )


def generate(args: dict[str, Any]) -> dict[str, Any]:
    """Write one Parquet file per local day (rides in start order); return their paths."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    folder = Path(args["folder"])
    table = trips_table(args["trips"], args["accounts"], args["seed"])
    files = []
    for d in (0, 1):
        part = table.filter(pc.equal(table.column("day"), d)).drop_columns(["day"])
        part = part.sort_by([("start_time", "ascending"), ("trip_id", "ascending")])
        path = folder / f"trips-day{d + 1}.parquet"
        pq.write_table(part, path, row_group_size=1_000_000, compression="zstd")
        files.append(str(path))
    return {
        "files": files,
        "trips": table.num_rows,
        "accounts": len(pc.unique(table.column("account"))),
        "metro": int(pc.sum(pc.equal(table.column("mode"), "metro")).as_py()),
        "without_distance": table.column("distance_km").null_count,
        "by_network": int(table.column("origin").length() - table.column("origin").null_count),
        "mib": round(sum(Path(p).stat().st_size for p in files) / 2**20, 1),
    }


def new_workspace(root: Path) -> None:
    """A 2026 workspace with the Shenzhen methodology and the demo network."""
    from esgledger.access.principal import Principal
    from esgledger.inclusion import service
    from esgledger.store import Workspace

    me = Principal.local()
    with Workspace.init(root, year=2026, name="carbon-inclusion benchmark") as ws:
        service.use(ws, me, METHODOLOGY)
        service.set_network(ws, me, GTFS, distance_unit="km")


def peak_mib() -> float:
    """This process's peak resident memory (``VmHWM``) [MiB]."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed(work: Any) -> dict[str, Any]:
    started = time.perf_counter()
    cpu = time.process_time()
    out = work()
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu,
        "peak_mib_self": peak_mib(),
        **(out or {}),
    }


def child(job: str, args: dict[str, Any]) -> dict[str, Any]:
    """Run one job in this (child) process; return what to report."""
    if job == "generate":
        return timed(lambda: generate(args))
    if job == "workspace":
        new_workspace(Path(args["ws"]))
        return {"seconds": 0.0}
    if job == "baseline":
        from esgledger.inventory._duckdb import connect

        listed = ", ".join("'" + p.replace("'", "''") + "'" for p in args["files"])
        factor = " ".join(f"WHEN '{m}' THEN {v}" for m, v in FACTORS_G_PER_KM.items())
        con = connect()

        def aggregate() -> dict[str, Any]:
            con.execute(
                "COPY (SELECT account, CAST(sum(floor(distance_m * CASE mode "
                f"{factor} END)) AS BIGINT) AS reduction_mg, count(*) AS trips "
                f"FROM read_parquet([{listed}]) GROUP BY account) "
                f"TO '{args['out']}' (FORMAT parquet, COMPRESSION zstd)"
            )
            row = con.execute(f"SELECT count(*) FROM '{args['out']}'").fetchone()
            return {"accounts": int(row[0]) if row else 0}

        try:
            return timed(aggregate)
        finally:
            con.close()
    from esgledger.access.principal import Principal
    from esgledger.store import Workspace

    me = Principal.local()
    with Workspace.open(args["ws"]) as ws:
        if job == "import":
            from esgledger.ingest.importers import import_file

            each: list[dict[str, Any]] = []

            def run() -> dict[str, Any]:
                for file in args["files"]:
                    t0 = time.perf_counter()
                    result = import_file(ws, "trips", Path(file))
                    each.append({"seconds": time.perf_counter() - t0, "rows": result.rows})
                return {"rows": sum(e["rows"] for e in each), "files": each}

            return timed(run)
        if job == "consent":
            import sqlalchemy as sa

            from esgledger.inclusion import accounts
            from esgledger.inclusion.service import _now
            from esgledger.store.models_inclusion import InclusionAccount

            def bulk() -> dict[str, Any]:
                with ws.write_lock() as session:
                    names = list(
                        session.scalars(
                            sa.select(InclusionAccount.pseudonym).order_by(
                                InclusionAccount.pseudonym
                            )
                        )
                    )
                    chosen = [p for i, p in enumerate(names) if i % 10 != 0]
                    recorded = accounts.grant_many(session, chosen, "transit", _now(), me.username)
                return {"accounts": len(names), "consents": recorded}

            return timed(bulk)
        if job == "settle":
            import datetime as dt

            from esgledger.inclusion import service

            steps: list[tuple[str, float]] = []
            t0 = time.perf_counter()

            def say(message: str) -> None:
                steps.append((message, time.perf_counter() - t0))

            def run_settle() -> dict[str, Any]:
                result = service.settle(
                    ws, me, as_of=dt.datetime.fromisoformat(AS_OF), progress=say
                )
                return {"result": service.settlement_json(result)}

            if args.get("profile"):
                import cProfile
                import io
                import pstats

                profiler = cProfile.Profile()
                out = timed(lambda: profiler.runcall(run_settle))
                text = io.StringIO()
                stats = pstats.Stats(profiler, stream=text)
                stats.sort_stats("cumulative").print_stats(35)
                stats.sort_stats("tottime").print_stats(25)
                Path(args["profile"]).write_text(text.getvalue(), encoding="utf-8")
            else:
                out = timed(run_settle)
            out["steps"] = steps
            return out
        if job == "verify":
            from esgledger.inclusion import service

            def run_verify() -> dict[str, Any]:
                report = service.verify(ws, me)
                return {"ok": report.first is None}

            return timed(run_verify)
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


# ---- the API feed (this process: no esgledger imported) --------------------------------------


def feed_bodies(requests: int, per_request: int, seed: int) -> list[bytes]:
    """``requests`` JSON bodies ``{"trips": [...]}`` of ``per_request`` new rides each."""
    n = requests * per_request
    table = trips_table(n, max(1, n // 2), seed, prefix="api-").drop_columns(["day"])
    rows = table.to_pylist()
    bodies = []
    for r in range(requests):
        chunk = rows[r * per_request : (r + 1) * per_request]
        trips = [
            {
                **{k: v for k, v in row.items() if v is not None},
                "start_time": row["start_time"].isoformat(),
                "end_time": row["end_time"].isoformat(),
            }
            for row in chunk
        ]
        bodies.append(json.dumps({"trips": trips}).encode())
    return bodies


def api_job(scratch: Path, options: argparse.Namespace) -> dict[str, Any]:
    """POST the feed to a real server, one request after the other; trips/s."""
    import httpx

    env = _serve.child_env(plain_http=False)
    root = scratch / "api-ws"
    run_child("workspace", {"ws": str(root)}, {})
    _serve.esgledger("users", "add", str(root), USER, "--role", "esg_office",
                     "--password-stdin", stdin=PASSWORD + "\n", env=env)  # fmt: skip
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
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"token failed:\n{done.stderr[-2000:]}")
    token = done.stdout.strip().splitlines()[-1]
    bodies = feed_bodies(options.api_requests, options.api_trips, options.seed + 1)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    times: list[float] = []
    accepted = 0
    with (
        _serve.serve(root, scratch / "server.log", env) as base,
        httpx.Client(base_url=base, headers=headers, timeout=300) as client,
    ):
        started = time.perf_counter()
        for body in bodies:
            t0 = time.perf_counter()
            response = client.post("/api/v1/inclusion/trips", content=body)
            times.append(time.perf_counter() - t0)
            if response.status_code != 200:
                raise SystemExit(f"the API refused a feed: {response.status_code} "
                                 f"{response.text[:2000]}")  # fmt: skip
            accepted += int(response.json()["rows"])
            if time.perf_counter() - started > options.api_seconds:
                break
        seconds = time.perf_counter() - started
    times.sort()
    return {
        "seconds": seconds,
        "requests": len(times),
        "trips": accepted,
        "trips_per_s": accepted / seconds if seconds else 0.0,
        "median_request_s": times[len(times) // 2],
        "max_request_s": times[-1],
        "body_mib": round(sum(len(b) for b in bodies[: len(times)]) / len(times) / 2**20, 2),
    }


# ---- main -----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--trips", type=int, default=TARGET_TRIPS, help="trips (default 10 M)")
    parser.add_argument("--accounts", type=int, help="accounts (default half the trips)")
    parser.add_argument("--seed", type=int, default=2026, help="generator seed")
    parser.add_argument("--duckdb-memory", help="ESGLEDGER_DUCKDB_MEMORY for every job")
    parser.add_argument("--scratch", type=Path, help="folder for the temporary data")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--skip-baseline", action="store_true", help="no baseline job")
    parser.add_argument("--verify", action="store_true", help="also time service.verify")
    parser.add_argument("--profile", action="store_true", help="profile settle (cProfile)")
    parser.add_argument("--skip-api", action="store_true", help="no API job")
    parser.add_argument("--api-requests", type=int, default=20, help="API requests (20)")
    parser.add_argument("--api-trips", type=int, default=10_000, help="trips per request")
    parser.add_argument("--api-seconds", type=float, default=120.0, help="API time bound")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    options = parser.parse_args()

    if options.child:
        print(json.dumps(child(options.child[0], json.loads(options.child[1])), default=str))
        return 0

    accounts = options.accounts or max(1, options.trips // 2)
    env: dict[str, str] = {}
    if options.duckdb_memory:
        env["ESGLEDGER_DUCKDB_MEMORY"] = options.duckdb_memory
    scratch = Path(tempfile.mkdtemp(prefix="esgledger-inclusion-bench-", dir=options.scratch))
    results: dict[str, Any] = {
        "machine": machine(),
        "commit": commit(),
        "trips": options.trips,
        "accounts": accounts,
        "duckdb_memory": options.duckdb_memory or os.environ.get("ESGLEDGER_DUCKDB_MEMORY", ""),
    }
    try:
        data = scratch / "data"
        data.mkdir()
        gen = run_child(
            "generate",
            {"folder": str(data), "trips": options.trips, "accounts": accounts,
             "seed": options.seed},
            env,
        )  # fmt: skip
        results["generate"] = gen
        trips = int(gen["trips"])
        print(
            f"generated {trips:,} trips of {gen['accounts']:,} accounts ({gen['metro']:,} "
            f"metro, {gen['without_distance']:,} without a distance of which "
            f"{gen['by_network']:,} by the network): {len(gen['files'])} Parquet files, "
            f"{gen['mib']} MiB, in {gen['seconds']:.1f} s",
            flush=True,
        )
        ws = scratch / "ws"
        run_child("workspace", {"ws": str(ws)}, env)
        results["import"] = run_child("import", {"ws": str(ws), "files": gen["files"]}, env)
        print(f"import: {results['import']['seconds']:.1f} s", flush=True)
        if results["import"]["rows"] != trips:
            raise SystemExit(f"not every trip was imported: {results['import']}")
        results["consent"] = run_child("consent", {"ws": str(ws)}, env)
        print(
            f"consent: {results['consent']['consents']:,} of "
            f"{results['consent']['accounts']:,} accounts in "
            f"{results['consent']['seconds']:.1f} s",
            flush=True,
        )
        lake = sorted(str(p) for p in (ws / "lake" / "inclusion" / "trips").glob("*.parquet"))
        if not options.skip_baseline:
            results["baseline"] = run_child(
                "baseline", {"files": lake, "out": str(scratch / "baseline.parquet")}, env
            )
            print(f"baseline: {results['baseline']['seconds']:.1f} s", flush=True)
        if options.profile:
            profiled = scratch.parent / f"{scratch.name}-settle.prof.txt"
            copy = scratch / "ws-profile"
            shutil.copytree(ws, copy)
            run_child("settle", {"ws": str(copy), "profile": str(profiled)}, env)
            shutil.rmtree(copy, ignore_errors=True)
            print(f"settle profile: {profiled}", flush=True)
        results["settle"] = run_child("settle", {"ws": str(ws)}, env)
        print(f"settle: {results['settle']['seconds']:.1f} s", flush=True)
        if options.verify:
            results["verify"] = run_child("verify", {"ws": str(ws)}, env)
            print(
                f"verify: {results['verify']['seconds']:.1f} s, the ledger "
                + ("is intact" if results["verify"]["ok"] else "has a DIFFERENCE"),
                flush=True,
            )
            if not results["verify"]["ok"]:
                raise SystemExit("service.verify found a difference in the ledger")
        if not options.skip_api:
            results["api"] = api_job(scratch, options)
            print(f"api: {results['api']['trips_per_s']:,.0f} trips/s", flush=True)
    finally:
        if options.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)

    info = results["machine"]
    settled = results["settle"]["result"]
    print(
        f"\n{info['date']} · commit {results['commit']} · {info['cpus']} CPUs ({info['cpu']}) · "
        f"{info['memory_gib']} GiB · load {info['load_average']} · Python {info['python']} · "
        f"DuckDB {info['duckdb']} · pyarrow {info['pyarrow']} · "
        f"ESGLEDGER_DUCKDB_MEMORY={results['duckdb_memory'] or '(default 512MB)'}"
    )
    print(
        f"{trips:,} trips of {gen['accounts']:,} accounts over 2 local days; "
        f"{len(gen['files'])} files, {gen['mib']} MiB Parquet (zstd); settled "
        f"{settled['settled']:,}, refused {settled['refused']:,}, pending "
        f"{settled['pending']:,}; {settled['transactions']:,} issuance transactions\n"
    )
    base = results.get("baseline")
    print(
        "| job | seconds | CPU s | trips/s | peak MiB | time × baseline | CPU × baseline "
        "| memory × baseline |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for job in ("baseline", "import", "settle", "verify", "consent"):
        if job not in results:
            continue
        r = results[job]
        ratio_t = f"{r['seconds'] / base['seconds']:.1f}" if base else "–"
        ratio_c = f"{r['cpu_seconds'] / base['cpu_seconds']:.1f}" if base else "–"
        ratio_m = f"{r['peak_mib'] / base['peak_mib']:.1f}" if base else "–"
        print(
            f"| {job} | {r['seconds']:.1f} | {r['cpu_seconds']:.1f} | "
            f"{trips / r['seconds']:,.0f} | {r['peak_mib']:,.0f} | {ratio_t} | {ratio_c} | "
            f"{ratio_m} |"
        )
    total = results["import"]["seconds"] + results["settle"]["seconds"]
    peak = max(results["import"]["peak_mib"], results["settle"]["peak_mib"])
    results["total"] = {"seconds": total, "peak_mib": peak}
    if base:
        print(
            f"| **settlement** (import + settle) | {total:.1f} | "
            f"{results['import']['cpu_seconds'] + results['settle']['cpu_seconds']:.1f} | "
            f"{trips / total:,.0f} | {peak:,.0f} | {total / base['seconds']:.1f} | – | "
            f"{peak / base['peak_mib']:.1f} |"
        )
    marks = results["settle"]["steps"] + [("done", results["settle"]["seconds"])]
    print(
        "\nsettle steps: "
        + "; ".join(f"{m} {marks[i + 1][1] - t:.1f} s" for i, (m, t) in enumerate(marks[:-1]))
    )
    print(f"import files: {[round(f['seconds'], 1) for f in results['import']['files']]} s")
    ok = total < TARGET_SECONDS and peak < TARGET_MIB
    judged = trips >= TARGET_TRIPS
    print(
        f"settlement (import + settle: validation, rules, settlement lines, ledger "
        f"postings): {total:.1f} s, peak {peak:,.0f} MiB; target (10 M trips < "
        f"{TARGET_SECONDS:.0f} s and < {TARGET_MIB:.0f} MiB): "
        + (("met" if ok else "NOT met") if judged else "not judged below 10 M trips")
    )
    api_ok = True
    if "api" in results:
        a = results["api"]
        api_ok = a["trips_per_s"] >= TARGET_API_TRIPS_S
        print(
            f"API: {a['trips']:,} trips in {a['requests']} requests ({a['body_mib']} MiB "
            f"JSON each) in {a['seconds']:.1f} s: {a['trips_per_s']:,.0f} trips/s (median "
            f"request {a['median_request_s']:.2f} s, slowest {a['max_request_s']:.2f} s); "
            f"target ≥ {TARGET_API_TRIPS_S:,.0f} trips/s: " + ("met" if api_ok else "NOT met")
        )
    if options.json:
        options.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 1 if (judged and not ok) or not api_ok else 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
