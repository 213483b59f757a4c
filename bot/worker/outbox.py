"""The outbox dispatcher: every message the product sends on its own goes through here
(rendered by bot.worker.rendering, sent by bot.worker.slack_transport).

Rows are leased (a crashed replica's lease expires and another takes over), sent
outside any transaction, then marked sent with the message `ts`, so later state
changes edit the same message. 429s wait for `Retry-After`; 5xx and network errors
back off with jitter; errors Slack will repeat forever go to the dead state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.metrics import NOTIFY_LATENCY, SLACK_CALLS
from bot.slack.privacy_views import erased_alert
from bot.worker.budget import RateBudget, WorkspaceBudget
from bot.worker.delivery_errors import (
    HOLD,
    PERMANENT_ERRORS,
    WORKSPACE_ERRORS,
    LeadGone,
    OverBudget,
    PermanentSlackError,
)
from bot.worker.rendering import DELIVERIES, RENDERERS, TRACKED, Delivery, RenderContext, card
from bot.worker.slack_transport import SlackTransport
from domain.messages import AlertDigest, DigestPart, Kind, QueuedMessage, merged_card_updates
from domain.records import LeadRecord
from storage.group_commit import GroupCommit
from storage.outbox_digests import DigestPolicy, held_for_digest
from storage.outbox_senders import Shard
from storage.uow import Database

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)
RENEW_BEFORE = timedelta(seconds=20)  # a send (two calls, 10 s timeout each) fits in a lease
BATCH = 50
SENDERS = 16  # channels served at once; each channel's own messages stay in order
POLL_SECONDS = 1.0
HEARTBEAT = timedelta(seconds=10)
SENDER_TIMEOUT = timedelta(seconds=30)  # three heartbeats missed: gone
MAX_BACKOFF_SECONDS = 300
MAX_BUDGET_WAIT = timedelta(seconds=5)  # a sender sleeps at most this long for the budget
RECORD_RETRIES = (0.2, 0.5, 1.0, 2.0, 4.0)  # seconds; all well inside a lease
MAX_ATTEMPTS = 12  # about half an hour of backoff before a row is declared dead
DIGEST = DigestPolicy(threshold=10, quiet=timedelta(seconds=2), max_hold=timedelta(seconds=30))
"""Ten cards waiting for one channel or rep at once (a CSV import, a batch, a burst the
channel's 1 post/s cannot carry) become one digest post instead."""
ALERT_WINDOW = timedelta(minutes=1)
ALERTS = DigestPolicy(
    threshold=2,
    quiet=timedelta(seconds=2),
    max_hold=ALERT_WINDOW,
    item=Kind.ALERT,
    digest=AlertDigest,
    spacing=ALERT_WINDOW,
)
"""Alerts a stranger's form can cause (nobody could take the lead, no rule matched, a
manager's SLA notices for a flood of leads breaching together): the first to a manager
or admin goes at once, the rest within a minute of it become one summary at the end of
the minute, so a full team cannot page its manager per lead. A minute, not more: an SLA
summary must still reach the manager while the leads can be saved, and the queue is
never held long."""
FOLDS = (DIGEST, ALERTS)


Posted = tuple[str, str] | None
"""Where a post lives (channel, ts), to be remembered; None for edits and uploads."""

GiveUp = Callable[[QueuedMessage, str, str], Awaitable[None]]
"""Dead-letters a row leased by a worker with an error (bot.services.dead_letters)."""


class OutboxDispatcher:
    def __init__(
        self,
        db: Database,
        client: AsyncWebClient,
        now: Callable[[], datetime],
        worker_id: str | None = None,
        workspace_rate_scale: float = 1.0,
    ):
        self.db = db
        self.now = now
        # Stable across restarts of the same replica (host:port), so a restarted process
        # takes back at once what it had leased when it died.
        self.worker_id = worker_id or f"outbox-{uuid.uuid4().hex[:12]}"
        self.budget = RateBudget()
        self.workspace = WorkspaceBudget(workspace_rate_scale)
        self.shard = Shard(0, 1)
        """This replica's place among the live senders to Slack, from the heartbeat."""
        self._next_heartbeat = datetime.min.replace(tzinfo=UTC)
        self.give_up: GiveUp | None = None
        """Set by the composition root; without it a dead row is only marked dead."""
        self.cards_changed: Callable[[str | None, str | None], None] | None = None
        """Told the owners of a lead whose card was posted or edited (their Home tab
        shows the lead too); set by the composition root."""
        self._wake = asyncio.Event()
        self.slack = SlackTransport(client, self._spend)
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
                await self._heartbeat()
                await self.drain()
            except Exception:
                log.exception("outbox pass failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            self._wake.clear()
        await self._leave()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def _heartbeat(self) -> None:
        """Slack's limits are the workspace's, not a process's. With N live senders each
        serves 1/N of the targets (channels, DMs) with their whole per-channel budget, so a
        channel's burst is not split between replicas, and keeps to 1/N of the
        workspace-wide method limits, so N replicas together stay within them."""
        now = self.now()
        if now < self._next_heartbeat:
            return
        async with self.db.transaction() as uow:
            shard = await uow.senders.heartbeat(self.worker_id, now, now - SENDER_TIMEOUT)
        self._next_heartbeat = now + HEARTBEAT
        if shard != self.shard:
            log.info(
                "%d replicas send to Slack: this one serves 1/%d of the channels and keeps "
                "to 1/%d of the workspace's limits",
                shard.count,
                shard.count,
                shard.count,
            )
            self.shard = shard
            self.workspace.share(1 / shard.count)

    async def _leave(self) -> None:
        try:
            async with self.db.transaction() as uow:
                await uow.senders.leave(self.worker_id)
        except Exception:
            log.exception(
                "could not sign off as a Slack sender; the others wait for it to time out"
            )

    async def drain(self) -> int:
        """Send everything due now; return how many rows were handled.

        Per batch: what the channel budgets allow now is sent, channels concurrently and
        each channel in order; what they do not allow goes back, in one statement, due
        when the budget will allow it."""
        handled = 0
        while not self._stopping:
            await self._fold_bursts()
            claimed_at = self.now()
            async with self.db.transaction() as uow:
                rows = await uow.outbox.claim_due(
                    self.worker_id,
                    claimed_at,
                    claimed_at + LEASE,
                    BATCH,
                    held_for_digest(claimed_at, *FOLDS),
                    self.shard,
                )
            if not rows:
                return handled
            rows = await self._merge_card_updates(rows)
            by_target: dict[str, list[QueuedMessage]] = {}
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
        return handled  # stopping: what is left stays queued for the next start

    async def _merge_card_updates(self, rows: list[QueuedMessage]) -> list[QueuedMessage]:
        """Edits of one lead's cards claimed together are sent once (the last draws the
        lead as it is by then); the others are done with it."""
        merged = merged_card_updates(rows)
        if not merged:
            return rows
        async with self.db.transaction() as uow:
            await uow.outbox.mark_sent_many(sorted(merged), self.worker_id, self.now())
        SLACK_CALLS.labels(Kind.CARD_UPDATE, "merged").inc(len(merged))
        return [row for row in rows if row.id not in merged]

    async def _fold_bursts(self) -> None:
        """Fold bursts of cards and of alerts into digests (a read first: most passes
        have none)."""
        for policy in FOLDS:
            async with self.db.snapshot() as uow:
                if not await uow.digests.bursts(self.now(), policy):
                    continue
            async with self.db.transaction() as uow:
                folded = await uow.digests.fold(self.now(), policy)
            if folded:
                SLACK_CALLS.labels(policy.item, "digested").inc(folded)
                log.info("folded %d %s rows into digests", folded, policy.item)

    async def _deliver_in_order(
        self, rows: list[QueuedMessage], claimed_at: datetime, leads: dict[str, LeadRecord]
    ) -> None:
        async with self._senders:
            for row in rows:
                if self.now() > claimed_at + LEASE - RENEW_BEFORE and not await self._renew(row):
                    continue
                await self._deliver(row, leads)

    async def _renew(self, row: QueuedMessage) -> bool:
        now = self.now()
        async with self.db.transaction() as uow:
            return await uow.outbox.renew_lease(row.id, self.worker_id, now, now + LEASE)

    async def _deliver(self, row: QueuedMessage, leads: dict[str, LeadRecord]) -> None:
        try:
            posted = await self._send(row, leads)
        except SlackApiError as error:
            await self._failed(row, error)
        except OverBudget as error:
            async with self.db.transaction() as uow:
                await uow.outbox.retry_later(
                    row.id, self.worker_id, self.now() + error.wait, str(error), count=False
                )
        except LeadGone as error:
            await self._dead(row, str(error), alert=False)
        except PermanentSlackError as error:
            await self._dead(row, str(error))
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            # Any lost answer (a timeout, a reset, a dropped connection) may be a post that
            # reached Slack: "maybe sent", looked up before posting again.
            await self._retry(row, f"network: {type(error).__name__}", maybe_sent=True)
        else:
            await self._remember_sent(row, posted)
            SLACK_CALLS.labels(row.kind, "sent").inc()
            lead = leads.get(row.lead_id) if row.lead_id else None
            if lead and self.cards_changed and row.kind in (Kind.LEAD_CARD, Kind.CARD_UPDATE):
                latest = (lead.events[-1].data if lead.events else None) or {}
                self.cards_changed(lead.owner, latest.get("from"))  # and whoever had it
            if row.kind == Kind.LEAD_CARD:
                NOTIFY_LATENCY.observe((self.now() - row.created_at).total_seconds())

    async def _remember_sent(self, row: QueuedMessage, posted: Posted) -> None:
        """Slack has the message: retry our record of it through a database blip, since
        until it commits a crash would leave the row to the slower history look-up."""
        for pause in RECORD_RETRIES:
            try:
                await self._sent.submit((row, posted))
                return
            except Exception:
                log.warning("recording outbox %s as sent failed; retrying", row.id, exc_info=True)
                await asyncio.sleep(pause)
        await self._sent.submit((row, posted))  # the last failure propagates: lease expires

    async def _record_sent(
        self, sent: list[tuple[QueuedMessage, Posted]]
    ) -> list[Exception | None]:
        """Mark a group of sends done in one commit, with where each card now lives (so
        later changes edit that message) and where each other post about a lead lives (so
        erasing the lead redraws it)."""
        async with self.db.transaction() as uow:
            for row, posted in sent:
                if posted is not None and row.kind in TRACKED:
                    await uow.messages.record(row.lead_id, posted[0], posted[1], "card")
            await uow.outbox.remember_posts(
                [
                    (row.id, *posted)
                    for row, posted in sent
                    if posted is not None and row.lead_id and row.kind not in TRACKED
                ]
            )
            await uow.outbox.mark_sent_many([row.id for row, _ in sent], self.worker_id, self.now())
        return [None] * len(sent)

    async def _send(self, row: QueuedMessage, leads: dict[str, LeadRecord]) -> Posted:
        """Make the Slack call(s) the row's kind needs; a post returns where it lives
        (channel, ts)."""
        lead = leads.get(row.lead_id) if row.lead_id else None
        if row.lead_id and lead is None:
            raise LeadGone(f"lead {row.lead_id} no longer exists")
        delivery = DELIVERIES.get(row.kind)
        if delivery is None:
            raise PermanentSlackError(f"unknown outbox kind {row.kind!r}")
        if delivery is Delivery.EDIT_CARDS:  # editing is idempotent: no double to fear
            assert lead is not None, "a card update's row names its lead"
            await self._edit_cards(lead)
            return None
        if delivery is Delivery.UPLOAD:
            await self.slack.upload(row)
            return None
        message = await RENDERERS[row.kind](row, lead, RenderContext(self.now(), self._parts))
        if message is None:
            return None
        if row.maybe_sent:
            earlier = await self.slack.posted_before(row)
            if earlier is not None:
                log.warning("outbox %s reached Slack before a crash; not posting it again", row.id)
                return earlier
        return await self.slack.post(row, message)

    async def _parts(self, digest_id: int) -> list[DigestPart]:
        async with self.db.snapshot() as uow:
            return list(await uow.digests.parts(digest_id))

    async def _leads(self, lead_ids: set[str]) -> dict[str, LeadRecord]:
        """The batch's leads as they are now, with their timelines (cards show history)."""
        async with self.db.snapshot() as uow:
            leads = await uow.leads.get_many(lead_ids)
            timelines = await uow.events.timelines(leads)
        return {
            lead_id: replace(lead, events=timelines.get(lead_id, ()))
            for lead_id, lead in leads.items()
        }

    async def _edit_cards(self, lead: LeadRecord) -> None:
        """Edit every posted card of the lead; a card not yet posted will render fresh.
        An erased lead's alerts (reminders, escalations, manager DMs) are redrawn too."""
        async with self.db.snapshot() as uow:
            messages = await uow.messages.for_lead(lead.id)
            alerts = await uow.outbox.posts_about(lead.id) if lead.erased_at else []
        for channel, ts in messages:
            await self.slack.edit(channel, ts, card(lead, self.now()))
        for channel, ts in alerts:
            await self.slack.edit(channel, ts, erased_alert(lead.id))

    async def _spend(self, method: str) -> None:
        """Wait for the workspace budget of `method` (shared by every sender)."""
        wait = self.workspace.reserve(method, self.now(), MAX_BUDGET_WAIT)
        if wait > MAX_BUDGET_WAIT:
            raise OverBudget(wait)
        if wait:
            await asyncio.sleep(wait.total_seconds())

    async def _failed(self, row: QueuedMessage, error: SlackApiError) -> None:
        response = error.response
        code = response.get("error") if isinstance(response.data, dict) else None
        if response.status_code == 429:
            retry_after = int(
                response.headers.get("Retry-After", response.headers.get("retry-after", 1))
            )
            method = str(response.api_url).rsplit("/", 1)[-1]
            if method == "chat.postMessage":  # posting is limited per channel
                self.budget.pause(row.target, self.now(), retry_after)
            else:
                self.workspace.pause(method, self.now(), retry_after)
            async with self.db.transaction() as uow:
                await uow.outbox.retry_later(
                    row.id,
                    self.worker_id,
                    self.now() + timedelta(seconds=retry_after),
                    "ratelimited",
                    count=False,
                )
        elif code in WORKSPACE_ERRORS:
            SLACK_CALLS.labels(row.kind, "held").inc()
            log.error("Slack refused our token (%s): outbox held until it is fixed", code)
            async with self.db.transaction() as uow:
                await uow.outbox.retry_later(
                    row.id, self.worker_id, self.now() + HOLD, str(code), count=False
                )
        elif code in PERMANENT_ERRORS or row.attempts + 1 >= MAX_ATTEMPTS:
            await self._dead(row, str(code or response.status_code))
        else:
            # Slack's 5xx: "it's possible some aspect of the operation succeeded"
            # (internal_error, docs.slack.dev): a post may have landed, look first.
            await self._retry(
                row,
                f"slack {response.status_code} {code or ''}".strip(),
                maybe_sent=response.status_code >= 500,
            )

    async def _retry(self, row: QueuedMessage, error: str, *, maybe_sent: bool = False) -> None:
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
                row.id,
                self.worker_id,
                self.now() + timedelta(seconds=delay),
                error,
                maybe_sent=maybe_sent,
            )

    async def _dead(self, row: QueuedMessage, error: str, *, alert: bool = True) -> None:
        SLACK_CALLS.labels(row.kind, "dead").inc()
        log.error("outbox %s %s for %s failed permanently: %s", row.id, row.kind, row.target, error)
        if alert and self.give_up is not None:
            await self.give_up(row, self.worker_id, error)
            return
        async with self.db.transaction() as uow:
            await uow.outbox.mark_dead(row.id, self.worker_id, error)
