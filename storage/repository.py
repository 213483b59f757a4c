"""The base of every repository: SQL lives in storage/, one module per aggregate (leads,
events, deadlines, outbox, ...). Each repository works inside the caller's transaction
(see storage.uow); none commits on its own."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection


class Repository:
    def __init__(self, connection: AsyncConnection):
        self.connection = connection

    @property
    def is_postgres(self) -> bool:
        return self.connection.dialect.name == "postgresql"

    def _upsert(self, table: Any) -> Any:
        return (pg_insert if self.is_postgres else sqlite_insert)(table)
