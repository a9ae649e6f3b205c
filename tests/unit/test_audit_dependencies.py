"""The dependency audit of CI (issue 11 §17, ``tools/audit_dependencies.py``): a known
vulnerability fails, and an audit that checked nothing says it was skipped — never "no known
vulnerabilities"."""

from __future__ import annotations

import importlib.util
import json
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

TOOL = Path(__file__).parents[2] / "tools" / "audit_dependencies.py"


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_dependencies", TOOL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


VULNERABLE = {
    "dependencies": [
        {"name": "pip", "version": "23.2.1", "vulns": [
            {"id": "GHSA-mq26-g339-26xf", "fix_versions": ["23.3"], "aliases": ["CVE-2023-5752"]}
        ]},
        {"name": "duckdb", "version": "1.1.0", "vulns": []},
        {"name": "esgledger", "skip_reason": "Dependency not found on PyPI"},
    ],
    "fixes": [],
}  # fmt: skip
NOTHING_LOOKED_UP = {
    "dependencies": [
        {"name": "alembic", "skip_reason": "Dependency not found on PyPI: alembic (1.20.1)"},
        {"name": "pip", "skip_reason": "Dependency not found on PyPI: pip (26.3)"},
    ],
    "fixes": [],
}


def test_a_known_vulnerability_fails_with_its_id_and_fix(tool: ModuleType) -> None:
    outcome = tool.judge(VULNERABLE, "", frozenset())
    assert outcome.code == 1
    assert outcome.lines[0].startswith("dependency audit: 1 known vulnerabilities")
    assert "  pip 23.2.1: GHSA-mq26-g339-26xf (fixed in 23.3)" in outcome.lines
    assert "1 could not be looked up: esgledger" in outcome.lines[0]


def test_an_acknowledged_advisory_does_not_fail(tool: ModuleType, tmp_path: Path) -> None:
    ignore = tmp_path / "ignore.txt"
    ignore.write_text("# comment\n\nCVE-2023-5752  # pip is upgraded before use\n", "utf-8")
    ignored = tool.read_ignored(ignore)
    assert ignored == frozenset({"CVE-2023-5752"})
    outcome = tool.judge(VULNERABLE, "", ignored)
    assert outcome.code == 0
    assert outcome.lines[0].startswith("dependency audit: 2 packages checked, no known")


def test_nothing_looked_up_is_a_skip_not_a_clean_bill(tool: ModuleType) -> None:
    outcome = tool.judge(NOTHING_LOOKED_UP, "", frozenset())
    assert outcome.code == 0
    assert outcome.lines[0].startswith(
        "dependency audit skipped: no advisory database reachable (0 of 2 packages"
    )
    assert "no known vulnerabilities" not in " ".join(outcome.lines)


def _fake(tmp_path: Path, body: str) -> list[str]:
    """A stand-in for pip-audit: ``output`` is the path given after ``--output``."""
    script = tmp_path / "fake_pip_audit.py"
    script.write_text(
        "import sys, time, json\n"
        "output = sys.argv[sys.argv.index('--output') + 1]\n" + textwrap.dedent(body),
        "utf-8",
    )
    return [sys.executable, str(script)]


def test_a_network_failure_is_a_skip_with_the_reason(tool: ModuleType, tmp_path: Path) -> None:
    command = _fake(
        tmp_path,
        """
        print("Traceback ...", file=sys.stderr)
        print("requests.exceptions.ConnectionError: Max retries exceeded", file=sys.stderr)
        sys.exit(1)
        """,
    )
    outcome = tool.audit(command, 30, frozenset())
    assert outcome.code == 0
    assert outcome.lines == (
        "dependency audit skipped: no advisory database reachable "
        "(requests.exceptions.ConnectionError: Max retries exceeded)",
    )


def test_an_audit_that_hangs_is_cut_off_and_skipped(tool: ModuleType, tmp_path: Path) -> None:
    outcome = tool.audit(_fake(tmp_path, "time.sleep(30)\n"), 1, frozenset())
    assert outcome.code == 0
    assert outcome.lines == (
        "dependency audit skipped: no advisory database reachable (no answer within 1 s)",
    )


def test_the_report_pip_audit_writes_is_judged(tool: ModuleType, tmp_path: Path) -> None:
    command = _fake(
        tmp_path,
        f"open(output, 'w').write({json.dumps(json.dumps(VULNERABLE))})\nsys.exit(1)\n",
    )
    outcome = tool.audit(command, 30, frozenset())
    assert outcome.code == 1
    assert any("GHSA-mq26-g339-26xf" in line for line in outcome.lines)
