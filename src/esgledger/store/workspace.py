"""The workspace: a folder with its settings, its SQL database and its Parquet lake.

::

    WS/
      esgledger.toml   name, reporting_year, and optionally database_url, schema,
                       [profile] (written by ``init --country``), [factors] proxies
                       (proxy regions for factor resolution), category_3_proxies
                       (whether they also price category 3 lines) and
                       [[factors.fallbacks]] (the profile's explicit, flagged fallbacks)
                       [units] gas_volume_reference (0C, 15C or 20C: what a plain
                       m3 of a gas fuel means)
                       [import] overlaps ("warn" or "reject" overlapping activity rows)
      esgledger.db     the SQLite database, unless database_url points elsewhere
      lake/            Parquet files of accepted activity batches

The database schema is created and upgraded by the Alembic migrations packaged in
``esgledger/store/migrations``; they run in-process, so users need no ``alembic.ini``.

Environment
-----------
``ESGLEDGER_DATABASE_URL``
    When set, :meth:`Workspace.open` uses this SQLAlchemy URL instead of the ``database_url``
    of ``esgledger.toml``. The ``schema`` of the toml still applies.

``ESGLEDGER_BUSY_TIMEOUT``
    Seconds a command waits for another esgledger process that holds the database (SQLite's
    busy timeout; on PostgreSQL the ``lock_timeout`` of the workspace's write lock); default
    30. When it runs out the command stops with :class:`~esgledger.errors.WorkspaceBusyError`
    (one line, exit 2), nothing written.

Concurrent writers
------------------
:meth:`Workspace.write_lock` is a session whose transaction holds the workspace's write lock
(PostgreSQL: ``pg_advisory_xact_lock`` on a key of the schema; SQLite: ``BEGIN IMMEDIATE``)
until it commits or rolls back. Imports re-check everything that depends on other batches
under it, so two processes never both pass a check that only one of them may pass
(``docs/hardening/concurrency.md``).

Passwords
---------
``esgledger.toml`` never holds a database password. :meth:`Workspace.init` given a URL with a
password writes the URL without it and the password into ``WS/.secrets/database_password``
(mode 0600, in a 0700 folder with a ``.gitignore``). When a PostgreSQL URL has no password,
:meth:`Workspace.open` takes it from that file (only for the toml's URL, never for
``ESGLEDGER_DATABASE_URL``; a file other users can read is refused), else libpq finds it
itself: ``PGPASSWORD``, the password file ``~/.pgpass`` (or ``PGPASSFILE``) or a service file.
Messages, errors and ``repr`` show a URL as ``user:***@``; ``Workspace.database_url`` has no
password. ``docs/hardening/outputs-and-secrets.md`` explains the choices.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from esgledger import __version__
from esgledger.errors import WorkspaceBusyError, WorkspaceError
from esgledger.store.models import ImportBatch, WorkspaceInfo

__all__ = [
    "BUSY_TIMEOUT_ENV",
    "CONFIG_FILE",
    "DATABASE_URL_ENV",
    "PASSWORD_FILE",
    "SQLITE_FILE",
    "DatabaseUrlError",
    "Workspace",
    "db_url_for",
    "head_revision",
]

CONFIG_FILE = "esgledger.toml"
SQLITE_FILE = "esgledger.db"
LAKE_DIR = "lake"
DATABASE_URL_ENV = "ESGLEDGER_DATABASE_URL"
#: Seconds to wait for a database another process holds (default :data:`BUSY_TIMEOUT`).
BUSY_TIMEOUT_ENV = "ESGLEDGER_BUSY_TIMEOUT"
BUSY_TIMEOUT = 30.0
#: First key of the two-key PostgreSQL advisory lock of :meth:`Workspace.write_lock` ("ESGL");
#: the second is ``hashtext(current_schema())``, so workspaces in other schemas do not wait.
_PG_LOCK_CLASS = 0x4553474C
#: Where :meth:`Workspace.init` keeps the password of a URL given with one (mode 0600).
PASSWORD_FILE = Path(".secrets") / "database_password"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_SUPPORTED_DIALECTS = ("sqlite", "postgresql")


class DatabaseUrlError(WorkspaceError, ValueError):
    """A database URL that cannot be used: unparsable, a port that is not a number, a database
    other than SQLite or PostgreSQL. The message never holds the URL's password."""


def db_url_for(root: Path | str) -> str:
    """The SQLAlchemy URL of the default SQLite database of the workspace at ``root``."""
    return f"sqlite:///{(Path(root).resolve() / SQLITE_FILE).as_posix()}"


def _normalise_url(url: str) -> str:
    """Check a database URL and pick the psycopg 3 driver for a bare PostgreSQL URL.

    Raises
    ------
    WorkspaceError
        If the URL cannot be parsed or names a database other than SQLite or PostgreSQL.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUrlError(
            "cannot read the database URL (not shown: it may hold a password); write it as "
            "postgresql+psycopg://USER@HOST:PORT/DATABASE"
        ) from None
    except ValueError:  # SQLAlchemy's int() of the port
        raise DatabaseUrlError(
            "the port of the database URL is not a number (URL not shown: it may hold a "
            "password); write it as postgresql+psycopg://USER@HOST:PORT/DATABASE, PORT such as "
            "5432"
        ) from None
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise DatabaseUrlError(
            f"the port of the database URL {parsed.render_as_string(hide_password=True)!r} "
            "must be a number from 1 to 65535"
        )
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in _SUPPORTED_DIALECTS:
        raise DatabaseUrlError(
            f"database URL {parsed.render_as_string(hide_password=True)!r} names a "
            f"{parsed.get_backend_name()!r} database; esgledger supports SQLite and PostgreSQL"
        )
    return parsed.render_as_string(hide_password=False)


def _check_schema_name(schema: str) -> str:
    if not _SCHEMA_NAME.fullmatch(schema):
        raise WorkspaceError(
            f"schema name {schema!r} is not allowed: use lower-case letters, digits and '_', "
            "starting with a letter or '_', at most 63 characters"
        )
    return schema


def _create_engine(url: str, schema: str | None) -> Engine:
    """An engine for ``url``; on SQLite with foreign keys enforced, on PostgreSQL inside
    ``schema`` (via the connection's ``search_path``)."""
    backend = make_url(url).get_backend_name()
    connect_args: dict[str, Any] = {}
    if schema is not None:
        if backend != "postgresql":
            raise WorkspaceError(
                f"a schema ({schema!r}) can only be used with PostgreSQL, not {backend}"
            )
        connect_args["options"] = f"-csearch_path={_check_schema_name(schema)}"
    if backend == "sqlite":
        connect_args["timeout"] = busy_timeout()
    engine = sa.create_engine(url, connect_args=connect_args)
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "handle_error", _busy_error)
    return engine


def busy_timeout() -> float:
    """Seconds to wait for a database another process holds: ``ESGLEDGER_BUSY_TIMEOUT``, else
    :data:`BUSY_TIMEOUT`.

    Raises
    ------
    WorkspaceError
        If the variable is not a number of seconds from 0 to 86400.
    """
    raw = os.environ.get(BUSY_TIMEOUT_ENV, "").strip()
    if not raw:
        return BUSY_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 86400:
        raise WorkspaceError(
            f"{BUSY_TIMEOUT_ENV} must be a number of seconds from 0 to 86400 (value: {raw[:40]!r})"
        )
    return value


def _busy_error(context: Any) -> None:
    """Turn "the database is locked" (SQLite) and a lock timeout (PostgreSQL) into one clear
    :class:`WorkspaceBusyError` instead of a driver traceback."""
    orig = context.original_exception
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else ""
    sqlite_busy = "database is locked" in text or "database table is locked" in text
    pg_timeout = getattr(orig, "sqlstate", None) == "55P03"  # lock_not_available
    if sqlite_busy or pg_timeout:
        raise WorkspaceBusyError(
            "another esgledger process kept the workspace's database busy for more than "
            f"{busy_timeout():g} s ({text}); nothing was written: run the command again when it "
            f"has finished, or wait longer with {BUSY_TIMEOUT_ENV}=SECONDS"
        ) from orig


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _alembic_config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The Alembic revision this version of esgledger expects the database to be at."""
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    if head is None:  # pragma: no cover - the package always ships its migrations
        raise WorkspaceError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def _known_revisions() -> set[str]:
    return {script.revision for script in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()}


def _current_revision(engine: Engine, where: str) -> str | None:
    """The Alembic revision of the database, None for a database without esgledger tables.

    Raises
    ------
    WorkspaceError
        If the database cannot be reached or read (``where`` names it in the message).
    """
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except DBAPIError as exc:
        reason = _reason(exc, engine.url.password)
        raise WorkspaceError(f"cannot use the database {where}: {reason}") from exc


def _reason(exc: DBAPIError, password: str | None = None) -> str:
    """The first line of the database driver's own message (``password`` masked in it)."""
    text = str(exc.orig if exc.orig is not None else exc).strip()
    line = text.splitlines()[0] if text else type(exc.orig).__name__
    return line.replace(password, "***") if password else line


def _without_password(url: str) -> str:
    """``url`` with its password removed (user and everything else kept)."""
    parsed = make_url(url)
    if parsed.password is None:
        return url
    return parsed._replace(password=None).render_as_string(hide_password=False)


def _with_password(url: str, password: str) -> str:
    return make_url(url).set(password=password).render_as_string(hide_password=False)


def _write_password(root: Path, password: str) -> Path:
    """Keep ``password`` in ``root / PASSWORD_FILE``: the folder 0700, the file 0600 (created
    with that mode, never readable by others in between), and a ``.gitignore`` of ``*``."""
    path = root / PASSWORD_FILE
    path.parent.mkdir(mode=0o700, exist_ok=True)
    path.parent.chmod(0o700)
    (path.parent / ".gitignore").write_text("*\n", encoding="utf-8")
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(password + "\n")
    return path


def _read_password(root: Path) -> tuple[str, Path] | None:
    """The password kept in ``root / PASSWORD_FILE`` and the file, or None without one.

    Raises
    ------
    WorkspaceError
        If other users can read or write the file (POSIX): a shared secret is not used.
    """
    path = root / PASSWORD_FILE
    if not path.is_file():
        return None
    mode = path.stat().st_mode & 0o777
    if os.name == "posix" and mode & 0o077:
        raise WorkspaceError(
            f"{path} holds the database password but other users can read it (mode "
            f"{mode:o}); make it private with `chmod 600 {path}` and consider changing the "
            "password"
        )
    password = path.read_text(encoding="utf-8").rstrip("\r\n")
    return (password, path) if password else None


def _toml_string(value: str) -> str:
    # A JSON string with ensure_ascii=False uses only escapes that TOML basic strings share;
    # TOML also forbids a literal DEL, which JSON leaves as it is.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _read_config(root: Path) -> dict[str, Any]:
    path = root / CONFIG_FILE
    if not path.is_file():
        if not root.exists():
            raise WorkspaceError(f"{root} does not exist; create a workspace with `esgledger init`")
        raise WorkspaceError(
            f"{root} is not an esgledger workspace (no {CONFIG_FILE}); "
            "create one with `esgledger init`"
        )
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(f"{path} is not valid TOML: {exc}") from exc
    year = config.get("reporting_year")
    if not isinstance(year, int) or isinstance(year, bool):
        raise WorkspaceError(
            f"{path}: reporting_year must be a whole number such as 2024 (value: {year!r})"
        )
    for key in ("name", "database_url", "schema"):
        value = config.get(key)
        if value is not None and not isinstance(value, str):
            raise WorkspaceError(f"{path}: {key} must be a string (value: {value!r})")
    if not isinstance(config.get("name"), str):
        raise WorkspaceError(f"{path}: name is missing")
    return config


class Workspace:
    """An open workspace: its folder, lake and database engine.

    Create one with :meth:`init`, open an existing one with :meth:`open`, and release the
    database connections with :meth:`close` (or use the workspace as a context manager).

    Attributes
    ----------
    root : Path
        The workspace folder.
    lake : Path
        ``root / "lake"``: Parquet files of accepted activity batches.
    engine : sqlalchemy.Engine
        The engine of the workspace database (inside ``schema`` on PostgreSQL).
    database_url : str
        The URL the engine was made from, without its password (safe to print).
    schema : str or None
        The PostgreSQL schema holding the workspace's tables, or None.
    """

    def __init__(
        self, root: Path, *, config: dict[str, Any], database_url: str, schema: str | None
    ) -> None:
        self.root = root
        self.lake = root / LAKE_DIR
        self.database_url = _without_password(database_url)
        #: The file the database password came from (init writes it), None if it did not.
        self.password_file: Path | None = None
        self.schema = schema
        self._config = config
        self.engine: Engine = _create_engine(database_url, schema)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    # -- creating and opening -------------------------------------------------------------

    @classmethod
    def init(
        cls,
        root: Path | str,
        *,
        year: int,
        name: str | None = None,
        database_url: str | None = None,
        schema: str | None = None,
        country: str | None = None,
    ) -> Workspace:
        """Create a workspace at ``root``: folder, ``esgledger.toml``, database schema, lake.

        Parameters
        ----------
        root
            The folder; created if missing. It may hold other files, but no workspace.
        year
            The reporting year (calendar year of the inventory).
        name
            Name of the reporting organisation; default the folder's name.
        database_url
            SQLAlchemy URL of a PostgreSQL database; default SQLite ``esgledger.db`` in the
            folder. A bare ``postgresql://`` URL uses the psycopg 3 driver.
        schema
            PostgreSQL only: the schema to hold the tables (created if missing; it must not
            already hold a workspace).
        country
            Write the profile of this country (``esgledger.factors.profiles``: CN, US, GB,
            HK, else the generic one; ``"generic"`` for the generic one) into
            ``esgledger.toml``: ``[profile]`` and its ``[[factors.fallbacks]]``. None (the
            default of the Python API) writes no profile, so no other area's factor is used.

        Raises
        ------
        WorkspaceError
            If ``root`` already is a workspace, the database already holds one, or
            ``country`` is not a country code.
        """
        root = Path(root)
        if (root / CONFIG_FILE).exists():
            raise WorkspaceError(
                f"{root} is already an esgledger workspace ({CONFIG_FILE} exists); "
                "open it instead, or choose another folder"
            )
        if root.exists() and not root.is_dir():
            raise WorkspaceError(f"{root} exists and is not a folder")
        if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2200:
            raise WorkspaceError(f"reporting year must be a year such as 2024 (value: {year!r})")
        name = name if name is not None else root.resolve().name
        profile_text = _profile_text(country)
        url = _normalise_url(database_url) if database_url is not None else db_url_for(root)
        if schema is not None:
            _check_schema_name(schema)
            if make_url(url).get_backend_name() != "postgresql":
                raise WorkspaceError(
                    f"a schema ({schema!r}) can only be used with a PostgreSQL database_url"
                )
        sqlite_file = root / SQLITE_FILE
        if database_url is None and sqlite_file.exists():
            raise WorkspaceError(
                f"{sqlite_file} exists but {root / CONFIG_FILE} does not; remove the stray "
                "database or choose another folder"
            )

        root.mkdir(parents=True, exist_ok=True)
        config: dict[str, Any] = {"name": name, "reporting_year": year}
        if database_url is not None:
            config["database_url"] = _without_password(url)
        if schema is not None:
            config["schema"] = schema
            _create_schema(url, schema)
        workspace = cls(root, config=config, database_url=url, schema=schema)
        where = workspace._url_for_humans()
        try:
            if _current_revision(workspace.engine, where) is not None:
                raise WorkspaceError(
                    f"the database {where} already holds an esgledger workspace; use another "
                    "database or schema"
                )
            # One transaction: on PostgreSQL a failure leaves no half-made schema behind.
            with workspace.engine.begin() as connection:
                command.upgrade(_alembic_config(connection), "head")
                connection.execute(
                    sa.insert(WorkspaceInfo).values(
                        id=1,
                        name=name,
                        reporting_year=year,
                        created_at=datetime.now(UTC),
                        created_by_version=__version__,
                    )
                )
        except DBAPIError as exc:
            workspace.close()
            _remove_sqlite(database_url, sqlite_file)
            reason = _reason(exc, make_url(url).password)
            raise WorkspaceError(
                f"cannot create the esgledger tables in the database {where}: {reason}"
            ) from exc
        except BaseException:
            workspace.close()
            _remove_sqlite(database_url, sqlite_file)
            raise
        workspace.lake.mkdir(exist_ok=True)
        password = make_url(url).password
        if password:
            workspace.password_file = _write_password(root, password)
        (root / CONFIG_FILE).write_text(_render_config(config) + profile_text, encoding="utf-8")
        workspace._config = _read_config(root)
        return workspace

    @classmethod
    def open(cls, root: Path | str, *, check_schema: bool = True) -> Workspace:
        """Open the workspace at ``root``.

        Parameters
        ----------
        root
            The workspace folder.
        check_schema
            Refuse a database whose schema revision differs from this code's (default). Only
            :meth:`upgrade` needs ``False``.

        Raises
        ------
        WorkspaceError
            If ``root`` is not a workspace, its settings are invalid, or its database is at
            another schema revision than this version of esgledger (the message says which
            and how to upgrade).
        """
        root = Path(root)
        config = _read_config(root)
        schema = config.get("schema")
        env_url = os.environ.get(DATABASE_URL_ENV)
        kept: tuple[str, Path] | None = None
        if env_url:
            url = _normalise_url(env_url)
        elif config.get("database_url"):
            url = _normalise_url(config["database_url"])
            if make_url(url).password is None and make_url(url).get_backend_name() != "sqlite":
                kept = _read_password(root)
                if kept is not None:
                    url = _with_password(url, kept[0])
        else:
            if not (root / SQLITE_FILE).is_file():
                raise WorkspaceError(
                    f"{root / SQLITE_FILE} is missing: the workspace's database is gone "
                    f"(its {CONFIG_FILE} names no database_url)"
                )
            url = db_url_for(root)
        workspace = cls(root, config=config, database_url=url, schema=schema)
        workspace.password_file = kept[1] if kept is not None else None
        if check_schema:
            try:
                workspace._check_revision()
            except BaseException:
                workspace.close()
                raise
        return workspace

    def _url_for_humans(self) -> str:
        text = make_url(self.database_url).render_as_string(hide_password=True)
        return text if self.schema is None else f"{text} (schema {self.schema})"

    def _check_revision(self) -> None:
        current = _current_revision(self.engine, self._url_for_humans())
        head = head_revision()
        if current == head:
            return
        where = self._url_for_humans()
        if current is None:
            raise WorkspaceError(
                f"the database {where} of workspace {self.root} holds no esgledger tables; "
                "was the workspace initialised against another database?"
            )
        if current not in _known_revisions():
            raise WorkspaceError(
                f"the database {where} of workspace {self.root} is at schema revision "
                f"{current!r}, newer than this esgledger {__version__} knows (its newest is "
                f"{head!r}); upgrade esgledger to open it"
            )
        raise WorkspaceError(
            f"the database {where} of workspace {self.root} is at schema revision {current!r}, "
            f"older than this esgledger {__version__} needs ({head!r}); upgrade it with "
            f"`esgledger upgrade {self.root}` (back up the database first)"
        )

    def upgrade(self) -> str:
        """Migrate the database to this code's schema revision; return that revision.

        Raises
        ------
        WorkspaceError
            If the database is at a revision newer than this code knows.
        """
        current = _current_revision(self.engine, self._url_for_humans())
        if current is not None and current not in _known_revisions():
            raise WorkspaceError(
                f"the database {self._url_for_humans()} is at schema revision {current!r}, "
                f"newer than this esgledger {__version__} knows; upgrade esgledger instead"
            )
        with self.engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "head")
        return head_revision()

    # -- settings -------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """Name of the reporting organisation (``name`` in ``esgledger.toml``)."""
        return str(self._config["name"])

    @property
    def reporting_year(self) -> int:
        """The reporting year (``reporting_year`` in ``esgledger.toml``)."""
        return int(self._config["reporting_year"])

    @property
    def factor_proxies(self) -> dict[str, tuple[str, ...]]:
        """Proxy regions for factor resolution, read-only (rule 9 of
        ``docs/methodology/factor-resolution.md``)::

            [factors]
            proxies = { CN = ["GB", "US"], "*" = ["GB"] }

        Region code (or ``"*"``) → proxy regions in order, checked and upper-cased by
        :func:`esgledger.factors.resolve.parse_proxies`; pass it as ``proxies=`` to
        ``resolve_many``. Empty when the setting is absent: then no other region's factor
        is ever used.

        Raises
        ------
        WorkspaceError
            If the setting is not a table of region code → list of region codes, or
            :func:`~esgledger.factors.resolve.parse_proxies` refuses it.
        """
        # Imported here so that opening a workspace does not load the factor library.
        from esgledger.factors.resolve import parse_proxies

        where = f"{self.root / CONFIG_FILE}: [factors] proxies"
        factors = self._config.get("factors", {})
        if not isinstance(factors, dict):
            raise WorkspaceError(f"{self.root / CONFIG_FILE}: [factors] must be a table")
        raw = factors.get("proxies", {})
        if not isinstance(raw, dict) or not all(
            isinstance(v, list) and all(isinstance(c, str) for c in v) for v in raw.values()
        ):
            raise WorkspaceError(
                f"{where} must map region codes to lists of region codes, "
                f'e.g. proxies = {{ CN = ["GB", "US"] }} (value: {raw!r})'
            )
        try:
            return parse_proxies(raw)
        except ValueError as exc:
            raise WorkspaceError(f"{where}: {exc}") from exc

    @property
    def profile(self) -> dict[str, Any]:
        """The ``[profile]`` table of ``esgledger.toml`` (``profile``, ``country``, ``sets``)
        as ``init --country`` wrote it; empty for a workspace made without a profile."""
        raw = self._config.get("profile", {})
        if not isinstance(raw, dict):
            raise WorkspaceError(f"{self.root / CONFIG_FILE}: [profile] must be a table")
        return dict(raw)

    @property
    def factor_fallbacks(self) -> tuple[Any, ...]:
        """The profile's explicit, flagged fallbacks (rule 12 of
        ``docs/methodology/factor-resolution.md``), read-only::

            [[factors.fallbacks]]
            activities = ["travel.air.*", "freight.*"]
            regions = ["GB"]
            tier = "default"
            sets = ["desnz-2024"]
            note = "DESNZ factors used as an explicit global default for China: ..."

        A tuple of :class:`esgledger.factors.resolve.Fallback`, in order; empty when the
        setting is absent (a workspace made without a profile).

        Raises
        ------
        WorkspaceError
            If the setting is not a list of tables, or
            :func:`~esgledger.factors.resolve.parse_fallbacks` refuses an entry.
        """
        from esgledger.factors.resolve import parse_fallbacks

        where = f"{self.root / CONFIG_FILE}: [[factors.fallbacks]]"
        factors = self._config.get("factors", {})
        if not isinstance(factors, dict):
            raise WorkspaceError(f"{self.root / CONFIG_FILE}: [factors] must be a table")
        raw = factors.get("fallbacks", [])
        if not isinstance(raw, list):
            raise WorkspaceError(f"{where} must be a list of tables (value: {raw!r})")
        try:
            return parse_fallbacks(raw)
        except ValueError as exc:
            raise WorkspaceError(f"{where}: {exc}") from exc

    @property
    def category_3_proxies(self) -> bool:
        """Whether proxy regions also price the derived scope 3 category 3 lines
        (well-to-tank, T&D losses), read-only::

            [factors]
            category_3_proxies = true

        Default False: proxies (:attr:`factor_proxies`) price primary activity lines only,
        so that, e.g., UK upstream and T&D-loss factors never stand in for Chinese grid
        electricity unless the workspace opts in (rule 9 of
        ``docs/methodology/factor-resolution.md``).

        Raises
        ------
        WorkspaceError
            If the setting is not true or false.
        """
        factors = self._config.get("factors", {})
        if not isinstance(factors, dict):
            raise WorkspaceError(f"{self.root / CONFIG_FILE}: [factors] must be a table")
        raw = factors.get("category_3_proxies", False)
        if not isinstance(raw, bool):
            raise WorkspaceError(
                f"{self.root / CONFIG_FILE}: [factors] category_3_proxies must be true or "
                f"false (value: {raw!r})"
            )
        return raw

    @property
    def gas_volume_reference(self) -> str | None:
        """What a plain ``m3`` / ``立方米`` of a gas fuel means, read-only::

            [units]
            gas_volume_reference = "20C"   # or "0C", "15C" (all at 101.325 kPa)

        None when absent: the resolver then reads plain gas m3 at 0 °C, 101.325 kPa (the
        conditions of Nm3) and says so on every line it converts (rule 11 of
        ``docs/methodology/factor-resolution.md``, :mod:`esgledger.fuels`).

        Raises
        ------
        WorkspaceError
            If ``[units]`` is not a table or the value is not one of 0C, 15C, 20C.
        """
        from esgledger.fuels import parse_gas_reference

        units = self._config.get("units", {})
        if not isinstance(units, dict):
            raise WorkspaceError(f"{self.root / CONFIG_FILE}: [units] must be a table")
        raw = units.get("gas_volume_reference")
        if raw is None:
            return None
        try:
            return parse_gas_reference(str(raw))
        except ValueError as exc:
            raise WorkspaceError(
                f"{self.root / CONFIG_FILE}: [units] gas_volume_reference: {exc}"
            ) from exc

    @property
    def overlap_rule(self) -> str:
        """What an activity import does with rows that overlap other rows of the same entity,
        site, activity, supplier and meter (``docs/methodology/overlaps.md``), read-only::

            [import]
            overlaps = "reject"

        ``warn`` (default): the file is imported, the overlapping rows are named in the
        import's warnings, and runs flag their lines. ``reject``: the file is refused with the
        rows named. Exact duplicates are refused either way.

        Raises
        ------
        WorkspaceError
            If the setting is not one of :data:`esgledger.overlaps.OVERLAP_RULES`.
        """
        from esgledger.overlaps import OVERLAP_RULES

        section = self._config.get("import", {})
        if not isinstance(section, dict):
            raise WorkspaceError(f"{self.root / CONFIG_FILE}: [import] must be a table")
        raw = section.get("overlaps", OVERLAP_RULES[0])
        if raw not in OVERLAP_RULES:
            raise WorkspaceError(
                f"{self.root / CONFIG_FILE}: [import] overlaps must be "
                f"{' or '.join(repr(r) for r in OVERLAP_RULES)} (value: {raw!r})"
            )
        return str(raw)

    # -- database -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _session_scope(self, *, locked: bool = False) -> Iterator[Session]:
        session = self._sessions()
        try:
            if locked:
                self._take_write_lock(session)
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def session(self) -> contextlib.AbstractContextManager[Session]:
        """A session in one transaction: committed when the block ends, rolled back (nothing
        written) when it raises."""
        return self._session_scope()

    @staticmethod
    def _take_write_lock(session: Session) -> None:
        connection = session.connection()
        if connection.dialect.name == "sqlite":
            # pysqlite opens transactions lazily; an explicit BEGIN IMMEDIATE takes the
            # write lock now (waiting up to the busy timeout) and pysqlite keeps it.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            timeout_ms = int(busy_timeout() * 1000)
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = {timeout_ms}")
            connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:cls, hashtext(current_schema()))"),
                {"cls": _PG_LOCK_CLASS},
            )

    def write_lock(self) -> contextlib.AbstractContextManager[Session]:
        """A session whose transaction holds the workspace's write lock until it commits (when
        the block ends) or rolls back (when it raises).

        Only one process at a time holds it: another waits up to :func:`busy_timeout`
        seconds, then gets :class:`~esgledger.errors.WorkspaceBusyError`. PostgreSQL:
        ``pg_advisory_xact_lock`` on the workspace's schema; SQLite: ``BEGIN IMMEDIATE``
        (the database's one write lock). Do not open another write lock inside the block (in
        the same process that would wait for itself).
        """
        return self._session_scope(locked=True)

    def find_batch(self, kind: str, content_hash: str) -> ImportBatch | None:
        """The accepted import batch of ``kind`` with the sha256 ``content_hash``, if any."""
        from esgledger.store.repository import find_batch

        with self.session() as session:
            return find_batch(session, kind, content_hash)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r}, database={self._url_for_humans()!r})"


def _create_schema(url: str, schema: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    except DBAPIError as exc:
        where = make_url(url).render_as_string(hide_password=True)
        reason = _reason(exc, make_url(url).password)
        raise WorkspaceError(
            f"cannot create the schema {schema!r} in the database {where}: {reason}"
        ) from exc
    finally:
        engine.dispose()


def _remove_sqlite(database_url: str | None, sqlite_file: Path) -> None:
    """Remove the SQLite file a failed :meth:`Workspace.init` created."""
    if database_url is None and sqlite_file.exists():
        sqlite_file.unlink()


def _profile_text(country: str | None) -> str:
    """The profile tables for ``esgledger.toml`` (empty for None)."""
    if country is None:
        return ""
    from esgledger.factors import profiles

    try:
        if country.strip().lower() == profiles.GENERIC:
            return profiles.get(profiles.GENERIC).toml()
        code = country.strip().upper()
        return profiles.profile_for(code).toml(code)
    except KeyError as exc:
        raise WorkspaceError(str(exc.args[0])) from exc


def _render_config(config: dict[str, Any]) -> str:
    lines = [
        "# esgledger workspace settings.",
        "# database_url absent: the SQLite database esgledger.db in this folder.",
        f"# The environment variable {DATABASE_URL_ENV} overrides database_url.",
        f"name = {_toml_string(config['name'])}",
        f"reporting_year = {int(config['reporting_year'])}",
    ]
    for key in ("database_url", "schema"):
        if key in config:
            lines.append(f"{key} = {_toml_string(config[key])}")
    return "\n".join(lines) + "\n"
