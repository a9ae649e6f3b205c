"""Properties of the inventory engine that hold for any input (Hypothesis).

* the line items add up to the totals of the run (GHG Protocol Corporate Standard ch. 9:
  the inventory is the sum of its parts; here checked line by line against the summary);
* unit-equivalent inputs give the same CO2e (kWh vs MWh; litres vs US gallons);
* under the equity-share approach, entities owned 100 % report exactly their unconsolidated
  emissions (Corporate Standard ch. 3).

Each example goes through the real import and engine (a small workspace per example, so the
example counts are kept low). Tolerances: totals are sums of lines each rounded to 1 µg (the
run's exact-decimal summation, ``esgledger.inventory.runs``), so a total may differ from the
float sum of its lines by at most 0.5 µg per line plus float rounding; unit conversions are
exact ratios up to float rounding (``REL``).
"""

from __future__ import annotations

import contextlib
import math
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _inventory_support import activity, entity, new_workspace
from esgledger.inventory import calculate, summary
from esgledger.store import Workspace

REL = 1e-12
US_GALLON_L = 3.785411784  # litres per US gallon (exact, by definition)
PROPERTY_SETTINGS = settings(max_examples=12, suppress_health_check=[HealthCheck.too_slow])

# Activities that resolve in a CN/US/GB group without user factors.
_KINDS: list[tuple[str, str, str | None]] = [
    ("electricity", "kWh", "CN-GD"),
    ("electricity", "MWh", "US"),
    ("stationary.diesel", "gal", "US"),
    ("stationary.diesel", "L", "GB"),
    ("refrigerant.R-410A", "kg", None),
    ("travel.air.long_haul.economy", "pkm", "GB"),
    ("stationary.wood_pellets", "mmBtu", "US"),
]
_quantities = st.decimals(
    min_value=0, max_value=1_000_000, places=3, allow_nan=False, allow_infinity=False
)
_rows = st.lists(
    st.tuples(st.sampled_from(range(len(_KINDS))), _quantities, st.sampled_from(["GRP", "SUB"])),
    min_size=1,
    max_size=12,
)


@contextlib.contextmanager
def _workspace(rows: list[dict[str, Any]], *, sub_pct: float = 60) -> Iterator[Workspace]:
    """A workspace in a temporary folder (Hypothesis examples cannot use ``tmp_path``),
    removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="esgledger-prop-"))
    try:
        ws = new_workspace(
            folder / "ws",
            entities=[
                entity("GRP", country="CN"),
                entity("SUB", parent="GRP", ownership_pct=sub_pct, country="US"),
            ],
            activities=rows,
        )
        try:
            yield ws
        finally:
            ws.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@PROPERTY_SETTINGS
@given(rows=_rows, gwp_set=st.sampled_from(["AR4", "AR5", "AR6"]))
def test_the_line_items_add_up_to_the_totals(rows: list[Any], gwp_set: str) -> None:
    rows_in = [
        # Each generated row is separate consumption: its own meter, so two equal rows are
        # not the exact duplicate the import refuses (docs/methodology/overlaps.md).
        activity(
            _KINDS[k][0], str(q), _KINDS[k][1], region=_KINDS[k][2], entity_code=e, meter=f"M{i}"
        )
        for i, (k, q, e) in enumerate(rows)
    ]
    with _workspace(rows_in) as ws:
        run = calculate(ws, gwp_set=gwp_set, consolidation="equity")
        lines = run.line_items().to_pylist()
        data = summary(run)
    assert sum(line["line_kind"] == "activity" for line in lines) == len(rows)
    scope_names = {1: "scope1", 2: "scope2_location", 3: "scope3"}
    tolerance_kg = 0.5e-9 * len(lines)
    for scope, name in scope_names.items():
        expected = math.fsum(
            line["co2e_kg_consolidated"] for line in lines if line["scope"] == scope
        )
        assert data["totals"][name] * 1000 == pytest.approx(expected, rel=REL, abs=tolerance_kg)
    biogenic = math.fsum(
        (line["biogenic_co2_kg"] or 0.0) * line["consolidation_share"] for line in lines
    )
    assert data["totals"]["biogenic_co2"] * 1000 == pytest.approx(
        biogenic, rel=REL, abs=tolerance_kg
    )
    by_entity = math.fsum(v["total"] for v in data["by_entity"].values())
    assert by_entity == pytest.approx(data["totals"]["total"], rel=REL, abs=tolerance_kg)
    by_category = math.fsum(data["scope3_by_category"].values())
    assert by_category == pytest.approx(data["totals"]["scope3"], rel=REL, abs=tolerance_kg)


@PROPERTY_SETTINGS
@given(kwh=st.floats(min_value=0.001, max_value=1e9), gallons=st.floats(0.001, 1e7))
def test_unit_equivalent_inputs_give_the_same_co2e(kwh: float, gallons: float) -> None:
    rows_in = [
        activity("electricity", repr(kwh), "kWh", region="US"),
        activity("electricity", repr(kwh / 1000), "MWh", region="US"),
        activity("stationary.diesel", repr(gallons), "gal", region="US"),
        activity("stationary.diesel", repr(gallons * US_GALLON_L), "L", region="US"),
    ]
    with _workspace(rows_in) as ws:
        lines = calculate(ws, gwp_set="AR5", category_3=False).line_items().to_pylist()
    kwh_line, mwh_line, gal_line, litre_line = lines
    assert kwh_line["factor_id"] == mwh_line["factor_id"]
    assert mwh_line["co2e_kg"] == pytest.approx(kwh_line["co2e_kg"], rel=REL)
    assert gal_line["factor_id"] == litre_line["factor_id"]
    assert litre_line["co2e_kg"] == pytest.approx(gal_line["co2e_kg"], rel=REL)
    assert litre_line["ch4_kg"] == pytest.approx(gal_line["ch4_kg"], rel=REL)


@PROPERTY_SETTINGS
@given(rows=_rows)
def test_consolidation_at_100_percent_ownership_is_the_unconsolidated_sum(
    rows: list[Any],
) -> None:
    rows_in = [
        # Each generated row is separate consumption: its own meter, so two equal rows are
        # not the exact duplicate the import refuses (docs/methodology/overlaps.md).
        activity(
            _KINDS[k][0], str(q), _KINDS[k][1], region=_KINDS[k][2], entity_code=e, meter=f"M{i}"
        )
        for i, (k, q, e) in enumerate(rows)
    ]
    with _workspace(rows_in, sub_pct=100) as ws:
        run = calculate(ws, consolidation="equity")
        lines = run.line_items().to_pylist()
        data = summary(run)
    assert all(line["consolidation_share"] == 1.0 for line in lines)
    assert all(line["co2e_kg_consolidated"] == line["co2e_kg"] for line in lines)
    for entry in data["by_entity"].values():
        assert entry["total"] == entry["total_gross"]
