"""The HKEX content index: every item of the ESG Reporting Code with its disclosure status.

港交所内容索引：《环境、社会及管治报告守则》每一条目及其披露状态。

For each item of the catalogue's ``HKEX_C2`` framework (Part B, Part C, Part D) and the
issuer's tier and fiscal year, :func:`content_index` gives

* ``requirement``: ``mandatory``, ``comply_or_explain``, ``voluntary`` or ``not_applicable``
  (:meth:`~esgledger.disclosure.catalogue.CatalogueItem.status_for`);
* ``status``:

  - ``disclosed`` when the item, or any item below it (``parent`` chain: the KPIs of an
    aspect do not disclose the aspect's general disclosure, but a company metric whose
    parent is B8.2 does disclose B8.2), has a typed or derived value; a text item is also
    disclosed by the narrative of its report section being present in **every** language of
    the report; an item that asks for breakdowns (``breakdowns`` of the catalogue: KPI B1.1
    by gender, employment type, age group and region) and is disclosed by values lacking one
    of them keeps the status and says so in ``note``;
  - ``explained`` when it is not disclosed and an explanation is given (comply or explain),
    except for mandatory items, which cannot be explained away;
  - ``missing`` otherwise;
  - ``not_applicable`` before the item's effective year.

An item of Part D that is not yet effective but is disclosed anyway (its narrative or values
are there) is ``disclosed`` with requirement ``not_applicable``: early adoption, not an
explanation.

The report is ``complete`` when no mandatory or comply-or-explain item is ``missing``; the
report builder marks an incomplete report as a draft and the CLI lists :attr:`missing`.

One source of truth for the other frameworks (:attr:`ContentIndex.frameworks`): the items of
IFRS S2, SASB and GRI (:data:`MAPPED_FRAMEWORKS`) get their status from the same evidence,
through the catalogue's ``maps_to``. The mapping graph among those items (``GRI 302-1`` ↔
``TC-SI-130a.1.energy`` ↔ ``TC-IM-130a.1.energy``) splits into groups that disclose the same
thing; a group's status is the best (``disclosed`` > ``explained`` > ``missing``) of its
members' own evidence (value, derived value, narrative, explanation) and of the HKEX entries
any member maps to or is mapped from. So ``GRI 306-3`` (mapped to ``A1.3`` and ``A1.4``) is
disclosed when the HKEX index says ``A1.3`` is, and ``S2.6`` is disclosed exactly when
``D.governance`` is. The HKEX items themselves keep their own rule above: the Code asks for
each of them separately.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from esgledger.disclosure.catalogue import Catalogue, CatalogueItem, IssuerTier

__all__ = ["MAPPED_FRAMEWORKS", "ContentIndex", "IndexEntry", "content_index"]

_REQUIRED = ("mandatory", "comply_or_explain")
#: Frameworks whose items take their status through the catalogue's mappings.
MAPPED_FRAMEWORKS: tuple[str, ...] = ("IFRS_S2", "SASB", "GRI")


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One line of the content index.

    Attributes
    ----------
    disclosed_by
        What disclosed it: ``value`` (typed), ``derived``, ``narrative``, or the code of a
        company metric below it; empty unless ``status`` is ``disclosed``.
    note
        Why an item is missing when the reason is not obvious (a narrative present in one
        language only, a mandatory item with an explanation), or which breakdowns a
        disclosed item lacks.
    missing_breakdowns
        Breakdown keys the item asks for that its typed values do not carry.
    framework
        ``HKEX_C2``, or the framework of an entry of :attr:`ContentIndex.frameworks`, whose
        ``disclosed_by`` may name the items of other frameworks that disclose it.
    """

    code: str
    part: str
    title_en: str
    title_zh: str
    section: str
    requirement: str
    status: str
    explanation: str | None = None
    disclosed_by: tuple[str, ...] = ()
    note: str = ""
    missing_breakdowns: tuple[str, ...] = ()
    framework: str = "HKEX_C2"


@dataclass(frozen=True, slots=True)
class ContentIndex:
    """The content index of one report: the HKEX items (:attr:`entries`) and the items of
    the other frameworks (:attr:`frameworks`), with one status per item."""

    entries: tuple[IndexEntry, ...]
    fiscal_year: int
    tier: str
    languages: tuple[str, ...]
    frameworks: tuple[IndexEntry, ...] = ()

    @property
    def missing(self) -> list[IndexEntry]:
        """Mandatory and comply-or-explain items neither disclosed nor explained."""
        return [e for e in self.entries if e.status == "missing" and e.requirement in _REQUIRED]

    @property
    def complete(self) -> bool:
        """``True`` when nothing required is missing (the report is not a draft)."""
        return not self.missing

    def get(self, code: str) -> IndexEntry | None:
        """The entry of ``code``, of any framework."""
        for entry in (*self.entries, *self.frameworks):
            if entry.code == code:
                return entry
        return None


def _codes_with_values(rows: pa.Table | Sequence[Mapping[str, Any]] | None) -> set[str]:
    if rows is None:
        return set()
    records: Iterable[Mapping[str, Any]]
    if isinstance(rows, pa.Table):
        names = [n for n in ("metric", "value", "text") if n in rows.column_names]
        records = rows.select(names).to_pylist()
    else:
        records = rows
    out: set[str] = set()
    for record in records:
        value, text = record.get("value"), record.get("text")
        if value is not None or (text is not None and str(text).strip()):
            out.add(str(record["metric"]))
    return out


def _breakdown_keys(rows: pa.Table | Sequence[Mapping[str, Any]] | None) -> dict[str, set[str]]:
    """Metric code → the breakdown keys its typed values carry (``gender`` of
    ``gender=female;region=CN``)."""
    if rows is None:
        return {}
    records = rows.to_pylist() if isinstance(rows, pa.Table) else rows
    out: dict[str, set[str]] = {}
    for record in records:
        breakdown = str(record.get("breakdown") or "")
        found = {part.partition("=")[0].strip() for part in breakdown.split(";") if "=" in part}
        out.setdefault(str(record["metric"]), set()).update(found)
    return out


def _descendants(catalogue: Catalogue, code: str) -> list[CatalogueItem]:
    """Company metrics and sub-items below ``code``; the KPIs of an aspect (``A1.1`` under
    ``A1``) are separate index lines and are not counted for it."""
    out: list[CatalogueItem] = []
    stack = [code]
    while stack:
        for child in catalogue.children(stack.pop()):
            if (
                child.framework == "HKEX_C2"
                and child.part == "C"
                and "." in child.code
                and (child.code.count(".") == 1)
            ):
                continue  # a KPI is its own line of the index
            out.append(child)
            stack.append(child.code)
    return out


def _entry(item: CatalogueItem, requirement: str, status: str, **extra: Any) -> IndexEntry:
    return IndexEntry(
        framework=item.framework,
        code=item.code,
        part=item.part,
        title_en=item.title_en,
        title_zh=item.title_zh,
        section=item.section,
        requirement=requirement,
        status=status,
        **extra,
    )


def content_index(
    catalogue: Catalogue,
    *,
    fiscal_year: int,
    tier: IssuerTier = "main_board",
    values: pa.Table | Sequence[Mapping[str, Any]] | None = None,
    derived: pa.Table | Sequence[Mapping[str, Any]] | None = None,
    narratives: Mapping[str, Mapping[str, bool]] | None = None,
    explanations: Mapping[str, str] | None = None,
    languages: Sequence[str] = ("en", "zh-CN"),
) -> ContentIndex:
    """Every HKEX ESG Reporting Code item with its status for one report.

    Parameters
    ----------
    catalogue
        The catalogue with the company's own metrics.
    fiscal_year
        Calendar year in which the reported financial year commences [year].
    tier
        ``main_board``, ``largecap`` or ``gem`` (Part D phase-in).
    values, derived
        Typed values (:data:`~esgledger.disclosure.values.VALUE_SCHEMA`) and derived values
        (:meth:`~esgledger.disclosure.derived.Derived.table`), or rows with ``metric``,
        ``value`` and ``text``.
    narratives
        Report section id -> language -> whether the user supplied the narrative.
    explanations
        Item code -> the explanation for not disclosing it (comply or explain).
    languages
        The languages of the report; a narrative must be present in each.
    """
    typed = _codes_with_values(values)
    computed = _codes_with_values(derived)
    keys = _breakdown_keys(values)
    narratives = narratives or {}
    explanations = explanations or {}

    def evidence(item: CatalogueItem) -> tuple[list[str], str]:
        """What discloses ``item`` itself (value, derived, sub-items, narrative) and why a
        narrative does not (present in some languages only)."""
        by: list[str] = []
        if item.code in typed:
            by.append("value")
        if item.code in computed:
            by.append("derived")
        by += [
            child.code
            for child in _descendants(catalogue, item.code)
            if child.code in typed or child.code in computed
        ]
        note = ""
        if item.type == "text":
            present = narratives.get(item.section, {})
            have = [lang for lang in languages if present.get(lang)]
            if have and len(have) == len(languages):
                by.append("narrative")
            elif have:
                lacking = [lang for lang in languages if lang not in have]
                note = f"narrative of section {item.section} missing in {', '.join(lacking)}"
        return by, note

    entries: list[IndexEntry] = []
    for item in catalogue.framework("HKEX_C2"):
        requirement = item.status_for(fiscal_year, tier)
        by, note = evidence(item)
        if requirement == "not_applicable" and not by:
            entries.append(_entry(item, requirement, "not_applicable"))
            continue
        if by:
            lacking_keys = [k for k in item.breakdowns if k not in keys.get(item.code, set())]
            partial = (
                f"disclosed without the breakdown by {', '.join(lacking_keys)} that "
                f"{item.code} asks for"
                if lacking_keys and "value" in by
                else ""
            )
            entries.append(
                _entry(
                    item,
                    requirement,
                    "disclosed",
                    disclosed_by=tuple(by),
                    note=partial,
                    missing_breakdowns=tuple(lacking_keys) if partial else (),
                )
            )
            continue
        explanation = (explanations.get(item.code) or "").strip()
        if explanation and requirement != "mandatory":
            entries.append(_entry(item, requirement, "explained", explanation=explanation))
            continue
        if explanation:
            note = "mandatory: an explanation is not enough, disclose it"
        entries.append(_entry(item, requirement, "missing", note=note))
    others = _mapped_entries(
        catalogue, entries, evidence, explanations, fiscal_year=fiscal_year, tier=tier
    )
    return ContentIndex(
        entries=tuple(entries),
        fiscal_year=fiscal_year,
        tier=tier,
        languages=tuple(languages),
        frameworks=others,
    )


def _groups(catalogue: Catalogue) -> list[list[CatalogueItem]]:
    """The items of :data:`MAPPED_FRAMEWORKS` in groups connected by ``maps_to`` (either
    direction) among themselves, in catalogue order."""
    items = [item for item in catalogue if item.framework in MAPPED_FRAMEWORKS]
    codes = {item.code for item in items}
    links: dict[str, set[str]] = {code: set() for code in codes}
    for item in items:
        for target in item.maps_to:
            if target in codes:
                links[item.code].add(target)
                links[target].add(item.code)
    group_of: dict[str, int] = {}
    groups: list[list[CatalogueItem]] = []
    for item in items:
        if item.code in group_of:
            continue
        number = len(groups)
        stack, members = [item.code], set()
        while stack:
            code = stack.pop()
            if code in members:
                continue
            members.add(code)
            group_of[code] = number
            stack.extend(links[code] - members)
        groups.append([i for i in items if i.code in members])
    return groups


def _mapped_entries(
    catalogue: Catalogue,
    hkex: Sequence[IndexEntry],
    evidence: Callable[[CatalogueItem], tuple[list[str], str]],
    explanations: Mapping[str, str],
    *,
    fiscal_year: int,
    tier: IssuerTier,
) -> tuple[IndexEntry, ...]:
    """The entries of the other frameworks, one status per group of mapped items (module
    docstring)."""
    by_code = {entry.code: entry for entry in hkex}
    mapped_from: dict[str, set[str]] = {}
    for item in catalogue.framework("HKEX_C2"):
        for target in item.maps_to:
            mapped_from.setdefault(target, set()).add(item.code)
    status_of: dict[str, IndexEntry] = {}
    for group in _groups(catalogue):
        own: list[str] = []
        sources: list[IndexEntry] = []
        explanation = ""
        for item in group:
            by, _ = evidence(item)
            if by:
                own.append(item.code)
            explanation = explanation or (explanations.get(item.code) or "").strip()
            linked = {*item.maps_to, *mapped_from.get(item.code, ())}
            sources += [by_code[code] for code in sorted(linked) if code in by_code]
        disclosed = [entry.code for entry in sources if entry.status == "disclosed"]
        explained = [entry for entry in sources if entry.status == "explained"]
        for item in group:
            requirement = item.status_for(fiscal_year, tier)
            if own or disclosed:
                by_items = tuple(dict.fromkeys([*own, *disclosed]))
                entry = _entry(item, requirement, "disclosed", disclosed_by=by_items)
            elif explanation or explained:
                text = explanation or str(explained[0].explanation)
                entry = _entry(item, requirement, "explained", explanation=text)
            else:
                entry = _entry(item, requirement, "missing")
            status_of[item.code] = entry
    return tuple(status_of[item.code] for item in catalogue if item.framework in MAPPED_FRAMEWORKS)
