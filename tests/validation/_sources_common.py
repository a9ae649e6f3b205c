"""Helpers shared by the source-converter validation tests (not a conftest)."""

from __future__ import annotations

import csv
import math
import os
from importlib import resources
from pathlib import Path

import pyarrow as pa
import pytest

from esgledger import regions
from esgledger.units import parse_unit

REPO = Path(__file__).resolve().parents[2]


def shared_file(relative: str) -> Path:
    """An official file under ESGLEDGER_SHARED_DATA (default ``<repo>/../shared/data``);
    skips the test when it is absent (users' checkouts do not have it)."""
    root = Path(os.environ.get("ESGLEDGER_SHARED_DATA", REPO.parent / "shared" / "data"))
    path = root / relative
    if not path.exists():
        pytest.skip(f"official file {relative} not found under {root} (set ESGLEDGER_SHARED_DATA)")
    return path


def taxonomy_keys() -> tuple[set[str], tuple[str, ...]]:
    text = resources.files("esgledger.schema").joinpath("activity_types.csv").read_text("utf-8")
    keys = {row["activity"] for row in csv.DictReader(text.splitlines())}
    families = tuple(k[:-1] for k in keys if k.endswith("*"))
    return {k for k in keys if not k.endswith("*")}, families


def check_vocabulary(table: pa.Table) -> None:
    """Every activity is a taxonomy key or a family member, every region is shipped in
    regions.csv, every unit parses with esgledger.units.parse_unit."""
    concrete, families = taxonomy_keys()
    activities = set(table.column("activity").to_pylist())
    bad = sorted(a for a in activities if a not in concrete and not a.startswith(families))
    assert bad == []
    assert (
        sorted(r for r in set(table.column("region").to_pylist()) if not regions.is_known(r)) == []
    )
    for unit in set(table.column("unit").to_pylist()):
        parse_unit(unit)


def assert_tables_equal(rebuilt: pa.Table, shipped: pa.Table) -> None:
    """Same rows, same order; floats equal to 1e-12 relative (CSV text round trip)."""
    assert rebuilt.num_rows == shipped.num_rows
    assert rebuilt.column_names == shipped.column_names
    for name in rebuilt.column_names:
        left = rebuilt.column(name).to_pylist()
        right = shipped.column(name).to_pylist()
        if pa.types.is_floating(shipped.schema.field(name).type):
            for a, b in zip(left, right, strict=True):
                assert (a is None and b is None) or math.isclose(a, b, rel_tol=1e-12), name
        else:
            assert left == right, name
