"""The persistence API of the importers: batch registry, upserts, readers, atomicity."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.exc import IntegrityError

from esgledger.errors import WorkspaceError
from esgledger.store import Workspace
from esgledger.store.models import Entity, ImportBatch, Site
from esgledger.store.repository import (
    _parents_first,
    batch_id_for,
    load_activity_types,
    load_batches,
    load_entities,
    load_factor_sets,
    load_factors,
    load_fx_rates,
    load_sites,
    register_batch,
    save_activity_types,
    save_entities,
    save_factor_set,
    save_fx_rates,
    save_sites,
)

HASH_1 = hashlib.sha256(b"first file").hexdigest()
HASH_2 = hashlib.sha256(b"second file").hexdigest()


def _entity(code: str, parent: str | None = None, **changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "code": code,
        "name": f"{code} Ltd",
        "name_zh": None,
        "parent": parent,
        "ownership_pct": 100.0,
        "operational_control": True,
        "financial_control": True,
        "country": "CN",
    }
    record.update(changes)
    return record


def _site(code: str, entity: str) -> dict[str, Any]:
    return {
        "code": code,
        "entity": entity,
        "name": f"{code} data centre",
        "name_zh": None,
        "country": "CN",
        "region": "CN-GD",
        "type": "data_centre",
    }


def _codes(workspace: Workspace, model: type[Entity] | type[Site]) -> list[str]:
    with workspace.session() as session:
        return list(session.scalars(sa.select(model.code).order_by(model.code)))


def test_batch_ids_are_short_deterministic_and_differ_by_kind_and_content() -> None:
    first = batch_id_for("entities", HASH_1)
    assert re.fullmatch(r"b-[0-9a-f]{12}", first)
    assert batch_id_for("entities", HASH_1) == first
    assert batch_id_for("sites", HASH_1) != first
    assert batch_id_for("entities", HASH_2) != first


def test_a_registered_batch_is_found_by_kind_and_hash(workspace: Workspace) -> None:
    with workspace.session() as session:
        batch = register_batch(
            session,
            kind="entities",
            file_name="entities.csv",
            content_hash=HASH_1,
            row_count=3,
            summary={"columns": ["entity", "name"]},
        )
    assert batch.id == batch_id_for("entities", HASH_1)
    found = workspace.find_batch("entities", HASH_1)
    assert found is not None
    assert (found.id, found.file_name, found.row_count, found.lake_path, found.summary) == (
        batch.id,
        "entities.csv",
        3,
        None,
        {"columns": ["entity", "name"]},
    )
    assert workspace.find_batch("sites", HASH_1) is None
    assert workspace.find_batch("entities", HASH_2) is None


def test_registering_the_same_file_twice_is_refused(workspace: Workspace) -> None:
    with workspace.session() as session:
        register_batch(
            session, kind="entities", file_name="a.csv", content_hash=HASH_1, row_count=1
        )

    def register_again() -> None:
        with workspace.session() as session:
            register_batch(
                session, kind="entities", file_name="copy.csv", content_hash=HASH_1, row_count=1
            )

    with pytest.raises(
        WorkspaceError,
        match=re.escape(
            f"copy.csv (sha256 {HASH_1}) is already imported: it is batch "
            f"{batch_id_for('entities', HASH_1)} of kind 'entities'"
        ),
    ):
        register_again()
    # The same bytes as another kind are another batch.
    with workspace.session() as session:
        register_batch(session, kind="sites", file_name="a.csv", content_hash=HASH_1, row_count=1)
    with workspace.session() as session:
        assert [(b.kind, b.file_name) for b in load_batches(session)] == [
            ("entities", "a.csv"),
            ("sites", "a.csv"),
        ]


def test_the_database_enforces_one_batch_per_kind_and_hash(workspace: Workspace) -> None:
    """The unique constraint holds even for a writer that bypasses register_batch."""
    with workspace.session() as session:
        register_batch(
            session, kind="entities", file_name="a.csv", content_hash=HASH_1, row_count=1
        )
    first_id = batch_id_for("entities", HASH_1)

    def insert_duplicate() -> None:
        with workspace.session() as session:
            session.add(
                ImportBatch(
                    id="b-other",
                    kind="entities",
                    file_name="b.csv",
                    content_hash=HASH_1,
                    row_count=1,
                    imported_at=datetime.now(UTC),
                )
            )

    with pytest.raises(IntegrityError):
        insert_duplicate()
    with workspace.session() as session:
        assert [b.id for b in load_batches(session)] == [first_id]


def test_entities_are_saved_children_before_parents_in_the_file(workspace: Workspace) -> None:
    records = [_entity("MUSIC", parent="CONTENT"), _entity("CONTENT", parent="GRP"), _entity("GRP")]
    with workspace.session() as session:
        batch = register_batch(
            session, kind="entities", file_name="e.csv", content_hash=HASH_1, row_count=3
        )
        assert save_entities(session, records, batch) == 3
    with workspace.session() as session:
        loaded = load_entities(session)
    assert [(e["code"], e["parent"], e["batch_id"]) for e in loaded] == [
        ("CONTENT", "GRP", batch.id),
        ("GRP", None, batch.id),
        ("MUSIC", "CONTENT", batch.id),
    ]
    assert loaded[2] == {**_entity("MUSIC", parent="CONTENT"), "batch_id": batch.id}


def test_the_import_file_key_names_are_accepted(workspace: Workspace) -> None:
    entity = _entity("GRP")
    entity["entity"] = entity.pop("code")
    site = _site("DC-1", "GRP")
    site["site"] = site.pop("code")
    with workspace.session() as session:
        batch = register_batch(
            session, kind="entities", file_name="e.csv", content_hash=HASH_1, row_count=2
        )
        save_entities(session, [entity], batch)
        save_sites(session, [site], batch)
    assert _codes(workspace, Entity) == ["GRP"]
    assert _codes(workspace, Site) == ["DC-1"]


def test_reimporting_changed_entities_updates_them_and_records_the_batch(
    workspace: Workspace,
) -> None:
    with workspace.session() as session:
        first = register_batch(
            session, kind="entities", file_name="v1.csv", content_hash=HASH_1, row_count=2
        )
        save_entities(session, [_entity("GRP"), _entity("JV", parent="GRP")], first)
        save_sites(session, [_site("DC-1", "JV")], first)
    with workspace.session() as session:
        second = register_batch(
            session, kind="entities", file_name="v2.csv", content_hash=HASH_2, row_count=2
        )
        save_entities(
            session,
            [
                _entity("JV", parent="GRP", ownership_pct=50.0, operational_control=False),
                _entity("NEW", parent="JV", name="Newly added"),
            ],
            second,
        )
    with workspace.session() as session:
        loaded = {e["code"]: e for e in load_entities(session)}
        sites = load_sites(session)
    # GRP was not in the second file: kept as the first import set it.
    assert loaded["GRP"] == {**_entity("GRP"), "batch_id": first.id}
    assert loaded["JV"] == {
        **_entity("JV", parent="GRP", ownership_pct=50.0, operational_control=False),
        "batch_id": second.id,
    }
    assert loaded["NEW"]["name"] == "Newly added"
    assert [s["code"] for s in sites] == ["DC-1"]


def test_an_unknown_parent_rolls_back_the_whole_import(workspace: Workspace) -> None:
    def import_orphan() -> None:
        with workspace.session() as session:
            batch = register_batch(
                session, kind="entities", file_name="e.csv", content_hash=HASH_1, row_count=2
            )
            save_entities(session, [_entity("GRP"), _entity("SUB", parent="MISSING")], batch)

    with pytest.raises(IntegrityError):
        import_orphan()
    assert _codes(workspace, Entity) == []
    assert workspace.find_batch("entities", HASH_1) is None


def test_a_failure_after_some_writes_leaves_nothing_half_written(workspace: Workspace) -> None:
    def import_then_fail() -> None:
        with workspace.session() as session:
            batch = register_batch(
                session, kind="sites", file_name="s.csv", content_hash=HASH_1, row_count=2
            )
            save_entities(session, [_entity("GRP")], batch)
            save_sites(session, [_site("DC-1", "GRP"), _site("DC-2", "NO-SUCH-ENTITY")], batch)

    with pytest.raises(IntegrityError):
        import_then_fail()
    assert _codes(workspace, Entity) == []
    assert _codes(workspace, Site) == []
    assert workspace.find_batch("sites", HASH_1) is None


def test_an_unknown_key_is_refused_not_dropped(sqlite_workspace: Workspace) -> None:
    def save() -> None:
        with sqlite_workspace.session() as session:
            batch = register_batch(
                session, kind="sites", file_name="s.csv", content_hash=HASH_1, row_count=1
            )
            save_sites(session, [{**_site("DC-1", "GRP"), "annual_mwh": 5.0}], batch)

    with pytest.raises(
        TypeError,
        match=re.escape(
            "record 1 for table 'sites' has the unknown key 'annual_mwh'; known keys: code, "
            "country, entity, name, name_zh, region, type"
        ),
    ):
        save()
    assert sqlite_workspace.find_batch("sites", HASH_1) is None


def test_a_missing_required_key_is_refused(sqlite_workspace: Workspace) -> None:
    record = _entity("GRP")
    del record["country"], record["name"]
    with (
        pytest.raises(
            TypeError, match=re.escape("record 1 for table 'entities' lacks country, name")
        ),
        sqlite_workspace.session() as session,
    ):
        save_entities(session, [record], ImportBatch(id="b-x"))


def test_a_key_given_under_both_names_is_refused(sqlite_workspace: Workspace) -> None:
    with (
        pytest.raises(
            TypeError, match=re.escape("record 1 for table 'entities' gives 'code' twice")
        ),
        sqlite_workspace.session() as session,
    ):
        save_entities(session, [{**_entity("GRP"), "entity": "OTHER"}], ImportBatch(id="b-x"))


def test_activity_types_and_fx_rates_round_trip_and_upsert(workspace: Workspace) -> None:
    activity = {
        "activity": "user.biogas_boiler",
        "name": "Biogas boiler",
        "name_zh": "沼气锅炉",
        "dimension": "[energy]",
        "scope": 1,
        "scope3_category": None,
        "factor_activity": "stationary.biogas",
        "description": "Boilers fired with digester gas",
    }
    with workspace.session() as session:
        batch = register_batch(
            session, kind="fx", file_name="fx.csv", content_hash=HASH_1, row_count=2
        )
        save_activity_types(session, [activity], batch)
        save_fx_rates(
            session,
            [
                {"year": 2024, "currency": "HKD", "per_usd": 7.8, "source": "test"},
                {"year": 2024, "currency": "CNY", "per_usd": 7.1, "source": "test"},
            ],
            batch,
        )
    with workspace.session() as session:
        later = register_batch(
            session, kind="fx", file_name="fx2.csv", content_hash=HASH_2, row_count=1
        )
        save_fx_rates(
            session, [{"year": 2024, "currency": "CNY", "per_usd": 7.2, "source": None}], later
        )
    with workspace.session() as session:
        assert load_activity_types(session) == [{**activity, "batch_id": batch.id}]
        assert load_fx_rates(session) == [
            {"year": 2024, "currency": "CNY", "per_usd": 7.2, "source": None, "batch_id": later.id},
            {
                "year": 2024,
                "currency": "HKD",
                "per_usd": 7.8,
                "source": "test",
                "batch_id": batch.id,
            },
        ]


def test_saving_no_records_writes_nothing(workspace: Workspace) -> None:
    with workspace.session() as session:
        batch = register_batch(
            session, kind="entities", file_name="e.csv", content_hash=HASH_1, row_count=0
        )
        assert save_entities(session, [], batch) == 0
    assert _codes(workspace, Entity) == []


def _factor(factor_id: str, co2e_kg: float) -> dict[str, Any]:
    return {
        "factor_id": factor_id,
        "activity": "electricity",
        "region": "CN-GD",
        "year": 2024,
        "unit": "kWh",
        "co2e_kg": co2e_kg,
        "source": "supplier letter",
    }


def test_a_factor_set_is_replaced_whole(workspace: Workspace) -> None:
    with workspace.session() as session:
        first = register_batch(
            session, kind="factors", file_name="f1.csv", content_hash=HASH_1, row_count=2
        )
        written = save_factor_set(
            session,
            set_id="supplier-2024",
            name="Supplier factors",
            precedence=100,
            factors=[_factor("sup.a", 0.5), _factor("sup.b", 0.6)],
            batch=first,
        )
        assert written == 2
    with workspace.session() as session:
        second = register_batch(
            session, kind="factors", file_name="f2.csv", content_hash=HASH_2, row_count=1
        )
        save_factor_set(
            session,
            set_id="supplier-2024",
            name="Supplier factors, revised",
            precedence=110,
            factors=[_factor("sup.b", 0.55)],
            batch=second,
        )
    with workspace.session() as session:
        sets = load_factor_sets(session)
        factors = load_factors(session, "supplier-2024")
        assert load_factors(session, "other") == []
    assert [
        (s["id"], s["name"], s["precedence"], s["content_hash"], s["batch_id"]) for s in sets
    ] == [("supplier-2024", "Supplier factors, revised", 110, HASH_2, second.id)]
    assert [(f["factor_id"], f["co2e_kg"], f["factor_set"]) for f in factors] == [
        ("sup.b", 0.55, "supplier-2024")
    ]


def test_a_factor_record_may_not_name_its_set(sqlite_workspace: Workspace) -> None:
    with (
        pytest.raises(
            TypeError,
            match=re.escape("record 1 for table 'factors' has the unknown key 'factor_set'"),
        ),
        sqlite_workspace.session() as session,
    ):
        save_factor_set(
            session,
            set_id="s",
            name="s",
            precedence=100,
            factors=[{**_factor("x", 1.0), "factor_set": "other"}],
            batch=ImportBatch(id="b-x", content_hash=HASH_1),
        )


@st.composite
def _entity_forests(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Entities E0..En-1 where each one's parent is an earlier entity, an entity outside the
    file, or none; shuffled so that children often come before their parents."""
    size = draw(st.integers(min_value=0, max_value=30))
    rows = []
    for index in range(size):
        parent = draw(
            st.one_of(
                st.none(),
                st.just("OUTSIDE"),
                st.integers(0, index - 1).map(lambda i: f"E{i}") if index else st.nothing(),
            )
        )
        rows.append({"code": f"E{index}", "parent": parent})
    return draw(st.permutations(rows))


@given(_entity_forests())
def test_entities_are_ordered_parents_first(rows: list[dict[str, Any]]) -> None:
    ordered = _parents_first(rows)
    assert sorted(r["code"] for r in ordered) == sorted(r["code"] for r in rows)
    position = {row["code"]: i for i, row in enumerate(ordered)}
    for row in ordered:
        if row["parent"] in position:
            assert position[row["parent"]] < position[row["code"]]
