"""The report command: ``esgledger report WS [--lang] [--format] [--out] [--run]``.

报告命令：生成中英双语 ESG 报告（HTML 与 PDF）及数据表导出文件。

Builds the ESG report of an inventory run (the latest by default) with
:func:`esgledger.report.builder.build_report` and prints the files written, the PDF page
counts, whether the report is a draft (``DRAFT: N mandatory item(s) missing: ...``; the
report is still written, exit status 0) and the time taken.

Errors go to stderr as ``error: ...`` with exit status 1; rejected report inputs
(``WS/report/``) exit 2 with the file, line and key of each problem.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from esgledger.cli._app import EXIT_REJECTED, app
from esgledger.cli._commands_workspace import _fail, _stderr, _stdout
from esgledger.errors import EsgledgerError, InputError


class ReportLang(StrEnum):
    """Language edition(s) of the report."""

    en = "en"
    zh_cn = "zh-CN"
    both = "both"


class ReportFormat(StrEnum):
    """File format(s) of the report."""

    html = "html"
    pdf = "pdf"
    both = "both"


@app.command("report")
def report(
    workspace: Annotated[Path, typer.Argument(help="Workspace folder.")],
    lang: Annotated[
        ReportLang, typer.Option("--lang", help="en, zh-CN or both editions.")
    ] = ReportLang.both,
    format_: Annotated[
        ReportFormat, typer.Option("--format", help="html, pdf or both.")
    ] = ReportFormat.both,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Output folder (default: WS/reports/<reporting year>)."),
    ] = None,
    run: Annotated[
        str | None, typer.Option("--run", help="Run id (default: the latest run).")
    ] = None,
) -> None:
    """Write the bilingual ESG report (HTML and PDF) of an inventory run, with CSV/XLSX
    exports of its tables."""
    from esgledger.access import Principal
    from esgledger.report.builder import build_report, default_out_dir
    from esgledger.store import Workspace

    langs = ("en", "zh-CN") if lang is ReportLang.both else (lang.value,)
    formats = ("html", "pdf") if format_ is ReportFormat.both else (format_.value,)
    try:
        with Workspace.open(workspace) as ws:
            target = out if out is not None else default_out_dir(ws, run)
            result = build_report(
                ws, target, langs=langs, formats=formats, run_id=run, principal=Principal.local()
            )
    except InputError as exc:
        _stderr().print(str(exc), markup=False)
        raise typer.Exit(EXIT_REJECTED) from exc
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    console = _stdout()
    console.print(f"Report of run {result.run_id}:", markup=False)
    editions = [p for p in result.paths if p.name.startswith("esg-report-")]
    for path in editions:
        console.print(f"  {path}", markup=False)
    exports = len(result.paths) - len(editions)
    if exports:
        console.print(f"  + {exports} table exports (CSV and XLSX) in {target}", markup=False)
    if result.page_counts:
        pages = ", ".join(f"{k} {v}" for k, v in result.page_counts.items())
        console.print(f"PDF pages: {pages}", markup=False)
    if result.document.preview:
        console.print(
            "PREVIEW — includes unapproved data / 预览——含未审批数据: run "
            f"{result.run_id} includes {', '.join(result.document.preview)} batches",
            markup=False,
        )
    if result.missing:
        console.print(
            f"DRAFT: {len(result.missing)} mandatory item(s) missing: " + ", ".join(result.missing),
            markup=False,
        )
    placeholders = [r for r in result.draft_reasons if r.startswith("Placeholder")]
    for reason in placeholders:
        console.print(f"DRAFT: {reason}", markup=False)
    if not result.draft:
        console.print("Final: every mandatory item is disclosed or explained.", markup=False)
    console.print(f"Done in {result.timings['total']:.1f} s.", markup=False)
