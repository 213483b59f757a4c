"""Scoring applied to a lead's life: at intake (score, then nurture or route) and when
behaviour arrives later (re-score; a nurture lead over the MQL line is routed, the owner
of an open lead hears about each threshold it rises past).

Pure: the services store what these return in the transaction that caused it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain import sla
from domain.config import Config, SlaConfig
from domain.handoff import leaves_nurture, starts_in_nurture
from domain.intake_plan import RoutedLead, plan_handover
from domain.lead import LeadInput, LeadStatus
from domain.records import LeadRecord
from domain.routing import Decision
from domain.routing_plan import compile_plan
from domain.scoring import Activity, Crossing, Scoring, crossings, intake_activity, score_lead

WATCHED = frozenset({LeadStatus.NEW, LeadStatus.QUEUED, LeadStatus.ASSIGNED, LeadStatus.CONTACTED})
"""Leads whose owner hears that they heat up: still being worked, not yet qualified."""


def score_new_lead(config: Config, lead: LeadInput, now: datetime) -> Scoring | None:
    """The lead's scoring at intake (None without a scoring model). The intake counts as
    an activity of the lead's type."""
    return _score(config, lead, [intake_activity(lead.lead_type, now)], now)


def _score(
    config: Config, lead: LeadInput, activities: Sequence[Activity], now: datetime
) -> Scoring | None:
    model = config.scoring
    if model is None:
        return None
    facts = lead.facts()
    facts["account_owner"] = compile_plan(config).account_for(lead) is not None
    return score_lead(model, facts, activities, now, sender_score=lead.score)


def goes_to_nurture(config: Config, lead: LeadInput, scoring: Scoring | None) -> bool:
    """Below the MQL line and not a type that always routes: marketing's, not a rep's."""
    if scoring is None or config.scoring is None:
        return False
    return starts_in_nurture(scoring.mql, config.scoring.routes_always(lead.lead_type))


def nurture_decision(config: Config, scoring: Scoring, version: int) -> Decision:
    """What a lead below the MQL line gets instead of a routing decision: the why, and
    nobody to page."""
    mql_at = config.scoring.mql_at if config.scoring else 0
    reason = f"Scored {scoring.summary()}: below the MQL line ({mql_at}), kept in nurture"
    return Decision.unrouted((reason,), version)


def sla_steps(
    config: Config, lead_type: str, team_name: str | None, started_at: datetime
) -> tuple[SlaConfig, list[sla.PlannedStep]]:
    """The lead type's SLA policy and its steps from `started_at`, in the routed team's
    business hours: when a lead reaches sales, at intake or out of nurture."""
    policy = config.sla_for(lead_type)
    team = config.team(team_name) if team_name else None
    calendar = team.business_hours.calendar() if team and team.business_hours else None
    return policy, sla.plan(policy, started_at, calendar)


def scored_fields(config: Config, lead: LeadInput, scoring: Scoring | None) -> LeadInput:
    """The lead's fields as stored: with `decides: model` its `score` is the model's."""
    if scoring is None or config.scoring is None or config.scoring.decides != "model":
        return lead
    if lead.score == scoring.score:
        return lead
    return lead.model_copy(update={"score": scoring.score})


@dataclass(frozen=True)
class Rescore:
    """What new behaviour does to a stored lead."""

    scoring: Scoring
    fields: LeadInput
    route_now: bool
    """In nurture and now over the MQL line: route it, this once."""
    notices: tuple[Crossing, ...]
    """Thresholds to tell the owner about, one notice each."""

    def summary(self) -> str:
        """The timeline line: `scored A2 · 58: +30 500+ employees, ...`."""
        return f"scored {self.scoring.summary()}"


def rescore(
    config: Config,
    lead: LeadRecord,
    before: Scoring | None,
    activities: Sequence[Activity],
    now: datetime,
) -> Rescore | None:
    """Re-score `lead` on all its activities (the intake among them). None without a
    scoring model: activity is then only recorded."""
    intake = intake_activity(lead.fields.lead_type, lead.created_at)
    scoring = _score(config, lead.fields, [intake, *activities], now)
    if scoring is None or config.scoring is None:
        return None
    route_now = leaves_nurture(lead.status, before is not None and before.mql, scoring.mql)
    told = lead.owner is not None and lead.status in WATCHED and not route_now
    return Rescore(
        scoring,
        scored_fields(config, lead.fields, scoring),
        route_now,
        tuple(crossings(config.scoring, before, scoring)) if told else (),
    )


@dataclass(frozen=True)
class Handover:
    """A nurture lead over the MQL line, routed now: what its row, timeline, SLA clock
    and messages become."""

    decision: Decision
    routed: RoutedLead
    steps: list[sla.PlannedStep]
    changes: dict[str, Any]
    """The lead's new columns, applied with one compare-and-set."""


def hand_over(config: Config, lead: LeadRecord, decision: Decision, now: datetime) -> Handover:
    """Route a lead out of nurture: its SLA clock starts now; its cards are new ones
    (a lead sent back and routed again to the same rep gets a new card)."""
    policy, steps = sla_steps(config, lead.fields.lead_type, decision.team, now)
    occasion = f"mql:v{lead.version + 1}"
    routed = plan_handover(lead.id, decision, config.admins, now, occasion)
    changes: dict[str, Any] = {
        "status": routed.status,
        "owner": decision.owner,
        "team": decision.team,
        "method": decision.method,
        "decision": decision.to_record(),
        "rule": decision.rule,
        "sla_policy": policy.model_dump(mode="json", exclude_none=True),
        "sla_due_at": next(step.due_at for step in steps if step.step == "breach"),
        "assigned_at": now if decision.owner else None,
    }
    return Handover(decision, routed, steps, changes)
