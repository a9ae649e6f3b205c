"""The dashboard of a reporting year, for an acting principal.

:func:`dashboard_view` gathers, JSON-native, what the home page shows: the inventory of the
latest run (:func:`esgledger.inventory.service.inventory_view`, cached and scoped: its totals
are the same numbers ``GET /api/v1/inventory`` answers), the intensity per million of revenue
(the typed metric value ``revenue`` of the group's root entity for the run's year), the
history of yearly inventories (:func:`esgledger.targets.actuals.yearly_inventories`: the latest
run of a year, else its published figures) with the change against the previous year, the
targets against their pathways (:func:`esgledger.targets.service.target_status`), the
renewable share, the data-quality shares by tier and the task counts by status of the year's
campaigns (:func:`esgledger.collection.service.list_tasks`).

History, year-on-year, intensity and targets are figures of the whole group: a principal
scoped to part of it gets ``None`` for them (and ``group_only`` says why), never the group's
numbers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from esgledger.access import Principal
from esgledger.access.policy import allowed, require
from esgledger.access.scope import visible_entities
from esgledger.collection import service as collection
from esgledger.collection.tasks import STATUSES as TASK_STATUSES
from esgledger.contract import jsonable
from esgledger.inventory.runs import SCOPE3_CATEGORY_NAMES
from esgledger.inventory.service import inventory_view
from esgledger.store import Workspace
from esgledger.store.repository import find_run_id, load_entities
from esgledger.store.repository_targets import load_metric_values
from esgledger.targets.actuals import yearly_inventories
from esgledger.targets.service import target_status

__all__ = ["dashboard_view"]

_SCOPES = ("scope1", "scope2_location", "scope2_market", "scope3", "total")


def _revenue(workspace: Workspace, year: int) -> dict[str, Any] | None:
    """The group's revenue of ``year`` (root entity, whole year, no breakdown), or None."""
    with workspace.session() as session:
        roots = {e["code"] for e in load_entities(session) if e["parent"] is None}
        rows = [
            r
            for r in load_metric_values(session, year)
            if r["metric"] == "revenue"
            and r["entity"] in roots
            and not r["breakdown"]
            and r["value"] is not None
            and r["period_start"] == dt.date(year, 1, 1)
            and r["period_end"] == dt.date(year, 12, 31)
        ]
    if len(rows) != 1 or not float(rows[0]["value"]):
        return None
    row = rows[0]
    return {"value": float(row["value"]), "unit": str(row["unit"] or ""), "entity": row["entity"]}


def _history(workspace: Workspace) -> list[dict[str, Any]]:
    return [
        {
            "year": year,
            **{k: inventory.totals.get(k) for k in _SCOPES},
            "source": inventory.source,
            "run_id": inventory.run_id,
        }
        for year, inventory in yearly_inventories(workspace).items()
    ]


def _targets(workspace: Workspace) -> list[dict[str, Any]]:
    out = []
    for state in target_status(workspace).as_dict()["targets"]:
        definition = state["definition"]
        progress = state.get("progress") or {}
        years = progress.get("years") or []
        latest = years[-1] if years else {}
        out.append(
            {
                "id": state["id"],
                "name": definition.get("name") or state["id"],
                "name_zh": definition.get("name_zh") or definition.get("name") or state["id"],
                "kind": definition["kind"],
                "base_year": definition["base_year"],
                "target_year": definition["target_year"],
                "unit": progress.get("unit"),
                "base_value": progress.get("base_value"),
                "target_value": progress.get("target_value"),
                "year": latest.get("year"),
                "actual": latest.get("actual"),
                "pathway": latest.get("pathway"),
                "gap": latest.get("gap"),
                "status": progress.get("status"),
                "years": years,
                "note": state.get("progress_note") or "",
            }
        )
    return out


def _campaigns(workspace: Workspace, principal: Principal, year: int) -> list[dict[str, Any]]:
    if (
        allowed(principal, "campaign:read") is not True
        or allowed(principal, "task:read") is not True
    ):
        return []
    campaigns = [
        c for c in collection.list_campaigns(workspace, principal) if c["reporting_year"] == year
    ]
    if not campaigns:
        return []
    tasks = collection.list_tasks(workspace, principal)
    out = []
    for campaign in campaigns:
        counts = dict.fromkeys(TASK_STATUSES, 0)
        for task in tasks:
            if task["campaign_id"] == campaign["id"]:
                counts[task["status"]] += 1
        out.append(
            {
                "id": campaign["id"],
                "name": campaign["name"],
                "status": campaign["status"],
                "due_date": campaign["due_date"],
                "tasks": sum(counts.values()),
                "by_status": counts,
            }
        )
    return out


def dashboard_view(
    workspace: Workspace, principal: Principal, run_id: str | None = None
) -> dict[str, Any]:
    """The dashboard of run ``run_id`` (default: the latest) as ``principal`` may see it.

    Keys: ``year``; ``run`` (id, created_at, gwp_set, consolidation, preview) or None when
    the workspace has no run yet (then the figures are None too); ``unit``; ``totals``
    (scope1, scope2_location, scope2_market when shown, scope3, total, biogenic_co2);
    ``scope3_by_category`` (all fifteen, with ``name``/``name_zh`` and ``co2e_t``);
    ``intensity`` (``value`` t CO2e per million of revenue, ``currency``) or None;
    ``previous`` (``year``, ``total``, ``change_t``, ``change_share``, ``source``) or None;
    ``history`` (one entry per year); ``targets``; ``renewable_share`` (group share and its
    basis) or None; ``data_quality`` (overall score, ``co2e_share_by_tier``,
    ``lines_share_by_tier``); ``campaigns`` (task counts by status); ``scope`` (the entities
    in scope, None for the whole group); ``group_only`` (True when the group's figures are
    withheld from this principal).
    """
    require(principal, "inventory:read")
    visible = visible_entities(workspace, principal, "inventory:read")
    scoped = visible is not None
    with workspace.session() as session:
        latest = find_run_id(session, run_id)
    year = workspace.reporting_year
    out: dict[str, Any] = {
        "year": year,
        "unit": "t CO2e",
        "run": None,
        "totals": None,
        "scope3_by_category": [],
        "intensity": None,
        "previous": None,
        "history": [],
        "targets": [],
        "renewable_share": None,
        "data_quality": None,
        "campaigns": [],
        "scope": None if visible is None else sorted(visible),
        "group_only": scoped,
    }
    if latest is not None:
        view = inventory_view(workspace, principal, latest)
        manifest = view["run"]
        year = int(manifest["reporting_year"])
        out["year"] = year
        out["run"] = {
            k: manifest.get(k)
            for k in ("run_id", "created_at", "gwp_set", "consolidation", "preview")
        }
        out["totals"] = dict(view["totals"])
        out["scope3_by_category"] = [
            {
                "category": key,
                "name": name,
                "name_zh": name_zh,
                "co2e_t": view["scope3_by_category"].get(key) or 0.0,
            }
            for key, (name, name_zh) in SCOPE3_CATEGORY_NAMES.items()
        ]
        overall = view["data_quality"].get("overall") or {}
        out["data_quality"] = {
            "score": (overall.get("scores") or {}).get("overall"),
            "lines": overall.get("lines"),
            "co2e_share_by_tier": overall.get("co2e_share_by_tier") or {},
            "lines_share_by_tier": overall.get("lines_share_by_tier") or {},
        }
        share = view.get("renewable_share")
        if share is not None and not scoped:
            out["renewable_share"] = {"group": share.get("group"), "basis": share.get("basis")}
    if not scoped:
        history = _history(workspace)
        out["history"] = history
        current = next((h for h in history if h["year"] == year), None)
        before = next((h for h in history if h["year"] == year - 1), None)
        if out["totals"] is not None and before is not None and before["total"]:
            total = float(out["totals"]["total"])
            change = total - float(before["total"])
            out["previous"] = {
                "year": year - 1,
                "total": before["total"],
                "change_t": change,
                "change_share": change / float(before["total"]),
                "source": before["source"],
            }
        revenue = _revenue(workspace, year)
        if out["totals"] is not None and revenue is not None and current is not None:
            out["intensity"] = {
                "value": float(out["totals"]["total"]) / (revenue["value"] / 1e6),
                "currency": revenue["unit"],
                "revenue": revenue["value"],
            }
        out["targets"] = _targets(workspace)
    out["campaigns"] = _campaigns(workspace, principal, year)
    data: dict[str, Any] = jsonable(out)
    return data
