"""Alembic environment: run against the connection `storage.migrate` hands over,
or, when alembic is run by hand, against LEADROUTER_DATABASE_URL."""

from __future__ import annotations

import asyncio
import os

from alembic import context

from storage.engine import create_engine
from storage.tables import metadata

DEFAULT_URL = "sqlite+aiosqlite:///./leadrouter.db"


def _run(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite alters tables by copy
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_standalone() -> None:
    engine = create_engine(os.environ.get("LEADROUTER_DATABASE_URL", DEFAULT_URL))
    async with engine.begin() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


given = context.config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    asyncio.run(_run_standalone())
