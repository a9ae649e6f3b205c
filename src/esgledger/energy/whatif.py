"""What-if simulation of a data centre's year: baseline + one lever → KPIs side by side.

情景模拟：基准年（逐时数据）加一项措施的增量模型，重新计算能耗、PUE、WUE、CUE、REF、成本与排放。

Every scenario is *baseline year (hourly metered or modelled data) + delta model →
recomputed energy [MWh], PUE, WUE, CUE, REF, ERF, ERE, cost and t CO2e (location- and
market-based)* (reference ``domain-modules.md`` §1.6). The delta models are the standard
first-order ones of §1.6; each lever's parameters are a frozen dataclass whose docstring marks
every default that is an assumption ``[A]``. The method, formulas and conventions are in
``docs/energy/whatif.md``.

Pure functions over an hourly table (:func:`baseline_from_table`): columns ``hour_utc``,
``it_kwh``, ``cooling_kwh``, ``power_losses_kwh``, ``other_kwh`` [kWh per hour] and the
weather ``dry_bulb_c``, ``wet_bulb_c``, ``relative_humidity_pct``; optional
``onsite_re_kwh`` (on-site renewable generation, attributes retained), ``water_l`` and
``heat_export_kwh``. :func:`simulate` applies one lever (:data:`LEVERS`) and returns a
:class:`WhatIf` with both :class:`Kpis`.

Conventions (ISO/IEC 30134 as in reference §1.1): ``E_DC = IT + cooling + power losses +
other``; grid import = ``E_DC − on-site self-consumption``; location-based t CO2e = grid
import × grid factor; market-based t CO2e = (grid import − retired green power) × the
market factor (the residual mix when the factor library has one, else the location factor,
with a note); REF counts only renewable energy whose attributes the site retains (self-consumed
on-site generation and retired certificates; exported surplus never).
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from esgledger.energy.findings import Finding
from esgledger.energy.roles import TreeMeter, top_meters
from esgledger.energy.roles import it_role as best_it_role
from esgledger.errors import InputError, Issue
from esgledger.i18n import Text
from esgledger.renewables.pv import PvSystem, pv_hourly

__all__ = [
    "ASHRAE_RECOMMENDED_C",
    "LEVERS",
    "AirSideEconomiser",
    "BaselineYear",
    "CoolingCut",
    "EnvelopeError",
    "GreenPower",
    "GridFactor",
    "HeatReuse",
    "Kpis",
    "Lever",
    "OnsitePv",
    "Prices",
    "SetpointRaise",
    "UpsEcoMode",
    "WaterSideEconomiser",
    "WhatIf",
    "baseline_from_rollups",
    "baseline_from_table",
    "dew_point_c",
    "lever_from_params",
    "simulate",
    "water_side_fraction",
    "wet_bulb_stull_c",
]

FloatArray = npt.NDArray[np.float64]

#: ASHRAE TC 9.9 recommended envelope at the IT inlet [°C] (2008 update: 18-27 °C; reference
#: §1.6 item 2).
ASHRAE_RECOMMENDED_C: tuple[float, float] = (18.0, 27.0)

_ENERGY = ("it_kwh", "cooling_kwh", "power_losses_kwh", "other_kwh")
#: Hours whose meters do not balance (E_DC below its parts) are left out up to this share of
#: the year, with a finding; beyond it the meter tree is wrong and the baseline is refused.
MAX_UNBALANCED_SHARE = 0.01
_KELVIN = 273.15


class EnvelopeError(InputError):
    """A setpoint outside the ASHRAE TC 9.9 recommended envelope (18-27 °C at the IT inlet)."""


def _bad(what: str, value: object, problem: str, fix: str) -> InputError:
    return InputError(
        f"{what}: {problem}", [Issue("what-if", None, what, str(value), problem, fix)]
    )


# ---- the baseline year ----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class BaselineYear:
    """One site's baseline: hourly energy by role [kWh per hour] and weather.

    Attributes
    ----------
    site
        Site code.
    hour_utc
        Start of each hour (UTC, ``datetime64[s]``).
    it_kwh, cooling_kwh, power_losses_kwh, other_kwh
        [kWh] per hour: IT energy, cooling, power-delivery losses (UPS, PDU, transformers),
        other (lighting, ...).
    onsite_re_kwh
        [kWh] per hour: on-site renewable generation whose attributes the site retains.
    dry_bulb_c, wet_bulb_c, relative_humidity_pct
        [°C], [°C], [%] hourly weather (None when the weather file lacks the column).
    water_l
        [L] site water over the year (None when not metered).
    heat_export_kwh
        [kWh] heat exported outside the boundary over the year.
    source
        What the hourly data came from (``metered rollups``, ``synthetic``).
    """

    site: str
    hour_utc: npt.NDArray[np.datetime64]
    it_kwh: FloatArray
    cooling_kwh: FloatArray
    power_losses_kwh: FloatArray
    other_kwh: FloatArray
    onsite_re_kwh: FloatArray
    dry_bulb_c: FloatArray | None
    wet_bulb_c: FloatArray | None
    relative_humidity_pct: FloatArray | None
    water_l: float | None
    heat_export_kwh: float
    source: str = "hourly table"
    notes: tuple[Finding, ...] = ()
    hour_local: npt.NDArray[np.datetime64] | None = None

    @property
    def hours(self) -> int:
        return len(self.it_kwh)

    @property
    def dc_kwh(self) -> FloatArray:
        """[kWh] per hour: ``E_DC = IT + cooling + power losses + other``."""
        return self.it_kwh + self.cooling_kwh + self.power_losses_kwh + self.other_kwh


def _column(table: pa.Table, name: str) -> FloatArray | None:
    if name not in table.column_names:
        return None
    column = table[name]
    if column.null_count == len(column):
        return None
    if column.null_count:
        raise _bad(
            name,
            f"{column.null_count} empty hours",
            f"{column.null_count} of {len(column)} hours have no {name}",
            "fill the gaps in the source data (the what-if never fills them silently)",
        )
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)


def baseline_from_table(
    table: pa.Table,
    *,
    site: str,
    water_l: float | None = None,
    heat_export_kwh: float = 0.0,
    source: str = "hourly table",
    notes: Sequence[Finding] = (),
) -> BaselineYear:
    """A :class:`BaselineYear` from an hourly table (see the module docstring for columns).

    ``water_l`` and ``heat_export_kwh`` [L, kWh per year] are used when the table has no
    ``water_l`` / ``heat_export_kwh`` column.

    Raises
    ------
    InputError
        A missing energy column, an empty hour in an energy column, negative energy, no IT
        energy, or duplicate hours.
    """
    missing = [c for c in ("hour_utc", *_ENERGY) if c not in table.column_names]
    if missing:
        raise _bad(
            "columns",
            ", ".join(table.column_names),
            f"the hourly table lacks {', '.join(missing)}",
            "give hour_utc, it_kwh, cooling_kwh, power_losses_kwh and other_kwh",
        )
    if table.num_rows == 0:
        raise _bad("rows", 0, "the hourly table is empty", "give at least one hour")
    hours = np.asarray(
        table["hour_utc"].cast(pa.timestamp("s")).to_numpy(zero_copy_only=False),
        dtype="datetime64[s]",
    )
    if len(np.unique(hours)) != len(hours):
        raise _bad("hour_utc", "duplicates", "an hour appears twice", "give one row per hour")
    order = np.argsort(hours)
    table = table.take(pa.array(order))
    energy: dict[str, FloatArray] = {}
    for name in _ENERGY:
        values = _column(table, name)
        if values is None:
            raise _bad(name, "empty", f"{name} has no values", f"give {name} for every hour")
        if (values < 0).any():
            raise _bad(name, "negative", f"{name} has negative hours", "correct the source data")
        energy[name] = values
    if energy["it_kwh"].sum() <= 0:
        raise _bad("it_kwh", 0, "no IT energy: PUE is undefined", "give the IT energy")
    onsite = _column(table, "onsite_re_kwh")
    water = _column(table, "water_l")
    heat = _column(table, "heat_export_kwh")
    local = None
    if "hour_local" in table.column_names and table["hour_local"].null_count == 0:
        local = np.asarray(
            table["hour_local"].cast(pa.timestamp("s")).to_numpy(zero_copy_only=False),
            dtype="datetime64[s]",
        )
    return BaselineYear(
        site=site,
        hour_utc=hours[order],
        it_kwh=energy["it_kwh"],
        cooling_kwh=energy["cooling_kwh"],
        power_losses_kwh=energy["power_losses_kwh"],
        other_kwh=energy["other_kwh"],
        onsite_re_kwh=np.zeros(len(hours)) if onsite is None else onsite,
        dry_bulb_c=_column(table, "dry_bulb_c"),
        wet_bulb_c=_column(table, "wet_bulb_c"),
        relative_humidity_pct=_column(table, "relative_humidity_pct"),
        water_l=float(water.sum()) if water is not None else water_l,
        heat_export_kwh=float(heat.sum()) if heat is not None else heat_export_kwh,
        source=source,
        notes=tuple(notes),
        hour_local=local,
    )


#: The IT role by measurement category, best first (ISO/IEC 30134-2 categories 3, 2, 1).
_WEATHER = ("dry_bulb_c", "wet_bulb_c", "relative_humidity_pct")


def baseline_from_rollups(
    rollup: pa.Table,
    weather: pa.Table | None,
    *,
    site: str,
    meters: Sequence[TreeMeter],
) -> BaselineYear:
    """A :class:`BaselineYear` from the core's hourly rollup (long: ``site, meter, role,
    unit, period_start_utc, quantity, coverage``), the hourly weather (``ts_utc, dry_bulb_c,
    wet_bulb_c, relative_humidity_pct``) and the site's meter tree ``meters``.

    Each role's energy is the sum of its topmost meters in the tree
    (:func:`esgledger.energy.roles.top_meters`): a sub-meter below a meter of its own role
    is never added again. Per hour: IT = the best-category IT role present (``it_input`` >
    ``pdu_output`` > ``ups_output``); ``E_DC = incomer + onsite_re + fuel − non_dc``
    (``incomer`` is the boundary import); power losses = ``E_DC − IT − cooling − other``;
    water [L] and heat export [kWh] summed over the year. An hour where a needed role or the
    weather is missing, or whose coverage is below 1, is left out and counted in a note
    (never filled).

    Raises
    ------
    InputError
        No incomer or no IT role, or more than :data:`MAX_UNBALANCED_SHARE` of the hours with
        negative losses (the meter tree does not balance: run the balance check); fewer such
        hours are left out with a finding.
    """
    rows = rollup.filter(pc.equal(rollup["site"], site)) if rollup.num_rows else rollup
    if rows.num_rows == 0:
        raise _bad("site", site, "the hourly rollup has no rows for the site", "import readings")
    tops = [m.meter for found in top_meters(meters).values() for m in found]
    rows = rows.filter(pc.is_in(rows["meter"], pa.array(tops, pa.string())))
    columns = ["role", "period_start_utc", "quantity", "coverage"]
    if "flagged" in rows.column_names:
        columns.append("flagged")
    if "period_local" in rows.column_names:
        columns.append("period_local")
    frame = rows.select(columns).to_pandas()
    roles = set(frame["role"])
    it_role = best_it_role(roles)
    if it_role is None or "incomer" not in roles:
        raise _bad(
            "role",
            ", ".join(sorted(roles)),
            "the site needs an incomer (boundary) meter and an IT meter for a what-if",
            "add incomer and it_input / pdu_output / ups_output meters",
        )
    frame["complete"] = frame["quantity"].notna() & (frame["coverage"] >= 1.0)
    flagged_hours = (
        int(frame.loc[frame["flagged"] > 0, "period_start_utc"].nunique())
        if "flagged" in frame.columns
        else 0
    )
    grouped = frame.groupby(["period_start_utc", "role"])
    quantity = grouped["quantity"].sum(min_count=1).unstack("role")
    complete = grouped["complete"].all().unstack("role")
    needed = [it_role, "incomer", *(r for r in ("cooling", "other", "non_dc") if r in roles)]
    needed += [r for r in ("onsite_re", "fuel") if r in roles]
    ok = complete[needed].fillna(False).all(axis=1)
    if weather is not None and weather.num_rows:
        w = weather.to_pandas().set_index("ts_utc")
        present = [c for c in _WEATHER if c in w.columns and w[c].notna().any()]
        quantity = quantity.join(w[present], how="left")
        ok &= quantity[present].notna().all(axis=1).reindex(ok.index, fill_value=False)
    left_out = int((~ok).sum())
    quantity = quantity[ok.reindex(quantity.index, fill_value=False)]

    def role(name: str) -> FloatArray:
        if name not in quantity.columns:
            return np.zeros(len(quantity))
        return np.asarray(quantity[name].fillna(0.0), dtype=np.float64)

    def losses_of() -> FloatArray:
        dc = role("incomer") + role("onsite_re") + role("fuel") - role("non_dc")
        return dc - role(it_role) - role("cooling") - role("other")

    unbalanced = losses_of() < -1e-9
    negative = int(unbalanced.sum())
    if negative and negative <= MAX_UNBALANCED_SHARE * len(unbalanced):
        # a few hours of a faulty meter (stuck, drifting) are left out, never used
        quantity = quantity[~unbalanced]
    it = role(it_role)
    cooling, other = role("cooling"), role("other")
    losses = losses_of()
    if negative > MAX_UNBALANCED_SHARE * len(unbalanced):
        raise _bad(
            "power_losses_kwh",
            f"{negative} hours",
            f"{negative} hours have E_DC below IT + cooling + other: the meter tree does not "
            "balance",
            "run the balance check (energy kpi) and correct the meters",
        )
    notes = []
    if negative:
        notes.append(
            Finding(
                "energy.whatif.unbalanced_hours",
                Text(
                    f"{negative} hours left out: E_DC is below IT + cooling + other there (a "
                    "meter fault; see `esgledger energy anomalies`).",
                    f"剔除 {negative} 小时：该时段数据中心总能耗低于 IT、制冷与其他之和"
                    "（计量故障；见 `esgledger energy anomalies`）。",
                ),
                {"hours": negative},
            )
        )
    if left_out:
        notes.append(
            Finding(
                "energy.whatif.hours_left_out",
                Text(
                    f"{left_out} hours left out: a meter or the weather is incomplete there.",
                    f"剔除 {left_out} 小时：该时段计量或气象数据不完整。",
                ),
                {"hours": left_out},
            )
        )
    if flagged_hours:
        notes.append(
            Finding(
                "energy.whatif.flagged_hours",
                Text(
                    f"{flagged_hours} hours hold intervals flagged by the readings checks "
                    "(gap, stuck, spike…): they are used as metered; see `esgledger energy "
                    "rollup`.",
                    f"{flagged_hours} 小时含被读数检查标记的区间（缺失、停滞、尖峰等）："
                    "按计量值使用；详见 `esgledger energy rollup`。",
                ),
                {"hours": flagged_hours},
            )
        )
    table = pa.table(
        {
            "hour_utc": pa.array(quantity.index.to_numpy(), pa.timestamp("s")),
            "it_kwh": it,
            "cooling_kwh": cooling,
            "power_losses_kwh": np.maximum(losses, 0.0),  # only float noise below 0 is left
            "other_kwh": other,
            "onsite_re_kwh": role("onsite_re"),
            **(
                {
                    "hour_local": pa.array(
                        frame.groupby("period_start_utc")["period_local"]
                        .first()
                        .reindex(quantity.index)
                        .to_numpy(),
                        pa.timestamp("s"),
                    )
                }
                if "period_local" in frame.columns
                else {}
            ),
            **{c: quantity[c].to_numpy(dtype=np.float64) for c in _WEATHER if c in quantity},
        }
    )
    water = (
        float(frame.loc[frame["role"] == "water", "quantity"].sum()) if "water" in roles else None
    )
    heat = float(frame.loc[frame["role"] == "heat_export", "quantity"].sum())
    return baseline_from_table(
        table,
        site=site,
        water_l=water,
        heat_export_kwh=heat,
        source=f"metered hourly rollups (IT at {it_role})",
        notes=notes,
    )


# ---- factors and prices ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GridFactor:
    """A grid emission factor [kg CO2e / kWh] with its provenance.

    ``method``: ``location`` or ``residual_mix`` (or ``location (no residual mix)`` when the
    market-based calculation had to use the location factor).
    """

    kg_co2e_per_kwh: float
    factor_id: str
    source: str
    vintage: int
    method: str = "location"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.kg_co2e_per_kwh) and self.kg_co2e_per_kwh >= 0):
            raise _bad("grid factor", self.kg_co2e_per_kwh, "not a finite factor ≥ 0", "fix it")

    def to_json(self) -> dict[str, Any]:
        return {
            "kg_co2e_per_kwh": self.kg_co2e_per_kwh,
            "unit": "kg CO2e/kWh",
            "factor_id": self.factor_id,
            "source": self.source,
            "vintage": self.vintage,
            "method": self.method,
        }


@dataclass(frozen=True, slots=True)
class Prices:
    """Prices of the cost figures.

    Attributes
    ----------
    electricity_per_kwh
        [currency / kWh] grid electricity, energy and network charges together.
    currency
        ISO 4217 code.
    """

    electricity_per_kwh: float
    currency: str

    def __post_init__(self) -> None:
        if not (math.isfinite(self.electricity_per_kwh) and self.electricity_per_kwh >= 0):
            raise _bad("electricity price", self.electricity_per_kwh, "not ≥ 0", "give a price")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise _bad("currency", self.currency, "not an ISO 4217 code", "use e.g. CNY")


# ---- the scenario state -----------------------------------------------------------------


@dataclass(slots=True)
class _State:
    """What a lever changes (mutable copy, internal)."""

    it: FloatArray
    cooling: FloatArray
    losses: FloatArray
    other: FloatArray
    onsite_gen: FloatArray  # on-site renewable generation [kWh/h], attributes retained
    onsite_unretained: FloatArray  # on-site generation whose attributes are not retained
    green_kwh: float = 0.0
    reuse_kwh: float = 0.0
    water_l: float | None = None
    extra_cost: float = 0.0
    full_free_h: int | None = None
    partial_free_h: int | None = None
    free_fraction: FloatArray | None = None  # per hour: 1 full, (0, 1) partial free cooling
    notes: list[Finding] = field(default_factory=list)

    @classmethod
    def of(cls, base: BaselineYear) -> _State:
        return cls(
            it=base.it_kwh.copy(),
            cooling=base.cooling_kwh.copy(),
            losses=base.power_losses_kwh.copy(),
            other=base.other_kwh.copy(),
            onsite_gen=base.onsite_re_kwh.copy(),
            onsite_unretained=np.zeros(base.hours),
            reuse_kwh=base.heat_export_kwh,
            water_l=base.water_l,
        )

    @property
    def dc(self) -> FloatArray:
        return self.it + self.cooling + self.losses + self.other


@dataclass(frozen=True, slots=True)
class Kpis:
    """A year's energy, KPIs, cost and emissions (baseline or scenario).

    Energy in [MWh]; ``wue_l_per_kwh`` [L/kWh] (None without metered water);
    ``cue_kg_per_kwh`` [kg CO2e/kWh] location-based and ``cue_market_kg_per_kwh``
    market-based; ``ref``, ``erf`` [0..1]; ``cost`` [currency / yr]; ``co2e_t_location``,
    ``co2e_t_market`` [t CO2e / yr]; free-cooling hours where the lever computes them.
    """

    e_dc_mwh: float
    e_it_mwh: float
    cooling_mwh: float
    power_losses_mwh: float
    other_mwh: float
    grid_import_mwh: float
    onsite_self_mwh: float
    onsite_export_mwh: float
    green_mwh: float
    reuse_mwh: float
    pue: float
    wue_l_per_kwh: float | None
    cue_kg_per_kwh: float
    cue_market_kg_per_kwh: float
    ref: float
    erf: float
    ere: float
    cost: float
    currency: str
    co2e_t_location: float
    co2e_t_market: float
    free_cooling_full_h: int | None = None
    free_cooling_partial_h: int | None = None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _kpis(state: _State, location: GridFactor, market: GridFactor, prices: Prices) -> Kpis:
    dc = state.dc
    e_dc, e_it = float(dc.sum()), float(state.it.sum())
    if e_it <= 0:
        raise _bad("it_kwh", 0, "no IT energy: PUE is undefined", "give the IT energy")
    generation = state.onsite_gen + state.onsite_unretained
    self_all = np.minimum(generation, dc)
    # the retained share of each hour's self-consumption, pro rata to the generation
    share = np.divide(
        state.onsite_gen, generation, out=np.zeros_like(generation), where=generation > 0
    )
    self_retained = float((self_all * share).sum())
    self_kwh = float(self_all.sum())
    export = float((generation - self_all).sum())
    grid = e_dc - self_kwh
    if state.green_kwh > grid + 1e-6:
        raise _bad(
            "green_mwh",
            state.green_kwh / 1000,
            f"retired green power {state.green_kwh / 1000:,.1f} MWh exceeds the grid import "
            f"{grid / 1000:,.1f} MWh",
            "retire no more certificates than the electricity they cover",
        )
    location_kg = grid * location.kg_co2e_per_kwh
    market_kg = max(grid - state.green_kwh, 0.0) * market.kg_co2e_per_kwh
    reuse = state.reuse_kwh
    return Kpis(
        e_dc_mwh=e_dc / 1000,
        e_it_mwh=e_it / 1000,
        cooling_mwh=float(state.cooling.sum()) / 1000,
        power_losses_mwh=float(state.losses.sum()) / 1000,
        other_mwh=float(state.other.sum()) / 1000,
        grid_import_mwh=grid / 1000,
        onsite_self_mwh=self_kwh / 1000,
        onsite_export_mwh=export / 1000,
        green_mwh=state.green_kwh / 1000,
        reuse_mwh=reuse / 1000,
        pue=e_dc / e_it,
        wue_l_per_kwh=None if state.water_l is None else state.water_l / e_it,
        cue_kg_per_kwh=location_kg / e_it,
        cue_market_kg_per_kwh=market_kg / e_it,
        ref=(self_retained + state.green_kwh) / e_dc,
        erf=reuse / e_dc,
        ere=(e_dc - reuse) / e_it,
        cost=grid * prices.electricity_per_kwh + state.extra_cost,
        currency=prices.currency,
        co2e_t_location=location_kg / 1000,
        co2e_t_market=market_kg / 1000,
        free_cooling_full_h=state.full_free_h,
        free_cooling_partial_h=state.partial_free_h,
    )


# ---- psychrometrics -------------------------------------------------------------------------


def dew_point_c(dry_bulb_c: FloatArray, relative_humidity_pct: FloatArray) -> FloatArray:
    """Dew point [°C] by the Magnus formula (Sonntag 1990 constants b = 17.62, c = 243.12 °C;
    WMO-No. 8, Annex 4.B), good to ±0.35 K for −45…60 °C."""
    b, c = 17.62, 243.12
    rh = np.clip(relative_humidity_pct, 1e-6, 100.0) / 100.0  # ln(0) guard only
    gamma = np.log(rh) + b * dry_bulb_c / (c + dry_bulb_c)
    return np.asarray(c * gamma / (b - gamma), dtype=np.float64)


def wet_bulb_stull_c(dry_bulb_c: FloatArray, relative_humidity_pct: FloatArray) -> FloatArray:
    """Wet-bulb temperature [°C] at sea-level pressure from dry bulb and RH (Stull 2011, J.
    Appl. Meteor. Climatol. 50, 2267-2269, eq. 1; within −1…+0.65 K for RH 5-99 %,
    T −20…50 °C)."""
    t, rh = dry_bulb_c, relative_humidity_pct
    return np.asarray(
        t * np.arctan(0.151977 * np.sqrt(rh + 8.313659))
        + np.arctan(t + rh)
        - np.arctan(rh - 1.676331)
        + 0.00391838 * rh**1.5 * np.arctan(0.023101 * rh)
        - 4.686035,
        dtype=np.float64,
    )


def _wet_bulb(base: BaselineYear, notes: list[Finding]) -> FloatArray:
    if base.wet_bulb_c is not None:
        return base.wet_bulb_c
    if base.dry_bulb_c is not None and base.relative_humidity_pct is not None:
        notes.append(
            Finding(
                "energy.whatif.wet_bulb_estimated",
                Text(
                    "Wet bulb estimated from dry bulb and humidity (Stull 2011, ±1 K).",
                    "湿球温度由干球温度与相对湿度估算（Stull 2011，误差约 ±1 K）。",
                ),
            )
        )
        return wet_bulb_stull_c(base.dry_bulb_c, base.relative_humidity_pct)
    raise _bad(
        "wet_bulb_c",
        "missing",
        "the weather has neither wet bulb nor dry bulb with relative humidity",
        "import weather with wet_bulb_c, or dry_bulb_c and relative_humidity_pct",
    )


def water_side_fraction(
    wet_bulb_c: FloatArray,
    *,
    chws_c: float,
    chwr_c: float,
    tower_approach_k: float,
    hx_approach_k: float,
) -> FloatArray:
    """Share of the chiller load the water-side economiser carries, hour by hour [0..1].

    ``T = T_wb + a_tower + a_hx``: 1 (full free cooling) when ``T ≤ T_CHWS``; in series
    (partial) ``(T_CHWR − T) / (T_CHWR − T_CHWS)`` when ``T_CHWS < T < T_CHWR``; 0 when
    ``T ≥ T_CHWR`` (reference §1.6 item 1).
    """
    leaving = wet_bulb_c + tower_approach_k + hx_approach_k
    fraction = (chwr_c - leaving) / (chwr_c - chws_c)
    return np.asarray(np.clip(fraction, 0.0, 1.0), dtype=np.float64)


# ---- levers ---------------------------------------------------------------------------------


class Lever:
    """Base of the lever parameter dataclasses: ``key``, names and :meth:`apply`.

    A lever declares each parameter once, with its default and the rule it must meet
    (:func:`_share`, :func:`_nonnegative`, :func:`_positive`, :func:`_efficiency`,
    :func:`_setpoint`); :meth:`__post_init__` checks them all, then the rules that tie
    parameters together (:meth:`check`)."""

    key: ClassVar[str]
    name: ClassVar[Text]
    explanation: ClassVar[Text]
    planner_lever: ClassVar[str] = "efficiency"

    def __post_init__(self) -> None:
        for spec in dataclasses.fields(self):  # type: ignore[arg-type]
            rule = spec.metadata.get("rule")
            if rule is not None:
                rule(spec.name, getattr(self, spec.name))
        self.check()

    def check(self) -> None:
        """Rules across parameters (none unless a lever has some)."""

    def apply(self, base: BaselineYear, state: _State) -> None:  # pragma: no cover
        raise NotImplementedError


_Rule = Callable[[str, float], None]


def _param(default: float, rule: _Rule) -> Any:
    """A lever parameter: its default and the rule its value must meet."""
    return field(default=default, metadata={"rule": rule})


def _share(name: str, value: float) -> None:
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise _bad(name, value, "must be a share between 0 and 1", f"give {name} in 0..1")


def _nonnegative(name: str, value: float) -> None:
    if not (math.isfinite(value) and value >= 0.0):
        raise _bad(name, value, "must be a finite number ≥ 0", f"give {name} ≥ 0")


def _positive(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0.0):
        raise _bad(name, value, "must be a finite number > 0", f"give {name} > 0")


def _efficiency(name: str, value: float) -> None:
    if not (math.isfinite(value) and 0.0 < value <= 1.0):
        raise _bad(name, value, "efficiency must be in (0, 1]", "give e.g. 0.95")


def _setpoint(name: str, value: float) -> None:
    low, high = ASHRAE_RECOMMENDED_C
    if not (math.isfinite(value) and low <= value <= high):
        raise EnvelopeError(
            f"{name} {value} °C is outside the ASHRAE TC 9.9 recommended envelope "
            f"{low:g}-{high:g} °C at the IT inlet; the what-if refuses it",
            [
                Issue(
                    "what-if",
                    None,
                    name,
                    str(value),
                    f"outside the ASHRAE recommended envelope {low:g}-{high:g} °C",
                    f"choose a setpoint between {low:g} and {high:g} °C",
                )
            ],
        )


@dataclass(frozen=True, slots=True)
class CoolingCut(Lever):
    """Cooling energy cut by a share, every hour alike (e.g. optimised controls; reference
    §1.5: DeepMind's claimed "up to 40 %").

    Attributes
    ----------
    share
        [0..1] share of cooling energy removed (default 0.4 [A], the §1.5 claim).
    """

    share: float = _param(0.4, _share)
    key: ClassVar[str] = "cooling_cut"
    name: ClassVar[Text] = Text(
        "Cooling energy cut (optimised control)", "制冷能耗削减（优化控制）"
    )
    explanation: ClassVar[Text] = Text(
        "Cooling energy reduced by a fixed share in every hour; PUE falls with CLF.",
        "每小时制冷能耗按固定比例削减；PUE 随 CLF 下降。",
    )

    def apply(self, base: BaselineYear, state: _State) -> None:
        state.cooling = state.cooling * (1.0 - self.share)


@dataclass(frozen=True, slots=True)
class WaterSideEconomiser(Lever):
    """Water-side economiser (plate heat exchanger between tower and chilled water).

    Attributes
    ----------
    chws_c, chwr_c
        [°C] chilled-water supply and return (defaults 18 / 24 [A], the §1.6 example).
    tower_approach_k, hx_approach_k
        [K] cooling-tower and heat-exchanger approaches (4 / 1.5 [A], the §1.6 example).
    chiller_share
        [0..1] share of cooling energy drawn by the chiller compressors, which free cooling
        removes (0.6 [A]; pumps, towers and CRAH fans keep running).
    aux_fraction
        [0..1] of the avoided chiller energy spent again on economiser pumps and tower fans
        (0.1 [A]).
    """

    chws_c: float = 18.0
    chwr_c: float = 24.0
    tower_approach_k: float = _param(4.0, _nonnegative)
    hx_approach_k: float = _param(1.5, _nonnegative)
    chiller_share: float = _param(0.6, _share)
    aux_fraction: float = _param(0.1, _share)
    key: ClassVar[str] = "free_cooling"
    name: ClassVar[Text] = Text("Water-side economiser (free cooling)", "水侧自然冷却（板换）")
    explanation: ClassVar[Text] = Text(
        "Chillers rest when the tower water is cold enough: full free cooling when wet bulb "
        "+ approaches ≤ CHW supply, partial up to CHW return.",
        "冷却塔出水足够冷时冷机停机：湿球温度加趋近温度不高于冷冻水供水温度时完全自然冷却，"
        "低于回水温度时部分自然冷却。",
    )

    def check(self) -> None:
        if not (math.isfinite(self.chws_c) and math.isfinite(self.chwr_c)) or (
            self.chwr_c <= self.chws_c
        ):
            raise _bad("chwr_c", self.chwr_c, "CHW return must be above CHW supply", "fix it")

    @property
    def full_below_wet_bulb_c(self) -> float:
        """[°C] wet bulb at or below which free cooling is full."""
        return self.chws_c - self.tower_approach_k - self.hx_approach_k

    @property
    def partial_below_wet_bulb_c(self) -> float:
        """[°C] wet bulb below which free cooling is at least partial."""
        return self.chwr_c - self.tower_approach_k - self.hx_approach_k

    def fraction(self, wet_bulb_c: FloatArray) -> FloatArray:
        return water_side_fraction(
            wet_bulb_c,
            chws_c=self.chws_c,
            chwr_c=self.chwr_c,
            tower_approach_k=self.tower_approach_k,
            hx_approach_k=self.hx_approach_k,
        )

    def apply(self, base: BaselineYear, state: _State) -> None:
        wet_bulb = _wet_bulb(base, state.notes)
        f = self.fraction(wet_bulb)
        avoided = state.cooling * self.chiller_share * f
        state.cooling = state.cooling - avoided * (1.0 - self.aux_fraction)
        state.full_free_h = int((f >= 1.0).sum())
        state.partial_free_h = int(((f > 0.0) & (f < 1.0)).sum())
        state.free_fraction = f


@dataclass(frozen=True, slots=True)
class AirSideEconomiser(Lever):
    """Air-side economiser (outdoor air when it is cool and dry enough).

    Attributes
    ----------
    supply_air_c
        [°C] supply-air setpoint, inside the ASHRAE recommended envelope (24 [A]).
    fan_approach_k
        [K] temperature rise across fans and mixing, ``a_fan`` (1.5 [A]).
    dew_point_min_c, dew_point_max_c
        [°C] dew-point limits of the ASHRAE recommended envelope (−9 / 15, TC 9.9 2015).
    rh_max_pct
        [%] relative-humidity limit of the recommended envelope (60).
    mechanical_share
        [0..1] of cooling energy the economiser hours remove (chillers, CHW pumps, towers;
        0.7 [A]).
    """

    supply_air_c: float = _param(24.0, _setpoint)
    fan_approach_k: float = _param(1.5, _nonnegative)
    dew_point_min_c: float = -9.0
    dew_point_max_c: float = 15.0
    rh_max_pct: float = 60.0
    mechanical_share: float = _param(0.7, _share)
    key: ClassVar[str] = "air_economiser"
    name: ClassVar[Text] = Text("Air-side economiser", "风侧自然冷却（新风）")
    explanation: ClassVar[Text] = Text(
        "Outdoor air cools the hall when dry bulb ≤ supply air − fan rise and humidity is "
        "inside the ASHRAE envelope.",
        "当干球温度不高于送风温度减风机温升、且湿度在 ASHRAE 范围内时，以室外新风冷却机房。",
    )

    def check(self) -> None:
        if self.dew_point_max_c <= self.dew_point_min_c:
            raise _bad("dew_point_max_c", self.dew_point_max_c, "not above the minimum", "fix")

    def free_hours(self, base: BaselineYear) -> npt.NDArray[np.bool_]:
        if base.dry_bulb_c is None or base.relative_humidity_pct is None:
            raise _bad(
                "relative_humidity_pct",
                "missing",
                "the air-side economiser needs dry bulb and relative humidity",
                "import weather with dry_bulb_c and relative_humidity_pct",
            )
        db, rh = base.dry_bulb_c, base.relative_humidity_pct
        dp = dew_point_c(db, rh)
        return np.asarray(
            (db <= self.supply_air_c - self.fan_approach_k)
            & (dp >= self.dew_point_min_c)
            & (dp <= self.dew_point_max_c)
            & (rh <= self.rh_max_pct),
            dtype=np.bool_,
        )

    def apply(self, base: BaselineYear, state: _State) -> None:
        free = self.free_hours(base)
        state.cooling = np.where(free, state.cooling * (1.0 - self.mechanical_share), state.cooling)
        state.full_free_h = int(free.sum())
        state.partial_free_h = 0
        state.free_fraction = free.astype(np.float64)


@dataclass(frozen=True, slots=True)
class SetpointRaise(Lever):
    """Raise the supply-air (IT inlet) setpoint and the chilled water with it.

    Chiller energy scales with ``1/COP``, ``COP ∝ T_evap / (T_cond − T_evap)`` (Carnot
    form; the efficiency factor cancels): ``T_evap = T_CHWS − a_evap``, ``T_cond = T_wb +
    a_tower + a_cond``, the lift at least ``min_lift_k``. Server fans draw
    ``fan_penalty_per_k`` more IT energy per kelvin of inlet above ``fan_threshold_c``.

    Attributes
    ----------
    supply_air_from_c, supply_air_to_c
        [°C] IT-inlet setpoint before and after, both inside 18-27 °C (20 → 24 [A]).
    chws_from_c
        [°C] chilled-water supply before; it rises 1:1 with the supply air (12 [A]).
    evaporator_approach_k, condenser_approach_k, tower_approach_k
        [K] (2 / 3 / 4 [A]).
    min_lift_k
        [K] the chiller's minimum lift (10 [A]).
    chiller_share
        [0..1] of cooling energy drawn by chillers (0.6 [A]).
    fan_penalty_per_k, fan_threshold_c
        [1/K], [°C] server-fan penalty on IT energy (0.01 per K above 25 °C [A],
        configurable as reference §1.6 item 2 asks).
    """

    supply_air_from_c: float = _param(20.0, _setpoint)
    supply_air_to_c: float = _param(24.0, _setpoint)
    chws_from_c: float = 12.0
    evaporator_approach_k: float = _param(2.0, _nonnegative)
    condenser_approach_k: float = _param(3.0, _nonnegative)
    tower_approach_k: float = _param(4.0, _nonnegative)
    min_lift_k: float = _param(10.0, _positive)
    chiller_share: float = _param(0.6, _share)
    fan_penalty_per_k: float = _param(0.01, _nonnegative)
    fan_threshold_c: float = 25.0
    key: ClassVar[str] = "setpoint"
    name: ClassVar[Text] = Text("Raise supply-air / CHW setpoints", "提高送风与冷冻水温度设定值")
    explanation: ClassVar[Text] = Text(
        "A warmer inlet within the ASHRAE 18-27 °C envelope lets the chilled water run warmer: "
        "less chiller lift, higher COP; server fans may draw more near the top.",
        "在 ASHRAE 18-27 °C 推荐范围内提高进风温度，冷冻水温度随之提高：冷机提升减小、COP 提高；"
        "接近上限时服务器风扇功耗可能增加。",
    )

    def _energy_per_kwh_cooling(self, chws_c: float, wet_bulb_c: FloatArray) -> FloatArray:
        """∝ 1/COP = lift / T_evap [K/K]."""
        t_evap = chws_c - self.evaporator_approach_k + _KELVIN
        t_cond = wet_bulb_c + self.tower_approach_k + self.condenser_approach_k + _KELVIN
        lift = np.maximum(t_cond - t_evap, self.min_lift_k)
        return np.asarray(lift / t_evap, dtype=np.float64)

    def apply(self, base: BaselineYear, state: _State) -> None:
        wet_bulb = _wet_bulb(base, state.notes)
        delta = self.supply_air_to_c - self.supply_air_from_c
        before = self._energy_per_kwh_cooling(self.chws_from_c, wet_bulb)
        after = self._energy_per_kwh_cooling(self.chws_from_c + delta, wet_bulb)
        chiller = state.cooling * self.chiller_share
        state.cooling = state.cooling - chiller + chiller * after / before

        def over(t: float) -> float:
            return max(0.0, t - self.fan_threshold_c)

        penalty = self.fan_penalty_per_k * (
            over(self.supply_air_to_c) - over(self.supply_air_from_c)
        )
        state.it = state.it * (1.0 + penalty)


@dataclass(frozen=True, slots=True)
class OnsitePv(Lever):
    """On-site PV modelled with pvlib (:func:`esgledger.renewables.pv.pv_hourly`, PVWatts;
    clear-sky irradiance, the hourly dry bulb as air temperature). Self-consumption per hour
    = ``min(PV_h, load_h)``; the rest is exported and never counts toward REF.

    Attributes
    ----------
    capacity_kwp
        [kWp] DC nameplate (required).
    latitude, longitude
        [degrees] site location (required).
    tilt_deg, azimuth_deg, losses_pct
        (20°, 180° = south, 14 % [A]).
    retain_attributes
        Whether the site keeps the generation's certificates (REF counts it only then).
    """

    capacity_kwp: float = _param(0.0, _positive)
    latitude: float = float("nan")
    longitude: float = float("nan")
    tilt_deg: float = 20.0
    azimuth_deg: float = 180.0
    losses_pct: float = 14.0
    retain_attributes: bool = True
    key: ClassVar[str] = "pv"
    planner_lever: ClassVar[str] = "onsite_pv"
    name: ClassVar[Text] = Text("On-site solar PV", "现场分布式光伏")
    explanation: ClassVar[Text] = Text(
        "Rooftop PV (pvlib, clear sky) self-consumed hour by hour up to the site load; "
        "REF counts it only when the certificates are retained.",
        "屋顶光伏（pvlib，晴空模型）逐时自发自用，以站点负荷为上限；仅在保留环境权益时计入 REF。",
    )

    def check(self) -> None:
        if not (math.isfinite(self.latitude) and math.isfinite(self.longitude)):
            raise _bad(
                "latitude",
                self.latitude,
                "PV needs the site's latitude and longitude",
                "give latitude=.. longitude=..",
            )

    def generation_kwh(self, base: BaselineYear) -> FloatArray:
        system = PvSystem(
            latitude=self.latitude,
            longitude=self.longitude,
            capacity_kwp=self.capacity_kwp,
            tilt_deg=self.tilt_deg,
            azimuth_deg=self.azimuth_deg,
            losses_pct=self.losses_pct,
        )
        hours = [
            datetime.fromtimestamp(int(t), tz=UTC)
            for t in base.hour_utc.astype("datetime64[s]").astype(np.int64)
        ]
        temp: float | list[float] = 20.0 if base.dry_bulb_c is None else base.dry_bulb_c.tolist()
        table = pv_hourly(system, hours, timezone="UTC", temp_air_c=temp)
        return np.asarray(table["generation_kwh"].to_numpy(), dtype=np.float64)

    def apply(self, base: BaselineYear, state: _State) -> None:
        pv = self.generation_kwh(base)
        if self.retain_attributes:
            state.onsite_gen = state.onsite_gen + pv
        else:
            state.onsite_unretained = state.onsite_unretained + pv
        state.notes.append(
            Finding(
                "energy.whatif.pv_clear_sky",
                Text(
                    "PV modelled under clear sky: an upper bound; cloudy hours lower it.",
                    "光伏按晴空辐照建模，为上限估计；阴天会降低发电量。",
                ),
                {"generation_mwh": float(pv.sum()) / 1000},
            )
        )


@dataclass(frozen=True, slots=True)
class UpsEcoMode(Lever):
    """UPS eco-mode (bypass path in normal operation): lower UPS losses, PLF falls.

    UPS losses for a load ``L`` are ``L (1/η − 1)``; the UPS part of the power losses scales
    by ``(1/η_eco − 1) / (1/η_dc − 1)`` during the eco-mode hours.

    Attributes
    ----------
    ups_share_of_losses
        [0..1] UPS share of the power-delivery losses (0.75 [A]; 600 of 800 MWh in the §1.1
        example).
    double_conversion_efficiency, eco_mode_efficiency
        [0..1] (0.95 / 0.99 [A]).
    eco_hours_share
        [0..1] of hours in eco mode (1.0 [A]).
    """

    ups_share_of_losses: float = _param(0.75, _share)
    double_conversion_efficiency: float = _param(0.95, _efficiency)
    eco_mode_efficiency: float = _param(0.99, _efficiency)
    eco_hours_share: float = _param(1.0, _share)
    key: ClassVar[str] = "ups_eco"
    name: ClassVar[Text] = Text("UPS eco-mode", "UPS 经济运行模式（ECO）")
    explanation: ClassVar[Text] = Text(
        "The UPS runs on its bypass path while the mains are good: fewer conversion losses, "
        "lower PLF. Not for sites whose tier requires double conversion.",
        "市电正常时 UPS 经旁路运行：变换损耗减少，PLF 降低。要求双变换的等级站点不适用。",
    )

    def apply(self, base: BaselineYear, state: _State) -> None:
        dc_loss = 1.0 / self.double_conversion_efficiency - 1.0
        ratio = 0.0 if dc_loss == 0 else (1.0 / self.eco_mode_efficiency - 1.0) / dc_loss
        cut = self.ups_share_of_losses * self.eco_hours_share * (1.0 - ratio)
        state.losses = state.losses * (1.0 - cut)


@dataclass(frozen=True, slots=True)
class HeatReuse(Lever):
    """Waste heat exported outside the boundary (district heat): ERF and ERE.

    Site scope 2 is unchanged (the customer's avoided heat is theirs, not the site's); the
    heat sold lowers the cost.

    Attributes
    ----------
    reuse_share_of_it
        [0..1] of IT energy delivered as heat outside the boundary (0.1 [A]).
    heat_price_per_kwh
        [currency / kWh] paid for the heat (0 [A]).
    """

    reuse_share_of_it: float = _param(0.1, _share)
    heat_price_per_kwh: float = _param(0.0, _nonnegative)
    key: ClassVar[str] = "heat_reuse"
    name: ClassVar[Text] = Text("Heat reuse (district heat)", "余热回收（区域供热）")
    explanation: ClassVar[Text] = Text(
        "Heat exported outside the data centre raises ERF and lowers ERE; the site's own "
        "emissions do not change.",
        "向数据中心边界外输出余热，提高 ERF、降低 ERE；站点自身排放不变。",
    )

    def apply(self, base: BaselineYear, state: _State) -> None:
        added = self.reuse_share_of_it * float(state.it.sum())
        state.reuse_kwh += added
        state.extra_cost -= added * self.heat_price_per_kwh


@dataclass(frozen=True, slots=True)
class GreenPower(Lever):
    """Green power procured and retired (GEC, I-REC, PPA with certificates).

    Location-based t CO2e is unchanged; market-based covers ``mwh_per_yr`` at zero; REF
    rises by ``mwh_per_yr / E_DC``.

    Attributes
    ----------
    mwh_per_yr
        [MWh / yr] certificates retired for the site (required).
    premium_per_mwh
        [currency / MWh] price of the certificates or the PPA premium (0 [A]).
    """

    mwh_per_yr: float = _param(0.0, _positive)
    premium_per_mwh: float = _param(0.0, _nonnegative)
    key: ClassVar[str] = "green_power"
    planner_lever: ClassVar[str] = "green_power"
    name: ClassVar[Text] = Text("Green power procurement", "绿电采购")
    explanation: ClassVar[Text] = Text(
        "Retired certificates cover grid electricity: market-based emissions and REF change, "
        "location-based emissions do not.",
        "注销的绿证覆盖电网用电：基于市场的排放与 REF 改变，基于位置的排放不变。",
    )

    def apply(self, base: BaselineYear, state: _State) -> None:
        state.green_kwh += self.mwh_per_yr * 1000.0
        state.extra_cost += self.mwh_per_yr * self.premium_per_mwh


#: The levers by key.
LEVERS: Mapping[str, type[Lever]] = {
    cls.key: cls
    for cls in (
        WaterSideEconomiser,
        AirSideEconomiser,
        SetpointRaise,
        OnsitePv,
        UpsEcoMode,
        HeatReuse,
        GreenPower,
        CoolingCut,
    )
}


def _convert(name: str, kind: Any, text: str) -> Any:
    if kind is bool:
        low = text.strip().lower()
        if low in ("true", "yes", "1"):
            return True
        if low in ("false", "no", "0"):
            return False
        raise _bad(name, text, "not a yes/no value", "write true or false")
    try:
        return float(text)
    except ValueError:
        raise _bad(name, text, "not a number", f"write {name}=<number>") from None


def lever_from_params(key: str, params: Mapping[str, str | float | bool] | None = None) -> Lever:
    """The lever ``key`` (:data:`LEVERS`) with ``params`` (text values are converted).

    Raises
    ------
    InputError
        Unknown lever or parameter, a value that does not parse or is out of range;
        :class:`EnvelopeError` for a setpoint outside 18-27 °C.
    """
    cls = LEVERS.get(key)
    if cls is None:
        raise _bad("lever", key, "unknown lever", f"use one of {', '.join(LEVERS)}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    for name, value in (params or {}).items():
        if name not in names:
            raise _bad(
                name, value, f"{key} has no parameter {name}", f"use {', '.join(sorted(names))}"
            )
        kind = hints[name]
        if isinstance(kind, types.UnionType):
            kind = next(a for a in typing.get_args(kind) if a is not type(None))
        values[name] = _convert(name, kind, value) if isinstance(value, str) else value
    return cls(**values)


# ---- the simulation -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WhatIf:
    """One lever's scenario next to the baseline.

    ``params`` are the lever's parameters as used (defaults included); ``location`` and
    ``market`` the grid factors with their provenance; ``notes`` what the reader must know.
    """

    site: str
    lever: str
    name: Text
    explanation: Text
    params: Mapping[str, Any]
    hours: int
    baseline: Kpis
    scenario: Kpis
    location: GridFactor
    market: GridFactor
    notes: tuple[Finding, ...] = ()
    method: str = "first-order delta model, reference domain-modules.md §1.6"
    free_cooling_by_month: tuple[Mapping[str, Any], ...] = ()

    @property
    def saved_t_location(self) -> float:
        """[t CO2e / yr] location-based emissions avoided (negative: added)."""
        return self.baseline.co2e_t_location - self.scenario.co2e_t_location

    @property
    def saved_t_market(self) -> float:
        """[t CO2e / yr] market-based emissions avoided (negative: added)."""
        return self.baseline.co2e_t_market - self.scenario.co2e_t_market

    @property
    def saved_cost(self) -> float:
        """[currency / yr] cost avoided (negative: added)."""
        return self.baseline.cost - self.scenario.cost

    def delta(self) -> dict[str, float]:
        """Scenario − baseline for every numeric KPI (None values are skipped)."""
        out: dict[str, float] = {}
        a, b = self.baseline.to_json(), self.scenario.to_json()
        for name, value in b.items():
            if isinstance(value, int | float) and isinstance(a[name], int | float):
                out[name] = float(value) - float(a[name])
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "lever": self.lever,
            "name": {"en": self.name.en, "zh-CN": self.name.zh},
            "explanation": {"en": self.explanation.en, "zh-CN": self.explanation.zh},
            "params": dict(self.params),
            "hours": self.hours,
            "baseline": self.baseline.to_json(),
            "scenario": self.scenario.to_json(),
            "delta": self.delta(),
            "saved_t_co2e_location": self.saved_t_location,
            "saved_t_co2e_market": self.saved_t_market,
            "saved_cost": self.saved_cost,
            "factors": {"location": self.location.to_json(), "market": self.market.to_json()},
            "notes": [n.to_json() for n in self.notes],
            "method": self.method,
            "free_cooling_by_month": [dict(m) for m in self.free_cooling_by_month],
        }


def _year_notes(base: BaselineYear) -> list[Finding]:
    notes = []
    if base.hours not in (8760, 8784):
        notes.append(
            Finding(
                "energy.whatif.partial_year",
                Text(
                    f"The baseline covers {base.hours} hours, not a full year: the figures "
                    "are for those hours, not annualised.",
                    f"基准数据覆盖 {base.hours} 小时而非全年：结果仅对应这些小时，未折算为全年。",
                ),
                {"hours": base.hours},
            )
        )
    if base.water_l is None:
        notes.append(
            Finding(
                "energy.whatif.no_water",
                Text("No metered water: WUE is not computed.", "无用水计量：不计算 WUE。"),
            )
        )
    return notes


def simulate(
    base: BaselineYear,
    lever: Lever,
    *,
    location: GridFactor,
    market: GridFactor | None = None,
    prices: Prices,
    green_mwh: float = 0.0,
) -> WhatIf:
    """Apply ``lever`` to ``base`` and compute both years' KPIs.

    Parameters
    ----------
    base
        The baseline year.
    lever
        One of :data:`LEVERS` with its parameters.
    location, market
        Grid factors [kg CO2e / kWh] with provenance; ``market`` None = the location factor
        (noted).
    prices
        Electricity price and currency.
    green_mwh
        [MWh / yr] green power already retired in the baseline (REF, market-based).
    """
    notes = [*base.notes, *_year_notes(base)]
    if market is None:
        market = dataclasses.replace(location, method="location (no residual mix)")
        notes.append(
            Finding(
                "energy.whatif.market_is_location",
                Text(
                    "No residual-mix factor: market-based emissions use the location factor.",
                    "无剩余组合排放因子：基于市场的排放采用基于位置的因子。",
                ),
                {"factor_id": location.factor_id},
            )
        )
    _nonnegative("green_mwh", green_mwh)
    before = _State.of(base)
    before.green_kwh = green_mwh * 1000.0
    after = _State.of(base)
    after.green_kwh = green_mwh * 1000.0
    lever.apply(base, after)
    baseline = _kpis(before, location, market, prices)
    scenario = _kpis(after, location, market, prices)
    if scenario.pue < 1.0:  # cannot happen with non-negative parts; guard the invariant
        raise _bad("pue", scenario.pue, "the scenario's PUE is below 1", "report this bug")
    by_month = () if after.free_fraction is None else _by_month(base, after.free_fraction)
    params = {f.name: getattr(lever, f.name) for f in dataclasses.fields(lever)}  # type: ignore[arg-type]
    return WhatIf(
        site=base.site,
        lever=lever.key,
        name=lever.name,
        explanation=lever.explanation,
        params=params,
        hours=base.hours,
        baseline=baseline,
        scenario=scenario,
        location=location,
        market=market,
        notes=tuple(notes + after.notes),
        free_cooling_by_month=by_month,
    )


def _by_month(base: BaselineYear, fraction: FloatArray) -> tuple[Mapping[str, Any], ...]:
    """Full and partial free-cooling hours per calendar month (the site's local months when
    the baseline has local hours, else UTC months, as ``clock`` says): the §1.6 heat-map."""
    clock, hours = (
        ("local", base.hour_local)
        if base.hour_local is not None
        else (
            "UTC",
            base.hour_utc,
        )
    )
    months = hours.astype("datetime64[M]")
    out = []
    for month in np.unique(months):
        mask = months == month
        f = fraction[mask]
        out.append(
            {
                "month": str(month),
                "clock": clock,
                "hours": int(mask.sum()),
                "full_h": int((f >= 1.0).sum()),
                "partial_h": int(((f > 0.0) & (f < 1.0)).sum()),
            }
        )
    return tuple(out)
