"""What the Slack listeners are given by the composition root: the application services
they call, and the bot token for the few Web API calls a listener makes itself."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.admin import AdminService
from bot.services.leads import LeadActions
from bot.services.stats import StatsService
from bot.services.webhook_tests import WebhookTests


@dataclass(frozen=True)
class SlackDeps:
    actions: LeadActions
    stats: StatsService
    admin: AdminService
    bot_token: str | None
    webhook_tests: WebhookTests | None = None
