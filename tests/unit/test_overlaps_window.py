"""The overlap rule's SQL (``esgledger.overlaps``) against a brute-force pairwise check.

For random rows (keys with empty values, periods of one day to a year, repeated rows) the
window with its pre-filter must flag exactly the rows that share at least one day with another
row of the same key, name such a row, and mark a row as an exact duplicate exactly when an
equal row sorts before it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from esgledger.overlaps import (
    DUPLICATE_COLUMNS,
    OVERLAP_KEY,
    candidates_sql,
    hot_months_sql,
    overlap_sql,
)

_DAY0 = dt.date(2024, 1, 1)


@st.composite
def _rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    n = draw(st.integers(1, 25))
    rows: list[dict[str, Any]] = []
    for i in range(n):
        if rows and draw(st.booleans()) and draw(st.booleans()):
            rows.append({**draw(st.sampled_from(rows)), "_row": i})  # an exact repeat
            continue
        start = draw(st.integers(0, 365))
        length = draw(st.sampled_from([0, 0, 1, 14, 29, 30, 90, 365]))
        rows.append(
            {
                "entity": "E",
                "site": draw(st.sampled_from(["S1", "S2", None])),
                "activity": "electricity",
                "supplier": draw(st.sampled_from([None, "P"])),
                "meter": draw(st.sampled_from([None, None, "M1"])),
                "period_start": _DAY0 + dt.timedelta(days=start),
                "period_end": _DAY0 + dt.timedelta(days=min(365, start + length)),
                "quantity": float(draw(st.sampled_from([1, 2]))),
                "unit": "kWh",
                "region": None,
                "scope3_category": None,
                "factor": None,
                "_row": i,
            }
        )
    return rows


def _found(rows: list[dict[str, Any]]) -> dict[int, tuple[int | None, int | None]]:
    schema = pa.schema(
        [
            *((c, pa.string()) for c in OVERLAP_KEY),
            ("period_start", pa.date32()),
            ("period_end", pa.date32()),
            ("quantity", pa.float64()),
            ("unit", pa.string()),
            ("region", pa.string()),
            ("scope3_category", pa.int32()),
            ("factor", pa.string()),
            ("_row", pa.int64()),
        ]
    )
    con = duckdb.connect()
    con.register("raw", pa.Table.from_pylist(rows, schema=schema))
    con.execute(
        f"CREATE VIEW src AS SELECT {', '.join(DUPLICATE_COLUMNS)}, _row AS ref, _row FROM raw"
    )
    con.execute(f"CREATE TABLE hot AS {hot_months_sql('src')}")
    sql = overlap_sql(f"({candidates_sql('src', 'hot')})", order=("_row",))
    out = {
        int(r[0]): (r[1], r[2])
        for r in con.execute(
            f"SELECT _row, overlap_with, duplicate_of FROM ({sql}) WHERE overlapping"
        ).fetchall()
    }
    con.close()
    return out


def _same_key(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return all(a[c] == b[c] for c in OVERLAP_KEY)


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return (
        _same_key(a, b)
        and a["period_start"] <= b["period_end"]
        and b["period_start"] <= a["period_end"]
    )


@given(_rows())
def test_the_window_finds_exactly_the_overlapping_rows(rows: list[dict[str, Any]]) -> None:
    found = _found(rows)
    by_row = {r["_row"]: r for r in rows}
    expected = {r["_row"] for r in rows if any(_overlap(r, o) for o in rows if o is not r)}
    assert set(found) == expected
    for row, (partner, duplicate_of) in found.items():
        # The row named overlaps it; a duplicate is equal in every duplicate column.
        assert partner is not None
        assert partner != row
        assert _overlap(by_row[row], by_row[partner])
        if duplicate_of is not None:
            assert all(by_row[row][c] == by_row[duplicate_of][c] for c in DUPLICATE_COLUMNS)
    # Of n equal rows, all but the first in sort order are duplicates.
    groups: dict[tuple[Any, ...], int] = {}
    for r in rows:
        key = tuple(r[c] for c in DUPLICATE_COLUMNS)
        groups[key] = groups.get(key, 0) + 1
    expected_duplicates = sum(n - 1 for n in groups.values())
    assert sum(1 for _, d in found.values() if d is not None) == expected_duplicates
