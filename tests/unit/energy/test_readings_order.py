"""How the readings import reads a written lake file's keys back (``_order``, ``_steps``):
sorted and every key once, a key right after itself, or out of order — within a row group,
across row groups, and with meters that are several dictionary entries of one text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from esgledger.energy.readings import _order, _source_order, _steps


def _lake_file(folder: Path, keys: list[tuple[str, int]], *, group: int) -> Path:
    table = pa.table(
        {
            "meter": pa.array([k[0] for k in keys], pa.string()),
            "ts_utc": pa.array([k[1] for k in keys], pa.int64()).cast(pa.timestamp("us")),
            "value": [1.0] * len(keys),
        }
    )
    path = folder / "lake.parquet"
    pq.write_table(table, path, row_group_size=group)
    return path


SORTED = [("A", 1), ("A", 2), ("A", 3), ("B", 1), ("B", 5), ("BA", 0), ("b", 0), ("中", 0)]


CASES = [
    (SORTED, "increasing"),
    ([*SORTED[:4], ("B", 1), *SORTED[4:]], "repeated"),  # again at once
    ([*SORTED[:3], ("A", 3), *SORTED[3:]], "repeated"),
    ([*SORTED[:2], ("A", 1), *SORTED[2:]], "unordered"),  # an instant back
    ([*SORTED[:5], ("A", 9), *SORTED[5:]], "unordered"),  # a meter back
    ([("中", 0), ("b", 0)], "unordered"),  # UTF-8 bytes: "中" after "b"
    ([("A", 1)], "increasing"),
]


@pytest.mark.parametrize("group", [1, 3, 100])
@pytest.mark.parametrize(("keys", "expected"), CASES)
def test_the_order_of_the_keys_is_read_back(
    tmp_path: Path, keys: list[tuple[str, int]], expected: str, group: int
) -> None:
    assert _order(_lake_file(tmp_path, keys, group=group)) == expected


@pytest.mark.parametrize(("keys", "expected"), CASES)
def test_one_text_under_several_dictionary_indices_is_one_meter(
    keys: list[tuple[str, int]], expected: str
) -> None:
    texts = sorted({k[0] for k in keys})
    entries = [t for t in texts for _ in range(2)]  # every text twice in the dictionary
    codes = [2 * texts.index(k[0]) + i % 2 for i, k in enumerate(keys)]
    meters = pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(entries))
    found, last = _steps(meters, np.array([k[1] for k in keys], dtype=np.int64), None)
    assert (found or "increasing") == expected
    assert last == keys[-1]


def test_the_hint_samples_row_groups_spread_over_the_file(tmp_path: Path) -> None:
    # one meter per row group: sorted, then the same meters grouped out of their text order
    keys = [(m, t) for m in ("A", "B", "C", "D", "E", "F", "G", "H") for t in range(3)]
    path = _lake_file(tmp_path, keys, group=3)
    assert _source_order(path, ("meter", "ts_utc")) == "increasing"
    swapped = keys[21:] + keys[:21]  # "H" first: grouped by meter, not in text order
    path = _lake_file(tmp_path, swapped, group=3)
    assert _source_order(path, ("meter", "ts_utc")) == "unordered"
    # only a hint: the first rows of the sampled groups (0, 2, 4, 6, 7), not every row
    late = [*keys[:17], ("F", 1), *keys[18:]]  # "F" (row group 5, not sampled) twice at 1
    assert _source_order(_lake_file(tmp_path, late, group=3), ("meter", "ts_utc")) == "increasing"
    assert _order(_lake_file(tmp_path, late, group=3)) == "repeated"
