"""jobs of one store by status and creation: getServiceJobs and the report filtered by storeIds

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 22:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A filter by store (and status) was answered from the seller's jobs of that status, each row
    # looked up for its store: at 100k jobs, counting one store's COMPLETED jobs took ~140 ms. By
    # store, then status, then the listing's order, it is one index range: ~0.3 ms, and the page
    # needs no sort.
    op.create_index(
        "ix_jobs_seller_store_status",
        "service_jobs",
        ["seller_id", "marketplace_id", "store_id", "status", "created_at", "service_job_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_jobs_seller_store_status", table_name="service_jobs")
