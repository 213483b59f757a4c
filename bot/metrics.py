"""Prometheus metrics, served at /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry()

LEADS_RECEIVED = Counter(
    "leadrouter_leads_received_total", "Leads accepted by intake", ["submitter"], registry=REGISTRY
)
LEADS_DUPLICATE = Counter(
    "leadrouter_leads_duplicate_total",
    "Intake requests answered with an existing lead",
    ["submitter"],
    registry=REGISTRY,
)
LEADS_ROUTED = Counter(
    "leadrouter_leads_routed_total", "Leads routed, by method", ["method"], registry=REGISTRY
)
SLACK_CALLS = Counter(
    "leadrouter_slack_calls_total",
    "Outbox deliveries by kind and outcome",
    ["kind", "outcome"],
    registry=REGISTRY,
)
NOTIFY_LATENCY = Histogram(
    "leadrouter_intake_to_notify_seconds",
    "From lead intake to its first Slack message",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
    registry=REGISTRY,
)
OUTBOX_DEPTH = Gauge(
    "leadrouter_outbox_pending", "Slack calls waiting in the outbox", registry=REGISTRY
)
SLA_STEPS = Counter(
    "leadrouter_sla_steps_total",
    "SLA steps fired or cancelled, by action and outcome",
    ["action", "outcome"],
    registry=REGISTRY,
)
SLA_BREACHES = Counter(
    "leadrouter_sla_breaches_total", "Leads whose response SLA ran out", registry=REGISTRY
)
TIMER_LATENESS = Histogram(
    "leadrouter_timer_lateness_seconds",
    "How late SLA steps fire after their due time",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60),
    registry=REGISTRY,
)
TIMERS_OVERDUE = Gauge(
    "leadrouter_timers_overdue",
    "Pending SLA steps more than a minute late (should be 0)",
    registry=REGISTRY,
)
ESCALATIONS = Counter(
    "leadrouter_escalations_total",
    "SLA escalation steps fired, by action (reassign, notify_manager, repost_to_channel...)",
    ["action"],
    registry=REGISTRY,
)
SLACK_ERRORS = Counter(
    "leadrouter_slack_errors_total",
    "Failed Slack Web API calls, by method and error code (HTTP status or `network`)",
    ["method", "code"],
    registry=REGISTRY,
)
OUTBOX_OLDEST_AGE = Gauge(
    "leadrouter_outbox_oldest_age_seconds",
    "Age of the oldest Slack call still waiting in the outbox (0 when empty)",
    registry=REGISTRY,
)
INTAKE_RATE_LIMITED = Counter(
    "leadrouter_intake_rate_limited_total",
    "Intake requests refused with 429, by API key name",
    ["submitter"],
    registry=REGISTRY,
)
LEADS_ERASED = Counter(
    "leadrouter_leads_erased_total",
    "Leads whose personal data was erased, by cause (request, retention)",
    ["cause"],
    registry=REGISTRY,
)
DEAD_LETTERS = Counter(
    "leadrouter_outbox_dead_letters_total",
    "Slack messages given up for good (dead-lettered), by kind and Slack error",
    ["kind", "error"],
    registry=REGISTRY,
)
WEBHOOK_DELIVERIES = Counter(
    "leadrouter_webhook_deliveries_total",
    "Outbound webhook attempts by endpoint and outcome (delivered, retry, dead)",
    ["endpoint", "outcome"],
    registry=REGISTRY,
)
