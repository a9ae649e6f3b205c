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

**Cache.** Built rollups are files under ``lake/telemetry/derived/<generation>/`` with a
``state.json`` naming the readings batches and the meter tree they were built from;
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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

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
#: Readings per chunk of meters in :func:`refresh` (about 4 M: sorted and aggregated within
#: a few hundred MB).
CHUNK_READINGS = 4_000_000
_VERSION = 2
#: Roles whose load never stops: a counter of theirs that does not move is ``stuck``. Heat
#: export, on-site generation (night), fuel (generator off) and water (dry coolers in winter)
#: may rightly stand still for hours or months.
CONTINUOUS_ROLES: tuple[str, ...] = (
    "incomer", "ups_input", "ups_output", "pdu_output", "it_input", "cooling", "other", "non_dc",
)  # fmt: skip
_CONTINUOUS_SQL = ", ".join(f"'{r}'" for r in CONTINUOUS_ROLES)
_FLAG_ORDER = ("negative", "rollover", "reset", "gap", "stuck", "spike", "skew")


def _sql(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True, slots=True)
class Derived:
    """The current derived tables: their folder and what they were built from."""

    folder: Path
    batches: tuple[str, ...]
    meters_digest: str

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.parquet"


def _meters_table(meters: Sequence[Meter]) -> pa.Table:
    return pa.table(
        {
            "meter": [m.meter for m in meters],
            "site": [m.site for m in meters],
            "role": [m.role for m in meters],
            "unit": [m.canonical_unit for m in meters],
            "kind": [m.kind for m in meters],
            "scale": [m.scale for m in meters],
            "is_power": [m.is_power for m in meters],
            "rollover": [m.rollover for m in meters],
            "marks": [m.timestamp_marks for m in meters],
            "tz": [m.timezone for m in meters],
        },
        schema=pa.schema(
            [
                ("meter", pa.string()),
                ("site", pa.string()),
                ("role", pa.string()),
                ("unit", pa.string()),
                ("kind", pa.string()),
                ("scale", pa.float64()),
                ("is_power", pa.bool_()),
                ("rollover", pa.float64()),
                ("marks", pa.string()),
                ("tz", pa.string()),
            ]
        ),
    )


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


def _intervals_sql(readings: str) -> str:
    """SQL of the intervals of ``readings`` (a relation with ``meter, ts_utc, value``) joined
    to the table ``m`` of meters. See the module docstring for the rules."""
    flag_case = " ".join(f"WHEN f_{name} THEN '{name}'" for name in _FLAG_ORDER)
    return f"""
WITH r AS (
    SELECT x.meter, x.ts_utc, x.value, m.site, m.role, m.unit, m.kind, m.scale, m.is_power,
           m.rollover, m.marks, m.tz
    FROM {readings} x JOIN m USING (meter)
),
seq AS (
    SELECT *,
        lag(ts_utc) OVER w AS prev_ts,
        lag(value) OVER w AS prev_value,
        CASE WHEN value IS DISTINCT FROM lag(value) OVER w THEN 1 ELSE 0 END AS changed,
        value IS NOT DISTINCT FROM lag(value) OVER w
            OR value IS NOT DISTINCT FROM lead(value) OVER w AS repeated,
        row_number() OVER w AS rn
    FROM r WINDOW w AS (PARTITION BY meter ORDER BY ts_utc)
),
step AS (
    SELECT meter, greatest(1, coalesce(median(epoch(ts_utc) - epoch(prev_ts)), 900)) AS step_s
    FROM seq GROUP BY meter
),
-- runs of equal consecutive values, numbered among the repeated readings only (a reading
-- that differs from both neighbours is a run of one): one small window instead of two over
-- every reading
repeats AS (
    SELECT meter, rn,
        sum(changed) OVER (PARTITION BY meter ORDER BY rn ROWS UNBOUNDED PRECEDING) AS run_id
    FROM seq WHERE repeated
),
run_sizes AS (
    SELECT p.meter, p.rn, count(*) OVER (PARTITION BY p.meter, p.run_id) AS run_length
    FROM repeats p
),
sized AS (
    SELECT s.*, t.step_s, coalesce(z.run_length, 1) AS run_length
    FROM seq s JOIN step t USING (meter) LEFT JOIN run_sizes z USING (meter, rn)
),
raw AS (
    SELECT meter, site, role, unit, kind, tz, step_s, ts_utc, value, prev_ts, prev_value,
        CASE
            WHEN kind = 'counter' THEN prev_ts
            WHEN marks = 'start' THEN ts_utc
            ELSE ts_utc - to_microseconds(CAST(step_s * 1e6 AS BIGINT))
        END AS start_utc,
        CASE
            WHEN kind = 'interval' AND marks = 'start'
                THEN ts_utc + to_microseconds(CAST(step_s * 1e6 AS BIGINT))
            ELSE ts_utc
        END AS end_utc,
        CASE WHEN kind = 'counter' THEN value - prev_value ELSE value END AS delta,
        rollover, scale, is_power,
        prev_ts IS NOT NULL AND epoch(ts_utc) - epoch(prev_ts) > 1.5 * step_s AS f_gap,
        run_length >= {STUCK_READINGS} AND changed = 0 AND (
            (kind = 'interval' AND value <> 0)
            OR (kind = 'counter' AND role IN ({_CONTINUOUS_SQL}))
        ) AS f_stuck,
        least(epoch(ts_utc) % step_s, step_s - epoch(ts_utc) % step_s) > 0.05 * step_s
            AS f_skew
    FROM sized
    WHERE kind = 'interval' OR prev_ts IS NOT NULL
),
q AS (
    SELECT *,
        kind = 'counter' AND delta < 0 AND rollover IS NOT NULL AND prev_value > rollover / 2
            AS f_rollover,
        kind = 'counter' AND delta < 0
            AND NOT (rollover IS NOT NULL AND prev_value > rollover / 2)
            AND value >= 0 AND value < prev_value / 10 AS f_reset
    FROM raw
),
valued AS (
    SELECT *,
        (delta < 0 AND NOT f_rollover AND NOT f_reset) AS f_negative,
        CASE
            WHEN f_rollover THEN (rollover - prev_value + value) * scale
            WHEN f_reset THEN value * scale
            WHEN delta < 0 THEN NULL
            WHEN is_power THEN delta * scale * (epoch(end_utc) - epoch(start_utc)) / 3600.0
            ELSE delta * scale
        END AS quantity
    FROM q
),
typical AS (
    SELECT meter, median(quantity) AS med, quantile_cont(quantity, 0.99) AS p99
    FROM valued GROUP BY meter
),
robust AS (
    SELECT v.meter, t.med, t.p99, median(abs(v.quantity - t.med)) AS mad
    FROM valued v JOIN typical t USING (meter) GROUP BY v.meter, t.med, t.p99
)
SELECT v.site, v.meter, v.role, v.unit, v.tz, v.start_utc, v.end_utc,
    CAST(epoch(v.end_utc) - epoch(v.start_utc) AS INTEGER) AS seconds,
    v.quantity,
    CASE {flag_case} END AS flag,
    (v.f_reset OR (v.f_gap AND v.kind = 'counter')) AS estimated,
    v.step_s
FROM (
    SELECT valued.*,
        quantity IS NOT NULL AND robust.mad IS NOT NULL
            AND quantity > robust.med + {SPIKE_MADS} * 1.4826 * robust.mad
            AND quantity > 2 * robust.p99 AND robust.med > 0 AS f_spike
    FROM valued JOIN robust USING (meter)
) v
"""


def _readings_relation(
    files: Sequence[tuple[str, Path]],
    meters: Iterable[str] | None = None,
    start_utc: Any = None,
    end_utc: Any = None,
) -> str:
    listed = ", ".join(_sql(str(path)) for _, path in files)
    where = []
    if meters is not None:
        where.append(f"meter IN ({', '.join(_sql(m) for m in meters) or 'NULL'})")
    if start_utc is not None:
        where.append(f"ts_utc >= {_sql(str(start_utc))}::TIMESTAMP")
    if end_utc is not None:
        where.append(f"ts_utc <= {_sql(str(end_utc))}::TIMESTAMP + INTERVAL 1 DAY")
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    return f"(SELECT meter, ts_utc, value FROM read_parquet([{listed}]){clause})"


_INTERVAL_COLUMNS = (
    "site, meter, role, unit, start_utc, end_utc, seconds, quantity, flag, estimated"
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
    chosen = [
        m
        for m in load_meters(workspace)
        if (sites is None or m.site in sites) and (meters is None or m.meter in meters)
    ]
    files = reading_files(workspace)
    con = _con()
    try:
        con.register("m_arrow", _meters_table(chosen))
        con.execute("CREATE TABLE m AS SELECT * FROM m_arrow")
        if not files or not chosen:
            return _empty_intervals(con)
        # the reading before the window is needed for a counter's first interval
        relation = _readings_relation(files, [m.meter for m in chosen])
        where = []
        if start_utc is not None:
            where.append(f"end_utc > {_sql(str(start_utc))}::TIMESTAMP")
        if end_utc is not None:
            where.append(f"end_utc <= {_sql(str(end_utc))}::TIMESTAMP")
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        return con.sql(
            f"SELECT {_INTERVAL_COLUMNS} FROM ({_intervals_sql(relation)}) {clause} "
            "ORDER BY meter, start_utc"
        ).to_arrow_table()
    finally:
        con.close()


def _empty_intervals(con: duckdb.DuckDBPyConnection) -> pa.Table:
    empty = "(SELECT NULL::VARCHAR AS meter, NULL::TIMESTAMP AS ts_utc, NULL::DOUBLE AS value)"
    return con.sql(
        f"SELECT {_INTERVAL_COLUMNS} FROM ({_intervals_sql(empty)}) WHERE false"
    ).to_arrow_table()


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
    if not all(derived.path(name).is_file() for name in ("flags", *_rollup_names())):
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
) -> list[tuple[str, str]]:
    """Ranges ``(first, last)`` of meter ids, in DuckDB's order, each holding about
    :data:`CHUNK_READINGS` readings (a meter is never split)."""
    listed = ", ".join(_sql(str(path)) for _, path in files)
    counts = con.execute(
        f"SELECT meter, count(*) FROM read_parquet([{listed}]) GROUP BY meter ORDER BY meter"
    ).fetchall()
    ranges: list[tuple[str, str]] = []
    first: str | None = None
    last = ""
    size = 0
    for meter, n in counts:
        if first is not None and size + int(n) > CHUNK_READINGS:
            ranges.append((first, last))
            first, size = None, 0
        if first is None:
            first = str(meter)
        last, size = str(meter), size + int(n)
    if first is not None:
        ranges.append((first, last))
    return ranges


class _Writers:
    """One Parquet file per derived table, written chunk by chunk."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.open: dict[str, pq.ParquetWriter] = {}

    def append(self, name: str, reader: pa.RecordBatchReader, compression: str) -> None:
        writer = self.open.get(name)
        if writer is None:
            writer = pq.ParquetWriter(
                self.folder / f"{name}.parquet", reader.schema, compression=compression
            )
            self.open[name] = writer
        for batch in reader:
            if batch.num_rows:
                table = pa.Table.from_batches([batch])
                if table.schema != writer.schema:
                    table = table.cast(writer.schema)
                writer.write_table(table)

    def close(self) -> None:
        for writer in self.open.values():
            writer.close()


def _build(folder: Path, meters: Sequence[Meter], files: Sequence[tuple[str, Path]]) -> None:
    """Write the derived tables of ``files``, a range of meters at a time (every step
    partitions by meter, so the chunks are independent: each is sorted and aggregated in
    memory and the peak does not grow with the number of readings)."""
    con = _con()
    writers = _Writers(folder)
    try:
        con.register("m_arrow", _meters_table(meters))
        empty = "(SELECT NULL::VARCHAR AS meter, NULL::TIMESTAMP AS ts_utc, NULL::DOUBLE AS value)"
        chunks: list[tuple[str, str] | None] = list(_chunks(con, files)) if files else []
        for chunk in chunks or [None]:
            if chunk is None or not meters:
                con.execute("CREATE OR REPLACE TABLE m AS SELECT * FROM m_arrow")
                nothing = f"{_intervals_sql(empty)} WHERE false"
                con.execute(f"CREATE OR REPLACE TEMP TABLE iv AS {nothing}")
            else:
                low, high = _sql(chunk[0]), _sql(chunk[1])
                con.execute(
                    "CREATE OR REPLACE TABLE m AS SELECT * FROM m_arrow "
                    f"WHERE meter >= {low} AND meter <= {high}"
                )
                listed = ", ".join(_sql(str(path)) for _, path in files)
                relation = (
                    f"(SELECT meter, ts_utc, value FROM read_parquet([{listed}]) "
                    f"WHERE meter >= {low} AND meter <= {high})"
                )
                con.execute(f"CREATE OR REPLACE TEMP TABLE iv AS {_intervals_sql(relation)}")
            writers.append(
                "flags",
                con.sql(
                    "SELECT site, meter, start_utc, end_utc, flag, "
                    "CASE flag WHEN 'gap' THEN 'no reading for ' || CAST(seconds AS VARCHAR) "
                    "|| ' s' ELSE NULL END AS detail "
                    "FROM iv WHERE flag IS NOT NULL ORDER BY site, meter, start_utc"
                ).to_arrow_reader(),
                "snappy",
            )
            con.execute(f"CREATE OR REPLACE TEMP TABLE b15 AS {_bins_15min_sql()}")
            con.execute("DROP TABLE iv")
            writers.append(
                "rollup_15min",
                con.sql(
                    "SELECT * FROM b15 ORDER BY site, meter, period_start_utc"
                ).to_arrow_reader(),
                "zstd",
            )
            for grain in ("hour", "day", "month"):
                writers.append(
                    f"rollup_{grain}",
                    con.sql(
                        f"{_coarser_sql(grain)} ORDER BY site, meter, period_start_utc"
                    ).to_arrow_reader(),
                    "snappy",
                )
            con.execute("DROP TABLE b15")
    finally:
        writers.close()
        con.close()


def _bins_15min_sql() -> str:
    """15-minute bins (UTC-aligned) of the intervals ``iv``: each interval's quantity spread
    over the bins it spans in proportion to time."""
    bucket = "time_bucket(INTERVAL 15 MINUTE, start_utc)"
    last = "time_bucket(INTERVAL 15 MINUTE, end_utc - INTERVAL 1 MICROSECOND)"
    return f"""
WITH pieces AS (
    SELECT site, meter, role, unit, tz, step_s, {bucket} AS bin,
        seconds AS covered, quantity, flag, estimated, true AS is_end
    FROM iv WHERE {bucket} = {last}
    UNION ALL
    SELECT site, meter, role, unit, tz, step_s, bin,
        epoch(least(end_utc, bin + INTERVAL 15 MINUTE)) - epoch(greatest(start_utc, bin))
            AS covered,
        quantity * (epoch(least(end_utc, bin + INTERVAL 15 MINUTE))
            - epoch(greatest(start_utc, bin))) / nullif(seconds, 0) AS quantity,
        flag, true AS estimated, bin = {last} AS is_end
    FROM (
        SELECT *, unnest(generate_series({bucket}, {last}, INTERVAL 15 MINUTE)) AS bin
        FROM iv WHERE {bucket} <> {last}
    )
)
SELECT site, meter, any_value(role) AS role, any_value(unit) AS unit, any_value(tz) AS tz,
    bin AS period_start_utc,
    CAST(timezone(any_value(tz), CAST(bin AS TIMESTAMPTZ)) AS TIMESTAMP) AS period_local,
    sum(quantity) AS quantity,
    CAST(round(900 / any_value(step_s)) AS INTEGER) AS expected_intervals,
    CAST(count(*) FILTER (WHERE is_end) AS INTEGER) AS intervals,
    CAST(count(flag) FILTER (WHERE is_end) AS INTEGER) AS flagged,
    bool_or(estimated) AS estimated,
    least(1.0, sum(CASE WHEN quantity IS NOT NULL THEN covered ELSE 0 END) / 900.0) AS coverage,
    any_value(step_s) AS step_s
FROM pieces
GROUP BY site, meter, bin
"""


def _coarser_sql(trunc: str) -> str:
    """Local hours, days or months from the 15-minute bins ``b15``: labelled with the local
    wall time and kept apart by UTC offset (hours); days and months by local calendar. The
    bins are summed first; each period's UTC start and length are then worked out once per
    period from its local label (not once per bin)."""
    if trunc == "hour":
        offset = "period_local - period_start_utc"
        keys = f"date_trunc('hour', period_local) AS k, {offset} AS k_offset"
        start = "k - k_offset"
        seconds = "3600.0"
    else:
        keys = f"date_trunc('{trunc}', period_local) AS k"
        start = "CAST(timezone('UTC', timezone(tz, k)) AS TIMESTAMP)"
        following = f"k + INTERVAL 1 {trunc.upper()}"
        seconds = (
            f"(epoch(CAST(timezone('UTC', timezone(tz, {following})) AS TIMESTAMP)) - "
            f"epoch({start}))"
        )
    return f"""
SELECT site, meter, role, unit,
    {start} AS period_start_utc,
    k AS period_local,
    quantity,
    CAST(round({seconds} / step_s) AS INTEGER) AS expected_intervals,
    intervals,
    flagged,
    estimated,
    least(1.0, covered / {seconds}) AS coverage
FROM (
    SELECT site, meter, {keys}, any_value(role) AS role, any_value(unit) AS unit,
        any_value(tz) AS tz, any_value(step_s) AS step_s,
        sum(quantity) AS quantity,
        CAST(sum(intervals) AS INTEGER) AS intervals,
        CAST(sum(flagged) AS INTEGER) AS flagged,
        bool_or(estimated) AS estimated,
        sum(coverage * 900.0) AS covered
    FROM b15
    GROUP BY ALL
)
"""


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
        path = derived.path(f"rollup_{grain}")
        return con.sql(
            f"SELECT {_ROLLUP_COLUMNS} FROM read_parquet({_sql(str(path))}){clause} "
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
            f"SELECT * FROM read_parquet({_sql(str(derived.path('flags')))}){clause} "
            "ORDER BY site, meter, start_utc"
        ).to_arrow_table()
    finally:
        con.close()
