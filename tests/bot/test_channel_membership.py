"""Channel membership against the local workspace: public channels are joined, private
ones need an invite, archived ones are reported, a network error is only "unknown"."""

from __future__ import annotations

from typing import Any, cast

from slack_sdk.web.async_client import AsyncWebClient

from bot.localslack import LocalSlack
from bot.services.channel_membership import ChannelMembershipService
from bot.services.configuration import ConfigService
from domain.channel_membership import Membership, invite_request


def _service(slack: LocalSlack) -> ChannelMembershipService:
    client = AsyncWebClient(token="xoxb-test", base_url=slack.url, retry_handlers=[])
    return ChannelMembershipService(
        cast(Any, None), ConfigService(), cast(Any, None), lambda: None, client
    )


async def test_public_joined_private_invited_archived_reported() -> None:
    with LocalSlack() as slack:
        service = _service(slack)
        slack.invite("G0INVITED")
        slack.add_channel("C0OLD").is_archived = True
        states = {
            channel: (await service.check("team", channel)).membership
            for channel in ("C0PUBLIC", "G0SECRET", "G0INVITED", "C0OLD")
        }
        assert slack.channels() and "U0BOT" in slack.workspace.channel("C0PUBLIC").members
        slack.drop("conversations.join")
        dropped = await service.check("team", "C0DROPPED")
    assert states == {
        "C0PUBLIC": Membership.MEMBER,
        "G0SECRET": Membership.NEEDS_INVITE,
        "G0INVITED": Membership.MEMBER,
        "C0OLD": Membership.GONE,
    }
    assert dropped.membership is Membership.UNKNOWN and not dropped.needs_admin


async def test_the_admin_is_told_what_to_type() -> None:
    with LocalSlack() as slack:
        state = await _service(slack).check("Secret Squad", "G0SECRET")
    assert state.needs_admin
    assert "/invite @Leadrouter" in invite_request(state) and "Secret Squad" in invite_request(
        state
    )
