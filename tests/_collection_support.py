"""A small organisation, users and files for the collection tests."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from esgledger.access import Principal
from esgledger.collection.service import CampaignSpec
from esgledger.store import Workspace
from esgledger.store.models_platform import User
from esgledger.store.repository import register_batch, save_entities, save_sites

ESG = Principal("esg", "esg_office")
CLOUD_OWNER = Principal("cloud_owner", "data_owner", scope_entity="CLOUD")
SOC_OWNER = Principal("soc_owner", "data_owner", scope_entity="SOC")
REVIEWER = Principal("rev", "reviewer", scope_entity="GRP")
VIEWER = Principal("view", "viewer", scope_entity="SOC")

COLUMNS = ("record_id", "entity", "site", "period_start", "period_end", "activity", "quantity",
           "unit")  # fmt: skip


def _entity(code: str, parent: str | None) -> dict[str, Any]:
    return {"code": code, "name": f"{code} Ltd", "name_zh": None, "parent": parent,
            "ownership_pct": 100.0, "operational_control": True, "financial_control": True,
            "country": "CN"}  # fmt: skip


def _site(code: str, entity: str, region: str) -> dict[str, Any]:
    return {"code": code, "entity": entity, "name": code, "name_zh": None, "country": "CN",
            "region": region, "type": "data_centre"}  # fmt: skip


def build_org(workspace: Workspace) -> Workspace:
    """GRP > CLOUD, SOC; sites DC-TJ (CLOUD), DC-SH (SOC), HQ-SZ (GRP); data owners of CLOUD
    and SOC."""
    with workspace.session() as session:
        batch = register_batch(
            session, kind="entities", file_name="org.csv", content_hash="0" * 64, row_count=3
        )
        save_entities(
            session, [_entity("GRP", None), _entity("CLOUD", "GRP"), _entity("SOC", "GRP")], batch
        )
        save_sites(
            session,
            [_site("DC-TJ", "CLOUD", "CN-TJ"), _site("DC-SH", "SOC", "CN-SH"),
             _site("HQ-SZ", "GRP", "CN-GD")],
            batch,
        )  # fmt: skip
        now = dt.datetime.now(dt.UTC)
        for name, scope in (("cloud_owner", "CLOUD"), ("soc_owner", "SOC")):
            session.add(
                User(username=name, role="data_owner", scope_entity=scope, disabled=False,
                     created_at=now, failed_sign_ins=0)
            )  # fmt: skip
    return workspace


def spec(**changes: Any) -> CampaignSpec:
    base: dict[str, Any] = {
        "name": "FY2024 energy",
        "reporting_year": 2024,
        "due_date": dt.date(2099, 3, 31),
        "activities": ("electricity",),
        "entities": ("CLOUD", "SOC"),
        "instructions_en": "Send monthly bills.",
        "instructions_zh": "请按月填报。",
    }
    return CampaignSpec(**(base | changes))


def row(
    entity: str = "CLOUD", site: str = "DC-TJ", month: int = 1, **changes: Any
) -> dict[str, Any]:
    start = dt.date(2024, month, 1)
    end = (dt.date(2024, month + 1, 1) if month < 12 else dt.date(2025, 1, 1)) - dt.timedelta(1)
    base = {"record_id": f"{entity}-{month}", "entity": entity, "site": site,
            "period_start": start.isoformat(), "period_end": end.isoformat(),
            "activity": "electricity", "quantity": 1000 * month, "unit": "kWh"}  # fmt: skip
    return base | changes


def write_csv(path: Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for record in rows:
            writer.writerow(["" if record.get(c) is None else record.get(c) for c in COLUMNS])
    return path
