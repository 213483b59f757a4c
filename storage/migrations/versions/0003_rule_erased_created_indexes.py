"""leads.rule (the routing rule, as a column so stats group by it without reading JSON),
leads.erased_at (personal data erased: GDPR request or retention), and indexes on
created_at for period queries

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rule", sa.String(200), nullable=True))
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=False), nullable=True))
    leads = sa.table("leads", sa.column("id"), sa.column("decision", sa.JSON), sa.column("rule"))
    connection = op.get_bind()
    rows = connection.execute(sa.select(leads.c.id, leads.c.decision)).all()
    for lead_id, decision in rows:
        rule = (decision or {}).get("rule")
        if rule:
            connection.execute(leads.update().where(leads.c.id == lead_id).values(rule=rule))
    op.create_index("ix_leads_created_at", "leads", ["created_at"])
    op.create_index("ix_leads_owner_created", "leads", ["owner", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_leads_owner_created", table_name="leads")
    op.drop_index("ix_leads_created_at", table_name="leads")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
        batch_op.drop_column("rule")
