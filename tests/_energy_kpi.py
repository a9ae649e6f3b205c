"""Builders for the KPI tests: the reference's worked annual example (domain-modules.md §1.1)
as a workspace fed through the real importers."""

from __future__ import annotations

from datetime import datetime

from _energy_support import import_meters, import_readings, meter, organise
from _inventory_support import import_rows
from esgledger.store import Workspace

MWH = 1000.0
METERS = {  # meter: (role, parent, unit, quantity of 2024 in that unit)
    "INC": ("incomer", None, "kWh", 12_900 * MWH),
    "PV": ("onsite_re", "INC", "kWh", 500 * MWH),  # feeds the main board under the incomer
    "UPSI": ("ups_input", "INC", "kWh", 10_800 * MWH),
    "UPSO": ("ups_output", "UPSI", "kWh", 10_200 * MWH),
    "PDU": ("pdu_output", "UPSO", "kWh", 10_000 * MWH),
    "CH": ("cooling", "INC", "kWh", 2_500 * MWH),
    "LT": ("other", "INC", "kWh", 100 * MWH),
    "HX": ("heat_export", None, "kWh", 1_000 * MWH),
    "WTR": ("water", None, "m3", 25_000.0),
}


def worked_example(
    ws: Workspace, extra: dict[str, tuple[str, str | None, str, float]] | None = None
) -> Workspace:
    """DC1 (a data centre in CN-GD) with the example's meter tree, monthly counter readings
    for 2024 (registers read on the first of each month: annual figure × month / 12), the
    example's grid factor 0.5703 kg/kWh as a site-specific user factor, and 4,000 MWh of GECs
    retired for DC1. ``extra`` adds meters (as :data:`METERS`) to the tree."""
    organise(ws)
    chosen = {**METERS, **(extra or {})}
    import_meters(
        ws, [meter(m, r, parent=p, unit=u, kind="counter") for m, (r, p, u, _q) in chosen.items()]
    )
    firsts = [datetime(2024, m, 1) for m in range(1, 13)] + [datetime(2025, 1, 1)]
    import_readings(
        ws,
        [
            (m, ts, q * i / 12)
            for m, (_r, _p, _u, q) in chosen.items()
            for i, ts in enumerate(firsts)
        ],
    )
    import_rows(ws, "factors", [{
        "factor": "example:dc1:grid:2024", "activity": "electricity", "region": "CN",
        "year": 2024, "unit": "kWh", "co2e_kg": 0.5703, "gwp_basis": "AR6",
        "source": "domain-modules.md worked example", "site": "DC1", "method": "location",
    }])  # fmt: skip
    import_rows(ws, "instruments", [{
        "instrument": "GEC-1", "type": "gec", "technology": "wind", "country": "CN",
        "region": "CN", "period_start": "2024-01-01", "period_end": "2024-12-31",
        "mwh": 4000, "retired_on": "2025-02-01", "retired_for": "DC1",
    }])  # fmt: skip
    return ws
