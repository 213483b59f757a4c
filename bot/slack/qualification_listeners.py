"""The card's hand-off buttons: Qualified at once; Disqualify and Not ready through a
modal of reasons. Acked first; refusals come back as an ephemeral line (buttons) or as
an error on the modal's reason (submissions, checked again server-side)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.services.leads import Outcome
from bot.services.qualification import Qualification
from bot.slack import action_ids as ids
from bot.slack import scoring_views
from bot.slack.deps import SlackDeps
from bot.slack.listeners import reply_privately, run_button
from domain.errors import DomainError
from domain.handoff import HandOff


def register(app: AsyncApp, deps: SlackDeps) -> None:
    qualification = deps.qualification

    async def qualify(lead_id: str, user: str) -> Outcome:
        return await qualification.hand_off(lead_id, user, HandOff.QUALIFY, None, None)

    @app.action(ids.QUALIFY_LEAD)
    async def on_qualify(
        ack: Callable[[], Awaitable[None]], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await run_button(body, client, qualify, deps)

    for action_id in (ids.DISQUALIFY_LEAD, ids.RECYCLE_LEAD):
        action = scoring_views.ACTIONS[action_id]
        app.action(action_id)(_modal_opener(qualification, action))
        app.view(action_id)(_modal_submitter(qualification, action))


def _modal_opener(qualification: Qualification, action: HandOff) -> Callable[..., Awaitable[None]]:
    async def listener(
        ack: Callable[[], Awaitable[None]], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        lead_id = str(body["actions"][0].get("value", ""))
        try:
            lead, reasons = await qualification.hand_off_reasons(
                lead_id, body["user"]["id"], action
            )
        except DomainError as error:
            await reply_privately(client, body.get("response_url"), text=str(error))
            return
        await client.views_open(
            trigger_id=body["trigger_id"],
            view=scoring_views.hand_off_modal(lead, action, reasons),
        )

    return listener


def _modal_submitter(
    qualification: Qualification, action: HandOff
) -> Callable[..., Awaitable[None]]:
    async def listener(ack: Callable[..., Awaitable[None]], body: dict[str, Any]) -> None:
        view = body["view"]
        reason, note = scoring_views.modal_answer(view["state"]["values"])
        if reason is None:
            await ack(response_action="errors", errors={ids.HANDOFF_REASON: "Choose a reason."})
            return
        try:
            await qualification.hand_off(
                view["private_metadata"], body["user"]["id"], action, reason, note
            )
        except DomainError as error:
            await ack(response_action="errors", errors={ids.HANDOFF_REASON: str(error)})
            return
        await ack()

    return listener
