"""The counters routing reads (domain.counters): moved by deltas in the transaction of
each change of a lead, rebuilt and compared by `check`.

In a unit of work the deltas are held and written once, just before commit, in key
order. A counter row is a hot row (every change of a rep's leads moves it): taking its
lock last and in one global order keeps it held briefly, and two transactions moving
the same reps can no longer lock them in opposite orders and deadlock."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import and_, delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.caps import AssignmentCounts, AssignmentKey
from domain.counters import CountDeltas, Counted
from domain.records import WORKLOAD_STATUSES
from storage import tables as t
from storage.repository import Repository

COUNTED_COLUMNS = (
    t.leads.c.owner,
    t.leads.c.status,
    t.leads.c.team,
    t.leads.c.lead_type,
    t.leads.c.assigned_day,
)


def counted(row: Any) -> Counted:
    """A lead row (with COUNTED_COLUMNS) as the counters see it."""
    return Counted(row.owner, row.status, row.team, row.lead_type, row.assigned_day)


COUNTED_FIELDS = frozenset({"owner", "status", "team", "lead_type", "assigned_day"})


class CounterRepository(Repository):
    """The lead repository moves these counters in its own writes (storage.leads).
    `deferred`: hold the deltas until `flush` (the unit of work flushes before commit;
    reading a counter flushes first, so a transaction sees its own changes)."""

    def __init__(self, connection: AsyncConnection, deferred: bool = False):
        super().__init__(connection)
        self._deferred = deferred
        self._pending = CountDeltas()

    async def changed(self, before: Counted, changes: dict[str, Any]) -> None:
        """Move the counters for a lead changed from `before` by `changes`."""
        moved = {key: value for key, value in changes.items() if key in COUNTED_FIELDS}
        if "status" in moved:
            moved["status"] = str(moved["status"])
        await self._move(lambda deltas: deltas.add(before, replace(before, **moved)))

    async def added(self, leads: list[Counted]) -> None:
        def add_all(deltas: CountDeltas) -> None:
            for lead in leads:
                deltas.add(None, lead)

        await self._move(add_all)

    async def _move(self, change: Callable[[CountDeltas], None]) -> None:
        if self._deferred:
            change(self._pending)
            return
        deltas = CountDeltas()
        change(deltas)
        await self.apply(deltas)

    async def flush(self) -> None:
        """Write the held deltas (a deferred repository; nothing to do otherwise)."""
        pending, self._pending = self._pending, CountDeltas()
        await self.apply(pending)

    async def apply(self, deltas: CountDeltas) -> None:
        """Move the counters, rows in key order; a few statements whatever the number of
        leads changed."""
        deltas = deltas.nonzero()
        if deltas.open_leads:
            await self._add(
                t.open_lead_counts,
                ["user"],
                [{"user": user, "count": n} for user, n in sorted(deltas.open_leads.items())],
            )
        if deltas.assignments:
            await self._add(
                t.assignment_counts,
                ["user", "team", "lead_type", "day"],
                [
                    {"user": user, "team": team, "lead_type": kind, "day": day, "count": n}
                    for (user, (team, kind, day)), n in sorted(deltas.assignments.items())
                ],
            )

    async def _add(self, table: Any, keys: list[str], rows: list[dict[str, Any]]) -> None:
        statement = self._upsert(table)
        await self.connection.execute(
            statement.on_conflict_do_update(
                index_elements=keys, set_={"count": table.c.count + statement.excluded.count}
            ),
            rows,
        )

    async def open_leads(self, users: Iterable[str] | None = None) -> dict[str, int]:
        """Open leads per rep (what capacity and least-loaded routing look at)."""
        await self.flush()
        table = t.open_lead_counts
        query = select(table.c.user, table.c.count).where(table.c.count != 0)
        if users is not None:
            query = query.where(table.c.user.in_(list(users)))
        return {user: count for user, count in (await self.connection.execute(query)).all()}

    async def assignments(self, since: date) -> dict[str, AssignmentCounts]:
        """Per rep: leads held per (team, lead type, local day) from `since` on."""
        await self.flush()
        table = t.assignment_counts
        rows = await self.connection.execute(
            select(table).where(table.c.day >= since, table.c.count != 0)
        )
        found: dict[str, dict[AssignmentKey, int]] = {}
        for row in rows:
            found.setdefault(row.user, {})[(row.team, row.lead_type, row.day)] = row.count
        return dict(found)

    async def recount(self) -> CountDeltas:
        """The counters from the leads themselves (slow: for the check, never routing)."""
        totals = CountDeltas()
        workload = [str(status) for status in WORKLOAD_STATUSES]
        open_rows = await self.connection.execute(
            select(t.leads.c.owner, func.count())
            .where(t.leads.c.owner.is_not(None), t.leads.c.status.in_(workload))
            .group_by(t.leads.c.owner)
        )
        totals.open_leads.update({owner: count for owner, count in open_rows.all()})
        day_rows = await self.connection.execute(
            select(
                t.leads.c.owner,
                t.leads.c.team,
                t.leads.c.lead_type,
                t.leads.c.assigned_day,
                func.count(),
            )
            .where(t.leads.c.owner.is_not(None), t.leads.c.assigned_day.is_not(None))
            .group_by(t.leads.c.owner, t.leads.c.team, t.leads.c.lead_type, t.leads.c.assigned_day)
        )
        for owner, team, kind, day, count in day_rows.all():
            totals.assignments[(owner, (team or "", kind, day))] += count
        return totals.nonzero()

    async def stored(self) -> CountDeltas:
        """Every counter as stored."""
        stored = CountDeltas(Counter(await self.open_leads()))
        for user, counts in (await self.assignments(date.min)).items():
            for key, count in counts.items():
                stored.assignments[(user, key)] = count
        return stored.nonzero()

    async def check(self, repair: bool = False) -> list[str]:
        """Rebuild the counters from the leads and compare: one line per counter that
        differs. With `repair`, the stored counters are replaced by the rebuilt ones."""
        expected, stored = await self.recount(), await self.stored()
        wrong = [
            f"open leads of {user}: stored {stored.open_leads[user]}, "
            f"counted {expected.open_leads[user]}"
            for user in sorted(set(expected.open_leads) | set(stored.open_leads))
            if expected.open_leads[user] != stored.open_leads[user]
        ]
        wrong += [
            f"leads of {user} in {key[0] or 'no team'} ({key[1]}) on {key[2]}: "
            f"stored {stored.assignments[(user, key)]}, counted {expected.assignments[(user, key)]}"
            for user, key in sorted(set(expected.assignments) | set(stored.assignments))
            if expected.assignments[(user, key)] != stored.assignments[(user, key)]
        ]
        if repair and wrong:
            await self.connection.execute(delete(t.open_lead_counts))
            await self.connection.execute(delete(t.assignment_counts))
            await self.apply(expected)
        return wrong

    async def counted(self, lead_id: str, version: int) -> Counted | None:
        """The counted state of a lead at this version (None: gone or changed)."""
        row = (
            await self.connection.execute(
                select(*COUNTED_COLUMNS).where(
                    and_(t.leads.c.id == lead_id, t.leads.c.version == version)
                )
            )
        ).first()
        return counted(row) if row else None
