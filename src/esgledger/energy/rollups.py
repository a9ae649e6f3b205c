"""Readings → intervals → rollups, in DuckDB over the lake; time-zone and DST safe.

读数 → 区间 → 汇总（DuckDB 处理数据湖；正确处理时区与夏令时）。

**Intervals.** Each reading closes (or, for ``timestamp_marks = start``, opens) one interval
of its meter. The meter's nominal step is the median spacing of its readings.

* A *counter* gives the interval between two consecutive readings the difference of the
  registers × the meter's scale (multiplier and unit conversion,
  :attr:`esgledger.energy.meters.Meter.scale`). A register that goes down is, in order:
  a ``rollover`` when the meter has a rollover value and the earlier register was above half
  of it (consumption = rollover − previous + current); a ``reset`` when the new register is
  below a tenth of the earlier one (consumption since the reset = the new register, marked
  ``estimated``: what was used between the last reading and the reset is unknown); else
  ``negative``: the quantity is unknown (NULL), never a negative consumption.
* An *interval* reading is the consumption of one nominal step ending (or starting) at its
  timestamp; a power reading is multiplied by the step's hours. A negative value is flagged
  ``negative`` and its quantity is NULL.

Flags (one per interval; the first that applies in this order): ``negative``, ``rollover``,
``reset``, ``gap`` (more than 1.5 steps since the previous reading: for a counter the
interval's energy is exact in total but its spread over the gap is not, so its bins are
``estimated``; for interval readings the missing intervals are simply absent and lower the
bins' ``coverage``), ``stuck`` (the same value in :data:`STUCK_READINGS` or more consecutive
readings: a counter of a load that never stops (:data:`CONTINUOUS_ROLES`) that does not
move, or a repeated non-zero interval value), ``spike`` (a quantity above the meter's median +
:data:`SPIKE_MADS` robust standard deviations and above twice its 99th percentile, so that the
on-state of an on/off load or a season is not a spike), ``skew`` (a timestamp more than 5 %
of a step off the meter's grid). A gap is never filled: nothing is invented, coverage tells
what is missing.

**Rollups.** Intervals are cut at 15-minute boundaries (in UTC, which are also local
15-minute boundaries in every zone in use) and their quantity spread over the pieces in
proportion to time. The 15-minute bins are summed into local hours, days and months: a bin is
labelled with its local wall time and kept apart by its UTC offset, so the repeated hour of a
daylight-saving change gives two hourly rows, the skipped hour none, and a local day is 23,
24 or 25 hours long. ``intervals`` counts the intervals that end in the bin (an interval
spread over several bins counts once), ``flagged`` those of them with a flag, and
``expected_intervals`` the meter's nominal steps in the bin. ``coverage`` is the share of the
bin's seconds covered by intervals of known quantity.

**Build.** DuckDB reads the readings a range of meters at a time, sorted by meter and time;
the array kernel (:mod:`esgledger.energy.kernel`) applies the rules above in NumPy, a slice of
:data:`SLICE_READINGS` at a time; ranges are built by a pool of threads
(``ESGLEDGER_ROLLUP_WORKERS``) and each writes one Parquet part of every table.

**Cache.** Built rollups are folders of Parquet parts under
``lake/telemetry/derived/<generation>/`` with a ``state.json`` naming the readings batches and
the meter tree they were built from;
:func:`refresh` rebuilds them when either changed (a new generation, then the state file is
replaced atomically; older generations are removed). They can always be rebuilt from the
readings, so ``doctor`` may delete them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from esgledger.energy import kernel
from esgledger.energy.meters import Meter, load_meters
from esgledger.energy.periods import Period
from esgledger.energy.readings import reading_files
from esgledger.errors import InputError, Issue
from esgledger.inventory._duckdb import connect

if TYPE_CHECKING:
    from esgledger.store import Workspace

__all__ = [
    "CHUNK_READINGS",
    "DERIVED_DIR",
    "GRAINS",
    "SPIKE_MADS",
    "STUCK_READINGS",
    "Derived",
    "flags",
    "intervals",
    "refresh",
    "rollup",
]

#: Folder of the derived (rebuildable) telemetry tables, under the lake.
DERIVED_DIR = "telemetry/derived"
#: The rollup grains.
GRAINS: tuple[str, ...] = ("15min", "hour", "day", "month")
#: Consecutive identical readings that make a meter ``stuck`` (3 hours of 15-minute data).
STUCK_READINGS = 12
#: Robust standard deviations (1.4826 × MAD) above the median that make a ``spike``.
SPIKE_MADS = 10.0
#: Readings per chunk of meters in :func:`refresh`: sorted and aggregated within the default
#: 512 MB DuckDB limit (4 M ran out of memory there on the demo's 3.9 M readings).
CHUNK_READINGS = 2_000_000
#: Readings per slice of the array kernel within a chunk: its arrays (a few MB each) stay in
#: the processor's caches, about twice as fast as whole chunks (docs/performance.md).
SLICE_READINGS = 262_144
_VERSION = 3
#: Environment variable: threads that build the rollups (default: one per CPU, at most 4).
WORKERS_ENV = "ESGLEDGER_ROLLUP_WORKERS"
#: Roles whose load never stops: a counter of theirs that does not move is ``stuck``. Heat
#: export, on-site generation (night), fuel (generator off) and water (dry coolers in winter)
#: may rightly stand still for hours or months.
CONTINUOUS_ROLES: tuple[str, ...] = (
    "incomer", "ups_input", "ups_output", "pdu_output", "it_input", "cooling", "other", "non_dc",
)  # fmt: skip


def _sql(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True, slots=True)
class Derived:
    """The current derived tables: their folder and what they were built from."""

    folder: Path
    batches: tuple[str, ...]
    meters_digest: str

    def parts(self, name: str) -> Path:
        """The folder of the table's Parquet parts (one per range of meters)."""
        return self.folder / name

    def scan(self, name: str) -> str:
        """``read_parquet(...)`` of the table, for DuckDB."""
        return f"read_parquet({_sql(str(self.parts(name) / '*.parquet'))})"


def _digest(meters: Sequence[Meter]) -> str:
    text = json.dumps(
        [
            [
                m.meter,
                m.site,
                m.role,
                m.unit,
                m.kind,
                m.multiplier,
                m.rollover,
                m.timezone,
                m.fuel,
                m.timestamp_marks,
            ]
            for m in meters
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _con() -> duckdb.DuckDBPyConnection:
    con = connect()
    con.execute("SET TimeZone = 'UTC'")
    return con


# ---- intervals ------------------------------------------------------------------------------


def _meter_arrays(meters: Sequence[Meter]) -> kernel.MeterArrays:
    zones = tuple(sorted({m.timezone for m in meters}))
    code = {zone: i for i, zone in enumerate(zones)}
    return kernel.MeterArrays(
        counter=np.array([m.kind == "counter" for m in meters], dtype=bool),
        marks_start=np.array([m.timestamp_marks == "start" for m in meters], dtype=bool),
        scale=np.array([m.scale for m in meters], dtype=np.float64),
        is_power=np.array([m.is_power for m in meters], dtype=bool),
        rollover=np.array(
            [np.nan if m.rollover is None else m.rollover for m in meters], dtype=np.float64
        ),
        continuous=np.array([m.role in CONTINUOUS_ROLES for m in meters], dtype=bool),
        tz=np.array([code[m.timezone] for m in meters], dtype=np.int32),
        zones=zones,
        stuck_readings=STUCK_READINGS,
        spike_mads=SPIKE_MADS,
    )


def _sorted_meters(meters: Iterable[Meter]) -> list[Meter]:
    return sorted(meters, key=lambda m: m.meter)


def _read_sorted(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[tuple[str, Path]],
    where: str,
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The readings of the meters in table ``m`` (with their position ``idx``) matching
    ``where``, sorted by meter and time: ``idx``, ``ts`` (µs UTC), ``value``."""
    listed = ", ".join(_sql(str(path)) for _, path in files)
    got = con.execute(
        f"SELECT m.idx, epoch_us(x.ts_utc) AS ts, x.value "
        f"FROM read_parquet([{listed}]) x JOIN m USING (meter) WHERE {where} "
        "ORDER BY m.idx, ts"
    ).fetchnumpy()
    return (
        np.asarray(got["idx"], dtype=np.int32),
        np.asarray(got["ts"], dtype=np.int64),
        np.asarray(got["value"], dtype=np.float64),
    )


def _register_meters(con: duckdb.DuckDBPyConnection, ordered: Sequence[Meter]) -> None:
    con.register(
        "m_arrow",
        pa.table(
            {
                "meter": pa.array([m.meter for m in ordered], pa.string()),
                "idx": pa.array(range(len(ordered)), pa.int32()),
            }
        ),
    )
    con.execute("CREATE OR REPLACE TABLE m AS SELECT * FROM m_arrow")


class _Labels:
    """The text columns of the rows' meters (``site``, ``meter``, ``role``, ``unit``): each a
    small dictionary of its distinct values and the code of every meter position, worked out
    once per build (the rows then carry codes only)."""

    _ATTRIBUTES = (("site", "site"), ("meter", "meter"), ("role", "role"),
                   ("unit", "canonical_unit"))  # fmt: skip

    def __init__(self, ordered: Sequence[Meter]) -> None:
        self.codes: dict[str, npt.NDArray[np.int32]] = {}
        self.values: dict[str, pa.Array] = {}
        for name, attribute in self._ATTRIBUTES:
            seen: dict[str, int] = {}
            codes = np.empty(len(ordered), dtype=np.int32)
            for i, m in enumerate(ordered):
                codes[i] = seen.setdefault(getattr(m, attribute), len(seen))
            self.codes[name] = codes
            self.values[name] = pa.array(list(seen), pa.string())

    def columns(self, idx: npt.NDArray[np.int32], *names: str) -> dict[str, pa.Array]:
        """Dictionary-encoded columns ``names`` of the rows of meter positions ``idx``."""
        return {
            name: pa.DictionaryArray.from_arrays(
                pa.array(self.codes[name][idx], pa.int32()), self.values[name]
            )
            for name in names
        }


def _timestamps(values: npt.NDArray[np.int64]) -> pa.Array:
    return pa.array(values, pa.int64()).cast(pa.timestamp("us"))


def _flag_names(codes: npt.NDArray[np.int8]) -> pa.Array:
    names = pa.array([None, *kernel.FLAG_NAMES], pa.string())
    return pa.DictionaryArray.from_arrays(
        pa.array(codes.astype(np.int32), pa.int32()), names
    ).dictionary_decode()


def _nullable(values: npt.NDArray[np.float64]) -> pa.Array:
    return pa.array(values, pa.float64(), from_pandas=True)  # NaN → null


def _intervals_table(labels: _Labels, iv: kernel.Intervals) -> pa.Table:
    texts = labels.columns(iv.idx, "site", "meter", "role", "unit")
    return pa.table(
        {
            **{k: v.dictionary_decode() for k, v in texts.items()},
            "start_utc": _timestamps(iv.start),
            "end_utc": _timestamps(iv.end),
            "seconds": pa.array(iv.seconds, pa.int32()),
            "quantity": _nullable(iv.quantity),
            "flag": _flag_names(iv.flag),
            "estimated": pa.array(iv.estimated, pa.bool_()),
        }
    )


def intervals(
    workspace: Workspace,
    *,
    sites: Sequence[str] | None = None,
    meters: Sequence[str] | None = None,
    start_utc: Any = None,
    end_utc: Any = None,
) -> pa.Table:
    """The intervals of the workspace's approved readings (see the module docstring), of the
    given sites or meters and ending within ``[start_utc, end_utc]`` (naive UTC datetimes),
    ordered by meter and time. Columns: ``site, meter, role, unit, start_utc, end_utc,
    seconds, quantity, flag, estimated``."""
    chosen = _sorted_meters(
        m
        for m in load_meters(workspace)
        if (sites is None or m.site in sites) and (meters is None or m.meter in meters)
    )
    files = reading_files(workspace)
    if not files or not chosen:
        return _intervals_table(_Labels([]), kernel.intervals(*_no_readings(), _meter_arrays([])))
    con = _con()
    try:
        _register_meters(con, chosen)
        # every reading of the meter: the step, the runs and the spike statistics are the
        # meter's, and a counter's first interval needs the reading before the window
        low, high = _sql(chosen[0].meter), _sql(chosen[-1].meter)
        idx, ts, value = _read_sorted(con, files, f"x.meter >= {low} AND x.meter <= {high}")
    finally:
        con.close()
    iv = kernel.intervals(idx, ts, value, _meter_arrays(chosen))
    table = _intervals_table(_Labels(chosen), iv)
    keep = np.ones(len(iv.idx), dtype=bool)
    if start_utc is not None:
        keep &= iv.end > _epoch_us(start_utc)
    if end_utc is not None:
        keep &= iv.end <= _epoch_us(end_utc)
    return table.filter(pa.array(keep)) if not keep.all() else table


def _no_readings() -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    return np.empty(0, np.int32), np.empty(0, np.int64), np.empty(0, np.float64)


def _epoch_us(moment: Any) -> int:
    stamp = pd.Timestamp(moment)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return int(stamp.value // 1000)


# ---- the derived tables -------------------------------------------------------------------


def _state_file(workspace: Workspace) -> Path:
    return workspace.lake / DERIVED_DIR / "state.json"


def _current(workspace: Workspace) -> Derived | None:
    try:
        state = json.loads(_state_file(workspace).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if state.get("version") != _VERSION:
        return None
    folder = workspace.lake / DERIVED_DIR / str(state.get("generation", ""))
    derived = Derived(folder, tuple(state.get("batches", ())), str(state.get("meters", "")))
    if not all(
        any(derived.parts(name).glob("part-*.parquet")) for name in ("flags", *_rollup_names())
    ):
        return None
    return derived


def _rollup_names() -> tuple[str, ...]:
    return tuple(f"rollup_{grain}" for grain in GRAINS)


def refresh(workspace: Workspace, *, force: bool = False) -> Derived:
    """The derived tables, rebuilt first when the approved readings batches or the meter tree
    changed since they were built (or when ``force``)."""
    meters = load_meters(workspace)
    files = reading_files(workspace)
    batches = tuple(batch for batch, _ in files)
    digest = _digest(meters)
    current = _current(workspace)
    if (
        not force
        and current is not None
        and current.batches == batches
        and current.meters_digest == digest
    ):
        return current
    root = workspace.lake / DERIVED_DIR
    root.mkdir(parents=True, exist_ok=True)
    generation = f"g{uuid.uuid4().hex[:12]}"
    building = root / f".{generation}.building"
    building.mkdir()
    try:
        _build(building, meters, files)
        final = root / generation
        os.replace(building, final)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    temporary = root / f".state.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    temporary.write_text(
        json.dumps(
            {
                "version": _VERSION,
                "generation": generation,
                "batches": list(batches),
                "meters": digest,
            }
        ),
        "utf-8",
    )
    os.replace(temporary, _state_file(workspace))
    for old in root.iterdir():
        if old.is_dir() and old.name != generation and not old.name.startswith("."):
            shutil.rmtree(old, ignore_errors=True)
    return Derived(final, batches, digest)


def _chunks(
    con: duckdb.DuckDBPyConnection, files: Sequence[tuple[str, Path]]
) -> list[tuple[int, int]]:
    """Ranges ``[first, last]`` of meter positions (table ``m``), each holding about
    :data:`CHUNK_READINGS` readings (a meter is never split)."""
    listed = ", ".join(_sql(str(path)) for _, path in files)
    counts = con.execute(
        f"SELECT m.idx, count(*) FROM read_parquet([{listed}]) x JOIN m USING (meter) "
        "GROUP BY m.idx ORDER BY m.idx"
    ).fetchall()
    ranges: list[tuple[int, int]] = []
    first: int | None = None
    last = 0
    size = 0
    for idx, n in counts:
        if first is not None and size + int(n) > CHUNK_READINGS:
            ranges.append((first, last))
            first, size = None, 0
        if first is None:
            first = int(idx)
        last, size = int(idx), size + int(n)
    if first is not None:
        ranges.append((first, last))
    return ranges


_FLAGS_SCHEMA = pa.schema(
    [
        ("site", pa.string()),
        ("meter", pa.string()),
        ("start_utc", pa.timestamp("us")),
        ("end_utc", pa.timestamp("us")),
        ("flag", pa.string()),
        ("detail", pa.string()),
    ]
)


def _rollup_schema(grain: str) -> pa.Schema:
    text = pa.dictionary(pa.int32(), pa.string())
    fields = [("site", text), ("meter", text), ("role", text), ("unit", text)]
    fields += [
        ("period_start_utc", pa.timestamp("us")),
        ("period_local", pa.timestamp("us")),
        ("quantity", pa.float64()),
        ("expected_intervals", pa.int32()),
        ("intervals", pa.int32()),
        ("flagged", pa.int32()),
        ("estimated", pa.bool_()),
        ("coverage", pa.float64()),
    ]
    return pa.schema(fields)


def _flags_table(labels: _Labels, iv: kernel.Intervals) -> pa.Table:
    sel = np.flatnonzero(iv.flag != 0)
    texts = labels.columns(iv.idx[sel], "site", "meter")
    codes = iv.flag[sel]
    seconds = iv.seconds[sel]
    gap = kernel.FLAG_NAMES.index("gap") + 1
    detail = [
        f"no reading for {s} s" if c == gap else None
        for c, s in zip(codes.tolist(), seconds.tolist(), strict=True)
    ]
    return pa.table(
        {
            "site": texts["site"].dictionary_decode(),
            "meter": texts["meter"].dictionary_decode(),
            "start_utc": _timestamps(iv.start[sel]),
            "end_utc": _timestamps(iv.end[sel]),
            "flag": _flag_names(codes),
            "detail": pa.array(detail, pa.string()),
        },
        schema=_FLAGS_SCHEMA,
    )


def _rollup_table(labels: _Labels, rows: kernel.Bins | kernel.Periods, grain: str) -> pa.Table:
    columns: dict[str, pa.Array] = {
        **labels.columns(rows.idx, "site", "meter", "role", "unit"),
        "period_start_utc": _timestamps(rows.start),
        "period_local": _timestamps(rows.local),
        "quantity": _nullable(rows.quantity),
        "expected_intervals": pa.array(rows.expected, pa.int32()),
        "intervals": pa.array(rows.intervals, pa.int32()),
        "flagged": pa.array(rows.flagged, pa.int32()),
        "estimated": pa.array(rows.estimated, pa.bool_()),
        "coverage": pa.array(rows.coverage, pa.float64()),
    }
    return pa.table(columns, schema=_rollup_schema(grain))


#: Compression of each derived table (the 15-minute bins are the largest).
_COMPRESSION = {"flags": "snappy", "rollup_15min": "zstd"}


def _write_part(folder: Path, name: str, part: int, table: pa.Table) -> None:
    target = folder / name
    target.mkdir(exist_ok=True)
    pq.write_table(
        table,
        target / f"part-{part:05d}.parquet",
        compression=_COMPRESSION.get(name, "snappy"),
        row_group_size=1 << 20,
        # dictionaries for the repetitive columns only (times and quantities are distinct)
        use_dictionary=[c for c in table.column_names if c in _REPETITIVE],
    )


_REPETITIVE = frozenset(
    ("site", "meter", "role", "unit", "flag", "detail", "expected_intervals", "intervals",
     "flagged", "estimated")
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Job:
    """What every chunk of a build shares."""

    folder: Path
    ordered: Sequence[Meter]
    files: Sequence[tuple[str, Path]]
    arrays: kernel.MeterArrays
    labels: _Labels


def _build_chunk(job: _Job, part: int, chunk: tuple[int, int] | None, threads: int | None) -> int:
    """Write part ``part`` of every derived table: the meters ``chunk`` (positions in
    ``job.ordered``), or empty tables when ``chunk`` is None. Returns the readings read."""
    folder, arrays, labels = job.folder, job.arrays, job.labels
    if chunk is None:
        idx, ts, value = _no_readings()
    else:
        low, high = job.ordered[chunk[0]].meter, job.ordered[chunk[1]].meter
        con = connect(threads=threads)
        try:
            con.execute("SET TimeZone = 'UTC'")
            _register_meters(con, job.ordered)
            # the range of names lets DuckDB skip the row groups of other meters
            idx, ts, value = _read_sorted(
                con, job.files, f"x.meter >= {_sql(low)} AND x.meter <= {_sql(high)}"
            )
        finally:
            con.close()
    tables: dict[str, list[pa.Table]] = {name: [] for name in ("flags", *_rollup_names())}
    for a, b in kernel.slices(idx, SLICE_READINGS):
        iv = kernel.intervals(idx[a:b], ts[a:b], value[a:b], arrays)
        tables["flags"].append(_flags_table(labels, iv))
        bins = kernel.bins_15min(iv, arrays)
        del iv
        tables["rollup_15min"].append(_rollup_table(labels, bins, "15min"))
        for grain in ("hour", "day", "month"):
            periods = kernel.coarser(bins, arrays, grain)
            tables[f"rollup_{grain}"].append(_rollup_table(labels, periods, grain))
    del ts, value
    for name, parts in tables.items():
        _write_part(folder, name, part, _concat(parts, name))
    return len(idx)


def _concat(parts: list[pa.Table], name: str) -> pa.Table:
    schema = _FLAGS_SCHEMA if name == "flags" else _rollup_schema(name.removeprefix("rollup_"))
    return pa.concat_tables(parts) if parts else schema.empty_table()


def _workers(chunks: int) -> int:
    """Threads for :func:`_build`: ``ESGLEDGER_ROLLUP_WORKERS``, else one per CPU (at most
    4), never more than the chunks."""
    configured = os.environ.get(WORKERS_ENV, "").strip()
    if configured:
        if not configured.isdigit() or int(configured) < 1:
            raise InputError(f"{WORKERS_ENV}={configured[:20]!r} is not a positive number")
        wanted = int(configured)
    else:
        wanted = min(4, os.cpu_count() or 1)
    return max(1, min(wanted, chunks))


def _build(folder: Path, meters: Sequence[Meter], files: Sequence[tuple[str, Path]]) -> None:
    """Write the derived tables of ``files``, a range of meters at a time, as one part per
    range (every step works within a meter, so the ranges are independent: the peak memory
    does not grow with the number of readings). Several ranges are built at once by a pool
    of threads: DuckDB, NumPy's array operations and Parquet writing release the
    interpreter lock."""
    ordered = _sorted_meters(meters)
    chunks: list[tuple[int, int] | None] = []
    if files and ordered:
        con = _con()
        try:
            _register_meters(con, ordered)
            chunks = list(_chunks(con, files))
        finally:
            con.close()
    if not chunks:
        chunks = [None]
    workers = _workers(len(chunks))
    job = _Job(folder, ordered, files, _meter_arrays(ordered), _Labels(ordered))
    if workers == 1:
        for part, chunk in enumerate(chunks):
            _build_chunk(job, part, chunk, None)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rollups") as pool:
        futures = [
            pool.submit(_build_chunk, job, part, chunk, 1) for part, chunk in enumerate(chunks)
        ]
        for future in futures:
            future.result()


_ROLLUP_COLUMNS = (
    "site, meter, role, unit, period_start_utc, period_local, quantity, expected_intervals, "
    "intervals, flagged, estimated, coverage"
)


def _in(column: str, values: Sequence[str] | None) -> str | None:
    if values is None:
        return None
    return f"{column} IN ({', '.join(_sql(v) for v in values) or 'NULL'})"


def rollup(
    workspace: Workspace,
    grain: str,
    *,
    sites: Sequence[str] | None = None,
    roles: Sequence[str] | None = None,
    meters: Sequence[str] | None = None,
    period: Period | None = None,
) -> pa.Table:
    """The ``grain`` rollup (``15min``, ``hour``, ``day``, ``month``) of the workspace's
    approved readings, filtered, ordered by site, meter and time. Columns: ``site, meter,
    role, unit, period_start_utc, period_local, quantity, expected_intervals, intervals,
    flagged, estimated, coverage`` (see the module docstring). ``period`` selects bins by
    their local wall time.

    Raises
    ------
    InputError
        For an unknown grain.
    """
    if grain not in GRAINS:
        raise InputError(
            f"unknown rollup grain {grain!r}: use one of {', '.join(GRAINS)}",
            [Issue("", None, "grain", grain, "unknown rollup grain", f"use {', '.join(GRAINS)}")],
        )
    derived = refresh(workspace)
    where = [
        c for c in (_in("site", sites), _in("role", roles), _in("meter", meters)) if c is not None
    ]
    if period is not None:
        where.append(f"period_local >= {_sql(period.start.isoformat())}::TIMESTAMP")
        where.append(f"period_local < {_sql(period.end_exclusive.isoformat())}::TIMESTAMP")
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    con = _con()
    try:
        return con.sql(
            f"SELECT {_ROLLUP_COLUMNS} FROM {derived.scan(f'rollup_{grain}')}{clause} "
            "ORDER BY site, meter, period_start_utc"
        ).to_arrow_table()
    finally:
        con.close()


def flags(
    workspace: Workspace,
    *,
    sites: Sequence[str] | None = None,
    period: Period | None = None,
) -> pa.Table:
    """The flagged intervals (``site, meter, start_utc, end_utc, flag, detail``); ``period``
    selects by UTC date of the interval's end, widened by a day on each side so no local day
    is cut (filter further by the site's zone if needed)."""
    derived = refresh(workspace)
    where = [c for c in (_in("site", sites),) if c is not None]
    if period is not None:
        where.append(f"end_utc >= {_sql(period.start.isoformat())}::TIMESTAMP - INTERVAL 1 DAY")
        where.append(
            f"end_utc < {_sql(period.end_exclusive.isoformat())}::TIMESTAMP + INTERVAL 1 DAY"
        )
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    con = _con()
    try:
        return con.sql(
            f"SELECT * FROM {derived.scan('flags')}{clause} ORDER BY site, meter, start_utc"
        ).to_arrow_table()
    finally:
        con.close()
