"""The inventory of each year, for tracking targets: runs first, published figures otherwise.

各年度排放清单（用于目标跟踪）：优先使用核算运行结果，否则使用已公布数据。

A target is tracked from its base year, which often predates the workspace (the reference
company's base year is 2021). :func:`yearly_inventories` gives one :class:`YearInventory`
per year:

* the **latest run** of each reporting year (``runs`` table), with its id, so every figure is
  traceable to its line items;
* for a year without a run, the figures imported as ``emissions-history`` (published totals,
  each with where it was published).

A year never mixes the two. Totals are in the shape of the inventory summary's ``totals``
(``scope1``, ``scope2_location``, ``scope2_market`` when known, ``scope3``, ``total``) and
``scope3_by_category`` (``"1"`` … ``"15"``), all [t CO2e] consolidated, so the target
functions read a run and a published year alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from esgledger.reasons import Reason, reason

if TYPE_CHECKING:
    from esgledger.store import Workspace

__all__ = ["YearInventory", "history_inventories", "yearly_inventories"]

_SCOPE_KEYS = {"1": "scope1", "2_location": "scope2_location", "2_market": "scope2_market"}


@dataclass(frozen=True, slots=True)
class YearInventory:
    """One year's inventory [t CO2e, consolidated].

    ``source`` says where the figures come from (``run <id>`` or the publication);
    ``run_id`` is set for a run, ``published`` holds the sources of published figures as
    the user gave them. :meth:`source_text` says it in either language.
    """

    year: int
    totals: dict[str, float]
    scope3_by_category: dict[str, float] = field(default_factory=dict)
    source: str = ""
    run_id: str | None = None
    published: tuple[str, ...] = ()

    def source_text(self) -> Reason:
        """Where the figures come from, as a message (``run r-…`` / ``盘查运行 r-…``)."""
        if self.run_id is not None:
            return reason("actuals.run", run=self.run_id)
        if self.published:
            return reason("actuals.published", sources="; ".join(self.published))
        return reason("actuals.other", source=self.source)

    def as_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "totals": dict(self.totals),
            "scope3_by_category": dict(self.scope3_by_category),
            "source": self.source,
            "run_id": self.run_id,
        }


def history_inventories(rows: Iterable[Mapping[str, Any]]) -> dict[int, YearInventory]:
    """Published figures (``emissions_history`` rows) as one inventory per year.

    ``scope3`` is the published scope 3 total when given, else the sum of the published
    categories; ``total`` is scope 1 + scope 2 (location-based) + scope 3 of what is given.
    """
    by_year: dict[int, list[Mapping[str, Any]]] = {}
    for row in rows:
        by_year.setdefault(int(row["year"]), []).append(row)
    out: dict[int, YearInventory] = {}
    for year, items in sorted(by_year.items()):
        totals: dict[str, float] = {}
        categories: dict[str, float] = {}
        sources: list[str] = []
        for item in items:
            scope, category, t = str(item["scope"]), int(item["category"]), float(item["t_co2e"])
            if scope == "3" and category:
                categories[str(category)] = t
            elif scope == "3":
                totals["scope3"] = t
            else:
                totals[_SCOPE_KEYS[scope]] = t
            if item["source"] not in sources:
                sources.append(str(item["source"]))
        if "scope3" not in totals and categories:
            totals["scope3"] = sum(categories.values())
        totals["total"] = (
            totals.get("scope1", 0.0)
            + totals.get("scope2_location", totals.get("scope2_market", 0.0))
            + totals.get("scope3", 0.0)
        )
        out[year] = YearInventory(
            year,
            totals,
            categories,
            source="published: " + "; ".join(sources),
            published=tuple(sources),
        )
    return out


def yearly_inventories(workspace: Workspace) -> dict[int, YearInventory]:
    """Each year's inventory: the latest run of the year, else its published figures.
    Preview runs (which include unapproved batches) never count as a year's inventory."""
    from esgledger.inventory.runs import list_runs
    from esgledger.store.repository_targets import load_emissions_history

    with workspace.session() as session:
        history = history_inventories(load_emissions_history(session))
    runs: dict[int, YearInventory] = {}
    for run in list_runs(workspace):  # oldest first: a later run of the year replaces it
        if run.get("preview"):
            continue
        stored = dict(run["totals"])
        totals = {k: float(v) for k, v in dict(stored.get("totals", {})).items()}
        categories = {
            str(k): float(v) for k, v in dict(stored.get("scope3_by_category", {})).items()
        }
        year = int(run["reporting_year"])
        runs[year] = YearInventory(
            year, totals, categories, source=f"run {run['id']}", run_id=str(run["id"])
        )
    merged = {**history, **runs}
    return dict(sorted(merged.items()))
