"""Values from files in messages (issue 11, defect 12, the echo part): escaped and short."""

from __future__ import annotations

import unicodedata

import pytest

from esgledger.cli._app import error_line
from esgledger.errors import (
    CLOSE_MATCH_CHARS,
    MESSAGE_LINE_CHARS,
    SHOWN_CHARS,
    InputError,
    Issue,
    UnitError,
    close_matches,
    issues_to_csv,
    quoted,
    shown,
)

BIG = "A" * 10_000_000


def _printable(text: str) -> bool:
    return not any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
                   for c in text)  # fmt: skip


@pytest.mark.parametrize(
    ("char", "escaped"),
    [
        ("\x00", "\\x00"),
        ("\x1b", "\\x1b"),
        ("\t", "\\x09"),
        ("\n", "\\x0a"),
        ("\x7f", "\\x7f"),
        ("\x9b", "\\x9b"),  # C1 control sequence introducer
        ("\u200b", "\\u200b"),  # zero-width space
        ("\u202e", "\\u202e"),  # right-to-left override
        ("\u2066", "\\u2066"),  # left-to-right isolate
        ("\udc80", "\\udc80"),  # an undecodable byte (surrogateescape)
        ("\ue000", "\\ue000"),  # private use
        ("\U0010fffe", "\\U0010fffe"),  # a noncharacter (unassigned)
        ("\u2028", "\\u2028"),  # line separator
        ("\u2029", "\\u2029"),  # paragraph separator
    ],
)
def test_unprintable_characters_are_escaped(char: str, escaped: str) -> None:
    assert shown(f"a{char}b") == f"a{escaped}b"


def test_printable_text_is_shown_as_it_is() -> None:
    text = "吨 m³ µg °C café 万元 'x' \\ <b>"
    assert shown(text) == text


def test_a_long_value_is_cut_with_its_length() -> None:
    assert shown(BIG) == "A" * SHOWN_CHARS + "… (10,000,000 characters)"
    assert shown("A" * SHOWN_CHARS) == "A" * SHOWN_CHARS
    assert quoted("A" * (SHOWN_CHARS + 1), 3) == "'AAA… (81 characters)'"


def test_escapes_count_toward_the_limit() -> None:
    out = shown("\x00" * 1000)
    assert out == "\\x00" * (SHOWN_CHARS // 4) + "… (1,000 characters)"


def test_an_issue_prints_one_short_printable_line() -> None:
    issue = Issue("a.csv", 2, "unit\x1b[2J", BIG + "\x1b", f"unknown unit {BIG}", fix=BIG)
    text = str(issue)
    assert "\n" not in text
    assert _printable(text)
    assert len(text) < 1000  # each part bounded: file, column, problem, value, fix
    assert "(value: '" + "A" * SHOWN_CHARS + "… (10,000,001 characters)')" in text
    assert "column 'unit\\x1b[2J'" in text


def test_an_ordinary_issue_is_unchanged() -> None:
    issue = Issue("a.csv", 2, "unit", "kWhh", "unknown unit", fix="write kWh")
    assert str(issue) == "a.csv, row 2, column 'unit': unknown unit (value: 'kWhh'). Fix: write kWh"


def test_the_report_csv_is_bounded_and_escaped() -> None:
    text = issues_to_csv([Issue("a.csv", 2, "entity", BIG + "\x00", "unknown entity")])
    assert len(text) < 1000
    assert "… (10,000,001 characters)" in text
    assert "\x00" not in text


def test_every_error_message_line_is_bounded_and_printable() -> None:
    error = InputError(f"rejected {BIG}\x1b[2J", [Issue("a.csv", 2, "x", BIG, "bad")])
    for line in str(error).splitlines():
        assert len(line) <= MESSAGE_LINE_CHARS + 40
        assert _printable(line)
    assert len(str(UnitError(f"bad {BIG}"))) < MESSAGE_LINE_CHARS + 40


def test_the_cli_guard_line_is_bounded_and_escaped() -> None:
    line = error_line(ValueError(f"\x1b[2J\u202e{BIG}"))
    assert line.startswith("error: unexpected ValueError: \\x1b[2J\\u202e")
    assert len(line) < 500
    assert _printable(line)
    line = error_line(FileNotFoundError(2, "No such file or directory", f"\x1b{BIG}"))
    assert line.startswith("error: No such file or directory: \\x1b")
    assert len(line) < 500
    assert _printable(line)


def test_close_matches_suggests_for_codes_and_skips_huge_values() -> None:
    assert close_matches("CLOUDD", ["CLOUD", "HQ"]) == ["CLOUD"]
    # difflib on a 10 MB cell exhausted 2 GiB of memory; such a value gets no suggestion.
    assert close_matches(BIG, ["CLOUD", "A" * 50]) == []
    assert close_matches("A" * CLOSE_MATCH_CHARS, ["A" * CLOSE_MATCH_CHARS]) != []
