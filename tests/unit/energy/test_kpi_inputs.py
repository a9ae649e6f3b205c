"""Pure parts of the workspace KPI path: rollup rows → meter totals, the REF claim from the
instrument register, activity rows and metered vs invoiced, the charts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pyarrow as pa
import pytest

from esgledger.energy.activities import compare, importable, rows_from_rollup
from esgledger.energy.charts import load_heatmap, pue_trend, waterfall
from esgledger.energy.kpi import compute_kpis
from esgledger.energy.kpi_service import (
    hourly_matrix,
    monthly_from_rollup,
    renewable_claim,
    site_inputs_from_rollup,
)
from esgledger.energy.periods import parse_period
from esgledger.renewables.instruments import Instrument


@dataclass(frozen=True)
class M:
    meter: str
    parent: str | None
    role: str
    fuel: str | None = None
    canonical_unit: str = "kWh"
    timezone: str = "Asia/Shanghai"


def rollup_rows(rows):
    """Rows (meter, role, month, quantity, expected intervals, coverage) as the contract's
    monthly rollup table."""
    return pa.Table.from_pylist(
        [
            {
                "site": "DC1",
                "meter": meter,
                "role": role,
                "unit": "kWh",
                "period_local": datetime(2024, month, 1),
                "quantity": q,
                "expected_intervals": e,
                "intervals": e,
                "coverage": c,
            }
            for meter, role, month, q, e, c in rows
        ]
    )


def test_totals_coverage_and_interval():
    meters = [M("INC", None, "incomer"), M("IT", "INC", "pdu_output"),
              M("GEN", None, "fuel", fuel="diesel"), M("CH", "INC", "cooling")]  # fmt: skip
    # January has 31 days: 2976 quarter hours; February 2024 has 29 days: 2784
    table = rollup_rows([
        ("INC", "incomer", 1, 100.0, 2976, 1.0),
        ("INC", "incomer", 2, 90.0, 2784, 0.5),
        ("IT", "pdu_output", 1, 70.0, 2976, 1.0),
        ("IT", "pdu_output", 2, None, 2784, 0.0),
        ("GEN", "fuel", 1, 99.0, 31, 1.0),  # 10 L diesel, converted by the core's rollup
    ])  # fmt: skip
    jan_feb = parse_period("2024-01-01:2024-02-29")
    inputs = site_inputs_from_rollup(table, meters, jan_feb)
    by = {t.meter: t for t in inputs.totals}
    assert by["INC"].quantity == 190.0
    assert by["INC"].coverage == pytest.approx((31 + 0.5 * 29) / 60)
    assert by["IT"].quantity == 70.0  # the unread month adds nothing; it lowers coverage
    assert by["IT"].coverage == pytest.approx(31 / 60)
    assert by["GEN"].quantity == pytest.approx(99.0)
    assert by["GEN"].coverage == pytest.approx(31 / 60)  # no row for February
    assert by["CH"].quantity is None  # a meter without any reading in the period
    assert by["CH"].coverage == 0.0
    assert inputs.interval_seconds == 900
    # without a period the bins present are the whole span
    assert site_inputs_from_rollup(table, meters).totals[0].coverage is not None


def instrument(**kw):
    base = {
        "instrument": "G1", "type": "gec", "technology": "wind", "country": "CN", "region": "CN",
        "period_start": date(2024, 1, 1), "period_end": date(2024, 12, 31), "mwh": 4000.0,
        "retired_on": date(2025, 3, 1), "retired_for": "DC1",
    }  # fmt: skip
    base.update(kw)
    return Instrument(**base)


def test_renewable_claim_counts_only_retired_for_the_site():
    year = parse_period("2024")
    claim = renewable_claim(
        [
            instrument(),
            instrument(instrument="G2", retired_for="DC2"),
            instrument(instrument="G3", retired_on=None),
            instrument(instrument="G4", attributes_sold=True),
        ],
        site="DC1",
        period=year,
        onsite_kwh=500_000.0,
    )
    assert claim.certificates_kwh == pytest.approx(4_000_000.0)
    assert claim.onsite_retained_kwh == 500_000.0
    assert claim.instruments == ("G1",)
    assert {x["id"] for x in claim.excluded} == {"G3", "G4"}


def test_renewable_claim_prorates_and_drops_sold_onsite():
    half = parse_period("2024-01-01:2024-06-30")  # 182 of 366 days
    claim = renewable_claim(
        [instrument(), instrument(instrument="PV", type="onsite", technology="solar",
                                  attributes_sold=True)],
        site="DC1",
        period=half,
        onsite_kwh=300.0,
    )  # fmt: skip
    assert claim.certificates_kwh == pytest.approx(4_000_000.0 * 182 / 366)
    assert claim.onsite_retained_kwh == 0.0


def test_activity_rows_and_comparison():
    table = rollup_rows([
        ("INC1", "incomer", 1, 1000.0, 2976, 1.0),
        ("INC2", "incomer", 1, 500.0, 2976, 0.9),
        ("INC1", "incomer", 2, 900.0, 2784, 1.0),
        ("IT", "pdu_output", 1, 800.0, 2976, 1.0),
    ])  # fmt: skip
    rows = rows_from_rollup(table, {"DC1": "E1"})
    assert [(r["record_id"], r["quantity"]) for r in rows] == [
        ("energy:DC1:2024-01", 1500.0),
        ("energy:DC1:2024-02", 900.0),
    ]
    assert rows[0]["entity"] == "E1"
    assert rows[0]["coverage"] == pytest.approx(0.95)
    assert rows[0]["period_end"] == date(2024, 1, 31)
    assert rows[1]["period_end"] == date(2024, 2, 29)
    assert rows[0]["unit"] == "kWh"
    assert rows[0]["activity"] == "electricity"
    invoiced = {("DC1", date(2024, 1, 1)): 1450.0}
    diff = compare(rows, invoiced)
    assert diff[0]["difference_kwh"] == pytest.approx(50.0)
    assert diff[0]["difference_pct"] == pytest.approx(50 / 1450)
    assert diff[1]["invoiced_kwh"] is None
    assert [r["record_id"] for r in importable(rows, invoiced)] == ["energy:DC1:2024-02"]


def test_charts_are_svg_with_both_languages():
    k = compute_kpis(
        {"incomer": 1340.0, "ups_input": 1080.0, "ups_output": 1020.0, "pdu_output": 1000.0,
         "cooling": 250.0, "other": 10.0}
    )  # fmt: skip
    en = waterfall(k, lang="en", fmt="svg")
    assert b"Cooling (CLF)" in en
    assert b"1.34" in en
    months = [date(2024, m, 1) for m in range(1, 4)]
    trend = pue_trend(months, [1.3, None, 1.4], lang="en", fmt="svg")
    assert b"2024-03" in trend
    heat = load_heatmap([date(2024, 1, d) for d in range(1, 4)], np.ones((3, 24)), fmt="svg")
    assert heat.startswith(b"<?xml")
    with pytest.raises(ValueError, match="shape"):
        load_heatmap([date(2024, 1, 1)], np.ones((2, 24)))


def test_the_frequency_letter_follows_the_meter_step_not_dst_or_gaps():
    """March 2024 in New York is 31 days less the hour skipped on 10 March: 2972 quarter
    hours (the core's ``expected_intervals``). A 15-minute meter is continuous (``C``) there,
    and a month half unread (coverage 0.5) keeps its meters' step: the gap lowers the quality
    score, not the measurement frequency (docs/energy/kpis.md)."""
    ny = [M("INC", None, "incomer", timezone="America/New_York"),
          M("IT", "INC", "pdu_output", timezone="America/New_York")]  # fmt: skip
    table = rollup_rows([
        ("INC", "incomer", 3, 130.0, 2972, 1.0),
        ("IT", "pdu_output", 3, 100.0, 2972, 0.5),
    ])  # fmt: skip
    march = parse_period("2024-03")
    inputs = site_inputs_from_rollup(table, ny, march)
    assert inputs.interval_seconds == 900
    months = monthly_from_rollup(table, ny)
    assert months[0][1].pue_category == "PUE_L2,MC"
    # the same rows read in a zone without daylight saving are 2976 steps of 900 s: 2972
    # steps there would be 901 s, no longer continuous
    assert (
        site_inputs_from_rollup(
            table, [M("INC", None, "incomer"), M("IT", "INC", "pdu_output")]
        ).interval_seconds
        == 901
    )
    hourly = rollup_rows([("INC", "incomer", 3, 130.0, 743, 1.0)])  # an hourly meter
    assert site_inputs_from_rollup(hourly, ny).interval_seconds == 3600


def test_monthly_pue_per_local_month():
    meters = [M("INC", None, "incomer"), M("IT", "INC", "pdu_output")]
    table = rollup_rows([
        ("INC", "incomer", 1, 130.0, 2976, 1.0),
        ("IT", "pdu_output", 1, 100.0, 2976, 1.0),
        ("INC", "incomer", 2, 150.0, 2784, 1.0),
        ("IT", "pdu_output", 2, 100.0, 2784, 1.0),
    ])  # fmt: skip
    months = monthly_from_rollup(table, meters)
    assert [m for m, _ in months] == [date(2024, 1, 1), date(2024, 2, 1)]
    assert [k.pue for _, k in months] == pytest.approx([1.3, 1.5])
    assert months[0][1].pue_category == "PUE_L2,MC"


def test_hourly_matrix():
    table = pa.Table.from_pylist(
        [
            {"role": "pdu_output", "period_local": datetime(2024, 1, 1, 0), "quantity": 50.0},
            {"role": "pdu_output", "period_local": datetime(2024, 1, 1, 23), "quantity": 60.0},
            {"role": "pdu_output", "period_local": datetime(2024, 1, 2, 5), "quantity": 70.0},
            {"role": "cooling", "period_local": datetime(2024, 1, 2, 5), "quantity": 9.0},
        ]
    )
    days, kw = hourly_matrix(table, ["pdu_output"])
    assert days == [date(2024, 1, 1), date(2024, 1, 2)]
    assert kw.shape == (2, 24)
    assert kw[0, 0] == 50.0
    assert kw[0, 23] == 60.0
    assert kw[1, 5] == 70.0
    assert np.isnan(kw[1, 6])
