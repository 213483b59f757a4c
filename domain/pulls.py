"""Fair pulls: against the pull risks the documents name. **Next lead** hands the
claimer the oldest claimable lead of their teams (the lead nobody wants is not left to
rot), and a team may cap claims per rep per rolling hour (against cherry-picking
sprees)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from domain.availability_config import TeamCaps
from domain.config import Config
from domain.lead import LeadStatus
from domain.records import LeadRecord
from domain.signals import until_text

CLAIM_WINDOW = timedelta(hours=1)


def claimable_teams(config: Config, user: str) -> list[str]:
    """The teams whose queue `user` may claim from: those they are a member of."""
    return [team.name for team in config.teams if any(m.user == user for m in team.members)]


def next_claimable(pool: Sequence[LeadRecord], teams: Sequence[str]) -> LeadRecord | None:
    """The oldest lead of `pool` nobody holds, in one of `teams`."""
    wanted = set(teams)
    waiting = [
        lead
        for lead in pool
        if lead.owner is None and lead.status is LeadStatus.QUEUED and lead.team in wanted
    ]
    return min(waiting, key=lambda lead: (lead.created_at, lead.id), default=None)


def claim_cap_reason(
    team: str, caps: TeamCaps | None, claims: Sequence[datetime], now: datetime, zone: str
) -> str | None:
    """Why the rep may not claim one more lead of `team` now (`claims`: when they claimed
    its leads lately), or None."""
    if caps is None or caps.claims_per_hour is None:
        return None
    limit = caps.claims_per_hour
    recent = sorted(at for at in claims if now - CLAIM_WINDOW < at <= now)
    if len(recent) < limit:
        return None
    free_at = recent[-limit] + CLAIM_WINDOW
    return (
        f"at the claim cap of {team} ({len(recent)} claims in the last hour; "
        f"free again{until_text(free_at, now, zone).replace(' until ', ' at ')})"
    )
