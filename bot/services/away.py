"""Reps pausing and resuming on their own (`/leads away`, `/leads back`, App Home), and
backfill: queued leads nobody could take go to reps who can take them now.

Backfill runs on `/leads back` and as a periodic job on every replica (coming on shift,
back from PTO, an away or a Slack status ending, a cap's new day all show up there):
it takes the routing lock, so replicas hand each lead out once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.services.base import ApplicationService
from bot.services.routing_facts import read_routing_state
from domain.away_time import away_until
from domain.backfill import backfill, waiting_for_backfill
from domain.config import Config
from domain.lead import LeadStatus, Method
from domain.messages import CardUpdate, LeadCard
from domain.offers import offer_event, offer_step, window_for
from domain.records import SYSTEM_ACTOR, LeadRecord
from domain.routing import Decision
from domain.routing_memory import RoutingMemory, assignment_day
from domain.signals import AwayToggle, until_text
from storage.uow import UnitOfWork

BACKFILL_BATCH = 100


class AwayService(ApplicationService):
    async def away(self, user: str, words: list[str]) -> str:
        """Pause new leads for `user` (until the time `words` give, else until back)."""
        now = self.now()
        async with self.db.transaction() as uow:
            config = await self._config(uow)
            zone = _zone(config, user)
            until = away_until(words, now, zone)
            if until is None and config.availability_settings.away_default is not None:
                until = now + config.availability_settings.away_default
            await uow.availability.set_away(user, now, until)
        when = until_text(until, now, zone) or " until you say `/leads back`"
        return f"You are away{when}: no new leads come to you. `/leads back` ends it."

    async def back(self, user: str) -> str:
        """End `user`'s away toggle, then hand out queued leads they can take now."""
        async with self.db.transaction() as uow:
            was_away = await uow.availability.clear_away(user)
        handed = await self.backfill()
        mine = sum(1 for _lead, decision in handed if decision.owner == user)
        start = "Welcome back" if was_away else "You were not away"
        if mine:
            return f"{start}: {mine} queued lead{'s' if mine > 1 else ''} came to you."
        return f"{start}: new leads come to you again."

    async def away_toggle(self, user: str) -> AwayToggle | None:
        """The rep's away toggle while it lasts; None when they take leads."""
        async with self.db.snapshot() as uow:
            toggle = (await uow.availability.away_toggles()).get(user)
        return toggle if toggle is not None and toggle.active(self.now()) else None

    async def backfill(self) -> list[tuple[LeadRecord, Decision]]:
        """Hand queued leads nobody could take to the reps who can take them now. Looks
        first without the write lock: most runs find nothing to do."""
        if not await self._anything_to_do():
            return []
        now = self.now()
        async with self.db.transaction() as uow:
            await uow.availability.forget_expired_away(now)
            config = await self.configs.config(uow)
            if config is None:
                return []
            await uow.routing.lock()  # replicas hand each lead out once, in turn
            queued = await self._waiting(uow, config, now)
            if not queued:
                return []
            memory = RoutingMemory(await read_routing_state(uow, config, now))
            done = [
                (lead, decision)
                for lead, decision in backfill(queued, config, memory, now)
                if await _hand_out(uow, lead, decision, config, now)
            ]
            for team, credits in memory.changed_credits.items():
                await uow.routing.save_credits(team, credits)
        if done:
            self.wake_outbox()
        return done

    async def _anything_to_do(self) -> bool:
        now = self.now()
        async with self.db.snapshot() as uow:
            config = await self.configs.config(uow)
            if config is None:
                return False
            toggles = await uow.availability.away_toggles()
            if any(not toggle.active(now) for toggle in toggles.values()):
                return True
            return bool(await self._waiting(uow, config, now))

    @staticmethod
    async def _waiting(uow: UnitOfWork, config: Config, now: datetime) -> list[LeadRecord]:
        """Queued leads of backfilling push teams that nobody could take, oldest first."""
        teams = [
            team.name
            for team in config.teams
            if team.method is Method.PUSH and team.availability and team.availability.backfill
        ]
        if not teams:
            return []
        return [
            lead
            for lead in await uow.leads.unclaimed(teams, BACKFILL_BATCH)
            if waiting_for_backfill(lead, config, now)
        ]

    async def _config(self, uow: UnitOfWork) -> Config:
        return await self.configs.config(uow) or Config()


def _zone(config: Config, user: str) -> str:
    rep = config.rep(user)
    return rep.timezone if rep else "UTC"


async def _hand_out(
    uow: UnitOfWork, lead: LeadRecord, decision: Decision, config: Config, now: datetime
) -> bool:
    """Assign a queued lead as backfill decided: owner, events, offer window, messages."""
    owner = decision.owner
    assert owner is not None
    changes = {
        "owner": owner,
        "status": LeadStatus.ASSIGNED,
        "method": Method.PUSH,
        "assigned_at": now,
        "assigned_day": assignment_day(owner, config, now),
        # The rule that matched stays; the reasons tell both stories, queueing and backfill.
        "decision": {
            **replace(decision, credits=None).to_record(),
            "rule": lead.decision.get("rule"),
            "reasons": [*lead.decision.get("reasons", ()), *decision.reasons],
        },
    }
    if not await uow.leads.compare_and_set(lead.id, lead.version, now, **changes):
        return False
    await uow.events.add(
        lead.id,
        now,
        "assigned",
        SYSTEM_ACTOR,
        " · ".join(decision.reasons),
        {"owner": owner, "backfill": True},
    )
    await uow.routing.record_assignment(owner, now)
    window = window_for(config, decision)
    if window is not None:
        step = offer_step(1, owner, now, window)
        await uow.deadlines.add_plans([(lead.id, [step])])
        kind, reason, data = offer_event(1, owner, step.due_at)
        await uow.events.add(lead.id, now, kind, SYSTEM_ACTOR, reason, data)
    messages = [LeadCard(lead.id, owner, "backfill"), CardUpdate(lead.id, f"v{lead.version + 1}")]
    await uow.outbox.queue(messages, now)
    return True
