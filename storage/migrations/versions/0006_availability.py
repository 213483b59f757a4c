"""Availability: the Slack facts cache and the reps' own away toggle, the counters
routing reads instead of counting leads (open leads per rep; leads per rep per team,
lead type and local day, for caps), and the local day each lead was assigned on.

The open-lead counters start from the leads already stored. Leads assigned before this
migration have no assigned day, so caps count from the upgrade on.

Revision ID: 0006_availability
Revises: 0006_connectors
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_availability"
down_revision = "0006_connectors"
branch_labels = None
depends_on = None

WORKLOAD_STATUSES = ("assigned", "contacted", "qualified")


def upgrade() -> None:
    op.add_column("leads", sa.Column("assigned_day", sa.Date(), nullable=True))
    op.create_table(
        "slack_presence",
        sa.Column("user", sa.String(64), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("status_text", sa.String(200), nullable=False),
        sa.Column("status_emoji", sa.String(100), nullable=False),
        sa.Column("status_expires_at", sa.DateTime(timezone=False), nullable=True),
        sa.Column("dnd_start", sa.DateTime(timezone=False), nullable=True),
        sa.Column("dnd_end", sa.DateTime(timezone=False), nullable=True),
        sa.Column("snooze_until", sa.DateTime(timezone=False), nullable=True),
        sa.Column("presence", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("user", name=op.f("pk_slack_presence")),
    )
    op.create_table(
        "rep_away",
        sa.Column("user", sa.String(64), nullable=False),
        sa.Column("since", sa.DateTime(timezone=False), nullable=False),
        sa.Column("until", sa.DateTime(timezone=False), nullable=True),
        sa.PrimaryKeyConstraint("user", name=op.f("pk_rep_away")),
    )
    op.create_table(
        "open_lead_counts",
        sa.Column("user", sa.String(64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("user", name=op.f("pk_open_lead_counts")),
    )
    op.create_table(
        "assignment_counts",
        sa.Column("user", sa.String(64), nullable=False),
        sa.Column("team", sa.String(80), nullable=False),
        sa.Column("lead_type", sa.String(64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "user", "team", "lead_type", "day", name=op.f("pk_assignment_counts")
        ),
    )
    op.create_index(op.f("ix_assignment_counts_day"), "assignment_counts", ["day"])
    statuses = ", ".join(f"'{status}'" for status in WORKLOAD_STATUSES)
    op.execute(
        'INSERT INTO open_lead_counts ("user", count) '
        f"SELECT owner, count(*) FROM leads WHERE owner IS NOT NULL AND status IN ({statuses}) "
        "GROUP BY owner"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_assignment_counts_day"), table_name="assignment_counts")
    op.drop_table("assignment_counts")
    op.drop_table("open_lead_counts")
    op.drop_table("rep_away")
    op.drop_table("slack_presence")
    op.drop_column("leads", "assigned_day")
