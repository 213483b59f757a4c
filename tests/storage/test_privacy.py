"""GDPR erasure and retention, on SQLite and PostgreSQL.

Why: erasure must leave nothing that names or reaches the person anywhere in the
database (lead, timeline, queued Slack calls), must keep the anonymous facts stats
count, must be idempotent, and retention must erase each lead once even when several
replicas run it at the same moment.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.services.configuration import ConfigService
from bot.services.leads import LeadNotFound
from bot.services.privacy import RETENTION_BATCH, PrivacyService
from domain.dedup import DedupKeys
from domain.lead import LeadStatus
from harness.storage import T0, make_lead, migrated, race_as_two_replicas
from storage import tables as t
from storage.uow import Database

PERSONAL = {
    "email": "jo.prospect@prospect.io",
    "first_name": "Joanna",
    "last_name": "Prospectova",
    "phone": "+1 555 867 5309",
    "company": "Prospect Widgets",
    "company_domain": "prospect-widgets.io",
    "external_id": "crm-4711",
    "attributes": {"linkedin": "in/joanna-prospectova"},
}
SECRET_WORDS = ("prospect", "joanna", "crm-4711", "linkedin")
PHONE = re.compile(r"867\D{0,3}5309")
"""The phone however it is written. Not a bare "5309": four digits turn up by chance in
the random ids and timestamps of the dump (this test failed so, about once in 200)."""


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    async with migrated(db_url) as database:
        yield database


def _service(db: Database, now: datetime, woken: list[int] | None = None) -> PrivacyService:
    def wake() -> None:
        if woken is not None:
            woken.append(1)

    return PrivacyService(db, ConfigService(), lambda: now, wake)


async def _store_full_lead(db: Database) -> str:
    """A lead with every place personal data can end up: fields, key columns, decision
    reasons, timeline notes, queued and sent Slack payloads, a timer, a posted card."""
    fields = dict(PERSONAL)
    lead = make_lead(
        email=fields.pop("email"),
        external_id=fields.pop("external_id"),
        owner="U0ALICE",
        status=LeadStatus.ASSIGNED,
        source="web_form",
        **fields,
    )
    lead = replace(
        lead,
        decision={
            "rule": "known accounts",
            "reasons": ["Rule matched (company_domain = prospect-widgets.io)"],
            "config_version": 3,
            "candidates": ["U0ALICE"],
            "skipped": [],
        },
    )
    async with db.transaction() as uow:
        await uow.leads.add(lead, idempotency_key="form-joanna-1", sla_policy=None)
        await uow.events.add(lead.id, T0, "routed", "system", "domain = prospect-widgets.io")
        await uow.events.add(
            lead.id, T0, "contacted", "crm", "Called Joanna on +1 555 867 5309", {"n": 1}
        )
        await uow.outbox.add(
            dedup_key=f"alert:{lead.id}",
            kind="alert",
            target="U0MANAGER",
            lead_id=lead.id,
            now=T0,
            payload={"text": "Joanna Prospectova waits"},
        )
        await uow.outbox.add(
            dedup_key=f"lead_card:{lead.id}",
            kind="lead_card",
            target="U0ALICE",
            lead_id=lead.id,
            now=T0,
        )
        await uow.messages.record(lead.id, "DU0ALICE", "1700000000.000100", "card")
        await uow.deadlines.add_plans([(lead.id, [_Step("remind_50", "remind", T0)])])
    return lead.id


class _Step:
    def __init__(self, step: str, action: str, due_at: datetime):
        self.step, self.action, self.due_at = step, action, due_at


async def _dump(db: Database) -> str:
    """Every row of every table, as one text to search for leftovers."""
    async with db.snapshot() as uow:
        rows = []
        for table in t.metadata.sorted_tables:
            rows += [dict(row._mapping) for row in await uow.connection.execute(select(table))]
    return json.dumps(rows, default=str).lower()


async def test_erasure_leaves_nothing_personal_and_keeps_the_facts(db: Database) -> None:
    lead_id = await _store_full_lead(db)
    before = await _dump(db)  # the scan below can see what it looks for
    assert "joanna" in before and PHONE.search(before)
    woken: list[int] = []
    now = T0 + timedelta(hours=1)

    erased = await _service(db, now, woken).erase(lead_id, "privacy-desk")

    dump = await _dump(db)
    for word in SECRET_WORDS:
        assert word not in dump, word
    assert not PHONE.search(dump)
    assert woken, "the outbox is woken to redraw the posted card"
    assert erased.erased_at == now
    assert erased.owner == "U0ALICE" and erased.team == "inbound"
    assert erased.status is LeadStatus.ASSIGNED and erased.created_at == T0
    assert erased.fields.lead_type == "demo_request" and erased.fields.source == "web_form"
    assert erased.fields.email is None and erased.fields.phone is None
    assert erased.decision["rule"] == "known accounts"
    assert erased.decision["candidates"] == ["U0ALICE"]
    assert [e.type for e in erased.events] == ["routed", "contacted", "erased"]
    assert erased.events[1].data == {"n": 1}  # anonymous numbers stay for stats
    async with db.snapshot() as uow:
        outbox = {row.dedup_key: row for row in await uow.connection.execute(select(t.outbox))}
        deadline = (await uow.connection.execute(select(t.deadlines))).one()
    assert outbox[f"lead_card:{lead_id}"].state == "cancelled"
    assert outbox[f"alert:{lead_id}"].state == "cancelled"
    assert outbox[f"erase:{lead_id}"].kind == "card_update"
    assert outbox[f"erase:{lead_id}:late"].next_attempt_at > now
    assert deadline.state == "cancelled"


async def test_erasure_is_idempotent_and_unknown_leads_are_not_found(db: Database) -> None:
    lead_id = await _store_full_lead(db)
    first = await _service(db, T0 + timedelta(hours=1)).erase(lead_id, "desk")
    again = await _service(db, T0 + timedelta(hours=2)).erase(lead_id, "desk")
    assert again.erased_at == first.erased_at
    assert again.events == first.events
    assert again.version == first.version
    with pytest.raises(LeadNotFound):
        await _service(db, T0).erase("no-such-lead", "desk")


async def test_an_erased_email_no_longer_deduplicates(db: Database) -> None:
    lead_id = await _store_full_lead(db)
    await _service(db, T0 + timedelta(minutes=1)).erase(lead_id, "desk")
    keys = DedupKeys("webform", "form-joanna-1", "crm-4711", PERSONAL["email"], T0)
    async with db.snapshot() as uow:
        assert await uow.leads.dedup_candidates([keys], T0 - timedelta(days=1)) == []


async def test_retention_erases_only_leads_older_than_the_period(db: Database) -> None:
    old = make_lead(created_at=T0 - timedelta(days=31))
    young = make_lead(created_at=T0 - timedelta(days=29))
    async with db.transaction() as uow:
        for lead in (old, young):
            await uow.leads.add(lead, idempotency_key=None, sla_policy=None)
    service = _service(db, T0)
    assert await service.erase_expired(timedelta(days=30)) == 1
    assert await service.erase_expired(timedelta(days=30)) == 0
    async with db.snapshot() as uow:
        kept = await uow.leads.get(young.id)
        gone = await uow.leads.get(old.id)
    assert kept is not None and kept.erased_at is None and kept.fields.email
    assert gone is not None and gone.erased_at == T0 and gone.fields.email is None
    async with db.snapshot() as uow:  # never posted, nothing unsent: no Slack call queued
        assert (await uow.connection.execute(select(t.outbox))).all() == []


async def test_two_replicas_running_retention_erase_each_lead_once(
    db: Database, db_url: str
) -> None:
    count = RETENTION_BATCH * 2 + 17  # several batches each
    leads = [make_lead(created_at=T0 - timedelta(days=40, seconds=i)) for i in range(count)]
    async with db.transaction() as uow:
        await uow.leads.add_many([(lead, None, None) for lead in leads])
    totals: list[int] = []

    async def work(database: Database, _name: str) -> None:
        totals.append(await _service(database, T0).erase_expired(timedelta(days=30)))

    await race_as_two_replicas(db, Database(db_url), work, asyncio.Event())
    assert sum(totals) == count
    async with db.snapshot() as uow:
        erased_events = (
            await uow.connection.execute(
                select(t.lead_events.c.lead_id).where(t.lead_events.c.type == "erased")
            )
        ).scalars()
        unerased = (
            await uow.connection.execute(select(t.leads.c.id).where(t.leads.c.erased_at.is_(None)))
        ).all()
    ids = list(erased_events)
    assert len(ids) == count and len(set(ids)) == count
    assert unerased == []
