"""The inventory as the faces read it, for an acting principal.

:func:`inventory_view` is the one contract of ``GET /api/v1/inventory`` and of
``esgledger inventory --format json`` (:func:`esgledger.inventory.runs.summary`, made
JSON-native by :func:`esgledger.contract.jsonable`, the one serialiser): a principal
whose scope is the whole group gets exactly that summary; a principal scoped to part of the
organisation gets the same keys computed from the line items of its entities only (the lake
read itself is filtered), with the run's manifest reduced to what names no other entity, and a
``scope`` entry saying so. Market-based scope 2 is allocated over the whole group and is not
shown in a scoped view.

Views are cached: computing one reads every line item of the run (DuckDB, about half a
second on the demo group), and a dashboard asks for the same one again and again. The cache
holds, per open workspace, the JSON text of the last :data:`VIEW_CACHE_SIZE` views keyed by
run id and the principal's entities (``None`` for the whole group). A run's line items and
manifest never change once it is registered, so no entry can go stale: a new run is a new
key (the latest run is looked up on every request) and old entries fall out of the LRU.
Each caller gets its own copy; a view is computed once even when many ask for it at once.
"""

from __future__ import annotations

import json
import tempfile
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, NotRequired, cast

from pydantic import ConfigDict, with_config
from typing_extensions import TypedDict  # pydantic needs it on Python < 3.12

from esgledger.access import Principal
from esgledger.access.policy import require
from esgledger.access.scope import visible_entities
from esgledger.contract import jsonable
from esgledger.errors import NotFoundError, WorkspaceError, shown
from esgledger.inventory._duckdb import connect
from esgledger.inventory.runs import LINE_ITEMS_FILE, Run, list_runs, load_run, summary
from esgledger.store import Workspace
from esgledger.store.repository import find_run_id

__all__ = [
    "SCOPED_MANIFEST_KEYS",
    "VIEW_CACHE_SIZE",
    "InventoryScope",
    "InventoryView",
    "inventory_view",
    "runs_view",
]

#: Inventory views kept per open workspace (see the module docstring).
VIEW_CACHE_SIZE = 16

_ViewKey = tuple[str, frozenset[str] | None]
_views: weakref.WeakKeyDictionary[Workspace, OrderedDict[_ViewKey, str]] = (
    weakref.WeakKeyDictionary()
)
_views_lock = threading.Lock()
_compute_lock = threading.Lock()

#: The manifest keys a scoped principal sees (nothing that lists other entities or batches).
SCOPED_MANIFEST_KEYS: tuple[str, ...] = (
    "run_id",
    "created_at",
    "reporting_year",
    "gwp_set",
    "consolidation",
    "esgledger_version",
    "preview",
)


class InventoryScope(TypedDict):
    """What a scoped principal's view covers."""

    entity: str | None
    entities: list[str]
    note: str


@with_config(ConfigDict(extra="allow"))
class InventoryView(TypedDict):
    """The contract of :func:`inventory_view`: the keys of
    :func:`esgledger.inventory.runs.summary` (t CO2e), ``renewable_share`` when the run has
    market-based figures, ``scope`` for a scoped principal. Keys added later pass through."""

    unit: str
    totals: dict[str, float | None]
    scope3_by_category: dict[str, float | None]
    by_entity: dict[str, dict[str, Any]]
    by_site: dict[str, dict[str, Any]]
    data_quality: dict[str, Any]
    scope3_completeness: dict[str, dict[str, Any]]
    counts: dict[str, Any]
    warnings: list[str]
    run: dict[str, Any]
    renewable_share: NotRequired[dict[str, Any]]
    scope: NotRequired[InventoryScope]


def _not_found(run_id: str | None) -> NotFoundError:
    if run_id is None:
        return NotFoundError("the workspace has no inventory run yet: calculate one first")
    return NotFoundError(f"no run {shown(run_id)}")


def _run(workspace: Workspace, run_id: str | None) -> Run:
    try:
        return load_run(workspace, run_id)
    except WorkspaceError:
        raise _not_found(run_id) from None


def inventory_view(
    workspace: Workspace, principal: Principal, run_id: str | None = None
) -> InventoryView:
    """The inventory of run ``run_id`` (default: the latest) as ``principal`` may see it."""
    require(principal, "inventory:read")
    with workspace.session() as session:
        found = find_run_id(session, run_id)
    if found is None:
        raise _not_found(run_id)
    key = found
    visible = visible_entities(workspace, principal, "inventory:read")

    def build() -> dict[str, Any]:
        run = _run(workspace, key)
        return _whole_view(run) if visible is None else _scoped_view(run, principal, visible)

    return cast(InventoryView, _cached(workspace, (key, visible), build))


def _cached(workspace: Workspace, key: _ViewKey, build: Callable[[], Any]) -> dict[str, Any]:
    """A fresh copy of the view ``key``, built (once) with ``build`` when not cached."""
    with _views_lock:
        views = _views.setdefault(workspace, OrderedDict())
        text = views.get(key)
        if text is not None:
            views.move_to_end(key)
    if text is None:
        with _compute_lock:
            with _views_lock:
                text = views.get(key)
            if text is None:
                text = json.dumps(jsonable(build()), ensure_ascii=False, allow_nan=False)
                with _views_lock:
                    views[key] = text
                    while len(views) > VIEW_CACHE_SIZE:
                        views.popitem(last=False)
    view: dict[str, Any] = json.loads(text)
    return view


def _whole_view(run: Run) -> dict[str, Any]:
    return summary(run)


def _scoped_view(run: Run, principal: Principal, visible: frozenset[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="esgledger-scope-") as tmp:
        folder = Path(tmp)
        con = connect()
        try:
            con.execute("CREATE TEMP TABLE visible (entity VARCHAR)")
            con.executemany("INSERT INTO visible VALUES (?)", [(e,) for e in sorted(visible)])
            source = str(run.line_items_path).replace("'", "''")
            target = str(folder / LINE_ITEMS_FILE).replace("'", "''")
            con.execute(
                f"COPY (SELECT * FROM read_parquet('{source}') "
                f"WHERE entity IN (SELECT entity FROM visible)) TO '{target}' (FORMAT PARQUET)"
            )
        finally:
            con.close()
        manifest = {k: run.manifest[k] for k in SCOPED_MANIFEST_KEYS if k in run.manifest}
        scoped = Run(run_id=run.run_id, folder=folder, manifest=manifest, totals={})
        out = summary(scoped)
    out["warnings"] = []
    out["scope"] = {
        "entity": principal.scope_entity,
        "entities": sorted(visible),
        "note": "totals of the entities in scope only; market-based scope 2 is allocated "
        "over the whole group and is not shown here",
    }
    return out


def runs_view(workspace: Workspace, principal: Principal) -> list[dict[str, Any]]:
    """The registered runs, oldest first; a scoped principal sees ids and dates only."""
    require(principal, "inventory:read")
    runs = list_runs(workspace)
    if visible_entities(workspace, principal, "inventory:read") is not None:
        runs = [{k: r[k] for k in ("id", "created_at", "reporting_year") if k in r} for r in runs]
    listed: list[dict[str, Any]] = jsonable(runs)
    return listed
