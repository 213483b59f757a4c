"""The schema. Alembic migrations create it; tables here are what the code queries.

Timestamps are stored as naive UTC and come back as aware UTC (see UtcDateTime), so
SQLite and PostgreSQL behave the same.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.sql.expression import false
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BIGINT autoincrement on PostgreSQL, INTEGER PRIMARY KEY (rowid) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, naive UTC at rest."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


config_versions = Table(
    "config_versions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("document", JSON, nullable=False),
    Column("note", Text, nullable=True),
)

leads = Table(
    "leads",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("submitter", String(100), nullable=False),
    Column("idempotency_key", String(200), nullable=True),
    Column("external_id", String(200), nullable=True),
    Column("email", String(254), nullable=True),
    Column("lead_type", String(64), nullable=False),
    Column("source", String(64), nullable=True),
    Column("fields", JSON, nullable=False),
    Column("status", String(20), nullable=False),
    Column("owner", String(64), nullable=True),
    Column("team", String(80), nullable=True),
    Column("method", String(10), nullable=False),
    Column("decision", JSON, nullable=False),
    Column("sla_policy", JSON, nullable=True),
    Column("sla_due_at", UtcDateTime, nullable=True),
    Column("assigned_at", UtcDateTime, nullable=True),
    Column("contacted_at", UtcDateTime, nullable=True),
    Column("version", Integer, nullable=False, default=1),
    Column("rule", String(200), nullable=True),
    Column("erased_at", UtcDateTime, nullable=True),
    # When the lead first reached each later stage (the events say the same; these let
    # stats find where leads stall in one pass over leads).
    Column("qualified_at", UtcDateTime, nullable=True),
    Column("opportunity_at", UtcDateTime, nullable=True),
    Column("closed_at", UtcDateTime, nullable=True),
    Column("phone_key", String(40), nullable=True),  # domain.contact.phone_key, for dedup
    # The scoring model's verdict (domain.scoring): grade, model score and MQL as columns
    # for stats; `scoring` the whole record with its reasons. Null when nothing scores.
    Column("grade", String(2), nullable=True),
    Column("model_score", Integer, nullable=True),
    Column("mql", Boolean, nullable=True),
    Column("scoring", JSON, nullable=True),
    # The experiment the lead took part in and its arm (also in `decision`), for reports.
    Column("experiment", String(80), nullable=True),
    Column("arm", String(80), nullable=True),
    UniqueConstraint("submitter", "idempotency_key"),
    UniqueConstraint("submitter", "external_id"),
    Index("ix_leads_email_created", "email", "created_at"),
    Index("ix_leads_phone_key_created", "phone_key", "created_at"),
    Index("ix_leads_owner_status", "owner", "status"),
    Index("ix_leads_team_status", "team", "status"),
    Index("ix_leads_status_owner", "status", "owner"),
    Index("ix_leads_created_at", "created_at"),
    Index("ix_leads_owner_created", "owner", "created_at"),
    Index("ix_leads_erased_created", "erased_at", "created_at"),  # retention's scan
    Index("ix_leads_experiment_arm", "experiment", "arm", "created_at"),
    # Covers every column a team's stats read, so `/leadstats team X 90d` never visits
    # the (wide) lead rows themselves.
    Index(
        "ix_leads_team_created_stats",
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
    ),
)

lead_events = Table(
    "lead_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("lead_id", String(32), ForeignKey("leads.id"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("type", String(32), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reason", Text, nullable=True),
    Column("data", JSON, nullable=True),
    Index("ix_lead_events_lead_at", "lead_id", "at"),
    Index("ix_lead_events_type_at", "type", "at"),
)

lead_activities = Table(
    "lead_activities",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("lead_id", String(32), ForeignKey("leads.id"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("points", Integer, nullable=True),
    Column("attributes", JSON, nullable=True),
    Index("ix_lead_activities_lead_at", "lead_id", "at"),
)

deadlines = Table(
    "deadlines",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("lead_id", String(32), ForeignKey("leads.id"), nullable=False),
    Column("step", String(40), nullable=False),
    Column("action", String(40), nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("state", String(12), nullable=False),
    Column("fired_at", UtcDateTime, nullable=True),
    Column("error", Text, nullable=True),
    UniqueConstraint("lead_id", "step"),
    Index("ix_deadlines_state_due", "state", "due_at"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("dedup_key", String(200), nullable=False, unique=True),
    Column("lead_id", String(32), nullable=True),
    Column("kind", String(32), nullable=False),
    Column("target", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("state", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", UtcDateTime, nullable=True),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("error", Text, nullable=True),
    # Claimed while still holding an older lease: a send may have reached Slack before a
    # crash, so the dispatcher looks for it before posting again.
    Column("maybe_sent", Boolean, nullable=False, server_default=false()),
    # A lead card folded into a digest post (state "digested"): the digest row's id.
    Column("digest_id", BigInteger, nullable=True),
    # Where a sent alert about a lead lives, so erasing the lead can redraw it.
    Column("posted_channel", String(64), nullable=True),
    Column("posted_ts", String(32), nullable=True),
    # A lead card that may fold into a digest (domain.messages.LeadCard.announcement).
    Column("announcement", Boolean, nullable=False, server_default=false()),
    Index("ix_outbox_state_next", "state", "next_attempt_at"),
    Index("ix_outbox_digest", "digest_id"),
    Index("ix_outbox_lead_id", "lead_id"),  # erasure finds a lead's payloads
    Index("ix_outbox_kind_created", "kind", "created_at"),  # finds a burst's open digest
)

# Replicas whose dispatcher sent a heartbeat lately: Slack's limits are the workspace's,
# so each live sender spends 1/N of them.
outbox_senders = Table(
    "outbox_senders",
    metadata,
    Column("worker", String(100), primary_key=True),
    Column("seen_at", UtcDateTime, nullable=False),
)

# Outbound webhook endpoints whose admins were told they are failing (alert once; a
# delivery that goes through clears it).
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("alerted_at", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
)

lead_messages = Table(
    "lead_messages",
    metadata,
    Column("lead_id", String(32), ForeignKey("leads.id"), primary_key=True),
    Column("channel", String(64), primary_key=True),
    Column("ts", String(32), nullable=False),
    Column("kind", String(32), nullable=False),
)

rep_activity = Table(
    "rep_activity",
    metadata,
    Column("user", String(64), primary_key=True),
    Column("last_assigned_at", UtcDateTime, nullable=False),
)

rotation_state = Table(
    "rotation_state",
    metadata,
    Column("team", String(80), primary_key=True),
    Column("state", JSON, nullable=False),
    Column("version", Integer, nullable=False, default=1),
)

slack_deliveries = Table(
    "slack_deliveries",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("seen_at", UtcDateTime, nullable=False),
    Index("ix_slack_deliveries_seen_at", "seen_at"),
)

# "Wrong routing?" from a rep on a lead's card: feedback for the review, one per rep and
# lead; it never changes the lead.
misroute_reports = Table(
    "misroute_reports",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("lead_id", String(32), ForeignKey("leads.id"), nullable=False),
    Column("reporter", String(64), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("rule", String(200), nullable=True),
    Column("reason", String(40), nullable=False),
    Column("text", Text, nullable=True),
    UniqueConstraint("lead_id", "reporter"),
    Index("ix_misroute_reports_at", "at"),
)

# An experiment's report as it stood when it was promoted or stopped: the configuration
# history links to it.
experiment_reports = Table(
    "experiment_reports",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("experiment", String(80), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("document", JSON, nullable=False),
    Index("ix_experiment_reports_experiment", "experiment"),
)
