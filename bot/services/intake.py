"""Intake: one transaction stores the lead, routes it, plans its SLA and queues its
Slack messages. When it commits, the caller may answer 201: nothing can be lost after."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from bot.services.configuration import ConfigService
from domain import sla
from domain.config import Config
from domain.lead import LeadInput, LeadStatus
from domain.records import LeadRecord
from domain.routing import Decision, RoutingState, route
from storage.uow import Database, UnitOfWork

DEFAULT_DEDUP_WINDOW = timedelta(hours=24)
SYSTEM_ACTOR = "leadrouter"


@dataclass(frozen=True)
class IntakeResult:
    lead: LeadRecord
    duplicate: bool


class IntakeService:
    def __init__(
        self,
        db: Database,
        configs: ConfigService,
        now: Callable[[], datetime],
        wake_outbox: Callable[[], None],
    ):
        self.db = db
        self.configs = configs
        self.now = now
        self.wake_outbox = wake_outbox

    async def known_lead_types(self) -> set[str] | None:
        async with self.db.snapshot() as uow:
            current = await self.configs.current(uow)
        return current[1].lead_types() if current else None

    async def submit(
        self, submitter: str, lead: LeadInput, idempotency_key: str | None
    ) -> IntakeResult:
        """Store and route one lead, or return the lead it duplicates."""
        try:
            result = await self._submit_once(submitter, lead, idempotency_key)
        except IntegrityError:
            # Another replica stored the same lead between our check and our insert.
            result = await self._submit_once(submitter, lead, idempotency_key)
        if not result.duplicate:
            self.wake_outbox()
        return result

    async def _submit_once(
        self, submitter: str, lead: LeadInput, idempotency_key: str | None
    ) -> IntakeResult:
        now = self.now()
        async with self.db.transaction() as uow:
            # Serialise intake first: dedup must see a concurrent twin's committed row
            # (READ COMMITTED on PostgreSQL), and routing needs the lock anyway.
            await uow.routing.lock()
            current = await self.configs.current(uow)
            version, config = current if current else (0, Config())
            existing = await uow.leads.find_duplicate(
                submitter,
                idempotency_key,
                lead.external_id,
                lead.email,
                now - (config.dedup_window if current else DEFAULT_DEDUP_WINDOW),
            )
            if existing is not None:
                return IntakeResult(existing, duplicate=True)
            decision = await self._decide(uow, lead, config, version, now)
            record = await self._store(uow, submitter, lead, idempotency_key, config, decision, now)
            return IntakeResult(record, duplicate=False)

    async def _decide(
        self, uow: UnitOfWork, lead: LeadInput, config: Config, version: int, now: datetime
    ) -> Decision:
        state = RoutingState(
            open_leads=await uow.leads.workload(),
            last_assigned=await uow.routing.last_assigned(),
            credits=await uow.routing.credits(),
        )
        decision = route(lead, config, state, now, version)
        if decision.credits is not None and decision.team is not None:
            await uow.routing.save_credits(decision.team, decision.credits)
        if decision.owner is not None:
            await uow.routing.record_assignment(decision.owner, now)
        return decision

    async def _store(
        self,
        uow: UnitOfWork,
        submitter: str,
        lead: LeadInput,
        idempotency_key: str | None,
        config: Config,
        decision: Decision,
        now: datetime,
    ) -> LeadRecord:
        policy = config.sla_for(lead.lead_type)
        team = config.team(decision.team) if decision.team else None
        calendar = team.business_hours.calendar() if team and team.business_hours else None
        steps = sla.plan(policy, now, calendar)
        if decision.owner:
            status = LeadStatus.ASSIGNED
        elif decision.team:
            status = LeadStatus.QUEUED
        else:
            status = LeadStatus.NEW
        record = LeadRecord(
            id=uuid.uuid4().hex,
            created_at=now,
            submitter=submitter,
            fields=lead,
            status=status,
            owner=decision.owner,
            team=decision.team,
            method=decision.method,
            decision=decision.to_record(),
            sla_due_at=next(step.due_at for step in steps if step.step == "breach"),
            assigned_at=now if decision.owner else None,
            contacted_at=None,
            version=1,
        )
        await uow.leads.add(
            record,
            idempotency_key=idempotency_key,
            sla_policy=policy.model_dump(mode="json", exclude_none=True),
        )
        await uow.events.add(record.id, now, "created", submitter, f"received from {submitter}")
        await uow.events.add(
            record.id,
            now,
            "routed",
            SYSTEM_ACTOR,
            " · ".join(decision.reasons),
            {
                "rule": decision.rule,
                "team": decision.team,
                "config_version": decision.config_version,
            },
        )
        if decision.owner:
            await uow.events.add(
                record.id,
                now,
                "assigned",
                SYSTEM_ACTOR,
                decision.reasons[-1],
                {"owner": decision.owner},
            )
        elif decision.channel:
            await uow.events.add(
                record.id,
                now,
                "offered",
                SYSTEM_ACTOR,
                f"posted to {decision.channel} for claiming",
                {"channel": decision.channel},
            )
        await uow.deadlines.add_many(record.id, steps)
        await self._queue_messages(uow, record, decision, config, now)
        return record

    async def _queue_messages(
        self, uow: UnitOfWork, lead: LeadRecord, decision: Decision, config: Config, now: datetime
    ) -> None:
        targets = [decision.owner] if decision.owner else [decision.channel]
        for target in filter(None, targets):
            await uow.outbox.add(
                dedup_key=f"lead_card:{lead.id}:{target}",
                kind="lead_card",
                target=target,
                lead_id=lead.id,
                now=now,
            )
        if decision.nobody_eligible and decision.manager:
            await uow.outbox.add(
                dedup_key=f"alert:{lead.id}:nobody_eligible",
                kind="alert",
                target=decision.manager,
                lead_id=lead.id,
                now=now,
                payload={
                    "text": "Nobody in the team could take this lead: "
                    + "; ".join(f"{s.user} {s.reason}" for s in decision.skipped)
                },
            )
        if decision.team is None:
            for admin in config.admins:
                await uow.outbox.add(
                    dedup_key=f"alert:{lead.id}:unrouted:{admin}",
                    kind="alert",
                    target=admin,
                    lead_id=lead.id,
                    now=now,
                    payload={"text": "No routing rule matched this lead; route it by hand."},
                )
