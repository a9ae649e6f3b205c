"""Hourly 24/7 carbon-free-energy (CFE) matching.

逐时 24/7 无碳电力（CFE）匹配。

For each site and hour ``h``, with ``L_h`` the load, ``C_h`` the contracted or owned
carbon-free supply on the same grid (on-site generation, PPA profiles, hourly certificates)
and ``g_h`` the carbon-free share of the grid mix supplying the rest (Google, "24/7
Carbon-Free Energy: Methodologies and Metrics", 2021; PyPSA/247-cfe; EnergyTag granular
certificates — domain-modules.md §2.5)::

    matched_h     = min(L_h, C_h)                    (hourly match, no carry-over)
    excess_h      = max(0, C_h − L_h)                (does not count)
    residual_h    = L_h − matched_h                  (bought from the grid)
    grid_clean_h  = g_h · residual_h
    CFE_h         = matched_h + grid_clean_h
    CFE score     = Σ_h CFE_h / Σ_h L_h              (per site; portfolio: load-weighted)
    hourly match  = Σ_h matched_h / Σ_h L_h          (EnergyTag HM %, without grid credit)
    volumetric    = min(1, Σ_h C_h / Σ_h L_h)        (annual matching, for comparison)

Arrays are sites × hours (numpy, float64, MWh per hour); every step is vectorised, and
:func:`cfe_summary` works through the sites in chunks so that 1,000 sites × 8,760 hours need
only the inputs' memory (``benchmarks/bench_cfe.py``). :func:`matrix_from_table` turns a long
Arrow table (``site``, ``hour``, value) into that matrix; :func:`heatmap` and
:func:`plot_heatmap` give the hour-of-day × month view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "CfeResult",
    "CfeSummary",
    "cfe",
    "cfe_summary",
    "heatmap",
    "matrix_from_table",
    "plot_heatmap",
    "read_hourly",
    "summary_table",
]

Array = npt.NDArray[np.float64]

_CHUNK_SITES = 64


def _as_2d(name: str, values: npt.ArrayLike) -> Array:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1:
        array = array[np.newaxis, :]
    if array.ndim != 2:
        raise ValueError(f"{name} must be hours or sites × hours (shape {array.shape})")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} has values that are not finite numbers")
    if (array < 0).any():
        raise ValueError(f"{name} has negative values")
    return array


def _grid(grid_cfe: npt.ArrayLike | None, shape: tuple[int, int]) -> Array:
    if grid_cfe is None:
        return np.zeros((1, 1))
    grid = np.asarray(grid_cfe, dtype=np.float64)
    if grid.ndim == 1:
        grid = grid[np.newaxis, :]
    elif grid.ndim == 0:
        grid = grid.reshape(1, 1)
    if grid.ndim != 2 or grid.shape[1] not in (1, shape[1]) or grid.shape[0] not in (1, shape[0]):
        raise ValueError(
            f"grid_cfe must be a share, hours or sites × hours (shape {grid.shape}, load {shape})"
        )
    if not np.isfinite(grid).all() or (grid < 0).any() or (grid > 1).any():
        raise ValueError("grid_cfe is a share of the grid mix: every value must be in 0..1")
    return grid


@dataclass(frozen=True, slots=True)
class CfeSummary:
    """Totals per site [MWh over the period] and the scores [fraction, 0-1].

    Scores of a site without load are NaN. The ``portfolio_*`` properties weight the sites
    by load (Σ numerator / Σ load).
    """

    load_mwh: Array
    clean_mwh: Array
    matched_mwh: Array
    excess_mwh: Array
    residual_mwh: Array
    grid_clean_mwh: Array

    def _ratio(self, numerator: Array) -> Array:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.load_mwh > 0, numerator / self.load_mwh, np.nan)

    @property
    def hourly_match(self) -> Array:
        """Σ matched / Σ load per site (no grid credit)."""
        return self._ratio(self.matched_mwh)

    @property
    def cfe_score(self) -> Array:
        """(Σ matched + Σ grid clean) / Σ load per site."""
        return self._ratio(self.matched_mwh + self.grid_clean_mwh)

    @property
    def volumetric_match(self) -> Array:
        """min(1, Σ clean supply / Σ load) per site (annual-style matching)."""
        return np.minimum(1.0, self._ratio(self.clean_mwh))

    @property
    def portfolio_hourly_match(self) -> float:
        return float(self.matched_mwh.sum() / self.load_mwh.sum())

    @property
    def portfolio_cfe_score(self) -> float:
        return float((self.matched_mwh.sum() + self.grid_clean_mwh.sum()) / self.load_mwh.sum())


@dataclass(frozen=True, slots=True)
class CfeResult:
    """Hourly detail (sites × hours, MWh per hour) and its :class:`CfeSummary`."""

    load_mwh: Array
    clean_mwh: Array
    matched_mwh: Array
    excess_mwh: Array
    residual_mwh: Array
    grid_clean_mwh: Array

    @property
    def cfe_mwh(self) -> Array:
        """Carbon-free energy consumed per hour: matched + grid clean."""
        return self.matched_mwh + self.grid_clean_mwh

    @property
    def cfe_hourly(self) -> Array:
        """CFE share of each hour's load [fraction]; NaN for hours without load."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.load_mwh > 0, self.cfe_mwh / self.load_mwh, np.nan)

    def summary(self) -> CfeSummary:
        return CfeSummary(
            load_mwh=self.load_mwh.sum(axis=1),
            clean_mwh=self.clean_mwh.sum(axis=1),
            matched_mwh=self.matched_mwh.sum(axis=1),
            excess_mwh=self.excess_mwh.sum(axis=1),
            residual_mwh=self.residual_mwh.sum(axis=1),
            grid_clean_mwh=self.grid_clean_mwh.sum(axis=1),
        )


def cfe(
    load_mwh: npt.ArrayLike, clean_mwh: npt.ArrayLike, grid_cfe: npt.ArrayLike | None = None
) -> CfeResult:
    """Hour-by-hour CFE matching with its full hourly detail.

    Parameters
    ----------
    load_mwh
        [MWh per hour] load, hours or sites × hours.
    clean_mwh
        [MWh per hour] carbon-free supply attributed to the same site, same shape.
    grid_cfe
        [fraction, 0-1] carbon-free share of the grid supplying the residual: None (no grid
        credit), one share, hours, or sites × hours.

    Raises
    ------
    ValueError
        If shapes differ, a value is negative or not finite, or a grid share is outside 0..1.

    Examples
    --------
    >>> r = cfe([10.0, 10.0], [4.0, 30.0], grid_cfe=0.5)
    >>> r.summary().hourly_match.tolist(), r.summary().cfe_score.tolist()
    ([0.7], [0.85])
    """
    load = _as_2d("load_mwh", load_mwh)
    clean = _as_2d("clean_mwh", clean_mwh)
    if load.shape != clean.shape:
        raise ValueError(f"load_mwh {load.shape} and clean_mwh {clean.shape} differ in shape")
    grid = _grid(grid_cfe, load.shape)
    matched = np.minimum(load, clean)
    residual = load - matched
    return CfeResult(
        load_mwh=load,
        clean_mwh=clean,
        matched_mwh=matched,
        excess_mwh=clean - matched,
        residual_mwh=residual,
        grid_clean_mwh=residual * grid,
    )


def cfe_summary(
    load_mwh: npt.ArrayLike,
    clean_mwh: npt.ArrayLike,
    grid_cfe: npt.ArrayLike | None = None,
    *,
    chunk_sites: int = _CHUNK_SITES,
) -> CfeSummary:
    """The per-site totals of :func:`cfe` without keeping the hourly detail: the sites are
    processed ``chunk_sites`` at a time (same inputs, same results)."""
    load = _as_2d("load_mwh", load_mwh)
    clean = _as_2d("clean_mwh", clean_mwh)
    if load.shape != clean.shape:
        raise ValueError(f"load_mwh {load.shape} and clean_mwh {clean.shape} differ in shape")
    grid = _grid(grid_cfe, load.shape)
    n = load.shape[0]
    totals = np.zeros((6, n))
    for start in range(0, n, chunk_sites):
        stop = min(n, start + chunk_sites)
        part_load = load[start:stop]
        part_clean = clean[start:stop]
        part_grid = grid if grid.shape[0] == 1 else grid[start:stop]
        matched = np.minimum(part_load, part_clean)
        residual = part_load - matched
        totals[0, start:stop] = part_load.sum(axis=1)
        totals[1, start:stop] = part_clean.sum(axis=1)
        totals[2, start:stop] = matched.sum(axis=1)
        totals[3, start:stop] = totals[1, start:stop] - totals[2, start:stop]
        totals[4, start:stop] = residual.sum(axis=1)
        totals[5, start:stop] = (residual * part_grid).sum(axis=1)
    return CfeSummary(
        load_mwh=totals[0],
        clean_mwh=totals[1],
        matched_mwh=totals[2],
        excess_mwh=totals[3],
        residual_mwh=totals[4],
        grid_clean_mwh=totals[5],
    )


def summary_table(sites: Sequence[str], summary: CfeSummary) -> pa.Table:
    """One row per site: totals [MWh] and scores [fraction], unit in each column name."""
    return pa.table(
        {
            "site": pa.array(list(sites), pa.string()),
            "load_mwh": summary.load_mwh,
            "clean_supply_mwh": summary.clean_mwh,
            "matched_mwh": summary.matched_mwh,
            "excess_mwh": summary.excess_mwh,
            "grid_residual_mwh": summary.residual_mwh,
            "grid_clean_mwh": summary.grid_clean_mwh,
            "volumetric_match_fraction": summary.volumetric_match,
            "hourly_match_fraction": summary.hourly_match,
            "cfe_score_fraction": summary.cfe_score,
        }
    )


def read_hourly(path: Path, stem: str) -> pa.Table:
    """An hourly file (CSV or Parquet: ``site``, ``hour``, ``<stem>_mwh``) as Arrow, the input
    of :func:`matrix_from_table`: ``site`` as text, ``hour`` as a timestamp, ``<stem>_mwh`` as
    float64. A file without those columns raises ``InputError``. The report's 24/7 CFE
    section and the green-power view (``renewables.service.cfe_view``) both read through
    here."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from esgledger.errors import InputError, Issue

    table = (
        pq.read_table(path) if path.suffix.lower() in (".parquet", ".pq") else pacsv.read_csv(path)
    )
    wanted = {"site", "hour", f"{stem}_mwh"}
    if not wanted <= set(table.column_names):
        problem = f"the file needs the columns site, hour and {stem}_mwh"
        raise InputError(
            f"{path.name} was rejected: {problem}",
            [Issue(path.name, 1, None, None, problem, f"name the columns site, hour, {stem}_mwh")],
        )
    hour = table.column("hour")
    if not str(hour.type).startswith("timestamp"):
        hour = hour.cast(pa.timestamp("s"))
    return pa.table(
        {
            "site": table.column("site").cast(pa.string()),
            "hour": hour,
            f"{stem}_mwh": table.column(f"{stem}_mwh").cast(pa.float64()),
        }
    )


def matrix_from_table(
    table: pa.Table,
    value: str,
    *,
    sites: Sequence[str] | None = None,
    hours: pa.Array | None = None,
) -> tuple[list[str], pa.Array, Array]:
    """A long table (``site``, ``hour``, ``value``) as a sites × hours matrix.

    Parameters
    ----------
    table
        Columns ``site`` (string), ``hour`` (timestamp of the hour's start) and ``value``.
    value
        The value column, e.g. ``load_mwh``.
    sites, hours
        The row and column labels to use (e.g. those of the load, so that supply lines up);
        default the sorted distinct values of the table. Cells the table does not give are 0;
        rows for other sites or hours are ignored.

    Returns
    -------
    (sites, hours, matrix)

    Raises
    ------
    ValueError
        If a (site, hour) pair appears twice.
    """
    site_col = table.column("site").cast(pa.string())
    hour_col = table.column("hour")
    labels = pc.unique(site_col).sort().to_pylist() if sites is None else list(sites)
    axis = pc.unique(hour_col).sort() if hours is None else hours
    site_index = pc.fill_null(pc.index_in(site_col, value_set=pa.array(labels, pa.string())), -1)
    hour_index = pc.fill_null(pc.index_in(hour_col, value_set=axis), -1)
    rows = np.asarray(site_index.to_numpy(), dtype=np.int64)
    cols = np.asarray(hour_index.to_numpy(), dtype=np.int64)
    values = np.asarray(table.column(value).to_numpy(), dtype=np.float64)
    keep = (rows >= 0) & (cols >= 0)
    if not keep.all():
        rows, cols, values = rows[keep], cols[keep], values[keep]
    flat = rows * len(axis) + cols
    size = len(labels) * len(axis)
    if flat.size and np.bincount(flat, minlength=size).max() > 1:
        raise ValueError(f"{value}: a site and hour appear more than once")
    matrix = np.zeros(size)
    matrix[flat] = values
    return labels, axis, matrix.reshape(len(labels), len(axis))


def heatmap(hours: pa.Array | Sequence[object], cfe_mwh: Array, load_mwh: Array) -> Array:
    """CFE share [fraction] by month (rows 1-12) × hour of day (columns 0-23):
    Σ CFE / Σ load over the days and sites of each cell; NaN where there is no load.

    ``cfe_mwh`` and ``load_mwh`` are sites × hours (or hours), ``hours`` their timestamps.
    """
    stamps = pa.array(hours) if not isinstance(hours, pa.Array | pa.ChunkedArray) else hours
    month = pc.month(stamps).to_numpy(zero_copy_only=False).astype(np.int64) - 1
    hour = pc.hour(stamps).to_numpy(zero_copy_only=False).astype(np.int64)
    cell = month * 24 + hour
    cfe_total = np.atleast_2d(cfe_mwh).sum(axis=0)
    load_total = np.atleast_2d(load_mwh).sum(axis=0)
    numerator = np.bincount(cell, weights=cfe_total, minlength=12 * 24)
    denominator = np.bincount(cell, weights=load_total, minlength=12 * 24)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(denominator > 0, numerator / denominator, np.nan)
    return share.reshape(12, 24)


def plot_heatmap(matrix: Array, path: Path | str, *, title: str = "Hourly CFE (%)") -> Path:
    """Write the month × hour-of-day matrix of :func:`heatmap` as PNG or SVG (by the file's
    ending), values in per cent. Needs matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(path)
    if out.suffix.lower() not in (".png", ".svg"):
        raise ValueError(f"the heat-map is written as .png or .svg (file: {out.name})")
    figure, axes = plt.subplots(figsize=(10, 4.5))
    image = axes.imshow(matrix * 100.0, aspect="auto", cmap="YlGn", vmin=0.0, vmax=100.0)
    axes.set_xticks(range(24))
    axes.set_yticks(range(12))
    axes.set_yticklabels(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    )
    axes.set_xlabel("hour of day")
    axes.set_ylabel("month")
    axes.set_title(title)
    figure.colorbar(image, ax=axes, label="CFE %")
    figure.tight_layout()
    figure.savefig(out, metadata={"Date": None} if out.suffix.lower() == ".svg" else None)
    plt.close(figure)
    return out
