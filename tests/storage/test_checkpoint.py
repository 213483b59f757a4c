"""The background WAL checkpoint really copies the WAL into the database (it runs outside
any transaction; inside one SQLite refuses with "database table is locked")."""

from __future__ import annotations

from pathlib import Path

from storage.engine import checkpoint
from storage.migrate import upgrade_to_head
from storage.uow import Database
from tests.storage import make_lead


async def test_checkpoint_copies_the_wal(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'lr.db'}")
    await upgrade_to_head(db.engine)
    async with db.transaction() as uow:
        for _ in range(50):
            await uow.leads.add(make_lead(), idempotency_key=None, sla_policy=None)
    result = await checkpoint(db.engine)
    assert result is not None
    busy, wal_pages, copied = result
    assert busy == 0 and wal_pages > 0 and copied == wal_pages
    await db.dispose()
