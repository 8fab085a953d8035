"""Engines for SQLite (WAL, the embedded default) and PostgreSQL, and schema migrations."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def normalise_url(url: str) -> str:
    """Accept plain `postgresql://` URLs and use the psycopg 3 driver for them."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def new_id(result: Any) -> int:
    """The primary key an INSERT created."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def create_database_engine(url: str) -> Engine:
    """An engine whose write transactions serialise correctly on either database.

    On SQLite every transaction is opened explicitly: `BEGIN IMMEDIATE` for writers (taking the
    write lock up front instead of failing on lock upgrade) and `BEGIN` for readers, which then
    see one consistent WAL snapshot.
    """
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        database = make_url(url).database
        if database and database != ":memory:":
            private_file(Path(database))
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=10,
            max_overflow=30,
            hide_parameters=True,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            # Deleted rows (visitors' requests at day close) are overwritten, not just unlinked.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    # hide_parameters: SQL errors end up in logs, and parameters may hold personal data.
    return create_engine(
        url, pool_size=10, max_overflow=30, pool_pre_ping=True, hide_parameters=True
    )


def private_file(path: Path) -> None:
    """Make sure the database file exists as 0600 before SQLite opens it (SQLite gives its -wal
    and -shm files the same mode); a missing directory is created 0700. An existing directory
    keeps its mode: it may be shared (the data directory itself is made 0700 by the settings)."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    for existing in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if existing.exists() and existing.stat().st_uid == os.getuid():
            existing.chmod(0o600)


def scrub_wal(connection: Any) -> bool:
    """After personal data was deleted: copy the WAL into the database and truncate it, so no
    old page with the data stays in the -wal file (secure_delete already zeroed the pages).
    True when the WAL is empty; readers holding an old snapshot can delay it (retried)."""
    if connection.dialect.name != "sqlite":
        return True
    driver = connection.connection.driver_connection
    for _ in range(20):
        busy, _frames, _done = driver.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if not busy:
            return True
        time.sleep(0.05)
    return False


def writer(engine: Engine) -> Engine:
    """The engine to use for a transaction that will write."""
    if is_sqlite(engine):
        return engine.execution_options(sqlite_begin="IMMEDIATE")
    return engine


def reader(engine: Engine) -> Engine:
    """The engine for a read-only transaction that must see one consistent snapshot."""
    if is_sqlite(engine):
        return engine
    return engine.execution_options(isolation_level="REPEATABLE READ")


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
