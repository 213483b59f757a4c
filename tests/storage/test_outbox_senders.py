"""Replicas share Slack's limits: each dispatcher's heartbeat places it among the live
senders; each serves its shard of the targets with their whole per-channel budget (a
channel's burst is not split) and keeps to 1/N of the workspace-wide method limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, select

from bot.worker.outbox import HEARTBEAT, SENDER_TIMEOUT, OutboxDispatcher
from harness.storage import T0, migrated
from storage import tables as t
from storage.outbox import STRAY_AFTER
from storage.outbox_senders import Shard
from storage.uow import Database

LONG = timedelta(minutes=5)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    async with migrated(db_url) as database:
        yield database


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> datetime:
        return self.at


async def _beat(db: Database, worker: str, at: datetime) -> tuple[int, int]:
    async with db.transaction() as uow:
        shard = await uow.senders.heartbeat(worker, at, at - SENDER_TIMEOUT)
    return shard.rank, shard.count


async def test_heartbeats_place_the_live_senders_and_forget_the_silent(db: Database) -> None:
    assert await _beat(db, "b", T0) == (0, 1)
    assert await _beat(db, "a", T0 + timedelta(seconds=1)) == (0, 2)  # by name: a first
    assert await _beat(db, "b", T0 + timedelta(seconds=10)) == (1, 2)  # b again: second
    later = T0 + SENDER_TIMEOUT + timedelta(seconds=5)  # a silent since T0 + 1 s
    assert await _beat(db, "b", later) == (0, 1)
    assert await _beat(db, "c", later) == (1, 2)
    async with db.transaction() as uow:
        await uow.senders.leave("c")
    assert await _beat(db, "b", later + timedelta(seconds=1)) == (0, 1)


async def test_two_dispatchers_split_the_targets_and_one_leaving_gives_them_back(
    db: Database,
) -> None:
    clock = Clock()
    client = AsyncWebClient(token="xoxb-unused", base_url="http://127.0.0.1:9/")
    first = OutboxDispatcher(db, client, clock, "replica-1:3000")
    second = OutboxDispatcher(db, client, clock, "replica-2:3000")
    await first._heartbeat()
    assert first.shard == Shard(0, 1)
    await second._heartbeat()
    assert second.shard == Shard(1, 2)
    await first._heartbeat()  # not due yet: still the old view
    assert first.shard == Shard(0, 1)
    clock.at += HEARTBEAT
    await first._heartbeat()
    assert first.shard == Shard(0, 2)
    # each channel is one replica's: its whole budget, not half of it
    assert (first.budget.per_second, first.budget.burst) == (1.0, 3)
    # the workspace's method limits are everyone's: half each
    waits = [first.workspace.reserve("chat.update", clock.at, LONG) for _ in range(26)]
    assert waits[24] == timedelta(0) and waits[25] > timedelta(0)  # a burst of 25 of 50

    await second._leave()
    clock.at += HEARTBEAT
    await first._heartbeat()
    assert first.shard == Shard(0, 1)


@pytest.mark.postgres
async def test_each_target_is_claimed_by_one_shard_until_it_strays(postgres_db: str) -> None:
    """On PostgreSQL (replicas; SQLite is one process): two shards claim disjoint
    targets between them all, and a row left past due (its sender died) is taken by
    whichever sender comes."""
    async with migrated(postgres_db) as db:
        targets = [f"C0CHANNEL{index}" for index in range(40)]
        async with db.transaction() as uow:
            for target in targets:
                await uow.outbox.add(
                    dedup_key=f"alert:{target}", kind="alert", target=target, now=T0
                )
        claimed: dict[int, set[str]] = {}
        for rank in (0, 1):
            async with db.transaction() as uow:
                rows = await uow.outbox.claim_due(
                    f"r{rank}", T0, T0 + timedelta(seconds=30), 100, shard=Shard(rank, 2)
                )
            claimed[rank] = {row.target for row in rows}
        assert claimed[0] and claimed[1] and not claimed[0] & claimed[1]
        assert claimed[0] | claimed[1] == set(targets)

        async with db.transaction() as uow:
            await uow.outbox.add(dedup_key="alert:late", kind="alert", target="C0LATE", now=T0)
        owner = 0 if "C0LATE" in await _shard_targets(db, 0) else 1
        stranger = Shard(1 - owner, 2)
        async with db.transaction() as uow:
            soon = T0 + timedelta(seconds=1)
            assert await uow.outbox.claim_due("x", soon, soon, 100, shard=stranger) == []
        async with db.transaction() as uow:
            later = T0 + STRAY_AFTER + timedelta(seconds=1)
            (row,) = await uow.outbox.claim_due("x", later, later, 100, shard=stranger)
        assert row.target == "C0LATE"


async def _shard_targets(db: Database, rank: int) -> set[str]:
    """Which targets shard `rank` of two would claim, asked without claiming."""
    async with db.snapshot() as uow:
        bucket = (func.hashtext(t.outbox.c.target) % 2 + 2) % 2
        rows = await uow.connection.execute(select(t.outbox.c.target).where(bucket == rank))
        return set(rows.scalars())
