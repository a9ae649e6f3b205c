"""Reasons and notes as data: a code, its parameters, and an English and Chinese template.

原因与说明（数据化）：代码、参数，以及中英文模板。

A message a domain module gives a person (why a factor was chosen, a planner's note, the
basis of a check) is built as a :class:`Reason` — a template code from ``data/reasons.csv``
(``code, en, zh``) and its parameters — and rendered in the language the face chose
(:meth:`Reason.render`, ``"en"`` or ``"zh-CN"``). Nothing is translated afterwards by string
replacement: a face that needs both languages stores or prints both renderings.

Parameters are filled with :meth:`str.format` (``{year}``, ``{value:g}``); a parameter may
itself be a message:

* a :class:`Reason` renders in the same language;
* :class:`Words` are words put before a noun — in English each followed by a space, in
  Chinese run together (``provincial location-based `` / ``省级基于位置的``), so a template
  reads ``{region} {words}factor`` / ``{region}{words}排放因子``;
* :class:`Joined` parts are joined as clauses (``; `` / ``；``), :class:`Listing` items as a
  list (``, `` / ``、``).

A code missing from the table raises :class:`KeyError` at once (a test renders every code of
the table in both languages). Adding a message: add a row to ``data/reasons.csv`` next to
related rows (codes are dotted by module: ``resolve.*``, ``plan.*``), then build
``reason("resolve.my_code", name=value)`` where the text was an f-string.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "LANGS",
    "Joined",
    "Listing",
    "Reason",
    "Renderable",
    "Words",
    "reason",
    "templates",
]

#: The languages every template is written in.
LANGS: tuple[str, ...] = ("en", "zh-CN")
_COLUMN = {"en": "en", "zh-CN": "zh"}
_CLAUSE_SEP = {"en": "; ", "zh-CN": "；"}
_LIST_SEP = {"en": ", ", "zh-CN": "、"}


@functools.cache
def templates() -> dict[str, dict[str, str]]:
    """Code -> language -> template, from ``data/reasons.csv``."""
    raw = resources.files("esgledger.data").joinpath("reasons.csv").read_text(encoding="utf-8")
    out: dict[str, dict[str, str]] = {}
    for row in csv.DictReader(io.StringIO(raw)):
        out[row["code"]] = {lang: row[_COLUMN[lang]] for lang in LANGS}
    return out


def _check(lang: str) -> str:
    if lang not in _COLUMN:
        raise ValueError(f"unknown language {lang!r}: choose en or zh-CN")
    return lang


@runtime_checkable
class Renderable(Protocol):
    """Anything a message can take as a parameter and render in a language (a
    :class:`Reason`, or a domain object such as a fuel conversion)."""

    def render(self, lang: str = "en") -> str: ...


def _render(value: Any, lang: str) -> Any:
    if isinstance(value, Renderable):
        return value.render(lang)
    return value


@dataclass(frozen=True, slots=True)
class Reason:
    """A message: a template code of ``data/reasons.csv`` and its parameters."""

    code: str
    params: tuple[tuple[str, Any], ...] = ()

    def render(self, lang: str = "en") -> str:
        """The message in ``lang`` (``"en"`` or ``"zh-CN"``)."""
        template = templates()[self.code][_check(lang)]
        return template.format(**{k: _render(v, lang) for k, v in self.params})

    @property
    def en(self) -> str:
        return self.render("en")

    @property
    def zh(self) -> str:
        return self.render("zh-CN")


def reason(code: str, **params: Any) -> Reason:
    """A :class:`Reason`; the code must be in the table (checked now, not when printed)."""
    if code not in templates():
        raise KeyError(f"no message {code!r} in esgledger/data/reasons.csv")
    return Reason(code, tuple(params.items()))


@dataclass(frozen=True, slots=True)
class Words:
    """Words before a noun: ``"a b "`` in English, ``"ab"`` in Chinese; empty parts skipped."""

    parts: tuple[Reason | str, ...]

    def render(self, lang: str = "en") -> str:
        rendered = [str(_render(p, lang)) for p in self.parts]
        rendered = [p for p in rendered if p]
        if lang == "en":
            return "".join(f"{p} " for p in rendered)
        return "".join(rendered)


@dataclass(frozen=True, slots=True)
class Joined:
    """Clauses joined by ``; `` (English) or ``；`` (Chinese)."""

    parts: tuple[Reason | Words | Joined | Listing | str, ...]

    def render(self, lang: str = "en") -> str:
        return _CLAUSE_SEP[_check(lang)].join(str(_render(p, lang)) for p in self.parts)


@dataclass(frozen=True, slots=True)
class Listing:
    """Items of a list joined by ``, `` (English) or ``、`` (Chinese)."""

    items: tuple[Any, ...]

    def render(self, lang: str = "en") -> str:
        return _LIST_SEP[_check(lang)].join(str(_render(i, lang)) for i in self.items)
