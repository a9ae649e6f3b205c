"""Taxonomy and factor-library commands: ``esgledger activities`` and ``esgledger factors ...``.

``factors sets``, ``list``, ``show`` and ``search`` browse the shipped sets, plus a workspace's
own sets with ``--workspace``; ``factors resolve`` shows which factor an activity row would
get in a workspace, and why. Errors go to stderr as ``error: ...`` with exit status 1.
"""

from __future__ import annotations

import math
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from esgledger.cli._app import Lang, app
from esgledger.cli._commands_workspace import EXIT_ERROR, _fail, _stderr, _stdout
from esgledger.errors import EsgledgerError

if TYPE_CHECKING:
    import pyarrow as pa

    from esgledger.factors.library import FactorLibrary

factors_app = typer.Typer(
    name="factors",
    help="Browse the emission-factor library and see how a factor is resolved.",
    no_args_is_help=True,
)
app.add_typer(factors_app, name="factors")


class TierChoice(StrEnum):
    """The least specific tier ``--strict`` accepts."""

    supplier = "supplier"
    site = "site"
    subnational = "subnational"
    country = "country"
    global_ = "global"
    default = "default"


_ACTIVITY_HEADERS = {
    Lang.en: ("activity", "name", "dimension", "scope", "category"),
    Lang.zh_cn: ("活动类型", "名称", "量纲", "范围", "范围三类别"),
}
_LIST_COLUMNS = ("factor_id", "activity", "region", "year", "unit", "method")
_VALUE_COLUMNS = ("co2e_kg", "co2_kg", "ch4_kg", "n2o_kg", "biogenic_co2_kg")

WorkspaceOption = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="Include the user factor sets of this workspace."),
]
LimitOption = Annotated[int, typer.Option(min=0, help="Show at most this many factors (0 = all).")]


def _fail_message(message: str) -> typer.Exit:
    _stderr().print(f"error: {message}", markup=False)
    return typer.Exit(EXIT_ERROR)


def _library(workspace: Path | None) -> FactorLibrary:
    """The shipped library, plus the user sets of ``workspace`` if given."""
    from esgledger.factors.library import FactorLibrary
    from esgledger.store import Workspace

    if workspace is None:
        return FactorLibrary.shipped()
    with Workspace.open(workspace) as ws:
        return FactorLibrary.for_workspace(ws)


def _number(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}" if math.isfinite(value) else str(value)
    return str(value)


def _amounts(factor: dict[str, Any]) -> str:
    """The factor's amounts: ``co2 0.4419`` or ``co2 2.68, ch4 0.0001, n2o 2e-05``."""
    return ", ".join(
        f"{name.removesuffix('_kg')} {_number(factor[name])}"
        for name in _VALUE_COLUMNS
        if factor[name] is not None
    )


def _factor_table(factors: pa.Table, limit: int) -> Table:
    shown = (factors if limit == 0 else factors.slice(0, limit)).to_pylist()
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name in _LIST_COLUMNS:
        # Ids and keys are what a user copies: give them their full width where possible.
        widest = max((len(str(row[name] or "")) for row in shown), default=0)
        table.add_column(
            name,
            justify="right" if name == "year" else "left",
            overflow="fold",
            min_width=min(widest, 60) if name in ("factor_id", "activity") else None,
            no_wrap=name not in ("factor_id", "activity"),
        )
    table.add_column("kg per unit", overflow="fold")
    for row in shown:
        cells = [_number(row[name]) for name in _LIST_COLUMNS] + [_amounts(row)]
        table.add_row(*(Text(cell) for cell in cells))
    return table


def _print_factors(factors: pa.Table, limit: int, what: str) -> None:
    out = _stdout()
    total = factors.num_rows
    if total == 0:
        out.print(f"no factors {what}", markup=False)
        return
    out.print(_factor_table(factors, limit))
    shown = total if limit == 0 else min(limit, total)
    if shown < total:
        out.print(
            f"{shown} of {total} factors {what}; use --limit N (0 = all) to see more",
            markup=False,
        )
    else:
        out.print(f"{total} factor(s) {what}", markup=False)


@app.command()
def activities(
    lang: Annotated[Lang, typer.Option(help="Language of the names: en or zh-CN.")] = Lang.en,
    workspace: WorkspaceOption = None,
) -> None:
    """List the activity taxonomy: key, name, dimension, default scope and scope 3 category."""
    from esgledger.store import Workspace
    from esgledger.taxonomy import Taxonomy

    try:
        if workspace is None:
            taxonomy = Taxonomy.shipped()
        else:
            with Workspace.open(workspace) as ws:
                taxonomy = Taxonomy.for_workspace(ws)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    headers = _ACTIVITY_HEADERS[lang]
    for header in headers:
        table.add_column(header, no_wrap=header in (headers[0], headers[3], headers[4]))
    for activity_type in taxonomy:
        name = activity_type.name_zh if lang is Lang.zh_cn else activity_type.name
        cells = (
            activity_type.activity,
            name,
            activity_type.dimension,
            str(activity_type.scope),
            _number(activity_type.scope3_category),
        )
        table.add_row(*(Text(cell) for cell in cells))
    _stdout().print(table)


@factors_app.command("sets")
def factors_sets(
    workspace: Annotated[
        Path | None, typer.Argument(help="Workspace whose user sets to include.")
    ] = None,
) -> None:
    """List the factor sets: source, edition, licence, attribution, rows and precedence."""
    try:
        library = _library(workspace)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    out = _stdout()
    for record in library.sets():
        kind = "shipped" if record["shipped"] else "user set"
        out.print(
            f"{record['id']} ({kind}, precedence {record['precedence']}, {record['rows']} factors)",
            markup=False,
        )
        for key in ("name", "source", "edition", "licence", "attribution"):
            out.print(f"  {key:<12} {record[key] or '-'}", markup=False)


@factors_app.command("list")
def factors_list(
    workspace: WorkspaceOption = None,
    source: Annotated[
        str | None, typer.Option(help="A set id, or text of the factors' source.")
    ] = None,
    region: Annotated[str | None, typer.Option(help="A region code, exactly.")] = None,
    activity: Annotated[
        str | None, typer.Option(help="An activity key; end it with * for a prefix.")
    ] = None,
    year: Annotated[int | None, typer.Option(help="The vintage.")] = None,
    method: Annotated[str | None, typer.Option(help="location, fuel, spend, ...")] = None,
    limit: LimitOption = 50,
) -> None:
    """List factors, filtered by set, region, activity, vintage and method."""
    try:
        library = _library(workspace)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    factors = library.filter(
        activity=activity, region=region, year=year, source=source, method=method
    )
    criteria = [
        f"{name} {value}"
        for name, value in (
            ("set/source", source),
            ("region", region),
            ("activity", activity),
            ("year", year),
            ("method", method),
        )
        if value is not None
    ]
    _print_factors(factors, limit, "with " + ", ".join(criteria) if criteria else "in total")


@factors_app.command("show")
def factors_show(
    factor_id: Annotated[str, typer.Argument(help="The factor id.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Show every field of one factor, with its set's licence and attribution."""
    try:
        library = _library(workspace)
        factor = library.get(factor_id)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    info = library.set_info(str(factor["factor_set"]))
    out = _stdout()
    for key, value in factor.items():
        out.print(f"{key:<16} {_shown(value)}", markup=False)
    kind = "shipped" if info["shipped"] else "user set"
    out.print(f"{'set precedence':<16} {info['precedence']} ({kind})", markup=False)


def _shown(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.15g}" if isinstance(value, float) else str(value)


@factors_app.command("search")
def factors_search(
    text: Annotated[str, typer.Argument(help="Words to find (all of them, any case).")],
    workspace: WorkspaceOption = None,
    limit: LimitOption = 20,
) -> None:
    """Find factors by id, activity, activity name (English or Chinese), description,
    source or region."""
    try:
        library = _library(workspace)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    _print_factors(library.search(text), limit, f"match {text!r}")


@factors_app.command("resolve")
def factors_resolve(
    workspace: Annotated[Path, typer.Argument(help="Workspace folder.")],
    activity: Annotated[str, typer.Option(help="Activity key (esgledger activities).")],
    region: Annotated[str, typer.Option(help="Region code of the row.")],
    unit: Annotated[str, typer.Option(help="Unit of the row's quantity.")],
    supplier: Annotated[str | None, typer.Option(help="Supplier of the row.")] = None,
    site: Annotated[str | None, typer.Option(help="Site code of the row.")] = None,
    year: Annotated[
        int | None, typer.Option(help="Reporting year (default: the workspace's).")
    ] = None,
    method: Annotated[
        list[str] | None,
        typer.Option(help="Allowed method, in order of preference; repeat for several."),
    ] = None,
    factor: Annotated[
        str | None, typer.Option(help="An explicit factor id, as in the row's factor column.")
    ] = None,
    gwp: Annotated[
        str | None, typer.Option(help="GWP set for refrigerant and process gases (AR6).")
    ] = None,
    strict: Annotated[
        TierChoice | None,
        typer.Option(help="Fail if the factor is less specific than this tier."),
    ] = None,
    max_vintage_gap: Annotated[
        int | None,
        typer.Option(min=0, help="Fail if the factor's vintage is further off [years]."),
    ] = None,
    proxy: Annotated[
        list[str] | None,
        typer.Option(
            "--proxy",
            help="Preview proxy regions as calculate --proxy would use them: REGION=PROXY"
            "[,PROXY...], e.g. CN=GB,US or *=GB (repeatable; default: the workspace's "
            "[factors] proxies).",
        ),
    ] = None,
) -> None:
    """Show which factor an activity row would get, its tier, vintage gap and why (with the
    workspace's proxies and profile fallbacks, as calculate uses them)."""
    from esgledger.factors import proxies_from_options
    from esgledger.factors.resolve import Strictness
    from esgledger.factors.service import RowQuery, resolve_row
    from esgledger.regions import chain
    from esgledger.store import Workspace

    try:
        chain(region)
    except KeyError:
        raise _fail_message(
            f"unknown region code {region!r} (codes: GLOBAL, ISO countries such as CN, "
            "provinces such as CN-GD, CN-GRID-*, US-EGRID-*)"
        ) from None
    try:
        proxies = proxies_from_options(proxy) if proxy else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--proxy") from exc
    strictness = None
    if strict is not None or max_vintage_gap is not None:
        strictness = Strictness(
            max_tier=strict.value if strict is not None else "global",
            max_vintage_gap=max_vintage_gap,
        )
    query = RowQuery(
        activity=activity,
        region=region,
        unit=unit,
        supplier=supplier,
        site=site,
        year=year,
        factor_id=factor,
        methods=tuple(method) if method else None,
        gwp_set=gwp,
        strict=strictness,
    )
    try:
        with Workspace.open(workspace) as ws:
            found = resolve_row(ws, query, proxies=proxies)
        result, reporting_year = found.resolution, found.year
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    f = result.factor
    values = _amounts(f)
    if result.unit_conversion is None:
        conversion = (
            f"money: the engine converts {unit} into {result.currency} with the exchange "
            f"rate of the price year {result.price_year}"
        )
    elif result.conversion_path is not None:
        conversion = result.conversion_path
    else:
        conversion = f"1 {unit} = {result.unit_conversion:.10g} {f['unit']}"
    lines = [
        ("factor", result.factor_id),
        (
            "value",
            f"kg {values} per {f['unit']}" + (f" ({f['gwp_basis']})" if f["gwp_basis"] else ""),
        ),
        ("source", f"{f['source']} [{f['factor_set']}]"),
        ("tier", result.tier),
        (
            "vintage gap",
            f"{result.vintage_gap} (factor {f['year']}, reporting year {reporting_year})",
        ),
        ("conversion", conversion),
        ("reason", result.reason),
    ]
    out = _stdout()
    for label, text in lines:
        out.print(f"{label:<12} {text}", markup=False)
    for number, entry in enumerate(result.considered):
        out.print(f"{'considered' if number == 0 else '':<12} {entry}", markup=False)
