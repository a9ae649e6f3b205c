"""Jobs on SQLite and PostgreSQL: submit, claim (two pools racing), progress, cancellation,
failures without tracebacks, shutdown and recovery of jobs a stopped worker left running.

Every wait is bounded (:data:`LIMIT`); no test measures time.
"""

from __future__ import annotations

import collections
import io
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from _inventory_support import activity, entity, import_rows, write_csv
from esgledger.access import Principal
from esgledger.audit import events, verify
from esgledger.errors import AccessDeniedError, ConflictError, InputError, NotFoundError
from esgledger.ingest.batches import PAUSE_ENV, RELEASE_ENV
from esgledger.inventory import list_runs
from esgledger.jobs import handlers, service
from esgledger.jobs.handlers import JobContext
from esgledger.jobs.worker import WorkerPool, recover_stale
from esgledger.store import Workspace
from esgledger.store.doctor import examine
from esgledger.store.models_jobs import Job

#: Seconds any wait may take (a bound, not a measurement).
LIMIT = 15.0
ADMIN = Principal.local()
OFFICE = Principal(username="office", role="esg_office")
OWNER = Principal(username="owner", role="data_owner", scope_entity="GRP")


def _pool(ws: Workspace, n: int = 1, **options: Any) -> WorkerPool:
    settings: dict[str, Any] = {"poll_interval": 0.05, "heartbeat_interval": 0.2}
    settings.update(options)
    return WorkerPool(ws, n, **settings)


@pytest.fixture
def pools() -> Iterator[list[WorkerPool]]:
    """Pools a test starts; stopped afterwards whatever happens."""
    started: list[WorkerPool] = []
    yield started
    for pool in started:
        pool.stop(5)


def _wait(
    ws: Workspace, job_id: int, done: Callable[[dict[str, Any]], bool], limit: float = LIMIT
) -> dict[str, Any]:
    deadline = time.monotonic() + limit
    while True:
        job = dict(service.get(ws, ADMIN, job_id))
        if done(job):
            return job
        assert time.monotonic() < deadline, f"job {job_id} never got there: {job}"
        time.sleep(0.05)


def _ended(job: dict[str, Any]) -> bool:
    return job["status"] in ("succeeded", "failed", "cancelled")


@pytest.fixture
def calc_ws(workspace: Workspace) -> Workspace:
    """A workspace with one entity and one month of US electricity: enough to calculate."""
    import_rows(workspace, "entities", [entity("GRP", country="US")])
    import_rows(
        workspace,
        "activities",
        [
            activity(
                "electricity",
                100,
                "MWh",
                region="US",
                record_id="E-1",
                period_start="2024-01-01",
                period_end="2024-01-31",
            )
        ],
    )
    return workspace


# -- the service ------------------------------------------------------------------------------


def test_a_submitted_job_is_queued_visible_to_its_submitter_and_audited(
    workspace: Workspace,
) -> None:
    job = service.submit(workspace, OFFICE, "calculate", {"gwp": "AR5"})
    assert (job["status"], job["percent"], job["attempts"]) == ("queued", 0, 0)
    assert job["status_label"] == {"en": "queued", "zh-CN": "排队中"}
    assert service.get(workspace, OFFICE, job["id"])["params"] == {"gwp": "AR5"}
    assert [j["id"] for j in service.list_jobs(workspace, ADMIN)] == [job["id"]]
    other = Principal(username="someone", role="viewer")
    assert service.list_jobs(workspace, other) == []
    with pytest.raises(NotFoundError):
        service.get(workspace, other, job["id"])
    (event,) = [e for e in events(workspace) if e.action == "job.submit"]
    assert (event.actor, event.object_id) == ("office", str(job["id"]))


def test_submit_refuses_bad_parameters_and_roles_before_queueing(workspace: Workspace) -> None:
    with pytest.raises(InputError) as bad:
        service.submit(workspace, ADMIN, "calculate", {"gwp": 5})
    assert bad.value.issues[0].column == "gwp"
    with pytest.raises(InputError):
        service.submit(workspace, ADMIN, "calculate", {"colour": "red"})
    for name, value in (("gwp", "AR9"), ("consolidation", "vibes"), ("proxy", ["CN"])):
        with pytest.raises(InputError) as refused:
            service.submit(workspace, ADMIN, "calculate", {name: value})
        assert refused.value.issues[0].column == name
    with pytest.raises(NotFoundError):
        service.get(workspace, ADMIN, 2**70)
    with pytest.raises(InputError, match="no inventory run yet"):
        service.submit(workspace, ADMIN, "report", {})
    with pytest.raises(InputError, match="expected a list of"):
        service.submit(workspace, ADMIN, "report", {"langs": ["fr"]})
    with pytest.raises(InputError):
        service.submit(workspace, ADMIN, "sing", {})
    with pytest.raises(InputError):  # an import must name an uploaded file of the workspace
        service.submit(workspace, ADMIN, "import", {"kind": "entities", "file": "/etc/passwd"})
    with pytest.raises(AccessDeniedError):
        service.submit(workspace, OWNER, "calculate", {})
    assert service.list_jobs(workspace, ADMIN) == []


def test_cancelling_a_queued_job_ends_it_at_once_and_twice_is_a_conflict(
    workspace: Workspace,
) -> None:
    job = service.submit(workspace, OFFICE, "calculate", {})
    with pytest.raises(AccessDeniedError):  # data owners cancel no jobs (roles.csv)
        service.cancel(workspace, OWNER, job["id"])
    cancelled = service.cancel(workspace, OFFICE, job["id"])
    assert (cancelled["status"], cancelled["cancel_requested"]) == ("cancelled", True)
    with pytest.raises(ConflictError):
        service.cancel(workspace, OFFICE, job["id"])
    assert [e.action for e in events(workspace)] == ["job.submit", "job.cancel"]
    assert verify(workspace).intact


# -- claiming ---------------------------------------------------------------------------------


def test_two_pools_racing_run_every_job_exactly_once(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, pools: list[WorkerPool]
) -> None:
    runs: collections.Counter[int] = collections.Counter()
    lock = threading.Lock()

    def counted(ws: Workspace, job: JobContext) -> dict[str, Any]:
        with lock:
            runs[job.job_id] += 1
        job.progress("summary", 50)
        return {"ran": job.job_id}

    monkeypatch.setitem(handlers.HANDLERS, "calculate", counted)
    ids = [service.submit(workspace, ADMIN, "calculate", {})["id"] for _ in range(16)]
    pools += [_pool(workspace, 2), _pool(workspace, 2)]
    for pool in pools:
        pool.start()
    finished = [_wait(workspace, i, _ended) for i in ids]
    assert {j["status"] for j in finished} == {"succeeded"}
    assert runs == collections.Counter(dict.fromkeys(ids, 1))
    assert all(j["attempts"] == 1 and j["percent"] == 100 for j in finished)
    assert all(j["result"] == {"ran": j["id"]} for j in finished)
    finishes = [e for e in events(workspace) if e.action == "job.finish"]
    assert sorted(int(str(e.object_id)) for e in finishes) == sorted(ids)


# -- a real calculation: progress, cancellation -----------------------------------------------


def _paused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Calculations wait at ``run-id`` (after ``reading``) until the returned file exists."""
    release = tmp_path / "release"
    monkeypatch.setenv(PAUSE_ENV, f"run-id:{LIMIT}")
    monkeypatch.setenv(RELEASE_ENV, str(release))
    return release


def test_a_calculation_reports_its_stages_while_it_runs(
    calc_ws: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pools: list[WorkerPool]
) -> None:
    release = _paused(monkeypatch, tmp_path)
    job = service.submit(calc_ws, ADMIN, "calculate", {"category_3": False})
    pools.append(_pool(calc_ws))
    pools[0].start()
    running = _wait(calc_ws, job["id"], lambda j: j["stage"] == "reading")
    assert (running["status"], running["percent"], running["attempts"]) == ("running", 5, 1)
    assert running["stage_label"] == {"en": "reading", "zh-CN": "读取数据"}
    assert running["heartbeat_at"] is not None
    assert list_runs(calc_ws) == []
    release.touch()
    done = _wait(calc_ws, job["id"], _ended)
    assert (done["status"], done["stage"], done["percent"]) == ("succeeded", "done", 100)
    assert [r["id"] for r in list_runs(calc_ws)] == [done["result"]["run_id"]]
    assert done["result"]["totals"]["totals"]["scope2_location"] > 0


def test_a_cancelled_calculation_stops_at_its_next_stage_and_registers_nothing(
    calc_ws: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pools: list[WorkerPool]
) -> None:
    release = _paused(monkeypatch, tmp_path)
    job = service.submit(calc_ws, ADMIN, "calculate", {"category_3": False})
    pools.append(_pool(calc_ws))
    pools[0].start()
    _wait(calc_ws, job["id"], lambda j: j["stage"] == "reading")
    asked = service.cancel(calc_ws, ADMIN, job["id"])
    assert (asked["status"], asked["cancel_requested"]) == ("running", True)
    release.touch()
    done = _wait(calc_ws, job["id"], _ended)
    assert (done["status"], done["stage"], done["result"]) == ("cancelled", "cancelled", None)
    assert list_runs(calc_ws) == []
    assert not any((calc_ws.lake / "runs").iterdir())  # the temporary folder is gone too
    assert examine(calc_ws) == []
    assert [e.action for e in events(calc_ws)][-2:] == ["job.cancel", "job.finish"]


# -- failures ---------------------------------------------------------------------------------


def test_a_failed_job_keeps_one_line_and_no_traceback(
    workspace: Workspace, pools: list[WorkerPool]
) -> None:
    job = service.submit(workspace, ADMIN, "calculate", {})  # no activity data at all
    pools.append(_pool(workspace))
    pools[0].start()
    done = _wait(workspace, job["id"], _ended)
    assert done["status"] == "failed"
    assert done["error"]
    assert "\n" not in done["error"]
    assert "Traceback" not in done["error"]
    assert 'File "' not in done["error"]
    assert done["result"] is None


def test_a_bug_in_a_handler_is_a_one_line_failure(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, pools: list[WorkerPool]
) -> None:
    def broken(ws: Workspace, job: JobContext) -> dict[str, Any]:
        raise KeyError("secret\nTraceback (most recent call last):")

    monkeypatch.setitem(handlers.HANDLERS, "calculate", broken)
    job = service.submit(workspace, ADMIN, "calculate", {})
    pools.append(_pool(workspace))
    pools[0].start()
    done = _wait(workspace, job["id"], _ended)
    assert done["status"] == "failed"
    assert done["error"].startswith("unexpected KeyError")
    assert "\n" not in done["error"]
    assert "Traceback" not in done["error"]


def test_an_import_job_imports_once_and_a_rejected_file_lists_its_issues(
    workspace: Workspace, tmp_path: Path, pools: list[WorkerPool]
) -> None:
    good = write_csv(tmp_path / "entities.csv", [entity("GRP", country="US")])
    bad = write_csv(tmp_path / "bad.csv", [entity("GRP", country="US", ownership_pct="lots")])
    pools.append(_pool(workspace))
    pools[0].start()
    first = service.submit_file(workspace, ADMIN, "entities", good)
    assert first["params"]["file"].startswith("uploads/")
    done = _wait(workspace, first["id"], _ended)
    assert done["status"] == "succeeded", done
    assert (done["result"]["created"], done["result"]["rows"]) == (True, 1)
    again = _wait(workspace, service.submit_file(workspace, ADMIN, "entities", good)["id"], _ended)
    assert again["result"]["created"] is False
    assert again["result"]["batch_id"] == done["result"]["batch_id"]
    rejected = _wait(
        workspace, service.submit_file(workspace, ADMIN, "entities", bad)["id"], _ended
    )
    assert rejected["status"] == "failed"
    assert "\n" not in rejected["error"]
    issue = rejected["issues"][0]
    assert set(issue) == {"file", "row", "column", "value", "problem", "fix"}
    assert (issue["file"], issue["row"], issue["column"]) == ("bad.csv", 2, "ownership_pct")


def test_an_upload_over_the_limit_or_of_another_type_is_refused(workspace: Workspace) -> None:
    with pytest.raises(InputError, match="upload limit"):
        service.submit_import(
            workspace, ADMIN, "entities", "big.csv", io.BytesIO(b"x" * 2000), max_bytes=1000
        )
    with pytest.raises(InputError, match="unsupported file type"):
        service.submit_import(workspace, ADMIN, "entities", "run.exe", io.BytesIO(b"MZ"))
    with pytest.raises(AccessDeniedError):
        service.submit_import(workspace, OWNER, "entities", "a.csv", io.BytesIO(b"a"))
    stored = service.store_upload(workspace, ADMIN, "../../evil/na\x00me.csv", io.BytesIO(b"a,b"))
    assert stored.startswith("uploads/")
    assert stored.endswith(".csv")
    assert ".." not in stored
    assert not list((workspace.root / "uploads").glob("*.tmp"))


# -- shutdown and recovery --------------------------------------------------------------------


def test_stopping_a_pool_releases_a_running_job_back_to_the_queue(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = threading.Event()

    def endless(ws: Workspace, job: JobContext) -> dict[str, Any]:
        started.set()
        while True:
            job.progress("summary", 50)
            time.sleep(0.05)

    monkeypatch.setitem(handlers.HANDLERS, "calculate", endless)
    job = service.submit(workspace, ADMIN, "calculate", {})
    pool = _pool(workspace)
    pool.start()
    assert started.wait(LIMIT)
    assert pool.stop(timeout=2)
    back = service.get(workspace, ADMIN, job["id"])
    assert (back["status"], back["attempts"], back["stage"]) == ("queued", 0, "released")


def _orphan(ws: Workspace, job_id: int, *, attempts: int, worker: str, age: float) -> None:
    """Make ``job_id`` look claimed by ``worker`` ``age`` seconds ago, never heard of since."""
    then = datetime.now(UTC) - timedelta(seconds=age)
    with ws.session() as session:
        session.execute(
            sa.update(Job)
            .where(Job.id == job_id)
            .values(
                status="running",
                worker_id=worker,
                attempts=attempts,
                started_at=then,
                heartbeat_at=then,
            )
        )


def test_recovery_requeues_orphans_with_attempts_left_and_fails_the_others(
    workspace: Workspace,
) -> None:
    import socket

    dead = f"{socket.gethostname()}/999999999/dead-1"  # no such process
    far = "elsewhere/123/abc-1"  # another machine: judged by its heartbeat
    ids = [service.submit(workspace, ADMIN, "calculate", {})["id"] for _ in range(4)]
    _orphan(workspace, ids[0], attempts=1, worker=dead, age=0)
    _orphan(workspace, ids[1], attempts=3, worker=dead, age=0)
    _orphan(workspace, ids[2], attempts=1, worker=far, age=5)  # recent heartbeat: alive
    _orphan(workspace, ids[3], attempts=1, worker=far, age=500)
    done = recover_stale(workspace, stale_after=60, max_attempts=3)
    assert {d["id"]: d["status"] for d in done} == {
        ids[0]: "queued",
        ids[1]: "failed",
        ids[3]: "queued",
    }
    failed = service.get(workspace, ADMIN, ids[1])
    assert "stopped 3 time(s)" in failed["error"]
    assert "\n" not in failed["error"]
    assert service.get(workspace, ADMIN, ids[2])["status"] == "running"
    assert service.get(workspace, ADMIN, ids[0])["stage"] == "requeued"
    assert verify(workspace).intact


def test_a_report_job_writes_the_report_of_the_latest_run(
    calc_ws: Workspace, pools: list[WorkerPool]
) -> None:
    pools.append(_pool(calc_ws))
    pools[0].start()
    calc = _wait(calc_ws, service.submit(calc_ws, ADMIN, "calculate", {})["id"], _ended)
    assert calc["status"] == "succeeded", calc
    params = {"langs": ["en"], "formats": ["html"]}
    job = service.submit(calc_ws, ADMIN, "report", params)
    report = _wait(calc_ws, job["id"], _ended, limit=3 * LIMIT)  # loads the report stack
    assert report["status"] == "succeeded", report
    assert report["result"]["run_id"] == calc["result"]["run_id"]
    files = report["result"]["files"]
    assert "reports/2024/esg-report-2024.en.html" in files
    assert all((calc_ws.root / f).is_file() for f in files)
