"""The outbox dispatcher: the only code that posts to Slack on the product's behalf.

Rows are leased (a crashed replica's lease expires and another takes over), sent
outside any transaction, then marked sent with the message `ts`, so later state
changes edit the same message. 429s wait for `Retry-After`; 5xx and network errors
back off with jitter; errors Slack will repeat forever go to the dead state.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.metrics import NOTIFY_LATENCY, SLACK_CALLS
from bot.slack import views
from domain.records import LeadRecord
from storage.group_commit import GroupCommit
from storage.uow import Database

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)
RENEW_BEFORE = timedelta(seconds=20)  # a send (two calls, 10 s timeout each) fits in a lease
BATCH = 50
SENDERS = 16  # channels served at once; each channel's own messages stay in order
POLL_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 300
CLOCK_SKEW = timedelta(minutes=10)  # ours against Slack's, when looking back for a post
MAX_ATTEMPTS = 12  # about half an hour of backoff before a row is declared dead
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "user_not_found",
        "account_inactive",
        "is_archived",
        "invalid_blocks",
        "invalid_auth",
        "not_authed",
        "cannot_dm_bot",
        "user_disabled",
        "missing_scope",
        "msg_too_long",
        "no_text",
    }
)


def _tagged(row: Any) -> dict[str, Any]:
    """Message metadata naming the outbox row, so a resend after a crash can find it."""
    return {"event_type": "leadrouter_message", "event_payload": {"outbox": row.dedup_key}}


class RateBudget:
    """About one post per second per channel, with a small burst: Slack's own limit."""

    def __init__(self, per_second: float = 1.0, burst: int = 3):
        self.per_second = per_second
        self.burst = burst
        self._tokens: dict[str, tuple[float, datetime]] = {}

    def wait_needed(self, channel: str, now: datetime) -> timedelta:
        tokens, stamp = self._tokens.get(channel, (float(self.burst), now))
        tokens = min(self.burst, tokens + (now - stamp).total_seconds() * self.per_second)
        if tokens >= 1:
            self._tokens[channel] = (tokens - 1, now)
            return timedelta(0)
        self._tokens[channel] = (tokens, now)
        return timedelta(seconds=(1 - tokens) / self.per_second)


class PermanentSlackError(Exception):
    pass


class OutboxDispatcher:
    def __init__(
        self,
        db: Database,
        client: AsyncWebClient,
        now: Callable[[], datetime],
        worker_id: str | None = None,
    ):
        self.db = db
        self.client = client
        self.now = now
        # Stable across restarts of the same replica (host:port), so a restarted process
        # takes back at once what it had leased when it died.
        self.worker_id = worker_id or f"outbox-{uuid.uuid4().hex[:12]}"
        self.budget = RateBudget()
        self._wake = asyncio.Event()
        self._dm_channels: dict[str, str] = {}
        self._stopping = False
        self._senders = asyncio.Semaphore(SENDERS)
        self._sent = GroupCommit(self._record_sent)

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Drain, then sleep until woken (new rows) or the poll interval (other replicas)."""
        async with self.db.transaction() as uow:
            released = await uow.outbox.release_leases(self.worker_id)
        if released:
            log.warning("took back %d Slack calls leased before a restart", released)
        while not self._stopping:
            try:
                await self.drain()
            except Exception:
                log.exception("outbox pass failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            self._wake.clear()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def drain(self) -> int:
        """Send everything due now; return how many rows were handled.

        Per batch: what the channel budgets allow now is sent, channels concurrently and
        each channel in order; what they do not allow goes back, in one statement, due
        when the budget will allow it."""
        handled = 0
        while True:
            claimed_at = self.now()
            async with self.db.transaction() as uow:
                rows = await uow.outbox.claim_due(
                    self.worker_id, claimed_at, claimed_at + LEASE, BATCH
                )
            if not rows:
                return handled
            by_target: dict[str, list[Any]] = {}
            deferred: list[dict[str, Any]] = []
            for row in rows:
                wait = self.budget.wait_needed(row.target, claimed_at)
                if wait:
                    deferred.append({"row_id": row.id, "at": claimed_at + wait})
                else:
                    by_target.setdefault(row.target, []).append(row)
            if deferred:
                async with self.db.transaction() as uow:
                    await uow.outbox.defer_many(deferred, self.worker_id)
            leads = await self._leads({row.lead_id for row in rows if row.lead_id})
            await asyncio.gather(
                *(self._deliver_in_order(group, claimed_at, leads) for group in by_target.values())
            )
            handled += len(rows)

    async def _deliver_in_order(
        self, rows: list[Any], claimed_at: datetime, leads: dict[str, LeadRecord]
    ) -> None:
        async with self._senders:
            for row in rows:
                if self.now() > claimed_at + LEASE - RENEW_BEFORE and not await self._renew(row):
                    continue
                await self._deliver(row, leads)

    async def _renew(self, row: Any) -> bool:
        now = self.now()
        async with self.db.transaction() as uow:
            return await uow.outbox.renew_lease(row.id, self.worker_id, now, now + LEASE)

    async def _deliver(self, row: Any, leads: dict[str, LeadRecord]) -> None:
        try:
            posted = await self._send(row, leads)
        except SlackApiError as error:
            await self._failed(row, error)
        except PermanentSlackError as error:
            await self._dead(row, str(error))
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            await self._retry(row, f"network: {type(error).__name__}")
        else:
            await self._sent.submit((row, posted))
            SLACK_CALLS.labels(row.kind, "sent").inc()
            if row.kind == "lead_card":
                NOTIFY_LATENCY.observe((self.now() - row.created_at).total_seconds())

    async def _record_sent(
        self, sent: list[tuple[Any, tuple[str, str] | None]]
    ) -> list[Exception | None]:
        """Mark a group of sends done in one commit, with where each card now lives (so
        later changes edit that message)."""
        async with self.db.transaction() as uow:
            for row, posted in sent:
                if posted is not None:
                    await uow.messages.record(row.lead_id, posted[0], posted[1], "card")
            await uow.outbox.mark_sent_many([row.id for row, _ in sent], self.worker_id, self.now())
        return [None] * len(sent)

    async def _send(self, row: Any, leads: dict[str, LeadRecord]) -> tuple[str, str] | None:
        """Make the Slack call(s); a posted card returns its (channel, ts)."""
        lead = leads.get(row.lead_id) if row.lead_id else None
        if row.lead_id and lead is None:
            raise PermanentSlackError(f"lead {row.lead_id} no longer exists")
        if row.kind == "card_update":  # editing is idempotent: no double to fear
            await self._update_cards(lead)
            return None
        if row.kind == "weekly_digest_chart":
            await self._upload(row)
            return None
        if row.kind == "lead_card":
            message = views.lead_card(lead, self.now())
        elif row.kind == "alert":
            message = views.alert(row.payload.get("text", ""), lead)
        elif row.kind == "weekly_digest":  # rendered when queued: the week's figures as they were
            message = {"text": row.payload["text"], "blocks": row.payload["blocks"]}
        else:
            raise PermanentSlackError(f"unknown outbox kind {row.kind!r}")
        channel = await self._channel_for(row.target)
        if row.maybe_sent:
            earlier = await self._posted_before(row, channel)
            if earlier is not None:
                log.warning("outbox %s reached Slack before a crash; not posting it again", row.id)
                return earlier if row.kind == "lead_card" else None
        response = await self.client.chat_postMessage(
            channel=channel, metadata=_tagged(row), **message
        )
        return (response["channel"], response["ts"]) if row.kind == "lead_card" else None

    async def _upload(self, row: Any) -> None:
        """Share the weekly digest's chart into the target's DM."""
        await self.client.files_upload_v2(
            channel=await self._channel_for(row.target),
            content=base64.b64decode(row.payload["content_base64"]),
            filename=row.payload["filename"],
            title=row.payload.get("title"),
        )

    async def _posted_before(self, row: Any, channel: str) -> tuple[str, str] | None:
        """The message this row already posted, found by the key it carries in Slack."""
        history = await self.client.conversations_history(
            channel=channel,
            oldest=str((row.created_at - CLOCK_SKEW).timestamp()),
            include_all_metadata=True,
            limit=200,
        )
        for message in history.get("messages", []):
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("outbox") == row.dedup_key:
                return channel, message["ts"]
        return None

    async def _leads(self, lead_ids: set[str]) -> dict[str, LeadRecord]:
        """The batch's leads as they are now, with their timelines (cards show history)."""
        async with self.db.snapshot() as uow:
            leads = await uow.leads.get_many(lead_ids)
            timelines = await uow.events.timelines(leads)
        return {
            lead_id: replace(lead, events=timelines.get(lead_id, ()))
            for lead_id, lead in leads.items()
        }

    async def _channel_for(self, target: str) -> str:
        """Users get a DM channel (opened once, then cached); channels are used as is."""
        if target[0] in "CGD":
            return target
        if target not in self._dm_channels:
            opened = await self.client.conversations_open(users=target)
            self._dm_channels[target] = opened["channel"]["id"]
        return self._dm_channels[target]

    async def _update_cards(self, lead: Any) -> None:
        """Edit every posted card of the lead; a card not yet posted will render fresh."""
        async with self.db.snapshot() as uow:
            messages = await uow.messages.for_lead(lead.id)
        for channel, ts in messages:
            await self.client.chat_update(
                channel=channel, ts=ts, **views.lead_card(lead, self.now())
            )

    async def _failed(self, row: Any, error: SlackApiError) -> None:
        response = error.response
        code = response.get("error") if isinstance(response.data, dict) else None
        if response.status_code == 429:
            retry_after = int(
                response.headers.get("Retry-After", response.headers.get("retry-after", 1))
            )
            async with self.db.transaction() as uow:
                await uow.outbox.retry_later(
                    row.id,
                    self.worker_id,
                    self.now() + timedelta(seconds=retry_after),
                    "ratelimited",
                    count=False,
                )
        elif code in PERMANENT_ERRORS or row.attempts + 1 >= MAX_ATTEMPTS:
            await self._dead(row, str(code or response.status_code))
        else:
            await self._retry(row, f"slack {response.status_code} {code or ''}".strip())

    async def _retry(self, row: Any, error: str) -> None:
        SLACK_CALLS.labels(row.kind, "retry").inc()
        delay = min(MAX_BACKOFF_SECONDS, 2 ** min(row.attempts, 9)) * random.uniform(0.5, 1.0)
        log.warning(
            "outbox %s %s for %s failed (%s); retry in %.1fs",
            row.id,
            row.kind,
            row.target,
            error,
            delay,
        )
        async with self.db.transaction() as uow:
            await uow.outbox.retry_later(
                row.id, self.worker_id, self.now() + timedelta(seconds=delay), error
            )

    async def _dead(self, row: Any, error: str) -> None:
        SLACK_CALLS.labels(row.kind, "dead").inc()
        log.error("outbox %s %s for %s failed permanently: %s", row.id, row.kind, row.target, error)
        async with self.db.transaction() as uow:
            await uow.outbox.mark_dead(row.id, self.worker_id, error)
