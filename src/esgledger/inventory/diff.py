"""What changed between two runs, and why.

两次运行之间的差异及原因：选项（GWP、合并方法、严格模式）、输入批次、因子集（版本、内容哈希），
以及按范围/类别与逐条明细分解的排放变化（新增/删除的活动行、因子变化、GWP变化、合并比例变化）。

:func:`diff_runs` compares two runs:

* **options** — reporting year, GWP set, consolidation approach, strictness,
  ``allow_unresolved``, category 3, esgledger version (from the manifests);
* **inputs** — activity batches added or removed (id, file name, rows), each with its cause:
  a batch withdrawn or superseded since run A (with the reason, who and when, from run B's
  manifest), or a superseding batch (naming the batches it corrects); the organisation,
  activity types and exchange rates (sha256 of each, changed or not);
* **factor sets** — added, removed, or changed (edition, precedence, sha256 of the content);
* **emissions** — totals per scope and scope 3 category in both runs, and the change
  decomposed by cause. Lines are matched on ``(batch_id, row_number, line_kind)`` (activity
  batches are immutable, so a matched line is the same activity row); each line's change in
  consolidated CO2e ``Δ = B.co2e_kg_consolidated − A.co2e_kg_consolidated`` splits exactly
  into

  ``gross`` = ``(B.co2e_kg − A.co2e_kg) × A.consolidation_share`` — attributed to the first
  of: ``factor`` (the factor id differs, including a line that gained or lost its factor),
  ``gwp_set`` (same factor, another GWP set), ``fx_rate`` (same factor and set, another
  exchange rate), ``factor_value`` (same factor id, set and rate: the factor's content
  changed);

  ``consolidation`` = the rest, ``B.co2e_kg × (B.share − A.share)`` up to rounding;

  and lines only in B are ``added`` (new activity rows), lines only in A ``removed``; except
  a scope 3 category 15 line (``investment``) of a row both runs have, which appears or goes
  with the consolidation approach: ``consolidation``.

The comparison is one DuckDB query joining the two line-item Parquet files (a full outer
join; nothing the size of the data goes through Python). Each line's amounts are rounded to
1 µg and summed as exact decimals, as in :func:`esgledger.inventory.runs.aggregate`, so the
causes add up exactly to the change of the totals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from esgledger.inventory._duckdb import connect

if TYPE_CHECKING:
    from esgledger.inventory.runs import Run

__all__ = [
    "CAUSES",
    "CAUSE_LABELS",
    "RunDiff",
    "diff_runs",
]

#: The causes a change of emissions is attributed to, in the order of the decomposition.
CAUSES: tuple[str, ...] = (
    "added",
    "removed",
    "factor",
    "gwp_set",
    "fx_rate",
    "factor_value",
    "consolidation",
)
#: English and Chinese names of the causes.
CAUSE_LABELS: dict[str, tuple[str, str]] = {
    "added": ("new activity rows", "新增活动数据行"),
    "removed": ("removed activity rows", "删除的活动数据行"),
    "factor": ("another emission factor", "排放因子变更"),
    "gwp_set": ("another GWP set", "GWP取值变更"),
    "fx_rate": ("another exchange rate", "汇率变更"),
    "factor_value": ("same factor id, changed factor content", "同一因子编号、因子内容变化"),
    "consolidation": ("another consolidation share", "合并比例变更"),
}
_SCOPE_KEYS = {1: "scope1", 2: "scope2_location", 3: "scope3"}
_SCALE = "DECIMAL(38, 9)"
_KG_PER_T = Decimal(1000)


@dataclass(frozen=True, slots=True)
class RunDiff:
    """The differences between run A and run B (see the module docstring).

    Attributes
    ----------
    run_a, run_b
        Run ids.
    options
        ``{name: {"a": …, "b": …}}`` for each option that differs.
    batches_added, batches_removed
        Activity batches (``id``, ``file_name``, ``row_count``, ``content_hash``,
        ``status`` in the run that used it, ``supersedes``) with their ``cause``: an added
        batch is ``superseding`` (it corrects batches, named in ``supersedes``) or ``new``;
        a removed one ``withdrawn`` or ``superseded`` (with ``reason``, ``changed_by``,
        ``changed_at``, ``superseded_by``), ``submitted`` (left out of an approved-only run)
        or ``absent``.
    reference_data
        Names of the reference inputs (``entities``, ``sites``, ``activity_types``,
        ``fx_rates``) whose sha256 differs.
    factor_sets
        One entry per set added, removed or changed: ``id``, ``change`` (``added``,
        ``removed``, ``changed``), ``fields`` (the fields that differ among edition,
        precedence, sha256, rows), ``a`` and ``b`` (the manifest entries).
    totals
        [t CO2e] ``{key: {"a", "b", "delta"}}`` for ``scope1``, ``scope2_location``,
        ``scope3``, ``total`` and the scope 3 categories ``"3.1"`` … ``"3.15"`` that are
        non-zero in either run.
    by_cause
        [t CO2e] Change of the total by cause (:data:`CAUSES`; zero causes omitted).
    by_scope_cause
        [t CO2e] Rows ``{"scope", "scope3_category", "cause", "delta_t"}``.
    lines
        ``matched``, ``added``, ``removed``, ``changed`` (matched lines whose consolidated
        CO2e differs).
    top
        The lines that changed most (by ``|delta|``): batch, row, kind, record, entity,
        activity, scope, category, ``a_t``, ``b_t``, ``delta_t``, ``causes`` and both factor
        ids.
    """

    run_a: str
    run_b: str
    options: dict[str, dict[str, Any]]
    batches_added: list[dict[str, Any]]
    batches_removed: list[dict[str, Any]]
    reference_data: list[str]
    factor_sets: list[dict[str, Any]]
    totals: dict[str, dict[str, float]]
    by_cause: dict[str, float]
    by_scope_cause: list[dict[str, Any]]
    lines: dict[str, int]
    top: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (amounts in t CO2e)."""
        return {
            "unit": "t CO2e",
            "run_a": self.run_a,
            "run_b": self.run_b,
            "options": self.options,
            "inputs": {
                "batches_added": self.batches_added,
                "batches_removed": self.batches_removed,
                "reference_data_changed": self.reference_data,
            },
            "factor_sets": self.factor_sets,
            "totals": self.totals,
            "by_cause": self.by_cause,
            "by_scope_cause": self.by_scope_cause,
            "lines": self.lines,
            "top": self.top,
        }


def _options(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for key in ("reporting_year", "gwp_set", "consolidation", "esgledger_version"):
        if a.get(key) != b.get(key):
            out[key] = {"a": a.get(key), "b": b.get(key)}
    options_a, options_b = a.get("options") or {}, b.get("options") or {}
    for key in sorted(set(options_a) | set(options_b)):
        if options_a.get(key) != options_b.get(key):
            out[key] = {"a": options_a.get(key), "b": options_b.get(key)}
    return out


def _batches(manifest: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    files = manifest.get("batch_files") or {}
    used = {str(b["id"]): b for b in manifest.get("batches") or []}
    return {
        str(b["id"]): {
            "id": b["id"],
            "file_name": files.get(b["id"]),
            "row_count": b.get("row_count"),
            "content_hash": b.get("content_hash"),
            "status": used.get(str(b["id"]), {}).get("status"),
            "supersedes": list(used.get(str(b["id"]), {}).get("supersedes") or []),
        }
        for b in (manifest.get("inputs") or {}).get("activity_batches", [])
    }


def _why_added(batch: dict[str, Any]) -> dict[str, Any]:
    """An added batch with its cause: ``superseding`` (a correction of batches of run A) or
    ``new``; a batch that entered as ``submitted`` in a preview run says so."""
    cause = "superseding" if batch["supersedes"] else "new"
    return {**batch, "cause": cause}


def _why_removed(batch: dict[str, Any], later: Mapping[str, Any]) -> dict[str, Any]:
    """A removed batch with its cause from run B's manifest (``excluded_batches``):
    ``withdrawn`` or ``superseded`` (with reason, who, when and the superseding batch),
    ``submitted`` (left out of a run of approved batches only), else ``absent`` (not in
    the registry when run B was made: imported later, or unregistered by ``doctor``; or
    run B predates manifests that name left-out batches)."""
    left = {str(b["id"]): b for b in later.get("excluded_batches") or []}
    found = left.get(str(batch["id"]))
    if found is None:
        return {**batch, "cause": "absent", "reason": None}
    return {
        **batch,
        "cause": found.get("status"),
        "reason": found.get("reason"),
        "changed_by": found.get("changed_by"),
        "changed_at": found.get("changed_at"),
        "superseded_by": found.get("superseded_by"),
    }


def _factor_sets(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[dict[str, Any]]:
    sets_a = {s["id"]: s for s in (a.get("inputs") or {}).get("factor_sets", [])}
    sets_b = {s["id"]: s for s in (b.get("inputs") or {}).get("factor_sets", [])}
    out: list[dict[str, Any]] = []
    for set_id in sorted(set(sets_a) | set(sets_b)):
        entry_a, entry_b = sets_a.get(set_id), sets_b.get(set_id)
        if entry_a is None or entry_b is None:
            change = "added" if entry_a is None else "removed"
            out.append({"id": set_id, "change": change, "fields": [], "a": entry_a, "b": entry_b})
            continue
        fields = [
            f
            for f in ("edition", "precedence", "sha256", "rows")
            if entry_a.get(f) != entry_b.get(f)
        ]
        if fields:
            out.append(
                {"id": set_id, "change": "changed", "fields": fields, "a": entry_a, "b": entry_b}
            )
    return out


def _reference(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    ref_a = (a.get("inputs") or {}).get("reference_data") or {}
    ref_b = (b.get("inputs") or {}).get("reference_data") or {}
    return [
        key.removesuffix("_sha256")
        for key in sorted(set(ref_a) | set(ref_b))
        if ref_a.get(key) != ref_b.get(key)
    ]


def _t(kg: Decimal | None) -> float:
    return float((kg or Decimal(0)) / _KG_PER_T)


_JOINED_SQL = """
CREATE TEMP TABLE j AS
WITH a AS (
    SELECT batch_id, row_number, line_kind, record_id, entity, activity, scope,
        scope3_category, factor_id, gwp_set, fx_rate,
        coalesce(co2e_kg, 0.0) AS gross, coalesce(consolidation_share, 0.0) AS share,
        CAST(CASE WHEN excluded THEN 0 ELSE coalesce(co2e_kg_consolidated, 0.0) END
             AS {scale}) AS cons
    FROM read_parquet({path_a})
),
b AS (
    SELECT batch_id, row_number, line_kind, record_id, entity, activity, scope,
        scope3_category, factor_id, gwp_set, fx_rate,
        coalesce(co2e_kg, 0.0) AS gross, coalesce(consolidation_share, 0.0) AS share,
        CAST(CASE WHEN excluded THEN 0 ELSE coalesce(co2e_kg_consolidated, 0.0) END
             AS {scale}) AS cons
    FROM read_parquet({path_b})
)
SELECT
    coalesce(b.batch_id, a.batch_id) AS batch_id,
    coalesce(b.row_number, a.row_number) AS row_number,
    coalesce(b.line_kind, a.line_kind) AS line_kind,
    coalesce(b.record_id, a.record_id) AS record_id,
    coalesce(b.entity, a.entity) AS entity,
    coalesce(b.activity, a.activity) AS activity,
    coalesce(b.scope, a.scope) AS scope,
    coalesce(b.scope3_category, a.scope3_category) AS scope3_category,
    a.scope AS scope_a, a.scope3_category AS category_a,
    b.scope AS scope_b, b.scope3_category AS category_b,
    a.factor_id AS factor_a, b.factor_id AS factor_b,
    a.batch_id IS NOT NULL AS in_a, b.batch_id IS NOT NULL AS in_b,
    coalesce(a.cons, 0) AS cons_a, coalesce(b.cons, 0) AS cons_b,
    CASE
        WHEN a.batch_id IS NULL AND b.line_kind = 'investment' AND EXISTS (
            SELECT 1 FROM a x WHERE x.batch_id = b.batch_id AND x.row_number = b.row_number
        ) THEN 'consolidation'
        WHEN b.batch_id IS NULL AND a.line_kind = 'investment' AND EXISTS (
            SELECT 1 FROM b x WHERE x.batch_id = a.batch_id AND x.row_number = a.row_number
        ) THEN 'consolidation'
        WHEN a.batch_id IS NULL THEN 'added'
        WHEN b.batch_id IS NULL THEN 'removed'
        WHEN a.factor_id IS DISTINCT FROM b.factor_id THEN 'factor'
        WHEN a.gwp_set IS DISTINCT FROM b.gwp_set THEN 'gwp_set'
        WHEN a.fx_rate IS DISTINCT FROM b.fx_rate THEN 'fx_rate'
        ELSE 'factor_value'
    END AS gross_cause,
    CASE
        WHEN a.batch_id IS NULL THEN coalesce(b.cons, 0)
        WHEN b.batch_id IS NULL THEN -coalesce(a.cons, 0)
        ELSE CAST((b.gross - a.gross) * a.share AS {scale})
    END AS gross_effect
FROM a FULL OUTER JOIN b USING (batch_id, row_number, line_kind)
"""


def diff_runs(run_a: Run, run_b: Run, *, top: int = 10) -> RunDiff:
    """Compare two runs: options, inputs, factor sets and the change of emissions by cause.

    Parameters
    ----------
    run_a, run_b
        The earlier and the later run (:func:`esgledger.inventory.load_run`).
    top
        How many lines to list among the top contributors.

    Returns
    -------
    RunDiff
    """
    ma, mb = run_a.manifest, run_b.manifest
    batches_a, batches_b = _batches(ma), _batches(mb)

    def lit(path: Any) -> str:
        return "'" + str(path).replace("'", "''") + "'"

    con = connect()
    try:
        con.execute(
            _JOINED_SQL.format(
                scale=_SCALE, path_a=lit(run_a.line_items_path), path_b=lit(run_b.line_items_path)
            )
        )
        # One row per (line, cause) effect; the consolidation effect is the remainder, so
        # the effects of a line add up exactly to cons_b - cons_a.
        con.execute(
            """
            CREATE TEMP VIEW effects AS
            SELECT scope, scope3_category, gross_cause AS cause, gross_effect AS effect FROM j
            UNION ALL
            SELECT scope, scope3_category, 'consolidation', cons_b - cons_a - gross_effect
            FROM j WHERE in_a AND in_b
            """
        )
        by_scope_cause_rows = con.execute(
            """
            SELECT scope, scope3_category, cause, sum(effect) FROM effects
            GROUP BY ALL HAVING sum(effect) <> 0 ORDER BY ALL
            """
        ).fetchall()
        scope_rows = con.execute(
            """
            SELECT scope, scope3_category, sum(a), sum(b) FROM (
                SELECT scope_a AS scope, category_a AS scope3_category, cons_a AS a,
                    CAST(0 AS DECIMAL(38, 9)) AS b FROM j WHERE in_a
                UNION ALL
                SELECT scope_b, category_b, CAST(0 AS DECIMAL(38, 9)), cons_b FROM j WHERE in_b
            ) GROUP BY ALL ORDER BY ALL
            """
        ).fetchall()
        matched, added, removed, changed = con.execute(
            """
            SELECT count(*) FILTER (WHERE in_a AND in_b), count(*) FILTER (WHERE NOT in_a),
                count(*) FILTER (WHERE NOT in_b),
                count(*) FILTER (WHERE in_a AND in_b AND cons_a <> cons_b)
            FROM j
            """
        ).fetchone() or (0, 0, 0, 0)
        top_rows = con.execute(
            """
            SELECT batch_id, row_number, line_kind, record_id, entity, activity, scope,
                scope3_category, cons_a, cons_b, cons_b - cons_a AS delta, gross_cause,
                cons_b - cons_a - gross_effect AS share_effect, gross_effect, in_a, in_b,
                factor_a, factor_b
            FROM j WHERE cons_b <> cons_a OR NOT (in_a AND in_b)
            ORDER BY abs(cons_b - cons_a) DESC, batch_id, row_number, line_kind
            LIMIT ?
            """,
            [top],
        ).fetchall()
    finally:
        con.close()

    totals: dict[str, dict[str, float]] = {}
    sums: dict[str, list[Decimal]] = {}
    for scope, category, a, b in scope_rows:
        keys = [_SCOPE_KEYS[int(scope)], "total"]
        if int(scope) == 3 and category is not None:
            keys.append(f"3.{int(category)}")
        for key in keys:
            entry = sums.setdefault(key, [Decimal(0), Decimal(0)])
            entry[0] += a or Decimal(0)
            entry[1] += b or Decimal(0)
    for key in ("scope1", "scope2_location", "scope3", "total"):
        sums.setdefault(key, [Decimal(0), Decimal(0)])
    order = ["scope1", "scope2_location", "scope3"]
    order += sorted((k for k in sums if k.startswith("3.")), key=lambda k: int(k[2:]))
    order.append("total")
    for key in order:
        a_kg, b_kg = sums[key]
        totals[key] = {"a": _t(a_kg), "b": _t(b_kg), "delta": _t(b_kg - a_kg)}

    cause_sums: dict[str, Decimal] = {}
    by_scope_cause = []
    for scope, category, cause, effect in by_scope_cause_rows:
        cause_sums[cause] = cause_sums.get(cause, Decimal(0)) + effect
        by_scope_cause.append(
            {
                "scope": int(scope),
                "scope3_category": None if category is None else int(category),
                "cause": cause,
                "delta_t": _t(effect),
            }
        )
    by_cause = {c: _t(cause_sums[c]) for c in CAUSES if cause_sums.get(c)}
    top_lines = []
    for row in top_rows:
        (batch, number, kind, record, entity, activity, scope, category, a, b, delta,
         gross_cause, share_effect, gross_effect, in_a, in_b, factor_a, factor_b) = row  # fmt: skip
        causes = []
        if gross_effect or not (in_a and in_b):
            causes.append(gross_cause)
        if in_a and in_b and share_effect:
            causes.append("consolidation")
        top_lines.append(
            {
                "batch_id": batch,
                "row_number": int(number),
                "line_kind": kind,
                "record_id": record,
                "entity": entity,
                "activity": activity,
                "scope": int(scope),
                "scope3_category": None if category is None else int(category),
                "a_t": _t(a),
                "b_t": _t(b),
                "delta_t": _t(delta),
                "causes": causes,
                "factor_a": factor_a,
                "factor_b": factor_b,
            }
        )
    return RunDiff(
        run_a=run_a.run_id,
        run_b=run_b.run_id,
        options=_options(ma, mb),
        batches_added=[_why_added(batches_b[k]) for k in sorted(set(batches_b) - set(batches_a))],
        batches_removed=[
            _why_removed(batches_a[k], mb) for k in sorted(set(batches_a) - set(batches_b))
        ],
        reference_data=_reference(ma, mb),
        factor_sets=_factor_sets(ma, mb),
        totals=totals,
        by_cause=by_cause,
        by_scope_cause=by_scope_cause,
        lines={
            "matched": int(matched),
            "added": int(added),
            "removed": int(removed),
            "changed": int(changed),
        },
        top=top_lines,
    )
