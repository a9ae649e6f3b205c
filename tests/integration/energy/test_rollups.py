"""Readings → intervals → rollups: counter rules, power readings, flags, and local-time bins
across daylight-saving changes and half-hour zones. Every expected number is worked by hand
from the readings in the test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from _energy_support import import_meters, import_readings, meter, organise, series
from _inventory_support import import_rows, site
from esgledger.energy import rollups
from esgledger.energy.periods import parse_period
from esgledger.energy.rollups import STUCK_READINGS
from esgledger.errors import InputError
from esgledger.store import Workspace

CST = timezone(timedelta(hours=8))
T0 = datetime(2024, 1, 1, 0, 15, tzinfo=CST)


@pytest.fixture
def ws(sqlite_workspace: Workspace) -> Workspace:
    organise(sqlite_workspace)
    return sqlite_workspace


def _intervals(ws: Workspace, meter_code: str) -> list[dict[str, Any]]:
    return rollups.intervals(ws, meters=[meter_code]).to_pylist()


def test_counter_steps_rollover_reset_and_negative(ws: Workspace) -> None:
    import_meters(ws, [meter("C", "incomer", kind="counter", unit="MWh", rollover=100000)])
    # registers in MWh: +2, rollover (99999 -> 1 is 100000 - 99999 + 1 = 2), reset to 0.5
    # (from 9 is below a tenth: 0.5 used since the reset), then down by 0.4 from 5 -> 4.6
    # (neither: unknown), then +1
    values = [99995.0, 99997.0, 99999.0, 1.0, 9.0, 0.5, 5.0, 4.6, 5.6]
    import_readings(ws, series("C", T0, values))
    rows = _intervals(ws, "C")
    got = [(r["quantity"], r["flag"], r["estimated"]) for r in rows]
    assert got == [
        (2000.0, None, False),
        (2000.0, None, False),
        (2000.0, "rollover", False),
        (8000.0, None, False),
        (500.0, "reset", True),
        (4500.0, None, False),
        (None, "negative", False),
        (pytest.approx(1000.0), None, False),
    ]
    assert all(r["seconds"] == 900 for r in rows)


def test_power_readings_and_start_marked_intervals(ws: Workspace) -> None:
    import_meters(
        ws,
        [
            meter("P", "cooling", unit="kW"),
            meter("S", "other", timestamp_marks="start", multiplier=10),
        ],
    )
    import_readings(ws, series("P", T0, [400.0, 800.0]) + series("S", T0, [1.0, 2.0]))
    power = _intervals(ws, "P")
    assert [r["quantity"] for r in power] == [100.0, 200.0]  # kW x 0.25 h
    start = _intervals(ws, "S")
    assert [r["quantity"] for r in start] == [10.0, 20.0]
    assert str(start[0]["start_utc"]) == "2023-12-31 16:15:00"  # the timestamp opens it
    assert str(power[0]["start_utc"]) == "2023-12-31 16:00:00"  # the timestamp closes it


def test_a_counter_gap_is_exact_in_total_spread_over_its_bins_and_estimated(
    ws: Workspace,
) -> None:
    import_meters(ws, [meter("C", "incomer", kind="counter")])
    stamps = [T0 + timedelta(minutes=15 * i) for i in (0, 1, 2, 3, 8, 9, 10, 11)]
    values = [0.0, 10.0, 20.0, 30.0, 70.0, 80.0, 90.0, 100.0]
    import_readings(ws, [("C", t.isoformat(), v) for t, v in zip(stamps, values, strict=True)])
    gap = [r for r in _intervals(ws, "C") if r["flag"] == "gap"]
    assert [(r["seconds"], r["quantity"], r["estimated"]) for r in gap] == [
        (4500, 40.0, True)
    ]  # 75 min
    bins = rollups.rollup(ws, "15min", meters=["C"]).to_pylist()
    assert sum(b["quantity"] for b in bins) == pytest.approx(100.0)  # nothing invented or lost
    spread = [b for b in bins if b["estimated"]]
    assert [b["quantity"] for b in spread] == [pytest.approx(8.0)] * 5


def test_interval_gaps_lower_coverage_and_are_never_filled(ws: Workspace) -> None:
    import_meters(ws, [meter("I", "it_input")])
    values = [25.0] * 96
    rows = series("I", datetime(2024, 1, 1, 0, 15, tzinfo=CST), values)
    del rows[40:48]  # two hours missing
    import_readings(ws, rows)
    day = rollups.rollup(ws, "day", meters=["I"]).to_pylist()
    assert len(day) == 1
    assert day[0]["quantity"] == pytest.approx(25.0 * 88)
    assert day[0]["coverage"] == pytest.approx(88 / 96)
    assert (day[0]["expected_intervals"], day[0]["intervals"]) == (96, 88)
    assert str(day[0]["period_local"]) == "2024-01-01 00:00:00"
    assert [r["flag"] for r in _intervals(ws, "I")].count("gap") == 1


def test_stuck_spike_and_skew_flags(ws: Workspace) -> None:
    import_meters(ws, [meter("S", "it_input"), meter("K", "cooling"), meter("W", "other")])
    import_readings(ws, series("S", T0, [5.0 + (i % 3) for i in range(10)] + [7.0] * 14))
    spiky = [10.0 + (i % 4) * 0.1 for i in range(400)]
    spiky[20] = 500.0  # far above the median and twice the 99th percentile
    spiky[300:310] = [15.0] * 10  # an on-state of the load: above median + 10 MADs, not a spike
    import_readings(ws, series("K", T0, spiky))
    skewed = series("W", T0, [1.0, 1.1, 1.2, 1.3])
    meter_code, stamp, value = skewed[2]
    skewed[2] = (
        meter_code,
        (datetime.fromisoformat(stamp) + timedelta(minutes=2)).isoformat(),
        value,
    )
    import_readings(ws, skewed)
    stuck = [r["flag"] for r in _intervals(ws, "S")]
    assert stuck[:11] == [None] * 11
    assert stuck[11:] == ["stuck"] * 13
    assert [i for i, r in enumerate(_intervals(ws, "K")) if r["flag"]] == [20]
    assert [r["flag"] for r in _intervals(ws, "K")][20] == "spike"
    assert [r["flag"] for r in _intervals(ws, "W")] == [None, None, "skew", None]
    flagged = rollups.flags(ws).to_pylist()
    assert {r["flag"] for r in flagged} == {"stuck", "spike", "skew"}


def test_daylight_saving_days_are_23_and_25_hours_and_the_repeated_hour_is_kept_apart(
    ws: Workspace,
) -> None:
    import_rows(ws, "sites", [site("VA", country="US", region="US", type="data_centre")])
    import_meters(ws, [meter("V", "it_input", site_code="VA", timezone="America/New_York")])
    rows = []
    for day in (
        datetime(2024, 3, 10, tzinfo=UTC),
        datetime(2024, 11, 3, tzinfo=UTC),
    ):
        # every 15 minutes from local midnight (EST -5 / EDT -4) for 26 hours of UTC
        first = day + timedelta(hours=5 if day.month == 3 else 4, minutes=15)
        rows += series("V", first, [1.0] * (26 * 4))
    import_readings(ws, rows)
    days = {
        str(r["period_local"])[:10]: r
        for r in rollups.rollup(ws, "day", meters=["V"], period=parse_period("2024")).to_pylist()
    }
    assert days["2024-03-10"]["expected_intervals"] == 92  # 23 h
    assert days["2024-03-10"]["quantity"] == pytest.approx(92.0)
    assert days["2024-03-10"]["coverage"] == pytest.approx(1.0)
    assert days["2024-11-03"]["expected_intervals"] == 100  # 25 h
    assert days["2024-11-03"]["quantity"] == pytest.approx(100.0)
    hours = rollups.rollup(ws, "hour", meters=["V"], period=parse_period("2024-11-03")).to_pylist()
    one_am = [h for h in hours if str(h["period_local"]) == "2024-11-03 01:00:00"]
    assert [str(h["period_start_utc"]) for h in one_am] == [
        "2024-11-03 05:00:00",
        "2024-11-03 06:00:00",
    ]
    assert all(h["quantity"] == pytest.approx(4.0) for h in one_am)
    spring = rollups.rollup(ws, "hour", meters=["V"], period=parse_period("2024-03-10")).to_pylist()
    assert "2024-03-10 02:00:00" not in {str(h["period_local"]) for h in spring}
    assert len(spring) == 23


def test_hours_of_a_half_hour_zone_are_local_hours(ws: Workspace) -> None:
    import_rows(ws, "sites", [site("MUM", country="IN", region="IN", type="data_centre")])
    import_meters(ws, [meter("M", "it_input", site_code="MUM")])
    ist = timezone(timedelta(hours=5, minutes=30))
    import_readings(ws, series("M", datetime(2024, 1, 1, 0, 15, tzinfo=ist), [1.0] * 8))
    hours = rollups.rollup(ws, "hour", meters=["M"]).to_pylist()
    assert [(str(h["period_local"]), h["quantity"]) for h in hours] == [
        ("2024-01-01 00:00:00", 4.0),
        ("2024-01-01 01:00:00", 4.0),
    ]


def test_months_are_local_calendar_months(ws: Workspace) -> None:
    import_meters(ws, [meter("I", "it_input")])
    # 23:45 -> 24:00 local on 31 January is January, though it is 16:00 UTC
    import_readings(
        ws, [("I", "2024-02-01T00:00:00+08:00", 3.0), ("I", "2024-02-01T00:15:00+08:00", 4.0)]
    )
    months = rollups.rollup(ws, "month", meters=["I"]).to_pylist()
    assert [(str(m["period_local"])[:7], m["quantity"]) for m in months] == [
        ("2024-01", 3.0),
        ("2024-02", 4.0),
    ]


def test_rollups_are_rebuilt_when_readings_change_and_reused_otherwise(ws: Workspace) -> None:
    import_meters(ws, [meter("I", "it_input")])
    import_readings(ws, series("I", T0, [1.0, 2.0]))
    first = rollups.refresh(ws)
    assert rollups.refresh(ws) == first
    import_readings(ws, series("I", T0 + timedelta(minutes=30), [3.0]))
    second = rollups.refresh(ws)
    assert second.folder != first.folder
    assert not first.folder.exists()
    assert sum(r["quantity"] for r in rollups.rollup(ws, "day").to_pylist()) == 6.0


def test_a_still_counter_is_stuck_only_for_a_load_that_never_stops(ws: Workspace) -> None:
    import_meters(
        ws,
        [meter("PV", "onsite_re", kind="counter"), meter("CH", "cooling", kind="counter")],
    )
    still = [100.0] * 20 + [100.0 + i for i in range(1, 5)]  # 19 still steps, then moving
    import_readings(ws, series("PV", T0, still) + series("CH", T0, still))
    assert {r["flag"] for r in _intervals(ws, "PV")} == {None}  # night: rightly still
    cooling = [r["flag"] for r in _intervals(ws, "CH")]
    assert cooling.count("stuck") == 19  # the whole run of 20 equal registers (>= 12)
    assert STUCK_READINGS <= 20


def test_a_long_interval_counts_once_where_it_ends(ws: Workspace) -> None:
    import_meters(ws, [meter("M", "incomer", kind="counter")])
    import_readings(
        ws,
        [
            ("M", "2024-01-01T00:00:00+08:00", 0.0),
            ("M", "2024-02-01T00:00:00+08:00", 744.0),
            ("M", "2024-03-01T00:00:00+08:00", 1440.0),
        ],
    )
    months = rollups.rollup(ws, "month", meters=["M"]).to_pylist()
    assert [(m["quantity"], m["intervals"], m["expected_intervals"]) for m in months] == [
        (pytest.approx(744.0), 1, 1),
        (pytest.approx(696.0), 1, 1),
    ]


def test_chunks_slices_and_threads_build_the_same_tables_as_one_piece(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_rows(ws, "sites", [site("VA", country="US", region="US", type="data_centre")])
    import_meters(
        ws,
        [
            meter("A", "incomer", kind="counter"),
            meter("B", "it_input"),
            meter("C's", "cooling", unit="kW"),  # a quote in a name: the range filter is SQL
            meter("V", "it_input", site_code="VA", timezone="America/New_York"),
        ],
    )
    autumn = datetime(2024, 11, 3, 4, 15, tzinfo=UTC)
    import_readings(
        ws,
        series("A", T0, [float(i * i) for i in range(40)])
        + series("B", T0, [1.0, 2.0] * 20)
        + series("C's", T0, [400.0] * 30)
        + series("V", autumn, [1.0] * 30),
    )

    def tables() -> dict[str, list[dict[str, Any]]]:
        out = {g: rollups.rollup(ws, g).to_pylist() for g in rollups.GRAINS}
        out["flags"] = rollups.flags(ws).to_pylist()
        return out

    whole = tables()
    monkeypatch.setattr(rollups, "CHUNK_READINGS", 35)  # a chunk per meter or two
    monkeypatch.setattr(rollups, "SLICE_READINGS", 1)  # a slice per meter
    monkeypatch.setenv(rollups.WORKERS_ENV, "3")
    derived = rollups.refresh(ws, force=True)
    assert len(list(derived.parts("rollup_hour").glob("part-*.parquet"))) >= 3
    assert tables() == whole


def test_a_bad_worker_count_is_refused(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    import_meters(ws, [meter("I", "it_input")])
    import_readings(ws, series("I", T0, [1.0, 2.0]))
    monkeypatch.setenv(rollups.WORKERS_ENV, "many")
    monkeypatch.setattr(rollups, "CHUNK_READINGS", 1)
    with pytest.raises(InputError, match=rollups.WORKERS_ENV):
        rollups.refresh(ws, force=True)
