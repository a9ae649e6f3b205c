"""Reporting periods of the energy KPIs: local calendar dates at a site.

能源指标的统计期：站点当地日历日期。

Every energy KPI is a ratio over a coincident period (The Green Grid WP#49 §6.6; ISO/IEC
30134-2): a year, a month, a day or any range of whole local days. :func:`parse_period`
reads the command-line forms ``2024``, ``2024-03``, ``2024-03-05`` and
``2024-01-01:2024-06-30``; :func:`rolling_12_months` is the headline period of the KPIs.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from esgledger.errors import InputError, Issue, shown

__all__ = ["Period", "PeriodKind", "parse_period", "rolling_12_months"]

#: ``Y`` a calendar year, ``M`` a month, ``D`` a day, ``R`` any other range of days.
PeriodKind = Literal["Y", "M", "D", "R"]

_YEAR = re.compile(r"\d{4}")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_FIX = "write a year (2024), a month (2024-03), a day (2024-03-05) or a range 2024-01-01:2024-06-30"


@dataclass(frozen=True, slots=True)
class Period:
    """Whole local days ``start`` to ``end`` (both included) at a site."""

    start: date
    end: date
    label: str
    kind: PeriodKind

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")

    @property
    def days(self) -> int:
        """The number of days in the period."""
        return (self.end - self.start).days + 1

    @property
    def end_exclusive(self) -> date:
        """The day after the period's last day."""
        return self.end + timedelta(days=1)

    @property
    def green_grid_letter(self) -> str:
        """The period letter of The Green Grid's PUE notation: ``Y`` (a year or 12 months),
        ``M`` (a month), ``W`` (a week), ``D`` (a day); a range is named by its length."""
        if self.kind in ("Y", "M", "D"):
            return self.kind
        if self.days >= 365:
            return "Y"
        if self.days >= 28:
            return "M"
        if self.days >= 7:
            return "W"
        return "D"

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31), f"{year:04d}", "Y")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        last = calendar.monthrange(year, month)[1]
        return cls(date(year, month, 1), date(year, month, last), f"{year:04d}-{month:02d}", "M")


def _bad(text: str, problem: str) -> InputError:
    return InputError(
        f"the period {shown(text)} {problem}: {_FIX}",
        [Issue("", None, "period", text, problem, _FIX)],
    )


def _day(text: str, whole: str) -> date:
    if not _DAY.fullmatch(text):
        raise _bad(whole, "is not a date")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _bad(whole, "is not a calendar date") from None


def parse_period(text: str) -> Period:
    """The period written ``text`` (see the module docstring).

    Raises
    ------
    InputError
        For any other form, an impossible date or a range that ends before it starts.
    """
    value = text.strip()
    if _YEAR.fullmatch(value):
        return Period.year(int(value))
    if match := _MONTH.fullmatch(value):
        month = int(match.group(2))
        if not 1 <= month <= 12:
            raise _bad(text, "is not a month")
        return Period.month(int(match.group(1)), month)
    if _DAY.fullmatch(value):
        day = _day(value, text)
        return Period(day, day, value, "D")
    if value.count(":") == 1:
        first, last = (part.strip() for part in value.split(":"))
        start, end = _day(first, text), _day(last, text)
        if end < start:
            raise _bad(text, "ends before it starts")
        return Period(start, end, f"{start.isoformat()}:{end.isoformat()}", "R")
    raise _bad(text, "is not a period")


def rolling_12_months(end: date) -> Period:
    """The twelve whole months ending with the month of ``end`` (the KPIs' headline)."""
    first_month = end.month + 1
    year = end.year - 1
    if first_month == 13:
        first_month, year = 1, end.year
    last = calendar.monthrange(end.year, end.month)[1]
    start = date(year, first_month, 1)
    finish = date(end.year, end.month, last)
    return Period(start, finish, f"{start.isoformat()}:{finish.isoformat()}", "R")
