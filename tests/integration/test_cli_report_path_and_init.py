"""Issue 11, defect 13: ``import --report`` into a missing folder or onto a folder, and a
failed ``init`` that left an empty folder behind.

``--report`` pointing at a missing folder crashed after printing the issues (exit 1), and at a
folder too; missing folders are now created, and a path that cannot become a file is refused
(exit 2) before any work. A failed ``init`` removes the folders it created, and only those.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from typer.testing import CliRunner

from esgledger.cli import app
from esgledger.store import Workspace
from esgledger.store.repository import load_batches

runner = CliRunner()

HEADER = ["entity", "name", "parent", "ownership_pct", "operational_control",
          "financial_control", "country"]  # fmt: skip
#: A database no server answers (port 1 on the loopback: connection refused at once).
UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:1/nothing"


def _entities(path: Path, country: str) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerow(["GRP", "Group", "", 100, "true", "true", country])
    return path


def _flat(text: str) -> str:
    """``text`` without the frame of Click's error panel and without whitespace (the panel
    wraps long paths anywhere)."""
    return re.sub(r"[\s│╭╮╰╯─]", "", text)


def _ws(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    return ws


def _batches(ws: Path) -> int:
    with Workspace.open(ws) as workspace, workspace.session() as session:
        return len(load_batches(session))


def test_report_into_a_missing_folder_is_written_there(tmp_path: Path) -> None:
    ws = _ws(tmp_path)
    bad = _entities(tmp_path / "bad.csv", "XX")
    report = tmp_path / "out" / "deeper" / "issues.csv"
    result = runner.invoke(
        app, ["import", str(ws), str(bad), "--kind", "entities", "--report", str(report)]
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"is in {report}" in result.stderr
    text = report.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "file,row,column,value,problem,fix"
    assert "unknown country code" in text


def test_report_onto_a_folder_is_refused_before_any_work(tmp_path: Path) -> None:
    ws = _ws(tmp_path)
    good = _entities(tmp_path / "good.csv", "CN")
    folder = tmp_path / "reports"
    folder.mkdir()
    result = runner.invoke(
        app, ["import", str(ws), str(good), "--kind", "entities", "--report", str(folder)]
    )
    assert result.exit_code == 2, result.output
    assert _flat(f"'{folder}' is a directory") in _flat(result.output)
    assert _batches(ws) == 0  # the valid file was not imported: the command did not start
    assert list(folder.iterdir()) == []


def test_report_through_a_file_is_refused_before_any_work(tmp_path: Path) -> None:
    ws = _ws(tmp_path)
    good = _entities(tmp_path / "good.csv", "CN")
    report = good / "issues.csv"
    result = runner.invoke(
        app, ["import", str(ws), str(good), "--kind", "entities", "--report", str(report)]
    )
    assert result.exit_code == 2, result.output
    assert _flat(f"{good} is a file, so {report} cannot be created") in _flat(result.output)
    assert _batches(ws) == 0


def test_a_failed_init_leaves_no_folder_behind(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "ws"
    result = runner.invoke(app, ["init", str(target), "--database-url", UNREACHABLE])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_failed_init_keeps_what_was_there_before(tmp_path: Path) -> None:
    target = tmp_path / "existing"
    target.mkdir()
    (target / "notes.txt").write_text("mine", encoding="utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    for folder in (target, empty):
        result = runner.invoke(app, ["init", str(folder), "--database-url", UNREACHABLE])
        assert result.exit_code == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "existing"]
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    assert list(empty.iterdir()) == []


def test_a_failed_sqlite_init_in_a_new_folder_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "new" / "ws"
    result = runner.invoke(app, ["init", str(target), "--year", "1800"])
    assert result.exit_code == 1
    assert list(tmp_path.iterdir()) == []
