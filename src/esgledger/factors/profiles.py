"""Workspace profiles: which shipped sets serve a country, and its explicit, flagged fallbacks.

A profile is data, ``esgledger/data/profiles/profiles.csv``: per profile (``CN``, ``US``,
``GB``, ``HK`` and ``generic`` for any other country) one row per family of activities, with
its ``coverage``:

``shipped``
    factors of the row's own area (or GLOBAL) are shipped; ``sets`` names them. Informative:
    resolution needs nothing else.
``default``
    no factor of the row's own area is shipped; the factors of ``regions`` (and ``sets``)
    stand in as the documented default for those activities, tier ``default`` (rule 12 of
    ``docs/methodology/factor-resolution.md``).
``proxy``
    the same, as a geographic proxy: tier ``proxy`` (e.g. US EEIO spend factors for CNY spend).
``none``
    nothing is shipped: the note says what to import.

``esgledger init WS --country CN`` writes the profile into ``esgledger.toml`` (``[profile]``
and one ``[[factors.fallbacks]]`` table per ``default``/``proxy`` row) and prints it; the
workspace reads the fallbacks back with :attr:`esgledger.store.Workspace.factor_fallbacks`.
The toml is the workspace's own copy: editing it changes the workspace, and a newer esgledger
never changes it silently.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from esgledger import regions
from esgledger.factors.resolve import Fallback, parse_fallbacks

__all__ = [
    "COVERAGES",
    "GENERIC",
    "Profile",
    "ProfileRule",
    "get",
    "profile_for",
    "profiles",
]

#: How a profile row's activities are covered (see the module docstring).
COVERAGES: tuple[str, ...] = ("shipped", "default", "proxy", "none")
#: The profile of every country without one of its own.
GENERIC = "generic"


@dataclass(frozen=True, slots=True)
class ProfileRule:
    """One row of ``profiles.csv``."""

    order: int
    coverage: str
    activities: tuple[str, ...]
    regions: tuple[str, ...]
    sets: tuple[str, ...]
    note: str
    note_zh: str

    def fallback(self) -> Fallback | None:
        """The resolver's fallback for a ``default`` or ``proxy`` row, else None."""
        if self.coverage not in ("default", "proxy"):
            return None
        return Fallback(self.activities, self.regions, self.coverage, self.sets, self.note)


@dataclass(frozen=True, slots=True)
class Profile:
    """A country's profile: its rules, in order."""

    code: str
    rules: tuple[ProfileRule, ...]

    @property
    def name(self) -> str:
        return "any country" if self.code == GENERIC else regions.get(self.code).name

    @property
    def name_zh(self) -> str:
        return "任意国家或地区" if self.code == GENERIC else regions.get(self.code).name_zh

    @property
    def fallbacks(self) -> tuple[Fallback, ...]:
        return tuple(f for r in self.rules if (f := r.fallback()) is not None)

    @property
    def sets(self) -> tuple[str, ...]:
        """The shipped sets the profile relies on, in the order of its rules."""
        out: list[str] = []
        for rule in self.rules:
            out.extend(s for s in rule.sets if s not in out)
        return tuple(out)

    def toml(self, country: str | None = None) -> str:
        """The ``[profile]`` and ``[[factors.fallbacks]]`` tables for ``esgledger.toml``."""
        lines = [
            "",
            f"# Profile {self.code} ({self.name}), written by `esgledger init`. Edit freely:",
            "# the fallbacks below are the only factors of another area this workspace uses",
            "# unless you add proxies (calculate --proxy, or [factors] proxies).",
            "[profile]",
            f"profile = {_string(self.code)}",
        ]
        if country is not None:
            lines.append(f"country = {_string(country)}")
        lines.append(f"sets = {_strings(self.sets)}")
        for rule in self.rules:
            if rule.coverage in ("shipped", "none"):
                sets = f" [{', '.join(rule.sets)}]" if rule.sets else ""
                lines.append(f"# {rule.coverage}: {' '.join(rule.activities)}{sets}: {rule.note}")
        lines += ["", "[factors]", '# proxies = { CN = ["GB"] }   (region-wide, tier proxy)']
        for fallback in self.fallbacks:
            lines += [
                "",
                "[[factors.fallbacks]]",
                f"activities = {_strings(fallback.activities)}",
                f"regions = {_strings(fallback.regions)}",
                f"tier = {_string(fallback.tier)}",
                f"sets = {_strings(fallback.sets)}",
                f"note = {_string(fallback.note)}",
            ]
        return "\n".join(lines) + "\n"


def _string(value: str) -> str:
    # JSON strings with ensure_ascii=False are valid TOML basic strings (no DEL in the data).
    return json.dumps(value, ensure_ascii=False)


def _strings(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(_string(v) for v in values) + "]"


@cache
def profiles() -> dict[str, Profile]:
    """Every shipped profile by code (``CN``, ``US``, ``GB``, ``HK``, ``generic``).

    Raises
    ------
    ValueError
        If the shipped table is malformed (unknown coverage, a fallback row the resolver
        refuses, a profile code that is not a country): a packaging bug, caught by the tests.
    """
    text = (
        resources.files("esgledger.data.profiles")
        .joinpath("profiles.csv")
        .read_text(encoding="utf-8")
    )
    rules: dict[str, list[ProfileRule]] = {}
    for number, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        code = row["profile"]
        if code != GENERIC and regions.get(code).kind != "country":
            raise ValueError(f"profiles.csv row {number}: {code!r} is not a country code")
        if row["coverage"] not in COVERAGES:
            raise ValueError(f"profiles.csv row {number}: unknown coverage {row['coverage']!r}")
        rule = ProfileRule(
            order=int(row["order"]),
            coverage=row["coverage"],
            activities=tuple(row["activities"].split()),
            regions=tuple(row["regions"].split()),
            sets=tuple(row["sets"].split()),
            note=row["note"],
            note_zh=row["note_zh"],
        )
        fallback = rule.fallback()
        if fallback is not None:
            parse_fallbacks([fallback])  # the resolver's own checks
        rules.setdefault(code, []).append(rule)
    return {
        code: Profile(code, tuple(sorted(found, key=lambda r: r.order)))
        for code, found in rules.items()
    }


def get(code: str) -> Profile:
    """The profile with this code (case-insensitive for countries).

    Raises
    ------
    KeyError
        If no profile has this code.
    """
    found = profiles()
    key = code if code == GENERIC else code.upper()
    if key not in found:
        raise KeyError(f"no profile {code!r}; profiles: {', '.join(sorted(found))}") from None
    return found[key]


def profile_for(country: str | None) -> Profile:
    """The profile of a country: its own, else :data:`GENERIC` (also for None).

    Raises
    ------
    KeyError
        If ``country`` is not a country code of ``esgledger/data/regions.csv``.
    """
    if country is None:
        return get(GENERIC)
    code = country.strip().upper()
    if not regions.is_known(code) or regions.get(code).kind != "country":
        raise KeyError(
            f"{country!r} is not a country code (ISO 3166-1 alpha-2 such as CN, US, GB, HK)"
        )
    return profiles().get(code) or get(GENERIC)
