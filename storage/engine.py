"""Engines for SQLite (WAL, durable commits, one writer at a time) and PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

# hide_parameters: a failed statement's exception (and so any logged traceback) names
# the SQL but not the values bound to it, which are a lead's name, company and more.
SQLITE_BUSY_TIMEOUT_MS = 30_000
_WAL_SWITCH_ATTEMPTS = 100  # 5 s in all
READ_ONLY = "leadrouter_read_only"  # execution option: a snapshot read, no write lock


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An engine whose transactions are safe to read-then-write on either backend.

    SQLite: WAL so readers never block the writer; `synchronous=FULL` so a 201 survives
    a power cut, not only a process crash; every transaction starts with BEGIN IMMEDIATE,
    so a read-then-write transaction holds the write lock from the start and can never
    fail to upgrade mid-way (the classic SQLITE_BUSY under load).
    """
    if not is_sqlite(url):
        return create_async_engine(
            url, echo=echo, pool_pre_ping=True, pool_size=10, hide_parameters=True
        )
    # Enough pooled connections for the dispatcher's concurrent senders plus requests:
    # an overflow connection is a new thread, file handle and PRAGMAs, every time.
    engine = create_async_engine(
        url,
        echo=echo,
        connect_args={"timeout": 30},
        pool_size=32,
        max_overflow=16,
        hide_parameters=True,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        _use_wal(cursor)
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # Overwrite deleted and replaced content with zeros: an erased lead's old values
        # must not linger in the file's free space (SQLite's `secure_delete`).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def _use_wal(cursor: Any) -> None:
    """Switch the file to WAL (once per file; later connections find it set).

    Switching needs an exclusive lock and SQLite answers "database is locked" at once
    instead of waiting, so replicas opening a brand-new file together retry briefly.
    """
    for attempt in range(_WAL_SWITCH_ATTEMPTS):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as error:
            if "locked" not in str(error) or attempt == _WAL_SWITCH_ATTEMPTS - 1:
                raise
            time.sleep(0.05)


def redact(url: str) -> str:
    """The URL without its password, for logs and error lines."""
    return make_url(url).render_as_string(hide_password=True)


async def checkpoint_wal(engine: AsyncEngine) -> bool:
    """Copy SQLite's write-ahead log into the database file and truncate it, so values an
    erasure replaced are gone from the -wal file too (not only at the next automatic
    checkpoint). True when the log was emptied (always on PostgreSQL, which has no such
    file); False when a reader still needed it (the next checkpoint finishes the job)."""
    if engine.dialect.name != "sqlite":
        return True
    async with engine.connect() as connection:
        # On the driver's connection: SQLAlchemy would open a transaction first (our
        # BEGIN IMMEDIATE), and a checkpoint cannot run inside one.
        raw = await connection.get_raw_connection()
        cursor = await raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        busy, _pages, _done = await cursor.fetchone()
    return bool(busy == 0)
