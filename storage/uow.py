"""Unit of work: one transaction, the repositories bound to it, commit or roll back whole."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.availability import AvailabilityRepository
from storage.config_history import ConfigHistoryRepository
from storage.configs import ConfigRepository
from storage.counters import CounterRepository
from storage.deadlines import DeadlineRepository
from storage.deliveries import DeliveryRepository
from storage.engine import READ_ONLY, create_engine, is_sqlite
from storage.events import EventRepository
from storage.lead_messages import MessageRepository
from storage.leads import LeadRepository
from storage.outbox import OutboxRepository
from storage.outbox_digests import DigestRepository
from storage.outbox_senders import SenderRepository
from storage.privacy import PrivacyRepository
from storage.routing_state import RoutingRepository
from storage.scoring_store import ActivityRepository, ScoringQueries
from storage.stats_queries import StatsQueries
from storage.webhook_outbox import EndpointCache, TimelineWebhooks


class UnitOfWork:
    """Repositories sharing one connection and one transaction."""

    def __init__(self, connection: AsyncConnection, endpoints: EndpointCache | None = None):
        self.connection = connection
        self.webhooks = TimelineWebhooks(connection, endpoints or EndpointCache())
        self.configs = ConfigRepository(connection)
        self.counters = CounterRepository(connection, deferred=True)
        self.leads = LeadRepository(connection, self.counters)
        self.events = EventRepository(connection, self.webhooks.note)
        self.routing = RoutingRepository(connection)
        self.deadlines = DeadlineRepository(connection)
        self.outbox = OutboxRepository(connection)
        self.senders = SenderRepository(connection)
        self.messages = MessageRepository(connection)
        self.privacy = PrivacyRepository(connection, self.webhooks.note)
        self.deliveries = DeliveryRepository(connection)
        self.digests = DigestRepository(connection)
        self.config_history = ConfigHistoryRepository(connection)
        self.stats = StatsQueries(connection)
        self.availability = AvailabilityRepository(connection)
        self.activities = ActivityRepository(connection)
        self.scoring = ScoringQueries(connection)


class Database:
    """The application's handle on storage: `async with db.transaction() as uow: ...`."""

    def __init__(self, url: str, engine: AsyncEngine | None = None):
        self.url = url
        self.engine = engine or create_engine(url)
        # SQLite has one writer. Queueing this process's writers here, instead of letting
        # each pooled connection sleep in SQLite's busy handler (which backs off up to
        # 100 ms while the lock may already be free), keeps tail latency low.
        self._writer = asyncio.Lock() if is_sqlite(url) else contextlib.nullcontext()
        self.webhook_endpoints = EndpointCache()
        self.on_webhooks: Callable[[], None] = lambda: None
        """Called after a commit that queued webhook deliveries (wakes their dispatcher)."""

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        """Commit when the block ends normally, roll back when it raises. Just before the
        commit, the counters move and the timeline events written become webhook
        deliveries."""
        async with self._writer, self.engine.begin() as connection:
            uow = UnitOfWork(connection, self.webhook_endpoints)
            yield uow
            await uow.counters.flush()
            queued = await uow.webhooks.flush()
        if queued:
            self.on_webhooks()

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[UnitOfWork]:
        """A read-only transaction: on SQLite it takes no write lock, so it never waits
        behind intake."""
        async with self.engine.connect() as connection:
            await connection.execution_options(**{READ_ONLY: True})
            async with connection.begin():
                yield UnitOfWork(connection)

    async def dispose(self) -> None:
        await self.engine.dispose()
