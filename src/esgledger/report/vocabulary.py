"""The report's vocabulary as data: breakdown dimensions and values, unit labels, in English
and Simplified Chinese.

报告词汇（数据化）：分类维度及取值、单位标签的中英文名称。

``breakdowns.csv`` (``dimension, value, en, zh``; an empty ``value`` names the dimension
itself) labels the ``key=value`` breakdowns of metric values and derived metrics
(``region=hk_macao_taiwan`` -> ``region: Hong Kong, Macao and Taiwan`` / ``地区：港澳台地区``).
``messages.csv`` (``pattern, zh``) gives the Chinese of the engine's messages the report
prints (run warnings, consolidation reasons). ``units.csv`` (``label, zh``) gives the
Chinese of the unit labels the report prints (``t CO2e / employee`` ->
``吨二氧化碳当量／雇员``). A key that is in none is printed as written, so a new value shows
up rather than disappearing.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from importlib import resources

from esgledger.report.document import Text

__all__ = [
    "breakdown_label",
    "breakdown_text",
    "breakdowns_table",
    "message_text",
    "unit_text",
]


def _read(name: str) -> list[dict[str, str]]:
    raw = resources.files("esgledger.report").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(raw)))


@functools.cache
def breakdowns_table() -> dict[tuple[str, str], Text]:
    """(dimension, value) -> label; ``(dimension, "")`` is the dimension's own label."""
    return {
        (row["dimension"], row["value"]): Text(row["en"], row["zh"])
        for row in _read("breakdowns.csv")
    }


@functools.cache
def _units() -> dict[str, str]:
    return {row["label"]: row["zh"] for row in _read("units.csv")}


def breakdown_label(dimension: str, value: str = "") -> Text:
    """The label of a breakdown dimension (``value=""``) or of one of its values."""
    return breakdowns_table().get((dimension, value)) or Text.same(value or dimension)


def breakdown_text(breakdown: str) -> Text:
    """``method=market;scope=1+2`` as ``method: market-based, scope: 1+2`` /
    ``方法：基于市场，范围：1+2`` (empty for the total).

    >>> breakdown_text("region=hk_macao_taiwan;type=full_time").en
    'region: Hong Kong, Macao and Taiwan, type: full-time'
    """
    if not breakdown:
        return Text("")
    parts = [part.partition("=") for part in breakdown.split(";") if part]
    labels = [(breakdown_label(k), breakdown_label(k, v)) for k, _, v in parts]
    return Text(
        ", ".join(f"{k.en}: {v.en}" for k, v in labels),
        "，".join(f"{k.zh}：{v.zh}" for k, v in labels),
    )


def _unit_zh(part: str) -> str:
    units = _units()
    if part in units:
        return units[part]
    head, _, rest = part.partition(" ")
    if head == "million" and rest:
        return f"{units['million']}{units.get(rest, rest)}"
    return part


def unit_text(label: str) -> Text:
    """A printed unit label in both languages; ``A / B`` is translated part by part.

    >>> unit_text("t CO2e / million CNY").zh
    '吨二氧化碳当量／百万CNY'
    """
    if not label:
        return Text("")
    return Text(label, "／".join(_unit_zh(part.strip()) for part in label.split(" / ")))


@functools.cache
def _messages() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(row["pattern"]), row["zh"]) for row in _read("messages.csv"))


@functools.cache
def _activity_names_zh() -> dict[str, str]:
    from esgledger.taxonomy import Taxonomy

    return {t.activity: t.name_zh for t in Taxonomy.shipped()}


@functools.cache
def _metric_titles_zh() -> dict[str, str]:
    from esgledger.disclosure import load_catalogue

    return {item.code: item.title_zh for item in load_catalogue() if item.title_zh}


_ACTIVITY_IN_REGION = re.compile(r"(?P<activity>[\w.]+) in (?P<region>[\w-]+) \((?P<n>\d+)\)")
_JOINT_CONTROL = re.compile(
    r"joint financial control of (?P<entity>\S+) at (?P<share>[\d.]+ %) equity"
)
_ACTIVITY_IN_UNIT = re.compile(r"(?P<activity>[\w.]+) in (?P<unit>[^,]+)")
#: The list fields of messages: each entry the field's pattern finds is written with its
#: string of the strings table, esgledger.i18n (its named groups filled in, an activity by its
#: Chinese name).
_LIST_FIELDS: dict[str, tuple[re.Pattern[str], str]] = {
    "activities": (_ACTIVITY_IN_REGION, "b.msg_activity_in_region"),
    "units": (_ACTIVITY_IN_UNIT, "b.msg_activity_in_unit"),
    "joint": (_JOINT_CONTROL, "b.msg_joint_control"),
}


def _field_zh(name: str, value: str) -> str:
    """A field of a message in Chinese: activity lists (``electricity in CN-GD (48)``,
    ``stationary.diesel in L``) name the activity in Chinese; ``message`` is a message of its
    own; ``metric`` is named by its catalogue title; ``more`` counts the entries left out."""
    from esgledger.i18n import ui

    if name in _LIST_FIELDS:
        pattern, key = _LIST_FIELDS[name]
        names = _activity_names_zh()
        entries = []
        for found in pattern.finditer(value):
            fields = found.groupdict()
            if "activity" in fields:
                fields["activity"] = names.get(fields["activity"], fields["activity"])
            entries.append(ui(key, "zh-CN", **fields))
        return ui("b.msg_list_separator", "zh-CN").join(entries)
    if name == "metric":
        return _metric_titles_zh().get(value, value)
    if name == "message":
        return message_text(value).zh
    if name == "more":
        return ui("b.msg_more", "zh-CN", n=value) if value else ""
    return value


def message_text(message: str) -> Text:
    """A message of the engine printed in the report (a run warning, a consolidation reason,
    the basis of the temperature score) in both languages, from ``messages.csv``: the first
    pattern that matches the whole message gives the Chinese, its named groups filled in. A
    message no pattern matches reads the same in both languages (and the Chinese edition's
    English-word test names it)."""
    for pattern, zh in _messages():
        found = pattern.fullmatch(message)
        if found:
            fields = {k: _field_zh(k, v or "") for k, v in found.groupdict().items()}
            return Text(message, zh.format(**fields))
    return Text.same(message)
