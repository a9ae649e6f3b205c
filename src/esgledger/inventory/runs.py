"""Inventory runs: line items in the lake, a manifest, a row in the ``runs`` table.

盘查运行记录：明细写入数据湖，清单（manifest）记录全部输入与选项，数据库登记运行。

A run is written once and never changed::

    lake/runs/<run_id>/line_items.parquet   one line item per activity row
    lake/runs/<run_id>/market_based.parquet market-based scope 2 per site-period
    lake/runs/<run_id>/manifest.json        what went in, and what came out

The manifest lists everything the numbers depend on: the activity batches (ids and sha256 of
the imported files), every factor set of the library (id, edition, precedence, and the sha256
of its content: the packaged CSV for shipped sets, the canonical rows for user sets), the
sha256 of the organisation (entities, sites), user activity types and exchange rates, the GWP
set, the consolidation approach and its shares, the options, the esgledger version and the
reporting year; then the counts, the factor sets actually used and the warnings.

``input_hash`` is the sha256 of those inputs and options (not of times or file names), and the
run id is ``r-`` + its first 12 hex digits + ``-`` + the UTC time of the run
(``r-3f2a9c0d1e2b-20261125T092311Z``): two runs of the same inputs share the prefix and give
the same numbers to the last digit. Totals are sums of exact decimals (each line rounded to
1 µg, i.e. 9 decimals of a kg), so they do not depend on the order DuckDB adds lines in.

:func:`summary` gives the JSON contract of the inventory: ``unit`` (``"t CO2e"``), ``totals``
(``scope1``, ``scope2_location``, ``scope3``, ``biogenic_co2``, ``total``),
``scope3_by_category`` ("1" … "15", all present), ``by_entity``, ``by_site``,
``data_quality`` (the Scope 3 Standard's data-quality indicators, emission-weighted, from
:mod:`esgledger.inventory.quality`, and the shares of CO2e by factor tier and vintage gap),
``scope3_completeness`` (all fifteen categories, reported or not), market-based scope 2
(``totals.scope2_market``, ``by_site[*].scope2_market``, ``by_entity[*].scope2_market``)
and ``renewable_share`` read back from the run's ``market_based.parquet``
(:func:`esgledger.inventory.market.load_market`), ``counts``,
``warnings`` and ``run`` (the manifest). All amounts are consolidated (× the entity's
consolidation share) and in tonnes; biogenic CO2 is outside the scopes and not in ``total``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from esgledger import __version__, gwp
from esgledger.access.principal import Principal
from esgledger.errors import InputError, Issue, WorkspaceError
from esgledger.inventory._duckdb import connect

if TYPE_CHECKING:
    from esgledger.boundary import EntityShare
    from esgledger.factors.library import FactorLibrary
    from esgledger.factors.resolve import Fallback, Strictness
    from esgledger.fx import FxTable
    from esgledger.inventory.engine import Progress
    from esgledger.store import Workspace
    from esgledger.store.models import ImportBatch
    from esgledger.taxonomy import Taxonomy

__all__ = [
    "LINE_ITEMS_FILE",
    "MANIFEST_FILE",
    "RUNS_DIR",
    "SCOPE3_CATEGORIES",
    "SCOPE3_CATEGORY_NAMES",
    "LineCeilingError",
    "PreparedRun",
    "Run",
    "aggregate",
    "check_line_ceiling",
    "list_runs",
    "load_run",
    "prepare_run",
    "summary",
]

#: Folder of the runs inside the workspace lake.
RUNS_DIR = "runs"
LINE_ITEMS_FILE = "line_items.parquet"
MANIFEST_FILE = "manifest.json"
#: A run being computed lives in ``runs/.tmp-<run id>/``, with the process id in this file.
TMP_PREFIX = ".tmp-"
OWNER_FILE = ".owner"
#: The scope 3 categories, as the keys of ``scope3_by_category``.
SCOPE3_CATEGORIES: tuple[str, ...] = tuple(str(n) for n in range(1, 16))
#: Names of the scope 3 categories (GHG Protocol Scope 3 Standard, Table 5.1), English and
#: Chinese.
SCOPE3_CATEGORY_NAMES: dict[str, tuple[str, str]] = {
    "1": ("Purchased goods and services", "外购商品和服务"),
    "2": ("Capital goods", "资本货物"),
    "3": ("Fuel- and energy-related activities", "燃料和能源相关活动"),
    "4": ("Upstream transportation and distribution", "上游运输和配送"),
    "5": ("Waste generated in operations", "运营中产生的废弃物"),
    "6": ("Business travel", "商务差旅"),
    "7": ("Employee commuting", "员工通勤"),
    "8": ("Upstream leased assets", "上游租赁资产"),
    "9": ("Downstream transportation and distribution", "下游运输和配送"),
    "10": ("Processing of sold products", "售出产品的加工"),
    "11": ("Use of sold products", "售出产品的使用"),
    "12": ("End-of-life treatment of sold products", "售出产品的报废处理"),
    "13": ("Downstream leased assets", "下游租赁资产"),
    "14": ("Franchises", "特许经营"),
    "15": ("Investments", "投资"),
}
#: Decimals of a kg kept per line when summing (1 µg): exact, order-independent totals.
_SUM_SCALE = 9
_KG_PER_T = Decimal(1000)
_NO_SITE = "(no site)"
_S = TypeVar("_S")
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Run:
    """One registered inventory run.

    Attributes
    ----------
    run_id
        ``r-<12 hex of the input hash>-<UTC time>``.
    folder
        ``lake/runs/<run_id>``.
    manifest
        The manifest (also in ``manifest.json``).
    totals
        The aggregates stored with the run: ``totals`` and ``scope3_by_category`` [t CO2e].
    """

    run_id: str
    folder: Path
    manifest: dict[str, Any]
    totals: dict[str, Any]

    @property
    def line_items_path(self) -> Path:
        return self.folder / LINE_ITEMS_FILE

    def line_items(self, columns: list[str] | None = None) -> pa.Table:
        """The line items as an Arrow table in the canonical order (batch, row, line kind).

        Reads the whole file: for small runs and tests; stream large runs with DuckDB over
        :attr:`line_items_path` (whose physical order is not significant).
        """
        from esgledger.inventory.engine import LINE_KINDS

        table = pq.read_table(self.line_items_path)
        rank = pc.index_in(table.column("line_kind"), value_set=pa.array(LINE_KINDS))
        ordered = (
            table.append_column("_rank", rank)
            .sort_by(
                [("batch_id", "ascending"), ("row_number", "ascending"), ("_rank", "ascending")]
            )
            .drop_columns(["_rank"])
        )
        return ordered.select(columns) if columns is not None else ordered


def _sha256_json(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _file_sha256(path: Path) -> str:
    """sha256 of a file, read in chunks (a 100 M-row line-item file does not fit in memory
    whole)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _shipped_set_sha256(set_id: str) -> str | None:
    entry = resources.files("esgledger.data.factors").joinpath(f"{set_id}.csv")
    if not entry.is_file():
        return None
    return hashlib.sha256(entry.read_bytes()).hexdigest()


def _factor_sets(library: FactorLibrary, user_sets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every set of the library with the sha256 of its content."""
    by_id = {s["id"]: s for s in user_sets}
    table = library.as_arrow()
    out: list[dict[str, Any]] = []
    for record in library.sets():
        entry = {
            key: record[key] for key in ("id", "name", "edition", "precedence", "shipped", "rows")
        }
        if record["shipped"]:
            entry["sha256"] = _shipped_set_sha256(str(record["id"]))
        else:
            rows = table.filter(pc.equal(table.column("factor_set"), record["id"]))
            ordered = sorted(rows.to_pylist(), key=lambda r: str(r["factor_id"]))
            entry["sha256"] = _sha256_json(ordered)
            user = by_id.get(record["id"])
            entry["file_sha256"] = user["content_hash"] if user else None
        out.append(entry)
    return out


def _options(
    strict: Strictness | None,
    allow_unresolved: bool,
    category_3: bool,
    proxies: Mapping[str, tuple[str, ...]],
    price_basis: str,
    category_3_proxies: bool = False,
    gas_volume_reference: str | None = None,
    fallbacks: Sequence[Fallback] = (),
) -> dict[str, Any]:
    return {
        "strict": None
        if strict is None
        else {"max_tier": strict.max_tier, "max_vintage_gap": strict.max_vintage_gap},
        "allow_unresolved": allow_unresolved,
        "category_3": category_3,
        "proxies": {key: list(codes) for key, codes in proxies.items()},
        "category_3_proxies": category_3_proxies,
        "price_basis": price_basis,
        "gas_volume_reference": gas_volume_reference,
        "fallbacks": [f.as_dict() for f in fallbacks],
    }


def _deflator_sources() -> dict[str, Any]:
    """The shipped price indexes: per country its series, source and licence."""
    from esgledger import deflators

    out: dict[str, Any] = {}
    for country in sorted(set(deflators.as_arrow().column("country").to_pylist())):
        meta = deflators.meta(country)
        out[country] = {
            "id": meta.get("id"),
            "source": meta.get("source"),
            "licence": meta.get("licence"),
            "attribution": meta.get("attribution"),
        }
    return out


@dataclass(slots=True)
class PreparedRun:
    """Everything a run needs, gathered from the workspace, before anything is computed."""

    workspace: Workspace
    manifest: dict[str, Any]
    activity_files: list[Path]
    entities: list[dict[str, Any]]
    sites: list[dict[str, Any]]
    shares: dict[str, float]
    taxonomy: Taxonomy
    library: FactorLibrary
    fx: FxTable
    strict: Strictness | None
    allow_unresolved: bool
    category_3: bool = True
    proxies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    price_basis: str = "purchaser"
    category_3_proxies: bool = False
    gas_volume_reference: str | None = None
    fallbacks: tuple[Fallback, ...] = ()
    investments: dict[str, float] = field(default_factory=dict)

    def execute(
        self,
        *,
        threads: int | None = None,
        principal: Principal | None = None,
        progress: Progress | None = None,
    ) -> Run:
        """Compute the line items, write the run to the lake and register it, with the audit
        event ``run.calculate`` of ``principal`` (None: :meth:`Principal.local`) in the
        registering transaction.

        ``progress`` (:data:`esgledger.inventory.engine.Progress`) hears each stage; when it
        raises, the temporary folder is removed and nothing is registered. Its last call,
        ``registering``, comes before the write lock: after it the run is registered."""
        from esgledger import audit
        from esgledger.ingest.batches import pause_at
        from esgledger.inventory.engine import compute_line_items
        from esgledger.store.repository import load_run, save_run

        ws = self.workspace
        created = datetime.now(UTC)
        runs_dir = ws.lake / RUNS_DIR
        run_id, tmp = self._reserve_id(runs_dir, created)
        final = runs_dir / run_id
        try:
            pause_at("run-id")
            result = compute_line_items(
                activity_files=self.activity_files,
                entities=self.entities,
                sites=self.sites,
                shares=self.shares,
                taxonomy=self.taxonomy,
                library=self.library,
                fx=self.fx,
                year=ws.reporting_year,
                gwp_set=self.manifest["gwp_set"],
                run_id=run_id,
                out=tmp / LINE_ITEMS_FILE,
                strict=self.strict,
                allow_unresolved=self.allow_unresolved,
                category_3=self.category_3,
                threads=threads,
                proxies=self.proxies,
                price_basis=self.price_basis,
                category_3_proxies=self.category_3_proxies,
                gas_volume_reference=self.gas_volume_reference,
                fallbacks=self.fallbacks,
                investments=self.investments,
                progress=progress,
            )
            if progress is not None:
                progress("summary", 80)
            lines_path = tmp / LINE_ITEMS_FILE
            check_line_ceiling(lines_path)
            aggregates = aggregate(lines_path)
            market = self._market(run_id, tmp)
            manifest = {
                "run_id": run_id,
                "created_at": created.isoformat(),
                **self.manifest,
                "counts": result.counts,
                "factor_sets_used": result.factor_sets_used,
                "deflators": {"used": result.deflators, "sources": _deflator_sources()},
                "double_counting": result.double_counting,
                "overlaps": result.overlaps,
                "warnings": [*result.warnings, *market["warnings"]],
                "line_items": f"{RUNS_DIR}/{run_id}/{LINE_ITEMS_FILE}",
                "line_items_sha256": _file_sha256(lines_path),
                "market_based": market,
            }
            totals = {
                "unit": "t CO2e",
                "totals": {
                    **aggregates["totals"],
                    "scope2_market": market["electricity_t"] + market["other_scope2_t"],
                },
                "scope3_by_category": aggregates["scope3_by_category"],
            }
            (tmp / MANIFEST_FILE).write_text(
                json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n",
                encoding="utf-8",
            )
            if progress is not None:
                progress("registering", 95)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        # The folder is renamed and the row committed under the workspace's write lock, so
        # `esgledger doctor` never sees one without the other unless a process was killed.
        renamed = False
        try:
            with ws.write_lock() as session:
                if load_run(session, run_id) is not None or final.exists():  # pragma: no cover
                    raise WorkspaceError(f"run {run_id} already exists")  # the id is reserved
                tmp.rename(final)
                renamed = True
                (final / OWNER_FILE).unlink()
                save_run(
                    session,
                    {
                        "id": run_id,
                        "created_at": created,
                        "reporting_year": ws.reporting_year,
                        "gwp_set": manifest["gwp_set"],
                        "consolidation": manifest["consolidation"],
                        "input_hash": manifest["input_hash"],
                        "manifest": json.loads(json.dumps(manifest, default=str)),
                        "totals": totals,
                    },
                )
                audit.record(
                    session,
                    principal if principal is not None else Principal.local(),
                    "run.calculate",
                    "run",
                    run_id,
                    after=audit.digest(totals),
                    detail={
                        "input_hash": manifest["input_hash"],
                        "line_items_sha256": manifest["line_items_sha256"],
                        "preview": manifest["preview"],
                        "included_statuses": manifest["included_statuses"],
                        "batches": [b["id"] for b in manifest["batches"]],
                    },
                )
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            if renamed:
                _remove_unregistered(ws, run_id, final)
            raise
        return Run(run_id=run_id, folder=final, manifest=manifest, totals=totals)

    def _market(self, run_id: str, folder: Path) -> dict[str, Any]:
        """Market-based scope 2 of the run's line items in ``folder``
        (:func:`esgledger.inventory.market.market_based`, which writes
        ``market_based.parquet`` there): the manifest's ``market_based`` section."""
        from esgledger.inventory.market import market_based, market_manifest

        provisional = Run(run_id=run_id, folder=folder, manifest=self.manifest, totals={})
        return market_manifest(market_based(self.workspace, provisional))

    def _reserve_id(self, runs_dir: Path, created: datetime) -> tuple[str, Path]:
        """A run id no other run has or is computing, and its temporary folder.

        The id is reserved by creating ``.tmp-<run id>`` (``mkdir`` fails when it exists), so
        two runs of the same inputs in the same second, in two processes, get two ids
        (``…Z`` and ``…Z-2``). The folder holds :data:`OWNER_FILE` (the process id) until the
        run is complete, for ``esgledger doctor``.
        """
        from esgledger.store.repository import load_run

        runs_dir.mkdir(parents=True, exist_ok=True)
        base = f"r-{self.manifest['input_hash'][:12]}-{created:%Y%m%dT%H%M%SZ}"
        with self.workspace.session() as session:
            for n in range(1, 10_000):
                candidate = base if n == 1 else f"{base}-{n}"
                if (runs_dir / candidate).exists() or load_run(session, candidate) is not None:
                    continue
                tmp = runs_dir / f"{TMP_PREFIX}{candidate}"
                try:
                    tmp.mkdir()
                except FileExistsError:
                    continue
                # Another run may have finished (renamed its .tmp- folder) between the look
                # and the mkdir: then the id is its, not ours.
                if (runs_dir / candidate).exists() or load_run(session, candidate) is not None:
                    tmp.rmdir()
                    continue
                (tmp / OWNER_FILE).write_text(f"{os.getpid()}\n", encoding="utf-8")
                return candidate, tmp
        raise WorkspaceError(f"no free run id for {base} in {runs_dir}")  # pragma: no cover


def _remove_unregistered(workspace: Workspace, run_id: str, folder: Path) -> None:
    """Remove the folder of a run whose row did not commit, unless the row is there after
    all; under the write lock. When even that fails the folder stays for ``doctor``."""
    from esgledger.store.repository import load_run

    try:
        with workspace.write_lock() as session:
            if load_run(session, run_id) is None:
                shutil.rmtree(folder, ignore_errors=True)
    except Exception:  # the original error matters more; doctor cleans up
        return


def _investments(
    entities: Sequence[Mapping[str, Any]], shares: Mapping[str, EntityShare], approach: str
) -> dict[str, EntityShare]:
    """Under a control approach, the entities outside the boundary (0 %) in which the group
    holds equity, with their equity share: their scope 1 and 2 emissions times that share
    are scope 3 category 15 (GHG Protocol Scope 3 Standard (2011) Table 5.4, category 15,
    equity investments). Under the equity share approach there are none."""
    from esgledger.boundary import consolidation_shares

    if approach == "equity_share":
        return {}
    equity = consolidation_shares(entities, "equity_share")
    return {
        code: equity[code]
        for code, share in shares.items()
        if share.share == 0 and code in equity and equity[code].share > 0
    }


def _parsed_setting(
    parse: Callable[[_S], _T],
    value: _S,
    *,
    setting: str,
    shown: str,
    fix: str,
    start: str = "",
    end: str = "",
) -> _T:
    """``parse(value)``, its ValueError raised as an InputError on the run setting ``setting``
    (message ``start`` + the error + ``end``; one issue: the value as ``shown``, the error,
    ``fix``)."""
    try:
        return parse(value)
    except ValueError as exc:
        raise InputError(
            f"{start}{exc}{end}", [Issue("", None, setting, shown, str(exc), fix)]
        ) from exc


def prepare_run(
    workspace: Workspace,
    *,
    gwp_set: str,
    consolidation: str,
    strict: Strictness | None,
    allow_unresolved: bool,
    category_3: bool = True,
    proxies: Mapping[str, Sequence[str] | str] | None = None,
    price_basis: str = "purchaser",
    category_3_proxies: bool | None = None,
    gas_volume_reference: str | None = None,
    fallbacks: Sequence[Fallback | Mapping[str, Any]] | None = None,
    include: Sequence[str] = (),
) -> PreparedRun:
    """Gather a run's inputs from the workspace and build its manifest (without results).

    Only ``approved`` activity batches enter the run; ``include`` adds other statuses (only
    ``submitted``: a *preview* run, ``"preview": true`` in the manifest). The manifest lists
    the batches used (``batches``: id, file, content hash, rows, status, the batches each
    supersedes) and those left out with why (``excluded_batches``: status, reason, who, when,
    the superseding batch), which :func:`esgledger.inventory.diff.diff_runs` names.

    ``proxies`` None means the workspace's ``[factors] proxies``
    (:attr:`~esgledger.store.Workspace.factor_proxies`); ``category_3_proxies`` None the
    workspace's ``[factors] category_3_proxies`` (default false: proxies price primary
    lines only); ``fallbacks`` None the workspace's ``[[factors.fallbacks]]`` (the
    profile's explicit, flagged fallbacks); the proxies, fallbacks, whether they reach
    category 3, and the price basis used are recorded in the manifest's options.

    Raises
    ------
    InputError
        If the GWP set, the consolidation approach, the proxies or the price basis are not
        valid, or the group structure cannot be consolidated.
    WorkspaceError
        If the workspace has no activity data.
    """
    from esgledger.boundary import ConsolidationApproach, consolidation_shares
    from esgledger.factors.library import FactorLibrary
    from esgledger.factors.resolve import PRICE_BASES, parse_fallbacks, parse_proxies
    from esgledger.fuels import parse_gas_reference
    from esgledger.fx import FxTable
    from esgledger.store.repository import (
        load_activity_types,
        load_batches,
        load_entities,
        load_factor_sets,
        load_fx_rates,
        load_sites,
    )
    from esgledger.store.repository_renewables import load_allocations, load_instruments
    from esgledger.taxonomy import Taxonomy

    chosen = str(gwp_set).strip().upper()
    if chosen not in gwp.GWP_SETS:
        raise InputError(
            f"Unknown GWP set {gwp_set!r}: choose one of {', '.join(gwp.GWP_SETS)}.",
            [Issue("", None, "gwp_set", str(gwp_set), "unknown GWP set", "AR4, AR5 or AR6")],
        )
    basis = str(price_basis).strip().lower()
    if basis not in PRICE_BASES:
        raise InputError(
            f"Unknown price basis {price_basis!r}: choose one of {', '.join(PRICE_BASES)}.",
            [
                Issue(
                    "", None, "price_basis", str(price_basis), "unknown price basis",
                    "purchaser (spend as paid) or producer",
                )
            ],
        )  # fmt: skip
    if proxies is None:
        proxy_map = workspace.factor_proxies
    else:
        proxy_map = _parsed_setting(
            parse_proxies,
            proxies,
            setting="proxies",
            shown=str(dict(proxies)),
            fix='region code → proxy regions, e.g. {"CN": ["GB", "US"]}',
            start="Invalid proxies: ",
        )
    if fallbacks is None:
        profile_fallbacks = workspace.factor_fallbacks
    else:
        profile_fallbacks = _parsed_setting(
            parse_fallbacks,
            fallbacks,
            setting="fallbacks",
            shown=str(list(fallbacks)),
            fix="see rule 12",
            start="Invalid fallbacks: ",
        )
    statuses = _included_statuses(include)
    with workspace.session() as session:
        registered = [
            b for b in load_batches(session) if b.kind == "activities" and b.lake_path is not None
        ]
        batches = [b for b in registered if b.status in statuses]
        left_out = [b for b in registered if b.status not in statuses]
        entities = load_entities(session)
        sites = load_sites(session)
        activity_types = load_activity_types(session)
        fx_rows = load_fx_rates(session)
        user_sets = load_factor_sets(session)
        instruments = load_instruments(session)
        allocations = load_allocations(session)
    if not batches:
        waiting = sum(1 for b in left_out if b.status == "submitted")
        raise WorkspaceError(
            f"workspace {workspace.root} has no {' or '.join(statuses)} activity data to "
            "calculate; import some with `esgledger import WS FILE --kind activities`"
            + (
                f" ({waiting} submitted batch(es) await approval: `esgledger calculate WS "
                "--include submitted` makes a preview run with them)"
                if waiting and "submitted" not in statuses
                else ""
            )
        )
    shares = consolidation_shares(entities, consolidation)
    approach = ConsolidationApproach(str(consolidation).strip().lower()).value
    investments = _investments(entities, shares, approach)
    taxonomy = Taxonomy.for_workspace(workspace)
    library = FactorLibrary.for_workspace(workspace)
    fx = FxTable.for_workspace(workspace)
    files = [workspace.lake / str(b.lake_path) for b in batches]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise WorkspaceError(
            f"activity batches are missing from the lake: {', '.join(missing[:3])}"
            + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
            + f"; `esgledger doctor {workspace.root} --repair` unregisters them so that their "
            "files can be imported again (or restore the lake from a backup)"
        )

    inputs = {
        "activity_batches": [
            {
                "id": b.id,
                "content_hash": b.content_hash,
                "row_count": b.row_count,
            }
            for b in batches
        ],
        "factor_sets": _factor_sets(library, user_sets),
        "reference_data": {
            "entities_sha256": _sha256_json(entities),
            "sites_sha256": _sha256_json(sites),
            "activity_types_sha256": _sha256_json(activity_types),
            "fx_rates_sha256": _sha256_json(fx_rows),
            "deflators_sha256": _sha256_json(_deflator_rows()),
            # Market-based scope 2: the instrument register and the allocations stored for
            # other years (``esgledger green re --save``), which are not available again.
            "instruments_sha256": _sha256_json(instruments),
            "instrument_allocations_sha256": _sha256_json(allocations),
        },
    }
    derived_proxies = (
        workspace.category_3_proxies if category_3_proxies is None else bool(category_3_proxies)
    )
    gas_reference = gas_volume_reference or workspace.gas_volume_reference
    if gas_reference is not None:
        gas_reference = _parsed_setting(
            parse_gas_reference,
            gas_reference,
            setting="gas_volume_reference",
            shown=str(gas_reference),
            fix="0C",
            end=".",
        )
    options = _options(
        strict,
        allow_unresolved,
        category_3,
        proxy_map,
        basis,
        derived_proxies,
        gas_volume_reference=gas_reference,
        fallbacks=profile_fallbacks,
    )
    hashed = {
        "esgledger_version": __version__,
        "reporting_year": workspace.reporting_year,
        "gwp_set": chosen,
        "consolidation": str(approach),
        "options": options,
        "inputs": inputs,
    }
    input_hash = _sha256_json(hashed)
    manifest: dict[str, Any] = {
        "esgledger_version": __version__,
        "reporting_year": workspace.reporting_year,
        "gwp_set": chosen,
        "gwp_source": gwp.provenance(chosen),
        "consolidation": str(approach),
        "options": options,
        "input_hash": input_hash,
        "inputs": inputs,
        "batch_files": {b.id: b.file_name for b in batches},
        "preview": "submitted" in statuses,
        "included_statuses": list(statuses),
        "batches": _used_batches(batches, registered),
        "excluded_batches": [_left_out(b) for b in left_out],
        # Each entity once: its parent and its effective share; the reason names the path
        # shortened (esgledger.boundary), so the manifest grows with the number of entities,
        # not with the depth of the tree (the chain is rebuilt from the parents).
        "consolidation_shares": {
            code: {
                "share": s.share,
                "parent": s.path[-2] if len(s.path) > 1 else None,
                "reason": s.reason,
                "reason_zh": s.reason_zh,
            }
            for code, s in shares.items()
        },
        "category_15_investments": {
            code: {"equity_share": s.share, "reason": s.reason, "reason_zh": s.reason_zh}
            for code, s in investments.items()
        },
    }
    return PreparedRun(
        workspace=workspace,
        manifest=manifest,
        activity_files=files,
        entities=entities,
        sites=sites,
        shares={code: s.share for code, s in shares.items()},
        investments={code: s.share for code, s in investments.items()},
        taxonomy=taxonomy,
        library=library,
        fx=fx,
        strict=strict,
        allow_unresolved=allow_unresolved,
        category_3=category_3,
        proxies=proxy_map,
        price_basis=basis,
        category_3_proxies=derived_proxies,
        gas_volume_reference=gas_reference,
        fallbacks=profile_fallbacks,
    )


#: Batch statuses a run may include besides ``approved`` (``calculate --include``).
INCLUDABLE_STATUSES: tuple[str, ...] = ("submitted",)


def _included_statuses(include: Sequence[str]) -> tuple[str, ...]:
    extra = [str(s).strip().lower() for s in include]
    wrong = [s for s in extra if s not in INCLUDABLE_STATUSES]
    if wrong:
        raise InputError(
            f"a run can include {', '.join(INCLUDABLE_STATUSES)} batches besides approved "
            f"ones, not {wrong[0]!r}",
            [
                Issue(
                    "", None, "include", wrong[0], "not an includable batch status",
                    ", ".join(INCLUDABLE_STATUSES),
                )
            ],
        )  # fmt: skip
    return ("approved", *dict.fromkeys(extra))


def _used_batches(batches: Sequence[ImportBatch], registered: Sequence[ImportBatch]) -> list[Any]:
    replaced: dict[str, list[str]] = {}
    for b in registered:
        if b.superseded_by is not None:
            replaced.setdefault(str(b.superseded_by), []).append(str(b.id))
    return [
        {
            "id": b.id,
            "file_name": b.file_name,
            "content_hash": b.content_hash,
            "row_count": b.row_count,
            "status": b.status,
            "imported_by": b.imported_by,
            "supersedes": sorted(replaced.get(str(b.id), [])),
        }
        for b in batches
    ]


def _left_out(b: ImportBatch) -> dict[str, Any]:
    return {
        "id": b.id,
        "file_name": b.file_name,
        "content_hash": b.content_hash,
        "row_count": b.row_count,
        "status": b.status,
        "reason": b.status_reason,
        "changed_by": b.status_changed_by,
        "changed_at": None if b.status_changed_at is None else b.status_changed_at.isoformat(),
        "superseded_by": b.superseded_by,
    }


def _deflator_rows() -> list[dict[str, Any]]:
    from esgledger import deflators

    rows: list[dict[str, Any]] = deflators.as_arrow().to_pylist()
    return rows


# ---- reading runs ------------------------------------------------------------------------


def _run_from_row(workspace: Workspace, row: Mapping[str, Any]) -> Run:
    folder = workspace.lake / RUNS_DIR / str(row["id"])
    if not (folder / LINE_ITEMS_FILE).is_file():
        raise WorkspaceError(
            f"run {row['id']} is registered but its line items are missing from the lake "
            f"({folder / LINE_ITEMS_FILE})"
        )
    return Run(
        run_id=str(row["id"]),
        folder=folder,
        manifest=dict(row["manifest"]),
        totals=dict(row["totals"]),
    )


def load_run(workspace: Workspace, run_id: str | None = None) -> Run:
    """The run ``run_id`` of the workspace, or its latest run.

    Raises
    ------
    WorkspaceError
        If there is no such run (or no run at all).
    """
    from esgledger.store.repository import load_run as load_run_row

    with workspace.session() as session:
        row = load_run_row(session, run_id)
    if row is None:
        if run_id is None:
            raise WorkspaceError(
                f"workspace {workspace.root} has no inventory run yet; run "
                "`esgledger calculate WS` first"
            )
        raise WorkspaceError(f"workspace {workspace.root} has no run {run_id!r}")
    return _run_from_row(workspace, row)


def list_runs(workspace: Workspace) -> list[dict[str, Any]]:
    """The registered runs (id, created_at, reporting_year, gwp_set, consolidation,
    input_hash, totals, and ``preview``: whether it included unapproved batches), oldest
    first."""
    from esgledger.store.repository import load_runs

    with workspace.session() as session:
        rows = load_runs(session)
    return [
        {
            **{k: v for k, v in row.items() if k != "manifest"},
            "preview": bool((row.get("manifest") or {}).get("preview", False)),
        }
        for row in rows
    ]


# ---- aggregates --------------------------------------------------------------------------


def _t(kg: Decimal) -> float:
    """[kg] as an exact decimal → [t] as a float."""
    return float(kg / _KG_PER_T)


class LineCeilingError(InputError):
    """A run refused because a line's CO2e is not finite or beyond the line ceiling (the CLI
    exits with 2: the input is refused, nothing is written)."""


def check_line_ceiling(line_items: Path) -> None:
    """Refuse a run with a line whose CO2e or biogenic CO2 is not finite or larger than
    :data:`esgledger.ingest.values_guard.LINE_CEILING_KG`, naming the batch and row.

    The import bounds keep every direct quantity x factor product within that ceiling; a fuel
    converted across dimensions or spend at extreme exchange rates can still pass it. Without
    this check the ``DECIMAL(38, 9)`` sums of :func:`aggregate` would fail with a cast error
    (``docs/hardening/values.md``).

    Raises
    ------
    LineCeilingError
        Listing the offending lines (exit 2); nothing is written.
    """
    from esgledger.ingest.values_guard import LINE_CEILING_KG

    path = "'" + str(line_items).replace("'", "''") + "'"
    bad = (
        f"NOT isfinite(co2e_kg) OR abs(co2e_kg) > {LINE_CEILING_KG!r} "
        f"OR NOT isfinite(coalesce(biogenic_co2_kg, 0)) "
        f"OR abs(coalesce(biogenic_co2_kg, 0)) > {LINE_CEILING_KG!r}"
    )
    con = connect()
    try:
        rows = con.execute(
            f"SELECT batch_id, row_number, activity, co2e_kg, count(*) OVER () "
            f"FROM read_parquet({path}) WHERE NOT excluded AND ({bad}) "
            "ORDER BY batch_id, row_number LIMIT 20"
        ).fetchall()
    finally:
        con.close()
    if not rows:
        return
    issues = [
        Issue(
            str(batch),
            int(row),
            "quantity",
            None,
            f"activity {activity}: {float(co2e):.3g} kg CO2e on one line is beyond the "
            f"{LINE_CEILING_KG:g} kg a line may hold",
            "check the row's quantity and unit, its factor and the exchange rate of the year",
        )
        for batch, row, activity, co2e, _ in rows
    ]
    raise LineCeilingError(
        f"the calculation was refused: {int(rows[0][-1])} line(s) beyond {LINE_CEILING_KG:g} "
        f"kg CO2e (first: batch {rows[0][0]}, row {rows[0][1]}); nothing was written",
        issues,
        int(rows[0][-1]),
    )


def aggregate(line_items: Path) -> dict[str, Any]:
    """Totals and breakdowns of a line-item file [t CO2e, consolidated].

    Each line's consolidated CO2e and biogenic CO2 are rounded to 1 µg and summed as exact
    decimals, so the result does not depend on summation order. Excluded lines count zero.

    Returns
    -------
    dict
        ``totals``, ``scope3_by_category``, ``by_entity``, ``by_site``, ``data_quality``.
    """
    scale = f"DECIMAL(38, {_SUM_SCALE})"
    path = "'" + str(line_items).replace("'", "''") + "'"
    con = connect()
    try:
        grouped = con.execute(
            f"""
            SELECT scope, scope3_category, entity, coalesce(site, '{_NO_SITE}') AS site,
                tier, vintage_gap, any_value(consolidation_share) AS share,
                sum(CAST(co2e_kg_consolidated AS {scale})) AS co2e,
                sum(CAST(biogenic_co2_kg * consolidation_share AS {scale})) AS bio,
                sum(CAST(CASE WHEN line_kind = 'investment' THEN 0 ELSE co2e_kg END
                         AS {scale})) AS gross
            FROM read_parquet({path})
            WHERE NOT excluded
            GROUP BY ALL
            ORDER BY ALL
            """
        ).fetchall()
    finally:
        con.close()
    zero = Decimal(0)
    scope_key = {1: "scope1", 2: "scope2_location", 3: "scope3"}
    totals = dict.fromkeys(("scope1", "scope2_location", "scope3", "biogenic_co2"), zero)
    categories = dict.fromkeys(SCOPE3_CATEGORIES, zero)
    by_entity: dict[str, dict[str, Any]] = {}
    by_site: dict[str, dict[str, Decimal]] = {}
    by_tier: dict[str, Decimal] = {}
    by_gap: dict[str, Decimal] = {}
    for scope, category, entity, site, tier, gap, share, co2e, bio, gross in grouped:
        co2e = co2e if co2e is not None else zero
        bio = bio if bio is not None else zero
        gross = gross if gross is not None else zero
        key = scope_key[int(scope)]
        totals[key] += co2e
        totals["biogenic_co2"] += bio
        if int(scope) == 3 and category is not None:
            categories[str(int(category))] += co2e
        entry = by_entity.setdefault(
            entity,
            {"consolidation_share": float(share), **dict.fromkeys(scope_key.values(), zero)},
        )
        entry.setdefault("biogenic_co2", zero)
        entry.setdefault("total_gross", zero)
        entry[key] += co2e
        entry["biogenic_co2"] += bio
        entry["total_gross"] += gross
        site_entry = by_site.setdefault(
            site, dict.fromkeys((*scope_key.values(), "biogenic_co2"), zero)
        )
        site_entry[key] += co2e
        site_entry["biogenic_co2"] += bio
        by_tier[str(tier)] = by_tier.get(str(tier), zero) + co2e
        by_gap[str(gap)] = by_gap.get(str(gap), zero) + co2e
    total = totals["scope1"] + totals["scope2_location"] + totals["scope3"]

    def tonnes(values: Mapping[str, Any]) -> dict[str, Any]:
        return {k: (_t(v) if isinstance(v, Decimal) else v) for k, v in values.items()}

    def shares(values: Mapping[str, Decimal]) -> dict[str, dict[str, float | None]]:
        return {
            k: {"co2e_t": _t(v), "share": float(v / total) if total else None}
            for k, v in sorted(values.items(), key=lambda kv: kv[0])
        }

    entity_out = {}
    for code, entry in sorted(by_entity.items()):
        entry["total"] = entry["scope1"] + entry["scope2_location"] + entry["scope3"]
        entity_out[code] = tonnes(entry)
    site_out = {}
    for code, site_entry in sorted(by_site.items()):
        site_total = site_entry["scope1"] + site_entry["scope2_location"] + site_entry["scope3"]
        site_out[code] = tonnes({**site_entry, "total": site_total})
    return {
        "totals": tonnes({**totals, "total": total}),
        "scope3_by_category": tonnes(categories),
        "by_entity": entity_out,
        "by_site": site_out,
        "data_quality": {
            "basis": "share of consolidated CO2e (scopes 1, 2 location-based and 3)",
            "by_tier": shares(by_tier),
            "by_vintage_gap": shares(by_gap),
        },
    }


def summary(run: Run) -> dict[str, Any]:
    """The inventory of a run as the JSON contract of the module docstring.

    ``data_quality`` is :func:`esgledger.inventory.quality.data_quality_summary` of the line
    items (the Scope 3 Standard's five indicators, emission-weighted, overall, by scope and
    by scope 3 category; GHG Protocol Scope 3 Standard Table 7.6 and Box 7.2) plus the
    shares of consolidated CO2e ``by_tier`` and ``by_vintage_gap`` (their basis in
    ``shares_basis``). ``scope3_completeness`` lists all fifteen categories with ``status``
    ``reported`` or ``not reported`` (Scope 3 Standard ch. 6 and 11), their names, lines and
    CO2e [t].
    """
    from esgledger.inventory.market import add_market_to_summary, load_market
    from esgledger.inventory.quality import data_quality_summary, scope3_completeness

    aggregates = aggregate(run.line_items_path)
    shares = aggregates["data_quality"]
    quality = data_quality_summary(run.line_items_path)
    quality["shares_basis"] = shares["basis"]
    quality["by_tier"] = shares["by_tier"]
    quality["by_vintage_gap"] = shares["by_vintage_gap"]
    completeness = {
        row.pop("category"): row for row in scope3_completeness(run.line_items_path).to_pylist()
    }
    out: dict[str, Any] = {
        "unit": "t CO2e",
        "totals": aggregates["totals"],
        "scope3_by_category": aggregates["scope3_by_category"],
        "by_entity": aggregates["by_entity"],
        "by_site": aggregates["by_site"],
        "data_quality": quality,
        "scope3_completeness": completeness,
        "counts": run.manifest.get("counts", {}),
        "warnings": run.manifest.get("warnings", []),
        "run": run.manifest,
    }
    market = load_market(run)
    return out if market is None else add_market_to_summary(out, market)
