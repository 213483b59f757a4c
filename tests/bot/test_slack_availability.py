"""The refresher asks Slack only about reps of teams that opted in, only the methods
they need, and a Slack that fails leaves a rep's facts unknown (never blocking, never
inventing an absence)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.services.configuration import ConfigService
from bot.services.slack_availability import SlackAvailabilityRefresher, wanted_signals
from domain.config import load_config
from harness.storage import migrated
from storage.uow import Database
from tests.support.fake_slack import FakeSlack

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
CONFIG = load_config(
    """
reps: [{user: U0JANE}, {user: U0BOB}, {user: U0CARA}]
teams:
  - {name: status, members: [{user: U0JANE}, {user: U0BOB}],
     availability: {slack_status: true}}
  - {name: presence, members: [{user: U0BOB}], availability: {presence: true, dnd: true}}
  - {name: plain, members: [{user: U0CARA}]}
rules: [{name: all, then: {team: plain}}]
"""
)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    async with migrated(db_url) as database:
        async with database.transaction() as uow:
            await ConfigService().save(uow, CONFIG, "test", NOW, "test")
        yield database


def refresher(
    db: Database, fake_slack: FakeSlack, clock: list[datetime]
) -> SlackAvailabilityRefresher:
    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.url)
    return SlackAvailabilityRefresher(db, ConfigService(), lambda: clock[0], lambda: None, client)


def test_only_opted_in_reps_and_signals_are_wanted() -> None:
    wanted = wanted_signals(CONFIG)
    assert set(wanted) == {"U0JANE", "U0BOB"}
    assert (wanted["U0JANE"].status, wanted["U0JANE"].presence) == (True, False)
    assert (wanted["U0BOB"].status, wanted["U0BOB"].dnd, wanted["U0BOB"].presence) == (
        True,
        True,
        True,
    )


async def test_the_refresher_caches_what_slack_says_and_asks_again_only_when_due(
    db: Database, fake_slack: FakeSlack
) -> None:
    fake_slack.set_status("U0JANE", "Vacationing", ":palm_tree:", int(NOW.timestamp()) + 86400)
    fake_slack.set_presence("U0BOB", "away")
    clock = [NOW]
    worker = refresher(db, fake_slack, clock)
    assert await worker.refresh() == 2
    asked = sorted(call.method for call in fake_slack.calls)
    assert asked == ["dnd.info", "users.getPresence", "users.profile.get", "users.profile.get"]
    async with db.snapshot() as uow:
        signals = await uow.availability.signals(NOW - timedelta(minutes=5))
    jane = signals["U0JANE"].slack
    assert jane is not None and jane.status_text == "Vacationing"
    assert jane.status_expires_at == NOW + timedelta(days=1)
    bob = signals["U0BOB"].slack
    assert bob is not None and bob.presence == "away" and jane.presence is None
    fake_slack.reset()
    clock[0] = NOW + timedelta(seconds=30)
    assert await worker.refresh() == 0  # refresh_every (1m) not over yet
    assert fake_slack.calls == []
    clock[0] = NOW + timedelta(minutes=1)
    assert await worker.refresh() == 2


async def test_a_failing_method_leaves_that_fact_unknown(
    db: Database, fake_slack: FakeSlack
) -> None:
    fake_slack.set_presence("U0BOB", "away")
    fake_slack.fail("users.getPresence", status=500, retry_after=None, times=None)
    assert await refresher(db, fake_slack, [NOW]).refresh() == 2
    async with db.snapshot() as uow:
        bob = (await uow.availability.signals(NOW - timedelta(minutes=5)))["U0BOB"].slack
    assert bob is not None and bob.presence is None


async def test_when_slack_is_unreachable_nothing_is_written(db: Database) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url="http://127.0.0.1:9/api/", timeout=1)
    worker = SlackAvailabilityRefresher(db, ConfigService(), lambda: NOW, lambda: None, client)
    assert await worker.refresh() == 0
    async with db.snapshot() as uow:
        assert await uow.availability.signals(NOW - timedelta(minutes=5)) == {}
