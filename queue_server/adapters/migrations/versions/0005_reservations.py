"""visit reservations (来庁予約) and notice subscriptions

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 05:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import queue_server.adapters.tables

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    utc = queue_server.adapters.tables.UTCDateTime
    op.create_table(
        "reservations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("office_id", sa.String(length=40), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("category_id", sa.String(length=40), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("slot_start", utc(), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("ticket_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("reminder_sent_at", utc(), nullable=True),
        sa.Column("reminder_attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", utc(), nullable=False),
        sa.Column("updated_at", utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_reservations_office_id_offices")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_reservations_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations")),
        sa.UniqueConstraint("reference", name=op.f("uq_reservations_reference")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_reservations_code_hash")),
    )
    op.create_index(
        "ix_reservations_slot", "reservations", ["office_id", "category_id", "slot_start"]
    )
    op.create_index("ix_reservations_day", "reservations", ["office_id", "business_date"])
    ids = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "notice_subscriptions",
        sa.Column("id", ids, autoincrement=True, nullable=False),
        sa.Column("office_id", sa.String(length=40), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", ids, nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=2000), nullable=False),
        sa.Column("ahead", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("sent", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_notice_subscriptions_office_id_offices")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_notice_subscriptions_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_subscriptions")),
        sa.UniqueConstraint("token", name=op.f("uq_notice_subscriptions_token")),
    )
    op.create_index(
        "ix_notice_subscriptions_business_date", "notice_subscriptions", ["business_date"]
    )


def downgrade() -> None:
    op.drop_index("ix_notice_subscriptions_business_date", table_name="notice_subscriptions")
    op.drop_table("notice_subscriptions")
    op.drop_index("ix_reservations_day", table_name="reservations")
    op.drop_index("ix_reservations_slot", table_name="reservations")
    op.drop_table("reservations")
