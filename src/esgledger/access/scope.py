"""Scope over the organisation tree: an entity and everything under it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from esgledger.access.policy import grant, require
from esgledger.access.principal import Principal
from esgledger.store.models import Entity, Site
from esgledger.store.repository import load_entities, load_sites
from esgledger.store.workspace import Workspace

__all__ = ["organisation_view", "subtree", "visible_entities", "visible_sites"]


def subtree(parents: Mapping[str, str | None], root: str) -> frozenset[str]:
    """``root`` and every entity whose chain of parents reaches it (cycles are refused at
    import, see :mod:`esgledger.boundary`; a visited set keeps this linear anyway)."""
    children: dict[str | None, list[str]] = {}
    for code, parent in parents.items():
        children.setdefault(parent, []).append(code)
    found = {root}
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return frozenset(found)


def _parents(workspace: Workspace) -> dict[str, str | None]:
    with workspace.session() as session:
        rows = session.execute(sa.select(Entity.code, Entity.parent)).all()
    return {str(code): parent for code, parent in rows}


def visible_entities(
    workspace: Workspace, principal: Principal, action: str | None = None
) -> frozenset[str] | None:
    """The entity codes ``principal`` may see, ``None`` for the whole group: a role without a
    scope entity, or an ``action`` the matrix grants on ``all``."""
    if principal.scope_entity is None:
        return None
    if action is not None and grant(principal.role, action) == "all":
        return None
    return subtree(_parents(workspace), principal.scope_entity)


def visible_sites(workspace: Workspace, entities: Iterable[str] | None) -> frozenset[str] | None:
    """The site codes of ``entities`` (``None`` = all)."""
    if entities is None:
        return None
    wanted = set(entities)
    with workspace.session() as session:
        rows = session.execute(sa.select(Site.code, Site.entity)).all()
    return frozenset(code for code, entity in rows if entity in wanted)


_ENTITY_KEYS = ("code", "name", "name_zh", "parent", "country", "ownership_pct")
_SITE_KEYS = ("code", "name", "name_zh", "country", "region", "type")


def organisation_view(workspace: Workspace, principal: Principal) -> list[dict[str, Any]]:
    """The entities ``principal`` may see, ordered by code, each with its sites (a scoped
    principal: its scope entity and everything under it; the parent of its scope entity is
    named, not shown)."""
    require(principal, "entity:read")
    visible = visible_entities(workspace, principal, "entity:read")
    with workspace.session() as session:
        entities = load_entities(session)
        sites = load_sites(session)
    out: list[dict[str, Any]] = []
    for row in entities:
        if visible is not None and row["code"] not in visible:
            continue
        item = {key: row.get(key) for key in _ENTITY_KEYS}
        item["sites"] = [
            {key: place.get(key) for key in _SITE_KEYS}
            for place in sites
            if place["entity"] == row["code"]
        ]
        out.append(item)
    return out
