"""``/api/v1/batches`` (list, show, withdraw, supersede) and ``/api/v1/audit`` (list, CSV,
verify) with real sign-in, roles and scope; SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from _inventory_support import activity, entity, import_rows, site, write_csv
from esgledger.access import Principal
from esgledger.access.users import add_user
from esgledger.ingest.importers import import_file
from esgledger.server.run import build_app
from esgledger.server.settings import ServerSettings
from esgledger.store import Workspace
from esgledger.store.models_platform import AuditEvent

PASSWORD = "a long enough test password 42"


@pytest.fixture
def filled(workspace: Workspace, tmp_path: Path) -> tuple[Workspace, dict[str, str]]:
    import_rows(
        workspace,
        "entities",
        [entity("GRP"), entity("BU-A", parent="GRP"), entity("BU-B", parent="GRP")],
    )
    import_rows(workspace, "sites", [site("SA", "BU-A"), site("SB", "BU-B")])
    ids = {}
    for unit, code in (("BU-A", "SA"), ("BU-B", "SB")):
        path = write_csv(
            tmp_path / f"{unit}.csv",
            [activity("electricity", 100, "kWh", entity_code=unit, site=code, region="CN-GD")],
        )
        ids[unit] = import_file(workspace, "activities", path).batch_id
    return workspace, ids


def _client(ws: Workspace) -> TestClient:
    return TestClient(build_app(ws.root, ServerSettings(workers=0)), base_url="https://testserver")


def _sign_in(
    client: TestClient, ws: Workspace, username: str, role: str, scope: str | None = None
) -> None:
    add_user(ws, Principal.local(), username, role=role, scope=scope, password=PASSWORD)
    client.cookies.clear()
    answer = client.post("/api/v1/session", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]


def test_anonymous_gets_401_and_a_problem_document(workspace: Workspace) -> None:
    with _client(workspace) as client:
        for method, path in (
            ("GET", "/api/v1/batches"),
            ("GET", "/api/v1/batches/b-000000000000"),
            ("POST", "/api/v1/batches/b-000000000000/withdraw"),
            ("GET", "/api/v1/audit"),
            ("GET", "/api/v1/audit.csv"),
            ("GET", "/api/v1/audit/verify"),
        ):
            answer = client.request(method, path)
            assert answer.status_code == 401, path
            assert answer.headers["content-type"].startswith("application/problem+json")


def test_office_withdraws_and_supersedes(
    filled: tuple[Workspace, dict[str, str]], tmp_path: Path
) -> None:
    ws, ids = filled
    with _client(ws) as client:
        _sign_in(client, ws, "office", "esg_office")
        listed = client.get("/api/v1/batches", params={"kind": "activities"})
        assert listed.status_code == 200, listed.text
        assert [b["id"] for b in listed.json()] == [ids["BU-A"], ids["BU-B"]]

        empty = client.post(f"/api/v1/batches/{ids['BU-A']}/withdraw", json={"reason": ""})
        assert empty.status_code == 422
        done = client.post(
            f"/api/v1/batches/{ids['BU-A']}/withdraw", json={"reason": "meter was wrong"}
        )
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "withdrawn"
        assert done.json()["status_changed_by"] == "office"
        again = client.post(f"/api/v1/batches/{ids['BU-A']}/withdraw", json={"reason": "x"})
        assert again.status_code == 409
        assert again.headers["content-type"].startswith("application/problem+json")

        fixed = write_csv(
            tmp_path / "fixed.csv",
            [activity("electricity", 120, "kWh", entity_code="BU-B", site="SB", region="CN-GD")],
        )
        answer = client.post(
            f"/api/v1/batches/{ids['BU-B']}/supersede",
            data={"reason": "supplier corrected the bill"},
            files={"file": ("fixed.csv", fixed.read_bytes(), "text/csv")},
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["old"]["status"] == "superseded"
        assert body["old"]["superseded_by"] == body["new"]["id"]
        assert body["new"]["supersedes"] == [ids["BU-B"]]
        shown = client.get(f"/api/v1/batches/{ids['BU-B']}").json()
        assert shown["status_reason"] == "supplier corrected the bill"
        assert shown["lake_file_present"] is True
        bad = write_csv(tmp_path / "bad.csv", [activity("electricity", "lots", "kWh")])
        rejected = client.post(
            f"/api/v1/batches/{body['new']['id']}/supersede",
            data={"reason": "again"},
            files={"file": ("bad.csv", bad.read_bytes(), "text/csv")},
        )
        assert rejected.status_code == 422
        assert rejected.json()["issues"]
        assert client.get("/api/v1/audit").status_code == 403  # audit: auditor and admin


def test_scope_and_roles(filled: tuple[Workspace, dict[str, str]]) -> None:
    ws, ids = filled
    with _client(ws) as client:
        _sign_in(client, ws, "owner-a", "data_owner", scope="BU-A")
        listed = client.get("/api/v1/batches").json()
        assert [b["id"] for b in listed] == [ids["BU-A"]]  # not BU-B's, not reference data
        assert client.get(f"/api/v1/batches/{ids['BU-B']}").status_code == 404
        refused = client.post(f"/api/v1/batches/{ids['BU-A']}/withdraw", json={"reason": "x"})
        assert refused.status_code == 403

        _sign_in(client, ws, "rev-b", "reviewer", scope="BU-B")
        outside = client.post(f"/api/v1/batches/{ids['BU-A']}/withdraw", json={"reason": "x"})
        assert outside.status_code == 404
        inside = client.post(f"/api/v1/batches/{ids['BU-B']}/withdraw", json={"reason": "dup"})
        assert inside.status_code == 200, inside.text

        _sign_in(client, ws, "aud", "auditor")
        every = {b["id"]: b["status"] for b in client.get("/api/v1/batches").json()}
        assert len(every) == 4  # entities, sites and both activity batches
        assert every[ids["BU-B"]] == "withdrawn"  # listed still: nothing is deleted
        denied = client.post(f"/api/v1/batches/{ids['BU-A']}/withdraw", json={"reason": "x"})
        assert denied.status_code == 403


def test_auditor_reads_exports_and_verifies_the_trail(
    filled: tuple[Workspace, dict[str, str]],
) -> None:
    ws, ids = filled
    with _client(ws) as client:
        _sign_in(client, ws, "aud", "auditor")
        events = client.get("/api/v1/audit", params={"action": "import."})
        assert events.status_code == 200, events.text
        assert [e["action"] for e in events.json()] == [
            "import.entities",
            "import.sites",
            "import.activities",
            "import.activities",
        ]
        one = client.get("/api/v1/audit", params={"object": f"batch:{ids['BU-B']}"}).json()
        assert [e["object_id"] for e in one] == [ids["BU-B"]]
        page = client.get("/api/v1/audit", params={"after_seq": one[0]["seq"], "limit": 1}).json()
        assert len(page) == 1
        assert page[0]["seq"] > one[0]["seq"]

        exported = client.get("/api/v1/audit.csv", params={"action": "import."})
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert [r["action"] for r in rows][:2] == ["import.entities", "import.sites"]
        assert all(len(r["hash"]) == 64 for r in rows)

        intact = client.get("/api/v1/audit/verify").json()
        assert intact["intact"] is True
        assert intact["broken_seq"] is None
        second = events.json()[1]["seq"]
        with ws.session() as session:
            session.execute(
                sa.update(AuditEvent).where(AuditEvent.seq == second).values(object_id="x")
            )
        broken = client.get("/api/v1/audit/verify").json()
        assert broken["intact"] is False
        assert broken["broken_seq"] == second
