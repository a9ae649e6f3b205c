"""The targets pages: targets with their SBTi checks, the temperature score and progress
against the pathway (``/targets``), and the plan — MACC, scenario and residual gap
(``/targets/plan``). Both need ``inventory:read``; the group's emissions show only to
readers of the whole group (:func:`esgledger.targets.service.status_view`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from esgledger.access import Principal
from esgledger.i18n import Text, ui
from esgledger.server.deps import PAGES_TAG, PageAllowed, WorkspaceDep
from esgledger.server.web.pages import PageContext, page_lang, render
from esgledger.targets import service as targets

__all__ = ["PlanPage", "TargetsPage", "router"]

router = APIRouter(tags=[PAGES_TAG], include_in_schema=False)

Reader = Annotated[Principal, PageAllowed("inventory:read")]


@dataclass(frozen=True, slots=True)
class ProgressYear:
    """One year of a target's progress: actual, pathway and gap (in the target's unit;
    per cent for a share target) and where the actual comes from."""

    year: int
    actual: float | None
    pathway: float | None
    gap: float | None
    source: str | None


@dataclass(frozen=True, slots=True)
class TargetCard:
    """One target: id, name, kind, the scopes it covers (``[1, 2]``), base and target year,
    the reduction [per cent] (or target share), its ambition, the base emissions [t CO2e]
    and their source; its progress (``status``: ``on_track``, ``off_track`` or
    ``insufficient``; None when not tracked, ``note`` then says why), the years, the unit
    (``%`` for a share), the progress chart option and warnings."""

    id: str
    name: Text
    kind: str
    scopes: tuple[int, ...]
    base_year: int
    target_year: int
    reduction_pct: float | None
    ambition: str | None
    base_t: float | None
    base_source: str | None
    status: str | None
    reason: Text | None
    note: str
    unit: str
    years: tuple[ProgressYear, ...]
    chart: dict[str, Any] | None
    warnings: tuple[Text, ...]


@dataclass(frozen=True, slots=True)
class Check:
    """One SBTi rule on one target: rule id and name, target, ``pass`` / ``fail`` /
    ``not_assessed``, the message in both languages and the criterion's source."""

    rule: str
    rule_label: Text
    target_id: str | None
    status: str
    message: Text
    source: str | None


@dataclass(frozen=True, slots=True)
class Temperature:
    """The company temperature score [°C]: scopes 1+2+3, 1+2 and 3, the time frame, and the
    reasons of the two parts (both languages)."""

    score_c: float
    s1s2_c: float
    s3_c: float
    time_frame: str
    s1s2_reason: Text
    s3_reason: Text


@dataclass(frozen=True, slots=True)
class TargetsPage(PageContext):
    """``/targets``: reference year; ``scoped``: the reader sees part of the group (no
    emissions); the targets; the SBTi checks with their basis and note; the number that
    fail; the temperature score (None: ``temperature_note`` says why) and its basis."""

    reference_year: int
    scoped: bool
    targets: tuple[TargetCard, ...]
    checks: tuple[Check, ...]
    checks_basis: Text
    checks_note: Text
    failed: int
    temperature: Temperature | None
    temperature_basis: str
    temperature_note: str


@dataclass(frozen=True, slots=True)
class MaccRow:
    """One measure of the MACC: rank, id, name, lever, cost [currency per t CO2e],
    potential and the abatement counted [t CO2e a year] (``capped``: limited to the
    emissions it acts on), the cumulative abatement at its end, the annual cost."""

    rank: int
    id: str
    name: Text
    lever: str
    cost_per_t: float
    potential_t: float
    abatement_t: float
    capped: bool
    cumulative_t: float
    annual_cost: float


@dataclass(frozen=True, slots=True)
class ScenarioYear:
    """One year of the scenario [t CO2e]: business as usual, abated, remaining, and the
    target's pathway and the gap to it (None beyond the pathway)."""

    year: int
    bau_t: float
    abated_t: float
    remaining_t: float
    pathway_t: float | None
    gap_t: float | None


@dataclass(frozen=True, slots=True)
class Gap:
    """The residual gap in the target year [t CO2e]: what remains, the target, the gap
    (negative: to spare) and whether the measures meet the target."""

    target_year: int
    remaining_t: float
    target_t: float
    gap_t: float
    met: bool


@dataclass(frozen=True, slots=True)
class PlanPage(PageContext):
    """``/targets/plan``: ``scoped`` readers see a notice only; else the baseline run and
    its year, the target planned for (id and name, None: all lines), the currency, the MACC
    rows and chart, the scenario years and chart, the residual gap and the notes."""

    scoped: bool
    run_id: str
    run_year: int
    target_id: str | None
    target_name: Text | None
    currency: str
    macc: tuple[MaccRow, ...]
    macc_chart: dict[str, Any]
    scenario: tuple[ScenarioYear, ...]
    scenario_chart: dict[str, Any]
    gap: Gap | None
    notes: tuple[Text, ...]


def _text(en: Any, zh: Any) -> Text:
    return Text(str(en or ""), str(zh or en or ""))


def _progress_chart(target_id: str, years: tuple[ProgressYear, ...], lang: str) -> dict[str, Any]:
    return {
        "aria": {"enabled": True},
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 72, "right": 16, "top": 40, "bottom": 32},
        "xAxis": {"type": "category", "data": [str(y.year) for y in years]},
        "yAxis": {"type": "value", "scale": True},
        "series": [
            {
                "name": ui("targets.progress.actual", lang),
                "type": "line",
                "data": [y.actual for y in years],
            },
            {
                "name": ui("targets.progress.pathway", lang),
                "type": "line",
                "lineStyle": {"type": "dashed"},
                "data": [y.pathway for y in years],
            },
        ],
    }


def _card(state: dict[str, Any], lang: str) -> TargetCard:
    d = state["definition"]
    p = state["progress"]
    base = state["base"]
    fraction = p is not None and p["unit"] == "fraction"
    scale = 100.0 if fraction else 1.0

    def scaled(value: Any) -> float | None:
        return None if value is None else float(value) * scale

    years: tuple[ProgressYear, ...] = ()
    if p is not None:
        years = tuple(
            ProgressYear(
                year=int(y["year"]),
                actual=scaled(y["actual"]),
                pathway=scaled(y["pathway"]),
                gap=scaled(y["gap"]),
                source=state["actual_sources"].get(str(y["year"])),
            )
            for y in p["years"]
        )
    reduction = d.get("reduction")
    return TargetCard(
        id=str(d["id"]),
        name=_text(d.get("name"), d.get("name_zh")),
        kind=str(d["kind"]),
        scopes=tuple(int(s) for s in d["scopes"]["scopes"]),
        base_year=int(d["base_year"]),
        target_year=int(d["target_year"]),
        reduction_pct=None if reduction is None else 100.0 * float(reduction),
        ambition=d.get("ambition"),
        base_t=None if base is None or base["t_co2e"] is None else float(base["t_co2e"]),
        base_source=None if base is None else base["source"],
        status=None if p is None else str(p["status"]),
        reason=None if p is None else _text(p["reason"], p["reason_zh"]),
        note=str(state["progress_note"] or ""),
        unit="%" if fraction else ("" if p is None else str(p["unit"])),
        years=years,
        chart=_progress_chart(str(d["id"]), years, lang) if years else None,
        warnings=tuple(_text(w.get("message"), w.get("message_zh")) for w in state["warnings"]),
    )


@router.get("/targets")
def targets_page(request: Request, workspace: WorkspaceDep, principal: Reader) -> Response:
    data = targets.status_view(workspace, principal)
    lang = page_lang(request)
    temperature = None
    if data["temperature"] is not None:
        t = data["temperature"]
        temperature = Temperature(
            score_c=float(t["s1s2s3_c"]),
            s1s2_c=float(t["s1s2"]["score_c"]),
            s3_c=float(t["s3"]["score_c"]),
            time_frame=str(t["time_frame"]),
            s1s2_reason=_text(t["s1s2"]["reason"], t["s1s2"].get("reason_zh")),
            s3_reason=_text(t["s3"]["reason"], t["s3"].get("reason_zh")),
        )
    checks = tuple(
        Check(
            rule=str(c["rule"]),
            rule_label=_text(c["rule_label"]["en"], c["rule_label"]["zh-CN"]),
            target_id=c.get("target_id"),
            status=str(c["status"]),
            message=_text(c["message"], c.get("message_zh")),
            source=c.get("source"),
        )
        for c in data["checks"]
    )
    context = TargetsPage(
        reference_year=int(data["reference_year"]),
        scoped=bool(data["scoped"]),
        targets=tuple(_card(s, lang) for s in data["targets"]),
        checks=checks,
        checks_basis=_text(data["checks_basis"], data["checks_basis_zh"]),
        checks_note=_text(data["checks_note"], data["checks_note_zh"]),
        failed=sum(1 for c in checks if c.status == "fail"),
        temperature=temperature,
        temperature_basis=str(data["temperature_basis"] or ""),
        temperature_note=str(data["temperature_note"] or ""),
    )
    return render(request, "targets/targets.html", context)


def _macc_chart(rows: tuple[MaccRow, ...], currency: str, lang: str) -> dict[str, Any]:
    names = [r.name.get(lang) for r in rows]
    return {
        "aria": {"enabled": True},
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 72, "right": 72, "top": 40, "bottom": 96},
        "xAxis": {"type": "category", "data": names, "axisLabel": {"rotate": 30, "interval": 0}},
        "yAxis": [
            {"type": "value", "name": f"{currency}/t CO2e"},
            {"type": "value", "name": "t CO2e/yr", "splitLine": {"show": False}},
        ],
        "series": [
            {
                "name": ui("targets.macc.cost", lang, currency=currency),
                "type": "bar",
                "data": [r.cost_per_t for r in rows],
            },
            {
                "name": ui("targets.macc.abatement", lang),
                "type": "line",
                "yAxisIndex": 1,
                "data": [r.abatement_t for r in rows],
            },
        ],
    }


def _scenario_chart(years: tuple[ScenarioYear, ...], lang: str) -> dict[str, Any]:
    return {
        "aria": {"enabled": True},
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 88, "right": 16, "top": 40, "bottom": 32},
        "xAxis": {"type": "category", "data": [str(y.year) for y in years]},
        "yAxis": {"type": "value", "name": "t CO2e"},
        "series": [
            {"name": ui("targets.scenario.bau", lang), "type": "line",
             "data": [y.bau_t for y in years]},
            {"name": ui("targets.scenario.remaining", lang), "type": "line",
             "data": [y.remaining_t for y in years]},
            {"name": ui("targets.scenario.pathway", lang), "type": "line",
             "lineStyle": {"type": "dashed"}, "data": [y.pathway_t for y in years]},
        ],
    }  # fmt: skip


@router.get("/targets/plan")
def plan_page(
    request: Request,
    workspace: WorkspaceDep,
    principal: Reader,
    target: str | None = None,
) -> Response:
    data = targets.plan_view(workspace, principal, target_id=target or None)
    lang = page_lang(request)
    if data["scoped"]:
        empty = PlanPage(
            scoped=True, run_id="", run_year=0, target_id=None, target_name=None, currency="",
            macc=(), macc_chart={}, scenario=(), scenario_chart={}, gap=None, notes=(),
        )  # fmt: skip
        return render(request, "targets/plan.html", empty)
    macc = tuple(
        MaccRow(
            rank=int(r["rank"]),
            id=str(r["id"]),
            name=_text(r["name"], r.get("name_zh")),
            lever=str(r["lever"]),
            cost_per_t=float(r["cost_per_t"]),
            potential_t=float(r["potential_t_co2e_per_yr"]),
            abatement_t=float(r["abatement_t_co2e_per_yr"]),
            capped=bool(r["capped"]),
            cumulative_t=float(r["cumulative_end_t_co2e_per_yr"]),
            annual_cost=float(r["annual_cost"]),
        )
        for r in data["macc"]
    )
    pathway = {int(y): float(v) for y, v in data["target_pathway_t_co2e"].items()}
    scenario = tuple(
        ScenarioYear(
            year=int(row["year"]),
            bau_t=float(row["bau_t_co2e"]),
            abated_t=float(row["abated_t_co2e"]),
            remaining_t=float(row["remaining_t_co2e"]),
            pathway_t=pathway.get(int(row["year"])),
            gap_t=(
                None
                if int(row["year"]) not in pathway
                else float(row["remaining_t_co2e"]) - pathway[int(row["year"])]
            ),
        )
        for row in data["scenario"]
    )
    g = data["residual_gap"]
    gap = None
    if g is not None:
        gap = Gap(
            target_year=int(g["target_year"]),
            remaining_t=float(g["remaining_t_co2e"]),
            target_t=float(g["target_t_co2e"]),
            gap_t=float(g["gap_t_co2e"]),
            met=bool(g["met"]),
        )
    target_def = data["target"]
    notes_zh = data["notes_zh"] or data["notes"]
    context = PlanPage(
        scoped=False,
        run_id=str(data["run_id"]),
        run_year=int(data["run_year"]),
        target_id=None if target_def is None else str(target_def["id"]),
        target_name=(
            None if target_def is None else _text(target_def["name"], target_def.get("name_zh"))
        ),
        currency=str(data["currency"]),
        macc=macc,
        macc_chart=_macc_chart(macc, str(data["currency"]), lang),
        scenario=scenario,
        scenario_chart=_scenario_chart(scenario, lang),
        gap=gap,
        notes=tuple(_text(en, zh) for en, zh in zip(data["notes"], notes_zh, strict=False)),
    )
    return render(request, "targets/plan.html", context)
