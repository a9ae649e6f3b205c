"""What-if and proposals commands: ``esgledger energy whatif|proposals|adopt``.

情景模拟与减排建议命令。

* ``energy whatif WS --site S --lever free_cooling [--param k=v ...] --price-per-kwh 0.8``
  runs one lever on the site's metered year and prints the baseline and the scenario side
  by side (energy, PUE, WUE, CUE, REF, ERF, ERE, cost, t CO2e location- and market-based);
* ``energy proposals WS [--site S] --price-per-kwh 0.8`` ranks the levers by t CO2e/yr and
  payback (advisory only);
* ``energy adopt WS PROPOSAL_ID ... --start-year 2026 --price-per-kwh 0.8`` stores chosen
  proposals as abatement measures, so ``esgledger plan`` and its MACC include them.

Every command takes ``--format table|json`` and ``--lang en|zh-CN``. Errors go to stderr as
``error: …`` with exit status 1; rejected input exits 2. The lead wires :func:`register` on
the ``energy`` group.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from esgledger.cli._app import EXIT_REJECTED, Lang
from esgledger.cli._commands_workspace import _fail, _stderr, _stdout
from esgledger.errors import EsgledgerError, InputError

WorkspaceArgument = Annotated[Path, typer.Argument(help="Workspace folder.")]


class Format(StrEnum):
    """How a command prints its result."""

    table = "table"
    json = "json"


FormatOption = Annotated[Format, typer.Option("--format", help="table or json.")]
LangOption = Annotated[Lang, typer.Option(help="Language of the tables and notes.")]
PeriodOption = Annotated[
    str | None,
    typer.Option(help="Baseline period: 2024, 2024-03 or 2024-01-01:2024-06-30 (default: the "
                 "workspace's reporting year)."),
]  # fmt: skip
PriceOption = Annotated[
    float, typer.Option("--price-per-kwh", help="Grid electricity price [currency/kWh].")
]
CurrencyOption = Annotated[str, typer.Option(help="ISO 4217 currency of prices and capex.")]

#: KPI rows of the side-by-side table: field, English, Chinese, unit, decimals.
_ROWS: tuple[tuple[str, str, str, str, int], ...] = (
    ("e_dc_mwh", "Data-centre energy", "数据中心总能耗", "MWh", 1),
    ("e_it_mwh", "IT energy", "IT 能耗", "MWh", 1),
    ("cooling_mwh", "Cooling", "制冷", "MWh", 1),
    ("power_losses_mwh", "Power losses", "配电损耗", "MWh", 1),
    ("grid_import_mwh", "Grid import", "电网购电", "MWh", 1),
    ("onsite_self_mwh", "On-site RE self-consumed", "现场可再生能源自用", "MWh", 1),
    ("pue", "PUE", "PUE", "", 3),
    ("wue_l_per_kwh", "WUE", "WUE", "L/kWh", 3),
    ("cue_kg_per_kwh", "CUE (location)", "CUE（基于位置）", "kg CO2e/kWh", 3),
    ("ref", "REF", "REF", "", 3),
    ("erf", "ERF", "ERF", "", 3),
    ("ere", "ERE", "ERE", "", 3),
    ("cost", "Cost", "成本", "{currency}/yr", 0),
    ("co2e_t_location", "t CO2e location-based", "排放（基于位置）", "t CO2e/yr", 1),
    ("co2e_t_market", "t CO2e market-based", "排放（基于市场）", "t CO2e/yr", 1),
    ("free_cooling_full_h", "Full free-cooling hours", "完全自然冷却小时数", "h", 0),
    ("free_cooling_partial_h", "Partial free-cooling hours", "部分自然冷却小时数", "h", 0),
)


def _json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n")


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except InputError as exc:
        _stderr().print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_REJECTED) from exc
    except EsgledgerError as exc:
        raise _fail(exc) from exc


def _params(values: Sequence[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--param {item!r} is not key=value (e.g. --param chws_c=18)")
        out[key.strip()] = value.strip()
    return out


def _number(value: Any, decimals: int) -> str:
    if value is None:
        return "-"
    return f"{value:,.{decimals}f}"


#: Units as a Chinese table prints them.
_ZH_UNITS = {"h": "小时", "t CO2e/yr": "t CO2e/年", "{currency}/yr": "{currency}/年"}

_METHODS = {
    "location": ("location-based", "基于位置"),
    "residual_mix": ("residual mix", "剩余组合"),
    "location (no residual mix)": (
        "location factor, no residual mix",
        "无剩余组合，采用基于位置因子",
    ),
}


def _method(method: str, zh: bool) -> str:
    en, cn = _METHODS.get(method, (method, method))
    return cn if zh else en


def _print_whatif(data: dict[str, Any], zh: bool) -> None:
    name = data["name"]["zh-CN" if zh else "en"]
    title = f"{data['site']} · {name}"
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    for header in (
        ("指标", "单位", "基准", "情景", "变化")
        if zh
        else ("KPI", "Unit", "Baseline", "Scenario", "Change")
    ):
        table.add_column(
            header, justify="left" if header in ("KPI", "Unit", "指标", "单位") else "right"
        )
    base, scen, delta = data["baseline"], data["scenario"], data["delta"]
    for key, en, cn, unit, decimals in _ROWS:
        if base.get(key) is None and scen.get(key) is None:
            continue
        table.add_row(
            cn if zh else en,
            (_ZH_UNITS.get(unit, unit) if zh else unit).format(currency=base["currency"]),
            _number(base.get(key), decimals),
            _number(scen.get(key), decimals),
            _number(delta.get(key), decimals),
        )
    out = _stdout()
    out.print(table)
    months = data.get("free_cooling_by_month") or []
    if months:
        by_month = Table(
            title="逐月自然冷却小时数（完全/部分）"
            if zh
            else "Free-cooling hours by month (full/partial)",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
        )
        for m in months:
            by_month.add_column(m["month"], justify="right")
        by_month.add_row(*(f"{m['full_h']}/{m['partial_h']}" for m in months))
        out.print(by_month)
    out.print(data["explanation"]["zh-CN" if zh else "en"], markup=False)
    loc, mkt = data["factors"]["location"], data["factors"]["market"]
    out.print(
        ("电网因子：" if zh else "Grid factor: ")
        + f"{loc['factor_id']} ({loc['source']}, {loc['vintage']}) "
        f"{loc['kg_co2e_per_kwh']:.4f} kg/kWh; "
        + ("市场：" if zh else "market: ")
        + f"{mkt['factor_id']} ({_method(mkt['method'], zh)}) {mkt['kg_co2e_per_kwh']:.4f} kg/kWh",
        markup=False,
    )
    for note in data["notes"]:
        out.print(f"- {note['text']['zh-CN' if zh else 'en']}", markup=False)


def _print_proposals(data: dict[str, Any], zh: bool) -> None:
    headers = (
        ("排名", "编号", "措施", "年减排(市场) t", "年减排(位置) t", "年节省", "投资", "回收期 年")
        if zh
        else ("Rank", "Id", "Proposal", "t CO2e/yr mkt", "t CO2e/yr loc", "Saving/yr",
              "Capex", "Payback yr")
    )  # fmt: skip
    table = Table(
        title="减排建议（仅供参考）" if zh else "Reduction proposals (advisory)",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for i, header in enumerate(headers):
        table.add_column(header, justify="left" if i in (1, 2) else "right")
    for p in data["proposals"]:
        table.add_row(
            str(p["rank"]),
            p["id"],
            p["name"]["zh-CN" if zh else "en"],
            _number(p["saved_t_co2e_market"], 1),
            _number(p["saved_t_co2e_location"], 1),
            f"{_number(p['saved_cost'], 0)} {p['currency']}",
            _number(p["capex"], 0),
            _number(p["payback_yr"], 1),
        )
    out = _stdout()
    out.print(table)
    from esgledger.energy.whatif import LEVERS

    for r in data["refused"]:
        name = LEVERS[r["lever"]].name
        if zh:
            line = f"未建议 {r['site']} {name.zh}：{r['reason']['zh-CN']}"
        else:
            line = f"Not proposed at {r['site']}: {name.en}. {r['reason']['en']}"
        out.print(line, markup=False)
    out.print(data["advisory"]["zh-CN" if zh else "en"], markup=False)
    out.print(data["not_additive"]["zh-CN" if zh else "en"], markup=False)


def _sites(ws: Any, site: str | None) -> list[str]:
    if site is not None:
        return [site]
    from esgledger.energy.meters import data_centre_sites

    return list(data_centre_sites(ws))


def register(app: typer.Typer) -> None:
    """Add ``whatif``, ``proposals`` and ``adopt`` to the ``energy`` command group."""

    @app.command("whatif")
    def whatif_command(
        workspace: WorkspaceArgument,
        site: Annotated[str, typer.Option(help="Site code.")],
        lever: Annotated[
            str,
            typer.Option(
                help="free_cooling, air_economiser, setpoint, pv, ups_eco, heat_reuse, "
                "green_power or cooling_cut."
            ),
        ],
        price_per_kwh: PriceOption,
        param: Annotated[
            list[str] | None,
            typer.Option("--param", help="Lever parameter key=value (repeatable)."),
        ] = None,
        period: PeriodOption = None,
        currency: CurrencyOption = "CNY",
        output: FormatOption = Format.table,
        lang: LangOption = Lang.en,
    ) -> None:
        """Run one lever on a site's metered year: KPIs side by side with the baseline."""
        from esgledger.energy.proposals import site_baseline, site_grid_factors, site_period
        from esgledger.energy.whatif import Prices, lever_from_params, simulate
        from esgledger.store import Workspace

        with _errors(), Workspace.open(workspace) as ws:
            chosen = lever_from_params(lever, _params(param))
            prices = Prices(price_per_kwh, currency.upper())
            span = site_period(ws, period)
            location, market = site_grid_factors(ws, site, span.end.year)
            result = simulate(
                site_baseline(ws, site, period),
                chosen,
                location=location,
                market=market,
                prices=prices,
            )
        data = result.to_json()
        if output is Format.json:
            _json(data)
            return
        _print_whatif(data, lang is Lang.zh_cn)

    @app.command("proposals")
    def proposals_command(
        workspace: WorkspaceArgument,
        price_per_kwh: PriceOption,
        site: Annotated[str | None, typer.Option(help="Site code (default: every DC).")] = None,
        period: PeriodOption = None,
        currency: CurrencyOption = "CNY",
        capex: Annotated[
            list[str] | None,
            typer.Option(help="lever=amount[:lifetime_yr] in --currency (repeatable)."),
        ] = None,
        double_conversion: Annotated[
            bool,
            typer.Option(help="The site's tier requires double-conversion UPS (no eco-mode)."),
        ] = False,
        exclude: Annotated[
            list[str] | None, typer.Option(help="Lever to rule out (repeatable).")
        ] = None,
        pv_kwp: Annotated[float | None, typer.Option(help="Rooftop PV to assess [kWp].")] = None,
        latitude: Annotated[float | None, typer.Option(help="Site latitude for PV.")] = None,
        longitude: Annotated[float | None, typer.Option(help="Site longitude for PV.")] = None,
        green_mwh: Annotated[
            float | None, typer.Option(help="Green power to assess [MWh/yr].")
        ] = None,
        output: FormatOption = Format.table,
        lang: LangOption = Lang.en,
    ) -> None:
        """Rank the levers by t CO2e/yr and payback (advisory only, never actuation)."""
        from esgledger.energy.proposals import ProposalOptions, proposals_for_sites
        from esgledger.store import Workspace

        with _errors(), Workspace.open(workspace) as ws:
            options = ProposalOptions.from_texts(
                price_per_kwh,
                currency=currency,
                period=period,
                capex=capex,
                double_conversion=double_conversion,
                exclude=exclude,
                pv_kwp=pv_kwp,
                latitude=latitude,
                longitude=longitude,
                green_mwh=green_mwh,
            )
            found = proposals_for_sites(ws, _sites(ws, site), options)
        data = found.to_json()
        if output is Format.json:
            _json(data)
            return
        _print_proposals(data, lang is Lang.zh_cn)

    @app.command("adopt")
    def adopt_command(
        workspace: WorkspaceArgument,
        proposal_ids: Annotated[list[str], typer.Argument(help="Proposal ids to adopt.")],
        start_year: Annotated[int, typer.Option(help="First year of effect.")],
        price_per_kwh: PriceOption,
        ramp_years: Annotated[int, typer.Option(help="Years to full effect.")] = 0,
        period: PeriodOption = None,
        currency: CurrencyOption = "CNY",
        capex: Annotated[
            list[str] | None,
            typer.Option(help="lever=amount[:lifetime_yr] in --currency (repeatable)."),
        ] = None,
        double_conversion: Annotated[bool, typer.Option(help="See proposals.")] = False,
        pv_kwp: Annotated[float | None, typer.Option(help="See proposals.")] = None,
        latitude: Annotated[float | None, typer.Option(help="See proposals.")] = None,
        longitude: Annotated[float | None, typer.Option(help="See proposals.")] = None,
        green_mwh: Annotated[float | None, typer.Option(help="See proposals.")] = None,
        output: FormatOption = Format.table,
        lang: LangOption = Lang.en,
    ) -> None:
        """Store chosen proposals as abatement measures (plan and MACC include them)."""
        from esgledger.energy.proposals import ProposalOptions, adopt, proposals_for_sites
        from esgledger.store import Workspace

        sites = sorted({i.split(".")[1] for i in proposal_ids if i.count(".") >= 2})
        with _errors(), Workspace.open(workspace) as ws:
            if not sites:
                raise InputError(
                    f"{', '.join(proposal_ids)}: proposal ids look like energy.<site>.<lever>; "
                    "list them with 'esgledger energy proposals'"
                )
            options = ProposalOptions.from_texts(
                price_per_kwh,
                currency=currency,
                period=period,
                capex=capex,
                double_conversion=double_conversion,
                pv_kwp=pv_kwp,
                latitude=latitude,
                longitude=longitude,
                green_mwh=green_mwh,
            )
            found = proposals_for_sites(ws, sites, options)
            done = adopt(
                ws,
                proposal_ids,
                None,
                proposals=found,
                start_year=start_year,
                ramp_years=ramp_years,
            )
        if output is Format.json:
            _json(done.to_json())
            return
        zh = lang is Lang.zh_cn
        words = {"added": "新增", "updated": "已更新", "unchanged": "未变"}
        for measure_id, what in done.outcome.items():
            _stdout().print(f"{measure_id}: {words[what] if zh else what}", markup=False)
