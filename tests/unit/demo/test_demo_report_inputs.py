"""The demo group's report inputs (``esgledger/demo/report``, ``demo/metric_values.csv``):
they import into a fresh workspace built from the demo entities, and the HKEX content index
of the demo's 2024 report then lacks nothing required except the items the inventory run
computes (which this test does not run) and the ones the demo explains."""

from __future__ import annotations

import re
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import pytest

from esgledger.disclosure import content_index, load_catalogue
from esgledger.ingest.metrics import import_metric_values, import_metrics, workspace_catalogue
from esgledger.ingest.reference import import_entities
from esgledger.report.config import NARRATIVE_SECTIONS, ReportInputs, load_report_inputs
from esgledger.store import Workspace
from esgledger.store.repository_targets import load_metric_values

LANGUAGES = ("en", "zh-CN")
DEMO_YEAR = 2024
#: Typed HKEX KPIs the demo discloses with a figure for 2024 and 2023.
TYPED_KPIS = [
    "A1.1.air",
    "A1.3",
    "A1.4",
    "B1.1",
    "B1.2",
    "B2.1",
    "B2.2",
    "B3.1",
    "B3.2",
    "B5.1",
    "B6.2",
    "B7.1",
    "revenue",
    "employees",
]


def _demo() -> Traversable:
    return resources.files("esgledger.demo")


def _report() -> Traversable:
    return _demo().joinpath("report")


def _copy(source: Traversable, folder: Path) -> Path:
    path = folder / source.name
    path.write_bytes(source.read_bytes())
    return path


@pytest.fixture
def demo_workspace(workspace: Workspace, tmp_path: Path) -> Workspace:
    """A fresh workspace (reporting year 2024) with the demo's entities, company metrics and
    typed metric values imported through the importers."""
    assert workspace.reporting_year == DEMO_YEAR
    import_entities(workspace, _copy(_demo().joinpath("entities.csv"), tmp_path))
    import_metrics(workspace, _copy(_report().joinpath("company_metrics.csv"), tmp_path))
    import_metric_values(workspace, _copy(_demo().joinpath("metric_values.csv"), tmp_path))
    return workspace


def _inputs() -> ReportInputs:
    """The demo's report inputs read by the loader the report builder uses."""
    with resources.as_file(_demo()) as root:
        return load_report_inputs(root, known_codes={item.code for item in load_catalogue()})


def _explanations() -> dict[str, str]:
    return {code: en for code, (en, _) in _inputs().explanations.items()}


def test_the_content_index_lacks_only_computed_items(demo_workspace: Workspace) -> None:
    inputs = _inputs()
    tier = inputs.config.company.tier
    catalogue = workspace_catalogue(demo_workspace)
    with demo_workspace.session() as session:
        values = load_metric_values(session, DEMO_YEAR)
    index = content_index(
        catalogue,
        fiscal_year=DEMO_YEAR,
        tier=tier,
        values=values,
        narratives=inputs.narrative_presence(),
        explanations=_explanations(),
        languages=LANGUAGES,
    )
    computed = {
        item.code
        for item in catalogue.framework("HKEX_C2")
        if item.is_derived and item.status_for(DEMO_YEAR, tier) != "not_applicable"
    }
    assert computed == {"A1.1", "A1.2", "A2.1", "A2.2"}
    # A1.1 is disclosed already by its typed air emissions; its gases come from the run
    a11 = index.get("A1.1")
    assert a11 is not None
    assert a11.disclosed_by == ("A1.1.air",)
    assert {entry.code for entry in index.missing} == computed - {"A1.1"}
    assert not [e for e in index.missing if e.requirement == "mandatory"]
    explained = {e.code for e in index.entries if e.status == "explained"}
    assert explained == set(_explanations()) == {"A2.5", "B6.1"}
    # B8.2 has no typed value of its own: the company metrics below it disclose it
    b82 = index.get("B8.2")
    assert b82 is not None
    assert b82.status == "disclosed"
    assert "CO.community.investment" in b82.disclosed_by


def test_every_typed_kpi_has_figures_for_both_years(demo_workspace: Workspace) -> None:
    with demo_workspace.session() as session:
        rows = load_metric_values(session)
    given = {(r["metric"], r["period_start"].year) for r in rows}
    company = {i.code for i in workspace_catalogue(demo_workspace) if i.user}
    assert len(company) == 14
    for code in (*TYPED_KPIS, *sorted(company)):
        for year in (DEMO_YEAR - 1, DEMO_YEAR):
            assert (code, year) in given, (code, year)
    fatalities = {r["period_start"].year for r in rows if r["metric"] == "B2.1"}
    assert fatalities == {2022, 2023, 2024}  # KPI B2.1: each of the past three years
    assert {r["entity"] for r in rows} == {"GRP"}
    assert all(r["evidence"] for r in rows)


def test_workforce_breakdowns_add_up_to_the_total(demo_workspace: Workspace) -> None:
    with demo_workspace.session() as session:
        rows = [r for r in load_metric_values(session) if r["metric"] == "B1.1"]
    for year in (DEMO_YEAR - 1, DEMO_YEAR):
        of_year = [r for r in rows if r["period_start"].year == year]
        (total,) = [r["value"] for r in of_year if r["breakdown"] == ""]
        for key in ("gender", "type", "age", "region"):
            parts = [r["value"] for r in of_year if r["breakdown"].startswith(f"{key}=")]
            assert len(parts) >= 2, (year, key)
            assert sum(parts) == total, (year, key)


def test_narratives_cover_every_section_in_both_languages() -> None:
    inputs = _inputs()
    assert set(inputs.narratives) == set(NARRATIVE_SECTIONS)
    for section in NARRATIVE_SECTIONS:
        en, zh = inputs.narrative(section, "en"), inputs.narrative(section, "zh-CN")
        assert en is not None, section
        assert zh is not None, section
        assert "fictitious" in en, section
        assert "虚构" in zh, section
        assert len(re.findall(r"[\u4e00-\u9fff]", zh)) > 100, section
        assert not re.search(r"[\u4e00-\u9fff]", en), section


def test_report_toml_follows_the_format() -> None:
    inputs = _inputs()
    assert not inputs.defaults  # report.toml, [company] and the narratives are all given
    config = inputs.config
    company, report = config.company, config.report
    assert company.currency == "CNY"
    assert company.name == "Demo Tech Holdings Ltd"  # as in demo/entities.csv (GRP)
    assert report.title_zh.startswith(str(DEMO_YEAR))
    assert [body.id for body in config.governance] == [
        "board",
        "esg_committee",
        "esg_working_group",
        "esg_office",
    ]
    for body in config.governance:
        assert re.search(r"[\u4e00-\u9fff]", body.name_zh)
        assert body.role
        assert body.role_zh
    codes = {item.code for item in load_catalogue()}
    for topic in config.materiality:
        assert topic.aspect in codes
        assert re.search(r"[\u4e00-\u9fff]", topic.topic_zh)


def test_explanations_are_for_items_that_may_be_explained() -> None:
    catalogue = load_catalogue()
    explanations = _inputs().explanations
    assert 2 <= len(explanations) <= 4
    for code, (_, zh) in explanations.items():
        assert catalogue[code].status_for(DEMO_YEAR, "largecap") == "comply_or_explain"
        assert re.search(r"[\u4e00-\u9fff]", zh)
