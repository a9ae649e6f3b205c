"""The report builder on a small calculated workspace (document only; the PDF is tested in
tests/integration/test_cli_report.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from _inventory_support import activity, entity, import_rows, site, write_csv
from esgledger.disclosure import load_catalogue
from esgledger.inventory.engine import calculate
from esgledger.inventory.runs import summary
from esgledger.report.builder import (
    T_CO2E_DECIMALS,
    anchor,
    build_document,
    document_from_facts,
    key_figure,
    key_figures,
)
from esgledger.report.document import (
    Callout,
    ContentIndexEntry,
    Markdown,
    MetricTable,
    Placeholder,
    ReportDocument,
)
from esgledger.report.render import render_html
from esgledger.store import Workspace

STAMP = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)


def _fill(ws: Workspace) -> None:
    """Two sites, electricity and diesel, typed values for 2023-2024; calculated."""
    from esgledger.ingest.metrics import import_metric_values

    import_rows(ws, "entities", [entity("GRP")])
    import_rows(ws, "sites", [site("SZ"), site("DC", type="data_centre")])
    import_rows(
        ws,
        "activities",
        [
            activity("electricity", 8_000_000, "kWh", site="SZ", region="CN-GD"),
            activity("electricity", 16_000_000, "kWh", site="DC", region="CN-GD"),
            activity("stationary.diesel", 120, "t", site="DC"),
        ],
    )
    values = write_csv(
        ws.root / "values.csv",
        [
            {"metric": "revenue", "entity": "GRP", "year": 2024, "value": 5e9, "unit": "CNY"},
            {"metric": "revenue", "entity": "GRP", "year": 2023, "value": 4e9, "unit": "CNY"},
            {"metric": "employees", "entity": "GRP", "year": 2024, "value": 2_000},
            {
                "metric": "B2.1",
                "entity": "GRP",
                "year": 2024,
                "value": 0,
                "evidence": "HSE register 2024",
            },
        ],
    )
    import_metric_values(ws, values)
    calculate(ws)


@pytest.fixture
def filled(sqlite_workspace: Workspace) -> Workspace:
    _fill(sqlite_workspace)
    return sqlite_workspace


def _rows(doc: ReportDocument, table_id: str) -> MetricTable:
    table = next(t for t in doc.tables() if t.id == table_id)
    assert isinstance(table, MetricTable)
    return table


def test_key_figure_rule_is_whole_tonnes_with_separators() -> None:
    assert T_CO2E_DECIMALS == 0
    assert key_figure(1_234_567.49) == "1,234,567"
    assert key_figure(30.959) == "31"
    assert key_figures({"totals": {"scope1": 12.5, "scope3": None}}) == {"scope1": "12"}


def test_anchor_of_a_section_id() -> None:
    assert anchor("soc.health_safety") == "soc-health-safety"
    assert anchor("climate.metrics") == "climate-metrics"


def test_document_on_both_backends(workspace: Workspace) -> None:
    _fill(workspace)
    doc = build_document(workspace, generated_at=STAMP)
    assert doc.reporting_year == 2024
    assert doc.company.en == "Test Group"  # no report.toml: the workspace's name
    assert doc.metadata["run_id"].startswith("r-")


def test_key_figures_are_the_inventory_totals_with_their_run(filled: Workspace) -> None:
    doc = build_document(filled, generated_at=STAMP)
    inventory = summary(_latest_run(filled))
    table = _rows(doc, "ghg-key-figures")
    by_code = {row.code: row for row in table.rows}
    assert by_code["GHG-S1"].value == inventory["totals"]["scope1"]
    assert by_code["GHG-S2-LOC"].value == inventory["totals"]["scope2_location"]
    assert by_code["GHG-TOTAL"].value == inventory["totals"]["total"]
    assert all(row.source.en == f"run {doc.metadata['run_id']}" for row in table.rows)
    assert all(row.decimals == T_CO2E_DECIMALS for row in table.rows)
    html = render_html(doc, "en")
    for printed in key_figures(inventory).values():
        assert f">{printed}<" in html


def _latest_run(ws: Workspace):  # type: ignore[no-untyped-def]
    from esgledger.inventory.runs import load_run

    return load_run(ws)


def test_derived_kpis_say_their_run_and_typed_values_their_import(filled: Workspace) -> None:
    doc = build_document(filled, generated_at=STAMP)
    emissions = _rows(doc, "env-emissions-kpis")
    a12 = [row for row in emissions.rows if row.code == "A1.2"]
    assert a12
    assert {row.source.en for row in a12} == {f"run {doc.metadata['run_id']}"}
    # Intensity per revenue: scope 1+2 (location) / CNY 5,000 million.
    inventory = summary(_latest_run(filled))
    s12 = inventory["totals"]["scope1"] + inventory["totals"]["scope2_location"]
    per_revenue = next(
        row for row in a12 if "per: revenue" in row.label.en and "location" in row.label.en
    )
    assert per_revenue.value == pytest.approx(s12 / 5_000, rel=1e-12)
    profile = _rows(doc, "about-profile-kpis")
    revenue = next(row for row in profile.rows if row.code == "revenue")
    assert revenue.value == 5e9
    assert revenue.prior == 4e9
    assert revenue.yoy_pct == pytest.approx(25.0)
    assert revenue.source.en.startswith("import b-")
    assert revenue.source.zh.startswith("导入批次 b-")
    safety = _rows(doc, "soc-health-safety-kpis")
    b21 = next(row for row in safety.rows if row.code == "B2.1")
    assert b21.footnotes[0].en == "Evidence: HSE register 2024"
    assert b21.footnotes[0].zh == "佐证：HSE register 2024"


def test_without_report_inputs_the_document_is_a_draft_with_placeholders(
    filled: Workspace,
) -> None:
    doc = build_document(filled, generated_at=STAMP)
    assert doc.is_draft
    board = next(s for s in doc.walk() if s.id == "gov-board-statement")
    assert isinstance(board.blocks[0], Placeholder)
    assert board.blocks[0].content is None
    privacy = next(s for s in doc.walk() if s.id == "soc-privacy")
    assert isinstance(privacy.blocks[0], Callout)
    assert "soc.privacy.<lang>.md" in privacy.blocks[0].text.en
    reasons = [r.en for r in doc.draft_reasons]
    assert "Placeholder not supplied: Board statement" in reasons
    assert "Mandatory content-index item missing: MDR.board_oversight" in reasons


def test_content_index_lists_every_c2_item_with_a_section_on_the_report(
    filled: Workspace,
) -> None:
    doc = build_document(filled, generated_at=STAMP)
    codes = [item.code for item in load_catalogue().framework("HKEX_C2")]
    assert [entry.code for entry in doc.content_index] == codes
    sections = {section.id for section in doc.walk()}
    assert all(entry.section_id in sections for entry in doc.content_index)
    a12 = next(e for e in doc.content_index if e.code == "A1.2")
    assert a12.status == "disclosed"
    assert a12.section_id == "env-emissions"


def test_narratives_and_explanations_from_the_report_folder(filled: Workspace) -> None:
    folder = filled.root / "report"
    (folder / "narratives").mkdir(parents=True)
    (folder / "narratives" / "gov.board_statement.en.md").write_text(
        "The board oversees ESG.", encoding="utf-8"
    )
    (folder / "narratives" / "gov.board_statement.zh-CN.md").write_text(
        "董事会监管环境、社会及管治事宜。", encoding="utf-8"
    )
    (folder / "narratives" / "soc.privacy.en.md").write_text("Privacy first.", encoding="utf-8")
    (folder / "explanations.csv").write_text(
        "code,explanation_en,explanation_zh\nA2.5,No packaging.,没有包装材料。\n", encoding="utf-8"
    )
    (folder / "report.toml").write_text(
        '[company]\nname = "Small Group"\nname_zh = "小集团"\ntier = "largecap"\n'
        '[report]\ntitle = "2024 ESG Report"\ntitle_zh = "2024年ESG报告"\n',
        encoding="utf-8",
    )
    doc = build_document(filled, generated_at=STAMP)
    assert doc.company.get("zh-CN") == "小集团"
    assert doc.title.get("zh-CN") == "2024年ESG报告"
    board = next(s for s in doc.walk() if s.id == "gov-board-statement").blocks[0]
    assert isinstance(board, Placeholder)
    assert board.content is not None
    privacy = next(s for s in doc.walk() if s.id == "soc-privacy").blocks[0]
    assert isinstance(privacy, Markdown)
    assert privacy.en == "Privacy first."
    assert "soc.privacy.zh-CN.md" in privacy.zh  # the missing language is named, not blank
    a25: ContentIndexEntry = next(e for e in doc.content_index if e.code == "A2.5")
    assert a25.status == "explained"
    assert a25.explanation is not None
    assert a25.explanation.get("zh-CN") == "没有包装材料。"
    assert "Placeholder not supplied: Board statement" not in [r.en for r in doc.draft_reasons]


def test_same_facts_same_document(filled: Workspace) -> None:
    from esgledger.report.builder import _gather

    facts = _gather(filled, None)
    first = document_from_facts(facts, STAMP)
    second = document_from_facts(facts, STAMP)
    assert render_html(first, "zh-CN") == render_html(second, "zh-CN")


def test_no_run_says_to_calculate(sqlite_workspace: Workspace) -> None:
    from esgledger.errors import WorkspaceError

    with pytest.raises(WorkspaceError, match=r"no inventory run yet; run `esgledger calculate"):
        build_document(sqlite_workspace)


def test_bad_report_toml_is_rejected_with_file_line_and_key(filled: Workspace) -> None:
    from esgledger.errors import InputError

    folder: Path = filled.root / "report"
    folder.mkdir()
    (folder / "report.toml").write_text(
        '[company]\nname = "X"\n\n[[materiality]]\ntopic = "Water"\nstakeholders = 7\n'
        "business = 2\n",
        encoding="utf-8",
    )
    with pytest.raises(
        InputError, match=r"report/report.toml, row 6, column 'materiality.0.stakeholders'"
    ):
        build_document(filled)


@pytest.mark.parametrize(
    ("value", "unit", "cell"),
    [
        (0.1365, "fraction", "13.7"),  # a renewable share prints in per cent, not as 0
        (2_385_737.4, "t CO2e", 2_385_737.4),  # tonnes stay numbers (printed whole)
        (0.0123456, "t CO2e per CNY million", "0.01235"),
        (None, "t CO2e", None),
    ],
)
def test_target_progress_cells_keep_shares_and_intensities_readable(
    value: float | None, unit: str, cell: object
) -> None:
    from esgledger.report.builder import _progress_cell

    assert _progress_cell(value, unit) == cell


def test_reports_go_to_ws_reports_and_the_runs_year_by_default(filled: Workspace) -> None:
    from esgledger.report.builder import default_out_dir

    assert default_out_dir(filled) == filled.root / "reports" / "2024"


def test_a_kpi_with_breakdowns_reads_as_one_block_in_both_languages() -> None:
    from esgledger.report.builder import _row_label

    catalogue = load_catalogue()
    item = catalogue["A1.2"]
    first = _row_label(item, "method=market;scope=1+2", first=True)
    later = _row_label(item, "method=market;per=revenue;scope=1+2", first=False)
    assert first.en.endswith("(method: market-based, scope: 1+2)")
    assert first.zh.endswith("（方法：基于市场，范围：1+2）")
    assert later.en == "… method: market-based, per: revenue, scope: 1+2"
    assert later.zh == "… 方法：基于市场，每单位：收入，范围：1+2"
    assert _row_label(item, "", first=False).en == first.en.split(" (method")[0]


def test_the_content_index_says_which_breakdowns_a_disclosed_kpi_lacks(
    filled: Workspace,
) -> None:
    from esgledger.ingest.metrics import import_metric_values

    values = write_csv(
        filled.root / "workforce.csv",
        [
            {"metric": "B1.1", "entity": "GRP", "year": 2024, "value": 1_200,
             "breakdown": "gender=female"},
            {"metric": "B1.1", "entity": "GRP", "year": 2024, "value": 800,
             "breakdown": "gender=male"},
        ],
    )  # fmt: skip
    import_metric_values(filled, values)
    doc = build_document(filled, generated_at=STAMP)
    entry = next(e for e in doc.content_index if e.code == "B1.1")
    assert entry.status == "disclosed"
    assert entry.explanation is not None
    assert entry.explanation.en == (
        "without the breakdown by type, age group, region the item asks for"
    )
    assert entry.explanation.zh == "未按类型、年龄组别、地区分类披露"


def test_the_framework_index_and_the_hkex_index_agree(filled: Workspace) -> None:
    """One status per item: GRI 306-3 and 305-7 follow the HKEX KPIs they map to (A1.3,
    A1.1.air typed), and IFRS S2 paragraph 6 follows D.governance (fiscal 2024, Part D not
    yet effective, governance narrative given in both languages: disclosed in both)."""
    from esgledger.ingest.metrics import import_metric_values

    values = write_csv(
        filled.root / "waste.csv",
        [
            {"metric": "A1.3", "entity": "GRP", "year": 2024, "value": 12.5, "unit": "t"},
            {"metric": "A1.1.air", "entity": "GRP", "year": 2024, "value": 3.1, "unit": "t",
             "breakdown": "pollutant=NOx"},
        ],
    )  # fmt: skip
    import_metric_values(filled, values)
    folder = filled.root / "report" / "narratives"
    folder.mkdir(parents=True)
    texts = {"en": "The board oversees climate risk.", "zh-CN": "董事会监管气候风险。"}
    for lang, text in texts.items():
        (folder / f"climate.governance.{lang}.md").write_text(text, encoding="utf-8")
    doc = build_document(filled, generated_at=STAMP)
    hkex = {e.code: e.status for e in doc.content_index}
    table = next(t for t in doc.tables() if t.id == "framework-index")
    status = {str(row[0]): row[3].en for row in table.rows}  # type: ignore[union-attr]
    assert hkex["A1.3"] == hkex["A1.1"] == "disclosed"
    assert status["GRI 306-3"] == status["GRI 305-7"] == "Disclosed"
    assert hkex["D.governance"] == "disclosed"
    assert status["S2.6"] == "Disclosed"


def test_the_boundary_text_and_the_scope3_table_give_the_same_category_15(
    sqlite_workspace: Workspace,
) -> None:
    """Section 1.2 said a joint venture is reported in category 15 while the scope 3 table
    showed category 15 'not reported — 0'. Now the engine reports the JV's equity share of its
    scope 1 and 2 in category 15, and the boundary text prints that run figure."""
    ws = sqlite_workspace
    import_rows(
        ws,
        "entities",
        [
            entity("GRP"),
            entity("JV", parent="GRP", ownership_pct=50, operational_control="false",
                   financial_control="false"),
        ],
    )  # fmt: skip
    import_rows(ws, "sites", [site("SZ"), site("HE", "JV", type="data_centre")])
    import_rows(
        ws,
        "activities",
        [
            activity("electricity", 8_000_000, "kWh", site="SZ", region="CN-GD"),
            activity("electricity", 6_000_000, "kWh", site="HE", region="CN-HE",
                     entity_code="JV"),
        ],
    )  # fmt: skip
    run = calculate(ws)
    category_15 = run.totals["scope3_by_category"]["15"]
    assert category_15 > 0
    doc = build_document(ws, generated_at=STAMP)
    boundary = next(s for s in doc.walk() if s.id == "about-boundary")
    text = [b for b in boundary.blocks if isinstance(b, Markdown) and "category 15" in b.en]
    assert len(text) == 1
    assert f"{key_figure(category_15)} t CO2e" in text[0].en
    assert "JV (50 % equity share)" in text[0].en
    assert f"{key_figure(category_15)}吨" in text[0].zh
    assert "类别15" in text[0].zh
    table = next(t for t in doc.tables() if t.id == "scope3-completeness")
    row = next(r for r in table.rows if r[0].en.endswith("Investments"))  # type: ignore[union-attr]
    assert row[1].en == "reported"  # type: ignore[union-attr]
    assert row[3] == pytest.approx(category_15)


def test_a_total_that_leaves_rows_out_says_so_under_its_table(
    sqlite_workspace: Workspace,
) -> None:
    # Issue 10 item 1 (energy KPI): litres of diesel are in the A2.1 energy total (through the
    # shipped density); wood pellets have no shipped NCV and a row of an activity with no
    # factor is excluded with --allow-unresolved. Neither may vanish silently from a total:
    # each is a note under its table, in English and Chinese.
    ws = sqlite_workspace
    import_rows(ws, "entities", [entity("GRP")])
    import_rows(ws, "sites", [site("SZ")])
    import_rows(
        ws,
        "activities",
        [
            activity("electricity", 1_000_000, "kWh", site="SZ", region="CN-GD"),
            activity("mobile.diesel", 1_000, "L", site="SZ"),
            activity("stationary.wood_pellets", 500, "kg", site="SZ"),
        ],
    )
    calculate(ws, allow_unresolved=True)
    doc = build_document(ws, generated_at=STAMP)
    energy = next(
        t
        for t in doc.tables()
        if isinstance(t, MetricTable) and any(r.code == "A2.1" for r in t.rows)
    )
    a21 = [r for r in energy.rows if r.code == "A2.1"]
    assert any("diesel" in r.label.en for r in a21)
    notes = [n for r in a21 for n in r.footnotes]
    assert [n.en for n in notes] == [
        "Not included in this total: stationary.wood_pellets, 500 kg (1 line(s)): no density "
        "or net calorific value of this fuel is shipped for this unit."
    ]
    assert notes[0].zh.startswith("未计入本合计：stationary.wood_pellets，500 kg（1 条明细）")
    emissions = _rows(doc, "env-emissions-kpis")
    ghg = [n for r in emissions.rows if r.code == "A1.2" for n in r.footnotes]
    excluded = summary(_latest_run(ws))["run"]["counts"]["excluded"]
    assert excluded >= 1
    assert ghg[0].en.startswith(f"Not included in this total: {excluded} activity line(s)")
    assert ghg[0].zh.startswith(f"未计入本合计：{excluded} 条活动明细无排放因子")
    html = render_html(doc, "zh-CN")
    assert "未计入本合计：stationary.wood_pellets" in html
