"""Whether the bot is where a team needs it: in the team's channel, so it can post there
and read back its own posts (a lost answer is looked up in the channel's history).

Why: Slack lets a bot post to a public channel it is not in (``chat:write.public``) but
not read it (``not_in_channel``), and a private channel not at all until someone types
``/invite @Leadrouter`` in it. Pure: the states and what to tell an admin about them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["ChannelState", "Membership", "invite_request"]


class Membership(StrEnum):
    MEMBER = "member"
    """The bot is in the channel (it was already, or it just joined a public one)."""
    NEEDS_INVITE = "needs_invite"
    """A private channel the bot cannot join by itself."""
    GONE = "gone"
    """Archived, or no such channel: the team's configuration names a dead channel."""
    UNKNOWN = "unknown"
    """Slack did not say (a network error, a missing scope): checked again later."""


@dataclass(frozen=True)
class ChannelState:
    team: str
    channel: str
    membership: Membership
    detail: str = ""

    @property
    def needs_admin(self) -> bool:
        return self.membership in (Membership.NEEDS_INVITE, Membership.GONE)


def invite_request(state: ChannelState) -> str:
    """What to tell an admin (team names are escaped by the renderer, not here)."""
    if state.membership is Membership.NEEDS_INVITE:
        return (
            f"Leadrouter is not in the private channel {state.channel} of team "
            f"“{state.team}”, so it cannot post that team's leads there. Type "
            f"`/invite @Leadrouter` in that channel."
        )
    return (
        f"The channel {state.channel} of team “{state.team}” is archived or gone "
        f"({state.detail or 'channel_not_found'}): choose another channel for the team."
    )
