"""``esgledger energy anomalies``: the layered anomaly alerts of a workspace's meters.

The lead's ``cli/_commands_energy.py`` calls :func:`register` with its ``energy_app`` group.
Table or JSON output; the alert texts in English or Simplified Chinese.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from esgledger.cli._app import Lang, console
from esgledger.cli._commands_workspace import _fail
from esgledger.errors import EsgledgerError
from esgledger.i18n import Text

__all__ = ["register"]


class Format(StrEnum):
    """How the command prints its result."""

    table = "table"
    json = "json"


class LayerChoice(StrEnum):
    """An anomaly layer."""

    rule = "rule"
    residual = "residual"
    isolation_forest = "isolation_forest"
    cusum = "cusum"


_HEADERS = {
    Lang.en: ("site", "meter", "layers", "kinds", "start (UTC)", "end (UTC)", "score",
              "kWh", "t CO2e", "explanation"),
    Lang.zh_cn: ("站点", "计量表", "检测层", "类型", "开始（UTC）", "结束（UTC）", "分数",
                 "kWh", "吨 CO2e", "说明"),
}  # fmt: skip
_NONE = {Lang.en: "no anomalies found", Lang.zh_cn: "未发现异常"}


def _number(value: float | None, decimals: int) -> str:
    return "—" if value is None else f"{value:,.{decimals}f}"


def _labelled(codes: list[str], label: Callable[[str], Text], key: str) -> str:
    """Each code by its label in the table's language, the code kept beside it."""
    return "\n".join(f"{label(code).get(key)} ({code})" for code in codes)


def _print_table(data: dict[str, Any], lang: Lang) -> None:
    from esgledger.energy.anomalies import kind_label, layer_label

    out = console()
    key = "en" if lang is Lang.en else "zh-CN"
    if not data["alerts"]:
        out.print(_NONE[lang], markup=False)
    else:
        table = Table(box=box.SIMPLE_HEAD)
        for header in _HEADERS[lang]:
            table.add_column(header)
        for alert in data["alerts"]:
            table.add_row(
                alert["site"],
                alert["meter"] or alert["subsystem"],
                _labelled(alert["layers"], layer_label, key),
                _labelled(alert["kinds"], kind_label, key),
                alert["start_utc"][:16],
                alert["end_utc"][:16],
                f"{alert['score']:.2f}",
                _number(alert["energy_kwh"], 0),
                _number(alert["co2e_t"], 3),
                alert["text"][key],
            )
        out.print(table)
    for finding in data["findings"]:
        out.print(f"{finding['severity']}: {finding['text'][key]}", markup=False)


def register(app: typer.Typer) -> None:
    """Add ``anomalies`` to the ``esgledger energy`` group ``app``."""

    @app.command("anomalies")
    def anomalies(
        workspace: Annotated[Path, typer.Argument(help="Workspace folder.")],
        site: Annotated[
            str | None, typer.Option(help="One site (default: every data-centre site).")
        ] = None,
        period: Annotated[
            str | None,
            typer.Option(help="2024, 2024-03 or 2024-01-01:2024-06-30 (default: all data)."),
        ] = None,
        layer: Annotated[
            list[LayerChoice] | None,
            typer.Option("--layer", help="Run only these layers (repeatable; default: all)."),
        ] = None,
        format: Annotated[Format, typer.Option("--format", help="table or json.")] = (Format.table),
        lang: Annotated[Lang, typer.Option(help="Language of the table.")] = Lang.en,
    ) -> None:
        """Alerts of the four anomaly layers (rules, forecast residuals, IsolationForest,
        CUSUM drift), each with its energy (kWh) and emissions (t CO2e) impact."""
        from esgledger.energy.anomalies import LAYERS, detect
        from esgledger.energy.periods import parse_period
        from esgledger.store import Workspace

        layers = tuple(choice.value for choice in layer) if layer else LAYERS
        try:
            chosen = parse_period(period) if period is not None else None
            with Workspace.open(workspace) as ws:
                report = detect(ws, site=site, period=chosen, layers=layers)
        except EsgledgerError as exc:
            raise _fail(exc) from exc
        data = report.to_json()
        if format is Format.json:
            sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False))
            sys.stdout.write("\n")
        else:
            _print_table(data, lang)
