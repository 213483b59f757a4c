"""What routing a new lead means: its status, its first events and its messages.

Pure: intake (bot.services.intake) stores what this returns in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.lead import LeadStatus
from domain.message_plans import routing_messages
from domain.messages import OutboxMessage
from domain.records import SYSTEM_ACTOR
from domain.routing import Decision


@dataclass(frozen=True)
class NewEvent:
    """A timeline event to append to a lead."""

    lead_id: str
    at: datetime
    type: str
    actor: str
    reason: str
    data: dict[str, Any] | None = None

    def row(self) -> dict[str, Any]:
        return {
            "lead_id": self.lead_id,
            "at": self.at,
            "type": self.type,
            "actor": self.actor,
            "reason": self.reason,
            "data": self.data,
        }


@dataclass(frozen=True)
class RoutedLead:
    status: LeadStatus
    events: tuple[NewEvent, ...]
    messages: tuple[OutboxMessage, ...]


def routed_status(decision: Decision) -> LeadStatus:
    """Assigned to its owner, queued in its team, or new when no rule matched."""
    if decision.owner:
        return LeadStatus.ASSIGNED
    if decision.team:
        return LeadStatus.QUEUED
    return LeadStatus.NEW


def plan_routed(
    lead_id: str,
    submitter: str,
    decision: Decision,
    admins: Iterable[str],
    now: datetime,
) -> RoutedLead:
    """The status, events and messages of a lead just received and routed."""
    routed = plan_handover(lead_id, decision, admins, now)
    created = received_event(lead_id, submitter, now)
    return RoutedLead(routed.status, (created, *routed.events), routed.messages)


def received_event(lead_id: str, submitter: str, now: datetime) -> NewEvent:
    """The first line of every lead's timeline."""
    return NewEvent(lead_id, now, "created", submitter, f"received from {submitter}")


def plan_handover(
    lead_id: str,
    decision: Decision,
    admins: Iterable[str],
    now: datetime,
    occasion: str | None = None,
) -> RoutedLead:
    """The status, events and messages of a lead handed to sales by a routing decision:
    on arrival, or later (`occasion` set: a nurture lead over the MQL line), when its
    cards must be new ones, not the first announcement's."""
    events = [
        NewEvent(
            lead_id,
            now,
            "routed",
            SYSTEM_ACTOR,
            " · ".join(decision.reasons),
            {
                "rule": decision.rule,
                "team": decision.team,
                "config_version": decision.config_version,
                # The timeline names the experiment arm that routed the lead, if any.
                **(
                    {"experiment": decision.experiment, "arm": decision.arm} if decision.arm else {}
                ),
            },
        ),
    ]
    if decision.owner:
        events.append(
            NewEvent(
                lead_id,
                now,
                "assigned",
                SYSTEM_ACTOR,
                decision.reasons[-1],
                {"owner": decision.owner},
            )
        )
    elif decision.channel:
        events.append(
            NewEvent(
                lead_id,
                now,
                "offered",
                SYSTEM_ACTOR,
                f"posted to {decision.channel} for claiming",
                {"channel": decision.channel},
            )
        )
    return RoutedLead(
        routed_status(decision),
        tuple(events),
        tuple(routing_messages(lead_id, decision, admins, occasion)),
    )
