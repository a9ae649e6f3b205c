"""Carbon-inclusion methodologies as data: versioned, effective-dated, with their factors and rules.

碳普惠方法学（数据化）：带版本与生效日期，含减排因子与规则参数。

A methodology turns a low-carbon trip into a reduction. The shipped registry is read from
``esgledger/data/inclusion/methodologies.csv`` (one row per id and version: names, city,
region, baseline approach, filing metadata, source, effective dates and the rule settings) and
``methodology_factors.csv`` (one row per version and mode: basis, value, scenario, source,
confidence). Confidence marks: ``V`` verified in the reference, ``R`` reported, ``A`` our
assumption or parameter. Unknown filing metadata stays empty; it is never invented.

Reduction of one trip (reference ``domain-modules.md`` §3.2)::

    ER_trip = d_trip × RF_mode,   RF_mode = EF_BL − EF_mode          [g CO2]

A factor is either per passenger-km (``basis = "pkm"``, ``value_g`` [g CO2/pkm] = [mg/m]) or
per trip (``basis = "trip"``, ``value_g`` [g CO2/trip]). :func:`average_baseline` implements
the Guangzhou paper's average method for ``EF_BL``.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from types import MappingProxyType
from typing import Literal, get_args

from esgledger import regions
from esgledger.errors import InputError, Issue, NotFoundError, quoted
from esgledger.i18n import Text

__all__ = [
    "BASELINES",
    "BASES",
    "CONFIDENCES",
    "FACTOR_DECIMALS",
    "AverageBaseline",
    "Basis",
    "Methodology",
    "ModeFactor",
    "ModeShare",
    "RuleSettings",
    "average_baseline",
    "get",
    "registry",
    "resolve_id",
    "versions",
]

Basis = Literal["pkm", "trip"]
Baseline = Literal["published", "average", "substitution"]
Confidence = Literal["V", "R", "A"]
BASES: tuple[str, ...] = get_args(Basis)
BASELINES: tuple[str, ...] = get_args(Baseline)
CONFIDENCES: tuple[str, ...] = get_args(Confidence)
#: Most decimal places a factor value may have (settlement computes in 1/10 000 g exactly).
FACTOR_DECIMALS = 4

_DATA = "esgledger.data"
_METHODOLOGIES = "inclusion/methodologies.csv"
_FACTORS = "inclusion/methodology_factors.csv"
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_MODE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class ModeFactor:
    """The reduction factor of one mode in one methodology version.

    ``value_g`` is [g CO2/pkm] (equal to [mg/m]) for ``basis == "pkm"`` and [g CO2/trip] for
    ``basis == "trip"``. ``per_trip_fallback_g`` [g CO2/trip] is used for a pkm mode when no
    distance is known (boarding-only records); ``None`` refuses such a trip ("no distance").
    """

    factor_id: str
    mode: str
    basis: Basis
    value_g: Decimal
    scenario: str
    source: str
    confidence: Confidence
    per_trip_fallback_g: Decimal | None = None
    fallback_confidence: Confidence | None = None
    note: str = ""

    @property
    def fallback_factor_id(self) -> str | None:
        """The factor id recorded on a line that used :attr:`per_trip_fallback_g`."""
        return None if self.per_trip_fallback_g is None else f"{self.factor_id}/per_trip"


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """Integrity and settlement parameters of one methodology version.

    No published source gives these for the shipped programmes (reference §3.3: "treat the
    values as parameters"), so they carry ``confidence`` ``A`` unless the CSV says otherwise;
    the T+2 lag and 7 claim days follow Beijing MaaS practice.
    """

    max_trips_per_day: int  #: per account, mode and local day
    max_g_per_day: int  #: [g CO2] per account and local day, all modes
    min_distance_m: int  #: [m] applies when a distance is known
    min_duration_s: int  #: [s]
    max_speed_kmh: Mapping[str, int]  #: [km/h] mean speed per mode, when a distance is known
    overlap_tolerance_s: int  #: [s] overlap of two trips of one account still allowed
    duplicate_window_s: int  #: [s] starts closer than this are one trip reported twice
    settlement_lag_days: int  #: T+N: a trip of local day D settles from D+N
    claim_days: int  #: [days] after the due day a trip without consent stays pending
    points_expiry_days: int  #: [days] points are spendable before they expire
    od_retention_days: int  #: [days] raw origin/destination rows are kept (PIPL: minimal)
    grams_per_point: int  #: [g CO2 / point]
    anomaly_contamination: Decimal  #: share of accounts IsolationForest flags
    anomaly_min_accounts: int  #: fewer accounts than this: no anomaly scoring
    confidence: Confidence = "A"

    @property
    def max_mg_per_day(self) -> int:
        """:attr:`max_g_per_day` in [mg CO2]."""
        return self.max_g_per_day * 1000


@dataclass(frozen=True, slots=True)
class Methodology:
    """One version of a methodology, with its factors by mode and its rule settings.

    ``region`` is a code of :mod:`esgledger.regions` (the province, ``CN-GD``); ``city`` names
    the city the factors were derived for. ``effective_to`` is the last day the version
    applies (``None``: open).
    """

    id: str
    version: str
    name: Text
    city: Text
    region: str
    timezone: str
    baseline: Baseline
    authority: Text
    filing_number: str
    filing_date: dt.date | None
    source: str
    source_url: str
    confidence: Confidence
    effective_from: dt.date
    effective_to: dt.date | None
    modes: Mapping[str, ModeFactor]
    rules: RuleSettings
    note: str = ""

    def effective_on(self, day: dt.date) -> bool:
        """Whether this version applies to a trip of local ``day``."""
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )

    def factor(self, mode: str) -> ModeFactor:
        """The factor of ``mode``; an unknown mode raises :class:`InputError` naming the modes."""
        try:
            return self.modes[mode]
        except KeyError:
            raise InputError(
                f"mode {quoted(mode)} is not a mode of methodology {self.id} {self.version}: "
                f"use one of {', '.join(sorted(self.modes))}"
            ) from None


# ---------------------------------------------------------------------------------------------
# reading the package data


def _read(name: str) -> list[dict[str, str]]:
    text = resources.files(_DATA).joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


class _Rows:
    """Field readers that raise an :class:`InputError` naming file, row and column."""

    def __init__(self, file: str) -> None:
        self.file = f"esgledger/data/{file}"

    def fail(self, row: int, column: str, value: str, problem: str) -> InputError:
        return InputError(
            f"{self.file}: invalid methodology data",
            [Issue(self.file, row, column, value, problem)],
        )

    def text(self, rec: dict[str, str], row: int, column: str, *, required: bool = True) -> str:
        value = (rec.get(column) or "").strip()
        if required and not value:
            raise self.fail(row, column, value, "required")
        return value

    def integer(self, rec: dict[str, str], row: int, column: str, *, minimum: int = 0) -> int:
        value = self.text(rec, row, column)
        if not re.fullmatch(r"\d+", value) or int(value) < minimum:
            raise self.fail(row, column, value, f"not a whole number ≥ {minimum}")
        return int(value)

    def decimal(self, rec: dict[str, str], row: int, column: str) -> Decimal:
        value = self.text(rec, row, column)
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise self.fail(row, column, value, "not a decimal number") from None
        exponent = number.as_tuple().exponent
        if not number.is_finite() or number <= 0 or not isinstance(exponent, int):
            raise self.fail(row, column, value, "not a positive decimal number")
        if -exponent > FACTOR_DECIMALS:
            raise self.fail(row, column, value, f"more than {FACTOR_DECIMALS} decimal places")
        return number

    def day(self, rec: dict[str, str], row: int, column: str, *, required: bool) -> dt.date | None:
        value = self.text(rec, row, column, required=required)
        if not value:
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise self.fail(row, column, value, "not a date YYYY-MM-DD") from None

    def choice(self, rec: dict[str, str], row: int, column: str, allowed: Sequence[str]) -> str:
        value = self.text(rec, row, column)
        if value not in allowed:
            raise self.fail(row, column, value, f"not one of {', '.join(allowed)}")
        return value


def _load() -> tuple[Methodology, ...]:
    fr = _Rows(_FACTORS)
    factors: dict[tuple[str, str], dict[str, ModeFactor]] = {}
    speeds: dict[tuple[str, str], dict[str, int]] = {}
    for row, rec in enumerate(_read(_FACTORS), start=2):
        mid, version = fr.text(rec, row, "methodology"), fr.text(rec, row, "version")
        mode = fr.text(rec, row, "mode")
        if not _MODE.match(mode):
            raise fr.fail(row, "mode", mode, "not a mode name (lower-case letters, digits, _)")
        key = (mid, version)
        if mode in factors.setdefault(key, {}):
            raise fr.fail(row, "mode", mode, f"repeated for {mid} {version}")
        fallback_text = fr.text(rec, row, "per_trip_fallback_g", required=False)
        fallback = fr.decimal(rec, row, "per_trip_fallback_g") if fallback_text else None
        basis = fr.choice(rec, row, "basis", BASES)
        if fallback is not None and basis != "pkm":
            raise fr.fail(row, "per_trip_fallback_g", fallback_text, "only a pkm mode has one")
        factors[key][mode] = ModeFactor(
            factor_id=f"{mid}/{version}/{mode}",
            mode=mode,
            basis=basis,  # type: ignore[arg-type]
            value_g=fr.decimal(rec, row, "value_g"),
            scenario=fr.text(rec, row, "scenario"),
            source=fr.text(rec, row, "source"),
            confidence=fr.choice(rec, row, "confidence", CONFIDENCES),  # type: ignore[arg-type]
            per_trip_fallback_g=fallback,
            fallback_confidence="A" if fallback is not None else None,
            note=fr.text(rec, row, "note", required=False),
        )
        speeds.setdefault(key, {})[mode] = fr.integer(rec, row, "max_speed_kmh", minimum=1)

    mr = _Rows(_METHODOLOGIES)
    out: list[Methodology] = []
    seen: set[tuple[str, str]] = set()
    for row, rec in enumerate(_read(_METHODOLOGIES), start=2):
        mid, version = mr.text(rec, row, "id"), mr.text(rec, row, "version")
        if not _ID.match(mid):
            raise mr.fail(row, "id", mid, "not an id (lower-case letters, digits, -)")
        if (mid, version) in seen:
            raise mr.fail(row, "version", version, f"repeated for {mid}")
        seen.add((mid, version))
        region = mr.text(rec, row, "region")
        if not regions.is_known(region):
            raise mr.fail(row, "region", region, "not a region code of esgledger/data/regions.csv")
        modes = factors.pop((mid, version), None)
        if not modes:
            raise mr.fail(row, "version", version, f"no rows in {fr.file}")
        effective_from = mr.day(rec, row, "effective_from", required=True) or dt.date.min
        effective_to = mr.day(rec, row, "effective_to", required=False)
        if effective_to is not None and effective_to < effective_from:
            raise mr.fail(row, "effective_to", str(effective_to), "before effective_from")
        contamination = mr.decimal(rec, row, "anomaly_contamination")
        if contamination > Decimal("0.5"):
            raise mr.fail(row, "anomaly_contamination", str(contamination), "must be ≤ 0.5")
        rules = RuleSettings(
            max_trips_per_day=mr.integer(rec, row, "max_trips_per_day", minimum=1),
            max_g_per_day=mr.integer(rec, row, "max_g_per_day", minimum=1),
            min_distance_m=mr.integer(rec, row, "min_distance_m"),
            min_duration_s=mr.integer(rec, row, "min_duration_s"),
            max_speed_kmh=MappingProxyType(dict(speeds[(mid, version)])),
            overlap_tolerance_s=mr.integer(rec, row, "overlap_tolerance_s"),
            duplicate_window_s=mr.integer(rec, row, "duplicate_window_s"),
            settlement_lag_days=mr.integer(rec, row, "settlement_lag_days"),
            claim_days=mr.integer(rec, row, "claim_days"),
            points_expiry_days=mr.integer(rec, row, "points_expiry_days", minimum=1),
            od_retention_days=mr.integer(rec, row, "od_retention_days", minimum=1),
            grams_per_point=mr.integer(rec, row, "grams_per_point", minimum=1),
            anomaly_contamination=contamination,
            anomaly_min_accounts=mr.integer(rec, row, "anomaly_min_accounts", minimum=2),
            confidence=mr.choice(rec, row, "rules_confidence", CONFIDENCES),  # type: ignore[arg-type]
        )
        out.append(
            Methodology(
                id=mid,
                version=version,
                name=Text(mr.text(rec, row, "name_en"), mr.text(rec, row, "name_zh")),
                city=Text(mr.text(rec, row, "city_en"), mr.text(rec, row, "city_zh")),
                region=region.upper(),
                timezone=mr.text(rec, row, "timezone"),
                baseline=mr.choice(rec, row, "baseline", BASELINES),  # type: ignore[arg-type]
                authority=Text(
                    mr.text(rec, row, "authority_en", required=False),
                    mr.text(rec, row, "authority_zh", required=False),
                ),
                filing_number=mr.text(rec, row, "filing_number", required=False),
                filing_date=mr.day(rec, row, "filing_date", required=False),
                source=mr.text(rec, row, "source"),
                source_url=mr.text(rec, row, "source_url", required=False),
                confidence=mr.choice(rec, row, "confidence", CONFIDENCES),  # type: ignore[arg-type]
                effective_from=effective_from,
                effective_to=effective_to,
                modes=MappingProxyType(dict(sorted(modes.items()))),
                rules=rules,
                note=mr.text(rec, row, "note", required=False),
            )
        )
    if factors:
        (mid, version), _ = next(iter(factors.items()))
        raise InputError(f"{fr.file}: factors of {mid} {version}, which {mr.file} does not have")
    out.sort(key=lambda m: (m.id, m.effective_from, m.version))
    for a, b in itertools.pairwise(out):
        if a.id == b.id and (a.effective_to is None or a.effective_to >= b.effective_from):
            raise InputError(
                f"{mr.file}: versions {a.version} and {b.version} of {a.id} overlap in time "
                "(close the earlier one with effective_to before the later one starts)"
            )
    return tuple(out)


@functools.cache
def registry() -> tuple[Methodology, ...]:
    """Every shipped methodology version, by id then effective date (read once)."""
    return _load()


def _ids() -> list[str]:
    return sorted({m.id for m in registry()})


def resolve_id(text: str) -> str:
    """The methodology id ``text`` names: any case, an exact id or a unique prefix.

    Raises
    ------
    InputError
        No id or several ids match; the message lists the ids.
    """
    wanted = text.strip().lower()
    ids = _ids()
    if wanted in ids:
        return wanted
    matches = [i for i in ids if wanted and i.startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    what = "is ambiguous" if matches else "is not a methodology"
    raise InputError(f"{quoted(text)} {what}: choose one of {', '.join(matches or ids)}")


def versions(methodology_id: str) -> tuple[Methodology, ...]:
    """Every version of a methodology (id resolved by :func:`resolve_id`), oldest first."""
    mid = resolve_id(methodology_id)
    return tuple(m for m in registry() if m.id == mid)


def get(methodology_id: str, at: dt.date | None = None) -> Methodology:
    """The version of a methodology effective on local day ``at`` (``None``: the latest).

    Raises
    ------
    InputError
        Unknown id (the message lists the ids).
    NotFoundError
        No version is effective on ``at`` (the message lists each version's dates).
    """
    found = versions(methodology_id)
    if at is None:
        return found[-1]
    for m in found:
        if m.effective_on(at):
            return m
    spans = "; ".join(
        f"{m.version}: {m.effective_from} to {m.effective_to or 'open'}" for m in found
    )
    raise NotFoundError(f"no version of {found[0].id} is effective on {at} ({spans})")


# ---------------------------------------------------------------------------------------------
# the average method (Guangzhou paper)


@dataclass(frozen=True, slots=True)
class ModeShare:
    """One mode of a city's mix: passenger-km [pkm] and its emission factor [g CO2/pkm]."""

    mode: str
    pkm: Decimal
    ef_g_per_pkm: Decimal


@dataclass(frozen=True, slots=True)
class AverageBaseline:
    """Result of :func:`average_baseline`.

    ``ef_bl_g_per_pkm`` = Σ PKM_m·EF_m / Σ PKM_m [g CO2/pkm]; ``rf_g_per_pkm`` maps each
    low-carbon mode (EF below the baseline) to RF_mode = EF_BL − EF_mode [g CO2/pkm].
    """

    ef_bl_g_per_pkm: Decimal
    total_pkm: Decimal
    rf_g_per_pkm: Mapping[str, Decimal]


def average_baseline(
    rows: Iterable[ModeShare | tuple[str, Decimal | int | str, Decimal | int | str]],
) -> AverageBaseline:
    """The average-method baseline (均值法) and reduction factors of a city's mode mix.

    Huang Ying et al., 气候变化研究进展 2017, 13(3):284–291 (reference ``domain-modules.md``
    §3.2)::

        EF_BL   = Σ_m PKM_m · EF_m / Σ_m PKM_m        [g CO2/pkm]
        RF_mode = EF_BL − EF_mode                      [g CO2/pkm]

    Parameters
    ----------
    rows
        ``(mode, passenger_km [pkm], ef [g CO2/pkm])`` per mode, or :class:`ModeShare`.
        Numbers are taken as :class:`~decimal.Decimal` (floats are refused: no binary
        rounding enters a factor).

    Returns
    -------
    AverageBaseline
        ``EF_BL`` exactly as a Decimal quotient (28 significant digits) and ``RF`` for every
        mode whose EF is below ``EF_BL`` (a mode at or above the baseline reduces nothing).

    Raises
    ------
    InputError
        No rows, a repeated mode, a negative or non-numeric value, or zero total pkm.
    """
    shares: list[ModeShare] = []
    problems: list[Issue] = []
    for i, raw in enumerate(rows, start=1):
        if isinstance(raw, ModeShare):
            share = raw
        else:
            mode, pkm, ef = raw
            try:
                if isinstance(pkm, float) or isinstance(ef, float):
                    raise InvalidOperation
                share = ModeShare(str(mode), Decimal(pkm), Decimal(ef))
            except (InvalidOperation, ValueError):
                problems.append(Issue("", i, None, f"{pkm}, {ef}", "not decimal numbers"))
                continue
        for name, value in (("pkm", share.pkm), ("ef_g_per_pkm", share.ef_g_per_pkm)):
            if not value.is_finite() or value < 0:
                problems.append(Issue("", i, name, str(value), "must be a number ≥ 0"))
        if any(s.mode == share.mode for s in shares):
            problems.append(Issue("", i, "mode", share.mode, "repeated"))
        shares.append(share)
    if problems:
        raise InputError("average baseline: invalid mode rows", problems)
    if not shares:
        raise InputError("average baseline: no mode rows (give passenger-km and EF per mode)")
    total = sum((s.pkm for s in shares), Decimal(0))
    if total <= 0:
        raise InputError("average baseline: the passenger-km of all modes sum to zero")
    ef_bl = sum((s.pkm * s.ef_g_per_pkm for s in shares), Decimal(0)) / total
    rf = {s.mode: ef_bl - s.ef_g_per_pkm for s in shares if s.ef_g_per_pkm < ef_bl}
    return AverageBaseline(ef_bl, total, MappingProxyType(dict(sorted(rf.items()))))
