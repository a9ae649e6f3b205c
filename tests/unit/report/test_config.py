"""Report inputs (WS/report/): defaults when absent, precise errors when wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from esgledger.errors import InputError
from esgledger.report.config import NARRATIVE_SECTIONS, load_report_inputs


def _toml(root: Path, text: str) -> None:
    folder = root / "report"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.toml").write_text(text, encoding="utf-8")


def test_a_missing_folder_gives_defaults(tmp_path: Path) -> None:
    inputs = load_report_inputs(tmp_path, workspace_name="Test Group")
    assert inputs.config.company.name == "Test Group"
    assert inputs.config.company.tier == "main_board"
    assert inputs.config.governance == ()
    assert inputs.narratives == {}
    assert inputs.explanations == {}
    assert len(inputs.defaults) == 2
    assert "report/report.toml (defaults: company 'Test Group')" in inputs.defaults


def test_the_demo_inputs_load(tmp_path: Path) -> None:
    import shutil
    from importlib import resources

    from esgledger.disclosure import load_catalogue

    shutil.copytree(
        Path(str(resources.files("esgledger.demo").joinpath("report"))), tmp_path / "report"
    )
    codes = {item.code for item in load_catalogue()}
    inputs = load_report_inputs(tmp_path, known_codes=codes)
    assert inputs.config.company.tier == "largecap"
    assert inputs.config.governance[0].id == "board"
    assert set(inputs.narratives) == set(NARRATIVE_SECTIONS)
    assert inputs.narrative("soc.privacy", "zh-CN")
    assert "A2.5" in inputs.explanations
    assert inputs.defaults == ()


def test_a_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    _toml(tmp_path, '[company]\nname = "X"\ntier = largecap\n')
    with pytest.raises(InputError, match=r"report/report.toml, row 3: TOML syntax error") as info:
        load_report_inputs(tmp_path)
    assert info.value.issues[0].row == 3


def test_an_unknown_key_names_line_and_key(tmp_path: Path) -> None:
    _toml(
        tmp_path,
        '[company]\nname = "X"\n\n[[governance]]\nid = "board"\nname = "Board"\n'
        '\n[[governance]]\nid = "office"\nname = "Office"\nmembres = 3\n',
    )
    with pytest.raises(
        InputError,
        match=r"row 11, column 'governance.1.membres': extra inputs are not permitted.*"
        r"Fix: remove the key or correct its spelling",
    ):
        load_report_inputs(tmp_path)


def test_a_bad_tier_and_score_are_each_reported(tmp_path: Path) -> None:
    _toml(
        tmp_path,
        '[company]\nname = "X"\ntier = "big"\n\n[[materiality]]\ntopic = "Water"\n'
        "stakeholders = 5.5\nbusiness = 1\n",
    )
    with pytest.raises(InputError, match=r"2 problem\(s\)") as info:
        load_report_inputs(tmp_path)
    where = [(issue.row, issue.column) for issue in info.value.issues]
    assert where == [(3, "company.tier"), (7, "materiality.0.stakeholders")]


def test_a_narrative_for_an_unknown_section_is_rejected(tmp_path: Path) -> None:
    folder = tmp_path / "report" / "narratives"
    folder.mkdir(parents=True)
    (folder / "soc.privacy.en.md").write_text("Fine.", encoding="utf-8")
    (folder / "soc.privcy.en.md").write_text("Typo.", encoding="utf-8")
    (folder / "notes.txt").write_text("?", encoding="utf-8")
    with pytest.raises(InputError, match=r"2 problem\(s\)") as info:
        load_report_inputs(tmp_path)
    problems = [str(issue) for issue in info.value.issues]
    assert problems[0].startswith("report/narratives/notes.txt: the file name is not")
    assert (
        "report/narratives/soc.privcy.en.md, column 'section': unknown report section"
        in (problems[1])
    )


def test_an_empty_narrative_counts_as_absent(tmp_path: Path) -> None:
    folder = tmp_path / "report" / "narratives"
    folder.mkdir(parents=True)
    (folder / "soc.privacy.en.md").write_text("  \n", encoding="utf-8")
    assert load_report_inputs(tmp_path).narrative("soc.privacy", "en") is None


def test_explanations_name_row_and_code(tmp_path: Path) -> None:
    folder = tmp_path / "report"
    folder.mkdir()
    (folder / "explanations.csv").write_text(
        "code,explanation_en,explanation_zh\nA2.5,Not material.,不重大。\nZ9,x,y\n"
        "A2.5,Again.,再次。\nB6.1,Not applicable.,\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"3 problem\(s\)") as info:
        load_report_inputs(tmp_path, known_codes={"A2.5", "B6.1"})
    assert [(i.row, i.column, i.problem) for i in info.value.issues] == [
        (3, "code", "not a code of the metric catalogue"),
        (4, "code", "explained twice (also row 2)"),
        (5, "explanation_zh", "the explanation is empty"),
    ]


def test_explanations_need_their_columns(tmp_path: Path) -> None:
    folder = tmp_path / "report"
    folder.mkdir()
    (folder / "explanations.csv").write_text("code,text\nA2.5,x\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"columns explanation_en, explanation_zh are missing"):
        load_report_inputs(tmp_path)


def test_hourly_files_must_exist_and_come_in_pairs(tmp_path: Path) -> None:
    _toml(tmp_path, '[company]\nname = "X"\n[green]\nhourly_load = "load.csv"\n')
    with pytest.raises(InputError, match=r"column 'green.hourly_load': the file does not exist"):
        load_report_inputs(tmp_path)
    (tmp_path / "report" / "load.csv").write_text("site,hour,load_mwh\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"hourly_load and hourly_supply go together"):
        load_report_inputs(tmp_path)
