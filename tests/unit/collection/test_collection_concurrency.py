"""Concurrent submissions on PostgreSQL: 20 to different tasks, started together, all land
(a process checks ``ESGLEDGER_SUBMIT_SLOTS`` at a time, the others queue); 2 to the same task
— both checked before either commits — land once, the other refused with a clear message and
no batch or lake file left behind."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from _collection_support import CLOUD_OWNER, ESG, _site, build_org, row, spec, write_csv
from esgledger.collection import service
from esgledger.errors import ConflictError
from esgledger.ingest import batches
from esgledger.store import Workspace
from esgledger.store.models import ImportBatch
from esgledger.store.repository import register_batch, save_sites

pytestmark = pytest.mark.postgres
SITES = [f"S{n:02d}" for n in range(1, 21)]


@pytest.fixture
def ws(db_backend: Any, tmp_path: Path) -> Iterator[Workspace]:
    if db_backend.name != "postgres":
        pytest.skip("concurrency is tested on PostgreSQL")
    workspace = build_org(db_backend.init_workspace(tmp_path / "ws"))
    with workspace.session() as session:
        batch = register_batch(
            session, kind="sites", file_name="s.csv", content_hash="1" * 64, row_count=20
        )
        save_sites(session, [_site(code, "CLOUD", "CN-TJ") for code in SITES], batch)
    yield workspace
    workspace.close()


def _race(
    monkeypatch: pytest.MonkeyPatch, jobs: list[Callable[[], Any]], *, checked: bool
) -> list[Any]:
    """Run ``jobs`` in threads started together; with ``checked``, each finishes its checks
    before any of them commits."""
    start = threading.Barrier(len(jobs), timeout=120)
    if checked:
        barrier = threading.Barrier(len(jobs), timeout=120)
        real = batches.pause_at

        def pause(point: str) -> None:
            if point == "validated":
                barrier.wait()
            real(point)

        monkeypatch.setattr(batches, "pause_at", pause)
    results: list[Any] = [None] * len(jobs)

    def run(index: int) -> None:
        try:
            start.wait()
            results[index] = jobs[index]()
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results


def _submitter(ws: Workspace, task_id: int, path: Path) -> Callable[[], Any]:
    return lambda: service.submit(ws, CLOUD_OWNER, task_id, path)


def test_twenty_submissions_to_different_tasks_all_land(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign = service.create_campaign(ws, ESG, spec(entities=(), sites=tuple(SITES)))
    ids = {t["target"]: t["id"] for t in campaign["tasks"]}
    jobs = [
        _submitter(ws, ids[site], write_csv(tmp_path / f"{site}.csv",
                                            [row("CLOUD", site, record_id=f"{site}-1")]))
        for site in SITES
    ]  # fmt: skip
    results = _race(monkeypatch, jobs, checked=False)
    assert [r["status"] if isinstance(r, dict) else repr(r) for r in results] == (
        ["submitted"] * 20
    )
    with ws.session() as session:
        tasks = [b.task_id for b in session.scalars(sa.select(ImportBatch).where(
            ImportBatch.kind == "activities"))]  # fmt: skip
    assert sorted(tasks) == sorted(ids.values())


def test_two_submissions_to_one_task_land_once(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign = service.create_campaign(ws, ESG, spec(entities=("CLOUD",)))
    task = campaign["tasks"][0]["id"]
    first = write_csv(tmp_path / "a.csv", [row()])
    second = write_csv(tmp_path / "b.csv", [row(), row(month=2)])
    results = _race(
        monkeypatch, [_submitter(ws, task, first), _submitter(ws, task, second)], checked=True
    )
    landed = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, ConflictError)]
    assert len(landed) == 1, results
    assert len(refused) == 1, results
    assert "changed while" in str(refused[0])
    assert "nothing was imported" in str(refused[0])
    with ws.session() as session:
        found = list(
            session.scalars(sa.select(ImportBatch).where(ImportBatch.kind == "activities"))
        )
    assert [(b.id, b.status, b.task_id) for b in found] == [
        (landed[0]["batch_id"], "submitted", task)
    ]
    assert [p.name for p in (ws.lake / "activities").iterdir()] == [f"{found[0].id}.parquet"]
    assert service.get_task(ws, ESG, task)["version"] == 2
