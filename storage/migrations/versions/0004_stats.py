"""leads.qualified_at, opportunity_at and closed_at (when the lead reached each later
lifecycle stage, so "where leads stall" is one pass over leads instead of a join with
every event), and a covering index for a team's stats over a period

Revision ID: 0004_stats
Revises: 0004_outbox
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_stats"
down_revision = "0004_outbox"
branch_labels = None
depends_on = None

STAGES = {
    "qualified_at": ("qualified",),
    "opportunity_at": ("opportunity",),
    "closed_at": ("disqualified", "won", "lost"),
}
STATS_COLUMNS = [
    "team",
    "created_at",
    "owner",
    "source",
    "method",
    "rule",
    "lead_type",
    "status",
    "sla_due_at",
    "assigned_at",
    "contacted_at",
    "qualified_at",
    "opportunity_at",
    "closed_at",
]


def upgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        for column in STAGES:
            batch_op.add_column(sa.Column(column, sa.DateTime(timezone=False), nullable=True))
    leads = sa.table("leads", sa.column("id"), *(sa.column(column) for column in STAGES))
    events = sa.table("lead_events", sa.column("lead_id"), sa.column("type"), sa.column("at"))
    for column, types in STAGES.items():
        first = (
            sa.select(sa.func.min(events.c.at))
            .where(events.c.lead_id == leads.c.id, events.c.type.in_(types))
            .scalar_subquery()
        )
        op.get_bind().execute(leads.update().values({column: first}))
    op.create_index("ix_leads_team_created_stats", "leads", STATS_COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_leads_team_created_stats", table_name="leads")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        for column in reversed(list(STAGES)):
            batch_op.drop_column(column)
