"""Benchmark of the review flags (:func:`esgledger.collection.flags.compute_flags`).

Run from the repository root::

    .venv/bin/python benchmarks/bench_review_flags.py                   # 100,000 vs 1,000,000
    .venv/bin/python benchmarks/bench_review_flags.py --rows 20000 --history 200000

A deterministic generator builds, as Arrow tables in memory:

* the **submission**: ``--rows`` monthly rows of the reporting year (2026) over sites x 5
  activities (electricity in kWh, natural gas in Nm3, diesel in L, R-410A in kg, rail travel
  in pkm), with planted problems: one row in 500 typed in MWh instead of kWh (a unit
  surprise), one key in 200 missing a month (a gap), one row in 1,000 repeated (an overlap),
  one key in 50 grown by half (a change);
* the **history**: ``--history`` rows of 2025 for the same keys, each key-month split over
  meters (so the history is ten times the submission at the default sizes);
* the **comparables**: 2026 rows of ``--peer-sites`` other sites of the same activities,
  with a sites table of four types in three countries.

It times ``compute_flags`` (median of ``--repeat`` runs) next to a baseline measured in the
same run: one DuckDB aggregation of the same submission and history (sum per site, activity
and month), i.e. the floor of any comparison that reads every row once. Numbers:
docs/platform/review-flags.md.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from collections import Counter

import numpy as np
import pyarrow as pa

from esgledger.collection.flags import compute_flags
from esgledger.inventory._duckdb import connect

YEAR = 2026
ACTIVITIES = (
    ("electricity", "kWh", 50_000.0),
    ("stationary.natural_gas", "Nm3", 2_000.0),
    ("stationary.diesel", "L", 300.0),
    ("refrigerant.R-410A", "kg", 2.0),
    ("travel.rail", "pkm", 5_000.0),
)
TYPES = ("data_centre", "office", "warehouse", "factory")
COUNTRIES = ("CN", "HK", "US")


def _month_bounds(year: int, months: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    starts = np.array([f"{year}-{m:02d}-01" for m in range(1, 13)], dtype="datetime64[D]")
    ends = np.array(
        [f"{year + (m == 12)}-{m % 12 + 1:02d}-01" for m in range(1, 13)], dtype="datetime64[D]"
    ) - np.timedelta64(1, "D")
    return starts[months - 1], ends[months - 1]


def _rows(
    rng: np.random.Generator,
    sites: np.ndarray,
    year: int,
    scale: np.ndarray,
    *,
    meters: int = 1,
) -> dict[str, np.ndarray]:
    """Monthly rows of every site x activity x month (x meter), quantities around ``scale``."""
    n_act = len(ACTIVITIES)
    site_i = np.repeat(np.arange(len(sites)), n_act * 12 * meters)
    act_i = np.tile(np.repeat(np.arange(n_act), 12 * meters), len(sites))
    month = np.tile(np.repeat(np.arange(1, 13), meters), len(sites) * n_act)
    meter = np.tile(np.arange(meters), len(sites) * n_act * 12)
    base = np.array([a[2] for a in ACTIVITIES])[act_i] * scale[site_i] / meters
    quantity = base * rng.uniform(0.9, 1.1, len(site_i))
    start, end = _month_bounds(year, month)
    return {
        "site_i": site_i,
        "site": sites[site_i],
        "activity": np.array([a[0] for a in ACTIVITIES])[act_i],
        "unit": np.array([a[1] for a in ACTIVITIES], dtype=object)[act_i],
        "quantity": quantity,
        "period_start": start,
        "period_end": end,
        "meter": np.array([f"M{i}" for i in range(meters)], dtype=object)[meter]
        if meters > 1
        else np.full(len(site_i), None, dtype=object),
    }


def _table(cols: dict[str, np.ndarray], entity_of: np.ndarray) -> pa.Table:
    n = len(cols["quantity"])
    return pa.table(
        {
            "batch_id": pa.array(["b-000000000001"] * n),
            "row_number": pa.array(np.arange(2, n + 2)),
            "entity": pa.array(entity_of[cols["site_i"]]),
            "site": pa.array(cols["site"]),
            "meter": pa.array(cols["meter"], pa.string()),
            "activity": pa.array(cols["activity"]),
            "quantity": pa.array(cols["quantity"], pa.float64()),
            "unit": pa.array(cols["unit"], pa.string()),
            "period_start": pa.array(cols["period_start"]),
            "period_end": pa.array(cols["period_end"]),
        }
    )


def build(
    rows: int, history: int, peer_sites: int, seed: int
) -> tuple[pa.Table, pa.Table, pa.Table, pa.Table]:
    rng = np.random.default_rng(seed)
    n_sites = max(1, rows // (len(ACTIVITIES) * 12))
    meters = max(1, history // (n_sites * len(ACTIVITIES) * 12))
    sites = np.array([f"S{i:05d}" for i in range(n_sites)])
    entity_of = np.array([f"E{i % 40:02d}" for i in range(n_sites)])
    scale = 10 ** rng.normal(0, 0.3, n_sites)
    sub = _rows(rng, sites, YEAR, scale)
    # planted problems
    n = len(sub["quantity"])
    electricity = np.flatnonzero(sub["activity"] == "electricity")
    sub["unit"][electricity[::500]] = "MWh"  # unit surprises
    grown = np.isin(sub["site_i"], np.arange(0, n_sites, 50))
    sub["quantity"][grown] *= 1.5  # changes
    keep = np.ones(n, dtype=bool)
    keep[np.arange(7, n, 12 * 200)] = False  # a month missing in one key of 200
    dup = np.arange(3, n, 1000)  # overlaps: a row repeated
    order = np.concatenate([np.flatnonzero(keep), dup])
    sub = {k: v[order] for k, v in sub.items()}
    hist = _rows(rng, sites, YEAR - 1, scale, meters=meters)
    peers_ids = np.array([f"P{i:05d}" for i in range(peer_sites)])
    peer = _rows(rng, peers_ids, YEAR, 10 ** rng.normal(0, 0.3, peer_sites))
    peer_entity = np.array([f"Q{i % 40:02d}" for i in range(peer_sites)])
    all_sites = np.concatenate([sites, peers_ids])
    site_table = pa.table(
        {
            "site": pa.array(all_sites),
            "type": pa.array([TYPES[i % len(TYPES)] for i in range(len(all_sites))]),
            "country": pa.array(
                [COUNTRIES[(i // 7) % len(COUNTRIES)] for i in range(len(all_sites))]
            ),
        }
    )
    return (
        _table(sub, entity_of),
        _table(hist, entity_of),
        _table(peer, peer_entity),
        site_table,
    )


def baseline(sub: pa.Table, hist: pa.Table) -> None:
    con = connect()
    try:
        con.register("s", sub)
        con.register("h", hist)
        con.execute(
            "SELECT entity, site, activity, month(period_start) AS m, sum(quantity) "
            "FROM (SELECT * FROM s UNION ALL SELECT * FROM h) GROUP BY ALL"
        ).fetchall()
    finally:
        con.close()


def _cpu() -> float:
    """CPU seconds (user + system) of this process so far, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--peer-sites", type=int, default=4_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    started = time.perf_counter()
    sub, hist, peer, sites = build(args.rows, args.history, args.peer_sites, args.seed)
    print(
        f"data: {sub.num_rows:,} submitted, {hist.num_rows:,} history, "
        f"{peer.num_rows:,} comparable rows, {sites.num_rows:,} sites "
        f"(built in {time.perf_counter() - started:.1f} s)"
    )
    base_times, times, base_cpu, cpu = [], [], [], []
    review = None
    for _ in range(args.repeat):
        started, used = time.perf_counter(), _cpu()
        baseline(sub, hist)
        base_times.append(time.perf_counter() - started)
        base_cpu.append(_cpu() - used)
        started, used = time.perf_counter(), _cpu()
        review = compute_flags(sub, hist, comparables=peer, sites=sites)
        times.append(time.perf_counter() - started)
        cpu.append(_cpu() - used)
    assert review is not None
    counts = Counter(f.code for f in (*review.flags, *review.notes))
    base, flags = statistics.median(base_times), statistics.median(times)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    base_c, flags_c = statistics.median(base_cpu), statistics.median(cpu)
    print("| job | wall seconds (median) | CPU seconds (median) | ratio to baseline (wall) |")
    print("|---|---:|---:|---:|")
    print(
        f"| baseline: one aggregation of submission + history | {base:.2f} | {base_c:.2f} | 1.0 |"
    )
    print(f"| compute_flags | {flags:.2f} | {flags_c:.2f} | {flags / base:.1f} |")
    print(f"peak resident memory of the process: {peak:,.0f} MiB")
    for code, n in sorted(counts.items()):
        print(f"  {code}: {n:,}")


if __name__ == "__main__":
    main()
