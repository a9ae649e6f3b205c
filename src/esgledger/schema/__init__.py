"""Schema data: the column tables of every import kind, value bounds, unit lists and the meter
roles, read by the importers, the templates and the domain alike (no code depends on more than
this package to know them)."""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

__all__ = ["meter_roles", "role_is_energy"]


@cache
def _roles() -> tuple[tuple[str, bool], ...]:
    text = resources.files(__name__).joinpath("meter_roles.csv").read_text("utf-8")
    return tuple((row["role"], row["energy"] == "yes") for row in csv.DictReader(text.splitlines()))


def meter_roles() -> tuple[str, ...]:
    """The roles a meter of the data-centre tree may have (``meter_roles.csv``)."""
    return tuple(role for role, _ in _roles())


def role_is_energy(role: str) -> bool:
    """Whether readings of ``role`` are energy (else water volumes)."""
    return dict(_roles())[role]
