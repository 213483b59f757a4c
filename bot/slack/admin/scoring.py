"""The scoring model screen: the `scoring:` section as YAML, validated by the same schema
as the configuration file (docs/scoring.md), saved as a new configuration version."""

from __future__ import annotations

from typing import Any

import yaml
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
    note,
    string_of,
    text_input,
)
from bot.slack.blocks import View
from domain.config import Config
from domain.config_yaml import parse_yaml

MODEL_BLOCK = "scoring_yaml"
MAX_YAML = 3000
"""A plain_text_input holds at most 3,000 characters (Slack's Block Kit reference)."""


def scoring_modal(version: int | None, config: Config | None) -> View:
    model = config.scoring if config else None
    text = (
        yaml.safe_dump(
            model.model_dump(mode="json", by_alias=True, exclude_none=True),
            sort_keys=False,
            allow_unicode=True,
        )
        if model
        else None
    )
    blocks = [
        note(
            "The scoring model as YAML (fit, engagement, half_life, caps, fit_grades, "
            "engagement_grades, mql_at, always_route, disqualify_reasons, recycle_reasons). "
            "Leave it empty to turn scoring off: every lead then routes as before."
        ),
        input_block(
            MODEL_BLOCK,
            "Scoring model",
            {**text_input(text, multiline=True), "max_length": MAX_YAML},
            optional=True,
        ),
    ]
    return modal(ids.ADMIN_SCORING, "Scoring model", blocks, {"base": version}, "Save")


def parse_scoring_form(values: Values) -> dict[str, Any] | None:
    """The section typed in the modal, or None to remove it."""
    text = string_of(values, MODEL_BLOCK)
    if not text:
        return None
    try:
        section = parse_yaml(text)  # the configuration's own strict, safe loader
    except yaml.YAMLError as error:
        raise FormError({MODEL_BLOCK: f"not valid YAML: {error}"[:300]}) from None
    if not isinstance(section, dict):
        raise FormError({MODEL_BLOCK: "expected a mapping like `mql_at: 50`"})
    return section


class ScoringScreen(AdminBase):
    """The scoring screen's handlers (mixed into AdminListeners)."""

    async def open_scoring(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        version, config = await self.admin.open_admin(body["user"]["id"])
        await client.views_push(trigger_id=body["trigger_id"], view=scoring_modal(version, config))

    async def submit_scoring(self, ack: Ack, body: dict[str, Any]) -> None:
        view, user = body["view"], body["user"]["id"]

        async def work() -> Saved:
            section = parse_scoring_form(view["state"]["values"])

            def edit(document: dict[str, Any]) -> str:
                if section is None:
                    document.pop("scoring", None)
                else:
                    document["scoring"] = section
                return "scoring"

            return await self.admin.change(
                user,
                edit,
                "scoring model",
                base=metadata(view).get("base"),
                touches=("scoring", None),
            )

        await self._submit(ack, "Scoring model saved", work, {}, MODEL_BLOCK)
