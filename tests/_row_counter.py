"""Count the rows that cross from DuckDB (and Parquet readers) into Python.

:func:`count_rows` replaces ``duckdb.connect`` with a wrapper whose connections and relations
count every row they hand to Python (``fetchall``, ``fetchone``, ``fetchmany``, ``df``,
``arrow``, ``to_arrow_table``, ...), and ``pyarrow.parquet.read_table`` / ``ParquetFile`` with
wrappers that count the rows they read. The memory tests compare the count on a workspace of
N line items with one of 4N: a command that fetches only aggregates fetches the same number
of rows at both sizes (docs/hardening/memory.md). No timings, no memory readings.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

#: Methods that hand rows to Python, on connections and relations.
_FETCHES = frozenset(
    {
        "fetchall",
        "fetchone",
        "fetchmany",
        "fetchdf",
        "fetch_df",
        "df",
        "fetchnumpy",
        "fetch_arrow_table",
        "to_arrow_table",
        "arrow",
        "pl",
        "to_df",
        "fetch_record_batch",
        "record_batch",
        "fetch_arrow_reader",
        "to_arrow_reader",
    }
)


def _rows(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, tuple):  # fetchone
        return 1
    if isinstance(value, pa.Table | pa.RecordBatch):
        return int(value.num_rows)
    if isinstance(value, dict):  # fetchnumpy
        return max((len(v) for v in value.values()), default=0)
    try:
        return len(value)
    except TypeError:
        return 0


def _unwrap(value: Any) -> Any:
    return value._target if isinstance(value, _Proxy) else value


class _CountedReader:
    """A RecordBatchReader that counts the rows of the batches read from it."""

    def __init__(self, reader: Any, counts: Counter[str], where: str) -> None:
        self._reader = reader
        self._counts = counts
        self._where = where

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        for batch in self._reader:
            self._counts[self._where] += batch.num_rows
            yield batch

    def read_all(self) -> pa.Table:
        table = self._reader.read_all()
        self._counts[self._where] += table.num_rows
        return table

    def read_next_batch(self) -> pa.RecordBatch:
        batch = self._reader.read_next_batch()
        self._counts[self._where] += batch.num_rows
        return batch

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)


class _Proxy:
    """A DuckDB connection or relation whose fetches are counted."""

    def __init__(self, target: Any, counts: Counter[str]) -> None:
        self._target = target
        self._counts = counts

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if not callable(attribute):
            return attribute
        counts = self._counts

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attribute(
                *(_unwrap(a) for a in args), **{k: _unwrap(v) for k, v in kwargs.items()}
            )
            if name in _FETCHES:
                where = f"duckdb.{name}"
                if isinstance(result, pa.RecordBatchReader):
                    return _CountedReader(result, counts, where)
                counts[where] += _rows(result)
                return result
            if isinstance(result, duckdb.DuckDBPyConnection | duckdb.DuckDBPyRelation):
                return _Proxy(result, counts)
            return result

        return call

    def __enter__(self) -> _Proxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self._target.close()

    def __iter__(self) -> Iterator[Any]:  # pragma: no cover - not used by esgledger
        raise TypeError("iterate over fetchall() instead")


@contextlib.contextmanager
def count_rows(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Count the rows handed to Python inside the block, by route (``duckdb.fetchall``,
    ``parquet.read_table`` ...)."""
    counts: Counter[str] = Counter()
    connect = duckdb.connect
    read_table = pq.read_table
    parquet_file = pq.ParquetFile

    def counted_connect(*args: Any, **kwargs: Any) -> Any:
        return _Proxy(connect(*args, **kwargs), counts)

    def counted_read_table(*args: Any, **kwargs: Any) -> pa.Table:
        table = read_table(*args, **kwargs)
        counts["parquet.read_table"] += table.num_rows
        return table

    class CountedParquetFile(parquet_file):  # type: ignore[misc, valid-type]
        def read(self, *args: Any, **kwargs: Any) -> pa.Table:
            table = super().read(*args, **kwargs)
            counts["parquet.ParquetFile.read"] += table.num_rows
            return table

        def iter_batches(self, *args: Any, **kwargs: Any) -> Iterator[pa.RecordBatch]:
            for batch in super().iter_batches(*args, **kwargs):
                counts["parquet.ParquetFile.iter_batches"] += batch.num_rows
                yield batch

    with monkeypatch.context() as patch:
        patch.setattr(duckdb, "connect", counted_connect)
        patch.setattr(pq, "read_table", counted_read_table)
        patch.setattr(pq, "ParquetFile", CountedParquetFile)
        yield counts
