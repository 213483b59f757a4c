"""Aggregate queries behind `/leadstats`, App Home, the digest and `/api/stats`.

Everything is grouped in SQL, so a 90-day view of a busy team returns a few hundred rows,
not every lead. Only the leads table is read (its stage timestamps mirror the events),
for a team through an index that covers every column read. Medians and p90s come from
window functions: each group's values are ranked (`ROW_NUMBER() OVER (PARTITION BY ...)`)
and only the ranks the percentiles read are returned (see `domain.reports.needed_ranks`).
SQLite and PostgreSQL run the same statements, and durations are rounded to milliseconds,
so both give identical answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from domain.lead import LeadStatus
from domain.records import OPEN_STATUSES
from domain.reports import (
    QUANTILES,
    RESPONSE_BUCKETS,
    Aggregates,
    GroupTally,
    QueueRow,
    Ranked,
    Scope,
    StageRow,
    Tally,
)
from storage import tables as t
from storage.repository import Repository

_L = t.leads.c
_OPEN = [str(status) for status in OPEN_STATUSES]
PARTS = ("groups", "response_by_owner", "response_all", "queues", "stages")
"""The fields of `Aggregates`, each one query that needs no other's result."""
_QUEUED_METHODS = ("pull", "pool")


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


class StatsQueries(Repository):
    def _seconds(self, later: Any, earlier: Any) -> ColumnElement[float]:
        """`later - earlier` in seconds, to the millisecond, on either backend."""
        if self.is_postgres:
            return func.round(func.extract("epoch", later - earlier), 3)
        return func.round((func.julianday(later) - func.julianday(earlier)) * 86400.0, 3)

    async def aggregates(
        self, scope: Scope, start: datetime, end: datetime, now: datetime
    ) -> Aggregates:
        """Every figure's raw material for the leads received in [start, end) in `scope`,
        on this one connection (StatsService runs the parts side by side instead)."""
        return Aggregates(**{name: await self.part(name, scope, start, end, now) for name in PARTS})

    async def part(
        self, name: str, scope: Scope, start: datetime, end: datetime, now: datetime
    ) -> Any:
        """One of the independent queries making up `Aggregates` (see PARTS)."""
        where = _scope(scope, start, end)
        contacted = [*where, _L.contacted_at.is_not(None)]
        response = self._seconds(_L.contacted_at, _L.created_at)
        if name == "groups":
            return await self._groups(where, now, response)
        if name == "response_by_owner":
            ranked = await self._ranked(response, [_L.owner], contacted)
            return {key[0]: value for key, value in ranked.items()}
        if name == "response_all":
            return (await self._ranked(response, [], contacted)).get((), Ranked(0, {}))
        if name == "queues":
            return await self._queues(where)
        if name == "stages":
            return await self._stages(where)
        raise ValueError(f"no stats part {name!r}")

    async def response_histogram(self, scope: Scope, start: datetime, end: datetime) -> list[int]:
        """How many contacted leads fall in each of RESPONSE_BUCKETS, in order."""
        response = self._seconds(_L.contacted_at, _L.created_at)
        bucket = case(
            *(
                (response < upper, index)
                for index, (_label, upper) in enumerate(RESPONSE_BUCKETS)
                if upper is not None
            ),
            else_=len(RESPONSE_BUCKETS) - 1,
        )
        query = (
            select(bucket, func.count())
            .where(*_scope(scope, start, end), _L.contacted_at.is_not(None))
            .group_by(bucket)
        )
        counts = [0] * len(RESPONSE_BUCKETS)
        for index, count in await self.connection.execute(query):
            counts[int(index)] = int(count)
        return counts

    async def _groups(
        self, where: list[ColumnElement[bool]], now: datetime, response: ColumnElement[float]
    ) -> list[GroupTally]:
        reached_opportunity = or_(_L.opportunity_at.is_not(None), _L.status == "won")
        met = and_(_L.contacted_at.is_not(None), _L.contacted_at <= _L.sla_due_at)
        decided = and_(
            _L.sla_due_at.is_not(None),
            or_(_L.contacted_at.is_not(None), _L.sla_due_at <= now),
        )
        keys = [_L.owner, _L.source, _L.method, _L.rule]
        query = (
            select(
                *keys,
                func.count(),
                func.sum(_flag(_L.contacted_at.is_not(None))),
                func.sum(_flag(met)),
                func.sum(_flag(decided)),
                func.sum(_flag(reached_opportunity)),
                func.sum(_flag(_L.status == "won")),
                func.sum(_flag(_L.status == "lost")),
                func.sum(response),
            )
            .where(*where)
            .group_by(*keys)
        )
        return [
            GroupTally(
                owner,
                source,
                method,
                rule,
                Tally(*(int(n or 0) for n in counts), float(seconds or 0)),
            )
            for owner, source, method, rule, *counts, seconds in await self.connection.execute(
                query
            )
        ]

    async def _ranked(
        self,
        value: ColumnElement[Any],
        groups: Sequence[ColumnElement[Any]],
        where: list[ColumnElement[bool]],
    ) -> dict[tuple[Any, ...], Ranked]:
        """Per group: how many values, and the values at the ranks QUANTILES read."""
        partition = list(groups) or None
        # One window (same partition and order) for both, so SQLite sorts once: the
        # count's frame spans the whole partition.
        inner = (
            select(
                *(column.label(f"g{i}") for i, column in enumerate(groups)),
                value.label("v"),
                (func.row_number().over(partition_by=partition, order_by=value) - 1).label("r"),
                func.count()
                .over(partition_by=partition, order_by=value, rows=(None, None))
                .label("n"),
            )
            .where(*where)
            .subquery()
        )
        ranks = []
        for q in QUANTILES:
            low = ((inner.c.n - 1) * q) // 100
            ranks += [inner.c.r == low, inner.c.r == low + 1]
        keys = [inner.c[f"g{i}"] for i in range(len(groups))]
        query = select(*keys, inner.c.n, inner.c.r, inner.c.v).where(or_(*ranks))
        found: dict[tuple[Any, ...], Ranked] = {}
        for row in await self.connection.execute(query):
            key = tuple(row[: len(keys)])
            ranked = found.setdefault(key, Ranked(int(row.n), {}))
            ranked.at_rank[int(row.r)] = float(row.v)  # type: ignore[index]
        return found

    async def _queues(self, where: list[ColumnElement[bool]]) -> list[QueueRow]:
        """Pull and pool leads per type: claim waits, and what is still unclaimed."""
        queued = [*where, _L.method.in_(_QUEUED_METHODS)]
        claimed = _L.assigned_at.is_not(None)
        unclaimed = and_(_L.owner.is_(None), _L.status == str(LeadStatus.QUEUED))
        waits = await self._ranked(
            self._seconds(_L.assigned_at, _L.created_at),
            [_L.method, _L.lead_type],
            [*queued, claimed],
        )
        query = (
            select(
                _L.method,
                _L.lead_type,
                func.sum(_flag(claimed)),
                func.sum(_flag(unclaimed)),
                func.min(case((unclaimed, _L.created_at))),
            )
            .where(*queued)
            .group_by(_L.method, _L.lead_type)
        )
        rows = []
        for method, lead_type, n_claimed, n_unclaimed, oldest in await self.connection.execute(
            query
        ):
            rows.append(
                QueueRow(
                    method,
                    lead_type,
                    int(n_claimed or 0),
                    waits.get((method, lead_type), Ranked(0, {})),
                    int(n_unclaimed or 0),
                    t.UtcDateTime().process_result_value(_as_datetime(oldest), None),
                )
            )
        return rows

    async def _stages(self, where: list[ColumnElement[bool]]) -> list[StageRow]:
        """Per lifecycle stage: reached, moved on (with the total time it took), still in.

        The lifecycle only moves forward, so the stage after `contacted` is the first of
        qualified, opportunity and closed that happened: a COALESCE in that order."""
        stages: list[tuple[str, Any, Any, Any]] = [
            ("awaiting contact", _L.created_at, _L.contacted_at, _L.status.in_(_OPEN)),
            (
                "contacted",
                _L.contacted_at,
                func.coalesce(_L.qualified_at, _L.opportunity_at, _L.closed_at),
                _L.status == "contacted",
            ),
            (
                "qualified",
                _L.qualified_at,
                func.coalesce(_L.opportunity_at, _L.closed_at),
                _L.status == "qualified",
            ),
            ("opportunity", _L.opportunity_at, _L.closed_at, _L.status == "opportunity"),
        ]
        columns = []
        for _name, entered, left, now_in in stages:
            moved_on = and_(entered.is_not(None), left.is_not(None))
            columns += [
                func.sum(_flag(entered.is_not(None))),
                func.sum(_flag(moved_on)),
                func.sum(case((moved_on, self._seconds(left, entered)))),
                func.sum(_flag(now_in)),
            ]
        row = (await self.connection.execute(select(*columns).where(*where))).one()
        return [
            StageRow(
                name,
                int(row[4 * i] or 0),
                int(row[4 * i + 1] or 0),
                float(row[4 * i + 2] or 0),
                int(row[4 * i + 3] or 0),
            )
            for i, (name, *_rest) in enumerate(stages)
        ]


def _scope(scope: Scope, start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    column = {"rep": _L.owner, "team": _L.team, "source": _L.source}[scope.kind]
    where = [_L.created_at >= start, _L.created_at < end, column == scope.value]
    if scope.kind == "source":
        # A lead in nurture that never reached a team was never sales's: the scoring
        # section counts it. (A rep's or a team's scope cannot hold one.)
        where.append(or_(_L.status != str(LeadStatus.NURTURE), _L.team.is_not(None)))
    return where


def _as_datetime(value: Any) -> datetime | None:
    """SQLite hands back MIN() over a CASE as text; PostgreSQL as a timestamp."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)
