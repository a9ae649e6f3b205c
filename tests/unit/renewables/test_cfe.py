"""Hourly CFE: arithmetic properties, input checks, Arrow matrices, heat-map."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from esgledger.renewables.cfe import (
    cfe,
    cfe_summary,
    heatmap,
    matrix_from_table,
    plot_heatmap,
    summary_table,
)


def test_surplus_is_not_carried_over_to_the_next_hour() -> None:
    s = cfe([10.0, 10.0], [20.0, 0.0]).summary()
    assert s.matched_mwh.tolist() == [10.0]
    assert s.excess_mwh.tolist() == [10.0]
    assert s.hourly_match.tolist() == [0.5]
    assert s.volumetric_match.tolist() == [1.0]


def test_grid_share_per_site_and_portfolio_weighting() -> None:
    load = np.array([[1.0, 1.0], [3.0, 3.0]])
    clean = np.zeros((2, 2))
    s = cfe(load, clean, grid_cfe=np.array([[0.0, 0.0], [1.0, 1.0]])).summary()
    assert s.cfe_score.tolist() == [0.0, 1.0]
    assert s.portfolio_cfe_score == 0.75  # load-weighted, not the mean of 0 and 1
    assert s.portfolio_hourly_match == 0.0


def test_a_site_without_load_has_no_score() -> None:
    s = cfe([[0.0, 0.0]], [[1.0, 1.0]]).summary()
    assert np.isnan(s.hourly_match[0])
    assert np.isnan(s.cfe_score[0])


@pytest.mark.parametrize(
    ("load", "clean", "grid", "message"),
    [
        ([1.0], [1.0, 2.0], None, r"^load_mwh \(1, 1\) and clean_mwh \(1, 2\) differ in shape$"),
        ([-1.0], [1.0], None, r"^load_mwh has negative values$"),
        ([np.nan], [1.0], None, r"^load_mwh has values that are not finite numbers$"),
        (
            [1.0],
            [1.0],
            1.5,
            r"^grid_cfe is a share of the grid mix: every value must be in 0\.\.1$",
        ),
        ([1.0, 1.0], [1.0, 1.0], [0.1, 0.2, 0.3], r"^grid_cfe must be a share, hours or sites"),
    ],
)
def test_bad_inputs_are_refused(load: object, clean: object, grid: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cfe(load, clean, grid)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        cfe_summary(load, clean, grid)  # type: ignore[arg-type]


def _hours(n: int) -> list[datetime]:
    return [datetime(2024, 1, 1) + timedelta(hours=h) for h in range(n)]


def test_matrix_from_a_long_table_lines_supply_up_with_load() -> None:
    hours = _hours(3)
    load = pa.table(
        {"site": ["B", "A", "A", "A"], "hour": [hours[0], *hours], "load_mwh": [5.0, 1.0, 2.0, 3.0]}
    )
    sites, axis, matrix = matrix_from_table(load, "load_mwh")
    assert sites == ["A", "B"]
    assert matrix.tolist() == [[1.0, 2.0, 3.0], [5.0, 0.0, 0.0]]
    supply = pa.table({"site": ["A", "Z"], "hour": [hours[1], hours[1]], "clean_mwh": [9.0, 9.0]})
    _, _, clean = matrix_from_table(supply, "clean_mwh", sites=sites, hours=axis)
    assert clean.tolist() == [[0.0, 9.0, 0.0], [0.0, 0.0, 0.0]]
    twice = pa.table({"site": ["A", "A"], "hour": [hours[0], hours[0]], "v": [1.0, 1.0]})
    with pytest.raises(ValueError, match=r"^v: a site and hour appear more than once$"):
        matrix_from_table(twice, "v")


def test_heatmap_cells_are_load_weighted_month_by_hour() -> None:
    hours = _hours(48)  # two January days
    load = np.full(48, 2.0)
    clean = np.zeros(48)
    clean[5] = 2.0  # day 1, 05:00 fully matched; day 2, 05:00 not at all
    result = cfe(load, clean)
    matrix = heatmap(pa.array(hours), result.cfe_mwh, result.load_mwh)
    assert matrix.shape == (12, 24)
    assert matrix[0, 5] == 0.5
    assert matrix[0, 6] == 0.0
    assert np.isnan(matrix[1, 0])  # no February data


def test_plot_heatmap_writes_png_and_svg(tmp_path: Path) -> None:
    matrix = np.linspace(0, 1, 288).reshape(12, 24)
    png = plot_heatmap(matrix, tmp_path / "cfe.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = plot_heatmap(matrix, tmp_path / "cfe.svg")
    assert b"<svg" in svg.read_bytes()
    with pytest.raises(ValueError, match=r"^the heat-map is written as \.png or \.svg"):
        plot_heatmap(matrix, tmp_path / "cfe.pdf")


def test_summary_table_names_units() -> None:
    table = summary_table(["A"], cfe([10.0, 10.0], [5.0, 20.0], 0.5).summary())
    row = table.to_pylist()[0]
    assert row["site"] == "A"
    assert row["matched_mwh"] == 15.0
    assert row["cfe_score_fraction"] == pytest.approx(17.5 / 20.0)
