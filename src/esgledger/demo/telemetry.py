"""Synthetic data-centre telemetry for the demo: meter trees, a year of 15-minute readings,
an hourly weather year per city, and injected faults of known dates.

演示数据中心遥测：计量树、一年15分钟读数、逐时气象年与已知日期的注入故障。

:func:`generate_telemetry` is pure, seeded and vectorised (numpy): the same ``seed``, ``year``
and ``sites`` give the same tables, byte for byte, in a few seconds for the nine demo data
centres (about 110 meters x 35,136 readings). ``docs/energy/demo-telemetry.md`` documents the
model, its parameters and their sources; in short, per site and 15-minute interval:

* **weather** (hourly, :func:`weather_year`): dry bulb = annual mean + annual harmonic +
  diurnal harmonic + AR(1) noise; relative humidity = a logistic transform of a seasonal
  mean, an anti-diurnal term and AR(1) noise (so it stays inside 0-100 % without clipping);
  wet bulb by Stull (2011). Parameters per city in ``telemetry_climate.csv`` (climate normals
  1991-2020, CMA or NOAA, with their source);
* **IT load** [kW] = base x linear growth over the year x (1 + diurnal + weekly shape) x
  (1 + AR(1) noise); measured at the PDU output (category 2) and, at DC-SH, also at the IT
  input (category 3);
* **power chain**: PDU/transformer losses ~1.5 % of IT; UPS losses from a load-dependent
  curve ``loss = C·(l0 + l1·x + l2·x²)`` (``x`` = load fraction of the UPS capacity ``C``),
  i.e. an efficiency near 96 % at half load, lower at light load;
* **cooling** (reference §1.6): a chilled-water plant with a water-side economiser; full free
  cooling while ``T_wb + a_tower + a_hx ≤ T_CHWS``, partial (series) up to ``T_CHWR``; the
  chillers carry the rest with ``COP = η·T_evap / √(lift² + 10²)`` (lift = condenser minus
  evaporator temperature, K), so COP falls as the wet bulb rises; towers and pumps, CRAH fans
  in proportion to the heat load;
* **other** (lighting, BMS), **non-DC** office load, **rooftop PV** (DC-JS, DC-GD), **diesel
  generator** monthly test runs [L], **tower make-up water** (evaporation + blow-down) and
  **heat export** to a district-heating network in Tianjin's heating season.

Each site's load is scaled so that its fault-free grid import over the year (the incomers) equals
``demo_annual_electricity_mwh`` of ``sites.csv`` (the activity data of the inventory), and the
CRAH fan coefficient is calibrated so that the fault-free annual PUE (at the site's highest
measurement category: 3 at DC-SH, else 2) equals the PUE the demo report shows
(``esgledger.demo.data.DEMO_PUE``; 1.20 for DC-HE).

**Faults** (:class:`InjectedFault`, kinds :data:`FAULT_KINDS`) change the physics where the
fault is physical (a chiller drifting out of efficiency, a UPS losing efficiency: every meter
upstream sees the extra energy) and only the readings where it is a metering fault (a stuck
meter repeats its value; a data gap drops readings).

**Readings** follow the ``readings`` import (``meter``, ``timestamp`` — UTC, tz-aware —,
``value`` as the meter's register or interval shows it, in the meter's ``unit`` before its
``multiplier``). Timestamps mark the interval's end; a counter also has a reading at the start
of the year. Counters with a ``rollover`` wrap (DC-TJ's main incomer wraps in the year).
"""

from __future__ import annotations

import csv
import math
import time
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from scipy.signal import lfilter  # type: ignore[import-untyped]

from esgledger.demo.data import DEMO_PUE, demo_sites
from esgledger.energy.psychrometrics import wet_bulb_stull
from esgledger.errors import InputError, Issue
from esgledger.i18n import Text

__all__ = [
    "FAULT_KINDS",
    "METER_COLUMNS",
    "ClimateParameters",
    "InjectedFault",
    "Telemetry",
    "TelemetryFiles",
    "climate_parameters",
    "generate_telemetry",
    "weather_year",
    "write_telemetry_inputs",
]

FloatArray = npt.NDArray[np.float64]

#: The kinds of injected fault.
FAULT_KINDS: tuple[str, ...] = ("stuck_meter", "chiller_drift", "ups_efficiency_loss", "data_gap")
#: Columns of :attr:`Telemetry.meters` (the ``meters`` import kind's columns).
METER_COLUMNS: tuple[str, ...] = (
    "meter", "site", "parent", "role", "unit", "kind", "multiplier", "rollover", "timezone",
    "fuel", "timestamp_marks", "name", "name_zh",
)  # fmt: skip

_STEP_S = 900  # [s] 15 minutes
_HOUR_S = 3600
#: [dimensionless] PUE of DC-HE (the demo report gives none for it).
_DEFAULT_PUE = 1.20
_KELVIN = 273.15
#: [kW/kW thermal] plausible CRAH fan power per unit heat load (the calibration's bounds).
_CRAH_RANGE = (0.015, 0.09)
_LATENT_KWH_PER_L = 0.675  # [kWh/L] latent heat of evaporation of water near 30 °C (2,430 kJ/kg)


@dataclass(frozen=True, slots=True)
class InjectedFault:
    """A fault the generator injected, with its known dates.

    ``start`` and ``end`` [UTC, naive datetimes, as the lake's ``ts_utc``] bound the affected
    interval ends: readings with ``start < timestamp <= end`` are affected. ``kind`` is one of
    :data:`FAULT_KINDS`. ``energy_kwh`` is the extra electricity the fault caused over its
    window (physical faults) or None (metering faults: nothing was consumed).
    """

    site: str
    meter: str
    kind: str
    start: datetime
    end: datetime
    description: Text
    energy_kwh: float | None = None


@dataclass(frozen=True)
class Telemetry:
    """What :func:`generate_telemetry` produced.

    * ``meters``: one row per meter, columns :data:`METER_COLUMNS` (the ``meters`` import);
    * ``readings``: ``meter`` (string), ``timestamp`` (timestamp[ms, UTC]), ``value``
      (float64, as read: before the multiplier), sorted by meter then timestamp;
    * ``weather``: hourly, ``site``, ``ts_utc`` (timestamp[s], naive UTC), ``ts_local``
      (timestamp[s], naive local wall time), ``dry_bulb_c``, ``wet_bulb_c``,
      ``relative_humidity_pct`` (the shape of :func:`esgledger.energy.weather.hourly`);
    * ``faults``: the injected faults;
    * ``truth``: per site, the fault-free and actual annual totals the generator computed
      [kWh, L, m3] (what the tests and the anomaly evaluation compare against).
    """

    seed: int
    year: int
    meters: pa.Table
    readings: pa.Table
    weather: pa.Table
    faults: tuple[InjectedFault, ...]
    truth: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


# --------------------------------------------------------------------------- climate


@dataclass(frozen=True, slots=True)
class ClimateParameters:
    """One city's weather-year parameters (``telemetry_climate.csv``; see the docs page).

    Temperatures [°C], ranges [K], humidity [%], ``warmest_day`` [day of year],
    ``diurnal_peak_hour`` [local standard clock hour].
    """

    site: str
    city: str
    city_zh: str
    station: str
    latitude: float
    longitude: float
    timezone: str
    annual_mean_c: float
    coldest_month_c: float
    warmest_month_c: float
    warmest_day: float
    diurnal_range_k: float
    diurnal_peak_hour: float
    rh_mean_pct: float
    rh_seasonal_pct: float
    noise_sd_k: float
    normals: str
    source: str


@cache
def climate_parameters() -> Mapping[str, ClimateParameters]:
    """The climate parameters of each demo data centre, by site code."""
    text = resources.files("esgledger.demo").joinpath("telemetry_climate.csv").read_text("utf-8")
    out: dict[str, ClimateParameters] = {}
    for row in csv.DictReader(text.splitlines()):
        out[row["site"]] = ClimateParameters(
            site=row["site"],
            city=row["city"],
            city_zh=row["city_zh"],
            station=row["station"],
            latitude=float(row["latitude"]),
            longitude=float(row["longitude"]),
            timezone=row["timezone"],
            annual_mean_c=float(row["annual_mean_c"]),
            coldest_month_c=float(row["coldest_month_c"]),
            warmest_month_c=float(row["warmest_month_c"]),
            warmest_day=float(row["warmest_day"]),
            diurnal_range_k=float(row["diurnal_range_k"]),
            diurnal_peak_hour=float(row["diurnal_peak_hour"]),
            rh_mean_pct=float(row["rh_mean_pct"]),
            rh_seasonal_pct=float(row["rh_seasonal_pct"]),
            noise_sd_k=float(row["noise_sd_k"]),
            normals=row["normals"],
            source=row["source"],
        )
    return out


def _rng(seed: int, *tags: str) -> np.random.Generator:
    """A generator seeded by ``seed`` and the tags (so one site's data do not depend on
    which other sites are generated)."""
    return np.random.default_rng([seed, *(zlib.crc32(t.encode("utf-8")) for t in tags)])


def _ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> FloatArray:
    """A stationary AR(1) series of length ``n`` with lag-1 coefficient ``phi`` and
    marginal standard deviation ``sd`` (vectorised through ``scipy.signal.lfilter``)."""
    shocks = rng.standard_normal(n) * sd * math.sqrt(1.0 - phi * phi)
    shocks[0] = rng.standard_normal() * sd  # start in the stationary distribution
    out: FloatArray = np.asarray(lfilter([1.0], [1.0, -phi], shocks), dtype=np.float64)
    return out


def _year_bounds_utc(year: int, tz: str) -> tuple[datetime, datetime]:
    """The local calendar year's first and last instants, as naive UTC datetimes."""
    zone = ZoneInfo(tz)
    start = datetime(year, 1, 1, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
    end = datetime(year + 1, 1, 1, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
    return start, end


def _epoch_s(moment: datetime) -> int:
    return int(moment.replace(tzinfo=UTC).timestamp())


def _offset_s(zone: ZoneInfo, hour: int) -> int:
    offset = datetime.fromtimestamp(hour * _HOUR_S, tz=UTC).astimezone(zone).utcoffset()
    return 0 if offset is None else int(offset.total_seconds())


def _utc_offsets_s(tz: str, instants_s: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """UTC offset [s] at each instant (UTC epoch seconds). Looked up at the start of every
    UTC day spanned, then hour by hour in the days where it changes (DST transitions fall on
    whole hours)."""
    zone = ZoneInfo(tz)
    hours = instants_s // _HOUR_S
    first = int(hours.min()) // 24 * 24
    day_starts = np.arange(first, int(hours.max()) + 25, 24, dtype=np.int64)
    day_offsets = np.array([_offset_s(zone, int(h)) for h in day_starts], dtype=np.int64)
    grid = np.repeat(day_offsets, 24)
    for i in np.nonzero(np.diff(day_offsets))[0]:
        for h in range(int(day_starts[i]), int(day_starts[i]) + 24):
            grid[h - first] = _offset_s(zone, h)
    result: npt.NDArray[np.int64] = grid[hours - first]
    return result


def _weather_arrays(
    climate: ClimateParameters, seed: int, year: int
) -> tuple[npt.NDArray[np.int64], FloatArray, FloatArray, FloatArray]:
    """Hourly instants [UTC epoch s] of the site's local year and dry bulb [°C], relative
    humidity [%], wet bulb [°C] at each."""
    start, end = _year_bounds_utc(year, climate.timezone)
    t_s = np.arange(_epoch_s(start), _epoch_s(end), _HOUR_S, dtype=np.int64)
    n = len(t_s)
    rng = _rng(seed, "weather", climate.site)
    # Solar-ish phase on the standard clock (no DST): days since local Jan 1st, hour of day.
    local_std = (t_s - _epoch_s(start)) / _HOUR_S  # [h] since local midnight, Jan 1st
    day = local_std / 24.0
    hour = np.mod(local_std, 24.0)
    amplitude = (climate.warmest_month_c - climate.coldest_month_c) / 2.0
    seasonal = np.cos(2 * np.pi * (day + 0.5 - climate.warmest_day) / 365.25)
    # The diurnal range is a little wider in the dry season (winter) than in summer.
    diurnal_amp = climate.diurnal_range_k / 2.0 * (1.0 - 0.15 * seasonal)
    diurnal = np.cos(2 * np.pi * (hour - climate.diurnal_peak_hour) / 24.0)
    # Synoptic variability: AR(1) at hourly steps with a ~2-day memory.
    noise = _ar1(rng, n, phi=math.exp(-1.0 / 48.0), sd=climate.noise_sd_k)
    dry = climate.annual_mean_c + amplitude * seasonal + diurnal_amp * diurnal + noise
    # Relative humidity on the logit scale: seasonal mean (monsoon summers are wetter),
    # lowest in the afternoon, wetter when it is colder than usual for the season, AR(1).
    rh_noise = _ar1(rng, n, phi=math.exp(-1.0 / 24.0), sd=0.35)
    logit = 0.02 * climate.rh_seasonal_pct * seasonal - 0.45 * diurnal - 0.06 * noise + rh_noise
    target = climate.rh_mean_pct / 100.0
    offset = math.log(target / (1.0 - target))
    for _ in range(4):  # match the annual mean humidity of the normals
        rh = 1.0 / (1.0 + np.exp(-(logit + offset)))
        mean = float(rh.mean())
        offset += math.log(target / (1.0 - target)) - math.log(mean / (1.0 - mean))
    rh_pct = np.round(100.0 / (1.0 + np.exp(-(logit + offset))), 1)
    dry = np.round(dry, 1)
    # Stull (2011) can exceed the dry bulb by a few hundredths near saturation: the wet bulb
    # is never above the dry bulb (equal at saturation).
    wet = np.round(np.minimum(wet_bulb_stull(dry, rh_pct), dry), 1).astype(np.float64)
    return t_s, dry, rh_pct, wet


def weather_year(seed: int, year: int, sites: Iterable[str] | None = None) -> pa.Table:
    """The hourly synthetic weather year of each site's city (see the module docstring):
    ``site, ts_utc, ts_local, dry_bulb_c, wet_bulb_c, relative_humidity_pct``."""
    params = climate_parameters()
    chosen = list(params) if sites is None else list(sites)
    parts: list[pa.Table] = []
    for site in chosen:
        climate = params[site]
        t_s, dry, rh, wet = _weather_arrays(climate, seed, year)
        local = t_s + _utc_offsets_s(climate.timezone, t_s)
        parts.append(
            pa.table(
                {
                    "site": pa.array([site] * len(t_s), pa.string()),
                    "ts_utc": pa.array(t_s, pa.timestamp("s")),
                    "ts_local": pa.array(local, pa.timestamp("s")),
                    "dry_bulb_c": pa.array(dry, pa.float64()),
                    "wet_bulb_c": pa.array(wet, pa.float64()),
                    "relative_humidity_pct": pa.array(rh, pa.float64()),
                }
            )
        )
    return pa.concat_tables(parts)


# --------------------------------------------------------------------------- sites


@dataclass(frozen=True, slots=True)
class _SiteSpec:
    """Plant parameters of one demo data centre (see the docs page for the reasoning)."""

    growth: float  # [fraction] IT-load growth over the year
    chws_c: float  # [°C] chilled-water supply setpoint
    chwr_c: float  # [°C] chilled-water return
    tower_approach_k: float
    hx_approach_k: float
    chillers: int
    incomers: int
    ups_load_fraction: float  # [fraction] mean load of the UPS capacity
    water_cooled: bool
    office_kw: float  # [kW] peak non-DC office load, 0 for none
    pv_mwh: float  # [MWh/yr] rooftop PV generation, 0 for none
    it_input: bool  # an IT-input (category 3) meter too
    heat_export: bool
    generators: int
    generator_lph: float  # [L/h] fuel burn of one generator on its monthly load-bank test
    inc_multiplier: float  # CT/PT multiplier of the main incomer's register
    inc_rollover: float | None
    inc_start: float  # register reading of the main incomer at the start of the year
    chiller_eta: float = 0.45  # [fraction] chiller efficiency as a fraction of Carnot


_SPECS: dict[str, _SiteSpec] = {
    "DC-TJ": _SiteSpec(0.08, 12.0, 18.0, 4.0, 1.5, 2, 2, 0.28, True, 350.0, 0.0, False, True,
                       4, 260.0, 10.0, 100_000_000.0, 72_000_000.0, 0.30),
    "DC-HE": _SiteSpec(0.20, 20.0, 26.0, 5.0, 1.5, 2, 2, 0.40, False, 0.0, 0.0, False, False,
                       2, 240.0, 100.0, None, 1_250_000.0, 0.45),
    "DC-SH": _SiteSpec(0.06, 15.0, 21.0, 4.0, 1.5, 2, 2, 0.50, True, 500.0, 0.0, True, False,
                       4, 260.0, 100.0, None, 4_100_000.0, 0.36),
    "DC-JS": _SiteSpec(0.10, 16.0, 22.0, 4.0, 1.5, 2, 2, 0.45, True, 0.0, 13_650.0, False,
                       False, 4, 260.0, 100.0, None, 2_300_000.0, 0.40),
    "DC-GD": _SiteSpec(0.15, 18.0, 24.0, 4.0, 1.5, 2, 2, 0.50, True, 0.0, 2_100.0, False,
                       False, 4, 260.0, 100.0, None, 3_900_000.0),
    "DC-CQ": _SiteSpec(0.03, 12.0, 18.0, 4.5, 2.0, 1, 1, 0.35, True, 0.0, 0.0, False, False,
                       1, 180.0, 1.0, None, 8_400_000.0, 0.50),
    "DC-GZ": _SiteSpec(0.12, 18.0, 24.0, 4.0, 1.5, 2, 2, 0.45, True, 0.0, 0.0, False, False,
                       4, 260.0, 100.0, None, 1_800_000.0),
    "DC-SC": _SiteSpec(0.10, 17.0, 23.0, 4.0, 1.5, 2, 1, 0.45, True, 0.0, 0.0, False, False,
                       2, 240.0, 100.0, None, 950_000.0),
    "DC-US": _SiteSpec(0.05, 16.0, 22.0, 4.0, 1.5, 2, 1, 0.45, True, 250.0, 0.0, False, False,
                       2, 240.0, 10.0, None, 3_300_000.0, 0.50),
}  # fmt: skip

#: The demo data centres, in sites.csv order.
DATA_CENTRES: tuple[str, ...] = tuple(s.site for s in demo_sites() if s.type == "data_centre")


@dataclass(frozen=True, slots=True)
class _MeterDef:
    meter: str
    parent: str | None
    role: str
    unit: str
    kind: str  # counter | interval
    name: str
    name_zh: str
    multiplier: float = 1.0
    rollover: float | None = None
    fuel: str | None = None
    resolution: float = 0.01  # register or interval resolution, in the meter's unit x mult.
    start: float = 0.0  # counter register at the start of the year (in register units)


def _meter_tree(site: str, spec: _SiteSpec) -> list[_MeterDef]:
    """The meters of one site, parents first."""
    p = f"{site}-"
    inc_a = f"{p}INC-A"
    inc_b = f"{p}INC-B" if spec.incomers > 1 else inc_a
    big = spec.incomers > 1
    meters = [
        _MeterDef(inc_a, None, "incomer", "kWh", "counter",
                  "Incomer A (utility, 10 kV)" if big else "Utility incomer (10 kV)",
                  "进线A（市电10千伏）" if big else "市电进线（10千伏）",
                  multiplier=spec.inc_multiplier, rollover=spec.inc_rollover,
                  resolution=0.01, start=spec.inc_start),
    ]  # fmt: skip
    if big:
        meters.append(
            _MeterDef(inc_b, None, "incomer", "MWh", "counter", "Incomer B (utility, 10 kV)",
                      "进线B（市电10千伏）", resolution=0.001, start=round(spec.inc_start / 900))
        )  # fmt: skip
    meters += [
        _MeterDef(f"{p}UPS-IN", inc_a, "ups_input", "kWh", "interval", "UPS input (all systems)",
                  "UPS输入（全部系统）"),
        _MeterDef(f"{p}UPS-OUT", f"{p}UPS-IN", "ups_output", "kW", "interval",
                  "UPS output (all systems), mean power", "UPS输出（全部系统）平均功率",
                  resolution=0.1),
        _MeterDef(f"{p}PDU-OUT", f"{p}UPS-OUT", "pdu_output", "kWh", "counter",
                  "PDU outputs (sum of floor PDUs)", "PDU输出（楼层PDU合计）", resolution=0.1,
                  start=5_000_000.0),
    ]  # fmt: skip
    if spec.it_input:
        meters.append(
            _MeterDef(f"{p}IT-IN", f"{p}PDU-OUT", "it_input", "kWh", "interval",
                      "IT equipment input (server PSU sum, Redfish)",
                      "IT设备输入（服务器电源合计）")
        )  # fmt: skip
    meters.append(
        _MeterDef(f"{p}LTG", inc_a, "other", "kWh", "interval", "Lighting, BMS, security",
                  "照明、楼控、安防")
    )  # fmt: skip
    for k in range(1, spec.chillers + 1):
        meters.append(
            _MeterDef(f"{p}CH-{k}", inc_b, "cooling", "kWh", "interval", f"Chiller {k}",
                      f"冷水机组{k}")
        )  # fmt: skip
    meters += [
        _MeterDef(f"{p}CT-PUMPS", inc_b, "cooling", "kWh", "counter",
                  "Cooling towers and CHW/CW pumps" if spec.water_cooled
                  else "Dry coolers and CHW pumps",
                  "冷却塔与冷冻/冷却水泵" if spec.water_cooled else "干冷器与冷冻水泵",
                  multiplier=10.0, resolution=0.01, start=310_000.0),
        _MeterDef(f"{p}CRAH", inc_b, "cooling", "kW", "interval", "CRAH fans, mean power",
                  "精密空调风机平均功率", resolution=0.1),
    ]  # fmt: skip
    if spec.office_kw > 0:
        meters.append(
            _MeterDef(f"{p}OFFICE", inc_b, "non_dc", "kWh", "counter", "Office building (not DC)",
                      "办公楼（非数据中心）", resolution=0.1, start=820_000.0)
        )  # fmt: skip
    if spec.pv_mwh > 0:
        meters.append(
            _MeterDef(f"{p}PV", None, "onsite_re", "kWh", "interval", "Rooftop PV generation",
                      "屋顶光伏发电")
        )  # fmt: skip
    meters.append(
        _MeterDef(f"{p}GEN", None, "fuel", "L", "interval",
                  "Diesel generators, fuel burnt (test runs)", "柴油发电机耗油（试机）",
                  fuel="diesel", resolution=0.1)
    )  # fmt: skip
    if spec.water_cooled:
        if site == "DC-GD":
            meters.append(
                _MeterDef(f"{p}WATER", None, "water", "L", "interval",
                          "Cooling-tower make-up water", "冷却塔补水", resolution=1.0)
            )  # fmt: skip
        else:
            meters.append(
                _MeterDef(f"{p}WATER", None, "water", "m3", "counter",
                          "Cooling-tower make-up water", "冷却塔补水", resolution=0.001,
                          start=41_000.0)
            )  # fmt: skip
    if spec.heat_export:
        meters.append(
            _MeterDef(f"{p}HEAT", None, "heat_export", "MWh", "counter",
                      "Heat exported to district heating", "余热外供（城市供热）",
                      resolution=0.001, start=1_200.0)
        )  # fmt: skip
    return meters


# --------------------------------------------------------------------------- faults


@dataclass(frozen=True, slots=True)
class _FaultPlan:
    site: str
    meter_suffix: str
    kind: str
    start: tuple[int, int, int]  # local month, day, hour
    days: float
    severity: float  # COP or efficiency loss at full development (fraction / points)


_FAULTS: tuple[_FaultPlan, ...] = (
    _FaultPlan("DC-SH", "CRAH", "stuck_meter", (3, 11, 9), 5.0, 0.0),
    _FaultPlan("DC-GZ", "PDU-OUT", "stuck_meter", (9, 2, 14), 2.0, 0.0),
    _FaultPlan("DC-GD", "CH-1", "chiller_drift", (6, 3, 0), 42.0, 0.30),
    _FaultPlan("DC-JS", "CH-2", "chiller_drift", (8, 5, 0), 28.0, 0.20),
    _FaultPlan("DC-TJ", "UPS-IN", "ups_efficiency_loss", (4, 15, 10), 21.0, 0.03),
    _FaultPlan("DC-US", "UPS-IN", "ups_efficiency_loss", (10, 20, 10), 14.0, 0.025),
    _FaultPlan("DC-CQ", "INC-A", "data_gap", (5, 20, 3), 2.0, 0.0),
    _FaultPlan("DC-US", "CH-1", "data_gap", (11, 2, 22), 1.0, 0.0),  # over the DST change
)


def _fault_window(
    plan: _FaultPlan, year: int, tz: str, t_end_s: npt.NDArray[np.int64]
) -> tuple[datetime, datetime, npt.NDArray[np.bool_]]:
    month, day, hour = plan.start
    local = datetime(year, month, day, hour, tzinfo=ZoneInfo(tz))
    start = local.astimezone(UTC).replace(tzinfo=None)
    end = start + timedelta(days=plan.days)
    mask = (t_end_s > _epoch_s(start)) & (t_end_s <= _epoch_s(end))
    return start, end, mask


_DESCRIPTIONS = {
    "stuck_meter": Text(
        "{meter} repeats its last value from {start} to {end} UTC (communication freeze).",
        "{meter} 于 {start} 至 {end}（UTC）持续重复同一读数（通信冻结）。",
    ),
    "chiller_drift": Text(
        "{meter}: COP falls steadily by up to {pct:.0f} % from {start} to {end} UTC "
        "(fouled condenser), then back after cleaning.",
        "{meter}：{start} 至 {end}（UTC）期间COP逐步下降至多 {pct:.0f}%"
        "（冷凝器结垢），清洗后恢复。",
    ),
    "ups_efficiency_loss": Text(
        "{meter}: UPS efficiency {pct:.1f} points lower from {start} to {end} UTC "
        "(a module in degraded mode).",
        "{meter}：{start} 至 {end}（UTC）UPS效率降低 {pct:.1f} 个百分点（模块降级运行）。",
    ),
    "data_gap": Text(
        "{meter}: no readings from {start} to {end} UTC (logger outage).",
        "{meter}：{start} 至 {end}（UTC）无读数（采集器故障）。",
    ),
}


def _describe(kind: str, meter: str, start: datetime, end: datetime, pct: float) -> Text:
    template = _DESCRIPTIONS[kind]
    values = {
        "meter": meter,
        "start": start.isoformat(sep=" ", timespec="minutes"),
        "end": end.isoformat(sep=" ", timespec="minutes"),
        "pct": pct,
    }
    return Text(template.en.format(**values), template.zh.format(**values))


# --------------------------------------------------------------------------- physics


def _pv_shape(
    climate: ClimateParameters, mid_s: FloatArray, rng: np.random.Generator
) -> FloatArray:
    """Relative PV output per interval (unscaled): sine of the solar elevation (declination
    and hour angle on local mean solar time) times an AR(1) cloudiness factor."""
    days = mid_s / 86400.0
    doy = np.mod(days - 10.0 / 24.0, 365.25)  # close enough for a shape
    decl = np.radians(23.44) * np.sin(2 * np.pi * (doy - 81.0) / 365.0)
    solar_hour = np.mod(mid_s / 3600.0 + climate.longitude / 15.0, 24.0)
    hour_angle = np.radians(15.0 * (solar_hour - 12.0))
    lat = math.radians(climate.latitude)
    sin_elev = math.sin(lat) * np.sin(decl) + math.cos(lat) * np.cos(decl) * np.cos(hour_angle)
    cloud = 1.0 / (1.0 + np.exp(-(0.8 + _ar1(rng, len(mid_s), phi=0.995, sd=1.2))))
    out: FloatArray = np.where(sin_elev > 0, sin_elev, 0.0) ** 1.2 * cloud
    return out


def _interp_hourly(
    t_hour_s: npt.NDArray[np.int64], values: FloatArray, t_s: FloatArray
) -> FloatArray:
    out: FloatArray = np.interp(t_s, t_hour_s.astype(np.float64), values)
    return out


@dataclass
class _SiteResult:
    meters: list[_MeterDef]
    t_end_s: npt.NDArray[np.int64]
    series: dict[str, FloatArray]  # meter -> quantity per interval [kWh, L, m3 ...] canonical
    faults: list[InjectedFault]
    truth: dict[str, float]


def _simulate_site(
    site: str, seed: int, year: int, target_mwh: float, *, faults_on: bool = True
) -> _SiteResult:
    spec = _SPECS[site]
    climate = climate_parameters()[site]
    tz = climate.timezone
    start, end = _year_bounds_utc(year, tz)
    t_end = np.arange(_epoch_s(start) + _STEP_S, _epoch_s(end) + 1, _STEP_S, dtype=np.int64)
    n = len(t_end)
    mid = t_end.astype(np.float64) - _STEP_S / 2
    rng = _rng(seed, "site", site)
    hours_per_step = _STEP_S / _HOUR_S

    # Weather at each interval's midpoint.
    t_hour, dry_h, _rh_h, wet_h = _weather_arrays(climate, seed, year)
    dry = _interp_hourly(t_hour, dry_h, mid)
    wet = _interp_hourly(t_hour, wet_h, mid)

    # Local wall clock (with DST where the zone has it) for the load shapes.
    local_s = mid + _utc_offsets_s(tz, t_end - _STEP_S // 2)
    local_hour = np.mod(local_s / 3600.0, 24.0)
    weekday = np.floor(local_s / 86400.0 + 3).astype(np.int64) % 7  # 1970-01-01 a Thursday
    weekend = weekday >= 5
    frac_year = (mid - mid[0]) / (mid[-1] - mid[0])

    # IT load [kW], relative to a base of 1,000 kW (scaled at the end).
    shape = (
        1.0
        + 0.035 * np.cos(2 * np.pi * (local_hour - 21.0) / 24.0)
        + 0.012 * np.cos(4 * np.pi * (local_hour - 10.0) / 24.0)
        + np.where(weekend, 0.012, 0.0)
    )
    it_kw = 1000.0 * (1.0 + spec.growth * frac_year) * shape
    it_kw = it_kw * (1.0 + _ar1(rng, n, phi=0.995, sd=0.012))
    pdu_out = it_kw
    it_in = pdu_out * 0.99  # branch-circuit losses between PDU output and server PSUs
    pdu_loss = pdu_out * 0.012 + 0.003 * 1000.0
    ups_out = pdu_out + pdu_loss

    capacity = ups_out.mean() / spec.ups_load_fraction
    x = ups_out / capacity

    def ups_losses(efficiency_drop: FloatArray) -> FloatArray:
        base = capacity * (0.010 + 0.012 * x + 0.018 * x * x)
        eta = ups_out / (ups_out + base)
        eta_f = eta - efficiency_drop
        loss: FloatArray = ups_out / eta_f - ups_out
        return loss

    # Lighting, BMS, security: a base with office-hours lighting.
    day_hours = (local_hour >= 7.5) & (local_hour < 19.5)
    # Own noise streams (lights, lifts, pump drives, fans switching): a metered load never
    # repeats itself exactly for hours, only a stuck meter does.
    small_loads = _rng(seed, "small-loads", site)
    pump_noise = 1.0 + _ar1(small_loads, n, phi=0.9, sd=0.015)
    other_kw = (
        1000.0
        * (0.008 + np.where(day_hours & ~weekend, 0.004, 0.0))
        * (1.0 + _ar1(small_loads, n, phi=0.9, sd=0.02))
    )

    # Heat load the cooling removes [kW thermal]: IT, power-chain losses, lighting, envelope.
    def heat_load(ups_loss: FloatArray) -> FloatArray:
        envelope = 1000.0 * 0.004 * (dry - 22.0) / 10.0
        q: FloatArray = it_kw + pdu_loss + ups_loss + other_kw + envelope
        return q

    # Water-side economiser (reference §1.6): fraction of the load the chillers carry.
    approach = spec.tower_approach_k + spec.hx_approach_k
    # Dry coolers and air-cooled condensers follow the dry bulb (with a larger approach).
    condenser_air = wet if spec.water_cooled else dry + 2.0
    supply_temp = condenser_air + approach
    mech = np.clip((supply_temp - spec.chws_c) / (spec.chwr_c - spec.chws_c), 0.0, 1.0)
    t_evap = spec.chws_c - 2.0 + _KELVIN
    t_cond = condenser_air + spec.tower_approach_k + 5.0 + _KELVIN
    lift = t_cond - t_evap
    cop = spec.chiller_eta * t_evap / np.sqrt(lift * lift + 100.0)
    fan = 0.2 + 0.8 / (1.0 + np.exp(-(condenser_air - 15.0) / 4.0))

    # Faults of this site.
    plans = [p for p in _FAULTS if p.site == site and faults_on]
    chiller_factor = {k: np.ones(n) for k in range(1, spec.chillers + 1)}
    ups_drop = np.zeros(n)
    fault_windows: list[tuple[_FaultPlan, datetime, datetime, npt.NDArray[np.bool_]]] = []
    for plan in plans:
        f_start, f_end, mask = _fault_window(plan, year, tz, t_end)
        fault_windows.append((plan, f_start, f_end, mask))
        if plan.kind == "chiller_drift":
            k = int(plan.meter_suffix.split("-")[1])
            progress = np.clip((mid - _epoch_s(f_start)) / (plan.days * 86400.0), 0.0, 1.0)
            chiller_factor[k] = np.where(mask, 1.0 - plan.severity * progress, 1.0)
        elif plan.kind == "ups_efficiency_loss":
            ups_drop = np.where(mask, plan.severity, 0.0)

    def plant(
        ups_drop_: FloatArray, factors: Mapping[int, FloatArray]
    ) -> tuple[FloatArray, FloatArray, dict[int, FloatArray], FloatArray]:
        ups_loss = ups_losses(ups_drop_)
        q = heat_load(ups_loss)
        chiller_q = q * mech / spec.chillers
        chillers = {k: chiller_q / (cop * factors[k]) for k in factors}
        towers = q * (0.022 + 0.018 * fan) * pump_noise
        return ups_loss, q, chillers, towers

    ups_loss0, q0, chillers0, towers0 = plant(np.zeros(n), {k: np.ones(n) for k in chiller_factor})
    ups_loss, q, chillers, towers = plant(ups_drop, chiller_factor)

    # Calibrate the CRAH fan coefficient so that the fault-free annual PUE is the demo's.
    target_pue = DEMO_PUE.get(site, _DEFAULT_PUE)
    # E_IT at the highest measurement category the site meters (the KPI's headline).
    e_it = (it_in if spec.it_input else pdu_out).sum()
    e_rest0 = (
        ups_loss0 + pdu_loss + other_kw + towers0 + sum(chillers0.values())
    ).sum()  # everything but the CRAH fans, fault-free
    crah_coef = ((target_pue - 1.0) * e_it - e_rest0) / q0.sum()
    if not _CRAH_RANGE[0] <= crah_coef <= _CRAH_RANGE[1]:
        raise InputError(
            f"the demo telemetry of {site} cannot reach PUE {target_pue}: the CRAH fan "
            f"coefficient would be {crah_coef:.3f}",
            [Issue("telemetry.py", None, "crah", site, "implausible calibration", "fix _SPECS")],
        )
    crah = q * crah_coef
    load_kw = ups_loss + sum(chillers.values()) + towers + crah
    load0_kw = ups_loss0 + sum(chillers0.values()) + towers0 + q0 * crah_coef

    office = np.zeros(n)
    if spec.office_kw > 0:
        # Occupancy ramps up around 08:00 and down around 19:00 on weekdays; the building's
        # servers, ventilation and security keep 65 % of the peak at night and weekends.
        ramp_up = 1.0 / (1.0 + np.exp(-(local_hour - 8.0) / 0.5))
        ramp_down = 1.0 / (1.0 + np.exp((local_hour - 19.0) / 0.5))
        occupied = np.where(weekend, 0.0, ramp_up * ramp_down)
        office = (
            spec.office_kw
            * (0.65 + 0.35 * occupied)
            * (1.0 + 0.10 * np.clip((dry - 24.0) / 10.0, 0.0, None))
            * (1.0 + _ar1(small_loads, n, phi=0.9, sd=0.03))
        )  # [kW] its own size, not scaled with the IT base

    # Scale to the site's annual grid electricity (incomers) [kWh].
    pv_kw = np.zeros(n)
    if spec.pv_mwh > 0:
        shape_pv = _pv_shape(climate, mid, _rng(seed, "pv", site))
        pv_kw = shape_pv / (shape_pv.sum() * hours_per_step) * spec.pv_mwh * 1000.0
    unmetered = 1.004  # transformer and cabling losses between incomers and sub-meters
    # Scaled on the fault-free year: the faults add their energy on top of the target.
    load_rel = (ups_out + other_kw + load0_kw) * unmetered
    target_kwh = target_mwh * 1000.0
    office_kwh = office.sum() * hours_per_step * unmetered
    pv_kwh = pv_kw.sum() * hours_per_step
    scale = (target_kwh + pv_kwh - office_kwh) / (load_rel.sum() * hours_per_step)
    if not scale > 0:
        raise InputError(
            f"the demo telemetry of {site} cannot be scaled to {target_mwh} MWh",
            [Issue("sites.csv", None, "demo_annual_electricity_mwh", site, "too small", "")],
        )

    def kwh(kw: FloatArray) -> FloatArray:
        out: FloatArray = kw * hours_per_step
        return out

    s = scale
    series: dict[str, FloatArray] = {}
    p = f"{site}-"
    series[f"{p}UPS-IN"] = kwh((ups_out + ups_loss) * s)
    series[f"{p}UPS-OUT"] = kwh(ups_out * s)
    series[f"{p}PDU-OUT"] = kwh(pdu_out * s)
    if spec.it_input:
        series[f"{p}IT-IN"] = kwh(it_in * s)
    series[f"{p}LTG"] = kwh(other_kw * s)
    for k, values in chillers.items():
        series[f"{p}CH-{k}"] = kwh(values * s)
    series[f"{p}CT-PUMPS"] = kwh(towers * s)
    series[f"{p}CRAH"] = kwh(crah * s)
    if spec.office_kw > 0:
        series[f"{p}OFFICE"] = kwh(office)
    board_a = (series[f"{p}UPS-IN"] + series[f"{p}LTG"]) * unmetered
    board_b = sum(
        (series[f"{p}CH-{k}"] for k in chillers), start=series[f"{p}CT-PUMPS"] + series[f"{p}CRAH"]
    ) + (series[f"{p}OFFICE"] if spec.office_kw > 0 else 0.0)
    board_b = board_b * unmetered
    pv = kwh(pv_kw)
    if spec.incomers > 1:
        series[f"{p}INC-A"] = board_a - pv  # PV feeds the UPS board's busbar
        series[f"{p}INC-B"] = board_b
    else:
        series[f"{p}INC-A"] = board_a + board_b - pv
    if spec.pv_mwh > 0:
        series[f"{p}PV"] = pv
    # Diesel generators: a one-hour load-bank test per set, monthly, from the first Tuesday
    # 10:00 local, one set after the other [L].
    gen = np.zeros(n)
    local_date = (local_s // 86400).astype("datetime64[D]")
    day_of_month = (local_date - local_date.astype("datetime64[M]")).astype(np.int64) + 1
    day_of_year = (local_date - local_date.astype("datetime64[Y]")).astype(np.int64) + 1
    first_tuesday = (weekday == 1) & (day_of_month <= 7)
    for g in range(spec.generators):
        running = first_tuesday & (local_hour >= 10.0 + g) & (local_hour < 11.0 + g)
        burn = spec.generator_lph * (1.0 + 0.05 * rng.standard_normal(n))
        gen = gen + np.where(running, burn * hours_per_step, 0.0)
    series[f"{p}GEN"] = gen
    # Tower make-up water [L]: evaporation of the heat rejected (load + chiller work) plus
    # blow-down at 4 cycles of concentration; less evaporative in cold air.
    if spec.water_cooled:
        rejected = (q + sum(chillers.values())) * s * hours_per_step  # [kWh thermal]
        evap_share = 0.55 + 0.35 / (1.0 + np.exp(-(dry - 12.0) / 5.0))
        water_l = rejected / _LATENT_KWH_PER_L * evap_share * (4.0 / 3.0)
        series[f"{p}WATER"] = water_l
    # Heat exported in the heating season (15 Nov - 15 Mar) when it is cold [kWh thermal]:
    # condenser-loop heat handed to the district network's heat pumps.
    if spec.heat_export:
        doy = day_of_year
        season = (doy >= 319) | (doy <= 74)
        heat = np.where(season, 0.10 * q * s * np.clip((12.0 - dry) / 12.0, 0.0, 1.0), 0.0)
        series[f"{p}HEAT"] = heat * hours_per_step

    faults: list[InjectedFault] = []
    for plan, f_start, f_end, mask in fault_windows:
        meter = f"{p}{plan.meter_suffix}"
        extra: float | None = None
        pct = plan.severity * 100.0
        if plan.kind in ("chiller_drift", "ups_efficiency_loss"):
            # Every meter upstream: UPS losses, chillers, towers and pumps, CRAH fans (they
            # move the extra heat of the UPS too) and the unmetered losses. One physical
            # fault per site, so the window's difference is this fault's.
            difference = (load_kw - load0_kw) * s * hours_per_step * unmetered
            extra = float(difference[mask].sum())
        faults.append(
            InjectedFault(site, meter, plan.kind, f_start, f_end,
                          _describe(plan.kind, meter, f_start, f_end, pct), extra)
        )  # fmt: skip
    truth = {
        "it_kwh": float(series[f"{p}IT-IN" if spec.it_input else f"{p}PDU-OUT"].sum()),
        "grid_kwh": float(sum(series[m.meter].sum() for m in _meter_tree(site, spec)
                              if m.role == "incomer")),
        "pv_kwh": float(pv.sum()),
        "office_kwh": float(office_kwh),
        "fuel_l": float(gen.sum()),
        "water_m3": float(series[f"{p}WATER"].sum() / 1000.0) if spec.water_cooled else 0.0,
        "heat_export_kwh": float(series[f"{p}HEAT"].sum()) if spec.heat_export else 0.0,
        "pue_fault_free": float(target_pue),
        "scale": float(s),
    }  # fmt: skip
    e_dc = truth["grid_kwh"] + truth["pv_kwh"] - truth["office_kwh"]
    truth["pue"] = e_dc / truth["it_kwh"]
    return _SiteResult(_meter_tree(site, spec), t_end, series, faults, truth)


# --------------------------------------------------------------------------- readings


def _as_read(
    meter: _MeterDef, quantity: FloatArray, hours_per_step: float
) -> tuple[FloatArray, bool]:
    """The values a meter shows for per-interval quantities [kWh, L]: registers for counters
    (with a reading at the start), mean power for kW meters, per-interval values otherwise;
    in the meter's unit before its multiplier, rounded to its resolution."""
    unit_factor = {"kWh": 1.0, "MWh": 0.001, "kW": 1.0 / hours_per_step, "L": 1.0,
                   "m3": 0.001}[meter.unit]  # fmt: skip
    values = quantity * unit_factor / meter.multiplier
    if meter.kind == "counter":
        register = meter.start + np.concatenate([[0.0], np.cumsum(values)])
        if meter.rollover is not None:
            register = np.mod(register, meter.rollover)
        shown: FloatArray = np.floor(register / meter.resolution) * meter.resolution
        return np.round(shown, 6), True
    rounded: FloatArray = np.round(np.round(values / meter.resolution) * meter.resolution, 6)
    return rounded, False


def generate_telemetry(
    seed: int, year: int, sites: Sequence[str] | None = None, *, faults: bool = True
) -> Telemetry:
    """A year of synthetic telemetry for the demo's data centres (see the module docstring).

    Parameters
    ----------
    seed
        The random seed; the same seed, year and sites give the same tables.
    year
        The calendar year, in each site's local time (``Asia/Shanghai`` or
        ``America/New_York``).
    sites
        Data-centre site codes (default all nine of :data:`DATA_CENTRES`).
    faults
        Inject the faults (default); False gives the same year without them (the same noise:
        the counterfactual a detector's energy estimate can be checked against).

    Raises
    ------
    InputError
        If a site is not one of the demo's data centres.
    """
    chosen = list(DATA_CENTRES) if sites is None else list(sites)
    unknown = [s for s in chosen if s not in _SPECS]
    if unknown:
        raise InputError(
            f"no demo telemetry for {', '.join(unknown)}",
            [Issue("", None, "site", s, "not a demo data centre", ", ".join(DATA_CENTRES))
             for s in unknown],
        )  # fmt: skip
    annual = {s.site: s.annual_electricity_mwh for s in demo_sites()}
    climate = climate_parameters()
    meter_rows: list[dict[str, object]] = []
    meter_index: list[npt.NDArray[np.int32]] = []
    times: list[npt.NDArray[np.int64]] = []
    values: list[FloatArray] = []
    names: list[str] = []
    injected: list[InjectedFault] = []
    truth: dict[str, dict[str, float]] = {}
    hours_per_step = _STEP_S / _HOUR_S
    for site in chosen:
        result = _simulate_site(site, seed, year, annual[site], faults_on=faults)
        injected += result.faults
        truth[site] = result.truth
        tz = climate[site].timezone
        t_start = result.t_end_s[0] - _STEP_S
        counter_times = np.concatenate([[t_start], result.t_end_s])
        site_faults = [f for f in result.faults if f.kind in ("stuck_meter", "data_gap")]
        for meter in sorted(result.meters, key=lambda m: m.meter):
            shown, is_counter = _as_read(meter, result.series[meter.meter], hours_per_step)
            ts = counter_times if is_counter else result.t_end_s
            keep = np.ones(len(ts), dtype=bool)
            for fault in site_faults:
                if fault.meter != meter.meter:
                    continue
                inside = (ts > _epoch_s(fault.start)) & (ts <= _epoch_s(fault.end))
                if fault.kind == "data_gap":
                    keep &= ~inside
                else:  # stuck: the value before the window, repeated
                    first = int(np.argmax(inside))
                    shown = shown.copy()
                    shown[inside] = shown[first - 1]
            meter_rows.append(
                {
                    "meter": meter.meter,
                    "site": site,
                    "parent": meter.parent or "",
                    "role": meter.role,
                    "unit": meter.unit,
                    "kind": meter.kind,
                    "multiplier": meter.multiplier,
                    "rollover": meter.rollover,
                    "timezone": tz,
                    "fuel": meter.fuel or "",
                    "timestamp_marks": "end",
                    "name": meter.name,
                    "name_zh": meter.name_zh,
                }
            )
            index = len(names)
            names.append(meter.meter)
            kept = int(keep.sum())
            meter_index.append(np.full(kept, index, dtype=np.int32))
            times.append(ts[keep])
            values.append(shown[keep])
    indices = pa.array(np.concatenate(meter_index), pa.int32())
    meter_col = pa.DictionaryArray.from_arrays(indices, pa.array(names, pa.string())).cast(
        pa.string()
    )
    readings = pa.table(
        {
            "meter": meter_col,
            "timestamp": pa.array(np.concatenate(times) * 1000, pa.timestamp("ms", tz="UTC")),
            "value": pa.array(np.concatenate(values), pa.float64()),
        }
    )
    meters = pa.Table.from_pylist(
        meter_rows,
        schema=pa.schema(
            [
                ("meter", pa.string()), ("site", pa.string()), ("parent", pa.string()),
                ("role", pa.string()), ("unit", pa.string()), ("kind", pa.string()),
                ("multiplier", pa.float64()), ("rollover", pa.float64()),
                ("timezone", pa.string()), ("fuel", pa.string()),
                ("timestamp_marks", pa.string()), ("name", pa.string()),
                ("name_zh", pa.string()),
            ]
        ),
    )  # fmt: skip
    return Telemetry(
        seed=seed,
        year=year,
        meters=meters,
        readings=readings,
        weather=weather_year(seed, year, chosen),
        faults=tuple(sorted(injected, key=lambda f: (f.start, f.site, f.meter))),
        truth=truth,
    )


# --------------------------------------------------------------------------- files


@dataclass(frozen=True, slots=True)
class TelemetryFiles:
    """The telemetry input files the demo writes (``<workspace>/inputs/telemetry``) and what
    generated them; :meth:`imports` lists ``(kind, file)`` in import order."""

    meters: Path
    readings: Path
    weather: Path
    faults: Path
    telemetry: Telemetry
    seconds: float  # [s] generating and writing

    def imports(self) -> list[tuple[str, Path]]:
        return [("meters", self.meters), ("readings", self.readings), ("weather", self.weather)]


#: Sites whose weather file gives the relative humidity but no wet bulb (the import then
#: computes it by Stull 2011), to exercise that path.
WET_BULB_LEFT_OUT: tuple[str, ...] = ("DC-US", "DC-HE")


def write_telemetry_inputs(
    folder: Path, *, seed: int, year: int, sites: Sequence[str] | None = None
) -> TelemetryFiles:
    """Generate the telemetry (:func:`generate_telemetry`) and write the demo's input files:

    * ``meters.csv`` (kind ``meters``, UTF-8 CSV, the columns of :data:`METER_COLUMNS`);
    * ``readings-<year>.parquet`` (kind ``readings``: ``meter``, ``timestamp`` UTC tz-aware,
      ``value``);
    * ``weather-<year>.parquet`` (kind ``weather``: ``site``, ``timestamp`` UTC tz-aware,
      ``dry_bulb_c``, ``wet_bulb_c`` — empty for :data:`WET_BULB_LEFT_OUT` —,
      ``relative_humidity_pct``);
    * ``injected-faults.csv`` (not imported: the faults' ground truth, for the anomaly
      detectors' evaluation).
    """
    started = time.perf_counter()
    telemetry = generate_telemetry(seed, year, sites)
    folder.mkdir(parents=True, exist_ok=True)
    meters = folder / "meters.csv"
    pacsv.write_csv(telemetry.meters, meters)
    readings = folder / f"readings-{year}.parquet"
    pq.write_table(telemetry.readings, readings, compression="zstd")
    weather = telemetry.weather
    left_out = pc.is_in(weather["site"], pa.array(WET_BULB_LEFT_OUT, pa.string()))
    weather_file = folder / f"weather-{year}.parquet"
    pq.write_table(
        pa.table(
            {
                "site": weather["site"],
                "timestamp": pc.assume_timezone(weather["ts_utc"], "UTC"),
                "dry_bulb_c": weather["dry_bulb_c"],
                "wet_bulb_c": pc.if_else(left_out, None, weather["wet_bulb_c"]),
                "relative_humidity_pct": weather["relative_humidity_pct"],
            }
        ),
        weather_file,
        compression="zstd",
    )
    faults = folder / "injected-faults.csv"
    pacsv.write_csv(
        pa.Table.from_pylist(
            [
                {
                    "site": f.site,
                    "meter": f.meter,
                    "kind": f.kind,
                    "start_utc": f.start.isoformat(sep=" "),
                    "end_utc": f.end.isoformat(sep=" "),
                    "energy_kwh": f.energy_kwh,
                    "description": f.description.en,
                    "description_zh": f.description.zh,
                }
                for f in telemetry.faults
            ]
        ),
        faults,
    )
    return TelemetryFiles(
        meters, readings, weather_file, faults, telemetry, time.perf_counter() - started
    )
