"""The factor library in a workspace: browse, one factor's provenance, "how would this row
resolve".

排放因子库（工作区）：浏览与检索、单个因子的来源信息、"该数据行将如何匹配因子"。

The one module of :mod:`esgledger.factors` that opens a workspace (the rest is pure). The
CLI (``esgledger factors resolve``) and the pages (``/factors``) call the same functions:

* :func:`workspace_library` — the shipped sets overlaid with the workspace's user sets;
* :func:`factor_list` — one page of factors matching filters and a free-text search;
* :func:`factor_detail` — one factor with its set's provenance (source, licence, edition);
* :func:`resolve_row` — the resolver the engine uses (:func:`esgledger.factors.resolve.resolve`)
  with the workspace's reporting year, proxies, profile fallbacks and gas volume reference.

Every result is JSON-native (``factor_list``, ``factor_detail``, :func:`resolution_dict`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from esgledger.errors import FactorNotFoundError, InputError, Issue, NotFoundError
from esgledger.factors.library import FactorLibrary
from esgledger.factors.resolve import Resolution, Strictness, resolve
from esgledger.regions import chain
from esgledger.store.repository import load_sites, registered_batch_ids
from esgledger.taxonomy import Taxonomy

if TYPE_CHECKING:
    from esgledger.store import Workspace

__all__ = [
    "FACTORS_PER_PAGE",
    "VALUE_COLUMNS",
    "RowQuery",
    "RowResolution",
    "factor_detail",
    "factor_list",
    "resolution_dict",
    "resolve_row",
    "workspace_library",
]

#: Factors on one page of :func:`factor_list`.
FACTORS_PER_PAGE = 50
#: The amounts of a factor [kg per factor unit], in the order they are shown.
VALUE_COLUMNS = ("co2e_kg", "co2_kg", "ch4_kg", "n2o_kg", "biogenic_co2_kg")
_LIST_COLUMNS = ("factor_id", "activity", "region", "year", "unit", "method", "source")


#: Libraries built for a workspace, keyed by its folder and its registered import batches
#: (an import of factors or activity types registers a batch, so a new key rebuilds).
_LIBRARIES: dict[tuple[str, frozenset[str]], FactorLibrary] = {}
_LIBRARIES_KEPT = 4


def workspace_library(workspace: Workspace) -> FactorLibrary:
    """The shipped sets plus the workspace's user sets (and its taxonomy, for search),
    built once per state of the workspace's imports (the pages ask for it on every request;
    building it and its search index takes about half a second on the demo)."""
    with workspace.session() as session:
        batches = registered_batch_ids(session)
    key = (str(workspace.root), batches)
    library = _LIBRARIES.get(key)
    if library is None:
        library = FactorLibrary.for_workspace(workspace)
        while len(_LIBRARIES) >= _LIBRARIES_KEPT:
            del _LIBRARIES[next(iter(_LIBRARIES))]
        _LIBRARIES[key] = library
    return library


def _plain(value: Any) -> Any:
    """A JSON-native value: NaN becomes None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _distinct(table: pa.Table, column: str) -> list[Any]:
    values = pc.unique(pc.drop_null(table.column(column))).to_pylist()
    return sorted(values)


def factor_list(
    workspace: Workspace,
    *,
    text: str | None = None,
    source: str | None = None,
    region: str | None = None,
    year: int | None = None,
    activity: str | None = None,
    page: int = 1,
    per_page: int = FACTORS_PER_PAGE,
) -> dict[str, Any]:
    """One page of the factors matching every given filter (``source``: a set id or text of
    the source; ``region``: a region code, exactly; ``year``: the vintage; ``activity``: a key,
    ``*`` at the end for a prefix) and every word of ``text`` (id, activity and its names,
    description, source, set, region).

    Returns ``{"total", "page", "per_page", "pages", "factors": [...], "sets": [...],
    "regions": [...], "years": [...]}``; each factor has the columns ``factor_id, activity,
    region, year, unit, method, source, factor_set`` and the amounts of
    :data:`VALUE_COLUMNS`. ``sets``, ``regions`` and ``years`` are the choices of the filters
    over the whole library. A page past the last gives an empty ``factors``.
    """
    library = workspace_library(workspace)
    table = library.search(text) if text and text.strip() else library.as_arrow()
    if any(v not in (None, "") for v in (source, region, year, activity)):
        mask = pa.array([True] * table.num_rows, pa.bool_())
        if activity:
            column = table.column("activity")
            cond = (
                pc.starts_with(column, activity[:-1])
                if activity.endswith("*")
                else pc.equal(column, activity)
            )
            mask = pc.and_kleene(mask, cond)
        if region:
            mask = pc.and_kleene(mask, pc.equal(table.column("region"), region.upper()))
        if year is not None:
            mask = pc.and_kleene(mask, pc.equal(table.column("year"), year))
        if source:
            cond = pc.or_kleene(
                pc.equal(table.column("factor_set"), source),
                pc.match_substring(table.column("source"), source, ignore_case=True),
            )
            mask = pc.and_kleene(mask, cond)
        table = table.filter(pc.fill_null(mask, False))
    total = table.num_rows
    page = max(page, 1)
    start = (page - 1) * per_page
    shown = table.slice(start, per_page) if start < total else table.slice(0, 0)
    columns = [*_LIST_COLUMNS, "factor_set", *VALUE_COLUMNS]
    rows = [{key: _plain(row[key]) for key in columns} for row in shown.select(columns).to_pylist()]
    whole = library.as_arrow()
    return {
        "total": total,
        "page": page,
        "per_page": per_page,
        "pages": max(1, math.ceil(total / per_page)),
        "factors": rows,
        "sets": [
            {"id": s["id"], "name": s["name"], "shipped": s["shipped"]} for s in library.sets()
        ],
        "regions": _distinct(whole, "region"),
        "years": _distinct(whole, "year"),
    }


def factor_detail(workspace: Workspace, factor_id: str) -> dict[str, Any]:
    """One factor with its provenance: ``{"factor": {column: value}, "set": {id, name,
    source, edition, licence, attribution, precedence, rows, shipped}, "gases": [names of
    the gases with an amount], "activity_name": {"en", "zh-CN"} or None}``.

    Raises
    ------
    NotFoundError
        If no factor has this id (the message suggests close ids).
    """
    library = workspace_library(workspace)
    try:
        record = library.get(factor_id)
    except FactorNotFoundError as exc:
        raise NotFoundError(str(exc)) from None
    factor = {key: _plain(value) for key, value in record.items()}
    info = library.set_info(str(factor["factor_set"]))
    gases = [
        name.removesuffix("_kg")
        for name in VALUE_COLUMNS
        if name != "co2e_kg" and factor.get(name) is not None
    ]
    activity_name: dict[str, str] | None = None
    try:
        activity_type = library.taxonomy.get(str(factor["activity"]))
    except LookupError:
        activity_type = None
    if activity_type is not None:
        activity_name = {"en": activity_type.name, "zh-CN": activity_type.name_zh}
    return {
        "factor": factor,
        "set": {key: _plain(value) for key, value in info.items()},
        "gases": gases,
        "activity_name": activity_name,
    }


@dataclass(frozen=True, slots=True)
class RowQuery:
    """An activity row to resolve: its activity key, region code and unit, and optionally
    its supplier, site, reporting year (default: the workspace's), explicit factor id,
    allowed methods in order of preference, GWP set and strictness. An empty region takes
    the site's region, else the site's country, as the engine keys a row without one."""

    activity: str
    region: str
    unit: str
    supplier: str | None = None
    site: str | None = None
    year: int | None = None
    factor_id: str | None = None
    methods: tuple[str, ...] | None = None
    gwp_set: str | None = None
    strict: Strictness | None = None


@dataclass(frozen=True, slots=True)
class RowResolution:
    """What :func:`resolve_row` found: the resolver's answer, the reporting year used, the
    region code the row was keyed with and where it came from (``row``, ``site``, ``site
    country``, as the engine's ``region_from``)."""

    resolution: Resolution
    year: int
    region: str
    region_from: str


def _row_region(workspace: Workspace, query: RowQuery) -> tuple[str, str]:
    if query.region:
        return query.region, "row"
    if query.site:
        with workspace.session() as session:
            sites = {str(s["code"]): s for s in load_sites(session)}
        site = sites.get(query.site)
        if site is not None and site.get("region"):
            return str(site["region"]), "site"
        if site is not None and site.get("country"):
            return str(site["country"]), "site country"
        problem = f"unknown site {query.site!r}, or a site without region and country"
        fix = "give the row's region code, or the code of an imported site"
        raise InputError(problem, [Issue("", None, "site", query.site, problem, fix)])
    problem = "no region and no site: the row cannot be keyed to a region"
    raise InputError(problem, [Issue("", None, "region", "", problem, "give a region code")])


def resolve_row(
    workspace: Workspace,
    query: RowQuery,
    *,
    proxies: dict[str, tuple[str, ...]] | None = None,
) -> RowResolution:
    """The factor ``query`` would get in ``workspace``: the resolver of the engine with the
    workspace's user sets, taxonomy, proxies (``proxies`` replaces them, as ``calculate
    --proxy`` does), profile fallbacks and gas volume reference.

    Raises
    ------
    InputError
        If the region code is unknown, or neither a region nor a known site is given.
    UnknownActivityError, UnitError, FactorNotFoundError
        As :func:`esgledger.factors.resolve.resolve` does.
    """
    region, region_from = _row_region(workspace, query)
    try:
        region_chain = chain(region)
    except KeyError:
        problem = f"unknown region code {region!r}"
        fix = "use GLOBAL, an ISO country such as CN, a province such as CN-GD, or CN-GRID-*"
        raise InputError(problem, [Issue("", None, "region", region, problem, fix)]) from None
    library = workspace_library(workspace)
    taxonomy = Taxonomy.for_workspace(workspace)
    year = query.year if query.year is not None else workspace.reporting_year
    result = resolve(
        library,
        activity_type=taxonomy.get(query.activity),
        region_chain=region_chain,
        year=year,
        unit=query.unit,
        supplier=query.supplier,
        site=query.site,
        factor_id=query.factor_id,
        methods=query.methods,
        gwp_set=query.gwp_set,
        strict=query.strict,
        gas_volume_reference=workspace.gas_volume_reference,
        proxies=proxies if proxies is not None else workspace.factor_proxies,
        fallbacks=workspace.factor_fallbacks,
    )
    return RowResolution(result, year, region_chain[0], region_from)


def resolution_dict(found: RowResolution) -> dict[str, Any]:
    """A :class:`RowResolution` as JSON-native values: ``factor_id, tier, vintage_gap,
    reporting_year, region, region_from, reason {en, zh-CN}, unit_conversion,
    conversion_path, currency, price_year, gwp_set, considered [...], factor {column:
    value}``."""
    result, year = found.resolution, found.year
    return {
        "factor_id": result.factor_id,
        "tier": result.tier,
        "vintage_gap": result.vintage_gap,
        "reporting_year": year,
        "region": found.region,
        "region_from": found.region_from,
        "reason": {"en": result.reason, "zh-CN": result.reason_zh or result.reason},
        "unit_conversion": _plain(result.unit_conversion),
        "conversion_path": result.conversion_path,
        "currency": result.currency,
        "price_year": result.price_year,
        "gwp_set": result.gwp_set,
        "considered": list(result.considered),
        "factor": {key: _plain(value) for key, value in result.factor.items()},
    }
