"""The first run in Slack: while there is no configuration, the Home tab says so, and a
workspace admin gets **Set up Leadrouter**, which opens the admin's New team modal (name,
channel, members picked by name). Saving it stores the first configuration version
through the same validation and authorization as every admin change; until someone saves
one, leads are stored but routed to nobody."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.services.admin import AdminService
from bot.slack.action_ids import SET_UP_LEADROUTER
from bot.slack.admin.forms import info_modal, note
from bot.slack.admin.team import team_modal
from bot.slack.blocks import button, context, plain_text, section
from bot.slack.deps import SlackDeps
from domain.errors import DomainError


def first_run_home(can_set_up: bool) -> dict[str, Any]:
    """The Home tab with no configuration: the button for an admin, a pointer otherwise."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain_text("Leadrouter is not set up yet")},
        section(
            "There are no teams yet, so leads are kept but offered to nobody. Set up a first "
            "team (its channel and its members) and leads start flowing; rules, reps and "
            "SLAs can be refined later with `/leadrouter`."
        ),
    ]
    if can_set_up:
        set_up = button("Set up Leadrouter", SET_UP_LEADROUTER, "first_team", "primary")
        blocks.append({"type": "actions", "elements": [set_up]})
    else:
        blocks.append(context("A workspace admin can set it up from this tab."))
    return {"type": "home", "blocks": blocks}


def register(app: AsyncApp, deps: SlackDeps) -> None:
    """Registered before the ordinary Home tab: Bolt runs the first listener whose
    matchers pass, so this one answers `app_home_opened` only while there is no
    configuration."""
    admin: AdminService = deps.admin

    async def unconfigured() -> bool:
        version, _config = await admin.current()
        return version is None

    @app.event("app_home_opened", matchers=[unconfigured])
    async def home_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        user = event["user"]
        await client.views_publish(user_id=user, view=first_run_home(await admin.is_admin(user)))

    @app.action(SET_UP_LEADROUTER)
    async def set_up(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        try:
            version, config = await admin.open_admin(body["user"]["id"])
        except DomainError as error:  # not an admin (any more)
            refusal = info_modal("Leadrouter", [note(f":no_entry: {error}")])
            await client.views_open(trigger_id=body["trigger_id"], view=refusal)
            return
        await client.views_open(
            trigger_id=body["trigger_id"], view=team_modal(version, config, None)
        )
