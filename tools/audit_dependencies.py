"""Audit the installed Python packages for known vulnerabilities (issue 11 §17).

Usage: ``.venv/bin/python tools/audit_dependencies.py [--timeout SECONDS]``

Runs pip-audit (a dev dependency) on the environment of this interpreter — everything
``pip install -e ".[dev]"`` installed, pip itself included — and judges its JSON report:

* known vulnerabilities (other than those acknowledged in ``tools/audit-ignore.txt``, one
  advisory id per line with the reason after ``#``): each is printed, exit 1 (CI fails);
* every package looked up, none vulnerable: one line with the count, exit 0;
* nothing could be looked up — no advisory database reachable (offline, an index without
  vulnerability data, a timeout) or pip-audit missing: ``dependency audit skipped: ...`` with
  the reason, exit 0. pip-audit itself then says "No known vulnerabilities found" although it
  checked nothing; this script never does.

The run is bounded by ``--timeout`` (default 180 s).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SKIPPED = "dependency audit skipped: no advisory database reachable"
IGNORE_FILE = Path(__file__).with_name("audit-ignore.txt")


@dataclass(frozen=True)
class Outcome:
    """The exit code of the audit and the lines it prints."""

    code: int
    lines: tuple[str, ...]


def read_ignored(path: Path = IGNORE_FILE) -> frozenset[str]:
    """Advisory ids acknowledged in ``path`` (``ID  # reason``; blank lines and comments
    skipped)."""
    if not path.is_file():
        return frozenset()
    ids = (line.split("#", 1)[0].strip() for line in path.read_text("utf-8").splitlines())
    return frozenset(i for i in ids if i)


def judge(report: dict[str, Any] | None, error: str, ignored: frozenset[str]) -> Outcome:
    """The outcome of a pip-audit JSON ``report`` (None when pip-audit gave none: ``error``
    says why)."""
    if report is None:
        return Outcome(0, (f"{SKIPPED} ({error})",))
    dependencies = report.get("dependencies", [])
    audited = [d for d in dependencies if "skip_reason" not in d]
    skipped = [d for d in dependencies if "skip_reason" in d]
    if not audited:
        example = f"; e.g. {skipped[0]['skip_reason']}" if skipped else ""
        return Outcome(
            0,
            (f"{SKIPPED} (0 of {len(dependencies)} packages could be looked up{example})",),
        )
    found = [
        (d["name"], d.get("version", "?"), v["id"], v.get("fix_versions", []))
        for d in audited
        for v in d.get("vulns", [])
        if v["id"] not in ignored and not ignored.intersection(v.get("aliases", []))
    ]
    not_checked = ""
    if skipped:
        names = ", ".join(d["name"] for d in skipped[:10])
        more = f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""
        not_checked = f"; {len(skipped)} could not be looked up: {names}{more}"
    if not found:
        return Outcome(
            0,
            (
                f"dependency audit: {len(audited)} packages checked, no known vulnerabilities"
                f"{not_checked}",
            ),
        )
    lines = [
        f"dependency audit: {len(found)} known vulnerabilities in the {len(audited)} packages "
        f"checked{not_checked}"
    ]
    for name, version, advisory, fixes in found:
        fixed = ", ".join(fixes) if fixes else "no fixed release yet"
        lines.append(f"  {name} {version}: {advisory} (fixed in {fixed})")
    lines.append(
        "Upgrade those packages (raise the lower bound in pyproject.toml), or, if an advisory "
        "does not apply, add its id with the reason to tools/audit-ignore.txt."
    )
    return Outcome(1, tuple(lines))


def audit(command: Sequence[str], timeout: float, ignored: frozenset[str]) -> Outcome:
    """Run the pip-audit ``command`` (JSON written to a temporary file) within ``timeout``
    seconds and judge its report."""
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "audit.json"
        argv = [
            *command,
            "--format",
            "json",
            "--output",
            str(output),
            "--progress-spinner",
            "off",
            "--timeout",
            "15",
        ]
        try:
            completed = subprocess.run(
                argv, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            return judge(None, f"no answer within {timeout:.0f} s", ignored)
        except OSError as exc:
            return judge(None, f"pip-audit could not run: {exc}", ignored)
        if not output.is_file():
            messages = [line.strip() for line in completed.stderr.splitlines() if line.strip()]
            reason = messages[-1][:300] if messages else f"pip-audit exit {completed.returncode}"
            return judge(None, reason, ignored)
        try:
            report = json.loads(output.read_text("utf-8"))
        except json.JSONDecodeError as exc:
            return judge(None, f"pip-audit wrote no readable report: {exc}", ignored)
    return judge(report, "", ignored)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds (default 180)")
    args = parser.parse_args(argv)
    try:
        import pip_audit  # noqa: F401  (only: is it installed?)
    except ImportError:
        print(f"{SKIPPED} (pip-audit is not installed: pip install -e '.[dev]')")
        return 0
    outcome = audit([sys.executable, "-m", "pip_audit"], args.timeout, read_ignored())
    for line in outcome.lines:
        print(line)
    return outcome.code


if __name__ == "__main__":
    sys.exit(main())
