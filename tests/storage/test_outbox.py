"""OutboxRepository: queued once, leased to one owner, finished only by that owner.

Why: the outbox is how a 201 becomes a Slack message exactly once. Two replicas drain the
same table; a lease must never be handed to two of them, a crashed holder's lease must
expire so another takes over, and a holder that lost its lease must not overwrite the
new holder's outcome.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Row

from harness.storage import T0, migrated, race_as_two_replicas
from storage import tables as t
from storage.uow import Database

LEASE = timedelta(seconds=60)
ROWS = 200


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    async with migrated(db_url) as database:
        yield database


async def _queue(db: Database, count: int, at: datetime = T0) -> None:
    async with db.transaction() as uow:
        for index in range(count):
            await uow.outbox.add(
                dedup_key=f"lead_card:L{index}:U0ALICE",
                kind="lead_card",
                target="U0ALICE",
                lead_id=f"L{index}",
                now=at,
            )


async def _rows(db: Database) -> dict[int, Row[Any]]:
    async with db.snapshot() as uow:
        rows = (await uow.connection.execute(select(t.outbox).order_by(t.outbox.c.id))).all()
    return {row.id: row for row in rows}


# ---------------------------------------------------------------- queueing


async def test_the_same_dedup_key_twice_is_queued_once(db: Database) -> None:
    async with db.transaction() as uow:
        await uow.outbox.add(
            dedup_key="lead_card:L1:U0ALICE", kind="lead_card", target="U0ALICE", now=T0
        )
    async with db.transaction() as uow:  # a retried transaction, another replica...
        await uow.outbox.add(
            dedup_key="lead_card:L1:U0ALICE",
            kind="lead_card",
            target="U0BOB",
            now=T0 + timedelta(seconds=5),
            payload={"changed": True},
        )
        await uow.outbox.add(
            dedup_key="lead_card:L1:U0ALICE", kind="lead_card", target="U0BOB", now=T0
        )
    (row,) = (await _rows(db)).values()
    assert (row.target, row.payload, row.created_at) == ("U0ALICE", {}, T0)  # first one wins
    assert (row.state, row.attempts, row.next_attempt_at) == ("pending", 0, T0)


async def test_add_many_queues_each_dedup_key_once(db: Database) -> None:
    async with db.transaction() as uow:
        await uow.outbox.add(dedup_key="card:L1", kind="lead_card", target="U0A", now=T0)
    later = T0 + timedelta(seconds=1)
    message = {"kind": "card_update", "target": "L2", "lead_id": "L2", "payload": {}}
    async with db.transaction() as uow:
        await uow.outbox.add_many(
            [
                {**message, "dedup_key": "card:L1"},  # already queued
                {**message, "dedup_key": "card:L2"},
                {**message, "dedup_key": "card:L2"},  # twice in one batch
                {**message, "dedup_key": "card:L3", "payload": {"n": 3}},
            ],
            later,
        )
        await uow.outbox.add_many([], later)
    rows = {row.dedup_key: row for row in (await _rows(db)).values()}
    assert sorted(rows) == ["card:L1", "card:L2", "card:L3"]
    assert (rows["card:L1"].kind, rows["card:L1"].created_at) == ("lead_card", T0)
    assert (rows["card:L3"].payload, rows["card:L3"].next_attempt_at) == ({"n": 3}, later)
    assert {row.state for row in rows.values()} == {"pending"}


# ---------------------------------------------------------------- claiming


async def test_claim_due_leases_due_rows_in_order_up_to_the_limit(db: Database) -> None:
    await _queue(db, 5)
    async with db.transaction() as uow:
        await uow.outbox.add(
            dedup_key="later", kind="alert", target="U0A", now=T0 + timedelta(minutes=10)
        )
    now = T0 + timedelta(seconds=1)
    async with db.transaction() as uow:
        first = await uow.outbox.claim_due("A", now, now + LEASE, limit=3)
    async with db.transaction() as uow:
        rest = await uow.outbox.claim_due("A", now, now + LEASE, limit=10)
    async with db.transaction() as uow:
        none_left = await uow.outbox.claim_due("B", now, now + LEASE, limit=10)
    assert [row.lead_id for row in first] == ["L0", "L1", "L2"]
    assert [row.lead_id for row in rest] == ["L3", "L4"]  # not yet due: "later" stays
    assert none_left == []
    assert {(row.lease_owner, row.lease_until) for row in first + rest} == {("A", now + LEASE)}


async def test_two_replicas_never_lease_the_same_row(db_url: str, db: Database) -> None:
    """Two engines (two processes), two workers each, draining 200 rows concurrently."""
    await _queue(db, ROWS)
    other = Database(db_url)
    now = T0 + timedelta(seconds=1)
    claimed: dict[str, list[int]] = {}
    start = asyncio.Event()

    async def worker(database: Database, owner: str) -> None:
        mine = claimed.setdefault(owner, [])
        await start.wait()
        while True:
            async with database.transaction() as uow:
                rows = await uow.outbox.claim_due(owner, now, now + LEASE, limit=7)
            if not rows:
                return
            assert {row.lease_owner for row in rows} == {owner}
            mine.extend(row.id for row in rows)
            for row in rows:  # deliver, then finish: as the dispatcher does
                async with database.transaction() as uow:
                    await uow.outbox.mark_sent(row.id, owner, now)

    await race_as_two_replicas(db, other, worker, start)
    every = [row_id for ids in claimed.values() for row_id in ids]
    assert len(every) == ROWS
    assert len(set(every)) == ROWS  # nobody got a row someone else had
    rows = await _rows(db)
    assert {row.state for row in rows.values()} == {"sent"}
    assert {row.attempts for row in rows.values()} == {1}  # each finished exactly once


async def test_an_expired_lease_is_claimable_by_another_owner(db: Database) -> None:
    await _queue(db, 1)
    now = T0 + timedelta(seconds=1)
    async with db.transaction() as uow:
        (held,) = await uow.outbox.claim_due("crashed", now, now + LEASE, limit=10)
    async with db.transaction() as uow:
        during = await uow.outbox.claim_due("B", now + LEASE / 2, now + LEASE / 2 + LEASE, 10)
    at_expiry = now + LEASE
    async with db.transaction() as uow:
        exactly_at = await uow.outbox.claim_due("B", at_expiry, at_expiry + LEASE, limit=10)
    after = now + LEASE + timedelta(microseconds=1)
    async with db.transaction() as uow:
        (taken,) = await uow.outbox.claim_due("B", after, after + LEASE, limit=10)
    assert during == [] and exactly_at == []
    assert taken.id == held.id
    assert (taken.lease_owner, taken.lease_until) == ("B", after + LEASE)


# ---------------------------------------------------------------- finishing


async def test_only_the_lease_owner_can_finish_a_row(db: Database) -> None:
    """A holder whose lease expired and was taken over cannot overwrite the new holder."""
    await _queue(db, 3)
    now = T0 + timedelta(seconds=1)
    async with db.transaction() as uow:
        rows = await uow.outbox.claim_due("B", now, now + LEASE, limit=10)
    sent_id, retry_id, dead_id = (row.id for row in rows)
    later = now + timedelta(seconds=5)
    async with db.transaction() as uow:  # "A" (an old holder) tries everything: no effect
        await uow.outbox.mark_sent(sent_id, "A", later)
        await uow.outbox.retry_later(retry_id, "A", later + timedelta(minutes=1), "boom")
        await uow.outbox.mark_dead(dead_id, "A", "channel_not_found")
    untouched = await _rows(db)
    assert {row.state for row in untouched.values()} == {"pending"}
    assert {row.lease_owner for row in untouched.values()} == {"B"}
    assert {row.attempts for row in untouched.values()} == {0}
    assert {row.error for row in untouched.values()} == {None}

    async with db.transaction() as uow:  # the owner can
        await uow.outbox.mark_sent(sent_id, "B", later)
        await uow.outbox.retry_later(retry_id, "B", later + timedelta(minutes=1), "slack 500")
        await uow.outbox.mark_dead(dead_id, "B", "channel_not_found")
    done = await _rows(db)
    sent, retry, dead = done[sent_id], done[retry_id], done[dead_id]
    assert (sent.state, sent.sent_at, sent.attempts, sent.lease_owner) == ("sent", later, 1, None)
    assert (retry.state, retry.next_attempt_at, retry.attempts, retry.error) == (
        "pending",
        later + timedelta(minutes=1),
        1,
        "slack 500",
    )
    assert (retry.lease_owner, retry.lease_until) == (None, None)
    assert (dead.state, dead.attempts, dead.error, dead.lease_owner) == (
        "dead",
        1,
        "channel_not_found",
        None,
    )
    # A second finish by the same worker after it let go is refused too.
    async with db.transaction() as uow:
        await uow.outbox.mark_sent(retry_id, "B", later)
    assert (await _rows(db))[retry_id].state == "pending"


async def test_a_retry_becomes_due_again_and_uncounted_waits_keep_attempts(db: Database) -> None:
    await _queue(db, 1)
    now = T0 + timedelta(seconds=1)
    async with db.transaction() as uow:
        (row,) = await uow.outbox.claim_due("A", now, now + LEASE, limit=1)
        await uow.outbox.retry_later(row.id, "A", now + timedelta(seconds=30), "429", count=False)
    async with db.transaction() as uow:
        early = await uow.outbox.claim_due("A", now + timedelta(seconds=29), now + LEASE, 1)
    retry_at = now + timedelta(seconds=30)
    async with db.transaction() as uow:
        (again,) = await uow.outbox.claim_due("B", retry_at, retry_at + LEASE, limit=1)
    assert early == []
    assert (again.id, again.attempts, again.error, again.lease_owner) == (row.id, 0, "429", "B")


async def test_next_due_at_and_depth_see_only_pending_rows(db: Database) -> None:
    async with db.snapshot() as uow:
        assert await uow.outbox.next_due_at() is None
        assert await uow.outbox.depth() == 0
    await _queue(db, 3, at=T0 + timedelta(minutes=1))
    async with db.transaction() as uow:
        await uow.outbox.add(dedup_key="early", kind="alert", target="U0A", now=T0)
        await uow.outbox.add(
            dedup_key="later", kind="alert", target="U0A", now=T0 + timedelta(hours=1)
        )
    now = T0 + timedelta(seconds=1)
    async with db.transaction() as uow:
        (early,) = await uow.outbox.claim_due("A", now, now + LEASE, limit=1)
        await uow.outbox.mark_sent(early.id, "A", now)
    async with db.snapshot() as uow:
        next_due = await uow.outbox.next_due_at()
        depth = await uow.outbox.depth()
    assert early.dedup_key == "early"
    assert next_due == T0 + timedelta(minutes=1)  # the sent one no longer counts
    assert next_due is not None and next_due.utcoffset() == timedelta(0)
    assert depth == 4
    async with db.transaction() as uow:
        rows = await uow.outbox.claim_due("A", next_due, next_due + LEASE, limit=10)
        for row in rows:
            await uow.outbox.mark_dead(row.id, "A", "gone")
    async with db.snapshot() as uow:
        assert await uow.outbox.next_due_at() == T0 + timedelta(hours=1)
        assert await uow.outbox.depth() == 1
