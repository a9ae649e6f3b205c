"""Yearly inventories for target tracking: a run wins over published figures of its year."""

from __future__ import annotations

import pytest

from esgledger.targets.actuals import history_inventories


def _row(year: int, scope: str, t: float, category: int = 0) -> dict[str, object]:
    return {"year": year, "scope": scope, "category": category, "t_co2e": t, "source": "AR 2021"}


def test_published_scopes_make_one_inventory_per_year() -> None:
    rows = [
        _row(2021, "1", 19_000),
        _row(2021, "2_location", 2_349_000),
        _row(2021, "3", 2_743_000),
        _row(2022, "1", 172_000),
    ]
    years = history_inventories(rows)
    assert sorted(years) == [2021, 2022]
    inv = years[2021]
    assert inv.totals == {
        "scope1": 19_000,
        "scope2_location": 2_349_000,
        "scope3": 2_743_000,
        "total": 5_111_000,
    }
    assert inv.source == "published: AR 2021"
    assert inv.run_id is None


def test_scope3_is_the_sum_of_published_categories_when_no_total_is_given() -> None:
    inv = history_inventories([_row(2021, "3", 100, 1), _row(2021, "3", 50, 6)])[2021]
    assert inv.totals["scope3"] == pytest.approx(150)
    assert inv.scope3_by_category == {"1": 100, "6": 50}
