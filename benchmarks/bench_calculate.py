"""Benchmark of the inventory engine: ``calculate`` against hand-written baselines.

Run from the repository root::

    .venv/bin/python benchmarks/bench_calculate.py                  # 1M and 10M rows
    .venv/bin/python benchmarks/bench_calculate.py --rows 100000000  # one size

What it does
------------
1. **Data.** For each size, a seeded generator (DuckDB's ``hash`` of the row index and
   ``--seed``; cached in ``benchmarks/.data/``) writes a Parquet file of activity rows for the
   synthetic organisation of ``bench_import.py`` (20 entities in China, 200 sites in
   Guangdong): a skewed activity mix over scopes 1, 2 and 3 (:data:`MIX`: a third of the rows
   are electricity, a fifth spend, then fuels, travel, freight, refrigerants, waste ...);
   5 % of the rows are electricity in Tibet (``CN-XZ``), a province without a factor of its
   own, which falls back to the Southwest grid; many unit variants (kWh / MWh / 万千瓦时,
   L / US gal, t / kg, Nm3); spend in CNY, USD, HKD and 万元 (converted at the reporting
   year's exchange rate); a twentieth of the rows without a site (region from the entity's
   country), suppliers on a third, 0.2 % correction rows with negative quantities. The file
   is imported with the real importer (``esgledger.ingest.importers.import_file``) into a
   fresh workspace (timed, for information).
2. **Jobs**, each in a fresh child process; peak resident memory from ``os.wait4``; the child
   times its own job (after its imports):

   ``calculate``
       ``esgledger.inventory.calculate(ws)`` with the default options: resolve every
       distinct key, convert, gases × GWP, consolidate, derive scope 3 category 3 where
       factors exist, write the line items (Parquet, zstd), aggregate them, write the
       manifest and register the run.
   ``baseline-duckdb``
       Hand-written DuckDB SQL doing the same work from a **pre-resolved** factor table
       (one row per activity, region and unit, built from the engine's own line items
       before the job; not timed): scan the lake file, region = row, site or entity country,
       join the factor table by key, convert, gases × GWP (or the published CO2e), × the
       consolidation share, write line items with the engine's columns
       (``LINE_ITEM_COLUMNS``) to zstd Parquet, then total them per scope and category.
   ``baseline-pandas``
       The same in pandas (``read_parquet``, ``merge``, column arithmetic, ``to_parquet``,
       ``groupby``), at sizes up to ``--pandas-max-rows`` (default 10M: beyond it pandas
       does not fit in this machine's memory beside everything else; skipped and said so).
3. Checks that both baselines give the engine's totals (relative 1e-9) and the same number
   of lines, prints a Markdown table (seconds, rows/s, peak MiB, time and memory relative
   to the DuckDB baseline) and checks the goals of issue 3: within 1.3× of the DuckDB
   baseline at 10M rows and more; 100M rows under 120 s and 2 GiB. Exit status 1 when a
   goal is missed.

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
sys.path.insert(0, str(HERE.parent / "src"))

from bench_import import DATA, ENTITIES, SITES, YEAR, machine, new_workspace  # noqa: E402

GENERATOR_VERSION = 2
RATIO_GOAL = 1.3
RATIO_GOAL_MIN_ROWS = 10_000_000
BIG_ROWS = 100_000_000
BIG_SECONDS = 120.0
BIG_MIB = 2048.0

#: (weight in ‰, activity, unit, region) of the generator; region None = the site's (or the
#: entity's country when the row has no site). Weights sum to 1000. Every combination has a
#: factor in the shipped library for the reporting year 2024.
MIX: tuple[tuple[int, str, str, str | None], ...] = (
    (200, "electricity", "kWh", None),  # CN-GD provincial factor (MEE 2023)
    (60, "electricity", "MWh", None),
    (20, "electricity", "万千瓦时", None),
    (50, "electricity", "kWh", "CN-XZ"),  # no provincial factor: Southwest grid (fallback)
    (40, "leased.electricity", "kWh", None),
    (40, "heat", "GJ", None),
    (40, "stationary.natural_gas", "Nm3", None),
    (25, "stationary.diesel", "t", None),
    (15, "stationary.diesel", "kg", None),
    (25, "stationary.diesel", "L", "US"),
    (15, "stationary.diesel", "gal", "US"),
    (30, "mobile.petrol", "gal", "US"),
    (20, "mobile.petrol", "L", "US"),
    (10, "refrigerant.R-410A", "kg", None),
    (5, "refrigerant.R-134a", "kg", None),
    (60, "travel.air.long_haul.economy", "pkm", "GB"),
    (20, "travel.rail", "pkm", "GB"),
    (30, "freight.road", "tkm", "GB"),
    (20, "commuting.car", "vkm", "GB"),
    (15, "waste.commercial_and_industrial_waste.landfill", "t", "GB"),
    (80, "spend.naics.334111", "CNY", "US"),
    (40, "spend.naics.334111", "万元", "US"),
    (40, "spend.naics.541511", "USD", "US"),
    (30, "spend.naics.541511", "HKD", "US"),
    (10, "supplier.emissions", "t", None),
    (60, "travel.hotel", "room_night", "GB"),
)

#: Line-item columns a baseline takes from the activity row as it is.
ROW_COLUMNS = (
    "batch_id",
    "row_number",
    "record_id",
    "entity",
    "site",
    "period_start",
    "period_end",
    "activity",
    "quantity",
    "unit",
    "correction",
    "supplier",
)
#: Line-item columns a baseline computes per row.
COMPUTED = (
    "run_id",
    "line_kind",
    "scope3_category",
    "region",
    "region_from",
    "quantity_in_factor_unit",
    "co2_kg",
    "ch4_kg",
    "n2o_kg",
    "biogenic_co2_kg",
    "co2e_kg",
    "consolidation_share",
    "co2e_kg_consolidated",
    "gwp_set",
    "excluded",
)
#: Per factor unit values of the pre-resolved factor table.
PER_UNIT = ("co2", "ch4", "n2o", "biogenic_co2", "co2e")


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# ---- data ---------------------------------------------------------------------------------


#: Data profiles: ``realistic`` puts sites on 95 % of the rows and one of 500 suppliers on a
#: third of them; ``coarse`` puts neither (every row's region comes from the row or from its
#: entity's country), so the distinct keys the engine resolves stay few.
PROFILES = ("realistic", "coarse")


def generate(path: Path, rows: int, seed: int, profile: str = "realistic") -> None:
    """Write ``rows`` synthetic activity rows (see the module docstring) to ``path``."""
    import duckdb

    if sum(w for w, *_ in MIX) != 1000:  # pragma: no cover - a constant
        raise SystemExit("the weights of MIX must sum to 1000")
    pick = [n for n, (w, *_) in enumerate(MIX, start=1) for _ in range(w)]
    activities = "[" + ", ".join(_sql_text(a) for _, a, _, _ in MIX) + "]"
    units = "[" + ", ".join(_sql_text(u) for _, _, u, _ in MIX) + "]"
    regions = "[" + ", ".join("NULL" if r is None else _sql_text(r) for *_, r in MIX) + "]"
    h = f"hash(i, {seed}"
    detail = "true" if profile == "realistic" else "false"
    tmp = path.with_suffix(".tmp")
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute(
        f"""
        COPY (
          WITH r AS (
            SELECT i,
                   CAST({h}, 1) % {SITES} AS INTEGER) AS s,
                   {pick}[CAST({h}, 2) % 1000 AS INTEGER) + 1] AS p,
                   CAST({h}, 3) % 12 AS INTEGER) + 1 AS m,
                   CAST({h}, 4) % 1000 AS INTEGER) AS u,
                   CAST({h}, 5) % 1000000 AS DOUBLE) / 1000000 AS x
            FROM range({rows}) t(i)
          )
          SELECT
            'R-' || lpad(CAST(i AS VARCHAR), 10, '0') AS record_id,
            'E' || lpad(CAST(s % {ENTITIES} AS VARCHAR), 2, '0') AS entity,
            CASE WHEN {detail} AND u >= 50 THEN 'S' || lpad(CAST(s AS VARCHAR), 3, '0') END AS site,
            make_date({YEAR}, m, 1) AS period_start,
            last_day(make_date({YEAR}, m, 1)) AS period_end,
            {activities}[p] AS activity,
            -- skewed amounts: log-uniform over four decades, negative on corrections
            CASE WHEN u < 2 THEN -1 ELSE 1 END * round(power(10, 4 * x), 3) AS quantity,
            {units}[p] AS unit,
            {regions}[p] AS region,
            CASE WHEN {detail} AND u % 3 = 0
                 THEN 'SUP-' || CAST({h}, 6) % 500 AS VARCHAR) END AS supplier,
            CAST(NULL AS INTEGER) AS scope3_category,
            CAST(NULL AS VARCHAR) AS factor,
            u < 2 AS correction,
            CASE WHEN u % 10 = 0 THEN 'note ' || CAST({h}, 7) % 10000 AS VARCHAR) END AS notes,
            -- every row its own meter: the rows are independent draws, and without meters the
            -- same site, activity and month would repeat hundreds of times, which the overlap
            -- rule (docs/methodology/overlaps.md) rightly flags and refuses as duplicates
            'M-' || lpad(CAST(i AS VARCHAR), 10, '0') AS meter
          FROM r
        ) TO {_sql_text(str(tmp))} (FORMAT parquet, COMPRESSION zstd)
        """
    )
    con.close()
    tmp.replace(path)


def data_file(rows: int, seed: int, profile: str) -> Path:
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"calculate-v{GENERATOR_VERSION}-{profile}-s{seed}-{rows}.parquet"
    if not path.exists():
        started = time.perf_counter()
        print(f"generating {path.name} ...", file=sys.stderr, flush=True)
        generate(path, rows, seed, profile)
        print(f"  done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return path


# ---- the pre-resolved factor table of the baselines ----------------------------------------


def baseline_inputs(ws_root: Path, lines: Path, out: Path) -> dict[str, Any]:
    """Write what the baselines start from (not timed): the pre-resolved factor table (one row
    per activity, region and unit, with the engine's per-key columns and per factor unit
    values, taken from the engine's own line items), the sites, the entities with their
    consolidation shares, and the list of lake files."""
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    from esgledger.inventory import LINE_ITEM_COLUMNS
    from esgledger.store import Workspace
    from esgledger.store.repository import load_batches, load_entities, load_sites

    with Workspace.open(ws_root) as ws, ws.session() as session:
        files = [
            str(ws.lake / str(b.lake_path))
            for b in load_batches(session)
            if b.kind == "activities" and b.lake_path is not None
        ]
        entities = load_entities(session)
        sites = load_sites(session)
    key_columns = [c for c in LINE_ITEM_COLUMNS if c not in ROW_COLUMNS and c not in COMPUTED]
    key_columns = [c for c in key_columns if c not in ("scope",)]
    con = duckdb.connect()
    path = _sql_text(str(lines))
    kinds = con.execute(
        f"SELECT count(*) FILTER (WHERE line_kind <> 'activity'), count(*) FILTER (WHERE "
        f"excluded) FROM read_parquet({path})"
    ).fetchone()
    if kinds != (0, 0):
        raise SystemExit(f"unexpected category 3 or excluded lines {kinds}: not the same work")
    per_unit = ", ".join(
        f"{gas}_kg / nullif(quantity_in_factor_unit, 0) AS {gas}_per_unit" for gas in PER_UNIT
    )
    taken = ", ".join(key_columns)
    con.execute(
        f"""
        CREATE TABLE keys AS
        SELECT DISTINCT ON (activity, region, unit)
            activity, region AS key_region, unit, scope, scope3_category,
            {taken},
            quantity_in_factor_unit / quantity AS to_factor_unit,
            {per_unit}
        FROM read_parquet({path})
        WHERE quantity <> 0
        ORDER BY activity, region, unit, abs(quantity) DESC
        """
    )
    (ambiguous,) = con.execute(
        f"SELECT count(*) FROM (SELECT activity, region, unit FROM read_parquet({path}) "
        "GROUP BY ALL HAVING count(DISTINCT factor_id) > 1)"
    ).fetchone() or (0,)
    if ambiguous:
        raise SystemExit(f"{ambiguous} (activity, region, unit) keys have several factors")
    out.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY keys TO {_sql_text(str(out / 'keys.parquet'))} (FORMAT parquet)")
    (gwp_set,) = con.execute(f"SELECT any_value(gwp_set) FROM read_parquet({path})").fetchone() or (
        "AR6",
    )
    con.close()
    pq.write_table(
        pa.Table.from_pylist(
            [{"code": s["code"], "region": s["region"], "country": s["country"]} for s in sites]
        ),
        out / "sites.parquet",
    )
    pq.write_table(
        pa.Table.from_pylist(
            [{"code": e["code"], "country": e["country"], "share": 1.0} for e in entities]
        ),
        out / "entities.parquet",
    )
    return {
        "files": files,
        "keys": str(out / "keys.parquet"),
        "sites": str(out / "sites.parquet"),
        "entities": str(out / "entities.parquet"),
        "columns": list(LINE_ITEM_COLUMNS),
        "key_columns": key_columns,
        "gwp_set": str(gwp_set),
    }


# ---- child jobs ---------------------------------------------------------------------------


def _gwp(gwp_set: str) -> tuple[float, float]:
    from esgledger import gwp

    return gwp.gwp("CH4", gwp_set), gwp.gwp("N2O", gwp_set)


def _baseline_duckdb(args: dict[str, Any]) -> dict[str, Any]:
    import duckdb

    gwp_ch4, gwp_n2o = _gwp(args["gwp_set"])
    files = "[" + ", ".join(_sql_text(f) for f in args["files"]) + "]"
    computed = {
        "run_id": "'baseline' AS run_id",
        "line_kind": "'activity' AS line_kind",
        "scope": "k.scope",
        "scope3_category": "CASE WHEN k.scope = 3 THEN coalesce(a.scope3_category, "
        "k.scope3_category) END AS scope3_category",
        "region": "a.key_region AS region",
        "region_from": "a.region_from",
        "quantity_in_factor_unit": "a.quantity * k.to_factor_unit AS quantity_in_factor_unit",
        "co2_kg": "a.quantity * k.to_factor_unit * k.co2_per_unit AS co2_kg",
        "ch4_kg": "a.quantity * k.to_factor_unit * k.ch4_per_unit AS ch4_kg",
        "n2o_kg": "a.quantity * k.to_factor_unit * k.n2o_per_unit AS n2o_kg",
        "biogenic_co2_kg": "a.quantity * k.to_factor_unit * k.biogenic_co2_per_unit "
        "AS biogenic_co2_kg",
        "co2e_kg": f"{_CO2E} AS co2e_kg",
        "consolidation_share": "e.share AS consolidation_share",
        "co2e_kg_consolidated": f"{_CO2E} * e.share AS co2e_kg_consolidated",
        "gwp_set": f"{_sql_text(args['gwp_set'])} AS gwp_set",
        "excluded": "false AS excluded",
    }
    select = ",\n".join(
        computed.get(c, f"a.{c}" if c in ROW_COLUMNS else f"k.{c}") for c in args["columns"]
    ).format(gwp_ch4=repr(gwp_ch4), gwp_n2o=repr(gwp_n2o))
    con = duckdb.connect()
    started = time.perf_counter()
    con.execute(
        f"""
        COPY (
          WITH a AS (
            SELECT r.*,
              coalesce(upper(r.region), s.region, s.country, e.country) AS key_region,
              CASE WHEN r.region IS NOT NULL THEN 'row' WHEN s.region IS NOT NULL THEN 'site'
                   WHEN s.country IS NOT NULL THEN 'site country' ELSE 'entity country'
              END AS region_from
            FROM read_parquet({files}) r
            LEFT JOIN read_parquet({_sql_text(args["sites"])}) s ON s.code = r.site
            LEFT JOIN read_parquet({_sql_text(args["entities"])}) e ON e.code = r.entity
          )
          SELECT {select}
          FROM a
          JOIN read_parquet({_sql_text(args["keys"])}) k ON k.activity = a.activity
            AND k.key_region = a.key_region AND k.unit = a.unit
          JOIN read_parquet({_sql_text(args["entities"])}) e ON e.code = a.entity
        ) TO {_sql_text(args["out"])} (FORMAT parquet, COMPRESSION zstd)
        """
    )
    totals = con.execute(
        f"SELECT scope, scope3_category, count(*), sum(co2e_kg_consolidated) "
        f"FROM read_parquet({_sql_text(args['out'])}) GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "lines": sum(int(n) for _, _, n, _ in totals),
        "co2e_t": _totals(totals),
    }


#: CO2e of a line: GWP-weighted gases where the engine formed it so, else the published
#: (or reported) CO2e per factor unit.
_CO2E = (
    "(CASE WHEN k.co2e_from = 'gases' THEN a.quantity * k.to_factor_unit * ("
    "coalesce(k.co2_per_unit, 0) + coalesce(k.ch4_per_unit, 0) * {gwp_ch4} + "
    "coalesce(k.n2o_per_unit, 0) * {gwp_n2o}) "
    "ELSE a.quantity * k.to_factor_unit * k.co2e_per_unit END)"
)


def _totals(rows: list[tuple[Any, ...]]) -> dict[str, float]:
    """{"1": t, "2": t, "3.1": t, ...} from (scope, category, lines, kg) rows."""
    out: dict[str, float] = {}
    for scope, category, _, kg in rows:
        key = f"{int(scope)}" if category is None else f"{int(scope)}.{int(category)}"
        out[key] = out.get(key, 0.0) + float(kg or 0.0) / 1000
    return out


def _baseline_pandas(args: dict[str, Any]) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    gwp_ch4, gwp_n2o = _gwp(args["gwp_set"])
    started = time.perf_counter()
    rows = pd.concat([pd.read_parquet(f) for f in args["files"]], ignore_index=True)
    sites = pd.read_parquet(args["sites"]).rename(
        columns={"code": "site", "region": "site_region", "country": "site_country"}
    )
    entities = pd.read_parquet(args["entities"]).rename(
        columns={"code": "entity", "country": "entity_country"}
    )
    keys = pd.read_parquet(args["keys"])
    a = rows.merge(sites, on="site", how="left").merge(entities, on="entity", how="left")
    del rows
    region = a["region"].str.upper()
    a["key_region"] = (
        region.fillna(a["site_region"]).fillna(a["site_country"]).fillna(a["entity_country"])
    )
    a["region_from"] = np.select(
        [a["region"].notna(), a["site_region"].notna(), a["site_country"].notna()],
        ["row", "site", "site country"],
        "entity country",
    )
    keys = keys.rename(columns={"scope3_category": "default_category"})
    a = a.drop(columns=["region"]).merge(
        keys, on=["activity", "key_region", "unit"], how="inner", suffixes=("", "_k")
    )
    q = a["quantity"] * a["to_factor_unit"]
    co2e = np.where(
        a["co2e_from"] == "gases",
        q
        * (
            a["co2_per_unit"].fillna(0)
            + a["ch4_per_unit"].fillna(0) * gwp_ch4
            + a["n2o_per_unit"].fillna(0) * gwp_n2o
        ),
        q * a["co2e_per_unit"],
    )
    out = pd.DataFrame(index=a.index)
    for column in args["columns"]:
        if column in ROW_COLUMNS:
            out[column] = a[column]
        elif column == "run_id":
            out[column] = "baseline"
        elif column == "line_kind":
            out[column] = "activity"
        elif column == "scope3_category":
            out[column] = a["scope3_category"].fillna(a["default_category"]).where(a["scope"] == 3)
        elif column == "region":
            out[column] = a["key_region"]
        elif column == "quantity_in_factor_unit":
            out[column] = q
        elif column in ("co2_kg", "ch4_kg", "n2o_kg", "biogenic_co2_kg"):
            out[column] = q * a[column.removesuffix("_kg") + "_per_unit"]
        elif column == "co2e_kg":
            out[column] = co2e
        elif column == "consolidation_share":
            out[column] = a["share"]
        elif column == "co2e_kg_consolidated":
            out[column] = co2e * a["share"]
        elif column == "gwp_set":
            out[column] = args["gwp_set"]
        elif column == "excluded":
            out[column] = False
        else:
            out[column] = a[column]
    del a
    out.to_parquet(args["out"], compression="zstd", index=False)
    grouped = (
        out.groupby(["scope", "scope3_category"], dropna=False)["co2e_kg_consolidated"]
        .agg(lines="count", kg="sum")
        .reset_index()
    )
    seconds = time.perf_counter() - started
    totals: list[tuple[Any, ...]] = [
        (scope, None if category != category else category, int(lines), float(kg))
        for scope, category, lines, kg in grouped.itertuples(index=False, name=None)
    ]
    return {
        "seconds": seconds,
        "lines": sum(int(n) for _, _, n, _ in totals),
        "co2e_t": _totals(totals),
    }


def child(job: str, args: dict[str, Any]) -> dict[str, Any]:
    """Run one job in this (child) process; return what to report."""
    if job == "baseline-duckdb":
        return _baseline_duckdb(args)
    if job == "baseline-pandas":
        return _baseline_pandas(args)
    from esgledger.store import Workspace

    if job == "import":
        from esgledger.ingest.importers import import_file

        with Workspace.open(args["ws"]) as ws:
            started = time.perf_counter()
            result = import_file(ws, "activities", Path(args["file"]))
            return {"seconds": time.perf_counter() - started, "rows": result.rows}
    if job == "calculate":
        import duckdb

        from esgledger.inventory import calculate

        with Workspace.open(args["ws"]) as ws:
            started = time.perf_counter()
            run = calculate(ws)
            seconds = time.perf_counter() - started
        totals = duckdb.connect().execute(
            "SELECT scope, scope3_category, count(*), sum(co2e_kg_consolidated) FROM "
            f"read_parquet({_sql_text(str(run.line_items_path))}) GROUP BY ALL ORDER BY ALL"
        )
        return {
            "seconds": seconds,
            "lines": int(run.manifest["counts"]["lines"]),
            "keys": int(run.manifest["counts"]["keys"]),
            "category_3_lines": int(run.manifest["counts"]["category_3_lines"]),
            "warnings": len(run.manifest["warnings"]),
            "line_items": str(run.line_items_path),
            "co2e_t": _totals(totals.fetchall()),
        }
    raise SystemExit(f"unknown job {job}")


def run_child(job: str, args: dict[str, Any]) -> dict[str, Any]:
    """Run ``job`` in a fresh Python process; add its wall time and peak RSS [MiB]
    (``ru_maxrss`` of ``os.wait4``, as ``bench_import.run_child`` does for its jobs)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(HERE.parent / "src") + os.pathsep + env.get("PYTHONPATH", "")
    command = [sys.executable, str(Path(__file__).resolve()), "--child", job, json.dumps(args)]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, env=env)
    if process.stdout is None:  # pragma: no cover - stdout=PIPE
        raise SystemExit("no pipe to the child")
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"job {job} failed with exit code {code}")
    report: dict[str, Any] = json.loads(output.decode().strip().splitlines()[-1])
    report["process_seconds"] = wall
    report["peak_mib"] = usage.ru_maxrss / 1024  # Linux reports KiB
    return report


def median_run(job: str, args: dict[str, Any], repeat: int) -> dict[str, Any]:
    runs = [run_child(job, args) for _ in range(repeat)]
    runs.sort(key=lambda r: r["seconds"])
    best = runs[len(runs) // 2]
    best["peak_mib"] = max(r["peak_mib"] for r in runs)
    best["all_seconds"] = [round(r["seconds"], 3) for r in runs]
    return best


# ---- main ---------------------------------------------------------------------------------


def _same_totals(a: dict[str, float], b: dict[str, float]) -> bool:
    keys = set(a) | set(b)
    return all(
        abs(a.get(k, 0.0) - b.get(k, 0.0)) <= 1e-9 * max(1.0, abs(a.get(k, 0.0))) for k in keys
    )


def bench_size(rows: int, options: argparse.Namespace, work: Path) -> dict[str, Any]:
    source = data_file(rows, options.seed, options.profile)
    ws = work / f"ws-{rows}"
    shutil.rmtree(ws, ignore_errors=True)
    new_workspace(ws)
    result: dict[str, Any] = {"rows": rows, "file_mib": round(source.stat().st_size / 2**20, 1)}
    result["import"] = run_child("import", {"ws": str(ws), "file": str(source)})
    if result["import"]["rows"] != rows:
        raise SystemExit(f"the synthetic file was not imported whole: {result['import']}")
    calc = median_run("calculate", {"ws": str(ws)}, options.repeat)
    result["calculate"] = calc
    inputs = baseline_inputs(ws, Path(calc["line_items"]), work / f"inputs-{rows}")
    result["keys"] = calc["keys"]
    jobs = ["baseline-duckdb"]
    if rows <= options.pandas_max_rows:
        jobs.append("baseline-pandas")
    else:
        result["baseline-pandas"] = None
    for job in jobs:
        out = work / f"{job}-{rows}.parquet"
        result[job] = median_run(job, {**inputs, "out": str(out)}, options.repeat)
        out.unlink(missing_ok=True)
        if result[job]["lines"] != calc["lines"] or not _same_totals(
            result[job]["co2e_t"], calc["co2e_t"]
        ):
            raise SystemExit(
                f"{job} does not reproduce the engine's lines and totals at {rows:,} rows:\n"
                f"{result[job]['lines']} vs {calc['lines']} lines\n"
                f"{result[job]['co2e_t']}\n{calc['co2e_t']}"
            )
    shutil.rmtree(ws, ignore_errors=True)
    return result


def code_version() -> str:
    """The commit measured, and whether the engine's files had uncommitted changes."""
    root = HERE.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src/esgledger"],
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.split()
    except OSError:
        return "unknown"
    changed = [p for p in dirty if p.endswith(".py")]
    return commit + (f" + uncommitted changes to {', '.join(changed)}" if changed else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument(
        "--rows",
        type=int,
        action="append",
        help="rows of one size (repeatable; default: 1,000,000 and 10,000,000)",
    )
    parser.add_argument("--seed", type=int, default=2024, help="generator seed")
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        default="realistic",
        help="realistic: sites and suppliers on the rows; coarse: neither (few distinct keys)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per job (median reported)")
    parser.add_argument(
        "--pandas-max-rows",
        type=int,
        default=10_000_000,
        help="largest size at which the pandas baseline runs (it holds every row in memory)",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    options = parser.parse_args()

    if options.child:
        print(json.dumps(child(options.child[0], json.loads(options.child[1]))))
        return 0

    sizes = options.rows or [1_000_000, 10_000_000]
    results: dict[str, Any] = {"machine": machine(), "code": code_version(), "sizes": []}
    DATA.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=DATA, prefix="calc-") as scratch:
        for rows in sizes:
            results["sizes"].append(bench_size(rows, options, Path(scratch)))

    info = results["machine"]
    print(
        f"\n{info['date']} · {info['cpus']} CPUs ({info['cpu']}) · {info['memory_gib']} GiB · "
        f"Python {info['python']} · DuckDB {info['duckdb']} · pyarrow {info['pyarrow']}"
    )
    print(f"code: {results['code']}")
    print(f"generator version {GENERATOR_VERSION}, profile {options.profile}, seed "
          f"{options.seed}; runs per job: "
          f"{options.repeat}\n")  # fmt: skip
    print("| rows | job | seconds | rows/s | peak MiB | time × DuckDB baseline | "
          "memory × DuckDB baseline |")  # fmt: skip
    print("|---:|---|---:|---:|---:|---:|---:|")
    ok = True
    notes: list[str] = []
    for size in results["sizes"]:
        rows = size["rows"]
        base = size["baseline-duckdb"]
        for job in ("calculate", "baseline-duckdb", "baseline-pandas", "import"):
            r = size.get(job)
            if r is None:
                print(f"| {rows:,} | {job} | skipped (over --pandas-max-rows) | | | | |")
                continue
            print(
                f"| {rows:,} | {job} | {r['seconds']:.2f} | {rows / r['seconds']:,.0f} | "
                f"{r['peak_mib']:,.0f} | {r['seconds'] / base['seconds']:.2f} | "
                f"{r['peak_mib'] / base['peak_mib']:.2f} |"
            )
        calc = size["calculate"]
        ratio = calc["seconds"] / base["seconds"]
        if rows >= RATIO_GOAL_MIN_ROWS:
            met = ratio <= RATIO_GOAL
            ok &= met
            notes.append(
                f"{rows:,} rows: calculate / DuckDB baseline = {ratio:.2f} (goal ≤ "
                f"{RATIO_GOAL}): {'met' if met else 'NOT met'}"
            )
        if rows >= BIG_ROWS:
            met = calc["seconds"] < BIG_SECONDS and calc["peak_mib"] < BIG_MIB
            ok &= met
            notes.append(
                f"{rows:,} rows: {calc['seconds']:.1f} s, {calc['peak_mib']:,.0f} MiB (goal < "
                f"{BIG_SECONDS:.0f} s and < {BIG_MIB:.0f} MiB): {'met' if met else 'NOT met'}"
            )
        notes.append(
            f"{rows:,} rows: {calc['keys']} distinct keys, {calc['lines']:,} line items, "
            f"{calc['category_3_lines']} category 3 lines, {calc['warnings']} run warning(s); "
            "both baselines reproduce the engine's lines and totals (relative 1e-9)"
        )
    print()
    for note in notes:
        print(f"* {note}")
    if options.json:
        options.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
