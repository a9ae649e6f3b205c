"""One million synthetic trips settle (a smoke test of the vectorised plan; no timing is
asserted — times are recorded in docs/performance.md by the benchmark)."""

from __future__ import annotations

import datetime as dt

import pyarrow.compute as pc
import pytest

from _inclusion_trips import synthetic_trips
from esgledger.inclusion import methodology as m
from esgledger.inclusion.settle import compute


@pytest.mark.slow
def test_a_million_trips_settle() -> None:
    trips = synthetic_trips(1_000_000)
    lines = compute(
        trips,
        m.versions("shenzhen-transit"),
        as_of=dt.datetime(2026, 1, 10, tzinfo=dt.UTC),
        through=dt.date(2026, 1, 8),
    )
    assert lines.num_rows == 1_000_000
    settled = pc.equal(lines.column("status").cast("string"), "settled")
    assert pc.sum(settled).as_py() > 500_000
    assert pc.min(lines.column("reduction_mg")).as_py() >= 0
