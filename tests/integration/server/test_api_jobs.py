"""``/api/v1/jobs`` and ``/api/v1/imports``: submit (202 + Location), follow, list, cancel;
real sign-in, SQLite and PostgreSQL. Every wait is bounded."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from _inventory_support import entity, write_csv
from esgledger.access import Principal
from esgledger.access.users import add_user
from esgledger.server.run import build_app
from esgledger.server.settings import ServerSettings
from esgledger.store import Workspace

LIMIT = 15.0
PASSWORD = "a long enough test password 42"


def _client(ws: Workspace, **settings: Any) -> TestClient:
    app = build_app(ws.root, ServerSettings(**settings))
    return TestClient(app, base_url="https://testserver")


def _sign_in(client: TestClient, ws: Workspace, username: str, role: str) -> None:
    add_user(ws, Principal.local(), username, role=role, password=PASSWORD)
    client.cookies.clear()
    answer = client.post("/api/v1/session", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]


@pytest.fixture
def office(workspace: Workspace) -> Iterator[TestClient]:
    """The ESG office signed in, with a worker pool running (2 threads)."""
    with _client(workspace, workers=2) as client:
        _sign_in(client, workspace, "office", "esg_office")
        yield client


def _follow(client: TestClient, location: str) -> dict[str, Any]:
    deadline = time.monotonic() + LIMIT
    while True:
        job: dict[str, Any] = client.get(location).json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def test_anonymous_gets_401_and_a_problem_document(workspace: Workspace) -> None:
    with _client(workspace, workers=0) as client:
        for method, path in (("GET", "/api/v1/jobs"), ("POST", "/api/v1/jobs")):
            answer = client.request(method, path, json={"kind": "calculate"})
            assert answer.status_code == 401
            assert answer.headers["content-type"].startswith("application/problem+json")


def test_an_upload_is_imported_by_a_job_and_a_bad_one_fails_with_its_rows(
    office: TestClient, tmp_path: Path
) -> None:
    good = write_csv(tmp_path / "entities.csv", [entity("GRP", country="US")])
    answer = office.post(
        "/api/v1/imports",
        data={"kind": "entities"},
        files={"file": ("entities.csv", good.read_bytes(), "text/csv")},
    )
    assert answer.status_code == 202, answer.text
    assert answer.headers["location"] == f"/api/v1/jobs/{answer.json()['id']}"
    done = _follow(office, answer.headers["location"])
    assert done["status"] == "succeeded", done
    assert done["result"]["rows"] == 1

    bad = write_csv(tmp_path / "bad.csv", [entity("GRP", ownership_pct="lots")])
    answer = office.post(
        "/api/v1/imports",
        data={"kind": "entities"},
        files={"file": ("bad.csv", bad.read_bytes(), "text/csv")},
    )
    failed = _follow(office, answer.headers["location"])
    assert failed["status"] == "failed"
    assert failed["issues"][0]["column"] == "ownership_pct"
    assert "Traceback" not in str(failed)

    unknown = office.post(
        "/api/v1/imports",
        data={"kind": "spells"},
        files={"file": ("x.csv", b"a\n1\n", "text/csv")},
    )
    assert unknown.status_code == 422
    assert unknown.headers["content-type"].startswith("application/problem+json")


def test_a_calculation_job_is_refused_early_or_fails_in_one_line_and_is_listed(
    office: TestClient, workspace: Workspace, tmp_path: Path
) -> None:
    answer = office.post("/api/v1/jobs", json={"kind": "calculate", "params": {"gwp": 5}})
    assert answer.status_code == 422  # refused before it is queued
    answer = office.post("/api/v1/jobs", json={"kind": "calculate", "params": {}})
    assert answer.status_code == 202
    done = _follow(office, answer.headers["location"])
    assert done["status"] == "failed"  # no activity data yet: one line, no traceback
    assert "\n" not in done["error"]
    listed = office.get("/api/v1/jobs", params={"kind": "calculate"}).json()
    assert [j["id"] for j in listed] == [done["id"]]


def test_cancel_and_who_sees_what(workspace: Workspace) -> None:
    with _client(workspace, workers=0) as client:  # nothing runs: the job stays queued
        _sign_in(client, workspace, "office", "esg_office")
        refused = client.post("/api/v1/jobs", json={"kind": "report", "params": {}})
        assert refused.status_code == 422  # no run to report on yet
        assert refused.json()["issues"][0]["column"] == "run_id"
        job = client.post("/api/v1/jobs", json={"kind": "calculate", "params": {}}).json()
        _sign_in(client, workspace, "viewer", "viewer")
        assert client.get("/api/v1/jobs").json() == []
        assert client.get(f"/api/v1/jobs/{job['id']}").status_code == 404
        assert client.get(f"/api/v1/jobs/{2**70}").status_code == 422
        assert client.delete(f"/api/v1/jobs/{job['id']}").status_code == 403
        assert client.post("/api/v1/jobs", json={"kind": "calculate"}).status_code == 403
        _sign_in(client, workspace, "auditor", "auditor")
        assert [j["id"] for j in client.get("/api/v1/jobs").json()] == [job["id"]]
        _sign_in(client, workspace, "office2", "esg_office")
        cancelled = client.delete(f"/api/v1/jobs/{job['id']}")
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
        again = client.delete(f"/api/v1/jobs/{job['id']}")
        assert again.status_code == 409
        assert "already ended" in again.json()["detail"]
