"""The door of /slack/events: unsigned garbage is refused before parsing, and a signed
request is good once, on any replica, on SQLite and PostgreSQL.

Why: Bolt parses before it verifies (garbage was a 500 with a traceback), and a captured
signed click could be sent again within the five-minute window to re-claim a lead.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.slack.dedupe import KEEP, DeliveryDedupe
from bot.slack.request_gate import SlackRequestGate
from harness.slack_signing import block_action_body, sign
from harness.storage import T0, migrated
from storage.uow import Database

SECRET = "signing-secret-for-tests"


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    async with migrated(db_url) as database:
        yield database


def headers(body: bytes, timestamp: int | None = None) -> dict[str, str]:
    signed = sign(SECRET, body, int(T0.timestamp()) if timestamp is None else timestamp)
    return {name.lower(): value for name, value in signed.items()}


@pytest.mark.parametrize(
    ("body", "timestamp", "signature"),
    [
        (b"[1]", None, None),
        (b"{x", None, None),
        (b"payload=%7B", "abc", "v0=00"),
        (b"payload=%7B", "", ""),
        (b"payload=%7B", str(int(T0.timestamp())), "v0=" + "0" * 64),
        (b"payload=%7B", "\u0661\u0662", "v0=00"),  # Arabic-Indic digits: int() reads them
    ],
)
async def test_garbage_costs_one_line_and_a_401(
    db: Database,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
) -> None:
    gate = SlackRequestGate(SECRET, db, lambda: T0)
    given = {}
    if timestamp is not None:
        given["x-slack-request-timestamp"] = timestamp
    if signature is not None:
        given["x-slack-signature"] = signature
    with caplog.at_level(logging.INFO):
        refusal = await gate.refusal(given, body)
    assert refusal is not None and refusal.status_code == 401
    assert len(caplog.records) == 1 and caplog.records[0].exc_info is None


async def test_a_signed_request_passes_once_on_any_replica(db: Database) -> None:
    body = block_action_body("claim_lead", "lead-1", user_id="U0ALICE", channel_id="C0SALES")
    first, second = (SlackRequestGate(SECRET, db, lambda: T0) for _ in range(2))
    assert await first.refusal(headers(body), body) is None
    replayed = await second.refusal(headers(body), body)
    assert replayed is not None and replayed.status_code == 401
    assert b"replay" in replayed.body
    later = int((T0 + timedelta(seconds=1)).timestamp())
    assert await first.refusal(headers(body, later), body) is None  # re-signed: Slack's retry


async def test_an_old_signature_is_refused_and_seen_ones_are_forgotten_later(
    db: Database,
) -> None:
    body = block_action_body("claim_lead", "lead-1", user_id="U0ALICE", channel_id="C0SALES")
    stale = int((T0 - timedelta(minutes=6)).timestamp())
    assert await SlackRequestGate(SECRET, db, lambda: T0).refusal(headers(body, stale), body)
    assert await SlackRequestGate(SECRET, db, lambda: T0).refusal(headers(body), body) is None
    assert await DeliveryDedupe(db, lambda: T0 + KEEP + timedelta(seconds=1)).forget_old() == 1
