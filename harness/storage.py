"""Storage helpers shared by the storage tests and bench/retention.py: a migrated
database, a lead record with sensible defaults, and a race between two replicas."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.lead import LeadInput, LeadStatus, Method
from domain.records import LeadRecord
from storage.migrate import upgrade_to_head
from storage.uow import Database

# A fixed instant with microseconds, so round trips prove sub-second precision survives.
T0 = datetime(2026, 11, 24, 9, 30, 15, 123456, tzinfo=UTC)


@asynccontextmanager
async def migrated(url: str) -> AsyncIterator[Database]:
    """A Database on ``url`` at the latest schema, disposed afterwards."""
    database = Database(url)
    try:
        await upgrade_to_head(database.engine)
        yield database
    finally:
        await database.dispose()


def make_lead(
    *,
    submitter: str = "webform",
    email: str | None = None,
    external_id: str | None = None,
    owner: str | None = None,
    status: LeadStatus = LeadStatus.NEW,
    created_at: datetime = T0,
    **fields: Any,
) -> LeadRecord:
    """A lead record with a fresh id; only what a test names differs from the defaults."""
    lead_id = uuid.uuid4().hex
    return LeadRecord(
        id=lead_id,
        created_at=created_at,
        submitter=submitter,
        fields=LeadInput(
            email=email or f"{lead_id[:10]}@prospect.io",
            external_id=external_id,
            lead_type=fields.pop("lead_type", "demo_request"),
            **fields,
        ),
        status=status,
        owner=owner,
        team="inbound" if owner else None,
        method=Method.PUSH,
        decision={"rule": "everyone else", "reasons": ["Rule “everyone else” matched"]},
        sla_due_at=created_at + timedelta(minutes=5),
        assigned_at=created_at if owner else None,
        contacted_at=None,
        version=1,
    )


async def race_as_two_replicas(
    db: Database,
    other: Database,
    work: Callable[[Database, str], Awaitable[None]],
    start: asyncio.Event,
) -> None:
    """Two workers on each of two engines (as two replicas would be), released together
    by `start`; `other` is disposed of afterwards."""
    try:
        tasks = [
            asyncio.create_task(work(database, f"{name}-{index}"))
            for name, database in (("replica1", db), ("replica2", other))
            for index in range(2)
        ]
        start.set()
        await asyncio.gather(*tasks)
    finally:
        await other.dispose()
