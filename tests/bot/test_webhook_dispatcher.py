"""The webhook dispatcher against a receiver on loopback: signed deliveries a Standard
Webhooks library verifies, retries with backoff on 5xx, 429 (after Retry-After) and
timeouts, dead letters after the budget with one admin alert per failing endpoint, and
4xx answers dead at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.services.configuration import ConfigService
from bot.worker.webhook_dispatcher import WebhookDispatcher
from domain.config import Config, load_config
from harness.storage import make_lead, migrated
from storage import tables as t
from storage.uow import Database
from storage.webhook_outbox import WebhookRepository
from tests.support.webhook_receiver import SECRET, WebhookReceiver

ENV = {"CRM_SECRET": SECRET}


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


@dataclass
class Setup:
    db: Database
    config: Config
    dispatcher: WebhookDispatcher
    clock: list[datetime]

    def advance(self, seconds: float) -> None:
        self.clock[0] += timedelta(seconds=seconds)

    async def lead_events(self, *types: str) -> str:
        lead = make_lead(owner="U0ALICE", created_at=self.clock[0])
        async with self.db.transaction() as uow:
            await uow.leads.add(lead, idempotency_key=None, sla_policy=None)
            events = [{"lead_id": lead.id, "at": self.clock[0], "type": type_, "actor": "test",
                       "reason": None, "data": None} for type_ in types]  # fmt: skip
            await WebhookRepository(uow.connection).queue(
                events, self.config.webhooks, {"U0ALICE": "alice@example.com"}
            )
        return lead.id

    async def outbox(self, kind: str = "webhook") -> list[Any]:
        async with self.db.snapshot() as uow:
            query = select(t.outbox).where(t.outbox.c.kind == kind).order_by(t.outbox.c.id)
            return list((await uow.connection.execute(query)).all())


@pytest.fixture
async def setup(receiver: WebhookReceiver, db_url: str) -> AsyncIterator[Setup]:
    clock = [datetime.now(UTC)]
    config = load_config(f"""
admins: [U0ADMIN]
reps: [{{user: U0ALICE, email: alice@example.com}}]
webhooks:
  - {{name: crm, url: "{receiver.url}", secret_env: CRM_SECRET, timeout: 1s,
      max_attempts: 3, backoff: 10s}}
""")  # fmt: skip
    async with migrated(db_url) as db:
        configs = ConfigService()
        async with db.transaction() as uow:
            await configs.save(uow, config, "test", clock[0], "test")
        dispatcher = WebhookDispatcher(db, configs, lambda: clock[0], "replica-1", ENV)
        yield Setup(db, config, dispatcher, clock)
        await dispatcher.close()


async def test_a_delivery_is_signed_and_carries_the_owner(
    setup: Setup, receiver: WebhookReceiver
) -> None:
    lead = await setup.lead_events("assigned")
    assert await setup.dispatcher.drain() == 1
    [delivery] = receiver.received()
    assert delivery.verified
    assert delivery.type == "lead.assigned"
    assert delivery.body["data"]["owner"] == {"slack_id": "U0ALICE", "email": "alice@example.com"}
    assert delivery.lead_id == lead
    [row] = await setup.outbox()
    assert (row.state, row.payload["id"]) == ("sent", delivery.webhook_id)


async def test_5xx_429_and_timeouts_retry_with_backoff_under_the_same_id(
    setup: Setup, receiver: WebhookReceiver
) -> None:
    await setup.lead_events("created")
    receiver.answer(500)
    receiver.answer(429, retry_after=30)
    assert await setup.dispatcher.drain() == 1
    [row] = await setup.outbox()
    assert (row.state, row.attempts, row.next_attempt_at) == (
        "pending",
        1,
        setup.clock[0] + timedelta(seconds=10),
    )
    setup.advance(10)
    assert await setup.dispatcher.drain() == 1
    [row] = await setup.outbox()
    assert row.next_attempt_at == setup.clock[0] + timedelta(seconds=30)  # Retry-After > 20s
    setup.advance(30)
    assert await setup.dispatcher.drain() == 1
    ids = {item.webhook_id for item in receiver.received()}
    assert len(receiver.received()) == 3 and len(ids) == 1
    assert [item.status for item in receiver.received()] == [500, 429, 200]
    assert (await setup.outbox())[0].state == "sent"


async def test_a_timeout_is_retried(setup: Setup, receiver: WebhookReceiver) -> None:
    await setup.lead_events("created")
    receiver.answer(200, after=1.5)
    await setup.dispatcher.drain()
    [row] = await setup.outbox()
    assert row.state == "pending" and "no answer within" in row.error


async def test_a_dead_endpoint_alerts_its_admins_once_and_keeps_every_delivery(
    setup: Setup, receiver: WebhookReceiver
) -> None:
    receiver.down()
    for _ in range(3):
        await setup.lead_events("created")
    for _ in range(3):
        await setup.dispatcher.drain()
        setup.advance(30)  # past each backoff (10 s, 20 s); receivers refuse a 5-min-old stamp
    rows = await setup.outbox()
    assert [row.state for row in rows] == ["dead", "dead", "dead"]
    assert all(row.payload["body"] for row in rows)  # kept, to be replayed
    alerts = await setup.outbox("alert")
    assert [alert.target for alert in alerts] == ["U0ADMIN"]
    assert "crm is failing (HTTP 503)" in alerts[0].payload["text"]
    assert "after 3 attempts" in alerts[0].payload["text"]
    assert "leadrouter webhooks replay --since" in alerts[0].payload["text"]


async def test_a_4xx_is_dead_at_once(setup: Setup, receiver: WebhookReceiver) -> None:
    await setup.lead_events("created")
    receiver.answer(410)
    await setup.dispatcher.drain()
    [row] = await setup.outbox()
    assert (row.state, row.attempts) == ("dead", 1)


async def test_a_missing_secret_is_retried_not_sent_unsigned(
    setup: Setup, receiver: WebhookReceiver
) -> None:
    await setup.lead_events("created")
    setup.dispatcher.environ = {}
    await setup.dispatcher.drain()
    assert receiver.received() == []
    [row] = await setup.outbox()
    assert row.state == "pending" and "CRM_SECRET" in row.error
