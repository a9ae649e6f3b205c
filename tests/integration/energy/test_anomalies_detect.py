"""``energy.anomalies.detect`` and ``esgledger energy anomalies`` through the real imports:
a meter tree and ten weeks of 15-minute readings with a stuck chiller meter, the core's
rollups and flags, and the site's grid factor from the workspace's factor library."""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from _energy_anomalies import synthetic_site
from _energy_support import import_meters, import_readings, meter, organise
from esgledger.cli._commands_energy_anomalies import register
from esgledger.energy.anomalies import detect, grid_factor
from esgledger.store import Workspace

STUCK_START = pd.Timestamp("2024-02-20 05:00")  # UTC
STUCK_END = pd.Timestamp("2024-02-21 17:00")
_METERS = {"INC": "incomer", "UPS-IN": "ups_input", "UPS-OUT": "ups_output",
           "CHILLER": "cooling", "OTHER": "other"}  # fmt: skip
_PARENTS = {"UPS-IN": "INC", "UPS-OUT": "UPS-IN", "CHILLER": "INC", "OTHER": "INC"}


def _load(ws: Workspace) -> None:
    organise(ws)  # DC1 in CN-GD
    import_meters(
        ws, [meter(code, role, parent=_PARENTS.get(code)) for code, role in _METERS.items()]
    )
    hourly, _ = synthetic_site(days=70, site="DC1")
    rows: list[tuple[str, str, float]] = []
    for code in _METERS:
        part = hourly[hourly["meter"] == code].sort_values("ts_utc")
        for ts, kwh in zip(part["ts_utc"], part["energy_kwh"], strict=True):
            for quarter in range(4):
                end = ts + pd.Timedelta(minutes=15 * (quarter + 1))
                value = kwh / 4
                if code == "CHILLER" and STUCK_START < end <= STUCK_END:
                    value = -1.0  # replaced below by the value before the window
                rows.append((code, end.isoformat() + "+00:00", value))
    frozen = next(v for m, t, v in reversed(rows) if m == "CHILLER" and v >= 0
                  and pd.Timestamp(t[:19]) <= STUCK_START)  # fmt: skip
    rows = [(m, t, frozen if v < 0 else v) for m, t, v in rows]
    import_readings(ws, rows)


@pytest.fixture
def loaded(workspace: Workspace) -> Workspace:
    _load(workspace)
    return workspace


def test_a_stuck_meter_is_an_alert_priced_with_the_site_grid_factor(loaded: Workspace) -> None:
    report = detect(loaded)
    assert report.sites == ("DC1",)
    stuck = [a for a in report.alerts if "stuck" in a.kinds and a.meter == "CHILLER"]
    assert len(stuck) == 1
    alert = stuck[0]
    assert alert.start_utc < STUCK_END.to_pydatetime()
    assert STUCK_START.to_pydatetime() < alert.end_utc
    factor = grid_factor(loaded, "DC1", 2024)
    assert factor.kg_co2e_per_kwh > 0
    assert alert.factor == factor
    assert alert.energy_kwh is not None
    assert "rule" in alert.layers
    assert alert.co2e_t == pytest.approx(alert.energy_kwh * factor.kg_co2e_per_kwh / 1000)
    assert factor.factor_id in alert.text.en
    assert factor.factor_id in alert.text.zh


def test_the_cli_prints_json_and_a_chinese_table(loaded: Workspace) -> None:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _group() -> None:
        """The energy group (a stand-in for the lead's energy_app)."""

    runner = CliRunner()
    result = runner.invoke(app, ["anomalies", str(loaded.root), "--format", "json",
                                 "--layer", "rule"])  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["layers"] == ["rule"]
    assert any("stuck" in a["kinds"] and a["meter"] == "CHILLER" for a in data["alerts"])
    first = data["alerts"][0]
    datetime.fromisoformat(first["start_utc"].removesuffix("Z"))
    table = runner.invoke(app, ["anomalies", str(loaded.root), "--lang", "zh-CN"])
    assert table.exit_code == 0, table.output
    assert "卡滞" in table.stdout
    # kinds and layers by their Chinese labels, the code kept beside each for auditors
    flat = "".join(table.stdout.split())
    assert "计量表读数停滞(stuck)" in flat
    assert "规则检查(rule)" in flat
    english = runner.invoke(app, ["anomalies", str(loaded.root), "--layer", "rule"])
    assert "Stuckmeter(stuck)" in "".join(english.stdout.split())
    bad = runner.invoke(app, ["anomalies", str(loaded.root), "--period", "2024-13"])
    assert bad.exit_code != 0
