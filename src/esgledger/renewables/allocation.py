"""Allocation of instruments to consumption, market-based scope 2 and the renewable share.

工具分配、基于市场的范围二排放与可再生电力比例（年度匹配）。

Pure functions, built so that the inventory engine can call them with what it has resolved:

1. :func:`allocate` assigns the MWh of instruments that passed the Scope 2 Quality Criteria
   (:func:`esgledger.renewables.quality.assess`) to purchased electricity per site and
   period. Passes follow :attr:`AllocationRule.order` (default: instruments retired for the
   site, then for the site's entity, then for any ancestor entity up to the group — the
   group pool), each pass in the market-based hierarchy of GHG Protocol Scope 2 Guidance
   (2015) Table 6.3 (certificates, then contracts, then supplier products), and only within
   the same market (Table 7.1, criterion 5). An instrument is never allocated beyond its
   volume; what is left is reported as surplus and not carried over (domain-modules.md
   §2.4, §2.7 feature 2.3). On-site generation is not allocated: consumed on-site renewable
   electricity is not purchased electricity and has no scope 2 (§2.1); it enters the RE %.
2. :func:`market_based` prices each site-period: allocated MWh × the instrument's rate, then
   the uncovered remainder × the first factor available of supplier-specific, residual mix,
   grid average (Table 6.3 rows 3-5). The factors are inputs (:class:`RemainderFactors`), so
   the engine passes the ones it resolved (``methods=("supplier",)``,
   ``("residual_mix",)``) and, as the grid average, the factor of each site-period's
   location-based lines (:attr:`RemainderFactors.grid_average_by_period`); for China the
   residual mix is the MEE/NBS
   national factor excluding market-traded non-fossil electricity (``cn-mee`` method
   ``residual_mix``). Falling back to the grid average sets ``data_quality_flag`` to
   :data:`GRID_AVERAGE_FLAG` — the Scope 2 Guidance requires disclosing that no residual mix
   was available — or raises with ``strict=True``.
3. :func:`re_share` gives RE % by site, entity or group (annual matching, §2.4):
   ``min(1, (on-site renewable consumed + allocated renewable MWh) / (purchased + on-site
   consumed))``; :func:`re_progress` the progress toward a 100 % target year.

Formulas (Scope 2 Guidance ch. 6; standards-and-data.md §1.6)::

    E_MB = Σ_i MWh_i × EF_i + (MWh_total − Σ_i MWh_i) × EF_remainder

Units: energy in MWh, factors in kg CO2e per MWh (a CO2-only factor, such as China's, gives
kg CO2), emissions in kg (``co2e_kg``) per row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa

from esgledger.errors import FactorNotFoundError
from esgledger.renewables.instruments import Instrument, technologies
from esgledger.renewables.quality import Assessment, QualityRules, check_allocation

__all__ = [
    "GRID_AVERAGE_FLAG",
    "LINES_SCHEMA",
    "POOLS",
    "Allocation",
    "AllocationResult",
    "AllocationRule",
    "Consumption",
    "FactorChoice",
    "MarketBasedLine",
    "ReProgress",
    "ReShare",
    "RemainderFactors",
    "allocate",
    "consumption_from_table",
    "lines_table",
    "market_based",
    "re_progress",
    "re_share",
]

#: The allocation pools, most specific first.
POOLS: tuple[str, ...] = ("site", "entity", "group")
#: Data-quality flag of a remainder priced at the grid average (no residual mix available).
GRID_AVERAGE_FLAG = "grid_average_no_residual_mix"
#: [MWh] volumes below this are rounding, not allocation.
_EPS_MWH = 1e-9


@dataclass(frozen=True, slots=True)
class Consumption:
    """Purchased electricity of one site in one period.

    Attributes
    ----------
    site, entity
        Site code and the code of the entity it belongs to.
    country, region
        Where the site is (ISO 3166-1 alpha-2; region code).
    period_start, period_end
        The period, inclusive.
    mwh
        [MWh] purchased electricity (grid and contracted supply; not the on-site generation
        consumed at the site).
    """

    site: str
    entity: str
    country: str
    region: str
    period_start: date
    period_end: date
    mwh: float


@dataclass(frozen=True, slots=True)
class AllocationRule:
    """How instruments are matched to consumption.

    Parameters
    ----------
    order
        The pools in the order they are tried, a subsequence of :data:`POOLS`: ``site``
        (instruments retired for the site), ``entity`` (retired for the site's own entity),
        ``group`` (retired for an ancestor entity, up to the group's root). Leave a pool out
        to forbid it: ``("site",)`` allows no pooling at all.
    quality
        Market boundaries of the same-market check.
    """

    order: tuple[str, ...] = POOLS
    quality: QualityRules = field(default_factory=QualityRules)

    def __post_init__(self) -> None:
        unknown = [p for p in self.order if p not in POOLS]
        if unknown or len(set(self.order)) != len(self.order):
            raise ValueError(
                f"allocation order must list distinct pools of {', '.join(POOLS)} "
                f"(value: {self.order!r})"
            )


@dataclass(frozen=True, slots=True)
class Allocation:
    """MWh of one instrument allocated to one site-period.

    ``pool`` is the pool it came from; ``co2e_kg_per_mwh`` the rate the instrument conveys;
    ``renewable`` / ``re100`` whether it counts toward RE % / the RE100 share.
    """

    instrument: str
    type: str
    site: str
    entity: str
    period_start: date
    period_end: date
    mwh: float
    pool: str
    co2e_kg_per_mwh: float
    renewable: bool
    re100: bool


@dataclass(frozen=True, slots=True)
class AllocationResult:
    """What :func:`allocate` did.

    Attributes
    ----------
    allocations
        One per instrument × site-period, in allocation order.
    surplus_mwh
        [MWh] instrument id → volume left unallocated (not carried over).
    excluded
        Instrument id → reason (English) for instruments that failed a scope 2 criterion
        or are on-site generation (which is not allocated).
    onsite
        The on-site instruments that passed (for :func:`re_share`).
    """

    allocations: tuple[Allocation, ...]
    surplus_mwh: Mapping[str, float]
    excluded: Mapping[str, str]
    onsite: tuple[Assessment, ...]

    def records(self) -> list[dict[str, object]]:
        """The allocations as dicts for ``store.repository_renewables.save_allocations``
        (keys ``instrument``, ``site``, ``entity``, ``period_start``, ``period_end``,
        ``mwh``, ``rule``)."""
        return [
            {
                "instrument": a.instrument,
                "site": a.site,
                "entity": a.entity,
                "period_start": a.period_start,
                "period_end": a.period_end,
                "mwh": a.mwh,
                "rule": a.pool,
            }
            for a in self.allocations
        ]


def _ancestors(entity: str, parents: Mapping[str, str | None]) -> list[str]:
    """The entities above ``entity``, nearest first (a set guards against a cycle: time
    linear in the depth, which the entity import limits to ``boundary.MAX_DEPTH``)."""
    out: list[str] = []
    seen = {entity}
    current = parents.get(entity)
    while current is not None and current not in seen:
        out.append(current)
        seen.add(current)
        current = parents.get(current)
    return out


def _pool_of(claimant: str | None, c: Consumption, parents: Mapping[str, str | None]) -> str | None:
    if claimant is None:
        return None
    if claimant == c.site:
        return "site"
    if claimant == c.entity:
        return "entity"
    if claimant in _ancestors(c.entity, parents):
        return "group"
    return None


def allocate(
    consumption: Sequence[Consumption],
    assessments: Iterable[Assessment],
    *,
    parents: Mapping[str, str | None],
    rule: AllocationRule | None = None,
    already_allocated_mwh: Mapping[str, float] | None = None,
) -> AllocationResult:
    """Allocate valid instruments to purchased electricity (annual matching).

    Parameters
    ----------
    consumption
        Purchased electricity per site and period [MWh] of the reporting year.
    assessments
        The register assessed for that year (:func:`~esgledger.renewables.quality.assess`);
        instruments failing a ``scope2`` criterion are excluded.
    parents
        Entity code → parent entity code (None for the group's root): the group pool.
    rule
        Pools and their order; market boundaries.
    already_allocated_mwh
        [MWh] instrument id → volume allocated elsewhere (other years, other runs): only the
        rest can be allocated.

    Returns
    -------
    AllocationResult

    Notes
    -----
    Deterministic: within a pool, site-periods are served in (site, period_start) order and
    instruments in (hierarchy, period_start, instrument) order — certificates before
    contracts before supplier products (Scope 2 Guidance Table 6.3), older vintages first so
    that they are used before they age out.
    """
    r = rule or AllocationRule()
    done = already_allocated_mwh or {}
    excluded: dict[str, str] = {}
    onsite: list[Assessment] = []
    usable: list[Instrument] = []
    re100_ok: dict[str, bool] = {}
    for assessment in assessments:
        instrument = assessment.instrument
        if not assessment.valid_scope2:
            excluded[instrument.instrument] = assessment.reasons()
            continue
        if instrument.kind == "onsite":
            onsite.append(assessment)
            excluded[instrument.instrument] = (
                "on-site generation is consumed at the site, not allocated to purchased electricity"
            )
            continue
        usable.append(instrument)
        re100_ok[instrument.instrument] = assessment.valid_re100
    usable.sort(key=lambda i: (i.hierarchy, i.period_start, i.instrument))
    left = {i.instrument: max(0.0, i.mwh - done.get(i.instrument, 0.0)) for i in usable}
    rows = sorted(consumption, key=lambda c: (c.site, c.period_start))
    need = {id(c): c.mwh for c in rows}
    allocations: list[Allocation] = []
    for pool in r.order:
        for c in rows:
            for instrument in usable:
                if need[id(c)] <= _EPS_MWH:
                    break
                if left[instrument.instrument] <= _EPS_MWH:
                    continue
                if _pool_of(instrument.retired_for, c, parents) != pool:
                    continue
                if check_allocation(instrument, consumption_country=c.country, rules=r.quality):
                    continue
                mwh = min(need[id(c)], left[instrument.instrument])
                need[id(c)] -= mwh
                left[instrument.instrument] -= mwh
                tech = technologies()[instrument.technology]
                allocations.append(
                    Allocation(
                        instrument=instrument.instrument,
                        type=instrument.type,
                        site=c.site,
                        entity=c.entity,
                        period_start=c.period_start,
                        period_end=c.period_end,
                        mwh=mwh,
                        pool=pool,
                        co2e_kg_per_mwh=instrument.emission_rate_kg_per_mwh,
                        renewable=tech.renewable,
                        re100=tech.renewable and re100_ok[instrument.instrument],
                    )
                )
    surplus = {k: (v if v > _EPS_MWH else 0.0) for k, v in left.items()}
    return AllocationResult(tuple(allocations), surplus, excluded, tuple(onsite))


@dataclass(frozen=True, slots=True)
class FactorChoice:
    """A resolved emission factor for the remainder.

    ``co2e_kg_per_mwh`` [kg CO2e / MWh]; ``factor_id`` and ``source`` say where it came
    from, ``reason`` why it applies (kept on the result, no silent fallback).
    """

    co2e_kg_per_mwh: float
    factor_id: str
    source: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RemainderFactors:
    """The factors available for a site's uncovered remainder, best first (Scope 2
    Guidance Table 6.3 rows 3-5): supplier-specific, residual mix, grid average.

    ``grid_average_by_period`` (period start → factor) gives the grid average of single
    site-periods where it differs from the site's ``grid_average``: the inventory engine
    passes the factor each site-period's location-based lines use, so that without
    instruments and residual mix market-based equals location-based period by period.
    """

    supplier: FactorChoice | None = None
    residual_mix: FactorChoice | None = None
    grid_average: FactorChoice | None = None
    grid_average_by_period: Mapping[date, FactorChoice] = field(default_factory=dict)

    def grid_average_for(self, period_start: date) -> FactorChoice | None:
        """The grid average of the site-period starting on ``period_start``."""
        return self.grid_average_by_period.get(period_start, self.grid_average)


@dataclass(frozen=True, slots=True)
class MarketBasedLine:
    """Market-based scope 2 of one site-period.

    Attributes
    ----------
    site, entity, period_start, period_end
        The consumption.
    consumption_mwh
        [MWh] purchased electricity.
    covered_mwh
        [MWh] covered by allocated instruments.
    covered_co2e_kg
        [kg] Σ allocated MWh × instrument rate.
    instruments
        Ids of the instruments behind ``covered_mwh`` (for ``explain``).
    remainder_mwh
        [MWh] ``consumption_mwh - covered_mwh``.
    remainder_method
        ``supplier``, ``residual_mix`` or ``grid_average`` (None when nothing remains).
    remainder_factor_id
        The factor used for the remainder.
    remainder_co2e_kg_per_mwh
        [kg CO2e / MWh] its value.
    co2e_kg
        [kg] market-based emissions of the site-period.
    data_quality_flag
        :data:`GRID_AVERAGE_FLAG` when the remainder was priced at the grid average.
    """

    site: str
    entity: str
    period_start: date
    period_end: date
    consumption_mwh: float
    covered_mwh: float
    covered_co2e_kg: float
    instruments: tuple[str, ...]
    remainder_mwh: float
    remainder_method: str | None
    remainder_factor_id: str | None
    remainder_co2e_kg_per_mwh: float | None
    co2e_kg: float
    data_quality_flag: str | None


def market_based(
    consumption: Sequence[Consumption],
    allocations: Iterable[Allocation],
    factors: Mapping[str, RemainderFactors],
    *,
    year: int | None = None,
    strict: bool = False,
) -> list[MarketBasedLine]:
    """Market-based scope 2 per site-period (GHG Protocol Scope 2 Guidance ch. 6,
    Table 6.3).

    Parameters
    ----------
    consumption
        Purchased electricity per site-period [MWh].
    allocations
        From :func:`allocate`.
    factors
        Site code → the remainder factors the engine resolved for it.
    year
        Reporting year, for the error message.
    strict
        Refuse the grid-average fallback (raise) instead of flagging it.

    Raises
    ------
    FactorNotFoundError
        If a remainder has no factor at all, or only the grid average with ``strict``.

    Examples
    --------
    >>> from datetime import date
    >>> c = Consumption("DC", "E", "CN", "CN-CQ", date(2024, 1, 1), date(2024, 12, 31), 100.0)
    >>> f = {"DC": RemainderFactors(residual_mix=FactorChoice(600.0, "rm"))}
    >>> market_based([c], [], f)[0].co2e_kg
    60000.0
    """
    by_row: dict[tuple[str, date], list[Allocation]] = defaultdict(list)
    for a in allocations:
        by_row[a.site, a.period_start].append(a)
    out: list[MarketBasedLine] = []
    for c in consumption:
        allocated = by_row.get((c.site, c.period_start), [])
        covered = sum(a.mwh for a in allocated)
        covered_kg = sum(a.mwh * a.co2e_kg_per_mwh for a in allocated)
        remainder = max(0.0, c.mwh - covered)
        method: str | None = None
        choice: FactorChoice | None = None
        flag: str | None = None
        if remainder > _EPS_MWH:
            available = factors.get(c.site, RemainderFactors())
            for name in ("supplier", "residual_mix", "grid_average"):
                candidate: FactorChoice | None = (
                    available.grid_average_for(c.period_start)
                    if name == "grid_average"
                    else getattr(available, name)
                )
                if candidate is not None:
                    method, choice = name, candidate
                    break
            tried = ["supplier-specific: none", "residual mix: none", "grid average: none"]
            if choice is None:
                raise FactorNotFoundError(
                    f"no factor for the {remainder:g} MWh of site {c.site} not covered by "
                    "instruments: give a supplier-specific, residual-mix or grid-average factor",
                    activity="electricity",
                    region=c.region,
                    year=year,
                    tried=tried,
                )
            if method == "grid_average":
                if strict:
                    raise FactorNotFoundError(
                        f"site {c.site}: no supplier-specific or residual-mix factor for the "
                        f"{remainder:g} MWh not covered by instruments, and strict refuses the "
                        "grid average",
                        activity="electricity",
                        region=c.region,
                        year=year,
                        tried=tried[:2],
                    )
                flag = GRID_AVERAGE_FLAG
        else:
            remainder = 0.0
        rate = None if choice is None else choice.co2e_kg_per_mwh
        out.append(
            MarketBasedLine(
                site=c.site,
                entity=c.entity,
                period_start=c.period_start,
                period_end=c.period_end,
                consumption_mwh=c.mwh,
                covered_mwh=covered,
                covered_co2e_kg=covered_kg,
                instruments=tuple(a.instrument for a in allocated),
                remainder_mwh=remainder,
                remainder_method=method,
                remainder_factor_id=None if choice is None else choice.factor_id,
                remainder_co2e_kg_per_mwh=rate,
                co2e_kg=covered_kg + (0.0 if rate is None else remainder * rate),
                data_quality_flag=flag,
            )
        )
    return out


def consumption_from_table(table: pa.Table) -> list[Consumption]:
    """Consumption rows from an Arrow table with the columns ``site``, ``entity``,
    ``country``, ``region``, ``period_start``, ``period_end`` (dates) and ``quantity_mwh``
    [MWh] — e.g. the engine's purchased-electricity line items summed per site and period.

    Raises
    ------
    KeyError
        If a column is missing.
    """
    columns = ("site", "entity", "country", "region", "period_start", "period_end")
    missing = [c for c in (*columns, "quantity_mwh") if c not in table.column_names]
    if missing:
        raise KeyError(f"the consumption table lacks the columns {', '.join(missing)}")
    return [
        Consumption(
            site=r["site"],
            entity=r["entity"],
            country=r["country"],
            region=r["region"] or r["country"],
            period_start=r["period_start"],
            period_end=r["period_end"],
            mwh=float(r["quantity_mwh"]),
        )
        for r in table.select([*columns, "quantity_mwh"]).to_pylist()
    ]


#: Arrow schema of :func:`lines_table` (units in the column names).
LINES_SCHEMA = pa.schema(
    [
        ("site", pa.string()),
        ("entity", pa.string()),
        ("period_start", pa.date32()),
        ("period_end", pa.date32()),
        ("consumption_mwh", pa.float64()),
        ("covered_mwh", pa.float64()),
        ("covered_co2e_kg", pa.float64()),
        ("instruments", pa.list_(pa.string())),
        ("remainder_mwh", pa.float64()),
        ("remainder_method", pa.string()),
        ("remainder_factor_id", pa.string()),
        ("remainder_co2e_kg_per_mwh", pa.float64()),
        ("co2e_kg", pa.float64()),
        ("data_quality_flag", pa.string()),
    ]
)


def lines_table(lines: Sequence[MarketBasedLine]) -> pa.Table:
    """The lines of :func:`market_based` as an Arrow table (:data:`LINES_SCHEMA`)."""
    rows = [{name: getattr(line, name) for name in LINES_SCHEMA.names} for line in lines]
    for row in rows:
        row["instruments"] = list(row["instruments"])
    return pa.Table.from_pylist(rows, schema=LINES_SCHEMA)


@dataclass(frozen=True, slots=True)
class ReShare:
    """Renewable share of electricity of one site, entity or the group (annual matching).

    ``total_mwh`` = purchased + on-site renewable consumed; ``renewable_mwh`` = on-site
    renewable consumed + allocated renewable MWh; ``re_share`` = min(1, renewable / total)
    [fraction, 0-1] (domain-modules.md §2.4).
    """

    level: str
    code: str
    total_mwh: float
    purchased_mwh: float
    onsite_mwh: float
    allocated_renewable_mwh: float
    renewable_mwh: float
    re_share: float


def re_share(
    consumption: Sequence[Consumption],
    result: AllocationResult,
    *,
    level: str = "site",
    parents: Mapping[str, str | None] | None = None,
    re100: bool = True,
    year: int | None = None,
) -> list[ReShare]:
    """RE % per site, entity or group (domain-modules.md §2.4, RE100 technical criteria).

    Parameters
    ----------
    consumption
        Purchased electricity per site-period [MWh].
    result
        From :func:`allocate` (allocations and valid on-site generation).
    level
        ``site``, ``entity`` (a site counts toward its entity and every ancestor entity) or
        ``group`` (one row, code ``"GROUP"``).
    parents
        Entity → parent, for ``entity``.
    re100
        Count only instruments passing the RE100 criteria (else every renewable one).
    year
        Count on-site generation of this year only (its period overlapping the year).

    Notes
    -----
    On-site generation counts where its instrument names a site (``retired_for``); its
    ``mwh`` is the self-consumed generation [MWh] (exported energy is not a consumption
    claim, §2.1).
    """
    if level not in ("site", "entity", "group"):
        raise ValueError(f"level must be site, entity or group (value: {level!r})")
    family = parents or {}
    entity_of = {c.site: c.entity for c in consumption}
    purchased: dict[str, float] = defaultdict(float)
    allocated: dict[str, float] = defaultdict(float)
    onsite: dict[str, float] = defaultdict(float)

    def keys(site: str) -> list[str]:
        if level == "site":
            return [site]
        if level == "group":
            return ["GROUP"]
        entity = entity_of.get(site)
        return [] if entity is None else [entity, *_ancestors(entity, family)]

    for c in consumption:
        for k in keys(c.site):
            purchased[k] += c.mwh
    for a in result.allocations:
        if a.re100 if re100 else a.renewable:
            for k in keys(a.site):
                allocated[k] += a.mwh
    for assessment in result.onsite:
        i = assessment.instrument
        tech = technologies()[i.technology]
        counts = assessment.valid_re100 if re100 else tech.renewable
        in_year = year is None or (i.period_start.year <= year <= i.period_end.year)
        if counts and in_year and i.retired_for in entity_of:
            for k in keys(i.retired_for):
                onsite[k] += i.mwh
    out: list[ReShare] = []
    for k in sorted(set(purchased) | set(onsite)):
        total = purchased[k] + onsite[k]
        renewable = onsite[k] + allocated[k]
        share = 0.0 if total <= 0 else min(1.0, renewable / total)
        out.append(
            ReShare(level, k, total, purchased[k], onsite[k], allocated[k], renewable, share)
        )
    return out


@dataclass(frozen=True, slots=True)
class ReProgress:
    """Progress toward a renewable-share target.

    ``required_per_year`` [fraction points / year] the linear increase still needed from
    the latest year to reach ``target_share`` in ``target_year``; ``on_track`` whether the
    average increase so far (from the first year given) is at least that.
    """

    latest_year: int
    latest_share: float
    target_year: int
    target_share: float
    gap: float
    required_per_year: float
    achieved_per_year: float | None
    on_track: bool


def re_progress(
    shares: Mapping[int, float], *, target_year: int, target_share: float = 1.0
) -> ReProgress:
    """Progress of the RE share (year → share, fractions 0-1) toward ``target_share`` in
    ``target_year`` (e.g. 100 % green electricity by 2030).

    Examples
    --------
    >>> p = re_progress({2021: 0.1, 2024: 0.4}, target_year=2030)
    >>> round(p.required_per_year, 4), round(p.achieved_per_year, 4), p.on_track
    (0.1, 0.1, True)
    """
    if not shares:
        raise ValueError("shares is empty: give at least one year's RE share")
    years = sorted(shares)
    latest = years[-1]
    share = shares[latest]
    gap = max(0.0, target_share - share)
    left = target_year - latest
    required = gap if left <= 0 else gap / left
    achieved = None
    if len(years) > 1:
        achieved = (share - shares[years[0]]) / (latest - years[0])
    if gap <= 1e-12:
        on_track = True
    elif left <= 0:
        on_track = False
    else:
        on_track = achieved is not None and achieved >= required - 1e-12
    return ReProgress(latest, share, target_year, target_share, gap, required, achieved, on_track)
