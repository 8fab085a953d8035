"""waiting counts per category and priority; drop the unused service_stats

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "waiting_counts",
        sa.Column("office_id", sa.String(length=40), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("category_id", sa.String(length=40), nullable=False),
        sa.Column("priority_rank", sa.Integer(), nullable=False),
        sa.Column("waiting", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_waiting_counts_office_id_offices")
        ),
        sa.PrimaryKeyConstraint(
            "office_id", "business_date", "category_id", "priority_rank",
            name=op.f("pk_waiting_counts"),
        ),
    )
    # Tickets already waiting when the server is upgraded.
    op.execute(
        "INSERT INTO waiting_counts (office_id, business_date, category_id, priority_rank, waiting)"
        " SELECT office_id, business_date, category_id, priority_rank, COUNT(*) FROM tickets"
        " WHERE state = 'issued' GROUP BY office_id, business_date, category_id, priority_rank"
    )
    op.drop_table("service_stats")


def downgrade() -> None:
    op.create_table(
        "service_stats",
        sa.Column("office_id", sa.String(length=40), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("category_id", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("total_minutes", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_service_stats_office_id_offices")
        ),
        sa.PrimaryKeyConstraint(
            "office_id", "business_date", "category_id", name=op.f("pk_service_stats")
        ),
    )
    op.drop_table("waiting_counts")
