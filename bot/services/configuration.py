"""The live configuration: the newest version in the database, parsed once per version."""

from __future__ import annotations

from datetime import datetime

from domain.config import Config, validate_config
from storage.uow import UnitOfWork


class ConfigService:
    """Every replica reads the version id in its own transaction, so a change made by an
    admin on one replica is used by the next lead on any replica."""

    def __init__(self) -> None:
        self._parsed: dict[int, Config] = {}

    async def current(self, uow: UnitOfWork) -> tuple[int, Config] | None:
        version = await uow.configs.latest_id()
        if version is None:
            return None
        if version not in self._parsed:
            latest = await uow.configs.latest()
            assert latest is not None
            self._parsed = {version: validate_config(latest[1])}
        return version, self._parsed[version]

    async def config(self, uow: UnitOfWork) -> Config | None:
        """The live configuration without its version; None before the first is stored."""
        found = await self.current(uow)
        return found[1] if found else None

    async def save(
        self, uow: UnitOfWork, config: Config, actor: str, now: datetime, note: str
    ) -> int:
        """Store a new version (validated already); earlier versions stay for history."""
        document = config.model_dump(mode="json", by_alias=True, exclude_none=True)
        return await uow.configs.add(document, actor, now, note)
