"""One contract, every face: ``esgledger inventory WS --format json`` and
``GET /api/v1/inventory`` (an ESG office user of the whole group) give the same JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from _inventory_support import activity, entity, new_workspace, site
from esgledger.access import Principal, users
from esgledger.cli import app as cli
from esgledger.inventory import calculate, list_runs
from esgledger.server.app import create_app
from esgledger.store import Workspace

PASSWORD = "a-long-password-1"


@pytest.fixture(scope="module")
def ws_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small group with two entities and a site, calculated once."""
    root = tmp_path_factory.mktemp("parity") / "ws"
    ws = new_workspace(
        root,
        entities=[
            entity("GRP", country="CN"),
            entity("BU1", parent="GRP"),
            entity("JV", parent="GRP", ownership_pct=50, operational_control="false"),
        ],
        sites=[site("S1", "BU1", region="CN-GD")],
        activities=[
            activity("stationary.diesel", 10_000, "L", region="CN-GD", entity_code="BU1"),
            activity("electricity", 1_000, "MWh", site="S1", entity_code="BU1"),
            activity("electricity", 500, "MWh", region="CN-GD", entity_code="JV"),
            activity("travel.air.long_haul.economy", 10_000, "pkm", region="GB"),
        ],
    )
    try:
        calculate(ws)
        users.add_user(ws, Principal.local(), "office", role="esg_office", password=PASSWORD)
    finally:
        ws.close()
    return root


def _api_inventory(root: Path, query: str = "") -> object:
    with (
        Workspace.open(root) as ws,
        TestClient(create_app(ws), base_url="https://testserver") as client,
    ):
        signed = client.post("/api/v1/session", json={"username": "office", "password": PASSWORD})
        assert signed.status_code == 200, signed.text
        response = client.get(f"/api/v1/inventory{query}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def test_cli_json_and_api_give_the_same_inventory(ws_path: Path) -> None:
    result = CliRunner().invoke(cli, ["inventory", str(ws_path), "--format", "json"])
    assert result.exit_code == 0, result.output
    from_cli = json.loads(result.stdout)
    from_api = _api_inventory(ws_path)
    assert from_cli["totals"]["total"] > 0
    assert from_api == from_cli


def test_parity_holds_for_an_earlier_run(ws_path: Path) -> None:
    with Workspace.open(ws_path) as ws:
        run_id = list_runs(ws)[0]["id"]
        calculate(ws, gwp_set="AR5")  # the latest run is another one now
    result = CliRunner().invoke(
        cli, ["inventory", str(ws_path), "--format", "json", "--run", run_id]
    )
    assert result.exit_code == 0, result.output
    from_cli = json.loads(result.stdout)
    assert from_cli["run"]["run_id"] == run_id
    assert _api_inventory(ws_path, f"?run={run_id}") == from_cli
