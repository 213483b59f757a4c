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
from dataclasses import replace

from bot.metrics import DEAD_LETTERS
from bot.services.base import ApplicationService
from bot.services.routing_facts import read_routing_state
from bot.services.timers import apply_owner_change
from domain.config import Config
from domain.eligibility import RepFacts
from domain.escalation import StepOutcome, undeliverable
from domain.message_plans import (
    dead_letter_alerts,
    handover_summaries,
    step_messages,
    undeliverable_step,
)
from domain.messages import Kind, QueuedMessage
from domain.records import SYSTEM_ACTOR, LeadRecord
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

FAILED_EVENT = "notification_failed"


class DeadLetterService(ApplicationService):
    async def give_up(self, row: QueuedMessage, owner: str, error: str) -> None:
        """Dead-letter `row` (leased by `owner`), alert the admins, escalate its lead."""
        now = self.now()
        async with self.db.transaction() as uow:
            if not await uow.outbox.mark_dead(row.id, owner, error):
                return  # our lease lapsed: the row's new holder decides its fate
            config = await self.configs.config(uow) or Config()
            if row.kind != Kind.DEAD_LETTER_ALERT:
                if not config.admins:
                    log.error(
                        "dead letter to %s (%s) and no admins configured to tell",
                        row.target,
                        error,
                    )
                alerts = dead_letter_alerts(row.kind, row.target, error, config.admins, now.date())
                await uow.outbox.queue(alerts, now)
            if row.kind == Kind.LEAD_CARD and row.lead_id:
                await self._escalate(uow, [row.lead_id], row, error, config)
            elif row.kind == Kind.DIGEST:
                await self._escalate(uow, await uow.digests.lead_ids(row.id), row, error, config)
        DEAD_LETTERS.labels(row.kind, error).inc()
        self.wake_outbox()

    async def _escalate(
        self, uow: UnitOfWork, lead_ids: list[str], row: QueuedMessage, error: str, config: Config
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
            if outcome.assign_to:
                await uow.routing.record_assignment(outcome.assign_to, now)
            await uow.events.add(lead.id, now, outcome.event, SYSTEM_ACTOR, outcome.reason, details)
            escalated.append((lead, outcome))
        step = undeliverable_step(row.id)
        many = len(escalated) > 1
        for lead, outcome in escalated:
            quiet = replace(outcome, notices=()) if many else outcome
            await uow.outbox.queue(step_messages(lead.id, step, quiet), now)
            log.warning("lead %s escalated: %s", lead.id, outcome.reason)
        if many:  # one word to each manager for the lot, not a DM per lead
            await uow.outbox.queue(handover_summaries(escalated, row.target, error, step), now)
