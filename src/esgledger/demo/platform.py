"""The demo group's platform side: one account per role, so a newcomer can sign in to
``esgledger serve`` at once, and a data-collection campaign in progress.

Passwords are random, returned once (the demo prints them) and stored only as Argon2id
hashes. The campaign (:func:`add_demo_campaign`) asks three business units for their sites'
water, which the demo's inputs hold only for the headquarters; the Cloud data owner has
submitted the first quarter of the Tianjin data centre, which waits for review with its flags
(the months still missing), and the other tasks are open."""

from __future__ import annotations

import csv
import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from esgledger.access import Principal
from esgledger.access.users import add_user
from esgledger.store import Workspace

__all__ = ["DEMO_ACCOUNTS", "DemoAccount", "add_demo_accounts", "add_demo_campaign"]

#: (username, role, scope entity or None for the whole group, display name).
DEMO_ACCOUNTS: tuple[tuple[str, str, str | None, str], ...] = (
    ("admin", "admin", None, "Platform administrator"),
    ("esg.office", "esg_office", None, "ESG office analyst"),
    ("cloud.reviewer", "reviewer", "CLOUD", "Reviewer, Cloud and Smart Industries"),
    ("cloud.owner", "data_owner", "CLOUD", "Data owner, Cloud and Smart Industries"),
    ("game.viewer", "viewer", "GAME", "Viewer, Interactive Entertainment"),
    ("auditor", "auditor", None, "Assurance provider"),
)


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    role: str
    scope: str | None
    password: str


def add_demo_accounts(workspace: Workspace) -> list[DemoAccount]:
    """Add :data:`DEMO_ACCOUNTS` with fresh random passwords (returned, never stored)."""
    made = []
    for username, role, scope, name in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(12)
        add_user(
            workspace,
            Principal.local(),
            username,
            role=role,
            scope=scope,
            password=password,
            display_name=name,
        )
        made.append(DemoAccount(username, role, scope, password))
    return made


#: Cubic metres of cooling and make-up water per MWh of a data centre's electricity (a water
#: usage effectiveness of 1.8 L/kWh, typical of evaporative cooling; synthetic).
WATER_M3_PER_MWH = 1.8


def _first_quarter_water(energy_file: Path, site: str) -> list[dict[str, str]]:
    """Synthetic water-supply rows of ``site`` for January to March, derived from the demo's
    electricity rows of the same months (:data:`WATER_M3_PER_MWH`)."""
    rows = []
    with energy_file.open(encoding="utf-8", newline="") as handle:
        for record in csv.DictReader(handle):
            start = dt.date.fromisoformat(record["period_start"])
            if (
                record["site"] != site
                or record["activity"] != "electricity"
                or record["unit"] != "MWh"
                or start.month > 3
            ):
                continue
            rows.append(
                {
                    **record,
                    "record_id": f"WATER-{record['record_id']}",
                    "activity": "water.supply",
                    "quantity": f"{float(record['quantity']) * WATER_M3_PER_MWH:.1f}",
                    "unit": "m3",
                    "notes": "from the water meter readings",
                }
            )
    return rows


def add_demo_campaign(
    workspace: Workspace, energy_file: Path, folder: Path, *, year: int
) -> dict[str, Any]:
    """Create the campaign asking the business units for their sites' water, and submit the
    Tianjin data centre's first quarter; returns the campaign as
    :func:`esgledger.collection.service.get_campaign` gives it."""
    from esgledger.collection.service import CampaignSpec, create_campaign, get_campaign, submit

    office = Principal(username="esg.office", role="esg_office")
    owner = Principal(username="cloud.owner", role="data_owner", scope_entity="CLOUD")
    campaign = create_campaign(
        workspace,
        office,
        CampaignSpec(
            name=f"FY{year} water (supplementary)",
            reporting_year=year,
            # in progress: due eight weeks from the day the demo is built, never overdue at once
            due_date=dt.date.today() + dt.timedelta(weeks=8),
            activities=("water.supply", "water.treatment"),
            entities=("CLOUD", "GAME", "SOC"),
            instructions_en="Enter each site's monthly water supply and wastewater from the "
            "meter readings or bills; attach the bills as evidence.",
            instructions_zh="请按水表读数或账单逐月填报各站点供水量与污水量，并上传账单作为佐证。",
        ),
    )
    task = next(t for t in campaign["tasks"] if t.get("entity") == "CLOUD")
    rows = _first_quarter_water(energy_file, "DC-TJ")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"cloud-water-{year}-q1.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    submit(workspace, owner, int(task["id"]), path)
    return get_campaign(workspace, office, int(campaign["id"]))
