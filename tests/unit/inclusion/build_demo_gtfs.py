"""Writes the synthetic GTFS feed of the demo, ``src/esgledger/demo/transit_gtfs/``.

Run ``python tests/unit/inclusion/build_demo_gtfs.py`` after changing it;
``test_network.py`` checks the committed files equal what this script writes.

"Demo City" (演示市) is fictional: metro line 1 runs west-east and line 2 south-north; they
cross at 中心广场 Central Plaza (a station with one platform per line, grouped by
``parent_station``); bus route 81 runs beside line 2. Line 1 gives ``shape_dist_traveled``
in **kilometres** (track 4 % longer than the straight segment, rounded to metres); line 2 and
the bus give none (the network then uses the haversine segment). 15 metro stations.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

OUT = Path(__file__).parents[3] / "src" / "esgledger" / "demo" / "transit_gtfs"

# Central Plaza at (22.5400, 114.0360); stations 0.0120 degrees apart.
LINE1 = [  # west -> east, latitude 22.5400
    ("M1-01", "西湾 Xiwan"),
    ("M1-02", "渔港 Fishing Harbour"),
    ("M1-03", "大学城 University Town"),
    ("CENTRAL", "中心广场 Central Plaza"),
    ("M1-05", "图书馆 Library"),
    ("M1-06", "会展中心 Expo Centre"),
    ("M1-07", "东站 East Railway Station"),
    ("M1-08", "机场东 Airport East"),
]
LINE2 = [  # south -> north, longitude 114.0360
    ("M2-01", "海滨公园 Seaside Park"),
    ("M2-02", "科技园 Science Park"),
    ("M2-03", "市民中心 Civic Centre"),
    ("CENTRAL", "中心广场 Central Plaza"),
    ("M2-05", "体育馆 Stadium"),
    ("M2-06", "植物园 Botanical Garden"),
    ("M2-07", "北站 North Station"),
    ("M2-08", "梅林 Meilin"),
]
BUS = [  # bus 81, beside line 2, 0.0030 degrees east of it
    ("B81-01", "科技园公交站 Science Park Bus Stop", 22.5160),
    ("B81-02", "市民中心公交站 Civic Centre Bus Stop", 22.5280),
    ("B81-03", "中心广场公交站 Central Plaza Bus Stop", 22.5400),
    ("B81-04", "体育馆公交站 Stadium Bus Stop", 22.5520),
]
STEP = 0.0120
CENTRE = (22.5400, 114.0360)
R = 6_378_137.0 * (1.0 - (2.0 / 298.257223563 - (1.0 / 298.257223563) ** 2))


def _haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dl = math.radians(b[1] - a[1])
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * R * math.asin(math.sqrt(h))


def _csv(rows: list[list[object]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def _times(k: int, start_min: int) -> str:
    m = start_min + 2 * k
    return f"{m // 60:02d}:{m % 60:02d}:00"


def files() -> dict[str, str]:
    coords: dict[str, tuple[float, float]] = {}
    for i, (sid, _) in enumerate(LINE1):
        coords[sid] = (CENTRE[0], round(CENTRE[1] + (i - 3) * STEP, 4))
    for i, (sid, _) in enumerate(LINE2):
        coords[sid] = (round(CENTRE[0] + (i - 3) * STEP, 4), CENTRE[1])
    stops: list[list[object]] = [
        ["stop_id", "stop_name", "stop_lat", "stop_lon", "location_type", "parent_station"]
    ]
    names = dict(LINE1 + LINE2)
    for sid in dict.fromkeys([s for s, _ in LINE1 + LINE2]):
        lat, lon = coords[sid]
        if sid == "CENTRAL":
            stops.append([sid, names[sid], f"{lat:.4f}", f"{lon:.4f}", 1, ""])
            stops.append(
                [
                    "CENTRAL-L1",
                    "中心广场 1号线站台 Line 1 platform",
                    f"{lat:.4f}",
                    f"{lon:.4f}",
                    0,
                    "CENTRAL",
                ]
            )
            stops.append(
                [
                    "CENTRAL-L2",
                    "中心广场 2号线站台 Line 2 platform",
                    f"{lat:.4f}",
                    f"{lon:.4f}",
                    0,
                    "CENTRAL",
                ]
            )
        else:
            stops.append([sid, names[sid], f"{lat:.4f}", f"{lon:.4f}", 0, ""])
    for sid, name, lat in BUS:
        stops.append([sid, name, f"{lat:.4f}", f"{CENTRE[1] + 0.003:.4f}", 0, ""])

    line1 = [s if s != "CENTRAL" else "CENTRAL-L1" for s, _ in LINE1]
    line2 = [s if s != "CENTRAL" else "CENTRAL-L2" for s, _ in LINE2]
    bus = [s for s, _, _ in BUS]
    point = {**coords, "CENTRAL-L1": CENTRE, "CENTRAL-L2": CENTRE}
    for sid, _, lat in BUS:
        point[sid] = (lat, CENTRE[1] + 0.003)

    trips = [["route_id", "service_id", "trip_id", "trip_headsign", "direction_id"]]
    stop_times = [
        [
            "trip_id",
            "arrival_time",
            "departure_time",
            "stop_id",
            "stop_sequence",
            "shape_dist_traveled",
        ]
    ]
    plans = [
        ("L1", line1, True, "机场东 Airport East", "西湾 Xiwan"),
        ("L2", line2, False, "梅林 Meilin", "海滨公园 Seaside Park"),
        ("B81", bus, False, "体育馆 Stadium", "科技园 Science Park"),
    ]
    for route, seq, shaped, head0, head1 in plans:
        for direction, (order, head) in enumerate(((seq, head0), (seq[::-1], head1))):
            for start in (6 * 60, 6 * 60 + 30):
                trip = f"{route}-{'AB'[direction]}-{start // 60:02d}{start % 60:02d}"
                trips.append([route, "DAILY", trip, head, direction])
                dist_km = 0.0
                for k, sid in enumerate(order):
                    if k:
                        segment_m = _haversine_m(point[order[k - 1]], point[sid])
                        dist_km += round(segment_m * 1.04) / 1000
                    shown = f"{dist_km:.3f}" if shaped else ""
                    t = _times(k, start)
                    stop_times.append([trip, t, t, sid, k + 1, shown])
    return {
        "agency.txt": _csv(
            [
                ["agency_id", "agency_name", "agency_url", "agency_timezone", "agency_lang"],
                [
                    "DCT",
                    "演示市轨道交通 Demo City Transit",
                    "https://example.org/demo-city-transit",
                    "Asia/Shanghai",
                    "zh",
                ],
            ]
        ),
        "calendar.txt": _csv(
            [
                [
                    "service_id",
                    "monday",
                    "tuesday",
                    "wednesday",
                    "thursday",
                    "friday",
                    "saturday",
                    "sunday",
                    "start_date",
                    "end_date",
                ],
                ["DAILY", 1, 1, 1, 1, 1, 1, 1, "20260101", "20261231"],
            ]
        ),
        "routes.txt": _csv(
            [
                ["route_id", "agency_id", "route_short_name", "route_long_name", "route_type"],
                ["L1", "DCT", "1", "地铁1号线 Metro Line 1", 1],
                ["L2", "DCT", "2", "地铁2号线 Metro Line 2", 1],
                ["B81", "DCT", "81", "81路公交 Bus 81", 3],
            ]
        ),
        "stops.txt": _csv(stops),
        "trips.txt": _csv(trips),
        "stop_times.txt": _csv(stop_times),
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in files().items():
        (OUT / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
