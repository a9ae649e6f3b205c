"""Hand-built line-item tables with the engine's exact schema, for data-quality and
uncertainty tests.

``LINE_ITEM_SCHEMA`` copies the Parquet schema the engine writes
(``esgledger.inventory.engine``; checked against a real run in
``tests/validation/test_data_quality_examples.py``). :func:`line` gives one line with
plausible defaults (a shipped China location-based electricity line), :func:`table` builds
the Arrow table.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

LINE_ITEM_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("batch_id", pa.string(), nullable=False),
        pa.field("row_number", pa.int64(), nullable=False),
        pa.field("record_id", pa.string()),
        pa.field("line_kind", pa.string(), nullable=False),
        pa.field("entity", pa.string(), nullable=False),
        pa.field("site", pa.string()),
        pa.field("period_start", pa.date32(), nullable=False),
        pa.field("period_end", pa.date32(), nullable=False),
        pa.field("activity", pa.string(), nullable=False),
        pa.field("scope", pa.int8()),
        pa.field("scope3_category", pa.int8()),
        pa.field("quantity", pa.float64(), nullable=False),
        pa.field("unit", pa.string(), nullable=False),
        pa.field("correction", pa.bool_(), nullable=False),
        pa.field("region", pa.string()),
        pa.field("region_from", pa.string()),
        pa.field("supplier", pa.string()),
        pa.field("factor_id", pa.string()),
        pa.field("factor_set", pa.string()),
        pa.field("factor_region", pa.string()),
        pa.field("tier", pa.string()),
        pa.field("vintage_gap", pa.int64()),
        pa.field("method", pa.string()),
        pa.field("source", pa.string()),
        pa.field("factor_unit", pa.string()),
        pa.field("conversion_path", pa.string()),
        pa.field("fx_rate", pa.float64()),
        pa.field("deflator", pa.float64()),
        pa.field("price_year_gap", pa.int64()),
        pa.field("quantity_in_factor_unit", pa.float64()),
        pa.field("co2_kg", pa.float64()),
        pa.field("ch4_kg", pa.float64()),
        pa.field("n2o_kg", pa.float64()),
        pa.field("biogenic_co2_kg", pa.float64()),
        pa.field("co2e_kg", pa.float64()),
        pa.field("consolidation_share", pa.float64()),
        pa.field("co2e_kg_consolidated", pa.float64()),
        pa.field("gwp_set", pa.string(), nullable=False),
        pa.field("co2e_from", pa.string()),
        pa.field("gwp_basis_mismatch", pa.bool_()),
        pa.field("uncertainty_pct", pa.float64()),
        pa.field("double_count_suspect", pa.bool_()),
        pa.field("overlap_suspect", pa.bool_()),
        pa.field("excluded", pa.bool_()),
        pa.field("reason", pa.string()),
        pa.field("reason_zh", pa.string()),
    ]
)

_rows = itertools.count(2)


def line(co2e_kg: float = 1000.0, **overrides: Any) -> dict[str, Any]:
    """One line item (dict). ``co2e_kg`` sets the gross and consolidated CO2e (share 1)
    unless ``co2e_kg_consolidated`` is given; ``excluded=True`` clears the factor and
    emission columns as the engine does."""
    row: dict[str, Any] = {
        "run_id": "r-test",
        "batch_id": "b-test",
        "row_number": next(_rows),
        "record_id": None,
        "line_kind": "activity",
        "entity": "GRP",
        "site": None,
        "period_start": dt.date(2024, 1, 1),
        "period_end": dt.date(2024, 12, 31),
        "activity": "electricity",
        "scope": 2,
        "scope3_category": None,
        "quantity": co2e_kg,
        "unit": "kWh",
        "correction": False,
        "region": "CN",
        "region_from": "entity country",
        "supplier": None,
        "factor_id": "cn-mee:location:CN:2023",
        "factor_set": "cn-mee",
        "tier": "country",
        "vintage_gap": -1,
        "method": "location",
        "source": "test",
        "factor_unit": "kWh",
        "conversion_path": None,
        "fx_rate": None,
        "price_year_gap": None,
        "quantity_in_factor_unit": co2e_kg,
        "co2_kg": None,
        "ch4_kg": None,
        "n2o_kg": None,
        "biogenic_co2_kg": None,
        "co2e_kg": co2e_kg,
        "consolidation_share": 1.0,
        "co2e_kg_consolidated": co2e_kg,
        "gwp_set": "AR6",
        "co2e_from": "published",
        "gwp_basis_mismatch": False,
        "excluded": False,
        "reason": None,
        "reason_zh": None,
    }
    if "co2e_kg_consolidated" not in overrides and "consolidation_share" in overrides:
        row["co2e_kg_consolidated"] = co2e_kg * float(overrides["consolidation_share"])
    row.update(overrides)
    if row["excluded"]:
        for name in (
            "factor_id", "factor_set", "tier", "vintage_gap", "method", "source",
            "factor_unit", "quantity_in_factor_unit", "co2e_kg", "co2e_kg_consolidated",
            "co2e_from", "gwp_basis_mismatch",
        ):  # fmt: skip
            row[name] = None
    return row


#: Columns of :data:`LINE_ITEM_SCHEMA` that :func:`table` leaves out unless a row gives them:
#: scorers then take the factor's region and uncertainty from their ``factors`` argument.
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "factor_region",
    "deflator",
    "uncertainty_pct",
    "double_count_suspect",
    "overlap_suspect",
)


def table(rows: Sequence[Mapping[str, Any]], *, extra: pa.Schema | None = None) -> pa.Table:
    """The lines as an Arrow table with :data:`LINE_ITEM_SCHEMA` (plus ``extra`` fields),
    without the :data:`OPTIONAL_COLUMNS` no row gives."""
    given = {name for r in rows for name in r}
    schema = pa.schema(
        [f for f in LINE_ITEM_SCHEMA if f.name not in OPTIONAL_COLUMNS or f.name in given]
    )
    if extra is not None:
        for field in extra:
            schema = schema.append(field)
    return pa.Table.from_pylist([dict(r) for r in rows], schema=schema)
