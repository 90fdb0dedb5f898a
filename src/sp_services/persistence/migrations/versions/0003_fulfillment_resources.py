"""appointment fulfillment resources

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The technicians who did the work (setAppointmentFulfillmentData.appointmentResources), kept
    # apart from the assigned ones: who was planned and who came may differ.
    with op.batch_alter_table("appointments") as batch:
        batch.add_column(sa.Column("fulfillment_resources", sa.JSON(), nullable=True))
    # Encumbrance reads look up ACTIVE appointments by start time.
    op.create_index("ix_appointments_status_start", "appointments", ["status", "start_time"])


def downgrade() -> None:
    op.drop_index("ix_appointments_status_start", table_name="appointments")
    with op.batch_alter_table("appointments") as batch:
        batch.drop_column("fulfillment_resources")
