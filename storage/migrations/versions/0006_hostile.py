"""leads.phone_key: the phone number in one spelling (E.164 when it can be read), so a
lead that left only a phone is recognised when it arrives again within the dedup window

Revision ID: 0006_hostile
Revises: 0005_senders
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_hostile"
down_revision = "0005_senders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("leads", sa.Column("phone_key", sa.String(40), nullable=True))
    op.create_index("ix_leads_phone_key_created", "leads", ["phone_key", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_leads_phone_key_created", table_name="leads")
    op.drop_column("leads", "phone_key")
