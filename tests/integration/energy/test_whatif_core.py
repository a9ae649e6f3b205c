"""The what-if on a site's metered hours through the real energy core: meter tree and
readings imported, hourly rollups built in DuckDB, the baseline year read from them.

DC1 (Asia/Shanghai, naive readings are local time), 48 hours of 15-minute interval readings:
per hour incomer 1,340 kWh, PDU output (IT, category 2) 1,000, cooling 250, other 10, so
power losses 80 kWh and PUE 1.34 (the §1.1 proportions). Each meter alternates ±1 % around
its mean so no reading is flagged stuck; each hour still sums to the figures above.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest
import typer
from typer.testing import CliRunner

from _energy_support import import_meters, import_readings, meter, organise, series
from _energy_whatif import FACTOR, PRICES
from esgledger.cli._commands_energy_whatif import register
from esgledger.energy.proposals import site_baseline
from esgledger.energy.whatif import WaterSideEconomiser, simulate
from esgledger.errors import InputError
from esgledger.store import Workspace

runner = CliRunner()
energy = typer.Typer()
register(energy)
QUARTER = {"M-IN": 335.0, "M-PDU": 250.0, "M-COOL": 62.5, "M-OTH": 2.5, "M-UPS": 270.0}


def _fill(ws: Workspace) -> None:
    organise(ws)
    import_meters(
        ws,
        [
            meter("M-IN", "incomer"),
            meter("M-COOL", "cooling", parent="M-IN"),
            meter("M-OTH", "other", parent="M-IN"),
            meter("M-UPS", "ups_input", parent="M-IN"),
            meter("M-PDU", "pdu_output", parent="M-UPS"),
        ],
    )
    start = datetime(2024, 1, 1, 0, 15)
    rows = []
    for code, mean in QUARTER.items():
        rows += series(code, start, [mean * (0.99 if i % 2 else 1.01) for i in range(4 * 48)])
    import_readings(ws, rows)


def test_the_baseline_year_comes_from_the_core_rollups(workspace: Workspace) -> None:
    _fill(workspace)
    base = site_baseline(workspace, "DC1", "2024-01-01:2024-01-02")
    assert base.hours == 48
    assert base.source == "metered hourly rollups (IT at pdu_output)"
    assert base.it_kwh.sum() == pytest.approx(48 * 1000.0, rel=1e-9)
    assert base.power_losses_kwh.sum() == pytest.approx(48 * 80.0, rel=1e-9)
    assert base.hour_local is not None
    assert str(base.hour_local[0]) == "2024-01-01T00:00:00"
    assert not any(n.code == "energy.whatif.flagged_hours" for n in base.notes)


def test_whatif_cli_on_metered_hours(workspace: Workspace) -> None:
    _fill(workspace)
    args = ["whatif", str(workspace.root), "--site", "DC1", "--price-per-kwh", "0.8"]
    args += ["--period", "2024-01-01:2024-01-02", "--format", "json"]
    result = runner.invoke(energy, [*args, "--lever", "ups_eco"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["baseline"]["pue"] == pytest.approx(1.34, rel=1e-9)
    # UPS losses 0.75 × 80 kWh/h scale by (1/0.99 − 1)/(1/0.95 − 1) over 48 h.
    ratio = (1 / 0.99 - 1) / (1 / 0.95 - 1)
    losses = 48 * (20 + 60 * ratio) / 1000
    assert data["scenario"]["power_losses_mwh"] == pytest.approx(losses, rel=1e-9)
    assert "energy.whatif.partial_year" in [n["code"] for n in data["notes"]]


def test_levers_needing_weather_say_so_when_none_is_imported(workspace: Workspace) -> None:
    _fill(workspace)
    base = site_baseline(workspace, "DC1", "2024-01-01:2024-01-02")
    assert base.wet_bulb_c is None  # no weather imported in this workspace
    with pytest.raises(InputError, match="neither wet bulb"):
        simulate(base, WaterSideEconomiser(), location=FACTOR, prices=PRICES)
