"""What each cause sends: the outbox messages of a routing decision, an SLA step, a dead
letter and the hand-over of the leads it held. Pure functions of domain values; the
message types and their keys are domain.messages."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date

from domain.escalation import StepOutcome
from domain.messages import (
    UNDELIVERABLE_STEP,
    Alert,
    CardUpdate,
    DeadLetterAlert,
    Kind,
    LeadCard,
    OutboxMessage,
)
from domain.records import LeadRecord
from domain.routing import Decision


def routing_messages(
    lead_id: str, decision: Decision, admins: Iterable[str], occasion: str | None = None
) -> list[OutboxMessage]:
    """What intake sends for a routed lead: its card to the owner or the channel, an
    alert to the manager if nobody could take it, and to each admin if no rule matched.
    `occasion` tells a later routing's messages from the first's (see LeadCard)."""
    messages: list[OutboxMessage] = []
    target = decision.owner or decision.channel
    suffix = f":{occasion}" if occasion else ""
    if target:
        messages.append(LeadCard(lead_id, target, occasion))
    if decision.nobody_eligible and decision.manager:
        skipped = "; ".join(f"{skip.user} {skip.reason}" for skip in decision.skipped)
        messages.append(
            Alert(
                f"alert:{lead_id}:nobody_eligible{suffix}",
                decision.manager,
                f"Nobody in the team could take this lead: {skipped}",
                lead_id,
                folds=True,
            )
        )
    if decision.team is None:
        messages.extend(
            Alert(
                f"alert:{lead_id}:unrouted:{admin}{suffix}",
                admin,
                "No routing rule matched this lead; route it by hand.",
                lead_id,
                folds=True,
            )
            for admin in admins
        )
    return messages


def step_messages(lead_id: str, step: str, outcome: StepOutcome) -> list[OutboxMessage]:
    """The messages of an SLA step's effects, keyed by (lead, step) so they exist once.
    A manager's or admin's notice folds with the intake alerts (see Notice.oversight)."""
    messages: list[OutboxMessage] = [
        Alert(
            f"notice:{lead_id}:{step}:{notice.target}",
            notice.target,
            notice.text,
            lead_id,
            folds=notice.oversight,
        )
        for notice in outcome.notices
    ]
    messages.extend(
        LeadCard(lead_id, target, step)
        for target in filter(None, (outcome.assign_to, outcome.repost_channel))
    )
    if outcome.update_card:
        messages.append(CardUpdate(lead_id, step))
    return messages


def undeliverable_step(row_id: int) -> str:
    """The step name of the escalation that follows outbox row `row_id` dying."""
    return f"{UNDELIVERABLE_STEP}:{row_id}"


def dead_letter_alerts(
    kind: str, target: str, error: str, admins: Iterable[str], day: date
) -> list[OutboxMessage]:
    """One DM per admin, keyed by target, error and day: a broken channel that kills a
    thousand cards raises one alert, not a thousand."""
    what = "a lead card" if kind == Kind.LEAD_CARD else f"a {kind.replace('_', ' ')}"
    text = (
        f"Slack refused {what} to {target}: `{error}`. Leadrouter stopped trying. "
        "Check that the channel exists and the app is in it, or that the user is active."
    )
    return [
        DeadLetterAlert(f"dead_letter:{target}:{error}:{admin}:{day}", admin, text)
        for admin in admins
    ]


def handover_summaries(
    escalated: Iterable[tuple[LeadRecord, StepOutcome]], target: str, error: str, step: str
) -> list[OutboxMessage]:
    """Per manager: how many of the leads a dead digest held went where (one word to
    each manager for the lot, not a DM per lead)."""
    escalated = list(escalated)
    managers = sorted({notice.target for _, outcome in escalated for notice in outcome.notices})
    handed = [outcome.assign_to for _, outcome in escalated if outcome.assign_to]
    where = ", ".join(f"{count} to {user}" for user, count in sorted(Counter(handed).items()))
    stuck = len(escalated) - len(handed)
    text = (
        f"Slack could not deliver {len(escalated)} leads to {target} ({error}); "
        f"reassigned {where or 'none'}"
        + (f"; {stuck} could not be reassigned" if stuck else "")
        + ". Please check the Slack setup."
    )
    return [Alert(f"notice:{step}:{manager}", manager, text) for manager in managers]
