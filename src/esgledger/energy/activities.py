"""Monthly electricity activity rows from a site's boundary meters, and metered vs invoiced.

由站点边界电表生成按月外购电力活动数据，并与发票（已导入活动数据）逐月比对。

:func:`metered_activities` turns the monthly rollup of each site's ``incomer`` meters into rows
of the activity-file format (:mod:`esgledger.ingest.activities`, ``activity_columns.csv``):
``record_id`` ``energy:<site>:<YYYY-MM>``, the site's entity, ``period_start`` / ``period_end``
(the local calendar month), ``activity`` ``electricity``, ``quantity`` in kWh (the whole
site's incomer energy: an invoice covers the whole site, mixed-use loads included), ``notes``
naming the meters and the coverage. :func:`invoiced_electricity` reads the live activity
batches of the lake for the same sites and year, and :func:`compare` puts both side by side
per site and month (``difference_kwh = metered − invoiced``).

Months of a site that already have invoiced electricity rows are not offered for import
(:func:`importable`): importing both would count the site's electricity twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from esgledger.energy.meters import data_centre_sites, load_meters
from esgledger.energy.periods import parse_period
from esgledger.energy.roles import top_meters
from esgledger.energy.rollups import rollup
from esgledger.ingest.batches import LIVE_STATUSES
from esgledger.store.repository import load_batches, load_sites

if TYPE_CHECKING:
    from esgledger.store import Workspace

__all__ = [
    "ACTIVITY_FILE_COLUMNS",
    "compare",
    "importable",
    "invoiced_electricity",
    "metered_activities",
    "rows_from_rollup",
]

#: The columns written, in the activity-file order.
ACTIVITY_FILE_COLUMNS = (
    "record_id", "entity", "site", "period_start", "period_end", "activity", "quantity",
    "unit", "notes",
)  # fmt: skip


def _month_end(day: date) -> date:
    nxt = date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


def rows_from_rollup(table: pa.Table, entities: dict[str, str]) -> list[dict[str, Any]]:
    """Activity rows (dicts of :data:`ACTIVITY_FILE_COLUMNS` plus ``coverage``) from monthly
    rollup rows of ``incomer`` meters; ``entities`` maps site → entity. ``coverage`` is the
    mean coverage of the month's incomer meters. A month whose meters read nothing (quantity
    NULL throughout) gives no row."""
    qty: dict[tuple[str, date], float] = defaultdict(float)
    known: set[tuple[str, date]] = set()
    coverages: dict[tuple[str, date], list[float]] = defaultdict(list)
    meters: dict[tuple[str, date], set[str]] = defaultdict(set)
    for r in table.to_pylist():
        if r["role"] != "incomer":
            continue
        local = r["period_local"]
        key = (str(r["site"]), date(local.year, local.month, 1))
        meters[key].add(str(r["meter"]))
        coverages[key].append(float(r["coverage"] or 0.0))
        if r["quantity"] is not None:
            qty[key] += float(r["quantity"])
            known.add(key)
    rows = []
    for key in sorted(known):
        site, month = key
        coverage = sum(coverages[key]) / len(coverages[key]) if coverages[key] else None
        cov_text = "unknown" if coverage is None else f"{coverage:.1%}"
        rows.append(
            {
                "record_id": f"energy:{site}:{month:%Y-%m}",
                "entity": entities.get(site, ""),
                "site": site,
                "period_start": month,
                "period_end": _month_end(month),
                "activity": "electricity",
                "quantity": qty[key],
                "unit": "kWh",
                "notes": f"metered: {', '.join(sorted(meters[key]))}; coverage {cov_text}",
                "coverage": coverage,
            }
        )
    return rows


def metered_activities(
    workspace: Workspace, year: int, *, sites: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Monthly electricity rows of ``year`` for ``sites`` (default: every site with meters),
    from each site's topmost incomer meters (an incomer sub-meter below another incomer is
    not added again: :func:`esgledger.energy.roles.top_meters`)."""
    chosen = list(sites) if sites else data_centre_sites(workspace)
    with workspace.session() as session:
        entities = {str(s["code"]): str(s["entity"]) for s in load_sites(session)}
    wanted = set(chosen)
    tree = [m for m in load_meters(workspace) if m.site in wanted]
    incomers: list[str] = []
    for code in chosen:
        tops = top_meters([m for m in tree if m.site == code]).get("incomer", [])
        incomers += [m.meter for m in tops]
    table = rollup(
        workspace,
        "month",
        sites=chosen,
        roles=["incomer"],
        meters=incomers,
        period=parse_period(str(year)),
    )
    return rows_from_rollup(table, entities)


def invoiced_electricity(
    workspace: Workspace, year: int, sites: Sequence[str]
) -> dict[tuple[str, date], float]:
    """[kWh] of electricity per (site, month) in the live activity batches of the lake
    (rows spanning several months are given to the month they start in; other units than
    kWh and MWh are left out)."""
    with workspace.session() as session:
        batches = [
            b
            for b in load_batches(session)
            if b.kind == "activities" and b.lake_path and b.status in LIVE_STATUSES
        ]
    files = [workspace.lake / str(b.lake_path) for b in batches]
    files = [f for f in files if f.is_file()]
    if not files or not sites:
        return {}
    con = duckdb.connect()
    try:
        listing = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
        site_list = ", ".join("'" + s.replace("'", "''") + "'" for s in sites)
        found = con.execute(
            f"""
            SELECT site, date_trunc('month', period_start)::DATE AS month,
                   sum(CASE lower(unit) WHEN 'mwh' THEN quantity * 1000 ELSE quantity END)
            FROM read_parquet([{listing}], union_by_name = true)
            WHERE activity = 'electricity' AND site IN ({site_list})
              AND lower(unit) IN ('kwh', 'mwh') AND year(period_start) = ?
              AND coalesce(record_id, '') NOT LIKE 'energy:%'
            GROUP BY ALL
            """,
            [year],
        ).fetchall()
    finally:
        con.close()
    return {(str(s), m): float(q) for s, m, q in found}


def compare(
    metered: Sequence[dict[str, Any]], invoiced: dict[tuple[str, date], float]
) -> list[dict[str, Any]]:
    """Per site and month: ``metered_kwh``, ``invoiced_kwh`` (None when not invoiced),
    ``difference_kwh`` (metered − invoiced) and ``difference_pct`` (of invoiced)."""
    keys = {(r["site"], r["period_start"]) for r in metered} | set(invoiced)
    by_key = {(r["site"], r["period_start"]): r["quantity"] for r in metered}
    out = []
    for site, month in sorted(keys):
        m = by_key.get((site, month))
        i = invoiced.get((site, month))
        diff = m - i if m is not None and i is not None else None
        out.append(
            {
                "site": site,
                "month": f"{month:%Y-%m}",
                "metered_kwh": m,
                "invoiced_kwh": i,
                "difference_kwh": diff,
                "difference_pct": diff / i if diff is not None and i else None,
            }
        )
    return out


def importable(
    metered: Sequence[dict[str, Any]], invoiced: dict[tuple[str, date], float]
) -> list[dict[str, Any]]:
    """The metered rows whose site and month have no invoiced electricity."""
    return [r for r in metered if (r["site"], r["period_start"]) not in invoiced]
