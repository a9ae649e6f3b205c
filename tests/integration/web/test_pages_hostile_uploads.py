"""The hostile-input corpus (``tests/hostile``) through the page face: every activity file the
CLI must refuse (exit 2) is refused by the data owner's upload form too — an HTML page with
status 422 (or 409/413), no traceback, the task and the workspace exactly as they were (no
new batch, no new lake file, the task's version unchanged)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

import hostile
from _web_support import DemoCopy, copy_demo, page_client
from esgledger.access import Principal
from esgledger.collection.service import get_task
from esgledger.store import Workspace
from esgledger.store.models import ImportBatch
from hostile._corpus import Case

#: The demo's Cloud water task, which its data owner may upload to.
TASK = 1


def _refused_activity_cases() -> list[Case]:
    cases: list[Case] = []
    for module in pkgutil.iter_modules(hostile.__path__):
        if module.name.startswith("cases_"):
            cases.extend(importlib.import_module(f"hostile.{module.name}").CASES)
    # the default import command on an activity file, in process (no memory-limited child)
    return [
        c
        for c in cases
        if c.kind == "activities"
        and c.command is None
        and c.expect == 2
        and not c.isolated
        and not c.env
    ]


CASES = _refused_activity_cases()


@pytest.fixture(scope="module")
def owner(
    web_demo: DemoCopy, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, Path]]:
    demo = copy_demo(web_demo, tmp_path_factory.mktemp("hostile-pages") / "demo")
    with page_client(demo, "cloud.owner") as client:
        yield client, demo.path


def _state(workspace: Path) -> tuple[int, int, frozenset[str]]:
    with Workspace.open(workspace) as ws:
        with ws.session() as session:
            batches = session.execute(sa.select(sa.func.count(ImportBatch.id))).scalar_one()
        version = int(get_task(ws, Principal.local(), TASK)["version"])
        lake = frozenset(str(p.relative_to(ws.lake)) for p in ws.lake.rglob("*") if p.is_file())
    return batches, version, lake


def test_the_corpus_has_refused_activity_cases() -> None:
    assert len(CASES) > 30  # the selection finds the corpus (a broken filter would find none)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_refused_file_is_refused_by_the_upload_form_and_changes_nothing(
    owner: tuple[TestClient, Path], case: Case, tmp_path: Path
) -> None:
    client, workspace = owner
    before = _state(workspace)
    path = case.build(tmp_path)
    with path.open("rb") as handle:
        answer = client.post(
            f"/tasks/{TASK}/upload",
            data={"csrf_token": client.csrf},  # type: ignore[attr-defined]
            files={"file": (path.name, handle, "application/octet-stream")},
        )
    assert answer.status_code in (409, 413, 422), answer.status_code
    assert answer.headers["content-type"].startswith("text/html")
    assert "Traceback" not in answer.text
    assert _state(workspace) == before
