"""``esgledger targets add|list|check|progress``, ``esgledger plan`` and ``esgledger offsets
list|claim`` end to end on a small group (published 2021-2023 and a 2024 run; the figures
are those of ``tests/unit/targets/test_service.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from _inventory_support import activity, entity, import_rows, user_factor
from esgledger.cli import app
from esgledger.inventory.engine import calculate
from esgledger.store import Workspace

runner = CliRunner()

HISTORY = (
    "year,scope,t_co2e,source\n"
    "2021,1,40,r21\n2021,2_location,610,r21\n2021,2_market,600,r21\n2021,3,0,r21\n"
    "2022,1,36,r22\n2022,2_location,570,r22\n2022,2_market,560,r22\n2022,3,0,r22\n"
)
MEASURES = (
    "id,name,name_zh,lever,cost_per_t,currency,reduction_t_co2e_per_yr,start_year,acts_on\n"
    "EFF,Efficiency,能效,efficiency,-10,CNY,100,2025,scope=2\n"
    "FUEL,Electric generators,发电机电气化,electrification,50,CNY,20,2026,scope=1\n"
)
CREDITS = (
    "id,registry,project,project_type,kind,permanence,standard,vintage,volume_t_co2e\n"
    "W,Verra,Wind,wind,avoidance,,VCS,2022,1000\n"
    "B,Puro Registry,Biochar,biochar,removal,permanent,Puro,2024,10\n"
)
RETIREMENTS = (
    "credit,volume_t_co2e,retired_on,claim_year,beneficiary,purpose,reference\n"
    "W,600,2025-03-01,2024,Group,neutrality,R1\n"
)


def _invoke(*args: object) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "250"})
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def ws(sqlite_workspace: Workspace, tmp_path: Path) -> Path:
    """A workspace with published 2021-2022, a 2024 run, measures, credits, a retirement."""
    w = sqlite_workspace
    import_rows(w, "entities", [entity()])
    factors = [
        user_factor("t-el", "electricity", "kWh", 0.5),
        user_factor("t-dsl", "stationary.diesel", "t", 3000.0),
    ]
    import_rows(w, "factors", factors)
    lines = [
        activity("electricity", 1_000_000, "kWh", factor="t-el"),
        activity("stationary.diesel", 10, "t", factor="t-dsl"),
    ]
    import_rows(w, "activities", lines)
    calculate(w)
    for kind, text in (
        ("emissions-history", HISTORY),
        ("measures", MEASURES),
        ("credits", CREDITS),
        ("retirements", RETIREMENTS),
    ):
        path = tmp_path / f"{kind}.csv"
        path.write_text(text, encoding="utf-8")
        code, _, err = _invoke("import", w.root, path, "--kind", kind)
        assert code == 0, err
    return w.root


def _add(root: Path, *extra: object) -> tuple[int, str, str]:
    return _invoke(
        "targets", "add", root, "--id", "S12", "--scopes", "1+2", "--base-year", 2021,
        "--target-year", 2030, "--submission-year", 2023, "--ambition", "1.5C", *extra,
    )  # fmt: skip


def test_targets_add_stores_revisions_and_rejects_bad_input(ws: Path) -> None:
    assert _add(ws, "--reduction", 0.5)[:2] == (0, "Stored target S12 as revision 1.\n")
    code, out, _ = _add(ws, "--reduction", 0.5)
    assert (code, out) == (0, "Target S12 is unchanged (revision 1); nothing was stored.\n")
    code, out, _ = _add(ws, "--reduction", 0.6, "--reason", "raised", "--format", "json")
    data = json.loads(out)
    assert (code, data["revision"], data["created"], data["reason"]) == (0, 2, True, "raised")
    code, _, err = _add(ws, "--reduction", 60)
    assert code == 2
    assert err.startswith("error: target S12 was rejected: 1 issue(s) found")
    assert "write a percentage as a fraction" in err
    code, out, _ = _invoke("targets", "list", ws, "--history", "--format", "json")
    assert [(t["revision"], t["definition"]["reduction"]) for t in json.loads(out)] == [
        (1, 0.5),
        (2, 0.6),
    ]
    code, out, _ = _invoke("targets", "list", ws)
    assert code == 0
    assert "S12" in out
    assert "-60 %" in out


def test_targets_check_reports_a_failing_rule_and_still_exits_0(ws: Path) -> None:
    _add(ws, "--reduction", 0.2)  # 2.2 %/yr over 2021-2030: below the 4.2 %/yr of 1.5 °C
    code, out, _ = _invoke("targets", "check", ws)
    assert code == 0
    assert "ambition" in out
    assert "FAIL" in out
    assert "1 rule(s) fail: ambition." in out
    assert "Basis: base year 2021: published: r21" in out
    code, out, _ = _invoke("targets", "check", ws, "--format", "json")
    checks = {c["rule"]: c for c in json.loads(out)["checks"]}
    assert checks["ambition"]["status"] == "fail"
    assert checks["base_year"]["passed"] is True


def test_targets_progress_shows_actual_pathway_and_verdict(ws: Path) -> None:
    _add(ws, "--reduction", 0.5)
    code, out, _ = _invoke("targets", "progress", ws)
    assert code == 0
    assert "base 2021: 640 t CO2e (published: r21)" in out
    assert "OFF TRACK" in out or "ON TRACK" in out
    code, out, _ = _invoke("targets", "progress", ws, "--lang", "zh-CN")
    assert "基准年 2021：640 吨二氧化碳当量" in out
    code, out, _ = _invoke("targets", "progress", ws, "--format", "json")
    (target,) = json.loads(out)["targets"]
    assert [y["year"] for y in target["progress"]["years"]] == [2021, 2022, 2024]
    assert target["progress"]["unit"] == "t CO2e"


def test_plan_prints_the_scenario_and_macc_and_writes_the_charts(ws: Path, tmp_path: Path) -> None:
    _add(ws, "--reduction", 0.5)
    charts = tmp_path / "charts"
    code, out, err = _invoke("plan", ws, "--chart-dir", charts)
    assert code == 0, err
    assert "Scenario, t CO2e — S12 (1+2)" in out
    assert "Marginal abatement cost curve" in out
    # BAU: 30 t scope 1 + market-based scope 2 (S12 counts market-based); 2030: − 100 t (EFF)
    # − 20 t (FUEL, two of its three ramp years) against 640 × 0.5 = 320 t.
    _, inventory, _ = _invoke("inventory", ws, "--format", "json")
    market = json.loads(inventory)["totals"]["scope2_market"]
    gap = 30 + market - 100 - 20 - 320
    assert f"Residual gap in 2030: {gap:,.0f} t CO2e still to close for S12" in out
    assert sorted(p.name for p in charts.iterdir()) == [
        "macc.png",
        "macc.svg",
        "scenario.png",
        "scenario.svg",
    ]
    assert (charts / "macc.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    code, out, _ = _invoke("plan", ws, "--format", "json")
    data = json.loads(out)
    assert data["residual_gap"]["gap_t_co2e"] == pytest.approx(gap)
    assert [m["id"] for m in data["macc"]] == ["EFF", "FUEL"]
    code, _, err = _invoke("plan", ws, "--target", "NOPE")
    assert code == 2
    assert "no target 'NOPE' in the workspace" in err


def test_offsets_list_and_claim(ws: Path) -> None:
    _add(ws, "--reduction", 0.5)
    code, out, _ = _invoke("offsets", "list", ws)
    assert code == 0
    assert "Credit register, t CO2e" in out
    assert "R1" in out
    code, out, _ = _invoke("offsets", "list", ws, "--format", "json")
    available = {c["id"]: c["available_t_co2e"] for c in json.loads(out)["credits"]}
    assert available == {"B": 10.0, "W": 400.0}
    code, out, _ = _invoke("offsets", "claim", ws, "--year", 2024, "--claim", "carbon_neutral")
    assert code == 0
    assert "carbon neutral claim for 2024 (operations)" in out
    assert "avoidance credits" in out
    code, out, _ = _invoke(
        "offsets", "claim", ws, "--year", 2024, "--claim", "net_zero", "--format", "json"
    )
    data = json.loads(out)
    assert data["passed"] is False
    assert data["base_year"] == 2021
    assert any(r["code"] == "net_zero_boundary" and not r["passed"] for r in data["reasons"])
    code, _, err = _invoke("offsets", "claim", ws, "--year", 2030, "--claim", "net_zero")
    assert code == 2
    assert "no inventory for the claim year 2030" in err
