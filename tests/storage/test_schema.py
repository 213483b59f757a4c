"""Migrations and column types: the schema every replica starts from.

Why: `serve` migrates on every start and several replicas may start at once, so an
upgrade must work on an empty database and be a no-op on an up-to-date one; and the
tables the code queries (storage.tables) must be exactly what the migrations build,
or a constraint the code relies on (dedup keys, one deadline per step) silently
would not exist.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import StatementError

from harness.storage import T0, migrated
from storage import tables as t
from storage.migrate import MIGRATIONS, upgrade_to_head
from storage.uow import Database

EXPECTED_TABLES = {
    "config_versions",
    "leads",
    "lead_events",
    "deadlines",
    "outbox",
    "lead_messages",
    "rep_activity",
    "rotation_state",
    "slack_deliveries",
    "lead_activities",
}


def _head() -> str:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


async def _schema_facts(db: Database) -> tuple[set[str], str | None]:
    async with db.engine.connect() as connection:
        tables = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
        version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    return tables, version


async def test_upgrade_builds_every_table_on_an_empty_database(db_url: str) -> None:
    db = Database(db_url)
    try:
        await upgrade_to_head(db.engine)
        tables, version = await _schema_facts(db)
    finally:
        await db.dispose()
    assert tables >= EXPECTED_TABLES
    assert version == _head()


async def test_upgrade_twice_is_a_no_op_and_keeps_rows(db_url: str) -> None:
    """A second `serve` (or a second replica) must not fail nor touch data."""
    async with migrated(db_url) as db:
        async with db.transaction() as uow:
            await uow.configs.add({"version": 1}, "test", T0, "before the second upgrade")
        await upgrade_to_head(db.engine)
        tables, version = await _schema_facts(db)
        async with db.snapshot() as uow:
            assert await uow.configs.latest() == (1, {"version": 1})
    assert tables >= EXPECTED_TABLES
    assert version == _head()
    # A second, separate engine (another process) upgrading the same database also passes.
    other = Database(db_url)
    try:
        await upgrade_to_head(other.engine)
    finally:
        await other.dispose()


async def test_replicas_starting_together_migrate_once(db_url: str) -> None:
    """Three processes (engines) upgrading an empty database at the same moment all
    succeed, and the schema is built once."""
    engines = [Database(db_url) for _ in range(3)]
    try:
        await asyncio.gather(*(upgrade_to_head(db.engine) for db in engines))
        tables, version = await _schema_facts(engines[0])
    finally:
        for db in engines:
            await db.dispose()
    assert tables >= EXPECTED_TABLES
    assert version == _head()


async def test_migrations_build_exactly_what_the_code_queries(db_url: str) -> None:
    """Alembic's autogenerate diff between the migrated database and storage.tables is empty."""
    async with migrated(db_url) as db, db.engine.connect() as connection:

        def diff(sync: object) -> list[object]:
            context = MigrationContext.configure(
                sync, opts={"compare_type": True, "target_metadata": t.metadata}
            )
            return list(compare_metadata(context, t.metadata))

        differences = await connection.run_sync(diff)
    assert differences == []


async def test_utc_datetime_round_trips_aware_utc(db_url: str) -> None:
    """Any aware datetime goes in; the same instant comes back, in UTC, to the microsecond."""
    paris_winter = timezone(timedelta(hours=1))
    given = T0.astimezone(paris_winter)
    async with migrated(db_url) as db:
        async with db.transaction() as uow:
            row_id = await uow.configs.add({"version": 1}, "test", given, "aware, not UTC")
        async with db.snapshot() as uow:
            back = await uow.connection.scalar(
                select(t.config_versions.c.created_at).where(t.config_versions.c.id == row_id)
            )
            raw = await uow.connection.scalar(
                text("SELECT created_at FROM config_versions WHERE id = :id"), {"id": row_id}
            )
    assert back == T0
    assert back.tzinfo is UTC
    assert back.utcoffset() == timedelta(0)
    # At rest it is the naive UTC wall time (09:30 UTC), not Paris time (10:30).
    assert str(raw).startswith("2026-11-24") and "09:30:15" in str(raw)


async def test_utc_datetime_refuses_naive_datetimes(db_url: str) -> None:
    """A naive datetime is ambiguous (local? UTC?): refused, and nothing is stored."""
    naive = datetime(2026, 11, 24, 9, 30)
    async with migrated(db_url) as db:
        with pytest.raises(StatementError) as caught:
            async with db.transaction() as uow:
                await uow.configs.add({"version": 1}, "test", naive, "naive")
        assert isinstance(caught.value.orig, ValueError)
        assert "naive datetime" in str(caught.value.orig)
        async with db.snapshot() as uow:
            assert await uow.configs.latest_id() is None


async def test_null_datetimes_stay_null(db_url: str) -> None:
    async with migrated(db_url) as db:
        async with db.transaction() as uow:
            await uow.outbox.add(dedup_key="k", kind="alert", target="U0A", now=T0)
        async with db.snapshot() as uow:
            row = (await uow.connection.execute(select(t.outbox))).one()
    assert row.lease_until is None and row.sent_at is None
    assert row.next_attempt_at == T0 and row.created_at.tzinfo is UTC
    assert row.created_at - timedelta(seconds=1) < T0  # aware values compare with aware ones
