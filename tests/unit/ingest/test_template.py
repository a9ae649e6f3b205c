"""The XLSX templates: sheets, headers, notes, validations and list contents, read back with
openpyxl; and that a filled template imports through the importer of its kind."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from esgledger.ingest import ImportResult
from esgledger.ingest.instruments import import_instruments
from esgledger.ingest.reference import (
    import_activity_types,
    import_entities,
    import_factors,
    import_fx,
    import_sites,
)
from esgledger.ingest.template import (
    INLINE_LIST_LIMIT,
    TEMPLATE_KINDS,
    data_sheet_name,
    template_lists,
    write_template,
)
from esgledger.store import Workspace
from esgledger.store.repository import load_entities, load_factors, load_fx_rates, load_sites

ENTITIES = (
    "entity,name,parent,ownership_pct,operational_control,financial_control,country\n"
    "GRP,Group,,100,true,true,CN\n"
    "CLOUD,Cloud,GRP,100,true,true,CN\n"
    "INTL,International,GRP,100,true,true,SG\n"
)
SITES = (
    "site,entity,name,country,region,type\n"
    "DC-GD,CLOUD,Qingyuan DC,CN,CN-GD,data_centre\n"
    "OF-SG,INTL,Singapore office,SG,,office\n"
)
TYPES = "activity,name,dimension,scope,scope3_category\npurchased.cement,Cement,[mass],3,1\n"


def _schema(name: str) -> list[dict[str, str]]:
    text = resources.files("esgledger.schema").joinpath(name).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


SCHEMA_FILES = {
    "activities": "activity_columns.csv",
    "entities": "entity_columns.csv",
    "sites": "site_columns.csv",
    "activity-types": "activity_type_columns.csv",
    "factors": "factor_import_columns.csv",
    "fx": "fx_columns.csv",
    "instruments": "instrument_columns.csv",
    "metric-values": "metric_value_columns.csv",
    "meters": "meter_columns.csv",
    "readings": "reading_columns.csv",
    "weather": "weather_columns.csv",
    "trips": "trip_columns.csv",
}


@pytest.fixture
def group(workspace: Workspace, tmp_path: Path) -> Workspace:
    """The workspace with three entities, two sites and one user activity type."""
    for name, text, importer in (
        ("entities.csv", ENTITIES, import_entities),
        ("sites.csv", SITES, import_sites),
        ("types.csv", TYPES, import_activity_types),
    ):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        importer(workspace, path)
    return workspace


def _by_header(sheet: Worksheet) -> dict[str, DataValidation]:
    """The data validations of a sheet by the header of the column they cover."""
    headers = {cell.column_letter: cell.value for cell in sheet[1]}
    out: dict[str, DataValidation] = {}
    for validation in sheet.data_validations.dataValidation:
        (area,) = str(validation.sqref).split()
        first, last = area.split(":")
        letter = first.rstrip("0123456789")
        assert first == f"{letter}2"
        assert last == f"{letter}1048576"
        out[str(headers[letter])] = validation
    return out


def _values(book: Workbook, validation: DataValidation) -> list[str]:
    formula = str(validation.formula1)
    if formula.startswith('"'):
        assert len(formula) <= INLINE_LIST_LIMIT
        return formula.strip('"').split(",")
    sheet_name, area = formula.lstrip("=").split("!")
    start, end = area.replace("$", "").split(":")
    cells = book[sheet_name][start:end]
    return [str(row[0].value) for row in cells]


def _serial(day: dt.date) -> str:
    return str((day - dt.date(1899, 12, 30)).days)


# ---- the activities template ------------------------------------------------------------


def test_activities_template_in_english(group: Workspace, tmp_path: Path) -> None:
    out = write_template("activities", tmp_path / "a.xlsx", workspace=group)
    book = load_workbook(out)
    assert book.sheetnames == ["activities", "README", "lists"]
    assert book["lists"].sheet_state == "hidden"
    sheet = book["activities"]
    columns = _schema("activity_columns.csv")
    assert [c.value for c in sheet[1]] == [row["column"] for row in columns]
    assert sheet.max_row == 1, "the data sheet has no rows that could be imported by mistake"
    assert sheet.freeze_panes == "A2"
    for cell, row in zip(sheet[1], columns, strict=True):
        assert cell.comment is not None
        assert row["description"] in cell.comment.text
        assert sheet.column_dimensions[cell.column_letter].width >= 10
    zh = {row["column"]: row["description_zh"] for row in _schema("activity_columns.csv")}
    assert zh["quantity"] in sheet["G1"].comment.text

    checks = _by_header(sheet)
    assert _values(book, checks["entity"]) == ["CLOUD", "GRP", "INTL"]
    assert _values(book, checks["site"]) == ["DC-GD", "OF-SG"]
    assert checks["entity"].errorStyle == "stop"
    activities = _values(book, checks["activity"])
    assert str(checks["activity"].formula1).startswith("=lists!$")  # too long to be inline
    assert checks["activity"].errorStyle == "warning"
    for key in (
        "electricity",
        "stationary.diesel",
        "travel.air.long_haul.economy",
        "travel.air.short_haul.business",
        "waste.aggregates.landfill",
        "refrigerant.R-410A",
        "refrigerant.HFC-134a",
        "spend.naics.334111",
        "purchased.cement",
    ):
        assert key in activities, key
    assert not [key for key in activities if key.endswith(".*")]
    assert len(activities) == len(set(activities))
    units = _values(book, checks["unit"])
    assert {"kWh", "MWh", "L", "t", "tkm", "pkm", "room_night", "CNY", "万元"} <= set(units)
    assert "CN-GD" in _values(book, checks["region"])
    assert _values(book, checks["scope3_category"]) == [str(n) for n in range(1, 16)]
    assert _values(book, checks["correction"]) == ["true", "false"]
    for header in ("period_start", "period_end"):
        assert checks[header].type == "date"
        assert (checks[header].operator, checks[header].formula1, checks[header].formula2) == (
            "between",
            "45292",  # 2024-01-01 in Excel's serial numbering
            "45657",  # 2024-12-31
        )
    assert checks["quantity"].type == "decimal"
    assert set(checks) == {
        "entity",
        "site",
        "period_start",
        "period_end",
        "activity",
        "quantity",
        "unit",
        "region",
        "scope3_category",
        "correction",
    }


def test_activities_template_in_chinese(group: Workspace, tmp_path: Path) -> None:
    out = write_template("activities", tmp_path / "a.xlsx", lang="zh-CN", workspace=group)
    book = load_workbook(out)
    assert book.sheetnames == ["活动数据", "说明", "lists"]
    sheet = book["活动数据"]
    assert [c.value for c in sheet[1]] == [
        row["header_zh"] for row in _schema("activity_columns.csv")
    ]
    assert sheet["A1"].comment.text.startswith("记录编号（选填）：")
    checks = _by_header(sheet)
    assert _values(book, checks["更正"]) == ["是", "否"]
    assert _values(book, checks["主体"]) == ["CLOUD", "GRP", "INTL"]


def test_readme_explains_every_column_in_both_languages_with_an_example(
    group: Workspace, tmp_path: Path
) -> None:
    book = load_workbook(write_template("activities", tmp_path / "a.xlsx", workspace=group))
    readme = book["README"]
    rows = [[cell.value for cell in row] for row in readme.iter_rows()]
    by_column = {row[0]: row for row in rows if row[0] in {"record_id", "quantity", "entity"}}
    assert by_column["quantity"][1] == "数量"
    assert by_column["quantity"][2] == "required / 必填"
    assert by_column["quantity"][4] == (
        "Amount of activity in `unit`; negative only on correction rows"
    )
    assert by_column["quantity"][5] == "以“单位”列计量的活动量；仅更正行可为负数"
    assert by_column["entity"][6] == "CLOUD, GRP, INTL"
    example_at = next(i for i, row in enumerate(rows) if row[0] == "Example / 示例")
    header, example = rows[example_at + 1], rows[example_at + 2]
    record = dict(zip(header, example, strict=False))
    assert record["activity"] == "electricity"
    assert (record["entity"], record["site"]) == ("CLOUD", "DC-GD")
    assert (record["period_start"], record["period_end"]) == ("2024-01-01", "2024-01-31")


def test_a_filled_activities_template_imports(group: Workspace, tmp_path: Path) -> None:
    activities = pytest.importorskip("esgledger.ingest.activities")
    for lang in ("en", "zh-CN"):
        out = write_template("activities", tmp_path / f"{lang}.xlsx", lang=lang, workspace=group)
        book = load_workbook(out)
        sheet = book.worksheets[0]
        yes_no = ("true", "false") if lang == "en" else ("是", "否")
        month = 1 if lang == "en" else 2
        electricity = ["electricity", 125000, "kWh", None, None, None, None, yes_no[1], "bill"]
        flights = ["travel.air.long_haul.economy", 52000.5, "pkm", None, None, 6, None, None, None]
        rows: list[list[Any]] = [
            [
                f"E-{lang}",
                "CLOUD",
                "DC-GD",
                # One month per language: the same row twice would be an exact duplicate.
                dt.date(2024, month, 1),
                dt.date(2024, month, 28),
                *electricity,
            ],
            [f"T-{lang}", "INTL", None, dt.date(2024, 3, 1), dt.date(2024, 3, 31), *flights],
        ]
        for row in rows:
            sheet.append(row)
        book.save(out)
        result: ImportResult = activities.import_activities(group, out)
        assert (result.rows, result.created) == (2, True), result.message


# ---- the reference-data templates -------------------------------------------------------


_PPA = ("gd-ppa", "electricity", "CN-GD", 2024, "kWh", 0.05, None, None, None, None)
_DIESEL = ("gd-diesel", "stationary.diesel", "CN", 2024, "L", None, 2.6, 0.0001, 0.00002)
FILL: dict[str, tuple[Callable[..., ImportResult], list[list[Any]]]] = {
    "entities": (
        import_entities,
        [
            ["HOLD", "Holding", None, "GRP", 100, "YES", "YES", "CN"],
            ["JV", "Joint venture", "合资公司", "HOLD", 50, "NO", "NO", "CN"],
        ],
    ),
    "sites": (
        import_sites,
        [
            ["DC-TJ", "CLOUD", "Tianjin DC", None, "CN", "CN-TJ", "DATA_CENTRE"],
            ["WH-SG", "INTL", "Singapore warehouse", None, "SG", None, "WAREHOUSE"],
        ],
    ),
    "activity-types": (
        import_activity_types,
        [
            ["purchased.glass", "Glass", "玻璃", "[mass]", 3, 1, None, None],
            ["onsite.biogas", "Biogas", None, "[energy] | [volume]", 1, None, None, None],
        ],
    ),
    "factors": (
        import_factors,
        [
            [*_PPA, "AR6", "PPA contract", None, "DC-GD", None, "supplier"],
            [*_DIESEL, None, None, "Supplier certificate"],
        ],
    ),
    "fx": (import_fx, [[2024, "HKD", 7.8, "Treasury"], [2025, "CNY", 7.2, None]]),
    "instruments": (
        import_instruments,
        [
            [
                "GEC-1",
                "GEC",
                "WIND",
                "Wind farm",
                dt.date(2020, 1, 1),
                "CN",
                "CN-NM",
                dt.date(2024, 1, 1),
                dt.date(2024, 12, 31),
                40000,
                dt.date(2025, 1, 20),
                "DC-GD",
                "GEC-0001",
                None,
                dt.date(2024, 2, 1),
                "NO",
                None,
            ],
            [
                "PV-1",
                "ONSITE",
                "SOLAR",
                "Rooftop PV",
                dt.date(2022, 9, 30),
                "CN",
                "CN-GD",
                dt.date(2024, 1, 1),
                dt.date(2024, 12, 31),
                2150.5,
                None,
                "DC-GD",
                None,
                None,
                None,
                None,
                "self-consumed",
            ],
        ],
    ),
}
#: Placeholders in FILL for what a person picks from the drop-down, in English and Chinese.
_WORDS = {
    "YES": ("true", "是"),
    "NO": ("false", "否"),
    "DATA_CENTRE": ("data_centre", "数据中心"),
    "WAREHOUSE": ("warehouse", "仓库"),
    "GEC": ("gec", "绿色电力证书（绿证）"),
    "ONSITE": ("onsite", "自发自用（现场发电）"),
    "WIND": ("wind", "风电"),
    "SOLAR": ("solar", "太阳能光伏"),
}


def _fill_and_import(ws: Workspace, folder: Path, kind: str, lang: str) -> ImportResult:
    """Write the template, fill in the FILL rows with openpyxl, import it."""
    folder.mkdir(parents=True, exist_ok=True)
    out = write_template(kind, folder / "t.xlsx", lang=lang, workspace=ws)
    book = load_workbook(out)
    sheet = book.worksheets[0]
    assert sheet.title == data_sheet_name(kind, lang)
    header = "column" if lang == "en" else "header_zh"
    assert [c.value for c in sheet[1]] == [row[header] for row in _schema(SCHEMA_FILES[kind])]
    importer, rows = FILL[kind]
    index = 0 if lang == "en" else 1
    for row in rows:
        sheet.append([_WORDS.get(v, (v, v))[index] if isinstance(v, str) else v for v in row])
    book.save(out)
    return importer(ws, out)


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
@pytest.mark.parametrize(
    "kind", ["entities", "sites", "activity-types", "factors", "fx", "instruments"]
)
def test_a_filled_reference_template_imports(
    group: Workspace, tmp_path: Path, kind: str, lang: str
) -> None:
    result = _fill_and_import(group, tmp_path, kind, lang)
    assert (result.rows, result.created) == (2, True), result.message


def test_what_the_filled_reference_templates_stored(group: Workspace, tmp_path: Path) -> None:
    _fill_and_import(group, tmp_path / "s", "sites", "zh-CN")
    _fill_and_import(group, tmp_path / "f", "factors", "en")
    _fill_and_import(group, tmp_path / "x", "fx", "zh-CN")
    _fill_and_import(group, tmp_path / "e", "entities", "zh-CN")
    with group.session() as session:
        sites = {s["code"]: s for s in load_sites(session)}
        factors = {f["factor_id"]: f for f in load_factors(session)}
        rates = {(r["year"], r["currency"]): r["per_usd"] for r in load_fx_rates(session)}
        entities = {e["code"]: e for e in load_entities(session)}
    assert (sites["DC-TJ"]["type"], sites["WH-SG"]["region"]) == ("data_centre", "SG")
    assert factors["gd-ppa"]["site"] == "DC-GD"
    assert factors["gd-diesel"]["ch4_kg"] == 0.0001
    assert rates == {(2024, "HKD"): 7.8, (2025, "CNY"): 7.2}
    assert (entities["JV"]["parent"], entities["JV"]["operational_control"]) == ("HOLD", False)
    assert entities["JV"]["name_zh"] == "合资公司"


def test_reference_templates_need_no_workspace(tmp_path: Path) -> None:
    for kind in ("entities", "sites", "activity-types", "factors", "fx"):
        book = load_workbook(write_template(kind, tmp_path / f"{kind}.xlsx"))
        assert book.sheetnames == [kind, "README", "lists"]
    sites = load_workbook(tmp_path / "sites.xlsx")
    checks = _by_header(sites["sites"])
    assert "entity" not in checks  # no workspace, no entity list
    assert _values(sites, checks["type"]) == [
        "data_centre",
        "office",
        "warehouse",
        "retail",
        "fleet_depot",
        "factory",
        "lab",
        "campus",
        "other",
    ]


def test_entities_template_validations(tmp_path: Path) -> None:
    book = load_workbook(write_template("entities", tmp_path / "e.xlsx", lang="zh-CN"))
    checks = _by_header(book["主体"])
    assert _values(book, checks["运营控制权"]) == ["是", "否"]
    assert str(checks["上级主体"].formula1) == "=$A$2:$A$5000"  # entities of the same sheet
    assert checks["上级主体"].errorStyle == "warning"  # or one already imported
    assert (checks["持股比例"].type, checks["持股比例"].formula1, checks["持股比例"].formula2) == (
        "decimal",
        "0",
        "100",
    )
    countries = _values(book, checks["国家或地区"])
    assert {"CN", "HK", "MO", "TW", "SG", "US", "GB"} <= set(countries)
    assert len(countries) == 250


def test_factors_template_lists(group: Workspace, tmp_path: Path) -> None:
    book = load_workbook(write_template("factors", tmp_path / "f.xlsx", workspace=group))
    checks = _by_header(book["factors"])
    assert _values(book, checks["gwp_basis"]) == ["AR4", "AR5", "AR6"]
    assert _values(book, checks["site"]) == ["DC-GD", "OF-SG"]
    activities = _values(book, checks["activity"])
    assert "reported_emissions" in activities  # what supplier.emissions files factors under
    assert "leased.electricity" not in activities  # it takes electricity's factors
    assert "purchased.cement" in activities
    assert checks["co2e_kg"].operator == "greaterThanOrEqual"
    assert checks["price_basis"].formula1 == '"purchaser,producer"'


def test_sites_template_offers_chinese_site_types(tmp_path: Path) -> None:
    lists = template_lists("sites", lang="zh-CN")
    assert lists["type"].values[:3] == ("数据中心", "办公楼", "仓库")


@pytest.mark.parametrize(
    ("kind", "lang", "message"),
    [
        (
            "activities",
            "en",
            "the activities template needs a workspace: its entity and site lists and "
            "reporting year come from it",
        ),
        (
            "telemetry",
            "en",
            "unknown template kind 'telemetry'; choose one of activities, entities, sites, "
            "activity-types, factors, fx, instruments, metric-values, meters, readings, weather, "
            "trips",
        ),
        ("fx", "fr", "unknown template language 'fr'; choose one of en, zh-CN"),
    ],
)
def test_template_errors(tmp_path: Path, kind: str, lang: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        write_template(kind, tmp_path / "x.xlsx", lang=lang)
    assert not (tmp_path / "x.xlsx").exists()


def test_instruments_template_lists(group: Workspace, tmp_path: Path) -> None:
    book = load_workbook(write_template("instruments", tmp_path / "i.xlsx", workspace=group))
    assert book.sheetnames == ["instruments", "README", "lists"]
    checks = _by_header(book["instruments"])
    assert _values(book, checks["type"]) == [row["type"] for row in _schema("instrument_types.csv")]
    assert _values(book, checks["technology"]) == [
        row["technology"] for row in _schema("instrument_technologies.csv")
    ]
    assert checks["type"].errorStyle == "stop"
    assert {"CN", "US", "HK"} <= set(_values(book, checks["country"]))
    assert "CN-NM" in _values(book, checks["region"])
    assert _values(book, checks["retired_for"]) == ["CLOUD", "GRP", "INTL", "DC-GD", "OF-SG"]
    assert (checks["mwh"].type, checks["mwh"].operator, checks["mwh"].formula1) == (
        "decimal",
        "greaterThan",
        "0",
    )
    for header in ("commissioned", "period_start", "period_end", "retired_on"):
        assert checks[header].type == "date"
    assert _values(book, checks["attributes_sold"]) == ["true", "false"]


def test_instruments_template_in_chinese_offers_chinese_names(tmp_path: Path) -> None:
    lists = template_lists("instruments", lang="zh-CN")
    assert lists["type"].values[:2] == ("绿色电力证书（绿证）", "绿电交易")
    assert lists["technology"].values[:2] == ("太阳能光伏", "风电")
    assert "retired_for" not in lists  # no workspace, no entity or site list
    book = load_workbook(write_template("instruments", tmp_path / "i.xlsx", lang="zh-CN"))
    assert book.sheetnames == ["环境权益工具", "说明", "lists"]
    assert book["环境权益工具"]["A1"].value == "工具编号"


def test_every_kind_is_a_template_kind() -> None:
    assert set(TEMPLATE_KINDS) == set(SCHEMA_FILES)


def test_the_instruments_template_from_the_command_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from esgledger.cli import app

    out = tmp_path / "instruments.xlsx"
    args = ["template", "instruments", "--lang", "zh-CN", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"Wrote the instruments template (zh-CN) to {out}. Fill in sheet '环境权益工具', then "
        f"run: esgledger import WS {out} --kind instruments\n"
    )
    assert load_workbook(out).sheetnames == ["环境权益工具", "说明", "lists"]


# ---- the metric-values template -----------------------------------------------------------

COMPANY_METRICS = (
    "code,title_en,title_zh,type,unit,unit_label_en,unit_label_zh,parent,notes\n"
    "CO.charity.donations,Donations raised,公益平台募集善款,number,[currency],,,B8.2,"
    "Raised on the charity platform\n"
)


def test_metric_values_template_offers_typed_metrics_only(group: Workspace, tmp_path: Path) -> None:
    from esgledger.disclosure import load_catalogue
    from esgledger.ingest.metrics import import_metrics

    metrics = tmp_path / "metrics.csv"
    metrics.write_text(COMPANY_METRICS, encoding="utf-8")
    import_metrics(group, metrics)
    out = write_template("metric-values", tmp_path / "m.xlsx", workspace=group)
    book = load_workbook(out)
    assert book.sheetnames == ["metric-values", "README", "metrics", "lists"]
    sheet = book["metric-values"]
    columns = _schema("metric_value_columns.csv")
    assert [c.value for c in sheet[1]] == [row["column"] for row in columns]
    assert sheet.max_row == 1
    checks = _by_header(sheet)
    codes = _values(book, checks["metric"])
    assert checks["metric"].errorStyle == "stop"
    for code in ("A1.3", "A1.1.air", "B1.1", "B8.2", "revenue", "employees", "MDR.board_oversight"):
        assert code in codes, code
    assert codes[-1] != "CO.charity.donations"  # numbers first, then text items
    assert "CO.charity.donations" in codes
    derived = [item.code for item in load_catalogue() if item.is_derived]
    assert {"A1.2", "A2.1", "A2.2", "D.metrics.scope1"} <= set(derived)
    assert not set(derived) & set(codes)
    assert _values(book, checks["entity"]) == ["CLOUD", "GRP", "INTL"]
    assert (checks["year"].type, checks["year"].formula1, checks["year"].formula2) == (
        "whole",
        "2022",  # the reporting year 2024 and the two years before it (EARLIER_YEARS)
        "2024",
    )
    for header in ("period_start", "period_end"):
        assert (checks[header].type, checks[header].formula1, checks[header].formula2) == (
            "date",
            _serial(dt.date(2022, 1, 1)),
            _serial(dt.date(2024, 12, 31)),
        )
    assert {"kg", "t", "people", "%", "CNY"} <= set(_values(book, checks["unit"]))
    assert checks["unit"].errorStyle == "warning"
    notes = [[cell.value for cell in row] for row in book["metrics"].iter_rows()]
    assert notes[0][:3] == ["code / 指标代码", "title_en / 英文名称", "title_zh / 中文名称"]
    by_code = {row[0]: row for row in notes[1:]}
    assert [row[0] for row in notes[1:]] == codes
    assert by_code["B2.2"][4:6] == ["day", "days"]
    assert by_code["CO.charity.donations"][2] == "公益平台募集善款"
    assert by_code["CO.charity.donations"][7] == "Raised on the charity platform"


def test_metric_values_template_in_chinese(group: Workspace, tmp_path: Path) -> None:
    out = write_template("metric-values", tmp_path / "m.xlsx", lang="zh-CN", workspace=group)
    book = load_workbook(out)
    assert book.sheetnames == ["指标数值", "说明", "指标说明", "lists"]
    assert book["指标数值"]["A1"].value == "指标代码"
    assert book["指标说明"]["A1"].value == "指标代码 / code"
    notes = {row[0].value: row for row in book["指标说明"].iter_rows(min_row=2)}
    assert notes["B2.2"][5].value == "日"


def test_metric_values_template_without_a_workspace(tmp_path: Path) -> None:
    lists = template_lists("metric-values")
    assert "entity" not in lists
    assert not lists["metric"].strict  # company metrics are unknown: warn, do not refuse
    book = load_workbook(write_template("metric-values", tmp_path / "m.xlsx"))
    checks = _by_header(book["metric-values"])
    assert (checks["year"].formula1, checks["year"].formula2) == ("1990", "2100")


def test_a_filled_metric_values_template_imports(group: Workspace, tmp_path: Path) -> None:
    from esgledger.ingest.metrics import import_metric_values
    from esgledger.store.repository_targets import load_metric_values

    out = write_template("metric-values", tmp_path / "m.xlsx", lang="zh-CN", workspace=group)
    book = load_workbook(out)
    sheet = book["指标数值"]
    sheet.append(["A1.3", "GRP", 2024, None, None, 1500, None, "kg", None, "联单", None])
    sheet.append(["B2.1", "GRP", 2022, None, None, 0, None, None, "measure=number", None, None])
    sheet.append(["B2.2", "CLOUD", None, dt.date(2024, 1, 1), dt.date(2024, 6, 30), 3, None, "day"])
    book.save(out)
    result = import_metric_values(group, out)
    assert result.rows == 3
    with group.session() as session:
        stored = {(r["metric"], r["entity"]): r for r in load_metric_values(session)}
    assert (stored[("A1.3", "GRP")]["value"], stored[("A1.3", "GRP")]["unit"]) == (
        pytest.approx(1.5),
        "tonne",
    )
    assert stored[("A1.3", "GRP")]["evidence"] == "联单"
    assert stored[("B2.2", "CLOUD")]["period_end"] == dt.date(2024, 6, 30)


def test_the_metric_values_template_from_the_command_line(group: Workspace, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from esgledger.cli import app

    out = tmp_path / "values.xlsx"
    args = ["template", "metric-values", str(group.root), "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"Wrote the metric-values template (en) to {out}. Fill in sheet 'metric-values', then "
        f"run: esgledger import {group.root} {out} --kind metric-values\n"
    )
