"""Configuration versions as an audit trail: who changed what and when (the lock that
makes an admin's read-check-save a compare-and-set is `ConfigRepository.lock`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import tables as t


@dataclass(frozen=True)
class ConfigVersion:
    id: int
    created_at: datetime
    actor: str
    document: dict[str, Any]
    note: str | None


class ConfigHistoryRepository:
    def __init__(self, connection: AsyncConnection):
        self.connection = connection

    async def get(self, version: int) -> ConfigVersion | None:
        rows = await self._select(t.config_versions.c.id == version, limit=1)
        return rows[0] if rows else None

    async def since(self, version: int) -> list[ConfigVersion]:
        """Every version newer than `version`, oldest first."""
        return list(reversed(await self._select(t.config_versions.c.id > version, limit=None)))

    async def recent(self, limit: int) -> list[ConfigVersion]:
        """The newest `limit` versions plus the one before them (to diff against),
        newest first."""
        return await self._select(None, limit=limit + 1)

    async def _select(self, where: Any, limit: int | None) -> list[ConfigVersion]:
        query = select(t.config_versions).order_by(t.config_versions.c.id.desc())
        if where is not None:
            query = query.where(where)
        if limit is not None:
            query = query.limit(limit)
        rows = await self.connection.execute(query)
        return [
            ConfigVersion(row.id, row.created_at, row.actor, row.document, row.note) for row in rows
        ]
