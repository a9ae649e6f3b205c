"""``energy baseline`` on readings imported through the real importers and rolled up by the
real daily rollup (the energy core); only the hourly weather reader is replaced by a table of
the contract's shape (``energy.weather`` is the demo helper's module).

Two years of hourly interval readings at DC1 (Asia/Shanghai, start-marked): an IT meter
(it_input) and the incomer, whose energy each hour is 50 kWh (50 kW of fixed load) + 1.1 × IT
+ 3 kWh per °C above 20 °C of that hour's dry bulb; in 2024 the incomer uses 10 % less. No
noise, so the data-centre model must find those numbers up to its change-point grid.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
import typer
from typer.testing import CliRunner

from _energy_baseline import temperatures
from _energy_support import import_meters, import_readings, meter, organise
from esgledger.cli._commands_energy_baseline import register
from esgledger.energy import baseline_workspace
from esgledger.energy.periods import parse_period
from esgledger.store import Workspace

runner = CliRunner()
START = datetime(2023, 1, 1)
HOURS = 24 * (365 + 366)
DAILY_MEAN = np.concatenate([temperatures(365), temperatures(366, seed=8)])
HOUR = np.arange(HOURS)
TEMP = np.repeat(DAILY_MEAN, 24) + 5.0 * np.sin(2 * np.pi * (HOUR % 24 - 9) / 24)
IT = 1000.0 + 200.0 * np.sin(2 * np.pi * HOUR / (24 * 7)) + 100.0 * (HOUR / HOURS)
INCOMER = 50.0 + 1.1 * IT + 3.0 * np.maximum(TEMP - 20.0, 0.0)
INCOMER[HOUR >= 24 * 365] *= 0.9
STAMPS = [START + timedelta(hours=int(h)) for h in HOUR]


def _load(
    sqlite_workspace: Workspace, monkeypatch: pytest.MonkeyPatch, *, sub_meters: bool = False
) -> Workspace:
    """DC1 as the module docstring says; ``sub_meters`` adds a hall incomer under M1 and an
    IT sub-meter under IT1 (same roles, reading 60 % of their parents)."""
    organise(sqlite_workspace)
    tree = [
        meter("M1", "incomer", timestamp_marks="start"),
        meter("IT1", "it_input", parent="M1", timestamp_marks="start"),
    ]
    rows = [("M1", s, float(v)) for s, v in zip(STAMPS, INCOMER, strict=True)]
    rows += [("IT1", s, float(v)) for s, v in zip(STAMPS, IT, strict=True)]
    if sub_meters:
        tree += [
            meter("M1-HALL", "incomer", parent="M1", timestamp_marks="start"),
            meter("IT1-A", "it_input", parent="IT1", timestamp_marks="start"),
        ]
        rows += [("M1-HALL", s, 0.6 * float(v)) for s, v in zip(STAMPS, INCOMER, strict=True)]
        rows += [("IT1-A", s, 0.6 * float(v)) for s, v in zip(STAMPS, IT, strict=True)]
    import_meters(sqlite_workspace, tree)
    import_readings(sqlite_workspace, rows)

    def hourly(workspace: Any, site: str, period: Any = None) -> pa.Table:
        keep = [
            i for i, s in enumerate(STAMPS)
            if period is None or period.start <= s.date() <= period.end
        ]  # fmt: skip
        return pa.table(
            {
                "site": [site] * len(keep),
                "ts_utc": [STAMPS[i] - timedelta(hours=8) for i in keep],
                "ts_local": [STAMPS[i] for i in keep],
                "dry_bulb_c": [float(TEMP[i]) for i in keep],
            }
        )

    monkeypatch.setattr(baseline_workspace, "hourly", hourly)
    return sqlite_workspace


@pytest.fixture
def ws(sqlite_workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    return _load(sqlite_workspace, monkeypatch)


def _assert_the_model_of_the_docstring(values: dict[str, Any]) -> None:
    assert values["base_kw"] == pytest.approx(50.0, rel=0.02)
    assert values["it_coefficient"] == pytest.approx(1.1, rel=1e-3)
    assert values["cooling_kwh_per_degc_hour"] == pytest.approx(3.0, rel=0.01)
    assert values["change_point_c"] == pytest.approx(20.0, abs=0.1)


def test_data_centre_baseline_from_imported_readings(ws: Workspace) -> None:
    fitted = baseline_workspace.baseline_for(
        ws, "DC1", "incomer", parse_period("2023"), "dc_it_cdh"
    )
    _assert_the_model_of_the_docstring(fitted.values())
    assert fitted.sufficient
    assert {f.code for f in fitted.findings} >= {"energy.baseline.it_role"}
    assert fitted.metrics.n >= 364


def test_cli_json_with_avoided_energy(ws: Workspace) -> None:
    app = typer.Typer()
    energy = typer.Typer()
    register(energy)
    app.add_typer(energy, name="energy")
    args = ["energy", "baseline", str(ws.root), "--site", "DC1", "--role", "incomer",
            "--baseline-period", "2023", "--reporting-period", "2024",
            "--method", "dc_it_cdh", "--format", "json"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    avoided = doc["avoided"]
    # 10 % of the 2024 incomer energy over the days both periods have in full
    assert avoided["savings_fraction"] == pytest.approx(0.1, abs=2e-3)
    assert doc["baseline"]["verdict"]["passed"] is True


def test_a_role_baseline_adds_only_the_topmost_meters(
    sqlite_workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sub-meters of the incomer and IT roles are not added again: the fitted numbers are
    those of the plain tree (counted twice, the IT coefficient and base load would move)."""
    nested = _load(sqlite_workspace, monkeypatch, sub_meters=True)
    fitted = baseline_workspace.baseline_for(
        nested, "DC1", "incomer", parse_period("2023"), "dc_it_cdh"
    )
    _assert_the_model_of_the_docstring(fitted.values())
