"""revisions: a job's and a store's capacity change counters

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # service_jobs.revision grows with every event of the job (anything its wire shape shows), so a
    # worker may keep a job's serialised form for as long as the revision stays the same.
    # stores.capacity_revision grows with every change of the store's capacity (schedule,
    # reservations, bookings), so computed slots can be kept likewise.
    with op.batch_alter_table("service_jobs") as batch:
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("stores") as batch:
        batch.add_column(sa.Column("capacity_revision", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("stores") as batch:
        batch.drop_column("capacity_revision")
    with op.batch_alter_table("service_jobs") as batch:
        batch.drop_column("revision")
