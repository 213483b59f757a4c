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
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.metrics import NOTIFY_LATENCY, SLACK_CALLS
from bot.slack import digest_views, views
from bot.slack.privacy_views import erased_card
from domain.messages import Kind
from domain.records import LeadRecord
from storage.group_commit import GroupCommit
from storage.outbox_digests import DigestPolicy, held_for_digest
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
CLOCK_SKEW = timedelta(minutes=10)  # ours against Slack's, when looking back for a post
MAX_BUDGET_WAIT = timedelta(seconds=5)  # a sender sleeps at most this long for the budget
RECORD_RETRIES = (0.2, 0.5, 1.0, 2.0, 4.0)  # seconds; all well inside a lease
MAX_ATTEMPTS = 12  # about half an hour of backoff before a row is declared dead
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "user_disabled",
        "cannot_dm_bot",
        "invalid_blocks",
        "msg_too_long",
        "no_text",
    }
)
"""Errors about this message or its target: retrying repeats them forever, so the row is
dead-lettered (and its lead escalated, bot.services.dead_letters)."""
WORKSPACE_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",  # with a bot token: the token's user or workspace is gone
        "token_revoked",
        "token_expired",
        "missing_scope",
        "team_access_not_granted",
    }
)
"""Errors about our credentials, not the message: every row would fail alike, and nothing
could alert anyone through Slack. Rows are held (not dead) until an operator fixes the
token, then go out; the log says so loudly every time."""
HOLD = timedelta(minutes=1)
TIERS: dict[str, tuple[float, int]] = {
    "chat.postMessage": (5.0, 30),  # beside the per-channel limit; "several hundred a minute"
    "chat.update": (50 / 60, 50),  # tier 3: 50+ a minute, bursts allowed
    "conversations.history": (50 / 60, 50),  # tier 3
    "conversations.open": (50 / 60, 50),  # tier 3
}
"""Slack's workspace-wide budget per Web API method: (calls per second, burst)."""
DIGEST = DigestPolicy(threshold=10, quiet=timedelta(seconds=2), max_hold=timedelta(seconds=30))
"""Ten cards waiting for one channel or rep at once (a CSV import, a batch, a burst the
channel's 1 post/s cannot carry) become one digest post instead."""


def _tagged(row: Any) -> dict[str, Any]:
    """Message metadata naming the outbox row, so a resend after a crash can find it."""
    return {"event_type": "leadrouter_message", "event_payload": {"outbox": row.dedup_key}}


class RateBudget:
    """A token bucket per key. Per channel: about one post a second with a small burst,
    Slack's own limit."""

    def __init__(self, per_second: float = 1.0, burst: int = 3):
        self._limit = (per_second, burst)
        self.per_second = per_second
        self.burst = burst
        self._tokens: dict[str, tuple[float, datetime]] = {}

    def share(self, fraction: float) -> None:
        """Keep to `fraction` of the limit: the rest belongs to the other replicas. A
        burst of at least one, or nothing could ever be sent."""
        per_second, burst = self._limit
        self.per_second = per_second * fraction
        self.burst = max(1, round(burst * fraction))

    def _refilled(self, key: str, now: datetime) -> float:
        tokens, stamp = self._tokens.get(key, (float(self.burst), now))
        return min(self.burst, tokens + (now - stamp).total_seconds() * self.per_second)

    def wait_needed(self, key: str, now: datetime) -> timedelta:
        """Zero (and one token spent) if a call may go now, else how long until it may."""
        tokens = self._refilled(key, now)
        if tokens >= 1:
            self._tokens[key] = (tokens - 1, now)
            return timedelta(0)
        self._tokens[key] = (tokens, now)
        return timedelta(seconds=(1 - tokens) / self.per_second)

    def reserve(self, key: str, now: datetime, longest: timedelta) -> timedelta:
        """Spend a token even if the bucket is short (going into debt) and say how long to
        wait before using it: callers queue up in order instead of all retrying at once.
        A wait over `longest` is only reported, and nothing is spent."""
        tokens = self._refilled(key, now)
        wait = timedelta(seconds=max(0.0, (1 - tokens) / self.per_second))
        self._tokens[key] = (tokens if wait > longest else tokens - 1, now)
        return wait

    def pause(self, key: str, now: datetime, seconds: float) -> None:
        """Slack said 429 with `Retry-After: seconds`: nothing for `key` goes before then
        (a debt of tokens, so the bucket refills from there at its normal pace)."""
        debt = 1 - seconds * self.per_second
        self._tokens[key] = (min(self._refilled(key, now), debt), now)


class WorkspaceBudget:
    """Slack's workspace-wide limit per method (its rate-limit tiers), shared by every
    sender of this process: a burst is allowed, then the tier's pace. `scale` adapts the
    tiers to a workspace Slack granted more (or a test's fake)."""

    def __init__(self, scale: float = 1.0, tiers: dict[str, tuple[float, int]] = TIERS):
        self._budgets = {
            method: RateBudget(rate * scale, max(1, round(burst * scale)))
            for method, (rate, burst) in tiers.items()
        }

    def share(self, fraction: float) -> None:
        for budget in self._budgets.values():
            budget.share(fraction)

    def reserve(self, method: str, now: datetime, longest: timedelta) -> timedelta:
        """How long to wait before calling `method`; up to `longest`, the call's token is
        already spent, beyond it nothing is (the caller comes back later)."""
        budget = self._budgets.get(method)
        return budget.reserve(method, now, longest) if budget else timedelta(0)

    def pause(self, method: str, now: datetime, seconds: float) -> None:
        budget = self._budgets.get(method)
        if budget is not None:
            budget.pause(method, now, seconds)


class PermanentSlackError(Exception):
    """The row can never be sent: dead-letter it."""


class OverBudget(Exception):
    """The workspace budget would hold this send too long to keep its lease safely: the
    row goes back, due when the budget allows, instead of sleeping past its lease."""

    def __init__(self, wait: timedelta):
        super().__init__(f"workspace budget: {wait.total_seconds():.1f}s")
        self.wait = wait


class LeadGone(PermanentSlackError):
    """The lead was erased since the row was queued: nobody to tell, nothing to alert."""


GiveUp = Callable[[Any, str, str], Awaitable[None]]
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
        self.client = client
        self.now = now
        # Stable across restarts of the same replica (host:port), so a restarted process
        # takes back at once what it had leased when it died.
        self.worker_id = worker_id or f"outbox-{uuid.uuid4().hex[:12]}"
        self.budget = RateBudget()
        self.workspace = WorkspaceBudget(workspace_rate_scale)
        self.senders = 1
        """Live replicas sending to Slack (this one included), from the heartbeat."""
        self._next_heartbeat = datetime.min.replace(tzinfo=UTC)
        self.give_up: GiveUp | None = None
        """Set by the composition root; without it a dead row is only marked dead."""
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
        """Slack's limits are the workspace's, not a process's: with N live senders each
        keeps to 1/N of every budget, so N replicas together stay within them."""
        now = self.now()
        if now < self._next_heartbeat:
            return
        async with self.db.transaction() as uow:
            senders = await uow.senders.heartbeat(self.worker_id, now, now - SENDER_TIMEOUT)
        self._next_heartbeat = now + HEARTBEAT
        if senders != self.senders:
            log.info(
                "%d replicas send to Slack: this one keeps to 1/%d of its limits", senders, senders
            )
            self.senders = senders
            self.budget.share(1 / senders)
            self.workspace.share(1 / senders)

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
                    held_for_digest(claimed_at, DIGEST),
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
        return handled  # stopping: what is left stays queued for the next start

    async def _fold_bursts(self) -> None:
        """Fold bursts of cards into digests (a read first: most passes have none)."""
        async with self.db.snapshot() as uow:
            if not await uow.digests.bursts(self.now(), DIGEST):
                return
        async with self.db.transaction() as uow:
            folded = await uow.digests.fold(self.now(), DIGEST)
        if folded:
            SLACK_CALLS.labels(Kind.LEAD_CARD, "digested").inc(folded)
            log.info("folded %d lead cards into digests", folded)

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
            # A timed-out post may still have reached Slack: look before posting again.
            await self._retry(row, f"network: {type(error).__name__}", maybe_sent=True)
        else:
            await self._remember_sent(row, posted)
            SLACK_CALLS.labels(row.kind, "sent").inc()
            if row.kind == Kind.LEAD_CARD:
                NOTIFY_LATENCY.observe((self.now() - row.created_at).total_seconds())

    async def _remember_sent(self, row: Any, posted: tuple[str, str] | None) -> None:
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
            raise LeadGone(f"lead {row.lead_id} no longer exists")
        if row.kind == Kind.CARD_UPDATE:  # editing is idempotent: no double to fear
            await self._update_cards(lead)
            return None
        if row.kind == Kind.WEEKLY_DIGEST_CHART:
            await self._upload(row)
            return None
        if row.kind == Kind.LEAD_CARD:
            message = self._card(lead)
        elif row.kind == Kind.DIGEST:
            async with self.db.snapshot() as uow:
                parts = list(await uow.digests.parts(row.id))
            if not parts:  # another replica folded the same burst into its own digest
                return None
            message = digest_views.digest(parts, to_channel=row.target[0] in "CG")
        elif row.kind in (Kind.ALERT, Kind.DEAD_LETTER_ALERT):
            message = views.alert(row.payload.get("text", ""), lead)
        elif row.kind == Kind.WEEKLY_DIGEST:  # rendered when queued: that week's figures
            message = {"text": row.payload["text"], "blocks": row.payload["blocks"]}
        else:
            raise PermanentSlackError(f"unknown outbox kind {row.kind!r}")
        channel = await self._channel_for(row.target)
        if row.maybe_sent:
            earlier = await self._posted_before(row, channel)
            if earlier is not None:
                log.warning("outbox %s reached Slack before a crash; not posting it again", row.id)
                return earlier if row.kind == Kind.LEAD_CARD else None
        await self._spend("chat.postMessage")
        response = await self.client.chat_postMessage(
            channel=channel, metadata=_tagged(row), **message
        )
        return (response["channel"], response["ts"]) if row.kind == Kind.LEAD_CARD else None

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
        await self._spend("conversations.history")
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
            await self._spend("conversations.open")
            opened = await self.client.conversations_open(users=target)
            self._dm_channels[target] = opened["channel"]["id"]
        return self._dm_channels[target]

    async def _update_cards(self, lead: Any) -> None:
        """Edit every posted card of the lead; a card not yet posted will render fresh."""
        async with self.db.snapshot() as uow:
            messages = await uow.messages.for_lead(lead.id)
        for channel, ts in messages:
            await self._spend("chat.update")
            await self.client.chat_update(channel=channel, ts=ts, **self._card(lead))

    def _card(self, lead: LeadRecord) -> dict[str, Any]:
        if lead.erased_at is not None:
            return erased_card(lead.id, lead.erased_at)
        return views.lead_card(lead, self.now())

    async def _spend(self, method: str) -> None:
        """Wait for the workspace budget of `method` (shared by every sender)."""
        wait = self.workspace.reserve(method, self.now(), MAX_BUDGET_WAIT)
        if wait > MAX_BUDGET_WAIT:
            raise OverBudget(wait)
        if wait:
            await asyncio.sleep(wait.total_seconds())

    async def _failed(self, row: Any, error: SlackApiError) -> None:
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
            await self._retry(row, f"slack {response.status_code} {code or ''}".strip())

    async def _retry(self, row: Any, error: str, *, maybe_sent: bool = False) -> None:
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

    async def _dead(self, row: Any, error: str, *, alert: bool = True) -> None:
        SLACK_CALLS.labels(row.kind, "dead").inc()
        log.error("outbox %s %s for %s failed permanently: %s", row.id, row.kind, row.target, error)
        if alert and self.give_up is not None:
            await self.give_up(row, self.worker_id, error)
            return
        async with self.db.transaction() as uow:
            await uow.outbox.mark_dead(row.id, self.worker_id, error)
