"""The availability facts kept in the database: what Slack said about each rep (the
refresher writes, routing reads) and each rep's own away toggle."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select, update

from domain.offers import OFFER_ACTION
from domain.signals import AwayToggle, RepSignals, SlackSnapshot
from storage import tables as t
from storage.repository import Repository


class AvailabilityRepository(Repository):
    async def signals(
        self, fresh_since: datetime, slack: dict[str, SlackSnapshot] | None = None
    ) -> dict[str, RepSignals]:
        """Every rep's away toggle (read now: a rep's own pause takes effect at once) and
        Slack facts: `slack` when the caller has them cached, else those fetched since
        `fresh_since` (older ones are not read: routing would ignore them anyway)."""
        if slack is None:
            slack = await self.slack_snapshots(fresh_since)
        found = {user: RepSignals(slack=snapshot) for user, snapshot in slack.items()}
        for user, away in (await self.away_toggles()).items():
            found[user] = RepSignals(slack=slack.get(user), away=away)
        return found

    async def slack_snapshots(self, fresh_since: datetime) -> dict[str, SlackSnapshot]:
        presence = t.slack_presence
        rows = await self.connection.execute(
            select(presence).where(presence.c.fetched_at >= fresh_since)
        )
        return {
            row.user: SlackSnapshot(
                fetched_at=row.fetched_at,
                status_text=row.status_text,
                status_emoji=row.status_emoji,
                status_expires_at=row.status_expires_at,
                dnd_start=row.dnd_start,
                dnd_end=row.dnd_end,
                snooze_until=row.snooze_until,
                presence=row.presence,
            )
            for row in rows
        }

    async def away_toggles(self) -> dict[str, AwayToggle]:
        rows = await self.connection.execute(select(t.rep_away))
        return {row.user: AwayToggle(since=row.since, until=row.until) for row in rows}

    async def save_snapshots(self, snapshots: Iterable[tuple[str, SlackSnapshot]]) -> None:
        rows = [
            {
                "user": user,
                "fetched_at": snap.fetched_at,
                "status_text": snap.status_text[:200],
                "status_emoji": snap.status_emoji[:100],
                "status_expires_at": snap.status_expires_at,
                "dnd_start": snap.dnd_start,
                "dnd_end": snap.dnd_end,
                "snooze_until": snap.snooze_until,
                "presence": snap.presence,
            }
            for user, snap in snapshots
        ]
        if not rows:
            return
        statement = self._upsert(t.slack_presence)
        columns = [name for name in rows[0] if name != "user"]
        await self.connection.execute(
            statement.on_conflict_do_update(
                index_elements=["user"],
                set_={name: getattr(statement.excluded, name) for name in columns},
            ),
            rows,
        )

    async def fetched_at(self) -> dict[str, datetime]:
        """When Slack was last asked about each rep (the refresher asks the oldest first)."""
        rows = await self.connection.execute(
            select(t.slack_presence.c.user, t.slack_presence.c.fetched_at)
        )
        return {user: at for user, at in rows.all()}

    async def set_away(self, user: str, since: datetime, until: datetime | None) -> None:
        statement = self._upsert(t.rep_away).values(user=user, since=since, until=until)
        await self.connection.execute(
            statement.on_conflict_do_update(
                index_elements=["user"], set_={"since": since, "until": until}
            )
        )

    async def clear_away(self, user: str) -> bool:
        """End the rep's away toggle; False if they were not away."""
        result = await self.connection.execute(delete(t.rep_away).where(t.rep_away.c.user == user))
        return result.rowcount > 0

    async def cancel_offer(self, lead_id: str, user: str, now: datetime) -> int:
        """Cancel the pending offer deadline of `lead_id` to `user` (Accept, Decline);
        0 when there is none (it fired already, or was never theirs)."""
        table = t.deadlines
        result = await self.connection.execute(
            update(table)
            .where(
                table.c.lead_id == lead_id,
                table.c.state == "pending",
                table.c.action == OFFER_ACTION,
                table.c.step.like(f"offer:%:{user}"),
            )
            .values(state="cancelled", fired_at=now)
        )
        return result.rowcount

    async def claims_since(self, user: str, team: str, since: datetime) -> list[datetime]:
        """When `user` claimed leads of `team` after `since` (the claim cap's window)."""
        events, leads = t.lead_events, t.leads
        rows = await self.connection.execute(
            select(events.c.at)
            .join(leads, leads.c.id == events.c.lead_id)
            .where(
                events.c.type == "claimed",
                events.c.at > since,
                events.c.actor == user,
                leads.c.team == team,
            )
        )
        return [at for (at,) in rows.all()]

    async def forget_expired_away(self, now: datetime) -> list[str]:
        """Remove toggles whose time is over; return whose (they are back: backfill)."""
        table = t.rep_away
        rows = await self.connection.execute(
            select(table.c.user).where(table.c.until.is_not(None), table.c.until <= now)
        )
        users = [user for (user,) in rows.all()]
        if users:
            await self.connection.execute(delete(table).where(table.c.user.in_(users)))
        return users
