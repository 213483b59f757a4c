"""`/leadstats team enterprise 90d` over 1,000,000 lead events, render included.

Seeds ~200,000 leads over 180 days (two teams of 20 reps; push, pull and pool rules;
each lead with its created/routed/contacted/... events until 1,000,000 events exist),
then times StatsService.report + the Block Kit render, as the slash command runs them.
Baseline, same run and database: one `COUNT(*)` of the same leads (the least any report
over them could cost).

    python -m bench.stats [--events 1000000] [--postgres-url postgresql+asyncpg://...]
(LEADROUTER_TEST_POSTGRES_URL is used when set.) Target: < 1 s PostgreSQL, < 2 s SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from bench.common import machine_line
from bot.services.configuration import ConfigService
from bot.services.stats import StatsService
from bot.slack.stats_views import report_view
from domain.config import load_config
from domain.lifecycle import stage_reached
from domain.reports import Scope, period_bounds
from storage import tables as t
from storage.migrate import upgrade_to_head
from storage.uow import Database

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
TEAMS = {
    "enterprise": [f"U0ENT{i:02d}" for i in range(20)],
    "smb": [f"U0SMB{i:02d}" for i in range(20)],
}
SOURCES = ["web_form", "paid_ads", "referral", "event", "outbound", "content"]
TYPES = {"demo_request": 300, "referral": 900, "mql": 7200, "event": 86400}
RULES = [("enterprise push", "enterprise", "push"), ("enterprise pull", "enterprise", "pull"),
         ("enterprise pool", "enterprise", "pool"), ("smb", "smb", "push")]  # fmt: skip


def config_yaml() -> str:
    reps = [rep for members in TEAMS.values() for rep in members]

    def member_list(members: list[str]) -> str:
        return ", ".join(f"{{user: {r}, weight: {1 + i % 3}}}" for i, r in enumerate(members))

    teams = "\n".join(
        f"  - {{name: {name}, channel: C0{name.upper()}, manager: U0MGR{name.upper()[:3]}, "
        f"members: [{member_list(members)}]}}"
        for name, members in TEAMS.items()
    )
    return (
        "version: 1\nadmins: [U0ADMIN]\n"
        f"reps: [{', '.join(f'{{user: {r}}}' for r in reps)}]\n"
        f"teams:\n{teams}\nrules: [{{name: all, then: {{team: smb}}}}]\n"
    )


def lead_rows(
    rng: random.Random, target_events: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Leads with a plausible lifecycle and their events, until `target_events` events."""
    leads: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    while len(events) < target_events:
        lead_id = uuid.uuid4().hex
        created = NOW - timedelta(seconds=rng.uniform(0, 180 * 86400))
        rule, team, method = rng.choices(RULES, weights=[4, 1, 1, 4])[0]
        lead_type = rng.choice(list(TYPES))
        owner: str | None = rng.choice(TEAMS[team])
        assigned = (
            created if method == "push" else created + timedelta(seconds=rng.expovariate(1 / 900))
        )
        trail = [("created", created), ("routed", created)]
        if method != "push":
            if rng.random() < 0.1 and created > NOW - timedelta(days=3):
                owner, assigned = None, None
            else:
                trail.append(("claimed", assigned))
        status, contacted = ("queued" if owner is None else "assigned"), None
        if owner is not None and rng.random() < 0.85:
            contacted = assigned + timedelta(seconds=rng.lognormvariate(6, 1.5))  # type: ignore[operator]
            status = "contacted"
            trail.append(("contacted", contacted))
            at = contacted
            for stage, chance in (("qualified", 0.5), ("opportunity", 0.4)):
                if rng.random() >= chance:
                    break
                at += timedelta(days=rng.uniform(0.1, 5))
                status = stage
                trail.append((stage, at))
            if status == "opportunity" and rng.random() < 0.7:
                status = rng.choice(["won", "lost"])
                trail.append((status, at + timedelta(days=rng.uniform(1, 20))))
        leads.append(
            {
                "id": lead_id, "created_at": created, "updated_at": created,
                "submitter": "bench", "email": f"{lead_id[:12]}@bench.io",
                "lead_type": lead_type, "source": rng.choice(SOURCES), "fields": {},
                "status": status, "owner": owner, "team": team, "method": method,
                "decision": {}, "rule": rule, "assigned_at": assigned if owner else None,
                "sla_due_at": created + timedelta(seconds=TYPES[lead_type]),
                "contacted_at": contacted, "version": 1,
                "qualified_at": None, "opportunity_at": None, "closed_at": None,
            }
        )  # fmt: skip
        for kind, at in trail:  # as the lead actions record them
            stage = stage_reached(kind)
            if stage is not None:
                leads[-1][f"{stage}_at"] = at
        events += [
            {"lead_id": lead_id, "at": at, "type": kind, "actor": "bench",
             "reason": None, "data": None}
            for kind, at in trail
        ]  # fmt: skip
    return leads, events


async def seed(db: Database, target_events: int) -> tuple[int, int]:
    leads, events = lead_rows(random.Random(7), target_events)
    async with db.transaction() as uow:
        await ConfigService().save(uow, load_config(config_yaml()), "bench", NOW, "bench")
    for table, rows in ((t.leads, leads), (t.lead_events, events)):
        for start in range(0, len(rows), 20_000):
            async with db.transaction() as uow:
                await uow.connection.execute(insert(table), rows[start : start + 20_000])
    async with db.engine.connect() as connection:
        if db.engine.dialect.name == "postgresql":  # what autovacuum does on a live server
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.exec_driver_sql("VACUUM ANALYZE")
        else:  # what SQLite's autocheckpoint does on a live database between bulk loads
            raw = await connection.get_raw_connection()  # outside SQLAlchemy's BEGIN
            await raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
    return len(leads), len(events)


async def run(url: str, label: str, target_events: int, repeat: int) -> None:
    db = Database(url)
    try:
        await upgrade_to_head(db.engine)
        began = time.perf_counter()
        n_leads, n_events = await seed(db, target_events)
        took = time.perf_counter() - began
        print(f"{label}: seeded {n_leads:,} leads, {n_events:,} events in {took:.0f} s")
        stats = StatsService(db, ConfigService(), lambda: NOW, lambda: None, _utc)
        scope = Scope("team", "enterprise")
        start, _ = period_bounds("90d", NOW, ZoneInfo("UTC"))
        count = select(func.count()).where(
            t.leads.c.team == "enterprise", t.leads.c.created_at >= start
        )
        async with db.snapshot() as uow:
            in_scope = await uow.connection.scalar(count)
        timings, baseline = [], []
        for _ in range(repeat + 1):  # the first run warms caches and is not counted
            began = time.perf_counter()
            async with db.snapshot() as uow:
                await uow.connection.scalar(count)
            baseline.append(time.perf_counter() - began)
            began = time.perf_counter()
            report = await stats.report(scope, "90d", ZoneInfo("UTC"))
            message = report_view(report)
            timings.append(time.perf_counter() - began)
        timings, baseline = timings[1:], baseline[1:]
        print(
            f"{label}: /leadstats team enterprise 90d over {in_scope:,} leads in scope: "
            f"median {statistics.median(timings) * 1000:.0f} ms, max {max(timings) * 1000:.0f} ms "
            f"({repeat} runs; {len(message['blocks'])} blocks); "
            f"baseline COUNT(*) median {statistics.median(baseline) * 1000:.0f} ms"
        )
    finally:
        await db.dispose()


async def _utc(_user: str) -> ZoneInfo:
    return ZoneInfo("UTC")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres-url", default=os.environ.get("LEADROUTER_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    print(machine_line())
    with tempfile.TemporaryDirectory() as directory:
        await run(f"sqlite+aiosqlite:///{directory}/stats.db", "SQLite", args.events, args.repeat)
    if args.postgres_url:
        from harness.databases import create_postgres_database, drop_postgres_database

        url = create_postgres_database(args.postgres_url, prefix="lr_bench")
        try:
            await run(url, "PostgreSQL", args.events, args.repeat)
        finally:
            drop_postgres_database(url)


if __name__ == "__main__":
    asyncio.run(main())
