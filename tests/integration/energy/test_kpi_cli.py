"""``esgledger energy kpi`` and ``to-activities`` registered on a Typer group (as the lead's
``energy_app`` does): a workspace without meters has no sites, in both output formats."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from _energy_kpi import MWH, worked_example
from _inventory_support import activity, import_rows
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


def test_kpi_json_of_the_worked_example(sqlite_workspace, tmp_path):
    root = str(worked_example(sqlite_workspace).root)
    sqlite_workspace.close()
    chart = tmp_path / "waterfall.svg"
    result = runner.invoke(
        app(), ["kpi", root, "--period", "2024", "--format", "json", "--chart", str(chart)]
    )
    assert result.exit_code == 0, result.output
    [site] = json.loads(result.stdout)["sites"]
    for key in ("pue", "pue_category", "dcie", "ppue", "clf", "plf", "olf", "wue_l_per_kwh",
                "cue_kg_per_kwh", "ref", "erf", "ere", "e_it_kwh", "e_dc_kwh", "quality",
                "provenance", "packs"):  # fmt: skip
        assert key in site
    assert site["pue"] == pytest.approx(1.34)
    assert site["pue_category"] == "PUE_L2,YM"
    assert site["packs"]["gb_40879_2021"]["grade"] == 3  # 1.30 < 1.34 ≤ 1.50
    assert site["packs"]["etsi_dcem"]["kpi_dcem"] == "L,B"
    assert chart.read_bytes().startswith(b"<?xml")
    result = runner.invoke(app(), ["kpi", root, "--period", "2024", "--lang", "zh-CN"])
    assert result.exit_code == 0, result.output
    assert "PUE_L2,YM" in result.stdout
    assert "测量类别" in result.stdout


def test_to_activities_compares_and_imports_uninvoiced_months(sqlite_workspace, tmp_path):
    ws = worked_example(sqlite_workspace)
    import_rows(ws, "activities", [
        activity("electricity", 1_000_000, "kWh", site="DC1", period_start="2024-01-01",
                 period_end="2024-01-31", record_id="INV-2024-01"),
    ])  # fmt: skip
    root = str(ws.root)
    ws.close()
    out = tmp_path / "metered.csv"
    result = runner.invoke(
        app(), ["to-activities", root, "--year", "2024", "--out", str(out), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["rows"]) == 12
    january = data["comparison"][0]
    assert january["month"] == "2024-01"
    assert january["metered_kwh"] == pytest.approx(12_900_000 / 12)
    assert january["invoiced_kwh"] == pytest.approx(1_000_000)
    assert january["difference_kwh"] == pytest.approx(12_900_000 / 12 - 1_000_000)
    assert data["comparison"][1]["invoiced_kwh"] is None
    assert data["importable"] == 11
    assert out.read_text(encoding="utf-8").startswith("record_id,entity,site,period_start")
    result = runner.invoke(app(), ["to-activities", root, "--year", "2024", "--import"])
    assert result.exit_code == 0, result.output
    assert "imported 11 rows" in result.stdout
    assert "1 site-month(s) already invoiced" in result.output


#: Sub-meters of the worked example below a meter of their own role: a hall incomer, a PDU
#: output and a chiller. Counted once, the example's figures must not move.
SUB_METERS = {
    "INC-HALL": ("incomer", "INC", "kWh", 9_000 * MWH),
    "PDU-A": ("pdu_output", "PDU", "kWh", 6_000 * MWH),
    "CH-1": ("cooling", "CH", "kWh", 1_500 * MWH),
}


def test_sub_meters_of_a_role_are_not_counted_twice(sqlite_workspace, tmp_path):
    root = str(worked_example(sqlite_workspace, SUB_METERS).root)
    sqlite_workspace.close()
    result = runner.invoke(app(), ["kpi", root, "--period", "2024", "--format", "json"])
    assert result.exit_code == 0, result.output
    [site] = json.loads(result.stdout)["sites"]
    assert site["pue"] == pytest.approx(1.34)
    assert site["e_it_kwh"] == pytest.approx(10_000 * MWH)
    assert site["ppue"]["cooling"] == pytest.approx(1.25)
    result = runner.invoke(
        app(), ["to-activities", root, "--year", "2024", "--out", str(tmp_path / "m.csv"),
                "--format", "json"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    assert sum(r["quantity"] for r in rows) == pytest.approx(12_900 * MWH)
    assert all("INC-HALL" not in r["notes"] for r in rows)
