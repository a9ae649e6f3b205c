"""The error tree: builtin compatibility, issue formatting and the CSV report."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from esgledger.errors import (
    EsgledgerError,
    FactorNotFoundError,
    InputError,
    Issue,
    StrictFallbackError,
    UnitError,
    WorkspaceError,
)


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (InputError("x"), ValueError),
        (UnitError("x"), ValueError),
        (FactorNotFoundError("x", activity="a"), LookupError),
        (StrictFallbackError("x", activity="a"), LookupError),
        (WorkspaceError("x"), RuntimeError),
    ],
)
def test_every_error_is_also_the_builtin_a_caller_expects(
    error: EsgledgerError, builtin: type[Exception]
) -> None:
    assert isinstance(error, EsgledgerError)
    assert isinstance(error, builtin)


def test_issue_names_file_row_column_value_problem_and_fix() -> None:
    issue = Issue("a.csv", 7, "unit", "kWhh", "unknown unit", "use kWh or MWh")
    assert (
        str(issue)
        == "a.csv, row 7, column 'unit': unknown unit (value: 'kWhh'). Fix: use kWh or MWh"
    )


def test_issue_without_row_or_value_reads_naturally() -> None:
    assert str(Issue("a.csv", None, None, None, "the file is empty")) == "a.csv: the file is empty"


def test_input_error_message_caps_the_listing_but_counts_everything() -> None:
    issues = [Issue("a.csv", n, "quantity", "x", "not a number") for n in range(2, 32)]
    error = InputError("a.csv was rejected", issues, total=1000)
    lines = str(error).splitlines()
    assert lines[0] == "a.csv was rejected"
    assert len(lines) == 1 + 20 + 1
    assert lines[-1] == "  ... and 980 more issue(s)"


def test_report_csv_round_trips_chinese_text(tmp_path: Path) -> None:
    error = InputError("rejected", [Issue("数据.csv", 3, "单位", "吨吨", "未知单位", "改为 吨")])
    path = tmp_path / "report.csv"
    error.write_report(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert rows == [
        {
            "file": "数据.csv",
            "row": "3",
            "column": "单位",
            "value": "吨吨",
            "problem": "未知单位",
            "fix": "改为 吨",
        }
    ]


def test_issue_without_a_file_does_not_start_with_a_comma() -> None:
    # `esgledger explain WS NOPE-1` printed ", column 'record_id': no such record" (issue 10).
    issue = Issue("", None, "record_id", "NOPE-1", "no such record")
    assert str(issue) == "column 'record_id': no such record (value: 'NOPE-1')"
    assert str(Issue("", None, None, "x", "unknown import kind")) == (
        "unknown import kind (value: 'x')"
    )
