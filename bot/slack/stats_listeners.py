"""`/leadstats` and the App Home tab: ack, parse, ask StatsService, render, answer.

Both are answers to the person who just asked, so they go straight to Slack (response_url,
views.publish) rather than through the outbox."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.services.stats import StatsService
from bot.slack import stats_views
from bot.slack.deps import SlackDeps
from bot.slack.home_tab import HomeTab
from bot.slack.listeners import reply_privately
from domain.errors import DomainError
from domain.reports import parse_stats_args

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: SlackDeps) -> None:
    """`/leadstats` and the App Home tab."""
    _register_stats(app, deps.stats, deps.home)


def _register_stats(app: AsyncApp, stats: StatsService, home: HomeTab) -> None:
    @app.command("/leadstats")
    async def leadstats_command(
        ack: Callable[[], Awaitable[None]], command: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        user = command["user_id"]
        try:
            scope, period = parse_stats_args(command.get("text", ""), user)
            message = stats_views.report_view(await stats.for_user(scope, period, user))
        except DomainError as error:  # bad arguments, or a team that does not exist
            message = {"text": f"{error}\n{stats_views.USAGE}"}
        await reply_privately(client, command.get("response_url"), **message)

    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            await home.publish(event["user"])
