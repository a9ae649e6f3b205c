"""Uncertainty of an inventory: factor uncertainty propagated to totals by Monte Carlo.

盘查不确定性：将排放因子的不确定性以蒙特卡洛模拟（向量化、可复现）传递到合计值。

IPCC 2006 Guidelines, Vol. 1, ch. 3 (Uncertainties): Approach 2 (Monte Carlo) propagates the
probability distribution of each input to the totals; Approach 1 (error propagation,
Eq. 3.1/3.2, ``U_total = sqrt(Σ (U_i·x_i)²) / |Σ x_i|`` for a sum of independent terms) is
what it reduces to for small, independent, normal uncertainties, and the tests check that.
The GHG Protocol's uncertainty guidance for corporate inventories follows the same
approaches.

Per line the uncertainty of its emission factor is

* **the source's own**, where the factor table gives ``uncertainty_pct`` (``U``: half-width
  of the 95 % interval relative to the value): a normal distribution with relative standard
  deviation ``U / 1.96`` while that is below 0.3 (the limit IPCC 2006 Vol. 1 ch. 3 gives
  for Approach 1), else a lognormal with the same mean and standard deviation
  (``σ_ln² = ln(1 + (U/1.96)²)``) so that no draw is negative — ``factor_distribution``
  can force either;
* **otherwise a default from the line's data-quality scores** (:mod:`.quality`), by the
  pedigree-matrix approach (Weidema & Wesnaes 1996; ecoinvent): each indicator's score maps
  to an uncertainty factor ``f_i`` (the square of a geometric standard deviation, i.e. the
  95 % factor), and with a basic uncertainty ``f_b`` the line's factor is lognormal with
  ``σ_ln = sqrt(ln(f_b)² + Σ ln(f_i)²) / 2``. The shipped ``f_i``
  (``esgledger/schema/uncertainty_defaults.csv``) are the empirically based pedigree
  factors of Ciroth, Muller, Weidema & Lesage (2016, Int J LCA 21:1338–1348) as
  implemented in the Brightway/Activity Browser pedigree module (not re-verified against
  the paper); Box 7.2's four levels map to pedigree levels 1, 2, 3 and 5. ``f_b = 1.05``
  is esgledger's choice (ecoinvent's basic uncertainty of combustion CO2). Both are
  configurable.

Activity data are taken as exact: only factor uncertainty is propagated.

**Correlation.** Lines that share a factor share its error: with ``correlated_factors``
one standard-normal draw per distinct ``factor_id`` and iteration drives every line of that
factor (in every group). Without it every line is independent; lines are then aggregated per
(factor, group) exactly for normal factors (variances add) and by moment matching
(Fenton–Wilkinson: same mean and variance) for lognormal ones.

**Vectorised.** Lines are first summed in DuckDB per (factor, distribution, group); numpy
then draws ``iterations × distinct factors`` (never × rows), in chunks that bound memory.
The same input and seed give the same numbers.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from esgledger.errors import InputError, Issue
from esgledger.inventory._duckdb import connect
from esgledger.inventory.quality import (
    DQ_COLUMNS,
    INDICATORS,
    SCALE,
    DataQualityRules,
    LineItems,
    _check_by,
    _columns,
    _connect_source,
    _prepare,
    load_rules,
)

__all__ = [
    "DEFAULTS_FILE",
    "DEFAULT_BASIC_UNCERTAINTY",
    "NORMAL_LIMIT",
    "Z_95",
    "default_sigma",
    "load_uncertainty_defaults",
    "monte_carlo",
    "uncertainty_summary",
]

#: The shipped pedigree factors per indicator and score.
DEFAULTS_FILE = "uncertainty_defaults.csv"
#: Basic uncertainty factor (95 % factor = GSD²) of a line whose scores are all 1:
#: esgledger's choice, ecoinvent's basic uncertainty of CO2 from combustion.
DEFAULT_BASIC_UNCERTAINTY = 1.05
#: Standard-normal quantile of 97.5 %: a 95 % half-width is Z_95 standard deviations.
Z_95 = 1.959963984540054
#: Relative standard deviation below which ``auto`` uses a normal distribution (IPCC 2006
#: Vol. 1 ch. 3: Approach 1 holds while the standard deviation divided by the mean is below
#: 0.3).
NORMAL_LIMIT = 0.3
#: Upper bound of the array elements drawn at once (iterations × cells).
_CHUNK_ELEMENTS = 2_000_000
_KG_PER_T = 1000.0
_FAMILIES = ("normal", "lognormal")


def _parse_defaults(text: str, source: str) -> dict[str, dict[int, float]]:
    out: dict[str, dict[int, float]] = {name: {} for name in INDICATORS}
    issues: list[Issue] = []
    for number, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        indicator = (row.get("indicator") or "").strip()
        if indicator not in out:
            issues.append(
                Issue(source, number, "indicator", indicator, "unknown indicator",
                      f"one of {', '.join(INDICATORS)}")
            )  # fmt: skip
            continue
        try:
            score = int(row.get("score") or "")
            factor = float(row.get("uncertainty_factor") or "")
        except ValueError:
            issues.append(
                Issue(source, number, None, None, "score or uncertainty_factor is not a number",
                      "score 1-4, uncertainty_factor >= 1")
            )  # fmt: skip
            continue
        if score not in SCALE or not factor >= 1.0:
            issues.append(
                Issue(source, number, "uncertainty_factor", str(factor),
                      "score must be 1-4 and the factor at least 1",
                      "the factor is a 95 % factor (GSD²), 1 = no added uncertainty")
            )  # fmt: skip
            continue
        out[indicator][score] = factor
    for indicator, scores in out.items():
        missing = [s for s in SCALE if s not in scores]
        if missing:
            issues.append(
                Issue(source, None, "score", indicator,
                      f"no factor for score(s) {', '.join(map(str, missing))} of {indicator}",
                      "give one row per indicator and score 1-4")
            )  # fmt: skip
    if issues:
        raise InputError(f"{source} was rejected: {len(issues)} issue(s)", issues)
    return out


@cache
def _shipped_defaults() -> Mapping[str, Mapping[int, float]]:
    text = resources.files("esgledger.schema").joinpath(DEFAULTS_FILE).read_text("utf-8")
    return _parse_defaults(text, DEFAULTS_FILE)


def load_uncertainty_defaults(path: Path | str | None = None) -> Mapping[str, Mapping[int, float]]:
    """Pedigree uncertainty factors [95 % factor, GSD²] per indicator and score (1-4).

    Parameters
    ----------
    path
        A CSV with columns ``indicator``, ``score``, ``uncertainty_factor`` (one row per
        indicator and score); None for ``esgledger/schema/uncertainty_defaults.csv``.

    Raises
    ------
    InputError
        If an indicator or score is unknown or missing, or a factor is below 1.
    """
    if path is None:
        return _shipped_defaults()
    p = Path(path)
    return _parse_defaults(p.read_text(encoding="utf-8"), p.name)


def default_sigma(
    scores: Mapping[str, int],
    *,
    defaults: Mapping[str, Mapping[int, float]] | None = None,
    basic_uncertainty: float = DEFAULT_BASIC_UNCERTAINTY,
) -> float:
    """σ of ln(factor) for a line with these data-quality scores (pedigree approach).

    ``σ_ln = sqrt(ln(f_b)² + Σ ln(f_i)²) / 2`` (the factors are 95 % factors, GSD²).

    Parameters
    ----------
    scores
        Score 1-4 of each of the five indicators.
    defaults
        Factors per indicator and score (:func:`load_uncertainty_defaults`).
    basic_uncertainty
        Basic uncertainty factor f_b [GSD², ≥ 1].
    """
    table = defaults if defaults is not None else load_uncertainty_defaults()
    total = math.log(basic_uncertainty) ** 2 + sum(
        math.log(table[name][int(scores[name])]) ** 2 for name in INDICATORS
    )
    return math.sqrt(total) / 2


def _sigma_sql(defaults: Mapping[str, Mapping[int, float]], basic: float) -> str:
    terms = [repr(math.log(basic) ** 2)]
    for name in INDICATORS:
        cases = " ".join(
            f"WHEN {score} THEN {math.log(factor) ** 2!r}"
            for score, factor in sorted(defaults[name].items())
        )
        terms.append(f"(CASE dq_{name} {cases} END)")
    return f"sqrt({' + '.join(terms)}) / 2"


def _cells_sql(
    by: Sequence[str],
    *,
    has_pct: bool,
    distribution: str,
    correlated: bool,
    sigma_default: str,
) -> str:
    u = "uncertainty_pct / 100.0" if has_pct else "NULL::DOUBLE"
    rel = f"({u}) / {Z_95!r}"
    if distribution == "normal":
        family = "'normal'"
    elif distribution == "lognormal":
        family = "'lognormal'"
    else:
        family = f"CASE WHEN {rel} < {NORMAL_LIMIT!r} THEN 'normal' ELSE 'lognormal' END"
    group = ", ".join(by)
    group_select = f"{group}, " if by else ""
    sign = ", sign(x) AS sgn" if not correlated else ", 1 AS sgn"
    rank = (
        f"dense_rank() OVER (ORDER BY {', '.join(f'{c} NULLS FIRST' for c in by)})" if by else "1"
    )
    return f"""
WITH lines AS (
    SELECT {group_select} factor_id, co2e_kg_consolidated AS x,
        CASE WHEN {u} IS NOT NULL THEN 'factor' ELSE 'default' END AS origin,
        CASE WHEN {u} IS NOT NULL THEN {family} ELSE 'lognormal' END AS family,
        CASE WHEN {u} IS NULL THEN {sigma_default}
             WHEN ({family}) = 'normal' THEN {rel}
             ELSE sqrt(ln(1 + ({rel}) * ({rel})))
        END AS s
    FROM _scored
    WHERE NOT excluded AND factor_id IS NOT NULL AND co2e_kg_consolidated IS NOT NULL
),
signed AS (SELECT *{sign} FROM lines),
cells AS (
    SELECT {group_select} factor_id, family, s, sgn,
        sum(x) AS x, sum(x * x) AS x2, count(*) AS n,
        sum(abs(x)) FILTER (WHERE origin = 'default') AS x_default
    FROM signed
    GROUP BY ALL
)
SELECT *, {rank} AS g FROM cells
ORDER BY g, factor_id, family, s, sgn
"""


def _multipliers(z: np.ndarray, lognormal: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Multipliers of mean 1, in place of ``z``: ``1 + s·z`` (normal) or
    ``exp(s·z − s²/2)`` (lognormal)."""
    z *= s
    if lognormal.all():
        z -= 0.5 * s * s
        np.exp(z, out=z)
    elif lognormal.any():
        z[:, lognormal] = np.exp(z[:, lognormal] - 0.5 * s[lognormal] ** 2)
        z[:, ~lognormal] += 1.0
    else:
        z += 1.0
    return z


def monte_carlo(
    line_items: LineItems,
    *,
    iterations: int = 10_000,
    seed: int = 0,
    by: Sequence[str] = ("scope",),
    correlated_factors: bool = True,
    factors: pa.Table | None = None,
    factor_distribution: str = "auto",
    defaults: Mapping[str, Mapping[int, float]] | None = None,
    basic_uncertainty: float = DEFAULT_BASIC_UNCERTAINTY,
    rules: DataQualityRules | None = None,
) -> pa.Table:
    """Propagate factor uncertainty to group totals by Monte Carlo (IPCC 2006 Vol. 1 ch. 3,
    Approach 2).

    Parameters
    ----------
    line_items
        The engine's line items (Arrow table, DuckDB relation or Parquet path), scored or not
        (unscored lines are scored as :func:`~esgledger.inventory.quality.score_line_items`
        does, for the default uncertainties).
    iterations
        Number of draws (≥ 2).
    seed
        Seed of numpy's default generator (PCG64): the same input and seed give the same
        result.
    by
        Line columns to group by; ``()`` for the inventory total.
    correlated_factors
        Lines sharing a ``factor_id`` share one draw (default); False makes every line
        independent.
    factors
        Factor table with ``factor_id`` and ``uncertainty_pct`` [%] (and ``region``, for the
        data-quality scores), e.g. ``FactorLibrary.as_arrow()``; without it (and without an
        ``uncertainty_pct`` column on the lines) every line gets the default by data quality.
    factor_distribution
        ``auto`` (normal below a relative standard deviation of 0.3, else lognormal),
        ``normal`` or ``lognormal``, for factors with ``uncertainty_pct``.
    defaults, basic_uncertainty
        Pedigree factors per indicator and score and the basic uncertainty factor [GSD²]
        for lines without ``uncertainty_pct`` (:func:`default_sigma`).
    rules
        Data-quality rules for scoring unscored lines (the shipped table by default).

    Returns
    -------
    pyarrow.Table
        One row per group: the ``by`` columns, ``lines``, ``co2e_t`` (deterministic total),
        ``mean_t``, ``median_t``, ``p2_5_t``, ``p97_5_t`` [t CO2e, consolidated],
        ``u95_low_pct`` and ``u95_high_pct`` [%: (total − p2.5) / total and
        (p97.5 − total) / total], ``default_uncertainty_share`` [fraction of |CO2e| whose
        uncertainty is a data-quality default], ``iterations`` and ``seed``.

    Raises
    ------
    ValueError
        If ``iterations`` < 2, ``factor_distribution`` is unknown, a ``by`` entry is not a
        column of the line items, or ``basic_uncertainty`` < 1.
    """
    if iterations < 2:
        raise ValueError(f"iterations must be at least 2, not {iterations}")
    if factor_distribution not in ("auto", *_FAMILIES):
        raise ValueError(
            f"factor_distribution must be auto, normal or lognormal, not {factor_distribution!r}"
        )
    if not basic_uncertainty >= 1.0:
        raise ValueError(f"basic_uncertainty is a 95 % factor (≥ 1), not {basic_uncertainty}")
    for column in by:
        if not column.isidentifier():
            raise ValueError(f"not a column name: {column!r}")
    table = defaults if defaults is not None else load_uncertainty_defaults()

    con = connect()
    try:
        _connect_source(con, line_items, "_in")
        columns = _columns(con, "_in")
        _check_by(by, columns)
        if not all(c in columns for c in DQ_COLUMNS):
            chosen = rules if rules is not None else load_rules()
            sql = _prepare(con, line_items, factors, chosen, ordered=False)
            con.execute(f"CREATE TEMP VIEW _scored0 AS {sql}")
        else:
            con.execute("CREATE TEMP VIEW _scored0 AS SELECT * FROM _in")
        has_pct = "uncertainty_pct" in columns
        if not has_pct and factors is not None and "uncertainty_pct" in factors.column_names:
            con.register("_factor_u", factors.select(["factor_id", "uncertainty_pct"]))
            con.execute(
                "CREATE TEMP VIEW _scored AS SELECT s.*, f.uncertainty_pct FROM _scored0 s "
                "LEFT JOIN _factor_u f ON f.factor_id = s.factor_id"
            )
            has_pct = True
        else:
            con.execute("CREATE TEMP VIEW _scored AS SELECT * FROM _scored0")
        cells = con.sql(
            _cells_sql(
                tuple(by),
                has_pct=has_pct,
                distribution=factor_distribution,
                correlated=correlated_factors,
                sigma_default=_sigma_sql(table, basic_uncertainty),
            )
        ).to_arrow_table()
    finally:
        con.close()
    return _simulate(cells, tuple(by), iterations, seed, correlated_factors)


def _simulate(
    cells: pa.Table, by: tuple[str, ...], iterations: int, seed: int, correlated: bool
) -> pa.Table:
    n_cells = cells.num_rows
    group_of = np.asarray(cells.column("g").to_numpy(zero_copy_only=False), dtype=np.int64) - 1
    x = np.asarray(cells.column("x").to_numpy(zero_copy_only=False), dtype=np.float64)
    x2 = np.asarray(cells.column("x2").to_numpy(zero_copy_only=False), dtype=np.float64)
    s = np.asarray(cells.column("s").to_numpy(zero_copy_only=False), dtype=np.float64)
    lognormal = np.asarray(
        [f == "lognormal" for f in cells.column("family").to_pylist()], dtype=bool
    )
    if not correlated and n_cells:
        # Independent lines: one draw per cell with the cell's aggregate spread.
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(x != 0, x2 / (x * x), 0.0)
        s = np.where(
            lognormal,
            np.sqrt(np.log1p(np.expm1(s * s) * ratio)),
            s * np.sqrt(ratio),
        )
    factor_ids = cells.column("factor_id").to_pylist()
    distinct, factor_index = np.unique(np.asarray(factor_ids, dtype=object), return_inverse=True)
    n_draw = len(distinct) if correlated else n_cells
    n_groups = int(group_of.max()) + 1 if n_cells else 0
    starts: np.ndarray = (
        np.flatnonzero(np.r_[True, group_of[1:] != group_of[:-1]])
        if n_cells
        else np.zeros(0, np.int64)
    )

    totals = np.zeros((iterations, n_groups))
    rng = np.random.default_rng(seed)
    chunk = max(1, min(iterations, _CHUNK_ELEMENTS // max(1, n_cells)))
    for begin in range(0, iterations, chunk):
        n = min(chunk, iterations - begin)
        if n_groups == 0:
            break
        z = rng.standard_normal((n, n_draw))
        zc = z[:, factor_index] if correlated else z
        contributions = _multipliers(zc, lognormal, s)
        contributions *= x
        totals[begin : begin + n] = np.add.reduceat(contributions, starts, axis=1)

    group_keys = _group_keys(cells, by, group_of, n_groups)
    deterministic = np.bincount(group_of, weights=x, minlength=n_groups)
    abs_total = np.bincount(group_of, weights=np.abs(x), minlength=n_groups)
    default = np.asarray(cells.column("x_default").fill_null(0.0).to_numpy(zero_copy_only=False))
    default_total = np.bincount(group_of, weights=default, minlength=n_groups)
    lines = np.bincount(
        group_of,
        weights=np.asarray(cells.column("n").to_numpy(zero_copy_only=False), dtype=np.float64),
        minlength=n_groups,
    )
    low, median, high = (
        np.percentile(totals, [2.5, 50.0, 97.5], axis=0)
        if n_groups
        else (np.zeros(0), np.zeros(0), np.zeros(0))
    )
    mean = totals.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        low_pct = np.where(deterministic != 0, (deterministic - low) / deterministic * 100, np.nan)
        high_pct = np.where(
            deterministic != 0, (high - deterministic) / deterministic * 100, np.nan
        )
        default_share = np.where(abs_total != 0, default_total / abs_total, np.nan)
    columns: dict[str, Any] = dict(group_keys)
    columns.update(
        {
            "lines": pa.array(lines.astype(np.int64)),
            "co2e_t": pa.array(deterministic / _KG_PER_T),
            "mean_t": pa.array(mean / _KG_PER_T),
            "median_t": pa.array(median / _KG_PER_T),
            "p2_5_t": pa.array(low / _KG_PER_T),
            "p97_5_t": pa.array(high / _KG_PER_T),
            "u95_low_pct": pa.array(low_pct, from_pandas=True),
            "u95_high_pct": pa.array(high_pct, from_pandas=True),
            "default_uncertainty_share": pa.array(default_share, from_pandas=True),
            "iterations": pa.array([iterations] * n_groups, pa.int64()),
            "seed": pa.array([seed] * n_groups, pa.int64()),
        }
    )
    return pa.table(columns)


def _group_keys(
    cells: pa.Table, by: tuple[str, ...], group_of: np.ndarray, n_groups: int
) -> dict[str, pa.Array]:
    """The ``by`` values of each group, in group order."""
    if not by:
        return {}
    first: np.ndarray = (
        np.flatnonzero(np.r_[True, group_of[1:] != group_of[:-1]])
        if n_groups
        else np.zeros(0, np.int64)
    )
    index = pa.array(first.astype(np.int64))
    return {name: cells.column(name).take(index) for name in by}


def _resource_sha256(name: str) -> str:
    import hashlib

    data = resources.files("esgledger.schema").joinpath(name).read_bytes()
    return hashlib.sha256(data).hexdigest()


def uncertainty_summary(
    line_items: LineItems,
    factors: pa.Table | None,
    *,
    run_id: str,
    by: Sequence[str],
    iterations: int = 10_000,
    seed: int = 0,
) -> dict[str, Any]:
    """The Monte Carlo result of a run as JSON-ready data (the contract of ``esgledger
    uncertainty --format json`` and of the inventory's uncertainty page): the groups, the
    total and what reproduces them (run id, seed, iterations, sha256 of the data-quality rules
    and of the pedigree defaults)."""
    from esgledger.inventory.quality import RULES_FILE

    group_by = tuple(by)
    groups = monte_carlo(
        line_items, iterations=iterations, seed=seed, by=group_by, factors=factors
    ).to_pylist()
    (total,) = monte_carlo(
        line_items, iterations=iterations, seed=seed, by=(), factors=factors
    ).to_pylist() or [None]
    rules = load_rules()
    return {
        "unit": "t CO2e",
        "run_id": run_id,
        "method": "Monte Carlo (IPCC 2006 Vol. 1 ch. 3, Approach 2); factor uncertainty only, "
        "lines sharing a factor share its draw; 95 % interval = 2.5th to 97.5th percentile",
        "iterations": iterations,
        "seed": seed,
        "by": list(group_by),
        "rules": {"source": rules.source, "sha256": rules.sha256, "file": RULES_FILE},
        "uncertainty_defaults": {
            "source": DEFAULTS_FILE,
            "sha256": _resource_sha256(DEFAULTS_FILE),
        },
        "groups": groups,
        "total": total,
    }
