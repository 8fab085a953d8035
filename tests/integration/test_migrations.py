"""Alembic migrations build exactly the schema the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from queue_server.adapters.database import create_database_engine, upgrade
from queue_server.adapters.tables import metadata


def test_upgrade_creates_the_declared_schema_and_is_idempotent(database_url: str) -> None:
    engine = create_database_engine(database_url)
    upgrade(engine)
    upgrade(engine)  # a second run changes nothing
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), metadata)
        tables = set(inspect(connection).get_table_names())
    engine.dispose()
    assert diff == []
    assert {"tickets", "ticket_transitions", "office_events", "number_sequences"} <= tables
