"""The weekly leaderboard of a team, posted to its channel at the team's chosen hour
(`availability.leaderboard: {day, hour}`, UTC): reps ranked by speed to contact and
outcomes over the last seven days (domain.leaderboard), never by leads grabbed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.services.base import ApplicationService
from bot.services.configuration import ConfigService
from bot.services.stats import StatsService
from domain.config import TeamConfig
from domain.leaderboard import RepWeek, leaderboard_lines
from domain.messages import Leaderboard
from domain.reports import Scope, digest_window
from storage.uow import Database

log = logging.getLogger(__name__)
UTC_ZONE = ZoneInfo("UTC")


class LeaderboardService(ApplicationService):
    def __init__(
        self,
        db: Database,
        configs: ConfigService,
        now: Callable[[], datetime],
        wake_outbox: Callable[[], None],
        stats: StatsService,
        render: Callable[[str, str, list[str]], dict[str, Any]],
    ):
        super().__init__(db, configs, now, wake_outbox)
        self.stats = stats
        self.render = render
        """(team, week, ranked lines) -> the Slack message: given by the composition root,
        as the application layer does not import Slack views."""

    async def queue_due(self) -> int:
        """Queue each team's leaderboard whose hour has come this week (once: the outbox
        key is per team and week); returns how many were queued."""
        async with self.db.snapshot() as uow:
            config = await self.configs.config(uow)
        if config is None:
            return 0
        queued = 0
        for team in config.teams:
            board = team.availability.leaderboard if team.availability else None
            if board is None or team.channel is None:
                continue
            try:
                queued += await self._queue_team(team, board.day, board.hour)
            except Exception:
                log.exception("leaderboard of %s failed; retrying next minute", team.name)
        if queued:
            self.wake_outbox()
        return queued

    async def _queue_team(self, team: TeamConfig, day: str, hour: int) -> int:
        assert team.channel is not None
        window = digest_window(day, hour, self.now(), UTC_ZONE)
        if window is None:
            return 0
        start, end = window.current
        report = await self.stats.report_between(Scope("team", team.name), "7d", start, end)
        weeks = [RepWeek.of(line) for line in report.reps]
        message = self.render(team.name, window.week, leaderboard_lines(weeks))
        async with self.db.transaction() as uow:
            leaderboard = Leaderboard(team.name, window.week, team.channel, message)
            await uow.outbox.queue([leaderboard], self.now())
        return 1
