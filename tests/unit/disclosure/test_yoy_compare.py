"""Year-on-year change and intensities."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pytest

from esgledger.disclosure.compare import compare_years, intensity, yoy, yoy_intensity


def test_yoy_absolute_and_percent() -> None:
    change = yoy(90.0, 120.0, metric="A1.3", unit="tonne")
    assert change.absolute == -30.0
    assert change.percent == -25.0
    assert change.note == ""


def test_yoy_from_a_negative_prior_uses_its_magnitude() -> None:
    assert yoy(-50.0, -100.0).percent == 50.0


@pytest.mark.parametrize(
    ("current", "prior", "note"),
    [
        (5.0, None, "no value for the prior year"),
        (None, 5.0, "no value for the current year"),
        (None, None, "no value for the current and prior year"),
    ],
)
def test_yoy_missing_years(current: float | None, prior: float | None, note: str) -> None:
    change = yoy(current, prior)
    assert (change.absolute, change.percent, change.note) == (None, None, note)


def test_yoy_from_zero_has_no_percent() -> None:
    change = yoy(3.0, 0.0)
    assert (change.absolute, change.percent) == (3.0, None)
    assert change.note == "the prior value is 0: no relative change"


def test_intensity() -> None:
    assert intensity(1500.0, 3.0) == 500.0
    assert intensity(1500.0, 0.0) is None
    assert intensity(None, 3.0) is None


def rows(*items: tuple[str, int, float, str, str]) -> list[dict[str, Any]]:
    return [
        {
            "metric": metric,
            "entity": "GRP",
            "period_start": dt.date(year, 1, 1),
            "period_end": dt.date(year, 12, 31),
            "breakdown": breakdown,
            "value": value,
            "unit": unit,
        }
        for metric, year, value, unit, breakdown in items
    ]


def test_compare_years_matches_metric_entity_and_breakdown() -> None:
    data = rows(
        ("CO.minors.gaming_time_share", 2025, 0.4, "", ""),
        ("CO.minors.gaming_time_share", 2024, 0.8, "", ""),
        ("B1.1", 2025, 110.0, "", "gender=female"),
        ("B1.1", 2024, 100.0, "", "gender=female"),
        ("B1.1", 2025, 90.0, "", "gender=male"),
        ("A1.3", 2025, 2.0, "tonne", ""),
        ("A1.3", 2024, 2000.0, "kg", ""),
    )
    data.append({**data[0], "period_end": dt.date(2025, 6, 30), "value": 99.0})  # half year
    changes = {(c.metric, c.breakdown): c for c in compare_years(pa.Table.from_pylist(data), 2025)}
    minors = changes[("CO.minors.gaming_time_share", "")]
    assert minors.percent == pytest.approx(-50.0, rel=1e-12)
    assert changes[("B1.1", "gender=female")].percent == pytest.approx(10.0, rel=1e-12)
    assert changes[("B1.1", "gender=male")].note == "no value for the prior year"
    assert changes[("A1.3", "")].note.startswith("units differ ('kg' in 2024, 'tonne' in 2025)")
    only = compare_years(data, 2025, 2024, metrics=["B1.1"])
    assert {c.metric for c in only} == {"B1.1"}


def test_intensity_change_uses_each_years_own_denominator() -> None:
    # 4,000 t on 500 million CNY (8 t/million) against 4,000 t on 400 million (10 t/million)
    change = yoy_intensity(4000.0, 500.0, 4000.0, 400.0, metric="A1.2")
    assert (change.current, change.prior) == (8.0, 10.0)
    assert change.percent == pytest.approx(-20.0, rel=1e-12)
    missing = yoy_intensity(4000.0, 500.0, 4000.0, None)
    assert missing.percent is None
    assert missing.note == "no (or a zero) denominator for the prior year"
