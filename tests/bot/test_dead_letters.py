"""Slack refuses a lead's notification for good: the row is dead-lettered, the admins get
one alert per broken target (never an alert about a failed alert), and the lead does not
wait for its SLA: it goes to the backup at once and the manager is told. Token errors are
no dead letters: every row would fail alike, so they are held until the token works."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from bot.metrics import DEAD_LETTERS
from bot.worker.outbox import ALERT_WINDOW
from tests.bot.outbox_stack import NOW, Stack
from tests.support.fake_slack import FakeSlack


def _refuse(fake: FakeSlack, channel: str, error: str) -> None:
    fake.fail(
        "chat.postMessage", error, status=200, times=None, when=lambda p: p["channel"] == channel
    )


async def test_a_dead_owner_dm_escalates_the_lead_and_alerts_the_admins(
    stack: Stack, fake_slack: FakeSlack
) -> None:
    before = DEAD_LETTERS.labels("lead_card", "user_not_found")._value.get()
    _refuse(fake_slack, "DU0ALICE", "user_not_found")
    lead_id = await stack.lead("jo@x.io")
    await stack.drain()

    async with stack.db.snapshot() as uow:
        lead = await uow.leads.get(lead_id)
        timeline = await uow.events.timeline(lead_id)
    assert lead is not None and lead.owner == "U0BACKUP"
    types = [event.type for event in timeline]
    assert types[-2:] == ["notification_failed", "reassigned"]
    assert "user_not_found" in timeline[-1].reason
    assert stack.posts_to() == {"DU0BACKUP": 1, "DU0MANAGER": 1, "DU0ADMIN": 1}
    posts = fake_slack.delivered("chat.postMessage")
    (admin,) = [call for call in posts if call.params["channel"] == "DU0ADMIN"]
    assert "user_not_found" in admin.params["text"] and "U0ALICE" in admin.params["text"]
    states = Counter((row.kind, row.state) for row in await stack.outbox())
    assert states[("lead_card", "dead")] == 1 and states[("lead_card", "sent")] == 1
    assert DEAD_LETTERS.labels("lead_card", "user_not_found")._value.get() == before + 1


async def test_a_broken_channel_alerts_once_and_each_lead_goes_to_the_backup(
    stack: Stack, fake_slack: FakeSlack
) -> None:
    _refuse(fake_slack, "C0HEALTH", "not_in_channel")
    ids = [await stack.lead(f"doc{i}@clinic.org", industry="healthcare") for i in range(3)]
    await stack.drain()
    async with stack.db.snapshot() as uow:
        owners = {lead.owner for lead in (await uow.leads.get_many(ids)).values()}
    assert owners == {"U0DAN"}
    posts = stack.posts_to()
    assert posts["DU0ADMIN"] == 1  # one alert for the channel, not one per lead
    assert posts["DU0DAN"] == 3
    # The manager is told of each lead once: the first at once, the rest fold into one
    # summary at the window's end (a broken channel must not page them per lead).
    told = Counter(
        (row.lead_id, row.state)
        for row in await stack.outbox()
        if row.kind == "alert" and row.target == "U0MANAGER"
    )
    assert {lead_id for lead_id, _ in told} == set(ids) and set(told.values()) == {1}
    assert {state for _, state in told} <= {"sent", "digested"}
    stack.dispatcher.now = lambda: NOW + ALERT_WINDOW
    await stack.drain()
    manager = [
        call.params["text"]
        for call in fake_slack.delivered("chat.postMessage")
        if call.params["channel"] == "DU0MANAGER"
    ]
    assert len(manager) <= 2 and "3 mql leads needed a human" in manager[-1]


async def test_a_failed_alert_is_never_alerted_about(stack: Stack, fake_slack: FakeSlack) -> None:
    """Everything to the manager and the admin dies: the lead is still escalated, and
    the chain stops at the admin alert instead of looping."""
    _refuse(fake_slack, "DU0ALICE", "user_not_found")
    _refuse(fake_slack, "DU0MANAGER", "user_disabled")
    _refuse(fake_slack, "DU0ADMIN", "user_disabled")
    await stack.lead("jo@x.io")
    await stack.drain()
    rows = await stack.outbox()
    dead = Counter(row.kind for row in rows if row.state == "dead")
    assert dead == {"lead_card": 1, "alert": 1, "dead_letter_alert": 2}
    assert {row.state for row in rows} == {"dead", "sent"}  # nothing left pending
    assert stack.posts_to() == {"DU0BACKUP": 1}


async def test_the_backup_unreachable_too_goes_on_to_the_next_rep(
    stack: Stack, fake_slack: FakeSlack
) -> None:
    _refuse(fake_slack, "DU0ALICE", "user_not_found")
    _refuse(fake_slack, "DU0BACKUP", "user_disabled")
    lead_id = await stack.lead("jo@x.io")
    await stack.drain()
    async with stack.db.snapshot() as uow:
        lead = await uow.leads.get(lead_id)
    assert lead is not None and lead.owner == "U0BOB"
    assert stack.posts_to()["DU0BOB"] == 1


async def test_token_errors_hold_the_outbox_instead_of_dead_lettering(
    stack: Stack, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("chat.postMessage", "invalid_auth", status=200, times=None)
    lead_id = await stack.lead("jo@x.io")
    await stack.drain()
    (row,) = await stack.outbox()
    assert (row.state, row.error, row.attempts) == ("pending", "invalid_auth", 0)
    assert row.next_attempt_at >= NOW + timedelta(seconds=59)
    fake_slack.clear_faults()  # the operator fixed the token
    stack.dispatcher.now = lambda: NOW + timedelta(minutes=2)
    await stack.drain()
    assert stack.posts_to() == {"DU0ALICE": 1}
    async with stack.db.snapshot() as uow:
        assert (await uow.leads.get(lead_id)).owner == "U0ALICE"  # type: ignore[union-attr]


async def test_a_dead_digest_hands_its_leads_to_the_backup_in_one_digest(
    stack: Stack, fake_slack: FakeSlack
) -> None:
    """An import into an archived channel: every lead goes to the backup at once, and
    the backup gets one digest DM, not a card per lead."""
    _refuse(fake_slack, "C0HEALTH", "is_archived")
    ids = [await stack.lead(f"doc{i}@clinic.org", industry="healthcare") for i in range(30)]
    await stack.drain()  # folded into a digest, held a moment for stragglers
    for second in (3, 6, 9):
        stack.dispatcher.now = lambda second=second: NOW + timedelta(seconds=second)
        await stack.drain()
    async with stack.db.snapshot() as uow:
        owners = Counter(lead.owner for lead in (await uow.leads.get_many(ids)).values())
    assert owners == {"U0DAN": 30}
    (handover,) = [
        call
        for call in fake_slack.delivered("chat.postMessage")
        if call.params["channel"] == "DU0DAN"
    ]
    assert handover.params["text"].startswith("30 mql leads were assigned to you at once")
    assert stack.posts_to()["DU0ADMIN"] == 1
    (manager,) = [
        call
        for call in fake_slack.delivered("chat.postMessage")
        if call.params["channel"] == "DU0MANAGER"
    ]
    assert "30 leads to C0HEALTH (is_archived); reassigned 30 to U0DAN." in manager.params["text"]
