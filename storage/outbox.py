"""The outbox: queued messages (domain.messages), leased, retried, sent or dead."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    func,
    not_,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.engine import Row

from domain.messages import Kind, OutboxMessage
from storage import tables as t
from storage.outbox_senders import Shard
from storage.repository import Repository

STRAY_AFTER = timedelta(seconds=5)
"""How long past due a row waits for its own sender before any sender takes it."""


class OutboxRepository(Repository):
    async def queue(self, messages: Iterable[OutboxMessage], now: datetime) -> None:
        """Queue typed messages; a dedup key already queued is queued once."""
        await self.add_many([message.row() for message in messages], now)

    async def add(
        self,
        *,
        dedup_key: str,
        kind: str,
        target: str,
        now: datetime,
        lead_id: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        """Queue one raw row (`queue` takes typed messages); a dedup_key twice is queued once."""
        row = {"dedup_key": dedup_key, "kind": kind, "target": target, "lead_id": lead_id}
        await self.add_many([{**row, "payload": payload or {}}], now)

    async def add_many(self, messages: list[dict[str, Any]], now: datetime) -> None:
        """Bulk `add`: rows of `dedup_key, kind, target, lead_id, payload[, announcement]`."""
        if not messages:
            return
        rows = [
            {
                "announcement": False,
                **message,
                "created_at": now,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now,
            }
            for message in messages
        ]
        statement = self._upsert(t.outbox).on_conflict_do_nothing(
            index_elements=[t.outbox.c.dedup_key]
        )
        await self.connection.execute(statement, rows)

    async def claim_due(
        self,
        owner: str,
        now: datetime,
        lease_until: datetime,
        limit: int,
        hold: ColumnElement[bool] | None = None,
        shard: Shard | None = None,
    ) -> list[Row[Any]]:
        """Lease up to `limit` due rows to `owner`; a crashed owner's lease simply expires.
        Rows matching `hold` are left where they are (cards a digest will take). With
        `shard`, only the targets of that shard, and any row left `STRAY_AFTER` past due
        (its sender died, or the senders' views differ for a moment)."""
        due = and_(
            t.outbox.c.state == "pending",
            t.outbox.c.kind != Kind.WEBHOOK,  # delivered by bot.worker.webhook_dispatcher
            t.outbox.c.next_attempt_at <= now,
            or_(t.outbox.c.lease_until.is_(None), t.outbox.c.lease_until < now),
            *([not_(hold)] if hold is not None else []),
            *([self._of_shard(shard, now)] if shard is not None and shard.count > 1 else []),
        )
        query = select(t.outbox.c.id).where(due).order_by(t.outbox.c.id).limit(limit)
        if self.is_postgres:
            query = query.with_for_update(skip_locked=True)
        ids = list((await self.connection.execute(query)).scalars())
        if not ids:
            return []
        interrupted = t.outbox.c.lease_until.is_not(None)  # an earlier holder never finished
        await self.connection.execute(
            update(t.outbox)
            .where(t.outbox.c.id.in_(ids), due)
            .values(
                lease_owner=owner,
                lease_until=lease_until,
                maybe_sent=or_(t.outbox.c.maybe_sent, interrupted),
            )
        )
        rows = await self.connection.execute(
            select(t.outbox)
            .where(t.outbox.c.id.in_(ids), t.outbox.c.lease_owner == owner)
            .order_by(t.outbox.c.id)
        )
        return list(rows.all())

    def _of_shard(self, shard: Shard, now: datetime) -> ColumnElement[bool]:
        """One sender per target, so a channel's one post a second is not split between
        replicas. Replicas share one PostgreSQL, whose `hashtext` every one computes
        alike (SQLite has one process, and no shard)."""
        if not self.is_postgres:
            return true()
        bucket = (func.hashtext(t.outbox.c.target) % shard.count + shard.count) % shard.count
        return or_(bucket == shard.rank, t.outbox.c.next_attempt_at < now - STRAY_AFTER)

    async def renew_lease(self, row_id: int, owner: str, now: datetime, until: datetime) -> bool:
        """Extend our lease before a send; False if it lapsed and may be someone else's."""
        result = await self.connection.execute(
            update(t.outbox)
            .where(
                t.outbox.c.id == row_id,
                t.outbox.c.lease_owner == owner,
                t.outbox.c.state == "pending",
                t.outbox.c.lease_until > now,
            )
            .values(lease_until=until)
        )
        return result.rowcount == 1

    async def defer_many(self, deferred: list[dict[str, Any]], owner: str) -> None:
        """Give back leased rows (`row_id`, `at`) to be due again at `at`, without counting
        an attempt: the rate budget held them, not a failure."""
        if not deferred:
            return
        await self.connection.execute(
            update(t.outbox)
            .where(t.outbox.c.id == bindparam("row_id"), t.outbox.c.lease_owner == owner)
            .values(next_attempt_at=bindparam("at"), lease_owner=None, lease_until=None),
            deferred,
        )

    async def release_leases(self, owner: str) -> int:
        """At start-up: rows our previous incarnation leased before it died are due now."""
        result = await self.connection.execute(
            update(t.outbox)
            .where(t.outbox.c.lease_owner == owner, t.outbox.c.state == "pending")
            .values(lease_owner=None, lease_until=None, maybe_sent=True)
        )
        return result.rowcount

    async def mark_sent_many(self, row_ids: list[int], owner: str, now: datetime) -> None:
        if not row_ids:
            return
        await self.connection.execute(
            update(t.outbox)
            .where(t.outbox.c.id == bindparam("row_id"), t.outbox.c.lease_owner == owner)
            .values(
                state="sent",
                sent_at=now,
                lease_owner=None,
                lease_until=None,
                attempts=t.outbox.c.attempts + 1,
            ),
            [{"row_id": row_id} for row_id in row_ids],
        )

    async def remember_posts(self, posts: list[tuple[int, str, str]]) -> None:
        """Where sent rows (row id, channel, ts) now live in Slack: an alert about a lead
        is redrawn there if the lead is erased."""
        if not posts:
            return
        await self.connection.execute(
            update(t.outbox)
            .where(t.outbox.c.id == bindparam("row_id"))
            .values(posted_channel=bindparam("channel"), posted_ts=bindparam("ts")),
            [{"row_id": row_id, "channel": channel, "ts": ts} for row_id, channel, ts in posts],
        )

    async def posts_about(self, lead_id: str) -> list[tuple[str, str]]:
        """Every message (channel, ts) a sent row about this lead left in Slack, other
        than its cards (lead_messages has those)."""
        rows = await self.connection.execute(
            select(t.outbox.c.posted_channel, t.outbox.c.posted_ts).where(
                t.outbox.c.lead_id == lead_id, t.outbox.c.posted_ts.is_not(None)
            )
        )
        return [(channel, ts) for channel, ts in rows.all()]

    async def mark_sent(self, row_id: int, owner: str, now: datetime) -> None:
        await self.mark_sent_many([row_id], owner, now)

    async def retry_later(
        self,
        row_id: int,
        owner: str,
        at: datetime,
        error: str,
        *,
        count: bool = True,
        maybe_sent: bool = False,
    ) -> None:
        """Due again at `at`. `maybe_sent`: the call may have reached Slack (a timeout),
        so the next attempt looks for it before posting."""
        attempts = t.outbox.c.attempts + (1 if count else 0)
        flagged = {"maybe_sent": True} if maybe_sent else {}
        await self.connection.execute(
            update(t.outbox)
            .where(t.outbox.c.id == row_id, t.outbox.c.lease_owner == owner)
            .values(
                next_attempt_at=at,
                error=error,
                lease_owner=None,
                lease_until=None,
                attempts=attempts,
                **flagged,
            )
        )

    async def mark_dead(self, row_id: int, owner: str, error: str) -> bool:
        """Give up on a row; False if `owner` no longer held it (someone else decides)."""
        result = await self.connection.execute(
            update(t.outbox)
            .where(t.outbox.c.id == row_id, t.outbox.c.lease_owner == owner)
            .values(
                state="dead",
                error=error,
                lease_owner=None,
                lease_until=None,
                attempts=t.outbox.c.attempts + 1,
            )
        )
        return result.rowcount == 1

    async def next_due_at(self) -> datetime | None:
        return await self.connection.scalar(
            select(func.min(t.outbox.c.next_attempt_at)).where(t.outbox.c.state == "pending")
        )

    async def oldest_pending_at(self) -> datetime | None:
        """When the longest-waiting pending call was queued: the outbox's lag."""
        return await self.connection.scalar(
            select(func.min(t.outbox.c.created_at)).where(t.outbox.c.state == "pending")
        )

    async def depth(self) -> int:
        return int(
            await self.connection.scalar(select(func.count()).where(t.outbox.c.state == "pending"))
            or 0
        )
