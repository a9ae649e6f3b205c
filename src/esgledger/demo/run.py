"""Build the demo workspace end to end: the main job on the embedded default.

``esgledger demo`` calls :func:`build_demo`. It (re)creates the workspace folder, writes the
synthetic input files into ``<workspace>/inputs``, imports them through the same importers a
user would use, and checks which factor every kind of activity resolves to.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from esgledger.demo.data import DEMO_SEED, DEMO_YEAR, write_demo_inputs
from esgledger.errors import EsgledgerError, WorkspaceError
from esgledger.ingest import ImportResult

if TYPE_CHECKING:
    from esgledger.store import Workspace

__all__ = ["DemoSummary", "ResolvedCombination", "build_demo"]

DEMO_MARKER = ".esgledger-demo"


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


@dataclass(slots=True)
class DemoSummary:
    workspace: Path
    year: int
    imports: list[ImportResult] = field(default_factory=list)
    resolutions: list[ResolvedCombination] = field(default_factory=list)

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
) -> DemoSummary:
    """Create the demo workspace at ``root`` and import the demo group into it.

    Re-running rebuilds the folder from scratch (only a folder an earlier demo created is
    ever deleted). ``database_url`` (and, for PostgreSQL, ``schema``) put the SQL side of the
    workspace on another database; the schema must be empty.
    """
    from esgledger.ingest.importers import import_file
    from esgledger.store import Workspace

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
    summary = DemoSummary(workspace=root, year=year)
    try:
        step("writing the demo input files")
        files = write_demo_inputs(root / "inputs", seed=seed, year=year)
        plan: list[tuple[str, Path]] = [
            ("entities", files.entities),
            ("sites", files.sites),
            ("factors", files.factors),
            *(("activities", path) for path in files.activity_files()),
        ]
        for kind, path in plan:
            step(f"importing {kind}: {path.name}")
            summary.imports.append(import_file(workspace, kind, path, progress=progress))
        step("resolving factors for every kind of activity")
        summary.resolutions = resolve_combinations(workspace)
    finally:
        workspace.close()
    return summary


def resolve_combinations(workspace: Workspace) -> list[ResolvedCombination]:
    """Resolve one factor per distinct (activity, region, unit, supplier) in the lake.

    The region of a row is its own ``region`` if given, else its site's region, else its
    entity's country.
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
