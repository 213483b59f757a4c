"""Repositories: the only place that knows SQL. Each works inside the caller's
transaction (see storage.uow); none commits on its own."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    delete,
    func,
    insert,
    not_,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.counters import Counted
from domain.dedup import DedupKeys
from domain.lead import LeadInput, LeadStatus, Method
from domain.records import LeadEvent, LeadRecord
from storage import tables as t
from storage.counters import COUNTED_FIELDS, CounterRepository

_ROUTING_LOCK = 0x1EAD0001  # PostgreSQL advisory lock id serialising routing decisions
_CONFIG_LOCK = 0x1EAD0002  # ... and configuration changes (admin saves, the first load)


class _Repository:
    def __init__(self, connection: AsyncConnection):
        self.connection = connection

    @property
    def is_postgres(self) -> bool:
        return self.connection.dialect.name == "postgresql"

    def _upsert(self, table: Any) -> Any:
        return (pg_insert if self.is_postgres else sqlite_insert)(table)


class ConfigRepository(_Repository):
    async def lock(self) -> None:
        """Hold the configuration until commit: an admin's read-check-save is then a
        compare-and-set, and replicas started together load LEADROUTER_CONFIG once (without
        it each saw none and each saved a version). SQLite: BEGIN IMMEDIATE already does."""
        if self.is_postgres:
            await self.connection.execute(
                text("SELECT pg_advisory_xact_lock(:id)"), {"id": _CONFIG_LOCK}
            )

    async def latest(self) -> tuple[int, dict[str, Any]] | None:
        row = (
            await self.connection.execute(
                select(t.config_versions.c.id, t.config_versions.c.document)
                .order_by(t.config_versions.c.id.desc())
                .limit(1)
            )
        ).first()
        return (row.id, row.document) if row else None

    async def latest_id(self) -> int | None:
        return await self.connection.scalar(select(func.max(t.config_versions.c.id)))

    async def add(self, document: dict[str, Any], actor: str, now: datetime, note: str) -> int:
        result = await self.connection.execute(
            insert(t.config_versions)
            .values(created_at=now, actor=actor, document=document, note=note)
            .returning(t.config_versions.c.id)
        )
        return int(result.scalar_one())


class LeadRepository(_Repository):
    async def get(self, lead_id: str) -> LeadRecord | None:
        row = (
            await self.connection.execute(select(t.leads).where(t.leads.c.id == lead_id))
        ).first()
        return _lead_record(row) if row else None

    async def get_many(self, lead_ids: Iterable[str]) -> dict[str, LeadRecord]:
        rows = await self.connection.execute(
            select(t.leads).where(t.leads.c.id.in_(list(lead_ids)))
        )
        return {row.id: _lead_record(row) for row in rows}

    async def add(
        self,
        lead: LeadRecord,
        *,
        idempotency_key: str | None,
        sla_policy: dict[str, Any] | None,
    ) -> None:
        await self.add_many([(lead, idempotency_key, sla_policy)])

    async def add_many(
        self, leads: Sequence[tuple[LeadRecord, str | None, dict[str, Any] | None]]
    ) -> None:
        """Insert leads with their idempotency key and SLA policy snapshot, in one statement
        (and move the counters routing reads, in the same transaction)."""
        if not leads:
            return
        await CounterRepository(self.connection).added([Counted.of(lead) for lead, _, _ in leads])
        await self.connection.execute(
            insert(t.leads),
            [
                {
                    "id": lead.id,
                    "created_at": lead.created_at,
                    "updated_at": lead.created_at,
                    "submitter": lead.submitter,
                    "idempotency_key": idempotency_key,
                    "external_id": lead.fields.external_id,
                    "email": lead.fields.email,
                    "lead_type": lead.fields.lead_type,
                    "source": lead.fields.source,
                    "fields": lead.fields.model_dump(mode="json", exclude_none=True),
                    "status": str(lead.status),
                    "owner": lead.owner,
                    "team": lead.team,
                    "method": str(lead.method),
                    "decision": lead.decision,
                    "rule": lead.decision.get("rule"),
                    "sla_policy": sla_policy,
                    "sla_due_at": lead.sla_due_at,
                    "assigned_at": lead.assigned_at,
                    "contacted_at": lead.contacted_at,
                    "version": lead.version,
                    "assigned_day": lead.assigned_day,
                }
                for lead, idempotency_key, sla_policy in leads
            ],
        )

    async def dedup_candidates(
        self, keys: Sequence[DedupKeys], email_since: datetime
    ) -> list[tuple[DedupKeys, LeadRecord]]:
        """Every stored lead that any of `keys` might repeat, with its own keys; the
        domain (domain.dedup) decides which one each new lead repeats."""
        tests = []
        for key in keys:
            if key.idempotency_key:
                tests.append(
                    and_(
                        t.leads.c.submitter == key.submitter,
                        t.leads.c.idempotency_key == key.idempotency_key,
                    )
                )
            if key.external_id:
                tests.append(
                    and_(
                        t.leads.c.submitter == key.submitter,
                        t.leads.c.external_id == key.external_id,
                    )
                )
        emails = sorted({key.email for key in keys if key.email})
        if emails:
            tests.append(and_(t.leads.c.email.in_(emails), t.leads.c.created_at >= email_since))
        if not tests:
            return []
        rows = await self.connection.execute(select(t.leads).where(or_(*tests)))
        return [
            (
                DedupKeys(
                    row.submitter, row.idempotency_key, row.external_id, row.email, row.created_at
                ),
                _lead_record(row),
            )
            for row in rows
        ]

    async def compare_and_set(
        self, lead_id: str, expected_version: int, now: datetime, **changes: Any
    ) -> bool:
        """Apply `changes` only if nobody changed the lead since we read it.

        One row updated: ours. Zero: someone else won; the caller re-reads and decides.
        A change of what the counters count (owner, status) moves them in this same
        transaction; a new owner needs `assigned_day`, their local day (for caps).
        """
        if changes.get("owner") is not None and "assigned_day" not in changes:
            raise ValueError("a new owner needs `assigned_day`, their local day, for caps")
        if changes.get("owner", 0) is None:
            changes.setdefault("assigned_day", None)
        counters = CounterRepository(self.connection)
        before = None
        if COUNTED_FIELDS.intersection(changes):
            before = await counters.counted(lead_id, expected_version)
            if before is None:
                return False
        values = {
            key: str(value) if isinstance(value, LeadStatus | Method) else value
            for key, value in changes.items()
        }
        result = await self.connection.execute(
            update(t.leads)
            .where(t.leads.c.id == lead_id, t.leads.c.version == expected_version)
            .values(version=expected_version + 1, updated_at=now, **values)
        )
        if result.rowcount != 1:
            return False
        if before is not None:
            await counters.changed(before, changes)
        return True

    async def owned_by(self, owner: str, statuses: Iterable[str], limit: int) -> list[LeadRecord]:
        """A rep's queue: most urgent first (not yet contacted, earliest SLA due)."""
        rows = await self.connection.execute(
            select(t.leads)
            .where(t.leads.c.owner == owner, t.leads.c.status.in_(list(statuses)))
            .order_by(
                t.leads.c.contacted_at.is_not(None), t.leads.c.sla_due_at, t.leads.c.created_at
            )
            .limit(limit)
        )
        return [_lead_record(row) for row in rows]

    async def unclaimed(self, teams: Iterable[str], limit: int) -> list[LeadRecord]:
        """A team pool: open leads nobody holds, oldest first."""
        rows = await self.connection.execute(
            select(t.leads)
            .where(
                t.leads.c.team.in_(list(teams)),
                t.leads.c.owner.is_(None),
                t.leads.c.status == str(LeadStatus.QUEUED),
            )
            .order_by(t.leads.c.created_at)
            .limit(limit)
        )
        return [_lead_record(row) for row in rows]

    async def workload(self, users: Iterable[str] | None = None) -> dict[str, int]:
        """Open leads per rep: what capacity and least-loaded routing look at. Read from
        the counters kept with every change (storage.counters), never counted here."""
        return await CounterRepository(self.connection).open_leads(users)


class EventRepository(_Repository):
    async def add(
        self,
        lead_id: str,
        at: datetime,
        type_: str,
        actor: str,
        reason: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        await self.connection.execute(
            insert(t.lead_events).values(
                lead_id=lead_id, at=at, type=type_, actor=actor, reason=reason, data=data
            )
        )

    async def add_many(self, events: list[dict[str, Any]]) -> None:
        """Bulk insert of `lead_id, at, type, actor, reason, data` rows."""
        if events:
            await self.connection.execute(insert(t.lead_events), events)

    async def missed_by(self, lead_ids: Iterable[str]) -> dict[str, str]:
        """Who owned each lead when its SLA breached (recorded by the breach step)."""
        rows = await self.connection.execute(
            select(t.lead_events.c.lead_id, t.lead_events.c.data).where(
                t.lead_events.c.lead_id.in_(list(lead_ids)), t.lead_events.c.type == "breached"
            )
        )
        return {
            lead_id: data["missed_by"] for lead_id, data in rows if data and data.get("missed_by")
        }

    async def timelines(self, lead_ids: Iterable[str]) -> dict[str, tuple[LeadEvent, ...]]:
        rows = await self.connection.execute(
            select(t.lead_events)
            .where(t.lead_events.c.lead_id.in_(list(lead_ids)))
            .order_by(t.lead_events.c.at, t.lead_events.c.id)
        )
        found: dict[str, list[LeadEvent]] = {}
        for row in rows:
            found.setdefault(row.lead_id, []).append(
                LeadEvent(
                    at=row.at, type=row.type, actor=row.actor, reason=row.reason, data=row.data
                )
            )
        return {lead_id: tuple(events) for lead_id, events in found.items()}

    async def timeline(self, lead_id: str) -> tuple[LeadEvent, ...]:
        return (await self.timelines([lead_id])).get(lead_id, ())


class RoutingRepository(_Repository):
    """Rotation positions and rep activity: shared by every replica, so they live here."""

    async def lock(self) -> None:
        """Serialise routing decisions across replicas (SQLite: BEGIN IMMEDIATE already does)."""
        if self.is_postgres:
            await self.connection.execute(
                text("SELECT pg_advisory_xact_lock(:id)"), {"id": _ROUTING_LOCK}
            )

    async def credits(self) -> dict[str, dict[str, int]]:
        rows = await self.connection.execute(
            select(t.rotation_state.c.team, t.rotation_state.c.state)
        )
        return {team: dict(state) for team, state in rows.all()}

    async def save_credits(self, team: str, state: dict[str, int]) -> None:
        statement = self._upsert(t.rotation_state).values(team=team, state=state, version=1)
        await self.connection.execute(
            statement.on_conflict_do_update(
                index_elements=[t.rotation_state.c.team],
                set_={"state": state, "version": t.rotation_state.c.version + 1},
            )
        )

    async def last_assigned(self) -> dict[str, datetime]:
        rows = await self.connection.execute(
            select(t.rep_activity.c.user, t.rep_activity.c.last_assigned_at)
        )
        return {user: at for user, at in rows.all()}

    async def record_assignment(self, user: str, at: datetime) -> None:
        await self.record_assignments([user], at)

    async def record_assignments(self, users: Iterable[str], at: datetime) -> None:
        rows = [{"user": user, "last_assigned_at": at} for user in dict.fromkeys(users)]
        if not rows:
            return
        statement = self._upsert(t.rep_activity)
        await self.connection.execute(
            statement.on_conflict_do_update(
                index_elements=[t.rep_activity.c.user],
                set_={"last_assigned_at": statement.excluded.last_assigned_at},
            ),
            rows,
        )


class DeadlineRepository(_Repository):
    async def add_many(self, lead_id: str, steps: Sequence[Any]) -> None:
        await self.add_plans([(lead_id, steps)])

    async def add_plans(self, plans: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """The planned steps of several leads, in one statement."""
        rows = [
            {
                "lead_id": lead_id,
                "step": s.step,
                "action": s.action,
                "due_at": s.due_at,
                "state": "pending",
            }
            for lead_id, steps in plans
            for s in steps
        ]
        if rows:
            await self.connection.execute(insert(t.deadlines), rows)

    async def cancel_pending(self, lead_id: str, now: datetime) -> int:
        result = await self.connection.execute(
            update(t.deadlines)
            .where(t.deadlines.c.lead_id == lead_id, t.deadlines.c.state == "pending")
            .values(state="cancelled", fired_at=now)
        )
        return result.rowcount

    async def due(self, now: datetime, limit: int) -> list[Row[Any]]:
        """Due pending steps, locked for this transaction (PostgreSQL skips rows another
        replica holds; SQLite's BEGIN IMMEDIATE already makes this transaction the only
        writer). The caller fires and finishes them before commit: claim and effect are
        one atomic step, so a crash fires nothing and nothing fires twice."""
        query = (
            select(t.deadlines)
            .where(t.deadlines.c.state == "pending", t.deadlines.c.due_at <= now)
            .order_by(t.deadlines.c.due_at, t.deadlines.c.id)
            .limit(limit)
        )
        if self.is_postgres:
            query = query.with_for_update(skip_locked=True)
        return list((await self.connection.execute(query)).all())

    async def finish(
        self, row_id: int, state: str, now: datetime, error: str | None = None
    ) -> bool:
        """Move a pending step to done/cancelled/failed; False if it was no longer pending."""
        result = await self.connection.execute(
            update(t.deadlines)
            .where(t.deadlines.c.id == row_id, t.deadlines.c.state == "pending")
            .values(state=state, fired_at=now, error=error)
        )
        return result.rowcount == 1

    async def finish_many(self, finished: list[dict[str, Any]], now: datetime) -> None:
        """Bulk `finish`: rows of `row_id, new_state, error`."""
        if not finished:
            return
        await self.connection.execute(
            update(t.deadlines)
            .where(t.deadlines.c.id == bindparam("row_id"), t.deadlines.c.state == "pending")
            .values(state=bindparam("new_state"), error=bindparam("error"), fired_at=now),
            finished,
        )

    async def next_due_at(self) -> datetime | None:
        return await self.connection.scalar(
            select(func.min(t.deadlines.c.due_at)).where(t.deadlines.c.state == "pending")
        )

    async def overdue(self, before: datetime) -> int:
        """Pending steps that should have fired before `before`: the self-check's count."""
        query = select(func.count()).where(
            t.deadlines.c.state == "pending", t.deadlines.c.due_at < before
        )
        return int(await self.connection.scalar(query) or 0)

    async def for_lead(self, lead_id: str) -> list[Row[Any]]:
        rows = await self.connection.execute(
            select(t.deadlines)
            .where(t.deadlines.c.lead_id == lead_id)
            .order_by(t.deadlines.c.due_at)
        )
        return list(rows.all())


class OutboxRepository(_Repository):
    async def add(
        self,
        *,
        dedup_key: str,
        kind: str,
        target: str,
        now: datetime,
        lead_id: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        """Queue one Slack call; the same dedup_key twice is queued once."""
        statement = self._upsert(t.outbox).values(
            created_at=now,
            dedup_key=dedup_key,
            lead_id=lead_id,
            kind=kind,
            target=target,
            payload=payload or {},
            state="pending",
            attempts=0,
            next_attempt_at=now,
        )
        await self.connection.execute(
            statement.on_conflict_do_nothing(index_elements=[t.outbox.c.dedup_key])
        )

    async def add_many(self, messages: list[dict[str, Any]], now: datetime) -> None:
        """Bulk `add`: rows of `dedup_key, kind, target, lead_id, payload`."""
        if not messages:
            return
        rows = [
            {
                **message,
                "created_at": now,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now,
            }
            for message in messages
        ]
        statement = self._upsert(t.outbox).on_conflict_do_nothing(
            index_elements=[t.outbox.c.dedup_key]
        )
        await self.connection.execute(statement, rows)

    async def claim_due(
        self,
        owner: str,
        now: datetime,
        lease_until: datetime,
        limit: int,
        hold: ColumnElement[bool] | None = None,
    ) -> list[Row[Any]]:
        """Lease up to `limit` due rows to `owner`; a crashed owner's lease simply expires.
        Rows matching `hold` are left where they are (cards a digest will take)."""
        due = and_(
            t.outbox.c.state == "pending",
            t.outbox.c.next_attempt_at <= now,
            or_(t.outbox.c.lease_until.is_(None), t.outbox.c.lease_until < now),
            *([not_(hold)] if hold is not None else []),
        )
        query = select(t.outbox.c.id).where(due).order_by(t.outbox.c.id).limit(limit)
        if self.is_postgres:
            query = query.with_for_update(skip_locked=True)
        ids = list((await self.connection.execute(query)).scalars())
        if not ids:
            return []
        interrupted = t.outbox.c.lease_until.is_not(None)  # an earlier holder never finished
        await self.connection.execute(
            update(t.outbox)
            .where(t.outbox.c.id.in_(ids), due)
            .values(
                lease_owner=owner,
                lease_until=lease_until,
                maybe_sent=or_(t.outbox.c.maybe_sent, interrupted),
            )
        )
        rows = await self.connection.execute(
            select(t.outbox)
            .where(t.outbox.c.id.in_(ids), t.outbox.c.lease_owner == owner)
            .order_by(t.outbox.c.id)
        )
        return list(rows.all())

    async def renew_lease(self, row_id: int, owner: str, now: datetime, until: datetime) -> bool:
        """Extend our lease before a send; False if it lapsed and may be someone else's."""
        result = await self.connection.execute(
            update(t.outbox)
            .where(
                t.outbox.c.id == row_id,
                t.outbox.c.lease_owner == owner,
                t.outbox.c.state == "pending",
                t.outbox.c.lease_until > now,
            )
            .values(lease_until=until)
        )
        return result.rowcount == 1

    async def defer_many(self, deferred: list[dict[str, Any]], owner: str) -> None:
        """Give back leased rows (`row_id`, `at`) to be due again at `at`, without counting
        an attempt: the rate budget held them, not a failure."""
        if not deferred:
            return
        await self.connection.execute(
            update(t.outbox)
            .where(t.outbox.c.id == bindparam("row_id"), t.outbox.c.lease_owner == owner)
            .values(next_attempt_at=bindparam("at"), lease_owner=None, lease_until=None),
            deferred,
        )

    async def release_leases(self, owner: str) -> int:
        """At start-up: rows our previous incarnation leased before it died are due now."""
        result = await self.connection.execute(
            update(t.outbox)
            .where(t.outbox.c.lease_owner == owner, t.outbox.c.state == "pending")
            .values(lease_owner=None, lease_until=None, maybe_sent=True)
        )
        return result.rowcount

    async def mark_sent_many(self, row_ids: list[int], owner: str, now: datetime) -> None:
        if not row_ids:
            return
        await self.connection.execute(
            update(t.outbox)
            .where(t.outbox.c.id == bindparam("row_id"), t.outbox.c.lease_owner == owner)
            .values(
                state="sent",
                sent_at=now,
                lease_owner=None,
                lease_until=None,
                attempts=t.outbox.c.attempts + 1,
            ),
            [{"row_id": row_id} for row_id in row_ids],
        )

    async def mark_sent(self, row_id: int, owner: str, now: datetime) -> None:
        await self.mark_sent_many([row_id], owner, now)

    async def retry_later(
        self,
        row_id: int,
        owner: str,
        at: datetime,
        error: str,
        *,
        count: bool = True,
        maybe_sent: bool = False,
    ) -> None:
        """Due again at `at`. `maybe_sent`: the call may have reached Slack (a timeout),
        so the next attempt looks for it before posting."""
        attempts = t.outbox.c.attempts + (1 if count else 0)
        flagged = {"maybe_sent": True} if maybe_sent else {}
        await self.connection.execute(
            update(t.outbox)
            .where(t.outbox.c.id == row_id, t.outbox.c.lease_owner == owner)
            .values(
                next_attempt_at=at,
                error=error,
                lease_owner=None,
                lease_until=None,
                attempts=attempts,
                **flagged,
            )
        )

    async def mark_dead(self, row_id: int, owner: str, error: str) -> bool:
        """Give up on a row; False if `owner` no longer held it (someone else decides)."""
        result = await self.connection.execute(
            update(t.outbox)
            .where(t.outbox.c.id == row_id, t.outbox.c.lease_owner == owner)
            .values(
                state="dead",
                error=error,
                lease_owner=None,
                lease_until=None,
                attempts=t.outbox.c.attempts + 1,
            )
        )
        return result.rowcount == 1

    async def next_due_at(self) -> datetime | None:
        return await self.connection.scalar(
            select(func.min(t.outbox.c.next_attempt_at)).where(t.outbox.c.state == "pending")
        )

    async def oldest_pending_at(self) -> datetime | None:
        """When the longest-waiting pending call was queued: the outbox's lag."""
        return await self.connection.scalar(
            select(func.min(t.outbox.c.created_at)).where(t.outbox.c.state == "pending")
        )

    async def depth(self) -> int:
        return int(
            await self.connection.scalar(select(func.count()).where(t.outbox.c.state == "pending"))
            or 0
        )


class SenderRepository(_Repository):
    """The outbox dispatchers alive now (a heartbeat each), to split Slack's limits."""

    async def heartbeat(self, worker: str, now: datetime, alive_after: datetime) -> int:
        """Record `worker` as alive and count the senders seen since `alive_after`,
        itself included; senders silent for a day are forgotten."""
        statement = self._upsert(t.outbox_senders).values(worker=worker, seen_at=now)
        await self.connection.execute(
            statement.on_conflict_do_update(index_elements=["worker"], set_={"seen_at": now})
        )
        senders = t.outbox_senders
        await self.connection.execute(
            delete(senders).where(senders.c.seen_at < alive_after - timedelta(days=1))
        )
        alive = await self.connection.execute(
            select(func.count()).select_from(senders).where(senders.c.seen_at >= alive_after)
        )
        return max(1, int(alive.scalar_one()))

    async def leave(self, worker: str) -> None:
        """A clean stop: the others take its share at their next heartbeat."""
        await self.connection.execute(
            delete(t.outbox_senders).where(t.outbox_senders.c.worker == worker)
        )


class MessageRepository(_Repository):
    """Where each lead's card was posted, so state changes edit that same message."""

    async def record(self, lead_id: str, channel: str, ts: str, kind: str) -> None:
        statement = self._upsert(t.lead_messages).values(
            lead_id=lead_id, channel=channel, ts=ts, kind=kind
        )
        await self.connection.execute(
            statement.on_conflict_do_update(
                index_elements=[t.lead_messages.c.lead_id, t.lead_messages.c.channel],
                set_={"ts": ts, "kind": kind},
            )
        )

    async def for_lead(self, lead_id: str) -> list[tuple[str, str]]:
        rows = await self.connection.execute(
            select(t.lead_messages.c.channel, t.lead_messages.c.ts).where(
                t.lead_messages.c.lead_id == lead_id
            )
        )
        return [(channel, ts) for channel, ts in rows.all()]


def _lead_record(row: Row[Any]) -> LeadRecord:
    return LeadRecord(
        id=row.id,
        created_at=row.created_at,
        submitter=row.submitter,
        fields=_fields(row),
        status=LeadStatus(row.status),
        owner=row.owner,
        team=row.team,
        method=Method(row.method),
        decision=row.decision,
        sla_due_at=row.sla_due_at,
        assigned_at=row.assigned_at,
        contacted_at=row.contacted_at,
        version=row.version,
        erased_at=row.erased_at,
        assigned_day=row.assigned_day,
    )


def _fields(row: Row[Any]) -> LeadInput:
    """An erased lead keeps only anonymous fields, which validation (email or phone
    required) would refuse; they were validated when the lead arrived."""
    if row.erased_at is not None:
        return LeadInput.model_construct(**row.fields)
    return LeadInput.model_validate(row.fields)
