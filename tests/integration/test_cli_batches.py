"""``esgledger batches list|show|withdraw|supersede``, ``calculate --include submitted`` and the
report's audit event, through the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from _inventory_support import activity, entity, import_rows, write_csv
from esgledger import audit
from esgledger.cli import app
from esgledger.ingest.importers import import_file
from esgledger.store import Workspace

runner = CliRunner()


def _cli(*args: object) -> Any:
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "250"})


def _workspace(tmp_path: Path) -> tuple[Path, str]:
    root = tmp_path / "ws"
    with Workspace.init(root, year=2024) as ws:
        import_rows(ws, "entities", [entity("GRP")])
        path = write_csv(
            tmp_path / "diesel.csv",
            [activity("stationary.diesel", 100, "gal", region="US", record_id="D-1")],
        )
        batch = import_file(ws, "activities", path).batch_id
    return root, batch


def test_list_show_withdraw(tmp_path: Path) -> None:
    root, batch = _workspace(tmp_path)
    listed = _cli("batches", "list", root, "--kind", "activities", "--format", "json")
    assert listed.exit_code == 0, listed.output
    (view,) = json.loads(listed.stdout)
    assert (view["id"], view["status"]) == (batch, "approved")
    assert "diesel.csv" in _cli("batches", "list", root).stdout

    missing_reason = _cli("batches", "withdraw", root, batch)
    assert missing_reason.exit_code == 2  # --reason is required
    empty = _cli("batches", "withdraw", root, batch, "--reason", " ")
    assert empty.exit_code == 2
    assert "reason is required" in empty.stderr

    done = _cli("batches", "withdraw", root, batch, "--reason", "wrong site")
    assert done.exit_code == 0, done.output
    assert f"Withdrew batch {batch}" in done.stdout
    shown = _cli("batches", "show", root, batch)
    assert "status: withdrawn" in shown.stdout
    assert "status_reason: wrong site" in shown.stdout
    again = _cli("batches", "withdraw", root, batch, "--reason", "again")
    assert again.exit_code == 2
    assert "already withdrawn" in again.stderr
    assert _cli("batches", "show", root, "b-000000000000").exit_code == 2
    # Nothing approved is left to calculate.
    nothing = _cli("calculate", root)
    assert nothing.exit_code == 1
    assert "no approved activity data" in nothing.stderr


def test_supersede_then_a_preview_run_and_its_report(tmp_path: Path) -> None:
    root, batch = _workspace(tmp_path)
    fixed = write_csv(
        tmp_path / "diesel-fixed.csv",
        [activity("stationary.diesel", 110, "gal", region="US", record_id="D-1")],
    )
    done = _cli("batches", "supersede", root, batch, fixed, "--reason", "supplier corrected")
    assert done.exit_code == 0, done.output
    assert f"supersedes batch {batch}" in done.stdout
    assert json.loads(_cli("batches", "show", root, batch, "--format", "json").stdout)[
        "superseded_by"
    ]

    with Workspace.open(root) as ws:
        extra = write_csv(
            tmp_path / "late.csv",
            [activity("stationary.diesel", 5, "gal", region="US", record_id="D-2")],
        )
        import_file(ws, "activities", extra, status="submitted")
    preview = _cli("calculate", root, "--include", "submitted", "--no-category-3")
    assert preview.exit_code == 0, preview.output
    assert "PREVIEW — includes unapproved data" in preview.stderr
    assert "PREVIEW, includes unapproved data" in preview.stdout  # the inventory's title
    shown = _cli("inventory", root)
    assert "PREVIEW" in shown.stdout  # the latest run is the preview
    assert _cli("calculate", root, "--include", "withdrawn").exit_code == 2  # not a choice

    out = tmp_path / "report"
    made = _cli("report", root, "--lang", "en", "--format", "html", "--out", out)
    assert made.exit_code == 0, made.output
    assert "PREVIEW" in made.stdout
    assert "PREVIEW — includes unapproved data" in (out / "esg-report-2024.en.html").read_text(
        encoding="utf-8"
    )
    with Workspace.open(root) as ws:
        actions = [e.action for e in audit.events(ws)]
        report_event = audit.events(ws, action="report.")[0]
    assert actions[-4:] == [
        "batch.supersede",
        "import.activities",
        "run.calculate",
        "report.generate",
    ]
    assert report_event.detail is not None
    assert report_event.detail["preview"] is True
    assert report_event.detail["files"] == ["esg-report-2024.en.html"]
