"""Psychrometric helpers of the energy package (pure, vectorised).

湿空气计算：由干球温度和相对湿度求湿球温度（Stull 2011）。

:func:`wet_bulb_stull` is the empirical wet-bulb formula of Stull (2011), used by the weather
import (:mod:`esgledger.energy.weather`) when a file gives relative humidity but no wet bulb,
and by the demo's weather generator (:mod:`esgledger.demo.telemetry`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "STULL_RH_RANGE_PCT",
    "STULL_SOURCE",
    "STULL_T_RANGE_C",
    "stull_in_range",
    "wet_bulb_stull",
]

#: Where the formula comes from.
STULL_SOURCE = (
    "Stull, R. (2011). Wet-Bulb Temperature from Relative Humidity and Air Temperature. "
    "Journal of Applied Meteorology and Climatology 50(11), 2267-2269, eq. 1. "
    "doi:10.1175/JAMC-D-11-0143.1"
)
#: [%] relative humidity range over which Stull fitted the formula (5 % to 99 %).
STULL_RH_RANGE_PCT = (5.0, 99.0)
#: [°C] air temperature range of the fit (-20 °C to 50 °C).
STULL_T_RANGE_C = (-20.0, 50.0)

FloatArray = npt.NDArray[np.float64]


def wet_bulb_stull(dry_bulb_c: npt.ArrayLike, relative_humidity_pct: npt.ArrayLike) -> FloatArray:
    """Wet-bulb temperature [°C] at standard sea-level pressure (101.325 kPa), Stull (2011)::

        Tw = T·atan(0.151977·(RH + 8.313659)^½) + atan(T + RH) − atan(RH − 1.676331)
             + 0.00391838·RH^(3/2)·atan(0.023101·RH) − 4.686035

    with ``T`` the dry bulb [°C] and ``RH`` the relative humidity [%] (angles in radians).
    Stull gives a mean absolute error under 0.3 K (−1 K to +0.65 K at worst) for RH 5-99 %
    and T −20-50 °C, except at once cold and dry air; outside that range the formula
    extrapolates (see :func:`stull_in_range`). Near saturation it can exceed the dry bulb by
    a few hundredths of a kelvin; callers decide what to do with that.
    """
    t = np.asarray(dry_bulb_c, dtype=np.float64)
    rh = np.asarray(relative_humidity_pct, dtype=np.float64)
    result: FloatArray = (
        t * np.arctan(0.151977 * np.sqrt(rh + 8.313659))
        + np.arctan(t + rh)
        - np.arctan(rh - 1.676331)
        + 0.00391838 * rh**1.5 * np.arctan(0.023101 * rh)
        - 4.686035
    )
    return result


def stull_in_range(
    dry_bulb_c: npt.ArrayLike, relative_humidity_pct: npt.ArrayLike
) -> npt.NDArray[np.bool_]:
    """True where (T, RH) lies inside the fitted range of Stull (2011)."""
    t = np.asarray(dry_bulb_c, dtype=np.float64)
    rh = np.asarray(relative_humidity_pct, dtype=np.float64)
    inside: npt.NDArray[np.bool_] = (
        (rh >= STULL_RH_RANGE_PCT[0])
        & (rh <= STULL_RH_RANGE_PCT[1])
        & (t >= STULL_T_RANGE_C[0])
        & (t <= STULL_T_RANGE_C[1])
    )
    return inside
