"""`esgledger demo` leaves a campaign in progress (issue 12, "Done when"): the Cloud data owner
finds its tasks, one submitted; the Cloud reviewer can start its review."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from esgledger.demo.run import DEMO_STEPS, build_demo
from esgledger.server.app import create_app
from esgledger.store import Workspace

STEPS = [s for s in DEMO_STEPS if s[0].startswith(("adding demo accounts", "a data-collection"))]


def test_the_demo_campaign_is_in_progress(tmp_path: Path) -> None:
    assert len(STEPS) == 2
    summary = build_demo(tmp_path / "demo", progress=False, steps=STEPS)
    passwords = {a.username: a.password for a in summary.accounts}
    with (
        Workspace.open(tmp_path / "demo") as ws,
        TestClient(create_app(ws), base_url="https://testserver") as client,
    ):

        def sign_in(user: str) -> None:
            client.cookies.clear()
            answer = client.post(
                "/api/v1/session", json={"username": user, "password": passwords[user]}
            )
            assert answer.status_code == 200, answer.text
            client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]

        sign_in("cloud.owner")
        tasks = client.get("/api/v1/tasks").json()
        assert sorted((t["target"], t["status"]) for t in tasks) == [
            ("DC-SH", "submitted"),
            ("DC-TJ", "open"),
        ]
        assert all(t["owner"] == "cloud.owner" for t in tasks)
        sign_in("cloud.reviewer")
        submitted = next(t for t in tasks if t["status"] == "submitted")
        answer = client.post(f"/api/v1/tasks/{submitted['id']}/start-review")
        assert answer.status_code == 200, answer.text
        sign_in("esg.office")
        progress = client.get(f"/api/v1/campaigns/{summary.extras['campaign']}/progress").json()
        assert progress["tasks"] == 4
        assert progress["by_status"]["in_review"] == 1
