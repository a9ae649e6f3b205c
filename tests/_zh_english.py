"""Find English words in Simplified Chinese (zh-CN) output.

简体中文输出中的英文单词检查器（报告、CLI 输出共用）。

The Chinese edition of the report and every ``--lang zh-CN`` output must read as Chinese. A
Chinese text may still hold Latin letters where Chinese readers expect them; everything else
is an English word that was not translated. :func:`english_words` returns those words.

What is allowed (the allow-list, in the order it is applied)
-----------------------------------------------------------
1. **Verbatim phrases** the caller passes as ``allowed_phrases``: text the user entered or
   that names a work in its own language (a site's name, an evidence note, the title of an
   English publication cited as a source, a licence's name). They are removed from the text
   before it is split into words, so a phrase only passes where it appears whole.
2. **Code spans**: text between backticks (`` `esgledger import WS FILE --kind measures` ``,
   `` `hourly_load` ``) is what the user types: commands, options, configuration keys.
3. **Codes and identifiers**: a token with a digit (``S12-2030``, ``r-6fcb…``, ``AR6``,
   ``CO2e``, ``305-7``), a token in capitals (``HKEX``, ``GRI``, ``DC-SZ``, ``PUE``), a
   dotted code (``D.metrics.scope1``, ``CO.data_security.incidents``), a token with an
   internal capital (``SBTi``, ``kWh``), a URL, an e-mail address or a file name
   (``report.toml``, ``report/narratives/<section>.<lang>.md``); a word starting with two
   capitals is an acronym (``NOx``, ``HFCs``, ``SBTi``). A ``snake_case`` word outside
   backticks is *not* a code: it is how raw vocabulary keys (``hk_macao_taiwan``,
   ``full_time``) leak, so it is reported.
4. **Units** (:data:`UNITS`): the symbols a Chinese report prints as they are (``t``, ``kg``,
   ``kWh``, ``m3``, ``km``, ``L``, ``yr`` is *not* one: it is English).
5. **Proper names** (:data:`PROPER_NAMES`): names of programs, standards bodies and
   publishers kept in their own spelling in Chinese text (``esgledger``, ``Ember``,
   ``WeasyPrint``…).
6. ``allowed_words`` the caller adds (case-sensitive), for names particular to one output.

Everything else made of two or more Latin letters is an English word (single letters are too
ambiguous to judge: ``t`` is a unit, ``x`` a multiplier).

Usage::

    from _zh_english import english_words, html_text

    found = english_words(html_text(html), allowed_phrases=site_names)
    assert not found, "\\n".join(str(f) for f in found)
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser

__all__ = [
    "PROPER_NAMES",
    "UNITS",
    "Finding",
    "english_words",
    "html_text",
]

#: Unit symbols printed as they are in Chinese text (SI and the report's energy and emission
#: units). Case-sensitive.
UNITS: frozenset[str] = frozenset(
    {
        "t", "kg", "g", "mg", "Mt", "kt", "tCO2e", "CO2e", "kWh", "MWh", "GWh", "TWh", "Wh",
        "kW", "MW", "GW", "W", "GJ", "MJ", "TJ", "PJ", "m", "km", "m2", "m3", "Nm3", "L",
        "kL", "ML", "pkm", "tkm", "vkm", "h", "s", "ppm", "kPa", "Pa", "gal", "lb", "mi",
        "scf", "therm", "kcal",
    }
)  # fmt: skip

#: Names spelt in Latin letters in Chinese text too (software, publishers, data sets).
#: Case-sensitive; add a name here only if a Chinese reader would see it so in a Chinese
#: publication.
PROPER_NAMES: frozenset[str] = frozenset(
    {
        "esgledger", "Ember", "WeasyPrint", "Noto", "CodeCarbon", "Defra", "openclimatedata",
        "globalwarmingpotentials", "Python", "Excel", "Markdown",
        # the file format's name, spelt so in Chinese as Excel is (the upload forms name it)
        "Parquet",
    }
)  # fmt: skip

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-/+:@%'<>]*[A-Za-z0-9]|[A-Za-z0-9]")
_CODE_SPAN = re.compile(r"`[^`\n]+`")
_URL = re.compile(r"^(https?://|www\.)|@|\.(csv|xlsx|toml|md|json|html|pdf|py|parquet)$")
_LETTERS = re.compile(r"[A-Za-z]{2,}")


@dataclass(frozen=True, slots=True)
class Finding:
    """An English word found in Chinese text, with some text around it."""

    word: str
    context: str

    def __str__(self) -> str:
        return f"{self.word!r} in …{self.context}…"


def _is_code(token: str) -> bool:
    core = token.strip(".:'-/+%")
    if not core:
        return True
    if any(ch.isdigit() for ch in core):
        return True
    if _URL.search(core):
        return True
    letters = [ch for ch in core if ch.isalpha()]
    if len(letters) >= 2 and letters[0].isupper() and letters[1].isupper():
        return True  # an acronym or a code in capitals (HKEX, DC-SZ, NOx, HFCs, SBTi)
    if "." in core.strip("."):
        parts = [p for p in core.split(".") if p]
        if len(parts) >= 2 and all(p for p in parts):
            return True  # a dotted code (D.metrics.scope1)
    # an internal capital after a lower-case letter: kWh, iPhone
    return any(a.islower() and b.isupper() for a, b in itertools.pairwise(core))


def english_words(
    text: str,
    *,
    allowed_phrases: Iterable[str] = (),
    allowed_words: Iterable[str] = (),
    context: int = 30,
) -> list[Finding]:
    """English words of ``text`` (a zh-CN output) outside the allow-list (module docstring).

    Parameters
    ----------
    text
        Plain text (use :func:`html_text` for HTML).
    allowed_phrases
        Verbatim text (user-entered, names and titles in their own language) removed before
        the check; longest first, so a phrase inside a longer one does not break it.
    allowed_words
        Further words allowed as they are (case-sensitive).
    context
        Characters of text shown on each side of a finding.

    Returns
    -------
    list of Finding
        In order of appearance; empty when the text reads as Chinese.
    """
    phrases = sorted({p for p in allowed_phrases if p and _LETTERS.search(p)}, key=len)
    for phrase in reversed(phrases):
        text = text.replace(phrase, " " * len(phrase))
    text = _CODE_SPAN.sub(lambda m: " " * len(m.group(0)), text)
    words = set(allowed_words) | UNITS | PROPER_NAMES
    found: list[Finding] = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if not _LETTERS.search(token) or _is_code(token):
            continue
        for part in re.split(r"[-/+:'<>]", token.strip(".")):
            if len(part) < 2 or not _LETTERS.search(part) or part in words:
                continue
            if part.endswith("s") and part[:-1] in UNITS:
                continue
            start, end = max(0, match.start() - context), match.end() + context
            snippet = re.sub(r"\s+", " ", text[start:end]).strip()
            found.append(Finding(part, snippet))
    return found


class _VisibleText(HTMLParser):
    """The text a reader sees: element text and ``alt``/``title`` attributes, without
    ``<style>``/``<script>`` and without the ``<svg>`` charts' own source (their ``<text>``
    elements are kept: labels of a chart are read too)."""

    _HIDDEN = frozenset({"style", "script"})
    _BREAKS = frozenset(
        {"p", "td", "th", "li", "div", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "caption",
         "figcaption", "dt", "dd", "br", "title", "text", "tspan"}
    )  # fmt: skip

    _VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                       "meta", "source", "track", "wbr"})  # fmt: skip

    def __init__(self, *, skip_untranslated: bool = False) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0
        self._skip_untranslated = skip_untranslated
        self._keep: list[str] = []  # the open element marked translate="no" (name, nesting)
        self._keep_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip_untranslated and tag not in self._VOID:
            if self._keep and tag == self._keep[0]:
                self._keep_depth += 1
            elif not self._keep and ("translate", "no") in attrs:
                self._keep, self._keep_depth = [tag], 1
                self._hidden += 1
        if tag in self._HIDDEN:
            self._hidden += 1
        if tag in self._BREAKS:
            self.parts.append("\n")
        for name, value in attrs:
            labels = (
                ("alt", "title", "aria-label", "placeholder")
                if self._skip_untranslated
                else ("alt", "title")
            )
            if name in labels and value and not self._hidden:
                self.parts.append(f"\n{value}\n")

    def handle_endtag(self, tag: str) -> None:
        if self._keep and tag == self._keep[0]:
            self._keep_depth -= 1
            if self._keep_depth == 0:
                self._keep = []
                self._hidden = max(0, self._hidden - 1)
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        if tag in self._BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_text(html: str, *, skip_untranslated: bool = False) -> str:
    """The visible text of an HTML page, one block per line (see :class:`_VisibleText`).

    ``skip_untranslated`` leaves out elements marked ``translate="no"`` (HTML's own mark of
    text that is not to be translated: what a user typed, names, codes) — the pages mark
    every such value so, and only such values."""
    parser = _VisibleText(skip_untranslated=skip_untranslated)
    parser.feed(html)
    parser.close()
    return re.sub(r"\n\s*\n+", "\n", "".join(parser.parts))
