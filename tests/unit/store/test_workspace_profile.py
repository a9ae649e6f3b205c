"""``Workspace.init(country=...)`` writes the country's profile into esgledger.toml, and the
workspace reads its fallbacks back (``[[factors.fallbacks]]``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from esgledger.errors import WorkspaceError
from esgledger.factors.profiles import get
from esgledger.store import Workspace


def test_init_without_a_country_writes_no_profile(tmp_path: Path) -> None:
    with Workspace.init(tmp_path / "ws", year=2024) as ws:
        assert ws.profile == {}
        assert ws.factor_fallbacks == ()


@pytest.mark.parametrize(("country", "profile"), [("CN", "CN"), ("hk", "HK"), ("FR", "generic")])
def test_init_with_a_country_writes_its_profile(tmp_path: Path, country: str, profile: str) -> None:
    Workspace.init(tmp_path / "ws", year=2024, country=country).close()
    with Workspace.open(tmp_path / "ws") as ws:
        assert ws.profile["profile"] == profile
        assert ws.profile["country"] == country.upper()
        assert ws.factor_fallbacks == get(profile).fallbacks
        assert ws.factor_proxies == {}  # a profile adds fallbacks, never region-wide proxies


def test_init_refuses_a_code_that_is_not_a_country(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match=r"'CN-GD' is not a country code"):
        Workspace.init(tmp_path / "ws", year=2024, country="CN-GD")
    assert not (tmp_path / "ws" / "esgledger.toml").exists()


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ('\n[factors]\nfallbacks = "GB"\n', "must be a list of tables"),
        (
            '\n[[factors.fallbacks]]\nactivities = ["travel.rail"]\nregions = ["ZZ"]\n',
            "fallback 1: region 'ZZ' is not a region code",
        ),
    ],
)
def test_a_malformed_fallback_is_a_workspace_error(
    tmp_path: Path, extra: str, problem: str
) -> None:
    root = tmp_path / "ws"
    Workspace.init(root, year=2024).close()
    config = root / "esgledger.toml"
    config.write_text(config.read_text(encoding="utf-8") + extra, encoding="utf-8")
    with Workspace.open(root) as ws, pytest.raises(WorkspaceError) as caught:
        ws.factor_fallbacks  # noqa: B018 - the property reads and checks the setting
    assert problem in str(caught.value)
    assert "[[factors.fallbacks]]" in str(caught.value)
