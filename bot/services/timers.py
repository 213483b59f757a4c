"""The SLA timer sweeper. Deadlines are rows; APScheduler (bot.worker.alarm) is only
the alarm clock that calls `sweep` every second and at the next due time.

A batch is one transaction: lock the due rows, read their leads, decide every step in
memory (domain.escalation), apply owner changes by compare-and-set, then write the
finished rows, the events and the outbox rows in bulk, and commit. A crash before
commit fires nothing; a second replica skips the locked rows; a step exists once per
(lead, step) and is finished once. If a batch fails, its rows are retried one per
transaction, each claimed again under lock, so one bad row cannot hold back the others
and a row another replica holds is left to it.

Locks are taken in one global order so that two replicas (or a sweep and intake) cannot
deadlock: the routing lock first when an offer ends (it routes again, as intake does),
then leads by id, then the reps' rotation rows and counters, each sorted, at the end of
the transaction.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from bot.metrics import ESCALATIONS, SLA_BREACHES, SLA_STEPS, TIMER_LATENESS, TIMERS_OVERDUE
from bot.services.base import ApplicationService
from bot.services.offers import offer_timed_out
from bot.services.routing_facts import read_routing_state
from domain.config import Config
from domain.eligibility import RepFacts
from domain.escalation import StepOutcome, run_step
from domain.lead import LeadStatus
from domain.message_plans import step_messages
from domain.messages import OutboxMessage
from domain.offers import OFFER_ACTION
from domain.records import SYSTEM_ACTOR, LeadRecord
from domain.routing_memory import assignment_day
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

BATCH = 200
SELF_CHECK_GRACE = timedelta(minutes=1)


@dataclass
class _Writes:
    """What a batch writes in bulk once every step is decided."""

    finished: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[OutboxMessage] = field(default_factory=list)
    assigned: list[str] = field(default_factory=list)

    def finish(self, row: Any, state: str, error: str | None = None) -> None:
        self.finished.append({"row_id": row.id, "new_state": state, "error": error})


class TimerSweeper(ApplicationService):
    on_next_due: Callable[[datetime], None] | None = None
    """Told when the next step is due after each sweep (the alarm sets it)."""

    @cached_property
    def _lock(self) -> asyncio.Lock:
        return asyncio.Lock()

    async def sweep(self) -> int:
        """Fire every due step; then arm the alarm for the next one."""
        handled = 0
        async with self._lock:
            while True:
                count = await self._sweep_batch()
                handled += count
                if count < BATCH:
                    break
            async with self.db.snapshot() as uow:
                upcoming = await uow.deadlines.next_due_at()
        if handled:
            self.wake_outbox()
        if upcoming is not None and self.on_next_due is not None:
            self.on_next_due(upcoming)
        return handled

    async def self_check(self) -> int:
        """The system watches its own timers: any step a minute overdue is an error."""
        async with self.db.snapshot() as uow:
            late = await uow.deadlines.overdue(self.now() - SELF_CHECK_GRACE)
        TIMERS_OVERDUE.set(late)
        if late:
            log.error("%d SLA steps are more than a minute overdue and have not fired", late)
        return late

    async def _sweep_batch(self) -> int:
        now = self.now()
        try:
            async with self.db.transaction() as uow:
                rows = await uow.deadlines.due(now, BATCH)
                if rows:
                    await self._process(uow, rows, now)
            return len(rows)
        except Exception:
            log.exception("an SLA batch failed; retrying its steps one by one")
        return await self._sweep_one_by_one(now)

    async def _sweep_one_by_one(self, now: datetime) -> int:
        async with self.db.snapshot() as uow:
            rows = await uow.deadlines.due(now, BATCH)
        for row in rows:
            try:
                async with self.db.transaction() as uow:
                    claimed = await uow.deadlines.claim(row.id)
                    if claimed is not None:  # not fired meanwhile, nor held by a replica
                        await self._process(uow, [claimed], now)
            except Exception as error:
                log.exception("SLA step %s of lead %s failed", row.step, row.lead_id)
                async with self.db.transaction() as uow:
                    await uow.deadlines.finish(row.id, "failed", now, repr(error)[:500])
        return len(rows)

    async def _process(self, uow: UnitOfWork, rows: list[Any], now: datetime) -> None:
        if any(row.action == OFFER_ACTION for row in rows):
            await uow.routing.lock()  # an ended offer routes again: the lock comes first
        config = await self.configs.config(uow) or Config()
        lead_ids = {row.lead_id for row in rows}
        leads = await uow.leads.get_many(lead_ids)
        missed_by = await uow.events.missed_by(lead_ids)
        state = await read_routing_state(uow, config, now)
        open_leads = dict(state.open_leads)  # moved as this batch reassigns leads
        facts = RepFacts(open_leads, state.signals, state.assignments)
        writes = _Writes()
        raced: set[str] = set()
        # By lead (its steps in due order): leads are locked in the same order everywhere.
        for row in sorted(rows, key=lambda row: (row.lead_id, row.due_at, row.id)):
            lead = leads.get(row.lead_id)
            if row.lead_id in raced:
                continue  # a click changed the lead under us: its steps run next sweep
            if lead is None:
                writes.finish(row, "cancelled", "lead erased")
                continue
            if row.action == OFFER_ACTION:  # the accept window ended unanswered
                if await offer_timed_out(uow, lead, row.step, config, now) is None:
                    raced.add(lead.id)
                    continue
                raced.add(lead.id)  # its other steps run next sweep, on the new version
                writes.finish(row, "done")
                SLA_STEPS.labels(row.action, "fired").inc()
                continue
            try:
                outcome = run_step(
                    row.action, lead, config, open_leads, now, missed_by.get(lead.id), facts
                )
            except Exception as error:
                log.exception("SLA step %s of lead %s failed", row.step, lead.id)
                writes.finish(row, "failed", repr(error)[:500])
                continue
            if not outcome.fired:
                writes.finish(row, "cancelled", outcome.reason)
                SLA_STEPS.labels(row.action, "cancelled").inc()
                continue
            changed = await apply_owner_change(uow, lead, outcome, open_leads, now, config)
            if changed is None:
                raced.add(lead.id)
                continue
            leads[lead.id] = changed
            if outcome.assign_to:
                writes.assigned.append(outcome.assign_to)
            if outcome.missed_by:
                missed_by[lead.id] = outcome.missed_by
            self._record(writes, row, lead, outcome, now)
        await uow.routing.record_assignments(writes.assigned, now)
        await uow.deadlines.finish_many(writes.finished, now)
        await uow.events.add_many(writes.events)
        await uow.outbox.queue(writes.outbox, now)

    def _record(
        self, writes: _Writes, row: Any, lead: LeadRecord, outcome: StepOutcome, now: datetime
    ) -> None:
        late = (now - row.due_at).total_seconds()
        writes.finish(row, "done")
        data = {"step": row.step, "action": row.action, "late_seconds": round(late, 3)}
        if outcome.missed_by:
            data["missed_by"] = outcome.missed_by
        writes.events.append(
            {
                "lead_id": lead.id,
                "at": now,
                "type": outcome.event,
                "actor": SYSTEM_ACTOR,
                "reason": outcome.reason,
                "data": data,
            }
        )
        writes.outbox.extend(step_messages(lead.id, row.step, outcome))
        SLA_STEPS.labels(row.action, "fired").inc()
        if row.step.startswith("escalate:"):
            ESCALATIONS.labels(row.action).inc()
        TIMER_LATENESS.observe(max(late, 0.0))
        if row.action == "breach":
            SLA_BREACHES.inc()


async def apply_owner_change(
    uow: UnitOfWork,
    lead: LeadRecord,
    outcome: StepOutcome,
    open_leads: dict[str, int],
    now: datetime,
    config: Config,
) -> LeadRecord | None:
    """The lead after the step's owner change; None if a click won the race. The caller
    records a new owner's assignment (`record_assignments`, once per transaction, after
    every lead is changed: see the lock order above)."""
    if outcome.assign_to:
        changes: dict[str, Any] = {
            "owner": outcome.assign_to,
            "status": LeadStatus.ASSIGNED,
            "assigned_at": now,
            "assigned_day": assignment_day(outcome.assign_to, config, now),
        }
    elif outcome.release:
        changes = {
            "owner": None,
            "status": LeadStatus.QUEUED,
            "assigned_at": None,
            "assigned_day": None,
        }
    else:
        return lead
    if not await uow.leads.compare_and_set(lead.id, lead.version, now, **changes):
        return None
    if lead.owner:
        open_leads[lead.owner] = max(0, open_leads.get(lead.owner, 0) - 1)
    if outcome.assign_to:
        open_leads[outcome.assign_to] = open_leads.get(outcome.assign_to, 0) + 1
    return replace(lead, version=lead.version + 1, **changes)
