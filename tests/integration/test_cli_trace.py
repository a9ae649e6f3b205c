"""``esgledger diff`` and ``esgledger base-year``: the CLI of traceability and the base year."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from _inventory_support import activity, entity, new_workspace
from esgledger.cli import app
from esgledger.inventory import calculate
from esgledger.inventory.base_year import base_year_history
from esgledger.store import Workspace

runner = CliRunner()


@pytest.fixture
def runs(tmp_path: Path) -> tuple[Path, str, str]:
    """A workspace with two runs of the same data: AR5 then AR6."""
    root = tmp_path / "ws"
    ws = new_workspace(
        root,
        entities=[entity("GRP", country="US"), entity("SUB", parent="GRP", country="US")],
        activities=[
            activity("stationary.diesel", 1000, "gal", region="US", record_id="D-1"),
            activity("stationary.diesel", 1000, "gal", region="US", entity_code="SUB"),
        ],
    )
    first = calculate(ws, gwp_set="AR5", category_3=False)
    second = calculate(ws, gwp_set="AR6", category_3=False)
    ws.close()
    return root, first.run_id, second.run_id


def test_diff_as_json_names_the_option_and_the_cause(runs: tuple[Path, str, str]) -> None:
    root, first, second = runs
    result = runner.invoke(app, ["diff", str(root), first, second, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["unit"] == "t CO2e"
    assert data["options"] == {"gwp_set": {"a": "AR5", "b": "AR6"}}
    # 2 x 1,000 gal diesel: 2 x (0.41 kg CH4 x -0.1 + 0.08 kg N2O x 8) = 1.198 kg (EPA Hub
    # 2025 Table 1 masses; AR5 -> AR6 GWP-100).
    assert data["by_cause"] == {"gwp_set": pytest.approx(1.198e-3, rel=1e-9)}
    assert data["lines"] == {"matched": 2, "added": 0, "removed": 0, "changed": 2}


def test_diff_as_tables(runs: tuple[Path, str, str]) -> None:
    root, first, second = runs
    result = runner.invoke(app, ["diff", str(root), first, second])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"diff {first} → {second}"
    assert "option gwp_set" in result.stdout
    assert "another GWP set GWP取值变更" in result.stdout
    assert result.stdout.rstrip().endswith("lines: 2 matched (2 changed), 0 added, 0 removed")


def test_diff_of_an_unknown_run_fails(runs: tuple[Path, str, str]) -> None:
    root, first, _ = runs
    result = runner.invoke(app, ["diff", str(root), first, "r-nope"])
    assert result.exit_code == 1
    assert result.stderr == f"error: workspace {root} has no run 'r-nope'\n"


def test_base_year_set_show_and_recalculate(runs: tuple[Path, str, str], tmp_path: Path) -> None:
    root, first, _ = runs
    shown = runner.invoke(app, ["base-year", "show", str(root)])
    assert shown.exit_code == 1
    assert "has no base year; designate a run with" in shown.stderr

    result = runner.invoke(app, ["base-year", "set", str(root), "--run", first, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["base_year"] == 2024
    assert data["run_id"] == first
    assert data["threshold"] == 0.05
    # EPA Hub 2025 Table 1: 1,000 US gal diesel = 10.24268 t CO2e under AR5, per entity.
    assert data["totals"]["by_entity"] == pytest.approx({"GRP": 10.24268, "SUB": 10.24268})

    changes = tmp_path / "changes.csv"
    changes.write_text(
        "kind,entity,base_year_t_co2e,effective_date,note\n"
        "divestment,SUB,,2025-07-01,sold\n"
        "organic,GRP,,,growth\n",
        encoding="utf-8",
    )
    dry = runner.invoke(
        app, ["base-year", "recalculate", str(root), "--changes", str(changes), "--dry-run"]
    )
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.rstrip().endswith("dry run: nothing stored")
    assert "已重新计算" in dry.stdout
    with_ws = runner.invoke(
        app,
        ["base-year", "recalculate", str(root), "--changes", str(changes), "--format", "json"],
    )
    assert with_ws.exit_code == 0, with_ws.output
    outcome = json.loads(with_ws.stdout)
    assert outcome["triggered"]
    assert outcome["stored"]
    assert outcome["recalculated_total_t_co2e"] == pytest.approx(10.24268)
    assert [a["applied"] for a in outcome["assessments"]] == [True, False]

    shown = runner.invoke(app, ["base-year", "show", str(root), "--history"])
    assert shown.exit_code == 0, shown.output
    assert "recalculated 已重新计算" in shown.stdout
    assert "entity GRP" in shown.stdout
    assert "entity SUB" not in shown.stdout
    with Workspace.open(root) as ws:
        assert [e["kind"] for e in base_year_history(ws)] == ["set", "recalculated"]


def test_a_bad_changes_file_is_rejected_with_exit_2(
    runs: tuple[Path, str, str], tmp_path: Path
) -> None:
    root, first, _ = runs
    assert runner.invoke(app, ["base-year", "set", str(root), "--run", first]).exit_code == 0
    changes = tmp_path / "changes.csv"
    changes.write_text("kind,unit,base_year_t_co2e\nmerger?,X,1\n", encoding="utf-8")
    result = runner.invoke(app, ["base-year", "recalculate", str(root), "--changes", str(changes)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: changes.csv was rejected: 1 issue(s) found")
    assert "row 2, column 'kind': unknown change kind" in result.stderr
