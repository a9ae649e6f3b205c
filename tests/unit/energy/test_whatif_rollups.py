"""The baseline year from the core's hourly rollup (contract shape) and the weather."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pyarrow as pa
import pytest

from _energy_whatif import FACTOR, PRICES
from esgledger.energy import proposals
from esgledger.energy.whatif import WaterSideEconomiser, baseline_from_rollups, simulate
from esgledger.errors import InputError

START = datetime(2024, 1, 1)


def _rollup(hours: int, per_role: dict[str, float], *, gap: tuple[str, int] | None = None):  # type: ignore[no-untyped-def]
    rows: dict[str, list[object]] = {
        k: [] for k in ("site", "meter", "role", "unit", "period_start_utc", "quantity", "coverage")
    }
    for h in range(hours):
        for role, kwh in per_role.items():
            missing = gap is not None and gap == (role, h)
            rows["site"].append("DC1")
            rows["meter"].append(f"M-{role}")
            rows["role"].append(role)
            rows["unit"].append("L" if role == "water" else "kWh")
            rows["period_start_utc"].append(START + timedelta(hours=h))
            rows["quantity"].append(None if missing else kwh)
            rows["coverage"].append(0.0 if missing else 1.0)
    return pa.table(rows)


def _weather(hours: int) -> pa.Table:
    return pa.table(
        {
            "site": ["DC1"] * hours,
            "ts_utc": [START + timedelta(hours=h) for h in range(hours)],
            "dry_bulb_c": [20.0] * hours,
            "wet_bulb_c": [15.0] * hours,
            "relative_humidity_pct": [60.0] * hours,
        }
    )


ROLES = {
    "incomer": 1340.0,
    "ups_output": 1040.0,  # category 1 only ...
    "pdu_output": 1000.0,  # ... category 2 wins
    "cooling": 250.0,
    "other": 10.0,
    "water": 2500.0,
}


@dataclass(frozen=True)
class _Meter:
    meter: str
    role: str
    parent: str | None


#: The flat tree of :func:`_rollup`'s meters (``M-<role>``, none below another of its role).
TREE = [_Meter(f"M-{role}", role, None if role == "incomer" else "M-incomer")
        for role in ("incomer", "ups_output", "pdu_output", "cooling", "other", "water",
                     "non_dc", "onsite_re", "fuel", "heat_export")]  # fmt: skip


def test_roles_map_to_it_cooling_losses_other_and_the_weather_joins() -> None:
    base = baseline_from_rollups(_rollup(24, ROLES), _weather(24), site="DC1", meters=TREE)
    assert base.hours == 24
    assert base.it_kwh.sum() == pytest.approx(24 * 1000.0)
    # losses = 1,340 − 1,000 − 250 − 10 = 80 kWh per hour.
    assert base.power_losses_kwh.sum() == pytest.approx(24 * 80.0)
    assert base.water_l == pytest.approx(24 * 2500.0)
    assert base.wet_bulb_c is not None
    assert base.wet_bulb_c.tolist() == [15.0] * 24
    assert base.source == "metered hourly rollups (IT at pdu_output)"


def test_incomplete_hours_are_left_out_and_counted_never_filled() -> None:
    gap = _rollup(24, ROLES, gap=("cooling", 5))
    base = baseline_from_rollups(gap, _weather(24), site="DC1", meters=TREE)
    assert base.hours == 23
    (note,) = [n for n in base.notes if n.code == "energy.whatif.hours_left_out"]
    assert note.data == {"hours": 1}
    short_weather = baseline_from_rollups(_rollup(24, ROLES), _weather(20), site="DC1", meters=TREE)
    assert short_weather.hours == 20


def test_a_site_without_incomer_or_an_unbalanced_tree_is_refused() -> None:
    with pytest.raises(InputError, match="needs an incomer"):
        baseline_from_rollups(_rollup(2, {"pdu_output": 1.0}), None, site="DC1", meters=TREE)
    unbalanced = dict(ROLES, incomer=1100.0)  # below IT + cooling + other = 1,260
    with pytest.raises(InputError, match="does not balance"):
        baseline_from_rollups(_rollup(2, unbalanced), None, site="DC1", meters=TREE)
    with pytest.raises(InputError, match="no rows for the site"):
        baseline_from_rollups(_rollup(2, ROLES), None, site="DC9", meters=TREE)


def test_local_hours_from_the_rollup_set_the_months_of_the_heat_map() -> None:
    # Shanghai is UTC+8: the UTC hour 2024-01-31 16:00 is local 2024-02-01 00:00.
    hours = 24
    table = _rollup(hours, ROLES)
    start = datetime(2024, 1, 31, 0)
    utc = [start + timedelta(hours=h) for h in range(hours) for _ in ROLES]
    table = table.set_column(table.schema.get_field_index("period_start_utc"), "period_start_utc",
                             pa.array(utc))  # fmt: skip
    table = table.append_column("period_local", pa.array([t + timedelta(hours=8) for t in utc]))
    weather = _weather(hours).set_column(
        1, "ts_utc", pa.array([start + timedelta(hours=h) for h in range(hours)])
    )
    base = baseline_from_rollups(table, weather, site="DC1", meters=TREE)
    assert base.hour_local is not None
    result = simulate(base, WaterSideEconomiser(), location=FACTOR, prices=PRICES)
    months = {m["month"]: m["hours"] for m in result.free_cooling_by_month}
    assert months == {"2024-01": 16, "2024-02": 8}
    assert {m["clock"] for m in result.free_cooling_by_month} == {"local"}


def test_site_baseline_calls_the_core_and_weather_as_the_contract_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The core's ``parse_period(text)`` and ``rollup(ws, "hour", sites=[site],
    period=period)`` and the demo helper's ``weather.hourly(ws, site, period)`` (not on main
    yet: a fake with the contract's signature stands in) are called as the contract says."""
    calls: list[tuple[object, ...]] = []
    period = SimpleNamespace(end=date(2024, 12, 31), label="2024")

    def parse_period(text: str) -> object:
        calls.append(("parse_period", text))
        return period

    def rollup(ws: object, grain: str, *, sites: list[str], period: object) -> pa.Table:
        calls.append(("rollup", grain, tuple(sites), period))
        return _rollup(24, ROLES)

    def hourly(ws: object, site: str, span: object) -> pa.Table:
        calls.append(("hourly", site, span))
        return _weather(24)

    def load_meters(ws: object, *, site: str) -> list[_Meter]:
        calls.append(("load_meters", site))
        return TREE

    monkeypatch.setattr(proposals, "parse_period", parse_period)
    monkeypatch.setattr(proposals, "load_meters", load_meters)
    monkeypatch.setattr(proposals, "rollup", rollup)
    monkeypatch.setitem(sys.modules, "esgledger.energy.weather", SimpleNamespace(hourly=hourly))
    ws = SimpleNamespace(reporting_year=2024)
    base = proposals.site_baseline(ws, "DC1")  # type: ignore[arg-type]
    assert base.hours == 24
    assert base.wet_bulb_c is not None
    assert calls == [
        ("parse_period", "2024"),
        ("rollup", "hour", ("DC1",), period),
        ("hourly", "DC1", period),
        ("load_meters", "DC1"),
    ]


def test_a_few_unbalanced_hours_are_left_out_with_a_finding() -> None:
    table = _rollup(200, ROLES)
    quantity = table.column("quantity").to_pylist()
    roles = table.column("role").to_pylist()
    hours = table.column("period_start_utc").to_pylist()
    for i, (role, hour) in enumerate(zip(roles, hours, strict=True)):
        if role == "incomer" and hour == START + timedelta(hours=7):
            quantity[i] = 1100.0  # below IT + cooling + other = 1,260: a faulty meter hour
    table = table.set_column(
        table.schema.get_field_index("quantity"), "quantity", pa.array(quantity)
    )
    base = baseline_from_rollups(table, None, site="DC1", meters=TREE)
    assert len(base.it_kwh) == 199
    [note] = [n for n in base.notes if n.code == "energy.whatif.unbalanced_hours"]
    assert note.data == {"hours": 1}


def test_sub_meters_of_a_role_are_not_added_again() -> None:
    """A hall incomer under the site incomer, a chiller under the cooling board and a PDU
    output under another: the baseline takes each role from its topmost meters only."""
    subs = {"incomer": ("M-incomer-hall", 900.0), "cooling": ("M-cooling-ch1", 150.0),
            "pdu_output": ("M-pdu_output-a", 600.0)}  # fmt: skip
    table = _rollup(24, ROLES)
    extra = _rollup(24, {role: kwh for role, (_, kwh) in subs.items()})
    names = {f"M-{role}": meter for role, (meter, _) in subs.items()}
    extra = extra.set_column(
        extra.schema.get_field_index("meter"),
        "meter",
        pa.array([names[m] for m in extra.column("meter").to_pylist()]),
    )
    nested = pa.concat_tables([table, extra])
    tree = [*TREE, *(_Meter(meter, role, f"M-{role}") for role, (meter, _) in subs.items())]
    base = baseline_from_rollups(nested, _weather(24), site="DC1", meters=tree)
    plain = baseline_from_rollups(table, _weather(24), site="DC1", meters=TREE)
    assert base.it_kwh.sum() == pytest.approx(24 * 1000.0)
    assert base.cooling_kwh.sum() == pytest.approx(24 * 250.0)
    assert base.power_losses_kwh.sum() == pytest.approx(24 * 80.0)
    assert base.dc_kwh.sum() == pytest.approx(plain.dc_kwh.sum())
