"""Erasing a person's data on request (GDPR) and after the retention period.

The lead row, its events and its timers stay (type, source, team, owner, method, rule,
times, statuses), so every count and SLA figure stays true; what could name or reach
the person goes, in Leadrouter's database and on the Slack cards already posted.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import timedelta

from bot.metrics import LEADS_ERASED
from bot.services.base import ApplicationService
from bot.services.leads import LeadNotFound
from domain.records import LeadRecord
from storage.engine import checkpoint_wal

log = logging.getLogger(__name__)

RETENTION_BATCH = 200
"""Leads erased per transaction: short transactions never hold up intake for long."""
CHECKPOINT_RETRIES = (0.05, 0.2, 0.5, 1.0)  # seconds between tries


class PrivacyService(ApplicationService):
    async def erase(self, lead_id: str, actor: str) -> LeadRecord:
        """Erase the lead's personal data; erasing an erased lead changes nothing."""
        now = self.now()
        async with self.db.transaction() as uow:
            if await uow.leads.get(lead_id) is None:
                raise LeadNotFound(f"no lead {lead_id}")
            why = f"personal data erased by {actor}"
            erased = await uow.privacy.erase([lead_id], now, actor, why)
            lead = await uow.leads.get(lead_id)
            events = await uow.events.timeline(lead_id)
        assert lead is not None
        if erased:
            LEADS_ERASED.labels("request").inc()
            self.wake_outbox()
            log.info("erased personal data of lead %s on request of %s", lead_id, actor)
            await self.checkpoint()
        return replace(lead, events=events)

    async def erase_expired(self, retention: timedelta) -> int:
        """Erase every lead received more than `retention` ago, batch by batch; several
        replicas may run this at once (rows are claimed, erasure is conditional)."""
        total = 0
        while True:
            now = self.now()
            async with self.db.transaction() as uow:
                ids = await uow.privacy.expired(now - retention, RETENTION_BATCH)
                why = f"retention: older than {retention.days} days"
                total += len(await uow.privacy.erase(ids, now, "retention", why))
            if ids:
                self.wake_outbox()
            if len(ids) < RETENTION_BATCH:
                break
        if total:
            LEADS_ERASED.labels("retention").inc(total)
            log.info("retention erased the personal data of %d leads", total)
            await self.checkpoint()
        return total

    async def checkpoint(self) -> None:
        """After an erasure batch, move SQLite's write-ahead log into the database file
        and empty it: until then the -wal file still holds the erased values. A reader
        mid-snapshot makes SQLite refuse for a moment, so it is tried a few times; the
        next erasure (or SQLite's own checkpoint) finishes a refused one."""
        for pause in CHECKPOINT_RETRIES:
            if await checkpoint_wal(self.db.engine):
                return
            await asyncio.sleep(pause)
        log.warning("the SQLite log still holds erased data until the next checkpoint")
