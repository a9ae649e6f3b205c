"""Modelled PV against a hand calculation of one hour from the published model equations.

Sources
-------
* PVWatts Version 5 Manual, A. P. Dobos, NREL/TP-6A20-62641 (Sept 2014): DC power
  ``P_dc = P_dc0 · G_poa / 1000 · (1 + γ (T_cell − 25))`` (eq. 1), system losses applied to DC
  (default 14 %), and the inverter model
  ``η = η_nom / η_ref · (−0.0162 ζ − 0.0059 / ζ + 0.9858)``, ``ζ = P_dc / P_dc0,inv``,
  ``η_ref = 0.9637`` (eqs. 4-5).
* Sandia Array Performance Model thermal model, D. L. King, W. E. Boyson, J. A. Kratochvil,
  SAND2004-3535 (2004), eqs. 11-12: ``T_m = E · exp(a + b · WS) + T_a``,
  ``T_c = T_m + E / 1000 · ΔT``; open-rack glass/glass: a = −3.47, b = −0.0594, ΔT = 3 °C.

The case — chosen so that each step can be done by hand: the 13 MWp rooftop plant of the
issue (Jiangsu, 32.3° N, 119.2° E), modules horizontal (tilt 0), an overcast noon hour of
purely diffuse light, GHI = DHI = 800 W/m², DNI = 0 (so the isotropic plane-of-array
irradiance is exactly 800 W/m², whatever the sun's position), air 25 °C, wind 1 m/s,
γ = −0.0037 /°C, losses 14 %, DC/AC 1.2, η_nom = 0.96.

By hand: T_c = 800 · e^(−3.5294) + 25 + 2.4 = 50.858 °C;
P_dc = 13,000 · 0.8 · (1 − 0.0037 · 25.858) · 0.86 = 8,088.29 kW; inverter DC limit
13,000 / 1.2 / 0.96 = 11,284.72 kW, ζ = 0.71675, η = 0.96225; P_ac = 7,782.9 kW → 7,782.9 kWh
in the hour. The tolerances: the equations are closed-form, so the model must agree with
the recomputation below to 1e-9 relative; the hand-rounded figures are asserted to their
printed digits.
"""

from __future__ import annotations

import math
from datetime import datetime

import pytest

from esgledger.renewables.pv import PvSystem, pv_hourly

SYSTEM = PvSystem(latitude=32.3, longitude=119.2, capacity_kwp=13_000.0, tilt_deg=0.0)


def test_one_overcast_hour_by_hand() -> None:
    table = pv_hourly(
        SYSTEM,
        [datetime(2024, 6, 21, 4)],  # 12:00 in Jiangsu (UTC+8)
        ghi_wm2=[800.0],
        dni_wm2=[0.0],
        dhi_wm2=[800.0],
        temp_air_c=25.0,
        wind_speed_ms=1.0,
    )
    (row,) = table.to_pylist()
    assert row["poa_global_wm2"] == pytest.approx(800.0, rel=1e-12)
    t_cell = 800.0 * math.exp(-3.47 - 0.0594 * 1.0) + 25.0 + 800.0 / 1000.0 * 3.0
    assert row["cell_temperature_c"] == pytest.approx(t_cell, rel=1e-9)
    assert round(row["cell_temperature_c"], 3) == 50.858
    p_dc = 13_000.0 * 0.8 * (1 - 0.0037 * (t_cell - 25.0)) * (1 - 0.14)
    assert round(p_dc, 2) == 8_088.29
    zeta = p_dc / (13_000.0 / 1.2 / 0.96)
    eta = 0.96 / 0.9637 * (-0.0162 * zeta - 0.0059 / zeta + 0.9858)
    assert (round(zeta, 5), round(eta, 5)) == (0.71675, 0.96225)
    assert row["generation_kwh"] == pytest.approx(p_dc * eta, rel=1e-9)
    assert round(row["generation_kwh"], 1) == 7_782.9
    assert row["basis"] == "modelled"
    assert row["irradiance"] == "user"


def test_the_inverter_clips_at_its_ac_rating() -> None:
    """At 1,200 W/m² and 0 °C air the DC power after losses exceeds the inverter's DC limit,
    so the output is the AC rating 13,000 / 1.2 = 10,833.3 kW (PVWatts eq. 5 clipping)."""
    (row,) = pv_hourly(
        SYSTEM,
        [datetime(2024, 6, 21, 4)],
        ghi_wm2=[1200.0],
        dni_wm2=[0.0],
        dhi_wm2=[1200.0],
        temp_air_c=-20.0,
        wind_speed_ms=5.0,
    ).to_pylist()
    assert row["generation_kwh"] == pytest.approx(13_000.0 / 1.2, rel=1e-12)
