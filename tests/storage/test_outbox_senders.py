"""Replicas split Slack's limits: each dispatcher's heartbeat counts the live senders, and
each keeps to 1/N of the per-channel and workspace budgets (on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.worker.outbox import HEARTBEAT, SENDER_TIMEOUT, OutboxDispatcher
from harness.storage import T0, migrated
from storage.uow import Database


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    async with migrated(db_url) as database:
        yield database


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> datetime:
        return self.at


async def _beat(db: Database, worker: str, at: datetime) -> int:
    async with db.transaction() as uow:
        return await uow.senders.heartbeat(worker, at, at - SENDER_TIMEOUT)


async def test_heartbeats_count_the_live_senders_and_forget_the_silent(db: Database) -> None:
    assert await _beat(db, "a", T0) == 1
    assert await _beat(db, "b", T0 + timedelta(seconds=1)) == 2
    assert await _beat(db, "a", T0 + timedelta(seconds=10)) == 2  # a again: still two
    later = T0 + SENDER_TIMEOUT + timedelta(seconds=5)  # b silent since T0 + 1 s
    assert await _beat(db, "a", later) == 1
    assert await _beat(db, "c", later) == 2
    async with db.transaction() as uow:
        await uow.senders.leave("c")
    assert await _beat(db, "a", later + timedelta(seconds=1)) == 1


async def test_two_dispatchers_each_keep_to_half_and_one_leaving_gives_it_back(
    db: Database,
) -> None:
    clock = Clock()
    client = AsyncWebClient(token="xoxb-unused", base_url="http://127.0.0.1:9/")
    first = OutboxDispatcher(db, client, clock, "replica-1:3000")
    second = OutboxDispatcher(db, client, clock, "replica-2:3000")
    await first._heartbeat()
    assert (first.senders, first.budget.per_second, first.budget.burst) == (1, 1.0, 3)
    await second._heartbeat()
    assert (second.senders, second.budget.per_second) == (2, 0.5)
    await first._heartbeat()  # not due yet: still the old view
    assert first.senders == 1
    clock.at += HEARTBEAT
    await first._heartbeat()
    assert (first.senders, first.budget.per_second, first.budget.burst) == (2, 0.5, 2)

    await second._leave()
    clock.at += HEARTBEAT
    await first._heartbeat()
    assert (first.senders, first.budget.per_second, first.budget.burst) == (1, 1.0, 3)
