"""Stand-in for the core's ``energy/roles.py`` (issue 14 contract); the core's wins on merge."""

from __future__ import annotations

__all__ = ["ENERGY_ROLES", "IT_ROLE_BY_CATEGORY", "ROLES"]

ROLES: tuple[str, ...] = (
    "incomer", "ups_input", "ups_output", "pdu_output", "it_input", "cooling", "other",
    "non_dc", "onsite_re", "fuel", "water", "heat_export",
)  # fmt: skip
IT_ROLE_BY_CATEGORY = {1: "ups_output", 2: "pdu_output", 3: "it_input"}
ENERGY_ROLES: tuple[str, ...] = tuple(r for r in ROLES if r != "water")
