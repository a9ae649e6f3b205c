"""Daily rollup + hourly weather tables → BaselineData, and the workspace adapter's wiring
(with the rollup and weather readers replaced by in-memory tables of the contract's shape)."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from _energy_baseline import DAYS_2023 as DAYS
from _energy_baseline import PERIOD_2023 as PERIOD
from _energy_baseline import T_2023 as T
from _energy_baseline import rollup_table, weather_table
from esgledger.energy import baseline_workspace
from esgledger.energy.baseline import data_from_tables
from esgledger.energy.periods import Period
from esgledger.errors import InputError, NotFoundError


def test_meters_are_summed_per_local_day_and_a_missing_meter_day_is_missing() -> None:
    a: list[float | None] = [100.0] * len(DAYS)
    b: list[float | None] = [50.0] * len(DAYS)
    b[10] = None
    table = rollup_table({"A": ("cooling", a), "B": ("cooling", b)})
    table = table.filter(
        pa.compute.invert(
            pa.compute.and_(
                pa.compute.equal(table["meter"], "A"),
                pa.compute.equal(table["period_local"], pa.scalar(datetime(2023, 1, 21))),
            )
        )
    )
    data = data_from_tables(table, weather_table(), period=PERIOD)
    energy = np.asarray(data.energy_kwh)
    assert energy[0] == 150.0
    assert np.isnan(energy[10])  # B has no quantity
    assert np.isnan(energy[20])  # A has no row
    assert np.count_nonzero(np.isfinite(energy)) == 363
    assert data.temperature_c[0] == pytest.approx(T[0], abs=1e-9)  # the sine averages out
    assert data.hourly_temperature_c is not None
    assert len(data.hourly_temperature_c[0]) == 24


def test_a_day_with_few_weather_hours_loses_its_temperature() -> None:
    weather = weather_table().slice(0, 24 * 5 + 6)  # day 6 has 6 of 24 hours
    data = data_from_tables(
        rollup_table({"A": ("cooling", [1.0] * len(DAYS))}), weather, period=PERIOD
    )
    assert np.isfinite(data.temperature_c[4])
    assert np.isnan(data.temperature_c[5])
    assert "energy.sufficiency.partial_temperature_day" in [f.code for f in data.findings]
    assert "energy.sufficiency.low_coverage" in [f.code for f in data.findings]


def test_energy_in_another_unit_is_refused() -> None:
    table = rollup_table({"W": ("water", [1.0] * len(DAYS))})
    table = table.set_column(3, "unit", pa.array(["L"] * table.num_rows))
    with pytest.raises(InputError):
        data_from_tables(table, weather_table(), period=PERIOD)


class _Fake:
    def __init__(self, tables: dict[tuple[str, str], pa.Table]) -> None:
        self.tables = tables
        self.calls: list[dict[str, Any]] = []

    def rollup(self, ws: object, grain: str, **kw: Any) -> pa.Table:
        self.calls.append({"grain": grain, **kw})
        if kw.get("roles"):
            found = self.tables.get(("role", kw["roles"][0]))
        elif not kw.get("meters"):  # a role without meters
            found = None
        else:
            found = self.tables.get(("meter", kw["meters"][0]))
        if found is None and kw.get("meters"):  # a role asked for by its top meters
            found = next(
                (t for t in self.tables.values() if kw["meters"][0] in t["meter"].to_pylist()),
                None,
            )
        return found if found is not None else rollup_table({}).slice(0, 0)

    def meters(self, ws: object, *, site: str | None = None) -> list[SimpleNamespace]:
        """A flat tree: every meter of the tables a root of its role."""
        return [
            SimpleNamespace(meter=meter, role=role, parent=None, site=site)
            for table in self.tables.values()
            for meter, role in sorted(
                set(zip(table["meter"].to_pylist(), table["role"].to_pylist(), strict=True))
            )
        ]

    def hourly(self, ws: object, site: str, period: Period | None = None) -> pa.Table:
        return weather_table()


def _patch(monkeypatch: pytest.MonkeyPatch, fake: _Fake) -> None:
    monkeypatch.setattr(baseline_workspace, "rollup", fake.rollup)
    monkeypatch.setattr(baseline_workspace, "hourly", fake.hourly)
    monkeypatch.setattr(baseline_workspace, "load_meters", fake.meters)


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
            ("role", "incomer"): rollup_table({"M1": ("incomer", [float(v) for v in cooling])}),
            ("role", "pdu_output"): rollup_table({"P1": ("pdu_output", [float(v) for v in it])}),
        }
    )
    _patch(monkeypatch, fake)
    fitted = baseline_workspace.baseline_for(None, "SH1", "incomer", PERIOD, "dc_it_cdh")  # type: ignore[arg-type]
    # Noise-free data: the only error left is the change-point grid (refined to ~0.01 °C).
    assert fitted.parameters["it_coefficient"].value == pytest.approx(1.1, rel=1e-3)
    assert fitted.parameters["cooling_kwh_per_degc_hour"].value == pytest.approx(80, rel=1e-3)
    assert fitted.parameters["change_point_c"].value == pytest.approx(16, abs=0.05)
    # it_input was asked first (category 3: no meter), then pdu_output (category 2) was found,
    # each by its topmost meters
    assert [c.get("meters") for c in fake.calls][1:3] == [[], ["P1"]]
    codes = [f.code for f in fitted.findings]
    assert "energy.baseline.it_role" in codes
    assert "energy.baseline.cdh_from_daily_mean" not in codes


def test_baseline_for_an_unknown_meter_is_not_found(monkeypatch: pytest.MonkeyPatch) -> None:
    _patch(monkeypatch, _Fake({}))
    with pytest.raises(NotFoundError):
        baseline_workspace.baseline_for(None, "SH1", "nope", PERIOD)  # type: ignore[arg-type]
