"""Reporting periods of the energy KPIs: the command-line forms and the Green Grid letter."""

from __future__ import annotations

from datetime import date

import pytest

from esgledger.energy.periods import Period, parse_period, rolling_12_months
from esgledger.errors import InputError


@pytest.mark.parametrize(
    ("text", "start", "end", "kind", "letter"),
    [
        ("2024", date(2024, 1, 1), date(2024, 12, 31), "Y", "Y"),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29), "M", "M"),
        ("2023-02", date(2023, 2, 1), date(2023, 2, 28), "M", "M"),
        ("2024-03-05", date(2024, 3, 5), date(2024, 3, 5), "D", "D"),
        ("2024-01-01:2024-06-30", date(2024, 1, 1), date(2024, 6, 30), "R", "M"),
        ("2024-01-01:2024-01-07", date(2024, 1, 1), date(2024, 1, 7), "R", "W"),
        (" 2023-07-01 : 2024-06-30 ", date(2023, 7, 1), date(2024, 6, 30), "R", "Y"),
    ],
)
def test_forms(text: str, start: date, end: date, kind: str, letter: str) -> None:
    period = parse_period(text)
    assert (period.start, period.end, period.kind) == (start, end, kind)
    assert period.green_grid_letter == letter
    assert period.days == (end - start).days + 1


@pytest.mark.parametrize(
    "text", ["24", "2024-13", "2024-02-30", "2024-06-30:2024-01-01", "last year", "2024-1-1", ""]
)
def test_refused_forms_name_the_value_and_the_fix(text: str) -> None:
    with pytest.raises(InputError) as info:
        parse_period(text)
    (issue,) = info.value.issues
    assert issue.column == "period"
    assert issue.value == text
    assert "2024-01-01:2024-06-30" in issue.fix


def test_rolling_12_months_ends_with_the_month_of_the_day() -> None:
    period = rolling_12_months(date(2024, 6, 15))
    assert (period.start, period.end) == (date(2023, 7, 1), date(2024, 6, 30))
    assert period.green_grid_letter == "Y"
    december = rolling_12_months(date(2024, 12, 1))
    assert (december.start, december.end) == (date(2024, 1, 1), date(2024, 12, 31))


def test_a_period_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        Period(date(2024, 2, 1), date(2024, 1, 1), "x", "R")
