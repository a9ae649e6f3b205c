"""The application ``esgledger serve`` runs: :func:`create_app` plus the start and stop hooks
of the platform's background parts (the job worker pool, when present)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from esgledger.server.app import create_app
from esgledger.server.settings import ServerSettings

__all__ = ["build_app"]


def build_app(workspace: Path | str, settings: ServerSettings) -> FastAPI:
    return create_app(workspace, settings)
