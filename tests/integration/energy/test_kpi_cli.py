"""``esgledger energy kpi`` and ``to-activities`` registered on a Typer group (as the lead's
``energy_app`` does): a workspace without meters has no sites, in both output formats."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from esgledger.cli._commands_energy_kpi import register

runner = CliRunner()


def app() -> typer.Typer:
    group = typer.Typer()
    register(group)
    return group


def test_kpi_without_meters(sqlite_workspace):
    root = str(sqlite_workspace.root)
    sqlite_workspace.close()
    result = runner.invoke(app(), ["kpi", root, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"sites": []}
    result = runner.invoke(app(), ["kpi", root, "--lang", "zh-CN"])
    assert result.exit_code == 0, result.output
    assert "没有带电表的站点" in result.stdout


def test_bad_period_is_an_error(sqlite_workspace):
    root = str(sqlite_workspace.root)
    sqlite_workspace.close()
    result = runner.invoke(app(), ["kpi", root, "--period", "2024-13"])
    assert result.exit_code == 1
    assert "error:" in result.output
