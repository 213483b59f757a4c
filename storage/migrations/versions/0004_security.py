"""slack_deliveries: Slack payloads already handled (Socket Mode redelivers invisibly);
indexes for erasure: outbox rows by lead, unerased leads by age (retention)

Revision ID: 0004_security
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_security"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slack_deliveries",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=False), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_slack_deliveries"),
    )
    op.create_index("ix_slack_deliveries_seen_at", "slack_deliveries", ["seen_at"])
    op.create_index("ix_outbox_lead_id", "outbox", ["lead_id"])
    op.create_index("ix_leads_erased_created", "leads", ["erased_at", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_leads_erased_created", table_name="leads")
    op.drop_index("ix_outbox_lead_id", table_name="outbox")
    op.drop_index("ix_slack_deliveries_seen_at", table_name="slack_deliveries")
    op.drop_table("slack_deliveries")
