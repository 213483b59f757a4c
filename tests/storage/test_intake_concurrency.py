"""IntakeService under concurrency, on each backend: the routing lock and dedup hold.

Why: rotation position lives in the database and every lead reads then writes it, so
concurrent intakes must be serialised or two leads read the same credits and go to the
same rep; and a sender retrying at once (same Idempotency-Key, same external id, same
person) must get one stored lead, so nobody is paged twice.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.services.configuration import ConfigService
from bot.services.intake import IntakeResult, IntakeService
from domain.config import validate_config
from domain.lead import LeadInput, LeadStatus
from harness.storage import T0, migrated
from storage import tables as t
from storage.routing_state import RoutingRepository
from storage.uow import Database

REPS = ("U0ALICE", "U0BOB", "U0CARA", "U0DAN")
LEADS = 100
RETRIES = 10
BARRIER_SECONDS = 10  # a safety net only: all RETRIES arrive within milliseconds
CONFIG = {
    "version": 1,
    "admins": ["U0ADMIN"],
    "reps": [{"user": rep, "email": f"{rep[2:].lower()}@example.com"} for rep in REPS],
    "teams": [
        {
            "name": "inbound",
            "channel": "C0INBOUND",
            "method": "push",
            "strategy": "round_robin",
            "manager": "U0MANAGER",
            "members": [{"user": rep} for rep in REPS],
        }
    ],
    "rules": [{"name": "everyone else", "then": {"team": "inbound"}}],
}


@pytest.fixture
async def intake(db_url: str) -> AsyncIterator[IntakeService]:
    async with migrated(db_url) as db:
        configs = ConfigService()
        async with db.transaction() as uow:
            await configs.save(uow, validate_config(CONFIG), "test", T0, "storage test")
        yield IntakeService(db, configs, now=lambda: T0, wake_outbox=lambda: None)


@pytest.fixture
def overlapped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the worst interleaving certain rather than likely, on PostgreSQL.

    There, transactions of different replicas really run side by side: the first RETRIES
    callers of the routing lock wait for each other before taking it, so all of them
    hold an open transaction before any has committed, and each must still see its
    twins' rows once it gets the lock. The callers are the RETRIES replicas of
    `_replicas` (one process batches its own concurrent submits into one transaction,
    so only separate replicas can race like this). If they do not all arrive, the test
    fails instead of passing without the race. SQLite needs no help: BEGIN IMMEDIATE
    serialises whole transactions, so the barrier is skipped there (it would only wait
    behind the write lock).
    """
    real_lock = RoutingRepository.lock
    arrived = 0
    everyone_here = asyncio.Event()

    async def lock(self: RoutingRepository) -> None:
        nonlocal arrived
        if self.is_postgres and arrived < RETRIES:
            arrived += 1
            if arrived == RETRIES:
                everyone_here.set()
            try:
                await asyncio.wait_for(everyone_here.wait(), BARRIER_SECONDS)
            except TimeoutError:
                pytest.fail(f"only {arrived} of {RETRIES} transactions reached the lock")
        await real_lock(self)

    monkeypatch.setattr(RoutingRepository, "lock", lock)


def _replicas(intake: IntakeService) -> list[IntakeService]:
    """RETRIES intake services on one database, as RETRIES replicas would be: each
    writes its own transactions (one service would batch the copies into one)."""
    return [
        IntakeService(intake.db, intake.configs, intake.now, intake.wake_outbox)
        for _ in range(RETRIES)
    ]


def _lead(index: int, **fields: object) -> LeadInput:
    data: dict[str, object] = {"email": f"lead{index}@prospect.io", "lead_type": "demo_request"}
    data.update(fields)
    return LeadInput.model_validate(data)


async def _all_at_once(*submits: object) -> list[IntakeResult]:
    """Start every submit together, so their transactions truly overlap."""
    start = asyncio.Event()

    async def run(submit: object) -> IntakeResult:
        await start.wait()
        return await submit  # type: ignore[misc]

    tasks = [asyncio.create_task(run(submit)) for submit in submits]
    start.set()
    return await asyncio.gather(*tasks)


async def _count(db: Database, table: object, *where: object) -> int:
    query = select(func.count()).select_from(table).where(*where)  # type: ignore[arg-type]
    async with db.snapshot() as uow:
        return int(await uow.connection.scalar(query) or 0)


async def test_concurrent_round_robin_stays_fair(intake: IntakeService) -> None:
    """100 leads at once over 4 always-on reps: per-rep counts differ by at most one."""
    results = await _all_at_once(
        *(intake.submit("webform", _lead(index), None) for index in range(LEADS))
    )
    assert not any(result.duplicate for result in results)
    owners = Counter(result.lead.owner for result in results)
    assert set(owners) == set(REPS)
    assert max(owners.values()) - min(owners.values()) <= 1
    async with intake.db.snapshot() as uow:
        stored = await uow.leads.workload()
    assert stored == dict(owners)
    assert await _count(intake.db, t.leads) == LEADS
    assert await _count(intake.db, t.outbox, t.outbox.c.kind == "lead_card") == LEADS


@pytest.mark.usefixtures("overlapped")
async def test_concurrent_retries_with_one_idempotency_key_store_one_lead(
    intake: IntakeService,
) -> None:
    results = await _all_at_once(
        *(
            replica.submit("webform", _lead(index), "req-42")
            for index, replica in enumerate(_replicas(intake))
        )
    )
    await _assert_one_lead(intake, results)


@pytest.mark.usefixtures("overlapped")
async def test_concurrent_retries_with_one_external_id_store_one_lead(
    intake: IntakeService,
) -> None:
    results = await _all_at_once(
        *(
            replica.submit("crm", _lead(index, external_id="SF-0042"), None)
            for index, replica in enumerate(_replicas(intake))
        )
    )
    await _assert_one_lead(intake, results)


@pytest.mark.usefixtures("overlapped")
async def test_concurrent_submits_of_one_email_store_one_lead(intake: IntakeService) -> None:
    """The same person from a form posted twice at once (no key): one lead, one page."""
    results = await _all_at_once(
        *(replica.submit("webform", _lead(7), None) for replica in _replicas(intake))
    )
    await _assert_one_lead(intake, results)


async def test_a_duplicate_after_the_window_is_a_new_lead(intake: IntakeService) -> None:
    first = await intake.submit("webform", _lead(1), None)
    again = await intake.submit("webform", _lead(1), None)
    intake.now = lambda: T0 + timedelta(hours=24, microseconds=1)
    later = await intake.submit("webform", _lead(1), None)
    assert not first.duplicate and again.duplicate and not later.duplicate
    assert again.lead.id == first.lead.id != later.lead.id
    assert later.lead.status is LeadStatus.ASSIGNED


async def _assert_one_lead(intake: IntakeService, results: list[IntakeResult]) -> None:
    stored = [result for result in results if not result.duplicate]
    assert len(stored) == 1, f"{len(stored)} leads stored for one lead sent {RETRIES} times"
    assert {result.lead.id for result in results} == {stored[0].lead.id}
    assert await _count(intake.db, t.leads) == 1
    assert await _count(intake.db, t.outbox) == 1  # one page, to one rep
    async with intake.db.snapshot() as uow:
        assert await uow.leads.workload() == {stored[0].lead.owner: 1}
