"""submit leases and upstream accounts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 11:20:00
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
        "upstream_accounts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("concurrent_limit", sa.Integer(), nullable=True),
        sa.Column("running", sa.Integer(), nullable=True),
        sa.Column("queued", sa.Integer(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("idle_since", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upstream_accounts")),
    )
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("submit_owner", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("submit_lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("upstream_account", sa.String(length=32), nullable=True))
        batch.create_index(
            "ix_tasks_upstream_account_status", ["upstream_account", "status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_index("ix_tasks_upstream_account_status")
        batch.drop_column("upstream_account")
        batch.drop_column("submit_lease_until")
        batch.drop_column("submit_owner")
    op.drop_table("upstream_accounts")
