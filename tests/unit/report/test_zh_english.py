"""The English-word checker for zh-CN output (tests/_zh_english.py) on hand-made text."""

from __future__ import annotations

from _zh_english import english_words, html_text


def _words(text: str, **kwargs: object) -> list[str]:
    return [f.word for f in english_words(text, **kwargs)]  # type: ignore[arg-type]


def test_chinese_with_codes_units_and_acronyms_passes() -> None:
    text = (
        "范围一排放 2,385,737 t CO2e（运行 r-6fcb580ee022-20261207T043019Z），目标 S12-2030；"
        "按 HKEX《守则》A1.2、GRI 305-1、D.metrics.scope1 及 SBTi 标准；用电 '000 kWh、"
        "天然气 4000 Nm3；NOx、HFCs；详见 report.toml 与 https://example.org/a。"
    )
    assert _words(text) == []


def test_english_words_and_raw_keys_are_found_with_context() -> None:
    found = english_words("地区：hk_macao_taiwan；单位 people；import b-38304f8d1d45；每 yr")
    assert [f.word for f in found] == ["hk_macao_taiwan", "people", "import", "yr"]
    assert "单位 people" in str(found[1])


def test_hyphenated_words_are_split() -> None:
    assert _words("培训 120 person-times") == ["person", "times"]


def test_allowed_phrases_pass_only_where_they_appear_whole() -> None:
    phrase = "HR information system, headcount report (synthetic)"
    assert _words(f"佐证：{phrase}", allowed_phrases=[phrase]) == []
    assert _words("佐证：HR information system", allowed_phrases=[phrase]) == [
        "information",
        "system",
    ]


def test_allowed_words_and_proper_names() -> None:
    assert _words("由 esgledger 计算；数据来自 Ember") == []
    assert _words("站点 Shenzhen", allowed_words=["Shenzhen"]) == []
    assert _words("站点 Shenzhen") == ["Shenzhen"]


def test_html_text_keeps_visible_text_only() -> None:
    html = (
        "<html><head><title>报告 Report</title><style>td { color: red; }</style></head>"
        "<body><p>范围一</p><td>people</td><svg><text>Year</text></svg></body></html>"
    )
    assert _words(html_text(html)) == ["Report", "people", "Year"]


def test_code_spans_and_file_paths_are_code() -> None:
    assert _words("请以 `esgledger import WS FILE --kind measures` 导入") == []
    assert _words("请提供 report/narratives/climate.metrics.<lang>.md。") == []
    assert _words("请设置 `hourly_load`，而非 hourly_load") == ["hourly_load"]
