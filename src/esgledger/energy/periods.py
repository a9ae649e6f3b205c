"""Reporting periods in a site's local calendar dates.

Stand-in written by the baseline helper against the issue-14 contract (the lead owns this
module); the lead's ``energy core:`` version replaces it on merge.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from esgledger.errors import InputError

__all__ = ["Period", "parse_period"]


@dataclass(frozen=True)
class Period:
    """``start`` .. ``end`` (inclusive), local calendar dates at the site."""

    start: date
    end: date
    label: str
    kind: Literal["Y", "M", "D", "R"]

    @property
    def days(self) -> int:
        """Number of calendar days, both ends included."""
        return (self.end - self.start).days + 1


_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2}):(\d{4}-\d{2}-\d{2})$")


def parse_period(text: str) -> Period:
    """``2024``, ``2024-03`` or ``2024-01-01:2024-06-30``."""
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}", text):
            year = int(text)
            return Period(date(year, 1, 1), date(year, 12, 31), text, "Y")
        if re.fullmatch(r"\d{4}-\d{2}", text):
            year, month = int(text[:4]), int(text[5:])
            last = calendar.monthrange(year, month)[1]
            return Period(date(year, month, 1), date(year, month, last), text, "M")
        match = _RANGE.match(text)
        if match:
            start = date.fromisoformat(match.group(1))
            end = date.fromisoformat(match.group(2))
            if end < start:
                raise InputError(f"period {text!r} ends before it starts")
            kind: Literal["D", "R"] = "D" if start == end else "R"
            return Period(start, end, text, kind)
    except ValueError as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"not a period: {text!r} ({exc})") from exc
    raise InputError(f"not a period: {text!r}; use 2024, 2024-03 or 2024-01-01:2024-06-30")
