"""Behavioural anomaly score per carbon-inclusion account: which accounts to hold for review.

碳普惠账户行为异常评分：识别需暂停审核的账户。

Features per account, from the trips table alone (reference ``domain-modules.md`` §3.3:
"IsolationForest over trips/day, night-time share and repeated OD pairs"):

* ``trips_per_active_day`` — trips / local days with at least one trip;
* ``night_share`` — share of trips starting 00:00–05:00 local time (methodology zone);
* ``top_pair_share`` — share of the account's trips on its most repeated pair. The pair is
  ``(mode, origin, destination)`` when the table has ``origin`` and ``destination`` columns;
  otherwise ``(mode, distance)`` with the distance given, else from the network (the same
  station pair gives the same network distance), trips without either each count alone.

One IsolationForest (Liu, Ting & Zhou, ICDM 2008, as scikit-learn implements it) over all
accounts, ``random_state`` fixed, ``contamination`` = the methodology's
``anomaly_contamination``. The score of an account is ``score_samples / offset_`` (≥ 1 for a
flagged account, larger is more anomalous), as the energy detectors report it. With fewer
accounts than ``anomaly_min_accounts`` nothing is scored: a forest over a handful of accounts
would flag ordinary behaviour (the result says it was skipped, and why). Accounts with fewer
than :data:`MIN_TRIPS` trips are neither scored nor counted: their shares are 0 or 1 by
construction (one night trip is a night share of 1), which is no behaviour to judge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute
from sklearn.ensemble import IsolationForest  # type: ignore[import-untyped]

from esgledger.i18n import Text
from esgledger.inclusion.methodology import Methodology
from esgledger.inventory._duckdb import connect

__all__ = ["FEATURES", "MIN_TRIPS", "SEED", "AnomalyResult", "features", "score"]

#: Feature columns, in the order the forest sees them.
FEATURES: tuple[str, ...] = ("trips_per_active_day", "night_share", "top_pair_share")
#: ``random_state`` of the forest (results are reproducible run to run).
SEED = 20211217
_ESTIMATORS = 100
#: Fewest trips for an account to be scored.
MIN_TRIPS = 3

_FEATURE_SCHEMA = pa.schema(
    [
        ("account", pa.string()),
        ("trips", pa.int64()),
        ("active_days", pa.int64()),
        ("trips_per_active_day", pa.float64()),
        ("night_share", pa.float64()),
        ("top_pair_share", pa.float64()),
    ]
)
_HELD_SCHEMA = _FEATURE_SCHEMA.append(pa.field("score", pa.float64()))


@dataclass(frozen=True, slots=True)
class AnomalyResult:
    """Accounts to hold (``held``: the feature columns and ``score``, most anomalous first),
    the number of accounts scored, and why scoring was skipped (``None`` when it ran)."""

    held: pa.Table
    accounts: int
    skipped: Text | None = None


def features(trips: pa.Table, timezone: str) -> pa.Table:
    """Per-account features (columns of ``_FEATURE_SCHEMA``), sorted by account.

    ``trips`` needs ``account``, ``mode``, ``start_utc`` and optionally ``distance_m``,
    ``network_distance_m``, ``origin``, ``destination`` (module docstring).
    """
    names = set(trips.column_names)
    if {"origin", "destination"} <= names:
        pair = "concat_ws(chr(31), mode, CAST(origin AS VARCHAR), CAST(destination AS VARCHAR))"
    else:
        parts = [f"CAST({c} AS BIGINT)" for c in ("distance_m", "network_distance_m") if c in names]
        dist = f"coalesce({', '.join(parts)})" if parts else "NULL"
        # a trip without a distance is a pair of its own (never "repeated")
        pair = (
            f"coalesce(mode || chr(31) || CAST({dist} AS VARCHAR), 'row' || CAST(rid AS VARCHAR))"
        )
    zone = timezone.replace("'", "''")
    con = connect()
    try:
        con.register("trips_in", trips)
        return (
            con.sql(
                f"""
                WITH t AS (
                    SELECT CAST(account AS VARCHAR) AS account,
                           timezone('{zone}', CAST(start_utc AS TIMESTAMPTZ)) AS local_start,
                           {pair} AS pair
                    FROM (SELECT *, row_number() OVER () AS rid FROM trips_in)
                ), per AS (
                    SELECT account, count(*) AS trips,
                           count(DISTINCT CAST(local_start AS DATE)) AS active_days,
                           count(*) FILTER (WHERE hour(local_start) < 5) AS night
                    FROM t GROUP BY account
                ), pairs AS (
                    SELECT account, max(n) AS top FROM (
                        SELECT account, pair, count(*) AS n FROM t GROUP BY account, pair
                    ) GROUP BY account
                )
                SELECT account, trips, active_days,
                       trips / active_days AS trips_per_active_day,
                       night / trips AS night_share,
                       top / trips AS top_pair_share
                FROM per JOIN pairs USING (account)
                ORDER BY account
                """
            )
            .to_arrow_table()
            .cast(_FEATURE_SCHEMA)
        )
    finally:
        con.close()


def score(trips: pa.Table, methodology: Methodology) -> AnomalyResult:
    """The accounts IsolationForest flags, with their features and score (module docstring).

    Deterministic: the same trips give the same accounts and scores (fixed ``random_state``,
    accounts in sorted order).
    """
    rules = methodology.rules
    table = features(trips, methodology.timezone)
    table = table.filter(pa.compute.greater_equal(table.column("trips"), MIN_TRIPS))
    n = table.num_rows
    empty = _HELD_SCHEMA.empty_table()
    if n < rules.anomaly_min_accounts:
        return AnomalyResult(
            empty,
            n,
            Text(
                f"anomaly score skipped: {n} account(s), at least "
                f"{rules.anomaly_min_accounts} needed",
                f"跳过异常评分：账户 {n} 个，至少需要 {rules.anomaly_min_accounts} 个",
            ),
        )
    x = np.column_stack([table.column(f).to_numpy() for f in FEATURES])
    forest = IsolationForest(
        n_estimators=_ESTIMATORS,
        contamination=float(rules.anomaly_contamination),
        random_state=SEED,
    )
    forest.fit(x)
    ratio = forest.score_samples(x) / forest.offset_
    flagged = np.flatnonzero(ratio > 1.0)
    order = flagged[np.argsort(-ratio[flagged], kind="stable")]
    held = table.take(pa.array(order, pa.int64())).append_column(
        "score", pa.array(ratio[order], pa.float64())
    )
    return AnomalyResult(held, n)
