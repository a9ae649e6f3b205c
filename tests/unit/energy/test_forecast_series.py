"""From rollup tables to forecastable series: meters and daily PUE, nothing filled."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from _energy_forecast import hourly_series, rollup_rows
from esgledger.energy.forecast import (
    ForecastArgumentError,
    SeasonalNaiveModel,
    daily_pue_series,
    drop_short,
    forecast,
    meter_series,
    parse_span,
    required_history,
    span_steps,
)
from esgledger.energy.forecast_chart import forecast_chart
from esgledger.i18n import Text

NAN = float("nan")


def _hourly_rollup(values: list[float], meter: str = "M1", unit: str = "kWh") -> pa.Table:
    n = len(values)
    utc = pd.date_range("2024-03-01", periods=n, freq="h")
    q = pd.Series(values, dtype=float)
    return pa.Table.from_pandas(
        pd.DataFrame(
            {
                "site": "DC1",
                "meter": meter,
                "role": "incomer",
                "unit": unit,
                "period_start_utc": utc,
                "period_local": utc + pd.Timedelta(hours=8),
                "quantity": q,
                "expected_intervals": 4,
                "intervals": np.where(q.isna(), 3, 4),
                "flagged": 0,
                "estimated": False,
                "coverage": np.where(q.isna(), 0.75, 1.0),
            }
        ),
        preserve_index=False,
    )


def test_meter_series_keeps_the_stretch_after_the_latest_gap() -> None:
    values = [float(v) for v in range(1, 21)]
    values[5] = NAN
    table = pa.concat_tables([_hourly_rollup(values), _hourly_rollup([1.0] * 20, "W1", "L")])
    series, findings = meter_series(table, "hour")
    frame = series.to_pandas()
    assert list(frame.columns) == ["series_id", "ts", "energy_kwh"]
    assert frame["series_id"].unique().tolist() == ["M1"]  # the water meter is left out
    assert frame["energy_kwh"].tolist() == values[6:]
    # ts is the UTC period start for hourly series.
    assert frame["ts"].iloc[0] == pd.Timestamp("2024-03-01 06:00")
    codes = [f.code for f in findings]
    assert codes == ["energy.forecast.not_energy", "energy.forecast.history_cut"]


def test_a_missing_period_row_cuts_the_history_too() -> None:
    table = _hourly_rollup([float(v) for v in range(1, 13)])
    table = table.filter(pa.array([i != 7 for i in range(12)]))
    series, findings = meter_series(table, "hour")
    # Values 1..12 with the row of value 8 missing: the stretch after it is 9..12.
    assert series.column("energy_kwh").to_pylist() == [9.0, 10.0, 11.0, 12.0]
    assert [f.code for f in findings] == ["energy.forecast.history_cut"]


def test_history_keeps_only_the_latest_points() -> None:
    series, findings = meter_series(
        _hourly_rollup([float(v) for v in range(30)]), "hour", history=5
    )
    assert series.column("energy_kwh").to_pylist() == [25.0, 26.0, 27.0, 28.0, 29.0]
    assert findings == ()


@dataclass(frozen=True)
class TreeMeter:
    meter: str
    role: str
    parent: str | None = None
    site: str = "DC1"


def _tree(meters: dict[str, tuple[str, str]], parents: dict[str, str] | None = None) -> list:
    parents = parents or {}
    return [TreeMeter(m, role, parents.get(m)) for m, (role, _unit) in meters.items()]


def test_daily_pue_is_incomer_over_the_most_downstream_it_role() -> None:
    meters = {
        "INC": ("incomer", "kWh"),
        "UPS": ("ups_output", "kWh"),
        "PDU-A": ("pdu_output", "kWh"),
        "PDU-B": ("pdu_output", "kWh"),
    }
    values = {
        "INC": [1500.0, 1400.0, 1300.0, 1200.0],
        "UPS": [1100.0] * 4,
        "PDU-A": [600.0, 500.0, 500.0, 400.0],
        "PDU-B": [400.0, 500.0, NAN, 400.0],
    }
    tree = _tree(meters, {"UPS": "INC", "PDU-A": "UPS", "PDU-B": "UPS"})
    table = pa.Table.from_pandas(rollup_rows(meters, 4, values), preserve_index=False)
    series, findings = daily_pue_series(table, tree)
    frame = series.to_pandas()
    # Day 3 has an incomplete PDU-B, so only day 4 follows the cut: 1200 / (400 + 400).
    assert frame["pue"].tolist() == [pytest.approx(1.5)]
    assert frame["ts"].tolist() == [pd.Timestamp("2024-03-04")]
    assert [f.code for f in findings] == ["energy.forecast.history_cut"]
    complete = {**values, "PDU-B": [400.0, 500.0, 500.0, 400.0]}
    table = pa.Table.from_pandas(rollup_rows(meters, 4, complete), preserve_index=False)
    series, findings = daily_pue_series(table, tree)
    assert series.column("pue").to_pylist() == pytest.approx([1.5, 1.4, 1.3, 1.5])
    assert series.column("series_id").to_pylist() == ["DC1"] * 4
    assert findings == ()


def test_daily_pue_without_it_meters_is_a_finding_not_a_number() -> None:
    table = rollup_rows({"INC": ("incomer", "kWh")}, 3, {"INC": [1.0, 2.0, 3.0]})
    series, findings = daily_pue_series(
        pa.Table.from_pandas(table, preserve_index=False), [TreeMeter("INC", "incomer")]
    )
    assert series.num_rows == 0
    assert [f.code for f in findings] == ["energy.forecast.pue_unmetered"]


def test_daily_pue_does_not_count_a_sub_meter_of_the_same_role_twice() -> None:
    # INC-A (incomer) → INC-B (incomer, a sub-meter of part of its feed) → IT (it_input) →
    # IT-R1 and IT-R2 (it_input, rack sub-meters of IT). E_DC = INC-A only, E_IT = IT only.
    meters = {
        "INC-A": ("incomer", "kWh"),
        "INC-B": ("incomer", "kWh"),
        "IT": ("it_input", "kWh"),
        "IT-R1": ("it_input", "kWh"),
        "IT-R2": ("it_input", "kWh"),
    }
    values = {
        "INC-A": [1400.0, 1300.0, 1500.0],
        "INC-B": [900.0, 800.0, 1000.0],
        "IT": [1000.0, 1000.0, 1000.0],
        "IT-R1": [600.0, 550.0, 500.0],
        "IT-R2": [400.0, 450.0, 500.0],
    }
    tree = _tree(meters, {"INC-B": "INC-A", "IT": "INC-B", "IT-R1": "IT", "IT-R2": "IT"})
    table = pa.Table.from_pandas(rollup_rows(meters, 3, values), preserve_index=False)
    series, findings = daily_pue_series(table, tree)
    # Summing every meter of a role would give (1400 + 900) / 2000 = 1.15 on day 1.
    assert series.column("pue").to_pylist() == pytest.approx([1.4, 1.3, 1.5])
    assert [f.code for f in findings] == ["energy.forecast.pue_sub_meters"]
    assert findings[0].data["meters"] == ["INC-B", "IT-R1", "IT-R2"]
    # An incomplete sub-meter day does not cut the series: only top meters must be complete.
    holed = {**values, "IT-R2": [400.0, NAN, 500.0]}
    table = pa.Table.from_pandas(rollup_rows(meters, 3, holed), preserve_index=False)
    series, _ = daily_pue_series(table, tree)
    assert series.column("pue").to_pylist() == pytest.approx([1.4, 1.3, 1.5])
    # A missing top meter day does.
    holed = {**values, "IT": [1000.0, NAN, 1000.0]}
    table = pa.Table.from_pandas(rollup_rows(meters, 3, holed), preserve_index=False)
    series, _ = daily_pue_series(table, tree)
    assert series.column("pue").to_pylist() == pytest.approx([1.5])


def test_daily_pue_refuses_a_rollup_meter_outside_the_tree() -> None:
    table = rollup_rows({"INC": ("incomer", "kWh"), "IT": ("it_input", "kWh")}, 2,
                        {"INC": [1.0, 2.0], "IT": [1.0, 1.0]})  # fmt: skip
    with pytest.raises(ForecastArgumentError, match="IT"):
        daily_pue_series(
            pa.Table.from_pandas(table, preserve_index=False), [TreeMeter("INC", "incomer")]
        )


def test_short_series_are_left_out_by_name() -> None:
    data = hourly_series(("long", "short"), weeks=2)
    data = data[(data["series_id"] == "long") | (data.index % 336 < 100)]
    need = required_history([SeasonalNaiveModel()], "hour")
    assert need == 169
    kept, findings = drop_short(pa.Table.from_pandas(data), need, Text("Meter", "计量表"))
    assert set(kept.column("series_id").to_pylist()) == {"long"}
    assert findings[0].data == {"series_id": "short", "points": 100, "need": 169}
    assert required_history([SeasonalNaiveModel()], "hour", h=24, n_windows=3) == 169 + 72


@pytest.mark.parametrize(
    ("text", "grain", "steps"),
    [("48h", "hour", 48), ("7d", "hour", 168), ("2w", "day", 14), ("90min", "15min", 6)],
)
def test_spans(text: str, grain: str, steps: int) -> None:
    assert span_steps(text, grain) == steps  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "h", "0h", "-3d", "1.5h", "3y"])
def test_bad_spans_are_refused(text: str) -> None:
    with pytest.raises(ForecastArgumentError):
        parse_span(text)
    with pytest.raises(ForecastArgumentError):
        span_steps("90min", "hour")


@pytest.mark.parametrize(
    ("lang", "title"), [("en", "Forecast of m1 (SeasonalNaive)"), ("zh-CN", "m1 的预测")]
)
def test_chart_is_svg_with_labels_in_the_language(lang: str, title: str) -> None:
    data = hourly_series(("m1",), weeks=3)
    result = forecast(data, [SeasonalNaiveModel()], h=24)
    svg = forecast_chart(pa.Table.from_pandas(data), result, "m1", lang=lang)
    assert svg.startswith(b"<?xml")
    assert title.encode() in svg
    assert ("95" + (" %" if lang == "en" else "%")).encode() in svg
    again = forecast_chart(pa.Table.from_pandas(data), result, "m1", lang=lang)
    assert svg == again
