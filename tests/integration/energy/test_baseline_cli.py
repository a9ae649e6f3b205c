"""``esgledger energy baseline``: table and JSON output, --lang, refusal of insufficient data.

The command runs on a real (SQLite) workspace; the daily rollup and hourly weather readers
are replaced by tables of the contract's shape (``tests/_energy_baseline.py``) until the
energy core's import and rollups are on this branch.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
import typer
from typer.testing import CliRunner

from _energy_baseline import DAYS_2023, T_2023, rollup_table, weather_table
from esgledger.cli._commands_energy_baseline import register
from esgledger.energy import baseline_workspace
from esgledger.store import Workspace

runner = CliRunner()
# 1,000 kWh/day base plus 50 kWh/day per °C of daily mean above 18 °C, no noise; a cut of
# 10 % in the reporting year.
USAGE = 1000.0 + 50.0 * np.maximum(T_2023 - 18.0, 0.0)


def _app() -> typer.Typer:
    app = typer.Typer()
    energy = typer.Typer()
    register(energy)
    app.add_typer(energy, name="energy")
    return app


def _patch(monkeypatch: pytest.MonkeyPatch, *, days: int = len(DAYS_2023)) -> None:
    def rollup(ws: object, grain: str, **kw: Any) -> pa.Table:
        period = kw["period"]
        factor = 0.9 if period.start.year == 2024 else 1.0
        table = rollup_table({"M1": ("incomer", [float(v) * factor for v in USAGE])})
        # the same calendar days shifted into the period asked for
        shift = period.start - DAYS_2023[0]
        rows = table.to_pylist()[:days]
        for row in rows:
            row["period_local"] = row["period_local"] + shift
            row["period_start_utc"] = row["period_start_utc"] + shift
        return pa.Table.from_pylist(rows)

    def hourly(ws: object, site: str, period: Any = None) -> pa.Table:
        rows = weather_table().to_pylist()
        shift = period.start - DAYS_2023[0]
        for row in rows:
            row["ts_local"] = row["ts_local"] + shift
            row["ts_utc"] = row["ts_utc"] + shift
        return pa.Table.from_pylist(rows)

    monkeypatch.setattr(baseline_workspace, "rollup", rollup)
    monkeypatch.setattr(baseline_workspace, "hourly", hourly)


def _args(ws: Workspace, *extra: str) -> list[str]:
    return ["energy", "baseline", str(ws.root), "--site", "SH1", "--role", "incomer",
            "--baseline-period", "2023", *extra]  # fmt: skip


def test_json_output_with_avoided_energy(
    sqlite_workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    _patch(monkeypatch)
    args = _args(sqlite_workspace, "--reporting-period", "2024-01-01:2024-12-30",
                 "--method", "g14_3p_cooling", "--format", "json")  # fmt: skip
    result = runner.invoke(_app(), args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    base = doc["baseline"]
    assert base["method"] == "g14_3p_cooling"
    assert base["parameters"]["change_point_c"]["value"] == pytest.approx(18.0, abs=0.1)
    assert base["conventions"]["residual"] == "measured - predicted"
    assert base["verdict"]["passed"] is True
    avoided = doc["avoided"]
    assert avoided["savings_fraction"] == pytest.approx(0.1, abs=1e-3)
    assert [u["confidence_pct"] for u in avoided["uncertainty"]] == [68.0, 90.0]


def test_table_output_in_chinese(
    sqlite_workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    _patch(monkeypatch)
    result = runner.invoke(_app(), _args(sqlite_workspace, "--lang", "zh-CN"))
    assert result.exit_code == 0, result.output
    assert "能耗基线" in result.stdout
    assert "CV(RMSE)" in result.stdout
    assert "通过" in result.stdout


def test_insufficient_data_is_refused_with_its_findings(
    sqlite_workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    _patch(monkeypatch, days=200)
    result = runner.invoke(_app(), _args(sqlite_workspace))
    assert result.exit_code == 2
    assert "energy.sufficiency.low_coverage" in result.stderr


def test_meter_and_role_together_are_refused(sqlite_workspace: Workspace) -> None:
    result = runner.invoke(_app(), [*_args(sqlite_workspace), "--meter", "M1"])
    assert result.exit_code == 2
    assert "exactly one of --meter and --role" in result.stderr
