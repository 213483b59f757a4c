"""Webhook deliveries are written by the transaction that causes them: intake, the
closed loop, erasure, on SQLite and PostgreSQL. A rolled-back change queues nothing; an
erasure cancels and empties what was pending and queues `lead.erased` with no data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.services.configuration import ConfigService
from bot.services.intake import IntakeService
from bot.services.leads import LeadActions
from bot.services.privacy import PrivacyService
from bot.services.timers import TimerSweeper
from domain.config import load_config
from domain.lead import LeadInput
from harness.storage import migrated
from storage import tables as t
from storage.uow import Database

CONFIG = load_config("""
admins: [U0ADMIN]
reps: [{user: U0ALICE, email: alice@example.com}]
teams: [{name: inbound, manager: U0MANAGER, members: [{user: U0ALICE}]}]
slas:
  demo_request:
    respond_within: 5m
    escalation: [{after: 0m, do: notify_manager}]
rules: [{name: all, then: {team: inbound}}]
webhooks:
  - {name: crm, url: "https://crm.test/hook", secret_env: CRM_SECRET}
  - {name: dialer, url: "https://dialer.test/hook", secret_env: DIALER_SECRET,
     events: [lead.assigned, lead.erased]}
""")
NURTURING = load_config("""
admins: [U0ADMIN]
reps: [{user: U0ALICE, email: alice@example.com}]
teams: [{name: inbound, manager: U0MANAGER, members: [{user: U0ALICE}]}]
rules: [{name: all, then: {team: inbound}}]
scoring:
  decides: model
  fit: [{label: 500+ employees, when: {employees: {gte: 500}}, points: 30}]
  mql_at: 50
webhooks:
  - {name: marketing, url: "https://automation.test/hook", secret_env: MA_SECRET,
     events: [lead.nurtured]}
  - {name: dialer, url: "https://dialer.test/hook", secret_env: DIALER_SECRET,
     events: [lead.assigned, lead.erased]}
""")
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@dataclass
class Services:
    db: Database
    intake: IntakeService
    actions: LeadActions
    privacy: PrivacyService
    timers: TimerSweeper
    clock: list[datetime]
    woken: list[int]

    async def deliveries(self, endpoint: str) -> list[Any]:
        async with self.db.snapshot() as uow:
            query = (
                select(t.outbox)
                .where(t.outbox.c.kind == "webhook", t.outbox.c.target == endpoint)
                .order_by(t.outbox.c.id)
            )
            return list((await uow.connection.execute(query)).all())


@pytest.fixture
async def services(db_url: str) -> AsyncIterator[Services]:
    async with migrated(db_url) as db:
        configs = ConfigService()
        async with db.transaction() as uow:
            await configs.save(uow, CONFIG, "test", NOW, "test")
        woken: list[int] = []
        db.on_webhooks = lambda: woken.append(1)
        clock = [NOW]
        args = (db, configs, lambda: clock[0], lambda: None)
        yield Services(
            db, IntakeService(*args), LeadActions(*args), PrivacyService(*args),
            TimerSweeper(*args), clock, woken,
        )  # fmt: skip


async def test_intake_and_the_closed_loop_queue_their_events_in_order(services: Services) -> None:
    result = await services.intake.submit("hubspot", LeadInput(email="ada@acme.com"), None)
    await services.actions.record_event(result.lead.id, "contacted", "crm", NOW, None)
    await services.actions.record_event(result.lead.id, "won", "crm", NOW, None)
    crm = await services.deliveries("crm")
    assert [row.payload["body"]["type"] for row in crm] == [
        "lead.created", "lead.routed", "lead.assigned", "lead.contacted", "lead.outcome"
    ]  # fmt: skip
    assert crm[2].payload["body"]["data"]["owner"] == {
        "slack_id": "U0ALICE", "email": "alice@example.com"
    }  # fmt: skip
    assert crm[4].payload["body"]["data"]["outcome"] == "won"
    assert [r.payload["body"]["type"] for r in await services.deliveries("dialer")] == [
        "lead.assigned"
    ]
    assert len({row.payload["id"] for row in crm}) == 5
    assert services.woken  # the dispatcher is told after the commit


async def test_a_nurtured_lead_tells_only_the_endpoints_subscribed_to_nurture(
    services: Services,
) -> None:
    async with services.db.transaction() as uow:
        await ConfigService().save(uow, NURTURING, "test", NOW, "test")
    result = await services.intake.submit("hubspot", LeadInput(email="ada@acme.com"), None)
    assert result.lead.status == "nurture"
    marketing = await services.deliveries("marketing")
    assert [row.payload["body"]["type"] for row in marketing] == ["lead.nurtured"]
    assert marketing[0].payload["body"]["data"]["status"] == "nurture"
    assert await services.deliveries("dialer") == []


async def test_timers_queue_the_breach_and_the_escalation(services: Services) -> None:
    lead = LeadInput(email="ada@acme.com", lead_type="demo_request")
    await services.intake.submit("hubspot", lead, None)
    services.clock[0] = NOW + timedelta(minutes=6)
    await services.timers.sweep()
    types = [row.payload["body"]["type"] for row in await services.deliveries("crm")]
    assert types[3:] == ["lead.sla_breached", "lead.escalated"]


async def test_a_rolled_back_change_queues_nothing(services: Services) -> None:
    result = await services.intake.submit("hubspot", LeadInput(email="ada@acme.com"), None)
    before = await services.deliveries("crm")
    with pytest.raises(RuntimeError):
        async with services.db.transaction() as uow:
            await uow.events.add(result.lead.id, NOW, "contacted", "test")
            raise RuntimeError("rolled back")
    assert await services.deliveries("crm") == before


async def test_erasure_scrubs_pending_deliveries_and_says_only_erased(services: Services) -> None:
    result = await services.intake.submit("hubspot", LeadInput(email="ada@acme.com"), None)
    await services.privacy.erase(result.lead.id, "dpo")
    rows = await services.deliveries("crm")
    assert [row.state for row in rows[:-1]] == ["cancelled"] * (len(rows) - 1)
    assert all(row.payload == {} for row in rows[:-1])
    erased = rows[-1]
    assert (erased.state, erased.payload["body"]["type"]) == ("pending", "lead.erased")
    assert set(erased.payload["body"]["data"]) == {"id", "erased_at"}
    assert "ada" not in str([row.payload for row in rows])
