"""The application ``esgledger serve`` runs: :func:`create_app` plus the start and stop hooks
of the platform's background parts (the job worker pool, when present), with one JSON log line
per event on standard error."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from fastapi import FastAPI

from esgledger.jobs.worker import WorkerPool
from esgledger.server.app import create_app
from esgledger.server.middleware import JsonFormatter
from esgledger.server.settings import ServerSettings

__all__ = [
    "WORKSPACE_ENV",
    "build_app",
    "configure_logging",
    "from_environment",
    "start_workers",
    "stop_workers",
]

#: The workspace folder ``esgledger serve`` hands to :func:`from_environment`.
WORKSPACE_ENV = "ESGLEDGER_SERVE_WORKSPACE"


def configure_logging() -> None:
    """esgledger's loggers (and Uvicorn's) write JSON lines to standard error."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("esgledger", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False


#: Seconds a stopping server lets running jobs finish before releasing them to the queue
#: (:meth:`esgledger.jobs.worker.WorkerPool.stop`).
JOB_STOP_SECONDS = 20.0


def start_workers(app: FastAPI) -> None:
    """Start the job worker pool (``settings.workers`` threads; none for 0)."""
    settings: ServerSettings = app.state.settings
    if settings.workers:
        pool = WorkerPool(app.state.workspace, settings.workers)
        pool.start()
        app.state.worker_pool = pool


def stop_workers(app: FastAPI) -> None:
    """Stop the pool: running jobs finish or go back to the queue."""
    pool: WorkerPool | None = getattr(app.state, "worker_pool", None)
    if pool is not None:
        pool.stop(JOB_STOP_SECONDS)


def build_app(workspace: Path | str, settings: ServerSettings) -> FastAPI:
    return create_app(workspace, settings, on_start=(start_workers,), on_stop=(stop_workers,))


def from_environment() -> FastAPI:
    """The Uvicorn factory of ``esgledger serve``."""
    configure_logging()
    return build_app(Path(os.environ[WORKSPACE_ENV]), ServerSettings())
