"""The webhooks screen: the configured endpoints, each with a "Send test event" button
that shows the endpoint's answer, Edit and Remove; and the endpoint form (name, URL,
events, the environment variable holding its secret, paused), saved as a new
configuration version like every admin form."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.services.admin import Saved
from bot.slack import action_ids as ids
from bot.slack.admin.base import Ack, AdminBase, unmentioned
from bot.slack.admin.forms import (
    MAX_BLOCKS,
    Values,
    changes_text,
    input_block,
    metadata,
    modal,
    note,
    option,
    string_of,
    text_input,
    value_of,
)
from bot.slack.blocks import Blocks, View, button, escape, mrkdwn, plain_text
from bot.webhook_transport import Answer
from domain.config import Config
from domain.errors import DomainError
from domain.webhooks import WEBHOOK_EVENTS, WebhookEndpoint

log = logging.getLogger(__name__)

ANSWER_SHOWN = 300
URL_SHOWN = 500
MAX_URL = 2083
"""What the configuration accepts (pydantic's HttpUrl); a plain_text_input allows 3,000."""
PAUSED = "paused"

# Which form block shows errors for which endpoint field.
WEBHOOK_FIELDS = {f: f for f in ("name", "url", "events", "secret_env", "active")}


def _endpoint_blocks(endpoint: WebhookEndpoint) -> Blocks:
    """Its name, URL and events (the URL is typed by an admin: escaped), with Send test
    event beside it and Edit / Remove below. The secret shows only by its variable."""
    events = ", ".join(endpoint.events) if endpoint.events else "every event"
    paused = "" if endpoint.active else " (paused)"
    lines = (
        f"*{escape(endpoint.name)}*{paused}",
        f"`{escape(endpoint.url[:URL_SHOWN], code=True)}`",
        escape(events),
        f"secret: `{endpoint.secret_env}`",
    )
    text = "\n".join(lines)
    remove = button("Remove", ids.ADMIN_REMOVE_WEBHOOK, endpoint.name, "danger")
    remove["confirm"] = {
        "title": plain_text("Remove this endpoint?"),
        "text": plain_text(f"{endpoint.name} stops receiving events; its pending deliveries die."),
        "confirm": plain_text("Remove"),
        "deny": plain_text("Cancel"),
        "style": "danger",
    }
    return [
        {
            "type": "section",
            "text": mrkdwn(text),
            "accessory": button("Send test event", ids.ADMIN_WEBHOOK_TEST, endpoint.name),
        },
        {
            "type": "actions",
            "block_id": f"webhook:{endpoint.name}",
            "elements": [button("Edit", ids.ADMIN_EDIT_WEBHOOK, endpoint.name), remove],
        },
    ]


def webhooks_modal(
    version: int | None,
    endpoints: list[WebhookEndpoint],
    tested: tuple[str, Answer] | None = None,
    notice: str = "",
) -> View:
    """Add endpoint, then each endpoint; the last test's answer or change on top. The
    answer is the receiver's own text: escaped, so it cannot mention or link anyone."""
    blocks: Blocks = []
    if tested is not None:
        name, answer = tested
        verdict = ":white_check_mark: delivered" if answer.delivered else ":x: not delivered"
        detail = escape(answer.detail[:ANSWER_SHOWN])
        blocks.append(note(f"Test event to *{escape(name)}*: {verdict}\n```{detail}```"))
    if notice:
        blocks.append({"type": "context", "elements": [mrkdwn(notice)]})
    blocks.append(
        {
            "type": "actions",
            "block_id": "webhooks_menu",
            "elements": [button("Add endpoint", ids.ADMIN_ADD_WEBHOOK, "add")],
        }
    )
    blocks.append(note("*Outbound webhooks*"))
    if not endpoints:
        blocks.append(note("None configured yet (see docs/connectors.md)."))
    shown = (MAX_BLOCKS - len(blocks) - 1) // 2
    for endpoint in endpoints[:shown]:
        blocks += _endpoint_blocks(endpoint)
    if len(endpoints) > shown:
        more = f"{len(endpoints) - shown} more: edit them in the YAML export."
        blocks.append({"type": "context", "elements": [mrkdwn(more)]})
    return modal(ids.ADMIN_WEBHOOKS, "Webhooks", blocks, {"base": version}, None)


def endpoint_modal(
    version: int | None, endpoint: WebhookEndpoint | None, list_view: str | None
) -> View:
    """Add (endpoint None) or edit an endpoint. Its name is fixed once created: deliveries,
    replays and alerts name it. Timeout and retry budget stay as configured (YAML)."""
    events: dict[str, Any] = {
        "type": "multi_static_select",
        "options": [option(event, event) for event in WEBHOOK_EVENTS],
        "placeholder": plain_text("Every event"),
    }
    if endpoint and endpoint.events:
        events["initial_options"] = [option(event, event) for event in endpoint.events]
    paused: dict[str, Any] = {
        "type": "checkboxes",
        "options": [option(PAUSED, "Paused: queue no deliveries for it")],
    }
    if endpoint and not endpoint.active:
        paused["initial_options"] = paused["options"]
    name = (
        note(f"Endpoint *{escape(endpoint.name)}*")
        if endpoint
        else input_block(
            "name",
            "Name",
            {**text_input(), "max_length": 40},
            hint="Lower-case letters, digits, - and _. Replays and alerts use it.",
        )
    )
    blocks: Blocks = [
        name,
        input_block(
            "url",
            "URL",
            {**text_input(endpoint.url if endpoint else None), "max_length": MAX_URL},
            hint="https://… (plain http only to localhost or 127.0.0.1).",
        ),
        input_block("events", "Events", events, optional=True, hint="None picked: every event."),
        input_block(
            "secret_env",
            "Secret: environment variable",
            text_input(endpoint.secret_env if endpoint else None),
            hint="The name of the server's variable holding the whsec_… signing secret. "
            "Never type the secret itself here.",
        ),
        input_block("active", "Pause", paused, optional=True),
    ]
    meta = {"base": version, "webhook": endpoint.name if endpoint else None, "list": list_view}
    title = "Edit endpoint" if endpoint else "New endpoint"
    return modal(ids.ADMIN_WEBHOOK, title, blocks, meta, "Save")


def parse_endpoint_form(values: Values, original: str | None) -> dict[str, Any]:
    """The endpoint's fields as the configuration file spells them; the schema validates."""
    events = [item["value"] for item in value_of(values, "events").get("selected_options") or []]
    checked = value_of(values, "active").get("selected_options") or []
    return {
        "name": original or string_of(values, "name") or "",
        "url": string_of(values, "url") or "",
        "events": events,
        "secret_env": string_of(values, "secret_env") or "",
        "active": not any(item.get("value") == PAUSED for item in checked),
    }


def _endpoint(config: Config | None, name: str) -> WebhookEndpoint | None:
    return next((item for item in config.webhooks if item.name == name), None) if config else None


class WebhooksScreen(AdminBase):
    """The webhooks screen's handlers (mixed into AdminListeners)."""

    async def _list(self, user: str, **shown: Any) -> View:
        version, config = await self.admin.open_admin(user)
        return webhooks_modal(version, list(config.webhooks) if config else [], **shown)

    async def open_webhooks(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        view = await self._list(body["user"]["id"])
        await client.views_push(trigger_id=body["trigger_id"], view=view)

    async def send_webhook_test(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        user, name = body["user"]["id"], body["actions"][0].get("value", "")
        answer = await self.webhook_tests.send(user, name)
        view = await self._list(user, tested=(name, answer))
        await client.views_update(view_id=body["view"]["id"], view=view)

    async def open_webhook(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Add endpoint (no value) or Edit (the endpoint's name) from the list."""
        user, list_view = body["user"]["id"], body["view"]["id"]
        action = body["actions"][0]
        version, config = await self.admin.open_admin(user)
        endpoint = None
        if action.get("action_id") == ids.ADMIN_EDIT_WEBHOOK:
            endpoint = _endpoint(config, action.get("value", ""))
            if endpoint is None:
                notice = "That endpoint is no longer configured; here they are now."
                await client.views_update(
                    view_id=list_view, view=await self._list(user, notice=notice)
                )
                return
        view = endpoint_modal(version, endpoint, list_view)
        await client.views_push(trigger_id=body["trigger_id"], view=view)

    async def remove_webhook(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        user, name = body["user"]["id"], body["actions"][0].get("value", "")
        await self.admin.open_admin(user)  # a refusal, not a notice, for a non-admin
        try:
            saved = await self.webhook_endpoints.remove(
                user, name, metadata(body["view"]).get("base")
            )
            notice = changes_text(saved, f"Webhook {escape(name)}")
        except DomainError as error:
            notice = f":warning: {escape(unmentioned(str(error)))}"
        view = await self._list(user, notice=notice)
        await client.views_update(view_id=body["view"]["id"], view=view)

    async def submit_webhook(self, ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
        view, user = body["view"], body["user"]["id"]
        meta = metadata(view)
        original = meta.get("webhook")
        notices: list[str] = []
        saved: list[Saved] = []

        async def work() -> Saved:
            endpoint = parse_endpoint_form(view["state"]["values"], original)
            saved.append(
                await self.webhook_endpoints.save(user, original, endpoint, meta.get("base"))
            )
            if warning := self.webhook_endpoints.missing_secret(endpoint["secret_env"]):
                notices.append(warning)
            return saved[0]

        await self._submit(ack, "Webhook saved", work, WEBHOOK_FIELDS, "url", notices)
        if saved and meta.get("list"):
            await self._refresh_list(client, user, meta["list"])

    async def _refresh_list(self, client: AsyncWebClient, user: str, list_view: str) -> None:
        """The list under the saved form shows the new version when the form is closed;
        a list closed meanwhile is nothing to fix."""
        try:
            await client.views_update(view_id=list_view, view=await self._list(user))
        except (SlackApiError, DomainError) as error:
            log.info("webhooks list %s not refreshed: %s", list_view, error)
