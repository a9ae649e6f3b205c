"""Every write path records its audit event in its own transaction, and ``esgledger audit
verify|log`` read the chain (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from _inventory_support import activity, entity, import_rows, site, user_factor, write_csv
from esgledger import audit
from esgledger.access import Principal
from esgledger.batches import withdraw
from esgledger.cli import app
from esgledger.errors import InputError
from esgledger.ingest.importers import import_file
from esgledger.inventory import calculate
from esgledger.inventory.base_year import set_base_year
from esgledger.renewables.service import store_allocations
from esgledger.store import Workspace
from esgledger.store.models_platform import AuditEvent
from esgledger.targets.service import add_target

runner = CliRunner()
ALICE = Principal("alice", "esg_office", address="10.0.0.7")


def _cli(*args: object) -> Any:
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "250"})


def _fill(ws: Workspace) -> None:
    import_rows(ws, "entities", [entity("GRP")])
    import_rows(ws, "sites", [site("S1", region="CN-GD")])
    import_rows(ws, "factors", [user_factor("U-1", "stationary.diesel", "gal", 10.0)])
    import_rows(ws, "activities", [activity("stationary.diesel", 100, "gal", factor="U-1")])


def test_each_write_path_records_its_event(workspace: Workspace, tmp_path: Path) -> None:
    _fill(workspace)
    run = calculate(workspace, category_3=False, principal=ALICE)
    stored, created = add_target(
        workspace,
        {
            "id": "T1",
            "name": "Scope 1 down",
            "kind": "absolute",
            "scopes": "1",
            "base_year": 2024,
            "target_year": 2030,
            "reduction": 0.4,
        },
        reason="board decision",
        principal=ALICE,
    )
    assert created
    add_target(workspace, stored.target.model_dump(mode="json"), principal=ALICE)  # unchanged
    set_base_year(workspace, run.run_id, principal=ALICE)

    class NoAllocations:
        def records(self) -> list[dict[str, object]]:
            return []

    store_allocations(workspace, ALICE, 2024, NoAllocations(), run_id=run.run_id)  # type: ignore[arg-type]
    activities = [b for b in _batches(workspace) if b["action"] == "import.activities"]
    withdraw(workspace, ALICE, str(activities[0]["object_id"]), "test of the trail")

    events = audit.events(workspace)
    assert [e.action for e in events] == [
        "import.entities",
        "import.sites",
        "import.factors",
        "import.activities",
        "run.calculate",
        "target.add",  # once: the unchanged second add writes nothing
        "base_year.set",
        "green.allocate",
        "batch.withdraw",
    ]
    local = Principal.local().username
    assert {e.actor for e in events[:4]} == {local}  # importers called directly: local
    assert all(e.actor == "alice" and e.address == "10.0.0.7" for e in events[4:])
    calc = events[4]
    assert (calc.object_type, calc.object_id) == ("run", run.run_id)
    assert calc.detail is not None
    assert calc.detail["preview"] is False
    assert calc.detail["input_hash"] == run.manifest["input_hash"]
    entities_import = events[0]
    assert entities_import.object_type == "batch"
    assert entities_import.detail is not None
    assert entities_import.detail["rows"] == 1
    assert entities_import.after_digest is not None
    assert events[5].detail == {"revision": 1, "reason": "board decision"}
    assert events[-1].before_digest != events[-1].after_digest
    assert audit.verify(workspace).intact


def _batches(ws: Workspace) -> list[dict[str, Any]]:
    return [e.as_dict() for e in audit.events(ws, action="import.")]


def test_a_rejected_import_records_nothing(workspace: Workspace, tmp_path: Path) -> None:
    import_rows(workspace, "entities", [entity("GRP")])
    bad = tmp_path / "bad.csv"
    bad.write_text("entity,name\n,nameless\n", encoding="utf-8")
    with pytest.raises(InputError):
        import_file(workspace, "entities", bad)
    assert [e.action for e in audit.events(workspace)] == ["import.entities"]


def test_cli_import_acts_as_the_local_user(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    Workspace.init(root, year=2024).close()
    write_csv(tmp_path / "e.csv", [entity("GRP")])
    done = _cli("import", root, tmp_path / "e.csv", "--kind", "entities")
    assert done.exit_code == 0, done.output
    with Workspace.open(root) as ws:
        (event,) = audit.events(ws)
    assert event.actor == Principal.local().username
    assert event.role == "admin"
    assert event.action == "import.entities"


def test_audit_verify_and_log_on_the_cli(workspace: Workspace, tmp_path: Path) -> None:
    _fill(workspace)
    calculate(workspace, category_3=False, principal=ALICE)
    root = workspace.root

    ok = _cli("audit", "verify", root)
    assert ok.exit_code == 0, ok.output
    assert "intact: 5 event(s)" in ok.stdout

    as_json = json.loads(_cli("audit", "log", root, "--format", "json").stdout)
    assert [e["seq"] for e in as_json] == sorted(e["seq"] for e in as_json)
    assert len(as_json) == 5
    mine = json.loads(_cli("audit", "log", root, "--user", "alice", "--format", "json").stdout)
    assert [e["action"] for e in mine] == ["run.calculate"]
    run_id = mine[0]["object_id"]
    by_object = _cli("audit", "log", root, "--object", f"run:{run_id}", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(by_object.stdout)))
    assert [r["action"] for r in rows] == ["run.calculate"]
    assert rows[0]["actor"] == "alice"
    assert "import.activities" in _cli("audit", "log", root).stdout
    assert (
        json.loads(_cli("audit", "log", root, "--since", "2999-01-01", "--format", "json").stdout)
        == []
    )

    third = as_json[2]["seq"]
    with workspace.session() as session:
        session.execute(
            sa.update(AuditEvent).where(AuditEvent.seq == third).values(actor="mallory")
        )
    broken = _cli("audit", "verify", root)
    assert broken.exit_code == 1
    assert f"seq {third}" in broken.stderr
    assert "changed" in broken.stderr
