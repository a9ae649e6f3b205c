"""Reads and writes of the meter tree (``energy_meters``) in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from esgledger.store.models import ImportBatch
from esgledger.store.models_energy import EnergyMeter
from esgledger.store.repository import _load, _rows, _upsert

__all__ = ["load_meters", "save_meters", "sites_with_meters"]


def save_meters(session: Session, records: Iterable[Mapping[str, Any]], batch: ImportBatch) -> int:
    """Upsert meters by ``meter``; return the number written."""
    return _upsert(session, EnergyMeter, _rows(EnergyMeter, records, {"batch_id": batch.id}))


def load_meters(session: Session) -> list[dict[str, Any]]:
    """All meters as dicts keyed by column name, ordered by ``meter``."""
    return _load(session, EnergyMeter)


def sites_with_meters(session: Session) -> list[str]:
    """The codes of the sites that have at least one meter, sorted."""
    rows = session.execute(sa.select(EnergyMeter.site).distinct().order_by(EnergyMeter.site))
    return [str(row[0]) for row in rows]
