"""The inventory engine: activity rows + factor library → one line item per activity row.

盘查计算引擎：每条活动数据生成一条可追溯的明细（排放因子、层级、换算、分气体质量、CO2当量）。

One relational plan, executed in-process by DuckDB; Python only touches the few *distinct*
values (activity keys, units, entities), never the rows:

1. **Rows.** Every registered activity batch is scanned in place from the lake
   (``read_parquet`` over ``lake/activities/<batch_id>.parquet``, in import order).
2. **Region.** ``region = coalesce(row.region, site.region, site.country, entity.country)``
   (upper-case); ``region_from`` says which one it was (``row``, ``site``, ``site country``,
   ``entity country``).
3. **Keys.** The distinct keys (activity, region, unit, supplier, site, explicit factor,
   reporting year; supplier and site only where a factor is specific to them, see
   :func:`_narrow_keys`) go to :func:`esgledger.factors.resolve.resolve_many`, which resolves each
   once with the tier rules of ``docs/methodology/factor-resolution.md``, the run's proxy
   regions (rule 9; tier ``proxy``) and price basis (rule 10). Each line carries the
   factor's own region (``factor_region``) and the source's ``uncertainty_pct``.
4. **Conversion, per key.** ``to_factor_unit`` [factor units per row unit] is the resolver's
   pint-derived ``unit_conversion``; for money it is ``row unit → row currency`` (万元 → CNY:
   10,000) × the exchange rate of the reporting year (:meth:`esgledger.fx.FxTable.as_arrow`,
   joined as a table: ``per_usd(factor currency) / per_usd(row currency)``) × ``factor
   currency → factor unit``. A missing rate stops the run
   (:class:`~esgledger.errors.FxRateMissingError`); no other year's rate is used. The amount,
   now in the factor's currency of the reporting year, is then expressed in the factor's
   price year: × ``deflator = price_index(price_year) / price_index(reporting year)`` of
   the country of the factor's currency (:func:`price_index_country`; the index table
   :func:`esgledger.deflators.as_arrow`, joined twice). A year or country without an index
   stops the run (:class:`~esgledger.errors.PriceIndexMissingError`), unless the price year
   is the reporting year (``deflator`` 1). ``deflator`` and ``price_year_gap`` are on the
   line; the indexes used are in the manifest.
5. **Gases and CO2e, per key** (kg per factor unit), under the run's GWP set (GHG Protocol
   Corporate Standard ch. 4 and ch. 9: one consistent set of IPCC GWP-100 values):

   * a factor whose published ``co2e_kg`` is under the run's set: that published CO2e (the
     source's own total, which may cover more gases than CO2, CH4 and N2O);
   * otherwise, a factor with per-gas masses: ``CO2 + CH4 × GWP(CH4) + N2O × GWP(N2O)``
     (re-weighted, so the line is consistent with the run's set);
   * otherwise (CO2e only, under another or an unknown set): the published CO2e, and the
     line carries ``gwp_basis_mismatch = true``; such a factor cannot be re-weighted, and the
     run's warnings count these lines;
   * emissions reported by others (method ``reported``, the identity factor of rule 7 of the
     resolver): the reported CO2e, ``co2e_from = 'reported'``; ``gwp_basis_mismatch`` only
     when the factor names another set; the run's warnings count these lines.

   Biogenic CO2 is carried per line and reported outside the scopes. Process CO2, CH4 and N2O
   resolved to IPCC GWP factors also fill the gas column of their gas.
6. **Lines.** Rows join back to their key (hash join, rows on the probe side, so nothing the
   size of the data is built in memory) and to the scope table and the consolidation shares;
   the line items stream straight to Parquet with ``COPY ... TO`` (zstd), unsorted: the
   canonical order (:data:`LINE_ORDER`) is applied by readers that need one
   (:meth:`esgledger.inventory.runs.Run.line_items`, the CLI exports).
7. **Category 3.** The keys of scope 1 and 2 activities are resolved again with the methods
   ``wtt``, ``td_losses`` and ``wtt_td_losses`` (:data:`CATEGORY_3_METHODS`); a row whose key
   has such a factor gets one more line of that ``line_kind`` in scope 3 category 3. Rows
   left without any are listed in the run's warnings. Proxy regions do **not** apply here
   unless the run opts in (``category_3_proxies``; workspace ``[factors]
   category_3_proxies = true``): another country's upstream and T&D-loss factors say
   nothing about the local grid or fuel chain.
8. **Category 15.** Under a control approach, an entity the group holds equity in but does
   not control reports 0 % in scopes 1 and 2; its scope 1 and 2 lines times the group's
   equity share are its investment emissions, GHG Protocol Scope 3 Standard (2011) Table 5.4,
   category 15, minimum boundary for equity investments ("proportional scope 1 and scope 2
   emissions of equity investments", Technical Guidance (2013) ch. 15,
   investment-specific method). Such a row gets one more line of kind ``investment`` in
   scope 3 category 15 with ``consolidation_share`` = the equity share (``investments``;
   :func:`esgledger.inventory.runs.prepare_run` finds them with
   :func:`esgledger.boundary.consolidation_shares`). Scope 2 counts location-based here.
   Under the equity share approach the share is already in scopes 1 and 2 and no such line
   exists.
9. **Double counting guard.** The rules of :data:`DOUBLE_COUNT_RULES` pair activities that
   may count the same spend or activity twice (spend and supplier or average data for one
   supplier; a site's electricity as scope 2 and as a leased asset; scope 1 fuel and the
   same fuel bought as spend) for one entity (and supplier or site) and overlapping
   periods. Suspect lines get ``double_count_suspect = true`` and each rule that fired one
   warning; no line is dropped or changed.
9. **Overlaps.** Scope 1 and 2 rows (not corrections) whose periods overlap another row of
   the same entity, site, activity, supplier and meter (:mod:`esgledger.overlaps`, the rule
   the import applies; one window over the rows) get ``overlap_suspect = true``, the run one
   warning and the manifest an ``overlaps`` section; data quality scores their reliability
   one step worse. No line is dropped or changed.

Unresolved keys stop the run with one :class:`~esgledger.errors.FactorNotFoundError` (or
:class:`~esgledger.errors.StrictFallbackError` when ``strict`` refused fallbacks) listing every
failing key and its row count (the resolver's ``error_kind`` says whether every failure
was a refusal by ``strict``): a row without a factor is never a silent zero. With
``allow_unresolved=True`` those rows become *excluded* lines (``excluded = true``, null
emissions, the resolver's message as ``reason``) and the run's warnings count them.

Scope 2 market-based (:mod:`esgledger.inventory.market`) is computed from these line items:
its grid-average remainder reuses the factor of the location-based lines, never a second
resolution of it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from esgledger import deflators, gwp, regions
from esgledger.errors import (
    FactorNotFoundError,
    FxRateMissingError,
    PriceIndexMissingError,
    StrictFallbackError,
    UnitError,
)
from esgledger.factors.resolve import GAS_FAMILIES, Fallback, Strictness, resolve_many
from esgledger.inventory._duckdb import connect
from esgledger.overlaps import (
    DUPLICATE_COLUMNS,
    OVERLAP_SCOPES,
    candidates_sql,
    hot_months_sql,
    overlap_sql,
    overlap_warning,
)
from esgledger.units import conversion_factor, currency_of

if TYPE_CHECKING:
    from esgledger.access.principal import Principal
    from esgledger.factors.library import FactorLibrary
    from esgledger.fx import FxTable
    from esgledger.inventory.runs import Run
    from esgledger.store import Workspace
    from esgledger.taxonomy import Taxonomy

#: Told the stage a calculation has reached and a rough percentage of the whole (a job's
#: progress, :mod:`esgledger.jobs`); it may raise to stop the calculation there.
Progress = Callable[[str, int], None]

__all__ = [
    "CATEGORY_3_METHODS",
    "CONSOLIDATION_ALIASES",
    "DOUBLE_COUNT_RULES",
    "LINE_ITEM_COLUMNS",
    "LINE_KINDS",
    "LINE_ORDER",
    "DoubleCountRule",
    "PlanResult",
    "Progress",
    "calculate",
    "compute_line_items",
    "line_order_sql",
    "price_index_country",
]

#: Short names of the consolidation approaches the CLI accepts, and the full names.
CONSOLIDATION_ALIASES: dict[str, str] = {
    "equity": "equity_share",
    "operational": "operational_control",
    "financial": "financial_control",
}

#: The columns of a line item, in file order (units in the names; see the module docstring
#: and ``docs/methodology/inventory.md`` for each).
LINE_ITEM_COLUMNS: tuple[str, ...] = (
    "run_id",
    "batch_id",
    "row_number",
    "record_id",
    "line_kind",
    "entity",
    "site",
    "period_start",
    "period_end",
    "activity",
    "scope",
    "scope3_category",
    "quantity",
    "unit",
    "correction",
    "region",
    "region_from",
    "supplier",
    "factor_id",
    "factor_set",
    "factor_region",
    "tier",
    "vintage_gap",
    "method",
    "source",
    "factor_unit",
    "conversion_path",
    "fx_rate",
    "deflator",
    "price_year_gap",
    "quantity_in_factor_unit",
    "co2_kg",
    "ch4_kg",
    "n2o_kg",
    "biogenic_co2_kg",
    "co2e_kg",
    "consolidation_share",
    "co2e_kg_consolidated",
    "gwp_set",
    "co2e_from",
    "gwp_basis_mismatch",
    "uncertainty_pct",
    "double_count_suspect",
    "overlap_suspect",
    "excluded",
    "reason",
    "reason_zh",
)

_MAX_LISTED_KEYS = 20


@dataclass(slots=True)
class PlanResult:
    """What :func:`compute_line_items` did: counts and warnings for the run manifest.

    Attributes
    ----------
    counts
        ``rows`` (activity rows read), ``lines`` (line items written), ``category_3_lines``
        (of which derived scope 3 category 3 lines), ``category_15_lines`` (derived
        category 15 lines of equity investments outside the boundary), ``excluded`` (lines
        without a factor, only with ``allow_unresolved``), ``keys`` (distinct keys resolved).
    warnings
        One sentence each, for the manifest and the CLI.
    factor_sets_used
        Lines per factor set.
    deflators
        The price indexes used to express spend in factors' price years: per (currency,
        country, series, reporting year, price year) the two index values and their ratio.
    double_counting
        Per rule of :data:`DOUBLE_COUNT_RULES` that flagged lines: the rule, its rows and
        examples (see :func:`_double_count`).
    overlaps
        Scope 1 and 2 rows that overlap other rows of the same entity, site, activity,
        supplier and meter (:func:`_overlaps`): ``rows`` and ``examples``; None when none do.
    """

    counts: dict[str, int]
    warnings: list[str] = field(default_factory=list)
    factor_sets_used: dict[str, int] = field(default_factory=dict)
    deflators: list[dict[str, Any]] = field(default_factory=list)
    double_counting: list[dict[str, Any]] = field(default_factory=list)
    overlaps: dict[str, Any] | None = None


def _sql_text(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def _sql_float(value: float) -> str:
    return repr(float(value))


def _resolve_keys(
    library: FactorLibrary,
    keys: pa.Table,
    *,
    year: int,
    gwp_set: str,
    strict: Strictness | None,
    taxonomy: Taxonomy,
    proxies: Mapping[str, Sequence[str]] | None = None,
    price_basis: str = "purchaser",
    gas_volume_reference: str | None = None,
    fallbacks: Sequence[Fallback] = (),
) -> pa.Table:
    """Resolve the distinct keys. Under ``strict``, gas keys (``refrigerant.*``,
    ``process.*``) keep the vintage limit but not the tier limit: the IPCC GWP of a gas is
    global by nature, not a geographic fallback."""
    options: dict[str, Any] = {
        "proxies": proxies or None,
        "price_basis": price_basis,
        "gas_volume_reference": gas_volume_reference,
        "fallbacks": fallbacks,
    }
    if strict is None or keys.num_rows == 0:
        return resolve_many(
            library, keys, year=year, gwp_set=gwp_set, strict=strict, taxonomy=taxonomy,
            **options,
        )  # fmt: skip
    activities = keys.column("activity").to_pylist()
    is_gas = pa.array([a.partition(".")[0] in GAS_FAMILIES for a in activities], pa.bool_())
    gas_strict = Strictness(max_tier="global", max_vintage_gap=strict.max_vintage_gap)
    parts = [
        resolve_many(
            library, keys.filter(is_gas), year=year, gwp_set=gwp_set, strict=gas_strict,
            taxonomy=taxonomy, **options,
        ),
        resolve_many(
            library, keys.filter(pc.invert(is_gas)), year=year, gwp_set=gwp_set,
            strict=strict, taxonomy=taxonomy, **options,
        ),
    ]  # fmt: skip
    return pa.concat_tables(parts)


def _narrow_keys(
    con: duckdb.DuckDBPyConnection, library: FactorLibrary, taxonomy: Taxonomy, keys: pa.Table
) -> pa.Table:
    """The keys to resolve: a row's ``supplier`` (``site``) stays in its key only when a factor
    of its activity is specific to that supplier (site). Any other supplier or site cannot
    change the answer (rule 3 of the resolver: a factor specific to another supplier or site
    never applies), so it is dropped and thousands of suppliers or sites do not multiply the
    keys. Creates the view ``keyed_lines`` (the rows with ``key_supplier`` and ``key_site``)
    that the line items join on.
    """
    activities = sorted({str(a) for a in keys.column("activity").to_pylist()})
    specific: dict[str, dict[str, list[str]]] = {"supplier": {}, "site": {}}
    for activity in activities:
        for f in library.by_activity(taxonomy.get(activity).factor_activity):
            for column in ("supplier", "site"):
                if f[column] is not None:
                    specific[column].setdefault(activity, []).append(str(f[column]))
    tables = {}
    for column, found in specific.items():
        pairs = sorted({(a, v) for a, values in found.items() for v in values})
        tables[column] = pa.table(
            {
                "activity": pa.array([a for a, _ in pairs], pa.string()),
                column: pa.array([v for _, v in pairs], pa.string()),
            }
        )
        con.register(f"specific_{column}", tables[column])
    # No join at all where no factor is supplier- (site-) specific: the usual case.
    select = ["a.*"]
    joins = []
    for column, alias in (("supplier", "ks"), ("site", "kt")):
        if tables[column].num_rows:
            select.append(f"{alias}.{column} AS key_{column}")
            joins.append(
                f"LEFT JOIN specific_{column} {alias} ON {alias}.activity = a.activity "
                f"AND {alias}.{column} = a.{column}"
            )
        else:
            select.append(f"CAST(NULL AS VARCHAR) AS key_{column}")
    con.execute(
        f"CREATE TEMP VIEW keyed_lines AS SELECT {', '.join(select)} FROM keyed a "
        + " ".join(joins)
    )
    con.register("keys_in", keys)
    narrowed: pa.Table = con.sql(
        """
        SELECT k.activity, k.region, k.unit, ks.supplier, kt.site, k.factor,
            sum(k.rows) AS rows
        FROM keys_in k
        LEFT JOIN specific_supplier ks ON ks.activity = k.activity AND ks.supplier = k.supplier
        LEFT JOIN specific_site kt ON kt.activity = k.activity AND kt.site = k.site
        GROUP BY ALL ORDER BY ALL
        """
    ).to_arrow_table()
    con.unregister("keys_in")
    return narrowed.set_column(
        narrowed.schema.get_field_index("rows"), "rows", narrowed.column("rows").cast(pa.int64())
    )


def _describe_key(key: Mapping[str, Any]) -> str:
    extras = [
        f"{name} {key[name]}"
        for name in ("supplier", "site", "factor")
        if key.get(name) is not None
    ]
    text = f"activity {key['activity']}, region {key['region'] or '(none)'}, unit {key['unit']}"
    if extras:
        text += f" ({', '.join(extras)})"
    return text


def _proxy_example(failed: list[dict[str, Any]]) -> tuple[str, str]:
    """A ``--proxy`` option and its toml form for the first failing key's country."""
    country = "CN"
    for key in failed:
        try:
            found = regions.get(str(key["region"])).country if key["region"] else None
        except KeyError:
            found = None
        if found:
            country = found
            break
    other = "US" if country == "GB" else "GB"
    return f"{country}={other}", f'{{ {country} = ["{other}"] }}'


def _fixes(failed: list[dict[str, Any]], all_strict: bool) -> list[str]:
    """What the user can do, as command-line fixes (the Python API takes the same options:
    ``calculate(ws, proxies=..., allow_unresolved=True)``)."""
    first = failed[0]
    option, table = _proxy_example(failed)
    preview = (
        f"esgledger factors resolve WS --activity {first['activity']} "
        f"--region {first['region'] or 'REGION'} --unit '{first['unit']}' --proxy {option}"
    )
    if all_strict:
        return [
            "Fix: accept a coarser tier or an older factor (--strict-tier, --max-vintage-gap), "
            "add factors (esgledger import WS FILE --kind factors; template: esgledger "
            "template factors --out factors.xlsx), or record the rows as excluded lines: esgledger "
            "calculate WS "
            "--allow-unresolved."
        ]
    return [
        "Fix, one of:",
        "  - add factors: esgledger import WS FILE --kind factors (template: esgledger "
        "template factors --out factors.xlsx);",
        f"  - let another region's factors stand in, flagged as tier proxy: esgledger "
        f"calculate WS --proxy {option}, or in esgledger.toml [factors] proxies = {table} "
        f"(preview: {preview});",
        "  - record the rows as excluded lines (never as zero): esgledger calculate WS "
        "--allow-unresolved;",
        "  - or correct the rows (activity, region, unit).",
    ]


def _unresolved_error(failed: list[dict[str, Any]], year: int) -> FactorNotFoundError:
    """One error listing every failing key (at most :data:`_MAX_LISTED_KEYS`), with row
    counts; a StrictFallbackError when every failure is a refusal by ``strict``."""
    rows = sum(int(k["rows"]) for k in failed)
    all_strict = all(k["error_kind"] == "strict" for k in failed)
    what = "were refused by strict" if all_strict else "have no emission factor"
    lines = [
        f"{len(failed)} activity key(s) {what} ({rows} row(s)); nothing was calculated "
        "(no row is ever counted as zero):"
    ]
    for key in failed[:_MAX_LISTED_KEYS]:
        lines.append(f"  - {_describe_key(key)}, {key['rows']} row(s): {key['error']}")
    if len(failed) > _MAX_LISTED_KEYS:
        lines.append(f"  ... and {len(failed) - _MAX_LISTED_KEYS} more key(s)")
    lines.extend(_fixes(failed, all_strict))
    cls = StrictFallbackError if all_strict else FactorNotFoundError
    first = failed[0]
    return cls(
        "\n".join(lines),
        activity=str(first["activity"]),
        region=first["region"],
        year=year,
        tried=tuple(f"{_describe_key(k)}: {k['error']}" for k in failed),
    )


def _money_table(resolved: pa.Table) -> pa.Table:
    """Per distinct (row unit, factor unit) of money keys: the row currency, the row unit in
    that currency [row currency / row unit] and the factor currency in the factor unit."""
    out: dict[str, list[Any]] = {
        "unit": [],
        "factor_unit": [],
        "row_currency": [],
        "row_unit_to_currency": [],
        "currency_to_factor_unit": [],
    }
    seen: set[tuple[str, str]] = set()
    for unit, factor_unit, currency, conv in zip(
        resolved.column("unit").to_pylist(),
        resolved.column("factor_unit").to_pylist(),
        resolved.column("currency").to_pylist(),
        resolved.column("unit_conversion").to_pylist(),
        strict=True,
    ):
        if currency is None or conv is not None or (unit, factor_unit) in seen:
            continue
        seen.add((unit, factor_unit))
        row_currency = currency_of(unit)
        if row_currency is None:  # pragma: no cover - the resolver matched money to money
            raise UnitError(f"unit {unit!r} is not money", unit=unit)
        out["unit"].append(unit)
        out["factor_unit"].append(factor_unit)
        out["row_currency"].append(row_currency)
        out["row_unit_to_currency"].append(conversion_factor(unit, row_currency))
        out["currency_to_factor_unit"].append(conversion_factor(currency, factor_unit))
    return pa.table(
        {
            "unit": pa.array(out["unit"], pa.string()),
            "factor_unit": pa.array(out["factor_unit"], pa.string()),
            "row_currency": pa.array(out["row_currency"], pa.string()),
            "row_unit_to_currency": pa.array(out["row_unit_to_currency"], pa.float64()),
            "currency_to_factor_unit": pa.array(out["currency_to_factor_unit"], pa.float64()),
        }
    )


def _scope_table(taxonomy: Taxonomy, activities: Sequence[str]) -> pa.Table:
    types = [taxonomy.get(a) for a in activities]
    return pa.table(
        {
            "activity": pa.array(list(activities), pa.string()),
            "scope": pa.array([t.scope for t in types], pa.int8()),
            "scope3_category": pa.array([t.scope3_category for t in types], pa.int8()),
        }
    )


_KEYS_SQL = """
CREATE TEMP TABLE {target} AS
WITH r AS (
    SELECT r.*, {line_kind} AS line_kind,
        m.row_currency,
        fto.per_usd / ffrom.per_usd AS fx_rate,
        (r.co2_kg IS NOT NULL OR r.ch4_kg IS NOT NULL OR r.n2o_kg IS NOT NULL) AS has_gas,
        (r.co2e_kg IS NOT NULL AND r.gwp_basis = {gwp_set}) AS published_fits,
        CASE WHEN r.method = 'gwp' THEN split_part(r.factor_id, ':', 3) END AS gwp_gas,
        m.row_unit_to_currency, m.currency_to_factor_unit,
        pcur.country AS price_country, pto.series AS price_series,
        pto.price_index AS price_index_to, pfrom.price_index AS price_index_from,
        CASE WHEN r.error IS NOT NULL OR r.unit_conversion IS NOT NULL OR r.currency IS NULL
                THEN NULL
             WHEN r.price_year = r.year THEN 1.0
             ELSE pto.price_index / pfrom.price_index
        END AS deflator
    FROM {source} r
    LEFT JOIN money m ON m.unit = r.unit AND m.factor_unit = r.factor_unit
    LEFT JOIN fx ffrom ON ffrom.year = r.year AND ffrom.currency = m.row_currency
    LEFT JOIN fx fto ON fto.year = r.year AND fto.currency = r.currency
    LEFT JOIN price_countries pcur ON pcur.currency = r.currency
    LEFT JOIN price_indexes pto ON pto.country = pcur.country AND pto.year = r.price_year
    LEFT JOIN price_indexes pfrom ON pfrom.country = pcur.country AND pfrom.year = r.year
)
SELECT activity, region, unit, supplier, site, factor, year, line_kind,
    factor_id, factor_set, factor_region, tier, vintage_gap, method, source, factor_unit,
    conversion_path, reason, reason_zh, error, error_kind, uncertainty_pct,
    currency, row_currency, fx_rate, price_year, price_country, price_series,
    price_index_to, price_index_from, deflator,
    CASE WHEN price_year IS NOT NULL THEN price_year - year END AS price_year_gap,
    CASE WHEN error IS NOT NULL THEN NULL
         WHEN unit_conversion IS NOT NULL THEN unit_conversion
         ELSE row_unit_to_currency * fx_rate * deflator * currency_to_factor_unit
    END AS to_factor_unit,
    CASE WHEN gwp_gas = 'CO2' THEN 1.0 ELSE co2_kg END AS co2_per_unit,
    CASE WHEN gwp_gas = 'CH4' THEN 1.0 ELSE ch4_kg END AS ch4_per_unit,
    CASE WHEN gwp_gas = 'N2O' THEN 1.0 ELSE n2o_kg END AS n2o_per_unit,
    biogenic_co2_kg AS biogenic_per_unit,
    CASE WHEN published_fits THEN co2e_kg
         WHEN has_gas THEN coalesce(co2_kg, 0.0) + coalesce(ch4_kg, 0.0) * {gwp_ch4}
                           + coalesce(n2o_kg, 0.0) * {gwp_n2o}
         ELSE co2e_kg
    END AS co2e_per_unit,
    CASE WHEN error IS NOT NULL THEN NULL
         WHEN method = 'reported' THEN 'reported'
         WHEN published_fits THEN 'published'
         WHEN has_gas THEN 'gases'
         ELSE 'published'
    END AS co2e_from,
    CASE WHEN error IS NOT NULL THEN NULL
         WHEN method = 'reported' THEN coalesce(gwp_basis <> {gwp_set}, false)
         ELSE NOT published_fits AND NOT has_gas
    END AS gwp_basis_mismatch,
    gwp_basis
FROM r
"""

_LINE_SQL = """
SELECT
    {run_id} AS run_id,
    a.batch_id, a.row_number, a.record_id, {line_kind} AS line_kind, a.entity, a.site,
    a.period_start, a.period_end, a.activity,
    {scope} AS scope,
    {category} AS scope3_category,
    a.quantity, a.unit, a.correction,
    a.key_region AS region, a.region_from, a.supplier,
    k.factor_id, k.factor_set, k.factor_region, k.tier, k.vintage_gap, k.method, k.source,
    k.factor_unit, k.conversion_path, k.fx_rate, k.deflator, k.price_year_gap,
    a.quantity * k.to_factor_unit AS quantity_in_factor_unit,
    a.quantity * k.to_factor_unit * k.co2_per_unit AS co2_kg,
    a.quantity * k.to_factor_unit * k.ch4_per_unit AS ch4_kg,
    a.quantity * k.to_factor_unit * k.n2o_per_unit AS n2o_kg,
    a.quantity * k.to_factor_unit * k.biogenic_per_unit AS biogenic_co2_kg,
    a.quantity * k.to_factor_unit * k.co2e_per_unit AS co2e_kg,
    e.share AS consolidation_share,
    a.quantity * k.to_factor_unit * k.co2e_per_unit * e.share AS co2e_kg_consolidated,
    {gwp_set} AS gwp_set,
    k.co2e_from,
    k.gwp_basis_mismatch,
    k.uncertainty_pct,
    {double_count} AS double_count_suspect,
    {overlap} AS overlap_suspect,
    k.error IS NOT NULL AS excluded,
    coalesce(k.reason, k.error) AS reason,
    coalesce(k.reason_zh, k.error) AS reason_zh,
    a.batch_seq AS _batch_seq,
    {kind_order} AS _kind_order
FROM keyed_lines a
JOIN {keys} k ON k.activity = a.activity
    AND k.region IS NOT DISTINCT FROM a.key_region
    AND k.unit = a.unit
    AND k.supplier IS NOT DISTINCT FROM a.key_supplier
    AND k.site IS NOT DISTINCT FROM a.key_site
    {factor_join}
JOIN scopes t ON t.activity = a.activity
JOIN {shares} e ON e.entity = a.entity
{double_count_join}
{overlap_join}
{where}
"""

#: The line kinds: the activity row's own line, then the scope 3 category 3 lines derived from
#: scope 1 and 2 rows (GHG Protocol Scope 3 Standard, category 3: upstream emissions of
#: purchased fuels and energy ``wtt``, transmission and distribution losses ``td_losses``,
#: and the upstream emissions of those losses ``wtt_td_losses``).
#: The last kind, ``investment``, is the scope 3 category 15 line of a scope 1 or 2 row of an
#: equity investment outside the control boundary (module docstring, step 8).
LINE_KINDS: tuple[str, ...] = ("activity", "wtt", "td_losses", "wtt_td_losses", "investment")
#: The methods resolved for the category 3 lines of scope 1 and 2 rows.
CATEGORY_3_METHODS: tuple[str, ...] = LINE_KINDS[1:4]
#: The canonical order of line items (the file itself is written unordered):
#: ``ORDER BY batch_id, row_number, line_kind_rank(line_kind)`` with the rank of
#: :data:`LINE_KINDS`; :func:`line_order_sql` gives the SQL.
LINE_ORDER: tuple[str, ...] = ("batch_id", "row_number", "line_kind")


def line_order_sql(alias: str = "") -> str:
    """``ORDER BY`` terms of the canonical line order, for SQL over line items."""
    prefix = f"{alias}." if alias else ""
    ranks = " ".join(f"WHEN {_sql_text(kind)} THEN {n}" for n, kind in enumerate(LINE_KINDS))
    return (
        f"{prefix}batch_id, {prefix}row_number, CASE {prefix}line_kind {ranks} ELSE "
        f"{len(LINE_KINDS)} END"
    )


_DOUBLE_COUNT_JOIN = """
LEFT JOIN dc_flags f ON f.activity = a.activity AND f.entity = a.entity
    AND f.supplier IS NOT DISTINCT FROM a.supplier AND f.site IS NOT DISTINCT FROM a.site
    AND f.period_start = a.period_start AND f.period_end = a.period_end"""


_OVERLAP_JOIN = """
LEFT JOIN ov_flags o ON o.batch_id = a.batch_id AND o.row_number = a.row_number"""


def _lines_sql(
    *,
    run_id: str,
    gwp_set: str,
    category_3: bool,
    double_count: bool,
    investments: bool = False,
    overlap: bool = False,
) -> str:
    common = {
        "run_id": _sql_text(run_id),
        "gwp_set": _sql_text(gwp_set),
        "double_count": "f.activity IS NOT NULL" if double_count else "false",
        "double_count_join": _DOUBLE_COUNT_JOIN if double_count else "",
        "overlap": "o.batch_id IS NOT NULL" if overlap else "false",
        "overlap_join": _OVERLAP_JOIN if overlap else "",
    }
    primary = _LINE_SQL.format(
        **common,
        scope="t.scope",
        category="CASE WHEN t.scope = 3 THEN "
        "CAST(coalesce(a.scope3_category, t.scope3_category) AS TINYINT) END",
        keys="k",
        factor_join="AND k.factor IS NOT DISTINCT FROM a.factor",
        where="",
        kind_order="0",
        line_kind="k.line_kind",
        shares="shares",
    )
    parts = [primary]
    # The scope 3 lines derived from resolved scope 1 and 2 rows (category 3, category 15).
    derived = common | {
        "scope": "CAST(3 AS TINYINT)",
        "where": "WHERE t.scope IN (1, 2) AND k.error IS NULL",
    }
    if category_3:
        order = " ".join(f"WHEN {_sql_text(kind)} THEN {n}" for n, kind in enumerate(LINE_KINDS))
        parts.append(
            _LINE_SQL.format(
                **derived,
                category="CAST(3 AS TINYINT)",
                keys="k3",
                factor_join="",
                kind_order=f"CASE k.line_kind {order} END",
                line_kind="k.line_kind",
                shares="shares",
            )
        )
    if investments:
        parts.append(
            _LINE_SQL.format(
                **derived,
                category="CAST(15 AS TINYINT)",
                keys="k",
                factor_join="AND k.factor IS NOT DISTINCT FROM a.factor",
                kind_order=str(LINE_KINDS.index("investment")),
                line_kind="'investment'",
                shares="investments",
            )
        )
    union = "\nUNION ALL\n".join(parts)
    # No ORDER BY: a global sort of the wide line items costs more than the whole plan
    # (measured: 4x the time, 4x the memory at 5 M rows). Line order in the file is not
    # significant; LINE_ORDER is the canonical order readers sort by.
    return f"SELECT * EXCLUDE (_batch_seq, _kind_order) FROM ({union})"


def compute_line_items(
    *,
    activity_files: Sequence[Path],
    entities: Sequence[Mapping[str, Any]],
    sites: Sequence[Mapping[str, Any]],
    shares: Mapping[str, float],
    taxonomy: Taxonomy,
    library: FactorLibrary,
    fx: FxTable,
    year: int,
    gwp_set: str,
    run_id: str,
    out: Path,
    strict: Strictness | None = None,
    allow_unresolved: bool = False,
    category_3: bool = True,
    threads: int | None = None,
    proxies: Mapping[str, Sequence[str]] | None = None,
    price_basis: str = "purchaser",
    category_3_proxies: bool = False,
    gas_volume_reference: str | None = None,
    fallbacks: Sequence[Fallback] = (),
    investments: Mapping[str, float] | None = None,
    progress: Progress | None = None,
) -> PlanResult:
    """Run the plan of the module docstring and write the line items to ``out`` (Parquet).

    A pure function of its inputs (no database access): :func:`calculate` gathers them from
    a workspace.

    Parameters
    ----------
    activity_files
        Lake batches (Parquet, schema :data:`esgledger.ingest.activities.LAKE_SCHEMA`), read
        in this order.
    entities, sites
        Rows as :func:`esgledger.store.repository.load_entities` / ``load_sites`` return them
        (``code``, ``country``; sites also ``region``).
    shares
        Consolidation share of each entity [fraction 0..1].
    taxonomy, library, fx
        Activity types, factors and exchange rates.
    year
        Reporting year: the vintage asked of factors and the year of the exchange rates.
    gwp_set
        AR4, AR5 or AR6.
    run_id
        Written into every line.
    out
        The Parquet file to write.
    strict
        Passed to :func:`~esgledger.factors.resolve.resolve_many` (gas keys: vintage limit
        only).
    allow_unresolved
        Record rows without a factor as excluded lines instead of failing.
    category_3
        Derive scope 3 category 3 lines from scope 1 and 2 rows where factors exist.
    threads
        DuckDB threads (default: DuckDB's own choice).
    proxies
        Proxy regions (rule 9 of ``docs/methodology/factor-resolution.md``), e.g.
        ``{"CN": ("GB", "US")}``; None or empty: no other region's factor is ever used.
    price_basis
        Price basis of the spend (rule 10): ``purchaser`` (default) or ``producer``.
    category_3_proxies
        Let ``proxies`` and ``fallbacks`` price the derived category 3 lines too (default
        False: they apply to the primary activity lines only; rule 9).
    gas_volume_reference
        Reference temperature of a plain ``m3`` of a gas fuel (``0C``, ``15C``, ``20C``;
        rule 11 of the resolver, :mod:`esgledger.fuels`); None: the default 0 °C, recorded
        on each line's ``conversion_path``.
    fallbacks
        The workspace profile's explicit, flagged fallbacks (rule 12,
        :class:`~esgledger.factors.resolve.Fallback`), tried before ``proxies``.
    investments
        Entities outside the control boundary the group holds equity in, with the group's
        equity share [fraction 0..1]: their scope 1 and 2 rows get a scope 3 category 15
        line (module docstring, step 8). None or empty: no such lines.
    progress
        Called with ``("resolving factors", 25)`` and ``("writing line items", 55)`` as the
        plan reaches those steps (:data:`Progress`); whatever it raises stops the plan.

    Raises
    ------
    FactorNotFoundError, StrictFallbackError
        If keys cannot be resolved and ``allow_unresolved`` is false.
    FxRateMissingError
        If a spend row needs an exchange rate the table lacks.
    PriceIndexMissingError
        If a spend factor's price year differs from the reporting year and no price index
        of its currency's country covers both years (:mod:`esgledger.deflators`).
    """
    gwp_set = gwp_set.upper()
    con = connect(threads=threads, ordered=True)
    try:
        files = ", ".join(_sql_text(str(p)) for p in activity_files)
        con.register(
            "batch_files",
            pa.table(
                {
                    "path": pa.array([str(p) for p in activity_files], pa.string()),
                    "batch_seq": pa.array(range(len(activity_files)), pa.int32()),
                }
            ),
        )
        con.execute(
            f"""
            CREATE TEMP VIEW acts AS
            SELECT a.* EXCLUDE (filename), f.batch_seq
            FROM read_parquet([{files}], filename = true, union_by_name = true) a
            JOIN batch_files f ON f.path = a.filename
            """
        )
        site_table = pa.table(
            {
                "code": pa.array([s["code"] for s in sites], pa.string()),
                "region": pa.array([s.get("region") for s in sites], pa.string()),
                "country": pa.array([s.get("country") for s in sites], pa.string()),
            }
        )
        entity_table = pa.table(
            {
                "code": pa.array([e["code"] for e in entities], pa.string()),
                "country": pa.array([e.get("country") for e in entities], pa.string()),
            }
        )
        con.register("site_rows", site_table)
        con.register("entity_rows", entity_table)
        con.execute(
            """
            CREATE TEMP VIEW keyed AS
            SELECT a.*,
                upper(coalesce(a.region, s.region, s.country, e.country)) AS key_region,
                CASE WHEN a.region IS NOT NULL THEN 'row'
                     WHEN s.region IS NOT NULL THEN 'site'
                     WHEN s.country IS NOT NULL THEN 'site country'
                     WHEN e.country IS NOT NULL THEN 'entity country'
                END AS region_from
            FROM acts a
            LEFT JOIN site_rows s ON s.code = a.site
            LEFT JOIN entity_rows e ON e.code = a.entity
            """
        )
        all_keys: pa.Table = con.sql(
            """
            SELECT activity, key_region AS region, unit, supplier, site, factor,
                count(*) AS rows
            FROM keyed GROUP BY ALL
            """
        ).to_arrow_table()
        row_count = int(sum(all_keys.column("rows").to_pylist()))
        con.register("all_keys", all_keys)
        keys = _narrow_keys(con, library, taxonomy, all_keys)

        if progress is not None:
            progress("resolving factors", 25)
        resolved = _resolve_keys(
            library,
            keys.drop_columns(["rows"]),
            year=year,
            gwp_set=gwp_set,
            strict=strict,
            taxonomy=taxonomy,
            proxies=proxies,
            price_basis=price_basis,
            gas_volume_reference=gas_volume_reference,
            fallbacks=fallbacks,
        )
        failed = _failed_keys(con, resolved, keys)
        if failed and not allow_unresolved:
            raise _unresolved_error(failed, year)

        activities = sorted({str(a) for a in keys.column("activity").to_pylist()})
        scopes = _scope_table(taxonomy, activities)
        con.register("scopes", scopes)
        derived = (
            _resolve_category_3(
                library, keys, scopes, year=year, gwp_set=gwp_set, strict=strict,
                taxonomy=taxonomy, proxies=proxies if category_3_proxies else None,
                price_basis=price_basis, gas_volume_reference=gas_volume_reference,
                fallbacks=fallbacks if category_3_proxies else (),
            )
            if category_3
            else None
        )  # fmt: skip

        con.register("resolved", resolved)
        money = [resolved] if derived is None else [resolved, derived.drop_columns(["line_kind"])]
        all_resolved = pa.concat_tables(money)
        con.register("money", _money_table(all_resolved))
        con.register("fx", fx.as_arrow())
        con.register("price_countries", _price_country_table(all_resolved))
        con.register("price_indexes", deflators.as_arrow())
        gwp_values = {
            "gwp_set": _sql_text(gwp_set),
            "gwp_ch4": _sql_float(gwp.gwp("CH4", gwp_set)),
            "gwp_n2o": _sql_float(gwp.gwp("N2O", gwp_set)),
        }
        con.execute(
            _KEYS_SQL.format(target="k", source="resolved", line_kind="'activity'", **gwp_values)
        )
        _check_fx(con, fx, year, "k")
        _check_deflators(con, "k")
        if derived is not None:
            con.register("resolved3", derived)
            con.execute(
                _KEYS_SQL.format(
                    target="k3", source="resolved3", line_kind="r.line_kind", **gwp_values
                )
            )
            _check_fx(con, fx, year, "k3")
            _check_deflators(con, "k3")
        share_table = pa.table(
            {
                "entity": pa.array(list(shares), pa.string()),
                "share": pa.array([float(v) for v in shares.values()], pa.float64()),
            }
        )
        con.register("shares", share_table)
        con.register(
            "investments",
            pa.table(
                {
                    "entity": pa.array(list(investments or {}), pa.string()),
                    "share": pa.array(
                        [float(v) for v in (investments or {}).values()], pa.float64()
                    ),
                }
            ),
        )
        _check_entities(con)
        double_counting = _double_count(con, activities)
        overlaps = _overlaps(con, taxonomy, activities)

        if progress is not None:
            progress("writing line items", 55)
        out.parent.mkdir(parents=True, exist_ok=True)
        select = _lines_sql(
            run_id=run_id,
            gwp_set=gwp_set,
            category_3=derived is not None,
            double_count=double_counting is not None,
            investments=bool(investments),
            overlap=overlaps is not None,
        )
        select = _with_enums(con, select, run_id=run_id, gwp_set=gwp_set, derived=derived)
        con.execute(f"COPY ({select}) TO {_sql_text(str(out))} (FORMAT parquet, COMPRESSION zstd)")
        result = _line_stats(con, out, row_count, keys.num_rows, year, derived=derived is not None)
        result.deflators = _deflators_used(con, derived=derived is not None)
        if double_counting is not None:
            result.double_counting = double_counting
            result.warnings.extend(_double_count_warning(d) for d in double_counting)
        if overlaps is not None:
            result.overlaps = overlaps
            result.warnings.append(overlap_warning(overlaps))
        if derived is not None:
            result.warnings.extend(_category_3_gaps(con))
        if failed:
            rows = sum(int(k["rows"]) for k in failed)
            result.warnings.insert(
                0,
                f"{rows} row(s) of {len(failed)} activity key(s) have no emission factor and "
                "are excluded lines (allow_unresolved): "
                + "; ".join(f"{_describe_key(k)}: {k['error']}" for k in failed[:5])
                + ("; ..." if len(failed) > 5 else ""),
            )
        return result
    finally:
        con.close()


#: Above this many distinct values a text column is written as it is (no ENUM).
_MAX_ENUM_VALUES = 100_000
#: Text columns of a line item that take few distinct values, and where those values come
#: from (a SQL query over the connection's tables, or constants).
_ENUM_SOURCES: dict[str, str] = {
    "activity": "SELECT activity FROM {keys}",
    "unit": "SELECT unit FROM {keys}",
    "region": "SELECT region FROM {keys}",
    "supplier": "SELECT supplier FROM all_keys",
    "site": "SELECT site FROM all_keys",
    "entity": "SELECT entity FROM shares",
    "factor_id": "SELECT factor_id FROM {keys}",
    "factor_set": "SELECT factor_set FROM {keys}",
    "factor_region": "SELECT factor_region FROM {keys}",
    "tier": "SELECT tier FROM {keys}",
    "method": "SELECT method FROM {keys}",
    "source": "SELECT source FROM {keys}",
    "factor_unit": "SELECT factor_unit FROM {keys}",
    "co2e_from": "SELECT co2e_from FROM {keys}",
    "reason": "SELECT coalesce(reason, error) FROM {keys}",
    "reason_zh": "SELECT coalesce(reason_zh, error) FROM {keys}",
}


def _with_enums(
    con: duckdb.DuckDBPyConnection,
    select: str,
    *,
    run_id: str,
    gwp_set: str,
    derived: pa.Table | None,
) -> str:
    """``select`` with its low-cardinality text columns cast to ENUM types.

    The Parquet writer then emits their dictionaries without hashing every value (measured:
    about 40 % less time to write wide line items). The file is unchanged: ENUM columns are
    written as dictionary-encoded strings. Every value a column can take comes from the
    small key tables (or is a constant), so no cast can fail.
    """
    keys = "(SELECT * FROM k UNION ALL BY NAME SELECT * FROM k3)" if derived is not None else "k"
    values: dict[str, list[str]] = {}
    for column, query in _ENUM_SOURCES.items():
        found = con.execute(
            f"SELECT DISTINCT v FROM ({query.format(keys=keys)}) t(v) WHERE v IS NOT NULL "
            "ORDER BY v"
        ).fetchall()
        values[column] = [str(v) for (v,) in found]
    values["run_id"] = [run_id]
    values["gwp_set"] = [gwp_set]
    values["line_kind"] = list(LINE_KINDS)
    values["region_from"] = ["row", "site", "site country", "entity country"]
    casts: dict[str, str] = {}
    for column, members in values.items():
        if not members or len(members) > _MAX_ENUM_VALUES:
            continue
        type_name = f"enum_{column}"
        listed = ", ".join(_sql_text(m) for m in members)
        con.execute(f"CREATE TYPE {type_name} AS ENUM ({listed})")
        casts[column] = f"CAST({column} AS {type_name}) AS {column}"
    columns = ", ".join(casts.get(c, c) for c in LINE_ITEM_COLUMNS)
    return f"SELECT {columns} FROM ({select})"


def _resolve_category_3(
    library: FactorLibrary,
    keys: pa.Table,
    scopes: pa.Table,
    *,
    year: int,
    gwp_set: str,
    strict: Strictness | None,
    taxonomy: Taxonomy,
    proxies: Mapping[str, Sequence[str]] | None = None,
    price_basis: str = "purchaser",
    gas_volume_reference: str | None = None,
    fallbacks: Sequence[Fallback] = (),
) -> pa.Table:
    """Resolve the category 3 methods for the keys of scope 1 and 2 activities (not gases).

    Explicit factors are not part of these keys (an explicit factor names the row's own
    factor, not its upstream one). A key without a factor for a method simply has no line of
    that kind: :func:`_category_3_gaps` reports the rows left without any.
    """
    scope_of = dict(
        zip(scopes.column("activity").to_pylist(), scopes.column("scope").to_pylist(), strict=True)
    )
    activities = keys.column("activity").to_pylist()
    wanted = pa.array(
        [scope_of[a] in (1, 2) and a.partition(".")[0] not in GAS_FAMILIES for a in activities],
        pa.bool_(),
    )
    candidates = (
        keys.filter(wanted)
        .drop_columns(["rows", "factor"])
        .group_by(["activity", "region", "unit", "supplier", "site"], use_threads=False)
        .aggregate([])
    )
    parts = []
    for method in CATEGORY_3_METHODS:
        table = resolve_many(
            library, candidates, year=year, methods=(method,), gwp_set=gwp_set, strict=strict,
            taxonomy=taxonomy, proxies=proxies or None, price_basis=price_basis,
            gas_volume_reference=gas_volume_reference,
            fallbacks=fallbacks,
        )  # fmt: skip
        parts.append(table.append_column("line_kind", pa.array([method] * table.num_rows)))
    return pa.concat_tables(parts)


def _category_3_gaps(con: duckdb.DuckDBPyConnection) -> list[str]:
    """One warning listing the scope 1 and 2 activities (and regions) whose rows got no
    category 3 line at all."""
    rows = con.execute(
        """
        WITH covered AS (
            SELECT DISTINCT activity, region, unit, supplier, site FROM k3 WHERE error IS NULL
        ),
        wanted AS (SELECT DISTINCT activity, region, unit, supplier, site FROM k3)
        SELECT a.activity, a.key_region, count(*) AS n
        FROM keyed_lines a
        JOIN wanted w ON w.activity = a.activity AND w.region IS NOT DISTINCT FROM a.key_region
            AND w.unit = a.unit AND w.supplier IS NOT DISTINCT FROM a.key_supplier
            AND w.site IS NOT DISTINCT FROM a.key_site
        ANTI JOIN covered c ON c.activity = a.activity
            AND c.region IS NOT DISTINCT FROM a.key_region AND c.unit = a.unit
            AND c.supplier IS NOT DISTINCT FROM a.key_supplier
            AND c.site IS NOT DISTINCT FROM a.key_site
        GROUP BY ALL ORDER BY n DESC, 1, 2
        """
    ).fetchall()
    if not rows:
        return []
    total = sum(int(n) for _, _, n in rows)
    listed = ", ".join(f"{activity} in {region} ({n})" for activity, region, n in rows[:8])
    more = f" and {len(rows) - 8} more" if len(rows) > 8 else ""
    return [
        f"scope 3 category 3 is incomplete: {total} scope 1 or 2 row(s) have no well-to-tank "
        f"or T&D-loss factor for their region ({listed}{more}); add factors with method wtt, "
        "td_losses or wtt_td_losses to include them"
    ]


def _failed_keys(
    con: duckdb.DuckDBPyConnection, resolved: pa.Table, keys: pa.Table
) -> list[dict[str, Any]]:
    """The keys the resolver could not resolve, with their row counts, most rows first."""
    con.register("resolved_check", resolved)
    con.register("key_counts", keys)
    rows = con.execute(
        """
        SELECT r.activity, r.region, r.unit, r.supplier, r.site, r.factor, r.error,
            r.error_kind, c.rows
        FROM resolved_check r JOIN key_counts c
          ON c.activity = r.activity AND c.region IS NOT DISTINCT FROM r.region
          AND c.unit = r.unit AND c.supplier IS NOT DISTINCT FROM r.supplier
          AND c.site IS NOT DISTINCT FROM r.site AND c.factor IS NOT DISTINCT FROM r.factor
        WHERE r.error IS NOT NULL
        ORDER BY c.rows DESC, r.activity, r.region, r.unit
        """
    ).fetchall()
    names = (
        "activity", "region", "unit", "supplier", "site", "factor", "error", "error_kind", "rows",
    )  # fmt: skip
    con.unregister("resolved_check")
    con.unregister("key_counts")
    return [dict(zip(names, row, strict=True)) for row in rows]


def _check_fx(con: duckdb.DuckDBPyConnection, fx: FxTable, year: int, table: str) -> None:
    """Raise the exchange-rate table's own error for the first missing rate."""
    missing = con.execute(
        f"""
        SELECT DISTINCT row_currency, currency FROM {table}
        WHERE error IS NULL AND currency IS NOT NULL AND fx_rate IS NULL
        ORDER BY ALL
        """
    ).fetchall()
    for row_currency, currency in missing:
        fx.factor(row_currency, currency, year)  # raises FxRateMissingError
    if missing:  # pragma: no cover - the table above raises first
        row_currency, currency = missing[0]
        raise FxRateMissingError(
            f"No exchange rate from {row_currency} to {currency} in {year}",
            currency=str(currency),
            year=year,
        )


def _check_entities(con: duckdb.DuckDBPyConnection) -> None:
    from esgledger.errors import WorkspaceError

    missing = [
        str(row[0])
        for row in con.execute(
            "SELECT DISTINCT a.entity FROM acts a ANTI JOIN shares s ON s.entity = a.entity "
            "ORDER BY 1"
        ).fetchall()
    ]
    if missing:
        raise WorkspaceError(
            f"activity rows name entities that are not in the group structure: "
            f"{', '.join(missing)}; import them with esgledger import WS --kind entities FILE"
        )


def _line_stats(
    con: duckdb.DuckDBPyConnection, out: Path, rows: int, keys: int, year: int, *, derived: bool
) -> PlanResult:
    """Counts, factor sets used and warnings, from the written line items."""
    path = _sql_text(str(out))
    key_tables = "SELECT factor_id, gwp_basis FROM k" + (
        " UNION ALL SELECT factor_id, gwp_basis FROM k3" if derived else ""
    )
    lines, excluded, category_3, category_15 = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE excluded), "
        f"count(*) FILTER (WHERE line_kind NOT IN ('activity', 'investment')), "
        f"count(*) FILTER (WHERE line_kind = 'investment') FROM read_parquet({path})"
    ).fetchone() or (0, 0, 0, 0)
    result = PlanResult(
        counts={
            "rows": rows,
            "lines": int(lines),
            "category_3_lines": int(category_3),
            "category_15_lines": int(category_15),
            "excluded": int(excluded),
            "keys": keys,
        }
    )
    for factor_set, n in con.execute(
        f"SELECT factor_set, count(*) FROM read_parquet({path}) "
        "WHERE factor_set IS NOT NULL GROUP BY 1 ORDER BY 1"
    ).fetchall():
        result.factor_sets_used[str(factor_set)] = int(n)
    for basis, n in con.execute(
        f"""
        SELECT coalesce(k.gwp_basis, 'an unknown set'), count(*)
        FROM read_parquet({path}) l
        JOIN (SELECT DISTINCT * FROM ({key_tables})) k ON k.factor_id = l.factor_id
        WHERE l.gwp_basis_mismatch GROUP BY 1 ORDER BY 1
        """
    ).fetchall():
        result.warnings.append(
            f"{n} line(s) use factors published only as CO2e under {basis}, not the run's "
            "GWP set: their published CO2e is used as it is (it cannot be re-weighted); see "
            "gwp_basis_mismatch"
        )
    (reported,) = con.execute(
        f"SELECT count(*) FROM read_parquet({path}) WHERE co2e_from = 'reported'"
    ).fetchone() or (0,)
    if reported:
        result.warnings.append(
            f"{reported} line(s) are emissions reported by others (suppliers, lessees, "
            "investees ...), taken in CO2e as reported: the GWP set behind them is the "
            "reporter's, not necessarily the run's"
        )
    for tier, factor_region, n, sets in con.execute(
        f"""
        SELECT tier, factor_region, count(*), string_agg(DISTINCT factor_set, ', ')
        FROM read_parquet({path})
        WHERE tier IN ('default', 'proxy') GROUP BY 1, 2 ORDER BY 1, 2
        """
    ).fetchall():
        what = (
            "the workspace profile's documented default"
            if tier == "default"
            else "a flagged geographic proxy"
        )
        result.warnings.append(
            f"{n} line(s) use {factor_region} factors ({sets}) as {what} (tier {tier}): no "
            "factor of their own area is shipped or imported; explain shows why, and the data-"
            "quality scores rate their geography lower"
        )
    (lifecycle,) = con.execute(
        f"SELECT count(*) FROM read_parquet({path}) WHERE scope = 2 AND method = 'lifecycle'"
    ).fetchone() or (0,)
    if lifecycle:
        result.warnings.append(
            f"{lifecycle} scope 2 line(s) use a life-cycle grid factor (no location-based "
            "factor for their region): it includes upstream emissions, so scope 2 is overstated "
            "for them; add a location-based factor"
        )
    return result


# ---- price years of spend (deflators) -----------------------------------------------------

#: ISO 4217 codes of currencies that belong to no single country (their first two letters are
#: not an ISO 3166 country code): the euro and the ``X..`` codes (supranational units,
#: precious metals, SDR).
_SUPRANATIONAL_CURRENCIES = frozenset({"EUR"})


def price_index_country(currency: str) -> str | None:
    """The country whose price index deflates amounts in ``currency``, or None.

    ISO 4217: the first two letters of a national currency code are the ISO 3166-1 alpha-2
    code of the issuing country (USD → US, CNY → CN, GBP → GB). The euro and the ``X..``
    codes have no single country: None. Whether that country has a shipped index is for
    :mod:`esgledger.deflators` to say (today: US, BLS CPI-U).
    """
    code = currency.strip().upper()
    if len(code) != 3 or not code.isalpha() or code.startswith("X"):
        return None
    if code in _SUPRANATIONAL_CURRENCIES:
        return None
    return code[:2]


def _price_country_table(resolved: pa.Table) -> pa.Table:
    """Currency → country of its price index, for the distinct factor currencies."""
    currencies = sorted({str(c) for c in resolved.column("currency").to_pylist() if c})
    return pa.table(
        {
            "currency": pa.array(currencies, pa.string()),
            "country": pa.array([price_index_country(c) for c in currencies], pa.string()),
        }
    )


def _check_deflators(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Stop the run when a spend factor's price year needs an index that is not shipped."""
    missing = con.execute(
        f"""
        SELECT DISTINCT factor_id, currency, price_country, price_year, year,
            price_index_to IS NULL AS no_to
        FROM {table}
        WHERE error IS NULL AND currency IS NOT NULL AND deflator IS NULL
        ORDER BY ALL
        """
    ).fetchall()
    if not missing:
        return
    factor_id, currency, country, price_year, year, no_to = missing[0]
    missing_year = None if price_year is None else int(price_year if no_to else year)
    more = f" (and {len(missing) - 1} more factor(s))" if len(missing) > 1 else ""
    shipped = ", ".join(sorted(set(deflators.as_arrow().column("country").to_pylist())))
    if price_year is None:
        problem = "it has no price year, so the spend cannot be expressed in its prices"
    elif country is None:
        problem = (
            f"{currency} belongs to no single country, so no price index can express "
            f"{year} {currency} in {price_year} prices"
        )
    else:
        try:
            deflators.price_index(int(price_year if no_to else year), str(country))
            problem = "no price index"  # pragma: no cover - the line above raises
        except PriceIndexMissingError as exc:
            problem = f"{exc}"
    raise PriceIndexMissingError(
        f"spend factor {factor_id}{more} is in {currency} of price year {price_year} and the "
        f"reporting year is {year}: {problem}. esgledger ships price indexes for {shipped}; "
        "use a spend factor of the reporting year's prices or in a currency with an index",
        country=str(country or currency),
        year=missing_year,
    )


def _deflators_used(con: duckdb.DuckDBPyConnection, *, derived: bool) -> list[dict[str, Any]]:
    """The price indexes the run used (money keys whose price year is not the reporting
    year), for the manifest."""
    keys = "SELECT * FROM k" + (" UNION ALL BY NAME SELECT * FROM k3" if derived else "")
    rows = con.execute(
        f"""
        SELECT DISTINCT currency, price_country, price_series, year, price_year,
            price_index_from, price_index_to, deflator
        FROM ({keys})
        WHERE error IS NULL AND deflator IS NOT NULL AND price_year <> year
        ORDER BY ALL
        """
    ).fetchall()
    names = (
        "currency", "country", "series", "reporting_year", "price_year",
        "price_index_reporting_year", "price_index_price_year", "deflator",
    )  # fmt: skip
    return [dict(zip(names, row, strict=True)) for row in rows]


# ---- double counting guard ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DoubleCountRule:
    """Two groups of activities that may count the same spend or activity twice when they
    share a key (``supplier``, ``site`` or just the entity) and overlapping periods.

    Attributes
    ----------
    rule
        Identifier, in the warning and the manifest.
    key
        ``supplier`` or ``site`` (must be set on both rows), or None (the entity alone).
    first, second
        The two groups: activity keys, or prefixes ending in ``.``.
    first_label, second_label
        How the warning names them.
    advice
        What to check.
    """

    rule: str
    key: str | None
    first: tuple[str, ...]
    second: tuple[str, ...]
    first_label: str
    second_label: str
    advice: str

    def side_of(self, activity: str) -> tuple[str, ...]:
        """``("first",)``, ``("second",)``, both or neither."""
        sides = []
        for side, members in (("first", self.first), ("second", self.second)):
            if any(activity == m or (m.endswith(".") and activity.startswith(m)) for m in members):
                sides.append(side)
        return tuple(sides)


_PETROLEUM_FUELS = (
    "stationary.diesel", "stationary.fuel_oil", "stationary.lpg", "stationary.kerosene",
    "mobile.diesel", "mobile.petrol", "mobile.lpg", "mobile.jet_fuel",
)  # fmt: skip

#: The rules of the double counting guard (``docs/methodology/inventory.md``, "Double
#: counting"; GHG Protocol Scope 3 Standard ch. 5 and Technical Guidance: a company should not
#: count the same emissions in two categories or by two methods). The guard flags lines,
#: never drops or changes them.
DOUBLE_COUNT_RULES: tuple[DoubleCountRule, ...] = (
    DoubleCountRule(
        rule="supplier_spend_and_supplier_data",
        key="supplier",
        first=("spend.",),
        second=("supplier.emissions", "purchased_goods."),
        first_label="spend-based",
        second_label="supplier-reported or average-data",
        advice="check that the spend excludes what the supplier or average data covers",
    ),
    DoubleCountRule(
        rule="site_electricity_and_leased_electricity",
        key="site",
        first=("electricity",),
        second=("leased.electricity",),
        first_label="purchased electricity (scope 2)",
        second_label="leased-asset electricity (scope 3 category 8)",
        advice="electricity of a site is scope 2 or category 8, not both",
    ),
    DoubleCountRule(
        rule="petroleum_fuel_and_fuel_spend",
        key=None,
        first=_PETROLEUM_FUELS,
        second=("spend.naics.324110",),
        first_label="petroleum fuel (scope 1)",
        second_label="petroleum-refinery spend (NAICS 324110)",
        advice="fuel burnt in scope 1 belongs in category 3, not in category 1 as spend",
    ),
    DoubleCountRule(
        rule="natural_gas_and_gas_spend",
        key=None,
        first=("stationary.natural_gas", "mobile.cng"),
        second=("spend.naics.221210",),
        first_label="natural gas (scope 1)",
        second_label="natural-gas distribution spend (NAICS 221210)",
        advice="gas burnt in scope 1 belongs in category 3, not in category 1 as spend",
    ),
)
_MAX_EXAMPLES = 5


def _double_count(
    con: duckdb.DuckDBPyConnection, activities: Sequence[str]
) -> list[dict[str, Any]] | None:
    """Create ``dc_flags`` (the distinct row attributes of suspect rows) and describe what
    was found per rule; None when no rule has activities on both sides (nothing to join).

    Rows of the two groups of a rule are suspects when they have the same entity, the same
    key (supplier or site, when the rule has one) and overlapping periods
    (``a.start <= b.end AND b.start <= a.end``). One pass over the rows of the activities
    concerned, grouped by (activity, entity, supplier, site, period); the pairing runs on
    those groups.
    """
    roles: dict[str, list[Any]] = {"activity": [], "rule": [], "side": [], "key": []}
    for rule in DOUBLE_COUNT_RULES:
        sides = {a: rule.side_of(a) for a in activities}
        if not any("first" in s for s in sides.values()) or not any(
            "second" in s for s in sides.values()
        ):
            continue
        for activity, which in sides.items():
            for side in which:
                roles["activity"].append(activity)
                roles["rule"].append(rule.rule)
                roles["side"].append(side)
                roles["key"].append(rule.key)
    if not roles["activity"]:
        return None
    con.register("dc_roles", pa.table(roles, schema=_DC_ROLES_SCHEMA))
    con.execute(
        """
        CREATE TEMP TABLE dc_groups AS
        WITH rows AS (
            SELECT activity, entity, supplier, site, period_start, period_end, count(*) AS n
            FROM acts WHERE activity IN (SELECT activity FROM dc_roles)
            GROUP BY ALL
        )
        SELECT d.*, r.rule, r.side,
            CASE r.key WHEN 'supplier' THEN d.supplier WHEN 'site' THEN d.site ELSE '' END
                AS dc_key
        FROM rows d JOIN dc_roles r ON r.activity = d.activity
        WHERE (r.key IS DISTINCT FROM 'supplier' OR d.supplier IS NOT NULL)
          AND (r.key IS DISTINCT FROM 'site' OR d.site IS NOT NULL)
        """
    )
    # Pair on (rule, entity, key, period) groups, not on every (activity, supplier, site)
    # group: far fewer pairs; the flags go back to the row groups by an equi-join.
    con.execute(
        """
        CREATE TEMP TABLE dc_periods AS
        SELECT rule, side, entity, dc_key, period_start, period_end, sum(n) AS n
        FROM dc_groups GROUP BY ALL
        """
    )
    con.execute(
        """
        CREATE TEMP TABLE dc_hits AS
        SELECT DISTINCT g.*
        FROM dc_periods g JOIN dc_periods o ON o.rule = g.rule AND o.side <> g.side
            AND o.entity = g.entity AND o.dc_key = g.dc_key
            AND o.period_start <= g.period_end AND g.period_start <= o.period_end
        """
    )
    con.execute(
        """
        CREATE TEMP TABLE dc_flags AS
        SELECT DISTINCT g.activity, g.entity, g.supplier, g.site, g.period_start, g.period_end
        FROM dc_groups g SEMI JOIN dc_hits h ON h.rule = g.rule AND h.side = g.side
            AND h.entity = g.entity AND h.dc_key = g.dc_key
            AND h.period_start = g.period_start AND h.period_end = g.period_end
        """
    )
    found: list[dict[str, Any]] = []
    for rule in DOUBLE_COUNT_RULES:
        counts = dict(
            con.execute(
                "SELECT side, sum(n) FROM dc_hits WHERE rule = ? GROUP BY 1", [rule.rule]
            ).fetchall()
        )
        if not counts:
            continue
        examples = [
            {"entity": entity, "key": key or None, "period_start": str(start),
             "period_end": str(end)}
            for entity, key, start, end in con.execute(
                "SELECT DISTINCT entity, dc_key, period_start, period_end FROM dc_hits "
                "WHERE rule = ? ORDER BY ALL LIMIT ?",
                [rule.rule, _MAX_EXAMPLES + 1],
            ).fetchall()
        ]  # fmt: skip
        found.append(
            {
                "rule": rule.rule,
                "key": rule.key,
                "first": rule.first_label,
                "second": rule.second_label,
                "first_rows": int(counts.get("first", 0)),
                "second_rows": int(counts.get("second", 0)),
                "examples": examples[:_MAX_EXAMPLES],
                "more_examples": len(examples) > _MAX_EXAMPLES,
                "advice": rule.advice,
            }
        )
    return found


def _overlaps(
    con: duckdb.DuckDBPyConnection, taxonomy: Taxonomy, activities: Sequence[str]
) -> dict[str, Any] | None:
    """Create ``ov_flags`` (batch id and row number of every scope 1 and 2 row, not a
    correction, that overlaps another row of its entity, site, activity, supplier and meter:
    :func:`esgledger.overlaps.overlap_sql`, the rule the import applies) and describe them;
    None when no row overlaps (then nothing is joined)."""
    checked = sorted(a for a in activities if taxonomy.get(a).scope in OVERLAP_SCOPES)
    if not checked:
        return None
    names = {str(r[0]) for r in con.execute("DESCRIBE acts").fetchall()}
    meter = "meter" if "meter" in names else "CAST(NULL AS VARCHAR) AS meter"
    columns = ", ".join(meter if c == "meter" else c for c in DUPLICATE_COLUMNS)
    wanted = ", ".join(_sql_text(a) for a in checked)
    source = (
        f"(SELECT {columns}, {{'batch_id': batch_id, 'row_number': row_number}} AS ref, "
        "batch_seq, row_number AS _row, batch_id, row_number "
        f"FROM acts WHERE activity IN ({wanted}) AND correction IS NOT TRUE)"
    )
    con.execute(f"CREATE TEMP VIEW ov_rows AS SELECT * FROM {source}")
    con.execute(f"CREATE TEMP TABLE ov_hot AS {hot_months_sql('ov_rows')}")
    found = con.execute("SELECT count(*) FROM ov_hot").fetchone()
    if not found or not found[0]:
        return None
    candidates = f"({candidates_sql('ov_rows', 'ov_hot')})"
    con.execute(
        "CREATE TEMP TABLE ov_flags AS SELECT batch_id, row_number, entity, site, activity, "
        "meter, period_start, period_end FROM "
        f"({overlap_sql(candidates, order=('batch_seq', '_row'))}) WHERE overlapping"
    )
    found = con.execute("SELECT count(*) FROM ov_flags").fetchone()
    rows = int(found[0]) if found else 0
    if not rows:
        return None
    examples = [
        {"entity": e, "site": s, "activity": a, "meter": m, "period_start": str(start),
         "period_end": str(end)}
        for e, s, a, m, start, end in con.execute(
            "SELECT DISTINCT entity, site, activity, meter, period_start, period_end "
            "FROM ov_flags ORDER BY ALL LIMIT ?",
            [_MAX_EXAMPLES + 1],
        ).fetchall()
    ]  # fmt: skip
    return {
        "rows": rows,
        "examples": examples[:_MAX_EXAMPLES],
        "more_examples": len(examples) > _MAX_EXAMPLES,
        "rule": "same entity, site, activity, supplier and meter; periods share a day",
    }


_DC_ROLES_SCHEMA = pa.schema(
    [
        ("activity", pa.string()),
        ("rule", pa.string()),
        ("side", pa.string()),
        ("key", pa.string()),
    ]
)


def _double_count_warning(found: Mapping[str, Any]) -> str:
    """One sentence for the run's warnings."""
    shared = {"supplier": "supplier, entity", "site": "site, entity", None: "entity"}[found["key"]]
    examples = "; ".join(
        (f"{found['key']} {e['key']} of " if e["key"] else "")
        + f"{e['entity']}, {e['period_start']}..{e['period_end']}"
        for e in found["examples"]
    ) + ("; ..." if found["more_examples"] else "")
    return (
        f"double counting suspected ({found['rule']}): {found['first_rows']} "
        f"{found['first']} row(s) and {found['second_rows']} {found['second']} row(s) share "
        f"{shared} and overlapping periods ({examples}); both are kept as they are: "
        f"{found['advice']}; see double_count_suspect"
    )


def input_digest(payload: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of ``payload`` (sorted keys, no blanks)."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def calculate(
    workspace: Workspace,
    *,
    gwp_set: str = gwp.DEFAULT_GWP_SET,
    consolidation: str = "operational_control",
    strict: Strictness | str | None = None,
    allow_unresolved: bool = False,
    category_3: bool = True,
    threads: int | None = None,
    proxies: Mapping[str, Sequence[str] | str] | None = None,
    price_basis: str = "purchaser",
    category_3_proxies: bool | None = None,
    gas_volume_reference: str | None = None,
    fallbacks: Sequence[Fallback | Mapping[str, Any]] | None = None,
    include: Sequence[str] = (),
    principal: Principal | None = None,
    progress: Progress | None = None,
) -> Run:
    """Calculate the workspace's inventory: line items in the lake, a manifest, a run row.

    Parameters
    ----------
    workspace
        The open workspace.
    gwp_set
        IPCC GWP-100 set: AR4, AR5 or AR6 (default AR6).
    consolidation
        ``equity_share``, ``operational_control`` (default) or ``financial_control``
        (GHG Protocol Corporate Standard ch. 3); the short names ``equity``, ``operational``
        and ``financial`` are accepted too.
    strict
        Refuse factors beyond a tier (a tier name such as ``"country"``) or a
        :class:`~esgledger.factors.resolve.Strictness`; gas keys keep only the vintage limit.
    allow_unresolved
        Record rows without a factor as excluded lines (with the reason) instead of failing.
    category_3
        Derive scope 3 category 3 lines (well-to-tank, T&D losses) from scope 1 and 2 rows
        where factors exist (default).
    threads
        DuckDB threads (default: DuckDB's choice).
    proxies
        Proxy regions (rule 9 of ``docs/methodology/factor-resolution.md``), e.g.
        ``{"CN": ["GB", "US"], "*": ["GB"]}``. None (default): the workspace's
        ``[factors] proxies`` (:attr:`~esgledger.store.Workspace.factor_proxies`); ``{}``:
        no proxies even if the workspace configures some. Recorded in the manifest options.
    price_basis
        ``purchaser`` (default: spend is what the company paid) or ``producer``: which
        spend factors rank first where a source publishes both (rule 10; USEEIO's "with" and
        "without margins" factors). Recorded in the manifest options.
    category_3_proxies
        Let the proxy regions price the derived category 3 lines (well-to-tank, T&D losses)
        too. None (default): the workspace's ``[factors] category_3_proxies``
        (:attr:`~esgledger.store.Workspace.category_3_proxies`, default false: proxies
        price primary lines only). Recorded in the manifest options.
    gas_volume_reference
        Reference temperature of a plain ``m3`` of a gas fuel (``0C``, ``15C``, ``20C``).
        None (default): the workspace's ``[units] gas_volume_reference``
        (:attr:`~esgledger.store.Workspace.gas_volume_reference`), else 0 °C. Recorded in
        the manifest options.
    fallbacks
        The profile's explicit, flagged fallbacks (rule 12): None (default) the workspace's
        ``[[factors.fallbacks]]`` (:attr:`~esgledger.store.Workspace.factor_fallbacks`,
        written by ``esgledger init --country``); ``()`` none. Recorded in the manifest
        options.
    include
        Batch statuses to include besides ``approved``: ``("submitted",)`` makes a preview
        run (``"preview": true`` in the manifest; never a year's inventory for targets).
    principal
        Who calculates, named in the audit event ``run.calculate`` (None:
        :meth:`Principal.local`).
    progress
        Called with a stage and a percentage as the calculation moves on: ``reading``,
        ``resolving factors``, ``writing line items``, ``summary``, ``registering``. It may
        raise to stop the calculation there (a job's cancellation): nothing is registered and
        the run's temporary folder is removed, as for any failure before the end.

    Returns
    -------
    Run
        The registered run (:mod:`esgledger.inventory.runs`).

    Raises
    ------
    WorkspaceError
        If the workspace has no activity data.
    FactorNotFoundError, StrictFallbackError, FxRateMissingError
        As :func:`compute_line_items`; nothing is written.
    InputError
        If the GWP set, consolidation approach, proxies or price basis are not valid, or the
        group structure cannot be consolidated.
    PriceIndexMissingError
        As :func:`compute_line_items`; nothing is written.
    """
    from esgledger.inventory.runs import prepare_run

    if progress is not None:
        progress("reading", 5)
    prepared = prepare_run(
        workspace,
        gwp_set=gwp_set,
        consolidation=CONSOLIDATION_ALIASES.get(consolidation, consolidation),
        strict=Strictness(max_tier=strict) if isinstance(strict, str) else strict,
        allow_unresolved=allow_unresolved,
        category_3=category_3,
        proxies=proxies,
        price_basis=price_basis,
        category_3_proxies=category_3_proxies,
        gas_volume_reference=gas_volume_reference,
        fallbacks=fallbacks,
        include=include,
    )
    return prepared.execute(threads=threads, principal=principal, progress=progress)
