"""Replicas sending to Slack right now, each spending its share of Slack's limits."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import (
    delete,
    func,
    select,
)

from storage import tables as t
from storage.repository import Repository


class SenderRepository(Repository):
    """The outbox dispatchers alive now (a heartbeat each), to split Slack's limits."""

    async def heartbeat(self, worker: str, now: datetime, alive_after: datetime) -> int:
        """Record `worker` as alive and count the senders seen since `alive_after`,
        itself included; senders silent for a day are forgotten."""
        statement = self._upsert(t.outbox_senders).values(worker=worker, seen_at=now)
        await self.connection.execute(
            statement.on_conflict_do_update(index_elements=["worker"], set_={"seen_at": now})
        )
        senders = t.outbox_senders
        await self.connection.execute(
            delete(senders).where(senders.c.seen_at < alive_after - timedelta(days=1))
        )
        alive = await self.connection.execute(
            select(func.count()).select_from(senders).where(senders.c.seen_at >= alive_after)
        )
        return max(1, int(alive.scalar_one()))

    async def leave(self, worker: str) -> None:
        """A clean stop: the others take its share at their next heartbeat."""
        await self.connection.execute(
            delete(t.outbox_senders).where(t.outbox_senders.c.worker == worker)
        )
