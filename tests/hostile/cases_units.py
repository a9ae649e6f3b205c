"""Unit strings that crashed pint's parser (issue 11, defect 9), in every import kind that
reads a unit or a dimension.

Each payload must end in exit 2 with a row-level "unknown unit" (or "unknown dimension")
naming the file's row and column; never a traceback (ZeroDivisionError, TokenError,
AssertionError, OverflowError, RecursionError were raised before the guard of
:func:`esgledger.units.check_unit_grammar`). Each kind also has a control case with a good
unit that lands (exit 0), so a refusal is known to come from the unit.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

from hostile._corpus import Case

#: Unit texts that crashed the parser, and a few that were accepted though not units.
PAYLOADS: dict[str, str] = {
    "division-by-zero": "kWh/0",
    "open-parenthesis": "(",
    "empty-parentheses": "()",
    "python-code": '__import__("os").system("id")',
    "huge-exponent": "kWh**1000000",
    "float-exponent": "kWh**1e10",
    "2000-factors": "*".join(["kWh"] * 2000),
    "deep-parentheses": "(" * 200 + "kWh" + ")" * 200,
    "infinite-scale": "inf kWh",
    "huge-scale": "1e308 kWh",
    "statement": "kWh; 1",
}


def _csv(name: str, header: list[str], *rows: dict[str, str]) -> Callable[[Path], Path]:
    """A builder of a CSV file with proper quoting (payloads hold quotes and commas)."""

    def build(folder: Path) -> Path:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        path = folder / name
        path.write_text(buffer.getvalue(), encoding="utf-8")
        return path

    return build


def _activities(unit: str) -> Callable[[Path], Path]:
    header = ["record_id", "entity", "site", "period_start", "period_end", "activity"]
    header += ["quantity", "unit"]
    row = {
        "record_id": "R1", "entity": "CLOUD", "site": "DC-TJ", "period_start": "2024-01-01",
        "period_end": "2024-01-31", "activity": "electricity", "quantity": "100", "unit": unit,
    }  # fmt: skip
    return _csv("activities.csv", header, row)


def _factors(unit: str) -> Callable[[Path], Path]:
    header = ["factor", "activity", "region", "year", "unit", "co2_kg", "method", "source"]
    row = {
        "factor": "acme:tj:2024", "activity": "electricity", "region": "CN-TJ", "year": "2024",
        "unit": unit, "co2_kg": "0.5", "method": "location", "source": "ACME grid study",
    }  # fmt: skip
    return _csv("factors.csv", header, row)


def _metric_values(unit: str) -> Callable[[Path], Path]:
    header = ["metric", "entity", "year", "value", "unit"]
    row = {"metric": "A1.3", "entity": "GRP", "year": "2024", "value": "100", "unit": unit}
    return _csv("metric-values.csv", header, row)


def _metrics(unit: str) -> Callable[[Path], Path]:
    header = ["code", "title_en", "title_zh", "type", "unit"]
    row = {"code": "acme.water", "title_en": "Water", "title_zh": "水", "type": "number"}
    return _csv("metrics.csv", header, {**row, "unit": unit})


def _targets(unit: str) -> Callable[[Path], Path]:
    header = ["id", "name", "kind", "scopes", "base_year", "target_year", "reduction"]
    header += ["base_emissions_t_co2e", "denominator", "denominator_unit", "base_denominator"]
    row = {
        "id": "T1", "name": "Intensity", "kind": "intensity", "scopes": "1+2",
        "base_year": "2020", "target_year": "2030", "reduction": "0.5",
        "base_emissions_t_co2e": "1000", "denominator": "revenue", "denominator_unit": unit,
        "base_denominator": "100",
    }  # fmt: skip
    return _csv("targets.csv", header, row)


def _activity_types(dimension: str) -> Callable[[Path], Path]:
    header = ["activity", "name", "dimension", "scope"]
    row = {"activity": "acme.heat", "name": "Heat", "dimension": dimension, "scope": "1"}
    return _csv("activity-types.csv", header, row)


#: kind, builder, a good unit, what the refusal says (row 2 is the first data row; metrics
#: and targets word "unknown unit" their own way).
_KINDS: list[tuple[str, Callable[[str], Callable[[Path], Path]], str, str]] = [
    ("activities", _activities, "MWh", "row 2, column 'unit': unknown unit"),
    ("factors", _factors, "kWh", "row 2, column 'unit': unknown unit"),
    ("metric-values", _metric_values, "kg", "row 2, column 'unit': unknown unit"),
    ("metrics", _metrics, "m3", "row 2, column 'unit': the unit is not one esgledger knows"),
    ("targets", _targets, "CNY million", "column 'denominator_unit': unknown denominator unit"),
]
#: Kinds whose text-length rule (60 characters) answers before the unit guard.
_LENGTH_FIRST = {"factors": 60, "activity-types": 200, "targets": 300}


def _says(kind: str, payload: str, says: str) -> str:
    if len(payload) > _LENGTH_FIRST.get(kind, len(payload)):
        return says.split(": ", 1)[0] + ": longer than"
    return says


CASES: list[Case] = []
for _kind, _build, _good, _text in _KINDS:
    CASES.append(Case(f"units-{_kind}-good-unit-lands", _build(_good), kind=_kind, expect=0))
    for _name, _payload in PAYLOADS.items():
        _case = Case(
            f"units-{_kind}-{_name}",
            _build(_payload),
            kind=_kind,
            says=_says(_kind, _payload, _text),
        )
        CASES.append(_case)

_DIMENSION_SAYS = "row 2, column 'dimension': not a dimension or unit pint knows (unknown dimension"
_DIMENSION_PAYLOADS = {
    "division-by-zero": "[energy]/0",
    "open-bracket": "[",
    "empty-brackets": "[]",
    "huge-exponent": "[energy]**1000000",
    "2000-factors": "*".join(["[energy]"] * 2000),
    "python-code": '[energy].__class__("x")',
}
CASES.append(
    Case(
        "units-activity-types-good-dimension-lands",
        _activity_types("[energy]"),
        kind="activity-types",
        expect=0,
    )
)
for _name, _payload in _DIMENSION_PAYLOADS.items():
    CASES.append(
        Case(
            f"units-activity-types-dimension-{_name}",
            _activity_types(_payload),
            kind="activity-types",
            says=_says("activity-types", _payload, _DIMENSION_SAYS),
        )
    )
