"""The factor library: shipped sets, user sets, lookups, filters and search."""

from __future__ import annotations

import csv
import hashlib
import json
from importlib import resources
from typing import Any

import pyarrow as pa
import pytest

from esgledger.errors import FactorNotFoundError, InputError
from esgledger.factors import FactorLibrary, conflicting_ids
from esgledger.factors.sources._common import FACTOR_COLUMNS
from esgledger.store import Workspace
from esgledger.store.repository import register_batch, save_factor_set

SHIPPED_IDS = [
    "cn-defaults",
    "cn-mee",
    "desnz-2024",
    "ember-2025",
    "epa-hub-2025",
    "ipcc-2006",
    "useeio-1.3.0",
]


def factor(factor_id: str, **fields: Any) -> dict[str, Any]:
    """A factor row with defaults for the required columns."""
    row: dict[str, Any] = {
        "factor_id": factor_id,
        "factor_set": "test",
        "activity": "electricity",
        "region": "CN",
        "year": 2023,
        "unit": "kWh",
        "co2_kg": 0.5,
        "method": "location",
        "source": "Test source",
    }
    row.update(fields)
    return row


@pytest.fixture
def small() -> FactorLibrary:
    rows = [
        factor("t:cn:2023", description="China grid"),
        factor("t:gd:2023", region="CN-GD", co2_kg=0.44, description="Guangdong grid"),
        factor("t:gd:2022", region="CN-GD", year=2022, co2_kg=0.45),
        factor(
            "t:r410a",
            activity="refrigerant.R-410A",
            region="GLOBAL",
            unit="kg",
            co2_kg=None,
            co2e_kg=2255.5,
            method="gwp",
        ),
        factor(
            "o:diesel",
            factor_set="other",
            activity="stationary.diesel",
            region="GB",
            unit="litre",
            method="fuel",
            source="UK DESNZ 2024",
        ),
    ]
    sets = [
        {"id": "test", "name": "Test set", "edition": "1", "licence": "CC0", "shipped": True},
        {"id": "other", "precedence": 100},
    ]
    return FactorLibrary.from_rows(rows, sets)


def ids(table: pa.Table) -> list[str]:
    return [str(v) for v in table.column("factor_id").to_pylist()]


# ---- shipped sets ------------------------------------------------------------------------


def test_shipped_library_holds_every_shipped_set_with_its_metadata() -> None:
    library = FactorLibrary.shipped()
    folder = resources.files("esgledger.data.factors")
    assert [s["id"] for s in library.sets()] == SHIPPED_IDS
    for record in library.sets():
        meta = json.loads(folder.joinpath(f"{record['id']}.meta.json").read_text("utf-8"))
        assert record["rows"] == meta["rows"]
        assert (record["source"], record["edition"]) == (meta["source"], meta["edition"])
        assert (record["licence"], record["attribution"]) == (meta["licence"], meta["attribution"])
        assert (record["precedence"], record["shipped"]) == (0, True)
    assert len(library) == sum(s["rows"] for s in library.sets())


def test_shipped_library_is_loaded_once() -> None:
    assert FactorLibrary.shipped() is FactorLibrary.shipped()


def test_get_returns_the_shipped_row_as_published() -> None:
    # MEE/NBS Announcement 2025 No. 47, Table 3: Guangdong 2023 = 0.4419 kg CO2/kWh.
    row = FactorLibrary.shipped().get("cn-mee:location:CN-GD:2023")
    assert list(row) == list(FACTOR_COLUMNS)
    assert (row["activity"], row["region"], row["year"], row["unit"]) == (
        "electricity",
        "CN-GD",
        2023,
        "kWh",
    )
    assert row["co2_kg"] == pytest.approx(0.4419, rel=1e-12)
    assert row["co2e_kg"] is None


def test_get_every_column_matches_the_shipped_csv() -> None:
    text = resources.files("esgledger.data.factors").joinpath("useeio-1.3.0.csv").read_text()
    first = next(csv.DictReader(text.splitlines()))
    row = FactorLibrary.shipped().get(first["factor_id"])
    assert {k: "" if v is None else str(v) for k, v in row.items()} == first


def test_get_unknown_id_suggests_close_ids() -> None:
    with pytest.raises(FactorNotFoundError) as info:
        FactorLibrary.shipped().get("cn-mee:location:CN-GD:2024")
    assert str(info.value) == (
        "no factor with id 'cn-mee:location:CN-GD:2024'; did you mean "
        "cn-mee:location:CN-GD:2023, cn-mee:location:CN-GD:2022, cn-mee:location:CN-GD:2021? "
        "(`esgledger factors search TEXT` finds factors)"
    )
    assert isinstance(info.value, LookupError)


def test_get_unknown_id_without_close_match(small: FactorLibrary) -> None:
    with pytest.raises(
        FactorNotFoundError,
        match=r"^no factor with id 'zzz' \(`esgledger factors search TEXT` finds factors\)$",
    ):
        small.get("zzz")


def test_conflicting_ids_names_shipped_ids_only() -> None:
    assert conflicting_ids(["mine:1", "ember-2025:FR:2024", "cn-mee:location:CN:2023"]) == [
        "cn-mee:location:CN:2023",
        "ember-2025:FR:2024",
    ]
    assert conflicting_ids(["mine:1"]) == []


# ---- hand-made libraries -----------------------------------------------------------------


def test_from_rows_fills_set_metadata_from_the_factors(small: FactorLibrary) -> None:
    assert small.sets() == [
        {
            "id": "test",
            "name": "Test set",
            "source": "Test source",
            "edition": "1",
            "licence": "CC0",
            "attribution": None,
            "precedence": 0,
            "rows": 4,
            "shipped": True,
        },
        {
            "id": "other",
            "name": "other",
            "source": "UK DESNZ 2024",
            "edition": None,
            "licence": None,
            "attribution": None,
            "precedence": 100,
            "rows": 1,
            "shipped": False,
        },
    ]


def test_duplicate_factor_ids_are_refused() -> None:
    with pytest.raises(ValueError, match=r"^factor ids occur more than once: \['a'\]$"):
        FactorLibrary.from_rows([factor("a"), factor("a", region="GB")])


def test_factors_of_an_undeclared_set_are_refused() -> None:
    table = FactorLibrary.from_rows([factor("a")]).as_arrow()
    with pytest.raises(ValueError, match=r"^factors name factor sets that have no record"):
        FactorLibrary(table, [{"id": "another"}])


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({"activity": "electricity"}, ["t:cn:2023", "t:gd:2023", "t:gd:2022"]),
        ({"activity": "refrigerant.*"}, ["t:r410a"]),
        ({"region": "cn-gd"}, ["t:gd:2023", "t:gd:2022"]),
        ({"region": "CN-GD", "year": 2022}, ["t:gd:2022"]),
        ({"source": "other"}, ["o:diesel"]),
        ({"source": "desnz"}, ["o:diesel"]),
        ({"factor_set": "test", "method": "gwp"}, ["t:r410a"]),
        ({"method": "spend"}, []),
    ],
)
def test_filter(small: FactorLibrary, criteria: dict[str, Any], expected: list[str]) -> None:
    assert ids(small.filter(**criteria)) == expected


def test_filter_without_criteria_is_everything(small: FactorLibrary) -> None:
    assert small.filter().equals(small.as_arrow())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GUANGDONG", ["t:gd:2023"]),  # description, any case
        ("cn-gd", ["t:gd:2023", "t:gd:2022"]),  # region
        ("外购电力 CN-GD", ["t:gd:2023", "t:gd:2022"]),  # Chinese name of the activity, and region
        (
            "租赁资产用电",
            ["t:cn:2023", "t:gd:2023", "t:gd:2022"],
        ),  # leased.electricity
        ("制冷剂", ["t:r410a"]),  # Chinese name of the refrigerant.* family
        ("desnz", ["o:diesel"]),  # source
        ("t:r410", ["t:r410a"]),  # id
        ("diesel 2024", ["o:diesel"]),
        ("electricity GB", []),
    ],
)
def test_search(small: FactorLibrary, text: str, expected: list[str]) -> None:
    assert ids(small.search(text)) == expected


def test_search_shipped_finds_provincial_factors_by_chinese_name() -> None:
    found = ids(FactorLibrary.shipped().search("外购电力 cn-gd"))
    assert found == [
        "cn-mee:location:CN-GD:2023",
        "cn-mee:location:CN-GD:2021",
        "cn-mee:location:CN-GD:2022",
    ]


# ---- user sets ---------------------------------------------------------------------------


def test_with_user_sets_adds_rows_and_never_changes_the_base(small: FactorLibrary) -> None:
    user = small.with_user_sets(
        [{"id": "mine", "name": "My factors", "precedence": None}],
        [factor("mine:gd", factor_set="mine", region="CN-GD", co2_kg=0.3, batch_id="x")],
    )
    assert len(user) == len(small) + 1
    assert "mine:gd" in user
    assert "mine:gd" not in small
    assert user.get("t:gd:2023") == small.get("t:gd:2023")
    info = user.set_info("mine")
    assert (info["precedence"], info["shipped"], info["rows"]) == (100, False, 1)
    assert [s["id"] for s in user.sets()] == ["test", "mine", "other"]  # equal precedence: by id


def test_user_sets_are_listed_by_descending_precedence(small: FactorLibrary) -> None:
    user = small.with_user_sets(
        [{"id": "b", "precedence": 150}, {"id": "a", "precedence": 120}],
        [factor("b:1", factor_set="b"), factor("a:1", factor_set="a")],
    )
    assert [s["id"] for s in user.sets()] == ["test", "b", "a", "other"]


def test_a_user_factor_may_not_reuse_a_library_id(small: FactorLibrary) -> None:
    with pytest.raises(InputError) as info:
        small.with_user_sets([{"id": "mine"}], [factor("t:gd:2023", factor_set="mine")])
    assert str(info.value) == (
        "user factor sets conflict with the factor library\n"
        "  mine, column 'factor_id': the id of a factor already in the library (an override "
        "is a new factor with its own id, in a set of higher precedence) "
        "(value: 't:gd:2023'). Fix: give the factor an id of your own, e.g. prefixed by your "
        "set's id"
    )


def test_a_user_set_may_not_reuse_a_set_id(small: FactorLibrary) -> None:
    with pytest.raises(InputError, match="a factor set with this id is already in the library"):
        small.with_user_sets([{"id": "test"}], [factor("new:1")])


def test_for_workspace_adds_the_workspace_sets(sqlite_workspace: Workspace) -> None:
    row = factor("acme:gd", factor_set="acme", region="CN-GD", co2_kg=0.3, source="ACME PPA")
    del row["factor_set"]
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
    library = FactorLibrary.for_workspace(sqlite_workspace)
    assert len(library) == len(FactorLibrary.shipped()) + 1
    assert library.get("acme:gd")["co2_kg"] == 0.3
    assert library.sets()[-1] == {
        "id": "acme",
        "name": "ACME",
        "source": "ACME PPA",
        "edition": None,
        "licence": None,
        "attribution": None,
        "precedence": 100,
        "rows": 1,
        "shipped": False,
    }


def test_public_api() -> None:
    import esgledger.factors as package

    assert package.__all__ == [
        "SHIPPED_PRECEDENCE",
        "TIERS",
        "USER_PRECEDENCE",
        "FactorLibrary",
        "Resolution",
        "Strictness",
        "conflicting_ids",
        "gwp_factor",
        "parse_proxies",
        "proxies_from_options",
        "reported_factor",
        "resolve",
        "resolve_many",
    ]
    assert all(hasattr(package, name) for name in package.__all__)
