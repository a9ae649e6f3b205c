"""A worker process killed (``kill -9``) in the middle of a job loses nothing and leaves no
half state: the next pool requeues the job and runs it to success, or fails it for good
after its last attempt; ``esgledger doctor`` then has nothing to repair. SQLite and
PostgreSQL.

The victim is a real ``esgledger jobs work`` process that stops at a test hook
(``ESGLEDGER_TEST_PAUSE_AT``, :func:`esgledger.ingest.batches.pause_at`): a calculation
after its run id is reserved (temporary run folder written, nothing registered), an import
after its lake file is renamed and before its row commits. Every wait is bounded.
"""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from _inventory_support import activity, entity, import_rows, write_csv
from _processes import Cli
from esgledger.access import Principal
from esgledger.access.users import add_user, create_token
from esgledger.audit import verify
from esgledger.ingest.batches import PAUSE_ENV
from esgledger.inventory import list_runs
from esgledger.jobs import service
from esgledger.jobs.worker import WorkerPool
from esgledger.server.run import build_app
from esgledger.server.settings import ServerSettings
from esgledger.store import Workspace
from esgledger.store.doctor import examine

pytestmark = pytest.mark.slow  # real processes: seconds each

#: Seconds any one wait may take (a bound, not a measurement).
LIMIT = 15.0
ADMIN = Principal.local()


class Victim(Cli):
    """``esgledger jobs work WS`` (or another command) in its own process, paused at
    ``point``."""

    def __init__(
        self,
        root: Path,
        point: str,
        command: tuple[str, ...] = (),
        *,
        pause_seconds: float = LIMIT * 4,
    ) -> None:
        super().__init__(
            command or ("jobs", "work", str(root), "--workers", "1"),
            limit=LIMIT,
            capture_stdout=False,
            **{PAUSE_ENV: f"{point}:{pause_seconds}"},
        )


@pytest.fixture
def victims() -> Iterator[list[Victim]]:
    started: list[Victim] = []
    yield started
    for victim in started:
        victim.kill()


def _wait_end(ws: Workspace, job_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + LIMIT
    while True:
        job = dict(service.get(ws, ADMIN, job_id))
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def _no_half_state(ws: Workspace) -> None:
    assert examine(ws) == []  # doctor: nothing to repair
    runs = ws.lake / "runs"
    names = sorted(p.name for p in runs.iterdir()) if runs.is_dir() else []
    assert names == sorted(r["id"] for r in list_runs(ws))  # no run without files, nor files
    assert verify(ws).intact


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    import_rows(workspace, "entities", [entity("GRP", country="US")])
    import_rows(
        workspace,
        "activities",
        [activity("electricity", 100, "MWh", region="US", record_id="E-1")],
    )
    return workspace


def _killed_mid_job(ws: Workspace, victims: list[Victim], point: str, job_id: int) -> None:
    victim = Victim(ws.root, point)
    victims.append(victim)
    victim.wait_paused()
    running = service.get(ws, ADMIN, job_id)
    assert running["status"] == "running"
    victim.kill()


@pytest.mark.parametrize("max_attempts", [3, 1])
def test_a_calculation_whose_worker_is_killed_is_retried_or_failed_never_half_done(
    ws: Workspace, victims: list[Victim], max_attempts: int
) -> None:
    job = service.submit(ws, ADMIN, "calculate", {"category_3": False})
    _killed_mid_job(ws, victims, "run-id", job["id"])
    assert any(p.name.startswith(".tmp-") for p in (ws.lake / "runs").iterdir())
    assert list_runs(ws) == []

    pool = WorkerPool(ws, 1, poll_interval=0.05, max_attempts=max_attempts)
    pool.start()
    try:
        assert [r["id"] for r in pool.recovered] == [job["id"]]
        done = _wait_end(ws, job["id"])
    finally:
        pool.stop(5)
    if max_attempts > 1:
        assert (done["status"], done["attempts"]) == ("succeeded", 2)
        assert [r["id"] for r in list_runs(ws)] == [done["result"]["run_id"]]
    else:
        assert (done["status"], done["attempts"]) == ("failed", 1)
        assert "stopped 1 time(s)" in done["error"]
        assert list_runs(ws) == []
    _no_half_state(ws)


def test_an_import_whose_worker_is_killed_before_its_commit_is_imported_once_on_retry(
    ws: Workspace, victims: list[Victim], tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "more.csv",
        [activity("electricity", 7, "MWh", region="US", record_id="E-2")],
    )
    job = service.submit_file(ws, ADMIN, "activities", path)
    _killed_mid_job(ws, victims, "placed", job["id"])

    pool = WorkerPool(ws, 1, poll_interval=0.05)
    pool.start()
    try:
        done = _wait_end(ws, job["id"])
    finally:
        pool.stop(5)
    assert (done["status"], done["attempts"], done["result"]["created"]) == ("succeeded", 2, True)
    _no_half_state(ws)
    lake = sorted(p.name for p in (ws.lake / "activities").iterdir())
    assert len(lake) == 2  # the first batch and this one: no orphan from the killed worker


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_a_server_killed_during_a_calculation_job_loses_nothing(
    ws: Workspace, victims: list[Victim]
) -> None:
    """The issue's "done when": ``esgledger serve`` is killed while its worker pool runs a
    calculation submitted over the API; the next server start runs the job to success."""
    user = add_user(ws, ADMIN, "office", role="esg_office", password="a long test password 42")
    office = Principal(username="office", role="esg_office", user_id=user["id"])
    bearer = {"Authorization": f"Bearer {create_token(ws, office, 'crash test').token}"}
    port = _free_port()
    server = Victim(
        ws.root, "run-id", ("serve", str(ws.root), "--port", str(port), "--workers", "1")
    )
    victims.append(server)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 3 * LIMIT  # a server's start on a loaded machine
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "".join(server.err)
        time.sleep(0.1)
    answer = httpx.post(
        f"{base}/api/v1/jobs",
        json={"kind": "calculate", "params": {"category_3": False}},
        headers=bearer,
        timeout=LIMIT,
    )
    assert answer.status_code == 202, answer.text
    location = answer.headers["location"]
    server.wait_paused()
    running = httpx.get(f"{base}{location}", headers=bearer, timeout=LIMIT).json()
    assert (running["status"], running["stage"]) == ("running", "reading")
    server.kill()

    with TestClient(build_app(ws.root, ServerSettings(workers=1))) as client:
        deadline = time.monotonic() + LIMIT
        while True:
            job = client.get(location, headers=bearer).json()
            if job["status"] not in ("queued", "running"):
                break
            assert time.monotonic() < deadline, job
            time.sleep(0.05)
    assert (job["status"], job["attempts"]) == ("succeeded", 2), job
    assert [r["id"] for r in list_runs(ws)] == [job["result"]["run_id"]]
    _no_half_state(ws)


def test_sigterm_stops_a_worker_gracefully_and_its_job_waits_in_the_queue(
    ws: Workspace, victims: list[Victim]
) -> None:
    """SIGTERM: the pool stops claiming, gives the running calculation half of
    ``--stop-timeout``, then has it release at its next stage: back to the queue, not counted
    as an attempt, nothing left behind; the next pool runs it."""
    job = service.submit(ws, ADMIN, "calculate", {"category_3": False})
    worker = Victim(
        ws.root,
        "run-id",
        ("jobs", "work", str(ws.root), "--workers", "1", "--stop-timeout", "6"),
        pause_seconds=4.5,  # past the 3 s of grace, so the job must release, not finish
    )
    victims.append(worker)
    worker.wait_paused()
    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(LIMIT) == 0, "".join(worker.err)
    back = service.get(ws, ADMIN, job["id"])
    assert (back["status"], back["stage"], back["attempts"]) == ("queued", "released", 0)
    _no_half_state(ws)

    pool = WorkerPool(ws, 1, poll_interval=0.05)
    pool.start()
    try:
        done = _wait_end(ws, job["id"])
    finally:
        pool.stop(5)
    assert (done["status"], done["attempts"]) == ("succeeded", 1)
    _no_half_state(ws)
