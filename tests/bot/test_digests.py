"""Bulk intake must not flood a channel or a rep's DMs: ten or more cards waiting for one
target at once become a single digest post. Every lead is still told exactly once: by
its own card or by being counted in exactly one digest, also with two replicas."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from bot.worker.outbox import DIGEST, OutboxDispatcher
from domain.messages import LeadCard
from storage import tables as t
from storage.uow import Database
from tests.bot.outbox_stack import NOW, Stack
from tests.support.fake_slack import FakeSlack


def _told(fake: FakeSlack) -> Counter[str]:
    """Leads announced per channel: a card counts one, a digest its number."""
    told: Counter[str] = Counter()
    for call in fake.delivered("chat.postMessage"):
        text = call.params.get("text", "")
        counted = re.match(r"([\d,]+) .* at once", text)
        told[call.params["channel"]] += int(counted.group(1).replace(",", "")) if counted else 1
    return told


async def _pull_leads(stack: Stack, count: int, start: int = 0) -> None:
    await asyncio.gather(
        *(stack.lead(f"d{i}@clinic.org", industry="healthcare") for i in range(start, count))
    )


async def test_a_burst_to_a_channel_becomes_one_digest_post(
    stack: Stack, fake_slack: FakeSlack
) -> None:
    await _pull_leads(stack, 50)
    await stack.drain()
    assert fake_slack.delivered("chat.postMessage") == []  # held a moment for stragglers
    stack.dispatcher.now = lambda: NOW + timedelta(seconds=3)
    await stack.drain()
    (post,) = fake_slack.delivered("chat.postMessage")
    assert post.params["channel"] == "C0HEALTH"
    assert post.params["text"].startswith("50 mql leads added to the pool")
    assert "`/leads team health`" in post.params["text"]
    async with stack.db.snapshot() as uow:
        states = Counter(
            (row.kind, row.state) for row in (await uow.connection.execute(select(t.outbox)))
        )
    assert states == {("lead_card", "digested"): 50, ("digest", "sent"): 1}


async def test_cards_already_out_stay_cards_and_late_ones_join_the_open_digest(
    stack: Stack, fake_slack: FakeSlack
) -> None:
    await _pull_leads(stack, 5)
    await stack.drain()  # the channel's burst of 3 goes; 2 wait for its budget
    assert len(fake_slack.delivered("chat.postMessage")) == 3
    await _pull_leads(stack, 20, start=5)
    await stack.drain()  # 17 waiting: a digest opens
    stack.dispatcher.now = lambda: NOW + timedelta(seconds=1)
    await _pull_leads(stack, 25, start=20)
    await stack.drain()  # joins the open digest and pushes its send back
    stack.dispatcher.now = lambda: NOW + timedelta(seconds=4)
    await stack.drain()
    assert _told(fake_slack) == {"C0HEALTH": 25}
    assert len(fake_slack.delivered("chat.postMessage")) == 4


async def test_a_burst_of_push_leads_is_one_dm_per_rep(stack: Stack, fake_slack: FakeSlack) -> None:
    await asyncio.gather(*(stack.lead(f"p{i}@x.io") for i in range(30)))
    await stack.drain()
    stack.dispatcher.now = lambda: NOW + timedelta(seconds=3)
    await stack.drain()
    posts = fake_slack.delivered("chat.postMessage")
    assert sorted(call.params["channel"] for call in posts) == ["DU0ALICE", "DU0BOB"]
    assert all("assigned to you at once" in call.params["text"] for call in posts)
    assert _told(fake_slack) == {"DU0ALICE": 15, "DU0BOB": 15}


async def test_below_the_threshold_every_lead_gets_its_own_card(
    stack: Stack, fake_slack: FakeSlack
) -> None:
    await _pull_leads(stack, 9)
    for second in range(12):
        stack.dispatcher.now = lambda second=second: NOW + timedelta(seconds=second)
        await stack.drain()
    posts = fake_slack.delivered("chat.postMessage")
    assert len(posts) == 9 and all(call.params.get("blocks") for call in posts)


async def test_two_replicas_folding_at_once_announce_each_lead_once(
    db_url: str, stack: Stack, fake_slack: FakeSlack
) -> None:
    other_db = Database(db_url)
    clock = [NOW]
    replicas = [stack.dispatcher, OutboxDispatcher(other_db, stack.client, lambda: NOW, "r2")]
    for replica in replicas:
        replica.now = lambda: clock[0]

    async def drain_all() -> None:
        await asyncio.gather(*(replica.drain() for replica in replicas))

    for wave in range(6):
        await asyncio.gather(_pull_leads(stack, 40 * (wave + 1), start=40 * wave), drain_all())
        clock[0] += timedelta(milliseconds=700)
    for _ in range(40):
        clock[0] += timedelta(seconds=3)
        await drain_all()
    await other_db.dispose()
    assert _told(fake_slack) == {"C0HEALTH": 240}
    assert len(fake_slack.delivered("chat.postMessage")) < 20


async def test_escalation_cards_are_urgent_and_never_folded(stack: Stack) -> None:
    """A burst of reposts after a mass SLA breach stays one card each (paced by the
    channel budget): each says which lead is overdue now."""
    async with stack.db.transaction() as uow:
        await uow.outbox.queue(
            [LeadCard(f"L{index}", "C0INBOUND", "repost") for index in range(12)], NOW
        )
        assert await uow.digests.fold(NOW, DIGEST) == 0
    async with stack.db.snapshot() as uow:
        assert not await uow.digests.bursts(NOW, DIGEST)


async def test_a_card_being_retried_is_not_held_by_a_burst_to_its_target(
    stack: Stack, fake_slack: FakeSlack
) -> None:
    """A card that failed once can never fold; a burst opening a digest for its target
    must not keep it from its retry (it used to wait as long as the bursts went on)."""
    fake_slack.fail("chat.postMessage", "internal_error", status=500)
    await _pull_leads(stack, 1)
    await stack.drain()  # tried once: Slack said 500, so it backs off for up to a second
    await _pull_leads(stack, 22, start=1)
    await stack.drain()  # the burst opens a digest for the same channel
    stack.dispatcher.now = lambda: NOW + timedelta(seconds=1.5)  # backoff over, burst not
    await stack.drain()
    cards = [call for call in fake_slack.delivered("chat.postMessage") if call.params["blocks"]]
    assert [call.params["channel"] for call in cards] == ["C0HEALTH"]
    stack.dispatcher.now = lambda: NOW + timedelta(seconds=4)
    await stack.drain()
    assert _told(fake_slack) == {"C0HEALTH": 22}


async def test_one_fold_serves_many_targets_each_into_its_own_digest(stack: Stack) -> None:
    """A fold over many targets at once: a target with an open digest adds to it, crowded
    ones get a digest each, a quiet one is left alone; every card to its target's."""

    def cards(target: str, count: int, first: int = 0) -> list[dict[str, object]]:
        return [
            LeadCard(f"{target}-{index}", target).row() for index in range(first, first + count)
        ]

    async with stack.db.transaction() as uow:
        await uow.outbox.add_many(cards("U0OPEN", 10), NOW)
        assert await uow.digests.fold(NOW, DIGEST) == 10
        crowded = [f"U0REP{n}" for n in range(30)]
        await uow.outbox.add_many(
            cards("U0OPEN", 2, first=10)
            + [card for target in crowded for card in cards(target, 10)]
            + cards("U0QUIET", 3),
            NOW + timedelta(seconds=1),
        )
        assert await uow.digests.fold(NOW + timedelta(seconds=1), DIGEST) == 2 + 300
    rows = await stack.outbox()
    digests = {row.id: row for row in rows if row.kind == "digest"}
    assert sorted(row.target for row in digests.values()) == sorted(["U0OPEN", *crowded])
    folded = [row for row in rows if row.kind == "lead_card" and row.state == "digested"]
    assert all(digests[row.digest_id].target == row.target for row in folded)
    assert Counter(row.target for row in folded)["U0OPEN"] == 12
    opened_first = next(row for row in digests.values() if row.target == "U0OPEN")
    assert opened_first.next_attempt_at == NOW + timedelta(seconds=1) + DIGEST.quiet
    quiet = [row.state for row in rows if row.target == "U0QUIET"]
    assert quiet == ["pending"] * 3
