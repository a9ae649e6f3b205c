"""Daily rollup + hourly weather tables → BaselineData, and the workspace adapter's wiring
(with the rollup and weather readers replaced by in-memory tables of the contract's shape)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from _energy_baseline import temperatures
from esgledger.energy import baseline_workspace
from esgledger.energy.baseline import data_from_tables
from esgledger.energy.periods import Period
from esgledger.errors import InputError, NotFoundError

PERIOD = Period(date(2023, 1, 1), date(2023, 12, 31), "2023", "Y")
DAYS = [PERIOD.start + timedelta(days=i) for i in range(PERIOD.days)]
T = temperatures(len(DAYS))


def _rollup(meters: dict[str, tuple[str, list[float | None]]]) -> pa.Table:
    rows: list[dict[str, Any]] = []
    for meter, (role, values) in meters.items():
        for day, value in zip(DAYS, values, strict=True):
            rows.append(
                {
                    "site": "SH1",
                    "meter": meter,
                    "role": role,
                    "unit": "kWh",
                    "period_start_utc": datetime(day.year, day.month, day.day),
                    "period_local": datetime(day.year, day.month, day.day),
                    "quantity": value,
                    "expected_intervals": 96,
                    "intervals": 96,
                    "flagged": 0,
                    "estimated": False,
                    "coverage": 1.0,
                }
            )
    return pa.Table.from_pylist(rows)


def _weather(hourly_swing: float = 4.0) -> pa.Table:
    rows = []
    for day, mean in zip(DAYS, T, strict=True):
        for hour in range(24):
            value = mean + hourly_swing * np.sin(2 * np.pi * (hour - 9) / 24)
            stamp = datetime(day.year, day.month, day.day, hour)
            rows.append(
                {"site": "SH1", "ts_utc": stamp, "ts_local": stamp, "dry_bulb_c": float(value)}
            )
    return pa.Table.from_pylist(rows)


def test_meters_are_summed_per_local_day_and_a_missing_meter_day_is_missing() -> None:
    a: list[float | None] = [100.0] * len(DAYS)
    b: list[float | None] = [50.0] * len(DAYS)
    b[10] = None
    table = _rollup({"A": ("cooling", a), "B": ("cooling", b)})
    table = table.filter(
        pa.compute.invert(
            pa.compute.and_(
                pa.compute.equal(table["meter"], "A"),
                pa.compute.equal(table["period_local"], pa.scalar(datetime(2023, 1, 21))),
            )
        )
    )
    data = data_from_tables(table, _weather(), period=PERIOD)
    energy = np.asarray(data.energy_kwh)
    assert energy[0] == 150.0
    assert np.isnan(energy[10])  # B has no quantity
    assert np.isnan(energy[20])  # A has no row
    assert np.count_nonzero(np.isfinite(energy)) == 363
    assert data.temperature_c[0] == pytest.approx(T[0], abs=1e-9)  # the sine averages out
    assert data.hourly_temperature_c is not None
    assert len(data.hourly_temperature_c[0]) == 24


def test_a_day_with_few_weather_hours_loses_its_temperature() -> None:
    weather = _weather().slice(0, 24 * 5 + 6)  # day 6 has 6 of 24 hours
    data = data_from_tables(_rollup({"A": ("cooling", [1.0] * len(DAYS))}), weather, period=PERIOD)
    assert np.isfinite(data.temperature_c[4])
    assert np.isnan(data.temperature_c[5])
    assert "energy.sufficiency.partial_temperature_day" in [f.code for f in data.findings]
    assert "energy.sufficiency.low_coverage" in [f.code for f in data.findings]


def test_energy_in_another_unit_is_refused() -> None:
    table = _rollup({"W": ("water", [1.0] * len(DAYS))})
    table = table.set_column(3, "unit", pa.array(["L"] * table.num_rows))
    with pytest.raises(InputError):
        data_from_tables(table, _weather(), period=PERIOD)


class _Fake:
    def __init__(self, tables: dict[tuple[str, str], pa.Table]) -> None:
        self.tables = tables
        self.calls: list[dict[str, Any]] = []

    def rollup(self, ws: object, grain: str, **kw: Any) -> pa.Table:
        self.calls.append({"grain": grain, **kw})
        key = ("role", kw["roles"][0]) if kw.get("roles") else ("meter", kw["meters"][0])
        return self.tables.get(key, _rollup({}).slice(0, 0))

    def hourly(self, ws: object, site: str, period: Period | None = None) -> pa.Table:
        return _weather()


def _patch(monkeypatch: pytest.MonkeyPatch, fake: _Fake) -> None:
    monkeypatch.setattr(baseline_workspace, "rollup", fake.rollup)
    monkeypatch.setattr(baseline_workspace, "hourly", fake.hourly)


def test_baseline_for_a_role_with_the_data_centre_model(monkeypatch: pytest.MonkeyPatch) -> None:
    it = 20_000.0 + 8_000.0 * np.arange(len(DAYS)) / len(DAYS)
    # 80 kWh per °C·h above 16 °C, computed from the same hourly temperatures as the weather
    cdh = np.array(
        [
            sum(max(m + 4.0 * np.sin(2 * np.pi * (h - 9) / 24) - 16.0, 0.0) for h in range(24))
            for m in T
        ]
    )
    cooling = 1200.0 + 1.1 * it + 80.0 * cdh
    fake = _Fake(
        {
            ("role", "incomer"): _rollup({"M1": ("incomer", [float(v) for v in cooling])}),
            ("role", "pdu_output"): _rollup({"P1": ("pdu_output", [float(v) for v in it])}),
        }
    )
    _patch(monkeypatch, fake)
    fitted = baseline_workspace.baseline_for(None, "SH1", "incomer", PERIOD, "dc_it_cdh")  # type: ignore[arg-type]
    # Noise-free data: the only error left is the change-point grid (refined to ~0.01 °C).
    assert fitted.parameters["it_coefficient"].value == pytest.approx(1.1, rel=1e-3)
    assert fitted.parameters["cooling_kwh_per_degc_hour"].value == pytest.approx(80, rel=1e-3)
    assert fitted.parameters["change_point_c"].value == pytest.approx(16, abs=0.05)
    # it_input was asked first (category 3), then pdu_output (category 2) was found
    assert [c.get("roles") for c in fake.calls][1:3] == [["it_input"], ["pdu_output"]]
    codes = [f.code for f in fitted.findings]
    assert "energy.baseline.it_role" in codes
    assert "energy.baseline.cdh_from_daily_mean" not in codes


def test_baseline_for_an_unknown_meter_is_not_found(monkeypatch: pytest.MonkeyPatch) -> None:
    _patch(monkeypatch, _Fake({}))
    with pytest.raises(NotFoundError):
        baseline_workspace.baseline_for(None, "SH1", "nope", PERIOD)  # type: ignore[arg-type]
