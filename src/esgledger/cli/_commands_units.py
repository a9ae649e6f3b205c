"""``esgledger units``: the units activity data may be given in, by dimension, with the other
spellings accepted for each (Chinese ones included) and the rules for case and ``ton``.

The list is the schema's ``common_units.csv`` (unit, dimension, English and Chinese names);
the spellings are the aliases of :data:`esgledger.units.ALIASES` that mean the same unit.
Aliases of units the list does not name are shown after it, grouped by the unit they mean.
"""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum
from importlib import resources
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from esgledger.cli._app import Lang, app, console
from esgledger.errors import UnitError

#: Chinese names of the dimensions of common_units.csv (others are shown as written there).
_DIMENSIONS_ZH = {
    "[energy]": "能量",
    "[volume]": "体积",
    "[substance]": "标准状态气体体积（物质的量）",
    "[mass]": "质量",
    "[length]": "距离",
    "[area]": "面积",
    "[time]": "时间",
    "[passenger] * [length]": "人·距离",
    "[vehicle] * [length]": "车·距离",
    "[mass] * [length]": "质量·距离",
    "[room_night]": "间夜",
    "[FTE] * [time]": "全职当量工时",
    "[item]": "件数",
    "[employee]": "人数",
    "[currency]": "货币",
}

#: Dimensions tried, in order, to name the dimension of an alias outside common_units.csv.
_NAMED_DIMENSIONS = ("[energy]", "[volume]", "[mass]", "[length]", "[area]", "[time]")

RULES = (
    "Units are read exactly first. Another capitalisation is accepted when only one unit fits "
    "(KG, Kwh, M3); where the case of a letter picks the SI prefix (MWh / mWh, MJ / mJ, "
    "Mt / mt, Mm / mm) the unit must be written exactly. 'ton', 'tons' and 'MT' are refused "
    "as ambiguous: write t (metric tonne) or short_ton (US ton).",
    "单位先按原样精确匹配；大小写不同的写法仅在只对应一个单位时接受（如 KG、Kwh、M3）。"
    "字母大小写决定词头的单位（MWh / mWh、MJ / mJ、Mt / mt、Mm / mm）须准确书写。"
    "“ton”“tons”“MT”含义不明确，不予接受：请写 t（公吨）或 short_ton（美制短吨）。",
)


class UnitsFormat(StrEnum):
    text = "text"
    json = "json"


def _same_unit(a: Any, b: Any) -> bool:
    base_a, base_b = a.to_base_units(), b.to_base_units()
    if base_a.units != base_b.units:
        return False
    return abs(float(base_a.magnitude) - float(base_b.magnitude)) <= 1e-12 * abs(
        float(base_b.magnitude)
    )


def _dimension_label(quantity: Any) -> str:
    from esgledger.units import ureg

    for name in _NAMED_DIMENSIONS:
        if quantity.dimensionality == ureg.get_dimensionality(name):
            return name
    text = str(quantity.dimensionality)
    return "[currency]" if text.startswith("[currency_") else text


def units_data() -> dict[str, Any]:
    """The units accepted: ``units`` (the common units with their spellings), ``other`` (the
    remaining aliases grouped by the unit they mean) and ``rules`` (en, zh-CN)."""
    from esgledger.units import ALIASES, parse_unit

    text = resources.files("esgledger.schema").joinpath("common_units.csv").read_text("utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    parsed_aliases: dict[str, Any] = {}
    for spelling in ALIASES:
        try:
            parsed_aliases[spelling] = parse_unit(spelling)
        except UnitError:
            continue
    used: set[str] = set()
    units: list[dict[str, Any]] = []
    for row in rows:
        quantity = parse_unit(row["unit"])
        spellings = [
            s
            for s, q in parsed_aliases.items()
            if s != row["unit"] and s not in used and _same_unit(q, quantity)
        ]
        used.update(spellings)
        units.append(
            {
                "unit": row["unit"],
                "dimension": row["dimension"],
                "name": row["name"],
                "name_zh": row["name_zh"],
                "spellings": spellings,
            }
        )
    other: list[dict[str, Any]] = []
    for spelling, quantity in parsed_aliases.items():
        if spelling in used or any(u["unit"] == spelling for u in units):
            continue
        group = next((g for g in other if _same_unit(g["_q"], quantity)), None)
        if group is None:
            group = {
                "unit": f"{quantity.units:~P}" if quantity.magnitude == 1 else f"{quantity:~P}",
                "dimension": _dimension_label(quantity),
                "spellings": [],
                "_q": quantity,
            }
            other.append(group)
        group["spellings"].append(spelling)
        used.add(spelling)
    for group in other:
        del group["_q"]
    return {"units": units, "other": other, "rules": {"en": RULES[0], "zh-CN": RULES[1]}}


@app.command()
def units(
    lang: Annotated[Lang, typer.Option("--lang", help="Language: en or zh-CN.")] = Lang.en,
    format_: Annotated[
        UnitsFormat, typer.Option("--format", help="text (for people) or json.")
    ] = UnitsFormat.text,
) -> None:
    """List the units activity data may be given in, by dimension, with the other spellings
    accepted (Chinese ones included)."""
    data = units_data()
    if format_ is UnitsFormat.json:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    zh = lang is Lang.zh_cn
    table = Table(title="可接受的单位" if zh else "Units accepted")
    for header in (
        ("量纲", "单位", "名称", "其他写法")
        if zh
        else ("dimension", "unit", "name", "also written")
    ):
        table.add_column(header, overflow="fold")
    previous = None
    for u in data["units"]:
        dim = u["dimension"]
        shown = "" if dim == previous else (_DIMENSIONS_ZH.get(dim, dim) if zh else dim)
        cells = (shown, u["unit"], u["name_zh"] if zh else u["name"], ", ".join(u["spellings"]))
        table.add_row(*(escape(c) for c in cells))
        previous = dim
    out = console()
    out.print(table)
    if data["other"]:
        extra = Table(title="其他可接受的写法" if zh else "Other spellings accepted")
        for header in ("量纲", "单位", "写法") if zh else ("dimension", "unit", "spellings"):
            extra.add_column(header, overflow="fold")
        for group in data["other"]:
            dim = group["dimension"]
            label = _DIMENSIONS_ZH.get(dim, dim) if zh else dim
            spellings = ", ".join(group["spellings"])
            extra.add_row(escape(label), escape(group["unit"]), escape(spellings))
        out.print(extra)
    out.print(data["rules"]["zh-CN" if zh else "en"], markup=False)
