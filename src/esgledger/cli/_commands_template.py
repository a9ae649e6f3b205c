"""``esgledger template``: the Excel templates business units fill in.

Exit status: 0 on success, 1 when the template cannot be written (no workspace for the
activities template, the output file exists without ``--force``, a name not ending in
``.xlsx``, a workspace that cannot be opened).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from esgledger.cli._app import Lang, app, console
from esgledger.errors import EsgledgerError

EXIT_ERROR = 1


class TemplateKind(StrEnum):
    """The kinds of template (as ``esgledger import --kind`` names the files)."""

    activities = "activities"
    entities = "entities"
    sites = "sites"
    activity_types = "activity-types"
    factors = "factors"
    fx = "fx"
    instruments = "instruments"
    metric_values = "metric-values"
    meters = "meters"
    readings = "readings"
    weather = "weather"
    trips = "trips"


def _fail(message: str) -> typer.Exit:
    console(stderr=True).print(f"error: {message}", markup=False)
    return typer.Exit(EXIT_ERROR)


@app.command()
def template(
    kind: Annotated[TemplateKind, typer.Argument(help="What the template is for.")],
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="The XLSX file to write.", dir_okay=False),
    ],
    workspace: Annotated[
        Path | None,
        typer.Argument(
            help="Workspace whose entities, sites, activity types and reporting year fill the "
            "drop-down lists and date checks (required for activities; for instruments, the "
            "entities and sites they can be retired for; for metric-values, the entities, "
            "company metrics and reporting year of the collection campaign; for meters and "
            "weather, the sites; for readings, the meters)."
        ),
    ] = None,
    lang: Annotated[
        Lang, typer.Option("--lang", help="Sheet names, headers and list words.")
    ] = Lang.en,
    force: Annotated[bool, typer.Option("--force", help="Replace OUT if it exists.")] = False,
) -> None:
    """Write an Excel template with drop-down lists and notes (English or Chinese)."""
    from esgledger.ingest.template import data_sheet_name, write_template
    from esgledger.store import Workspace

    if out.suffix.lower() != ".xlsx":
        raise _fail(f"the template is an Excel workbook: give --out a name ending in .xlsx ({out})")
    if out.exists() and not force:
        raise _fail(f"{out} exists; use --force to replace it")
    if kind is TemplateKind.activities and workspace is None:
        raise _fail(
            "the activities template needs a workspace (its entity and site lists and "
            "reporting year come from it): esgledger template activities WS --out FILE.xlsx"
        )
    try:
        if workspace is None:
            write_template(kind.value, out, lang=lang.value)
        else:
            with Workspace.open(workspace) as ws:
                write_template(kind.value, out, lang=lang.value, workspace=ws)
    except EsgledgerError as exc:
        raise _fail(str(exc)) from exc
    sheet = data_sheet_name(kind.value, lang.value)
    target = "WS" if workspace is None else str(workspace)
    console().print(
        f"Wrote the {kind.value} template ({lang.value}) to {out}. Fill in sheet {sheet!r}, "
        f"then run: esgledger import {target} {out} --kind {kind.value}",
        markup=False,
    )
