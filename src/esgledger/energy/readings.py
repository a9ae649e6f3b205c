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

How, at 100 M readings (``docs/performance.md``, "Energy telemetry"): one scan counts the
bad rows and takes the file's meters and bounds (each rule's rows are listed only when some
row is bad); typed instants and numbers stay a view (``typed``), text is parsed once into a
table; the stored readings are read only within the file's meter and time bounds (Parquet
row-group statistics); the lake file is written as the file comes when samples of its rows
are in order (:func:`_source_order`), else sorted by each meter's rank and time, and its keys
are read back (:func:`_order`): strictly increasing proves the order and that no key is given
twice — the rows of a duplicate are named by a hash query run only then.

Nothing here turns readings into energy: :mod:`esgledger.energy.rollups` does, at query time
and cached.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from esgledger.errors import ConflictError, InputError, Issue, WorkspaceError
from esgledger.ingest import ImportResult
from esgledger.ingest._sqltext import (
    END_INSTANT,
    FIRST_INSTANT,
    instant_sql,
    sql_ident,
    sql_literal,
)
from esgledger.ingest.batches import (
    LIVE_STATUSES,
    already_imported,
    batch_ids,
    commit_lake_batch,
    current_context,
    file_sha256,
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
#: Rows per batch when the keys of a Parquet file are read back (:func:`_order`).
_ORDER_BATCH = 1 << 17
_TIMESTAMP_FIX = (
    "write ISO 8601 with an offset (2024-01-01T00:15:00+08:00) or a local time "
    "(2024-01-01 00:15:00) in the site's time zone"
)


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
    listed = ", ".join(sql_literal(str(path)) for _, path in files)
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
    # insertion order kept: a sorted file is written as it comes (see ``_store``)
    con = connect(ordered=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        yield con
    finally:
        con.close()


def _open(
    con: duckdb.DuckDBPyConnection, path: Path
) -> tuple[str, int, int, tuple[str, str] | None]:
    """Create the view ``src(__row, meter, timestamp, value)``; return the file's shown name,
    its row count, the row number of its first data row and, for a Parquet file, the names
    of its meter and timestamp columns."""
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
            f"{sql_ident(raw)} AS {sql_ident(canon)}"
            for raw, canon in zip(schema.names, names, strict=True)
            if canon in columns
        )
        con.execute(
            f"CREATE VIEW src AS SELECT file_row_number + 1 AS __row, {select} "
            f"FROM read_parquet({sql_literal(str(path))}, file_row_number = true)"
        )
        raw = {canon: name for name, canon in zip(schema.names, names, strict=True)}
        return path.name, int(metadata.num_rows), 1, (raw["meter"], raw["timestamp"])
    folder = con.execute("SELECT current_setting('temp_directory')").fetchone()
    if folder is None:
        raise WorkspaceError("DuckDB has no temporary folder")
    Path(str(folder[0])).mkdir(parents=True, exist_ok=True)
    staged = stage_table(path, str(folder[0]), columns=columns, required=required)
    select = ", ".join(sql_ident(n) for n in staged.columns if n in columns)
    con.execute(
        f"CREATE VIEW src AS SELECT file_row_number + {staged.first_row} AS __row, {select} "
        f"FROM read_parquet({sql_literal(str(staged.parquet))}, file_row_number = true)"
    )
    return staged.file, staged.num_rows, staged.first_row, None


def _types(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return {str(r[0]): str(r[1]).upper() for r in con.execute("DESCRIBE src").fetchall()}


def _typed_sql(types: dict[str, str], *, joined: bool = True) -> str:
    """SQL of the view ``typed``: each row with whether its meter is known, its instant in
    UTC and its value as DOUBLE (NULL where the text is not one). ``joined=False``: the
    rows without the meters (no ``known``; only when the instant needs no meter's zone,
    :func:`_streamed`), in the file's order, which the join with the meters loses."""
    # a local time is read in the meter's site time zone (``m.timezone``, joined)
    instant = instant_sql("s.timestamp", types["timestamp"], "m.timezone")
    value_type = types["value"]
    if value_type in ("VARCHAR", "BLOB"):
        value = number_sql("trim(CAST(s.value AS VARCHAR))")
    elif value_type == "BOOLEAN":
        value = "CAST(NULL AS DOUBLE)"
    else:
        value = "TRY_CAST(s.value AS DOUBLE)"
    # the meter is stored as it is known (trimmed, as the check against the tree reads it);
    # the texts of the timestamp and the value (``ts_text``, ``value_text``) are not kept:
    # :func:`_row_issues` reads them from ``src`` for the few rows it names
    if not joined:
        return (
            f"SELECT s.__row, trim(CAST(s.meter AS VARCHAR)) AS meter, {instant} AS ts_utc, "
            f"{value} AS value FROM src s"
        )
    return (
        "SELECT s.__row, trim(CAST(s.meter AS VARCHAR)) AS meter, "
        f"m.meter IS NOT NULL AS known, {instant} AS ts_utc, {value} AS value "
        "FROM src s LEFT JOIN meters m ON m.meter = trim(CAST(s.meter AS VARCHAR))"
    )


_RULES = (
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
        f"known AND NOT (ts_utc >= TIMESTAMP '{FIRST_INSTANT}' "
        f"AND ts_utc < TIMESTAMP '{END_INSTANT}')",
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
)


@dataclass(frozen=True, slots=True)
class _Scan:
    """One scan of ``typed``: how many rows break each of :data:`_RULES`, and (meaningful
    when none does) the readings, their meters (sorted) and the bounds of meter and time."""

    broken: tuple[int, ...]
    rows: int
    meters: list[str]
    bounds: tuple[str, str, datetime, datetime] | None


#: A row that breaks none of :data:`_RULES` (a blank meter is no meter id, so not known).
_GOOD = (
    f"coalesce(known AND ts_utc >= TIMESTAMP '{FIRST_INSTANT}' "
    f"AND ts_utc < TIMESTAMP '{END_INSTANT}' AND abs(value) <= {GENERIC_CEILING}, false)"
)


def _scan_rows(con: duckdb.DuckDBPyConnection) -> _Scan:
    """Count the rows that break a rule and take the file's statistics in one scan of
    ``typed``; each rule's own count takes a second scan, only when some row is bad."""
    # fetchall: the result is finished (a connection with a result left open registers
    # no table)
    (found,) = con.execute(
        f"SELECT count(*) FILTER (WHERE NOT {_GOOD}), count(*), list(DISTINCT meter), "
        "min(ts_utc), max(ts_utc) FROM typed"
    ).fetchall()
    bad, rows, meters, first, last = found
    broken = (0,) * len(_RULES)
    if bad:
        (counted,) = con.execute(
            "SELECT "
            + ", ".join(f"count(*) FILTER (WHERE {rule[1]})" for rule in _RULES)
            + " FROM typed"
        ).fetchall()
        broken = tuple(int(c) for c in counted)
        if not any(broken):
            raise WorkspaceError(f"{bad} reading(s) break no rule but are not good")
    # meters sort as their UTF-8 bytes in DuckDB, as code points in Python: the same order
    listed = sorted(str(m) for m in meters or () if m is not None)
    return _Scan(
        broken=broken,
        rows=int(rows),
        meters=listed,
        bounds=None if not listed or first is None else (listed[0], listed[-1], first, last),
    )


def _row_issues(
    con: duckdb.DuckDBPyConnection, name: str, broken: tuple[int, ...]
) -> tuple[list[Issue], int]:
    """The rows that break a rule (the first :data:`ISSUE_CAP`), and how many there are."""
    issues: list[Issue] = []
    total = 0
    for (column, condition, shown_column, problem, fix), n in zip(_RULES, broken, strict=True):
        if not n:
            continue
        total += n
        room = max(0, ISSUE_CAP - len(issues))
        chosen = f"SELECT __row FROM typed WHERE {condition} ORDER BY __row LIMIT {room}"
        if shown_column in ("ts_text", "value_text"):
            # the text as written, from the file itself, for the named rows only
            raw = "timestamp" if shown_column == "ts_text" else "value"
            query = (
                f"SELECT __row, CAST({sql_ident(raw)} AS VARCHAR) FROM src "
                f"WHERE __row IN ({chosen}) ORDER BY __row"
            )
        else:
            source = "meter" if shown_column == "meter_text" else shown_column
            query = f"SELECT __row, {source} FROM ({chosen}) JOIN typed USING (__row) ORDER BY 1"
        for row, value in con.execute(query).fetchall():
            issues.append(
                Issue(name, int(row), column, None if value is None else str(value), problem, fix)
            )
    return issues, total


def _refuse_duplicates(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Raise :class:`InputError` naming the rows whose key (meter, instant) an earlier row
    already gave, if there are any. A hash of every key: run only when a cheaper test (the
    order of the written file, the stored readings met twice) found a key twice, or when
    the file is refused anyway (conflicts), so that the duplicates are named first."""
    issues: list[Issue] = []
    total = 0
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
    if total:
        raise InputError(
            f"{name} was rejected: {total} problem(s); nothing was imported", issues, total
        )


def _order(
    path: Path, meter: str = "meter", instant: str = "ts_utc", *, batches: int | None = None
) -> str:
    """How the keys (``meter``, ``instant``) of a Parquet file follow each other, read back
    in batches (of at most one row group; only the first ``batches`` when given):
    ``"increasing"`` (sorted, every key once), ``"repeated"`` (a key right after itself:
    given twice) or ``"unordered"`` (neither; found at the first step back). The meters are
    read as the file's dictionary (:func:`_steps`)."""
    previous: tuple[str, int] | None = None
    with pq.ParquetFile(path, read_dictionary=[meter]) as parquet:
        for done, batch in enumerate(
            parquet.iter_batches(batch_size=_ORDER_BATCH, columns=[meter, instant])
        ):
            if batches is not None and done >= batches:
                break
            if not batch.num_rows:
                continue
            found, previous = _steps(
                batch.column(0), batch.column(1).cast(pa.int64()).to_numpy(), previous
            )
            if found is not None:
                return found
    return "increasing"


def _source_order(path: Path, keys: tuple[str, str]) -> str:
    """Whether a Parquet file with typed instants and text meters (``keys``: its own column
    names) may be sorted already: :func:`_order` of the first rows of its first row group
    and of four more spread over the file, each sample after the one before (the keys of a
    sorted file increase across samples too). Only a hint: what is written is read back."""
    previous: tuple[str, int] | None = None
    try:
        with pq.ParquetFile(path, read_dictionary=[keys[0]]) as parquet:
            groups = parquet.num_row_groups
            for group in sorted({0, groups // 4, groups // 2, 3 * groups // 4, groups - 1}):
                batch = next(
                    parquet.iter_batches(
                        batch_size=_ORDER_BATCH, row_groups=[group], columns=list(keys)
                    ),
                    None,
                )
                if batch is None or not batch.num_rows:
                    continue
                found, previous = _steps(
                    batch.column(0), batch.column(1).cast(pa.int64()).to_numpy(), previous
                )
                if found is not None:
                    return found
    except (pa.ArrowException, OSError, LookupError, TypeError, ValueError):
        return "unordered"  # no hint: the file is sorted, which is always right
    return "increasing"


def _steps(
    meters: pa.DictionaryArray, instants: Any, previous: tuple[str, int] | None
) -> tuple[str | None, tuple[str, int]]:
    """The steps of one row group (``meters`` an index per row into their texts,
    ``instants`` microseconds), after the key ``previous``: ``("repeated" or "unordered",
    ...)`` at the first bad step, else ``(None, the last key)``. Between rows of one index
    only the instants are compared, the texts only where the index changes (they compare
    as their UTF-8 bytes, as DuckDB sorts; two indices of one text are one meter)."""
    codes = meters.indices.to_numpy(zero_copy_only=False)
    names = meters.dictionary
    last = (str(names[int(codes[-1])].as_py()), int(instants[-1]))
    first = (str(names[int(codes[0])].as_py()), int(instants[0]))
    if previous is not None and first <= previous:
        return ("repeated" if first == previous else "unordered"), last
    same = codes[1:] == codes[:-1]
    later = np.zeros(len(same), dtype=bool)
    changes = np.flatnonzero(~same)
    if changes.size:
        before = names.take(pa.array(codes[changes]))
        after = names.take(pa.array(codes[changes + 1]))
        later[changes] = pc.less(before, after).to_numpy(zero_copy_only=False)
        same[changes] = pc.equal(before, after).to_numpy(zero_copy_only=False)
    if np.any(same & (instants[1:] == instants[:-1])):
        return "repeated", last
    if not np.all(later | (same & (instants[1:] > instants[:-1]))):
        return "unordered", last
    return None, last


def _streamed(types: dict[str, str]) -> bool:
    """Whether ``typed`` can stay a view, computed again by each scan: an instant and a
    number as read (cheap); text to parse or local times to place in a zone are computed
    once, into a table."""
    return types["timestamp"].startswith("TIMESTAMP WITH TIME ZONE") and types["value"] not in (
        "VARCHAR",
        "BLOB",
        "BOOLEAN",
    )


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
        name, rows, _first, keys = _open(con, path)
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
        types = _types(con)
        try:
            streamed = _streamed(types)
            con.execute(f"CREATE {'VIEW' if streamed else 'TABLE'} typed AS {_typed_sql(types)}")
            if streamed:
                con.execute(f"CREATE VIEW in_order AS {_typed_sql(types, joined=False)}")
            scan = _scan_rows(con)
        except duckdb.Error as exc:
            if detect_format(path) == "parquet":
                raise parquet_damage(name, exc) from exc
            raise
        issues, total = _row_issues(con, name, scan.broken)
        if total:
            raise InputError(
                f"{name} was rejected: {total} problem(s); nothing was imported", issues, total
            )
        # each meter's rank in the order of the texts (UTF-8 bytes, as DuckDB sorts): the
        # sort key of a file that needs sorting (``_store``)
        con.register(
            "ranks_arrow",
            pa.table({"meter": scan.meters, "rank": pa.array(range(len(scan.meters)), pa.int32())}),
        )
        con.execute("CREATE TABLE ranks AS SELECT * FROM ranks_arrow")
        # a hint, from samples of the file's rows: already sorted, or to be sorted
        hint = (
            _source_order(path, keys)
            if streamed and keys is not None and types["meter"] == "VARCHAR"
            else "unordered"
        )
        return _store(con, workspace, path, name, digest, batch_id, seen, scan, streamed, hint)


def _conflicts(
    con: duckdb.DuckDBPyConnection, workspace: Workspace, name: str, scan: _Scan
) -> tuple[int, list[Issue], int]:
    """Compare with the stored readings of the file's meters and time span (the lake files
    are read only where their row groups' meter and time bounds meet the file's): the table
    ``same`` gets the rows whose key is stored; return ``(skipped, issues, total)``."""
    con.execute(
        "CREATE OR REPLACE TABLE same AS SELECT __row, meter, ts_utc, value, value AS stored "
        "FROM typed WHERE false"
    )
    replaced = current_context().replaces
    files = [
        (batch, path)
        for batch, path in reading_files(workspace, statuses=LIVE_STATUSES)
        if batch not in replaced
    ]
    if not files or scan.bounds is None:
        return 0, [], 0
    low, high, first, last = scan.bounds
    stored = (
        f"SELECT meter, ts_utc, value FROM {_scan(files)} "
        f"WHERE meter BETWEEN {sql_literal(low)} AND {sql_literal(high)} "
        f"AND ts_utc BETWEEN TIMESTAMP {sql_literal(str(first))} "
        f"AND TIMESTAMP {sql_literal(str(last))}"
    )
    met = con.execute(f"SELECT count(*) FROM ({stored})").fetchone()
    if not met or not met[0]:
        return 0, [], 0
    con.execute(
        f"CREATE OR REPLACE TABLE same AS SELECT t.__row, t.meter, t.ts_utc, t.value, "
        f"r.value AS stored FROM typed t JOIN ({stored}) r "
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
    scan: _Scan,
    streamed: bool,
    hint: str,
) -> ImportResult:
    skipped, issues, total = _conflicts(con, workspace, name, scan)
    if total:
        _refuse_duplicates(con, name)  # a key given twice is named before a conflict
        raise InputError(
            f"{name} was rejected: {total} reading(s) differ from stored ones; nothing was "
            "imported",
            issues,
            total,
        )
    if skipped:
        # every row of a stored key is in ``same``: a key given twice there is checked there
        twice = con.execute("SELECT count(*) - count(DISTINCT (meter, ts_utc)) FROM same")
        found = twice.fetchone()
        if found and found[0]:
            _refuse_duplicates(con, name)
        new = "FROM typed WHERE __row NOT IN (SELECT __row FROM same)"
        stats = con.execute(f"SELECT count(*), min(ts_utc), max(ts_utc) {new}").fetchone()
        if stats is None:
            raise WorkspaceError("DuckDB returned no statistics")
        count, first, last = int(stats[0]), stats[1], stats[2]
        meters = [
            str(r[0]) for r in con.execute(f"SELECT DISTINCT meter {new} ORDER BY 1").fetchall()
        ]
    else:
        new = "FROM typed"
        count, meters = scan.rows, scan.meters
        first, last = (None, None) if scan.bounds is None else scan.bounds[2:]
    n_meters = len(meters)

    def write_file(temporary: Path) -> None:
        # As the file comes where that can be sorted already (instants and meters as read,
        # nothing skipped, sampled rows in order; the connection keeps insertion order): a
        # file sorted by meter and time — the usual export — needs no sort, and reading the
        # keys back proves both the order and that no key is given twice. Otherwise sorted
        # (by each meter's rank among the file's meters, an integer, then time: the order
        # of meter and time, with a cheaper key) and read back for keys given twice, now
        # side by side.
        target = sql_literal(str(temporary))
        order = "unordered"
        rows = "FROM in_order" if streamed and not skipped else new
        if hint == "increasing" and not skipped:
            con.execute(
                f"COPY (SELECT meter, ts_utc, value FROM in_order) TO {target} "
                "(FORMAT parquet, COMPRESSION zstd)"
            )
            order = _order(temporary)
        if order == "unordered":
            con.execute("SET preserve_insertion_order = false")  # ORDER BY still holds
            try:
                con.execute(
                    f"COPY (SELECT t.meter, t.ts_utc, t.value FROM (SELECT meter, ts_utc, "
                    f"value {rows}) t LEFT JOIN ranks r ON r.meter = t.meter "
                    f"ORDER BY r.rank, t.ts_utc) TO {target} (FORMAT parquet, COMPRESSION zstd)"
                )
            finally:
                con.execute("SET preserve_insertion_order = true")
            order = _order(temporary)
        if order == "repeated":
            _refuse_duplicates(con, name)
        if order != "increasing" or pq.read_metadata(temporary).num_rows != count:
            raise WorkspaceError(f"the readings of {name} could not be sorted by meter and time")

    def recheck() -> Any:
        now_stored, again, again_total = _conflicts(con, workspace, name, scan)
        if again_total:
            raise InputError(
                f"{name} was rejected: {again_total} reading(s) differ from readings stored "
                "meanwhile; nothing was imported",
                again,
                again_total,
            )
        if now_stored != skipped:
            # another import stored some of these keys (same values) after the check: the
            # written file holds them too, and storing it would count them twice
            raise ConflictError(
                f"{name} was not imported: another import stored "
                f"{now_stored - skipped} of its readings while it was being checked; "
                "nothing was imported — import the file again (readings already stored are "
                "skipped)"
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
    return commit_lake_batch(
        workspace,
        KIND,
        path,
        digest,
        lake_dir=LAKE_DIR,
        batch_id=batch_id,
        write_file=write_file,
        rows=count,
        message=(
            f"Imported {count} reading(s) of {n_meters} meter(s) from {name} as batch "
            f"{batch_id}"
            + (f" ({first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC)" if count else "")
            + (f"; {skipped} reading(s) already stored were skipped" if skipped else "")
            + "."
        ),
        summary=summary,
        seen=seen,
        recheck=recheck,
    )
