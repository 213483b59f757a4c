"""The SLA screen: one lead type's policy, parsing and handlers."""

from __future__ import annotations

import re
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.services.admin import Saved
from bot.slack import action_ids as ids
from bot.slack.admin.base import Ack, AdminBase
from bot.slack.admin.forms import (
    FormError,
    Values,
    input_block,
    metadata,
    modal,
    string_of,
    text_input,
)
from bot.slack.blocks import Blocks, View
from domain.config import Config
from domain.config_edits import (
    set_sla,
)

NEW_LEAD_TYPE = "+new"  # the SLA picker's "a new lead type" choice


_LEAD_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


SLA_FIELDS = {"respond_within": "respond_within", "remind_at": "remind_at"}


SLA_FIELDS["escalation"] = "escalation"


def sla_modal(version: int | None, config: Config | None, lead_type: str | None) -> View:
    """The SLA of `lead_type` (the configured one, else the documents' default), or of
    a new lead type named in the modal (lead_type None)."""
    sla = config.sla_for(lead_type) if config and lead_type else None
    dumped = sla.model_dump(mode="json") if sla else {}
    steps = ", ".join(f"{step['after']} {step['do']}" for step in dumped.get("escalation") or [])
    named: Blocks = []
    if lead_type is None:
        hint = "lower case, e.g. webinar (leads send it as lead_type)"
        named = [input_block("lead_type", "Lead type", text_input(), hint=hint)]
    blocks: Blocks = [
        *named,
        input_block(
            "respond_within",
            "Respond within",
            text_input(dumped.get("respond_within")),
            hint="90s, 5m, 2h, 1d",
        ),
        input_block(
            "remind_at",
            "Reminders",
            text_input(", ".join(dumped.get("remind_at", []))),
            optional=True,
            hint="e.g. 50%, 80% (or durations)",
        ),
        input_block(
            "escalation",
            "Escalation steps",
            text_input(steps),
            optional=True,
            hint="e.g. 0m reassign, 0m notify_manager, 15m repost_to_channel",
        ),
    ]
    meta = {"base": version, "lead_type": lead_type}
    return modal(ids.ADMIN_SLA, f"SLA: {lead_type or 'new type'}", blocks, meta, "Save")


def sla_lead_type(values: Values, lead_type: str | None) -> str:
    """The lead type being edited: fixed when the modal opened, else typed in it."""
    if lead_type:
        return lead_type
    typed = string_of(values, "lead_type") or ""
    if not _LEAD_TYPE.match(typed):
        raise FormError({"lead_type": "lower-case letters, digits and _, e.g. webinar"})
    return typed


def parse_sla_form(values: Values) -> dict[str, Any]:
    sla: dict[str, Any] = {"respond_within": string_of(values, "respond_within") or ""}
    reminders = [r.strip() for r in (string_of(values, "remind_at") or "").split(",") if r.strip()]
    if reminders:
        sla["remind_at"] = reminders
    steps = []
    for part in filter(
        None, (p.strip() for p in (string_of(values, "escalation") or "").split(","))
    ):
        after, _, action = part.partition(" ")
        if not action.strip():
            raise FormError({"escalation": f"expected a delay then an action, got {part!r}"})
        steps.append({"after": after, "do": action.strip()})
    if steps:
        sla["escalation"] = steps
    return sla


class SlaScreen(AdminBase):
    """The sla screen's handlers (mixed into AdminListeners)."""

    async def open_sla(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        lead_type = (body["actions"][0].get("selected_option") or {}).get("value")
        if lead_type == NEW_LEAD_TYPE:
            lead_type = None
        version, config = await self.admin.open_admin(body["user"]["id"])
        await client.views_push(
            trigger_id=body["trigger_id"], view=sla_modal(version, config, lead_type)
        )

    async def submit_sla(self, ack: Ack, body: dict[str, Any]) -> None:
        view, user = body["view"], body["user"]["id"]
        meta = metadata(view)

        async def work() -> Saved:
            lead_type = sla_lead_type(view["state"]["values"], meta.get("lead_type"))
            sla = parse_sla_form(view["state"]["values"])
            return await self.admin.change(
                user,
                lambda document: set_sla(document, lead_type, sla),
                f"SLA {lead_type}",
                base=meta.get("base"),
                touches=("slas", lead_type),
            )

        fallback = "respond_within" if meta.get("lead_type") else "lead_type"
        await self._submit(ack, "SLA saved", work, SLA_FIELDS, fallback)
