"""Integrity rules of carbon-inclusion settlement, vectorised in DuckDB.

碳普惠结算的完整性规则（DuckDB 向量化计算）。

:func:`assess` decides every undecided trip of a trips table at once (no Python loop over
trips): the methodology version of its local day, its distance and reduction, and the first
rule it fails. Rules, in the order they are tried (the first that applies gives the status
and ``reason_code``):

================================  ========  =================================================
reason_code                       status    when
================================  ========  =================================================
``settlement.lag``                pending   local trip day after ``through``, or
                                            ``as_of`` local day < trip day + T+N lag
``methodology.not_effective``     refused   no version effective on the trip day
``mode.unknown``                  refused   mode not in that version
``integrity.end_before_start``    refused   ``end_utc < start_utc``
``distance.unknown``              refused   pkm mode, no given or network distance, no
                                            per-trip fallback
``integrity.min_duration``        refused   duration < ``min_duration_s``
``integrity.min_distance``        refused   known distance < ``min_distance_m`` (or < 0)
``integrity.speed``               refused   known distance / duration > the mode's
                                            ``max_speed_kmh``
``integrity.duplicate_operator``  refused   a trip of the same account and mode from another
                                            operator starts within ``duplicate_window_s``
``integrity.channel``             refused   ... from another channel (same rule, channel)
``integrity.overlap``             refused   overlaps a trip of the same account by more than
                                            ``overlap_tolerance_s``
``consent.unclaimed``             refused   no consent and ``as_of`` local day > due day +
                                            ``claim_days``
``cap.trips``                     refused   beyond ``max_trips_per_day`` trips of the account
                                            and mode that local day
``cap.grams``                     refused   the account's day total would exceed
                                            ``max_g_per_day`` (this trip and every later one
                                            that day: the conservative choice, no trip is cut)
``review.held``                   pending   the account is held for review
``consent.missing``               pending   no consent yet, within the claim window
``settled``                       settled   none of the above
================================  ========  =================================================

Conflicts (duplicate, channel, overlap) are judged in the order ``(start_utc, operator,
trip_id)``: the later trip is refused and names the trip it conflicts with
(``conflict_operator``, ``conflict_trip_id``). They are judged on the data, whatever the
status of the earlier trip (two claims for the same time are one claim too many). A new trip
that conflicts with a trip already settled in an earlier run (``previous_status =
'settled'``) is refused even when it starts first (the settled trip is final); for duplicates
and channels this looks at the nearest later settled trip of the account and mode. Caps count
the trips already settled that day first, then candidates in start order.

Input contract (columns of ``trips``; extra columns are ignored):

=======================  =====================  ============================================
column                   type                   meaning
=======================  =====================  ============================================
``operator``             string, not null       with ``trip_id``: the unique key
``trip_id``              string, not null
``account``              string, not null       pseudonym
``mode``                 string, not null       a mode of the methodology
``start_utc``            timestamp (UTC)        not null
``end_utc``              timestamp (UTC)        not null
``distance_m``           int64, nullable        given by the operator [m]
``channel``              string, nullable       null is read as ``''``
``network_distance_m``   int64, nullable        optional column: from the GTFS network [m]
``consented``            bool, not null         account has active consent for the mode's
                                                scenario
``held``                 bool                   optional column (default false): account held
``previous_status``      string, nullable       optional column: null (new), ``pending``
                                                (reconsidered), ``settled`` or ``refused``
                                                (final: context for conflicts and caps, no
                                                line)
=======================  =====================  ============================================

Pass, besides the new and pending trips, the trips already decided on the same local days
(and the day before, for overlaps across midnight), so caps and conflicts see them.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Sequence
from decimal import Decimal

import duckdb
import pyarrow as pa

from esgledger.errors import InputError
from esgledger.inclusion.methodology import FACTOR_DECIMALS, Methodology
from esgledger.inventory._duckdb import connect

__all__ = [
    "OPTIONAL_COLUMNS",
    "REASON_CODES",
    "REQUIRED_COLUMNS",
    "STATUSES",
    "assess",
    "decide",
]

#: Statuses of a line.
STATUSES: tuple[str, ...] = ("settled", "refused", "pending")
#: Every reason code a line can carry (templates ``inclusion.<code>`` in ``data/reasons.csv``).
REASON_CODES: tuple[str, ...] = (
    "settled",
    "settlement.lag",
    "methodology.not_effective",
    "mode.unknown",
    "integrity.end_before_start",
    "distance.unknown",
    "integrity.min_duration",
    "integrity.min_distance",
    "integrity.speed",
    "integrity.duplicate_operator",
    "integrity.channel",
    "integrity.overlap",
    "consent.unclaimed",
    "cap.trips",
    "cap.grams",
    "review.held",
    "consent.missing",
)
REQUIRED_COLUMNS: dict[str, str] = {
    "operator": "VARCHAR",
    "trip_id": "VARCHAR",
    "account": "VARCHAR",
    "mode": "VARCHAR",
    "start_utc": "TIMESTAMPTZ",
    "end_utc": "TIMESTAMPTZ",
    "distance_m": "BIGINT",
    "channel": "VARCHAR",
    "consented": "BOOLEAN",
}
OPTIONAL_COLUMNS: dict[str, tuple[str, str]] = {
    "network_distance_m": ("BIGINT", "NULL"),
    "held": ("BOOLEAN", "false"),
    "previous_status": ("VARCHAR", "NULL"),
}
_SCALE = 10**FACTOR_DECIMALS  # factor values are held as integers of 1/10 000 g


def _scaled(value: Decimal) -> int:
    scaled = value * _SCALE
    if scaled != scaled.to_integral_value():
        raise InputError(f"factor value {value} has more than {FACTOR_DECIMALS} decimal places")
    return int(scaled)


def _settings_tables(
    versions: Sequence[Methodology],
) -> tuple[pa.Table, pa.Table]:
    if not versions:
        raise InputError("settlement needs at least one methodology version")
    ids = {m.id for m in versions}
    zones = {m.timezone for m in versions}
    if len(ids) != 1 or len(zones) != 1:
        raise InputError(
            "settlement takes the versions of one methodology in one time zone "
            f"(got {', '.join(sorted(ids))}; zones {', '.join(sorted(zones))})"
        )
    ordered = sorted(versions, key=lambda m: m.effective_from)
    for a, b in itertools.pairwise(ordered):
        if a.effective_to is None or a.effective_to >= b.effective_from:
            raise InputError(f"versions {a.version} and {b.version} of {a.id} overlap in time")
    v_rows: dict[str, list[object]] = {
        k: []
        for k in [
            "version",
            "eff_from",
            "eff_to",
            "max_trips",
            "max_mg",
            "min_distance_m",
            "min_duration_us",
            "overlap_us",
            "window_us",
            "lag_days",
            "claim_days",
            "gpp",
        ]
    }
    f_rows: dict[str, list[object]] = {
        k: []
        for k in [
            "version",
            "mode",
            "basis",
            "scenario",
            "value_e4",
            "value_text",
            "factor_id",
            "fallback_e4",
            "fallback_text",
            "fallback_factor_id",
            "max_kmh",
        ]
    }
    for m in ordered:
        r = m.rules
        for key, value in (
            ("version", m.version),
            ("eff_from", m.effective_from),
            ("eff_to", m.effective_to),
            ("max_trips", r.max_trips_per_day),
            ("max_mg", r.max_mg_per_day),
            ("min_distance_m", r.min_distance_m),
            ("min_duration_us", r.min_duration_s * 1_000_000),
            ("overlap_us", r.overlap_tolerance_s * 1_000_000),
            ("window_us", r.duplicate_window_s * 1_000_000),
            ("lag_days", r.settlement_lag_days),
            ("claim_days", r.claim_days),
            ("gpp", r.grams_per_point),
        ):
            v_rows[key].append(value)
        for f in m.modes.values():
            fb = f.per_trip_fallback_g
            for key, fvalue in (
                ("version", m.version),
                ("mode", f.mode),
                ("basis", f.basis),
                ("scenario", f.scenario),
                ("value_e4", _scaled(f.value_g)),
                ("value_text", str(f.value_g)),
                ("factor_id", f.factor_id),
                ("fallback_e4", None if fb is None else _scaled(fb)),
                ("fallback_text", None if fb is None else str(fb)),
                ("fallback_factor_id", f.fallback_factor_id),
                ("max_kmh", r.max_speed_kmh.get(f.mode)),
            ):
                f_rows[key].append(fvalue)
    v_types = {"version": pa.string(), "eff_from": pa.date32(), "eff_to": pa.date32()}
    v = pa.table({k: pa.array(col, type=v_types.get(k, pa.int64())) for k, col in v_rows.items()})
    f_types = {k: pa.int64() for k in ("value_e4", "fallback_e4", "max_kmh")}
    f = pa.table({k: pa.array(col, type=f_types.get(k, pa.string())) for k, col in f_rows.items()})
    return v, f


def _trip_select(trips: pa.Table) -> str:
    names = set(trips.column_names)
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise InputError(f"trips table lacks column(s) {', '.join(missing)}")
    parts = [f'CAST("{c}" AS {t}) AS {c}' for c, t in REQUIRED_COLUMNS.items() if c != "channel"]
    parts.append("coalesce(CAST(channel AS VARCHAR), '') AS channel")
    for c, (t, default) in OPTIONAL_COLUMNS.items():
        parts.append(
            f'CAST("{c}" AS {t}) AS {c}' if c in names else f"CAST({default} AS {t}) AS {c}"
        )
    return ", ".join(parts)


def _check_input(con: duckdb.DuckDBPyConnection) -> None:
    nulls = con.execute(
        """SELECT count(*) FILTER (WHERE operator IS NULL OR trip_id IS NULL OR account IS NULL
                 OR mode IS NULL OR start_utc IS NULL OR end_utc IS NULL OR consented IS NULL),
                  count(*) FILTER (WHERE previous_status IS NOT NULL
                 AND previous_status NOT IN ('pending', 'settled', 'refused'))
           FROM t0"""
    ).fetchall()[0]
    if nulls and nulls[0]:
        raise InputError(
            f"trips table: {nulls[0]} row(s) with a null operator, trip_id, account, mode, "
            "start_utc, end_utc or consented"
        )
    if nulls and nulls[1]:
        raise InputError(
            f"trips table: {nulls[1]} row(s) whose previous_status is not null, pending, "
            "settled or refused"
        )
    dup = con.execute(
        "SELECT operator, trip_id, count(*) FROM t0 GROUP BY ALL HAVING count(*) > 1 LIMIT 1"
    ).fetchall()
    if dup:
        raise InputError(
            f"trips table: trip {dup[0][0]}/{dup[0][1]} appears {dup[0][2]} times "
            "((operator, trip_id) must be unique)"
        )


def decide(
    con: duckdb.DuckDBPyConnection,
    trips: pa.Table,
    methodology_versions: Sequence[Methodology],
    *,
    as_of: dt.datetime,
    through: dt.date,
) -> str:
    """Create the temporary table ``decided`` in ``con`` (one row per undecided trip) and
    return its name.

    Columns: ``rid`` (the trip's row index in ``trips``), ``trip_date``, ``due_date``,
    ``status``, ``reason_code``, ``reason_value``, ``reason_limit`` (the template fields),
    ``conflict_rid`` (row index of the trip a conflict refusal names), ``distance_m``,
    ``distance_rule_i`` (0 given, 1 network, 2 per_trip; null when refused for no distance,
    mode or version), ``vi`` (row of :func:`settings_tables`' versions), ``factor_i``
    (``2 × (row of the factors) + 1`` when the per-trip fallback was used, else ``+ 0``),
    ``reduction_mg`` and ``points`` (0 unless settled). The trips stay registered as
    ``trips_in`` (with ``rid``); the temporary table ``f`` lists the factors (``fi`` from 1).
    Intermediate tables are narrow (integer keys; strings are joined back once, at the end).
    """
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise InputError("as_of must carry a time zone (e.g. 2026-01-03T00:00:00+00:00)")
    v, f = _settings_tables(methodology_versions)
    zone = methodology_versions[0].timezone
    mid = methodology_versions[0].id
    as_of_date: dt.date = con.execute(
        "SELECT CAST(timezone(?, CAST(? AS TIMESTAMPTZ)) AS DATE)", [zone, as_of]
    ).fetchall()[0][0]
    with_rid = trips.append_column("rid", pa.array(range(trips.num_rows), pa.int64()))
    con.register("trips_in", with_rid)
    con.register("v_in", v.append_column("vi", pa.array(range(v.num_rows), pa.int32())))
    con.register("f_in", f)
    con.execute("CREATE OR REPLACE TEMP TABLE v AS SELECT * FROM v_in")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE f AS SELECT f_in.*, v.vi, "
        "CAST(row_number() OVER () AS INTEGER) AS fi FROM f_in JOIN v USING (version)"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW t0 AS SELECT rid, {_trip_select(trips)} FROM trips_in"
    )
    _check_input(con)
    version_case = " ".join(
        f"WHEN d BETWEEN DATE '{m.effective_from}' AND DATE '{m.effective_to or dt.date.max}' "
        f"THEN (SELECT vi FROM v WHERE version = $${m.version}$$)"
        for m in methodology_versions
    )
    max_lag = max(m.rules.settlement_lag_days for m in methodology_versions)
    zone_sql = zone.replace("'", "''")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE modes AS SELECT mode, "
        "CAST(row_number() OVER () AS INTEGER) AS mode_i FROM (SELECT DISTINCT mode FROM t0)"
    )
    # 1. narrow table: integer keys (account, operator, channel, version, factor), times in µs,
    #    distance and reduction; rk = order of the trip within its account
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE n1 AS
        WITH acc AS (
            SELECT account, CAST(row_number() OVER () AS INTEGER) AS acc_i
            FROM (SELECT DISTINCT account FROM t0)
        ), ops AS (
            SELECT operator, CAST(row_number() OVER (ORDER BY operator) AS INTEGER) AS op_i
            FROM (SELECT DISTINCT operator FROM t0)
        ), chs AS (
            SELECT channel, CAST(row_number() OVER () AS INTEGER) AS ch_i
            FROM (SELECT DISTINCT channel FROM t0)
        ), a AS (
            SELECT t0.rid, t0.trip_id, acc.acc_i, ops.op_i, chs.ch_i, t0.mode, modes.mode_i,
                   epoch_us(t0.start_utc) AS start_us, epoch_us(t0.end_utc) AS end_us,
                   t0.distance_m, t0.network_distance_m, t0.consented, t0.held,
                   coalesce(t0.previous_status IN ('settled', 'refused'), false)
                       AS decided_before,
                   coalesce(t0.previous_status = 'settled', false) AS settled_before,
                   CAST(timezone('{zone_sql}', t0.start_utc) AS DATE) AS d
            FROM t0 JOIN acc USING (account) JOIN ops USING (operator)
                 JOIN chs USING (channel) JOIN modes USING (mode)
        ), b AS (SELECT a.*, CASE {version_case} END AS vi FROM a)
        SELECT b.rid, b.acc_i, b.mode_i, b.op_i, b.ch_i, b.start_us, b.end_us, b.consented, b.held,
               b.decided_before, b.settled_before, b.d AS trip_date, b.vi, f.fi,
               coalesce(b.distance_m, b.network_distance_m) AS dist_m,
               CAST(CASE WHEN f.basis = 'trip' THEN 3
                         WHEN b.distance_m IS NOT NULL THEN 1
                         WHEN b.network_distance_m IS NOT NULL THEN 2
                         WHEN f.fallback_e4 IS NOT NULL THEN 4 END AS TINYINT) AS drule,
               CAST(CASE WHEN f.basis = 'trip' THEN f.value_e4 * 1000 // {_SCALE}
                    WHEN coalesce(b.distance_m, b.network_distance_m) BETWEEN 0
                         AND 100000000000 THEN
                        coalesce(b.distance_m, b.network_distance_m) * f.value_e4 // {_SCALE}
                    WHEN coalesce(b.distance_m, b.network_distance_m) IS NULL
                         AND f.fallback_e4 IS NOT NULL THEN f.fallback_e4 * 1000 // {_SCALE}
               END AS BIGINT) AS mg,
               CAST(row_number() OVER (PARTITION BY b.acc_i
                                       ORDER BY b.start_us, b.op_i, b.trip_id) AS INTEGER) AS rk
        FROM b LEFT JOIN f ON f.vi = b.vi AND f.mode = b.mode
        """
    )
    # 2. conflicts, judged over every trip of the account (context rows included), by the
    #    nearest earlier trip of another operator / channel (run starts carried forward).
    #    A time and a rank travel packed in one HUGEINT (time_us * 2^32 + rk).
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE n2 AS
        WITH w AS (
            SELECT acc_i, mode_i, rk,
                   max(CAST(end_us AS HUGEINT) * 4294967296 + rk) OVER acc_before
                       AS prev_end_packed,
                   lead(CASE WHEN settled_before THEN rk END IGNORE NULLS) OVER acc
                       AS next_settled_rk,
                   (lag(op_i) OVER am IS DISTINCT FROM op_i) AS op_change,
                   (lag(ch_i) OVER am IS DISTINCT FROM ch_i) AS ch_change,
                   lag(CAST(start_us AS HUGEINT) * 4294967296 + rk) OVER am AS prev_packed,
                   lead(CASE WHEN settled_before THEN rk END IGNORE NULLS) OVER am
                       AS next_settled_am_rk
            FROM n1
            WINDOW acc AS (PARTITION BY acc_i ORDER BY rk),
                   acc_before AS (PARTITION BY acc_i ORDER BY rk
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                   am AS (PARTITION BY acc_i, mode_i ORDER BY rk)
        ), x AS (
            SELECT acc_i, rk, prev_end_packed, next_settled_rk, next_settled_am_rk,
                   last_value(CASE WHEN op_change THEN prev_packed END IGNORE NULLS)
                       OVER am_cum AS prev_op_packed,
                   last_value(CASE WHEN ch_change THEN prev_packed END IGNORE NULLS)
                       OVER am_cum AS prev_ch_packed
            FROM w
            WINDOW am_cum AS (PARTITION BY acc_i, mode_i ORDER BY rk ROWS UNBOUNDED PRECEDING)
        )
        SELECT acc_i, rk, next_settled_rk, next_settled_am_rk,
               CAST(prev_end_packed // 4294967296 AS BIGINT) AS prev_end,
               CAST(prev_end_packed % 4294967296 AS INTEGER) AS prev_end_rk,
               CAST(prev_op_packed // 4294967296 AS BIGINT) AS prev_op_start,
               CAST(prev_op_packed % 4294967296 AS INTEGER) AS prev_op_rk,
               CAST(prev_ch_packed // 4294967296 AS BIGINT) AS prev_ch_start,
               CAST(prev_ch_packed % 4294967296 AS INTEGER) AS prev_ch_rk
        FROM x
        """
    )
    # 3. the first rule each undecided trip fails (caps come after), and the trip it
    #    conflicts with (rank within the account)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE n3 AS
        WITH j AS (
            SELECT n1.*, n2.* EXCLUDE (acc_i, rk),
                   v.max_trips, v.max_mg, v.min_distance_m, v.min_duration_us, v.overlap_us,
                   v.window_us, v.claim_days, coalesce(v.lag_days, {max_lag}) AS lag_days,
                   f.max_kmh,
                   n.start_us AS nsa_start, n.op_i AS nsa_op, n.ch_i AS nsa_ch,
                   ns.start_us AS next_settled
            FROM n1 JOIN n2 USING (acc_i, rk)
            LEFT JOIN v ON v.vi = n1.vi
            LEFT JOIN f ON f.fi = n1.fi
            LEFT JOIN (SELECT acc_i, rk, start_us, op_i, ch_i FROM n1 WHERE settled_before) n
                   ON n.acc_i = n1.acc_i AND n.rk = n2.next_settled_am_rk
            LEFT JOIN (SELECT acc_i, rk, start_us FROM n1 WHERE settled_before) ns
                   ON ns.acc_i = n1.acc_i AND ns.rk = n2.next_settled_rk
            WHERE NOT n1.decided_before OR n1.settled_before
        ), k AS (
            SELECT *,
                   coalesce(start_us - prev_op_start <= window_us, false) AS dup_before,
                   coalesce(start_us - prev_ch_start <= window_us, false) AS ch_before,
                   coalesce(nsa_start - start_us <= window_us, false) AS near_after,
                   coalesce(prev_end - start_us > overlap_us, false) AS ov_before,
                   coalesce(end_us - next_settled > overlap_us, false) AS ov_after,
                   end_us - start_us AS dur_us
            FROM j
        ), s AS (
            SELECT *,
                   CASE
                     WHEN decided_before THEN NULL
                     WHEN trip_date > DATE '{through}'
                          OR trip_date + CAST(lag_days AS INTEGER) > DATE '{as_of_date}'
                       THEN 'settlement.lag'
                     WHEN vi IS NULL THEN 'methodology.not_effective'
                     WHEN fi IS NULL THEN 'mode.unknown'
                     WHEN end_us < start_us THEN 'integrity.end_before_start'
                     WHEN mg IS NULL AND dist_m IS NULL THEN 'distance.unknown'
                     WHEN dur_us < min_duration_us THEN 'integrity.min_duration'
                     WHEN dist_m IS NOT NULL AND (dist_m < min_distance_m OR dist_m < 0)
                       THEN 'integrity.min_distance'
                     WHEN dist_m IS NOT NULL AND max_kmh IS NOT NULL
                          AND CAST(dist_m AS HUGEINT) * 3600000
                              > CAST(max_kmh AS HUGEINT) * dur_us
                       THEN 'integrity.speed'
                     WHEN dup_before THEN 'integrity.duplicate_operator'
                     WHEN near_after AND nsa_op <> op_i THEN 'integrity.duplicate_operator'
                     WHEN ch_before THEN 'integrity.channel'
                     WHEN near_after AND nsa_ch <> ch_i THEN 'integrity.channel'
                     WHEN ov_before OR ov_after THEN 'integrity.overlap'
                     WHEN NOT consented
                          AND DATE '{as_of_date}'
                              > trip_date + CAST(lag_days + claim_days AS INTEGER)
                       THEN 'consent.unclaimed'
                   END AS stage
            FROM k
        )
        SELECT rid, acc_i, rk, mode_i, vi, fi, start_us, trip_date, lag_days, claim_days,
               consented, held,
               decided_before, settled_before, dist_m, drule, mg, dur_us, max_trips, max_mg,
               min_distance_m, min_duration_us, max_kmh, stage,
               CASE stage
                 WHEN 'integrity.duplicate_operator'
                   THEN CASE WHEN dup_before THEN prev_op_rk ELSE next_settled_am_rk END
                 WHEN 'integrity.channel'
                   THEN CASE WHEN ch_before THEN prev_ch_rk ELSE next_settled_am_rk END
                 WHEN 'integrity.overlap'
                   THEN CASE WHEN ov_before THEN prev_end_rk ELSE next_settled_rk END
               END AS conflict_rk
        FROM s
        """
    )
    # 4. caps over the trips settled before (first) and the candidates left, in start order
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE caps AS
        WITH c AS (
            SELECT acc_i, rk, trip_date, settled_before, mg, max_mg,
                   row_number() OVER (PARTITION BY acc_i, mode_i, trip_date
                                      ORDER BY settled_before DESC, rk) > max_trips AS over_trips
            FROM n3
            WHERE settled_before OR (NOT decided_before AND stage IS NULL)
        )
        SELECT acc_i, rk, over_trips,
               NOT over_trips AND sum(CASE WHEN over_trips THEN 0 ELSE mg END)
                   OVER (PARTITION BY acc_i, trip_date ORDER BY settled_before DESC, rk
                         ROWS UNBOUNDED PRECEDING) > max_mg AS over_grams,
               settled_before
        FROM c
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE decided AS
        WITH s AS (
            SELECT n3.*,
                   coalesce(n3.stage,
                            CASE WHEN caps.over_trips THEN 'cap.trips'
                                 WHEN caps.over_grams THEN 'cap.grams'
                                 WHEN n3.held THEN 'review.held'
                                 WHEN NOT n3.consented THEN 'consent.missing'
                                 ELSE 'settled' END) AS reason_code
            FROM n3 LEFT JOIN caps ON caps.acc_i = n3.acc_i AND caps.rk = n3.rk
                                      AND NOT caps.settled_before
            WHERE NOT n3.decided_before
        )
        SELECT s.rid, s.start_us, s.trip_date,
               s.trip_date + CAST(s.lag_days AS INTEGER) AS due_date,
               CASE WHEN reason_code = 'settled' THEN 'settled'
                    WHEN reason_code IN ('settlement.lag', 'review.held', 'consent.missing')
                      THEN 'pending'
                    ELSE 'refused' END AS status,
               reason_code,
               CASE reason_code
                 WHEN 'methodology.not_effective' THEN CAST(s.trip_date AS VARCHAR)
                 WHEN 'mode.unknown' THEN md.mode
                 WHEN 'distance.unknown' THEN md.mode
                 WHEN 'integrity.min_duration' THEN CAST(s.dur_us // 1000000 AS VARCHAR)
                 WHEN 'integrity.min_distance' THEN CAST(s.dist_m AS VARCHAR)
                 WHEN 'integrity.speed'
                   THEN CAST(round(s.dist_m * 3600000.0 / s.dur_us, 1) AS VARCHAR)
                 WHEN 'consent.missing' THEN f.scenario
                 WHEN 'consent.unclaimed' THEN f.scenario
               END AS reason_value,
               CASE reason_code
                 WHEN 'settled'
                   THEN CASE WHEN s.drule = 4 THEN f.fallback_factor_id ELSE f.factor_id END
                 WHEN 'settlement.lag'
                   THEN CAST(s.trip_date + CAST(s.lag_days AS INTEGER) AS VARCHAR)
                 WHEN 'methodology.not_effective' THEN $${mid}$$
                 WHEN 'mode.unknown' THEN $${mid}$$ || ' ' || v.version
                 WHEN 'integrity.min_duration' THEN CAST(s.min_duration_us // 1000000 AS VARCHAR)
                 WHEN 'integrity.min_distance' THEN CAST(s.min_distance_m AS VARCHAR)
                 WHEN 'integrity.speed' THEN CAST(s.max_kmh AS VARCHAR)
                 WHEN 'cap.trips' THEN CAST(s.max_trips AS VARCHAR)
                 WHEN 'cap.grams' THEN CAST(s.max_mg // 1000 AS VARCHAR)
                 WHEN 'consent.missing'
                   THEN CAST(s.trip_date + CAST(s.lag_days + s.claim_days AS INTEGER) AS VARCHAR)
                 WHEN 'consent.unclaimed'
                   THEN CAST(s.trip_date + CAST(s.lag_days + s.claim_days AS INTEGER) AS VARCHAR)
               END AS reason_limit,
               c.rid AS conflict_rid,
               s.dist_m AS distance_m,
               CAST(CASE WHEN reason_code IN ('distance.unknown', 'mode.unknown',
                                              'methodology.not_effective') THEN NULL
                         ELSE [0, 1, 2, 2][s.drule] END AS TINYINT) AS distance_rule_i,
               s.vi,
               CAST(CASE WHEN s.fi IS NOT NULL
                         THEN (s.fi - 1) * 2 + CASE WHEN s.drule = 4 THEN 1 ELSE 0 END
                    END AS INTEGER) AS factor_i,
               CAST(CASE WHEN reason_code = 'settled' THEN s.mg ELSE 0 END AS BIGINT)
                   AS reduction_mg,
               CAST(CASE WHEN reason_code = 'settled' THEN s.mg // (v.gpp * 1000) ELSE 0 END
                    AS BIGINT) AS points
        FROM s
        LEFT JOIN v ON v.vi = s.vi
        LEFT JOIN f ON f.fi = s.fi
        LEFT JOIN modes md ON md.mode_i = s.mode_i
        LEFT JOIN (SELECT acc_i, rk, rid FROM n1) c
               ON s.conflict_rk IS NOT NULL AND c.acc_i = s.acc_i AND c.rk = s.conflict_rk
        """
    )
    for name in () if os.environ.get("KEEP") else ("n1", "n2", "n3", "caps"):
        con.execute(f"DROP TABLE {name}")
    return "decided"


def assess(
    trips: pa.Table,
    methodology_versions: Sequence[Methodology],
    *,
    as_of: dt.datetime,
    through: dt.date,
) -> pa.Table:
    """The decision of every undecided trip: ``operator, trip_id, status, reason_code,
    conflict_operator, conflict_trip_id``, ordered by ``(start_utc, operator, trip_id)``
    (:func:`esgledger.inclusion.settle.compute` gives the full lines)."""
    con = connect()
    try:
        table = decide(con, trips, methodology_versions, as_of=as_of, through=through)
        return con.sql(
            f"""
            SELECT t.operator, t.trip_id, d.status, d.reason_code,
                   c.operator AS conflict_operator, c.trip_id AS conflict_trip_id
            FROM {table} d JOIN trips_in t USING (rid)
            LEFT JOIN trips_in c ON c.rid = d.conflict_rid
            ORDER BY t.start_utc, t.operator, t.trip_id
            """
        ).to_arrow_table()
    finally:
        con.close()
