"""Routing state carried from decision to decision inside one transaction, so each lead
of a batch (intake's group commit, a backfill sweep) is decided exactly as it would be
in a transaction of its own: open leads, last assignment, rotation credits and the
per-period counts of caps all move with each assignment."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from domain.caps import AssignmentKey, local_day
from domain.config import Config
from domain.routing import Decision, RoutingState
from domain.routing_plan import compile_plan


class RoutingMemory:
    def __init__(self, state: RoutingState):
        self.open_leads: dict[str, int] = dict(state.open_leads)
        self.last_assigned: dict[str, datetime] = dict(state.last_assigned)
        self.credits: dict[str, dict[str, int]] = {
            team: dict(credits) for team, credits in state.credits.items()
        }
        self.assignments: dict[str, Counter[AssignmentKey]] = {
            user: Counter(counts) for user, counts in state.assignments.items()
        }
        self.signals = state.signals
        self.changed_credits: dict[str, dict[str, int]] = {}
        """Teams whose rotation moved, with their new credits: what to store."""

    @property
    def state(self) -> RoutingState:
        return RoutingState(
            self.open_leads,
            self.last_assigned,
            self.credits,
            self.signals,
            self.assignments,
        )

    def remember(self, decision: Decision, lead_type: str, config: Config, now: datetime) -> None:
        """Account for a decision just taken (its owner, if any, now holds the lead)."""
        if decision.credits is not None and decision.team is not None:
            self.credits[decision.team] = self.changed_credits[decision.team] = decision.credits
        if decision.owner is not None:
            self.assign(decision.owner, decision.team, lead_type, config, now)

    def assign(
        self, owner: str, team: str | None, lead_type: str, config: Config, now: datetime
    ) -> None:
        self.open_leads[owner] = self.open_leads.get(owner, 0) + 1
        self.last_assigned[owner] = now
        key = (team or "", lead_type, assignment_day(owner, config, now))
        self.assignments.setdefault(owner, Counter())[key] += 1


def assignment_day(owner: str, config: Config, now: datetime) -> date:
    """The owner's local day at `now`: what their caps count the lead against."""
    rep = compile_plan(config).rep(owner)
    return local_day(now, rep.availability.zone if rep else "UTC")
