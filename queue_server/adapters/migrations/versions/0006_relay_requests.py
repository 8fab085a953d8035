"""residents' requests pulled from the relay, kept to process each once

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import queue_server.adapters.tables

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    utc = queue_server.adapters.tables.UTCDateTime
    op.create_table(
        "relay_requests",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("office_id", sa.String(length=40), nullable=False),
        sa.Column("path", sa.String(length=80), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("received_at", utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_relay_requests_office_id_offices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relay_requests")),
    )
    op.create_index("ix_relay_requests_received_at", "relay_requests", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_relay_requests_received_at", table_name="relay_requests")
    op.drop_table("relay_requests")
