"""Throwaway databases for tests: a SQLite file, or a fresh PostgreSQL database.

Why: storage and end-to-end tests must pass on both backends the app supports, each test
on an empty database so no test sees another's rows. PostgreSQL databases are created on
the server named by ``LEADROUTER_TEST_POSTGRES_URL`` (a SQLAlchemy async URL whose
database is usually ``postgres``) and dropped afterwards.

The helpers are synchronous (asyncpg runs in a private thread and loop) so that both sync
fixtures and fixtures of async tests can call them without touching pytest-asyncio's loop.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from sqlalchemy.engine import URL, make_url

__all__ = [
    "POSTGRES_ENV",
    "create_postgres_database",
    "drop_postgres_database",
    "postgres_server_url",
    "sqlite_url",
]

POSTGRES_ENV = "LEADROUTER_TEST_POSTGRES_URL"

T = TypeVar("T")


def postgres_server_url() -> str | None:
    """The test server's URL from the environment, or None when tests must skip."""
    return os.environ.get(POSTGRES_ENV) or None


def sqlite_url(path: str | os.PathLike[str]) -> str:
    """``sqlite+aiosqlite:///<absolute path>`` for a database file."""
    return f"sqlite+aiosqlite:///{Path(path).resolve()}"


def _run(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion on a private loop in a private thread."""

    async def main() -> T:
        return await factory()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result(timeout=60)


def _asyncpg_dsn(url: URL) -> str:
    """asyncpg wants a plain ``postgresql://`` DSN, not SQLAlchemy's driver name."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def _execute(dsn: str, *statements: str) -> None:
    import asyncpg  # imported here: only PostgreSQL runs need it

    conn = await asyncpg.connect(dsn, timeout=15)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def create_postgres_database(server_url: str, prefix: str = "lr_test") -> str:
    """Create an empty, uniquely named database; return its SQLAlchemy async URL.

    Connects to the server's ``postgres`` database to issue ``CREATE DATABASE``.
    """
    server = make_url(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = _asyncpg_dsn(server.set(database="postgres"))
    _run(lambda: _execute(admin, f'CREATE DATABASE "{name}"'))
    return server.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(database_url: str) -> None:
    """Drop a database made by :func:`create_postgres_database`, cutting its sessions."""
    url = make_url(database_url)
    name = url.database
    if not name or name == "postgres":
        raise ValueError(f"refusing to drop database {name!r}")
    admin = _asyncpg_dsn(url.set(database="postgres"))
    _run(lambda: _execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
