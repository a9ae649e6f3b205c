"""Build the demo workspace end to end: the main job on the embedded default.

``esgledger demo`` calls :func:`build_demo`. It (re)creates the workspace folder, writes the
synthetic input files into ``<workspace>/inputs``, imports them through the same importers a
user would use (entities, sites, a supplier factor, three activity files, the green-power
register, published history, targets, abatement measures, carbon credits and retirements),
checks which factor every kind of activity resolves to, then runs the steps of
:data:`DEMO_STEPS` in order: write and import the data centres' synthetic telemetry (meter
trees, a year of 15-minute readings, hourly weather; :mod:`esgledger.demo.telemetry`),
calculate the inventory
(:func:`esgledger.inventory.engine.calculate`), add market-based scope 2 and the renewable
share (:mod:`esgledger.inventory.market`), match the solar PPA hour by hour, track the
targets (:func:`esgledger.targets.service.target_status`), plan the abatement
(:func:`esgledger.targets.service.plan`) and write the group's ESG report in English and
Chinese, HTML and PDF (:func:`esgledger.report.builder.build_report`) into
``<workspace>/reports/<year>/``.

**Extending the demo.** A step is ``(message, function)``; the function receives the open
workspace, the :class:`DemoSummary` (to record its result, in a field or in
``summary.extras``) and the :class:`~esgledger.demo.data.DemoFiles`. Append a step to
:data:`DEMO_STEPS` (or pass ``steps=[*DEMO_STEPS, step]`` to :func:`build_demo`) to add one,
as the report step was added after the plan.

**The data are synthetic** (:mod:`esgledger.demo.data`), shaped so that the inventory
resembles the published 2021 profile of the reference company (DESIGN.md: scope 1 ≈ 0.02 Mt,
scope 2 ≈ 2.35 Mt, scope 3 ≈ 2.74 Mt, total ≈ 5.1 Mt CO2e). No Chinese factors exist for
travel, commuting, freight, waste, water or spend, so the demo workspace configures proxy
regions (``[factors] proxies = { CN = ["GB", "US"], "*" = ["GB"] }``): the UK DESNZ factors,
then the US ones, stand in for them, and every such line carries tier ``proxy``.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from esgledger.demo.data import DEMO_SEED, DEMO_YEAR, DemoFiles, write_demo_inputs
from esgledger.demo.platform import DemoAccount, add_demo_accounts, add_demo_campaign
from esgledger.errors import EsgledgerError, FactorNotFoundError, WorkspaceError
from esgledger.ingest import ImportResult
from esgledger.inventory.market import MarketResult, market_based
from esgledger.inventory.runs import summary as inventory_summary

if TYPE_CHECKING:
    from esgledger.inventory.runs import Run
    from esgledger.report.builder import ReportResult
    from esgledger.store import Workspace
    from esgledger.targets.service import PlanResult, TargetStatus

__all__ = [
    "DEMO_PROXIES_TOML",
    "DEMO_STEPS",
    "DemoStep",
    "DemoSummary",
    "ExcludedLines",
    "PpaMatch",
    "ResolvedCombination",
    "TelemetryStep",
    "build_demo",
    "ppa_match",
]

DEMO_MARKER = ".esgledger-demo"
#: The ``[factors]`` table the demo adds to its ``esgledger.toml``.
DEMO_PROXIES_TOML = """
[factors]
# No Chinese factors exist for travel, commuting, freight, waste, water or spend: use the UK
# DESNZ factors, then the US ones, as flagged proxies (tier "proxy" on each line).
proxies = { CN = ["GB", "US"], "*" = ["GB"] }
"""


@dataclass(frozen=True, slots=True)
class ResolvedCombination:
    """How one (activity, region, unit) combination of the demo data resolves."""

    activity: str
    region: str
    unit: str
    supplier: str | None
    rows: int
    factor_id: str | None
    tier: str | None
    vintage_gap: int | None
    source: str | None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class ExcludedLines:
    """Activity rows the run could not price (only when some key has no factor at all)."""

    lines: int
    reason: str


@dataclass(frozen=True, slots=True)
class PpaMatch:
    """Annual versus hourly matching of the demo's solar PPA (GHG Protocol Scope 2 Guidance
    annual matching; Google 24/7 CFE hourly matching without grid credit).

    ``load_mwh`` and ``supply_mwh`` [MWh over the year]; ``volumetric`` = min(1, supply /
    load) and ``hourly`` = Σ min(load_h, supply_h) / Σ load_h [fractions 0-1].
    """

    site: str
    load_mwh: float
    supply_mwh: float
    volumetric: float
    hourly: float


@dataclass(slots=True)
class DemoSummary:
    """What :func:`build_demo` did.

    ``inventory`` is the run's summary (:func:`esgledger.inventory.runs.summary`) with
    market-based scope 2 and the renewable share added
    (read back from the run's stored ``market_based.parquet``); ``excluded`` lists the rows
    left without a factor (empty when every row resolved); ``market`` is the market-based
    result; ``ppa`` the annual-versus-hourly matching of the solar PPA.
    """

    workspace: Path
    year: int
    imports: list[ImportResult] = field(default_factory=list)
    seed: int = DEMO_SEED
    resolutions: list[ResolvedCombination] = field(default_factory=list)
    run_id: str | None = None
    inventory: dict[str, Any] | None = None
    excluded: list[ExcludedLines] = field(default_factory=list)
    market: MarketResult | None = None
    ppa: PpaMatch | None = None
    targets: TargetStatus | None = None
    plan: PlanResult | None = None
    report: ReportResult | None = None
    accounts: list[DemoAccount] = field(default_factory=list)
    campaign: dict[str, Any] | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def unresolved(self) -> list[ResolvedCombination]:
        return [r for r in self.resolutions if r.factor_id is None]


def _prepare_folder(root: Path) -> None:
    """Remove an earlier demo workspace; refuse to touch any other folder."""
    if not root.exists():
        return
    if (root / DEMO_MARKER).exists():
        shutil.rmtree(root)
        return
    if root.is_dir() and not any(root.iterdir()):
        root.rmdir()
        return
    raise WorkspaceError(
        f"{root} exists and is not a demo workspace; refusing to overwrite it. "
        "Choose another folder with --workspace."
    )


def build_demo(
    root: Path | str = "esgledger-demo",
    *,
    seed: int = DEMO_SEED,
    year: int = DEMO_YEAR,
    progress: bool = True,
    on_step: Callable[[str], None] | None = None,
    database_url: str | None = None,
    schema: str | None = None,
    calculate: bool = True,
    steps: Sequence[DemoStep] | None = None,
) -> DemoSummary:
    """Create the demo workspace at ``root``, import the demo group into it and calculate
    its inventory.

    Re-running rebuilds the folder from scratch (only a folder an earlier demo created is
    ever deleted). ``database_url`` (and, for PostgreSQL, ``schema``) put the SQL side of the
    workspace on another database; the schema must be empty. ``calculate=False`` stops after
    the imports and the factor check; ``steps`` replaces :data:`DEMO_STEPS` (the steps after
    the imports).
    """
    from esgledger.ingest.importers import import_file
    from esgledger.store import Workspace
    from esgledger.store.workspace import CONFIG_FILE

    def step(message: str) -> None:
        if on_step is not None:
            on_step(message)

    root = Path(root)
    _prepare_folder(root)
    workspace = Workspace.init(
        root,
        year=year,
        name="Demo Tech Holdings (synthetic demo)",
        database_url=database_url,
        schema=schema,
    )
    (root / DEMO_MARKER).write_text(
        "This folder was created by `esgledger demo` and is rebuilt on every run.\n",
        encoding="utf-8",
    )
    # Proxy regions (rule 9 of docs/methodology/factor-resolution.md): no official Chinese
    # factors exist for air and rail travel, taxis, commuting, freight, waste, water or
    # spend; the demo uses DESNZ (GB), then EPA / USEEIO (US), as *flagged* proxies (tier
    # ``proxy`` on every line that uses one). The settings are read when a workspace opens.
    workspace.close()
    with (root / CONFIG_FILE).open("a", encoding="utf-8") as handle:
        handle.write(DEMO_PROXIES_TOML)
    workspace = Workspace.open(root)
    summary = DemoSummary(workspace=root, year=year, seed=seed)
    try:
        step("writing the demo input files")
        files = write_demo_inputs(root / "inputs", seed=seed, year=year)
        plan: list[tuple[str, Path]] = [
            ("entities", files.entities),
            ("sites", files.sites),
            ("factors", files.factors),
            *(("activities", path) for path in files.activity_files()),
            ("instruments", files.instruments),
            *files.ambition_files(),
            *files.disclosure_files(),
        ]
        for kind, path in plan:
            step(f"importing {kind}: {path.name}")
            summary.imports.append(import_file(workspace, kind, path, progress=progress))
        step("resolving factors for every kind of activity")
        summary.resolutions = resolve_combinations(workspace)
        if calculate:
            for message, run_step in DEMO_STEPS if steps is None else steps:
                step(message)
                run_step(workspace, summary, files)
    finally:
        workspace.close()
    return summary


DemoStep = tuple[str, Callable[["Workspace", DemoSummary, DemoFiles], None]]
"""One step after the imports: the message shown, and the function doing it."""


@dataclass(frozen=True, slots=True)
class TelemetryStep:
    """What the telemetry step did: the files written into ``inputs/telemetry``, the kinds
    it imported (``meters``, ``readings``, ``weather``) or left for later (a kind this
    esgledger does not import yet), rows and injected faults, and its time [s]."""

    folder: Path
    imported: tuple[str, ...]
    not_imported: tuple[str, ...]
    meters: int
    readings: int
    weather_hours: int
    faults: int
    generate_seconds: float
    import_seconds: float


def _step_telemetry(workspace: Workspace, summary: DemoSummary, _files: DemoFiles) -> None:
    """Write the data centres' synthetic telemetry (:mod:`esgledger.demo.telemetry`) into
    ``inputs/telemetry`` and import it: meters, then readings, then weather. Imported only
    when this esgledger has all three import kinds (else the files are written and the step
    says which kinds it left out)."""

    from esgledger.demo.telemetry import write_telemetry_inputs
    from esgledger.ingest.importers import KINDS, import_file

    folder = workspace.root / "inputs" / "telemetry"
    written = write_telemetry_inputs(folder, seed=summary.seed, year=summary.year)
    plan = written.imports()
    counts = (
        written.telemetry.meters.num_rows,
        written.telemetry.readings.num_rows,
        written.telemetry.weather.num_rows,
        len(written.telemetry.faults),
    )
    seconds = written.seconds
    del written  # the tables are in the files now: free them before the imports
    ready = all(kind in KINDS for kind, _ in plan)
    started = time.perf_counter()
    if ready:
        for kind, path in plan:
            summary.imports.append(import_file(workspace, kind, path))
    summary.extras["telemetry"] = TelemetryStep(
        folder=folder,
        imported=tuple(kind for kind, _ in plan) if ready else (),
        not_imported=() if ready else tuple(kind for kind, _ in plan if kind not in KINDS),
        meters=counts[0],
        readings=counts[1],
        weather_hours=counts[2],
        faults=counts[3],
        generate_seconds=seconds,
        import_seconds=time.perf_counter() - started,
    )


def _step_calculate(workspace: Workspace, summary: DemoSummary, _files: DemoFiles) -> None:
    run, summary.excluded = _calculate(workspace)
    summary.run_id = run.run_id


def _step_market(workspace: Workspace, summary: DemoSummary, _files: DemoFiles) -> None:
    # Every run stores its market-based scope 2 (market_based.parquet, read back by the
    # summary); the details (allocations, verdicts) are looked at without rewriting the
    # run's files.
    from esgledger.inventory.runs import load_run

    run = load_run(workspace, summary.run_id)
    summary.market = market_based(workspace, run, write=False)
    summary.inventory = inventory_summary(run)


def _step_ppa(_workspace: Workspace, summary: DemoSummary, files: DemoFiles) -> None:
    summary.ppa = ppa_match(files.hourly_load, files.hourly_supply)


def _step_targets(workspace: Workspace, summary: DemoSummary, _files: DemoFiles) -> None:
    from esgledger.targets.service import target_status

    summary.targets = target_status(workspace)


def _step_plan(workspace: Workspace, summary: DemoSummary, _files: DemoFiles) -> None:
    from esgledger.targets.service import plan

    summary.plan = plan(workspace, run_id=summary.run_id)


def _step_inclusion(workspace: Workspace, summary: DemoSummary, _files: DemoFiles) -> None:
    """Run the demo's carbon-inclusion programme (:mod:`esgledger.demo.inclusion`)."""
    from esgledger.demo.inclusion import run_programme

    demo = run_programme(workspace, seed=summary.seed, year=summary.year)
    summary.imports.append(demo.trips_import)
    summary.extras["inclusion"] = demo


def _step_report(workspace: Workspace, summary: DemoSummary, _files: DemoFiles) -> None:
    from esgledger.report.builder import build_report, default_out_dir

    out = default_out_dir(workspace, summary.run_id)  # WS/reports/<year>, as `esgledger report`
    summary.report = build_report(workspace, out, run_id=summary.run_id)


#: The steps after the imports, in order (append one to extend the demo).
def _step_accounts(workspace: Workspace, summary: DemoSummary, files: DemoFiles) -> None:
    summary.accounts = add_demo_accounts(workspace)
    summary.campaign = add_demo_campaign(
        workspace, files.energy, workspace.root / "inputs" / "submissions", year=summary.year
    )


DEMO_STEPS: list[DemoStep] = [
    (
        "data-centre telemetry: meter trees, a year of 15-minute readings and weather",
        _step_telemetry,
    ),
    ("calculating the inventory", _step_calculate),
    ("market-based scope 2: the green-power instruments of the run", _step_market),
    ("matching the solar PPA hour by hour", _step_ppa),
    ("targets: progress, SBTi checks, temperature score", _step_targets),
    ("abatement plan: scenario, MACC and residual gap", _step_plan),
    (
        "carbon inclusion: a month of transit trips settled into personal carbon accounts",
        _step_inclusion,
    ),
    ("writing the ESG report (English and Chinese, HTML and PDF)", _step_report),
    (
        "adding demo accounts (one per role) and a data-collection campaign in progress",
        _step_accounts,
    ),
]


def _calculate(workspace: Workspace) -> tuple[Run, list[ExcludedLines]]:
    """Calculate the inventory; only if some rows have no factor at all, calculate again
    with ``allow_unresolved=True`` and return those rows' count and reason (never silent)."""
    from esgledger.inventory.engine import calculate

    try:
        return calculate(workspace), []
    except FactorNotFoundError:
        run = calculate(workspace, allow_unresolved=True)
    con = duckdb.connect()
    try:
        path = str(run.line_items_path).replace("'", "''")
        rows = con.execute(
            f"SELECT reason, count(*) FROM read_parquet('{path}') WHERE excluded "
            "GROUP BY ALL ORDER BY 2 DESC, 1"
        ).fetchall()
    finally:
        con.close()
    return run, [ExcludedLines(int(n), str(reason)) for reason, n in rows]


def ppa_match(load_file: Path, supply_file: Path) -> PpaMatch:
    """Annual (volumetric) and hourly matching of the PPA site from the hourly files the demo
    wrote (the same files ``esgledger green cfe`` reads)."""
    import pyarrow.csv as pacsv

    from esgledger.renewables.cfe import cfe_summary

    load = pacsv.read_csv(load_file)
    supply = pacsv.read_csv(supply_file)
    result = cfe_summary(load.column("load_mwh").to_numpy(), supply.column("clean_mwh").to_numpy())
    return PpaMatch(
        site=str(load.column("site")[0]),
        load_mwh=float(result.load_mwh[0]),
        supply_mwh=float(result.clean_mwh[0]),
        volumetric=float(result.volumetric_match[0]),
        hourly=float(result.hourly_match[0]),
    )


def resolve_combinations(workspace: Workspace) -> list[ResolvedCombination]:
    """Resolve one factor per distinct (activity, region, unit, supplier) in the lake.

    The region of a row is its own ``region`` if given, else its site's region, else its
    entity's country. The workspace's proxy regions (``[factors] proxies``) apply.
    """
    from esgledger.factors.library import FactorLibrary
    from esgledger.factors.resolve import resolve
    from esgledger.regions import chain
    from esgledger.store.repository import load_entities, load_sites
    from esgledger.taxonomy import Taxonomy

    with workspace.session() as session:
        sites = load_sites(session)
        entities = load_entities(session)
    library = FactorLibrary.for_workspace(workspace)
    taxonomy = Taxonomy.for_workspace(workspace)
    proxies = workspace.factor_proxies
    con = duckdb.connect()
    con.register("sites", _arrow([{"site": s["code"], "region": s["region"]} for s in sites]))
    con.register(
        "entities", _arrow([{"entity": e["code"], "country": e["country"]} for e in entities])
    )
    pattern = str(workspace.lake / "activities" / "*.parquet")
    rows = con.execute(
        f"""
        SELECT a.activity,
               coalesce(nullif(a.region, ''), s.region, e.country) AS region,
               a.unit, nullif(a.supplier, '') AS supplier, count(*) AS n
        FROM read_parquet('{pattern}') a
        LEFT JOIN sites s ON s.site = a.site
        LEFT JOIN entities e ON e.entity = a.entity
        GROUP BY ALL ORDER BY 1, 2, 3, 4
        """
    ).fetchall()
    out: list[ResolvedCombination] = []
    for activity, region, unit, supplier, n in rows:
        activity_type = taxonomy.get(activity)
        try:
            resolution = resolve(
                library,
                activity_type=activity_type,
                region_chain=chain(region),
                year=workspace.reporting_year,
                unit=unit,
                supplier=supplier,
                proxies=proxies,
            )
        except EsgledgerError as exc:  # FactorNotFoundError and unknown regions alike
            out.append(
                ResolvedCombination(
                    activity,
                    region,
                    unit,
                    supplier,
                    n,
                    None,
                    None,
                    None,
                    None,
                    problem=str(exc).splitlines()[0],
                )
            )
            continue
        factor = resolution.factor
        out.append(
            ResolvedCombination(
                activity,
                region,
                unit,
                supplier,
                n,
                str(factor["factor_id"]),
                resolution.tier,
                resolution.vintage_gap,
                str(factor["source"]),
            )
        )
    return out


def _arrow(rows: list[dict[str, object]]) -> pa.Table:
    return pa.Table.from_pylist(rows)
