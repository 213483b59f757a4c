"""Migration 0006_arch: cards queued before it keep folding into digests.

Why: digests used to find foldable cards by their dedup key's shape; the column that
replaced it must say the same of the rows already pending when a replica upgrades, or
a burst queued just before an upgrade would go out one card at a time.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from harness.storage import T0
from storage.migrate import MIGRATIONS, upgrade_to_head
from storage.uow import Database

BEFORE = "0005_senders"
ROWS = {
    # dedup key: (kind, state, announcement after the upgrade)
    "lead_card:L1:C0SALES": ("lead_card", "pending", True),
    "lead_card:L2:U0BOB:undeliverable:17": ("lead_card", "pending", True),
    "lead_card:L3:C0SALES:escalate:1": ("lead_card", "pending", False),
    "lead_card:L4:U0BOB:v2": ("lead_card", "pending", False),
    "lead_card:L5:C0SALES": ("lead_card", "sent", False),
    "card_update:L1:v2": ("card_update", "pending", False),
}


def _upgrade(connection: object, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def test_pending_announcements_queued_before_the_column_are_marked(db_url: str) -> None:
    db = Database(db_url)
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(lambda sync: _upgrade(sync, BEFORE))
            await connection.execute(
                text(
                    "INSERT INTO outbox (created_at, dedup_key, kind, target, payload, state,"
                    " attempts, next_attempt_at, maybe_sent)"
                    " VALUES (:at, :key, :kind, 'C0SALES', '{}', :state, 0, :at, false)"
                ),
                [
                    {"at": T0.replace(tzinfo=None), "key": key, "kind": kind, "state": state}
                    for key, (kind, state, _) in ROWS.items()
                ],
            )
        await upgrade_to_head(db.engine)
        async with db.engine.connect() as connection:
            found = dict(
                (await connection.execute(text("SELECT dedup_key, announcement FROM outbox"))).all()
            )
    finally:
        await db.dispose()
    assert {key: bool(value) for key, value in found.items()} == {
        key: announcement for key, (_, _, announcement) in ROWS.items()
    }
