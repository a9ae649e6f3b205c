"""Every CSV and XLSX esgledger writes is safe to open (issue 11 §14): the payloads of the
issue go through each writer and are read back — with the csv module and openpyxl — as text
that no spreadsheet runs: no formula cell, no text cell starting with ``= + - @``, tab or
carriage return; numbers stay numbers.

Writers: report table exports (CSV, XLSX), ``import --report`` problem files,
``inventory --format csv``, ``green cfe --out FILE.csv`` and the XLSX templates.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from _inventory_support import activity, entity, new_workspace
from esgledger.cli import app
from esgledger.cli._commands_inventory import _write_csv_batches
from esgledger.errors import Issue, issues_to_csv
from esgledger.report.document import (
    Column,
    DataTable,
    MetricRow,
    MetricTable,
    ReportDocument,
    Section,
    Text,
)
from esgledger.report.render import write_report
from esgledger.safe_output import is_formula_like
from esgledger.store import Workspace

runner = CliRunner()

PAYLOADS = [
    "=1+1",
    "+1",
    "-1+1",
    "@SUM(1)",
    "\t=1",
    "\r=1",
    '=HYPERLINK("http://x","y")',
    "=cmd|' /C calc'!A0",
]
#: The payloads a code (entity, site, record id) can hold: codes refuse blanks and control
#: characters at import, so those payloads reach the writers only as free text.
CODES = [p for p in PAYLOADS if p.isprintable() and " " not in p]


def _read(path: Path) -> str:
    """The file's text as written (no newline translation: a CR inside a cell stays)."""
    return path.read_bytes().decode("utf-8").removeprefix("\ufeff")


def _csv_cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def assert_safe_csv(text: str, numeric: set[str] = frozenset()) -> list[list[str]]:  # type: ignore[assignment]
    """No text cell of the CSV starts with a trigger; columns named in ``numeric`` may
    (a negative number)."""
    rows = _csv_cells(text)
    header = rows[0]
    for row in rows:
        for name, cell in zip(header, row, strict=True):
            if name in numeric and row is not header:
                continue
            assert not is_formula_like(cell), f"column {name!r}: {cell!r}"
    return rows


def assert_safe_xlsx(path: Path) -> Iterator[object]:
    """No formula cell and no text cell starting with a trigger in any sheet of ``path``;
    yields every cell value."""
    book = load_workbook(path)
    values = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate}: {cell.value!r}"
                if isinstance(cell.value, str):
                    assert not is_formula_like(cell.value), (
                        f"{sheet.title}!{cell.coordinate}: {cell.value!r}"
                    )
                values.append(cell.value)
    return iter(values)


# ---- report exports ----------------------------------------------------------------------


def _doc(payload: str) -> ReportDocument:
    data = DataTable(
        "payloads",
        Text("Payloads", "载荷"),
        (
            Column("entity", Text("Entity", "主体")),
            Column("delta", Text("Change", "变化"), "t", 0),
        ),
        ((payload, -5.0), (Text(payload, payload), 12.0)),
    )
    metrics = MetricTable(
        "metrics",
        Text("Metrics", "指标"),
        (MetricRow(payload, Text(payload, payload), -3.0, unit="t", source=Text(payload)),),
    )
    return ReportDocument(
        title=Text("2024 ESG Report", "2024年报告"),
        company=Text(payload, payload),
        reporting_year=2024,
        generated_at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
        sections=(Section("s", Text("S", "节"), blocks=(data, metrics)),),
    )


@pytest.mark.parametrize("payload", PAYLOADS)
def test_report_exports_neutralise_text_and_keep_numbers(payload: str, tmp_path: Path) -> None:
    write_report(_doc(payload), tmp_path, langs=("en",), formats=())
    rows = assert_safe_csv(
        (tmp_path / "payloads.en.csv").read_bytes().decode("utf-8-sig"), numeric={"Change (t)"}
    )
    assert rows[1] == ["'" + payload, "-5"]
    metric_rows = _csv_cells((tmp_path / "metrics.en.csv").read_bytes().decode("utf-8-sig"))
    assert metric_rows[1][0] == "'" + payload
    assert metric_rows[1][2] == "-3"
    values = list(assert_safe_xlsx(tmp_path / "payloads.en.xlsx"))
    assert -5 in values  # a number cell, not text
    assert "'" + payload.replace("\r", "\n") in values
    assert_safe_xlsx(tmp_path / "metrics.en.xlsx")


# ---- import --report ---------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_issue_reports_neutralise_echoed_values(payload: str) -> None:
    text = issues_to_csv([Issue("a.csv", 2, "entity", payload, "unknown entity", "import it")])
    rows = assert_safe_csv(text, numeric={"row"})
    # The report file keeps tabs and line breaks (it is a table, not a terminal line); the
    # formula guard applies to the value as written.
    assert rows[1][3] == "'" + payload


@pytest.mark.parametrize("payload", CODES)
def test_import_report_of_a_rejected_file_is_safe(
    payload: str, sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    source = tmp_path / "activities.csv"
    buffer = io.StringIO()
    csv.writer(buffer).writerows(
        [
            ["record_id", "entity", "period_start", "period_end", "activity", "quantity", "unit"],
            [payload, payload, "2024-01-01", "2024-12-31", "electricity", "1", "MWh"],
        ]
    )
    source.write_text(buffer.getvalue(), encoding="utf-8")
    report = tmp_path / "problems.csv"
    args = ["import", str(sqlite_workspace.root), str(source), "--kind", "activities"]
    result = runner.invoke(app, [*args, "--report", str(report)])
    assert result.exit_code == 2, result.output
    rows = assert_safe_csv(report.read_bytes().decode("utf-8-sig"), numeric={"row"})
    assert "'" + payload in [row[3] for row in rows[1:]]


# ---- inventory --format csv --------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_line_item_csv_batches_are_neutralised(payload: str, tmp_path: Path) -> None:
    source = tmp_path / "items.parquet"
    pq.write_table(
        pa.table({"record_id": [payload, "R2"], "entity": ["GRP", payload], "kg": [-5.0, 1.5]}),
        source,
    )
    out = tmp_path / "items.csv"
    _write_csv_batches(pq.ParquetFile(source), out)
    rows = assert_safe_csv(_read(out), numeric={"kg"})
    assert rows[1:] == [["'" + payload, "GRP", "-5"], ["R2", "'" + payload, "1.5"]]


def test_inventory_csv_of_a_run_with_payload_record_ids(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    rows = [
        activity("electricity", 100 + n, "MWh", region="US", record_id=payload)
        for n, payload in enumerate(CODES)
    ]
    new_workspace(root, entities=[entity("GRP", country="US")], activities=rows).close()
    assert runner.invoke(app, ["calculate", str(root), "--no-category-3"]).exit_code == 0
    out = tmp_path / "items.csv"
    result = runner.invoke(app, ["inventory", str(root), "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = _read(out)
    header = _csv_cells(text)[0]
    numeric = {name for name in header if name not in ("record_id", "entity", "reason")}
    written = assert_safe_csv(text, numeric=numeric)
    ids = {row[header.index("record_id")] for row in written[1:]}
    assert ids == {"'" + payload for payload in CODES}
    for row in written[1:]:
        for name, cell in zip(header, row, strict=True):
            assert not cell.startswith(("=", "@", "+")) or name not in numeric, (name, cell)


# ---- green cfe --out ---------------------------------------------------------------------


def test_green_cfe_table_is_safe(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    root = sqlite_workspace.root
    site_id = '=HYPERLINK("http://x","y")'
    files = {
        "entities": "entity,name,parent,ownership_pct,operational_control,financial_control,"
        "country\nGRP,Group,,100,true,true,CN\n",
        "sites": f'site,entity,name,country,region,type\n"{site_id.replace(chr(34), 2 * chr(34))}",'
        "GRP,DC,CN,CN-JS,data_centre\n",
    }
    for kind, text in files.items():
        path = tmp_path / f"{kind}.csv"
        path.write_text(text, "utf-8")
        result = runner.invoke(app, ["import", str(root), str(path), "--kind", kind])
        assert result.exit_code == 0, result.output
    hours = [dt.datetime(2024, 6, 1) + dt.timedelta(hours=h) for h in range(24)]
    load, supply = tmp_path / "load.parquet", tmp_path / "supply.parquet"
    pq.write_table(pa.table({"site": [site_id] * 24, "hour": hours, "load_mwh": [1.0] * 24}), load)
    pq.write_table(
        pa.table({"site": [site_id] * 24, "hour": hours, "clean_mwh": [0.5] * 24}), supply
    )
    out = tmp_path / "cfe.csv"
    args = ["green", "cfe", str(root), "--load", str(load), "--supply", str(supply)]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = assert_safe_csv(_read(out), numeric=set(_csv_cells(_read(out))[0][1:]))
    assert rows[1][0] == "'" + site_id


# ---- templates ---------------------------------------------------------------------------


def test_template_lists_hold_back_formula_codes(
    sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    root = sqlite_workspace.root
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["entity", "name", "parent", "ownership_pct", "operational_control",
         "financial_control", "country"]
    )  # fmt: skip
    writer.writerow(["GRP", "Group", "", 100, "true", "true", "CN"])
    for payload in CODES:
        writer.writerow([payload, payload, "GRP", 100, "true", "true", "CN"])
    entities = tmp_path / "entities.csv"
    entities.write_text(buffer.getvalue(), "utf-8")
    result = runner.invoke(app, ["import", str(root), str(entities), "--kind", "entities"])
    assert result.exit_code == 0, result.output
    for lang in ("en", "zh-CN"):
        out = tmp_path / f"activities.{lang}.xlsx"
        args = ["template", "activities", str(root), "--lang", lang, "--out", str(out)]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        values = [v for v in assert_safe_xlsx(out) if isinstance(v, str)]
        book = load_workbook(out)
        data = book.worksheets[0]
        entity_list = next(
            v for v in data.data_validations.dataValidation if str(v.sqref).startswith("B")
        )
        # The payload codes are not offered (Excel would enter them as formulas), GRP is,
        # and the list only warns so a held-back code can still be typed.
        assert entity_list.formula1 == '"GRP"'
        assert entity_list.errorStyle == "warning"
        assert any("'-ACME" in v and str(len(CODES)) in v for v in values)


def test_metric_values_template_shows_payload_titles_as_text(
    sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    """Company metric titles and notes (free text) reach the template's metrics sheet."""
    root = sqlite_workspace.root
    printable = [p for p in PAYLOADS if p.isprintable()]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["code", "title_en", "title_zh", "type", "notes"])
    for number, payload in enumerate(printable):
        writer.writerow([f"CO.payload{number}", payload, payload + "指标", "text", payload])
    metrics = tmp_path / "metrics.csv"
    metrics.write_text(buffer.getvalue(), "utf-8")
    result = runner.invoke(app, ["import", str(root), str(metrics), "--kind", "metrics"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "metric-values.xlsx"
    args = ["template", "metric-values", str(root), "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    values = set(assert_safe_xlsx(out))
    assert {"'" + payload for payload in printable} <= values
