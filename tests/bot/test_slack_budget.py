"""Slack's limits, kept on our side so we rarely see a 429: a per-channel bucket, a
workspace-wide bucket per method (its rate-limit tier, bursts allowed), and a 429's
Retry-After that pauses every sender, not just the unlucky row. Time is injected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.services.configuration import ConfigService
from bot.worker.budget import RateBudget, WorkspaceBudget
from harness.databases import sqlite_url
from harness.storage import migrated
from tests.bot.outbox_stack import CONFIG, NOW, Stack
from tests.support.fake_slack import FakeSlack

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
LONG = timedelta(minutes=5)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_burst_goes_at_once_then_the_tier_pace_queues_callers_in_order() -> None:
    budget = WorkspaceBudget(tiers={"chat.update": (2.0, 3)})
    waits = [budget.reserve("chat.update", T0, LONG).total_seconds() for _ in range(6)]
    assert waits == [0, 0, 0, 0.5, 1.0, 1.5]  # three free, then one every half second
    assert budget.reserve("chat.update", _at(10), LONG) == timedelta(0)  # refilled meanwhile
    assert budget.reserve("users.info", T0, LONG) == timedelta(0)  # no tier known: no limit


def test_a_wait_beyond_the_longest_spends_nothing() -> None:
    budget = WorkspaceBudget(tiers={"chat.update": (1.0, 1)})
    assert budget.reserve("chat.update", T0, timedelta(seconds=5)) == timedelta(0)
    for _ in range(3):  # asked again and again: still one second, no debt piles up
        assert budget.reserve("chat.update", T0, timedelta(0)) == timedelta(seconds=1)
    assert budget.reserve("chat.update", _at(1), timedelta(0)) == timedelta(0)


def test_scale_raises_both_rate_and_burst() -> None:
    budget = WorkspaceBudget(scale=2, tiers={"chat.update": (1.0, 2)})
    waits = [budget.reserve("chat.update", T0, LONG).total_seconds() for _ in range(5)]
    assert waits == [0, 0, 0, 0, 0.5]


def test_retry_after_pauses_the_method_then_the_pace_resumes() -> None:
    budget = WorkspaceBudget(tiers={"conversations.open": (1.0, 5)})
    budget.pause("conversations.open", T0, 30)
    assert budget.reserve("conversations.open", _at(10), LONG) == timedelta(seconds=20)
    assert budget.reserve("conversations.open", _at(31), LONG).total_seconds() == 0


def test_a_channel_pause_holds_that_channel_only() -> None:
    channels = RateBudget(per_second=1.0, burst=3)
    channels.pause("C1", T0, 7)
    assert channels.wait_needed("C1", _at(1)) == timedelta(seconds=6)
    assert channels.wait_needed("C2", _at(1)) == timedelta(0)
    assert channels.wait_needed("C1", _at(7)) == timedelta(0)


async def test_a_send_the_budget_would_hold_too_long_goes_back_uncounted(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    """Sleeping past its lease could let another replica post the row too: a long wait
    returns the row instead, due when the budget allows, with no attempt spent."""
    async with migrated(sqlite_url(tmp_path / "lr.db")) as db:
        async with db.transaction() as uow:
            await ConfigService().save(uow, CONFIG, "test", NOW, "test")
        stack = Stack(db, fake_slack)
        stack.dispatcher.workspace = WorkspaceBudget(tiers={"chat.postMessage": (0.1, 2)})
        for index in range(3):  # Alice, Bob, Alice: within each DM's own budget
            await stack.lead(f"p{index}@x.io")
        await stack.drain()
        assert len(fake_slack.delivered("chat.postMessage")) == 2
        (held,) = [row for row in await stack.outbox() if row.state == "pending"]
        assert (held.attempts, held.lease_owner) == (0, None)
        assert held.next_attempt_at == NOW + timedelta(seconds=10)
        stack.dispatcher.now = lambda: NOW + timedelta(seconds=10)
        await stack.drain()
        assert len(fake_slack.delivered("chat.postMessage")) == 3


async def test_a_429_on_a_method_pauses_it_for_every_row_for_retry_after(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    """Slack limits conversations.open per workspace: after its 429, the other rep's DM
    must not hammer it too. Both rows wait out Retry-After; neither spends an attempt."""
    fake_slack.fail("conversations.open", status=429, retry_after=30, times=1)
    async with migrated(sqlite_url(tmp_path / "lr.db")) as db:
        async with db.transaction() as uow:
            await ConfigService().save(uow, CONFIG, "test", NOW, "test")
        stack = Stack(db, fake_slack)
        await stack.lead("p0@x.io")  # Alice
        await stack.drain()  # her conversations.open gets the 429
        await stack.lead("p1@x.io")  # Bob, a moment later
        await stack.drain()
        assert len(fake_slack.calls_to("conversations.open")) == 1  # Bob's never asked
        waiting = await stack.outbox()
        assert {(row.state, row.attempts) for row in waiting} == {("pending", 0)}
        assert min(row.next_attempt_at for row in waiting) >= NOW + timedelta(seconds=29)
        stack.dispatcher.now = lambda: NOW + timedelta(seconds=31)
        await stack.drain()
        assert stack.posts_to() == {"DU0ALICE": 1, "DU0BOB": 1}


def test_a_share_of_the_limit_slows_the_pace_and_shrinks_the_burst() -> None:
    budget = WorkspaceBudget(tiers={"chat.update": (2.0, 4)})
    budget.share(1 / 2)  # two replicas: each one second per call, a burst of two
    waits = [budget.reserve("chat.update", T0, LONG).total_seconds() for _ in range(4)]
    assert waits == [0, 0, 1.0, 2.0]
    channels = RateBudget(per_second=1.0, burst=3)
    channels.share(1 / 5)  # five replicas: a burst of one at least, never none
    assert (channels.per_second, channels.burst) == (0.2, 1)
    assert channels.wait_needed("C1", T0) == timedelta(0)
    assert channels.wait_needed("C1", T0) == timedelta(seconds=5)
