"""Routing state, SLA deadlines and posted-message records.

Why: rotation position and rep activity decide the next owner on every replica, so they
must live in the database and upsert cleanly; deadlines are the only timers (one row per
lead and step, never two); message records let state changes edit the card already sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from domain.sla import PlannedStep
from harness.storage import T0, make_lead, migrated, race_as_two_replicas
from storage import tables as t
from storage.uow import Database


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    async with migrated(db_url) as database:
        yield database


async def _lead_id(db: Database) -> str:
    lead = make_lead()
    async with db.transaction() as uow:
        await uow.leads.add(lead, idempotency_key=None, sla_policy=None)
    return lead.id


def _plan() -> list[PlannedStep]:
    return [
        PlannedStep("remind:0", "remind_owner", T0 + timedelta(minutes=2, seconds=30)),
        PlannedStep("breach", "breach", T0 + timedelta(minutes=5)),
        PlannedStep("escalate:0", "reassign", T0 + timedelta(minutes=5)),
        PlannedStep("escalate:1", "repost_to_channel", T0 + timedelta(minutes=10)),
    ]


# ---------------------------------------------------------------- routing state


async def test_save_credits_inserts_then_updates_in_place(db: Database) -> None:
    async with db.snapshot() as uow:
        assert await uow.routing.credits() == {}
    async with db.transaction() as uow:
        await uow.routing.lock()  # a no-op on SQLite, an advisory lock on PostgreSQL
        await uow.routing.save_credits("inbound", {"U0ALICE": -1, "U0BOB": 1})
        await uow.routing.save_credits("healthcare", {"U0DAN": 0})
    async with db.transaction() as uow:
        await uow.routing.save_credits("inbound", {"U0ALICE": 1, "U0BOB": -1})
    async with db.snapshot() as uow:
        credits = await uow.routing.credits()
        versions = dict(
            (
                await uow.connection.execute(
                    select(t.rotation_state.c.team, t.rotation_state.c.version)
                )
            ).all()
        )
    assert credits == {"inbound": {"U0ALICE": 1, "U0BOB": -1}, "healthcare": {"U0DAN": 0}}
    assert versions == {"inbound": 2, "healthcare": 1}


async def test_record_assignment_keeps_the_latest_time_per_rep(db: Database) -> None:
    async with db.transaction() as uow:
        await uow.routing.record_assignment("U0ALICE", T0)
        await uow.routing.record_assignment("U0BOB", T0 + timedelta(seconds=1))
    async with db.transaction() as uow:
        await uow.routing.record_assignment("U0ALICE", T0 + timedelta(minutes=3))
    async with db.snapshot() as uow:
        last = await uow.routing.last_assigned()
    assert last == {"U0ALICE": T0 + timedelta(minutes=3), "U0BOB": T0 + timedelta(seconds=1)}
    assert all(at.utcoffset() == timedelta(0) for at in last.values())


# ---------------------------------------------------------------- deadlines


async def test_add_many_stores_every_step_in_due_order(db: Database) -> None:
    lead_id = await _lead_id(db)
    async with db.transaction() as uow:
        await uow.deadlines.add_many(lead_id, list(reversed(_plan())))
        await uow.deadlines.add_many(lead_id, [])  # nothing to plan: no statement, no error
    async with db.snapshot() as uow:
        rows = await uow.deadlines.for_lead(lead_id)
    assert [row.due_at for row in rows] == sorted(step.due_at for step in _plan())
    assert {(row.step, row.action, row.due_at) for row in rows} == {
        (step.step, step.action, step.due_at) for step in _plan()
    }
    assert {row.state for row in rows} == {"pending"}
    assert all(row.fired_at is None for row in rows)


async def test_one_deadline_per_lead_and_step(db: Database) -> None:
    """Planning the same step twice fails whole: a timer can never fire twice."""
    lead_id = await _lead_id(db)
    async with db.transaction() as uow:
        await uow.deadlines.add_many(lead_id, _plan())
    with pytest.raises(IntegrityError):
        async with db.transaction() as uow:
            await uow.deadlines.add_many(
                lead_id, [PlannedStep("breach", "breach", T0 + timedelta(hours=1))]
            )
    other = await _lead_id(db)
    async with db.transaction() as uow:
        await uow.deadlines.add_many(other, _plan())  # the same steps for another lead: fine
    async with db.snapshot() as uow:
        assert len(await uow.deadlines.for_lead(lead_id)) == len(_plan())
        assert len(await uow.deadlines.for_lead(other)) == len(_plan())


async def test_deadlines_need_an_existing_lead(db: Database) -> None:
    with pytest.raises(IntegrityError):
        async with db.transaction() as uow:
            await uow.deadlines.add_many("no-such-lead", _plan())


async def test_cancel_pending_cancels_only_pending_steps_of_that_lead(db: Database) -> None:
    lead_id, other = await _lead_id(db), await _lead_id(db)
    async with db.transaction() as uow:
        await uow.deadlines.add_many(lead_id, _plan())
        await uow.deadlines.add_many(other, _plan())
        await uow.connection.execute(
            update(t.deadlines)
            .where(t.deadlines.c.lead_id == lead_id, t.deadlines.c.step == "remind:0")
            .values(state="done", fired_at=T0 + timedelta(minutes=3))
        )
    contacted = T0 + timedelta(minutes=4)
    async with db.transaction() as uow:
        cancelled = await uow.deadlines.cancel_pending(lead_id, contacted)
    async with db.transaction() as uow:
        again = await uow.deadlines.cancel_pending(lead_id, contacted)
    async with db.snapshot() as uow:
        rows = {row.step: row for row in await uow.deadlines.for_lead(lead_id)}
        untouched = await uow.deadlines.for_lead(other)
    assert cancelled == len(_plan()) - 1
    assert again == 0
    assert rows["remind:0"].state == "done"
    assert rows["remind:0"].fired_at == T0 + timedelta(minutes=3)
    assert {row.state for step, row in rows.items() if step != "remind:0"} == {"cancelled"}
    assert {row.fired_at for step, row in rows.items() if step != "remind:0"} == {contacted}
    assert {row.state for row in untouched} == {"pending"}


async def test_due_returns_pending_due_steps_in_order_and_finish_is_once(db: Database) -> None:
    lead_id = await _lead_id(db)
    async with db.transaction() as uow:
        await uow.deadlines.add_many(lead_id, _plan())
    at_breach = T0 + timedelta(minutes=5)
    async with db.transaction() as uow:
        two = await uow.deadlines.due(at_breach, limit=2)
        all_due = await uow.deadlines.due(at_breach, limit=10)
        first = await uow.deadlines.finish(two[0].id, "done", at_breach)
        again = await uow.deadlines.finish(two[0].id, "failed", at_breach, "late")
        await uow.deadlines.finish_many(
            [{"row_id": row.id, "new_state": "done", "error": None} for row in all_due[1:]],
            at_breach,
        )
        await uow.deadlines.finish_many([], at_breach)
    async with db.snapshot() as uow:
        rows = {row.step: row for row in await uow.deadlines.for_lead(lead_id)}
        next_due = await uow.deadlines.next_due_at()
        overdue_late = await uow.deadlines.overdue(T0 + timedelta(hours=1))
        overdue_now = await uow.deadlines.overdue(at_breach)
    assert [row.step for row in two] == ["remind:0", "breach"]  # due order, then id order
    assert [row.step for row in all_due] == ["remind:0", "breach", "escalate:0"]
    assert (first, again) == (True, False)
    assert rows["remind:0"].state == "done" and rows["remind:0"].error is None
    assert {rows[step].state for step in ("breach", "escalate:0")} == {"done"}
    assert rows["escalate:1"].state == "pending" and rows["escalate:1"].fired_at is None
    assert next_due == T0 + timedelta(minutes=10)
    assert (overdue_late, overdue_now) == (1, 0)


async def test_two_replicas_never_fire_the_same_step(db_url: str, db: Database) -> None:
    """Claim and effect in one transaction, from two engines at once: each step once."""
    steps = [
        PlannedStep(f"remind:{index}", "remind_owner", T0 + timedelta(seconds=index))
        for index in range(25)
    ]
    for _ in range(4):
        lead_id = await _lead_id(db)
        async with db.transaction() as uow:
            await uow.deadlines.add_many(lead_id, steps)
    other = Database(db_url)
    now = T0 + timedelta(minutes=1)
    fired: dict[str, list[int]] = {}
    refused: list[int] = []
    start = asyncio.Event()

    async def sweeper(database: Database, name: str) -> None:
        mine = fired.setdefault(name, [])
        await start.wait()
        while True:
            async with database.transaction() as uow:
                rows = await uow.deadlines.due(now, limit=7)
                for row in rows:
                    if await uow.deadlines.finish(row.id, "done", now):
                        mine.append(row.id)
                    else:
                        refused.append(row.id)
            if not rows:
                return

    await race_as_two_replicas(db, other, sweeper, start)
    every = [row_id for ids in fired.values() for row_id in ids]
    assert refused == []  # due() never handed out a step another sweeper was firing
    assert len(every) == len(set(every)) == 4 * len(steps)
    async with db.snapshot() as uow:
        assert await uow.deadlines.next_due_at() is None


async def test_claim_gives_a_step_once_and_never_one_another_transaction_holds(
    db_url: str, db: Database
) -> None:
    """The sweeper's retry reads due steps outside its transaction: each must be claimed
    again before it fires, or a step another replica is firing fires twice."""
    lead_id = await _lead_id(db)
    async with db.transaction() as uow:
        await uow.deadlines.add_many(lead_id, _plan()[:1])
        (row,) = await uow.deadlines.for_lead(lead_id)
    holder_has_it, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with db.transaction() as uow:
            assert await uow.deadlines.claim(row.id) is not None
            holder_has_it.set()
            await release.wait()
            await uow.deadlines.finish(row.id, "done", T0)

    holder = asyncio.create_task(hold())
    await holder_has_it.wait()
    if db_url.startswith("postgresql"):  # SQLite has one writer: no second claim to race
        other = Database(db_url)
        try:
            async with other.transaction() as uow:
                assert await uow.deadlines.claim(row.id) is None  # held: left to the holder
        finally:
            await other.dispose()
    release.set()
    await holder
    async with db.transaction() as uow:
        assert await uow.deadlines.claim(row.id) is None  # fired: never again


# ---------------------------------------------------------------- posted messages


async def test_message_record_upserts_per_lead_and_channel(db: Database) -> None:
    lead_id, other = await _lead_id(db), await _lead_id(db)
    async with db.transaction() as uow:
        await uow.messages.record(lead_id, "DU0ALICE", "1700000000.000100", "card")
        await uow.messages.record(lead_id, "C0INBOUND", "1700000000.000200", "card")
        await uow.messages.record(other, "DU0ALICE", "1700000000.000300", "card")
    async with db.transaction() as uow:
        await uow.messages.record(lead_id, "DU0ALICE", "1700000000.000400", "card")
    async with db.snapshot() as uow:
        mine = sorted(await uow.messages.for_lead(lead_id))
        theirs = await uow.messages.for_lead(other)
        nothing = await uow.messages.for_lead("no-such-lead")
        kinds = (await uow.connection.execute(select(t.lead_messages.c.kind))).scalars().all()
    assert mine == [("C0INBOUND", "1700000000.000200"), ("DU0ALICE", "1700000000.000400")]
    assert theirs == [("DU0ALICE", "1700000000.000300")]
    assert nothing == []
    assert set(kinds) == {"card"}
