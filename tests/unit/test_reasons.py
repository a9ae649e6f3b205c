"""Messages as data (:mod:`esgledger.reasons`): every template renders in both languages."""

from __future__ import annotations

import string

import pytest

from _zh_english import english_words
from esgledger.reasons import Joined, Listing, Words, reason, templates


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("code", sorted(templates()))
def test_every_message_has_the_same_fields_in_both_languages(code: str) -> None:
    row = templates()[code]
    assert row["en"].strip(), code
    assert row["zh-CN"].strip(), code
    assert _fields(row["en"]) == _fields(row["zh-CN"]) or code.startswith("resolve.basis"), code


@pytest.mark.parametrize("code", sorted(templates()))
def test_the_chinese_template_has_no_english_word_of_its_own(code: str) -> None:
    """Fields are filled by the caller (codes, user text, other messages); the template's
    own words must be Chinese (codes, units and names in capitals excepted)."""
    zh = templates()[code]["zh-CN"]
    literal = "".join(text for text, *_ in string.Formatter().parse(zh))
    found = english_words(literal)
    assert not found, f"{code}: {found}"


def test_nested_messages_render_in_the_language_asked() -> None:
    words = Words((reason("kind.province"), reason("method.location")))
    message = reason(
        "resolve.chosen",
        what=reason("resolve.region_factor", region="CN-GD", words=words, year=2023, set="cn-mee"),
        year=2024,
        vintage=reason("resolve.vintage_older_chosen", years=reason("resolve.year_one")),
    )
    joined = Joined((message, reason("resolve.none_in", regions=Listing(("CN-GD", "CN")))))
    assert joined.render("en") == (
        "CN-GD provincial location-based factor 2023 (cn-mee) for reporting year 2024: latest "
        "earlier vintage, 1 year older; no qualifying factor for CN-GD, CN"
    )
    assert joined.render("zh-CN") == (
        "CN-GD 省级基于位置的排放因子 2023（cn-mee），报告年度 2024：采用最近的较早年份，早 1 年；"
        "CN-GD、CN 没有适用的排放因子"
    )


def test_an_unknown_code_or_language_is_refused() -> None:
    with pytest.raises(KeyError, match=r"no message 'resolve\.nope'"):
        reason("resolve.nope")
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        reason("resolve.vintage_same").render("fr")
