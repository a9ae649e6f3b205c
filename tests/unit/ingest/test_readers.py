"""The readers: guarded XLSX streaming, limits, encodings and damaged files (issue 11).

The XLSX bombs themselves run in the hostile corpus (``tests/hostile/cases_readers.py``), in
a subprocess with an address-space limit; here are the rules that need no such protection.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pytest

from esgledger.errors import InputError
from esgledger.ingest.limits import LIMITS, limit
from esgledger.ingest.readers import read_table

COLUMNS = {"record_id": ["编号"], "quantity": ["数量"], "unit": [], "period_start": []}
REQUIRED = ["record_id", "quantity"]


def _book(path: Path, rows: list[list[object]], title: str = "Data") -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _rewrite_sheet(path: Path, old: bytes, new: bytes) -> None:
    """Replace ``old`` by ``new`` in the XML of the first sheet (``old`` must be there)."""
    source = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    with zipfile.ZipFile(path, "w") as out:
        for info in source.infolist():
            part = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                assert re.search(old, part), part[:300]
                part = re.sub(old, new, part)
            out.writestr(info, part)


def _read(path: Path) -> list[dict[str, object]]:
    return read_table(path, columns=COLUMNS, required=REQUIRED).table.to_pylist()


def test_xlsx_cells_come_back_as_text_with_empty_rows_kept(tmp_path: Path) -> None:
    path = _book(
        tmp_path / "a.xlsx",
        [
            ["record_id", "数量", "unit", "period_start"],
            ["R1", 2.5, "kWh", dt.datetime(2024, 3, 1)],
            [None, None, None, None],
            ["R3", 1e20, True, dt.datetime(2024, 3, 1, 12, 30)],
            [None, None, None, None],
        ],
    )
    raw = read_table(path, columns=COLUMNS, required=REQUIRED)
    assert raw.file == "a.xlsx (sheet 'Data')"
    assert raw.table.to_pylist() == [
        {"record_id": "R1", "quantity": "2.5", "unit": "kWh", "period_start": "2024-03-01"},
        {"record_id": None, "quantity": None, "unit": None, "period_start": None},
        {"record_id": "R3", "quantity": "1e+20", "unit": "true",
         "period_start": "2024-03-01T12:30:00"},
    ]  # fmt: skip


def test_a_formula_without_a_saved_value_is_named(tmp_path: Path) -> None:
    path = _book(
        tmp_path / "f.xlsx",
        [["record_id", "quantity"], ["R1", 1], ["R2", 2], ["R3", "=B2+B3"]],
    )
    with pytest.raises(InputError) as info:
        _read(path)
    assert info.value.summary == (
        "f.xlsx (sheet 'Data') was rejected: cell B4 holds a formula without a saved value"
    )
    (issue,) = info.value.issues
    assert (issue.row, issue.column, issue.fix) == (
        4,
        "B",
        "open and save the file in Excel, or paste the values",
    )


def test_a_formula_with_its_saved_value_is_read(tmp_path: Path) -> None:
    path = _book(tmp_path / "v.xlsx", [["record_id", "quantity"], ["R1", "=1+1"]])
    _rewrite_sheet(path, rb"<f>1\+1</f><v ?/>", b"<f>1+1</f><v>2</v>")
    assert _read(path) == [{"record_id": "R1", "quantity": "2"}]


def test_the_row_limit_names_the_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESGLEDGER_MAX_XLSX_ROWS", "3")
    path = _book(tmp_path / "r.xlsx", [["record_id", "quantity"]] + [["R", 1]] * 3)
    with pytest.raises(InputError) as info:
        _read(path)
    assert info.value.summary == (
        "r.xlsx (sheet 'Data') was rejected: "
        "the sheet declares 4 rows (A1:B4; limit 3, ESGLEDGER_MAX_XLSX_ROWS)"
    )
    _rewrite_sheet(path, rb"<dimension [^>]*>", b"")  # the cells are checked too
    with pytest.raises(InputError) as info:
        _read(path)
    assert "the sheet goes on past row 3 (row 4; limit 3," in info.value.summary
    assert info.value.issues[0].row == 4


def test_a_value_past_the_columns_read_is_refused_an_empty_cell_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ESGLEDGER_MAX_EXTRA_COLUMNS", "2")
    wide = tmp_path / "w.xlsx"
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.append(["record_id", "quantity"])
    sheet.append(["R1", 1])
    sheet.cell(2, 30).font = Font(bold=True)  # formatted, empty: skipped
    book.save(wide)
    with pytest.raises(InputError) as info:  # the declared dimension reaches AD
        _read(wide)
    assert "the sheet declares cells up to column AD (A1:AD2), past column F" in str(info.value)
    _rewrite_sheet(wide, rb"<dimension [^>]*>", b"")
    assert _read(wide) == [{"record_id": "R1", "quantity": "1"}]
    sheet.cell(2, 7, "x")  # G2: past the 4 + 2 columns read
    book.save(wide)
    _rewrite_sheet(wide, rb"<dimension [^>]*>", b"")
    with pytest.raises(InputError) as info:
        _read(wide)
    assert "cell G2 is past column F, the last one read" in info.value.summary
    assert (info.value.issues[0].row, info.value.issues[0].column) == (2, "G")


def test_a_limit_set_to_nonsense_keeps_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESGLEDGER_MAX_XLSX_ROWS", "-5")
    assert limit("xlsx_rows") == LIMITS["xlsx_rows"].default
    monkeypatch.setenv("ESGLEDGER_MAX_XLSX_ROWS", "1_000")
    assert limit("xlsx_rows") == 1000


# ---- CSV: encodings, binary files, streaming ----------------------------------------------

CSV_TEXT = "record_id,数量,unit\nR1,2.5,kWh\nR2,,度\n"
CSV_ROWS = [
    {"record_id": "R1", "quantity": "2.5", "unit": "kWh"},
    {"record_id": "R2", "quantity": None, "unit": "度"},
]


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16", "utf-16-le", "utf-16-be", "utf-32"]
)
def test_csv_in_every_encoding_reads_the_same(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "e.csv"
    path.write_bytes(CSV_TEXT.encode(encoding))
    raw = read_table(path, columns=COLUMNS, required=REQUIRED)
    assert raw.table.to_pylist() == CSV_ROWS
    assert raw.encoding == {"utf-8-sig": "utf-8", "utf-16-le": "utf-16-le"}.get(encoding, encoding)


def test_the_first_byte_that_is_not_utf8_is_named_across_pieces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from esgledger.ingest import _text

    monkeypatch.setattr(_text, "_CHUNK", 7)  # the bad byte lands after a split character
    path = tmp_path / "bad.csv"
    data = "record_id,quantity\n中中,1\n".encode() + b"R\x80\xff,2\n"
    path.write_bytes(data)
    with pytest.raises(InputError) as info:
        _read(path)
    assert info.value.summary == (
        f"bad.csv was rejected: not UTF-8 or GB18030 text, at byte {data.index(0x80) + 1}"
    )


def test_a_row_with_too_few_fields_is_named(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_text("record_id,quantity\nR1,1\nR2,2\nR3\nR4,4\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        _read(path)
    (issue,) = info.value.issues
    assert (issue.row, issue.problem) == (4, "the row has 1 field, the header 2")


def test_staged_csv_and_xlsx_hold_what_read_table_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow.parquet as pq

    from esgledger.ingest import _xlsx

    # small batches and blocks, so that rows cross their edges
    monkeypatch.setattr(_xlsx, "BATCH_ROWS", 700)
    monkeypatch.setenv("ESGLEDGER_MAX_CSV_LINE_BYTES", "4096")
    from esgledger.ingest.readers import stage_table

    csv_path = tmp_path / "s.csv"
    csv_path.write_text(
        "record_id,quantity\n" + "".join(f"R{i},{i}\n" for i in range(5000)), encoding="utf-8"
    )
    rows = [["record_id", "quantity"]] + [[f"R{i}", i] for i in range(5000)]
    rows[3000] = [None, None]  # an empty row inside the table stays a row
    xlsx_path = _book(tmp_path / "s.xlsx", rows)
    for path in (csv_path, xlsx_path):
        folder = tmp_path / f"stage-{path.suffix[1:]}"
        folder.mkdir()
        staged = stage_table(path, folder, columns=COLUMNS, required=REQUIRED)
        assert staged.num_rows == 5000
        assert staged.columns == ("record_id", "quantity")
        staged_rows = pq.read_table(staged.parquet).to_pylist()
        assert staged_rows == _read(path)
        empty = {"record_id": None, "quantity": None}
        middle = empty if path == xlsx_path else {"record_id": "R2999", "quantity": "2999"}
        assert staged_rows[2998:3001] == [
            {"record_id": "R2998", "quantity": "2998"},
            middle,
            {"record_id": "R3000", "quantity": "3000"},
        ]
        assert pq.ParquetFile(staged.parquet).metadata.num_row_groups > 1
