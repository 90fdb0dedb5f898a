"""job events: every change of a job, in order

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per change of a job (created, booked, rescheduled, assigned, fulfilled, document,
    # completed, cancelled, marketplace holds), with the job's status after it: the timeline, the
    # analytics' event days, and a job's status as of an instant (getServiceJobs paging).
    op.create_table(
        "job_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("service_job_id", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("appointment_id", sa.String(length=100), nullable=True),
        sa.Column("reason_code", sa.String(length=100), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["service_job_id"], ["service_jobs.service_job_id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_job_events_job", "job_events", ["service_job_id", "at", "id"])
    op.create_index("ix_job_events_kind_at", "job_events", ["kind", "at"])
    # Existing jobs get what can be told of their past: created, each appointment booked (or
    # rescheduled), and, where the status moved on, a change to it at the last update.
    op.execute(
        "INSERT INTO job_events (service_job_id, at, kind, status) "
        "SELECT service_job_id, created_at, 'CREATED', 'PENDING_SCHEDULE' FROM service_jobs"
    )
    op.execute(
        "INSERT INTO job_events (service_job_id, at, kind, status, appointment_id, reason_code) "
        "SELECT service_job_id, created_at, "
        "CASE WHEN rescheduled_appointment_id IS NULL THEN 'BOOKED' ELSE 'RESCHEDULED' END, "
        "'NOT_SERVICED', appointment_id, reschedule_reason_code FROM appointments"
    )
    op.execute(
        "INSERT INTO job_events (service_job_id, at, kind, status, reason_code) "
        "SELECT service_job_id, updated_at, "
        "CASE status WHEN 'COMPLETED' THEN 'COMPLETED' WHEN 'CANCELLED' THEN 'CANCELLED' "
        "WHEN 'HOLD' THEN 'HOLD' WHEN 'PAYMENT_DECLINED' THEN 'PAYMENT_DECLINED' "
        "WHEN 'NOT_FULFILLABLE' THEN 'NOT_FULFILLABLE' ELSE 'UPDATED' END, "
        "status, cancellation_reason_code FROM service_jobs WHERE status NOT IN ('PENDING_SCHEDULE', 'NOT_SERVICED')"
    )


def downgrade() -> None:
    op.drop_index("ix_job_events_kind_at", table_name="job_events")
    op.drop_index("ix_job_events_job", table_name="job_events")
    op.drop_table("job_events")
