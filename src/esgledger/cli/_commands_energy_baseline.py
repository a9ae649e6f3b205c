"""``esgledger energy baseline WS``: fit an energy baseline of a site's meter or role, with
its ASHRAE Guideline 14 statistics and verdict, and the avoided energy of a reporting period
(:mod:`esgledger.energy.baseline`). The lead's ``cli/_commands_energy.py`` calls
:func:`register` on its ``energy`` group.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from esgledger.cli._app import exit_code
from esgledger.cli._commands_workspace import _stderr, _stdout
from esgledger.errors import EsgledgerError, InputError, InsufficientDataError
from esgledger.i18n import Text

__all__ = ["register"]


class BaselineFormat(StrEnum):
    table = "table"
    json = "json"


class BaselineLang(StrEnum):
    en = "en"
    zh = "zh-CN"


class BaselineMethod(StrEnum):
    caltrack_daily = "caltrack_daily"
    g14_3p_cooling = "g14_3p_cooling"
    g14_3p_heating = "g14_3p_heating"
    g14_4p = "g14_4p"
    g14_5p = "g14_5p"
    dc_it_cdh = "dc_it_cdh"


_LABELS: dict[str, Text] = {
    "title": Text("Energy baseline", "能耗基线"),
    "method": Text("Method", "方法"),
    "period": Text("Baseline period", "基线期"),
    "parameter": Text("Parameter", "参数"),
    "value": Text("Value", "数值"),
    "unit": Text("Unit", "单位"),
    "g14": Text("ASHRAE Guideline 14 statistics", "ASHRAE Guideline 14 统计量"),
    "statistic": Text("Statistic", "统计量"),
    "limit": Text("Limit", "限值"),
    "result": Text("Result", "结果"),
    "pass": Text("pass", "通过"),
    "fail": Text("fail", "未通过"),
    "none": Text("not computable", "无法计算"),
    "verdict": Text("Verdict", "结论"),
    "findings": Text("Findings", "发现"),
    "avoided": Text("Avoided energy", "避免能耗"),
    "adjusted": Text("Adjusted baseline", "调整后基线"),
    "reporting": Text("Reporting consumption", "报告期能耗"),
    "uncertainty": Text("Uncertainty", "不确定度"),
    "conventions": Text(
        "NMBE sign: measured − predicted; degrees of freedom n − p.",
        "NMBE符号：实测值 − 预测值；自由度 n − p。",
    ),
}


def _word(key: str, lang: str) -> str:
    return _LABELS[key].get(lang)


def _passed(value: bool | None, lang: str) -> str:
    if value is None:
        return _word("none", lang)
    return _word("pass" if value else "fail", lang)


def _num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _print_table(fitted: Any, avoided: Any, lang: str) -> None:
    out = _stdout()
    out.print(
        f"{_word('title', lang)}: {_word('method', lang)} {fitted.method}, "
        f"{_word('period', lang)} {fitted.baseline_start[:10]} – {fitted.baseline_end[:10]}",
        markup=False,
    )
    params = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for key in ("parameter", "value", "unit"):
        params.add_column(_word(key, lang))
    for name, p in fitted.parameters.items():
        params.add_row(escape(name), _num(p.value, 4), escape(p.unit))
    out.print(params)
    m = fitted.metrics
    stats = Table(title=_word("g14", lang), box=box.SIMPLE_HEAD, pad_edge=False)
    for key in ("statistic", "value", "limit", "result"):
        stats.add_column(_word(key, lang))
    checks = {c.statistic: c for c in fitted.verdict.checks}
    cv = checks.get("cv_rmse_pct")
    nmbe = checks.get("nmbe_abs_pct")
    stats.add_row(
        "CV(RMSE) %",
        _num(m.cv_rmse_pct),
        "—" if cv is None else f"≤ {cv.limit:g}",
        "—" if cv is None else _passed(cv.passed, lang),
    )
    stats.add_row(
        "NMBE %",
        _num(m.nmbe_pct, 4),
        "—" if nmbe is None else f"±{nmbe.limit:g}",
        "—" if nmbe is None else _passed(nmbe.passed, lang),
    )
    stats.add_row("R²", _num(m.r_squared, 4), "", "")
    stats.add_row("n / p", f"{m.n} / {m.p}", "", "")
    out.print(stats)
    out.print(
        f"{_word('verdict', lang)}: {_passed(fitted.verdict.passed, lang)} "
        f"({fitted.verdict.threshold_code or '—'}, {fitted.verdict.source} "
        f"[{fitted.verdict.confidence}]). {_word('conventions', lang)}",
        markup=False,
    )
    if avoided is not None:
        out.print(
            f"{_word('avoided', lang)}: {_num(avoided.avoided_kwh, 0)} kWh "
            f"({_word('adjusted', lang)} {_num(avoided.adjusted_baseline_kwh, 0)} kWh − "
            f"{_word('reporting', lang)} {_num(avoided.reporting_kwh, 0)} kWh)",
            markup=False,
        )
        for u in avoided.uncertainty:
            out.print(
                f"  {_word('uncertainty', lang)} @ {u.confidence_pct:g} %: "
                f"± {_num(u.plus_minus_kwh, 0)} kWh"
                + ("" if u.fractional is None else f" ({u.fractional:.1%})"),
                markup=False,
            )
    findings = [*fitted.findings, *fitted.metrics.findings, *fitted.verdict.findings]
    if avoided is not None:
        findings += list(avoided.findings)
    if findings:
        out.print(f"{_word('findings', lang)}:", markup=False)
        for f in findings:
            out.print(f"  [{f.severity}] {f.code}: {f.text.get(lang)}", markup=False)


def _fail(exc: EsgledgerError, lang: str) -> typer.Exit:
    err = _stderr()
    err.print(f"error: {exc}", markup=False)
    if isinstance(exc, InsufficientDataError):
        for f in exc.findings:
            text = getattr(f, "text", None)
            if isinstance(text, Text):
                err.print(f"  {getattr(f, 'code', '')}: {text.get(lang)}", markup=False)
    return typer.Exit(exit_code(exc))


def baseline(
    workspace: Annotated[Path, typer.Argument(help="Workspace folder.")],
    site: Annotated[str, typer.Option("--site", help="Site code.")],
    baseline_period: Annotated[
        str,
        typer.Option(
            "--baseline-period", help="2024, 2024-03 or 2024-01-01:2024-12-31 (local dates)."
        ),
    ],
    meter: Annotated[str | None, typer.Option("--meter", help="One meter.")] = None,
    role: Annotated[
        str | None, typer.Option("--role", help="Every meter of this role (e.g. incomer).")
    ] = None,
    reporting_period: Annotated[
        str | None,
        typer.Option("--reporting-period", help="Period whose avoided energy to compute."),
    ] = None,
    method: Annotated[
        BaselineMethod, typer.Option("--method", help="Baseline model.")
    ] = BaselineMethod.caltrack_daily,
    post_retrofit_months: Annotated[
        int | None,
        typer.Option(help="Months of post-retrofit data (picks the G14 CV(RMSE) tier)."),
    ] = None,
    allow_insufficient: Annotated[
        bool, typer.Option(help="Fit even when sufficiency rules fail (findings shown).")
    ] = False,
    format_: Annotated[BaselineFormat, typer.Option("--format", help="table or json.")] = (
        BaselineFormat.table
    ),
    lang: Annotated[BaselineLang, typer.Option("--lang", help="en or zh-CN.")] = (BaselineLang.en),
) -> None:
    """Fit an energy baseline with its ASHRAE Guideline 14 statistics and verdict; with
    --reporting-period, the avoided energy and its uncertainty."""
    from esgledger.energy.baseline_workspace import baseline_for, reporting_for
    from esgledger.energy.periods import parse_period
    from esgledger.store import Workspace

    language = lang.value
    try:
        if (meter is None) == (role is None):
            raise InputError("give exactly one of --meter and --role")
        target: str = meter if meter is not None else (role or "")
        kind: Literal["meter", "role"] = "meter" if meter is not None else "role"
        base = parse_period(baseline_period)
        report = parse_period(reporting_period) if reporting_period else None
        with Workspace.open(workspace) as ws:
            fitted = baseline_for(
                ws,
                site,
                target,
                base,
                method.value,
                kind=kind,
                allow_insufficient=allow_insufficient,
                post_retrofit_months=post_retrofit_months,
            )
            avoided = (
                reporting_for(ws, fitted, site, target, report, kind=kind)
                if report is not None
                else None
            )
    except EsgledgerError as exc:
        raise _fail(exc, language) from exc
    if format_ is BaselineFormat.json:
        document = {
            "site": site,
            "meter": meter,
            "role": role,
            "baseline": json.loads(fitted.to_json()),
            "avoided": None if avoided is None else avoided.to_json(),
        }
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        return
    _print_table(fitted, avoided, language)


def register(app: typer.Typer) -> None:
    """Add ``baseline`` to the ``energy`` command group."""
    app.command("baseline")(baseline)
