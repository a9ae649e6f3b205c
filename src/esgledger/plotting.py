"""The one matplotlib setup for every chart esgledger draws.

Every chart of the product (MACC, scenario pathways, CFE heat-maps, report figures) is drawn
inside :func:`chart_style` and written with :func:`save_figure`, so that:

* no GUI backend is ever touched: figures are built with :func:`new_figure`
  (``matplotlib.figure.Figure``, rendered by Agg for PNG and by the SVG backend for SVG),
  never through ``pyplot``;
* Chinese labels (``lang="zh-CN"``) are drawn with a CJK font found by fontconfig
  ("Noto Sans CJK SC" first); when none is installed a :class:`CjkFontMissingWarning` says
  which system package to install (or :class:`CjkFontMissingError` with ``strict=True``);
* SVG keeps text as text (``svg.fonttype: none``) so a report can embed, search and restyle it,
  and the same figure gives the same bytes (``svg.hashsalt`` fixed, no date metadata, the
  matplotlib version left out of the metadata).

Examples
--------
>>> from esgledger.plotting import chart_style, new_figure, save_figure
>>> with chart_style("en"):
...     fig = new_figure(width_in=4, height_in=3)
...     _ = fig.add_subplot().bar([0, 1], [1, 2])
...     data = save_figure(fig, fmt="svg")
>>> data[:5] == b"<?xml"
True
"""

from __future__ import annotations

import io
import shutil
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Literal, cast

import matplotlib as mpl
from cycler import cycler
from matplotlib import font_manager
from matplotlib.figure import Figure

from esgledger.errors import EsgledgerError

__all__ = [
    "CJK_FONT_CANDIDATES",
    "CJK_FONT_PACKAGES",
    "HOUSE_COLOURS",
    "LANGS",
    "CjkFontMissingError",
    "CjkFontMissingWarning",
    "UnknownFormatError",
    "UnknownLangError",
    "chart_style",
    "cjk_font",
    "new_figure",
    "save_figure",
]

LANGS: tuple[str, ...] = ("en", "zh-CN")
"""Languages the charts can be labelled in."""

HOUSE_COLOURS: dict[str, str] = {
    "ink": "#1f2a36",  # text, axes
    "grid": "#d5dbe1",
    "primary": "#1b6e53",  # deep green: reductions, abatement
    "secondary": "#2f7fb8",  # blue: green power
    "accent": "#e0a526",  # amber: offsets, warnings
    "negative": "#c0392b",  # red: gaps, costs above zero in MACC emphasis
    "neutral": "#8a96a3",  # grey: business as usual, residual
    "removal": "#6c4a9e",  # purple: removals
}
"""House colours, by role. Charts pick by role, never by hex."""

_CYCLE: tuple[str, ...] = (
    "#1b6e53",
    "#2f7fb8",
    "#e0a526",
    "#6c4a9e",
    "#c0392b",
    "#3aa69b",
    "#8c6d3f",
    "#d96fa6",
    "#5b7083",
    "#9bbf3a",
)

CJK_FONT_CANDIDATES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
    "Noto Sans CJK TC",
    "Noto Sans CJK JP",
)
"""CJK font families tried for ``zh-CN`` charts, in order of preference."""

CJK_FONT_PACKAGES = (
    "fonts-noto-cjk (Debian/Ubuntu: apt-get install fonts-noto-cjk), "
    "google-noto-sans-cjk-ttc-fonts (Fedora/RHEL), noto-fonts-cjk (Arch), "
    "or font-noto-cjk (Alpine)"
)
"""System packages that provide "Noto Sans CJK SC", named in the missing-font message."""

_SVG_HASHSALT = "esgledger"

_MISSING_FONT_MESSAGE = (
    "no CJK font was found by fontconfig or matplotlib, so Chinese chart labels would be drawn "
    "as empty boxes; install a CJK font such as 'Noto Sans CJK SC' with the system package "
    + CJK_FONT_PACKAGES
    + ", then delete matplotlib's font cache (~/.cache/matplotlib/fontlist-*.json)"
)


class UnknownLangError(EsgledgerError, ValueError):
    """A chart language other than ``en`` or ``zh-CN`` was asked for."""

    def __init__(self, lang: str):
        self.lang = lang
        super().__init__(f"unknown chart language {lang!r}; use one of {', '.join(LANGS)}")


class UnknownFormatError(EsgledgerError, ValueError):
    """A chart file format other than svg or png was asked for."""

    def __init__(self, fmt: str):
        self.fmt = fmt
        super().__init__(f"unknown chart format {fmt!r}; use 'svg' or 'png' (or a .svg/.png path)")


class CjkFontMissingError(EsgledgerError, RuntimeError):
    """``zh-CN`` chart asked with ``strict=True`` but no CJK font is installed."""

    def __init__(self) -> None:
        self.packages = CJK_FONT_PACKAGES
        super().__init__(_MISSING_FONT_MESSAGE)


class CjkFontMissingWarning(UserWarning):
    """``zh-CN`` chart drawn without a CJK font: Chinese glyphs will not render in PNG."""


def _matplotlib_families() -> set[str]:
    return {entry.name for entry in font_manager.fontManager.ttflist}


def _fontconfig_files(family: str) -> list[str]:
    """Font files fontconfig knows for ``family`` (empty when fc-list is absent)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    try:
        result = subprocess.run(
            [fc_list, "--format", "%{file}\n", f"{family}:lang=zh"],
            capture_output=True,
            text=True,
            check=False,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return sorted({line for line in result.stdout.splitlines() if line})


def cjk_font() -> str | None:
    """The CJK font family used for ``zh-CN`` charts, or ``None`` when none is installed.

    Looks in matplotlib's font list first, then asks fontconfig (``fc-list :lang=zh``) for a
    font installed after matplotlib built its cache and registers its file with matplotlib.
    Candidates are tried in the order of :data:`CJK_FONT_CANDIDATES`.
    """
    known = _matplotlib_families()
    for family in CJK_FONT_CANDIDATES:
        if family in known:
            return family
    for family in CJK_FONT_CANDIDATES:
        files = _fontconfig_files(family)
        for path in files:
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
        if files and family in _matplotlib_families():
            return family
    return None


def _rc(lang: str, font: str | None) -> dict[str, Any]:
    ink = HOUSE_COLOURS["ink"]
    sans = ["DejaVu Sans"]
    if font is not None:
        # The CJK font first: it also carries Latin glyphs, so one font renders mixed labels.
        sans = [font, *sans]
    return {
        "font.family": "sans-serif",
        "font.sans-serif": sans,
        "font.size": 9.0,
        "axes.unicode_minus": font is None,
        "axes.edgecolor": ink,
        "axes.labelcolor": ink,
        "axes.titlesize": 11.0,
        "axes.titleweight": "bold",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "axes.grid.axis": "y",
        "axes.axisbelow": True,
        "axes.prop_cycle": cycler(color=list(_CYCLE)),
        "grid.color": HOUSE_COLOURS["grid"],
        "grid.linewidth": 0.6,
        "xtick.color": ink,
        "ytick.color": ink,
        "text.color": ink,
        "legend.frameon": False,
        "legend.fontsize": 8.0,
        "figure.dpi": 100.0,
        "savefig.dpi": 150.0,
        "savefig.bbox": "tight",
        "svg.fonttype": "none",
        "svg.hashsalt": _SVG_HASHSALT,
        "path.simplify": True,
    }


@contextmanager
def chart_style(lang: str = "en", *, strict: bool = False) -> Iterator[str | None]:
    """House matplotlib settings for one chart, restored on exit.

    Parameters
    ----------
    lang
        ``"en"`` or ``"zh-CN"``. For ``zh-CN`` a CJK font is put first in the font list.
    strict
        For ``zh-CN`` without a CJK font: raise :class:`CjkFontMissingError` instead of
        warning with :class:`CjkFontMissingWarning`.

    Yields
    ------
    str or None
        The CJK font family in use (``None`` for ``en`` or when none is installed).

    Raises
    ------
    UnknownLangError
        ``lang`` is not one of :data:`LANGS`.
    CjkFontMissingError
        ``strict=True``, ``lang="zh-CN"`` and no CJK font is installed.
    """
    if lang not in LANGS:
        raise UnknownLangError(lang)
    font: str | None = None
    if lang == "zh-CN":
        font = cjk_font()
        if font is None:
            if strict:
                raise CjkFontMissingError()
            warnings.warn(_MISSING_FONT_MESSAGE, CjkFontMissingWarning, stacklevel=3)
    with mpl.rc_context(_rc(lang, font)):  # type: ignore[arg-type]
        yield font


def new_figure(width_in: float = 8.0, height_in: float = 4.5) -> Figure:
    """A figure that belongs to no GUI backend (no ``pyplot``); draw inside :func:`chart_style`.

    Parameters
    ----------
    width_in, height_in
        Figure size [inch].
    """
    return Figure(figsize=(width_in, height_in), layout="constrained")


def save_figure(
    fig: Figure,
    target: str | Path | IO[bytes] | None = None,
    fmt: Literal["svg", "png"] | None = None,
) -> bytes:
    """Render ``fig`` deterministically and return the bytes (also written to ``target``).

    Parameters
    ----------
    fig
        The figure.
    target
        A path or binary file to write to, or ``None`` to only return the bytes.
    fmt
        ``"svg"`` or ``"png"``; by default taken from the path's suffix, else ``"svg"``.

    Returns
    -------
    bytes
        The rendered file. The same figure gives the same bytes: the SVG id salt is fixed,
        the date and the matplotlib version are left out of the metadata, and SVG keeps its
        text as ``<text>`` elements (``svg.fonttype: none``).

    Raises
    ------
    EsgledgerError
        ``fmt`` (or the path's suffix) is neither svg nor png.
    """
    if fmt is None:
        suffix = Path(target).suffix.lower().lstrip(".") if isinstance(target, str | Path) else ""
        fmt = cast(Literal["svg", "png"], suffix or "svg")
    if fmt not in ("svg", "png"):
        raise UnknownFormatError(str(fmt))
    buffer = io.BytesIO()
    metadata: dict[str, str | None] = (
        {"Date": None, "Creator": "esgledger"} if fmt == "svg" else {"Software": "esgledger"}
    )
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": _SVG_HASHSALT}):
        fig.savefig(buffer, format=fmt, metadata=metadata)
    data = buffer.getvalue()
    if isinstance(target, str | Path):
        Path(target).write_bytes(data)
    elif target is not None:
        target.write(data)
    return data
