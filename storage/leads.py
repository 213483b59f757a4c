"""Leads: insert, read, compare-and-set their owner and status, dedup candidates."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    and_,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.counters import Counted
from domain.dedup import DedupKeys
from domain.lead import LeadInput, LeadStatus, Method
from domain.records import LeadRecord
from domain.scoring import Scoring
from storage import tables as t
from storage.counters import COUNTED_FIELDS, CounterRepository
from storage.repository import Repository


class LeadRepository(Repository):
    def __init__(self, connection: AsyncConnection, counters: CounterRepository | None = None):
        super().__init__(connection)
        self.counters = counters or CounterRepository(connection)

    async def get(self, lead_id: str) -> LeadRecord | None:
        row = (
            await self.connection.execute(select(t.leads).where(t.leads.c.id == lead_id))
        ).first()
        return _lead_record(row) if row else None

    async def get_locked(self, lead_id: str) -> LeadRecord | None:
        """The lead, its row locked to the end of the transaction (PostgreSQL; SQLite's
        one writer already serialises): for changes that always apply, such as an
        activity, so concurrent ones queue instead of losing compare-and-set races."""
        query = select(t.leads).where(t.leads.c.id == lead_id)
        if self.is_postgres:
            query = query.with_for_update()
        row = (await self.connection.execute(query)).first()
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
        """Insert leads with their idempotency key and SLA policy snapshot, in one statement.
        `phone_key` is written only by a batch that has one (phone-only leads); the rest
        leave the column NULL, as do rows stored before it existed. The scoring columns
        are written when the batch is scored (one configuration scores all of a batch or
        none of it), so a configuration without a model writes the rows it wrote before
        scoring existed."""
        if not leads:
            return
        # The counters routing reads move in the same transaction (storage.counters).
        await self.counters.added([Counted.of(lead) for lead, _, _ in leads])
        scored = any(lead.scoring is not None for lead, _, _ in leads)
        # The experiment columns are written only when a lead of the batch took part in
        # one: otherwise the statement is the one from before experiments (and runs on a
        # schema older than migration 0006_experiments, as the migration tests need).
        in_experiment = any(lead.decision.get("arm") for lead, _, _ in leads)
        rows = [
            {
                **(scoring_columns(lead.scoring) if scored else {}),
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
                **(
                    {
                        "experiment": lead.decision.get("experiment"),
                        "arm": lead.decision.get("arm"),
                    }
                    if in_experiment
                    else {}
                ),
            }
            for lead, idempotency_key, sla_policy in leads
        ]
        phones = [lead.fields.phone_key for lead, _key, _policy in leads]
        if any(phones):
            for row, phone in zip(rows, phones, strict=True):
                row["phone_key"] = phone
        await self.connection.execute(insert(t.leads), rows)

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
        phones = sorted({key.phone for key in keys if key.phone and not key.email})
        if phones:
            tests.append(and_(t.leads.c.phone_key.in_(phones), t.leads.c.created_at >= email_since))
        if not tests:
            return []
        rows = await self.connection.execute(select(t.leads).where(or_(*tests)))
        return [
            (
                DedupKeys(
                    row.submitter,
                    row.idempotency_key,
                    row.external_id,
                    row.email,
                    row.created_at,
                    row.phone_key,
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
        counters = self.counters
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
        return await self.counters.open_leads(users)


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
        scoring=Scoring.from_record(row.scoring) if row.scoring else None,
    )


def scoring_columns(scoring: Scoring | None) -> dict[str, Any]:
    """The lead's scoring columns: grade, model score and MQL for stats to group by, and
    the whole record with its reasons."""
    if scoring is None:
        return {"grade": None, "model_score": None, "mql": None, "scoring": None}
    return {
        "grade": scoring.grade,
        "model_score": scoring.score,
        "mql": scoring.mql,
        "scoring": scoring.to_record(),
    }


def _fields(row: Row[Any]) -> LeadInput:
    """An erased lead keeps only anonymous fields, which validation (email or phone
    required) would refuse; they were validated when the lead arrived."""
    if row.erased_at is not None:
        return LeadInput.model_construct(**row.fields)
    return LeadInput.model_validate(row.fields)
