"""Reading one row of a planner or offsets file (canonical column names, string values),
collecting every problem as an :class:`~esgledger.errors.Issue` instead of stopping at the
first."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from esgledger.errors import Issue


@dataclass(slots=True)
class RowReader:
    """Typed access to one row; problems land in ``issues`` (shared across rows)."""

    file: str
    number: int
    row: Mapping[str, object]
    issues: list[Issue] = field(default_factory=list)

    def add(self, column: str | None, value: str | None, problem: str, fix: str) -> None:
        self.issues.append(Issue(self.file, self.number, column, value, problem, fix))

    def text(self, column: str) -> str:
        value = self.row.get(column)
        return "" if value is None else str(value).strip()

    def required(self, *columns: str) -> bool:
        """Record an issue for each empty required column; True when all are filled."""
        missing = [c for c in columns if not self.text(c)]
        for column in missing:
            self.add(column, None, "required value is empty", f"fill in {column}")
        return not missing

    def decimal(self, column: str, default: str = "") -> float:
        raw = self.text(column) or default
        try:
            value = float(raw)
        except ValueError:
            self.add(column, raw, "not a number", f"write {column} as a number")
            return math.nan
        if not math.isfinite(value):
            self.add(column, raw, "not a finite number", f"write {column} as a number")
            return math.nan
        return value

    def integer(self, column: str, default: str = "") -> int | None:
        value = self.decimal(column, default)
        if math.isnan(value):
            return None
        if not value.is_integer():
            self.add(
                column, self.text(column), "not a whole number", f"write {column} as a whole number"
            )
            return None
        return int(value)

    def day(self, column: str) -> date | None:
        raw = self.text(column)
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self.add(column, raw, "not a date", f"write {column} as YYYY-MM-DD")
            return None
