"""The meter tree of each site: import, load and what each meter's readings mean.

计量树：导入、读取，以及每块计量表读数的含义。

``esgledger import WS --kind meters FILE`` reads the columns of
``esgledger/schema/meter_columns.csv``: ``meter``, ``site``, ``parent`` (empty for a
boundary meter), ``role`` (:data:`esgledger.energy.roles.ROLES`), ``unit`` (any energy, volume
or power unit), ``kind`` (``counter``: a cumulative register; ``interval``: the consumption, or
the average power, of the interval a reading closes), ``multiplier`` (CT/PT scaling, default 1),
``rollover`` (a counter's maximum register value), ``timezone`` (IANA; defaulted from the
site's country where the country has one zone), ``fuel`` (``diesel`` or ``natural_gas`` for a
fuel meter in volume units), ``timestamp_marks`` (``end``, the default, or ``start`` of the
interval), ``name``, ``name_zh``. The whole file is checked — every row, the tree (parents
known, on the same site, no cycles), one time zone per site — and then stored whole or not at
all. A meter already imported is replaced by a later file, except that a meter with readings
keeps what gives its readings their meaning (site, unit, kind, multiplier, rollover, time zone,
timestamp marks): changing those would silently reinterpret stored data, so it is refused —
give the new meter a new id.

Canonical units: energy meters are read in kWh (power readings × the interval's hours; fuel in
volume units × the fuel's energy content, EN 50600-4-x: diesel 9.9 kWh/L, natural gas
10.5 kWh/m3), water meters in litres.
"""

from __future__ import annotations

import math
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from esgledger.energy.roles import ROLES, WATER_ROLES
from esgledger.errors import InputError, Issue, NotFoundError, UnitError, shown
from esgledger.ingest import ImportResult
from esgledger.ingest.batches import already_imported, batch_ids, commit_batch, file_sha256
from esgledger.ingest.readers import read_table
from esgledger.ingest.reference import column_specs
from esgledger.ingest.values_guard import check_number, guard_text, number_fix
from esgledger.units import check_unit_grammar, conversion_factor, fits_dimension

if TYPE_CHECKING:
    from esgledger.store import Workspace

__all__ = [
    "FUEL_KWH_PER_UNIT",
    "KIND",
    "Meter",
    "data_centre_sites",
    "import_meters",
    "load_meters",
    "site_timezone",
]

KIND = "meters"

#: Energy content of fuels metered by volume [kWh per unit], EN 50600-4-x factsheet
#: (ictfootprint.eu): diesel 9.9 kWh/L, natural gas 10.5 kWh/m3.
FUEL_KWH_PER_UNIT: dict[str, tuple[float, str]] = {
    "diesel": (9.9, "L"),
    "natural_gas": (10.5, "m3"),
}

#: IANA zone of countries with one zone (others need a ``timezone`` column).
_COUNTRY_ZONES: dict[str, str] = {
    "CN": "Asia/Shanghai",
    "HK": "Asia/Hong_Kong",
    "MO": "Asia/Macau",
    "TW": "Asia/Taipei",
    "SG": "Asia/Singapore",
    "JP": "Asia/Tokyo",
    "KR": "Asia/Seoul",
    "IN": "Asia/Kolkata",
    "TH": "Asia/Bangkok",
    "VN": "Asia/Ho_Chi_Minh",
    "MY": "Asia/Kuala_Lumpur",
    "PH": "Asia/Manila",
    "AE": "Asia/Dubai",
    "SA": "Asia/Riyadh",
    "IL": "Asia/Jerusalem",
    "GB": "Europe/London",
    "IE": "Europe/Dublin",
    "DE": "Europe/Berlin",
    "FR": "Europe/Paris",
    "NL": "Europe/Amsterdam",
    "BE": "Europe/Brussels",
    "CH": "Europe/Zurich",
    "IT": "Europe/Rome",
    "SE": "Europe/Stockholm",
    "NO": "Europe/Oslo",
    "FI": "Europe/Helsinki",
    "DK": "Europe/Copenhagen",
    "PL": "Europe/Warsaw",
    "AT": "Europe/Vienna",
    "ZA": "Africa/Johannesburg",
    "NZ": "Pacific/Auckland",
}

_KINDS = ("counter", "interval")
_MARKS = ("end", "start")
_ENERGY, _VOLUME, _POWER = "[energy]", "[volume]", "[power]"
_FIX_ROLE = f"use one of {', '.join(ROLES)}"


@dataclass(frozen=True, slots=True)
class Meter:
    """One meter of a site's tree; see the module docstring for the fields."""

    meter: str
    site: str
    parent: str | None
    role: str
    unit: str
    kind: str
    multiplier: float
    rollover: float | None
    timezone: str
    fuel: str | None
    timestamp_marks: str
    name: str | None = None
    name_zh: str | None = None

    @property
    def canonical_unit(self) -> str:
        """``"L"`` for water meters, ``"kWh"`` for every other meter."""
        return "L" if self.role in WATER_ROLES else "kWh"

    @property
    def is_power(self) -> bool:
        """Whether readings are (average) power, to be multiplied by the interval's hours."""
        return fits_dimension(self.unit, _POWER)

    @property
    def scale(self) -> float:
        """What turns a reading (or a counter step) into the canonical unit: the multiplier
        times the unit conversion (for power: to kW, the caller multiplies by hours; for a
        volume fuel meter: litres or m3 times the fuel's energy content)."""
        if self.role in WATER_ROLES:
            return self.multiplier * conversion_factor(self.unit, "L")
        if self.is_power:
            return self.multiplier * conversion_factor(self.unit, "kW")
        if fits_dimension(self.unit, _VOLUME):
            per_unit, unit = FUEL_KWH_PER_UNIT[self.fuel or ""]
            return self.multiplier * conversion_factor(self.unit, unit) * per_unit
        return self.multiplier * conversion_factor(self.unit, "kWh")


def _meter(record: Mapping[str, Any]) -> Meter:
    return Meter(
        meter=str(record["meter"]),
        site=str(record["site"]),
        parent=record.get("parent") or None,
        role=str(record["role"]),
        unit=str(record["unit"]),
        kind=str(record["kind"]),
        multiplier=float(record.get("multiplier") or 1.0),
        rollover=None if record.get("rollover") is None else float(record["rollover"]),
        timezone=str(record["timezone"]),
        fuel=record.get("fuel") or None,
        timestamp_marks=str(record.get("timestamp_marks") or "end"),
        name=record.get("name") or None,
        name_zh=record.get("name_zh") or None,
    )


def load_meters(workspace: Workspace, *, site: str | None = None) -> list[Meter]:
    """The workspace's meters (of ``site`` only, when given), ordered by id."""
    from esgledger.store.repository_energy import load_meters as stored

    with workspace.session() as session:
        rows = stored(session)
    return [_meter(r) for r in rows if site is None or r["site"] == site]


def data_centre_sites(workspace: Workspace) -> list[str]:
    """The sites that have meters, sorted."""
    from esgledger.store.repository_energy import sites_with_meters

    with workspace.session() as session:
        return sites_with_meters(session)


def site_timezone(workspace: Workspace, site: str) -> str:
    """The IANA time zone of ``site`` (its meters'), else its country's single zone.

    Raises
    ------
    NotFoundError
        When the site is unknown, or neither its meters nor its country give a zone.
    """
    from esgledger.store.repository import load_sites

    for meter in load_meters(workspace, site=site):
        return meter.timezone
    with workspace.session() as session:
        found = [s for s in load_sites(session) if s["code"] == site]
    if not found:
        raise NotFoundError(f"no site {shown(site)} in the workspace")
    zone = _COUNTRY_ZONES.get(str(found[0]["country"]))
    if zone is None:
        raise NotFoundError(
            f"site {shown(site)} has no time zone: import its meters with a timezone column"
        )
    return zone


# ---- import --------------------------------------------------------------------------------


def _header_map() -> tuple[dict[str, list[str]], list[str]]:
    specs = column_specs(KIND)
    columns = {s.column: [s.column, s.header_zh, *s.aliases] for s in specs}
    return columns, [s.column for s in specs if s.required]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    text = str(value).strip()
    return text or None


def _unit_dimension(unit: str) -> str | None:
    for dimension in (_ENERGY, _VOLUME, _POWER):
        if fits_dimension(unit, dimension):
            return dimension
    return None


def _has_readings(workspace: Workspace) -> set[str]:
    from esgledger.energy.readings import meters_with_readings

    return meters_with_readings(workspace)


def import_meters(
    workspace: Workspace, path: Path | str, *, progress: bool = False
) -> ImportResult:
    """Import a meter-tree file, whole or not at all (see the module docstring).

    Raises
    ------
    InputError
        If the file cannot be read or any row, or the tree, is wrong; nothing is written.
    """
    from esgledger.store.repository import batch_id_for, load_sites
    from esgledger.store.repository_energy import load_meters as stored_meters
    from esgledger.store.repository_energy import save_meters

    path = Path(path)
    digest = file_sha256(path)
    done = already_imported(workspace, KIND, path, digest)
    if done is not None:
        return done
    columns, required = _header_map()
    table = guard_text(read_table(path, columns=columns, required=required))
    if table.table.num_rows == 0:
        problem = "the file has no data rows"
        raise InputError(
            f"{table.file} was rejected: {problem}",
            [Issue(table.file, None, None, None, problem, "add the meters, one row each")],
        )
    batch_id = batch_id_for(KIND, digest)
    seen = batch_ids(workspace)

    def validated() -> list[dict[str, Any]]:
        with workspace.session() as session:
            sites = {s["code"]: s for s in load_sites(session)}
            stored = {m["meter"]: m for m in stored_meters(session)}
        return _validate(table.file, list(table.rows()), sites, stored, _has_readings(workspace))

    records = validated()
    n = len(records)
    sites = sorted({r["site"] for r in records})
    noun = "meter" if n == 1 else "meters"
    message = f"Imported {n} {noun} of {len(sites)} site(s) from {table.file} as batch {batch_id}."

    def recheck() -> Callable[[Any, Any], object]:
        again = validated()
        return lambda s, b: save_meters(s, again, b)

    return commit_batch(
        workspace,
        KIND,
        path,
        digest,
        rows=n,
        write=lambda s, b: save_meters(s, records, b),
        message=message,
        summary={"sites": sites, "meters": n},
        seen=seen,
        recheck=recheck,
    )


_LOCKED = ("site", "unit", "kind", "multiplier", "rollover", "timezone", "timestamp_marks")


def _validate(
    file: str,
    rows: Sequence[tuple[int, dict[str, Any]]],
    sites: Mapping[str, Mapping[str, Any]],
    stored: Mapping[str, Mapping[str, Any]],
    with_readings: set[str],
) -> list[dict[str, Any]]:
    issues: list[Issue] = []

    def issue(row: int | None, column: str | None, value: Any, problem: str, fix: str) -> None:
        issues.append(Issue(file, row, column, None if value is None else str(value), problem, fix))

    records: list[dict[str, Any]] = []
    where: dict[str, int] = {}
    for row, raw in rows:
        record = {key: _text(raw.get(key)) for key in raw}
        meter = record.get("meter")
        ok = True
        if meter is None:
            issue(row, "meter", None, "the meter id is empty", "give every meter an id")
            continue
        if len(meter) > 100:
            issue(row, "meter", meter, "the meter id is longer than 100 characters", "shorten it")
            ok = False
        if meter in where:
            issue(
                row,
                "meter",
                meter,
                f"meter {meter} is listed twice (row {where[meter]})",
                "keep one row per meter",
            )
            continue
        where[meter] = row
        site = record.get("site")
        if site is None or site not in sites:
            issue(
                row,
                "site",
                site,
                "unknown site" if site else "the site is empty",
                "import the site first (esgledger import --kind sites) or fix the code",
            )
            ok = False
        role = record.get("role")
        if role not in ROLES:
            issue(row, "role", role, "unknown meter role", _FIX_ROLE)
            ok = False
        kind = (record.get("kind") or "").lower()
        if kind not in _KINDS:
            issue(
                row,
                "kind",
                record.get("kind"),
                "unknown kind of reading",
                "write counter (cumulative register) or interval",
            )
            ok = False
        unit = record.get("unit")
        dimension = None
        if unit is None:
            issue(row, "unit", None, "the unit is empty", "give the unit of the readings (kWh)")
            ok = False
        else:
            try:
                check_unit_grammar(unit)
                dimension = _unit_dimension(unit)
            except UnitError as exc:
                issue(row, "unit", unit, str(exc), "write a unit such as kWh, MWh, kW or m3")
                ok = False
            else:
                if dimension is None:
                    issue(
                        row,
                        "unit",
                        unit,
                        "not an energy, volume or power unit",
                        "write a unit such as kWh, MWh, kW or m3",
                    )
                    ok = False
        fuel = record.get("fuel")
        if role is not None and dimension is not None:
            if role in WATER_ROLES and dimension != _VOLUME:
                issue(row, "unit", unit, "a water meter reads a volume", "write m3 or L")
                ok = False
            elif role not in WATER_ROLES and dimension == _VOLUME:
                if role != "fuel":
                    issue(
                        row,
                        "unit",
                        unit,
                        f"a {role} meter reads energy or power, not volume",
                        "write kWh, MWh, kW or MW",
                    )
                    ok = False
                elif fuel not in FUEL_KWH_PER_UNIT:
                    issue(
                        row,
                        "fuel",
                        fuel,
                        "a fuel meter in volume units needs its fuel",
                        f"write {' or '.join(FUEL_KWH_PER_UNIT)}",
                    )
                    ok = False
            if dimension == _POWER and kind == "counter":
                issue(
                    row,
                    "kind",
                    kind,
                    "a power reading cannot be a cumulative register",
                    "write interval, or give the register's energy unit (kWh)",
                )
                ok = False
            if dimension == _POWER and role in WATER_ROLES:
                ok = False
        if fuel is not None and fuel not in FUEL_KWH_PER_UNIT:
            issue(row, "fuel", fuel, "unknown fuel", f"write {' or '.join(FUEL_KWH_PER_UNIT)}")
            ok = False
        multiplier = 1.0
        if record.get("multiplier") is not None:
            number, problem = check_number(raw.get("multiplier"), column="multiplier")
            if problem or number is None or number <= 0:
                problem = problem or "the multiplier must be greater than 0"
                issue(row, "multiplier", record.get("multiplier"), problem, number_fix(problem))
                ok = False
            else:
                multiplier = number
        rollover: float | None = None
        if record.get("rollover") is not None:
            number, problem = check_number(raw.get("rollover"), column="rollover")
            if problem or number is None or number <= 0:
                problem = problem or "the rollover value must be greater than 0"
                issue(row, "rollover", record.get("rollover"), problem, number_fix(problem))
                ok = False
            elif kind != "counter":
                issue(
                    row,
                    "rollover",
                    record.get("rollover"),
                    "only a counter has a rollover value",
                    "leave it empty",
                )
                ok = False
            else:
                rollover = number
        marks = (record.get("timestamp_marks") or "end").lower()
        if marks not in _MARKS:
            issue(
                row,
                "timestamp_marks",
                record.get("timestamp_marks"),
                "unknown timestamp meaning",
                "write end or start",
            )
            ok = False
        zone = record.get("timezone")
        if zone is not None:
            try:
                zoneinfo.ZoneInfo(zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                issue(
                    row,
                    "timezone",
                    zone,
                    "unknown time zone",
                    "write an IANA zone such as Asia/Shanghai",
                )
                ok = False
        elif site is not None and site in sites:
            zone = _COUNTRY_ZONES.get(str(sites[site]["country"]))
            if zone is None:
                issue(
                    row,
                    "timezone",
                    None,
                    f"the site's country {sites[site]['country']} has no single time zone",
                    "give the site's IANA zone (e.g. America/New_York)",
                )
                ok = False
        if not ok:
            continue
        records.append(
            {
                "meter": meter,
                "site": site,
                "parent": record.get("parent"),
                "role": role,
                "unit": unit,
                "kind": kind,
                "multiplier": multiplier,
                "rollover": rollover,
                "timezone": zone,
                "fuel": fuel,
                "timestamp_marks": marks,
                "name": record.get("name"),
                "name_zh": record.get("name_zh"),
            }
        )
    if not issues:
        issues.extend(_check_tree(file, records, where, stored, with_readings))
    if issues:
        raise InputError(
            f"{file} was rejected: {len(issues)} problem(s); nothing was imported",
            issues[:1000],
            len(issues),
        )
    return records


def _check_tree(
    file: str,
    records: Sequence[dict[str, Any]],
    where: Mapping[str, int],
    stored: Mapping[str, Mapping[str, Any]],
    with_readings: set[str],
) -> list[Issue]:
    issues: list[Issue] = []
    merged: dict[str, Mapping[str, Any]] = {**stored, **{r["meter"]: r for r in records}}
    for record in records:
        row = where[record["meter"]]
        old = stored.get(record["meter"])
        if old is not None and record["meter"] in with_readings:
            changed = [c for c in _LOCKED if (old.get(c) or None) != (record.get(c) or None)]
            if changed:
                issues.append(
                    Issue(
                        file,
                        row,
                        changed[0],
                        str(record.get(changed[0])),
                        f"meter {record['meter']} has readings; changing its "
                        f"{', '.join(changed)} would reinterpret them",
                        "keep these fields, or give the new meter a new id",
                    )
                )
        parent = record["parent"]
        if parent is None:
            continue
        if parent not in merged:
            issues.append(
                Issue(
                    file,
                    row,
                    "parent",
                    parent,
                    "unknown parent meter",
                    "list the parent meter in this file or import it first",
                )
            )
            continue
        if merged[parent]["site"] != record["site"]:
            issues.append(
                Issue(
                    file,
                    row,
                    "parent",
                    parent,
                    f"the parent meter belongs to site {merged[parent]['site']}",
                    "a meter's parent is on the same site",
                )
            )
    # one zone per site, over stored and new meters
    zones: dict[str, set[str]] = {}
    for meter in merged.values():
        zones.setdefault(str(meter["site"]), set()).add(str(meter["timezone"]))
    for record in records:
        if len(zones[record["site"]]) > 1:
            issues.append(
                Issue(
                    file,
                    where[record["meter"]],
                    "timezone",
                    record["timezone"],
                    f"site {record['site']} has meters in several time zones: "
                    f"{', '.join(sorted(zones[record['site']]))}",
                    "give every meter of a site the same time zone",
                )
            )
    # no cycles
    for record in records:
        seen: list[str] = [record["meter"]]
        parent = record["parent"]
        while parent is not None and parent in merged:
            if parent in seen:
                issues.append(
                    Issue(
                        file,
                        where[record["meter"]],
                        "parent",
                        record["parent"],
                        f"the tree has a cycle: {' → '.join([*seen, parent][:9])}",
                        "a meter cannot be upstream of itself",
                    )
                )
                break
            seen.append(parent)
            parent = merged[parent].get("parent")
    return issues
