"""Experiments and the routing review: each lead's experiment and arm (so a report
reads them by index, not out of the decision JSON), "Wrong routing?" feedback, and the
reports an experiment's promotion links to in the configuration history

Revision ID: 0006_experiments
Revises: 0006_arch
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_experiments"
down_revision = "0006_scoring"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("experiment", sa.String(80), nullable=True))
        batch_op.add_column(sa.Column("arm", sa.String(80), nullable=True))
        batch_op.create_index(
            "ix_leads_experiment_arm", ["experiment", "arm", "created_at"], unique=False
        )
    op.create_table(
        "misroute_reports",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lead_id", sa.String(32), nullable=False),
        sa.Column("reporter", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("rule", sa.String(200), nullable=True),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_misroute_reports_lead_id_leads")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_misroute_reports")),
        sa.UniqueConstraint(
            "lead_id", "reporter", name=op.f("uq_misroute_reports_lead_id_reporter")
        ),
    )
    op.create_index("ix_misroute_reports_at", "misroute_reports", ["at"], unique=False)
    op.create_table(
        "experiment_reports",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("experiment", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment_reports")),
    )
    op.create_index(
        "ix_experiment_reports_experiment", "experiment_reports", ["experiment"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_experiment_reports_experiment", table_name="experiment_reports")
    op.drop_table("experiment_reports")
    op.drop_index("ix_misroute_reports_at", table_name="misroute_reports")
    op.drop_table("misroute_reports")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_index("ix_leads_experiment_arm")
        batch_op.drop_column("arm")
        batch_op.drop_column("experiment")
