"""``esgledger energy forecast``: forecasts of meters or of daily PUE, with backtests.

能耗预测命令：计量表或日 PUE 的预测与回测。

``esgledger energy forecast WS [--site S] [--meter M ...] [--pue] [--horizon 48h|7d]
[--grain hour|15min|day] [--history 8w] [--backtest N] [--format table|json]
[--lang en|zh-CN] [--chart FILE]``. The lead's ``_commands_energy`` calls :func:`register`
on its ``energy_app``.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.table import Table

from esgledger.cli._app import Lang
from esgledger.cli._commands_workspace import _fail, _stderr, _stdout
from esgledger.errors import EsgledgerError
from esgledger.i18n import Text

if TYPE_CHECKING:
    from esgledger.energy.forecast import Grain, WorkspaceForecast

__all__ = ["register"]


class Format(StrEnum):
    """Output format."""

    table = "table"
    json = "json"


class GrainOption(StrEnum):
    """Step of the meter series."""

    m15 = "15min"
    hour = "hour"
    day = "day"


_HEAD = {
    "series": Text("Series", "序列"),
    "model": Text("Model", "模型"),
    "from": Text("From", "起"),
    "to": Text("To", "止"),
    "total": Text("Forecast Σ [kWh]", "预测合计 [kWh]"),
    "mean_pue": Text("Forecast mean PUE", "预测平均 PUE"),
    "band": Text("Band {level} %, {kind} (Σ / mean)", "{level}% 区间，{kind}（合计/均值）"),
    "mae": Text("MAE", "MAE"),
    "mape": Text("MAPE [%]", "MAPE [%]"),
    "cv": Text("CV(RMSE) [%]", "CV(RMSE) [%]"),
    "skill": Text("Skill vs seasonal naive", "相对季节朴素的技巧分"),
    "windows": Text("Windows", "窗口数"),
    "interval": Text("Band", "区间"),
    "level": Text("Level [%]", "水平 [%]"),
    "points": Text("Points", "点数"),
    "coverage": Text("Covered [%]", "覆盖率 [%]"),
}
_KINDS = {
    "model": Text("model's own", "模型自身"),
    "conformal": Text("split conformal", "分裂保形"),
}
_TITLE_COVERAGE = Text(
    "Band coverage in the backtest (share of actuals inside)",
    "回测中的区间覆盖率（实际值落入比例）",
)
_TITLE_FORECAST = Text("Forecast", "预测")
_TITLE_BACKTEST = Text("Backtest (all windows)", "回测（全部窗口）")
_NOTHING = Text("No series long enough to forecast.", "没有足够长的序列可供预测。")


def _number(value: object, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    return f"{float(value):,.{digits}f}"  # type: ignore[arg-type]


def _print_tables(result: WorkspaceForecast, lang: str) -> None:
    out = _stdout()
    fc = result.forecast
    if fc is None:
        out.print(_NOTHING.get(lang))
    else:
        frame = fc.table.to_pandas()
        pue = fc.value_column == "pue"
        table = Table(title=_TITLE_FORECAST.get(lang), box=box.SIMPLE)
        for key in ("series", "model", "from", "to", "mean_pue" if pue else "total"):
            table.add_column(_HEAD[key].get(lang))
        kind = _KINDS[fc.intervals].get(lang)
        table.add_column(_HEAD["band"].get(lang).format(level=fc.level, kind=kind))
        for sid, rows in frame.groupby("series_id", sort=True):
            for model in fc.models:
                agg = rows[model].mean() if pue else rows[model].sum(min_count=1)
                lo = rows[f"{model}-lo-{fc.level}"]
                hi = rows[f"{model}-hi-{fc.level}"]
                band = (
                    f"{_number(lo.mean(), 3)} – {_number(hi.mean(), 3)}"
                    if pue
                    else f"{_number(lo.sum(min_count=1))} – {_number(hi.sum(min_count=1))}"
                )
                table.add_row(
                    str(sid),
                    model,
                    str(rows["ts"].min()),
                    str(rows["ts"].max()),
                    _number(agg, 3 if pue else 2),
                    band,
                )
        out.print(table)
    if result.backtest is not None:
        bt = Table(title=_TITLE_BACKTEST.get(lang), box=box.SIMPLE)
        for key in ("series", "model", "windows", "mae", "mape", "cv", "skill"):
            bt.add_column(_HEAD[key].get(lang))
        for row in result.backtest.summary.to_pylist():
            bt.add_row(
                str(row["series_id"]),
                str(row["model"]),
                str(row["windows"]),
                _number(row["mae"], 3),
                _number(row["mape_pct"]),
                _number(row["cv_rmse_pct"]),
                _number(row["skill_mae"], 3),
            )
        out.print(bt)
        cov = Table(title=_TITLE_COVERAGE.get(lang), box=box.SIMPLE)
        for key in ("model", "interval", "level", "windows", "points", "coverage"):
            cov.add_column(_HEAD[key].get(lang))
        for row in result.backtest.coverage.to_pylist():
            if row["series_id"] is not None:
                continue
            share = row["coverage"]
            cov.add_row(
                str(row["model"]),
                _KINDS[str(row["interval"])].get(lang),
                str(row["level"]),
                str(row["windows"]),
                str(row["points"]),
                _number(None if share is None else 100.0 * share, 1),
            )
        out.print(cov)
    for finding in result.findings:
        _stderr().print(f"{finding.severity}: {finding.text.get(lang)}", markup=False)


def register(app: typer.Typer) -> None:
    """Add ``forecast`` to the ``energy`` command group ``app``."""

    @app.command("forecast")
    def energy_forecast(
        workspace: Annotated[Path, typer.Argument(help="Workspace folder.")],
        site: Annotated[str | None, typer.Option(help="Only this site.")] = None,
        meter: Annotated[
            list[str] | None, typer.Option(help="Only this meter (repeat for more).")
        ] = None,
        pue: Annotated[
            bool, typer.Option("--pue", help="Forecast the daily PUE of --site instead.")
        ] = False,
        horizon: Annotated[
            str | None,
            typer.Option(help="How far ahead: 48h, 7d, 2w (default 48h, or 14d with --pue)."),
        ] = None,
        grain: Annotated[
            GrainOption, typer.Option(help="Step of the meter series.")
        ] = GrainOption.hour,
        history: Annotated[
            str | None,
            typer.Option(help="Latest complete history fitted on, e.g. 8w (default by grain)."),
        ] = None,
        backtest: Annotated[
            int,
            typer.Option(
                "--backtest",
                help="Also backtest with N windows (0: no); the bands are then split-conformal, "
                "calibrated on the backtest's errors, and their coverage is reported.",
            ),
        ] = 0,
        fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
        lang: Annotated[Lang, typer.Option(help="Language of the output.")] = Lang.en,
        chart: Annotated[
            Path | None,
            typer.Option(help="Write the chart of the first series (SVG, or PNG by suffix)."),
        ] = None,
        jobs: Annotated[int, typer.Option(help="Worker processes for fitting.")] = 2,
    ) -> None:
        """Forecast each meter's energy, or a site's daily PUE, with MSTL, AutoETS and the
        seasonal-naive benchmark; optionally backtest and report the errors."""
        from esgledger.energy.forecast import forecast_meters, forecast_pue, span_steps
        from esgledger.energy.forecast_chart import forecast_chart
        from esgledger.store import Workspace

        try:
            if backtest < 0:
                raise EsgledgerError("--backtest must be 0 or more")
            step_grain: Grain = "day" if pue else grain.value
            h = span_steps(horizon or ("14d" if pue else "48h"), step_grain)
            hist = span_steps(history, step_grain) if history else None
            with Workspace.open(workspace) as ws:
                if pue:
                    if not site:
                        raise EsgledgerError("--pue needs --site")
                    result = forecast_pue(
                        ws, site, h=h, history=hist, backtest_windows=backtest, n_jobs=jobs
                    )
                else:
                    result = forecast_meters(
                        ws,
                        site=site,
                        meters=meter,
                        grain=step_grain,
                        h=h,
                        history=hist,
                        backtest_windows=backtest,
                        n_jobs=jobs,
                    )
            if chart is not None and result.forecast is not None:
                first = str(result.forecast.table.column("series_id")[0])
                forecast_chart(result.series, result.forecast, first, lang=lang.value, target=chart)
        except EsgledgerError as exc:
            raise _fail(exc) from exc
        if fmt is Format.json:
            typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        else:
            _print_tables(result, lang.value)
