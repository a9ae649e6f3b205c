"""The read-only proxy setting of a workspace (``[factors] proxies`` in esgledger.toml)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from esgledger.errors import WorkspaceError
from esgledger.store import Workspace


def _workspace_with(tmp_path: Path, extra: str) -> Path:
    root = tmp_path / "ws"
    Workspace.init(root, year=2024).close()
    config = root / "esgledger.toml"
    config.write_text(config.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return root


def test_no_setting_means_no_proxies(tmp_path: Path) -> None:
    with Workspace.open(_workspace_with(tmp_path, "")) as ws:
        assert ws.factor_proxies == {}


def test_proxies_are_read_checked_and_upper_cased(tmp_path: Path) -> None:
    root = _workspace_with(tmp_path, '\n[factors]\nproxies = { cn = ["GB", "us"], "*" = ["GB"] }\n')
    with Workspace.open(root) as ws:
        assert ws.factor_proxies == {"CN": ("GB", "US"), "*": ("GB",)}


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ('\n[factors]\nproxies = { CN = "GB" }\n', "must map region codes to lists"),
        ('\n[factors]\nproxies = { CN = ["ZZ"] }\n', "proxy region 'ZZ' for CN is not a region"),
        ('\nfactors = "GB"\n', "[factors] must be a table"),
    ],
)
def test_a_bad_setting_is_a_workspace_error_naming_the_file(
    tmp_path: Path, extra: str, problem: str
) -> None:
    root = _workspace_with(tmp_path, extra)
    expected = f"^{re.escape(str(root.resolve() / 'esgledger.toml'))}: .*{re.escape(problem)}"
    with Workspace.open(root) as ws, pytest.raises(WorkspaceError, match=expected):
        _ = ws.factor_proxies
