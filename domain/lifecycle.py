"""The lead state machine: leads only move forward, and closed leads stay closed.

new -> queued|assigned -> contacted -> qualified|disqualified -> opportunity -> won|lost.
A scored lead below the MQL line starts in nurture (rank of new); domain.handoff moves
leads between marketing and sales.
A CRM may report a later stage directly (a `qualified` lead was evidently contacted).
"""

from __future__ import annotations

from domain.errors import DomainError
from domain.lead import LeadStatus

_RANK = {
    LeadStatus.NEW: 0,
    LeadStatus.NURTURE: 0,
    LeadStatus.QUEUED: 1,
    LeadStatus.ASSIGNED: 1,
    LeadStatus.CONTACTED: 2,
    LeadStatus.QUALIFIED: 3,
    LeadStatus.DISQUALIFIED: 3,
    LeadStatus.OPPORTUNITY: 4,
    LeadStatus.WON: 5,
    LeadStatus.LOST: 5,
}
TERMINAL = frozenset({LeadStatus.DISQUALIFIED, LeadStatus.WON, LeadStatus.LOST})
OUTCOME_EVENTS = ("contacted", "qualified", "disqualified", "opportunity", "won", "lost")


_STAGE_REACHED = {
    "qualified": "qualified",
    "opportunity": "opportunity",
    "disqualified": "closed",
    "won": "closed",
    "lost": "closed",
}


def stage_reached(event: str) -> str | None:
    """The later lifecycle stage an event enters (`qualified`, `opportunity`, `closed`),
    whose first time is kept on the lead so stats can see where leads stall."""
    return _STAGE_REACHED.get(event)


class TransitionRefused(DomainError):
    """The lead cannot move that way; the message says where it stands."""


def advance(current: LeadStatus, event: str) -> LeadStatus:
    """The status after a closed-loop event, or TransitionRefused."""
    if event not in OUTCOME_EVENTS:
        raise TransitionRefused(f"unknown event {event!r}; use one of {', '.join(OUTCOME_EVENTS)}")
    target = LeadStatus(event)
    if current in TERMINAL:
        raise TransitionRefused(f"the lead is already {current}; it cannot become {target}")
    if _RANK[target] <= _RANK[current]:
        raise TransitionRefused(f"the lead is already {current}; {target} would go backwards")
    return target
