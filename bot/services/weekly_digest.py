"""The weekly digest: each team manager's DM with the week's figures, the change against
the week before, and a chart.

Exactly once per team per week, across replicas and restarts: the DM and the chart are
outbox rows keyed `weekly_digest:TEAM:2026-W48` (and `weekly_digest_chart:...`), and the
outbox keeps one row per key. Every replica checks every minute; the first one past the
manager's local day and hour queues the week's rows, the others' inserts are no-ops."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.charts import digest_chart
from bot.services.base import ApplicationService
from bot.services.configuration import ConfigService
from bot.services.stats import StatsService
from domain.config import TeamConfig
from domain.messages import WeeklyDigest, WeeklyDigestChart, weekly_digest_key
from domain.reports import Change, Report, Scope, changes, digest_window
from storage.uow import Database

log = logging.getLogger(__name__)

DigestRenderer = Callable[[str, Report, list[Change]], dict[str, Any]]
"""Renders a team's week (its report and the changes against the week before) as the
message to send; the composition root passes the Slack view, so this layer stays below
the Slack edge."""


class WeeklyDigestService(ApplicationService):
    def __init__(
        self,
        db: Database,
        configs: ConfigService,
        now: Callable[[], datetime],
        wake_outbox: Callable[[], None],
        stats: StatsService,
        timezone_of: Callable[[str], Awaitable[ZoneInfo]],
        render: DigestRenderer,
    ):
        super().__init__(db, configs, now, wake_outbox)
        self.stats = stats
        self.timezone_of = timezone_of
        self.render = render
        self._queued: set[str] = set()  # this process's memory; the outbox key is the truth

    async def queue_due(self) -> int:
        """Queue every digest whose hour has come this week; returns how many were new here."""
        async with self.db.snapshot() as uow:
            config = await self.configs.config(uow)
        if config is None:
            return 0
        queued = 0
        for team in config.teams:
            if team.digest is None or team.manager is None:
                continue
            try:
                queued += await self._queue_team(team)
            except Exception:
                log.exception("weekly digest for %s failed; retrying next minute", team.name)
        if queued:
            self.wake_outbox()
        return queued

    async def _queue_team(self, team: TeamConfig) -> int:
        assert team.digest is not None and team.manager is not None
        zone = await self.timezone_of(team.manager)
        window = digest_window(team.digest.day, team.digest.hour, self.now(), zone)
        if window is None:
            return 0
        key = weekly_digest_key(team.name, window.week)
        if key in self._queued:
            return 0
        scope = Scope("team", team.name)
        report = await self.stats.report_between(scope, "7d", *window.current)
        before = await self.stats.report_between(scope, "7d", *window.previous)
        message = self.render(team.name, report, changes(report, before))
        async with self.db.snapshot() as uow:
            histogram = await uow.stats.response_histogram(scope, *window.current)
        png = await asyncio.to_thread(digest_chart, report, histogram)
        now = self.now()
        async with self.db.transaction() as uow:
            await uow.outbox.queue(
                [
                    WeeklyDigest(team.name, window.week, team.manager, message),
                    WeeklyDigestChart(
                        team.name, window.week, team.manager, base64.b64encode(png).decode()
                    ),
                ],
                now,
            )
        self._queued.add(key)
        return 1
