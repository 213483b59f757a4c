"""The counts the quarterly review reads: leads per rule, per team and owner, per owner
in each part of the period, and "Wrong routing?" reports per rule and reason. Each is
one grouped statement; domain.review draws the findings."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import ColumnElement, func, select

from domain.reports import Tally
from domain.review import Misroute, ReviewData
from storage import tables as t
from storage.stats_queries import StatsQueries

_L = t.leads.c
_M = t.misroute_reports.c


class ReviewQueries(StatsQueries):
    async def review_data(self, start: datetime, end: datetime, slices: int = 3) -> ReviewData:
        """The period [start, end) as the review needs it (Slack's view of the reps is the
        caller's to add: it comes from users.info, not from the database)."""
        period = [_L.created_at >= start, _L.created_at < end]
        response = self._seconds(_L.contacted_at, _L.created_at)
        rules: dict[str | None, Tally] = {}
        for group in await self._groups(period, end, response):
            rules[group.rule] = rules.get(group.rule, Tally()) + group.tally
        return ReviewData(
            start=start,
            end=end,
            rules=rules,
            team_leads=await self._team_leads(period),
            slices=await self._slices(start, end, slices),
            misroutes=await self._misroutes(start, end),
        )

    async def configured_since(self) -> datetime | None:
        """When the first configuration was saved: the install's age."""
        return await self.connection.scalar(select(func.min(t.config_versions.c.created_at)))

    async def _team_leads(self, period: list[ColumnElement[bool]]) -> dict[str, dict[str, int]]:
        query = (
            select(_L.team, _L.owner, func.count())
            .where(*period, _L.team.is_not(None), _L.owner.is_not(None))
            .group_by(_L.team, _L.owner)
        )
        found: dict[str, dict[str, int]] = {}
        for team, owner, count in await self.connection.execute(query):
            found.setdefault(team, {})[owner] = int(count)
        return found

    async def _slices(
        self, start: datetime, end: datetime, count: int
    ) -> list[tuple[datetime, Counter[str]]]:
        width = (end - start) / count
        found = []
        for index in range(count):
            begins = start + width * index
            ends = end if index == count - 1 else begins + width
            query = (
                select(_L.owner, func.count())
                .where(_L.created_at >= begins, _L.created_at < ends, _L.owner.is_not(None))
                .group_by(_L.owner)
            )
            counts = Counter({owner: int(n) for owner, n in await self.connection.execute(query)})
            found.append((begins, counts))
        return found

    async def _misroutes(self, start: datetime, end: datetime) -> list[Misroute]:
        query = (
            select(_M.rule, _M.reason, func.count())
            .where(_M.at >= start, _M.at < end)
            .group_by(_M.rule, _M.reason)
        )
        return [
            Misroute(rule, reason, int(count))
            for rule, reason, count in await self.connection.execute(query)
        ]
