"""Periods are counted in the reader's Slack timezone, asked once and remembered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from slack_sdk.web.async_client import AsyncWebClient

from bot.services.stats import TimezoneCache
from tests.support.fake_slack import FakeSlack


async def test_timezone_is_asked_once_then_again_after_the_ttl(fake_slack: FakeSlack) -> None:
    fake_slack.add_user("U0TOKYO", tz="Asia/Tokyo")
    now = [datetime(2026, 11, 24, tzinfo=UTC)]
    cache = TimezoneCache(
        AsyncWebClient(token="xoxb-test", base_url=fake_slack.url), lambda: now[0]
    )
    assert await cache.zone("U0TOKYO") == ZoneInfo("Asia/Tokyo")
    assert await cache.zone("U0TOKYO") == ZoneInfo("Asia/Tokyo")
    assert len(fake_slack.calls_to("users.info")) == 1
    now[0] += cache.ttl + timedelta(seconds=1)
    await cache.zone("U0TOKYO")
    assert len(fake_slack.calls_to("users.info")) == 2


async def test_a_slack_failure_falls_back_to_utc_and_is_not_remembered(
    fake_slack: FakeSlack,
) -> None:
    fake_slack.add_user("U0PARIS", tz="Europe/Paris")
    fake_slack.fail("users.info", "user_not_found", status=200)
    cache = TimezoneCache(
        AsyncWebClient(token="xoxb-test", base_url=fake_slack.url),
        lambda: datetime(2026, 11, 24, tzinfo=UTC),
    )
    assert await cache.zone("U0PARIS") == ZoneInfo("UTC")
    assert await cache.zone("U0PARIS") == ZoneInfo("Europe/Paris")  # asked again, answered
