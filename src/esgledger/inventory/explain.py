"""Explain one figure of a run: activity row → factor → conversion → gases → CO2e.

追溯单条明细：活动数据 → 排放因子（层级、来源、版本、年份）→ 单位换算 → 分气体 × GWP →
CO2当量 → 合并比例 → 合并后排放量。

:func:`explain` finds the line items of one activity row of a run — by its ``record_id`` or
by ``batch_id:row_number`` — and gathers everything that made its figure: the row as it was
imported (the lake file of its batch, the file name from the batch registry as recorded in
the run manifest), the factor (id, set with name and edition, tier, method, source, vintage
= reporting year + vintage gap, the resolver's reason), the unit conversion
(``quantity × to_factor_unit = quantity_in_factor_unit``), the gas masses weighted by the
run's GWP set, the CO2e, the entity's consolidation share with its derivation
(:func:`esgledger.boundary.consolidation_shares`, recorded in the manifest) and the
consolidated CO2e. A row with derived scope 3 category 3 lines (well-to-tank, T&D losses)
is explained line by line.

:meth:`Explanation.to_text` renders it in English or Simplified Chinese
(``lang="zh-CN"``); :meth:`Explanation.to_dict` as JSON-ready data.

A purchased-electricity line also shows its market-based part (:func:`market_part`): the
instruments allocated to its site and period (id, type, MWh, rate, quality verdict), the
remainder's MWh, factor and method, and the line's pro-rata share of the site-period.

A record id used by two entities (record ids are unique per entity) is ambiguous:
:class:`AmbiguousRecordError` lists the choices, each as ``batch_id:row_number``, which can
be passed instead (or ``ENTITY:RECORD_ID``).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from esgledger import gwp
from esgledger.boundary import ConsolidationApproach
from esgledger.errors import EsgledgerError, InputError, Issue
from esgledger.inventory._duckdb import connect
from esgledger.reasons import reason, templates

if TYPE_CHECKING:
    from esgledger.inventory.runs import Run

__all__ = [
    "AmbiguousRecordError",
    "Explanation",
    "LineExplanation",
    "explain",
    "explain_line",
    "find_lines",
    "market_part",
]

_BATCH_ROW = re.compile(r"^(b-[0-9a-f]{12}):(\d+)$")

#: Labels of the text rendering: English and Simplified Chinese.
_LABELS: dict[str, tuple[str, str]] = {
    "run": ("Run", "运行"),
    "reporting_year": ("reporting year", "报告年度"),
    "gwp": ("GWP set", "GWP 取值"),
    "consolidation": ("consolidation", "合并方法"),
    "line": ("Line", "明细"),
    "record": ("record", "记录"),
    "kind_activity": ("activity line", "活动数据明细"),
    "kind_wtt": ("scope 3 category 3, well-to-tank", "范围三类别3：燃料上游（WTT）"),
    "kind_td_losses": ("scope 3 category 3, T&D losses", "范围三类别3：输配电损耗"),
    "kind_wtt_td_losses": (
        "scope 3 category 3, well-to-tank of T&D losses",
        "范围三类别3：输配电损耗的上游排放",
    ),
    "kind_investment": (
        "scope 3 category 15, equity investment outside the boundary",
        "范围三类别15：边界外股权投资",
    ),
    "row": ("Activity row as imported", "导入的活动数据行"),
    "file": ("file", "文件"),
    "row_number": ("row", "行"),
    "batch": ("batch", "批次"),
    "entity": ("entity", "实体"),
    "site": ("site", "站点"),
    "period": ("period", "期间"),
    "activity": ("activity", "活动类型"),
    "quantity": ("quantity", "数量"),
    "region": ("region", "地区"),
    "region_from": ("from", "来源"),
    "supplier": ("supplier", "供应商"),
    "explicit_factor": ("explicit factor", "指定因子"),
    "correction": ("correction", "更正"),
    "notes": ("notes", "备注"),
    "scope": ("scope", "范围"),
    "category": ("category", "类别"),
    "factor": ("Emission factor", "排放因子"),
    "set": ("set", "因子集"),
    "edition": ("edition", "版本"),
    "tier": ("tier", "层级"),
    "vintage": ("vintage", "年份"),
    "vintage_gap": ("years from the reporting year", "与报告年度相差（年）"),
    "method": ("method", "方法"),
    "data_quality": ("data quality", "数据质量"),
    "dq_technology": ("technology", "技术"),
    "dq_temporal": ("time", "时间"),
    "dq_geography": ("geography", "地理"),
    "dq_completeness": ("completeness", "完整性"),
    "dq_reliability": ("reliability", "可靠性"),
    "dq_score": ("mean", "平均"),
    "dq_scale": (
        "1 very good … 4 poor, GHG Protocol Scope 3 Standard Table 7.6",
        "1 很好 … 4 差，温室气体核算体系范围三标准表7.6",
    ),
    "source": ("source", "来源"),
    "why": ("why this factor", "选用原因"),
    "conversion": ("Unit conversion", "单位换算"),
    "fuel_path": ("via fuel properties", "经燃料特性参数换算"),
    "fx": ("exchange rate of the reporting year", "报告年度汇率"),
    "price_year_gap": ("price year gap [years]", "价格年份差（年）"),
    "deflator": (
        "deflated to the factor's price year (price index of the price year / reporting year)",
        "按价格指数折算至因子价格年份（价格年份指数/报告年度指数）",
    ),
    "gases": ("Gases × GWP", "分气体 × GWP"),
    "biogenic": ("biogenic CO2 (outside the scopes)", "生物源CO2（范围外）"),
    "co2e": ("CO2e (gross, 100 % of the entity)", "CO2当量（全额，实体100%）"),
    "co2e_from_published": (
        "the factor's published CO2e under the run's GWP set",
        "因子公布的CO2当量（与本次运行GWP一致）",
    ),
    "co2e_from_gases": ("sum of the gases weighted by GWP", "各气体按GWP加权求和"),
    "co2e_from_reported": ("emissions as reported by others", "他方报告的排放量"),
    "mismatch": (
        "published only as CO2e under another GWP set: used as published",
        "仅以其他GWP取值下的CO2当量公布：按公布值使用",
    ),
    "share": ("Consolidation share", "合并比例"),
    "consolidated": ("CO2e consolidated", "合并后CO2当量"),
    "excluded": ("Excluded line: no factor", "已排除：无排放因子"),
    "choices": ("choices", "可选项"),
    "market": ("Scope 2, market-based", "范围二（基于市场）"),
    "market_site_period": ("site-period", "站点-期间"),
    "market_purchased": ("purchased electricity", "外购电力"),
    "market_covered": ("covered by instruments", "环境权益工具覆盖"),
    "market_instrument": ("instrument", "工具"),
    "market_pool": ("pool", "分配池"),
    "market_quality_ok": (
        "passes the Scope 2 Quality Criteria",
        "符合范围二质量准则",
    ),
    "market_re100_yes": ("counts toward RE100", "计入RE100"),
    "market_re100_no": ("not counted toward RE100", "不计入RE100"),
    "market_no_instruments": ("no instrument allocated", "未分配环境权益工具"),
    "market_remainder": ("remainder", "剩余电量"),
    "method_supplier": ("supplier-specific factor", "供应商特定因子"),
    "method_residual_mix": ("residual mix", "剩余组合因子"),
    "method_grid_average": ("grid average", "电网平均因子"),
    "market_grid_why": (
        "the grid average is the factor location-based uses for this site-period, resolved "
        "once: without a supplier-specific factor or residual mix it is the last step of the "
        "market-based hierarchy (GHG Protocol Scope 2 Guidance (2015) §6.11, Table 6.3)",
        "电网平均因子即本站点-期间基于位置法所用的同一因子（只解析一次）：无供应商特定因子和剩余"
        "组合因子时，它是市场法因子层级的最后一级（温室气体核算体系《范围二指南》（2015）第6.11节、"
        "表6.3）",
    ),
    "market_flag": (
        "no residual mix: priced at the grid average, to be disclosed",
        "无剩余组合因子：按电网平均因子计算，需披露",
    ),
    "market_site_total": ("market-based, site-period", "站点-期间市场法排放"),
    "market_line": ("this line's part", "本明细所占部分"),
}


def _label(key: str, lang: str) -> str:
    en, zh = _LABELS[key]
    return zh if lang == "zh-CN" else en


class AmbiguousRecordError(InputError):
    """A record id matches activity rows of more than one entity; ``choices`` lists them
    (``batch_id:row_number``, entity, file)."""

    def __init__(self, key: str, choices: Sequence[Mapping[str, Any]]):
        self.key = key
        self.choices = tuple(dict(c) for c in choices)
        listed = "; ".join(
            f"{c['batch_id']}:{c['row_number']} (entity {c['entity']}, "
            f"{c['file_name'] or c['batch_id']} row {c['row_number']})"
            for c in self.choices
        )
        super().__init__(
            f"record id {key!r} is used by {len(self.choices)} activity rows of different "
            f"entities; name one as BATCH:ROW or ENTITY:RECORD_ID: {listed}",
            [
                Issue(
                    str(c["file_name"] or ""), int(c["row_number"]), "record_id", key,
                    f"record of entity {c['entity']}", f"{c['batch_id']}:{c['row_number']}",
                )
                for c in self.choices
            ],
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class LineExplanation:
    """One line item with what made it.

    Attributes
    ----------
    line
        The line item (columns of ``LINE_ITEM_COLUMNS``).
    factor_set
        The factor set's manifest entry (id, name, edition, precedence, shipped, sha256), or
        None for an excluded line.
    vintage
        Year of the factor (reporting year + ``vintage_gap``), or None.
    to_factor_unit
        [factor unit / row unit] ``quantity_in_factor_unit / quantity``, or None.
    gwp_values
        GWP-100 of CH4 and N2O under the run's set (CO2 is 1).
    consolidation_reason
        The derivation of the entity's share under the run's approach.
    consolidation_reason_zh
        The same in Simplified Chinese (empty for runs made before it was recorded).
    market
        For a purchased-electricity line: the market-based scope 2 of its site-period as
        the run stored it (:func:`market_part`): the instruments allocated (id, type, MWh,
        rate, pool, quality verdict), the remainder's MWh, method, factor and flag, and
        the line's part (its MWh / the site-period's MWh). None otherwise.
    data_quality
        The line's data-quality scores (GHG Protocol Scope 3 Standard Table 7.6, the rules
        of ``schema/data_quality_rules.csv``): ``technology``, ``temporal``, ``geography``,
        ``completeness``, ``reliability`` (1 very good … 4 poor), ``score`` (their mean) and
        ``region_match``; None for an excluded line.
    """

    line: dict[str, Any]
    factor_set: dict[str, Any] | None
    vintage: int | None
    to_factor_unit: float | None
    gwp_values: dict[str, float]
    consolidation_reason: str | None
    market: dict[str, Any] | None = None
    data_quality: dict[str, Any] | None = None
    consolidation_reason_zh: str = ""


@dataclass(frozen=True, slots=True)
class Explanation:
    """How the figures of one activity row of a run came to be (see the module docstring).

    Attributes
    ----------
    key
        What was asked for (record id, ``batch_id:row_number`` or ``ENTITY:RECORD_ID``).
    run_id, reporting_year, gwp_set, gwp_source, consolidation
        The run.
    batch_id, row_number, file_name
        The activity row: its batch, its row number (as a person sees it: header is row 1)
        and the imported file's name.
    activity_row
        The row as imported (the columns of the lake), or None if the batch file is gone.
    lines
        The line items of the row: the activity line first, then derived category 3 lines.
    """

    key: str
    run_id: str
    reporting_year: int
    gwp_set: str
    gwp_source: str | None
    consolidation: str
    batch_id: str
    row_number: int
    file_name: str | None
    activity_row: dict[str, Any] | None
    lines: tuple[LineExplanation, ...] = field(default_factory=tuple)

    @property
    def co2e_kg_consolidated(self) -> float:
        """[kg CO2e] Sum of the row's consolidated lines (excluded lines count zero)."""
        return sum(float(x.line["co2e_kg_consolidated"] or 0.0) for x in self.lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (dates as ISO text)."""

        def clean(value: Any) -> Any:
            if isinstance(value, date):
                return value.isoformat()
            if isinstance(value, dict):
                return {k: clean(v) for k, v in value.items()}
            return value

        return {
            "key": self.key,
            "run_id": self.run_id,
            "reporting_year": self.reporting_year,
            "gwp_set": self.gwp_set,
            "gwp_source": self.gwp_source,
            "consolidation": self.consolidation,
            "batch_id": self.batch_id,
            "row_number": self.row_number,
            "file_name": self.file_name,
            "activity_row": clean(self.activity_row),
            "lines": [
                {
                    "line": clean(x.line),
                    "factor_set": x.factor_set,
                    "vintage": x.vintage,
                    "to_factor_unit": x.to_factor_unit,
                    "gwp_values": x.gwp_values,
                    "consolidation_reason": x.consolidation_reason,
                    "consolidation_reason_zh": x.consolidation_reason_zh,
                    "market": x.market,
                    "data_quality": x.data_quality,
                }
                for x in self.lines
            ],
            "co2e_kg_consolidated": self.co2e_kg_consolidated,
        }

    def to_text(self, lang: str = "en") -> str:
        """The explanation as plain text, in English (``"en"``) or Simplified Chinese
        (``"zh-CN"``); numbers are shown with up to 6 decimals, amounts with their units."""
        if lang not in ("en", "zh-CN"):
            raise InputError(f"Unknown language {lang!r}: choose en or zh-CN.")
        lab = _text_labels(lang)
        out: list[str] = []
        approach = self.consolidation.replace("_", " ")
        if lang == "zh-CN":
            with contextlib.suppress(ValueError):
                approach = ConsolidationApproach(self.consolidation).label_zh
        out.append(
            f"{lab('run')} {self.run_id} ({lab('reporting_year')} {self.reporting_year}, "
            f"{lab('gwp')} {self.gwp_set}, {lab('consolidation')} {approach})"
        )
        out.append("")
        out.append(
            f"{lab('row')}: {lab('file')} {self.file_name or '?'}, "
            f"{lab('row_number')} {self.row_number} ({lab('batch')} {self.batch_id})"
        )
        row = self.activity_row or (self.lines[0].line if self.lines else {})
        for key in ("record_id", "entity", "site"):
            if row.get(key) is not None:
                name = lab("record") if key == "record_id" else lab(key)
                out.append(f"    {name}: {row[key]}")
        if row.get("period_start") is not None:
            out.append(f"    {lab('period')}: {row['period_start']} – {row.get('period_end')}")
        out.append(f"    {lab('activity')}: {row.get('activity')}")
        out.append(f"    {lab('quantity')}: {_num(row.get('quantity'))} {row.get('unit')}")
        for key, name in (
            ("region", "region"),
            ("supplier", "supplier"),
            ("scope3_category", "category"),
            ("factor", "explicit_factor"),
            ("notes", "notes"),
        ):
            if row.get(key) is not None:
                out.append(f"    {lab(name)}: {row[key]}")
        if row.get("correction"):
            out.append(f"    {lab('correction')}: true")
        for item in self.lines:
            out.append("")
            out.extend(self._line_text(item, lang))
        return "\n".join(out) + "\n"

    def _line_text(self, item: LineExplanation, lang: str) -> list[str]:
        lab = _text_labels(lang)
        line = item.line
        kind = str(line.get("line_kind") or "activity")
        kind_key = f"kind_{kind}"
        kind_text = lab(kind_key) if kind_key in _LABELS else kind
        scope = f"{lab('scope')} {line['scope']}"
        if line.get("scope3_category") is not None:
            scope += f", {lab('category')} {line['scope3_category']}"
        out = [
            f"{lab('line')} {line['batch_id']}:{line['row_number']} — {kind_text} ({scope})",
        ]
        region = line.get("region")
        if region is not None:
            origin = _word("region_from", line.get("region_from"), lang)
            out.append(f"    {lab('region')}: {region} ({lab('region_from')} {origin})")
        why = (line.get("reason_zh") if lang == "zh-CN" else None) or line.get("reason")
        if line.get("excluded"):
            out.append(f"    {lab('excluded')}: {why}")
            return out
        factor_set = item.factor_set or {}
        out.append(f"  {lab('factor')}: {line['factor_id']}")
        out.append(
            f"    {lab('set')}: {line['factor_set']}"
            + (f" — {factor_set['name']}" if factor_set.get("name") else "")
        )
        if factor_set.get("edition"):
            out.append(f"    {lab('edition')}: {factor_set['edition']}")
        if item.vintage is not None:
            out.append(
                f"    {lab('vintage')}: {item.vintage} ({lab('vintage_gap')}: "
                f"{int(line['vintage_gap']):+d})"
            )
        tier, method = _word("tier", line["tier"], lang), _word("method", line["method"], lang)
        out.append(f"    {lab('tier')}: {tier}; {lab('method')}: {method}")
        if item.data_quality is not None:
            dq = item.data_quality
            parts = ", ".join(f"{lab('dq_' + name)} {dq[name]}" for name in _DQ_INDICATORS)
            out.append(
                f"    {lab('data_quality')}: {parts}; {lab('dq_score')} {float(dq['score']):.1f} "
                f"({lab('dq_scale')})"
            )
        out.append(f"    {lab('source')}: {line['source']}")
        if why:
            out.append(f"    {lab('why')}: {why}")
        out.append(f"  {lab('conversion')}:")
        factor_unit = line.get("factor_unit")
        if item.to_factor_unit is not None:
            out.append(
                f"    {_num(line['quantity'])} {line['unit']} × {_num(item.to_factor_unit)} "
                f"{factor_unit}/{line['unit']} = {_num(line['quantity_in_factor_unit'])} "
                f"{factor_unit}"
            )
        else:
            out.append(f"    {_num(line['quantity_in_factor_unit'])} {factor_unit}")
        if line.get("conversion_path") and lang == "en":
            # The Chinese reason (``reason_zh``) carries the conversion path in Chinese.
            out.append(f"    {lab('fuel_path')}: {line['conversion_path']}")
        if line.get("fx_rate") is not None:
            pair = _currency_pair(str(line["unit"]), str(factor_unit))
            out.append(f"    {lab('fx')}: {_num(line['fx_rate'])}{pair}")
        if line.get("price_year_gap") not in (None, 0):
            out.append(f"    {lab('price_year_gap')}: {line['price_year_gap']}")
        if line.get("deflator") is not None and line.get("deflator") != 1.0:
            out.append(f"    {lab('deflator')}: {_num(line['deflator'])}")
        gases = [
            (gas, float(line[f"{gas.lower()}_kg"]), item.gwp_values.get(gas, 1.0))
            for gas in ("CO2", "CH4", "N2O")
            if line.get(f"{gas.lower()}_kg") is not None
        ]
        if gases:
            out.append(f"  {lab('gases')} ({self.gwp_set}):")
            for gas, mass, value in gases:
                out.append(
                    f"    {gas}: {_num(mass)} kg × {_num(value)} = {_num(mass * value)} kg CO2e"
                )
        if line.get("biogenic_co2_kg") is not None:
            out.append(f"    {lab('biogenic')}: {_num(line['biogenic_co2_kg'])} kg")
        from_key = f"co2e_from_{line.get('co2e_from')}"
        how = lab(from_key) if from_key in _LABELS else str(line.get("co2e_from"))
        out.append(f"  {lab('co2e')}: {_num(line['co2e_kg'])} kg CO2e ({how})")
        if line.get("gwp_basis_mismatch"):
            out.append(f"    ! {lab('mismatch')}")
        share = float(line["consolidation_share"])
        derivation = (
            item.consolidation_reason_zh if lang == "zh-CN" else ""
        ) or item.consolidation_reason
        out.append(f"  {lab('share')}: {_num(share * 100)} % — {derivation or '?'}")
        out.append(
            f"  {lab('consolidated')}: {_num(line['co2e_kg'])} kg × {_num(share)} = "
            f"{_num(line['co2e_kg_consolidated'])} kg CO2e "
            f"({_num(float(line['co2e_kg_consolidated']) / 1000)} t)"
        )
        if item.market is not None:
            out.extend(_market_text(item.market, lang))
        return out


def _market_text(market: Mapping[str, Any], lang: str) -> list[str]:
    """The market-based part of an electricity line, as text lines."""
    lab = _text_labels(lang)
    out = [
        f"  {lab('market')}: {lab('market_site_period')} {market['site']}, "
        f"{market['period_start']} – {market['period_end']}",
        f"    {lab('market_purchased')}: {_num(market['consumption_mwh'])} MWh; "
        f"{lab('market_covered')}: {_num(market['covered_mwh'])} MWh",
    ]
    if not market["instruments"]:
        out.append(f"    {lab('market_no_instruments')}")
    for i in market["instruments"]:
        re100 = lab("market_re100_yes") if i["re100"] else lab("market_re100_no")
        why = i["reasons_zh"] if lang == "zh-CN" else i["reasons"]
        if not i["re100"] and why:
            re100 += f" ({why})"
        kind, pool = _instrument_type(str(i["type"]), lang), _word("pool", i["pool"], lang)
        out.append(
            f"    {lab('market_instrument')} {i['instrument']} ({kind}): "
            f"{_num(i['mwh'])} MWh × {_num(i['co2e_kg_per_mwh'])} kg/MWh; "
            f"{lab('market_pool')} {pool}; {lab('market_quality_ok')}; {re100}"
        )
    if market["remainder_method"] is not None:
        method_key = f"method_{market['remainder_method']}"
        method = lab(method_key) if method_key in _LABELS else str(market["remainder_method"])
        out.append(
            f"    {lab('market_remainder')}: {_num(market['remainder_mwh'])} MWh × "
            f"{_num(market['remainder_co2e_kg_per_mwh'])} kg/MWh ({method}, "
            f"{market['remainder_factor_id']})"
        )
        if market["remainder_method"] == "grid_average":
            out.append(f"    {lab('market_grid_why')}")
    if market["data_quality_flag"]:
        flag = "" if lang == "zh-CN" else f" ({market['data_quality_flag']})"
        out.append(f"    ! {lab('market_flag')}{flag}")
    out.append(f"    {lab('market_site_total')}: {_num(market['co2e_kg'])} kg CO2e")
    if market["line_mwh"] is not None and market["line_co2e_kg"] is not None:
        out.append(
            f"    {lab('market_line')}: {_num(market['line_mwh'])} MWh / "
            f"{_num(market['consumption_mwh'])} MWh × {_num(market['co2e_kg'])} kg = "
            f"{_num(market['line_co2e_kg'])} kg CO2e"
        )
    return out


def market_part(run: Run, line: Mapping[str, Any]) -> dict[str, Any] | None:
    """The market-based scope 2 behind a purchased-electricity line, as the run stored it.

    Reads the run's ``market_based.parquet`` row of the line's site-period (site, or
    ``(no site: <entity>)``, entity and period start) and the allocations of the manifest's
    ``market_based`` section (GHG Protocol Scope 2 Guidance ch. 6, Table 6.3; Table 7.1
    quality criteria). None for a line that is not purchased electricity, is excluded, or
    a run without market-based results.

    Returns
    -------
    dict or None
        ``site``, ``entity``, ``period_start``, ``period_end``, ``consumption_mwh``,
        ``covered_mwh`` [MWh], ``instruments`` (id, type, MWh, kg/MWh, pool, ``re100``,
        ``reasons``), ``remainder_mwh`` [MWh], ``remainder_method``,
        ``remainder_factor_id``, ``remainder_co2e_kg_per_mwh`` [kg CO2e / MWh],
        ``data_quality_flag``, ``co2e_kg`` [kg CO2e, gross, the site-period], ``line_mwh``
        and ``line_co2e_kg`` (the line's MWh and its pro-rata part of the site-period).
    """
    from esgledger.inventory.market import MARKET_FILE
    from esgledger.units import conversion_factor

    section = run.manifest.get("market_based")
    if (
        not section
        or line.get("activity") != "electricity"
        or int(line.get("scope") or 0) != 2
        or str(line.get("line_kind") or "activity") != "activity"
        or line.get("excluded")
    ):
        return None
    path = run.folder / str(section.get("file") or MARKET_FILE)
    if not path.is_file():
        return None
    entity = str(line["entity"])
    site = str(line["site"]) if line.get("site") is not None else f"(no site: {entity})"
    start = line["period_start"]
    con = connect(ordered=True)
    try:
        cursor = con.execute(
            f"SELECT * FROM read_parquet({_sql_text(str(path))}) "
            "WHERE site = ? AND entity = ? AND period_start = ?",
            [site, entity, start],
        )
        names = [d[0] for d in cursor.description or []]
        found = cursor.fetchone()
    finally:
        con.close()
    if found is None:
        return None
    row = dict(zip(names, found, strict=True))
    start_text = start.isoformat() if isinstance(start, date) else str(start)
    instruments = [
        {
            k: a[k]
            for k in (
                "instrument", "type", "mwh", "co2e_kg_per_mwh", "pool", "re100", "reasons",
                "reasons_zh",
            )
        }
        for a in section.get("allocations", [])
        if isinstance(a, Mapping)
        and a.get("site") == site
        and a.get("entity") == entity
        and str(a.get("period_start")) == start_text
    ]  # fmt: skip
    line_mwh: float | None = None
    line_kg: float | None = None
    with contextlib.suppress(EsgledgerError):
        line_mwh = float(line["quantity"]) * conversion_factor(str(line["unit"]), "MWh")
    consumption = float(row["consumption_mwh"])
    if line_mwh is not None and consumption > 0:
        line_kg = line_mwh / consumption * float(row["co2e_kg"])
    return {
        "site": site,
        "entity": entity,
        "period_start": start_text,
        "period_end": str(row["period_end"]),
        "consumption_mwh": consumption,
        "covered_mwh": float(row["covered_mwh"]),
        "instruments": instruments,
        "remainder_mwh": float(row["remainder_mwh"]),
        "remainder_method": row["remainder_method"],
        "remainder_factor_id": row["remainder_factor_id"],
        "remainder_co2e_kg_per_mwh": row["remainder_co2e_kg_per_mwh"],
        "data_quality_flag": row["data_quality_flag"],
        "co2e_kg": float(row["co2e_kg"]),
        "line_mwh": line_mwh,
        "line_co2e_kg": line_kg,
    }


def _currency_pair(unit: str, factor_unit: str) -> str:
    """`` factor currency/row currency`` of a money line (`` USD/CNY``), or ""."""
    from esgledger.units import currency_of

    try:
        row, factor = currency_of(unit), currency_of(factor_unit)
    except EsgledgerError:
        return ""
    return f" {factor}/{row}" if row and factor else ""


def _instrument_type(kind: str, lang: str) -> str:
    """An instrument type as its code (English) or its Chinese name."""
    if lang != "zh-CN":
        return kind
    from esgledger.renewables.instruments import instrument_types

    found = instrument_types().get(kind)
    return found.name_zh if found is not None else kind


def _word(kind: str, code: Any, lang: str) -> str:
    """A tier, method or region origin in ``lang`` from the reasons table (``tier.proxy`` →
    ``代用地区``); a code without an entry prints as it is."""
    key = f"{kind}.{code}"
    if lang == "zh-CN" and key in templates():
        return reason(key).render(lang)
    return str(code)


def _text_labels(lang: str) -> Any:
    return lambda key: _label(key, lang)


def _num(value: Any) -> str:
    """A number with thousands separators and at most 6 decimals (small ones: 6 significant
    digits); trailing zeros dropped."""
    if value is None:
        return "–"
    x = float(value)
    if x != 0 and abs(x) < 0.01:
        return f"{x:.6g}"
    text = f"{x:,.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _kind_rank() -> str:
    """SQL rank of ``line_kind`` in the engine's order: the activity line, then the category 3
    lines in :data:`~esgledger.inventory.engine.LINE_KINDS` order."""
    from esgledger.inventory.engine import LINE_KINDS

    ranks = " ".join(f"WHEN {_sql_text(kind)} THEN {n}" for n, kind in enumerate(LINE_KINDS))
    return f"CASE line_kind {ranks} ELSE {len(LINE_KINDS)} END, line_kind"


def _find(run: Run, key: str) -> tuple[str, int]:
    """The (batch_id, row_number) of ``key`` in the run's line items."""
    path = _sql_text(str(run.line_items_path))
    con = connect(ordered=True)
    try:
        match = _BATCH_ROW.match(key.strip())
        if match:
            batch_id, row_number = match.group(1), int(match.group(2))
            found = con.execute(
                f"SELECT count(*) FROM read_parquet({path}) WHERE batch_id = ? AND row_number = ?",
                [batch_id, row_number],
            ).fetchone()
            if found and int(found[0]):
                return batch_id, row_number
            raise InputError(
                f"run {run.run_id} has no line for row {row_number} of batch {batch_id}"
            )
        rows = con.execute(
            f"SELECT DISTINCT batch_id, row_number, entity FROM read_parquet({path}) "
            "WHERE record_id = ? ORDER BY batch_id, row_number",
            [key],
        ).fetchall()
        if not rows and ":" in key:
            entity, _, record = key.partition(":")
            rows = con.execute(
                f"SELECT DISTINCT batch_id, row_number, entity FROM read_parquet({path}) "
                "WHERE record_id = ? AND entity = ? ORDER BY batch_id, row_number",
                [record, entity],
            ).fetchall()
    finally:
        con.close()
    if not rows:
        raise InputError(
            f"run {run.run_id} has no line with record id {key!r} (give a record id, "
            "BATCH:ROW such as b-0123456789ab:2, or ENTITY:RECORD_ID)"
        )
    if len(rows) > 1:
        files = run.manifest.get("batch_files", {})
        raise AmbiguousRecordError(
            key,
            [
                {
                    "batch_id": b,
                    "row_number": int(n),
                    "entity": e,
                    "file_name": files.get(b),
                }
                for b, n, e in rows
            ],
        )
    return str(rows[0][0]), int(rows[0][1])


def _activity_row(run: Run, batch_id: str, row_number: int) -> dict[str, Any] | None:
    lake = run.folder.parent.parent
    file = lake / "activities" / f"{batch_id}.parquet"
    if not file.is_file():
        return None
    con = connect(ordered=True)
    try:
        cursor = con.execute(
            f"SELECT * FROM read_parquet({_sql_text(str(file))}) WHERE row_number = ?",
            [row_number],
        )
        names = [d[0] for d in cursor.description or []]
        found = cursor.fetchone()
    finally:
        con.close()
    return dict(zip(names, found, strict=True)) if found else None


_DQ_INDICATORS = ("technology", "temporal", "geography", "completeness", "reliability")


def _data_quality(table: Any) -> list[dict[str, Any] | None] | None:
    """The data-quality scores of each line (None for an excluded one), or None when the
    lines cannot be scored (a run written before a column the rules need)."""
    from esgledger.inventory.quality import score_line_items

    try:
        scored = score_line_items(table).to_pylist()
    except InputError:
        return None
    out: list[dict[str, Any] | None] = []
    for row in scored:
        if row.get("dq_score") is None:
            out.append(None)
            continue
        scores = {name: row[f"dq_{name}"] for name in _DQ_INDICATORS}
        out.append({**scores, "score": row["dq_score"], "region_match": row["region_match"]})
    return out


def explain(run: Run, key: str) -> Explanation:
    """Explain the line item(s) of one activity row of ``run``.

    Parameters
    ----------
    run
        A run (:func:`esgledger.inventory.load_run`).
    key
        The row's ``record_id``, ``batch_id:row_number`` (``b-0123456789ab:2``) or
        ``ENTITY:RECORD_ID``.

    Returns
    -------
    Explanation

    Raises
    ------
    AmbiguousRecordError
        If the record id is used by rows of several entities (the choices are listed).
    InputError
        If the run has no such line.
    """
    batch_id, row_number = _find(run, key)
    path = _sql_text(str(run.line_items_path))
    con = connect(ordered=True)
    try:
        table = con.sql(
            f"SELECT * FROM read_parquet({path}) WHERE batch_id = $batch AND row_number = $row "
            f"ORDER BY {_kind_rank()}",
            params={"batch": batch_id, "row": row_number},
        ).to_arrow_table()
    finally:
        con.close()
    lines = table.to_pylist()
    quality = _data_quality(table)
    manifest = run.manifest
    gwp_set = str(manifest["gwp_set"])
    year = int(manifest["reporting_year"])
    sets = {s["id"]: s for s in manifest.get("inputs", {}).get("factor_sets", [])}
    shares = manifest.get("consolidation_shares", {})
    # The category 15 line of an equity investment is consolidated at the equity share.
    investments = manifest.get("category_15_investments", {})
    gwp_values = {"CO2": 1.0, "CH4": gwp.gwp("CH4", gwp_set), "N2O": gwp.gwp("N2O", gwp_set)}
    explained: list[LineExplanation] = []
    for line in lines:
        quantity = line.get("quantity")
        converted = line.get("quantity_in_factor_unit")
        to_unit = (
            float(converted) / float(quantity)
            if quantity not in (None, 0) and converted is not None
            else None
        )
        gap = line.get("vintage_gap")
        # The category 15 line of an equity investment is consolidated at the equity share.
        registry = investments if line.get("line_kind") == "investment" else shares
        share_entry = registry.get(line["entity"]) or {}
        explained.append(
            LineExplanation(
                line=line,
                factor_set=sets.get(line.get("factor_set")),
                vintage=None if gap is None else year + int(gap),
                to_factor_unit=to_unit,
                gwp_values=gwp_values,
                consolidation_reason=share_entry.get("reason"),
                consolidation_reason_zh=str(share_entry.get("reason_zh") or ""),
                market=market_part(run, line),
                data_quality=quality[len(explained)] if quality else None,
            )
        )
    return Explanation(
        key=key,
        run_id=run.run_id,
        reporting_year=year,
        gwp_set=gwp_set,
        gwp_source=manifest.get("gwp_source"),
        consolidation=str(manifest["consolidation"]),
        batch_id=batch_id,
        row_number=row_number,
        file_name=manifest.get("batch_files", {}).get(batch_id),
        activity_row=_activity_row(run, batch_id, row_number),
        lines=tuple(explained),
    )


# ---- compact steps (the ``esgledger explain`` command of the inventory CLI) ---------------


def find_lines(run: Run, key: str) -> list[dict[str, Any]]:
    """The line items of one activity row of ``run``, in file order (the activity line,
    then its derived category 3 lines).

    ``key`` is a record id, ``batch_id:row_number`` or ``ENTITY:RECORD_ID``.

    Raises
    ------
    AmbiguousRecordError
        If the record id is used by rows of several entities.
    InputError
        If the run has no such line.
    """
    try:
        batch_id, row_number = _find(run, key)
    except AmbiguousRecordError:
        raise
    except InputError:
        raise InputError(
            f"run {run.run_id} has no line for record {key!r} (give a record id, "
            "BATCH:ROW such as b-0123456789ab:2, or ENTITY:RECORD_ID)"
        ) from None
    from esgledger.inventory.engine import line_order_sql

    path = _sql_text(str(run.line_items_path))
    con = connect(ordered=True)
    try:
        cursor = con.execute(
            f"SELECT * EXCLUDE (file_row_number) FROM read_parquet({path}, "
            "file_row_number = true) WHERE batch_id = ? AND row_number = ? "
            f"ORDER BY {line_order_sql()}",
            [batch_id, row_number],
        )
        names = [d[0] for d in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def _g(value: Any) -> str:
    """A number with thousands separators and up to 10 significant digits."""
    return "–" if value is None else f"{float(value):,.10g}"


def explain_line(line: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The steps that made one line item, as (label, text) pairs: ``activity``, ``scope``,
    ``region``, then ``factor``, ``source``, ``why``, ``conversion``, ``gases`` (if any),
    ``biogenic`` (if any), ``CO2e`` and ``consolidated`` — or ``excluded`` for a line
    without a factor."""
    record = f" (record {line['record_id']})" if line.get("record_id") is not None else ""
    where = f", entity {line['entity']}"
    if line.get("site") is not None:
        where += f", site {line['site']}"
    steps: list[tuple[str, str]] = [
        (
            "activity",
            f"{line['batch_id']}:{line['row_number']}{record}: {line['activity']} "
            f"{_g(line['quantity'])} {line['unit']}{where}, {line.get('period_start')} to "
            f"{line.get('period_end')}",
        )
    ]
    scope = f"scope {line['scope']}"
    if line.get("scope3_category") is not None:
        scope += f", category {line['scope3_category']}"
    if line.get("line_kind") not in (None, "activity"):
        scope += f" ({line['line_kind']})"
    steps.append(("scope", scope))
    steps.append(("region", f"{line.get('region')} (from {line.get('region_from')})"))
    if line.get("excluded"):
        steps.append(("excluded", f"no factor: {line.get('reason')}"))
        return steps
    steps.append(
        (
            "factor",
            f"{line['factor_id']} [{line['factor_set']}], tier {line['tier']}, vintage gap "
            f"{line['vintage_gap']}, method {line['method']}",
        )
    )
    steps.append(("source", str(line.get("source"))))
    steps.append(("why", str(line.get("reason"))))
    factor_unit = line.get("factor_unit")
    converted = line.get("quantity_in_factor_unit")
    conversion = f"{_g(line['quantity'])} {line['unit']} = {_g(converted)} {factor_unit}"
    if line.get("fx_rate") is not None:
        conversion += f" (exchange rate {_g(line['fx_rate'])}, reporting year"
        if line.get("deflator") is not None and line.get("deflator") != 1.0:
            conversion += f"; deflated to the factor's price year × {_g(line['deflator'])}"
        conversion += ")"
    if line.get("conversion_path"):
        conversion += f" — fuel properties: {line['conversion_path']}"
    steps.append(("conversion", conversion))
    gwp_set = str(line.get("gwp_set"))
    present = [
        (gas, line.get(f"{gas.lower()}_kg"))
        for gas in ("CO2", "CH4", "N2O")
        if line.get(f"{gas.lower()}_kg") is not None
    ]

    def per_unit(mass: Any) -> str:
        if not converted:
            return ""
        return f" ({_g(float(mass) / float(converted))} kg/{factor_unit})"

    if present:
        steps.append(
            ("gases", "; ".join(f"{gas} {_g(mass)} kg{per_unit(mass)}" for gas, mass in present))
        )
    if line.get("biogenic_co2_kg") is not None:
        steps.append(
            (
                "biogenic",
                f"{_g(line['biogenic_co2_kg'])} kg CO2, outside the scopes"
                f"{per_unit(line['biogenic_co2_kg'])}",
            )
        )
    co2e = f"{_g(line['co2e_kg'])} kg CO2e"
    how = line.get("co2e_from")
    if how == "gases" and present:
        terms = " + ".join(
            gas if gas == "CO2" else f"{gas} x {_g(gwp.gwp(gas, gwp_set))}" for gas, _ in present
        )
        text = f"{terms} (IPCC {gwp_set} GWP-100) = {co2e}"
    elif how == "reported":
        text = f"reported by others, taken as reported = {co2e}"
    else:
        text = f"published CO2e of the factor{per_unit(line['co2e_kg'])} = {co2e}"
    if line.get("gwp_basis_mismatch"):
        text += f" (published under another GWP set than {gwp_set}: used as published)"
    steps.append(("CO2e", text))
    steps.append(
        (
            "consolidated",
            f"{_g(line['co2e_kg'])} x share {_g(line['consolidation_share'])} = "
            f"{_g(line['co2e_kg_consolidated'])} kg CO2e",
        )
    )
    return steps
