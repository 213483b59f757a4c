"""A full team cannot page its manager once per lead: the first "nobody could take this
lead" goes at once, the rest within the window become one summary at its end, and each
alert is told exactly once (on its own or counted in one summary).

Why: the intake URL is on a public form; while a team is at capacity, every lead a
stranger sends used to DM the manager (467 DMs in one test).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.services.configuration import ConfigService
from bot.services.timers import TimerSweeper
from bot.worker.outbox import ALERT_WINDOW
from domain.config import load_config
from harness.storage import migrated
from storage import tables as t
from tests.bot.outbox_stack import NOW, Stack
from tests.support.fake_slack import FakeSlack

FULL_TEAM = load_config(
    """
version: 1
admins: [U0ADMIN]
reps: [{user: U0ALICE, capacity: 1}]
teams:
  - {name: inbound, channel: C0INBOUND, manager: U0MANAGER, members: [{user: U0ALICE}]}
rules:
  - {name: all, then: {team: inbound}}
"""
)


@pytest.fixture
async def full(db_url: str, fake_slack: FakeSlack) -> AsyncIterator[Stack]:
    async with migrated(db_url) as db:
        async with db.transaction() as uow:
            await ConfigService().save(uow, FULL_TEAM, "test", NOW, "test")
        yield Stack(db, fake_slack)


def manager_posts(fake: FakeSlack) -> list[str]:
    return [
        call.params["text"]
        for call in fake.delivered("chat.postMessage")
        if call.params["channel"] == "DU0MANAGER"
    ]


async def at(stack: Stack, offset: timedelta) -> None:
    stack.dispatcher.now = lambda: NOW + offset
    await stack.drain()


async def test_a_flood_of_nobody_eligible_alerts_is_one_dm_then_one_summary(
    full: Stack, fake_slack: FakeSlack
) -> None:
    await full.lead("first@prospect.io")  # Alice takes it: the team is now full
    await full.lead("second@prospect.io")
    await at(full, timedelta(0))
    assert len(manager_posts(fake_slack)) == 1  # the first alert goes at once
    for index in range(40):
        await full.lead(f"flood{index}@prospect.io")
    await at(full, timedelta(seconds=5))
    await at(full, ALERT_WINDOW - timedelta(seconds=5))
    assert len(manager_posts(fake_slack)) == 1  # the rest wait for the window's end
    await at(full, ALERT_WINDOW + timedelta(seconds=1))
    first, summary = manager_posts(fake_slack)
    assert first.startswith("Nobody in the team could take this lead")
    assert summary.startswith("40 mql leads needed a human")
    assert "`/leads team inbound`" in summary
    states = Counter((row.kind, row.state) for row in await full.outbox())
    assert states[("alert", "sent")] == 1 and states[("alert", "digested")] == 40
    assert states[("alert_digest", "sent")] == 1


async def test_alerts_after_a_summary_wait_for_the_next_window(
    full: Stack, fake_slack: FakeSlack
) -> None:
    await full.lead("first@prospect.io")
    await full.lead("early0@prospect.io")
    await at(full, timedelta(0))
    for index in (1, 2):
        await full.lead(f"early{index}@prospect.io")
    await at(full, timedelta(seconds=10))
    await at(full, ALERT_WINDOW + timedelta(seconds=1))
    assert len(manager_posts(fake_slack)) == 2
    await full.lead("late@prospect.io")
    await at(full, ALERT_WINDOW + ALERT_WINDOW / 2)
    assert len(manager_posts(fake_slack)) == 2  # the summary went half a window ago
    await at(full, 2 * ALERT_WINDOW + timedelta(seconds=2))
    assert manager_posts(fake_slack)[-1].startswith("1 mql lead needed a human")


async def test_alerts_waiting_together_fold_at_once(full: Stack, fake_slack: FakeSlack) -> None:
    await full.lead("first@prospect.io")
    for index in range(3):
        await full.lead(f"together{index}@prospect.io")
    await at(full, timedelta(0))
    assert manager_posts(fake_slack) == []  # three waiting at once: a summary, shortly
    await at(full, timedelta(seconds=3))
    (summary,) = manager_posts(fake_slack)
    assert summary.startswith("3 mql leads needed a human")


BREACHING_TEAM = load_config(
    """
version: 1
admins: [U0ADMIN]
reps: [{user: U0ALICE, capacity: 1000}]
teams:
  - {name: inbound, channel: C0INBOUND, manager: U0MANAGER, members: [{user: U0ALICE}]}
rules:
  - {name: all, then: {team: inbound}}
slas:
  mql:
    respond_within: 5m
    escalation: [{after: 0m, do: notify_manager}, {after: 0m, do: notify_owner}]
"""
)


async def test_a_flood_of_leads_breaching_pages_the_manager_once_then_one_summary(
    db_url: str, fake_slack: FakeSlack
) -> None:
    """A form flooding a team its rep can hold: when their SLAs breach together, the
    manager gets the first notice at once and one summary for the rest, while the rep
    still gets each of their own leads' notices and every lead records its step once."""
    async with migrated(db_url) as db:
        async with db.transaction() as uow:
            await ConfigService().save(uow, BREACHING_TEAM, "test", NOW, "test")
        stack = Stack(db, fake_slack)
        clock = [NOW]
        timers = TimerSweeper(db, ConfigService(), lambda: clock[0], stack.dispatcher.wake)
        stack.intake.now = lambda: NOW - ALERT_WINDOW / 2  # breaches half a window earlier
        await stack.lead("early@prospect.io")
        stack.intake.now = lambda: NOW
        for index in range(29):
            await stack.lead(f"flood{index}@prospect.io")
        await at(stack, timedelta(0))
        first_breach = timedelta(minutes=5, seconds=1) - ALERT_WINDOW / 2
        clock[0] = NOW + first_breach
        assert await timers.sweep() == 3  # the early lead: breach, manager, owner
        await at(stack, first_breach)
        assert len(manager_posts(fake_slack)) == 1  # the first breach notice at once
        clock[0] = NOW + timedelta(minutes=5, seconds=1)
        assert await timers.sweep() > 0
        await at(stack, first_breach + ALERT_WINDOW - timedelta(seconds=5))
        assert len(manager_posts(fake_slack)) == 1  # the rest wait for the window's end
        assert await timers.sweep() == 0  # nothing fires twice
        await at(stack, first_breach + ALERT_WINDOW + timedelta(seconds=4))
        first, summary = manager_posts(fake_slack)
        assert first.startswith("SLA breached on this mql lead")
        assert summary.startswith("29 mql leads needed a human")
        assert "`/leads team inbound`" in summary
        rows = await stack.outbox()
        rep_notices = [row for row in rows if row.kind == "alert" and row.target == "U0ALICE"]
        assert len(rep_notices) == 30  # the owner's own notices never fold
        assert {row.state for row in rep_notices} <= {"pending", "sent"}
        assert {row.digest_id for row in rep_notices} == {None}
        async with db.snapshot() as uow:
            notified = Counter(
                lead_id
                for (lead_id,) in await uow.connection.execute(
                    select(t.lead_events.c.lead_id).where(
                        t.lead_events.c.type == "manager_notified"
                    )
                )
            )
        assert len(notified) == 30 and set(notified.values()) == {1}  # one per lead and step
        states = Counter((row.kind, row.state) for row in rows if row.target == "U0MANAGER")
        assert states == {
            ("alert", "sent"): 1,
            ("alert", "digested"): 29,
            ("alert_digest", "sent"): 1,
        }
