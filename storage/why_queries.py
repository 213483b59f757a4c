"""The recent decisions `/leads why` explains: leads a rep owns or that went to one of
their teams, newest first, through the (owner, created_at) and team indexes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from storage import tables as t
from storage.repository import Repository

_L = t.leads.c


class WhyQueries(Repository):
    async def recent_decisions(
        self, user: str, teams: Sequence[str], limit: int
    ) -> list[tuple[str, datetime, dict[str, Any]]]:
        """(lead id, received at, decision) of the latest `limit` leads owned by `user` or
        routed to one of `teams`; the caller keeps the ones whose decision names them."""
        query = (
            select(_L.id, _L.created_at, _L.decision)
            .where(or_(_L.owner == user, _L.team.in_(list(teams))), _L.erased_at.is_(None))
            .order_by(_L.created_at.desc())
            .limit(limit)
        )
        return [
            (row.id, row.created_at, row.decision) for row in await self.connection.execute(query)
        ]
