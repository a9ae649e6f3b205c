"""The trip-distance resolver: ``esgledger.inclusion.network``.

Hand-worked distances use points on the equator or on a meridian, where the haversine formula
(Sinnott 1984, "Virtues of the Haversine", Sky and Telescope 68 (2), p. 159:
``d = 2 R asin(sqrt(sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2)))``) reduces to ``d = R Δ`` (Δ the
angle in radians), with R = a (1 - e²) of WGS84 (a = 6 378 137 m, f = 1/298.257223563):
R = 6 335 439.327 m, so 1° is 110 574.276 m and 0.01° is 1 105.742 76 m, floored to
1 105 742 mm per segment.
"""

from __future__ import annotations

import importlib.util
import math
import zipfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esgledger.errors import InputError
from esgledger.inclusion import network as net
from esgledger.inclusion.network import (
    EARTH_RADIUS_M,
    MISSING,
    AmbiguousStationError,
    StationNetwork,
    haversine_m,
)

_SPEC = importlib.util.spec_from_file_location(
    "build_demo_gtfs", Path(__file__).with_name("build_demo_gtfs.py")
)
assert _SPEC is not None
assert _SPEC.loader is not None
build_demo_gtfs = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(build_demo_gtfs)

DEMO = Path(net.__file__).parents[1] / "demo" / "transit_gtfs"

#: WGS84 defining constants (NIMA TR8350.2, table 3.1).
A_M = 6_378_137.0
F = 1 / 298.257223563
R_HAND_M = A_M * (1 - (2 * F - F * F))  # a (1 - e²), e² = 2f - f²
SEGMENT_M = R_HAND_M * math.radians(0.01)  # 1 105.742 76 m: 0.01° on the equator or a meridian
SEGMENT_MM = math.floor(SEGMENT_M * 1000)

STOPS = """stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station
A,Alpha,0,0,,
B,Bravo,0,0.01,,
C,Central,0,0.02,1,
C1,Central L1,0,0.02,0,C
C2,Central L2,0.0,0.02,0,C
D,Delta,0.01,0.02,,
E,Echo,0.02,0.02,,
F,Park,1,1,,
G,Park,1,1.01,,
"""
ROUTES = """route_id,route_type
X,1
Y,1
Z,3
"""
TRIPS = """route_id,service_id,trip_id
X,S,tx
Y,S,ty
Z,S,tz
"""
STOP_TIMES = """trip_id,stop_id,stop_sequence
tx,A,1
tx,B,2
tx,C1,3
ty,C2,1
ty,D,2
ty,E,3
tz,F,1
tz,G,2
"""

Feed = Callable[..., Path]


@pytest.fixture
def feed(tmp_path: Path) -> Feed:
    """Writes a feed folder; each file may be replaced by keyword (``stop_times=...``) or
    left out (``trips=None``)."""

    def make(**files: str | None) -> Path:
        folder = tmp_path / "feed"
        folder.mkdir(exist_ok=True)
        texts: dict[str, str | None] = {
            "stops": STOPS,
            "routes": ROUTES,
            "trips": TRIPS,
            "stop_times": STOP_TIMES,
        }
        texts.update(files)
        for name, text in texts.items():
            target = folder / f"{name}.txt"
            if text is None:
                target.unlink(missing_ok=True)
            else:
                target.write_text(text, encoding="utf-8")
        return folder

    return make


def _issue(exc: pytest.ExceptionInfo[InputError]) -> tuple[str, int | None, str | None]:
    first = exc.value.issues[0]
    return first.file, first.row, first.column


# --------------------------------------------------------------------------- haversine


def test_radius_is_wgs84_meridian_radius_at_the_equator() -> None:
    assert pytest.approx(6_335_439.327, abs=0.001) == EARTH_RADIUS_M
    assert pytest.approx(R_HAND_M, rel=1e-15) == EARTH_RADIUS_M


def test_haversine_on_the_equator_is_r_times_the_angle() -> None:
    # d = R Δλ on the equator; floating-point rounding only (relative 1e-12).
    assert float(haversine_m(0.0, 0.0, 0.0, 1.0)) == pytest.approx(110_574.2758, abs=1e-3)
    assert float(haversine_m(0.0, 0.0, 0.0, 0.01)) == pytest.approx(SEGMENT_M, rel=1e-12)


def test_haversine_is_a_lower_bound_of_the_wgs84_geodesic() -> None:
    # WGS84 geodesics: 1° of longitude on the equator is a·π/180 = 111 319.49 m; the meridian
    # arc from 0° to 1° of latitude is the integral of M(φ) = a(1-e²)/(1-e² sin²φ)^(3/2),
    # 110 574.389 m (midpoint rule, 10⁵ steps; 110.574 km in the usual tables).
    meridian_arc_m = 110_574.389
    assert float(haversine_m(0.0, 0.0, 0.0, 1.0)) < A_M * math.pi / 180
    assert float(haversine_m(0.0, 0.0, 1.0, 0.0)) < meridian_arc_m
    assert float(haversine_m(0.0, 0.0, 1.0, 0.0)) > meridian_arc_m - 0.2  # tight at the equator


def test_haversine_general_case_by_hand() -> None:
    # φ = 22.54° on both ends, Δλ = 0.012°: d = 2R asin(cos φ · sin(Δλ/2)).
    by_hand = 2 * R_HAND_M * math.asin(math.cos(math.radians(22.54)) * math.sin(
        math.radians(0.012) / 2))  # fmt: skip
    assert float(haversine_m(22.54, 114.0, 22.54, 114.012)) == pytest.approx(by_hand, rel=1e-12)


# --------------------------------------------------------------------------- distances


def test_distances_along_a_line_and_across_a_transfer(feed: Feed) -> None:
    network = StationNetwork.from_gtfs(feed())
    assert network.distance_m("A", "B") == SEGMENT_MM // 1000 == 1105
    # A -> B -> C (line X), change at C (no cost), C -> D -> E (line Y): four segments.
    assert network.distance_m("A", "E") == 4 * SEGMENT_MM // 1000 == 4422
    assert network.distance_m("A", "D") == 3 * SEGMENT_MM // 1000 == 3317
    assert network.distance_m("E", "A") == 4422  # undirected: the same both ways


def test_parent_station_groups_platforms(feed: Feed) -> None:
    network = StationNetwork.from_gtfs(feed())
    ids = [s.id for s in network.stations]
    assert "C" in ids
    assert "C1" not in ids
    assert "C2" not in ids
    assert network.distance_m("C1", "C2") == 0
    assert network.distance_m("A", "C2") == network.distance_m("A", "C") == 2211
    assert network.distance_m("Central L2", "Alpha") == 2211  # a platform's name: its station


def test_unknown_and_unreachable_are_none(feed: Feed) -> None:
    network = StationNetwork.from_gtfs(feed())
    assert network.distance_m("A", "F") is None  # F is on another, unconnected route
    assert network.distance_m("A", "nowhere") is None
    assert network.distance_m("alpha", "B") is None  # names are exact: no case folding
    assert network.distance_m("A", "A") == 0


def test_ambiguous_name_is_refused(feed: Feed) -> None:
    network = StationNetwork.from_gtfs(feed())
    with pytest.raises(AmbiguousStationError, match="'Park' is ambiguous") as exc:
        network.distance_m("Park", "A")
    assert exc.value.stations == ("F", "G")
    assert "stop_id" in exc.value.zh  # type: ignore[attr-defined]
    with pytest.raises(AmbiguousStationError):
        network.distances(["A"], ["Park"])
    assert network.distances(["A", "F"], ["Park", "G"], ambiguous="missing")[0] == MISSING


def test_an_id_wins_over_an_equal_name(feed: Feed) -> None:
    stops = STOPS + "H,B,0,0.5,,\n"  # a stop named 'B', the id of another stop
    network = StationNetwork.from_gtfs(feed(stops=stops))
    assert network.station_index("B") == [s.id for s in network.stations].index("B")


def test_route_types_restrict_the_network(feed: Feed) -> None:
    bus = StationNetwork.from_gtfs(feed(), route_types=[3])
    assert bus.distance_m("A", "B") is None  # the metro is not in the network
    by_hand = 2 * R_HAND_M * math.asin(math.cos(math.radians(1)) * math.sin(
        math.radians(0.01) / 2))  # fmt: skip
    assert bus.distance_m("F", "G") == math.floor(by_hand * 1000) // 1000
    metro = StationNetwork.from_gtfs(feed(), route_types=[1])
    assert metro.distance_m("A", "E") == 4422
    assert metro.distance_m("F", "G") is None


# --------------------------------------------------------------------------- shape distances


SHAPED = """trip_id,stop_id,stop_sequence,shape_dist_traveled
tx,A,1,0
tx,B,2,1.1
tx,C1,3,3.3
ty,C2,1,
ty,D,2,
ty,E,3,
tz,F,1,0
tz,G,2,0.75
"""


def test_shape_dist_traveled_in_km_is_exact(feed: Feed) -> None:
    network = StationNetwork.from_gtfs(feed(stop_times=SHAPED), distance_unit="km")
    assert network.distance_m("A", "B") == 1100
    # 3.3 - 1.1 is 2.1999999999999997 in binary floating point; read exactly it is 2.2 km
    assert network.distance_m("B", "C") == 2200
    assert network.distance_m("A", "C") == 3300
    # the Y line has no shape distances: haversine segments, added to the shaped ones
    assert network.distance_m("A", "E") == (3_300_000 + 2 * SEGMENT_MM) // 1000


def test_shape_dist_traveled_in_metres_is_floored(feed: Feed) -> None:
    metres = SHAPED.replace(",1.1\n", ",1100.5\n").replace(",3.3\n", ",3300.999\n")
    network = StationNetwork.from_gtfs(feed(stop_times=metres), distance_unit="m")
    assert network.distance_m("A", "B") == 1100
    assert network.distance_m("A", "C") == 3300
    assert network.distance_m("F", "G") == 0  # 0.75 m


def test_shape_dist_traveled_needs_its_unit(feed: Feed) -> None:
    with pytest.raises(InputError, match="does not guess") as exc:
        StationNetwork.from_gtfs(feed(stop_times=SHAPED))
    assert _issue(exc) == ("stop_times.txt", 2, "shape_dist_traveled")
    with pytest.raises(InputError, match="'km' or 'm'"):
        StationNetwork.from_gtfs(feed(stop_times=SHAPED), distance_unit="mi")  # type: ignore[arg-type]


def test_each_station_pair_keeps_its_shortest_edge(feed: Feed) -> None:
    trips = TRIPS + "X,S,tx2\nX,S,tx3\n"
    stop_times = SHAPED + "tx2,A,1,0\ntx2,B,2,1.05\ntx3,B,1,10\ntx3,A,2,11.2\n"
    network = StationNetwork.from_gtfs(feed(trips=trips, stop_times=stop_times), distance_unit="km")
    assert network.distance_m("A", "B") == 1050
    assert network.distance_m("B", "A") == 1050


# --------------------------------------------------------------------------- malformed feeds


def test_missing_column_names_file_and_column(feed: Feed) -> None:
    stops = STOPS.replace("stop_lat", "latitude", 1)
    with pytest.raises(InputError, match=r"stops\.txt") as exc:
        StationNetwork.from_gtfs(feed(stops=stops))
    missing = [i for i in exc.value.issues if i.problem == "required column is missing"]
    assert [(i.file, i.row, i.column) for i in missing] == [("stops.txt", 1, "stop_lat")]


def test_bad_coordinates_name_row_and_column(feed: Feed) -> None:
    stops = STOPS.replace("B,Bravo,0,0.01", "B,Bravo,95,0.01").replace(
        "D,Delta,0.01,0.02", "D,Delta,0.01,east"
    )
    with pytest.raises(InputError) as exc:
        StationNetwork.from_gtfs(feed(stops=stops))
    found = {(i.file, i.row, i.column, i.value) for i in exc.value.issues}
    assert found == {("stops.txt", 3, "stop_lat", "95"), ("stops.txt", 7, "stop_lon", "east")}
    assert "stops.txt, row 3, column 'stop_lat': out of range" in str(exc.value)


def test_missing_coordinate_of_a_stop(feed: Feed) -> None:
    with pytest.raises(InputError) as exc:
        StationNetwork.from_gtfs(feed(stops=STOPS.replace("A,Alpha,0,0", "A,Alpha,,0")))
    assert _issue(exc) == ("stops.txt", 2, "stop_lat")


def test_non_numeric_values_in_stop_times(feed: Feed) -> None:
    bad = SHAPED.replace("tx,B,2,1.1", "tx,B,two,1.1").replace("tz,G,2,0.75", "tz,G,2,1e3")
    with pytest.raises(InputError) as exc:
        StationNetwork.from_gtfs(feed(stop_times=bad), distance_unit="km")
    found = {(i.file, i.row, i.column, i.value) for i in exc.value.issues}
    assert found == {
        ("stop_times.txt", 3, "stop_sequence", "two"),
        ("stop_times.txt", 9, "shape_dist_traveled", "1e3"),
    }


def test_references_and_order_are_checked(feed: Feed) -> None:
    with pytest.raises(InputError) as exc:
        StationNetwork.from_gtfs(feed(stop_times=STOP_TIMES.replace("ty,D,2", "ty,Q,2")))
    assert _issue(exc) == ("stop_times.txt", 6, "stop_id")
    with pytest.raises(InputError) as exc:
        StationNetwork.from_gtfs(feed(trips=TRIPS.replace("Y,S,ty", "W,S,ty")))
    assert _issue(exc) == ("trips.txt", 3, "route_id")
    with pytest.raises(InputError) as exc:
        StationNetwork.from_gtfs(feed(stops=STOPS.replace("0,C\n", "0,CX\n", 1)))
    assert _issue(exc) == ("stops.txt", 5, "parent_station")
    with pytest.raises(InputError, match="decreases") as exc:
        StationNetwork.from_gtfs(feed(stop_times=SHAPED.replace("3.3", "0.5")), distance_unit="km")
    assert _issue(exc) == ("stop_times.txt", 4, "shape_dist_traveled")
    with pytest.raises(InputError, match="appears twice") as exc:
        StationNetwork.from_gtfs(feed(stop_times=STOP_TIMES.replace("tx,C1,3", "tx,C1,2")))
    assert _issue(exc)[2] == "stop_sequence"
    with pytest.raises(InputError) as exc:
        StationNetwork.from_gtfs(feed(routes=ROUTES.replace("Z,3", "Z,bus")))
    assert _issue(exc) == ("routes.txt", 4, "route_type")


def test_missing_file_is_named(feed: Feed) -> None:
    with pytest.raises(InputError, match=r"has no trips\.txt") as exc:
        StationNetwork.from_gtfs(feed(trips=None))
    assert exc.value.issues[0].file == "trips.txt"


# --------------------------------------------------------------------------- zip feeds


def _zip(folder: Path, target: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, prefix + path.name)
    return target


def test_a_zip_feed_reads_like_its_folder(feed: Feed, tmp_path: Path) -> None:
    archive = _zip(feed(), tmp_path / "feed.zip", prefix="gtfs/")
    network = StationNetwork.from_gtfs(archive)
    assert network.distance_m("A", "E") == 4422


def test_a_zip_member_past_the_limit_is_refused_before_unpacking(
    feed: Feed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = _zip(feed(), tmp_path / "feed.zip")
    monkeypatch.setenv("ESGLEDGER_MAX_CSV_BYTES", "100")
    with pytest.raises(InputError, match=r"stops\.txt unpacks to .*ESGLEDGER_MAX_CSV_BYTES"):
        StationNetwork.from_gtfs(archive)


def test_not_a_feed(tmp_path: Path) -> None:
    bogus = tmp_path / "feed.zip"
    bogus.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a zip archive"):
        StationNetwork.from_gtfs(bogus)
    with pytest.raises(InputError, match="no GTFS feed"):
        StationNetwork.from_gtfs(tmp_path / "absent.zip")


# --------------------------------------------------------------------------- vectorised


@cache
def _demo() -> StationNetwork:
    return StationNetwork.from_gtfs(DEMO, distance_unit="km")


def _keys() -> list[str]:
    network = _demo()
    keys = list(network._key_index)
    return [*keys, "unknown station", ""]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_keys()), st.sampled_from(_keys())), max_size=40))
def test_vectorised_equals_scalar(pairs: list[tuple[str, str]]) -> None:
    network = _demo()
    origins = [o for o, _ in pairs]
    destinations = [d for _, d in pairs]
    expected = [network.distance_m(o, d) for o, d in pairs]
    got = network.distances(origins, destinations)
    assert got.dtype == np.int64
    assert got.tolist() == [MISSING if e is None else e for e in expected]
    arrow = network.distances(pa.array(origins, pa.string()), pa.array(destinations, pa.string()))
    assert arrow.tolist() == got.tolist()


def test_large_networks_run_dijkstra_from_the_distinct_origins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    network = StationNetwork.from_gtfs(DEMO, distance_unit="km")
    rng = np.random.default_rng(15)
    keys = np.array(_keys(), dtype=object)
    origins = keys[rng.integers(0, len(keys), 2000)]
    destinations = keys[rng.integers(0, len(keys), 2000)]
    full = network.distances(list(origins), list(destinations))
    monkeypatch.setattr(net, "FULL_MATRIX_MAX_STATIONS", 0)
    monkeypatch.setattr(net, "_CHUNK_CELLS", 40)  # two origins per chunk
    assert network.distances(list(origins), list(destinations)).tolist() == full.tolist()
    assert network.distance_m("M1-01", "M2-08") == 9132


def test_lengths_must_match() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        _demo().distances(["M1-01"], [])


def test_series_and_null_names() -> None:
    network = _demo()
    origins = pd.Series(["M1-01", None, "M2-08"], dtype=object)
    destinations = pd.Series(["M2-08", "M1-01", None], dtype=object)
    assert network.distances(origins, destinations).tolist() == [9132, MISSING, MISSING]
    assert network.distances([], []).tolist() == []


# --------------------------------------------------------------------------- the demo feed


def test_demo_feed_is_what_its_script_writes() -> None:
    for name, text in build_demo_gtfs.files().items():
        assert (DEMO / name).read_text(encoding="utf-8") == text, name


def test_demo_feed_distances() -> None:
    network = _demo()
    assert len(network.stations) == 19  # 15 metro stations and 4 bus stops
    # line 1 gives shape_dist_traveled in km: 西湾 -> 中心广场 is 3.825 km of track
    assert network.distance_m("西湾 Xiwan", "中心广场 Central Plaza") == 3825
    # then line 2 by haversine: 4 segments of 0.012° of latitude
    segment_mm = math.floor(R_HAND_M * math.radians(0.012) * 1000)
    assert network.distance_m("M1-01", "M2-08") == (3_825_000 + 4 * segment_mm) // 1000
    metro = StationNetwork.from_gtfs(DEMO, distance_unit="km", route_types=[1])
    assert metro.distance_m("B81-01", "B81-04") is None
    assert network.distance_m("B81-01", "B81-04") is not None
    with pytest.raises(InputError, match="does not guess"):
        StationNetwork.from_gtfs(DEMO)
