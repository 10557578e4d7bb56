"""The ops database: engine, SQLite done properly, migrations on first use."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url

from lightkeeper.errors import DatabaseOutdated, DatabaseUnavailable, InvalidInput, SettingsError
from lightkeeper.settings import mask

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


def aware(value: datetime) -> datetime:
    """A datetime read back from the database, as UTC (SQLite returns naive values)."""
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def sqlite_done_properly(engine: Engine, *pragmas: str) -> None:
    """Make a SQLite engine's transactions ours: BEGIN (``BEGIN IMMEDIATE`` for
    connections with the ``lk_write`` option), so DDL is transactional too; WAL mode, so
    readers and the one writer run side by side; a 30 s busy timeout; extra ``pragmas``."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module so BEGIN is ours.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        for pragma in ("journal_mode=WAL", *pragmas, "busy_timeout=30000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("lk_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def with_driver(parsed: sa.URL) -> sa.URL:
    """Plain ``postgresql://`` means psycopg 3."""
    if parsed.drivername in {"postgresql", "postgres"}:
        return parsed.set(drivername="postgresql+psycopg")
    return parsed


def normalise_url(url: str) -> sa.URL:
    """Parse a database URL; plain ``postgresql://`` means psycopg 3."""
    try:
        parsed = make_url(url)
    except (sa.exc.ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise SettingsError(
            f"database_url {mask(url)!r} is not a database URL",
            hint="use sqlite:///path/ops.db or postgresql://user:pass@host:5432/dbname",
        ) from None
    parsed = with_driver(parsed)
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise SettingsError(
            f"database_url uses {parsed.get_backend_name()!r}",
            hint="lightkeeper supports sqlite and postgresql ops databases",
        )
    return parsed


def head_revision() -> str:
    """The newest migration this lightkeeper knows (no database needed)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


class Database:
    """One ops database. Writes go through :meth:`write`, reads through :meth:`read`.

    On SQLite the database runs in WAL mode with one writer: write transactions start
    with ``BEGIN IMMEDIATE`` so concurrent writers queue instead of failing midway.
    """

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.engine = self._create_engine()

    @property
    def display_url(self) -> str:
        """The URL with any password hidden."""
        return self.url.render_as_string(hide_password=True)

    def _create_engine(self) -> Engine:
        if not self.is_sqlite:
            try:
                return sa.create_engine(
                    self.url,
                    pool_pre_ping=True,
                    pool_size=5,
                    max_overflow=10,
                    connect_args={"connect_timeout": 5},
                )
            except ImportError as exc:
                raise SettingsError(
                    f"database_url {self.display_url} needs a driver that is not installed "
                    f"({exc.name})",
                    hint="pip install 'lightkeeper[postgres]'",
                ) from None
        database = self.url.database
        if database and database != ":memory:":
            try:
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise self._unavailable(exc) from None
        engine = sa.create_engine(self.url, connect_args={"timeout": 30})
        sqlite_done_properly(engine, "synchronous=NORMAL", "foreign_keys=ON")
        return engine

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, committed on success and rolled back on error."""
        with self._connect() as conn:
            conn = conn.execution_options(lk_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction."""
        with self._connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        try:
            conn = self.engine.connect()
        except sa.exc.OperationalError as exc:
            raise self._unavailable(exc) from None
        try:
            with conn:
                yield conn
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            # the server went away (or SQLite stayed locked) mid-transaction: same as down
            raise self._unavailable(exc) from None
        except sa.exc.DataError as exc:
            # a value the column cannot hold (PostgreSQL: a NUL character in text, a number
            # past INTEGER): the caller's input, refused by the database rather than by us
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            raise InvalidInput(
                f"the ops database cannot store a value given: {reason}",
                hint="remove NUL characters from names, notes and filters; ids and versions "
                "are whole numbers from 1 to 2147483647",
            ) from None

    def _unavailable(self, exc: Exception) -> DatabaseUnavailable:
        first_line = str(getattr(exc, "orig", exc)).strip().splitlines()[0:1]
        return DatabaseUnavailable(
            f"cannot open the ops database at {self.display_url}: "
            f"{first_line[0] if first_line else type(exc).__name__}",
            hint="check LIGHTKEEPER_DATABASE_URL (lightkeeper settings) and that the server is "
            "running and reachable",
        )

    # -- migrations -------------------------------------------------------------------
    def _alembic_config(self, conn: Connection) -> Any:
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = conn
        return cfg

    def head_revision(self) -> str:
        """The newest migration this lightkeeper knows."""
        return head_revision()

    def current_revision(self) -> str | None:
        """The migration the database is at, ``None`` for an empty database."""
        from alembic.runtime.migration import MigrationContext

        with self._connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def upgrade(self) -> tuple[str | None, str]:
        """Apply pending migrations; returns (from_revision, to_revision).

        Safe to call from several processes at once: SQLite serialises on
        ``BEGIN IMMEDIATE``, PostgreSQL on a transaction-level advisory lock.
        """
        from alembic import command
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        with self._connect() as conn:
            conn = conn.execution_options(lk_write=True)
            with conn.begin():
                if not self.is_sqlite:
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(7418230001)"))
                cfg = self._alembic_config(conn)
                script = ScriptDirectory.from_config(cfg)
                current = MigrationContext.configure(conn).get_current_revision()
                known = {rev.revision for rev in script.walk_revisions()}
                if current is not None and current not in known:
                    raise DatabaseOutdated(
                        f"the ops database at {self.display_url} is at schema revision "
                        f"{current}, which this lightkeeper does not know",
                        hint="upgrade lightkeeper to the version that wrote this database",
                    )
                head = script.get_current_head()
                assert head is not None
                if current != head:
                    log.info(
                        "migrating ops database %s from %s to %s", self.display_url, current, head
                    )
                    command.upgrade(cfg, "head")
            return current, head

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
