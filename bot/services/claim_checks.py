"""May this rep claim this lead now? The team's claim cap per rolling hour (always), and
unless the team allows claims while unavailable, every availability source a push
would check (hours, PTO, capacity, their away toggle, Slack status and do-not-disturb
as the team opted in, caps per period); presence does not matter when they click."""

from __future__ import annotations

from datetime import datetime

from domain.availability import Availability, LocalClock
from domain.caps import earliest_day
from domain.config import Config
from domain.eligibility import RepFacts, TeamRules, unavailable
from domain.pulls import CLAIM_WINDOW, claim_cap_reason
from domain.records import LeadRecord
from storage.uow import UnitOfWork


async def claim_refusal(
    uow: UnitOfWork, config: Config, lead: LeadRecord, user: str, now: datetime
) -> str | None:
    """Why `user` may not claim `lead` now, phrased for them; None when they may."""
    team = config.team(lead.team) if lead.team else None
    rep = config.rep(user)
    zone = rep.timezone if rep else "UTC"
    if team is not None and team.caps is not None and team.caps.claims_per_hour is not None:
        claims = await uow.availability.claims_since(user, team.name, now - CLAIM_WINDOW)
        capped = claim_cap_reason(team.name, team.caps, claims, now, zone)
        if capped:
            return f"You are {capped}."
    if rep is None or (team is not None and team.claim_when_unavailable == "allow"):
        return None
    settings = config.availability_settings
    facts = RepFacts(
        open_leads=await uow.leads.workload([user]),
        signals=await uow.availability.signals(now - settings.stale_after),
        assignments=await uow.counters.assignments(earliest_day(now)),
    )
    rules = TeamRules(team.name, team.availability, team.caps) if team else TeamRules()
    reason = unavailable(
        user,
        Availability(rep),
        rep.caps,
        rules,
        lead.fields.lead_type,
        LocalClock(now),
        facts,
        settings,
        push=False,
    )
    return f"You are {reason}, so you cannot claim leads right now." if reason else None
