"""Overlapping and duplicate activity rows: the one rule the import and the engine share.

活动数据重叠与重复：导入校验与盘查计算共用的同一规则。

The rule (``docs/methodology/overlaps.md``) in short:

* **Which rows.** Rows of scope 1 and scope 2 activity types (fuels, refrigerants, purchased
  electricity, heat, steam, cooling): metered or billed quantities of which a site has one
  figure per period (and meter). Scope 3 rows are not compared: many trips, invoices and
  shipments of one entity in one month are the norm. Correction rows (``correction =
  true``) are never compared: they exist to change an earlier row.
* **Overlap.** Two rows overlap when they have the same :data:`OVERLAP_KEY` — entity, site,
  activity, supplier and meter, an empty value matching only an empty value — and their
  periods (inclusive) share at least one day: ``a.start <= b.end AND b.start <= a.end``.
* **Exact duplicate.** An overlap whose rows are equal in every column that changes the
  emissions (:data:`DUPLICATE_COLUMNS`: the key, the period, quantity, unit, region, scope 3
  category and explicit factor); record id and notes may differ.

The SQL is one window over the rows, partitioned by the key and ordered by period start and
the duplicate columns, so it is a sort and a scan — no self-join whose size grows with the
square of the rows of a key. For each row it gives the latest end among the rows sorted
before it and the earliest start among the rows sorted after it (an overlap exists when the
first is on or after the row's start, or the second on or before its end), the row each of
those comes from (to name it), and whether the row is equal to the one just before it (an
exact duplicate: equal rows sort next to each other). :func:`hot_months_sql` and
:func:`candidates_sql` first leave out, by hash aggregation only, the rows that share no
calendar month with another row of their key, so the sort sees only the few rows that may
overlap (none, in data with one row per key and period).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "DUPLICATE_COLUMNS",
    "OVERLAP_KEY",
    "OVERLAP_RULES",
    "OVERLAP_SCOPES",
    "candidates_sql",
    "hot_months_sql",
    "overlap_sql",
    "overlap_warning",
]

#: Rows with the same values of these columns (NULL matching NULL) are compared.
OVERLAP_KEY: tuple[str, ...] = ("entity", "site", "activity", "supplier", "meter")
#: Two rows equal in these columns (NULL matching NULL) are exact duplicates.
DUPLICATE_COLUMNS: tuple[str, ...] = (
    *OVERLAP_KEY,
    "period_start",
    "period_end",
    "quantity",
    "unit",
    "region",
    "scope3_category",
    "factor",
)
#: Default scopes of the activity types whose rows are compared.
OVERLAP_SCOPES: tuple[int, ...] = (1, 2)
#: The workspace settings of ``[import] overlaps``: ``warn`` (default) accepts a file with
#: overlapping rows and names them; ``reject`` refuses it. Exact duplicates are always refused.
OVERLAP_RULES: tuple[str, ...] = ("warn", "reject")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _month(column: str) -> str:
    return f"(12 * year({column}) + month({column}))"


def hot_months_sql(source: str) -> str:
    """SQL: the (hashed key ``_k``, month ``_m``) pairs of ``source`` that hold more than one
    row — step 1 of the exact pre-filter of :func:`overlap_sql`.

    Two rows that share a day share a calendar month. Each row is spread over the months of
    its period (at most 12: a row's period lies in one reporting year) and counted per (key,
    month), the key hashed to one integer. A row none of whose months is "hot" can neither
    overlap nor duplicate anything. One scan and a hash aggregation; in data with one row per
    key and period (what the rule expects) the result is empty and nothing more is done.
    """
    return f"""
SELECT _k, _m FROM (
    SELECT hash({_key()}) AS _k,
        unnest(range({_month("period_start")}, {_month("period_end")} + 1)) AS _m
    FROM {source}
) GROUP BY _k, _m HAVING count(*) > 1
"""


def candidates_sql(source: str, hot: str) -> str:
    """SQL: the rows of ``source`` with a month in ``hot`` (:func:`hot_months_sql`) — step 2
    of the pre-filter: the only rows :func:`overlap_sql` needs to sort. A hash collision only
    keeps more rows; :func:`overlap_sql` compares the real key."""
    return f"""
SELECT s.* EXCLUDE (_k) FROM (SELECT *, hash({_key()}) AS _k FROM {source}) s
SEMI JOIN {hot} h ON h._k = s._k
    AND h._m BETWEEN {_month("s.period_start")} AND {_month("s.period_end")}
"""


def _key() -> str:
    return ", ".join(_q(c) for c in OVERLAP_KEY)


def overlap_sql(source: str, *, order: Sequence[str] = ()) -> str:
    """SQL: the rows of ``source`` with their overlap columns.

    Parameters
    ----------
    source
        A table, view or parenthesised query with the columns of :data:`DUPLICATE_COLUMNS`
        plus ``ref`` (any value naming the row, e.g. a struct of batch id and row number),
        holding only the rows to compare (scope 1 and 2 activities, no correction rows).
    order
        Tie-breaking columns after :data:`DUPLICATE_COLUMNS` (e.g. the batch's import order
        and the row number), so that the earlier of two equal rows sorts first.

    Returns
    -------
    str
        ``SELECT`` of every column of ``source`` plus ``overlapping`` (bool: the row shares at
        least one day with another row of its key), ``overlap_with`` (the ``ref`` of one
        such row, or NULL) and ``duplicate_of`` (the ``ref`` of an equal row sorted before it,
        or NULL: the row is an exact duplicate of it).
    """
    partition = ", ".join(_q(c) for c in OVERLAP_KEY)
    rest = [c for c in DUPLICATE_COLUMNS if c not in OVERLAP_KEY]
    ordering = ", ".join([*(_q(c) for c in rest), *order])
    same = " AND ".join(f"{_q(c)} IS NOT DISTINCT FROM lag({_q(c)}) OVER w_all" for c in rest)
    return f"""
SELECT * EXCLUDE (_prev_end, _prev_ref, _next_start, _next_ref, _same, _lag_ref),
    coalesce(_prev_end >= period_start OR _next_start <= period_end, false) AS overlapping,
    CASE WHEN _prev_end >= period_start THEN _prev_ref
         WHEN _next_start <= period_end THEN _next_ref END AS overlap_with,
    CASE WHEN _same THEN _lag_ref END AS duplicate_of
FROM (
    SELECT *,
        max(period_end) OVER w_prev AS _prev_end,
        arg_max(ref, period_end) OVER w_prev AS _prev_ref,
        min(period_start) OVER w_next AS _next_start,
        arg_min(ref, period_start) OVER w_next AS _next_ref,
        (row_number() OVER w_all > 1 AND {same}) AS _same,
        lag(ref) OVER w_all AS _lag_ref
    FROM {source}
    WINDOW w_all AS (PARTITION BY {partition} ORDER BY {ordering}),
        w_prev AS (PARTITION BY {partition} ORDER BY {ordering}
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
        w_next AS (PARTITION BY {partition} ORDER BY {ordering}
                   ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)
)
"""


def overlap_warning(found: Mapping[str, Any], lang: str = "en") -> str:
    """The run's warning about overlapping rows (``found``: the manifest's ``overlaps``
    section, see :func:`esgledger.inventory.engine.compute_line_items`), in English or
    Chinese (``zh-CN``)."""
    examples: Sequence[Mapping[str, Any]] = found.get("examples", [])
    listed = "; ".join(
        f"{e['activity']} {e['entity']}/{e.get('site') or '-'}"
        + (f" meter {e['meter']}" if e.get("meter") else "")
        + f" {e['period_start']}..{e['period_end']}"
        for e in examples
    ) + ("; ..." if found.get("more_examples") else "")
    rows = int(found.get("rows", 0))
    if lang == "zh-CN":
        return (
            f"疑似重复计量：{rows} 行范围一、范围二活动数据与同一主体、站点、活动、供应商和表计的"
            f"其他行期间重叠（{listed}）；已全部计入，请核实后删除重复行或以更正行（correction = "
            "true）调整；见明细字段 overlap_suspect"
        )
    return (
        f"overlapping activity rows: {rows} scope 1 and 2 row(s) share entity, site, activity, "
        f"supplier and meter with another row over overlapping periods ({listed}); all are "
        "counted as they are: check them, then remove a duplicate or adjust it with a "
        "correction row (correction = true); see overlap_suspect"
    )
