"""webhook_endpoints: per outbound webhook endpoint, whether its admins have been told it
is failing, so a dead endpoint alerts once and not once per delivery

Revision ID: 0006_connectors
Revises: 0006_arch
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_connectors"
down_revision = "0006_experiments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("alerted_at", sa.DateTime(timezone=False), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_webhook_endpoints")),
    )


def downgrade() -> None:
    op.drop_table("webhook_endpoints")
