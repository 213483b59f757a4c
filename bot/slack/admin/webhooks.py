"""The webhooks screen: the configured endpoints, each with a "Send test event" button
that shows the endpoint's answer (endpoints themselves are edited in the YAML)."""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import action_ids as ids
from bot.slack.admin.base import AdminBase
from bot.slack.admin.forms import info_modal
from bot.slack.blocks import Blocks, button, escape, mrkdwn
from bot.webhook_transport import Answer
from domain.webhooks import WebhookEndpoint

ANSWER_SHOWN = 300


def webhooks_message(
    endpoints: list[WebhookEndpoint], tested: tuple[str, Answer] | None = None
) -> dict[str, Any]:
    """Each endpoint with its URL and events; the last test's answer on top. The answer
    is the receiver's own text: escaped, so it cannot mention or link anyone."""
    blocks: Blocks = []
    if tested is not None:
        name, answer = tested
        verdict = ":white_check_mark: delivered" if answer.delivered else ":x: not delivered"
        detail = escape(answer.detail[:ANSWER_SHOWN])
        blocks.append(
            {
                "type": "section",
                "text": mrkdwn(f"Test event to *{name}*: {verdict}\n```{detail}```"),
            }
        )
    blocks.append({"type": "section", "text": mrkdwn("*Outbound webhooks*")})
    if not endpoints:
        text = "None configured: add `webhooks:` to the YAML (see docs/connectors.md)."
        blocks.append({"type": "section", "text": mrkdwn(text)})
    for endpoint in endpoints:
        events = ", ".join(endpoint.events) if endpoint.events else "every event"
        paused = "" if endpoint.active else " (paused)"
        text = f"*{endpoint.name}*{paused}\n{escape(endpoint.url)}\n{escape(events)}"
        blocks.append(
            {
                "type": "section",
                "text": mrkdwn(text),
                "accessory": button("Send test event", ids.ADMIN_WEBHOOK_TEST, endpoint.name),
            }
        )
    return {"text": "Outbound webhooks", "blocks": blocks}


class WebhooksScreen(AdminBase):
    """The webhooks screen's handlers (mixed into AdminListeners)."""

    async def open_webhooks(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        endpoints = await self.webhook_tests.endpoints(body["user"]["id"])
        view = info_modal("Webhooks", webhooks_message(endpoints)["blocks"])
        await client.views_push(trigger_id=body["trigger_id"], view=view)

    async def send_webhook_test(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        user, name = body["user"]["id"], body["actions"][0].get("value", "")
        answer = await self.webhook_tests.send(user, name)
        endpoints = await self.webhook_tests.endpoints(user)
        view = info_modal("Webhooks", webhooks_message(endpoints, (name, answer))["blocks"])
        await client.views_update(view_id=body["view"]["id"], view=view)
