"""The jobs table: long work (an import of a large file, a calculation, a report) that a
worker pool runs outside the request that asked for it (``esgledger.jobs``).

A job is claimed by one worker at a time (PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED``;
SQLite: under the workspace's write lock), heart-beats while it runs and ends ``succeeded``,
``failed`` or ``cancelled``. A job left ``running`` by a worker that died is requeued or
failed when a pool next starts (``docs/platform/jobs.md``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from esgledger.store.models import Base

__all__ = ["JOB_KINDS", "JOB_STATUSES", "Job"]

#: What a job does (``esgledger.jobs.handlers``).
JOB_KINDS: tuple[str, ...] = ("import", "calculate", "report")
#: A job's life: queued → running → succeeded | failed | cancelled (running → queued again
#: when a pool releases it on shutdown or requeues it after its worker died).
JOB_STATUSES: tuple[str, ...] = ("queued", "running", "succeeded", "failed", "cancelled")


class Job(Base):
    """One long piece of work, its progress and its outcome."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20), comment="import, calculate or report")
    params: Mapped[dict[str, object]] = mapped_column(
        JSON, comment="the handler's parameters (JSON-native)"
    )
    status: Mapped[str] = mapped_column(
        String(20), index=True, comment="queued, running, succeeded, failed or cancelled"
    )
    stage: Mapped[str | None] = mapped_column(String(60), comment="e.g. resolving factors")
    percent: Mapped[int] = mapped_column(Integer, comment="[%] 0 to 100")
    submitted_by: Mapped[str] = mapped_column(
        String(100), index=True, comment="username, or local:<os user>"
    )
    submitter: Mapped[dict[str, object]] = mapped_column(
        JSON, comment="the submitting principal: role, scope_entity, user_id, address"
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="last sign of life of the worker running it"
    )
    attempts: Mapped[int] = mapped_column(Integer, comment="times a worker started it")
    worker_id: Mapped[str | None] = mapped_column(
        String(200), comment="host/pid/pool-worker of the worker that claimed it"
    )
    cancel_requested: Mapped[bool] = mapped_column(Boolean)
    result: Mapped[dict[str, object] | None] = mapped_column(
        JSON, comment="what it produced: run id, batch id, report files"
    )
    error: Mapped[str | None] = mapped_column(Text, comment="one line for people; no traceback")
    issues: Mapped[list[dict[str, object]] | None] = mapped_column(
        JSON, comment="row-level issues of a rejected input: file, row, column, value, problem, fix"
    )
