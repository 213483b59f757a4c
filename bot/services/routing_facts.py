"""What routing needs from storage, read in the routing transaction: the counters (never
a recount of leads), rotation credits, last assignments, and the availability facts
(Slack cache, away toggles). Intake, backfill and the accept window all read it here."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.caps import earliest_day
from domain.config import Config
from domain.routing import RoutingState
from domain.signals import SlackSnapshot
from storage.uow import UnitOfWork


def uses_caps(config: Config) -> bool:
    """Any per-period cap configured: only then are the per-day counts read."""
    reps = any(rep.caps is not None and not rep.caps.empty for rep in config.reps)
    return reps or any(team.caps is not None and not team.caps.empty for team in config.teams)


SLACK_FACTS_FOR = timedelta(seconds=2)
"""How long this process reuses the Slack facts it read: they are minutes old by nature
(refreshed every `refresh_every`), and reading a row per rep on every intake transaction
cost more CPU than routing itself."""


class SlackFactsCache:
    """This process's copy of the `slack_presence` rows, read again after SLACK_FACTS_FOR.
    Away toggles are never cached: a rep's own pause takes effect on the next lead."""

    def __init__(self) -> None:
        self._read_at: datetime | None = None
        self._snapshots: dict[str, SlackSnapshot] = {}

    async def snapshots(
        self, uow: UnitOfWork, now: datetime, stale_after: timedelta
    ) -> dict[str, SlackSnapshot]:
        if self._read_at is None or not now - SLACK_FACTS_FOR < self._read_at <= now:
            self._snapshots = await uow.availability.slack_snapshots(now - stale_after)
            self._read_at = now
        return self._snapshots


async def read_routing_state(
    uow: UnitOfWork, config: Config, now: datetime, slack: SlackFactsCache | None = None
) -> RoutingState:
    stale_after = config.availability_settings.stale_after
    snapshots = await slack.snapshots(uow, now, stale_after) if slack is not None else None
    return RoutingState(
        open_leads=await uow.counters.open_leads(),
        last_assigned=await uow.routing.last_assigned(),
        credits=await uow.routing.credits(),
        signals=await uow.availability.signals(now - stale_after, snapshots),
        assignments=await uow.counters.assignments(earliest_day(now)) if uses_caps(config) else {},
    )
