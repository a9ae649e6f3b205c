"""Outdoor weather per site: the ``weather`` import and hourly series for the energy models.

站点室外气象：``weather`` 导入与逐时序列（干球、湿球温度与相对湿度）。

``esgledger import WS --kind weather FILE`` reads a CSV / XLSX / Parquet file whose columns
are declared in ``esgledger/schema/weather_columns.csv``: ``site``, ``timestamp``,
``dry_bulb_c`` [°C] required; ``wet_bulb_c`` [°C] and ``relative_humidity_pct`` [%] optional.
Like every importer it checks every row and either stores the whole file or raises an
:class:`~esgledger.errors.InputError` whose issues name the file, row, column, value, problem
and fix; importing the same bytes again is a no-op. The rows land in the lake as
``lake/telemetry/weather/<batch_id>.parquet`` (written under a temporary name and renamed
under the workspace's write lock, as the activity importer does).

Conventions
-----------
* **Timestamps** are instants of observation. ISO 8601 with a UTC offset (``+08:00``, ``Z``)
  or a tz-aware Parquet timestamp is taken as given; without an offset (text, or a naive
  Parquet timestamp) it is the site's local wall time, in the zone of
  :func:`esgledger.energy.meters.site_timezone`. A local time that does not exist (the hour
  skipped when the clocks go forward) is refused; one that exists twice (the hour repeated
  when they go back) is accepted only when the file gives it twice for the site, the first
  row then being the earlier instant (daylight time), as a logger writing in local time does;
  given once it is refused (give the offset).
* **Wet bulb**: given, it must not exceed the dry bulb (equal at saturation). Left empty with
  a relative humidity given, it is computed by Stull (2011)
  (:func:`esgledger.energy.psychrometrics.wet_bulb_stull`; sea-level pressure); where Stull's
  fit would put it a few hundredths above the dry bulb (near saturation) it is set to the dry
  bulb. The lake column ``wet_bulb_source`` says which: ``file``, ``stull2011``,
  ``stull2011_saturated`` (set to the dry bulb), ``stull2011_extrapolated`` (outside the
  fitted range RH 5-99 %, T −20-50 °C), or empty when neither was given (the wet bulb is then
  NULL: nothing is guessed).
* **Bounds**: dry and wet bulb within −90 °C .. 60 °C (the recorded extremes on Earth are
  −89.2 °C and 56.7 °C), relative humidity 0 .. 100 %.
* One row per (site, instant): a repeated instant in the file, or one already stored by a
  live weather batch, is refused (correct a stored batch with ``esgledger batches
  supersede``).

:func:`hourly` gives a site's weather in hourly bins (means of the observations of each UTC
hour) from the approved batches.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from esgledger.energy.meters import site_timezone
from esgledger.energy.periods import Period
from esgledger.energy.psychrometrics import stull_in_range, wet_bulb_stull
from esgledger.errors import EsgledgerError, InputError, Issue, WorkspaceError, quoted, shown
from esgledger.ingest import ImportResult
from esgledger.ingest.batches import (
    LIVE_STATUSES,
    already_imported,
    batch_ids,
    commit_lake_batch,
    current_context,
    file_sha256,
)
from esgledger.ingest.readers import RawTable, read_table
from esgledger.ingest.reference import ColumnSpec, _did_you_mean, _plural, column_specs
from esgledger.ingest.values_guard import (
    NUMBER_PATTERN,
    TEMPERATURE_RANGE_C,
    NumberError,
    guard_text,
    parse_number,
)

if TYPE_CHECKING:
    from esgledger.store import Workspace

__all__ = [
    "HOURLY_SCHEMA",
    "KIND",
    "LAKE_DIR",
    "LAKE_SCHEMA",
    "hourly",
    "import_weather",
    "weather_column_specs",
]

#: The import kind (``esgledger import --kind weather``).
KIND = "weather"
#: Folder of the weather batches in the workspace's lake.
LAKE_DIR = "telemetry/weather"
#: At most this many issues are listed (all are counted).
ISSUE_CAP = 1000
_YEARS = (1900, 2200)

#: Columns of a weather lake file.
LAKE_SCHEMA = pa.schema(
    [
        ("site", pa.string()),
        ("ts_utc", pa.timestamp("us")),
        ("ts_local", pa.timestamp("us")),
        ("dry_bulb_c", pa.float64()),
        ("wet_bulb_c", pa.float64()),
        ("relative_humidity_pct", pa.float64()),
        ("wet_bulb_source", pa.string()),
        ("row", pa.int64()),
    ]
)
#: Columns of :func:`hourly`.
HOURLY_SCHEMA = pa.schema(
    [
        ("site", pa.string()),
        ("ts_utc", pa.timestamp("us")),
        ("ts_local", pa.timestamp("us")),
        ("dry_bulb_c", pa.float64()),
        ("wet_bulb_c", pa.float64()),
        ("relative_humidity_pct", pa.float64()),
        ("observations", pa.int64()),
        ("wet_bulb_source", pa.string()),
    ]
)

_TIMESTAMP_FIX = (
    "write ISO 8601, e.g. 2024-07-01T14:00:00+08:00 (with the UTC offset) or "
    "2024-07-01 14:00 (the site's local time)"
)
_NUMBER_FIX = "write a plain number such as 23.5: no units or text"


def weather_column_specs() -> tuple[ColumnSpec, ...]:
    """The columns of a weather file (``esgledger/schema/weather_columns.csv``)."""
    return column_specs(KIND)


def _header_map() -> tuple[dict[str, list[str]], list[str]]:
    specs = weather_column_specs()
    columns = {
        s.column: [a for a in (s.header_zh, *s.aliases) if a and a != s.column] for s in specs
    }
    return columns, [s.column for s in specs if s.required]


def _site_timezone(workspace: Workspace, site: str) -> str:
    """The IANA time zone of ``site`` (:func:`esgledger.energy.meters.site_timezone`: its
    meters', else its country's single zone)."""
    return site_timezone(workspace, site)


# --------------------------------------------------------------------------- import


def import_weather(
    workspace: Workspace, path: Path | str, *, progress: bool = False
) -> ImportResult:
    """Import a file of outdoor weather observations into the lake, whole or not at all.

    Parameters
    ----------
    workspace
        The open workspace.
    path
        The CSV, XLSX or Parquet file (columns in ``schema/weather_columns.csv``).
    progress
        Accepted for the common importer signature (the checks are vectorised).

    Returns
    -------
    ImportResult
        ``created`` is False when the same bytes were imported before (nothing changes).

    Raises
    ------
    InputError
        If the file cannot be read or any row is wrong; nothing is written.
    """
    from esgledger.store.repository import batch_id_for, load_sites

    path = Path(path)
    digest = file_sha256(path)
    done = already_imported(workspace, KIND, path, digest)
    if done is not None:
        return done
    columns, required = _header_map()
    raw = guard_text(read_table(path, columns=columns, required=required))
    batch_id = batch_id_for(KIND, digest)
    seen = batch_ids(workspace)
    with workspace.session() as session:
        known = [str(s["code"]) for s in load_sites(session)]
    table = _validate(raw, known, lambda site: _site_timezone(workspace, site))
    _check_stored(workspace, raw.file, table)

    n = table.num_rows
    sites = sorted(set(table.column("site").to_pylist()))
    computed = int(pc.sum(pc.starts_with(table.column("wet_bulb_source"), "stull")).as_py() or 0)
    summary = {
        "sites": sites,
        "start_utc": str(pc.min(table.column("ts_utc")).as_py()),
        "end_utc": str(pc.max(table.column("ts_utc")).as_py()),
        "wet_bulb_computed": computed,
    }
    message = (
        f"Imported {_plural(n, 'weather observation')} for {_plural(len(sites), 'site')} "
        f"from {raw.file} as batch {batch_id}"
        + (f" ({computed} wet bulb computed by Stull 2011)." if computed else ".")
    )

    def recheck() -> Any:
        _check_stored(workspace, raw.file, table)  # against what other imports stored
        return lambda _session, _batch: None

    return commit_lake_batch(
        workspace,
        KIND,
        path,
        digest,
        lake_dir=LAKE_DIR,
        batch_id=batch_id,
        write_file=lambda temporary: pq.write_table(table, temporary, compression="zstd"),
        rows=n,
        message=message,
        summary=summary,
        seen=seen,
        recheck=recheck,
    )


@dataclass
class _Issues:
    file: str
    issues: list[Issue]
    total: int = 0

    def add(self, row: int, column: str, value: Any, problem: str, fix: str = "") -> None:
        self.total += 1
        if len(self.issues) < ISSUE_CAP:
            text = None if value is None else str(value)
            self.issues.append(Issue(self.file, row, column, text, problem, fix))

    def raise_if_any(self) -> None:
        if not self.total:
            return
        rows = {i.row for i in self.issues if i.row is not None}
        summary = f"{self.file} was rejected: {_plural(self.total, 'problem')}"
        if rows:
            summary += f" in {_plural(len(rows), 'row')}" + (
                " (the first ones listed)" if self.total > len(self.issues) else ""
            )
        issues = sorted(self.issues, key=lambda i: (i.row or 0, i.column or ""))
        raise InputError(summary, issues, total=self.total)


def _texts(column: pa.ChunkedArray) -> list[str | None]:
    values: list[str | None] = []
    for v in column.to_pylist():
        text = None if v is None else str(v).strip()
        values.append(text or None)
    return values


def _numbers(raw: RawTable, name: str, issues: _Issues) -> tuple[FloatArray, BoolArray]:
    """The column as float64 (NaN where empty) and a mask of the cells that are wrong."""
    n = raw.num_rows
    if name not in raw.table.column_names:
        return np.full(n, np.nan), np.zeros(n, dtype=bool)
    column = raw.table.column(name)
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        values = np.asarray(
            pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
        )
        bad = np.isinf(values)
        for index in np.nonzero(bad)[0].tolist():
            issues.add(raw.first_row + int(index), name, values[index], "not a finite number",
                       _NUMBER_FIX)  # fmt: skip
        values = np.where(bad, np.nan, values)
        return values, bad
    text = pc.utf8_trim_whitespace(pc.cast(column, pa.string()))
    empty = np.asarray(pc.fill_null(pc.equal(text, ""), True).to_numpy(zero_copy_only=False))
    plain = pc.fill_null(pc.match_substring_regex(text, f"^{NUMBER_PATTERN}$"), False)
    values = np.asarray(
        pc.cast(pc.if_else(plain, text, None), pa.float64()).to_numpy(zero_copy_only=False),
        dtype=np.float64,
    )
    plain_np = np.asarray(plain.to_numpy(zero_copy_only=False))
    bad = np.zeros(n, dtype=bool)
    for index in np.nonzero(~empty & ~plain_np)[0].tolist():
        cell = text[int(index)].as_py()
        try:  # full-width digits and the like: the common number grammar decides
            values[index] = parse_number(cell)
        except NumberError as exc:
            bad[index] = True
            issues.add(raw.first_row + int(index), name, cell, str(exc), _NUMBER_FIX)
    # a plain number beyond float64 (1e999) reads as an infinity: refused with its cell
    overflow = ~bad & np.isinf(values)
    for index in np.nonzero(overflow)[0].tolist():
        issues.add(raw.first_row + int(index), name, text[int(index)].as_py(),
                   "not a finite number", _NUMBER_FIX)  # fmt: skip
    bad |= overflow
    values = np.where(bad, np.nan, values)
    return values, bad


FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

_EPOCH = datetime(1970, 1, 1)


def _timestamps(raw: RawTable, issues: _Issues) -> tuple[IntArray, BoolArray, BoolArray]:
    """``(microseconds, naive, bad)``: UTC epoch µs where an offset was given, local wall
    clock µs (as if UTC) where not; ``bad`` marks cells that are no timestamp."""
    column = raw.table.column("timestamp")
    n = raw.num_rows
    us = np.zeros(n, dtype=np.int64)
    naive = np.zeros(n, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    if pa.types.is_timestamp(column.type):
        typed = pc.cast(column, pa.timestamp("us", column.type.tz))
        ints = pc.cast(typed, pa.int64())
        nulls = np.asarray(pc.is_null(ints).to_numpy(zero_copy_only=False))
        us = np.asarray(pc.fill_null(ints, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
        naive[:] = column.type.tz is None
        for index in np.nonzero(nulls)[0].tolist():
            issues.add(raw.first_row + int(index), "timestamp", None, "the timestamp is missing",
                       _TIMESTAMP_FIX)  # fmt: skip
        bad |= nulls
        return us, naive, bad
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column = pc.cast(column, pa.string())
    for index, text in enumerate(_texts(column)):
        row = raw.first_row + index
        if text is None:
            issues.add(row, "timestamp", None, "the timestamp is missing", _TIMESTAMP_FIX)
            bad[index] = True
            continue
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            issues.add(row, "timestamp", text, "not an ISO 8601 timestamp", _TIMESTAMP_FIX)
            bad[index] = True
            continue
        if not _YEARS[0] <= moment.year <= _YEARS[1]:
            issues.add(row, "timestamp", text, f"the year is outside {_YEARS[0]}-{_YEARS[1]}",
                       _TIMESTAMP_FIX)  # fmt: skip
            bad[index] = True
            continue
        if moment.tzinfo is None:
            naive[index] = True
            delta = moment - _EPOCH
        else:
            delta = moment.astimezone(UTC).replace(tzinfo=None) - _EPOCH
        us[index] = delta // timedelta(microseconds=1)
    return us, naive, bad


def _localise(
    zone: ZoneInfo, wall_us: IntArray, order: IntArray
) -> tuple[IntArray, npt.NDArray[np.int8]]:
    """UTC µs of local wall-clock µs in ``zone`` (rows in file order ``order``) and a status
    per row: 0 fine, 1 the local time does not exist, 2 ambiguous and not resolvable."""
    utc = np.zeros(len(wall_us), dtype=np.int64)
    status = np.zeros(len(wall_us), dtype=np.int8)
    seconds = wall_us // 1_000_000
    unique, inverse = np.unique(seconds, return_inverse=True)
    offsets = np.zeros((len(unique), 2), dtype=np.int64)
    kind = np.zeros(len(unique), dtype=np.int8)
    for k, s in enumerate(unique):
        wall = _EPOCH + timedelta(seconds=int(s))
        off = []
        for fold in (0, 1):
            value = wall.replace(tzinfo=zone, fold=fold).utcoffset()
            off.append(0 if value is None else int(value.total_seconds()))
        offsets[k] = off
        back = datetime.fromtimestamp(int(s) - off[0], tz=UTC).astimezone(zone)
        if back.replace(tzinfo=None) != wall:
            kind[k] = 1
        elif off[0] != off[1]:
            kind[k] = 2
    first = offsets[inverse, 0] * 1_000_000
    second = offsets[inverse, 1] * 1_000_000
    utc = wall_us - first
    row_kind = kind[inverse]
    status = np.where(row_kind == 1, 1, 0).astype(np.int8)
    ambiguous = np.nonzero(row_kind == 2)[0]
    if len(ambiguous):
        groups: dict[int, list[int]] = {}
        for index in sorted(ambiguous, key=lambda i: int(order[i])):
            groups.setdefault(int(wall_us[index]), []).append(int(index))
        for members in groups.values():
            if len(members) == 2:
                utc[members[1]] = wall_us[members[1]] - second[members[1]]
            else:
                status[members] = 2
    return utc, status


def _validate(raw: RawTable, known_sites: Sequence[str], timezone_of: Any) -> pa.Table:
    """Check every row; return the lake table or raise :class:`InputError`."""
    issues = _Issues(raw.file, [])
    n = raw.num_rows
    if n == 0:
        raise InputError(
            f"{raw.file} was rejected: it has no data rows",
            [Issue(raw.file, None, None, None, "the file has no data rows", "add rows")],
        )
    first_row = raw.first_row
    sites = _texts(raw.table.column("site"))
    known = set(known_sites)
    zones: dict[str, ZoneInfo | None] = {}
    for index, site in enumerate(sites):
        row = first_row + index
        if site is None:
            issues.add(row, "site", None, "the site is missing",
                       "give the code of an imported site")  # fmt: skip
            continue
        if site not in known:
            case = [c for c in known if c.upper() == site.upper()]
            fix = (
                f"use {case[0]!r} (codes are case-sensitive)"
                if case
                else _did_you_mean(site, sorted(known))
                + "name an imported site (import it first with --kind sites)"
            )
            # the site as a message may show it: a 10,000-character cell stays one short line
            issues.add(row, "site", site, f"unknown site {quoted(site, 40)}: it is not imported",
                       fix)  # fmt: skip
            sites[index] = None
            continue
        if site not in zones:
            try:
                zones[site] = ZoneInfo(str(timezone_of(site)))
            except (EsgledgerError, ZoneInfoNotFoundError, LookupError, ValueError) as exc:
                zones[site] = None
                issues.add(row, "site", site,
                           f"the time zone of site {quoted(site, 40)} is not known "
                           f"({shown(str(exc), 120)})",
                           "import the site's meters with their timezone first")  # fmt: skip
        if zones[site] is None:
            sites[index] = None

    us, naive, ts_bad = _timestamps(raw, issues)
    dry, dry_bad = _numbers(raw, "dry_bulb_c", issues)
    wet, wet_bad = _numbers(raw, "wet_bulb_c", issues)
    rh, rh_bad = _numbers(raw, "relative_humidity_pct", issues)

    low, high = TEMPERATURE_RANGE_C
    for name, values, bad in (("dry_bulb_c", dry, dry_bad), ("wet_bulb_c", wet, wet_bad)):
        outside = ~bad & ~np.isnan(values) & ((values < low) | (values > high))
        for index in np.nonzero(outside)[0].tolist():
            issues.add(first_row + int(index), name, _shown(values[index]),
                       f"outside {low:g} .. {high:g} °C",
                       "give the temperature in °C (a reading in °F or K?)")  # fmt: skip
        bad |= outside
    for index in np.nonzero(np.isnan(dry) & ~dry_bad)[0].tolist():
        issues.add(first_row + int(index), "dry_bulb_c", None, "the dry bulb is missing",
                   "give the outdoor dry-bulb temperature in °C")  # fmt: skip
    outside_rh = ~rh_bad & ~np.isnan(rh) & ((rh < 0.0) | (rh > 100.0))
    for index in np.nonzero(outside_rh)[0].tolist():
        issues.add(first_row + int(index), "relative_humidity_pct", _shown(rh[index]),
                   "a relative humidity is between 0 and 100 %",
                   "give the relative humidity in per cent (0-100): a fraction 0-1 times 100",
                   )  # fmt: skip
    above = ~wet_bad & ~dry_bad & ~np.isnan(wet) & ~np.isnan(dry) & (wet > dry)
    for index in np.nonzero(above)[0].tolist():
        issues.add(first_row + int(index), "wet_bulb_c", _shown(wet[index]),
                   f"the wet bulb is above the dry bulb ({_shown(dry[index])} °C)",
                   "the wet bulb never exceeds the dry bulb (equal at saturation): check "
                   "the columns are not swapped")  # fmt: skip

    # Instants: UTC as given, or the site's local time.
    utc = us.copy()
    site_arr = np.array([s or "" for s in sites], dtype=object)
    order = np.arange(n, dtype=np.int64)
    for site, zone in zones.items():
        if zone is None:
            continue
        rows = np.nonzero((site_arr == site) & naive & ~ts_bad)[0]
        if not len(rows):
            continue
        converted, status = _localise(zone, us[rows], order[rows])
        utc[rows] = converted
        raw_ts = raw.table.column("timestamp")
        for k in np.nonzero(status)[0].tolist():
            index = int(rows[k])
            value = raw_ts[index].as_py()
            if status[k] == 1:
                issues.add(first_row + index, "timestamp", value,
                           f"this local time does not exist in {zone.key} (the clocks go "
                           "forward)", "give the UTC offset, or correct the time")  # fmt: skip
            else:
                issues.add(first_row + index, "timestamp", value,
                           f"this local time exists twice in {zone.key} (the clocks go back) "
                           "and the file gives it once", "give the UTC offset")  # fmt: skip
            ts_bad[index] = True

    # One row per (site, instant).
    valid_key = np.array([s is not None for s in sites]) & ~ts_bad
    seen: dict[tuple[str, int], int] = {}
    raw_ts = raw.table.column("timestamp")
    for index in np.nonzero(valid_key)[0].tolist():
        key = (str(sites[index]), int(utc[index]))
        if key in seen:
            issues.add(first_row + int(index), "timestamp", raw_ts[int(index)].as_py(),
                       f"site {key[0]} has this instant already in row {seen[key]}",
                       "keep one row per site and instant")  # fmt: skip
        else:
            seen[key] = first_row + int(index)
    issues.raise_if_any()

    # Wet bulb: given, or by Stull (2011) from the relative humidity.
    source = np.full(n, None, dtype=object)
    source[~np.isnan(wet)] = "file"
    need = np.isnan(wet) & ~np.isnan(rh)
    if need.any():
        computed = wet_bulb_stull(dry[need], rh[need])
        saturated = computed > dry[need]
        inside = stull_in_range(dry[need], rh[need])
        wet[need] = np.where(saturated, dry[need], computed)
        labels = np.where(
            saturated,
            "stull2011_saturated",
            np.where(inside, "stull2011", "stull2011_extrapolated"),
        )
        source[need] = labels
    offsets_us = np.zeros(n, dtype=np.int64)
    for site, zone in zones.items():
        if zone is None:
            continue
        rows = np.nonzero(site_arr == site)[0]
        offsets_us[rows] = _offsets_us(zone, utc[rows])
    table = pa.table(
        {
            "site": pa.array(sites, pa.string()),
            "ts_utc": pa.array(utc, pa.timestamp("us")),
            "ts_local": pa.array(utc + offsets_us, pa.timestamp("us")),
            "dry_bulb_c": pa.array(dry, pa.float64()),
            "wet_bulb_c": pa.array(wet, pa.float64(), mask=np.isnan(wet)),
            "relative_humidity_pct": pa.array(rh, pa.float64(), mask=np.isnan(rh)),
            "wet_bulb_source": pa.array(list(source), pa.string()),
            "row": pa.array(np.arange(n, dtype=np.int64) + first_row, pa.int64()),
        },
        schema=LAKE_SCHEMA,
    )
    return table.sort_by([("site", "ascending"), ("ts_utc", "ascending")])


def _offsets_us(zone: ZoneInfo, utc_us: IntArray) -> IntArray:
    """UTC offset [µs] of ``zone`` at each instant (looked up once per distinct hour)."""
    hours = utc_us // 3_600_000_000
    unique, inverse = np.unique(hours, return_inverse=True)
    values = np.array(
        [
            int(
                (
                    datetime.fromtimestamp(int(h) * 3600, tz=UTC).astimezone(zone).utcoffset()
                    or timedelta(0)
                ).total_seconds()
            )
            for h in unique
        ],
        dtype=np.int64,
    )
    result: IntArray = values[inverse] * 1_000_000
    return result


def _shown(value: float) -> str:
    return f"{value:g}" if math.isfinite(value) else str(value)


# --------------------------------------------------------------------------- lake


def _weather_files(workspace: Workspace, statuses: Iterable[str]) -> list[tuple[str, Path]]:
    """``(batch id, lake file)`` of the weather batches with one of ``statuses``, in import
    order, leaving out the batches the running import replaces."""
    from esgledger.store.repository import load_batches

    wanted = set(statuses)
    replaces = current_context().replaces
    with workspace.session() as session:
        batches = [
            b
            for b in load_batches(session)
            if b.kind == KIND and b.lake_path and b.status in wanted and b.id not in replaces
        ]
    out = [(str(b.id), workspace.lake / str(b.lake_path)) for b in batches]
    missing = [f for _, f in out if not f.is_file()]
    if missing:
        raise WorkspaceError(
            f"the lake file {missing[0]} of an imported weather batch is missing; restore it "
            "from a backup (`esgledger doctor` lists what is missing)"
        )
    return out


def _sql_list(paths: Sequence[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def _check_stored(workspace: Workspace, file: str, table: pa.Table) -> None:
    """Refuse rows whose (site, instant) a live weather batch already holds."""
    stored = _weather_files(workspace, LIVE_STATUSES)
    if not stored:
        return
    con = duckdb.connect()
    try:
        con.register("new_rows", table.select(["site", "ts_utc", "row"]))
        files = _sql_list([p for _, p in stored])
        query = (
            "SELECT n.row, n.site, strftime(n.ts_utc, '%Y-%m-%d %H:%M:%S'), s.batch "
            "FROM new_rows n JOIN (SELECT site, ts_utc, regexp_extract(filename, "
            f"'(b-[0-9a-f]+)\\.parquet$', 1) AS batch FROM read_parquet({files}, "
            "filename = true)) s USING (site, ts_utc) ORDER BY n.row"
        )
        clashes = con.execute(query).fetchall()
    finally:
        con.close()
    if not clashes:
        return
    issues = _Issues(file, [])
    for row, site, moment, batch in clashes:
        issues.add(int(row), "timestamp", moment,
                   f"site {site} has weather for {moment} UTC already (batch {batch})",
                   f"leave the row out, or correct batch {batch} with "
                   "`esgledger batches supersede`")  # fmt: skip
    issues.raise_if_any()


def hourly(workspace: Workspace, site: str, period: Period | None = None) -> pa.Table:
    """The site's weather in hourly bins, from the approved weather batches.

    Columns (:data:`HOURLY_SCHEMA`): ``site``, ``ts_utc`` (the UTC hour, naive), ``ts_local``
    (the same instant on the site's wall clock, naive), ``dry_bulb_c``, ``wet_bulb_c``,
    ``relative_humidity_pct`` (means of the hour's observations [°C, °C, %]; NULL when none
    gave it), ``observations`` (how many) and ``wet_bulb_source`` (the sources of the hour's
    wet bulbs, ``+``-joined). ``period`` (local calendar dates, ``end`` inclusive) limits the
    hours by their local time; by default every stored hour. Hours without observations are
    absent (nothing is filled).
    """
    files = _weather_files(workspace, ("approved",))
    if not files:
        return HOURLY_SCHEMA.empty_table()
    where = ["site = $site"]
    params: dict[str, Any] = {"site": site}
    if period is not None:
        where.append("ts_local >= $start AND ts_local < $end")
        params["start"] = datetime.combine(period.start, datetime.min.time())
        params["end"] = datetime.combine(period.end + timedelta(days=1), datetime.min.time())
    con = duckdb.connect()
    try:
        table = con.sql(
            f"""
            WITH hours AS (
                SELECT site,
                       time_bucket(INTERVAL 1 hour, ts_utc) AS ts_utc,
                       any_value(ts_local - ts_utc) AS offset_,
                       avg(dry_bulb_c) AS dry_bulb_c,
                       avg(wet_bulb_c) AS wet_bulb_c,
                       avg(relative_humidity_pct) AS relative_humidity_pct,
                       count(*) AS observations,
                       string_agg(DISTINCT wet_bulb_source, '+' ORDER BY wet_bulb_source)
                           AS wet_bulb_source
                FROM read_parquet({_sql_list([p for _, p in files])})
                WHERE {" AND ".join(where)}
                GROUP BY site, time_bucket(INTERVAL 1 hour, ts_utc)
            )
            SELECT site, ts_utc, ts_utc + offset_ AS ts_local, dry_bulb_c, wet_bulb_c,
                   relative_humidity_pct, observations, wet_bulb_source
            FROM hours ORDER BY ts_utc
            """,
            params=params,
        ).to_arrow_table()
    finally:
        con.close()
    if table is None:  # pragma: no cover - a SELECT always returns a result
        raise WorkspaceError("DuckDB returned no result for the hourly weather")
    result: pa.Table = table.cast(HOURLY_SCHEMA)
    return result
