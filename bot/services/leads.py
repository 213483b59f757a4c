"""What people do to a lead after intake: mark it contacted, report outcomes, read it.

Every change is a compare-and-set on the lead's version, retried on a fresh read, so
two clicks, a click and a CRM call, or two replicas never overwrite each other."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.services.base import ApplicationService
from domain.availability import unavailable_reason
from domain.command_args import find_team, parse_argument
from domain.durations import humanize
from domain.errors import DomainError
from domain.lead import LeadStatus
from domain.lifecycle import advance, stage_reached
from domain.messages import CardUpdate, LeadCard
from domain.records import OPEN_STATUSES, WORKLOAD_STATUSES, LeadRecord
from storage.uow import UnitOfWork

MAX_CLOCK_SKEW = timedelta(minutes=5)
_CAS_ATTEMPTS = 5


class _LostRace(Exception):
    """Another change committed first; roll back and try again on the new state."""


class LeadNotFound(DomainError):
    pass


class NotAllowed(DomainError):
    """The person may not do this; the message says who may."""


@dataclass(frozen=True)
class Outcome:
    lead: LeadRecord
    message: str


class LeadActions(ApplicationService):
    async def get(self, lead_id: str) -> LeadRecord:
        async with self.db.snapshot() as uow:
            lead = await uow.leads.get(lead_id)
            if lead is None:
                raise LeadNotFound(f"no lead {lead_id}")
            return replace(lead, events=await uow.events.timeline(lead_id))

    async def record_event(
        self, lead_id: str, event: str, actor: str, at: datetime | None, note: str | None
    ) -> Outcome:
        """A closed-loop event from a CRM or dialer (`contacted` stops the SLA clock)."""
        now = self.now()
        when = at or now
        if when > now + MAX_CLOCK_SKEW:
            raise DomainError("`at` is in the future")
        return await self._transition(lead_id, event, actor, when, note, claimer=None)

    async def mark_contacted(self, lead_id: str, user: str) -> Outcome:
        """The Slack button: the owner (or, on an unowned lead, the clicker) made contact."""
        return await self._transition(lead_id, "contacted", user, self.now(), None, claimer=user)

    async def claim(self, lead_id: str, user: str) -> Outcome:
        """First click wins, exactly once: one compare-and-set from no owner to `user`.

        A loser (or a Slack retry of the winner's click) reads the winner and is told.
        """
        async with self.db.snapshot() as uow:  # in a storm most clicks stop here, lock-free
            seen = await uow.leads.get(lead_id)
        if seen is not None and seen.owner is not None:
            return self._already_claimed(seen, user)
        now = self.now()
        async with self.db.transaction() as uow:
            lead = await uow.leads.get(lead_id)
            if lead is None:
                raise LeadNotFound(f"no lead {lead_id}")
            if lead.owner is not None:
                return self._already_claimed(lead, user)
            if lead.status not in OPEN_STATUSES:
                raise NotAllowed(f"This lead is already {lead.status}.")
            await self._check_member(uow, lead, user)
            await self._check_can_take(uow, lead, user, now)
            won = await uow.leads.compare_and_set(
                lead.id, lead.version, now, owner=user, status=LeadStatus.ASSIGNED, assigned_at=now
            )
            if not won:  # someone committed first: perhaps our own click, retried by Slack
                current = await uow.leads.get(lead_id)
                if current is not None and current.owner is not None:
                    return self._already_claimed(current, user)
                raise NotAllowed("The lead changed as you clicked; try again.")
            waited = humanize(now - lead.created_at)
            await uow.events.add(
                lead.id,
                now,
                "claimed",
                user,
                f"claimed after {waited}",
                {"wait_seconds": (now - lead.created_at).total_seconds()},
            )
            await uow.routing.record_assignment(user, now)
            await self._queue_card_update(uow, lead, now)
            updated = await uow.leads.get(lead.id)
        assert updated is not None
        self.wake_outbox()
        return Outcome(updated, f"Claimed after {waited}")

    @staticmethod
    def _already_claimed(lead: LeadRecord, user: str) -> Outcome:
        if lead.owner == user:  # a double click, or Slack retrying the winner's click
            return Outcome(lead, "You already own this lead.")
        raise NotAllowed(f"Already claimed by <@{lead.owner}>.")

    async def release(self, lead_id: str, user: str) -> Outcome:
        """The owner (or a manager) gives the lead back to the team queue for claiming."""

        async def attempt(uow: UnitOfWork, lead: LeadRecord, now: datetime) -> str | None:
            if lead.owner is None:
                raise NotAllowed("Nobody owns this lead; it is already in the queue.")
            if lead.status is not LeadStatus.ASSIGNED:
                raise NotAllowed(f"This lead is already {lead.status}; it stays with its owner.")
            await self._check_may_act(uow, lead, user)
            changes = {"owner": None, "status": LeadStatus.QUEUED, "assigned_at": None}
            if not await uow.leads.compare_and_set(lead.id, lead.version, now, **changes):
                return None
            await uow.events.add(
                lead.id,
                now,
                "released",
                user,
                f"released by {user}; back in the queue",
                {"from": lead.owner},
            )
            await self._queue_card_update(uow, lead, now)
            channel = await self._team_channel(uow, lead)
            if channel:
                await uow.outbox.queue([LeadCard(lead.id, channel)], now)
            return "Released back to the queue"

        return await self._change(lead_id, attempt)

    async def _change(
        self,
        lead_id: str,
        attempt: Callable[[UnitOfWork, LeadRecord, datetime], Awaitable[str | None]],
    ) -> Outcome:
        """Run `attempt` on a fresh read of the lead, in one transaction. It returns the
        message for the person, or None when its compare-and-set lost to another change:
        then its writes are rolled back and it runs again on the new state."""
        for _ in range(_CAS_ATTEMPTS):
            try:
                async with self.db.transaction() as uow:
                    lead = await uow.leads.get(lead_id)
                    if lead is None:
                        raise LeadNotFound(f"no lead {lead_id}")
                    message = await attempt(uow, lead, self.now())
                    if message is None:
                        raise _LostRace
                    updated = await uow.leads.get(lead_id)
            except _LostRace:
                continue
            assert updated is not None
            self.wake_outbox()
            return Outcome(updated, message)
        raise DomainError("the lead is changing too fast; try again")

    async def _team_channel(self, uow: UnitOfWork, lead: LeadRecord) -> str | None:
        config = await self.configs.config(uow)
        team = config.team(lead.team) if config and lead.team else None
        return team.channel if team else None

    async def _check_member(self, uow: UnitOfWork, lead: LeadRecord, user: str) -> None:
        config = await self.configs.config(uow)
        team = config.team(lead.team) if config and lead.team else None
        if team is None:
            return
        if user == team.manager or any(member.user == user for member in team.members):
            return
        raise NotAllowed(f"Only members of {team.name} can claim this lead.")

    async def _check_can_take(
        self, uow: UnitOfWork, lead: LeadRecord, user: str, now: datetime
    ) -> None:
        """Refuse a claim from a rep who is away or full, unless the team allows it."""
        config = await self.configs.config(uow)
        if config is None:
            return
        team = config.team(lead.team) if lead.team else None
        rep = config.rep(user)
        if rep is None or (team is not None and team.claim_when_unavailable == "allow"):
            return
        load = (await uow.leads.workload([user])).get(user, 0)
        reason = unavailable_reason(rep, now, load)
        if reason:
            raise NotAllowed(f"You are {reason}, so you cannot claim leads right now.")

    async def reassign(self, lead_id: str, manager: str, new_owner: str) -> Outcome:
        """A manager (or admin) hands the lead to someone else; the new owner gets the card."""

        async def attempt(uow: UnitOfWork, lead: LeadRecord, now: datetime) -> str | None:
            await self.check_manager(uow, lead, manager)
            if lead.status not in OPEN_STATUSES and lead.status is not LeadStatus.CONTACTED:
                raise NotAllowed(f"This lead is already {lead.status}.")
            if new_owner == lead.owner:
                return f"<@{new_owner}> already owns this lead."
            status = LeadStatus.CONTACTED if lead.contacted_at else LeadStatus.ASSIGNED
            changes = {"owner": new_owner, "status": status, "assigned_at": now}
            if not await uow.leads.compare_and_set(lead.id, lead.version, now, **changes):
                return None
            previous = lead.owner or "the queue"
            await uow.events.add(
                lead.id,
                now,
                "reassigned",
                manager,
                f"reassigned by {manager} from {previous} to {new_owner}",
                {"from": lead.owner, "to": new_owner},
            )
            await uow.routing.record_assignment(new_owner, now)
            await uow.outbox.queue([LeadCard(lead.id, new_owner, f"v{lead.version + 1}")], now)
            await self._queue_card_update(uow, lead, now)
            return f"Reassigned to <@{new_owner}>"

        return await self._change(lead_id, attempt)

    async def check_manager(self, uow: UnitOfWork, lead: LeadRecord, user: str) -> None:
        """Only the lead's team manager or an admin may reassign."""
        if not await self._is_manager(uow, lead, user):
            raise NotAllowed("Only the team's manager or a Leadrouter admin can reassign leads.")

    async def may_reassign(self, lead_id: str, user: str) -> LeadRecord:
        """Checked before opening the modal, and again on submission."""
        async with self.db.snapshot() as uow:
            lead = await uow.leads.get(lead_id)
            if lead is None:
                raise LeadNotFound(f"no lead {lead_id}")
            await self.check_manager(uow, lead, user)
            return lead

    async def queue(self, user: str, limit: int) -> list[LeadRecord]:
        """The rep's own leads still being worked, most urgent first."""
        async with self.db.snapshot() as uow:
            return await uow.leads.owned_by(
                user, [str(status) for status in WORKLOAD_STATUSES], limit
            )

    async def team_pool(
        self, user: str, team_name: str | None, limit: int
    ) -> tuple[list[str], list[LeadRecord]]:
        """Unclaimed leads of the named team (by name in any case, or its channel link),
        or of every team the user belongs to."""
        async with self.db.snapshot() as uow:
            config = await self.configs.config(uow)
            if config is None:
                return [], []
            if team_name:
                team = find_team(config.teams, parse_argument(team_name))
                if team is None:
                    raise DomainError(f"There is no team named “{team_name}”.")
                names = [team.name]
            else:
                names = [
                    team.name
                    for team in config.teams
                    if team.manager == user or any(m.user == user for m in team.members)
                ]
            return names, await uow.leads.unclaimed(names, limit)

    async def _queue_card_update(self, uow: UnitOfWork, lead: LeadRecord, now: datetime) -> None:
        await uow.outbox.queue([CardUpdate(lead.id, f"v{lead.version + 1}")], now)

    async def _transition(
        self,
        lead_id: str,
        event: str,
        actor: str,
        at: datetime,
        note: str | None,
        claimer: str | None,
    ) -> Outcome:
        async def attempt(uow: UnitOfWork, lead: LeadRecord, now: datetime) -> str | None:
            if at < lead.created_at:
                raise DomainError("`at` is before the lead was received")
            if claimer is not None:
                await self._check_may_act(uow, lead, claimer)
            changes: dict[str, object] = {"status": advance(lead.status, event)}
            stage = stage_reached(event)
            if stage is not None:
                changes[f"{stage}_at"] = at
            if claimer is not None and lead.owner is None:
                changes["owner"] = claimer
            message = f"{event} recorded"
            data: dict[str, object] = {}
            if lead.contacted_at is None:  # every later stage implies first contact
                changes["contacted_at"] = at
                response = at - lead.created_at
                within = lead.sla_due_at is None or at <= lead.sla_due_at
                data = {"response_seconds": response.total_seconds(), "within_sla": within}
                verdict = " — within SLA" if within else " — SLA missed"
                message = f"Contacted after {humanize(response)}{verdict}"
                await uow.deadlines.cancel_pending(lead.id, now)
            if not await uow.leads.compare_and_set(lead.id, lead.version, now, **changes):
                return None
            await uow.events.add(lead.id, at, event, actor, note or message, data or None)
            await self._queue_card_update(uow, lead, now)
            return message

        return await self._change(lead_id, attempt)

    async def _check_may_act(self, uow: UnitOfWork, lead: LeadRecord, user: str) -> None:
        if lead.owner is None or lead.owner == user or await self._is_manager(uow, lead, user):
            return
        raise NotAllowed(f"This lead is <@{lead.owner}>'s; only they or a manager can act on it.")

    async def _is_manager(self, uow: UnitOfWork, lead: LeadRecord, user: str) -> bool:
        """The lead's team manager or a Leadrouter admin."""
        config = await self.configs.config(uow)
        if config is None:
            return False
        team = config.team(lead.team) if lead.team else None
        return user in config.admins or (team is not None and team.manager == user)
