"""KPIs of a workspace's data centres from their metered data.

工作区数据中心能效指标：读取计量汇总数据，解析电网排放因子与可再生能源凭证，计算各站点指标。

The one module of the KPI engine that opens a workspace. :func:`kpis` and :func:`site_kpis`
read the monthly rollup of the site's meters (:func:`esgledger.energy.rollups.rollup`), total
each role (:func:`esgledger.energy.balance.role_totals`), run the balance checks, resolve the
grid factor for the site's region and the period's year as the inventory does
(:func:`esgledger.factors.service.resolve_row`, method ``location``), collect the renewable
energy the site owns or retires (the instrument register), and call the pure
:func:`esgledger.energy.kpi.compute_kpis`. The default period is the rolling 12 months ending
with the last month that has readings (the headline).

:func:`site_inputs_from_rollup` and :func:`renewable_claim` are pure, over the contract's
rollup table and instrument records.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from esgledger.energy.balance import DEFAULT_TOLERANCE, MeterTotal, check_balance, role_totals
from esgledger.energy.findings import Finding
from esgledger.energy.grid import co2e_per_unit, site_grid_factor
from esgledger.energy.kpi import FactorRef, RenewableClaim, SiteKpis, compute_kpis
from esgledger.energy.meters import FUEL_KWH_PER_UNIT, data_centre_sites, load_meters
from esgledger.energy.periods import Period, parse_period, rolling_12_months
from esgledger.energy.roles import it_role, top_meters
from esgledger.energy.rollups import rollup
from esgledger.errors import EsgledgerError
from esgledger.factors.service import RowQuery, resolve_row
from esgledger.renewables.instruments import Instrument, technologies
from esgledger.store.repository_renewables import load_instruments

if TYPE_CHECKING:
    from esgledger.store import Workspace

__all__ = [
    "SiteInputs",
    "headline_period",
    "hourly_matrix",
    "kpis",
    "load_profile",
    "monthly_from_rollup",
    "monthly_kpis",
    "renewable_claim",
    "site_inputs_from_rollup",
    "site_kpis",
]


class MeterLike(Protocol):
    """The fields of :class:`esgledger.energy.meters.Meter` this module reads."""

    @property
    def meter(self) -> str: ...
    @property
    def parent(self) -> str | None: ...
    @property
    def role(self) -> str: ...
    @property
    def fuel(self) -> str | None: ...
    @property
    def canonical_unit(self) -> str: ...
    @property
    def timezone(self) -> str: ...


@dataclass(frozen=True)
class SiteInputs:
    """What the rollup gives for one site: meter totals (volume fuel meters already in kWh:
    the core's rollups apply ``meters.FUEL_KWH_PER_UNIT``), the longest metering interval of
    the boundary and IT meters [s], and findings."""

    totals: tuple[MeterTotal, ...]
    interval_seconds: int | None
    findings: tuple[Finding, ...]


def site_inputs_from_rollup(
    table: pa.Table, meters: Sequence[MeterLike], period: Period | None = None
) -> SiteInputs:
    """Totals per meter over the monthly rollup rows of one site.

    Quantity: the sum of the known bins (a bin whose quantity is NULL adds nothing; gaps are
    never filled). Coverage: the seconds covered by readings of known quantity (each bin's
    ``coverage`` × its length) over the seconds of ``period`` (default: of the bins present),
    so a month without any reading counts as uncovered. Interval: a bin's real length in the
    meter's time zone (a month with a daylight-saving change is an hour shorter or longer)
    over its ``expected_intervals`` (the meter's nominal step, which gaps do not change), the
    longest among the incomer and IT meters.
    """
    by_id = {m.meter: m for m in meters}
    qty: dict[str, float] = defaultdict(float)
    known: dict[str, bool] = defaultdict(bool)
    covered: dict[str, float] = defaultdict(float)
    spanned: dict[str, float] = defaultdict(float)
    longest: int | None = None
    rows = table.select(
        ["meter", "role", "period_local", "quantity", "expected_intervals", "coverage"]
    ).to_pylist()
    for r in rows:
        meter = r["meter"]
        local = r["period_local"]
        start = datetime(local.year, local.month, 1)
        length = (_next_month(start) - start).total_seconds()
        if r["quantity"] is not None:
            qty[meter] += float(r["quantity"])
            known[meter] = True
        covered[meter] += float(r["coverage"] or 0.0) * length
        spanned[meter] += length
        boundary_or_it = r["role"] in ("incomer", "ups_output", "pdu_output", "it_input")
        if boundary_or_it and r["expected_intervals"]:
            m = by_id.get(meter)
            real = _local_month_seconds(start, m.timezone if m is not None else None)
            seconds = round(real / int(r["expected_intervals"]))
            longest = seconds if longest is None else max(longest, seconds)
    total_seconds = period.days * 86_400.0 if period is not None else None
    totals: list[MeterTotal] = []
    for meter in sorted(spanned):
        m = by_id.get(meter)
        if m is None:
            continue
        quantity: float | None = qty[meter] if known[meter] else None
        denominator = total_seconds or spanned[meter]
        coverage = min(1.0, covered[meter] / denominator) if denominator else None
        totals.append(MeterTotal(meter, m.role, m.parent, quantity, coverage))
    # meters of the tree without any row in the period: not read at all
    for m in meters:
        if m.meter not in spanned and period is not None:
            totals.append(MeterTotal(m.meter, m.role, m.parent, None, 0.0))
    return SiteInputs(tuple(totals), longest, ())


def _local_month_seconds(start: datetime, zone: str | None) -> float:
    """[s] from local midnight of ``start`` to the next month's in ``zone`` (IANA name; None:
    a clock without daylight saving)."""
    end = _next_month(start)
    if zone is None:
        return (end - start).total_seconds()
    tz = ZoneInfo(zone)
    first, last = start.replace(tzinfo=tz).astimezone(UTC), end.replace(tzinfo=tz).astimezone(UTC)
    return (last - first).total_seconds()


def _next_month(start: date) -> datetime:
    """Midnight of the first day of the month after ``start``'s month."""
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return datetime(year, month, 1)


def _overlap_days(a0: date, a1: date, b0: date, b1: date) -> int:
    return max(0, (min(a1, b1) - max(a0, b0)).days + 1)


def renewable_claim(
    instruments: Iterable[Instrument],
    *,
    site: str,
    period: Period,
    onsite_kwh: float | None,
) -> RenewableClaim:
    """The renewable energy ``site`` owns or retires within ``period`` (ISO/IEC 30134-3).

    Counted: certificates and PPAs of a renewable technology retired for the site (its
    ``retired_for`` is the site code), pro rata to the days their generation period shares
    with ``period``; the on-site RE meters' energy unless an on-site instrument of the site
    says its attributes were sold. Not counted: unretired instruments, instruments retired
    for someone else, sold attributes, supplier tariffs (no retirement in the site's name),
    non-renewable technologies.
    """
    techs = technologies()
    counted: list[str] = []
    excluded: list[dict[str, str]] = []
    certificates = 0.0
    onsite_sold = False
    for ins in instruments:
        if ins.retired_for != site:
            continue
        kind = ins.kind
        tech = techs.get(ins.technology)
        if kind == "onsite":
            if ins.attributes_sold:
                onsite_sold = True
                excluded.append({"id": ins.instrument, "why": "on-site attributes sold"})
            continue
        if kind not in ("certificate", "contract"):
            excluded.append({"id": ins.instrument, "why": f"{kind}: not owned or retired"})
            continue
        if tech is None or not tech.renewable:
            excluded.append({"id": ins.instrument, "why": "not a renewable technology"})
            continue
        if ins.attributes_sold:
            excluded.append({"id": ins.instrument, "why": "attributes sold"})
            continue
        if ins.retired_on is None:
            excluded.append({"id": ins.instrument, "why": "not retired"})
            continue
        span = (ins.period_end - ins.period_start).days + 1
        shared = _overlap_days(ins.period_start, ins.period_end, period.start, period.end)
        if shared == 0 or span <= 0:
            continue
        certificates += ins.mwh * 1000.0 * shared / span
        counted.append(ins.instrument)
    onsite = 0.0 if onsite_sold or onsite_kwh is None else onsite_kwh
    return RenewableClaim(
        onsite_retained_kwh=onsite,
        certificates_kwh=certificates,
        instruments=tuple(counted),
        excluded=tuple(excluded),
    )


def headline_period(workspace: Workspace, site: str) -> Period | None:
    """The rolling 12 months ending with the last month of ``site`` that has readings."""
    table = rollup(workspace, "month", sites=[site])
    if table.num_rows == 0:
        return None
    last = max(v for v in table.column("period_local").to_pylist() if v is not None)
    first_next = _next_month(date(last.year, last.month, 1))
    return rolling_12_months(first_next.date() - timedelta(days=1))


def _factor_ref(workspace: Workspace, site: str, year: int, method: str) -> FactorRef | None:
    try:
        found = site_grid_factor(workspace, site, year, method=method)
    except EsgledgerError:
        return None
    return FactorRef(
        kg_per_kwh=found.kg_co2e_per_kwh,
        factor_id=found.factor_id,
        source=found.source,
        vintage=str(found.vintage),
        method=method,
        region=found.region,
    )


def _fuel_factor(workspace: Workspace, site: str, year: int, fuel: str) -> FactorRef | None:
    if fuel not in FUEL_KWH_PER_UNIT:
        return None
    kwh, unit = FUEL_KWH_PER_UNIT[fuel]
    try:
        found = resolve_row(
            workspace,
            RowQuery(activity=f"stationary.{fuel}", region="", unit=unit, site=site, year=year),
        )
    except EsgledgerError:
        return None
    factor = found.resolution.factor
    co2e = co2e_per_unit(factor)
    if co2e is None:
        return None
    per_unit = co2e * float(found.resolution.unit_conversion or 1.0)
    return FactorRef(
        kg_per_kwh=per_unit / kwh,
        factor_id=found.resolution.factor_id,
        source=str(factor.get("source") or ""),
        vintage=str(factor.get("year")),
        method="fuel",
        region=found.region,
    )


def site_kpis(
    workspace: Workspace,
    site: str,
    period: Period | None = None,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
) -> SiteKpis:
    """The KPIs of ``site`` over ``period`` (default: :func:`headline_period`)."""
    meters = load_meters(workspace, site=site)
    if period is None:
        period = headline_period(workspace, site)
    if period is None:
        return compute_kpis({}, site=site)
    table = rollup(workspace, "month", sites=[site], period=period)
    inputs = site_inputs_from_rollup(table, meters, period)
    role_energy = role_totals(inputs.totals)
    hours = period.days * 24.0
    report = check_balance(inputs.totals, tolerance=tolerance, hours=hours)
    year = period.end.year
    grid = _factor_ref(workspace, site, year, "location")
    fuels = sorted({m.fuel for m in meters if m.role == "fuel" and m.fuel})
    fuel_factor = _fuel_factor(workspace, site, year, fuels[0]) if len(fuels) == 1 else None
    with workspace.session() as session:
        records = load_instruments(session)
    instruments = [Instrument.from_record(r) for r in records]
    claim = renewable_claim(
        instruments, site=site, period=period, onsite_kwh=role_energy.get("onsite_re")
    )
    market_kg, market_prov = _market(workspace, site, year, role_energy, claim)
    result = compute_kpis(
        role_energy,
        site=site,
        period=period,
        interval_seconds=inputs.interval_seconds,
        grid_factor=grid,
        fuel_factor=fuel_factor,
        market_grid_co2e_kg=market_kg,
        market_provenance=market_prov,
        renewables=claim,
        tolerance=tolerance,
        quality=report.quality(role_energy),
    )
    extra = tuple(inputs.findings)
    if extra:
        result = _with_findings(result, extra)
    return result


def _with_findings(result: SiteKpis, extra: Sequence[Finding]) -> SiteKpis:
    return replace(result, findings=(*result.findings, *extra))


def _market(
    workspace: Workspace,
    site: str,
    year: int,
    role_energy: Mapping[str, float],
    claim: RenewableClaim,
) -> tuple[float | None, dict[str, Any]]:
    """Market-based emissions of the site's grid electricity [kg]: certificates retired for
    the site cover grid electricity at their conveyed rate (0 for renewables), up to the grid
    electricity (Scope 2 Guidance: an instrument covers consumption, never more); the rest at
    the residual mix of the site's region and year. None when no residual mix resolves."""
    if "incomer" not in role_energy:
        return None, {}
    residual = _factor_ref(workspace, site, year, "residual_mix")
    if residual is None:
        return None, {}
    grid = role_energy["incomer"] - role_energy.get("non_dc", 0.0)
    covered = min(claim.certificates_kwh, max(grid, 0.0))
    kg = (grid - covered) * residual.kg_per_kwh
    return kg, {
        "residual_factor": {
            "factor_id": residual.factor_id,
            "kg_per_kwh": residual.kg_per_kwh,
            "source": residual.source,
            "vintage": residual.vintage,
        },
        "covered_kwh": covered,
        "instruments": list(claim.instruments),
    }


def kpis(
    workspace: Workspace,
    *,
    site: str | None = None,
    period: Period | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> list[SiteKpis]:
    """The KPIs of ``site`` (default: every site with meters) over ``period`` (default: each
    site's rolling 12 months)."""
    sites = [site] if site else data_centre_sites(workspace)
    return [site_kpis(workspace, s, period, tolerance=tolerance) for s in sites]


def monthly_from_rollup(
    table: pa.Table, meters: Sequence[MeterLike]
) -> list[tuple[date, SiteKpis]]:
    """PUE and the other ratios of each local month of a monthly rollup of one site (no
    factors or instruments: for the trend chart and the forecast of PUE)."""
    indices: dict[date, list[int]] = defaultdict(list)
    for i, v in enumerate(table.column("period_local").to_pylist()):
        indices[date(v.year, v.month, 1)].append(i)
    out: list[tuple[date, SiteKpis]] = []
    for month in sorted(indices):
        period = parse_period(f"{month:%Y-%m}")
        inputs = site_inputs_from_rollup(table.take(indices[month]), meters, period)
        role_energy = role_totals(inputs.totals)
        report = check_balance(inputs.totals)
        result = compute_kpis(
            role_energy,
            period=period,
            interval_seconds=inputs.interval_seconds,
            quality=report.quality(role_energy),
        )
        out.append((month, result))
    return out


def monthly_kpis(
    workspace: Workspace, site: str, period: Period | None = None
) -> list[tuple[date, SiteKpis]]:
    """The KPIs of each month of ``period`` (default: the headline 12 months) at ``site``."""
    meters = load_meters(workspace, site=site)
    if period is None:
        period = headline_period(workspace, site)
    if period is None:
        return []
    return monthly_from_rollup(rollup(workspace, "month", sites=[site], period=period), meters)


def hourly_matrix(table: pa.Table, roles: Sequence[str]) -> tuple[list[date], Any]:
    """Days and a (days × 24) array of mean power [kW] of the meters of ``roles`` from an
    hourly rollup (local wall time; NaN where no reading)."""
    sums: dict[tuple[date, int], float] = defaultdict(float)
    for r in table.to_pylist():
        if r["role"] in roles and r["quantity"] is not None:
            local = r["period_local"]
            sums[(local.date(), local.hour)] += float(r["quantity"])  # kWh in one hour = kW
    days = sorted({d for d, _ in sums})
    matrix = np.full((len(days), 24), np.nan)
    index = {d: i for i, d in enumerate(days)}
    for (d, h), v in sums.items():
        matrix[index[d], h] = v
    return days, matrix


def load_profile(
    workspace: Workspace, site: str, period: Period | None = None
) -> tuple[list[date], Any]:
    """The hourly IT load of ``site`` as days × 24 (the topmost meters of the best metered IT
    role: a sub-meter of the same role is not added again)."""
    if period is None:
        period = headline_period(workspace, site)
    if period is None:
        return [], None
    table = rollup(workspace, "hour", sites=[site], period=period)
    present = set(table.column("role").to_pylist()) if table.num_rows else set()
    role = it_role(present)
    if role is None:
        return hourly_matrix(table, [])
    tops = {m.meter for m in top_meters(load_meters(workspace, site=site)).get(role, [])}
    table = table.filter(pc.is_in(table["meter"], pa.array(sorted(tops), pa.string())))
    return hourly_matrix(table, [role])
