"""The lead timeline: append-only events."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.records import LeadEvent
from storage import tables as t
from storage.repository import Repository


class EventRepository(Repository):
    """The timeline. Every event written is also noted for outbound webhooks (the unit of
    work turns them into deliveries just before it commits)."""

    def __init__(
        self,
        connection: AsyncConnection,
        note: Callable[[list[dict[str, Any]]], None] = lambda events: None,
    ):
        super().__init__(connection)
        self.note = note

    async def add(
        self,
        lead_id: str,
        at: datetime,
        type_: str,
        actor: str,
        reason: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        event = {
            "lead_id": lead_id,
            "at": at,
            "type": type_,
            "actor": actor,
            "reason": reason,
            "data": data,
        }
        await self.connection.execute(insert(t.lead_events).values(**event))
        self.note([event])

    async def add_many(self, events: list[dict[str, Any]]) -> None:
        """Bulk insert of `lead_id, at, type, actor, reason, data` rows."""
        if events:
            await self.connection.execute(insert(t.lead_events), events)
            self.note(events)

    async def missed_by(self, lead_ids: Iterable[str]) -> dict[str, str]:
        """Who owned each lead when its SLA breached (recorded by the breach step)."""
        rows = await self.connection.execute(
            select(t.lead_events.c.lead_id, t.lead_events.c.data).where(
                t.lead_events.c.lead_id.in_(list(lead_ids)), t.lead_events.c.type == "breached"
            )
        )
        return {
            lead_id: data["missed_by"] for lead_id, data in rows if data and data.get("missed_by")
        }

    async def timelines(self, lead_ids: Iterable[str]) -> dict[str, tuple[LeadEvent, ...]]:
        rows = await self.connection.execute(
            select(t.lead_events)
            .where(t.lead_events.c.lead_id.in_(list(lead_ids)))
            .order_by(t.lead_events.c.at, t.lead_events.c.id)
        )
        found: dict[str, list[LeadEvent]] = {}
        for row in rows:
            found.setdefault(row.lead_id, []).append(
                LeadEvent(
                    at=row.at, type=row.type, actor=row.actor, reason=row.reason, data=row.data
                )
            )
        return {lead_id: tuple(events) for lead_id, events in found.items()}

    async def timeline(self, lead_id: str) -> tuple[LeadEvent, ...]:
        return (await self.timelines([lead_id])).get(lead_id, ())
