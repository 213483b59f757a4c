"""Which intake profile a request names: the live configuration's, else a built-in.

The profile is looked up on every request to `/api/intake/{profile}`; reading the
configuration's version from the database each time would cost the intake path a query,
so the live configuration is kept for a few seconds. A profile edited by an admin is
in use on every replica within that time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.services.base import ApplicationService
from domain.config import Config
from domain.intake_profiles import IntakeProfile, known_profiles, resolve_profile

FRESH_FOR = timedelta(seconds=2)


class UnknownProfile(LookupError):
    """No built-in or configured profile by that name; the message lists the known ones."""


class IntakeProfileService(ApplicationService):
    _cached: tuple[datetime, Config] | None = None

    async def profile(self, name: str) -> IntakeProfile:
        config = await self._config()
        try:
            return resolve_profile(name, config.intake_profiles)
        except KeyError:
            known = ", ".join(known_profiles(config.intake_profiles))
            raise UnknownProfile(f"no intake profile {name!r}; known: {known}") from None

    async def _config(self) -> Config:
        now = self.now()
        if self._cached is not None and now - self._cached[0] < FRESH_FOR:
            return self._cached[1]
        async with self.db.snapshot() as uow:  # a read: no write lock taken from intake
            current = await self.configs.current(uow)
        config = current[1] if current else Config()
        self._cached = (now, config)
        return config
