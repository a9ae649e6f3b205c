"""Monte Carlo uncertainty of inventory totals (esgledger.inventory.uncertainty).

The statistical checks against analytical results (normal interval, IPCC Approach 1) are in
``tests/validation/test_data_quality_examples.py``; these tests cover determinism, the
correlation model, the pedigree defaults and the edges.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from _line_item_builder import line, table
from esgledger.errors import InputError
from esgledger.inventory import uncertainty
from esgledger.inventory.uncertainty import (
    Z_95,
    default_sigma,
    load_uncertainty_defaults,
    monte_carlo,
)

U_PCT = pa.schema([pa.field("uncertainty_pct", pa.float64())])


def with_pct(rows: list[dict[str, object]], pcts: list[float | None]) -> pa.Table:
    lines = table(rows)
    return lines.append_column("uncertainty_pct", pa.array(pcts, pa.float64()))


def factor_table(**pcts: float | None) -> pa.Table:
    return pa.table(
        {
            "factor_id": pa.array(list(pcts), pa.string()),
            "region": pa.array(["CN"] * len(pcts), pa.string()),
            "uncertainty_pct": pa.array(list(pcts.values()), pa.float64()),
        }
    )


def test_default_sigma_is_the_pedigree_formula() -> None:
    # Ciroth et al. (2016) factors as shipped: all scores 1 leaves the basic uncertainty.
    ones = dict.fromkeys(("technology", "temporal", "geography", "completeness",
                          "reliability"), 1)  # fmt: skip
    assert default_sigma(ones) == pytest.approx(math.log(1.05) / 2, rel=1e-12)
    # A spend line (4, 1, 1, 1, 4): technology 2.80 (pedigree 5), reliability 1.69.
    spend = {**ones, "technology": 4, "reliability": 4}
    expected = math.sqrt(math.log(1.05) ** 2 + math.log(2.80) ** 2 + math.log(1.69) ** 2) / 2
    assert default_sigma(spend) == pytest.approx(expected, rel=1e-12)
    assert default_sigma(ones, basic_uncertainty=1.0) == 0.0


def test_defaults_file_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "defaults.csv"
    path.write_text("indicator,score,uncertainty_factor\ntechnology,1,0.9\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"^defaults\.csv was rejected: 6 issue\(s\)\n") as info:
        load_uncertainty_defaults(path)
    problems = [i.problem for i in info.value.issues]
    assert problems[0] == "score must be 1-4 and the factor at least 1"
    assert problems[1] == "no factor for score(s) 1, 2, 3, 4 of technology"
    shipped = load_uncertainty_defaults()
    assert shipped["reliability"] == {1: 1.0, 2: 1.54, 3: 1.61, 4: 1.69}


def test_same_seed_same_numbers_other_seed_other_numbers() -> None:
    lines = table([line(100.0), line(50.0, factor_id="f2"), line(20.0, scope=1)])
    first = monte_carlo(lines, iterations=500, seed=7)
    again = monte_carlo(lines, iterations=500, seed=7)
    other = monte_carlo(lines, iterations=500, seed=8)
    assert first.equals(again)
    assert first.column("p97_5_t").to_pylist() != other.column("p97_5_t").to_pylist()


def test_chunked_draws_equal_one_draw(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = table([line(100.0), line(50.0, factor_id="f2"), line(20.0, scope=1)])
    whole = monte_carlo(lines, iterations=300, seed=3)
    monkeypatch.setattr(uncertainty, "_CHUNK_ELEMENTS", 7)
    assert monte_carlo(lines, iterations=300, seed=3).equals(whole)


def test_zero_uncertainty_collapses_to_the_total() -> None:
    lines = with_pct([line(123.0), line(77.0, factor_id="f2"), line(5.0, scope=1)], [0, 0, 0])
    for dist in ("auto", "normal", "lognormal"):
        out = monte_carlo(lines, iterations=200, factor_distribution=dist).to_pylist()
        for row in out:
            for column in ("mean_t", "median_t", "p2_5_t", "p97_5_t"):
                assert row[column] == pytest.approx(row["co2e_t"], rel=1e-12)
            assert row["default_uncertainty_share"] == 0
    totals = {r["scope"]: r["co2e_t"] for r in out}
    assert totals == {1: pytest.approx(0.005), 2: pytest.approx(0.2)}


def test_correlated_factor_lines_move_together() -> None:
    # Two equal lines of one factor with U = 10 %: fully correlated, the total has U = 10 %;
    # independent, U = 10 % / sqrt(2). Tolerance: 4 standard errors of a 95 % half-width
    # estimated from n = 20,000 normal draws (about 0.8 % of it, see the validation tests).
    lines = with_pct([line(500.0), line(500.0)], [10.0, 10.0])
    n = 20_000
    for correlated, expected in ((True, 10.0), (False, 10.0 / math.sqrt(2))):
        row = monte_carlo(
            lines, iterations=n, seed=1, by=(), correlated_factors=correlated
        ).to_pylist()[0]
        half = (row["p97_5_t"] - row["p2_5_t"]) / 2 / row["co2e_t"] * 100
        assert half == pytest.approx(expected, rel=0.04)


def test_a_factor_shared_by_two_groups_is_one_draw() -> None:
    lines = with_pct([line(100.0), line(300.0, scope=1)], [20.0, 20.0])
    out = {r["scope"]: r for r in monte_carlo(lines, iterations=1000, seed=2).to_pylist()}
    # One multiplier per iteration for both scopes: the quantiles scale exactly 1 : 3.
    assert out[1]["p2_5_t"] == pytest.approx(3 * out[2]["p2_5_t"], rel=1e-12)
    assert out[1]["p97_5_t"] == pytest.approx(3 * out[2]["p97_5_t"], rel=1e-12)


def test_uncertainty_from_the_factor_table_and_defaults() -> None:
    lines = table([line(100.0, factor_id="a"), line(300.0, factor_id="b")])
    out = monte_carlo(lines, by=(), iterations=200, factors=factor_table(a=5.0, b=None))
    assert out.column("default_uncertainty_share").to_pylist() == [pytest.approx(0.75)]
    assert out.column("lines").to_pylist() == [2]


def test_auto_switches_to_lognormal_for_large_uncertainty() -> None:
    # U = 150 %: a normal would put the 2.5 % point below zero; the lognormal cannot.
    lines = with_pct([line(1000.0)], [150.0])
    auto = monte_carlo(lines, iterations=4000, by=()).to_pylist()[0]
    normal = monte_carlo(lines, iterations=4000, by=(), factor_distribution="normal")
    assert auto["p2_5_t"] > 0
    assert normal.column("p2_5_t").to_pylist()[0] < 0
    # Mean-preserving lognormal: the median sits below the mean, exp(-σ²/2) of it.
    sigma2 = math.log(1 + (1.5 / Z_95) ** 2)
    assert auto["median_t"] == pytest.approx(math.exp(-sigma2 / 2), rel=0.05)


def test_excluded_lines_are_left_out() -> None:
    lines = table([line(100.0), line(excluded=True)])
    out = monte_carlo(lines, by=(), iterations=100).to_pylist()[0]
    assert (out["lines"], out["co2e_t"]) == (1, pytest.approx(0.1))


def test_group_columns_and_counts() -> None:
    lines = table(
        [line(10.0), line(20.0, scope=3, scope3_category=6), line(30.0, scope=3,
         scope3_category=1)]
    )  # fmt: skip
    out = monte_carlo(lines, by=("scope", "scope3_category"), iterations=100)
    assert out.column_names[:2] == ["scope", "scope3_category"]
    assert out.column("scope").to_pylist() == [2, 3, 3]
    assert out.column("scope3_category").to_pylist() == [None, 1, 6]
    assert out.column("iterations").to_pylist() == [100] * 3
    assert np.allclose(out.column("co2e_t").to_pylist(), [0.01, 0.03, 0.02])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"iterations": 1}, r"^iterations must be at least 2, not 1$"),
        (
            {"factor_distribution": "uniform"},
            r"^factor_distribution must be auto, normal or lognormal, not 'uniform'$",
        ),
        ({"basic_uncertainty": 0.5}, r"^basic_uncertainty is a 95 % factor \(≥ 1\), not 0.5$"),
        ({"by": ("scope)",)}, r"^not a column name: 'scope\)'$"),
        ({"by": ("sector",)}, r"^cannot group by 'sector': not a column of the line items$"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        monte_carlo(table([line()]), **kwargs)  # type: ignore[arg-type]
