"""Retention in the running app: `LEADROUTER_RETENTION_DAYS` erases old leads on its own.

Why: the storage tests prove the erasure; this proves `serve` actually schedules it
(at start, then periodically) and leaves younger leads alone.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.records import LeadRecord
from harness.app_process import AppProcess
from harness.storage import make_lead
from storage.migrate import upgrade_to_head
from storage.uow import Database

pytestmark = pytest.mark.e2e


async def _seed(url: str, leads: list[LeadRecord]) -> None:
    db = Database(url)
    try:
        await upgrade_to_head(db.engine)
        async with db.transaction() as uow:
            await uow.leads.add_many([(lead, None, None) for lead in leads])
    finally:
        await db.dispose()


def test_serve_erases_leads_older_than_the_retention_period(
    start_app: Callable[..., AppProcess], tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'lr.db'}"
    now = datetime.now(UTC)
    old = make_lead(email="old.lead@example.com", created_at=now - timedelta(days=31))
    young = make_lead(email="young.lead@example.com", created_at=now - timedelta(days=29))
    asyncio.run(_seed(url, [old, young]))

    app = start_app(url, env={"LEADROUTER_RETENTION_DAYS": "30"})
    deadline = time.monotonic() + 30
    while not app.get_lead(old.id).json().get("erased_at"):
        assert time.monotonic() < deadline, "the retention job never erased the old lead"
        time.sleep(0.2)
    assert "old.lead" not in app.get_lead(old.id).text
    kept = app.get_lead(young.id).json()
    assert "erased_at" not in kept and kept["lead"]["email"] == "young.lead@example.com"
