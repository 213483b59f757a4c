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
from domain import sla
from domain.config import Config
from domain.dedup import DedupKeys, first_duplicate
from domain.errors import FieldError, InvalidInput
from domain.experiments import route_lead
from domain.intake_plan import NewEvent, plan_routed, received_event
from domain.lead import LeadInput, LeadStatus
from domain.messages import OutboxMessage
from domain.qualification import (
    goes_to_nurture,
    nurture_decision,
    score_new_lead,
    scored_fields,
    sla_steps,
)
from domain.records import SYSTEM_ACTOR, LeadRecord
from domain.routing import Decision, RoutingState
from domain.scoring import Scoring
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


@dataclass
class _RoutingMemory:
    """The routing state of a batch, carried from lead to lead, so each lead in a batch
    rotates exactly as it would in a transaction of its own."""

    open_leads: dict[str, int]
    last_assigned: dict[str, datetime]
    credits: dict[str, dict[str, int]]

    def remember(self, decision: Decision, batch: _Batch, now: datetime) -> None:
        if decision.credits is not None and decision.team is not None:
            self.credits[decision.team] = batch.credits[decision.team] = decision.credits
        if decision.owner is not None:
            self.open_leads[decision.owner] = self.open_leads.get(decision.owner, 0) + 1
            self.last_assigned[decision.owner] = now
            batch.assigned.append(decision.owner)


class IntakeService(ApplicationService):
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
            memory = _RoutingMemory(
                await uow.leads.workload(),
                await uow.routing.last_assigned(),
                await uow.routing.credits(),
            )
            state = RoutingState(memory.open_leads, memory.last_assigned, memory.credits)
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
                # The id comes first: an experiment's arm is a hash of it (domain.experiments).
                lead_id = uuid.uuid4().hex
                scoring = score_new_lead(config, request.lead, now)
                if goes_to_nurture(config, request.lead, scoring):
                    assert scoring is not None
                    decision = nurture_decision(config, scoring, version)
                    record = self._nurture(batch, request, lead_id, config, decision, scoring, now)
                else:
                    scores = scoring.facts() if scoring else None
                    decision = route_lead(
                        request.lead, lead_id, config, state, now, version, scores
                    )
                    memory.remember(decision, batch, now)
                    record = self._plan(batch, request, lead_id, config, decision, scoring, now)
                known.append((key, record))
                results.append(IntakeResult(record, duplicate=False))
            await self._write_batch(uow, batch, now)
        return results

    def _plan(
        self,
        batch: _Batch,
        request: _Request,
        lead_id: str,
        config: Config,
        decision: Decision,
        scoring: Scoring | None,
        now: datetime,
    ) -> LeadRecord:
        """The lead, its events, its SLA steps and its Slack messages, added to the batch."""
        lead = request.lead
        policy, steps = sla_steps(config, lead.lead_type, decision.team, now)
        routed = plan_routed(lead_id, request.submitter, decision, config.admins, now)
        record = LeadRecord(
            id=lead_id,
            created_at=now,
            submitter=request.submitter,
            fields=scored_fields(config, lead, scoring),
            status=routed.status,
            owner=decision.owner,
            team=decision.team,
            method=decision.method,
            decision=decision.to_record(),
            sla_due_at=next(step.due_at for step in steps if step.step == "breach"),
            assigned_at=now if decision.owner else None,
            contacted_at=None,
            version=1,
            scoring=scoring,
        )
        snapshot = policy.model_dump(mode="json", exclude_none=True)
        batch.leads.append((record, request.idempotency_key, snapshot))
        batch.plans.append((record.id, steps))
        batch.events.extend(routed.events)
        batch.outbox.extend(routed.messages)
        return record

    def _nurture(
        self,
        batch: _Batch,
        request: _Request,
        lead_id: str,
        config: Config,
        decision: Decision,
        scoring: Scoring,
        now: datetime,
    ) -> LeadRecord:
        """A lead below the MQL line: stored for marketing, with no owner, no SLA clock
        and no message (it pages nobody)."""
        record = LeadRecord(
            id=lead_id,
            created_at=now,
            submitter=request.submitter,
            fields=scored_fields(config, request.lead, scoring),
            status=LeadStatus.NURTURE,
            owner=None,
            team=None,
            method=decision.method,
            decision=decision.to_record(),
            sla_due_at=None,
            assigned_at=None,
            contacted_at=None,
            version=1,
            scoring=scoring,
        )
        batch.leads.append((record, request.idempotency_key, None))
        batch.events += [
            received_event(record.id, request.submitter, now),
            NewEvent(record.id, now, "nurtured", SYSTEM_ACTOR, decision.reasons[0]),
        ]
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
        request.lead.phone_key,
    )
