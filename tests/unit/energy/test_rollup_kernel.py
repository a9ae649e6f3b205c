"""The array kernel of the rollups against a row-by-row reading of the rules.

The kernel (:mod:`esgledger.energy.kernel`) works on whole arrays: shifted copies for the
previous reading, cumulative sums for runs, ``reduceat`` over runs of equal keys. This test
states the same rules the plain way — one meter at a time, one reading at a time, local times
from :mod:`zoneinfo` — and checks that both agree on random readings: irregular spacing,
gaps, repeated values, counters going down, overlapping interval readings, power meters,
start-marked readings, zones with daylight saving and with half-hour offsets. Quantities are
compared to 1e-9 relative (the kernel sums in another order); everything else exactly.
"""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esgledger.energy import kernel

BIN = 900  # s
EPOCH = datetime(1970, 1, 1)
ZONES = ("Asia/Shanghai", "Europe/London", "Asia/Kolkata", "America/St_Johns", "UTC")
#: Start of the readings: a week before the autumn change in Europe and North America.
T0 = int((datetime(2024, 10, 27) - EPOCH).total_seconds()) - 7 * 86400 + 900 * 37


# ---- the rules, row by row ------------------------------------------------------------------


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _meter_intervals(meter: dict[str, Any], readings: list[tuple[int, float]]) -> list[dict]:
    times = [t for t, _ in readings]
    spacings = [b - a for a, b in itertools.pairwise(times)]
    step = max(1.0, statistics.median(spacings) / 1e6) if spacings else 900.0
    step_us = int(step * 1e6 + 0.5)
    runs = []
    for i, (_, value) in enumerate(readings):
        if i and value == readings[i - 1][1]:
            runs[-1].append(i)
        else:
            runs.append([i])
    run_length = {i: len(run) for run in runs for i in run}
    out = []
    for i, (ts, value) in enumerate(readings):
        counter = meter["counter"]
        if counter and i == 0:
            continue
        prev_ts, prev_value = readings[i - 1] if i else (None, None)
        if counter:
            start, end, delta = prev_ts, ts, value - prev_value
        elif meter["start"]:
            start, end, delta = ts, ts + step_us, value
        else:
            start, end, delta = ts - step_us, ts, value
        rollover = meter["rollover"]
        f_rollover = counter and delta < 0 and rollover is not None and prev_value > rollover / 2
        f_reset = counter and delta < 0 and not f_rollover and 0 <= value < prev_value / 10
        f_negative = delta < 0 and not f_rollover and not f_reset
        if f_rollover:
            quantity = (rollover - prev_value + value) * meter["scale"]
        elif f_reset:
            quantity = value * meter["scale"]
        elif delta < 0:
            quantity = None
        elif meter["power"]:
            quantity = delta * meter["scale"] * ((end - start) / 1e6) / 3600.0
        else:
            quantity = delta * meter["scale"]
        changed = i == 0 or value != prev_value
        f_gap = prev_ts is not None and (ts - prev_ts) / 1e6 > 1.5 * step
        f_stuck = (
            run_length[i] >= kernel_meters_stuck()
            and not changed
            and ((not counter and value != 0) or (counter and meter["continuous"]))
        )
        phase = (ts / 1e6) % step
        f_skew = min(phase, step - phase) > 0.05 * step
        out.append(
            {
                "start": start,
                "end": end,
                "quantity": quantity,
                "flags": [f_negative, f_rollover, f_reset, f_gap, f_stuck, None, f_skew],
                "estimated": f_reset or (f_gap and counter),
                "step": step,
            }
        )
    known = [r["quantity"] for r in out if r["quantity"] is not None]
    if known:
        med, p99 = _quantile(known, 0.5), _quantile(known, 0.99)
        mad = _quantile([abs(q - med) for q in known], 0.5)
    for r in out:
        q = r["quantity"]
        r["flags"][5] = q is not None and q > med + 10.0 * 1.4826 * mad and q > 2 * p99 and med > 0
        r["flag"] = next((k + 1 for k, f in enumerate(r["flags"]) if f), 0)
        r["seconds"] = int((r["end"] - r["start"]) / 1e6 + 0.5)
    return out


def kernel_meters_stuck() -> int:
    return 4  # small, so that random readings make runs that long


def _local(zone: str, utc_us: int) -> int:
    moment = (EPOCH + timedelta(microseconds=utc_us)).replace(tzinfo=UTC)
    wall = moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    return (wall - EPOCH) // timedelta(microseconds=1)


def _utc_of_local(zone: str, local_us: int) -> int:
    wall = (EPOCH + timedelta(microseconds=local_us)).replace(tzinfo=ZoneInfo(zone))
    return (wall.astimezone(UTC).replace(tzinfo=None) - EPOCH) // timedelta(microseconds=1)


def _bins(zone: str, intervals: list[dict]) -> dict[int, dict[str, Any]]:
    bins: dict[int, dict[str, Any]] = defaultdict(
        lambda: {"q": [], "covered": 0.0, "intervals": 0, "flagged": 0, "estimated": False}
    )
    for r in intervals:
        first, last = r["start"] // (BIN * 10**6), (r["end"] - 1) // (BIN * 10**6)
        for b in range(first, last + 1):
            cell = bins[b * BIN * 10**6]
            if first == last:
                covered, quantity = float(r["seconds"]), r["quantity"]
            else:
                lo = max(r["start"], b * BIN * 10**6)
                hi = min(r["end"], (b + 1) * BIN * 10**6)
                covered = (hi - lo) / 1e6
                quantity = (
                    None
                    if r["quantity"] is None or r["seconds"] == 0
                    else r["quantity"] * covered / r["seconds"]
                )
            if quantity is not None:
                cell["q"].append(quantity)
                cell["covered"] += covered
            if b == last:
                cell["intervals"] += 1
                cell["flagged"] += r["flag"] != 0
            cell["estimated"] |= r["estimated"] or first != last
    step = intervals[0]["step"]
    return {
        start: {
            "local": _local(zone, start),
            "quantity": sum(c["q"]) if c["q"] else None,
            "expected": int(900 / step + 0.5),
            "intervals": c["intervals"],
            "flagged": c["flagged"],
            "estimated": c["estimated"],
            "coverage": min(1.0, c["covered"] / 900.0),
        }
        for start, c in sorted(bins.items())
    }


def _periods(zone: str, bins: dict[int, dict], grain: str, step: float) -> dict[tuple, dict]:
    groups: dict[tuple, list[tuple[int, dict]]] = defaultdict(list)
    for start, b in bins.items():
        local = EPOCH + timedelta(microseconds=b["local"])
        if grain == "hour":
            key: tuple = (local.replace(minute=0, second=0), b["local"] - start)
        elif grain == "day":
            key = (local.replace(hour=0, minute=0, second=0),)
        else:
            key = (local.replace(day=1, hour=0, minute=0, second=0),)
        groups[key].append((start, b))
    out = {}
    for key, members in groups.items():
        label = (key[0] - EPOCH) // timedelta(microseconds=1)
        if grain == "hour":
            start, seconds = label - key[1], 3600.0
        else:
            following = key[0] + timedelta(days=1) if grain == "day" else (
                key[0].replace(year=key[0].year + key[0].month // 12,
                               month=key[0].month % 12 + 1))  # fmt: skip
            start = _utc_of_local(zone, label)
            end = _utc_of_local(zone, (following - EPOCH) // timedelta(microseconds=1))
            seconds = (end - start) / 1e6
        known = [b["quantity"] for _, b in members if b["quantity"] is not None]
        out[(start, label)] = {
            "quantity": sum(known) if known else None,
            "expected": int(seconds / step + 0.5),
            "intervals": sum(b["intervals"] for _, b in members),
            "flagged": sum(b["flagged"] for _, b in members),
            "estimated": any(b["estimated"] for _, b in members),
            "coverage": min(1.0, sum(b["coverage"] * 900.0 for _, b in members) / seconds),
        }
    return out


# ---- random meters and readings ---------------------------------------------------------------


@st.composite
def _meters(draw: st.DrawFn) -> tuple[list[dict], list[list[tuple[int, float]]]]:
    count = draw(st.integers(1, 4))
    meters, readings = [], []
    for _ in range(count):
        counter = draw(st.booleans())
        meters.append(
            {
                "counter": counter,
                "start": not counter and draw(st.booleans()),
                "power": not counter and draw(st.booleans()),
                "scale": draw(st.sampled_from([1.0, 0.5, 1000.0])),
                "rollover": draw(st.sampled_from([None, 1000.0])) if counter else None,
                "continuous": draw(st.booleans()),
                "zone": draw(st.sampled_from(ZONES)),
            }
        )
        steps = draw(
            st.lists(
                st.sampled_from([900, 900, 900, 900, 600, 1800, 3600, 3 * 3600, 450, 907]),
                min_size=1,
                max_size=80,
            )
        )
        times = [T0 + draw(st.sampled_from([0, 60, 450]))]
        for s in steps[1:]:
            times.append(times[-1] + s)
        values = draw(
            st.lists(
                st.sampled_from([0.0, 5.0, 5.0, 7.5, 100.0, 600.0, 999.0, -1.0, 2.0]),
                min_size=len(times),
                max_size=len(times),
            )
        )
        if counter and draw(st.booleans()):  # a register that mostly goes up
            values = list(np.cumsum(np.abs(values)))
        readings.append([(t * 10**6, float(v)) for t, v in zip(times, values, strict=True)])
    return meters, readings


def _arrays(meters: list[dict]) -> kernel.MeterArrays:
    zones = tuple(sorted({m["zone"] for m in meters}))
    return kernel.MeterArrays(
        counter=np.array([m["counter"] for m in meters]),
        marks_start=np.array([m["start"] for m in meters]),
        scale=np.array([m["scale"] for m in meters]),
        is_power=np.array([m["power"] for m in meters]),
        rollover=np.array([np.nan if m["rollover"] is None else m["rollover"] for m in meters]),
        continuous=np.array([m["continuous"] for m in meters]),
        tz=np.array([zones.index(m["zone"]) for m in meters], dtype=np.int32),
        zones=zones,
        stuck_readings=kernel_meters_stuck(),
        spike_mads=10.0,
    )


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None or np.isnan(a) or np.isnan(b):
        return (a is None or np.isnan(a)) and (b is None or np.isnan(b))
    return abs(a - b) <= 1e-9 * (1 + abs(a))


def _value(x: Any) -> float | None:
    return None if np.isnan(x) else float(x)


@settings(max_examples=150, deadline=None)
@given(_meters())
def test_the_kernel_follows_the_rules_row_by_row(case: tuple[list[dict], list[list]]) -> None:
    meters, readings = case
    arrays = _arrays(meters)
    idx = np.concatenate([np.full(len(r), i, dtype=np.int32) for i, r in enumerate(readings)])
    ts = np.array([t for r in readings for t, _ in r], dtype=np.int64)
    value = np.array([v for r in readings for _, v in r], dtype=np.float64)
    iv = kernel.intervals(idx, ts, value, arrays)
    bins = kernel.bins_15min(iv, arrays)
    coarse = {g: kernel.coarser(bins, arrays, g) for g in ("hour", "day", "month")}
    for i, (meter, rows) in enumerate(zip(meters, readings, strict=True)):
        expected = _meter_intervals(meter, rows)
        mine = np.flatnonzero(iv.idx == i)
        got = [
            {
                "start": int(iv.start[k]),
                "end": int(iv.end[k]),
                "seconds": int(iv.seconds[k]),
                "flag": int(iv.flag[k]),
                "estimated": bool(iv.estimated[k]),
            }
            for k in mine
        ]
        assert got == [
            {k: r[k] for k in ("start", "end", "seconds", "flag", "estimated")} for r in expected
        ]
        for k, r in zip(mine, expected, strict=True):
            assert _same(_value(iv.quantity[k]), r["quantity"])
        if not expected:
            assert not (bins.idx == i).any()
            continue
        want_bins = _bins(meter["zone"], expected)
        here = np.flatnonzero(bins.idx == i)
        assert [int(bins.start[k]) for k in here] == list(want_bins)
        for k, (start, want) in zip(here, want_bins.items(), strict=True):
            assert int(bins.local[k]) == want["local"], start
            assert _same(_value(bins.quantity[k]), want["quantity"])
            assert _same(float(bins.coverage[k]), want["coverage"])
            assert (int(bins.expected[k]), int(bins.intervals[k]), int(bins.flagged[k]),
                    bool(bins.estimated[k])) == (want["expected"], want["intervals"],
                                                 want["flagged"], want["estimated"])  # fmt: skip
        for grain, table in coarse.items():
            want_periods = _periods(meter["zone"], want_bins, grain, expected[0]["step"])
            here = np.flatnonzero(table.idx == i)
            got_keys = [(int(table.start[k]), int(table.local[k])) for k in here]
            assert sorted(got_keys) == sorted(want_periods), grain
            for k, key in zip(here, got_keys, strict=True):
                want = want_periods[key]
                assert _same(_value(table.quantity[k]), want["quantity"]), (grain, key)
                assert _same(float(table.coverage[k]), want["coverage"]), (grain, key)
                counts = (int(table.expected[k]), int(table.intervals[k]), int(table.flagged[k]))
                assert counts == (want["expected"], want["intervals"], want["flagged"])
                assert bool(table.estimated[k]) == want["estimated"]


@pytest.mark.parametrize("size", [1, 3, 100])
def test_slices_cover_everything_and_never_split_a_meter(size: int) -> None:
    idx = np.array([0, 0, 0, 1, 2, 2, 5, 5, 5, 5], dtype=np.int32)
    cuts = kernel.slices(idx, size)
    assert cuts[0][0] == 0
    assert cuts[-1][1] == len(idx)
    assert all(a < b and b == c for (a, b), (c, _) in itertools.pairwise(cuts))
    for a, _b in cuts[1:]:
        assert idx[a] != idx[a - 1]
    assert kernel.slices(np.empty(0, dtype=np.int32), size) == [(0, 0)]
