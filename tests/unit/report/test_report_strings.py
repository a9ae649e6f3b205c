"""UI strings: every key has English and Chinese text; templates use only known keys."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from esgledger.i18n import UnknownStringError, strings_table, text, ui

CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")


def _templates() -> dict[str, str]:
    folder = resources.files("esgledger.report").joinpath("templates")
    return {
        p.name: p.read_text(encoding="utf-8") for p in folder.iterdir() if p.name.endswith(".j2")
    }


def test_every_key_has_english_and_chinese() -> None:
    table = strings_table()
    assert len(table) > 50
    for key, row in table.items():
        assert row["en"].strip(), key
        assert row["zh-CN"].strip(), key


def test_chinese_column_is_chinese_where_it_has_words() -> None:
    # Symbols (%, n/a-free units) may be shared; anything with Latin words needs a translation.
    # (the product name; the language switch names the other language in that language)
    shared = {"doc.lang", "chart.percent", "app.name", "app.other_language"}
    for key, row in strings_table().items():
        words = re.sub(r"\{[a-z_]+\}", "", row["en"])  # the fields are filled in later
        if key in shared or not re.search(r"[A-Za-z]{3}", words):
            continue
        if re.fullmatch(r"[A-Z0-9 ./+-]+", row["en"]) and row["zh-CN"] == row["en"]:
            continue  # a code both languages write alike (PDF, XLSX)
        assert CJK.search(row["zh-CN"]), f"{key}: {row['zh-CN']!r} has no Chinese"


def test_templates_use_only_known_keys_and_hold_no_language_literals() -> None:
    keys = set(strings_table())
    used: set[str] = set()
    for name, source in _templates().items():
        used |= set(re.findall(r"\bt\('([a-z0-9_.]+)'[,)]", source))
        assert not CJK.search(source), f"{name} holds Chinese text; put it in i18n/strings"
    assert len(used) > 30  # the pattern finds the keys (a broken pattern would find none)
    # status.* keys are built from the entry's status.
    assert used - keys == set()
    assert {"status.disclosed", "status.explained", "status.missing"} <= keys


def test_ui_fills_fields_and_names_unknown_keys() -> None:
    assert ui("doc.missing_reason", "zh-CN", code="A1.1") == "强制披露项缺失：A1.1"
    with pytest.raises(UnknownStringError, match=r"'no.such.key' is not in .*strings/\*\.csv"):
        ui("no.such.key", "en")
    assert text("doc.toc").en == "Contents"


def test_every_derivation_has_a_name_in_both_languages() -> None:
    from esgledger.disclosure.catalogue import DERIVATIONS

    assert {f"derivation.{key}" for key in DERIVATIONS} <= set(strings_table())


def test_every_strings_row_has_exactly_key_english_and_chinese() -> None:
    """An unquoted comma in a text splits it into an extra cell (the loader refuses that):
    every row of every strings file has the three cells of its header."""
    import csv

    folder = resources.files("esgledger.i18n").joinpath("strings")
    for entry in folder.iterdir():
        if not entry.name.endswith(".csv"):
            continue
        rows = list(csv.reader(entry.read_text(encoding="utf-8").splitlines()))
        assert rows[0] == ["key", "en", "zh-CN"], entry.name
        assert [(entry.name, r[0]) for r in rows if len(r) != 3] == []
