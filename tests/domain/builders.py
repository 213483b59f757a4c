"""Small builders shared by the routing tests: configurations from plain data."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from domain.config import Config, validate_config
from domain.lead import LeadInput, parse_lead
from domain.routing import Decision, RoutingState, route

MONDAY_NOON = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
"""Monday 2 March 2026, 12:00 in New York: inside everyone's working hours."""


def team_config(
    weights: Sequence[int],
    strategy: str = "weighted",
    reps: Sequence[dict[str, Any]] | None = None,
    **team: Any,
) -> Config:
    """One team `sales` of reps U0REP0.. with these weights, and one catch-all rule."""
    users = [f"U0REP{index}" for index in range(len(weights))]
    rep_data = reps if reps is not None else [{} for _ in users]
    return validate_config(
        {
            "reps": [{"user": user, **extra} for user, extra in zip(users, rep_data, strict=True)],
            "teams": [
                {
                    "name": "sales",
                    "channel": "C0SALES",
                    "manager": "U0BOSS",
                    "strategy": strategy,
                    "members": [
                        {"user": user, "weight": weight}
                        for user, weight in zip(users, weights, strict=True)
                    ],
                    **team,
                }
            ],
            "rules": [{"name": "everyone", "then": {"team": "sales"}}],
        }
    )


def lead(**fields: Any) -> LeadInput:
    return parse_lead({"email": "buyer@prospect.io", **fields})


class Router:
    """Routes a stream of leads as production does: the state carries from lead to lead."""

    def __init__(self, config: Config):
        self.config = config
        self.open_leads: dict[str, int] = {}
        self.last_assigned: dict[str, datetime] = {}
        self.credits: dict[str, dict[str, int]] = {}

    def route(self, item: LeadInput, now: datetime = MONDAY_NOON) -> Decision:
        state = RoutingState(dict(self.open_leads), dict(self.last_assigned), dict(self.credits))
        decision = route(item, self.config, state, now)
        if decision.credits is not None and decision.team is not None:
            self.credits[decision.team] = decision.credits
        if decision.owner is not None:
            self.open_leads[decision.owner] = self.open_leads.get(decision.owner, 0) + 1
            self.last_assigned[decision.owner] = now
        return decision
