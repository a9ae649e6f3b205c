"""The one guard against formula injection (issue 11 §14): text a spreadsheet would read as a
formula is neutralised, numbers are not, XLSX text is a string cell."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pyarrow as pa
import pytest
from openpyxl import Workbook, load_workbook

from esgledger.safe_output import (
    TRIGGERS,
    csv_line,
    is_formula_like,
    neutralise,
    neutralise_arrow,
    set_xlsx_cell,
    write_csv_rows,
    xlsx_value,
)

#: The payloads of issue 11 §14 (OWASP CSV injection examples).
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
FULL_WIDTH = ["＝1+1", "＋1", "－1", "＠SUM(1)"]


@pytest.mark.parametrize("payload", PAYLOADS + FULL_WIDTH)
def test_a_formula_payload_gets_a_quote_before_it(payload: str) -> None:
    assert is_formula_like(payload)
    assert neutralise(payload) == "'" + payload
    assert not is_formula_like(neutralise(payload))


def test_ordinary_text_and_numbers_are_left_alone() -> None:
    for value in ("CLOUD", "数据中心", "'quoted", " =1", "", "1-1"):
        assert neutralise(value) == value
    for number in (-5, -1.5, Decimal("-2.50"), 0, None, True):
        assert neutralise(number) is number
    assert neutralise("-5") == "'-5"  # the string in a text column, not the number


def test_the_triggers_are_the_owasp_and_asvs_ones_and_their_full_width_forms() -> None:
    assert set("=+-@\t\r\x00") <= TRIGGERS
    assert set("＝＋－＠") <= TRIGGERS


@pytest.mark.parametrize("payload", PAYLOADS)
def test_csv_fields_are_neutralised_quoted_and_read_back_as_text(payload: str) -> None:
    buffer = io.StringIO()
    write_csv_rows(buffer, [["name", "amount"], [payload, -5], ["plain", Decimal("-1.25")]])
    text = buffer.getvalue()
    assert text.splitlines()[1].startswith("\"'")  # the neutralised field is quoted
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[1] == ["'" + payload, "-5"]
    assert rows[2] == ["plain", "-1.25"]


def test_csv_lines_quote_like_the_csv_module_otherwise() -> None:
    row = ["a,b", 'say "hi"', "two\nlines", None, 3, 2.5, ""]
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\n").writerow(["" if v is None else v for v in row])
    assert csv_line(row) == expected.getvalue()
    assert csv_line([""]) == '""\n'


@pytest.mark.parametrize("payload", PAYLOADS)
def test_arrow_string_columns_are_neutralised_numbers_kept(payload: str) -> None:
    table = pa.table(
        {
            "record_id": [payload, "R2", None],
            "site": pa.array([payload, "DC", "DC"]).dictionary_encode(),
            "quantity": [-5.0, 1.0, 2.0],
        }
    )
    result = neutralise_arrow(table)
    assert result.column("record_id").to_pylist() == ["'" + payload, "R2", None]
    assert result.column("site").to_pylist() == ["'" + payload, "DC", "DC"]
    assert result.column("quantity").to_pylist() == [-5.0, 1.0, 2.0]
    batch = neutralise_arrow(table.to_batches()[0])
    assert isinstance(batch, pa.RecordBatch)
    assert batch.column(0).to_pylist()[0] == "'" + payload


def test_arrow_data_without_payloads_is_returned_as_it_is() -> None:
    table = pa.table({"a": ["x", "y"], "n": [-1, 2]})
    assert neutralise_arrow(table) is table


@pytest.mark.parametrize("payload", PAYLOADS)
def test_xlsx_text_is_a_string_cell_never_a_formula(payload: str) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    set_xlsx_cell(sheet, 1, 1, payload)
    set_xlsx_cell(sheet, 1, 2, -5)
    buffer = io.BytesIO()
    book.save(buffer)
    read = load_workbook(io.BytesIO(buffer.getvalue())).active
    assert read is not None
    text, number = read.cell(1, 1), read.cell(1, 2)
    assert text.data_type == "s"
    # XML reads a carriage return back as a line feed (its line-end normalisation).
    assert text.value == "'" + payload.replace("\r", "\n")
    assert number.value == -5
    assert number.data_type == "n"


def test_xlsx_text_loses_only_the_characters_xml_cannot_hold() -> None:
    assert xlsx_value("a\x00b\x1fc\td") == "a\\x00b\\x1fc\td"
    assert xlsx_value("\x00=1") == "'\\x00=1"
    assert xlsx_value(-3) == -3


def test_credentials_in_urls_are_masked_in_any_text() -> None:
    from esgledger.cli._app import error_line
    from esgledger.safe_output import mask_credentials

    line = "cannot reach postgresql+psycopg://esg:pa55w0rd@db:5432/esg or mysql://x:@y/z"
    assert mask_credentials(line) == (
        "cannot reach postgresql+psycopg://esg:***@db:5432/esg or mysql://x:***@y/z"
    )
    assert mask_credentials("postgresql://esg@db/esg") == "postgresql://esg@db/esg"
    shown = error_line(RuntimeError("lost postgresql+psycopg://esg:pa55w0rd@db/esg"))
    assert "pa55w0rd" not in shown
    assert "esg:***@db" in shown
