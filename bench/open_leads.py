"""Does intake slow down as open leads pile up? Intake CPU per lead at 0, 100,000 and
1,000,000 open leads, in one run, with each level's ratio to the 0-open-leads baseline.

Run: `python -m bench.open_leads [--backend sqlite|postgresql] [--levels 0,100000,1000000]
[--leads 3000] [--rounds 2] [--concurrency 32]`.

Why: a team that never closes its leads in Leadrouter (outcomes stay in the CRM) reaches
hundreds of thousands of open leads; speed to lead must not decay with age (issue 20:
flat within 15% from 0 to 1,000,000). One database: a push team of 20 reps, always on,
no capacity. For each level, open leads are added with bulk `INSERT ... SELECT` copies of
a lead intake stored (status assigned, owners spread over the reps), the counters are
rebuilt by their check (`leadrouter counters check --repair` does the same), then
`--leads` leads go through the real in-process intake (bench.scoring's driver:
IntakeService with its group commit, `--concurrency` submitters), `--rounds` times; the
best round's CPU per lead (this process: the app and, on SQLite, the database) is the
figure. On PostgreSQL the server's CPU is not in it; leads/s is printed beside.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime

from sqlalchemy import text

from bench.common import start_report
from bench.scoring import NOW, intake_rate
from bot.services.configuration import ConfigService
from bot.services.intake import IntakeService
from domain.config import Config, validate_config
from domain.lead import LeadInput, parse_lead
from harness.databases import (
    create_postgres_database,
    drop_postgres_database,
    postgres_server_url,
    sqlite_url,
)
from storage import tables as t
from storage.migrate import upgrade_to_head
from storage.uow import Database

REPS = 20
CHUNK = 100_000
"""Open leads copied per statement (and per transaction)."""
SEEDED_AT = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)


def config() -> Config:
    users = [f"U0REP{index}" for index in range(REPS)]
    return validate_config(
        {
            "reps": [{"user": user} for user in users],
            "teams": [{"name": "inbound", "members": [{"user": user} for user in users]}],
            "rules": [{"name": "everyone", "then": {"team": "inbound"}}],
        }
    )


def leads(count: int, level: int, round_number: int) -> list[LeadInput]:
    return [
        parse_lead({"email": f"new{level}-{round_number}-{index}@prospect.io"})
        for index in range(count)
    ]


async def template(db: Database) -> str:
    """A lead stored by intake (assigned to a rep), for the seeded copies to repeat."""
    service = IntakeService(db, ConfigService(), lambda: SEEDED_AT, lambda: None)
    result = await service.submit("seed", parse_lead({"email": "template@old.io"}), None)
    return result.lead.id


def copy_statement() -> str:
    """`INSERT ... SELECT` of copies `start..end` of the template lead: their own id,
    email and owner (spread over the reps), everything else as the template. A
    recursive CTE counts, so one statement serves SQLite and PostgreSQL."""
    made = {
        "id": "'seed' || CAST(n.i AS TEXT)",
        "email": "'seed' || CAST(n.i AS TEXT) || '@old.io'",
        "owner": f"'U0REP' || CAST(n.i % {REPS} AS TEXT)",
        "idempotency_key": "NULL",
        "external_id": "NULL",
    }
    names = [column.name for column in t.leads.columns]
    columns = ", ".join(f'"{name}"' for name in names)
    values = ", ".join(made.get(name, f'template."{name}"') for name in names)
    return (
        "WITH RECURSIVE n(i) AS (SELECT CAST(:start AS INTEGER) "
        "UNION ALL SELECT i + 1 FROM n WHERE i < :end) "
        f"INSERT INTO leads ({columns}) SELECT {values} "
        "FROM n CROSS JOIN leads AS template WHERE template.id = :template"
    )


async def seed(db: Database, template_id: str, have: int, want: int) -> float:
    """Add open leads up to `want` (there are `have`), rebuild the counters; seconds.
    The leads' indexes are dropped while copying and built again after: one sort per
    index instead of a million insertions into each."""
    started = time.perf_counter()
    statement = text(copy_statement())
    async with db.transaction() as uow:
        for index in t.leads.indexes:
            await uow.connection.run_sync(index.drop)
    for start in range(have, want, CHUNK):
        end = min(start + CHUNK, want) - 1
        async with db.transaction() as uow:
            await uow.connection.execute(
                statement, {"start": start, "end": end, "template": template_id}
            )
    async with db.transaction() as uow:
        for index in t.leads.indexes:
            await uow.connection.run_sync(index.create)
        await uow.counters.check(repair=True)
    if db.engine.dialect.name == "postgresql":
        # What autovacuum would do after such a load, done before measuring rather than
        # during it (it took the shared cores from every statement of intake).
        async with db.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("VACUUM ANALYZE leads"))
    return time.perf_counter() - started


async def open_leads(db: Database) -> int:
    """Open leads by the counters routing reads (rebuilt after seeding)."""
    async with db.snapshot() as uow:
        return sum((await uow.counters.open_leads()).values())


async def measure(
    db: Database, level: int, count: int, rounds: int, concurrency: int
) -> tuple[float, float]:
    """Best round's CPU seconds per lead, and that round's leads/s."""
    best: tuple[float, float] | None = None
    for round_number in range(rounds):
        batch = leads(count, level, round_number)
        cpu = time.process_time()
        rate = await intake_rate(db, batch, concurrency)
        per_lead = (time.process_time() - cpu) / count
        if best is None or per_lead < best[0]:
            best = (per_lead, rate)
    assert best is not None
    return best


async def main(args: argparse.Namespace) -> None:
    levels = sorted(int(level) for level in args.levels.split(","))
    workdir = start_report(
        f"Intake CPU per lead as open leads grow ({args.backend}, in process)", "lr-open-"
    )
    if args.backend == "postgresql":
        server = postgres_server_url()
        if server is None:
            raise SystemExit("set LEADROUTER_TEST_POSTGRES_URL for --backend postgresql")
        url = create_postgres_database(server, "lr_bench_open")
    else:
        url = sqlite_url(workdir / "open.db")
    db = Database(url)
    try:
        await upgrade_to_head(db.engine)
        async with db.transaction() as uow:
            await ConfigService().save(uow, config(), "bench", NOW, "bench")
        template_id = await template(db)
        seeded, baseline = 0, None
        for level in levels:
            took = await seed(db, template_id, seeded, level) if level > seeded else 0.0
            seeded = max(seeded, level)
            before = await open_leads(db)
            per_lead, rate = await measure(db, level, args.leads, args.rounds, args.concurrency)
            baseline = baseline or per_lead
            print(
                f"   {level:>9,} seeded ({before:,} open, seeding {took:.1f} s): "
                f"{per_lead * 1000:.2f} ms CPU per lead, {rate:,.0f} leads/s; "
                f"{per_lead / baseline:.2f}x the 0-open-leads CPU"
            )
    finally:
        await db.dispose()
        if args.backend == "postgresql":
            drop_postgres_database(url)
    print(
        f"   {args.leads:,} leads a round, best of {args.rounds} rounds, "
        f"{args.concurrency} submitters; goal: within 1.15x"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--levels", default="0,100000,1000000")
    parser.add_argument("--leads", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=32)
    asyncio.run(main(parser.parse_args()))
