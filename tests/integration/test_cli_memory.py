"""Issue 11, defect 16: no command a user runs fetches a run's line items into Python.

The commands aggregate in DuckDB over the Parquet line items and fetch only aggregates, so
their memory does not grow with the number of lines. Checked without timings or memory
readings: :func:`_row_counter.count_rows` counts every row DuckDB (or a Parquet reader) hands
to Python, on a workspace of N activity rows and on one of 4N rows with the same mix (same
entities, sites, activities, regions, factors; only more rows of each). A command that
fetches only aggregates fetches exactly as many rows at both sizes; one that fetches the
lines fetches at least 3N more.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from _inventory_support import activity, import_rows, new_workspace, site, user_factor
from _row_counter import count_rows
from esgledger.cli import app

N = 40
#: One row of each kind, repeated with unique record ids and meters (no overlaps): every
#: group any aggregate can form exists at both sizes.
_KINDS = (
    ("electricity", 1_000, "kWh", {"site": "SZ", "region": "CN-GD"}),
    ("electricity", 2_000, "kWh", {"site": "DC", "region": "CN-GD"}),
    ("stationary.diesel", 2, "t", {"site": "DC"}),
    ("purchased_goods.paper", 500, "kg", {}),
    ("travel.air.long_haul.economy", 3_000, "pkm", {"region": "GB"}),
)
#: Abatement measure and target: the report's plan reads the run's lines too.
_TARGET = {
    "id": "S12-2030",
    "name": "Scope 1+2 -50 % by 2030",
    "kind": "absolute",
    "scopes": "1+2",
    "scope2_method": "location",
    "base_year": 2024,
    "target_year": 2030,
    "reduction": 0.5,
    "ambition": "1.5C",
    "horizon": "near_term",
}
_MEASURE = {
    "id": "PUE",
    "name": "PUE improvement",
    "lever": "efficiency",
    "cost_per_t": -100,
    "currency": "CNY",
    "reduction_t_co2e_per_yr": 1,
    "start_year": 2025,
    "ramp_years": 2,
    "acts_on": "scope=2; activity=electricity",
}


def _workspace(root: Path, rows: int) -> Path:
    activities = []
    for n in range(rows):
        key, quantity, unit, extra = _KINDS[n % len(_KINDS)]
        activities.append(
            activity(key, quantity, unit, record_id=f"R{n:06d}", meter=f"M{n:06d}", **extra)
        )
    ws = new_workspace(
        root,
        sites=[site("SZ"), site("DC", type="data_centre")],
        factors=[user_factor("u-paper", "purchased_goods.paper", "kg", 1.2)],
        activities=activities,
    )
    try:
        import_rows(ws, "targets", [_TARGET])
        import_rows(ws, "measures", [_MEASURE])
    finally:
        ws.close()
    return root


#: The commands users run on a run's line items (the workspace is appended as {ws}).
COMMANDS: dict[str, tuple[str, ...]] = {
    "calculate": ("calculate", "{ws}"),
    "inventory": ("inventory", "{ws}"),
    "inventory-json": ("inventory", "{ws}", "--format", "json"),
    "quality": ("quality", "{ws}"),
    "quality-json": ("quality", "{ws}", "--format", "json"),
    "uncertainty": ("uncertainty", "{ws}", "--iterations", "50"),
    "explain": ("explain", "{ws}", "R000003"),
    "report": ("report", "{ws}", "--format", "html", "--out", "{ws}/out"),
    # A second run with other GWP values, and what changed between the two.
    "calculate-ar5": ("calculate", "{ws}", "--gwp", "AR5"),
    "diff": ("diff", "{ws}", "{first}", "{last}", "--format", "json"),
}


def _fetched(monkeypatch: pytest.MonkeyPatch, root: Path) -> dict[str, Counter[str]]:
    """Rows handed to Python by each command, by route."""
    from esgledger.inventory import list_runs
    from esgledger.store import Workspace

    runner = CliRunner()
    out: dict[str, Counter[str]] = {}
    for name, args in COMMANDS.items():
        with Workspace.open(root) as ws:
            runs = [str(r["id"]) for r in list_runs(ws)]
        first, last = (runs[0], runs[-1]) if runs else ("", "")
        with count_rows(monkeypatch) as counts:
            result = runner.invoke(app, [a.format(ws=root, first=first, last=last) for a in args])
        assert result.exit_code == 0, f"{name}: {result.output}"
        out[name] = counts
    return out


@pytest.fixture(scope="module")
def fetched(tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict[str, Counter[str]]]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        return {
            rows: _fetched(monkeypatch, _workspace(tmp_path_factory.mktemp(f"ws{rows}"), rows))
            for rows in (N, 4 * N)
        }


@pytest.mark.parametrize("command", list(COMMANDS))
def test_rows_fetched_into_python_do_not_grow_with_the_line_items(
    fetched: dict[int, dict[str, Counter[str]]], command: str
) -> None:
    small, large = fetched[N][command], fetched[4 * N][command]
    # The counter sees the aggregates each command does fetch (else this test proves nothing).
    assert sum(small.values()) > 0
    assert large == small, f"{command}: {dict(small)} at {N} rows, {dict(large)} at {4 * N}"


def test_the_counter_sees_a_command_that_fetches_the_lines(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The check above can fail: reading the line items whole is counted."""
    from esgledger.inventory import load_run
    from esgledger.store import Workspace

    root = _workspace(tmp_path / "ws", N)
    assert CliRunner().invoke(app, ["calculate", str(root)]).exit_code == 0
    with Workspace.open(root) as ws:
        run = load_run(ws)
    with count_rows(monkeypatch) as counts:
        run.line_items()
    assert counts["parquet.read_table"] >= N
    import duckdb

    with count_rows(monkeypatch) as counts:
        con = duckdb.connect()
        con.sql(f"SELECT * FROM read_parquet('{run.line_items_path}')").to_arrow_table()
        con.close()
    assert counts["duckdb.to_arrow_table"] >= N


def test_a_bad_memory_limit_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root = _workspace(tmp_path / "ws", len(_KINDS))
    assert CliRunner().invoke(app, ["calculate", str(root)]).exit_code == 0
    monkeypatch.setenv("ESGLEDGER_DUCKDB_MEMORY", "plenty")
    for command in ("calculate", "quality", "inventory"):
        result = CliRunner().invoke(app, [command, str(root)])
        assert result.exit_code == 1, result.output
        assert result.stderr.splitlines() == [
            "error: ESGLEDGER_DUCKDB_MEMORY='plenty' is not a memory size: use e.g. 512MB or 2GB"
        ]
