"""A synthetic sample report document, deterministic, for tests, documentation and timing.

示例报告文档（合成数据，结果确定），用于测试、文档与性能测量。

Nothing here is a real company's data. ``chapters`` scales the length: each extra chapter adds
narrative, a metric table, a data table and a chart (about three A4 pages per chapter).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from esgledger.report import charts
from esgledger.report.document import (
    LANGS,
    Callout,
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
)

__all__ = ["SAMPLE_FIGURES", "sample_document"]

SAMPLE_FIGURES: dict[str, str] = {
    "scope1": "12,345.6",
    "scope2": "234,567",
    "scope3": "2,468,107",
    "total": "4,817,824",
}
"""Key figures of the sample exactly as printed (tests look for them in the PDF text)."""

_YEARS = (2020, 2021, 2022, 2023, 2024)
_SCOPE1 = (14_200.0, 13_900.0, 13_100.0, 12_800.0, 12_345.6)
_SCOPE2 = (301_000.0, 288_000.0, 262_000.0, 249_000.0, 234_567.0)
_SCOPE3 = (2_610_000.0, 2_580_000.0, 2_530_000.0, 2_490_000.0, 2_468_107.0)
_SCOPE3_CATEGORIES = {
    1: 1_210_000.0,
    2: 640_000.0,
    3: 170.0,
    6: 41_000.0,
    7: 52_000.0,
    11: 524_937.0,
}

_NARRATIVE_EN = (
    "The group manages {topic} through its ESG working group, which reports to the board "
    "twice a year. In {year} it reviewed policies, set annual objectives and tracked progress "
    "with the figures below.\n\n"
    "- Policies are reviewed every year.\n- Progress is reported to the ESG committee.\n\n"
    "Raw markup such as <script>alert(1)</script> is shown as text."
)
_NARRATIVE_ZH = (
    "集团通过ESG工作小组管理{topic}，工作小组每年两次向董事会汇报。{year}年，集团检讨相关政策、"
    "制定年度目标，并以下列数据追踪进展。\n\n"
    "- 每年检讨政策。\n- 向ESG委员会报告进展。\n\n"
    "诸如 <script>alert(1)</script> 的原始标记以文本显示。"
)
_POLICY_EN = (
    "### Policies and management approach\n\n"
    "The group's policy on {topic} sets out responsibilities, annual objectives and the "
    "controls that check them. Business units report quarterly; the ESG office reviews "
    "the figures and the evidence behind them before they enter this report.\n\n"
    "1. Identify the material issues with stakeholders.\n"
    "2. Set objectives and assign owners.\n"
    "3. Measure, review and report progress.\n\n"
    "> Objectives for the coming year are reviewed by the ESG committee.\n"
)
_POLICY_ZH = (
    "### 政策与管理方针\n\n"
    "集团的{topic}政策列明职责、年度目标及相应的检查控制。各业务单位每季度汇报；"
    "ESG办公室在数据纳入本报告前审阅数据及其佐证。\n\n"
    "1. 与持份者共同识别重大议题。\n"
    "2. 制定目标并指定负责人。\n"
    "3. 计量、检讨并汇报进展。\n\n"
    "> 来年目标由ESG委员会审阅。\n"
)
_TOPICS: tuple[tuple[str, str, str], ...] = (
    ("emissions", "Emissions", "排放物"),
    ("resources", "Use of resources", "资源使用"),
    ("environment", "The environment and natural resources", "环境及天然资源"),
    ("climate", "Climate change", "气候变化"),
    ("employment", "Employment", "雇佣"),
    ("health-safety", "Health and safety", "健康与安全"),
    ("development", "Development and training", "发展及培训"),
    ("labour", "Labour standards", "劳工准则"),
    ("supply-chain", "Supply chain management", "供应链管理"),
    ("product", "Product responsibility", "产品责任"),
    ("anti-corruption", "Anti-corruption", "反贪污"),
    ("community", "Community investment", "社区投资"),
)


def _chart(chart_id: str, caption: Text, draw: charts.ChartFn) -> Figure:
    return Figure(chart_id, caption, {lang: draw(lang) for lang in LANGS})


def _chapter(index: int, key: str, en: str, zh: str, year: int) -> Section:
    rng = np.random.default_rng(index)
    values = rng.uniform(100, 10_000, size=(6, 2)).round(1)
    metrics = MetricTable(
        id=f"{key}-figures",
        caption=Text(f"{en}: key figures", f"{zh}：关键数据"),
        rows=tuple(
            MetricRow(
                code=f"M{index}.{row + 1}",
                label=Text(f"{en} indicator {row + 1}", f"{zh}指标{row + 1}"),
                value=float(values[row, 0]),
                unit="t" if row % 2 else "MWh",
                prior=float(values[row, 1]),
                source="run 2024-sample",
                footnotes=(Text("Synthetic figure.", "合成数据。"),) if row == 0 else (),
                decimals=1,
            )
            for row in range(6)
        ),
    )
    table = DataTable(
        id=f"{key}-by-site",
        caption=Text(f"{en} by site", f"按站点划分的{zh}"),
        columns=(
            Column("site", Text("Site", "站点")),
            Column("region", Text("Region", "地区")),
            Column("value", Text("Value", "数值"), unit="t", decimals=1),
        ),
        rows=tuple(
            (f"Site {site + 1}", "CN-GD" if site % 2 else "HK", float(v))
            for site, v in enumerate(rng.uniform(10, 1_000, size=30).round(1))
        ),
    )
    trend = [float(v) for v in rng.uniform(0.2, 1.0, size=len(_YEARS)).round(3)]
    figure = _chart(
        f"{key}-trend",
        Text(f"{en}: intensity trend", f"{zh}：强度趋势"),
        lambda lang: charts.intensity_trend(
            _YEARS,
            {"per revenue" if lang == "en" else "每百万港元收入": trend},
            "t / HKD m",
            lang=lang,
        ),
    )
    narrative = Markdown(
        _NARRATIVE_EN.format(topic=en.lower(), year=year),
        _NARRATIVE_ZH.format(topic=zh, year=year),
    )
    policy = Markdown(_POLICY_EN.format(topic=en.lower()), _POLICY_ZH.format(topic=zh))
    return Section(
        id=key,
        title=Text(en, zh),
        blocks=(narrative, metrics),
        children=(
            Section(id=f"{key}-policy", title=Text("Policies", "政策"), blocks=(policy, policy)),
            Section(id=f"{key}-data", title=Text("Data", "数据"), blocks=(table, narrative)),
            Section(id=f"{key}-chart", title=Text("Trend", "趋势"), blocks=(figure,)),
        ),
    )


def sample_document(
    *, chapters: int = 12, board_statement: bool = False, year: int = 2024
) -> ReportDocument:
    """A bilingual sample report (synthetic figures).

    Parameters
    ----------
    chapters
        How many aspect chapters (1-12) to include after the climate chapter.
    board_statement
        Whether the board statement placeholder is filled (``False`` leaves it open, which
        makes the document a draft).
    year
        Reporting year.
    """
    heatmap = np.clip(
        0.35
        + 0.5 * np.sin(np.linspace(0, np.pi, 24))[None, :] * np.linspace(0.6, 1.0, 12)[:, None],
        0,
        1,
    )
    climate_metrics = MetricTable(
        id="ghg-emissions",
        caption=Text("Greenhouse gas emissions", "温室气体排放"),
        rows=(
            MetricRow(
                "A1.2-S1",
                Text("Scope 1 emissions", "范围一排放"),
                SAMPLE_FIGURES["scope1"],
                "t CO2e",
                12_800.0,
                source="run 2024-sample",
            ),
            MetricRow(
                "A1.2-S2",
                Text("Scope 2 emissions (location-based)", "范围二排放（基于位置）"),
                SAMPLE_FIGURES["scope2"],
                "t CO2e",
                249_000.0,
                source="run 2024-sample",
            ),
            MetricRow(
                "D-S3",
                Text("Scope 3 emissions", "范围三排放"),
                SAMPLE_FIGURES["scope3"],
                "t CO2e",
                2_490_000.0,
                source="run 2024-sample",
            ),
            MetricRow(
                "D-TOTAL",
                Text("Total emissions", "排放总量"),
                SAMPLE_FIGURES["total"],
                "t CO2e",
                None,
                source="run 2024-sample",
            ),
        ),
    )
    climate = Section(
        id="climate-metrics",
        title=Text("Climate: metrics and targets", "气候：指标和目标"),
        blocks=(
            Markdown(
                "Figures come from the inventory run **2024-sample**.",
                "数据来自盘查运行 **2024-sample**。",
            ),
            climate_metrics,
            _chart(
                "emissions-by-scope",
                Text("Emissions by scope", "按范围划分的排放"),
                lambda lang: charts.emissions_by_scope(
                    _YEARS, _SCOPE1, _SCOPE2, _SCOPE3, lang=lang
                ),
            ),
            _chart(
                "scope3-categories",
                Text("Scope 3 by category", "按类别划分的范围三排放"),
                lambda lang: charts.scope3_by_category(_SCOPE3_CATEGORIES, lang=lang),
            ),
            _chart(
                "re-share",
                Text("Renewable electricity share", "可再生电力占比"),
                lambda lang: charts.re_share(_YEARS, [12.0, 18.5, 25.0, 33.3, 41.7], lang=lang),
            ),
            _chart(
                "cfe-heatmap",
                Text("Hourly CFE", "逐时无碳电力"),
                lambda lang: charts.cfe_heatmap(heatmap, lang=lang),
            ),
            _chart(
                "target-pathway",
                Text("Target pathway", "目标路径"),
                lambda lang: charts.target_pathway(
                    (2020, 2030),
                    (2_925_200.0, 1_696_616.0),
                    _YEARS,
                    [a + b + c for a, b, c in zip(_SCOPE1, _SCOPE2, _SCOPE3, strict=True)],
                    lang=lang,
                ),
            ),
        ),
    )
    board = Placeholder(
        key="board-statement",
        label=Text("Board statement", "董事会声明"),
        instruction=Text(
            "The board's statement on its oversight of ESG issues (HKEX ESG Reporting Code, "
            "Part B, paragraph 13) goes here. Supply it as Markdown.",
            "请在此提供董事会关于其监管ESG事宜的声明（《环境、社会及管治报告守则》B部分第13段），"
            "以Markdown格式提供。",
        ),
        content=Markdown("The board oversees ESG matters.", "董事会负责监管ESG事宜。")
        if board_statement
        else None,
    )
    methodology = MethodologyAppendix(
        boundary=Text("All subsidiaries under operational control.", "运营控制权下的全部子公司。"),
        consolidation=Text(
            "Operational control (GHG Protocol Corporate Standard ch. 3).",
            "运营控制法（《温室气体核算体系企业核算与报告标准》第3章）。",
        ),
        gwp_set=Text("IPCC AR6, 100-year.", "IPCC 第六次评估报告，100年。"),
        factor_sources=(
            FactorSource("EPA GHG Emission Factors Hub", "2025", "Public domain", "U.S. EPA"),
            FactorSource(
                "DESNZ conversion factors",
                "2024 v1.1",
                "OGL v3.0",
                "Contains public sector information licensed under the Open "
                "Government Licence v3.0.",
            ),
        ),
        data_quality=(
            DataQualityRow(Text("Scope 1", "范围一"), 1.4),
            DataQualityRow(Text("Scope 3", "范围三"), 3.2, Text("Spend-based", "基于支出")),
        ),
        changes=(Text("Category 3 now uses proxy regions.", "类别3现使用代理地区。"),),
    )
    sections = [
        Section(id="board-statement", title=Text("Board statement", "董事会声明"), blocks=(board,)),
        Section(
            id="about",
            title=Text("About this report", "关于本报告"),
            blocks=(
                Markdown("This report covers the *whole group*.", "本报告涵盖*整个集团*。"),
                Callout(Text("All figures are synthetic.", "所有数据均为合成数据。"), "warning"),
            ),
        ),
        climate,
    ]
    sections += [
        _chapter(i, key, en, zh, year)
        for i, (key, en, zh) in enumerate(_TOPICS[: max(0, min(chapters, 12))], start=1)
    ]
    sections.append(
        Section(id="methodology", title=Text("Methodology", "方法学"), blocks=(methodology,))
    )
    index = [
        ContentIndexEntry(
            "Governance structure",
            Text("Board statement", "董事会声明"),
            "disclosed",
            section_id="board-statement",
        ),
        ContentIndexEntry(
            "A1.2",
            Text("Greenhouse gas emissions", "温室气体排放"),
            "disclosed",
            section_id="climate-metrics",
        ),
        ContentIndexEntry(
            "A1.3",
            Text("Hazardous waste", "有害废弃物"),
            "explained",
            explanation=Text("Not material: office operations only.", "不重大：仅有办公运营。"),
        ),
        ContentIndexEntry(
            "A3.1",
            Text("Significant impacts on the environment", "对环境的重大影响"),
            "missing",
            mandatory=False,
        ),
    ]
    index += [
        ContentIndexEntry(f"X{i}", Text(en, zh), "disclosed", section_id=key)
        for i, (key, en, zh) in enumerate(_TOPICS[: max(0, min(chapters, 12))], start=1)
    ]
    return ReportDocument(
        title=Text("Environmental, Social and Governance Report", "环境、社会及管治报告"),
        company=Text("Sample Group Holdings Limited", "示例集团控股有限公司"),
        reporting_year=year,
        generated_at=dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC),
        sections=tuple(sections),
        content_index=tuple(index),
        metadata={"run_id": "2024-sample"},
    )
