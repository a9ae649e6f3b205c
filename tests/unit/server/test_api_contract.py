"""The API's contract: the committed OpenAPI snapshot and the operation ids.

``docs/api/openapi.json`` must equal the live ``/openapi.json`` of ``create_app``; an API
change that nobody reviewed fails here. After a deliberate change run
``python tools/update_openapi.py`` and review the diff of the snapshot.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from esgledger.server.api.health import Readiness
from esgledger.server.app import create_app
from esgledger.server.openapi import OPERATION_ID_PATTERN, SNAPSHOT_PATH, render
from esgledger.store import Workspace

ROOT = Path(__file__).resolve().parents[3]
HINT = "run `python tools/update_openapi.py` and review the change"


@pytest.fixture
def app(sqlite_workspace: Workspace) -> FastAPI:
    return create_app(sqlite_workspace)


@pytest.fixture
def live(app: FastAPI) -> dict[str, object]:
    with TestClient(app, base_url="https://testserver") as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, object] = response.json()
    return document


def test_the_document_is_openapi_3_1(live: dict[str, object]) -> None:
    assert str(live["openapi"]).startswith("3.1.")


def test_the_committed_snapshot_matches_the_live_document(live: dict[str, object]) -> None:
    committed = (ROOT / SNAPSHOT_PATH).read_text(encoding="utf-8")
    current = render(live)
    if committed != current:
        diff = list(
            difflib.unified_diff(
                committed.splitlines(),
                current.splitlines(),
                f"{SNAPSHOT_PATH} (committed)",
                "/openapi.json (live)",
                lineterm="",
                n=2,
            )
        )
        shown = "\n".join(diff[:80]) + (f"\n... {len(diff) - 80} more lines" * (len(diff) > 80))
        pytest.fail(f"the API changed: {HINT}\n{shown}", pytrace=False)


def test_the_snapshot_is_stable_text() -> None:
    text = (ROOT / SNAPSHOT_PATH).read_text(encoding="utf-8")
    assert text == render(json.loads(text))


def _routes(app: FastAPI) -> list[APIRoute]:
    return [r for r in app.routes if isinstance(r, APIRoute) and r.include_in_schema]


def test_every_route_names_its_operation_id(app: FastAPI) -> None:
    unnamed = [f"{sorted(r.methods)} {r.path}" for r in _routes(app) if not r.operation_id]
    assert unnamed == [], "give these routes operation_id='<tag>-<name>'"


def test_operation_ids_are_tag_dash_name_and_unique(live: dict[str, object]) -> None:
    paths = live["paths"]
    assert isinstance(paths, dict)
    operations = [
        (f"{method.upper()} {path}", op)
        for path, item in paths.items()
        for method, op in item.items()
    ]
    assert operations
    ids = [op.get("operationId", "") for _, op in operations]
    bad = [
        where
        for (where, op), oid in zip(operations, ids, strict=True)
        if not re.fullmatch(OPERATION_ID_PATTERN, oid) or oid.split("-")[0] not in op["tags"]
    ]
    assert bad == [], f"operation ids must match {OPERATION_ID_PATTERN} and start with a tag"
    assert [i for i, n in Counter(ids).items() if n > 1] == []


def test_problem_responses_are_documented_as_problem_json(live: dict[str, object]) -> None:
    paths = live["paths"]
    assert isinstance(paths, dict)
    wrong = [
        f"{method.upper()} {path} {status}"
        for path, item in paths.items()
        for method, op in item.items()
        for status, response in op["responses"].items()
        if int(status) >= 400
        and "content" in response
        and (
            "Problem" in str(response["content"].get("application/json", {}))
            or "HTTPValidationError" in str(response["content"])
            or response["content"].get("application/problem+json", {"schema": 1}) == {}
        )
    ]
    assert wrong == []
    assert "HTTPValidationError" not in json.dumps(live)


def test_not_ready_is_a_documented_503(sqlite_workspace: Workspace) -> None:
    with sqlite_workspace.engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '0001_initial'"))
    with TestClient(create_app(sqlite_workspace), base_url="https://testserver") as client:
        response = client.get("/readyz")
        documented = client.get("/openapi.json").json()["paths"]["/readyz"]["get"]
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    assert "application/json" in documented["responses"]["503"]["content"]
    report = Readiness.model_validate(response.json())
    assert not report.ready
    assert report.revision == "0001_initial"
