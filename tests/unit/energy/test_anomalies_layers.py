"""The four anomaly layers on a synthetic site (tests/_energy_anomalies.py) and on hand-made
tables: each layer finds the fault it is for, on the dates it was injected, with its impact."""

from __future__ import annotations

import json
import re
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from _energy_anomalies import SITE, SUB_METERS, Fault, synthetic_site, with_sub_meters
from esgledger.energy.detectors.alerts import (
    KINDS,
    GridFactor,
    analyse,
    kind_label,
    layer_label,
    merge_detections,
)
from esgledger.energy.detectors.base import (
    LAYERS,
    AnomalySettings,
    Detection,
    HourlyMatrix,
    daily_features,
    runs,
    top_meter_rows,
)
from esgledger.energy.detectors.cusum import cusum, cusum_detections, site_hours
from esgledger.energy.detectors.iforest import isolation_detections
from esgledger.energy.detectors.residual import residual_detections, seasonal_residuals
from esgledger.energy.detectors.rules import (
    flag_detections,
    hourly_rule_detections,
    physical_detections,
)
from esgledger.errors import InputError
from esgledger.i18n import UnknownStringError
from esgledger.reasons import reason

T = pd.Timestamp
SETTINGS = AnomalySettings()


def test_runs_are_found_and_joined_across_short_breaks() -> None:
    mask = np.array([0, 1, 1, 0, 1, 0, 0, 0, 1], dtype=bool)
    assert runs(mask) == [(1, 3), (4, 5), (8, 9)]
    assert runs(mask, join=1) == [(1, 5), (8, 9)]
    assert runs(np.zeros(4, dtype=bool)) == []


def test_settings_out_of_range_are_refused_and_recorded_as_json() -> None:
    with pytest.raises(ValueError, match="cusum_h"):
        AnomalySettings(cusum_h=0)
    with pytest.raises(ValueError, match="residual_z"):
        AnomalySettings(residual_z=2.0)  # below the P99 bound of 2.576
    data = SETTINGS.to_json()
    assert data["residual_z"] == 3.5
    assert data["rule_flags"][0] == "gap"
    assert AnomalySettings(**{k: tuple(v) if isinstance(v, list) else v
                              for k, v in data.items()}) == SETTINGS  # fmt: skip


def test_stuck_and_gap_windows_are_the_injected_ones() -> None:
    stuck = Fault("CHILLER", "stuck", T("2024-03-10 05:00"), T("2024-03-11 17:00"))
    gap = Fault("OTHER", "gap", T("2024-04-02"), T("2024-04-03 12:00"))
    hourly, _ = synthetic_site(days=120, faults=(stuck, gap))
    matrix = HourlyMatrix.from_hourly(hourly)
    found = hourly_rule_detections(matrix, SETTINGS, seasonal_residuals(matrix, SETTINGS))
    by_kind = {(d.kind, d.meter): d for d in found}
    assert set(by_kind) == {("stuck", "CHILLER"), ("gap", "OTHER")}
    s, g = by_kind["stuck", "CHILLER"], by_kind["gap", "OTHER"]
    assert (s.start_utc, s.end_utc) == (stuck.start, stuck.end)
    assert (g.start_utc, g.end_utc) == (gap.start, gap.end)
    assert g.energy_kwh is None  # nothing was measured: no impact is made up
    # a stuck meter read 0 instead of its load: the impact is minus the energy it missed
    truth, _ = synthetic_site(days=120)
    missed = truth[(truth.meter == "CHILLER") & (truth.ts_utc >= stuck.start)
                   & (truth.ts_utc < stuck.end)]["energy_kwh"].sum()  # fmt: skip
    assert s.energy_kwh is not None
    assert s.energy_kwh == pytest.approx(-missed, rel=0.05)  # forecast error of a few %


def test_core_flags_become_alerts_joined_per_meter_and_kind() -> None:
    hourly, _ = synthetic_site(days=30)
    matrix = HourlyMatrix.from_hourly(hourly)
    flags = pd.DataFrame(
        {
            "site": SITE,
            "meter": ["INC", "INC", "INC", "INC"],
            "start_utc": [T("2024-01-10 00:00"), T("2024-01-10 00:15"), T("2024-01-12"),
                          T("2024-01-13")],
            "end_utc": [T("2024-01-10 00:15"), T("2024-01-10 00:30"), T("2024-01-12 00:15"),
                        T("2024-01-13 00:15")],
            "flag": ["spike", "spike", "spike", "reset"],
            "detail": "",
        }
    )  # fmt: skip
    found = flag_detections(flags, matrix, SETTINGS)
    assert [(d.kind, d.start_utc, d.end_utc) for d in found] == [
        ("spike", datetime(2024, 1, 10, 0, 0), datetime(2024, 1, 10, 0, 30)),
        ("spike", datetime(2024, 1, 12, 0, 0), datetime(2024, 1, 12, 0, 15)),
    ]  # a reset is a handled event, not an alert
    assert found[0].data["flagged_intervals"] == 2


def test_impossible_pue_and_ups_efficiency_are_rule_alerts() -> None:
    days = pd.date_range("2024-01-01", periods=4, freq="D")
    daily = pd.DataFrame(
        {
            "site": SITE,
            "day": days,
            "start_utc": days,
            "end_utc": days + pd.Timedelta(days=1),
            "pue": [1.3, 0.97, 0.98, 1.3],
            "ups_efficiency": [0.95, 1.02, 0.95, 0.70],
        }
    )
    found = physical_detections(daily, SETTINGS)
    got = {(d.kind, d.start_utc.day, d.data["days"]) for d in found}
    assert got == {("pue_below_one", 2, 2), ("ups_efficiency_above_one", 2, 1),
                   ("ups_efficiency_low", 4, 1)}  # fmt: skip
    pue = next(d for d in found if d.kind == "pue_below_one")
    assert pue.data["pue"] == 0.97
    assert pue.energy_kwh is None


def test_a_spike_is_outside_the_p99_interval_and_priced_as_its_excess() -> None:
    spike = Fault("UPS-IN", "spike", T("2024-02-20 10:00"), T("2024-02-20 12:00"))
    hourly, _ = synthetic_site(days=80, faults=(spike,))
    res = seasonal_residuals(HourlyMatrix.from_hourly(hourly), SETTINGS)
    found, _ = residual_detections(res, SETTINGS)
    hits = [d for d in found if d.meter == "UPS-IN" and d.start_utc <= spike.start < d.end_utc]
    assert len(hits) == 1
    assert hits[0].kind == "residual_high"
    assert hits[0].score > 5  # far beyond |z| = 3.5
    truth, _ = synthetic_site(days=80)
    normal = truth[(truth.meter == "UPS-IN") & (truth.ts_utc >= spike.start)
                   & (truth.ts_utc < spike.end)]["energy_kwh"].sum()  # fmt: skip
    assert hits[0].energy_kwh == pytest.approx(3 * normal, rel=0.05)  # ×4 = 3 × excess


def test_cusum_is_quiet_without_a_drift_and_finds_a_chiller_drift_early() -> None:
    hourly, weather = synthetic_site(days=240)
    quiet, _ = cusum_detections(hourly, SETTINGS, weather)
    assert quiet == []
    drift = Fault("CHILLER", "chiller_drift", T("2024-06-01"), T("2024-08-28"))
    hourly, weather = synthetic_site(days=240, faults=(drift,))
    found, _ = cusum_detections(hourly, SETTINGS, weather)
    cooling = [d for d in found if d.kind == "cooling_drift"]
    assert len(cooling) == 1
    detected = cooling[0].detected_utc
    assert detected is not None
    # the drift grows 0.29 %/day; by 30 days it is 8 % of cooling, ~40 σ of the residual
    assert drift.start <= detected <= drift.start + pd.Timedelta(days=30)
    assert cooling[0].energy_kwh is not None
    assert cooling[0].energy_kwh > 0


def test_cusum_finds_a_ups_efficiency_loss_within_a_week() -> None:
    loss = Fault("UPS-IN", "ups_efficiency_loss", T("2024-05-01"), T("2024-05-31"))
    hourly, weather = synthetic_site(days=200, faults=(loss,))
    found, _ = cusum_detections(hourly, SETTINGS, weather)
    ups = [d for d in found if d.kind == "ups_loss_drift"]
    assert len(ups) == 1
    assert ups[0].detected_utc is not None
    assert loss.start <= ups[0].detected_utc <= loss.start + pd.Timedelta(days=7)
    # window ends when the loss stops growing the sum: at the fault's end, within two days
    assert abs(ups[0].end_utc - loss.end) <= pd.Timedelta(days=2)


def test_the_upper_cusum_accumulates_excess_over_k() -> None:
    s = cusum(np.array([0.0, 1.0, 2.0, -5.0, 1.5]), k=0.5)
    assert s.tolist() == [0.0, 0.5, 2.0, 0.0, 1.0]


def test_isolation_forest_is_seeded_and_flags_a_day_of_double_pue() -> None:
    hourly, weather = synthetic_site(days=150)
    daily = daily_features(hourly, weather)
    day = daily.index[daily["day"] == T("2024-03-15")][0]
    daily.loc[day, "pue"] *= 2
    first, _ = isolation_detections(daily, SETTINGS)
    second, _ = isolation_detections(daily, SETTINGS)
    assert [(d.start_utc, d.score) for d in first] == [(d.start_utc, d.score) for d in second]
    hit = [d for d in first if d.start_utc <= daily.loc[day, "start_utc"] < d.end_utc]
    assert len(hit) == 1
    assert hit[0].energy_kwh is not None
    assert hit[0].energy_kwh > 0


def _det(layer: str, kind: str, start: str, end: str, energy: float | None) -> Detection:
    return Detection(
        site=SITE,
        meter="CHILLER",
        subsystem="cooling",
        layer=layer,
        kind=kind,
        start_utc=T(start).to_pydatetime(),
        end_utc=T(end).to_pydatetime(),
        score=1.5 if layer == "residual" else 1.0,
        energy_kwh=energy,
        reason=reason(f"energy.anomaly.{kind}", meter="CHILLER", hours=2, z=4.0, band=10.0),
    )


def test_overlapping_layers_merge_into_one_priced_bilingual_alert() -> None:
    detections = [
        _det("rule", "stuck", "2024-03-10 05:00", "2024-03-11 17:00", -6000.0),
        _det("residual", "residual_low", "2024-03-10 06:00", "2024-03-10 20:00", -3000.0),
        _det("residual", "residual_high", "2024-03-20 00:00", "2024-03-20 03:00", 300.0),
    ]
    factor = GridFactor("cn-mee-2023-CN-TJ", "MEE 2023", 2023, 0.6)
    alerts = merge_detections(detections, {SITE: factor})
    assert len(alerts) == 2
    merged = alerts[0]
    assert merged.layers == ("rule", "residual")
    assert merged.kinds == ("stuck", "residual_low")
    assert (merged.start_utc, merged.end_utc) == (
        datetime(2024, 3, 10, 5),
        datetime(2024, 3, 11, 17),
    )
    assert merged.energy_kwh == -6000.0  # the longest window's, not the sum of both
    assert merged.co2e_t == pytest.approx(-6000.0 * 0.6 / 1000)
    assert merged.score == 1.5
    assert "cn-mee-2023-CN-TJ" in merged.text.en
    assert "cn-mee-2023-CN-TJ" in merged.text.zh
    assert "卡滞" in merged.text.zh
    assert "stuck" in merged.text.en
    json.dumps(merged.to_json(), allow_nan=False)
    unpriced = merge_detections(detections[2:])[0]
    assert unpriced.co2e_t is None
    assert unpriced.factor is None
    assert "no grid factor" in unpriced.text.en


def test_analyse_runs_only_the_layers_asked_and_refuses_unknown_ones() -> None:
    hourly, weather = synthetic_site(days=90)
    report = analyse(hourly, weather=weather, layers=("rule",))
    assert report.layers == ("rule",)
    assert all(a.layers == ("rule",) for a in report.alerts)
    assert any(f.code == "energy.anomaly.no_grid_factor" for f in report.findings)
    with pytest.raises(ValueError, match="unknown anomaly layer"):
        analyse(hourly, layers=("prophet",))


def test_sub_meters_of_the_same_role_are_not_counted_twice_in_site_aggregates() -> None:
    hourly, weather = synthetic_site(days=30)
    nested = with_sub_meters(hourly)
    tops = top_meter_rows(nested)
    assert set(tops["meter"]) == set(hourly["meter"])  # only the five topmost meters
    plain = daily_features(hourly, weather)
    doubled = daily_features(nested, weather)
    columns = ["e_dc_kwh", "e_it_kwh", "cooling_kwh", "ups_in_kwh", "ups_out_kwh", "pue",
               "ppue_cooling", "ups_efficiency"]  # fmt: skip
    pd.testing.assert_frame_equal(doubled[columns], plain[columns])
    day = plain.dropna().iloc[0]
    assert 1.0 < day["pue"] < 2.0  # sub-meters added would lift cooling by 60 %, UPS by 50 %
    for name, table in site_hours(nested, weather).items():
        expected = site_hours(hourly, weather)[name]
        pd.testing.assert_frame_equal(table, expected)


def test_per_meter_layers_still_see_every_sub_meter() -> None:
    hourly, _ = synthetic_site(days=30)
    stuck = Fault("CHILLER-1", "stuck", T("2024-01-20 05:00"), T("2024-01-21 17:00"))
    nested = with_sub_meters(hourly)
    inside = (
        (nested["meter"] == "CHILLER-1")
        & (nested["ts_utc"] >= stuck.start)
        & (nested["ts_utc"] < stuck.end)
    )
    nested.loc[inside, "energy_kwh"] = 0.0
    matrix = HourlyMatrix.from_hourly(nested)
    assert set(matrix.meters) == set(hourly["meter"]) | {m for m, *_ in SUB_METERS}
    found = hourly_rule_detections(matrix, SETTINGS)
    assert [d.meter for d in found if d.kind == "stuck"] == ["CHILLER-1"]


def test_the_hourly_table_needs_the_parent_column() -> None:
    hourly, _ = synthetic_site(days=2)
    with pytest.raises(InputError, match="parent"):
        daily_features(hourly.drop(columns=["parent"]))


def test_every_alert_kind_and_layer_has_a_bilingual_label() -> None:
    assert tuple(KINDS) == LAYERS
    for layer, kinds in KINDS.items():
        for code in (layer, *kinds):
            label = layer_label(code) if code == layer else kind_label(code)
            assert label.en
            assert label.en != code
            assert re.search(r"[\u4e00-\u9fff]", label.zh), (code, label.zh)
    assert kind_label("stuck").en == "Stuck meter"
    assert layer_label("residual").zh == "预测残差"
    with pytest.raises(UnknownStringError):
        kind_label("no_such_kind")
    # what the layers raise on faults of every kind is among the labelled kinds
    faults = (
        Fault("CHILLER", "stuck", T("2024-03-10 05:00"), T("2024-03-11 17:00")),
        Fault("OTHER", "gap", T("2024-04-02 00:00"), T("2024-04-02 09:00")),
        Fault("UPS-OUT", "spike", T("2024-05-02 10:00"), T("2024-05-02 11:00")),
        Fault("CHILLER", "chiller_drift", T("2024-06-01"), T("2024-07-15")),
        Fault("UPS-IN", "ups_efficiency_loss", T("2024-07-20"), T("2024-08-20")),
    )
    hourly, weather = synthetic_site(days=240, faults=faults)
    report = analyse(hourly, weather=weather)
    raised = {k for a in report.alerts for k in a.kinds}
    assert raised <= {k for kinds in KINDS.values() for k in kinds}
    assert {"stuck", "gap", "cooling_drift"} <= raised
