"""SLA timer benchmark: 10,000 pending deadlines fired by the real sweeper and alarm.

Two phases per database:
  schedule: 2,000 leads x 5 steps due over ~20 s -> firing lateness p50/p99/max;
  burst:    10,000 steps all due at once     -> steps/s to drain them.
Then it checks that no step was lost (still pending) or doubled (two events).
Baseline, same run and database: single-row UPDATE+commit transactions per second.

    python -m bench.timers [--postgres-url postgresql+asyncpg://...]
(LEADROUTER_TEST_POSTGRES_URL is used when set.)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bench.common import machine_line
from bot.clock import SystemClock
from bot.services.configuration import ConfigService
from bot.services.timers import TimerSweeper
from bot.worker.alarm import TimerAlarm
from domain.config import SlaConfig, load_config
from domain.lead import LeadInput, LeadStatus, Method
from domain.records import LeadRecord
from domain.sla import plan
from domain.stats import percentile
from storage import tables as t
from storage.migrate import upgrade_to_head
from storage.uow import Database

REPS = [f"U0REP{i}" for i in range(10)]
CONFIG = load_config(
    "version: 1\nadmins: [U0ADMIN]\n"
    f"reps: [{', '.join(f'{{user: {r}}}' for r in [*REPS, 'U0BACKUP'])}]\n"
    "teams: [{name: inbound, channel: C0INBOUND, manager: U0MANAGER, backup: U0BACKUP, "
    f"members: [{', '.join(f'{{user: {r}}}' for r in REPS)}]}}]\n"
    "rules: [{name: all, then: {team: inbound}}]\n"
)
POLICY = SlaConfig.model_validate(
    {
        "respond_within": "2s",
        "remind_at": ["50%"],
        "escalation": [
            {"after": "0s", "do": "reassign"},
            {"after": "0s", "do": "notify_manager"},
            {"after": "1s", "do": "repost_to_channel"},
        ],
    }
)


async def seed(db: Database, leads: int, first_start: datetime, spread: timedelta) -> int:
    """Store `leads` assigned leads whose plans start across `spread`; return step count."""
    steps = 0
    async with db.transaction() as uow:
        for index in range(leads):
            start = first_start + spread * (index / leads)
            planned = plan(POLICY, start)
            record = LeadRecord(
                id=uuid.uuid4().hex,
                created_at=start,
                submitter="bench",
                fields=LeadInput(email=f"b{index}@bench.io", lead_type="demo_request"),
                status=LeadStatus.ASSIGNED,
                owner=REPS[index % len(REPS)],
                team="inbound",
                method=Method.PUSH,
                decision={},
                version=1,
                assigned_at=start,
                contacted_at=None,
                sla_due_at=next(s.due_at for s in planned if s.step == "breach"),
            )
            await uow.leads.add(record, idempotency_key=None, sla_policy=None)
            await uow.deadlines.add_many(record.id, planned)
            steps += len(planned)
    return steps


async def wait_drained(db: Database, limit_seconds: float) -> None:
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        async with db.snapshot() as uow:
            if await uow.deadlines.next_due_at() is None:
                return
        await asyncio.sleep(0.2)
    raise SystemExit("timers did not drain in time")


async def audit(db: Database) -> tuple[list[float], int, int]:
    """Lateness of every fired step, steps never finished, steps that fired twice."""
    async with db.snapshot() as uow:
        rows = (
            await uow.connection.execute(
                select(t.lead_events.c.lead_id, t.lead_events.c.data).where(
                    t.lead_events.c.data.is_not(None)
                )
            )
        ).all()
        pending = await uow.deadlines.overdue(datetime.now(UTC) + timedelta(days=1))
    fired = Counter((lead, data["step"]) for lead, data in rows if "step" in data)
    lateness = [data["late_seconds"] for _lead, data in rows if "late_seconds" in data]
    return lateness, pending, sum(1 for count in fired.values() if count > 1)


async def baseline_tx_per_s(db: Database, count: int = 300) -> float:
    async with db.transaction() as uow:
        await uow.configs.add({"bench": True}, "bench", datetime.now(UTC), "baseline row")
    began = time.perf_counter()
    for index in range(count):
        async with db.transaction() as uow:
            await uow.connection.execute(
                update(t.config_versions)
                .where(t.config_versions.c.actor == "bench")
                .values(note=str(index))
            )
    return count / (time.perf_counter() - began)


async def run(name: str, url: str) -> None:
    db = Database(url)
    await upgrade_to_head(db.engine)
    configs = ConfigService()
    async with db.transaction() as uow:
        await configs.save(uow, CONFIG, "bench", datetime.now(UTC), "bench")
    clock = SystemClock()
    sweeper = TimerSweeper(db, configs, clock.now, lambda: None)
    alarm = TimerAlarm(sweeper, clock.now)

    steps = await seed(db, 2000, clock.now() + timedelta(seconds=3), timedelta(seconds=20))
    alarm.start()
    await wait_drained(db, limit_seconds=120)
    lateness, pending, doubled = await audit(db)
    alarm.stop()
    print(
        f"[{name}] schedule: {steps} steps over ~20 s; fired {len(lateness)}; "
        f"lateness p50 {statistics.median(lateness) * 1000:.0f} ms, "
        f"p99 {percentile(lateness, 99) * 1000:.0f} ms, max {max(lateness) * 1000:.0f} ms; "
        f"lost {pending}, doubled {doubled}"
    )

    burst = await seed(db, 2000, clock.now() - timedelta(minutes=5), timedelta(seconds=1))
    began = time.perf_counter()
    while await sweeper.sweep():
        pass
    elapsed = time.perf_counter() - began
    _lateness, pending, doubled = await audit(db)
    baseline = await baseline_tx_per_s(db)
    rate = burst / elapsed
    print(
        f"[{name}] burst: {burst} due steps drained in {elapsed:.2f} s = {rate:,.0f} steps/s; "
        f"lost {pending}, doubled {doubled}"
    )
    print(
        f"[{name}] baseline: single-row UPDATE+commit {baseline:,.0f} tx/s; "
        f"steps/s is {rate / baseline:.1f}x that (batched transactions)"
    )
    await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres-url", default=os.environ.get("LEADROUTER_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    print(machine_line())
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run("sqlite", f"sqlite+aiosqlite:///{folder}/timers.db"))
    if args.postgres_url:
        from harness.databases import create_postgres_database, drop_postgres_database

        url = create_postgres_database(args.postgres_url, prefix="lr_bench")
        try:
            asyncio.run(run("postgresql", url))
        finally:
            drop_postgres_database(url)
    else:
        print("[postgresql] skipped: pass --postgres-url or set LEADROUTER_TEST_POSTGRES_URL")


if __name__ == "__main__":
    main()
