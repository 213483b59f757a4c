"""Checks once a minute whether a weekly digest is due (see WeeklyDigestService)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.services.weekly_digest import WeeklyDigestService

log = logging.getLogger(__name__)
CHECK_EVERY = 60.0


class WeeklyDigestScheduler:
    def __init__(self, digests: WeeklyDigestService, every: float = CHECK_EVERY):
        self.digests = digests
        self.every = every
        self._stop = asyncio.Event()

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.digests.queue_due()
            except Exception:  # the database may be briefly away; the next minute retries
                log.exception("digest check failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.every)

    def stop(self) -> None:
        self._stop.set()
