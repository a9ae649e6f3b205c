"""UI strings of the report (``strings.csv``: key, en, zh-CN), the only place report words live.

报告界面文字（``strings.csv``：键、英文、简体中文）。
"""

from __future__ import annotations

import csv
import functools
import io
from importlib import resources
from typing import TYPE_CHECKING

from esgledger.errors import EsgledgerError

if TYPE_CHECKING:
    from esgledger.report.document import Text

__all__ = ["STRING_LANGS", "UnknownStringError", "strings_table", "text", "ui"]

STRING_LANGS: tuple[str, ...] = ("en", "zh-CN")


class UnknownStringError(EsgledgerError, LookupError):
    """A UI string key is not in ``strings.csv``."""

    def __init__(self, key: str):
        self.key = key
        super().__init__(
            f"UI string {key!r} is not in esgledger/report/strings.csv; add a row "
            "'key,en,zh-CN' for it"
        )


@functools.cache
def strings_table() -> dict[str, dict[str, str]]:
    """key -> {"en": ..., "zh-CN": ...}, read once from the packaged ``strings.csv``."""
    raw = resources.files("esgledger.report").joinpath("strings.csv").read_text(encoding="utf-8")
    table: dict[str, dict[str, str]] = {}
    for row in csv.DictReader(io.StringIO(raw)):
        table[row["key"]] = {lang: row[lang] for lang in STRING_LANGS}
    return table


def ui(key: str, lang: str, **fields: str) -> str:
    """The UI string ``key`` in ``lang``, with ``{name}`` fields filled from ``fields``."""
    try:
        template = strings_table()[key][lang]
    except KeyError:
        if key in strings_table():
            raise UnknownStringError(f"{key} [{lang}]") from None
        raise UnknownStringError(key) from None
    return template.format(**fields) if fields else template


def text(key: str, **fields: Text) -> Text:
    """The UI string ``key`` as a bilingual :class:`~esgledger.report.document.Text`, each
    ``{name}`` filled with the field's text in the same language."""
    from esgledger.report.document import Text

    en = ui(key, "en", **{name: value.get("en") for name, value in fields.items()})
    zh = ui(key, "zh-CN", **{name: value.get("zh-CN") for name, value in fields.items()})
    return Text(en, zh)
