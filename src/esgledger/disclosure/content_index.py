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

The report is ``complete`` when no mandatory or comply-or-explain item is ``missing``; the
report builder marks an incomplete report as a draft and the CLI lists :attr:`missing`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from esgledger.disclosure.catalogue import Catalogue, CatalogueItem, IssuerTier

__all__ = ["ContentIndex", "IndexEntry", "content_index"]

_REQUIRED = ("mandatory", "comply_or_explain")


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


@dataclass(frozen=True, slots=True)
class ContentIndex:
    """The content index of one report."""

    entries: tuple[IndexEntry, ...]
    fiscal_year: int
    tier: str
    languages: tuple[str, ...]

    @property
    def missing(self) -> list[IndexEntry]:
        """Mandatory and comply-or-explain items neither disclosed nor explained."""
        return [e for e in self.entries if e.status == "missing" and e.requirement in _REQUIRED]

    @property
    def complete(self) -> bool:
        """``True`` when nothing required is missing (the report is not a draft)."""
        return not self.missing

    def get(self, code: str) -> IndexEntry | None:
        for entry in self.entries:
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
    entries: list[IndexEntry] = []
    for item in catalogue.framework("HKEX_C2"):
        requirement = item.status_for(fiscal_year, tier)

        if requirement == "not_applicable":
            entries.append(_entry(item, requirement, "not_applicable"))
            continue
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
    return ContentIndex(
        entries=tuple(entries), fiscal_year=fiscal_year, tier=tier, languages=tuple(languages)
    )
