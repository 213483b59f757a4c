"""outbox_senders: the replicas sending to Slack right now, so each spends only its share
of Slack's per-channel and workspace limits

Revision ID: 0005_senders
Revises: 0004_stats
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_senders"
down_revision = "0004_stats"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_senders",
        sa.Column("worker", sa.String(100), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=False), nullable=False),
        sa.PrimaryKeyConstraint("worker", name=op.f("pk_outbox_senders")),
    )


def downgrade() -> None:
    op.drop_table("outbox_senders")
