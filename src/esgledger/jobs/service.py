"""Jobs as a service: submit, look at, list and cancel long work (the only module of
:mod:`esgledger.jobs` that opens transactions for callers).

作业服务：提交、查看、列出与取消长时间运行的任务。

Every function takes the acting principal and asks the role matrix
(:mod:`esgledger.access.policy`, ``access/roles.csv``). Submitting needs the kind's action
(``import:run``, ``calculate:run``, ``report:run``); a principal reads the jobs they
submitted (``job:read``) and cancels them (``job:cancel``); ``job:read_all`` and
``job:cancel_any`` extend that to everyone's. A job
someone may not read answers as missing (:class:`~esgledger.errors.NotFoundError`), so ids
cannot be probed. Submit, cancel and every end of a job are audit events.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.orm import Session
from typing_extensions import TypedDict

from esgledger.access import Principal, policy
from esgledger.audit import digest, record
from esgledger.errors import (
    AccessDeniedError,
    ConflictError,
    InputError,
    Issue,
    NotFoundError,
    with_zh,
)
from esgledger.ingest.importers import importer_for
from esgledger.jobs import uploads
from esgledger.jobs.handlers import check_params
from esgledger.jobs.labels import STAGE_LABELS, STATUS_LABELS, label
from esgledger.store import Workspace
from esgledger.store.models_jobs import JOB_KINDS, JOB_STATUSES, Job
from esgledger.store.repository_jobs import add_job, aware, get_job, jobs_of

__all__ = [
    "JobView",
    "cancel",
    "get",
    "job_view",
    "list_jobs",
    "store_upload",
    "submit",
    "submit_import",
]


def _may(principal: Principal, action: str) -> bool:
    return policy.allowed(principal, action) is True


class JobView(TypedDict):
    """A job as the API and ``esgledger jobs show --format json`` give it."""

    id: int
    kind: str
    status: str
    status_label: dict[str, str] | None
    stage: str | None
    stage_label: dict[str, str] | None
    percent: int
    params: dict[str, Any]
    submitted_by: str
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    heartbeat_at: str | None
    attempts: int
    cancel_requested: bool
    result: dict[str, Any] | None
    error: str | None
    issues: list[dict[str, Any]] | None


def _iso(value: datetime | None) -> str | None:
    moment = aware(value)
    return None if moment is None else moment.isoformat()


def job_view(job: Job) -> JobView:
    """The JSON contract of one job."""
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "status_label": label(STATUS_LABELS, job.status),
        "stage": job.stage,
        "stage_label": label(STAGE_LABELS, job.stage),
        "percent": job.percent,
        "params": dict(job.params),
        "submitted_by": job.submitted_by,
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
        "heartbeat_at": _iso(job.heartbeat_at),
        "attempts": job.attempts,
        "cancel_requested": job.cancel_requested,
        "result": dict(job.result) if job.result is not None else None,
        "error": job.error,
        "issues": list(job.issues) if job.issues is not None else None,
    }


def _submitter(principal: Principal) -> dict[str, Any]:
    return {
        "role": principal.role,
        "scope_entity": principal.scope_entity,
        "user_id": principal.user_id,
        "address": principal.address,
    }


def submit(
    workspace: Workspace, principal: Principal, kind: str, params: Mapping[str, Any]
) -> JobView:
    """Queue a job of ``kind`` (``import``, ``calculate``, ``report``) with ``params``.

    Raises
    ------
    AccessDeniedError
        If the principal may not run ``kind`` (``<kind>:run``).
    InputError
        If the kind or a parameter is refused (:func:`esgledger.jobs.handlers.check_params`).
    """
    if kind in JOB_KINDS:
        policy.require(principal, f"{kind}:run")
    check_params(workspace, kind, params)
    with workspace.write_lock() as session:
        job = add_job(
            session,
            kind=kind,
            params=params,
            submitted_by=principal.username,
            submitter=_submitter(principal),
            now=datetime.now(UTC),
        )
        record(
            session,
            principal,
            "job.submit",
            "job",
            str(job.id),
            after=digest({"kind": kind, "params": dict(params)}),
            detail={"kind": kind, "params": dict(params)},
        )
        return job_view(job)


def store_upload(
    workspace: Workspace,
    principal: Principal,
    name: str,
    source: BinaryIO,
    *,
    max_bytes: int = uploads.DEFAULT_MAX_UPLOAD_BYTES,
) -> str:
    """Keep an uploaded file for an import job (:func:`esgledger.jobs.uploads.store_upload`);
    return its path relative to the workspace.

    Raises
    ------
    AccessDeniedError
        If the principal may not run imports.
    InputError
        If the file's type is not importable or it is larger than ``max_bytes``.
    """
    policy.require(principal, "import:run")
    return uploads.store_upload(workspace.root, name, source, max_bytes=max_bytes)


def submit_import(
    workspace: Workspace,
    principal: Principal,
    import_kind: str,
    name: str,
    source: BinaryIO,
    *,
    sheet: str | None = None,
    max_bytes: int = uploads.DEFAULT_MAX_UPLOAD_BYTES,
) -> JobView:
    """Keep an uploaded file and queue its import (``store_upload`` then ``submit``); an
    unknown ``import_kind`` is refused before anything is kept."""
    importer_for(import_kind)
    stored = store_upload(workspace, principal, name, source, max_bytes=max_bytes)
    params: dict[str, Any] = {"kind": import_kind, "file": stored}
    if sheet:
        params["sheet"] = sheet
    return submit(workspace, principal, "import", params)


def submit_file(
    workspace: Workspace,
    principal: Principal,
    import_kind: str,
    path: Path,
    *,
    sheet: str | None = None,
) -> JobView:
    """Queue the import of a local file (copied into ``WS/uploads`` first, no size limit)."""
    with path.open("rb") as source:
        return submit_import(
            workspace, principal, import_kind, path.name, source, sheet=sheet, max_bytes=1 << 62
        )


#: Job ids are positive 32-bit integers (the column's range on every database).
MAX_JOB_ID = 2**31 - 1


def _find(session: Session, job_id: int) -> Job | None:
    return get_job(session, job_id) if 1 <= job_id <= MAX_JOB_ID else None


def _visible(job: Job | None, principal: Principal, job_id: int) -> Job:
    if job is None or (
        job.submitted_by != principal.username and not _may(principal, "job:read_all")
    ):
        raise with_zh(
            NotFoundError(f"there is no job {job_id} (or it is not yours to see)"),
            f"没有编号为 {job_id} 的作业（或您无权查看）。",
        )
    return job


def get(workspace: Workspace, principal: Principal, job_id: int) -> JobView:
    """One job with its progress and outcome.

    Raises
    ------
    NotFoundError
        If there is no such job, or the principal may not see it.
    """
    policy.require(principal, "job:read")
    with workspace.session() as session:
        return job_view(_visible(_find(session, job_id), principal, job_id))


def list_jobs(
    workspace: Workspace,
    principal: Principal,
    *,
    status: str | None = None,
    kind: str | None = None,
    limit: int = 100,
) -> list[JobView]:
    """The jobs the principal may see (their own, or all with ``job:read_all``), newest
    first, at most ``limit``.

    Raises
    ------
    InputError
        If ``status`` or ``kind`` is not one the jobs table knows.
    """
    for name, value, choices in (("status", status, JOB_STATUSES), ("kind", kind, JOB_KINDS)):
        if value is not None and value not in choices:
            raise InputError(
                f"unknown job {name} {value!r}",
                [
                    Issue(
                        "",
                        None,
                        name,
                        value[:60],
                        f"unknown {name}",
                        f"choose one of {', '.join(choices)}",
                    )
                ],
            )
    policy.require(principal, "job:read")
    mine = None if _may(principal, "job:read_all") else principal.username
    with workspace.session() as session:
        jobs = jobs_of(
            session, submitted_by=mine, status=status, kind=kind, limit=max(1, min(limit, 1000))
        )
        return [job_view(job) for job in jobs]


def cancel(workspace: Workspace, principal: Principal, job_id: int) -> JobView:
    """Cancel a job: a queued one at once; a running one at its next stage boundary
    (``cancel_requested``; its partial output is never registered).

    Raises
    ------
    NotFoundError
        If there is no such job, or the principal may not see it.
    AccessDeniedError
        If it is someone else's and the principal lacks ``job:cancel_any``.
    ConflictError
        If the job has already ended.
    """
    policy.require(principal, "job:cancel")
    with workspace.write_lock() as session:
        job = _visible(_find(session, job_id), principal, job_id)
        if job.submitted_by != principal.username and not _may(principal, "job:cancel_any"):
            raise with_zh(
                AccessDeniedError(
                    f"job {job_id} was submitted by {job.submitted_by}; {principal.username} "
                    f"({principal.role}) may cancel only their own jobs"
                ),
                f"作业 {job_id} 由 {job.submitted_by} 提交；"
                f"{principal.username} 只能取消自己的作业。",
            )
        before = job.status
        if job.status == "queued":
            job.status, job.stage = "cancelled", "cancelled"
            job.finished_at = datetime.now(UTC)
            job.cancel_requested = True
        elif job.status == "running":
            job.cancel_requested = True
        else:
            raise with_zh(
                ConflictError(f"job {job_id} has already ended ({job.status}); nothing to cancel"),
                f"作业 {job_id} 已结束（{job.status}），无法取消。",
            )
        session.flush()
        record(
            session,
            principal,
            "job.cancel",
            "job",
            str(job_id),
            before=digest({"status": before}),
            after=digest({"status": job.status, "cancel_requested": True}),
            detail={"kind": job.kind, "status_before": before},
        )
        return job_view(job)
