"""Synthetic baseline years for the what-if tests (owned by the what-if helper).

The energy split is the annual worked example of reference ``domain-modules.md`` §1.1
(IT 10,000 MWh; cooling 2,500; power losses 600 + 200; other 100; PUE 1.34), spread evenly
over the hours, so any lever's arithmetic can be checked by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa

from esgledger.energy.whatif import BaselineYear, GridFactor, Prices, baseline_from_table

HOURS = 8760
#: §1.1 annual example [kWh].
IT_KWH, COOLING_KWH, LOSSES_KWH, OTHER_KWH = 10_000_000.0, 2_500_000.0, 800_000.0, 100_000.0
FACTOR = GridFactor(0.5703, "test-grid", "test source", 2024)
PRICES = Prices(0.8, "CNY")


def hourly_table(
    *,
    hours: int = HOURS,
    wet_bulb_c: Sequence[float] | float | None = 10.0,
    dry_bulb_c: Sequence[float] | float | None = 15.0,
    rh_pct: Sequence[float] | float | None = 50.0,
    scale: float = 1.0,
) -> pa.Table:
    """Hourly table with the §1.1 split spread over ``hours`` (annual totals × ``scale``)."""
    start = datetime(2024, 1, 1)

    def spread(total: float) -> np.ndarray:
        return np.full(hours, total * scale / hours)

    def weather(value: Sequence[float] | float | None) -> pa.Array:
        if value is None:
            return pa.nulls(hours, pa.float64())
        return pa.array(np.broadcast_to(np.asarray(value, dtype=float), (hours,)))

    return pa.table(
        {
            "hour_utc": pa.array([start + timedelta(hours=i) for i in range(hours)]),
            "it_kwh": spread(IT_KWH),
            "cooling_kwh": spread(COOLING_KWH),
            "power_losses_kwh": spread(LOSSES_KWH),
            "other_kwh": spread(OTHER_KWH),
            "dry_bulb_c": weather(dry_bulb_c),
            "wet_bulb_c": weather(wet_bulb_c),
            "relative_humidity_pct": weather(rh_pct),
        }
    )


def baseline(**kwargs: object) -> BaselineYear:
    water = kwargs.pop("water_l", 25_000_000.0)
    return baseline_from_table(hourly_table(**kwargs), site="DC1", water_l=water)  # type: ignore[arg-type]
