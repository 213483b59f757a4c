"""The Home tab, kept current: published when a person opens it, after a button pressed
anywhere, and after any change to their leads (a new assignment, a claim, a reassignment
by an SLA), a moment later so a burst of changes is one publish.

Why: Slack shows the last view published; a Home tab that is published only when opened
goes stale while the person looks at it, and a button pressed in it has no
``response_url`` to answer on, so the answer is the Home tab itself.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.services.stats import StatsService
from bot.slack import stats_views

log = logging.getLogger(__name__)

QUIET_SECONDS = 1.0
"""How long changes to one person's leads are gathered before their Home is published."""


class HomeTab:
    def __init__(
        self, stats: StatsService, client: AsyncWebClient, quiet: float = QUIET_SECONDS
    ) -> None:
        self.stats = stats
        self.client = client
        self.quiet = quiet
        self._pending: dict[str, asyncio.Task[None]] = {}

    async def publish(self, user: str) -> None:
        """Render and publish ``user``'s Home tab now."""
        leads, report = await self.stats.home(user, stats_views.HOME_LEADS + 1)
        await self.client.views_publish(
            user_id=user, view=stats_views.home_view(leads, report, self.stats.now())
        )

    def touch(self, *users: str | None) -> None:
        """Publish these people's Home tabs after a quiet moment (once for many changes)."""
        for user in users:
            if user and user[0] in "UW" and user not in self._pending:
                self._pending[user] = asyncio.create_task(self._later(user))

    async def _later(self, user: str) -> None:
        await asyncio.sleep(self.quiet)
        if self._pending.get(user) is asyncio.current_task():
            del self._pending[user]  # a change from now on schedules another publish
        try:
            await self.publish(user)
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
