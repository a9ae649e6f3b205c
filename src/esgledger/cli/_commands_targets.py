"""Target, plan and offsets commands: ``esgledger targets add|list|check|progress``,
``esgledger plan`` and ``esgledger offsets list|claim``.

目标、减排规划与碳信用命令。

* ``targets add WS --id … --scopes 1+2 --base-year … --target-year … --reduction 0.7`` stores
  a target validated by :func:`esgledger.targets.model.parse_target`; a changed target keeps
  its id and becomes a new revision;
* ``targets list WS [--history]`` lists the current targets (every revision with
  ``--history``);
* ``targets check WS [--submission-year Y]`` runs every SBTi rule (pass / fail / not
  assessed with its message); it exits 0 when a rule fails, and says so;
* ``targets progress WS`` shows actual vs pathway per year, on/off track, the gap, the
  projection and the warnings;
* ``plan WS [--target ID] [--chart-dir DIR]`` shows the scenario year by year, the MACC and
  the residual gap, and writes the MACC and scenario charts as SVG and PNG;
* ``offsets list WS`` shows the credit register; ``offsets claim WS --year Y --claim
  carbon_neutral|net_zero [--boundary …]`` checks a claim along the mitigation hierarchy.

Every command takes ``--format table|json`` and ``--lang en|zh-CN``. Errors go to stderr as
``error: …`` with exit status 1; rejected input exits 2.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.table import Table

from esgledger.cli._app import EXIT_REJECTED, Lang, app
from esgledger.cli._commands_workspace import _fail, _stderr, _stdout
from esgledger.errors import EsgledgerError, InputError

if TYPE_CHECKING:
    from esgledger.targets.service import PlanResult, TargetStatus

targets_app = typer.Typer(
    name="targets",
    help="Reduction targets: add, list, SBTi checks, progress.",
    no_args_is_help=True,
)
app.add_typer(targets_app, name="targets")
offsets_app = typer.Typer(
    name="offsets",
    help="Carbon credits: the register and the claims check.",
    no_args_is_help=True,
)
app.add_typer(offsets_app, name="offsets")

WorkspaceArgument = Annotated[Path, typer.Argument(help="Workspace folder.")]


class Format(StrEnum):
    """How a command prints its result."""

    table = "table"
    json = "json"


FormatOption = Annotated[Format, typer.Option("--format", help="table or json.")]
LangOption = Annotated[Lang, typer.Option(help="Language of the tables and reasons.")]


class ClaimOption(StrEnum):
    carbon_neutral = "carbon_neutral"
    net_zero = "net_zero"


class BoundaryOption(StrEnum):
    operations = "operations"
    operations_and_supply_chain = "operations_and_supply_chain"


def _json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n")


def _rejected(exc: InputError) -> typer.Exit:
    _stderr().print(f"error: {exc}", markup=False)
    return typer.Exit(EXIT_REJECTED)


@contextmanager
def _errors() -> Iterator[None]:
    """Turn bad input into exit code :data:`EXIT_REJECTED` and any other esgledger error into
    a failure, each with its message on stderr."""
    try:
        yield
    except InputError as exc:
        raise _rejected(exc) from exc
    except EsgledgerError as exc:
        raise _fail(exc) from exc


def _tr(zh: bool, en: str, cn: str) -> str:
    return cn if zh else en


def _t(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _table(title: str, headers: list[str], right: set[str] | None = None) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    for header in headers:
        table.add_column(header, justify="right" if header in (right or set()) else "left")
    return table


# ---- targets --------------------------------------------------------------------------------


@targets_app.command("add")
def targets_add(
    workspace: WorkspaceArgument,
    target_id: Annotated[str, typer.Option("--id", help="Id of the target.")],
    scopes: Annotated[str, typer.Option(help="Scopes: 1+2, 3, 1+2+3, 3:1,2,6.")],
    base_year: Annotated[int, typer.Option(help="Base year.")],
    target_year: Annotated[int, typer.Option(help="Target year.")],
    reduction: Annotated[
        float | None, typer.Option(help="[fraction] Reduction by the target year: 0.7 = -70 %.")
    ] = None,
    kind: Annotated[
        str, typer.Option(help="absolute, intensity or renewable_electricity.")
    ] = "absolute",
    name: Annotated[str | None, typer.Option(help="Name (default: the id).")] = None,
    name_zh: Annotated[str | None, typer.Option(help="Chinese name.")] = None,
    coverage: Annotated[
        float | None, typer.Option(help="[fraction] Share of the scopes covered (default 1).")
    ] = None,
    target_share: Annotated[
        float | None, typer.Option(help="[fraction] Renewable share to reach (RE targets).")
    ] = None,
    scope2_method: Annotated[str | None, typer.Option(help="market or location.")] = None,
    base_emissions: Annotated[
        float | None,
        typer.Option(help="[t CO2e] Base-year emissions (default: the base year's inventory)."),
    ] = None,
    submission_year: Annotated[int | None, typer.Option(help="Year submitted to SBTi.")] = None,
    ambition: Annotated[str | None, typer.Option(help="1.5C, WB2C, 2C or none.")] = None,
    horizon: Annotated[str | None, typer.Option(help="near_term, long_term or net_zero.")] = None,
    reason: Annotated[str | None, typer.Option(help="Why this target or revision.")] = None,
    output: FormatOption = Format.table,
    lang: LangOption = Lang.en,
) -> None:
    """Store a target; a changed target keeps its id and becomes a new revision."""
    from esgledger.access import Principal
    from esgledger.store import Workspace
    from esgledger.targets.service import add_target

    data = {
        "id": target_id,
        "name": name or target_id,
        "name_zh": name_zh,
        "kind": kind,
        "scopes": scopes,
        "scope2_method": scope2_method,
        "base_year": base_year,
        "target_year": target_year,
        "submission_year": submission_year,
        "reduction": reduction,
        "target_share": target_share,
        "base_emissions_t_co2e": base_emissions,
        "coverage": coverage,
        "ambition": ambition,
        "horizon": horizon,
    }
    with _errors(), Workspace.open(workspace) as ws:
        stored, created = add_target(
            ws,
            {k: v for k, v in data.items() if v is not None},
            reason=reason,
            principal=Principal.local(),
        )
    if output is Format.json:
        _json({**stored.as_dict(), "created": created})
        return
    zh = lang is Lang.zh_cn
    if created:
        message = _tr(
            zh,
            f"Stored target {stored.target.id} as revision {stored.revision}.",
            f"已保存目标 {stored.target.id}（第 {stored.revision} 版）。",
        )
    else:
        message = _tr(
            zh,
            f"Target {stored.target.id} is unchanged (revision {stored.revision}); nothing "
            "was stored.",
            f"目标 {stored.target.id} 未变化（第 {stored.revision} 版），未保存新版本。",
        )
    _stdout().print(message, markup=False)


def _describe(definition: dict[str, Any], zh: bool) -> str:
    if definition.get("reduction") is not None:
        return _tr(zh, "-", "减少 ") + f"{100 * float(definition['reduction']):g} %"
    return _tr(zh, "RE ", "可再生电力 ") + f"{100 * float(definition['target_share'] or 0):g} %"


@targets_app.command("list")
def targets_list(
    workspace: WorkspaceArgument,
    history: Annotated[bool, typer.Option(help="Every revision, withdrawn ones too.")] = False,
    output: FormatOption = Format.table,
    lang: LangOption = Lang.en,
) -> None:
    """List the current targets (every revision with --history)."""
    from esgledger.store import Workspace
    from esgledger.targets.service import stored_targets

    try:
        with Workspace.open(workspace) as ws:
            rows = stored_targets(ws, history=history)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    if output is Format.json:
        _json([r.as_dict() for r in rows])
        return
    zh = lang is Lang.zh_cn
    out = _stdout()
    if not rows:
        out.print(
            _tr(
                zh,
                "No targets. Add one with `esgledger targets add` or import a file with "
                "--kind targets.",
                "尚无目标。请使用 `esgledger targets add` 添加，或以 --kind targets 导入文件。",
            ),
            markup=False,
        )
        return
    headers = (
        ["编号", "版本", "名称", "类型", "范围", "基准年", "目标年", "目标", "期限", "状态", "原因"]
        if zh
        else [
            "id", "rev", "name", "kind", "scopes", "base", "target", "goal", "horizon",
            "status", "reason",
        ]
    )  # fmt: skip
    table = _table(_tr(zh, "Targets", "减排目标"), headers)
    for r in rows:
        t = r.target
        d = t.model_dump(mode="json")
        table.add_row(
            t.id,
            str(r.revision),
            (t.name_zh or t.name) if zh else t.name,
            t.kind.value,
            f"{t.scopes.label} ({t.scopes.scope2_method.value})"
            if 2 in t.scopes.scopes
            else t.scopes.label,
            str(t.base_year),
            str(t.target_year),
            _describe(d, zh),
            t.horizon.value,
            r.status,
            r.reason or "-",
        )
    out.print(table)


def _status(workspace: Path, submission_year: int | None = None) -> TargetStatus:
    from esgledger.store import Workspace
    from esgledger.targets.service import target_status

    with Workspace.open(workspace) as ws:
        return target_status(ws, submission_year=submission_year)


@targets_app.command("check")
def targets_check(
    workspace: WorkspaceArgument,
    submission_year: Annotated[
        int | None,
        typer.Option(help="Year of submission to SBTi (default: each target's own)."),
    ] = None,
    output: FormatOption = Format.table,
    lang: LangOption = Lang.en,
) -> None:
    """Run every SBTi rule on the target set: pass, fail or not assessed, with its message."""
    with _errors():
        status = _status(workspace, submission_year)
    if output is Format.json:
        data = status.as_dict()
        _json({k: data[k] for k in ("checks", "checks_basis", "checks_note", "submission_year")})
        return
    zh = lang is Lang.zh_cn
    out = _stdout()
    if not status.checks:
        out.print((status.checks_note_zh if zh else "") or status.checks_note, markup=False)
        return
    table = _table(
        _tr(zh, "SBTi checks", "SBTi 校验"),
        ["规则", "目标", "结果", "说明"] if zh else ["rule", "target", "result", "message"],
    )
    labels = {"pass": ("pass", "通过"), "fail": ("FAIL", "不通过")}
    for c in status.checks:
        en, cn = labels.get(c.status.value, ("not assessed", "未评估"))
        table.add_row(
            _rule_label(c.rule, zh), c.target_id or "-", cn if zh else en,
            c.message_zh if zh else c.message,
        )  # fmt: skip
    out.print(table)
    out.print(
        _tr(
            zh,
            f"Basis: {status.checks_basis}",
            f"依据：{status.checks_basis_zh or status.checks_basis}",
        ),
        markup=False,
    )
    failed = [c for c in status.checks if c.status.value == "fail"]
    if failed:
        out.print(
            _tr(
                zh,
                f"{len(failed)} rule(s) fail: {', '.join(c.rule for c in failed)}.",
                f"{len(failed)} 条规则未通过："
                f"{'、'.join(_rule_label(c.rule, zh) for c in failed)}。",
            ),
            markup=False,
        )
    else:
        out.print(_tr(zh, "No rule fails.", "所有规则均未失败。"), markup=False)


def _rule_label(rule: str, zh: bool) -> str:
    """An SBTi rule as the table prints it: its id in English, its name in Chinese."""
    from esgledger.targets.service import rule_label

    return rule_label(rule)["zh-CN"] if zh else rule


@targets_app.command("progress")
def targets_progress(
    workspace: WorkspaceArgument,
    output: FormatOption = Format.table,
    lang: LangOption = Lang.en,
) -> None:
    """Actual vs the linear pathway per year, on/off track, gap, projection and warnings."""
    with _errors():
        status = _status(workspace)
    if output is Format.json:
        data = status.as_dict()
        keys = ("reference_year", "inventories", "targets", "temperature", "temperature_basis")
        _json({k: data[k] for k in (*keys, "temperature_unit", "temperature_note")})
        return
    zh = lang is Lang.zh_cn
    out = _stdout()
    if not status.targets:
        out.print(_tr(zh, "No targets.", "尚无目标。"), markup=False)
    for state in status.targets:
        t = state.target
        p = state.progress
        out.print(f"[bold]{t.id}[/bold] {(t.name_zh or t.name) if zh else t.name}")
        if state.base is not None and state.base.t_co2e is not None:
            out.print(
                _tr(
                    zh,
                    f"  base {t.base_year}: {_t(state.base.t_co2e)} t CO2e ({state.base.source})",
                    f"  基准年 {t.base_year}：{_t(state.base.t_co2e)} 吨二氧化碳当量"
                    f"（{state.base.source}）",
                ),
                markup=False,
            )
        if p is None:
            out.print(
                "  " + _tr(zh, "not tracked: ", "未跟踪：") + state.progress_note, markup=False
            )
        else:
            fraction = p.unit == "fraction"
            unit = "%" if fraction else p.unit
            headers = (
                ["年份", f"实际（{unit}）", "路径", "差距", "来源"]
                if zh
                else ["year", f"actual ({unit})", "pathway", "gap", "source"]
            )
            table = _table("", headers, {headers[1], headers[2], headers[3]})
            for y in p.years:
                values = [y.actual, y.pathway, y.gap]
                cells = [f"{100 * v:.1f}" if fraction else _t(v) for v in values]
                table.add_row(str(y.year), *cells, state.actual_sources.get(y.year, "-"))
            out.print(table)
            verdict = {"on_track": ("ON TRACK", "按计划"), "off_track": ("OFF TRACK", "偏离计划")}
            en, cn = verdict.get(p.status, ("insufficient data", "数据不足"))
            out.print(f"  {cn if zh else en}: {p.reason_zh if zh else p.reason}", markup=False)
        for w in state.warnings:
            out.print(
                "  " + _tr(zh, "warning: ", "警告：") + (w.message_zh if zh else w.message),
                markup=False,
            )
    if status.temperature is not None:
        s = status.temperature
        out.print(
            _tr(
                zh,
                f"Temperature score ({s.time_frame} term, {status.reference_year}): "
                f"{s.s1s2s3_c:.2f} °C (S1+S2 {s.s1s2.score_c:.2f} °C, S3 {s.s3.score_c:.2f} °C); "
                f"{s.reason}",
                f"温度评分（{status.reference_year} 年）：{s.s1s2s3_c:.2f} °C"
                f"（范围一二 {s.s1s2.score_c:.2f} °C，范围三 {s.s3.score_c:.2f} °C）；"
                f"{s.reason_zh}",
            ),
            markup=False,
        )


# ---- plan -----------------------------------------------------------------------------------


@app.command("plan")
def plan_command(
    workspace: WorkspaceArgument,
    target: Annotated[
        str | None,
        typer.Option(help="Target id (default: the first near-term absolute S1/S2 target)."),
    ] = None,
    run: Annotated[str | None, typer.Option("--run", help="Run id (default: the latest).")] = None,
    growth_rate: Annotated[
        float, typer.Option(help="[1/yr] Business-as-usual growth, e.g. 0.03.")
    ] = 0.0,
    chart_dir: Annotated[
        Path | None,
        typer.Option(help="Write macc.svg/.png and scenario.svg/.png into this folder."),
    ] = None,
    output: FormatOption = Format.table,
    lang: LangOption = Lang.en,
) -> None:
    """Abatement plan: scenario to the target year, MACC and the residual gap."""
    from esgledger.store import Workspace
    from esgledger.targets.service import plan

    with _errors(), Workspace.open(workspace) as ws:
        result = plan(ws, run_id=run, target_id=target, growth_rate=growth_rate)
    charts: list[Path] = []
    if chart_dir is not None:
        charts = _write_charts(result, chart_dir, lang)
    if output is Format.json:
        _json({**result.as_dict(), "charts": [str(p) for p in charts]})
        return
    _print_plan(result, lang is Lang.zh_cn, charts)


def _write_charts(result: PlanResult, folder: Path, lang: Lang) -> list[Path]:
    from esgledger.targets.charts import macc_chart, scenario_chart

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix in ("svg", "png"):
        path = folder / f"macc.{suffix}"
        macc_chart(result.macc, path, lang=lang.value)
        written.append(path)
        path = folder / f"scenario.{suffix}"
        scenario_chart(
            result.scenario,
            path,
            target_pathway=result.target_pathway or None,
            lang=lang.value,
        )
        written.append(path)
    return written


def _print_plan(result: PlanResult, zh: bool, charts: list[Path]) -> None:
    out = _stdout()
    target = result.target
    title = _tr(zh, "Scenario, t CO2e", "情景，吨二氧化碳当量")
    if target is not None:
        title += f" — {target.id} ({target.scopes.label})"
    path = result.target_pathway
    headers = (
        ["年份", "基准情景", "减排量", "剩余排放", "目标路径", "差距"]
        if zh
        else ["year", "BAU", "abated", "remaining", "pathway", "gap"]
    )
    table = _table(title, headers, set(headers[1:]))
    for row in result.scenario.to_pylist():
        year = int(row["year"])
        goal = path.get(year)
        table.add_row(
            str(year),
            _t(row["bau_t_co2e"]),
            _t(row["abated_t_co2e"]),
            _t(row["remaining_t_co2e"]),
            _t(goal),
            "-" if goal is None else f"{row['remaining_t_co2e'] - goal:+,.0f}",
        )
    out.print(table)
    currency = result.currency
    headers = (
        [
            "序号",
            "措施",
            "手段",
            f"成本（{currency}/吨）",
            "潜力（吨/年）",
            "减排宽度（吨/年）",
            "累计",
        ]
        if zh
        else [
            "#",
            "measure",
            "lever",
            f"{currency}/t",
            "potential t/yr",
            "width t/yr",
            "cumulative",
        ]
    )
    macc_table = _table(
        _tr(zh, "Marginal abatement cost curve", "边际减排成本曲线"), headers, set(headers[3:])
    )
    for row in result.macc.to_pylist():
        macc_table.add_row(
            str(row["rank"]),
            row["name_zh"] if zh else row["name"],
            _lever_label(str(row["lever"]), zh),
            f"{row['cost_per_t']:,.0f}",
            _t(row["potential_t_co2e_per_yr"]),
            _t(row["abatement_t_co2e_per_yr"]) + (" *" if row["capped"] else ""),
            _t(row["cumulative_end_t_co2e_per_yr"]),
        )
    out.print(macc_table)
    if any(result.macc["capped"].to_pylist()):
        out.print(
            _tr(
                zh,
                "* capped at the emissions of the lines it acts on",
                "* 以其作用排放源的排放量为上限",
            ),
            markup=False,
        )
    out.print(_residual_sentence(result, zh), markup=False)
    notes = result.notes_zh if zh and result.notes_zh else result.notes
    for note in notes:
        out.print(_tr(zh, "note: ", "说明：") + note, markup=False)
    for chart in charts:
        out.print(_tr(zh, f"wrote {chart}", f"已写入 {chart}"), markup=False)


def _lever_label(lever: str, zh: bool) -> str:
    """An abatement lever: its code in English, its name in Chinese
    (:data:`esgledger.targets.planner.LEVER_NAMES`)."""
    from esgledger.targets.planner import LEVER_NAMES, Lever

    try:
        return LEVER_NAMES[Lever(lever)][1] if zh else lever
    except ValueError:
        return lever


def _residual_sentence(result: PlanResult, zh: bool) -> str:
    """The plan's residual gap in one sentence (also printed by the demo)."""
    gap = result.gap
    if gap is None or result.target is None:
        return _tr(zh, "No residual gap: no target pathway.", "无剩余差距：没有目标路径。")
    if gap.met:
        return _tr(
            zh,
            f"Residual gap in {gap.target_year}: none — the measures bring {result.target.id} to "
            f"{_t(gap.remaining_t_co2e)} t CO2e against a target of {_t(gap.target_t_co2e)} t "
            f"({_t(-gap.gap_t_co2e)} t to spare).",
            f"{gap.target_year} 年剩余差距：无——措施可使 {result.target.id} 降至 "
            f"{_t(gap.remaining_t_co2e)} 吨，目标 {_t(gap.target_t_co2e)} 吨（富余 "
            f"{_t(-gap.gap_t_co2e)} 吨）。",
        )
    return _tr(
        zh,
        f"Residual gap in {gap.target_year}: {_t(gap.gap_t_co2e)} t CO2e still to close for "
        f"{result.target.id} ({_t(gap.remaining_t_co2e)} t remaining against a target of "
        f"{_t(gap.target_t_co2e)} t).",
        f"{gap.target_year} 年剩余差距：{result.target.id} 仍需减排 {_t(gap.gap_t_co2e)} 吨"
        f"（剩余 {_t(gap.remaining_t_co2e)} 吨，目标 {_t(gap.target_t_co2e)} 吨）。",
    )


# ---- offsets --------------------------------------------------------------------------------


@offsets_app.command("list")
def offsets_list(
    workspace: WorkspaceArgument,
    output: FormatOption = Format.table,
    lang: LangOption = Lang.en,
) -> None:
    """The credit register: blocks, retired and available tonnes, retirements."""
    from esgledger.store import Workspace
    from esgledger.targets.service import credit_register

    with _errors(), Workspace.open(workspace) as ws:
        view = credit_register(ws)
    data = view.as_dict()
    if output is Format.json:
        _json(data)
        return
    zh = lang is Lang.zh_cn
    out = _stdout()
    if not data["credits"]:
        out.print(
            _tr(
                zh,
                "No credits. Import some with --kind credits.",
                "尚无碳信用。请以 --kind credits 导入。",
            ),
            markup=False,
        )
        return
    headers = (
        ["编号", "项目", "类型", "持久性", "标准", "年份", "数量", "已注销", "可用"]
        if zh
        else [
            "credit",
            "project",
            "kind",
            "permanence",
            "standard",
            "vintage",
            "t",
            "retired",
            "available",
        ]
    )
    table = _table(
        _tr(zh, "Credit register, t CO2e", "碳信用登记，吨二氧化碳当量"), headers, set(headers[5:])
    )
    for c in data["credits"]:
        table.add_row(
            c["id"], c["project"], c["kind"], c["permanence"] or "-", c["standard"],
            str(c["vintage"]), _t(c["volume_t_co2e"]), _t(c["retired_t_co2e"]),
            _t(c["available_t_co2e"]),
        )  # fmt: skip
    out.print(table)
    headers = (
        ["凭证", "碳信用", "数量", "注销日期", "声明年份", "用途", "受益方"]
        if zh
        else ["reference", "credit", "t", "retired on", "claim year", "purpose", "beneficiary"]
    )
    table = _table(_tr(zh, "Retirements", "注销记录"), headers, {headers[2]})
    for r in data["retirements"]:
        table.add_row(
            r["reference"], r["credit"], _t(r["volume_t_co2e"]), r["retired_on"],
            str(r["claim_year"]), r["purpose"], r["beneficiary"],
        )  # fmt: skip
    out.print(table)


@offsets_app.command("claim")
def offsets_claim(
    workspace: WorkspaceArgument,
    year: Annotated[int, typer.Option(help="Claim year.")],
    claim: Annotated[ClaimOption, typer.Option(help="carbon_neutral or net_zero.")],
    boundary: Annotated[
        BoundaryOption,
        typer.Option(help="operations (scopes 1+2) or operations_and_supply_chain (1-3)."),
    ] = BoundaryOption.operations,
    base_year: Annotated[
        int | None,
        typer.Option(help="Base year (default: the workspace's, else the targets' earliest)."),
    ] = None,
    beneficiary: Annotated[
        str | None, typer.Option(help="Count only retirements made for this beneficiary.")
    ] = None,
    output: FormatOption = Format.table,
    lang: LangOption = Lang.en,
) -> None:
    """Check a carbon-neutral or net-zero claim: reductions and green power first, credits
    only for the residual, removals only for net-zero neutralisation."""
    from esgledger.store import Workspace
    from esgledger.targets.service import claims

    with _errors(), Workspace.open(workspace) as ws:
        outcome = claims(
            ws, year, claim.value, boundary.value, base_year=base_year, beneficiary=beneficiary
        )
    if output is Format.json:
        _json(outcome.as_dict())
        return
    zh = lang is Lang.zh_cn
    out = _stdout()
    r = outcome.result
    headers = ["组成", "吨二氧化碳当量", "占比"] if zh else ["rests on", "t CO2e", "share"]
    table = _table(_tr(zh, "What the claim rests on", "声明的构成"), headers, set(headers[1:]))
    names = {
        "reductions": ("reductions vs base year", "相对基准年减排"),
        "green_power": ("green power", "绿色电力"),
        "avoidance": ("avoidance credits", "避免排放类碳信用"),
        "removal": ("removal credits", "碳移除信用"),
        "uncovered": ("uncovered residual", "未抵消的剩余排放"),
    }
    tonnes = {
        "reductions": r.reductions_t,
        "green_power": r.green_power_t,
        "avoidance": r.avoidance_t,
        "removal": r.removal_t,
        "uncovered": r.uncovered_t,
    }
    for key, (en, cn) in names.items():
        table.add_row(cn if zh else en, _t(tonnes[key]), f"{100 * r.shares.get(key, 0.0):.1f} %")
    out.print(table)
    for reason in r.reasons:
        mark = "✓" if reason.passed else "✗"
        out.print(f"{mark} {reason.message_zh if zh else reason.message}", markup=False)
    out.print(
        _tr(
            zh,
            f"Inventory {year}: {outcome.inventory_source}; base year {outcome.base_year}: "
            f"{outcome.base_source}",
            f"{year} 年清单：{outcome.inventory_source}；基准年 {outcome.base_year}："
            f"{outcome.base_source}",
        ),
        markup=False,
    )
