"""The worker pool: threads that claim queued jobs, run their handlers, heart-beat, report
progress, honour cancellation and survive restarts.

作业工作池：认领排队作业、运行、心跳、报告进度、响应取消，并在重启后恢复。

Threads, not processes: the long steps spend their time in DuckDB, Arrow and file I/O, which
release the GIL, so requests keep being served while a job runs; a thread shares the
workspace's engine and connection pool and can be asked to stop between stages. A process
pool would isolate a crash better, but a crash is already survivable (below), and processes
would each open the database, duplicate the domain's caches and need their own signal
handling. ``esgledger jobs work WS`` runs a pool in a process of its own when a deployment
wants the work apart from the server.

Claiming: :func:`esgledger.store.repository_jobs.claim_next` in one transaction —
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the workspace's write lock on SQLite — so a job is
run by one worker at a time, however many pools poll.

Restart safety: :func:`recover_stale` (run when a pool starts and every
``recover_every`` seconds) finds jobs left ``running`` by a worker that is gone (same
machine, process ended) or silent (no heartbeat for ``stale_after`` seconds), requeues each
while it has attempts left and fails it with a clear message otherwise, then lets
:func:`esgledger.store.doctor.examine` remove what the dead worker left half-written. A
retry is safe because every handler is all-or-nothing: an import commits its batch in one
transaction and the same bytes again are a no-op; a calculation registers its run only at
the end (its temporary folder, owned by a dead process, is debris ``doctor`` removes); a
report overwrites its files.

Shutdown: :meth:`WorkerPool.stop` stops claiming, lets running jobs finish for half the
timeout, then asks them to release (back to ``queued``, not counted as an attempt) at their
next stage boundary.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from esgledger.access import Principal
from esgledger.audit import digest, record
from esgledger.errors import EsgledgerError, InputError, shown_lines
from esgledger.jobs.handlers import HANDLERS, JobContext
from esgledger.safe_output import mask_credentials
from esgledger.store import Workspace
from esgledger.store.doctor import examine
from esgledger.store.models_jobs import Job
from esgledger.store.repository_jobs import (
    aware,
    claim_next,
    finish_job,
    queued_exists,
    release_job,
    running_jobs,
    set_progress,
    touch_jobs,
)

__all__ = [
    "HEARTBEAT_INTERVAL",
    "MAX_ATTEMPTS",
    "STALE_AFTER",
    "JobStopped",
    "WorkerPool",
    "error_line",
    "recover_stale",
]

logger = logging.getLogger("esgledger.jobs")

#: Seconds between heartbeats of a running job.
HEARTBEAT_INTERVAL = 2.0
#: Seconds without a heartbeat after which a running job's worker is taken for dead.
STALE_AFTER = 60.0
#: Starts a job gets before a worker dying under it fails it for good.
MAX_ATTEMPTS = 3
#: Who the audit trail names for what the pool itself decides (requeue, fail).
SYSTEM = Principal(username="system:jobs", role="admin")


class JobStopped(Exception):  # noqa: N818 - a signal, not an error
    """Raised by a job's progress callback to stop its handler at a stage boundary:
    ``reason`` is ``cancelled`` (someone cancelled the job), ``released`` (the pool is
    shutting down) or ``lost`` (the job is no longer this worker's)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _now() -> datetime:
    return datetime.now(UTC)


def error_line(exc: BaseException) -> str:
    """One line for people from a handler's failure; never a traceback."""
    if isinstance(exc, InputError):
        text = exc.summary
    elif isinstance(exc, EsgledgerError):
        text = str(exc)
    elif isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror + (f": {exc.filename}" if exc.filename else "")
    else:  # a bug: its text may hold internals (paths, SQL); the log has it, not the job
        return (
            f"unexpected {type(exc).__name__} (a bug in esgledger; the server log has the "
            "details) / 意外错误，详情见服务器日志"
        )
    first = next((line for line in text.strip().splitlines() if line.strip()), "")
    return shown_lines(mask_credentials(first.strip()))


def _principal(job: Job) -> Principal:
    who: dict[str, Any] = dict(job.submitter or {})
    return Principal(
        username=job.submitted_by,
        role=str(who.get("role") or "viewer"),
        scope_entity=who.get("scope_entity"),
        user_id=who.get("user_id"),
        address=who.get("address"),
    )


def _host() -> str:
    return socket.gethostname()[:100]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists under another user, or no signals here
        return True
    return True


def _worker_gone(worker_id: str | None) -> bool:
    """Whether the worker named ``host/pid/...`` is known dead: on this machine, its process
    has ended. (Another machine's worker is judged by its heartbeat only.)"""
    if not worker_id:
        return True
    host, _, rest = worker_id.partition("/")
    pid_text = rest.partition("/")[0]
    if host != _host() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    return pid != os.getpid() and not _alive(pid)


def recover_stale(
    workspace: Workspace,
    *,
    stale_after: float = STALE_AFTER,
    max_attempts: int = MAX_ATTEMPTS,
) -> list[dict[str, Any]]:
    """Requeue (or fail, or finish cancelling) every job left ``running`` by a worker that is
    gone or silent for ``stale_after`` seconds; return what was done, one dict per job.

    When anything was recovered, :func:`esgledger.store.doctor.examine` then repairs what
    the dead worker left half-written (a temporary run folder, an unnamed lake file).
    """
    now = _now()
    done: list[dict[str, Any]] = []
    with workspace.write_lock() as session:
        for job in running_jobs(session):
            beat = aware(job.heartbeat_at) or aware(job.started_at) or now
            silent = (now - beat) > timedelta(seconds=stale_after)
            if not (silent or _worker_gone(job.worker_id)):
                continue
            before = job.status
            previous = job.worker_id
            job.worker_id = None
            job.heartbeat_at = now
            if job.cancel_requested:
                job.status, job.stage, job.finished_at = "cancelled", "cancelled", now
                job.error = "cancelled; its worker stopped before it could finish / 已取消"
            elif job.attempts < max_attempts:
                job.status, job.stage, job.percent = "queued", "requeued", 0
                job.started_at = None
            else:
                job.status, job.finished_at = "failed", now
                job.error = (
                    f"the worker running this job stopped {job.attempts} time(s) before it "
                    "finished (server restarted or killed); nothing half-done was kept: submit "
                    f"the job again / 运行该作业的进程已中断 {job.attempts} 次，未保留任何中间"
                    "结果，请重新提交"
                )
            record(
                session,
                SYSTEM,
                "job.requeue" if job.status == "queued" else "job.finish",
                "job",
                str(job.id),
                before=digest({"status": before, "worker": previous}),
                after=digest({"status": job.status}),
                detail={"status": job.status, "attempts": job.attempts, "worker": previous},
            )
            done.append({"id": job.id, "status": job.status, "attempts": job.attempts})
    if done:
        logger.warning("recovered %d job(s) left running by a stopped worker: %s", len(done), done)
        try:
            examine(workspace, repair=True)
        except EsgledgerError:  # the busy workspace will be examined at the next recovery
            logger.exception("doctor could not repair the workspace after recovering jobs")
    return done


class WorkerPool:
    """``n_workers`` threads that run the workspace's queued jobs.

    Parameters
    ----------
    workspace
        The open workspace (its engine is shared by the threads).
    n_workers
        Threads, each running one job at a time.
    kinds
        Run only these kinds (None: all).
    poll_interval, heartbeat_interval, stale_after, recover_every, max_attempts
        Seconds between looks for work, between heartbeats, of silence after which a running
        job is taken for orphaned, between recoveries; starts a job gets (module docstring).
    """

    def __init__(
        self,
        workspace: Workspace,
        n_workers: int = 2,
        *,
        kinds: Collection[str] | None = None,
        poll_interval: float = 0.5,
        heartbeat_interval: float = HEARTBEAT_INTERVAL,
        stale_after: float = STALE_AFTER,
        recover_every: float = 30.0,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        if n_workers < 1:
            raise ValueError("a worker pool needs at least one worker")
        self.workspace = workspace
        self.n_workers = n_workers
        self.kinds = frozenset(kinds) if kinds is not None else None
        self.poll_interval = poll_interval
        self.heartbeat_interval = heartbeat_interval
        self.stale_after = stale_after
        self.recover_every = recover_every
        self.max_attempts = max_attempts
        self.token = uuid.uuid4().hex[:8]
        self._stopping = threading.Event()
        self._release = threading.Event()
        self._halt = threading.Event()  # ends the heartbeat thread
        self._threads: list[threading.Thread] = []
        self._running: dict[int, str] = {}  # job id -> worker id
        self._lock = threading.Lock()
        self.recovered: list[dict[str, Any]] = []

    # -- life -------------------------------------------------------------------------------

    def worker_id(self, n: int) -> str:
        """``host/pid/token-n``: which machine, process and pool thread claimed a job."""
        return f"{_host()}/{os.getpid()}/{self.token}-{n}"

    def start(self) -> None:
        """Recover jobs orphaned by a stopped worker, then start the threads."""
        if self._threads:
            raise RuntimeError("the worker pool is already started")
        self.recovered = recover_stale(
            self.workspace, stale_after=self.stale_after, max_attempts=self.max_attempts
        )
        for n in range(1, self.n_workers + 1):
            thread = threading.Thread(
                target=self._work, args=(self.worker_id(n),), name=f"esgledger-job-{n}", daemon=True
            )
            self._threads.append(thread)
        self._threads.append(
            threading.Thread(target=self._heartbeat, name="esgledger-job-heartbeat", daemon=True)
        )
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop claiming; let running jobs finish for half of ``timeout`` seconds, then ask
        them to release at their next stage boundary; wait at most ``timeout`` in all.
        Returns whether every thread ended (a job stuck inside one long stage may not: its
        heartbeat stops and the next pool's recovery requeues it)."""
        start = _now()
        self._stopping.set()
        workers = self._threads[:-1] if self._threads else []
        for thread in workers:
            thread.join(max(0.0, timeout / 2 - (_now() - start).total_seconds()))
        if any(t.is_alive() for t in workers):
            self._release.set()
            for thread in workers:
                thread.join(max(0.0, timeout - (_now() - start).total_seconds()))
        self._halt.set()
        if self._threads:
            self._threads[-1].join(max(0.1, timeout - (_now() - start).total_seconds()))
        return not any(t.is_alive() for t in self._threads)

    @property
    def running(self) -> dict[int, str]:
        """Job id → worker id of the jobs this pool runs now."""
        with self._lock:
            return dict(self._running)

    # -- threads ----------------------------------------------------------------------------

    def _work(self, worker_id: str) -> None:
        while not self._stopping.is_set():
            try:
                job = self._claim(worker_id)
            except Exception:  # the database was busy or gone: try again later
                logger.exception("worker %s could not claim a job", worker_id)
                job = None
            if job is None:
                self._stopping.wait(self.poll_interval)
                continue
            self._run(job, worker_id)

    def _claim(self, worker_id: str) -> tuple[int, str, dict[str, Any], Principal] | None:
        ws = self.workspace
        with ws.session() as session:
            if not queued_exists(session, self.kinds):
                return None
        opener = ws.write_lock if ws.engine.dialect.name == "sqlite" else ws.session
        with opener() as session:
            job = claim_next(session, worker_id, _now(), self.kinds)
            if job is None:
                return None
            claimed = (job.id, job.kind, dict(job.params), _principal(job))
        with self._lock:
            self._running[claimed[0]] = worker_id
        return claimed

    def _progress(self, job_id: int, worker_id: str, stage: str, percent: int) -> None:
        with self.workspace.session() as session:
            owned, cancel = set_progress(session, job_id, worker_id, stage, percent, _now())
        if not owned:
            raise JobStopped("lost")
        if cancel:
            raise JobStopped("cancelled")
        if self._release.is_set():
            raise JobStopped("released")

    def _run(self, claimed: tuple[int, str, dict[str, Any], Principal], worker_id: str) -> None:
        job_id, kind, params, principal = claimed

        def progress(stage: str, percent: int) -> None:
            self._progress(job_id, worker_id, stage, percent)

        context = JobContext(job_id=job_id, params=params, principal=principal, progress=progress)
        try:
            try:
                progress("starting", 0)
                result = HANDLERS[kind](self.workspace, context)
            except JobStopped as stop:
                if stop.reason == "released":
                    with self.workspace.session() as session:
                        release_job(session, job_id, worker_id)
                elif stop.reason == "cancelled":
                    self._finish(job_id, worker_id, principal, "cancelled", stage="cancelled")
                return
            except InputError as exc:
                issues = [
                    {
                        "file": i.file,
                        "row": i.row,
                        "column": i.column,
                        "value": i.value,
                        "problem": i.problem,
                        "fix": i.fix,
                    }
                    for i in exc.issues
                ]
                self._finish(
                    job_id, worker_id, principal, "failed", error=error_line(exc), issues=issues
                )
                return
            except Exception as exc:
                if not isinstance(exc, EsgledgerError):
                    logger.exception("job %s (%s) failed with an unexpected error", job_id, kind)
                self._finish(job_id, worker_id, principal, "failed", error=error_line(exc))
                return
            self._finish(job_id, worker_id, principal, "succeeded", stage="done", result=result)
        except Exception:  # the database refused even the outcome: recovery will see it
            logger.exception("job %s: could not record its outcome", job_id)
        finally:
            with self._lock:
                self._running.pop(job_id, None)

    def _finish(
        self,
        job_id: int,
        worker_id: str,
        principal: Principal,
        status: str,
        *,
        stage: str | None = None,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        issues: list[dict[str, Any]] | None = None,
    ) -> None:
        with self.workspace.write_lock() as session:
            job = finish_job(
                session,
                job_id,
                worker_id,
                status=status,
                now=_now(),
                stage=stage,
                result=result,
                error=error,
                issues=issues,
            )
            if job is None:
                return
            record(
                session,
                principal,
                "job.finish",
                "job",
                str(job_id),
                before=digest({"status": "running"}),
                after=digest({"status": status, "result": result, "error": error}),
                detail={"kind": job.kind, "status": status, "attempts": job.attempts}
                | ({"result": result} if result is not None and job.kind != "calculate" else {})
                | ({"run_id": result.get("run_id")} if result and job.kind == "calculate" else {})
                | ({"error": error} if error else {}),
            )

    def _heartbeat(self) -> None:
        last_recovery = _now()
        while not self._halt.is_set():
            owners = self.running
            if owners:
                try:
                    with self.workspace.session() as session:
                        touch_jobs(session, owners, _now())
                except Exception:
                    logger.exception("heartbeat of jobs %s failed", sorted(owners))
            if (
                not self._stopping.is_set()
                and (_now() - last_recovery).total_seconds() >= self.recover_every
            ):
                last_recovery = _now()
                try:
                    recover_stale(
                        self.workspace,
                        stale_after=self.stale_after,
                        max_attempts=self.max_attempts,
                    )
                except Exception:
                    logger.exception("recovering stale jobs failed")
            self._halt.wait(self.heartbeat_interval)
