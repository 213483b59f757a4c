"""SLA planning: every step of a policy becomes one deadline, at the right time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.config import EscalationStep, SlaConfig, default_slas
from domain.sla import plan

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_documents_defaults() -> None:
    within = {kind: policy.respond_within for kind, policy in default_slas().items()}
    assert within == {
        "demo_request": timedelta(minutes=5),
        "referral": timedelta(minutes=15),
        "outbound_reply": timedelta(minutes=30),
        "mql": timedelta(hours=2),
        "event": timedelta(hours=24),
        "aged": timedelta(hours=48),
    }


def test_reminders_breach_and_default_chain() -> None:
    policy = SlaConfig(respond_within="10m", remind_at=["50%", "8m"])
    steps = [(step.step, step.action, step.due_at - START) for step in plan(policy, START)]
    assert steps == [
        ("remind:0", "remind_owner", timedelta(minutes=5)),
        ("remind:1", "remind_owner", timedelta(minutes=8)),
        ("breach", "breach", timedelta(minutes=10)),
        ("escalate:0", "reassign", timedelta(minutes=10)),
        ("escalate:1", "notify_manager", timedelta(minutes=10)),
        ("escalate:2", "repost_to_channel", timedelta(minutes=20)),
    ]


def test_configured_chain_counts_from_the_breach() -> None:
    policy = SlaConfig(
        respond_within="5m",
        escalation=[
            EscalationStep(after="0m", do="notify_owner"),
            EscalationStep(after="15m", do="repost_to_channel"),
        ],
    )
    due = {step.step: step.due_at - START for step in plan(policy, START)}
    assert due == {
        "breach": timedelta(minutes=5),
        "escalate:0": timedelta(minutes=5),
        "escalate:1": timedelta(minutes=20),
    }


def test_an_empty_chain_means_breach_only() -> None:
    assert [s.step for s in plan(SlaConfig(respond_within="1h", escalation=[]), START)] == [
        "breach"
    ]


@pytest.mark.parametrize("bad", ["0%", "100%", "150%", "soon"])
def test_reminders_must_fall_inside_the_sla(bad: str) -> None:
    with pytest.raises(ValueError):
        SlaConfig(respond_within="5m", remind_at=[bad])


@given(
    minutes=st.integers(1, 10_000),
    reminders=st.lists(st.integers(1, 99), max_size=4),
    delays=st.lists(st.integers(0, 600), max_size=4),
)
def test_plans_are_ordered_unique_and_never_before_the_start(
    minutes: int, reminders: list[int], delays: list[int]
) -> None:
    policy = SlaConfig(
        respond_within=f"{minutes}m",
        remind_at=[f"{p}%" for p in reminders],
        escalation=[EscalationStep(after=f"{d}m", do="notify_manager") for d in delays],
    )
    steps = plan(policy, START)
    assert len({step.step for step in steps}) == len(steps)  # one row per (lead, step)
    assert [step.due_at for step in steps] == sorted(step.due_at for step in steps)
    assert all(step.due_at >= START for step in steps)
    breach = next(step for step in steps if step.step == "breach")
    assert breach.due_at == START + timedelta(minutes=minutes)
    assert all(s.due_at <= breach.due_at for s in steps if s.action == "remind_owner")
