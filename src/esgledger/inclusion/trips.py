"""Import of carbon-inclusion trips into the lake: ``esgledger import WS --kind trips FILE``.

碳普惠出行记录导入（写入数据湖；账户标识假名化）。

A trips file has the columns ``trip_id``, ``account``, ``operator``, ``mode``,
``start_time``, ``end_time`` (required) and ``origin``, ``destination``, ``distance_km``,
``channel`` (``esgledger/schema/trip_columns.csv``, Chinese headers 行程编号, 账户…; CSV in
UTF-8 or GB18030, XLSX or Parquet, within the size limits of
:mod:`esgledger.ingest.limits`). Times are ISO 8601 with an offset
(``2024-05-01T08:15:00+08:00``) or local times of the programme's zone (``Asia/Shanghai``,
a parameter); Parquet timestamps with a zone are instants, without one local times.

Every row is checked in DuckDB, the whole file in a few scans and no Python loop per row:
the ids (trip, account, operator, mode) are not empty, no text holds a NUL, a code holds no
control or invisible character (:data:`esgledger.ingest.values_guard.INVISIBLE_RE2`) and no
text is longer than :data:`MAX_CHARS`; times are times of the years 1900 to 2199 and the end
is not before the start; a distance is a plain finite number from 0 to
:data:`MAX_DISTANCE_KM`; the mode is one of the methodology's modes (the service passes them;
without a methodology chosen by ``esgledger inclusion use`` the file is refused); no
(operator, trip_id) is given twice. Every problem names the file, row, column and value.

Trips are idempotent per (operator, trip_id): a key already stored (in a live batch) with
the same content — account, mode, start, end, distance, channel — is skipped and counted,
with different content refused, naming the batch that has it.

What is stored, whole or not at all (one transaction, :func:`commit_lake_batch`):

* ``lake/inclusion/trips/<batch_id>.parquet`` — ``operator, trip_id, account`` (the
  pseudonym, :mod:`esgledger.inclusion.accounts`), ``mode`` (lower case), ``start_utc``,
  ``end_utc`` (TIMESTAMP WITH TIME ZONE, UTC), ``distance_m`` (int64, the floor of km × 1000:
  the conservative rounding; null when not given), ``channel``, ``batch_id``, ``row`` (the
  file's row), sorted by account and start;
* ``lake/inclusion/od/<batch_id>.parquet`` — ``operator, trip_id, origin, destination``,
  apart, so that the retention policy can delete them (:func:`purge_od`);
* an ``inclusion_accounts`` row for each account's first trip (:func:`ensure_accounts`),
  in the import's transaction, with the batch, its audit event ``import.trips`` and the
  rename of both files.

How, at 10 M trips (measured on 2 CPUs: a 1.07 GB CSV of 10 M trips and 1 M accounts in
36 s, 0.94 GiB peak memory; 1 M trips in 6 s on SQLite or PostgreSQL): the file is staged
once as text (:func:`esgledger.ingest.readers.stage_table`), every cell is typed once into a
Parquet file of DuckDB's spill folder (:func:`_materialise`: NFC, blanks trimmed only where
a cell has them, instants without a time-zone lookup when an offset is given) which the
checks scan (one pass counts the bad rows; each rule's rows are listed only then); keys
given twice are looked for by a 64-bit hash first and named by an exact query only when
two hashes meet; each distinct account is pseudonymised once in Python (HMAC, about 1 µs);
the lake file is sorted by each pseudonym's integer rank and the start; the accounts are
inserted sorted, 50 000 per statement, from one array value (``json_each`` / ``unnest``).

The raw account ids are read into DuckDB (in memory, or its private spill folder removed on
close) and replaced by their pseudonyms before anything is written: they are in no lake
file, table or log; a message shows one only as the offending cell of a row.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from esgledger.errors import ConflictError, InputError, Issue, WorkspaceError, shown
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
from esgledger.ingest.values_guard import (
    INVISIBLE_PROBLEM,
    INVISIBLE_RE2,
    NUL_PROBLEM,
    TEXT_FIX_INVISIBLE,
    TEXT_FIX_NUL,
    is_code_column,
    number_sql,
)
from esgledger.inventory._duckdb import connect

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from esgledger.access.principal import Principal
    from esgledger.store import Workspace
    from esgledger.store.models import ImportBatch

__all__ = [
    "DEFAULT_ZONE",
    "ISSUE_CAP",
    "KIND",
    "LAKE_DIR",
    "MAX_CHARS",
    "MAX_DISTANCE_KM",
    "OD_DIR",
    "allowed_modes",
    "import_trips",
    "od_files",
    "purge_od",
    "trips_files",
]

KIND = "trips"
#: Folder of the trips batches, under the workspace's lake.
LAKE_DIR = "inclusion/trips"
#: Folder of the origins and destinations of each batch (deleted by :func:`purge_od`).
OD_DIR = "inclusion/od"
#: The programme's zone: local times are read in it.
DEFAULT_ZONE = "Asia/Shanghai"
#: The longest trip accepted [km]: an urban trip of more is a slip (metres for km?).
MAX_DISTANCE_KM = 1000
#: At most this many issues are listed (all are counted).
ISSUE_CAP = 1000
#: The longest text accepted per column [characters].
MAX_CHARS: Mapping[str, int] = {
    "trip_id": 128,
    "account": 128,
    "operator": 64,
    "mode": 40,
    "channel": 64,
    "origin": 200,
    "destination": 200,
}
_TEXT = ("trip_id", "account", "operator", "mode", "channel", "origin", "destination")
_REQUIRED_IDS = ("trip_id", "account", "operator", "mode")
#: Whitespace Python's ``str.strip`` removes (so the import's trim is the pseudonym's).
_BLANKS = (
    " \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_TIME_FIX = (
    "write ISO 8601 with an offset (2024-05-01T08:15:00+08:00) or a local time "
    "(2024-05-01 08:15:00) in the programme's zone"
)
_NO_METHODOLOGY = (
    "the carbon-inclusion programme has no methodology yet (碳普惠项目尚未选择方法学): "
    "choose a methodology with `esgledger inclusion use WS ID`"
)


# ---- the batch registry -----------------------------------------------------------------


def _batches(
    workspace: Workspace, statuses: tuple[str, ...] | None
) -> list[tuple[str, str | None, dict[str, Any]]]:
    from esgledger.store.models import ImportBatch

    with workspace.session() as session:
        query = session.query(ImportBatch.id, ImportBatch.lake_path, ImportBatch.summary).filter(
            ImportBatch.kind == KIND
        )
        if statuses is not None:
            query = query.filter(ImportBatch.status.in_(statuses))
        rows = query.order_by(ImportBatch.imported_at, ImportBatch.id).all()
    return [(str(b), None if p is None else str(p), dict(s or {})) for b, p, s in rows]


def trips_files(workspace: Workspace, *, statuses: tuple[str, ...] = ("approved",)) -> list[Path]:
    """The lake files of the trips batches of ``statuses`` (what settlement reads:
    approved), in the order they were imported, from the batch registry.

    Raises
    ------
    WorkspaceError
        If a registered batch's file is missing.
    """
    return [path for _, path in _trips_batches(workspace, statuses)]


def _trips_batches(workspace: Workspace, statuses: tuple[str, ...]) -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    for batch_id, lake_path, _ in _batches(workspace, statuses):
        file = workspace.lake / (lake_path or f"{LAKE_DIR}/{batch_id}.parquet")
        if not file.is_file():
            raise WorkspaceError(
                f"the trips of batch {batch_id} are missing from the lake ({lake_path}); "
                "run esgledger doctor"
            )
        found.append((batch_id, file))
    return found


def od_files(workspace: Workspace, *, statuses: tuple[str, ...] = ("approved",)) -> list[Path]:
    """The origin/destination files of the trips batches of ``statuses`` not yet purged
    (:func:`purge_od`), from the batch registry.

    Raises
    ------
    WorkspaceError
        If a registered, unpurged batch's file is missing.
    """
    found: list[Path] = []
    for batch_id, _, summary in _batches(workspace, statuses):
        if summary.get("od_purged_at"):
            continue
        file = workspace.lake / str(summary.get("od_file") or f"{OD_DIR}/{batch_id}.parquet")
        if not file.is_file():
            raise WorkspaceError(
                f"the origins and destinations of batch {batch_id} are missing from the lake "
                f"({file.relative_to(workspace.lake)}); run esgledger doctor"
            )
        found.append(file)
    return found


def purge_od(
    workspace: Workspace,
    older_than: date,
    *,
    principal: Principal | None = None,
    zone: str = DEFAULT_ZONE,
) -> int:
    """Delete the origin/destination files of the trips batches (any status) whose trips
    all end before ``older_than`` (midnight in ``zone``); return how many were deleted.

    The registry marks each batch purged (``od_purged_at`` in its summary) and the audit
    event ``inclusion.purge`` names them, in one transaction; the files are removed after
    it commits (a file left by a failure is removed by the next purge).
    """
    from esgledger import audit
    from esgledger.access.principal import Principal
    from esgledger.store.models import ImportBatch

    who = principal if principal is not None else Principal.local()
    cutoff = datetime.combine(older_than, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    chosen: list[str] = []
    leftovers: list[Path] = []
    for batch_id, lake_path, summary in _batches(workspace, None):
        od = workspace.lake / str(summary.get("od_file") or f"{OD_DIR}/{batch_id}.parquet")
        if summary.get("od_purged_at"):
            if od.exists():
                leftovers.append(od)
            continue
        last = _last_end(workspace.lake / (lake_path or f"{LAKE_DIR}/{batch_id}.parquet"))
        if last is not None and last < cutoff:
            chosen.append(batch_id)
    removed: list[Path] = []
    if chosen:
        now = datetime.now(UTC)
        with workspace.write_lock() as session:
            for batch in session.query(ImportBatch).filter(ImportBatch.id.in_(chosen)):
                summary = dict(batch.summary or {})
                removed.append(
                    workspace.lake / str(summary.get("od_file") or f"{OD_DIR}/{batch.id}.parquet")
                )
                summary["od_purged_at"] = now.isoformat()
                batch.summary = summary
            audit.record(
                session,
                who,
                "inclusion.purge",
                "trips",
                None,
                detail={"older_than": older_than.isoformat(), "batches": sorted(chosen)},
            )
    for file in [*removed, *leftovers]:
        file.unlink(missing_ok=True)
    return len(chosen)


def _last_end(path: Path) -> datetime | None:
    """The latest ``end_utc`` of a trips file (from its row-group statistics), or None."""
    if not path.is_file():
        return None
    metadata = pq.read_metadata(path)
    names = metadata.schema.to_arrow_schema().names
    index = names.index("end_utc")
    last: datetime | None = None
    for group in range(metadata.num_row_groups):
        stats = metadata.row_group(group).column(index).statistics
        if stats is None or not stats.has_min_max:
            table = pq.read_table(path, columns=["end_utc"])
            value = pc.max(table.column(0)).as_py()
            return None if value is None else _utc(value)
        high = _utc(stats.max)
        last = high if last is None or high > last else last
    return last


def _utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(int(value) / 1e6, UTC)  # microseconds


# ---- the methodology's modes ------------------------------------------------------------


def allowed_modes(workspace: Workspace) -> frozenset[str]:
    """The modes of the workspace's methodology (``inclusion_programme`` key
    ``methodology``, read from :mod:`esgledger.inclusion.methodology`).

    Raises
    ------
    InputError
        If no methodology was chosen (``esgledger inclusion use WS ID``).
    """
    from esgledger.store.models_inclusion import InclusionProgramme

    with workspace.session() as session:
        row = session.get(InclusionProgramme, "methodology")
        chosen = None if row is None else row.value
    if not chosen:
        raise InputError(
            _NO_METHODOLOGY,
            [
                Issue(
                    "",
                    None,
                    None,
                    None,
                    "no methodology chosen",
                    "choose a methodology with `esgledger inclusion use WS ID` "
                    "(`esgledger inclusion methodologies` lists them)",
                )
            ],
        )
    from esgledger.inclusion import methodology  # type: ignore[attr-defined,unused-ignore]

    # every version's modes: a trip of an earlier version's period may use a mode since
    # retired (settlement applies the factor in force on the trip's day)
    versions = getattr(methodology, "versions", None)
    found = versions(chosen) if versions is not None else (methodology.get(chosen),)
    names: set[str] = set()
    for version in found:
        modes = version.modes
        names.update(modes.keys() if isinstance(modes, Mapping) else (m.mode for m in modes))
    return frozenset(str(n).lower() for n in names)


# ---- reading the file -------------------------------------------------------------------


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
    folder = Path(str(con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0]))
    try:
        con.execute("SET TimeZone = 'UTC'")
        yield con
    finally:
        con.close()
        # the staged and typed copies hold the raw account ids: gone with the connection
        # (DuckDB removes its spill folder; this is in case it does not)
        if folder.is_dir():
            for pattern in ("staged-*.parquet", "typed-*.parquet"):
                for file in folder.glob(pattern):
                    file.unlink(missing_ok=True)


def _open(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[str, int]:
    """Create the view ``src(__row, <every column>)`` (absent optional columns NULL);
    return the file's shown name and its row count."""
    columns, required = _header_map()
    fmt = detect_format(path)
    if path.stat().st_size == 0:
        raise _reject(path.name, "the file is empty", "export the trips with their header row")
    if fmt == "parquet":
        check_size(path, "parquet")
        try:
            metadata = pq.read_metadata(path)
            schema = metadata.schema.to_arrow_schema()
        except (pa.ArrowInvalid, OSError) as exc:
            raise parquet_damage(path.name, exc) from exc
        names = canonical_names(path, list(schema.names), columns, required)
        present = {canon: raw for raw, canon in zip(schema.names, names, strict=True)}
        source = f"read_parquet({sql_literal(str(path))}, file_row_number = true)"
        first, shown_name, rows = 1, path.name, int(metadata.num_rows)
    else:
        folder = con.execute("SELECT current_setting('temp_directory')").fetchall()[0]
        Path(str(folder[0])).mkdir(parents=True, exist_ok=True)
        staged = stage_table(path, str(folder[0]), columns=columns, required=required)
        present = {n: n for n in staged.columns if n in columns}
        source = f"read_parquet({sql_literal(str(staged.parquet))}, file_row_number = true)"
        first, shown_name, rows = staged.first_row, staged.file, staged.num_rows
    select = ", ".join(
        f"{sql_ident(present[c])} AS {sql_ident(c)}" if c in present else f"NULL::VARCHAR AS {c}"
        for c in columns
    )
    con.execute(
        f"CREATE VIEW src AS SELECT file_row_number + {first} AS __row, {select} FROM {source}"
    )
    return shown_name, rows


def _types(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return {str(r[0]): str(r[1]).upper() for r in con.execute("DESCRIBE src").fetchall()}


def _instant_sql(column: str, type_: str, zone: str) -> str:
    """SQL: the UTC instant (naive TIMESTAMP) of ``column`` of ``src``, NULL when not one."""
    return instant_sql(f"s.{sql_ident(column)}", type_, sql_literal(zone))


def _typed_sql(types: dict[str, str], zone: str) -> str:
    """SQL of the view ``typed``: texts in NFC without surrounding blanks (as
    :func:`esgledger.inclusion.accounts.pseudonym` strips them; NULL when empty), the mode
    in lower case, the instants in UTC and the distance in km as DOUBLE (NULL when absent or
    not a number; ``distance_given`` says whether a cell was given)."""
    parts = ["s.__row"]
    blanks = sql_literal(_BLANKS)
    # a multi-character trim costs ten times a regex on every cell: only where a blank is
    ends = sql_literal(f"^[{_BLANKS}]|[{_BLANKS}]$")
    for column in _TEXT:
        nfc = f"nfc_normalize(CAST(s.{sql_ident(column)} AS VARCHAR))"
        text = f"CASE WHEN regexp_matches({nfc}, {ends}) THEN trim({nfc}, {blanks}) ELSE {nfc} END"
        value = f"nullif({text}, '')"
        if column == "mode":
            value = f"lower({value})"
        parts.append(f"{value} AS {column}")
    parts.append(f"{_instant_sql('start_time', types['start_time'], zone)} AS start_utc")
    parts.append(f"{_instant_sql('end_time', types['end_time'], zone)} AS end_utc")
    distance_type = types["distance_km"]
    if distance_type in ("VARCHAR", "BLOB", '"NULL"', "NULL"):
        raw = "trim(CAST(s.distance_km AS VARCHAR))"
        parts.append(f"{number_sql(raw)} AS distance_km")
        parts.append(f"coalesce({raw} <> '', false) AS distance_given")
    elif distance_type == "BOOLEAN":
        parts.append("CAST(NULL AS DOUBLE) AS distance_km")
        parts.append("s.distance_km IS NOT NULL AS distance_given")
    else:
        parts.append("TRY_CAST(s.distance_km AS DOUBLE) AS distance_km")
        parts.append("s.distance_km IS NOT NULL AS distance_given")
    return f"SELECT {', '.join(parts)} FROM src s"


def _materialise(con: duckdb.DuckDBPyConnection, types: dict[str, str], zone: str) -> None:
    """Compute the typed rows once into a Parquet file of DuckDB's private spill folder
    (memory stays within DuckDB's limit whatever the file's size; the folder is removed when
    the connection closes) and make ``typed`` a view of it, with ``known_mode`` and
    ``key_hash`` (a 64-bit hash of operator and trip id: a cheap first test for keys given
    twice)."""
    folder = con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0]
    Path(str(folder)).mkdir(parents=True, exist_ok=True)
    target = Path(str(folder)) / f"typed-{uuid.uuid4().hex}.parquet"
    con.execute(
        f"COPY (SELECT t.*, m.mode IS NOT NULL AS known_mode, "
        f"hash(t.operator, t.trip_id) AS key_hash FROM ({_typed_sql(types, zone)}) t "
        "LEFT JOIN modes m ON m.mode = t.mode) "
        f"TO {sql_literal(str(target))} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 122880)"
    )
    con.execute(f"CREATE VIEW typed AS SELECT * FROM read_parquet({sql_literal(str(target))})")


def _rules(max_distance_km: float) -> list[tuple[str, str, str, str]]:
    """``(column, condition on typed/raw, problem, fix)`` of each row rule."""
    rules: list[tuple[str, str, str, str]] = []
    for column in _REQUIRED_IDS:
        rules.append(
            (
                column,
                f"{column} IS NULL",
                f"the {column} is empty",
                f"give the {column} of every trip",
            )
        )
    rules.append(
        (
            "mode",
            "mode IS NOT NULL AND NOT known_mode",
            "not a mode of the programme's methodology",
            "use one of the modes listed by `esgledger inclusion methodologies --show ID`",
        )
    )
    for column in _TEXT:
        rules.append((column, f"contains({column}, chr(0))", NUL_PROBLEM, TEXT_FIX_NUL))
        if is_code_column(column):
            rules.append(
                (
                    column,
                    f"regexp_matches({column}, {sql_literal(INVISIBLE_RE2)}) "
                    f"AND NOT contains({column}, chr(0))",
                    INVISIBLE_PROBLEM,
                    TEXT_FIX_INVISIBLE,
                )
            )
        limit = MAX_CHARS[column]
        rules.append(
            (
                column,
                f"length({column}) > {limit}",
                f"longer than {limit} characters",
                f"check the {column} (at most {limit} characters)",
            )
        )
    for column, instant in (("start_time", "start_utc"), ("end_time", "end_utc")):
        rules.append((column, f"{instant} IS NULL", "not a time", _TIME_FIX))
        rules.append(
            (
                column,
                f"{instant} IS NOT NULL AND NOT ({instant} >= TIMESTAMP '{FIRST_INSTANT}' "
                f"AND {instant} < TIMESTAMP '{END_INSTANT}')",
                "a time outside the years 1900 to 2199",
                "check the year of the trip",
            )
        )
    rules.append(
        (
            "end_time",
            "end_utc < start_utc",
            "the trip ends before it starts",
            "check the start and end times (and their offsets)",
        )
    )
    rules.append(
        (
            "distance_km",
            "distance_given AND distance_km IS NULL",
            "not a number",
            "write the distance in km as a plain number such as 12.5, or leave it empty",
        )
    )
    rules.append(
        (
            "distance_km",
            f"distance_km IS NOT NULL AND NOT (distance_km >= 0 "
            f"AND distance_km <= {float(max_distance_km)!r})",
            f"not a finite distance from 0 to {max_distance_km} km",
            "check the distance (in km, not m)",
        )
    )
    return rules


def _row_issues(
    con: duckdb.DuckDBPyConnection,
    name: str,
    rules: list[tuple[str, str, str, str]],
    broken: Sequence[int],
) -> list[Issue]:
    """The rows that break each rule (the first :data:`ISSUE_CAP` in all), with the cell
    as the file gives it."""
    issues: list[Issue] = []
    for (column, condition, problem, fix), n in zip(rules, broken, strict=True):
        room = ISSUE_CAP - len(issues)
        if not n or room <= 0:
            continue
        query = (
            f"SELECT __row, CAST({sql_ident(column)} AS VARCHAR) FROM src WHERE __row IN "
            f"(SELECT __row FROM typed WHERE {condition} ORDER BY __row LIMIT {room}) "
            "ORDER BY __row"
        )
        for row, value in con.execute(query).fetchall():
            issues.append(Issue(name, int(row), column, value, problem, fix))
    issues.sort(key=lambda i: i.row or 0)  # stable: a row's problems in the rules' order
    return issues


def _check_rows(
    con: duckdb.DuckDBPyConnection, name: str, max_distance_km: float
) -> tuple[int, datetime | None, datetime | None]:
    """One scan: refuse the file naming each bad row, else return its row count and first
    start and last end."""
    rules = _rules(max_distance_km)
    any_bad = " OR ".join(f"coalesce({c}, false)" for _, c, _, _ in rules)
    (found,) = con.execute(
        f"SELECT count(*) FILTER (WHERE {any_bad}), count(*), min(start_utc), max(end_utc) "
        "FROM typed"
    ).fetchall()
    bad, rows, first, last = found
    if bad:
        (counted,) = con.execute(
            "SELECT "
            + ", ".join(f"count(*) FILTER (WHERE coalesce({c}, false))" for _, c, _, _ in rules)
            + " FROM typed"
        ).fetchall()
        broken = [int(c) for c in counted]
        total = sum(broken)
        raise InputError(
            f"{name} was rejected: {total} problem(s); nothing was imported",
            _row_issues(con, name, rules, broken),
            total,
        )
    return int(rows), first, last


def _refuse_duplicates(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Refuse the file when an (operator, trip_id) is given twice, naming both rows."""
    (found,) = con.execute("SELECT count(*) - count(DISTINCT key_hash) FROM typed").fetchall()
    if not found[0]:
        return  # distinct hashes: distinct keys
    twice = con.execute(
        "SELECT operator, trip_id, list(__row ORDER BY __row) FROM typed "
        "GROUP BY operator, trip_id HAVING count(*) > 1 ORDER BY min(__row) "
        f"LIMIT {ISSUE_CAP}"
    ).fetchall()
    if not twice:
        return
    issues: list[Issue] = []
    total = 0
    for operator, trip_id, rows in twice:
        total += len(rows) - 1
        for row in rows[1:]:
            if len(issues) < ISSUE_CAP:
                issues.append(
                    Issue(
                        name,
                        int(row),
                        "trip_id",
                        str(trip_id),
                        f"trip {shown(trip_id, 80)} of operator {shown(operator, 60)} is "
                        f"given twice (rows {rows[0]} and {row})",
                        "keep one row per operator and trip id",
                    )
                )
    raise InputError(
        f"{name} was rejected: {total} trip(s) given twice; nothing was imported",
        issues,
        total,
    )


def _pseudonyms(con: duckdb.DuckDBPyConnection, key: bytes) -> int:
    """Table ``pseud(account, pseudonym)`` for the file's distinct accounts (their HMAC in
    Python, once per account); return how many accounts."""
    from esgledger.inclusion.accounts import pseudonymiser

    accounts = con.sql("SELECT DISTINCT account FROM typed").to_arrow_table().column(0)
    one = pseudonymiser(key)
    names = accounts.to_pylist()
    pseudonyms = pa.array([one(a) for a in names], pa.string())
    # each pseudonym's rank in their order (as DuckDB sorts texts, by UTF-8 bytes; the
    # pseudonyms are ASCII): the lake file is sorted by this integer, cheaper than the text
    order = pc.sort_indices(pseudonyms)
    ranks = np.empty(len(names), dtype=np.int32)
    ranks[order.to_numpy()] = np.arange(len(names), dtype=np.int32)
    con.register(
        "pseud_arrow",
        pa.table({"account": accounts, "pseudonym": pseudonyms, "rank": pa.array(ranks)}),
    )
    con.execute("CREATE TABLE pseud AS SELECT * FROM pseud_arrow")
    con.unregister("pseud_arrow")
    return len(names)


_NEW_SQL = (
    "SELECT t.operator, t.trip_id, p.pseudonym AS account, t.mode, "
    "make_timestamptz(epoch_us(t.start_utc)) AS start_utc, "
    "make_timestamptz(epoch_us(t.end_utc)) AS end_utc, "
    "CAST(floor(round(t.distance_km * 1000, 6)) AS BIGINT) AS distance_m, t.channel, "
    "t.__row, p.rank FROM typed t JOIN pseud p ON p.account = t.account"
)
_CONTENT = ("account", "mode", "start_utc", "end_utc", "distance_m", "channel")


def _conflicts(
    con: duckdb.DuckDBPyConnection, workspace: Workspace, name: str
) -> tuple[int, list[Issue], int]:
    """Compare the file's trips with the stored ones of the same (operator, trip_id): the
    table ``same`` gets the rows whose key is stored with the same content; return
    ``(skipped, issues, total refused)``."""
    con.execute("CREATE OR REPLACE TABLE same AS SELECT CAST(NULL AS BIGINT) AS __row WHERE false")
    replaced = current_context().replaces
    files = [
        path for batch, path in _trips_batches(workspace, LIVE_STATUSES) if batch not in replaced
    ]
    if not files:
        return 0, [], 0
    listed = ", ".join(sql_literal(str(p)) for p in files)
    con.execute(
        "CREATE OR REPLACE TABLE met AS SELECT n.__row, n.trip_id, n.operator, r.batch_id, "
        + ", ".join(f"n.{c} IS NOT DISTINCT FROM r.{c} AS same_{c}" for c in _CONTENT)
        + f" FROM ({_NEW_SQL}) n JOIN read_parquet([{listed}]) r "
        "ON r.operator = n.operator AND r.trip_id = n.trip_id"
    )
    all_same = " AND ".join(f"same_{c}" for c in _CONTENT)
    con.execute(f"CREATE OR REPLACE TABLE same AS SELECT __row FROM met WHERE {all_same}")
    total = int(con.execute(f"SELECT count(*) FROM met WHERE NOT ({all_same})").fetchall()[0][0])
    issues: list[Issue] = []
    shown_columns = {"account": "account", "start_utc": "start_time", "end_utc": "end_time"}
    for row, operator, trip_id, batch, *flags in con.execute(
        "SELECT __row, operator, trip_id, batch_id, "
        + ", ".join(f"same_{c}" for c in _CONTENT)
        + f" FROM met WHERE NOT ({all_same}) ORDER BY __row LIMIT {ISSUE_CAP}"
    ).fetchall():
        differ = [
            shown_columns.get(c, "distance_km" if c == "distance_m" else c)
            for c, same in zip(_CONTENT, flags, strict=True)
            if not same
        ]
        issues.append(
            Issue(
                name,
                int(row),
                differ[0],
                str(trip_id),
                f"trip {shown(trip_id, 80)} of operator {shown(operator, 60)} is already "
                f"imported in batch {batch} with another {', '.join(differ)}",
                "a trip is imported once: leave unchanged trips as they are, and correct "
                f"batch {batch} with esgledger batches supersede",
            )
        )
    skipped = int(con.execute("SELECT count(*) FROM same").fetchall()[0][0])
    return skipped, issues, total


def _place(temporary: Path, final: Path) -> None:
    os.replace(temporary, final)
    if os.name == "posix":
        descriptor = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def import_trips(
    workspace: Workspace,
    path: Path | str,
    *,
    progress: bool = False,
    modes: Sequence[str] | frozenset[str] | Callable[[Workspace], frozenset[str]] | None = None,
    zone: str = DEFAULT_ZONE,
    max_distance_km: float = MAX_DISTANCE_KM,
) -> ImportResult:
    """Import a trips file into the lake, whole or not at all (see the module docstring).

    Parameters
    ----------
    modes
        The modes allowed (the methodology's), or a function of the workspace that gives
        them; default :func:`allowed_modes` (the workspace's methodology).
    zone
        The IANA zone local times are read in (the methodology's).
    max_distance_km
        The longest distance accepted [km].

    Raises
    ------
    InputError
        If no methodology is chosen, the file is unreadable or empty, or has any invalid
        row, a trip given twice, or a trip already stored with other content; nothing is
        written.
    """
    from esgledger.access import policy
    from esgledger.inclusion.accounts import ensure_accounts, programme_key
    from esgledger.ingest.batches import current_context
    from esgledger.store.repository import batch_id_for, find_batch

    # Trip feeds carry personal data: only the programme's operators import them, whatever
    # face the file came through (CLI, API feed, import job, collection task).
    policy.require(current_context().principal, "inclusion:operate")
    path = Path(path)
    if not path.is_file():
        raise _reject(path.name, f"the file {path} does not exist", "check the path")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise _reject(path.name, f"unknown time zone {zone!r}", "give an IANA zone") from exc
    digest = file_sha256(path)
    done = already_imported(workspace, KIND, path, digest)
    if done is not None:
        return done
    if modes is None:
        allowed = allowed_modes(workspace)
    elif callable(modes):
        allowed = modes(workspace)
    else:
        allowed = frozenset(str(m).strip().lower() for m in modes)
    key = programme_key(workspace)
    batch_id = batch_id_for(KIND, digest)
    seen = batch_ids(workspace)
    with _connection() as con:
        name, rows = _open(con, path)
        if rows == 0:
            raise _reject(name, "the file has no data rows", "add the trips")
        con.register("modes_arrow", pa.table({"mode": pa.array(sorted(allowed), pa.string())}))
        con.execute("CREATE TABLE modes AS SELECT * FROM modes_arrow")
        types = _types(con)
        try:
            _materialise(con, types, zone)
            count, first, last = _check_rows(con, name, max_distance_km)
            _refuse_duplicates(con, name)
        except duckdb.Error as exc:
            if detect_format(path) == "parquet":
                raise parquet_damage(name, exc) from exc
            raise
        n_accounts = _pseudonyms(con, key)
        skipped, issues, total = _conflicts(con, workspace, name)
        if total:
            raise InputError(
                f"{name} was rejected: {total} trip(s) differ from trips already imported; "
                "nothing was imported",
                issues,
                total,
            )
        new = f"FROM ({_NEW_SQL}) n" + (
            " WHERE n.__row NOT IN (SELECT __row FROM same)" if skipped else ""
        )
        count -= skipped
        pseudonyms = (
            # sorted: the accounts' index is filled in order
            con.sql(f"SELECT DISTINCT account {new} ORDER BY 1")
            .to_arrow_table()
            .column(0)
            .to_pylist()
        )
        mode_counts = {
            str(m): int(c)
            for m, c in con.execute(f"SELECT mode, count(*) {new} GROUP BY 1 ORDER BY 1").fetchall()
        }
        od_folder = workspace.lake / OD_DIR
        od_folder.mkdir(parents=True, exist_ok=True)
        od_final = od_folder / f"{batch_id}.parquet"
        od_temporary = od_folder / f".{batch_id}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        placed: list[Path] = []

        def write_file(temporary: Path) -> None:
            con.execute("SET preserve_insertion_order = false")
            con.execute(
                "COPY (SELECT operator, trip_id, account, mode, start_utc, end_utc, distance_m, "
                f"channel, {sql_literal(batch_id)} AS batch_id, __row AS row {new} "
                "ORDER BY rank, start_utc, row) "
                f"TO {sql_literal(str(temporary))} (FORMAT parquet, COMPRESSION zstd)"
            )
            skip = " WHERE __row NOT IN (SELECT __row FROM same)" if skipped else ""
            con.execute(
                "COPY (SELECT operator, trip_id, origin, destination FROM typed"
                f"{skip}) TO {sql_literal(str(od_temporary))} (FORMAT parquet, COMPRESSION zstd)"
            )
            fsync_file(od_temporary)
            if pq.read_metadata(temporary).num_rows != count:
                raise WorkspaceError(f"the trips of {name} were not written whole")

        def write(session: Session, batch: ImportBatch) -> None:
            ensure_accounts(session, pseudonyms, batch.id, datetime.now(UTC))
            _place(od_temporary, od_final)
            placed.append(od_final)

        def recheck() -> Callable[[Session, ImportBatch], None]:
            now_stored, again, again_total = _conflicts(con, workspace, name)
            if again_total:
                raise InputError(
                    f"{name} was rejected: {again_total} trip(s) differ from trips imported "
                    "meanwhile; nothing was imported",
                    again,
                    again_total,
                )
            if now_stored != skipped:
                raise ConflictError(
                    f"{name} was not imported: another import stored "
                    f"{now_stored - skipped} of its trips while it was being checked; "
                    "nothing was imported — import the file again (trips already imported "
                    "are skipped)"
                )
            return write

        summary: dict[str, object] = {
            "trips": count,
            "skipped_as_stored": skipped,
            "accounts": len(pseudonyms),
            "accounts_in_file": n_accounts,
            "modes": mode_counts,
            "first_start_utc": None if first is None else first.isoformat(),
            "last_end_utc": None if last is None else last.isoformat(),
            "zone": zone,
            "od_file": f"{OD_DIR}/{batch_id}.parquet",
        }
        message = (
            f"Imported {count} trip(s) of {len(pseudonyms)} account(s) from {name} as batch "
            f"{batch_id}"
            + (f"; {skipped} trip(s) already imported were skipped" if skipped else "")
            + "."
        )
        try:
            result = commit_lake_batch(
                workspace,
                KIND,
                path,
                digest,
                lake_dir=LAKE_DIR,
                batch_id=batch_id,
                write_file=write_file,
                rows=count,
                message=message,
                summary=summary,
                seen=seen,
                recheck=recheck,
                write=write,
            )
        except BaseException:
            if placed:
                with contextlib.suppress(Exception), workspace.write_lock() as session:
                    if find_batch(session, KIND, digest) is None:
                        od_final.unlink(missing_ok=True)
            raise
        finally:
            od_temporary.unlink(missing_ok=True)
        return result
