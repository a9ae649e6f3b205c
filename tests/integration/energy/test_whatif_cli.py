"""``energy whatif|proposals|adopt`` through the CLI, on a real workspace.

The site's metered year comes from the energy core (rollups) and the demo helper (weather),
which land on main separately; until then ``site_baseline`` and ``site_period`` are replaced
by the §1.1 synthetic year (``tests/_energy_whatif.py``) and a 2024 period. Everything else —
the library grid factors, the ranking, the adoption into the stored measures — is real.
"""

from __future__ import annotations

import json
from datetime import date
from types import SimpleNamespace

import pytest
import typer
from typer.testing import CliRunner

from _energy_whatif import baseline
from _inventory_support import entity, import_rows, site
from _zh_english import english_words
from esgledger.cli._commands_energy_whatif import register
from esgledger.energy import proposals
from esgledger.store import Workspace
from esgledger.targets import service

runner = CliRunner()
energy = typer.Typer()
register(energy)


@pytest.fixture
def dc_workspace(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    import_rows(workspace, "entities", [entity("GRP")])
    import_rows(workspace, "sites", [site("DC1", type="data_centre", region="CN-GD")])
    monkeypatch.setattr(proposals, "site_baseline", lambda ws, s, period=None: baseline())
    monkeypatch.setattr(
        proposals, "site_period", lambda ws, period: SimpleNamespace(end=date(2024, 12, 31))
    )
    return workspace


def test_whatif_json_puts_baseline_and_scenario_side_by_side(dc_workspace: Workspace) -> None:
    args = ["whatif", str(dc_workspace.root), "--site", "DC1", "--lever", "free_cooling"]
    result = runner.invoke(
        energy, [*args, "--param", "chws_c=18", "--price-per-kwh", "0.8", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["lever"] == "free_cooling"
    assert data["params"]["chws_c"] == 18.0
    # The synthetic wet bulb is 10 °C ≤ 12.5 °C: every hour is full free cooling.
    assert data["scenario"]["free_cooling_full_h"] == 8760
    assert data["factors"]["location"]["factor_id"] == "cn-mee:location:CN-GD:2023"
    assert data["baseline"]["pue"] == pytest.approx(1.34)
    assert data["scenario"]["pue"] < data["baseline"]["pue"]


def test_whatif_table_in_chinese_and_a_bad_setpoint_exits_2(dc_workspace: Workspace) -> None:
    args = ["whatif", str(dc_workspace.root), "--site", "DC1", "--price-per-kwh", "0.8"]
    shown = runner.invoke(energy, [*args, "--lever", "ups_eco", "--lang", "zh-CN"])
    assert shown.exit_code == 0, shown.output
    assert "UPS 经济运行模式" in shown.stdout
    assert "基于市场" in shown.stdout
    refused = runner.invoke(energy, [*args, "--lever", "setpoint", "--param", "supply_air_to_c=29"])
    assert refused.exit_code == 2
    assert "ASHRAE" in refused.output


def test_proposals_then_adopt_into_the_stored_measures(dc_workspace: Workspace) -> None:
    root = str(dc_workspace.root)
    listed = runner.invoke(
        energy,
        ["proposals", root, "--site", "DC1", "--price-per-kwh", "0.8", "--double-conversion",
         "--format", "json"],
    )  # fmt: skip
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.stdout)
    ids = [p["id"] for p in data["proposals"]]
    assert "energy.DC1.ups_eco" not in ids
    assert [r["lever"] for r in data["refused"]] == ["ups_eco"]
    saved = [p["saved_t_co2e_market"] for p in data["proposals"]]
    assert saved == sorted(saved, reverse=True)
    top = ids[0]
    adopted = runner.invoke(
        energy, ["adopt", root, top, "--start-year", "2026", "--price-per-kwh", "0.8"]
    )
    assert adopted.exit_code == 0, adopted.output
    assert f"{top}: added" in adopted.stdout
    assert [m.id for m in service.stored_measures(dc_workspace)] == [top]
    again = runner.invoke(
        energy, ["adopt", root, top, "--start-year", "2026", "--price-per-kwh", "0.8"]
    )
    assert f"{top}: unchanged" in again.stdout


def test_chinese_tables_read_as_chinese(dc_workspace: Workspace) -> None:
    root = str(dc_workspace.root)
    price = ["--price-per-kwh", "0.8", "--lang", "zh-CN"]
    shown = runner.invoke(
        energy, ["whatif", root, "--site", "DC1", "--lever", "free_cooling", *price]
    )
    listed = runner.invoke(
        energy, ["proposals", root, "--site", "DC1", "--double-conversion", *price]
    )
    assert shown.exit_code == 0, shown.output
    assert listed.exit_code == 0, listed.output
    # The factor's source is the title of a Chinese announcement as the library cites it.
    source = "MEE and NBS of China, Announcement 2025 No. 47, Table 3 (provincial averages 2023)"
    for text in (shown.stdout, listed.stdout):
        assert english_words(text, allowed_phrases=[source]) == []
