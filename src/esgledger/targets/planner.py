"""Abatement planner: measures, scenario pathways, the marginal abatement cost curve (MACC).

减排规划：减排措施、情景路径与边际减排成本曲线（MACC）。

The model (``docs/methodology/planner-and-offsets.md``):

* A :class:`Measure` abates up to ``reduction_t_co2e_per_yr`` [t CO2e / yr] at full effect.
  Its effect ramps up linearly: in year ``start_year + k`` (``k = 0, 1, …``) it delivers
  ``min(1, (k + 1) / ramp_years)`` of its potential (``ramp_years = 0`` or ``1``: full effect
  from the start year); nothing before the start year (:func:`measure_effect`).
* Cost is one number, ``cost_per_t`` [currency / t CO2e]: the annualised cost of the measure
  (annualised capex + opex − energy and other savings) divided by its abatement at full
  effect. It is negative when the measure saves money. Its annual cost is
  ``cost_per_t × abatement`` [currency / yr].
* A measure acts on the inventory lines its :class:`LineSelector` picks (scope, scope 3
  category, activity-key prefix, entity, site). It can never abate more than those lines
  hold: :func:`addressed_baseline_t` sums them, :func:`cap_measures` caps each measure at
  them and says so.
* Interactions: measures are applied one after another in MACC order (cheapest ``cost_per_t``
  first, ties by id) to what earlier measures left; a measure takes its abatement from its
  lines pro rata to their remaining emissions. Two measures on the same lines therefore
  never abate more than the lines hold, and the more expensive one gets what is left.
* :func:`scenario` gives year by year the business-as-usual (BAU) emissions, each measure's
  abatement and the remaining emissions; :func:`residual_gap` compares the remaining
  emissions with a target pathway; :func:`macc` gives the MACC table (width = abatement
  [t CO2e / yr], height = cost [currency / t CO2e], cumulative abatement).

Line items are those of an inventory run (``line_items.parquet`` of
:mod:`esgledger.inventory.runs`): columns ``scope``, ``scope3_category``, ``activity``,
``entity``, ``site`` and ``co2e_kg_consolidated`` [kg CO2e] (or ``co2e_t`` [t CO2e]); lines
with ``excluded = true`` carry no emissions and are skipped.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cache
from importlib import resources

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from esgledger.errors import InputError, Issue
from esgledger.targets._rows import RowReader

__all__ = [
    "LEVER_NAMES",
    "CappedMeasure",
    "Lever",
    "LineSelector",
    "Measure",
    "ResidualGap",
    "addressed_baseline_t",
    "cap_measures",
    "macc",
    "macc_order",
    "measure_column_names",
    "measure_effect",
    "measures_from_rows",
    "residual_gap",
    "scenario",
]

_YEARS = (1990, 2100)
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_GROUP_KEYS = ("scope", "scope3_category", "activity", "entity", "site")

#: Prefix of the per-measure abatement columns of :func:`scenario` (``abated_t_co2e.<id>``).
ABATED_PREFIX = "abated_t_co2e."


class Lever(StrEnum):
    """The kind of lever a measure pulls."""

    EFFICIENCY = "efficiency"
    """Energy efficiency: PUE improvement, free cooling, server consolidation, LED."""
    GREEN_POWER = "green_power"
    """Unbundled certificates (GEC, I-REC), green-power trade, green tariffs."""
    PPA = "ppa"
    """Power purchase agreements (physical or virtual)."""
    ONSITE_PV = "onsite_pv"
    """On-site solar (or other on-site renewable) generation."""
    ELECTRIFICATION = "electrification"
    """Fleet, heating or process electrification."""
    SUPPLIER_ENGAGEMENT = "supplier_engagement"
    """Suppliers cutting their own emissions (scope 3)."""
    LOW_CARBON_MATERIALS = "low_carbon_materials"
    """Low-carbon steel, concrete and other construction or hardware materials."""
    OTHER = "other"
    """Anything else."""


#: English and Chinese names of the levers, for tables and charts.
LEVER_NAMES: Mapping[Lever, tuple[str, str]] = {
    Lever.EFFICIENCY: ("Energy efficiency", "能效提升"),
    Lever.GREEN_POWER: ("Green power purchase", "绿电采购"),
    Lever.PPA: ("Power purchase agreement", "购电协议"),
    Lever.ONSITE_PV: ("On-site solar", "分布式光伏"),
    Lever.ELECTRIFICATION: ("Electrification", "电气化"),
    Lever.SUPPLIER_ENGAGEMENT: ("Supplier engagement", "供应商减排"),
    Lever.LOW_CARBON_MATERIALS: ("Low-carbon materials", "低碳材料"),
    Lever.OTHER: ("Other", "其他"),
}


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


@dataclass(frozen=True, slots=True)
class LineSelector:
    """Which inventory lines a measure acts on.

    Every non-empty field must match (AND); within a field any value may match (OR). An
    empty selector picks every line.

    Attributes
    ----------
    scopes
        GHG Protocol scopes (1, 2, 3).
    scope3_categories
        Scope 3 categories (1 … 15, Scope 3 Standard Table 5.1); picks scope 3 lines only.
    activity_prefixes
        Activity keys or key prefixes at a dot boundary: ``electricity`` picks
        ``electricity`` and ``electricity.grid`` but not ``electricityx``; a prefix ending
        in ``.`` picks only keys below it.
    entities, sites
        Entity and site codes.

    Examples
    --------
    >>> s = LineSelector.parse("scope=2; site=SZ-DC1,SZ-DC2")
    >>> s.matches(scope=2, scope3_category=None, activity="electricity", entity="E", site="SZ-DC1")
    True
    >>> str(s)
    'scope=2; site=SZ-DC1,SZ-DC2'
    """

    scopes: tuple[int, ...] = ()
    scope3_categories: tuple[int, ...] = ()
    activity_prefixes: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        bad_scopes = [s for s in self.scopes if s not in (1, 2, 3)]
        if bad_scopes:
            raise InputError(
                f"selector scopes {bad_scopes} are not GHG Protocol scopes; use 1, 2 or 3"
            )
        bad_categories = [c for c in self.scope3_categories if not 1 <= c <= 15]
        if bad_categories:
            raise InputError(
                f"selector scope 3 categories {bad_categories} are outside 1-15; use the "
                "category numbers of the GHG Protocol Scope 3 Standard, Table 5.1"
            )
        if self.scope3_categories and self.scopes and 3 not in self.scopes:
            raise InputError(
                f"selector picks scope 3 categories {list(self.scope3_categories)} but only "
                f"scopes {list(self.scopes)}, so it picks nothing; add scope 3 or drop the "
                "categories"
            )

    @property
    def is_empty(self) -> bool:
        """True when the selector picks every line."""
        return not (
            self.scopes
            or self.scope3_categories
            or self.activity_prefixes
            or self.entities
            or self.sites
        )

    @classmethod
    def parse(cls, text: str) -> LineSelector:
        """A selector from ``key=v1,v2; key=v`` text (keys ``scope``, ``category``,
        ``activity``, ``entity``, ``site``); empty text picks every line.

        Raises
        ------
        InputError
            An unknown key, a part without ``=``, or a scope/category that is not a number.
        """
        values: dict[str, tuple[str, ...]] = {}
        for part in (p.strip() for p in text.split(";")):
            if not part:
                continue
            key, sep, rest = part.partition("=")
            key = key.strip().lower()
            if not sep or key not in ("scope", "category", "activity", "entity", "site"):
                raise InputError(
                    f"selector part {part!r} is not key=value with a key of scope, category, "
                    "activity, entity or site; write e.g. 'scope=2; site=SZ-DC1'"
                )
            values[key] = values.get(key, ()) + _split(rest)
        try:
            scopes = tuple(int(v) for v in values.get("scope", ()))
            categories = tuple(int(v) for v in values.get("category", ()))
        except ValueError:
            raise InputError(
                f"selector {text!r}: scope and category take whole numbers (scope=3; category=1,4)"
            ) from None
        return cls(
            scopes=scopes,
            scope3_categories=categories,
            activity_prefixes=values.get("activity", ()),
            entities=values.get("entity", ()),
            sites=values.get("site", ()),
        )

    def __str__(self) -> str:
        parts = [
            ("scope", [str(s) for s in self.scopes]),
            ("category", [str(c) for c in self.scope3_categories]),
            ("activity", list(self.activity_prefixes)),
            ("entity", list(self.entities)),
            ("site", list(self.sites)),
        ]
        return "; ".join(f"{key}={','.join(vals)}" for key, vals in parts if vals)

    def _activity_matches(self, activity: str | None) -> bool:
        if activity is None:
            return False
        for prefix in self.activity_prefixes:
            if prefix.endswith("."):
                if activity.startswith(prefix):
                    return True
            elif activity == prefix or activity.startswith(prefix + "."):
                return True
        return False

    def matches(
        self,
        *,
        scope: int | None,
        scope3_category: int | None,
        activity: str | None,
        entity: str | None,
        site: str | None,
    ) -> bool:
        """Whether one line item is picked."""
        if self.scopes and scope not in self.scopes:
            return False
        if self.scope3_categories and (scope != 3 or scope3_category not in self.scope3_categories):
            return False
        if self.activity_prefixes and not self._activity_matches(activity):
            return False
        if self.entities and entity not in self.entities:
            return False
        return not (self.sites and site not in self.sites)


@dataclass(frozen=True, slots=True)
class Measure:
    """One abatement measure.

    Attributes
    ----------
    id
        Id, unique in a plan (letters, digits, ``_ . -``).
    name, name_zh
        English and Chinese names.
    lever
        :class:`Lever` (a string such as ``"efficiency"`` is accepted).
    cost_per_t
        [currency / t CO2e] annualised cost (annualised capex + opex − savings) per tonne
        abated at full effect; negative when the measure saves money.
    currency
        ISO 4217 code of ``cost_per_t`` (``CNY``, ``USD``).
    reduction_t_co2e_per_yr
        [t CO2e / yr] abatement at full effect (≥ 0).
    start_year
        First year with an effect.
    ramp_years
        [yr] years of linear ramp-up to full effect (0 or 1: full effect from the start).
    acts_on
        The inventory lines the measure acts on (default: every line).
    notes
        Free text (source of the estimate).
    """

    id: str
    name: str
    name_zh: str
    lever: Lever
    cost_per_t: float
    currency: str
    reduction_t_co2e_per_yr: float
    start_year: int
    ramp_years: int = 0
    acts_on: LineSelector = field(default_factory=LineSelector)
    notes: str = ""

    def __post_init__(self) -> None:
        where = f"measure {self.id!r}"
        issues: list[Issue] = []

        def bad(column: str, value: object, problem: str, fix: str) -> None:
            issues.append(Issue(where, None, column, str(value), problem, fix))

        if not _ID.match(self.id):
            bad(
                "id",
                self.id,
                "id is empty or has characters other than letters, digits, _ . -",
                "use an id such as PUE-2025",
            )
        if not self.name.strip():
            bad("name", self.name, "name is empty", "give the measure an English name")
        try:
            object.__setattr__(self, "lever", Lever(self.lever))
        except ValueError:
            bad("lever", self.lever, "unknown lever", f"use one of {', '.join(Lever)}")
        if not math.isfinite(self.cost_per_t):
            bad(
                "cost_per_t",
                self.cost_per_t,
                "cost per t is not a finite number",
                "give the annualised cost per t CO2e (negative for savings)",
            )
        if not _CURRENCY.match(self.currency):
            bad(
                "currency",
                self.currency,
                "currency is not an ISO 4217 code",
                "use three capital letters such as CNY or USD",
            )
        if not (math.isfinite(self.reduction_t_co2e_per_yr) and self.reduction_t_co2e_per_yr >= 0):
            bad(
                "reduction_t_co2e_per_yr",
                self.reduction_t_co2e_per_yr,
                "reduction potential must be a finite number of t CO2e per year, 0 or more",
                "give the abatement at full effect in t CO2e per year",
            )
        if not _YEARS[0] <= self.start_year <= _YEARS[1]:
            bad(
                "start_year",
                self.start_year,
                f"start year outside {_YEARS[0]}-{_YEARS[1]}",
                "give the first year the measure has an effect",
            )
        if self.ramp_years < 0:
            bad(
                "ramp_years",
                self.ramp_years,
                "ramp-up years must be 0 or more",
                "give the years to full effect (0 = full effect in the start year)",
            )
        if issues:
            raise InputError(f"{where} is not valid", issues)

    @property
    def lever_name(self) -> tuple[str, str]:
        """English and Chinese names of the lever."""
        return LEVER_NAMES[self.lever]


def measure_effect(measure: Measure, year: int) -> float:
    """Abatement of a measure in a year before any cap or interaction [t CO2e / yr].

    Linear ramp: ``reduction × min(1, (year − start_year + 1) / ramp_years)`` from the start
    year on (``ramp_years`` 0 or 1: full effect at once), 0 before.

    Examples
    --------
    >>> m = Measure("PUE", "PUE", "PUE", Lever.EFFICIENCY, -50.0, "CNY", 1000.0, 2025, 4)
    >>> [measure_effect(m, y) for y in (2024, 2025, 2026, 2028, 2030)]
    [0.0, 250.0, 500.0, 1000.0, 1000.0]
    """
    if year < measure.start_year:
        return 0.0
    if measure.ramp_years <= 1:
        return measure.reduction_t_co2e_per_yr
    share = min(1.0, (year - measure.start_year + 1) / measure.ramp_years)
    return measure.reduction_t_co2e_per_yr * share


def macc_order(measures: Sequence[Measure]) -> list[Measure]:
    """The measures in MACC order: cheapest ``cost_per_t`` first, ties by id.

    Raises
    ------
    InputError
        Two measures share an id.
    """
    counts = Counter(m.id for m in measures)
    duplicates = sorted(i for i, n in counts.items() if n > 1)
    if duplicates:
        raise InputError(
            f"measure ids {duplicates} are used more than once; give every measure its own id"
        )
    return sorted(measures, key=lambda m: (m.cost_per_t, m.id))


# ---- line items -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Lines:
    """Line items grouped by (scope, category, activity, entity, site), in t CO2e."""

    keys: list[dict[str, object]]
    co2e_t: npt.NDArray[np.float64]

    def mask(self, selector: LineSelector) -> npt.NDArray[np.bool_]:
        return np.array(
            [selector.matches(**k) for k in self.keys],  # type: ignore[arg-type]
            dtype=np.bool_,
        )


def _group_lines(lines: pa.Table) -> _Lines:
    names = set(lines.column_names)
    missing = [c for c in _GROUP_KEYS if c not in names]
    if "co2e_kg_consolidated" in names:
        value = pc.divide(lines["co2e_kg_consolidated"].cast(pa.float64()), 1000.0)
    elif "co2e_t" in names:
        value = lines["co2e_t"].cast(pa.float64())
    else:
        missing.append("co2e_kg_consolidated (or co2e_t)")
    if missing:
        raise InputError(
            f"line items lack columns {', '.join(missing)}; pass the line items of an "
            "inventory run (line_items.parquet) or a table with those columns"
        )
    table = pa.table({k: lines[k] for k in _GROUP_KEYS} | {"co2e_t": value})
    if "excluded" in names:
        table = table.filter(pc.invert(pc.fill_null(lines["excluded"], False)))
    table = table.set_column(
        table.column_names.index("co2e_t"), "co2e_t", pc.fill_null(table["co2e_t"], 0.0)
    )
    grouped = table.group_by(list(_GROUP_KEYS), use_threads=False).aggregate([("co2e_t", "sum")])
    grouped = grouped.sort_by([(k, "ascending") for k in _GROUP_KEYS])
    rows = grouped.to_pylist()
    keys = [
        {
            "scope": None if r["scope"] is None else int(r["scope"]),
            "scope3_category": None if r["scope3_category"] is None else int(r["scope3_category"]),
            "activity": r["activity"],
            "entity": r["entity"],
            "site": r["site"],
        }
        for r in rows
    ]
    return _Lines(keys, np.array([r["co2e_t_sum"] for r in rows], dtype=np.float64))


def addressed_baseline_t(selector: LineSelector, lines: pa.Table) -> float:
    """Emissions of the lines a selector picks [t CO2e].

    Parameters
    ----------
    selector
        The lines to sum.
    lines
        Line items (columns ``scope``, ``scope3_category``, ``activity``, ``entity``,
        ``site``, ``co2e_kg_consolidated`` [kg CO2e] or ``co2e_t`` [t CO2e]; optional
        ``excluded``).

    Raises
    ------
    InputError
        A required column is missing.
    """
    grouped = _group_lines(lines)
    return float(grouped.co2e_t[grouped.mask(selector)].sum())


@dataclass(frozen=True, slots=True)
class CappedMeasure:
    """A measure checked against the emissions it addresses.

    Attributes
    ----------
    measure
        The measure, its ``reduction_t_co2e_per_yr`` lowered to ``addressed_t`` when capped.
    potential_t
        [t CO2e / yr] the potential as given.
    addressed_t
        [t CO2e] emissions of the lines it acts on.
    capped
        True when the potential exceeded the addressed emissions.
    message, message_zh
        What was done, in English and Chinese (empty when not capped).
    """

    measure: Measure
    potential_t: float
    addressed_t: float
    capped: bool
    message: str
    message_zh: str


def cap_measures(measures: Sequence[Measure], lines: pa.Table) -> list[CappedMeasure]:
    """Cap every measure at the emissions of the lines it acts on, one by one.

    Each measure is capped on its own; overlaps between measures are resolved later by the
    sequential application of :func:`scenario` and :func:`macc`.

    Parameters
    ----------
    measures
        The measures.
    lines
        Line items of the base year (see :func:`addressed_baseline_t`).
    """
    grouped = _group_lines(lines)
    out: list[CappedMeasure] = []
    for measure in measures:
        addressed = max(0.0, float(grouped.co2e_t[grouped.mask(measure.acts_on)].sum()))
        potential = measure.reduction_t_co2e_per_yr
        if potential > addressed:
            message = (
                f"measure {measure.id!r}: potential {potential:,.1f} t CO2e/yr exceeds the "
                f"{addressed:,.1f} t CO2e of the lines it acts on "
                f"({str(measure.acts_on) or 'all lines'}); "
                f"capped at {addressed:,.1f} t CO2e/yr"
            )
            message_zh = (
                f"措施 {measure.id!r}：减排潜力 {potential:,.1f} 吨二氧化碳当量/年超过其作用排放源"
                f"（{str(measure.acts_on) or '全部'}）的排放量 {addressed:,.1f} 吨二氧化碳当量；"
                f"已按 {addressed:,.1f} 吨/年封顶"
            )
            capped = replace(measure, reduction_t_co2e_per_yr=addressed)
            out.append(CappedMeasure(capped, potential, addressed, True, message, message_zh))
        else:
            out.append(CappedMeasure(measure, potential, addressed, False, "", ""))
    return out


def _apply_sequential(
    pool: npt.NDArray[np.float64],
    masks: Sequence[npt.NDArray[np.bool_]],
    wanted: Sequence[float],
) -> tuple[list[float], npt.NDArray[np.float64]]:
    """Abate ``wanted[i]`` from the lines of ``masks[i]``, in order, pro rata to what is
    left on each line; never more than the lines hold. Returns the abatements and the
    remaining emissions per line [t CO2e]."""
    remaining = pool.astype(np.float64, copy=True)
    taken: list[float] = []
    for mask, want in zip(masks, wanted, strict=True):
        held = float(remaining[mask].sum())
        take = max(0.0, min(want, held))
        if take > 0.0:
            remaining[mask] *= 1.0 - take / held
        taken.append(take)
    return taken, remaining


# ---- scenario ---------------------------------------------------------------------------


def _baseline_pool(
    baseline: float | Mapping[int, float] | pa.Table,
    measures: Sequence[Measure],
    years: Sequence[int],
    growth_rate: float,
    base_year: int,
) -> tuple[npt.NDArray[np.float64], list[npt.NDArray[np.bool_]], dict[int, float]]:
    """Per-line base emissions, each measure's mask, and the BAU scale of each year."""
    if isinstance(baseline, pa.Table):
        grouped = _group_lines(baseline)
        pool = grouped.co2e_t
        masks = [grouped.mask(m.acts_on) for m in measures]
        scale = {y: (1.0 + growth_rate) ** (y - base_year) for y in years}
        return pool, masks, scale
    if isinstance(baseline, Mapping):
        if growth_rate != 0.0:
            raise InputError(
                "a baseline given year by year already holds its growth; pass growth_rate "
                "only with a single baseline figure or line items"
            )
        missing = [y for y in years if y not in baseline]
        if missing:
            raise InputError(
                f"the baseline has no emissions for years {missing}; give every year of the "
                "scenario or a single figure with a growth rate"
            )
        pool = np.array([1.0], dtype=np.float64)
        scale = {y: float(baseline[y]) for y in years}
        return pool, [np.ones(1, dtype=np.bool_) for _ in measures], scale
    pool = np.array([float(baseline)], dtype=np.float64)
    scale = {y: (1.0 + growth_rate) ** (y - base_year) for y in years}
    return pool, [np.ones(1, dtype=np.bool_) for _ in measures], scale


def scenario(
    baseline: float | Mapping[int, float] | pa.Table,
    measures: Sequence[Measure],
    years: Iterable[int],
    *,
    growth_rate: float = 0.0,
    base_year: int | None = None,
) -> pa.Table:
    """Year-by-year pathway: business as usual, each measure's abatement, what remains.

    Parameters
    ----------
    baseline
        One of

        * a number [t CO2e / yr]: BAU in ``base_year``, growing by ``growth_rate``;
        * a mapping year → BAU [t CO2e] for every year of the scenario;
        * line items (see :func:`addressed_baseline_t`) of ``base_year``, every line growing
          by ``growth_rate``: measures then act only on the lines their selector picks.

        With a number or a mapping there is one pool of emissions: selectors are not
        evaluated and every measure acts on the whole pool.
    measures
        The measures; applied in MACC order (:func:`macc_order`) to what earlier measures
        left, pro rata to the lines' remaining emissions.
    years
        The scenario years (ascending, no duplicates).
    growth_rate
        [1 / yr] BAU growth, compounded: ``BAU(y) = BAU(base_year) × (1 + g)^(y − base_year)``
        (an economic projection, not a target, so compounding is right here).
    base_year
        Year of the baseline figure or line items; default the first scenario year.

    Returns
    -------
    pyarrow.Table
        ``year``, ``bau_t_co2e``, ``abated_t_co2e`` (all measures), ``remaining_t_co2e``,
        then one column ``abated_t_co2e.<id>`` per measure in MACC order [t CO2e]. The
        schema metadata ``esgledger.measures`` lists the measure ids in that order.

    Raises
    ------
    InputError
        No years, duplicate years, a baseline year missing, duplicate measure ids.
    """
    year_list = sorted({int(y) for y in years})
    if not year_list:
        raise InputError("the scenario has no years; give e.g. range(2021, 2031)")
    if not math.isfinite(growth_rate) or growth_rate <= -1.0:
        raise InputError(
            f"growth rate {growth_rate} is not a finite rate above -1 (-100 %); give e.g. 0.03 "
            "for 3 % a year"
        )
    ordered = macc_order(measures)
    origin = year_list[0] if base_year is None else base_year
    pool, masks, scale = _baseline_pool(baseline, ordered, year_list, growth_rate, origin)
    columns: dict[str, list[float]] = {m.id: [] for m in ordered}
    bau: list[float] = []
    abated: list[float] = []
    remaining: list[float] = []
    for year in year_list:
        lines = pool * scale[year]
        wanted = [measure_effect(m, year) for m in ordered]
        taken, left = _apply_sequential(lines, masks, wanted)
        for m, t in zip(ordered, taken, strict=True):
            columns[m.id].append(t)
        bau.append(float(lines.sum()))
        abated.append(float(sum(taken)))
        remaining.append(float(left.sum()))
    data: dict[str, pa.Array] = {
        "year": pa.array(year_list, pa.int32()),
        "bau_t_co2e": pa.array(bau, pa.float64()),
        "abated_t_co2e": pa.array(abated, pa.float64()),
        "remaining_t_co2e": pa.array(remaining, pa.float64()),
    }
    for m in ordered:
        data[ABATED_PREFIX + m.id] = pa.array(columns[m.id], pa.float64())
    metadata = {
        "esgledger.measures": json.dumps([m.id for m in ordered]),
        "esgledger.names": json.dumps({m.id: [m.name, m.name_zh] for m in ordered}),
    }
    return pa.table(data).replace_schema_metadata(metadata)


# ---- residual gap -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResidualGap:
    """Remaining emissions against a target pathway.

    Attributes
    ----------
    target_year
        Last year of the pathway.
    remaining_t_co2e, target_t_co2e
        [t CO2e] remaining emissions of the scenario and the target in the target year.
    gap_t_co2e
        [t CO2e] ``remaining − target`` in the target year: positive means still to close,
        zero or negative means the target is met.
    by_year
        ``year``, ``remaining_t_co2e``, ``target_t_co2e``, ``gap_t_co2e`` for every pathway
        year the scenario covers.
    """

    target_year: int
    remaining_t_co2e: float
    target_t_co2e: float
    gap_t_co2e: float
    by_year: pa.Table

    @property
    def met(self) -> bool:
        """Whether the target-year emissions are at or below the target."""
        return self.gap_t_co2e <= 0.0


def _pathway(target_pathway: Mapping[int, float] | pa.Table) -> dict[int, float]:
    if isinstance(target_pathway, pa.Table):
        names = target_pathway.column_names
        column = next((c for c in ("target_t_co2e", "pathway_t_co2e") if c in names), None)
        if "year" not in names or column is None:
            raise InputError(
                f"target pathway table has columns {names}; it needs 'year' and "
                "'target_t_co2e' (or 'pathway_t_co2e')"
            )
        return {
            int(y): float(v)
            for y, v in zip(
                target_pathway["year"].to_pylist(), target_pathway[column].to_pylist(), strict=True
            )
        }
    return {int(y): float(v) for y, v in target_pathway.items()}


def residual_gap(
    scenario_table: pa.Table, target_pathway: Mapping[int, float] | pa.Table
) -> ResidualGap:
    """The residual gap between a scenario's remaining emissions and a target pathway.

    Parameters
    ----------
    scenario_table
        Result of :func:`scenario`.
    target_pathway
        Year → target emissions [t CO2e] (or a table with ``year`` and ``target_t_co2e``);
        its last year is the target year.

    Raises
    ------
    InputError
        An empty pathway, or a target year the scenario does not reach.
    """
    pathway = _pathway(target_pathway)
    if not pathway:
        raise InputError("the target pathway is empty; give at least the target year")
    target_year = max(pathway)
    remaining = dict(
        zip(
            scenario_table["year"].to_pylist(),
            scenario_table["remaining_t_co2e"].to_pylist(),
            strict=True,
        )
    )
    if target_year not in remaining:
        raise InputError(
            f"the scenario covers {min(remaining)}-{max(remaining)} but the target year is "
            f"{target_year}; run the scenario through the target year"
        )
    years = sorted(y for y in pathway if y in remaining)
    by_year = pa.table(
        {
            "year": pa.array(years, pa.int32()),
            "remaining_t_co2e": pa.array([remaining[y] for y in years], pa.float64()),
            "target_t_co2e": pa.array([pathway[y] for y in years], pa.float64()),
            "gap_t_co2e": pa.array([remaining[y] - pathway[y] for y in years], pa.float64()),
        }
    )
    return ResidualGap(
        target_year=target_year,
        remaining_t_co2e=float(remaining[target_year]),
        target_t_co2e=pathway[target_year],
        gap_t_co2e=float(remaining[target_year]) - pathway[target_year],
        by_year=by_year,
    )


# ---- MACC -------------------------------------------------------------------------------


def macc(measures: Sequence[Measure], lines: pa.Table | None = None) -> pa.Table:
    """The marginal abatement cost curve as a table, cheapest first.

    Parameters
    ----------
    measures
        The measures (one currency).
    lines
        Optional base-year line items. With them each measure's width is what it abates at
        full effect after the cheaper measures, capped at what its lines hold (sequential, as
        in :func:`scenario`); without them the width is its stated potential.

    Returns
    -------
    pyarrow.Table
        ``rank`` (1 = cheapest), ``id``, ``name``, ``name_zh``, ``lever``, ``cost_per_t``
        [currency / t CO2e], ``currency``, ``potential_t_co2e_per_yr``,
        ``abatement_t_co2e_per_yr`` (bar width), ``capped`` (width below potential),
        ``cumulative_start_t_co2e_per_yr``, ``cumulative_end_t_co2e_per_yr``,
        ``annual_cost`` [currency / yr] = cost × width.

    Raises
    ------
    InputError
        Measures in more than one currency, or duplicate ids.
    """
    ordered = macc_order(measures)
    currencies = sorted({m.currency for m in ordered})
    if len(currencies) > 1:
        raise InputError(
            f"measures are costed in {', '.join(currencies)}; a MACC needs one currency: "
            "convert the costs first (esgledger.fx)"
        )
    potentials = [m.reduction_t_co2e_per_yr for m in ordered]
    if lines is None:
        widths = potentials
    else:
        grouped = _group_lines(lines)
        widths, _ = _apply_sequential(
            grouped.co2e_t, [grouped.mask(m.acts_on) for m in ordered], potentials
        )
    ends = np.cumsum(np.array(widths, dtype=np.float64)) if widths else np.zeros(0)
    starts = ends - np.array(widths, dtype=np.float64)
    return pa.table(
        {
            "rank": pa.array(range(1, len(ordered) + 1), pa.int32()),
            "id": pa.array([m.id for m in ordered], pa.string()),
            "name": pa.array([m.name for m in ordered], pa.string()),
            "name_zh": pa.array([m.name_zh for m in ordered], pa.string()),
            "lever": pa.array([str(m.lever) for m in ordered], pa.string()),
            "cost_per_t": pa.array([m.cost_per_t for m in ordered], pa.float64()),
            "currency": pa.array([m.currency for m in ordered], pa.string()),
            "potential_t_co2e_per_yr": pa.array(potentials, pa.float64()),
            "abatement_t_co2e_per_yr": pa.array(widths, pa.float64()),
            "capped": pa.array([w < p for w, p in zip(widths, potentials, strict=True)]),
            "cumulative_start_t_co2e_per_yr": pa.array(starts, pa.float64()),
            "cumulative_end_t_co2e_per_yr": pa.array(ends, pa.float64()),
            "annual_cost": pa.array(
                [m.cost_per_t * w for m, w in zip(ordered, widths, strict=True)], pa.float64()
            ),
        }
    )


# ---- import rows ------------------------------------------------------------------------


@cache
def measure_column_names() -> tuple[str, ...]:
    """Canonical column names of a measures file (``schema/measure_columns.csv``)."""
    text = resources.files("esgledger.schema").joinpath("measure_columns.csv").read_text("utf-8")
    return tuple(row["column"] for row in csv.DictReader(text.splitlines()))


def measures_from_rows(
    rows: Iterable[Mapping[str, object]], file: str = "measures.csv"
) -> list[Measure]:
    """Measures from rows keyed by the canonical columns of ``schema/measure_columns.csv``.

    Every row is checked; all problems are reported together. Row numbers are spreadsheet
    rows (header = row 1).

    Raises
    ------
    InputError
        With one :class:`~esgledger.errors.Issue` per problem.
    """
    issues: list[Issue] = []
    measures: list[Measure] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):
        r = RowReader(file, number, row, issues)
        text = r.text
        required = ("id", "name", "lever", "cost_per_t", "currency", "reduction_t_co2e_per_yr")
        if not r.required(*required, "start_year"):
            continue
        cost = r.decimal("cost_per_t")
        reduction = r.decimal("reduction_t_co2e_per_yr")
        start = r.integer("start_year")
        ramp = r.integer("ramp_years", "0")
        if math.isnan(cost) or math.isnan(reduction) or start is None or ramp is None:
            continue
        try:
            selector = LineSelector.parse(text("acts_on"))
            measure = Measure(
                id=text("id"),
                name=text("name"),
                name_zh=text("name_zh") or text("name"),
                lever=text("lever"),  # type: ignore[arg-type]
                cost_per_t=cost,
                currency=text("currency").upper(),
                reduction_t_co2e_per_yr=reduction,
                start_year=start,
                ramp_years=ramp,
                acts_on=selector,
                notes=text("notes"),
            )
        except InputError as error:
            if error.issues:
                issues += [replace(i, file=file, row=number) for i in error.issues]
            else:
                issues.append(Issue(file, number, "acts_on", text("acts_on"), error.summary))
            continue
        if measure.id in seen:
            issues.append(
                Issue(
                    file,
                    number,
                    "id",
                    measure.id,
                    f"id already used on row {seen[measure.id]}",
                    "give every measure its own id",
                )
            )
            continue
        seen[measure.id] = number
        measures.append(measure)
    if issues:
        raise InputError(f"{file}: {len(issues)} problem(s) in the measures", issues)
    return measures
