"""The roles a meter plays in a data centre's meter tree (reference §1.2, openDCIM's
measure-point categories, EN 50600-4-2's split of E_DC).

计量表在数据中心计量树中的角色。

==============  ==========================================================================
role            what the meter measures
==============  ==========================================================================
``incomer``     utility supply at the data-centre boundary (E_DC, billing grade)
``ups_input``   energy into the UPS (UPS loss = input − output)
``ups_output``  energy out of the UPS: IT energy of measurement category 1
``pdu_output``  energy out of the PDUs: IT energy of measurement category 2
``it_input``    energy at the IT equipment input: IT energy of measurement category 3
``cooling``     chillers, towers, pumps, CRAH/CRAC, dry coolers (CLF)
``other``       lighting, BMS, security, fire, lifts (OLF)
``non_dc``      loads inside the boundary that are not the data centre (offices): subtracted
``onsite_re``   on-site renewable generation (PV, wind) used on site (REF when retained)
``fuel``        fuel burnt on site (generators), in energy or volume units
``water``       site water (tower make-up, humidification) for WUE
``heat_export`` heat reused outside the boundary (ERF)
==============  ==========================================================================
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

from esgledger.i18n import Text
from esgledger.schema import meter_roles, role_is_energy

__all__ = [
    "ENERGY_ROLES",
    "IT_ROLES",
    "IT_ROLE_BY_CATEGORY",
    "ROLES",
    "WATER_ROLES",
    "TreeMeter",
    "it_category",
    "it_role",
    "role_label",
    "top_meters",
]

#: The meter roles, in the order of ``esgledger/schema/meter_roles.csv`` (the data the
#: import templates read too).
ROLES: tuple[str, ...] = meter_roles()

#: Roles whose readings are water volumes (canonical unit L); every other role is energy (kWh).
WATER_ROLES: frozenset[str] = frozenset(r for r in ROLES if not role_is_energy(r))
ENERGY_ROLES: tuple[str, ...] = tuple(r for r in ROLES if r not in WATER_ROLES)

#: Where E_IT is metered, by measurement category (Green Grid / ISO/IEC 30134-2 levels 1-3).
IT_ROLE_BY_CATEGORY: dict[int, str] = {1: "ups_output", 2: "pdu_output", 3: "it_input"}

#: The IT roles, most downstream (best measurement category) first.
IT_ROLES: tuple[str, ...] = tuple(IT_ROLE_BY_CATEGORY[c] for c in sorted(IT_ROLE_BY_CATEGORY)[::-1])


def it_role(roles: Iterable[str]) -> str | None:
    """The role that measures E_IT among ``roles``: the most downstream IT role present
    (``it_input`` > ``pdu_output`` > ``ups_output``), or ``None`` when none is.

    E_IT 的计量角色：所给角色中最下游的 IT 角色。
    """
    present = set(roles)
    return next((role for role in IT_ROLES if role in present), None)


def it_category(role: str) -> int | None:
    """The measurement category (1-3) of an IT role, ``None`` for any other role."""
    return next((c for c, r in IT_ROLE_BY_CATEGORY.items() if r == role), None)


_LABELS: dict[str, Text] = {
    "incomer": Text("Utility incomer", "市电进线"),
    "ups_input": Text("UPS input", "UPS 输入"),
    "ups_output": Text("UPS output", "UPS 输出"),
    "pdu_output": Text("PDU output", "PDU 输出"),
    "it_input": Text("IT equipment input", "IT 设备输入"),
    "cooling": Text("Cooling", "制冷"),
    "other": Text("Other (lighting, security)", "其他（照明、安防）"),
    "non_dc": Text("Non-data-centre load", "非数据中心负荷"),
    "onsite_re": Text("On-site renewable generation", "现场可再生能源发电"),
    "fuel": Text("On-site fuel", "现场燃料"),
    "water": Text("Site water", "场地用水"),
    "heat_export": Text("Heat exported for reuse", "对外余热回用"),
}


def role_label(role: str) -> Text:
    """The bilingual name of ``role``.

    Raises
    ------
    KeyError
        For a role not in :data:`ROLES`.
    """
    return _LABELS[role]


class TreeMeter(Protocol):
    """What :func:`top_meters` reads of a meter: its id, its role and its parent's id."""

    @property
    def meter(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def parent(self) -> str | None: ...


_M = TypeVar("_M", bound=TreeMeter)


def top_meters(meters: Sequence[_M]) -> dict[str, list[_M]]:
    """Per role, the meters with no ancestor of the same role, in input order: their sum is
    the role's energy without double counting sub-meters (reference §1.2). A parent not in
    ``meters`` ends the walk up; a cycle is walked once.

    每个角色的顶层计量表（无同角色上级表），其读数之和即该角色能耗，不重复计算子表。
    """
    by_id = {m.meter: m for m in meters}
    found: dict[str, list[_M]] = {}
    for m in meters:
        parent, seen = m.parent, {m.meter}
        nested = False
        while parent and parent in by_id and parent not in seen:
            seen.add(parent)
            if by_id[parent].role == m.role:
                nested = True
                break
            parent = by_id[parent].parent
        if not nested:
            found.setdefault(m.role, []).append(m)
    return found
