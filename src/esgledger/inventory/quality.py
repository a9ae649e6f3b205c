"""Data quality of an inventory: the Scope 3 Standard's five indicators per line item.

数据质量：按《范围三标准》的五项数据质量指标（技术、时间、地理代表性、完整性、可靠性）为每条明细评分。

GHG Protocol Corporate Value Chain (Scope 3) Standard (2011), ch. 7, Table 7.6 (data quality
indicators) and Box 7.2 (sample scoring criteria, adapted from Weidema & Wesnaes 1996). Each
indicator is scored on the four levels of Box 7.2:

=====  ===========  =========================================================================
score  level        example criterion (time)
=====  ===========  =========================================================================
1      very good    < 3 years difference
2      good         < 6 years
3      fair         < 10 years
4      poor         > 10 years or unknown
=====  ===========  =========================================================================

Which level a line gets is decided by a **rule table**, shipped as data
(``esgledger/schema/data_quality_rules.csv``, documented rule by rule in
``docs/methodology/data-quality.md``), from what the line carries: its ``tier``, ``method``,
the factor's *origin* (``shipped`` official set, ``synthetic`` IPCC GWP or reported-emissions
identity factor, ``user`` set), the *region match* between the factor and the row, the
years between the factor and the reporting year (``greatest(|vintage_gap|,
|price_year_gap|)``) and flags such as ``gwp_basis_mismatch``. Within an indicator the first
``set`` rule that matches (by ``order``) gives the score; ``add`` rules then make it worse by
their score (at most 4).

Everything is one DuckDB query over the line items; Python only classifies the few distinct
(row region, factor region, tier) triples.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeAlias

import duckdb
import pyarrow as pa

from esgledger import regions
from esgledger.errors import InputError, Issue
from esgledger.factors.resolve import TIERS as RESOLVER_TIERS
from esgledger.inventory._duckdb import connect

__all__ = [
    "DQ_COLUMNS",
    "FLAG_COLUMNS",
    "INDICATORS",
    "INDICATOR_NAMES",
    "METHODS",
    "ORIGINS",
    "PRIMARY_METHODS",
    "PRIMARY_TIERS",
    "REGION_MATCHES",
    "RULES_FILE",
    "SCALE",
    "TIERS",
    "DataQualityRules",
    "data_quality_summary",
    "load_rules",
    "region_match",
    "rollup",
    "scope3_completeness",
    "score_line_items",
]

#: The five indicators (Scope 3 Standard Table 7.6), in the order of the score columns.
INDICATORS: tuple[str, ...] = (
    "technology",
    "temporal",
    "geography",
    "completeness",
    "reliability",
)
#: Names of the indicators in English and Chinese.
INDICATOR_NAMES: dict[str, tuple[str, str]] = {
    "technology": ("Technological representativeness", "技术代表性"),
    "temporal": ("Temporal representativeness", "时间代表性"),
    "geography": ("Geographical representativeness", "地理代表性"),
    "completeness": ("Completeness", "完整性"),
    "reliability": ("Reliability", "可靠性"),
}
#: The score columns added by :func:`score_line_items` (``dq_score`` is their mean).
DQ_COLUMNS: tuple[str, ...] = (*(f"dq_{name}" for name in INDICATORS), "dq_score")
#: Box 7.2 levels: score → (English, Chinese).
SCALE: dict[int, tuple[str, str]] = {
    1: ("very good", "很好"),
    2: ("good", "好"),
    3: ("fair", "一般"),
    4: ("poor", "差"),
}
_WORST = max(SCALE)
#: Tiers a line can carry: the resolver's (``proxy``, a factor of another region used as a
#: flagged proxy, is scored as region match ``other``).
TIERS: tuple[str, ...] = RESOLVER_TIERS
#: Methods a rule may name (``(none)`` matches a factor without method).
METHODS: tuple[str, ...] = (
    "location",
    "residual_mix",
    "market_reporting",
    "fossil_only",
    "supplier",
    "spend",
    "distance",
    "distance_rf",
    "fuel",
    "waste",
    "average",
    "reported",
    "lifecycle",
    "td_losses",
    "wtt",
    "wtt_td_losses",
    "gwp",
    "(none)",
)
#: Where the factor comes from: an official set shipped with esgledger, a synthetic factor
#: (IPCC GWP of a gas, identity factor of reported emissions) or a user set.
ORIGINS: tuple[str, ...] = ("shipped", "synthetic", "user")
#: How the factor's region relates to the row's region (see :func:`region_match`).
REGION_MATCHES: tuple[str, ...] = (
    "same", "parent", "global", "default", "other", "own", "gas", "unknown",
)  # fmt: skip
#: Boolean line columns an ``add`` rule may name as its flag. Line items without one of them
#: (runs made before the flag existed) are scored as if it were false.
FLAG_COLUMNS: tuple[str, ...] = ("gwp_basis_mismatch", "overlap_suspect")
#: Primary data (Scope 3 Standard ch. 7: data from specific activities in the value chain):
#: lines of these tiers or methods.
PRIMARY_TIERS: tuple[str, ...] = ("supplier", "site")
PRIMARY_METHODS: tuple[str, ...] = ("supplier", "reported")
#: The shipped rule table.
RULES_FILE = "data_quality_rules.csv"
_RULE_COLUMNS: tuple[str, ...] = (
    "indicator",
    "order",
    "tier",
    "method",
    "origin",
    "region_match",
    "years_min",
    "years_max",
    "flag",
    "effect",
    "score",
    "criterion",
    "rationale",
    "rationale_zh",
)
_SYNTHETIC_SETS = ("reported_emissions",)
_SYNTHETIC_PREFIXES = ("ipcc-gwp",)
_REQUIRED = (
    "tier",
    "method",
    "factor_set",
    "vintage_gap",
    "price_year_gap",
    "region",
    "excluded",
    "co2e_kg_consolidated",
    "scope",
    "scope3_category",
)
_KG_PER_T = 1000.0
#: Columns :func:`score_line_items` adds besides :data:`DQ_COLUMNS`.
_OUTPUT_COLUMNS = ("region_match", "factor_origin", "primary_data")

LineItems: TypeAlias = pa.Table | duckdb.DuckDBPyRelation | Path | str


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the rule table (see the module docstring)."""

    indicator: str
    order: int
    tier: tuple[str, ...] | None
    method: tuple[str, ...] | None
    origin: tuple[str, ...] | None
    region_match: tuple[str, ...] | None
    years_min: int | None
    years_max: int | None
    flag: str | None
    effect: str
    score: int
    criterion: str
    rationale: str
    rationale_zh: str


@dataclass(frozen=True, slots=True)
class DataQualityRules:
    """A validated rule table.

    Attributes
    ----------
    rules
        The rules, by indicator and order.
    source
        Where they came from (file name).
    sha256
        sha256 of the rule file's bytes: record it with the results.
    """

    rules: tuple[Rule, ...]
    source: str
    sha256: str

    def for_indicator(self, indicator: str, effect: str) -> list[Rule]:
        return sorted(
            (r for r in self.rules if r.indicator == indicator and r.effect == effect),
            key=lambda r: r.order,
        )

    def as_arrow(self) -> pa.Table:
        """The rules as a table (lists joined with ``|``; ``*`` for any), for reports."""
        rows = [
            {
                "indicator": r.indicator,
                "order": r.order,
                "tier": "|".join(r.tier) if r.tier else "*",
                "method": "|".join(r.method) if r.method else "*",
                "origin": "|".join(r.origin) if r.origin else "*",
                "region_match": "|".join(r.region_match) if r.region_match else "*",
                "years_min": r.years_min,
                "years_max": r.years_max,
                "flag": r.flag,
                "effect": r.effect,
                "score": r.score,
                "criterion": r.criterion,
                "rationale": r.rationale,
                "rationale_zh": r.rationale_zh,
            }
            for r in sorted(self.rules, key=lambda r: (INDICATORS.index(r.indicator), r.order))
        ]
        return pa.Table.from_pylist(rows)


def _parse_list(
    text: str, allowed: Sequence[str], column: str, row: int, file: str, issues: list[Issue]
) -> tuple[str, ...] | None:
    text = text.strip()
    if text in ("", "*"):
        return None
    values = tuple(v.strip() for v in text.split("|"))
    bad = [v for v in values if v not in allowed]
    if bad:
        issues.append(
            Issue(
                file,
                row,
                column,
                text,
                f"unknown {column} {', '.join(repr(b) for b in bad)}",
                f"use * or values separated by |, from: {', '.join(allowed)}",
            )
        )
    return values


def _parse_int(text: str, column: str, row: int, file: str, issues: list[Issue]) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        issues.append(Issue(file, row, column, text, "not a whole number", "e.g. 3"))
        return None


def _parse_rules(text: str, source: str) -> DataQualityRules:
    issues: list[Issue] = []
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in _RULE_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(
            f"{source} is not a data-quality rule table",
            [
                Issue(
                    source,
                    1,
                    None,
                    None,
                    f"missing column(s): {', '.join(missing)}",
                    f"the header must be: {','.join(_RULE_COLUMNS)}",
                )
            ],
        )
    rules: list[Rule] = []
    for number, raw in enumerate(reader, start=2):
        row = {k: (v or "") for k, v in raw.items()}
        indicator = row["indicator"].strip()
        if indicator not in INDICATORS:
            issues.append(
                Issue(
                    source, number, "indicator", indicator, "unknown indicator",
                    f"one of {', '.join(INDICATORS)}",
                )
            )  # fmt: skip
        effect = row["effect"].strip()
        if effect not in ("set", "add"):
            issues.append(Issue(source, number, "effect", effect, "unknown effect", "set or add"))
        order = _parse_int(row["order"], "order", number, source, issues)
        score = _parse_int(row["score"], "score", number, source, issues)
        if score is not None:
            low, high = (1, _WORST) if effect == "set" else (1, _WORST - 1)
            if not low <= score <= high:
                issues.append(
                    Issue(
                        source, number, "score", str(score),
                        f"a {effect} rule's score must be {low} to {high}",
                        "1 (very good) to 4 (poor); an add rule adds 1 to 3",
                    )
                )  # fmt: skip
        flag = row["flag"].strip() or None
        if flag is not None and flag not in FLAG_COLUMNS:
            issues.append(
                Issue(
                    source, number, "flag", flag, "unknown flag",
                    f"one of {', '.join(FLAG_COLUMNS)}",
                )
            )  # fmt: skip
        if effect == "add" and flag is None:
            issues.append(
                Issue(source, number, "flag", "", "an add rule needs a flag", FLAG_COLUMNS[0])
            )
        rules.append(
            Rule(
                indicator=indicator,
                order=order if order is not None else 0,
                tier=_parse_list(row["tier"], TIERS, "tier", number, source, issues),
                method=_parse_list(row["method"], METHODS, "method", number, source, issues),
                origin=_parse_list(row["origin"], ORIGINS, "origin", number, source, issues),
                region_match=_parse_list(
                    row["region_match"], REGION_MATCHES, "region_match", number, source, issues
                ),
                years_min=_parse_int(row["years_min"], "years_min", number, source, issues),
                years_max=_parse_int(row["years_max"], "years_max", number, source, issues),
                flag=flag,
                effect=effect,
                score=score if score is not None else 0,
                criterion=row["criterion"].strip(),
                rationale=row["rationale"].strip(),
                rationale_zh=row["rationale_zh"].strip(),
            )
        )
    for indicator in INDICATORS:
        catch_all = [
            r
            for r in rules
            if r.indicator == indicator
            and r.effect == "set"
            and r.tier is r.method is r.origin is r.region_match is None
            and r.years_min is None
            and r.years_max is None
        ]
        if not catch_all:
            issues.append(
                Issue(
                    source, None, "indicator", indicator,
                    f"indicator {indicator} has no catch-all set rule (* everywhere, no years)",
                    "end each indicator with a rule that matches every line",
                )
            )  # fmt: skip
    if issues:
        raise InputError(f"{source} was rejected: {len(issues)} issue(s) in the rule table", issues)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return DataQualityRules(rules=tuple(rules), source=source, sha256=digest)


@cache
def _shipped_rules() -> DataQualityRules:
    text = resources.files("esgledger.schema").joinpath(RULES_FILE).read_text("utf-8")
    return _parse_rules(text, RULES_FILE)


def load_rules(path: Path | str | None = None) -> DataQualityRules:
    """The data-quality rule table: the shipped one, or a user's file of the same columns.

    Parameters
    ----------
    path
        A CSV with the columns of ``esgledger/schema/data_quality_rules.csv``; None for the
        shipped table.

    Raises
    ------
    InputError
        If the file has unknown indicators, tiers, methods, origins, region matches or flags,
        scores outside 1-4, or an indicator without a catch-all rule (every issue listed with
        its spreadsheet row).
    """
    if path is None:
        return _shipped_rules()
    p = Path(path)
    return _parse_rules(p.read_text(encoding="utf-8"), p.name)


# ---- region match -------------------------------------------------------------------------


def _chain(code: str) -> tuple[str, ...] | None:
    try:
        return regions.chain(code)
    except KeyError:
        return None


def _kind(code: str) -> str | None:
    try:
        return regions.kind_of(code)
    except KeyError:
        return None


_SUBNATIONAL = frozenset({"province", "grid_region", "egrid_subregion"})


def region_match(
    region: str | None, factor_region: str | None, tier: str | None, method: str | None
) -> str | None:
    """How a factor's region relates to the row's region (one of :data:`REGION_MATCHES`).

    ``own`` for supplier- and site-specific factors and reported emissions (the partner's own
    data), ``gas`` for IPCC GWP factors, ``default`` for the ``default`` tier (a factor of
    another area that the workspace profile names as the documented default for the
    activity), ``other`` for the ``proxy`` tier; otherwise, with the
    factor's region known: ``same`` (equal), ``parent`` (a larger area that contains the row's
    region, not GLOBAL), ``global`` (GLOBAL for a row elsewhere), ``other`` (a region that
    does not contain it). Without the factor's region it is inferred from the tier, and an
    ambiguous subnational tier (a province whose chain holds a grid region too) counts as
    ``parent`` (the worse of the two). ``unknown`` when the row has no region or an explicit
    factor's region is not known. None for an excluded line (no tier).
    """
    if tier is None:
        return None
    if tier in PRIMARY_TIERS or method == "reported":
        return "own"
    if method == "gwp":
        return "gas"
    if tier == "proxy":
        return "other"
    if tier == "default":
        return "default"
    if region is None:
        return "unknown"
    row = region.upper()
    if factor_region is not None:
        fac = factor_region.upper()
        if fac == row:
            return "same"
        chain = _chain(row)
        if chain is None:
            return "unknown"
        if fac not in chain:
            return "other"
        return "global" if fac == "GLOBAL" else "parent"
    chain = _chain(row)
    kind = _kind(row)
    if chain is None or kind is None or tier == "explicit":
        return "unknown"
    if tier == "global":
        return "same" if row == "GLOBAL" else "global"
    if tier == "country":
        return "same" if kind == "country" else "parent"
    if tier == "subnational":
        if kind not in _SUBNATIONAL:
            return "unknown"  # pragma: no cover - the resolver never returns this
        above = [c for c in chain[1:] if _kind(c) in _SUBNATIONAL]
        return "parent" if above else "same"
    return "unknown"


# ---- scoring ------------------------------------------------------------------------------


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _in(column: str, values: Iterable[str]) -> str:
    return f"{column} IN ({', '.join(_sql_text(v) for v in values)})"


def _condition(rule: Rule) -> str:
    parts: list[str] = []
    if rule.tier:
        parts.append(_in("tier", rule.tier))
    if rule.method:
        named = [m for m in rule.method if m != "(none)"]
        alts = ([_in("method", named)] if named else []) + (
            ["method IS NULL"] if "(none)" in rule.method else []
        )
        parts.append("(" + " OR ".join(alts) + ")")
    if rule.origin:
        parts.append(_in("_origin", rule.origin))
    if rule.region_match:
        parts.append(_in("region_match", rule.region_match))
    if rule.years_min is not None:
        parts.append(f"_years >= {int(rule.years_min)}")
    if rule.years_max is not None:
        parts.append(f"_years < {int(rule.years_max)}")
    if rule.flag is not None:
        parts.append(f"coalesce({rule.flag}, false)")
    return " AND ".join(parts) if parts else "true"


def _indicator_sql(rules: DataQualityRules, indicator: str) -> str:
    cases = " ".join(
        f"WHEN {_condition(r)} THEN {int(r.score)}" for r in rules.for_indicator(indicator, "set")
    )
    base = f"CASE {cases} END"
    adds = [
        f"CASE WHEN {_condition(r)} THEN {int(r.score)} ELSE 0 END"
        for r in rules.for_indicator(indicator, "add")
    ]
    expr = f"least({_WORST}, {' + '.join([base, *adds])})" if adds else base
    return f"CASE WHEN excluded THEN NULL ELSE CAST({expr} AS TINYINT) END AS dq_{indicator}"


def _shipped_set_ids() -> list[str]:
    from esgledger.factors.sources._common import shipped_set_ids

    return shipped_set_ids()


def _origin_sql() -> str:
    synthetic = " OR ".join(
        [_in("factor_set", _SYNTHETIC_SETS)]
        + [f"starts_with(factor_set, {_sql_text(p)})" for p in _SYNTHETIC_PREFIXES]
    )
    shipped = _in("factor_set", _shipped_set_ids() or ["(none)"])
    return (
        f"CASE WHEN factor_set IS NULL THEN NULL WHEN {synthetic} THEN 'synthetic' "
        f"WHEN {shipped} THEN 'shipped' ELSE 'user' END"
    )


def _connect_source(
    con: duckdb.DuckDBPyConnection, line_items: LineItems, name: str, *, position: bool = False
) -> None:
    """Make ``line_items`` the view ``name`` of ``con`` (with ``_pos``, the 0-based line
    position, when ``position``)."""
    if isinstance(line_items, str | Path):
        path = _sql_text(str(line_items))
        if position:
            con.execute(
                f"CREATE TEMP VIEW {name} AS SELECT * EXCLUDE (file_row_number), "
                f"file_row_number AS _pos FROM read_parquet({path}, file_row_number = true)"
            )
        else:
            con.execute(f"CREATE TEMP VIEW {name} AS SELECT * FROM read_parquet({path})")
        return
    table = line_items if isinstance(line_items, pa.Table) else line_items.to_arrow_table()
    if position:
        table = table.append_column("_pos", pa.array(range(table.num_rows), pa.int64()))
    con.register(f"{name}_arrow", table)
    con.execute(f"CREATE TEMP VIEW {name} AS SELECT * FROM {name}_arrow")


def _columns(con: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    return [str(row[0]) for row in con.execute(f"DESCRIBE {name}").fetchall()]


def _factor_regions(factors: pa.Table | None) -> pa.Table | None:
    if factors is None:
        return None
    return factors.select(["factor_id", "region"]).rename_columns(["factor_id", "factor_region"])


def _region_match_table(con: duckdb.DuckDBPyConnection, has_factor_region: bool) -> pa.Table:
    """region_match for each distinct (region, factor_region, tier, method) of the lines."""
    factor_region = "factor_region" if has_factor_region else "NULL::VARCHAR"
    rows = con.execute(
        f"SELECT DISTINCT region, {factor_region} AS factor_region, tier, "
        "CASE WHEN method IN ('reported', 'gwp') THEN method END AS method_class "
        "FROM _lines WHERE tier IS NOT NULL"
    ).fetchall()
    matches = [region_match(r, f, t, m) for r, f, t, m in rows]
    return pa.table(
        {
            "region": pa.array([r[0] for r in rows], pa.string()),
            "factor_region": pa.array([r[1] for r in rows], pa.string()),
            "tier": pa.array([r[2] for r in rows], pa.string()),
            "method_class": pa.array([r[3] for r in rows], pa.string()),
            "region_match": pa.array(matches, pa.string()),
        }
    )


def _scored_sql(rules: DataQualityRules, has_factor_region: bool, *, ordered: bool) -> str:
    factor_region = "l.factor_region" if has_factor_region else "NULL::VARCHAR"
    indicators = ",\n    ".join(_indicator_sql(rules, i) for i in INDICATORS)
    mean = " + ".join(f"dq_{i}" for i in INDICATORS)
    primary = f"({_in('tier', PRIMARY_TIERS)} OR {_in('method', PRIMARY_METHODS)})"
    return f"""
WITH base AS (
    SELECT l.*, m.region_match,
        {_origin_sql()} AS _origin,
        CASE WHEN l.vintage_gap IS NOT NULL
            THEN greatest(abs(l.vintage_gap), coalesce(abs(l.price_year_gap), 0))
        END AS _years
    FROM _lines l
    LEFT JOIN _matches m ON m.region IS NOT DISTINCT FROM l.region
        AND m.factor_region IS NOT DISTINCT FROM {factor_region}
        AND m.tier IS NOT DISTINCT FROM l.tier
        AND m.method_class IS NOT DISTINCT FROM
            (CASE WHEN l.method IN ('reported', 'gwp') THEN l.method END)
),
scored AS (
    SELECT *,
    {indicators},
    CASE WHEN excluded THEN NULL ELSE coalesce({primary}, false) END AS primary_data
    FROM base
)
SELECT * EXCLUDE (_origin, _years{", _pos" if ordered else ""}), _origin AS factor_origin,
    CAST(({mean}) AS DOUBLE) / {len(INDICATORS)} AS dq_score
FROM scored
{"ORDER BY _pos" if ordered else ""}
"""


def _prepare(
    con: duckdb.DuckDBPyConnection,
    line_items: LineItems,
    factors: pa.Table | None,
    rules: DataQualityRules,
    *,
    ordered: bool = True,
) -> str:
    """Register the line items as ``_lines`` (with ``factor_region`` when known) and the
    region matches; return the scoring SQL (in the input's order when ``ordered``)."""
    _connect_source(con, line_items, "_raw", position=ordered)
    columns = _columns(con, "_raw")
    missing = [c for c in _REQUIRED if c not in columns]
    flags = sorted({r.flag for r in rules.rules if r.flag is not None} - set(columns))
    if missing:
        raise InputError(
            "these line items cannot be scored: missing column(s) " + ", ".join(missing),
            [
                Issue(
                    "line items", None, c, None, "missing column",
                    "pass the engine's line items (esgledger.inventory.LINE_ITEM_COLUMNS)",
                )
                for c in missing
            ],
        )  # fmt: skip
    produced = [c for c in (*_OUTPUT_COLUMNS, *DQ_COLUMNS) if c in columns]
    absent = "".join(f', false AS "{f}"' for f in flags)  # flags a run did not have yet
    if produced:  # scoring scored lines again: the new scores replace the old
        quoted = ", ".join(f'"{c}"' for c in produced)
        con.execute(f"CREATE TEMP VIEW _raw2 AS SELECT * EXCLUDE ({quoted}){absent} FROM _raw")
    else:
        con.execute(f"CREATE TEMP VIEW _raw2 AS SELECT *{absent} FROM _raw")
    regions_table = _factor_regions(factors)
    if "factor_region" in columns:
        con.execute("CREATE TEMP VIEW _lines AS SELECT * FROM _raw2")
        has_region = True
    elif regions_table is not None:
        con.register("_factor_regions", regions_table)
        con.execute(
            "CREATE TEMP VIEW _lines AS SELECT r.*, f.factor_region FROM _raw2 r "
            "LEFT JOIN _factor_regions f ON f.factor_id = r.factor_id"
        )
        has_region = True
    else:
        con.execute("CREATE TEMP VIEW _lines AS SELECT * FROM _raw2")
        has_region = False
    con.register("_matches", _region_match_table(con, has_region))
    return _scored_sql(rules, has_region, ordered=ordered)


def score_line_items(
    line_items: LineItems,
    *,
    factors: pa.Table | None = None,
    rules: DataQualityRules | Path | str | None = None,
) -> pa.Table:
    """Score every line item on the five data-quality indicators.

    GHG Protocol Scope 3 Standard (2011), Table 7.6 and Box 7.2; the rules of
    ``esgledger/schema/data_quality_rules.csv`` (``docs/methodology/data-quality.md``).

    Parameters
    ----------
    line_items
        The engine's line items: an Arrow table, a DuckDB relation, or the path of a
        ``line_items.parquet``.
    factors
        The factor table (``FactorLibrary.as_arrow()``: ``factor_id``, ``region``), to know
        each factor's region exactly. Without it (and without a ``factor_region`` column on
        the lines) the region match is inferred from the tier (see :func:`region_match`).
    rules
        A :class:`DataQualityRules`, the path of a rule CSV, or None for the shipped table.

    Returns
    -------
    pyarrow.Table
        The line items, in their order, with ``region_match``, ``factor_origin``,
        ``dq_technology``, ``dq_temporal``, ``dq_geography``, ``dq_completeness``,
        ``dq_reliability`` (int8, 1 very good … 4 poor), ``primary_data`` (bool) and
        ``dq_score`` [mean of the five, 1-4]. Excluded lines have null scores.

    Raises
    ------
    InputError
        If a column the rules need is missing, or a rule file is invalid.
    """
    chosen = rules if isinstance(rules, DataQualityRules) else load_rules(rules)
    con = connect(ordered=True)
    try:
        sql = _prepare(con, line_items, factors, chosen)
        return con.sql(sql).to_arrow_table()
    finally:
        con.close()


def _ensure_scored(
    scored: LineItems, factors: pa.Table | None = None, rules: DataQualityRules | None = None
) -> tuple[duckdb.DuckDBPyConnection, str]:
    """A connection with the view ``_scored``: the input if it has the scores, else scored."""
    con = connect()
    _connect_source(con, scored, "_in")
    if all(c in _columns(con, "_in") for c in (*DQ_COLUMNS, "primary_data")):
        con.execute("CREATE TEMP VIEW _scored AS SELECT * FROM _in")
        return con, "_scored"
    con.close()
    con = connect()
    sql = _prepare(
        con, scored, factors, rules if rules is not None else load_rules(), ordered=False
    )
    con.execute(f"CREATE TEMP VIEW _scored AS {sql}")
    return con, "_scored"


def _rollup_sql(source: str, by: Sequence[str]) -> str:
    weight = "abs(co2e_kg_consolidated)"
    keep = "NOT excluded"
    weighted = ",\n    ".join(
        f"sum({weight} * {c}) FILTER (WHERE {keep}) / "
        f"nullif(sum({weight}) FILTER (WHERE {keep}), 0) AS {c}"
        for c in DQ_COLUMNS
    )
    tiers = ",\n    ".join(
        f"coalesce(sum({weight}) FILTER (WHERE {keep} AND tier = {_sql_text(t)}), 0) / "
        f"nullif(sum({weight}) FILTER (WHERE {keep}), 0) AS co2e_share_{t},\n    "
        f"count(*) FILTER (WHERE {keep} AND tier = {_sql_text(t)}) / "
        f"nullif(count(*) FILTER (WHERE {keep}), 0) AS lines_share_{t}"
        for t in TIERS
    )
    group = ", ".join(by)
    select_group = f"{group}, " if by else ""
    tail = f"GROUP BY {group} ORDER BY {group} NULLS FIRST" if by else ""
    return f"""
SELECT {select_group}
    count(*) FILTER (WHERE {keep}) AS lines,
    count(*) FILTER (WHERE excluded) AS excluded_lines,
    coalesce(sum(co2e_kg_consolidated) FILTER (WHERE {keep}), 0) / {_KG_PER_T} AS co2e_t,
    {weighted},
    coalesce(sum({weight}) FILTER (WHERE {keep} AND primary_data), 0) /
        nullif(sum({weight}) FILTER (WHERE {keep}), 0) AS primary_share_co2e,
    {tiers}
FROM {source}
{tail}
"""


def _check_by(by: Sequence[str], columns: Sequence[str]) -> None:
    unknown = [c for c in by if c not in columns]
    if unknown:
        raise ValueError(
            f"cannot group by {', '.join(map(repr, unknown))}: not a column of the line items"
        )


def rollup(
    scored: LineItems,
    by: Sequence[str] = ("scope", "scope3_category"),
    *,
    factors: pa.Table | None = None,
) -> pa.Table:
    """Emission-weighted data-quality scores per group.

    Scope 3 Standard ch. 7 (data quality of the inventory) and ch. 11 (disclosure of the share
    of emissions calculated with data from suppliers or other value-chain partners).

    Parameters
    ----------
    scored
        Output of :func:`score_line_items` (or raw line items, which are scored first with the
        shipped rules).
    by
        Line columns to group by; ``()`` for one row over everything.
    factors
        Passed to :func:`score_line_items` when ``scored`` has no scores yet.

    Returns
    -------
    pyarrow.Table
        Per group: ``lines`` (not excluded), ``excluded_lines``, ``co2e_t`` [t CO2e,
        consolidated], the weighted mean of each ``dq_*`` column (weights
        ``|co2e_kg_consolidated|`` of the lines that are not excluded; null when they sum to
        zero), ``primary_share_co2e`` [fraction], and per tier ``co2e_share_<tier>`` and
        ``lines_share_<tier>`` [fractions].
    """
    for column in by:
        if not column.isidentifier():
            raise ValueError(f"not a column name: {column!r}")
    con, source = _ensure_scored(scored, factors)
    try:
        _check_by(by, _columns(con, source))
        return con.sql(_rollup_sql(source, tuple(by))).to_arrow_table()
    finally:
        con.close()


def _entry(row: Mapping[str, Any]) -> dict[str, Any]:
    secondary = None if row["primary_share_co2e"] is None else 1.0 - row["primary_share_co2e"]
    return {
        "co2e_t": row["co2e_t"],
        "lines": int(row["lines"]),
        "excluded_lines": int(row["excluded_lines"]),
        "scores": {
            **{name: row[f"dq_{name}"] for name in INDICATORS},
            "overall": row["dq_score"],
        },
        "primary_data_share": row["primary_share_co2e"],
        "secondary_data_share": secondary,
        "co2e_share_by_tier": {t: row[f"co2e_share_{t}"] for t in TIERS if row[f"lines_share_{t}"]},
        "lines_share_by_tier": {
            t: row[f"lines_share_{t}"] for t in TIERS if row[f"lines_share_{t}"]
        },
    }


def scope3_completeness(scored: LineItems) -> pa.Table:
    """All fifteen scope 3 categories and whether the inventory reports any emissions in them.

    Scope 3 Standard ch. 6 and 11 (companies account for all relevant categories and disclose
    and justify any exclusion): the report lists every category with its status.

    Returns
    -------
    pyarrow.Table
        ``category`` ("1" … "15"), ``name``, ``name_zh``, ``lines`` (not excluded),
        ``excluded_lines``, ``co2e_t`` [t CO2e, consolidated] and ``status``: ``reported``
        when at least one line that is not excluded falls in it, else ``not reported``.
    """
    con = connect()
    try:
        _connect_source(con, scored, "_in")
        return _completeness(con, "_in")
    finally:
        con.close()


def _completeness(con: duckdb.DuckDBPyConnection, source: str) -> pa.Table:
    """:func:`scope3_completeness` of the view ``source`` of ``con``: one aggregate query,
    at most fifteen rows fetched."""
    from esgledger.inventory.runs import SCOPE3_CATEGORIES, SCOPE3_CATEGORY_NAMES

    counts = {
        str(int(category)): (int(lines), int(excluded), float(co2e))
        for category, lines, excluded, co2e in con.execute(
            f"""
            SELECT scope3_category, count(*) FILTER (WHERE NOT excluded),
                count(*) FILTER (WHERE excluded),
                coalesce(sum(co2e_kg_consolidated) FILTER (WHERE NOT excluded), 0)
                    / {_KG_PER_T}
            FROM {source} WHERE scope = 3 AND scope3_category IS NOT NULL GROUP BY 1
            """
        ).fetchall()
    }
    rows = []
    for category in SCOPE3_CATEGORIES:
        lines, excluded, co2e = counts.get(category, (0, 0, 0.0))
        name, name_zh = SCOPE3_CATEGORY_NAMES[category]
        rows.append(
            {
                "category": category,
                "name": name,
                "name_zh": name_zh,
                "lines": lines,
                "excluded_lines": excluded,
                "co2e_t": co2e,
                "status": "reported" if lines else "not reported",
            }
        )
    return pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("category", pa.string()),
                ("name", pa.string()),
                ("name_zh", pa.string()),
                ("lines", pa.int64()),
                ("excluded_lines", pa.int64()),
                ("co2e_t", pa.float64()),
                ("status", pa.string()),
            ]
        ),
    )


def data_quality_summary(
    scored: LineItems,
    *,
    factors: pa.Table | None = None,
    rules: DataQualityRules | None = None,
) -> dict[str, Any]:
    """The data quality of an inventory as JSON-ready data, for the inventory JSON and reports.

    Returns
    -------
    dict
        ``basis`` (what the weights are), ``scale`` ("1" … "4" → level names in English and
        Chinese), ``indicators`` (names), ``rules`` (file and sha256 of the rule table),
        ``overall``, ``by_scope`` ("1", "2", "3") and ``scope3_by_category`` ("1" … "15", all
        present): each with ``co2e_t`` [t CO2e], ``lines``, ``excluded_lines``, ``scores``
        (the five indicators and ``overall``, emission-weighted, null without emissions),
        ``primary_data_share`` and ``secondary_data_share`` [fractions of CO2e] and
        ``co2e_share_by_tier``; the categories also carry ``name``, ``name_zh`` and
        ``status`` (``reported`` / ``not reported``); ``overlap_suspect``: ``lines`` and
        ``co2e_t`` [t CO2e, consolidated] of the lines whose activity row overlaps another
        (their reliability is scored one step worse).
    """
    from esgledger.inventory.runs import SCOPE3_CATEGORIES

    used = rules if rules is not None else load_rules()
    con, source = _ensure_scored(scored, factors, used)
    try:
        overall = con.sql(_rollup_sql(source, ())).to_arrow_table().to_pylist()[0]
        by_scope = con.sql(_rollup_sql(source, ("scope",))).to_arrow_table().to_pylist()
        by_category = (
            con.sql(_rollup_sql(f"(SELECT * FROM {source} WHERE scope = 3)", ("scope3_category",)))
            .to_arrow_table()
            .to_pylist()
        )
        # Aggregated in the same plan: the lines never cross into Python.
        completeness = _completeness(con, source)
        overlap = con.execute(
            f"SELECT count(*), sum(co2e_kg_consolidated) / 1000.0 FROM {source} "
            "WHERE overlap_suspect AND NOT excluded"
        ).fetchone()
    finally:
        con.close()
    scopes = {str(int(r["scope"])): _entry(r) for r in by_scope if r["scope"] is not None}
    categories_found = {
        str(int(r["scope3_category"])): r for r in by_category if r["scope3_category"] is not None
    }
    status = {row["category"]: row for row in completeness.to_pylist()}
    empty = _entry(
        {
            "co2e_t": 0.0,
            "lines": 0,
            "excluded_lines": 0,
            **dict.fromkeys(DQ_COLUMNS),
            "primary_share_co2e": None,
            **{f"co2e_share_{t}": None for t in TIERS},
            **{f"lines_share_{t}": None for t in TIERS},
        }
    )
    categories: dict[str, Any] = {}
    for category in SCOPE3_CATEGORIES:
        found = categories_found.get(category)
        entry = _entry(found) if found is not None else dict(empty)
        info = status[category]
        categories[category] = {
            "name": info["name"],
            "name_zh": info["name_zh"],
            "status": info["status"],
            **entry,
        }
    return {
        "basis": "emission-weighted (|consolidated CO2e| of the lines that are not excluded); "
        "scores 1 very good to 4 poor, GHG Protocol Scope 3 Standard Table 7.6 and Box 7.2",
        "scale": {str(k): {"en": en, "zh": zh} for k, (en, zh) in SCALE.items()},
        "indicators": {k: {"en": en, "zh": zh} for k, (en, zh) in INDICATOR_NAMES.items()},
        "rules": {"source": used.source, "sha256": used.sha256},
        "overall": _entry(overall),
        "by_scope": scopes,
        "scope3_by_category": categories,
        # Lines whose activity row overlaps another row (docs/methodology/overlaps.md).
        "overlap_suspect": {
            "lines": int(overlap[0]) if overlap else 0,
            "co2e_t": float(overlap[1] or 0.0) if overlap else 0.0,
        },
    }
