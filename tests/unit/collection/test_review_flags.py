"""Review flags of a submission (``esgledger.collection.flags``): each check on a small,
hand-worked case — raised just beyond its threshold, not raised just inside it — plus the
texts, the settings, the notes and determinism."""

from __future__ import annotations

import calendar
import csv
import functools
import io
import json
import math
import random
import re
import string
from datetime import date
from importlib import resources
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esgledger.collection.flags import (
    CHECKS,
    SEVERITIES,
    Flag,
    Review,
    ReviewSettings,
    compute_flags,
    flag_id,
    review_settings,
    rules,
)
from esgledger.errors import InputError, WorkspaceError

Y = 2026
#: January of the reporting year: the expected period of one-month cases (no gap flags).
JAN = (date(Y, 1, 1), date(Y, 1, 31))


def month(
    m: int,
    quantity: float,
    *,
    site: str | None = "S1",
    unit: str = "kWh",
    year: int = Y,
    activity: str = "electricity",
    entity: str = "E",
    **extra: Any,
) -> dict[str, Any]:
    """One row covering calendar month ``m`` of ``year``."""
    last = calendar.monthrange(year, m)[1]
    return {
        "entity": entity,
        "site": site,
        "activity": activity,
        "quantity": quantity,
        "unit": unit,
        "period_start": date(year, m, 1),
        "period_end": date(year, m, last),
        **extra,
    }


def year_of(quantity: float, **kw: Any) -> list[dict[str, Any]]:
    """Twelve monthly rows of ``quantity`` each."""
    return [month(m, quantity, **kw) for m in range(1, 13)]


def codes(review: Review) -> list[str]:
    return [f.code for f in review.flags]


def only(review: Review, code: str) -> Flag:
    found = [f for f in (*review.flags, *review.notes) if f.code == code]
    assert len(found) == 1, [f.code for f in (*review.flags, *review.notes)]
    return found[0]


# -- change against last year --------------------------------------------------------------


class TestChangeVsLastYear:
    def test_just_beyond_the_threshold_is_flagged(self) -> None:
        review = compute_flags(year_of(130.1), year_of(100.0, year=Y - 1))
        flag = only(review, "review.change_vs_last_year")
        assert flag.severity == "medium"
        assert (flag.entity, flag.site, flag.activity) == ("E", "S1", "electricity")
        assert flag.period == (date(Y, 1, 1), date(Y, 12, 31))
        # 12 × 130.1 = 1,561.2 against 12 × 100 = 1,200: +30.1 %
        assert flag.data["current"] == pytest.approx(1561.2)
        assert flag.data["previous"] == pytest.approx(1200.0)
        assert flag.data["change"] == pytest.approx(0.301)
        assert flag.data["current"] / flag.data["previous"] - 1 == pytest.approx(
            flag.data["change"]
        )
        assert flag.data["months"] == [f"{Y}-{m:02d}" for m in range(1, 13)]
        assert "+30.1 %" in flag.text.en
        assert "±30 %" in flag.text.en

    def test_just_inside_the_threshold_is_not_flagged(self) -> None:
        assert codes(compute_flags(year_of(129.9), year_of(100.0, year=Y - 1))) == []
        assert codes(compute_flags(year_of(130.0), year_of(100.0, year=Y - 1))) == []

    def test_a_fall_beyond_the_threshold_is_flagged(self) -> None:
        flag = only(
            compute_flags(year_of(69.9), year_of(100.0, year=Y - 1)),
            "review.change_vs_last_year",
        )
        assert flag.data["change"] == pytest.approx(-0.301)
        assert "-30.1 %" in flag.text.en
        assert codes(compute_flags(year_of(70.1), year_of(100.0, year=Y - 1))) == []

    def test_same_months_only(self) -> None:
        # Q1 submitted; last year's Q1 was 100 a month, the rest of the year 1,000 a month.
        history = [month(m, 100.0 if m <= 3 else 1000.0, year=Y - 1) for m in range(1, 13)]
        submitted = [month(m, 131.0) for m in (1, 2, 3)]
        flag = only(
            compute_flags(submitted, history, expected=(date(Y, 1, 1), date(Y, 3, 31))),
            "review.change_vs_last_year",
        )
        assert flag.data["months"] == [f"{Y}-01", f"{Y}-02", f"{Y}-03"]
        assert flag.data["previous"] == pytest.approx(300.0)
        assert flag.data["current"] == pytest.approx(393.0)
        assert flag.period == (date(Y, 1, 1), date(Y, 3, 31))

    def test_an_annual_row_of_last_year_is_spread_by_days(self) -> None:
        # 365 over 2025: Q1 2025 (90 days) holds 90 of it.
        history = [
            {
                "entity": "E", "site": "S1", "activity": "electricity", "quantity": 365.0,
                "unit": "kWh", "period_start": date(Y - 1, 1, 1),
                "period_end": date(Y - 1, 12, 31),
            }
        ]  # fmt: skip
        q1 = (date(Y, 1, 1), date(Y, 3, 31))
        flagged = compute_flags([month(m, 30 * 1.31) for m in (1, 2, 3)], history, expected=q1)
        flag = only(flagged, "review.change_vs_last_year")
        assert flag.data["previous"] == pytest.approx(90.0)
        assert flag.data["change"] == pytest.approx(0.31)
        inside = compute_flags([month(m, 30 * 1.29) for m in (1, 2, 3)], history, expected=q1)
        assert codes(inside) == []

    def test_units_are_converted_before_comparing(self) -> None:
        # 0.1 MWh last year, 100 kWh this year: no change at all.
        review = compute_flags(year_of(100.0), year_of(0.1, unit="MWh", year=Y - 1))
        assert codes(review) == []
        assert review.notes == ()

    def test_this_years_approved_rows_count_with_the_submission(self) -> None:
        # Two meters: meter A approved earlier at 60, meter B submitted now at 70; last year
        # 100 for the site. The site's month is 130 → +30 %, not flagged; B alone would be
        # -30 %, A + B is what the site used.
        history = [
            *year_of(100.0, year=Y - 1),
            *year_of(60.0, meter="A"),
        ]
        assert codes(compute_flags(year_of(70.0, meter="B"), history)) == []
        flagged = compute_flags(year_of(70.2, meter="B"), history)
        assert only(flagged, "review.change_vs_last_year").data["change"] == pytest.approx(0.302)

    def test_from_zero(self) -> None:
        flag = only(
            compute_flags(year_of(5.0), year_of(0.0, year=Y - 1)), "review.change_from_zero"
        )
        assert flag.data["change"] is None
        assert flag.data["previous"] == 0
        assert codes(compute_flags(year_of(0.0), year_of(0.0, year=Y - 1))) == []

    def test_the_workspace_threshold_applies(self) -> None:
        settings = review_settings({"review": {"change_threshold": 0.5}})
        history = year_of(100.0, year=Y - 1)
        assert codes(compute_flags(year_of(140.0), history, settings=settings)) == []
        flag = only(
            compute_flags(year_of(150.1), history, settings=settings),
            "review.change_vs_last_year",
        )
        assert flag.data["threshold"] == 0.5
        assert "±50 %" in flag.text.en


class TestNoHistory:
    def test_no_flag_but_a_note(self) -> None:
        review = compute_flags(year_of(100.0), [])
        assert review.flags == ()
        note = only(review, "review.no_history")
        assert note.severity == "note"
        assert note.data["months"] == [f"{Y}-{m:02d}" for m in range(1, 13)]
        assert "2025" in note.text.en
        assert "2025" in note.text.zh

    def test_history_none_is_empty_history(self) -> None:
        assert (
            compute_flags(year_of(100.0)).as_dict() == compute_flags(year_of(100.0), []).as_dict()
        )

    def test_history_in_another_dimension_is_no_history(self) -> None:
        # diesel in L this year, in kg last year: not comparable by unit conversion
        review = compute_flags(
            year_of(100.0, unit="L", activity="stationary.diesel"),
            year_of(90.0, unit="kg", activity="stationary.diesel", year=Y - 1),
        )
        assert review.flags == ()
        assert only(review, "review.no_history").data["unit"] == "L"

    def test_an_empty_submission_has_nothing(self) -> None:
        review = compute_flags([], year_of(1.0, year=Y - 1))
        assert review.flags == ()
        assert review.notes == ()


# -- unit surprises --------------------------------------------------------------------------


class TestUnitSurprise:
    def test_kwh_typed_as_mwh(self) -> None:
        history = year_of(120_000.0, year=Y - 1)
        submitted = [
            month(m, 120_000.0, unit="MWh" if m == 5 else "kWh", row_number=m + 1)
            for m in range(1, 13)
        ]
        review = compute_flags(submitted, history)
        flag = only(review, "review.unit_surprise")
        assert flag.severity == "high"
        assert flag.period == (date(Y, 5, 1), date(Y, 5, 31))
        assert flag.data["row"] == 6
        assert flag.data["row_unit"] == "MWh"
        assert flag.data["unit"] == "kWh"
        assert flag.data["value"] == pytest.approx(120_000_000.0)
        assert flag.data["reference"] == pytest.approx(120_000.0)
        assert flag.data["ratio"] == pytest.approx(1000.0)
        assert flag.data["suggested_unit"] == "kWh"
        assert "the unit was probably kWh" in flag.text.en
        assert "1,000 times" in flag.text.en
        assert "1,000 倍" in flag.text.zh
        # the surprise explains the key's change: no change flag on top of it
        assert codes(review) == ["review.unit_surprise"]

    def test_mwh_typed_as_kwh(self) -> None:
        history = year_of(120.0, unit="MWh", year=Y - 1)
        submitted = [month(m, 120.0, unit="kWh" if m == 2 else "MWh") for m in range(1, 13)]
        flag = only(compute_flags(submitted, history), "review.unit_surprise")
        assert flag.data["ratio"] == pytest.approx(0.001)
        assert flag.data["suggested_unit"] == "MWh"
        assert "千分之一" in flag.text.zh

    def test_kg_typed_as_t(self) -> None:
        history = year_of(12.0, unit="kg", activity="refrigerant.R-410A", year=Y - 1)
        submitted = [month(1, 12.0, unit="t", activity="refrigerant.R-410A")]
        flag = only(compute_flags(submitted, history, expected=JAN), "review.unit_surprise")
        assert flag.data["suggested_unit"] == "kg"

    def test_band_edges(self) -> None:
        # 10 ** 3.5 = 3,162.3: a ratio of 3,100 is a surprise, 3,300 a change only.
        history = year_of(1.0, year=Y - 1)

        def found(quantity: float) -> list[str]:
            return codes(compute_flags([month(1, quantity)], history, expected=JAN))

        assert found(3100.0) == ["review.unit_surprise"]
        assert found(3300.0) == ["review.change_vs_last_year"]
        # 10 ** 2.5 = 316.2
        assert found(320.0) == ["review.unit_surprise"]
        assert found(310.0) == ["review.change_vs_last_year"]
        # and 1/1,000: 1/3,100 is a surprise, 1/3,300 a change only
        assert found(1 / 3100) == ["review.unit_surprise"]
        assert found(1 / 3300) == ["review.change_vs_last_year"]

    def test_a_row_spanning_months_is_compared_per_day(self) -> None:
        # Last year 31 a day in January and 28 a day... no: 1 kWh a day all year. A row of
        # 1 Jan-28 Feb (59 days) of 59,000 kWh is 1,000 kWh a day: a surprise.
        history = [
            {
                "entity": "E", "site": "S1", "activity": "electricity", "quantity": 365.0,
                "unit": "kWh", "period_start": date(Y - 1, 1, 1),
                "period_end": date(Y - 1, 12, 31),
            }
        ]  # fmt: skip
        row = {**month(1, 59_000.0), "period_end": date(Y, 2, 28)}
        flag = only(compute_flags([row], history), "review.unit_surprise")
        assert flag.data["reference"] == pytest.approx(59.0)
        assert flag.data["reference_months"] == [f"{Y - 1}-01", f"{Y - 1}-02"]

    def test_unreadable_unit_is_a_note(self) -> None:
        review = compute_flags([month(1, 1.0, unit="furlongs-per-blorp")], [])
        note = only(review, "review.unit_unknown")
        assert note.data["rows"] == 1
        assert "furlongs-per-blorp" in note.text.en
        assert "无法识别该单位" in note.text.zh


# -- comparable sites --------------------------------------------------------------------------

# Five comparable data centres in CN at 10 ** 2.0 ... 10 ** 2.4 kWh a year: log10 median 2.2,
# MAD 0.1, scale 0.1 / 0.6745 = 0.148258; |z| = 3.5 at log10 2.2 ± 0.518903, i.e. outside
# 47.98 ... 523.4 kWh a year.
PEER_LOGS = (2.0, 2.1, 2.2, 2.3, 2.4)
SITES = [
    {"site": "S1", "type": "data_centre", "country": "CN"},
    *({"site": f"P{i}", "type": "data_centre", "country": "CN"} for i in range(5)),
    {"site": "H1", "type": "data_centre", "country": "HK"},
    {"site": "O1", "type": "office", "country": "CN"},
]


def annual(site: str, quantity: float, entity: str = "PEER") -> dict[str, Any]:
    return {
        "entity": entity, "site": site, "activity": "electricity", "quantity": quantity,
        "unit": "kWh", "period_start": date(Y, 1, 1), "period_end": date(Y, 12, 31),
    }  # fmt: skip


PEERS = [annual(f"P{i}", 10**lv) for i, lv in enumerate(PEER_LOGS)]


class TestPeerOutlier:
    def test_just_beyond_the_range_is_flagged(self) -> None:
        review = compute_flags(
            [annual("S1", 10**2.72, entity="E")], [], comparables=PEERS, sites=SITES
        )
        flag = only(review, "review.peer_outlier")
        assert flag.data["peers"] == 5
        assert flag.data["peer_sites"] == ["P0", "P1", "P2", "P3", "P4"]
        assert flag.data["peer_group"] == {"type": "data_centre", "country": "CN"}
        assert flag.data["log10_median"] == pytest.approx(2.2)
        assert flag.data["log10_scale"] == pytest.approx(0.1 / 0.6745)
        assert flag.data["z"] == pytest.approx(0.52 / (0.1 / 0.6745))
        assert flag.data["high"] == pytest.approx(10 ** (2.2 + 3.5 * 0.1 / 0.6745))
        assert flag.data["median"] == pytest.approx(10**2.2)
        assert "+3.51" in flag.text.en

    def test_just_inside_the_range_is_not_flagged(self) -> None:
        for lv in (2.718, 1.683):
            review = compute_flags(
                [annual("S1", 10**lv, entity="E")], [], comparables=PEERS, sites=SITES
            )
            assert codes(review) == [], lv

    def test_below_the_range(self) -> None:
        review = compute_flags(
            [annual("S1", 10**1.68, entity="E")], [], comparables=PEERS, sites=SITES
        )
        assert only(review, "review.peer_outlier").data["z"] < -3.5

    def test_annualised(self) -> None:
        # one month at the rate of 10 ** 2.72 a year is as far out as the whole year
        rate = 10**2.72 / 365 * 31
        review = compute_flags([month(1, rate)], [], comparables=PEERS, sites=SITES)
        assert only(review, "review.peer_outlier").data["value"] == pytest.approx(10**2.72)

    def test_too_few_peers_is_a_note(self) -> None:
        review = compute_flags(
            [annual("S1", 10**4, entity="E")], [], comparables=PEERS[:4], sites=SITES
        )
        assert [f.code for f in review.flags] == []
        note = only(review, "review.peers_too_few")
        assert note.data["peers"] == 4
        assert note.data["threshold"] == 5
        assert "仅有 4 个可比站点" in note.text.zh
        assert "至少需要 5 个" in note.text.zh

    def test_the_setting_lowers_the_minimum(self) -> None:
        settings = ReviewSettings(peer_min_sites=4)
        review = compute_flags(
            [annual("S1", 10**4, entity="E")],
            [],
            comparables=PEERS[:4],
            sites=SITES,
            settings=settings,
        )
        assert codes(review) == ["review.peer_outlier"]

    def test_falls_back_to_the_same_type_in_any_country(self) -> None:
        # four CN peers are too few; with the HK one, five of the same type
        peers = [*PEERS[:4], annual("H1", 10**2.4)]
        review = compute_flags(
            [annual("S1", 10**2.72, entity="E")], [], comparables=peers, sites=SITES
        )
        flag = only(review, "review.peer_outlier")
        assert flag.data["peer_group"] == {"type": "data_centre", "country": None}
        assert "any country" in flag.text.en

    def test_other_types_and_the_submitted_sites_are_not_peers(self) -> None:
        peers = [*PEERS[:4], annual("O1", 10**2.4), annual("S1", 10**2.4, entity="E")]
        review = compute_flags(
            [annual("S1", 10**2.72, entity="E")], [], comparables=peers, sites=SITES
        )
        assert only(review, "review.peers_too_few").data["peers"] == 4

    def test_units_of_peers_are_converted(self) -> None:
        peers = [{**p, "quantity": p["quantity"] / 1000, "unit": "MWh"} for p in PEERS]
        review = compute_flags(
            [annual("S1", 10**2.72, entity="E")], [], comparables=peers, sites=SITES
        )
        assert only(review, "review.peer_outlier").data["unit"] == "kWh"

    def test_unknown_site_is_a_note(self) -> None:
        review = compute_flags(
            [annual("ZZ", 10**2.72, entity="E")], [], comparables=PEERS, sites=SITES
        )
        assert only(review, "review.site_unknown").severity == "note"

    def test_peers_without_spread(self) -> None:
        peers = [annual(f"P{i}", 100.0) for i in range(5)]
        review = compute_flags(
            [annual("S1", 1000.0, entity="E")], [], comparables=peers, sites=SITES
        )
        assert only(review, "review.peers_no_spread").data["median"] == pytest.approx(100.0)

    def test_skipped_without_comparables(self) -> None:
        review = compute_flags([annual("S1", 10**9, entity="E")], [])
        assert "peers" not in review.checks
        assert not [f for f in review.notes if f.code.startswith("review.peer")]


# -- gaps ----------------------------------------------------------------------------------------


class TestGaps:
    def test_a_missing_month_is_flagged(self) -> None:
        submitted = [month(m, 100.0) for m in range(1, 13) if m not in (3, 4, 9)]
        flag = only(compute_flags(submitted, []), "review.gap")
        assert flag.data["missing"] == [f"{Y}-03", f"{Y}-04", f"{Y}-09"]
        assert flag.period == (date(Y, 3, 1), date(Y, 9, 30))
        assert f"{Y}-03..{Y}-04, {Y}-09" in flag.text.en
        assert "缺 3 个月" in flag.text.zh

    def test_all_months_present_is_not_flagged(self) -> None:
        assert codes(compute_flags(year_of(100.0), [])) == []

    def test_a_month_in_the_approved_history_is_not_a_gap(self) -> None:
        submitted = [month(m, 100.0) for m in range(1, 13) if m != 3]
        assert codes(compute_flags(submitted, [month(3, 100.0)])) == []

    def test_a_row_touching_the_month_covers_it(self) -> None:
        submitted = [month(m, 100.0) for m in range(1, 13) if m != 3]
        half = {**month(3, 50.0), "period_end": date(Y, 3, 1)}
        assert codes(compute_flags([*submitted, half], [])) == []

    def test_annual_and_scope_3_rows_have_no_gaps(self) -> None:
        assert codes(compute_flags([annual("S1", 1000.0, entity="E")], [])) == []
        trips = [month(m, 10.0, activity="travel.rail", unit="pkm") for m in (1, 5)]
        assert codes(compute_flags(trips, [])) == []

    def test_only_monthly_data_is_checked(self) -> None:
        # quarterly rows with the third quarter missing: not monthly data
        quarters = [
            {**month(q, 100.0), "period_end": month(q + 2, 0.0)["period_end"]} for q in (1, 4, 10)
        ]
        assert codes(compute_flags(quarters, [])) == []
        # refrigerant top-ups on two days: events, not monthly data
        top_ups = [
            {**month(m, 2.0, activity="refrigerant.R-410A", unit="kg"),
             "period_end": date(Y, m, 12), "period_start": date(Y, m, 12)}
            for m in (3, 10)
        ]  # fmt: skip
        assert codes(compute_flags(top_ups, [])) == []

    def test_monthly_last_year_makes_monthly_data(self) -> None:
        # a bill of 15 January to 14 February last year (31 days) marks the key as monthly
        bill = {**month(1, 50.0, year=Y - 1), "period_start": date(Y - 1, 1, 15),
                "period_end": date(Y - 1, 2, 14)}  # fmt: skip
        day = {**month(6, 1.0), "period_end": date(Y, 6, 1)}
        flag = only(compute_flags([day], [bill]), "review.gap")
        assert len(flag.data["missing"]) == 11

    def test_expected_period(self) -> None:
        q1 = [month(m, 1.0) for m in (1, 2)]
        flag = only(compute_flags(q1, [], expected=(date(Y, 1, 1), date(Y, 3, 31))), "review.gap")
        assert flag.data["missing"] == [f"{Y}-03"]


# -- overlaps --------------------------------------------------------------------------------------


class TestOverlaps:
    def test_one_shared_day_is_an_overlap(self) -> None:
        a = {**month(1, 100.0, row_number=2)}
        b = {**month(2, 100.0, row_number=3), "period_start": date(Y, 1, 31)}
        review = compute_flags([a, b], [], expected=(date(Y, 1, 1), date(Y, 2, 28)))
        flags = [f for f in review.flags if f.code == "review.overlap"]
        assert [f.data["row"] for f in flags] == [2, 3]
        assert flags[0].data["other"]["row_number"] == 3
        assert flags[0].data["other"]["in"] == "submission"
        assert flags[0].data["duplicate"] is False
        assert flags[0].severity == "high"
        assert "row 3 of this submission" in flags[0].text.en
        assert "本次提交第 3 行" in flags[0].text.zh

    def test_adjacent_periods_do_not_overlap(self) -> None:
        assert codes(compute_flags(year_of(100.0), [])) == []

    def test_against_an_approved_row(self) -> None:
        approved = month(1, 100.0, batch_id="b-000000000001", row_number=7, record_id="E-1")
        review = compute_flags([month(1, 100.0, row_number=2)], [approved])
        flag = only(review, "review.overlap")
        assert flag.data["duplicate"] is True
        assert flag.data["other"] == {
            "in": "history",
            "batch_id": "b-000000000001",
            "row_number": 7,
            "record_id": "E-1",
            "period_start": f"{Y}-01-01",
            "period_end": f"{Y}-01-31",
        }
        assert "approved batch b-000000000001 (record id E-1)" in flag.text.en
        assert "exact duplicates" in flag.text.en

    def test_other_meters_and_corrections_and_scope_3_do_not_overlap(self) -> None:
        rows = [
            month(1, 100.0, meter="M1"),
            month(1, 100.0, meter="M2"),
            month(1, -5.0, meter="M1", correction=True),
            month(1, 10.0, activity="travel.rail", unit="pkm"),
            month(1, 10.0, activity="travel.rail", unit="pkm"),
        ]
        review = compute_flags(rows, [], expected=(date(Y, 1, 1), date(Y, 1, 31)))
        assert codes(review) == []


# -- texts, ids, settings, determinism ---------------------------------------------------------

PLACEHOLDER = re.compile(r"\{(\w+)\}")


class TestRulesTable:
    def test_every_rule_is_complete_and_bilingual(self) -> None:
        raw = resources.files("esgledger.collection").joinpath("flag_rules.csv").read_text("utf-8")
        header = next(csv.reader(io.StringIO(raw)))
        assert header == [
            "code", "kind", "setting", "threshold", "unit", "severity",
            "text_en", "text_zh", "rationale", "rationale_zh",
        ]  # fmt: skip
        for rule in rules().values():
            assert rule.code.startswith("review.")
            assert rule.severity in SEVERITIES
            assert (rule.kind == "note") == (rule.severity == "note")
            assert rule.rationale
            assert rule.rationale_zh
            assert re.search(r"[\u4e00-\u9fff]", rule.text_zh), rule.code
            assert set(PLACEHOLDER.findall(rule.text_en)) == set(
                PLACEHOLDER.findall(rule.text_zh)
            ), rule.code
            assert (rule.setting is None) == (rule.threshold is None)

    def test_settings_default_to_the_table(self) -> None:
        settings = ReviewSettings()
        assert settings.change_threshold == 0.3
        assert settings.peer_z_threshold == 3.5
        assert settings.peer_min_sites == 5
        assert settings.unit_tolerance == 0.5


class TestChineseText:
    def test_every_flag_and_note_is_rendered_in_both_languages(self) -> None:
        review = _everything()
        assert {f.code for f in (*review.flags, *review.notes)} == set(rules())
        for flag in (*review.flags, *review.notes):
            for text in (flag.text.en, flag.text.zh):
                assert "{" not in text, text
                assert "}" not in text, text
            assert re.search(r"[\u4e00-\u9fff]", flag.text.zh)
            assert flag.text.get("zh-CN") == flag.text.zh
            assert flag.text.get("en") == flag.text.en

    def test_change_in_chinese(self) -> None:
        flag = only(
            compute_flags(year_of(130.1), year_of(100.0, year=Y - 1)),
            "review.change_vs_last_year",
        )
        assert flag.text.zh == (
            f"S1（E），electricity：{Y}-01..{Y}-12 为 1,561 kWh，{Y - 1} 年同期为 1,200 kWh，"
            "变化 +30.1 %，超出本工作区允许的 ±30 %。请核对数据或说明变化原因。"
        )


@functools.cache
def _everything() -> Review:
    """A submission raising every flag and note of the rules table."""
    submitted, history, kw = _everything_inputs()
    return compute_flags(submitted, history, **kw)


def _everything_inputs() -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    history = [
        *year_of(100.0, year=Y - 1),  # S1 electricity
        *year_of(0.0, site="S2", year=Y - 1),  # S2: from zero
        *year_of(1.0, site="S3", year=Y - 1),  # S3: a unit surprise
        month(1, 5.0, site="S4", batch_id="b-000000000009", row_number=4),  # S4: overlap
    ]
    submitted = [
        *[month(m, 140.0) for m in range(1, 12)],  # S1: +40 %, December missing
        *year_of(3.0, site="S2"),
        *year_of(1.0, site="S3", unit="MWh"),
        month(1, 5.0, site="S4"),
        annual("P9", 10**3, entity="E"),  # P9: a peer outlier, no history
        annual("ZZ", 1.0, entity="E"),  # ZZ: site unknown
        month(1, 1.0, site="S5", unit="blorps"),  # unreadable unit
        month(1, 1.0, site="S6", activity="stationary.diesel", unit="L"),  # too few peers
        annual("S7", 1.0, entity="E"),  # peers without spread (office)
    ]
    peers = [
        *PEERS,
        annual("D1", 2.0, entity="PEER") | {"activity": "stationary.diesel", "unit": "L"},
        *(annual(f"Q{i}", 50.0) for i in range(5)),
    ]
    sites = [
        *SITES,
        *({"site": s, "type": "data_centre", "country": "CN"} for s in ("S2", "S3", "S4", "S5")),
        {"site": "P9", "type": "data_centre", "country": "CN"},
        {"site": "S6", "type": "factory", "country": "CN"},
        {"site": "D1", "type": "factory", "country": "CN"},
        {"site": "S7", "type": "lab", "country": "CN"},
        *({"site": f"Q{i}", "type": "lab", "country": "CN"} for i in range(5)),
    ]
    numbered = [{**row, "row_number": i + 2} for i, row in enumerate(submitted)]
    return numbered, history, {"comparables": peers, "sites": sites}


class TestIdsAndDeterminism:
    def test_same_input_any_order_same_result(self) -> None:
        first = _everything().as_dict()
        shuffled_rows = _everything_shuffled()
        assert json.dumps(first, sort_keys=False) == json.dumps(shuffled_rows, sort_keys=False)

    def test_json_native(self) -> None:
        data = _everything().as_dict()
        assert json.loads(json.dumps(data)) == data
        assert data["checks"] == list(CHECKS)
        assert sum(data["counts"].values()) == len(data["flags"]) + len(data["notes"])

    def test_ids_are_unique_and_stable(self) -> None:
        review = _everything()
        ids = [f.id for f in (*review.flags, *review.notes)]
        assert len(set(ids)) == len(ids)
        assert all(re.fullmatch(r"rf-[0-9a-f]{24}", i) for i in ids)
        # the id depends on the key fields, not on the numbers
        a = only(
            compute_flags(year_of(140.0), year_of(100.0, year=Y - 1)), "review.change_vs_last_year"
        )
        b = only(
            compute_flags(year_of(150.0), year_of(100.0, year=Y - 1)), "review.change_vs_last_year"
        )
        assert a.id == b.id
        assert a.id == flag_id(
            "review.change_vs_last_year", "E", "S1", "electricity", {"unit": "kWh", "year": Y}
        )
        other = only(
            compute_flags(year_of(140.0, site="S2"), year_of(100.0, site="S2", year=Y - 1)),
            "review.change_vs_last_year",
        )
        assert other.id != a.id

    def test_identical_rows_get_distinct_ids(self) -> None:
        rows = [month(1, 100.0, row_number=5), month(1, 100.0, row_number=9)]
        first = compute_flags(rows, [], expected=JAN)
        flags = [f for f in first.flags if f.code == "review.overlap"]
        assert [f.data["row"] for f in flags] == [5, 9]
        assert flags[0].id != flags[1].id
        assert flags[0].id == flag_id(
            "review.overlap", "E", "S1", "electricity",
            {"meter": None, "supplier": None, "start": f"{Y}-01-01", "end": f"{Y}-01-31"},
        )  # fmt: skip
        again = compute_flags(rows[::-1], [], expected=JAN)
        assert [f.id for f in again.flags] == [f.id for f in first.flags]

    def test_order(self) -> None:
        review = _everything()
        order = list(rules())
        positions = [order.index(f.code) for f in review.flags]
        assert positions == sorted(positions)

    def test_arrow_input_equals_dicts(self) -> None:
        submitted = year_of(130.1)
        history = year_of(100.0, year=Y - 1)
        as_arrow = compute_flags(pa.Table.from_pylist(submitted), pa.Table.from_pylist(history))
        assert as_arrow.as_dict() == compute_flags(submitted, history).as_dict()

    def test_iso_date_strings_are_read(self) -> None:
        submitted = [
            {**r, "period_start": r["period_start"].isoformat(),
             "period_end": r["period_end"].isoformat()}
            for r in year_of(130.1)
        ]  # fmt: skip
        assert codes(compute_flags(submitted, year_of(100.0, year=Y - 1))) == [
            "review.change_vs_last_year"
        ]


def _everything_shuffled() -> dict[str, Any]:
    """:func:`_everything` with every input in another order, and history rows of other
    entities (ignored) added."""
    submitted, history, kw = _everything_inputs()
    rng = random.Random(7)
    for rows in (submitted, history, kw["comparables"], kw["sites"]):
        rng.shuffle(rows)
    noise = [
        month(m, 999.0, entity="".join(rng.choices(string.ascii_uppercase, k=4)), year=Y - 1)
        for m in range(1, 13)
    ]
    return compute_flags(submitted, [*history, *noise], **kw).as_dict()


class TestReviewSettings:
    def test_overrides(self) -> None:
        settings = review_settings(
            {"name": "x", "review": {"change_threshold": 0.25, "peer_min_sites": 8}}
        )
        assert settings == ReviewSettings(
            change_threshold=0.25, peer_z_threshold=3.5, peer_min_sites=8, unit_tolerance=0.5
        )
        assert review_settings({}) == ReviewSettings()

    @pytest.mark.parametrize(
        ("section", "message"),
        [
            ({"change_treshold": 0.3}, "no setting 'change_treshold'"),
            ({"change_threshold": "30%"}, "change_threshold must be a number"),
            ({"change_threshold": 0}, "change_threshold must be above 0"),
            ({"change_threshold": -0.3}, "change_threshold must be"),
            ({"change_threshold": math.inf}, "change_threshold must be"),
            ({"peer_min_sites": 4.5}, "peer_min_sites must be a whole number"),
            ({"peer_min_sites": 1}, "peer_min_sites must be"),
            ({"peer_min_sites": True}, "peer_min_sites must be"),
            ({"unit_tolerance": 2.0}, "unit_tolerance must be"),
        ],
    )
    def test_refusals(self, section: dict[str, Any], message: str) -> None:
        with pytest.raises(WorkspaceError, match=re.escape(message)):
            review_settings({"review": section})

    def test_not_a_table(self) -> None:
        with pytest.raises(WorkspaceError, match="must be a table"):
            review_settings({"review": 0.3})


class TestInputs:
    def test_missing_column(self) -> None:
        with pytest.raises(InputError, match="lack the column"):
            compute_flags([{"entity": "E", "activity": "electricity"}])


# -- the change check against a brute-force reading of its definition ---------------------


@settings(max_examples=25)
@given(
    this_year=st.dictionaries(st.integers(1, 12), st.integers(0, 400), min_size=1),
    last_year=st.dictionaries(st.integers(1, 12), st.integers(0, 400)),
)
def test_change_matches_its_definition(
    this_year: dict[int, int], last_year: dict[int, int]
) -> None:
    """Monthly rows: the flag compares the sums over the months present in both years and is
    raised exactly when the change is beyond ±30 % (or from zero)."""
    review = compute_flags(
        [month(m, float(q)) for m, q in this_year.items()],
        [month(m, float(q), year=Y - 1) for m, q in last_year.items()],
    )
    both = sorted(set(this_year) & set(last_year))
    found = [f for f in review.flags if f.code.startswith("review.change")]
    notes = [f for f in review.notes if f.code == "review.no_history"]
    if not both:
        assert not found
        assert len(notes) == 1
        return
    assert not notes
    current = sum(this_year[m] for m in both)
    previous = sum(last_year[m] for m in both)
    if previous == 0:
        expected = ["review.change_from_zero"] if current else []
    else:
        expected = ["review.change_vs_last_year"] if abs(current / previous - 1) > 0.3 else []
    surprised = any(f.code == "review.unit_surprise" for f in review.flags)
    if surprised:  # a 1,000x month replaces the change flag of its key
        expected = []
    assert [f.code for f in found] == expected
    for flag in found:
        assert flag.data["months"] == [f"{Y}-{m:02d}" for m in both]
        assert flag.data["current"] == current
        assert flag.data["previous"] == previous
