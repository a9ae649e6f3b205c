"""Geography: region codes and the fallback chain used by factor resolution.

A region code is one of

* ``GLOBAL``;
* an ISO 3166-1 alpha-2 country (``CN``, ``US``, ``GB``; Hong Kong ``HK`` and Macao ``MO`` are
  their own electricity markets and so their own codes);
* an ISO 3166-2 subdivision (``CN-GD`` Guangdong);
* a grid region: ``CN-GRID-<NAME>`` (the seven MEE/NBS regional grids) or
  ``US-EGRID-<SUBREGION>`` (eGRID subregions, ``US-EGRID-CAMX``).

Each code has one parent; :func:`chain` walks from a code up to ``GLOBAL``, which is the order
in which factor resolution falls back (province → grid region → country → global). The table
is shipped as ``esgledger/data/regions.csv``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["Region", "all_regions", "chain", "get", "is_known", "kind_of"]

KINDS = ("global", "country", "grid_region", "egrid_subregion", "province")


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str
    name_zh: str
    kind: str
    parent: str | None
    country: str | None
    note: str = ""


@cache
def all_regions() -> dict[str, Region]:
    """Every shipped region by code."""
    text = resources.files("esgledger.data").joinpath("regions.csv").read_text(encoding="utf-8")
    out: dict[str, Region] = {}
    for row in csv.DictReader(text.splitlines()):
        out[row["code"]] = Region(
            code=row["code"],
            name=row["name"],
            name_zh=row["name_zh"],
            kind=row["kind"],
            parent=row["parent"] or None,
            country=row["country"] or None,
            note=row.get("note") or "",
        )
    return out


def is_known(code: str) -> bool:
    return code.upper() in all_regions()


def get(code: str) -> Region:
    """The region with this code (case-insensitive).

    Raises
    ------
    KeyError
        If the code is not in the shipped table.
    """
    try:
        return all_regions()[code.upper()]
    except KeyError:
        raise KeyError(f"unknown region code {code!r}") from None


def kind_of(code: str) -> str:
    return get(code).kind


@cache
def chain(code: str) -> tuple[str, ...]:
    """The code and its ancestors up to ``GLOBAL``: ``chain("CN-GD")`` is
    ``("CN-GD", "CN-GRID-SOUTH", "CN", "GLOBAL")``."""
    regions = all_regions()
    out: list[str] = []
    current: str | None = code.upper()
    while current is not None:
        if current in out:  # a cycle in the table would be a data bug
            raise ValueError(f"region table has a cycle at {current!r}")
        region = regions.get(current)
        if region is None:
            raise KeyError(f"unknown region code {current!r}")
        out.append(current)
        current = region.parent
    return tuple(out)
