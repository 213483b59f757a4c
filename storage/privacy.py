"""GDPR erasure and retention: the SQL that forgets a person and keeps the counts.

Why a module of its own: erasure touches every table that may hold personal data
(the lead, its timeline, its queued Slack calls), and keeping those statements in one
place is what makes "nothing personal is left" checkable by reading one file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.messages import ErasureRedraw, Kind
from domain.records import SYSTEM_ACTOR
from storage import tables as t
from storage.repository import Repository

KEPT_FIELDS = ("lead_type", "source")
"""What of the submitted fields survives erasure: anonymous, and what stats group by."""

KEPT_DECISION = ("rule", "config_version", "candidates", "skipped")
"""The routing decision minus its reasons (those quote the lead's own values)."""

ERASED_ACTOR = "erased"
_KEPT_ACTOR = re.compile(rf"^([UW][A-Z0-9]{{2,}}|{re.escape(SYSTEM_ACTOR)})$")
"""Actors an erasure keeps: Slack user ids (from Slack's own payloads) and the app."""

LATE_REDRAW = timedelta(seconds=60)
"""A dispatcher that read the lead before the erasure may still post its card; a second
redraw after the outbox lease (30 s) has run out overwrites that card too."""


class PrivacyRepository(Repository):
    def __init__(
        self,
        connection: AsyncConnection,
        note: Callable[[list[dict[str, Any]]], None] = lambda events: None,
    ):
        super().__init__(connection)
        self.note = note  # the `erased` events, for webhooks (lead.erased, no personal data)

    async def erase(
        self, lead_ids: Sequence[str], now: datetime, actor: str, why: str
    ) -> list[str]:
        """Erase these leads' personal data in the caller's transaction, a few statements
        for the whole batch; return the ids erased now (not those already erased: erasure
        is idempotent, nor unknown ones)."""
        query = select(t.leads.c.id, t.leads.c.fields, t.leads.c.decision).where(
            t.leads.c.id.in_(list(lead_ids)), t.leads.c.erased_at.is_(None)
        )
        if self.is_postgres:
            query = query.with_for_update()
        rows = (await self.connection.execute(query)).all()
        if not rows:
            return []
        erased = [row.id for row in rows]
        # Locked rows (PostgreSQL) or the only writer (SQLite): every row read is erased.
        await self.connection.execute(
            update(t.leads)
            .where(t.leads.c.id == bindparam("lead_id"))
            .values(
                email=None,
                phone_key=None,
                external_id=None,
                idempotency_key=None,
                fields=bindparam("kept_fields", type_=t.leads.c.fields.type),
                decision=bindparam("kept_decision", type_=t.leads.c.decision.type),
                erased_at=now,
                updated_at=now,
                version=t.leads.c.version + 1,
            ),
            [
                {
                    "lead_id": row.id,
                    "kept_fields": {k: row.fields[k] for k in KEPT_FIELDS if row.fields.get(k)},
                    "kept_decision": {
                        **{k: row.decision[k] for k in KEPT_DECISION if k in row.decision},
                        "reasons": [],
                    },
                }
                for row in rows
            ],
        )
        # Reasons and notes are free text (CRM notes, the matched rule's values); the
        # event types, times and numeric data stay, so stats stay true. Actors stay when
        # they are Slack users or the app itself; any other (a CRM's `by`, which may be
        # the person's own name) goes.
        await self.connection.execute(
            update(t.lead_events).where(t.lead_events.c.lead_id.in_(erased)).values(reason=None)
        )
        actors = await self.connection.execute(
            select(t.lead_events.c.actor).where(t.lead_events.c.lead_id.in_(erased)).distinct()
        )
        outside = [actor for actor in actors.scalars() if not _KEPT_ACTOR.match(actor)]
        if outside:
            await self.connection.execute(
                update(t.lead_events)
                .where(t.lead_events.c.lead_id.in_(erased), t.lead_events.c.actor.in_(outside))
                .values(actor=ERASED_ACTOR)
            )
        # What a sender said about an activity may name the person; its kind, time and
        # points stay, so the lead's score stays explainable.
        await self.connection.execute(
            update(t.lead_activities)
            .where(t.lead_activities.c.lead_id.in_(erased))
            .values(attributes=None)
        )
        await self.connection.execute(
            update(t.deadlines)
            .where(t.deadlines.c.lead_id.in_(erased), t.deadlines.c.state == "pending")
            .values(state="cancelled", fired_at=now, error="personal data erased")
        )
        posted = await self._with_cards(erased)
        unsent = await self._forget_outbox(erased)
        events = [
            {"lead_id": lead_id, "at": now, "type": "erased", "actor": actor, "reason": why}
            for lead_id in erased
        ]
        await self.connection.execute(insert(t.lead_events), events)
        self.note(events)
        await self._queue_redraws(posted, unsent, now)
        return erased

    async def _with_cards(self, lead_ids: list[str]) -> set[str]:
        """The leads with a card, or an alert naming them, posted in Slack."""
        cards = await self.connection.execute(
            select(t.lead_messages.c.lead_id).where(t.lead_messages.c.lead_id.in_(lead_ids))
        )
        alerts = await self.connection.execute(
            select(t.outbox.c.lead_id).where(
                t.outbox.c.lead_id.in_(lead_ids), t.outbox.c.posted_ts.is_not(None)
            )
        )
        return set(cards.scalars()) | set(alerts.scalars())

    async def _forget_outbox(self, lead_ids: list[str]) -> set[str]:
        """Payloads may quote the person; unsent posts about them are not sent at all.
        Clearing the lease keeps a dispatcher mid-send from marking such a row sent.
        Returns the leads whose card was still unsent: a dispatcher may be posting it."""
        unsent = await self.connection.execute(
            select(t.outbox.c.lead_id).where(
                t.outbox.c.lead_id.in_(lead_ids),
                t.outbox.c.state == "pending",
                t.outbox.c.kind == Kind.LEAD_CARD,
            )
        )
        racing = set(unsent.scalars())
        await self.connection.execute(
            update(t.outbox).where(t.outbox.c.lead_id.in_(lead_ids)).values(payload={})
        )
        await self.connection.execute(
            update(t.outbox)
            .where(
                t.outbox.c.lead_id.in_(lead_ids),
                t.outbox.c.state == "pending",
                t.outbox.c.kind != Kind.CARD_UPDATE,
            )
            .values(state="cancelled", lease_owner=None, lease_until=None)
        )
        return racing

    async def _queue_redraws(self, posted: set[str], unsent: set[str], now: datetime) -> None:
        """Edit posted cards into "erased" cards now; where a card was still unsent, once
        more after any dispatcher's lease ran out. Leads with neither get nothing, so a
        retention batch of never-posted leads queues no Slack calls."""
        rows: list[dict[str, Any]] = [
            {**ErasureRedraw(lead_id).row(), "next_attempt_at": now} for lead_id in sorted(posted)
        ] + [
            {**ErasureRedraw(lead_id, late=True).row(), "next_attempt_at": now + LATE_REDRAW}
            for lead_id in sorted(unsent)
        ]
        if not rows:
            return
        statement = self._upsert(t.outbox).on_conflict_do_nothing(
            index_elements=[t.outbox.c.dedup_key]
        )
        await self.connection.execute(
            statement,
            [{**row, "created_at": now, "state": "pending", "attempts": 0} for row in rows],
        )

    async def expired(self, created_before: datetime, limit: int) -> list[str]:
        """Unerased leads older than the retention cut-off, oldest first. On PostgreSQL
        rows another replica is erasing are skipped, so replicas share the work."""
        query = (
            select(t.leads.c.id)
            .where(t.leads.c.erased_at.is_(None), t.leads.c.created_at < created_before)
            .order_by(t.leads.c.created_at)
            .limit(limit)
        )
        if self.is_postgres:
            query = query.with_for_update(skip_locked=True)
        return list((await self.connection.execute(query)).scalars())
