"""**Next lead** and `/leads next`: the claimer gets the oldest claimable lead of their
teams, claimed for them exactly as a click on its card would (first claim wins, the
team's claim cap and availability checks apply)."""

from __future__ import annotations

from bot.services.base import ApplicationService
from bot.services.leads import LeadActions, NotAllowed, Outcome
from domain.errors import DomainError
from domain.pulls import claimable_teams, next_claimable

POOL_LOOKAHEAD = 20


class PullService(ApplicationService):
    def __init__(self, actions: LeadActions):
        super().__init__(actions.db, actions.configs, actions.now, actions.wake_outbox)
        self.actions = actions

    async def next_lead(self, user: str) -> Outcome:
        """Claim the oldest unclaimed lead of the user's teams; if someone else claims it
        first, the next oldest."""
        async with self.db.snapshot() as uow:
            config = await self.configs.config(uow)
            teams = claimable_teams(config, user) if config else []
            pool = await uow.leads.unclaimed(teams, POOL_LOOKAHEAD) if teams else []
        if not teams:
            raise DomainError("You are not a member of any team, so there is nothing to claim.")
        while (lead := next_claimable(pool, teams)) is not None:
            try:
                return await self.actions.claim(lead.id, user)
            except NotAllowed as refused:
                if not str(refused).startswith("Already claimed"):
                    raise
            pool = [other for other in pool if other.id != lead.id]
        raise DomainError("No unclaimed leads in your teams right now: nice work.")
