"""Market-based scope 2 of an inventory run, and the renewable share of its electricity.

基于市场的范围二排放（按运行计算）与可再生电力比例。

Built on :mod:`esgledger.renewables` as ``docs/methodology/green-power.md`` §7 describes
(GHG Protocol *Scope 2 Guidance* (2015), ch. 6 and Table 6.3; Table 7.1 quality criteria):

1. **Consumption.** The run's purchased-electricity line items (scope 2, activity
   ``electricity``, not excluded, consolidation share above 0) are summed per site, entity
   and period in MWh (``quantity × conversion_factor(unit, "MWh")``, one pint conversion per
   distinct unit) → :func:`~esgledger.renewables.allocation.consumption_from_table`. A line
   without a site is kept under the pseudo-site ``(no site: <entity>)``: only entity and
   group instruments can cover it.
2. **Instruments.** The register is assessed for the run's reporting year
   (:func:`~esgledger.renewables.quality.assess`) and the valid instruments are allocated
   (:func:`~esgledger.renewables.allocation.allocate`, site → entity → group pools). MWh
   allocated to periods of *other* years (``instrument_allocations``) are not available again.
3. **Remainder factors**, per site, with :func:`esgledger.factors.resolve.resolve` over the
   site's region chain and unit MWh: ``methods=("supplier",)`` (with the site's supplier) and
   ``("residual_mix",)``, never through proxy regions (a residual mix of another country is
   not a residual mix). The factor value [kg CO2e / MWh] is weighted as the engine weights
   it: the published ``co2e_kg`` when it is under the run's GWP set, else ``co2_kg + ch4_kg
   × GWP(CH4) + n2o_kg × GWP(N2O)`` under the run's set, times the resolver's unit
   conversion (MWh → factor unit). The **grid average** (Table 6.3, last step; §6.11) is not
   resolved a second time: it is the factor of the run's own location-based lines of each
   site-period (their ``co2e_kg`` / MWh, named by their factor ids), so it follows exactly
   the precedence (user sets over shipped ones), tiers, explicit factor ids, proxies and GWP
   weighting of location-based, and without instruments and residual mix market-based
   equals location-based.
4. :func:`esgledger.renewables.allocation.market_based` prices each site-period; a
   remainder priced at the grid average carries
   :data:`~esgledger.renewables.allocation.GRID_AVERAGE_FLAG`. The lines (units in the
   column names, plus ``consolidation_share`` and ``co2e_kg_consolidated``) are written to
   ``lake/runs/<run_id>/market_based.parquet``.
5. **Other scope 2.** Purchased heat, steam and cooling have no contractual instruments in the
   register: their market-based figure is their location-based figure (Scope 2 Guidance
   Table 6.3, last row), added to ``scope2_market`` so that the two scope 2 totals cover the
   same energy.

Amounts are consolidated like the location-based inventory (× the entity's consolidation
share of the run) and reported in tonnes; RE % (:func:`~esgledger.renewables.allocation.
re_share`, RE100-valid instruments and on-site generation) is a fraction 0-1.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from esgledger.errors import EsgledgerError
from esgledger.inventory._duckdb import connect
from esgledger.renewables.allocation import (
    GRID_AVERAGE_FLAG,
    AllocationResult,
    Consumption,
    FactorChoice,
    MarketBasedLine,
    RemainderFactors,
    allocate,
    consumption_from_table,
    lines_table,
    re_share,
)
from esgledger.renewables.allocation import (
    market_based as _market_based_lines,
)
from esgledger.renewables.quality import Assessment, assess

if TYPE_CHECKING:
    from esgledger.factors.library import FactorLibrary
    from esgledger.inventory.runs import Run
    from esgledger.store import Workspace
    from esgledger.taxonomy import Taxonomy

__all__ = [
    "MARKET_FILE",
    "MarketResult",
    "StoredMarket",
    "add_market_to_summary",
    "load_market",
    "market_based",
    "market_manifest",
]

#: File of the market-based lines inside the run folder.
MARKET_FILE = "market_based.parquet"
#: The activity key of purchased electricity.
_ELECTRICITY = "electricity"
_KG_PER_T = 1000.0
#: The by-site key of lines without a site in :func:`esgledger.inventory.runs.aggregate`.
_SUMMARY_NO_SITE = "(no site)"


@dataclass(frozen=True, slots=True)
class MarketResult:
    """Market-based scope 2 of one run.

    Attributes
    ----------
    run_id, year
        The run and its reporting year.
    lines
        One :class:`~esgledger.renewables.allocation.MarketBasedLine` per site-period
        (electricity only, gross: not yet × the consolidation share).
    allocation
        What :func:`~esgledger.renewables.allocation.allocate` did (allocations, surplus,
        excluded instruments with their reasons, valid on-site generation).
    assessments
        The verdict on every instrument of the register for the year.
    remainder_factors
        Site → the supplier, residual-mix and grid-average factors resolved for it.
    consolidation_shares
        Entity → consolidation share of the run [fraction].
    electricity_t
        [t CO2e, consolidated] market-based scope 2 of purchased electricity.
    other_scope2_t
        [t CO2e, consolidated] the other scope 2 (heat, steam, cooling) at its
        location-based value.
    by_site, by_entity
        Code → ``{"scope2_market": t, "other_scope2": t, "electricity_mwh": MWh,
        "covered_mwh": MWh, "re_share": fraction or None}`` (``other_scope2``: the heat,
        steam and cooling part of ``scope2_market``) (entity figures: the entity's own sites, as the
        location-based ``by_entity``; ``re_share`` of an entity includes its descendants).
    re_share_group
        [fraction 0-1] RE % of the group's electricity (RE100-valid instruments).
    flags
        Site → data-quality flag of its remainder (grid average without a residual mix).
    path
        The Parquet file written (``lake/runs/<run_id>/market_based.parquet``).
    warnings
        One sentence each.
    consumption
        The purchased electricity per site-period the instruments were allocated to (inside
        the run's consolidation boundary: entities with a share above 0).
    parents
        Entity → parent entity (for RE % per entity).
    """

    run_id: str
    year: int
    lines: tuple[MarketBasedLine, ...]
    allocation: AllocationResult
    assessments: tuple[Assessment, ...]
    remainder_factors: Mapping[str, RemainderFactors]
    consolidation_shares: Mapping[str, float]
    electricity_t: float
    other_scope2_t: float
    by_site: Mapping[str, dict[str, Any]]
    by_entity: Mapping[str, dict[str, Any]]
    re_share_group: float | None
    flags: Mapping[str, str]
    path: Path
    warnings: tuple[str, ...] = field(default_factory=tuple)
    consumption: tuple[Consumption, ...] = field(default_factory=tuple)
    parents: Mapping[str, str | None] = field(default_factory=dict)

    @property
    def scope2_market_t(self) -> float:
        """[t CO2e, consolidated] market-based scope 2 of the group."""
        return self.electricity_t + self.other_scope2_t


def _sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _no_site(entity: str) -> str:
    return f"(no site: {entity})"


def _factor_kg_per_mwh(factor: Mapping[str, Any], conversion: float, gwp_set: str) -> float:
    """[kg CO2e / MWh] of a resolved factor, weighted as the engine weights it (module
    docstring of :mod:`esgledger.inventory.engine`, step 5): the published ``co2e_kg`` when
    it is under the run's GWP set (or no gas masses are given), else ``CO2 + CH4 × GWP(CH4) +
    N2O × GWP(N2O)``; per factor unit × factor units per MWh."""
    from esgledger import gwp

    published = factor.get("co2e_kg")
    gases = [
        (factor.get("co2_kg"), 1.0),
        (factor.get("ch4_kg"), None),
        (factor.get("n2o_kg"), None),
    ]
    has_gases = any(v is not None for v, _ in gases)
    basis = str(factor.get("gwp_basis") or "").upper()
    if published is not None and (basis == gwp_set.upper() or not has_gases):
        return float(published) * conversion
    if not has_gases:
        raise ValueError(f"factor {factor.get('factor_id')} has no CO2e and no gas masses")
    value = float(factor.get("co2_kg") or 0.0)
    value += float(factor.get("ch4_kg") or 0.0) * gwp.gwp("CH4", gwp_set)
    value += float(factor.get("n2o_kg") or 0.0) * gwp.gwp("N2O", gwp_set)
    return value * conversion


@dataclass(slots=True)
class _Location:
    """The location-based lines of one site-period: [MWh], [kg CO2e] (gross) and the ids,
    sets, tiers and sources of the factors they use."""

    mwh: float = 0.0
    kg: float = 0.0
    ids: set[str] = field(default_factory=set)
    sets: set[str] = field(default_factory=set)
    tiers: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)

    def add(
        self,
        mwh: float,
        kg: float,
        *,
        ids: str | None,
        sets: str | None,
        tiers: str | None,
        sources: str | None,
    ) -> None:
        self.mwh += mwh
        self.kg += kg
        for target, text, sep in (
            (self.ids, ids, ","),
            (self.sets, sets, ","),
            (self.tiers, tiers, ","),
            (self.sources, sources, "; "),
        ):
            if text:
                target.update(part for part in str(text).split(sep) if part)

    def choice(self) -> FactorChoice:
        """The grid-average factor of these lines: their kg / MWh [kg CO2e / MWh], named by
        their factor ids (``a+b`` when the lines use more than one)."""
        return FactorChoice(
            self.kg / self.mwh,
            "+".join(sorted(self.ids)),
            "; ".join(sorted(self.sources)),
            reason=_grid_reason(self),
        )


def _grid_reason(where: _Location) -> str:
    sets = ", ".join(sorted(where.sets)) or "?"
    tiers = ", ".join(sorted(where.tiers)) or "?"
    return (
        f"the factor location-based uses for this electricity ({'+'.join(sorted(where.ids))}; "
        f"set {sets}; tier {tiers}), resolved once by the engine: the grid average, last step "
        "of the market-based hierarchy where no supplier-specific factor or residual mix is "
        "available (GHG Protocol Scope 2 Guidance (2015) §6.11, Table 6.3)"
    )


def _site_grid_average(parts: list[_Location]) -> FactorChoice | None:
    """The site's grid average over all its site-periods (kg / MWh of its location-based
    lines), or None when the site has no MWh."""
    total = _Location()
    for part in parts:
        total.mwh += part.mwh
        total.kg += part.kg
        total.ids |= part.ids
        total.sets |= part.sets
        total.tiers |= part.tiers
        total.sources |= part.sources
    return total.choice() if total.mwh > 0 else None


def _choice(
    library: FactorLibrary,
    taxonomy: Taxonomy,
    *,
    region: str,
    year: int,
    methods: tuple[str, ...],
    gwp_set: str,
    supplier: str | None = None,
    site: str | None = None,
) -> FactorChoice | None:
    """The factor of one method for a site's electricity, or None when none qualifies."""
    from esgledger.factors.resolve import resolve
    from esgledger.regions import chain

    try:
        resolution = resolve(
            library,
            activity_type=taxonomy.get(_ELECTRICITY),
            region_chain=chain(region),
            year=year,
            unit="MWh",
            supplier=supplier,
            site=site,
            methods=methods,
            gwp_set=gwp_set,
        )
    except (EsgledgerError, KeyError):
        return None
    factor = resolution.factor
    if methods == ("supplier",) and resolution.tier != "supplier":
        return None
    conversion = resolution.unit_conversion if resolution.unit_conversion is not None else 1.0
    return FactorChoice(
        _factor_kg_per_mwh(factor, conversion, gwp_set),
        str(factor["factor_id"]),
        str(factor.get("source") or ""),
    )


def _electricity(con: duckdb.DuckDBPyConnection, lines: Path) -> list[tuple[Any, ...]]:
    return con.execute(
        f"""
        SELECT entity, site, region, period_start, period_end, unit,
               any_value(consolidation_share) AS share,
               sum(quantity) AS quantity,
               sum(co2e_kg) AS co2e_kg,
               string_agg(DISTINCT factor_id, ',' ORDER BY factor_id) AS factor_ids,
               min(nullif(supplier, '')) AS supplier,
               count(*) AS n,
               string_agg(DISTINCT factor_set, ',' ORDER BY factor_set) AS factor_sets,
               string_agg(DISTINCT tier, ',' ORDER BY tier) AS tiers,
               string_agg(DISTINCT source, '; ' ORDER BY source) AS sources
        FROM read_parquet({_sql_path(lines)})
        WHERE scope = 2 AND activity = '{_ELECTRICITY}' AND line_kind = 'activity'
          AND NOT excluded AND consolidation_share > 0
        GROUP BY ALL
        ORDER BY ALL
        """
    ).fetchall()


def market_based(workspace: Workspace, run: Run, *, write: bool = True) -> MarketResult:
    """Market-based scope 2 and the RE % of a run (module docstring, steps 1-5).

    Parameters
    ----------
    workspace
        The open workspace of the run (instruments, sites, entities, factor library).
    run
        The inventory run (:func:`esgledger.inventory.engine.calculate`).
    write
        Write ``lake/runs/<run_id>/market_based.parquet`` (default). Every run already
        stores its market-based result (:func:`esgledger.inventory.runs.PreparedRun.
        execute`); pass False to look at the details (allocations, verdicts) of a run
        without touching its files.

    Returns
    -------
    MarketResult
        Written to ``lake/runs/<run_id>/market_based.parquet`` when ``write`` (replaced:
        the same run and register give the same file). Nothing is stored in the
        database: allocations are saved by ``esgledger green re --save``.

    Raises
    ------
    FactorNotFoundError
        If a site's uncovered remainder has no factor at all (no supplier-specific factor,
        residual mix or grid average).
    """
    from esgledger.factors.library import FactorLibrary
    from esgledger.regions import all_regions
    from esgledger.renewables.instruments import Instrument
    from esgledger.store.repository import load_entities, load_sites
    from esgledger.store.repository_renewables import load_allocations, load_instruments
    from esgledger.taxonomy import Taxonomy
    from esgledger.units import conversion_factor

    year = int(run.manifest.get("reporting_year") or workspace.reporting_year)
    gwp_set = str(run.manifest.get("gwp_set") or "AR6")
    with workspace.session() as session:
        entities = load_entities(session)
        sites = {str(s["code"]): s for s in load_sites(session)}
        instruments = [Instrument.from_record(r) for r in load_instruments(session)]
        earlier = load_allocations(session)
    parents: dict[str, str | None] = {str(e["code"]): e["parent"] for e in entities}
    entity_country = {str(e["code"]): str(e["country"]) for e in entities}
    warnings: list[str] = []

    con = connect()
    try:
        rows = _electricity(con, run.line_items_path)
        other = con.execute(
            f"""
            SELECT entity, coalesce(site, '') AS site,
                   sum(co2e_kg_consolidated) AS kg
            FROM read_parquet({_sql_path(run.line_items_path)})
            WHERE scope = 2 AND activity <> '{_ELECTRICITY}' AND NOT excluded
            GROUP BY ALL ORDER BY ALL
            """
        ).fetchall()
        excluded_n = con.execute(
            f"SELECT count(*) FROM read_parquet({_sql_path(run.line_items_path)}) "
            f"WHERE scope = 2 AND activity = '{_ELECTRICITY}' AND excluded"
        ).fetchone()
    finally:
        con.close()
    if excluded_n and excluded_n[0]:
        warnings.append(
            f"{excluded_n[0]} purchased-electricity lines were excluded from the run (no "
            "location-based factor) and are not in market-based scope 2 either"
        )

    regions = all_regions()
    to_mwh: dict[str, float] = {}
    shares: dict[str, float] = {}
    consumption_rows: dict[tuple[str, str, Any], dict[str, Any]] = {}
    # The location-based lines of each site-period: kg, MWh and the factors they use (the
    # grid average of the market-based remainder, step 3 of the module docstring).
    location: dict[tuple[str, str, Any], _Location] = {}
    suppliers: dict[str, str] = {}
    for (
        entity, site, region, start, end, unit, share, qty, co2e, ids, supplier, _n,
        factor_sets, tiers, sources,
    ) in rows:  # fmt: skip
        if unit not in to_mwh:
            to_mwh[unit] = conversion_factor(str(unit), "MWh")
        mwh = float(qty) * to_mwh[unit]
        code = str(site) if site else _no_site(str(entity))
        shares[str(entity)] = float(share)
        known = sites.get(str(site)) if site else None
        country = (
            str(known["country"])
            if known
            else (regions[region].country if region in regions else None)
            or entity_country.get(str(entity), "")
        )
        key = (code, str(entity), start)
        entry = consumption_rows.setdefault(
            key,
            {
                "site": code,
                "entity": str(entity),
                "country": country,
                "region": str(region or country),
                "period_start": start,
                "period_end": end,
                "quantity_mwh": 0.0,
            },
        )
        entry["quantity_mwh"] += mwh
        entry["period_end"] = max(entry["period_end"], end)
        location.setdefault(key, _Location()).add(
            mwh, float(co2e or 0.0), ids=ids, sets=factor_sets, tiers=tiers, sources=sources
        )
        if supplier and code not in suppliers:
            suppliers[code] = str(supplier)

    table = pa.Table.from_pylist(
        list(consumption_rows.values()),
        schema=pa.schema(
            [
                ("site", pa.string()),
                ("entity", pa.string()),
                ("country", pa.string()),
                ("region", pa.string()),
                ("period_start", pa.date32()),
                ("period_end", pa.date32()),
                ("quantity_mwh", pa.float64()),
            ]
        ),
    )
    consumption: list[Consumption] = consumption_from_table(table)

    claimants = set(parents) | set(sites)
    countries = {code: str(s["country"]) for code, s in sites.items()}
    assessments = assess(
        instruments, reporting_year=year, claimants=claimants, site_countries=countries
    )
    used_elsewhere: dict[str, float] = defaultdict(float)
    for a in earlier:
        if a["period_start"].year != year:
            used_elsewhere[str(a["instrument"])] += float(a["mwh"])
    allocation = allocate(
        consumption, assessments, parents=parents, already_allocated_mwh=used_elsewhere
    )

    library = FactorLibrary.for_workspace(workspace)
    taxonomy = Taxonomy.for_workspace(workspace)
    factors: dict[str, RemainderFactors] = {}
    for code in sorted({c.site for c in consumption}):
        first = next(c for c in consumption if c.site == code)
        region = first.region
        real_site = code if code in sites else None
        supplier_choice = None
        if code in suppliers:
            supplier_choice = _choice(
                library,
                taxonomy,
                region=region,
                year=year,
                methods=("supplier",),
                gwp_set=gwp_set,
                supplier=suppliers[code],
                site=real_site,
            )
        residual = _choice(
            library,
            taxonomy,
            region=region,
            year=year,
            methods=("residual_mix",),
            gwp_set=gwp_set,
            site=real_site,
        )
        # Table 6.3, last step: the grid average is the factor the site's location-based
        # lines use, resolved once by the engine (same precedence, proxies, explicit
        # factors and GWP weighting), never a second resolution that could pick another.
        by_period = {
            c.period_start: location[c.site, c.entity, c.period_start].choice()
            for c in consumption
            if c.site == code and location[c.site, c.entity, c.period_start].mwh > 0
        }
        grid = _site_grid_average(
            [location[c.site, c.entity, c.period_start] for c in consumption if c.site == code]
        )
        factors[code] = RemainderFactors(supplier_choice, residual, grid, by_period)

    lines = _market_based_lines(consumption, allocation.allocations, factors, year=year)
    if consumption and not instruments:
        warnings.append(
            "no contractual instruments are registered: market-based scope 2 prices all "
            "purchased electricity with supplier-specific factors, else the residual mix, else "
            "the grid average (flagged); it is computed, not copied from location-based"
        )

    share_of = {c.site: shares.get(c.entity, 1.0) for c in consumption}
    flags = {line.site: str(line.data_quality_flag) for line in lines if line.data_quality_flag}
    if flags:
        warnings.append(
            f"{len(flags)} sites priced their remainder at the grid average: no residual mix "
            f"({', '.join(sorted(flags))}); disclose it ({GRID_AVERAGE_FLAG})"
        )
    out_table = lines_table(lines)
    line_shares = [share_of[line.site] for line in lines]
    out_table = out_table.append_column(
        "consolidation_share", pa.array(line_shares, pa.float64())
    ).append_column(
        "co2e_kg_consolidated",
        pa.array([line.co2e_kg * s for line, s in zip(lines, line_shares, strict=True)]),
    )
    path = run.folder / MARKET_FILE
    if write:
        pq.write_table(out_table, path, compression="zstd")

    by_site: dict[str, dict[str, Any]] = {}
    by_entity: dict[str, dict[str, Any]] = {}

    def blank() -> dict[str, Any]:
        return {
            "scope2_market_kg": [],
            "other_scope2_kg": [],
            "electricity_mwh": 0.0,
            "covered_mwh": 0.0,
        }

    for line, s in zip(lines, line_shares, strict=True):
        for target, code in ((by_site, line.site), (by_entity, line.entity)):
            entry = target.setdefault(code, blank())
            entry["scope2_market_kg"].append(line.co2e_kg * s)
            entry["electricity_mwh"] += line.consumption_mwh
            entry["covered_mwh"] += line.covered_mwh
    other_kg: list[float] = []
    for entity, site, kg in other:
        value = float(kg or 0.0)
        other_kg.append(value)
        code = site or _no_site(str(entity))
        for target, where in ((by_site, code), (by_entity, str(entity))):
            entry = target.setdefault(where, blank())
            entry["scope2_market_kg"].append(value)
            entry["other_scope2_kg"].append(value)

    site_re = {s.code: s.re_share for s in re_share(consumption, allocation, year=year)}
    entity_re = {
        s.code: s.re_share
        for s in re_share(consumption, allocation, level="entity", parents=parents, year=year)
    }
    group = re_share(consumption, allocation, level="group", year=year)
    for target, shares_of in ((by_site, site_re), (by_entity, entity_re)):
        for code, entry in target.items():
            entry["scope2_market"] = math.fsum(entry.pop("scope2_market_kg")) / _KG_PER_T
            entry["other_scope2"] = math.fsum(entry.pop("other_scope2_kg")) / _KG_PER_T
            entry["re_share"] = shares_of.get(code)
    electricity_t = math.fsum(line.co2e_kg * s for line, s in zip(lines, line_shares, strict=True))
    return MarketResult(
        run_id=run.run_id,
        year=year,
        lines=tuple(lines),
        allocation=allocation,
        assessments=tuple(assessments),
        remainder_factors=factors,
        consolidation_shares=shares,
        electricity_t=electricity_t / _KG_PER_T,
        other_scope2_t=math.fsum(other_kg) / _KG_PER_T,
        by_site=dict(sorted(by_site.items())),
        by_entity=dict(sorted(by_entity.items())),
        re_share_group=group[0].re_share if group else None,
        flags=flags,
        path=path,
        warnings=tuple(warnings),
        consumption=tuple(consumption),
        parents=parents,
    )


@dataclass(frozen=True, slots=True)
class StoredMarket:
    """The market-based figures of a run as stored with it (:func:`load_market`): what
    :func:`add_market_to_summary` needs, read back without recomputing anything.

    Attributes
    ----------
    run_id
        The run.
    electricity_t, other_scope2_t
        [t CO2e, consolidated] as :class:`MarketResult`.
    by_site, by_entity
        Code → ``{"scope2_market": t, "re_share": fraction or None}``.
    re_share_group
        [fraction 0-1] RE % of the group's electricity.
    """

    run_id: str
    electricity_t: float
    other_scope2_t: float
    by_site: Mapping[str, dict[str, Any]]
    by_entity: Mapping[str, dict[str, Any]]
    re_share_group: float | None

    @property
    def scope2_market_t(self) -> float:
        """[t CO2e, consolidated] market-based scope 2 of the group."""
        return self.electricity_t + self.other_scope2_t


def _sha256_file(path: Path) -> str:
    import hashlib

    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _digest(payload: Any) -> str:
    import hashlib
    import json

    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def market_manifest(result: MarketResult) -> dict[str, Any]:
    """The ``market_based`` section of a run manifest: the file and its sha256, the digests
    of the instrument register and of the allocations, the instruments' verdicts, the
    consolidated totals [t CO2e], the other scope 2 and the RE shares per site and entity
    (what :func:`load_market` reads back with the Parquet file), every allocation with its
    instrument's type and verdict (for :func:`esgledger.inventory.explain.explain`), flags
    and warnings."""
    register = sorted(
        (
            {
                "instrument": a.instrument.instrument,
                "type": a.instrument.type,
                "registry_id": a.instrument.registry_id,
                "mwh": a.instrument.mwh,
                "period_start": a.instrument.period_start,
                "period_end": a.instrument.period_end,
                "retired_for": a.instrument.retired_for,
            }
            for a in result.assessments
        ),
        key=lambda r: str(r["instrument"]),
    )
    other_site: dict[str, float] = {}
    other_entity: dict[str, float] = {}
    for code, entry in result.by_site.items():
        other_site[code] = float(entry.get("other_scope2", 0.0))
    for code, entry in result.by_entity.items():
        other_entity[code] = float(entry.get("other_scope2", 0.0))
    verdicts = {a.instrument.instrument: a for a in result.assessments}
    allocations = []
    for a in result.allocation.allocations:
        verdict = verdicts.get(a.instrument)
        allocations.append(
            {
                "instrument": a.instrument,
                "type": a.type,
                "site": a.site,
                "entity": a.entity,
                "period_start": a.period_start.isoformat(),
                "period_end": a.period_end.isoformat(),
                "mwh": a.mwh,
                "pool": a.pool,
                "co2e_kg_per_mwh": a.co2e_kg_per_mwh,
                "renewable": a.renewable,
                "re100": a.re100,
                "reasons": "" if verdict is None else verdict.reasons("en"),
                "reasons_zh": "" if verdict is None else verdict.reasons("zh"),
            }
        )
    return {
        "file": MARKET_FILE,
        "sha256": _sha256_file(result.path),
        "instruments_sha256": _digest(register),
        "instruments": len(register),
        "allocations_sha256": _digest(result.allocation.records()),
        # Every allocation of the run with its instrument's verdict (for ``explain``): all
        # passed the Scope 2 Quality Criteria; ``re100`` says whether it also counts toward
        # the RE100 share, ``reasons`` why not.
        "allocations": allocations,
        "excluded_instruments": dict(sorted(result.allocation.excluded.items())),
        "surplus_mwh": {k: v for k, v in sorted(result.allocation.surplus_mwh.items()) if v},
        "electricity_t": result.electricity_t,
        "other_scope2_t": result.other_scope2_t,
        "other_scope2_by_site": {k: v for k, v in other_site.items() if v},
        "other_scope2_by_entity": {k: v for k, v in other_entity.items() if v},
        "renewable_share": {
            "group": result.re_share_group,
            "by_site": {
                k: v["re_share"] for k, v in result.by_site.items() if v["re_share"] is not None
            },
            "by_entity": {
                k: v["re_share"] for k, v in result.by_entity.items() if v["re_share"] is not None
            },
        },
        "flags": dict(sorted(result.flags.items())),
        "warnings": list(result.warnings),
    }


def load_market(run: Run) -> StoredMarket | None:
    """The market-based figures stored with ``run``: the site and entity sums of
    ``market_based.parquet`` (consolidated CO2e) plus the other scope 2 and the RE shares
    of the manifest's ``market_based`` section. None for a run without them (runs of
    esgledger before market-based scope 2 was part of every run).

    Raises
    ------
    WorkspaceError
        If the manifest names the file but it is missing or its sha256 differs.
    """
    from esgledger.errors import WorkspaceError

    section = run.manifest.get("market_based")
    if not section:
        return None
    path = run.folder / str(section.get("file") or MARKET_FILE)
    if not path.is_file():
        raise WorkspaceError(f"run {run.run_id}: {path} is missing from the lake")
    if _sha256_file(path) != section.get("sha256"):
        raise WorkspaceError(
            f"run {run.run_id}: {path.name} differs from the sha256 of the run manifest"
        )
    con = connect()
    try:
        rows = con.execute(
            f"SELECT site, entity, sum(co2e_kg_consolidated) FROM read_parquet({_sql_path(path)})"
            " GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()
    shares = section.get("renewable_share", {})
    site_kg: dict[str, list[float]] = defaultdict(list)
    entity_kg: dict[str, list[float]] = defaultdict(list)
    for site, entity, kg in rows:
        site_kg[str(site)].append(float(kg or 0.0))
        entity_kg[str(entity)].append(float(kg or 0.0))
    electricity = math.fsum(v for values in site_kg.values() for v in values) / _KG_PER_T

    def section_of(
        kg: Mapping[str, list[float]], other: Mapping[str, float], re: Mapping[str, float]
    ) -> dict[str, dict[str, Any]]:
        out = {}
        for code in sorted(set(kg) | set(other)):
            t = math.fsum(kg.get(code, [])) / _KG_PER_T + float(other.get(code, 0.0))
            out[code] = {"scope2_market": t, "re_share": re.get(code)}
        return out

    return StoredMarket(
        run_id=run.run_id,
        electricity_t=electricity,
        other_scope2_t=float(section.get("other_scope2_t", 0.0)),
        by_site=section_of(
            site_kg, section.get("other_scope2_by_site", {}), shares.get("by_site", {})
        ),
        by_entity=section_of(
            entity_kg, section.get("other_scope2_by_entity", {}), shares.get("by_entity", {})
        ),
        re_share_group=shares.get("group"),
    )


def add_market_to_summary(
    summary: Mapping[str, Any], result: MarketResult | StoredMarket
) -> dict[str, Any]:
    """The inventory summary (:func:`esgledger.inventory.runs.summary`) with market-based
    scope 2 and the renewable share added.

    Adds ``totals.scope2_market``, ``by_site[*].scope2_market``,
    ``by_entity[*].scope2_market`` [t CO2e, consolidated] and ``renewable_share``
    (``group``, ``by_site``, ``by_entity`` [fractions 0-1], ``basis``). Sites and entities
    without purchased electricity or other scope 2 get 0. The input is not changed.
    """
    out = dict(summary)
    totals = dict(out.get("totals", {}))
    totals["scope2_market"] = result.scope2_market_t
    out["totals"] = totals
    # Lines without a site are one "(no site)" entry in the summary, as in runs.aggregate.
    sites: dict[str, float] = defaultdict(float)
    for code, entry in result.by_site.items():
        sites[_SUMMARY_NO_SITE if code.startswith("(no site") else code] += float(
            entry["scope2_market"]
        )
    entities = {code: float(entry["scope2_market"]) for code, entry in result.by_entity.items()}
    for key, values in (("by_site", sites), ("by_entity", entities)):
        section = {code: dict(entry) for code, entry in dict(out.get(key, {})).items()}
        for code in set(section) | set(values):
            section.setdefault(code, {})["scope2_market"] = values.get(code, 0.0)
        out[key] = dict(sorted(section.items()))
    out["renewable_share"] = {
        "basis": (
            "annual matching: (on-site renewable consumed + allocated RE100-valid instruments) "
            "/ (purchased + on-site renewable electricity)"
        ),
        "group": result.re_share_group,
        "by_site": {
            k: v["re_share"] for k, v in result.by_site.items() if v["re_share"] is not None
        },
        "by_entity": {
            k: v["re_share"] for k, v in result.by_entity.items() if v["re_share"] is not None
        },
    }
    return out
