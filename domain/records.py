"""Stored leads and their timeline, as the domain and the views see them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from domain.lead import LeadInput, LeadStatus, Method
from domain.scoring import Scoring

SYSTEM_ACTOR = "leadrouter"
"""The actor of events Leadrouter causes itself (routing, timers, dead letters)."""

OPEN_STATUSES = (LeadStatus.NEW, LeadStatus.QUEUED, LeadStatus.ASSIGNED)
"""Waiting for first contact: the response SLA clock runs."""

WORKLOAD_STATUSES = (LeadStatus.ASSIGNED, LeadStatus.CONTACTED, LeadStatus.QUALIFIED)
"""What counts against a rep's capacity: leads they own and are still working.
Opportunities move to the deal pipeline and no longer hold a lead slot."""


@dataclass(frozen=True)
class LeadEvent:
    at: datetime
    type: str
    actor: str
    reason: str | None = None
    data: dict[str, Any] | None = None


@dataclass(frozen=True)
class LeadRecord:
    id: str
    created_at: datetime
    submitter: str
    fields: LeadInput
    status: LeadStatus
    owner: str | None
    team: str | None
    method: Method
    decision: dict[str, Any]
    sla_due_at: datetime | None
    assigned_at: datetime | None
    contacted_at: datetime | None
    version: int
    events: tuple[LeadEvent, ...] = field(default=())
    erased_at: datetime | None = None
    """When the person's data was erased (GDPR request or retention); None: kept."""
    scoring: Scoring | None = None
    """The scoring model's grade, scores and reasons; None when nothing scores."""

    @property
    def display_name(self) -> str:
        name = " ".join(filter(None, (self.fields.first_name, self.fields.last_name)))
        return name or self.fields.email or self.fields.phone or self.id

    def sla_state(self, now: datetime) -> dict[str, Any]:
        """Due time, and whether the response SLA is met, running or breached."""
        if self.sla_due_at is None:
            return {"due_at": None, "state": "none"}
        state: dict[str, Any] = {"due_at": self.sla_due_at}
        if self.contacted_at is not None:
            met = self.contacted_at <= self.sla_due_at
            state["state"] = "met" if met else "missed"
            state["response_seconds"] = (self.contacted_at - self.created_at).total_seconds()
        elif self.status in OPEN_STATUSES:
            left = self.sla_due_at - now
            state["state"] = "running" if left > timedelta(0) else "breached"
            state["seconds_left"] = round(left.total_seconds())
        else:
            state["state"] = "closed"
        return state
