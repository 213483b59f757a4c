"""What routing needs from storage, read in the routing transaction: the counters (never
a recount of leads), rotation credits, last assignments, and the availability facts
(Slack cache, away toggles). Intake, backfill and the accept window all read it here."""

from __future__ import annotations

from datetime import datetime

from domain.caps import earliest_day
from domain.config import Config
from domain.routing import RoutingState
from storage.uow import UnitOfWork


def uses_caps(config: Config) -> bool:
    """Any per-period cap configured: only then are the per-day counts read."""
    reps = any(rep.caps is not None and not rep.caps.empty for rep in config.reps)
    return reps or any(team.caps is not None and not team.caps.empty for team in config.teams)


async def read_routing_state(uow: UnitOfWork, config: Config, now: datetime) -> RoutingState:
    settings = config.availability_settings
    return RoutingState(
        open_leads=await uow.counters.open_leads(),
        last_assigned=await uow.routing.last_assigned(),
        credits=await uow.routing.credits(),
        signals=await uow.availability.signals(now - settings.stale_after),
        assignments=await uow.counters.assignments(earliest_day(now)) if uses_caps(config) else {},
    )
