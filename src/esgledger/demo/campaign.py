"""The demo group's collection campaign, in progress: a newcomer signed in as
``cloud.owner`` finds tasks to fill in, one already submitted for ``cloud.reviewer`` to
review, and the ESG office sees the campaign's progress."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from esgledger.access import Principal
from esgledger.collection import service
from esgledger.store import Workspace

__all__ = ["DEMO_CAMPAIGN_SITES", "add_demo_campaign"]

#: The sites the demo campaign asks (Cloud's data centres) and the entities (the others).
DEMO_CAMPAIGN_SITES: tuple[str, ...] = ("DC-TJ", "DC-SH")
DEMO_CAMPAIGN_ENTITIES: tuple[str, ...] = ("GAME", "SOC")

_SUBMISSION = (
    "record_id,entity,site,period_start,period_end,activity,quantity,unit,notes\n"
    "DEMO-REF-{year}-1,CLOUD,DC-SH,{year}-03-01,{year}-03-31,refrigerant.R-134a,12.5,kg,"
    "chiller top-up after maintenance\n"
)


def add_demo_campaign(workspace: Workspace) -> dict[str, Any]:
    """Create the demo campaign (electricity and refrigerant top-ups of the reporting year,
    asked of two data centres and two business groups) and submit one small file to the
    Shanghai data centre's task, as its data owner would. Returns the campaign."""
    office = Principal("esg.office", "esg_office")
    year = workspace.reporting_year
    campaign = service.create_campaign(
        workspace,
        office,
        service.CampaignSpec(
            name=f"FY{year} energy and refrigerants",
            reporting_year=year,
            due_date=dt.date(year + 1, 3, 31),
            activities=("electricity", "refrigerant.*"),
            entities=DEMO_CAMPAIGN_ENTITIES,
            sites=DEMO_CAMPAIGN_SITES,
            instructions_en="One row per bill or meter reading; attach the bills as evidence.",
            instructions_zh="每张账单或每次抄表填写一行；请将账单作为证明材料上传。",
        ),
    )
    task = next(t for t in campaign["tasks"] if t["target"] == "DC-SH")
    owner = Principal("cloud.owner", "data_owner", scope_entity="CLOUD")
    with tempfile.TemporaryDirectory(prefix="esgledger-demo-") as folder:
        path = Path(folder) / "dc-sh-refrigerants.csv"
        path.write_text(_SUBMISSION.format(year=year), encoding="utf-8")
        service.submit(workspace, owner, int(task["id"]), path)
    return campaign
