"""A small workspace for the proposal routes and pages, built through the real importers.

Group GRP with units A (data centre DC1) and B (data centre DC2), each metering an incomer,
the IT input and cooling every 15 minutes over two local days (2024-03-01 and -02, Asia/
Shanghai), with hourly weather (12 °C, 60 % relative humidity: the wet bulb by Stull 2011)
and a year of grid electricity at DC1 in the inventory (calculated), so an adopted proposal
acts on scope 2 lines. Accounts: ``office`` (esg_office: plans), ``owner.a`` and ``owner.b``
(data owners of A and B: read their own site, may not plan), ``auditor`` (reads all).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from _energy_support import import_meters, import_readings, meter, organise_two_units
from _inventory_support import activity, import_rows, write_csv
from _web_support import DemoCopy
from esgledger.access import Principal
from esgledger.access.users import add_user
from esgledger.ingest.importers import import_file
from esgledger.inventory.engine import calculate
from esgledger.store import Workspace

PASSWORD = "a-long-password-1"
START = datetime(2024, 3, 1)  # local wall time at the sites
STEPS = 2 * 96
#: What the list route and the adopt body send: the options of ``esgledger energy proposals``.
PRICE = 0.8
HOSTILE = "<script>alert(1)</script>"


def _readings(code: str, kwh: float) -> list[tuple[str, str, float]]:
    return [
        (code, (START + timedelta(minutes=15 * (step + 1))).isoformat(), kwh)
        for step in range(STEPS)
    ]


def build(root: Path) -> DemoCopy:
    """The workspace in ``root`` and the passwords of its accounts."""
    ws = Workspace.init(root, year=2024, name="Proposals Test")
    try:
        organise_two_units(ws)
        meters, readings, weather = [], [], []
        for code in ("DC1", "DC2"):
            n = code[-1]
            meters += [
                meter(f"INC{n}", "incomer", site_code=code, name=HOSTILE),
                meter(f"IT{n}", "it_input", site_code=code, parent=f"INC{n}"),
                meter(f"COOL{n}", "cooling", site_code=code, parent=f"INC{n}"),
            ]
            # 6 kWh in, 4 kWh IT, 1.5 kWh cooling per quarter: PUE 1.5, 0.5 kWh losses
            readings += _readings(f"INC{n}", 6.0) + _readings(f"IT{n}", 4.0)
            readings += _readings(f"COOL{n}", 1.5)
            weather += [
                {"site": code, "timestamp": (START + timedelta(hours=h)).isoformat(),
                 "dry_bulb_c": 12.0, "relative_humidity_pct": 60}
                for h in range(-1, 49)
            ]  # fmt: skip
        import_meters(ws, meters)
        import_readings(ws, readings)
        import_file(ws, "weather", write_csv(root / "inputs" / "weather.csv", weather))
        import_rows(
            ws,
            "activities",
            [
                activity(
                    "electricity", 5_000_000, "kWh", entity_code="A", site="DC1", region="CN-GD"
                )
            ],
        )
        calculate(ws)
        accounts = {
            "office": ("esg_office", None),
            "owner.a": ("data_owner", "A"),
            "owner.b": ("data_owner", "B"),
            "auditor": ("auditor", None),
        }
        for username, (role, scope) in accounts.items():
            add_user(ws, Principal.local(), username, role=role, scope=scope, password=PASSWORD)
    finally:
        ws.close()
    return DemoCopy(root, dict.fromkeys(accounts, PASSWORD))
