"""The carbon-inclusion programme's results over a period: trips, avoided emissions, points.

碳普惠项目成果：参与人数、出行次数、减排量（按方式及月份）、积分发放与兑换。

What the programme achieved between two dates, for the ESG report, the catalogue's ``INCL.``
metrics and the operator's programme view:

* **trip figures** from the settlement lines (``lake/inclusion/settlements/<id>.parquet``,
  the files of ``inclusion_settlements.lines_path`` in ``seq`` order). A trip's *current*
  line is its line in the latest settlement that has it, so a later ``refused`` line with a
  ``clawback.*`` reason reverses an earlier settled one. Counted over the current lines whose
  local ``trip_date`` lies in the period: participants (accounts with at least one settled
  trip), trips settled / refused / pending, refusals by reason code, avoided emissions
  [mg CO2] of the settled trips by mode and by month, and the methodology versions and
  factors applied. One DuckDB query over the files (vectorised; 10^7 lines are fine);
* **point and gram flows** from the ledger (``inclusion_transfers`` joined to
  ``inclusion_transactions`` by ledger ``day`` in the period), summed in SQL by transaction
  kind, asset and account class (the name before ``:``): points issued (``issuance``, pool to
  users), redeemed (``redemption`` and ``neutralisation``, users to merchants / cancelled),
  donated (``donation``), expired (``expiry``), clawed back (``clawback``), grams retired
  (any transfer of ``mg`` to ``cancelled:``, e.g. a neutralisation) and aggregated for
  registries (``aggregation`` to ``project:``).

These are **avoided emissions of other people** (programme participants choosing low-carbon
trips): reported separately from the organisation's scope 1, 2 and 3 inventory and never
netted against it (GHG Protocol Corporate Standard, reported separately from scopes 1-3).

Amounts stay exact: milligrams and points are Python ``int``; tonnes are
``Decimal(mg).scaleb(-9)`` (:func:`tonnes`), never a float. :func:`results_from` is the pure
core (lines tables or files plus transfer sums in, :class:`ProgrammeResults` out);
:func:`programme_results` reads a workspace's files and ledger and calls it.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict

import duckdb
import pyarrow as pa

if TYPE_CHECKING:
    from esgledger.store import Workspace

__all__ = [
    "ACCOUNT_CLASSES",
    "MethodologyUse",
    "ProgrammeResults",
    "TransferSum",
    "account_class",
    "describe_factor",
    "programme_results",
    "results_from",
    "tonnes",
]

#: Account classes of the ledger (the part of an account name before ``:``); ``pool`` and
#: ``expired`` are whole names.
ACCOUNT_CLASSES: tuple[str, ...] = (
    "user",
    "pool",
    "reductions",
    "merchant",
    "charity",
    "cancelled",
    "project",
    "expired",
)

_MG_PER_T = 10**9

LinesInput: TypeAlias = pa.Table | Sequence[pa.Table] | Sequence[Path | str] | Path | str


def tonnes(mg: int) -> Decimal:
    """Milligrams of CO2 as tonnes, exactly (``Decimal``; 10^9 mg = 1 t).

    >>> tonnes(1_120_800)
    Decimal('0.0011208')
    """
    return Decimal(int(mg)).scaleb(-9).normalize() if mg else Decimal(0)


def account_class(account: str) -> str:
    """The class of a ledger account name: ``user:p_1`` -> ``user``, ``pool`` -> ``pool``."""
    return account.partition(":")[0]


@dataclass(frozen=True, slots=True)
class TransferSum:
    """The summed transfers of one transaction kind, asset and pair of account classes.

    ``amount`` is [points] for asset ``pt`` and [mg CO2] for asset ``mg``.
    """

    kind: str
    asset: str
    debit_class: str
    credit_class: str
    amount: int


@dataclass(frozen=True, slots=True)
class MethodologyUse:
    """A methodology factor applied to the settled trips of the period.

    ``factor_value`` is the line's Decimal text ([g CO2/pkm] for basis ``pkm``, [g CO2/trip]
    for basis ``trip``); ``reduction_mg`` [mg CO2] is what it credited in the period.
    """

    methodology: str
    version: str
    mode: str
    factor_id: str
    basis: str
    factor_value: str
    trips: int
    reduction_mg: int


@dataclass(frozen=True, slots=True)
class ProgrammeResults:
    """What :func:`results_from` computed for one period (both dates included).

    Attributes
    ----------
    participants
        Accounts (pseudonyms) with at least one settled trip in the period.
    trips_settled, trips_refused, trips_pending
        Trips of the period by the status of their current line.
    refusals_by_reason
        ``(reason_code, trips)`` of the refused trips, most frequent first.
    avoided_mg, avoided_mg_by_mode, avoided_mg_by_month
        Avoided emissions of the settled trips [mg CO2]; by mode and by ``YYYY-MM`` of the
        local trip date, each sorted by key; ``avoided_mg_by_month_mode`` holds
        ``(month, mode, mg)`` for every month and mode with settled trips.
    points_issued, points_redeemed, points_donated, points_expired, points_clawed_back
        Ledger flows of the period [points] (see the module docstring for which transfers).
    retired_mg, aggregated_mg
        Reductions retired by neutralisation and aggregated into registry projects [mg CO2].
    methodologies
        The factors the settled trips used, sorted by methodology, version, mode, factor.
    """

    period_start: dt.date
    period_end: dt.date
    participants: int = 0
    trips_settled: int = 0
    trips_refused: int = 0
    trips_pending: int = 0
    refusals_by_reason: tuple[tuple[str, int], ...] = ()
    avoided_mg: int = 0
    avoided_mg_by_mode: tuple[tuple[str, int], ...] = ()
    avoided_mg_by_month: tuple[tuple[str, int], ...] = ()
    avoided_mg_by_month_mode: tuple[tuple[str, str, int], ...] = ()
    points_issued: int = 0
    points_redeemed: int = 0
    points_donated: int = 0
    points_expired: int = 0
    points_clawed_back: int = 0
    retired_mg: int = 0
    aggregated_mg: int = 0
    methodologies: tuple[MethodologyUse, ...] = ()

    @property
    def trips(self) -> int:
        """Trips of the period, whatever their status."""
        return self.trips_settled + self.trips_refused + self.trips_pending

    @property
    def empty(self) -> bool:
        """No trip and no ledger flow in the period (no programme to report)."""
        flows = (
            self.points_issued,
            self.points_redeemed,
            self.points_donated,
            self.points_expired,
            self.points_clawed_back,
            self.retired_mg,
            self.aggregated_mg,
        )
        return self.trips == 0 and not any(flows)

    @property
    def has_settled(self) -> bool:
        """Whether any trip of the period is settled (the report shows the programme then)."""
        return self.trips_settled > 0

    @property
    def avoided_t(self) -> Decimal:
        """Avoided emissions of the period [t CO2], exact."""
        return tonnes(self.avoided_mg)

    @property
    def note(self) -> str:
        """One sentence saying what the period holds (``no carbon-inclusion trips…`` when
        the programme has nothing in it)."""
        span = f"{self.period_start.isoformat()} to {self.period_end.isoformat()}"
        if self.empty:
            return f"no carbon-inclusion trips or ledger flows from {span}"
        if not self.has_settled:
            return f"no settled carbon-inclusion trips from {span} ({self.trips} trips)"
        return (
            f"{self.trips_settled} settled trips of {self.participants} participants avoided "
            f"{self.avoided_t} t CO2 from {span}"
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready results: counts and points as integers, grams and tonnes as text."""
        return {
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "empty": self.empty,
            "note": self.note,
            "participants": self.participants,
            "trips": {
                "settled": self.trips_settled,
                "refused": self.trips_refused,
                "pending": self.trips_pending,
            },
            "refusals_by_reason": dict(self.refusals_by_reason),
            "avoided_mg": self.avoided_mg,
            "avoided_t_co2": str(self.avoided_t),
            "avoided_t_co2_by_mode": {k: str(tonnes(v)) for k, v in self.avoided_mg_by_mode},
            "avoided_t_co2_by_month": {k: str(tonnes(v)) for k, v in self.avoided_mg_by_month},
            "points": {
                "issued": self.points_issued,
                "redeemed": self.points_redeemed,
                "donated": self.points_donated,
                "expired": self.points_expired,
                "clawed_back": self.points_clawed_back,
            },
            "retired_mg": self.retired_mg,
            "aggregated_mg": self.aggregated_mg,
            "methodologies": [
                {
                    "methodology": m.methodology,
                    "version": m.version,
                    "mode": m.mode,
                    "factor_id": m.factor_id,
                    "basis": m.basis,
                    "factor_value": m.factor_value,
                    "trips": m.trips,
                    "reduction_mg": m.reduction_mg,
                }
                for m in self.methodologies
            ],
        }


# ---- the pure core ----------------------------------------------------------------------


def _quoted(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _lines_relation(con: duckdb.DuckDBPyConnection, lines: LinesInput) -> str | None:
    """A SQL relation of every line with ``_seq`` (later supersedes earlier), or ``None``
    when there are no lines at all."""
    if isinstance(lines, pa.Table):
        tables: list[pa.Table] = [lines]
    elif isinstance(lines, (str, Path)):
        return f"(SELECT *, 0 AS _seq FROM read_parquet({_quoted(lines)}))"
    elif all(isinstance(item, pa.Table) for item in lines):
        tables = [item for item in lines if isinstance(item, pa.Table)]
    else:
        paths = [item for item in lines if isinstance(item, (str, Path))]
        if not paths:
            return None
        parts = [
            f"SELECT *, {seq} AS _seq FROM read_parquet({_quoted(path)})"
            for seq, path in enumerate(paths)
        ]
        return "(" + " UNION ALL BY NAME ".join(parts) + ")"
    if not tables or all(t.num_rows == 0 for t in tables):
        return None
    parts = []
    offset = 0
    for index, table in enumerate(tables):
        # one table: its row order is the settlement order (a later row supersedes)
        seq = pa.array(range(offset, offset + table.num_rows), pa.int64())
        offset += table.num_rows
        name = f"_lines_{index}"
        con.register(name, table.append_column("_seq", seq))
        parts.append(f"SELECT * FROM {name}")
    return "(" + " UNION ALL BY NAME ".join(parts) + ")"


def _as_sums(transfer_sums: Iterable[TransferSum | Sequence[Any]]) -> list[TransferSum]:
    out = []
    for entry in transfer_sums:
        if isinstance(entry, TransferSum):
            out.append(entry)
        else:
            kind, asset, debit, credit, amount = entry
            out.append(TransferSum(str(kind), str(asset), str(debit), str(credit), int(amount)))
    return out


class _Flows(TypedDict):
    points_issued: int
    points_redeemed: int
    points_donated: int
    points_expired: int
    points_clawed_back: int
    retired_mg: int
    aggregated_mg: int


def _flows(sums: Sequence[TransferSum]) -> _Flows:
    """Points and grams of the period by flow (module docstring)."""

    def total(kinds: tuple[str, ...], asset: str, debit: str = "", credit: str = "") -> int:
        return sum(
            s.amount
            for s in sums
            if (not kinds or s.kind in kinds)
            and s.asset == asset
            and (not debit or s.debit_class == debit)
            and (not credit or s.credit_class == credit)
        )

    return {
        "points_issued": total(("issuance",), "pt", credit="user"),
        "points_redeemed": total(("redemption", "neutralisation"), "pt", debit="user"),
        "points_donated": total(("donation",), "pt", debit="user"),
        "points_expired": total(("expiry",), "pt", debit="user"),
        "points_clawed_back": total(("clawback",), "pt", debit="user"),
        # grams retired by any transaction (a neutralisation, a redemption that retires)
        "retired_mg": total((), "mg", credit="cancelled"),
        "aggregated_mg": total(("aggregation",), "mg", credit="project"),
    }


def results_from(
    lines: LinesInput,
    transfer_sums: Iterable[TransferSum | Sequence[Any]] = (),
    *,
    period_start: dt.date,
    period_end: dt.date,
) -> ProgrammeResults:
    """The programme's results from settlement lines and ledger sums (pure).

    Parameters
    ----------
    lines
        Settlement lines (columns of the lines files: ``operator, trip_id, account, mode,
        trip_date, status, reason_code, reduction_mg, methodology, methodology_version,
        factor_id, factor_value, basis``…): Parquet file paths in settlement ``seq`` order,
        Arrow tables in that order, or one table whose later rows supersede earlier ones.
    transfer_sums
        :class:`TransferSum` (or ``(kind, asset, debit_class, credit_class, amount)``
        tuples) of the ledger transactions of the period.
    period_start, period_end
        The period, both dates included (local trip dates; ledger days).

    Returns
    -------
    ProgrammeResults
        An :attr:`~ProgrammeResults.empty` result when there is nothing in the period.
    """
    if period_end < period_start:
        raise ValueError(f"the period ends ({period_end}) before it starts ({period_start})")
    flows = _flows(_as_sums(transfer_sums))
    from esgledger.inventory._duckdb import connect  # bounded memory, spill folder

    con = connect()
    try:
        relation = _lines_relation(con, lines)
        if relation is None:
            return ProgrammeResults(period_start, period_end, **flows)
        # A line is current unless a line of a later settlement has the same trip: an
        # anti-join against the later lines (few), not a window over all of them.
        con.execute(
            f"""
            CREATE TEMP VIEW cur AS
            WITH lines AS (
                SELECT operator, trip_id, account, mode, CAST(trip_date AS DATE) AS trip_date,
                       status, reason_code, CAST(reduction_mg AS BIGINT) AS reduction_mg,
                       methodology, methodology_version, factor_id,
                       CAST(factor_value AS VARCHAR) AS factor_value, basis, _seq
                FROM {relation}
            ),
            later AS (SELECT operator, trip_id, _seq FROM lines WHERE _seq > 0)
            SELECT lines.* FROM lines
            ANTI JOIN later ON later.operator = lines.operator
                AND later.trip_id = lines.trip_id AND later._seq > lines._seq
            WHERE lines.trip_date BETWEEN DATE '{period_start.isoformat()}'
                AND DATE '{period_end.isoformat()}'
            """
        )
        by_reason = con.execute(
            "SELECT status, coalesce(reason_code, ''), count(*) FROM cur GROUP BY ALL"
        ).fetchall()
        (participants,) = con.execute(
            "SELECT count(DISTINCT account) FROM cur WHERE status = 'settled'"
        ).fetchone() or (0,)
        used = con.execute(
            """
            SELECT strftime(trip_date, '%Y-%m'), methodology, methodology_version, mode,
                   factor_id, basis, factor_value, count(*), CAST(sum(reduction_mg) AS HUGEINT)
            FROM cur WHERE status = 'settled' GROUP BY ALL
            """
        ).fetchall()
    finally:
        con.close()
    by_status: dict[str, int] = {}
    refused: dict[str, int] = {}
    for status, code, count in by_reason:
        by_status[str(status)] = by_status.get(str(status), 0) + int(count)
        if status == "refused":
            refused[str(code)] = refused.get(str(code), 0) + int(count)
    unknown = sorted(set(by_status) - {"settled", "refused", "pending"})
    if unknown:
        raise ValueError(f"settlement lines with unknown status {unknown}")
    # small groups (months x factors): rolled up here, exactly, in Python integers
    by_mode: dict[str, int] = {}
    by_month: dict[str, int] = {}
    by_cell: dict[tuple[str, str], int] = {}
    factors: dict[tuple[str, str, str, str, str, str], list[int]] = {}
    for month, method, version, mode, factor_id, basis, value, count, total in used:
        mg = int(total or 0)
        by_mode[str(mode)] = by_mode.get(str(mode), 0) + mg
        by_month[str(month)] = by_month.get(str(month), 0) + mg
        cell = (str(month), str(mode))
        by_cell[cell] = by_cell.get(cell, 0) + mg
        key = (str(method), str(version), str(mode), str(factor_id), str(basis), str(value))
        entry = factors.setdefault(key, [0, 0])
        entry[0] += int(count)
        entry[1] += mg

    return ProgrammeResults(
        period_start,
        period_end,
        participants=int(participants),
        trips_settled=by_status.get("settled", 0),
        trips_refused=by_status.get("refused", 0),
        trips_pending=by_status.get("pending", 0),
        refusals_by_reason=tuple(sorted(refused.items(), key=lambda kv: (-kv[1], kv[0]))),
        avoided_mg=sum(by_mode.values()),
        avoided_mg_by_mode=tuple(sorted(by_mode.items())),
        avoided_mg_by_month=tuple(sorted(by_month.items())),
        avoided_mg_by_month_mode=tuple((m, mode, mg) for (m, mode), mg in sorted(by_cell.items())),
        methodologies=tuple(
            MethodologyUse(*key, trips=n, reduction_mg=mg)
            for key, (n, mg) in sorted(factors.items())
        ),
        **flows,
    )


# ---- the workspace ----------------------------------------------------------------------


def _lines_paths(workspace: Workspace) -> list[Path]:
    from sqlalchemy import select

    from esgledger.store.models_inclusion import InclusionSettlement

    with workspace.session() as session:
        rows = session.execute(
            select(InclusionSettlement.lines_path).order_by(InclusionSettlement.seq)
        ).all()
    paths = [workspace.root / str(path) for (path,) in rows]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        from esgledger.errors import WorkspaceError

        raise WorkspaceError(
            f"settlement lines file {missing[0]} is listed in inclusion_settlements but "
            "missing; restore it from the backup (esgledger inclusion verify names the rest)"
        )
    return paths


def _transfer_sums(
    workspace: Workspace, period_start: dt.date, period_end: dt.date
) -> list[TransferSum]:
    from sqlalchemy import case, func, select

    from esgledger.store.models_inclusion import InclusionTransaction, InclusionTransfer

    def klass(column: Any) -> Any:
        whens = [
            (column.like(f"{name}:%"), name)
            for name in ACCOUNT_CLASSES
            if name not in ("pool", "expired")
        ]
        return case(*whens, else_=column)

    debit = klass(InclusionTransfer.debit)
    credit = klass(InclusionTransfer.credit)
    query = (
        select(
            InclusionTransaction.kind,
            InclusionTransfer.asset,
            debit,
            credit,
            func.sum(InclusionTransfer.amount),
        )
        .join(InclusionTransaction, InclusionTransaction.seq == InclusionTransfer.tx_seq)
        .where(InclusionTransaction.day >= period_start, InclusionTransaction.day <= period_end)
        .group_by(InclusionTransaction.kind, InclusionTransfer.asset, debit, credit)
    )
    with workspace.session() as session:
        rows = session.execute(query).all()
    return [
        TransferSum(str(kind), str(asset), str(d), str(c), int(amount or 0))
        for kind, asset, d, c, amount in rows
    ]


def programme_results(
    workspace: Workspace, period_start: dt.date, period_end: dt.date
) -> ProgrammeResults:
    """The results of a workspace's carbon-inclusion programme over a period.

    Reads the settlement lines files listed by ``inclusion_settlements`` (in ``seq`` order)
    and sums the ledger transfers of the period's ledger days, then calls
    :func:`results_from`. A workspace without a programme gives an
    :attr:`~ProgrammeResults.empty` result.

    Raises
    ------
    WorkspaceError
        A listed lines file is missing or cannot be read.
    """
    paths = _lines_paths(workspace)
    sums = _transfer_sums(workspace, period_start, period_end)
    try:
        return results_from(paths, sums, period_start=period_start, period_end=period_end)
    except (duckdb.Error, ValueError) as exc:
        from esgledger.errors import WorkspaceError

        raise WorkspaceError(
            f"the settlement lines files could not be read ({exc}); "
            "esgledger inclusion verify names the damaged file"
        ) from exc


def describe_factor(use: MethodologyUse) -> Mapping[str, str]:
    """What the methodology registry says of a factor: ``authority_en``, ``authority_zh``,
    ``confidence`` (``V``/``R``/``A``) and ``source``; empty values when the registry
    (:mod:`esgledger.inclusion.methodology`) does not know the methodology version."""
    out = {
        "authority_en": "",
        "authority_zh": "",
        "name_en": "",
        "name_zh": "",
        "confidence": "",
        "source": "",
    }
    try:
        registry: Any = importlib.import_module("esgledger.inclusion.methodology")
        versions = registry.versions(use.methodology)
    except (ImportError, LookupError, ValueError):
        return out
    for method in versions:
        if str(method.version) != use.version:
            continue
        out["name_en"] = str(getattr(method.name, "en", "") or "")
        out["name_zh"] = str(getattr(method.name, "zh", "") or "")
        authority = method.authority
        out["authority_en"] = str(getattr(authority, "en", authority) or "")
        out["authority_zh"] = str(getattr(authority, "zh", "") or "")
        factor = method.modes.get(use.mode)
        if factor is not None:
            fallback = use.factor_id.endswith("/per_trip")
            confidence = factor.fallback_confidence if fallback else factor.confidence
            out["confidence"] = str(confidence or "")
            out["source"] = str(factor.source or "")
    return out
