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

The pages drill down from a figure to one row with :func:`breakdown_view` (a figure by
entity, site, activity or scope/category; its rows sum exactly to the figure),
:func:`lines_view` (the line items, 50 a page), :func:`explain_view` (one activity row,
:mod:`esgledger.inventory.explain`); :func:`uncertainty_view` and :func:`diff_view` give the
Monte Carlo result and the comparison of two runs. All are scoped like :func:`inventory_view`
(the lake read is filtered to the principal's entities; a comparison is for the whole group
only) and cached the same way in a cache of their own (:data:`DRILL_CACHE_SIZE` answers).
"""

from __future__ import annotations

import json
import re
import tempfile
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, NotRequired, cast

from pydantic import ConfigDict, with_config
from typing_extensions import TypedDict  # pydantic needs it on Python < 3.12

from esgledger.access import Principal
from esgledger.access.policy import require
from esgledger.access.scope import visible_entities
from esgledger.audit.chain import events
from esgledger.contract import jsonable
from esgledger.errors import (
    AccessDeniedError,
    InputError,
    Issue,
    NotFoundError,
    WorkspaceError,
    shown,
)
from esgledger.factors.library import FactorLibrary
from esgledger.inventory._duckdb import connect
from esgledger.inventory.diff import diff_runs
from esgledger.inventory.explain import AmbiguousRecordError, explain
from esgledger.inventory.runs import LINE_ITEMS_FILE, Run, list_runs, load_run, summary
from esgledger.inventory.uncertainty import uncertainty_summary
from esgledger.store import Workspace
from esgledger.store.repository import find_run_id

__all__ = [
    "BREAKDOWN_DIMENSIONS",
    "DRILL_CACHE_SIZE",
    "FIGURES",
    "LINES_PER_PAGE",
    "SCOPED_MANIFEST_KEYS",
    "VIEW_CACHE_SIZE",
    "InventoryScope",
    "InventoryView",
    "LineFilter",
    "breakdown_view",
    "diff_view",
    "explain_view",
    "inventory_view",
    "lines_view",
    "runs_view",
    "uncertainty_view",
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


#: Drill-down answers (breakdowns, pages of lines, explanations, uncertainty, comparisons)
#: kept per open workspace, apart from the inventory views so they never push those out.
DRILL_CACHE_SIZE = 256
_drill: weakref.WeakKeyDictionary[Workspace, OrderedDict[_ViewKey, str]] = (
    weakref.WeakKeyDictionary()
)


def _cached(
    workspace: Workspace,
    key: _ViewKey,
    build: Callable[[], Any],
    *,
    drill: bool = False,
) -> dict[str, Any]:
    """A fresh copy of the view ``key``, built (once) with ``build`` when not cached
    (``drill``: in the drill-down cache)."""
    store, size = (_drill, DRILL_CACHE_SIZE) if drill else (_views, VIEW_CACHE_SIZE)
    with _views_lock:
        views = store.setdefault(workspace, OrderedDict())
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
                    while len(views) > size:
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
    """The registered runs, oldest first, each with ``created_by`` (the actor of its
    ``run.calculate`` audit event); a scoped principal sees ids and dates only."""
    require(principal, "inventory:read")
    runs = list_runs(workspace)
    if visible_entities(workspace, principal, "inventory:read") is not None:
        runs = [{k: r[k] for k in ("id", "created_at", "reporting_year") if k in r} for r in runs]
    else:
        by = {e.object_id: e.actor for e in events(workspace, action="run.calculate")}
        runs = [{**r, "created_by": by.get(str(r["id"]))} for r in runs]
    listed: list[dict[str, Any]] = jsonable(runs)
    return listed


# ---- drill-down: a figure → its breakdown → its line items → one row's explanation ----------

#: The figures of a run that break down: the totals of :func:`summary` (t CO2e).
FIGURES: tuple[str, ...] = ("total", "scope1", "scope2_location", "scope2_market", "scope3")

#: What a figure breaks down by. ``category`` is the scope, or ``3.N`` for a scope 3 category.
BREAKDOWN_DIMENSIONS: tuple[str, ...] = ("entity", "site", "activity", "category")

#: Line items per page of :func:`lines_view`.
LINES_PER_PAGE = 50

_NO_SITE = "(no site)"
_SCALE = "DECIMAL(38, 9)"
_KG_PER_T = Decimal(1000)
_CATEGORY = re.compile(r"^(1|2|3|3\.(1[0-5]|[1-9]))$")
_FIGURE_SCOPE = {"scope1": 1, "scope2_location": 2, "scope2_market": 2, "scope3": 3}
_DIMENSION_SQL = {
    "entity": "entity",
    "site": f"coalesce(site, '{_NO_SITE}')",
    "activity": "activity",
    "category": "CASE WHEN scope = 3 THEN '3.' || CAST(CAST(scope3_category AS INTEGER) AS VARCHAR)"
    " ELSE CAST(CAST(scope AS INTEGER) AS VARCHAR) END",
}
_SORTS = {
    "emissions": "co2e_kg_consolidated DESC, batch_id, row_number, line_kind",
    "emissions_asc": "co2e_kg_consolidated ASC, batch_id, row_number, line_kind",
    "row": "batch_id, row_number, line_kind",
}
LINE_SORTS: tuple[str, ...] = tuple(_SORTS)


def _refused(column: str, value: str, problem: str, fix: str) -> InputError:
    return InputError(
        f"{column} {shown(value)}: {problem}", [Issue("", None, column, value[:60], problem, fix)]
    )


@dataclass(frozen=True, slots=True)
class LineFilter:
    """Which line items a drill-down reads: ``figure`` (one of :data:`FIGURES`) narrowed by
    ``category`` (``1``, ``2``, ``3`` or ``3.N``), ``entity``, ``site`` (``(no site)`` for
    lines without one) and ``activity``; empty means any."""

    figure: str = "total"
    category: str | None = None
    entity: str | None = None
    site: str | None = None
    activity: str | None = None

    def __post_init__(self) -> None:
        if self.figure not in FIGURES:
            raise _refused("figure", self.figure, "unknown figure", "one of " + ", ".join(FIGURES))
        if self.category is not None and not _CATEGORY.match(self.category):
            raise _refused("category", self.category, "unknown category", "1, 2, 3 or 3.1 … 3.15")
        for name in ("entity", "site", "activity"):
            value = getattr(self, name)
            if value is not None and len(value) > 200:
                raise _refused(name, value, "too long", "at most 200 characters")

    def params(self) -> dict[str, str]:
        """The filter as query parameters (empty ones left out)."""
        return {
            k: v
            for k, v in (
                ("figure", self.figure),
                ("category", self.category),
                ("entity", self.entity),
                ("site", self.site),
                ("activity", self.activity),
            )
            if v
        }

    def where(self, visible: frozenset[str] | None) -> tuple[str, list[Any]]:
        """The SQL condition over the line items (excluded lines never count) and its
        parameters."""
        where: list[str] = ["NOT excluded"]
        params: list[Any] = []
        scope = _FIGURE_SCOPE.get(self.figure)
        if scope is not None:
            where.append("scope = ?")
            params.append(scope)
        if self.category:
            head, _, tail = self.category.partition(".")
            where.append("scope = ?")
            params.append(int(head))
            if tail:
                where.append("scope3_category = ?")
                params.append(int(tail))
        for name in ("entity", "site", "activity"):
            value = getattr(self, name)
            if value:
                where.append(f"{_DIMENSION_SQL[name]} = ?")
                params.append(value)
        if visible is not None:
            where.append("list_contains(?, entity)")
            params.append(sorted(visible))
        return " AND ".join(where), params


def _t(kg: Decimal | None) -> float:
    return float((kg or Decimal(0)) / _KG_PER_T)


def _scoped_run(
    workspace: Workspace, principal: Principal, run_id: str | None
) -> tuple[Run, frozenset[str] | None]:
    require(principal, "inventory:read")
    with workspace.session() as session:
        found = find_run_id(session, run_id)
    if found is None:
        raise _not_found(run_id)
    return _run(workspace, found), visible_entities(workspace, principal, "inventory:read")


def _parquet(run: Run) -> str:
    return "read_parquet('" + str(run.line_items_path).replace("'", "''") + "')"


def _market_breakdown(
    workspace: Workspace, principal: Principal, run: Run, filters: LineFilter, by: str
) -> list[tuple[str, float, int | None]]:
    """Market-based scope 2 by entity or site, as the run's summary gives it (it is allocated
    per site-period over the whole group, not per line)."""
    if by not in ("entity", "site") or filters.category or filters.activity:
        raise _refused(
            "by", by, "market-based scope 2 breaks down by entity or site only", "entity or site"
        )
    view = inventory_view(workspace, principal, run.run_id)
    if "scope2_market" not in view["totals"] or "scope" in view:
        raise NotFoundError("this view has no market-based scope 2")
    source = view["by_entity"] if by == "entity" else view["by_site"]
    rows = []
    for key, entry in source.items():
        if filters.entity and by == "entity" and key != filters.entity:
            continue
        if filters.site and by == "site" and key != filters.site:
            continue
        value = entry.get("scope2_market")
        if value:
            rows.append((key, float(value), None))
    return sorted(rows, key=lambda r: (-r[1], r[0]))


def breakdown_view(
    workspace: Workspace,
    principal: Principal,
    filters: LineFilter,
    by: str = "entity",
    run_id: str | None = None,
) -> dict[str, Any]:
    """A figure of run ``run_id`` (default: the latest) broken down by ``by`` (one of
    :data:`BREAKDOWN_DIMENSIONS`) within ``filters``, as ``principal`` may see it [t CO2e].

    Rows ``{"key", "co2e_t", "lines"}`` largest first; ``total_t`` is their sum, the figure
    itself (each line's consolidated CO2e rounded to 1 µg and summed exactly, as
    :func:`esgledger.inventory.runs.aggregate` does). Market-based scope 2 breaks down by
    entity or site only (from the summary; ``lines`` is then None).
    """
    if by not in BREAKDOWN_DIMENSIONS:
        raise _refused("by", by, "unknown dimension", "one of " + ", ".join(BREAKDOWN_DIMENSIONS))
    run, visible = _scoped_run(workspace, principal, run_id)
    if filters.figure == "scope2_market":
        rows = _market_breakdown(workspace, principal, run, filters, by)
        return _breakdown_answer(run, by, filters, sum(r[1] for r in rows), rows)
    key = f"breakdown:{run.run_id}:{by}:{json.dumps(filters.params(), sort_keys=True)}"
    return _cached(
        workspace, (key, visible), lambda: _breakdown(run, filters, by, visible), drill=True
    )


def _breakdown(
    run: Run, filters: LineFilter, by: str, visible: frozenset[str] | None
) -> dict[str, Any]:
    where, params = filters.where(visible)
    con = connect()
    try:
        found = con.execute(
            f"SELECT {_DIMENSION_SQL[by]} AS k, sum(CAST(co2e_kg_consolidated AS {_SCALE})), "
            f"count(*) FROM {_parquet(run)} WHERE {where} GROUP BY k",
            params,
        ).fetchall()
    finally:
        con.close()
    total = _t(sum((r[1] or Decimal(0) for r in found), Decimal(0)))
    rows: list[tuple[str, float, int | None]] = sorted(
        ((str(k), _t(kg), int(n)) for k, kg, n in found), key=lambda r: (-r[1], r[0])
    )
    return _breakdown_answer(run, by, filters, total, rows)


def _breakdown_answer(
    run: Run,
    by: str,
    filters: LineFilter,
    total: float,
    rows: list[tuple[str, float, int | None]],
) -> dict[str, Any]:
    return {
        "unit": "t CO2e",
        "run_id": run.run_id,
        "by": by,
        "filters": filters.params(),
        "total_t": total,
        "rows": [{"key": k, "co2e_t": v, "lines": n} for k, v, n in rows],
    }


_LINE_COLUMNS = (
    "batch_id",
    "row_number",
    "record_id",
    "line_kind",
    "entity",
    "site",
    "activity",
    "scope",
    "scope3_category",
    "period_start",
    "period_end",
    "quantity",
    "unit",
    "factor_id",
    "tier",
)


def lines_view(
    workspace: Workspace,
    principal: Principal,
    filters: LineFilter,
    *,
    page: int = 1,
    sort: str = "emissions",
    run_id: str | None = None,
) -> dict[str, Any]:
    """The line items of a figure within ``filters``, :data:`LINES_PER_PAGE` a page
    (``page`` from 1), sorted by ``sort`` (``emissions``: largest first, ``emissions_asc``,
    ``row``). Each line has the columns of :data:`_LINE_COLUMNS`, ``co2e_t`` (consolidated)
    and ``key`` (``batch_id:row_number``, what :func:`explain_view` takes). ``count`` and
    ``total_t`` cover every page. Market-based scope 2 lists the scope 2 lines (their
    market-based part is in each line's explanation)."""
    if sort not in _SORTS:
        raise _refused("sort", sort, "unknown order", "one of " + ", ".join(_SORTS))
    if page < 1 or page > 100_000:
        raise _refused("page", str(page), "out of range", "1 or more")
    run, visible = _scoped_run(workspace, principal, run_id)
    key = f"lines:{run.run_id}:{sort}:{page}:{json.dumps(filters.params(), sort_keys=True)}"
    return _cached(
        workspace, (key, visible), lambda: _lines(run, filters, page, sort, visible), drill=True
    )


def _lines(
    run: Run, filters: LineFilter, page: int, sort: str, visible: frozenset[str] | None
) -> dict[str, Any]:
    where, params = filters.where(visible)
    columns = ", ".join(_LINE_COLUMNS)
    offset = (page - 1) * LINES_PER_PAGE
    con = connect()
    try:
        count, kg = con.execute(
            f"SELECT count(*), sum(CAST(co2e_kg_consolidated AS {_SCALE})) "
            f"FROM {_parquet(run)} WHERE {where}",
            params,
        ).fetchone() or (0, None)
        found = con.execute(
            f"SELECT {columns}, CAST(co2e_kg_consolidated AS {_SCALE}) FROM {_parquet(run)} "
            f"WHERE {where} ORDER BY {_SORTS[sort]} LIMIT {LINES_PER_PAGE + 1} OFFSET {offset}",
            params,
        ).fetchall()
    finally:
        con.close()
    lines = []
    for row in found[:LINES_PER_PAGE]:
        line = dict(zip(_LINE_COLUMNS, row[:-1], strict=True))
        line["co2e_t"] = _t(row[-1])
        line["key"] = f"{line['batch_id']}:{line['row_number']}"
        lines.append(line)
    listed: list[dict[str, Any]] = jsonable(lines)
    return {
        "unit": "t CO2e",
        "run_id": run.run_id,
        "filters": filters.params(),
        "sort": sort,
        "page": page,
        "per_page": LINES_PER_PAGE,
        "has_next": len(found) > LINES_PER_PAGE,
        "count": int(count),
        "total_t": _t(kg),
        "lines": listed,
    }


def explain_view(
    workspace: Workspace, principal: Principal, key: str, run_id: str | None = None
) -> dict[str, Any]:
    """How the figures of one activity row came to be
    (:meth:`esgledger.inventory.explain.Explanation.to_dict`: the row as imported, each line's
    factor and why, conversion, gases × GWP, share, market-based part), for a row of an entity
    within ``principal``'s scope (another entity's row is not found)."""
    if len(key) > 200:
        raise _refused("line", key, "too long", "at most 200 characters")
    run, visible = _scoped_run(workspace, principal, run_id)
    return _cached(
        workspace,
        (f"explain:{run.run_id}:{key}", visible),
        lambda: _explained(run, key, visible),
        drill=True,
    )


def _explained(run: Run, key: str, visible: frozenset[str] | None) -> dict[str, Any]:
    try:
        explanation = explain(run, key)
    except AmbiguousRecordError:
        if visible is None:
            raise
        raise NotFoundError(f"no line {shown(key)} in run {run.run_id}") from None
    except InputError:
        raise NotFoundError(f"no line {shown(key)} in run {run.run_id}") from None
    if visible is not None and any(x.line.get("entity") not in visible for x in explanation.lines):
        raise NotFoundError(f"no line {shown(key)} in run {run.run_id}")
    data: dict[str, Any] = jsonable(explanation.to_dict())
    return data


def _scoped_lines(run: Run, visible: frozenset[str], folder: Path) -> Path:
    target = folder / LINE_ITEMS_FILE
    con = connect()
    try:
        con.execute(
            f"COPY (SELECT * FROM {_parquet(run)} WHERE list_contains(?, entity)) "
            f"TO '{str(target).replace(chr(39), chr(39) * 2)}' (FORMAT PARQUET)",
            [sorted(visible)],
        )
    finally:
        con.close()
    return target


_UNCERTAINTY_BY: dict[str, tuple[str, ...]] = {
    "scope": ("scope",),
    "scope3_category": ("scope", "scope3_category"),
    "entity": ("entity",),
}


def uncertainty_view(
    workspace: Workspace, principal: Principal, by: str = "scope", run_id: str | None = None
) -> dict[str, Any]:
    """Factor uncertainty of a run by Monte Carlo (10,000 draws, seed 0: the defaults of
    ``esgledger uncertainty``; :func:`esgledger.inventory.uncertainty.uncertainty_summary`)
    grouped ``by`` scope, scope 3 category or entity, over the lines ``principal`` may see.
    Cached like :func:`inventory_view` (the first view of a run takes seconds)."""
    if by not in _UNCERTAINTY_BY:
        raise _refused("by", by, "unknown grouping", "one of " + ", ".join(_UNCERTAINTY_BY))
    run, visible = _scoped_run(workspace, principal, run_id)

    def build() -> dict[str, Any]:
        factors = FactorLibrary.for_workspace(workspace).as_arrow()
        if visible is None:
            return uncertainty_summary(
                run.line_items_path, factors, run_id=run.run_id, by=_UNCERTAINTY_BY[by]
            )
        with tempfile.TemporaryDirectory(prefix="esgledger-scope-") as tmp:
            lines = _scoped_lines(run, visible, Path(tmp))
            return uncertainty_summary(lines, factors, run_id=run.run_id, by=_UNCERTAINTY_BY[by])

    return _cached(workspace, (f"uncertainty:{by}:{run.run_id}", visible), build, drill=True)


def diff_view(workspace: Workspace, principal: Principal, run_a: str, run_b: str) -> dict[str, Any]:
    """What changed between runs ``run_a`` and ``run_b``
    (:meth:`esgledger.inventory.diff.RunDiff.to_dict`: totals, causes, the lines that changed
    most). The comparison names batches and lines of every entity, so it is for principals
    whose scope is the whole group."""
    require(principal, "inventory:read")
    if visible_entities(workspace, principal, "inventory:read") is not None:
        raise AccessDeniedError(
            "comparing runs covers the whole group: it is for roles whose scope is the group"
        )
    a, b = _run(workspace, run_a), _run(workspace, run_b)
    return _cached(
        workspace,
        (f"diff:{a.run_id}:{b.run_id}", None),
        lambda: diff_runs(a, b).to_dict(),
        drill=True,
    )
