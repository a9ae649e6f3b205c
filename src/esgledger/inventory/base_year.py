"""Base year: keep a base-year inventory and recalculate it for structural changes.

基准年：保存基准年排放清单，并在结构性变化（并购、剥离、外包/内包、方法学或排放因子变化、
发现错误）累计达到显著性阈值时重新计算。

Implements GHG Protocol Corporate Standard (revised edition, 2004), chapter 5 "Tracking
Emissions Over Time":

* a company chooses a **base year** and keeps its inventory;
* it **recalculates** the base-year emissions when changes would compromise the consistency
  of the time series: structural changes (mergers, acquisitions, divestments, outsourcing
  and insourcing of emitting activities), changes in calculation methodology or improvements
  in the accuracy of emission factors or activity data, and the discovery of significant
  errors or of a number of cumulative errors that together are significant;
* only changes that are **significant** under the company's recalculation policy trigger it:
  the significance threshold is set by the company (the standard fixes no number). The
  default here is **5 %** of base-year emissions, counted **cumulatively** over all changes
  since the last recalculation — the same trigger as SBTi's target-recalculation rule (5 %,
  cumulative; SBTi Corporate Net-Zero Standard / Near-Term Criteria). The Scope 3 Standard
  (§9.3) gives 10 % as an example threshold; pass ``threshold=0.10`` for it;
* **no recalculation** for organic growth or decline (changes in output, closures, openings
  of the company's own facilities), nor for the acquisition (or insourcing) of facilities or
  activities that **did not exist in the base year**;
* the recalculated base year adds the acquired units' base-year emissions and removes the
  divested units'; intermediate years may optionally be recalculated the same way (the
  chapter's acquisition and divestment figures show both).

The arithmetic is :func:`recalculate`, a pure function over a table of base-year emissions by
business unit (entity or site) [t CO2e] and a list of :class:`StructuralChange`.
:func:`read_changes` reads changes from a small CSV file. :func:`set_base_year`,
:func:`current_base_year` and :func:`record_recalculation` keep the base year in the
workspace (table ``base_years``, every entry kept). See ``docs/methodology/base-year.md``.

Significance is measured on the **sum of the absolute effects** of the changes that qualify
(an acquisition of +10 t and a divestment of −10 t are 20 t of change, not zero): the time
series is inconsistent when the boundary moved, whatever the net.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from esgledger import audit
from esgledger.access.principal import Principal
from esgledger.errors import InputError, Issue, WorkspaceError

if TYPE_CHECKING:
    from esgledger.inventory.runs import Run
    from esgledger.store import Workspace

__all__ = [
    "CHANGE_COLUMNS",
    "DEFAULT_THRESHOLD",
    "BaseYear",
    "ChangeAssessment",
    "ChangeKind",
    "Recalculation",
    "StructuralChange",
    "base_year_history",
    "current_base_year",
    "read_changes",
    "recalculate",
    "record_recalculation",
    "set_base_year",
]

#: Default significance threshold [fraction of base-year emissions]: 5 %, cumulative (the
#: SBTi recalculation trigger; the Corporate Standard leaves the number to the company).
DEFAULT_THRESHOLD = 0.05
#: Columns of a changes file (:func:`read_changes`); ``existed_in_base_year`` is optional.
CHANGE_COLUMNS: tuple[str, ...] = (
    "kind",
    "unit",
    "base_year_t_co2e",
    "effective_date",
    "note",
    "existed_in_base_year",
)


class ChangeKind(StrEnum):
    """What changed (Corporate Standard ch. 5; Scope 3 Standard §9.3)."""

    ACQUISITION = "acquisition"
    DIVESTMENT = "divestment"
    MERGER = "merger"
    OUTSOURCING = "outsourcing"
    INSOURCING = "insourcing"
    METHODOLOGY = "methodology"
    FACTOR = "factor"
    ERROR = "error"
    ORGANIC = "organic"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self][0]

    @property
    def label_zh(self) -> str:
        return _KIND_LABELS[self][1]

    @property
    def sign(self) -> int:
        """+1: the unit's base-year emissions join the base year; −1: they leave it; 0: the
        value given is itself the signed correction (methodology, factor, error) or nothing
        changes (organic)."""
        return _SIGNS[self]


_KIND_LABELS: dict[ChangeKind, tuple[str, str]] = {
    ChangeKind.ACQUISITION: ("acquisition", "收购"),
    ChangeKind.DIVESTMENT: ("divestment", "剥离"),
    ChangeKind.MERGER: ("merger", "合并"),
    ChangeKind.OUTSOURCING: ("outsourcing", "外包"),
    ChangeKind.INSOURCING: ("insourcing", "内包"),
    ChangeKind.METHODOLOGY: ("change in calculation methodology", "计算方法学变化"),
    ChangeKind.FACTOR: ("improved emission factor or activity data", "排放因子或活动数据改进"),
    ChangeKind.ERROR: ("discovery of an error", "发现错误"),
    ChangeKind.ORGANIC: ("organic growth or decline", "自然增长或下降"),
}
_SIGNS: dict[ChangeKind, int] = {
    ChangeKind.ACQUISITION: 1,
    ChangeKind.MERGER: 1,
    ChangeKind.INSOURCING: 1,
    ChangeKind.DIVESTMENT: -1,
    ChangeKind.OUTSOURCING: -1,
    ChangeKind.METHODOLOGY: 0,
    ChangeKind.FACTOR: 0,
    ChangeKind.ERROR: 0,
    ChangeKind.ORGANIC: 0,
}
_STRUCTURAL = {
    ChangeKind.ACQUISITION,
    ChangeKind.DIVESTMENT,
    ChangeKind.MERGER,
    ChangeKind.OUTSOURCING,
    ChangeKind.INSOURCING,
}


@dataclass(frozen=True, slots=True)
class StructuralChange:
    """One change since the base year that may call for recalculating it.

    Attributes
    ----------
    kind
        A :class:`ChangeKind` (or its value).
    unit
        The business unit concerned: entity or site code (the key of the base-year table).
    base_year_t_co2e
        [t CO2e] For acquisitions, mergers and insourcing: the unit's emissions in the base
        year (required). For divestments and outsourcing: the unit's base-year emissions to
        remove (None: taken from the base-year table). For methodology, factor and error
        changes: the **signed** correction of base-year emissions (recalculated − reported).
        Ignored for organic changes.
    effective_date
        When the change took effect (informational; intermediate years before its year are
        recalculated).
    note
        Free text (deal name, reason).
    existed_in_base_year
        False for a facility or activity that did not exist in the base year (built or
        started later): never a reason to recalculate (Corporate Standard ch. 5).
    by_year_t_co2e
        [t CO2e] The unit's emissions (or the correction) in other years, for the optional
        recalculation of intermediate years (year → value).
    """

    kind: ChangeKind | str
    unit: str
    base_year_t_co2e: float | None = None
    effective_date: date | None = None
    note: str | None = None
    existed_in_base_year: bool = True
    by_year_t_co2e: Mapping[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", _kind(self.kind))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (the columns of a changes file)."""
        return _change_to_dict(self)


@dataclass(frozen=True, slots=True)
class ChangeAssessment:
    """What one change does to the base year, and why.

    Attributes
    ----------
    change
        The change.
    qualifies
        Whether the change is of a kind that calls for recalculation (structural, methodology,
        factor, error; not organic, not a unit that did not exist in the base year).
    adjustment_t_co2e
        [t CO2e] Signed effect on base-year emissions if applied (0 when it does not qualify).
    share
        ``|adjustment| / base-year total`` [fraction].
    applied
        Whether the recalculation applied it (it qualifies and the cumulative effect reached
        the threshold).
    reason
        Why, in English; ``reason_zh`` in Chinese.
    """

    change: StructuralChange
    qualifies: bool
    adjustment_t_co2e: float
    share: float
    applied: bool
    reason: str
    reason_zh: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": str(self.change.kind),
            "unit": self.change.unit,
            "base_year_t_co2e": self.change.base_year_t_co2e,
            "effective_date": None
            if self.change.effective_date is None
            else self.change.effective_date.isoformat(),
            "note": self.change.note,
            "existed_in_base_year": self.change.existed_in_base_year,
            "qualifies": self.qualifies,
            "adjustment_t_co2e": self.adjustment_t_co2e,
            "share": self.share,
            "applied": self.applied,
            "reason": self.reason,
            "reason_zh": self.reason_zh,
        }


@dataclass(frozen=True, slots=True)
class Recalculation:
    """The outcome of :func:`recalculate`.

    Attributes
    ----------
    base_total_t_co2e
        [t CO2e] Base-year emissions before.
    threshold
        [fraction] Significance threshold.
    cumulative_t_co2e
        [t CO2e] Sum of the absolute adjustments of the qualifying changes.
    cumulative_share
        ``cumulative_t_co2e / base_total_t_co2e``.
    triggered
        Whether the base year is recalculated (``cumulative_share >= threshold`` and at least
        one qualifying change).
    net_adjustment_t_co2e
        [t CO2e] Signed sum of the applied adjustments (0 when not triggered).
    recalculated_total_t_co2e
        [t CO2e] Base-year emissions after (equal to before when not triggered).
    recalculated_by_unit
        [t CO2e] The base-year table after (units added by acquisitions, removed by
        divestments, corrections added to their unit).
    other_years
        [t CO2e] Intermediate years recalculated (year → total), when given.
    assessments
        One per change, in input order.
    reason, reason_zh
        The decision in one sentence.
    """

    base_total_t_co2e: float
    threshold: float
    cumulative_t_co2e: float
    cumulative_share: float
    triggered: bool
    net_adjustment_t_co2e: float
    recalculated_total_t_co2e: float
    recalculated_by_unit: dict[str, float]
    other_years: dict[int, float]
    assessments: tuple[ChangeAssessment, ...]
    reason: str
    reason_zh: str

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k not in ("assessments", "other_years")}
        data["other_years"] = {str(y): v for y, v in self.other_years.items()}
        data["assessments"] = [a.to_dict() for a in self.assessments]
        data["unit"] = "t CO2e"
        return data


_KINDS = ", ".join(k.value for k in ChangeKind)


def _kind(value: ChangeKind | str) -> ChangeKind:
    text = str(value).strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return ChangeKind(text)
    except ValueError:
        raise InputError(
            f"Unknown change kind {value!r}: choose one of {_KINDS}.",
            [
                Issue(
                    "", None, "kind", str(value), "unknown change kind",
                    ", ".join(k.value for k in ChangeKind),
                )
            ],
        ) from None  # fmt: skip


def _pct(fraction: float) -> str:
    return f"{fraction * 100:.4g} %"


def _t(value: float) -> str:
    return f"{value:,.6g} t"


def _assess(
    change: StructuralChange, by_unit: Mapping[str, float], total: float
) -> tuple[bool, float, str, str]:
    """(qualifies, signed adjustment [t], reason, reason_zh) of one change."""
    kind = ChangeKind(change.kind)
    if kind is ChangeKind.ORGANIC:
        return (
            False,
            0.0,
            "organic growth or decline never triggers a recalculation (Corporate Standard ch. 5)",
            "自然增长或下降不触发基准年重新计算（《企业标准》第5章）",
        )
    if kind in _STRUCTURAL and not change.existed_in_base_year:
        return (
            False,
            0.0,
            f"{kind.label} of {change.unit}, which did not exist in the base year: no "
            "recalculation (Corporate Standard ch. 5)",
            f"{change.unit} 在基准年尚不存在，其{kind.label_zh}不触发重新计算（《企业标准》第5章）",
        )
    value = change.base_year_t_co2e
    if kind.sign < 0 and value is None:
        if change.unit not in by_unit:
            raise InputError(
                f"{kind.label} of {change.unit!r}: give its base-year emissions "
                "(base_year_t_co2e); the unit is not in the base-year inventory",
                [
                    Issue(
                        "", None, "base_year_t_co2e", None,
                        f"unit {change.unit!r} is not in the base-year inventory",
                        "give the unit's base-year emissions [t CO2e]",
                    )
                ],
            )  # fmt: skip
        value = by_unit[change.unit]
    if value is None or not math.isfinite(value):
        raise InputError(
            f"{kind.label} of {change.unit!r} needs base_year_t_co2e [t CO2e]",
            [
                Issue(
                    "", None, "base_year_t_co2e", None, "missing",
                    "the unit's base-year emissions (acquisitions) or the signed correction "
                    "(methodology, factor, error) [t CO2e]",
                )
            ],
        )  # fmt: skip
    if kind.sign != 0 and value < 0:
        raise InputError(
            f"{kind.label} of {change.unit!r}: base_year_t_co2e must not be negative "
            f"(it is the unit's base-year emissions), got {value}",
            [Issue("", None, "base_year_t_co2e", str(value), "negative", "a value >= 0")],
        )
    adjustment = value * kind.sign if kind.sign != 0 else value
    share = abs(adjustment) / total
    verb = "adds" if adjustment >= 0 else "removes"
    verb_zh = "增加" if adjustment >= 0 else "减少"
    return (
        True,
        adjustment,
        f"{kind.label} of {change.unit} {verb} {_t(abs(adjustment))} "
        f"({_pct(share)} of the base year)",
        f"{change.unit} 的{kind.label_zh}使基准年排放{verb_zh} {_t(abs(adjustment))}"
        f"（占基准年 {_pct(share)}）",
    )


def recalculate(
    base_total_by_unit: Mapping[str, float],
    changes: Sequence[StructuralChange],
    threshold: float = DEFAULT_THRESHOLD,
    *,
    other_years: Mapping[int, Mapping[str, float]] | None = None,
) -> Recalculation:
    """Recalculate base-year emissions for ``changes`` under a significance threshold.

    GHG Protocol Corporate Standard (revised edition), ch. 5: structural changes,
    methodology and factor changes and errors qualify; organic growth or decline and units
    that did not exist in the base year do not. When the qualifying changes together move
    base-year emissions by at least ``threshold`` (sum of absolute adjustments over the
    base-year total; cumulative), every qualifying change is applied.

    Parameters
    ----------
    base_total_by_unit
        [t CO2e] Base-year emissions by business unit (entity or site code).
    changes
        Every change since the last recalculation (cumulative).
    threshold
        [fraction] Significance threshold, 0 < threshold < 1 (default 0.05).
    other_years
        [t CO2e] Optional: emissions by unit of intermediate years (year → unit → value);
        each is recalculated with the changes taking effect after it (a change with no
        ``effective_date`` counts for every year), using the change's ``by_year_t_co2e``
        (or, for divestments and outsourcing, the unit's value in that year).

    Returns
    -------
    Recalculation

    Raises
    ------
    InputError
        If the threshold is outside (0, 1), the base year has no emissions, or a change lacks
        the value it needs.

    Examples
    --------
    Corporate Standard ch. 5, acquisition example ("Gamma"): units A and B emit 25 t each in
    the base year; facility C, acquired later, emitted 15 t in the base year.

    >>> r = recalculate({"A": 25, "B": 25}, [StructuralChange("acquisition", "C", 15)])
    >>> r.triggered, r.recalculated_total_t_co2e
    (True, 65.0)
    """
    if not 0.0 < threshold < 1.0:
        raise InputError(
            f"The significance threshold must be a fraction between 0 and 1, got {threshold}",
            [Issue("", None, "threshold", str(threshold), "outside (0, 1)", "e.g. 0.05 for 5 %")],
        )
    by_unit = {str(k): float(v) for k, v in base_total_by_unit.items()}
    total = math.fsum(by_unit.values())
    if not total > 0:
        raise InputError(
            f"The base year has no emissions ({total} t CO2e): nothing to recalculate against",
            [Issue("", None, "base_year", str(total), "no emissions", "designate another run")],
        )
    assessed = [(c, *_assess(c, by_unit, total)) for c in changes]
    cumulative = math.fsum(abs(a) for _, ok, a, _, _ in assessed if ok)
    share = cumulative / total
    qualifying = sum(1 for _, ok, *_ in assessed if ok)
    triggered = qualifying > 0 and share >= threshold
    assessments: list[ChangeAssessment] = []
    for change, ok, adjustment, why, why_zh in assessed:
        if ok and triggered:
            why += f"; applied: the qualifying changes together are {_pct(share)} >= the "
            why += f"{_pct(threshold)} threshold"
            why_zh += f"；已计入：合计变化 {_pct(share)} 达到 {_pct(threshold)} 阈值"
        elif ok:
            why += f"; not applied: the qualifying changes together are {_pct(share)} < the "
            why += f"{_pct(threshold)} threshold (they count again in the next assessment)"
            why_zh += (
                f"；未计入：合计变化 {_pct(share)} 低于 {_pct(threshold)} 阈值（下次评估累计）"
            )
        assessments.append(
            ChangeAssessment(
                change=change,
                qualifies=ok,
                adjustment_t_co2e=adjustment if ok else 0.0,
                share=abs(adjustment) / total if ok else 0.0,
                applied=ok and triggered,
                reason=why,
                reason_zh=why_zh,
            )
        )
    new_by_unit = dict(by_unit)
    net = 0.0
    if triggered:
        for item in assessments:
            if not item.qualifies:
                continue
            unit = item.change.unit
            kind = ChangeKind(item.change.kind)
            if kind.sign < 0 and abs(new_by_unit.get(unit, 0.0) + item.adjustment_t_co2e) < 1e-9:
                new_by_unit.pop(unit, None)
            else:
                new_by_unit[unit] = new_by_unit.get(unit, 0.0) + item.adjustment_t_co2e
        net = math.fsum(a.adjustment_t_co2e for a in assessments if a.applied)
    years: dict[int, float] = {}
    for year, values in sorted((other_years or {}).items()):
        year_total = math.fsum(float(v) for v in values.values())
        if triggered:
            for item in assessments:
                effective = item.change.effective_date
                if not item.applied or (effective is not None and effective.year <= year):
                    continue
                kind = ChangeKind(item.change.kind)
                value = item.change.by_year_t_co2e.get(year)
                if value is None and kind.sign < 0:
                    value = values.get(item.change.unit)
                if value is None:
                    raise InputError(
                        f"{kind.label} of {item.change.unit!r}: no value for year {year} "
                        "(by_year_t_co2e) to recalculate that year",
                        [Issue("", None, "by_year_t_co2e", None, f"no value for {year}", "")],
                    )
                year_total += value * kind.sign if kind.sign != 0 else value
        years[int(year)] = year_total
    recalculated = math.fsum(new_by_unit.values()) if triggered else total
    if qualifying == 0:
        reason = "no change qualifies for recalculation: the base year stands"
        reason_zh = "没有需要重新计算的变化：基准年保持不变"
    elif triggered:
        reason = (
            f"recalculated: {qualifying} qualifying change(s) together move base-year "
            f"emissions by {_t(cumulative)} ({_pct(share)}), at or above the "
            f"{_pct(threshold)} significance threshold; {_t(total)} → {_t(recalculated)}"
        )
        reason_zh = (
            f"已重新计算：{qualifying} 项变化合计影响 {_t(cumulative)}（{_pct(share)}），"
            f"达到 {_pct(threshold)} 显著性阈值；{_t(total)} → {_t(recalculated)}"
        )
    else:
        reason = (
            f"not recalculated: {qualifying} qualifying change(s) together move base-year "
            f"emissions by {_t(cumulative)} ({_pct(share)}), below the {_pct(threshold)} "
            "significance threshold; they count again, cumulatively, in the next assessment"
        )
        reason_zh = (
            f"不重新计算：{qualifying} 项变化合计影响 {_t(cumulative)}（{_pct(share)}），"
            f"低于 {_pct(threshold)} 显著性阈值；下次评估时累计计入"
        )
    return Recalculation(
        base_total_t_co2e=total,
        threshold=threshold,
        cumulative_t_co2e=cumulative,
        cumulative_share=share,
        triggered=triggered,
        net_adjustment_t_co2e=net,
        recalculated_total_t_co2e=recalculated,
        recalculated_by_unit=new_by_unit if triggered else by_unit,
        other_years=years,
        assessments=tuple(assessments),
        reason=reason,
        reason_zh=reason_zh,
    )


# ---- changes file ------------------------------------------------------------------------


def _parse_bool(text: str) -> bool | None:
    value = text.strip().lower()
    if value in ("", "true", "t", "yes", "y", "1", "是"):
        return True
    if value in ("false", "f", "no", "n", "0", "否"):
        return False
    return None


def read_changes(path: Path) -> list[StructuralChange]:
    """Read changes from a CSV file (UTF-8, header row).

    Columns: ``kind`` (:class:`ChangeKind`), ``unit`` (entity or site code; ``entity`` or
    ``site`` are accepted as its name), ``base_year_t_co2e`` [t CO2e] (may be empty for
    divestments, outsourcing and organic changes), ``effective_date`` (YYYY-MM-DD, may be
    empty), ``note`` and, optionally, ``existed_in_base_year`` (true/false, default true).

    Raises
    ------
    InputError
        With one issue per bad cell (row numbers as a spreadsheet shows them).
    """
    issues: list[Issue] = []
    changes: list[StructuralChange] = []
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read the changes file {path}: {exc.strerror}") from exc
    reader = csv.DictReader(text.splitlines())
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    aliases = {"entity": "unit", "site": "unit", "entity_or_site": "unit"}
    columns = [aliases.get(h, h) for h in header]
    for required in ("kind", "unit", "base_year_t_co2e"):
        if required not in columns:
            issues.append(
                Issue(
                    name,
                    1,
                    required,
                    None,
                    "missing column",
                    f"columns: {', '.join(CHANGE_COLUMNS)}",
                )
            )
    if issues:
        raise InputError(f"{name} was rejected: {len(issues)} issue(s) found", issues)
    for number, raw in enumerate(reader, start=2):
        row = {
            aliases.get(k.strip().lower(), k.strip().lower()): (v or "").strip()
            for k, v in raw.items()
            if k is not None
        }
        try:
            kind = _kind(row.get("kind", ""))
        except InputError:
            issues.append(
                Issue(
                    name, number, "kind", row.get("kind"), "unknown change kind",
                    ", ".join(k.value for k in ChangeKind),
                )
            )  # fmt: skip
            continue
        unit = row.get("unit", "")
        if not unit:
            issues.append(Issue(name, number, "unit", None, "empty", "an entity or site code"))
        value: float | None = None
        if row.get("base_year_t_co2e"):
            try:
                value = float(row["base_year_t_co2e"].replace(",", ""))
            except ValueError:
                issues.append(
                    Issue(
                        name, number, "base_year_t_co2e", row["base_year_t_co2e"],
                        "not a number", "t CO2e, e.g. 15 or 1,250.5",
                    )
                )  # fmt: skip
        effective: date | None = None
        if row.get("effective_date"):
            try:
                effective = date.fromisoformat(row["effective_date"])
            except ValueError:
                issues.append(
                    Issue(
                        name, number, "effective_date", row["effective_date"],
                        "not a date", "YYYY-MM-DD",
                    )
                )  # fmt: skip
        existed = _parse_bool(row.get("existed_in_base_year", ""))
        if existed is None:
            issues.append(
                Issue(
                    name, number, "existed_in_base_year", row.get("existed_in_base_year"),
                    "not true/false", "true (default) or false",
                )
            )  # fmt: skip
            existed = True
        changes.append(
            StructuralChange(
                kind=kind,
                unit=unit,
                base_year_t_co2e=value,
                effective_date=effective,
                note=row.get("note") or None,
                existed_in_base_year=existed,
            )
        )
    if issues:
        raise InputError(f"{name} was rejected: {len(issues)} issue(s) found", issues)
    return changes


def _change_from_dict(data: Mapping[str, Any]) -> StructuralChange:
    effective = data.get("effective_date")
    return StructuralChange(
        kind=str(data["kind"]),
        unit=str(data["unit"]),
        base_year_t_co2e=data.get("base_year_t_co2e"),
        effective_date=date.fromisoformat(effective) if effective else None,
        note=data.get("note"),
        existed_in_base_year=bool(data.get("existed_in_base_year", True)),
    )


def _change_to_dict(change: StructuralChange) -> dict[str, Any]:
    return {
        "kind": str(change.kind),
        "unit": change.unit,
        "base_year_t_co2e": change.base_year_t_co2e,
        "effective_date": None
        if change.effective_date is None
        else change.effective_date.isoformat(),
        "note": change.note,
        "existed_in_base_year": change.existed_in_base_year,
    }


# ---- the workspace's base year -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BaseYear:
    """The workspace's current base-year inventory.

    Attributes
    ----------
    entry_id
        Id of the ``base_years`` entry that holds it.
    base_year
        The base year.
    run_id
        The run designated as the base year.
    threshold
        [fraction] Significance threshold of the recalculation policy.
    totals
        [t CO2e] ``total``, ``scope1``, ``scope2_location``, ``scope3``, ``by_entity`` and
        ``by_site`` (unit → t CO2e), as designated or as last recalculated.
    recalculated
        Whether the totals are a recalculation (not the run's own figures).
    pending
        Qualifying changes assessed since, below the threshold: they count again,
        cumulatively, in the next assessment.
    """

    entry_id: int
    base_year: int
    run_id: str
    threshold: float
    totals: dict[str, Any]
    recalculated: bool
    pending: tuple[StructuralChange, ...]

    def by_unit(self, level: str = "entity") -> dict[str, float]:
        """[t CO2e] Base-year emissions by ``entity`` or ``site``."""
        key = {"entity": "by_entity", "site": "by_site"}.get(level)
        if key is None:
            raise InputError(f"Unknown level {level!r}: choose entity or site.")
        if key not in self.totals:
            other = "entity" if "by_entity" in self.totals else "site"
            raise InputError(
                f"The base year was last recalculated by {other}: give the changes by "
                f"{other} (a recalculated base year keeps only the table it was "
                "recalculated on)"
            )
        return {str(k): float(v) for k, v in self.totals[key].items()}


def _totals_of(run: Run) -> dict[str, Any]:
    from esgledger.inventory.runs import aggregate

    data = aggregate(run.line_items_path)
    return {
        **{k: data["totals"][k] for k in ("scope1", "scope2_location", "scope3", "total")},
        "by_entity": {code: entry["total"] for code, entry in data["by_entity"].items()},
        "by_site": {code: entry["total"] for code, entry in data["by_site"].items()},
    }


def set_base_year(
    workspace: Workspace,
    run_id: str | None = None,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    note: str | None = None,
    principal: Principal | None = None,
) -> BaseYear:
    """Designate a run (default: the latest) as the base-year inventory, under the
    workspace's write lock, with the audit event ``base_year.set`` of ``principal`` (None:
    :meth:`Principal.local`).

    The base year is the run's reporting year; its totals by scope, entity and site
    [t CO2e, consolidated] are stored with the threshold of the recalculation policy.
    Designating again starts a new history (earlier entries are kept).

    Raises
    ------
    WorkspaceError
        If there is no such run.
    InputError
        If the threshold is outside (0, 1).
    """
    from esgledger.inventory.runs import load_run
    from esgledger.store.repository import save_base_year_entry

    if not 0.0 < threshold < 1.0:
        raise InputError(
            f"The significance threshold must be a fraction between 0 and 1, got {threshold}"
        )
    run = load_run(workspace, run_id)
    totals = _totals_of(run)
    year = int(run.manifest["reporting_year"])
    with workspace.write_lock() as session:
        entry_id = save_base_year_entry(
            session,
            {
                "created_at": datetime.now(UTC),
                "kind": "set",
                "base_year": year,
                "run_id": run.run_id,
                "parent_id": None,
                "threshold": threshold,
                "totals": totals,
                "changes": None,
                "result": None,
                "note": note,
            },
        )
        audit.record(
            session,
            principal if principal is not None else Principal.local(),
            "base_year.set",
            "base_year",
            str(entry_id),
            after=audit.digest(totals),
            detail={"base_year": year, "run_id": run.run_id, "threshold": threshold},
        )
    return BaseYear(entry_id, year, run.run_id, threshold, totals, False, ())


def base_year_history(workspace: Workspace) -> list[dict[str, Any]]:
    """Every entry of the base-year history, oldest first (dicts of the ``base_years``
    columns)."""
    from esgledger.store.repository import load_base_year_entries

    with workspace.session() as session:
        return load_base_year_entries(session)


def current_base_year(workspace: Workspace) -> BaseYear:
    """The workspace's base-year inventory (latest ``set`` or ``recalculated`` entry) and the
    changes assessed since below the threshold.

    Raises
    ------
    WorkspaceError
        If no base year has been set.
    """
    entries = base_year_history(workspace)
    current = next((e for e in reversed(entries) if e["kind"] in ("set", "recalculated")), None)
    if current is None:
        raise WorkspaceError(
            f"workspace {workspace.root} has no base year; designate a run with "
            "`esgledger base-year set WS --run ID`"
        )
    pending: list[StructuralChange] = []
    for entry in entries:
        if entry["id"] > current["id"] and entry["kind"] == "assessed":
            for item in entry["changes"] or []:
                change = _change_from_dict(item)
                if change not in pending:
                    pending.append(change)
    return BaseYear(
        entry_id=int(current["id"]),
        base_year=int(current["base_year"]),
        run_id=str(current["run_id"]),
        threshold=float(current["threshold"]),
        totals=dict(current["totals"]),
        recalculated=current["kind"] == "recalculated",
        pending=tuple(pending),
    )


def record_recalculation(
    workspace: Workspace,
    changes: Sequence[StructuralChange],
    *,
    level: str = "entity",
    threshold: float | None = None,
    save: bool = True,
    note: str | None = None,
    principal: Principal | None = None,
) -> Recalculation:
    """Assess ``changes`` (plus the pending ones) against the workspace's base year.
    A saved outcome is written under the workspace's write lock with the audit event
    ``base_year.recalculate`` of ``principal`` (None: :meth:`Principal.local`).

    The new changes join those assessed earlier below the threshold (cumulative; an
    identical change is counted once). With ``save``, the outcome is stored: a
    ``recalculated`` entry with the new base-year totals when triggered (the scope split is
    not recalculated — changes are given by unit, not by scope — so ``scope1`` …
    ``scope3`` are dropped and only ``total`` and the ``level`` table are kept), else an
    ``assessed`` entry whose changes stay pending.

    Parameters
    ----------
    level
        ``entity`` or ``site``: what the changes' ``unit`` names.
    threshold
        [fraction] Default: the base year's policy threshold.
    """
    from esgledger.store.repository import save_base_year_entry

    base = current_base_year(workspace)
    chosen = base.threshold if threshold is None else threshold
    combined = list(base.pending)
    for change in changes:
        if change not in combined:
            combined.append(change)
    result = recalculate(base.by_unit(level), combined, chosen)
    if save:
        key = {"entity": "by_entity", "site": "by_site"}[level]
        totals: dict[str, Any]
        if result.triggered:
            totals = {
                "total": result.recalculated_total_t_co2e,
                key: result.recalculated_by_unit,
                "recalculated_from": base.totals,
            }
        else:
            totals = base.totals
        with workspace.write_lock() as session:
            entry_id = save_base_year_entry(
                session,
                {
                    "created_at": datetime.now(UTC),
                    "kind": "recalculated" if result.triggered else "assessed",
                    "base_year": base.base_year,
                    "run_id": base.run_id,
                    "parent_id": base.entry_id,
                    "threshold": chosen,
                    "totals": totals,
                    "changes": [_change_to_dict(c) for c in combined],
                    "result": result.to_dict(),
                    "note": note,
                },
            )
            audit.record(
                session,
                principal if principal is not None else Principal.local(),
                "base_year.recalculate",
                "base_year",
                str(entry_id),
                before=audit.digest(base.totals),
                after=audit.digest(totals),
                detail={
                    "base_year": base.base_year,
                    "triggered": result.triggered,
                    "changes": len(combined),
                },
            )
    return result
