"""The array kernel of :mod:`esgledger.energy.rollups`: readings → intervals → 15-minute bins
→ local hours, days and months, in NumPy over readings sorted by meter and time.

计量数据数组内核：读数 → 区间 → 15 分钟桶 → 当地小时/日/月（NumPy，按计量表与时间排序）。

The rules are those of the :mod:`~esgledger.energy.rollups` module docstring; this module
only computes them. Every step is a pass over contiguous arrays: the readings of a meter are
one segment, so lags are shifts, runs of equal values are cumulative sums, and every
grouping (meter × bin, meter × local hour, …) is a run of equal keys summed with
``numpy.add.reduceat`` — no hash table, no sort, except where the keys are found out of
order (overlapping interval readings, a daylight-saving change that moves the clock back over
a day or an hour boundary), which is checked and then sorted stably.

Times are ``int64`` microseconds since 1970-01-01 UTC; quantities ``float64`` in the meter's
canonical unit with NaN for an unknown quantity (SQL NULL in the stored tables).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "BIN_US",
    "FLAG_NAMES",
    "Bins",
    "Intervals",
    "MeterArrays",
    "Periods",
    "bins_15min",
    "coarser",
    "intervals",
    "slices",
]

#: 15 minutes in microseconds: the finest rollup grain.
BIN_US = 900_000_000
_HOUR_US = 3_600_000_000
_DAY_US = 86_400_000_000
#: Flag codes 1… (0 is no flag), in the order they take precedence.
FLAG_NAMES: tuple[str, ...] = ("negative", "rollover", "reset", "gap", "stuck", "spike", "skew")

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]
B = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class MeterArrays:
    """Per-meter attributes, indexed by the meter's position (the ``idx`` of the readings).

    ``rollover`` is NaN where the meter has none; ``tz`` indexes :attr:`zones`;
    ``continuous`` marks the roles whose load never stops (a counter that does not move is
    stuck)."""

    counter: B
    marks_start: B
    scale: F64
    is_power: B
    rollover: F64
    continuous: B
    tz: I32
    zones: tuple[str, ...]
    stuck_readings: int
    spike_mads: float


@dataclass(frozen=True, slots=True)
class Intervals:
    """One row per interval, ordered by meter and reading time."""

    idx: I32
    start: I64
    end: I64
    seconds: I32
    quantity: F64
    flag: npt.NDArray[np.int8]
    estimated: B
    step_by_meter: F64  # the nominal step of each meter [s] (NaN: no readings)


@dataclass(frozen=True, slots=True)
class Periods:
    """Rollup rows of each meter, ordered by meter and time: local hours, days or months, and
    (as :class:`Bins`) 15-minute bins."""

    idx: I32
    start: I64  # UTC start [µs]
    local: I64  # local wall time of the start [µs]
    quantity: F64
    expected: I32
    intervals: I32
    flagged: I32
    estimated: B
    coverage: F64


@dataclass(frozen=True, slots=True)
class Bins(Periods):
    """15-minute bins (UTC-aligned), ordered by meter and time, with each meter's step."""

    step_by_meter: F64  # the nominal step of each meter [s]


def _round_half_up(values: F64) -> I32:
    """SQL ``round`` of non-negative values (half away from zero)."""
    return np.floor(values + 0.5).astype(np.int32)


def _segments(keys_changed: B) -> I64:
    return np.flatnonzero(keys_changed).astype(np.int64)


def slices(idx: I32, size: int) -> list[tuple[int, int]]:
    """``[a, b)`` ranges of about ``size`` readings that never split a meter, covering all
    (one empty range for no readings)."""
    if not len(idx):
        return [(0, 0)]
    starts = np.flatnonzero(np.r_[True, idx[1:] != idx[:-1]]).tolist()
    cuts = [0]
    for start in starts:
        if start - cuts[-1] >= size:
            cuts.append(int(start))
    cuts.append(len(idx))
    return list(itertools.pairwise(cuts))


def _per_segment(values: F64, starts: I64, quantiles: tuple[float, ...]) -> list[F64]:
    """Linear-interpolation quantiles (SQL ``quantile_cont``) of the non-NaN values of each
    segment; NaN for a segment with none."""
    ends = np.append(starts[1:], len(values))
    out = [np.full(len(starts), np.nan) for _ in quantiles]
    for k, (a, b) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        part = values[a:b]
        part = part[~np.isnan(part)]
        if part.size:
            got = np.quantile(part, quantiles)
            for j in range(len(quantiles)):
                out[j][k] = got[j]
    return out


def _medians(values: F64, starts: I64) -> F64:
    """Per-segment medians of values without NaN, quick where a segment is constant (the
    spacing of regular readings)."""
    if not len(starts):
        return np.empty(0)
    low = np.minimum.reduceat(values, starts)
    high = np.maximum.reduceat(values, starts)
    out = low.copy()
    irregular = np.flatnonzero(low != high)
    if len(irregular):
        ends = np.append(starts[1:], len(values))
        for k in irregular.tolist():
            out[k] = np.median(values[starts[k] : ends[k]])
    return out


def intervals(idx: I32, ts: I64, value: F64, meters: MeterArrays) -> Intervals:
    """The intervals of readings sorted by ``idx`` (meter) and ``ts``, one key once."""
    n = len(idx)
    if n == 0:
        return _empty_intervals(len(meters.counter))
    first = np.empty(n, dtype=bool)
    first[0] = True
    np.not_equal(idx[1:], idx[:-1], out=first[1:])
    starts = _segments(first)
    seg_meter = idx[starts]
    # spacing since the previous reading of the meter [s]; the first reading has none
    dt_s = np.empty(n)
    np.subtract(ts[1:], ts[:-1], out=dt_s[1:], casting="unsafe")
    dt_s /= 1e6
    dt_s[first] = np.nan

    # the nominal step: the median spacing of the meter's readings (900 s for a lone one)
    lone = np.diff(np.append(starts, n)) == 1
    spaced = ~first
    step_seg = np.full(len(starts), 900.0)
    with_spacing = np.flatnonzero(~lone)
    if len(with_spacing):
        inner = dt_s[spaced]
        inner_starts = (starts[with_spacing] - with_spacing).astype(np.int64)
        step_seg[with_spacing] = _medians(inner, inner_starts)
    step_seg = np.maximum(1.0, step_seg)
    step_by_meter = np.full(len(meters.counter), np.nan)
    step_by_meter[seg_meter] = step_seg
    step_s = step_seg[np.cumsum(first) - 1]

    # runs of equal consecutive values
    changed = first.copy()
    changed[1:] |= value[1:] != value[:-1]
    run_id = np.cumsum(changed) - 1
    run_length = np.bincount(run_id)[run_id]

    counter = meters.counter[idx]
    prev_value = np.empty_like(value)
    prev_value[1:] = value[:-1]
    prev_value[0] = value[0]
    marks_start = meters.marks_start[idx]
    step_us = np.floor(step_s * 1e6 + 0.5).astype(np.int64)
    prev_ts = np.empty_like(ts)
    prev_ts[1:] = ts[:-1]
    prev_ts[0] = ts[0]
    start = np.where(counter, prev_ts, np.where(marks_start, ts, ts - step_us))
    end = np.where(~counter & marks_start, ts + step_us, ts)
    del prev_ts, step_us
    delta = np.where(counter, value - prev_value, value)

    with np.errstate(invalid="ignore"):
        f_gap = dt_s > 1.5 * step_s  # NaN (no previous reading) is no gap
    f_stuck = (
        (run_length >= meters.stuck_readings)
        & ~changed
        & np.where(counter, meters.continuous[idx], value != 0)
    )
    del run_length, run_id
    phase = np.fmod(ts / 1e6, step_s)
    f_skew = np.minimum(phase, step_s - phase) > 0.05 * step_s
    del phase
    negative = delta < 0
    down = counter & negative
    rollover = meters.rollover[idx]
    with np.errstate(invalid="ignore"):
        rolled = prev_value > rollover / 2  # NaN (no rollover) is False
    f_rollover = down & rolled
    f_reset = down & ~rolled & (value >= 0) & (value < prev_value / 10)
    f_negative = negative & ~f_rollover & ~f_reset
    scale = meters.scale[idx]
    quantity = delta * scale
    power = meters.is_power[idx]
    if power.any():
        quantity[power] *= (end[power] - start[power]) / 3.6e9
    if f_rollover.any():
        quantity[f_rollover] = ((rollover - prev_value + value) * scale)[f_rollover]
    quantity[f_reset] = (value * scale)[f_reset]
    quantity[f_negative] = np.nan
    del delta, scale, rollover, prev_value, power

    # the kept rows (a counter's first reading opens its first interval and is no interval)
    keep = ~(counter & first)
    if keep.all():
        sel: npt.NDArray[np.int64] | slice = slice(None)
        k_first = first
        k_starts = starts
    else:
        sel = np.flatnonzero(keep)
        k_first = np.empty(len(sel), dtype=bool)
        if len(sel):
            k_first[0] = True
            np.not_equal(idx[sel][1:], idx[sel][:-1], out=k_first[1:])
        k_starts = _segments(k_first)
    q = quantity[sel]
    f_spike = _spikes(q, k_starts, k_first, meters.spike_mads)
    conditions = [
        f_negative[sel],
        f_rollover[sel],
        f_reset[sel],
        f_gap[sel],
        f_stuck[sel],
        f_spike,
        f_skew[sel],
    ]
    flag = np.zeros(len(q), dtype=np.int8)
    for code in range(len(conditions), 0, -1):  # the first that applies wins
        flag[conditions[code - 1]] = code
    k_start = start[sel]
    k_end = end[sel]
    return Intervals(
        idx=idx[sel].astype(np.int32, copy=False),
        start=k_start,
        end=k_end,
        seconds=_round_half_up((k_end - k_start) / 1e6),
        quantity=q,
        flag=flag,
        estimated=f_reset[sel] | (f_gap[sel] & counter[sel]),
        step_by_meter=step_by_meter,
    )


def _spikes(q: F64, starts: I64, first: B, mads: float) -> B:
    """Quantities above the meter's median + ``mads`` robust standard deviations (1.4826 ×
    MAD) and above twice its 99th percentile (median > 0). The MAD is worked out only for
    meters with a quantity above twice their 99th percentile (else nothing can be a
    spike)."""
    spikes = np.zeros(len(q), dtype=bool)
    if not len(q):
        return spikes
    med, p99 = _per_segment(q, starts, (0.5, 0.99))
    seg = np.cumsum(first) - 1
    with np.errstate(invalid="ignore"):
        candidate = (q > 2 * p99[seg]) & (med[seg] > 0)
    if not candidate.any():
        return spikes
    ends = np.append(starts[1:], len(q))
    for k in np.unique(seg[candidate]).tolist():
        a, b = int(starts[k]), int(ends[k])
        part = q[a:b]
        known = part[~np.isnan(part)]
        mad = float(np.median(np.abs(known - med[k])))
        with np.errstate(invalid="ignore"):
            spikes[a:b] = candidate[a:b] & (part > med[k] + mads * 1.4826 * mad)
    return spikes


def _empty_intervals(meters: int) -> Intervals:
    i64 = np.empty(0, dtype=np.int64)
    return Intervals(
        idx=np.empty(0, dtype=np.int32),
        start=i64,
        end=i64,
        seconds=np.empty(0, dtype=np.int32),
        quantity=np.empty(0),
        flag=np.empty(0, dtype=np.int8),
        estimated=np.empty(0, dtype=bool),
        step_by_meter=np.full(meters, np.nan),
    )


def _runs(idx: I32, *keys: npt.NDArray[np.int64]) -> I64:
    """Starts of the runs of equal ``(idx, *keys)``."""
    n = len(idx)
    changed = np.empty(n, dtype=bool)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    changed[0] = True
    np.not_equal(idx[1:], idx[:-1], out=changed[1:])
    for key in keys:
        changed[1:] |= key[1:] != key[:-1]
    return _segments(changed)


def _ordered(idx: I32, key: npt.NDArray[np.int64]) -> bool:
    """Whether ``key`` never goes down within a meter."""
    if len(idx) < 2:
        return True
    same = idx[1:] == idx[:-1]
    return bool(np.all(key[1:][same] >= key[:-1][same]))


def _local(utc: I64, idx: I32, meters: MeterArrays) -> I64:
    """Local wall times (µs) of UTC instants on the 15-minute grid, each in the zone of its
    meter: the offsets are worked out once per zone for every 15-minute instant from the
    first to the last (at most 35,136 a year) and looked up, exact for instants on the
    grid."""
    out = np.empty_like(utc)
    zone_codes = meters.tz[idx]
    for code in np.unique(zone_codes).tolist():
        mask = zone_codes == code
        moments = utc[mask]
        low = int(moments.min())
        offsets = _grid_offsets(meters.zones[code], low, int(moments.max()))
        out[mask] = moments + offsets[(moments - low) // BIN_US]
    return out


def _grid_offsets(zone: str, low: int, high: int) -> I64:
    """UTC offsets (µs) of ``zone`` at every 15-minute instant from ``low`` to ``high``."""
    grid = np.arange(low, high + 1, BIN_US, dtype=np.int64)
    local = (
        pd.DatetimeIndex((grid * 1000).view("datetime64[ns]"), tz="UTC")
        .tz_convert(zone)
        .tz_localize(None)
        .asi8
        // 1000
    )
    return local - grid


def bins_15min(iv: Intervals, meters: MeterArrays) -> Bins:
    """Each interval's quantity spread over the UTC 15-minute bins it spans in proportion to
    time, summed per meter and bin."""
    first_bin = iv.start // BIN_US
    last_bin = (iv.end - 1) // BIN_US
    pieces = (last_bin - first_bin + 1).astype(np.int64)
    if len(pieces) and int(pieces.max()) == 1:
        rep = None
        idx, bin_no, multi = iv.idx, first_bin, np.zeros(len(iv.idx), dtype=bool)
    else:
        rep = np.repeat(np.arange(len(pieces)), pieces)
        offsets = np.cumsum(pieces) - pieces
        bin_no = first_bin[rep] + (np.arange(len(rep)) - offsets[rep])
        idx = iv.idx[rep]
        multi = pieces[rep] > 1

    def take(array: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
        return array if rep is None else array[rep]

    quantity = take(iv.quantity)
    seconds = take(iv.seconds).astype(np.float64)
    covered = seconds
    if rep is not None and multi.any():
        bin_start = bin_no * BIN_US
        exact = (
            np.minimum(take(iv.end), bin_start + BIN_US) - np.maximum(take(iv.start), bin_start)
        ) / 1e6
        covered = np.where(multi, exact, seconds)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(seconds > 0, quantity * exact / seconds, np.nan)
        quantity = np.where(multi, share, quantity)
    is_end = ~multi | (bin_no == take(last_bin))
    flagged = (take(iv.flag) != 0) & is_end
    estimated = take(iv.estimated) | multi
    if not _ordered(idx, bin_no):  # overlapping readings of an interval meter
        order = np.lexsort((bin_no, idx))
        idx, bin_no, quantity, covered = idx[order], bin_no[order], quantity[order], covered[order]
        is_end, flagged, estimated = is_end[order], flagged[order], estimated[order]
    starts = _runs(idx, bin_no)
    if not len(starts):
        return _empty_bins(iv.step_by_meter)
    known = ~np.isnan(quantity)
    g_idx = idx[starts]
    g_start = bin_no[starts] * BIN_US
    g_step = iv.step_by_meter[g_idx]
    return Bins(
        idx=g_idx,
        start=g_start,
        local=_local(g_start, g_idx, meters),
        quantity=_sum(np.where(known, quantity, 0.0), known, starts),
        expected=_round_half_up(900.0 / g_step),
        intervals=np.add.reduceat(is_end.astype(np.int32), starts).astype(np.int32),
        flagged=np.add.reduceat(flagged.astype(np.int32), starts).astype(np.int32),
        estimated=np.logical_or.reduceat(estimated, starts),
        coverage=np.minimum(1.0, np.add.reduceat(np.where(known, covered, 0.0), starts) / 900.0),
        step_by_meter=iv.step_by_meter,
    )


def _empty_bins(step_by_meter: F64) -> Bins:
    i32 = np.empty(0, dtype=np.int32)
    i64 = np.empty(0, dtype=np.int64)
    f64 = np.empty(0)
    return Bins(i32, i64, i64, f64, i32, i32, i32, np.empty(0, dtype=bool), f64, step_by_meter)


def _sum(values: F64, known: B, starts: I64) -> F64:
    """Sums per run, NaN (SQL NULL) for a run with no known value."""
    if not len(starts):
        return np.empty(0)
    total = np.add.reduceat(values, starts)
    count = np.add.reduceat(known.astype(np.int64), starts)
    return np.where(count > 0, total, np.nan)


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _local_start_utc(zone: str, local_us: int) -> int:
    """The UTC instant (µs) of a local wall time in ``zone`` (the first of a repeated time; a
    skipped time read with the offset before the change, as ICU does)."""
    naive = datetime(1970, 1, 1) + timedelta(microseconds=local_us)
    aware = naive.replace(tzinfo=_zone(zone))
    moment = aware.astimezone(UTC).replace(tzinfo=None)
    return (moment - datetime(1970, 1, 1)) // timedelta(microseconds=1)


def coarser(bins: Bins, meters: MeterArrays, grain: str) -> Periods:
    """Local hours (``hour``, kept apart by UTC offset), days or months of the bins."""
    local = bins.local
    keys: tuple[I64, ...]
    if grain == "hour":
        hour = np.floor_divide(local, _HOUR_US)
        offset = local - bins.start
        idx, keys = bins.idx, (hour, offset)
        order = None if _ordered(idx, hour) else np.lexsort((offset, hour, idx))
    else:
        if grain == "day":
            key = np.floor_divide(local, _DAY_US)
        elif grain == "month":
            key = local.view("datetime64[us]").astype("datetime64[M]").astype(np.int64)
        else:  # pragma: no cover - guarded by the callers
            raise ValueError(grain)
        keys = (key,)
        order = None if _ordered(bins.idx, key) else np.lexsort((key, bins.idx))
    idx = bins.idx
    quantity, intervals_, flagged, estimated, coverage = (
        bins.quantity, bins.intervals, bins.flagged, bins.estimated, bins.coverage,
    )  # fmt: skip
    if order is not None:
        idx = idx[order]
        keys = tuple(k[order] for k in keys)
        quantity, intervals_, flagged = quantity[order], intervals_[order], flagged[order]
        estimated, coverage = estimated[order], coverage[order]
    starts = _runs(idx, *keys)
    if not len(starts):
        empty_i = np.empty(0, dtype=np.int32)
        empty = np.empty(0, dtype=np.int64)
        return Periods(empty_i, empty, empty, np.empty(0), empty_i, empty_i, empty_i,
                       np.empty(0, dtype=bool), np.empty(0))  # fmt: skip
    known = ~np.isnan(quantity)
    g_idx = idx[starts]
    if grain == "hour":
        g_local = keys[0][starts] * _HOUR_US
        g_start = g_local - keys[1][starts]
        seconds = np.full(len(starts), 3600.0)
    else:
        key = keys[0][starts]
        if grain == "day":
            g_local = key * _DAY_US
            following = g_local + _DAY_US
        else:
            g_local = key.astype("datetime64[M]").astype("datetime64[us]").astype(np.int64)
            following = (key + 1).astype("datetime64[M]").astype("datetime64[us]").astype(np.int64)
        zones = meters.tz[g_idx]
        g_start = _to_utc(zones, g_local, meters.zones)
        seconds = (_to_utc(zones, following, meters.zones) - g_start) / 1e6
    covered = np.add.reduceat(coverage * 900.0, starts)
    return Periods(
        idx=g_idx,
        start=g_start,
        local=g_local,
        quantity=_sum(np.where(known, quantity, 0.0), known, starts),
        expected=_round_half_up(seconds / bins.step_by_meter[g_idx]),
        intervals=np.add.reduceat(intervals_, starts).astype(np.int32),
        flagged=np.add.reduceat(flagged, starts).astype(np.int32),
        estimated=np.logical_or.reduceat(estimated, starts),
        coverage=np.minimum(1.0, covered / seconds),
    )


def _to_utc(zone_codes: I32, local: I64, zones: tuple[str, ...]) -> I64:
    """UTC instants of local wall times (few distinct: one per day or month and zone)."""
    pairs = np.stack([zone_codes.astype(np.int64), local])
    unique, inverse = np.unique(pairs, axis=1, return_inverse=True)
    converted = np.array(
        [_local_start_utc(zones[int(z)], int(t)) for z, t in unique.T.tolist()],
        dtype=np.int64,
    )
    return converted[inverse.reshape(-1)]
