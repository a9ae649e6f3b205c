"""The carbon-inclusion programme for a principal: the one module of the domain that opens a
workspace (faces call these functions; ``inclusion:read`` / ``inclusion:operate``).

碳普惠项目服务：命令行、接口与网页调用的唯一入口。

What each function does in the workspace:

* :func:`use` chooses the programme's methodology (``inclusion_programme``; audit
  ``inclusion.use``). Trips are then valued by the version effective on their date.
* :func:`consent` records or withdraws an account's opt-in to a scenario (audit
  ``inclusion.consent``); the raw account id is pseudonymised with the programme key.
* :func:`set_network` keeps a GTFS feed (content-addressed under ``WS/inclusion/network/``)
  whose station graph gives the distance of trips that come without one.
* :func:`settle` reads every imported trip not yet final, applies the methodology and the
  integrity rules (:mod:`esgledger.inclusion.settle`), writes the settlement's lines file
  and posts the issuance transactions — one per 2 048 accounts — all under the workspace's
  write lock, or nothing.
* :func:`statement`, :func:`explain` and :func:`verify` read.
"""

from __future__ import annotations

import gc
import hashlib
import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlalchemy as sa

from esgledger import audit
from esgledger.access import policy
from esgledger.errors import (
    ConflictError,
    EsgledgerError,
    InputError,
    Issue,
    NotFoundError,
    shown,
)

if TYPE_CHECKING:
    from esgledger.access import Principal
    from esgledger.inclusion.methodology import Methodology
    from esgledger.store import Workspace

__all__ = [
    "ISSUANCE_CHUNK",
    "AccountState",
    "SettlementResult",
    "Statement",
    "StatementTrip",
    "account_state",
    "consent",
    "current_methodology",
    "explain",
    "held_accounts",
    "settle",
    "statement",
    "use",
    "verify",
]

#: Accounts per issuance transaction: a statement's proof reads one transaction of at most
#: this many accounts (two transfers each), whatever the size of the settlement.
ISSUANCE_CHUNK = 2048

#: The programme's ledger day and local dates (all shipped methodologies are Chinese cities).
PROGRAMME_ZONE = ZoneInfo("Asia/Shanghai")

SETTLEMENTS_DIR = Path("lake") / "inclusion" / "settlements"
NETWORK_DIR = Path("inclusion") / "network"

#: Source accounts: the points pool and the reductions of each methodology may go negative
#: (their negative balance is what the programme has issued).
POOL = "pool"


def _now() -> datetime:
    return datetime.now(UTC)


def _local_day(moment: datetime) -> date:
    return moment.astimezone(PROGRAMME_ZONE).date()


# -- the programme's methodology ---------------------------------------------------------


def current_methodology(workspace: Workspace) -> str | None:
    """The id of the methodology chosen by :func:`use`, or None."""
    from esgledger.store.models_inclusion import InclusionProgramme

    with workspace.session() as session:
        row = session.get(InclusionProgramme, "methodology")
        return None if row is None else row.value


def require_methodology(workspace: Workspace) -> str:
    """The programme's methodology id; a clear error when none was chosen."""
    chosen = current_methodology(workspace)
    if chosen is None:
        raise InputError(
            "the programme has no methodology: choose one with "
            "`esgledger inclusion use WS METHODOLOGY_ID` "
            "(`esgledger inclusion methodologies` lists them)"
        )
    return chosen


def use(workspace: Workspace, principal: Principal, methodology_id: str) -> Methodology:
    """Make ``methodology_id`` (any case, a unique prefix) the programme's methodology.

    Also makes sure the programme key exists (:func:`esgledger.inclusion.accounts.programme_key`:
    the workspace's key file is created here, when the programme is set up, rather than by
    the first trips import, so that a refused import leaves the workspace as it was)."""
    from esgledger.inclusion import accounts, methodology
    from esgledger.store.models_inclusion import InclusionProgramme

    policy.require(principal, "inclusion:operate")
    chosen = methodology.resolve_id(methodology_id)
    current = methodology.get(chosen)
    accounts.programme_key(workspace)
    with workspace.write_lock() as session:
        row = session.get(InclusionProgramme, "methodology")
        before = None if row is None else row.value
        if before == chosen:
            return current
        if row is None:
            session.add(
                InclusionProgramme(
                    key="methodology", value=chosen, set_by=principal.username, set_at=_now()
                )
            )
        else:
            row.value, row.set_by, row.set_at = chosen, principal.username, _now()
        audit.record(
            session,
            principal,
            "inclusion.use",
            "methodology",
            chosen,
            before=before,
            after=chosen,
            detail={"version": current.version},
        )
    return current


# -- accounts and consent ----------------------------------------------------------------


def account_pseudonym(workspace: Workspace, account: str) -> str:
    """The pseudonym of a raw account id (the programme key's HMAC; never stored raw)."""
    from esgledger.inclusion import accounts

    text = account.strip()
    if not text:
        raise InputError("the account id is empty")
    return accounts.pseudonym(text, accounts.programme_key(workspace))


@dataclass(frozen=True, slots=True)
class ConsentView:
    """An account's consent to one scenario after a change."""

    account: str
    scenario: str
    active: bool
    granted_at: datetime | None
    withdrawn_at: datetime | None


def consent(
    workspace: Workspace,
    principal: Principal,
    account: str,
    scenario: str,
    *,
    withdraw: bool = False,
    at: datetime | None = None,
) -> ConsentView:
    """Record (or withdraw) ``account``'s opt-in to ``scenario``; the account is created if
    its first trip has not come yet. Audit ``inclusion.consent``."""
    from esgledger.inclusion import accounts

    policy.require(principal, "inclusion:operate")
    if scenario not in accounts.SCENARIOS:
        raise InputError(
            f"unknown scenario {shown(scenario)}: the scenarios are {', '.join(accounts.SCENARIOS)}"
        )
    moment = at or _now()
    pseudonym = account_pseudonym(workspace, account)
    with workspace.write_lock() as session:
        if withdraw:
            accounts.withdraw(session, pseudonym, scenario, moment, principal.username)
        else:
            accounts.grant(session, pseudonym, scenario, moment, principal.username)
        state = accounts.consent_state(session, [pseudonym]).get(pseudonym, {}).get(scenario)
        audit.record(
            session,
            principal,
            "inclusion.consent",
            "account",
            pseudonym,
            after="withdrawn" if withdraw else "granted",
            detail={"scenario": scenario},
        )
    granted, withdrawn = state if state is not None else (None, None)
    return ConsentView(
        pseudonym, scenario, granted is not None and withdrawn is None, granted, withdrawn
    )


# -- the station network -----------------------------------------------------------------


def set_network(
    workspace: Workspace, principal: Principal, path: Path, *, distance_unit: str | None = None
) -> dict[str, Any]:
    """Keep the GTFS feed at ``path`` as the programme's station network (checked first)."""
    from esgledger.inclusion import network
    from esgledger.store.models_inclusion import InclusionProgramme

    policy.require(principal, "inclusion:operate")
    if distance_unit not in (None, "km", "m"):
        raise InputError(f"--distance-unit {distance_unit!r}: km or m")
    built = network.StationNetwork.from_gtfs(
        path, distance_unit="km" if distance_unit == "km" else "m" if distance_unit else None
    )
    digest = _sha256_path(path)
    folder = workspace.root / NETWORK_DIR / digest
    if not folder.exists():
        staging = folder.with_name(f".{digest}.{uuid.uuid4().hex[:8]}.tmp")
        if path.is_dir():
            shutil.copytree(path, staging)
        else:
            staging.mkdir(parents=True)
            shutil.copy2(path, staging / path.name)
        os.replace(staging, folder)
    stored = str(next(folder.iterdir()) if path.is_file() else folder)
    value = f"{Path(stored).relative_to(workspace.root).as_posix()}|{distance_unit or ''}"
    with workspace.write_lock() as session:
        row = session.get(InclusionProgramme, "network")
        before = None if row is None else row.value
        if row is None:
            session.add(
                InclusionProgramme(
                    key="network", value=value, set_by=principal.username, set_at=_now()
                )
            )
        else:
            row.value, row.set_by, row.set_at = value, principal.username, _now()
        audit.record(
            session,
            principal,
            "inclusion.network",
            "network",
            digest,
            before=None if before is None else hashlib.sha256(before.encode()).hexdigest(),
            after=hashlib.sha256(value.encode()).hexdigest(),
            detail={"path": value.partition("|")[0], "distance_unit": distance_unit},
        )
    return {"sha256": digest, "stations": len(built.stations), "path": stored}


def _network(workspace: Workspace) -> Any | None:
    from esgledger.inclusion import network
    from esgledger.store.models_inclusion import InclusionProgramme

    with workspace.session() as session:
        row = session.get(InclusionProgramme, "network")
    if row is None:
        return None
    relative, _, unit = row.value.partition("|")
    return network.StationNetwork.from_gtfs(
        workspace.root / relative, distance_unit="km" if unit == "km" else "m" if unit else None
    )


def _sha256_path(path: Path) -> str:
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


# -- settlement --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SettlementResult:
    """What one settlement decided."""

    settlement_id: str | None
    through: date
    as_of: datetime
    settled: int
    refused: int
    pending: int
    reduction_mg: int
    points: int
    transactions: int
    held_accounts: int
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def reduction_g(self) -> float:
        return self.reduction_mg / 1000


def settlement_files(workspace: Workspace) -> list[Path]:
    """The lines files of every settlement, in order."""
    from esgledger.store.models_inclusion import InclusionSettlement

    with workspace.session() as session:
        rows = session.scalars(sa.select(InclusionSettlement).order_by(InclusionSettlement.seq))
        return [workspace.root / r.lines_path for r in rows]


def _duck() -> Any:
    from esgledger.inventory._duckdb import connect

    return connect()


def _paths_sql(paths: Sequence[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def settle(
    workspace: Workspace,
    principal: Principal,
    *,
    through: date | None = None,
    as_of: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> SettlementResult:
    """Settle every imported trip that is not final yet, as of ``as_of`` (default now).

    Trips dated after ``through`` (default: ``as_of``'s local date) or within the
    methodology's T+N lag stay pending; pending trips are reconsidered next time. The lines
    file and the issuance transactions land together or not at all.
    """
    from esgledger.inclusion import accounts, anomaly, methodology, trips
    from esgledger.inclusion import settle as settle_rules
    from esgledger.store.models_inclusion import InclusionAccount, InclusionSettlement

    policy.require(principal, "inclusion:operate")
    moment = as_of or _now()
    if moment.tzinfo is None:
        raise InputError("--as-of needs a time zone offset (e.g. 2026-03-10T00:00+08:00)")
    last_day = through or _local_day(moment)
    chosen = require_methodology(workspace)
    versions = methodology.versions(chosen)
    say = progress or (lambda _message: None)

    with workspace.session() as session:
        last_seq = session.scalar(sa.select(sa.func.max(InclusionSettlement.seq))) or 0
    trip_files = trips.trips_files(workspace)
    od_files = trips.od_files(workspace)
    previous = settlement_files(workspace)
    empty = SettlementResult(None, last_day, moment, 0, 0, 0, 0, 0, 0, 0)
    if not trip_files:
        return empty

    say("reading trips")
    settlement_id = f"s{last_seq + 1:06d}-{uuid.uuid4().hex[:8]}"
    zone = versions[-1].timezone.replace("'", "''")
    con = _duck()
    try:
        con.execute(
            f"CREATE TEMP VIEW trips AS SELECT * FROM read_parquet({_paths_sql(trip_files)})"
        )
        if previous:
            # Each trip's latest decision: pending trips are reconsidered, the rest are final.
            con.execute(
                "CREATE TEMP TABLE decided AS SELECT operator, trip_id, status FROM "
                f"read_parquet({_paths_sql(previous)}) QUALIFY row_number() OVER ("
                "PARTITION BY operator, trip_id ORDER BY settlement_id DESC) = 1"
            )
        else:
            con.execute(
                "CREATE TEMP TABLE decided (operator VARCHAR, trip_id VARCHAR, status VARCHAR)"
            )
        con.execute(
            "CREATE TEMP TABLE open AS SELECT t.*, d.status AS previous_status FROM trips t "
            "LEFT JOIN decided d USING (operator, trip_id) "
            "WHERE d.status IS NULL OR d.status = 'pending'"
        )
        open_count = con.execute("SELECT count(*) FROM open").fetchone()[0]
        if open_count == 0:
            return empty
        # Final trips of the same local days (and the days around, for overlaps across
        # midnight) are the context of caps and conflicts.
        con.execute(
            f"""
            CREATE TEMP TABLE context AS
            WITH days AS (
                SELECT DISTINCT CAST(timezone('{zone}', start_utc) AS DATE) AS day FROM open
            ), around AS (
                SELECT day FROM days UNION SELECT day - 1 FROM days UNION SELECT day + 1 FROM days
            )
            SELECT t.*, d.status AS previous_status FROM trips t
            JOIN decided d USING (operator, trip_id)
            WHERE d.status IN ('settled', 'refused')
              AND CAST(timezone('{zone}', t.start_utc) AS DATE) IN (SELECT day FROM around)
            """
        )
        # Network distances for open trips that came without one.
        net = _network(workspace)
        if net is not None and od_files:
            od = con.sql(
                "SELECT o.operator, o.trip_id, d.origin, d.destination FROM open o JOIN "
                f"read_parquet({_paths_sql(od_files)}) d USING (operator, trip_id) "
                "WHERE o.distance_m IS NULL"
            ).to_arrow_table()
            found = net.distances(
                od.column("origin"), od.column("destination"), ambiguous="missing"
            )
            distances = pa.table(
                {
                    "operator": od.column("operator"),
                    "trip_id": od.column("trip_id"),
                    "network_distance_m": pa.array(found, type=pa.int64(), mask=found < 0),
                }
            )
        else:
            distances = pa.table(
                {
                    "operator": pa.array([], pa.string()),
                    "trip_id": pa.array([], pa.string()),
                    "network_distance_m": pa.array([], pa.int64()),
                }
            )
        con.register("net_distances", distances)
        # Consent and review state of the accounts.
        with workspace.session() as session:
            consent_records = accounts.consent_rows(session)
            statuses = dict(
                session.execute(
                    sa.select(InclusionAccount.pseudonym, InclusionAccount.status).where(
                        InclusionAccount.status != "active"
                    )
                ).all()
            )
        scenario_of = {
            mode: factor.scenario for version in versions for mode, factor in version.modes.items()
        }
        # each account's latest consent record per scenario is its state
        con.register("consent_records", consent_records)
        con.execute(
            "CREATE TEMP TABLE consents AS SELECT account, scenario, active "
            "FROM consent_records QUALIFY row_number() OVER "
            "(PARTITION BY account, scenario ORDER BY id DESC) = 1"
        )
        con.unregister("consent_records")
        del consent_records
        con.register(
            "mode_scenarios",
            pa.table(
                {
                    "mode": pa.array(list(scenario_of), pa.string()),
                    "scenario": pa.array(list(scenario_of.values()), pa.string()),
                }
            ),
        )
        say("scoring account behaviour")
        scored = anomaly.score(
            con.sql(
                "SELECT * FROM open WHERE account NOT IN "
                "(SELECT account FROM (SELECT unnest(?) AS account))",
                params=[sorted(statuses)],
            ).to_arrow_table(),
            versions[-1],
        )
        newly_held = list(
            zip(
                scored.held.column("account").to_pylist(),
                scored.held.column("score").to_pylist(),
                strict=True,
            )
        )
        held_now = {a for a, st in statuses.items() if st == "held"} | {a for a, _ in newly_held}
        closed = sorted(a for a, st in statuses.items() if st == "closed")
        con.register(
            "held_accounts", pa.table({"account": pa.array(sorted(held_now), pa.string())})
        )
        con.register("closed_accounts", pa.table({"account": pa.array(closed, pa.string())}))
        assembled = con.sql(
            """
            SELECT x.*, n.network_distance_m,
                   coalesce(c.active, false) AS consented,
                   h.account IS NOT NULL AS held
            FROM (
                SELECT * FROM open WHERE account NOT IN (SELECT account FROM closed_accounts)
                UNION ALL BY NAME SELECT * FROM context
            ) x
            LEFT JOIN net_distances n USING (operator, trip_id)
            LEFT JOIN mode_scenarios s ON s.mode = x.mode
            LEFT JOIN consents c ON c.account = x.account AND c.scenario = s.scenario
            LEFT JOIN held_accounts h ON h.account = x.account
            """
        ).to_arrow_table()
        closed_lines = con.sql(
            f"""
            SELECT operator, trip_id, account, mode,
                   CAST(timezone('{zone}', start_utc) AS DATE) AS trip_date
            FROM open WHERE account IN (SELECT account FROM closed_accounts)
            """
        ).to_arrow_table()
    finally:
        con.close()

    say("applying the methodology and the integrity rules")
    lines = settle_rules.compute(
        assembled, versions, as_of=moment, through=last_day, settlement_id=settlement_id
    )
    if closed_lines.num_rows:
        lines = pa.concat_tables([lines, _closed_lines(closed_lines, settlement_id, chosen)])
    lines, sums = _issuance(lines, settlement_id)
    folder = workspace.root / SETTLEMENTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    final_path = folder / f"{settlement_id}.parquet"
    staging = folder / f".{settlement_id}.{os.getpid()}.tmp"
    pq.write_table(lines, staging, row_group_size=128 * 1024)
    digest = _sha256_path(staging)
    counts = _counts(lines)
    from esgledger.inclusion import ledger

    # The issuance is dated on the settlement's business day (``as_of``), so a settlement run
    # late for a past period lands in that period's flows; the ledger refuses a day before
    # its last one (days only go forward).
    day = _local_day(moment)
    tx_count = len(pc.unique(sums.column("tx_id"))) if sums.num_rows else 0
    meta = {"settlement": settlement_id, "lines_sha256": digest}
    # built one at a time as post_many writes them: millions of postings never all in memory
    transactions = (
        ledger.issuance(tx_id, day, entries, meta) for tx_id, entries in _issuance_groups(sums)
    )

    say("posting the issuance to the ledger")
    from esgledger.store import repository_inclusion

    try:
        with workspace.write_lock() as session:
            seq = session.scalar(sa.select(sa.func.max(InclusionSettlement.seq))) or 0
            if seq != last_seq:
                raise ConflictError(
                    "another settlement ran while this one was computed; run it again"
                )
            for account, score in newly_held:
                accounts.set_status(
                    session,
                    account,
                    "held",
                    f"behavioural anomaly score {score:.3f} (IsolationForest)",
                    principal.username,
                    score=float(score),
                )
            # Millions of short-lived tuples and postings, none in a reference cycle: the
            # cyclic collector would only rescan the large heap again and again meanwhile.
            collecting = gc.isenabled()
            gc.disable()
            try:
                repository_inclusion.post_many(session, transactions, created_at=_now())
            finally:
                if collecting:
                    gc.enable()
            os.replace(staging, final_path)
            session.add(
                InclusionSettlement(
                    id=settlement_id,
                    seq=seq + 1,
                    through=last_day,
                    as_of=moment,
                    created_at=_now(),
                    created_by=principal.username,
                    lines_path=final_path.relative_to(workspace.root).as_posix(),
                    sha256=digest,
                    trips_settled=counts["settled"],
                    trips_refused=counts["refused"],
                    trips_pending=counts["pending"],
                    reduction_mg=counts["reduction_mg"],
                    points=counts["points"],
                    summary={"reasons": counts["reasons"], "held": len(newly_held)},
                )
            )
            audit.record(
                session,
                principal,
                "inclusion.settle",
                "settlement",
                settlement_id,
                after=digest,
                detail={
                    "through": last_day.isoformat(),
                    "settled": counts["settled"],
                    "refused": counts["refused"],
                    "pending": counts["pending"],
                    "reduction_mg": counts["reduction_mg"],
                    "points": counts["points"],
                },
            )
    except BaseException:
        staging.unlink(missing_ok=True)
        if final_path.exists() and not _settlement_known(workspace, settlement_id):
            final_path.unlink(missing_ok=True)
        raise
    return SettlementResult(
        settlement_id,
        last_day,
        moment,
        counts["settled"],
        counts["refused"],
        counts["pending"],
        counts["reduction_mg"],
        counts["points"],
        tx_count,
        len(newly_held),
        counts["reasons"],
    )


def _closed_lines(trips: pa.Table, settlement_id: str, methodology_id: str) -> pa.Table:
    """Refused lines (``review.closed``) for the open trips of accounts closed after review."""
    from esgledger.inclusion.settle import LINE_SCHEMA

    n = trips.num_rows
    values: dict[str, Any] = {
        "operator": trips.column("operator"),
        "trip_id": trips.column("trip_id"),
        "account": trips.column("account"),
        "mode": trips.column("mode"),
        "trip_date": trips.column("trip_date"),
        "status": ["refused"] * n,
        "reason_code": ["review.closed"] * n,
        "reason": ["the account was closed after review"] * n,
        "reason_zh": ["账户经审核后已关闭"] * n,
        "reduction_mg": [0] * n,
        "points": [0] * n,
        "methodology": [methodology_id] * n,
        "settlement_id": [settlement_id] * n,
    }
    columns = [
        pa.array(values[f.name], f.type.value_type if pa.types.is_dictionary(f.type) else f.type)
        if f.name in values and not isinstance(values[f.name], pa.ChunkedArray)
        else (values[f.name] if f.name in values else pa.nulls(n, f.type))
        for f in LINE_SCHEMA
    ]
    return pa.table(
        columns,
        names=[f.name for f in LINE_SCHEMA],
    ).cast(LINE_SCHEMA)


def _settlement_known(workspace: Workspace, settlement_id: str) -> bool:
    from esgledger.store.models_inclusion import InclusionSettlement

    with workspace.session() as session:
        return session.get(InclusionSettlement, settlement_id) is not None


def _counts(lines: pa.Table) -> dict[str, Any]:
    con = _duck()
    try:
        con.register("lines", lines)
        statuses = dict(
            con.execute("SELECT status, count(*) FROM lines GROUP BY status").fetchall()
        )
        mg, points = con.execute(
            "SELECT coalesce(sum(reduction_mg), 0), coalesce(sum(points), 0) FROM lines "
            "WHERE status = 'settled'"
        ).fetchone()
        reasons = dict(
            con.execute(
                "SELECT reason_code, count(*) FROM lines WHERE status <> 'settled' "
                "GROUP BY reason_code ORDER BY 2 DESC"
            ).fetchall()
        )
    finally:
        con.close()
    return {
        "settled": int(statuses.get("settled", 0)),
        "refused": int(statuses.get("refused", 0)),
        "pending": int(statuses.get("pending", 0)),
        "reduction_mg": int(mg),
        "points": int(points),
        "reasons": {str(k): int(v) for k, v in reasons.items()},
    }


def _issuance(lines: pa.Table, settlement_id: str) -> tuple[pa.Table, pa.Table]:
    """Assign each settled line its issuance transaction (accounts in chunks of
    :data:`ISSUANCE_CHUNK`); lines come back sorted by account, with the issuance lines
    ``(tx_id, account, methodology, points, mg)`` as a table sorted by transaction, account
    and methodology (:func:`_issuance_groups` reads it one transaction at a time)."""
    con = _duck()
    try:
        con.register("lines_in", lines)
        columns = [c for c in lines.column_names if c != "tx_id"]
        table = con.sql(
            f"""
            WITH issued AS (
                -- the accounts issued to, numbered in account order (one sort of the
                -- distinct accounts, not of every line)
                SELECT account, (row_number() OVER (ORDER BY account) - 1)
                                // {ISSUANCE_CHUNK} AS chunk
                FROM (SELECT DISTINCT account FROM lines_in
                      WHERE status = 'settled' AND (points > 0 OR reduction_mg > 0))
            )
            SELECT {", ".join(f'l."{c}"' for c in columns)},
                   CASE WHEN l.status = 'settled' AND (l.points > 0 OR l.reduction_mg > 0)
                        THEN 'iss-{settlement_id}-' || lpad(CAST(i.chunk AS VARCHAR), 5, '0')
                   END AS tx_id
            FROM lines_in l LEFT JOIN issued i ON i.account = l.account
            ORDER BY l.account, l.operator, l.trip_id
            """
        ).to_arrow_table()
        con.register("lines_out", table)
        sums = con.sql(
            "SELECT tx_id, CAST(account AS VARCHAR) AS account, "
            "CAST(methodology AS VARCHAR) AS methodology, "
            "CAST(sum(points) AS BIGINT) AS points, CAST(sum(reduction_mg) AS BIGINT) AS mg "
            "FROM lines_out WHERE tx_id IS NOT NULL GROUP BY ALL "
            "ORDER BY tx_id, account, methodology"
        ).to_arrow_table()
    finally:
        con.close()
    return table, sums


def _issuance_groups(
    sums: pa.Table, batch: int = 65_536
) -> Iterator[tuple[str, list[tuple[str, int, int, str]]]]:
    """``(tx_id, [(pseudonym, points, mg, methodology), ...])`` per issuance transaction, in
    order, from the table :func:`_issuance` gives (read ``batch`` rows at a time)."""
    current: str | None = None
    entries: list[tuple[str, int, int, str]] = []
    for start in range(0, sums.num_rows, batch):
        part = sums.slice(start, batch)
        for tx_id, account, method_id, points, mg in zip(
            part.column("tx_id").to_pylist(),
            part.column("account").to_pylist(),
            part.column("methodology").to_pylist(),
            part.column("points").to_pylist(),
            part.column("mg").to_pylist(),
            strict=True,
        ):
            if tx_id != current:
                if current is not None:
                    yield current, entries
                current, entries = tx_id, []
            entries.append((account, int(points), int(mg), method_id))
    if current is not None:
        yield current, entries


# -- statements --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatementTrip:
    """One trip of an account as the programme decided it (or has not yet)."""

    trip_id: str
    operator: str
    mode: str
    date: date | None
    reduction_g: float
    points: int
    status: str
    reason: str
    reason_code: str
    settlement_id: str | None


@dataclass(frozen=True, slots=True)
class Statement:
    """An account's statement: its balance, the reductions it was credited and its trips,
    with the proof of every ledger entry."""

    account: str
    balance_points: int
    reduction_g: float
    balance_mg: int
    trips: tuple[StatementTrip, ...]
    entries: tuple[dict[str, Any], ...]
    consents: dict[str, bool]


def statement(
    workspace: Workspace, principal: Principal, account: str, *, pseudonymous: bool = False
) -> Statement:
    """The statement of ``account`` (its raw id, pseudonymised here; or its pseudonym when
    ``pseudonymous``)."""
    from esgledger.inclusion import accounts, trips
    from esgledger.store import repository_inclusion
    from esgledger.store.models_inclusion import InclusionAccount

    policy.require(principal, "inclusion:read")
    pseudonym = (
        require_pseudonym(workspace, principal, account)
        if pseudonymous
        else account_pseudonym(workspace, account)
    )
    with workspace.session() as session:
        if session.get(InclusionAccount, pseudonym) is None:
            raise NotFoundError(f"no account {shown(account)} in the programme")
        balances = repository_inclusion.balances(session, f"user:{pseudonym}")
        state = accounts.consent_state(session, [pseudonym]).get(pseudonym, {})
        entries = _entries_with_proofs(session, f"user:{pseudonym}")
    rows = _trip_rows(workspace, trips.trips_files(workspace), pseudonym)
    trips_out = tuple(
        StatementTrip(
            trip_id=r["trip_id"],
            operator=r["operator"],
            mode=r["mode"],
            date=r["trip_date"],
            reduction_g=(r["reduction_mg"] or 0) / 1000 if r["status"] == "settled" else 0.0,
            points=int(r["points"] or 0) if r["status"] == "settled" else 0,
            status=r["status"],
            reason=r["reason"] or "",
            reason_code=r["reason_code"] or "",
            settlement_id=r["settlement_id"],
        )
        for r in rows
    )
    credited_mg = sum(int(r["reduction_mg"] or 0) for r in rows if r["status"] == "settled")
    return Statement(
        account=pseudonym,
        balance_points=int(balances.get("pt", 0)),
        reduction_g=credited_mg / 1000,
        balance_mg=int(balances.get("mg", 0)),
        trips=trips_out,
        entries=tuple(entries),
        consents={s: g is not None and w is None for s, (g, w) in state.items()},
    )


def _entries_with_proofs(session: Any, account: str) -> list[dict[str, Any]]:
    """The ledger entries of ``account``, oldest first, each with the proof that a user can
    check alone: transfer → transaction root → transaction hash → day root → day chain."""
    from esgledger.store import repository_inclusion

    entries = []
    for row in repository_inclusion.transfers_of(session, account):
        signed = row["amount"] if row["credit"] == account else -row["amount"]
        proof = repository_inclusion.proof(session, row["tx_id"], row["idx"])
        entries.append(
            {
                "tx_id": row["tx_id"],
                "kind": row["kind"],
                "day": row["day"],
                "asset": row["asset"],
                "amount": signed,
                "counterparty": row["debit"] if row["credit"] == account else row["credit"],
                "proof": proof.as_dict(),
            }
        )
    return entries


def _trip_rows(
    workspace: Workspace, trip_files: Sequence[Path], pseudonym: str
) -> list[dict[str, Any]]:
    """Each trip of one account with its current line (latest settlement), or pending."""
    lines = settlement_files(workspace)
    if not trip_files:
        return []
    con = _duck()
    try:
        con.execute("CREATE TEMP TABLE acct AS SELECT ? AS account", [pseudonym])
        con.execute(
            f"CREATE TEMP VIEW t AS SELECT operator, trip_id, mode, start_utc FROM "
            f"read_parquet({_paths_sql(trip_files)}) WHERE account = (SELECT account FROM acct)"
        )
        if lines:
            con.execute(
                f"CREATE TEMP VIEW l AS SELECT * FROM read_parquet({_paths_sql(lines)}, "
                "filename = true) WHERE account = (SELECT account FROM acct)"
            )
            query = """
                SELECT t.operator, t.trip_id, t.mode,
                       coalesce(l.trip_date, CAST(timezone('Asia/Shanghai', t.start_utc) AS DATE))
                           AS trip_date,
                       coalesce(l.status, 'pending') AS status,
                       coalesce(l.reason_code, 'settlement.not_yet') AS reason_code,
                       coalesce(l.reason, 'not settled yet') AS reason,
                       l.reduction_mg, l.points, l.settlement_id
                FROM t LEFT JOIN (
                    SELECT * FROM l QUALIFY row_number() OVER (
                        PARTITION BY operator, trip_id ORDER BY settlement_id DESC) = 1
                ) l USING (operator, trip_id)
                ORDER BY t.start_utc, t.operator, t.trip_id
            """
        else:
            query = """
                SELECT operator, trip_id, mode,
                       CAST(timezone('Asia/Shanghai', start_utc) AS DATE) AS trip_date,
                       'pending' AS status, 'settlement.not_yet' AS reason_code,
                       'not settled yet' AS reason, NULL::BIGINT AS reduction_mg,
                       NULL::BIGINT AS points, NULL::VARCHAR AS settlement_id
                FROM t ORDER BY start_utc, operator, trip_id
            """
        cursor = con.execute(query)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


# -- explain and verify ------------------------------------------------------------------


def explain(
    workspace: Workspace, principal: Principal, trip_id: str, *, operator: str | None = None
) -> list[dict[str, Any]]:
    """Every settlement line of ``trip_id`` (of ``operator``), oldest first, with the
    methodology version, factor, distance rule and arithmetic that produced it."""
    from esgledger.inclusion import methodology

    policy.require(principal, "inclusion:read")
    lines = settlement_files(workspace)
    if not lines:
        raise NotFoundError("the programme has no settlement yet")
    con = _duck()
    try:
        cursor = con.execute(
            f"SELECT * FROM read_parquet({_paths_sql(lines)}) WHERE trip_id = ? "
            "AND (? IS NULL OR operator = ?) ORDER BY settlement_id",
            [trip_id, operator, operator],
        )
        names = [d[0] for d in cursor.description]
        found = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()
    if not found:
        raise NotFoundError(f"no settled, refused or pending line for trip {shown(trip_id)}")
    operators = {row["operator"] for row in found}
    if len(operators) > 1:
        raise InputError(
            f"trip {shown(trip_id)} exists for several operators "
            f"({', '.join(sorted(operators))}): give --operator"
        )
    for row in found:
        row["reduction_g"] = (row.get("reduction_mg") or 0) / 1000
        row["arithmetic"] = (
            methodology.explain_line(row) if hasattr(methodology, "explain_line") else None
        )
    return found


@dataclass(frozen=True, slots=True)
class LedgerVerification:
    """What :func:`verify` found: ``ok`` when nothing, else every issue, first first."""

    ok: bool
    issues: tuple[Any, ...]
    transactions: int
    transfers: int
    days: int
    settlements: int

    @property
    def first(self) -> Any | None:
        return self.issues[0] if self.issues else None


def verify(workspace: Workspace, principal: Principal) -> LedgerVerification:
    """Recompute the ledger (transaction chain, Merkle roots, day roots, balances) and every
    settlement file (its sha256, and each issuance transaction against the lines that name
    it); the report names the first difference."""
    from esgledger.inclusion import ledger
    from esgledger.store import repository_inclusion
    from esgledger.store.models_inclusion import (
        InclusionDay,
        InclusionSettlement,
        InclusionTransaction,
        InclusionTransfer,
    )

    policy.require(principal, "inclusion:read")
    extra: list[Any] = []
    with workspace.session() as session:
        settlements = list(
            session.scalars(sa.select(InclusionSettlement).order_by(InclusionSettlement.seq))
        )
    line_sums: dict[str, tuple[int, int]] = {}
    for row in settlements:
        path = workspace.root / row.lines_path
        if not path.is_file():
            extra.append(
                ledger.LedgerIssue(
                    "settlement.missing",
                    f"settlement {row.id}: lines file {row.lines_path} is missing",
                )
            )
            continue
        digest = _sha256_path(path)
        if digest != row.sha256:
            extra.append(
                ledger.LedgerIssue(
                    "settlement.hash",
                    f"settlement {row.id}: lines file {row.lines_path} was changed "
                    f"(sha256 {digest[:12]}…, recorded {row.sha256[:12]}…)",
                )
            )
            continue
        con = _duck()
        try:
            sums = con.execute(
                "SELECT tx_id, sum(points), sum(reduction_mg) FROM "
                f"read_parquet({_paths_sql([path])}) "
                "WHERE tx_id IS NOT NULL AND status = 'settled' GROUP BY tx_id"
            ).fetchall()
        finally:
            con.close()
        for tx_id, points, mg in sums:
            line_sums[str(tx_id)] = (int(points), int(mg))

    def lines_check(tx: Any, transfers: Sequence[Any]) -> list[Any]:
        points = sum(t.amount for t in transfers if t.asset == "pt")
        mg = sum(t.amount for t in transfers if t.asset == "mg")
        expected = line_sums.pop(tx.id, None)
        if expected is None and tx.meta.get("settlement") in {s.id for s in settlements}:
            return [
                ledger.LedgerIssue(
                    "settlement.issuance",
                    f"transaction {tx.id} issues {points} points and {mg} mg but no settlement "
                    "line names it",
                    tx_seq=tx.seq,
                )
            ]
        if expected is not None and expected != (points, mg):
            return [
                ledger.LedgerIssue(
                    "settlement.issuance",
                    f"transaction {tx.id} issues {points} points and {mg} mg but its "
                    f"settlement lines sum to {expected[0]} points and {expected[1]} mg",
                    tx_seq=tx.seq,
                )
            ]
        return []

    with workspace.session() as session:
        report = repository_inclusion.verify_ledger(session, lines_check=lines_check)
        counts = (
            session.scalar(sa.select(sa.func.count()).select_from(InclusionTransaction)) or 0,
            session.scalar(sa.select(sa.func.count()).select_from(InclusionTransfer)) or 0,
            session.scalar(sa.select(sa.func.count()).select_from(InclusionDay)) or 0,
        )
    for tx_id in sorted(line_sums):
        extra.append(
            ledger.LedgerIssue(
                "settlement.issuance",
                f"settlement lines name transaction {tx_id}, which is not in the ledger",
            )
        )
    issues = (*extra, *report.issues)
    return LedgerVerification(not issues, issues, *counts, len(settlements))


def _iter_chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _refuse(summary: str, column: str, value: str, problem: str) -> InputError:
    return InputError(summary, [Issue("", None, column, value, problem)])


_ = timedelta  # used by the settlement options of later functions


def statement_json(found: Statement) -> dict[str, Any]:
    """The contract of ``inclusion statement --format json`` and the API."""
    return {
        "account": found.account,
        "balance_points": found.balance_points,
        "reduction_g": found.reduction_g,
        "balance_mg": found.balance_mg,
        "consents": found.consents,
        "trips": [
            {
                "trip_id": t.trip_id,
                "operator": t.operator,
                "mode": t.mode,
                "date": t.date,
                "reduction_g": t.reduction_g,
                "points": t.points,
                "status": t.status,
                "reason": t.reason,
                "reason_code": t.reason_code,
                "settlement_id": t.settlement_id,
            }
            for t in found.trips
        ],
        "entries": list(found.entries),
    }


def verify_json(report: Any) -> dict[str, Any]:
    """The contract of ``inclusion verify --format json`` and the API."""
    issues = [
        {
            "code": issue.code,
            "text": issue.text,
            "text_zh": issue.text_zh,
            "tx_seq": issue.tx_seq,
            "day": issue.day,
            "account": issue.account,
        }
        for issue in report.issues
    ]
    return {
        "ok": report.ok,
        "first": f"{issues[0]['code']}: {issues[0]['text']}" if issues else None,
        "issues": issues,
        "transactions": report.transactions,
        "transfers": report.transfers,
        "days": report.days,
        "settlements": report.settlements,
    }


# -- the redemption catalogue and redemptions ----------------------------------------------

CATALOGUE_KINDS = ("coupon", "voucher", "donation", "neutralisation")


@dataclass(frozen=True, slots=True)
class CatalogueItem:
    """Something points can be redeemed for."""

    item: str
    kind: str
    name: str
    name_zh: str
    price_points: int
    reduction_g: float
    stock: int | None
    counterparty: str
    active: bool


def _item_view(row: Any) -> CatalogueItem:
    return CatalogueItem(
        row.item, row.kind, row.name, row.name_zh, int(row.price_points),
        int(row.reduction_mg) / 1000, row.stock, row.counterparty, bool(row.active),
    )  # fmt: skip


def catalogue(workspace: Workspace, principal: Principal) -> list[CatalogueItem]:
    """The redemption catalogue, active items first."""
    from esgledger.store.models_inclusion import InclusionCatalogueItem

    policy.require(principal, "inclusion:read")
    with workspace.session() as session:
        rows = session.scalars(
            sa.select(InclusionCatalogueItem).order_by(
                InclusionCatalogueItem.active.desc(), InclusionCatalogueItem.item
            )
        )
        return [_item_view(r) for r in rows]


def add_item(
    workspace: Workspace,
    principal: Principal,
    *,
    item: str,
    kind: str,
    name: str,
    name_zh: str,
    price_points: int,
    counterparty: str,
    stock: int | None = None,
    reduction_g: float = 0,
) -> CatalogueItem:
    """Add (or replace the terms of) a catalogue item. ``counterparty`` is the merchant,
    charity or event the points (or retired grams) go to: ``merchant:ID``, ``charity:ID``
    or, for a neutralisation, ``cancelled:EVENT``."""
    from esgledger.inclusion import ledger
    from esgledger.store.models_inclusion import InclusionCatalogueItem

    policy.require(principal, "inclusion:operate")
    code = item.strip()
    problems = []
    if not code or len(code) > 60 or any(c.isspace() for c in code):
        problems.append(("item", item, "an item code of 1 to 60 characters without spaces"))
    if kind not in CATALOGUE_KINDS:
        problems.append(("kind", kind, f"one of {', '.join(CATALOGUE_KINDS)}"))
    if isinstance(price_points, bool) or not isinstance(price_points, int) or price_points < 0:
        problems.append(("price_points", str(price_points), "a whole number of points ≥ 0"))
    if stock is not None and (isinstance(stock, bool) or stock < 0):
        problems.append(("stock", str(stock), "a whole number ≥ 0, or empty for unlimited"))
    reduction_mg = round(reduction_g * 1000)
    if reduction_mg < 0 or (kind == "neutralisation") != (reduction_mg > 0):
        problems.append(
            (
                "reduction_g",
                str(reduction_g),
                "grams retired per unit: > 0 for a neutralisation, else 0",
            )
        )
    expected = {"coupon": "merchant", "voucher": "merchant", "donation": "charity",
                "neutralisation": "cancelled"}.get(kind)  # fmt: skip
    prefix, _, rest = counterparty.partition(":")
    try:
        ledger.validate_account(counterparty)
        well_formed = True
    except EsgledgerError:
        well_formed = False
    if prefix != expected or not rest or not well_formed:
        problems.append(("counterparty", counterparty, f"an account {expected}:ID for a {kind}"))
    if not name.strip() or not name_zh.strip():
        problems.append(("name", name, "an English and a Chinese name"))
    if problems:
        raise InputError(
            f"catalogue item {shown(item)} was rejected",
            [Issue("", None, column, value, problem) for column, value, problem in problems],
        )
    with workspace.write_lock() as session:
        row = session.get(InclusionCatalogueItem, code)
        if row is None:
            row = InclusionCatalogueItem(item=code, created_at=_now())
            session.add(row)
        row.kind, row.name, row.name_zh = kind, name.strip(), name_zh.strip()
        row.price_points, row.reduction_mg, row.stock = price_points, reduction_mg, stock
        row.counterparty, row.active = counterparty, True
        session.flush()
        audit.record(
            session, principal, "inclusion.catalogue", "catalogue_item", code,
            detail={"kind": kind, "price_points": price_points, "stock": stock},
        )  # fmt: skip
        return _item_view(row)


@dataclass(frozen=True, slots=True)
class RedemptionView:
    """A redemption that landed."""

    redemption_id: str
    tx_id: str
    account: str
    item: str
    quantity: int
    points: int
    reduction_g: float
    balance_points: int


def redeem(
    workspace: Workspace, principal: Principal, account: str, item: str, *, quantity: int = 1
) -> RedemptionView:
    """Spend ``account``'s points on ``quantity`` units of a catalogue item.

    The stock and the balance are both guarded by the database (``CHECK``): of two
    redemptions racing for the same last points or unit, one lands and the other gets
    :class:`~esgledger.errors.LedgerError` (points) or :class:`InputError` (stock).
    """
    from sqlalchemy.exc import IntegrityError

    from esgledger.inclusion import ledger
    from esgledger.store import repository_inclusion
    from esgledger.store.models_inclusion import (
        InclusionAccount,
        InclusionCatalogueItem,
        InclusionRedemption,
    )

    policy.require(principal, "inclusion:operate")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= 10_000:
        raise InputError(f"quantity {quantity!r}: a whole number from 1 to 10000")
    pseudonym = account_pseudonym(workspace, account)
    now = _now()
    redemption_id = f"red-{now:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:10]}"
    with workspace.write_lock() as session:
        holder = session.get(InclusionAccount, pseudonym)
        if holder is None:
            raise NotFoundError(f"no account {shown(account)} in the programme")
        if holder.status != "active":
            raise InputError(f"account {pseudonym} is {holder.status}: it cannot redeem")
        row = session.get(InclusionCatalogueItem, item)
        if row is None or not row.active:
            raise NotFoundError(f"no catalogue item {shown(item)}")
        points = int(row.price_points) * quantity
        mg = int(row.reduction_mg) * quantity
        if row.stock is not None:
            try:
                with session.begin_nested():
                    session.execute(
                        sa.update(InclusionCatalogueItem)
                        .where(InclusionCatalogueItem.item == item)
                        .values(stock=InclusionCatalogueItem.stock - quantity)
                    )
            except IntegrityError:
                session.refresh(row)
                raise InputError(
                    f"catalogue item {item} has {row.stock} unit(s) left; {quantity} asked"
                ) from None
        meta = {"item": item, "quantity": quantity}
        day = _local_day(now)
        if row.kind == "donation":
            tx = ledger.donation(redemption_id, day, pseudonym, points, row.counterparty, meta)
        elif row.kind == "neutralisation":
            tx = ledger.neutralisation(
                redemption_id, day, pseudonym, points, mg, row.counterparty, meta
            )
        else:
            tx = ledger.redemption(
                redemption_id, day, pseudonym, points, row.counterparty, meta=meta
            )
        repository_inclusion.post(session, tx, created_at=now)
        session.add(
            InclusionRedemption(
                id=redemption_id, tx_id=tx.id, pseudonym=pseudonym, item=item,
                quantity=quantity, points=points, reduction_mg=mg, created_at=now,
                created_by=principal.username,
            )
        )  # fmt: skip
        audit.record(
            session, principal, "inclusion.redeem", "account", pseudonym,
            detail={"item": item, "quantity": quantity, "points": points, "tx": tx.id},
        )  # fmt: skip
        balance = repository_inclusion.balances(session, f"user:{pseudonym}").get("pt", 0)
    return RedemptionView(
        redemption_id, tx.id, pseudonym, item, quantity, points, mg / 1000, int(balance)
    )


# -- expiry ------------------------------------------------------------------------------


def expire(
    workspace: Workspace, principal: Principal, *, as_of: datetime | None = None
) -> dict[str, Any]:
    """Expire points not spent within the methodology's ``points_expiry_days`` of their
    issuance, oldest first (first in, first out): for each account, the points of lots
    past their expiry minus everything the account has spent or lost since (redemptions,
    donations, clawbacks, earlier expiries), when positive. One ``expiry`` transaction."""
    from esgledger.inclusion import ledger, methodology
    from esgledger.store import repository_inclusion

    policy.require(principal, "inclusion:operate")
    moment = as_of or _now()
    days = methodology.get(require_methodology(workspace)).rules.points_expiry_days
    cutoff = _local_day(moment) - timedelta(days=days)
    with workspace.write_lock() as session:
        due = repository_inclusion.expirable_points(session, cutoff)
        lines = [(account, points) for account, points in due if points > 0]
        if not lines:
            return {"tx_id": None, "accounts": 0, "points": 0, "cutoff": cutoff}
        tx_id = f"exp-{_local_day(moment):%Y%m%d}-{uuid.uuid4().hex[:8]}"
        tx = ledger.expiry(
            tx_id, _local_day(moment), lines, {"issued_on_or_before": cutoff.isoformat()}
        )
        repository_inclusion.post(session, tx, created_at=_now())
        total = sum(p for _, p in lines)
        audit.record(
            session, principal, "inclusion.expire", "transaction", tx_id,
            detail={"accounts": len(lines), "points": total, "cutoff": cutoff.isoformat()},
        )  # fmt: skip
    return {"tx_id": tx_id, "accounts": len(lines), "points": total, "cutoff": cutoff}


# -- clawback ----------------------------------------------------------------------------


def clawback(
    workspace: Workspace,
    principal: Principal,
    trips: Sequence[tuple[str, str]],
    *,
    reason: str,
) -> dict[str, Any]:
    """Reverse settled trips later found invalid (``(operator, trip_id)`` pairs).

    Each trip gets a ``refused`` line with reason ``clawback.invalid`` (a settlement of its
    own); each account gives back the points and grams of its trips, as far as its balances
    allow — what it already spent is recorded as unrecovered in the transaction's meta and
    the account is held for review, never driven below zero.
    """
    from esgledger.inclusion import ledger
    from esgledger.store import repository_inclusion
    from esgledger.store.models_inclusion import InclusionAccount, InclusionSettlement

    policy.require(principal, "inclusion:operate")
    text = reason.strip()
    if not text:
        raise InputError("a clawback needs a reason")
    if not trips:
        raise InputError("no trips given to claw back")
    lines_files = settlement_files(workspace)
    if not lines_files:
        raise NotFoundError("the programme has no settlement yet")
    keys = pa.table(
        {
            "operator": pa.array([o for o, _ in trips], pa.string()),
            "trip_id": pa.array([t for _, t in trips], pa.string()),
        }
    )
    con = _duck()
    try:
        con.register("keys", keys)
        current = con.sql(
            f"""
            SELECT * FROM read_parquet({_paths_sql(lines_files)}) l
            SEMI JOIN keys USING (operator, trip_id)
            QUALIFY row_number() OVER (
                PARTITION BY operator, trip_id ORDER BY settlement_id DESC) = 1
            """
        ).to_arrow_table()
    finally:
        con.close()
    found = {(o, t): s for o, t, s in zip(
        current.column("operator").to_pylist(), current.column("trip_id").to_pylist(),
        current.column("status").to_pylist(), strict=True)}  # fmt: skip
    problems = [
        Issue("", None, "trip_id", f"{o}/{t}",
              "not settled" if (o, t) in found else "no such settled trip")
        for o, t in trips if found.get((o, t)) != "settled"
    ]  # fmt: skip
    if problems:
        raise InputError("only settled trips can be clawed back", problems)
    now = _now()
    day = _local_day(now)
    with workspace.session() as session:
        last_seq = session.scalar(sa.select(sa.func.max(InclusionSettlement.seq))) or 0
    settlement_id = f"s{last_seq + 1:06d}-{uuid.uuid4().hex[:8]}"
    tx_id = f"clw-{settlement_id}"
    reversed_ = current.set_column(
        current.column_names.index("status"), "status", pa.array(["refused"] * current.num_rows)
    )
    for name, value in (
        ("reason_code", "clawback.invalid"),
        ("reason", f"clawed back: {text[:200]}"),
        ("settlement_id", settlement_id),
        ("tx_id", tx_id),
    ):
        reversed_ = reversed_.set_column(
            reversed_.column_names.index(name), name, pa.array([value] * current.num_rows)
        )
    per_account: dict[tuple[str, str], list[int]] = {}
    for account, method_id, points, mg in zip(
        current.column("account").to_pylist(), current.column("methodology").to_pylist(),
        current.column("points").to_pylist(), current.column("reduction_mg").to_pylist(),
        strict=True,
    ):  # fmt: skip
        total = per_account.setdefault((account, method_id), [0, 0])
        total[0] += int(points or 0)
        total[1] += int(mg or 0)
    folder = workspace.root / SETTLEMENTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    final_path = folder / f"{settlement_id}.parquet"
    staging = folder / f".{settlement_id}.{os.getpid()}.tmp"
    pq.write_table(reversed_, staging)
    digest = _sha256_path(staging)
    try:
        with workspace.write_lock() as session:
            seq = session.scalar(sa.select(sa.func.max(InclusionSettlement.seq))) or 0
            if seq != last_seq:
                raise ConflictError("another settlement ran meanwhile; run the clawback again")
            entries = []
            unrecovered: dict[str, list[int]] = {}
            for (account, method_id), (points, mg) in sorted(per_account.items()):
                have = repository_inclusion.balances(session, f"user:{account}")
                take_pt = min(points, int(have.get("pt", 0)))
                take_mg = min(mg, int(have.get("mg", 0)))
                if (take_pt, take_mg) != (points, mg):
                    unrecovered[account] = [points - take_pt, mg - take_mg]
                    holder = session.get(InclusionAccount, account)
                    if holder is not None and holder.status == "active":
                        holder.status = "held"
                        holder.held_reason = "clawback not fully recovered"
                entries.append((account, take_pt, take_mg, method_id))
            tx = ledger.clawback(
                tx_id, day, entries,
                {"reason": text[:200], "trips": len(trips), "unrecovered": unrecovered,
                 "lines_sha256": digest},
            )  # fmt: skip
            repository_inclusion.post(session, tx, created_at=now)
            os.replace(staging, final_path)
            session.add(
                InclusionSettlement(
                    id=settlement_id, seq=seq + 1, through=day, as_of=now, created_at=now,
                    created_by=principal.username,
                    lines_path=final_path.relative_to(workspace.root).as_posix(),
                    sha256=digest, trips_settled=0, trips_refused=current.num_rows,
                    trips_pending=0, reduction_mg=0, points=0,
                    summary={"kind": "clawback", "reason": text[:200], "tx": tx_id},
                )
            )  # fmt: skip
            audit.record(
                session, principal, "inclusion.clawback", "settlement", settlement_id,
                after=digest, detail={"trips": len(trips), "reason": text[:200]},
            )  # fmt: skip
    except BaseException:
        staging.unlink(missing_ok=True)
        if final_path.exists() and not _settlement_known(workspace, settlement_id):
            final_path.unlink(missing_ok=True)
        raise
    return {
        "settlement_id": settlement_id,
        "tx_id": tx_id,
        "trips": len(trips),
        "points": sum(e[1] for e in entries),
        "reduction_g": sum(e[2] for e in entries) / 1000,
        "unrecovered": unrecovered,
    }


# -- review of held accounts -------------------------------------------------------------


def review(
    workspace: Workspace,
    principal: Principal,
    account: str,
    *,
    release: bool,
    note: str = "",
    pseudonymous: bool = False,
) -> str:
    """Release a held account (its pending trips settle next time) or close it (its open
    trips are refused ``review.refused`` at the next settlement). ``account`` is the raw id,
    or the pseudonym when ``pseudonymous`` (the pages know accounts by pseudonym only).
    Returns the new status."""
    from esgledger.store.models_inclusion import InclusionAccount

    policy.require(principal, "inclusion:operate")
    pseudonym = (
        require_pseudonym(workspace, principal, account)
        if pseudonymous
        else account_pseudonym(workspace, account)
    )
    with workspace.write_lock() as session:
        holder = session.get(InclusionAccount, pseudonym)
        if holder is None:
            raise NotFoundError(f"no account {shown(account)} in the programme")
        before = holder.status
        holder.status = "active" if release else "closed"
        holder.held_reason = None if release else (note.strip()[:500] or "closed after review")
        holder.reviewed_by, holder.reviewed_at = principal.username, _now()
        audit.record(
            session, principal, "inclusion.review", "account", pseudonym,
            before=before, after=holder.status, detail={"note": note.strip()[:500]},
        )  # fmt: skip
        return holder.status


# -- aggregation for a registry ------------------------------------------------------------

PROJECTS_DIR = Path("inclusion") / "projects"

#: [mg CO2] in one registry unit (one tonne).
MG_PER_TONNE = 1_000_000_000


def _refuse_overlap(
    session: Any, methodology_id: str, region: str, period_start: date, period_end: date
) -> None:
    """Raise :class:`ConflictError` when a project of the methodology and region already
    covers a day of the period (the same grams cannot be filed twice)."""
    from esgledger.store.models_inclusion import InclusionProject

    overlapping = session.scalars(
        sa.select(InclusionProject).where(
            InclusionProject.methodology == methodology_id,
            InclusionProject.region == region,
            InclusionProject.period_start <= period_end,
            InclusionProject.period_end >= period_start,
        )
    ).first()
    if overlapping is not None:
        raise ConflictError(
            f"{overlapping.id} already aggregated {overlapping.period_start} – "
            f"{overlapping.period_end} of {methodology_id} for {overlapping.registry_name}: "
            "the same grams cannot be filed twice"
        )


def aggregate(
    workspace: Workspace,
    principal: Principal,
    *,
    period_start: date,
    period_end: date,
    registry: str,
    serial_prefix: str | None = None,
) -> dict[str, Any]:
    """Sum the reductions of the programme's methodology settled for trips of one period
    into a registry project, with its filing pack and serial range.

    The grams move from the accounts that were credited them to ``project:<id>``, as far as
    each account still holds them (grams already retired for a neutralisation cannot be
    filed again); whole tonnes get serials, the remainder stays in the project unserialised.
    The database refuses a second project for the same methodology, region and period start,
    and the code refuses any overlap of periods; an aggregated gram cannot then be redeemed
    or aggregated again (the accounts no longer hold it).
    """
    from esgledger.inclusion import ledger, methodology
    from esgledger.store import repository_inclusion
    from esgledger.store.models_inclusion import InclusionProject

    policy.require(principal, "inclusion:operate")
    if period_end < period_start:
        raise InputError(f"the period ends ({period_end}) before it starts ({period_start})")
    name = registry.strip()
    if not name or len(name) > 100:
        raise InputError("--registry: the registry's name, 1 to 100 characters")
    chosen = require_methodology(workspace)
    current = methodology.get(chosen)
    region = current.region
    with workspace.session() as session:  # checked again under the write lock below
        _refuse_overlap(session, chosen, region, period_start, period_end)
    lines_files = settlement_files(workspace)
    if not lines_files:
        raise NotFoundError("the programme has no settlement yet")
    con = _duck()
    try:
        cursor = con.execute(
            f"""
            WITH current AS (
                SELECT * FROM read_parquet({_paths_sql(lines_files)})
                QUALIFY row_number() OVER (
                    PARTITION BY operator, trip_id ORDER BY settlement_id DESC) = 1
            )
            SELECT account, sum(reduction_mg) AS mg, count(*) AS trips
            FROM current
            WHERE status = 'settled' AND methodology = ? AND trip_date BETWEEN ? AND ?
            GROUP BY account ORDER BY account
            """,
            [chosen, period_start, period_end],
        )
        per_account = [(a, int(mg), int(n)) for a, mg, n in cursor.fetchall()]
        by_mode_month = con.execute(
            f"""
            WITH current AS (
                SELECT * FROM read_parquet({_paths_sql(lines_files)})
                QUALIFY row_number() OVER (
                    PARTITION BY operator, trip_id ORDER BY settlement_id DESC) = 1
            )
            SELECT mode, strftime(trip_date, '%Y-%m') AS month, methodology_version, factor_id,
                   count(*) AS trips, sum(reduction_mg) AS mg
            FROM current
            WHERE status = 'settled' AND methodology = ? AND trip_date BETWEEN ? AND ?
            GROUP BY ALL ORDER BY month, mode
            """,
            [chosen, period_start, period_end],
        ).fetchall()
    finally:
        con.close()
    if not per_account:
        raise InputError(
            f"no settled trips of {chosen} between {period_start} and {period_end} to aggregate"
        )
    now = _now()
    day = _local_day(now)
    project_id = f"prj-{chosen}-{period_start:%Y%m%d}-{period_end:%Y%m%d}"
    with workspace.write_lock() as session:
        _refuse_overlap(session, chosen, region, period_start, period_end)
        held = repository_inclusion.balances_of(
            session, [f"user:{a}" for a, _, _ in per_account], "mg"
        )
        entries = []
        for account, mg, _ in per_account:
            take = min(mg, int(held.get(f"user:{account}", 0)))
            if take > 0:
                entries.append((account, take))
        total = sum(mg for _, mg in entries)
        if total <= 0:
            raise InputError("the accounts no longer hold any of these grams (all retired)")
        previous_units = session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(InclusionProject.units), 0))
        )
        units = total // MG_PER_TONNE
        prefix = (serial_prefix or f"{region}-{chosen}").upper()
        before = int(previous_units or 0)
        first = f"{prefix}-{before + 1:012d}" if units else None
        last = f"{prefix}-{before + units:012d}" if units else None
        transactions = [
            ledger.aggregation(
                f"agg-{project_id}-{index:05d}",
                day,
                project_id,
                chunk,
                {"project": project_id, "registry": name},
            )
            for index, chunk in enumerate(_iter_chunks(entries, ISSUANCE_CHUNK))
        ]
        repository_inclusion.post_many(session, transactions, created_at=now)
        pack = {
            "project": project_id,
            "registry": name,
            "methodology": methodology_json(current),
            "region": region,
            "period": {"start": period_start, "end": period_end},
            "reduction_t": total / MG_PER_TONNE,
            "reduction_mg": total,
            "units": units,
            "serials": {"first": first, "last": last},
            "unserialised_mg": total - units * MG_PER_TONNE,
            "accounts": len(entries),
            "by_mode_and_month": [
                {
                    "mode": m,
                    "month": mo,
                    "methodology_version": v,
                    "factor_id": f,
                    "trips": int(n),
                    "reduction_mg": int(g),
                }
                for m, mo, v, f, n, g in by_mode_month
            ],
            "transactions": [tx.id for tx in transactions],
            "created_at": now,
            "created_by": principal.username,
            "note": "Avoided emissions of programme participants (carbon inclusion), outside "
            "the company's scopes 1-3. Figures by mode and month are the settled trips of the "
            "period; the aggregated total is what the accounts still held.",
        }
        folder = workspace.root / PROJECTS_DIR
        folder.mkdir(parents=True, exist_ok=True)
        from esgledger.contract import dumps

        text = dumps(pack)
        pack_path = folder / f"{project_id}.json"
        pack_path.write_text(text, encoding="utf-8")
        session.add(
            InclusionProject(
                id=project_id, methodology=chosen, region=region, period_start=period_start,
                period_end=period_end, total_mg=total, units=units, serial_first=first,
                serial_last=last, registry_name=name, tx_id=transactions[0].id,
                pack_sha256=hashlib.sha256(text.encode()).hexdigest(), created_at=now,
                created_by=principal.username,
            )
        )  # fmt: skip
        audit.record(
            session, principal, "inclusion.aggregate", "project", project_id,
            after=hashlib.sha256(text.encode()).hexdigest(),
            detail={"reduction_mg": total, "units": units, "registry": name},
        )  # fmt: skip
    return {**pack, "pack": str(pack_path)}


# -- retention ---------------------------------------------------------------------------


#: [days] how long origins and destinations are kept after a batch's last trip ends, by
#: default. PIPL asks for the shortest period the purpose needs and names no number; 90
#: days covers the T+N lag, the claim window and an operator's correction of its feed.
OD_RETENTION_DAYS = 90


def purge(
    workspace: Workspace,
    principal: Principal,
    *,
    as_of: datetime | None = None,
    retention_days: int = OD_RETENTION_DAYS,
) -> int:
    """Delete the origin–destination files of batches whose trips all ended more than
    ``retention_days`` before ``as_of``; the settlement lines keep the distance and the
    rule used, so every settled trip stays explainable."""
    from esgledger.inclusion import trips

    policy.require(principal, "inclusion:operate")
    if isinstance(retention_days, bool) or not 0 <= retention_days <= 36_500:
        raise InputError(f"--days {retention_days!r}: a whole number of days from 0 to 36500")
    moment = as_of or _now()
    days = retention_days
    return int(
        trips.purge_od(workspace, _local_day(moment) - timedelta(days=days), principal=principal)
    )


# -- accounts by pseudonym and trip feeds (the API's entries) ------------------------------

PSEUDONYM_LENGTH = 26  # "p_" + 24 hexadecimal characters


def require_pseudonym(workspace: Workspace, principal: Principal, pseudonym: str) -> str:
    """``pseudonym`` when it names an account of the programme (``inclusion:read``)."""
    from esgledger.store.models_inclusion import InclusionAccount

    policy.require(principal, "inclusion:read")
    valid = (
        len(pseudonym) == PSEUDONYM_LENGTH
        and pseudonym.startswith("p_")
        and all(c in "0123456789abcdef" for c in pseudonym[2:])
    )
    if valid:
        with workspace.session() as session:
            if session.get(InclusionAccount, pseudonym) is not None:
                return pseudonym
    raise NotFoundError(f"no account {shown(pseudonym)} in the programme")


def lookup(workspace: Workspace, principal: Principal, account: str) -> dict[str, Any]:
    """The pseudonym of a raw account id and whether the programme knows it
    (``inclusion:operate``: only the operator holds raw ids)."""
    from esgledger.store.models_inclusion import InclusionAccount

    policy.require(principal, "inclusion:operate")
    pseudonym = account_pseudonym(workspace, account)
    with workspace.session() as session:
        holder = session.get(InclusionAccount, pseudonym)
    return {
        "pseudonym": pseudonym,
        "known": holder is not None,
        "status": None if holder is None else holder.status,
    }


@dataclass(frozen=True, slots=True)
class AccountState:
    """An account's standing in the programme: ``status`` (``active``, ``held``,
    ``closed``), why it is held or was closed, its behavioural anomaly score (of the
    settlement that held it; ``None`` when no score held it), when it was created (by its
    first trip) and who reviewed it last, when."""

    pseudonym: str
    status: str
    held_reason: str | None
    score: float | None
    created_at: datetime
    reviewed_by: str | None
    reviewed_at: datetime | None


def _state(row: Any) -> AccountState:
    return AccountState(
        row.pseudonym, row.status, row.held_reason,
        None if row.score is None else float(row.score),
        row.created_at, row.reviewed_by, row.reviewed_at,
    )  # fmt: skip


def account_state(workspace: Workspace, principal: Principal, pseudonym: str) -> AccountState:
    """The standing of the account ``pseudonym`` (``inclusion:read``); not found when the
    programme has no such account."""
    from esgledger.store.models_inclusion import InclusionAccount

    found = require_pseudonym(workspace, principal, pseudonym)
    with workspace.session() as session:
        row = session.get(InclusionAccount, found)
        if row is None:  # removed between the two reads: as unknown
            raise NotFoundError(f"no account {shown(pseudonym)} in the programme")
        return _state(row)


def held_accounts(
    workspace: Workspace, principal: Principal, *, limit: int = 200
) -> tuple[list[AccountState], int]:
    """Accounts held for review (``inclusion:read``), highest anomaly score first (the
    accounts held without a score, e.g. by a clawback not fully recovered, last), at most
    ``limit`` of them, and how many are held in all."""
    from esgledger.store.models_inclusion import InclusionAccount

    policy.require(principal, "inclusion:read")
    held = InclusionAccount.status == "held"
    with workspace.session() as session:
        total = session.scalar(sa.select(sa.func.count()).where(held)) or 0
        rows = session.scalars(
            sa.select(InclusionAccount)
            .where(held)
            .order_by(
                InclusionAccount.score.is_(None),
                InclusionAccount.score.desc(),
                InclusionAccount.pseudonym,
            )
            .limit(limit)
        )
        return [_state(r) for r in rows], int(total)


#: Trips one API request may carry.
MAX_FEED_TRIPS = 200_000


def import_feed(workspace: Workspace, principal: Principal, feed: pa.Table) -> Any:
    """Import a batch of trips sent to the API, as the ``trips`` import kind imports a file:
    validated whole, idempotent by (operator, trip_id), an ``import.trips`` audit event."""
    import tempfile

    from esgledger.ingest.importers import import_file

    policy.require(principal, "inclusion:operate")
    if feed.num_rows == 0:
        raise InputError("the feed has no trips")
    if feed.num_rows > MAX_FEED_TRIPS:
        raise InputError(
            f"the feed has {feed.num_rows:,} trips; send at most {MAX_FEED_TRIPS:,} per request"
        )
    folder = workspace.root / "uploads" / "feeds"
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        path = Path(scratch) / "trip-feed.parquet"
        pq.write_table(feed, path)
        return import_file(workspace, "trips", path, principal=principal)


def _json_value(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        return str(value)
    return value


def methodology_json(m: Methodology) -> dict[str, Any]:
    """One methodology version as JSON: filing metadata, factors by mode, rule settings."""
    import dataclasses

    rules = {
        f.name: getattr(m.rules, f.name)
        for f in dataclasses.fields(m.rules)
        if f.name != "confidence"
    }
    return {
        "id": m.id,
        "version": m.version,
        "name_en": m.name.en,
        "name_zh": m.name.zh,
        "city": m.city.en,
        "city_zh": m.city.zh,
        "region": m.region,
        "timezone": m.timezone,
        "baseline": m.baseline,
        "authority": m.authority.en,
        "authority_zh": m.authority.zh,
        "filing_number": m.filing_number,
        "filing_date": m.filing_date,
        "source": m.source,
        "source_url": m.source_url,
        "confidence": m.confidence,
        "effective_from": m.effective_from,
        "effective_to": m.effective_to,
        "note": m.note,
        "factors": [
            {
                "factor_id": f.factor_id,
                "mode": f.mode,
                "basis": f.basis,
                "value_g": str(f.value_g),
                "unit": "g CO2/pkm" if f.basis == "pkm" else "g CO2/trip",
                "scenario": f.scenario,
                "per_trip_fallback_g": None
                if f.per_trip_fallback_g is None
                else str(f.per_trip_fallback_g),
                "source": f.source,
                "confidence": f.confidence,
            }
            for f in m.modes.values()
        ],
        "rules": {k: _json_value(v) for k, v in rules.items()},
        "rules_confidence": m.rules.confidence,
    }


def methodologies_view(workspace: Workspace, principal: Principal) -> dict[str, Any]:
    """Every shipped methodology version, as JSON, and the programme's choice."""
    from esgledger.inclusion import methodology

    policy.require(principal, "inclusion:read")
    return {
        "programme": current_methodology(workspace),
        "methodologies": [methodology_json(m) for m in methodology.registry()],
    }


def settlement_json(result: SettlementResult) -> dict[str, Any]:
    """The contract of ``inclusion settle --format json`` and the API."""
    return {
        "settlement_id": result.settlement_id,
        "through": result.through,
        "as_of": result.as_of,
        "settled": result.settled,
        "refused": result.refused,
        "pending": result.pending,
        "reduction_g": result.reduction_mg / 1000,
        "points": result.points,
        "transactions": result.transactions,
        "held_accounts": result.held_accounts,
        "reasons": result.reasons,
    }
