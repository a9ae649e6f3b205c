"""Pseudonyms, the programme key and consent (``/work/inclusion-design.md``, "Trips": raw
account ids never stored; pseudonym = "p_" + HMAC-SHA256(key, raw_id.strip())[:24 hex];
key in ``WS/.secrets/inclusion_key`` (0600, created on first use) or
``ESGLEDGER_INCLUSION_KEY``; never in the database or toml)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from esgledger.errors import InputError, WorkspaceError
from esgledger.inclusion import accounts
from esgledger.inclusion.accounts import (
    KEY_ENV,
    KEY_FILE,
    consent_rows,
    consent_state,
    ensure_accounts,
    grant,
    grant_many,
    programme_key,
    pseudonym,
    pseudonymiser,
    set_status,
    withdraw,
)
from esgledger.store import Workspace
from esgledger.store.models_inclusion import InclusionAccount

KEY = bytes(range(32))
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def test_pseudonym_is_the_truncated_hmac_of_the_stripped_nfc_id() -> None:
    expected = "p_" + hmac.new(KEY, b"13800000001", hashlib.sha256).hexdigest()[:24]
    assert pseudonym("13800000001", KEY) == expected
    assert pseudonym("  13800000001\u3000", KEY) == expected  # blanks, also ideographic
    # NFC: "é" composed and decomposed are one id
    assert pseudonym("caf\u00e9", KEY) == pseudonym("cafe\u0301", KEY)
    assert len(expected) == 26


def test_pseudonym_is_stable_per_key_and_differs_across_keys() -> None:
    other = bytes(range(1, 33))
    assert pseudonym("u-1", KEY) == pseudonym("u-1", KEY)
    assert pseudonym("u-1", KEY) != pseudonym("u-1", other)
    assert pseudonym("u-1", KEY) != pseudonym("u-2", KEY)
    fast = pseudonymiser(KEY)
    assert fast("u-1") == pseudonym("u-1", KEY)


def test_the_key_file_is_created_once_private_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    first = programme_key(tmp_path)
    path = tmp_path / KEY_FILE
    assert path.is_file()
    assert len(first) == 32
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert (path.parent / ".gitignore").read_text() == "*\n"
    assert programme_key(tmp_path) == first  # not replaced on the next use


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_a_key_file_others_can_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    programme_key(tmp_path)
    (tmp_path / KEY_FILE).chmod(0o644)
    with pytest.raises(WorkspaceError, match="chmod 600"):
        programme_key(tmp_path)


def test_the_environment_key_in_hex_or_base64(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = os.urandom(32)
    monkeypatch.setenv(KEY_ENV, raw.hex())
    assert programme_key(tmp_path) == raw
    monkeypatch.setenv(KEY_ENV, base64.b64encode(raw).decode())
    assert programme_key(tmp_path) == raw
    monkeypatch.setenv(KEY_ENV, base64.urlsafe_b64encode(raw).decode())
    assert programme_key(tmp_path) == raw
    assert not (tmp_path / KEY_FILE).exists()  # the environment's key: no file written


@pytest.mark.parametrize(
    "value",
    ["00" * 31, "short", "not base64 at all !!", base64.b64encode(b"x" * 31).decode()],
)
def test_a_short_or_unreadable_environment_key_is_refused_without_echo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(KEY_ENV, value)
    with pytest.raises(InputError) as info:
        programme_key(tmp_path)
    text = str(info.value) + " ".join(str(i) for i in info.value.issues)
    assert KEY_ENV in text
    assert "32 bytes" in text
    assert value not in text


def test_ensure_accounts_creates_missing_ones_only(workspace: Workspace) -> None:
    with workspace.write_lock() as session:
        assert ensure_accounts(session, ["p_a", "p_b", "p_a"], "b-1", T0) == 2
        assert ensure_accounts(session, ["p_b", "p_c"], "b-2", T0) == 1
    with workspace.session() as session:
        rows = {a.pseudonym: a.first_batch for a in session.query(InclusionAccount)}
    assert rows == {"p_a": "b-1", "p_b": "b-1", "p_c": "b-2"}


def test_many_accounts_in_chunks(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "_CHUNK", 7)
    names = [f"p_{i:024x}" for i in range(100)]
    with workspace.write_lock() as session:
        assert ensure_accounts(session, names, "b-1", T0) == 100
        assert ensure_accounts(session, names, "b-2", T0) == 0


def test_consent_grant_withdraw_and_grant_again(workspace: Workspace) -> None:
    later, latest = T0 + timedelta(days=3), T0 + timedelta(days=9)
    with workspace.write_lock() as session:
        assert grant(session, "p_x", "transit", T0, "esg")
        assert not grant(session, "p_x", "transit", later, "esg")  # already in force
        assert consent_state(session, ["p_x"]) == {"p_x": {"transit": (T0, None)}}
        assert withdraw(session, "p_x", "transit", later, "esg")
        assert not withdraw(session, "p_x", "transit", later, "esg")  # none in force
        assert consent_state(session) == {"p_x": {"transit": (T0, later)}}
        assert grant(session, "p_x", "transit", latest, "esg")
        assert grant(session, "p_x", "cycling", latest, "esg")
        state = consent_state(session, ["p_x", "p_none"])
    assert state == {"p_x": {"transit": (latest, None), "cycling": (latest, None)}}


def test_consent_before_the_first_trip_creates_the_account(workspace: Workspace) -> None:
    with workspace.write_lock() as session:
        grant(session, "p_new", "cycling", T0, "esg")
        account = session.get(InclusionAccount, "p_new")
        assert account is not None
        assert account.status == "active"
        assert account.first_batch is None
        # its first trip later leaves it as it is
        assert ensure_accounts(session, ["p_new"], "b-9", T0) == 0


def test_unknown_scenario_is_refused(workspace: Workspace) -> None:
    with workspace.write_lock() as session, pytest.raises(InputError, match="scenario"):
        grant(session, "p_x", "flying", T0, "esg")


def test_review_holds_and_releases_an_account(workspace: Workspace) -> None:
    with workspace.write_lock() as session:
        ensure_accounts(session, ["p_h"], "b-1", T0)
        before = set_status(session, "p_h", "held", "42 trips in one hour", "reviewer")
        assert before["status"] == "active"
        account = session.get(InclusionAccount, "p_h")
        assert account is not None
        assert (account.status, account.held_reason, account.reviewed_by) == (
            "held",
            "42 trips in one hour",
            "reviewer",
        )
        set_status(session, "p_h", "held", "anomaly", "settlement", score=0.93)
        assert account.score == pytest.approx(0.93)
        set_status(session, "p_h", "active", None, "reviewer")
        assert account.status == "active"
        assert account.held_reason is None
        with pytest.raises(InputError, match="status"):
            set_status(session, "p_h", "frozen", None, "reviewer")
        with pytest.raises(InputError, match="no carbon-inclusion account"):
            set_status(session, "p_missing", "held", "x", "reviewer")


def test_grant_many_records_each_consent_once_as_grant_does(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # /work/issue15.md "Validation and scale": consent of millions of accounts in bulk
    monkeypatch.setattr(accounts, "_CHUNK", 3)
    later = T0 + timedelta(days=1)
    with workspace.write_lock() as session:
        ensure_accounts(session, ["p_a"], "b-1", T0)
        assert grant(session, "p_a", "transit", T0, "esg")
        assert withdraw(session, "p_b", "transit", T0, "esg") is False
        # p_a's consent is in force; p_b..p_e are new accounts; p_c is given twice
        names = ["p_a", "p_b", "p_c", "p_c", "p_d", "p_e"]
        assert grant_many(session, names, "transit", later, "bulk") == 4
        assert grant_many(session, names, "transit", later, "bulk") == 0
        assert grant_many(session, ["p_b"], "cycling", later, "bulk") == 1
        assert withdraw(session, "p_d", "transit", later, "esg")
        assert grant_many(session, ["p_d"], "transit", later, "bulk") == 1
        state = consent_state(session)
        account = session.get(InclusionAccount, "p_e")
    assert account is not None
    assert account.first_batch is None
    assert state["p_a"] == {"transit": (T0, None)}
    assert state["p_b"] == {"transit": (later, None), "cycling": (later, None)}
    assert set(state) == {"p_a", "p_b", "p_c", "p_d", "p_e"}
    assert state["p_d"] == {"transit": (later, None)}


def test_grant_many_refuses_an_unknown_scenario(workspace: Workspace) -> None:
    with workspace.write_lock() as session, pytest.raises(InputError, match="scenario"):
        grant_many(session, ["p_x"], "flying", T0, "esg")


def test_consent_rows_latest_record_is_the_state(workspace: Workspace) -> None:
    later = T0 + timedelta(days=1)
    with workspace.write_lock() as session:
        grant(session, "p_x", "transit", T0, "esg")
        withdraw(session, "p_x", "transit", later, "esg")
        grant(session, "p_y", "transit", T0, "esg")
        grant(session, "p_y", "cycling", T0, "esg")
        withdraw(session, "p_y", "cycling", later, "esg")
        grant(session, "p_y", "cycling", later, "esg")
        table = consent_rows(session, chunk=2)
        expected = {
            (name, scenario): withdrawn is None
            for name, scenarios in consent_state(session).items()
            for scenario, (_granted, withdrawn) in scenarios.items()
        }
    assert table.column_names == ["account", "scenario", "id", "active"]
    assert table.num_rows == 4  # a withdrawal closes its record, a new grant adds one
    latest: dict[tuple[str, str], tuple[int, bool]] = {}
    for row in table.to_pylist():
        key = (row["account"], row["scenario"])
        if key not in latest or row["id"] > latest[key][0]:
            latest[key] = (row["id"], row["active"])
    assert {k: v[1] for k, v in latest.items()} == expected
    assert expected == {
        ("p_x", "transit"): False,
        ("p_y", "transit"): True,
        ("p_y", "cycling"): True,
    }
