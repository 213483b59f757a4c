"""The Home tab, kept current: published when a person opens it, after a button pressed
anywhere, and after any change to their leads (a new assignment, a claim, a reassignment
by an SLA), a moment later so a burst of changes is one publish, and at most once per
`REFRESH_EVERY` for changes that keep coming (reusing their month's figures for a minute).

Why: Slack shows the last view published; a Home tab that is published only when opened
goes stale while the person looks at it, and a button pressed in it has no
``response_url`` to answer on, so the answer is the Home tab itself.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.services.stats import StatsService
from bot.slack import stats_views
from bot.slack.blocks import section
from domain.reports import Report

log = logging.getLogger(__name__)

Controls = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
"""Adds a person's own controls to their Home view (the away toggle, Next lead)."""

QUIET_SECONDS = 1.0
"""How long changes to one person's leads are gathered before their Home is published."""
REFRESH_EVERY = 30.0
"""The least time between two refreshes of one person's Home. Why: a rep receiving
leads every second would otherwise be re-read and re-published every second (under
sustained intake this cost more CPU than intake itself), and Slack allows views.publish
about 100 times a minute per workspace."""
FIGURES_EVERY = 60.0
"""How long a refresh reuses a person's 30-day figures: reading them takes several
queries, and one more lead barely moves a month; their list of leads is always read."""


class HomeTab:
    def __init__(
        self,
        stats: StatsService,
        client: AsyncWebClient,
        quiet: float = QUIET_SECONDS,
        controls: Controls | None = None,
        refresh_every: float = REFRESH_EVERY,
        figures_every: float = FIGURES_EVERY,
    ) -> None:
        self.stats = stats
        self.client = client
        self.quiet = quiet
        self.controls = controls
        self.refresh_every = refresh_every
        self.figures_every = figures_every
        self._pending: dict[str, asyncio.Task[None]] = {}
        self._refreshed: dict[str, float] = {}  # person -> loop time of their last refresh
        self._figures: dict[str, tuple[float, Report]] = {}  # person -> (read at, figures)

    async def publish(self, user: str, said: str | None = None, *, refresh: bool = False) -> None:
        """Render and publish ``user``'s Home tab now; ``said`` on top (the answer to a
        button pressed in it: a line the app wrote, never lead text). A ``refresh``
        reuses figures read less than ``figures_every`` ago."""
        now = asyncio.get_running_loop().time()
        read_at, recent = self._figures.get(user, (-math.inf, None))
        reused = recent if refresh and now - read_at < self.figures_every else None
        leads, report = await self.stats.home(user, stats_views.HOME_LEADS + 1, reused)
        if reused is None:
            self._figures[user] = (now, report)
        view = stats_views.home_view(leads, report, self.stats.now())
        if self.controls is not None:
            view = await self.controls(user, view)
        if said and len(view["blocks"]) < stats_views.HOME_BLOCKS:
            view = {**view, "blocks": [section(said), *view["blocks"]]}
        await self.client.views_publish(user_id=user, view=view)

    def touch(self, *users: str | None) -> None:
        """Publish these people's Home tabs after a quiet moment (once for many changes)."""
        for user in users:
            if user and user[0] in "UW" and user not in self._pending:
                self._pending[user] = asyncio.create_task(self._later(user))

    async def _later(self, user: str) -> None:
        loop = asyncio.get_running_loop()
        allowed = self._refreshed.get(user, -math.inf) + self.refresh_every
        await asyncio.sleep(max(self.quiet, allowed - loop.time()))
        if self._pending.get(user) is asyncio.current_task():
            del self._pending[user]  # a change from now on schedules another publish
        self._refreshed[user] = loop.time()
        try:
            await self.publish(user, refresh=True)
        except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as error:
            log.warning("could not refresh the Home tab of %s: %s", user, error)
        except Exception:
            log.exception("refreshing the Home tab of %s failed", user)

    async def close(self) -> None:
        """Drop the publishes not yet due (the app is stopping)."""
        pending = list(self._pending.values())
        self._pending.clear()
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
