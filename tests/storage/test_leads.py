"""LeadRepository: round trip, duplicate detection, uniqueness, compare-and-set, workload.

Why: a duplicate must never page anyone twice, and two clicks or two replicas must never
make two owners. Both promises rest on these queries and constraints, on each backend.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from domain.dedup import DedupKeys, first_duplicate
from domain.lead import LeadStatus
from domain.records import WORKLOAD_STATUSES, LeadRecord
from harness.storage import T0, make_lead, migrated
from storage import tables as t
from storage.uow import Database, UnitOfWork

CONTENDERS = 20


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    async with migrated(db_url) as database:
        yield database


async def _store(db: Database, *leads: LeadRecord, idempotency_key: str | None = None) -> None:
    async with db.transaction() as uow:
        for lead in leads:
            await uow.leads.add(lead, idempotency_key=idempotency_key, sla_policy=None)


async def _count_leads(db: Database) -> int:
    async with db.snapshot() as uow:
        return int(await uow.connection.scalar(select(func.count()).select_from(t.leads)) or 0)


# ---------------------------------------------------------------- round trip


async def test_add_then_get_gives_back_the_same_lead(db: Database) -> None:
    lead = make_lead(
        email="Jo@Prospect.io",
        external_id="crm-1",
        owner="U0ALICE",
        status=LeadStatus.ASSIGNED,
        first_name="Jo",
        company="Prospect Inc",
        employees=120,
        score=72,
        attributes={"utm_campaign": "spring", "pages": 3, "nested": {"a": [1, 2]}},
    )
    async with db.transaction() as uow:
        await uow.leads.add(lead, idempotency_key="req-1", sla_policy={"respond_within": "5m"})
    async with db.snapshot() as uow:
        back = await uow.leads.get(lead.id)
        row = (await uow.connection.execute(select(t.leads))).one()
    assert back == lead
    assert back is not None and back.created_at.tzinfo is not None
    assert row.idempotency_key == "req-1"
    assert row.email == "jo@prospect.io"  # normalised by the intake model, queried as such
    assert row.sla_policy == {"respond_within": "5m"}
    assert row.updated_at == T0


async def test_get_of_an_unknown_id_is_none(db: Database) -> None:
    async with db.snapshot() as uow:
        assert await uow.leads.get("nope") is None


# ---------------------------------------------------------------- duplicates


async def _find_duplicate(
    uow: UnitOfWork,
    submitter: str,
    idempotency_key: str | None,
    external_id: str | None,
    email: str | None,
    email_since: datetime,
) -> LeadRecord | None:
    """What intake does for one new lead: stored candidates, then the domain's rule."""
    keys = DedupKeys(submitter, idempotency_key, external_id, email, email_since)
    candidates = await uow.leads.dedup_candidates([keys], email_since)
    return first_duplicate(keys, candidates, email_since)


async def test_same_idempotency_key_from_the_same_submitter_is_a_duplicate(db: Database) -> None:
    first = make_lead(submitter="webform")
    await _store(db, first, idempotency_key="req-7")
    async with db.snapshot() as uow:
        found = await _find_duplicate(
            uow, "webform", "req-7", None, "someone-else@x.io", T0 + timedelta(days=1)
        )
        other_sender = await _find_duplicate(
            uow, "crm", "req-7", None, "someone-else@x.io", T0 + timedelta(days=1)
        )
    assert found is not None and found.id == first.id
    assert other_sender is None  # keys are the sender's own namespace


async def test_same_external_id_is_a_duplicate_only_for_the_same_submitter(db: Database) -> None:
    first = make_lead(submitter="crm", external_id="SF-0042")
    await _store(db, first)
    since = T0 + timedelta(days=1)  # email window closed: only the external id can match
    async with db.snapshot() as uow:
        same = await _find_duplicate(uow, "crm", None, "SF-0042", "new@x.io", since)
        other = await _find_duplicate(uow, "webform", None, "SF-0042", "new@x.io", since)
    assert same is not None and same.id == first.id
    assert other is None
    # ... and the other sender's lead with the same external id can be stored.
    await _store(db, make_lead(submitter="webform", external_id="SF-0042"))
    assert await _count_leads(db) == 2


async def test_same_email_is_a_duplicate_only_within_the_window(db: Database) -> None:
    first = make_lead(email="jo@prospect.io", created_at=T0)
    await _store(db, first)
    async with db.snapshot() as uow:
        inside = await _find_duplicate(
            uow, "webform", None, None, "jo@prospect.io", T0 - timedelta(hours=24)
        )
        at_edge = await _find_duplicate(uow, "webform", None, None, "jo@prospect.io", T0)
        after = await _find_duplicate(
            uow, "webform", None, None, "jo@prospect.io", T0 + timedelta(microseconds=1)
        )
        other_sender = await _find_duplicate(
            uow, "crm", None, None, "jo@prospect.io", T0 - timedelta(hours=24)
        )
        other_email = await _find_duplicate(
            uow, "webform", None, None, "al@prospect.io", T0 - timedelta(hours=24)
        )
    assert inside is not None and inside.id == first.id
    assert at_edge is not None
    assert after is None
    assert other_sender is not None  # the same person is the same lead whoever sends it
    assert other_email is None


async def test_nothing_to_match_on_is_never_a_duplicate(db: Database) -> None:
    await _store(db, make_lead())
    async with db.snapshot() as uow:
        assert await _find_duplicate(uow, "webform", None, None, None, T0) is None


# ---------------------------------------------------------------- constraints


async def test_second_insert_of_the_same_idempotency_key_is_rejected(db: Database) -> None:
    await _store(db, make_lead(submitter="webform"), idempotency_key="req-9")
    with pytest.raises(IntegrityError):
        await _store(db, make_lead(submitter="webform"), idempotency_key="req-9")
    await _store(db, make_lead(submitter="crm"), idempotency_key="req-9")  # another sender
    assert await _count_leads(db) == 2


async def test_second_insert_of_the_same_external_id_is_rejected(db: Database) -> None:
    await _store(db, make_lead(submitter="crm", external_id="SF-1"))
    with pytest.raises(IntegrityError):
        await _store(db, make_lead(submitter="crm", external_id="SF-1"))
    assert await _count_leads(db) == 1


async def test_leads_without_keys_never_collide(db: Database) -> None:
    """NULL idempotency keys and external ids are distinct: most leads have neither."""
    await _store(db, *(make_lead(submitter="webform") for _ in range(5)))
    await _store(db, make_lead(submitter="webform"))
    assert await _count_leads(db) == 6


# ---------------------------------------------------------------- compare and set


async def test_compare_and_set_applies_once_and_refuses_a_stale_version(db: Database) -> None:
    lead = make_lead()
    await _store(db, lead)
    later = T0 + timedelta(minutes=1)
    async with db.transaction() as uow:
        won = await uow.leads.compare_and_set(
            lead.id,
            1,
            later,
            owner="U0ALICE",
            status=LeadStatus.ASSIGNED,
            assigned_at=later,
            assigned_day=later.date(),
        )
        stale = await uow.leads.compare_and_set(
            lead.id, 1, later, owner="U0BOB", assigned_day=later.date()
        )
    async with db.snapshot() as uow:
        back = await uow.leads.get(lead.id)
        updated_at = await uow.connection.scalar(select(t.leads.c.updated_at))
    assert won and not stale
    assert back is not None
    assert (back.owner, back.status, back.version, back.assigned_at) == (
        "U0ALICE",
        LeadStatus.ASSIGNED,
        2,
        later,
    )
    assert updated_at == later


async def test_compare_and_set_of_an_unknown_lead_changes_nothing(db: Database) -> None:
    async with db.transaction() as uow:
        assert not await uow.leads.compare_and_set(
            "nope", 1, T0, owner="U0ALICE", assigned_day=T0.date()
        )


async def test_concurrent_compare_and_set_has_exactly_one_winner(db: Database) -> None:
    """Twenty claimers, each in its own transaction, all from version 1: one owner."""
    lead = make_lead(status=LeadStatus.QUEUED)
    await _store(db, lead)
    async with db.snapshot() as uow:
        seen = await uow.leads.get(lead.id)
    assert seen is not None
    start = asyncio.Event()

    async def claim(index: int) -> bool:
        await start.wait()
        async with db.transaction() as uow:
            return await uow.leads.compare_and_set(
                lead.id,
                seen.version,
                T0 + timedelta(seconds=1),
                owner=f"U0REP{index:02d}",
                status=LeadStatus.ASSIGNED,
                assigned_day=T0.date(),
            )

    tasks = [asyncio.create_task(claim(index)) for index in range(CONTENDERS)]
    start.set()
    results = await asyncio.gather(*tasks)
    async with db.snapshot() as uow:
        final = await uow.leads.get(lead.id)
    assert results.count(True) == 1
    assert final is not None and final.version == seen.version + 1
    assert final.owner == f"U0REP{results.index(True):02d}"


# ---------------------------------------------------------------- workload


async def test_workload_counts_only_workload_statuses(db: Database) -> None:
    leads = [make_lead(owner="U0ALICE", status=status) for status in LeadStatus]
    leads += [
        make_lead(owner="U0BOB", status=LeadStatus.ASSIGNED),
        make_lead(owner="U0BOB", status=LeadStatus.WON),
        make_lead(owner=None, status=LeadStatus.QUEUED),
        make_lead(owner=None, status=LeadStatus.NEW),
    ]
    await _store(db, *leads)
    async with db.snapshot() as uow:
        everyone = await uow.leads.workload()
        only_bob = await uow.leads.workload(["U0BOB", "U0NOBODY"])
        nobody = await uow.leads.workload([])
    assert everyone == {"U0ALICE": len(WORKLOAD_STATUSES), "U0BOB": 1}
    assert only_bob == {"U0BOB": 1}
    assert nobody == {}


async def test_a_retried_winning_click_is_told_it_owns_the_lead(db: Database) -> None:
    """Slack retries the winner's click while the first delivery is still in flight: both
    pass the lock-free check, one wins the compare-and-set, and the retry must learn that
    the lead is its own, not "already claimed by" itself."""
    from bot.services.configuration import ConfigService
    from bot.services.leads import LeadActions

    lead = make_lead(owner=None, status=LeadStatus.QUEUED)
    await _store(db, lead)
    actions = LeadActions(db, ConfigService(), lambda: T0 + timedelta(minutes=1), lambda: None)
    outcomes = await asyncio.gather(*(actions.claim(lead.id, "U0WINNER") for _ in range(10)))
    messages = {outcome.message for outcome in outcomes}
    assert "You already own this lead." in messages
    assert not any("Already claimed" in message for message in messages)
    async with db.snapshot() as uow:
        assert (await uow.leads.get(lead.id)).owner == "U0WINNER"
