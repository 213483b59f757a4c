"""leads.phone_key: the phone number in one spelling (E.164 when it can be read), so a
lead that left only a phone is recognised when it arrives again within the dedup window;
outbox.posted_channel/posted_ts: where a sent alert about a lead lives in Slack, so an
erasure can redraw it (cards already have lead_messages)

Revision ID: 0006_hostile
Revises: 0006_arch
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_hostile"
down_revision = "0006_arch"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("leads", sa.Column("phone_key", sa.String(40), nullable=True))
    op.create_index("ix_leads_phone_key_created", "leads", ["phone_key", "created_at"])
    op.add_column("outbox", sa.Column("posted_channel", sa.String(64), nullable=True))
    op.add_column("outbox", sa.Column("posted_ts", sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column("outbox", "posted_ts")
    op.drop_column("outbox", "posted_channel")
    op.drop_index("ix_leads_phone_key_created", table_name="leads")
    op.drop_column("leads", "phone_key")
