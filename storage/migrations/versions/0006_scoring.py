"""Scoring: each lead's grade, scores, MQL verdict and reasons (grade, model_score and mql
as columns, so stats and the scoring report group by them without parsing JSON), and
lead_activities, the behaviour after intake that re-scores a lead

Revision ID: 0006_scoring
Revises: 0006_arch
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_scoring"
down_revision = "0006_hostile"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("grade", sa.String(2), nullable=True))
        batch_op.add_column(sa.Column("model_score", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("mql", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("scoring", sa.JSON(), nullable=True))
    op.create_table(
        "lead_activities",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lead_id", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("points", sa.Integer(), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_lead_activities_lead_id_leads")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_activities")),
    )
    op.create_index("ix_lead_activities_lead_at", "lead_activities", ["lead_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_lead_activities_lead_at", table_name="lead_activities")
    op.drop_table("lead_activities")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        for column in ("scoring", "mql", "model_score", "grade"):
            batch_op.drop_column(column)
