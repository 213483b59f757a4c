"""Erasure benchmark: how fast retention forgets old leads, and one DELETE's cost.

Per database: N leads older than the retention period (each with contact data) are
erased by `PrivacyService.erase_expired` in its batches -> leads/s; then single-lead
erasures through the `DELETE /api/leads/{id}` service path -> ms each.

    python -m bench.retention [--leads 5000] [--postgres-url postgresql+asyncpg://...]
(LEADROUTER_TEST_POSTGRES_URL is used when set.)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.common import machine_line
from bot.services.configuration import ConfigService
from bot.services.privacy import PrivacyService
from harness.databases import create_postgres_database, drop_postgres_database
from harness.storage import T0, make_lead, migrated

SINGLE = 200
INSERT_CHUNK = 500


async def measure(url: str, name: str, count: int) -> None:
    async with migrated(url) as db:
        leads = [
            make_lead(
                created_at=T0 - timedelta(days=40, seconds=i), first_name="Jo", phone="+15550001111"
            )
            for i in range(count + SINGLE)
        ]
        async with db.transaction() as uow:
            for start in range(0, len(leads), INSERT_CHUNK):
                chunk = leads[start : start + INSERT_CHUNK]
                await uow.leads.add_many([(lead, None, None) for lead in chunk])
        service = PrivacyService(db, ConfigService(), lambda: T0, lambda: None)
        started = time.perf_counter()
        for lead in leads[:SINGLE]:
            await service.erase(lead.id, "bench")
        single = (time.perf_counter() - started) / SINGLE
        started = time.perf_counter()
        erased = await service.erase_expired(timedelta(days=30))
        elapsed = time.perf_counter() - started
    assert erased == count, f"{name}: erased {erased} of {count}"
    print(f"{name:9} retention {erased / elapsed:7.0f} leads/s   DELETE {single * 1000:5.1f} ms")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=5000)
    parser.add_argument("--postgres-url", default=os.environ.get("LEADROUTER_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    print(machine_line())
    with tempfile.TemporaryDirectory() as tmp:
        await measure(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", "sqlite", args.leads)
    if args.postgres_url:
        url = create_postgres_database(args.postgres_url)
        try:
            await measure(url, "postgres", args.leads)
        finally:
            drop_postgres_database(url)


if __name__ == "__main__":
    asyncio.run(main())
