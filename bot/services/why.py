"""`/leads why`: one rep's routing as Leadrouter sees it now (domain.why), read in one
snapshot: the configuration, open leads, rotation credits and recent decisions."""

from __future__ import annotations

from typing import Any

from bot.services.base import ApplicationService
from domain.config import Config
from domain.routing import RoutingState
from domain.why import Explanation, explain
from storage.why_queries import WhyQueries

RECENT_SHOWN = 5
_SCANNED = 50  # recent leads of the rep's teams read to find the ones naming them


class WhyService(ApplicationService):
    async def explain(self, user: str) -> Explanation:
        async with self.db.snapshot() as uow:
            current = await self.configs.current(uow)
            config = current[1] if current else Config()
            rep = config.rep(user)
            key = rep.key if rep else user
            teams = [
                team.name
                for team in config.teams
                if any(member.user in (key, user) for member in team.members)
            ]
            state = RoutingState(
                open_leads=await uow.leads.workload([key]), credits=await uow.routing.credits()
            )
            rows = await WhyQueries(uow.connection).recent_decisions(key, teams, _SCANNED)
        named = [row for row in rows if _names(row[2], key)][:RECENT_SHOWN]
        return explain(config, user, state, self.now(), named)


def _names(decision: dict[str, Any], user: str) -> bool:
    """Did this decision involve the rep: chosen, considered or skipped?"""
    skipped = {skip.get("user") for skip in decision.get("skipped") or ()}
    return (
        decision.get("owner") == user
        or user in (decision.get("candidates") or ())
        or user in skipped
    )
