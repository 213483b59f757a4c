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
from bot.services.stats import StatsService
from bot.slack import action_ids as ids
from bot.slack import stats_views, views
from bot.slack.deps import SlackDeps
from domain.command_args import split_keyword
from domain.errors import DomainError
from domain.slack_limits import BLOCK_ID

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


OUR_FAULT = "Something went wrong on our side; the lead is unchanged. Try again."
LISTING = "leads:"
"""The header block id of a `/leads` list: this prefix and the arguments it was asked
with, so a button pressed in the list can redraw it."""


async def run_button(
    body: dict[str, Any],
    client: AsyncWebClient,
    action: Callable[[str, str], Awaitable[Outcome]],
    deps: SlackDeps,
) -> None:
    lead_id = str(body["actions"][0].get("value", ""))
    user = body["user"]["id"]
    refusal: str | None = None
    try:
        await action(lead_id, user)
    except DomainError as error:
        refusal = str(error)
    except Exception:
        log.exception("button %s on lead %s failed", body["actions"][0].get("action_id"), lead_id)
        refusal = OUR_FAULT
    await _answer_click(body, client, deps, refusal)


async def _answer_click(
    body: dict[str, Any], client: AsyncWebClient, deps: SlackDeps, refusal: str | None
) -> None:
    """Answer where the click came from. A Home tab click has no response_url (Slack
    sends none for views): the Home is published again at once and a refusal goes to
    the person's DM. A click in a `/leads` list redraws the list; elsewhere a refusal
    is an ephemeral line. The clicker's Home tab follows in every case."""
    user = body["user"]["id"]
    if (body.get("container") or {}).get("type") == "view":
        if (body.get("view") or {}).get("type") == "home":
            await deps.home.publish(user)
        if refusal:
            await client.chat_postMessage(channel=user, text=refusal)
        return
    deps.home.touch(user)
    response_url = body.get("response_url")
    if refusal:
        await reply_privately(client, response_url, text=refusal)
    asked = _listing_of(body)
    if asked is not None and response_url:
        redrawn = await _leads_listing(deps.actions, deps.stats, user, asked)
        webhook = AsyncWebhookClient(response_url, session=client.session, timeout=10)
        await webhook.send(response_type="ephemeral", replace_original=True, **redrawn)


def _listing_of(body: dict[str, Any]) -> str | None:
    """The arguments of the `/leads` list a click came from, or None."""
    blocks = (body.get("message") or {}).get("blocks") or [{}]
    block_id = str(blocks[0].get("block_id", ""))
    return block_id.removeprefix(LISTING) if block_id.startswith(LISTING) else None


USAGE = "Usage: `/leads` (your open leads) or `/leads team [NAME]` (unclaimed team leads)."


def register(app: AsyncApp, deps: SlackDeps) -> None:
    """The lead card's buttons, the reassign modal and `/leads`."""
    _register_lead_buttons(app, deps)
    _register_reassign(app, deps)
    _register_queue_command(app, deps)


async def _leads_listing(
    actions: LeadActions, stats: StatsService, user: str, text: str
) -> dict[str, Any]:
    """`/leads` (the caller's open leads) or `/leads team [NAME]` (a pool): the keyword
    in any case, a NAME with spaces or the team's channel link."""
    keyword, rest = split_keyword(text, ("team",))
    try:
        if not text.strip():
            mine, figures = await stats.home(user, views.MAX_QUEUE_LEADS + 50)
            message = stats_views.queue_with_figures(mine, figures, actions.now())
        elif keyword == "team":
            names, pool = await actions.team_pool(user, rest or None, views.MAX_QUEUE_LEADS + 50)
            if not names:
                return {"text": "You are not in any team; try `/leads team NAME`."}
            message = views.queue_view(
                f"Unclaimed leads — {', '.join(names)}",
                pool,
                actions.now(),
                "No unclaimed leads: the pool is empty.",
            )
        else:
            return {"text": USAGE}
    except DomainError as error:
        return {"text": f"{error}\n{USAGE}"}
    header = message["blocks"][0]
    if header.get("type") == "header":
        header["block_id"] = (LISTING + " ".join(text.split()))[:BLOCK_ID]
    return message


def _register_queue_command(app: AsyncApp, deps: SlackDeps) -> None:
    @app.command("/leads")
    async def leads_command(
        ack: Callable[[], Awaitable[None]], command: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        message = await _leads_listing(
            deps.actions, deps.stats, command["user_id"], command.get("text", "")
        )
        await reply_privately(client, command.get("response_url"), **message)


def _register_reassign(app: AsyncApp, deps: SlackDeps) -> None:
    actions = deps.actions

    @app.action(ids.REASSIGN_LEAD)
    async def open_reassign(
        ack: Callable[[], Awaitable[None]], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        lead_id = str(body["actions"][0].get("value", ""))
        try:
            lead = await actions.may_reassign(lead_id, body["user"]["id"])
        except DomainError as error:
            await _answer_click(body, client, deps, str(error))
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


def _register_lead_buttons(app: AsyncApp, deps: SlackDeps) -> None:
    buttons = {
        ids.CLAIM_LEAD: deps.actions.claim,
        ids.MARK_CONTACTED: deps.actions.mark_contacted,
        ids.RELEASE_LEAD: deps.actions.release,
    }
    for action_id, action in buttons.items():
        app.action(action_id)(_button_listener(action, deps))


def _button_listener(
    action: Callable[[str, str], Awaitable[Outcome]], deps: SlackDeps
) -> Callable[..., Awaitable[None]]:
    async def listener(
        ack: Callable[[], Awaitable[None]], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await run_button(body, client, action, deps)

    return listener
