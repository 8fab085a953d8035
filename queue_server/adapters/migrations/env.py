"""Alembic environment: runs on the connection handed over by `database.upgrade`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from queue_server.adapters.database import normalise_url
from queue_server.adapters.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    # `alembic` run by hand: take the URL from `-x url=...`.
    url = context.get_x_argument(as_dictionary=True)["url"]
    connection = create_engine(normalise_url(url)).connect()
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
