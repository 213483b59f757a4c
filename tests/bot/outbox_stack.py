"""An outbox stack for the dispatcher's tests: intake, dispatcher and dead-letter service
over one database and the fake Slack, with a small configuration (two teams, a backup
each)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from bot.services.configuration import ConfigService
from bot.services.dead_letters import DeadLetterService
from bot.services.intake import IntakeService
from bot.worker.outbox import OutboxDispatcher
from domain.config import load_config
from domain.lead import LeadInput
from storage import tables as t
from storage.uow import Database
from tests.support.fake_slack import FakeSlack

NOW = datetime.now(UTC)  # the fake stamps messages with real time; history looks back
CONFIG = load_config(
    """
version: 1
admins: [U0ADMIN]
reps: [{user: U0ALICE}, {user: U0BOB}, {user: U0BACKUP}, {user: U0DAN}]
teams:
  - {name: inbound, channel: C0INBOUND, manager: U0MANAGER, backup: U0BACKUP,
     members: [{user: U0ALICE}, {user: U0BOB}]}
  - {name: health, channel: C0HEALTH, method: pull, manager: U0MANAGER, backup: U0DAN,
     members: [{user: U0DAN}]}
rules:
  - {name: health, when: {industry: healthcare}, then: {team: health}}
  - {name: all, then: {team: inbound}}
"""
)


class Stack:
    """Intake, dispatcher and dead-letter service over one database and the fake."""

    def __init__(self, db: Database, fake: FakeSlack):
        self.db = db
        self.fake = fake
        configs = ConfigService()
        self.client = AsyncWebClient(token="xoxb-test", base_url=fake.url)
        self.dispatcher = OutboxDispatcher(db, self.client, lambda: NOW, "replica-1")
        self.dispatcher.give_up = DeadLetterService(
            db, configs, lambda: NOW, self.dispatcher.wake
        ).give_up
        self.intake = IntakeService(db, configs, lambda: NOW, self.dispatcher.wake)

    async def lead(self, email: str, **fields: object) -> str:
        result = await self.intake.submit("webform", LeadInput(email=email, **fields), None)
        return result.lead.id

    async def drain(self) -> None:
        """Until nothing is left that is due now (dead letters queue alerts and cards)."""
        while await self.dispatcher.drain():
            pass

    async def outbox(self) -> list[object]:
        async with self.db.snapshot() as uow:
            return list((await uow.connection.execute(select(t.outbox))).all())

    def posts_to(self) -> Counter[str]:
        return Counter(call.params["channel"] for call in self.fake.delivered("chat.postMessage"))
