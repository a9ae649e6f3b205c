"""Issue 11, defect 13: report inputs are read from inside the workspace only.

``report.toml`` named files anywhere (``hourly_load = "../../../../etc/passwd"``), and links in
``WS/report`` were followed out of the workspace. A path must be relative and end inside the
workspace, links followed; files elsewhere are given on the command line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from esgledger.errors import InputError
from esgledger.report.config import load_report_inputs

HOURLY = "site,hour,load_mwh\n"


def _workspace(tmp_path: Path, green: str) -> Path:
    root = tmp_path / "ws"
    (root / "report").mkdir(parents=True)
    (root / "report" / "report.toml").write_text(
        f'[company]\nname = "X"\n[green]\n{green}\n', encoding="utf-8"
    )
    return root


def _outside(tmp_path: Path) -> Path:
    secret = tmp_path / "secret.csv"
    secret.write_text(HOURLY, encoding="utf-8")
    return secret


def _problems(root: Path) -> list[tuple[str | None, str | None, str]]:
    with pytest.raises(InputError) as info:
        load_report_inputs(root)
    return [(i.column, i.value, i.problem) for i in info.value.issues]


def test_a_dot_dot_escape_is_refused(tmp_path: Path) -> None:
    _outside(tmp_path)
    root = _workspace(
        tmp_path, 'hourly_load = "../../secret.csv"\nhourly_supply = "../../secret.csv"'
    )
    problem = "the path leads outside the workspace: report inputs stay inside it"
    assert _problems(root) == [
        ("green.hourly_load", "../../secret.csv", problem),
        ("green.hourly_supply", "../../secret.csv", problem),
    ]


def test_the_issue_payload_is_refused(tmp_path: Path) -> None:
    root = _workspace(
        tmp_path,
        'hourly_load = "../../../../../../../../etc/passwd"\nhourly_supply = "/etc/passwd"',
    )
    assert [p for _, _, p in _problems(root)] == [
        "the path leads outside the workspace: report inputs stay inside it",
        "an absolute path: report inputs are read from inside the workspace only",
    ]


def test_an_absolute_path_inside_the_workspace_is_refused_too(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / "inputs").mkdir(parents=True)
    (root / "inputs" / "load.csv").write_text(HOURLY, encoding="utf-8")
    absolute = (root / "inputs" / "load.csv").resolve()
    _workspace(tmp_path, f'hourly_load = "{absolute}"\nhourly_supply = "../inputs/load.csv"')
    assert [c for c, _, _ in _problems(root)] == ["green.hourly_load"]


def test_a_link_out_of_the_workspace_is_refused(tmp_path: Path) -> None:
    secret = _outside(tmp_path)
    root = _workspace(tmp_path, 'hourly_load = "load.csv"\nhourly_supply = "load.csv"')
    (root / "report" / "load.csv").symlink_to(secret)
    assert [c for c, _, _ in _problems(root)] == ["green.hourly_load", "green.hourly_supply"]


def test_dot_dot_inside_the_workspace_is_accepted(tmp_path: Path) -> None:
    """The demo's layout: ``../inputs/…`` from WS/report stays inside WS."""
    root = _workspace(
        tmp_path, 'hourly_load = "../inputs/load.csv"\nhourly_supply = "../inputs/load.csv"'
    )
    (root / "inputs").mkdir()
    (root / "inputs" / "load.csv").write_text(HOURLY, encoding="utf-8")
    inputs = load_report_inputs(root)
    assert inputs.resolve("../inputs/load.csv").read_text(encoding="utf-8") == HOURLY


@pytest.mark.parametrize("name", ["report.toml", "explanations.csv", "narratives"])
def test_report_files_that_are_links_out_of_the_workspace_are_refused(
    tmp_path: Path, name: str
) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "report.toml").write_text('[company]\nname = "X"\n', encoding="utf-8")
    (target / "explanations.csv").write_text("code,explanation_en,explanation_zh\n")
    root = tmp_path / "ws"
    (root / "report").mkdir(parents=True)
    (root / "report" / name).symlink_to(target if name == "narratives" else target / name)
    assert _problems(root) == [
        (None, None, "a link to a file or folder outside the workspace"),
    ]


def test_a_report_folder_linked_out_of_the_workspace_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    root = tmp_path / "ws"
    root.mkdir()
    (root / "report").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(InputError) as info:
        load_report_inputs(root)
    assert [i.file for i in info.value.issues] == ["report"]


def test_a_narrative_linked_out_of_the_workspace_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text("# secret\n", encoding="utf-8")
    root = tmp_path / "ws"
    (root / "report" / "narratives").mkdir(parents=True)
    (root / "report" / "narratives" / "soc.privacy.en.md").symlink_to(secret)
    assert _problems(root) == [
        (None, "soc.privacy.en.md", "the file is a link to a file outside the workspace"),
    ]
