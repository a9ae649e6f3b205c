"""The one role matrix and the one function that decides.

``roles.csv`` has a row per action (``area:verb``) and a column per role, each cell ``all``
(the role may do it anywhere in the group), ``scope`` (only for entities in the principal's
scope: its scope entity and everything under it) or ``-`` (never). :func:`allowed` answers
``True`` or the reason of a refusal; :func:`require` raises
:class:`~esgledger.errors.AccessDeniedError` with that reason. Documented in
``docs/platform/roles.md``; a test walks the whole matrix through the API.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Literal

from esgledger.access.principal import Principal
from esgledger.errors import AccessDeniedError, with_zh

__all__ = [
    "ROLES",
    "Grant",
    "action_descriptions",
    "actions",
    "allowed",
    "grant",
    "matrix_markdown",
    "require",
    "require_all",
]

#: The roles, in the order of the matrix's columns.
ROLES: tuple[str, ...] = ("admin", "esg_office", "reviewer", "data_owner", "viewer", "auditor")

Grant = Literal["all", "scope", "-"]


@dataclass(frozen=True, slots=True)
class _Matrix:
    grants: dict[str, dict[str, Grant]]
    descriptions: dict[str, str]


@functools.cache
def _matrix() -> _Matrix:
    text = resources.files("esgledger.access").joinpath("roles.csv").read_text("utf-8")
    grants: dict[str, dict[str, Grant]] = {}
    descriptions: dict[str, str] = {}
    for line, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        action = row["action"]
        if action in grants or ":" not in action:
            raise ValueError(f"roles.csv line {line}: action {action!r} repeated or not area:verb")
        cells: dict[str, Grant] = {}
        for role in ROLES:
            cell = row[role]
            if cell not in ("all", "scope", "-"):
                raise ValueError(f"roles.csv line {line}, {role}: {cell!r} is not all/scope/-")
            cells[role] = cell  # type: ignore[assignment]
        grants[action] = cells
        descriptions[action] = row["description"]
    return _Matrix(grants, descriptions)


def actions() -> tuple[str, ...]:
    """Every action of the matrix, in its order."""
    return tuple(_matrix().grants)


def action_descriptions() -> dict[str, str]:
    return dict(_matrix().descriptions)


def grant(role: str, action: str) -> Grant:
    """The matrix cell of ``role`` and ``action`` (``-`` for an unknown role)."""
    try:
        cells = _matrix().grants[action]
    except KeyError:
        raise KeyError(f"action {action!r} is not in access/roles.csv") from None
    return cells.get(role, "-")


def allowed(
    principal: Principal,
    action: str,
    entity: str | None = None,
    *,
    visible: frozenset[str] | None = None,
) -> Literal[True] | str:
    """``True`` if ``principal`` may do ``action`` (on ``entity``, when the action concerns one),
    else the reason.

    ``visible`` is the principal's scope as entity codes (:func:`esgledger.access.scope.
    visible_entities`; ``None`` = the whole group). An action granted ``scope`` on no
    particular entity is allowed: the service then filters what it reads to ``visible``.
    """
    cell = grant(principal.role, action)
    if cell == "-":
        return f"the role {principal.role} may not {action}"
    if cell == "all" or entity is None or visible is None:
        return True
    if entity in visible:
        return True
    return f"{entity} is outside the scope of {principal.username} ({principal.scope_entity})"


def require(
    principal: Principal,
    action: str,
    entity: str | None = None,
    *,
    visible: frozenset[str] | None = None,
) -> None:
    """Raise :class:`AccessDeniedError` unless :func:`allowed`."""
    answer = allowed(principal, action, entity, visible=visible)
    if answer is not True:
        if grant(principal.role, action) == "-":
            zh = f"角色 {principal.role} 无权执行 {action}。"
        else:
            zh = f"{entity} 不在 {principal.username} 的数据范围（{principal.scope_entity}）内。"
        raise with_zh(AccessDeniedError(answer), zh)


def require_all(
    principal: Principal,
    action: str,
    entities: Iterable[str],
    *,
    visible: frozenset[str] | None = None,
) -> None:
    """:func:`require` for each of ``entities`` (the first refusal raises)."""
    for entity in sorted(set(entities)):
        require(principal, action, entity, visible=visible)


_CELL_TEXT: dict[str, str] = {"all": "all", "scope": "scope", "-": "–"}


def matrix_markdown() -> str:
    """The matrix as the Markdown table of ``docs/platform/roles.md`` (a test keeps the two
    the same): one row per action, one column per role, then the description."""
    header = ["action", *ROLES, "description"]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + [":---:"] * len(ROLES) + ["---"]) + "|",
    ]
    matrix = _matrix()
    for action, cells in matrix.grants.items():
        row = [f"`{action}`", *(_CELL_TEXT[cells[role]] for role in ROLES)]
        row.append(matrix.descriptions[action].replace("|", "\\|"))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"
