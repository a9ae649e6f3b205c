"""What the energy pages of one site show, shaped from the rollups (``energy:read``).

站点能源页面所需数据：按角色的月度能耗、IT 负荷热力图、覆盖率与标记、计量树。

:func:`site_view` is the one call of the site page (and of its API twins): scope through
:func:`esgledger.energy.service.require_site` (a site out of scope is answered as not found),
the period (default: the twelve months ending with the site's last month of data,
:func:`esgledger.energy.periods.rolling_12_months`), then plain tables:

* **Monthly energy by role** [kWh; water in L]: the day rollup summed into local months. A
  role's energy is the sum of its *top meters* — the meters of that role with no ancestor of
  the same role — so a sub-meter under a meter of its own role is never counted twice.
* **IT load profile**: the hourly rollup of the IT meters (the most downstream IT role the
  site meters: ``it_input``, else ``pdu_output``, else ``ups_output``; measurement category 3,
  2, 1), one row per local day, 24 local hours [kWh in the hour = mean kW]. The repeated hour
  of a daylight-saving change adds its two bins; the skipped hour stays empty.
* **Coverage and flags** per meter over the period, and the flagged intervals grouped into
  runs (consecutive intervals of one meter with the same flag).
* **The meter tree** (parent → children) with each meter's energy and coverage.
* **The alerts** of :func:`esgledger.energy.anomalies.detect` for the site and period
  (:func:`site_alerts`; kept in memory per readings, meters and weather state, since the
  four layers take seconds to tens of seconds on a year of data).
* **The KPI panel**: :func:`esgledger.energy.kpi_service.site_kpis` over the same period
  (:func:`kpi_panel`).

Nothing is filled or clamped: a month, hour or meter without readings is ``None``.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from esgledger.energy import anomalies, kpi_service, rollups, service
from esgledger.energy.kpi import SiteKpis
from esgledger.energy.meters import Meter, load_meters
from esgledger.energy.periods import Period, parse_period, rolling_12_months
from esgledger.energy.roles import ROLES, it_role, top_meters
from esgledger.i18n import Text

if TYPE_CHECKING:
    from esgledger.access import Principal
    from esgledger.store import Workspace

__all__ = [
    "ALERTS_SHOWN",
    "FLAG_RUNS_SHOWN",
    "AlertRow",
    "AlertsView",
    "Coded",
    "FlagRun",
    "HourlyDay",
    "KpiCheck",
    "KpiPanel",
    "MeterCoverage",
    "MeterNode",
    "MonthRoles",
    "SiteEnergyView",
    "default_period",
    "it_role",
    "kpi_panel",
    "site_alerts",
    "site_kpis",
    "site_rollup",
    "site_view",
    "top_meters",
]

#: Alerts listed on the page at most (the largest energy impact, in absolute value, first).
ALERTS_SHOWN = 200
#: Flag runs listed on the page at most (the newest first); the count of all is kept.
FLAG_RUNS_SHOWN = 200


@dataclass(frozen=True, slots=True)
class MonthRoles:
    """One local month (``YYYY-MM``, the part inside the period): energy per role [kWh,
    water in L; ``None`` without a bin] and the coverage of the roles' top meters [0-1]."""

    month: str
    by_role: Mapping[str, float | None]
    coverage: float | None


@dataclass(frozen=True, slots=True)
class HourlyDay:
    """One local day of the IT load profile: 24 hourly energies [kWh], ``None`` where no
    bin exists."""

    day: date
    hours: tuple[float | None, ...]


@dataclass(frozen=True, slots=True)
class MeterCoverage:
    """A meter over the period: its energy [canonical unit], the intervals its readings
    give, coverage [0-1: the share of the period's time covered by intervals of known
    energy] and its flagged intervals by flag."""

    meter: str
    role: str
    unit: str
    quantity: float | None
    intervals: int
    coverage: float | None
    flags: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class FlagRun:
    """Consecutive flagged intervals of one meter with the same flag: local start and end
    (ISO, wall time at the site), how many intervals, and the first interval's detail."""

    meter: str
    flag: str
    start_local: str
    end_local: str
    intervals: int
    detail: str | None


@dataclass(frozen=True, slots=True)
class MeterNode:
    """One meter of the tree with its children, its energy over the period [canonical
    unit] and coverage [0-1]."""

    meter: Meter
    quantity: float | None
    coverage: float | None
    children: tuple[MeterNode, ...]


@dataclass(frozen=True, slots=True)
class KpiCheck:
    """A finding of the KPIs: its code, severity and bilingual text."""

    code: str
    severity: str
    text: Text


@dataclass(frozen=True, slots=True)
class KpiPanel:
    """The KPIs of the site over the period (:class:`esgledger.energy.kpi.SiteKpis`, see
    ``docs/energy/kpis.md``): ratios dimensionless, WUE [L/kWh], CUE [kg CO2e/kWh], energies
    [kWh], ``co2e_t`` [t CO2e, location-based]; ``None`` = not computed (the reason is among
    ``notes``). ``scores`` is the data-quality score 0-1 per KPI, ``checks`` the failed
    balance checks, ``grid_factor`` the factor behind CUE (id, source, vintage)."""

    pue: float | None
    pue_category: str | None
    dcie: float | None
    ppue: Mapping[str, float | None]
    clf: float | None
    plf: float | None
    olf: float | None
    unattributed_ratio: float | None
    wue_l_per_kwh: float | None
    cue_kg_per_kwh: float | None
    cue_market_kg_per_kwh: float | None
    ref: float | None
    erf: float | None
    ere: float | None
    e_it_kwh: float | None
    e_dc_kwh: float | None
    co2e_t: float | None
    scores: Mapping[str, float | None]
    checks: tuple[KpiCheck, ...]
    notes: tuple[KpiCheck, ...]
    grid_factor: tuple[str, ...] | None


def _check(finding: Any) -> KpiCheck:
    return KpiCheck(code=finding.code, severity=finding.severity, text=finding.text)


def kpi_panel(kpis: SiteKpis) -> KpiPanel:
    """The panel of one :class:`SiteKpis` (the unattributed remainder as a share of E_IT, so
    that 1 + CLF + PLF + OLF + it = PUE)."""
    factor = kpis.provenance.get("grid_factor")
    unattributed = (
        kpis.unattributed_kwh / kpis.e_it_kwh
        if kpis.unattributed_kwh is not None and kpis.e_it_kwh
        else None
    )
    return KpiPanel(
        pue=kpis.pue,
        pue_category=kpis.pue_category,
        dcie=kpis.dcie,
        ppue=dict(kpis.ppue),
        clf=kpis.clf,
        plf=kpis.plf,
        olf=kpis.olf,
        unattributed_ratio=unattributed,
        wue_l_per_kwh=kpis.wue_l_per_kwh,
        cue_kg_per_kwh=kpis.cue_kg_per_kwh,
        cue_market_kg_per_kwh=kpis.cue_market_kg_per_kwh,
        ref=kpis.ref,
        erf=kpis.erf,
        ere=kpis.ere,
        e_it_kwh=kpis.e_it_kwh,
        e_dc_kwh=kpis.e_dc_kwh,
        co2e_t=None if kpis.co2e_kg is None else kpis.co2e_kg / 1000.0,
        scores=dict(kpis.quality.scores),
        checks=tuple(_check(f) for f in kpis.quality.findings),
        notes=tuple(_check(f) for f in kpis.findings),
        grid_factor=None
        if not factor
        else tuple(str(factor.get(k) or "") for k in ("factor_id", "source", "vintage")),
    )


@dataclass(frozen=True, slots=True)
class SiteEnergyView:
    """The site page: the site, its time zone, the period (``default_period``: whether it is
    the default headline period), the energy roles it meters in :data:`ROLES` order, the
    IT role of the profile (``None`` without IT meters), the months, the hourly IT profile,
    coverage per meter, the flag runs (newest first, at most :data:`FLAG_RUNS_SHOWN`; all
    counted in ``flag_runs_total``), the meter tree's roots and the KPI panel (``None``
    without readings)."""

    site: str
    timezone: str
    period: Period
    default_period: bool
    roles: tuple[str, ...]
    it_role: str | None
    months: tuple[MonthRoles, ...]
    profile: tuple[HourlyDay, ...]
    meters: tuple[MeterCoverage, ...]
    flag_runs: tuple[FlagRun, ...]
    flag_runs_total: int
    tree: tuple[MeterNode, ...]
    kpis: KpiPanel | None


@dataclass(frozen=True, slots=True)
class Coded:
    """A code shown to readers by its bilingual ``label`` (the ``code`` kept beside it for
    auditors), e.g. an alert kind ``stuck`` — "Stuck meter"."""

    code: str
    label: Text


@dataclass(frozen=True, slots=True)
class AlertRow:
    """One anomaly alert (:class:`esgledger.energy.detectors.alerts.Alert`): id, meter
    (``None``: the whole site), subsystem, layer and kind (the first in layer order), every
    layer and kind that saw it with their labels (``layers``, ``kinds``), local window (ISO
    wall time at the site, end exclusive), energy impact [kWh] and emissions [t CO2e]
    (``None`` when not computable), score and the bilingual explanation."""

    id: str
    meter: str | None
    subsystem: str
    layer: str
    kind: str
    layers: tuple[Coded, ...]
    kinds: tuple[Coded, ...]
    start_local: str
    end_local: str
    energy_kwh: float | None
    co2e_t: float | None
    score: float
    text: Text


@dataclass(frozen=True, slots=True)
class AlertsView:
    """The alerts of a site over a period: the period label, the alerts (largest energy
    impact first, in absolute value, at most :data:`ALERTS_SHOWN`; all counted in
    ``total``), their net energy [kWh] and emissions [t CO2e] (a shortfall counts negative),
    the layers run and the detector's findings."""

    site: str
    period: str
    alerts: tuple[AlertRow, ...]
    total: int
    energy_kwh: float
    co2e_t: float
    layers: tuple[str, ...]
    findings: tuple[KpiCheck, ...]


_ALERT_CACHE: dict[tuple[Any, ...], AlertsView] = {}
_ALERT_CACHE_SIZE = 32


def _alerts_key(workspace: Workspace, site: str, period: Period) -> tuple[Any, ...]:
    derived = rollups.refresh(workspace)
    weather = workspace.root / "lake" / "telemetry" / "weather"
    stamps = (
        tuple(sorted((p.name, p.stat().st_mtime_ns) for p in weather.glob("*.parquet")))
        if weather.is_dir()
        else ()
    )
    return (str(workspace.root), site, period, str(derived.folder), derived.batches,
            derived.meters_digest, stamps)  # fmt: skip


def site_alerts(
    workspace: Workspace, principal: Principal, site: str, period: str | None = None
) -> AlertsView | None:
    """The anomaly alerts of ``site`` (in scope) over ``period`` (text; default the headline
    twelve months); ``None`` without readings.

    Raises
    ------
    NotFoundError
        For a site without meters or out of the principal's scope (the same answer).
    InputError
        For a period that cannot be read.
    """
    service.require_site(workspace, principal, site)
    chosen = parse_period(period) if period else default_period(workspace, site)
    if chosen is None:
        return None
    key = _alerts_key(workspace, site, chosen)
    if key in _ALERT_CACHE:
        return _ALERT_CACHE[key]
    report = anomalies.detect(workspace, site=site, period=chosen)
    meters = load_meters(workspace, site=site)
    zone = zoneinfo.ZoneInfo(meters[0].timezone if meters else "UTC")
    ranked = sorted(report.alerts, key=lambda a: -abs(a.energy_kwh or 0.0))
    view = AlertsView(
        site=site,
        period=chosen.label,
        alerts=tuple(
            AlertRow(
                id=a.id,
                meter=a.meter,
                subsystem=a.subsystem,
                layer=a.layer,
                kind=a.kind,
                layers=tuple(Coded(x, anomalies.layer_label(x)) for x in a.layers),
                kinds=tuple(Coded(x, anomalies.kind_label(x)) for x in a.kinds),
                start_local=_local(a.start_utc, zone).isoformat(timespec="minutes"),
                end_local=_local(a.end_utc, zone).isoformat(timespec="minutes"),
                energy_kwh=a.energy_kwh,
                co2e_t=a.co2e_t,
                score=float(a.score),
                text=a.text,
            )
            for a in ranked[:ALERTS_SHOWN]
        ),
        total=len(ranked),
        energy_kwh=sum(a.energy_kwh or 0.0 for a in ranked),
        co2e_t=sum(a.co2e_t or 0.0 for a in ranked),
        layers=tuple(report.layers),
        findings=tuple(_check(f) for f in report.findings),
    )
    if len(_ALERT_CACHE) >= _ALERT_CACHE_SIZE:
        _ALERT_CACHE.pop(next(iter(_ALERT_CACHE)))
    _ALERT_CACHE[key] = view
    return view


def default_period(workspace: Workspace, site: str) -> Period | None:
    """The twelve months ending with the last local month of data at ``site`` (``None``
    without readings)."""
    months = rollups.rollup(workspace, "month", sites=[site]).column("period_local").to_pylist()
    if not months:
        return None
    return rolling_12_months(max(months).date())


def _day_hours(day: date, zone: zoneinfo.ZoneInfo) -> float:
    """The length of local ``day`` in hours (23, 24 or 25 across a daylight-saving change)."""
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    following = day + timedelta(days=1)
    end = datetime(following.year, following.month, following.day, tzinfo=zone)
    return (end.timestamp() - start.timestamp()) / 3600.0


def _coverage(
    rows: Sequence[Mapping[str, Any]], meters: int, days: Sequence[date], zone: zoneinfo.ZoneInfo
) -> float | None:
    """The share of ``days`` × ``meters`` covered by intervals of known energy, from the day
    bins ``rows`` (a day without a bin is not covered); ``None`` without meters or days."""
    total = meters * sum(_day_hours(d, zone) for d in days)
    if total <= 0:
        return None
    covered = sum(
        float(r["coverage"] or 0.0) * _day_hours(r["period_local"].date(), zone) for r in rows
    )
    return covered / total


def _sum(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _months(period: Period) -> list[str]:
    months, day = [], period.start.replace(day=1)
    while day <= period.end:
        months.append(f"{day:%Y-%m}")
        day = (day + timedelta(days=32)).replace(day=1)
    return months


def _local(value: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    return value.replace(tzinfo=zoneinfo.ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)


def _flag_runs(
    table: list[dict[str, Any]], zone: zoneinfo.ZoneInfo, period: Period
) -> list[FlagRun]:
    runs: list[FlagRun] = []
    current: dict[str, Any] | None = None
    for row in sorted(table, key=lambda r: (r["meter"], r["start_utc"])):
        start, end = _local(row["start_utc"], zone), _local(row["end_utc"], zone)
        if end.date() < period.start or start.date() > period.end:
            continue
        if (
            current is not None
            and current["meter"] == row["meter"]
            and current["flag"] == row["flag"]
            and current["end"] >= start
        ):
            current["end"] = max(current["end"], end)
            current["n"] += 1
            continue
        if current is not None:
            runs.append(_run(current))
        current = {"meter": row["meter"], "flag": row["flag"], "start": start, "end": end, "n": 1,
                   "detail": row.get("detail")}  # fmt: skip
    if current is not None:
        runs.append(_run(current))
    return sorted(runs, key=lambda r: (r.start_local, r.meter), reverse=True)


def _run(state: Mapping[str, Any]) -> FlagRun:
    return FlagRun(
        meter=str(state["meter"]),
        flag=str(state["flag"]),
        start_local=state["start"].isoformat(timespec="minutes"),
        end_local=state["end"].isoformat(timespec="minutes"),
        intervals=int(state["n"]),
        detail=None if state["detail"] is None else str(state["detail"]),
    )


def _tree(
    meters: Sequence[Meter], totals: Mapping[str, MeterCoverage], parent: str | None
) -> tuple[MeterNode, ...]:
    known = {m.meter for m in meters}
    children = [
        m
        for m in meters
        if (m.parent == parent)
        or (parent is None and m.parent is not None and m.parent not in known)
    ]
    return tuple(
        MeterNode(
            meter=m,
            quantity=totals[m.meter].quantity if m.meter in totals else None,
            coverage=totals[m.meter].coverage if m.meter in totals else None,
            children=_tree(meters, totals, m.meter),
        )
        for m in sorted(children, key=lambda m: (ROLES.index(m.role), m.meter))
    )


def site_rollup(
    workspace: Workspace, principal: Principal, site: str, grain: str, period: str | None
) -> tuple[Period | None, list[dict[str, Any]]]:
    """The ``grain`` rollup rows of ``site`` (in scope) over ``period`` (text; default the
    headline twelve months) — the API twin of the page's charts.

    Raises
    ------
    NotFoundError
        For a site without meters or out of the principal's scope.
    InputError
        For a period or grain that cannot be read.
    """
    service.require_site(workspace, principal, site)
    chosen = parse_period(period) if period else default_period(workspace, site)
    if chosen is None:
        return None, []
    return chosen, rollups.rollup(workspace, grain, sites=[site], period=chosen).to_pylist()


def site_kpis(
    workspace: Workspace, principal: Principal, site: str, period: str | None
) -> SiteKpis:
    """The KPIs of ``site`` (in scope) over ``period`` (text; default the headline twelve
    months) — the API twin of the page's KPI panel.

    Raises
    ------
    NotFoundError
        For a site without meters or out of the principal's scope.
    InputError
        For a period that cannot be read.
    """
    service.require_site(workspace, principal, site)
    chosen = parse_period(period) if period else default_period(workspace, site)
    return kpi_service.site_kpis(workspace, site, chosen)


def site_view(
    workspace: Workspace, principal: Principal, site: str, period: str | None = None
) -> SiteEnergyView:
    """Everything the site page shows (see the module docstring).

    Raises
    ------
    NotFoundError
        For a site without meters or out of the principal's scope (the same answer).
    InputError
        For a period that cannot be read (:func:`parse_period`).
    """
    service.require_site(workspace, principal, site)
    chosen = parse_period(period) if period else default_period(workspace, site)
    kpis = None if chosen is None else kpi_panel(kpi_service.site_kpis(workspace, site, chosen))
    meters = load_meters(workspace, site=site)
    zone_name = meters[0].timezone if meters else "UTC"
    if chosen is None:  # meters, no readings yet
        today = datetime.now(zoneinfo.ZoneInfo(zone_name)).date()
        chosen = rolling_12_months(today)
    daily = rollups.rollup(workspace, "day", sites=[site], period=chosen).to_pylist()

    per_meter: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in daily:
        per_meter[row["meter"]].append(row)
    flags = rollups.flags(workspace, sites=[site], period=chosen).to_pylist()
    zone = zoneinfo.ZoneInfo(zone_name)
    period_days = [chosen.start + timedelta(days=i) for i in range(chosen.days)]
    flag_counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in flags:
        start = _local(row["start_utc"], zone)
        if start.date() <= chosen.end and _local(row["end_utc"], zone).date() >= chosen.start:
            flag_counts[row["meter"]][row["flag"]] += 1
    coverage = {
        m.meter: MeterCoverage(
            meter=m.meter,
            role=m.role,
            unit=m.canonical_unit,
            quantity=_sum([r["quantity"] for r in per_meter.get(m.meter, [])]),
            intervals=sum(int(r["intervals"] or 0) for r in per_meter.get(m.meter, [])),
            coverage=_coverage(per_meter.get(m.meter, []), 1, period_days, zone),
            flags=dict(sorted(flag_counts.get(m.meter, {}).items())),
        )
        for m in meters
    }

    tops = top_meters(meters)
    roles = tuple(r for r in ROLES if r in tops)
    months = []
    for month in _months(chosen):
        by_role: dict[str, float | None] = {}
        rows_of_month: list[dict[str, Any]] = []
        for role in roles:
            rows = [
                r
                for m in tops[role]
                for r in per_meter.get(m.meter, [])
                if f"{r['period_local']:%Y-%m}" == month
            ]
            rows_of_month.extend(rows)
            by_role[role] = _sum([r["quantity"] for r in rows])
        days = [d for d in period_days if f"{d:%Y-%m}" == month]
        counted = sum(len(tops[r]) for r in roles)
        months.append(MonthRoles(month, by_role, _coverage(rows_of_month, counted, days, zone)))

    it = it_role(roles)
    profile: list[HourlyDay] = []
    if it is not None:
        hourly = rollups.rollup(
            workspace, "hour", sites=[site], meters=[m.meter for m in tops[it]], period=chosen
        ).to_pylist()
        cells: dict[date, list[float | None]] = {}
        for row in hourly:
            stamp = row["period_local"]
            day = cells.setdefault(stamp.date(), [None] * 24)
            if row["quantity"] is not None:
                day[stamp.hour] = (day[stamp.hour] or 0.0) + float(row["quantity"])
        profile = [HourlyDay(day, tuple(hours)) for day, hours in sorted(cells.items())]

    runs = _flag_runs(flags, zone, chosen)
    return SiteEnergyView(
        site=site,
        timezone=zone_name,
        period=chosen,
        default_period=not period,
        roles=roles,
        it_role=it,
        months=tuple(months),
        profile=tuple(profile),
        meters=tuple(coverage[m.meter] for m in meters),
        flag_runs=tuple(runs[:FLAG_RUNS_SHOWN]),
        flag_runs_total=len(runs),
        tree=_tree(meters, coverage, None),
        kpis=kpis,
    )
