"""Intake: one transaction stores a lead, routes it, plans its SLA and queues its Slack
messages. When it commits, the caller may answer 201: nothing can be lost after.

Group commit: requests that arrive while a transaction is being written wait for the
next one and are stored together, with one statement per table instead of per lead.
Alone, a lead is written at once; under load, the cost of a transaction (the SQLite
write lock and fsync, the PostgreSQL routing lock) is shared. Each request is still
answered only after the transaction that holds its lead has committed.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.services.configuration import ConfigService
from domain import sla
from domain.config import Config
from domain.dedup import DedupKeys, first_duplicate
from domain.lead import LeadInput, LeadStatus
from domain.records import LeadRecord
from domain.routing import Decision, RoutingState, route
from storage.uow import Database, UnitOfWork

log = logging.getLogger(__name__)

DEFAULT_DEDUP_WINDOW = timedelta(hours=24)
SYSTEM_ACTOR = "leadrouter"
MAX_BATCH = 64


@dataclass(frozen=True)
class IntakeResult:
    lead: LeadRecord
    duplicate: bool


@dataclass
class _Request:
    submitter: str
    lead: LeadInput
    idempotency_key: str | None
    answer: asyncio.Future[IntakeResult]


@dataclass
class _Batch:
    """Everything one intake transaction writes, gathered while routing in memory."""

    leads: list[tuple[LeadRecord, str | None, dict[str, Any]]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    plans: list[tuple[str, list[sla.PlannedStep]]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    credits: dict[str, dict[str, int]] = field(default_factory=dict)
    assigned: list[str] = field(default_factory=list)

    def event(
        self,
        lead_id: str,
        at: datetime,
        type_: str,
        actor: str,
        reason: str,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.events.append(
            {
                "lead_id": lead_id,
                "at": at,
                "type": type_,
                "actor": actor,
                "reason": reason,
                "data": data,
            }
        )

    def message(
        self,
        dedup_key: str,
        kind: str,
        target: str,
        lead_id: str,
        payload: dict[str, Any] | None = None,
    ) -> None:
        self.outbox.append(
            {
                "dedup_key": dedup_key,
                "kind": kind,
                "target": target,
                "lead_id": lead_id,
                "payload": payload or {},
            }
        )


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
        self._waiting: list[_Request] = []
        self._writer: asyncio.Task[None] | None = None

    async def known_lead_types(self) -> set[str] | None:
        async with self.db.snapshot() as uow:
            current = await self.configs.current(uow)
        return current[1].lead_types() if current else None

    async def submit(
        self, submitter: str, lead: LeadInput, idempotency_key: str | None
    ) -> IntakeResult:
        """Store and route one lead, or return the lead it duplicates; returns after commit."""
        request = _Request(
            submitter, lead, idempotency_key, asyncio.get_running_loop().create_future()
        )
        self._waiting.append(request)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_waiting(), name="intake-writer")
        return await request.answer

    async def _write_waiting(self) -> None:
        while self._waiting:
            batch = self._waiting[:MAX_BATCH]
            del self._waiting[:MAX_BATCH]
            await self._write(batch)

    async def _write(self, requests: list[_Request]) -> None:
        """One transaction for the batch; if it fails, each request alone, so one bad
        request (or a concurrent twin on another replica) fails only itself."""
        try:
            results = await self._store(requests)
        except Exception:
            if len(requests) == 1:
                await self._store_alone(requests[0])
                return
            log.warning("an intake batch of %d failed; storing one by one", len(requests))
            for request in requests:
                await self._store_alone(request)
            return
        for request, result in zip(requests, results, strict=True):
            request.answer.set_result(result)
        if any(not result.duplicate for result in results):
            self.wake_outbox()

    async def _store_alone(self, request: _Request) -> None:
        for attempt in range(2):  # a unique-key race with another replica resolves on retry
            try:
                (result,) = await self._store([request])
            except Exception as error:
                if attempt == 1:
                    request.answer.set_exception(error)
                continue
            request.answer.set_result(result)
            if not result.duplicate:
                self.wake_outbox()
            return

    async def _store(self, requests: list[_Request]) -> list[IntakeResult]:
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
            results = []
            for request, key in zip(requests, keys, strict=True):
                existing = first_duplicate(key, known, since)
                if existing is not None:
                    results.append(IntakeResult(existing, duplicate=True))
                    continue
                decision = route(request.lead, config, state, now, version)
                memory.remember(decision, batch, now)
                record = self._plan(batch, request, config, decision, now)
                known.append((key, record))
                results.append(IntakeResult(record, duplicate=False))
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
        if decision.owner:
            status = LeadStatus.ASSIGNED
        elif decision.team:
            status = LeadStatus.QUEUED
        else:
            status = LeadStatus.NEW
        record = LeadRecord(
            id=uuid.uuid4().hex,
            created_at=now,
            submitter=request.submitter,
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
        snapshot = policy.model_dump(mode="json", exclude_none=True)
        batch.leads.append((record, request.idempotency_key, snapshot))
        batch.plans.append((record.id, steps))
        batch.event(
            record.id, now, "created", request.submitter, f"received from {request.submitter}"
        )
        batch.event(
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
            batch.event(
                record.id,
                now,
                "assigned",
                SYSTEM_ACTOR,
                decision.reasons[-1],
                {"owner": decision.owner},
            )
        elif decision.channel:
            batch.event(
                record.id,
                now,
                "offered",
                SYSTEM_ACTOR,
                f"posted to {decision.channel} for claiming",
                {"channel": decision.channel},
            )
        _queue_messages(batch, record, decision, config)
        return record

    async def _write_batch(self, uow: UnitOfWork, batch: _Batch, now: datetime) -> None:
        await uow.leads.add_many(batch.leads)
        await uow.events.add_many(batch.events)
        await uow.deadlines.add_plans(batch.plans)
        await uow.outbox.add_many(batch.outbox, now)
        for team, credits in batch.credits.items():
            await uow.routing.save_credits(team, credits)
        await uow.routing.record_assignments(batch.assigned, now)


def _keys(request: _Request, now: datetime) -> DedupKeys:
    return DedupKeys(
        request.submitter,
        request.idempotency_key,
        request.lead.external_id,
        request.lead.email,
        now,
    )


def _queue_messages(batch: _Batch, lead: LeadRecord, decision: Decision, config: Config) -> None:
    target = decision.owner or decision.channel
    if target:
        batch.message(f"lead_card:{lead.id}:{target}", "lead_card", target, lead.id)
    if decision.nobody_eligible and decision.manager:
        skipped = "; ".join(f"{skip.user} {skip.reason}" for skip in decision.skipped)
        batch.message(
            f"alert:{lead.id}:nobody_eligible",
            "alert",
            decision.manager,
            lead.id,
            {"text": f"Nobody in the team could take this lead: {skipped}"},
        )
    if decision.team is None:
        for admin in config.admins:
            batch.message(
                f"alert:{lead.id}:unrouted:{admin}",
                "alert",
                admin,
                lead.id,
                {"text": "No routing rule matched this lead; route it by hand."},
            )
