"""The counters routing reads (open leads per rep, leads per rep per team, type and local
day) equal a full recount from the leads after random histories run through the real
services: intake, claims, releases, reassignments, outcomes, SLA escalations, accept
windows timing out and declines, away and back with backfill, erasure, and transactions
rolled back. `check` finds and repairs a counter that drifted."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from bot.services.away import AwayService
from bot.services.configuration import ConfigService
from bot.services.intake import IntakeService
from bot.services.leads import LeadActions
from bot.services.offers import OfferService
from bot.services.privacy import PrivacyService
from bot.services.timers import TimerSweeper
from domain.config import load_config
from domain.errors import DomainError
from domain.lead import LeadInput, LeadStatus
from domain.records import LeadRecord
from harness.storage import make_lead, migrated
from storage import tables as t
from storage.uow import Database

START = datetime(2026, 11, 29, 22, 0, tzinfo=UTC)  # Sunday evening UTC, Monday in Tokyo
CONFIG = load_config(
    """
admins: [U0BOSS]
reps:
  - {user: U0ANA, timezone: Asia/Tokyo}
  - {user: U0BEN, timezone: America/New_York}
  - {user: U0CAL, capacity: 3}
teams:
  - {name: push, channel: C0PUSH, manager: U0BOSS, accept_within: 1m,
     availability: {backfill: true},
     members: [{user: U0ANA}, {user: U0BEN}, {user: U0CAL}]}
  - {name: pull, channel: C0PULL, method: pull, manager: U0BOSS,
     members: [{user: U0ANA}, {user: U0BEN}, {user: U0CAL}]}
rules:
  - {name: pulled, when: {source: pull}, then: {team: pull}}
  - {name: all, then: {team: push}}
slas:
  demo_request: {respond_within: 2m}
"""
)
REPS = ("U0ANA", "U0BEN", "U0CAL")
OUTCOMES = ("contacted", "qualified", "disqualified", "opportunity", "won", "lost")

operations = st.lists(
    st.one_of(
        st.tuples(st.just("intake"), st.sampled_from(("push", "pull")), st.booleans()),
        st.tuples(st.just("claim"), st.integers(0, 99), st.sampled_from(REPS)),
        st.tuples(st.just("release"), st.integers(0, 99)),
        st.tuples(st.just("reassign"), st.integers(0, 99), st.sampled_from(REPS)),
        st.tuples(st.just("outcome"), st.integers(0, 99), st.sampled_from(OUTCOMES)),
        st.tuples(st.just("erase"), st.integers(0, 99)),
        st.tuples(st.just("rollback"), st.integers(0, 99), st.sampled_from(REPS)),
        st.tuples(st.just("wait"), st.integers(1, 240)),
        st.tuples(st.just("decline"), st.integers(0, 99)),
        st.tuples(st.just("away"), st.sampled_from(REPS)),
        st.tuples(st.just("back"), st.sampled_from(REPS)),
    ),
    max_size=40,
)


class History:
    """The app's services on one database, with a clock the history moves."""

    def __init__(self, db: Database):
        self.db = db
        self.clock = [START]
        configs = ConfigService()
        args = (db, configs, lambda: self.clock[0], lambda: None)
        self.intake = IntakeService(*args)
        self.actions = LeadActions(*args)
        self.privacy = PrivacyService(*args)
        self.timers = TimerSweeper(*args)
        self.offers = OfferService(*args)
        self.away = AwayService(*args)
        self.leads: list[str] = []

    async def setup(self) -> None:
        async with self.db.transaction() as uow:
            await ConfigService().save(uow, CONFIG, "test", START, "test")

    async def run(self, op: tuple) -> None:  # type: ignore[type-arg]
        kind = op[0]
        if kind == "intake":
            source = "pull" if op[1] == "pull" else "web"
            lead_type = "demo_request" if op[2] else "mql"
            fields = LeadInput(
                email=f"{uuid.uuid4().hex[:12]}@x.io", source=source, lead_type=lead_type
            )
            result = await self.intake.submit("web", fields, None)
            self.leads.append(result.lead.id)
            return
        if kind == "wait":  # SLA steps and accept windows fire
            self.clock[0] += timedelta(seconds=op[1])
            await self.timers.sweep()
            return
        if kind == "away":
            await self.away.away(op[1], [])
            return
        if kind == "back":  # ends the pause and backfills queued leads
            await self.away.back(op[1])
            return
        if not self.leads:
            return
        lead_id = self.leads[op[1] % len(self.leads)]
        try:
            if kind == "claim":
                await self.actions.claim(lead_id, op[2])
            elif kind == "release":
                await self.actions.release(lead_id, "U0BOSS")
            elif kind == "reassign":
                await self.actions.reassign(lead_id, "U0BOSS", op[2])
            elif kind == "outcome":
                await self.actions.record_event(lead_id, op[2], "crm", None, None)
            elif kind == "erase":
                await self.privacy.erase(lead_id, "dpo")
            elif kind == "decline":
                lead = await self.actions.get(lead_id)
                await self.offers.decline(lead_id, lead.owner or "U0ANA")
            elif kind == "rollback":
                await self._rolled_back_claim(lead_id, op[2])
        except DomainError:
            pass  # not allowed in this state: nothing changed, which the check also proves

    async def _rolled_back_claim(self, lead_id: str, user: str) -> None:
        """A claim whose transaction fails after its compare-and-set: nothing may stick."""
        with pytest.raises(RuntimeError):
            async with self.db.transaction() as uow:
                lead = await uow.leads.get(lead_id)
                if lead is not None:
                    await uow.leads.compare_and_set(
                        lead.id,
                        lead.version,
                        self.clock[0],
                        owner=user,
                        status="assigned",
                        assigned_day=self.clock[0].date(),
                    )
                raise RuntimeError("crash before commit")

    async def differences(self) -> list[str]:
        async with self.db.snapshot() as uow:
            return await uow.counters.check()


async def _history(db: Database, ops: list[tuple]) -> list[str]:  # type: ignore[type-arg]
    history = History(db)
    await history.setup()
    for op in ops:
        await history.run(op)
    return await history.differences()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_counters_equal_a_recount_after_random_histories(tmp_path: Path, ops: list) -> None:  # type: ignore[type-arg]
    async def scenario() -> list[str]:
        async with migrated(f"sqlite+aiosqlite:///{tmp_path / uuid.uuid4().hex}.db") as db:
            return await _history(db, ops)

    assert asyncio.run(scenario()) == []


async def test_counters_equal_a_recount_on_each_backend(db_url: str) -> None:
    """The same on PostgreSQL as on SQLite: a long seeded history of every operation."""
    rng = random.Random(20261201)
    ops: list[tuple] = []  # type: ignore[type-arg]
    for _ in range(150):
        kind = rng.choice(
            (
                "intake",
                "intake",
                "claim",
                "release",
                "reassign",
                "outcome",
                "erase",
                "rollback",
                "wait",
                "decline",
                "away",
                "back",
            )
        )
        if kind == "intake":
            ops.append((kind, rng.choice(("push", "pull")), rng.random() < 0.5))
        elif kind == "wait":
            ops.append((kind, rng.randint(1, 240)))
        elif kind in ("release", "erase", "decline"):
            ops.append((kind, rng.randint(0, 99)))
        elif kind in ("away", "back"):
            ops.append((kind, rng.choice(REPS)))
        elif kind == "outcome":
            ops.append((kind, rng.randint(0, 99), rng.choice(OUTCOMES)))
        else:
            ops.append((kind, rng.randint(0, 99), rng.choice(REPS)))
    async with migrated(db_url) as db:
        assert await _history(db, ops) == []


async def test_check_finds_a_drifted_counter_and_repair_rebuilds_it(db_url: str) -> None:
    async with migrated(db_url) as db:
        history = History(db)
        await history.setup()
        for _ in range(3):
            await history.run(("intake", "push", True))
        async with db.transaction() as uow:
            await uow.connection.execute(
                update(t.open_lead_counts).values(count=t.open_lead_counts.c.count + 5)
            )
        async with db.transaction() as uow:
            wrong = await uow.counters.check(repair=True)
        assert len(wrong) == 3 and all("open leads of U0" in line for line in wrong)
        assert await history.differences() == []


async def test_reps_changed_in_opposite_orders_do_not_deadlock(db_url: str) -> None:
    """Two transactions move the counters of the same two reps in opposite orders (two
    replicas' SLA sweeps did, and PostgreSQL killed one as a deadlock): the counters are
    written at commit in one order, so both commit, and a transaction reads its own."""
    async with migrated(db_url) as db:
        leads = [make_lead(owner=owner, status=LeadStatus.ASSIGNED) for owner in REPS[:2] * 2]
        async with db.transaction() as uow:
            for lead in leads:
                await uow.leads.add(lead, idempotency_key=None, sla_policy=None)
        both_halfway = asyncio.Barrier(2) if db_url.startswith("postgresql") else None

        async def release(first: LeadRecord, second: LeadRecord) -> None:
            database = Database(db_url)
            try:
                async with database.transaction() as uow:
                    for index, lead in enumerate((first, second)):
                        assert await uow.leads.compare_and_set(
                            lead.id, lead.version, START, owner=None, status=LeadStatus.QUEUED
                        )
                        if index == 0 and both_halfway is not None:
                            await both_halfway.wait()
            finally:
                await database.dispose()

        if both_halfway is None:  # one writer: in turn
            await release(leads[0], leads[1])
            await release(leads[3], leads[2])
        else:
            await asyncio.gather(release(leads[0], leads[1]), release(leads[3], leads[2]))
        async with db.transaction() as uow:
            assert await uow.counters.open_leads() == {}
            extra = make_lead(owner=REPS[0], status=LeadStatus.ASSIGNED)
            await uow.leads.add(extra, idempotency_key=None, sla_policy=None)
            assert await uow.counters.open_leads() == {REPS[0]: 1}
