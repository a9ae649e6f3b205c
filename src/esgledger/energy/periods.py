"""Stand-in for the core's ``energy/periods.py`` (issue 14 contract); the core's wins on merge."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from esgledger.errors import InputError

__all__ = ["Period", "parse_period", "rolling_12_months"]


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    label: str
    kind: Literal["Y", "M", "D", "R"]

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def green_grid_letter(self) -> str:
        days = self.days
        if days >= 365:
            return "Y"
        if days >= 28:
            return "M"
        if days >= 7:
            return "W"
        return "D"


def parse_period(text: str) -> Period:
    try:
        if ":" in text:
            a, b = text.split(":", 1)
            return Period(date.fromisoformat(a), date.fromisoformat(b), text, "R")
        if len(text) == 4:
            y = int(text)
            return Period(date(y, 1, 1), date(y, 12, 31), text, "Y")
        if len(text) == 7:
            y, m = int(text[:4]), int(text[5:])
            last = calendar.monthrange(y, m)[1]
            return Period(date(y, m, 1), date(y, m, last), text, "M")
        d = date.fromisoformat(text)
        return Period(d, d, text, "D")
    except ValueError:
        raise InputError(f"not a period: {text!r}") from None


def rolling_12_months(end: date) -> Period:
    start = date(end.year - 1, end.month, 1) + timedelta(days=0)
    start = date(end.year, 1, 1) if end.month == 12 else date(end.year - 1, end.month + 1, 1)
    return Period(start, end, f"{start.isoformat()}:{end.isoformat()}", "R")
