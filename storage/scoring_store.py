"""Scoring's storage: the activities that re-score a lead, and the rows the scoring
report and the stats' scoring section are computed from (domain.scoring_report)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select
from sqlalchemy.sql.elements import ColumnElement

from domain.activity import ActivityInput
from domain.lead import LeadStatus
from domain.reports import Scope
from domain.scoring import Activity
from domain.scoring_report import ScoredRow
from storage import tables as t
from storage.repository import Repository

_L = t.leads.c
_A = t.lead_activities.c
MAX_ACTIVITIES = 1000
"""Activities read to re-score one lead, newest first: older ones have decayed to nothing
under any sensible half-life, and a runaway sender must not make scoring unbounded."""


class ActivityRepository(Repository):
    async def add(self, lead_id: str, activity: ActivityInput, received_at: datetime) -> None:
        await self.connection.execute(
            insert(t.lead_activities).values(
                lead_id=lead_id,
                at=activity.at or received_at,
                received_at=received_at,
                kind=activity.type,
                points=activity.points,
                attributes=activity.attributes or None,
            )
        )

    async def for_lead(self, lead_id: str) -> list[Activity]:
        rows = await self.connection.execute(
            select(_A.kind, _A.at, _A.points)
            .where(_A.lead_id == lead_id)
            .order_by(_A.at.desc(), _A.id.desc())
            .limit(MAX_ACTIVITIES)
        )
        return [Activity(kind, at, points) for kind, at, points in rows]


class ScoringQueries(Repository):
    async def rows(self, start: datetime, end: datetime, scope: Scope | None) -> list[ScoredRow]:
        """One row per scored lead received in [start, end), in `scope` (None: all)."""
        where: list[ColumnElement[bool]] = [
            _L.created_at >= start,
            _L.created_at < end,
            _L.grade.is_not(None),
        ]
        if scope is not None:
            column = {"rep": _L.owner, "team": _L.team, "source": _L.source}[scope.kind]
            where.append(column == scope.value)
        won = _L.status == str(LeadStatus.WON)
        result = await self.connection.execute(
            select(
                _L.id,
                _L.grade,
                _L.model_score,
                _L.source,
                _L.owner,
                or_(_L.team.is_not(None), _L.owner.is_not(None), _L.contacted_at.is_not(None)),
                _L.contacted_at.is_not(None),
                or_(_L.qualified_at.is_not(None), _L.opportunity_at.is_not(None), won),
                or_(_L.opportunity_at.is_not(None), won),
                won,
            ).where(and_(*where))
        )
        leads = result.all()
        reasons = await self._disqualify_reasons(where)
        return [
            ScoredRow(
                grade=row[1],
                score=row[2],
                source=row[3],
                owner=row[4],
                routed=bool(row[5]),
                contacted=bool(row[6]),
                qualified=bool(row[7]),
                opportunity=bool(row[8]),
                won=bool(row[9]),
                disqualified_reason=reasons.get(row[0]),
            )
            for row in leads
        ]

    async def _disqualify_reasons(self, where: list[ColumnElement[bool]]) -> dict[str, str]:
        """The reason each disqualified lead was given (the event's data, read in Python:
        JSON paths differ between SQLite and PostgreSQL)."""
        events = t.lead_events.c
        rows = await self.connection.execute(
            select(events.lead_id, events.data)
            .join(t.leads, _L.id == events.lead_id)
            .where(events.type == "disqualified", *where)
        )
        return {lead_id: _reason(data) for lead_id, data in rows}


NO_REASON = "(no reason given)"
"""A disqualification reported through the API with no reason from the list."""


def _reason(data: Any) -> str:
    reason = data.get("reason") if isinstance(data, dict) else None
    return str(reason) if reason else NO_REASON
