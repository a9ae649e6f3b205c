"""``esgledger jobs list|show|cancel WS``: thin over the jobs service."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from esgledger.access import Principal
from esgledger.cli import app
from esgledger.jobs import service
from esgledger.store import Workspace

runner = CliRunner()


def test_jobs_list_show_and_cancel(sqlite_workspace: Workspace) -> None:
    ws = sqlite_workspace
    job = service.submit(ws, Principal.local(), "calculate", {"gwp": "AR5"})
    listed = runner.invoke(app, ["jobs", "list", str(ws.root), "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert [j["id"] for j in json.loads(listed.stdout)] == [job["id"]]
    table = runner.invoke(app, ["jobs", "list", str(ws.root)])
    assert "calculate" in table.stdout
    assert "queued" in table.stdout
    shown = runner.invoke(app, ["jobs", "show", str(ws.root), str(job["id"])])
    assert shown.stdout.startswith(f"job {job['id']} calculate: queued")
    cancelled = runner.invoke(app, ["jobs", "cancel", str(ws.root), str(job["id"])])
    assert cancelled.exit_code == 0, cancelled.output
    assert cancelled.stdout.strip() == f"job {job['id']} cancelled"
    again = runner.invoke(app, ["jobs", "cancel", str(ws.root), str(job["id"])])
    assert again.exit_code == 1
    assert "already ended (cancelled)" in again.stderr
    missing = runner.invoke(app, ["jobs", "show", str(ws.root), "999"])
    assert missing.exit_code == 1
    assert "there is no job 999" in missing.stderr
    assert "Traceback" not in missing.output
