"""Carbon credits register, retirements and the claims check.

碳信用登记、注销记录与碳中和 / 净零声明核查。

The register (:class:`Register`) holds credits (:class:`Credit`: a block of verified
emission reductions or removals, 1 credit = 1 t CO2e) and their retirements
(:class:`Retirement`). Its rules, each an :class:`~esgledger.errors.InputError` when broken:

* a credit id is used once; a serial block (registry + block + number range) belongs to one
  credit only: overlapping ranges across credits are refused;
* a credit's retirements never total more than its volume;
* a retirement reference is used once, and a retired serial range lies inside its credit's
  range and overlaps no other retirement: the same serial block is never retired twice.

:func:`claims_check` evaluates a ``carbon_neutral`` or ``net_zero`` claim for one year along
the hierarchy "reductions and green power first, credits as a supplement"
(ISO 14068-1:2023 [M]; SBTi Corporate Net-Zero Standard v1.2 [S/M]). It splits the claim into
the tonnes resting on (a) reductions against the base year (location-based), (b) green power
(scope 2 location-based minus market-based), (c) avoidance credits and (d) removal credits,
counts credits only up to the residual, and for net zero requires a residual of at most
10 % of base-year emissions neutralised by permanent removals only. The method is written
out in ``docs/methodology/planner-and-offsets.md``.
"""

from __future__ import annotations

import csv
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import TypeVar

from esgledger.errors import InputError, Issue
from esgledger.targets._rows import RowReader

__all__ = [
    "STANDARDS",
    "Claim",
    "ClaimBoundary",
    "ClaimKind",
    "ClaimResult",
    "ClaimRules",
    "Credit",
    "CreditKind",
    "CreditUse",
    "EmissionTotals",
    "Permanence",
    "Purpose",
    "Reason",
    "Register",
    "Retirement",
    "claims_check",
    "credit_column_names",
    "credits_from_rows",
    "retirement_column_names",
    "retirements_from_rows",
]

_YEARS = (1990, 2100)
_EPS_T = 1e-9


class CreditKind(StrEnum):
    """What a credit certifies."""

    AVOIDANCE = "avoidance"
    """Emissions avoided or reduced against a baseline (renewables, cookstoves, methane)."""
    REMOVAL = "removal"
    """CO2 taken out of the atmosphere and stored (forestry, biochar, DACCS)."""


class Permanence(StrEnum):
    """How long a removal stores its carbon."""

    PERMANENT = "permanent"
    """Geological or mineral storage for centuries or more: DACCS, BECCS, mineralisation,
    biochar (treated as durable, [M])."""
    TEMPORARY = "temporary"
    """Storage that can reverse within decades: forestry, soil carbon."""


class Purpose(StrEnum):
    """What a retirement was made for."""

    NEUTRALITY = "neutrality"
    NET_ZERO = "net_zero"
    OTHER = "other"


class ClaimKind(StrEnum):
    CARBON_NEUTRAL = "carbon_neutral"
    NET_ZERO = "net_zero"


class ClaimBoundary(StrEnum):
    OPERATIONS = "operations"
    """Scopes 1 and 2."""
    OPERATIONS_AND_SUPPLY_CHAIN = "operations_and_supply_chain"
    """Scopes 1, 2 and 3."""


#: Crediting standards, canonical name → accepted spellings (lower case).
STANDARDS: Mapping[str, tuple[str, ...]] = {
    "VCS": ("vcs", "verra", "verified carbon standard", "vcu"),
    "Gold Standard": ("gold standard", "gs", "gs4gg", "gold_standard"),
    "CCER": ("ccer", "china certified emission reduction", "国家核证自愿减排量"),
    "CDM": ("cdm", "cer", "clean development mechanism"),
    "Puro": ("puro", "puro.earth", "puro earth"),
    "Isometric": ("isometric",),
    "ACR": ("acr", "american carbon registry"),
    "CAR": ("car", "climate action reserve"),
    "GCC": ("gcc", "global carbon council"),
    "other": ("other",),
}


def _standard(text: str) -> str | None:
    key = text.strip().lower()
    for canonical, spellings in STANDARDS.items():
        if key == canonical.lower() or key in spellings:
            return canonical
    return None


_E = TypeVar("_E", bound=StrEnum)
_R = TypeVar("_R")


def _enum_value(kind: type[_E], value: object) -> _E | None:
    try:
        return kind(str(value).strip().lower())
    except ValueError:
        return None


def _check_serials(
    issue: list[Issue], where: str, start: int | None, end: int | None, volume: float
) -> None:
    if (start is None) != (end is None):
        issue.append(
            Issue(
                where,
                None,
                "serial_start",
                None,
                "give both ends of the serial range or neither",
                "fill in serial_start and serial_end",
            )
        )
    elif start is not None and end is not None:
        if start < 0 or end < start:
            issue.append(
                Issue(
                    where,
                    None,
                    "serial_end",
                    f"{start}-{end}",
                    "serial range is empty or negative",
                    "serial_end must be at least serial_start",
                )
            )
        elif math.isfinite(volume) and end - start + 1 != volume:
            issue.append(
                Issue(
                    where,
                    None,
                    "volume_t_co2e",
                    f"{volume:g}",
                    f"volume differs from the {end - start + 1} serials "
                    f"{start}-{end} (1 credit = 1 t CO2e)",
                    "correct the volume or the serial range",
                )
            )


@dataclass(frozen=True, slots=True)
class Credit:
    """A block of carbon credits held in a registry account (1 credit = 1 t CO2e).

    Attributes
    ----------
    id
        Id in the register.
    registry
        Registry holding the serials (``Verra``, ``Gold Standard``, ``CCER`` …).
    serial_block, serial_start, serial_end
        Serial numbers: the block (the part of the serial that is not a number, e.g. the
        project and vintage part of a Verra serial) and the first and last number (inclusive).
        Optional; when given the range must hold exactly ``volume_t_co2e`` serials.
    project, project_type
        Project name and type (``forestry``, ``cookstoves``, ``DACCS``, ``biochar``).
    kind
        :class:`CreditKind`: avoidance or removal.
    permanence
        :class:`Permanence` of a removal; ``None`` for avoidance.
    standard
        Crediting standard, one of :data:`STANDARDS`.
    vintage
        Year the reduction or removal took place.
    volume_t_co2e
        [t CO2e] volume, > 0.
    """

    id: str
    registry: str
    project: str
    project_type: str
    kind: CreditKind
    standard: str
    vintage: int
    volume_t_co2e: float
    permanence: Permanence | None = None
    serial_block: str | None = None
    serial_start: int | None = None
    serial_end: int | None = None
    notes: str = ""

    def __post_init__(self) -> None:
        where = f"credit {self.id!r}"
        issues: list[Issue] = []

        def bad(column: str, value: object, problem: str, fix: str) -> None:
            issues.append(
                Issue(where, None, column, None if value is None else str(value), problem, fix)
            )

        if not self.id.strip():
            bad("id", self.id, "id is empty", "give the credit an id")
        if not self.registry.strip():
            bad("registry", self.registry, "registry is empty", "name the registry (e.g. Verra)")
        kind = _enum_value(CreditKind, self.kind)
        if kind is None:
            bad("kind", self.kind, "unknown credit kind", "use avoidance or removal")
        else:
            object.__setattr__(self, "kind", kind)
        permanence = None
        if self.permanence is not None:
            permanence = _enum_value(Permanence, self.permanence)
            if permanence is None:
                bad(
                    "permanence",
                    self.permanence,
                    "unknown permanence",
                    "use permanent or temporary",
                )
            object.__setattr__(self, "permanence", permanence)
        if kind is CreditKind.REMOVAL and self.permanence is None:
            bad(
                "permanence",
                None,
                "a removal credit needs its permanence",
                "write permanent (DACCS, BECCS, mineralisation, biochar) or temporary "
                "(forestry, soil carbon)",
            )
        if kind is CreditKind.AVOIDANCE and permanence is not None:
            bad(
                "permanence",
                self.permanence,
                "permanence applies to removal credits only",
                "leave permanence empty for an avoidance credit",
            )
        standard = _standard(self.standard)
        if standard is None:
            bad(
                "standard",
                self.standard,
                "unknown crediting standard",
                f"use one of {', '.join(STANDARDS)}",
            )
        else:
            object.__setattr__(self, "standard", standard)
        if not _YEARS[0] <= self.vintage <= _YEARS[1]:
            bad(
                "vintage",
                self.vintage,
                f"vintage outside {_YEARS[0]}-{_YEARS[1]}",
                "give the year the reduction or removal took place",
            )
        if not (math.isfinite(self.volume_t_co2e) and self.volume_t_co2e > 0):
            bad(
                "volume_t_co2e",
                self.volume_t_co2e,
                "volume must be a number above 0",
                "give the number of credits (t CO2e)",
            )
        _check_serials(issues, where, self.serial_start, self.serial_end, self.volume_t_co2e)
        if issues:
            raise InputError(f"{where} is not valid", [replace(i, file=where) for i in issues])

    @property
    def serials(self) -> str:
        """The serial range as text (empty when no serials are recorded)."""
        if self.serial_start is None:
            return ""
        block = f"{self.serial_block}:" if self.serial_block else ""
        return f"{self.registry} {block}{self.serial_start}-{self.serial_end}"


@dataclass(frozen=True, slots=True)
class Retirement:
    """One retirement (cancellation) of credits in the registry.

    Attributes
    ----------
    credit
        Id of the credit retired from.
    volume_t_co2e
        [t CO2e] volume retired, > 0.
    retired_on
        Date of the retirement in the registry.
    claim_year
        Reporting year whose claim the retirement supports.
    beneficiary
        Entity on whose behalf the credits were retired.
    purpose
        :class:`Purpose`: neutrality, net_zero or other.
    reference
        Registry retirement reference (statement id), unique in the register.
    serial_start, serial_end
        Retired serial numbers within the credit's range (optional).
    """

    credit: str
    volume_t_co2e: float
    retired_on: date
    claim_year: int
    beneficiary: str
    purpose: Purpose
    reference: str
    serial_start: int | None = None
    serial_end: int | None = None
    notes: str = ""

    def __post_init__(self) -> None:
        where = f"retirement {self.reference!r}"
        issues: list[Issue] = []
        if not self.reference.strip():
            issues.append(
                Issue(
                    where,
                    None,
                    "reference",
                    self.reference,
                    "registry retirement reference is empty",
                    "give the registry's retirement statement id",
                )
            )
        purpose = _enum_value(Purpose, self.purpose)
        if purpose is None:
            issues.append(
                Issue(
                    where,
                    None,
                    "purpose",
                    str(self.purpose),
                    "unknown purpose",
                    "use neutrality, net_zero or other",
                )
            )
        else:
            object.__setattr__(self, "purpose", purpose)
        if not (math.isfinite(self.volume_t_co2e) and self.volume_t_co2e > 0):
            issues.append(
                Issue(
                    where,
                    None,
                    "volume_t_co2e",
                    f"{self.volume_t_co2e:g}",
                    "volume must be a number above 0",
                    "give the t CO2e retired",
                )
            )
        if not _YEARS[0] <= self.claim_year <= _YEARS[1]:
            issues.append(
                Issue(
                    where,
                    None,
                    "claim_year",
                    str(self.claim_year),
                    f"claim year outside {_YEARS[0]}-{_YEARS[1]}",
                    "give the reporting year the retirement supports",
                )
            )
        _check_serials(issues, where, self.serial_start, self.serial_end, self.volume_t_co2e)
        if issues:
            raise InputError(f"{where} is not valid", issues)


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


@dataclass(frozen=True, slots=True)
class Register:
    """Credits and their retirements, checked together (see the module docstring).

    Raises
    ------
    InputError
        Duplicate credit ids, overlapping serial blocks, a retirement of an unknown credit,
        retirements above a credit's volume, a retirement reference used twice, a retired
        serial range outside its credit or retired twice.
    """

    credits: tuple[Credit, ...] = ()
    retirements: tuple[Retirement, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "credits", tuple(self.credits))
        object.__setattr__(self, "retirements", tuple(self.retirements))
        issues = [*self._credit_issues(), *self._retirement_issues()]
        if issues:
            raise InputError(f"the credit register was refused: {len(issues)} problem(s)", issues)

    def _credit_issues(self) -> list[Issue]:
        issues: list[Issue] = []
        counts = Counter(c.id for c in self.credits)
        for credit_id in sorted(i for i, n in counts.items() if n > 1):
            issues.append(
                Issue(
                    "credits",
                    None,
                    "id",
                    credit_id,
                    "credit id used more than once",
                    "give every credit its own id",
                )
            )
        blocks: dict[tuple[str, str], list[Credit]] = defaultdict(list)
        for credit in self.credits:
            if credit.serial_start is not None:
                key = (credit.registry.strip().lower(), (credit.serial_block or "").strip())
                blocks[key].append(credit)
        for group in blocks.values():
            group.sort(key=lambda c: (c.serial_start or 0, c.id))
            for i, first in enumerate(group):
                for second in group[i + 1 :]:
                    a = (first.serial_start or 0, first.serial_end or 0)
                    b = (second.serial_start or 0, second.serial_end or 0)
                    if _overlap(a, b):
                        issues.append(
                            Issue(
                                f"credit {second.id!r}",
                                None,
                                "serial_start",
                                second.serials,
                                f"serials overlap those of credit {first.id!r} ({first.serials}): "
                                "the same serial block cannot be held twice",
                                "correct the serial range; each serial belongs to one credit",
                            )
                        )
        return issues

    def _retirement_issues(self) -> list[Issue]:
        issues: list[Issue] = []
        credits = {c.id: c for c in self.credits}
        refs = Counter(r.reference for r in self.retirements)
        for ref in sorted(i for i, n in refs.items() if n > 1):
            issues.append(
                Issue(
                    f"retirement {ref!r}",
                    None,
                    "reference",
                    ref,
                    "retirement reference recorded more than once: the same "
                    "retirement cannot be counted twice",
                    "record each registry retirement once",
                )
            )
        totals: dict[str, float] = defaultdict(float)
        ranges: dict[str, list[Retirement]] = defaultdict(list)
        for r in self.retirements:
            where = f"retirement {r.reference!r}"
            credit = credits.get(r.credit)
            if credit is None:
                issues.append(
                    Issue(
                        where,
                        None,
                        "credit",
                        r.credit,
                        "no credit with this id",
                        "register the credit first or correct the id",
                    )
                )
                continue
            totals[r.credit] += r.volume_t_co2e
            if r.serial_start is None or r.serial_end is None:
                continue
            if (
                credit.serial_start is None
                or credit.serial_end is None
                or not (credit.serial_start <= r.serial_start and r.serial_end <= credit.serial_end)
            ):
                issues.append(
                    Issue(
                        where,
                        None,
                        "serial_start",
                        f"{r.serial_start}-{r.serial_end}",
                        f"retired serials lie outside credit {credit.id!r} "
                        f"({credit.serials or 'no serials recorded'})",
                        "retire serials of the credit's own range",
                    )
                )
                continue
            for other in ranges[r.credit]:
                done = (other.serial_start or 0, other.serial_end or 0)
                if _overlap((r.serial_start, r.serial_end), done):
                    issues.append(
                        Issue(
                            where,
                            None,
                            "serial_start",
                            f"{r.serial_start}-{r.serial_end}",
                            f"serials already retired by {other.reference!r} "
                            f"({other.serial_start}-{other.serial_end}): a serial "
                            "block is retired once only",
                            "remove the double retirement",
                        )
                    )
            ranges[r.credit].append(r)
        for credit_id, total in sorted(totals.items()):
            volume = credits[credit_id].volume_t_co2e
            if total > volume + _EPS_T:
                issues.append(
                    Issue(
                        f"credit {credit_id!r}",
                        None,
                        "volume_t_co2e",
                        f"{total:g}",
                        f"retirements total {total:,.0f} t CO2e but the credit "
                        f"holds {volume:,.0f} t CO2e: credits cannot be retired "
                        "twice",
                        "remove or reduce the excess retirements",
                    )
                )
        return issues

    def credit(self, credit_id: str) -> Credit:
        """The credit with an id."""
        for credit in self.credits:
            if credit.id == credit_id:
                return credit
        raise InputError(f"no credit {credit_id!r} in the register")

    def retired_t(self, credit_id: str) -> float:
        """[t CO2e] retired so far from a credit."""
        return sum(r.volume_t_co2e for r in self.retirements if r.credit == credit_id)

    def available_t(self, credit_id: str) -> float:
        """[t CO2e] still to retire from a credit."""
        return self.credit(credit_id).volume_t_co2e - self.retired_t(credit_id)

    def retire(self, retirement: Retirement) -> Register:
        """A new register with one more retirement, checked (the register itself is
        immutable).

        Raises
        ------
        InputError
            The retirement breaks a register rule (over-retirement, serials retired twice …).
        """
        return Register(self.credits, (*self.retirements, retirement))


# ---- claims -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EmissionTotals:
    """Inventory totals of one year [t CO2e].

    ``scope2_market_t`` is market-based scope 2 (GHG Protocol Scope 2 Guidance, 2015);
    ``None`` means no market-based figure, taken as equal to location-based (no green power).
    """

    year: int
    scope1_t: float
    scope2_location_t: float
    scope3_t: float = 0.0
    scope2_market_t: float | None = None

    def location_t(self, boundary: ClaimBoundary) -> float:
        """[t CO2e] location-based emissions inside a claim boundary."""
        supply = self.scope3_t if boundary is ClaimBoundary.OPERATIONS_AND_SUPPLY_CHAIN else 0.0
        return self.scope1_t + self.scope2_location_t + supply

    def market_t(self, boundary: ClaimBoundary) -> float:
        """[t CO2e] market-based emissions inside a claim boundary."""
        supply = self.scope3_t if boundary is ClaimBoundary.OPERATIONS_AND_SUPPLY_CHAIN else 0.0
        scope2 = self.scope2_location_t if self.scope2_market_t is None else self.scope2_market_t
        return self.scope1_t + scope2 + supply


@dataclass(frozen=True, slots=True)
class Claim:
    """A claim to evaluate.

    Attributes
    ----------
    kind
        ``carbon_neutral`` or ``net_zero``.
    year
        Reporting year of the claim.
    boundary
        ``operations`` (scopes 1+2) or ``operations_and_supply_chain`` (scopes 1+2+3).
    beneficiary
        When given, only retirements made for this beneficiary count.
    """

    kind: ClaimKind
    year: int
    boundary: ClaimBoundary = ClaimBoundary.OPERATIONS
    beneficiary: str | None = None

    def __post_init__(self) -> None:
        kind = _enum_value(ClaimKind, self.kind)
        boundary = _enum_value(ClaimBoundary, self.boundary)
        if kind is None or boundary is None:
            raise InputError(
                f"claim kind {self.kind!r} / boundary {self.boundary!r} not understood; use "
                "kind carbon_neutral or net_zero and boundary operations or "
                "operations_and_supply_chain"
            )
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "boundary", boundary)


@dataclass(frozen=True, slots=True)
class ClaimRules:
    """Configurable rules of :func:`claims_check` (defaults marked as assumptions).

    Attributes
    ----------
    max_vintage_age_years
        [yr] a credit counts only if ``claim year − vintage`` is at most this (default 5:
        an assumption of esgledger, in line with common practice such as CORSIA and several
        neutrality programmes; ISO 14068-1 sets no fixed figure [M]). ``None`` disables it.
    net_zero_max_residual_share
        Largest residual as a share of base-year emissions for net zero (0.10: SBTi
        Corporate Net-Zero Standard v1.2, at least 90 % absolute reduction [S/M]).
    require_reduction
        A carbon-neutrality claim fails when nothing rests on reductions or green power,
        i.e. it rests on credits alone ("reduction first", ISO 14068-1:2023 [M]; an
        esgledger reading).
    max_credit_share
        Optional cap on the share of the claim that may rest on credits (``None``: no cap).
    """

    max_vintage_age_years: int | None = 5
    net_zero_max_residual_share: float = 0.10
    require_reduction: bool = True
    max_credit_share: float | None = None


@dataclass(frozen=True, slots=True)
class Reason:
    """One rule of the check, its verdict and why, in English and Chinese."""

    code: str
    passed: bool
    message: str
    message_zh: str


@dataclass(frozen=True, slots=True)
class CreditUse:
    """How one retirement was used by the claim.

    ``counted_t`` counts toward the residual; ``excess_t`` was eligible but beyond the
    residual (flagged, not counted); ``ineligible_t`` failed a rule named in ``why``.
    """

    reference: str
    credit: str
    kind: CreditKind
    permanence: Permanence | None
    vintage: int
    volume_t_co2e: float
    counted_t: float
    excess_t: float
    ineligible_t: float
    why: str
    why_zh: str


def _use(
    r: Retirement,
    credit: Credit,
    counted_t: float,
    excess_t: float,
    ineligible_t: float,
    why: str,
    why_zh: str,
) -> CreditUse:
    """The :class:`CreditUse` of retirement ``r`` of ``credit`` with its split [t CO2e]."""
    return CreditUse(
        r.reference,
        credit.id,
        credit.kind,
        credit.permanence,
        credit.vintage,
        r.volume_t_co2e,
        counted_t,
        excess_t,
        ineligible_t,
        why,
        why_zh,
    )


@dataclass(frozen=True, slots=True)
class ClaimResult:
    """The verdict on a claim, with the tonnes and shares it rests on.

    Tonnes [t CO2e]: ``base_t`` base-year location-based emissions of the boundary;
    ``location_t`` / ``market_t`` claim-year emissions; ``reductions_t`` = max(0, base −
    location); ``green_power_t`` = max(0, location − market); ``residual_t`` = market;
    ``avoidance_t`` / ``removal_t`` credits counted against the residual; ``uncovered_t`` the
    residual no credit covers. ``total_t`` = reductions + green power + residual, and
    ``shares`` divides ``reductions``, ``green_power``, ``avoidance``, ``removal`` and
    ``uncovered`` by it (they sum to 1).
    """

    claim: Claim
    passed: bool
    reasons: tuple[Reason, ...]
    base_t: float
    location_t: float
    market_t: float
    reductions_t: float
    green_power_t: float
    residual_t: float
    avoidance_t: float
    removal_t: float
    uncovered_t: float
    excess_t: float
    ineligible_t: float
    uses: tuple[CreditUse, ...]
    shares: Mapping[str, float] = field(default_factory=dict)

    @property
    def total_t(self) -> float:
        return self.reductions_t + self.green_power_t + self.residual_t

    def failures(self) -> tuple[Reason, ...]:
        """The reasons that failed."""
        return tuple(r for r in self.reasons if not r.passed)


_PURPOSE_OF = {ClaimKind.CARBON_NEUTRAL: Purpose.NEUTRALITY, ClaimKind.NET_ZERO: Purpose.NET_ZERO}
_CLAIM_ZH = {ClaimKind.CARBON_NEUTRAL: "碳中和", ClaimKind.NET_ZERO: "净零"}


def _eligibility(
    claim: Claim, credit: Credit, retirement: Retirement, rules: ClaimRules
) -> tuple[str, str]:
    """Why a retirement cannot count for the claim ('' when it can)."""
    if retirement.claim_year != claim.year:
        return (
            f"retired for claim year {retirement.claim_year}, not {claim.year}",
            f"注销用于 {retirement.claim_year} 年声明，而非 {claim.year} 年",
        )
    if claim.beneficiary is not None and retirement.beneficiary != claim.beneficiary:
        return (
            f"retired for {retirement.beneficiary!r}, not {claim.beneficiary!r}",
            f"注销受益方为 {retirement.beneficiary!r}，而非 {claim.beneficiary!r}",
        )
    if retirement.purpose is not _PURPOSE_OF[claim.kind]:
        return (
            f"retired for purpose {retirement.purpose}, not {_PURPOSE_OF[claim.kind]}",
            f"注销用途为 {retirement.purpose}，而非 {_PURPOSE_OF[claim.kind]}",
        )
    if credit.vintage > claim.year:
        return (
            f"vintage {credit.vintage} is after the claim year (ex-ante credits do not count)",
            f"年份 {credit.vintage} 晚于声明年份（预期减排量不可计入）",
        )
    age = claim.year - credit.vintage
    if rules.max_vintage_age_years is not None and age > rules.max_vintage_age_years:
        return (
            f"vintage {credit.vintage} is {age} years before the claim year, more than "
            f"{rules.max_vintage_age_years} (assumption: vintage rule)",
            f"年份 {credit.vintage} 早于声明年份 {age} 年，超过 "
            f"{rules.max_vintage_age_years} 年（假设：年份规则）",
        )
    if claim.kind is ClaimKind.NET_ZERO and credit.kind is CreditKind.AVOIDANCE:
        return (
            "avoidance credits do not neutralise residual emissions under the SBTi "
            "Net-Zero Standard; only permanent removals do",
            "根据 SBTi 净零标准，避免排放类碳信用不能中和剩余排放，只有永久性碳移除可以",
        )
    if claim.kind is ClaimKind.NET_ZERO and credit.permanence is not Permanence.PERMANENT:
        return (
            "temporary removals (e.g. forestry) do not neutralise residual emissions under "
            "the SBTi Net-Zero Standard; only permanent removals do",
            "根据 SBTi 净零标准，临时性碳移除（如林业碳汇）不能中和剩余排放，只有永久性碳移除可以",
        )
    return "", ""


def _counting_rank(credit: Credit) -> int:
    """Order in which eligible credits fill the residual: permanent removals, temporary
    removals, then avoidance."""
    if credit.kind is CreditKind.REMOVAL:
        return 0 if credit.permanence is Permanence.PERMANENT else 1
    return 2


def _pct(x: float) -> str:
    return f"{100.0 * x:.1f} %"


_Add = Callable[[str, bool, str, str], None]


def _neutrality_reasons(
    add: _Add,
    rules: ClaimRules,
    base_year: int,
    reductions: float,
    green_power: float,
    credit_share: float,
) -> None:
    """Carbon neutrality: reduction and green power first, credits as a supplement."""
    if rules.require_reduction:
        first = reductions + green_power > _EPS_T
        tail_en = (
            ""
            if first
            else (
                ": the claim rests on credits alone (reduction and green power first, credits as "
                "a supplement)"
            )
        )
        tail_zh = "" if first else "：声明完全依赖碳信用（应先减排和使用绿电，碳信用仅作补充）"
        add(
            "reduction_first",
            first,
            f"reductions {reductions:,.1f} t and green power {green_power:,.1f} t against base "
            f"year {base_year}" + tail_en,
            f"相对基准年 {base_year} 减排 {reductions:,.1f} 吨、绿电 {green_power:,.1f} 吨"
            + tail_zh,
        )
    if rules.max_credit_share is not None:
        limit = rules.max_credit_share
        add(
            "credit_share",
            credit_share <= limit + _EPS_T,
            f"credits carry {_pct(credit_share)} of the claim (limit {_pct(limit)})",
            f"碳信用占声明的 {_pct(credit_share)}（上限 {_pct(limit)}）",
        )


def _net_zero_reasons(
    add: _Add,
    rules: ClaimRules,
    boundary: ClaimBoundary,
    base_year: int,
    base_t: float,
    residual_t: float,
    covered: bool,
    avoidance_t: float,
) -> None:
    """Net zero, SBTi Corporate Net-Zero Standard v1.2 [S/M]: scopes 1-3, residual at most
    10 % of the base year, neutralised by permanent removals only."""
    full = boundary is ClaimBoundary.OPERATIONS_AND_SUPPLY_CHAIN
    add(
        "net_zero_boundary",
        full,
        "net zero covers scopes 1, 2 and 3"
        + ("" if full else ": the claim leaves out scope 3 (SBTi Corporate Net-Zero Standard)"),
        "净零覆盖范围一、二、三" + ("" if full else "：该声明未包括范围三（SBTi 企业净零标准）"),
    )
    share = residual_t / base_t if base_t > 0 else math.inf
    limit = rules.net_zero_max_residual_share
    add(
        "net_zero_residual",
        share <= limit + 1e-12,
        f"residual {residual_t:,.1f} t is {_pct(share)} of base-year {base_year} emissions "
        f"({base_t:,.1f} t); net zero allows at most {_pct(limit)} (at least 90 % reduction, "
        "SBTi Corporate Net-Zero Standard v1.2)",
        f"剩余排放 {residual_t:,.1f} 吨占基准年 {base_year} 排放（{base_t:,.1f} 吨）的 "
        f"{_pct(share)}；净零要求不超过 {_pct(limit)}（至少减排 90%，SBTi 企业净零标准 v1.2）",
    )
    if avoidance_t > _EPS_T:
        # Passes when permanent removals cover the residual without them: say so, so that a
        # pass does not read as a failure (issue 10).
        add(
            "net_zero_avoidance",
            covered,
            f"{avoidance_t:,.1f} t of avoidance credits were retired for net zero; they do not "
            "neutralise residual emissions, only permanent removals do"
            + ("; the residual is covered by permanent removals without them" if covered else ""),
            f"为净零注销了 {avoidance_t:,.1f} 吨避免排放类碳信用；其不能中和剩余排放，"
            "只有永久性碳移除可以" + ("；剩余排放已由永久性碳移除中和" if covered else ""),
        )


def claims_check(
    claim: Claim,
    inventory_totals: EmissionTotals,
    base_year_totals: EmissionTotals,
    register: Register,
    *,
    rules: ClaimRules | None = None,
) -> ClaimResult:
    """Evaluate a carbon-neutrality or net-zero claim along the mitigation hierarchy.

    Parameters
    ----------
    claim
        The claim (kind, year, boundary, beneficiary).
    inventory_totals
        Emissions of the claim year [t CO2e]; green power is its scope 2 location-based
        minus market-based figure.
    base_year_totals
        Emissions of the base year [t CO2e]; reductions are measured against its
        location-based total of the claim boundary.
    register
        Credits and retirements; retirements count when made for the claim year, the
        claim's beneficiary (if named) and purpose (``neutrality`` for carbon neutral,
        ``net_zero`` for net zero), and the credit passes the vintage rule and, for net
        zero, is a permanent removal.
    rules
        :class:`ClaimRules` (default rules when ``None``).

    Returns
    -------
    ClaimResult
        Pass/fail, every rule with its reason in English and Chinese, the tonnes and shares.

    Notes
    -----
    Eligible credits fill the residual in the order permanent removals, temporary removals,
    avoidance (then by reference); what is left over is ``excess_t``: flagged, not counted.
    Net zero (SBTi Corporate Net-Zero Standard v1.2 [S/M]) also requires scopes 1, 2 and 3
    in the boundary and a residual (market-based) of at most 10 % of base-year emissions
    (market-based when the base year has a market-based figure).
    """
    rules = ClaimRules() if rules is None else rules
    if inventory_totals.year != claim.year:
        raise InputError(
            f"inventory totals are for {inventory_totals.year} but the claim is for "
            f"{claim.year}; pass the totals of the claim year"
        )
    if base_year_totals.year > claim.year:
        raise InputError(
            f"base year {base_year_totals.year} is after the claim year {claim.year}; pass the "
            "totals of the base year"
        )
    boundary = claim.boundary
    base = base_year_totals.location_t(boundary)
    location = inventory_totals.location_t(boundary)
    market = inventory_totals.market_t(boundary)
    reductions = max(0.0, base - location)
    green_power = max(0.0, location - market)
    residual = max(0.0, market)
    total = reductions + green_power + residual

    credits = {c.id: c for c in register.credits}
    candidates: list[tuple[Retirement, Credit]] = []
    uses: dict[str, CreditUse] = {}
    for r in register.retirements:
        if r.claim_year != claim.year:
            continue  # other years' retirements are not part of this claim at all
        credit = credits[r.credit]
        why, why_zh = _eligibility(claim, credit, r, rules)
        if why:
            uses[r.reference] = _use(r, credit, 0.0, 0.0, r.volume_t_co2e, why, why_zh)
        else:
            candidates.append((r, credit))
    candidates.sort(key=lambda rc: (_counting_rank(rc[1]), rc[0].reference))
    left = residual
    avoidance = removal = excess = 0.0
    for r, credit in candidates:
        counted = min(r.volume_t_co2e, left)
        left -= counted
        over = r.volume_t_co2e - counted
        excess += over
        if credit.kind is CreditKind.AVOIDANCE:
            avoidance += counted
        else:
            removal += counted
        why = why_zh = ""
        if over > _EPS_T:
            why = f"{over:,.1f} t beyond the residual: flagged, not counted"
            why_zh = f"{over:,.1f} 吨超出剩余排放：已标记，不计入"
        uses[r.reference] = _use(r, credit, counted, over, 0.0, why, why_zh)
    uncovered = max(0.0, left)
    ineligible = sum(u.ineligible_t for u in uses.values())
    # Avoidance credits retired *for this claim's purpose* (e.g. for net zero) that cannot
    # count; credits retired for another purpose are simply not part of the claim.
    for_this_claim = {
        r.reference
        for r in register.retirements
        if r.claim_year == claim.year and r.purpose is _PURPOSE_OF[claim.kind]
    }
    ineligible_avoidance = sum(
        u.ineligible_t
        for u in uses.values()
        if u.kind is CreditKind.AVOIDANCE and u.reference in for_this_claim
    )

    reasons: list[Reason] = []

    def add(code: str, ok: bool, en: str, zh: str) -> None:
        reasons.append(Reason(code, ok, en, zh))

    covered = uncovered <= _EPS_T
    credited = residual - uncovered
    add(
        "residual_covered",
        covered,
        f"residual {residual:,.1f} t CO2e: {credited:,.1f} t covered by eligible credits, "
        f"{uncovered:,.1f} t uncovered",
        f"剩余排放 {residual:,.1f} 吨二氧化碳当量：合格碳信用抵消 {credited:,.1f} 吨，"
        f"未抵消 {uncovered:,.1f} 吨",
    )
    if excess > _EPS_T:
        add(
            "excess_credits",
            True,
            f"{excess:,.1f} t of credits retired beyond the residual: flagged, not counted",
            f"超出剩余排放的 {excess:,.1f} 吨碳信用已标记，不计入",
        )
    if ineligible > _EPS_T:
        add(
            "ineligible_credits",
            True,
            f"{ineligible:,.1f} t of credits retired for {claim.year} do not count (see uses)",
            f"为 {claim.year} 年注销的 {ineligible:,.1f} 吨碳信用不予计入（见明细）",
        )
    if claim.kind is ClaimKind.CARBON_NEUTRAL:
        _neutrality_reasons(
            add,
            rules,
            base_year_totals.year,
            reductions,
            green_power,
            (avoidance + removal) / total if total > 0 else 0.0,
        )
    else:
        base_nz = (
            base_year_totals.market_t(boundary)
            if base_year_totals.scope2_market_t is not None
            else base
        )
        _net_zero_reasons(
            add,
            rules,
            boundary,
            base_year_totals.year,
            base_nz,
            residual,
            covered,
            ineligible_avoidance,
        )
    passed = all(r.passed for r in reasons)
    where_en = boundary.value.replace("_", " ")
    where_zh = "运营" if boundary is ClaimBoundary.OPERATIONS else "运营及供应链"
    reasons.insert(
        0,
        Reason(
            "verdict",
            passed,
            f"{claim.kind.value.replace('_', ' ')} claim for {claim.year} ({where_en}): "
            + ("passes" if passed else "fails"),
            f"{claim.year} 年{_CLAIM_ZH[claim.kind]}声明（{where_zh}）："
            + ("通过" if passed else "不通过"),
        ),
    )
    shares = {
        "reductions": reductions,
        "green_power": green_power,
        "avoidance": avoidance,
        "removal": removal,
        "uncovered": uncovered,
    }
    shares = {k: (v / total if total > 0 else 0.0) for k, v in shares.items()}
    return ClaimResult(
        claim=claim,
        passed=passed,
        reasons=tuple(reasons),
        base_t=base,
        location_t=location,
        market_t=market,
        reductions_t=reductions,
        green_power_t=green_power,
        residual_t=residual,
        avoidance_t=avoidance,
        removal_t=removal,
        uncovered_t=uncovered,
        excess_t=excess,
        ineligible_t=ineligible,
        uses=tuple(uses[r.reference] for r in register.retirements if r.reference in uses),
        shares=shares,
    )


# ---- import rows ------------------------------------------------------------------------


def _columns(name: str) -> tuple[str, ...]:
    text = resources.files("esgledger.schema").joinpath(name).read_text("utf-8")
    return tuple(row["column"] for row in csv.DictReader(text.splitlines()))


@cache
def credit_column_names() -> tuple[str, ...]:
    """Canonical column names of a credits file (``schema/credit_columns.csv``)."""
    return _columns("credit_columns.csv")


@cache
def retirement_column_names() -> tuple[str, ...]:
    """Canonical column names of a retirements file (``schema/retirement_columns.csv``)."""
    return _columns("retirement_columns.csv")


def _optional_int(r: RowReader, column: str) -> tuple[bool, int | None]:
    if not r.text(column):
        return True, None
    value = r.integer(column)
    return value is not None, value


def _from_rows(
    rows: Iterable[Mapping[str, object]],
    file: str,
    what: str,
    build: Callable[[RowReader], _R | None],
) -> list[_R]:
    """``build`` applied to each row (numbered from 2, below the header); ``None`` skips a
    row whose problems ``build`` recorded on the reader. An :class:`InputError` raised while
    building is recorded against the row; all problems are raised together at the end."""
    issues: list[Issue] = []
    out: list[_R] = []
    for number, row in enumerate(rows, start=2):
        try:
            item = build(RowReader(file, number, row, issues))
        except InputError as error:
            issues += [replace(i, file=file, row=number) for i in error.issues]
            continue
        if item is not None:
            out.append(item)
    if issues:
        raise InputError(f"{file}: {len(issues)} problem(s) in the {what}", issues)
    return out


def _credit(r: RowReader) -> Credit | None:
    if not r.required(
        "id",
        "registry",
        "project",
        "project_type",
        "kind",
        "standard",
        "vintage",
        "volume_t_co2e",
    ):
        return None
    vintage = r.integer("vintage")
    volume = r.decimal("volume_t_co2e")
    ok_start, start = _optional_int(r, "serial_start")
    ok_end, end = _optional_int(r, "serial_end")
    if vintage is None or math.isnan(volume) or not (ok_start and ok_end):
        return None
    return Credit(
        id=r.text("id"),
        registry=r.text("registry"),
        project=r.text("project"),
        project_type=r.text("project_type"),
        kind=r.text("kind"),  # type: ignore[arg-type]
        standard=r.text("standard"),
        vintage=vintage,
        volume_t_co2e=volume,
        permanence=r.text("permanence") or None,  # type: ignore[arg-type]
        serial_block=r.text("serial_block") or None,
        serial_start=start,
        serial_end=end,
        notes=r.text("notes"),
    )


def _retirement(r: RowReader) -> Retirement | None:
    if not r.required(
        "credit",
        "volume_t_co2e",
        "retired_on",
        "claim_year",
        "beneficiary",
        "purpose",
        "reference",
    ):
        return None
    volume = r.decimal("volume_t_co2e")
    retired_on = r.day("retired_on")
    claim_year = r.integer("claim_year")
    ok_start, start = _optional_int(r, "serial_start")
    ok_end, end = _optional_int(r, "serial_end")
    if math.isnan(volume) or retired_on is None or claim_year is None:
        return None
    if not (ok_start and ok_end):
        return None
    return Retirement(
        credit=r.text("credit"),
        volume_t_co2e=volume,
        retired_on=retired_on,
        claim_year=claim_year,
        beneficiary=r.text("beneficiary"),
        purpose=r.text("purpose"),  # type: ignore[arg-type]
        reference=r.text("reference"),
        serial_start=start,
        serial_end=end,
        notes=r.text("notes"),
    )


def credits_from_rows(
    rows: Iterable[Mapping[str, object]], file: str = "credits.csv"
) -> list[Credit]:
    """Credits from rows keyed by the columns of ``schema/credit_columns.csv``.

    Raises
    ------
    InputError
        One :class:`~esgledger.errors.Issue` per problem, with spreadsheet row numbers.
    """
    return _from_rows(rows, file, "credits", _credit)


def retirements_from_rows(
    rows: Iterable[Mapping[str, object]], file: str = "retirements.csv"
) -> list[Retirement]:
    """Retirements from rows keyed by the columns of ``schema/retirement_columns.csv``.

    Raises
    ------
    InputError
        One :class:`~esgledger.errors.Issue` per problem, with spreadsheet row numbers.
    """
    return _from_rows(rows, file, "retirements", _retirement)
