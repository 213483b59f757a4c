"""outbox.digest_id: lead cards folded into one digest post when a burst (a CSV import,
a batch) would flood a channel or a rep's DMs

Revision ID: 0004_outbox
Revises: 0004_security
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_outbox"
down_revision = "0004_security"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest_id", sa.BigInteger(), nullable=True))
        batch_op.create_index("ix_outbox_digest", ["digest_id"])
        batch_op.create_index("ix_outbox_kind_created", ["kind", "created_at"])


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_kind_created")
        batch_op.drop_index("ix_outbox_digest")
        batch_op.drop_column("digest_id")
