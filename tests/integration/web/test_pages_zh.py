"""Every page reads as Chinese in zh-CN and as English in en, for every demo role.

The pages come from the crawl (``tests/_page_crawl.py``): each user's pages (and the error
pages a link led them to) are opened again in each language. In zh-CN no English word may
stand outside an element marked ``translate="no"`` (what users and data supply), codes and
units (``tests/_zh_english.py``); in en no Chinese character may stand outside such elements
(the language switch, naming the other language in its own words, is one)."""

from __future__ import annotations

import re

import pytest

from _page_crawl import CrawledPage, SiteCrawl, crawl_site
from _web_support import DemoCopy, page_client
from _zh_english import english_words, html_text

_HAN = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+")

#: Chinese words an English text quotes on purpose. Each with where it comes from:
#: - 高铁, 动车: the English name of ``travel.rail.high_speed`` (schema/activity_types.csv)
#:   names the high-speed rail services as Chinese travellers' receipts call them.
EN_ALLOWED_CHINESE = frozenset({"高铁", "动车"})


def _factor_set_ids() -> frozenset[str]:
    """The ids of the factor sets esgledger ships (``cn-mee``, ``cn-defaults``…): codes that
    the resolver's reasons quote inside translated sentences (a code, as a factor id is)."""
    from importlib import resources

    folder = resources.files("esgledger.data").joinpath("factors")
    return frozenset(
        entry.name.removesuffix(".meta.json")
        for entry in folder.iterdir()
        if entry.name.endswith(".meta.json")
    )


@pytest.fixture(scope="module")
def site(web_demo: DemoCopy) -> SiteCrawl:
    return crawl_site(web_demo)


def _pages_by_user(site: SiteCrawl) -> dict[str | None, list[CrawledPage]]:
    users: dict[str | None, list[CrawledPage]] = {}
    for page in site.pages:
        users.setdefault(page.username, []).append(page)
    return users


def test_every_page_in_zh_cn_has_no_english_word(site: SiteCrawl) -> None:
    failures: list[str] = []
    set_ids = _factor_set_ids()
    opened = 0
    for username, pages in _pages_by_user(site).items():
        with page_client(site.demo, username, "zh-CN") as client:
            for page in pages:
                url, answer = page.url, page.get(client)
                assert answer.headers["content-type"].startswith("text/html"), url
                assert page.fragment or '<html lang="zh-CN">' in answer.text, url
                opened += 1
                found = english_words(
                    html_text(answer.text, skip_untranslated=True), allowed_phrases=set_ids
                )
                failures.extend(f"{url} as {username}: {f}" for f in found)
    assert opened >= len(site.pages)
    assert not failures, "English in zh-CN pages:\n" + "\n".join(failures[:80])


def test_every_page_in_en_has_no_chinese_text(site: SiteCrawl) -> None:
    failures: list[str] = []
    for page in site.pages:  # the crawl itself runs in English: its HTML is kept
        html = site.html[page]
        assert page.fragment or '<html lang="en">' in html, page.url
        text = html_text(html, skip_untranslated=True)
        failures.extend(
            f"{page.url} as {page.username}: {m!r}"
            for m in _HAN.findall(text)
            if m not in EN_ALLOWED_CHINESE
        )
    assert not failures, "Chinese in en pages:\n" + "\n".join(failures[:80])


def test_the_checker_sees_an_untranslated_word_and_a_marked_value() -> None:
    page = (
        '<html lang="zh-CN"><body><h1>排放 Inventory</h1>'
        '<p translate="no">Cloud Data Centre</p><p>CO2e 12 t</p></body></html>'
    )
    assert [f.word for f in english_words(html_text(page, skip_untranslated=True))] == ["Inventory"]
