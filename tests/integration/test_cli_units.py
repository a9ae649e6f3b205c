"""``esgledger units``: the units accepted, by dimension, with Chinese spellings (issue 10,
section 5: the unknown-unit message used to point at a Python module instead)."""

from __future__ import annotations

import csv
import json
from importlib import resources

import pytest
from typer.testing import CliRunner

from esgledger.cli import app
from esgledger.units import conversion_factor

runner = CliRunner()


def _common_units() -> list[dict[str, str]]:
    text = resources.files("esgledger.schema").joinpath("common_units.csv").read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def test_json_lists_every_common_unit_with_spellings_that_mean_it() -> None:
    result = runner.invoke(app, ["units", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [u["unit"] for u in data["units"]] == [row["unit"] for row in _common_units()]
    for unit in data["units"]:
        for spelling in unit["spellings"]:
            assert conversion_factor(spelling, unit["unit"]) == pytest.approx(1.0, rel=1e-12)
    by_unit = {u["unit"]: u for u in data["units"]}
    assert "吨" in by_unit["t"]["spellings"]
    assert "ton" not in by_unit["t"]["spellings"]
    assert {"千瓦时", "度", "KWH"} <= set(by_unit["kWh"]["spellings"])
    assert by_unit["kg"]["name_zh"] == "千克"
    other = {s: g for g in data["other"] for s in g["spellings"]}
    assert other["平方米"]["dimension"] == "[area]"
    assert "'ton'" in data["rules"]["en"]
    assert "short_ton" in data["rules"]["zh-CN"]


def test_text_lists_units_by_dimension_in_english() -> None:
    result = runner.invoke(app, ["units"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    kg = next(line for line in lines if "│ kg " in line)
    assert "[mass]" in kg
    assert "kilogram" in kg
    assert "千克, 公斤" in kg
    assert lines[-1].startswith("Units are read exactly first.")
    # Not a terminal: wide enough that a long list of spellings stays on its row.
    kwh = next(line for line in lines if "│ kWh " in line)
    assert "kwh, KWH, 千瓦时, 度, kWh (Net CV), kWh (Gross CV)" in kwh


def test_text_in_chinese() -> None:
    result = runner.invoke(app, ["units", "--lang", "zh-CN"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("可接受的单位")
    kg = next(line for line in result.stdout.splitlines() if "│ kg " in line)
    assert "千克" in kg
    assert "质量" in result.stdout
    assert "单位先按原样精确匹配" in result.stdout
