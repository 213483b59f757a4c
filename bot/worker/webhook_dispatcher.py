"""The webhook dispatcher: leases webhook deliveries from the outbox, posts them signed,
and records each answer (sent, retry with backoff, dead letter with one admin alert).

It runs beside the Slack dispatcher on the same outbox, leases and states, but in its
own loop: a receiver that times out for ten seconds never holds up a rep's Slack card,
and Slack's rate budget is not a receiver's. At least once: a delivery is marked sent
only after a 2xx, so a crash between the two sends it again with the same
`webhook-id`, which the receiver drops. In order per lead and endpoint: storage hands
out a lead's next delivery only when the one before is finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from bot.metrics import WEBHOOK_DELIVERIES
from bot.services.configuration import ConfigService
from bot.webhook_transport import Answer, deliver
from domain.config import Config
from domain.durations import humanize
from domain.messages import Alert
from domain.webhooks import WebhookEndpoint
from storage.uow import Database, UnitOfWork
from storage.webhook_outbox import WebhookRepository

log = logging.getLogger(__name__)

BATCH = 50
SENDERS = 16  # deliveries in flight at once
POLL_SECONDS = 1.0
LEASE_MARGIN = timedelta(seconds=30)


class WebhookDispatcher:
    def __init__(
        self,
        db: Database,
        configs: ConfigService,
        now: Callable[[], datetime],
        worker_id: str,
        environ: Mapping[str, str] = os.environ,
    ):
        self.db = db
        self.configs = configs
        self.now = now
        self.worker_id = f"{worker_id}:webhooks"
        self.environ = environ
        self._wake = asyncio.Event()
        self._stopping = False
        self._session: aiohttp.ClientSession | None = None

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Drain, then sleep until woken (a commit queued deliveries) or the poll interval
        (another replica's rows, a retry coming due)."""
        async with self.db.transaction() as uow:
            released = await uow.outbox.release_leases(self.worker_id)
        if released:
            log.warning("took back %d webhook deliveries leased before a restart", released)
        try:
            while not self._stopping:
                try:
                    while await self.drain() and not self._stopping:
                        pass
                except Exception:
                    log.exception("webhook pass failed; retrying")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
                self._wake.clear()
        finally:
            await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def drain(self) -> int:
        """One batch: lease, post in parallel, record the answers. Returns how many."""
        now = self.now()
        async with self.db.snapshot() as uow:
            if not await WebhookRepository(uow.connection).any_due(now):
                return 0
            config = await _config(self.configs, uow)
        endpoints = {endpoint.name: endpoint for endpoint in config.webhooks}
        async with self.db.transaction() as uow:
            longest = max((e.timeout for e in endpoints.values()), default=timedelta(seconds=10))
            lease = longest * math.ceil(BATCH / SENDERS) + LEASE_MARGIN
            rows = await WebhookRepository(uow.connection).claim(
                self.worker_id, now, now + lease, BATCH
            )
        if not rows:
            return 0
        gate = asyncio.Semaphore(SENDERS)

        async def post(row: Any) -> Answer:
            endpoint = endpoints.get(row.target)
            if endpoint is None:
                return Answer(False, False, None, f"no endpoint {row.target!r} is configured")
            async with gate:
                return await deliver(
                    self._client(), endpoint, row.payload["id"], row.payload["body"],
                    self.now(), self.environ,
                )  # fmt: skip

        answers = await asyncio.gather(*(post(row) for row in rows))
        await self._record(list(zip(rows, answers, strict=True)), endpoints, config.admins)
        return len(rows)

    async def _record(
        self,
        results: list[tuple[Any, Answer]],
        endpoints: dict[str, WebhookEndpoint],
        admins: list[str],
    ) -> None:
        now = self.now()
        async with self.db.transaction() as uow:
            repository = WebhookRepository(uow.connection)
            await repository.delivered(
                [row for row, answer in results if answer.delivered], self.worker_id, now
            )
            for row, answer in results:
                if answer.delivered:
                    WEBHOOK_DELIVERIES.labels(row.target, "delivered").inc()
                    continue
                endpoint = endpoints.get(row.target)
                wait = (
                    endpoint.retry_in(row.attempts + 1) if endpoint and answer.retryable else None
                )
                if wait is not None:
                    at = now + max(wait, answer.retry_after or timedelta(0))
                    await repository.retry(row.id, self.worker_id, at, answer.detail)
                    WEBHOOK_DELIVERIES.labels(row.target, "retry").inc()
                    continue
                WEBHOOK_DELIVERIES.labels(row.target, "dead").inc()
                log.warning(
                    "webhook %s to %s dead: %s", row.payload["id"], row.target, answer.detail
                )
                if await repository.dead(row.id, row.target, self.worker_id, now, answer.detail):
                    await _alert_admins(uow, admins, row.target, _short(answer), row, now)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session


async def _config(configs: ConfigService, uow: UnitOfWork) -> Config:
    current = await configs.current(uow)
    return current[1] if current else Config()


def _short(answer: Answer) -> str:
    """The alert names the status or the kind of failure, never the receiver's own words
    (they could carry mentions or links into Slack)."""
    if answer.status is not None:
        return f"HTTP {answer.status}"
    return answer.detail.split(":", 1)[0][:60]


async def _alert_admins(
    uow: UnitOfWork, admins: list[str], endpoint: str, why: str, row: Any, now: datetime
) -> None:
    since = row.created_at.isoformat(timespec="seconds").replace("+00:00", "Z")
    text = (
        f"Webhook endpoint {endpoint} is failing ({why}): its deliveries are kept as dead "
        f"letters after {row.attempts + 1} attempts over {humanize(now - row.created_at)}. "
        f"Nothing is lost: once it answers, run `leadrouter webhooks replay --since {since}`."
    )
    alerts = [
        Alert(f"alert:webhook_dead:{endpoint}:{row.id}:{admin}", admin, text) for admin in admins
    ]
    await uow.outbox.queue(alerts, now)
