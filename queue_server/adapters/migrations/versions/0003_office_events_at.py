"""index office events by time (every state recompute reads today's counter events)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 04:05:00
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_office_events_office_id_at", "office_events", ["office_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_office_events_office_id_at", table_name="office_events")
