"""The background refresher of what Slack says about reps' availability.

Intake never calls Slack: it reads the `slack_presence` rows this refresher writes.
Slack's `user_status_changed` and `dnd_updated_user` events make it ask about that rep
at once, instead of at the next `refresh_every`.
Every run asks Slack about the reps of teams that opted in to a signal, the longest
unasked first, only the methods their teams need: `users.profile.get` (status text,
emoji and expiry; scope users.profile:read, Tier 4), `dnd.info` (do-not-disturb;
scope dnd:read, Tier 3) and `users.getPresence` (scope users:read, Tier 3). A method
that fails leaves its part unknown (unknown counts as available, so the configured
hours decide); when every method fails the old row is kept and ages out after
`stale_after`, which also leaves routing to the configured hours.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.services.base import SlackCallingService
from domain.config import Config
from domain.signals import SlackSnapshot

log = logging.getLogger(__name__)

PER_RUN = 40
"""Reps asked per run: Tier 3 allows about 50 calls a minute per method."""
CONCURRENCY = 4


@dataclass(frozen=True)
class Wanted:
    """Which Slack methods a rep's teams need."""

    status: bool = False
    dnd: bool = False
    presence: bool = False


def wanted_signals(config: Config) -> dict[str, Wanted]:
    """Reps of teams that opted in to a Slack signal, with what to ask about each."""
    wanted: dict[str, Wanted] = {}
    for team in config.teams:
        signals = team.availability
        if signals is None or not (signals.slack_status or signals.dnd or signals.presence):
            continue
        for member in team.members:
            rep = config.rep(member.user)
            if rep is None or rep.user is None:
                continue
            had = wanted.get(rep.user, Wanted())
            wanted[rep.user] = Wanted(
                had.status or signals.slack_status,
                had.dnd or signals.dnd,
                had.presence or signals.presence,
            )
    return wanted


class SlackAvailabilityRefresher(SlackCallingService):
    async def refresh(self) -> int:
        """Ask Slack about the reps due for it; return how many were refreshed."""
        now = self.now()
        async with self.db.snapshot() as uow:
            config = await self.configs.config(uow)
            if config is None:
                return 0
            wanted = wanted_signals(config)
            if not wanted:
                return 0
            asked = await uow.availability.fetched_at()
        every = config.availability_settings.refresh_every
        due = sorted(
            (user for user in wanted if user not in asked or asked[user] <= now - every),
            key=lambda user: (asked.get(user) or datetime.min.replace(tzinfo=now.tzinfo), user),
        )[:PER_RUN]
        return await self._ask(due, wanted)

    async def refresh_user(self, user: str) -> bool:
        """Ask again about one rep now (Slack told us their status or DND changed);
        False when no team of theirs uses Slack's facts, or Slack did not answer."""
        async with self.db.snapshot() as uow:
            config = await self.configs.config(uow)
        wanted = wanted_signals(config) if config else {}
        return user in wanted and await self._ask([user], wanted) == 1

    async def _ask(self, due: list[str], wanted: dict[str, Wanted]) -> int:
        if not due:
            return 0
        gate = asyncio.Semaphore(CONCURRENCY)

        async def ask(user: str) -> tuple[str, SlackSnapshot | None]:
            async with gate:
                return user, await self._snapshot(user, wanted[user])

        answers = await asyncio.gather(*(ask(user) for user in due))
        snapshots = [(user, snap) for user, snap in answers if snap is not None]
        if snapshots:
            async with self.db.transaction() as uow:
                await uow.availability.save_snapshots(snapshots)
        return len(snapshots)

    async def _snapshot(self, user: str, wanted: Wanted) -> SlackSnapshot | None:
        """What Slack says now about `user`; None when every method asked failed."""
        calls: dict[str, Any] = {}
        if wanted.status:
            calls["profile"] = self.client.users_profile_get(user=user)
        if wanted.dnd:
            calls["dnd"] = self.client.dnd_info(user=user)
        if wanted.presence:
            calls["presence"] = self.client.users_getPresence(user=user)
        results = await asyncio.gather(*calls.values(), return_exceptions=True)
        answers: dict[str, dict[str, Any]] = {}
        for name, result in zip(calls, results, strict=True):
            if isinstance(result, Exception):  # Slack down, refused, or slow: unknown
                log.warning("Slack availability of %s: %s failed (%r)", user, name, result)
                continue
            if isinstance(result, BaseException):
                raise result
            data = dict(result.data) if hasattr(result, "data") else {}
            answers[name] = data.get("profile", {}) if name == "profile" else data
        if not answers:
            return None
        return SlackSnapshot.from_slack(self.now(), **answers)
