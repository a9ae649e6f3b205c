"""Validation of typed metric values."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import esgledger.disclosure as disclosure
from esgledger.disclosure.catalogue import Catalogue, load_catalogue
from esgledger.disclosure.values import (
    VALUE_SCHEMA,
    format_breakdown,
    parse_breakdown,
    validate_values,
    value_columns,
)
from esgledger.errors import InputError

EXAMPLE = Path(disclosure.__file__).parent / "examples" / "company_metrics.csv"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(EXAMPLE)


def check(rows: list[dict[str, Any]], catalogue: Catalogue, **kwargs: Any) -> pa.Table:
    options: dict[str, Any] = {"entities": {"GRP", "HK1"}, "reporting_year": 2025, **kwargs}
    return validate_values(rows, catalogue, **options)


def row(metric: str, value: Any = None, **extra: Any) -> dict[str, Any]:
    return {"metric": metric, "entity": "GRP", "year": "2025", "value": value, **extra}


def test_values_convert_into_the_catalogue_unit(catalogue: Catalogue) -> None:
    table = check(
        [
            row("A1.3", "1500", unit="kg", evidence="waste-2025.pdf"),
            row("revenue", "12", unit="万元"),
            row("D.metrics.internal_carbon_price", "80", unit="HKD/t"),
            row("B2.2", "2", unit="week"),
            row("B6.1", "0.5", unit="%"),
            row("CO.data_security.incidents", 0, unit="incidents"),
        ],
        catalogue,
    )
    assert table.schema == VALUE_SCHEMA
    got = {r["metric"]: (r["value"], r["unit"]) for r in table.to_pylist()}
    assert got["A1.3"] == (1.5, "tonne")
    assert got["revenue"] == (120000.0, "CNY")
    assert got["D.metrics.internal_carbon_price"] == (80.0, "HKD / tonne")
    assert got["B2.2"] == (14.0, "day")
    assert got["B6.1"] == (0.5, "")
    assert got["CO.data_security.incidents"] == (0.0, "")
    first = table.to_pylist()[0]
    assert (first["value_as_given"], first["unit_as_given"]) == (1500.0, "kg")
    assert first["evidence"] == "waste-2025.pdf"
    assert first["row"] == 2
    assert (first["period_start"], first["period_end"]) == (
        dt.date(2025, 1, 1),
        dt.date(2025, 12, 31),
    )


def test_kwh_become_thousands_of_kwh_for_company_energy_metrics(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(
        "code,title_en,title_zh,type,unit\n"
        "CO.dc_energy,Data-centre energy,数据中心能耗,number,1000 kWh\n",
        encoding="utf-8",
    )
    table = check([row("CO.dc_energy", "2500", unit="kWh")], load_catalogue(path))
    assert table.column("value").to_pylist() == [2.5]


def test_text_table_and_periods(catalogue: Catalogue) -> None:
    table = check(
        [
            {"metric": "B7.2", "entity": "HK1", "year": 2025, "text": "Whistle-blowing hotline"},
            row("B1.1", "120", breakdown=" region=CN ; gender=female"),
            row("B1.1", "80", breakdown="gender=male;region=CN"),
            {
                "metric": "A1.4",
                "entity": "GRP",
                "period_start": "2025-01-01",
                "period_end": dt.date(2025, 6, 30),
                "value": 3,
                "unit": "t",
            },
        ],
        catalogue,
    )
    rows = table.to_pylist()
    assert rows[0]["text"] == "Whistle-blowing hotline"
    assert rows[0]["value"] is None
    assert rows[1]["breakdown"] == "gender=female;region=CN"
    assert rows[3]["period_end"] == dt.date(2025, 6, 30)


def test_earlier_years_are_accepted_only_when_allowed(catalogue: Catalogue) -> None:
    prior = [{**row("A1.3", "1", unit="t"), "year": 2024}]
    assert check(prior, catalogue, earlier_years=1).num_rows == 1
    with pytest.raises(InputError, match="outside the reporting year 2025"):
        check(prior, catalogue)


def test_every_problem_is_collected_in_one_error(catalogue: Catalogue) -> None:
    rows = [
        row("A1.2", "1", unit="t"),
        {**row("A1.3", "1", unit="kWh"), "entity": "GRX"},
        row("A1.3", None, text="a lot"),
        row("A1.33", "1"),
        row("B1.1", "5", breakdown="gender"),
        row("A1.4", "1", unit="t"),
        row("A1.4", "2", unit="t"),
        row("B7.2", "3"),
        {"metric": "A1.4", "entity": "GRP", "value": "1", "unit": "t"},
        row("A1.4", "1,200", unit="t", breakdown="site=SZ"),
        {**row("A1.4", "1", unit="t"), "period_start": "2025-05-01", "period_end": "2025-04-01"},
        row("revenue", "5", unit="t"),
        row("B6.1", "5", unit="kg"),
    ]
    with pytest.raises(InputError, match="metric values was rejected: 13 problem") as caught:
        check(rows, catalogue)
    by_row = {}
    for issue in caught.value.issues:
        by_row.setdefault(issue.row, []).append(issue)
    assert by_row[2][0].problem == "A1.2 is computed from the inventory; remove the row"
    assert [i.column for i in by_row[3]] == ["entity", "unit"]
    assert by_row[3][0].fix == "did you mean 'GRP'? use an entity code of entities.csv"
    assert by_row[3][1].problem == "the unit does not have the dimension of t"
    assert by_row[4][0].problem == "text for a number metric (A1.3)"
    assert by_row[5][0].fix.startswith("did you mean 'A1.3'?")
    assert by_row[6][0].problem == "'gender' is not key=value"
    assert "duplicate of row 7" in by_row[8][0].problem
    assert by_row[9][0].problem == "B7.2 is a text metric"
    assert by_row[10][0].problem == "no period"
    assert by_row[11][0].problem == "not a number: it contains a comma"
    assert by_row[12][0].problem == "the period ends before it starts"
    assert by_row[13][0].problem == "the unit is not an amount of one currency ([currency])"
    assert by_row[13][0].fix == "give revenue in a currency (CNY, HKD, USD, 万元 ...)"
    assert by_row[14][0].problem == "the metric has no unit (it is counted in %)"
    assert by_row[14][0].fix == "leave the unit empty or write % for B6.1"


def test_targets_typed_in_are_refused(catalogue: Catalogue) -> None:
    with pytest.raises(
        InputError, match=r"D\.targets is computed from the targets; remove the row"
    ):
        check([row("D.targets", "30")], catalogue)


def test_arrow_input_and_first_row(catalogue: Catalogue) -> None:
    table = pa.table({"metric": ["A1.3"], "entity": ["GRP"], "year": ["2031"], "value": ["1"]})
    with pytest.raises(InputError, match=r"data.parquet, row 1, column 'year'") as caught:
        validate_values(
            table,
            catalogue,
            entities={"GRP"},
            reporting_year=2025,
            file="data.parquet",
            first_row=1,
        )
    assert [i.column for i in caught.value.issues] == ["year", "unit"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gender=female; age=<30", {"gender": "female", "age": "<30"}),
        ("", {}),
        (None, {}),
        ("region=CN;", {"region": "CN"}),
    ],
)
def test_parse_breakdown(text: str | None, expected: dict[str, str]) -> None:
    assert parse_breakdown(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("gender=", "'gender=' is not key=value"),
        ("Gender=female", "key 'Gender' is not a lower-case word"),
        ("a=1;a=2", "key 'a' appears twice"),
        ("a=b=c", "'a=b=c' is not key=value"),
    ],
)
def test_parse_breakdown_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_breakdown(text)


def test_format_breakdown_is_canonical() -> None:
    assert format_breakdown({"region": "CN", "age": "<30"}) == "age=<30;region=CN"


def test_value_columns_come_from_the_schema_file() -> None:
    columns = value_columns()
    assert list(columns)[:3] == ["metric", "entity", "year"]
    assert columns["value"][0] == "数值"


# ---- issue 11, defect 7: values below zero where the metric cannot be negative -----------


@pytest.mark.parametrize(
    ("metric", "value", "unit"),
    [
        ("employees", "-5", ""),  # headcount
        ("A1.4", "-1500", "kg"),  # waste
        ("B2.2", "-3", "day"),  # days lost
        ("revenue", "-1", "CNY"),
        ("B6.1", "-0.5", "%"),
    ],
)
def test_a_negative_value_is_refused_where_the_metric_cannot_be_negative(
    catalogue: Catalogue, metric: str, value: str, unit: str
) -> None:
    with pytest.raises(InputError) as caught:
        check([row(metric, value, unit=unit)], catalogue)
    (issue,) = caught.value.issues
    assert (issue.row, issue.column, issue.value) == (2, "value", value)
    assert issue.problem == f"{metric} cannot be negative"


@pytest.mark.parametrize("metric", sorted(disclosure.catalogue.negative_allowed()))
def test_a_reduction_or_net_figure_may_be_negative(catalogue: Catalogue, metric: str) -> None:
    item = catalogue[metric]
    assert item.may_be_negative
    unit = {"tonne": "t", "GJ": "GJ", "ML": "ML"}.get(item.unit, item.unit_label_en)
    table = check([row(metric, "-10", unit=unit)], catalogue)
    assert table.column("value_as_given").to_pylist() == [-10.0]


def test_negative_allowed_lists_only_number_items_of_the_catalogue() -> None:
    shipped = load_catalogue()
    for code in disclosure.catalogue.negative_allowed():
        assert shipped[code].type in ("number", "table"), code
        assert not shipped[code].is_derived, code


def test_a_company_metric_may_be_negative_only_when_it_says_so(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    path.write_text(
        "code,title_en,title_zh,type,unit,unit_label_en,unit_label_zh,may_be_negative\n"
        "CO.net_cash,Net cash flow,净现金流,number,[currency],,,yes\n"
        "CO.donations,Donations,捐赠,number,[currency],,,\n",
        encoding="utf-8",
    )
    own = load_catalogue(path)
    assert check([row("CO.net_cash", "-5", unit="CNY")], own).num_rows == 1
    with pytest.raises(InputError, match=r"CO\.donations cannot be negative"):
        check([row("CO.donations", "-5", unit="CNY")], own)


def test_a_company_metric_with_a_bad_may_be_negative_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    path.write_text(
        "code,title_en,title_zh,type,unit,may_be_negative\nCO.x,X,某指标,number,t,sometimes\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        load_catalogue(path)
    assert [i.column for i in caught.value.issues] == ["may_be_negative"]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("1_000", "not a number: it contains an underscore"),
        ("1,000", "not a number: it contains a comma"),
        ("0x10", "not a number: hexadecimal, binary and octal numbers are not accepted"),
        ("inf", "not a finite number"),
        ("1e999", "not a finite number"),
    ],
)
def test_metric_values_follow_the_number_grammar(
    catalogue: Catalogue, value: str, problem: str
) -> None:
    with pytest.raises(InputError) as caught:
        check([row("A1.4", value, unit="t")], catalogue)
    assert [i.problem for i in caught.value.issues] == [problem]


def test_a_year_follows_the_number_grammar(catalogue: Catalogue) -> None:
    with pytest.raises(InputError, match="not a date or year"):
        check([{**row("A1.4", "1", unit="t"), "year": "2_025"}], catalogue)
