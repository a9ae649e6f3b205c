"""Green power in the workspace: storing a year's instrument allocations, and the green
power view of a run (instruments with their quality verdicts, allocation, RE % by site, the
24/7 CFE heat-map).

The one module of :mod:`esgledger.renewables` that opens a workspace (the rest is pure).
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from esgledger import audit
from esgledger.access.policy import require
from esgledger.access.principal import Principal
from esgledger.access.scope import visible_entities, visible_sites
from esgledger.errors import EsgledgerError
from esgledger.inventory.market import market_based
from esgledger.inventory.runs import load_run
from esgledger.renewables import cfe as cfe_module
from esgledger.renewables.allocation import re_share
from esgledger.renewables.instruments import instrument_types
from esgledger.report.config import load_report_inputs
from esgledger.store.repository import registered_batch_ids
from esgledger.store.repository_renewables import clear_allocations, save_allocations

if TYPE_CHECKING:
    from esgledger.renewables.allocation import AllocationResult
    from esgledger.store import Workspace

__all__ = ["cfe_view", "green_power_view", "store_allocations"]


def store_allocations(
    workspace: Workspace, principal: Principal, year: int, result: AllocationResult, *, run_id: str
) -> int:
    """Replace the stored allocations of ``year`` by ``result``'s (``esgledger green re
    --save``), under the workspace's write lock, with the audit event ``green.allocate``;
    return the number stored."""
    records = result.records()
    with workspace.write_lock() as session:
        removed = clear_allocations(session, year)
        stored = save_allocations(session, records)
        audit.record(
            session,
            principal,
            "green.allocate",
            "allocations",
            str(year),
            after=audit.digest(json.loads(json.dumps(records, default=str))),  # dates as ISO
            detail={"run_id": run_id, "stored": stored, "replaced": removed},
        )
    return stored


def _number(value: float | None) -> float | None:
    """A JSON-native number: NaN and infinities become None."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


#: Views built per run (the market-based allocation takes about half a second on the demo):
#: workspace folder, run id, the principal's visible entities, the import batches → view.
_VIEWS: dict[tuple[str, str, frozenset[str] | None, frozenset[str]], dict[str, Any]] = {}
_VIEWS_KEPT = 8


def green_power_view(
    workspace: Workspace, principal: Principal, run_id: str | None = None
) -> dict[str, Any]:
    """Green power of run ``run_id`` (default: the latest) as ``principal`` may see it.

    The run's own market-based result (:func:`esgledger.inventory.market.market_based`,
    not written again): the register's instruments with their Scope 2 Quality Criteria and
    RE100 verdicts for the run's year, the allocations of the valid ones to the sites'
    purchased electricity, the surplus and the excluded instruments, and RE % by site
    (annual matching, RE100-valid instruments, as ``esgledger green re``). A principal scoped
    to part of the organisation sees the sites of its subtree, the instruments retired for
    or allocated to them, and no group figure.

    Returns ``{"run_id", "year", "scoped", "instruments": [...], "allocations": [...],
    "surplus_mwh": {instrument: MWh}, "excluded": {instrument: reason}, "re_by_site":
    [{"code", "total_mwh", "purchased_mwh", "onsite_mwh", "allocated_renewable_mwh",
    "renewable_mwh", "re_share"}], "re_share_group": fraction or None, "cfe": cfe_view()}``;
    shares are fractions 0-1.
    """
    require(principal, "inventory:read")
    run = load_run(workspace, run_id)
    visible = visible_entities(workspace, principal, "inventory:read")
    with workspace.session() as session:
        batches = registered_batch_ids(session)  # a new import of instruments: a new view
    key = (str(workspace.root), run.run_id, visible, batches)
    cached = _VIEWS.get(key)
    if cached is not None:
        return cached
    sites = visible_sites(workspace, visible)
    market = market_based(workspace, run, write=False)
    consumption = list(market.consumption)
    shares = re_share(
        consumption,
        market.allocation,
        level="site",
        parents=dict(market.parents),
        re100=True,
        year=market.year,
    )

    def seen_site(code: str | None) -> bool:
        return sites is None or code in sites

    def seen_claimant(code: str | None) -> bool:
        return visible is None or code in visible or (sites is not None and code in sites)

    allocations = [a for a in market.allocation.allocations if seen_site(a.site)]
    allocated_to_visible = {a.instrument for a in allocations}
    types = instrument_types()
    instruments = []
    for verdict in market.assessments:
        i = verdict.instrument
        if not (i.instrument in allocated_to_visible or seen_claimant(i.retired_for)):
            continue
        kind = types.get(i.type)
        instruments.append(
            {
                "instrument": i.instrument,
                "type": i.type,
                "type_name": {
                    "en": kind.name if kind else i.type,
                    "zh-CN": kind.name_zh if kind else i.type,
                },
                "technology": i.technology,
                "country": i.country,
                "period_start": i.period_start.isoformat(),
                "period_end": i.period_end.isoformat(),
                "mwh": float(i.mwh),
                "retired_for": i.retired_for,
                "valid_scope2": verdict.valid_scope2,
                "valid_re100": verdict.valid_re100,
                "failures": [
                    {
                        "criterion": f.criterion,
                        "scope": f.scope,
                        "source": f.source,
                        "reason": {"en": f.reason, "zh-CN": f.reason_zh or f.reason},
                    }
                    for f in verdict.failures
                ],
            }
        )
    shown = {i["instrument"] for i in instruments}
    view: dict[str, Any] = {
        "run_id": run.run_id,
        "year": market.year,
        "scoped": visible is not None,
        "instruments": instruments,
        "allocations": [
            {
                "instrument": a.instrument,
                "type": a.type,
                "site": a.site,
                "entity": a.entity,
                "period_start": a.period_start.isoformat(),
                "period_end": a.period_end.isoformat(),
                "mwh": float(a.mwh),
                "pool": a.pool,
                "renewable": a.renewable,
                "re100": a.re100,
            }
            for a in allocations
        ],
        "surplus_mwh": {
            k: float(v)
            for k, v in sorted(market.allocation.surplus_mwh.items())
            if v > 0 and k in shown
        },
        "excluded": {k: v for k, v in sorted(market.allocation.excluded.items()) if k in shown},
        "re_by_site": [
            {
                "code": s.code,
                "total_mwh": float(s.total_mwh),
                "purchased_mwh": float(s.purchased_mwh),
                "onsite_mwh": float(s.onsite_mwh),
                "allocated_renewable_mwh": float(s.allocated_renewable_mwh),
                "renewable_mwh": float(s.renewable_mwh),
                "re_share": _number(s.re_share),
            }
            for s in shares
            if seen_site(s.code)
        ],
        "re_share_group": None if visible is not None else _number(market.re_share_group),
        "cfe": cfe_view(workspace, sites),
    }
    while len(_VIEWS) >= _VIEWS_KEPT:
        del _VIEWS[next(iter(_VIEWS))]
    _VIEWS[key] = view
    return view


def cfe_view(workspace: Workspace, sites: frozenset[str] | None = None) -> dict[str, Any] | None:
    """Hourly 24/7 CFE of the hourly files the workspace's ``report/report.toml`` names in
    ``[green]`` (``hourly_load``, ``hourly_supply``, ``grid_cfe``), as the report's heat-map:
    ``{"sites": [...], "hourly_match", "cfe_score", "volumetric" (fractions 0-1, portfolio,
    load-weighted), "grid_cfe", "heatmap": 12 months × 24 hours of CFE share (None where no
    load)}``; None when no files are configured, when they cannot be read (``"error"``
    then says why, in English), or when none of their sites is in ``sites`` (None = all).
    """
    try:
        inputs = load_report_inputs(workspace.root, workspace_name=workspace.name)
        green = inputs.config.green
        if green.hourly_load is None or green.hourly_supply is None:
            return None
        load = cfe_module.read_hourly(inputs.resolve(green.hourly_load), "load")
        supply = cfe_module.read_hourly(inputs.resolve(green.hourly_supply), "clean")
        names, hours, load_m = cfe_module.matrix_from_table(load, "load_mwh")
        _, _, clean_m = cfe_module.matrix_from_table(supply, "clean_mwh", sites=names, hours=hours)
    except (EsgledgerError, OSError, KeyError, ValueError, pa.ArrowException) as exc:
        return {"error": f"the hourly files of report.toml [green] cannot be read: {exc}"}
    codes = [str(n) for n in names]
    keep = [n for n, code in enumerate(codes) if sites is None or code in sites]
    if not keep:
        return None
    load_m, clean_m = load_m[keep], clean_m[keep]
    result = cfe_module.cfe(load_m, clean_m, green.grid_cfe)
    summary = result.summary()
    matrix = cfe_module.heatmap(hours, result.cfe_mwh, result.load_mwh)
    return {
        "sites": [codes[n] for n in keep],
        "grid_cfe": green.grid_cfe,
        "hourly_match": _number(summary.portfolio_hourly_match),
        "cfe_score": _number(summary.portfolio_cfe_score),
        "volumetric": _number(
            float(np.sum(summary.clean_mwh)) / max(float(np.sum(summary.load_mwh)), 1e-12)
        ),
        "heatmap": [[_number(float(v)) for v in row] for row in matrix],
    }
