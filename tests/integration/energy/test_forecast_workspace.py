"""Forecasts of a workspace's meters and daily PUE through the real meters and readings
imports and rollups, and ``esgledger energy forecast`` end to end."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from _energy_support import import_meters, import_readings, meter, organise
from esgledger.cli._commands_energy_forecast import register
from esgledger.energy.forecast import forecast_meters, forecast_pue
from esgledger.store import Workspace

DAYS = 35
START = datetime(2024, 3, 1, tzinfo=timezone(timedelta(hours=8)))  # local midnight, CN


def _load(ws: Workspace) -> None:
    """DC1: incomer INC and IT meter IT (15-minute interval readings over 35 days), with a
    daily cycle; INC = 1.4 × IT, so the daily PUE is 1.4 every day. IT-R is a rack sub-meter
    of IT with the same role (half of IT): it must not be added to E_IT again."""
    organise(ws)
    import_meters(
        ws,
        [
            meter("INC", "incomer"),
            meter("IT", "it_input", parent="INC"),
            meter("IT-R", "it_input", parent="IT"),
        ],
    )
    rng = np.random.default_rng(11)
    n = DAYS * 96
    q = np.arange(n)
    it = 25.0 + 5.0 * np.sin(2 * np.pi * q / 96) + rng.normal(0, 0.3, n)
    rows = []
    for i in range(n):
        end = (START + timedelta(minutes=15 * (i + 1))).isoformat()
        rows.append(("IT", end, float(it[i])))
        rows.append(("INC", end, float(it[i]) * 1.4))
        rows.append(("IT-R", end, float(it[i]) * 0.5))
    import_readings(ws, rows)


@pytest.fixture
def loaded(sqlite_workspace: Workspace) -> Workspace:
    _load(sqlite_workspace)
    return sqlite_workspace


def test_forecast_meters_from_the_rollups(loaded: Workspace) -> None:
    result = forecast_meters(loaded, site="DC1", grain="hour", h=24, n_jobs=1)
    assert result.forecast is not None
    series = result.series.to_pandas()
    assert sorted(series["series_id"].unique()) == ["INC", "IT", "IT-R"]
    # Hourly kWh: 4 quarter-hours; INC is 1.4 × IT hour by hour.
    inc = series[series["series_id"] == "INC"].set_index("ts")["energy_kwh"]
    it = series[series["series_id"] == "IT"].set_index("ts")["energy_kwh"]
    np.testing.assert_allclose(inc.to_numpy(), 1.4 * it.loc[inc.index].to_numpy(), rtol=1e-9)
    assert 90 < it.mean() < 110
    table = result.forecast.table.to_pandas()
    assert table.groupby("series_id").size().to_dict() == {"INC": 24, "IT": 24, "IT-R": 24}
    assert {"MSTL", "AutoETS", "SeasonalNaive", "MSTL-lo-95", "MSTL-hi-95"} <= set(table)
    # A daily cycle of ±20 kWh per hour is forecast, not a flat line.
    assert table.loc[table["series_id"] == "IT", "MSTL"].std() > 5


def test_forecast_pue_is_incomer_over_it(loaded: Workspace) -> None:
    result = forecast_pue(loaded, "DC1", h=7, backtest_windows=2, n_jobs=1)
    series = result.series.to_pandas()
    # The first and last local days are complete (readings mark interval ends).
    assert len(series) >= DAYS - 1
    # INC / IT, not INC / (IT + IT-R) = 1.4 / 1.5.
    np.testing.assert_allclose(series["pue"], 1.4, rtol=1e-9)
    assert "energy.forecast.pue_sub_meters" in {f.code for f in result.findings}
    assert result.forecast is not None
    assert result.forecast.value_column == "pue"
    assert result.backtest is not None
    assert set(result.backtest.summary.column("model").to_pylist()) == {
        "MSTL",
        "AutoETS",
        "SeasonalNaive",
    }
    # Backtested, so the bands are conformal; 2 windows of 7 days give 14 errors per series,
    # fewer than the 19 a 95 % band needs: the bands are left empty and said so, not filled.
    assert result.forecast.intervals == "conformal"
    table = result.forecast.table.to_pandas()
    assert table["MSTL"].notna().all()
    assert table["MSTL-lo-95"].isna().all()
    unavailable = [f for f in result.findings if f.code == "energy.forecast.conformal_unavailable"]
    assert {f.data["model"] for f in unavailable} == {"MSTL", "AutoETS", "SeasonalNaive"}
    assert unavailable[0].data["scores"] == 14
    assert unavailable[0].data["need"] == 19


def test_cli_forecast_json_table_and_chart(loaded: Workspace, tmp_path: Path) -> None:
    group = typer.Typer()

    @group.callback()
    def _root() -> None:
        """Energy."""

    register(group)
    runner = CliRunner()
    root = str(loaded.root)
    loaded.close()
    chart = tmp_path / "fc.svg"
    out = runner.invoke(
        group,
        ["forecast", root, "--meter", "IT", "--horizon", "24h", "--format", "json",
         "--chart", str(chart), "--jobs", "1", "--backtest", "1"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["forecast"]["h"] == 24
    assert data["forecast"]["intervals"] == "conformal"
    assert {row["series_id"] for row in data["forecast"]["rows"]} == {"IT"}
    assert all(
        row["MSTL-lo-95"] < row["MSTL"] < row["MSTL-hi-95"] for row in data["forecast"]["rows"]
    )
    coverage = data["backtest"]["coverage"]
    assert {(r["interval"], r["level"]) for r in coverage} == {
        ("model", 80), ("model", 95), ("conformal", 80), ("conformal", 95)
    }  # fmt: skip
    assert all(r["points"] == 24 for r in coverage if r["interval"] == "model")
    assert chart.read_bytes().startswith(b"<?xml")
    out = runner.invoke(
        group,
        ["forecast", root, "--site", "DC1", "--pue", "--horizon", "7d", "--backtest", "1",
         "--lang", "zh-CN", "--jobs", "1"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "预测" in out.stdout
    assert "回测" in out.stdout
    assert "覆盖率" in out.stdout
    bad = runner.invoke(group, ["forecast", root, "--horizon", "1.5h"])
    assert bad.exit_code == 1
    assert "cannot read the span" in bad.output
