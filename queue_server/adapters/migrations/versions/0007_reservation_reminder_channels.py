"""a booking's reminder on any notice channel: channel and address instead of the e-mail column

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminder_channel", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("reminder_address", sa.Text(), nullable=True))
    op.execute(
        "UPDATE reservations SET reminder_channel = 'email', reminder_address = email "
        "WHERE email IS NOT NULL"
    )
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.drop_column("email")


def downgrade() -> None:
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
    # Only e-mail reminders fit the old column; the others are dropped.
    op.execute(
        "UPDATE reservations SET email = reminder_address "
        "WHERE reminder_channel = 'email' AND reminder_address IS NOT NULL"
    )
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.drop_column("reminder_address")
        batch_op.drop_column("reminder_channel")
