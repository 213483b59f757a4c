"""Make channel membership true: join every public team channel, find the private ones the
bot was not invited to, and tell the admins (a DM through the outbox) which need
``/invite``.

Why: the outbox looks a lost post up in the channel's history before posting it again,
and Slack answers ``not_in_channel`` to a bot that is not a member; a bot that never
joined could neither see its own posts nor be sure it posted. Runs when the app starts,
every few minutes after (a configuration imported or edited on another replica), and when
an admin saves a team (the modal shows what needs doing).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.services.base import SlackCallingService
from domain.channel_membership import ChannelState, Membership, invite_request
from domain.config import TeamConfig
from domain.messages import Alert

log = logging.getLogger(__name__)

NOT_A_MEMBER = frozenset({"not_in_channel", "channel_not_found"})
"""A private channel the bot is not in looks absent to it (conversations.history)."""
DEAD = frozenset({"is_archived", "channel_not_found"})


class ChannelMembershipService(SlackCallingService):
    async def check(self, team: str, channel: str) -> ChannelState:
        """Join a public channel (idempotent on Slack's side); for a private one, a
        one-message history read says whether the bot was invited."""
        try:
            if channel.startswith("C"):
                await self.client.conversations_join(channel=channel)
            else:
                await self.client.conversations_history(channel=channel, limit=1)
        except SlackApiError as error:
            code = str(error.response.get("error") or error.response.status_code)
            if channel.startswith("C") and code in DEAD:
                return ChannelState(team, channel, Membership.GONE, code)
            if not channel.startswith("C") and code in NOT_A_MEMBER:
                return ChannelState(team, channel, Membership.NEEDS_INVITE, code)
            return ChannelState(team, channel, Membership.UNKNOWN, code)
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            return ChannelState(team, channel, Membership.UNKNOWN, type(error).__name__)
        return ChannelState(team, channel, Membership.MEMBER)

    async def check_teams(self, teams: Iterable[TeamConfig]) -> list[ChannelState]:
        return [await self.check(t.name, t.channel) for t in teams if t.channel]

    async def ensure_all(self) -> list[ChannelState]:
        """Check every team channel of the live configuration; DM the admins about each
        channel they must fix (once a day per channel, whatever the number of replicas
        or restarts: the outbox key says so)."""
        async with self.db.snapshot() as uow:
            current = await self.configs.current(uow)
        if current is None:
            return []
        _, config = current
        states = await self.check_teams(config.teams)
        await self.tell_admins(config.admins, [s for s in states if s.needs_admin])
        for state in states:
            if state.membership is Membership.UNKNOWN:
                log.warning("could not check channel %s: %s", state.channel, state.detail)
        return states

    async def tell_admins(self, admins: Iterable[str], states: list[ChannelState]) -> None:
        if not states:
            return
        now = self.now()
        alerts = [
            Alert(f"membership:{state.channel}:{admin}:{now.date()}", admin, invite_request(state))
            for state in states
            for admin in admins
        ]
        async with self.db.transaction() as uow:
            await uow.outbox.queue(alerts, now)
        self.wake_outbox()
