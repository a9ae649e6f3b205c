"""Modelled PV: input checks, clear sky, labels (the hand-checked hour is in
tests/validation/test_pv_pvwatts.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from esgledger.renewables.pv import PvSystem, pv_hourly


def _day(start: datetime) -> list[datetime]:
    return [start + timedelta(hours=h) for h in range(24)]


def test_clear_sky_day_is_zero_at_night_and_labelled_modelled() -> None:
    system = PvSystem(latitude=22.5, longitude=114.1, capacity_kwp=1000.0, tilt_deg=20.0)
    table = pv_hourly(system, _day(datetime(2024, 3, 20)), timezone="Asia/Shanghai")
    rows = table.to_pylist()
    assert [r["generation_kwh"] for r in rows[:5]] == [0.0] * 5  # 00:00-04:59 local
    assert rows[22]["generation_kwh"] == 0.0
    assert max(r["generation_kwh"] for r in rows) > 0.5 * 1000.0 / 1.2
    assert {r["basis"] for r in rows} == {"modelled"}
    assert {r["irradiance"] for r in rows} == {"clear-sky (Ineichen-Perez)"}
    assert str(table.schema.field("hour").type) == "timestamp[s, tz=Asia/Shanghai]"
    # A south-facing array in the northern hemisphere peaks around local noon.
    peak = max(range(24), key=lambda h: rows[h]["generation_kwh"])
    assert 11 <= peak <= 13


def test_generation_scales_with_capacity_below_clipping() -> None:
    hours = _day(datetime(2024, 12, 21))
    small = PvSystem(latitude=40.0, longitude=116.4, capacity_kwp=100.0, tilt_deg=30.0)
    large = PvSystem(latitude=40.0, longitude=116.4, capacity_kwp=300.0, tilt_deg=30.0)
    a = sum(pv_hourly(small, hours, timezone="Asia/Shanghai").column("generation_kwh").to_pylist())
    b = sum(pv_hourly(large, hours, timezone="Asia/Shanghai").column("generation_kwh").to_pylist())
    assert b == pytest.approx(3 * a, rel=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"latitude": 91.0}, "latitude must be in -90..90 degrees"),
        ({"capacity_kwp": 0.0}, "capacity_kwp must be greater than 0"),
        ({"tilt_deg": 95.0}, "tilt_deg must be in 0..90 degrees"),
        ({"losses_pct": 100.0}, r"losses_pct must be in 0..100 %"),
    ],
)
def test_bad_systems_are_refused(kwargs: dict[str, float], message: str) -> None:
    base = {"latitude": 30.0, "longitude": 120.0, "capacity_kwp": 10.0, "tilt_deg": 20.0}
    with pytest.raises(ValueError, match=f"^{message}$"):
        PvSystem(**{**base, **kwargs})  # type: ignore[arg-type]


def test_irradiance_comes_whole_or_not_at_all() -> None:
    system = PvSystem(latitude=30.0, longitude=120.0, capacity_kwp=10.0, tilt_deg=20.0)
    with pytest.raises(ValueError, match=r"^give all three of ghi_wm2, dni_wm2 and dhi_wm2"):
        pv_hourly(system, [datetime(2024, 1, 1)], ghi_wm2=[100.0])
