"""Builders for inventory tests: write small CSV files and feed them through the REAL import.

Every workspace the inventory tests calculate is filled by :func:`esgledger.ingest.importers.
import_file`, exactly as a user's files are, so the tests cover import and engine together
(:func:`seed_organisation` alone writes through the repository, for importer and CLI tests).
(``tests/`` is on ``sys.path`` because the root ``conftest.py`` lives there.)
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from esgledger.ingest.importers import import_file
from esgledger.store import Workspace
from esgledger.store.repository import register_batch, save_entities, save_sites

YEAR = 2024
_counter = itertools.count(1)


def write_csv(path: Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    """Write dict rows as a UTF-8 CSV (columns: the union of the keys, in first-seen order;
    None is an empty cell)."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return path


def import_rows(ws: Workspace, kind: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Import ``rows`` as a CSV file of ``kind`` into ``ws`` (the file lives in the
    workspace folder, under a unique name)."""
    folder = ws.root / "inputs"
    folder.mkdir(exist_ok=True)
    path = write_csv(folder / f"{kind}-{next(_counter)}.csv", rows)
    import_file(ws, kind, path)


def seed_organisation(
    workspace: Workspace, *, entity: str, site: str, region: str, site_type: str = "office"
) -> None:
    """Write one entity (wholly owned and controlled, in CN) and one site of it through the
    repository, as one entities batch: for tests of the activity importer and the CLI that
    need an organisation but must not depend on the reference importers."""
    with workspace.session() as session:
        batch = register_batch(
            session, kind="entities", file_name="org.csv", content_hash="1" * 64, row_count=1
        )
        record = {"code": entity, "name": f"Entity {entity}", "parent": None, "country": "CN"}
        record |= {"ownership_pct": 100.0, "operational_control": True, "financial_control": True}
        save_entities(session, [record], batch)
        place = {"code": site, "entity": entity, "name": f"Site {site}", "country": "CN"}
        place |= {"region": region, "type": site_type}
        save_sites(session, [place], batch)


def entity(code: str = "GRP", *, parent: str | None = None, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "entity": code,
        "name": f"Entity {code}",
        "parent": parent,
        "ownership_pct": 100,
        "operational_control": "true",
        "financial_control": "true",
        "country": "CN",
    }
    row.update(overrides)
    return row


def site(code: str, entity_code: str = "GRP", **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "site": code,
        "entity": entity_code,
        "name": f"Site {code}",
        "country": "CN",
        "region": None,
        "type": "office",
    }
    row.update(overrides)
    return row


def activity(
    activity_key: str,
    quantity: float | str,
    unit: str,
    *,
    entity_code: str = "GRP",
    **overrides: Any,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "entity": entity_code,
        "site": None,
        "period_start": f"{YEAR}-01-01",
        "period_end": f"{YEAR}-12-31",
        "activity": activity_key,
        "quantity": quantity,
        "unit": unit,
        "region": None,
        "supplier": None,
        "scope3_category": None,
        "factor": None,
    }
    row.update(overrides)
    return row


def user_factor(
    factor_id: str,
    activity_key: str,
    unit: str,
    co2e_kg: float,
    *,
    region: str = "GLOBAL",
    gwp_basis: str = "AR5",
    **overrides: Any,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "factor": factor_id,
        "activity": activity_key,
        "region": region,
        "year": YEAR,
        "unit": unit,
        "co2e_kg": co2e_kg,
        "gwp_basis": gwp_basis,
        "source": "test factor",
    }
    row.update(overrides)
    return row


def new_workspace(
    root: Path,
    *,
    entities: Iterable[Mapping[str, Any]] | None = None,
    sites: Iterable[Mapping[str, Any]] = (),
    activity_types: Iterable[Mapping[str, Any]] = (),
    factors: Iterable[Mapping[str, Any]] = (),
    fx: Iterable[Mapping[str, Any]] = (),
    activities: Iterable[Mapping[str, Any]] = (),
    year: int = YEAR,
) -> Workspace:
    """A SQLite workspace filled through the importers, in the order a user would."""
    ws = Workspace.init(root, year=year, name="Inventory Test Group")
    for kind, rows in (
        ("entities", list(entities) if entities is not None else [entity()]),
        ("sites", list(sites)),
        ("activity-types", list(activity_types)),
        ("factors", list(factors)),
        ("fx", list(fx)),
        ("activities", list(activities)),
    ):
        if rows:
            import_rows(ws, kind, rows)
    return ws


def gec_instrument(instrument: str, mwh: float, **overrides: Any) -> dict[str, Any]:
    """A China green electricity certificate (solar, Inner Mongolia, commissioned 2020),
    covering the whole reporting year and retired for site ``DC``; override any column."""
    row: dict[str, Any] = {
        "instrument": instrument,
        "type": "gec",
        "technology": "solar",
        "generator": "Test solar plant",
        "commissioned": "2020-06-30",
        "country": "CN",
        "region": "CN-NM",
        "period_start": f"{YEAR}-01-01",
        "period_end": f"{YEAR}-12-31",
        "mwh": mwh,
        "retired_on": f"{YEAR + 1}-01-15",
        "retired_for": "DC",
        "registry_id": f"GEC-{instrument}",
    }
    row.update(overrides)
    return row
