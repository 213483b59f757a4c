"""The configuration's versions: every save a new row, the newest the live one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    func,
    insert,
    select,
    text,
)

from storage import tables as t
from storage.repository import Repository

_CONFIG_LOCK = 0x1EAD0002  # ... and configuration changes (admin saves, the first load)


class ConfigRepository(Repository):
    async def lock(self) -> None:
        """Hold the configuration until commit: an admin's read-check-save is then a
        compare-and-set, and replicas started together load LEADROUTER_CONFIG once (without
        it each saw none and each saved a version). SQLite: BEGIN IMMEDIATE already does."""
        if self.is_postgres:
            await self.connection.execute(
                text("SELECT pg_advisory_xact_lock(:id)"), {"id": _CONFIG_LOCK}
            )

    async def latest(self) -> tuple[int, dict[str, Any]] | None:
        row = (
            await self.connection.execute(
                select(t.config_versions.c.id, t.config_versions.c.document)
                .order_by(t.config_versions.c.id.desc())
                .limit(1)
            )
        ).first()
        return (row.id, row.document) if row else None

    async def latest_id(self) -> int | None:
        return await self.connection.scalar(select(func.max(t.config_versions.c.id)))

    async def add(self, document: dict[str, Any], actor: str, now: datetime, note: str) -> int:
        result = await self.connection.execute(
            insert(t.config_versions)
            .values(created_at=now, actor=actor, document=document, note=note)
            .returning(t.config_versions.c.id)
        )
        return int(result.scalar_one())
