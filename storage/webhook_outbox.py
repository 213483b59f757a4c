"""Webhook deliveries in the one outbox: queued in the causing transaction, claimed in
order per lead and endpoint, finished as sent, retried or dead, replayed on request.

A delivery is an outbox row of kind `webhook`: `target` is the endpoint's name, the
payload holds the Standard Webhooks message id (the same on every retry and replay) and
the body as it was when the event happened. A row is not claimed while an earlier row
for the same lead and endpoint is still pending (waiting, retrying or leased): a
receiver never hears `lead.contacted` before `lead.assigned`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.config import Config, validate_config
from domain.messages import Kind, WebhookDelivery
from domain.webhooks import WebhookEndpoint, webhook_body, webhook_type
from storage import tables as t
from storage.configs import ConfigRepository
from storage.leads import LeadRepository
from storage.outbox import OutboxRepository
from storage.repository import Repository

WEBHOOK_KIND = Kind.WEBHOOK
SENT, PENDING, DEAD = "sent", "pending", "dead"


def message_id() -> str:
    """A Standard Webhooks message id: unique, and kept by every retry and replay."""
    return f"msg_{uuid.uuid4().hex}"


class WebhookRepository(Repository):
    async def queue(
        self,
        events: Sequence[Mapping[str, Any]],
        endpoints: Sequence[WebhookEndpoint],
        owner_emails: Mapping[str, str],
    ) -> int:
        """Queue a delivery per (timeline event, endpoint that wants its type), each body
        built from the lead as this transaction leaves it. Returns how many."""
        wanted = [
            (event, kind)
            for event in events
            if (kind := webhook_type(event["type"])) is not None
            and any(endpoint.wants(kind) for endpoint in endpoints)
        ]
        if not wanted:
            return 0
        leads = await LeadRepository(self.connection).get_many(
            {event["lead_id"] for event, _ in wanted}
        )
        deliveries = []
        for event, kind in wanted:
            lead = leads.get(event["lead_id"])
            if lead is None:
                continue
            email = owner_emails.get(lead.owner) if lead.owner else None
            body = webhook_body(kind, event["at"], lead, dict(event), email)
            deliveries += [
                WebhookDelivery(endpoint.name, message_id(), lead.id, body)
                for endpoint in endpoints
                if endpoint.wants(kind)
            ]
        if deliveries:
            now = max(event["at"] for event, _ in wanted)
            await OutboxRepository(self.connection).queue(deliveries, now)
        return len(deliveries)

    async def any_due(self, now: datetime) -> bool:
        """Whether a delivery may be due: a read, so an idle dispatcher never takes
        SQLite's write lock from intake."""
        query = (
            select(t.outbox.c.id)
            .where(
                t.outbox.c.state == PENDING,
                t.outbox.c.next_attempt_at <= now,
                t.outbox.c.kind == WEBHOOK_KIND,
            )
            .limit(1)
        )
        return (await self.connection.execute(query)).first() is not None

    async def claim(
        self, owner: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[Row[Any]]:
        """Lease up to `limit` due deliveries, each the oldest pending one of its lead and
        endpoint; a crashed owner's lease expires and the row is due again."""
        row, earlier = t.outbox, t.outbox.alias("earlier")
        due = and_(
            row.c.kind == WEBHOOK_KIND,
            row.c.state == PENDING,
            row.c.next_attempt_at <= now,
            or_(row.c.lease_until.is_(None), row.c.lease_until < now),
            ~exists().where(
                earlier.c.lead_id == row.c.lead_id,
                earlier.c.kind == WEBHOOK_KIND,
                earlier.c.target == row.c.target,
                earlier.c.state == PENDING,
                earlier.c.id < row.c.id,
            ),
        )
        query = select(row.c.id).where(due).order_by(row.c.id).limit(limit)
        if self.is_postgres:
            query = query.with_for_update(skip_locked=True)
        ids = list((await self.connection.execute(query)).scalars())
        if not ids:
            return []
        await self.connection.execute(
            update(row)
            .where(row.c.id.in_(ids), row.c.state == PENDING)
            .values(lease_owner=owner, lease_until=lease_until)
        )
        leased = await self.connection.execute(
            select(row).where(row.c.id.in_(ids), row.c.lease_owner == owner).order_by(row.c.id)
        )
        return list(leased.all())

    async def delivered(self, rows: Sequence[Row[Any]], owner: str, now: datetime) -> None:
        """Mark sent; an endpoint that answers again may alert again when it next fails."""
        if not rows:
            return
        await self.connection.execute(
            update(t.outbox)
            .where(t.outbox.c.id.in_([r.id for r in rows]), t.outbox.c.lease_owner == owner)
            .values(state=SENT, sent_at=now, lease_owner=None, lease_until=None, error=None)
        )
        await self.connection.execute(
            update(t.webhook_endpoints)
            .where(
                t.webhook_endpoints.c.name.in_({r.target for r in rows}),
                t.webhook_endpoints.c.alerted_at.is_not(None),
            )
            .values(alerted_at=None)
        )

    async def retry(self, row_id: int, owner: str, at: datetime, error: str) -> None:
        await self.connection.execute(
            update(t.outbox)
            .where(t.outbox.c.id == row_id, t.outbox.c.lease_owner == owner)
            .values(
                attempts=t.outbox.c.attempts + 1,
                next_attempt_at=at,
                error=error,
                lease_owner=None,
                lease_until=None,
            )
        )

    async def dead(self, row_id: int, endpoint: str, owner: str, now: datetime, error: str) -> bool:
        """Dead-letter a delivery. True when its endpoint's admins have not been told yet
        (compare-and-set: two replicas killing rows at once alert once)."""
        result = await self.connection.execute(
            update(t.outbox)
            .where(t.outbox.c.id == row_id, t.outbox.c.lease_owner == owner)
            .values(
                state=DEAD,
                attempts=t.outbox.c.attempts + 1,
                error=error,
                lease_owner=None,
                lease_until=None,
            )
        )
        if result.rowcount != 1:
            return False
        await self.connection.execute(
            self._upsert(t.webhook_endpoints)
            .values(name=endpoint)
            .on_conflict_do_nothing(index_elements=[t.webhook_endpoints.c.name])
        )
        alerted = await self.connection.execute(
            update(t.webhook_endpoints)
            .where(
                t.webhook_endpoints.c.name == endpoint, t.webhook_endpoints.c.alerted_at.is_(None)
            )
            .values(alerted_at=now, last_error=error)
        )
        return alerted.rowcount == 1

    async def replay(
        self, since: datetime, now: datetime, endpoints: Iterable[str] | None = None
    ) -> int:
        """Deliver again every sent or dead delivery queued since `since`, with its own
        message id (receivers drop what they already have) and in its original order.
        Erased leads' deliveries were emptied and stay as they are."""
        where = [
            t.outbox.c.kind == WEBHOOK_KIND,
            t.outbox.c.state.in_([SENT, DEAD]),
            t.outbox.c.created_at >= since,
        ]
        if endpoints is not None:
            where.append(t.outbox.c.target.in_(list(endpoints)))
        rows = await self.connection.execute(
            select(t.outbox.c.id, t.outbox.c.payload).where(*where)
        )
        ids = [row.id for row in rows if row.payload.get("body")]
        if ids:
            await self.connection.execute(
                update(t.outbox)
                .where(t.outbox.c.id.in_(ids))
                .values(state=PENDING, attempts=0, next_attempt_at=now, error=None, sent_at=None)
            )
        return len(ids)


class EndpointCache:
    """The configured endpoints and reps' emails, parsed once per configuration version
    (one per Database, so a replica reads a new version on its next transaction)."""

    def __init__(self) -> None:
        self._version: int | None = None
        self._parsed: tuple[list[WebhookEndpoint], dict[str, str]] = ([], {})

    async def current(
        self, connection: AsyncConnection
    ) -> tuple[list[WebhookEndpoint], dict[str, str]]:
        configs = ConfigRepository(connection)
        version = await configs.latest_id()
        if version != self._version:
            latest = await configs.latest()
            config = validate_config(latest[1]) if latest else Config()
            emails = {rep.user: rep.email for rep in config.reps if rep.user and rep.email}
            self._version, self._parsed = version, (list(config.webhooks), emails)
        return self._parsed


class TimelineWebhooks:
    """Timeline events written in one transaction, turned into deliveries just before it
    commits: the deliveries commit (or roll back) with their cause, and each body shows
    the lead as the whole transaction left it."""

    def __init__(self, connection: AsyncConnection, endpoints: EndpointCache):
        self.connection = connection
        self.endpoints = endpoints
        self.events: list[Mapping[str, Any]] = []

    def note(self, events: Iterable[Mapping[str, Any]]) -> None:
        self.events.extend(events)

    async def flush(self) -> int:
        if not self.events:
            return 0
        events, self.events = self.events, []
        endpoints, emails = await self.endpoints.current(self.connection)
        if not endpoints:
            return 0
        return await WebhookRepository(self.connection).queue(events, endpoints, emails)
