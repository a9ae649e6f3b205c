"""Organisational boundary: which share of each entity's emissions the group reports.

组织边界：集团按所选合并方法（股权比例法、运营控制法、财务控制法）报告各实体排放的比例。

Implements the three consolidation approaches of the GHG Protocol Corporate Standard (revised
edition, 2004), chapter 3 "Setting Organizational Boundaries":

``equity_share`` (股权比例法)
    The group accounts for an entity's emissions according to its share of equity (economic
    interest) in it. Through a chain of holdings the shares multiply: a 55 % stake held by a
    wholly owned subsidiary is 55 % × 100 % = 55 %; a 50 % joint venture of an 83 % subsidiary
    is 50 % × 83 % = 41.5 %.
``operational_control`` (运营控制法)
    100 % of the emissions of operations the group controls operationally, 0 % of those it has
    an interest in but does not operate.
``financial_control`` (财务控制法)
    100 % of the emissions of operations the group controls financially, 0 % of those it has an
    interest in but does not control. A joint venture whose partners have *joint* financial
    control (Corporate Standard ch. 3, Table 1) is accounted for at the equity share of that
    link under this approach.

Entities are dicts shaped like the rows of ``store.repository.load_entities``: ``code`` (or
``entity``), ``name``, ``parent`` (``None`` for the group root), ``ownership_pct`` [%] (the
parent's equity share in this entity, 0-100), ``operational_control`` and ``financial_control``
(does the **parent** control this entity), ``country``. One optional key is read when present:
``joint_financial_control`` (the parent shares financial control with other partners; the
store has no such column yet, so it defaults to false).

Edge cases, decided here:

* **The root** reports 100 % under every approach; its own ``ownership_pct`` and control flags
  are ignored (there is no parent to own or control it).
* **Control is judged link by link.** The group controls an entity when it controls every link
  of the chain from the root down to it; one uncontrolled link breaks the chain, and every
  entity below it reports 0 % under that control approach (the group cannot direct what its
  uncontrolled investee controls). Under the equity approach shares simply multiply.
* **Control does not need equity.** Under a control approach ``ownership_pct`` is not used: an
  entity the group operates with a 0 % (or minority) stake reports 100 % under operational
  control; one with a majority stake it does not control reports 0 %.
* **Ownership 0** gives 0 % under equity share (for it and everything below it).
* **Joint ventures without control** report 0 % under both control approaches and their equity
  share under the equity approach; with ``joint_financial_control`` they report their equity
  share (times the shares above) under financial control.
* **Fixed-asset investments** (no significant influence, no control; Corporate Standard Table 1)
  are outside the boundary under every approach, also under equity share. Do not list them as
  entities: their emissions belong in Scope 3 category 15 (investments).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from esgledger.errors import InputError, Issue
from esgledger.reasons import Joined, Reason, reason

__all__ = [
    "APPROACHES",
    "ConsolidationApproach",
    "EntityShare",
    "consolidation_shares",
    "validate_structure",
]


class ConsolidationApproach(StrEnum):
    """The consolidation approaches of the GHG Protocol Corporate Standard, ch. 3."""

    EQUITY_SHARE = "equity_share"
    OPERATIONAL_CONTROL = "operational_control"
    FINANCIAL_CONTROL = "financial_control"

    @property
    def label(self) -> str:
        """English name for messages (``"operational control"``)."""
        return self.value.replace("_", " ")

    @property
    def label_zh(self) -> str:
        """Chinese name (``"运营控制法"``)."""
        return _LABELS_ZH[self]


_LABELS_ZH = {
    ConsolidationApproach.EQUITY_SHARE: "股权比例法",
    ConsolidationApproach.OPERATIONAL_CONTROL: "运营控制法",
    ConsolidationApproach.FINANCIAL_CONTROL: "财务控制法",
}

#: The approach names accepted by :func:`consolidation_shares`.
APPROACHES: tuple[str, ...] = tuple(a.value for a in ConsolidationApproach)


@dataclass(frozen=True, slots=True)
class EntityShare:
    """The share of one entity's emissions the group reports under one approach.

    Attributes
    ----------
    entity
        Entity code.
    share
        Fraction 0..1 of the entity's emissions included in the group's inventory.
    path
        Entity codes from the group root down to this entity (both included).
    reason
        Human-readable derivation, e.g. ``"55 % × 100 % equity via GRP > CONTENT > MUSIC"``.
    reason_zh
        The same in Simplified Chinese (both rendered from one
        :class:`esgledger.reasons.Reason`).
    """

    entity: str
    share: float
    path: tuple[str, ...]
    reason: str
    reason_zh: str = ""


@dataclass(frozen=True, slots=True)
class _Entity:
    code: str
    parent: str | None
    ownership: float | None  # fraction 0..1
    operational: bool | None
    financial: bool | None
    joint_financial: bool


_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0", ""}


def _flag(value: Any) -> bool | None:
    """A boolean from a bool, 0/1 or the usual words; None when it is none of these."""
    if isinstance(value, bool):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return bool(value) if value in (0, 1) else None
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _parse(
    entities: Iterable[Mapping[str, Any]],
) -> tuple[dict[str, _Entity], list[str]]:
    parsed: dict[str, _Entity] = {}
    problems: list[str] = []
    for index, row in enumerate(entities, start=1):
        code = _text(row.get("code", row.get("entity")))
        if code is None:
            problems.append(f"entity #{index} has no code")
            continue
        if code in parsed:
            problems.append(f"entity {code!r} appears more than once")
            continue
        parent = _text(row.get("parent"))
        raw_pct = row.get("ownership_pct")
        ownership: float | None = None
        if _text(raw_pct) is not None:
            try:
                pct = float(str(raw_pct))
            except (TypeError, ValueError):
                pct = math.nan
            if not math.isfinite(pct) or not 0.0 <= pct <= 100.0:
                problems.append(f"entity {code!r}: ownership_pct {raw_pct!r} is outside 0..100")
            else:
                ownership = pct / 100.0
        elif parent is not None:
            problems.append(f"entity {code!r}: ownership_pct is missing")
        flags: dict[str, bool | None] = {}
        for column in ("operational_control", "financial_control", "joint_financial_control"):
            flags[column] = _flag(row.get(column))
            if flags[column] is None:
                problems.append(f"entity {code!r}: {column} {row.get(column)!r} is not true/false")
        if flags["financial_control"] and flags["joint_financial_control"]:
            problems.append(
                f"entity {code!r}: financial_control and joint_financial_control are both true "
                "(control is either sole or joint)"
            )
        parsed[code] = _Entity(
            code=code,
            parent=parent,
            ownership=ownership,
            operational=flags["operational_control"],
            financial=flags["financial_control"],
            joint_financial=bool(flags["joint_financial_control"]),
        )
    return parsed, problems


def _structure_problems(parsed: dict[str, _Entity]) -> list[str]:
    problems: list[str] = []
    roots = [e.code for e in parsed.values() if e.parent is None]
    for entity in parsed.values():
        if entity.parent is not None and entity.parent not in parsed:
            problems.append(f"entity {entity.code!r} has unknown parent {entity.parent!r}")
    if parsed and not roots:
        problems.append("no group root: every entity has a parent (the root has parent empty)")
    if len(roots) > 1:
        names = ", ".join(repr(r) for r in roots)
        problems.append(f"more than one root (entities without a parent): {names}")
    reported: set[str] = set()
    for start in parsed:
        chain: list[str] = []
        code: str | None = start
        while code is not None and code in parsed and code not in chain:
            chain.append(code)
            code = parsed[code].parent
        if code is not None and code in chain:
            cycle = chain[chain.index(code) :]
            if not reported.intersection(cycle):
                reported.update(cycle)
                loop = " > ".join([*cycle, code])
                problems.append(f"cycle in the parent chain: {loop}")
    return problems


def validate_structure(entities: Iterable[Mapping[str, Any]]) -> list[str]:
    """Problems that stop a group structure from being consolidated; empty when it is fine.

    Reports, in this order for each entity and then for the structure: missing or duplicate
    codes, ``ownership_pct`` missing (below the root) or outside 0..100, control flags that are
    not booleans, both sole and joint financial control; then unknown parents, no root, more
    than one root (entities without a parent), and cycles in the parent chain.
    """
    parsed, problems = _parse(entities)
    return problems + _structure_problems(parsed)


def _pct(fraction: float) -> str:
    return f"{fraction * 100:.6g} %"


def _approach(approach: str | ConsolidationApproach) -> ConsolidationApproach:
    try:
        return ConsolidationApproach(str(approach).strip().lower())
    except ValueError:
        raise InputError(
            f"Unknown consolidation approach {approach!r}: choose one of {', '.join(APPROACHES)}."
        ) from None


def consolidation_shares(
    entities: Iterable[Mapping[str, Any]], approach: str | ConsolidationApproach
) -> dict[str, EntityShare]:
    """The share of each entity's emissions the group reports under ``approach``.

    Parameters
    ----------
    entities
        Entity rows (see the module docstring), e.g. ``store.repository.load_entities(s)``.
    approach
        ``"equity_share"``, ``"operational_control"`` or ``"financial_control"`` (GHG Protocol
        Corporate Standard, ch. 3).

    Returns
    -------
    dict[str, EntityShare]
        By entity code, in input order. ``share`` is a fraction 0..1: the product along the
        path of the ownership fractions (equity share), or 1 when every link from the root is
        controlled and 0 otherwise (control approaches; a link under joint financial control
        counts at its ownership fraction under financial control).

    Raises
    ------
    InputError
        If ``approach`` is unknown, or :func:`validate_structure` finds problems (one issue
        each).
    """
    method = _approach(approach)
    parsed, problems = _parse(entities)
    problems += _structure_problems(parsed)
    if problems:
        raise InputError(
            "The group structure cannot be consolidated (GHG Protocol Corporate Standard ch. 3 "
            "needs one tree of entities under one root)",
            [Issue("entities", None, None, None, p) for p in problems],
        )
    result: dict[str, EntityShare] = {}
    for code in parsed:
        path = _path(parsed, code)
        share, why = _share(parsed, path, method)
        result[code] = EntityShare(
            entity=code, share=share, path=path, reason=why.en, reason_zh=why.zh
        )
    return result


def _path(parsed: dict[str, _Entity], code: str) -> tuple[str, ...]:
    chain = [code]
    parent = parsed[code].parent
    while parent is not None:
        chain.append(parent)
        parent = parsed[parent].parent
    return tuple(reversed(chain))


def _share(
    parsed: dict[str, _Entity], path: tuple[str, ...], method: ConsolidationApproach
) -> tuple[float, Reason]:
    via = " > ".join(path)
    if len(path) == 1:
        return 1.0, reason("boundary.root", root=path[0])
    links = [parsed[code] for code in path[1:]]
    if method is ConsolidationApproach.EQUITY_SHARE:
        share = 1.0
        for link in links:
            share *= link.ownership if link.ownership is not None else 0.0
        terms = " × ".join(_pct(link.ownership or 0.0) for link in reversed(links))
        return share, reason("boundary.equity", terms=terms, via=via)
    label = reason(f"boundary.{method.value}")
    share = 1.0
    joint: list[Reason] = []
    for parent_code, link in zip(path, links, strict=False):
        if method is ConsolidationApproach.OPERATIONAL_CONTROL:
            controlled = bool(link.operational)
        else:
            controlled = bool(link.financial)
            if not controlled and link.joint_financial:
                fraction = link.ownership or 0.0
                share *= fraction
                joint.append(reason("boundary.joint", entity=link.code, pct=_pct(fraction)))
                continue
        if not controlled:
            return 0.0, reason(
                "boundary.not_controlled", parent=parent_code, label=label, child=link.code,
                via=via,
            )  # fmt: skip
    if joint:
        return share, reason(
            "boundary.joint_share", pct=_pct(share), joint=Joined(tuple(joint)), label=label,
            via=via,
        )  # fmt: skip
    return 1.0, reason("boundary.controlled", label=label, via=via)
