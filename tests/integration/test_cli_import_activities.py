"""``esgledger import WS FILE --kind activities`` end to end: accepted, rejected with a
report, re-imported. The organisation is written through the repository (not the reference
importer), so these tests exercise the activity importer and the CLI only."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from _inventory_support import seed_organisation
from esgledger.cli import app
from esgledger.store import Workspace

runner = CliRunner()

HEADER = ["record_id", "entity", "site", "period_start", "period_end", "activity", "quantity"]
HEADER += ["unit"]


@pytest.fixture
def ws_root(workspace: Workspace) -> Path:
    """A 2024 workspace (SQLite, PostgreSQL) with entity CLOUD and its site DC-TJ."""
    seed_organisation(
        workspace, entity="CLOUD", site="DC-TJ", region="CN-TJ", site_type="data_centre"
    )
    return workspace.root


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _months(unit: str = "MWh") -> list[list[str]]:
    rows = []
    for month, end in enumerate([31, 29, 31], start=1):
        rows.append(
            [
                f"EN-{month}",
                "CLOUD",
                "DC-TJ",
                f"2024-{month:02d}-01",
                f"2024-{month:02d}-{end}",
                "electricity",
                str(100 * month),
                unit,
            ]
        )
    return rows


def test_import_accepts_the_file_and_reports_the_batch(ws_root: Path, tmp_path: Path) -> None:
    path = _write(tmp_path / "energy.csv", _months())
    result = runner.invoke(app, ["import", str(ws_root), "--kind", "activities", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Imported 3 activity rows from energy.csv as batch b-")
    assert result.stdout.endswith(" (1 activity, 2024-01-01 to 2024-03-31).\n")
    batch_id = result.stdout.split(" as batch ")[1].split(" ")[0]
    with Workspace.open(ws_root) as ws:
        lake = pq.read_table(ws.lake / "activities" / f"{batch_id}.parquet")
    assert lake.column("quantity").to_pylist() == [100.0, 200.0, 300.0]

    again = runner.invoke(app, ["import", str(ws_root), "--kind", "activities", str(path)])
    assert again.exit_code == 0, again.output
    assert again.stdout == (
        f"energy.csv was already imported as activities batch {batch_id}; nothing changed.\n"
    )


def test_import_rejects_the_file_with_every_issue_and_writes_the_report(
    ws_root: Path, tmp_path: Path
) -> None:
    rows = _months()
    rows[1][6] = "two hundred"
    rows[2][7] = "L"
    path = _write(tmp_path / "energy.csv", rows)
    report = tmp_path / "issues.csv"
    result = runner.invoke(
        app,
        ["import", str(ws_root), "--kind", "activities", str(path), "--report", str(report)],
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "energy.csv was rejected: 2 issues found; nothing was imported\n"
        "  energy.csv, row 3, column 'quantity': not a number (value: 'two hundred'). "
        "Fix: write a plain number such as 1234.5: no thousands separators, units or text\n"
        "  energy.csv, row 4, column 'unit': the unit does not fit activity 'electricity', "
        "which needs [energy] (value: 'L'). Fix: give the quantity in a unit of [energy], "
        "e.g. kWh\n"
        f"The report of all 2 issue(s) is in {report}\n"
    )
    with report.open(encoding="utf-8-sig", newline="") as handle:
        assert [(r["row"], r["column"], r["value"]) for r in csv.DictReader(handle)] == [
            ("3", "quantity", "two hundred"),
            ("4", "unit", "L"),
        ]
    with Workspace.open(ws_root) as ws:
        assert not (ws.lake / "activities").exists() or not any((ws.lake / "activities").iterdir())


def test_an_overlapping_file_is_imported_with_warnings_and_a_duplicate_refused(
    ws_root: Path, tmp_path: Path
) -> None:
    """Issue 10, §3: the overlap is named on stderr and the import succeeds (exit 0); an
    exact duplicate is refused (exit 2). docs/methodology/overlaps.md."""
    first = _write(tmp_path / "q1.csv", _months())
    assert (
        runner.invoke(app, ["import", str(ws_root), "--kind", "activities", str(first)]).exit_code
        == 0
    )
    january = ["B-1", "CLOUD", "DC-TJ", "2024-01-01", "2024-01-31", "electricity", "150", "MWh"]
    second = _write(tmp_path / "again.csv", [january])
    report = tmp_path / "warnings.csv"
    result = runner.invoke(
        app,
        ["import", str(ws_root), "--kind", "activities", str(second), "--report", str(report)],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Imported 1 activity row from again.csv as batch b-")
    assert "Warning: 1 row overlaps other activity rows" in result.stdout
    assert result.stderr.startswith(
        "warning: again.csv, row 2, column 'period_start': the period overlaps row 2 of batch b-"
    )
    assert "(q1.csv, record id EN-1), of the same entity CLOUD, site DC-TJ" in result.stderr
    with report.open(encoding="utf-8-sig", newline="") as handle:
        assert [(r["row"], r["column"]) for r in csv.DictReader(handle)] == [("2", "period_start")]

    duplicate = _write(tmp_path / "copy.csv", [["C-1", *_months()[1][1:]]])
    refused = runner.invoke(app, ["import", str(ws_root), "--kind", "activities", str(duplicate)])
    assert refused.exit_code == 2
    assert "copy.csv, row 2, column 'quantity': exact duplicate of row 3 of batch b-" in (
        refused.stderr
    )
