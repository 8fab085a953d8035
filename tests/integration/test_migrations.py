"""Alembic migrations build exactly the schema the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from support.server import app_client
from tests_constants import TOKYO

from queue_server.adapters.database import MIGRATIONS, create_database_engine, upgrade
from queue_server.adapters.tables import metadata
from queue_server.service.ports import FakeClock


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


def test_booking_reminder_addresses_survive_0007_both_ways(
    database_url: str, tmp_path: Path
) -> None:
    """0007 moved a booking's e-mail into (reminder_channel, reminder_address): a downgrade puts
    an e-mail reminder back in the old column and the upgrade brings it forward again."""
    clock = FakeClock(datetime(2026, 11, 25, 8, 0, tzinfo=TOKYO))
    with app_client(database_url, clock, data_dir=tmp_path, secret_key="migration-test") as (
        client,
        _,
        _,
    ):
        body = {
            "category_id": "mynumber",
            "start": "2026-11-26T10:00:00+09:00",
            "language": "en",
            "email": "old.column@example.jp",
        }
        assert client.post("/api/v1/reservations", json=body).status_code == 201
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    engine = create_database_engine(database_url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT email FROM reservations")).scalars().all() == [
            "old.column@example.jp"
        ]
    upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT reminder_channel, reminder_address FROM reservations")
        ).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("email", "old.column@example.jp")]
