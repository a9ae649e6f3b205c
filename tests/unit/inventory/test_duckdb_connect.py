"""The bounded DuckDB connection of the inventory commands (issue 11, defect 16;
docs/hardening/memory.md): a memory limit, a spill folder of its own that DuckDB removes on
close, and no insertion order unless asked for."""

from __future__ import annotations

from pathlib import Path

import pytest

from esgledger.errors import InputError
from esgledger.inventory._duckdb import DEFAULT_MEMORY_LIMIT, MEMORY_ENV, TEMP_ENV, connect


def _setting(con: object, name: str) -> object:
    return con.execute(f"SELECT current_setting('{name}')").fetchone()[0]  # type: ignore[attr-defined]


def test_default_limit_and_no_insertion_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MEMORY_ENV, raising=False)
    con = connect()
    try:
        assert DEFAULT_MEMORY_LIMIT == "512MB"
        assert _setting(con, "memory_limit") == "488.2 MiB"  # 512 × 10^6 bytes
        assert _setting(con, "preserve_insertion_order") is False
    finally:
        con.close()
    con = connect(ordered=True, threads=1)
    try:
        assert _setting(con, "preserve_insertion_order") is True
        assert _setting(con, "threads") == 1
    finally:
        con.close()


def test_the_environment_sets_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MEMORY_ENV, " 2 GiB ")
    con = connect()
    try:
        assert _setting(con, "memory_limit") == "2.0 GiB"
    finally:
        con.close()


@pytest.mark.parametrize("value", ["lots", "512", "-1GB", "1GB; SET threads=1", "x" * 300])
def test_a_value_that_is_not_a_size_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(MEMORY_ENV, value)
    with pytest.raises(InputError) as raised:
        connect()
    message = str(raised.value).splitlines()[0]
    assert message.startswith(f"{MEMORY_ENV}=")
    assert "not a memory size" in message
    assert len(message) < 120  # the value is truncated


def test_spills_to_its_own_folder_and_removes_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(MEMORY_ENV, "40MB")
    monkeypatch.setenv(TEMP_ENV, str(tmp_path))
    con = connect(threads=1)
    try:
        # Sorting ~200 MB of text under a 40 MB limit must spill.
        count = con.execute(
            "SELECT count(*) FROM (SELECT md5(CAST(i AS VARCHAR)) || md5(CAST(i + 1 AS VARCHAR))"
            " AS s FROM range(3000000) t(i) ORDER BY s)"
        ).fetchone()
        assert count == (3_000_000,)
        folders = list(tmp_path.iterdir())
        assert len(folders) == 1
        assert folders[0].name.startswith("esgledger-duckdb-")
        assert any(folders[0].iterdir())  # spill files were written
    finally:
        con.close()
    assert list(tmp_path.iterdir()) == []
