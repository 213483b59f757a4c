"""The accept window, applied: Accept and Decline clicks, and the timeout a deadline row
fires (through the timer sweeper, so it happens once, through crashes and replicas).

Lock order is the deadline rows first, then the routing lock, then the lead: Accept
cancels the pending offer row before its compare-and-set on the lead, as the sweeper
holds the row before it changes the lead, so the two can only queue behind each other,
never deadlock. Whoever commits first wins; the other sees the lead changed and stands
down.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.services.base import ApplicationService
from bot.services.routing_facts import read_routing_state
from domain.config import Config
from domain.durations import humanize
from domain.errors import DomainError
from domain.lead import LeadStatus
from domain.messages import Alert, CardUpdate, LeadCard
from domain.offers import (
    OfferOutcome,
    PendingOffer,
    end_offer,
    offer_event,
    parse_offer_step,
    pending_offer,
)
from domain.records import SYSTEM_ACTOR, LeadRecord
from domain.routing_memory import assignment_day
from storage.uow import UnitOfWork


class OfferNotYours(DomainError):
    """The clicker holds no pending offer of this lead (expired, or someone else's)."""


class OfferService(ApplicationService):
    async def accept(self, lead_id: str, user: str) -> str:
        """The offered rep takes the lead: the timeout is cancelled and the lead is theirs."""
        now = self.now()
        async with self.db.transaction() as uow:
            lead, offer = await self._your_offer(uow, lead_id, user, now)
            if not await uow.leads.compare_and_set(lead.id, lead.version, now):
                raise OfferNotYours("The lead changed as you clicked; try again.")
            waited = humanize(now - (lead.assigned_at or lead.created_at))
            await uow.events.add(
                lead.id, now, "accepted", user, f"accepted after {waited}", {"offer": offer.number}
            )
            await _card_update(uow, lead, now)
        self.wake_outbox()
        return f"Accepted: the lead is yours (after {waited})."

    async def decline(self, lead_id: str, user: str) -> str:
        """The offered rep passes: the lead goes to the next rep now, as on a timeout."""
        now = self.now()
        async with self.db.transaction() as uow:
            lead, offer = await self._your_offer(uow, lead_id, user, now)
            config = await self._config(uow)
            changed = await end_offer_now(uow, lead, offer.number, user, "declined", config, now)
            if changed is None:
                raise OfferNotYours("The lead changed as you clicked; try again.")
        self.wake_outbox()
        return "Declined: the lead goes to the next rep."

    async def _your_offer(
        self, uow: UnitOfWork, lead_id: str, user: str, now: datetime
    ) -> tuple[LeadRecord, PendingOffer]:
        """Cancel `user`'s pending offer row of the lead (first: see the lock order above)
        and return the lead and that offer; OfferNotYours if it is not theirs now."""
        cancelled = await uow.availability.cancel_offer(lead_id, user, now)
        lead = await uow.leads.get(lead_id)
        if lead is None:
            raise OfferNotYours(f"no lead {lead_id}")
        lead = replace(lead, events=await uow.events.timeline(lead_id))
        offer = pending_offer(lead)
        if offer is None or offer.user != user or not cancelled:
            raise OfferNotYours(self._not_yours(lead, user))
        return lead, offer

    async def _config(self, uow: UnitOfWork) -> Config:
        return await self.configs.config(uow) or Config()

    @staticmethod
    def _not_yours(lead: LeadRecord, user: str) -> str:
        if lead.owner == user:
            return "You already have this lead."
        if lead.owner is None:
            return "This offer has ended: the lead went back to the team channel."
        return f"This offer has ended: the lead went to <@{lead.owner}>."


async def offer_timed_out(
    uow: UnitOfWork, lead: LeadRecord, step: str, config: Config, now: datetime
) -> LeadRecord | None:
    """The sweeper's handling of an `offer_timeout` row (held by the sweeper's
    transaction): the lead after it, or None if a click changed it first."""
    parsed = parse_offer_step(step)
    if parsed is None:
        raise ValueError(f"not an offer step: {step!r}")
    number, user = parsed
    return await end_offer_now(uow, lead, number, user, "timeout", config, now)


async def end_offer_now(
    uow: UnitOfWork,
    lead: LeadRecord,
    number: int,
    user: str,
    cause: str,
    config: Config,
    now: datetime,
) -> LeadRecord | None:
    """End the `number`th offer to `user`, in the caller's transaction: hand the lead to
    the next rep (a new offer row) or to the channel. None: the compare-and-set lost."""
    offered = frozenset(
        parsed[1]
        for row in await uow.deadlines.for_lead(lead.id)
        if (parsed := parse_offer_step(row.step)) is not None
    )
    await uow.routing.lock()  # the rotation moves: one decision at a time, as intake does
    state = await read_routing_state(uow, config, now)
    outcome = end_offer(lead, number, user, offered, cause, config, state, now)
    if not outcome.fired:
        return lead
    changes = _owner_changes(outcome, lead, config, now)
    if changes and not await uow.leads.compare_and_set(lead.id, lead.version, now, **changes):
        return None
    actor = user if cause == "declined" else SYSTEM_ACTOR
    data: dict[str, Any] = {"offer": number, "user": user, "to": outcome.assign_to}
    await uow.events.add(lead.id, now, outcome.event, actor, outcome.reason, data)
    await _record_outcome(uow, lead, outcome, number, now)
    return lead


def _owner_changes(
    outcome: OfferOutcome, lead: LeadRecord, config: Config, now: datetime
) -> dict[str, Any]:
    if outcome.assign_to is not None:
        return {
            "owner": outcome.assign_to,
            "status": LeadStatus.ASSIGNED,
            "assigned_at": now,
            "assigned_day": assignment_day(outcome.assign_to, config, now),
        }
    if outcome.release:
        return {
            "owner": None,
            "status": LeadStatus.QUEUED,
            "assigned_at": None,
            "assigned_day": None,
        }
    return {}


async def _record_outcome(
    uow: UnitOfWork, lead: LeadRecord, outcome: OfferOutcome, number: int, now: datetime
) -> None:
    """The outcome's timers, rotation, events and messages."""
    if outcome.credits is not None and lead.team is not None:
        await uow.routing.save_credits(lead.team, outcome.credits)
    if outcome.assign_to is not None and outcome.next_step is not None:
        await uow.routing.record_assignment(outcome.assign_to, now)
        await uow.deadlines.add_plans([(lead.id, [outcome.next_step])])
        kind, reason, data = offer_event(number + 1, outcome.assign_to, outcome.next_step.due_at)
        await uow.events.add(lead.id, now, kind, SYSTEM_ACTOR, reason, data)
        await uow.outbox.queue([LeadCard(lead.id, outcome.assign_to, f"offer:{number + 1}")], now)
    if outcome.repost_channel is not None:
        await uow.outbox.queue([LeadCard(lead.id, outcome.repost_channel, f"offer:{number}")], now)
    if outcome.notify is not None:
        text = f"Nobody accepted this lead: {outcome.reason}"
        key = f"alert:{lead.id}:offer:{number}:{outcome.notify}"
        await uow.outbox.queue([Alert(key, outcome.notify, text, lead.id)], now)
    await _card_update(uow, lead, now)


async def _card_update(uow: UnitOfWork, lead: LeadRecord, now: datetime) -> None:
    await uow.outbox.queue([CardUpdate(lead.id, f"v{lead.version + 1}")], now)
