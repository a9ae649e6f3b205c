"""``esgledger activities`` and ``esgledger factors ...`` from the command line."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from esgledger.cli import app
from esgledger.factors import FactorLibrary
from esgledger.store import Workspace
from esgledger.store.repository import register_batch, save_factor_set

runner = CliRunner()
WIDE = {"COLUMNS": "200"}  # Rich tables fit the terminal width; make it wide for the tests


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args), env=WIDE)


def cells(output: str) -> list[list[str]]:
    """The rows of a Rich table printed with box.SIMPLE_HEAD, split into cells."""
    return [re.split(r"\s{2,}", line.strip()) for line in output.splitlines() if line.strip()]


@pytest.fixture
def acme(sqlite_workspace: Workspace) -> Path:
    """A workspace (reporting year 2024) with a user set ``acme`` of one Guangdong factor."""
    row = {
        "factor_id": "acme:gd:2023",
        "activity": "electricity",
        "region": "CN-GD",
        "year": 2023,
        "unit": "kWh",
        "co2_kg": 0.42,
        "method": "location",
        "source": "ACME grid study",
        "licence": "internal",
    }
    with sqlite_workspace.session() as session:
        batch = register_batch(
            session,
            kind="factors",
            file_name="acme.csv",
            content_hash=hashlib.sha256(b"acme").hexdigest(),
            row_count=1,
        )
        save_factor_set(
            session, set_id="acme", name="ACME", precedence=100, factors=[row], batch=batch
        )
    return sqlite_workspace.root


# ---- activities --------------------------------------------------------------------------


def test_activities_in_english() -> None:
    result = invoke("activities")
    assert result.exit_code == 0, result.output
    rows = cells(result.stdout)
    assert rows[0] == ["activity", "name", "dimension", "scope", "category"]
    assert ["electricity", "Purchased grid electricity", "[energy]", "2"] in rows
    spend = next(r for r in rows if r[0] == "spend.naics.*")
    assert spend[2:] == ["[currency]", "3", "1"]


def test_activities_in_chinese() -> None:
    result = invoke("activities", "--lang", "zh-CN")
    assert result.exit_code == 0, result.output
    rows = cells(result.stdout)
    assert rows[0] == ["活动类型", "名称", "量纲", "范围", "范围三类别"]
    assert ["electricity", "外购电力", "[energy]", "2"] in rows


def test_activities_with_an_unknown_language_is_a_usage_error() -> None:
    result = invoke("activities", "--lang", "fr")
    assert result.exit_code == 2


# ---- factors sets / list / show / search -------------------------------------------------


def test_factors_sets_lists_shipped_sets_with_their_provenance() -> None:
    result = invoke("factors", "sets")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "cn-defaults (shipped, precedence 0, 20 factors)"
    headers = [line for line in lines if not line.startswith(" ")]
    assert headers == [
        f"{s['id']} (shipped, precedence 0, {s['rows']} factors)"
        for s in FactorLibrary.shipped().sets()
    ]
    assert "  licence      CC BY 4.0" in lines
    assert "  attribution  Source: Ember, Yearly Electricity Data (2025), CC BY 4.0" in lines


def test_factors_sets_of_a_workspace_include_its_user_sets(acme: Path) -> None:
    result = invoke("factors", "sets", str(acme))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    start = lines.index("acme (user set, precedence 100, 1 factors)")
    assert lines[start + 1 : start + 6] == [
        "  name         ACME",
        "  source       ACME grid study",
        "  edition      -",
        "  licence      internal",
        "  attribution  -",
    ]


def test_factors_sets_of_a_missing_workspace_fails(tmp_path: Path) -> None:
    result = invoke("factors", "sets", str(tmp_path / "nowhere"))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")


def test_factors_list_filters() -> None:
    result = invoke("factors", "list", "--region", "CN-GD")
    assert result.exit_code == 0, result.output
    rows = cells(result.stdout)
    assert rows[0] == ["factor_id", "activity", "region", "year", "unit", "method", "kg per unit"]
    assert rows[2:5] == [
        [
            "cn-mee:location:CN-GD:2023",
            "electricity",
            "CN-GD",
            "2023",
            "kWh",
            "location",
            "co2 0.4419",
        ],
        [
            "cn-mee:location:CN-GD:2021",
            "electricity",
            "CN-GD",
            "2021",
            "kWh",
            "location",
            "co2 0.4715",
        ],
        [
            "cn-mee:location:CN-GD:2022",
            "electricity",
            "CN-GD",
            "2022",
            "kWh",
            "location",
            "co2 0.4403",
        ],
    ]
    assert rows[-1] == ["3 factor(s) with region CN-GD"]


def test_factors_list_limit_and_combined_filters() -> None:
    result = invoke(
        "factors", "list", "--source", "cn-mee", "--year", "2023", "--method", "location",
        "--limit", "2",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        # 2023 location factors: 30 provinces (no Tibet), 7 regional grids, the national one
        "2 of 38 factors with set/source cn-mee, year 2023, method location; "
        "use --limit N (0 = all) to see more"
    )


def test_factors_list_by_activity_prefix_and_nothing_found() -> None:
    result = invoke("factors", "list", "--activity", "refrigerant.*", "--region", "US")
    assert result.exit_code == 0, result.output
    assert result.stdout == "no factors with region US, activity refrigerant.*\n"


def test_factors_show_prints_every_field_with_licence_and_attribution() -> None:
    result = invoke("factors", "show", "ember-2025:FR:2024")
    assert result.exit_code == 0, result.output
    fields = dict(line.split(maxsplit=1) for line in result.stdout.splitlines()[:-1])
    row = FactorLibrary.shipped().get("ember-2025:FR:2024")
    assert list(fields) == list(row)
    assert fields["licence"] == "CC BY 4.0"
    assert fields["attribution"] == "Source: Ember, Yearly Electricity Data (2025), CC BY 4.0"
    assert (fields["method"], fields["unit"], fields["supplier"]) == ("lifecycle", "kWh", "-")
    assert float(fields["co2e_kg"]) == row["co2e_kg"]
    assert result.stdout.splitlines()[-1] == "set precedence   0 (shipped)"


def test_factors_show_a_user_factor(acme: Path) -> None:
    result = invoke("factors", "show", "acme:gd:2023", "--workspace", str(acme))
    assert result.exit_code == 0, result.output
    assert "co2_kg           0.42" in result.stdout.splitlines()
    assert result.stdout.splitlines()[-1] == "set precedence   100 (user set)"


def test_factors_show_unknown_id_fails_with_a_suggestion() -> None:
    result = invoke("factors", "show", "cn-mee:location:CN-GD:2024")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        "error: no factor with id 'cn-mee:location:CN-GD:2024'; did you mean "
        "cn-mee:location:CN-GD:2023, "
    )


def test_factors_search_by_chinese_activity_name_and_region() -> None:
    result = invoke("factors", "search", "外购电力 cn-xz")
    assert result.exit_code == 0, result.output
    assert result.stdout == "no factors match '外购电力 cn-xz'\n"
    result = invoke("factors", "search", "外购电力 CN-GRID-SOUTHWEST", "--limit", "1")
    assert result.exit_code == 0, result.output
    rows = cells(result.stdout)
    assert rows[2][0] == "cn-mee:location:CN-GRID-SOUTHWEST:2021"
    assert rows[-1] == [
        "1 of 3 factors match '外购电力 CN-GRID-SOUTHWEST'; use --limit N (0 = all) to see more"
    ]


# ---- factors resolve ---------------------------------------------------------------------


def test_factors_resolve_prints_factor_tier_vintage_reason_and_conversion(
    sqlite_workspace: Workspace,
) -> None:
    result = invoke(
        "factors", "resolve", str(sqlite_workspace.root),
        "--activity", "electricity", "--region", "CN-XZ", "--unit", "MWh",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:7] == [
        "factor       cn-mee:location:CN-GRID-SOUTHWEST:2023",
        "value        kg co2 0.2472 per kWh",
        "source       "
        + FactorLibrary.shipped().get("cn-mee:location:CN-GRID-SOUTHWEST:2023")["source"]
        + " [cn-mee]",
        "tier         subnational",
        "vintage gap  -1 (factor 2023, reporting year 2024)",
        "conversion   1 MWh = 1000 kWh",
        "reason       CN-GRID-SOUTHWEST grid-region location-based factor 2023 (cn-mee) for "
        "reporting year 2024: latest earlier vintage, 1 year older; no qualifying factor "
        "for CN-XZ",
    ]
    assert lines[7].startswith("considered   cn-mee:location:CN-GRID-SOUTHWEST:2022: vintage")


def test_factors_resolve_uses_the_workspace_user_sets(acme: Path) -> None:
    result = invoke(
        "factors", "resolve", str(acme),
        "--activity", "electricity", "--region", "CN-GD", "--unit", "kWh",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "factor       acme:gd:2023"
    assert lines[6].endswith("; set acme (precedence 100) takes precedence over cn-mee (0)")


def test_factors_resolve_previews_a_proxy(sqlite_workspace: Workspace) -> None:
    # Kerosene: no China or global factor is shipped (diesel in litres now resolves to the
    # China default through its density).
    args = ["--activity", "stationary.kerosene", "--region", "CN-GD", "--unit", "L"]
    refused = invoke("factors", "resolve", str(sqlite_workspace.root), *args)
    assert refused.exit_code == 1
    assert "no factor for activity stationary.kerosene with unit 'L'" in refused.stderr
    result = invoke("factors", "resolve", str(sqlite_workspace.root), *args, "--proxy", "CN=GB")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "factor       desnz-2024:1_101_1010_8:stationary.kerosene"
    assert lines[3] == "tier         proxy"
    assert lines[6].startswith(
        "reason       no factor for CN-GD > CN-GRID-SOUTH > CN > GLOBAL; GB national fuel-based "
        "factor 2024 (desnz-2024) used as a proxy (proxies CN → GB)"
    )
    bad = invoke("factors", "resolve", str(sqlite_workspace.root), *args, "--proxy", "CN")
    assert bad.exit_code == 2
    assert "is not of the form REGION=PROXY" in " ".join(bad.stderr.replace("│", " ").split())


def test_factors_resolve_uses_the_profile_fallbacks_of_the_workspace(tmp_path: Path) -> None:
    root = tmp_path / "cn"
    assert invoke("init", str(root), "--country", "CN", "--year", "2024").exit_code == 0
    result = invoke(
        "factors", "resolve", str(root),
        "--activity", "travel.air.long_haul.economy", "--region", "CN-SH", "--unit", "pkm",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "factor       desnz-2024:21_316_3171_11:travel.air.long_haul.economy"
    assert lines[3] == "tier         default"
    assert "DESNZ factors used as an explicit global default for China" in lines[6]
    args = ["--activity", "travel.bus", "--region", "CN-GD", "--unit", "pkm", "--strict"]
    refused = invoke("factors", "resolve", str(root), *args, "global")
    assert refused.exit_code == 1
    assert "(tier default, vintage gap 0), but only tier global or better" in refused.stderr
    assert invoke("factors", "resolve", str(root), *args, "default").exit_code == 0


def test_factors_resolve_money_and_year_option(sqlite_workspace: Workspace) -> None:
    result = invoke(
        "factors", "resolve", str(sqlite_workspace.root),
        "--activity", "spend.naics.334111", "--region", "US", "--unit", "万元", "--year", "2022",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "factor       useeio-1.3.0:334111"
    assert lines[4] == "vintage gap  0 (factor 2022, reporting year 2022)"
    assert lines[5] == (
        "conversion   money: the engine converts 万元 into USD with the exchange rate of the "
        "price year 2022"
    )


def test_factors_resolve_refrigerant_with_gwp_set(sqlite_workspace: Workspace) -> None:
    result = invoke(
        "factors", "resolve", str(sqlite_workspace.root),
        "--activity", "refrigerant.R-410A", "--region", "CN", "--unit", "kg", "--gwp", "AR5",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    # AR5 WGI Table 8.A.1: 0.5 x HFC-32 (677) + 0.5 x HFC-125 (3170) = 1923.5
    assert lines[:2] == [
        "factor       ipcc-gwp:AR5:R-410A",
        "value        kg co2e 1923.5 per kg (AR5)",
    ]


def test_factors_resolve_strict_fails(sqlite_workspace: Workspace) -> None:
    result = invoke(
        "factors", "resolve", str(sqlite_workspace.root),
        "--activity", "electricity", "--region", "FR", "--unit", "kWh", "--strict", "subnational",
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        "error: strict: electricity in FR for 2024 resolves to ember-2025:FR:2024 (tier "
        "country, vintage gap 0), but only tier subnational or better is allowed"
    )
    result = invoke(
        "factors", "resolve", str(sqlite_workspace.root), "--activity", "electricity",
        "--region", "CN-GD", "--unit", "kWh", "--max-vintage-gap", "0",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "but only tier global or better, vintage gap at most 0 years" in result.stderr


def test_factors_resolve_with_methods_says_what_is_missing(sqlite_workspace: Workspace) -> None:
    result = invoke(
        "factors", "resolve", str(sqlite_workspace.root), "--activity", "electricity",
        "--region", "FR", "--unit", "kWh", "--method", "location", "--method", "residual_mix",
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: no factor for activity electricity with unit 'kWh' and method location or "
        "residual_mix in FR or above (FR > GLOBAL); 25 refused: method lifecycle not requested "
        "(requested: location, residual_mix); "
    )
    assert result.stderr.endswith(
        "add a factor for activity electricity in region FR or above: "
        "esgledger import WS --kind factors FILE\n"
    )


def test_factors_resolve_unknown_region_and_activity(sqlite_workspace: Workspace) -> None:
    root = str(sqlite_workspace.root)
    result = invoke(
        "factors", "resolve", root, "--activity", "electricity", "--region", "XX", "--unit", "kWh"
    )
    assert result.exit_code == 1
    assert result.stderr == (
        "error: unknown region code 'XX' (codes: GLOBAL, ISO countries such as CN, provinces "
        "such as CN-GD, CN-GRID-*, US-EGRID-*)\n"
    )
    result = invoke(
        "factors", "resolve", root, "--activity", "electricty", "--region", "CN", "--unit", "kWh"
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: unknown activity 'electricty'; did you mean ")
