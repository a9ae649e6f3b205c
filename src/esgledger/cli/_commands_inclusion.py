"""Carbon-inclusion (碳普惠) commands: ``esgledger inclusion ...``.

碳普惠命令：方法学、授权、结算、账户明细、账本校验。

The group :data:`inclusion_app` runs a personal carbon-account programme
(``docs/inclusion/``): ``methodologies`` (the shipped registry), ``use`` (the workspace's
methodology), ``network`` (a GTFS feed for station distances), ``consent``, ``settle``,
``statement``, ``explain`` and ``verify``. Trip feeds come in with
``esgledger import WS --kind trips FILE``. Every command calls
:mod:`esgledger.inclusion.service` as the local administrator.

Errors go to stderr as ``error: ...`` with exit status 1; rejected input exits 2;
``verify`` exits 1 when the ledger is not intact.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from esgledger.cli._app import app
from esgledger.cli._commands_workspace import _fail, _stdout
from esgledger.contract import dumps
from esgledger.errors import EsgledgerError, InputError

inclusion_app = typer.Typer(
    name="inclusion",
    help="Carbon inclusion (碳普惠): methodologies, consent, trip settlement into points, "
    "account statements and the tamper-evident ledger.",
    no_args_is_help=True,
)
app.add_typer(inclusion_app, name="inclusion")

WorkspaceArgument = Annotated[Path, typer.Argument(help="Workspace folder.")]


class Format(enum.StrEnum):
    table = "table"
    json = "json"


FormatOption = Annotated[Format, typer.Option("--format", help="table or json.")]


def _date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option} {text!r} is not a date such as 2026-03-31") from None


def _moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"--as-of {text!r} is not a time such as 2026-03-10T00:00+08:00") from None
    if value.tzinfo is None:
        raise InputError(f"--as-of {text!r} needs a time-zone offset, e.g. +08:00")
    return value


def _principal() -> Any:
    from esgledger.access import Principal

    return Principal.local()


@inclusion_app.command("methodologies")
def methodologies_command(
    show: Annotated[
        str | None, typer.Option("--show", help="Show one methodology's versions and factors.")
    ] = None,
    format_: FormatOption = Format.table,
) -> None:
    """List the shipped methodologies, or show one with its factors, rules and filing."""
    from esgledger.inclusion import methodology

    try:
        if show is None:
            chosen = list(methodology.registry())
        else:
            chosen = list(methodology.versions(methodology.resolve_id(show)))
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    from esgledger.inclusion.service import methodology_json

    data = [methodology_json(m) for m in chosen]
    if format_ is Format.json:
        typer.echo(dumps({"methodologies": data}), nl=False)
        return
    out = _stdout()
    if show is None:
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        for column in ("id", "version", "effective", "city", "modes", "confidence"):
            table.add_column(column)
        for m in data:
            table.add_row(
                m["id"],
                m["version"],
                f"{m['effective_from']} – {m['effective_to'] or '…'}",
                m.get("city") or "",
                ", ".join(f["mode"] for f in m["factors"]),
                m.get("confidence") or "",
            )
        out.print(table)
        return
    for m in data:
        out.print(f"{m['id']} {m['version']}  {m['name_en']} / {m['name_zh']}", markup=False)
        for key in ("authority", "filing_number", "filing_date", "baseline", "source"):
            if m.get(key):
                out.print(f"  {key}: {m[key]}", markup=False)
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        for column in ("factor", "mode", "basis", "g CO2", "scenario", "confidence"):
            table.add_column(column)
        for f in m["factors"]:
            table.add_row(
                f["factor_id"], f["mode"], f["basis"], str(f["value_g"]), f["scenario"],
                f.get("confidence") or "",
            )  # fmt: skip
        out.print(table)
        rules = m.get("rules") or {}
        if rules:
            out.print(
                "  rules: " + ", ".join(f"{k}={v}" for k, v in sorted(rules.items())),
                markup=False,
            )


@inclusion_app.command("use")
def use_command(
    workspace: WorkspaceArgument,
    methodology_id: Annotated[str, typer.Argument(help="Methodology id (or a unique prefix).")],
) -> None:
    """Choose the programme's methodology (trips are valued by its version of their date)."""
    from esgledger.inclusion import service
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            chosen = service.use(ws, _principal(), methodology_id)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    _stdout().print(f"The programme uses {chosen.id} (version {chosen.version}).", markup=False)


@inclusion_app.command("network")
def network_command(
    workspace: WorkspaceArgument,
    gtfs: Annotated[Path, typer.Argument(help="GTFS feed: a zip file or a folder.")],
    distance_unit: Annotated[
        str | None,
        typer.Option(
            "--distance-unit",
            help="Unit of the feed's shape_dist_traveled (km or m), when the feed has it.",
        ),
    ] = None,
) -> None:
    """Keep a GTFS feed as the station network that gives trips without a distance theirs."""
    from esgledger.inclusion import service
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            kept = service.set_network(ws, _principal(), gtfs, distance_unit=distance_unit)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    _stdout().print(
        f"Station network kept: {kept['stations']} stations (sha256 {kept['sha256'][:12]}…).",
        markup=False,
    )


@inclusion_app.command("consent")
def consent_command(
    workspace: WorkspaceArgument,
    account: Annotated[str, typer.Argument(help="The account id the operator knows.")],
    scenario: Annotated[
        str, typer.Option("--scenario", help="Scenario: transit or cycling.")
    ] = "transit",
    withdraw: Annotated[
        bool, typer.Option("--withdraw", help="Withdraw the consent instead.")
    ] = False,
) -> None:
    """Record an account's opt-in to a scenario (or its withdrawal)."""
    from esgledger.inclusion import service
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            view = service.consent(ws, _principal(), account, scenario, withdraw=withdraw)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    state = "active" if view.active else "withdrawn"
    _stdout().print(
        f"Consent to {view.scenario} for account {view.account}: {state}.", markup=False
    )


@inclusion_app.command("settle")
def settle_command(
    workspace: WorkspaceArgument,
    through: Annotated[
        str | None,
        typer.Option("--through", help="Settle trips up to this date (YYYY-MM-DD)."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Settle as at this time (default now), with its offset."),
    ] = None,
    format_: FormatOption = Format.table,
) -> None:
    """Settle the imported trips: methodology, integrity rules, points, ledger issuance."""
    from esgledger.inclusion import service
    from esgledger.store import Workspace

    try:
        last = _date(through, "--through")
        moment = _moment(as_of)
        with Workspace.open(workspace) as ws:
            result = service.settle(ws, _principal(), through=last, as_of=moment)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    data = service.settlement_json(result)
    if format_ is Format.json:
        typer.echo(dumps(data), nl=False)
        return
    out = _stdout()
    if result.settlement_id is None:
        out.print("Nothing to settle: every imported trip is final.", markup=False)
        return
    out.print(
        f"Settlement {result.settlement_id} through {result.through}: "
        f"{result.settled} settled, {result.refused} refused, {result.pending} pending; "
        f"{result.reduction_mg / 1e6:,.3f} kg CO2 avoided, {result.points:,} points issued "
        f"in {result.transactions} transaction(s).",
        markup=False,
    )
    if result.reasons:
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        table.add_column("reason")
        table.add_column("trips", justify="right")
        for code, count in result.reasons.items():
            table.add_row(code, f"{count:,}")
        out.print(table)


@inclusion_app.command("statement")
def statement_command(
    workspace: WorkspaceArgument,
    account: Annotated[str, typer.Argument(help="The account id the operator knows.")],
    format_: FormatOption = Format.table,
) -> None:
    """An account's balance, credited reductions and trips, with the ledger's proofs."""
    from esgledger.inclusion import service
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            found = service.statement(ws, _principal(), account)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    data = service.statement_json(found)
    if format_ is Format.json:
        typer.echo(dumps(data), nl=False)
        return
    out = _stdout()
    out.print(
        f"Account {found.account}: {found.balance_points:,} points; "
        f"{found.reduction_g:,.1f} g CO2 credited.",
        markup=False,
    )
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("trip", "operator", "mode", "date", "g CO2", "points", "status", "reason"):
        table.add_column(column, justify="right" if column in ("g CO2", "points") else "left")
    for trip in found.trips:
        table.add_row(
            trip.trip_id,
            trip.operator,
            trip.mode,
            str(trip.date or ""),
            f"{trip.reduction_g:,.1f}",
            f"{trip.points:,}",
            trip.status,
            trip.reason,
        )
    out.print(table)


@inclusion_app.command("explain")
def explain_command(
    workspace: WorkspaceArgument,
    trip_id: Annotated[str, typer.Argument(help="The operator's trip id.")],
    operator: Annotated[
        str | None, typer.Option("--operator", help="The trip's operator, if ids repeat.")
    ] = None,
    format_: FormatOption = Format.table,
) -> None:
    """How one trip was valued: methodology version, factor, distance rule, arithmetic."""
    from esgledger.inclusion import service
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            lines = service.explain(ws, _principal(), trip_id, operator=operator)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    if format_ is Format.json:
        typer.echo(dumps({"trip_id": trip_id, "lines": lines}), nl=False)
        return
    out = _stdout()
    for line in lines:
        out.print(
            f"{line['settlement_id']}: {line['status']} ({line['reason_code']}: {line['reason']})",
            markup=False,
        )
        for key in (
            "operator", "account", "mode", "trip_date", "methodology", "methodology_version",
            "factor_id", "factor_value", "basis", "distance_rule", "distance_m",
            "reduction_g", "points", "tx_id", "arithmetic",
        ):  # fmt: skip
            if line.get(key) is not None:
                out.print(f"  {key}: {line[key]}", markup=False)


@inclusion_app.command("verify")
def verify_command(
    workspace: WorkspaceArgument,
    format_: FormatOption = Format.table,
) -> None:
    """Recompute the ledger's hash chain, Merkle roots and balances and every settlement's
    file; exit 1 naming the first difference."""
    from esgledger.inclusion import service
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            report = service.verify(ws, _principal())
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    data = service.verify_json(report)
    if format_ is Format.json:
        typer.echo(dumps(data), nl=False)
    elif data["ok"]:
        _stdout().print(
            f"The ledger is intact: {data['transactions']:,} transactions, "
            f"{data['transfers']:,} transfers, {data['days']:,} days.",
            markup=False,
        )
    else:
        _stdout().print(
            f"The ledger is NOT intact. First difference: {data['first']}", markup=False
        )
        for issue in data["issues"][1:20]:
            _stdout().print(f"  also: {issue}", markup=False)
    if not data["ok"]:
        raise typer.Exit(1)


@inclusion_app.command("catalogue")
def catalogue_command(
    workspace: WorkspaceArgument,
    add: Annotated[
        str | None, typer.Option("--add", help="Add or update the item with this code.")
    ] = None,
    kind: Annotated[
        str, typer.Option("--kind", help="coupon, voucher, donation or neutralisation.")
    ] = "coupon",
    name: Annotated[str, typer.Option("--name", help="English name.")] = "",
    name_zh: Annotated[str, typer.Option("--name-zh", help="Chinese name.")] = "",
    price: Annotated[int, typer.Option("--price", help="Points per unit.")] = 0,
    counterparty: Annotated[
        str,
        typer.Option(
            "--to",
            help="Account paid: merchant:ID, charity:ID or cancelled:EVENT (neutralisation).",
        ),
    ] = "",
    stock: Annotated[
        int | None, typer.Option("--stock", help="Units available (default unlimited).")
    ] = None,
    grams: Annotated[
        float, typer.Option("--grams", help="g CO2 retired per unit (neutralisation).")
    ] = 0.0,
    format_: FormatOption = Format.table,
) -> None:
    """Show the redemption catalogue, or add an item to it with --add."""
    from esgledger.inclusion import service
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            if add is not None:
                service.add_item(
                    ws, _principal(), item=add, kind=kind, name=name, name_zh=name_zh,
                    price_points=price, counterparty=counterparty, stock=stock,
                    reduction_g=grams,
                )  # fmt: skip
            items = service.catalogue(ws, _principal())
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    if format_ is Format.json:
        typer.echo(dumps({"items": items}), nl=False)
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("item", "kind", "name", "名称", "points", "g CO2", "stock", "to"):
        table.add_column(column)
    for i in items:
        table.add_row(
            i.item, i.kind, i.name, i.name_zh, f"{i.price_points:,}", f"{i.reduction_g:,.1f}",
            "∞" if i.stock is None else f"{i.stock:,}", i.counterparty,
        )  # fmt: skip
    _stdout().print(table)


@inclusion_app.command("redeem")
def redeem_command(
    workspace: WorkspaceArgument,
    account: Annotated[str, typer.Argument(help="The account id the operator knows.")],
    item: Annotated[str, typer.Argument(help="Catalogue item code.")],
    quantity: Annotated[int, typer.Option("--quantity", help="Units.")] = 1,
    format_: FormatOption = Format.table,
) -> None:
    """Spend an account's points on a catalogue item (coupon, voucher, donation, neutralisation)."""
    from esgledger.inclusion import service
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            done = service.redeem(ws, _principal(), account, item, quantity=quantity)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    if format_ is Format.json:
        typer.echo(dumps(done), nl=False)
        return
    _stdout().print(
        f"Redeemed {done.quantity} × {done.item} for {done.points:,} points "
        f"({done.tx_id}); balance {done.balance_points:,} points.",
        markup=False,
    )


@inclusion_app.command("expire")
def expire_command(
    workspace: WorkspaceArgument,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Expire as at this time (default now).")
    ] = None,
) -> None:
    """Expire points left unspent past the methodology's expiry period (oldest first)."""
    from esgledger.inclusion import service
    from esgledger.store import Workspace

    try:
        moment = _moment(as_of)
        with Workspace.open(workspace) as ws:
            done = service.expire(ws, _principal(), as_of=moment)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    _stdout().print(
        f"Expired {done['points']:,} points of {done['accounts']:,} account(s) issued on or "
        f"before {done['cutoff']}.",
        markup=False,
    )


@inclusion_app.command("clawback")
def clawback_command(
    workspace: WorkspaceArgument,
    trips: Annotated[list[str], typer.Argument(help="Trips to reverse, as OPERATOR/TRIP_ID.")],
    reason: Annotated[str, typer.Option("--reason", help="Why the trips are invalid.")],
) -> None:
    """Reverse settled trips later found invalid (points and grams taken back)."""
    from esgledger.inclusion import service
    from esgledger.store import Workspace

    keys = []
    for text in trips:
        operator, sep, trip_id = text.partition("/")
        if not sep or not operator or not trip_id:
            raise _fail(InputError(f"{text!r}: give each trip as OPERATOR/TRIP_ID"))
        keys.append((operator, trip_id))
    try:
        with Workspace.open(workspace) as ws:
            done = service.clawback(ws, _principal(), keys, reason=reason)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    out = _stdout()
    out.print(
        f"Clawed back {done['trips']} trip(s): {done['points']:,} points and "
        f"{done['reduction_g']:,.1f} g CO2 ({done['tx_id']}).",
        markup=False,
    )
    for account, (points, mg) in sorted(done["unrecovered"].items()):
        out.print(
            f"  {account}: {points:,} points and {mg / 1000:,.1f} g already spent — "
            "unrecovered; account held for review.",
            markup=False,
        )


@inclusion_app.command("review")
def review_command(
    workspace: WorkspaceArgument,
    account: Annotated[str, typer.Argument(help="The account id the operator knows.")],
    release: Annotated[
        bool, typer.Option("--release/--close", help="Release the account or close it.")
    ] = True,
    note: Annotated[str, typer.Option("--note", help="Why.")] = "",
) -> None:
    """Decide on an account held for review: release it or close it."""
    from esgledger.inclusion import service
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            status = service.review(ws, _principal(), account, release=release, note=note)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    _stdout().print(f"Account is now {status}.", markup=False)


@inclusion_app.command("aggregate")
def aggregate_command(
    workspace: WorkspaceArgument,
    period: Annotated[
        str, typer.Option("--period", help="START:END dates, e.g. 2026-01-01:2026-03-31.")
    ],
    registry: Annotated[str, typer.Option("--registry", help="The registry filed with.")],
    serial_prefix: Annotated[
        str | None, typer.Option("--serial-prefix", help="Prefix of the serial numbers.")
    ] = None,
    format_: FormatOption = Format.table,
) -> None:
    """Aggregate a period's settled reductions into a registry project (filing pack, serials)."""
    from esgledger.inclusion import service
    from esgledger.store import Workspace

    try:
        start_text, sep, end_text = period.partition(":")
        start = _date(start_text, "--period")
        end = _date(end_text, "--period")
        if not sep or start is None or end is None:
            raise InputError(f"--period {period!r}: give START:END, e.g. 2026-01-01:2026-03-31")
        with Workspace.open(workspace) as ws:
            done = service.aggregate(
                ws, _principal(), period_start=start, period_end=end, registry=registry,
                serial_prefix=serial_prefix,
            )  # fmt: skip
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    if format_ is Format.json:
        typer.echo(dumps(done), nl=False)
        return
    serials = done["serials"]
    _stdout().print(
        f"Project {done['project']}: {done['reduction_t']:,.6f} t CO2 from "
        f"{done['accounts']:,} accounts; {done['units']:,} unit(s) "
        + (f"{serials['first']} – {serials['last']}" if done["units"] else "(under one tonne)")
        + f". Filing pack: {done['pack']}",
        markup=False,
    )


@inclusion_app.command("purge")
def purge_command(
    workspace: WorkspaceArgument,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Apply retention as at this time.")
    ] = None,
    days: Annotated[
        int, typer.Option("--days", help="Retention period in days after a batch's last trip.")
    ] = 90,
) -> None:
    """Delete origin–destination data kept past the retention period."""
    from esgledger.inclusion import service
    from esgledger.store import Workspace

    try:
        moment = _moment(as_of)
        with Workspace.open(workspace) as ws:
            removed = service.purge(ws, _principal(), as_of=moment, retention_days=days)
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    _stdout().print(f"Removed {removed} origin–destination file(s).", markup=False)
