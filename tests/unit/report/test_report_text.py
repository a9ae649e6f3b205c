"""The report's words (issue 10 §4): bilingual vocabulary, sources, titles, gaps, exports and
opt-in sections, on small documents and a small calculated workspace."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from _inventory_support import activity, entity, import_rows, site
from _zh_english import english_words
from esgledger.errors import InputError
from esgledger.inventory.engine import calculate
from esgledger.report.builder import _residual_gap_text, build_document
from esgledger.report.config import OPTIONAL_SECTIONS, load_report_inputs
from esgledger.report.document import (
    Callout,
    Column,
    DataTable,
    MethodologyAppendix,
    MetricRow,
    MetricTable,
    ReportDocument,
    Section,
    Text,
)
from esgledger.report.render import export_number, page_title, render_html, write_report
from esgledger.report.vocabulary import breakdown_text, breakdowns_table, message_text, unit_text
from esgledger.store import Workspace

STAMP = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
DEMO_VALUES = Path(__file__).parents[3] / "src" / "esgledger" / "demo" / "metric_values.csv"


# ---- vocabulary --------------------------------------------------------------------------


def test_breakdowns_read_as_labels_in_both_languages() -> None:
    text = breakdown_text("region=hk_macao_taiwan;type=full_time;measure=rate_pct")
    assert text.en == "region: Hong Kong, Macao and Taiwan, type: full-time, measure: rate (%)"
    assert text.zh == "地区：港澳台地区，类型：全职，计量：比率（%）"
    assert breakdown_text("target=S12-2030").zh == "目标：S12-2030"


def test_every_breakdown_of_the_demo_values_has_a_label() -> None:
    table = breakdowns_table()
    with DEMO_VALUES.open(encoding="utf-8") as handle:
        pairs = {
            tuple(part.split("=", 1))
            for row in csv.DictReader(handle)
            for part in (row["breakdown"] or "").split(";")
            if part
        }
    assert pairs, "the demo has breakdowns"
    missing = sorted(pair for pair in pairs if pair not in table or (*pair[:1], "") not in table)
    assert not missing


def test_unit_labels_in_chinese() -> None:
    assert unit_text("t CO2e / million CNY").zh == "吨二氧化碳当量／百万CNY"
    assert unit_text("t CO2e / employee").zh == "吨二氧化碳当量／雇员"
    assert unit_text("t CO2e / yr").zh == "吨二氧化碳当量／年"
    assert unit_text("MWh").en == "MWh"


@pytest.mark.parametrize(
    "message",
    [
        "100 %: GRP is the group root",
        "100 %: operational control of every link via GRP > CLOUD",
        "0 %: CLOUD has no operational control of DCJV (via GRP > CLOUD > DCJV)",
        "230 line(s) use factors published only as CO2e under AR5, not the run's GWP set: their "
        "published CO2e is used as it is (it cannot be re-weighted); see gwp_basis_mismatch",
        "1 line(s) are emissions reported by others (suppliers, lessees, investees ...), taken "
        "in CO2e as reported: the GWP set behind them is the reporter's, not necessarily the "
        "run's",
        "12 scope 2 line(s) use a life-cycle grid factor (no location-based factor for their "
        "region): it includes upstream emissions, so scope 2 is overstated for them; add a "
        "location-based factor",
        "scope 3 category 3 is incomplete: 406 scope 1 or 2 row(s) have no well-to-tank or "
        "T&D-loss factor for their region (electricity in CN-GD (48), stationary.natural_gas in "
        "CN-GD (36)) and 3 more); add factors with method wtt, td_losses or wtt_td_losses to "
        "include them",
        "2 sites priced their remainder at the grid average: no residual mix (OF-LDN, OF-SG); "
        "disclose it (grid_average_no_residual_mix)",
        "2024: run r-6fcb580ee022-20261207T043019Z (scope 2 market-based)",
        "intensity per employee: no 'employees' value for the whole year 2024",
        "intensity per revenue: 'revenue' is given for several entities (GRP, SUB); name the "
        "group entity (entity=...)",
        "not convertible into energy (left out): stationary.diesel in L, mobile.petrol in gal",
        "no revenue or employees value",
    ],
)
def test_engine_messages_read_as_chinese(message: str) -> None:
    text = message_text(message)
    assert text.en == message
    assert not english_words(text.zh), text.zh


def test_engine_messages_from_the_boundary_read_as_chinese() -> None:
    from esgledger.boundary import consolidation_shares

    def row(code: str, parent: str | None, pct: float, control: bool, joint: bool) -> dict:
        return {
            "entity": code,
            "parent": parent,
            "ownership_pct": pct,
            "operational_control": control,
            "financial_control": control,
            "joint_financial_control": joint,
        }

    rows = [
        row("GRP", None, 100, True, False),
        row("SUB", "GRP", 80, True, False),
        row("JV", "SUB", 50, False, True),
        row("ASSOC", "GRP", 30, False, False),
    ]
    reasons = [
        share.reason
        for approach in ("operational_control", "financial_control", "equity_share")
        for share in consolidation_shares(rows, approach).values()
    ]
    assert any("joint financial control" in reason for reason in reasons)
    for reason in reasons:
        assert not english_words(message_text(reason).zh), reason


def test_an_unknown_message_is_kept_as_written() -> None:
    assert message_text("something new") == Text("something new", "something new")


# ---- titles, gaps ------------------------------------------------------------------------


def _doc(*blocks: object, title: Text | None = None) -> ReportDocument:
    return ReportDocument(
        title=title or Text("2024 ESG Report", "2024年环境、社会及管治报告"),
        company=Text("Co", "公司"),
        reporting_year=2024,
        generated_at=STAMP,
        sections=(Section("s", Text("S", "节"), blocks=tuple(blocks)),),  # type: ignore[arg-type]
    )


def test_the_page_title_names_the_year_once() -> None:
    assert page_title(_doc(), "en") == "2024 ESG Report"
    assert page_title(_doc(), "zh-CN") == "2024年环境、社会及管治报告"
    assert page_title(_doc(title=Text("ESG Report", "报告")), "en") == "ESG Report 2024"
    assert "<title>2024 ESG Report</title>" in render_html(_doc(), "en")


def test_a_negative_residual_gap_reads_as_headroom() -> None:
    gap = {
        "target_year": 2030,
        "remaining_t_co2e": 594_437.2,
        "target_t_co2e": 711_300.0,
        "gap_t_co2e": -116_862.8,
    }
    text = _residual_gap_text(gap)
    assert "116,863 t CO2e below the target pathway" in text.en
    assert "-116" not in text.en
    assert "-116" not in text.zh
    assert "低于目标路径 116,863 吨二氧化碳当量" in text.zh
    above = _residual_gap_text({**gap, "gap_t_co2e": 5_000.0})
    assert "a gap of 5,000 t CO2e" in above.en


# ---- exports -----------------------------------------------------------------------------


def test_exports_carry_the_printed_precision_not_float_noise(tmp_path: Path) -> None:
    assert export_number(2467243.1755227405, 0) == Decimal("2467243")
    assert export_number(0.1 + 0.2, None) == Decimal("0.3")
    # rounded on the float's exact binary value, as the report prints it with f"{x:.2f}"
    for value in (12.345, 2.675, 0.125, 1e-7):
        assert str(export_number(value, 2)) == f"{value:.2f}"
    metrics = MetricTable(
        "kpis",
        Text("KPIs", "指标"),
        (
            MetricRow(
                "GHG-S3",
                Text("Scope 3", "范围三"),
                2467243.1755227405,
                unit="t CO2e",
                prior=2567243.9,
                source=Text("run r-1", "盘查运行 r-1"),
                decimals=0,
            ),
        ),
    )
    data = DataTable(
        "shares",
        Text("Shares", "比例"),
        (Column("e", Text("Entity", "实体")), Column("s", Text("Share", "比例"), "%", 1)),
        (("GRP", 33.33333333333333),),
    )
    paths = write_report(_doc(metrics, data), tmp_path, formats=())
    kpis = (tmp_path / "kpis.zh-CN.csv").read_text(encoding="utf-8-sig").splitlines()
    assert kpis[1].split(",")[2:7] == ["2467243", "t CO2e", "2567244", "-3.9", "盘查运行 r-1"]
    assert (tmp_path / "shares.en.csv").read_text(encoding="utf-8-sig").splitlines()[1] == (
        "GRP,33.3"
    )
    assert tmp_path / "kpis.en.xlsx" in paths
    sheet = load_workbook(tmp_path / "kpis.en.xlsx").active
    assert sheet is not None
    value = sheet.cell(row=2, column=3)
    assert value.value == 2467243
    assert value.number_format == "#,##0"
    yoy = sheet.cell(row=2, column=6)
    assert isinstance(yoy.value, float)
    assert yoy.number_format == "#,##0.0"
    share = load_workbook(tmp_path / "shares.en.xlsx").active
    assert share is not None
    assert share.cell(row=2, column=2).value == pytest.approx(33.3)
    assert share.cell(row=2, column=2).number_format == "#,##0.0"


# ---- a calculated workspace: sources and optional sections ------------------------------


def _fill(ws: Workspace) -> None:
    """One data centre with grid electricity and an R-410A leak (priced through the GWP set),
    and a supplier-reported emission (scope 3)."""
    import_rows(ws, "entities", [entity("GRP")])
    import_rows(ws, "sites", [site("DC", type="data_centre")])
    import_rows(
        ws,
        "activities",
        [
            activity("electricity", 16_000_000, "kWh", site="DC", region="CN-GD"),
            activity("refrigerant.R-410A", 12, "kg", site="DC"),
            activity("supplier.emissions", 40, "t", supplier="ACME"),
        ],
    )
    calculate(ws)


@pytest.fixture
def calculated(sqlite_workspace: Workspace) -> Workspace:
    _fill(sqlite_workspace)
    return sqlite_workspace


def _methodology(doc: ReportDocument) -> MethodologyAppendix:
    for section in doc.walk():
        for block in section.blocks:
            if isinstance(block, MethodologyAppendix):
                return block
    raise AssertionError("no methodology appendix")


def test_the_sources_table_lists_what_the_run_used_once(calculated: Workspace) -> None:
    from esgledger.inventory.runs import load_run

    manifest = load_run(calculated).manifest
    used = set(manifest["factor_sets_used"])
    assert any(s.startswith("ipcc-gwp") for s in used)
    assert "reported_emissions" in used
    sources = _methodology(build_document(calculated, generated_at=STAMP)).factor_sources
    names = [s.name.en if isinstance(s.name, Text) else s.name for s in sources]
    assert len(names) == len(set(names)), names
    assert names.count(manifest["gwp_source"]) == 1
    assert not any(n.startswith("ipcc-gwp") for n in names)
    assert "Emissions reported by suppliers, lessees or investees, taken as reported" in names
    cells = " ".join(
        str(getattr(s, f)) for s in sources for f in ("name", "edition", "licence", "attribution")
    )
    assert "no longer in the workspace" not in cells
    assert ".md" not in cells
    assert "§" not in cells


def test_a_deleted_set_is_named_with_its_id_in_both_languages(calculated: Workspace) -> None:
    from esgledger.report.builder import _factor_sources

    sources = _factor_sources(calculated, {"factor_sets_used": {"gone-set": 3}})
    assert sources[0].name == "gone-set"
    assert isinstance(sources[0].attribution, Text)
    assert "删除" in sources[0].attribution.zh


def test_the_ipcc_set_licence_cites_no_design_note() -> None:
    from esgledger.factors.library import FactorLibrary

    for info in FactorLibrary.shipped().sets():
        for key in ("source", "edition", "licence", "attribution"):
            assert "standards-and-data" not in str(info.get(key) or ""), (info["id"], key)


def _section_ids(doc: ReportDocument) -> set[str]:
    return {section.id for section in doc.walk()}


def test_a_new_group_gets_no_internet_group_sections(calculated: Workspace) -> None:
    assert set(OPTIONAL_SECTIONS) == {"inclusive.technology", "soc.minors", "green.datacentres"}
    doc = build_document(calculated, generated_at=STAMP)
    ids = _section_ids(doc)
    assert {"inclusive", "inclusive-technology", "soc-minors", "green-datacentres"} & ids == set()
    assert {"green", "green-power", "soc-product", "soc-privacy"} <= ids
    green = next(s for s in doc.walk() if s.id == "green")
    assert green.title == Text("Green power", "绿色电力")


def test_report_inputs_opt_in_to_optional_sections(calculated: Workspace) -> None:
    folder = calculated.root / "report"
    folder.mkdir(exist_ok=True)
    (folder / "report.toml").write_text(
        '[company]\nname = "X"\n[report]\nsections = ["inclusive.technology", "soc.minors"]\n',
        encoding="utf-8",
    )
    (folder / "narratives").mkdir()
    (folder / "narratives" / "green.datacentres.en.md").write_text("DCs.", encoding="utf-8")
    ids = _section_ids(build_document(calculated, generated_at=STAMP))
    assert {"inclusive", "inclusive-technology", "soc-minors", "green-datacentres"} <= ids
    doc = build_document(calculated, generated_at=STAMP)
    green = next(s for s in doc.walk() if s.id == "green")
    assert green.title.en == "Green power and data centres"


def test_an_unknown_optional_section_is_an_input_error(tmp_path: Path) -> None:
    folder = tmp_path / "report"
    folder.mkdir()
    (folder / "report.toml").write_text(
        '[company]\nname = "X"\n\n[report]\nsections = ["soc.gaming"]\n', encoding="utf-8"
    )
    with pytest.raises(InputError) as caught:
        load_report_inputs(tmp_path)
    issue = caught.value.issues[0]
    assert issue.file == "report/report.toml"
    assert issue.row == 5
    assert str(issue.column).startswith("report.sections")
    assert "soc.gaming is not an optional section" in issue.problem


def test_changes_since_last_year_read_in_both_languages() -> None:
    from types import SimpleNamespace

    from esgledger.report.builder import _change_texts

    diff = SimpleNamespace(
        totals={"total": {"a": 100.0, "b": 120.0}},
        by_cause={"added": 25.0, "gwp_set": -5.0},
        factor_sets=[{"id": "desnz-2024", "change": "changed"}, {"id": "x", "change": "added"}],
    )
    texts = _change_texts(diff, "r-6fcb580ee022-20241207T043019Z")
    assert "new activity rows" in texts[1].en
    for text in texts:
        assert not english_words(text.zh), text.zh


def test_the_methodology_notes_of_a_new_group_read_as_chinese(calculated: Workspace) -> None:
    doc = build_document(calculated, generated_at=STAMP)
    method = next(s for s in doc.walk() if s.id == "appendix-methodology")
    notes = [b.text for b in method.blocks if isinstance(b, Callout)]
    assert any("未计算" in note.zh for note in notes)  # no revenue: intensities not computed
    for note in notes:
        assert not english_words(note.zh), note.zh


def test_a_new_groups_chinese_report_has_no_english_words(calculated: Workspace) -> None:
    """No report inputs, no targets or measures: every placeholder, note and table of the
    Chinese edition reads as Chinese (names and cited publications as written)."""
    from _zh_english import html_text
    from esgledger.factors.library import FactorLibrary
    from esgledger.inventory.runs import load_run

    gwp = str(load_run(calculated).manifest["gwp_source"])
    allowed = ["Test Group", "Entity GRP", "Site DC", gwp]
    for info in FactorLibrary.for_workspace(calculated).sets():
        allowed += [str(info.get(k) or "") for k in ("source", "edition", "licence", "attribution")]
    html = render_html(build_document(calculated, generated_at=STAMP), "zh-CN")
    found = english_words(html_text(html), allowed_phrases=allowed)
    assert not found, "\n".join(str(f) for f in found[:30])
