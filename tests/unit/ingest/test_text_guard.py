"""Issue 11, defect 8: NUL bytes, control and invisible characters, Unicode NFC — the same
result on SQLite and PostgreSQL (which cannot store NUL and used to crash on it)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from _inventory_support import entity, write_csv
from esgledger.errors import InputError
from esgledger.ingest.importers import import_file
from esgledger.ingest.readers import RawTable
from esgledger.ingest.values_guard import (
    guard_text,
    is_code_column,
    is_invisible,
    text_problem,
)
from esgledger.store import Workspace
from esgledger.store.repository import load_batches, load_entities

DECOMPOSED = "Cafe\u0301 Ltd"  # e + COMBINING ACUTE ACCENT
COMPOSED = unicodedata.normalize("NFC", DECOMPOSED)


@pytest.mark.parametrize(
    "char",
    ["\x00", "\t", "\x1b", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad",
     "\u202a", "\u202e", "\u2066", "\u2069", "\u2028", "\u2029", "\ue000", "\u3164", "\u115f",
     "\u2800", "\u034f", "\ufe0f"],
)  # fmt: skip
def test_control_and_invisible_characters_are_refused_in_codes(char: str) -> None:
    assert is_invisible(char)
    assert text_problem(f"DC{char}TJ", code=True) is not None


@pytest.mark.parametrize("text", ["DC-TJ", "数据中心", "Zürich", "R-410A", "万元"])
def test_ordinary_codes_pass(text: str) -> None:
    assert text_problem(text, code=True) is None


def test_free_text_refuses_only_nul() -> None:
    assert text_problem("a\u200db\tc\nd", code=False) is None
    assert text_problem("a\x00b", code=False) == "the text contains a NUL character (U+0000)"
    assert not is_code_column("notes")
    assert is_code_column("entity")
    assert is_code_column("supplier")


def _raw(table: pa.Table) -> RawTable:
    return RawTable("f.csv", Path("f.csv"), "csv", "utf-8", table, 2)


def test_guard_text_normalises_to_nfc_and_keeps_other_columns() -> None:
    table = pa.table({"name": [DECOMPOSED, None, "plain"], "n": [1, 2, 3]})
    guarded = guard_text(_raw(table)).table
    assert guarded.column("name").to_pylist() == [COMPOSED, None, "plain"]
    assert guarded.column("n").to_pylist() == [1, 2, 3]


def test_guard_text_names_row_column_and_character() -> None:
    table = pa.table(
        {"entity": ["A", "B\u200b", "C"], "notes": ["ok", "zero\u200bwidth is fine", "x\x00"]}
    )
    with pytest.raises(InputError) as caught:
        guard_text(_raw(table))
    issues = [(i.row, i.column, i.value) for i in caught.value.issues]
    assert issues == [(3, "entity", "B\u200b"), (4, "notes", "x\x00")]


def _entities(tmp_path: Path, name: str, code: str = "E1") -> Path:
    """An entities file as Parquet: a CSV with a NUL byte is refused by the reader as binary
    before any rule runs; Parquet strings carry NUL to the text guard."""
    rows = [entity("GRP"), entity(code, parent="GRP", name=name)]
    path = tmp_path / "entities.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def test_text_is_stored_in_nfc_on_both_backends(workspace: Workspace, tmp_path: Path) -> None:
    import_file(workspace, "entities", _entities(tmp_path, DECOMPOSED))
    with workspace.session() as session:
        names = {e["code"]: e["name"] for e in load_entities(session)}
    assert names["E1"] == COMPOSED


@pytest.mark.parametrize(
    ("name", "code", "column"),
    [("Bad\x00Name", "E1", "name"), ("Name", "E\u200b1", "entity")],
)
def test_nul_and_invisible_characters_are_refused_on_both_backends(
    workspace: Workspace, tmp_path: Path, name: str, code: str, column: str
) -> None:
    with pytest.raises(InputError) as caught:
        import_file(workspace, "entities", _entities(tmp_path, name, code))
    assert [(i.row, i.column) for i in caught.value.issues] == [(2, column)]
    with workspace.session() as session:
        assert load_entities(session) == []
        assert load_batches(session) == []


def test_parquet_activities_are_checked_in_duckdb(workspace: Workspace, tmp_path: Path) -> None:
    import_file(workspace, "entities", write_csv(tmp_path / "e.csv", [entity("GRP")]))
    base = {
        "entity": "GRP",
        "period_start": "2024-01-01",
        "period_end": "2024-01-31",
        "activity": "electricity",
        "quantity": 5.0,
        "unit": "MWh",
    }
    rows = [
        {**base, "record_id": "R1", "notes": DECOMPOSED},
        {**base, "record_id": "R\u200b2", "notes": "x"},
        {**base, "record_id": "R3", "notes": "a\x00b"},
    ]
    path = tmp_path / "a.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    with pytest.raises(InputError) as caught:
        import_file(workspace, "activities", path)
    found = [(i.row, i.column, i.value) for i in caught.value.issues]
    assert found == [(2, "record_id", "R\u200b2"), (3, "notes", "a\x00b")]
    pq.write_table(pa.Table.from_pylist(rows[:1]), path)
    import_file(workspace, "activities", path)
    stored = pq.read_table(next((workspace.lake / "activities").iterdir()))
    assert stored.column("notes").to_pylist() == [COMPOSED]
