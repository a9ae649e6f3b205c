"""The demo's carbon-inclusion programme (碳普惠): a month of public-transport trips in the
fictional "Demo City" network (``demo/transit_gtfs/``), settled under the Shenzhen
methodology, with known fraud patterns as the ground truth of the integrity rules.

演示碳普惠项目：演示城市一个月的公共交通出行，含已知作弊样式。

Generated deterministically from the demo seed:

* ``ACCOUNTS`` riders; most commute by metro twice a working day between a home and a work
  station (the distance comes from the station network), some ride the electric bus (the
  operator gives the distance), a few do both;
* consent: most riders opt in to ``transit``; some never do (their trips stay pending, then
  unclaimed);
* fraud patterns, each on known accounts and trips (:class:`Fraud`): a rider far beyond the
  daily cap, the same trip reported by two operators, the same trip through two channels,
  overlapping trips, an impossible speed, and a "bot" that rides the same pair of stations
  all night (the behavioural score holds it for review).

The step imports the network and the trips, settles as of ten days after the month, fills a
small redemption catalogue, redeems, claws back one trip found invalid afterwards and
aggregates the month for a registry, so every part of the programme has something to show.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from esgledger.store import Workspace

__all__ = ["ACCOUNTS", "Fraud", "InclusionDemo", "run_programme", "write_trips"]

#: Riders of the demo programme.
ACCOUNTS = 300
#: The demo programme's methodology (its modes: metro, bus_electric).
METHODOLOGY = "shenzhen-transit"
ZONE = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True, slots=True)
class Fraud:
    """A fraud pattern planted in the demo trips: its name, the raw account and trips."""

    pattern: str
    account: str
    trips: tuple[str, ...]


@dataclass(slots=True)
class InclusionDemo:
    """What the demo programme did."""

    trips_file: Path
    trips: int
    accounts: int
    consented: int
    frauds: list[Fraud] = field(default_factory=list)
    trips_import: Any = None
    settlement: Any = None
    redemptions: int = 0
    clawback: dict[str, Any] | None = None
    project: dict[str, Any] | None = None
    verified: bool = False


def _gtfs_folder() -> Path:
    return Path(str(resources.files("esgledger.demo").joinpath("transit_gtfs")))


def _stations() -> tuple[list[str], list[str]]:
    """Metro station names and bus stop names of the demo feed (by the route types of the
    trips that serve them)."""
    folder = _gtfs_folder()

    def rows(name: str) -> list[dict[str, str]]:
        with (folder / name).open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.DictReader(handle))

    route_type = {r["route_id"]: r["route_type"] for r in rows("routes.txt")}
    trip_type = {t["trip_id"]: route_type[t["route_id"]] for t in rows("trips.txt")}
    stops = {s["stop_id"]: s for s in rows("stops.txt")}
    metro: set[str] = set()
    bus: set[str] = set()
    for st in rows("stop_times.txt"):
        stop = stops[st["stop_id"]]
        station = stops.get(stop.get("parent_station") or "", stop)
        (metro if trip_type[st["trip_id"]] == "1" else bus).add(station["stop_id"])
    return sorted(metro), sorted(bus)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def write_trips(folder: Path, *, seed: int, year: int) -> tuple[Path, list[Fraud], int]:
    """Write a month (March of ``year``) of demo trips to ``folder/trips.csv``; returns the
    file, the planted frauds and the number of trips."""
    rng = random.Random(seed + 15)
    metro, bus = _stations()
    start = date(year, 3, 1)
    days = [start + timedelta(days=i) for i in range(31)]
    rows: list[dict[str, str]] = []
    frauds: list[Fraud] = []
    counter = 0

    def trip(
        account: str,
        operator: str,
        mode: str,
        begin: datetime,
        minutes: float,
        origin: str,
        destination: str,
        distance_km: str = "",
        channel: str = "ride_code",
        trip_id: str | None = None,
    ) -> str:
        nonlocal counter
        counter += 1
        tid = trip_id or f"{operator[:2].upper()}{counter:07d}"
        rows.append(
            {
                "trip_id": tid,
                "account": account,
                "operator": operator,
                "mode": mode,
                "start_time": _iso(begin),
                "end_time": _iso(begin + timedelta(minutes=minutes)),
                "origin": origin,
                "destination": destination,
                "distance_km": distance_km,
                "channel": channel,
            }
        )
        return tid

    for index in range(ACCOUNTS):
        account = f"rider-{index:04d}"
        home, work = rng.sample(metro, 2)
        bus_rider = rng.random() < 0.3
        for day in days:
            if day.weekday() >= 5 and rng.random() < 0.7:
                continue
            leave = datetime(day.year, day.month, day.day, 7, 0, tzinfo=ZONE) + timedelta(
                minutes=rng.randint(0, 120)
            )
            ride = rng.randint(18, 45)
            trip(account, "demo-metro", "metro", leave, ride, home, work)
            back = datetime(day.year, day.month, day.day, 17, 30, tzinfo=ZONE) + timedelta(
                minutes=rng.randint(0, 150)
            )
            trip(account, "demo-metro", "metro", back, ride, work, home)
            if bus_rider and rng.random() < 0.5:
                km = f"{rng.uniform(1.5, 9.0):.2f}"
                noon = datetime(day.year, day.month, day.day, 12, 0, tzinfo=ZONE)
                a, b = rng.sample(bus, 2)
                trip(account, "demo-bus", "bus_electric", noon, rng.randint(10, 30), a, b, km)

    # The fraud patterns, on their own riders.
    day = datetime(year, 3, 12, 8, 0, tzinfo=ZONE)
    capped = [
        trip("fraud-cap", "demo-metro", "metro", day + timedelta(minutes=40 * i), 25, *metro[:2])
        for i in range(12)
    ]
    frauds.append(Fraud("daily cap", "fraud-cap", tuple(capped[6:])))
    first = trip("fraud-dup", "demo-metro", "metro", day, 30, metro[2], metro[5])
    second = trip(
        "fraud-dup", "demo-bus", "metro", day + timedelta(seconds=40), 30, metro[2], metro[5]
    )
    frauds.append(Fraud("duplicate across operators", "fraud-dup", (second,)))
    one = trip("fraud-chan", "demo-metro", "metro", day, 30, metro[3], metro[6])
    two = trip("fraud-chan", "demo-metro", "metro", day + timedelta(seconds=20), 30, metro[3],
               metro[6], channel="nfc_card")  # fmt: skip
    frauds.append(Fraud("one channel per trip", "fraud-chan", (two,)))
    trip("fraud-lap", "demo-metro", "metro", day, 50, metro[0], metro[7])
    lapped = trip("fraud-lap", "demo-metro", "metro", day + timedelta(minutes=20), 30,
                  metro[4], metro[1])  # fmt: skip
    frauds.append(Fraud("overlapping trips", "fraud-lap", (lapped,)))
    fast = trip("fraud-fast", "demo-bus", "bus_electric", day, 2, bus[0], bus[1], "48.00")
    frauds.append(Fraud("impossible speed", "fraud-fast", (fast,)))
    bot = []
    for d in days[:20]:
        for k in range(5):
            night = datetime(d.year, d.month, d.day, 1, 0, tzinfo=ZONE) + timedelta(minutes=35 * k)
            bot.append(trip("fraud-bot", "demo-metro", "metro", night, 20, metro[8], metro[9]))
    frauds.append(Fraud("behavioural score (night bot)", "fraud-bot", tuple(bot)))
    del first, one
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "trips.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path, frauds, len(rows)


def run_programme(workspace: Workspace, *, seed: int, year: int) -> InclusionDemo:
    """Run the demo programme in ``workspace`` (see the module docstring)."""
    from esgledger.access import Principal
    from esgledger.inclusion import service
    from esgledger.ingest.importers import import_file

    who = Principal.local()
    folder = workspace.root / "inputs" / "inclusion"
    path, frauds, count = write_trips(folder, seed=seed, year=year)
    service.use(workspace, who, METHODOLOGY)
    service.set_network(workspace, who, _gtfs_folder(), distance_unit="km")
    imported = import_file(workspace, "trips", path, principal=who)
    rng = random.Random(seed + 16)
    riders = [f"rider-{i:04d}" for i in range(ACCOUNTS)]
    consenting = [r for r in riders if rng.random() < 0.92]
    consenting += [f.account for f in frauds]
    signed_up = datetime(year, 2, 20, 9, 0, tzinfo=ZONE)
    for account in consenting:
        service.consent(workspace, who, account, "transit", at=signed_up)
    as_of = datetime(year, 4, 10, 2, 0, tzinfo=ZONE)
    demo = InclusionDemo(path, count, ACCOUNTS + len(frauds), len(consenting), frauds)
    demo.trips_import = imported
    demo.settlement = service.settle(workspace, who, as_of=as_of)
    service.add_item(
        workspace, who, item="metro-coupon-5", kind="coupon", name="CNY 5 metro ride coupon",
        name_zh="5元地铁乘车券", price_points=500, counterparty="merchant:demo-metro", stock=50,
    )  # fmt: skip
    service.add_item(
        workspace, who, item="mangrove-donation", kind="donation",
        name="Donation to mangrove restoration", name_zh="捐赠红树林修复",
        price_points=100, counterparty="charity:mangrove-fund",
    )  # fmt: skip
    service.add_item(
        workspace, who, item="marathon-neutral", kind="neutralisation",
        name="Neutralise 100 g of the city marathon", name_zh="为城市马拉松中和100克",
        price_points=0, counterparty="cancelled:city-marathon", reduction_g=100.0,
    )  # fmt: skip
    for account in consenting[:40]:
        statement = service.statement(workspace, who, account)
        if statement.balance_points >= 500:
            service.redeem(workspace, who, account, "metro-coupon-5")
            demo.redemptions += 1
        if statement.balance_mg >= 100_000:
            service.redeem(workspace, who, account, "marathon-neutral")
            demo.redemptions += 1
    for account in consenting[40:60]:
        if service.statement(workspace, who, account).balance_points >= 100:
            service.redeem(workspace, who, account, "mangrove-donation")
            demo.redemptions += 1
    # A trip the metro operator later reports as a fare-evasion duplicate.
    first_trip = next(
        t for t in service.statement(workspace, who, consenting[0]).trips if t.status == "settled"
    )
    demo.clawback = service.clawback(
        workspace,
        who,
        [(first_trip.operator, first_trip.trip_id)],
        reason="operator correction: duplicate fare record",
    )
    demo.project = service.aggregate(
        workspace,
        who,
        period_start=date(year, 3, 1),
        period_end=date(year, 3, 31),
        registry="Demo City carbon-inclusion registry",
    )
    demo.verified = bool(service.verify_json(service.verify(workspace, who))["ok"])
    return demo
