"""The SLA timer sweeper. Deadlines are rows; APScheduler is only the alarm clock that
calls `sweep` every second and at the next due time.

Each batch is one transaction: lock due rows, decide each step (domain.escalation),
apply its effects (owner change by compare-and-set, events, outbox rows) and mark it
done, then commit. A crash before commit fires nothing; a second replica skips the
locked rows; the (lead, step) unique key means a step exists once and is finished once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.metrics import SLA_BREACHES, SLA_STEPS, TIMER_LATENESS, TIMERS_OVERDUE
from bot.services.configuration import ConfigService
from bot.services.intake import SYSTEM_ACTOR
from domain.config import Config
from domain.escalation import StepOutcome, run_step
from domain.lead import LeadStatus
from domain.records import LeadRecord
from storage.uow import Database, UnitOfWork

log = logging.getLogger(__name__)

BATCH = 200
SELF_CHECK_GRACE = timedelta(minutes=1)


class LeadChanged(Exception):
    """The lead changed under us (a click won the race); the step runs on the next sweep."""


class TimerSweeper:
    def __init__(
        self,
        db: Database,
        configs: ConfigService,
        now: Callable[[], datetime],
        wake_outbox: Callable[[], None],
        arm: Callable[[datetime], None] = lambda _when: None,
    ):
        self.db = db
        self.configs = configs
        self.now = now
        self.wake_outbox = wake_outbox
        self.arm = arm
        self._lock = asyncio.Lock()

    async def sweep(self) -> int:
        """Fire every due step; then arm the alarm for the next one."""
        fired = 0
        async with self._lock:
            while True:
                count = await self._sweep_batch()
                fired += count
                if count < BATCH:
                    break
            async with self.db.snapshot() as uow:
                upcoming = await uow.deadlines.next_due_at()
        if fired:
            self.wake_outbox()
        if upcoming is not None:
            self.arm(upcoming)
        return fired

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
        async with self.db.transaction() as uow:
            rows = await uow.deadlines.due(now, BATCH)
            if not rows:
                return 0
            current = await self.configs.current(uow)
            config = current[1] if current else Config()
            open_leads = await uow.leads.workload()
            for row in rows:
                try:
                    async with uow.connection.begin_nested():
                        await self._fire(uow, row, config, open_leads, now)
                except LeadChanged:
                    continue
                except Exception as error:
                    log.exception("SLA step %s of lead %s failed", row.step, row.lead_id)
                    await uow.deadlines.finish(row.id, "failed", now, repr(error)[:500])
        return len(rows)

    async def _fire(
        self, uow: UnitOfWork, row: Any, config: Config, open_leads: dict[str, int], now: datetime
    ) -> None:
        lead = await uow.leads.get(row.lead_id)
        if lead is None:
            await uow.deadlines.finish(row.id, "cancelled", now, "lead erased")
            return
        breach = await uow.events.latest(lead.id, "breached")
        missed_by = (breach.data or {}).get("missed_by") if breach else None
        outcome = run_step(row.action, lead, config, open_leads, now, missed_by)
        if not outcome.fired:
            await uow.deadlines.finish(row.id, "cancelled", now, outcome.reason)
            SLA_STEPS.labels(row.action, "cancelled").inc()
            return
        await self._apply_owner_change(uow, lead, outcome, open_leads, now)
        await uow.deadlines.finish(row.id, "done", now)
        late = (now - row.due_at).total_seconds()
        await uow.events.add(
            lead.id,
            now,
            outcome.event,
            SYSTEM_ACTOR,
            outcome.reason,
            {
                "step": row.step,
                "action": row.action,
                "late_seconds": round(late, 3),
                **({"missed_by": outcome.missed_by} if outcome.missed_by else {}),
            },
        )
        await self._queue_messages(uow, lead, row.step, outcome, now)
        SLA_STEPS.labels(row.action, "fired").inc()
        TIMER_LATENESS.observe(max(late, 0.0))
        if row.action == "breach":
            SLA_BREACHES.inc()

    async def _apply_owner_change(
        self,
        uow: UnitOfWork,
        lead: LeadRecord,
        outcome: StepOutcome,
        open_leads: dict[str, int],
        now: datetime,
    ) -> None:
        if outcome.assign_to:
            changes = {
                "owner": outcome.assign_to,
                "status": LeadStatus.ASSIGNED,
                "assigned_at": now,
            }
        elif outcome.release:
            changes = {"owner": None, "status": LeadStatus.QUEUED, "assigned_at": None}
        else:
            return
        if not await uow.leads.compare_and_set(lead.id, lead.version, now, **changes):
            raise LeadChanged
        if lead.owner:
            open_leads[lead.owner] = max(0, open_leads.get(lead.owner, 0) - 1)
        if outcome.assign_to:
            open_leads[outcome.assign_to] = open_leads.get(outcome.assign_to, 0) + 1
            await uow.routing.record_assignment(outcome.assign_to, now)

    async def _queue_messages(
        self, uow: UnitOfWork, lead: LeadRecord, step: str, outcome: StepOutcome, now: datetime
    ) -> None:
        for notice in outcome.notices:
            await uow.outbox.add(
                dedup_key=f"notice:{lead.id}:{step}:{notice.target}",
                kind="alert",
                target=notice.target,
                lead_id=lead.id,
                now=now,
                payload={"text": notice.text},
            )
        for target in filter(None, (outcome.assign_to, outcome.repost_channel)):
            await uow.outbox.add(
                dedup_key=f"lead_card:{lead.id}:{target}:{step}",
                kind="lead_card",
                target=target,
                lead_id=lead.id,
                now=now,
            )
        if outcome.update_card:
            await uow.outbox.add(
                dedup_key=f"card_update:{lead.id}:{step}",
                kind="card_update",
                target=lead.id,
                lead_id=lead.id,
                now=now,
            )
