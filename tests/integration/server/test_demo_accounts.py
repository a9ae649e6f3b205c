"""`esgledger demo` adds one account per role (issue 12, "Done when"): each signs in to the API
with the password the demo printed once, and nothing but its Argon2id hash is stored."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient

from esgledger.access.policy import ROLES
from esgledger.demo.run import DEMO_STEPS, build_demo
from esgledger.server.app import create_app
from esgledger.store import Workspace
from esgledger.store.models_platform import User

ACCOUNTS = [step for step in DEMO_STEPS if step[0].startswith("adding demo accounts")]
assert len(ACCOUNTS) == 1


def test_every_demo_account_signs_in_with_its_printed_password(tmp_path: Path) -> None:
    summary = build_demo(tmp_path / "demo", progress=False, steps=ACCOUNTS)
    assert sorted(a.role for a in summary.accounts) == sorted(ROLES)
    # ... and a campaign in progress: the Cloud task submitted with its review flags, the
    # other business units' tasks open
    assert summary.campaign is not None
    by_entity = {t["entity"]: t for t in summary.campaign["tasks"]}
    assert by_entity["CLOUD"]["status"] == "submitted"
    assert {by_entity[e]["status"] for e in ("GAME", "SOC")} == {"open"}
    with Workspace.open(tmp_path / "demo") as ws:
        with ws.session() as session:
            hashes = session.execute(sa.select(User.password_hash)).scalars().all()
        assert all(h is not None and h.startswith("$argon2id$") for h in hashes)
        assert not any(a.password in h for a in summary.accounts for h in hashes if h)
        with TestClient(create_app(ws), base_url="https://testserver") as client:
            for account in summary.accounts:
                client.cookies.clear()
                answer = client.post(
                    "/api/v1/session",
                    json={"username": account.username, "password": account.password},
                )
                assert answer.status_code == 200, answer.text
                assert answer.json()["role"] == account.role
                assert answer.json()["scope"] == account.scope
