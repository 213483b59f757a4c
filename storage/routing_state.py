"""Routing state shared by replicas: the routing lock, rotation credits, last assignments."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import (
    select,
    text,
)

from storage import tables as t
from storage.repository import Repository

_ROUTING_LOCK = 0x1EAD0001  # PostgreSQL advisory lock id serialising routing decisions


class RoutingRepository(Repository):
    """Rotation positions and rep activity: shared by every replica, so they live here."""

    async def lock(self) -> None:
        """Serialise routing decisions across replicas (SQLite: BEGIN IMMEDIATE already does)."""
        if self.is_postgres:
            await self.connection.execute(
                text("SELECT pg_advisory_xact_lock(:id)"), {"id": _ROUTING_LOCK}
            )

    async def credits(self) -> dict[str, dict[str, int]]:
        rows = await self.connection.execute(
            select(t.rotation_state.c.team, t.rotation_state.c.state)
        )
        return {team: dict(state) for team, state in rows.all()}

    async def save_credits(self, team: str, state: dict[str, int]) -> None:
        statement = self._upsert(t.rotation_state).values(team=team, state=state, version=1)
        await self.connection.execute(
            statement.on_conflict_do_update(
                index_elements=[t.rotation_state.c.team],
                set_={"state": state, "version": t.rotation_state.c.version + 1},
            )
        )

    async def last_assigned(self) -> dict[str, datetime]:
        rows = await self.connection.execute(
            select(t.rep_activity.c.user, t.rep_activity.c.last_assigned_at)
        )
        return {user: at for user, at in rows.all()}

    async def record_assignment(self, user: str, at: datetime) -> None:
        await self.record_assignments([user], at)

    async def record_assignments(self, users: Iterable[str], at: datetime) -> None:
        # Sorted: every transaction locks these rows in one order (no deadlock).
        rows = [{"user": user, "last_assigned_at": at} for user in sorted(set(users))]
        if not rows:
            return
        statement = self._upsert(t.rep_activity)
        await self.connection.execute(
            statement.on_conflict_do_update(
                index_elements=[t.rep_activity.c.user],
                set_={"last_assigned_at": statement.excluded.last_assigned_at},
            ),
            rows,
        )
