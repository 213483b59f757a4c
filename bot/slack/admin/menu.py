"""`/leadrouter`: the admin menu and the command's words (pto, history, export, import)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import action_ids as ids
from bot.slack.admin.base import OUR_FAULT, Ack, AdminBase, log
from bot.slack.admin.forms import (
    MAX_OPTIONS,
    changes_text,
    modal,
    option,
    static_select,
    version_line,
)
from bot.slack.admin.sla import NEW_LEAD_TYPE
from bot.slack.admin.yaml_io import import_modal
from bot.slack.blocks import Blocks, View, mrkdwn, plain_text
from bot.slack.listeners import reply_privately
from domain.config import Config
from domain.errors import DomainError


def admin_menu(
    version: int | None, config: Config | None, *, admin: bool, teams: list[str]
) -> View:
    """The `/leadrouter` modal: a jumping-off point (each choice pushes its own modal).
    A manager who is not an admin sees only the teams they manage."""
    blocks: Blocks = [
        {
            "type": "section",
            "text": mrkdwn(
                f"*Leadrouter* · {version_line(version)}"
                + (
                    f" · {len(config.teams)} teams, {len(config.reps)} reps, "
                    f"{len(config.rules)} rules"
                    if config
                    else ""
                )
            ),
        }
    ]
    if admin:
        blocks.append(
            {
                "type": "actions",
                "block_id": "menu",
                "elements": [
                    {
                        "type": "button",
                        "action_id": ids.ADMIN_NEW_TEAM,
                        "text": plain_text("New team"),
                    },
                    {"type": "button", "action_id": ids.ADMIN_RULES, "text": plain_text("Rules")},
                    {
                        "type": "button",
                        "action_id": ids.ADMIN_HISTORY,
                        "text": plain_text("History"),
                    },
                    {
                        "type": "button",
                        "action_id": ids.ADMIN_EXPORT,
                        "text": plain_text("Export YAML"),
                    },
                    {
                        "type": "button",
                        "action_id": ids.ADMIN_IMPORT,
                        "text": plain_text("Import YAML"),
                    },
                    {
                        "type": "button",
                        "action_id": ids.ADMIN_SCORING,
                        "text": plain_text("Scoring model"),
                    },
                    {
                        "type": "button",
                        "action_id": ids.ADMIN_WEBHOOKS,
                        "text": plain_text("Webhooks"),
                    },
                ],
            }
        )
    if teams:
        picker = (
            static_select(teams, None)
            if len(teams) <= MAX_OPTIONS
            else {"type": "external_select", "min_query_length": 0}  # see team_options
        )
        blocks.append(
            {
                "type": "section",
                "block_id": "edit_team",
                "text": mrkdwn("Edit a team"),
                "accessory": {"action_id": ids.ADMIN_EDIT_TEAM, **picker},
            }
        )
    if admin:
        blocks.append(
            {
                "type": "section",
                "block_id": "edit_rep",
                "text": mrkdwn("Add or edit a rep"),
                "accessory": {"action_id": ids.ADMIN_EDIT_REP, "type": "users_select"},
            }
        )
        lead_types = [*sorted(config.lead_types() if config else []), NEW_LEAD_TYPE]
        picker = static_select(lead_types[-MAX_OPTIONS:], None)
        picker["options"][-1] = option(NEW_LEAD_TYPE, "+ a new lead type")
        blocks.append(
            {
                "type": "section",
                "block_id": "edit_sla",
                "text": mrkdwn("Edit the SLA of a lead type"),
                "accessory": {"action_id": ids.ADMIN_EDIT_SLA, **picker},
            }
        )
    return modal(ids.ADMIN_MENU, "Leadrouter admin", blocks, {"base": version}, None)


def team_options(teams: list[str], typed: str) -> list[dict[str, Any]]:
    """Options for the external team select (more teams than a static select holds):
    those whose name contains what was typed, at most 100."""
    wanted = typed.strip().lower()
    return [option(name, name) for name in teams if wanted in name.lower()][:MAX_OPTIONS]


USAGE = (
    "Usage: `/leadrouter` (the admin menu) · `/leadrouter pto YYYY-MM-DD YYYY-MM-DD [@user]` "
    "(time off) · `/leadrouter history` (latest changes, roll back) · `/leadrouter export` "
    "(the YAML file to your DMs) · `/leadrouter import` (upload a YAML file) · "
    "`/leadrouter review` (what has gone stale in the routing) · "
    "`/leadrouter experiment [NAME]` (declare or change an experiment)"
)


_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


def parse_pto(words: list[str], caller: str) -> tuple[str, date, date]:
    """`pto 2026-12-01 2026-12-05 [@user]` (the mention arrives escaped, `<@U…|name>`)."""
    if len(words) not in (3, 4):
        raise DomainError(f"Expected two dates and an optional @user.\n{USAGE}")
    try:
        start, end = date.fromisoformat(words[1]), date.fromisoformat(words[2])
    except ValueError:
        raise DomainError(f"Dates are YYYY-MM-DD, e.g. 2026-12-01.\n{USAGE}") from None
    user = caller
    if len(words) == 4:
        match = _USER.match(words[3])
        if not match:
            raise DomainError(f"Name the rep as @user, not {words[3]!r}.\n{USAGE}")
        user = match.group(1)
    return user, start, end


class MenuScreen(AdminBase):
    """The menu screen's handlers (mixed into AdminListeners)."""

    async def command(self, ack: Ack, command: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        words = command.get("text", "").split()
        user = command["user_id"]
        message: dict[str, Any] | None = None
        try:
            if not words:
                await self._open_menu(client, command["trigger_id"], user)
            elif words[0] == "pto":
                rep, start, end = parse_pto(words, user)
                saved = await self.admin.set_pto(user, rep, start, end)
                message = {"text": changes_text(saved, f"PTO for <@{rep}>")}
            elif words == ["history"]:
                message = await self._history(user)
            elif words == ["export"]:
                await self._send_export(client, user)
                message = {"text": "The configuration file is in your DMs."}
            elif words == ["import"]:
                await self.admin.open_admin(user)
                await client.views_open(trigger_id=command["trigger_id"], view=import_modal())
            else:
                message = {"text": USAGE}
        except DomainError as error:
            message = {"text": str(error)}
        except Exception:
            log.exception("/leadrouter %s failed", " ".join(words[:1]))
            message = {"text": OUR_FAULT}
        if message is not None:
            await reply_privately(client, command.get("response_url"), **message)

    async def _editable_teams(self, user: str) -> tuple[bool, list[str]]:
        """Whether `user` is an admin, and the teams they may open: all for an admin,
        the ones they manage for a manager."""
        _, config = await self.admin.current()
        admin = await self.admin.is_admin(user)
        if config is None:
            return admin, []
        return admin, [team.name for team in config.teams if admin or team.manager == user]

    async def team_options(self, ack: Ack, body: dict[str, Any]) -> None:
        _, teams = await self._editable_teams(body["user"]["id"])
        await ack(options=team_options(teams, str(body.get("value") or "")))

    async def _open_menu(self, client: AsyncWebClient, trigger_id: str, user: str) -> None:
        version, config = await self.admin.current()
        admin, teams = await self._editable_teams(user)
        if not admin and not teams:
            raise DomainError(
                "Only Leadrouter admins can open the admin menu. You can still set your own "
                "time off: `/leadrouter pto 2026-12-01 2026-12-05`."
            )
        await client.views_open(
            trigger_id=trigger_id, view=admin_menu(version, config, admin=admin, teams=teams)
        )
