"""Benchmark of ``esgledger doctor``: how long the registry-versus-lake check takes.

Run from the repository root::

    .venv/bin/python benchmarks/bench_doctor.py                 # 5,000 batches
    .venv/bin/python benchmarks/bench_doctor.py --batches 50000

A fresh SQLite workspace gets ``--batches`` registered activity batches, each with a (tiny)
lake file; :func:`esgledger.store.doctor.examine` runs on the healthy workspace, then with
``repair=True`` after a tenth of the files were deleted and as many temporary files of a dead
process planted, then once more. The check is one query and one directory listing: its time
grows with the number of files, not with their size. Numbers: docs/hardening/concurrency.md.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from pathlib import Path

from esgledger.store import Workspace
from esgledger.store.doctor import examine
from esgledger.store.repository import register_batch

#: Above Linux's largest pid: the planted temporary files belong to no running process.
DEAD_PID = 4_194_305


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=5000)
    n = parser.parse_args().batches
    with tempfile.TemporaryDirectory(prefix="esgledger-bench-doctor-") as tmp:
        ws = Workspace.init(Path(tmp) / "ws", year=2024, name="bench")
        folder = ws.lake / "activities"
        folder.mkdir(parents=True, exist_ok=True)
        with ws.session() as session:
            for i in range(n):
                digest = hashlib.sha256(str(i).encode()).hexdigest()
                register_batch(
                    session,
                    kind="activities",
                    file_name=f"f{i}.csv",
                    content_hash=digest,
                    row_count=1,
                    lake_path=f"activities/x{i}.parquet",
                )
                (folder / f"x{i}.parquet").write_bytes(b"x")
        started = time.perf_counter()
        found = examine(ws)
        print(f"healthy, {n} batches: {time.perf_counter() - started:.3f} s, {len(found)} findings")
        for i in range(0, n, 10):
            (folder / f"x{i}.parquet").unlink()
            (folder / f".b-{i}.{DEAD_PID}.ab.tmp").write_bytes(b"x")
        started = time.perf_counter()
        found = examine(ws, repair=True)
        print(f"repair: {time.perf_counter() - started:.3f} s, {len(found)} findings repaired")
        started = time.perf_counter()
        found = examine(ws)
        print(f"after repair: {time.perf_counter() - started:.3f} s, {len(found)} findings")
        ws.close()


if __name__ == "__main__":
    main()
