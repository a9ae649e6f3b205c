"""Published emissions of earlier years: validated whole, stored by year/scope/category."""

from __future__ import annotations

from pathlib import Path

import pytest

from esgledger.errors import InputError
from esgledger.ingest.importers import import_file
from esgledger.store import Workspace
from esgledger.store.repository_targets import load_emissions_history

GOOD = """year,scope,category,t_co2e,source
2021,1,,19000,2021 ESG report p. 80
2021,2_location,,2349000,2021 ESG report p. 80
2021,3,,2743000,2021 ESG report p. 80
2021,3,1,152000,2021 ESG report p. 81
"""


def _write(tmp_path: Path, text: str, name: str = "history.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_published_history_lands_whole_and_a_reimport_is_a_no_op(
    workspace: Workspace, tmp_path: Path
) -> None:
    path = _write(tmp_path, GOOD)
    first = import_file(workspace, "emissions-history", path)
    again = import_file(workspace, "emissions-history", path)
    assert (first.rows, first.created, again.created) == (4, True, False)
    with workspace.session() as session:
        rows = load_emissions_history(session)
    assert [(r["scope"], r["category"], r["t_co2e"]) for r in rows] == [
        ("1", 0, 19_000.0),
        ("2_location", 0, 2_349_000.0),
        ("3", 0, 2_743_000.0),
        ("3", 1, 152_000.0),
    ]
    assert {r["batch_id"] for r in rows} == {first.batch_id}


def test_chinese_headers_are_accepted(workspace: Workspace, tmp_path: Path) -> None:
    text = "年份,范围,类别,排放量（吨二氧化碳当量）,来源\n2022,1,,172000,2022 年报\n"
    result = import_file(workspace, "emissions-history", _write(tmp_path, text))
    assert result.rows == 1


def test_every_bad_row_is_reported_and_nothing_is_stored(
    workspace: Workspace, tmp_path: Path
) -> None:
    text = (
        "year,scope,category,t_co2e,source\n"
        "2021,2,,100,r\n"  # row 2: ambiguous scope 2
        "2021,1,4,100,r\n"  # row 3: a category on scope 1
        "2021,3,16,100,r\n"  # row 4: no category 16
        "2021,3,,-5,r\n"  # row 5: negative
        "2021,1,,10,r\n"
        "2021,1,,11,r\n"  # row 7: duplicate of row 6
    )
    with pytest.raises(InputError, match=r"history\.csv was rejected: 5 problems in 5 rows") as e:
        import_file(workspace, "emissions-history", _write(tmp_path, text))
    found = {(i.row, i.column): i.problem for i in e.value.issues}
    assert found == {
        (2, "scope"): "unknown scope",
        (3, "category"): "a category belongs to scope 3, not scope 1",
        (4, "category"): "not a scope 3 category",
        (5, "t_co2e"): "emissions cannot be negative",
        (7, "year"): "year 2021, scope 1, category - is given twice (first in row 6)",
    }
    with workspace.session() as session:
        assert load_emissions_history(session) == []
