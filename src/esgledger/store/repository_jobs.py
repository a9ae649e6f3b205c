"""Reading and writing the jobs table (:mod:`esgledger.store.models_jobs`): the only SQL of
:mod:`esgledger.jobs`.

作业表的读写：提交、认领、进度、心跳与结束。

Every function works inside the caller's session. Claiming is safe under concurrency because
of how the caller opens that session: :func:`claim_next` selects ``FOR UPDATE SKIP LOCKED``
on PostgreSQL (two workers never lock the same queued row; each takes the next free one),
and on SQLite, which ignores that clause, the caller holds the workspace's write lock
(``BEGIN IMMEDIATE``), so claims are one after another. A worker's writes name its
``worker_id`` and a ``running`` status: a worker whose job was requeued or failed after it
was thought dead changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from esgledger.store.models_jobs import Job

__all__ = [
    "add_job",
    "aware",
    "claim_next",
    "finish_job",
    "get_job",
    "jobs_of",
    "queued_exists",
    "release_job",
    "running_jobs",
    "set_progress",
    "touch_jobs",
]


def aware(value: datetime | None) -> datetime | None:
    """A stored time as an aware UTC datetime (SQLite gives back naive values)."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def add_job(
    session: Session,
    *,
    kind: str,
    params: Mapping[str, Any],
    submitted_by: str,
    submitter: Mapping[str, Any],
    now: datetime,
) -> Job:
    """Insert a queued job; its id is set on return."""
    job = Job(
        kind=kind,
        params=dict(params),
        status="queued",
        stage=None,
        percent=0,
        submitted_by=submitted_by,
        submitter=dict(submitter),
        created_at=now,
        attempts=0,
        cancel_requested=False,
    )
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, job_id: int) -> Job | None:
    """The job ``job_id``, or None."""
    return session.get(Job, job_id)


def jobs_of(
    session: Session,
    *,
    submitted_by: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    limit: int = 100,
) -> list[Job]:
    """Jobs, newest first, filtered by submitter, status and kind (None: any)."""
    query = sa.select(Job).order_by(Job.id.desc()).limit(limit)
    if submitted_by is not None:
        query = query.where(Job.submitted_by == submitted_by)
    if status is not None:
        query = query.where(Job.status == status)
    if kind is not None:
        query = query.where(Job.kind == kind)
    return list(session.scalars(query))


def _claimable(kinds: Collection[str] | None) -> sa.Select[Any]:
    query = sa.select(Job.id).where(Job.status == "queued", Job.cancel_requested.is_(False))
    if kinds is not None:
        query = query.where(Job.kind.in_(sorted(kinds)))
    return query


def queued_exists(session: Session, kinds: Collection[str] | None = None) -> bool:
    """Whether a job is waiting to be claimed (a cheap look before taking any lock)."""
    return session.execute(_claimable(kinds).limit(1)).first() is not None


def claim_next(
    session: Session, worker_id: str, now: datetime, kinds: Collection[str] | None = None
) -> Job | None:
    """Mark the oldest claimable job ``running`` for ``worker_id`` and return it (None when
    nothing waits). PostgreSQL: ``FOR UPDATE SKIP LOCKED``; SQLite: call it under the write
    lock (module docstring)."""
    job_id = session.execute(
        _claimable(kinds).order_by(Job.id).limit(1).with_for_update(skip_locked=True)
    ).scalar_one_or_none()
    if job_id is None:
        return None
    job = session.get(Job, job_id)
    if job is None:  # pragma: no cover - locked above
        return None
    job.status = "running"
    job.worker_id = worker_id
    job.started_at = now
    job.heartbeat_at = now
    job.attempts += 1
    job.stage = None
    job.percent = 0
    session.flush()
    return job


def _owned(job_id: int, worker_id: str) -> sa.ColumnElement[bool]:
    return sa.and_(Job.id == job_id, Job.worker_id == worker_id, Job.status == "running")


def touch_jobs(session: Session, owners: Mapping[int, str], now: datetime) -> None:
    """Heartbeat: ``heartbeat_at = now`` for each running job id → its worker."""
    for job_id, worker_id in owners.items():
        session.execute(sa.update(Job).where(_owned(job_id, worker_id)).values(heartbeat_at=now))


def set_progress(
    session: Session, job_id: int, worker_id: str, stage: str, percent: int, now: datetime
) -> tuple[bool, bool]:
    """Record a running job's stage and percent (and a heartbeat); return (whether the job
    is still this worker's, whether its cancellation was asked for)."""
    updated = session.execute(
        sa.update(Job)
        .where(_owned(job_id, worker_id))
        .values(stage=stage, percent=max(0, min(100, percent)), heartbeat_at=now)
    )
    if not getattr(updated, "rowcount", 0):
        return False, False
    cancel = session.execute(sa.select(Job.cancel_requested).where(Job.id == job_id)).scalar_one()
    return True, bool(cancel)


def finish_job(
    session: Session,
    job_id: int,
    worker_id: str,
    *,
    status: str,
    now: datetime,
    stage: str | None = None,
    result: Mapping[str, Any] | None = None,
    error: str | None = None,
    issues: list[dict[str, Any]] | None = None,
) -> Job | None:
    """End a running job of ``worker_id`` as ``status``; None (nothing changed) when it is no
    longer that worker's."""
    job = session.execute(
        sa.select(Job).where(_owned(job_id, worker_id)).with_for_update()
    ).scalar_one_or_none()
    if job is None:
        return None
    job.status = status
    job.finished_at = now
    job.heartbeat_at = now
    if stage is not None:
        job.stage = stage
    if status == "succeeded":
        job.percent = 100
    job.result = dict(result) if result is not None else None
    job.error = error
    job.issues = issues
    session.flush()
    return job


def release_job(session: Session, job_id: int, worker_id: str) -> bool:
    """Put a running job of ``worker_id`` back in the queue (a pool shutting down); the start
    does not count as an attempt. False when it was no longer that worker's."""
    updated = session.execute(
        sa.update(Job)
        .where(_owned(job_id, worker_id))
        .values(
            status="queued",
            worker_id=None,
            started_at=None,
            stage="released",
            percent=0,
            attempts=Job.attempts - 1,
        )
    )
    return bool(getattr(updated, "rowcount", 0))


def running_jobs(session: Session) -> list[Job]:
    """Every job marked running, oldest first (what a starting pool checks for staleness)."""
    return list(
        session.scalars(
            sa.select(Job).where(Job.status == "running").order_by(Job.id).with_for_update()
        )
    )
