"""Slack deliveries already handled, shared by every replica.

Why in the database: in Socket Mode Slack redelivers an unacknowledged payload on any
open connection, so the retry of one replica's event may reach another replica.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete

from storage import tables as t
from storage.repository import Repository


class DeliveryRepository(Repository):
    async def first_time(self, key: str, now: datetime) -> bool:
        """Record `key`; True only for the first caller, whichever replica it is."""
        statement = (
            self._upsert(t.slack_deliveries)
            .values(key=key, seen_at=now)
            .on_conflict_do_nothing(index_elements=[t.slack_deliveries.c.key])
        )
        return (await self.connection.execute(statement)).rowcount == 1

    async def forget_before(self, cutoff: datetime) -> int:
        """Drop keys older than any redelivery can be."""
        result = await self.connection.execute(
            delete(t.slack_deliveries).where(t.slack_deliveries.c.seen_at < cutoff)
        )
        return result.rowcount
