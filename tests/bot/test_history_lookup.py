"""Looking a lost post up never fails its delivery: a public channel the bot is not in is
joined and read, a history that cannot be read means "post it", and only a rate limit or
a dead token stops the look-up (the row retries, still "maybe sent")."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.localslack import LocalSlack
from bot.worker.slack_transport import SlackTransport, tagged


@dataclass(frozen=True)
class Row:
    target: str
    id: int = 1
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(seconds=5))
    dedup_key: str = "card:lead-1"
    kind: str = "lead_card"
    lead_id: str | None = "lead-1"
    payload: dict[str, Any] = field(default_factory=dict)


async def _free(_method: str) -> None:
    return None


@pytest.fixture
def slack() -> Iterator[LocalSlack]:
    with LocalSlack() as workspace:
        yield workspace


def _transport(slack: LocalSlack) -> SlackTransport:
    client = AsyncWebClient(token="xoxb-test", base_url=slack.url, retry_handlers=[])
    return SlackTransport(client, _free)


async def test_a_public_channel_is_joined_to_find_the_post(slack: LocalSlack) -> None:
    transport, row = _transport(slack), Row("C0PUBLIC")
    posted = await transport.client.chat_postMessage(
        channel="C0PUBLIC", text="card", metadata=tagged(row)
    )
    assert await transport.posted_before(row) == ("C0PUBLIC", posted["ts"])
    assert slack.delivered("conversations.join")


async def test_an_unreadable_history_means_post_it(slack: LocalSlack) -> None:
    transport = _transport(slack)
    assert await transport.posted_before(Row("G0PRIVATE")) is None  # not invited
    slack.fail("conversations.history", "missing_scope", status=200)
    assert await transport.posted_before(Row("C0PUBLIC")) is None


async def test_a_rate_limit_or_a_dead_token_still_stops_the_look_up(slack: LocalSlack) -> None:
    transport = _transport(slack)
    slack.invite("G0PRIVATE")
    slack.fail("conversations.history", status=429)
    with pytest.raises(SlackApiError):
        await transport.posted_before(Row("G0PRIVATE"))
    slack.fail("conversations.history", "token_revoked", status=200)
    with pytest.raises(SlackApiError):
        await transport.posted_before(Row("G0PRIVATE"))
