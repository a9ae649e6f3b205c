"""The ESG report builder: a workspace in, the bilingual report document and files out.

ESG 报告生成器：读取工作区，生成中英双语报告文档及 HTML/PDF 文件。

:func:`build_document` reads one inventory run and everything around it (typed metric values,
the report inputs of ``WS/report/``, targets, plan and claims, green-power data, the
methodology sources) and fills a :class:`~esgledger.report.document.ReportDocument` laid out
as the annual ESG report of a Hong Kong-listed group (sections: ``report/sections.csv``);
:func:`build_report` writes it as HTML and PDF in English and Simplified Chinese with CSV and
XLSX exports of every table.

Reading (``_gather``) and laying out (:func:`document_from_facts`) are separate: the layout is
a pure function of the gathered :class:`ReportFacts` and the clock value passed in.

Figures are never typed into the report: emissions, energy and water come from the run
(:func:`esgledger.disclosure.derive`), each row says ``run <id>``; typed metric values say
``import <batch>`` with their evidence as a note. Greenhouse-gas figures in t CO2e are printed
with :data:`T_CO2E_DECIMALS` decimals and thousands separators (:func:`key_figure`), the rule
the tests apply to ``esgledger inventory --format json`` to find them in the PDF text.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from esgledger import audit
from esgledger.access.principal import Principal
from esgledger.disclosure import Catalogue, Derived, content_index, derive
from esgledger.disclosure.catalogue import CatalogueItem
from esgledger.disclosure.content_index import ContentIndex
from esgledger.energy.kpi_service import kpis as energy_kpis
from esgledger.energy.meters import data_centre_sites
from esgledger.energy.periods import parse_period
from esgledger.errors import EsgledgerError
from esgledger.i18n import strings_table, ui
from esgledger.report import charts
from esgledger.report.config import NARRATIVE_SECTIONS, ReportInputs, load_report_inputs
from esgledger.report.document import (
    LANGS,
    Block,
    Callout,
    Cell,
    Column,
    ContentIndexEntry,
    DataQualityRow,
    DataTable,
    FactorSource,
    Figure,
    Markdown,
    MethodologyAppendix,
    MetricRow,
    MetricTable,
    Placeholder,
    ReportDocument,
    Section,
    Text,
    format_number,
)
from esgledger.report.vocabulary import (
    breakdown_label,
    breakdown_text,
    message_text,
    unit_text,
)

if TYPE_CHECKING:
    from esgledger.inclusion.results import ProgrammeResults
    from esgledger.store import Workspace

__all__ = [
    "REPORTS_DIR",
    "T_CO2E_DECIMALS",
    "ReportFacts",
    "ReportResult",
    "anchor",
    "build_document",
    "build_report",
    "default_out_dir",
    "document_from_facts",
    "key_figure",
    "key_figures",
]

T_CO2E_DECIMALS = 0
"""Decimals of every figure in t CO2e the report prints (whole tonnes)."""

_T_CO2E = "t CO2e"
_FRAMEWORK_SECTIONS = ("HKEX_C2", "organisation", "company")


def key_figure(value: float) -> str:
    """How the report prints an amount [t CO2e]: whole tonnes with thousands separators.

    >>> key_figure(1234567.5), key_figure(30.959)
    ('1,234,568', '31')
    """
    return format_number(float(value), T_CO2E_DECIMALS)


def key_figures(inventory: Mapping[str, Any]) -> dict[str, str]:
    """The headline totals of ``esgledger inventory --format json`` as the report prints them
    (``scope1``, ``scope2_location``, ``scope2_market``, ``scope3``, ``total``)."""
    totals: Mapping[str, Any] = inventory.get("totals", {})
    keys = ("scope1", "scope2_location", "scope2_market", "scope3", "total")
    return {key: key_figure(float(totals[key])) for key in keys if totals.get(key) is not None}


def anchor(section_id: str) -> str:
    """The HTML anchor of a section id (``soc.health_safety`` -> ``soc-health-safety``)."""
    return section_id.replace(".", "-").replace("_", "-")


def _t(key: str, **fields: str | Text | float) -> Text:
    values = {k: v if isinstance(v, Text) else Text.same(str(v)) for k, v in fields.items()}
    en = ui(key, "en", **{k: v.get("en") for k, v in values.items()})
    zh = ui(key, "zh-CN", **{k: v.get("zh-CN") for k, v in values.items()})
    return Text(en, zh)


def _scope12_columns(scope1_key: str = "s1") -> tuple[Column, Column, Column]:
    """Scope 1, scope 2 location-based and market-based columns [t CO2e] of a table."""
    return (
        Column(scope1_key, _t("chart.scope1"), unit=_T_CO2E, decimals=0),
        Column("s2l", _t("b.scope2_location"), unit=_T_CO2E, decimals=0),
        Column("s2m", _t("b.scope2_market"), unit=_T_CO2E, decimals=0),
    )


def _decimals(unit: str, value: float | None) -> int | None:
    """Printing rule: t CO2e -> :data:`T_CO2E_DECIMALS`; other figures by magnitude."""
    if unit == _T_CO2E:
        return T_CO2E_DECIMALS
    if value is None:
        return None
    if unit == "t CO2":  # carbon-inclusion avoided emissions: small amounts keep 0.1 kg
        size = abs(value)
        return 1 if size >= 100 else 3 if size >= 1 or value == 0 else 4
    size = abs(value)
    if size >= 100 or float(value).is_integer():
        return 0
    return 2 if size >= 1 else 4


# ---- the facts a report is made of -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _SectionSpec:
    id: str
    parent: str
    title: Text
    opt_in: bool = False
    short_title: Text | None = None


def _section_specs() -> tuple[_SectionSpec, ...]:
    """The section tree of ``report/sections.csv``; ``opt_in`` sections appear only when the
    report inputs ask for them (:meth:`ReportInputs.includes`), and a chapter that loses one
    takes its ``short_title``."""
    raw = resources.files("esgledger.report").joinpath("sections.csv").read_text(encoding="utf-8")
    return tuple(
        _SectionSpec(
            row["id"],
            row["parent"],
            Text(row["title_en"], row["title_zh"]),
            opt_in=row["opt_in"] == "yes",
            short_title=(
                Text(row["short_title_en"], row["short_title_zh"])
                if row["short_title_en"]
                else None
            ),
        )
        for row in csv.DictReader(io.StringIO(raw))
    )


@dataclass(frozen=True, slots=True)
class YearPoint:
    """One year of history for the charts [t CO2e] with where it comes from."""

    year: int
    scope1: float
    scope2_location: float | None
    scope2_market: float | None
    scope3: float | None
    source: str | Text
    re_share_pct: float | None = None


@dataclass(frozen=True, slots=True)
class ReportFacts:
    """Everything the report shows, read from the workspace (see :func:`_gather`).

    Attributes
    ----------
    inventory
        :func:`esgledger.inventory.runs.summary` of the run (the JSON of ``esgledger
        inventory --format json``).
    values
        Typed metric values (rows of ``metric_values``) of every stored year.
    derived, prior_derived
        Derived metrics of the run and of the latest run of the previous year (or ``None``).
    history
        Per year: emissions of the latest run, else the published figures.
    targets, plan, claim
        ``as_dict()`` of :func:`esgledger.targets.service.target_status`, ``plan`` and
        ``claims`` (``None`` when there is nothing to show; ``notes`` says why).
    cfe_heatmap
        12 x 24 hourly CFE share [fraction] when hourly files are configured.
    notes
        Why a part of the report has nothing to show (key -> (English, Chinese)).
    inclusion, prior_inclusion
        The carbon-inclusion programme's results over the reporting year and the year before
        (:func:`esgledger.inclusion.results.programme_results`); ``None`` when they could not
        be read (``notes["inclusion"]`` says why).
    inclusion_factors
        What the methodology registry says of each factor of ``inclusion.methodologies``
        (:func:`esgledger.inclusion.results.describe_factor`), in the same order.
    """

    workspace_name: str
    run_id: str
    year: int
    inventory: Mapping[str, Any]
    catalogue: Catalogue
    inputs: ReportInputs
    values: tuple[Mapping[str, Any], ...]
    derived: Derived
    prior_derived: Derived | None
    prior_run_id: str | None
    index: ContentIndex
    history: tuple[YearPoint, ...]
    targets: Mapping[str, Any] | None = None
    plan: Mapping[str, Any] | None = None
    macc_svg: Mapping[str, bytes] | None = None
    claim: Mapping[str, Any] | None = None
    factor_sources: tuple[FactorSource, ...] = ()
    changes: tuple[Text, ...] = ()
    recalculations: tuple[Text, ...] = ()
    cfe_heatmap: Any = None
    cfe_scores: Mapping[str, float] = field(default_factory=dict)
    site_types: Mapping[str, str] = field(default_factory=dict)
    notes: Mapping[str, Text] = field(default_factory=dict)
    energy_kpis: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    inclusion: ProgrammeResults | None = None
    prior_inclusion: ProgrammeResults | None = None
    inclusion_factors: tuple[Mapping[str, str], ...] = ()


def _whole_year(row: Mapping[str, Any], year: int) -> bool:
    start, end = row.get("period_start"), row.get("period_end")
    return start == dt.date(year, 1, 1) and end == dt.date(year, 12, 31)


def _values_table(rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    schema = pa.schema(
        [
            ("metric", pa.string()),
            ("entity", pa.string()),
            ("period_start", pa.date32()),
            ("period_end", pa.date32()),
            ("breakdown", pa.string()),
            ("value", pa.float64()),
            ("unit", pa.string()),
            ("text", pa.string()),
        ]
    )
    return pa.Table.from_pylist(
        [{name: row.get(name) for name in schema.names} for row in rows], schema=schema
    )


def _history(workspace: Workspace) -> tuple[YearPoint, ...]:
    """Emissions per year (latest run of the year, else published figures) with each run
    year's group renewable share [%] from the run's market-based section."""
    from esgledger.inventory.runs import load_run
    from esgledger.targets.actuals import yearly_inventories

    points = []
    for year, inventory in sorted(yearly_inventories(workspace).items()):
        totals = inventory.totals
        share: float | None = None
        if inventory.run_id is not None:
            manifest = load_run(workspace, inventory.run_id).manifest
            group = ((manifest.get("market_based") or {}).get("renewable_share") or {}).get("group")
            share = None if group is None else 100 * float(group)
        points.append(
            YearPoint(
                year=year,
                scope1=float(totals.get("scope1", 0.0)),
                scope2_location=totals.get("scope2_location"),
                scope2_market=totals.get("scope2_market"),
                scope3=totals.get("scope3"),
                source=message_text(inventory.source),
                re_share_pct=share,
            )
        )
    return tuple(points)


def _factor_sources(workspace: Workspace, manifest: Mapping[str, Any]) -> tuple[FactorSource, ...]:
    """The sources of the factors the run used, each once: the factor sets (their
    publication, edition, licence and attribution), emissions reported by others, and the
    GWP set (refrigerant and process-gas lines are priced with its values, so the synthetic
    ``ipcc-gwp`` set is that one row). A set deleted from the workspace after the run is
    named with its id and that note."""
    from esgledger.factors.library import FactorLibrary
    from esgledger.factors.resolve import GWP_FACTOR_PREFIX, REPORTED_ACTIVITY

    library = FactorLibrary.for_workspace(workspace)
    out: list[FactorSource] = []
    seen: set[tuple[str, str]] = set()
    used = sorted(dict(manifest.get("factor_sets_used", {}) or {}))
    for set_id in used:
        if set_id.startswith(GWP_FACTOR_PREFIX):
            continue  # the GWP set's own row below
        if set_id == REPORTED_ACTIVITY:
            out.append(FactorSource(_t("b.source_reported"), "", ""))
            continue
        try:
            info = library.set_info(set_id)
        except KeyError:
            out.append(FactorSource(set_id, "", "", _t("b.source_removed")))
            continue
        name = str(info.get("source") or info.get("name") or set_id)
        edition = str(info.get("edition") or "")
        if (name, edition) in seen:
            continue
        seen.add((name, edition))
        out.append(
            FactorSource(
                name=name,
                edition=edition,
                licence=str(info.get("licence") or ""),
                attribution=str(info.get("attribution") or ""),
            )
        )
    gwp = manifest.get("gwp_source")
    if gwp:
        out.append(FactorSource(str(gwp), str(manifest.get("gwp_set", "")), "", ""))
    return tuple(out)


def _changes(workspace: Workspace, run: Any, prior: Any) -> tuple[Text, ...]:
    from esgledger.inventory.diff import diff_runs

    if prior is None:
        return ()
    return _change_texts(diff_runs(prior, run), prior.run_id)


def _change_texts(diff: Any, prior_id: str) -> tuple[Text, ...]:
    """The changes since last year's run (:func:`esgledger.inventory.diff.diff_runs`) as
    text: each cause by its name (``CAUSE_LABELS``), each factor set's change in words."""
    from esgledger.inventory.diff import CAUSE_LABELS

    out = [
        _t(
            "b.change_total",
            prior=prior_id,
            a=key_figure(diff.totals.get("total", {}).get("a", 0.0)),
            b=key_figure(diff.totals.get("total", {}).get("b", 0.0)),
        )
    ]
    for cause, delta in sorted(diff.by_cause.items()):
        label = Text(*CAUSE_LABELS[cause]) if cause in CAUSE_LABELS else Text.same(cause)
        out.append(_t("b.change_cause", cause=label, delta=key_figure(delta)))
    for entry in diff.factor_sets:
        change = str(entry.get("change"))
        key = f"b.set_{change}"
        words = _t(key) if key in strings_table() else Text.same(change)
        out.append(_t("b.change_set", set=str(entry.get("id")), change=words))
    return tuple(out)


def _recalculations(workspace: Workspace) -> tuple[Text, ...]:
    from esgledger.inventory.base_year import base_year_history

    out = []
    for entry in base_year_history(workspace):
        when = entry["created_at"]
        day = when.date().isoformat() if isinstance(when, dt.datetime) else str(when)
        total = (entry.get("totals") or {}).get("total")
        shown = "" if total is None else key_figure(float(total))
        out.append(
            _t(
                f"b.base_year_{entry['kind']}",
                year=str(entry["base_year"]),
                run=str(entry["run_id"]),
                date=day,
                total=shown,
            )
        )
    return tuple(out)


def _cfe(inputs: ReportInputs) -> tuple[Any, dict[str, float]]:
    """Month x hour CFE share and the portfolio scores [%] from the configured hourly files."""
    green = inputs.config.green
    if green.hourly_load is None or green.hourly_supply is None:
        return None, {}
    from esgledger.renewables import cfe as cfe_module

    load = cfe_module.read_hourly(inputs.resolve(green.hourly_load), "load")
    supply = cfe_module.read_hourly(inputs.resolve(green.hourly_supply), "clean")
    sites, hours, load_m = cfe_module.matrix_from_table(load, "load_mwh")
    _, _, clean_m = cfe_module.matrix_from_table(supply, "clean_mwh", sites=sites, hours=hours)
    result = cfe_module.cfe(load_m, clean_m, green.grid_cfe)
    summary = result.summary()
    scores = {
        "hourly": 100 * float(summary.portfolio_hourly_match),
        "cfe": 100 * float(summary.portfolio_cfe_score),
        "volumetric": 100
        * float(np.sum(summary.clean_mwh))
        / max(float(np.sum(summary.load_mwh)), 1e-12),
    }
    return cfe_module.heatmap(hours, result.cfe_mwh, result.load_mwh), scores


def _gather(workspace: Workspace, run_id: str | None) -> ReportFacts:
    """Read everything the report shows (the only function here that reads the workspace)."""
    from esgledger.ingest.metrics import workspace_catalogue
    from esgledger.inventory.runs import list_runs, load_run, summary
    from esgledger.store.repository import load_sites
    from esgledger.store.repository_targets import load_metric_values

    run = load_run(workspace, run_id)
    inventory = summary(run)
    year = int(run.manifest["reporting_year"])
    catalogue = workspace_catalogue(workspace)
    inputs = load_report_inputs(
        workspace.root,
        workspace_name=workspace.name,
        known_codes={item.code for item in catalogue},
    )
    with workspace.session() as session:
        values = tuple(load_metric_values(session))
        site_types = {str(s["code"]): str(s.get("type") or "") for s in load_sites(session)}
    table = _values_table(values)
    notes: dict[str, Text] = {}
    targets: dict[str, Any] | None = None
    plan_data: dict[str, Any] | None = None
    macc_svg: dict[str, bytes] | None = None
    claim: dict[str, Any] | None = None
    target_dicts: list[dict[str, Any]] = []
    from esgledger.targets import service

    try:
        status = service.target_status(workspace)
        if status.targets:
            targets = status.as_dict()
            target_dicts = [state.target.model_dump(mode="json") for state in status.targets]
        else:
            notes["targets"] = _t("b.no_targets")
    except EsgledgerError as exc:
        notes["targets"] = _t("b.not_available", reason=message_text(str(exc)))
    try:
        planned = service.plan(workspace, run_id=run.run_id)
        plan_data = planned.as_dict()
        from esgledger.targets.charts import macc_chart

        macc_svg = {lang: macc_chart(planned.macc, lang=lang) for lang in LANGS}
    except EsgledgerError as exc:
        notes["plan"] = _t("b.not_available", reason=message_text(str(exc)))
    try:
        claim = service.claims(workspace, year).as_dict()
    except EsgledgerError as exc:
        notes["claim"] = _t("b.not_available", reason=message_text(str(exc)))
    inclusion = _inclusion(workspace, year, notes)
    prior_inclusion = _inclusion(workspace, year - 1, {})
    derived = derive(
        inventory,
        run.line_items_path,
        catalogue,
        values=table,
        targets=target_dicts,
        entity=inputs.config.company.entity,
        inclusion=inclusion,
    )
    prior_runs = [
        r
        for r in list_runs(workspace)
        if int(r["reporting_year"]) == year - 1 and not r.get("preview")
    ]
    prior_run = load_run(workspace, str(prior_runs[-1]["run_id"])) if prior_runs else None
    prior_derived = None
    if prior_run is not None:
        prior_derived = derive(
            summary(prior_run),
            prior_run.line_items_path,
            catalogue,
            values=table,
            entity=inputs.config.company.entity,
            inclusion=prior_inclusion,
        )
    year_values = [row for row in values if row["period_start"].year == year]
    index = content_index(
        catalogue,
        fiscal_year=year,
        tier=inputs.config.company.tier,
        values=year_values,
        derived=derived.table(),
        narratives=inputs.narrative_presence(),
        explanations={code: en for code, (en, _) in inputs.explanations.items()},
    )
    heatmap, scores = _cfe(inputs)
    return ReportFacts(
        workspace_name=workspace.name,
        run_id=run.run_id,
        year=year,
        inventory=inventory,
        catalogue=catalogue,
        inputs=inputs,
        values=values,
        derived=derived,
        prior_derived=prior_derived,
        prior_run_id=None if prior_run is None else prior_run.run_id,
        index=index,
        history=_history(workspace),
        targets=targets,
        plan=plan_data,
        macc_svg=macc_svg,
        claim=claim,
        factor_sources=_factor_sources(workspace, run.manifest),
        changes=_changes(workspace, run, prior_run),
        recalculations=_recalculations(workspace),
        cfe_heatmap=heatmap,
        cfe_scores=scores,
        site_types=site_types,
        notes=notes,
        energy_kpis=_energy_kpis(workspace, year),
        inclusion=inclusion,
        prior_inclusion=prior_inclusion,
        inclusion_factors=_inclusion_factors(inclusion),
    )


def _inclusion(workspace: Workspace, year: int, notes: dict[str, Text]) -> ProgrammeResults | None:
    """The carbon-inclusion programme's results over ``year``, or ``None`` with a note."""
    from esgledger.inclusion.results import programme_results

    try:
        return programme_results(workspace, dt.date(year, 1, 1), dt.date(year, 12, 31))
    except EsgledgerError as exc:
        notes["inclusion"] = _t("b.not_available", reason=message_text(str(exc)))
        return None


def _inclusion_factors(results: ProgrammeResults | None) -> tuple[Mapping[str, str], ...]:
    from esgledger.inclusion.results import describe_factor

    if results is None:
        return ()
    return tuple(describe_factor(use) for use in results.methodologies)


def _energy_kpis(workspace: Workspace, year: int) -> dict[str, dict[str, Any]]:
    """PUE, WUE, CUE and REF of the reporting year for each site with meters
    (:func:`esgledger.energy.kpi_service.kpis`); empty when no site has meters."""
    if not data_centre_sites(workspace):
        return {}
    found = energy_kpis(workspace, period=parse_period(str(year)))
    return {k.site: k.to_json() for k in found if k.site is not None and k.pue is not None}


# ---- layout: facts -> document (pure) ----------------------------------------------------


def _figure(chart_id: str, caption: Text, draw: Callable[[str], bytes]) -> Figure:
    return Figure(chart_id, caption, {lang: draw(lang) for lang in LANGS})


def _row_label(item: CatalogueItem, breakdown: str, first: bool, extra: str = "") -> Text:
    """A KPI table row's label: the item's title (with its breakdown) on its first row; only
    the breakdown on the rows after it, so a KPI with many breakdowns reads as one block."""
    detail = breakdown_text(breakdown)
    if not first and detail.en:
        return Text(f"… {detail.en}{extra}", f"… {detail.zh}{extra}")
    if not detail.en:
        return _item_title(item, extra)
    title = _item_title(item)
    return Text(f"{title.en} ({detail.en}){extra}", f"{title.zh}（{detail.zh}）{extra}")


def _short_title(title: str, code: str) -> str:
    """A catalogue title without its leading ``KPI A1.2`` / ``关键绩效指标 A1.2`` (the code is
    printed in its own column)."""
    for prefix in ("KPI ", "关键绩效指标 ", "General Disclosure ", "一般披露 "):
        if title.startswith(prefix + code + " "):
            return title[len(prefix + code) + 1 :]
    return title


def _item_title(item: CatalogueItem, suffix: str = "") -> Text:
    zh = item.title_zh or item.title_en
    return Text(
        _short_title(item.title_en, item.code) + suffix, _short_title(zh, item.code) + suffix
    )


class _Layout:
    """Builds the sections from :class:`ReportFacts` (one instance per document)."""

    def __init__(self, facts: ReportFacts) -> None:
        self.f = facts
        self.used_tables: set[str] = set()
        self.placed_items: set[str] = set()

    # -- metric tables -----------------------------------------------------------------

    def _prior_derived(self, code: str, breakdown: str) -> float | None:
        if self.f.prior_derived is None:
            return None
        found = self.f.prior_derived.get(code, breakdown)
        return None if found is None else found.value

    def _typed_rows(self, item: CatalogueItem, year: int) -> list[Mapping[str, Any]]:
        return [
            row
            for row in self.f.values
            if row["metric"] == item.code and row["period_start"].year == year
        ]

    def left_out(self, derivation: str) -> tuple[Text, ...]:
        """What a derived total leaves out, one note each (printed under its table): fuel
        quantities no shipped property converts into energy, activity lines without a factor
        (``--allow-unresolved``). A total never silently leaves rows out."""
        notes: list[Text] = []
        if derivation.startswith("energy."):
            for missing in self.f.derived.not_convertible:
                notes.append(
                    _t(
                        "b.energy_left_out",
                        activity=missing.activity,
                        quantity=f"{missing.quantity:,.10g}",
                        unit=missing.unit,
                        lines=str(missing.lines),
                    )
                )
        if derivation.startswith("ghg."):
            counts = (self.f.inventory.get("run") or {}).get("counts") or {}
            excluded = int(counts.get("excluded") or 0)
            if excluded:
                notes.append(_t("b.ghg_left_out", lines=str(excluded)))
        return tuple(notes)

    def metric_rows(self, item: CatalogueItem) -> tuple[list[MetricRow], list[tuple[Any, ...]]]:
        """Number rows and text rows (code, item, text, source) of one catalogue item; the
        first number row of a derived item carries the notes of what its total leaves out
        (:meth:`left_out`)."""
        rows: list[MetricRow] = []
        texts: list[tuple[Any, ...]] = []
        source = _run_source(self.f.run_id)
        for value in self.f.derived.for_metric(item.code):
            if value.value is None and value.text is None:
                continue
            if value.derivation.startswith("inclusion."):
                source = _t("b.incl_source")  # the programme's lines and ledger, not the run
            label = _row_label(item, value.breakdown, first=not rows)
            if value.value is None:
                texts.append((item.code, label, value.text, source))
                continue
            rows.append(
                MetricRow(
                    code=item.code,
                    label=label,
                    value=value.value,
                    unit=unit_text(value.unit_label),
                    prior=self._prior_derived(item.code, value.breakdown),
                    source=source,
                    footnotes=() if rows else self.left_out(value.derivation),
                    decimals=_decimals(value.unit_label, value.value),
                )
            )
        if item.is_derived:
            return rows, texts
        current = self._typed_rows(item, self.f.year)
        entities = {row["entity"] for row in current}
        prior = {
            (row["entity"], row["breakdown"] or ""): row
            for row in self._typed_rows(item, self.f.year - 1)
            if row.get("value") is not None
        }
        for row in current:
            extra = f" [{row['entity']}]" if len(entities) > 1 else ""
            label = _row_label(item, row["breakdown"] or "", first=not rows, extra=extra)
            src = _t("b.source_import", batch=str(row.get("batch_id") or ""))
            if row.get("value") is None:
                if row.get("text"):
                    texts.append((item.code, label, row["text"], src))
                continue
            before = prior.get((row["entity"], row["breakdown"] or ""))
            unit: str | Text = (
                Text(item.label("en"), item.unit_label_zh or unit_text(item.label("en")).zh)
                if not item.unit.startswith("[currency]")
                else str(row["unit"] or "")
            )
            if isinstance(unit, Text) and not unit.en:
                unit = str(row.get("unit") or "")
            evidence = row.get("evidence")
            rows.append(
                MetricRow(
                    code=item.code,
                    label=label,
                    value=float(row["value"]),
                    unit=unit,
                    prior=None if before is None else float(before["value"]),
                    source=src,
                    footnotes=(_t("b.evidence", evidence=str(evidence)),) if evidence else (),
                    decimals=_decimals(
                        unit.en if isinstance(unit, Text) else unit, float(row["value"])
                    ),
                )
            )
        return rows, texts

    def item_tables(self, section_id: str, items: Iterable[CatalogueItem]) -> list[Block]:
        metric_rows: list[MetricRow] = []
        text_rows: list[tuple[Any, ...]] = []
        for item in items:
            self.placed_items.add(item.code)
            numbers, texts = self.metric_rows(item)
            metric_rows += numbers
            text_rows += texts
        blocks: list[Block] = []
        key = anchor(section_id)
        if metric_rows:
            blocks.append(MetricTable(f"{key}-kpis", _t("b.kpi_table"), tuple(metric_rows)))
        if text_rows:
            blocks.append(
                DataTable(
                    f"{key}-text",
                    _t("b.text_table"),
                    (
                        Column("code", _t("metric.code")),
                        Column("item", _t("metric.label")),
                        Column("text", _t("b.disclosure")),
                        Column("source", _t("metric.source")),
                    ),
                    tuple(text_rows),
                )
            )
        return blocks

    def section_items(self, section_id: str) -> list[CatalogueItem]:
        return [
            item
            for item in self.f.catalogue
            if item.section == section_id
            and item.framework in _FRAMEWORK_SECTIONS
            and item.code not in self.placed_items
        ]

    # -- narrative ---------------------------------------------------------------------

    def narrative(self, section_id: str) -> list[Block]:
        if section_id not in NARRATIVE_SECTIONS:
            return []
        en = self.f.inputs.narrative(section_id, "en")
        zh = self.f.inputs.narrative(section_id, "zh-CN")
        if en is None and zh is None:
            return [Callout(_t("b.no_narrative", file=f"report/narratives/{section_id}.<lang>.md"))]
        missing_en = _t("b.narrative_missing_lang", file=f"{section_id}.en.md").en
        missing_zh = _t("b.narrative_missing_lang", file=f"{section_id}.zh-CN.md").zh
        return [
            Markdown(en if en is not None else missing_en, zh if zh is not None else missing_zh)
        ]

    # -- special sections --------------------------------------------------------------

    def profile(self) -> list[Block]:
        company = self.f.inputs.config.company

        def lines(lang: str) -> str:
            zh = lang == "zh-CN"
            items = [
                (
                    ui("b.company_name", lang),
                    (company.name_zh or company.name) if zh else company.name,
                ),
                (ui("b.stock_code", lang), company.stock_code or "-"),
                (ui("b.issuer_tier", lang), ui(f"b.tier_{company.tier}", lang)),
                (ui("doc.reporting_year", lang), str(self.f.year)),
                (ui("b.run", lang), self.f.run_id),
            ]
            colon = "：" if zh else ": "
            return "\n".join(f"- **{key}**{colon}{value}" for key, value in items)

        return [Markdown(lines("en"), lines("zh-CN"))]

    def boundary(self) -> list[Block]:
        """The period and consolidation approach of the run (the user's boundary note is in the
        methodology appendix, and the narrative above says the rest)."""
        manifest = self.f.inventory.get("run", {})
        approach = _approach(str(manifest.get("consolidation", "")))
        year = str(self.f.year)
        blocks: list[Block] = [
            Markdown(
                ui("b.boundary_text", "en", year=year, approach=approach.en),
                ui("b.boundary_text", "zh-CN", year=year, approach=approach.zh),
            )
        ]
        investments = manifest.get("category_15_investments", {}) or {}
        if investments:
            # The same fact as the scope 3 table's category 15 row: the run's category 15.
            t = key_figure(float(self.f.inventory["scope3_by_category"].get("15", 0.0)))
            names = {
                lang: ", ".join(
                    f"{code} ({_num_pct(v.get('equity_share'))} {ui('b.equity_share', lang)})"
                    for code, v in sorted(investments.items())
                )
                for lang in LANGS
            }
            blocks.append(
                Markdown(
                    *(
                        ui(
                            "b.boundary_investments",
                            lang,
                            approach=approach.get(lang),
                            entities=names[lang],
                            t=t,
                            year=year,
                        )
                        for lang in LANGS
                    )
                )
            )
        shares = manifest.get("consolidation_shares", {}) or {}
        if shares:
            blocks.append(
                DataTable(
                    "consolidation-shares",
                    _t("b.shares_table"),
                    (
                        Column("entity", _t("b.entity")),
                        Column("share", _t("b.share"), unit="%", decimals=1),
                        Column("reason", _t("b.reason")),
                    ),
                    tuple(
                        (
                            code,
                            100 * float(v.get("share", 0.0)),
                            message_text(str(v.get("reason", ""))),
                        )
                        for code, v in sorted(shares.items())
                    ),
                )
            )
        return blocks

    def principles(self) -> list[Block]:
        return [Markdown(ui("b.frameworks", "en"), ui("b.frameworks", "zh-CN"))]

    def board_statement(self) -> list[Block]:
        en = self.f.inputs.narrative("gov.board_statement", "en")
        zh = self.f.inputs.narrative("gov.board_statement", "zh-CN")
        content = Markdown(en, zh) if en is not None and zh is not None else None
        return [
            Placeholder(
                key="board-statement",
                label=_t("b.board_statement"),
                instruction=_t("b.board_statement_instruction"),
                content=content,
            )
        ]

    def governance(self) -> list[Block]:
        bodies = self.f.inputs.config.governance
        if not bodies:
            return [Callout(_t("b.no_governance"))]
        blocks: list[Block] = []
        rows = tuple(
            (
                Text(body.name, body.name_zh),
                Text(body.role, body.role_zh),
                Text(body.chair, body.chair_zh),
                body.members,
                body.meetings,
            )
            for body in bodies
        )
        blocks.append(
            DataTable(
                "governance-bodies",
                _t("b.governance_table"),
                (
                    Column("body", _t("b.body")),
                    Column("role", _t("b.role")),
                    Column("chair", _t("b.chair")),
                    Column("members", _t("b.members"), decimals=0),
                    Column("meetings", _t("b.meetings"), decimals=0),
                ),
                rows,
            )
        )
        blocks.insert(
            0, Markdown(_bodies_markdown(bodies, "en"), _bodies_markdown(bodies, "zh-CN"))
        )
        return blocks

    def materiality(self) -> list[Block]:
        topics = self.f.inputs.config.materiality
        if not topics:
            return [Callout(_t("b.no_topics"))]
        ordered = sorted(topics, key=lambda t: -(t.stakeholders + t.business))
        table = DataTable(
            "material-topics",
            _t("b.topics_table"),
            (
                Column("n", Text.same("#"), decimals=0),
                Column("topic", _t("b.topic")),
                Column("aspect", _t("b.aspect")),
                Column("stakeholders", _t("b.stakeholders"), decimals=1),
                Column("business", _t("b.business"), decimals=1),
            ),
            tuple(
                (
                    n,
                    Text(t.topic, t.topic_zh),
                    t.aspect,
                    t.stakeholders,
                    t.business,
                )
                for n, t in enumerate(ordered, start=1)
            ),
        )
        points = [(t.business, t.stakeholders) for t in ordered]
        figure = _figure(
            "materiality-matrix",
            _t("b.materiality_matrix"),
            lambda lang: _materiality_chart(points, lang),
        )
        return [table, figure]

    def climate_metrics(self) -> list[Block]:
        blocks: list[Block] = []
        totals = self.f.inventory.get("totals", {})
        prior = self._prior_totals()
        rows = []
        for key, code in (
            ("scope1", "GHG-S1"),
            ("scope2_location", "GHG-S2-LOC"),
            ("scope2_market", "GHG-S2-MKT"),
            ("scope3", "GHG-S3"),
            ("total", "GHG-TOTAL"),
        ):
            if totals.get(key) is None:
                continue
            rows.append(
                MetricRow(
                    code=code,
                    label=_t(f"b.total_{key}"),
                    value=float(totals[key]),
                    unit=_T_CO2E,
                    prior=prior.get(key),
                    source=_run_source(self.f.run_id),
                    decimals=T_CO2E_DECIMALS,
                )
            )
        blocks.append(MetricTable("ghg-key-figures", _t("b.key_figures"), tuple(rows)))
        history = self.f.history
        if history:
            market = all(p.scope2_market is not None for p in history)
            scope2 = [
                float((p.scope2_market if market else p.scope2_location) or 0.0) for p in history
            ]
            years = [p.year for p in history]
            scope3 = (
                [float(p.scope3 or 0.0) for p in history]
                if any(p.scope3 for p in history)
                else None
            )
            blocks.append(
                _figure(
                    "emissions-by-scope",
                    _t("b.fig_emissions_by_scope_market" if market else "b.fig_emissions_by_scope"),
                    lambda lang: charts.emissions_by_scope(
                        years, [p.scope1 for p in history], scope2, scope3, lang=lang
                    ),
                )
            )
            blocks.append(
                DataTable(
                    "emissions-history",
                    _t("b.history_table"),
                    (
                        Column("year", _t("chart.year")),
                        *_scope12_columns("scope1"),
                        Column("scope3", _t("chart.scope3"), unit=_T_CO2E, decimals=0),
                        Column("source", _t("metric.source")),
                    ),
                    tuple(
                        (
                            str(p.year),
                            p.scope1,
                            p.scope2_location,
                            p.scope2_market,
                            p.scope3,
                            p.source,
                        )
                        for p in history
                    ),
                )
            )
        categories = self._scope3_categories()
        if categories:
            blocks.append(
                _figure(
                    "scope3-by-category",
                    _t("chart.scope3_by_category"),
                    lambda lang: charts.scope3_by_category(categories, lang=lang),
                )
            )
            blocks.append(
                DataTable(
                    "scope3-categories",
                    _t("b.scope3_table"),
                    (
                        Column("category", _t("b.category")),
                        Column("t", _t("b.emissions"), unit=_T_CO2E, decimals=0),
                    ),
                    tuple(
                        (Text(ui(f"scope3.{c}", "en"), ui(f"scope3.{c}", "zh-CN")), v)
                        for c, v in sorted(categories.items())
                    ),
                )
            )
        blocks += self.intensity_figures()
        return blocks

    def _prior_totals(self) -> dict[str, float]:
        for point in self.f.history:
            if point.year == self.f.year - 1:
                out = {"scope1": point.scope1}
                for key, value in (
                    ("scope2_location", point.scope2_location),
                    ("scope2_market", point.scope2_market),
                    ("scope3", point.scope3),
                ):
                    if value is not None:
                        out[key] = float(value)
                if point.scope2_location is not None:
                    out["total"] = point.scope1 + point.scope2_location + float(point.scope3 or 0)
                return out
        return {}

    def _scope3_categories(self) -> dict[int, float]:
        completeness = self.f.inventory.get("scope3_completeness") or {}
        out = {}
        for category, amount in dict(self.f.inventory.get("scope3_by_category", {})).items():
            status = dict(completeness.get(str(category), {}) or {}).get("status")
            if float(amount) != 0 or status == "reported":
                out[int(category)] = float(amount)
        return out

    def _denominators(self, metric: str) -> dict[int, tuple[float, str]]:
        entity = self.f.inputs.config.company.entity
        out: dict[int, tuple[float, str]] = {}
        for row in self.f.values:
            if row["metric"] != metric or row.get("breakdown") or row.get("value") is None:
                continue
            if entity is not None and row["entity"] != entity:
                continue
            start = row["period_start"]
            if _whole_year(row, start.year):
                if start.year in out and entity is None:
                    out[start.year] = (float("nan"), "")  # several entities: ambiguous
                    continue
                out[start.year] = (float(row["value"]), str(row.get("unit") or ""))
        return {y: v for y, v in out.items() if v[0] == v[0] and v[0] != 0}

    def intensity_figures(self) -> list[Block]:
        blocks: list[Block] = []
        points = {p.year: p for p in self.f.history}
        market = all(p.scope2_market is not None for p in self.f.history)

        def s12(p: YearPoint) -> float:
            return p.scope1 + float((p.scope2_market if market else p.scope2_location) or 0.0)

        for metric, chart_id, key in (
            ("revenue", "intensity-revenue", "b.fig_intensity_revenue"),
            ("employees", "intensity-employee", "b.fig_intensity_employee"),
        ):
            found = self._denominators(metric)
            years = sorted(y for y in found if y in points)
            if not years:
                continue
            if metric == "revenue":
                currency = found[years[-1]][1] or self.f.inputs.config.company.currency or ""
                series = [s12(points[y]) / (found[y][0] / 1e6) for y in years]
                unit = f"t CO2e / million {currency}"
                unit_zh = f"吨二氧化碳当量／百万{currency}"
            else:
                series = [s12(points[y]) / found[y][0] for y in years]
                unit, unit_zh = "t CO2e / employee", "吨二氧化碳当量／雇员"
            label = _t("b.scope12_intensity")
            blocks.append(
                _figure(
                    chart_id,
                    _t(key),
                    _intensity_drawer(years, series, unit, unit_zh, label),
                )
            )
        return blocks

    def targets(self) -> list[Block]:
        data = self.f.targets
        if data is None:
            return [Callout(self.f.notes.get("targets", _t("b.no_targets")))]
        blocks: list[Block] = []
        rows = []
        states = list(data["targets"])
        for state in states:
            target = state.get("definition") or state
            progress = state.get("progress") or {}
            years = progress.get("years") or []
            latest = years[-1] if years else {}
            rows.append(
                (
                    str(target.get("id", "")),
                    str(target.get("base_year", "")),
                    str(target.get("target_year", "")),
                    None if target.get("reduction") is None else 100 * float(target["reduction"]),
                    str(latest.get("year", "")),
                    _progress_cell(latest.get("actual"), str(progress.get("unit", ""))),
                    _progress_cell(latest.get("pathway"), str(progress.get("unit", ""))),
                    "%" if progress.get("unit") == "fraction" else str(progress.get("unit", "")),
                )
            )
        blocks.append(Markdown(_targets_markdown(states, "en"), _targets_markdown(states, "zh-CN")))
        blocks.append(
            DataTable(
                "targets",
                _t("b.targets_table"),
                (
                    Column("id", _t("b.target_id")),
                    Column("base", _t("b.base_year")),
                    Column("year", _t("b.target_year")),
                    Column("reduction", _t("b.reduction"), unit="%", decimals=1),
                    Column("latest", _t("b.latest_year")),
                    Column("actual", _t("chart.actual"), decimals=0),
                    Column("pathway", _t("chart.target"), decimals=0),
                    Column("unit", _t("metric.unit")),
                ),
                tuple(rows),
            )
        )
        checks = data.get("checks") or []
        if checks:
            blocks.append(
                Markdown(_checks_markdown(checks, "en"), _checks_markdown(checks, "zh-CN"))
            )
        temperature = data.get("temperature")
        if temperature:
            blocks.append(
                Callout(
                    _t(
                        "b.temperature",
                        score=f"{float(temperature['s1s2s3_c']):.2f}",
                        basis=message_text(str(data.get("temperature_basis", ""))),
                    )
                )
            )
        headline = ((self.f.plan or {}).get("target") or {}).get("id")
        states.sort(key=lambda st: (st.get("definition") or st).get("id") != headline)
        for state in states:
            progress = state.get("progress") or {}
            if not progress.get("years") or progress.get("unit") != _T_CO2E:
                continue
            target = state.get("definition") or state
            base_year, target_year = int(progress["base_year"]), int(progress["target_year"])
            path = (float(progress["base_value"]), float(progress["target_value"]))
            actual_years = [int(y["year"]) for y in progress["years"]]
            actual = [float(y["actual"]) for y in progress["years"]]
            blocks.append(
                _figure(
                    f"target-pathway-{anchor(str(target.get('id', 'target')).lower())}",
                    _t("b.fig_target_pathway", target=str(target.get("id", ""))),
                    _pathway_drawer((base_year, target_year), path, actual_years, actual),
                )
            )
            break  # the headline target (the plan's); the table lists the others
        return blocks

    def transition_plan(self) -> list[Block]:
        blocks: list[Block] = []
        plan = self.f.plan
        if plan is None:
            blocks.append(Callout(self.f.notes.get("plan", _t("b.no_plan"))))
        else:
            measures = plan.get("measures") or []
            blocks.append(
                DataTable(
                    "abatement-measures",
                    _t("b.measures_table"),
                    (
                        Column("id", _t("b.measure")),
                        Column("name", _t("b.target_name")),
                        Column("lever", _t("b.lever")),
                        Column(
                            "cost",
                            _t("b.cost_per_t"),
                            unit=str(plan.get("currency", "")),
                            decimals=0,
                        ),
                        Column("t", _t("b.reduction_t"), unit=unit_text("t CO2e / yr"), decimals=0),
                        Column("start", _t("b.start_year")),
                    ),
                    tuple(
                        (
                            str(m.get("id", "")),
                            Text(str(m.get("name", "")), str(m.get("name_zh") or "")),
                            _lever_text(str(m.get("lever", ""))),
                            m.get("cost_per_t"),
                            m.get("reduction_t_co2e_per_yr"),
                            str(m.get("start_year", "")),
                        )
                        for m in measures
                    ),
                )
            )
            if self.f.macc_svg is not None:
                svg = self.f.macc_svg
                blocks.append(Figure("macc", _t("b.fig_macc"), dict(svg)))
            gap = plan.get("residual_gap")
            if gap:
                blocks.append(Callout(_residual_gap_text(gap)))
        claim = self.f.claim
        if claim is None:
            blocks.append(Callout(self.f.notes.get("claim", _t("b.no_claim"))))
        else:
            passed = bool(claim.get("passed"))
            failed = [r for r in claim.get("reasons") or [] if not r.get("passed")]
            verdict = _t("b.claim_ok" if passed else "b.claim_not_ok", year=str(self.f.year))
            why = Text(
                "; ".join(str(r.get("message", "")) for r in failed),
                "；".join(str(r.get("message_zh") or r.get("message", "")) for r in failed),
            )
            text = Text(f"{verdict.en} {why.en}".strip(), f"{verdict.zh}{why.zh}".strip())
            blocks.append(Callout(text, "note" if passed else "warning"))
        return blocks

    def green_power(self) -> list[Block]:
        blocks: list[Block] = []
        share = (self.f.inventory.get("renewable_share") or {}).get("group")
        market = (self.f.inventory.get("run") or {}).get("market_based") or {}
        if share is not None:
            blocks.append(
                MetricTable(
                    "re-share-kpi",
                    _t("b.re_table"),
                    (
                        MetricRow(
                            code="RE-SHARE",
                            label=_t("chart.re_share"),
                            value=100 * float(share),
                            unit="%",
                            prior=next(
                                (
                                    p.re_share_pct
                                    for p in self.f.history
                                    if p.year == self.f.year - 1
                                ),
                                None,
                            ),
                            source=_run_source(self.f.run_id),
                            decimals=1,
                        ),
                    ),
                )
            )
        allocations = market.get("allocations") or []
        if allocations:
            keys = ("instrument", "site", "mwh")
            blocks.append(
                DataTable(
                    "re-instruments",
                    _t("b.instruments_table"),
                    (
                        Column("instrument", _t("b.instrument")),
                        Column("site", _t("b.site")),
                        Column("mwh", _t("b.allocated"), unit="MWh", decimals=1),
                    ),
                    tuple(tuple(a.get(k) for k in keys) for a in allocations),
                )
            )
        years = [p for p in self.f.history if p.re_share_pct is not None]
        if years:
            blocks.append(
                _figure(
                    "re-share",
                    _t("chart.re_share"),
                    lambda lang: charts.re_share(
                        [p.year for p in years],
                        [float(p.re_share_pct or 0) for p in years],
                        lang=lang,
                    ),
                )
            )
        if self.f.cfe_heatmap is not None:
            matrix = self.f.cfe_heatmap
            blocks.append(
                _figure(
                    "cfe-heatmap",
                    _t("chart.cfe_heatmap"),
                    lambda lang: charts.cfe_heatmap(matrix, lang=lang),
                )
            )
            scores = self.f.cfe_scores
            blocks.append(
                Callout(
                    _t(
                        "b.cfe_scores",
                        volumetric=f"{scores['volumetric']:.1f}",
                        hourly=f"{scores['hourly']:.1f}",
                        cfe=f"{scores['cfe']:.1f}",
                    )
                )
            )
        else:
            blocks.append(Callout(_t("b.no_hourly")))
        return blocks

    def datacentres(self) -> list[Block]:
        blocks: list[Block] = []
        pue = self.f.inputs.config.green.pue
        metered = self.f.energy_kpis
        if pue or metered:
            # the telemetry's KPIs where the site has meters, else the typed [green] pue
            rows = []
            for site in sorted(set(pue) | set(metered)):
                k = metered.get(site)
                if k is not None:
                    source = _t("b.dc_source_metered", category=str(k.get("pue_category")))
                    rows.append(
                        (site, k.get("pue"), k.get("wue_l_per_kwh"), k.get("cue_kg_per_kwh"),
                         k.get("ref"), source)
                    )  # fmt: skip
                else:
                    rows.append((site, pue[site], None, None, None, _t("b.dc_source_typed")))
            blocks.append(
                DataTable(
                    "pue",
                    _t("b.pue_table"),
                    (
                        Column("site", _t("b.site")),
                        Column("pue", Text.same("PUE"), decimals=2),
                        Column("wue", Text.same("WUE"), unit="L/kWh", decimals=2),
                        Column("cue", Text.same("CUE"), unit="kg CO2e/kWh", decimals=3),
                        Column("ref", Text.same("REF"), decimals=3),
                        Column("source", _t("b.dc_source")),
                    ),
                    tuple(rows),
                )
            )
        sites = dict(self.f.inventory.get("by_site", {}))
        dcs = [
            code
            for code, kind in sorted(self.f.site_types.items())
            if code in sites and "data" in kind.lower()
        ]
        if dcs:
            blocks.append(
                DataTable(
                    "datacentre-emissions",
                    _t("b.dc_table"),
                    (
                        Column("site", _t("b.site")),
                        *_scope12_columns(),
                    ),
                    tuple(
                        (
                            code,
                            sites[code].get("scope1"),
                            sites[code].get("scope2_location"),
                            sites[code].get("scope2_market"),
                        )
                        for code in dcs
                    ),
                )
            )
        if not blocks:
            blocks.append(Callout(_t("b.no_datacentres")))
        return blocks

    def inclusion(self) -> list[Block]:
        """The carbon-inclusion programme (碳普惠项目): avoided emissions of other people,
        labelled as outside scopes 1-3 and kept apart from every inventory figure."""
        blocks: list[Block] = [Callout(_t("b.incl_outside_scopes"), "warning")]
        if "inclusion" in self.f.notes:
            blocks.append(Callout(self.f.notes["inclusion"], "warning"))
        results = self.f.inclusion
        if results is None or not results.has_settled:
            return blocks
        from esgledger.inclusion.results import tonnes

        # the INCL. metrics (participants, trips, t CO2 by mode and month, points)
        blocks += self.item_tables("env.inclusion", self.section_items("env.inclusion"))
        source = _t("b.incl_source_note")
        t_co2 = unit_text("t CO2")
        modes = [mode for mode, _ in results.avoided_mg_by_mode]
        months = [month for month, _ in results.avoided_mg_by_month]
        cells = {(month, mode): mg for month, mode, mg in results.avoided_mg_by_month_mode}
        by_month = dict(results.avoided_mg_by_month)
        decimals = _t_co2_decimals(list(cells.values()))
        month_rows: list[tuple[Cell, ...]] = [
            (
                month,
                *(float(tonnes(cells.get((month, mode), 0))) for mode in modes),
                float(tonnes(by_month[month])),
            )
            for month in months
        ]
        month_rows.append(
            (
                _t("b.total"),
                *(float(tonnes(mg)) for _, mg in results.avoided_mg_by_mode),
                float(results.avoided_t),
            )
        )
        blocks.append(
            DataTable(
                "inclusion-by-month",
                _t("b.incl_by_month_table"),
                (
                    Column("month", _t("b.incl_month")),
                    *(
                        Column(f"mode_{mode}", breakdown_label("mode", mode), t_co2, decimals)
                        for mode in modes
                    ),
                    Column("total", _t("b.total"), t_co2, decimals),
                ),
                tuple(month_rows),
                footnotes=(source,),
            )
        )
        labels: dict[str, list[str]] = {
            lang: [breakdown_label("mode", m).get(lang) for m in modes] for lang in LANGS
        }
        series_t = [[float(tonnes(cells.get((m, mode), 0))) for m in months] for mode in modes]
        blocks.append(
            _figure(
                "inclusion-chart",
                _t("chart.incl_by_month"),
                lambda lang: charts.inclusion_by_month(
                    months, dict(zip(labels[lang], series_t, strict=True)), lang=lang
                ),
            )
        )
        flows: list[tuple[Cell, ...]] = [
            (_t(f"b.incl_points_{key}"), value, None)
            for key, value in (
                ("issued", results.points_issued),
                ("redeemed", results.points_redeemed),
                ("donated", results.points_donated),
                ("expired", results.points_expired),
                ("clawed_back", results.points_clawed_back),
            )
        ]
        flows += [
            (_t(key), None, float(tonnes(mg)))
            for key, mg in (
                ("b.incl_retired", results.retired_mg),
                ("b.incl_aggregated", results.aggregated_mg),
            )
        ]
        blocks.append(
            DataTable(
                "inclusion-flows",
                _t("b.incl_flows_table"),
                (
                    Column("flow", _t("b.incl_flow")),
                    Column("points", _t("b.incl_points_column"), decimals=0),
                    Column(
                        "t_co2",
                        _t("b.incl_reductions_column"),
                        t_co2,
                        _t_co2_decimals([results.retired_mg, results.aggregated_mg]),
                    ),
                ),
                tuple(flows),
                footnotes=(source,),
            )
        )
        if results.refusals_by_reason:
            blocks.append(
                DataTable(
                    "inclusion-refusals",
                    _t("b.incl_refusals_table"),
                    (
                        Column("reason", _t("b.incl_reason")),
                        Column("trips", _t("b.incl_trips"), decimals=0),
                    ),
                    tuple((code or "-", n) for code, n in results.refusals_by_reason),
                )
            )
        method_rows: list[tuple[Cell, ...]] = []
        for use, about in zip(
            results.methodologies,
            self.f.inclusion_factors or [{}] * len(results.methodologies),
            strict=True,
        ):
            authority = Text(
                about.get("authority_en", ""),
                about.get("authority_zh", "") or about.get("authority_en", ""),
            )
            per = "b.incl_per_trip" if use.basis == "trip" else "b.incl_per_pkm"
            factor = _t(per)
            # The methodology by its name in the reader's language; with its version and the
            # mode it names the factor (``factor_id`` is ``<id>/<version>/<mode>``; the CLI's
            # ``inclusion explain`` shows it per trip).
            name = Text(
                about.get("name_en", "") or use.methodology,
                about.get("name_zh", "") or about.get("name_en", "") or use.methodology,
            )
            method_rows.append(
                (
                    name,
                    use.version,
                    authority if authority.en else "-",
                    breakdown_label("mode", use.mode),
                    Text(f"{use.factor_value} {factor.en}", f"{use.factor_value} {factor.zh}"),
                    about.get("confidence", "") or "-",
                    use.trips,
                )
            )
        blocks.append(
            DataTable(
                "inclusion-methodologies",
                _t("b.incl_methodology_table"),
                (
                    Column("methodology", _t("b.incl_methodology")),
                    Column("version", _t("b.incl_version")),
                    Column("authority", _t("b.incl_authority")),
                    Column("mode", _t("b.incl_mode")),
                    Column("factor", _t("b.incl_factor")),
                    Column("confidence", _t("b.incl_confidence")),
                    Column("trips", _t("b.incl_trips"), decimals=0),
                ),
                tuple(method_rows),
                footnotes=(_t("b.incl_confidence_note"),),
            )
        )
        return blocks

    def methodology(self) -> list[Block]:
        manifest = self.f.inventory.get("run", {})
        quality = self.f.inventory.get("data_quality", {}) or {}
        dq_rows = []
        overall = (quality.get("overall") or {}).get("scores") or {}
        if overall.get("overall") is not None:
            dq_rows.append(DataQualityRow(_t("b.dq_overall"), round(float(overall["overall"]), 2)))
        for scope, entry in sorted((quality.get("by_scope") or {}).items()):
            score = (entry.get("scores") or {}).get("overall")
            if score is not None:
                dq_rows.append(
                    DataQualityRow(_t("b.dq_scope", scope=str(scope)), round(float(score), 2))
                )
        report = self.f.inputs.config.report
        approach = str(manifest.get("consolidation", ""))
        blocks: list[Block] = [
            MethodologyAppendix(
                boundary=Text(
                    report.boundary_note or ui("b.boundary_default", "en"),
                    report.boundary_note_zh or ui("b.boundary_default", "zh-CN"),
                ),
                consolidation=_approach(approach),
                gwp_set=Text.same(
                    f"{manifest.get('gwp_set', '')}: {manifest.get('gwp_source', '')}"
                ),
                factor_sources=self.f.factor_sources,
                data_quality=tuple(dq_rows),
                changes=self.f.changes,
                recalculations=self.f.recalculations,
            )
        ]
        for warning in self.f.inventory.get("warnings", []) or []:
            blocks.append(Callout(_run_warning(str(warning), manifest), "warning"))
        for item in self.f.derived.not_computed:
            blocks.append(
                Callout(
                    _t(
                        "b.not_computed",
                        derivation=(
                            _t(f"derivation.{item.derivation}")
                            if f"derivation.{item.derivation}" in strings_table()
                            else item.derivation
                        ),
                        reason=message_text(item.reason),
                    )
                )
            )
        return blocks

    def data_tables(self) -> list[Block]:
        entities = dict(self.f.inventory.get("by_entity", {}))
        sites = dict(self.f.inventory.get("by_site", {}))
        blocks: list[Block] = [Callout(_t("doc.exports"))]

        def rows(data: Mapping[str, Mapping[str, Any]]) -> tuple[tuple[Any, ...], ...]:
            return tuple(
                (
                    _t("b.no_site") if code == "(no site)" else code,
                    v.get("scope1"),
                    v.get("scope2_location"),
                    v.get("scope2_market"),
                    v.get("scope3"),
                    v.get("total"),
                )
                for code, v in sorted(data.items())
            )

        for table_id, caption, first, data in (
            ("emissions-by-entity", "b.by_entity_table", "b.entity", entities),
            ("emissions-by-site", "b.by_site_table", "b.site", sites),
        ):
            if data:
                blocks.append(
                    DataTable(
                        table_id,
                        _t(caption),
                        (
                            Column("code", _t(first)),
                            *_scope12_columns(),
                            Column("s3", _t("chart.scope3"), unit=_T_CO2E, decimals=0),
                            Column("total", _t("b.total"), unit=_T_CO2E, decimals=0),
                        ),
                        rows(data),
                    )
                )
        completeness = dict(self.f.inventory.get("scope3_completeness", {}) or {})
        if completeness:
            blocks.append(
                DataTable(
                    "scope3-completeness",
                    _t("b.completeness_table"),
                    (
                        Column("category", _t("b.category")),
                        Column("status", _t("index.status")),
                        Column("lines", _t("b.lines"), decimals=0),
                        Column("t", _t("b.emissions"), unit=_T_CO2E, decimals=0),
                    ),
                    tuple(
                        (
                            Text(ui(f"scope3.{c}", "en"), ui(f"scope3.{c}", "zh-CN")),
                            Text(
                                str(v.get("status", "")),
                                _COMPLETENESS_ZH.get(str(v.get("status", "")), ""),
                            ),
                            v.get("lines"),
                            v.get("co2e_t"),
                        )
                        for c, v in sorted(completeness.items(), key=lambda kv: int(kv[0]))
                    ),
                )
            )
        return blocks

    def frameworks(self, numbers: Mapping[str, Text]) -> list[Block]:
        """The IFRS S2, SASB and GRI index: each item's status is the content index's (one
        status per item, mapped through the catalogue; see
        :mod:`esgledger.disclosure.content_index`)."""
        rows = []
        for entry in self.f.index.frameworks:
            item = self.f.catalogue[entry.code]
            section = numbers.get(item.section)
            status = entry.status if entry.status in ("disclosed", "explained") else "missing"
            rows.append(
                (
                    item.code,
                    Text(item.title_en, item.title_zh),
                    ", ".join(item.maps_to),
                    Text(ui(f"status.{status}", "en"), ui(f"status.{status}", "zh-CN")),
                    None if section is None else section,
                )
            )
        return [
            DataTable(
                "framework-index",
                _t("b.framework_table"),
                (
                    Column("code", _t("index.code")),
                    Column("item", _t("index.item")),
                    Column("maps", _t("b.maps_to")),
                    Column("status", _t("index.status")),
                    Column("section", _t("index.section")),
                ),
                tuple(rows),
            )
        ]


def _t_co2_decimals(amounts_mg: Sequence[int]) -> int:
    """Decimals of a carbon-inclusion table in t CO2: three significant digits of its smallest
    non-zero amount, between 3 (kilograms) and 6 (grams).

    >>> _t_co2_decimals([1_120_800]), _t_co2_decimals([5_000_000_000])
    (5, 3)
    """
    smallest = min((mg for mg in amounts_mg if mg > 0), default=0)
    if smallest <= 0:
        return 3
    digits = len(str(smallest)) - 9  # the power of ten of the amount in tonnes, plus one
    return max(3, min(6, 3 - digits))


def _residual_gap_text(gap: Mapping[str, Any]) -> Text:
    """The plan's residual gap in the target year: a gap above the target pathway, or the
    headroom below it (a negative gap reads as headroom, never as "a gap of -N t")."""
    amount = float(gap["gap_t_co2e"])
    fields = {
        "year": str(gap["target_year"]),
        "remaining": key_figure(gap["remaining_t_co2e"]),
        "target": key_figure(gap["target_t_co2e"]),
    }
    if key_figure(amount).startswith("-"):
        return _t("b.residual_headroom", headroom=key_figure(-amount), **fields)
    return _t("b.residual_gap", gap=key_figure(amount), **fields)


def _run_source(run_id: str) -> Text:
    """Where a figure comes from: ``run <id>`` / ``盘查运行 <id>``."""
    return _t("b.source_run", run=run_id)


def _num_pct(fraction: Any) -> str:
    """A fraction as a percentage with up to one decimal (``0.5`` → ``50 %``)."""
    return f"{100 * float(fraction or 0.0):.1f}".removesuffix(".0") + " %"


def _progress_cell(value: Any, unit: str) -> Cell:
    """A progress figure as the targets table prints it: t CO2e as a number (whole tonnes),
    a renewable share in per cent with one decimal, an intensity with four significant
    digits."""
    if value is None:
        return None
    if unit == "fraction":
        return f"{100 * float(value):.1f}"
    if unit == _T_CO2E:
        return float(value)
    return f"{float(value):,.4g}"


#: Scope 3 completeness statuses (esgledger.inventory.quality.scope3_completeness) in Chinese.
_COMPLETENESS_ZH = {"reported": "已报告", "not reported": "未报告"}


def _lever_text(lever: str) -> Text:
    """An abatement lever's name in both languages (esgledger.targets.planner.LEVER_NAMES)."""
    from esgledger.targets.planner import LEVER_NAMES, Lever

    try:
        en, zh = LEVER_NAMES[Lever(lever)]
    except ValueError:
        return Text.same(lever)
    return Text(en, zh)


def _bodies_markdown(bodies: Sequence[Any], lang: str) -> str:
    """The governance bodies, top first, as a nested list (board -> ... -> office)."""
    zh = lang == "zh-CN"
    out = []
    for depth, body in enumerate(bodies):
        name = (body.name_zh or body.name) if zh else body.name
        role = (body.role_zh or body.role) if zh else body.role
        chair = (body.chair_zh or body.chair) if zh else body.chair
        facts = []
        if chair:
            facts.append(ui("b.chair_is", lang, chair=chair))
        if body.members is not None:
            facts.append(ui("b.members_n", lang, n=str(body.members)))
        if body.meetings is not None:
            facts.append(ui("b.meetings_n", lang, n=str(body.meetings)))
        if zh:
            detail = f"（{'；'.join(facts)}）" if facts else ""
            out.append("  " * depth + f"- **{name}**{detail}：{role}")
        else:
            detail = f" ({'; '.join(facts)})" if facts else ""
            out.append("  " * depth + f"- **{name}**{detail}: {role}")
    return "\n".join(out)


def _intensity_drawer(
    years: Sequence[int], series: Sequence[float], unit: str, unit_zh: str, label: Text
) -> Callable[[str], bytes]:
    def draw(lang: str) -> bytes:
        return charts.intensity_trend(
            years, {label.get(lang): series}, unit if lang == "en" else unit_zh, lang=lang
        )

    return draw


def _pathway_drawer(
    target_years: Sequence[int],
    target_t: Sequence[float],
    actual_years: Sequence[int],
    actual_t: Sequence[float],
) -> Callable[[str], bytes]:
    def draw(lang: str) -> bytes:
        return charts.target_pathway(target_years, target_t, actual_years, actual_t, lang=lang)

    return draw


def _targets_markdown(states: Sequence[Mapping[str, Any]], lang: str) -> str:
    """Each target with its name and the progress verdict in ``lang``."""
    zh = lang == "zh-CN"
    out = []
    for state in states:
        target = state.get("definition") or state
        name = (target.get("name_zh") or target.get("name")) if zh else target.get("name")
        progress = state.get("progress") or {}
        verdict = (progress.get("reason_zh") if zh else progress.get("reason")) or progress.get(
            "reason"
        )
        verdict = verdict or state.get("progress_note") or ui("doc.not_available", lang)
        out.append(f"- **{target.get('id', '')}** {name}: {verdict}")
    return "\n".join(out)


def _checks_markdown(checks: Sequence[Mapping[str, Any]], lang: str) -> str:
    """The SBTi checks, one line each, in ``lang``."""
    zh = lang == "zh-CN"
    lines = [f"**{ui('b.sbti_table', lang)}**", ""]
    for check in checks:
        message = (check.get("message_zh") if zh else None) or check.get("message", "")
        target = check.get("target_id") or "-"
        rule = str(check.get("rule", ""))
        label = ui(f"sbti_rule.{rule}", lang) if f"sbti_rule.{rule}" in strings_table() else rule
        lines.append(f"- **{label}** ({target}): {message}")
    return "\n".join(lines)


def _run_warning(warning: str, manifest: Mapping[str, Any]) -> Text:
    """A run warning in both languages: overlapping activity rows through
    :func:`esgledger.overlaps.overlap_warning`, the others through ``messages.csv``
    (:func:`~esgledger.report.vocabulary.message_text`)."""
    from esgledger.overlaps import overlap_warning

    overlaps = manifest.get("overlaps")
    if isinstance(overlaps, Mapping) and warning == overlap_warning(overlaps):
        return Text(warning, overlap_warning(overlaps, "zh-CN"))
    return message_text(warning)


def _approach(key: str) -> Text:
    known = {"operational_control", "financial_control", "equity_share"}
    return _t(f"b.approach_{key}") if key in known else Text.same(key)


def _materiality_chart(points: Sequence[tuple[float, float]], lang: str) -> bytes:
    """Materiality matrix: importance to the business (x) and to stakeholders (y) [0-5],
    each topic numbered as in the topics table."""
    from esgledger.plotting import HOUSE_COLOURS, chart_style, new_figure, save_figure

    with chart_style(lang, strict=lang == "zh-CN"):
        fig = new_figure(6.0, 4.2)
        axes = fig.add_subplot()
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        axes.scatter(xs, ys, color=HOUSE_COLOURS["primary"], s=30)
        for n, (x, y) in enumerate(points, start=1):
            axes.annotate(str(n), (x, y), textcoords="offset points", xytext=(4, 3), fontsize=7)
        low = min([*xs, *ys, 3.0]) - 0.3
        axes.set_xlim(low, 5.1)
        axes.set_ylim(low, 5.1)
        axes.set_xlabel(ui("b.business", lang))
        axes.set_ylabel(ui("b.stakeholders", lang))
        axes.set_title(ui("b.materiality_matrix", lang))
        return save_figure(fig, fmt="svg")


def _content_entries(
    facts: ReportFacts, sections: set[str]
) -> tuple[list[ContentIndexEntry], list[Text]]:
    entries: list[ContentIndexEntry] = []
    reasons: list[Text] = []
    for entry in facts.index.entries:
        section = anchor(entry.section) if anchor(entry.section) in sections else None
        title = Text(entry.title_en, entry.title_zh or entry.title_en)
        mandatory = entry.requirement == "mandatory"
        if entry.status in ("not_applicable", "explained"):
            if entry.status == "not_applicable":
                explanation = _t("b.not_applicable", year=str(facts.year))
                mandatory = False
            else:
                en, zh = facts.inputs.explanations.get(entry.code, (entry.explanation or "", ""))
                explanation = Text(en, zh or en)
            entries.append(
                ContentIndexEntry(
                    entry.code,
                    title,
                    "explained",
                    section_id=section,
                    explanation=explanation,
                    mandatory=mandatory,
                )
            )
            continue
        status = "disclosed" if entry.status == "disclosed" else "missing"
        if status == "missing" and entry.requirement == "comply_or_explain":
            reasons.append(_t("b.comply_missing", code=entry.code))
        partial = None
        if status == "disclosed" and entry.missing_breakdowns:
            keys = entry.missing_breakdowns
            partial = Text(
                ui(
                    "b.partial_breakdown",
                    "en",
                    keys=", ".join(breakdown_label(k).en for k in keys),
                ),
                ui(
                    "b.partial_breakdown",
                    "zh-CN",
                    keys="、".join(breakdown_label(k).zh for k in keys),
                ),
            )
        entries.append(
            ContentIndexEntry(
                entry.code,
                title,
                status,  # type: ignore[arg-type]
                section_id=section,
                explanation=partial,
                mandatory=mandatory,
            )
        )
    return entries, reasons


def document_from_facts(facts: ReportFacts, generated_at: dt.datetime) -> ReportDocument:
    """Lay out the report from what :func:`_gather` read (pure: same facts, same document)."""
    layout = _Layout(facts)
    specs = _section_specs()
    special: dict[str, Callable[[], list[Block]]] = {
        "about.profile": layout.profile,
        "about.boundary": layout.boundary,
        "about.principles": layout.principles,
        "gov.board_statement": layout.board_statement,
        "gov.structure": layout.governance,
        "gov.materiality": layout.materiality,
        "climate.metrics": layout.climate_metrics,
        "climate.targets": layout.targets,
        "climate.transition_plan": layout.transition_plan,
        "green.power": layout.green_power,
        "green.datacentres": layout.datacentres,
        "env.inclusion": layout.inclusion,
        "appendix.methodology": layout.methodology,
        "appendix.data": layout.data_tables,
    }
    titles = {spec.id: spec.title for spec in specs}
    known = {
        spec.id
        for spec in specs
        if (
            facts.inputs.includes(spec.id)
            # metered data centres give the section its table even without a typed PUE
            or (spec.id == "green.datacentres" and bool(facts.energy_kpis))
        )
        # the carbon-inclusion section only with settled trips in the year (or results that
        # could not be read: it then says why)
        and (spec.id != "env.inclusion" or _has_programme(facts))
    }

    def leaf(spec: _SectionSpec) -> Section:
        blocks: list[Block] = []
        if spec.id != "gov.board_statement":
            blocks += layout.narrative(spec.id)
        if spec.id in special:
            blocks += special[spec.id]()
        blocks += layout.item_tables(spec.id, layout.section_items(spec.id))
        return Section(anchor(spec.id), spec.title, tuple(blocks))

    chapters: list[tuple[_SectionSpec, list[_SectionSpec]]] = []
    for spec in specs:
        if not spec.parent:
            chapters.append((spec, []))
        elif spec.id in known:
            chapters[-1][1].append(spec)
        else:
            short = chapters[-1][0].short_title
            if short is not None:
                titles[chapters[-1][0].id] = short
    chapters = [(chapter, children) for chapter, children in chapters if children]
    built: list[Section] = []
    numbers: dict[str, Text] = {}
    for number, (chapter, children) in enumerate(chapters, start=1):
        kids = []
        for position, child in enumerate(children, start=1):
            if child.id == "appendix.frameworks":
                continue
            if child.id == "appendix.company":
                items = [
                    item
                    for item in facts.catalogue
                    if item.user
                    and item.section not in known
                    and item.code not in layout.placed_items
                ]
                if not items:
                    continue
                section = Section(
                    anchor(child.id), child.title, tuple(layout.item_tables(child.id, items))
                )
            else:
                section = leaf(child)
            numbers[child.id] = Text(
                f"{number}.{position} {child.title.en}", f"{number}.{position} {child.title.zh}"
            )
            kids.append(section)
        if chapter.id == "appendix":
            spec = next(s for s in children if s.id == "appendix.frameworks")
            kids.append(Section(anchor(spec.id), spec.title, tuple(layout.frameworks(numbers))))
        built.append(Section(anchor(chapter.id), titles[chapter.id], (), tuple(kids)))
    section_ids = {s.id for s in _walk(built)}
    entries, reasons = _content_entries(facts, section_ids)
    manifest = facts.inventory.get("run", {})
    preview = (
        tuple(str(s) for s in manifest.get("included_statuses", ()) if str(s) != "approved")
        if manifest.get("preview")
        else ()
    )
    if preview:
        reasons = [*reasons, _t("doc.preview_reason")]
    company = facts.inputs.config.company
    report = facts.inputs.config.report
    default_title = _t("b.default_title", year=str(facts.year))
    return ReportDocument(
        title=Text(
            report.title or default_title.en, report.title_zh or report.title or default_title.zh
        ),
        company=Text(company.name, company.name_zh or company.name),
        reporting_year=facts.year,
        generated_at=generated_at,
        sections=tuple(built),
        content_index=tuple(entries),
        draft=tuple(reasons),
        metadata={
            "run_id": facts.run_id,
            "workspace": facts.workspace_name,
            "prior_run_id": facts.prior_run_id or "",
        },
        preview=preview,
    )


def _has_programme(facts: ReportFacts) -> bool:
    """Whether the report shows the carbon-inclusion section: settled trips in the year, or
    results that could not be read (the section then says why)."""
    if facts.inclusion is None:
        return "inclusion" in facts.notes
    return facts.inclusion.has_settled


def _walk(sections: Iterable[Section]) -> Iterable[Section]:
    for section in sections:
        yield section
        yield from _walk(section.children)


def build_document(
    workspace: Workspace,
    *,
    run_id: str | None = None,
    generated_at: dt.datetime | None = None,
) -> ReportDocument:
    """The report document of a workspace's inventory run.

    Parameters
    ----------
    workspace
        The open workspace (its report inputs in ``WS/report/``).
    run_id
        The run to report (default: the latest).
    generated_at
        Printed as the generation time; default: the run's ``created_at`` (so the same run
        always gives the same document and the same PDF bytes).

    Raises
    ------
    WorkspaceError
        No run (calculate first).
    InputError
        Bad report inputs (file, line and key named).
    """
    facts = _gather(workspace, run_id)
    if generated_at is None:
        created = str(facts.inventory.get("run", {}).get("created_at", ""))
        generated_at = (
            dt.datetime.fromisoformat(created) if created else dt.datetime(facts.year, 12, 31)
        )
    return document_from_facts(facts, generated_at)


@dataclass(frozen=True, slots=True)
class ReportResult:
    """What :func:`build_report` wrote.

    Attributes
    ----------
    paths
        Every file written (report editions, then table exports).
    draft
        Whether the report is a draft; ``draft_reasons`` (English) say why.
    missing
        Codes of mandatory and comply-or-explain items neither disclosed nor explained.
    anchor_pages
        Language -> anchor -> page [1-based] of the PDF editions.
    page_counts
        Language -> pages of the PDF.
    timings
        Step -> seconds (``document``, ``html.<lang>``, ``pdf.<lang>``, ``exports``, ``total``).
    """

    paths: tuple[Path, ...]
    draft: bool
    draft_reasons: tuple[str, ...]
    missing: tuple[str, ...]
    anchor_pages: Mapping[str, Mapping[str, int]]
    page_counts: Mapping[str, int]
    timings: Mapping[str, float]
    run_id: str
    document: ReportDocument


def _record_report(
    workspace: Workspace, principal: Principal | None, doc: ReportDocument, paths: Iterable[Path]
) -> None:
    files = {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in paths
        if path.name.startswith("esg-report-")
    }
    with workspace.write_lock() as session:
        audit.record(
            session,
            principal if principal is not None else Principal.local(),
            "report.generate",
            "report",
            doc.metadata.get("run_id", ""),
            after=audit.digest(files),
            detail={
                "files": sorted(files),
                "draft": doc.is_draft,
                "preview": bool(doc.preview),
            },
        )


#: Folder of a workspace's written reports: ``WS/reports/<reporting year>/`` (beside the
#: inputs folder ``WS/report/``).
REPORTS_DIR = "reports"


def default_out_dir(workspace: Workspace, run_id: str | None = None) -> Path:
    """Where a run's report goes by default: ``WS/reports/<the run's reporting year>/``."""
    from esgledger.inventory.runs import load_run

    run = load_run(workspace, run_id)
    return workspace.root / REPORTS_DIR / str(run.manifest["reporting_year"])


def build_report(
    workspace: Workspace,
    out_dir: str | Path,
    *,
    langs: Sequence[str] = LANGS,
    formats: Sequence[str] = ("html", "pdf"),
    run_id: str | None = None,
    generated_at: dt.datetime | None = None,
    principal: Principal | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> ReportResult:
    """Build the report of a run and write it into ``out_dir``, and record the audit event
    ``report.generate`` of ``principal`` (None: :meth:`Principal.local`): the run, the
    files written with their sha256, draft and preview.

    Files: ``esg-report-<year>.<lang>.html`` / ``.pdf`` and ``<table>.<lang>.csv`` /
    ``.xlsx`` for every table (:func:`esgledger.report.render.write_report_detailed`). A
    report with a missing mandatory item (or an unfilled placeholder) is still written, marked
    DRAFT; :attr:`ReportResult.missing` lists the items.

    ``progress`` hears ``("assembling", 10)`` before the document is built and
    ``("writing files", 50)`` before the first file is written (a job's progress); whatever it
    raises stops the report there, before any file is written by the second call.
    """
    from esgledger.report.render import write_report_detailed

    start = time.perf_counter()
    if progress is not None:
        progress("assembling", 10)
    doc = build_document(workspace, run_id=run_id, generated_at=generated_at)
    timings: dict[str, float] = {"document": time.perf_counter() - start}
    if progress is not None:
        progress("writing files", 50)
    written = write_report_detailed(doc, out_dir, langs=langs, formats=formats)
    timings.update(written.timings)
    timings["total"] = time.perf_counter() - start
    missing = tuple(e.code for e in doc.content_index if e.status == "missing" and e.mandatory)
    missing += tuple(
        e.code
        for e in doc.content_index
        if e.status == "missing" and not e.mandatory and _is_comply(doc, e.code)
    )
    _record_report(workspace, principal, doc, written.paths)
    return ReportResult(
        paths=tuple(written.paths),
        draft=doc.is_draft,
        draft_reasons=tuple(reason.en for reason in doc.draft_reasons),
        missing=missing,
        anchor_pages={lang: dict(r.anchor_pages) for lang, r in written.pdfs.items()},
        page_counts={lang: r.page_count for lang, r in written.pdfs.items()},
        timings=timings,
        run_id=doc.metadata.get("run_id", ""),
        document=doc,
    )


def _is_comply(doc: ReportDocument, code: str) -> bool:
    wanted = ui("b.comply_missing", "en", code=code)
    return any(reason.en == wanted for reason in doc.draft)
