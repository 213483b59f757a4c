"""Slack adapters of availability: Accept and Decline on offered push leads, **Next
lead** and the away toggle on App Home, and Slack's events telling that a rep's status
or do-not-disturb changed. Ack first, call a service, answer the clicker privately."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import action_ids as ids
from bot.slack import availability_commands
from bot.slack.deps import SlackDeps
from bot.slack.listeners import reply_privately
from domain.errors import DomainError

log = logging.getLogger(__name__)

Ack = Callable[[], Awaitable[None]]
Handler = Callable[[str, str], Awaitable[dict[str, Any]]]


def register(app: AsyncApp, deps: SlackDeps) -> None:
    async def accept(lead_id: str, user: str) -> dict[str, Any]:
        return {"text": await deps.offers.accept(lead_id, user)}

    async def decline(lead_id: str, user: str) -> dict[str, Any]:
        return {"text": await deps.offers.decline(lead_id, user)}

    async def next_lead(_value: str, user: str) -> dict[str, Any]:
        return await availability_commands.next_lead(deps, user)

    async def toggle(_value: str, user: str) -> dict[str, Any]:
        return await availability_commands.toggle_away(deps, user)

    handlers: dict[str, Handler] = {
        ids.ACCEPT_LEAD: accept,
        ids.DECLINE_LEAD: decline,
        ids.NEXT_LEAD: next_lead,
        ids.TOGGLE_AWAY: toggle,
    }
    for action_id, handler in handlers.items():
        app.action(action_id)(_listener(deps, handler))

    async def changed(event: dict[str, Any]) -> None:
        """A rep changed their status or do-not-disturb: refresh their facts now. Per
        Slack's event reference, user_status_changed carries `user` as an object (with
        `id`), dnd_updated_user as an id."""
        user = event.get("user")
        user_id = user.get("id") if isinstance(user, dict) else user
        if isinstance(user_id, str) and user_id:
            await deps.slack_facts.refresh_user(user_id)

    for event in ("user_status_changed", "dnd_updated_user"):
        app.event(event)(changed)


def _listener(deps: SlackDeps, handler: Handler) -> Callable[..., Awaitable[None]]:
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
        if body.get("view", {}).get("type") == "home":  # no response_url: the tab says it
            # A card (Next lead) carries lead text in `text`: the queue below shows it.
            said = "Claimed: it is in your queue below." if "blocks" in message else None
            user = body["user"]["id"]
            await deps.home.publish(user, said or message["text"])
            return
        await reply_privately(client, body.get("response_url"), **message)

    return listener
