"""``esgledger campaigns`` and ``esgledger tasks``: thin over the service, exit 2 on a
rejected file."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from _collection_support import build_org, row, write_csv
from esgledger.cli import app
from esgledger.store import Workspace

runner = CliRunner()


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_the_cycle_from_the_command_line(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    build_org(sqlite_workspace)
    ws = str(sqlite_workspace.root)
    created = json.loads(
        _ok("campaigns", "create", ws, "--name", "FY2024", "--due", "2099-01-31",
            "--activity", "electricity", "--entity", "CLOUD", "--json")
    )  # fmt: skip
    task = str(created["tasks"][0]["id"])
    assert "cloud_owner" in _ok("tasks", "list", ws)
    out = tmp_path / "t.xlsx"
    assert "Wrote the template" in _ok("tasks", "template", ws, task, "--out", str(out))
    bad = write_csv(tmp_path / "bad.csv", [row(unit="parsecs")])
    rejected = runner.invoke(app, ["tasks", "submit", ws, task, str(bad)])
    assert rejected.exit_code == 2
    assert "row 2" in rejected.output
    _ok("tasks", "submit", ws, task, str(write_csv(tmp_path / "good.csv", [row()])))
    _ok("tasks", "review", ws, task)
    shown = json.loads(_ok("tasks", "show", ws, task, "--json"))
    # One month of a year asked for: the review flags the missing months
    # (docs/platform/review-flags.md); the reviewer accepts each flag before approving.
    flags = [f for f in shown["flags"] if f["severity"] != "note"]
    assert flags
    blocked = runner.invoke(app, ["tasks", "approve", ws, task])
    assert blocked.exit_code == 1
    assert "not accepted" in blocked.output
    for flag in flags:
        _ok("tasks", "accept-flag", ws, task, flag["id"], "--comment", "site opened in December")
    wrong = runner.invoke(app, ["tasks", "reopen", ws, task, "--reason", "x"])
    assert wrong.exit_code == 1
    assert "cannot reopen" in wrong.output
    _ok("tasks", "approve", ws, task)
    report = json.loads(_ok("campaigns", "progress", ws, str(created["id"]), "--json"))
    assert report["by_status"]["approved"] == 1
    assert "approved" in _ok("tasks", "show", ws, task)
