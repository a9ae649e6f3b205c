"""Data quality and uncertainty against the published criteria and analytical results.

* GHG Protocol *Corporate Value Chain (Scope 3) Accounting and Reporting Standard* (WRI/WBCSD
  2011), ch. 7, Table 7.6 (indicators) and Box 7.2 (scoring criteria "very good" … "poor"):
  the thresholds of the time criterion (< 3, < 6, < 10 years, > 10 or unknown) and the
  geography levels (same, similar, different area), applied to lines that meet each one.
* IPCC *2006 Guidelines for National Greenhouse Gas Inventories*, Vol. 1, ch. 3
  (Uncertainties): a normal input's 95 % interval is the value ± 1.96 standard deviations;
  Approach 1 (Eq. 3.1) combines the uncertainties of a sum of independent terms as
  ``U_total = sqrt(Σ (U_i·x_i)²) / |Σ x_i|`` — exact for normal terms, since a sum of
  independent normals is normal. The Monte Carlo (Approach 2) must agree within its own
  sampling error.
* The real engine on a tiny workspace (user factors with ``uncertainty_pct`` imported through
  the real importer): line-item schema, scores and Monte Carlo end to end.

Monte Carlo tolerance: the sample p-quantile of n draws has standard error
``σ·sqrt(p(1−p)/n) / φ(z_p)`` (asymptotic, e.g. Stuart & Ord); for p = 0.025 that is
``σ·0.156/(0.0584·sqrt(n))``. Tests allow 4 standard errors (a chance of about 6e-5 per
comparison for a fixed seed chosen without looking), computed from n below, never tuned.
"""

from __future__ import annotations

import math
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from _inventory_support import activity, new_workspace, user_factor
from _line_item_builder import LINE_ITEM_SCHEMA, line, table
from esgledger.factors.library import FactorLibrary
from esgledger.inventory import calculate
from esgledger.inventory.quality import data_quality_summary, score_line_items
from esgledger.inventory.uncertainty import Z_95, default_sigma, monte_carlo

N = 40_000
P = 0.025
PHI_AT_Z95 = math.exp(-(Z_95**2) / 2) / math.sqrt(2 * math.pi)


def quantile_se(sigma: float, n: int = N, p: float = P) -> float:
    """Standard error of the sample p-quantile of n normal draws with standard deviation σ."""
    return sigma * math.sqrt(p * (1 - p) / n) / PHI_AT_Z95


def with_pct(rows: list[dict[str, object]], pcts: list[float]) -> pa.Table:
    return table(rows).append_column("uncertainty_pct", pa.array(pcts, pa.float64()))


# ---- Scope 3 Standard Box 7.2 --------------------------------------------------------------


@pytest.mark.parametrize(
    ("years", "level"),
    [(0, 1), (2, 1), (3, 2), (5, 2), (6, 3), (9, 3), (11, 4), (None, 4)],
)
def test_box_7_2_time_criterion(years: int | None, level: int) -> None:
    # Very good: < 3 years difference; good: < 6; fair: < 10; poor: > 10 years or unknown.
    scored = score_line_items(table([line(vintage_gap=years)]))
    assert scored.column("dq_temporal").to_pylist() == [level]


def test_box_7_2_geography_criterion() -> None:
    regions = pa.table({"factor_id": ["gd", "south", "cn", "world"],
                        "region": ["CN-GD", "CN-GRID-SOUTH", "CN", "GLOBAL"]})  # fmt: skip
    lines = table(
        [
            line(region="CN-GD", factor_id="gd", tier="subnational"),  # same area
            line(region="CN-GD", factor_id="south", tier="subnational"),  # similar area
            line(region="CN-GD", factor_id="cn", tier="country"),  # similar area
            line(region="CN-GD", factor_id="world", tier="global"),  # different area
        ]
    )
    scored = score_line_items(lines, factors=regions)
    assert scored.column("dq_geography").to_pylist() == [1, 2, 2, 3]


# ---- IPCC 2006 Vol. 1 ch. 3 ----------------------------------------------------------------


def test_single_normal_factor_matches_the_analytical_interval() -> None:
    # 1,000 kg with U = 10 %: normal, σ = 100 / 1.96 kg; 95 % interval 900 … 1,100 kg.
    x, u = 1000.0, 0.10
    sigma = x * u / Z_95
    row = monte_carlo(with_pct([line(x)], [u * 100]), iterations=N, seed=11, by=()).to_pylist()[0]
    tol_t = 4 * quantile_se(sigma) / 1000
    assert row["p2_5_t"] == pytest.approx(0.9, abs=tol_t)
    assert row["p97_5_t"] == pytest.approx(1.1, abs=tol_t)
    assert row["mean_t"] == pytest.approx(1.0, abs=4 * sigma / math.sqrt(N) / 1000)


def test_sum_of_independent_factors_matches_ipcc_approach_1() -> None:
    # Constructed inventory of three sources with their own factors (independent):
    # 5,000 kg ± 5 %, 2,000 kg ± 20 %, 1,000 kg ± 25 % (all relative σ < 0.3: normal).
    sources = [(5000.0, 5.0, "a"), (2000.0, 20.0, "b"), (1000.0, 25.0, "c")]
    total = sum(x for x, _, _ in sources)
    u_total = math.sqrt(sum((u / 100 * x) ** 2 for x, u, _ in sources)) / abs(total)
    assert u_total == pytest.approx(math.sqrt(250**2 + 400**2 + 250**2) / 8000)  # 6.67 %
    lines = with_pct([line(x, factor_id=f) for x, _, f in sources], [u for _, u, _ in sources])
    row = monte_carlo(lines, iterations=N, seed=5, by=()).to_pylist()[0]
    half_t = (row["p97_5_t"] - row["p2_5_t"]) / 2
    sigma_total = u_total * total / Z_95
    assert half_t * 1000 == pytest.approx(u_total * total, abs=4 * quantile_se(sigma_total))


def test_pedigree_default_is_lognormal_with_the_gsd_of_its_scores() -> None:
    # A spend line (scores 4, 1, 1, 1, 4) without uncertainty_pct: lognormal, σ_ln from the
    # pedigree factors; its 97.5 % point over the median is exp(1.96 σ_ln) (GSD^1.96).
    spend = {"method": "spend", "factor_set": "useeio-1.3.0", "tier": "country",
             "region": "US", "vintage_gap": -2, "price_year_gap": -2, "scope": 3,
             "scope3_category": 1, "gwp_basis_mismatch": True}  # fmt: skip
    scores = {"technology": 4, "temporal": 1, "geography": 1, "completeness": 1}
    sigma = default_sigma({**scores, "reliability": 4})
    row = monte_carlo(table([line(1000.0, **spend)]), iterations=N, seed=3, by=()).to_pylist()[0]
    assert row["default_uncertainty_share"] == 1.0
    # In log space the draws are normal with σ_ln: 4 standard errors of both quantiles.
    tol = 4 * math.sqrt(2) * quantile_se(sigma)
    assert math.log(row["p97_5_t"] / row["median_t"]) == pytest.approx(Z_95 * sigma, abs=tol)
    assert math.log(row["median_t"] / row["p2_5_t"]) == pytest.approx(Z_95 * sigma, abs=tol)


# ---- the real engine -----------------------------------------------------------------------


def test_engine_line_items_scored_and_simulated(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        factors=[
            user_factor(
                "u-steel",
                "purchased_goods.steel",
                "kg",
                2.0,
                supplier="S1",
                method="supplier",
                uncertainty_pct=10,
            ),
            user_factor(
                "u-grid",
                "electricity",
                "kWh",
                0.5,
                region="CN",
                method="location",
                uncertainty_pct="20%",
            ),
        ],
        activities=[
            activity("purchased_goods.steel", 1000, "kg", supplier="S1"),
            # Two half-years (the same row twice would be an exact duplicate, refused).
            activity("electricity", 2000, "kWh", period_end="2024-06-30"),
            activity("electricity", 2000, "kWh", period_start="2024-07-01"),
        ],
    )
    # AR5: the user factors' GWP basis (under AR6 they would carry gwp_basis_mismatch).
    run = calculate(ws, gwp_set="AR5", category_3=False)
    lines = run.line_items()
    assert lines.schema.names == LINE_ITEM_SCHEMA.names
    assert [f.type for f in lines.schema] == [f.type for f in LINE_ITEM_SCHEMA]

    library = FactorLibrary.for_workspace(ws)
    scored = score_line_items(run.line_items_path, factors=library.as_arrow())
    # Same lines, in the file's physical order (which the engine does not define).
    physical = pq.read_table(run.line_items_path, columns=["row_number"])
    assert scored.column("row_number").equals(physical.column("row_number"))
    rows = sorted(scored.to_pylist(), key=lambda r: int(r["row_number"]))
    assert [r["factor_id"] for r in rows] == ["u-steel", "u-grid", "u-grid"]
    # Supplier factor: (1, 1, 1, 2, 2); user location factor for CN in CN: (1, 1, 1, 2, 2).
    assert [[r[f"dq_{i}"] for i in ("technology", "temporal", "geography", "completeness",
             "reliability")] for r in rows] == [[1, 1, 1, 2, 2]] * 3  # fmt: skip
    summary = data_quality_summary(scored)
    assert summary["scope3_by_category"]["1"]["primary_data_share"] == 1.0
    assert summary["by_scope"]["2"]["primary_data_share"] == 0.0

    out = {
        r["scope"]: r
        for r in monte_carlo(
            run.line_items_path, iterations=N, seed=9, factors=library.as_arrow()
        ).to_pylist()
    }
    assert out[3]["default_uncertainty_share"] == 0.0
    # Scope 2: two lines of one factor (correlated): 2,000 kg ± 20 % → 1.6 … 2.4 t.
    sigma2 = 2000 * 0.20 / Z_95
    assert out[2]["co2e_t"] == pytest.approx(2.0)
    assert out[2]["p2_5_t"] == pytest.approx(1.6, abs=4 * quantile_se(sigma2) / 1000)
    assert out[2]["p97_5_t"] == pytest.approx(2.4, abs=4 * quantile_se(sigma2) / 1000)
    # Scope 3: 2,000 kg ± 10 % → 1.8 … 2.2 t.
    sigma3 = 2000 * 0.10 / Z_95
    assert out[3]["p2_5_t"] == pytest.approx(1.8, abs=4 * quantile_se(sigma3) / 1000)
    assert out[3]["p97_5_t"] == pytest.approx(2.2, abs=4 * quantile_se(sigma3) / 1000)
