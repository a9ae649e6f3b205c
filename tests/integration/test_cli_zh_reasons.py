"""``--lang zh-CN`` outputs of ``explain``, ``plan`` and ``targets check`` read as Chinese.

Issue 10, section 4: with ``--lang zh-CN`` the factor-resolution reasons, the consolidation
derivations, tiers and methods of ``explain``, the planner's notes and levers, the SBTi rule
names and the basis of ``targets check`` were English. They are built as messages with an
English and a Chinese template (:mod:`esgledger.reasons`), so these tests run the commands on
the demo workspace (built once for the module) and fail on any English word outside the
allow-list of :func:`_zh_english.english_words` (codes, units, proper names) and the text the
user or a cited publication wrote (:func:`_verbatim`): the activity row's own values, the
factor's id, set, source and edition (titles of the publications cited, kept as published),
the factor unit, and the sources the user gave for published history.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from _zh_english import english_words
from esgledger.cli import app
from esgledger.demo.run import DEMO_STEPS, build_demo
from esgledger.inventory.runs import load_run
from esgledger.store import Workspace
from esgledger.store.repository_targets import load_emissions_history

WITHOUT_REPORT = [step for step in DEMO_STEPS if not step[0].startswith("writing the ESG report")]
runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("zh") / "demo"
    build_demo(root, progress=False, steps=WITHOUT_REPORT)
    return root


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _verbatim(explained: dict[str, Any]) -> list[str]:
    """What ``explain`` prints as it was written: the imported row's values (user-entered)
    and, for each line, the factor's id, set id, source, the set's name and edition
    (publication titles), its unit, and the instruments' ids."""
    phrases = _strings(explained.get("activity_row") or {})
    for item in explained["lines"]:
        line = item["line"]
        phrases += [str(line.get(k) or "") for k in ("factor_id", "factor_set", "source")]
        phrases.append(str(line.get("factor_unit") or ""))
        factor_set = item.get("factor_set") or {}
        phrases += [str(factor_set.get(k) or "") for k in ("id", "name", "edition")]
        market = item.get("market") or {}
        phrases += [str(i["instrument"]) for i in market.get("instruments", [])]
        phrases.append(str(market.get("remainder_factor_id") or ""))
    return phrases


def _records(demo: Path) -> list[str]:
    """One record per kind of explanation in the demo: each activity, tier, method, line
    kind (activity, category 3, category 15) and origin of the region."""
    with Workspace.open(demo) as ws:
        lines = load_run(ws).line_items().to_pylist()
    seen: dict[tuple[Any, ...], str] = {}
    for line in lines:
        key = tuple(line[k] for k in ("activity", "tier", "method", "line_kind", "region_from"))
        seen.setdefault(key, str(line["record_id"]))
    return sorted(set(seen.values()))


def test_explain_in_chinese_has_no_english_reason(demo: Path) -> None:
    records = _records(demo)
    assert len(records) > 30  # every kind of line the demo has, not a sample of one
    problems: list[str] = []
    for record in records:
        text = _run("explain", str(demo), record, "--lang", "zh-CN")
        explained = json.loads(_run("explain", str(demo), record, "--format", "json"))
        found = english_words(text, allowed_phrases=_verbatim(explained))
        problems += [f"{record}: {f}" for f in found]
    assert not problems, "\n".join(problems[:40])


def _first(demo: Path, **where: Any) -> dict[str, Any]:
    with Workspace.open(demo) as ws:
        lines = load_run(ws).line_items().to_pylist()
    return next(line for line in lines if all(line[k] == v for k, v in where.items()))


def test_explain_in_chinese_says_what_the_english_says(demo: Path) -> None:
    """The Chinese reason and derivation say the same as the English ones: the vintage gap of
    a provincial grid factor, and the JV's 0 % under operational control with its 50 %
    equity share in category 15."""
    grid = _first(demo, activity="electricity", region="CN-TJ", line_kind="activity")
    vintage = 2024 + int(grid["vintage_gap"])
    zh = _run("explain", str(demo), str(grid["record_id"]), "--lang", "zh-CN")
    en = _run("explain", str(demo), str(grid["record_id"]))
    assert f"CN-TJ provincial location-based factor {vintage} (cn-mee) for reporting year" in en
    assert f"CN-TJ 省级基于位置的排放因子 {vintage}（cn-mee），报告年度 2024：" in zh
    assert "层级: 次国家级; 方法: 基于位置的" in zh
    jv = _first(demo, entity="DCJV", line_kind="investment")
    zh = _run("explain", str(demo), str(jv["record_id"]), "--lang", "zh-CN")
    assert "0 %：CLOUD 对 DCJV 不拥有运营控制权（经 GRP > CLOUD > DCJV）" in zh
    assert "50 % — 按股权比例 50 % × 100 %（经 GRP > CLOUD > DCJV）" in zh
    assert "范围三类别15：边界外股权投资" in zh


def test_plan_in_chinese_has_no_english_note_or_lever(demo: Path) -> None:
    text = _run("plan", str(demo), "--lang", "zh-CN")
    assert "说明：基准情景：盘查运行" in text
    found = english_words(text)
    assert not found, "\n".join(str(f) for f in found)


def test_targets_check_in_chinese_has_no_english_rule_or_basis(demo: Path) -> None:
    with Workspace.open(demo) as ws, ws.session() as session:
        sources = [str(row["source"]) for row in load_emissions_history(session)]
    text = _run("targets", "check", str(demo), "--lang", "zh-CN")
    assert "依据：基准年 2021：已发布数据：" in text
    found = english_words(text, allowed_phrases=sources)
    assert not found, "\n".join(str(f) for f in found)
