"""The one bilingual strings table of esgledger (CLI, report and pages), and :class:`Text`.

中英双语文字表（命令行、报告与网页共用）及 :class:`Text`。

Every word a reader reads comes from ``esgledger/i18n/strings/*.csv`` (``key, en, zh-CN``).
The table is one key space kept in several files, one per face or area (``report.csv``,
``web.csv``, ``web_<area>.csv``), so that work on different pages does not collide in one
file; a key defined twice, in one file or two, is refused when the table loads.

Languages are ``en`` and ``zh-CN`` (:data:`LANGS`); :func:`ui` gives one string in one
language, :func:`text` the bilingual :class:`Text`. :func:`format_number` and
:func:`format_date` print numbers and dates as a reader of that language expects.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import math
from dataclasses import dataclass
from importlib import resources
from typing import Literal, TypeAlias, get_args

from esgledger.errors import EsgledgerError

__all__ = [
    "LANGS",
    "STRING_LANGS",
    "Lang",
    "Text",
    "UnknownLanguageError",
    "UnknownStringError",
    "check_lang",
    "format_date",
    "format_number",
    "strings_table",
    "text",
    "ui",
]

Lang: TypeAlias = Literal["en", "zh-CN"]
LANGS: tuple[Lang, ...] = get_args(Lang)
"""The languages of every face: English and Simplified Chinese."""
STRING_LANGS: tuple[str, ...] = LANGS


class UnknownLanguageError(EsgledgerError, ValueError):
    """A language other than ``en`` and ``zh-CN`` was asked for."""


class UnknownStringError(EsgledgerError, LookupError):
    """A UI string key is not in the strings table."""

    def __init__(self, key: str):
        self.key = key
        super().__init__(
            f"UI string {key!r} is not in esgledger/i18n/strings/*.csv; add a row "
            "'key,en,zh-CN' for it"
        )


def check_lang(lang: str) -> Lang:
    """``lang`` if it is one of :data:`LANGS`, else :class:`UnknownLanguageError`."""
    if lang not in LANGS:
        raise UnknownLanguageError(f"unknown language {lang!r}; use one of {', '.join(LANGS)}")
    return lang


@dataclass(frozen=True, slots=True)
class Text:
    """One piece of text a reader reads, in English and Simplified Chinese.

    An empty ``zh`` is allowed only where the text is language-neutral (a code, a name);
    :meth:`get` then falls back to ``en``.
    """

    en: str
    zh: str = ""

    def get(self, lang: str) -> str:
        """The text in ``lang`` (``"en"`` or ``"zh-CN"``)."""
        if check_lang(lang) == "zh-CN":
            return self.zh or self.en
        return self.en

    @classmethod
    def same(cls, text: str) -> Text:
        """Text that reads the same in both languages (a code, a brand, a number)."""
        return cls(text, text)


@functools.cache
def strings_table() -> dict[str, dict[str, str]]:
    """key -> {"en": ..., "zh-CN": ...}, read once from the packaged ``strings/*.csv``."""
    table: dict[str, dict[str, str]] = {}
    where: dict[str, str] = {}
    folder = resources.files("esgledger.i18n").joinpath("strings")
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if not entry.name.endswith(".csv"):
            continue
        raw = entry.read_text(encoding="utf-8")
        for row in csv.DictReader(io.StringIO(raw)):
            key = row["key"]
            if None in row:  # more cells than the header: an unquoted comma cut a text
                raise EsgledgerError(
                    f"UI string {key!r} in {entry.name} has more cells than the header: "
                    "quote a text that holds a comma"
                )
            if key in table:
                raise EsgledgerError(
                    f"UI string {key!r} is defined twice: in {where[key]} and {entry.name}"
                )
            missing = [lang for lang in STRING_LANGS if not (row.get(lang) or "").strip()]
            if missing:
                raise EsgledgerError(
                    f"UI string {key!r} in {entry.name} has no text for {', '.join(missing)}"
                )
            table[key] = {lang: row[lang] for lang in STRING_LANGS}
            where[key] = entry.name
    return table


def ui(key: str, lang: str, **fields: object) -> str:
    """The UI string ``key`` in ``lang``, with ``{name}`` fields filled from ``fields``."""
    try:
        template = strings_table()[key][lang]
    except KeyError:
        if key in strings_table():
            raise UnknownStringError(f"{key} [{lang}]") from None
        raise UnknownStringError(key) from None
    return template.format(**fields) if fields else template


def text(key: str, **fields: Text) -> Text:
    """The UI string ``key`` as a bilingual :class:`Text`, each ``{name}`` filled with the
    field's text in the same language."""
    en = ui(key, "en", **{name: value.get("en") for name, value in fields.items()})
    zh = ui(key, "zh-CN", **{name: value.get("zh-CN") for name, value in fields.items()})
    return Text(en, zh)


def format_number(
    value: float | int | str | None, lang: str = "en", decimals: int | None = None
) -> str:
    """A figure as a reader of ``lang`` reads it: thousands separators (both languages group
    by three in esgledger's tables; Chinese prose would say 万, tables do not), ``—`` for a
    missing value, strings verbatim (exact decimal text from a contract stays exact).

    >>> format_number(4817824.0, "en", 0), format_number(1234.5, "zh-CN"), format_number(None)
    ('4,817,824', '1,234.5', '—')
    """
    check_lang(lang)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        if decimals is None:
            whole, dot, fraction = value.partition(".")
            sign = "-" if whole.startswith("-") else ""
            digits = whole.lstrip("-")
            if digits.isdigit():
                return f"{sign}{int(digits):,}{dot}{fraction}"
            return value
        value = number
    if decimals is not None:
        return f"{value:,.{decimals}f}"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,}"


def format_date(value: dt.date | dt.datetime | str | None, lang: str = "en") -> str:
    """A date (or a date-time, shown to the minute, UTC) for ``lang``: ``2026-03-31`` in
    English (ISO 8601, unambiguous for a group working across regions) and ``2026年3月31日``
    in Chinese."""
    check_lang(lang)
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        written = value
        try:
            value = (
                dt.datetime.fromisoformat(written)
                if "T" in written or " " in written
                else dt.date.fromisoformat(written)
            )
        except ValueError:
            return written
    clock = ""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        clock = f" {value:%H:%M} UTC"
    if lang == "zh-CN":
        return f"{value.year}年{value.month}月{value.day}日{clock}"
    return f"{value:%Y-%m-%d}{clock}"
