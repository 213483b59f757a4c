"""`leadrouter migrate`: Alembic upgrade to head, safe when several replicas start at once."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")
_MIGRATION_LOCK = 0x1EAD  # PostgreSQL advisory lock id: one replica migrates at a time


def _alembic_config(connection: object) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade_to_head(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK}
            )
        await connection.run_sync(lambda sync: command.upgrade(_alembic_config(sync), "head"))
