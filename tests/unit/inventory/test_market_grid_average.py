"""Market-based scope 2 without instruments or residual mix equals location-based.

GHG Protocol Scope 2 Guidance (2015), §6.11 and Table 6.3: the market-based hierarchy ends
with "other grid-average emission factors" where no supplier-specific factor and no residual
mix is available. That grid average is the very factor location-based uses for the same
electricity — resolved once by the engine, with the same precedence (user sets over shipped
ones), tiers, explicit factor ids and GWP weighting — so, with no instrument and no residual
mix, market-based = location-based for every site (issue 10, §2: a US site whose user factor,
500 kg/MWh, beat the shipped EPA national average in location-based was priced at the EPA
351.6 kg/MWh in market-based).

China ships a residual mix (MEE/NBS national factor excluding market-traded non-fossil
electricity, ``cn-mee:residual_mix:CN:<year>``), so a Chinese province's remainder is priced
at it; for those cases the test checks that the grid average the market-based method holds
for the site is still the location-based factor, and that the residual mix was used.

Tolerance: relative 1e-9, float rounding only (the same kg and MWh summed two ways).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from _backends import DbBackend
from _inventory_support import YEAR, activity, entity, import_rows, site, user_factor
from esgledger.inventory import calculate, summary
from esgledger.inventory.explain import explain
from esgledger.inventory.market import market_based

REL = 1e-9
# MEE/NBS 2023 national factor excluding market-traded non-fossil electricity, 0.6096
# kg CO2/kWh (Announcement 2025 No. 47), the shipped residual mix for 2024 (latest vintage).
CN_RESIDUAL_KG_PER_MWH = 609.6


@dataclass(frozen=True)
class Case:
    """One site: where it is, the user factors of the workspace, what its row names."""

    name: str
    country: str
    region: str | None
    factors: tuple[dict[str, Any], ...]
    row: dict[str, Any]
    residual_mix: bool = False
    expected_factor: str | None = None


def _f(fid: str, region: str, kg: float, **extra: Any) -> dict[str, Any]:
    return user_factor(fid, "electricity", "MWh", kg, region=region, **extra)


CASES = (
    # The case: a user country factor beats the shipped EPA national average.
    Case("us-user-beats-epa", "US", None, (_f("my-US", "US", 500.0),), {}, False, "my-US"),
    # User factors for countries without a shipped location-method factor.
    Case("au-user", "AU", None, (_f("my-AU", "AU", 600.0),), {}, False, "my-AU"),
    Case("ca-user", "CA", None, (_f("my-CA", "CA", 120.0),), {}, False, "my-CA"),
    Case("in-user", "IN", None, (_f("my-IN", "IN", 700.0),), {}, False, "my-IN"),
    Case("tr-user", "TR", None, (_f("my-TR", "TR", 450.0),), {}, False, "my-TR"),
    # Shipped factors only: DESNZ 2024 UK electricity.
    Case("gb-shipped", "GB", "GB", (), {}, False, "desnz-2024:7_400_4000_5:electricity"),
    # A row that names its factor: location-based uses it, so the grid average is it too.
    Case(
        "us-explicit-factor",
        "US",
        None,
        (_f("my-US-a", "US", 500.0), _f("my-US-b", "US", 420.0, year=YEAR - 1)),
        {"factor": "my-US-b"},
        False,
        "my-US-b",
    ),
    # A Chinese province whose user factor beats the shipped MEE provincial factor; China
    # ships a residual mix, which prices the remainder.
    Case("cn-gd-user", "CN", "CN-GD", (_f("my-GD", "CN-GD", 400.0),), {}, True, "my-GD"),
    Case("cn-sh-shipped", "CN", "CN-SH", (), {}, True, None),
)


def _workspace(backend: DbBackend, root: Path, case: Case) -> Any:
    ws = backend.init_workspace(root)
    import_rows(ws, "entities", [entity("GRP", country=case.country)])
    import_rows(ws, "sites", [site("S1", "GRP", country=case.country, region=case.region)])
    if case.factors:
        import_rows(ws, "factors", list(case.factors))
    rows = [
        activity("electricity", 40, "MWh", site="S1", period_end=f"{YEAR}-06-30",
                 record_id="E-H1", **case.row),
        activity("electricity", 60_000, "kWh", site="S1", period_start=f"{YEAR}-07-01",
                 record_id="E-H2", **case.row),
    ]  # fmt: skip
    import_rows(ws, "activities", rows)
    return ws


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_without_instruments_or_residual_mix_market_based_equals_location_based(
    case: Case, db_backend: DbBackend, tmp_path: Path
) -> None:
    ws = _workspace(db_backend, tmp_path / "ws", case)
    with ws:
        run = calculate(ws, category_3=False)
        result = market_based(ws, run, write=False)
    data = summary(run)
    location_t = data["by_site"]["S1"]["scope2_location"]
    mwh = 40 + 60
    location_rate = location_t * 1000 / mwh  # [kg CO2e / MWh]
    factors = result.remainder_factors["S1"]
    # The grid average the market-based method holds for the site, and for each of its
    # site-periods, is the factor of the location-based lines.
    assert factors.grid_average is not None
    assert factors.grid_average.co2e_kg_per_mwh == pytest.approx(location_rate, rel=REL)
    for line in result.lines:
        grid = factors.grid_average_for(line.period_start)
        assert grid is not None
        assert grid.co2e_kg_per_mwh == pytest.approx(location_rate, rel=REL)
        assert "Table 6.3" in grid.reason
    if case.expected_factor is not None:
        assert factors.grid_average.factor_id == case.expected_factor
        assert all(
            line["factor_id"] == case.expected_factor
            for line in run.line_items().to_pylist()
            if line["activity"] == "electricity"
        )
    if case.residual_mix:
        assert factors.residual_mix is not None
        assert {line.remainder_method for line in result.lines} == {"residual_mix"}
        assert result.electricity_t * 1000 == pytest.approx(mwh * CN_RESIDUAL_KG_PER_MWH, rel=REL)
        return
    assert factors.residual_mix is None
    assert factors.supplier is None
    assert {line.remainder_method for line in result.lines} == {"grid_average"}
    assert data["totals"]["scope2_market"] == pytest.approx(location_t, rel=REL)
    assert data["by_site"]["S1"]["scope2_market"] == pytest.approx(location_t, rel=REL)
    assert result.electricity_t == pytest.approx(location_t, rel=REL)


def test_five_countries_of_user_factors_give_equal_totals(
    db_backend: DbBackend, tmp_path: Path
) -> None:
    """The issue's workspace: user factors for AU, CA, IN, US and TR in one set, one site
    in each; every site's market-based figure equals its location-based figure."""
    kg = {"AU": 600.0, "CA": 120.0, "IN": 700.0, "US": 500.0, "TR": 450.0}
    ws = db_backend.init_workspace(tmp_path / "ws")
    import_rows(ws, "entities", [entity("GRP", country="US")])
    import_rows(ws, "sites", [site(f"S-{c}", "GRP", country=c) for c in kg])
    import_rows(ws, "factors", [_f(f"my-{c}", c, v) for c, v in kg.items()])
    import_rows(ws, "activities", [activity("electricity", 100, "MWh", site=f"S-{c}") for c in kg])
    with ws:
        run = calculate(ws, category_3=False)
    data = summary(run)
    for country, rate in kg.items():
        entry = data["by_site"][f"S-{country}"]
        assert entry["scope2_location"] == pytest.approx(100 * rate / 1000, rel=REL)
        assert entry["scope2_market"] == pytest.approx(entry["scope2_location"], rel=REL)
    assert data["totals"]["scope2_market"] == pytest.approx(
        data["totals"]["scope2_location"], rel=REL
    )


def test_explain_names_the_grid_average_and_why(db_backend: DbBackend, tmp_path: Path) -> None:
    ws = _workspace(db_backend, tmp_path / "ws", CASES[0])
    with ws:
        run = calculate(ws, category_3=False)
    explanation = explain(run, "E-H1")
    text = explanation.to_text()
    assert "remainder: 40 MWh × 500 kg/MWh (grid average, my-US)" in text
    assert "the grid average is the factor location-based uses for this site-period" in text
    assert "Scope 2 Guidance (2015) §6.11, Table 6.3" in text
    zh = explanation.to_text("zh-CN")
    assert "剩余电量: 40 MWh × 500 kg/MWh (电网平均因子, my-US)" in zh
    assert "电网平均因子即本站点-期间基于位置法所用的同一因子" in zh
