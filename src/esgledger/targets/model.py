"""Reduction targets: the validated target record and its linear arithmetic.

减排目标：经校验的目标记录及其线性计算。

A :class:`Target` is an absolute, intensity or renewable-electricity target on a
:class:`ScopeSelection` (scopes 1, 2, 3, optionally some scope 3 categories, scope 2
market- or location-based). The arithmetic follows SBTi's absolute-contraction method
(SBTi Corporate Near-Term Criteria v5.2; standards reference §3.3), which is **linear, never
compounded**:

``E_target = E_base × (1 − r)`` and ``ARR = r / (TY − BY)``;
the pathway of year ``y`` is ``E_base × (1 − ARR × (y − BY))``.

``E_base`` is the covered part of the selection's base-year emissions: the selection's
emissions × ``coverage`` (the covered share is assumed constant over time).

Constructing a :class:`Target` directly raises pydantic's ``ValidationError`` (a
``ValueError``); :func:`parse_target` turns it into :class:`~esgledger.errors.InputError`
with one :class:`~esgledger.errors.Issue` per bad field, for import files.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from esgledger.errors import InputError, Issue, UnitError
from esgledger.units import normalize_unit, parse_unit

__all__ = [
    "Ambition",
    "CoveredEmissions",
    "Horizon",
    "Scope2Method",
    "ScopeSelection",
    "Target",
    "TargetKind",
    "annual_reduction_rate",
    "base_value",
    "covered_emissions",
    "denominator_unit_expression",
    "parse_target",
    "pathway",
    "scope2_of",
    "target_emissions",
]

#: Earliest and latest years accepted in a target.
_YEAR_MIN, _YEAR_MAX = 1990, 2100
_SCOPE3_CATEGORIES = range(1, 16)


class TargetKind(StrEnum):
    """What a target constrains."""

    ABSOLUTE = "absolute"
    INTENSITY = "intensity"
    RENEWABLE_ELECTRICITY = "renewable_electricity"


class Scope2Method(StrEnum):
    """Scope 2 method a target is measured with (GHG Protocol Scope 2 Guidance, 2015)."""

    MARKET = "market"
    LOCATION = "location"


class Ambition(StrEnum):
    """Temperature ambition a target claims."""

    C1_5 = "1.5C"
    WB2C = "WB2C"
    C2 = "2C"
    NONE = "none"


class Horizon(StrEnum):
    """Near-term (5-10 years), long-term, or net-zero target (SBTi)."""

    NEAR_TERM = "near_term"
    LONG_TERM = "long_term"
    NET_ZERO = "net_zero"


_SELECTION = re.compile(r"^\s*([123](?:\s*\+\s*[123])*)\s*(?::\s*([0-9,\s]+))?\s*$")


class ScopeSelection(BaseModel):
    """The scopes (and scope 3 categories) a target covers.

    Parse from text with :meth:`parse` (or give the text wherever a selection is expected):
    ``"1+2"``, ``"3"``, ``"1+2+3"``, ``"3:1,2,6"`` (scope 3 categories 1, 2 and 6 only).

    Attributes
    ----------
    scopes
        Sorted, distinct scopes among 1, 2, 3.
    scope3_categories
        Scope 3 categories 1-15 covered (sorted); None = all of scope 3.
    scope2_method
        ``market`` (default: SBTi uses market-based scope 2 where it is reported) or
        ``location``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    scopes: tuple[int, ...]
    scope3_categories: tuple[int, ...] | None = None
    scope2_method: Scope2Method = Scope2Method.MARKET

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        if isinstance(data, str):
            return _parse_selection(data)
        return data

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value:
            raise ValueError("give at least one scope among 1, 2, 3 (e.g. '1+2')")
        bad = [s for s in value if s not in (1, 2, 3)]
        if bad:
            raise ValueError(f"scopes must be among 1, 2, 3, got {bad}")
        return tuple(sorted(set(value)))

    @field_validator("scope3_categories")
    @classmethod
    def _categories(cls, value: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("scope 3 categories are empty: omit them to cover all of scope 3")
        bad = [c for c in value if c not in _SCOPE3_CATEGORIES]
        if bad:
            raise ValueError(f"scope 3 categories must be 1-15, got {bad}")
        return tuple(sorted(set(value)))

    @model_validator(mode="after")
    def _categories_need_scope3(self) -> Self:
        if self.scope3_categories is not None and 3 not in self.scopes:
            raise ValueError(
                "scope 3 categories were given but scope 3 is not selected: write e.g. '3:1,2,6'"
            )
        return self

    @classmethod
    def parse(cls, text: str, scope2_method: Scope2Method | str = Scope2Method.MARKET) -> Self:
        """Parse ``"1+2"``, ``"3"``, ``"1+2+3"`` or ``"3:1,2,6"``."""
        data = _parse_selection(text)
        data["scope2_method"] = scope2_method
        return cls.model_validate(data)

    @property
    def label(self) -> str:
        """The selection as text (``"1+2"``, ``"3:1,2,6"``), as :meth:`parse` reads it."""
        text = "+".join(str(s) for s in self.scopes)
        if self.scope3_categories is not None:
            text += ":" + ",".join(str(c) for c in self.scope3_categories)
        return text

    @property
    def category(self) -> str:
        """``s1s2`` (scopes 1 and/or 2 only), ``s3`` (scope 3 only) or ``s1s2s3``."""
        has3 = 3 in self.scopes
        has12 = bool({1, 2} & set(self.scopes))
        if has3 and has12:
            return "s1s2s3"
        return "s3" if has3 else "s1s2"

    def categories(self) -> tuple[int, ...]:
        """Scope 3 categories covered (all fifteen when none were named; () without scope 3)."""
        if 3 not in self.scopes:
            return ()
        return self.scope3_categories or tuple(_SCOPE3_CATEGORIES)


def _parse_selection(text: str) -> dict[str, Any]:
    match = _SELECTION.match(str(text))
    if match is None:
        raise ValueError(
            f"cannot read the scope selection {text!r}: write scopes joined by '+' "
            "('1+2', '3', '1+2+3'), optionally scope 3 categories after a colon ('3:1,2,6')"
        )
    scopes = tuple(int(s) for s in match.group(1).replace(" ", "").split("+"))
    categories: tuple[int, ...] | None = None
    if match.group(2):
        parts = [p.strip() for p in match.group(2).split(",") if p.strip()]
        categories = tuple(int(p) for p in parts)
    return {"scopes": scopes, "scope3_categories": categories}


#: Denominator-unit spellings the unit registry does not know, mapped onto pint expressions
#: (``"CNY million"`` → ``1e6 CNY``; an employee is counted as one ``FTE``).
def denominator_unit_expression(text: str) -> str:
    """The pint expression of an intensity denominator unit (``"CNY million"`` →
    ``"1000000 * CNY"``, ``"员工"`` → ``"employee"``), via :func:`esgledger.units.normalize_unit`.

    Raises
    ------
    UnitError
        If the unit is unknown.
    """
    expression = normalize_unit(" ".join(str(text).split()))
    parse_unit(expression)
    return expression


class Target(BaseModel):
    """One reduction or renewable-electricity target.

    Attributes
    ----------
    id, name, name_zh
        Identifier (unique in the workspace) and names in English and Chinese.
    kind
        ``absolute``, ``intensity`` or ``renewable_electricity``.
    scopes
        :class:`ScopeSelection` (text such as ``"1+2"`` is accepted).
    base_year, target_year, submission_year
        Years; ``submission_year`` (to SBTi) is optional.
    reduction
        [fraction 0-1] Reduction from the base year by the target year (0.70 = −70 %);
        absolute and intensity targets only.
    target_share
        [fraction 0-1] Renewable share of electricity to reach; renewable targets only.
    base_emissions_t_co2e
        [t CO2e] The selection's base-year emissions; None = taken from the base year's
        inventory by the caller.
    coverage
        [fraction 0-1] Share of the selection's emissions the target covers (default 1).
    denominator, denominator_unit, base_denominator
        Intensity targets: what emissions are divided by (``revenue``, ``employees``,
        ``output`` or free text), its unit (``"CNY million"``, ``"MWh"``, ``"employee"``)
        and its base-year value [denominator_unit].
    ambition
        Claimed ambition: ``1.5C``, ``WB2C``, ``2C`` or ``none``.
    horizon
        ``near_term``, ``long_term`` or ``net_zero``.
    notes
        Free text.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    id: str
    name: str
    name_zh: str | None = None
    kind: TargetKind
    scopes: ScopeSelection
    base_year: int
    target_year: int
    submission_year: int | None = None
    reduction: float | None = None
    target_share: float | None = None
    base_emissions_t_co2e: float | None = None
    coverage: float = 1.0
    denominator: str | None = None
    denominator_unit: str | None = None
    base_denominator: float | None = None
    ambition: Ambition = Ambition.NONE
    horizon: Horizon = Horizon.NEAR_TERM
    notes: str | None = None

    @field_validator("id", "name")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value:
            raise ValueError("must not be empty")
        return value

    @field_validator("base_year", "target_year", "submission_year")
    @classmethod
    def _year(cls, value: int | None) -> int | None:
        if value is not None and not _YEAR_MIN <= value <= _YEAR_MAX:
            raise ValueError(f"must be a year between {_YEAR_MIN} and {_YEAR_MAX}, got {value}")
        return value

    @field_validator("reduction", "target_share", "coverage")
    @classmethod
    def _fraction(cls, value: float | None) -> float | None:
        if value is not None and not (math.isfinite(value) and 0.0 < value <= 1.0):
            raise ValueError(
                f"must be a fraction in (0, 1] (0.70 for 70 %), got {value}; "
                "write a percentage as a fraction"
            )
        return value

    @field_validator("base_emissions_t_co2e", "base_denominator")
    @classmethod
    def _non_negative(cls, value: float | None) -> float | None:
        if value is not None and not (math.isfinite(value) and value >= 0.0):
            raise ValueError(f"must be a finite number >= 0, got {value}")
        return value

    @field_validator("denominator_unit")
    @classmethod
    def _unit(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            denominator_unit_expression(value)
        except UnitError as exc:
            raise ValueError(
                f"unknown denominator unit {value!r}: use a unit such as 'CNY million', "
                "'万元', 'MWh', 'employee' or 'FTE'"
            ) from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.target_year <= self.base_year:
            raise ValueError(
                f"target_year {self.target_year} must be after base_year {self.base_year}"
            )
        if self.submission_year is not None and self.submission_year < self.base_year:
            raise ValueError(
                f"submission_year {self.submission_year} is before base_year {self.base_year}"
            )
        if self.kind is TargetKind.RENEWABLE_ELECTRICITY:
            if self.target_share is None:
                raise ValueError(
                    "a renewable_electricity target needs target_share (e.g. 1.0 for 100 %)"
                )
            if self.reduction is not None:
                raise ValueError(
                    "a renewable_electricity target has target_share, not reduction: "
                    "remove reduction"
                )
        else:
            if self.reduction is None:
                raise ValueError(f"an {self.kind.value} target needs reduction (0.70 for -70 %)")
            if self.target_share is not None:
                raise ValueError(
                    f"target_share is for renewable_electricity targets; an {self.kind.value} "
                    "target has reduction"
                )
        intensity_fields = (self.denominator, self.denominator_unit, self.base_denominator)
        if self.kind is TargetKind.INTENSITY:
            if any(v is None for v in intensity_fields):
                raise ValueError(
                    "an intensity target needs denominator (revenue, employees, output ...), "
                    "denominator_unit and base_denominator"
                )
            if self.base_denominator == 0:
                raise ValueError("base_denominator of an intensity target must be > 0")
        elif any(v is not None for v in intensity_fields):
            raise ValueError(
                "denominator, denominator_unit and base_denominator are for intensity targets only"
            )
        return self

    @property
    def years(self) -> int:
        """Target year − base year [year]."""
        return self.target_year - self.base_year


def parse_target(
    data: Mapping[str, Any], *, file: str = "targets", row: int | None = None
) -> Target:
    """Validate one target record (a row of a targets file or its JSON).

    A row of a targets file (``schema/target_columns.csv``) is flat: empty cells are absent
    values and ``scope2_method`` is a column of its own beside ``scopes``.

    Raises
    ------
    InputError
        One issue per bad field (file and row as given), with the fix.
    """
    record = {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
    method = record.pop("scope2_method", None)
    if method is not None:
        scopes = record.get("scopes")
        if isinstance(scopes, str):
            with suppress(ValueError):  # a bad selection is reported by the model below
                record["scopes"] = {**_parse_selection(scopes), "scope2_method": method}
        elif isinstance(scopes, Mapping):
            record["scopes"] = {**scopes, "scope2_method": method}
    try:
        return Target.model_validate(record)
    except ValidationError as exc:
        issues = []
        for error in exc.errors():
            column = ".".join(str(p) for p in error["loc"]) or None
            value = data.get(str(error["loc"][0])) if error["loc"] else None
            message = str(error["msg"]).removeprefix("Value error, ")
            issues.append(Issue(file, row, column, None if value is None else str(value), message))
        name = data.get("id") or "(no id)"
        raise InputError(
            f"target {name} was rejected: {len(issues)} issue(s) found", issues
        ) from None


def _base(target: Target, base: float | None) -> float:
    value = target.base_emissions_t_co2e if base is None else base
    if value is None:
        raise InputError(
            f"target {target.id}: no base-year emissions; give base_emissions_t_co2e or pass "
            f"the {target.base_year} inventory's emissions of scopes {target.scopes.label}"
        )
    if not (math.isfinite(value) and value >= 0):
        raise InputError(f"target {target.id}: base must be a finite number >= 0, got {value}")
    return value


def _reduction(target: Target) -> float:
    if target.reduction is None:
        raise InputError(
            f"target {target.id} is a renewable_electricity target: it has no reduction; "
            "use esgledger.renewables.allocation.re_progress for its progress"
        )
    return target.reduction


def base_value(target: Target, base: float | None = None) -> float:
    """The covered base-year value the target reduces.

    Absolute targets: the selection's base emissions × coverage [t CO2e]. Intensity targets:
    that divided by ``base_denominator`` [t CO2e per denominator_unit].

    Parameters
    ----------
    base
        [t CO2e] The selection's base-year emissions; None = ``target.base_emissions_t_co2e``.
    """
    covered = _base(target, base) * target.coverage
    if target.kind is TargetKind.INTENSITY:
        denominator = target.base_denominator or 0.0
        if denominator <= 0:
            raise InputError(f"target {target.id}: base_denominator must be > 0")
        return covered / denominator
    _reduction(target)
    return covered


def target_emissions(target: Target, base: float | None = None) -> float:
    """The target-year value: ``E_base × (1 − reduction)`` (SBTi absolute contraction).

    [t CO2e] for absolute targets, [t CO2e per denominator_unit] for intensity targets.

    Examples
    --------
    >>> t = Target(id="s12", name="S1+2", kind="absolute", scopes="1+2", base_year=2021,
    ...            target_year=2030, reduction=0.70)
    >>> round(target_emissions(t, 2_368_000))
    710400
    """
    return base_value(target, base) * (1.0 - _reduction(target))


def annual_reduction_rate(target: Target) -> float:
    """Linear annual reduction rate ``reduction / (target_year − base_year)`` [fraction / year].

    Never compounded (SBTi Corporate Near-Term Criteria; standards reference §3.3): −70 %
    over 2021-2030 is 0.0778 per year.
    """
    return _reduction(target) / target.years


def pathway(target: Target, base: float | None = None) -> dict[int, float]:
    """Linear pathway from the base year to the target year, year → value.

    ``E_base × (1 − ARR × (y − BY))`` for every year ``y`` from ``base_year`` to
    ``target_year`` inclusive; units as :func:`target_emissions`.
    """
    start = base_value(target, base)
    rate = annual_reduction_rate(target)
    return {
        year: start * (1.0 - rate * (year - target.base_year))
        for year in range(target.base_year, target.target_year + 1)
    }


@dataclass(frozen=True, slots=True)
class CoveredEmissions:
    """Emissions of a scope selection in one inventory.

    Attributes
    ----------
    t_co2e
        [t CO2e] Sum over the selection.
    by_scope
        [t CO2e] ``scope1``, ``scope2``, ``scope3`` parts of it (those selected).
    scope2_method
        Scope 2 method actually used (``market`` or ``location``; None without scope 2).
    fallback
        True when market-based scope 2 was asked for but absent, so location-based was used.
    note, note_zh
        Why, when there was a fallback (else empty).
    """

    t_co2e: float
    by_scope: dict[str, float]
    scope2_method: Scope2Method | None
    fallback: bool
    note: str
    note_zh: str


def _number(totals: Mapping[str, Any], key: str) -> float:
    value = totals.get(key)
    if value is None:
        raise InputError(
            f"the inventory totals have no {key!r}; give the summary's totals dict "
            "(scope1, scope2_location, scope2_market, scope3, total)"
        )
    return float(value)


def scope2_of(
    totals: Mapping[str, Any], method: Scope2Method | str = Scope2Method.MARKET
) -> tuple[float, Scope2Method, bool]:
    """[t CO2e] Scope 2 of ``totals`` by ``method``, the method used, and whether market-based
    was asked for but absent (then location-based is used)."""
    if Scope2Method(method) is Scope2Method.MARKET and totals.get("scope2_market") is not None:
        return float(totals["scope2_market"]), Scope2Method.MARKET, False
    fallback = Scope2Method(method) is Scope2Method.MARKET
    return _number(totals, "scope2_location"), Scope2Method.LOCATION, fallback


def covered_emissions(
    summary_totals: Mapping[str, Any],
    selection: ScopeSelection | str,
    scope3_by_category: Mapping[str, Any] | None = None,
) -> CoveredEmissions:
    """Emissions of ``selection`` in an inventory summary.

    Parameters
    ----------
    summary_totals
        [t CO2e] The summary's ``totals``: ``scope1``, ``scope2_location``, ``scope2_market``
        (may be absent: location-based scope 2 is then used and the result says so),
        ``scope3``, ``total``.
    selection
        The scopes (and scope 3 categories).
    scope3_by_category
        [t CO2e] ``{"1": t, ..., "15": t}``; required when the selection names categories.
    """
    sel = selection if isinstance(selection, ScopeSelection) else ScopeSelection.parse(selection)
    parts: dict[str, float] = {}
    method: Scope2Method | None = None
    fallback = False
    if 1 in sel.scopes:
        parts["scope1"] = _number(summary_totals, "scope1")
    if 2 in sel.scopes:
        parts["scope2"], method, fallback = scope2_of(summary_totals, sel.scope2_method)
    if 3 in sel.scopes:
        if sel.scope3_categories is None:
            parts["scope3"] = _number(summary_totals, "scope3")
        else:
            if scope3_by_category is None:
                raise InputError(
                    f"the selection {sel.label} names scope 3 categories: give "
                    "scope3_by_category ({'1': t, ..., '15': t}) from the inventory summary"
                )
            parts["scope3"] = sum(
                float(scope3_by_category.get(str(c)) or 0.0) for c in sel.scope3_categories
            )
    note = note_zh = ""
    if fallback:
        note = (
            "market-based scope 2 is not in this inventory: location-based scope 2 was used "
            "(register contractual instruments to get market-based scope 2)"
        )
        note_zh = (
            "该排放清单没有基于市场法的范围二排放：已改用基于位置法"
            "（登记合同工具后可得到市场法结果）"
        )
    return CoveredEmissions(sum(parts.values()), parts, method, fallback, note, note_zh)
