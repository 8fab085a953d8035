"""device revocation, login throttling, richer audit rows (device, detail), office file source

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 05:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from queue_server.adapters.tables import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("offices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.Text(), nullable=True))
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revoked_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("detail", sa.String(length=200), nullable=True))
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_throttle_updated_at"), ["updated_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_throttle_updated_at"))
    op.drop_table("login_throttle")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("detail")
        batch_op.drop_column("device")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_column("revoked_at")
    with op.batch_alter_table("offices", schema=None) as batch_op:
        batch_op.drop_column("source")
