"""Data-centre KPIs of ISO/IEC 30134 and peers from per-role energy totals (pure).

数据中心能效指标（ISO/IEC 30134 系列及同类标准）：由各计量角色的能耗合计计算（纯函数）。

:func:`compute_kpis` takes the energy of each meter role over one coincident period (kWh;
``water`` in litres) and returns a frozen :class:`SiteKpis`: PUE with its measurement
category and Green Grid notation, DCiE, pPUE per subsystem, CLF / PLF / OLF, WUE, CUE
(location-based, and market-based when given), REF, ERF and ERE. A KPI that cannot be computed
is ``None`` with a :class:`~esgledger.energy.findings.Finding`; nothing is clamped, except the
one rule ISO/IEC 30134-3 states itself (REF is at most 1.00), which is reported as a finding.

Boundaries (``docs/energy/kpis.md``):

* ``E_IT`` is the energy of the best metered IT role: ``it_input`` (category 3), else
  ``pdu_output`` (category 2), else ``ups_output`` (category 1) — ISO/IEC 30134-2, Green Grid.
* ``E_DC = incomer + fuel (as kWh) + onsite_re (self-consumed) − non_dc`` (EN 50600-4-2:
  every energy form crossing the boundary; mixed-use loads metered and subtracted).
* Power losses = UPS losses (``ups_input − ups_output``) + distribution losses
  (``ups_output − E_IT`` when ``E_IT`` is metered downstream of the UPS output).
* ``E_DC − E_IT − cooling − power losses − other`` is the unattributed remainder; the load
  factors add up to PUE only when it is zero, so it is reported (``unattributed_kwh``) with a
  finding when it exceeds the tolerance.

Sources: ISO/IEC 30134-2:2016 (PUE), -3:2016+Amd 1:2018 (REF), -6:2021 (ERF), -8:2022
(CUE), -9:2022 (WUE); EN 50600-4-2/-3/-6; The Green Grid WP#49 (PUE notation, load factors),
WP#32 (CUE); ERE per The Green Grid (2010). Fuel conversion factors: EN 50600-4 factsheet
(ictfootprint.eu): diesel 9.9 kWh/l, natural gas 10.5 kWh/m³.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from esgledger.energy.findings import Finding
from esgledger.energy.meters import FUEL_KWH_PER_UNIT as METER_FUELS
from esgledger.energy.periods import Period
from esgledger.energy.roles import IT_ROLE_BY_CATEGORY, it_category, it_role
from esgledger.errors import InputError
from esgledger.i18n import Text

__all__ = [
    "CONTINUOUS_SECONDS",
    "FUEL_KWH_PER_UNIT",
    "KPI_NAMES",
    "KPI_ROLES",
    "FactorRef",
    "KpiQuality",
    "RenewableClaim",
    "SiteKpis",
    "boundary_energy",
    "compute_kpis",
    "fuel_to_kwh",
    "green_grid_notation",
]

#: [kWh per unit] energy content of on-site fuels, EN 50600-4 factsheet
#: (https://ictfootprint.eu/en/en-50600-4-factsheet-0): diesel 9.9 kWh/l, natural gas
#: 10.5 kWh/m³ — the core's table (:data:`esgledger.energy.meters.FUEL_KWH_PER_UNIT`, which
#: the rollups already apply to volume fuel meters), keyed here by (fuel, unit).
FUEL_KWH_PER_UNIT: Mapping[tuple[str, str], float] = {
    (fuel, unit): per_unit for fuel, (per_unit, unit) in METER_FUELS.items()
}

#: [s] the longest metering interval still reported as continuous (``C``) in the Green Grid
#: notation: 15 minutes, the category 3 interval of The Green Grid / ISO/IEC 30134-2.
CONTINUOUS_SECONDS = 900

#: The KPIs of :class:`SiteKpis` that carry a quality score.
KPI_NAMES: tuple[str, ...] = (
    "pue", "dcie", "ppue", "clf", "plf", "olf", "wue", "cue", "ref", "erf", "ere",
)  # fmt: skip

# The roles each KPI reads (besides the IT role), for the quality score.
KPI_ROLES: Mapping[str, tuple[str, ...]] = {
    "pue": ("incomer", "fuel", "onsite_re", "non_dc"),
    "dcie": ("incomer", "fuel", "onsite_re", "non_dc"),
    "ppue": ("cooling", "ups_input", "ups_output", "other"),
    "clf": ("cooling",),
    "plf": ("ups_input", "ups_output"),
    "olf": ("other",),
    "wue": ("water",),
    "cue": ("incomer", "fuel", "non_dc"),
    "ref": ("incomer", "fuel", "onsite_re", "non_dc"),
    "erf": ("heat_export", "incomer", "fuel", "onsite_re", "non_dc"),
    "ere": ("heat_export", "incomer", "fuel", "onsite_re", "non_dc"),
}


def fuel_to_kwh(fuel: str, quantity: float, unit: str) -> float:
    """[kWh] of ``quantity`` ``unit`` of ``fuel`` by :data:`FUEL_KWH_PER_UNIT`.

    Raises
    ------
    InputError
        If the fuel and unit have no conversion factor.
    """
    factor = FUEL_KWH_PER_UNIT.get((fuel, unit))
    if factor is None:
        known = ", ".join(f"{f} [{u}]" for f, u in FUEL_KWH_PER_UNIT)
        raise InputError(f"no energy conversion for fuel {fuel!r} in {unit!r}; known: {known}")
    return quantity * factor


@dataclass(frozen=True)
class FactorRef:
    """An emission factor used by a KPI: value [kg CO2e/kWh] and where it came from."""

    kg_per_kwh: float
    factor_id: str | None = None
    source: str | None = None
    vintage: str | None = None
    method: str = "location"
    region: str | None = None


@dataclass(frozen=True)
class RenewableClaim:
    """The renewable energy a site owns or retires for REF (ISO/IEC 30134-3).

    Attributes
    ----------
    onsite_retained_kwh
        [kWh] on-site renewable generation consumed at the site whose attributes the data
        centre keeps (not sold, not exported).
    certificates_kwh
        [kWh] certificates and PPA volumes retired for the site within the period.
    instruments
        Ids of the instruments counted.
    excluded
        Ids of instruments not counted and why (``{"id": ..., "why": ...}``).
    """

    onsite_retained_kwh: float = 0.0
    certificates_kwh: float = 0.0
    instruments: tuple[str, ...] = ()
    excluded: tuple[Mapping[str, str], ...] = ()

    @property
    def total_kwh(self) -> float:
        return self.onsite_retained_kwh + self.certificates_kwh


@dataclass(frozen=True)
class KpiQuality:
    """Data quality of a KPI set: a score 0..1 per KPI and the failed checks."""

    scores: Mapping[str, float | None] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "scores": dict(self.scores),
            "findings": [f.to_json() for f in self.findings],
        }


@dataclass(frozen=True)
class SiteKpis:
    """The KPIs of one site over one coincident period (see the module docstring).

    Energies in kWh, water in litres, CUE in kg CO2e per kWh of IT energy; ratios
    dimensionless. ``None`` = not computable; the reason is among ``findings``.
    """

    site: str | None
    period: str | None
    pue: float | None
    pue_category: str | None
    pue_level: int | None
    dcie: float | None
    ppue: Mapping[str, float | None]
    clf: float | None
    plf: float | None
    olf: float | None
    wue_l_per_kwh: float | None
    cue_kg_per_kwh: float | None
    cue_market_kg_per_kwh: float | None
    ref: float | None
    erf: float | None
    ere: float | None
    e_it_kwh: float | None
    e_dc_kwh: float | None
    e_ren_kwh: float | None
    unattributed_kwh: float | None
    co2e_kg: float | None
    quality: KpiQuality
    provenance: Mapping[str, Any]
    findings: tuple[Finding, ...]

    def to_json(self) -> dict[str, Any]:
        """JSON-native values with the keys of ``esgledger energy kpi --format json``."""
        return {
            "site": self.site,
            "period": self.period,
            "pue": self.pue,
            "pue_category": self.pue_category,
            "pue_level": self.pue_level,
            "dcie": self.dcie,
            "ppue": dict(self.ppue),
            "clf": self.clf,
            "plf": self.plf,
            "olf": self.olf,
            "wue_l_per_kwh": self.wue_l_per_kwh,
            "cue_kg_per_kwh": self.cue_kg_per_kwh,
            "cue_market_kg_per_kwh": self.cue_market_kg_per_kwh,
            "ref": self.ref,
            "erf": self.erf,
            "ere": self.ere,
            "e_it_kwh": self.e_it_kwh,
            "e_dc_kwh": self.e_dc_kwh,
            "e_ren_kwh": self.e_ren_kwh,
            "unattributed_kwh": self.unattributed_kwh,
            "co2e_kg": self.co2e_kg,
            "quality": self.quality.to_json(),
            "provenance": dict(self.provenance),
            "findings": [f.to_json() for f in self.findings],
        }


def green_grid_notation(level: int, period: Period | None, interval_seconds: int | None) -> str:
    """``PUE_L{level},{period}{frequency}`` (The Green Grid WP#49; openDCIM's subscript).

    Period letter: ``Y``/``M``/``W``/``D`` from the period's length (``Period.green_grid_letter``;
    ``Y`` when no period is given). Frequency: ``C`` (continuous) when the longest metering
    interval is at most 15 min, ``D`` up to a day, ``W`` up to a week, ``M`` up to a month,
    ``--`` otherwise or unknown (the PUE0 form ``PUE_L1,Y--``).
    """
    letter = period.green_grid_letter if period is not None else "Y"
    if interval_seconds is None:
        frequency = "--"
    elif interval_seconds <= CONTINUOUS_SECONDS:
        frequency = "C"
    elif interval_seconds <= 86_400:
        frequency = "D"
    elif interval_seconds <= 7 * 86_400:
        frequency = "W"
    elif interval_seconds <= 31 * 86_400:
        frequency = "M"
    else:
        frequency = "--"
    return f"PUE_L{level},{letter}{frequency}"


def _finding(code: str, en: str, zh: str, severity: str = "warning", **data: Any) -> Finding:
    return Finding(code=code, text=Text(en, zh), data=data, severity=severity)  # type: ignore[arg-type]


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def boundary_energy(
    role_energy: Mapping[str, float],
) -> tuple[float | None, int | None, float | None]:
    """(E_IT [kWh], measurement category, E_DC [kWh]) without findings; None where a role is
    missing (the rules of :func:`compute_kpis`)."""
    scratch: list[Finding] = []
    e_it, level = _it_energy(role_energy, scratch)
    e_dc, _grid = _dc_energy(role_energy, scratch)
    return e_it, level, e_dc


def _it_energy(
    role_energy: Mapping[str, float], findings: list[Finding]
) -> tuple[float | None, int | None]:
    role = it_role(r for r, v in role_energy.items() if v is not None)
    level = it_category(role) if role is not None else None
    if role is not None and level is not None:
        value = role_energy[role]
        if value <= 0:
            findings.append(
                _finding(
                    "energy.kpi.it_energy_not_positive",
                    f"IT energy ({role}) is {value:g} kWh; "
                    "no KPI relative to IT energy can be computed.",
                    f"IT 能耗（{role}）为 {value:g} kWh，无法计算以 IT 能耗为分母的指标。",
                    "error",
                    role=role,
                    e_it_kwh=value,
                )
            )
            return None, level
        return value, level
    findings.append(
        _finding(
            "energy.kpi.no_it_meter",
            "No IT energy is metered (ups_output, pdu_output or it_input): PUE and the "
            "ratios to IT energy cannot be computed.",
            "未计量 IT 能耗（ups_output、pdu_output 或 it_input）：无法计算 PUE 及以 IT "
            "能耗为分母的指标。",
            "error",
        )
    )
    return None, None


def _dc_energy(
    role_energy: Mapping[str, float], findings: list[Finding]
) -> tuple[float | None, float | None]:
    """(E_DC, grid electricity of the data centre) [kWh]."""
    incomer = role_energy.get("incomer")
    if incomer is None:
        findings.append(
            _finding(
                "energy.kpi.no_incomer",
                "No boundary (incomer) meter: the total data-centre energy E_DC is unknown.",
                "没有边界（进线）电表：数据中心总能耗 E_DC 未知。",
                "error",
            )
        )
        return None, None
    non_dc = role_energy.get("non_dc", 0.0)
    grid = incomer - non_dc
    e_dc = grid + role_energy.get("fuel", 0.0) + role_energy.get("onsite_re", 0.0)
    if e_dc <= 0:
        findings.append(
            _finding(
                "energy.kpi.dc_energy_not_positive",
                f"E_DC is {e_dc:g} kWh (incomer {incomer:g} − non-DC {non_dc:g} + fuel + "
                "on-site RE): not a usable total.",
                f"E_DC 为 {e_dc:g} kWh（进线 {incomer:g} − 非数据中心负荷 {non_dc:g} + 燃料 + "
                "现场可再生能源）：不可用。",
                "error",
                e_dc_kwh=e_dc,
            )
        )
        return None, grid
    return e_dc, grid


def _power_losses(
    role_energy: Mapping[str, float], e_it: float | None, level: int | None
) -> float | None:
    ups_in = role_energy.get("ups_input")
    ups_out = role_energy.get("ups_output")
    if ups_in is None or ups_out is None:
        return None
    losses = ups_in - ups_out
    if level is not None and level > 1 and e_it is not None:
        losses += ups_out - e_it
    return losses


def compute_kpis(
    role_energy: Mapping[str, float],
    *,
    site: str | None = None,
    period: Period | None = None,
    interval_seconds: int | None = None,
    grid_factor: FactorRef | None = None,
    fuel_factor: FactorRef | None = None,
    market_grid_co2e_kg: float | None = None,
    market_provenance: Mapping[str, Any] | None = None,
    renewables: RenewableClaim | None = None,
    tolerance: float = 0.03,
    quality: KpiQuality | None = None,
) -> SiteKpis:
    """The KPIs of one site from its per-role energy over a coincident period.

    Parameters
    ----------
    role_energy
        Role → energy [kWh] over the period (``water`` in litres; ``fuel`` already converted
        to kWh by :func:`fuel_to_kwh`). A role missing from the mapping is not metered.
    site, period
        Labels for the result; ``period`` also gives the Green Grid period letter.
    interval_seconds
        The longest metering interval of the IT and boundary meters [s], for the Green Grid
        frequency letter; None = unknown (``--``).
    grid_factor
        Location-based grid factor [kg CO2e/kWh] with its provenance; None: no CUE.
    fuel_factor
        Factor of on-site fuel [kg CO2e per kWh of fuel]; needed for CUE when fuel is metered.
    market_grid_co2e_kg
        Market-based emissions of the site's grid electricity [kg CO2e] (instruments
        allocated, remainder at the residual mix); None: no market-based CUE.
    market_provenance
        Where the market-based figure came from (kept in ``provenance["market"]``).
    renewables
        Renewable energy owned or retired for the site (REF); None: REF is not computed.
    tolerance
        Relative share of E_DC the unattributed remainder may reach before a finding.
    quality
        Quality scores and failed checks from :mod:`esgledger.energy.balance`.
    """
    findings: list[Finding] = []
    e_it, level = _it_energy(role_energy, findings)
    e_dc, grid_kwh = _dc_energy(role_energy, findings)
    pue = _ratio(e_dc, e_it)
    if pue is not None and pue < 1.0:
        findings.append(
            _finding(
                "energy.kpi.pue_below_one",
                f'PUE would be {pue:.3f} < 1 ("better than perfect"): a metering fault; '
                "PUE and the ratios built on it are not reported.",
                f"PUE 计算值为 {pue:.3f} < 1（“优于完美”）：属于计量故障；不报告 PUE 及"
                "由其派生的指标。",
                "error",
                pue=pue,
                e_dc_kwh=e_dc,
                e_it_kwh=e_it,
            )
        )
        pue = None
    pue_ok = pue is not None
    category = green_grid_notation(level, period, interval_seconds) if level else None
    dcie = 1.0 / pue if pue is not None else None

    cooling = role_energy.get("cooling")
    other = role_energy.get("other")
    losses = _power_losses(role_energy, e_it, level)
    if losses is None and "ups_input" not in role_energy:
        findings.append(
            _finding(
                "energy.kpi.no_ups_input",
                "UPS input is not metered: power losses (PLF, pPUE power) are not computed.",
                "未计量 UPS 输入：不计算配电损耗（PLF、供配电 pPUE）。",
                "info",
            )
        )
    it_for_ratios = e_it if pue_ok else None
    clf = _ratio(cooling, it_for_ratios)
    plf = _ratio(losses, it_for_ratios)
    olf = _ratio(other, it_for_ratios)
    ppue: dict[str, float | None] = {
        "cooling": 1.0 + clf if clf is not None else None,
        "power": 1.0 + plf if plf is not None else None,
        "other": 1.0 + olf if olf is not None else None,
    }
    unattributed: float | None = None
    if pue_ok and e_dc is not None and e_it is not None and None not in (cooling, losses, other):
        unattributed = e_dc - e_it - (cooling or 0.0) - (losses or 0.0) - (other or 0.0)
        if abs(unattributed) > tolerance * e_dc:
            findings.append(
                _finding(
                    "energy.kpi.unattributed",
                    f"{unattributed:,.0f} kWh of E_DC ({unattributed / e_dc:.1%}) is neither IT, "
                    "cooling, power losses nor other: CLF + PLF + OLF do not add up to PUE − 1.",
                    f"E_DC 中有 {unattributed:,.0f} kWh（{unattributed / e_dc:.1%}）未归入 IT、"
                    "制冷、配电损耗或其他：CLF + PLF + OLF 之和不等于 PUE − 1。",
                    unattributed_kwh=unattributed,
                    share=unattributed / e_dc,
                    tolerance=tolerance,
                )
            )

    water = role_energy.get("water")
    wue = _ratio(water, e_it)
    if water is None:
        findings.append(
            _finding(
                "energy.kpi.no_water_meter",
                "No water meter: WUE is not computed.",
                "没有水表：不计算 WUE。",
                "info",
            )
        )

    provenance: dict[str, Any] = {
        "it_role": IT_ROLE_BY_CATEGORY.get(level) if level else None,
        "measurement_category": level,
        "interval_seconds": interval_seconds,
        "tolerance": tolerance,
        "fuel_conversion": {f"{f} [{u}]": v for (f, u), v in FUEL_KWH_PER_UNIT.items()},
    }
    co2e_kg: float | None = None
    cue: float | None = None
    fuel_kwh = role_energy.get("fuel", 0.0)
    if grid_factor is None:
        findings.append(
            _finding(
                "energy.kpi.no_grid_factor",
                "No grid emission factor for the site's region and year: CUE is not computed.",
                "没有适用于站点地区和年份的电网排放因子：不计算 CUE。",
            )
        )
    elif fuel_kwh and fuel_factor is None:
        findings.append(
            _finding(
                "energy.kpi.no_fuel_factor",
                "On-site fuel is metered but has no emission factor: CUE is not computed.",
                "已计量现场燃料，但没有其排放因子：不计算 CUE。",
                fuel_kwh=fuel_kwh,
            )
        )
    elif grid_kwh is not None and e_dc is not None:
        co2e_kg = grid_kwh * grid_factor.kg_per_kwh
        if fuel_kwh and fuel_factor is not None:
            co2e_kg += fuel_kwh * fuel_factor.kg_per_kwh
        cue = _ratio(co2e_kg, it_for_ratios)
    if grid_factor is not None:
        provenance["grid_factor"] = _factor_json(grid_factor)
    if fuel_factor is not None:
        provenance["fuel_factor"] = _factor_json(fuel_factor)

    cue_market: float | None = None
    if market_grid_co2e_kg is not None and it_for_ratios is not None:
        market_total = market_grid_co2e_kg
        if fuel_kwh and fuel_factor is not None:
            market_total += fuel_kwh * fuel_factor.kg_per_kwh
        cue_market = market_total / it_for_ratios
        provenance["market"] = dict(market_provenance or {})

    ref: float | None = None
    e_ren: float | None = None
    if renewables is not None and e_dc is not None:
        e_ren = renewables.total_kwh
        ref = e_ren / e_dc
        provenance["renewables"] = {
            "onsite_retained_kwh": renewables.onsite_retained_kwh,
            "certificates_kwh": renewables.certificates_kwh,
            "instruments": list(renewables.instruments),
            "excluded": [dict(x) for x in renewables.excluded],
        }
        if ref > 1.0:
            findings.append(
                _finding(
                    "energy.kpi.ref_above_one",
                    f"Renewable energy claimed ({e_ren:,.0f} kWh) exceeds E_DC ({e_dc:,.0f} kWh); "
                    "REF is at most 1.00 (ISO/IEC 30134-3), the excess is not counted.",
                    f"申报的可再生能源（{e_ren:,.0f} kWh）超过 E_DC（{e_dc:,.0f} kWh）；"
                    "按 ISO/IEC 30134-3，REF 最大为 1.00，超出部分不计入。",
                    "info",
                    e_ren_kwh=e_ren,
                    e_dc_kwh=e_dc,
                )
            )
            ref = 1.0

    heat = role_energy.get("heat_export")
    erf = _ratio(heat if heat is not None else 0.0, e_dc)
    ere = (1.0 - erf) * pue if erf is not None and pue is not None else None

    base_quality = quality if quality is not None else KpiQuality()
    values: dict[str, Any] = {
        "pue": pue, "dcie": dcie, "ppue": ppue["cooling"], "clf": clf, "plf": plf, "olf": olf,
        "wue": wue, "cue": cue, "ref": ref, "erf": erf, "ere": ere,
    }  # fmt: skip
    # a KPI that is not computed has no quality score either
    merged = KpiQuality(
        scores={
            k: (v if values.get(k) is not None else None) for k, v in base_quality.scores.items()
        },
        findings=tuple(base_quality.findings),
    )
    return SiteKpis(
        site=site,
        period=period.label if period is not None else None,
        pue=pue,
        pue_category=category,
        pue_level=level,
        dcie=dcie,
        ppue=ppue,
        clf=clf,
        plf=plf,
        olf=olf,
        wue_l_per_kwh=wue,
        cue_kg_per_kwh=cue,
        cue_market_kg_per_kwh=cue_market,
        ref=ref,
        erf=erf,
        ere=ere,
        e_it_kwh=e_it,
        e_dc_kwh=e_dc,
        e_ren_kwh=e_ren,
        unattributed_kwh=unattributed,
        co2e_kg=co2e_kg,
        quality=merged,
        provenance=provenance,
        findings=tuple(findings),
    )


def _factor_json(factor: FactorRef) -> dict[str, Any]:
    return {
        "kg_per_kwh": factor.kg_per_kwh,
        "factor_id": factor.factor_id,
        "source": factor.source,
        "vintage": factor.vintage,
        "method": factor.method,
        "region": factor.region,
    }


def kpi_rows(kpis: Sequence[SiteKpis]) -> list[dict[str, Any]]:
    """The KPI sets as JSON-native rows."""
    return [k.to_json() for k in kpis]
