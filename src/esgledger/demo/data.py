"""The synthetic demo group: organisation, sites and one year of activity data.

**Synthetic.** Every name and number here is invented. The group is *modelled on* the profile a
large Chinese internet group publishes (several business groups, data centres in several
Chinese provinces and one abroad, offices, a vehicle fleet, an inventory dominated by scope 2
electricity and scope 3 capital goods, leased data-centre electricity and business travel),
but no figure is anyone's real data. The generator is deterministic: the same seed gives the
same files, byte for byte.

The files are written the way business units would send them, to exercise the importers:
UTF-8 CSV for energy, an XLSX workbook for value-chain data, and a GB18030-encoded CSV with
Chinese headers for travel (what Excel on a Chinese Windows machine exports).

**Shaped to a published profile.** The quantities were tuned by calculating the inventory
(not by guessing) so that it resembles the 2021 profile of the reference company as DESIGN.md
gives it: scope 1 ≈ 0.02 Mt, scope 2 (location-based) ≈ 2.35 Mt, scope 3 ≈ 2.74 Mt, total
≈ 5.1 Mt CO2e, scope 3 led by capital goods (servers, chips, network gear, buildings: spend by
NAICS code, category 2), leased data-centre electricity (category 8) and business travel
(category 6). ``tests/integration/test_demo.py`` keeps it within ±15 % of those figures.

**Units and factors.** Units are those Chinese ledgers keep where that lets the national
factors apply honestly: generator diesel in tonnes (吨) and canteen gas in Nm3 (the
``cn-defaults`` factors per tonne and per 10⁴ Nm³), district heat in GJ (``cn-defaults``,
0.11 t CO2/GJ), fleet petrol and fleet diesel in tonnes (``cn-defaults``; CH4 and N2O of the
fuels from IPCC 2006). No Chinese factors exist for travel, commuting, freight, waste,
water or spend: the demo workspace names proxy regions in its ``esgledger.toml`` (UK DESNZ,
then US EPA/USEEIO) and every line that uses one carries tier ``proxy``.

**Green power.** :func:`_instrument_rows` writes the register (a Chongqing data centre
covered by a green-power trade, a 13 MW rooftop PV plant in Jiangsu, campus PV in Guangdong,
a solar PPA in Virginia, a group pool of wind GECs and one GEC batch not yet retired), and
:func:`_hourly_rows` the hourly load and PPA supply of the Virginia site for
``esgledger green cfe``.

**Targets and the road to neutrality.** Five small CSV files shipped beside this module are
copied into the inputs and imported through the same importers: published totals of
2021-2023 (``history.csv``, kind ``emissions-history``; 2021 shaped like the reference
company's: scope 1 19,000 t, scope 2 2,349,000 t location-based, scope 3 2,743,000 t; every
row marked synthetic), targets modelled on the reference company's (``targets.csv``:
scope 1+2 −70 % and scope 3 −30 % absolute by 2030 from 2021, 100 % renewable electricity
by 2030, net zero across scopes 1-3 by 2050), eight abatement measures whose selectors
match the demo's line items (``measures.csv``), four invented credit blocks, avoidance and
a small removal block (``credits.csv``) and three retirements for 2024
(``retirements.csv``).
"""

from __future__ import annotations

import calendar
import csv
import math
import random
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

__all__ = ["DEMO_SEED", "DEMO_YEAR", "PPA_MWH", "PPA_SITE", "DemoFiles", "write_demo_inputs"]

DEMO_SEED = 20211231
DEMO_YEAR = 2024


@dataclass(frozen=True, slots=True)
class DemoSite:
    site: str
    entity: str
    country: str
    type: str
    annual_electricity_mwh: float


def _read_csv(name: str) -> list[dict[str, str]]:
    text = resources.files("esgledger.demo").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def demo_sites() -> tuple[DemoSite, ...]:
    """The demo sites with the annual electricity the generator spreads over the months."""
    return tuple(
        DemoSite(
            site=row["site"],
            entity=row["entity"],
            country=row["country"],
            type=row["type"],
            annual_electricity_mwh=float(row["demo_annual_electricity_mwh"]),
        )
        for row in _read_csv("sites.csv")
    )


@dataclass(frozen=True, slots=True)
class DemoFiles:
    """Paths of the generated demo input files, in import order."""

    entities: Path
    sites: Path
    factors: Path
    energy: Path
    value_chain: Path
    travel: Path
    instruments: Path
    hourly_load: Path
    hourly_supply: Path
    history: Path
    targets: Path
    measures: Path
    credits: Path
    retirements: Path
    company_metrics: Path
    metric_values: Path
    report_inputs: Path

    def activity_files(self) -> list[Path]:
        return [self.energy, self.value_chain, self.travel]

    def ambition_files(self) -> list[tuple[str, Path]]:
        """Import kind and file of the targets, plan and offsets inputs, in import order."""
        return [
            ("emissions-history", self.history),
            ("targets", self.targets),
            ("measures", self.measures),
            ("credits", self.credits),
            ("retirements", self.retirements),
        ]

    def disclosure_files(self) -> list[tuple[str, Path]]:
        """Import kind and file of the company metrics and the typed metric values."""
        return [("metrics", self.company_metrics), ("metric-values", self.metric_values)]


def _months(year: int) -> Iterator[tuple[str, str, int]]:
    for month in range(1, 13):
        last = calendar.monthrange(year, month)[1]
        yield f"{year}-{month:02d}-01", f"{year}-{month:02d}-{last:02d}", month


def _season(month: int, amplitude: float) -> float:
    """A cooling-driven seasonal shape: higher in summer (July/August)."""
    # A cosine with its peak between July and August, mean 1 over the year.
    return 1.0 + amplitude * math.cos((month - 7.5) / 12 * 2 * math.pi)


def _energy_rows(rng: random.Random, year: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    n = 0

    def add(
        entity: str,
        site: str,
        start: str,
        end: str,
        activity: str,
        qty: float,
        unit: str,
        notes: str = "",
        supplier: str = "",
    ) -> None:
        nonlocal n
        n += 1
        rows.append(
            {
                "record_id": f"EN-{year}-{n:05d}",
                "entity": entity,
                "site": site,
                "period_start": start,
                "period_end": end,
                "activity": activity,
                "quantity": qty,
                "unit": unit,
                "supplier": supplier,
                "notes": notes,
            }
        )

    for demo_site in demo_sites():
        code, entity, country, kind = (
            demo_site.site,
            demo_site.entity,
            demo_site.country,
            demo_site.type,
        )
        annual_mwh = demo_site.annual_electricity_mwh
        for start, end, month in _months(year):
            if annual_mwh:
                shape = _season(month, 0.08 if kind == "data_centre" else 0.15)
                mwh = annual_mwh / 12 * shape * rng.uniform(0.97, 1.03)
                # Offices report in kWh, data centres in MWh, one campus in 万千瓦时.
                if kind == "data_centre":
                    add(
                        entity,
                        code,
                        start,
                        end,
                        "electricity",
                        round(mwh, 3),
                        "MWh",
                        supplier="HK Power Co" if country == "HK" else "",
                    )
                elif code == "HQ-SZ":
                    add(entity, code, start, end, "electricity", round(mwh / 10, 4), "万千瓦时")
                else:
                    add(
                        entity,
                        code,
                        start,
                        end,
                        "electricity",
                        round(mwh * 1000, 1),
                        "kWh",
                        supplier="HK Power Co" if country == "HK" else "",
                    )
            if kind == "data_centre" and country == "CN":
                # Monthly generator tests: diesel in tonnes (吨), as Chinese fuel ledgers keep
                # it and as the national default factors are given (per tonne).
                add(
                    entity,
                    code,
                    start,
                    end,
                    "stationary.diesel",
                    round(rng.uniform(3.4, 7.6), 3),
                    "吨",
                    "backup generator tests",
                )
            if kind in ("campus", "office") and country == "CN":
                add(
                    entity,
                    code,
                    start,
                    end,
                    "stationary.natural_gas",
                    round(rng.uniform(9_000, 40_000) * (2.0 if code == "HQ-SZ" else 1.0)),
                    "Nm3",
                    "canteen kitchens",
                )
            if code in ("OF-BJ", "HQ-SZ") and month in (1, 2, 3, 11, 12):
                add(
                    entity,
                    code,
                    start,
                    end,
                    "heat",
                    round(rng.uniform(800, 1_600), 1),
                    "GJ",
                    "district heating",
                )
            if kind == "fleet_depot":
                # Fleet fuel in tonnes, from the fuel cards' monthly statements.
                add(
                    entity,
                    code,
                    start,
                    end,
                    "mobile.petrol",
                    round(rng.uniform(20.5, 26.5), 3),
                    "t",
                    "pool cars",
                )
                add(
                    entity,
                    code,
                    start,
                    end,
                    "mobile.diesel",
                    round(rng.uniform(15.0, 20.0), 3),
                    "t",
                    "shuttle buses",
                )
        if kind == "data_centre":
            # Refrigerant top-ups, recorded once for the year.
            add(
                entity,
                code,
                f"{year}-01-01",
                f"{year}-12-31",
                "refrigerant.R-410A",
                round(rng.uniform(150, 600), 1),
                "kg",
                "chiller top-up",
            )
            add(
                entity,
                code,
                f"{year}-01-01",
                f"{year}-12-31",
                "refrigerant.R-134a",
                round(rng.uniform(200, 900), 1),
                "kg",
                "chiller top-up",
            )
    return rows


def _value_chain_rows(rng: random.Random, year: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    n = 0

    def add(
        entity: str,
        site: str,
        activity: str,
        qty: float,
        unit: str,
        cat: int | str = "",
        supplier: str = "",
        notes: str = "",
        start: str = "",
        end: str = "",
        region: str = "",
    ) -> None:
        nonlocal n
        n += 1
        rows.append(
            {
                "record_id": f"VC-{year}-{n:05d}",
                "entity": entity,
                "site": site,
                "period_start": start or f"{year}-01-01",
                "period_end": end or f"{year}-12-31",
                "activity": activity,
                "quantity": qty,
                "unit": unit,
                "supplier": supplier,
                "scope3_category": cat,
                "region": region,
                "notes": notes,
            }
        )

    # Capital goods (category 2): servers, chips, network gear, buildings; by quarter.
    for q, (start, end) in enumerate(
        [
            (f"{year}-01-01", f"{year}-03-31"),
            (f"{year}-04-01", f"{year}-06-30"),
            (f"{year}-07-01", f"{year}-09-30"),
            (f"{year}-10-01", f"{year}-12-31"),
        ],
        start=1,
    ):
        jitter = rng.uniform(0.9, 1.1)
        add(
            "CLOUD",
            "",
            "spend.naics.334111",
            round(3.4e10 * jitter / 4, -3),
            "CNY",
            2,
            notes=f"servers Q{q}",
            start=start,
            end=end,
        )
        add(
            "CLOUD",
            "",
            "spend.naics.334413",
            round(2.8e9 * jitter / 4, -3),
            "USD",
            2,
            notes=f"accelerators and chips Q{q}",
            start=start,
            end=end,
        )
        add(
            "CLOUD",
            "",
            "spend.naics.334210",
            round(9.0e9 * jitter / 4, -3),
            "CNY",
            2,
            notes=f"network equipment Q{q}",
            start=start,
            end=end,
        )
        add(
            "GRP",
            "",
            "spend.naics.236220",
            round(7.5e5 * jitter / 4, 1),
            "万元",
            2,
            notes=f"campus and data-centre construction Q{q}",
            start=start,
            end=end,
        )
    # Purchased goods and services (category 1).
    # The region is where the supplier is, when it is not where the entity is.
    for entity, naics, amount, unit, note, region in [
        ("CONTENT", "541810", 4.5e9, "CNY", "advertising and marketing services", ""),
        ("TECH", "541511", 3.0e9, "CNY", "outsourced software development", ""),
        ("GAME", "541512", 1.5e9, "CNY", "game services and design", ""),
        ("GRP", "561720", 3.0e8, "CNY", "facility cleaning services", ""),
        ("GRP", "722511", 4.0e8, "CNY", "staff canteen catering", ""),
        ("INTL", "518210", 3.5e7, "USD", "third-party cloud hosting in the US", "US"),
        ("FIN", "541611", 2.2e8, "HKD", "management consulting", ""),
    ]:
        add(
            entity,
            "",
            f"spend.naics.{naics}",
            round(amount * rng.uniform(0.95, 1.05), -3),
            unit,
            1,
            notes=note,
            region=region,
        )
    # Supplier-reported emissions (category 1), a key supplier with a verified footprint.
    add(
        "CLOUD",
        "",
        "supplier.emissions",
        round(rng.uniform(26_000, 30_000), 1),
        "t",
        1,
        supplier="Server OEM A",
        notes="supplier-allocated cradle-to-gate emissions",
    )
    # Leased (colocation) data-centre electricity (category 8): racks in lessors' data
    # centres, not at a site of the group, so the row names the region, not a site (a site's
    # electricity is scope 2 or category 8, never both).
    for entity, region, mwh in [
        ("CLOUD", "CN-GD", 740_000),
        ("SOC", "CN-BJ", 490_000),
        ("GAME", "CN-SH", 355_000),
    ]:
        for start, end, month in _months(year):
            add(
                entity,
                "",
                "leased.electricity",
                round(mwh / 12 * _season(month, 0.06) * rng.uniform(0.98, 1.02), 3),
                "MWh",
                8,
                notes="colocation racks operated by the lessor",
                start=start,
                end=end,
                region=region,
            )
    # Freight (category 4), waste (category 5), water.
    add(
        "CLOUD",
        "",
        "freight.road",
        round(rng.uniform(2.0e6, 2.6e6)),
        "tkm",
        4,
        notes="server deliveries to data centres",
    )
    add(
        "CLOUD",
        "",
        "freight.air",
        round(rng.uniform(3.0e5, 4.0e5)),
        "tkm",
        4,
        notes="urgent spare parts",
    )
    add(
        "GRP",
        "HQ-SZ",
        "waste.commercial_and_industrial_waste.landfill",
        round(rng.uniform(900, 1_200), 1),
        "t",
        5,
    )
    add("GRP", "HQ-SZ", "water.supply", round(rng.uniform(6.0e5, 7.0e5)), "m3", 1)
    add("GRP", "HQ-SZ", "water.treatment", round(rng.uniform(5.0e5, 6.0e5)), "m3", 5)
    return rows


#: The site whose solar PPA exceeds its annual load but not its hourly load.
PPA_SITE = "DC-US"
#: [MWh] annual volume of that PPA (about 108 % of the site's load, as in the worked day of
#: the reference notes, domain-modules.md §2.5).
PPA_MWH = 205_000.0
#: [kWp] the PPA's (synthetic) solar farm; its clear-sky profile is scaled to PPA_MWH.
PPA_CAPACITY_KWP = 150_000.0


def _instrument_rows(year: int) -> list[dict[str, object]]:
    """The green-power register of the demo group (every plant and id is invented).

    * DC-CQ, Chongqing: a green-power trade (绿电交易, GECs bundled) of 60,000 MWh of
      Sichuan hydro retired for the site, more than its load: RE 100 %, the rest is surplus;
    * DC-JS, Jiangsu: a 13 MW rooftop PV plant, self-consumed (on-site, no certificates sold);
    * HQ-SZ, Guangdong campus: rooftop PV, a little over 2 million kWh a year;
    * DC-US, Virginia: a physical solar PPA whose annual volume exceeds the site's load, yet
      matches far less of it hour by hour (see the hourly files);
    * the group pool: wind GECs retired for the group, allocated to the remaining sites;
    * a GEC batch bought but not yet retired: excluded, with the reason shown.
    """
    period = {"period_start": f"{year}-01-01", "period_end": f"{year}-12-31"}
    return [
        {
            "instrument": "CQ-GPT-001",
            "type": "green_power_trade",
            "technology": "hydro",
            "generator": "Synthetic Yalong hydro plant (demo)",
            "commissioned": "2016-06-30",
            "country": "CN",
            "region": "CN-SC",
            **period,
            "mwh": 60_000,
            "retired_on": f"{year + 1}-01-20",
            "retired_for": "DC-CQ",
            "registry_id": f"GEC-DEMO-{year}-CQ-0001",
            "contract_signed": f"{year - 1}-12-15",
            "notes": "green-power trade covering the Chongqing data centre",
        },
        {
            "instrument": "JS-PV-ROOF",
            "type": "onsite",
            "technology": "solar",
            "generator": "Nantong data centre rooftop PV, 13 MW (demo)",
            "commissioned": f"{year - 2}-09-30",
            "country": "CN",
            "region": "CN-JS",
            **period,
            "mwh": 13_650,
            "retired_for": "DC-JS",
            "notes": "13 MWp x about 1,050 full-load hours, self-consumed",
        },
        {
            "instrument": "SZ-PV-CAMPUS",
            "type": "onsite",
            "technology": "solar",
            "generator": "Shenzhen campus rooftop PV (demo)",
            "commissioned": f"{year - 3}-05-31",
            "country": "CN",
            "region": "CN-GD",
            **period,
            "mwh": 2_150,
            "retired_for": "HQ-SZ",
            "notes": "more than 2 million kWh generated and self-consumed",
        },
        {
            "instrument": "US-PPA-SOLAR",
            "type": "ppa_physical",
            "technology": "solar",
            "generator": "Synthetic Piedmont solar farm, 150 MWp (demo)",
            "commissioned": f"{year - 1}-03-31",
            "country": "US",
            **period,
            "mwh": PPA_MWH,
            "retired_on": f"{year + 1}-02-15",
            "retired_for": PPA_SITE,
            "registry_id": f"PJM-GATS-DEMO-{year}-0001",
            "contract_signed": f"{year - 2}-11-01",
            "notes": "sleeved solar PPA; its RECs are retired for the Virginia data centre",
        },
        {
            "instrument": "GRP-GEC-WIND",
            "type": "gec",
            "technology": "wind",
            "generator": "Synthetic Ulanqab wind farm (demo)",
            "commissioned": f"{year - 4}-12-31",
            "country": "CN",
            "region": "CN-NM",
            **period,
            "mwh": 350_000,
            "retired_on": f"{year + 1}-03-10",
            "retired_for": "GRP",
            "registry_id": f"GEC-DEMO-{year}-GRP-0001",
            "contract_signed": f"{year}-02-01",
            "notes": "group pool of wind GECs",
        },
        {
            "instrument": "GRP-GEC-PENDING",
            "type": "gec",
            "technology": "wind",
            "generator": "Synthetic Ulanqab wind farm (demo)",
            "commissioned": f"{year - 4}-12-31",
            "country": "CN",
            "region": "CN-NM",
            **period,
            "mwh": 50_000,
            "retired_for": "GRP",
            "registry_id": f"GEC-DEMO-{year}-GRP-0002",
            "contract_signed": f"{year}-11-20",
            "notes": "bought, not yet cancelled in the registry",
        },
    ]


def _hourly_rows(
    energy: list[dict[str, object]], year: int
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Hourly load of the PPA site (its monthly electricity spread evenly over the hours, a
    data centre's flat load) and the PPA's hourly supply (a modelled clear-sky solar profile,
    ``esgledger.renewables.pv``, scaled to :data:`PPA_MWH`), in MWh per hour."""
    from datetime import datetime, timedelta

    from esgledger.renewables.pv import PvSystem, pv_hourly

    monthly = {
        int(str(row["period_start"])[5:7]): float(str(row["quantity"]))
        for row in energy
        if row["site"] == PPA_SITE and row["activity"] == "electricity"
    }
    first = datetime(year, 1, 1)
    hours = [
        first + timedelta(hours=h) for h in range((datetime(year + 1, 1, 1) - first).days * 24)
    ]
    farm = PvSystem(latitude=37.5, longitude=-78.5, capacity_kwp=PPA_CAPACITY_KWP, tilt_deg=25.0)
    # A fixed UTC-5 offset: the hours of a year without daylight-saving gaps or repeats.
    generation = pv_hourly(farm, hours, timezone="Etc/GMT+5").column("generation_kwh")
    kwh = [max(0.0, float(v or 0.0)) for v in generation.to_pylist()]
    scale = PPA_MWH / sum(kwh)
    load: list[dict[str, object]] = []
    supply: list[dict[str, object]] = []
    for hour, generated in zip(hours, kwh, strict=True):
        days = calendar.monthrange(year, hour.month)[1]
        stamp = hour.strftime("%Y-%m-%dT%H:%M:%S")
        load.append(
            {
                "site": PPA_SITE,
                "hour": stamp,
                "load_mwh": round(monthly[hour.month] / (days * 24), 6),
            }
        )
        supply.append({"site": PPA_SITE, "hour": stamp, "clean_mwh": round(generated * scale, 6)})
    return load, supply


TRAVEL_HEADERS_ZH = {
    "record_id": "记录编号",
    "entity": "主体",
    "site": "站点",
    "period_start": "开始日期",
    "period_end": "结束日期",
    "activity": "活动类型",
    "quantity": "数量",
    "unit": "单位",
    "region": "地区",
    "notes": "备注",
}


def _travel_rows(rng: random.Random, year: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    n = 0
    for entity in ("SOC", "GAME", "CLOUD", "CONTENT", "TECH", "FIN", "INTL"):
        for start, end, _month in _months(year):
            for activity, low, high, unit, region, note in [
                ("travel.air.short_haul.economy", 8.0e7, 1.6e8, "pkm", "", "国内航班"),
                ("travel.air.long_haul.economy", 4.0e7, 9.8e7, "pkm", "", "国际航班"),
                ("travel.air.long_haul.business", 7.6e6, 2.0e7, "pkm", "", "国际航班商务舱"),
                ("travel.rail", 1.5e7, 3.0e7, "人公里", "", "高铁"),
                ("travel.taxi", 1.0e6, 2.0e6, "pkm", "", "出租车"),
                ("travel.hotel", 12_000, 24_000, "间夜", "CN", "国内酒店"),
                ("travel.hotel", 800, 2_400, "room night", "HK", "香港酒店"),
                ("commuting.rail", 1.8e7, 3.0e7, "pkm", "", "地铁通勤"),
                ("commuting.car", 6.0e6, 1.2e7, "vkm", "", "自驾通勤"),
            ]:
                n += 1
                rows.append(
                    {
                        "record_id": f"TR-{year}-{n:05d}",
                        "entity": entity,
                        "site": "",
                        "period_start": start,
                        "period_end": end,
                        "activity": activity,
                        "quantity": round(rng.uniform(low, high) / 7, 1),
                        "unit": unit,
                        "region": region,
                        "notes": note,
                    }
                )
    return rows


def _write_csv(
    path: Path,
    rows: list[dict[str, object]],
    *,
    encoding: str = "utf-8",
    headers: dict[str, str] | None = None,
) -> None:
    fields = list(dict.fromkeys(key for row in rows for key in row))
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([headers.get(f, f) if headers else f for f in fields])
        for row in rows:
            writer.writerow([_cell(row.get(f)) for f in fields])


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _write_xlsx(path: Path, rows: list[dict[str, object]]) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "activities"
    fields = list(rows[0])
    sheet.append(fields)
    for row in rows:
        sheet.append([row.get(f) if row.get(f) != "" else None for f in fields])
    workbook.save(path)
    _freeze_xlsx_timestamps(path)


_FIXED_TIME = "2000-01-01T00:00:00Z"
_W3CDTF = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def _freeze_xlsx_timestamps(path: Path) -> None:
    """Make an XLSX byte-for-byte reproducible: openpyxl stamps the save time into
    ``docProps/core.xml`` and every zip entry; replace both with a fixed time."""
    with zipfile.ZipFile(path) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                data = _W3CDTF.sub(rb"\g<1>" + _FIXED_TIME.encode() + rb"\g<2>", data)
            fixed = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            target.writestr(fixed, data)


def write_demo_inputs(folder: Path, *, seed: int = DEMO_SEED, year: int = DEMO_YEAR) -> DemoFiles:
    """Write the demo group's input files into ``folder`` and return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    files = DemoFiles(
        entities=folder / "entities.csv",
        sites=folder / "sites.csv",
        factors=folder / "factors-supplier.csv",
        energy=folder / f"activities-energy-{year}.csv",
        value_chain=folder / f"activities-value-chain-{year}.xlsx",
        travel=folder / f"activities-travel-{year}-gb18030.csv",
        instruments=folder / f"instruments-{year}.csv",
        hourly_load=folder / f"hourly-load-{PPA_SITE}-{year}.csv",
        hourly_supply=folder / f"hourly-ppa-supply-{PPA_SITE}-{year}.csv",
        history=folder / "emissions-history.csv",
        targets=folder / "targets.csv",
        measures=folder / "measures.csv",
        credits=folder / "credits.csv",
        retirements=folder / "retirements.csv",
        company_metrics=folder / "company-metrics.csv",
        metric_values=folder / f"metric-values-{year - 1}-{year}.csv",
        report_inputs=folder.parent / "report",
    )
    _write_csv(files.entities, _read_csv("entities.csv"))  # type: ignore[arg-type]
    _write_csv(
        files.sites,
        [
            {k: v for k, v in row.items() if k != "demo_annual_electricity_mwh"}
            for row in _read_csv("sites.csv")
        ],
    )
    _write_csv(
        files.factors,
        [
            {
                "factor": "demo-hk-power-2024",
                "activity": "electricity",
                "region": "HK",
                "year": year,
                "unit": "kWh",
                "co2e_kg": 0.39,
                "gwp_basis": "AR5",
                "source": "Illustrative supplier factor for the demo (not a published figure)",
                "supplier": "HK Power Co",
                "method": "supplier",
            },
        ],
    )
    energy = _energy_rows(rng, year)
    _write_csv(files.energy, energy)
    _write_xlsx(files.value_chain, _value_chain_rows(rng, year))
    _write_csv(files.travel, _travel_rows(rng, year), encoding="gb18030", headers=TRAVEL_HEADERS_ZH)
    _write_csv(files.instruments, _instrument_rows(year))
    load, supply = _hourly_rows(energy, year)
    _write_csv(files.hourly_load, load)
    _write_csv(files.hourly_supply, supply)
    for name, path in (
        ("history.csv", files.history),
        ("targets.csv", files.targets),
        ("measures.csv", files.measures),
        ("credits.csv", files.credits),
        ("retirements.csv", files.retirements),
    ):
        path.write_bytes(resources.files("esgledger.demo").joinpath(name).read_bytes())
    demo = resources.files("esgledger.demo")
    files.company_metrics.write_bytes(demo.joinpath("report/company_metrics.csv").read_bytes())
    # metric_values.csv is written for reporting year 2024 (and the years before it): shift
    # its years so that they sit the same way around the demo's reporting year.
    values = _read_csv("metric_values.csv")
    for row in values:
        row["year"] = str(int(row["year"]) + year - METRIC_VALUES_YEAR)
    _write_csv(files.metric_values, values)  # type: ignore[arg-type]
    _copy_report_inputs(files.report_inputs, files)
    return files


#: The reporting year ``metric_values.csv`` is written for.
METRIC_VALUES_YEAR = 2024


#: [dimensionless] Measured PUE of the demo's data centres (ISO/IEC 30134-2; synthetic).
DEMO_PUE = {"DC-TJ": 1.31, "DC-SH": 1.28, "DC-JS": 1.25, "DC-GD": 1.24, "DC-CQ": 1.27,
            "DC-GZ": 1.19, "DC-SC": 1.22, "DC-US": 1.18}  # fmt: skip


def _copy_report_inputs(target: Path, files: DemoFiles) -> None:
    """The report's inputs (``report.toml``, narratives in both languages, explanations) into
    the workspace's ``report/`` folder, where ``esgledger report`` reads them; ``report.toml``
    gains a ``[green]`` table naming the PPA site's hourly files and the data centres' PUE."""
    source = resources.files("esgledger.demo").joinpath("report")
    (target / "narratives").mkdir(parents=True, exist_ok=True)
    (target / "explanations.csv").write_bytes(source.joinpath("explanations.csv").read_bytes())
    pue = ", ".join(f'"{site}" = {value}' for site, value in DEMO_PUE.items())
    green = (
        "\n[green]\n"
        "# The solar PPA's site, hour by hour (the 24/7 CFE heat-map of the report).\n"
        f'hourly_load = "../inputs/{files.hourly_load.name}"\n'
        f'hourly_supply = "../inputs/{files.hourly_supply.name}"\n'
        "# Measured power usage effectiveness of the data centres (synthetic).\n"
        f"pue = {{ {pue} }}\n"
    )
    toml = source.joinpath("report.toml").read_text(encoding="utf-8")
    (target / "report.toml").write_text(toml.rstrip("\n") + "\n" + green, encoding="utf-8")
    for item in source.joinpath("narratives").iterdir():
        if item.name.endswith(".md"):
            (target / "narratives" / item.name).write_bytes(item.read_bytes())
