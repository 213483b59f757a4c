"""Replicas sending to Slack right now: each serves its own share of the targets
(channels, DMs) with their whole per-channel budget, and spends its share of the
workspace-wide limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from storage import tables as t
from storage.repository import Repository


@dataclass(frozen=True)
class Shard:
    """This sender's place among the live ones: it serves the targets whose hash is
    `rank` modulo `count` (storage.outbox.claim_due)."""

    rank: int
    count: int


class SenderRepository(Repository):
    """The outbox dispatchers alive now (a heartbeat each), to share Slack's limits."""

    async def heartbeat(self, worker: str, now: datetime, alive_after: datetime) -> Shard:
        """Record `worker` as alive and place it among the senders seen since
        `alive_after` (by name, so every sender agrees); senders silent for a day are
        forgotten."""
        statement = self._upsert(t.outbox_senders).values(worker=worker, seen_at=now)
        await self.connection.execute(
            statement.on_conflict_do_update(index_elements=["worker"], set_={"seen_at": now})
        )
        senders = t.outbox_senders
        await self.connection.execute(
            delete(senders).where(senders.c.seen_at < alive_after - timedelta(days=1))
        )
        alive = list(
            (
                await self.connection.execute(
                    select(senders.c.worker)
                    .where(senders.c.seen_at >= alive_after)
                    .order_by(senders.c.worker)
                )
            ).scalars()
        )
        if worker not in alive:  # its own row is older than the window: a skewed clock
            return Shard(0, 1)
        return Shard(alive.index(worker), len(alive))

    async def leave(self, worker: str) -> None:
        """A clean stop: the others take its share at their next heartbeat."""
        await self.connection.execute(
            delete(t.outbox_senders).where(t.outbox_senders.c.worker == worker)
        )
