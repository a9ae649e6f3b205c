"""Import of meter readings into the lake: ``esgledger import WS --kind readings FILE``.

计量表读数导入（写入数据湖）。

A readings file has the columns ``meter``, ``timestamp``, ``value``
(``esgledger/schema/reading_columns.csv``; CSV in UTF-8 or GB18030, XLSX or Parquet). A
timestamp is ISO 8601 with its offset (``2024-01-01T00:15:00+08:00``, ``...Z``), or a local
time (no offset; a date alone is local midnight) read in the meter's site time zone; an
offset beyond ±14:00 or an instant outside the years 1900 to 2199 is refused; Parquet
timestamps with a time zone are instants, without one local times. A value is the reading
in the meter's unit (a counter's register, or an interval's consumption or average power).

The whole file is checked in DuckDB — known meters, timestamps, finite numbers within the
generic bounds, no key given twice — and then stored whole or not at all as one lake file
``lake/telemetry/readings/<batch_id>.parquet`` (``meter``, ``ts_utc`` (UTC, naive
TIMESTAMP), ``value`` DOUBLE as read; sorted by meter and time). Readings are idempotent per
(meter, timestamp): a key already stored with the same value is skipped (and counted), with a
different value refused — a correction goes through ``esgledger batches supersede``. Local
times in the repeated hour of a daylight-saving change are ambiguous; two readings that fall
on one instant are refused as a duplicate, and the message suggests giving offsets.

Nothing here turns readings into energy: :mod:`esgledger.energy.rollups` does, at query time
and cached.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from esgledger.errors import InputError, Issue, WorkspaceError
from esgledger.ingest import ImportResult
from esgledger.ingest.batches import (
    LIVE_STATUSES,
    already_imported,
    batch_ids,
    commit_batch,
    current_context,
    file_sha256,
    fsync_file,
)
from esgledger.ingest.readers import (
    canonical_names,
    check_size,
    detect_format,
    parquet_damage,
    stage_table,
)
from esgledger.ingest.reference import column_specs
from esgledger.ingest.values_guard import GENERIC_CEILING, number_sql
from esgledger.inventory._duckdb import connect

if TYPE_CHECKING:
    from esgledger.store import Workspace

__all__ = [
    "ISSUE_CAP",
    "KIND",
    "LAKE_DIR",
    "import_readings",
    "meters_with_readings",
    "reading_files",
]

KIND = "readings"
#: Folder of the readings batches, under the workspace's lake.
LAKE_DIR = "telemetry/readings"
#: At most this many issues are listed (all are counted).
ISSUE_CAP = 1000
#: A text with an offset after its time of day (a date alone, ``2024-01-01``, is a local date,
#: not a date with the offset ``-01``).
_OFFSET = r":[0-9]{2}(\.[0-9]+)?(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$"
#: The offsets that exist: UTC-14:00 to UTC+14:00 (DuckDB would read +25:00 as 25 hours).
_VALID_OFFSET = r"(Z|z|[+-]((0[0-9]|1[0-3])(:?[0-5][0-9])?|14(:?00)?))$"
#: Readings outside these instants are refused (a year such as 99999 is no reading, and
#: cannot be shown as a Python datetime).
_FIRST_INSTANT, _END_INSTANT = "1900-01-01", "2200-01-01"
_TIMESTAMP_FIX = (
    "write ISO 8601 with an offset (2024-01-01T00:15:00+08:00) or a local time "
    "(2024-01-01 00:15:00) in the site's time zone"
)


def _sql(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def reading_files(
    workspace: Workspace, *, statuses: tuple[str, ...] = ("approved",)
) -> list[tuple[str, Path]]:
    """``(batch id, lake file)`` of the readings batches of ``statuses`` (what the rollups
    read: approved), in the order they were imported; a registry row whose file is missing
    is an error."""
    from esgledger.store.models import ImportBatch

    with workspace.session() as session:
        rows = (
            session.query(ImportBatch.id, ImportBatch.lake_path)
            .filter(ImportBatch.kind == KIND, ImportBatch.status.in_(statuses))
            .order_by(ImportBatch.imported_at, ImportBatch.id)
            .all()
        )
    found: list[tuple[str, Path]] = []
    for batch_id, lake_path in rows:
        file = workspace.lake / str(lake_path)
        if not file.is_file():
            raise WorkspaceError(
                f"the readings of batch {batch_id} are missing from the lake ({lake_path}); "
                "run esgledger doctor"
            )
        found.append((str(batch_id), file))
    return found


def _scan(files: list[tuple[str, Path]]) -> str:
    listed = ", ".join(_sql(str(path)) for _, path in files)
    return f"read_parquet([{listed}])"


def meters_with_readings(workspace: Workspace) -> set[str]:
    """The ids of the meters that have stored readings."""
    files = reading_files(workspace)
    if not files:
        return set()
    con = connect()
    try:
        rows = con.execute(f"SELECT DISTINCT meter FROM {_scan(files)}").fetchall()
    finally:
        con.close()
    return {str(r[0]) for r in rows}


def _header_map() -> tuple[dict[str, list[str]], list[str]]:
    specs = column_specs(KIND)
    return (
        {s.column: [s.column, s.header_zh, *s.aliases] for s in specs},
        [s.column for s in specs if s.required],
    )


def _reject(name: str, problem: str, fix: str) -> InputError:
    return InputError(
        f"{name} was rejected: {problem}", [Issue(name, None, None, None, problem, fix)]
    )


@contextlib.contextmanager
def _connection() -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        yield con
    finally:
        con.close()


def _open(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[str, int, int]:
    """Create the view ``src(__row, meter, timestamp, value)``; return the file's shown name,
    its row count and the row number of its first data row."""
    columns, required = _header_map()
    fmt = detect_format(path)
    if path.stat().st_size == 0:
        raise _reject(path.name, "the file is empty", "export the readings with their header row")
    if fmt == "parquet":
        check_size(path, "parquet")
        try:
            metadata = pq.read_metadata(path)
            schema = metadata.schema.to_arrow_schema()
        except (pa.ArrowInvalid, OSError) as exc:
            raise parquet_damage(path.name, exc) from exc
        names = canonical_names(path, list(schema.names), columns, required)
        select = ", ".join(
            f"{_ident(raw)} AS {_ident(canon)}"
            for raw, canon in zip(schema.names, names, strict=True)
            if canon in columns
        )
        con.execute(
            f"CREATE VIEW src AS SELECT file_row_number + 1 AS __row, {select} "
            f"FROM read_parquet({_sql(str(path))}, file_row_number = true)"
        )
        return path.name, int(metadata.num_rows), 1
    folder = con.execute("SELECT current_setting('temp_directory')").fetchone()
    if folder is None:
        raise WorkspaceError("DuckDB has no temporary folder")
    Path(str(folder[0])).mkdir(parents=True, exist_ok=True)
    staged = stage_table(path, str(folder[0]), columns=columns, required=required)
    select = ", ".join(_ident(n) for n in staged.columns if n in columns)
    con.execute(
        f"CREATE VIEW src AS SELECT file_row_number + {staged.first_row} AS __row, {select} "
        f"FROM read_parquet({_sql(str(staged.parquet))}, file_row_number = true)"
    )
    return staged.file, staged.num_rows, staged.first_row


def _types(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return {str(r[0]): str(r[1]).upper() for r in con.execute("DESCRIBE src").fetchall()}


def _typed_sql(types: dict[str, str]) -> str:
    """SQL of the view ``typed``: each row with its meter's zone, its instant in UTC and its
    value as DOUBLE (NULL where the text is not one)."""
    ts_type = types["timestamp"]
    if ts_type.startswith("TIMESTAMP WITH TIME ZONE"):
        instant = "timezone('UTC', s.timestamp)"
    elif ts_type.startswith("TIMESTAMP") or ts_type == "DATE":
        instant = "timezone('UTC', timezone(m.timezone, CAST(s.timestamp AS TIMESTAMP)))"
    else:
        text = "trim(CAST(s.timestamp AS VARCHAR))"
        instant = (
            f"CASE WHEN regexp_matches({text}, '{_OFFSET}') "
            f"THEN CASE WHEN regexp_matches({text}, '{_VALID_OFFSET}') "
            f"THEN timezone('UTC', TRY_CAST({text} AS TIMESTAMPTZ)) END "
            f"ELSE timezone('UTC', timezone(m.timezone, TRY_CAST({text} AS TIMESTAMP))) END"
        )
    value_type = types["value"]
    if value_type in ("VARCHAR", "BLOB"):
        value = number_sql("trim(CAST(s.value AS VARCHAR))")
    elif value_type == "BOOLEAN":
        value = "CAST(NULL AS DOUBLE)"
    else:
        value = "TRY_CAST(s.value AS DOUBLE)"
    # the texts of the timestamp and the value (``ts_text``, ``value_text``) are not kept:
    # :func:`_issues` reads them from ``src`` for the few rows it names
    return (
        "SELECT s.__row, CAST(s.meter AS VARCHAR) AS meter, "
        f"m.meter IS NOT NULL AS known, {instant} AS ts_utc, {value} AS value "
        "FROM src s LEFT JOIN meters m ON m.meter = trim(CAST(s.meter AS VARCHAR))"
    )


def _issues(con: duckdb.DuckDBPyConnection, name: str) -> tuple[list[Issue], int]:
    rules = [
        (
            "meter",
            "meter IS NULL OR trim(meter) = ''",
            "meter_text",
            "the meter is empty",
            "give the meter of every reading",
        ),
        (
            "meter",
            "meter IS NOT NULL AND trim(meter) <> '' AND NOT known",
            "meter",
            "unknown meter",
            "import the meter tree first (esgledger import --kind meters)",
        ),
        ("timestamp", "known AND ts_utc IS NULL", "ts_text", "not a timestamp", _TIMESTAMP_FIX),
        (
            "timestamp",
            f"known AND NOT (ts_utc >= TIMESTAMP '{_FIRST_INSTANT}' "
            f"AND ts_utc < TIMESTAMP '{_END_INSTANT}')",
            "ts_text",
            "a timestamp outside the years 1900 to 2199",
            "check the year of the reading",
        ),
        (
            "value",
            "value IS NULL",
            "value_text",
            "not a number",
            "write a plain number such as 1234.5: no thousands separators, units or text",
        ),
        (
            "value",
            f"value IS NOT NULL AND NOT (abs(value) <= {GENERIC_CEILING})",
            "value_text",
            "not a finite number within ±1e15",
            "check the reading",
        ),
    ]
    issues: list[Issue] = []
    total = 0
    # every rule counted in one scan of ``typed``
    counted = con.execute(
        "SELECT "
        + ", ".join(f"count(*) FILTER (WHERE {rule[1]})" for rule in rules)
        + " FROM typed"
    ).fetchone()
    counts = [int(c) for c in counted] if counted else [0] * len(rules)
    for (column, condition, shown_column, problem, fix), n in zip(rules, counts, strict=True):
        if not n:
            continue
        total += n
        room = max(0, ISSUE_CAP - len(issues))
        chosen = f"SELECT __row FROM typed WHERE {condition} ORDER BY __row LIMIT {room}"
        if shown_column in ("ts_text", "value_text"):
            # the text as written, from the file itself, for the named rows only
            raw = "timestamp" if shown_column == "ts_text" else "value"
            query = (
                f"SELECT __row, CAST({_ident(raw)} AS VARCHAR) FROM src "
                f"WHERE __row IN ({chosen}) ORDER BY __row"
            )
        else:
            source = "meter" if shown_column == "meter_text" else shown_column
            query = f"SELECT __row, {source} FROM ({chosen}) JOIN typed USING (__row) ORDER BY 1"
        for row, value in con.execute(query).fetchall():
            issues.append(
                Issue(name, int(row), column, None if value is None else str(value), problem, fix)
            )
    if total:
        return issues, total
    # the keys given twice first (a plain count per key), then the rows of those keys only
    duplicates = con.execute(
        "WITH twice AS (SELECT meter, ts_utc FROM typed GROUP BY meter, ts_utc "
        "HAVING count(*) > 1) "
        "SELECT t.meter, t.ts_utc, list(t.__row ORDER BY t.__row) AS rows_ FROM typed t "
        "SEMI JOIN twice d ON d.meter = t.meter AND d.ts_utc = t.ts_utc "
        "GROUP BY t.meter, t.ts_utc ORDER BY min(t.__row)"
    ).fetchall()
    for meter, instant, rows_ in duplicates:
        total += len(rows_) - 1
        for row in rows_[1:]:
            if len(issues) < ISSUE_CAP:
                issues.append(
                    Issue(
                        name,
                        int(row),
                        "timestamp",
                        str(instant),
                        f"meter {meter} has another reading at this instant (row {rows_[0]})",
                        "keep one reading per meter and time; in a daylight-saving change "
                        "give offsets",
                    )
                )
    return issues, total


def import_readings(
    workspace: Workspace, path: Path | str, *, progress: bool = False
) -> ImportResult:
    """Import a readings file into the lake, whole or not at all (see the module docstring).

    Raises
    ------
    InputError
        If the file is unreadable, empty, or has any invalid row or a key already stored with
        another value; nothing is written.
    """
    from esgledger.energy.meters import load_meters
    from esgledger.store.repository import batch_id_for

    path = Path(path)
    if not path.is_file():
        raise _reject(path.name, f"the file {path} does not exist", "check the path")
    digest = file_sha256(path)
    done = already_imported(workspace, KIND, path, digest)
    if done is not None:
        return done
    batch_id = batch_id_for(KIND, digest)
    seen = batch_ids(workspace)
    meters = load_meters(workspace)
    with _connection() as con:
        name, rows, _first = _open(con, path)
        if rows == 0:
            raise _reject(name, "the file has no data rows", "add the readings")
        con.register(
            "meters_arrow",
            pa.table(
                {"meter": [m.meter for m in meters], "timezone": [m.timezone for m in meters]},
                schema=pa.schema([("meter", pa.string()), ("timezone", pa.string())]),
            ),
        )
        con.execute("CREATE TABLE meters AS SELECT * FROM meters_arrow")
        try:
            con.execute(f"CREATE TABLE typed AS {_typed_sql(_types(con))}")
        except duckdb.Error as exc:
            if detect_format(path) == "parquet":
                raise parquet_damage(name, exc) from exc
            raise
        issues, total = _issues(con, name)
        if total:
            raise InputError(
                f"{name} was rejected: {total} problem(s); nothing was imported", issues, total
            )
        return _store(con, workspace, path, name, digest, batch_id, seen)


def _conflicts(
    con: duckdb.DuckDBPyConnection, workspace: Workspace, name: str
) -> tuple[int, list[Issue], int]:
    """Compare with stored readings of the same meters: ``(skipped, issues, total)``."""
    replaced = current_context().replaces
    files = [
        (batch, path)
        for batch, path in reading_files(workspace, statuses=LIVE_STATUSES)
        if batch not in replaced
    ]
    if not files:
        con.execute("CREATE TABLE same AS SELECT __row FROM typed WHERE false")
        return 0, [], 0
    con.execute(
        f"CREATE OR REPLACE TABLE same AS SELECT t.__row, t.meter, t.ts_utc, t.value, "
        f"r.value AS stored FROM typed t JOIN {_scan(files)} r "
        "ON r.meter = t.meter AND r.ts_utc = t.ts_utc"
    )
    count = con.execute("SELECT count(*) FROM same WHERE value <> stored").fetchone()
    total = int(count[0]) if count else 0
    issues = [
        Issue(
            name,
            int(row),
            "value",
            str(value),
            f"meter {meter} already has the reading {stored!r} at {instant}",
            "correct stored readings with esgledger batches supersede; leave "
            "unchanged readings as they are",
        )
        for row, meter, instant, value, stored in con.execute(
            "SELECT __row, meter, ts_utc, value, stored FROM same WHERE value <> stored "
            f"ORDER BY __row LIMIT {ISSUE_CAP}"
        ).fetchall()
    ]
    skipped = con.execute("SELECT count(*) FROM same").fetchone()
    return (int(skipped[0]) if skipped else 0) - total, issues, total


def _store(
    con: duckdb.DuckDBPyConnection,
    workspace: Workspace,
    path: Path,
    name: str,
    digest: str,
    batch_id: str,
    seen: frozenset[str],
) -> ImportResult:
    skipped, issues, total = _conflicts(con, workspace, name)
    if total:
        raise InputError(
            f"{name} was rejected: {total} reading(s) differ from stored ones; nothing was "
            "imported",
            issues,
            total,
        )
    folder = workspace.lake / LAKE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{batch_id}.parquet"
    temporary = folder / f".{batch_id}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    new = "FROM typed WHERE __row NOT IN (SELECT __row FROM same)"
    stats = con.execute(
        f"SELECT count(*), count(DISTINCT meter), min(ts_utc), max(ts_utc) {new}"
    ).fetchone()
    if stats is None:
        raise WorkspaceError("DuckDB returned no statistics")
    count, n_meters, first, last = int(stats[0]), int(stats[1]), stats[2], stats[3]
    meters = [str(r[0]) for r in con.execute(f"SELECT DISTINCT meter {new} ORDER BY 1").fetchall()]

    def recheck() -> Any:
        _skipped, again, again_total = _conflicts(con, workspace, name)
        if again_total:
            raise InputError(
                f"{name} was rejected: {again_total} reading(s) differ from readings stored "
                "meanwhile; nothing was imported",
                again,
                again_total,
            )
        return lambda _s, _b: None

    summary = {
        "readings": count,
        "skipped_as_stored": skipped,
        "meters": meters[:1000],
        "meter_count": n_meters,
        "first_utc": None if first is None else first.isoformat(),
        "last_utc": None if last is None else last.isoformat(),
    }
    try:
        con.execute(
            f"COPY (SELECT meter, ts_utc, value {new} ORDER BY meter, ts_utc) "
            f"TO {_sql(str(temporary))} (FORMAT parquet, COMPRESSION zstd)"
        )
        fsync_file(temporary)
        result = commit_batch(
            workspace,
            KIND,
            path,
            digest,
            rows=count,
            write=lambda _s, _b: None,
            message=(
                f"Imported {count} reading(s) of {n_meters} meter(s) from {name} as batch "
                f"{batch_id}"
                + (f" ({first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC)" if count else "")
                + (f"; {skipped} reading(s) already stored were skipped" if skipped else "")
                + "."
            ),
            lake_path=f"{LAKE_DIR}/{batch_id}.parquet",
            summary=summary,
            seen=seen,
            recheck=recheck,
            lake_file=(temporary, final),
        )
    except OSError as exc:
        raise WorkspaceError(
            f"cannot put the lake file of batch {batch_id} in place ({exc}); nothing was imported"
        ) from exc
    finally:
        temporary.unlink(missing_ok=True)
    return result
