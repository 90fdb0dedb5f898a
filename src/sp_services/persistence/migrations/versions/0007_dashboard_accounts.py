"""dashboard accounts and sessions; indexes for the dashboard's Today page

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # People who log in to a seller's dispatcher dashboard (docs/design.md §8): the password only as
    # an Argon2id hash; failed logins counted for the lock-out.
    op.create_table(
        "dashboard_users",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("seller_id", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["seller_id"], ["sellers.seller_id"]),
        sa.PrimaryKeyConstraint("user_id"),
        sa.UniqueConstraint("email"),
    )
    op.create_index("ix_dashboard_users_seller_id", "dashboard_users", ["seller_id"])
    # Logged-in browsers: the SHA-256 of each random session id, never the id itself.
    op.create_table(
        "dashboard_sessions",
        sa.Column("session_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["dashboard_users.user_id"]),
        sa.PrimaryKeyConstraint("session_hash"),
    )
    op.create_index("ix_dashboard_sessions_user_id", "dashboard_sessions", ["user_id"])
    op.create_index("ix_dashboard_sessions_expires_at", "dashboard_sessions", ["expires_at"])
    # Today's counts and lists, in their order: one seller's ACTIVE appointments by start time, and
    # its jobs of one status by creation, however many completed and cancelled ones the seller has
    # (ix_jobs_seller_status lacks the id that completes the order, so a planner walks the index by
    # creation instead, through every job of the seller).
    op.create_index(
        "ix_appointments_seller_status_start", "appointments", ["seller_id", "status", "start_time", "appointment_id"]
    )
    op.create_index(
        "ix_jobs_seller_status_created_id",
        "service_jobs",
        ["seller_id", "marketplace_id", "status", "created_at", "service_job_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_jobs_seller_status_created_id", table_name="service_jobs")
    op.drop_index("ix_appointments_seller_status_start", table_name="appointments")
    op.drop_index("ix_dashboard_sessions_expires_at", table_name="dashboard_sessions")
    op.drop_index("ix_dashboard_sessions_user_id", table_name="dashboard_sessions")
    op.drop_table("dashboard_sessions")
    op.drop_index("ix_dashboard_users_seller_id", table_name="dashboard_users")
    op.drop_table("dashboard_users")
