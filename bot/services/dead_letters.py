"""Dead letters: what happens when Slack refuses a message for good.

The row is given up, the admins are told (one alert per broken target and error per
day, queued through the outbox like any message), and if the message was a lead's way
to a human (the owner's DM, or the channel post of an unclaimed lead; a digest counts
for every lead in it) the lead escalates at once (domain.escalation.undeliverable)
instead of rotting until its SLA. All of it is one transaction: a crash leaves the row
pending and it is decided again.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import replace
from typing import Any

from bot.metrics import DEAD_LETTERS
from bot.services.base import ApplicationService
from bot.services.intake import SYSTEM_ACTOR
from bot.services.routing_facts import read_routing_state
from bot.worker.timers import apply_owner_change, outcome_messages
from domain.config import Config
from domain.eligibility import RepFacts
from domain.escalation import StepOutcome, undeliverable
from domain.records import LeadRecord
from storage.outbox_digests import UNDELIVERABLE_STEP
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

ALERT_KIND = "dead_letter_alert"
"""An admin alert about a dead letter; when one dies itself, nobody is alerted again."""
FAILED_EVENT = "notification_failed"


class DeadLetterService(ApplicationService):
    async def give_up(self, row: Any, owner: str, error: str) -> None:
        """Dead-letter `row` (leased by `owner`), alert the admins, escalate its lead."""
        now = self.now()
        async with self.db.transaction() as uow:
            if not await uow.outbox.mark_dead(row.id, owner, error):
                return  # our lease lapsed: the row's new holder decides its fate
            current = await self.configs.current(uow)
            config = current[1] if current else Config()
            if row.kind != ALERT_KIND:
                await uow.outbox.add_many(_admin_alerts(row, error, config, now.date()), now)
            if row.kind == "lead_card" and row.lead_id:
                await self._escalate(uow, [row.lead_id], row, error, config)
            elif row.kind == "digest":
                await self._escalate(uow, await uow.digests.lead_ids(row.id), row, error, config)
        DEAD_LETTERS.labels(row.kind, error).inc()
        self.wake_outbox()

    async def _escalate(
        self, uow: UnitOfWork, lead_ids: list[str], row: Any, error: str, config: Config
    ) -> None:
        """Escalate each lead the dead row announced (one card, or a digest's many)."""
        now = self.now()
        leads = await uow.leads.get_many(lead_ids)
        timelines = await uow.events.timelines(leads)
        state = await read_routing_state(uow, config, now)
        open_leads = dict(state.open_leads)  # moved as leads are handed over
        facts = RepFacts(open_leads, state.signals, state.assignments)
        details = {"target": row.target, "error": error, "outbox_id": row.id}
        reason = f"Slack refused {row.target}: {error}"
        escalated: list[tuple[LeadRecord, StepOutcome]] = []
        for lead in leads.values():
            unreachable = frozenset(
                event.data["target"]
                for event in timelines.get(lead.id, ())
                if event.type == FAILED_EVENT and event.data and event.data.get("target")
            )
            await uow.events.add(lead.id, now, FAILED_EVENT, SYSTEM_ACTOR, reason, details)
            outcome = undeliverable(
                lead, row.target, error, config, open_leads, now, unreachable, facts
            )
            if not outcome.fired:
                continue
            if await apply_owner_change(uow, lead, outcome, open_leads, now, config) is None:
                continue  # someone claimed or reassigned it meanwhile: it is in human hands
            await uow.events.add(lead.id, now, outcome.event, SYSTEM_ACTOR, outcome.reason, details)
            escalated.append((lead, outcome))
        step = f"{UNDELIVERABLE_STEP}:{row.id}"
        many = len(escalated) > 1
        for lead, outcome in escalated:
            quiet = replace(outcome, notices=()) if many else outcome
            await uow.outbox.add_many(outcome_messages(lead.id, step, quiet), now)
            log.warning("lead %s escalated: %s", lead.id, outcome.reason)
        if many:  # one word to each manager for the lot, not a DM per lead
            await uow.outbox.add_many(_summaries(escalated, row, error, step), now)


def _summaries(
    escalated: list[tuple[LeadRecord, StepOutcome]], row: Any, error: str, step: str
) -> list[dict[str, Any]]:
    """Per manager: how many of the leads a dead digest held went where."""
    managers = sorted({notice.target for _, outcome in escalated for notice in outcome.notices})
    handed = [outcome.assign_to for _, outcome in escalated if outcome.assign_to]
    where = ", ".join(f"{count} to {user}" for user, count in sorted(Counter(handed).items()))
    stuck = len(escalated) - len(handed)
    text = (
        f"Slack could not deliver {len(escalated)} leads to {row.target} ({error}); "
        f"reassigned {where or 'none'}"
        + (f"; {stuck} could not be reassigned" if stuck else "")
        + ". Please check the Slack setup."
    )
    return [
        {
            "dedup_key": f"notice:{step}:{manager}",
            "kind": "alert",
            "target": manager,
            "lead_id": None,
            "payload": {"text": text},
        }
        for manager in managers
    ]


def _admin_alerts(row: Any, error: str, config: Config, day: Any) -> list[dict[str, Any]]:
    """One DM per admin, keyed by target, error and day: a broken channel that kills a
    thousand cards raises one alert, not a thousand."""
    what = "a lead card" if row.kind == "lead_card" else f"a {row.kind.replace('_', ' ')}"
    text = (
        f"Slack refused {what} to {row.target}: `{error}`. Leadrouter stopped trying. "
        "Check that the channel exists and the app is in it, or that the user is active."
    )
    if not config.admins:
        log.error("dead letter to %s (%s) and no admins configured to tell", row.target, error)
    return [
        {
            "dedup_key": f"dead_letter:{row.target}:{error}:{admin}:{day}",
            "kind": ALERT_KIND,
            "target": admin,
            "lead_id": None,
            "payload": {"text": text},
        }
        for admin in config.admins
    ]
