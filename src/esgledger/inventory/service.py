"""The inventory as the faces read it, for an acting principal.

:func:`inventory_view` is the one contract of ``GET /api/v1/inventory`` and of
``esgledger inventory --format json`` (:func:`esgledger.inventory.runs.summary`): a principal
whose scope is the whole group gets exactly that summary; a principal scoped to part of the
organisation gets the same keys computed from the line items of its entities only (the lake
read itself is filtered), with the run's manifest reduced to what names no other entity, and a
``scope`` entry saying so. Market-based scope 2 is allocated over the whole group and is not
shown in a scoped view.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from esgledger.access import Principal
from esgledger.access.policy import require
from esgledger.access.scope import visible_entities
from esgledger.errors import NotFoundError, WorkspaceError, shown
from esgledger.inventory._duckdb import connect
from esgledger.inventory.runs import LINE_ITEMS_FILE, Run, list_runs, load_run, summary
from esgledger.store import Workspace

__all__ = ["SCOPED_MANIFEST_KEYS", "inventory_view", "runs_view"]

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


def _run(workspace: Workspace, run_id: str | None) -> Run:
    try:
        return load_run(workspace, run_id)
    except WorkspaceError:
        if run_id is None:
            raise NotFoundError(
                "the workspace has no inventory run yet: calculate one first"
            ) from None
        raise NotFoundError(f"no run {shown(run_id)}") from None


def inventory_view(
    workspace: Workspace, principal: Principal, run_id: str | None = None
) -> dict[str, Any]:
    """The inventory of run ``run_id`` (default: the latest) as ``principal`` may see it."""
    require(principal, "inventory:read")
    run = _run(workspace, run_id)
    visible = visible_entities(workspace, principal, "inventory:read")
    if visible is None:
        return summary(run)
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
    if visible_entities(workspace, principal, "inventory:read") is None:
        return runs
    return [{k: r[k] for k in ("id", "created_at", "reporting_year") if k in r} for r in runs]
