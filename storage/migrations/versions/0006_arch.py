"""outbox.announcement: a lead card that may fold into a digest, set from the typed
message (domain.messages.LeadCard) instead of matched against dedup key patterns

Revision ID: 0006_arch
Revises: 0005_senders
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_arch"
down_revision = "0005_senders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("announcement", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # Rows queued before this revision: the key shapes that meant "announcement" then (a
    # first card `lead_card:LEAD:TARGET`, or a handover `...:undeliverable:ROW`). Only
    # pending rows can still fold.
    outbox = sa.table(
        "outbox",
        sa.column("kind", sa.String),
        sa.column("state", sa.String),
        sa.column("dedup_key", sa.String),
        sa.column("announcement", sa.Boolean),
    )
    op.execute(
        outbox.update()
        .where(
            outbox.c.kind == "lead_card",
            outbox.c.state == "pending",
            sa.or_(
                sa.and_(
                    outbox.c.dedup_key.like("lead_card:%:%"),
                    outbox.c.dedup_key.not_like("lead_card:%:%:%"),
                ),
                outbox.c.dedup_key.like("lead_card:%:%:undeliverable:%"),
            ),
        )
        .values(announcement=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("announcement")
