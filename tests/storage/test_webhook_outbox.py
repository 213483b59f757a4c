"""Webhook deliveries in the outbox, on SQLite and PostgreSQL: queued per wanting
endpoint with the lead as it was, claimed in order per lead and endpoint, dead-lettered
with one alert per failing endpoint, replayed with their own message ids.

Why: a receiver must never hear a lead's events out of order, a dead endpoint must page
its admins once (not once per lead), and nothing given up on may be lost.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from domain.webhooks import WebhookEndpoint
from harness.storage import T0, make_lead, migrated
from storage import tables as t
from storage.uow import Database
from storage.webhook_outbox import WebhookRepository

CRM = WebhookEndpoint(name="crm", url="https://crm.test/hook", secret_env="CRM_SECRET")
DIALER = WebhookEndpoint(
    name="dialer", url="https://dialer.test/hook", secret_env="DIALER", events=["lead.assigned"]
)
LEASE = T0 + timedelta(seconds=30)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    async with migrated(db_url) as database:
        yield database


async def stored_lead(db: Database, **fields: Any) -> str:
    lead = make_lead(**fields)
    async with db.transaction() as uow:
        await uow.leads.add(lead, idempotency_key=None, sla_policy=None)
    return lead.id


def event(lead_id: str, type_: str, seconds: int = 0) -> dict[str, Any]:
    return {"lead_id": lead_id, "at": T0 + timedelta(seconds=seconds), "type": type_,
            "actor": "leadrouter", "reason": None, "data": None}  # fmt: skip


async def queue(db: Database, *events: dict[str, Any]) -> int:
    async with db.transaction() as uow:
        repository = WebhookRepository(uow.connection)
        return await repository.queue(events, [CRM, DIALER], {"U0ALICE": "alice@example.com"})


async def claim(db: Database, owner: str = "w1", at: timedelta = timedelta(0)) -> list[Any]:
    async with db.transaction() as uow:
        return await WebhookRepository(uow.connection).claim(owner, T0 + at, LEASE + at, 50)


async def test_each_event_goes_to_the_endpoints_that_want_it(db: Database) -> None:
    lead = await stored_lead(db, owner="U0ALICE")
    queued = await queue(
        db, event(lead, "created"), event(lead, "assigned"), event(lead, "reminded")
    )
    assert queued == 3  # created -> crm; assigned -> crm and dialer; reminded -> nobody
    rows = await claim(db)
    assert [(row.target, row.payload["body"]["type"]) for row in rows] == [
        ("crm", "lead.created"),
        ("dialer", "lead.assigned"),
    ]  # fmt: skip  (crm's lead.assigned waits behind its lead.created)
    body = rows[1].payload["body"]
    assert body["data"]["owner"] == {"slack_id": "U0ALICE", "email": "alice@example.com"}
    assert rows[0].payload["id"].startswith("msg_")


async def test_a_leads_deliveries_go_one_at_a_time_in_order(db: Database) -> None:
    first, second = await stored_lead(db), await stored_lead(db)
    await queue(db, event(first, "created"), event(first, "routed"), event(second, "created"))
    rows = await claim(db)
    assert [(row.lead_id, row.payload["body"]["type"]) for row in rows] == [
        (first, "lead.created"), (second, "lead.created")
    ]  # fmt: skip
    assert await claim(db, "w2") == []  # leased, and the next of each lead waits
    async with db.transaction() as uow:
        repository = WebhookRepository(uow.connection)
        await repository.retry(rows[0].id, "w1", T0 + timedelta(seconds=10), "HTTP 503")
        await repository.delivered([rows[1]], "w1", T0)
    assert await claim(db, "w2") == []  # the first lead's retry still holds its next event
    [again] = await claim(db, "w2", timedelta(seconds=10))
    assert again.id == rows[0].id
    async with db.transaction() as uow:
        await WebhookRepository(uow.connection).delivered([again], "w2", T0)
    [nxt] = await claim(db, "w3", timedelta(seconds=10))
    assert nxt.payload["body"]["type"] == "lead.routed"


async def test_a_failing_endpoint_alerts_once_until_it_answers_again(db: Database) -> None:
    leads = [await stored_lead(db) for _ in range(3)]
    await queue(db, *(event(lead, "created") for lead in leads))
    rows = await claim(db)
    async with db.transaction() as uow:
        repository = WebhookRepository(uow.connection)
        alerts = [await repository.dead(row.id, "crm", "w1", T0, "HTTP 500") for row in rows[:2]]
        await repository.delivered([rows[2]], "w1", T0)
    assert alerts == [True, False]
    lead = await stored_lead(db)
    await queue(db, event(lead, "created"))
    [row] = await claim(db, "w2")
    async with db.transaction() as uow:
        assert await WebhookRepository(uow.connection).dead(row.id, "crm", "w2", T0, "HTTP 500")
    async with db.snapshot() as uow:
        states = (await uow.connection.execute(select(t.outbox.c.state))).scalars().all()
    assert sorted(states) == ["dead", "dead", "dead", "sent"]


async def test_only_the_lease_holder_finishes_a_delivery(db: Database) -> None:
    await queue(db, event(await stored_lead(db), "created"))
    [row] = await claim(db)
    async with db.transaction() as uow:
        assert not await WebhookRepository(uow.connection).dead(row.id, "crm", "intruder", T0, "x")


async def test_replay_resends_sent_and_dead_deliveries_with_their_ids_but_not_erased_ones(
    db: Database,
) -> None:
    kept, erased = await stored_lead(db), await stored_lead(db)
    await queue(db, event(kept, "created"), event(erased, "created"))
    rows = await claim(db)
    async with db.transaction() as uow:
        repository = WebhookRepository(uow.connection)
        await repository.delivered([rows[0]], "w1", T0)
        await repository.dead(rows[1].id, "crm", "w1", T0, "HTTP 500")
        await uow.privacy.erase([erased], T0, "test", "request")
    async with db.transaction() as uow:
        assert await WebhookRepository(uow.connection).replay(T0 - timedelta(hours=1), T0) == 1
    [again] = await claim(db, "w2")
    assert (again.id, again.payload["id"]) == (rows[0].id, rows[0].payload["id"])
    async with db.transaction() as uow:
        later = await WebhookRepository(uow.connection).replay(T0 + timedelta(hours=1), T0)
    assert later == 0
