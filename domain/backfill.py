"""Backfill: leads queued because nobody in a push team could take them go, oldest
first, to reps who can take them now (back on shift, back from PTO or away, below a
cap), while some of their SLA is left; an expired SLA is escalation's business."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from domain.config import Config
from domain.durations import humanize
from domain.lead import LeadStatus, Method
from domain.records import LeadRecord
from domain.routing import Decision, offer_in_team
from domain.routing_memory import RoutingMemory


def waiting_for_backfill(lead: LeadRecord, config: Config, now: datetime) -> bool:
    """Is this a queued lead of a backfilling push team that nobody could take, with SLA
    time left?"""
    if lead.owner is not None or lead.status is not LeadStatus.QUEUED or lead.team is None:
        return False
    if not lead.decision.get("nobody_eligible"):
        return False
    if lead.sla_due_at is not None and lead.sla_due_at <= now:
        return False
    team = config.team(lead.team)
    return (
        team is not None
        and team.method is Method.PUSH
        and team.availability is not None
        and team.availability.backfill
    )


def backfill(
    queued: Sequence[LeadRecord], config: Config, memory: RoutingMemory, now: datetime
) -> list[tuple[LeadRecord, Decision]]:
    """The leads to hand out now and to whom, oldest first. `memory` carries the rotation
    and counts from one hand-out to the next (and holds the new credits afterwards)."""
    handed: list[tuple[LeadRecord, Decision]] = []
    for lead in sorted(queued, key=lambda item: item.created_at):
        if not waiting_for_backfill(lead, config, now):
            continue
        assert lead.team is not None
        waited = humanize(now - lead.created_at)
        why = f"Backfill: queued {waited} ago when nobody in {lead.team} could take it"
        decision = offer_in_team(
            lead.team, lead.fields.lead_type, config, memory.state, now, frozenset(), why
        )
        if decision.owner is None:
            continue
        memory.remember(decision, lead.fields.lead_type, config, now)
        handed.append((lead, decision))
    return handed
