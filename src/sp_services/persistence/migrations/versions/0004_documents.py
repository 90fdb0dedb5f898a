"""proof-of-appointment documents

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 19:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("upload_destination_id", sa.String(length=100), nullable=False),
        sa.Column("seller_id", sa.String(length=32), nullable=False),
        sa.Column("content_type", sa.String(length=8), nullable=False),
        sa.Column("content_length", sa.Integer(), nullable=False),
        sa.Column("content_md5", sa.String(length=32), nullable=True),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("url_expires_at", sa.DateTime(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=True),
        sa.Column("uploaded_length", sa.Integer(), nullable=True),
        sa.Column("appointment_id", sa.String(length=100), nullable=True),
        sa.Column("attached_at", sa.DateTime(), nullable=True),
        sa.Column("content_sha256", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointments.appointment_id"]),
        sa.ForeignKeyConstraint(["seller_id"], ["sellers.seller_id"]),
        sa.PrimaryKeyConstraint("upload_destination_id"),
    )
    op.create_index("ix_documents_appointment", "documents", ["appointment_id"])
    op.create_index("ix_documents_unreferenced", "documents", ["appointment_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_documents_unreferenced", table_name="documents")
    op.drop_index("ix_documents_appointment", table_name="documents")
    op.drop_table("documents")
