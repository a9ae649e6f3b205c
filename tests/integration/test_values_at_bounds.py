"""Issue 11, defect 6: any accepted input calculates. Quantities and factors at the bounds of
``schema/value_bounds.csv`` import, and ``calculate`` sums them without a cast error; a
Hypothesis property does the same for any accepted (quantity, factor) pair."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _inventory_support import activity, new_workspace, user_factor
from esgledger.ingest.values_guard import bound_for
from esgledger.inventory import calculate

#: (activity, unit, factor unit) of one dimension each.
CASES: list[tuple[str, str, str]] = [
    ("electricity", "kWh", "kWh"),
    ("purchased_goods.steel", "kg", "kg"),
    ("purchased_goods.widget", "item", "item"),
    ("freight.road", "tkm", "tkm"),
    ("travel.hotel", "room_night", "room_night"),
    ("spend.naics.331110", "USD", "USD"),
    ("commuting.homeworking", "FTE_hour", "FTE_hour"),
]


def _largest(measure: str, unit: str) -> float:
    bound, scale = bound_for(measure, unit)
    return bound.max / scale if measure == "quantity" else bound.max * scale


def _factor(key: str, index: int, unit: str, co2e: float) -> dict[str, Any]:
    extra: dict[str, Any] = {"supplier": f"S{index}"}  # one factor per row, told apart
    if unit == "USD":
        extra |= {"currency": "USD", "price_year": 2024}
    return user_factor(f"BOUND-{index}", key, unit, co2e, **extra)


def _calculate(tmp: Path, rows: list[tuple[str, str, str, float, float]]) -> dict[str, Any]:
    factors, activities = [], []
    for index, (key, unit, factor_unit, quantity, co2e) in enumerate(rows):
        factors.append(_factor(key, index, factor_unit, co2e))
        month = index % 12 + 1
        activities.append(
            activity(
                key,
                repr(quantity),
                unit,
                factor=f"BOUND-{index}",
                record_id=f"R{index}",
                period_start=f"2024-{month:02d}-01",
                period_end=f"2024-{month:02d}-28",
            )
        )
    with new_workspace(tmp / "ws", factors=factors, activities=activities) as ws:
        run = calculate(ws, gwp_set="AR5", consolidation="equity")
        return run.totals


def test_every_dimension_at_its_bounds_calculates(tmp_path: Path) -> None:
    rows = []
    for _ in range(3):
        for key, unit, factor_unit in CASES:
            rows.append(
                (key, unit, factor_unit, _largest("quantity", unit), _largest("factor", unit))
            )
    totals = _calculate(tmp_path, rows)
    # 3 x (1e15 + 1e18 + 1e18 + 1e15 + 1e16 + 1e17 + 1e16) kg, at least, in t.
    expected_t = 3 * (1e15 + 1e18 + 1e18 + 1e15 + 1e16 + 1e17 + 1e16) / 1000
    assert totals["totals"]["scope3"] + totals["totals"]["scope2_location"] >= expected_t * 0.99


_pairs = st.sampled_from(CASES).flatmap(
    lambda case: st.tuples(
        st.just(case),
        st.floats(0, _largest("quantity", case[1]), allow_nan=False, allow_infinity=False),
        st.floats(0, _largest("factor", case[2]), allow_nan=False, allow_infinity=False),
    )
)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(pairs=st.lists(_pairs, min_size=1, max_size=4))
def test_any_accepted_pair_calculates(
    pairs: list[tuple[tuple[str, str, str], float, float]],
) -> None:
    rows = [(key, unit, fu, quantity, co2e) for (key, unit, fu), quantity, co2e in pairs]
    with tempfile.TemporaryDirectory() as folder:
        totals = _calculate(Path(folder), rows)
    assert totals["unit"] == "t CO2e"


@pytest.mark.parametrize(("key", "unit", "factor_unit"), CASES[:2])
def test_just_beyond_the_bounds_is_refused(
    tmp_path: Path, key: str, unit: str, factor_unit: str
) -> None:
    from esgledger.errors import InputError

    with pytest.raises(InputError, match="bounds"):
        _calculate(tmp_path, [(key, unit, factor_unit, _largest("quantity", unit) * 1.01, 1.0)])


def test_a_line_beyond_the_ceiling_ends_calculate_with_exit_2_and_nothing_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine's guard (``runs.check_line_ceiling``) through the CLI: a clear refusal, no
    traceback, no run folder and no ``runs`` row. The ceiling is lowered so that an ordinary
    row passes it (spend at extreme exchange rates is what reaches it for real)."""
    from typer.testing import CliRunner

    from esgledger.cli import app
    from esgledger.inventory.runs import list_runs
    from esgledger.store import Workspace

    factors = [_factor("electricity", 0, "kWh", 0.5)]
    activities = [activity("electricity", "1000", "kWh", factor="BOUND-0", record_id="R0")]
    new_workspace(tmp_path / "ws", factors=factors, activities=activities).close()
    monkeypatch.setattr("esgledger.ingest.values_guard.LINE_CEILING_KG", 100.0)
    result = CliRunner().invoke(app, ["calculate", str(tmp_path / "ws")])
    output = result.stdout + result.stderr
    assert result.exit_code == 2, output
    assert "Traceback" not in output
    assert "beyond" in output, output
    assert "row 2" in output, output
    with Workspace.open(tmp_path / "ws") as ws:
        assert list_runs(ws) == []
        runs = ws.lake / "runs"
        assert not runs.exists() or list(runs.iterdir()) == []
