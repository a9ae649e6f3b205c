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
* **Depth.** A chain of holdings has at most :data:`MAX_DEPTH` levels (the root is level 1); a
  deeper one is refused, naming the group root, the first entity beyond the limit and the
  limit. A real group rarely has more than about 20 levels.

The structure is checked in one pass over the entities (:func:`analyse_structure`: every
entity is visited once, so the time is linear in their number, whatever the depth) and the
shares are computed top down (each entity's share is its parent's times its own link). The
derivation of a share names its path; a path longer than :data:`REASON_PATH_SHOWN` entities is
shortened to its first and last entities around ``…`` (``GRP > A > B > … > X > Y > Z``), so a
reason's length does not grow with the depth of the tree. Cycles are named the same way.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from esgledger.errors import InputError, Issue
from esgledger.reasons import Joined, Reason, reason

__all__ = [
    "APPROACHES",
    "MAX_DEPTH",
    "REASON_PATH_SHOWN",
    "ConsolidationApproach",
    "EntityShare",
    "Structure",
    "analyse_structure",
    "consolidation_shares",
    "cycle_text",
    "depth_problem",
    "path_to_root",
    "quoted_list",
    "shortened",
    "validate_structure",
]

#: The deepest chain of holdings accepted, in levels: the group root is level 1, its direct
#: subsidiaries level 2, and so on. A real group rarely has more than about 20 levels; a
#: deeper chain is almost always a mistake in the parent column (docs/hardening/organisation.md).
MAX_DEPTH = 100

#: A path (or cycle) of more entities than this is shown shortened in messages and reasons:
#: its first three and last three entities around ``…``.
REASON_PATH_SHOWN = 8

_ELLIPSIS = "…"


def shortened(items: Sequence[str], *, shown: int = REASON_PATH_SHOWN) -> list[str]:
    """``items`` as they are when at most ``shown``, else the first and last three around
    ``…`` (what a message or a reason prints of a long path, so its length stays bounded).

    >>> shortened(["G", "A", "B", "C", "D", "E", "F", "H", "I"])
    ['G', 'A', 'B', '…', 'F', 'H', 'I']
    """
    if len(items) <= shown:
        return list(items)
    return [*items[:3], _ELLIPSIS, *items[-3:]]


@dataclass(frozen=True, slots=True)
class Structure:
    """The shape of a group structure, found by :func:`analyse_structure`.

    Attributes
    ----------
    roots
        Entities without a parent, in input order.
    unknown_parents
        ``(entity, parent)`` for every entity whose parent is not an entity, in input order.
    cycles
        Each cycle of the parent chain once: an entity, its parent, its parent's parent …
        up to (not repeating) the first.
    depth
        Level of every entity that hangs under a root (the root is level 1); entities in a
        cycle, under a cycle or under an unknown parent have none.
    root_of
        The root above every entity of :attr:`depth`.
    too_deep
        The entities at level ``max_depth + 1``: the first beyond the limit on each chain
        (their descendants are deeper still), in input order.
    """

    roots: tuple[str, ...]
    unknown_parents: tuple[tuple[str, str], ...]
    cycles: tuple[tuple[str, ...], ...]
    depth: Mapping[str, int]
    root_of: Mapping[str, str]
    too_deep: tuple[str, ...]


def analyse_structure(
    parents: Mapping[str, str | None], *, max_depth: int = MAX_DEPTH
) -> Structure:
    """Roots, unknown parents, cycles and the level of every entity, in one pass.

    Parameters
    ----------
    parents
        Entity code → parent code (``None`` for a root).
    max_depth
        The deepest level accepted (:data:`MAX_DEPTH`).

    Returns
    -------
    Structure

    Notes
    -----
    Every entity is entered once: a walk up the parent chain stops at the first entity
    already placed (or at a root, an unknown parent, or an entity of the walk itself — a
    cycle), and the walk is then placed from the top down. The time is linear in the number
    of entities whatever the shape of the tree (the check it replaced, a walk to the root
    from every entity with a list search at each step, was cubic on a deep chain).
    """
    depth: dict[str, int] = {}  # 0: in or under a cycle, or under an unknown parent
    root_of: dict[str, str] = {}
    cycles: list[tuple[str, ...]] = []
    for start in parents:
        if start in depth:
            continue
        walk: list[str] = []
        on_walk: dict[str, int] = {}
        code: str | None = start
        while code is not None and code in parents and code not in depth and code not in on_walk:
            on_walk[code] = len(walk)
            walk.append(code)
            code = parents[code]
        top = ""
        if code is None:  # the walk reached a root: its last entity
            level, top = 0, walk[-1]
        elif depth.get(code, 0) > 0:  # it reached an entity placed under a root
            level, top = depth[code], root_of[code]
        else:  # a cycle, an entity in or under one, or an unknown parent: no level
            if code in on_walk:
                cycles.append(tuple(walk[on_walk[code] :]))
            level = -1
        for member in reversed(walk):
            if level < 0:
                depth[member] = 0
                continue
            level += 1
            depth[member] = level
            root_of[member] = top
    placed = {code: depth[code] for code in parents if depth[code] > 0}  # input order
    return Structure(
        roots=tuple(code for code, parent in parents.items() if parent is None),
        unknown_parents=tuple(
            (code, parent)
            for code, parent in parents.items()
            if parent is not None and parent not in parents
        ),
        cycles=tuple(cycles),
        depth=placed,
        root_of={code: root_of[code] for code in placed},
        too_deep=tuple(code for code, level in placed.items() if level == max_depth + 1),
    )


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


def quoted_list(codes: Sequence[str]) -> str:
    """Codes for a message, quoted; a long list shortened with its count."""
    shown = ", ".join(c if c == _ELLIPSIS else repr(c) for c in shortened(codes))
    return shown if len(codes) <= REASON_PATH_SHOWN else f"{shown} ({len(codes)} in all)"


def cycle_text(cycle: Sequence[str], arrow: str = " > ") -> str:
    """A cycle of the parent chain as ``A > B > C > A``; a long one shortened, with its
    length (``A > B > C > … > X > Y > Z > A (3000 entities)``)."""
    loop = arrow.join([*shortened(cycle), cycle[0]])
    return loop if len(cycle) <= REASON_PATH_SHOWN else f"{loop} ({len(cycle)} entities)"


def path_to_root(parents: Mapping[str, str | None], code: str) -> list[str]:
    """The entities from the root down to ``code`` (an entity placed under a root by
    :func:`analyse_structure`, so the walk ends)."""
    chain = [code]
    parent = parents[code]
    while parent is not None:
        chain.append(parent)
        parent = parents[parent]
    chain.reverse()
    return chain


def depth_problem(parents: Mapping[str, str | None], code: str, root: str) -> str:
    """The message of an entity beyond :data:`MAX_DEPTH` (one of ``Structure.too_deep``)."""
    chain = " > ".join(shortened(path_to_root(parents, code)))
    return (
        f"entity {code!r} is at level {MAX_DEPTH + 1} of the chain of parents from the root "
        f"{root!r} ({chain}): deeper than the limit of {MAX_DEPTH} levels"
    )


def _structure_problems(parsed: dict[str, _Entity]) -> tuple[list[str], Structure]:
    parents = {code: entity.parent for code, entity in parsed.items()}
    shape = analyse_structure(parents)
    problems = [
        f"entity {code!r} has unknown parent {parent!r}" for code, parent in shape.unknown_parents
    ]
    if parsed and not shape.roots:
        problems.append("no group root: every entity has a parent (the root has parent empty)")
    if len(shape.roots) > 1:
        listed = quoted_list(shape.roots)
        problems.append(f"more than one root (entities without a parent): {listed}")
    problems += [f"cycle in the parent chain: {cycle_text(cycle)}" for cycle in shape.cycles]
    problems += [depth_problem(parents, code, shape.root_of[code]) for code in shape.too_deep]
    return problems, shape


def validate_structure(entities: Iterable[Mapping[str, Any]]) -> list[str]:
    """Problems that stop a group structure from being consolidated; empty when it is fine.

    Reports, in this order for each entity and then for the structure: missing or duplicate
    codes, ``ownership_pct`` missing (below the root) or outside 0..100, control flags that are
    not booleans, both sole and joint financial control; then unknown parents, no root, more
    than one root (entities without a parent), cycles in the parent chain, and chains deeper
    than :data:`MAX_DEPTH` levels (the first entity beyond the limit on each). Time linear in
    the number of entities (:func:`analyse_structure`).
    """
    parsed, problems = _parse(entities)
    return problems + _structure_problems(parsed)[0]


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
    structural, shape = _structure_problems(parsed)
    problems += structural
    if problems:
        raise InputError(
            "The group structure cannot be consolidated (GHG Protocol Corporate Standard ch. 3 "
            "needs one tree of entities under one root)",
            [Issue("entities", None, None, None, p) for p in problems],
        )
    shares = _shares(parsed, sorted(parsed, key=shape.depth.__getitem__), method)
    return {code: shares[code] for code in parsed}


def _shares(
    parsed: dict[str, _Entity], top_down: list[str], method: ConsolidationApproach
) -> dict[str, EntityShare]:
    """Every entity's share, each from its parent's (``top_down``: parents before children):
    the equity product, or under a control approach the first uncontrolled link from the top
    and the joint links above. The path of an entity is at most :data:`MAX_DEPTH` long."""
    equity = method is ConsolidationApproach.EQUITY_SHARE
    label = None if equity else reason(f"boundary.{method.value}")
    paths: dict[str, tuple[str, ...]] = {}
    share: dict[str, float] = {}
    broken: dict[str, tuple[str, str] | None] = {}  # first uncontrolled link (parent, child)
    joint: dict[str, tuple[Reason, ...]] = {}
    result: dict[str, EntityShare] = {}
    for code in top_down:
        link = parsed[code]
        parent = link.parent
        if parent is None:
            paths[code], share[code], broken[code], joint[code] = (code,), 1.0, None, ()
            why = reason("boundary.root", root=code)
            result[code] = EntityShare(code, 1.0, (code,), why.en, why.zh)
            continue
        path = (*paths[parent], code)
        paths[code] = path
        via = " > ".join(shortened(path))
        if equity:
            share[code] = share[parent] * (link.ownership if link.ownership is not None else 0.0)
            upward = path[:0:-1]  # the links from this entity up to the root's child
            terms = " × ".join(
                t if t == _ELLIPSIS else _pct(parsed[t].ownership or 0.0) for t in shortened(upward)
            )
            why = reason("boundary.equity", terms=terms, via=via)
            result[code] = EntityShare(code, share[code], path, why.en, why.zh)
            continue
        if method is ConsolidationApproach.OPERATIONAL_CONTROL:
            controlled, is_joint = bool(link.operational), False
        else:
            controlled = bool(link.financial)
            is_joint = not controlled and link.joint_financial
        broken[code] = broken[parent]
        joint[code] = joint[parent]
        share[code] = share[parent]
        if is_joint:
            fraction = link.ownership or 0.0
            share[code] *= fraction
            joint[code] += (reason("boundary.joint", entity=code, pct=_pct(fraction)),)
        elif not controlled and broken[code] is None:
            broken[code] = (parent, code)
        first_break = broken[code]
        if first_break is not None:
            why = reason(
                "boundary.not_controlled", parent=first_break[0], label=label,
                child=first_break[1], via=via,
            )  # fmt: skip
            result[code] = EntityShare(code, 0.0, path, why.en, why.zh)
        elif joint[code]:
            parts = joint[code]
            shown: tuple[Reason | str, ...] = (
                parts if len(parts) <= REASON_PATH_SHOWN else (*parts[:3], _ELLIPSIS, *parts[-3:])
            )
            why = reason(
                "boundary.joint_share", pct=_pct(share[code]), joint=Joined(shown), label=label,
                via=via,
            )  # fmt: skip
            result[code] = EntityShare(code, share[code], path, why.en, why.zh)
        else:
            why = reason("boundary.controlled", label=label, via=via)
            result[code] = EntityShare(code, 1.0, path, why.en, why.zh)
    return result
