"""Fixtures shared by the dispatcher's tests (tests.bot.outbox_stack)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.services.configuration import ConfigService
from harness.storage import migrated
from tests.bot.outbox_stack import CONFIG, NOW, Stack
from tests.support.fake_slack import FakeSlack


@pytest.fixture
async def stack(db_url: str, fake_slack: FakeSlack) -> AsyncIterator[Stack]:
    async with migrated(db_url) as db:
        async with db.transaction() as uow:
            await ConfigService().save(uow, CONFIG, "test", NOW, "test")
        yield Stack(db, fake_slack)
