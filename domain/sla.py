"""Response SLAs: when a lead's clock starts, its policy is snapshotted and turned
into a plan of deadline steps (reminders, breach, escalation chain). The plan is
stored as rows, one per step, so no timer lives only in memory.

Escalation `after` delays count from the breach."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.business_hours import BusinessCalendar
from domain.config import EscalationStep, SlaConfig, reminder_offset


@dataclass(frozen=True)
class PlannedStep:
    step: str
    action: str
    due_at: datetime


def default_escalation(policy: SlaConfig) -> list[EscalationStep]:
    """Reassign and tell the manager at breach; repost for anyone one more SLA later."""
    return [
        EscalationStep(after=timedelta(0), do="reassign"),
        EscalationStep(after=timedelta(0), do="notify_manager"),
        EscalationStep(after=policy.respond_within, do="repost_to_channel"),
    ]


def plan(
    policy: SlaConfig, started_at: datetime, calendar: BusinessCalendar | None = None
) -> list[PlannedStep]:
    """Every step of the policy, with its due time, in firing order. With a calendar,
    every offset counts business time only."""

    def after(start: datetime, amount: timedelta) -> datetime:
        return calendar.add(start, amount) if calendar else start + amount

    due = after(started_at, policy.respond_within)
    steps = [
        PlannedStep(
            f"remind:{index}",
            "remind_owner",
            after(started_at, reminder_offset(spec, policy.respond_within)),
        )
        for index, spec in enumerate(policy.remind_at)
    ]
    steps.append(PlannedStep("breach", "breach", due))
    chain = policy.escalation if policy.escalation is not None else default_escalation(policy)
    steps.extend(
        PlannedStep(f"escalate:{index}", step.do, after(due, step.after))
        for index, step in enumerate(chain)
    )
    return sorted(steps, key=lambda step: step.due_at)
