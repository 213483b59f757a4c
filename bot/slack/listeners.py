"""Bolt listeners: ack first (Slack's 3-second deadline), parse, call a service, answer.

The lead card itself is edited through the outbox; the clicker gets an ephemeral line
only when something needs saying (refusals, who already claimed)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.services.leads import LeadActions, Outcome
from bot.slack import action_ids as ids
from bot.slack import availability_commands, stats_views, views
from bot.slack.deps import SlackDeps
from domain.errors import DomainError

log = logging.getLogger(__name__)


async def reply_privately(client: AsyncWebClient, response_url: str | None, **message: Any) -> None:
    """An ephemeral answer through the interaction's response_url, on the app's shared
    HTTP session (Bolt's `respond` opens a new session for every reply, which a claim
    storm of a hundred losers pays for in CPU and acks)."""
    if not response_url:
        log.warning("no response_url to answer on: %s", message.get("text"))
        return
    webhook = AsyncWebhookClient(response_url, session=client.session, timeout=10)
    await webhook.send(response_type="ephemeral", replace_original=False, **message)


async def _run_button(
    body: dict[str, Any], client: AsyncWebClient, action: Callable[[str, str], Awaitable[Outcome]]
) -> None:
    lead_id = str(body["actions"][0].get("value", ""))
    user = body["user"]["id"]
    try:
        await action(lead_id, user)
    except DomainError as error:
        await reply_privately(client, body.get("response_url"), text=str(error))
    except Exception:
        log.exception("button %s on lead %s failed", body["actions"][0].get("action_id"), lead_id)
        await reply_privately(
            client,
            body.get("response_url"),
            text="Something went wrong on our side; the lead is unchanged. Try again.",
        )


USAGE = (
    "Usage: `/leads` (your open leads), `/leads team [NAME]` (unclaimed team leads), "
    "`/leads next` (claim the oldest one), `/leads away [until TIME]`, `/leads back`."
)


def register(app: AsyncApp, deps: SlackDeps) -> None:
    """The lead card's buttons, the reassign modal and `/leads`."""
    _register_lead_buttons(app, deps.actions)
    _register_reassign(app, deps.actions)
    _register_queue_command(app, deps)


def _register_queue_command(app: AsyncApp, deps: SlackDeps) -> None:
    actions, stats = deps.actions, deps.stats

    @app.command("/leads")
    async def leads_command(
        ack: Callable[[], Awaitable[None]], command: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        words = command.get("text", "").split()
        user = command["user_id"]
        try:
            if not words:
                mine, figures = await stats.home(user, views.MAX_QUEUE_LEADS + 50)
                message = stats_views.queue_with_figures(mine, figures, actions.now())
            elif words[0] == "team" and len(words) <= 2:
                names, pool = await actions.team_pool(
                    user, words[1] if len(words) == 2 else None, views.MAX_QUEUE_LEADS + 50
                )
                if not names:
                    message = {"text": "You are not in any team; try `/leads team NAME`."}
                else:
                    message = views.queue_view(
                        f"Unclaimed leads — {', '.join(names)}",
                        pool,
                        actions.now(),
                        "No unclaimed leads: the pool is empty.",
                    )
            elif words[0] in availability_commands.SUBCOMMANDS:
                message = await availability_commands.answer(deps, words, user)
            else:
                message = {"text": USAGE}
        except DomainError as error:
            message = {"text": f"{error}\n{USAGE}"}
        await reply_privately(client, command.get("response_url"), **message)


def _register_reassign(app: AsyncApp, actions: LeadActions) -> None:
    @app.action(ids.REASSIGN_LEAD)
    async def open_reassign(
        ack: Callable[[], Awaitable[None]], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        lead_id = str(body["actions"][0].get("value", ""))
        try:
            lead = await actions.may_reassign(lead_id, body["user"]["id"])
        except DomainError as error:
            await reply_privately(client, body.get("response_url"), text=str(error))
            return
        await client.views_open(
            trigger_id=body["trigger_id"], view=views.reassign_modal(lead, actions.now())
        )

    @app.view(ids.REASSIGN_LEAD)
    async def submit_reassign(ack: Callable[..., Awaitable[None]], body: dict[str, Any]) -> None:
        view = body["view"]
        chosen = view["state"]["values"][ids.NEW_OWNER][ids.NEW_OWNER].get("selected_user")
        if not chosen:
            await ack(response_action="errors", errors={ids.NEW_OWNER: "Choose the new owner."})
            return
        try:
            await actions.reassign(view["private_metadata"], body["user"]["id"], chosen)
        except DomainError as error:
            await ack(response_action="errors", errors={ids.NEW_OWNER: str(error)})
            return
        await ack()


def _register_lead_buttons(app: AsyncApp, actions: LeadActions) -> None:
    buttons = {
        ids.CLAIM_LEAD: actions.claim,
        ids.MARK_CONTACTED: actions.mark_contacted,
        ids.RELEASE_LEAD: actions.release,
    }
    for action_id, action in buttons.items():
        app.action(action_id)(_button_listener(action))


def _button_listener(
    action: Callable[[str, str], Awaitable[Outcome]],
) -> Callable[..., Awaitable[None]]:
    async def listener(
        ack: Callable[[], Awaitable[None]], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await _run_button(body, client, action)

    return listener
