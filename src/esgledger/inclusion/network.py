"""Trip distances on a transit network read from a GTFS feed (the trip-distance resolver).

A metro trip is known by its tap-in and tap-out stations; its distance is the shortest path
between them on the network the vehicles run, not the straight line
(``shared/reference/domain-modules.md`` 3.2 "Trip distance", feature 3.4). This module reads a
GTFS feed (https://gtfs.org/documentation/schedule/reference/), builds a graph of stations and
answers ``distance_m(origin, destination)`` for one trip and :meth:`StationNetwork.distances`
for millions at once.

Reading the feed
    GTFS is plain CSV; the tables are read with esgledger's own reader
    (:func:`esgledger.ingest.readers.read_table`: the house size and line limits, UTF-8 or
    GB18030, a header check) and validated here row by row; every error names the file
    (``stop_times.txt``), the row as a person counts it (header = row 1) and the column.
    Two kept GTFS libraries were weighed and not taken. ``gtfs-kit`` 13.0.1 requires
    geopandas, shapely, rtree, folium, requests and json2html — a GIS stack for four CSV
    tables. ``partridge`` 1.1.2 (last release 2023-12) is light (pandas, networkx, isoweek,
    charset-normalizer) but adds nothing we can use: it reads every table with
    ``pandas.read_csv(dtype=str)``, returns an empty table for a missing file instead of an
    error, guesses the encoding heuristically, converts numbers with ``pandas.to_numeric``
    (errors without row or column) and unpacks a zip without size bounds; the strict
    validation would have to be written on top of it anyway. Shortest paths use
    ``scipy.sparse.csgraph.dijkstra`` (scipy is already a dependency; networkx, pure Python,
    would be slower on the all-pairs matrix and adds a dependency). No dependency was added.

    A feed is a ``.zip`` file or a folder holding ``stops.txt``, ``routes.txt``,
    ``trips.txt`` and ``stop_times.txt`` (other files are ignored; ``shapes.txt`` is not
    needed: the distance along the shape is ``stop_times.shape_dist_traveled``). A zip member
    is refused before it is unpacked when it declares more than the ``csv_bytes`` limit or a
    compression ratio past ``xlsx_ratio`` (the house zip-bomb guard,
    :mod:`esgledger.ingest.limits`). Extra columns are ignored, as the GTFS reference asks.

Stations
    Nodes are stations: a stop with a ``parent_station`` belongs to that station (followed up
    to the root: a boarding area to its platform to its station); a stop without one is its
    own station.

Edges and their length
    Consecutive stops of each trip (by ``stop_sequence``) give an edge between their
    stations. Its length is the difference of ``shape_dist_traveled`` when both stops carry
    one — GTFS leaves the unit to the feed, so ``distance_unit`` (``"km"`` or ``"m"``) must
    then be given; it is never guessed — else the haversine distance between the two stops'
    coordinates (WGS84 latitude and longitude): the straight segment between consecutive
    stations, a lower bound of the track length. The haversine uses the sphere of radius
    ``a(1 - e²)`` = 6 335 439.327 m (WGS84), the smallest radius of curvature of the
    ellipsoid (the meridian radius at the equator): every element of length on the ellipsoid
    is at least as long as on that sphere, so the result never exceeds the WGS84 geodesic
    (about 0.4-0.7 % shorter). Lengths are integers of millimetres (``shape_dist_traveled``
    read as an exact decimal, to 10⁻⁹ of its unit; haversine floored), so path sums are exact.
    The graph is undirected and each station pair keeps the shortest of its edges (either
    direction, any route): where uncertain, the lower distance — the conservative choice of
    the methodologies. Walking transfers between distinct stations (``transfers.txt``,
    pathways) are not edges; a change of line inside one station costs nothing.

Distances
    ``distance_m`` is the shortest path in whole metres, floored (conservative); ``None``
    when a station is unknown or not reachable. All-pairs shortest paths are computed once
    (on first use) for networks of up to :data:`FULL_MATRIX_MAX_STATIONS` stations (a metro
    has a few hundred: a 500-station matrix takes milliseconds); larger networks run
    Dijkstra from the distinct origins of each call, in bounded chunks. Names are mapped to
    station indices by hashing (pandas/Arrow), never by a per-trip Python loop.

Matching a station
    ``origin`` and ``destination`` are matched, in this order: (1) a ``stop_id`` of
    ``stops.txt`` — a station's own id or the id of any of its stops, platforms or entrances;
    (2) an exact ``stop_name`` (no case folding or trimming) of a station or of one of its
    stops. An id wins over a name equal to it. A name that matches two or more stations is
    ambiguous and refused (:class:`AmbiguousStationError`): use the ``stop_id``.
"""

from __future__ import annotations

import contextlib
import csv
import math
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray
from scipy.sparse import csr_matrix  # type: ignore[import-untyped]
from scipy.sparse.csgraph import dijkstra  # type: ignore[import-untyped]

from esgledger.errors import EsgledgerError, InputError, Issue, quoted, with_zh
from esgledger.ingest.limits import RATIO_FLOOR_BYTES, describe, human_bytes, limit
from esgledger.ingest.readers import read_table

__all__ = [
    "EARTH_RADIUS_M",
    "FULL_MATRIX_MAX_STATIONS",
    "GTFS_FILES",
    "MISSING",
    "AmbiguousStationError",
    "Station",
    "StationNetwork",
    "haversine_m",
]

#: Radius [m] of the sphere the haversine uses: ``a (1 - e²)`` of WGS84 (a = 6 378 137 m,
#: 1/f = 298.257223563), the meridian radius of curvature at the equator, the smallest radius
#: of curvature of the ellipsoid; distances on it never exceed the WGS84 geodesic.
EARTH_RADIUS_M = 6_378_137.0 * (1.0 - (2.0 / 298.257223563 - (1.0 / 298.257223563) ** 2))

#: Up to this many stations, all-pairs distances are computed once and kept (an int64 matrix:
#: 4 096 stations take 128 MiB); beyond, each call runs Dijkstra from its distinct origins.
FULL_MATRIX_MAX_STATIONS = 4096

#: The value :meth:`StationNetwork.distances` gives for an unknown or unreachable pair.
MISSING = -1

#: The GTFS files read, in the order they are read.
GTFS_FILES = ("stops.txt", "routes.txt", "trips.txt", "stop_times.txt")

#: Cells of one chunk of Dijkstra rows (float64) when the full matrix is not kept.
_CHUNK_CELLS = 1 << 22

#: Issues collected per file before the rest are only counted.
_MAX_ISSUES = 50

#: Millimetres per unit of ``shape_dist_traveled``.
_MM_PER_UNIT = {"km": 1_000_000, "m": 1_000}

#: ``shape_dist_traveled`` is read as integer units of 10⁻⁹ of the feed's unit.
_FRACTION_DIGITS = 9

_DECIMAL = r"^(?:[0-9]{1,9}(?:\.[0-9]*)?|\.[0-9]+)$"
_INTEGER = r"^[0-9]{1,9}$"
_NUMBER = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$"

#: Columns read from each file (others are ignored) and those that must be present.
_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "stops.txt": (
        ("stop_id", "stop_name", "stop_lat", "stop_lon", "location_type", "parent_station"),
        ("stop_id", "stop_lat", "stop_lon"),
    ),
    "routes.txt": (("route_id", "route_type"), ("route_id", "route_type")),
    "trips.txt": (("route_id", "trip_id"), ("route_id", "trip_id")),
    "stop_times.txt": (
        ("trip_id", "stop_id", "stop_sequence", "shape_dist_traveled"),
        ("trip_id", "stop_id", "stop_sequence"),
    ),
}


class AmbiguousStationError(EsgledgerError, LookupError):
    """A station name matches two or more stations; ``stations`` are their ids."""

    def __init__(self, name: str, stations: Sequence[str]):
        self.name = name
        self.stations = tuple(stations)
        listed = ", ".join(quoted(s) for s in self.stations[:5])
        more = f" and {len(self.stations) - 5} more" if len(self.stations) > 5 else ""
        super().__init__(
            f"station name {quoted(name)} is ambiguous: it matches {len(self.stations)} "
            f"stations ({listed}{more}). Fix: give the stop_id instead of the name"
        )
        with_zh(
            self,
            f"站名 {quoted(name)} 不唯一：对应 {len(self.stations)} 个车站（{listed}{more}）。"
            "请改用 stop_id。",
        )


@dataclass(frozen=True, slots=True)
class Station:
    """One node of the network: the station's ``stop_id``, name and coordinates [degrees]."""

    id: str
    name: str | None
    lat_deg: float | None
    lon_deg: float | None


def haversine_m(
    lat1_deg: NDArray[np.float64] | float,
    lon1_deg: NDArray[np.float64] | float,
    lat2_deg: NDArray[np.float64] | float,
    lon2_deg: NDArray[np.float64] | float,
) -> NDArray[np.float64]:
    """Great-circle distance [m] on the sphere of radius :data:`EARTH_RADIUS_M`.

    The haversine formula (R. W. Sinnott, "Virtues of the Haversine", Sky and Telescope
    68 (2), 1984, p. 159): ``d = 2 R asin(sqrt(sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2)))``.
    Latitudes and longitudes in degrees (WGS84); a lower bound of the WGS84 geodesic.
    """
    phi1 = np.radians(lat1_deg)
    phi2 = np.radians(lat2_deg)
    dphi = phi2 - phi1
    dlam = np.radians(np.asarray(lon2_deg, dtype=np.float64) - lon1_deg)
    h = np.sin(dphi / 2.0) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlam / 2.0) ** 2
    return np.asarray(2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0))))


# --------------------------------------------------------------------------- reading


class _Issues:
    """Issues of one file, the first :data:`_MAX_ISSUES` kept, all counted."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.kept: list[Issue] = []
        self.total = 0

    def mask(
        self,
        bad: NDArray[np.bool_],
        values: NDArray[np.object_],
        column: str,
        problem: str,
        fix: str = "",
    ) -> None:
        """One issue per true entry of ``bad`` (row = index + 2)."""
        where = np.flatnonzero(bad)
        self.total += len(where)
        for index in where[: max(0, _MAX_ISSUES - len(self.kept))]:
            value = values[int(index)]
            self.kept.append(
                Issue(
                    self.file,
                    int(index) + 2,
                    column,
                    None if value is None else str(value),
                    problem,
                    fix,
                )
            )

    def raise_if_any(self) -> None:
        if self.total:
            raise InputError(
                f"{self.file} was rejected: {self.total:,} problem(s) in the GTFS feed",
                self.kept,
                self.total,
            )


def _refuse(
    file: str, problem: str, fix: str, row: int | None = None, column: str | None = None
) -> InputError:
    return InputError(
        f"{file} was rejected: {problem}", [Issue(file, row, column, None, problem, fix)]
    )


def _header(path: Path) -> list[str]:
    """The header cells of a CSV file (an empty list when it cannot be read: the reader then
    reports the real problem)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(limit("csv_line_bytes"))
    except OSError:
        return []
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = line.decode(encoding)
        except UnicodeDecodeError:
            continue
        return next(csv.reader([text]), [])
    return []


def _read(path: Path, file: str) -> pa.Table:
    """The columns of ``file`` this module uses, as text (``None`` for an empty cell)."""
    wanted, required = _COLUMNS[file]
    present = [h.replace("\ufeff", "").strip().lower() for h in _header(path)]
    columns: dict[str, tuple[str, ...]] = dict.fromkeys(wanted, ())
    for name in present:
        if name and name not in columns:
            columns[name] = ()
    raw = read_table(path, columns=columns, required=required)
    table = raw.table
    for name in wanted:
        if name not in table.column_names:
            table = table.append_column(name, pa.nulls(table.num_rows, pa.string()))
    return table.select(list(wanted))


def _stripped(table: pa.Table, column: str) -> pa.ChunkedArray:
    """The column with surrounding blanks removed and blank cells as null."""
    col = pc.utf8_trim_whitespace(table.column(column))
    return pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)


def _matches(col: pa.ChunkedArray, pattern: str) -> NDArray[np.bool_]:
    """True where the (non-null) value matches ``pattern``; False for null."""
    found = pc.fill_null(pc.match_substring_regex(col, pattern), False)
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def _nulls(col: pa.ChunkedArray) -> NDArray[np.bool_]:
    return np.asarray(pc.is_null(col).to_numpy(zero_copy_only=False), dtype=bool)


def _text_array(col: pa.ChunkedArray) -> NDArray[np.object_]:
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=object)


def _duplicates(values: NDArray[np.object_]) -> NDArray[np.bool_]:
    """True for each repetition of an earlier value (nulls excluded)."""
    series = pd.Series(values, dtype=object)
    return np.asarray(series.duplicated(keep="first").to_numpy() & series.notna().to_numpy())


def _fixed_units(col: pa.ChunkedArray) -> NDArray[np.int64]:
    """Non-negative decimals (already validated by :data:`_DECIMAL`) as integers of 10⁻⁹
    of their unit: exact to that resolution, finer digits dropped (floored)."""
    text = pd.Series(col.to_numpy(zero_copy_only=False), dtype=object).fillna("0")
    parts = text.str.partition(".")
    whole = parts[0].replace("", "0").astype(np.int64).to_numpy()
    digits = parts[2].str.slice(0, _FRACTION_DIGITS).str.ljust(_FRACTION_DIGITS, "0")
    fraction = digits.astype(np.int64).to_numpy()
    return np.asarray(whole * 10**_FRACTION_DIGITS + fraction, dtype=np.int64)


@contextlib.contextmanager
def _feed_files(path: Path) -> Iterator[dict[str, Path]]:
    """The GTFS files of a folder or a zip archive (unpacked into a temporary folder)."""
    if path.is_dir():
        files: dict[str, Path] = {}
        for name in GTFS_FILES:
            candidate = path / name
            if not candidate.is_file():
                raise _refuse(
                    name,
                    f"the GTFS feed {quoted(str(path))} has no {name}",
                    f"add {name} to the feed folder (GTFS Schedule reference, 'Dataset Files')",
                )
            files[name] = candidate
        yield files
        return
    if not path.is_file():
        raise _refuse(
            path.name,
            f"no GTFS feed at {quoted(str(path))}",
            "give a .zip GTFS feed or a folder holding its .txt files",
        )
    with tempfile.TemporaryDirectory(prefix="esgledger-gtfs-") as tmp:
        yield _unpack(path, Path(tmp))


def _unpack(path: Path, into: Path) -> dict[str, Path]:
    zip_fix = "give a complete .zip GTFS feed"
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise _refuse(
            path.name, "not a zip archive (a GTFS feed is a .zip file or a folder)", zip_fix
        ) from exc
    with archive:
        members: dict[str, zipfile.ZipInfo] = {}
        for info in archive.infolist():
            base = info.filename.rsplit("/", 1)[-1]
            if info.is_dir() or base not in GTFS_FILES or info.filename.startswith("__MACOSX"):
                continue
            if base in members:
                raise _refuse(
                    base,
                    f"the feed {path.name} holds two {base} files "
                    f"({members[base].filename!r} and {info.filename!r})",
                    "keep one feed per archive",
                )
            members[base] = info
        files: dict[str, Path] = {}
        for name in GTFS_FILES:
            found = members.get(name)
            if found is None:
                raise _refuse(
                    name,
                    f"the GTFS feed {path.name} has no {name}",
                    f"add {name} to the archive (GTFS Schedule reference, 'Dataset Files')",
                )
            info = found
            if info.file_size > limit("csv_bytes"):
                raise _refuse(
                    name,
                    f"{name} unpacks to {human_bytes(info.file_size)}, larger than CSV files "
                    f"are read ({describe('csv_bytes')})",
                    "split the feed",
                )
            if info.file_size >= RATIO_FLOOR_BYTES:
                ratio = info.file_size / max(info.compress_size, 1)
                if ratio > limit("xlsx_ratio"):
                    raise _refuse(
                        name,
                        f"{name} unpacks to {human_bytes(info.file_size)}, {ratio:,.0f} times "
                        f"its packed size ({describe('xlsx_ratio')}): a zip bomb, not a feed",
                        "pack the feed again",
                    )
            target = into / name
            try:
                with archive.open(info) as source, target.open("wb") as sink:
                    shutil.copyfileobj(source, sink, 1 << 20)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
                raise _refuse(name, f"{name} cannot be unpacked from {path.name}", zip_fix) from exc
            files[name] = target
        return files


# --------------------------------------------------------------------------- the network


@dataclass(frozen=True, slots=True)
class _Stops:
    ids: NDArray[np.object_]
    station: NDArray[np.int64]  # index into station_ids, per stop row
    lat_deg: NDArray[np.float64]
    lon_deg: NDArray[np.float64]
    names: NDArray[np.object_]
    station_ids: NDArray[np.object_]
    station_rows: NDArray[np.int64]  # row of each station in the stops table


def _coordinates(
    table: pa.Table,
    issues: _Issues,
    column: str,
    low: float,
    high: float,
    needed: NDArray[np.bool_],
) -> NDArray[np.float64]:
    col = _stripped(table, column)
    values = _text_array(col)
    empty = _nulls(col)
    issues.mask(
        empty & needed,
        values,
        column,
        "missing coordinate",
        f"give {column} in decimal degrees (WGS84)",
    )
    numeric = _matches(col, _NUMBER)
    issues.mask(
        ~empty & ~numeric,
        values,
        column,
        "not a number",
        f"give {column} in decimal degrees (WGS84), e.g. 22.5431",
    )
    out = np.full(len(values), np.nan)
    if numeric.any():
        out[numeric] = np.asarray(values[numeric], dtype=str).astype(np.float64)
    bad = numeric & ~((out >= low) & (out <= high))
    issues.mask(
        bad,
        values,
        column,
        f"out of range ({low:g} to {high:g} degrees)",
        "check the coordinate (latitude and longitude swapped?)",
    )
    return out


def _read_stops(table: pa.Table) -> _Stops:
    file = "stops.txt"
    issues = _Issues(file)
    n = table.num_rows
    id_col = _stripped(table, "stop_id")
    ids = _text_array(id_col)
    issues.mask(_nulls(id_col), ids, "stop_id", "missing stop_id", "give every stop an id")
    issues.mask(
        _duplicates(ids),
        ids,
        "stop_id",
        "stop_id appears twice",
        "stop_id must be unique in stops.txt",
    )
    type_col = _stripped(table, "location_type")
    types_text = _text_array(type_col)
    type_ok = _matches(type_col, r"^[0-4]$") | _nulls(type_col)
    issues.mask(
        ~type_ok,
        types_text,
        "location_type",
        "not a GTFS location_type",
        "use 0 (stop or platform), 1 (station), 2 (entrance), 3 (node), "
        "4 (boarding area) or leave empty",
    )
    located = _nulls(type_col) | _matches(type_col, r"^[012]$")
    lat = _coordinates(table, issues, "stop_lat", -90.0, 90.0, located)
    lon = _coordinates(table, issues, "stop_lon", -180.0, 180.0, located)
    parent_col = _stripped(table, "parent_station")
    parents = _text_array(parent_col)
    row_of = pd.Index(ids)
    if not row_of.is_unique:
        issues.raise_if_any()
    parent_row = np.asarray(row_of.get_indexer(pd.Index(parents, dtype=object)), dtype=np.int64)
    has_parent = ~_nulls(parent_col)
    issues.mask(
        has_parent & (parent_row < 0),
        parents,
        "parent_station",
        "parent_station is not a stop_id of stops.txt",
        "give the stop_id of the station, or leave it empty",
    )
    issues.mask(
        has_parent & (parent_row == np.arange(n)),
        parents,
        "parent_station",
        "a stop cannot be its own parent_station",
        "leave it empty",
    )
    issues.raise_if_any()
    root = np.where(has_parent, parent_row, np.arange(n))
    for _ in range(4):  # boarding area -> platform -> station: at most two steps in GTFS
        step = root[root]
        if np.array_equal(step, root):
            break
        root = step
    else:
        cyclic = np.flatnonzero(root[root] != root)
        issues.mask(
            np.isin(np.arange(n), cyclic),
            parents,
            "parent_station",
            "parent_station chain loops or is deeper than GTFS allows",
            "point each stop at its station",
        )
        issues.raise_if_any()
    station_rows = np.flatnonzero(root == np.arange(n))
    station_of_row = np.full(n, -1, dtype=np.int64)
    station_of_row[station_rows] = np.arange(len(station_rows))
    names = _text_array(table.column("stop_name"))
    return _Stops(
        ids=ids,
        station=station_of_row[root],
        lat_deg=lat,
        lon_deg=lon,
        names=names,
        station_ids=ids[station_rows],
        station_rows=station_rows,
    )


def _read_routes(table: pa.Table) -> tuple[NDArray[np.object_], NDArray[np.int64]]:
    issues = _Issues("routes.txt")
    id_col = _stripped(table, "route_id")
    ids = _text_array(id_col)
    issues.mask(_nulls(id_col), ids, "route_id", "missing route_id", "give every route an id")
    issues.mask(
        _duplicates(ids),
        ids,
        "route_id",
        "route_id appears twice",
        "route_id must be unique in routes.txt",
    )
    type_col = _stripped(table, "route_type")
    types_text = _text_array(type_col)
    ok = _matches(type_col, _INTEGER)
    issues.mask(
        ~ok,
        types_text,
        "route_type",
        "route_type is not a whole number",
        "use a GTFS route_type: 0 tram, 1 metro, 2 rail, 3 bus, …",
    )
    issues.raise_if_any()
    return ids, np.asarray(types_text, dtype=str).astype(np.int64)


def _read_trips(
    table: pa.Table, route_ids: NDArray[np.object_]
) -> tuple[NDArray[np.object_], NDArray[np.int64]]:
    issues = _Issues("trips.txt")
    id_col = _stripped(table, "trip_id")
    ids = _text_array(id_col)
    issues.mask(_nulls(id_col), ids, "trip_id", "missing trip_id", "give every trip an id")
    issues.mask(
        _duplicates(ids),
        ids,
        "trip_id",
        "trip_id appears twice",
        "trip_id must be unique in trips.txt",
    )
    routes = _text_array(_stripped(table, "route_id"))
    route_row = np.asarray(
        pd.Index(route_ids).get_indexer(pd.Index(routes, dtype=object)), dtype=np.int64
    )
    issues.mask(
        route_row < 0,
        routes,
        "route_id",
        "route_id is not in routes.txt",
        "give the route_id of a route in routes.txt",
    )
    issues.raise_if_any()
    return ids, route_row


@dataclass(frozen=True, slots=True)
class _Edges:
    a: NDArray[np.int64]
    b: NDArray[np.int64]
    length_mm: NDArray[np.int64]


def _read_stop_times(
    table: pa.Table,
    stops: _Stops,
    trip_ids: NDArray[np.object_],
    keep_trip: NDArray[np.bool_],
    distance_unit: str | None,
) -> _Edges:
    file = "stop_times.txt"
    issues = _Issues(file)
    trip_text = _text_array(_stripped(table, "trip_id"))
    trip_row = np.asarray(
        pd.Index(trip_ids).get_indexer(pd.Index(trip_text, dtype=object)), dtype=np.int64
    )
    issues.mask(
        trip_row < 0,
        trip_text,
        "trip_id",
        "trip_id is not in trips.txt",
        "give the trip_id of a trip in trips.txt",
    )
    stop_text = _text_array(_stripped(table, "stop_id"))
    stop_row = np.asarray(
        pd.Index(stops.ids).get_indexer(pd.Index(stop_text, dtype=object)), dtype=np.int64
    )
    issues.mask(
        stop_row < 0,
        stop_text,
        "stop_id",
        "stop_id is not in stops.txt",
        "give the stop_id of a stop in stops.txt",
    )
    seq_col = _stripped(table, "stop_sequence")
    seq_text = _text_array(seq_col)
    seq_ok = _matches(seq_col, _INTEGER)
    issues.mask(
        ~seq_ok,
        seq_text,
        "stop_sequence",
        "stop_sequence is not a non-negative whole number",
        "number the stops of each trip 0, 1, 2, … in travel order",
    )
    dist_col = _stripped(table, "shape_dist_traveled")
    dist_text = _text_array(dist_col)
    has_dist = ~_nulls(dist_col)
    dist_ok = _matches(dist_col, _DECIMAL)
    issues.mask(
        has_dist & ~dist_ok,
        dist_text,
        "shape_dist_traveled",
        "shape_dist_traveled is not a non-negative decimal number",
        "give the distance travelled along the shape, e.g. 12.345",
    )
    issues.raise_if_any()
    if has_dist.any() and distance_unit is None:
        first = int(np.flatnonzero(has_dist)[0])
        raise InputError(
            f"{file}: shape_dist_traveled is given but its unit is not: GTFS leaves the unit "
            "to the feed, and esgledger does not guess it",
            [
                Issue(
                    file,
                    first + 2,
                    "shape_dist_traveled",
                    str(dist_text[first]),
                    "unit of shape_dist_traveled not given",
                    "pass distance_unit='km' or distance_unit='m' (the unit of the feed's "
                    "shapes.txt and stop_times.txt)",
                )
            ],
        )
    seq = np.asarray(seq_text, dtype=str).astype(np.int64)
    dist_units = _fixed_units(dist_col)
    rows = np.arange(table.num_rows)
    order = np.lexsort((seq, trip_row))
    t, s, q, d, h, r = (
        trip_row[order],
        stop_row[order],
        seq[order],
        dist_units[order],
        has_dist[order],
        rows[order],
    )
    same_trip = t[1:] == t[:-1]
    repeated = same_trip & (q[1:] == q[:-1])
    bad_seq = np.zeros(len(rows), dtype=bool)
    bad_seq[r[1:][repeated]] = True
    issues.mask(
        bad_seq,
        seq_text,
        "stop_sequence",
        "stop_sequence appears twice in the same trip",
        "give each stop of a trip its own stop_sequence",
    )
    both = same_trip & h[1:] & h[:-1]
    decreasing = both & (d[1:] < d[:-1])
    bad_dist = np.zeros(len(rows), dtype=bool)
    bad_dist[r[1:][decreasing]] = True
    issues.mask(
        bad_dist,
        dist_text,
        "shape_dist_traveled",
        "shape_dist_traveled decreases along the trip",
        "shape_dist_traveled must grow with stop_sequence (GTFS stop_times.txt)",
    )
    issues.raise_if_any()
    use = same_trip & keep_trip[t[1:]]
    st = stops.station[s]
    a = st[:-1][use]
    b = st[1:][use]
    s0 = s[:-1][use]
    s1 = s[1:][use]
    length_mm = np.floor(
        haversine_m(stops.lat_deg[s0], stops.lon_deg[s0], stops.lat_deg[s1], stops.lon_deg[s1])
        * 1000.0
    ).astype(np.int64)
    shaped = both[use]
    if shaped.any():
        per_mm = 10**_FRACTION_DIGITS // _MM_PER_UNIT[str(distance_unit)]
        delta = (d[1:][use] - d[:-1][use])[shaped]
        length_mm[shaped] = delta // per_mm
    located = np.isfinite(stops.lat_deg) & np.isfinite(stops.lon_deg)
    unlocated = ~shaped & ~(located[s0] & located[s1])
    if unlocated.any():
        first = int(np.flatnonzero(unlocated)[0])
        row = int(s0[first] if not located[s0[first]] else s1[first])
        raise _refuse(
            "stops.txt",
            f"stop {quoted(stops.ids[row])} is served by a trip but has no coordinates, and "
            "the segment has no shape_dist_traveled",
            "give stop_lat and stop_lon of every stop a trip serves",
            row=row + 2,
            column="stop_lat",
        )
    keep = a != b
    return _Edges(a[keep], b[keep], length_mm[keep])


class StationNetwork:
    """Stations and the shortest distances between them, built from a GTFS feed.

    Build one with :meth:`from_gtfs`. ``stations`` lists the nodes (index = position);
    :meth:`distance_m` answers one trip, :meth:`distances` many.
    """

    def __init__(
        self,
        stations: Sequence[Station],
        edges_a: NDArray[np.int64],
        edges_b: NDArray[np.int64],
        edges_mm: NDArray[np.int64],
        keys: Mapping[str, Sequence[int]],
    ) -> None:
        """A network of ``stations`` with undirected edges ``(edges_a[i], edges_b[i])`` of
        ``edges_mm[i]`` millimetres (station indices); ``keys`` maps each lookup text (stop
        id or name) to the stations it names. Prefer :meth:`from_gtfs`."""
        self.stations: tuple[Station, ...] = tuple(stations)
        n = len(self.stations)
        a = np.minimum(edges_a, edges_b)
        b = np.maximum(edges_a, edges_b)
        frame = pd.DataFrame({"a": a, "b": b, "mm": edges_mm})
        shortest = frame.groupby(["a", "b"], sort=True)["mm"].min().reset_index()
        self.edge_count = len(shortest)
        self._graph = csr_matrix(
            (
                shortest["mm"].to_numpy(dtype=np.float64),
                (shortest["a"].to_numpy(), shortest["b"].to_numpy()),
            ),
            shape=(n, n),
        )
        names = list(keys)
        self._key_index = pd.Index(names, dtype=object)
        codes = np.empty(len(names), dtype=np.int64)
        self._ambiguous: dict[str, tuple[str, ...]] = {}
        for i, name in enumerate(names):
            found = sorted(set(keys[name]))
            if len(found) == 1:
                codes[i] = found[0]
            else:
                codes[i] = -2
                self._ambiguous[name] = tuple(self.stations[j].id for j in found)
        self._key_station = codes
        self._matrix: NDArray[np.int64] | None = None

    # ---------------------------------------------------------------- building

    @classmethod
    def from_gtfs(
        cls,
        path: str | Path,
        *,
        route_types: Iterable[int] | None = None,
        distance_unit: Literal["km", "m"] | None = None,
    ) -> StationNetwork:
        """Read a GTFS feed (a ``.zip`` file or a folder) into a network.

        Parameters
        ----------
        path
            The feed.
        route_types
            Keep only trips of routes of these GTFS ``route_type`` values (0 tram, 1 metro,
            2 rail, 3 bus, …); ``None`` keeps every trip. Stations are all those of
            ``stops.txt`` either way (a station no kept trip serves is known but unreachable).
        distance_unit
            The unit of ``shape_dist_traveled``: ``"km"`` or ``"m"``. Required when
            ``stop_times.txt`` gives ``shape_dist_traveled``; never guessed.

        Raises
        ------
        InputError
            A missing or oversized file, a missing column, a bad value (naming file, row and
            column), or ``shape_dist_traveled`` without ``distance_unit``.
        """
        if distance_unit is not None and distance_unit not in _MM_PER_UNIT:
            raise InputError(
                f"distance_unit must be 'km' or 'm', not {quoted(distance_unit)}",
                [
                    Issue(
                        "",
                        None,
                        None,
                        str(distance_unit),
                        "unknown distance unit",
                        "pass distance_unit='km' or 'm'",
                    )
                ],
            )
        kept_types = None if route_types is None else {int(t) for t in route_types}
        with _feed_files(Path(path)) as files:
            stops = _read_stops(_read(files["stops.txt"], "stops.txt"))
            route_ids, types = _read_routes(_read(files["routes.txt"], "routes.txt"))
            trip_ids, trip_route = _read_trips(_read(files["trips.txt"], "trips.txt"), route_ids)
            if kept_types is None:
                keep = np.ones(len(trip_ids), dtype=bool)
            else:
                keep = np.isin(types[trip_route], sorted(kept_types))
            edges = _read_stop_times(
                _read(files["stop_times.txt"], "stop_times.txt"),
                stops,
                trip_ids,
                keep,
                distance_unit,
            )
        stations = [
            Station(
                id=str(stops.ids[row]),
                name=None if stops.names[row] is None else str(stops.names[row]),
                lat_deg=None if math.isnan(stops.lat_deg[row]) else float(stops.lat_deg[row]),
                lon_deg=None if math.isnan(stops.lon_deg[row]) else float(stops.lon_deg[row]),
            )
            for row in stops.station_rows
        ]
        return cls(stations, edges.a, edges.b, edges.length_mm, _keys(stops))

    # ---------------------------------------------------------------- lookups

    def station_index(self, name: str) -> int | None:
        """The index of the station ``name`` designates (stop_id first, then exact
        stop_name), ``None`` if none; an ambiguous name raises
        :class:`AmbiguousStationError`."""
        position = self._key_index.get_indexer(pd.Index([name], dtype=object))[0]
        if position < 0:
            return None
        code = int(self._key_station[position])
        if code == -2:
            raise AmbiguousStationError(name, self._ambiguous[name])
        return code

    def distance_m(self, origin: str, destination: str) -> int | None:
        """Shortest network distance [m, floored] from ``origin`` to ``destination``.

        ``None`` when either is unknown or the two are not connected; 0 for the same station.
        Raises :class:`AmbiguousStationError` for a name that matches several stations.
        """
        o = self.station_index(origin)
        d = self.station_index(destination)
        if o is None or d is None:
            return None
        if self._full():
            value = int(self._all_pairs()[o, d])
        else:
            value = int(_floor_m(dijkstra(self._graph, directed=False, indices=[o]))[0, d])
        return None if value < 0 else value

    def distances(
        self,
        origins: Sequence[str] | pa.Array | pa.ChunkedArray | pd.Series,
        destinations: Sequence[str] | pa.Array | pa.ChunkedArray | pd.Series,
        *,
        ambiguous: Literal["raise", "missing"] = "raise",
    ) -> NDArray[np.int64]:
        """Shortest network distances [m, floored], pair by pair, as an int64 array;
        :data:`MISSING` (-1) where a station is unknown or unreachable.

        Equal to :meth:`distance_m` for every pair (with ``None`` as -1). ``ambiguous``:
        ``"raise"`` raises :class:`AmbiguousStationError` for the first ambiguous name,
        ``"missing"`` gives -1 for its pairs. Vectorised: distinct names are hashed once and
        the distances looked up in the all-pairs matrix (or computed from the distinct origins
        of a large network), so 10 million pairs take seconds.
        """
        o = self._indices(origins, ambiguous)
        d = self._indices(destinations, ambiguous)
        if len(o) != len(d):
            raise ValueError(
                f"origins and destinations differ in length ({len(o):,} and {len(d):,})"
            )
        if self._full():
            # one gather: the matrix has an extra row and column of -1, which index -1 picks
            return np.asarray(self._all_pairs()[o, d], dtype=np.int64)
        out = np.full(len(o), MISSING, dtype=np.int64)
        known = (o >= 0) & (d >= 0)
        rows = np.flatnonzero(known)
        sources, inverse = np.unique(o[rows], return_inverse=True)
        chunk = max(1, _CHUNK_CELLS // max(1, len(self.stations)))
        for start in range(0, len(sources), chunk):
            block = _floor_m(
                dijkstra(self._graph, directed=False, indices=sources[start : start + chunk])
            )
            take = (inverse >= start) & (inverse < start + chunk)
            picked = rows[take]
            out[picked] = block[inverse[take] - start, d[picked]]
        return out

    # ---------------------------------------------------------------- internals

    def _indices(
        self,
        names: Sequence[str] | pa.Array | pa.ChunkedArray | pd.Series,
        ambiguous: Literal["raise", "missing"],
    ) -> NDArray[np.int64]:
        """Station index per name (-1 unknown, -2 ambiguous when ``ambiguous='missing'``)."""
        if isinstance(names, pa.Array | pa.ChunkedArray):
            whole = names.combine_chunks() if isinstance(names, pa.ChunkedArray) else names
            encoded = pc.dictionary_encode(whole.cast(pa.string()))
            codes = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False))
            uniques = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
        else:
            factorized = pd.factorize(pd.Series(names, dtype=object))
            codes = np.asarray(factorized[0])
            uniques = np.asarray(factorized[1], dtype=object)
        found = np.asarray(self._key_index.get_indexer(pd.Index(uniques, dtype=object)))
        stations = np.where(found >= 0, self._key_station[np.maximum(found, 0)], -1)
        if ambiguous == "raise" and (stations == -2).any():
            name = str(uniques[int(np.flatnonzero(stations == -2)[0])])
            raise AmbiguousStationError(name, self._ambiguous[name])
        # one more entry, -1, which the code -1 (a null name) picks
        lookup = np.append(np.where(stations < 0, -1, stations), -1).astype(np.int64)
        return np.asarray(lookup[codes], dtype=np.int64)

    def _full(self) -> bool:
        return len(self.stations) <= FULL_MATRIX_MAX_STATIONS

    def _all_pairs(self) -> NDArray[np.int64]:
        """All-pairs distances [m], with one more row and column of -1 (:data:`MISSING`)
        for the index -1 of an unknown station."""
        if self._matrix is None:
            n = len(self.stations)
            matrix = np.full((n + 1, n + 1), MISSING, dtype=np.int64)
            if n:
                matrix[:n, :n] = _floor_m(dijkstra(self._graph, directed=False))
            self._matrix = matrix
        return self._matrix


def _floor_m(mm: NDArray[np.float64]) -> NDArray[np.int64]:
    """Dijkstra's distances [mm, whole numbers as floats] as floored metres, -1 for inf."""
    finite = np.isfinite(mm)
    out = np.full(mm.shape, MISSING, dtype=np.int64)
    out[finite] = mm[finite].astype(np.int64) // 1000
    return out


def _keys(stops: _Stops) -> dict[str, list[int]]:
    """Lookup text → station indices: every stop_id (one station each), then every
    stop_name not equal to a stop_id (all stations whose own or child stop has it)."""
    keys: dict[str, list[int]] = {
        str(stop_id): [int(station)]
        for stop_id, station in zip(stops.ids, stops.station, strict=True)
    }
    by_name: dict[str, set[int]] = {}
    for name, station in zip(stops.names, stops.station, strict=True):
        if name is None or name in keys:
            continue
        by_name.setdefault(str(name), set()).add(int(station))
    for name, found in by_name.items():
        keys[name] = sorted(found)
    return keys
