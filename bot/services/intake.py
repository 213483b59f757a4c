"""Intake: one transaction stores a lead, routes it, plans its SLA and queues its Slack
messages. When it commits, the caller may answer 201: nothing can be lost after.

Requests go through a group commit (storage.group_commit): those that arrive while a
transaction is being written are stored together in the next, with one statement per
table instead of per lead, and each is answered only after its own commit.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from bot.services.base import ApplicationService
from bot.services.routing_facts import SlackFactsCache, read_routing_state
from domain import sla
from domain.config import Config
from domain.dedup import DedupKeys, first_duplicate
from domain.errors import FieldError, InvalidInput
from domain.intake_plan import NewEvent, plan_routed
from domain.lead import LeadInput
from domain.messages import OutboxMessage
from domain.offers import offer_event, offer_step, window_for
from domain.records import SYSTEM_ACTOR, LeadRecord
from domain.routing import Decision, route
from domain.routing_memory import RoutingMemory, assignment_day
from storage.group_commit import GroupCommit
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

DEFAULT_DEDUP_WINDOW = timedelta(hours=24)
MAX_BATCH = 64


@dataclass(frozen=True)
class IntakeResult:
    lead: LeadRecord
    duplicate: bool


@dataclass(frozen=True)
class _Request:
    submitter: str
    lead: LeadInput
    idempotency_key: str | None


@dataclass
class _Batch:
    """Everything one intake transaction writes, gathered while routing in memory."""

    leads: list[tuple[LeadRecord, str | None, dict[str, Any]]] = field(default_factory=list)
    events: list[NewEvent] = field(default_factory=list)
    plans: list[tuple[str, list[sla.PlannedStep]]] = field(default_factory=list)
    outbox: list[OutboxMessage] = field(default_factory=list)
    credits: dict[str, dict[str, int]] = field(default_factory=dict)
    assigned: list[str] = field(default_factory=list)


class IntakeService(ApplicationService):
    @cached_property
    def _slack(self) -> SlackFactsCache:
        return SlackFactsCache()

    @cached_property
    def _writes(self) -> GroupCommit[_Request, IntakeResult]:
        return GroupCommit(self._store, MAX_BATCH)

    async def submit(
        self, submitter: str, lead: LeadInput, idempotency_key: str | None
    ) -> IntakeResult:
        """Store and route one lead, or return the lead it duplicates; returns after the
        commit. A lead type the configuration does not know raises InvalidInput."""
        result = await self._writes.submit(_Request(submitter, lead, idempotency_key))
        if not result.duplicate:
            self.wake_outbox()
        return result

    async def _store(self, requests: list[_Request]) -> list[IntakeResult | Exception]:
        now = self.now()
        async with self.db.transaction() as uow:
            # Serialise intake first: dedup must see a concurrent twin's committed row
            # (READ COMMITTED on PostgreSQL), and routing needs the lock anyway.
            await uow.routing.lock()
            current = await self.configs.current(uow)
            version, config = current if current else (0, Config())
            since = now - (config.dedup_window if current else DEFAULT_DEDUP_WINDOW)
            keys = [_keys(request, now) for request in requests]
            known = await uow.leads.dedup_candidates(keys, since)
            memory = RoutingMemory(await read_routing_state(uow, config, now, self._slack))
            batch = _Batch()
            results: list[IntakeResult | Exception] = []
            for request, key in zip(requests, keys, strict=True):
                if current and request.lead.lead_type not in config.lead_types():
                    results.append(_unknown_type(config))
                    continue
                existing = first_duplicate(key, known, since)
                if existing is not None:
                    results.append(IntakeResult(existing, duplicate=True))
                    continue
                decision = route(request.lead, config, memory.state, now, version)
                memory.remember(decision, request.lead.lead_type, config, now)
                if decision.owner is not None:
                    batch.assigned.append(decision.owner)
                record = self._plan(batch, request, config, decision, now)
                known.append((key, record))
                results.append(IntakeResult(record, duplicate=False))
            batch.credits = memory.changed_credits
            await self._write_batch(uow, batch, now)
        return results

    def _plan(
        self,
        batch: _Batch,
        request: _Request,
        config: Config,
        decision: Decision,
        now: datetime,
    ) -> LeadRecord:
        """The lead, its events, its SLA steps and its Slack messages, added to the batch."""
        lead = request.lead
        policy = config.sla_for(lead.lead_type)
        team = config.team(decision.team) if decision.team else None
        calendar = team.business_hours.calendar() if team and team.business_hours else None
        steps = sla.plan(policy, now, calendar)
        window = window_for(config, decision)
        offer = offer_step(1, decision.owner, now, window) if window and decision.owner else None
        lead_id = uuid.uuid4().hex
        routed = plan_routed(lead_id, request.submitter, decision, config.admins, now)
        record = LeadRecord(
            id=lead_id,
            created_at=now,
            submitter=request.submitter,
            fields=lead,
            status=routed.status,
            owner=decision.owner,
            team=decision.team,
            method=decision.method,
            decision=decision.to_record(),
            sla_due_at=next(step.due_at for step in steps if step.step == "breach"),
            assigned_at=now if decision.owner else None,
            contacted_at=None,
            version=1,
            assigned_day=assignment_day(decision.owner, config, now) if decision.owner else None,
        )
        snapshot = policy.model_dump(mode="json", exclude_none=True)
        batch.leads.append((record, request.idempotency_key, snapshot))
        batch.plans.append((record.id, [*steps, offer] if offer else steps))
        batch.events.extend(routed.events)
        if offer is not None and decision.owner is not None:
            kind, why, data = offer_event(1, decision.owner, offer.due_at)
            batch.events.append(NewEvent(record.id, now, kind, SYSTEM_ACTOR, why, data))
        batch.outbox.extend(routed.messages)
        return record

    async def _write_batch(self, uow: UnitOfWork, batch: _Batch, now: datetime) -> None:
        await uow.leads.add_many(batch.leads)
        await uow.events.add_many([event.row() for event in batch.events])
        await uow.deadlines.add_plans(batch.plans)
        await uow.outbox.queue(batch.outbox, now)
        for team, credits in batch.credits.items():
            await uow.routing.save_credits(team, credits)
        await uow.routing.record_assignments(batch.assigned, now)


def _unknown_type(config: Config) -> InvalidInput:
    known = ", ".join(sorted(config.lead_types()))
    return InvalidInput([FieldError("lead_type", f"unknown lead type; known: {known}")])


def _keys(request: _Request, now: datetime) -> DedupKeys:
    return DedupKeys(
        request.submitter,
        request.idempotency_key,
        request.lead.external_id,
        request.lead.email,
        now,
    )
