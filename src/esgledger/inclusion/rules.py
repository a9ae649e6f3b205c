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
    for a, b in zip(ordered, ordered[1:], strict=False):
        if a.effective_to is None or a.effective_to >= b.effective_from:
            raise InputError(f"versions {a.version} and {b.version} of {a.id} overlap in time")
    v_rows: dict[str, list[object]] = {
        k: []
        for k in (
            "version eff_from eff_to max_trips max_mg min_distance_m min_duration_us "
            "overlap_us window_us lag_days claim_days gpp"
        ).split()
    }
    f_rows: dict[str, list[object]] = {
        k: []
        for k in (
            "version mode basis scenario value_e4 value_text factor_id fallback_e4 "
            "fallback_text fallback_factor_id max_kmh"
        ).split()
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
    v = pa.table(
        {k: pa.array(col, type=v_types.get(k, pa.int64())) for k, col in v_rows.items()}
    )
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
        parts.append(f'CAST("{c}" AS {t}) AS {c}' if c in names else f"CAST({default} AS {t}) AS {c}")
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
    return its name. Columns: the trip's keys, ``start_utc``, ``trip_date``, ``due_date``,
    ``status``, ``reason_code``, ``reason_value``, ``reason_limit``, ``conflict_operator``,
    ``conflict_trip_id``, ``distance_m``, ``distance_rule``, ``version``, ``factor_id``,
    ``factor_value``, ``basis``, ``scenario``, ``reduction_mg`` (the computed reduction; 0
    unless settled), ``gpp``. See the module docstring for the rules."""
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise InputError("as_of must carry a time zone (e.g. 2026-01-03T00:00:00+00:00)")
    v, f = _settings_tables(methodology_versions)
    zone = methodology_versions[0].timezone
    mid = methodology_versions[0].id
    as_of_date: dt.date = con.execute(
        "SELECT CAST(timezone(?, CAST(? AS TIMESTAMPTZ)) AS DATE)", [zone, as_of]
    ).fetchall()[0][0]
    con.register("trips_in", trips)
    con.register("v_in", v)
    con.register("f_in", f)
    con.execute("CREATE OR REPLACE TEMP TABLE v AS SELECT * FROM v_in")
    con.execute("CREATE OR REPLACE TEMP TABLE f AS SELECT * FROM f_in")
    con.execute(f"CREATE OR REPLACE TEMP VIEW t0 AS SELECT {_trip_select(trips)} FROM trips_in")
    _check_input(con)
    version_case = " ".join(
        f"WHEN d BETWEEN DATE '{m.effective_from}' AND DATE '{m.effective_to or dt.date.max}' "
        f"THEN $${m.version}$$"
        for m in methodology_versions
    )
    max_lag = max(m.rules.settlement_lag_days for m in methodology_versions)
    zone_sql = zone.replace("'", "''")
    # 1. version, factor, distance and reduction of every trip (context rows included)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE t1 AS
        WITH a AS (
            SELECT t0.*, CAST(timezone('{zone_sql}', start_utc) AS DATE) AS d,
                   coalesce(previous_status IN ('settled', 'refused'), false) AS decided_before,
                   coalesce(previous_status = 'settled', false) AS settled_before
            FROM t0
        ), b AS (SELECT a.*, CASE {version_case} END AS version FROM a)
        SELECT b.operator, b.trip_id, b.account, b.mode, b.start_utc, b.end_utc, b.channel,
               b.consented, b.held, b.decided_before, b.settled_before, b.d AS trip_date,
               b.version, v.max_trips, v.max_mg, v.min_distance_m, v.min_duration_us,
               v.overlap_us, v.window_us, v.claim_days, v.gpp,
               coalesce(v.lag_days, {max_lag}) AS lag_days,
               f.mode IS NOT NULL AS mode_known, f.basis, f.scenario, f.max_kmh,
               coalesce(b.distance_m, b.network_distance_m) AS dist_m,
               CASE WHEN f.basis = 'trip' THEN 'per_trip'
                    WHEN b.distance_m IS NOT NULL THEN 'given'
                    WHEN b.network_distance_m IS NOT NULL THEN 'network'
                    WHEN f.fallback_e4 IS NOT NULL THEN 'per_trip' END AS distance_rule,
               CASE WHEN f.basis = 'pkm' AND b.distance_m IS NULL
                         AND b.network_distance_m IS NULL THEN f.fallback_factor_id
                    ELSE f.factor_id END AS factor_id,
               CASE WHEN f.basis = 'pkm' AND b.distance_m IS NULL
                         AND b.network_distance_m IS NULL THEN f.fallback_text
                    ELSE f.value_text END AS factor_value,
               CASE WHEN f.basis = 'pkm' AND b.distance_m IS NULL
                         AND b.network_distance_m IS NULL
                         AND f.fallback_e4 IS NOT NULL THEN 'trip'
                    ELSE f.basis END AS line_basis,
               CASE WHEN f.basis = 'trip' THEN f.value_e4 * 1000 // {_SCALE}
                    WHEN coalesce(b.distance_m, b.network_distance_m) >= 0 THEN
                        CAST(CAST(coalesce(b.distance_m, b.network_distance_m) AS HUGEINT)
                             * f.value_e4 // {_SCALE} AS HUGEINT)
                    WHEN coalesce(b.distance_m, b.network_distance_m) IS NULL
                         AND f.fallback_e4 IS NOT NULL THEN f.fallback_e4 * 1000 // {_SCALE}
               END AS mg,
               epoch_us(b.end_utc) - epoch_us(b.start_utc) AS dur_us
        FROM b
        LEFT JOIN v ON v.version = b.version
        LEFT JOIN f ON f.version = b.version AND f.mode = b.mode
        """
    )
    # 2. conflicts, judged over every trip of the account (context rows included)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE t2 AS
        WITH w AS (
            SELECT *,
                   max(end_utc) OVER acc_before AS prev_end,
                   arg_max(struct_pack(o := operator, t := trip_id), end_utc)
                       OVER acc_before AS prev_end_trip,
                   min(CASE WHEN settled_before THEN start_utc END) OVER acc_after AS next_settled,
                   arg_min(struct_pack(o := operator, t := trip_id),
                           CASE WHEN settled_before THEN start_utc END)
                       OVER acc_after AS next_settled_trip,
                   (lag(operator) OVER am IS DISTINCT FROM operator) AS op_change,
                   (lag(channel) OVER am IS DISTINCT FROM channel) AS ch_change,
                   lag(struct_pack(s := start_utc, o := operator, t := trip_id)) OVER am AS prev_am,
                   lead(CASE WHEN settled_before
                        THEN struct_pack(s := start_utc, o := operator, t := trip_id,
                                         c := channel) END
                       IGNORE NULLS) OVER am AS next_settled_am
            FROM t1
            WINDOW acc_before AS (PARTITION BY account ORDER BY start_utc, operator, trip_id
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                   acc_after AS (PARTITION BY account ORDER BY start_utc, operator, trip_id
                                 ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING),
                   am AS (PARTITION BY account, mode ORDER BY start_utc, operator, trip_id)
        ), r AS (
            SELECT *,
                   sum(CAST(op_change AS INTEGER)) OVER am_run AS op_run,
                   sum(CAST(ch_change AS INTEGER)) OVER am_run AS ch_run
            FROM w
            WINDOW am_run AS (PARTITION BY account, mode ORDER BY start_utc, operator, trip_id
                              ROWS UNBOUNDED PRECEDING)
        )
        SELECT * EXCLUDE (op_change, ch_change, prev_am, op_run, ch_run),
               first_value(prev_am) OVER (PARTITION BY account, mode, op_run
                                          ORDER BY start_utc, operator, trip_id) AS prev_op,
               first_value(prev_am) OVER (PARTITION BY account, mode, ch_run
                                          ORDER BY start_utc, operator, trip_id) AS prev_ch
        FROM r
        WHERE NOT decided_before OR settled_before
        """
    )
    # 3. the first rule each undecided trip fails (caps come after)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE t3 AS
        SELECT *,
               trip_date + CAST(lag_days AS INTEGER) AS due_date,
               CASE
                 WHEN decided_before THEN NULL
                 WHEN trip_date > DATE '{through}'
                      OR trip_date + CAST(lag_days AS INTEGER) > DATE '{as_of_date}'
                   THEN 'settlement.lag'
                 WHEN version IS NULL THEN 'methodology.not_effective'
                 WHEN NOT mode_known THEN 'mode.unknown'
                 WHEN end_utc < start_utc THEN 'integrity.end_before_start'
                 WHEN mg IS NULL AND dist_m IS NULL THEN 'distance.unknown'
                 WHEN dur_us < min_duration_us THEN 'integrity.min_duration'
                 WHEN dist_m IS NOT NULL AND (dist_m < min_distance_m OR dist_m < 0)
                   THEN 'integrity.min_distance'
                 WHEN dist_m IS NOT NULL AND max_kmh IS NOT NULL
                      AND CAST(dist_m AS HUGEINT) * 3600000 > CAST(max_kmh AS HUGEINT) * dur_us
                   THEN 'integrity.speed'
                 WHEN prev_op IS NOT NULL AND epoch_us(start_utc) - epoch_us(prev_op.s) <= window_us
                   THEN 'integrity.duplicate_operator'
                 WHEN next_settled_am IS NOT NULL AND next_settled_am.o <> operator
                      AND epoch_us(next_settled_am.s) - epoch_us(start_utc) <= window_us
                   THEN 'integrity.duplicate_operator'
                 WHEN prev_ch IS NOT NULL AND epoch_us(start_utc) - epoch_us(prev_ch.s) <= window_us
                   THEN 'integrity.channel'
                 WHEN next_settled_am IS NOT NULL AND next_settled_am.c <> channel
                      AND epoch_us(next_settled_am.s) - epoch_us(start_utc) <= window_us
                   THEN 'integrity.channel'
                 WHEN epoch_us(prev_end) - epoch_us(start_utc) > overlap_us
                   THEN 'integrity.overlap'
                 WHEN epoch_us(end_utc) - epoch_us(next_settled) > overlap_us
                   THEN 'integrity.overlap'
                 WHEN NOT consented
                      AND DATE '{as_of_date}' > trip_date + CAST(lag_days + claim_days AS INTEGER)
                   THEN 'consent.unclaimed'
               END AS stage
        FROM t2
        """
    )
    # 4. caps over the trips settled before (first) and the candidates left, in start order
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE caps AS
        WITH c AS (
            SELECT operator, trip_id, account, trip_date, settled_before, mg, max_mg,
                   row_number() OVER (PARTITION BY account, mode, trip_date
                                      ORDER BY settled_before DESC, start_utc, operator, trip_id)
                       > max_trips AS over_trips,
                   start_utc
            FROM t3
            WHERE settled_before OR (NOT decided_before AND stage IS NULL)
        )
        SELECT operator, trip_id, over_trips,
               NOT over_trips AND sum(CASE WHEN over_trips THEN 0 ELSE mg END)
                   OVER (PARTITION BY account, trip_date
                         ORDER BY settled_before DESC, start_utc, operator, trip_id
                         ROWS UNBOUNDED PRECEDING) > max_mg AS over_grams
        FROM c
        WHERE NOT settled_before
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE decided AS
        WITH s AS (
            SELECT t3.*,
                   coalesce(t3.stage,
                            CASE WHEN caps.over_trips THEN 'cap.trips'
                                 WHEN caps.over_grams THEN 'cap.grams'
                                 WHEN t3.held THEN 'review.held'
                                 WHEN NOT t3.consented THEN 'consent.missing'
                                 ELSE 'settled' END) AS reason_code
            FROM t3 LEFT JOIN caps USING (operator, trip_id)
            WHERE NOT t3.decided_before
        )
        SELECT operator, trip_id, account, mode, start_utc, trip_date, due_date,
               CASE WHEN reason_code = 'settled' THEN 'settled'
                    WHEN reason_code IN ('settlement.lag', 'review.held', 'consent.missing')
                      THEN 'pending'
                    ELSE 'refused' END AS status,
               reason_code,
               CASE reason_code
                 WHEN 'settled' THEN CAST(mg AS VARCHAR)
                 WHEN 'methodology.not_effective' THEN CAST(trip_date AS VARCHAR)
                 WHEN 'mode.unknown' THEN mode
                 WHEN 'distance.unknown' THEN mode
                 WHEN 'integrity.min_duration' THEN CAST(dur_us // 1000000 AS VARCHAR)
                 WHEN 'integrity.min_distance' THEN CAST(dist_m AS VARCHAR)
                 WHEN 'integrity.speed'
                   THEN CAST(round(dist_m * 3600000.0 / dur_us, 1) AS VARCHAR)
                 WHEN 'consent.missing' THEN scenario
                 WHEN 'consent.unclaimed' THEN scenario
               END AS reason_value,
               CASE reason_code
                 WHEN 'settled' THEN factor_id
                 WHEN 'settlement.lag' THEN CAST(greatest(due_date, trip_date) AS VARCHAR)
                 WHEN 'methodology.not_effective' THEN $${mid}$$
                 WHEN 'mode.unknown' THEN $${mid}$$ || ' ' || version
                 WHEN 'integrity.min_duration' THEN CAST(min_duration_us // 1000000 AS VARCHAR)
                 WHEN 'integrity.min_distance' THEN CAST(min_distance_m AS VARCHAR)
                 WHEN 'integrity.speed' THEN CAST(max_kmh AS VARCHAR)
                 WHEN 'cap.trips' THEN CAST(max_trips AS VARCHAR)
                 WHEN 'cap.grams' THEN CAST(max_mg // 1000 AS VARCHAR)
                 WHEN 'consent.missing'
                   THEN CAST(trip_date + CAST(lag_days + claim_days AS INTEGER) AS VARCHAR)
                 WHEN 'consent.unclaimed'
                   THEN CAST(trip_date + CAST(lag_days + claim_days AS INTEGER) AS VARCHAR)
               END AS reason_limit,
               CASE reason_code
                 WHEN 'integrity.duplicate_operator' THEN
                   CASE WHEN prev_op IS NOT NULL
                             AND epoch_us(start_utc) - epoch_us(prev_op.s) <= window_us
                        THEN prev_op.o ELSE next_settled_am.o END
                 WHEN 'integrity.channel' THEN
                   CASE WHEN prev_ch IS NOT NULL
                             AND epoch_us(start_utc) - epoch_us(prev_ch.s) <= window_us
                        THEN prev_ch.o ELSE next_settled_am.o END
                 WHEN 'integrity.overlap' THEN
                   CASE WHEN epoch_us(prev_end) - epoch_us(start_utc) > overlap_us
                        THEN prev_end_trip.o ELSE next_settled_trip.o END
               END AS conflict_operator,
               CASE reason_code
                 WHEN 'integrity.duplicate_operator' THEN
                   CASE WHEN prev_op IS NOT NULL
                             AND epoch_us(start_utc) - epoch_us(prev_op.s) <= window_us
                        THEN prev_op.t ELSE next_settled_am.t END
                 WHEN 'integrity.channel' THEN
                   CASE WHEN prev_ch IS NOT NULL
                             AND epoch_us(start_utc) - epoch_us(prev_ch.s) <= window_us
                        THEN prev_ch.t ELSE next_settled_am.t END
                 WHEN 'integrity.overlap' THEN
                   CASE WHEN epoch_us(prev_end) - epoch_us(start_utc) > overlap_us
                        THEN prev_end_trip.t ELSE next_settled_trip.t END
               END AS conflict_trip_id,
               dist_m AS distance_m, distance_rule, version, factor_id, factor_value,
               line_basis AS basis, scenario,
               CAST(CASE WHEN reason_code = 'settled' THEN mg ELSE 0 END AS BIGINT)
                   AS reduction_mg,
               gpp
        FROM s
        """
    )
    for name in ("t1", "t2", "t3", "caps"):
        con.execute(f"DROP TABLE {name}")
    return "decided"


def assess(
    trips: pa.Table,
    methodology_versions: Sequence[Methodology],
    *,
    as_of: dt.datetime,
    through: dt.date,
) -> pa.Table:
    """The decision of every undecided trip (the ``decided`` table of :func:`decide`), in the
    order ``(start_utc, operator, trip_id)``."""
    con = connect()
    try:
        table = decide(con, trips, methodology_versions, as_of=as_of, through=through)
        return con.sql(f"SELECT * FROM {table} ORDER BY start_utc, operator, trip_id").to_arrow_table()
    finally:
        con.close()
