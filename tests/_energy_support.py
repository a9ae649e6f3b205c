"""Builders for the energy tests: a workspace with an organisation, meter trees and readings
written as files and fed through the REAL importers (``import_file``)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from _inventory_support import entity, import_rows, site, write_csv
from esgledger.ingest import ImportResult
from esgledger.ingest.importers import import_file
from esgledger.store import Workspace

_counter = itertools.count(1)


def organise(
    ws: Workspace, sites: Sequence[Mapping[str, Any]] = (), *, entity_code: str = "GRP"
) -> None:
    """Import one entity and ``sites`` (default: one data centre ``DC1`` in CN-GD)."""
    import_rows(ws, "entities", [entity(entity_code)])
    chosen = list(sites) or [site("DC1", entity_code, region="CN-GD", type="data_centre")]
    import_rows(ws, "sites", chosen)


def organise_two_units(ws: Workspace) -> None:
    """Import group GRP with units A and B, each owning a data centre in CN-GD: ``DC1`` of A,
    ``DC2`` of B (for scope: a data owner of one unit does not see the other's site)."""
    import_rows(ws, "entities", [entity("GRP")])
    import_rows(ws, "entities", [entity("A", parent="GRP"), entity("B", parent="GRP")])
    import_rows(
        ws,
        "sites",
        [
            site("DC1", "A", region="CN-GD", type="data_centre"),
            site("DC2", "B", region="CN-GD", type="data_centre"),
        ],
    )


def meter(
    code: str,
    role: str,
    *,
    site_code: str = "DC1",
    parent: str | None = None,
    unit: str = "kWh",
    kind: str = "interval",
    **overrides: Any,
) -> dict[str, Any]:
    """One row of a meters file."""
    row: dict[str, Any] = {
        "meter": code,
        "site": site_code,
        "parent": parent,
        "role": role,
        "unit": unit,
        "kind": kind,
    }
    row.update(overrides)
    return row


def import_meters(ws: Workspace, rows: Sequence[Mapping[str, Any]]) -> ImportResult:
    folder = ws.root / "inputs"
    folder.mkdir(exist_ok=True)
    return import_file(ws, "meters", write_csv(folder / f"meters-{next(_counter)}.csv", rows))


def readings_table(rows: Iterable[tuple[str, Any, float]]) -> pa.Table:
    """``(meter, timestamp, value)`` rows as an Arrow table (timestamps as text or datetime)."""
    meters, stamps, values = [], [], []
    for m, ts, v in rows:
        meters.append(m)
        stamps.append(ts.isoformat() if isinstance(ts, datetime) else str(ts))
        values.append(float(v))
    return pa.table({"meter": meters, "timestamp": stamps, "value": values})


def import_readings(
    ws: Workspace, rows: Iterable[tuple[str, Any, float]] | pa.Table, *, fmt: str = "parquet"
) -> ImportResult:
    """Write readings as a Parquet (or CSV) file in the workspace and import them."""
    table = rows if isinstance(rows, pa.Table) else readings_table(rows)
    folder = ws.root / "inputs"
    folder.mkdir(exist_ok=True)
    path = folder / f"readings-{next(_counter)}.{fmt}"
    if fmt == "parquet":
        pq.write_table(table, path)
    else:
        write_csv(path, table.to_pylist())
    return import_file(ws, "readings", path)


def series(
    meter_code: str, start: datetime, values: Sequence[float], *, step_minutes: int = 15
) -> list[tuple[str, str, float]]:
    """Readings of one meter every ``step_minutes`` from ``start`` (a datetime with its
    offset, or naive: local time), as ``(meter, ISO text, value)``."""
    step = timedelta(minutes=step_minutes)
    return [(meter_code, (start + i * step).isoformat(), v) for i, v in enumerate(values)]
