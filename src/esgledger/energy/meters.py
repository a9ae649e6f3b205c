"""Stand-in for the core's ``energy/meters.py`` (issue 14 contract); the core's wins on merge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from esgledger.store import Workspace

__all__ = ["Meter", "data_centre_sites", "load_meters", "site_timezone"]


@dataclass(frozen=True)
class Meter:
    meter: str
    site: str
    parent: str | None
    role: str
    unit: str
    kind: str
    multiplier: float = 1.0
    rollover: float | None = None
    timezone: str = "UTC"
    fuel: str | None = None
    timestamp_marks: str = "end"
    name: str | None = None
    name_zh: str | None = None
    canonical_unit: str = "kWh"


def load_meters(workspace: Workspace, *, site: str | None = None) -> list[Meter]:
    return []  # no meters table before the core


def site_timezone(workspace: Workspace, site: str) -> str:
    raise NotImplementedError("energy core not merged yet")


def data_centre_sites(workspace: Workspace) -> list[str]:
    return []  # no meters table before the core
