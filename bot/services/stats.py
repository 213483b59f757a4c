"""The numbers sales ops manage by, for a scope and period: `/leadstats`, App Home, the
weekly digest and `GET /api/stats` all come through here, so they always agree."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.services.base import ApplicationService
from bot.services.configuration import ConfigService
from domain.command_args import find_team, parse_argument
from domain.config import Config
from domain.errors import DomainError
from domain.records import WORKLOAD_STATUSES, LeadRecord
from domain.reports import Aggregates, Report, Scope, build_report, period_bounds
from domain.scoring_report import ScoringReport, build_scoring_report
from storage.stats_queries import PARTS
from storage.uow import Database

log = logging.getLogger(__name__)
UTC_ZONE = ZoneInfo("UTC")


class TimezoneCache:
    """Each user's timezone from Slack's `users.info`, remembered for a while: periods are
    counted in the reader's own days, and a command should not wait on Slack every time."""

    def __init__(
        self,
        client: AsyncWebClient,
        now: Callable[[], datetime],
        ttl: timedelta = timedelta(hours=6),
    ):
        self.client = client
        self.now = now
        self.ttl = ttl
        self._zones: dict[str, tuple[datetime, ZoneInfo]] = {}

    async def zone(self, user: str) -> ZoneInfo:
        """The user's timezone; UTC when Slack cannot tell (the figures still come out,
        with day boundaries at UTC midnight, rather than failing the command)."""
        cached = self._zones.get(user)
        if cached is not None and cached[0] > self.now():
            return cached[1]
        try:
            answer = await self.client.users_info(user=user)
            zone = ZoneInfo(str(answer["user"].get("tz") or "UTC"))
        except (SlackApiError, ZoneInfoNotFoundError, KeyError, ValueError) as error:
            log.warning("no timezone for %s (%s); using UTC", user, error)
            return UTC_ZONE
        self._zones[user] = (self.now() + self.ttl, zone)
        return zone


class UnknownScope(DomainError):
    """A team name that is not in the configuration."""


class StatsService(ApplicationService):
    def __init__(
        self,
        db: Database,
        configs: ConfigService,
        now: Callable[[], datetime],
        wake_outbox: Callable[[], None],
        timezone_of: Callable[[str], Awaitable[ZoneInfo]],
    ):
        super().__init__(db, configs, now, wake_outbox)
        self.timezone_of = timezone_of

    async def report(self, scope: Scope, period: str, zone: ZoneInfo) -> Report:
        """The figures for the period ending now, days counted in `zone`."""
        start, end = period_bounds(period, self.now(), zone)
        return await self.report_between(scope, period, start, end)

    async def report_between(
        self, scope: Scope, period: str, start: datetime, end: datetime
    ) -> Report:
        async with self.db.snapshot() as uow:
            weights = None
            config = await self.configs.config(uow)
            if scope.kind == "team":
                named = parse_argument(scope.value)
                team = find_team(config.teams, named) if config else None
                if team is None:
                    raise UnknownScope(f"There is no team named “{scope.value}”.")
                scope = Scope("team", team.name)  # as typed: any case, or its channel
                weights = {member.user: member.weight for member in team.members}
        now = self.now()

        async def part(name: str) -> Any:
            async with self.db.snapshot() as uow:
                return await uow.stats.part(name, scope, start, end, now)

        # Side by side on their own connections: PostgreSQL runs them on separate cores,
        # and so does SQLite (its driver releases the GIL while a statement runs). The
        # parts may see commits milliseconds apart, which figures over days never show.
        found = await asyncio.gather(
            *(part(name) for name in PARTS), self._scoring(config, scope, start, end, weights)
        )
        aggregates = Aggregates(**dict(zip(PARTS, found[:-1], strict=True)))
        report = build_report(scope, period, start, end, aggregates, weights)
        return replace(report, scoring=found[-1])

    async def _scoring(
        self,
        config: Config | None,
        scope: Scope | None,
        start: datetime,
        end: datetime,
        reps: Iterable[str] | None = None,
    ) -> ScoringReport | None:
        """The scoring section (None without a scoring model): its own query, side by side
        with the others."""
        if config is None or config.scoring is None:
            return None
        async with self.db.snapshot() as uow:
            rows = await uow.scoring.rows(start, end, scope)
        return build_scoring_report(rows, config.scoring.mql_at, reps or ())

    async def scoring_report(self, days: int) -> ScoringReport | None:
        """`leadrouter scoring report`: every scored lead received in the last `days`
        days; None without a scoring model."""
        async with self.db.snapshot() as uow:
            config = await self.configs.config(uow)
        now = self.now()
        reps = [rep.key for rep in config.reps] if config else []
        return await self._scoring(config, None, now - timedelta(days=days), now, reps)

    async def for_user(self, scope: Scope, period: str, user: str) -> Report:
        """What `user` asked for, in `user`'s timezone."""
        return await self.report(scope, period, await self.timezone_of(user))

    async def home(
        self, user: str, limit: int, figures: Report | None = None
    ) -> tuple[list[LeadRecord], Report]:
        """A rep's open leads (most urgent first) and their own last 30 days; `figures`,
        a recent report of theirs, instead of reading them again (several queries)."""
        async with self.db.snapshot() as uow:
            queue = await uow.leads.owned_by(
                user, [str(status) for status in WORKLOAD_STATUSES], limit
            )
        return queue, figures or await self.for_user(Scope("rep", user), "30d", user)
