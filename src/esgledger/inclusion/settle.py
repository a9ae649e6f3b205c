"""Settlement of carbon-inclusion trips: the lines of one run (pure, DuckDB).

碳普惠行程结算：一次结算运行的明细行（纯函数，DuckDB 计算）。

:func:`compute` decides every undecided trip (rules in :mod:`esgledger.inclusion.rules`) and
returns one line per such trip. Reductions are integers of milligrams of CO2, exactly
(reference ``domain-modules.md`` §3.2; design "Settlement")::

    reduction_mg = floor(distance_m × factor [g/pkm = mg/m])     basis pkm
    reduction_mg = factor [g/trip] × 1000                          basis trip (floored to mg)
    points       = floor(reduction_mg / (grams_per_point × 1000))

computed on factors held as integers of 1/10 000 g (no float touches an amount): a 12 km
Shenzhen metro ride is 12 000 × 46.7 = 560 400 mg; a 6 km e-bus ride 161 400 mg; a Wuhan bus
ride 212 500 mg.

Output contract (:data:`LINE_SCHEMA`, rows in the order ``(start_utc, operator, trip_id)``):
``operator, trip_id, account, mode, trip_date`` (local day of the start in the
methodology's zone), ``status`` (settled | refused | pending), ``reason_code`` (one of
:data:`esgledger.inclusion.rules.REASON_CODES`), ``reason`` (English) and ``reason_zh``
(templates ``inclusion.<reason_code>`` of ``data/reasons.csv``), ``conflict_operator``,
``conflict_trip_id`` (the earlier trip a duplicate, channel or overlap refusal conflicts
with), ``distance_m`` (given, else network; null when neither), ``distance_rule`` (given |
network | per_trip; null when refused for no distance or an unknown mode), ``methodology``,
``methodology_version``, ``factor_id``, ``factor_value`` (Decimal as a string), ``basis``
(pkm | trip: ``trip`` also when a pkm mode's per-trip fallback was used), ``reduction_mg``
and ``points`` (0 unless settled), ``due_date`` (trip day + T+N), ``settlement_id`` (as
passed) and ``tx_id`` (null: the service fills it when it posts the issuance).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pyarrow as pa

from esgledger.inclusion.methodology import Methodology
from esgledger.inclusion.rules import REASON_CODES, decide
from esgledger.inventory._duckdb import connect
from esgledger.reasons import templates

__all__ = ["LINE_SCHEMA", "compute", "reason_texts"]

LINE_SCHEMA = pa.schema(
    [
        ("operator", pa.string()),
        ("trip_id", pa.string()),
        ("account", pa.string()),
        ("mode", pa.string()),
        ("trip_date", pa.date32()),
        ("status", pa.string()),
        ("reason_code", pa.string()),
        ("reason", pa.string()),
        ("reason_zh", pa.string()),
        ("conflict_operator", pa.string()),
        ("conflict_trip_id", pa.string()),
        ("distance_m", pa.int64()),
        ("distance_rule", pa.string()),
        ("methodology", pa.string()),
        ("methodology_version", pa.string()),
        ("factor_id", pa.string()),
        ("factor_value", pa.string()),
        ("basis", pa.string()),
        ("reduction_mg", pa.int64()),
        ("points", pa.int64()),
        ("due_date", pa.date32()),
        ("settlement_id", pa.string()),
        ("tx_id", pa.string()),
    ]
)


def reason_texts() -> pa.Table:
    """``reason_code, en, zh``: the templates of every line reason (``inclusion.<code>`` in
    ``data/reasons.csv``); fields ``{value}``, ``{limit}`` and ``{conflict}``."""
    table = templates()
    rows = [(code, table[f"inclusion.{code}"]) for code in REASON_CODES]
    return pa.table(
        {
            "reason_code": [c for c, _ in rows],
            "en": [t["en"] for _, t in rows],
            "zh": [t["zh-CN"] for _, t in rows],
        }
    )


def _fill(column: str) -> str:
    return (
        f"replace(replace(replace(r.{column}, '{{value}}', coalesce(d.reason_value, '')), "
        "'{limit}', coalesce(d.reason_limit, '')), '{conflict}', "
        "coalesce(c.operator || '/' || c.trip_id, ''))"
    )


def compute(
    trips: pa.Table,
    methodology_versions: Sequence[Methodology],
    *,
    as_of: dt.datetime,
    through: dt.date,
    settlement_id: str | None = None,
    threads: int | None = None,
) -> pa.Table:
    """The settlement lines of every undecided trip in ``trips``.

    Parameters
    ----------
    trips
        The trips table of :mod:`esgledger.inclusion.rules` (input contract there): new and
        pending trips, plus the trips already decided on the same local days as context.
    methodology_versions
        The versions of the workspace's methodology (:func:`methodology.versions`); each
        trip takes the version effective on its local day.
    as_of
        The moment of the run (time-zone aware); its local day decides T+N and claim windows.
    through
        The last local trip day this run may settle; later trips stay pending.
    settlement_id
        Written on every line (the service's id of the run).
    threads
        DuckDB threads (default: one per core).

    Returns
    -------
    pyarrow.Table
        :data:`LINE_SCHEMA`, one row per trip whose ``previous_status`` is null or
        ``pending``, ordered by ``(start_utc, operator, trip_id)``.
    """
    con = connect(threads=threads)
    try:
        decided = decide(con, trips, methodology_versions, as_of=as_of, through=through)
        con.register("reason_texts", reason_texts())
        mid = methodology_versions[0].id.replace("'", "''")
        relation = con.sql(
            f"""
            SELECT t.operator, t.trip_id, t.account, t.mode, d.trip_date, d.status,
                   d.reason_code, {_fill("en")} AS reason, {_fill("zh")} AS reason_zh,
                   c.operator AS conflict_operator, c.trip_id AS conflict_trip_id,
                   d.distance_m, d.distance_rule,
                   '{mid}' AS methodology, d.version AS methodology_version,
                   d.factor_id, d.factor_value, d.basis, d.reduction_mg,
                   CAST(CASE WHEN d.status = 'settled'
                             THEN d.reduction_mg // (d.grams_per_point * 1000) ELSE 0 END
                        AS BIGINT) AS points,
                   d.due_date, CAST(? AS VARCHAR) AS settlement_id,
                   CAST(NULL AS VARCHAR) AS tx_id
            FROM {decided} d
            JOIN trips_in t USING (rid)
            JOIN reason_texts r USING (reason_code)
            LEFT JOIN trips_in c ON c.rid = d.conflict_rid
            ORDER BY t.start_utc, t.operator, t.trip_id
            """,
            params=[settlement_id],
        )
        result = relation.to_arrow_table() if relation is not None else LINE_SCHEMA.empty_table()
    finally:
        con.close()
    return result.cast(LINE_SCHEMA)
