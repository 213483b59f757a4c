"""Bolt listeners: ack first (Slack's 3-second deadline), parse, call a service, answer.

The lead card itself is edited through the outbox; the clicker gets an ephemeral line
only when something needs saying (refusals, who already claimed)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.services.leads import LeadActions, Outcome
from domain.errors import DomainError

log = logging.getLogger(__name__)

Respond = Callable[..., Awaitable[Any]]


async def _run_button(
    body: dict[str, Any], respond: Respond, action: Callable[[str, str], Awaitable[Outcome]]
) -> None:
    lead_id = str(body["actions"][0].get("value", ""))
    user = body["user"]["id"]
    try:
        await action(lead_id, user)
    except DomainError as error:
        await respond(text=str(error), response_type="ephemeral", replace_original=False)
    except Exception:
        log.exception("button %s on lead %s failed", body["actions"][0].get("action_id"), lead_id)
        await respond(
            text="Something went wrong on our side; the lead is unchanged. Try again.",
            response_type="ephemeral",
            replace_original=False,
        )


def register_lead_buttons(app: AsyncApp, actions: LeadActions) -> None:
    buttons = {
        "claim_lead": actions.claim,
        "mark_contacted": actions.mark_contacted,
        "release_lead": actions.release,
    }
    for action_id, action in buttons.items():
        app.action(action_id)(_button_listener(action))


def _button_listener(
    action: Callable[[str, str], Awaitable[Outcome]],
) -> Callable[..., Awaitable[None]]:
    async def listener(
        ack: Callable[[], Awaitable[None]], body: dict[str, Any], respond: Respond
    ) -> None:
        await ack()
        await _run_button(body, respond, action)

    return listener
