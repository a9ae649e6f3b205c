"""The meters, readings and weather templates: headers from ``meter_columns.csv``,
``reading_columns.csv`` and ``weather_columns.csv`` in both languages, the drop-down lists
(sites, roles, reading kinds, the workspace's meters), the number rules the importers apply,
and that each template, filled in with openpyxl, imports through the real importer — in
English and in Chinese headers — and gives back the values typed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from _inventory_support import entity, import_rows, site
from esgledger.energy.roles import ROLES
from esgledger.ingest import ImportResult
from esgledger.ingest.importers import import_file
from esgledger.ingest.reference import column_specs
from esgledger.ingest.template import data_sheet_name, template_lists, write_template
from esgledger.ingest.values_guard import TEMPERATURE_RANGE_C
from esgledger.store import Workspace

#: Rows typed into each template (the columns of its schema, in order).
ROWS: dict[str, list[dict[str, Any]]] = {
    "meters": [
        {"meter": "INC", "site": "DC1", "role": "incomer", "unit": "kWh", "kind": "counter",
         "rollover": 1_000_000, "timezone": "Asia/Shanghai", "name": "Incomer",
         "name_zh": "总进线"},
        {"meter": "IT", "site": "DC1", "parent": "INC", "role": "it_input", "unit": "kW",
         "kind": "interval", "multiplier": 2, "timestamp_marks": "start"},
    ],
    "readings": [
        {"meter": "INC", "timestamp": "2024-03-01T00:00:00+08:00", "value": 999_990},
        {"meter": "INC", "timestamp": "2024-03-01T00:15:00+08:00", "value": 5},
        {"meter": "IT", "timestamp": "2024-03-01T00:00:00+08:00", "value": 10.5},
    ],
    "weather": [
        {"site": "DC1", "timestamp": "2024-03-01T00:00:00+08:00", "dry_bulb_c": 12.0,
         "relative_humidity_pct": 60},
        {"site": "DC1", "timestamp": "2024-03-01T01:00:00+08:00", "dry_bulb_c": 11.5,
         "wet_bulb_c": 9.25},
    ],
}  # fmt: skip


@pytest.fixture
def dc(workspace: Workspace) -> Workspace:
    import_rows(workspace, "entities", [entity("GRP")])
    import_rows(workspace, "sites", [site("DC1", region="CN-GD", type="data_centre")])
    return workspace


def _fill_and_import(ws: Workspace, folder: Path, kind: str, lang: str) -> ImportResult:
    folder.mkdir(parents=True, exist_ok=True)
    out = write_template(kind, folder / f"{kind}-{lang}.xlsx", lang=lang, workspace=ws)
    book = load_workbook(out)
    sheet = book.worksheets[0]
    assert sheet.title == data_sheet_name(kind, lang)
    specs = column_specs(kind)
    headers = [c.value for c in sheet[1]]
    assert headers == [s.column if lang == "en" else s.header_zh for s in specs]
    for row in ROWS[kind]:
        sheet.append([row.get(s.column) for s in specs])
    book.save(out)
    return import_file(ws, kind, out)


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_filled_meters_readings_and_weather_templates_import(
    dc: Workspace, tmp_path: Path, lang: str
) -> None:
    from esgledger.energy.meters import load_meters
    from esgledger.energy.weather import hourly

    for kind in ("meters", "readings", "weather"):
        result = _fill_and_import(dc, tmp_path, kind, lang)
        assert (result.rows, result.created) == (len(ROWS[kind]), True), result.message
    meters = {m.meter: m for m in load_meters(dc)}
    assert meters["INC"].rollover == 1_000_000
    assert meters["IT"].parent == "INC"
    assert meters["IT"].multiplier == 2
    assert meters["IT"].timestamp_marks == "start"
    assert meters["INC"].name_zh == "总进线"
    from esgledger.energy.periods import parse_period

    weather = hourly(dc, "DC1", parse_period("2024-03-01")).to_pylist()
    assert [w["dry_bulb_c"] for w in weather[:2]] == [12.0, 11.5]
    assert weather[1]["wet_bulb_c"] == 9.25  # given, not computed


def test_the_meters_template_lists_roles_kinds_and_sites(dc: Workspace) -> None:
    lists = template_lists("meters", workspace=dc)
    assert lists["role"].values == ROLES
    assert lists["role"].strict
    assert lists["kind"].values == ("counter", "interval")
    assert lists["site"].values == ("DC1",)
    assert "Asia/Shanghai" in lists["timezone"].values
    assert not lists["unit"].strict  # MWh, GJ, m3 … and other spellings the importer reads
    assert "site" not in template_lists("meters")  # no workspace, no site list


def test_the_readings_template_lists_the_workspaces_meters(dc: Workspace, tmp_path: Path) -> None:
    assert "meter" not in template_lists("readings", workspace=dc)  # none imported yet
    _fill_and_import(dc, tmp_path, "meters", "en")
    assert template_lists("readings", workspace=dc)["meter"].values == ("INC", "IT")


def test_the_weather_template_checks_the_importers_ranges(tmp_path: Path) -> None:
    book = load_workbook(write_template("weather", tmp_path / "w.xlsx", lang="zh-CN"))
    assert book.sheetnames == ["气象", "说明", "lists"]
    sheet = book["气象"]
    letters = {c.value: c.column_letter for c in sheet[1]}
    rules = {str(v.sqref).split(":")[0].rstrip("0123456789"): v
             for v in sheet.data_validations.dataValidation}  # fmt: skip
    dry = rules[letters["干球温度"]]
    low, high = TEMPERATURE_RANGE_C
    assert (dry.type, float(dry.formula1), float(dry.formula2)) == ("decimal", low, high)
    rh = rules[letters["相对湿度"]]
    assert (float(rh.formula1), float(rh.formula2)) == (0.0, 100.0)


def test_a_bad_value_typed_into_the_weather_template_names_row_and_column(
    dc: Workspace, tmp_path: Path
) -> None:
    from esgledger.errors import InputError

    out = write_template("weather", tmp_path / "w.xlsx", workspace=dc)
    book = load_workbook(out)
    sheet = book.worksheets[0]
    sheet.append(["DC1", "2024-03-01T00:00:00+08:00", 12.0, None, 140])
    book.save(out)
    with pytest.raises(InputError) as caught:
        import_file(dc, "weather", out)
    (issue,) = caught.value.issues
    assert (issue.row, issue.column) == (2, "relative_humidity_pct")
    assert "w.xlsx" in issue.file
