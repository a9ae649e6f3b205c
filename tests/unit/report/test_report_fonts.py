"""CJK font lookup via fontconfig and the glyph-coverage check."""

from __future__ import annotations

import shutil

import pytest

from esgledger.report import fonts

pytestmark = pytest.mark.skipif(
    shutil.which("fc-list") is None, reason="fontconfig (fc-list) is not installed"
)


def test_finds_a_simplified_chinese_font() -> None:
    font = fonts.find_cjk_font()
    if "CJK" not in font.family:
        pytest.skip(f"no Noto CJK font installed (found {font.family})")
    assert font.family in fonts.PREFERRED_CJK_FAMILIES
    assert font.path.is_file()
    assert fonts.missing_glyphs("范围一排放 温室气体 ESG 2024") == set()


def test_missing_glyphs_names_characters_no_font_has() -> None:
    assert fonts.missing_glyphs("范围\ue000") == {"\ue000"}


def test_css_font_stack_puts_the_cjk_font_first_for_chinese() -> None:
    family = fonts.find_cjk_font().family
    assert fonts.css_font_stack("zh-CN").startswith(f'"{family}"')
    assert f'"{family}"' in fonts.css_font_stack("en")
    assert fonts.css_font_stack("en").endswith("sans-serif")


def test_missing_fontconfig_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    fonts.find_cjk_font.cache_clear()
    monkeypatch.setattr(fonts.shutil, "which", lambda name: None)
    try:
        with pytest.raises(
            fonts.CjkFontNotFoundError,
            match=r"fc-list is not installed.*fonts-noto-cjk.*tools/install-system-packages.sh",
        ):
            fonts.find_cjk_font()
    finally:
        fonts.find_cjk_font.cache_clear()


def test_no_chinese_font_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    fonts.find_cjk_font.cache_clear()
    fonts._installed.cache_clear()
    monkeypatch.setattr(fonts, "_fc", lambda *args: [])
    try:
        assert '"Noto Sans CJK' not in fonts.css_font_stack("en")  # English still renders
        with pytest.raises(fonts.CjkFontNotFoundError, match="fonts-noto-cjk"):
            fonts.css_font_stack("zh-CN")
        with pytest.raises(
            fonts.CjkFontNotFoundError, match=r"no font for ':lang=zh'.*fonts-noto-cjk"
        ):
            fonts.find_cjk_font()
    finally:
        fonts.find_cjk_font.cache_clear()
        fonts._installed.cache_clear()
