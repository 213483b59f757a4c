"""What `leadrouter serve` checks before it takes traffic, so a wrong setup shows at once
as one clear line instead of as a lead nobody got.

- The bot token (`auth.test`) and the scopes it was granted against what manifest.yml
  asks for; with Socket Mode, the app-level token. A refusal stops the start
  (`StartupError`, exit code 3).
- The database: its location is logged, since a relative SQLite path started from
  another directory is a new, empty database.
- The configuration: none at all is logged loudly (leads would be stored and routed to
  nobody); a `LEADROUTER_CONFIG` file that differs from the live version is logged with
  the differences and the command that imports it (the file is read only while the
  database holds no configuration).
- The team channels: each must exist, not be archived, and, when private, have the bot
  in it (public ones the app joins itself). A problem stops the start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import make_url

from bot.services.channel_membership import ChannelMembershipService
from bot.services.directory import resolve_emails
from domain.channel_membership import Membership
from domain.config import Config, load_config
from domain.config_diff import diff_configs

if TYPE_CHECKING:
    from bot.app import Application

log = logging.getLogger("leadrouter.startup")

# The bot scopes manifest.yml asks for (tests/bot/test_startup_checks.py keeps the two
# equal): every Slack call the app makes needs one of them.
REQUIRED_BOT_SCOPES = frozenset(
    {
        "chat:write",
        "chat:write.public",
        "im:write",
        "users:read",
        "users:read.email",
        "commands",
        "channels:read",
        "groups:read",
        "channels:join",
        "files:write",
        "files:read",
        "im:history",
        "channels:history",
        "groups:history",
    }
)
_DIFF_LINES_SHOWN = 12
_NETWORK_ERRORS = (aiohttp.ClientError, TimeoutError, OSError)


class StartupError(Exception):
    """Slack refused the app's setup: shown as one `leadrouter: …` line; exit code 3."""


async def start_up(application: Application) -> None:
    """Check Slack, migrate and load LEADROUTER_CONFIG (`Application.prepare`), then
    report on the configuration and check its channels. Raises StartupError."""
    settings = application.settings
    log.info("database: %s", describe_database(settings.database_url))
    await check_bot_token(application.client)
    if settings.slack_app_token:
        await check_app_token(settings.slack_app_token, application.client.base_url)
    await application.prepare()
    async with application.db.snapshot() as uow:
        current = await application.configs.current(uow)
    if current is None:
        log.warning(no_configuration_message(settings.database_url))
        return
    version, live = current
    if settings.config_path is not None:
        await report_config_file(settings.config_path, version, live, application.client)
    await check_channels(application.membership, live)


def describe_database(url: str) -> str:
    """The SQLite file as an absolute path, or the server URL without its password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        name = parsed.database or ""
        return (
            "SQLite in memory"
            if name in ("", ":memory:")
            else f"SQLite file {Path(name).resolve()}"
        )
    return parsed.render_as_string(hide_password=True)


def no_configuration_message(database_url: str) -> str:
    return (
        f"NO CONFIGURATION in {describe_database(database_url)}: leads are stored but "
        "routed to nobody, and nobody is told. Set LEADROUTER_CONFIG=FILE and restart, run "
        "`leadrouter config import FILE`, or open the app's Home tab in Slack as a workspace "
        "admin and choose Set up Leadrouter"
    )


async def check_bot_token(client: AsyncWebClient) -> None:
    """`auth.test` with the bot token, and its granted scopes (Slack lists them in the
    `x-oauth-scopes` header of every Web API answer; Bolt reads the same header of
    `auth.test` in slack_bolt/middleware/authorization/internals.py)."""
    try:
        response = await client.auth_test()
    except SlackApiError as error:
        code = error.response.get("error", "error")
        raise StartupError(
            f"Slack refused SLACK_BOT_TOKEN ({code}): copy the Bot User OAuth Token (xoxb-…) "
            "from your app's OAuth & Permissions page, and reinstall the app if it was removed"
        ) from None
    except _NETWORK_ERRORS as error:
        raise StartupError(f"cannot reach Slack at {client.base_url}: {error!r}") from None
    log.info(
        "Slack: signed in to workspace %s (%s) as bot user %s",
        response.get("team"),
        response.get("team_id"),
        response.get("user_id"),
    )
    granted = granted_scopes(response.headers)
    if granted is None:
        log.warning("Slack did not list the token's scopes; they were not checked")
        return
    missing = sorted(REQUIRED_BOT_SCOPES - granted)
    if missing:
        raise StartupError(
            f"the bot token lacks the scope(s) {', '.join(missing)} that manifest.yml asks "
            "for: add them under OAuth & Permissions (or paste manifest.yml again), then "
            "reinstall the app to the workspace"
        )


def granted_scopes(headers: Mapping[str, object]) -> set[str] | None:
    """The scopes in an `x-oauth-scopes` header (any letter case), None without one."""
    value = next((str(v) for k, v in headers.items() if str(k).lower() == "x-oauth-scopes"), None)
    if value is None:
        return None
    return {scope.strip() for scope in value.split(",") if scope.strip()}


async def check_app_token(app_token: str, base_url: str) -> None:
    """Socket Mode's app-level token, by asking for a connection URL as the socket
    handler will (an unused URL simply expires)."""
    try:
        await AsyncWebClient(token=app_token, base_url=base_url).apps_connections_open()
    except SlackApiError as error:
        code = error.response.get("error", "error")
        raise StartupError(
            f"Slack refused SLACK_APP_TOKEN ({code}): create an app-level token with the "
            "connections:write scope under Basic Information, App-Level Tokens"
        ) from None
    except _NETWORK_ERRORS as error:
        raise StartupError(f"cannot reach Slack at {base_url}: {error!r}") from None


async def report_config_file(
    path: Path, live_version: int, live: Config, client: AsyncWebClient
) -> None:
    """Log how LEADROUTER_CONFIG differs from the live version; it is not applied."""
    text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    in_file = await resolve_emails(load_config(text), client)
    changes = config_changes(live, in_file)
    if not changes:
        log.info("LEADROUTER_CONFIG %s is the live configuration (version %d)", path, live_version)
        return
    log.warning(
        "LEADROUTER_CONFIG %s differs from the live configuration (version %d), which stays "
        "in use: the file is read only while the database has none. To use the file, run "
        "`leadrouter config import %s`. Differences: %s",
        path,
        live_version,
        path,
        "; ".join(changes),
    )


def config_changes(live: Config, in_file: Config) -> list[str]:
    """What importing `in_file` would change, in the audit trail's words, cut short."""
    dump = {"mode": "json", "by_alias": True, "exclude_none": True}
    lines = diff_configs(live.model_dump(**dump), in_file.model_dump(**dump))  # type: ignore[arg-type]
    if len(lines) > _DIFF_LINES_SHOWN:
        hidden = len(lines) - _DIFF_LINES_SHOWN
        lines = [*lines[:_DIFF_LINES_SHOWN], f"…and {hidden} more"]
    return lines


async def check_channels(membership: ChannelMembershipService, config: Config) -> None:
    """Every team channel is one the bot is in: public ones it joins itself (the
    membership service, which keeps them so while it runs); a private one without the
    bot, an archived or a missing one stops the start."""
    problems = []
    for state in await membership.check_teams(config.teams):
        if state.membership is Membership.NEEDS_INVITE:
            problems.append(
                f"team {state.team}: the bot is not in the private channel {state.channel} "
                "(or no such channel): type /invite @Leadrouter there, or correct the channel"
            )
        elif state.membership is Membership.GONE:
            problems.append(
                f"team {state.team}: channel {state.channel} is {_gone(state.detail)}: "
                "correct the team's channel"
            )
        elif state.membership is Membership.UNKNOWN:
            log.warning(
                "team %s: could not check channel %s (%s)", state.team, state.channel, state.detail
            )
    if problems:
        raise StartupError("; ".join(problems))


def _gone(detail: str) -> str:
    return "archived" if detail == "is_archived" else "not found"
