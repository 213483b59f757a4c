"""SLA deadlines: one row per (lead, step), claimed by the timer sweeper."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Row

from storage import tables as t
from storage.repository import Repository


class DeadlineRepository(Repository):
    async def add_many(self, lead_id: str, steps: Sequence[Any]) -> None:
        await self.add_plans([(lead_id, steps)])

    async def add_plans(self, plans: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """The planned steps of several leads, in one statement."""
        rows = [
            {
                "lead_id": lead_id,
                "step": s.step,
                "action": s.action,
                "due_at": s.due_at,
                "state": "pending",
            }
            for lead_id, steps in plans
            for s in steps
        ]
        if rows:
            await self.connection.execute(insert(t.deadlines), rows)

    async def cancel_pending(self, lead_id: str, now: datetime) -> int:
        result = await self.connection.execute(
            update(t.deadlines)
            .where(t.deadlines.c.lead_id == lead_id, t.deadlines.c.state == "pending")
            .values(state="cancelled", fired_at=now)
        )
        return result.rowcount

    async def clear(self, lead_id: str) -> None:
        """Forget a lead's steps before planning its SLA again (a lead sent back to
        marketing, its steps cancelled then, and now routed anew): one row per (lead,
        step). The timeline keeps what the old steps did."""
        await self.connection.execute(delete(t.deadlines).where(t.deadlines.c.lead_id == lead_id))

    async def due(self, now: datetime, limit: int) -> list[Row[Any]]:
        """Due pending steps, locked for this transaction (PostgreSQL skips rows another
        replica holds; SQLite's BEGIN IMMEDIATE already makes this transaction the only
        writer). The caller fires and finishes them before commit: claim and effect are
        one atomic step, so a crash fires nothing and nothing fires twice."""
        query = (
            select(t.deadlines)
            .where(t.deadlines.c.state == "pending", t.deadlines.c.due_at <= now)
            .order_by(t.deadlines.c.due_at, t.deadlines.c.id)
            .limit(limit)
        )
        if self.is_postgres:
            query = query.with_for_update(skip_locked=True)
        return list((await self.connection.execute(query)).all())

    async def claim(self, row_id: int) -> Row[Any] | None:
        """One pending step, locked for this transaction; None if it fired meanwhile or
        (PostgreSQL) another replica holds it. A step read outside this transaction
        must be claimed again before it fires."""
        query = select(t.deadlines).where(
            t.deadlines.c.id == row_id, t.deadlines.c.state == "pending"
        )
        if self.is_postgres:
            query = query.with_for_update(skip_locked=True)
        return (await self.connection.execute(query)).first()

    async def finish(
        self, row_id: int, state: str, now: datetime, error: str | None = None
    ) -> bool:
        """Move a pending step to done/cancelled/failed; False if it was no longer pending."""
        result = await self.connection.execute(
            update(t.deadlines)
            .where(t.deadlines.c.id == row_id, t.deadlines.c.state == "pending")
            .values(state=state, fired_at=now, error=error)
        )
        return result.rowcount == 1

    async def finish_many(self, finished: list[dict[str, Any]], now: datetime) -> None:
        """Bulk `finish`: rows of `row_id, new_state, error`."""
        if not finished:
            return
        await self.connection.execute(
            update(t.deadlines)
            .where(t.deadlines.c.id == bindparam("row_id"), t.deadlines.c.state == "pending")
            .values(state=bindparam("new_state"), error=bindparam("error"), fired_at=now),
            finished,
        )

    async def next_due_at(self) -> datetime | None:
        return await self.connection.scalar(
            select(func.min(t.deadlines.c.due_at)).where(t.deadlines.c.state == "pending")
        )

    async def overdue(self, before: datetime) -> int:
        """Pending steps that should have fired before `before`: the self-check's count."""
        query = select(func.count()).where(
            t.deadlines.c.state == "pending", t.deadlines.c.due_at < before
        )
        return int(await self.connection.scalar(query) or 0)

    async def for_lead(self, lead_id: str) -> list[Row[Any]]:
        rows = await self.connection.execute(
            select(t.deadlines)
            .where(t.deadlines.c.lead_id == lead_id)
            .order_by(t.deadlines.c.due_at)
        )
        return list(rows.all())
