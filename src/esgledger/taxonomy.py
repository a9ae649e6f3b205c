"""The activity taxonomy: what kinds of activity data esgledger accounts for.

Schema as data: the shipped types live in ``esgledger/schema/activity_types.csv`` (key, English
and Chinese name, the pint dimension a quantity must have, default scope and scope 3 category,
and the factor activity that factors are filed under). Users extend it with their own types
(``esgledger import WS --kind activity-types FILE``), stored in the workspace database.

A key ending in ``.*`` declares a **family**: ``refrigerant.*`` accepts ``refrigerant.R-410A``,
``spend.naics.*`` accepts ``spend.naics.334111``. A member inherits everything from its family;
its ``factor_activity`` is the member key itself unless the family names another one (so
``spend.naics.334111`` finds the USEEIO factor filed as ``spend.naics.334111``, while
``leased.electricity`` finds grid factors filed as ``electricity``).

>>> from esgledger.taxonomy import Taxonomy
>>> t = Taxonomy.shipped().get("refrigerant.R-410A")
>>> (t.family, t.suffix, t.scope, t.dimension)
('refrigerant.*', 'R-410A', 1, '[mass]')
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from esgledger.errors import UnknownActivityError, close_matches

if TYPE_CHECKING:
    from esgledger.store import Workspace

__all__ = ["ActivityType", "Taxonomy", "validate_activity_type"]

_KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[A-Za-z0-9_][A-Za-z0-9_.\-]*)*(\.\*)?$")

#: What a family member's suffix must look like; a family not listed takes any suffix made
#: of letters, digits, ``_``, ``-`` and ``.``.
SUFFIX_RULES: dict[str, tuple[re.Pattern[str], str]] = {
    "spend.naics.*": (re.compile(r"^\d{6}$"), "a 6-digit 2017 NAICS code, e.g. 334111"),
    "travel.air.*": (
        re.compile(
            r"^(domestic|short_haul|medium_haul|long_haul|international)\."
            r"(average|economy|premium_economy|business|first)$"
        ),
        "haul.class, e.g. long_haul.economy (hauls: domestic, short_haul, medium_haul, "
        "long_haul, international; classes: average, economy, premium_economy, business, first)",
    ),
    "waste.*": (
        re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$"),
        "type.treatment, e.g. mixed_commercial.landfill",
    ),
}
_ANY_SUFFIX = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


@dataclass(frozen=True, slots=True)
class ActivityType:
    """One kind of activity.

    Attributes
    ----------
    activity
        The key (``electricity``, ``refrigerant.R-410A``); for a family declaration the
        pattern itself (``refrigerant.*``).
    dimension
        What the quantity's unit must express: a pint dimensionality (``[energy]``), a unit, or
        alternatives joined by ``|``; ``[currency]`` is any one currency
        (see :func:`esgledger.units.fits_dimension`).
    scope, scope3_category
        Default GHG Protocol scope (1, 2, 3) and, for scope 3, category 1-15; a row may
        override the category.
    factor_activity
        The activity key factors are filed under.
    family, suffix
        For a family member: the family pattern and the member's suffix.
    """

    activity: str
    name: str
    name_zh: str
    dimension: str
    scope: int
    scope3_category: int | None
    factor_activity: str
    description: str = ""
    family: str | None = None
    suffix: str | None = None
    user_defined: bool = False

    @property
    def is_family(self) -> bool:
        return self.activity.endswith(".*")


def validate_activity_type(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Problems of one activity-type record as ``(column, problem)`` pairs (empty when valid).

    Checks the key's form, the scope (1, 2 or 3), the scope 3 category (1-15, required for
    scope 3 and absent otherwise) and that the dimension is one pint understands.
    """
    from esgledger.errors import UnitError
    from esgledger.units import fits_dimension

    problems: list[tuple[str, str]] = []
    key = str(row.get("activity") or "")
    if not _KEY.match(key):
        problems.append(
            (
                "activity",
                "not a valid activity key: lower-case words joined by dots, e.g. "
                "purchased_goods.steel, or a family ending in .*",
            )
        )
    scope = row.get("scope")
    category = row.get("scope3_category")
    if scope not in (1, 2, 3):
        problems.append(("scope", "scope must be 1, 2 or 3"))
    elif scope == 3 and category is None:
        problems.append(("scope3_category", "a scope 3 activity needs its category (1-15)"))
    if category is not None and (scope != 3 or not 1 <= int(category) <= 15):
        problems.append(("scope3_category", "the category must be 1-15 and only given for scope 3"))
    dimension = str(row.get("dimension") or "")
    try:
        fits_dimension("kWh", dimension)
    except UnitError as exc:
        problems.append(("dimension", f"not a dimension or unit pint knows ({exc})"))
    return problems


def _int_or_none(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text else None


@cache
def _shipped_types() -> tuple[ActivityType, ...]:
    text = resources.files("esgledger.schema").joinpath("activity_types.csv").read_text("utf-8")
    out = []
    for row in csv.DictReader(text.splitlines()):
        out.append(
            ActivityType(
                activity=row["activity"],
                name=row["name"],
                name_zh=row["name_zh"],
                dimension=row["dimension"],
                scope=int(row["scope"]),
                scope3_category=_int_or_none(row["scope3_category"]),
                factor_activity=row["factor_activity"] or row["activity"],
                description=row["description"],
            )
        )
    return tuple(out)


class Taxonomy:
    """The shipped activity types plus a workspace's own.

    Use :meth:`shipped`, :meth:`for_workspace`, or :meth:`with_user_types`; look keys up with
    :meth:`get`.
    """

    def __init__(self, types: Iterable[ActivityType]):
        self._exact: dict[str, ActivityType] = {}
        self._families: dict[str, ActivityType] = {}
        for activity_type in types:
            target = self._families if activity_type.is_family else self._exact
            if activity_type.activity in target:
                raise ValueError(f"activity type {activity_type.activity!r} is declared twice")
            target[activity_type.activity] = activity_type

    @classmethod
    def shipped(cls) -> Taxonomy:
        """The taxonomy esgledger ships (``schema/activity_types.csv``)."""
        return cls(_shipped_types())

    def with_user_types(self, rows: Iterable[Mapping[str, Any]]) -> Taxonomy:
        """This taxonomy extended by user activity types (dicts with the columns of the
        activity-types import: activity, name, dimension, scope, scope3_category and optional
        name_zh, factor_activity, description).

        Raises
        ------
        ValueError
            If a user type reuses a key this taxonomy already has.
        """
        extra = []
        for row in rows:
            key = str(row["activity"])
            extra.append(
                ActivityType(
                    activity=key,
                    name=str(row.get("name") or key),
                    name_zh=str(row.get("name_zh") or row.get("name") or key),
                    dimension=str(row["dimension"]),
                    scope=int(row["scope"]),
                    scope3_category=(
                        None if row.get("scope3_category") is None else int(row["scope3_category"])
                    ),
                    factor_activity=str(row.get("factor_activity") or key),
                    description=str(row.get("description") or ""),
                    user_defined=True,
                )
            )
        return Taxonomy([*self._exact.values(), *self._families.values(), *extra])

    @classmethod
    def for_workspace(cls, workspace: Workspace) -> Taxonomy:
        """The shipped taxonomy plus the workspace's user activity types."""
        from esgledger.store.repository import load_activity_types

        with workspace.session() as session:
            rows = load_activity_types(session)
        return cls.shipped().with_user_types(rows)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        try:
            self.get(key)
        except UnknownActivityError:
            return False
        return True

    def __iter__(self) -> Iterator[ActivityType]:
        """Every declared type (family patterns included), in declaration order."""
        yield from self._exact.values()
        yield from self._families.values()

    def __len__(self) -> int:
        return len(self._exact) + len(self._families)

    def family_of(self, key: str) -> ActivityType | None:
        """The family declaration a key belongs to (longest matching prefix), if any."""
        best: ActivityType | None = None
        for pattern, family in self._families.items():
            prefix = pattern[:-1]  # keep the dot
            longer = best is None or len(pattern) > len(best.activity)
            if key.startswith(prefix) and len(key) > len(prefix) and longer:
                best = family
        return best

    def get(self, key: str) -> ActivityType:
        """The activity type of ``key``, a declared type or a member of a family.

        Raises
        ------
        UnknownActivityError
            If the key is neither, or a family member's suffix has the wrong form; the message
            suggests close keys.
        """
        found = self._exact.get(key)
        if found is not None:
            return found
        family = self.family_of(key)
        if family is None:
            close = close_matches(key, [*self._exact, *self._families], n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UnknownActivityError(
                f"unknown activity {key!r}{hint} (`esgledger activities` lists them)",
                activity=key,
            )
        suffix = key[len(family.activity) - 1 :]
        pattern, expected = SUFFIX_RULES.get(family.activity, (_ANY_SUFFIX, ""))
        if not pattern.match(suffix):
            what = expected or "letters, digits, _, - and ."
            raise UnknownActivityError(
                f"activity {key!r}: the part after {family.activity[:-1]!r} must be {what}",
                activity=key,
            )
        factor_activity = (
            key if family.factor_activity == family.activity else family.factor_activity
        )
        return replace(
            family,
            activity=key,
            factor_activity=factor_activity,
            family=family.activity,
            suffix=suffix,
        )
