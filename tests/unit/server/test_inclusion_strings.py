"""The words of the carbon-inclusion pages (``i18n/strings/web_inclusion.csv``): English rows
without Chinese, Chinese rows with it, a label for every reason code a settlement line can
carry, and every literal ``t('key')`` of the inclusion templates in the strings table."""

from __future__ import annotations

import csv
import re
from importlib import resources
from typing import get_args

from esgledger.i18n import strings_table
from esgledger.inclusion.methodology import Baseline, Confidence
from esgledger.inclusion.rules import REASON_CODES, STATUSES
from esgledger.inclusion.service import CATALOGUE_KINDS
from esgledger.server.web.inclusion import reason_label

_CJK = re.compile(r"[\u4e00-\u9fff]")


def _rows() -> list[dict[str, str]]:
    path = resources.files("esgledger.i18n").joinpath("strings", "web_inclusion.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_english_has_no_chinese_and_chinese_is_chinese() -> None:
    rows = _rows()
    assert len(rows) > 100
    assert [r["key"] for r in rows if _CJK.search(r["en"])] == []
    assert [r["key"] for r in rows if not _CJK.search(r["zh-CN"])] == []


def test_every_reason_code_has_its_own_label() -> None:
    other = reason_label("no.such.code")
    assert other.en == "other reason"
    codes = (*REASON_CODES, "clawback.invalid", "review.closed")
    assert [c for c in codes if reason_label(c) == other] == []
    assert reason_label("cap.trips").zh == "每日次数上限"


def test_every_literal_key_of_the_templates_is_in_the_table() -> None:
    folder = resources.files("esgledger.server.web").joinpath("templates", "inclusion")
    keys: set[str] = set()
    for entry in folder.iterdir():
        keys |= set(re.findall(r"t\('([a-z0-9_.]+)'", entry.read_text(encoding="utf-8")))
    prefixes = {k for k in keys if k.endswith(".")}
    assert len(keys - prefixes) > 50
    assert sorted(keys - prefixes - set(strings_table())) == []
    # the keys the templates build from a prefix and a value: every value has its word
    values = {
        "inclusion.baseline.": get_args(Baseline),
        "inclusion.confidence.": get_args(Confidence),
        "inclusion.basis.": ("pkm", "trip"),
        "inclusion.kind.": CATALOGUE_KINDS,
        "inclusion.status.": ("active", "held", "closed"),
        "inclusion.trip_status.": STATUSES,
        "inclusion.tx_kind.": (
            "issuance", "redemption", "donation", "neutralisation", "expiry", "clawback",
            "aggregation",
        ),
        "inclusion.review.done.": ("active", "closed"),
    }  # fmt: skip
    assert prefixes == set(values)
    missing = [p + v for p, vs in values.items() for v in vs if p + v not in strings_table()]
    assert missing == []
