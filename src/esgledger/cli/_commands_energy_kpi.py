"""KPI commands of ``esgledger energy``: ``kpi`` and ``to-activities``.

数据中心能效指标命令：``kpi``（PUE、WUE、CUE、REF 等及监管指标包）与 ``to-activities``
（由边界电表生成按月外购电力活动数据，并与发票数据比对）。

* ``kpi WS [--site S] [--period 2024|2024-03|2024-01-01:2024-06-30] [--format table|json]
  [--lang en|zh-CN] [--chart FILE] [--it-power-kw KW]`` prints the KPIs of each site (default:
  the rolling 12 months ending with the last month read), with the measurement category,
  the data-quality scores and failed checks, provenance and the regulatory packs;
  ``--chart`` writes the CLF/PLF/OLF waterfall of the (first) site, ``--trend`` its monthly
  PUE, ``--heatmap`` its hourly IT load (SVG or PNG);
* ``to-activities WS --year Y [--out FILE] [--import]`` writes the monthly electricity rows
  of every site's boundary meters as an activity file (CSV), shows metered vs invoiced per
  month, and with ``--import`` imports the months that have no invoiced rows.

Errors go to stderr as ``error: ...`` with exit status 1 (:func:`_fail`).
"""

from __future__ import annotations

import csv
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from esgledger.cli._app import Lang
from esgledger.cli._commands_workspace import _fail, _stderr, _stdout
from esgledger.energy.kpi import SiteKpis
from esgledger.errors import EsgledgerError
from esgledger.i18n import Text

__all__ = ["register"]

WorkspaceArgument = Annotated[Path, typer.Argument(help="Workspace folder.")]


class KpiFormat(StrEnum):
    table = "table"
    json = "json"


_HEADERS = {
    "en": ("site", "period", "PUE", "category", "DCiE", "CLF", "PLF", "OLF", "WUE L/kWh",
           "CUE kg/kWh", "REF", "ERF", "ERE", "E_IT MWh", "quality"),
    "zh-CN": ("站点", "期间", "PUE", "测量类别", "DCiE", "CLF", "PLF", "OLF", "WUE 升/千瓦时",
              "CUE 千克/千瓦时", "REF", "ERF", "ERE", "IT 能耗 兆瓦时", "数据质量"),
}  # fmt: skip


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def kpi_json(kpis: SiteKpis, packs: dict[str, Any]) -> dict[str, Any]:
    """One site's JSON entry: the KPI keys, quality, provenance and packs."""
    data = kpis.to_json()
    data["packs"] = packs
    return data


def register(energy_app: typer.Typer) -> None:
    """Add ``kpi`` and ``to-activities`` to the ``esgledger energy`` group."""

    @energy_app.command("kpi")
    def energy_kpi(
        workspace: WorkspaceArgument,
        site: Annotated[
            str | None, typer.Option(help="One site (default: every site with meters).")
        ] = None,
        period: Annotated[
            str | None,
            typer.Option(
                help="2024, 2024-03 or 2024-01-01:2024-06-30 (default: rolling 12 months)."
            ),
        ] = None,
        format_: Annotated[
            KpiFormat, typer.Option("--format", help="table or json.")
        ] = KpiFormat.table,
        lang: Annotated[Lang, typer.Option(help="Language of the table and findings.")] = Lang.en,
        chart: Annotated[
            Path | None, typer.Option(help="Write the load-factor waterfall (SVG or PNG).")
        ] = None,
        it_power_kw: Annotated[
            float | None, typer.Option(help="Installed IT power [kW], for EU 2024/1364.")
        ] = None,
        trend: Annotated[
            Path | None, typer.Option(help="Write the monthly PUE trend (SVG or PNG).")
        ] = None,
        heatmap: Annotated[
            Path | None, typer.Option(help="Write the hourly IT-load heat-map (SVG or PNG).")
        ] = None,
    ) -> None:
        """ISO/IEC 30134 KPIs of the data centres from their meters."""
        from esgledger.contract import dumps
        from esgledger.energy.charts import load_heatmap, pue_trend, waterfall
        from esgledger.energy.kpi_service import kpis, load_profile, monthly_kpis
        from esgledger.energy.packs import evaluate_packs
        from esgledger.energy.periods import parse_period
        from esgledger.store import Workspace

        try:
            chosen = parse_period(period) if period else None
            with Workspace.open(workspace) as ws:
                results = kpis(ws, site=site, period=chosen)
                first = results[0].site if results else None
                months = monthly_kpis(ws, first, chosen) if trend and first else []
                days, kw = load_profile(ws, first, chosen) if heatmap and first else ([], None)
            if chart is not None and results:
                waterfall(results[0], chart, lang=lang.value)
            if trend is not None and months:
                pue_trend(
                    [m for m, _ in months], [k.pue for _, k in months], trend, lang=lang.value
                )
            if heatmap is not None and days and kw is not None:
                load_heatmap(days, kw, heatmap, lang=lang.value)
        except EsgledgerError as exc:
            raise _fail(exc) from exc
        entries = [kpi_json(k, evaluate_packs(k, it_power_kw=it_power_kw)) for k in results]
        if format_ is KpiFormat.json:
            typer.echo(dumps({"sites": entries}), nl=False)
            return
        out = _stdout()
        if not results:
            none = Text(
                "No sites with meters. Import some with `esgledger import WS --kind meters FILE`.",
                "没有带电表的站点。请用 `esgledger import WS --kind meters FILE` 导入电表。",
            )
            out.print(none.get(lang.value), markup=False)
            return
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        for header in _HEADERS[lang.value]:
            table.add_column(header)
        for k in results:
            score = k.quality.scores.get("pue")
            table.add_row(
                k.site or "",
                k.period or "",
                _num(k.pue, 2),
                k.pue_category or "-",
                "-" if k.dcie is None else f"{k.dcie * 100:.1f} %",
                _num(k.clf, 2),
                _num(k.plf, 2),
                _num(k.olf, 2),
                _num(k.wue_l_per_kwh, 2),
                _num(k.cue_kg_per_kwh, 3),
                _num(k.ref, 3),
                _num(k.erf, 3),
                _num(k.ere, 2),
                "-" if k.e_it_kwh is None else f"{k.e_it_kwh / 1000:,.0f}",
                _num(score, 2),
            )
        out.print(table)
        zh = lang is Lang.zh_cn
        for entry in entries:
            packs = entry["packs"]
            grade = packs["gb_40879_2021"]["grade"]
            dcem = packs["etsi_dcem"]["kpi_dcem"] or "-"
            eu = packs["eu_2024_1364"]
            missing = ", ".join(eu["missing"]) or ("无" if zh else "none")
            grade_text = "-" if grade is None else str(grade)
            line = (
                f"{entry['site']}: GB 40879-2021 等级 {grade_text} [R]；ETSI DCEM {dcem}；"
                f"欧盟 2024/1364 缺少指标：{missing}"
                if zh
                else f"{entry['site']}: GB 40879-2021 grade {grade_text} [R]; ETSI DCEM {dcem}; "
                f"EU 2024/1364 missing: {missing}"
            )
            out.print(line, markup=False)
        for k in results:
            for f in (*k.findings, *k.quality.findings):
                if f.severity != "info":
                    out.print(f"{k.site}: [{f.code}] {f.text.get(lang.value)}", markup=False)
            grid = k.provenance.get("grid_factor")
            if grid:
                word = "电网排放因子" if zh else "grid factor"
                out.print(
                    f"{k.site}: {word} {grid['factor_id']} ({grid['kg_per_kwh']:.4f} "
                    f"kg/kWh, {grid['vintage']})",
                    markup=False,
                )

    @energy_app.command("to-activities")
    def energy_to_activities(
        workspace: WorkspaceArgument,
        year: Annotated[int, typer.Option(help="Year of the monthly rows.")],
        out: Annotated[
            Path | None, typer.Option(help="Write the activity file here (CSV).")
        ] = None,
        import_: Annotated[
            bool,
            typer.Option("--import", help="Import the months that have no invoiced electricity."),
        ] = False,
        format_: Annotated[
            KpiFormat, typer.Option("--format", help="table or json.")
        ] = KpiFormat.table,
    ) -> None:
        """Monthly electricity activity rows from the boundary meters; metered vs invoiced."""
        from esgledger.contract import dumps
        from esgledger.energy.activities import (
            ACTIVITY_FILE_COLUMNS,
            compare,
            importable,
            invoiced_electricity,
            metered_activities,
        )
        from esgledger.ingest.importers import import_file
        from esgledger.store import Workspace

        imported: str | None = None
        try:
            with Workspace.open(workspace) as ws:
                rows = metered_activities(ws, year)
                invoiced = invoiced_electricity(ws, year, sorted({r["site"] for r in rows}))
                diff = compare(rows, invoiced)
                chosen = importable(rows, invoiced)
                if out is not None:
                    _write(out, rows, ACTIVITY_FILE_COLUMNS)
                if import_ and chosen:
                    with tempfile.TemporaryDirectory() as tmp:
                        path = Path(tmp) / f"metered-electricity-{year}.csv"
                        _write(path, chosen, ACTIVITY_FILE_COLUMNS)
                        result = import_file(ws, "activities", path)
                        imported = f"imported {result.rows} rows as batch {result.batch_id}"
        except EsgledgerError as exc:
            raise _fail(exc) from exc
        if format_ is KpiFormat.json:
            payload = {
                "rows": [{k: r[k] for k in (*ACTIVITY_FILE_COLUMNS, "coverage")} for r in rows],
                "comparison": diff,
                "importable": len(chosen),
                "imported": imported,
            }
            typer.echo(dumps(payload), nl=False)
            return
        console = _stdout()
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        for header in ("site", "month", "metered kWh", "invoiced kWh", "difference kWh", "%"):
            table.add_column(header, justify="left" if header in ("site", "month") else "right")
        for d in diff:
            table.add_row(
                d["site"],
                d["month"],
                "-" if d["metered_kwh"] is None else f"{d['metered_kwh']:,.0f}",
                "-" if d["invoiced_kwh"] is None else f"{d['invoiced_kwh']:,.0f}",
                "-" if d["difference_kwh"] is None else f"{d['difference_kwh']:+,.0f}",
                "-" if d["difference_pct"] is None else f"{d['difference_pct']:+.1%}",
            )
        console.print(table)
        skipped = len(rows) - len(chosen)
        if import_:
            console.print(imported or "nothing to import", markup=False)
            if skipped:
                _stderr().print(
                    f"{skipped} site-month(s) already invoiced: not imported (double counting)",
                    markup=False,
                )


def _write(path: Path, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow({c: r[c] for c in columns})
