"""Shared helpers for factor tables: the column schema and reading/writing shipped sets."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

__all__ = [
    "FACTOR_COLUMNS",
    "factor_schema",
    "read_shipped_set",
    "shipped_set_ids",
    "shipped_set_meta",
    "tidy_table",
    "write_set",
]

_ARROW_TYPES = {"string": pa.string(), "integer": pa.int64(), "float": pa.float64()}


@cache
def _columns() -> tuple[tuple[str, str], ...]:
    text = resources.files("esgledger.schema").joinpath("factor_columns.csv").read_text("utf-8")
    return tuple((row["column"], row["type"]) for row in csv.DictReader(text.splitlines()))


FACTOR_COLUMNS: tuple[str, ...] = tuple(name for name, _ in _columns())


def factor_schema() -> pa.Schema:
    """The Arrow schema of a tidy factor table, from ``factor_columns.csv``."""
    return pa.schema([(name, _ARROW_TYPES[kind]) for name, kind in _columns()])


def tidy_table(rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Build a tidy factor table from dicts; missing columns are null, unknown ones an error."""
    rows = list(rows)
    known = set(FACTOR_COLUMNS)
    for row in rows:
        extra = set(row) - known
        if extra:
            raise KeyError(f"not factor columns: {sorted(extra)}")
    columns = {name: [row.get(name) for row in rows] for name in FACTOR_COLUMNS}
    return pa.table(columns, schema=factor_schema())


def write_set(table: pa.Table, meta: Mapping[str, Any], out_dir: Path) -> Path:
    """Write a shipped set as ``<id>.csv`` plus ``<id>.meta.json`` (source, edition, licence,
    attribution, sha256 of the official file, row count)."""
    set_id = str(meta["id"])
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{set_id}.csv"
    table = table.select(list(FACTOR_COLUMNS)).cast(factor_schema())
    pacsv.write_csv(table, path)
    meta = {**meta, "rows": table.num_rows}
    (out_dir / f"{set_id}.meta.json").write_text(
        json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return path


def shipped_set_ids() -> list[str]:
    folder = resources.files("esgledger.data.factors")
    return sorted(
        entry.name.removesuffix(".meta.json")
        for entry in folder.iterdir()
        if entry.name.endswith(".meta.json")
    )


def shipped_set_meta(set_id: str) -> dict[str, Any]:
    folder = resources.files("esgledger.data.factors")
    data: dict[str, Any] = json.loads(folder.joinpath(f"{set_id}.meta.json").read_text("utf-8"))
    return data


def read_shipped_set(set_id: str) -> pa.Table:
    """Read one shipped set with the tidy schema (types enforced, not guessed)."""
    folder = resources.files("esgledger.data.factors")
    with resources.as_file(folder.joinpath(f"{set_id}.csv")) as path:
        return pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                column_types=factor_schema(),
                strings_can_be_null=True,
                null_values=[""],  # "NA" is Namibia, not a missing value
            ),
        )
