"""Where each lead's cards live in Slack (channel, ts), so changes edit them."""

from __future__ import annotations

from sqlalchemy import (
    select,
)

from storage import tables as t
from storage.repository import Repository


class MessageRepository(Repository):
    """Where each lead's card was posted, so state changes edit that same message."""

    async def record(self, lead_id: str, channel: str, ts: str, kind: str) -> None:
        statement = self._upsert(t.lead_messages).values(
            lead_id=lead_id, channel=channel, ts=ts, kind=kind
        )
        await self.connection.execute(
            statement.on_conflict_do_update(
                index_elements=[t.lead_messages.c.lead_id, t.lead_messages.c.channel],
                set_={"ts": ts, "kind": kind},
            )
        )

    async def for_lead(self, lead_id: str) -> list[tuple[str, str]]:
        rows = await self.connection.execute(
            select(t.lead_messages.c.channel, t.lead_messages.c.ts).where(
                t.lead_messages.c.lead_id == lead_id
            )
        )
        return [(channel, ts) for channel, ts in rows.all()]
