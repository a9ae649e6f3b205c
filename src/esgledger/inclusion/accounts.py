"""Personal carbon accounts: pseudonyms, the programme key, accounts, consent and review.

碳普惠账户：假名化、项目密钥、账户、授权（同意）与复核状态。

A person's account id as an operator exports it (a card number, a phone number, an app user
id) is never stored. It is replaced, as soon as a file is read, by its **pseudonym**::

    "p_" + hex(HMAC-SHA256(key, NFC(raw_id).strip()))[:24]

(96 bits: no collision among billions of accounts in practice). The same raw id always gives
the same pseudonym under one key, and nobody without the key can recompute it from a
guessed id (a phone number has too few possibilities for a plain hash to hide it).

The **programme key** (:func:`programme_key`) is 32 or more secret bytes: the environment
variable ``ESGLEDGER_INCLUSION_KEY`` (hex or base64) when set, else the file
``WS/.secrets/inclusion_key`` (64 hex digits), created on first use with mode 0600 in a
folder of mode 0700 holding a ``.gitignore`` of ``*`` — as the database password is kept
(:mod:`esgledger.store.workspace`). It is never written to the database or to
``esgledger.toml``, and no message echoes it. Losing it means new trips of a known person get
a new account; keep a copy with the backups of the workspace, apart from them.

Accounts (``inclusion_accounts``) are created by their first trip (:func:`ensure_accounts`,
in the import's transaction) or by a consent given before any trip (:func:`grant`). Consent
is per **scenario** (:data:`SCENARIOS`): a row per grant, closed by its withdrawal; granting
again after a withdrawal opens a new row, so the history stays. :func:`set_status` holds an
account for review or makes it active again.

Every function takes the caller's session (the service holds the write lock and records the
audit events ``inclusion.consent`` and ``inclusion.review``); none commits.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import sqlalchemy as sa

from esgledger.errors import InputError, Issue, WorkspaceError, shown

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from esgledger.store import Workspace

__all__ = [
    "KEY_ENV",
    "KEY_FILE",
    "MIN_KEY_BYTES",
    "SCENARIOS",
    "STATUSES",
    "consent_rows",
    "consent_state",
    "ensure_accounts",
    "grant",
    "grant_many",
    "programme_key",
    "pseudonym",
    "pseudonymiser",
    "set_status",
    "withdraw",
]

#: Environment variable holding the programme key (hex or base64), instead of the key file.
KEY_ENV = "ESGLEDGER_INCLUSION_KEY"
#: The key file, relative to the workspace folder.
KEY_FILE = Path(".secrets") / "inclusion_key"
#: The shortest key accepted [bytes] (the output size of SHA-256, RFC 2104 section 3).
MIN_KEY_BYTES = 32
#: The consent scenarios. A mode's scenario comes from the methodology
#: (:mod:`esgledger.inclusion.methodology`); these are the ones its modes use.
SCENARIOS: tuple[str, ...] = ("transit", "cycling")
#: The statuses :func:`set_status` sets (``closed`` is not set by a review).
STATUSES: tuple[str, ...] = ("active", "held")
#: Hex digits of the HMAC kept in a pseudonym (96 bits).
_PSEUDONYM_HEX = 24
#: Accounts inserted per statement by :func:`ensure_accounts`.
_CHUNK = 50_000
#: Pseudonyms per ``IN (...)`` list (SQLite allows 32,766 parameters).
_IN_CHUNK = 10_000


def _normalised(raw_id: str) -> bytes:
    return unicodedata.normalize("NFC", raw_id).strip().encode("utf-8")


def pseudonym(raw_id: str, key: bytes) -> str:
    """The pseudonym of ``raw_id`` under ``key``: ``"p_"`` and the first 24 hex digits of
    HMAC-SHA256 of its NFC form without surrounding blanks."""
    digest = hmac.new(key, _normalised(raw_id), hashlib.sha256).hexdigest()
    return "p_" + digest[:_PSEUDONYM_HEX]


def pseudonymiser(key: bytes) -> Callable[[str], str]:
    """A fast :func:`pseudonym` for many ids under one key (the key schedule done once).

    The ids given must already be NFC and stripped (the trips import normalises them in
    bulk); the result equals :func:`pseudonym` for them."""
    inner = hmac.new(key, digestmod=hashlib.sha256)

    def one(normalised_id: str) -> str:
        mac = inner.copy()
        mac.update(normalised_id.encode("utf-8"))
        return "p_" + mac.hexdigest()[:_PSEUDONYM_HEX]

    return one


def _key_problem(fix: str) -> InputError:
    problem = f"{KEY_ENV} is not a key of at least {MIN_KEY_BYTES} bytes in hex or base64"
    return InputError(
        f"the programme key was refused: {problem}",
        [Issue(KEY_ENV, None, None, None, problem, fix)],
    )


def _parse_key(text: str) -> bytes:
    """The bytes of a key given as hex or base64 (the value is never put in a message)."""
    text = text.strip()
    fix = (
        f"set {KEY_ENV} to {2 * MIN_KEY_BYTES} or more hex digits (e.g. the output of "
        "`openssl rand -hex 32`) or to base64 of 32 or more bytes, or unset it to use "
        "the workspace's key file"
    )
    key: bytes | None = None
    if text and len(text) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in text):
        key = bytes.fromhex(text)
    else:
        standard = text.replace("-", "+").replace("_", "/")  # the URL-safe alphabet too
        try:
            key = base64.b64decode(standard.encode("ascii"), validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError):
            key = None
    if key is None or len(key) < MIN_KEY_BYTES:
        raise _key_problem(fix)
    return key


def programme_key(workspace: Workspace | Path) -> bytes:
    """The programme key: ``ESGLEDGER_INCLUSION_KEY`` when set, else the workspace's key file
    (created with 32 random bytes on first use; see the module docstring).

    Raises
    ------
    InputError
        If the environment variable is set but is not 32 or more bytes in hex or base64
        (the message does not show it).
    WorkspaceError
        If the key file can be read or written by other users, or is not a key.
    """
    from_env = os.environ.get(KEY_ENV)
    if from_env is not None and from_env.strip():
        return _parse_key(from_env)
    root = workspace if isinstance(workspace, Path) else workspace.root
    path = Path(root) / KEY_FILE
    if not path.is_file():
        _create_key_file(path)
    mode = path.stat().st_mode & 0o777
    if os.name == "posix" and mode & 0o077:
        raise WorkspaceError(
            f"{path} holds the carbon-inclusion programme key but other users can read it "
            f"(mode {mode:o}); make it private with `chmod 600 {path}`"
        )
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < MIN_KEY_BYTES:
        raise WorkspaceError(
            f"{path} is not a programme key ({2 * MIN_KEY_BYTES} or more hex digits); "
            "restore it from your backup (a new key gives known people new accounts)"
        )
    return key


def _create_key_file(path: Path) -> None:
    """Write 32 random bytes as hex to ``path``: folder 0700 with a ``.gitignore`` of ``*``,
    file created 0600 (never readable by others in between). Two processes racing: the
    second one reads the first one's key."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    ignore = path.parent / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(MIN_KEY_BYTES) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


# ---- accounts -------------------------------------------------------------------------------


def ensure_accounts(
    session: Session, pseudonyms: Iterable[str], batch_id: str | None, now: datetime
) -> int:
    """Create the accounts of ``pseudonyms`` that do not exist yet (status ``active``,
    ``first_batch`` = ``batch_id``); return how many were created.

    One ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` per chunk of :data:`_CHUNK`
    pseudonyms passed as one value (a JSON array read by ``json_each`` on SQLite, an array
    ``unnest``-ed on PostgreSQL), so an account created meanwhile by another transaction is
    left as it is and a million accounts take seconds. Runs in the caller's transaction.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        source = "SELECT DISTINCT unnest(CAST(:names AS text[])) AS name"
    elif dialect == "sqlite":
        source = "SELECT DISTINCT value AS name FROM json_each(:names)"
    else:
        raise WorkspaceError(f"carbon-inclusion accounts are not supported on {dialect}")
    statement = sa.text(
        "INSERT INTO inclusion_accounts (pseudonym, created_at, first_batch, status) "
        f"SELECT n.name, :created_at, :first_batch, 'active' FROM ({source}) AS n "
        "WHERE true ON CONFLICT (pseudonym) DO NOTHING"
    ).bindparams(
        sa.bindparam("created_at", type_=sa.DateTime(timezone=True)),
        sa.bindparam("first_batch", type_=sa.String()),
    )
    names = list(pseudonyms)
    created = 0
    for start in range(0, len(names), _CHUNK):
        chunk = names[start : start + _CHUNK]
        value: object = json.dumps(chunk) if dialect == "sqlite" else chunk
        result = session.execute(
            statement, {"names": value, "created_at": now, "first_batch": batch_id}
        )
        created += max(0, int(getattr(result, "rowcount", 0) or 0))
    return created


def _check_scenario(scenario: str) -> str:
    if scenario not in SCENARIOS:
        problem = f"unknown consent scenario {shown(scenario, 40)!r}"
        raise InputError(
            problem,
            [Issue("", None, "scenario", scenario, problem, "choose " + " or ".join(SCENARIOS))],
        )
    return scenario


def _open_consent(session: Session, name: str, scenario: str) -> int | None:
    from esgledger.store.models_inclusion import InclusionConsent as C

    found = session.execute(
        sa.select(C.id)
        .where(C.pseudonym == name, C.scenario == scenario, C.withdrawn_at.is_(None))
        .order_by(C.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return None if found is None else int(found)


def grant(session: Session, pseudonym: str, scenario: str, at: datetime, by: str) -> bool:
    """Record ``pseudonym``'s consent to ``scenario`` at ``at`` (creating the account when
    it has no trip yet); False when a consent to it is already in force (nothing changes).

    Raises
    ------
    InputError
        If ``scenario`` is not one of :data:`SCENARIOS`.
    """
    from esgledger.store.models_inclusion import InclusionConsent

    _check_scenario(scenario)
    ensure_accounts(session, [pseudonym], None, at)
    if _open_consent(session, pseudonym, scenario) is not None:
        return False
    session.add(
        InclusionConsent(pseudonym=pseudonym, scenario=scenario, granted_at=at, granted_by=by)
    )
    session.flush()
    return True


def grant_many(
    session: Session, pseudonyms: Iterable[str], scenario: str, at: datetime, by: str
) -> int:
    """Record the consent of each of ``pseudonyms`` to ``scenario`` at ``at`` (creating the
    accounts that have no trip yet), as :func:`grant` does one by one; return how many
    consents were recorded (an account whose consent to it is in force is left as it is).

    For an operator's bulk opt-in (millions of accounts): one ``INSERT ... SELECT ... WHERE
    NOT EXISTS`` per chunk of :data:`_CHUNK` pseudonyms passed as one value (``json_each`` /
    ``unnest``, as :func:`ensure_accounts`). Runs in the caller's transaction.

    Raises
    ------
    InputError
        If ``scenario`` is not one of :data:`SCENARIOS`.
    """
    _check_scenario(scenario)
    names = list(dict.fromkeys(pseudonyms))
    ensure_accounts(session, names, None, at)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        source = "SELECT DISTINCT unnest(CAST(:names AS text[])) AS name"
    else:  # sqlite (ensure_accounts refused any other dialect)
        source = "SELECT DISTINCT value AS name FROM json_each(:names)"
    statement = sa.text(
        "INSERT INTO inclusion_consents (pseudonym, scenario, granted_at, granted_by) "
        f"SELECT n.name, :scenario, :at, :by FROM ({source}) AS n "
        "WHERE NOT EXISTS (SELECT 1 FROM inclusion_consents c WHERE c.pseudonym = n.name "
        "AND c.scenario = :scenario AND c.withdrawn_at IS NULL)"
    ).bindparams(
        sa.bindparam("at", type_=sa.DateTime(timezone=True)),
        sa.bindparam("scenario", type_=sa.String()),
        sa.bindparam("by", type_=sa.String()),
    )
    recorded = 0
    for start in range(0, len(names), _CHUNK):
        chunk = names[start : start + _CHUNK]
        value: object = json.dumps(chunk) if dialect == "sqlite" else chunk
        result = session.execute(
            statement, {"names": value, "scenario": scenario, "at": at, "by": by}
        )
        recorded += max(0, int(getattr(result, "rowcount", 0) or 0))
    return recorded


def withdraw(session: Session, pseudonym: str, scenario: str, at: datetime, by: str) -> bool:
    """Withdraw ``pseudonym``'s consent to ``scenario`` from ``at``; False when none is in
    force (nothing changes). Trips that ended before ``at`` keep their consent.

    Raises
    ------
    InputError
        If ``scenario`` is not one of :data:`SCENARIOS`.
    """
    from esgledger.store.models_inclusion import InclusionConsent as C

    _check_scenario(scenario)
    found = _open_consent(session, pseudonym, scenario)
    if found is None:
        return False
    session.execute(sa.update(C).where(C.id == found).values(withdrawn_at=at, withdrawn_by=by))
    return True


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def consent_state(
    session: Session, pseudonyms: Sequence[str] | None = None
) -> dict[str, dict[str, tuple[datetime, datetime | None]]]:
    """Each account's latest consent per scenario: ``{pseudonym: {scenario: (granted_at,
    withdrawn_at or None)}}`` (aware UTC times), for ``pseudonyms`` or every account.
    An account with no consent is absent."""
    from esgledger.store.models_inclusion import InclusionConsent as C

    query = sa.select(C.pseudonym, C.scenario, C.granted_at, C.withdrawn_at).order_by(C.id)
    state: dict[str, dict[str, tuple[datetime, datetime | None]]] = {}
    names = None if pseudonyms is None else list(dict.fromkeys(pseudonyms))
    chunks: list[Sequence[str] | None] = (
        [None]
        if names is None
        else [names[i : i + _IN_CHUNK] for i in range(0, len(names), _IN_CHUNK)]
    )
    for chunk in chunks:
        selected = query if chunk is None else query.where(C.pseudonym.in_(chunk))
        for name, scenario, granted, withdrawn in session.execute(selected):
            granted_at = _aware(granted)
            assert granted_at is not None
            state.setdefault(str(name), {})[str(scenario)] = (granted_at, _aware(withdrawn))
    return state


def consent_rows(session: Session, chunk: int = 100_000) -> pa.Table:
    """Every consent record as an Arrow table ``(account, scenario, id, active)``
    (``active``: not withdrawn), in no particular order: an account's latest record per
    scenario (the highest ``id``) is its state, as :func:`consent_state` gives it.

    For the settlement of millions of accounts: the rows are read ``chunk`` at a time
    straight into columns, with no Python object per account kept.
    """
    schema = pa.schema(
        [
            ("account", pa.string()),
            ("scenario", pa.string()),
            ("id", pa.int64()),
            ("active", pa.bool_()),
        ]
    )
    batches: list[pa.RecordBatch] = []
    # the driver's cursor, not ORM rows: millions of records are read in seconds
    result = session.connection().exec_driver_sql(
        "SELECT pseudonym, scenario, id, CASE WHEN withdrawn_at IS NULL THEN 1 ELSE 0 END "
        "FROM inclusion_consents"
    )
    while part := result.fetchmany(chunk):
        columns = list(zip(*part, strict=True))
        batches.append(
            pa.record_batch(
                [
                    pa.array(columns[0], pa.string()),
                    pa.array(columns[1], pa.string()),
                    pa.array(columns[2], pa.int64()),
                    pa.array(columns[3], pa.int8()).cast(pa.bool_()),
                ],
                schema=schema,
            )
        )
    return pa.Table.from_batches(batches, schema=schema)


def set_status(
    session: Session,
    pseudonym: str,
    status: str,
    reason: str | None,
    by: str,
    *,
    at: datetime | None = None,
    score: float | None = None,
) -> Mapping[str, object]:
    """Hold an account for review (``held``, with the ``reason`` and, from a settlement, its
    anomaly ``score``) or make it ``active`` again; return its state before the change (for
    the audit event ``inclusion.review``).

    Raises
    ------
    InputError
        If the status is not one of :data:`STATUSES` or the account does not exist.
    """
    from esgledger.store.models_inclusion import InclusionAccount

    if status not in STATUSES:
        problem = f"unknown account status {shown(status, 40)!r}"
        raise InputError(
            problem,
            [Issue("", None, "status", status, problem, "choose " + " or ".join(STATUSES))],
        )
    account = session.get(InclusionAccount, pseudonym)
    if account is None:
        problem = f"no carbon-inclusion account {shown(pseudonym, 60)}"
        raise InputError(
            problem,
            [
                Issue(
                    "",
                    None,
                    "account",
                    pseudonym,
                    problem,
                    "give the account as in its trips file (or its pseudonym p_...)",
                )
            ],
        )
    before: dict[str, object] = {
        "pseudonym": account.pseudonym,
        "status": account.status,
        "held_reason": account.held_reason,
    }
    account.status = status
    account.held_reason = reason if status == "held" else None
    account.reviewed_by = by
    account.reviewed_at = at if at is not None else datetime.now(UTC)
    if score is not None:  # the anomaly score of the settlement that holds it
        account.score = score
    session.flush()
    return before
