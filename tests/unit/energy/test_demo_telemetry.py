"""The demo's synthetic data-centre telemetry (esgledger.demo.telemetry).

What these tests hold the generator to (docs/energy/demo-telemetry.md):
* determinism: the same seed gives the same bytes, another seed other bytes;
* magnitudes read back *from the readings* (registers, multipliers, rollover), not from the
  generator's own totals: each site's grid import equals sites.csv's
  demo_annual_electricity_mwh plus the energy of its physical faults within 0.01 % (register
  resolution is at most 1 kWh x 100 per reading: far below that), and the category-2 PUE is
  the demo report's within 0.02 (the faults add < 0.01);
* the meter tree balances (children vs parent within the 0.4 % unmetered losses modelled);
* every injected fault is visible in the readings where it says it is;
* DST at the Virginia site: 92 and 100 quarter hours on the days the clocks change.
"""

from __future__ import annotations

import io
from datetime import date, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from esgledger.demo.data import DEMO_PUE, DEMO_SEED, demo_sites
from esgledger.demo.telemetry import (
    DATA_CENTRES,
    FAULT_KINDS,
    Telemetry,
    generate_telemetry,
)
from esgledger.errors import InputError

YEAR = 2024


@pytest.fixture(scope="module")
def telemetry() -> Telemetry:
    return generate_telemetry(DEMO_SEED, YEAR)


def _bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def _series(tel: Telemetry, meter: str) -> tuple[np.ndarray, np.ndarray]:
    rows = tel.readings.filter(pc.equal(tel.readings["meter"], meter))
    ts = rows["timestamp"].cast(pa.int64()).to_numpy() // 1000  # [s]
    return ts, rows["value"].to_numpy()


def _meter(tel: Telemetry, meter: str) -> dict[str, object]:
    rows: list[dict[str, object]] = tel.meters.filter(
        pc.equal(tel.meters["meter"], meter)
    ).to_pylist()
    assert len(rows) == 1
    return rows[0]


def _energy_kwh(tel: Telemetry, meter: str) -> float:
    """Annual quantity of a meter in kWh (or L / m3 as is) from its readings."""
    info = _meter(tel, meter)
    _ts, values = _series(tel, meter)
    mult = float(info["multiplier"])  # type: ignore[arg-type]
    unit_kwh = {"kWh": 1.0, "MWh": 1000.0, "kW": 0.25, "L": 1.0, "m3": 1.0}[str(info["unit"])]
    if info["kind"] == "counter":
        steps = np.diff(values)
        if info["rollover"] is not None:
            steps = np.where(steps < 0, steps + float(info["rollover"]), steps)  # type: ignore[arg-type]
        total = float(steps.sum())
    else:
        total = float(values.sum())
    return total * mult * unit_kwh


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    a = generate_telemetry(7, YEAR, ["DC-CQ", "DC-US"])
    b = generate_telemetry(7, YEAR, ["DC-CQ", "DC-US"])
    c = generate_telemetry(8, YEAR, ["DC-CQ", "DC-US"])
    for name in ("meters", "readings", "weather"):
        assert _bytes(getattr(a, name)) == _bytes(getattr(b, name)), name
    assert a.faults == b.faults
    assert _bytes(a.readings) != _bytes(c.readings)
    assert _bytes(a.weather) != _bytes(c.weather)


def test_one_site_does_not_depend_on_the_others(telemetry: Telemetry) -> None:
    alone = generate_telemetry(DEMO_SEED, YEAR, ["DC-SC"])
    together = telemetry.readings.filter(pc.starts_with(telemetry.readings["meter"], "DC-SC-"))
    assert _bytes(alone.readings) == _bytes(together)


def test_unknown_site_is_refused() -> None:
    with pytest.raises(InputError, match="HQ-SZ"):
        generate_telemetry(1, YEAR, ["HQ-SZ"])


def test_shape_and_size(telemetry: Telemetry) -> None:
    assert set(pc.unique(telemetry.meters["site"]).to_pylist()) == set(DATA_CENTRES)
    assert len(DATA_CENTRES) == 9
    assert 90 <= telemetry.meters.num_rows <= 120
    # 2024 is a leap year: 366 x 96 intervals per meter at most (+1 reading for counters).
    assert telemetry.readings.num_rows <= telemetry.meters.num_rows * (366 * 96 + 1)
    assert telemetry.readings.num_rows > 0.99 * telemetry.meters.num_rows * 366 * 96
    assert telemetry.readings.schema.field("timestamp").type == pa.timestamp("ms", tz="UTC")
    roles = set(telemetry.meters["role"].to_pylist())
    assert roles >= {"incomer", "ups_input", "ups_output", "pdu_output", "it_input", "cooling",
                     "other", "non_dc", "onsite_re", "fuel", "water", "heat_export"}  # fmt: skip
    units = set(telemetry.meters["unit"].to_pylist())
    assert units >= {"kWh", "MWh", "kW", "L", "m3"}
    parents = set(telemetry.meters["parent"].to_pylist()) - {""}
    assert parents <= set(telemetry.meters["meter"].to_pylist())


@pytest.mark.parametrize("site", [s.site for s in demo_sites() if s.type == "data_centre"])
def test_grid_import_matches_sites_csv_and_pue_the_report(telemetry: Telemetry, site: str) -> None:
    target_kwh = {s.site: s.annual_electricity_mwh for s in demo_sites()}[site] * 1000.0
    meters = telemetry.meters.filter(pc.equal(telemetry.meters["site"], site)).to_pylist()
    by_role: dict[str, float] = {}
    for m in meters:
        by_role[m["role"]] = by_role.get(m["role"], 0.0) + _energy_kwh(telemetry, m["meter"])
    # The fault-free year imports the target; the physical faults add their energy on top.
    fault_kwh = sum(f.energy_kwh or 0.0 for f in telemetry.faults if f.site == site)
    assert by_role["incomer"] == pytest.approx(target_kwh + fault_kwh, rel=1e-4)
    e_dc = by_role["incomer"] + by_role.get("onsite_re", 0.0) - by_role.get("non_dc", 0.0)
    # The headline category: IT input (3) where metered, else PDU output (2).
    pue = e_dc / by_role.get("it_input", by_role["pdu_output"])
    assert 1.15 <= pue <= 1.45
    assert pue == pytest.approx(DEMO_PUE.get(site, 1.20), abs=0.02)
    # Power chain and tree: UPS efficiency over the year, children vs parent.
    ups_eff = by_role["ups_output"] / by_role["ups_input"]
    assert 0.93 <= ups_eff <= 0.975
    children = {m["meter"]: m["parent"] for m in meters}
    for parent in {p for p in children.values() if p}:
        kids = [m for m, p in children.items() if p == parent]
        role = next(m["role"] for m in meters if m["meter"] == parent)
        if role != "incomer":
            continue
        parent_kwh = _energy_kwh(telemetry, parent)
        kids_kwh = sum(_energy_kwh(telemetry, k) for k in kids)
        pv = by_role.get("onsite_re", 0.0) if parent.endswith("INC-A") else 0.0
        # PV feeds board A behind incomer A; the unmetered losses are 0.4 %.
        assert (parent_kwh + pv) / kids_kwh == pytest.approx(1.004, abs=0.002), parent


def test_water_and_heat_export_are_plausible(telemetry: Telemetry) -> None:
    it = _energy_kwh(telemetry, "DC-TJ-PDU-OUT")
    wue = _energy_kwh(telemetry, "DC-TJ-WATER") * 1000.0 / it  # m3 -> L per kWh IT
    assert 1.0 <= wue <= 2.5  # evaporative towers: typical site WUE 1-2.5 L/kWh
    gd_wue = _energy_kwh(telemetry, "DC-GD-WATER") / _energy_kwh(telemetry, "DC-GD-PDU-OUT")
    assert 1.0 <= gd_wue <= 2.5
    heat = _energy_kwh(telemetry, "DC-TJ-HEAT")
    assert 0.005 <= heat / (it * 1.3) <= 0.05  # ERF of a few per cent
    assert _energy_kwh(telemetry, "DC-JS-PV") == pytest.approx(13_650_000, rel=1e-3)


def _utc_s(moment: datetime) -> int:
    return int((moment - datetime(1970, 1, 1)).total_seconds())


def test_every_fault_kind_is_injected_and_visible(telemetry: Telemetry) -> None:
    kinds = {f.kind for f in telemetry.faults}
    assert kinds == set(FAULT_KINDS)
    for fault in telemetry.faults:
        assert fault.description.en
        assert fault.description.zh
        assert fault.meter.startswith(fault.site)
        ts, values = _series(telemetry, fault.meter)
        inside = (ts > _utc_s(fault.start)) & (ts <= _utc_s(fault.end))
        if fault.kind == "data_gap":
            assert not inside.any()
            assert (ts <= _utc_s(fault.start)).any()
            assert (ts > _utc_s(fault.end)).any()
            expected = (_utc_s(fault.end) - _utc_s(fault.start)) // 900
            assert np.diff(ts).max() == (expected + 1) * 900
        elif fault.kind == "stuck_meter":
            stuck = values[inside]
            assert len(stuck) == (_utc_s(fault.end) - _utc_s(fault.start)) // 900
            assert np.all(stuck == stuck[0])
            # ...and it was not stuck before: the values moved in the day before.
            before = values[(ts <= _utc_s(fault.start)) & (ts > _utc_s(fault.start) - 86400)]
            assert len(np.unique(before)) > 10
        elif fault.kind == "chiller_drift":
            other = fault.meter[:-1] + ("2" if fault.meter.endswith("1") else "1")
            ts2, values2 = _series(telemetry, other)
            assert np.array_equal(ts, ts2)
            # The two chillers share the load equally; the drifting one draws more at the
            # end of the drift (COP down by 20-30 %) and the same again after.
            end = _utc_s(fault.end)
            last_days = (ts > end - 3 * 86400) & (ts <= end)
            after = (ts > end + 86400) & (ts <= end + 15 * 86400)
            ratio_end = values[last_days].sum() / values2[last_days].sum()
            ratio_after = values[after].sum() / values2[after].sum()
            assert ratio_end > 1.2
            assert ratio_after == pytest.approx(1.0, abs=0.01)
            assert fault.energy_kwh is not None
            assert fault.energy_kwh > 0
        else:  # ups_efficiency_loss: output / input drops during the window
            out_meter = fault.meter.replace("UPS-IN", "UPS-OUT")
            _ts_o, out_kw = _series(telemetry, out_meter)
            eff = out_kw * 0.25 / values
            before = (ts <= _utc_s(fault.start)) & (ts > _utc_s(fault.start) - 14 * 86400)
            drop = float(np.mean(eff[before]) - np.mean(eff[inside]))
            assert 0.015 <= drop <= 0.04
            assert fault.energy_kwh is not None
            assert fault.energy_kwh > 0


def test_dst_days_at_the_virginia_site(telemetry: Telemetry) -> None:
    from zoneinfo import ZoneInfo

    ts, _values = _series(telemetry, "DC-US-UPS-IN")
    zone = ZoneInfo("America/New_York")
    # The interval ending at ts starts 15 min before: count intervals by local start day.
    days = [
        datetime.fromtimestamp(int(t) - 900, tz=ZoneInfo("UTC")).astimezone(zone).date() for t in ts
    ]
    counts: dict[date, int] = {}
    for d in days:
        counts[d] = counts.get(d, 0) + 1
    assert counts[date(2024, 3, 10)] == 92
    assert counts[date(2024, 11, 3)] == 100
    assert counts[date(2024, 7, 1)] == 96
    assert min(counts) == date(2024, 1, 1)
    assert max(counts) == date(2024, 12, 31)


@pytest.mark.parametrize("site", DATA_CENTRES)
def test_weather_reproduces_the_documented_normals(telemetry: Telemetry, site: str) -> None:
    """The tolerances follow from the model: the AR(1) noise (2-3.5 K, 48-hour memory) moves
    an annual mean by about 0.3 K and a monthly mean by about 1 K (1 sigma), so ±1 K on the
    year and ±3 K on a month; RH is matched to the normal by construction, ±3 points allow
    for the rounding of the logistic."""
    from esgledger.demo.telemetry import climate_parameters

    climate = climate_parameters()[site]
    rows = telemetry.weather.filter(pc.equal(telemetry.weather["site"], site))
    assert rows.num_rows == 366 * 24
    dry = rows["dry_bulb_c"].to_numpy()
    wet = rows["wet_bulb_c"].to_numpy()
    rh = rows["relative_humidity_pct"].to_numpy()
    month = np.array([t.month for t in rows["ts_local"].to_pylist()])
    assert dry.mean() == pytest.approx(climate.annual_mean_c, abs=1.0)
    assert dry[month == 1].mean() == pytest.approx(climate.coldest_month_c, abs=3.0)
    assert dry[month == 7].mean() == pytest.approx(climate.warmest_month_c, abs=3.0)
    assert rh.mean() == pytest.approx(climate.rh_mean_pct, abs=3.0)
    assert np.all((rh > 0) & (rh <= 100))
    assert np.all(wet <= dry)
    # A plausible diurnal cycle: the mean hour of the daily maximum is the afternoon.
    hours = np.array([t.hour for t in rows["ts_local"].to_pylist()])
    by_hour = np.array([dry[hours == h].mean() for h in range(24)])
    assert 12 <= int(np.argmax(by_hour)) <= 18
    assert 4 <= by_hour.max() - by_hour.min() <= 16


def test_stull_reproduces_the_papers_example() -> None:
    """Stull (2011), JAMC 50(11) p. 2267: T = 20 °C, RH = 50 % -> Tw = 13.7 °C (stated to
    0.1 K in the paper)."""
    from esgledger.energy.psychrometrics import wet_bulb_stull

    assert float(wet_bulb_stull(20.0, 50.0)) == pytest.approx(13.7, abs=0.05)


def test_fault_energy_is_what_the_incomers_see_extra() -> None:
    """The same year without faults (same noise) is the counterfactual: over each physical
    fault's window the incomers read ``energy_kwh`` more (within 0.5 %: register rounding of
    the incomers, at most 1 kWh x 100 per reading, over thousands of readings)."""
    sites = ["DC-TJ", "DC-GD", "DC-US"]
    faulty = generate_telemetry(DEMO_SEED, YEAR, sites)
    clean = generate_telemetry(DEMO_SEED, YEAR, sites, faults=False)
    assert clean.faults == ()
    physical = [f for f in faulty.faults if f.kind in ("chiller_drift", "ups_efficiency_loss")]
    assert len(physical) == 3
    for fault in physical:
        incomers = [
            m["meter"]
            for m in faulty.meters.to_pylist()
            if m["site"] == fault.site and m["role"] == "incomer"
        ]
        extra = 0.0
        for meter in incomers:
            info = _meter(faulty, meter)
            unit_kwh = {"kWh": 1.0, "MWh": 1000.0}[str(info["unit"])]
            for tel, sign in ((faulty, 1.0), (clean, -1.0)):
                ts, values = _series(tel, meter)
                at = np.searchsorted(ts, [_utc_s(fault.start), _utc_s(fault.end)])
                step = values[at[1]] - values[at[0]]
                if step < 0:  # a rollover in the window
                    step += float(info["rollover"])  # type: ignore[arg-type]
                extra += sign * step * float(info["multiplier"]) * unit_kwh  # type: ignore[arg-type]
        assert fault.energy_kwh is not None
        assert extra == pytest.approx(fault.energy_kwh, rel=5e-3), fault.meter


def test_only_the_stuck_meters_repeat_a_nonzero_value(telemetry: Telemetry) -> None:
    """A varying load never shows the same non-zero value (interval) or the same step
    (counter: a frozen register steps by zero) for hours: only the injected stuck meters do,
    so a stuck-value rule has a clean ground truth. Runs of zero are plants switched off
    (chillers in free cooling, idle generators, heat export out of season)."""
    stuck = {f.meter for f in telemetry.faults if f.kind == "stuck_meter"}
    longest: dict[str, int] = {}
    for info in telemetry.meters.to_pylist():
        _ts, values = _series(telemetry, str(info["meter"]))
        counter = info["kind"] == "counter" and info["role"] != "heat_export"
        x = np.diff(values) if info["kind"] == "counter" else values
        repeat = (x[1:] == x[:-1]) & ((x[1:] != 0) | counter)
        # Longest run of consecutive repeats.
        edges = np.diff(np.concatenate([[0], repeat.astype(np.int8), [0]]))
        starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
        longest[str(info["meter"])] = int((ends - starts).max()) if len(starts) else 0
    assert {m for m, n in longest.items() if n >= 8} == stuck  # 8 quarter hours = 2 h
