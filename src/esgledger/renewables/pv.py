"""Modelled on-site PV generation (pvlib), for sites without a generation meter.

现场光伏发电量估算（pvlib），用于没有发电计量表的站点。结果标记为“模型估算”。

A PVWatts-style chain of pvlib's published models, one function per step as pvlib keeps
them (``docs`` of each step cite the paper):

1. sun position (:func:`pvlib.solarposition.get_solarposition`) at the middle of each hour;
2. irradiance: the user's GHI / DNI / DHI [W/m²], or clear-sky (Ineichen–Perez with the
   Linke turbidity climatology shipped in pvlib) when none is given;
3. plane of array: :func:`pvlib.irradiance.get_total_irradiance`, isotropic sky, ground
   albedo 0.25;
4. cell temperature: Sandia array performance model (King et al. 2004), open-rack
   glass/glass mounting by default (:func:`pvlib.temperature.sapm_cell`);
5. DC power: PVWatts v5 (Dobos 2014, NREL/TP-6A20-62641),
   ``P_dc = P_dc0 · G_poa / 1000 · (1 + γ (T_cell − 25 °C))``;
6. system losses (soiling, wiring, mismatch, availability …) as one percentage, PVWatts'
   14 % by default: ``P_dc · (1 − losses)``;
7. AC power: PVWatts inverter model (:func:`pvlib.inverter.pvwatts`), DC/AC ratio 1.2,
   nominal efficiency 0.96, clipped at the AC rating.

Each hour's energy is the mean power at the hour's midpoint × 1 h. Every result row carries
``basis = "modelled"`` and the irradiance source, so a modelled figure can never pass for a
metered one.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa

__all__ = ["PvSystem", "pv_hourly"]

#: The label every modelled generation row carries.
MODELLED = "modelled"


@dataclass(frozen=True, slots=True)
class PvSystem:
    """A PV system.

    Parameters
    ----------
    latitude, longitude
        [degrees] site location (north and east positive).
    capacity_kwp
        [kWp] DC nameplate at standard test conditions.
    tilt_deg
        [degrees] from horizontal.
    azimuth_deg
        [degrees] clockwise from north (180 = facing south).
    losses_pct
        [%] system losses before the inverter (PVWatts default 14).
    altitude_m
        [m] above sea level (clear-sky model).
    gamma_pdc
        [1/°C] temperature coefficient of power (PVWatts standard module −0.0037).
    dc_ac_ratio
        DC nameplate / inverter AC rating (PVWatts default 1.2).
    eta_inv_nom
        Nominal inverter efficiency (PVWatts 0.96).
    mounting
        Sandia thermal-model mounting (``open_rack_glass_glass``, ``close_mount_glass_glass``,
        ``open_rack_glass_polymer``, ``insulated_back_glass_polymer``).
    """

    latitude: float
    longitude: float
    capacity_kwp: float
    tilt_deg: float
    azimuth_deg: float = 180.0
    losses_pct: float = 14.0
    altitude_m: float = 0.0
    gamma_pdc: float = -0.0037
    dc_ac_ratio: float = 1.2
    eta_inv_nom: float = 0.96
    mounting: str = "open_rack_glass_glass"

    def __post_init__(self) -> None:
        checks = (
            (-90 <= self.latitude <= 90, "latitude must be in -90..90 degrees"),
            (-180 <= self.longitude <= 180, "longitude must be in -180..180 degrees"),
            (self.capacity_kwp > 0, "capacity_kwp must be greater than 0"),
            (0 <= self.tilt_deg <= 90, "tilt_deg must be in 0..90 degrees"),
            (0 <= self.azimuth_deg <= 360, "azimuth_deg must be in 0..360 degrees"),
            (0 <= self.losses_pct < 100, "losses_pct must be in 0..100 %"),
            (self.dc_ac_ratio > 0, "dc_ac_ratio must be greater than 0"),
        )
        for ok, message in checks:
            if not ok:
                raise ValueError(message)


def pv_hourly(
    system: PvSystem,
    hours: Sequence[datetime] | Any,
    *,
    timezone: str = "UTC",
    ghi_wm2: Sequence[float] | None = None,
    dni_wm2: Sequence[float] | None = None,
    dhi_wm2: Sequence[float] | None = None,
    temp_air_c: float | Sequence[float] = 20.0,
    wind_speed_ms: float | Sequence[float] = 1.0,
) -> pa.Table:
    """Hourly AC generation of ``system`` [kWh], labelled modelled.

    Parameters
    ----------
    system
        The PV system.
    hours
        Start of each hour (naive times are read in ``timezone``).
    timezone
        IANA zone of naive ``hours`` (``"Asia/Shanghai"``).
    ghi_wm2, dni_wm2, dhi_wm2
        [W/m²] hourly-mean irradiance, all three or none; none = clear sky.
    temp_air_c
        [°C] air temperature, one value or hourly.
    wind_speed_ms
        [m/s] wind speed at 10 m, one value or hourly.

    Returns
    -------
    pyarrow.Table
        ``hour`` (timestamp, the start), ``generation_kwh``, ``poa_global_wm2``,
        ``cell_temperature_c``, ``basis`` (``"modelled"``) and ``irradiance``
        (``"clear-sky (Ineichen-Perez)"`` or ``"user"``).

    Raises
    ------
    ValueError
        If only some irradiance components are given or lengths differ.
    """
    import pandas as pd

    given = [x is not None for x in (ghi_wm2, dni_wm2, dhi_wm2)]
    if any(given) and not all(given):
        raise ValueError("give all three of ghi_wm2, dni_wm2 and dhi_wm2, or none (clear sky)")
    with warnings.catch_warnings():
        # pvlib 0.16 still calls pandas' deprecated DatetimeIndex.dayofyear (clear sky, sun
        # position); the values are right, only the pandas 4 deprecation is silenced.
        warnings.filterwarnings("ignore", message=r".*dayofyear is deprecated")
        return _pv_hourly(
            system,
            pd.DatetimeIndex(list(hours)),
            timezone,
            (ghi_wm2, dni_wm2, dhi_wm2) if all(given) else None,
            temp_air_c,
            wind_speed_ms,
        )


def _pv_hourly(
    system: PvSystem,
    index: Any,
    timezone: str,
    user: tuple[Any, Any, Any] | None,
    temp_air_c: Any,
    wind_speed_ms: Any,
) -> pa.Table:
    import pandas as pd
    import pvlib

    if index.tz is None:
        index = index.tz_localize(timezone)
    middle = index + pd.Timedelta(minutes=30)
    location = pvlib.location.Location(
        system.latitude, system.longitude, tz=str(index.tz), altitude=system.altitude_m
    )
    solar = location.get_solarposition(middle)
    if user is not None:
        irradiance = pd.DataFrame(
            {"ghi": user[0], "dni": user[1], "dhi": user[2]}, index=middle, dtype=float
        )
        if len(irradiance) != len(index):
            raise ValueError("the irradiance series must have one value per hour")
        source = "user"
    else:
        irradiance = location.get_clearsky(middle, model="ineichen", solar_position=solar)
        source = "clear-sky (Ineichen-Perez)"
    poa = pvlib.irradiance.get_total_irradiance(
        system.tilt_deg,
        system.azimuth_deg,
        solar["apparent_zenith"],
        solar["azimuth"],
        irradiance["dni"],
        irradiance["ghi"],
        irradiance["dhi"],
        model="isotropic",
    )["poa_global"].fillna(0.0)
    params = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"][system.mounting]
    cell = pvlib.temperature.sapm_cell(poa, temp_air_c, wind_speed_ms, **params)
    pdc = pvlib.pvsystem.pvwatts_dc(poa, cell, system.capacity_kwp, system.gamma_pdc)
    pdc = pdc.clip(lower=0.0) * (1.0 - system.losses_pct / 100.0)
    inverter_dc_limit = system.capacity_kwp / system.dc_ac_ratio / system.eta_inv_nom
    pac = pvlib.inverter.pvwatts(pdc, inverter_dc_limit, eta_inv_nom=system.eta_inv_nom)
    kwh = np.nan_to_num(np.asarray(pac, dtype=np.float64), nan=0.0).clip(min=0.0)  # × 1 h
    n = len(index)
    return pa.table(
        {
            "hour": pa.Array.from_pandas(index).cast(pa.timestamp("s", tz=str(index.tz))),
            "generation_kwh": kwh,
            "poa_global_wm2": np.asarray(poa, dtype=np.float64),
            "cell_temperature_c": np.asarray(cell, dtype=np.float64),
            "basis": pa.array([MODELLED] * n, pa.string()),
            "irradiance": pa.array([source] * n, pa.string()),
        }
    )
