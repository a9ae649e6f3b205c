"""Issue 11, defect 11: a run's manifest does not grow with the depth of the group tree.

A ``calculate`` on a 5,000-deep chain wrote a 108 MB manifest (also stored in the database):
every entity's reason named its whole path from the root. The manifest now records each
entity once, with its parent and effective share, and the reason names the path shortened.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from _inventory_support import activity, entity, new_workspace
from esgledger.inventory import calculate
from esgledger.store.repository import load_run as load_run_row

ENTITIES = 200


def _tree(depth: int) -> list[dict[str, Any]]:
    """``ENTITIES`` entities under GRP in chains of ``depth`` levels (GRP is level 1)."""
    rows = [entity("GRP")]
    per_chain = depth - 1
    for n in range(ENTITIES - 1):
        chain, level = divmod(n, per_chain)
        parent = "GRP" if level == 0 else f"C{chain}L{level - 1}"
        rows.append(entity(f"C{chain}L{level}", parent=parent, ownership_pct=90))
    return rows


def _manifest(tmp_path: Path, depth: int) -> tuple[dict[str, Any], int, int]:
    rows = _tree(depth)
    deepest = rows[depth - 1]["entity"]
    ws = new_workspace(
        tmp_path / f"ws{depth}",
        entities=rows,
        activities=[activity("electricity", 1000, "kWh", region="CN-GD", entity_code=deepest)],
    )
    with ws:
        run = calculate(ws, gwp_set="AR5", consolidation="equity")
        on_disk = (ws.lake / "runs" / run.run_id / "manifest.json").read_bytes()
        with ws.session() as session:
            stored = load_run_row(session, run.run_id)
        assert stored is not None
        in_db = len(json.dumps(stored["manifest"], default=str))
    return run.manifest, len(on_disk), in_db


def test_the_manifest_size_does_not_grow_with_depth(tmp_path: Path) -> None:
    shallow, shallow_bytes, shallow_db = _manifest(tmp_path, 10)
    deep, deep_bytes, deep_db = _manifest(tmp_path, 100)
    assert len(shallow["consolidation_shares"]) == len(deep["consolidation_shares"]) == ENTITIES
    # Same entity count, ten times the depth: the manifest stays within a small factor (it
    # was about four times larger when every reason named the whole path).
    assert deep_bytes <= 1.25 * shallow_bytes
    assert deep_db <= 1.25 * shallow_db


def test_each_entity_is_recorded_once_with_its_parent_and_share(tmp_path: Path) -> None:
    manifest, _, _ = _manifest(tmp_path, 100)
    shares = manifest["consolidation_shares"]
    assert shares["GRP"]["parent"] is None
    deepest = shares["C0L98"]
    assert deepest["parent"] == "C0L97"
    assert deepest["share"] == 0.9**99
    # the chain is rebuilt from the parents
    chain, code = [], "C0L98"
    while code is not None:
        chain.append(code)
        code = shares[code]["parent"]
    assert len(chain) == 100
    assert deepest["reason"].endswith("via GRP > C0L0 > C0L1 > … > C0L96 > C0L97 > C0L98")
