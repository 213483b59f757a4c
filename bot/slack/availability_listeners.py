"""Slack adapters of availability: Accept and Decline on offered push leads, **Next
lead**, the App Home away toggle, and `/leads away [until TIME]`, `/leads back`,
`/leads next`. Ack first, call a service, answer the clicker privately."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.services.away import AwayService
from bot.services.offers import OfferService
from bot.services.pulls import PullService
from bot.services.slack_availability import SlackAvailabilityRefresher
from bot.slack import views
from bot.slack.listeners import reply_privately
from bot.slack.stats_views import HOME_BLOCKS
from domain.errors import DomainError
from domain.signals import AwayToggle

log = logging.getLogger(__name__)

SUBCOMMANDS = ("away", "back", "next")
"""`/leads` words this module answers."""

Ack = Callable[[], Awaitable[None]]


class AvailabilityListeners:
    def __init__(
        self,
        offers: OfferService,
        away: AwayService,
        pulls: PullService,
        slack_facts: SlackAvailabilityRefresher,
    ):
        self.offers = offers
        self.away = away
        self.pulls = pulls
        self.slack_facts = slack_facts

    def register(self, app: AsyncApp) -> None:
        buttons: dict[str, Callable[[str, str], Awaitable[dict[str, Any]]]] = {
            "accept_lead": self._accept,
            "decline_lead": self._decline,
            "next_lead": lambda _value, user: self._next(user),
            "toggle_away": lambda _value, user: self._toggle(user),
        }
        for action_id, handler in buttons.items():
            app.action(action_id)(self._listener(handler))
        # A rep changed their status or do-not-disturb: refresh their facts now. Per Slack's
        # event reference, user_status_changed carries `user` as an object (with `id`),
        # dnd_updated_user as an id.
        for event in ("user_status_changed", "dnd_updated_user"):
            app.event(event)(self._changed)

    async def _changed(self, event: dict[str, Any]) -> None:
        user = event.get("user")
        user_id = user.get("id") if isinstance(user, dict) else user
        if isinstance(user_id, str) and user_id:
            await self.slack_facts.refresh_user(user_id)

    async def command(self, words: list[str], user: str) -> dict[str, Any]:
        """Answer `/leads away|back|next ...` (words after `/leads`)."""
        if words[0] == "away":
            return {"text": await self.away.away(user, words[1:])}
        if words[0] == "back" and len(words) == 1:
            return {"text": await self.away.back(user)}
        if words[0] == "next" and len(words) == 1:
            return await self._next(user)
        raise DomainError("`/leads back` and `/leads next` take nothing after them.")

    async def home_controls(self, user: str, view: dict[str, Any]) -> dict[str, Any]:
        """The App Home view with the away toggle and **Next lead** beside its buttons."""
        return with_home_controls(view, await self.away.away_toggle(user))

    async def _accept(self, lead_id: str, user: str) -> dict[str, Any]:
        return {"text": await self.offers.accept(lead_id, user)}

    async def _decline(self, lead_id: str, user: str) -> dict[str, Any]:
        return {"text": await self.offers.decline(lead_id, user)}

    async def _next(self, user: str) -> dict[str, Any]:
        outcome = await self.pulls.next_lead(user)
        card = views.lead_card(outcome.lead, self.pulls.now())
        return {**card, "text": f"{outcome.message}: {card['text']}"}

    async def _toggle(self, user: str) -> dict[str, Any]:
        if await self.away.away_toggle(user) is None:
            return {"text": await self.away.away(user, [])}
        return {"text": await self.away.back(user)}

    @staticmethod
    def _listener(
        handler: Callable[[str, str], Awaitable[dict[str, Any]]],
    ) -> Callable[..., Awaitable[None]]:
        async def listener(ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
            await ack()
            action = body["actions"][0]
            try:
                message = await handler(str(action.get("value", "")), body["user"]["id"])
            except DomainError as error:
                message = {"text": str(error)}
            except Exception:
                log.exception("%s failed", action.get("action_id"))
                message = {"text": "Something went wrong on our side; nothing changed. Try again."}
            await reply_privately(client, body.get("response_url"), **message)

        return listener


def with_home_controls(view: dict[str, Any], away: AwayToggle | None) -> dict[str, Any]:
    """Add the away toggle and **Next lead** to the Home view's last actions block (a
    block of its own would not fit beside 30 leads in Home's 100 blocks)."""
    if away is None:
        toggle = views.button("Pause new leads", "toggle_away", "away")
        note = None
    else:
        toggle = views.button("I'm back", "toggle_away", "back", style="primary")
        until = "" if away.until is None else f" until {views.slack_date(away.until)}"
        note = f":double_vertical_bar: You are away{until}: no new leads come to you."
    controls = [toggle, views.button("Next lead", "next_lead", "next")]
    blocks = list(view["blocks"])
    for index in range(len(blocks) - 1, -1, -1):
        if blocks[index].get("type") == "actions":
            elements = [*blocks[index]["elements"], *controls]
            blocks[index] = {**blocks[index], "elements": elements}
            break
    else:
        blocks.append({"type": "actions", "block_id": "availability", "elements": controls})
    if note is not None and len(blocks) < HOME_BLOCKS:
        blocks.insert(0, {"type": "section", "text": {"type": "mrkdwn", "text": note}})
    return {**view, "blocks": blocks}
