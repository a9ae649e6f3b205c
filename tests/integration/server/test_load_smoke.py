"""A short run of the load test (``benchmarks/bench_server.py``): a real ``esgledger serve``
on 127.0.0.1, locust clients on the read endpoints and the baseline, at most 8 s and 2,000
requests. It checks that no request failed and every endpoint answered; never a timing
(throughput and latency are the benchmark's business, recorded in docs/performance.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from _inventory_support import activity, entity, new_workspace, site
from esgledger.inventory import calculate

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[3] / "benchmarks" / "bench_server.py"


def test_a_short_load_run_has_no_failed_request(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        entities=[entity("GRP"), entity("BU1", parent="GRP")],
        sites=[site("S1", "BU1", region="CN-GD")],
        activities=[activity("electricity", 1_000, "MWh", site="S1", entity_code="BU1")],
    )
    try:
        calculate(ws)
    finally:
        ws.close()
    out = tmp_path / "load.json"
    command = [sys.executable, str(BENCH), "--workspace", str(tmp_path / "ws"), "--no-target"]
    command += ["--seconds", "8", "--max-requests", "2000", "--users", "4", "--json", str(out)]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (result,) = json.loads(out.read_text(encoding="utf-8"))
    endpoints = result["endpoints"]
    assert {"/healthz", "/api/v1/inventory", "/api/v1/runs", "/api/v1/session"} <= set(endpoints)
    assert sum(e["requests"] for e in endpoints.values()) <= 2000 + result["users"]
    assert all(e["requests"] > 0 for e in endpoints.values()), endpoints
    assert [p for p, e in endpoints.items() if e["failures"]] == [], result["errors"]
    assert result["errors"] == []
