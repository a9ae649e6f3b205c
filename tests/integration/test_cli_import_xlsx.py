"""``esgledger import`` of XLSX workbooks: the sheet is found by its header (or named with
``--sheet``) and every message names it (issue 10, section 5). Before, the first sheet was read
whatever it held, and messages named the file only."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from _inventory_support import seed_organisation
from esgledger.cli import app
from esgledger.store import Workspace

runner = CliRunner()

HEADER = ["record_id", "entity", "site", "period_start", "period_end", "activity", "quantity"]
HEADER += ["unit"]


@pytest.fixture
def ws_root(sqlite_workspace: Workspace) -> Path:
    """A 2024 workspace with entity CLOUD and its site DC-TJ."""
    seed_organisation(
        sqlite_workspace, entity="CLOUD", site="DC-TJ", region="CN-TJ", site_type="data_centre"
    )
    return sqlite_workspace.root


def _rows(prefix: str, unit: str = "MWh", months: tuple[int, ...] = (1, 2)) -> list[list[str]]:
    rows = []
    for m in months:
        period = [f"2024-{m:02d}-01", f"2024-{m:02d}-28"]
        rows.append([f"{prefix}-{m}", "CLOUD", "DC-TJ", *period, "electricity", str(100 * m), unit])
    return rows


def _book(path: Path, sheets: dict[str, list[list[str]]]) -> Path:
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


README = [["How to fill in this workbook"], ["One row per meter and month."]]


def test_the_sheet_whose_header_fits_is_imported_and_named(ws_root: Path, tmp_path: Path) -> None:
    path = _book(tmp_path / "book.xlsx", {"说明": README, "Activities": [HEADER, *_rows("E")]})
    result = runner.invoke(app, ["import", str(ws_root), "--kind", "activities", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "Imported 2 activity rows from book.xlsx (sheet 'Activities') as batch b-"
    )


def test_row_errors_name_file_sheet_row_and_column(ws_root: Path, tmp_path: Path) -> None:
    rows = _rows("E")
    rows[1][7] = "kWhh"
    path = _book(tmp_path / "book.xlsx", {"说明": README, "Activities": [HEADER, *rows]})
    result = runner.invoke(app, ["import", str(ws_root), "--kind", "activities", str(path)])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[:2] == [
        "book.xlsx (sheet 'Activities') was rejected: 1 issue found; nothing was imported",
        "  book.xlsx (sheet 'Activities'), row 3, column 'unit': unknown unit (value: 'kWhh'). "
        "Fix: write a unit such as kWh, MWh, L, m3, Nm3, t, kg, tkm, pkm, room_night, CNY or "
        "万元 (`esgledger units` lists them all)",
    ]


def test_two_fitting_sheets_ask_for_sheet(ws_root: Path, tmp_path: Path) -> None:
    path = _book(
        tmp_path / "book.xlsx",
        # Other months on the second sheet: the same rows again would be exact duplicates.
        {"Jan": [HEADER, *_rows("J")], "Feb": [HEADER, *_rows("F", months=(3, 4))]},
    )
    result = runner.invoke(app, ["import", str(ws_root), "--kind", "activities", str(path)])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "book.xlsx was rejected: the header of more than one sheet fits this kind of file "
        "('Jan', 'Feb')"
    )
    assert "name the sheet to import with --sheet NAME" in result.stderr

    jan = runner.invoke(
        app, ["import", str(ws_root), "--kind", "activities", str(path), "--sheet", "Jan"]
    )
    assert jan.exit_code == 0, jan.output
    assert "from book.xlsx (sheet 'Jan') as batch" in jan.stdout
    # The other sheet of the same bytes is another import, not a re-import.
    feb = runner.invoke(
        app, ["import", str(ws_root), "--kind", "activities", str(path), "--sheet", "Feb"]
    )
    assert feb.exit_code == 0, feb.output
    assert "from book.xlsx (sheet 'Feb') as batch" in feb.stdout
    again = runner.invoke(
        app, ["import", str(ws_root), "--kind", "activities", str(path), "--sheet", "Feb"]
    )
    assert "was already imported" in again.stdout


def test_a_sheet_that_does_not_exist_is_refused(ws_root: Path, tmp_path: Path) -> None:
    path = _book(tmp_path / "book.xlsx", {"Activities": [HEADER, *_rows("E")]})
    result = runner.invoke(
        app, ["import", str(ws_root), "--kind", "activities", str(path), "--sheet", "Data"]
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "book.xlsx was rejected: the workbook has no sheet 'Data'; its sheets are 'Activities'"
    )


def test_no_fitting_sheet_names_the_closest(ws_root: Path, tmp_path: Path) -> None:
    wrong = [["record_id", "entity", "site", "period_start", "period_end", "activity", "qty"]]
    path = _book(tmp_path / "book.xlsx", {"说明": README, "Data": wrong})
    result = runner.invoke(app, ["import", str(ws_root), "--kind", "activities", str(path)])
    assert result.exit_code == 2
    first, *issues = result.stderr.splitlines()
    assert first == (
        "book.xlsx (sheet 'Data') was rejected: its header is not right (no sheet of the "
        "workbook has the header of this kind of file (sheets: '说明', 'Data'); sheet 'Data' "
        "comes closest: fix its header, or choose the sheet with --sheet)"
    )
    assert issues[0].startswith("  book.xlsx (sheet 'Data'), row 1, column 'qty': unknown column")


def test_sheet_is_refused_for_a_csv_file(ws_root: Path, tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(",".join(HEADER) + "\n", encoding="utf-8")
    result = runner.invoke(
        app, ["import", str(ws_root), "--kind", "activities", str(path), "--sheet", "X"]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("a.csv was rejected: --sheet applies to XLSX workbooks only")
