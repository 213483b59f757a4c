"""Slack's limits, kept on our side so we rarely see a 429: a per-channel bucket, a
workspace-wide bucket per method (its rate-limit tier, bursts allowed), and a 429's
Retry-After that pauses every sender, not just the unlucky row. Time is injected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.worker.outbox import RateBudget, WorkspaceBudget

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_burst_goes_at_once_then_the_tier_pace_queues_callers_in_order() -> None:
    budget = WorkspaceBudget(tiers={"chat.update": (2.0, 3)})
    waits = [budget.reserve("chat.update", T0).total_seconds() for _ in range(6)]
    assert waits == [0, 0, 0, 0.5, 1.0, 1.5]  # three free, then one every half second
    assert budget.reserve("chat.update", _at(10)) == timedelta(0)  # refilled meanwhile
    assert budget.reserve("users.info", T0) == timedelta(0)  # no tier known: no limit


def test_scale_raises_both_rate_and_burst() -> None:
    budget = WorkspaceBudget(scale=2, tiers={"chat.update": (1.0, 2)})
    waits = [budget.reserve("chat.update", T0).total_seconds() for _ in range(5)]
    assert waits == [0, 0, 0, 0, 0.5]


def test_retry_after_pauses_the_method_then_the_pace_resumes() -> None:
    budget = WorkspaceBudget(tiers={"conversations.open": (1.0, 5)})
    budget.pause("conversations.open", T0, 30)
    assert budget.reserve("conversations.open", _at(10)) == timedelta(seconds=20)
    assert budget.reserve("conversations.open", _at(31)).total_seconds() == 0


def test_a_channel_pause_holds_that_channel_only() -> None:
    channels = RateBudget(per_second=1.0, burst=3)
    channels.pause("C1", T0, 7)
    assert channels.wait_needed("C1", _at(1)) == timedelta(seconds=6)
    assert channels.wait_needed("C2", _at(1)) == timedelta(0)
    assert channels.wait_needed("C1", _at(7)) == timedelta(0)
