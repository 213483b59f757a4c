"""Socket Mode: handle each Slack payload once, however often Slack delivers it.

Why: over HTTP a retry is visible (`X-Slack-Retry-Num`) and rare; in Socket Mode
Slack redelivers an envelope it did not see acknowledged in time, on any open
connection (another replica's, too), and the payload looks new. The first delivery of
a key (the event id, or the interaction's trigger id) is recorded in the database and
handled; every later one is acknowledged and dropped.

At most once, on purpose: a replica that dies after recording a key but before
acting drops that payload. Every visible action is a button or command the person
can repeat, and claims are compare-and-set, so a repeat is always safe; a doubled
page would not be.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from slack_bolt.response import BoltResponse

from bot.logs import fresh_request_id, request_id
from storage.uow import Database

log = logging.getLogger(__name__)

KEEP = timedelta(hours=1)
"""Slack gives up redelivering within minutes; keys older than this are forgotten."""


def delivery_key(body: dict[str, Any]) -> str | None:
    """What identifies one payload across redeliveries; None: nothing to dedupe on."""
    if body.get("event_id"):
        return f"event:{body['event_id']}"
    if body.get("trigger_id"):  # slash commands, block actions, view submissions
        return f"trigger:{body['trigger_id']}"
    return None


class DeliveryDedupe:
    def __init__(self, db: Database, now: Callable[[], datetime]):
        self.db = db
        self.now = now

    async def middleware(
        self, body: dict[str, Any], next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        """Bolt global middleware: a repeat is acknowledged (empty 200) and not handled."""
        if request_id.get() is None:  # Socket Mode has no HTTP request to name it
            request_id.set(fresh_request_id())
        key = delivery_key(body)
        if key is not None:
            async with self.db.transaction() as uow:
                first = await uow.deliveries.first_time(key, self.now())
            if not first:
                log.info("dropped a redelivered Slack payload", extra={"delivery": key})
                return BoltResponse(status=200, body="")
        await next()
        return None

    async def forget_old(self) -> int:
        async with self.db.transaction() as uow:
            return await uow.deliveries.forget_before(self.now() - KEEP)
