"""Fonts of the report: a CJK font found by fontconfig, and a glyph-coverage check.

报告字体：通过 fontconfig 查找中日韩字体，并检查字形覆盖，绝不静默输出“豆腐块”。

WeasyPrint draws text with the fonts fontconfig knows. The Chinese edition needs a font with
Simplified Chinese glyphs; "Noto Sans CJK SC" (Debian package ``fonts-noto-cjk``) is preferred,
then "Noto Serif CJK SC", then any font fontconfig lists for ``:lang=zh``. Without one,
:func:`find_cjk_font` raises :class:`CjkFontNotFoundError` naming the package to install,
instead of letting the PDF show empty boxes (tofu). :func:`missing_glyphs` tells which
characters of a text no report font can draw.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from esgledger.errors import EsgledgerError

__all__ = [
    "INSTALL_HINT",
    "PREFERRED_CJK_FAMILIES",
    "CjkFont",
    "CjkFontNotFoundError",
    "css_font_stack",
    "find_cjk_font",
    "missing_glyphs",
]

PREFERRED_CJK_FAMILIES: tuple[str, ...] = ("Noto Sans CJK SC", "Noto Serif CJK SC")
"""CJK families tried first, in order; then any family fontconfig lists for ``:lang=zh``."""

LATIN_FAMILIES: tuple[str, ...] = ("DejaVu Sans",)
"""Latin families put before the CJK font in the English edition (when installed)."""

INSTALL_HINT = (
    "install the Debian/Ubuntu package fonts-noto-cjk (run 'bash tools/install-system-packages.sh' "
    "or 'sudo apt-get install fonts-noto-cjk'; on Fedora google-noto-sans-cjk-ttc-fonts)"
)


class CjkFontNotFoundError(EsgledgerError, RuntimeError):
    """No font with Simplified Chinese glyphs is installed (or fontconfig is missing)."""

    def __init__(self, detail: str):
        self.detail = detail
        super().__init__(
            f"no CJK font for the Chinese report: {detail}; the PDF would show empty boxes "
            f"instead of Chinese characters. Fix: {INSTALL_HINT}"
        )


@dataclass(frozen=True, slots=True)
class CjkFont:
    """A CJK font fontconfig found: family name, file and face index inside a .ttc."""

    family: str
    path: Path
    index: int = 0


def _fc(*args: str) -> list[str]:
    exe = shutil.which(args[0])
    if exe is None:
        raise CjkFontNotFoundError(f"fontconfig's {args[0]} is not installed")
    try:
        result = subprocess.run(
            [exe, *args[1:]], capture_output=True, text=True, check=False, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CjkFontNotFoundError(f"{args[0]} failed: {exc}") from exc
    return [line for line in result.stdout.splitlines() if line.strip()]


@functools.cache
def find_cjk_font() -> CjkFont:
    """The CJK font the report uses (cached for the process).

    Raises
    ------
    CjkFontNotFoundError
        fontconfig lists no font for ``:lang=zh`` (message names ``fonts-noto-cjk``).
    """
    lines = _fc("fc-list", "--format", "%{family[0]}|%{file}|%{index}|%{style[0]}\n", ":lang=zh")
    faces: list[tuple[str, Path, int, str]] = []
    for line in lines:
        family, path, index, style = [*line.split("|"), "", "", "0", ""][:4]
        faces.append((family, Path(path), int(index or 0), style))
    if not faces:
        raise CjkFontNotFoundError("fontconfig lists no font for ':lang=zh'")

    def rank(face: tuple[str, Path, int, str]) -> tuple[int, int, str, int]:
        family, path, index, style = face
        preferred = (
            PREFERRED_CJK_FAMILIES.index(family)
            if family in PREFERRED_CJK_FAMILIES
            else len(PREFERRED_CJK_FAMILIES) + (0 if " SC" in family else 1)
        )
        return (preferred, 0 if style == "Regular" else 1, str(path), index)

    best = min(faces, key=rank)
    return CjkFont(family=best[0], path=best[1], index=best[2])


@functools.cache
def _installed(family: str) -> bool:
    try:
        return bool(_fc("fc-list", "--format", "%{family[0]}\n", family))
    except CjkFontNotFoundError:
        return False


def css_font_stack(lang: str) -> str:
    """The CSS ``font-family`` value for ``lang``: the CJK font first for ``zh-CN``; for ``en``
    a Latin font first with the CJK font as fallback (names, places in Chinese).

    Raises
    ------
    CjkFontNotFoundError
        ``lang`` is ``zh-CN`` and no CJK font is installed. (The English stack then simply
        has no CJK fallback; a Chinese character in it is caught when the PDF is drawn.)
    """
    latin = [family for family in LATIN_FAMILIES if _installed(family)]
    try:
        cjk = [find_cjk_font().family]
    except CjkFontNotFoundError:
        if lang == "zh-CN":
            raise
        cjk = []
    families = [*cjk, *latin] if lang == "zh-CN" else [*latin, *cjk]
    return ", ".join(f'"{family}"' for family in families) + ", sans-serif"


@functools.cache
def _cmap(path: Path, index: int) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    font = TTFont(str(path), fontNumber=index, lazy=True)
    try:
        return frozenset(font.getBestCmap())
    finally:
        font.close()


def missing_glyphs(text: str, fonts: Iterable[CjkFont] | None = None) -> set[str]:
    """Characters of ``text`` that none of ``fonts`` (default: the CJK font) can draw.

    Spaces, controls and format characters are ignored. An empty set means no tofu.
    """
    chosen = list(fonts) if fonts is not None else [find_cjk_font()]
    covered: set[int] = set()
    for font in chosen:
        covered |= _cmap(font.path, font.index)
    drawn = {ch for ch in set(text) if unicodedata.category(ch) not in _INVISIBLE}
    return {ch for ch in drawn if ord(ch) not in covered}


_INVISIBLE = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})
"""Unicode categories that draw no glyph (controls, format characters, spaces)."""
