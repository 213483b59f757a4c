"""A lead that left only a phone is the same lead when the same number comes again,
however it is spelled, within the dedup window; on SQLite and PostgreSQL.

Why: web forms often ask for a phone only; without a key for the number, every resend
of such a form paged a rep again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.services.configuration import ConfigService
from bot.services.intake import IntakeService
from bot.services.privacy import PrivacyService
from domain.config import load_config
from domain.lead import parse_lead
from harness.storage import T0, migrated
from storage.uow import Database

CONFIG = load_config(
    "version: 1\nreps: [{user: U0ALICE}]\n"
    "teams: [{name: t, members: [{user: U0ALICE}]}]\nrules: [{name: all, then: {team: t}}]\n"
)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    async with migrated(db_url) as database:
        async with database.transaction() as uow:
            await ConfigService().save(uow, CONFIG, "test", T0, "test")
        yield database


async def test_the_same_number_spelled_twice_is_one_lead(db: Database) -> None:
    def at(offset: timedelta) -> IntakeService:
        return IntakeService(db, ConfigService(), lambda: T0 + offset, lambda: None)

    first = await at(timedelta(0)).submit(
        "webform", parse_lead({"phone": "+1 (555) 867-5309"}), None
    )
    again = await at(timedelta(hours=1)).submit(
        "other", parse_lead({"phone": "555.867.5309", "country": "US"}), None
    )
    assert again.duplicate and again.lead.id == first.lead.id
    other = await at(timedelta(hours=1)).submit(
        "webform", parse_lead({"phone": "+1 555 867 5310"}), None
    )
    assert not other.duplicate
    later = await at(timedelta(days=2)).submit(
        "webform", parse_lead({"phone": "+15558675309"}), None
    )
    assert not later.duplicate  # outside the 24 h window


async def test_an_erased_phone_no_longer_deduplicates(db: Database) -> None:
    intake = IntakeService(db, ConfigService(), lambda: T0, lambda: None)
    first = await intake.submit("webform", parse_lead({"phone": "+44 20 7946 0958"}), None)
    await PrivacyService(db, ConfigService(), lambda: T0, lambda: None).erase(first.lead.id, "desk")
    again = await intake.submit("webform", parse_lead({"phone": "+44 20 7946 0958"}), None)
    assert not again.duplicate
