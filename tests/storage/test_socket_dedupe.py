"""Socket Mode dedupe through Bolt: a redelivered payload is acknowledged and not handled
again, on the same replica or another, on SQLite and PostgreSQL.

Why: in Socket Mode Slack redelivers an envelope it did not see acknowledged in time,
with nothing marking it as a retry, on any replica's connection; only the payload's own
id (event id, trigger id) tells it is the same.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.logs import request_id
from bot.slack.dedupe import KEEP, DeliveryDedupe, delivery_key
from harness.slack_signing import (
    app_home_opened_event,
    block_action_body,
    event_body,
    slash_command_body,
)
from harness.storage import T0, migrated
from storage.uow import Database
from tests.support.fake_slack import FakeSlack


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    async with migrated(db_url) as database:
        yield database


def _replica(db: Database, handled: list[str], slack: FakeSlack) -> AsyncApp:
    """A Bolt app wired as `serve` wires it in Socket Mode, with counting listeners."""
    client = AsyncWebClient(token="xoxb-test", base_url=slack.url)
    bolt = AsyncApp(client=client, request_verification_enabled=False)
    bolt.use(DeliveryDedupe(db, lambda: T0).middleware)

    @bolt.event("app_home_opened")
    async def home(ack: Any, event: dict[str, Any]) -> None:
        handled.append(f"home:{event['user']}")
        handled.append(f"request:{request_id.get()}")

    @bolt.action("claim_lead")
    async def claim(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        handled.append(f"claim:{body['actions'][0]['value']}")

    @bolt.command("/leads")
    async def leads(ack: Any, command: dict[str, Any]) -> None:
        await ack()
        handled.append(f"leads:{command['user_id']}")

    return bolt


def _interaction(form: bytes) -> dict[str, Any]:
    return json.loads(parse_qs(form.decode())["payload"][0])


def _command(form: bytes) -> dict[str, Any]:
    return {key: values[0] for key, values in parse_qs(form.decode()).items()}


async def _deliver(bolt: AsyncApp, body: dict[str, Any]) -> int:
    response = await bolt.async_dispatch(AsyncBoltRequest(mode="socket_mode", body=body))
    return response.status


async def test_a_redelivered_payload_is_acked_and_handled_once(
    db: Database, fake_slack: FakeSlack
) -> None:
    handled: list[str] = []
    bolt = _replica(db, handled, fake_slack)
    payloads = [
        json.loads(event_body(app_home_opened_event("U0ALICE"))),
        _interaction(block_action_body("claim_lead", "lead-1", "U0BOB")),
        _command(slash_command_body("/leads", user_id="U0CARA")),
    ]
    for body in payloads:
        assert await _deliver(bolt, body) == 200
        assert await _deliver(bolt, body) == 200  # the redelivery is acknowledged too
    (tagged,) = [entry for entry in handled if entry.startswith("request:")]
    assert len(tagged) == len("request:") + 32  # Socket Mode payloads get a request id
    handled.remove(tagged)
    assert sorted(handled) == ["claim:lead-1", "home:U0ALICE", "leads:U0CARA"]

    # A new press of the same button is a new interaction (new trigger id): handled.
    assert await _deliver(bolt, _interaction(block_action_body("claim_lead", "lead-1"))) == 200
    assert handled.count("claim:lead-1") == 2


async def test_redeliveries_racing_on_two_replicas_are_handled_once(
    db: Database, db_url: str, fake_slack: FakeSlack
) -> None:
    other = Database(db_url)
    try:
        handled: list[str] = []
        replicas = [_replica(db, handled, fake_slack), _replica(other, handled, fake_slack)]
        bodies = [json.loads(event_body(app_home_opened_event(f"U{i:04d}"))) for i in range(10)]
        await asyncio.gather(
            *(_deliver(replicas[n % 2], body) for body in bodies for n in range(4))
        )
    finally:
        await other.dispose()
    homes = [entry for entry in handled if entry.startswith("home:")]
    assert sorted(homes) == sorted(f"home:U{i:04d}" for i in range(10))
    assert len({entry for entry in handled if entry.startswith("request:")}) == 10


async def test_old_keys_are_forgotten(db: Database) -> None:
    clock = [T0]
    dedupe = DeliveryDedupe(db, lambda: clock[0])
    async with db.transaction() as uow:
        assert await uow.deliveries.first_time("event:Ev1", T0)
        assert not await uow.deliveries.first_time("event:Ev1", T0)
    clock[0] = T0 + KEEP - timedelta(seconds=1)
    assert await dedupe.forget_old() == 0
    clock[0] = T0 + KEEP + timedelta(seconds=1)
    assert await dedupe.forget_old() == 1


def test_keys_come_from_the_payloads_own_ids() -> None:
    assert delivery_key({"event_id": "Ev1", "trigger_id": "t"}) == "event:Ev1"
    assert delivery_key({"trigger_id": "123.456.abc"}) == "trigger:123.456.abc"
    assert delivery_key({"type": "view_closed"}) is None
